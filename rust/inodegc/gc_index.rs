// SPDX-License-Identifier: GPL-2.0

//! The engine's gc index: which dead inodes wait for inactivation, which
//! one a worker is inactivating, and `iget`'s claim on them. Safe Rust:
//! red-black trees under spinlocks, keyed by inode number and the identity
//! of the in-memory inode, in 64 shards chosen by inode number (every
//! entry of one number is in one shard, so a claim looks at one tree, and
//! producers on different CPUs share a lock only when their inodes' numbers
//! share a shard). Uses the `kernel` crate and [`crate::kernel_ext`].
//!
//! Every inode that `evict_inode` decides needs on-disk work is entered
//! before it leaves the inode hash and stays until its inactivation is over
//! (or is cancelled, or discarded). `iget` consults the index once
//! `iget_locked` returned a new inode, so an eviction that raced the lookup
//! is already entered:
//!
//! ```text
//!             add (evict)          begin (worker)
//!   absent ──────────────► Waiting ──────────────► Inactivating
//!     ▲                       │                          │
//!     │   claim (iget):       │                          │ del (worker,
//!     └── cancelled, removed ─┘                          │ done)
//!     ▲                                                  │
//!     └──────────────────────────────────────────────────┘
//! ```
//!
//! A claim that finds the inode `Waiting` removes it (cancelled: the disk
//! is consistent, the new in-memory inode takes over, the dead one is freed
//! without disk work); one that finds it `Inactivating` reports `Busy` and
//! `iget` waits. State changes happen under the lock only, so a claim and a
//! worker's `begin` on the same inode cannot both win.
//!
//! Keys carry the dead inode's identity (its address, an integer here,
//! never dereferenced) next to its number: at most one entry per number is
//! live (a claim removes a waiting one before the new inode exists, and
//! waits out an inactivating one), but the worker that later finds a
//! cancelled inode must not take the entry of a newer inode with the same
//! number for its own.

#![forbid(unsafe_code)]

use crate::kernel_ext::nofs::NofsScope;
use kernel::new_spinlock;
use kernel::prelude::*;
use kernel::rbtree::{RBTree, RBTreeNodeReservation};
use kernel::sync::SpinLock;

/// An entry's key: the inode number, then the dead inode's identity.
type Key = (u32, usize);

/// Where an entered inode is.
#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    /// Queued (or about to be): a claim may cancel it.
    Waiting,
    /// A worker is writing it: a claim must wait.
    Inactivating,
}

/// What [`GcIndex::claim`] found.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Claim {
    /// Not entered: read the inode from disk.
    Absent,
    /// It was waiting for inactivation; that is cancelled and the disk is
    /// consistent: read it.
    Cancelled,
    /// A worker is inactivating it now: wait and retry.
    Busy,
}

/// Shards of the index, each a tree under its own lock, chosen by inode
/// number: producers on different CPUs evict different inodes, and share a
/// lock only when their numbers fall in the same shard.
const SHARDS: usize = 64;

/// One shard.
type Shard = SpinLock<RBTree<Key, State>>;

/// The index of one mount.
pub(crate) struct GcIndex {
    shards: Pin<KBox<[Shard; SHARDS]>>,
}

impl GcIndex {
    /// An empty index.
    pub(crate) fn new() -> Result<Self> {
        let shards =
            kernel::init::pin_init_array_from_fn::<_, SHARDS, _, core::convert::Infallible>(|_| {
                new_spinlock!(RBTree::new(), "dinofs_gc_index")
            });
        Ok(Self {
            shards: KBox::pin_init(shards, GFP_KERNEL)?,
        })
    }

    /// The shard of inode number `ino`; every entry for `ino` is in it.
    fn shard(&self, ino: u32) -> &Shard {
        // `ino % SHARDS < SHARDS`: always in bounds.
        &self.shards[ino as usize % SHARDS]
    }

    /// Enters inode `ino` (identity `id`, being evicted) as waiting for
    /// inactivation. Allocates, in a NOFS scope (eviction may run in
    /// reclaim); on failure nothing is entered and the caller does not
    /// defer.
    pub(crate) fn add(&self, ino: u32, id: usize) -> Result {
        let reservation = {
            let _nofs = NofsScope::new();
            RBTreeNodeReservation::new(GFP_KERNEL)?
        };
        let node = reservation.into_node((ino, id), State::Waiting);
        // A key present already would be a stale entry of freed memory at
        // the same address: impossible, every path removes its entry before
        // the inode is freed. The replaced node is freed here either way.
        drop(self.shard(ino).lock().insert(node));
        Ok(())
    }

    /// Removes inode `ino`/`id` (inactivated or discarded); no-op if it is
    /// not entered (cancelled, or never entered).
    pub(crate) fn del(&self, ino: u32, id: usize) {
        let removed = self.shard(ino).lock().remove_node(&(ino, id));
        // Freed outside the lock.
        drop(removed);
    }

    /// Whether inode `ino`/`id` is entered (`destroy_inode`: queue it).
    pub(crate) fn contains(&self, ino: u32, id: usize) -> bool {
        self.shard(ino).lock().get(&(ino, id)).is_some()
    }

    /// For `iget` of `ino`: cancels a waiting inactivation, or reports one
    /// in progress.
    pub(crate) fn claim(&self, ino: u32) -> Claim {
        let mut map = self.shard(ino).lock();
        let mut claim = Claim::Absent;
        loop {
            let Some(cur) = map.cursor_lower_bound(&(ino, 0)) else {
                break;
            };
            let (found, state) = {
                let (k, s) = cur.current();
                (k.0, *s)
            };
            if found != ino {
                break;
            }
            if state == State::Inactivating {
                return Claim::Busy;
            }
            // Waiting: cancel it. Freeing a node under a spinlock is fine
            // (kfree).
            drop(cur.remove_current().1);
            claim = Claim::Cancelled;
        }
        claim
    }

    /// For the worker: moves inode `ino`/`id` from waiting to
    /// inactivating; `false` if `iget` cancelled it (it is not entered).
    pub(crate) fn begin(&self, ino: u32, id: usize) -> bool {
        let mut map = self.shard(ino).lock();
        match map.get_mut(&(ino, id)) {
            Some(s) if *s == State::Waiting => {
                *s = State::Inactivating;
                true
            }
            _ => false,
        }
    }
}
