// SPDX-License-Identifier: GPL-2.0

//! Superblock operations: mount, statfs, sync, remount, unmount.
//!
//! # Lock order
//!
//! To avoid deadlocks, locks are taken in this order:
//!
//! 0. freeze protection: `sb_start_write` (the VFS, for system calls) or
//!    `sb_start_intwrite` (the filesystem's own work, [`super::trans`]);
//! 1. VFS `i_rwsem` of directories, then of the inodes they contain (the VFS
//!    takes these before calling dinofs);
//! 2. a jbd2 handle ([`super::trans::own_work`]): never started under 3-5;
//! 3. `dinofs_inode.data_lock` of one inode (block map changes);
//! 4. [`DinoSb::alloc`], the allocator mutex (bitmaps, cluster map,
//!    counters, orphan list);
//! 5. one buffer lock ([`Buffer::read`]/[`Buffer::modify`]), never two at
//!    once.
//!
//! Nothing that holds 3 or 4 allocates memory with `__GFP_FS`: buffer heads
//! are allocated `GFP_NOFS` by the buffer cache, and dinofs itself allocates
//! only a busy-space chunk under 4 ([`super::busy`], always inside a
//! handle, which makes the allocation NOFS), so memory
//! reclaim can never recurse into dinofs while one of its locks is held. A running handle makes its task NOFS
//! (`jbd2__journal_start` calls `memalloc_nofs_save`).
//!
//! [`Buffer::read`]: crate::vfs::Buffer::read
//! [`Buffer::modify`]: crate::vfs::Buffer::modify

use super::gc::DinoGc;
use super::{FsContext, SuperBlock};
use crate::format::{self, FormatError, Geometry, Superblock};
use crate::kernel_ext::debugfs::Debugfs;
use crate::vfs::{self, StatFs};
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering::Relaxed, Ordering::SeqCst};
use kernel::prelude::*;
use kernel::sync::Mutex;
use kernel::types::ARef;
use kernel::{c_str, new_mutex};

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
    /// Blocks freed by transactions not committed yet ([`super::busy`]).
    pub(crate) busy: super::busy::Busy,
}

