// SPDX-License-Identifier: GPL-2.0

//! Deferred inode inactivation ("inodegc"), after XFS (Linux 5.15, seed
//! patch "xfs: per-cpu deferred inode inactivation queues", and the fixes
//! upstream made afterwards; see `Documentation/inodegc.rst`).
//!
//! When the VFS destroys an inode that still needs on-disk work (it was
//! unlinked: its blocks, its slot, maybe its cluster and its orphan-list
//! entry must go), the inode is not torn down in the caller's context.
//! [`InodeGc::queue`] puts it on the current CPU's lockless list and arms
//! that CPU's work item on a bound workqueue; the worker ([`run_worker`])
//! later runs `inode::inactivate()` for the whole batch, on the same CPU,
//! with hot caches and without contending with other CPUs.
//!
//! # The inode state machine
//!
//! A dead inode moves through three states, recorded in `gc_state`:
//!
//! - `NEED_INACTIVE`: entered in the index at `evict_inode`, then queued at
//!   `destroy_inode`, waiting. An unlinked inode's number is still
//!   allocated on disk and on the orphan list, so a crash loses nothing.
//! - `INACTIVATING`: taken by a worker: an unlinked inode is torn down
//!   (`inode::inactivate`), a linked one has its speculative preallocation
//!   past EOF trimmed (`inode::trim_eof`).
//! - `CANCELLED`: `iget` wanted the inode back while it was waiting; the
//!   worker just frees the memory.
//! - freed: the worker released the memory (after an RCU grace period).
//!
//! - discarded: the filesystem was shut down (`FS_IOC_SHUTDOWN`); queued or
//!   newly dead inodes are freed without any disk I/O. An unlinked one is
//!   still on the on-disk orphan list, and orphan recovery inactivates it
//!   at the next mount.
//!
//! Inodes that need no on-disk work skip all of this and are freed at once.
//! `iget` of an inode that is `INACTIVATING` waits (pushing the queues)
//! until the worker is done; see [`InodeGc::claim_for_iget`].
//!
//! # Triggers and the throttle
//!
//! - The work is armed with a 1-jiffy delay, so a trickle of unlinks is
//!   batched but nothing ever waits for a threshold (upstream 7cf2b0f9611b).
//! - At [`QUEUE_DEPTH`] (32, one inode cluster of work) or when free space is
//!   low, it is armed to run immediately.
//! - A producer that finds more than [`MAX_BACKLOG`] (256) inodes queued on
//!   its CPU, or a queue the shrinker has hit, waits for that CPU's work
//!   (the throttle) — unless it runs in a NOFS scope, where it may hold
//!   filesystem resources the worker needs (upstream f2e812c1522d).
//!   kswapd is not exempt (seed 001).
//!
//! # Push, flush, stop, start
//!
//! - [`InodeGc::push`] (from `statfs`) expedites every non-empty queue and
//!   returns at once: `df` never waits for a worker (upstream 5e672cd69f0a).
//! - [`InodeGc::flush`] (from `sync_fs`, orphan recovery) pushes, waits for
//!   the workqueue and returns the first error the workers hit
//!   (upstream d4d12c02bf5f).
//! - [`InodeGc::stop`] (freeze, remount read-only, unmount; always under
//!   `s_umount`) clears "enabled" and then drains: queue everything, flush
//!   the workqueue, repeat until no queue had work. It never cancels a
//!   queued item (upstream 6191cf3ad59f, 2254a7396a0c). Inodes destroyed
//!   while stopped still queue; [`InodeGc::start`] runs them.
//!
//! # CPUs
//!
//! Every operation that looks for work iterates all *possible* CPUs, never
//! the online mask: a CPU leaves the online mask before its CPU-dead
//! callback runs, and a queue missed that way was a use-after-free at
//! unmount upstream (62334fab4762). The CPU-dead callback
//! ([`InodeGc::cpu_dead`]) moves a dead CPU's whole list onto the current
//! CPU's queue and kicks it there: a latency improvement, not the only
//! thing keeping work from being lost.

