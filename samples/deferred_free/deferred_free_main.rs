// SPDX-License-Identifier: GPL-2.0

//! `deferred_free`: the pattern of dinofs's inode garbage collector (XFS's
//! inodegc), bare, on the generic abstractions of `rust/kernel_ext/`.
//!
//! Objects are freed late, in batches, on the CPU that let them go:
//!
//! - every CPU has a lock-less list (`llist`) of objects and a delayed work
//!   item on a bound workqueue that drains it on that CPU (`CpuQueues`);
//! - [`Engine::release`] puts an object on its CPU's list with preemption
//!   disabled and arms that CPU's work: [`DELAY`] after the first object
//!   (work trickles in), at once when [`DEPTH`] wait (a batch is ready);
//! - the throttle: a producer whose CPU has more than [`MAX_BACKLOG`]
//!   waiting runs that CPU's work and waits for it;
//! - [`Engine::flush`]: arm every CPU's work now and wait, until every
//!   list is empty;
//! - the CPU-dead fold ([`Engine::cpu_dead`]): the list of a CPU that died
//!   moves to the CPU running the callback and is kicked there, so nothing
//!   waits for a CPU that may never come back.
//!
//! Loading the module starts one producer per CPU — itself deferred work:
//! a job on a second set of per-CPU queues that makes [`BURST`] objects on
//! its CPU and re-arms itself every jiffy. Unloading stops the producers,
//! flushes, and prints the counts (a test asserts them):
//!
//! ```text
//! deferred_free: produced 20480 freed 20480 folds 3 throttles 0 live 0
//! ```

use core::sync::atomic::{AtomicBool, AtomicI64, AtomicU32, AtomicU64, Ordering::Relaxed};
use kernel::c_str;
use kernel::prelude::*;

mod bindings;
// Only part of the abstractions is used here.
#[allow(dead_code)]
#[path = "../../rust/kernel_ext/mod.rs"]
mod kernel_ext;

use kernel_ext::cpu::{CpuId, PreemptGuard};
use kernel_ext::hotplug::{CpuDead, CpuDeadSetup, CpuDeadState, CpuHpNode};
use kernel_ext::llist::Boxed;
use kernel_ext::workqueue::{CpuQueue, CpuQueues, QueueOwner, Workqueue};

module! {
    type: DeferredFree,
    name: "deferred_free",
    author: "The dinofs developers",
    description: "Sample: per-CPU deferred freeing (llist queues, bound workqueue, CPU-dead fold)",
    license: "GPL",
}

/// Objects waiting on a CPU at which its work runs at once (a batch).
const DEPTH: u32 = 32;
/// Objects waiting on a CPU beyond which its producer waits for the work.
const MAX_BACKLOG: u32 = 256;
/// Jiffies from a CPU's first waiting object to its work.
const DELAY: u64 = 10;
/// Objects a producer job makes per run.
const BURST: u64 = 8;

/// An object to free late.
type Obj = KBox<Boxed<u64>>;

/// Objects waiting on one CPU (kept next to its queue).
#[derive(Default)]
struct Waiting(AtomicU32);

impl Waiting {
    fn sub(&self, n: u32) {
        let _ = self
            .0
            .fetch_update(Relaxed, Relaxed, |v| Some(v.saturating_sub(n)));
    }
}

/// The deferred-freeing engine. `#[repr(C)]` with the hotplug node first:
/// the CPU-dead callback finds the engine from its node.
#[repr(C)]
struct Engine {
    cpuhp: CpuHpNode<Engine>,
    queues: Option<CpuQueues<Engine>>,
    wq: Option<Workqueue>,
    produced: AtomicU64,
    freed: AtomicU64,
    folds: AtomicU64,
    throttles: AtomicU64,
    live: AtomicI64,
}

impl Engine {
    /// Lets `obj` go: queues it on this CPU and arms this CPU's work.
    fn release(&self, obj: Obj) {
        let (Some(queues), Some(wq)) = (&self.queues, &self.wq) else {
            return self.free(obj);
        };
        let cpu = PreemptGuard::new();
        let Some(q) = queues.get(cpu.cpu()) else {
            return self.free(obj);
        };
        q.push(obj);
        let waiting = q.data().0.fetch_add(1, Relaxed).saturating_add(1);
        if waiting >= DEPTH {
            wq.queue_on(q, 0);
        } else if waiting == 1 {
            wq.queue_on(q, DELAY);
        }
        drop(cpu);
        if waiting > MAX_BACKLOG {
            self.throttles.fetch_add(1, Relaxed);
            q.flush_work();
        }
    }

    fn free(&self, obj: Obj) {
        drop(obj);
        self.freed.fetch_add(1, Relaxed);
        self.live.fetch_sub(1, Relaxed);
    }

    /// Runs every CPU's work now and waits, until every list is empty.
    /// (No fold may run meanwhile: the caller unregistered the node.)
    fn flush(&self) {
        let (Some(queues), Some(wq)) = (&self.queues, &self.wq) else {
            return;
        };
        loop {
            let mut any = false;
            for q in queues.iter().filter(|q| !q.is_empty()) {
                any = true;
                wq.queue_on(q, 0);
            }
            if !any {
                return;
            }
            wq.flush();
        }
    }
}

impl QueueOwner for Engine {
    type Item = Obj;
    type PerCpuData = Waiting;

