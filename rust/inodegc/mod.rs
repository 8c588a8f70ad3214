// SPDX-License-Identifier: GPL-2.0

//! Deferred inode inactivation ("inodegc"), after XFS (Linux 5.15, seed
//! patch "xfs: per-cpu deferred inode inactivation queues", and the fixes
//! upstream made afterwards; see `Documentation/inodegc.rst`).
//!
//! When the VFS destroys an inode that still needs on-disk work (it was
//! unlinked: its blocks, its slot, maybe its cluster and its orphan-list
//! entry must go), the inode is not torn down in the caller's context.
//! [`InodeGc::queue`] puts it on the current CPU's lockless list and arms
//! that CPU's work item on a bound workqueue; the worker ([`InodeGc::worker`])
//! later inactivates the whole batch ([`Inactivate::inactivate`]), on the
//! same CPU, with hot caches and without contending with other CPUs.
//!
//! The engine is generic over the filesystem `F` whose [`DeadInode`]s it
//! queues; `F` implements [`Inactivate`] (dinofs: `fs/gc.rs`). Layering:
//! it uses `kernel_ext`, `trace` and the VFS glue, nothing of dinofs.
//!
//! # The inode state machine
//!
//! A dead inode moves through these states (the first two recorded in the
//! gc index, [`crate::gc_index`]):
//!
//! - `NEED_INACTIVE` (`Waiting`): entered in the index at `evict_inode`,
//!   then queued at
//!   `destroy_inode`, waiting. An unlinked inode's number is still
//!   allocated on disk and on the orphan list, so a crash loses nothing.
//! - `INACTIVATING` (`Inactivating`): taken by a worker: an unlinked inode is torn down
//!   ([`Inactivate::inactivate`]), a linked one has its speculative
//!   preallocation past EOF trimmed ([`Inactivate::trim`]).
//! - `CANCELLED`: `iget` wanted the inode back while it was waiting; its
//!   index entry is removed, and `destroy_inode` (if it has not run yet)
//!   or the worker just frees the memory.
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
//! - At [`InodeGc::QUEUE_DEPTH`] (one inode cluster of work) or when free space is
//!   low, it is armed to run immediately.
//! - A producer that finds more than [`InodeGc::MAX_BACKLOG`] inodes queued on
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
//! ([`InodeGc::fold`]) moves a dead CPU's whole list onto the current
//! CPU's queue and kicks it there: a latency improvement, not the only
//! thing keeping work from being lost.

#![forbid(unsafe_code)]

pub(crate) mod gc_index;

use crate::kernel_ext::cpu::{self, CpuId, PreemptGuard};
use crate::kernel_ext::cpumask::CpuMask;
use crate::kernel_ext::debugfs::{DebugfsSource, Knob, SeqWriter};
use crate::kernel_ext::deferred::{Deferred, DeferredOwner};
use crate::kernel_ext::hotplug::CpuDeadState;
use crate::kernel_ext::nofs::NofsScope;
use crate::kernel_ext::shrinker::{self, ShrinkerConfig};
use crate::kernel_ext::sort;
use crate::kernel_ext::workqueue::{CpuQueue, Workqueue};
use crate::trace::{self, Dev};
use crate::vfs::{DeadInode, FileSystem, Inode, SuperBlock};
use core::sync::atomic::{
    AtomicBool, AtomicI32, AtomicU32, AtomicU64, Ordering::Relaxed, Ordering::SeqCst,
};
use gc_index::{Claim, GcIndex};
use kernel::c_str;
use kernel::prelude::*;
use kernel::str::CStr;
use kernel::time::Ktime;

/// What a filesystem implements to have its inode inactivation deferred
/// by an [`InodeGc`]: the dead object is its [`DeadInode`], and these say
/// what needs work and do it. Called from workers (in a NOFS scope), from
/// `destroy_inode` in `inodegc=sync` mode, and from `evict_inode`.
pub(crate) trait Inactivate: FileSystem {
    /// Inodes per on-disk inode cluster: the batch the queues are sized in
    /// ([`InodeGc::QUEUE_DEPTH`], [`InodeGc::MAX_BACKLOG`]).
    const CLUSTER_INODES: u32;
    /// Whether a linked inode being evicted still needs work: speculative
    /// preallocation past EOF to trim ([`Self::trim`]).
    fn wants_trim(inode: &Inode<Self>) -> bool;
    /// Tears down an unlinked inode on disk (blocks, slot, orphan-list
    /// entry). On failure the inode must stay recoverable (on the orphan
    /// list).
    fn inactivate(inode: &Inode<Self>) -> Result;
    /// Trims a linked inode's preallocation past EOF.
    fn trim(inode: &Inode<Self>) -> Result;
    /// The inactivation of an unlinked inode failed (or a test made it
    /// fail before it started): leave the inode as recoverable as possible
    /// by the next mount. Not called after a shutdown (nothing may be
    /// written).
    fn inactivate_failed(inode: &Inode<Self>);
    /// Whether free space is low enough that queued inodes should be
    /// inactivated at once (their blocks are needed). Must not block.
    fn space_low(sb: &SuperBlock<Self>) -> bool;
    /// Inactivates a batch of claimed unlinked inodes — a worker's whole
    /// list, sorted by inode number — with `results[i]` receiving
    /// `inodes[i]`'s result (preset to `Ok`). What the batch allows is the
    /// filesystem's: dinofs changes each bitmap, cluster and neighbour
    /// inode once per batch. The default inactivates one at a time.
    fn inactivate_batch(inodes: &[DeadInode<Self>], results: &mut [Result]) {
        for (d, r) in inodes.iter().zip(results.iter_mut()) {
            *r = Self::inactivate(d.inode());
        }
    }
    /// Names of the filesystem's own profile phases (at most
    /// [`FS_PHASES`]), which it accounts with [`InodeGc::profile_end`] and
    /// [`FsPhase`]; debugfs `inodegc` shows them after the engine's.
    const PHASES: &'static [&'static str] = &[];
}

/// The engine's profile phases (debugfs knob `profile`), in the order
/// debugfs shows them.
#[derive(Clone, Copy)]
pub(crate) enum Phase {
    /// `evict_inode`: entering a dead inode in the gc index.
    Evict = 0,
    /// `destroy_inode`, whole: queueing (with the throttle), or the
    /// inactivation itself in `inodegc=sync` mode.
    Destroy,
    /// From the first inode queued on an empty queue to its worker's start
    /// (wake-up, timer, context switch), per worker run.
    Wake,
    /// One worker run, whole.
    Worker,
    /// One inactivation or trim (the filesystem's work), per inode.
    Inactivate,
    /// Taking an inode out of the index and freeing its memory (RCU).
    Free,
}

/// Names of [`Phase`]s.
const PHASE_NAMES: [&str; ENGINE_PHASES] =
    ["evict", "destroy", "wake", "worker", "inactivate", "free"];

/// The number of [`Phase`]s.
const ENGINE_PHASES: usize = 6;

/// Most phases a filesystem may account ([`Inactivate::PHASES`]).
pub(crate) const FS_PHASES: usize = 8;