use crate::format;
use crate::inode;
use crate::prims::{
    self, Claim, CpuHpInstance, CpuHpNode, CpuMask, GcIndex, GcOwner, GcQueue, GcQueues, GcShrinker,
    GcWorkqueue, NofsScope, PreemptGuard,
};
use crate::trace::{self, Dev};
use crate::vfs::{DeadInode, SuperBlock};
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering::Relaxed, Ordering::SeqCst};
use kernel::prelude::*;
use kernel::types::ARef;

/// Queue depth at which a CPU's work runs immediately: one inode cluster
/// (32 inodes) of work, the unit XFS batches inactivation in.
pub(crate) const QUEUE_DEPTH: u32 = format::INODES_PER_CLUSTER;

/// Per-CPU backlog beyond which producers wait for their CPU's worker: a
/// runaway queue means inactivation cannot keep up, and memory (every queued
/// inode pins its in-memory inode) must not grow without bound.
pub(crate) const MAX_BACKLOG: u32 = 256;

/// Speculative preallocation starts once a file is this many blocks long
/// (files within the direct blocks never get any).
pub(crate) const PREALLOC_MIN_BLOCKS: u64 = format::DIRECT_BLOCKS as u64;

/// Most blocks preallocated past EOF at once.
pub(crate) const PREALLOC_MAX_BLOCKS: u64 = 64;

/// Counters, exported under debugfs (`/sys/kernel/debug/dinofs/<dev>/inodegc`).
#[derive(Default)]
pub(crate) struct Stats {
    pub(crate) queued: AtomicU64,
    pub(crate) inactivated: AtomicU64,
    pub(crate) worker_runs: AtomicU64,
    pub(crate) throttles: AtomicU64,
    pub(crate) folds: AtomicU64,
    pub(crate) folded_items: AtomicU64,
    pub(crate) pushes: AtomicU64,
    pub(crate) flushes: AtomicU64,
    pub(crate) stops: AtomicU64,
    pub(crate) starts: AtomicU64,
    pub(crate) shrinker_scans: AtomicU64,
    pub(crate) shrinker_counts: AtomicU64,
    pub(crate) trims: AtomicU64,
    pub(crate) cancelled: AtomicU64,
    pub(crate) iget_waits: AtomicU64,
    pub(crate) off_cpu_runs: AtomicU64,
    pub(crate) worker_runs_while_stopped: AtomicU64,
    pub(crate) errors: AtomicU64,
    pub(crate) discarded: AtomicU64,
}

/// The engine of one mount.
///
/// `#[repr(C)]` with the hotplug node first: the CPU-dead callback finds the
/// engine from its node (see `prims::CpuHpInstance`).
#[repr(C)]
pub(crate) struct InodeGc {
    cpuhp_node: CpuHpNode,
    /// The device, for tracepoints.
    dev: Dev,
    queues: Option<GcQueues>,
    wq: Option<GcWorkqueue>,
    cpuhp: Option<CpuHpInstance>,
    shrinker: Option<GcShrinker>,
    /// Inodes from eviction until their inactivation is over (for iget).
    index: GcIndex,
    /// CPUs whose queue may be non-empty (observability and a fast path;
    /// correctness never depends on it).
    nonempty: CpuMask,
    enabled: AtomicBool,
    /// `stop` is draining: workers it runs are expected while disabled.
    draining: AtomicBool,
    /// The filesystem was shut down: dead inodes are discarded (memory
    /// freed, disk untouched) instead of inactivated. Never cleared.
    shut_down: AtomicBool,
    /// `inodegc=sync`: inactivate inline, never queue.
    sync_mode: bool,
    /// Per-CPU worker runs (index = CPU), for the locality test.
    cpu_runs: [AtomicU64; MAX_CPUS],
    pub(crate) stats: Stats,
    /// Debug knob: make the next freeze fail (tests the restart path).
    pub(crate) fail_next_freeze: AtomicBool,
    /// Debug knob: the worker sleeps this long per inode (tests the
    /// throttle and the hung-task watchdog against a slow worker).
    pub(crate) slow_worker_us: AtomicU32,
}

