// SPDX-License-Identifier: GPL-2.0

//! An owned workqueue, and per-CPU queues of owned items each drained on
//! its own CPU by a delayed work item (`queue_on(cpu)`).

use super::cpu::CpuId;
use super::llist::{Batch, LList, LListItem};
use super::percpu::PerCpu;
use crate::bindings;
use core::ptr::NonNull;
use core::sync::atomic::{AtomicBool, AtomicU32, Ordering::SeqCst};
use kernel::init::pin_init_from_closure;
use kernel::prelude::*;
use kernel::str::CStr;
use kernel::types::Opaque;

/// An owned workqueue (`alloc_workqueue`), destroyed on drop.
pub(crate) struct Workqueue(NonNull<bindings::workqueue_struct>);

// SAFETY: workqueue operations are thread-safe.
unsafe impl Send for Workqueue {}
// SAFETY: as above.
unsafe impl Sync for Workqueue {}

impl Workqueue {
    /// A bound (per-CPU) workqueue named `prefix/id`: each CPU's work runs
    /// on that CPU, at most `max_active` at a time per CPU; `mem_reclaim`
    /// (a rescuer: reclaim may wait on it), `freezable` (parked over
    /// system suspend).
    pub(crate) fn new_bound(
        prefix: &CStr,
        id: &CStr,
        max_active: i32,
        mem_reclaim: bool,
        freezable: bool,
    ) -> Result<Self> {
        // SAFETY: valid strings; an allocation.
        let p = unsafe {
            bindings::kx_alloc_bound_workqueue(
                prefix.as_char_ptr(),
                id.as_char_ptr(),
                max_active,
                mem_reclaim,
                freezable,
            )
        };
        Ok(Self(NonNull::new(p).ok_or(ENOMEM)?))
    }

    /// (Re)arms `q`'s work on `q`'s own CPU to run after `delay` jiffies
    /// (0 = now). Always on the queue's CPU: a work item run elsewhere
    /// would race with that CPU's producers (upstream 03e0add80f4c). Does
    /// nothing once the queue is closed ([`CpuQueue::close`]). Callable in
    /// any context.
    pub(crate) fn queue_on<O: QueueOwner>(&self, q: &CpuQueue<O>, delay: u64) {
        // Counted before the flag is read (both SeqCst): `close` either
        // sees this arm in flight and waits for it, or this sees `closed`.
        q.arming.fetch_add(1, SeqCst);
        if !q.closed.load(SeqCst) {
            // SAFETY: a live workqueue and an initialised work item;
            // callable in any context.
            unsafe {
                bindings::mod_delayed_work_on(
                    q.cpu.as_u32() as i32,
                    self.0.as_ptr(),
                    q.work.get(),
                    delay as _,
                );
            }
        }
        q.arming.fetch_sub(1, SeqCst);
    }

    /// Waits for every work item queued so far to finish.
    pub(crate) fn flush(&self) {
        // SAFETY: a live workqueue; sleeps (process context: might_sleep).
        unsafe { bindings::kx_flush_workqueue(self.0.as_ptr()) };
    }
}

impl Drop for Workqueue {
    fn drop(&mut self) {
        // SAFETY: created in new(). destroy_workqueue drains work queued on
        // it; a delayed work whose timer has not fired yet is not on it,
        // and a `CpuQueue` cancels its own on drop.
        unsafe { bindings::destroy_workqueue(self.0.as_ptr()) };
    }
}

/// The owner of [`CpuQueues`]: what is queued, per-CPU data kept next to
/// each queue, and the work that drains a queue.
pub(crate) trait QueueOwner: Sync + Sized {
    /// What the queues hold.
    type Item: LListItem;
    /// Kept next to each queue (counters, an error), made by `Default`.
    type PerCpuData: Default + Send + Sync;
    /// Drains `q` (called by the workqueue, on `q`'s CPU while it is up).
    fn run_queue(&self, q: &CpuQueue<Self>);
}

/// One CPU's queue: a lock-less list, the delayed work that drains it, and
/// the owner's per-CPU data.
#[repr(C)]
pub(crate) struct CpuQueue<O: QueueOwner> {
    /// First, so the work callback finds the queue from its `work_struct`
    /// (the first field of `delayed_work`).
    work: Opaque<bindings::delayed_work>,
    list: LList<O::Item>,
    cpu: CpuId,
    owner: *const O,
    /// Set by [`CpuQueue::close`]: the work is never armed again.
    closed: AtomicBool,
    /// Arms in flight ([`Workqueue::queue_on`] between its count and its
    /// `mod_delayed_work_on`).
    arming: AtomicU32,
    data: O::PerCpuData,
}

// SAFETY: the list and the data are thread-safe; the work item is used
// through the workqueue API only; the owner is `Sync`.
unsafe impl<O: QueueOwner> Send for CpuQueue<O> {}
// SAFETY: as above.
unsafe impl<O: QueueOwner> Sync for CpuQueue<O> {}

impl<O: QueueOwner> CpuQueue<O> {
    /// The CPU the queue belongs to.
    pub(crate) fn cpu(&self) -> CpuId {
        self.cpu
    }

    /// The owner's per-CPU data.
    pub(crate) fn data(&self) -> &O::PerCpuData {
        &self.data
    }

