// SPDX-License-Identifier: GPL-2.0

//! `deferred_free`: the pattern of dinofs's inode garbage collector (XFS's
//! inodegc), bare, on the generic abstractions of `rust/kernel_ext/`.
//!
//! Objects are freed late, in batches, on the CPU that let them go:
//!
//! - every CPU has a lock-less list (`llist`) of objects and a delayed work
//!   item on a bound workqueue that drains it on that CPU; `Deferred` owns
//!   them with the state, the shrinker and the CPU-dead node, pinned, so
//!   this module has no `unsafe` of its own;
//! - [`Engine::release`] puts an object on its CPU's list with preemption
//!   disabled and arms that CPU's work: [`DELAY`] after the first object
//!   (work trickles in), at once when [`DEPTH`] wait (a batch is ready);
//! - the throttle: a producer whose CPU has more than [`MAX_BACKLOG`]
//!   waiting runs that CPU's work and waits for it;
//! - [`Engine::flush`]: arm every CPU's work now and wait, until every
//!   list is empty;
//! - the CPU-dead fold ([`Freer::cpu_dead`]): the list of a CPU that died
//!   moves to the CPU running the callback and is kicked there, so nothing
//!   waits for a CPU that may never come back;
//! - the shrinker: under memory pressure, every waiting object is freed
//!   now (its count is what waits).
//!
//! Loading the module starts one producer per CPU — itself deferred work:
//! a job on a second set of per-CPU queues that makes [`BURST`] objects on
//! its CPU and re-arms itself every jiffy. Unloading stops the producers,
//! flushes, and prints the counts (a test asserts them):
//!
//! ```text
//! deferred_free: produced 20480 freed 20480 folds 3 throttles 0 live 0
//! ```

// No `unsafe` here: only the abstractions below (and `module!`) have it.
#![deny(unsafe_code)]

use core::sync::atomic::{AtomicBool, AtomicI64, AtomicU32, AtomicU64, Ordering::Relaxed};
use kernel::c_str;
use kernel::prelude::*;

#[allow(unsafe_code)]
mod bindings;
// Only part of the abstractions is used here.
#[allow(dead_code, unsafe_code)]
#[path = "../../rust/kernel_ext/mod.rs"]
mod kernel_ext;

use kernel_ext::cpu::{CpuId, PreemptGuard};
use kernel_ext::deferred::{Deferred, DeferredOwner};
use kernel_ext::hotplug::{CpuDeadSetup, CpuDeadState};
use kernel_ext::llist::Boxed;
use kernel_ext::shrinker::{ShrinkerConfig, SHRINK_STOP};
use kernel_ext::workqueue::{CpuQueue, Workqueue};

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

/// The deferred-freeing engine's counters; the engine is `Deferred<Freer>`.
#[derive(Default)]
struct Freer {
    produced: AtomicU64,
    freed: AtomicU64,
    folds: AtomicU64,
    throttles: AtomicU64,
    live: AtomicI64,
}

type Engine = Deferred<Freer>;