    /// The work: frees the whole batch, on the queue's CPU.
    fn run_queue(&self, q: &CpuQueue<Self>) {
        let batch = q.take_all();
        q.data().sub(batch.remaining());
        for obj in batch {
            self.free(obj);
        }
    }
}

impl CpuDead for Engine {
    /// The fold: moves a dead CPU's list to this CPU and kicks it here.
    fn cpu_dead(&self, dead: CpuId) {
        let (Some(queues), Some(wq)) = (&self.queues, &self.wq) else {
            return;
        };
        let Some(dq) = queues.get(dead) else {
            return;
        };
        let cpu = PreemptGuard::new();
        let batch = dq.take_all();
        let n = batch.remaining();
        dq.data().sub(n);
        if let (Some(q), true) = (queues.get(cpu.cpu()), n > 0) {
            for obj in batch {
                q.push(obj);
            }
            q.data().0.fetch_add(n, Relaxed);
            wq.queue_on(q, 0);
            self.folds.fetch_add(1, Relaxed);
        }
        drop(cpu);
        // Its list is empty now; its timer must not fire for nothing.
        dq.cancel();
    }
}

/// The engine and the producers that feed it.
struct Sample {
    engine: Engine,
    jobs: Option<CpuQueues<Sample>>,
    jobs_wq: Option<Workqueue>,
    stopping: AtomicBool,
}

impl QueueOwner for Sample {
    type Item = KBox<Boxed<()>>;
    type PerCpuData = ();

    /// A producer job: [`BURST`] objects on this CPU, then again next jiffy.
    fn run_queue(&self, q: &CpuQueue<Self>) {
        for job in q.take_all() {
            if self.stopping.load(Relaxed) {
                continue;
            }
            for _ in 0..BURST {
                let n = self.engine.produced.fetch_add(1, Relaxed);
                match Boxed::new(n, GFP_KERNEL) {
                    Ok(obj) => {
                        self.engine.live.fetch_add(1, Relaxed);
                        self.engine.release(obj);
                    }
                    Err(_) => {
                        self.engine.produced.fetch_sub(1, Relaxed);
                        break;
                    }
                }
            }
            q.push(job);
            if let Some(wq) = &self.jobs_wq {
                wq.queue_on(q, 1);
            }
        }
    }
}

/// The CPU-dead state of every engine of this module.
static CPU_DEAD: CpuDeadState<Engine> = CpuDeadState::new();

struct DeferredFree {
    sample: KBox<Sample>,
    _cpu_dead: CpuDeadSetup<Engine>,
}

impl kernel::Module for DeferredFree {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        let cpu_dead = CPU_DEAD.setup(c_str!("samples/deferred_free:dead"))?;
        let mut s = KBox::new(
            Sample {
                engine: Engine {
                    cpuhp: CpuHpNode::new(),
                    queues: None,
                    wq: None,
                    produced: AtomicU64::new(0),
                    freed: AtomicU64::new(0),
                    folds: AtomicU64::new(0),
                    throttles: AtomicU64::new(0),
                    live: AtomicI64::new(0),
                },
                jobs: None,
                jobs_wq: None,
                stopping: AtomicBool::new(false),
            },
            GFP_KERNEL,
        )?;
        let p = c_str!("deferred_free");
        // SAFETY: the sample is boxed, so the engine and the sample keep
        // their addresses; `Drop` cancels every queue's work before the
        // box is freed (and dropping the queues cancels it again).
        s.engine.queues = Some(unsafe { CpuQueues::new(&s.engine)? });
        s.engine.wq = Some(Workqueue::new_bound(p, c_str!("free"), 1, true, false)?);
        // SAFETY: as above.
        s.jobs = Some(unsafe { CpuQueues::new(&*s)? });
        s.jobs_wq = Some(Workqueue::new_bound(p, c_str!("produce"), 1, false, false)?);
        // SAFETY: the node is the first field of the `#[repr(C)]` engine,
        // which is boxed and unregisters it in `Drop` before the box goes.
        unsafe { s.engine.cpuhp.register(&CPU_DEAD)? };
        let this = Self {
            sample: s,
            _cpu_dead: cpu_dead,
        };
        let s = &this.sample;
        if let (Some(jobs), Some(wq)) = (&s.jobs, &s.jobs_wq) {
            for q in jobs.iter() {
                q.push(Boxed::new((), GFP_KERNEL)?);
                wq.queue_on(q, 0);
            }
        }
        pr_info!("producing on every CPU until unloaded\n");
        Ok(this)
    }
}

impl Drop for DeferredFree {
    fn drop(&mut self) {
        let s = &self.sample;
        // Producers first: none runs or is armed after this.
        s.stopping.store(true, Relaxed);
        for q in s.jobs.iter().flat_map(|j| j.iter()) {
            q.cancel_sync();
        }
        // No fold after this; then free everything still waiting.
        s.engine.cpuhp.unregister();
        s.engine.flush();
        let e = &s.engine;
        pr_info!(
            "produced {} freed {} folds {} throttles {} live {}\n",
            e.produced.load(Relaxed),
            e.freed.load(Relaxed),
            e.folds.load(Relaxed),
            e.throttles.load(Relaxed),
            e.live.load(Relaxed)
        );
    }
}
