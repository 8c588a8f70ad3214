// SPDX-License-Identifier: GPL-2.0

//! Safe wrappers over the kernel primitives the inactivation engine needs
//! and the 6.12 `kernel` crate does not have: per-CPU allocations, lockless
//! lists (`llist`), an owned bound workqueue with per-CPU delayed work
//! (`mod_delayed_work_on`), cpumasks, a multi-instance CPU-hotplug state,
//! and memory-allocation scopes (`memalloc_nofs_save`).
//!
//! Every `unsafe` block of the engine lives here; `inodegc.rs` is safe Rust.
//! The inline and macro C APIs are reached through `helpers.c`.

use crate::bindings;
use crate::vfs::DeadInode;
use core::marker::PhantomData;
use core::ptr::NonNull;
use core::sync::atomic::{AtomicI32, AtomicPtr, AtomicU32, Ordering::SeqCst};
use kernel::prelude::*;
use kernel::str::CStr;
use kernel::types::Opaque;

// ---------------------------------------------------------------------------
// CPUs

/// Preemption disabled: the current task stays on [`PreemptGuard::cpu`]
/// until the guard is dropped (`get_cpu()`/`put_cpu()`). Nothing that can
/// sleep may run while it exists.
pub(crate) struct PreemptGuard {
    cpu: u32,
    _not_send: PhantomData<*mut ()>,
}

impl PreemptGuard {
    /// Disables preemption.
    pub(crate) fn new() -> Self {
        // SAFETY: get_cpu() has no preconditions; put_cpu() in Drop.
        let cpu = unsafe { bindings::dinofs_get_cpu() };
        Self {
            cpu,
            _not_send: PhantomData,
        }
    }

    /// The CPU this task runs on, for as long as the guard lives.
    pub(crate) fn cpu(&self) -> u32 {
        self.cpu
    }
}

impl Drop for PreemptGuard {
    fn drop(&mut self) {
        // SAFETY: pairs with get_cpu() in new(), on the same task.
        unsafe { bindings::dinofs_put_cpu() };
    }
}

/// The CPU the caller runs on right now (may change at once unless
/// preemption is disabled).
pub(crate) fn current_cpu() -> u32 {
    // SAFETY: raw_smp_processor_id() has no preconditions.
    unsafe { bindings::dinofs_smp_processor_id() }
}

/// Whether `cpu` is active (online and schedulable). A CPU leaves the
/// active mask first when it goes offline and joins it last when it comes
/// online, so while it is active its bound work runs on it.
pub(crate) fn cpu_active(cpu: u32) -> bool {
    // SAFETY: reads a cpumask bit; `cpu` is below nr_cpu_ids (checked).
    cpu_in_range(cpu) && unsafe { bindings::dinofs_cpu_active(cpu) }
}

/// Whether `cpu` is a valid CPU number (`< nr_cpu_ids`): every cpumask and
/// per-CPU access below checks it, so no safe function indexes out of range.
pub(crate) fn cpu_in_range(cpu: u32) -> bool {
    // SAFETY: nr_cpu_ids is fixed after boot.
    cpu < unsafe { bindings::dinofs_nr_cpu_ids() }
}

/// All possible CPU ids (a superset of online ones: never trust the online
/// mask to find per-CPU state, CPUs leave it before their dead callbacks).
pub(crate) fn possible_cpus() -> impl Iterator<Item = u32> {
    // SAFETY: nr_cpu_ids is fixed after boot.
    let n = unsafe { bindings::dinofs_nr_cpu_ids() };
    // SAFETY: `c < nr_cpu_ids`.
    (0..n).filter(|&c| unsafe { bindings::dinofs_cpu_possible(c) })
}

/// Spins for `us` microseconds (any context; keep it short).
pub(crate) fn udelay(us: u32) {
    // SAFETY: udelay() has no preconditions.
    unsafe { bindings::dinofs_udelay(us) };
}

/// Sleeps about `us` microseconds (process context only).
pub(crate) fn usleep(us: u32) {
    // SAFETY: usleep_range() from process context (the gc worker).
    unsafe { bindings::dinofs_usleep(us) };
}

/// A scope in which memory allocations do not recurse into filesystems
/// (`memalloc_nofs_save`), for work done on behalf of reclaim.
pub(crate) struct NofsScope(u32);

