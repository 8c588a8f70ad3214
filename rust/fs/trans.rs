// SPDX-License-Identifier: GPL-2.0

//! Transactions: the log space (credits) each kind of dinofs work reserves
//! in a jbd2 handle, and [`own_work`], the frame every piece of the
//! filesystem's *own* work runs in — inactivation (the engine's workers, or
//! inline with `inodegc=sync`), post-EOF trim, orphan recovery (which goes
//! through inactivation).
//!
//! # Order
//!
//! As ext4 (`fs/ext4/super.c`, the lock order at the top) and XFS
//! (`xfs_trans_alloc`): freeze protection (`sb_start_intwrite` here;
//! system calls come with the VFS's `sb_start_write`), then the handle,
//! then the filesystem's locks (an inode's data lock, the allocator mutex),
//! then one buffer lock. A handle is never started under a filesystem lock
//! or a folio lock: starting one may wait for a commit, and a commit may
//! wait for whoever holds those.
//!
//! Why freeze protection first: `freeze_super()` waits at `SB_FREEZE_FS`
//! for the holders of `sb_start_intwrite` to drop it, then blocks new ones;
//! `freeze_fs` then quiesces the journal ([`super::super_ops::freeze_fs`]).
//! A worker that starts on a frozen filesystem therefore blocks in
//! `sb_start_intwrite` until the thaw — which is why the engine stops at
//! `SB_FREEZE_PAGEFAULT`, before that level (the seed's rule; test 470
//! shows the block with the stop switched off).
//!
//! # Where the journal stands (issue 20)
//!
//! The handles are real (lockdep sees the order; freeze quiesces them),
//! but no buffer is logged in them yet: each commits empty. Journaled
//! buffers, revokes, busy space and rolling teardown come next; until
//! then the credits below are estimates that reserve log space and are
//! capped at the journal's limit.

use super::SuperBlock;
use crate::format::Geometry;
use kernel::prelude::*;

/// Credits to inactivate one inode owning `blocks` blocks: its cluster
/// block and the cluster map (the slot, maybe the cluster), block 0
/// (orphan head and counters), the two orphan-list neighbours, and every
/// bitmap block its blocks may be in.
pub(crate) fn inactivate_credits(geo: &Geometry, blocks: u32) -> u32 {
    5u32.saturating_add(geo.bitmap_blocks.min(blocks.max(1)))
}

/// Credits to trim an inode's blocks past EOF: the inode's cluster, the
/// bitmap blocks of at most `bmap::PREALLOC_MAX_BLOCKS` blocks (two, when
/// they straddle a bitmap block), and the indirect block holding their
/// pointers.
pub(crate) const TRIM_CREDITS: u32 = 4;

/// Runs `f` as the filesystem's own work: with freeze protection
/// (`sb_start_intwrite`, blocking while the filesystem is frozen) and a
/// handle of `credits` (capped at what one handle may hold), stopped when
/// `f` returns. The first error of `f` and of the handle's stop is
/// returned.
pub(crate) fn own_work<R>(
    sb: &SuperBlock,
    credits: u32,
    f: impl FnOnce() -> Result<R>,
) -> Result<R> {
    let _frozen = sb.start_intwrite();
    let journal = &sb.info().journal;
    let handle = match journal.start(credits.clamp(1, journal.max_credits().max(1)), 0) {
        Ok(h) => h,
        Err(e) => {
            if journal.is_aborted() && sb.live().is_ok() {
                super::super_ops::journal_aborted(sb);
            }
            return Err(e);
        }
    };
    let r = f();
    let stopped = handle.stop();
    let v = r?;
    stopped.map(|()| v)
}