/// A filesystem's profile phase: an index into [`Inactivate::PHASES`].
#[derive(Clone, Copy)]
pub(crate) struct FsPhase(pub(crate) usize);

/// Time per phase (nanoseconds) and how often each ran, while the debugfs
/// knob `profile` is 1 (writing 1 also resets them). `ktime_get()` at
/// both ends of each phase; the cost of that is counted in the phases.
#[derive(Default)]
pub(crate) struct Profile {
    on: AtomicBool,
    ns: [AtomicU64; ENGINE_PHASES + FS_PHASES],
    count: [AtomicU64; ENGINE_PHASES + FS_PHASES],
}

/// A phase started (`None`: profiling is off). Copied to end nested
/// phases that started together.
#[derive(Clone, Copy)]
pub(crate) struct ProfileStart(Option<Ktime>);

impl Profile {
    fn start(&self) -> ProfileStart {
        ProfileStart(self.on.load(Relaxed).then(Ktime::ktime_get))
    }

    fn end(&self, slot: usize, start: ProfileStart) {
        self.end_n(slot, start, 1)
    }

    /// Ends a phase that did the work of `n` (a batch of `n` inodes).
    fn end_n(&self, slot: usize, start: ProfileStart, n: u64) {
        let Some(t0) = start.0 else {
            return;
        };
        let ns = (Ktime::ktime_get() - t0).to_ns().max(0) as u64;
        if let (Some(total), Some(count)) = (self.ns.get(slot), self.count.get(slot)) {
            total.fetch_add(ns, Relaxed);
            count.fetch_add(n, Relaxed);
        }
    }

    fn set(&self, on: bool) {
        if on {
            for (t, n) in self.ns.iter().zip(self.count.iter()) {
                t.store(0, Relaxed);
                n.store(0, Relaxed);
            }
        }
        self.on.store(on, Relaxed);
    }
}

/// One CPU's queue of dead inodes.
type GcQueue<F> = CpuQueue<InodeGc<F>>;

/// What the engine keeps next to each CPU's queue.
#[derive(Default)]
pub(crate) struct GcQueueData {
    /// Inodes queued since the worker last ran.
    items: AtomicU32,
    /// Shrinker scans that hit the queue since the worker last ran.
    shrinker_hits: AtomicU32,
    /// The first inactivation error since the last flush (0: none).
    error: AtomicI32,
    /// When the first inode was queued on the empty queue (ns, profiling
    /// only; 0: not profiled).
    first_queued_ns: AtomicU64,
}

/// What an idle shrinker scan returns: "plenty freed", so reclaim does not
/// keep scanning an engine with nothing queued (XFS returns `LONG_MAX`).
const SHRINK_IDLE: u64 = i64::MAX as u64;

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
    pub(crate) worker_skips_while_stopped: AtomicU64,
    pub(crate) errors: AtomicU64,
    pub(crate) discarded: AtomicU64,
    pub(crate) teardown_leftovers: AtomicU64,
    pub(crate) not_indexed: AtomicU64,
}

/// The engine of one mount: its state ([`GcState`]) with the per-CPU
/// queues, workqueue, shrinker and CPU-dead callback that
/// [`kernel_ext::deferred::Deferred`] owns with it, pinned in a box.
///
/// # Lifetime
///
/// [`InodeGc::create`] builds it; [`InodeGc::register_with`] registers the
/// shrinker and the CPU-hotplug node; [`InodeGc::teardown`] (at unmount, or
/// when a mount fails) closes it — callbacks unregistered, every queue's
/// delayed work cancelled and closed to arming, running workers waited for
/// — and discards what is left queued. `Deferred`'s `Drop` closes it again
/// as a backstop before the box is freed, so no callback, timer or worker
/// can outlive the engine whatever the caller does.
///
/// [`kernel_ext::deferred::Deferred`]: crate::kernel_ext::deferred::Deferred
pub(crate) type InodeGc<F> = Deferred<GcState<F>>;

/// The engine's own state (see [`InodeGc`]).
pub(crate) struct GcState<F: Inactivate> {
    /// The device, for tracepoints.
    dev: Dev,
    /// Inodes from eviction until their inactivation is over (for iget).
    index: GcIndex,
    /// CPUs whose queue may be non-empty (observability and a fast path;
    /// correctness never depends on it).
    nonempty: CpuMask,
    enabled: AtomicBool,
    /// `stop` or the unmount drain is draining: workers run although gc is
    /// not enabled.
    draining: AtomicBool,
    /// Workers between their enabled/draining check and the end of their
    /// batch; `stop` waits for it to reach 0 (see [`InodeGc::stop`]).
    busy: AtomicU32,
    /// Bumped when a CPU-dead fold starts and when it ends: odd while a
    /// fold has a batch in hand (see [`InodeGc::fold`]).
    fold_seq: AtomicU32,
    /// `stop` returned and `start` has not run yet: nothing may be
    /// inactivated (checked by the worker, counted if violated).
    at_rest: AtomicBool,
    /// The filesystem was shut down: dead inodes are discarded (memory
    /// freed, disk untouched) instead of inactivated. Never cleared.
    shut_down: AtomicBool,
    /// `teardown` ran: the shrinker and hotplug node are unregistered and
    /// no work can be armed any more.
    torn_down: AtomicBool,
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
    /// Debug knob: the next N inactivations fail with `EIO` before they
    /// touch the disk (the inode stays on the orphan list), to test that
    /// worker errors reach sync, freeze, remount and unmount.
    pub(crate) fail_inactivate: AtomicU32,
    /// Race widener (debug knob `push_hold`): the next `push` past its
    /// "enabled" check waits here before arming the work. A test waits for
    /// `pushes_held`, freezes, closes files, then opens the gate: item 6's
    /// late arm. One push only: the freeze's own `sync_fs` pushes too, and
    /// must not be held.
    pub(crate) push_hold: HoldGate,
    /// Race wideners (debug knobs, microseconds): the CPU-dead fold spins
    /// this long while it holds a batch (item 8); `iget` sleeps this long
    /// between `iget_locked` and the gc index (item 4). The tests set them
    /// to make the races they guard against happen every time instead of
    /// once in a blue moon.
    pub(crate) fold_delay_us: AtomicU32,
    pub(crate) iget_delay_us: AtomicU32,
    /// Debug knob (milliseconds, 0 = the normal one jiffy): the delay a
    /// trickle of queued inodes arms the work with, so a test can hold a
    /// timer armed across a CPU going offline and an unmount (item 5).
    pub(crate) arm_delay_ms: AtomicU32,
    /// Race widener (debug knob `take_hold`): the next worker past its
    /// gate waits here before it takes its list, so inodes queued meanwhile
    /// pile up (reclaim's shrinker finds them, test 310) or re-arm the
    /// timer and are then taken with the list: the "timer armed, list
    /// empty" state teardown must cancel (item 5, test 410).
    pub(crate) take_hold: HoldGate,
    /// Where the time goes (debug knob `profile`).
    profile: Profile,
    /// Debug knob `batch` (default 1): workers hand their unlinked inodes
    /// to [`Inactivate::inactivate_batch`]; 0 inactivates one at a time,
    /// for measuring the difference in one run (the filesystem reads it
    /// through [`InodeGc::batching`] for its own batches too).
    batch: AtomicBool,
    /// Debug knob `freeze_no_stop` (default 0): a freeze does not stop the
    /// engine at `SB_FREEZE_PAGEFAULT`. It exists to show why the stop is
    /// there (test 470): a worker that runs once the filesystem is frozen
    /// blocks in `sb_start_intwrite` until the thaw, the seed's "kernel
    /// threads block on transaction allocation".
    pub(crate) freeze_no_stop: AtomicBool,
    _fs: core::marker::PhantomData<fn(&F)>,
}

