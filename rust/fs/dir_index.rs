// SPDX-License-Identifier: GPL-2.0

//! The in-memory directory index: for each directory in use, its names by
//! hash, so `lookup` and the existence check of every create read one
//! directory block instead of all of them, and inserts start at the first
//! block that may have room instead of block 0.
//!
//! The on-disk format does not change: the index is built from the
//! directory's blocks on first use, kept in step by the entry operations
//! of [`super::dir`] (all of which run with the directory's `i_rwsem` held
//! exclusively, lookups with it shared), and dropped when the directory is
//! evicted or removed. Whenever it cannot be kept exact (no memory for a
//! node) it is dropped and the directory is scanned as before: the index
//! is a cache, never the truth. Entry positions never move, so a position
//! stays valid for as long as its entry exists.
//!
//! Lock order: the index mutex is taken with no dinofs lock held, no
//! buffer is read under it (candidates are copied out, then verified
//! against the block), and nothing is allocated under it: eviction of a
//! directory takes it, and an allocation may reclaim (evict) inodes.

use kernel::new_mutex;
use kernel::prelude::*;
use kernel::rbtree::{RBTree, RBTreeNode};
use kernel::sync::Mutex;

/// Most entries with one hash a lookup verifies before it falls back to a
/// scan (a collision chain this long means the index is not helping).
pub(super) const MAX_CANDIDATES: usize = 8;

/// One directory's index.
pub(super) struct DirIndex {
    /// (hash of the name, position) for every entry; position = block *
    /// slots-per-block + slot.
    names: RBTree<(u32, u32), ()>,
    /// The first block that may have room for a new entry.
    hint: u32,
}

impl DirIndex {
    /// An empty index.
    pub(super) fn new() -> Self {
        Self {
            names: RBTree::new(),
            hint: 0,
        }
    }

    /// Records an entry (while building).
    pub(super) fn add(&mut self, hash: u32, pos: u32) -> Result {
        self.names
            .try_create_and_insert((hash, pos), (), GFP_KERNEL)?;
        Ok(())
    }
}

/// The indexes of a mount's directories in use, by inode number.
#[pin_data]
pub(crate) struct DirIndexes {
    #[pin]
    dirs: Mutex<RBTree<u32, KBox<DirIndex>>>,
}

/// What [`DirIndexes::candidates`] found.
pub(super) enum Candidates {
    /// No index for the directory: scan it (and build one).
    NoIndex,
    /// Too many entries with the hash: scan.
    TooMany,
    /// The positions of the entries with the name's hash (maybe none).
    Found([u32; MAX_CANDIDATES], usize),
}

impl DirIndexes {
    /// No directory indexed yet.
    pub(crate) fn new() -> impl PinInit<Self> {
        pin_init!(Self {
            dirs <- new_mutex!(RBTree::new(), "dinofs_dir_indexes"),
        })
    }

    /// The positions of `dir`'s entries whose name hashes to `hash`.
    pub(super) fn candidates(&self, dir: u32, hash: u32) -> Candidates {
        let mut dirs = self.dirs.lock();
        let Some(idx) = dirs.get_mut(&dir) else {
            return Candidates::NoIndex;
        };
        let mut out = [0u32; MAX_CANDIDATES];
        let mut n = 0;
        let mut cursor = idx.names.cursor_lower_bound(&(hash, 0));
        while let Some(c) = cursor {
            let (&(h, pos), ()) = c.current();
            if h != hash {
                break;
            }
            let Some(slot) = out.get_mut(n) else {
                return Candidates::TooMany;
            };
            *slot = pos;
            n += 1;
            cursor = c.move_next();
        }
        Candidates::Found(out, n)
    }

    /// Installs a freshly built index for `dir`, unless another lookup
    /// installed one meanwhile.
    pub(super) fn install(&self, dir: u32, idx: KBox<DirIndex>) {
        // No memory for the node: no index, the directory is scanned.
        let Ok(node) = RBTreeNode::new(dir, idx, GFP_KERNEL) else {
            return;
        };
        let mut dirs = self.dirs.lock();
        if dirs.get(&dir).is_none() {
            dirs.insert(node);
        }
    }

    /// An entry was added to `dir`; `block` had room for it. Drops the
    /// index if it cannot record the entry.
    pub(super) fn added(&self, dir: u32, hash: u32, pos: u32, block: u32) {
        let Ok(node) = RBTreeNode::new((hash, pos), (), GFP_KERNEL) else {
            self.forget(dir);
            return;
        };
        let mut dirs = self.dirs.lock();
        if let Some(idx) = dirs.get_mut(&dir) {
            idx.names.insert(node);
            idx.hint = block;
        }
    }

    /// An entry of `dir` in `block` was removed.
    pub(super) fn removed(&self, dir: u32, hash: u32, pos: u32, block: u32) {
        let mut dirs = self.dirs.lock();
        let node = dirs.get_mut(&dir).and_then(|idx| {
            idx.hint = idx.hint.min(block);
            idx.names.remove_node(&(hash, pos))
        });
        drop(dirs);
        drop(node);
    }

    /// The first block of `dir` that may have room (0 without an index).
    pub(super) fn hint(&self, dir: u32) -> u32 {
        self.dirs.lock().get(&dir).map_or(0, |idx| idx.hint)
    }

    /// Drops `dir`'s index (evicted or removed directory).
    pub(crate) fn forget(&self, dir: u32) {
        // Freed after the mutex is released.
        let idx = self.dirs.lock().remove(&dir);
        drop(idx);
    }
}