/// Per-mount dinofs state (`sb->s_fs_info`).
///
#[pin_data]
pub(crate) struct DinoSb {
    /// The deferred-inactivation engine, with its debugfs directory
    /// `/sys/kernel/debug/dinofs/<dev>/` (removed before the engine).
    pub(crate) gc: Debugfs<DinoGc>,
    /// The jbd2 journal, loaded (replayed) at mount; destroyed when this
    /// state is dropped, after the engine (fields drop in order) and after
    /// `put_super` wrote everything. Every change runs in one of its
    /// handles ([`super::trans`]); the bitmaps and directory blocks are
    /// logged in them (the rest of the metadata not yet: issue 20).
    pub(crate) journal: vfs::Journal,
    /// The superblock as read at mount (immutable fields: geometry, root,
    /// uuid, label); counters live in [`Self::alloc`].
    pub(crate) disk: Superblock,
    /// Where the metadata regions are.
    pub(crate) geo: Geometry,
    /// Mount options.
    pub(crate) opts: super::options::MountOptions,
    /// The allocator: bitmaps, cluster map, counters, orphan list.
    #[pin]
    pub(crate) alloc: Mutex<AllocState>,
    /// The counters, readable without the allocator mutex: `statfs` and the
    /// engine's low-space trigger must never wait behind an inactivation
    /// that holds the mutex. Published by the allocator after each change.
    pub(crate) free_blocks_hint: AtomicU64,
    pub(crate) clusters_hint: AtomicU32,
    pub(crate) free_inodes_hint: AtomicU32,
    /// Blocks an unlinked inode's teardown found already free (an earlier
    /// teardown of it was interrupted after its bitmap change reached the
    /// disk); reported by orphan recovery.
    pub(crate) already_free: AtomicU64,
    /// The unlinked inodes the mount of an image that was not cleanly
    /// unmounted found ([`super::alloc::recount`]); taken by orphan
    /// recovery ([`finish_mount`]) to relink the orphan list first.
    #[pin]
    scanned_orphans: Mutex<Option<KVec<u32>>>,
    /// The block device's metadata write-error mark: taken at mount,
    /// advanced past a failed write of block 0 ([`check_meta_writes`]).
    pub(crate) meta_err_mark: AtomicU32,
    /// The limit on this mount's corruption reports
    /// ([`SuperBlock::corrupt`]).
    #[pin]
    pub(crate) reports: vfs::RateLimit,
    /// The indexes of the directories in use.
    #[pin]
    pub(crate) dirs: super::dir_index::DirIndexes,
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
    let mut disk = read_super(sb, fc)?;
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
    let journal = load_journal(sb, fc, &geo)?;
    // A metadata write that fails from here on is this mount's. The mark
    // is the device errseq's raw value, taken after the journal's setup:
    // that marks the device's earlier errors seen
    // (jbd2_init_fs_dev_write_error), which changes the raw value, and a
    // mark taken before it would make every check report an old error as
    // this mount's (test 340 caught it). A failed replay write fails the
    // load itself.
    let meta_err_mark = sb.meta_err_mark();
    if journal.replayed {
        // The replay wrote block 0 (and others) on the device through the
        // buffer cache: decode the superblock as it is now.
        disk = read_super(sb, fc)?;
        if disk.geometry() != Some(geo) {
            pr_err!(
                "{}: journal replay changed the filesystem's layout\n",
                sb.id()
            );
            fc.error(c_str!("corrupt journal (replay changed the layout)"));
            return Err(crate::kernel_ext::errno::euclean());
        }
    }
    let journal = journal.journal;
    let mut counts = (disk.free_blocks, disk.clusters, disk.free_inodes);
    let mut scanned_orphans = None;
    if disk.state != format::STATE_CLEAN {
        // The counters in block 0 are exact only as of the last sync or
        // clean unmount (a crash or a shutdown leaves them behind the
        // bitmaps): count again from the bitmaps and cluster blocks.
        let r = super::alloc::recount(sb, &geo)?;
        pr_warn!(
            "{}: was not cleanly unmounted; free space recounted ({} blocks, {} inodes free); fsck.dinofs -n recommended\n",
            sb.id(),
            r.free_blocks,
            r.free_inodes
        );
        counts = (r.free_blocks, r.clusters, r.free_inodes);
        scanned_orphans = Some(r.orphans);
    }
    let (free_blocks, clusters, free_inodes) = counts;
    let opts = *fc.options();
    if opts.commit_secs != 0 {
        journal.set_commit_interval(opts.commit_secs);
    }
    let busy = super::busy::Busy::new(geo.bitmap_blocks)?;
    let gc = Debugfs::new(
        DinoGc::create(sb, opts.inodegc_sync)?,
        c_str!("dinofs"),
        sb.id(),
    );
    let info = KBox::pin_init(
        try_pin_init!(DinoSb {
            gc,
            journal,
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
                busy,
            }),
            free_blocks_hint: AtomicU64::new(free_blocks),
            clusters_hint: AtomicU32::new(clusters),
            free_inodes_hint: AtomicU32::new(free_inodes),
            already_free: AtomicU64::new(0),
            scanned_orphans <- new_mutex!(scanned_orphans),
            meta_err_mark: AtomicU32::new(meta_err_mark),
            reports <- vfs::RateLimit::new(),
            dirs <- super::dir_index::DirIndexes::new(),
            shutdown: AtomicBool::new(false),
        }),
        GFP_KERNEL,
    )?;
    if !fc.rdonly() {
        write_super(sb, &info, format::STATE_DIRTY, true)?;
    }
    // Last: from here on the shrinker and the CPU-dead callback may call
    // into the engine; every later failure tears it down first (free_info).
    info.gc.register_with(sb, &super::gc::CPU_DEAD)?;
    Ok(info)
}

