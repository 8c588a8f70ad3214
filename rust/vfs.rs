// SPDX-License-Identifier: GPL-2.0

//! Thin, safe wrappers over the VFS registration and mount API.
//!
//! The 6.12 `kernel` crate has no filesystem abstractions, so dinofs carries
//! the few it needs, the way Rust binder carries its own shrinker. Every
//! `unsafe` block of the VFS glue lives in this file; the filesystem logic in
//! `super_ops.rs` only sees [`FsContext`] and [`SuperBlock`] references.
//!
//! The `file_system_type` itself is a static in `helpers.c`: it embeds the
//! per-type lockdep class keys, and lockdep requires those in static storage.

use crate::bindings;
use kernel::error::{from_result, to_result};
use kernel::prelude::*;
use kernel::str::CStr;

/// Registration of the `dinofs` filesystem type.
///
/// # Invariants
///
/// While a value of this type exists, `dinofs_fs_type` is registered with the
/// VFS; dropping it unregisters the type.
pub(crate) struct Registration(());

impl Registration {
    /// Registers the `dinofs` filesystem type.
    pub(crate) fn new() -> Result<Self> {
        // SAFETY: `dinofs_register_filesystem` registers a static, fully
        // initialised `file_system_type`; it has no preconditions.
        to_result(unsafe { bindings::dinofs_register_filesystem() })?;
        // INVARIANT: registration succeeded just above.
        Ok(Self(()))
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        // SAFETY: by the type invariant the type is registered. Mounted
        // superblocks pin the module (`fs_type.owner`), so none exists when
        // the module value holding this registration is dropped.
        unsafe { bindings::dinofs_unregister_filesystem() };
    }
}

/// A mount request under construction (`struct fs_context`).
///
/// # Invariants
///
/// `self.0` points to a live `fs_context` for the lifetime of the reference
/// this wrapper is handed out behind.
pub(crate) struct FsContext(*mut bindings::fs_context);

impl FsContext {
    /// Logs `msg` as a mount error: it reaches userspace through the mount
    /// API's message channel and the kernel log (`errorfc()`).
    pub(crate) fn error(&self, msg: &CStr) {
        // SAFETY: `self.0` is live by the type invariant and `msg` is a valid
        // NUL-terminated string that outlives the call.
        unsafe { bindings::dinofs_fc_error(self.0, msg.as_char_ptr()) };
    }
}

/// A superblock being filled or in use (`struct super_block`).
///
/// # Invariants
///
/// `self.0` points to a live `super_block` for as long as this value exists.
pub(crate) struct SuperBlock(*mut bindings::super_block);

impl SuperBlock {
    /// The block device's name, e.g. `vdb`, for messages.
    pub(crate) fn id(&self) -> &CStr {
        // SAFETY: `s_id` is a NUL-terminated array inside the live superblock
        // (type invariant); it is set before `fill_super` runs and not changed
        // afterwards, so it outlives the returned borrow of `self`.
        unsafe { CStr::from_char_ptr((*self.0).s_id.as_ptr()) }
    }
}

/// The mount API's `fs_context_operations` for dinofs.
///
/// There is no `parse_param` yet, so the VFS handles `source` and rejects
/// every other option with "dinofs: Unknown parameter '<name>'" (`EINVAL`).
static CONTEXT_OPS: bindings::fs_context_operations = bindings::fs_context_operations {
    get_tree: Some(get_tree),
    // SAFETY: all other members are optional function pointers, for which
    // all-zeroes is `None`.
    ..unsafe { core::mem::zeroed() }
};

/// Called by `fs_context_for_mount()` (from `helpers.c`'s `dinofs_fs_type`).
#[no_mangle]
extern "C" fn dinofs_rs_init_fs_context(fc: *mut bindings::fs_context) -> kernel::ffi::c_int {
    // SAFETY: the VFS passes a live, exclusively owned fs_context; `ops` may
    // be set here and `CONTEXT_OPS` is a static, so it outlives the context.
    unsafe { (*fc).ops = &CONTEXT_OPS };
    0
}

extern "C" fn get_tree(fc: *mut bindings::fs_context) -> kernel::ffi::c_int {
    // SAFETY: `fc` is the live context `get_tree` was called for and
    // `fill_super` has the signature `get_tree_bdev` expects.
    unsafe { bindings::get_tree_bdev(fc, Some(fill_super)) }
}

extern "C" fn fill_super(
    sb: *mut bindings::super_block,
    fc: *mut bindings::fs_context,
) -> kernel::ffi::c_int {
    // INVARIANT: the VFS keeps both objects alive for the duration of this
    // callback, and the wrappers do not escape it.
    let (sb, fc) = (SuperBlock(sb), FsContext(fc));
    from_result(|| {
        crate::super_ops::fill_super(&sb, &fc)?;
        Ok(0)
    })
}