/// CPUs the per-CPU statistics cover (the test kernel has NR_CPUS=8).
pub(crate) const MAX_CPUS: usize = 64;

impl InodeGc {
    /// Sets up the engine of a mount: queues, workqueue, hotplug instance.
    /// Starts enabled unless the mount is read-only.
    pub(crate) fn new(sb: &SuperBlock, sync_mode: bool) -> Result<KBox<Self>> {
        let mut gc = KBox::new(
            Self {
                cpuhp_node: CpuHpNode::new(),
                dev: sb.dev(),
                queues: None,
                wq: None,
                cpuhp: None,
                shrinker: None,
                index: GcIndex::new()?,
                nonempty: CpuMask::new()?,
                enabled: AtomicBool::new(!sb.rdonly()),
                draining: AtomicBool::new(false),
                shut_down: AtomicBool::new(false),
                sync_mode,
                cpu_runs: [const { AtomicU64::new(0) }; MAX_CPUS],
                stats: Stats::default(),
                fail_next_freeze: AtomicBool::new(false),
                slow_worker_us: AtomicU32::new(0),
            },
            GFP_KERNEL,
        )?;
        gc.queues = Some(GcQueues::new(&*gc)?);
        gc.wq = Some(GcWorkqueue::new(sb.id())?);
        // SAFETY: `cpuhp_node` is the first field of the `#[repr(C)]`
        // InodeGc, which lives in a box that is not moved or freed before
        // `destroy` drops the instance.
        let inst = unsafe { CpuHpInstance::new(&gc.cpuhp_node)? };
        gc.cpuhp = Some(inst);
        // SAFETY: the engine is boxed (fixed address) and drops the
        // shrinker first thing in its destructor.
        let shrinker = unsafe { GcShrinker::new(sb.id(), &*gc)? };
        gc.shrinker = Some(shrinker);
        Ok(gc)
    }

    fn queues(&self) -> impl Iterator<Item = &GcQueue> {
        self.queues.iter().flat_map(|q| q.all())
    }

    fn queue_of(&self, cpu: u32) -> Option<&GcQueue> {
        self.queues.as_ref().map(|q| q.get(cpu))
    }

    /// Whether workers may run.
    pub(crate) fn is_enabled(&self) -> bool {
        self.enabled.load(SeqCst)
    }

    /// `evict_inode`: decides whether `inode` needs on-disk work before its
    /// memory can go — it was unlinked, or it holds speculative
    /// preallocation past EOF to trim — and if so enters it in the index
    /// now, while it is still in the inode hash, so that an `iget` racing
    /// with the eviction finds it there.
    pub(crate) fn evict(&self, inode: &crate::vfs::Inode) {
        if inode.is_bad() || inode.sb().rdonly() {
            return;
        }
        let prealloc = inode.lock_map().prealloc();
        if inode.nlink() == 0 || prealloc {
            self.index.add(inode);
        }
    }

    /// `->destroy_inode`: queue the inode for inactivation, inactivate it
    /// now (`inodegc=sync`), or free it.
    pub(crate) fn destroy_inode(&self, inode: DeadInode) {
        if !inode.inode().gc_pending() {
            return drop(inode);
        }
        if self.is_shut_down() {
            return discard_one(self, inode);
        }
        if self.sync_mode {
            inactivate_one(self, inode);
            return;
        }
        self.queue(inode);
    }