impl NofsScope {
    /// Enters the scope.
    pub(crate) fn new() -> Self {
        // SAFETY: paired with restore in Drop on the same task.
        Self(unsafe { bindings::dinofs_memalloc_nofs_save() })
    }

    /// Whether the current task is in a NOFS scope (it may hold filesystem
    /// resources, so it must not wait for filesystem work).
    pub(crate) fn current_is_nofs() -> bool {
        // SAFETY: reads current->flags.
        unsafe { bindings::dinofs_current_is_nofs() }
    }
}

impl Drop for NofsScope {
    fn drop(&mut self) {
        // SAFETY: restores the flags saved in new().
        unsafe { bindings::dinofs_memalloc_nofs_restore(self.0) };
    }
}

// ---------------------------------------------------------------------------
// cpumask

/// A heap-allocated cpumask with atomic bit operations.
pub(crate) struct CpuMask(NonNull<bindings::cpumask>);

// SAFETY: all operations are atomic bitops on the mask.
unsafe impl Send for CpuMask {}
// SAFETY: as above.
unsafe impl Sync for CpuMask {}

impl CpuMask {
    /// An empty mask.
    pub(crate) fn new() -> Result<Self> {
        // SAFETY: allocation with no preconditions.
        let p = unsafe { bindings::dinofs_alloc_cpumask() };
        Ok(Self(NonNull::new(p).ok_or(ENOMEM)?))
    }

    /// Sets `cpu`'s bit (no-op for an out-of-range CPU number).
    pub(crate) fn set(&self, cpu: u32) {
        if cpu_in_range(cpu) {
            // SAFETY: valid mask, in-range bit; atomic set_bit.
            unsafe { bindings::dinofs_cpumask_set(cpu, self.0.as_ptr()) };
        }
    }

    /// Clears `cpu`'s bit, with a full barrier after it, so a reader that
    /// then sees an empty list cannot miss an item added after the clear.
    pub(crate) fn clear(&self, cpu: u32) {
        if !cpu_in_range(cpu) {
            return;
        }
        // SAFETY: valid mask, in-range bit; atomic clear_bit, then the
        // barrier.
        unsafe {
            bindings::dinofs_cpumask_clear(cpu, self.0.as_ptr());
            bindings::dinofs_smp_mb__after_atomic();
        }
    }

    /// Tests `cpu`'s bit.
    pub(crate) fn test(&self, cpu: u32) -> bool {
        // SAFETY: valid mask, in-range bit.
        cpu_in_range(cpu) && unsafe { bindings::dinofs_cpumask_test(cpu, self.0.as_ptr()) }
    }
}

impl Drop for CpuMask {
    fn drop(&mut self) {
        // SAFETY: allocated in new(), freed once.
        unsafe { bindings::dinofs_free_cpumask(self.0.as_ptr()) };
    }
}

// ---------------------------------------------------------------------------
// Per-CPU gc queues

/// One CPU's queue (`struct dinofs_gc_queue`): a lockless list of dead
/// inodes, the delayed work that drains it, and its counters.
///
/// Producers on the owning CPU add with preemption disabled; the worker, the
/// CPU-dead fold and flushers take the whole list at once (`llist_del_all`),
/// so every queued inode is taken exactly once.
#[repr(transparent)]
pub(crate) struct GcQueue(Opaque<bindings::dinofs_gc_queue>);

impl GcQueue {
    fn ptr(&self) -> *mut bindings::dinofs_gc_queue {
        self.0.get()
    }

    /// The CPU this queue belongs to.
    pub(crate) fn cpu(&self) -> u32 {
        // SAFETY: `cpu` is written once at initialisation.
        unsafe { (*self.ptr()).cpu }
    }

    fn atomic_u32(&self, field: *mut u32) -> &AtomicU32 {
        // SAFETY: `field` points into this queue, which lives as long as
        // `self`; Rust only ever accesses these fields atomically.
        unsafe { AtomicU32::from_ptr(field) }
    }

    /// Inodes queued since the worker last ran.
    pub(crate) fn items(&self) -> &AtomicU32 {
        // SAFETY: computing a field address of a live queue.
        self.atomic_u32(unsafe { &raw mut (*self.ptr()).items })
    }

