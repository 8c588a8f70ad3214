// SPDX-License-Identifier: GPL-2.0

//! Superblock operations: mount, statfs, sync, remount, unmount.
//!
//! # Lock order
//!
//! To avoid deadlocks, locks are taken in this order:
//!
//! 1. VFS `i_rwsem` of directories, then of the inodes they contain (the VFS
//!    takes these before calling dinofs);
//! 2. `dinofs_inode.map_lock` of one inode (block map changes);
//! 3. [`DinoSb::alloc`], the allocator mutex (bitmaps, cluster map,
//!    counters, orphan list);
//! 4. one buffer lock ([`Buffer::read`]/[`Buffer::modify`]), never two at
//!    once.
//!
//! Nothing that holds 2 or 3 allocates memory with `__GFP_FS`: buffer heads
//! are allocated `GFP_NOFS` by the buffer cache, and dinofs itself allocates
//! nothing on those paths, so memory reclaim can never recurse into dinofs
//! while one of its locks is held.
//!
//! [`Buffer::read`]: crate::vfs::Buffer::read
//! [`Buffer::modify`]: crate::vfs::Buffer::modify

use crate::format::{self, FormatError, Geometry, Superblock};
use crate::inodegc::InodeGc;
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering::Relaxed, Ordering::SeqCst};
use crate::vfs::{self, FsContext, SuperBlock};
use kernel::prelude::*;
use kernel::str::CStr;
use kernel::sync::Mutex;
use kernel::types::ARef;
use kernel::{c_str, new_mutex};

/// Mount options (`-o inodegc=deferred|sync,errors=continue|remount-ro`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct MountOptions {
    /// `inodegc=sync`: inactivate at the final iput instead of deferring.
    pub(crate) inodegc_sync: bool,
    /// `errors=remount-ro`.
    pub(crate) errors_remount_ro: bool,
}

/// Option indices, in the order of `dinofs_param_specs` in `helpers.c`.
const OPT_INODEGC: u32 = 0;
const OPT_ERRORS: u32 = 1;

/// Applies one parsed option (`opt`, `value` from the C parameter table).
pub(crate) fn parse_option(opts: &mut MountOptions, opt: u32, value: u32) -> Result {
    match opt {
        OPT_INODEGC => opts.inodegc_sync = value == 1,
        OPT_ERRORS => opts.errors_remount_ro = value == 1,
        _ => return Err(EINVAL),
    }
    Ok(())
}

/// The allocator's state: everything the superblock counts, kept in memory
/// while mounted and written to block 0 by `sync_fs` and at unmount.
pub(crate) struct AllocState {
    /// Free blocks.
    pub(crate) free_blocks: u64,
    /// Allocated inode clusters.
    pub(crate) clusters: u32,
    /// Free inode slots in allocated clusters.
    pub(crate) free_inodes: u32,
    /// First inode of the orphan list, or 0.
    pub(crate) orphan_head: u32,
    /// Next inode generation number.
    pub(crate) next_generation: u32,
    /// Where the next block search starts.
    pub(crate) block_hint: u64,
    /// Where the next search for a cluster with a free slot starts.
    pub(crate) cluster_hint: u64,
}

/// Per-mount dinofs state (`sb->s_fs_info`).
///
/// Field order matters for teardown: the debugfs directory goes before the
/// engine it reads.
#[pin_data]
pub(crate) struct DinoSb {
    /// `/sys/kernel/debug/dinofs/<dev>/`.
    debugfs: Option<vfs::DebugfsDir>,
    /// The deferred-inactivation engine.
    pub(crate) gc: KBox<InodeGc>,
    /// The superblock as read at mount (immutable fields: geometry, root,
    /// uuid, label); counters live in [`Self::alloc`].
    pub(crate) disk: Superblock,
    /// Where the metadata regions are.
    pub(crate) geo: Geometry,
    /// Mount options.
    pub(crate) opts: MountOptions,
    /// The allocator: bitmaps, cluster map, counters, orphan list.
    #[pin]
    pub(crate) alloc: Mutex<AllocState>,
    /// The counters, readable without the allocator mutex: `statfs` and the
    /// engine's low-space trigger must never wait behind an inactivation
    /// that holds the mutex. Published by the allocator after each change.
    pub(crate) free_blocks_hint: AtomicU64,
    pub(crate) clusters_hint: AtomicU32,
    pub(crate) free_inodes_hint: AtomicU32,
    /// Set once by [`shutdown`]; every operation checks it
    /// ([`SuperBlock::live`]) and fails with `EIO`.
    shutdown: AtomicBool,
}