    /// `iget` of `ino`: if the inode is waiting for inactivation, cancel
    /// that (the disk is consistent and the new in-memory inode takes
    /// over); if a worker is inactivating it, expedite and wait (XFS's
    /// EAGAIN loop). Never spins while gc is stopped: a stopped engine has
    /// no inactivation in progress (stop drains), only waiting inodes.
    pub(crate) fn claim_for_iget(&self, ino: u32) {
        loop {
            match self.index.claim(ino) {
                Claim::Absent => return,
                Claim::Cancelled => {
                    self.stats.cancelled.fetch_add(1, Relaxed);
                    return;
                }
                Claim::Busy => {
                    self.stats.iget_waits.fetch_add(1, Relaxed);
                    self.push();
                    prims::usleep(1000);
                }
            }
        }
    }

    /// Whether free space is low enough that queued inodes should be
    /// inactivated at once (their blocks are needed).
    fn space_low(sb: &SuperBlock) -> bool {
        let info = sb.info();
        info.free_blocks_hint.load(Relaxed) < info.geo.blocks / 64
    }

    /// The producer. See the module documentation for the triggers.
    fn queue(&self, inode: DeadInode) {
        let low = Self::space_low(inode.inode().sb());
        let Some(queues) = self.queues.as_ref() else {
            return drop(inode);
        };
        let ino = inode.inode().ino();
        let (q, items) = {
            let cpu = PreemptGuard::new();
            let q = queues.get(cpu.cpu());
            q.push(inode);
            let items = q.items().fetch_add(1, Relaxed) + 1;
            trace::inodegc_queue(self.dev, ino, cpu.cpu(), items);
            self.nonempty.set(cpu.cpu());
            if self.is_enabled() {
                let delay = if items >= QUEUE_DEPTH || low { 0 } else { 1 };
                if let Some(wq) = &self.wq {
                    wq.queue_on(q, delay);
                }
            }
            (q, items)
        };
        self.stats.queued.fetch_add(1, Relaxed);
        // The throttle, with preemption enabled again.
        let hit = q.shrinker_hits().load(Relaxed) > 0;
        if (items > MAX_BACKLOG || hit) && self.is_enabled() && !NofsScope::current_is_nofs() {
            self.stats.throttles.fetch_add(1, Relaxed);
            trace::inodegc_throttle(self.dev, q.cpu(), items);
            if let Some(wq) = &self.wq {
                wq.flush_queue(q);
            }
        }
    }

    /// Arms every non-empty queue's work to run now. Returns whether any
    /// queue had work.
    fn queue_all(&self) -> bool {
        let mut any = false;
        for q in self.queues() {
            if !q.is_empty() {
                any = true;
                if let Some(wq) = &self.wq {
                    wq.queue_on(q, 0);
                }
            }
        }
        any
    }

    /// Expedites all queued work without waiting (`statfs`).
    pub(crate) fn push(&self) {
        if !self.is_enabled() {
            return;
        }
        self.stats.pushes.fetch_add(1, Relaxed);
        trace::inodegc_push(self.dev);
        self.queue_all();
    }

    /// Runs all queued work and waits for it; returns the first error a
    /// worker hit since the last flush.
    pub(crate) fn flush(&self) -> Result {
        if !self.is_enabled() {
            return Ok(());
        }
        self.stats.flushes.fetch_add(1, Relaxed);
        trace::inodegc_flush(self.dev);
        self.queue_all();
        if let Some(wq) = &self.wq {
            wq.flush();
        }
        let mut err = 0;
        for q in self.queues() {
            let e = q.error().swap(0, Relaxed);
            if err == 0 {
                err = e;
            }
        }
        if err == 0 {
            Ok(())
        } else {
            Err(Error::from_errno(err))
        }
    }

    /// Stops the workers and drains every queue (freeze, remount ro,
    /// unmount). Caller holds `s_umount`.
    pub(crate) fn stop(&self) {
        if !self.enabled.swap(false, SeqCst) {
            return;
        }
        self.stats.stops.fetch_add(1, Relaxed);
        trace::inodegc_stop(self.dev);
        // Drain, never cancel: producers that sampled "enabled" before we
        // cleared it may still arm work; loop until a pass finds nothing.
        self.draining.store(true, SeqCst);
        self.queue_all();
        loop {
            if let Some(wq) = &self.wq {
                wq.flush();
            }
            if !self.queue_all() {
                break;
            }
        }
        self.draining.store(false, SeqCst);
    }

