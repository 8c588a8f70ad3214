// SPDX-License-Identifier: GPL-2.0

//! Busy space: blocks freed by a transaction that has not committed yet.
//!
//! A block freed in transaction T is clear in the bitmap from T on, but
//! until T is on the disk a crash brings back its old owner: the inode that
//! pointed at it, or the orphan whose teardown freed it. If the block were
//! allocated again meanwhile and its new owner wrote *data* into it in
//! place (data is not journaled), that crash would show the new data in the
//! old owner — another file's contents, or, for a freed indirect block, a
//! map that recovery refuses as corrupt (issue 20 had both). So a freed
//! block is *busy* until the transaction that freed it commits, and the
//! allocator skips busy blocks (XFS: busy extents, `xfs_extent_busy.c`;
//! ext4: mballoc's freed-data list, released from the commit callback).
//!
//! The record is kept per bitmap block: a chunk of one bit per block of
//! that bitmap block, allocated at the first free into it, with the newest
//! transaction that freed a block in it. A chunk is released whole once
//! that transaction has committed ([`Busy::release`], at each allocation;
//! jbd2 tells whether a tid is committed): busy blocks stay busy at most
//! until the frees after them in the same bitmap block commit too, which
//! a forced commit settles ([`super::trans::retry_busy`]). When a chunk
//! cannot be allocated (memory), all free space counts as busy until the
//! freeing transaction commits: conservative, never wrong.
//!
//! Inode slots need no such record: a freed slot is reused only by
//! journaled metadata, which replay orders after the free.
//!
//! Everything here runs under the allocator mutex (it is a field of
//! [`super::super_ops::AllocState`]).

#![forbid(unsafe_code)]

use crate::format;
use crate::vfs::Journal;
use kernel::prelude::*;

/// Words of one chunk: a bit per block of a bitmap block.
const WORDS: usize = (format::BITS_PER_BITMAP_BLOCK as usize).div_ceil(64);

/// The busy blocks of one bitmap block.
struct Chunk {
    /// One bit per block of the bitmap block.
    bits: KVec<u64>,
    /// The newest transaction that freed one of them.
    tid: u32,
}

/// Whether `a` is `b` or later, as jbd2 compares tids (wrapping).
fn tid_geq(a: u32, b: u32) -> bool {
    a.wrapping_sub(b) as i32 >= 0
}

/// The busy blocks of a filesystem.
pub(crate) struct Busy {
    /// One entry per bitmap block (up to 4,101 of them: `kvmalloc`).
    chunks: KVVec<Option<Chunk>>,
    /// A chunk could not be allocated: every free block is busy until this
    /// transaction commits.
    overflow: Option<u32>,
    /// Chunks allocated.
    live: usize,
    /// An allocation found only busy space since [`Self::take_hit`] last
    /// ran: a commit is worth waiting for.
    hit: bool,
}

impl Busy {
    /// An empty record for `bitmap_blocks` bitmap blocks.
    pub(crate) fn new(bitmap_blocks: u32) -> Result<Self> {
        let n = bitmap_blocks as usize;
        let mut chunks = KVVec::with_capacity(n, GFP_KERNEL)?;
        for _ in 0..n {
            chunks.push(None, GFP_KERNEL)?;
        }
        Ok(Self {
            chunks,
            overflow: None,
            live: 0,
            hit: false,
        })
    }

    /// Allocates the chunk of bitmap block `idx` if it has none, so that
    /// [`Self::mark`] needs no allocation (it runs under a buffer lock). A
    /// failed allocation is not an error: `mark` then counts all free space
    /// busy.
    pub(crate) fn reserve(&mut self, idx: u32, tid: u32) {
        let Some(slot) = self.chunks.get_mut(idx as usize) else {
            return;
        };
        if slot.is_none() {
            // Under the allocator mutex, which reclaim must not need: the
            // caller runs a handle, which made the task NOFS
            // (`memalloc_nofs_save`; 6.12's Rust has no `GFP_NOFS`).
            if let Ok(bits) = KVec::from_elem(0u64, WORDS, GFP_KERNEL) {
                *slot = Some(Chunk { bits, tid });
                self.live += 1;
            }
        }
    }

    /// Records `block`, freed in transaction `tid`, as busy (after
    /// [`Self::reserve`] of its bitmap block).
    pub(crate) fn mark(&mut self, block: u64, tid: u32) {
        let (idx, bit) = format::bitmap_pos(block);
        match self.chunks.get_mut(idx as usize) {
            Some(Some(chunk)) => {
                if tid_geq(tid, chunk.tid) {
                    chunk.tid = tid;
                }
                if let Some(w) = chunk.bits.get_mut(bit / 64) {
                    *w |= 1u64 << (bit % 64);
                }
            }
            Some(None) => {
                // No chunk (out of memory): everything free is busy until
                // `tid` commits.
                self.overflow = Some(match self.overflow {
                    Some(t) if tid_geq(t, tid) => t,
                    _ => tid,
                });
            }
            // A block past the filesystem: the caller checked its range.
            None => (),
        }
    }

    /// Drops what the journal has committed since.
    pub(crate) fn release(&mut self, journal: &Journal) {
        if self.overflow.is_some_and(|t| journal.committed(t)) {
            self.overflow = None;
        }
        if self.live == 0 {
            return;
        }
        for slot in self.chunks.iter_mut() {
            if let Some(c) = slot {
                if journal.committed(c.tid) {
                    *slot = None;
                    self.live -= 1;
                }
            }
        }
    }

    /// Whether `block` may not be allocated yet.
    pub(crate) fn is_busy(&self, block: u64) -> bool {
        if self.overflow.is_some() {
            return true;
        }
        let (idx, bit) = format::bitmap_pos(block);
        match self.chunks.get(idx as usize) {
            Some(Some(c)) => c
                .bits
                .get(bit / 64)
                .is_some_and(|w| w & (1 << (bit % 64)) != 0),
            _ => false,
        }
    }

    /// Whether a bitmap block has any busy block (a search may skip the
    /// per-bit test when not).
    pub(crate) fn any_in(&self, idx: u32) -> bool {
        self.overflow.is_some() || matches!(self.chunks.get(idx as usize), Some(Some(_)))
    }

    /// Notes that an allocation found no free block that is not busy.
    pub(crate) fn note_hit(&mut self) {
        if self.overflow.is_some() || self.live > 0 {
            self.hit = true;
        }
    }

    /// Whether an allocation found only busy space since the last call.
    pub(crate) fn take_hit(&mut self) -> bool {
        core::mem::replace(&mut self.hit, false)
    }

    /// The newest transaction whose frees are still busy, if any: the one
    /// to commit before an allocation that found only busy space retries.
    pub(crate) fn newest(&self) -> Option<u32> {
        let mut newest = self.overflow;
        for c in self.chunks.iter().flatten() {
            newest = Some(match newest {
                Some(t) if tid_geq(t, c.tid) => t,
                _ => c.tid,
            });
        }
        newest
    }
}
