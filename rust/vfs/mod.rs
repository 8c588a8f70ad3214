// SPDX-License-Identifier: GPL-2.0

//! VFS glue: safe wrappers over the VFS, buffer heads and the mount API,
//! generic over a filesystem type `T` that implements [`FileSystem`].
//!
//! The 6.12 `kernel` crate has no filesystem abstractions, so this layer
//! carries the few a block filesystem needs. It is one of the two layers
//! that may hold `unsafe` code (with `kernel_ext`, below it): a filesystem
//! built on it only sees safe types.
//!
//! - [`SuperBlock`], [`Inode`], [`Dentry`], [`FsContext`]:
//!   `#[repr(transparent)]` views of the C objects of a `T` filesystem,
//!   handed out by reference (or [`ARef`] for inodes) only while the VFS
//!   guarantees they are alive. The type parameter ties each view to the
//!   filesystem whose tables the VFS called, so `SuperBlock::info` can
//!   return `&T::Info` soundly.
//! - [`NewInode`]: an inode in the `I_NEW` state; it is published
//!   (unlocked) by [`NewInode::publish`] or [`Dentry::instantiate_new`], or
//!   marked bad and dropped if the caller fails.
//! - [`DeadInode`]: the memory of a destroyed inode, owned by the
//!   filesystem until it drops it (a deferred-inactivation queue item).
//! - [`Buffer`]: a referenced buffer head for one 4 KiB block, whose
//!   contents are reached only under the buffer lock.
//! - [`Journal`]: a jbd2 journal in a region of the filesystem's device,
//!   loaded (replayed) at mount and destroyed when dropped.
//! - `ops`: the operation tables (`super_operations`, `inode_operations`,
//!   `file_operations`, `address_space_operations`, `fs_context_operations`)
//!   built in Rust for each `T`, and one generic `extern "C"` trampoline per
//!   operation that turns raw pointers into these views and calls `T`.
//!
//! Layering: this layer may use `kernel_ext` and the `kernel` crate, and
//! nothing above it (no engine, no dinofs). What C still holds for it is in
//! `helpers.c`: the inode container and its slab cache, shims for inline
//! functions and macros, and the `file_system_type` and mount-option table
//! (static storage: the type embeds lockdep class keys).

mod buffer;
mod dentry;
mod inode;
mod journal;
mod ops;
mod super_block;

pub(crate) use buffer::Buffer;
pub(crate) use dentry::{DirEmitter, FsContext};
pub(crate) use inode::{Attrs, DataGuard, DeadInode, Iget, Inode, NewInode, Timestamp};
pub(crate) use journal::{Handle, Journal, LoadError as JournalLoadError, Loaded as JournalLoaded};
pub(crate) use ops::{FileSystem, Registration, StatFs};
pub(crate) use super_block::SuperBlock;

use crate::bindings;
use kernel::ffi::c_uint;
use kernel::prelude::*;

/// The block size every superblock of this layer has (`sb_set_blocksize`).
pub(crate) const BLOCK_SIZE: usize = 4096;

/// One block's bytes.
pub(crate) type Block = [u8; BLOCK_SIZE];

/// `SB_RDONLY` (a `BIT()` macro, which bindgen cannot evaluate).
const SB_RDONLY: u32 = 1;

/// A kernel `struct ratelimit_state` with the default limit (ten events
/// every five seconds; `__ratelimit()` logs how many it suppressed when a
/// new interval starts).
#[pin_data]
pub(crate) struct RateLimit {
    #[pin]
    state: kernel::types::Opaque<bindings::ratelimit_state>,
}

// SAFETY: `__ratelimit()` serialises users of the state with its own lock;
// nothing else touches it after initialisation.
unsafe impl Send for RateLimit {}
// SAFETY: as above.
unsafe impl Sync for RateLimit {}

impl RateLimit {
    /// A limit with its default interval and burst.
    pub(crate) fn new() -> impl PinInit<Self> {
        pin_init!(Self {
            state <- kernel::types::Opaque::ffi_init(|p| {
                // SAFETY: `p` points to the pinned, writable storage of the
                // new value; the helper fully initialises it (memset, lock
                // init, interval and burst).
                unsafe { bindings::dinofs_ratelimit_init(p) }
            }),
        })
    }

    /// The C object, for `__ratelimit()`. It holds no resources, so
    /// dropping the value needs no call into C.
    pub(super) fn as_ptr(&self) -> *mut bindings::ratelimit_state {
        self.state.get()
    }
}

/// The crc32c of `bytes`, continuing from `seed`: the kernel's `crc32c()`.
pub(crate) fn crc32c(seed: u32, bytes: &[u8]) -> u32 {
    // SAFETY: `bytes` is a valid slice for the duration of the call.
    unsafe { bindings::crc32c(seed, bytes.as_ptr().cast(), bytes.len() as c_uint) }
}

/// The test harness's failure switch (`make check DINOFS_BREAK=splat`).
pub(crate) mod selftest {
    use crate::bindings;

    /// Whether the module was loaded with `selftest_splat=1`.
    pub(crate) fn splat_requested() -> bool {
        // SAFETY: reads a module parameter; no preconditions.
        unsafe { bindings::dinofs_selftest_splat() }
    }

    /// Emits one deliberate `WARNING:` with a backtrace.
    pub(crate) fn warn() {
        // SAFETY: `WARN()` from process context; no preconditions.
        unsafe { bindings::dinofs_selftest_warn() }
    }
}
