// SPDX-License-Identifier: GPL-2.0

//! Dentries, the `readdir` emitter and the mount API's context.

use super::inode::{Inode, NewInode};
use super::FileSystem;
use crate::bindings;
use core::marker::PhantomData;
use kernel::ffi::{c_int, c_uint};
use kernel::str::CStr;
use kernel::types::{ARef, Opaque};

/// A directory entry in the dcache (`struct dentry`) of a `T` filesystem.
///
/// # Invariants
///
/// References exist only for the duration of a VFS callback of `T` that
/// received the dentry.
#[repr(transparent)]
pub(crate) struct Dentry<T: FileSystem>(Opaque<bindings::dentry>, PhantomData<T>);

impl<T: FileSystem> Dentry<T> {
    /// # Safety
    ///
    /// `ptr` must be a dentry of a `T` filesystem the VFS keeps alive for
    /// `'a`.
    pub(super) unsafe fn from_raw<'a>(ptr: *mut bindings::dentry) -> &'a Self {
        // SAFETY: transparent wrapper; liveness by the caller.
        unsafe { &*ptr.cast() }
    }

    fn as_ptr(&self) -> *mut bindings::dentry {
        self.0.get()
    }

    /// The name.
    pub(crate) fn name(&self) -> &[u8] {
        let mut len = 0u32;
        // SAFETY: the name is stable while the VFS holds the parent's lock
        // (every callback that gets here does), and valid for `len` bytes.
        unsafe {
            let p = bindings::dinofs_dentry_name(self.as_ptr(), &mut len);
            core::slice::from_raw_parts(p, len as usize)
        }
    }

    /// The inode, for positive dentries.
    pub(crate) fn inode(&self) -> Option<&Inode<T>> {
        // SAFETY: a live dentry.
        let p = unsafe { (*self.as_ptr()).d_inode };
        // SAFETY: a positive dentry holds a reference to its inode, of the
        // same filesystem.
        (!p.is_null()).then(|| unsafe { Inode::from_raw(p) })
    }

    /// Binds a new inode to this negative dentry and publishes the inode.
    pub(crate) fn instantiate_new(&self, inode: NewInode<T>) {
        let inode = inode.take();
        // SAFETY: negative dentry, I_NEW inode; d_instantiate_new consumes
        // our reference and clears I_NEW.
        unsafe {
            bindings::d_instantiate_new(self.as_ptr(), ARef::into_raw(inode).as_ptr().cast())
        };
    }

    /// Binds an existing inode to this negative dentry (`link`).
    pub(crate) fn instantiate(&self, inode: ARef<Inode<T>>) {
        // SAFETY: negative dentry; d_instantiate consumes our reference.
        unsafe { bindings::d_instantiate(self.as_ptr(), ARef::into_raw(inode).as_ptr().cast()) };
    }
}

/// A mount request under construction (`struct fs_context`) for `T`.
///
/// # Invariants
///
/// References exist only during a mount-API callback of `T` for that
/// context, whose `fs_private` is the `T::Options` box of
/// `init_fs_context`.
#[repr(transparent)]
pub(crate) struct FsContext<T: FileSystem>(Opaque<bindings::fs_context>, PhantomData<T>);

impl<T: FileSystem> FsContext<T> {
    /// # Safety
    ///
    /// `ptr` must be the live context of the current callback of `T`.
    pub(super) unsafe fn from_raw<'a>(ptr: *mut bindings::fs_context) -> &'a Self {
        // SAFETY: transparent wrapper; liveness by the caller.
        unsafe { &*ptr.cast() }
    }

    fn as_ptr(&self) -> *mut bindings::fs_context {
        self.0.get()
    }

    /// Logs `msg` as a mount error. The VFS prefixes it with the type's
    /// name; it reaches userspace through the mount API and the kernel log.
    pub(crate) fn error(&self, msg: &CStr) {
        // SAFETY: live context, valid string.
        unsafe { bindings::dinofs_fc_error(self.as_ptr(), msg.as_char_ptr()) };
    }

    /// Whether the mount (or remount) asks for read-only.
    pub(crate) fn rdonly(&self) -> bool {
        // SAFETY: live context.
        unsafe { (*self.as_ptr()).sb_flags as u64 & u64::from(super::SB_RDONLY) != 0 }
    }

    /// The options parsed so far.
    pub(crate) fn options(&self) -> &T::Options {
        // SAFETY: `fs_private` is the leaked `T::Options` box of
        // `init_fs_context` (type invariant), live until `free`.
        unsafe { &*(*self.as_ptr()).fs_private.cast() }
    }
}

/// A `readdir` emitter (`struct dir_context`).
pub(crate) struct DirEmitter(*mut bindings::dir_context);

impl DirEmitter {
    /// # Safety
    ///
    /// `ctx` is the live context of an `iterate_shared` call, and the value
    /// is dropped before the call returns.
    pub(super) unsafe fn from_raw(ctx: *mut bindings::dir_context) -> Self {
        Self(ctx)
    }

    /// The position to continue from.
    pub(crate) fn pos(&self) -> i64 {
        // SAFETY: live context during iterate_shared.
        unsafe { (*self.0).pos }
    }

    /// Sets the position.
    pub(crate) fn set_pos(&mut self, pos: i64) {
        // SAFETY: as above.
        unsafe { (*self.0).pos = pos };
    }

    /// Emits one entry; `false` means the user buffer is full.
    pub(crate) fn emit(&mut self, name: &[u8], ino: u32, ftype: u8) -> bool {
        // SAFETY: live context; `name` valid for its length.
        unsafe {
            bindings::dinofs_dir_emit(
                self.0,
                name.as_ptr(),
                name.len() as c_int,
                ino as u64,
                ftype as c_uint,
            )
        }
    }
}
