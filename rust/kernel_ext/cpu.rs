// SPDX-License-Identifier: GPL-2.0

//! CPU numbers and the current CPU.

use crate::bindings;
use core::fmt;
use core::marker::PhantomData;

/// A CPU number below `nr_cpu_ids`. The only ways to get one check the
/// range ([`CpuId::new`]) or come from the kernel ([`CpuId::current`],
/// [`CpuId::possible`]), so every cpumask bit and per-CPU slot a `CpuId`
/// indexes exists.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
pub(crate) struct CpuId(u32);

fn nr_cpu_ids() -> u32 {
    // SAFETY: reads `nr_cpu_ids`, which is fixed after boot.
    unsafe { bindings::kx_nr_cpu_ids() }
}

impl CpuId {
    /// `cpu` if it is below `nr_cpu_ids`.
    pub(crate) fn new(cpu: u32) -> Option<Self> {
        (cpu < nr_cpu_ids()).then_some(Self(cpu))
    }

    /// The number.
    pub(crate) fn as_u32(self) -> u32 {
        self.0
    }

    /// The number, for indexing.
    pub(crate) fn as_usize(self) -> usize {
        self.0 as usize
    }

    /// The CPU the caller runs on right now (it may change at once unless
    /// preemption is disabled: see [`PreemptGuard`]).
    pub(crate) fn current() -> Self {
        // SAFETY: raw_smp_processor_id() has no preconditions; its result
        // is below nr_cpu_ids.
        Self(unsafe { bindings::kx_smp_processor_id() })
    }

    /// Every possible CPU, a superset of the online ones (never trust the
    /// online mask to find per-CPU state: CPUs leave it before their dead
    /// callbacks run).
    pub(crate) fn possible() -> impl Iterator<Item = CpuId> {
        (0..nr_cpu_ids()).map(Self).filter(|c| c.is_possible())
    }

    /// Whether the CPU is possible (has per-CPU memory).
    pub(crate) fn is_possible(self) -> bool {
        // SAFETY: reads a cpumask bit below nr_cpu_ids (type invariant).
        unsafe { bindings::kx_cpu_possible(self.0) }
    }

    /// Whether the CPU is active (online and schedulable). A CPU leaves the
    /// active mask first when it goes offline and joins it last when it
    /// comes online, so while it is active its bound work runs on it.
    pub(crate) fn is_active(self) -> bool {
        // SAFETY: as above.
        unsafe { bindings::kx_cpu_active(self.0) }
    }
}

impl fmt::Display for CpuId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Preemption disabled: the current task stays on [`PreemptGuard::cpu`]
/// until the guard is dropped (`get_cpu()`/`put_cpu()`). Nothing that can
/// sleep may run while it exists.
pub(crate) struct PreemptGuard {
    cpu: CpuId,
    _not_send: PhantomData<*mut ()>,
}

impl PreemptGuard {
    /// Disables preemption.
    pub(crate) fn new() -> Self {
        // SAFETY: get_cpu() has no preconditions; put_cpu() in Drop. Its
        // result is below nr_cpu_ids.
        let cpu = CpuId(unsafe { bindings::kx_get_cpu() });
        Self {
            cpu,
            _not_send: PhantomData,
        }
    }

    /// The CPU this task runs on, for as long as the guard lives.
    pub(crate) fn cpu(&self) -> CpuId {
        self.cpu
    }
}

impl Drop for PreemptGuard {
    fn drop(&mut self) {
        // SAFETY: pairs with get_cpu() in new(), on the same task (the
        // guard is not Send).
        unsafe { bindings::kx_put_cpu() };
    }
}

/// Spins for `us` microseconds (any context; keep it short).
pub(crate) fn udelay(us: u32) {
    // SAFETY: udelay() has no preconditions.
    unsafe { bindings::kx_udelay(us) };
}

/// Sleeps about `us` microseconds. May sleep: process context only, which
/// `might_sleep()` in `usleep_range()` checks (DEBUG_ATOMIC_SLEEP).
pub(crate) fn usleep(us: u32) {
    // SAFETY: usleep_range() has no memory-safety preconditions.
    unsafe { bindings::kx_usleep(us) };
}
