// SPDX-License-Identifier: GPL-2.0

//! A heap-allocated cpumask.

use super::cpu::CpuId;
use crate::bindings;
use core::ptr::NonNull;
use kernel::prelude::*;

/// A heap-allocated cpumask (`cpumask_var_t`) with atomic bit operations.
///
/// # Invariants
///
/// The pointer is a live mask of `nr_cpu_ids` bits, freed only on drop.
pub(crate) struct CpuMask(NonNull<bindings::cpumask>);

// SAFETY: all operations are atomic bitops on the mask.
unsafe impl Send for CpuMask {}
// SAFETY: as above.
unsafe impl Sync for CpuMask {}

impl CpuMask {
    /// An empty mask.
    pub(crate) fn new() -> Result<Self> {
        // SAFETY: allocation with no preconditions.
        let p = unsafe { bindings::kx_alloc_cpumask() };
        Ok(Self(NonNull::new(p).ok_or(ENOMEM)?))
    }

    /// Sets `cpu`'s bit.
    pub(crate) fn set(&self, cpu: CpuId) {
        // SAFETY: a live mask (invariant) and a bit below nr_cpu_ids
        // (`CpuId`'s invariant); atomic set_bit.
        unsafe { bindings::kx_cpumask_set(cpu.as_u32(), self.0.as_ptr()) };
    }

    /// Clears `cpu`'s bit, with a full barrier after it, so a reader that
    /// then sees an empty list cannot miss an item added after the clear.
    pub(crate) fn clear(&self, cpu: CpuId) {
        // SAFETY: as in `set`; atomic clear_bit, then the barrier.
        unsafe {
            bindings::kx_cpumask_clear(cpu.as_u32(), self.0.as_ptr());
            bindings::kx_smp_mb__after_atomic();
        }
    }

    /// Tests `cpu`'s bit.
    pub(crate) fn test(&self, cpu: CpuId) -> bool {
        // SAFETY: as in `set`.
        unsafe { bindings::kx_cpumask_test(cpu.as_u32(), self.0.as_ptr()) }
    }
}

impl Drop for CpuMask {
    fn drop(&mut self) {
        // SAFETY: allocated in new(), freed once.
        unsafe { bindings::kx_free_cpumask(self.0.as_ptr()) };
    }
}