impl DinoSb {
    /// Whether the filesystem has been shut down.
    pub(crate) fn is_shutdown(&self) -> bool {
        self.shutdown.load(SeqCst)
    }

    /// Publishes the allocator's counters for lock-free readers.
    pub(crate) fn publish(&self, st: &AllocState) {
        self.free_blocks_hint.store(st.free_blocks, Relaxed);
        self.clusters_hint.store(st.clusters, Relaxed);
        self.free_inodes_hint.store(st.free_inodes, Relaxed);
    }
}

/// Reads and validates the superblock and sets up the per-mount state.
pub(crate) fn fill_super(sb: &SuperBlock, fc: &FsContext) -> Result<Pin<KBox<DinoSb>>> {
    let buf = sb.bread(format::SUPERBLOCK_BLOCK)?;
    let disk = buf.read(|b| Superblock::decode(b, vfs::crc32c));
    let disk = match disk {
        Ok(d) => d,
        Err(FormatError::BadMagic) => {
            pr_err!("{}: not a dinofs filesystem (bad magic)\n", sb.id());
            fc.error(c_str!("not a dinofs filesystem (bad magic)"));
            return Err(EINVAL);
        }
        Err(FormatError::BadVersion(v)) => {
            pr_err!("{}: unsupported on-disk format version {}\n", sb.id(), v);
            fc.error(c_str!("unsupported on-disk format version"));
            return Err(EINVAL);
        }
        Err(FormatError::BadFeatures(f)) => {
            pr_err!("{}: unknown feature flags {:#x}\n", sb.id(), f);
            fc.error(c_str!("unknown feature flags"));
            return Err(EINVAL);
        }
        Err(e) => {
            pr_err!("{}: corrupt superblock ({:?}); run fsck.dinofs\n", sb.id(), e);
            fc.error(c_str!("corrupt superblock"));
            return Err(Error::from_errno(-(crate::bindings::EUCLEAN as i32)));
        }
    };
    let geo = disk.geometry().ok_or(EINVAL)?;
    let dev_blocks = sb.device_blocks();
    if disk.blocks > dev_blocks {
        pr_err!(
            "{}: filesystem has {} blocks but the device only {}\n",
            sb.id(),
            disk.blocks,
            dev_blocks
        );
        fc.error(c_str!("filesystem is larger than the device"));
        return Err(EINVAL);
    }
    let mut counts = (disk.free_blocks, disk.clusters, disk.free_inodes);
    if disk.state != format::STATE_CLEAN {
        // The counters in block 0 are exact only as of the last sync or
        // clean unmount (a crash or a shutdown leaves them behind the
        // bitmaps): count again from the bitmaps and cluster blocks.
        counts = crate::alloc::recount(sb, &geo)?;
        pr_warn!(
            "{}: was not cleanly unmounted; free space recounted ({} blocks, {} inodes free); fsck.dinofs -n recommended\n",
            sb.id(),
            counts.0,
            counts.2
        );
    }
    let (free_blocks, clusters, free_inodes) = counts;
    let opts = *fc.options();
    let gc = InodeGc::new(sb, opts.inodegc_sync)?;
    let debugfs = Some(vfs::DebugfsDir::new(sb, &gc));
    let info = KBox::pin_init(
        try_pin_init!(DinoSb {
            debugfs,
            gc,
            disk,
            geo,
            opts,
            alloc <- new_mutex!(AllocState {
                free_blocks,
                clusters,
                free_inodes,
                orphan_head: disk.orphan_head,
                next_generation: disk.next_generation,
                block_hint: geo.data_start as u64,
                cluster_hint: geo.data_start as u64,
            }),
            free_blocks_hint: AtomicU64::new(free_blocks),
            clusters_hint: AtomicU32::new(clusters),
            free_inodes_hint: AtomicU32::new(free_inodes),
            shutdown: AtomicBool::new(false),
        }),
        GFP_KERNEL,
    )?;
    if !fc.rdonly() {
        write_super(sb, &info, format::STATE_DIRTY, true)?;
    }
    Ok(info)
}

