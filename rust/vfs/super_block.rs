// SPDX-License-Identifier: GPL-2.0

//! The superblock of a `T` filesystem.

use super::buffer::Buffer;
use super::inode::{Iget, Inode, NewInode};
use super::FileSystem;
use crate::bindings;
use core::marker::PhantomData;
use core::ptr::NonNull;
use kernel::c_str;
use kernel::error::to_result;
use kernel::ffi::c_uint;
use kernel::prelude::*;
use kernel::str::CStr;
use kernel::types::{ARef, Opaque};

/// A mounted (or mounting) superblock (`struct super_block`) of a `T`
/// filesystem.
///
/// # Invariants
///
/// References to this type are only created for live superblocks, for no
/// longer than the VFS keeps them alive (the duration of a callback, or the
/// lifetime of an inode of the superblock), and only for superblocks of a
/// `T` filesystem, whose `s_fs_info` is null or a `T::Info` (see
/// [`super::ops`]).
#[repr(transparent)]
pub(crate) struct SuperBlock<T: FileSystem>(Opaque<bindings::super_block>, PhantomData<T>);

impl<T: FileSystem> SuperBlock<T> {
    /// # Safety
    ///
    /// `ptr` must point to a live superblock of a `T` filesystem that
    /// outlives `'a`.
    pub(super) unsafe fn from_raw<'a>(ptr: *mut bindings::super_block) -> &'a Self {
        // SAFETY: `SuperBlock` is a transparent wrapper of the C struct and
        // the caller guarantees liveness.
        unsafe { &*ptr.cast() }
    }

    pub(super) fn as_ptr(&self) -> *mut bindings::super_block {
        self.0.get()
    }

    /// The block device's name, e.g. `vdb`, for messages.
    pub(crate) fn id(&self) -> &CStr {
        // SAFETY: `s_id` is a NUL-terminated array inside the live
        // superblock; it is set before `fill_super` runs and never changed.
        unsafe { CStr::from_char_ptr((*self.as_ptr()).s_id.as_ptr()) }
    }

    /// The device number (`s_dev`), for tracepoints.
    pub(crate) fn dev(&self) -> bindings::dev_t {
        // SAFETY: live superblock; s_dev is set before fill_super.
        unsafe { (*self.as_ptr()).s_dev }
    }

    /// Size of the block device in filesystem blocks.
    pub(crate) fn device_blocks(&self) -> u64 {
        // SAFETY: the superblock is live and has a block device.
        unsafe { bindings::dinofs_sb_dev_blocks(self.as_ptr()) }
    }

    /// Whether the filesystem is mounted read-only.
    pub(crate) fn rdonly(&self) -> bool {
        // SAFETY: the superblock is live (type invariant); `s_flags` is
        // read without locks, as `sb_rdonly()` does.
        unsafe { (*self.as_ptr()).s_flags as u64 & u64::from(super::SB_RDONLY) != 0 }
    }

    /// The per-mount state `T::fill_super` built.
    pub(crate) fn info(&self) -> &T::Info {
        match self.try_info() {
            Some(i) => i,
            // Unreachable: `fill_super` sets the state before the root
            // inode exists, and `free_info` clears it only after
            // `generic_shutdown_super` evicted every inode and after
            // `InodeGc::teardown` cancelled every work item and
            // unregistered the shrinker and CPU-dead callbacks. What runs
            // on either side of that window (`destroy_inode`, eviction,
            // the low-space check, corruption reports) uses `try_info`. No
            // value from userspace or the disk decides this branch.
            None => unreachable!("superblock without s_fs_info"),
        }
    }

    /// The per-mount state, or `None` before `fill_super` set it up or
    /// after a failed mount tore it down.
    pub(crate) fn try_info(&self) -> Option<&T::Info> {
        // SAFETY: `s_fs_info` is null or a leaked `T::Info` (type
        // invariant) that lives until `put_super` (or the failure path of
        // `fill_super`) frees it, after which no code of `T` runs for this
        // superblock.
        unsafe { (*self.as_ptr()).s_fs_info.cast::<T::Info>().as_ref() }
    }

    /// Whether `sync_fs` is being called by `freeze_super()` after page
    /// faults were blocked: the moment to stop background inactivation.
    pub(crate) fn freezing_pagefault(&self) -> bool {
        // SAFETY: live superblock; reading the freeze level.
        unsafe { bindings::dinofs_sb_freezing_pagefault(self.as_ptr()) }
    }

    /// Whether the filesystem is frozen (`freeze_super()` completed): nothing
    /// may be written, and nothing is dirty.
    pub(crate) fn frozen(&self) -> bool {
        // SAFETY: live superblock; reading the freeze level.
        unsafe { bindings::dinofs_sb_frozen(self.as_ptr()) }
    }

