// SPDX-License-Identifier: GPL-2.0

//! Memory-allocation scopes (`memalloc_nofs_save`).

use crate::bindings;
use core::marker::PhantomData;

/// A scope in which memory allocations do not recurse into filesystems,
/// for work done on behalf of reclaim. Restored on drop, on the same task
/// (the scope is not `Send`).
pub(crate) struct NofsScope(u32, PhantomData<*mut ()>);

impl NofsScope {
    /// Enters the scope.
    pub(crate) fn new() -> Self {
        // SAFETY: paired with restore in Drop on the same task.
        let flags = unsafe { bindings::kx_memalloc_nofs_save() };
        Self(flags, PhantomData)
    }

    /// Whether the current task is in a NOFS scope (it may hold filesystem
    /// resources, so it must not wait for filesystem work).
    pub(crate) fn current_is_nofs() -> bool {
        // SAFETY: reads current->flags.
        unsafe { bindings::kx_current_is_nofs() }
    }
}

impl Drop for NofsScope {
    fn drop(&mut self) {
        // SAFETY: restores the flags saved in new(), on the same task.
        unsafe { bindings::kx_memalloc_nofs_restore(self.0) };
    }
}