/// The last step of a mount, once the root is set up: orphan recovery on
/// read-write mounts. Every inode on the orphan list is read, let go (it
/// queues for inactivation) and the engine is flushed before the mount
/// completes.
pub(crate) fn finish_mount(sb: &SuperBlock) -> Result {
    if sb.rdonly() {
        return Ok(());
    }
    let n = crate::inodegc::recover_orphans(sb)?;
    if n > 0 {
        pr_info!("{}: recovered {} orphan inode(s)\n", sb.id(), n);
    }
    Ok(())
}

/// Reads the root directory inode (after `s_fs_info` is set).
pub(crate) fn root_inode(sb: &SuperBlock) -> Result<ARef<vfs::Inode>> {
    let root = crate::inode::iget(sb, sb.info().disk.root_ino)?;
    if root.mode() & format::S_IFMT != format::S_IFDIR {
        return Err(sb.corrupt(c_str!("root inode (not a directory)"), root.ino() as u64));
    }
    Ok(root)
}

/// Encodes the allocator's state into block 0's buffer with `state`.
fn store_super(sb: &SuperBlock, info: &DinoSb, st: &AllocState, state: u32) -> Result<vfs::Buffer> {
    let mut disk = info.disk;
    disk.free_blocks = st.free_blocks;
    disk.clusters = st.clusters;
    disk.free_inodes = st.free_inodes;
    disk.orphan_head = st.orphan_head;
    disk.next_generation = st.next_generation;
    disk.state = state;
    let buf = sb.bread(format::SUPERBLOCK_BLOCK)?;
    buf.modify(|b| disk.encode(b, vfs::crc32c));
    Ok(buf)
}

/// The orphan list's head changed: put it in block 0's buffer at once
/// (with the counters as they are), so the on-disk list is whole at every
/// point the block device's writeback may catch: after a crash or a
/// shutdown, orphan recovery walks it from there. Caller holds the
/// allocator mutex (`st`).
pub(crate) fn store_orphan_head(sb: &SuperBlock, st: &AllocState) -> Result {
    store_super(sb, sb.info(), st, format::STATE_DIRTY).map(drop)
}

/// Encodes the in-memory counters into block 0 with `state` and, if `wait`,
/// writes it synchronously.
fn write_super(sb: &SuperBlock, info: &DinoSb, state: u32, wait: bool) -> Result {
    let st = info.alloc.lock();
    let buf = store_super(sb, info, &st, state)?;
    drop(st);
    if wait {
        buf.sync()?;
    }
    Ok(())
}

/// `statfs` numbers.
pub(crate) struct StatFs {
    pub(crate) blocks: u64,
    pub(crate) bfree: u64,
    pub(crate) files: u64,
    pub(crate) ffree: u64,
    pub(crate) fsid: [i32; 2],
}

