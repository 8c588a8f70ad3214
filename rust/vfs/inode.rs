// SPDX-License-Identifier: GPL-2.0

//! Inodes: the VFS inode of a `T` filesystem and the per-inode data `T`
//! keeps beside it.
//!
//! The in-memory inode is a `struct dinofs_inode` (`helpers.h`): the VFS
//! inode, a mutex, room for `T::InodeData` (under that mutex) and a list
//! node for a deferred-inactivation queue. Only this file touches it.

use super::super_block::SuperBlock;
use super::FileSystem;
use crate::bindings;
use core::marker::PhantomData;
use core::mem::ManuallyDrop;
use core::ops::{Deref, DerefMut};
use core::ptr::NonNull;
use kernel::error::to_result;
use kernel::ffi::c_int;
use kernel::prelude::*;
use kernel::types::{ARef, AlwaysRefCounted, Opaque};

/// A time stamp as the VFS keeps it: seconds and nanoseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Timestamp {
    /// Seconds since the epoch.
    pub(crate) sec: i64,
    /// Nanoseconds, below 10^9.
    pub(crate) nsec: u32,
}

/// Access, modification and change times.
pub(crate) type Times = (Timestamp, Timestamp, Timestamp);

fn ts(t: bindings::timespec64) -> Timestamp {
    Timestamp {
        sec: t.tv_sec,
        nsec: t.tv_nsec as u32,
    }
}

/// `new_encode_dev()`: a `dev_t` (12-bit major, 20-bit minor) as the
/// 32-bit number filesystems store.
pub(crate) fn encode_dev(dev: bindings::dev_t) -> u32 {
    let (major, minor) = (dev >> 20, dev & 0xfffff);
    (minor & 0xff) | (major << 8) | ((minor & !0xff) << 12)
}

/// `new_decode_dev()`: the inverse of [`encode_dev`].
pub(crate) fn decode_dev(dev: u32) -> bindings::dev_t {
    let major = (dev & 0xfff00) >> 8;
    let minor = (dev & 0xff) | ((dev >> 12) & 0xfff00);
    (major << 20) | minor
}

/// The attributes a filesystem reads from disk into a new inode.
pub(crate) struct Attrs {
    /// Type and permission bits.
    pub(crate) mode: u16,
    /// Link count.
    pub(crate) nlink: u32,
    /// Owner.
    pub(crate) uid: u32,
    /// Group.
    pub(crate) gid: u32,
    /// Size in bytes.
    pub(crate) size: u64,
    /// Generation number.
    pub(crate) generation: u32,
    /// Device number (`new_encode_dev` form).
    pub(crate) rdev: u32,
    /// Access, modification and change times.
    pub(crate) times: Times,
    /// Space used, in 512-byte sectors (`i_blocks`).
    pub(crate) sectors: u64,
}

/// A VFS inode (`struct inode` inside `struct dinofs_inode`) of a `T`
/// filesystem.
///
/// # Invariants
///
/// Instances are always embedded in a `struct dinofs_inode` allocated by
/// [`alloc_inode`] for `T` (so its data area holds a `T::InodeData`), and
/// references exist only while the inode is referenced.
#[repr(transparent)]
pub(crate) struct Inode<T: FileSystem>(Opaque<bindings::inode>, PhantomData<T>);

// SAFETY: the refcount is managed by ihold/iput, which may be called from
// any thread; all shared mutable state is protected by kernel locks.
unsafe impl<T: FileSystem> AlwaysRefCounted for Inode<T> {
    fn inc_ref(&self) {
        // SAFETY: the existence of `&self` means the count is nonzero.
        unsafe { bindings::ihold(self.0.get()) };
    }

    unsafe fn dec_ref(obj: NonNull<Self>) {
        // SAFETY: the caller owns a reference.
        unsafe { bindings::iput(obj.cast().as_ptr()) };
    }
}

// SAFETY: see `AlwaysRefCounted`: inodes are shared between threads by design.
unsafe impl<T: FileSystem> Send for Inode<T> {}
// SAFETY: as above.
unsafe impl<T: FileSystem> Sync for Inode<T> {}