    /// Shrinker scans that hit this queue since the worker last ran.
    pub(crate) fn shrinker_hits(&self) -> &AtomicU32 {
        // SAFETY: as above.
        self.atomic_u32(unsafe { &raw mut (*self.ptr()).shrinker_hits })
    }

    /// The first inactivation error since the last flush (0 = none).
    pub(crate) fn error(&self) -> &AtomicI32 {
        // SAFETY: as above; only accessed atomically.
        unsafe { AtomicI32::from_ptr(&raw mut (*self.ptr()).error) }
    }

    /// Adds a dead inode; the queue owns it until it is taken.
    pub(crate) fn push(&self, inode: DeadInode) {
        let node = inode.into_gc_node();
        // SAFETY: `node` is the inode's gc_node, owned by us and on no list.
        unsafe { bindings::dinofs_llist_add(node, &raw mut (*self.ptr()).list) };
    }

    /// Whether the queue's delayed-work timer is armed (statistics and
    /// tests; racy by nature).
    pub(crate) fn armed(&self) -> bool {
        // SAFETY: live, initialised delayed work; timer_pending is a racy
        // but atomic read of the timer's list linkage.
        unsafe { bindings::dinofs_delayed_work_armed(self.work()) }
    }

    /// Whether the list is empty.
    pub(crate) fn is_empty(&self) -> bool {
        // SAFETY: a racy but atomic read of the list head.
        unsafe { bindings::dinofs_llist_empty(&raw const (*self.ptr()).list) }
    }

    /// Takes every queued inode.
    pub(crate) fn take_all(&self) -> DeadInodes {
        // SAFETY: llist_del_all is safe against concurrent adders and takers.
        let first = unsafe { bindings::dinofs_llist_del_all(&raw mut (*self.ptr()).list) };
        DeadInodes { next: first }
    }

    /// Appends a batch taken from another queue (the CPU-dead fold).
    pub(crate) fn push_batch(&self, batch: DeadInodes) -> u32 {
        let mut n = 0;
        for inode in batch {
            self.push(inode);
            n += 1;
        }
        n
    }

    fn work(&self) -> *mut bindings::delayed_work {
        // SAFETY: field address of a live queue.
        unsafe { &raw mut (*self.ptr()).work }
    }

    /// The engine this queue belongs to.
    fn owner<T>(&self) -> *const T {
        // SAFETY: `owner` is written once at initialisation.
        unsafe { (*self.ptr()).owner.cast() }
    }
}

/// The inodes taken off a queue, in LIFO order; each is yielded once.
pub(crate) struct DeadInodes {
    next: *mut bindings::llist_node,
}

impl DeadInodes {
    /// How many inodes are left to yield (walks the list).
    pub(crate) fn remaining(&self) -> u32 {
        let mut n = 0u32;
        let mut node = self.next;
        while !node.is_null() {
            n = n.saturating_add(1);
            // SAFETY: the nodes of a taken list are ours and stay linked
            // until yielded.
            node = unsafe { bindings::dinofs_gc_node_next(node) };
        }
        n
    }
}

impl Iterator for DeadInodes {
    type Item = DeadInode;

    fn next(&mut self) -> Option<DeadInode> {
        let node = NonNull::new(self.next)?;
        // SAFETY: the nodes of a taken list are ours; read the link before
        // handing the inode (and its node) out.
        self.next = unsafe { bindings::dinofs_gc_node_next(node.as_ptr()) };
        // SAFETY: every node on a gc queue was pushed by `GcQueue::push`
        // from a `DeadInode`, whose ownership comes back to us here.
        Some(unsafe { DeadInode::from_gc_node(node.as_ptr()) })
    }
}

impl Drop for DeadInodes {
    fn drop(&mut self) {
        // Inodes never processed are still owned: free them (only reachable
        // if a consumer stops early, which the engine never does).
        for inode in self.by_ref() {
            drop(inode);
        }
    }
}

/// The per-CPU array of queues of one mount.
///
/// # Invariants
///
/// `ptr` is a live per-CPU allocation of `dinofs_gc_queue`, initialised for
/// every possible CPU, whose `owner` is the engine that holds this value.
pub(crate) struct GcQueues {
    ptr: NonNull<kernel::ffi::c_void>,
}