    /// The filesystem is being shut down (`FS_IOC_SHUTDOWN`): from now on
    /// every dead inode, queued or not, is discarded — its memory freed,
    /// the disk untouched; an unlinked one stays on the on-disk orphan list
    /// and is inactivated by orphan recovery at the next mount. Then stops
    /// the workers, draining the queues (which discards them), and discards
    /// what is left queued. Caller holds `s_umount`.
    pub(crate) fn shut_down(&self) {
        self.shut_down.store(true, SeqCst);
        self.stop();
        // gc may have been stopped already (frozen, read-only): whatever
        // still waits on a queue is discarded now, not at unmount.
        for q in self.queues() {
            for inode in q.take_all() {
                discard_one(self, inode);
            }
            q.items().store(0, Relaxed);
        }
    }

    /// Whether [`Self::shut_down`] ran.
    pub(crate) fn is_shut_down(&self) -> bool {
        self.shut_down.load(SeqCst)
    }

    /// Lets the workers run again and kicks what queued while stopped.
    /// Never after a shutdown. Caller holds `s_umount`.
    pub(crate) fn start(&self) {
        if self.is_shut_down() {
            return;
        }
        if self.enabled.swap(true, SeqCst) {
            return;
        }
        self.stats.starts.fetch_add(1, Relaxed);
        trace::inodegc_start(self.dev);
        self.queue_all();
    }

    /// The shrinker's count: queued inodes pin memory; report some while
    /// there is queued work and gc is enabled, so reclaim calls `scan`.
    pub(crate) fn shrinker_count(&self) -> u64 {
        self.stats.shrinker_counts.fetch_add(1, Relaxed);
        if !self.is_enabled() {
            return 0;
        }
        self.queues().map(|q| q.items().load(Relaxed) as u64).sum()
    }

    /// The shrinker's scan: memory is short; run every non-empty queue now
    /// and make its next producer throttle (seed 001: reclaim must stay
    /// throttled by a long queue, not dump work and declare OOM).
    pub(crate) fn shrinker_scan(&self) -> u64 {
        if !self.is_enabled() {
            return prims::SHRINK_STOP;
        }
        self.stats.shrinker_scans.fetch_add(1, Relaxed);
        trace::inodegc_shrinker_scan(self.dev, self.shrinker_count() as u32);
        for q in self.queues() {
            if !q.is_empty() {
                q.shrinker_hits().fetch_add(1, Relaxed);
                if let Some(wq) = &self.wq {
                    wq.queue_on(q, 0);
                }
            }
        }
        prims::SHRINK_STOP
    }

    /// Inodes queued now on `cpu`.
    pub(crate) fn queued_on(&self, cpu: u32) -> u32 {
        self.queue_of(cpu).map_or(0, |q| q.items().load(Relaxed))
    }

    /// Worker runs on `cpu` so far.
    pub(crate) fn runs_on(&self, cpu: u32) -> u64 {
        self.cpu_runs.get(cpu as usize).map_or(0, |r| r.load(Relaxed))
    }

    /// Whether `cpu`'s queue is marked non-empty.
    pub(crate) fn marked_nonempty(&self, cpu: u32) -> bool {
        self.nonempty.test(cpu)
    }

}

impl Drop for InodeGc {
    /// Tears the engine down at unmount, after [`InodeGc::stop`].
    fn drop(&mut self) {
        // The shrinker and the hotplug instance first: no callback may race
        // with the teardown.
        drop(self.shrinker.take());
        drop(self.cpuhp.take());
        // destroy_workqueue drains what is still pending.
        drop(self.wq.take());
        // Anything still queued is inactivated here, synchronously (only
        // possible if gc was stopped with inodes destroyed afterwards).
        if let Some(queues) = self.queues.take() {
            for q in queues.all() {
                for inode in q.take_all() {
                    inactivate_one(self, inode);
                }
            }
            drop(queues);
        }
    }
}

