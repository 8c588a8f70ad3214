// SPDX-License-Identifier: GPL-2.0

//! Per-CPU objects (`alloc_percpu`).

use super::cpu::CpuId;
use crate::bindings;
use core::marker::PhantomData;
use core::ptr::NonNull;
use kernel::init::PinInit;
use kernel::prelude::*;

/// One `T` per possible CPU, initialised in place (per-CPU memory never
/// moves, so the objects are pinned) and dropped with the whole.
///
/// # Invariants
///
/// `ptr` is a live per-CPU allocation of `T` whose slot is initialised for
/// every possible CPU.
pub(crate) struct PerCpu<T> {
    ptr: NonNull<kernel::ffi::c_void>,
    _objects: PhantomData<T>,
}

// SAFETY: owns `T`s that are reached from any CPU through `&self`.
unsafe impl<T: Send + Sync> Send for PerCpu<T> {}
// SAFETY: as above.
unsafe impl<T: Send + Sync> Sync for PerCpu<T> {}

impl<T> PerCpu<T> {
    /// Allocates the objects and initialises each possible CPU's with
    /// `init(cpu)`; on an error the ones already made are dropped.
    pub(crate) fn new<I, F>(mut init: F) -> Result<Self>
    where
        I: PinInit<T, Error>,
        F: FnMut(CpuId) -> I,
    {
        let (size, align) = (core::mem::size_of::<T>(), core::mem::align_of::<T>());
        // SAFETY: an allocation with no preconditions.
        let p = unsafe { bindings::kx_alloc_percpu(size.max(1), align) };
        let ptr = NonNull::new(p).ok_or(ENOMEM)?;
        let slot = |cpu: CpuId| {
            // SAFETY: `cpu` is below nr_cpu_ids; the result is that CPU's
            // slot of the allocation.
            unsafe { bindings::kx_per_cpu_ptr(ptr.as_ptr(), cpu.as_u32()).cast::<T>() }
        };
        let mut done = KVec::new();
        for cpu in CpuId::possible() {
            // SAFETY: the slot is valid, suitably aligned, uninitialised and
            // never moves.
            let r = unsafe { init(cpu).__pinned_init(slot(cpu)) };
            let r = r.and_then(|()| done.push(cpu, GFP_KERNEL).map_err(Error::from));
            if let Err(e) = r {
                for &c in done.iter() {
                    // SAFETY: initialised above, dropped once.
                    unsafe { core::ptr::drop_in_place(slot(c)) };
                }
                // A slot initialised whose `push` failed leaks its `T`:
                // that needs an allocation failure of a few bytes.
                // SAFETY: allocated above; nothing refers to it.
                unsafe { bindings::kx_free_percpu(ptr.as_ptr()) };
                return Err(e);
            }
        }
        // INVARIANT: every possible CPU's slot is initialised.
        Ok(Self {
            ptr,
            _objects: PhantomData,
        })
    }

    /// `cpu`'s object, if it is a possible CPU.
    pub(crate) fn get(&self, cpu: CpuId) -> Option<&T> {
        if !cpu.is_possible() {
            return None;
        }
        // SAFETY: a possible CPU's slot is initialised (invariant) and lives
        // as long as `self`.
        Some(unsafe { &*bindings::kx_per_cpu_ptr(self.ptr.as_ptr(), cpu.as_u32()).cast::<T>() })
    }

    /// Every possible CPU's object.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &T> {
        CpuId::possible().filter_map(|c| self.get(c))
    }
}

impl<T> Drop for PerCpu<T> {
    fn drop(&mut self) {
        for cpu in CpuId::possible() {
            // SAFETY: initialised (invariant), dropped once; nothing can
            // reach the objects once `self` is being dropped.
            unsafe {
                core::ptr::drop_in_place(
                    bindings::kx_per_cpu_ptr(self.ptr.as_ptr(), cpu.as_u32()).cast::<T>(),
                )
            };
        }
        // SAFETY: allocated in new(), freed once.
        unsafe { bindings::kx_free_percpu(self.ptr.as_ptr()) };
    }
}