// SAFETY: queues are designed for concurrent use (llist, atomics, work items).
unsafe impl Send for GcQueues {}
// SAFETY: as above.
unsafe impl Sync for GcQueues {}

/// The worker function type: runs the engine's worker for one queue.
pub(crate) trait GcOwner: Sync {
    /// Drains `queue` (called on the queue's CPU by the workqueue).
    fn run_worker(&self, queue: &GcQueue);
    /// Folds a dead CPU's queue into a live one.
    fn cpu_dead(&self, cpu: u32);
}

impl GcQueues {
    /// Allocates and initialises one queue per possible CPU, owned by
    /// `owner`.
    ///
    /// # Safety
    ///
    /// `owner` must neither move nor be freed while the queues exist: every
    /// work item calls back into it through a raw pointer.
    pub(crate) unsafe fn new<T: GcOwner>(owner: &T) -> Result<Self> {
        let size = core::mem::size_of::<bindings::dinofs_gc_queue>();
        let align = core::mem::align_of::<bindings::dinofs_gc_queue>();
        // SAFETY: allocation; alloc_percpu memory is zeroed.
        let p = unsafe { bindings::dinofs_alloc_percpu(size, align) };
        let ptr = NonNull::new(p).ok_or(ENOMEM)?;
        for cpu in possible_cpus() {
            // SAFETY: `cpu` is possible; the queue is ours, not yet shared.
            unsafe {
                let q = bindings::dinofs_per_cpu_ptr(ptr.as_ptr(), cpu)
                    .cast::<bindings::dinofs_gc_queue>();
                bindings::dinofs_init_llist_head(&raw mut (*q).list);
                bindings::dinofs_init_delayed_work(&raw mut (*q).work, Some(gc_worker::<T>));
                (*q).cpu = cpu;
                (*q).owner = (owner as *const T).cast_mut().cast();
            }
        }
        // INVARIANT: allocated and initialised above.
        Ok(Self { ptr })
    }

    /// The queue of `cpu`, if it is a possible CPU.
    pub(crate) fn get(&self, cpu: u32) -> Option<&GcQueue> {
        // SAFETY: reads the possible mask; `cpu < nr_cpu_ids` is checked
        // first.
        if !cpu_in_range(cpu) || !unsafe { bindings::dinofs_cpu_possible(cpu) } {
            return None;
        }
        // SAFETY: per the type invariant every possible CPU's queue is
        // allocated and initialised; `GcQueue` is transparent.
        Some(unsafe { &*bindings::dinofs_per_cpu_ptr(self.ptr.as_ptr(), cpu).cast::<GcQueue>() })
    }

    /// Every possible CPU's queue.
    pub(crate) fn all(&self) -> impl Iterator<Item = &GcQueue> {
        possible_cpus().filter_map(|c| self.get(c))
    }
}

impl Drop for GcQueues {
    fn drop(&mut self) {
        // The engine cancels every queue's delayed work (timer included)
        // with `cancel_delayed_work_sync` and then destroys its workqueue
        // before dropping the queues (`InodeGc::teardown`); it also empties
        // every list. Free anything left over all the same.
        for q in self.all() {
            drop(q.take_all());
        }
        // SAFETY: allocated in new(); no work item or timer references it
        // any more (see above).
        unsafe { bindings::dinofs_free_percpu(self.ptr.as_ptr()) };
    }
}

/// The work function of every gc queue.
extern "C" fn gc_worker<T: GcOwner>(work: *mut bindings::work_struct) {
    // SAFETY: the workqueue passes the work_struct of a queue initialised in
    // `GcQueues::new`, which outlives its work items.
    let q = unsafe { &*bindings::dinofs_gc_queue_of_work(work).cast::<GcQueue>() };
    // SAFETY: the owner outlives its queues (type invariant of GcQueues).
    let owner = unsafe { &*q.owner::<T>() };
    owner.run_worker(q);
}

// ---------------------------------------------------------------------------
// The workqueue

/// An owned, bound workqueue (`alloc_workqueue`), destroyed on drop.
pub(crate) struct GcWorkqueue(NonNull<bindings::workqueue_struct>);