impl<T: FileSystem> Inode<T> {
    /// # Safety
    ///
    /// `ptr` must point to a referenced inode of a `T` filesystem that
    /// outlives `'a`.
    pub(super) unsafe fn from_raw<'a>(ptr: *mut bindings::inode) -> &'a Self {
        // SAFETY: transparent wrapper; liveness by the caller.
        unsafe { &*ptr.cast() }
    }

    pub(super) fn as_ptr(&self) -> *mut bindings::inode {
        self.0.get()
    }

    /// The in-memory inode's identity: its address, as an integer (never
    /// turned back into a pointer). Unique among live inodes; the engine's
    /// gc index tells a dead inode from a newer one with the same number.
    pub(crate) fn id(&self) -> usize {
        self.as_ptr() as usize
    }

    /// The inode number.
    pub(crate) fn ino(&self) -> u32 {
        // SAFETY: `i_ino` is set before the inode is visible and never changes.
        unsafe { (*self.as_ptr()).i_ino as u32 }
    }

    /// The superblock.
    pub(crate) fn sb(&self) -> &SuperBlock<T> {
        // SAFETY: an inode keeps its superblock alive, and it is a `T` one.
        unsafe { SuperBlock::from_raw((*self.as_ptr()).i_sb) }
    }

    /// Type and permission bits.
    pub(crate) fn mode(&self) -> u16 {
        // SAFETY: reading a plain field of a live inode; writers hold the
        // inode lock, and a torn read is impossible for a u16.
        unsafe { (*self.as_ptr()).i_mode }
    }

    /// Hard link count.
    pub(crate) fn nlink(&self) -> u32 {
        // SAFETY: live inode; `i_nlink` is read without locks by the VFS too.
        unsafe { (*self.as_ptr()).__bindgen_anon_1.i_nlink }
    }

    /// Sets the link count.
    pub(crate) fn set_nlink(&self, n: u32) {
        // SAFETY: live inode; callers hold the locks the VFS requires.
        unsafe { bindings::set_nlink(self.as_ptr(), n) };
    }

    /// Increments the link count.
    pub(crate) fn inc_nlink(&self) {
        // SAFETY: as above.
        unsafe { bindings::inc_nlink(self.as_ptr()) };
    }

    /// Decrements the link count (never below zero).
    pub(crate) fn drop_nlink(&self) {
        if self.nlink() > 0 {
            // SAFETY: as above; the count is nonzero.
            unsafe { bindings::drop_nlink(self.as_ptr()) };
        }
    }

    /// Size in bytes.
    pub(crate) fn size(&self) -> u64 {
        // SAFETY: live inode.
        unsafe { bindings::dinofs_i_size_read(self.as_ptr()) as u64 }
    }

    /// Sets the size.
    pub(crate) fn set_size(&self, size: u64) {
        // SAFETY: live inode; callers hold the inode lock.
        unsafe { bindings::dinofs_i_size_write(self.as_ptr(), size as i64) };
    }

    /// Owner and group.
    pub(crate) fn owner(&self) -> (u32, u32) {
        // SAFETY: live inode.
        unsafe {
            (
                bindings::dinofs_i_uid_read(self.as_ptr()),
                bindings::dinofs_i_gid_read(self.as_ptr()),
            )
        }
    }

    /// Device number, encoded for disk.
    pub(crate) fn rdev(&self) -> u32 {
        // SAFETY: live inode.
        encode_dev(unsafe { (*self.as_ptr()).i_rdev })
    }

    /// Generation number.
    pub(crate) fn generation(&self) -> u32 {
        // SAFETY: live inode; set once at creation or read.
        unsafe { (*self.as_ptr()).i_generation }
    }

    /// Access, modification and change times.
    pub(crate) fn times(&self) -> Times {
        // SAFETY: live inode.
        unsafe {
            (
                ts(bindings::dinofs_inode_get_atime(self.as_ptr())),
                ts(bindings::dinofs_inode_get_mtime(self.as_ptr())),
                ts(bindings::dinofs_inode_get_ctime(self.as_ptr())),
            )
        }
    }