/// Reports space and inode counts. Never blocks: the counters are read
/// from their lock-free mirrors, and queued inactivation is only pushed.
pub(crate) fn statfs(sb: &SuperBlock) -> StatFs {
    let info = sb.info();
    // Expedite queued inactivation so the numbers catch up soon, but never
    // wait for it: df must not hang behind a huge file (upstream 5e672cd69f0a).
    info.gc.push();
    let mut disk = info.disk;
    disk.free_blocks = info.free_blocks_hint.load(Relaxed);
    disk.clusters = info.clusters_hint.load(Relaxed);
    disk.free_inodes = info.free_inodes_hint.load(Relaxed);
    let u = &info.disk.uuid;
    let word = |i: usize| i32::from_le_bytes([u[i], u[i + 1], u[i + 2], u[i + 3]]);
    StatFs {
        blocks: disk.blocks,
        bfree: disk.free_blocks,
        files: disk.total_inodes(),
        ffree: disk.available_inodes(),
        fsid: [word(0) ^ word(8), word(4) ^ word(12)],
    }
}

/// `sync_fs`: runs queued inactivation (so space freed by `rm` is free
/// after `sync`), then writes the superblock's counters (the state stays
/// DIRTY while mounted read-write). The VFS writes back inodes before and
/// the block device's buffers after this.
///
/// During `freeze_super()`, at `SB_FREEZE_PAGEFAULT`, this is where the
/// engine stops (drained), before `freeze_fs`: nothing may write once the
/// filesystem is frozen (seed 001: xfs/517, generic/390).
pub(crate) fn sync_fs(sb: &SuperBlock, wait: bool) -> Result {
    if sb.rdonly() {
        return Ok(());
    }
    sb.live()?;
    let info = sb.info();
    let mut r = Ok(());
    if wait {
        r = info.gc.flush();
    } else {
        info.gc.push();
    }
    if sb.freezing_pagefault() {
        info.gc.stop();
    }
    write_super(sb, info, format::STATE_DIRTY, wait)?;
    r
}

/// `freeze_fs`: the engine was stopped by `sync_fs`. A freeze that fails
/// must leave gc running, so the failure path restarts it. The
/// `fail_next_freeze` debugfs knob makes the next freeze fail, for tests.
pub(crate) fn freeze_fs(sb: &SuperBlock) -> Result {
    let info = sb.info();
    if info.gc.fail_next_freeze.swap(false, core::sync::atomic::Ordering::SeqCst) {
        pr_info!("{}: failing this freeze (fail_next_freeze)\n", sb.id());
        info.gc.start();
        return Err(EBUSY);
    }
    Ok(())
}

/// `unfreeze_fs`: let the engine run again (and run what queued while
/// frozen: evictions while frozen only queue).
pub(crate) fn unfreeze_fs(sb: &SuperBlock) {
    // After a shutdown (which may itself have frozen the filesystem to
    // write everything first), gc stays stopped.
    if !sb.rdonly() && sb.live().is_ok() {
        sb.info().gc.start();
    }
}

/// Remount: read-only <-> read-write. Mount options other than `ro`/`rw`
/// cannot change on remount.
pub(crate) fn reconfigure(sb: &SuperBlock, fc: &FsContext) -> Result {
    let info = sb.info();
    if *fc.options() != info.opts {
        fc.error(c_str!("inodegc= and errors= cannot be changed by remount"));
        return Err(EINVAL);
    }
    if info.is_shutdown() {
        // A shut-down filesystem may go read-only (nothing is written
        // either way), never back to read-write.
        if !fc.rdonly() {
            fc.error(c_str!("filesystem was shut down; unmount it"));
            return Err(EIO);
        }
        return Ok(());
    }
    match (sb.rdonly(), fc.rdonly()) {
        (false, true) => {
            // Nothing may be written once read-only: drain the engine.
            info.gc.stop();
            write_super(sb, info, format::STATE_CLEAN, true)?;
            sb.sync_blockdev()
        }
        (true, false) => {
            write_super(sb, info, format::STATE_DIRTY, true)?;
            info.gc.start();
            Ok(())
        }
        _ => Ok(()),
    }
}

