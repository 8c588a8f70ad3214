// SPDX-License-Identifier: GPL-2.0

//! The engine's gc index: a safe wrapper over the C `dinofs_gc_index`
//! (`helpers.c`), the last piece of engine logic still in C. The generic
//! abstractions the engine is built on are in [`crate::kernel_ext`].

use crate::bindings;
use core::ptr::NonNull;
use kernel::prelude::*;

// ---------------------------------------------------------------------------
// The gc index

/// What [`GcIndex::claim`] found.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Claim {
    /// Not queued: read the inode from disk.
    Absent,
    /// It was waiting for inactivation; that is cancelled and the disk is
    /// consistent: read it.
    Cancelled,
    /// A worker is inactivating it now: wait and retry.
    Busy,
}

/// The inodes between `evict_inode` and the end of their inactivation
/// (`struct dinofs_gc_index`), so `iget` never reads a disk inode that a
/// queued inactivation is about to rewrite. State changes happen under the
/// index's spinlock (see `helpers.c`).
pub(crate) struct GcIndex(NonNull<bindings::dinofs_gc_index>);

// SAFETY: all operations take the index's spinlock.
unsafe impl Send for GcIndex {}
// SAFETY: as above.
unsafe impl Sync for GcIndex {}

impl GcIndex {
    /// An empty index.
    pub(crate) fn new() -> Result<Self> {
        // SAFETY: allocation.
        let p = unsafe { bindings::dinofs_gc_index_new() };
        Ok(Self(NonNull::new(p).ok_or(ENOMEM)?))
    }

    /// Enters `inode` (being evicted) as waiting for inactivation.
    pub(crate) fn add(&self, inode: &crate::vfs::Inode) {
        // SAFETY: live index; the inode is being evicted by us and is on no
        // index.
        unsafe { bindings::dinofs_gc_index_add(self.0.as_ptr(), inode.as_raw()) };
    }

    /// Removes `inode` (inactivated or cancelled).
    pub(crate) fn del(&self, inode: &crate::vfs::Inode) {
        // SAFETY: live index and inode; del of an absent inode is a no-op.
        unsafe { bindings::dinofs_gc_index_del(self.0.as_ptr(), inode.as_raw()) };
    }

    /// For `iget`: cancels a waiting inactivation of `ino`, or reports one
    /// in progress.
    pub(crate) fn claim(&self, ino: u32) -> Claim {
        // SAFETY: live index.
        match unsafe { bindings::dinofs_gc_index_claim(self.0.as_ptr(), ino as _) } {
            1 => Claim::Cancelled,
            2 => Claim::Busy,
            _ => Claim::Absent,
        }
    }

    /// For the worker: moves `inode` from waiting to inactivating; `false`
    /// if `iget` cancelled it.
    pub(crate) fn begin(&self, inode: &crate::vfs::Inode) -> bool {
        // SAFETY: live index and inode.
        unsafe { bindings::dinofs_gc_index_begin(self.0.as_ptr(), inode.as_raw()) }
    }
}

impl Drop for GcIndex {
    fn drop(&mut self) {
        // SAFETY: allocated in new(); the engine drained every entry.
        unsafe { bindings::dinofs_gc_index_free(self.0.as_ptr()) };
    }
}
