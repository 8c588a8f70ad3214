// SPDX-License-Identifier: GPL-2.0

//! The kernel crate's bindings plus `kernel_ext`'s `kx_*` shims (generated
//! by bindgen from `rust/kernel_ext/shims.h`, see `Kbuild`).

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