/// Reads and decodes block 0, with a clear message for each way it can be
/// refused.
fn read_super(sb: &SuperBlock, fc: &FsContext) -> Result<Superblock> {
    let buf = sb.bread(format::SUPERBLOCK_BLOCK)?;
    let disk = buf.read(|b| Superblock::decode(b, vfs::crc32c));
    match disk {
        Ok(d) => Ok(d),
        Err(FormatError::BadMagic) => {
            pr_err!("{}: not a dinofs filesystem (bad magic)\n", sb.id());
            fc.error(c_str!("not a dinofs filesystem (bad magic)"));
            Err(EINVAL)
        }
        Err(FormatError::BadVersion(v)) if v < format::VERSION => {
            pr_err!(
                "{}: on-disk format version {} has no journal; this module reads version {} only: copy the files off with an older dinofs and run mkfs.dinofs\n",
                sb.id(),
                v,
                format::VERSION
            );
            fc.error(c_str!(
                "old on-disk format version (no journal); run mkfs.dinofs"
            ));
            Err(EINVAL)
        }
        Err(FormatError::BadVersion(v)) => {
            pr_err!("{}: unsupported on-disk format version {}\n", sb.id(), v);
            fc.error(c_str!("unsupported on-disk format version"));
            Err(EINVAL)
        }
        Err(FormatError::BadFeatures(f)) => {
            pr_err!("{}: unknown feature flags {:#x}\n", sb.id(), f);
            fc.error(c_str!("unknown feature flags"));
            Err(EINVAL)
        }
        Err(e) => {
            pr_err!(
                "{}: corrupt superblock ({:?}); run fsck.dinofs\n",
                sb.id(),
                e
            );
            fc.error(c_str!("corrupt superblock"));
            Err(crate::kernel_ext::errno::euclean())
        }
    }
}

/// Opens the jbd2 journal in the region `geo` records and loads it, which
/// replays what the log holds (ext4 replays on a read-only mount too, when
/// the device is writable; so does dinofs). An error an earlier mount's
/// journal abort recorded is reported, and cleared on a read-write mount.
fn load_journal(sb: &SuperBlock, fc: &FsContext, geo: &Geometry) -> Result<vfs::JournalLoaded> {
    let (start, len) = geo.journal_extent();
    let loaded = match vfs::Journal::load(sb, start, len) {
        Ok(l) => l,
        Err(e) => {
            let what = match e {
                vfs::JournalLoadError::BadSuperblock(_) => c_str!("invalid journal superblock"),
                vfs::JournalLoadError::BadChecksum => {
                    c_str!("journal superblock checksum mismatch")
                }
                vfs::JournalLoadError::NoChecksums => {
                    c_str!("journal without checksums (v3 required)")
                }
                vfs::JournalLoadError::Replay(_) => c_str!("journal replay failed"),
                vfs::JournalLoadError::Other(_) => c_str!("cannot set up the journal"),
            };
            pr_err!(
                "{}: {} (journal at blocks {}..{}: {:?}); run fsck.dinofs\n",
                sb.id(),
                what,
                start,
                len,
                e
            );
            fc.error(what);
            return Err(e.to_errno());
        }
    };
    if loaded.replayed {
        pr_info!(
            "{}: journal replayed{}\n",
            sb.id(),
            if fc.rdonly() {
                " (read-only mount: the device was written)"
            } else {
                ""
            }
        );
    }
    if loaded.recorded_error != 0 {
        pr_warn!(
            "{}: the journal records error {} from an earlier mount (it was aborted); fsck.dinofs -n recommended\n",
            sb.id(),
            loaded.recorded_error
        );
        if !fc.rdonly() {
            loaded.journal.clear_recorded_error()?;
        }
    }
    Ok(loaded)
}

/// The last step of a mount, once the root is set up: orphan recovery on
/// read-write mounts. Every inode on the orphan list is read, let go (it
/// queues for inactivation) and the engine is flushed before the mount
/// completes.
pub(crate) fn finish_mount(sb: &SuperBlock) -> Result {
    if sb.rdonly() {
        return Ok(());
    }
    let scanned = sb.info().scanned_orphans.lock().take();
    if let Some(orphans) = scanned {
        if super::orphan::rebuild_orphan_list(sb, &orphans)?.is_none() {
            pr_warn!(
                "{}: orphan list cut short by the crash; relinked from the {} unlinked inode(s) found\n",
                sb.id(),
                orphans.len()
            );
        }
    }
    let before = sb.info().already_free.load(Relaxed);
    let n = super::orphan::recover_orphans(sb)?;
    if n > 0 {
        let again = sb.info().already_free.load(Relaxed) - before;
        pr_info!(
            "{}: recovered {} orphan inode(s) ({} block(s) already freed by an interrupted teardown)\n",
            sb.id(),
            n,
            again
        );
    }
    Ok(())
}

/// Reads the root directory inode (after `s_fs_info` is set).
pub(crate) fn root_inode(sb: &SuperBlock) -> Result<ARef<super::Inode>> {
    let root = super::inode::iget(sb, sb.info().disk.root_ino)?;
    if root.mode() & format::S_IFMT != format::S_IFDIR {
        return Err(sb.corrupt(c_str!("root inode (not a directory)"), root.ino() as u64));
    }
    Ok(root)
}