/// A debug knob that holds one caller at a point of a race (a race
/// widener that is a gate, not a delay: a delay long enough on the debug
/// kernel was too short on a loaded machine or on KASAN). Written 1 it is
/// armed; the next caller of [`HoldGate::pass`] takes it (1 -> 2, counted
/// in `held`) and waits until it is written 0, at most [`HOLD_MAX_MS`];
/// every other caller goes by. A test waits for `held` to rise, does what
/// must happen inside the window, then opens the gate.
#[derive(Default)]
pub(crate) struct HoldGate {
    state: AtomicU32,
    held: AtomicU64,
}

/// Longest a [`HoldGate`] holds (a test that dies with a gate armed must
/// not hang statfs or a worker for good; under the hung-task timeout).
const HOLD_MAX_MS: u32 = 60_000;

impl HoldGate {
    /// Holds the caller if the gate is armed and nobody holds it yet.
    /// Sleeps.
    fn pass(&self) {
        if self.state.compare_exchange(1, 2, Relaxed, Relaxed).is_err() {
            return;
        }
        self.held.fetch_add(1, Relaxed);
        let mut waited = 0;
        while self.state.load(Relaxed) == 2 && waited < HOLD_MAX_MS {
            cpu::usleep(10_000);
            waited += 10;
        }
    }

    /// The knob's value: 0 open, 1 armed, 2 holding.
    fn knob(&self) -> u64 {
        self.state.load(Relaxed) as u64
    }

    /// Writes the knob: 1 arms, 0 opens (and releases a held caller).
    fn set_knob(&self, v: u64) -> Result {
        match v {
            0 | 1 => self.state.store(v as u32, Relaxed),
            _ => return Err(EINVAL),
        }
        Ok(())
    }
}

/// CPUs the per-CPU statistics cover (the test kernel has NR_CPUS=8).
pub(crate) const MAX_CPUS: usize = 64;

/// Debug knobs, by number (debugfs files, [`InodeGc`]'s `DebugfsSource`).
const KNOB_FAIL_NEXT_FREEZE: u32 = 0;
const KNOB_SLOW_WORKER_US: u32 = 1;
const KNOB_FAIL_INACTIVATE: u32 = 2;
const KNOB_PUSH_HOLD: u32 = 3;
const KNOB_FOLD_DELAY_US: u32 = 4;
const KNOB_IGET_DELAY_US: u32 = 5;
const KNOB_ARM_DELAY_MS: u32 = 6;
const KNOB_TAKE_HOLD: u32 = 7;
const KNOB_PROFILE: u32 = 8;
const KNOB_BATCH: u32 = 9;
const KNOB_FREEZE_NO_STOP: u32 = 10;

impl<F: Inactivate> InodeGc<F> {
    /// Queue depth at which a CPU's work runs immediately: one inode
    /// cluster of work, the unit XFS batches inactivation in.
    pub(crate) const QUEUE_DEPTH: u32 = F::CLUSTER_INODES;

    /// Per-CPU backlog beyond which producers wait for their CPU's worker
    /// (8 clusters; XFS: `XFS_INODEGC_MAX_BACKLOG`, 4 of its 64-inode
    /// chunks): a runaway queue means inactivation cannot keep up, and
    /// memory (every queued inode pins its in-memory inode) must not grow
    /// without bound.
    pub(crate) const MAX_BACKLOG: u32 = 8 * F::CLUSTER_INODES;

    /// Sets up the engine of a mount: its state, queues and workqueue.
    /// Starts enabled unless the mount is read-only. Nothing calls into it
    /// until something queues, or [`Self::register_with`].
    pub(crate) fn create(sb: &SuperBlock<F>, sync_mode: bool) -> Result<Pin<KBox<Self>>> {
        let state = GcState {
            dev: Dev(sb.dev()),
            index: GcIndex::new()?,
            nonempty: CpuMask::new()?,
            enabled: AtomicBool::new(!sb.rdonly()),
            draining: AtomicBool::new(false),
            busy: AtomicU32::new(0),
            fold_seq: AtomicU32::new(0),
            at_rest: AtomicBool::new(sb.rdonly()),
            shut_down: AtomicBool::new(false),
            torn_down: AtomicBool::new(false),
            sync_mode,
            cpu_runs: [const { AtomicU64::new(0) }; MAX_CPUS],
            stats: Stats::default(),
            fail_next_freeze: AtomicBool::new(false),
            slow_worker_us: AtomicU32::new(0),
            fail_inactivate: AtomicU32::new(0),
            push_hold: HoldGate::default(),
            fold_delay_us: AtomicU32::new(0),
            iget_delay_us: AtomicU32::new(0),
            arm_delay_ms: AtomicU32::new(0),
            take_hold: HoldGate::default(),
            profile: Profile::default(),
            batch: AtomicBool::new(true),
            freeze_no_stop: AtomicBool::new(false),
            _fs: core::marker::PhantomData,
        };
        // Bound, one work at a time per CPU, a rescuer (reclaim waits on
        // it: the throttle), parked over suspend.
        let wq = Workqueue::new_bound(c_str!("dinofs-inodegc"), sb.id(), 1, true, true)?;
        Deferred::new(state, wq)
    }

