// SPDX-License-Identifier: GPL-2.0

//! debugfs: a directory of one text file and numbered knob files, owned
//! together with the object they read and write.
//!
//! [`Debugfs`] owns its source (a pinned box) and the directory whose files
//! call back into it, and drops the directory first: `debugfs_remove()`
//! waits for running reads and writes, so no callback can reach the source
//! after it is gone. That is why constructing one is safe.
//!
//! Creation failures are not errors: debugfs is optional, and a missing
//! directory only means the files are not there.

use crate::bindings;
use core::ffi::c_void;
use core::ops::Deref;
use kernel::error::from_result;
use kernel::ffi::{c_int, c_uint};
use kernel::prelude::*;
use kernel::str::CStr;

/// A knob file: its name and the number its source knows it by.
pub(crate) struct Knob {
    /// The file name.
    pub(crate) name: &'static CStr,
    /// Passed to [`DebugfsSource::knob_get`] and [`DebugfsSource::knob_set`].
    pub(crate) id: u32,
}

/// What a [`Debugfs`] directory shows.
pub(crate) trait DebugfsSource: Send + Sync + 'static {
    /// The name of the text file.
    const SHOW_NAME: &'static CStr;
    /// The knob files.
    const KNOBS: &'static [Knob];
    /// Writes the text file's contents.
    fn show(&self, out: &mut SeqWriter);
    /// Reads knob `id`.
    fn knob_get(&self, id: u32) -> u64;
    /// Writes knob `id`; an error is returned to the writer.
    fn knob_set(&self, id: u32, value: u64) -> Result;
}

/// A `seq_file` as a `core::fmt::Write` sink.
pub(crate) struct SeqWriter(*mut bindings::seq_file);

impl core::fmt::Write for SeqWriter {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        // SAFETY: a `SeqWriter` exists only during a show callback, whose
        // `seq_file` is live; `s` is valid for its length.
        unsafe { bindings::seq_write(self.0, s.as_ptr().cast(), s.len()) };
        Ok(())
    }
}

/// A source of type `D` and its debugfs directory `<parent>/<name>/`.
///
/// # Invariants
///
/// `dir` is null or a directory whose files have `files` as their private
/// data, and `files[i].owner` points into `owner`'s allocation; `files` and
/// `owner` are neither moved out of nor dropped before `dir` is removed.
pub(crate) struct Debugfs<D: DebugfsSource> {
    dir: *mut bindings::dentry,
    // Boxed so the files' private data has a fixed address; never empty.
    files: KVec<bindings::kx_debugfs_file>,
    owner: Pin<KBox<D>>,
}

// SAFETY: the raw pointers are a debugfs dentry (removal is thread-safe)
// and the file records, which only the C callbacks read; `D` is Send+Sync.
unsafe impl<D: DebugfsSource> Send for Debugfs<D> {}
// SAFETY: as above; shared access only reads.
unsafe impl<D: DebugfsSource> Sync for Debugfs<D> {}

impl<D: DebugfsSource> Debugfs<D> {
    /// Takes `owner` and creates `<parent>/<name>/` with the text file and
    /// the knob files of `D`. `parent`, a directory at the debugfs root,
    /// is created by its first user; the module that names it removes it
    /// when no user can be left (dinofs: after unregistering its
    /// filesystem type).
    pub(crate) fn new(owner: Pin<KBox<D>>, parent: &'static CStr, name: &CStr) -> Self {
        let mut this = Self {
            dir: core::ptr::null_mut(),
            files: KVec::new(),
            owner,
        };
        if this.files.reserve(D::KNOBS.len() + 1, GFP_KERNEL).is_err() {
            return this;
        }
        let owner: *const c_void = (&*this.owner as *const D).cast();
        let show = bindings::kx_debugfs_file {
            owner,
            id: 0,
            show: Some(show_cb::<D>),
            get: None,
            set: None,
        };
        // Capacity was reserved above: these pushes cannot fail or move.
        let _ = this.files.push(show, GFP_KERNEL);
        for k in D::KNOBS {
            let _ = this.files.push(
                bindings::kx_debugfs_file {
                    owner,
                    id: k.id,
                    show: None,
                    get: Some(get_cb::<D>),
                    set: Some(set_cb::<D>),
                },
                GFP_KERNEL,
            );
        }
        let (parent, name) = (parent.as_char_ptr(), name.as_char_ptr());
        // SAFETY: both strings are NUL-terminated.
        let dir = unsafe { bindings::kx_debugfs_create_dir(parent, name) };
        if dir.is_null() {
            return this;
        }
        let files = this.files.as_mut_ptr();
        // SAFETY: `dir` is a live directory; the records live in `files`
        // (reserved, so never reallocated) until `dir` is removed in drop,
        // and their `owner` is the pinned box, dropped after that.
        unsafe {
            bindings::kx_debugfs_create_show(D::SHOW_NAME.as_char_ptr(), dir, files);
            for (i, k) in D::KNOBS.iter().enumerate() {
                bindings::kx_debugfs_create_knob(k.name.as_char_ptr(), dir, files.add(i + 1));
            }
        }
        // INVARIANT: the files' private data and owners are set up above.
        this.dir = dir;
        this
    }
}

impl<D: DebugfsSource> Deref for Debugfs<D> {
    type Target = D;

    fn deref(&self) -> &D {
        &self.owner
    }
}

impl<D: DebugfsSource> Drop for Debugfs<D> {
    fn drop(&mut self) {
        if !self.dir.is_null() {
            // SAFETY: created in `new`, removed once; debugfs_remove waits
            // for running callbacks, so none reaches `files` or `owner`,
            // dropped after this.
            unsafe { bindings::debugfs_remove(self.dir) };
        }
    }
}

/// The source a callback's record points to.
///
/// # Safety
///
/// `f` is a record set up by [`Debugfs::new`] for a `D`, whose directory
/// has not been removed.
unsafe fn owner_of<'a, D: DebugfsSource>(f: *const bindings::kx_debugfs_file) -> &'a D {
    // SAFETY: per the contract the record and its owner are live (the
    // type invariant of the `Debugfs` that created them).
    unsafe { &*(*f).owner.cast::<D>() }
}

extern "C" fn show_cb<D: DebugfsSource>(
    m: *mut bindings::seq_file,
    f: *const bindings::kx_debugfs_file,
) -> c_int {
    // SAFETY: the C show callback passes its file's record (set by
    // `Debugfs::new` for `D`), and the directory is live while it runs.
    let d = unsafe { owner_of::<D>(f) };
    d.show(&mut SeqWriter(m));
    0
}

extern "C" fn get_cb<D: DebugfsSource>(f: *const bindings::kx_debugfs_file) -> u64 {
    // SAFETY: as in `show_cb`.
    let d = unsafe { owner_of::<D>(f) };
    // SAFETY: as above; the record is live.
    d.knob_get(unsafe { (*f).id })
}

extern "C" fn set_cb<D: DebugfsSource>(f: *const bindings::kx_debugfs_file, value: u64) -> c_int {
    // SAFETY: as in `show_cb`.
    let d = unsafe { owner_of::<D>(f) };
    // SAFETY: as above.
    let id: c_uint = unsafe { (*f).id };
    from_result(|| {
        d.knob_set(id, value)?;
        Ok(0)
    })
}