/// Encodes the allocator's state into block 0's buffer with `state`: in
/// the running handle when there is one (block 0 is journaled metadata),
/// else as a plain dirty buffer — at mount before any handle, and after
/// the journal was quiesced (unmount, remount read-only), when jbd2 no
/// longer holds the buffer ([`vfs::Buffer::modify`] refuses one it does).
fn store_super(sb: &SuperBlock, info: &DinoSb, st: &AllocState, state: u32) -> Result<vfs::Buffer> {
    let mut disk = info.disk;
    disk.free_blocks = st.free_blocks;
    disk.clusters = st.clusters;
    disk.free_inodes = st.free_inodes;
    disk.orphan_head = st.orphan_head;
    disk.next_generation = st.next_generation;
    disk.state = state;
    let buf = sb.bread(format::SUPERBLOCK_BLOCK)?;
    if info.journal.in_handle() {
        info.journal.modify(&buf, |b| disk.encode(b, vfs::crc32c))?;
    } else {
        buf.modify(|b| disk.encode(b, vfs::crc32c))?;
    }
    Ok(buf)
}

/// The orphan list's head changed: log block 0 (with the counters as they
/// are) in the running handle, with the inodes whose links changed, so
/// every committed transaction holds a whole list: after a crash or a
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
        // Any other metadata write that failed first shuts down.
        check_meta_writes(sb, info)?;
        if let Err(e) = buf.sync() {
            // Block 0 is encoded whole from memory every time it is
            // written, so its own failed write loses nothing: it fails
            // the caller (sync, freeze, remount) and is not counted as a
            // lost write. (A background write of another block failing
            // in the same instant would be forgiven with it.) jbd2 is
            // told first, so it does not abort the journal for it at
            // unmount, and so the mark taken next starts after it.
            info.journal.forgive_write_errors();
            info.meta_err_mark.store(sb.meta_err_mark(), SeqCst);
            return Err(e);
        }
    }
    Ok(())
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
/// the block device's buffers after this. Returns the first error a worker
/// hit since the last sync (upstream d4d12c02bf5f), so `syncfs(2)` reports
/// it.
///
/// During `freeze_super()`, at `SB_FREEZE_PAGEFAULT`, the second pass
/// (`wait`) is where the engine stops (drained), before `freeze_fs`: nothing
/// may write once the filesystem is frozen (seed 001: xfs/517, generic/390).
/// Not in the first pass (XFS's order): a freeze that fails between the two
/// passes must not leave gc stopped. A freeze that fails after this pass is
/// caught by [`freeze_super`], which restarts gc.
///
/// On a frozen filesystem (`sync(2)` reaches every superblock) it writes
/// nothing: everything was written by the freeze.
pub(crate) fn sync_fs(sb: &SuperBlock, wait: bool) -> Result {
    if sb.rdonly() || sb.frozen() {
        return Ok(());
    }
    sb.live()?;
    let info = sb.info();
    if !wait {
        // Block 0 is logged, and the journal committed, in the waiting
        // pass only.
        info.gc.push();
        return Ok(());
    }
    let mut r = info.gc.flush();
    if sb.freezing_pagefault() && !info.gc.freeze_no_stop.load(Relaxed) {
        // Stop even if the flush failed: the freeze fails then, and
        // `freeze_super` restarts gc.
        let stopped = info.gc.stop();
        r = r.and(stopped);
    }
    // The transactions of the system calls before this sync and of the
    // inactivation just run reach the log, so the commit thread has
    // nothing left of them to write later.
    // Block 0's counters and generation logged (the state stays DIRTY
    // while mounted), then committed with everything before.
    let w = super::trans::own_work(sb, super::trans::INODE_CREDITS, 0, || {
        let st = info.alloc.lock();
        store_super(sb, info, &st, format::STATE_DIRTY).map(drop)
    });
    let j = commit_journal(sb);
    // This sync's metadata, written now rather than by the VFS after us, so
    // that a write that failed is seen here.
    let s = sb.sync_blockdev();
    let c = check_meta_writes(sb, info);
    // Then the disk's write cache: `sync`, `syncfs` and a freeze promise
    // durability, and the VFS issues no cache flush of its own for them
    // (test 440 lost everything "synced" without this).
    let f = sb.flush_device();
    r.and(j).and(w).and(s).and(c).and(f)
}

