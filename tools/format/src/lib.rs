// SPDX-License-Identifier: GPL-2.0

//! The dinofs on-disk format for userspace.
//!
//! The format is defined once, in `rust/format.rs`, which the kernel module
//! also compiles. This crate only wraps it as a `#![no_std]` library, which
//! proves the shared file needs nothing beyond `core`.

#![no_std]

#[path = "../../../rust/format.rs"]
mod format;

pub use format::*;