impl Engine {
    /// Lets `obj` go: queues it on this CPU and arms this CPU's work.
    fn release(&self, obj: Obj) {
        let cpu = PreemptGuard::new();
        let Some(q) = self.cpu_queue(cpu.cpu()) else {
            return self.free(obj);
        };
        q.push(obj);
        let waiting = q.data().0.fetch_add(1, Relaxed).saturating_add(1);
        if waiting >= DEPTH {
            self.arm(q, 0);
        } else if waiting == 1 {
            self.arm(q, DELAY);
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

    /// Arms every CPU that has objects waiting to run now; whether any had.
    fn kick_all(&self) -> bool {
        let mut any = false;
        for q in self.cpu_queues().filter(|q| !q.is_empty()) {
            any = true;
            self.arm(q, 0);
        }
        any
    }

    /// Runs every CPU's work now and waits, until every list is empty.
    /// (No fold may run meanwhile: the caller unregistered the node.)
    fn flush(&self) {
        while self.kick_all() {
            self.flush_workqueue();
        }
    }
}

impl DeferredOwner for Freer {
    type Item = Obj;
    type PerCpuData = Waiting;

    /// The work: frees the whole batch, on the queue's CPU.
    fn run_queue(e: &Engine, q: &CpuQueue<Engine>) {
        let batch = q.take_all();
        q.data().sub(batch.remaining());
        for obj in batch {
            e.free(obj);
        }
    }

    /// The fold: moves a dead CPU's list to this CPU and kicks it here.
    fn cpu_dead(e: &Engine, dead: CpuId) {
        let Some(dq) = e.cpu_queue(dead) else {
            return;
        };
        let cpu = PreemptGuard::new();
        let batch = dq.take_all();
        let n = batch.remaining();
        dq.data().sub(n);
        if let (Some(q), true) = (e.cpu_queue(cpu.cpu()), n > 0) {
            for obj in batch {
                q.push(obj);
            }
            q.data().0.fetch_add(n, Relaxed);
            e.arm(q, 0);
            e.folds.fetch_add(1, Relaxed);
        }
        drop(cpu);
        // Its list is empty now; its timer must not fire for nothing.
        dq.cancel();
    }

    /// Waiting objects hold memory.
    fn count_objects(e: &Engine) -> u64 {
        e.cpu_queues()
            .map(|q| q.data().0.load(Relaxed) as u64)
            .sum()
    }

    /// Free them now (the workers do; this frees nothing itself).
    fn scan_objects(e: &Engine, _nr_to_scan: u64) -> u64 {
        e.kick_all();
        SHRINK_STOP
    }
}

/// The producers: one job per CPU, feeding the engine.
struct Producers {
    engine: Pin<KBox<Engine>>,
    stopping: AtomicBool,
}

impl DeferredOwner for Producers {
    type Item = KBox<Boxed<()>>;
    type PerCpuData = ();

    /// A producer job: [`BURST`] objects on this CPU, then again next jiffy.
    fn run_queue(p: &Deferred<Self>, q: &CpuQueue<Deferred<Self>>) {
        for job in q.take_all() {
            if p.stopping.load(Relaxed) {
                continue;
            }
            for _ in 0..BURST {
                let n = p.engine.produced.fetch_add(1, Relaxed);
                match Boxed::new(n, GFP_KERNEL) {
                    Ok(obj) => {
                        p.engine.live.fetch_add(1, Relaxed);
                        p.engine.release(obj);
                    }
                    Err(_) => {
                        p.engine.produced.fetch_sub(1, Relaxed);
                        break;
                    }
                }
            }
            q.push(job);
            p.arm(q, 1);
        }
    }

    // Neither callback is registered for the producers.
    fn cpu_dead(_: &Deferred<Self>, _: CpuId) {}

    fn count_objects(_: &Deferred<Self>) -> u64 {
        0
    }

    fn scan_objects(_: &Deferred<Self>, _: u64) -> u64 {
        SHRINK_STOP
    }
}

/// The CPU-dead state of every engine of this module.
static CPU_DEAD: CpuDeadState<Engine> = CpuDeadState::new();

struct DeferredFree {
    producers: Pin<KBox<Deferred<Producers>>>,
    _cpu_dead: CpuDeadSetup<Engine>,
}

impl kernel::Module for DeferredFree {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        let cpu_dead = CPU_DEAD.setup(c_str!("samples/deferred_free:dead"))?;
        let p = c_str!("deferred_free");
        let wq = Workqueue::new_bound(p, c_str!("free"), 1, true, false)?;
        let engine = Deferred::new(Freer::default(), wq)?;
        let cfg = ShrinkerConfig {
            seeks: 0,
            batch: DEPTH as i64,
            nonslab: true,
        };
        engine.register(&CPU_DEAD, p, c_str!("free"), cfg)?;
        let wq = Workqueue::new_bound(p, c_str!("produce"), 1, false, false)?;
        let stopping = AtomicBool::new(false);
        let producers = Deferred::new(Producers { engine, stopping }, wq)?;
        for q in producers.cpu_queues() {
            q.push(Boxed::new((), GFP_KERNEL)?);
            producers.arm(q, 0);
        }
        pr_info!("producing on every CPU until unloaded\n");
        Ok(Self {
            producers,
            _cpu_dead: cpu_dead,
        })
    }
}

impl Drop for DeferredFree {
    fn drop(&mut self) {
        let p = &self.producers;
        // Producers first: none runs or is armed after this.
        p.stopping.store(true, Relaxed);
        p.close();
        // No fold or shrinker after this; then free everything waiting.
        let e = &p.engine;
        e.unregister();
        e.flush();
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
