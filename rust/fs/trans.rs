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
//! Every metadata block is logged in the handle that changes it: inode
//! clusters (the inode through `dirty_inode`), indirect blocks, the
//! cluster map, the bitmaps, directory blocks, block 0 (counters and the
//! orphan list). A metadata block that is freed is revoked in the same
//! handle, so replay never writes an old copy over its next owner. The
//! credits below count every block an operation may log, capped at the
//! journal's limit; a handle that runs short of credits or revoke records
//! (a sparse map has more indirect blocks than the estimate) is extended
//! ([`crate::vfs::Journal::revoke`]), and gets `ENOSPC` only when the
//! transaction cannot grow (the inode then stays on the orphan list).
//! Block allocation on write runs in a handle too ([`page_write`]):
//! `get_block` runs under the folio lock, which a handle must precede, so
//! the VFS glue starts it in `write_begin` (stopped in `write_end`) and in
//! `page_mkwrite`, which allocates a shared mapping's blocks at the first
//! store (as ext4 does), so writeback finds them mapped and does not
//! allocate.
//!
//! A freed block is busy until the transaction that freed it commits
//! ([`super::busy`]); an allocation that finds only busy space fails with
//! `ENOSPC` and is retried after a commit ([`retry_busy`], from
//! [`syscall_alloc`] and the VFS glue's `write_begin` and `page_mkwrite`).
//!
//! Not yet: data is not ordered before the metadata that exposes it (a crash may show stale blocks in a file whose
//! size was committed); a teardown bigger than one transaction is not
//! rolled over several; each inode change logs its whole cluster block.

use super::SuperBlock;
use crate::format::Geometry;
use crate::vfs::Handle;
use kernel::prelude::*;

/// Credits to inactivate one inode owning `blocks` blocks: its cluster
/// block, the cluster map and the bitmap block of the cluster (when the
/// slot was the cluster's last), block 0 (orphan head), the two
/// orphan-list neighbours, up to three indirect blocks left partly in use
/// after an error, and every bitmap block its blocks may be in. A teardown
/// from block 0 rewrites no indirect block: each one is freed whole and
/// revoked ([`inactivate_revokes`]).
pub(crate) fn inactivate_credits(geo: &Geometry, blocks: u32) -> u32 {
    8u32.saturating_add(geo.bitmap_blocks.min(blocks.max(1)))
}

/// Revoke records to free the indirect blocks of a map of `blocks` blocks
/// (which counts them): every block of a small map (a sparse map may be
/// mostly indirect blocks), about one per 256 of a large one. An estimate
/// short of the real number costs a handle extension, not a failure
/// ([`crate::vfs::Journal::revoke`]).
pub(crate) fn indirect_revokes(blocks: u32) -> u32 {
    blocks.min(blocks / 256 + 16)
}

/// Revoke records to inactivate an inode owning `blocks` blocks: one per
/// freed metadata block — every block of a directory (its data blocks
/// are journaled too, [`super::dir`]), the indirect blocks of other files
/// ([`indirect_revokes`]; their data blocks never are journaled).
pub(crate) fn inactivate_revokes(mode: u16, blocks: u32) -> u32 {
    // Plus the inode cluster block, freed (and revoked) with its last slot.
    if mode & crate::format::S_IFMT == crate::format::S_IFDIR {
        blocks.saturating_add(1)
    } else {
        indirect_revokes(blocks).saturating_add(1)
    }
}

/// Revoke records of a namespace change that may create an inode: a
/// `mkdir` that fails after its first block was written frees it, and a
/// failed create may free the new cluster.
pub(crate) const CREATE_REVOKES: u32 = 2;

/// Credits to trim an inode's blocks past EOF: the inode's cluster, the
/// bitmap blocks of at most `bmap::PREALLOC_MAX_BLOCKS` blocks (two, when
/// they straddle a bitmap block), the indirect blocks holding their
/// pointers and the levels above (three each side of a boundary).
pub(crate) const TRIM_CREDITS: u32 = 9;

/// Revoke records of a trim (and of a write that frees preallocated
/// blocks first): the indirect blocks it may leave empty.
pub(crate) const TRIM_REVOKES: u32 = 3;

/// Credits of an entry added to a directory: the block it goes in, or a
/// new block with its bitmap block and up to two new indirect blocks
/// (and their bitmap block) to map it.
const DIR_GROW: u32 = 5;

/// Credits of a namespace change that may create an inode: the entry in
/// the parent ([`DIR_GROW`]), the parent inode's cluster, the new inode's
/// cluster (maybe a new cluster, the cluster map and the new cluster's
/// bitmap block), a new directory's or symlink's first block with its
/// bitmap block, block 0.
pub(crate) const CREATE_CREDITS: u32 = DIR_GROW + 9;

