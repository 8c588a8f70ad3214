// SPDX-License-Identifier: GPL-2.0

//! Per-CPU deferred work with everything its callbacks need, owned
//! together: an owner `O`, one lock-less queue per possible CPU drained on
//! its own CPU by delayed work on a bound workqueue, and, once registered,
//! a shrinker and a CPU-dead callback.
//!
//! The callbacks (the workers, the shrinker, the CPU-dead teardown) reach
//! the owner through raw pointers, so the owner must neither move nor be
//! freed while any of them can run. [`Deferred`] makes that a property of
//! the type instead of a promise of its user: it is only ever built pinned
//! in a box ([`Deferred::new`]), it is `!Unpin`, and [`Deferred::close`] —
//! which its `Drop` runs before the box is freed — unregisters the
//! callbacks, closes every queue to further arming and waits for whatever
//! runs. Everything here is safe to call; the `unsafe` that builds it sits
//! in this file.

use super::cpu::CpuId;
use super::hotplug::{CpuDead, CpuDeadState, CpuHpNode};
use super::llist::LListItem;
use super::shrinker::{Shrinker, ShrinkerConfig, ShrinkerOps};
use super::workqueue::{CpuQueue, CpuQueues, QueueOwner, Workqueue};
use core::marker::PhantomPinned;
use core::ops::Deref;
use kernel::prelude::*;
use kernel::str::CStr;

/// What the owner of a [`Deferred`] implements. Each callback gets the
/// whole [`Deferred`], which dereferences to the owner.
pub(crate) trait DeferredOwner: Sync + Sized + 'static {
    /// What the queues hold.
    type Item: LListItem;
    /// Kept next to each queue, made by `Default`.
    type PerCpuData: Default + Send + Sync;
    /// The worker: drains `q` (on `q`'s CPU while it is up).
    fn run_queue(d: &Deferred<Self>, q: &CpuQueue<Deferred<Self>>);
    /// `cpu` died (runs on a control CPU, may sleep).
    fn cpu_dead(d: &Deferred<Self>, cpu: CpuId);
    /// The shrinker's `count_objects`.
    fn count_objects(d: &Deferred<Self>) -> u64;
    /// The shrinker's `scan_objects`.
    fn scan_objects(d: &Deferred<Self>, nr_to_scan: u64) -> u64;
}

/// An owner and its per-CPU queues, workqueue, shrinker and CPU-dead node.
///
/// `#[repr(C)]` with the hotplug node first: the CPU-dead callback finds
/// the `Deferred` from its node.
#[repr(C)]
pub(crate) struct Deferred<O: DeferredOwner> {
    node: CpuHpNode<Self>,
    shrinker: Shrinker<Self>,
    queues: CpuQueues<Self>,
    wq: Workqueue,
    owner: O,
    _pin: PhantomPinned,
}

impl<O: DeferredOwner> Deferred<O> {
    /// Builds `owner`'s queues, drained on `wq`, pinned in a box. Nothing
    /// runs until something queues and arms ([`Self::arm`]); the shrinker
    /// and CPU-dead callback come with [`Self::register`].
    pub(crate) fn new(owner: O, wq: Workqueue) -> Result<Pin<KBox<Self>>> {
        let slot = KBox::<Self>::new_uninit(GFP_KERNEL)?;
        let this: *const Self = slot.as_ptr();
        // SAFETY: `this` is the address the value gets below and keeps:
        // the box is pinned before anyone can see it, `Self` is `!Unpin`,
        // and the queues are a field of it, dropped (their work cancelled)
        // before its memory goes. No work item can run before the value is
        // written: nothing can arm the queues until this function returns.
        let queues = unsafe { CpuQueues::new_raw(this)? };
        let b = slot.write(Self {
            node: CpuHpNode::new(),
            shrinker: Shrinker::new(),
            queues,
            wq,
            owner,
            _pin: PhantomPinned,
        });
        Ok(b.into())
    }

    /// Registers the CPU-dead callback with `dead` (set up at module init)
    /// and a shrinker named `prefix:id`. On failure neither is registered.
    /// `EBUSY` if they are registered already.
    pub(crate) fn register(
        &self,
        dead: &'static CpuDeadState<Self>,
        prefix: &CStr,
        id: &CStr,
        cfg: ShrinkerConfig,
    ) -> Result {
        // SAFETY: `node` is the first field of this `#[repr(C)]` value,
        // which only exists pinned in the box `new` made (`!Unpin`, no
        // other constructor); `close`, which `Drop` runs before the box is
        // freed, unregisters it.
        unsafe { self.node.register(dead)? };
        // SAFETY: as above: the owner is this pinned value, and `close`
        // unregisters the shrinker before it goes.
        if let Err(e) = unsafe { self.shrinker.register(prefix, id, self, cfg) } {
            self.node.unregister();
            return Err(e);
        }
        Ok(())
    }

    /// Every possible CPU's queue.
    pub(crate) fn cpu_queues(&self) -> impl Iterator<Item = &CpuQueue<Self>> {
        self.queues.iter()
    }

    /// `cpu`'s queue, if `cpu` is a possible CPU.
    pub(crate) fn cpu_queue(&self, cpu: CpuId) -> Option<&CpuQueue<Self>> {
        self.queues.get(cpu)
    }

    /// (Re)arms `q`'s work on its CPU after `delay` jiffies (0: now); a
    /// no-op once closed. Any context.
    pub(crate) fn arm(&self, q: &CpuQueue<Self>, delay: u64) {
        self.wq.queue_on(q, delay);
    }

    /// Waits for every work item queued so far. Sleeps.
    pub(crate) fn flush_workqueue(&self) {
        self.wq.flush();
    }

    /// Unregisters the shrinker and the CPU-dead callback, waiting for
    /// running ones; the queues keep working (a final flush without a fold
    /// racing it). Idempotent.
    pub(crate) fn unregister(&self) {
        self.shrinker.unregister();
        self.node.unregister();
    }

    /// Unregisters the shrinker and the CPU-dead callback (waiting for
    /// running ones), closes every queue (no arming from now on, by anyone)
    /// and waits for running workers. Afterwards no callback runs and
    /// nothing is armed; what is still queued stays on the lists. Sleeps;
    /// idempotent.
    pub(crate) fn close(&self) {
        self.unregister();
        for q in self.queues.iter() {
            q.close();
        }
    }
}

impl<O: DeferredOwner> Deref for Deferred<O> {
    type Target = O;

    fn deref(&self) -> &O {
        &self.owner
    }
}

impl<O: DeferredOwner> Drop for Deferred<O> {
    fn drop(&mut self) {
        // Usually a no-op: the owner closes before it lets go.
        self.close();
    }
}

impl<O: DeferredOwner> QueueOwner for Deferred<O> {
    type Item = O::Item;
    type PerCpuData = O::PerCpuData;

    fn run_queue(&self, q: &CpuQueue<Self>) {
        O::run_queue(self, q)
    }
}

impl<O: DeferredOwner> CpuDead for Deferred<O> {
    fn cpu_dead(&self, cpu: CpuId) {
        O::cpu_dead(self, cpu)
    }
}

impl<O: DeferredOwner> ShrinkerOps for Deferred<O> {
    fn count_objects(&self) -> u64 {
        O::count_objects(self)
    }

    fn scan_objects(&self, nr_to_scan: u64) -> u64 {
        O::scan_objects(self, nr_to_scan)
    }
}
