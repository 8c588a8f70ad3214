// SPDX-License-Identifier: GPL-2.0

//! A shrinker whose callbacks call a trait (binder's `page_range.rs` in
//! later kernels is the model: `shrinker_alloc`, fields set, then
//! `shrinker_register`; `shrinker_free` waits for running callbacks).

use crate::bindings;
use core::marker::PhantomData;
use core::sync::atomic::{AtomicPtr, Ordering::SeqCst};
use kernel::c_str;
use kernel::prelude::*;
use kernel::str::CStr;

/// What `scan_objects` returns when it freed nothing and reclaim should
/// stop asking.
pub(crate) const SHRINK_STOP: u64 = !0;

/// `SHRINKER_NONSLAB`: the objects are not slab objects of a memcg (the
/// shrinker is called for every memcg reclaim).
const SHRINKER_NONSLAB: u32 = 1 << 4;

/// What the shrinker's owner implements.
pub(crate) trait ShrinkerOps: Sync {
    /// `count_objects`: how many objects could be freed (0: none).
    fn count_objects(&self) -> u64;
    /// `scan_objects`: try to free `nr_to_scan`; how many were freed, or
    /// [`SHRINK_STOP`].
    fn scan_objects(&self, nr_to_scan: u64) -> u64;
}

/// How the shrinker is set up.
pub(crate) struct ShrinkerConfig {
    /// `seeks`: the cost of recreating an object (0: the shrinker frees
    /// nothing itself, it only makes its owner act).
    pub(crate) seeks: i32,
    /// `batch`: objects per `scan_objects` call.
    pub(crate) batch: i64,
    /// `SHRINKER_NONSLAB`.
    pub(crate) nonslab: bool,
}

/// A shrinker registered for an owner `T`.
///
/// Registered and unregistered through shared references, so the owner
/// never needs a mutable reference to itself while a callback may hold a
/// shared one. [`Self::unregister`] (also run on drop) waits for running
/// callbacks.
pub(crate) struct Shrinker<T: ShrinkerOps> {
    ptr: AtomicPtr<bindings::shrinker>,
    _owner: PhantomData<fn(&T)>,
}

impl<T: ShrinkerOps> Shrinker<T> {
    /// An unregistered shrinker.
    pub(crate) const fn new() -> Self {
        Self {
            ptr: AtomicPtr::new(core::ptr::null_mut()),
            _owner: PhantomData,
        }
    }

    /// Registers a shrinker named `prefix:id` whose callbacks call `owner`.
    /// `EBUSY` if it is registered already.
    ///
    /// # Safety
    ///
    /// `owner` must neither move nor be freed before [`Self::unregister`]
    /// returns (or `self` is dropped): the callbacks reach it through a
    /// raw pointer.
    pub(crate) unsafe fn register(
        &self,
        prefix: &CStr,
        id: &CStr,
        owner: &T,
        cfg: ShrinkerConfig,
    ) -> Result {
        let flags = if cfg.nonslab { SHRINKER_NONSLAB } else { 0 };
        // SAFETY: a valid format string with two `%s` and two valid
        // NUL-terminated strings for them.
        let s = unsafe {
            bindings::shrinker_alloc(
                flags,
                c_str!("%s:%s").as_char_ptr(),
                prefix.as_char_ptr(),
                id.as_char_ptr(),
            )
        };
        if s.is_null() {
            return Err(ENOMEM);
        }
        // SAFETY: `s` was just allocated and is not registered yet, so
        // nothing else reads its fields.
        unsafe {
            (*s).count_objects = Some(count_cb::<T>);
            (*s).scan_objects = Some(scan_cb::<T>);
            (*s).seeks = cfg.seeks;
            (*s).batch = cfg.batch as _;
            (*s).private_data = (owner as *const T).cast_mut().cast();
        }
        if self
            .ptr
            .compare_exchange(core::ptr::null_mut(), s, SeqCst, SeqCst)
            .is_err()
        {
            // SAFETY: allocated above, never registered or published.
            unsafe { bindings::shrinker_free(s) };
            return Err(EBUSY);
        }
        // SAFETY: fully set up; `owner` outlives the registration (caller's
        // contract).
        unsafe { bindings::shrinker_register(s) };
        Ok(())
    }

    /// Unregisters the shrinker (if registered) and waits for its running
    /// callbacks. Idempotent.
    pub(crate) fn unregister(&self) {
        let s = self.ptr.swap(core::ptr::null_mut(), SeqCst);
        if !s.is_null() {
            // SAFETY: registered by `register`; the swap hands it to exactly
            // one caller. shrinker_free() waits for running callbacks.
            unsafe { bindings::shrinker_free(s) };
        }
    }
}

impl<T: ShrinkerOps> Drop for Shrinker<T> {
    fn drop(&mut self) {
        self.unregister();
    }
}

/// `count_objects` of every `Shrinker<T>`.
///
/// # Safety
///
/// Called by the shrinker core only, with a shrinker set up by
/// [`Shrinker::register`] for a `T` that is still alive.
unsafe extern "C" fn count_cb<T: ShrinkerOps>(
    s: *mut bindings::shrinker,
    _sc: *mut bindings::shrink_control,
) -> kernel::ffi::c_ulong {
    // SAFETY: the shrinker core passes the shrinker `register` set up, whose
    // `private_data` is an owner that outlives the registration.
    let owner = unsafe { &*(*s).private_data.cast::<T>() };
    owner.count_objects() as _
}

/// `scan_objects` of every `Shrinker<T>`.
///
/// # Safety
///
/// As for [`count_cb`]; `sc` is the caller's live `shrink_control`.
unsafe extern "C" fn scan_cb<T: ShrinkerOps>(
    s: *mut bindings::shrinker,
    sc: *mut bindings::shrink_control,
) -> kernel::ffi::c_ulong {
    // SAFETY: as in `count_cb`; `sc` is the caller's live shrink_control.
    let (owner, nr) = unsafe { (&*(*s).private_data.cast::<T>(), (*sc).nr_to_scan) };
    owner.scan_objects(nr as u64) as _
}