/// Frees a dead inode without touching the disk (after a shutdown).
fn discard_one(gc: &InodeGc, inode: DeadInode) {
    gc.index.del(inode.inode());
    gc.stats.discarded.fetch_add(1, Relaxed);
    drop(inode);
}

/// Inactivates one dead inode and frees it (or, after a shutdown, only
/// frees it).
fn inactivate_one(gc: &InodeGc, inode: DeadInode) -> i32 {
    if gc.is_shut_down() {
        discard_one(gc, inode);
        return 0;
    }
    let i = inode.inode();
    if !gc.index.begin(i) {
        // iget cancelled it: a live inode owns the disk state now.
        gc.index.del(i);
        drop(inode);
        return 0;
    }
    trace::inode_inactivating(gc.dev, i.ino(), prims::current_cpu());
    let r = if i.nlink() == 0 {
        inode::inactivate(i)
    } else {
        gc.stats.trims.fetch_add(1, Relaxed);
        inode::trim_eof(i)
    };
    gc.index.del(i);
    gc.stats.inactivated.fetch_add(1, Relaxed);
    let errno = match r {
        Ok(()) => 0,
        // A shutdown racing with this inactivation: its I/O failed with EIO
        // by design; the orphan list has the inode.
        Err(e) if gc.is_shut_down() => e.to_errno(),
        Err(e) => {
            gc.stats.errors.fetch_add(1, Relaxed);
            pr_err!(
                "{}: inactivating inode {} failed ({:?}); fsck.dinofs will reclaim it\n",
                i.sb().id(),
                i.ino(),
                e
            );
            e.to_errno()
        }
    };
    drop(inode);
    errno
}

impl GcOwner for InodeGc {
    /// The worker: drains one CPU's queue, on that CPU.
    fn run_worker(&self, q: &GcQueue) {
        let cpu = prims::current_cpu();
        // Locality: while the queue's CPU is active, bound work runs on it.
        // (A CPU going offline is deactivated before its pool is unbound.)
        if cpu != q.cpu() && prims::cpu_active(q.cpu()) {
            self.stats.off_cpu_runs.fetch_add(1, Relaxed);
            pr_warn!("inodegc worker for CPU {} ran on CPU {}\n", q.cpu(), cpu);
        }
        // A worker with gc stopped and not draining must never run: nothing
        // may be written while frozen or read-only (tests assert 0).
        if !self.is_enabled() && !self.draining.load(SeqCst) {
            self.stats.worker_runs_while_stopped.fetch_add(1, Relaxed);
        }
        self.stats.worker_runs.fetch_add(1, Relaxed);
        if let Some(r) = self.cpu_runs.get(q.cpu() as usize) {
            r.fetch_add(1, Relaxed);
        }
        self.nonempty.clear(q.cpu());
        let items = q.items().swap(0, Relaxed);
        trace::inodegc_worker(self.dev, q.cpu(), items);
        q.shrinker_hits().store(0, Relaxed);
        let batch = q.take_all();
        // Inactivation runs on behalf of reclaim: no allocation in it may
        // recurse into filesystem reclaim.
        let _nofs = NofsScope::new();
        for inode in batch {
            let slow = self.slow_worker_us.load(Relaxed);
            if slow > 0 {
                prims::usleep(slow);
            }
            let e = inactivate_one(self, inode);
            if e != 0 {
                let _ = q.error().compare_exchange(0, e, Relaxed, Relaxed);
            }
        }
    }