/// Unmount: every inode is gone (evicted, maybe queued); drain the engine,
/// then write the counters and the clean state.
pub(crate) fn put_super(sb: &SuperBlock) {
    sb.info().gc.stop();
    if sb.rdonly() {
        return;
    }
    if sb.info().is_shutdown() {
        // Write nothing: the state stays dirty, so the next mount recounts
        // free space and recovers the orphan list.
        pr_info!("{}: unmounted after shutdown; the next mount recovers orphans\n", sb.id());
        return;
    }
    let r = write_super(sb, sb.info(), format::STATE_CLEAN, true).and_then(|_| sb.sync_blockdev());
    if let Err(e) = r {
        pr_err!("{}: writing the superblock at unmount failed: {:?}\n", sb.id(), e);
    }
}

/// The options `/proc/mounts` shows (beyond `ro`/`rw`).
pub(crate) fn shown_options(sb: &SuperBlock) -> impl Iterator<Item = &'static CStr> {
    let o = sb.info().opts;
    [
        o.inodegc_sync.then_some(c_str!(",inodegc=sync")),
        o.errors_remount_ro.then_some(c_str!(",errors=remount-ro")),
    ]
    .into_iter()
    .flatten()
}

/// What `FS_IOC_SHUTDOWN`'s flags ask for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ShutdownMode {
    /// `FS_SHUTDOWN_FLAGS_DEFAULT`: write everything, then shut down.
    Default,
    /// `FS_SHUTDOWN_FLAGS_LOGFLUSH`: XFS writes its log and no data; dinofs
    /// has no log, so it writes everything, as `Default` does. Writing
    /// more than asked is always allowed of a shutdown.
    LogFlush,
    /// `FS_SHUTDOWN_FLAGS_NOLOGFLUSH`: shut down now, write nothing more.
    NoLogFlush,
}

/// `FS_IOC_SHUTDOWN` (`XFS_IOC_GOINGDOWN`): the filesystem goes dead.
///
/// From the moment the flag is set every operation that would read or
/// write the disk fails with `EIO` ([`SuperBlock::live`]), dirty pages are
/// never written, gc is stopped for good and dead inodes are discarded
/// (their memory freed, the disk untouched). Unmount then works as usual
/// but writes nothing: block 0 keeps the dirty state, so the next mount
/// recounts free space and its orphan recovery inactivates the unlinked
/// inodes that were waiting.
///
/// `Default` and `LogFlush` first freeze the filesystem through its block
/// device, which writes every dirty page, inode and buffer and stops gc at
/// a quiescent point; the image left behind is consistent (`fsck.dinofs -n`
/// clean). `NoLogFlush` keeps whatever the block device's writeback
/// already had or still writes of buffers dirtied before the shutdown;
/// dinofs has no journal, so an operation caught half-way by it may need
/// `fsck.dinofs -y`. A second shutdown is a no-op.
pub(crate) fn shutdown(sb: &SuperBlock, flags: u32) -> Result {
    let mode = match flags {
        crate::bindings::DINOFS_SHUTDOWN_DEFAULT => ShutdownMode::Default,
        crate::bindings::DINOFS_SHUTDOWN_LOGFLUSH => ShutdownMode::LogFlush,
        crate::bindings::DINOFS_SHUTDOWN_NOLOGFLUSH => ShutdownMode::NoLogFlush,
        _ => return Err(EINVAL),
    };
    let info = sb.info();
    if info.is_shutdown() {
        return Ok(());
    }
    let frozen = match mode {
        ShutdownMode::Default | ShutdownMode::LogFlush => {
            sb.freeze_bdev()?;
            true
        }
        ShutdownMode::NoLogFlush => false,
    };
    let first = !info.shutdown.swap(true, SeqCst);
    if frozen {
        sb.thaw_bdev();
    }
    if first {
        pr_alert!(
            "{}: filesystem shut down ({:?}); further I/O fails with EIO, please unmount\n",
            sb.id(),
            mode
        );
    }
    sb.with_umount_read(|| info.gc.shut_down());
    Ok(())
}