/// Commits the running transaction and waits for it
/// ([`vfs::Journal::commit`]): `sync_fs`, and `fsync` after the generic
/// part (the journaled metadata the file's last changes made is durable
/// with it). A journal aborted by a failed write to the log shuts the
/// filesystem down.
pub(crate) fn commit_journal(sb: &SuperBlock) -> Result {
    let info = sb.info();
    info.journal.commit().inspect_err(|_| {
        if info.journal.is_aborted() {
            journal_aborted(sb);
        }
    })
}

/// Marks the image clean, durably, after everything else is: a cache flush
/// first, so the clean state cannot reach the disk ahead of the metadata
/// it vouches for, then block 0, then a flush again.
fn write_clean_super(sb: &SuperBlock, info: &DinoSb) -> Result {
    sb.flush_device()?;
    write_super(sb, info, format::STATE_CLEAN, true)?;
    sb.sync_blockdev()?;
    sb.flush_device()
}

/// Shuts the filesystem down if a metadata write failed since the mount.
///
/// The buffer layer records a failed write in the block device's `errseq`
/// and drops the buffer from the cache (not uptodate, not dirty): what the
/// filesystem changed in it — a freed block, a cleared pointer, an orphan
/// taken off the list — is not on the disk, nothing will write it again,
/// and the next read brings back the old contents. XFS retries such a
/// write from its own buffer cache and shuts down when it gives up; the
/// kernel's buffer cache keeps nothing to retry, so dinofs shuts down at
/// the first one it sees, whatever `errors=` says: nothing more is written
/// (block 0 included, which would record memory's view of the orphan list
/// and counters), the image stays dirty, and the next mount recounts free
/// space and recovers the orphan list as it is on disk. Checked by every
/// `sync_fs`, a remount read-only, the unmount, and before each
/// synchronous write of block 0 (a failed write of block 0 itself loses
/// nothing; see [`write_super`]).
fn check_meta_writes(sb: &SuperBlock, info: &DinoSb) -> Result {
    let Err(e) = sb.meta_write_error_since(info.meta_err_mark.load(SeqCst)) else {
        return Ok(());
    };
    if shut_down_now(info) {
        pr_crit!(
            "{}: metadata write error ({:?}): what it carried is lost; filesystem shut down, further I/O fails with EIO; unmount, the next mount recovers (fsck.dinofs -n recommended)\n",
            sb.id(),
            e
        );
    }
    Err(EIO)
}

/// `->freeze_super`: the VFS's `freeze_super()`, and on failure gc is
/// restarted. `sync_fs` stops gc in the last sync pass; every later step of
/// the freeze can still fail (`sync_fs` itself with a worker's error, the
/// block device's `sync_blockdev`, `freeze_fs`), and `freeze_super()` then
/// returns without any callback. XFS restarts gc only when its own
/// `freeze_fs` fails; wrapping the whole freeze covers every way (Dave
/// Chinner's first inodegc design hooked `->freeze_super` too, seed 000).
pub(crate) fn freeze_super(sb: &SuperBlock, who: u32) -> Result {
    let r = sb.vfs_freeze_super(who);
    if r.is_err() {
        // Under s_umount, so no freeze, thaw or remount runs meanwhile. A
        // freeze refused because another holder froze the filesystem
        // leaves it frozen: gc stays stopped then.
        sb.with_umount_read(|| {
            if sb.unfrozen() && !sb.rdonly() && sb.live().is_ok() {
                sb.info().gc.start();
            }
        });
    }
    r
}