    /// Sets ctime to now.
    pub(crate) fn touch_ctime(&self) {
        // SAFETY: live inode.
        unsafe { bindings::inode_set_ctime_current(self.as_ptr()) };
    }

    /// Sets mtime and ctime to now.
    pub(crate) fn touch_mctime(&self) {
        // SAFETY: live inode.
        unsafe { bindings::dinofs_inode_touch_mctime(self.as_ptr()) };
    }

    /// Marks the inode dirty so writeback calls `write_inode`.
    pub(crate) fn mark_dirty(&self) {
        // SAFETY: live inode.
        unsafe { bindings::__mark_inode_dirty(self.as_ptr(), bindings::I_DIRTY as c_int) };
    }

    /// Whether the inode was marked bad (I/O error or corruption).
    pub(crate) fn is_bad(&self) -> bool {
        // SAFETY: live inode.
        unsafe { bindings::is_bad_inode(self.as_ptr()) }
    }

    /// Locks the inode's data (`T::InodeData`).
    pub(crate) fn lock_data(&self) -> DataGuard<'_, T> {
        // SAFETY: live inode in a container (type invariant); the mutex was
        // initialised by the slab constructor.
        unsafe { bindings::dinofs_data_lock(self.as_ptr()) };
        DataGuard { inode: self }
    }

    /// Changes the size for a truncate: zeroes the tail of the new last
    /// block and drops the page cache past it. The caller trims its block
    /// map afterwards.
    pub(crate) fn truncate_pagecache(&self, size: u64) -> Result {
        let p = self.as_ptr();
        // SAFETY: the caller (setattr) holds the inode lock; the mapping
        // is the inode's own.
        unsafe {
            to_result(bindings::block_truncate_page(
                (*p).i_mapping,
                size as i64,
                Some(super::ops::get_block::<T>),
            ))?;
            bindings::truncate_setsize(p, size as i64);
        }
        Ok(())
    }

    /// Writes a symlink target into the new inode's first block through the
    /// page cache (`page_symlink`), then writes that block and waits for
    /// it: the target is data to the journal, and the transaction that
    /// creates the symlink (the caller's handle) must not commit before
    /// it is on the disk, or a crash after the commit leaves a symlink of
    /// zeros (generic/051 found it; the commit's cache flush then makes the
    /// write durable with it). A journaling filesystem's ordered mode does
    /// this for all data; here it is done for the one kind of data the
    /// namespace depends on.
    pub(crate) fn write_symlink(&self, target: &[u8]) -> Result {
        let len = c_int::try_from(target.len()).map_err(|_| EINVAL)?;
        // SAFETY: a new inode only we access; `target` is valid for `len`
        // bytes, and page_symlink copies `len + 1 - 1` of them (the count
        // includes a NUL it does not store).
        to_result(unsafe {
            bindings::page_symlink(self.as_ptr(), target.as_ptr().cast(), len + 1)
        })?;
        // SAFETY: the live inode's own mapping; writeback of it may run
        // inside the caller's handle (its blocks were mapped by
        // `page_symlink`'s `write_begin`, so writeback allocates nothing).
        to_result(unsafe {
            bindings::filemap_write_and_wait_range((*self.as_ptr()).i_mapping, 0, i64::MAX)
        })
    }
}

/// The locked per-inode data of a `T` inode.
pub(crate) struct DataGuard<'a, T: FileSystem> {
    inode: &'a Inode<T>,
}

impl<T: FileSystem> DataGuard<'_, T> {
    fn data(&self) -> *mut T::InodeData {
        // SAFETY: a live `T` inode (type invariant of `Inode<T>`).
        unsafe { super::ops::inode_data::<T>(self.inode.as_ptr()) }
    }

    /// Sets `i_blocks` (512-byte sectors), which dinofs changes together
    /// with its block count, under this lock.
    pub(crate) fn set_sectors(&mut self, sectors: u64) {
        // SAFETY: live inode; `i_blocks` is only written under this lock
        // (and by `load`, before the inode is visible).
        unsafe { (*self.inode.as_ptr()).i_blocks = sectors };
    }
}

