// SPDX-License-Identifier: GPL-2.0

//! Buffer heads: one referenced block of the block device's page cache.

use super::{Block, BLOCK_SIZE};
use crate::bindings;
use core::ptr::NonNull;
use kernel::error::to_result;
use kernel::prelude::*;

/// A referenced buffer head for one filesystem block.
///
/// The block's contents are reached only through [`Buffer::read`] and
/// [`Buffer::modify`], which hold the buffer lock, so two holders of the
/// same block never race on its bytes. Never call them nested on two
/// buffers (the lock order between buffers is undefined).
///
/// # Invariants
///
/// `bh` is a referenced buffer head whose `b_data` points to `BLOCK_SIZE`
/// bytes.
pub(crate) struct Buffer {
    bh: NonNull<bindings::buffer_head>,
    block: u32,
}

impl Buffer {
    pub(super) fn new(bh: *mut bindings::buffer_head, block: u32) -> Option<Self> {
        let bh = NonNull::new(bh)?;
        // SAFETY: a referenced buffer head.
        if unsafe { (*bh.as_ptr()).b_size } != BLOCK_SIZE {
            // SAFETY: we own the reference.
            unsafe { bindings::__brelse(bh.as_ptr()) };
            return None;
        }
        // INVARIANT: referenced, and b_size checked above.
        Some(Self { bh, block })
    }

    /// The block number.
    pub(crate) fn block(&self) -> u32 {
        self.block
    }

    fn data(&self) -> *mut Block {
        // SAFETY: `b_data` is valid for BLOCK_SIZE bytes (type invariant).
        unsafe { (*self.bh.as_ptr()).b_data.cast() }
    }

    /// Runs `f` on the block's contents under the buffer lock.
    pub(crate) fn read<R>(&self, f: impl FnOnce(&Block) -> R) -> R {
        // SAFETY: we hold a reference to the buffer head.
        unsafe { bindings::dinofs_lock_buffer(self.bh.as_ptr()) };
        // SAFETY: the buffer lock excludes every writer that goes through
        // `modify`, and the data is valid (type invariant).
        let r = f(unsafe { &*self.data() });
        // SAFETY: we took the lock above.
        unsafe { bindings::unlock_buffer(self.bh.as_ptr()) };
        r
    }

    /// The buffer head, for the journal's calls.
    pub(super) fn as_ptr(&self) -> *mut bindings::buffer_head {
        self.bh.as_ptr()
    }

    /// Runs `f` on the block's contents under the buffer lock, nothing
    /// else: the caller journals the change or marks the buffer dirty.
    pub(super) fn change<R>(&self, f: impl FnOnce(&mut Block) -> R) -> R {
        // SAFETY: we hold a reference to the buffer head.
        unsafe { bindings::dinofs_lock_buffer(self.bh.as_ptr()) };
        // SAFETY: the buffer lock gives us exclusive access to the bytes
        // among dinofs users; the data is valid (type invariant).
        let r = f(unsafe { &mut *self.data() });
        // SAFETY: we took the lock above.
        unsafe { bindings::unlock_buffer(self.bh.as_ptr()) };
        r
    }

    /// Runs `f` on the block's contents under the buffer lock and marks the
    /// buffer dirty, for the block device's writeback: for a block jbd2
    /// does not manage (block 0 outside a handle, after the journal was
    /// quiesced; [`super::Journal::modify`] is the journaled change).
    /// Fails with `EBUSY`, changing nothing, on a buffer jbd2 manages: a
    /// dirty bit set under jbd2 would let writeback put the block in place
    /// before its transaction commits.
    pub(crate) fn modify<R>(&self, f: impl FnOnce(&mut Block) -> R) -> Result<R> {
        // SAFETY: referenced buffer head; reads its state bits.
        if unsafe { bindings::dinofs_buffer_journaled(self.bh.as_ptr()) } {
            return Err(EBUSY);
        }
        let r = self.change(f);
        // SAFETY: referenced buffer head.
        unsafe { bindings::mark_buffer_dirty(self.bh.as_ptr()) };
        Ok(r)
    }

    /// Runs the checksum check `check` on the block unless it already
    /// passed since the block was read from disk; remembers a pass.
    pub(crate) fn verify_once(&self, check: impl FnOnce(&Block) -> bool) -> bool {
        // SAFETY: referenced buffer head; the bit is only a hint we own.
        if unsafe { bindings::dinofs_buffer_verified(self.bh.as_ptr()) } {
            return true;
        }
        let ok = self.read(check);
        if ok {
            // SAFETY: as above.
            unsafe { bindings::dinofs_set_buffer_verified(self.bh.as_ptr()) };
        }
        ok
    }

    /// Writes the buffer now and waits for it.
    pub(crate) fn sync(&self) -> Result {
        // SAFETY: referenced buffer head.
        to_result(unsafe { bindings::sync_dirty_buffer(self.bh.as_ptr()) })
    }
}

impl Drop for Buffer {
    fn drop(&mut self) {
        // SAFETY: we own one reference (type invariant).
        unsafe { bindings::__brelse(self.bh.as_ptr()) };
    }
}