    /// Registers the engine's shrinker and CPU-dead callback (with
    /// `cpu_dead`, the filesystem module's CPU-hotplug state).
    pub(crate) fn register_with(
        &self,
        sb: &SuperBlock<F>,
        cpu_dead: &'static CpuDeadState<Self>,
    ) -> Result {
        let cfg = ShrinkerConfig {
            // It frees nothing itself: it makes the workers run.
            seeks: 0,
            // One inode cluster: scan once 64 are queued.
            batch: Self::QUEUE_DEPTH as i64,
            nonslab: true,
        };
        self.register(cpu_dead, c_str!("dinofs-inodegc"), sb.id(), cfg)
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
    ///
    /// On a read-only mount gc is stopped and nothing needs work; a remount
    /// read-write starts gc before its orphan recovery, while the VFS still
    /// has the superblock flagged read-only, so "read-only" here is the
    /// flag *and* a stopped engine.
    pub(crate) fn evict(&self, inode: &Inode<F>) {
        if inode.is_bad() || (inode.sb().rdonly() && !self.is_enabled()) {
            return;
        }
        let t = self.profile.start();
        let work = inode.nlink() == 0 || F::wants_trim(inode);
        let added = !work || self.index.add(inode.ino(), inode.id()).is_ok();
        self.profile.end(Phase::Evict as usize, t);
        if !added {
            // No memory for the index entry: not deferred, not
            // inactivated. An unlinked inode stays on the on-disk orphan
            // list for the next mount's recovery; preallocation past EOF
            // stays mapped until the next eviction trims it.
            if self.stats.not_indexed.fetch_add(1, Relaxed) == 0 {
                pr_warn!(
                    "inodegc: no memory to defer inode {}; left for orphan recovery (counted in not_indexed)\n",
                    inode.ino()
                );
            }
        }
    }

    /// `->destroy_inode`: queue the inode for inactivation, inactivate it
    /// now (`inodegc=sync`), or free it.
    pub(crate) fn destroy_inode(&self, inode: DeadInode<F>) {
        let i = inode.inode();
        if !self.index.contains(i.ino(), i.id()) {
            // Needs no disk work, or `iget` cancelled it already.
            return drop(inode);
        }
        let t = self.profile.start();
        self.destroy_indexed(inode);
        self.profile.end(Phase::Destroy as usize, t);
    }

    /// `destroy_inode` of an inode in the index.
    fn destroy_indexed(&self, inode: DeadInode<F>) {
        if self.is_shut_down() {
            return discard_one(self, inode);
        }
        if self.sync_mode && self.is_enabled() {
            // The same allocation context as the worker's: the final iput
            // may come from reclaim, which must not recurse into us. While
            // gc is stopped (frozen) even sync mode queues: nothing may be
            // written; `start` runs what queued.
            let _nofs = NofsScope::new();
            inactivate_one(self, inode);
            return;
        }
        self.queue(inode);
    }

    /// `iget` of `ino`, called once `iget_locked` returned a *new* inode:
    /// if the inode is waiting for inactivation, cancel that (the disk is
    /// consistent and the new in-memory inode takes over); if a worker is
    /// inactivating it, expedite and wait (XFS's EAGAIN loop).
    ///
    /// Called after `iget_locked`, never before: eviction enters an inode
    /// in the index before the inode leaves the inode hash, so by the time
    /// `iget_locked` misses in the hash, any evicted copy is in the index
    /// (see "iget against eviction" in `Documentation/inodegc.rst`). Never
    /// spins while gc is stopped: a stopped engine has no inactivation in
    /// progress (stop waits for its workers), only waiting inodes.
    pub(crate) fn claim_for_iget(&self, ino: u32) {
        let d = self.iget_delay_us.load(Relaxed);
        if d > 0 {
            // Race widener: an eviction of the old copy may run now.
            cpu::usleep(d);
        }
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
                    cpu::usleep(1000);
                }
            }
        }
    }

    /// XFS's `xfs_inodegc_want_queue_work`: whether a queue of `items`
    /// should run now rather than after the trickle delay: one cluster's
    /// worth of work is queued, or free space is low.
    fn want_queue_work(items: u32, space_low: bool) -> bool {
        items >= Self::QUEUE_DEPTH || space_low
    }

    /// XFS's `xfs_inodegc_want_flush_work`: whether the producer must wait
    /// for its CPU's worker (the throttle): the backlog is past
    /// [`Self::MAX_BACKLOG`] or the shrinker hit the queue — unless gc is
    /// stopped (nothing would run) or the producer is in a NOFS scope,
    /// where it may hold what the worker needs (upstream f2e812c1522d).
    fn want_flush_work(&self, items: u32, shrinker_hits: u32) -> bool {
        (items > Self::MAX_BACKLOG || shrinker_hits > 0)
            && self.is_enabled()
            && !NofsScope::current_is_nofs()
    }

    /// The producer. See the module documentation for the triggers.
    fn queue(&self, inode: DeadInode<F>) {
        let low = F::space_low(inode.inode().sb());
        let ino = inode.inode().ino();
        let (q, items) = {
            let cpu = PreemptGuard::new();
            let Some(q) = self.cpu_queue(cpu.cpu()) else {
                drop(cpu);
                return discard_one(self, inode);
            };
            q.push(inode);
            let items = q.data().items.fetch_add(1, Relaxed).saturating_add(1);
            if items == 1 && self.profile.on.load(Relaxed) {
                let now = Ktime::ktime_get().to_ns().max(1) as u64;
                q.data().first_queued_ns.store(now, Relaxed);
            }
            trace::inodegc_queue(self.dev, ino, cpu.cpu().as_u32(), items);
            self.nonempty.set(cpu.cpu());
            if self.is_enabled() {
                let delay = if Self::want_queue_work(items, low) {
                    0
                } else {
                    self.trickle_delay()
                };
                self.arm(q, delay);
            }
            (q, items)
        };
        self.stats.queued.fetch_add(1, Relaxed);
        // The throttle, with preemption enabled again.
        if self.want_flush_work(items, q.data().shrinker_hits.load(Relaxed)) {
            self.stats.throttles.fetch_add(1, Relaxed);
            trace::inodegc_throttle(self.dev, q.cpu().as_u32(), items);
            q.flush_work();
        }
    }

    /// Arms every non-empty queue's work to run now. Returns whether any
    /// queue had work. Best effort against a concurrent CPU-dead fold,
    /// which may hold a batch on no list; see [`Self::run_all`].
    fn queue_all(&self) -> bool {
        let mut any = false;
        for q in self.cpu_queues() {
            if !q.is_empty() {
                any = true;
                self.arm(q, 0);
            }
        }
        any
    }

    /// Waits until no CPU-dead fold is in progress; returns the fold
    /// sequence number (even).
    fn fold_quiet(&self) -> u32 {
        loop {
            let s = self.fold_seq.load(SeqCst);
            if s % 2 == 0 {
                return s;
            }
            // A fold runs with preemption disabled for a few list
            // operations: it is over within microseconds.
            cpu::usleep(10);
        }
    }

    /// Runs every queued inode and waits for the workers, exactly: an inode
    /// queued before the call is inactivated when it returns, even if a
    /// CPU-dead fold moved it meanwhile. With `until_empty`, repeats until a
    /// pass finds every queue empty (stop and unmount); otherwise one pass
    /// (plus one per overlapping fold) is enough (flush).
    fn run_all(&self, until_empty: bool) {
        loop {
            let s1 = self.fold_quiet();
            let any = self.queue_all();
            self.flush_workqueue();
            // A fold that started after `s1` may have taken a batch off a
            // queue this pass had not looked at yet and put it on one it
            // had already passed: look again.
            let folded = self.fold_seq.load(SeqCst) != s1;
            if folded || (until_empty && any) {
                continue;
            }
            return;
        }
    }

    /// Takes the first error a worker hit since the last call.
    fn take_error(&self) -> Result {
        let mut err = 0;
        for q in self.cpu_queues() {
            let e = q.data().error.swap(0, Relaxed);
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

    /// Expedites all queued work without waiting (`statfs`).
    pub(crate) fn push(&self) {
        if !self.is_enabled() {
            return;
        }
        self.stats.pushes.fetch_add(1, Relaxed);
        trace::inodegc_push(self.dev);
        // Race widener: "enabled" was sampled; `stop` may run now.
        self.push_hold.pass();
        self.queue_all();
    }

    /// Runs all queued work and waits for it; returns the first error a
    /// worker hit since the last flush or stop. While gc is stopped
    /// (frozen, read-only) there is nothing to run; errors are still
    /// returned.
    pub(crate) fn flush(&self) -> Result {
        if self.is_enabled() {
            self.stats.flushes.fetch_add(1, Relaxed);
            trace::inodegc_flush(self.dev);
            self.run_all(false);
        }
        self.take_error()
    }

    /// Drains with workers allowed to run although gc is not enabled, then
    /// waits until no worker that saw the drain is still running.
    fn drain(&self) {
        self.draining.store(true, SeqCst);
        self.run_all(true);
        self.draining.store(false, SeqCst);
        // A worker armed late (by a producer, `push` or the shrinker that
        // sampled "enabled" before it was cleared) may have passed its gate
        // while `draining` was set and still be inactivating: wait for it.
        // A worker that passes the gate from now on sees neither flag and
        // leaves its list alone. `busy` and the flags are SeqCst, so a
        // worker either is counted here or sees `draining == false`.
        while self.busy.load(SeqCst) != 0 {
            self.flush_workqueue();
        }
    }

    /// Stops the workers and drains every queue (freeze, remount ro);
    /// returns the first error the drain's workers (or earlier ones) hit.
    /// Caller holds `s_umount`.
    ///
    /// Drain, never cancel: producers that sampled "enabled" before it was
    /// cleared may still arm work; the drain loops until a pass finds
    /// nothing (upstream 6191cf3ad59f, 2254a7396a0c). When it returns,
    /// nothing is inactivated until [`Self::start`].
    pub(crate) fn stop(&self) -> Result {
        if !self.enabled.swap(false, SeqCst) {
            return Ok(());
        }
        self.stats.stops.fetch_add(1, Relaxed);
        trace::inodegc_stop(self.dev);
        self.drain();
        self.at_rest.store(true, SeqCst);
        self.take_error()
    }

    /// Unmount: the final drain, whatever the state of `enabled` (a failed
    /// freeze or remount may have left gc stopped in older versions; any
    /// way in which inodes sit queued with gc stopped ends here). Returns
    /// the first error. Afterwards gc stays stopped. Caller holds
    /// `s_umount`; the filesystem must still be whole (it writes).
    pub(crate) fn drain_for_unmount(&self) -> Result {
        self.enabled.store(false, SeqCst);
        if self.is_shut_down() {
            let _ = self.discard_all();
            return Ok(());
        }
        self.drain();
        self.at_rest.store(true, SeqCst);
        self.take_error()
    }

    /// Discards (frees without disk I/O) whatever is queued; returns how
    /// many. At the unmount of a read-only filesystem this can only be
    /// trims queued by reclaim during the remount to read-only, after gc
    /// stopped: dropping one is harmless, the blocks stay mapped past EOF
    /// on disk and the next `iget` marks them for trimming again.
    pub(crate) fn discard_all(&self) -> u64 {
        let mut total = 0u64;
        for q in self.cpu_queues() {
            let batch = q.take_all();
            let n = batch.remaining();
            for inode in batch {
                discard_one(self, inode);
            }
            sub_items(q, n);
            total += n as u64;
        }
        total
    }

    /// The filesystem is being shut down (`FS_IOC_SHUTDOWN`): from now on
    /// every dead inode, queued or not, is discarded — its memory freed,
    /// the disk untouched; an unlinked one stays on the on-disk orphan list
    /// and is inactivated by orphan recovery at the next mount. Then stops
    /// the workers, draining the queues (which discards them), and discards
    /// what is left queued. Caller holds `s_umount`.
    pub(crate) fn shut_down(&self) {
        self.shut_down.store(true, SeqCst);
        let _ = self.stop();
        // gc may have been stopped already (frozen, read-only): whatever
        // still waits on a queue is discarded now, not at unmount.
        let _ = self.discard_all();
    }

    /// [`Self::shut_down`] without the drain, for contexts that cannot
    /// wait or take `s_umount` (corruption found with `errors=remount-ro`,
    /// possibly by a worker): inodes are discarded from now on, workers
    /// that run discard theirs, and what stays queued is discarded by the
    /// unmount drain.
    pub(crate) fn shut_down_nowait(&self) {
        self.shut_down.store(true, SeqCst);
        self.enabled.store(false, SeqCst);
    }

    /// Whether [`Self::shut_down`] ran.
    pub(crate) fn is_shut_down(&self) -> bool {
        self.shut_down.load(SeqCst)
    }

    /// Lets the workers run again and kicks what queued while stopped.
    /// Never after a shutdown or teardown. Caller holds `s_umount`.
    pub(crate) fn start(&self) {
        if self.is_shut_down() || self.torn_down.load(SeqCst) {
            return;
        }
        if self.enabled.swap(true, SeqCst) {
            return;
        }
        self.at_rest.store(false, SeqCst);
        self.stats.starts.fetch_add(1, Relaxed);
        trace::inodegc_start(self.dev);
        self.queue_all();
    }

    /// Unregisters the callbacks, cancels every queue's delayed work
    /// (timers included) and waits for running workers, then discards
    /// anything still queued, which must not happen: the unmount drain ran
    /// first. Counted (`teardown_leftovers`) and logged, never inactivated:
    /// the filesystem is being torn down and must not be written. Runs at
    /// unmount (after [`Self::drain_for_unmount`]) and when a mount fails;
    /// idempotent.
    pub(crate) fn teardown(&self) {
        if self.torn_down.swap(true, SeqCst) {
            return;
        }
        self.enabled.store(false, SeqCst);
        // No shrinker scan or CPU-dead fold runs after this, and no queue
        // is armed by anyone: every possible CPU's queue, armed or not, is
        // closed and cancelled (a timer may be armed on a queue whose list
        // is empty: a worker that took the list before its work was
        // re-armed; destroy_workqueue does not wait for timers).
        self.close();
        let mut left = 0u64;
        for q in self.cpu_queues() {
            let batch = q.take_all();
            let n = batch.remaining();
            left += n as u64;
            for inode in batch {
                self.index.del(inode.inode().ino(), inode.inode().id());
                drop(inode);
            }
            sub_items(q, n);
        }
        if left > 0 {
            self.stats.teardown_leftovers.fetch_add(left, Relaxed);
            pr_err!(
                "inodegc: {} inode(s) still queued at teardown; discarded (the orphan list keeps unlinked ones)\n",
                left
            );
        }
    }

    /// The shrinker's count: queued inodes pin memory; report them while
    /// gc is enabled, so reclaim calls `scan`; 0 otherwise (XFS).
    pub(crate) fn shrinker_count(&self) -> u64 {
        self.stats.shrinker_counts.fetch_add(1, Relaxed);
        if !self.is_enabled() {
            return 0;
        }
        self.cpu_queues()
            .map(|q| q.data().items.load(Relaxed) as u64)
            .sum()
    }

    /// The shrinker's scan: memory is short; run every non-empty queue now
    /// and make its next producer throttle (seed 001: reclaim must stay
    /// throttled by a long queue, not dump work and declare OOM). Frees
    /// nothing itself: `SHRINK_STOP`; with nothing queued, "plenty freed"
    /// so reclaim stops scanning an idle engine (XFS returns `LONG_MAX`).
    pub(crate) fn shrinker_scan(&self) -> u64 {
        if !self.is_enabled() {
            return shrinker::SHRINK_STOP;
        }
        self.stats.shrinker_scans.fetch_add(1, Relaxed);
        trace::inodegc_shrinker_scan(self.dev, self.shrinker_count() as u32);
        let mut any = false;
        for q in self.cpu_queues() {
            if !q.is_empty() {
                any = true;
                q.data().shrinker_hits.fetch_add(1, Relaxed);
                self.arm(q, 0);
            }
        }
        if any {
            shrinker::SHRINK_STOP
        } else {
            SHRINK_IDLE
        }
    }

    /// Inodes queued now on `cpu`.
    pub(crate) fn queued_on(&self, cpu: CpuId) -> u32 {
        self.cpu_queue(cpu)
            .map_or(0, |q| q.data().items.load(Relaxed))
    }

    /// Whether `cpu`'s delayed-work timer is armed.
    pub(crate) fn armed_on(&self, cpu: CpuId) -> bool {
        self.cpu_queue(cpu).is_some_and(|q| q.armed())
    }

    /// Worker runs on `cpu` so far.
    pub(crate) fn runs_on(&self, cpu: CpuId) -> u64 {
        self.cpu_runs
            .get(cpu.as_usize())
            .map_or(0, |r| r.load(Relaxed))
    }

    /// Whether `cpu`'s queue is marked non-empty.
    pub(crate) fn marked_nonempty(&self, cpu: CpuId) -> bool {
        self.nonempty.test(cpu)
    }

    /// The delay a trickle arms the work with: one jiffy, as XFS
    /// (`arm_delay_ms` overrides it for tests).
    fn trickle_delay(&self) -> u64 {
        match self.arm_delay_ms.load(Relaxed) {
            0 => 1,
            ms => kernel::time::msecs_to_jiffies(ms) as u64,
        }
    }

    /// Debug knob `batch`: whether batching is on (the default). The
    /// filesystem may consult it for its own batched paths, so that one
    /// switch compares batched and one-at-a-time metadata work in one run.
    pub(crate) fn batching(&self) -> bool {
        self.batch.load(Relaxed)
    }

    /// Starts timing a phase of the filesystem's (see [`Inactivate::PHASES`]);
    /// a no-op unless profiling is on.
    pub(crate) fn profile_start(&self) -> ProfileStart {
        self.profile.start()
    }

    /// Ends a phase started with [`Self::profile_start`].
    pub(crate) fn profile_end(&self, phase: FsPhase, start: ProfileStart) {
        self.profile_end_n(phase, start, 1)
    }

    /// Ends a phase that did the work of `n` (a batch of `n` inodes).
    pub(crate) fn profile_end_n(&self, phase: FsPhase, start: ProfileStart, n: u64) {
        if phase.0 < FS_PHASES {
            self.profile.end_n(ENGINE_PHASES + phase.0, start, n);
        }
    }

    /// Reads debug knob `knob` (debugfs).
    pub(crate) fn knob(&self, knob: u32) -> u64 {
        match knob {
            KNOB_FAIL_NEXT_FREEZE => self.fail_next_freeze.load(Relaxed) as u64,
            KNOB_SLOW_WORKER_US => self.slow_worker_us.load(Relaxed) as u64,
            KNOB_FAIL_INACTIVATE => self.fail_inactivate.load(Relaxed) as u64,
            KNOB_PUSH_HOLD => self.push_hold.knob(),
            KNOB_FOLD_DELAY_US => self.fold_delay_us.load(Relaxed) as u64,
            KNOB_IGET_DELAY_US => self.iget_delay_us.load(Relaxed) as u64,
            KNOB_ARM_DELAY_MS => self.arm_delay_ms.load(Relaxed) as u64,
            KNOB_TAKE_HOLD => self.take_hold.knob(),
            KNOB_PROFILE => self.profile.on.load(Relaxed) as u64,
            KNOB_BATCH => self.batch.load(Relaxed) as u64,
            KNOB_FREEZE_NO_STOP => self.freeze_no_stop.load(Relaxed) as u64,
            _ => 0,
        }
    }

    /// Sets debug knob `knob` (debugfs).
    pub(crate) fn set_knob(&self, knob: u32, value: u64) -> Result {
        let v32 = u32::try_from(value).map_err(|_| EINVAL)?;
        match knob {
            KNOB_FAIL_NEXT_FREEZE if value <= 1 => self.fail_next_freeze.store(value == 1, Relaxed),
            KNOB_SLOW_WORKER_US if v32 <= 5_000_000 => self.slow_worker_us.store(v32, Relaxed),
            KNOB_FAIL_INACTIVATE => self.fail_inactivate.store(v32, Relaxed),
            KNOB_PUSH_HOLD => return self.push_hold.set_knob(value),
            // Spun with preemption disabled: keep it short.
            KNOB_FOLD_DELAY_US if v32 <= 10_000 => self.fold_delay_us.store(v32, Relaxed),
            KNOB_IGET_DELAY_US if v32 <= 1_000_000 => self.iget_delay_us.store(v32, Relaxed),
            KNOB_ARM_DELAY_MS if v32 <= 60_000 => self.arm_delay_ms.store(v32, Relaxed),
            KNOB_TAKE_HOLD => return self.take_hold.set_knob(value),
            KNOB_PROFILE if value <= 1 => self.profile.set(value == 1),
            KNOB_BATCH if value <= 1 => self.batch.store(value == 1, Relaxed),
            KNOB_FREEZE_NO_STOP if value <= 1 => self.freeze_no_stop.store(value == 1, Relaxed),
            _ => return Err(EINVAL),
        }
        Ok(())
    }
}

/// Lowers a queue's item count by `n` taken items (never below zero).
fn sub_items<F: Inactivate>(q: &GcQueue<F>, n: u32) {
    let _ = q
        .data()
        .items
        .fetch_update(Relaxed, Relaxed, |v| Some(v.saturating_sub(n)));
}

/// Frees a dead inode without touching the disk (after a shutdown).
fn discard_one<F: Inactivate>(gc: &InodeGc<F>, inode: DeadInode<F>) {
    gc.index.del(inode.inode().ino(), inode.inode().id());
    gc.stats.discarded.fetch_add(1, Relaxed);
    drop(inode);
}

/// Claims a dead inode for inactivation: `None` if it was discarded (after
/// a shutdown) or freed (`iget` cancelled it); otherwise it is
/// `INACTIVATING` in the index until [`finish_one`].
fn begin_one<F: Inactivate>(gc: &InodeGc<F>, inode: DeadInode<F>) -> Option<DeadInode<F>> {
    if gc.is_shut_down() {
        discard_one(gc, inode);
        return None;
    }
    let i = inode.inode();
    if !gc.index.begin(i.ino(), i.id()) {
        // iget cancelled it (and removed it from the index): a live inode
        // owns the disk state now.
        drop(inode);
        return None;
    }
    if gc.at_rest.load(SeqCst) {
        // Must never happen (the worker's gate and `stop`'s wait for busy
        // workers exclude it); the tests assert this stays 0.
        gc.stats.worker_runs_while_stopped.fetch_add(1, Relaxed);
    }
    trace::inode_inactivating(gc.dev, i.ino(), CpuId::current().as_u32());
    Some(inode)
}

/// Whether the debug knob `fail_inactivate` makes this inactivation fail.
fn injected_failure<F: Inactivate>(gc: &InodeGc<F>) -> bool {
    gc.fail_inactivate
        .fetch_update(Relaxed, Relaxed, |v| v.checked_sub(1))
        .is_ok()
}

/// Inactivates (or trims) one claimed inode on its own; fault injection
/// fails it before it touches the disk, as an I/O error on the first read
/// would.
fn inactivate_single<F: Inactivate>(gc: &InodeGc<F>, i: &Inode<F>) -> Result {
    let t = gc.profile.start();
    let r = if injected_failure(gc) {
        Err(EIO)
    } else if i.nlink() == 0 {
        F::inactivate(i)
    } else {
        gc.stats.trims.fetch_add(1, Relaxed);
        F::trim(i)
    };
    gc.profile.end(Phase::Inactivate as usize, t);
    r
}

/// Ends a claimed inode's inactivation with its result `r`: out of the
/// index, counted, an error reported (and the inode left recoverable),
/// the memory freed. Returns the errno (0: none).
fn finish_one<F: Inactivate>(gc: &InodeGc<F>, inode: DeadInode<F>, r: Result) -> i32 {
    let t = gc.profile.start();
    let i = inode.inode();
    gc.index.del(i.ino(), i.id());
    gc.stats.inactivated.fetch_add(1, Relaxed);
    let errno = match r {
        Ok(()) => 0,
        // A shutdown racing with this inactivation: its I/O failed with EIO
        // by design; the orphan list has the inode.
        Err(e) if gc.is_shut_down() => e.to_errno(),
        Err(e) => {
            gc.stats.errors.fetch_add(1, Relaxed);
            if i.nlink() == 0 {
                F::inactivate_failed(i);
            }
            pr_err!(
                "{}: inactivating inode {} failed ({:?}); it stays on the orphan list\n",
                i.sb().id(),
                i.ino(),
                e
            );
            e.to_errno()
        }
    };
    drop(inode);
    gc.profile.end(Phase::Free as usize, t);
    errno
}

/// Inactivates one dead inode and frees it (or, after a shutdown, only
/// frees it): `inodegc=sync`, and a worker that has no memory for a batch.
fn inactivate_one<F: Inactivate>(gc: &InodeGc<F>, inode: DeadInode<F>) -> i32 {
    let Some(inode) = begin_one(gc, inode) else {
        return 0;
    };
    let r = inactivate_single(gc, inode.inode());
    finish_one(gc, inode, r)
}

impl<F: Inactivate> DeferredOwner for GcState<F> {
    type Item = DeadInode<F>;
    type PerCpuData = GcQueueData;

    fn run_queue(gc: &InodeGc<F>, q: &GcQueue<F>) {
        gc.worker(q)
    }

    fn cpu_dead(gc: &InodeGc<F>, cpu: CpuId) {
        gc.fold(cpu)
    }

    fn count_objects(gc: &InodeGc<F>) -> u64 {
        gc.shrinker_count()
    }

    fn scan_objects(gc: &InodeGc<F>, _nr_to_scan: u64) -> u64 {
        gc.shrinker_scan()
    }
}

impl<F: Inactivate> InodeGc<F> {
    /// The worker: drains one CPU's queue, on that CPU.
    fn worker(&self, q: &GcQueue<F>) {
        // The gate: count ourselves busy first, then look at the flags (both
        // SeqCst; `InodeGc::drain` relies on this order). A worker armed
        // late (after `stop` returned) finds gc neither enabled nor
        // draining and leaves its list for `start` or the unmount drain:
        // nothing is written while frozen or read-only.
        self.busy.fetch_add(1, SeqCst);
        if !self.is_enabled() && !self.draining.load(SeqCst) {
            self.stats.worker_skips_while_stopped.fetch_add(1, Relaxed);
            self.busy.fetch_sub(1, SeqCst);
            return;
        }
        let cpu = CpuId::current();
        // Locality: while the queue's CPU is active, bound work runs on it.
        // (A CPU going offline is deactivated before its pool is unbound.)
        if cpu != q.cpu() && q.cpu().is_active() {
            self.stats.off_cpu_runs.fetch_add(1, Relaxed);
            pr_warn!("inodegc worker for CPU {} ran on CPU {}\n", q.cpu(), cpu);
        }
        self.stats.worker_runs.fetch_add(1, Relaxed);
        if let Some(r) = self.cpu_runs.get(q.cpu().as_usize()) {
            r.fetch_add(1, Relaxed);
        }
        // Race widener: an inode queued now re-arms the timer.
        self.take_hold.pass();
        self.nonempty.clear(q.cpu());
        q.data().shrinker_hits.store(0, Relaxed);
        // Take the list first, then lower the count by exactly what was
        // taken: an inode queued in between is counted and on the list.
        let first = q.data().first_queued_ns.swap(0, Relaxed);
        if first != 0 {
            let queued = ProfileStart(Some(Ktime::from_raw(first as i64)));
            self.profile.end(Phase::Wake as usize, queued);
        }
        let run = self.profile.start();
        let batch = q.take_all();
        let items = batch.remaining();
        sub_items(q, items);
        trace::inodegc_worker(self.dev, q.cpu().as_u32(), items);
        // Inactivation runs on behalf of reclaim: no allocation in it may
        // recurse into filesystem reclaim.
        let nofs = NofsScope::new();
        let record = |e: i32| {
            if e != 0 {
                let _ = q.data().error.compare_exchange(0, e, Relaxed, Relaxed);
            }
        };
        // The unlinked inodes of the list, claimed, for one batch
        // (`Inactivate::inactivate_batch`); without memory for it, one at
        // a time.
        let mut unlinked = KVec::new();
        let mut results = KVec::new();
        let batched = self.batch.load(Relaxed)
            && unlinked.reserve(items as usize, GFP_KERNEL).is_ok()
            && results.reserve(items as usize, GFP_KERNEL).is_ok();
        for inode in batch {
            let slow = self.slow_worker_us.load(Relaxed);
            if slow > 0 {
                cpu::usleep(slow);
            }
            let Some(inode) = begin_one(self, inode) else {
                continue;
            };
            let i = inode.inode();
            if !batched || i.nlink() != 0 || injected_failure(self) {
                let r = if i.nlink() == 0 && batched {
                    // `injected_failure` said so.
                    Err(EIO)
                } else {
                    inactivate_single(self, i)
                };
                record(finish_one(self, inode, r));
                continue;
            }
            // Reserved above for every item of the list: cannot fail.
            if let Err(e) = unlinked.push(inode, GFP_KERNEL) {
                pr_err!("inodegc: batch push failed ({:?})\n", e);
            }
        }
        if !unlinked.is_empty() {
            sort::sort_by_key(&mut unlinked, |d| d.inode().ino());
            for _ in 0..unlinked.len() {
                // Reserved: cannot fail.
                let _ = results.push(Ok(()), GFP_KERNEL);
            }
            let t = self.profile.start();
            F::inactivate_batch(&unlinked, &mut results);
            self.profile
                .end_n(Phase::Inactivate as usize, t, unlinked.len() as u64);
            for (inode, r) in unlinked.into_iter().zip(results.iter()) {
                record(finish_one(self, inode, *r));
            }
        }
        drop(nofs);
        self.profile.end(Phase::Worker as usize, run);
        self.busy.fetch_sub(1, SeqCst);
    }
}

impl<F: Inactivate> InodeGc<F> {
    /// The CPU-dead fold: move a dead CPU's queue to this CPU and kick it.
    ///
    /// The batch is in hand (on no list) only between `take_all` and
    /// `push_batch`, with preemption disabled, and `fold_seq` is odd for
    /// exactly that span: a flush, stop or unmount drain that overlaps it
    /// waits for it to end and scans again ([`InodeGc::run_all`]), so no
    /// queued inode is ever invisible to them. The dead CPU's armed timer
    /// is cancelled: its list is empty now.
    fn fold(&self, dead: CpuId) {
        let Some(dq) = self.cpu_queue(dead) else {
            return;
        };
        // Runs in the hotplug thread; at most one callback per engine at a
        // time (the hotplug lock), so the sequence stays odd/even.
        self.fold_seq.fetch_add(1, SeqCst);
        let cpu = PreemptGuard::new();
        let batch = dq.take_all();
        let n = batch.remaining();
        sub_items(dq, n);
        self.nonempty.clear(dead);
        let d = self.fold_delay_us.load(Relaxed);
        if d > 0 && n > 0 {
            // Race widener: the batch is on no list now.
            cpu::udelay(d);
        }
        let moved = match self.cpu_queue(cpu.cpu()) {
            Some(q) if n > 0 => {
                let mut m = 0;
                for inode in batch {
                    q.push(inode);
                    m += 1;
                }
                q.data().items.fetch_add(m, Relaxed);
                self.nonempty.set(cpu.cpu());
                if self.is_enabled() {
                    self.arm(q, 0);
                }
                m
            }
            // Nothing to move (or no queue for this CPU, impossible): an
            // empty batch drops as a no-op.
            _ => {
                drop(batch);
                0
            }
        };
        trace::inodegc_cpu_dead(self.dev, dead.as_u32(), cpu.cpu().as_u32(), moved);
        drop(cpu);
        self.fold_seq.fetch_add(1, SeqCst);
        dq.cancel();
        if moved > 0 {
            self.stats.folds.fetch_add(1, Relaxed);
            self.stats.folded_items.fetch_add(moved as u64, Relaxed);
        }
    }
}

/// The per-mount debugfs directory: `inodegc` (the statistics) and the
/// debug knobs.
impl<F: Inactivate> DebugfsSource for InodeGc<F> {
    const SHOW_NAME: &'static CStr = c_str!("inodegc");
    const KNOBS: &'static [Knob] = &[
        knob(c_str!("fail_next_freeze"), KNOB_FAIL_NEXT_FREEZE),
        knob(c_str!("slow_worker_us"), KNOB_SLOW_WORKER_US),
        knob(c_str!("fail_inactivate"), KNOB_FAIL_INACTIVATE),
        knob(c_str!("push_hold"), KNOB_PUSH_HOLD),
        knob(c_str!("fold_delay_us"), KNOB_FOLD_DELAY_US),
        knob(c_str!("iget_delay_us"), KNOB_IGET_DELAY_US),
        knob(c_str!("arm_delay_ms"), KNOB_ARM_DELAY_MS),
        knob(c_str!("take_hold"), KNOB_TAKE_HOLD),
        knob(c_str!("profile"), KNOB_PROFILE),
        knob(c_str!("batch"), KNOB_BATCH),
        knob(c_str!("freeze_no_stop"), KNOB_FREEZE_NO_STOP),
    ];

    fn show(&self, out: &mut SeqWriter) {
        show_stats(self, out);
    }

    fn knob_get(&self, id: u32) -> u64 {
        self.knob(id)
    }

    fn knob_set(&self, id: u32, value: u64) -> Result {
        self.set_knob(id, value)
    }
}