    /// The CPU-dead fold: move a dead CPU's queue to this CPU and kick it.
    fn cpu_dead(&self, dead: u32) {
        let Some(queues) = self.queues.as_ref() else {
            return;
        };
        let dq = queues.get(dead);
        let batch = dq.take_all();
        dq.items().store(0, Relaxed);
        self.nonempty.clear(dead);
        let cpu = PreemptGuard::new();
        let q = queues.get(cpu.cpu());
        let n = q.push_batch(batch);
        if n == 0 {
            return;
        }
        q.items().fetch_add(n, Relaxed);
        self.nonempty.set(cpu.cpu());
        if self.is_enabled() {
            if let Some(wq) = &self.wq {
                wq.queue_on(q, 0);
            }
        }
        trace::inodegc_cpu_dead(self.dev, dead, cpu.cpu(), n);
        drop(cpu);
        self.stats.folds.fetch_add(1, Relaxed);
        self.stats.folded_items.fetch_add(n as u64, Relaxed);
    }
}

/// Orphan recovery at mount: every inode on the on-disk orphan list was
/// unlinked but not yet inactivated when the filesystem was last mounted.
/// Read each (its link count is 0), let it go (it queues), then flush.
pub(crate) fn recover_orphans(sb: &SuperBlock) -> Result<u32> {
    let info = sb.info();
    let limit = {
        let st = info.alloc.lock();
        st.clusters as u64 * format::INODES_PER_CLUSTER as u64
    };
    let mut ino = info.alloc.lock().orphan_head;
    let mut n = 0u32;
    while ino != format::NULL {
        if n as u64 > limit {
            return Err(sb.corrupt(kernel::c_str!("orphan list (loop)"), ino as u64));
        }
        let inode: ARef<crate::vfs::Inode> = inode::iget(sb, ino)?;
        let next = crate::alloc::orphan_next(sb, ino)?;
        if inode.nlink() != 0 {
            return Err(sb.corrupt(kernel::c_str!("orphan list (linked inode)"), ino as u64));
        }
        drop(inode);
        n += 1;
        ino = next;
    }
    info.gc.flush()?;
    Ok(n)
}

/// Writes the engine's statistics (debugfs `inodegc`), one `name value` per
/// line, then one line per possible CPU.
pub(crate) fn show_stats(gc: &InodeGc, w: &mut impl core::fmt::Write) {
    let s = &gc.stats;
    let rows: [(&str, &AtomicU64); 19] = [
        ("queued", &s.queued),
        ("inactivated", &s.inactivated),
        ("worker_runs", &s.worker_runs),
        ("throttles", &s.throttles),
        ("folds", &s.folds),
        ("folded_items", &s.folded_items),
        ("pushes", &s.pushes),
        ("flushes", &s.flushes),
        ("stops", &s.stops),
        ("starts", &s.starts),
        ("shrinker_scans", &s.shrinker_scans),
        ("shrinker_counts", &s.shrinker_counts),
        ("trims", &s.trims),
        ("cancelled", &s.cancelled),
        ("iget_waits", &s.iget_waits),
        ("off_cpu_runs", &s.off_cpu_runs),
        ("worker_runs_while_stopped", &s.worker_runs_while_stopped),
        ("errors", &s.errors),
        ("discarded", &s.discarded),
    ];
    let _ = writeln!(w, "enabled {}", gc.is_enabled() as u32);
    let _ = writeln!(w, "shut_down {}", gc.is_shut_down() as u32);
    let _ = writeln!(w, "mode {}", if gc.sync_mode { "sync" } else { "deferred" });
    for (name, v) in rows {
        let _ = writeln!(w, "{} {}", name, v.load(Relaxed));
    }
    let mut total = 0u64;
    for cpu in prims::possible_cpus() {
        total += gc.queued_on(cpu) as u64;
        let _ = writeln!(
            w,
            "cpu{} queued {} runs {} nonempty {}",
            cpu,
            gc.queued_on(cpu),
            gc.runs_on(cpu),
            gc.marked_nonempty(cpu) as u32
        );
    }
    let _ = writeln!(w, "queued_now {}", total);
}