// SAFETY: workqueue operations are thread-safe.
unsafe impl Send for GcWorkqueue {}
// SAFETY: as above.
unsafe impl Sync for GcWorkqueue {}

impl GcWorkqueue {
    /// `dinofs-inodegc/<id>`: bound, max_active 1, WQ_MEM_RECLAIM |
    /// WQ_FREEZABLE.
    pub(crate) fn new(id: &CStr) -> Result<Self> {
        // SAFETY: valid string; allocation.
        let p = unsafe { bindings::dinofs_alloc_gc_workqueue(id.as_char_ptr()) };
        Ok(Self(NonNull::new(p).ok_or(ENOMEM)?))
    }

    /// (Re)arms `q`'s work on `q`'s own CPU to run after `delay` jiffies
    /// (0 = now). Always the `_on(cpu)` form: a work item run on another
    /// CPU would race with that CPU's producers (upstream 03e0add80f4c).
    pub(crate) fn queue_on(&self, q: &GcQueue, delay: u64) {
        // SAFETY: live workqueue and work item; callable in any context.
        unsafe {
            bindings::mod_delayed_work_on(q.cpu() as i32, self.0.as_ptr(), q.work(), delay as _);
        }
    }

    /// Waits for every work item queued so far to finish.
    pub(crate) fn flush(&self) {
        // SAFETY: live workqueue; we may sleep here (callers are in
        // process context).
        unsafe { bindings::dinofs_flush_workqueue(self.0.as_ptr()) };
    }

    /// Cancels `q`'s pending work or timer without waiting for a running
    /// worker (callable from the CPU-dead callback).
    pub(crate) fn cancel(&self, q: &GcQueue) {
        // SAFETY: live, initialised work item.
        unsafe { bindings::cancel_delayed_work(q.work()) };
    }

    /// Cancels `q`'s pending work or timer and waits for a running worker:
    /// afterwards nothing of `q` is queued, armed or running until someone
    /// arms it again.
    pub(crate) fn cancel_sync(&self, q: &GcQueue) {
        // SAFETY: live, initialised work item; may sleep (process context).
        unsafe { bindings::cancel_delayed_work_sync(q.work()) };
    }

    /// Runs `q`'s work now if pending and waits for it (the throttle).
    pub(crate) fn flush_queue(&self, q: &GcQueue) {
        // SAFETY: live work item; may sleep.
        unsafe { bindings::flush_delayed_work(q.work()) };
    }
}

impl Drop for GcWorkqueue {
    fn drop(&mut self) {
        // SAFETY: destroy_workqueue drains work already queued on it; it
        // does not wait for a delayed work whose timer has not fired yet,
        // so the engine cancels every queue's delayed work first
        // (`InodeGc::teardown`).
        unsafe { bindings::destroy_workqueue(self.0.as_ptr()) };
    }
}

// ---------------------------------------------------------------------------
// The gc index

/// What [`GcIndex::claim`] found.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Claim {
    /// Not queued: read the inode from disk.
    Absent,
    /// It was waiting for inactivation; that is cancelled and the disk is
    /// consistent: read it.
    Cancelled,
    /// A worker is inactivating it now: wait and retry.
    Busy,
}

/// The inodes between `evict_inode` and the end of their inactivation
/// (`struct dinofs_gc_index`), so `iget` never reads a disk inode that a
/// queued inactivation is about to rewrite. State changes happen under the
/// index's spinlock (see `helpers.c`).
pub(crate) struct GcIndex(NonNull<bindings::dinofs_gc_index>);

// SAFETY: all operations take the index's spinlock.
unsafe impl Send for GcIndex {}
// SAFETY: as above.
unsafe impl Sync for GcIndex {}

impl GcIndex {
    /// An empty index.
    pub(crate) fn new() -> Result<Self> {
        // SAFETY: allocation.
        let p = unsafe { bindings::dinofs_gc_index_new() };
        Ok(Self(NonNull::new(p).ok_or(ENOMEM)?))
    }

    /// Enters `inode` (being evicted) as waiting for inactivation.
    pub(crate) fn add(&self, inode: &crate::vfs::Inode) {
        // SAFETY: live index; the inode is being evicted by us and is on no
        // index.
        unsafe { bindings::dinofs_gc_index_add(self.0.as_ptr(), inode.as_raw()) };
    }