/// `freeze_fs`: the engine was stopped by `sync_fs`, and the VFS freeze
/// levels keep new handles out (every handle is started under
/// `sb_start_write` or `sb_start_intwrite`); what is left is to quiesce the
/// journal as `ext4_freeze` does: wait for running handles, commit and
/// checkpoint everything, mark the log empty ([`vfs::Journal::quiesce`]),
/// so a frozen image needs no replay. The `fail_next_freeze` debugfs knob
/// makes the next freeze fail here, for tests; [`freeze_super`] then
/// restarts gc.
pub(crate) fn freeze_fs(sb: &SuperBlock) -> Result {
    let info = sb.info();
    if info.gc.fail_next_freeze.swap(false, SeqCst) {
        pr_info!("{}: failing this freeze (fail_next_freeze)\n", sb.id());
        return Err(EBUSY);
    }
    // A failed checkpoint write aborts the journal: the filesystem is shut
    // down then, and the freeze fails (test 340).
    info.journal.quiesce().inspect_err(|_| {
        if info.journal.is_aborted() {
            journal_aborted(sb);
        }
    })
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
///
/// Going read-only, gc is stopped (drained) first, because the drain
/// writes; if the drain or the clean superblock write fails, gc is started
/// again, block 0 keeps the dirty state and the remount fails: the
/// filesystem stays read-write and whole. Going read-write, gc starts and
/// orphan recovery runs, as at mount.
pub(crate) fn reconfigure(sb: &SuperBlock, fc: &FsContext) -> Result {
    let info = sb.info();
    if *fc.options() != info.opts {
        fc.error(c_str!(
            "inodegc=, errors= and commit= cannot be changed by remount"
        ));
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
            if let Err(e) = info.gc.stop() {
                info.gc.start();
                fc.error(c_str!("inactivation failed; still read-write"));
                return Err(e);
            }
            // Never mark an image clean over lost writes.
            let _ = sb.sync_blockdev();
            if let Err(e) = check_meta_writes(sb, info) {
                fc.error(c_str!("metadata write error; the filesystem is shut down"));
                return Err(e);
            }
            // A read-only image needs no replay (`ext4_remount` does the
            // same): every transaction committed and checkpointed, the
            // log marked empty. jbd2 aborts the journal if that write
            // fails; the filesystem is shut down then.
            if let Err(e) = info.journal.quiesce() {
                if info.journal.is_aborted() {
                    journal_aborted(sb);
                    fc.error(c_str!("journal write error; the filesystem is shut down"));
                } else {
                    info.gc.start();
                    fc.error(c_str!("flushing the journal failed; still read-write"));
                }
                return Err(e);
            }
            let r = write_clean_super(sb, info);
            if let Err(e) = r {
                // Block 0's buffer says clean; the filesystem stays
                // read-write, so put the dirty state back before anything
                // writes it.
                let _ = write_super(sb, info, format::STATE_DIRTY, false);
                info.gc.start();
                fc.error(c_str!("writing the superblock failed; still read-write"));
                return Err(e);
            }
            Ok(())
        }
        (true, false) => {
            write_super(sb, info, format::STATE_DIRTY, true)?;
            info.gc.start();
            // A read-only mount leaves the orphan list alone.
            let n = super::orphan::recover_orphans(sb)?;
            if n > 0 {
                pr_info!("{}: recovered {} orphan inode(s)\n", sb.id(), n);
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// Unmount: every inode is gone (evicted, maybe queued). The final drain
/// runs while the filesystem is whole, whatever the state of gc, then the
/// counters and the clean state are written; `free_info` tears the engine
/// down afterwards, finding every queue empty.
pub(crate) fn put_super(sb: &SuperBlock) {
    let info = sb.info();
    if sb.rdonly() {
        // Read-only: nothing may be written. Only trims queued during the
        // remount to read-only can be waiting; they are optional.
        let n = info.gc.discard_all();
        if n > 0 {
            pr_info!(
                "{}: dropped {} queued trim(s) at read-only unmount\n",
                sb.id(),
                n
            );
        }
        return;
    }
    let drained = info.gc.drain_for_unmount();
    if info.is_shutdown() {
        // Write nothing: the state stays dirty, so the next mount recounts
        // free space and recovers the orphan list.
        pr_info!(
            "{}: unmounted after shutdown; the next mount recovers orphans\n",
            sb.id()
        );
        return;
    }
    let failed = info.gc.stats.errors.load(Relaxed);
    if failed > 0 || drained.is_err() {
        pr_warn!(
            "{}: {} inactivation(s) failed while mounted; those inodes are left on the orphan list and the next mount recovers them\n",
            sb.id(),
            failed
        );
    }
    // Everything dirty first: a metadata write that failed, now or since
    // the mount, shuts down and leaves the image dirty.
    let _ = sb.sync_blockdev();
    if check_meta_writes(sb, info).is_err() {
        return;
    }
    // The journaled blocks in place and the log empty before block 0 says
    // clean (a failure aborted the journal: the next mount replays it).
    if info.journal.quiesce().is_err() {
        if info.journal.is_aborted() {
            journal_aborted(sb);
        }
        return;
    }
    if let Err(e) = write_clean_super(sb, info) {
        pr_err!(
            "{}: writing the superblock at unmount failed: {:?}\n",
            sb.id(),
            e
        );
    }
}

/// Corrupt metadata was found (every `-EUCLEAN` goes through
/// [`SuperBlock::corrupt`], which calls this after its message). With
/// `errors=continue` (the default) the operation fails and the filesystem
/// carries on. With `errors=remount-ro` the filesystem stops writing at
/// once: it is shut down as by `FS_IOC_SHUTDOWN` without a flush (further
/// I/O fails with `EIO`, gc discards instead of inactivating, unmount
/// writes nothing and the next mount recovers), which is what ext4 does
/// for `errors=remount-ro` since it stopped flipping `SB_RDONLY` outside a
/// remount (that needs `s_umount`, which a lookup, a writeback or the gc
/// worker that finds the corruption may not take). Callable in any context
/// (it only sets flags).
pub(crate) fn on_corruption(sb: &SuperBlock) {
    let Some(info) = sb.try_info() else {
        return;
    };
    if !info.opts.errors_remount_ro || sb.rdonly() || !shut_down_now(info) {
        return;
    }
    pr_crit!(
        "{}: corruption found with errors=remount-ro: no further writes, I/O fails with EIO; unmount and run fsck.dinofs\n",
        sb.id()
    );
}

/// Stops all writing at once, without a flush (`errors=remount-ro`, a lost
/// metadata write): every operation fails with `EIO` from now on and gc
/// discards. Returns whether this call did it. Callable in any context.
fn shut_down_now(info: &DinoSb) -> bool {
    if info.shutdown.swap(true, SeqCst) {
        return false;
    }
    info.gc.shut_down_nowait();
    true
}

/// A handle could not start because the journal is aborted (jbd2 aborts
/// it itself when a write to the log fails): the filesystem shuts down at
/// once, as after a lost metadata write. Process context.
pub(crate) fn journal_aborted(sb: &SuperBlock) {
    let info = sb.info();
    if shut_down_now(info) {
        pr_crit!(
            "{}: journal aborted (a write to the log failed); filesystem shut down, further I/O fails with EIO; unmount, the next mount replays the journal\n",
            sb.id()
        );
    }
}

/// What `FS_IOC_SHUTDOWN`'s flags ask for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ShutdownMode {
    /// `FS_SHUTDOWN_FLAGS_DEFAULT`: write everything, then shut down.
    Default,
    /// `FS_SHUTDOWN_FLAGS_LOGFLUSH`: XFS writes its log and no data; dinofs
    /// journals only part of its metadata yet, so it writes everything, as
    /// `Default` does. Writing more than asked is always allowed of a
    /// shutdown.
    LogFlush,
    /// `FS_SHUTDOWN_FLAGS_NOLOGFLUSH`: shut down now, write nothing more.
    NoLogFlush,
}

/// `FS_IOC_SHUTDOWN` flags, XFS's values: write everything, then shut
/// down.
const SHUTDOWN_DEFAULT: u32 = 0;
/// dinofs journals only part of its metadata yet: as [`SHUTDOWN_DEFAULT`].
const SHUTDOWN_LOGFLUSH: u32 = 1;
/// Shut down now, write nothing.
const SHUTDOWN_NOLOGFLUSH: u32 = 2;

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
/// no metadata is logged in the journal yet, so an operation caught
/// half-way by it may need `fsck.dinofs -y`. Every mode aborts the journal
/// (`ESHUTDOWN`, recorded as no error) once the flag is set, as ext4 does.
/// A second shutdown is a no-op.
pub(crate) fn shutdown(sb: &SuperBlock, flags: u32) -> Result {
    let mode = match flags {
        SHUTDOWN_DEFAULT => ShutdownMode::Default,
        SHUTDOWN_LOGFLUSH => ShutdownMode::LogFlush,
        SHUTDOWN_NOLOGFLUSH => ShutdownMode::NoLogFlush,
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
    if first {
        // As ext4: the journal is aborted, with ESHUTDOWN (recorded as no
        // error), so nothing more reaches the log and the next mount
        // replays what it holds. After the freeze of default and logflush
        // it holds nothing: the freeze committed and checkpointed it all.
        info.journal.abort(crate::kernel_ext::errno::eshutdown());
    }
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