    /// Whether no freeze is in progress or complete. Stable while the
    /// caller holds `s_umount` (freeze and thaw change it under it).
    pub(crate) fn unfrozen(&self) -> bool {
        // SAFETY: live superblock; reading the freeze level.
        unsafe { bindings::dinofs_sb_unfrozen(self.as_ptr()) }
    }

    /// Takes freeze protection for the filesystem's own work
    /// (`sb_start_intwrite`), as XFS's `xfs_trans_alloc` and ext4's
    /// `ext4_evict_inode` do before a transaction: blocks while the
    /// filesystem is frozen at `SB_FREEZE_FS`, and a freeze waits at that
    /// level for the holders to drop it. Take it before a journal handle,
    /// never inside one.
    pub(crate) fn start_intwrite(&self) -> IntWrite<'_, T> {
        // SAFETY: live superblock; the guard drops it on this task.
        unsafe { bindings::dinofs_sb_start_intwrite(self.as_ptr()) };
        IntWrite {
            sb: self,
            _task: PhantomData,
        }
    }

    /// The VFS's `freeze_super()` (for dinofs's `->freeze_super`, which
    /// wraps it). `who` is the caller's `enum freeze_holder`.
    pub(crate) fn vfs_freeze_super(&self, who: c_uint) -> Result {
        // SAFETY: live superblock with an active reference held by the
        // caller (ioctl or block-device holder); freeze_super takes
        // s_umount itself.
        to_result(unsafe { bindings::freeze_super(self.as_ptr(), who) })
    }

    /// `Err(EIO)` once the filesystem has been shut down
    /// ([`FileSystem::is_shut_down`]): the first thing every operation that
    /// reads or writes the disk checks.
    pub(crate) fn live(&self) -> Result {
        match self.try_info() {
            Some(i) if T::is_shut_down(i) => Err(EIO),
            _ => Ok(()),
        }
    }

    /// Reads block `block` through the buffer cache. Fails with `EIO` after
    /// a shutdown: no metadata is read or dirtied from then on.
    pub(crate) fn bread(&self, block: u32) -> Result<Buffer> {
        self.live()?;
        // SAFETY: the superblock is live and its block size is BLOCK_SIZE
        // (set in fill_super before any read of a 4 KiB block).
        let bh = unsafe { bindings::dinofs_sb_bread(self.as_ptr(), block as u64) };
        Buffer::new(bh, block).ok_or(EIO)
    }

    /// Starts reading block `block` into the buffer cache if it is not
    /// there, without waiting: a later [`Self::bread`] of it finds it (or
    /// waits for that read). Best effort; does nothing after a shutdown.
    pub(crate) fn readahead(&self, block: u32) {
        if self.live().is_ok() {
            // SAFETY: as for `bread`; a block past the device's end fails
            // its read (an I/O error on a readahead buffer, never used).
            unsafe { bindings::dinofs_sb_breadahead(self.as_ptr(), block as u64) };
        }
    }

    /// Reports corrupt metadata and returns the error every caller passes
    /// up: `-EUCLEAN`. Reports are rate-limited per mount (the mount's
    /// [`RateLimit`]), so a flood about one damaged filesystem never hides
    /// the first report about another; before `fill_super` set up the
    /// per-mount state a module-wide limit applies.
    pub(crate) fn corrupt(&self, what: &CStr, whereabouts: u64) -> Error {
        let rs = self
            .try_info()
            .map_or(core::ptr::null_mut(), |i| T::reports(i).as_ptr());
        // SAFETY: valid superblock and NUL-terminated string; `rs` is null
        // or the initialised limit inside the mount's state, which outlives
        // this call (`try_info`'s guarantee).
        unsafe { bindings::dinofs_corrupt(self.as_ptr(), rs, what.as_char_ptr(), whereabouts) };
        T::on_corruption(self);
        crate::kernel_ext::errno::euclean()
    }

    /// Looks up inode `ino` in the inode cache; a miss allocates a new
    /// inode in the `I_NEW` state for the caller to read from disk.
    pub(crate) fn iget_locked(&self, ino: u32) -> Result<Iget<T>> {
        // SAFETY: the superblock is live.
        let ptr = unsafe { bindings::iget_locked(self.as_ptr(), ino as _) };
        let ptr = NonNull::new(ptr).ok_or(ENOMEM)?;
        // SAFETY: iget_locked returned a referenced inode; we own that
        // reference.
        let inode = unsafe { ARef::from_raw(ptr.cast::<Inode<T>>()) };
        // SAFETY: `i_state` is read under no lock here, as the C callers of
        // iget_locked do: I_NEW is set by iget_locked for us alone.
        let new = unsafe { (*ptr.as_ptr()).i_state } & bindings::I_NEW != 0;
        Ok(if new {
            Iget::New(NewInode::new(inode))
        } else {
            Iget::Cached(inode)
        })
    }

    /// Allocates an in-memory inode for inode number `ino` that is being
    /// created on disk, hashed and in the `I_NEW` state.
    pub(crate) fn new_inode(&self, ino: u32) -> Result<NewInode<T>> {
        // SAFETY: the superblock is live.
        let ptr = unsafe { bindings::new_inode(self.as_ptr()) };
        let ptr = NonNull::new(ptr).ok_or(ENOMEM)?;
        // SAFETY: new_inode returned a referenced, unhashed inode we own.
        let inode = unsafe { ARef::from_raw(ptr.cast::<Inode<T>>()) };
        // SAFETY: the inode is ours and not yet visible.
        unsafe { (*ptr.as_ptr()).i_ino = ino as _ };
        // SAFETY: hashes the inode with I_NEW set; fails only if an inode
        // with this number is still cached (a stale slot: corruption).
        let ret = unsafe { bindings::insert_inode_locked(ptr.as_ptr()) };
        if ret != 0 {
            // The inode never became I_NEW; drop our reference plainly.
            drop(inode);
            return Err(self.corrupt(c_str!("inode allocator (in-use inode number)"), ino as u64));
        }
        Ok(NewInode::new(inode))
    }

    /// Freezes the filesystem through its block device (`bdev_freeze`):
    /// `freeze_super()` with everything written and gc stopped.
    pub(crate) fn freeze_bdev(&self) -> Result {
        // SAFETY: the superblock is live (the caller holds an open file on
        // it) and mounted on a block device with the VFS holder ops.
        to_result(unsafe { bindings::bdev_freeze((*self.as_ptr()).s_bdev) })
    }

    /// Undoes [`Self::freeze_bdev`].
    pub(crate) fn thaw_bdev(&self) {
        // SAFETY: as for `freeze_bdev`, after a successful freeze.
        unsafe { bindings::bdev_thaw((*self.as_ptr()).s_bdev) };
    }

    /// Runs `f` with `s_umount` held shared (as `syncfs(2)` does), which
    /// serialises it against freeze, thaw, remount and unmount.
    pub(crate) fn with_umount_read<R>(&self, f: impl FnOnce() -> R) -> R {
        // SAFETY: live superblock; the caller holds no s_umount already
        // (it runs in a syscall on an open file).
        unsafe { bindings::down_read(&raw mut (*self.as_ptr()).s_umount) };
        let r = f();
        // SAFETY: taken just above.
        unsafe { bindings::up_read(&raw mut (*self.as_ptr()).s_umount) };
        r
    }

    /// Writes back dirty buffers of the block device (metadata) and waits.
    pub(crate) fn sync_blockdev(&self) -> Result {
        // SAFETY: the superblock is live and mounted on a block device.
        to_result(unsafe { bindings::sync_blockdev((*self.as_ptr()).s_bdev) })
    }

    /// Empties the block device's volatile write cache
    /// (`blkdev_issue_flush`): every write completed before is durable
    /// after it. Completion alone is not durability: a disk may hold a
    /// completed write in its cache and lose it at a power cut.
    pub(crate) fn flush_device(&self) -> Result {
        // SAFETY: the superblock is live and mounted on a block device.
        to_result(unsafe { bindings::blkdev_issue_flush((*self.as_ptr()).s_bdev) })
    }

    /// A mark of the metadata write errors so far (the block device's
    /// `errseq`), for [`Self::meta_write_error_since`].
    pub(crate) fn meta_err_mark(&self) -> u32 {
        // SAFETY: the superblock is live and mounted on a block device.
        unsafe { bindings::dinofs_sb_meta_err_sample(self.as_ptr()) }
    }

    /// `Err` with the error if a write of the block device's page cache
    /// (every metadata buffer) failed since `mark` was taken.
    pub(crate) fn meta_write_error_since(&self, mark: u32) -> Result {
        // SAFETY: the superblock is live and mounted on a block device.
        to_result(unsafe { bindings::dinofs_sb_meta_err_check(self.as_ptr(), mark) })
    }
}

/// Freeze protection held for the filesystem's own work
/// ([`SuperBlock::start_intwrite`]); dropped with `sb_end_intwrite`.
pub(crate) struct IntWrite<'a, T: FileSystem> {
    sb: &'a SuperBlock<T>,
    /// Released by the task that took it (lockdep tracks the holder).
    _task: PhantomData<*mut ()>,
}

impl<T: FileSystem> Drop for IntWrite<'_, T> {
    fn drop(&mut self) {
        // SAFETY: taken by `start_intwrite` on this task, released once.
        unsafe { bindings::dinofs_sb_end_intwrite(self.sb.as_ptr()) };
    }
}