    /// Removes `inode` (inactivated or cancelled).
    pub(crate) fn del(&self, inode: &crate::vfs::Inode) {
        // SAFETY: live index and inode; del of an absent inode is a no-op.
        unsafe { bindings::dinofs_gc_index_del(self.0.as_ptr(), inode.as_raw()) };
    }

    /// For `iget`: cancels a waiting inactivation of `ino`, or reports one
    /// in progress.
    pub(crate) fn claim(&self, ino: u32) -> Claim {
        // SAFETY: live index.
        match unsafe { bindings::dinofs_gc_index_claim(self.0.as_ptr(), ino as _) } {
            1 => Claim::Cancelled,
            2 => Claim::Busy,
            _ => Claim::Absent,
        }
    }

    /// For the worker: moves `inode` from waiting to inactivating; `false`
    /// if `iget` cancelled it.
    pub(crate) fn begin(&self, inode: &crate::vfs::Inode) -> bool {
        // SAFETY: live index and inode.
        unsafe { bindings::dinofs_gc_index_begin(self.0.as_ptr(), inode.as_raw()) }
    }
}

impl Drop for GcIndex {
    fn drop(&mut self) {
        // SAFETY: allocated in new(); the engine drained every entry.
        unsafe { bindings::dinofs_gc_index_free(self.0.as_ptr()) };
    }
}

// ---------------------------------------------------------------------------
// Shrinker

/// The engine's shrinker, whose callbacks reach the engine
/// ([`InodeGc::shrinker_count`], [`InodeGc::shrinker_scan`]).
///
/// Registered and unregistered through shared references
/// ([`Self::register`], [`Self::unregister`]), so the engine never needs a
/// mutable reference to itself while a callback may hold a shared one.
/// Unregistering waits for running callbacks.
///
/// [`InodeGc::shrinker_count`]: crate::inodegc::InodeGc::shrinker_count
/// [`InodeGc::shrinker_scan`]: crate::inodegc::InodeGc::shrinker_scan
pub(crate) struct GcShrinker(AtomicPtr<bindings::shrinker>);

/// What `scan_objects` returns when it freed nothing itself.
pub(crate) const SHRINK_STOP: u64 = !0;

/// What an idle `scan_objects` returns: "plenty freed", so reclaim does not
/// keep scanning an engine with nothing queued (XFS returns `LONG_MAX`).
pub(crate) const SHRINK_IDLE: u64 = i64::MAX as u64;

impl GcShrinker {
    /// An unregistered shrinker.
    pub(crate) const fn new() -> Self {
        Self(AtomicPtr::new(core::ptr::null_mut()))
    }

    /// Registers a shrinker named `dinofs-inodegc:<id>` for `gc`.
    ///
    /// # Safety
    ///
    /// `gc` must neither move nor be freed before [`Self::unregister`]
    /// returns, and `self` must be unregistered before it is dropped.
    pub(crate) unsafe fn register(&self, id: &CStr, gc: &crate::inodegc::InodeGc) -> Result {
        // SAFETY: valid string; `gc` outlives the registration per the
        // contract.
        let p = unsafe {
            bindings::dinofs_gc_shrinker_new(
                id.as_char_ptr(),
                (gc as *const crate::inodegc::InodeGc).cast_mut().cast(),
            )
        };
        if p.is_null() {
            return Err(ENOMEM);
        }
        if self
            .0
            .compare_exchange(core::ptr::null_mut(), p, SeqCst, SeqCst)
            .is_err()
        {
            // Already registered: undo this one.
            // SAFETY: registered just above, never published.
            unsafe { bindings::dinofs_gc_shrinker_free(p) };
            return Err(EBUSY);
        }
        Ok(())
    }

    /// Unregisters the shrinker (if registered) and waits for its running
    /// callbacks. Idempotent.
    pub(crate) fn unregister(&self) {
        let p = self.0.swap(core::ptr::null_mut(), SeqCst);
        if !p.is_null() {
            // SAFETY: registered by `register`; the swap above hands it to
            // exactly one caller. shrinker_free waits for callbacks.
            unsafe { bindings::dinofs_gc_shrinker_free(p) };
        }
    }
}