impl<T: FileSystem> Deref for DataGuard<'_, T> {
    type Target = T::InodeData;

    fn deref(&self) -> &T::InodeData {
        // SAFETY: the container's data area holds a `T::InodeData` written
        // by `alloc_inode`, and only holders of the lock reach it.
        unsafe { &*self.data() }
    }
}

impl<T: FileSystem> DerefMut for DataGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T::InodeData {
        // SAFETY: as above; the guard is unique (the mutex).
        unsafe { &mut *self.data() }
    }
}

impl<T: FileSystem> Drop for DataGuard<'_, T> {
    fn drop(&mut self) {
        // SAFETY: we hold the lock (taken in `lock_data`).
        unsafe { bindings::dinofs_data_unlock(self.inode.as_ptr()) };
    }
}

/// An inode in the `I_NEW` state: hashed, but invisible to other lookups
/// until published.
///
/// # Invariants
///
/// The inode is `I_NEW` (or, from [`SuperBlock::new_inode`], hashed by
/// `insert_inode_locked` with `I_NEW` set), so nothing but the holder of
/// this value touches its fields. Dropping it unpublished marks it bad and releases it
/// (`iget_failed`), so a failed read or create never leaves a half-set-up
/// inode in the cache.
pub(crate) struct NewInode<T: FileSystem>(ManuallyDrop<ARef<Inode<T>>>);

impl<T: FileSystem> NewInode<T> {
    pub(super) fn new(inode: ARef<Inode<T>>) -> Self {
        Self(ManuallyDrop::new(inode))
    }

    /// The inode being set up.
    pub(crate) fn inode(&self) -> &Inode<T> {
        &self.0
    }

    /// Gives up the guard: the caller now owns the reference (and the job
    /// of clearing `I_NEW`).
    pub(super) fn take(self) -> ARef<Inode<T>> {
        let mut this = ManuallyDrop::new(self);
        // SAFETY: `this` is never dropped, so the reference is moved out of
        // it exactly once.
        unsafe { ManuallyDrop::take(&mut this.0) }
    }

    /// Fills the VFS inode from its on-disk attributes and installs `T`'s
    /// operation tables for its type.
    pub(crate) fn load(&self, a: &Attrs) {
        let p = self.inode().as_ptr();
        let (at, mt, ct) = a.times;
        // SAFETY: the inode is I_NEW (type invariant of `NewInode`): only we
        // access it.
        unsafe {
            (*p).i_mode = a.mode;
            bindings::set_nlink(p, a.nlink);
            bindings::dinofs_i_uid_write(p, a.uid);
            bindings::dinofs_i_gid_write(p, a.gid);
            bindings::dinofs_i_size_write(p, a.size as i64);
            (*p).i_generation = a.generation;
            (*p).i_rdev = decode_dev(a.rdev);
            bindings::dinofs_inode_set_times(p, at.sec, at.nsec, mt.sec, mt.nsec, ct.sec, ct.nsec);
            (*p).i_blocks = a.sectors;
        }
        super::ops::set_inode_ops::<T>(self);
    }

    /// Sets up an inode being created: owner from the creating task and
    /// directory (`inode_init_owner`), mode, device number, times now,
    /// generation.
    pub(crate) fn init_new(&self, dir: &Inode<T>, mode: u16, rdev: u32, generation: u32) {
        let p = self.inode().as_ptr();
        // SAFETY: the inode is I_NEW (type invariant): only we access it;
        // `dir` is live.
        unsafe {
            bindings::inode_init_owner(&raw mut bindings::nop_mnt_idmap, p, dir.as_ptr(), mode);
            (*p).i_rdev = decode_dev(rdev);
            (*p).i_generation = generation;
            bindings::dinofs_inode_touch_mctime(p);
            let now = bindings::dinofs_inode_get_ctime(p);
            let ns = now.tv_nsec as u32;
            bindings::dinofs_inode_set_times(p, now.tv_sec, ns, now.tv_sec, ns, now.tv_sec, ns);
        }
        super::ops::set_inode_ops::<T>(self);
    }

