// SPDX-License-Identifier: GPL-2.0

//! Transactions: the log space (credits) each kind of dinofs work reserves
//! in a jbd2 handle; [`own_work`], the frame every piece of the
//! filesystem's *own* work runs in — inactivation (the engine's workers, or
//! inline with `inodegc=sync`), post-EOF trim, orphan recovery (which goes
//! through inactivation); and [`syscall`], the frame of the namespace
//! changes and truncate (create, mkdir, mknod, symlink, `O_TMPFILE`, link,
//! unlink, rmdir, rename, setattr of the size).
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
//! and the bitmaps and directory blocks are logged in them (with revokes
//! for a torn-down directory's blocks); inode clusters, indirect blocks,
//! block 0, busy space and rolling teardown come next. The credits below
//! count every block the operation may log once the rest is journaled too,
//! and are capped at the journal's limit. Block allocation on write runs in a
//! handle too ([`page_write`]): `get_block` runs under the folio lock,
//! which a handle must precede, so the VFS glue starts it in `write_begin`
//! (stopped in `write_end`) and in `page_mkwrite`, which allocates a
//! shared mapping's blocks at the first store (as ext4 does), so writeback
//! finds them mapped and does not allocate.

use super::SuperBlock;
use crate::format::Geometry;
use crate::vfs::Handle;
use kernel::prelude::*;

/// Credits to inactivate one inode owning `blocks` blocks: its cluster
/// block and the cluster map (the slot, maybe the cluster), block 0
/// (orphan head and counters), the two orphan-list neighbours, and every
/// bitmap block its blocks may be in.
pub(crate) fn inactivate_credits(geo: &Geometry, blocks: u32) -> u32 {
    5u32.saturating_add(geo.bitmap_blocks.min(blocks.max(1)))
}

/// Revoke records to inactivate an inode owning `blocks` blocks: one per
/// block of a directory (its blocks are journaled metadata,
/// [`super::dir`]); none for other files (their data blocks never are).
pub(crate) fn inactivate_revokes(mode: u16, blocks: u32) -> u32 {
    if mode & crate::format::S_IFMT == crate::format::S_IFDIR {
        blocks
    } else {
        0
    }
}

/// Revoke records of a namespace change that may create an inode: a
/// `mkdir` that fails after its first block was written frees it.
pub(crate) const CREATE_REVOKES: u32 = 1;

/// Credits to trim an inode's blocks past EOF: the inode's cluster, the
/// bitmap blocks of at most `bmap::PREALLOC_MAX_BLOCKS` blocks (two, when
/// they straddle a bitmap block), and the indirect block holding their
/// pointers.
pub(crate) const TRIM_CREDITS: u32 = 4;

/// Credits of a namespace change that may create an inode: the parent's
/// directory block (and a new one with its bitmap block), the parent
/// inode's cluster, the new inode's cluster (maybe a new cluster, the
/// cluster map and a bitmap block), its first data block (a directory's or
/// a symlink's) with its bitmap block, block 0 (counters).
pub(crate) const CREATE_CREDITS: u32 = 10;

/// Credits of `O_TMPFILE`: the new inode as for a create, and the orphan
/// list (block 0, the old head's inode).
pub(crate) const TMPFILE_CREDITS: u32 = 8;

/// Credits of `link`: the directory block (and a new one, its bitmap
/// block), both inodes' clusters, and the orphan list when an
/// `O_TMPFILE` inode leaves it (block 0, a neighbour).
pub(crate) const LINK_CREDITS: u32 = 7;

/// Credits of `unlink` and `rmdir`: the directory block, both inodes'
/// clusters, the orphan list at the last link (block 0, the old head).
pub(crate) const UNLINK_CREDITS: u32 = 5;

/// Credits of `rename`: both directory blocks (and a new one with its
/// bitmap block), up to four inodes' clusters (the moved inode, the
/// target, both parents), a moved directory's `..` block, and the orphan
/// list for a target losing its last link (block 0, the old head).
pub(crate) const RENAME_CREDITS: u32 = 12;

/// Credits of a page-cache write that allocates (one folio: a 4 KiB
/// page, one block, with up to `bmap::PREALLOC_MAX_BLOCKS` preallocated
/// past it): the bitmap blocks of the run and of the indirect blocks (three
/// when they straddle), the pointer blocks of the run's ends at each of
/// three levels with the ones allocated on the way (eight), the inode's
/// cluster.
pub(crate) const WRITE_CREDITS: u32 = 12;

/// Starts the handle of a page-cache write that may allocate
/// ([`vfs::FileSystem::begin_write`]): the VFS holds `sb_start_write` (a
/// write, a symlink, a truncate) or `sb_start_pagefault` (`page_mkwrite`).
/// Fails with `EIO` after a shutdown.
///
/// [`vfs::FileSystem::begin_write`]: crate::vfs::FileSystem::begin_write
pub(crate) fn page_write(sb: &SuperBlock) -> Result<Handle<'_>> {
    sb.live()?;
    start(sb, WRITE_CREDITS, 0)
}

/// Starts a handle of `credits` (capped at what one handle may hold) and
/// `revokes` revoke records; an aborted journal shuts the filesystem down.
fn start(sb: &SuperBlock, credits: u32, revokes: u32) -> Result<Handle<'_>> {
    let journal = &sb.info().journal;
    journal
        .start(credits.clamp(1, journal.max_credits().max(1)), revokes)
        .inspect_err(|_| {
            if journal.is_aborted() && sb.live().is_ok() {
                super::super_ops::journal_aborted(sb);
            }
        })
}

/// Runs `f` in `handle`, then stops it: the first error of the two.
fn run_in<R>(handle: Handle<'_>, f: impl FnOnce() -> Result<R>) -> Result<R> {
    let r = f();
    let stopped = handle.stop();
    let v = r?;
    stopped.map(|()| v)
}

/// Runs `f` as the filesystem's own work: with freeze protection
/// (`sb_start_intwrite`, blocking while the filesystem is frozen) and a
/// handle of `credits` and `revokes`, stopped when `f` returns.
pub(crate) fn own_work<R>(
    sb: &SuperBlock,
    credits: u32,
    revokes: u32,
    f: impl FnOnce() -> Result<R>,
) -> Result<R> {
    let _frozen = sb.start_intwrite();
    run_in(start(sb, credits, revokes)?, f)
}

/// Runs `f`, a system call's change (the VFS holds `sb_start_write` and
/// the inodes' `i_rwsem`), in a handle of `credits` and `revokes`. Fails with `EIO`
/// after a shutdown before starting anything.
pub(crate) fn syscall<R>(
    sb: &SuperBlock,
    credits: u32,
    revokes: u32,
    f: impl FnOnce() -> Result<R>,
) -> Result<R> {
    sb.live()?;
    run_in(start(sb, credits, revokes)?, f)
}