impl Drop for GcShrinker {
    fn drop(&mut self) {
        self.unregister();
    }
}

#[no_mangle]
extern "C" fn dinofs_rs_gc_shrinker_count(gc: *mut kernel::ffi::c_void) -> kernel::ffi::c_ulong {
    // SAFETY: the engine registered this shrinker and outlives it.
    let gc = unsafe { &*gc.cast::<crate::inodegc::InodeGc>() };
    gc.shrinker_count() as _
}

#[no_mangle]
extern "C" fn dinofs_rs_gc_shrinker_scan(gc: *mut kernel::ffi::c_void) -> kernel::ffi::c_ulong {
    // SAFETY: as above.
    let gc = unsafe { &*gc.cast::<crate::inodegc::InodeGc>() };
    gc.shrinker_scan() as _
}

// ---------------------------------------------------------------------------
// CPU hotplug

/// The hotplug list node an engine embeds as its first field, and its
/// registration with the module's CPU-dead state.
///
/// Registered and unregistered through shared references, like
/// [`GcShrinker`]; unregistering waits for a running callback (it takes the
/// CPU-hotplug lock).
#[repr(C)]
pub(crate) struct CpuHpNode {
    node: Opaque<bindings::hlist_node>,
    /// The state the node is registered with, or -1.
    state: AtomicI32,
}

// SAFETY: the node is only touched by the CPU-hotplug core, under its lock;
// the state is atomic.
unsafe impl Send for CpuHpNode {}
// SAFETY: as above.
unsafe impl Sync for CpuHpNode {}

impl CpuHpNode {
    /// An unregistered node to embed.
    pub(crate) fn new() -> Self {
        Self {
            node: Opaque::uninit(),
            state: AtomicI32::new(-1),
        }
    }

    /// Registers the node for CPU-dead callbacks.
    ///
    /// # Safety
    ///
    /// `self` must be the first field of a `#[repr(C)]`
    /// [`InodeGc`](crate::inodegc::InodeGc) that neither moves nor is freed
    /// before [`Self::unregister`] returns, and the node must be
    /// unregistered before it is dropped.
    pub(crate) unsafe fn register(&self) -> Result {
        // SAFETY: reads the state number set up at module init.
        let state = unsafe { bindings::dinofs_cpuhp_state_get() };
        if state < 0 {
            return Err(EINVAL);
        }
        if self
            .state
            .compare_exchange(-1, state, SeqCst, SeqCst)
            .is_err()
        {
            return Err(EBUSY);
        }
        // SAFETY: a valid, unregistered node that outlives the registration
        // (caller's contract).
        let r = unsafe { bindings::dinofs_cpuhp_add_instance(state, self.node.get()) };
        if r < 0 {
            self.state.store(-1, SeqCst);
            return Err(Error::from_errno(r));
        }
        Ok(())
    }

    /// Unregisters the node (if registered); after this returns no
    /// callback for it runs. Idempotent.
    pub(crate) fn unregister(&self) {
        let state = self.state.swap(-1, SeqCst);
        if state >= 0 {
            // SAFETY: registered by `register` with `state`; the swap hands
            // the registration to exactly one caller.
            unsafe { bindings::dinofs_cpuhp_remove_instance(state, self.node.get()) };
        }
    }
}

impl Drop for CpuHpNode {
    fn drop(&mut self) {
        self.unregister();
    }
}

/// The CPU-dead callback (`helpers.c` registers it for the module's
/// dynamic hotplug state); runs on a control CPU after `cpu` died, once per
/// registered engine.
#[no_mangle]
extern "C" fn dinofs_rs_cpu_dead(
    cpu: kernel::ffi::c_uint,
    node: *mut bindings::hlist_node,
) -> kernel::ffi::c_int {
    // SAFETY: per `CpuHpNode::register`, `node` is the hlist_node at the
    // start of the `#[repr(C)]` CpuHpNode that is the first field of a live
    // `#[repr(C)]` InodeGc for as long as it is registered, and callbacks
    // only run for registered nodes.
    let owner = unsafe { &*node.cast::<crate::inodegc::InodeGc>() };
    owner.cpu_dead(cpu);
    0
}