    /// Makes the inode visible to lookups.
    pub(crate) fn publish(self) -> ARef<Inode<T>> {
        let inode = self.take();
        // SAFETY: the inode is I_NEW and fully set up.
        unsafe { bindings::unlock_new_inode(inode.as_ptr()) };
        inode
    }
}

impl<T: FileSystem> Drop for NewInode<T> {
    fn drop(&mut self) {
        // SAFETY: drop runs once and nothing uses the field afterwards.
        let inode = unsafe { ManuallyDrop::take(&mut self.0) };
        let ptr = ARef::into_raw(inode);
        // SAFETY: an I_NEW inode we hold a reference to; iget_failed marks
        // it bad, clears I_NEW and drops our reference.
        unsafe { bindings::iget_failed(ptr.as_ptr().cast()) };
    }
}

/// The result of [`SuperBlock::iget_locked`].
pub(crate) enum Iget<T: FileSystem> {
    /// The inode was cached and is fully set up.
    Cached(ARef<Inode<T>>),
    /// A new inode; read it from disk and publish it.
    New(NewInode<T>),
}

/// The memory of an inode the VFS has destroyed (`->destroy_inode`): the
/// VFS is done with it, and the filesystem owns it until it is freed
/// (dropping this frees it after an RCU grace period). A deferred-
/// inactivation engine keeps these on its queues ([`LListItem`]). Only the
/// inode's number, superblock, mode, link count and `T::InodeData` are
/// meaningful from here on.
///
/// [`LListItem`]: crate::kernel_ext::llist::LListItem
pub(crate) struct DeadInode<T: FileSystem>(NonNull<bindings::inode>, PhantomData<T>);

// SAFETY: the inode memory is owned by this value alone and moves between
// CPUs through the engine's queues.
unsafe impl<T: FileSystem> Send for DeadInode<T> {}

impl<T: FileSystem> DeadInode<T> {
    /// # Safety
    ///
    /// `inode` is a `T` inode the VFS handed to `->destroy_inode`.
    pub(super) unsafe fn from_destroyed(inode: NonNull<bindings::inode>) -> Self {
        Self(inode, PhantomData)
    }

    /// The inode (cleared: no page cache, no VFS state, but its number,
    /// superblock, mode, link count and data are intact).
    pub(crate) fn inode(&self) -> &Inode<T> {
        // SAFETY: we own the memory until drop.
        unsafe { Inode::from_raw(self.0.as_ptr()) }
    }
}

// SAFETY: `into_node` gives up the owned inode memory, whose `gc_node`
// stays valid until `from_node` takes it back; `from_node` finds the same
// inode from its node (`container_of`).
unsafe impl<T: FileSystem> crate::kernel_ext::llist::LListItem for DeadInode<T> {
    fn into_node(self) -> NonNull<bindings::llist_node> {
        let p = self.0.as_ptr();
        core::mem::forget(self);
        // SAFETY: we owned the inode; its node now carries the ownership.
        unsafe { NonNull::new_unchecked(&raw mut (*bindings::dinofs_i(p)).gc_node) }
    }

    unsafe fn from_node(node: NonNull<bindings::llist_node>) -> Self {
        // SAFETY: per the contract, `node` is the gc_node of an inode
        // container given up by `into_node`.
        let di = unsafe { bindings::dinofs_i_of_gc_node(node.as_ptr()) };
        // SAFETY: `vfs_inode` of a live container.
        let inode = unsafe { NonNull::new_unchecked(&raw mut (*di).vfs_inode) };
        Self(inode, PhantomData)
    }
}

impl<T: FileSystem> Drop for DeadInode<T> {
    fn drop(&mut self) {
        // SAFETY: we own the memory; free it after an RCU grace period.
        // `T::InodeData` is `Copy`: it needs no drop.
        unsafe { bindings::dinofs_free_inode_rcu(self.0.as_ptr()) };
    }
}