    /// Adds `item`; returns whether the list was empty.
    pub(crate) fn push(&self, item: O::Item) -> bool {
        self.list.push(item)
    }

    /// Takes every queued item.
    pub(crate) fn take_all(&self) -> Batch<O::Item> {
        self.list.take_all()
    }

    /// Whether the list is empty (racy by nature).
    pub(crate) fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// Whether the work's timer is armed (statistics and tests; racy).
    pub(crate) fn armed(&self) -> bool {
        // SAFETY: an initialised delayed work; timer_pending() is an atomic
        // read of the timer's linkage.
        unsafe { bindings::kx_delayed_work_armed(self.work.get()) }
    }

    /// Cancels the pending work or timer without waiting for a running
    /// one (callable from the CPU-dead callback).
    pub(crate) fn cancel(&self) {
        // SAFETY: an initialised work item.
        unsafe { bindings::cancel_delayed_work(self.work.get()) };
    }

    /// Cancels the pending work or timer and waits for a running one:
    /// afterwards nothing of the queue is queued, armed or running until
    /// someone arms it again. Sleeps.
    pub(crate) fn cancel_sync(&self) {
        // SAFETY: an initialised work item; process context (might_sleep).
        unsafe { bindings::cancel_delayed_work_sync(self.work.get()) };
    }

    /// Closes the queue: from now on [`Workqueue::queue_on`] leaves it
    /// alone; waits for arms in flight, then cancels the pending work or
    /// timer and waits for a running one. Afterwards the work item never
    /// runs again, whoever holds the queue. Sleeps; idempotent.
    pub(crate) fn close(&self) {
        self.closed.store(true, SeqCst);
        // An arm in flight is a few instructions, but its task may be
        // preempted between them.
        while self.arming.load(SeqCst) != 0 {
            super::cpu::usleep(10);
        }
        self.cancel_sync();
    }

    /// Runs the pending work now and waits for it (the throttle). Sleeps.
    pub(crate) fn flush_work(&self) {
        // SAFETY: as above.
        unsafe { bindings::flush_delayed_work(self.work.get()) };
    }
}

impl<O: QueueOwner> Drop for CpuQueue<O> {
    fn drop(&mut self) {
        // Nothing may run or fire on memory about to be freed.
        self.cancel_sync();
    }
}

/// The work function of every `CpuQueue<O>`.
///
/// # Safety
///
/// Called by the workqueue only, for the work item of a live `CpuQueue<O>`
/// made by [`CpuQueues::new`], whose owner is alive (its contract).
unsafe extern "C" fn work_cb<O: QueueOwner>(work: *mut bindings::work_struct) {
    // SAFETY: `work` is the first field of the `delayed_work` that is the
    // first field of the `#[repr(C)]` queue.
    let q = unsafe { &*work.cast::<CpuQueue<O>>() };
    // SAFETY: the owner outlives its queues (`CpuQueues::new`).
    let owner = unsafe { &*q.owner };
    owner.run_queue(q);
}

/// One [`CpuQueue`] per possible CPU.
pub(crate) struct CpuQueues<O: QueueOwner>(PerCpu<CpuQueue<O>>);

impl<O: QueueOwner> CpuQueues<O> {
    /// One empty queue per possible CPU, drained by `owner`.
    ///
    /// # Safety
    ///
    /// `owner` must neither move nor be freed while the queues exist: the
    /// work items call it through a raw pointer (dropping the queues
    /// cancels them and waits).
    pub(crate) unsafe fn new(owner: &O) -> Result<Self> {
        // SAFETY: the caller's contract, for a pointer made from a
        // reference.
        unsafe { Self::new_raw(owner) }
    }

    /// [`Self::new`] for an owner that is not initialised yet: `owner` is
    /// the address it will have (see `super::deferred`).
    ///
    /// # Safety
    ///
    /// No work item may run before `owner` points to an initialised `O`,
    /// which must then neither move nor be freed while the queues exist.
    pub(super) unsafe fn new_raw(owner: *const O) -> Result<Self> {
        let queues = PerCpu::new(|cpu| {
            // SAFETY: the closure initialises every field of the slot
            // before it returns Ok, and fails never.
            unsafe {
                pin_init_from_closure(move |slot: *mut CpuQueue<O>| {
                    bindings::kx_init_delayed_work(
                        Opaque::raw_get(&raw const (*slot).work),
                        Some(work_cb::<O>),
                    );
                    (&raw mut (*slot).list).write(LList::new());
                    (&raw mut (*slot).cpu).write(cpu);
                    (&raw mut (*slot).owner).write(owner);
                    (&raw mut (*slot).closed).write(AtomicBool::new(false));
                    (&raw mut (*slot).arming).write(AtomicU32::new(0));
                    (&raw mut (*slot).data).write(O::PerCpuData::default());
                    Ok(())
                })
            }
        })?;
        Ok(Self(queues))
    }

    /// `cpu`'s queue, if it is a possible CPU.
    pub(crate) fn get(&self, cpu: CpuId) -> Option<&CpuQueue<O>> {
        self.0.get(cpu)
    }

    /// Every possible CPU's queue.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &CpuQueue<O>> {
        self.0.iter()
    }
}
