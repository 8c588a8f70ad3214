// SPDX-License-Identifier: GPL-2.0

//! Bindings for dinofs: the kernel crate's bindings plus the module-local ones.
//!
//! `bindings_generated.rs` is produced at build time by bindgen from
//! `rust/helpers.h` (see `Kbuild`) and holds only `dinofs_*` items. Every other
//! type it names resolves through the glob import of `kernel::bindings`, so a
//! `super_block` here is the same type the kernel crate uses.
//!
//! Only the wrapper modules (`vfs`, `kernel_ext`, `trace`) call
//! into this module with `unsafe`; filesystem logic stays safe Rust (it
//! reads a few constants). `kx_*` items are `kernel_ext`'s shims
//! (`kernel_ext/shims.h`, included by `helpers.h`).

#![allow(
    dead_code,
    improper_ctypes,
    missing_docs,
    non_camel_case_types,
    non_snake_case,
    non_upper_case_globals,
    unreachable_pub,
    unsafe_op_in_unsafe_fn,
    clippy::all,
    clippy::undocumented_unsafe_blocks
)]

pub(crate) use kernel::bindings::*;

include!("bindings_generated.rs");