const fn knob(name: &'static CStr, id: u32) -> Knob {
    Knob { name, id }
}

/// Writes the engine's statistics (debugfs `inodegc`), one `name value` per
/// line, then one line per possible CPU.
fn show_stats<F: Inactivate>(gc: &InodeGc<F>, w: &mut impl core::fmt::Write) {
    let s = &gc.stats;
    let rows: [(&str, &AtomicU64); 24] = [
        ("queued", &s.queued),
        ("inactivated", &s.inactivated),
        ("worker_runs", &s.worker_runs),
        ("throttles", &s.throttles),
        ("folds", &s.folds),
        ("folded_items", &s.folded_items),
        ("pushes", &s.pushes),
        ("pushes_held", &gc.push_hold.held),
        ("takes_held", &gc.take_hold.held),
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
        ("worker_skips_while_stopped", &s.worker_skips_while_stopped),
        ("errors", &s.errors),
        ("discarded", &s.discarded),
        ("teardown_leftovers", &s.teardown_leftovers),
        ("not_indexed", &s.not_indexed),
    ];
    let _ = writeln!(w, "enabled {}", gc.is_enabled() as u32);
    let _ = writeln!(w, "shut_down {}", gc.is_shut_down() as u32);
    let _ = writeln!(w, "mode {}", if gc.sync_mode { "sync" } else { "deferred" });
    for (name, v) in rows {
        let _ = writeln!(w, "{} {}", name, v.load(Relaxed));
    }
    let mut total = 0u64;
    for cpu in CpuId::possible() {
        total += gc.queued_on(cpu) as u64;
        let _ = writeln!(
            w,
            "cpu{} queued {} runs {} nonempty {} armed {}",
            cpu,
            gc.queued_on(cpu),
            gc.runs_on(cpu),
            gc.marked_nonempty(cpu) as u32,
            gc.armed_on(cpu) as u32
        );
    }
    let _ = writeln!(w, "queued_now {}", total);
    // `profile <phase> <count> <total ns> <mean ns>`, engine phases first.
    let names = Iterator::chain(PHASE_NAMES.iter(), F::PHASES.iter().take(FS_PHASES));
    for (slot, name) in names.enumerate() {
        let (Some(ns), Some(n)) = (gc.profile.ns.get(slot), gc.profile.count.get(slot)) else {
            break;
        };
        let (ns, n) = (ns.load(Relaxed), n.load(Relaxed));
        let _ = writeln!(
            w,
            "profile {} {} {} {}",
            name,
            n,
            ns,
            ns.checked_div(n).unwrap_or(0)
        );
    }
}