/// Credits of `O_TMPFILE`: the new inode as for a create (cluster, cluster
/// map, bitmap block, the parent's cluster), and the orphan list (block 0,
/// the old head's inode).
pub(crate) const TMPFILE_CREDITS: u32 = 8;

/// Credits of `link`: the new entry ([`DIR_GROW`]), both inodes'
/// clusters, and the orphan list when an `O_TMPFILE` inode leaves it
/// (block 0, both neighbours).
pub(crate) const LINK_CREDITS: u32 = DIR_GROW + 5;

/// Credits of `unlink` and `rmdir`: the directory block, both inodes'
/// clusters, the orphan list at the last link (block 0, the old head),
/// and one spare.
pub(crate) const UNLINK_CREDITS: u32 = 6;

/// Credits of `rename`: the new entry ([`DIR_GROW`]), the old directory
/// block, up to four inodes' clusters (the moved inode, the target, both
/// parents), a moved directory's `..` block, the orphan list for a target
/// losing its last link (block 0, the old head), and spares.
pub(crate) const RENAME_CREDITS: u32 = DIR_GROW + 12;

/// Credits to log one inode alone (its cluster block): an inode change the
/// VFS made outside any dinofs handle (times, mode, owner).
pub(crate) const INODE_CREDITS: u32 = 1;

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
    start(sb, WRITE_CREDITS, TRIM_REVOKES)
}

/// Starts a handle of `credits` and `revokes` revoke records, the credits
/// capped at what one handle may hold beside the revoke records' log
/// blocks; an aborted journal shuts the filesystem down.
fn start(sb: &SuperBlock, credits: u32, revokes: u32) -> Result<Handle<'_>> {
    let journal = &sb.info().journal;
    let room = journal
        .max_credits()
        .saturating_sub(journal.revoke_blocks(revokes));
    journal
        .start(credits.clamp(1, room.max(1)), revokes)
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

/// [`syscall`] for a change that allocates: an `ENOSPC` while freed space
/// is still busy ([`retry_busy`]) runs `f` again in a new handle after the
/// commit, up to [`BUSY_RETRIES`] times. Only for changes that undo all of
/// themselves on any failure (create and `O_TMPFILE` discard the new inode):
/// an `ENOSPC` can also come from a handle that cannot grow, after
/// other changes (link and rename are not retried for that reason).
pub(crate) fn syscall_alloc<R>(
    sb: &SuperBlock,
    credits: u32,
    revokes: u32,
    mut f: impl FnMut() -> Result<R>,
) -> Result<R> {
    let mut tries = 0;
    loop {
        match syscall(sb, credits, revokes, &mut f) {
            Err(e) if e == ENOSPC && tries < BUSY_RETRIES && retry_busy(sb) => tries += 1,
            r => return r,
        }
    }
}

/// How many times an allocation that found only busy space is retried
/// after a commit (ext4's `ext4_should_retry_alloc` retries 3 times).
pub(crate) const BUSY_RETRIES: u32 = 3;

/// After an `ENOSPC`, outside any handle: if an allocation found only
/// busy space ([`super::busy`]), commits the transactions that freed it,
/// waits for them and returns `true` (the allocation is worth retrying),
/// as XFS's `xfs_extent_busy_flush` and ext4's `ext4_should_retry_alloc`
/// do. An `ENOSPC` of a full filesystem forces no commit.
pub(crate) fn retry_busy(sb: &SuperBlock) -> bool {
    let info = sb.info();
    let newest = {
        let mut st = info.alloc.lock();
        if !st.busy.take_hit() {
            return false;
        }
        st.busy.release(&info.journal);
        st.busy.newest()
    };
    match newest {
        Some(tid) => info.journal.complete(tid).is_ok(),
        None => false,
    }
}

/// Runs `f`, which logs an inode the VFS changed ([`super::inode::dirty_inode`]):
/// inside the task's running dinofs handle if there is one (jbd2 nests it;
/// the credits are the outer handle's, which count the inode), else in a
/// handle of [`INODE_CREDITS`] of its own, under the caller's freeze
/// protection (the VFS's `sb_start_write` or `sb_start_pagefault`), as
/// `ext4_dirty_inode` does.
pub(crate) fn inode_update<R>(sb: &SuperBlock, f: impl FnOnce() -> Result<R>) -> Result<R> {
    run_in(start(sb, INODE_CREDITS, 0)?, f)
}
