// SPDX-License-Identifier: GPL-2.0

//! A dynamic multi-instance CPU-hotplug state with a "dead" callback.

use super::cpu::CpuId;
use crate::bindings;
use core::marker::PhantomData;
use core::sync::atomic::{AtomicI32, Ordering::SeqCst};
use kernel::prelude::*;
use kernel::str::CStr;
use kernel::types::Opaque;

/// What an instance of a [`CpuDeadState`] implements.
pub(crate) trait CpuDead: Sync {
    /// Runs on a control CPU after `cpu` died, once per registered
    /// instance; may sleep.
    fn cpu_dead(&self, cpu: CpuId);
}

/// A dynamic state in the BP "prepare" section whose teardown (the CPU is
/// dead) calls [`CpuDead::cpu_dead`] on every registered instance. Meant
/// for a `static` (one per module and instance type): [`Self::setup`] at
/// module init returns the guard that removes it at module exit.
pub(crate) struct CpuDeadState<T: CpuDead> {
    /// The dynamic state number, or -1 while not set up.
    state: AtomicI32,
    _instances: PhantomData<fn(&T)>,
}

impl<T: CpuDead> CpuDeadState<T> {
    /// A state not set up yet.
    pub(crate) const fn new() -> Self {
        Self {
            state: AtomicI32::new(-1),
            _instances: PhantomData,
        }
    }

    /// Sets up the state, named `name` (e.g. `"fs/dinofs:dead"`); `EBUSY`
    /// if it is set up already.
    pub(crate) fn setup(&'static self, name: &'static CStr) -> Result<CpuDeadSetup<T>> {
        let teardown = Some(dead_cb::<T> as _);
        // SAFETY: a static name; the callback is a valid teardown for
        // nodes registered through `CpuHpNode::register` (see there).
        let state = unsafe { bindings::kx_cpuhp_setup_multi(name.as_char_ptr(), teardown) };
        if state < 0 {
            return Err(Error::from_errno(state));
        }
        if self
            .state
            .compare_exchange(-1, state, SeqCst, SeqCst)
            .is_err()
        {
            // SAFETY: set up just above, no instance registered.
            unsafe { bindings::__cpuhp_remove_state(state as _, false) };
            return Err(EBUSY);
        }
        Ok(CpuDeadSetup { owner: self })
    }
}

/// A [`CpuDeadState`] that is set up; removes it on drop.
pub(crate) struct CpuDeadSetup<T: CpuDead + 'static> {
    owner: &'static CpuDeadState<T>,
}

impl<T: CpuDead + 'static> Drop for CpuDeadSetup<T> {
    fn drop(&mut self) {
        let state = self.owner.state.swap(-1, SeqCst);
        // SAFETY: set up by `setup`, and the swap hands the removal to us.
        // No instance is registered any more: the owner of the guard (the
        // module) drops it only after everything that registers instances
        // is gone (the filesystem type is unregistered, no mount is left).
        unsafe { bindings::__cpuhp_remove_state(state as _, false) };
    }
}

/// The hotplug list node an instance embeds as its **first field** (the
/// instance `#[repr(C)]`), and its registration.
///
/// Registered and unregistered through shared references; unregistering
/// waits for a running callback (it takes the CPU-hotplug lock).
#[repr(C)]
pub(crate) struct CpuHpNode<T: CpuDead> {
    node: Opaque<bindings::hlist_node>,
    /// The state the node is registered with, or -1.
    state: AtomicI32,
    _owner: PhantomData<fn(&T)>,
}

// SAFETY: the node is only touched by the CPU-hotplug core, under its lock;
// the state is atomic.
unsafe impl<T: CpuDead> Send for CpuHpNode<T> {}
// SAFETY: as above.
unsafe impl<T: CpuDead> Sync for CpuHpNode<T> {}

impl<T: CpuDead> CpuHpNode<T> {
    /// An unregistered node to embed.
    pub(crate) fn new() -> Self {
        Self {
            node: Opaque::uninit(),
            state: AtomicI32::new(-1),
            _owner: PhantomData,
        }
    }

    /// Registers the node with `state`: from now on `cpu_dead` of the
    /// instance runs for every CPU that dies. `EINVAL` if the state is not
    /// set up, `EBUSY` if the node is registered.
    ///
    /// # Safety
    ///
    /// `self` must be the first field of a `#[repr(C)]` `T` that neither
    /// moves nor is freed before [`Self::unregister`] returns, and the node
    /// must be unregistered before it is dropped (`Drop` does it).
    pub(crate) unsafe fn register(&self, state: &'static CpuDeadState<T>) -> Result {
        let nr = state.state.load(SeqCst);
        if nr < 0 {
            return Err(EINVAL);
        }
        if self.state.compare_exchange(-1, nr, SeqCst, SeqCst).is_err() {
            return Err(EBUSY);
        }
        // SAFETY: a valid, unregistered node that outlives the registration
        // (caller's contract); no callback is invoked for the existing CPUs.
        let r = unsafe { bindings::__cpuhp_state_add_instance(nr as _, self.node.get(), false) };
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
            let _ = unsafe {
                bindings::__cpuhp_state_remove_instance(state as _, self.node.get(), false)
            };
        }
    }
}

impl<T: CpuDead> Drop for CpuHpNode<T> {
    fn drop(&mut self) {
        self.unregister();
    }
}

/// The teardown callback of every `CpuDeadState<T>`.
///
/// # Safety
///
/// Called by the CPU-hotplug core only, with the node of an instance
/// registered through [`CpuHpNode::register`] (so a live `T`).
unsafe extern "C" fn dead_cb<T: CpuDead>(
    cpu: kernel::ffi::c_uint,
    node: *mut bindings::hlist_node,
) -> kernel::ffi::c_int {
    // SAFETY: per `CpuHpNode::register`, `node` is the hlist_node at the
    // start of the `#[repr(C)]` CpuHpNode that is the first field of a live
    // `#[repr(C)]` T for as long as it is registered, and callbacks only
    // run for registered nodes.
    let owner = unsafe { &*node.cast::<T>() };
    if let Some(cpu) = CpuId::new(cpu) {
        owner.cpu_dead(cpu);
    }
    0
}
