// SPDX-License-Identifier: GPL-2.0

//! Thin, safe wrappers over the VFS, buffer heads and the mount API.
//!
//! The 6.12 `kernel` crate has no filesystem abstractions, so dinofs carries
//! the few it needs, the way Rust binder carries its own shrinker. Every
//! `unsafe` block of the VFS glue lives in this file: the filesystem logic in
//! `super_ops.rs`, `inode.rs`, `dir.rs` and `alloc.rs` only sees the safe
//! types below.
//!
//! - [`SuperBlock`], [`Inode`], [`Dentry`]: `#[repr(transparent)]` views of
//!   the C objects, handed out by reference (or [`ARef`] for inodes) only
//!   while the VFS guarantees they are alive.
//! - [`NewInode`]: an inode in the `I_NEW` state; it is published (unlocked)
//!   by [`NewInode::publish`] or [`Dentry::instantiate_new`], or marked bad
//!   and dropped if the caller fails.
//! - [`Buffer`]: a referenced buffer head for one 4 KiB block, whose
//!   contents are reached only under the buffer lock.
//! - The `dinofs_rs_*` functions: the callbacks `helpers.c`'s operation
//!   tables point to. Each converts raw pointers to these views and calls
//!   the safe implementation.
//!
//! The static tables (`super_operations`, `inode_operations`, ...) and the
//! `file_system_type` are in `helpers.c`: the latter embeds lockdep class
//! keys, which lockdep requires in static storage.

use crate::bindings;
use crate::format::{self, Block, BLOCK_SIZE};
use core::mem::ManuallyDrop;
use core::ptr::NonNull;
use kernel::c_str;
use kernel::error::{from_result, to_result};
use kernel::ffi::{c_int, c_uint};
use kernel::prelude::*;
use kernel::str::CStr;
use kernel::types::{ARef, AlwaysRefCounted, Opaque};

/// A kernel `struct ratelimit_state` with the default limit (ten events
/// every five seconds; `__ratelimit()` logs how many it suppressed when a
/// new interval starts).
#[pin_data]
pub(crate) struct RateLimit {
    #[pin]
    state: Opaque<bindings::ratelimit_state>,
}

impl RateLimit {
    /// A limit with its default interval and burst.
    pub(crate) fn new() -> impl PinInit<Self> {
        pin_init!(Self {
            state <- Opaque::ffi_init(|p| {
                // SAFETY: `p` points to the pinned, writable storage of the
                // new value; the helper fully initialises it (memset, lock
                // init, interval and burst).
                unsafe { bindings::dinofs_ratelimit_init(p) }
            }),
        })
    }

    /// The C object, for `__ratelimit()`. It holds no resources, so
    /// dropping the value needs no call into C.
    fn as_ptr(&self) -> *mut bindings::ratelimit_state {
        self.state.get()
    }
}

/// Registration of the `dinofs` filesystem type and its inode cache.
///
/// # Invariants
///
/// While a value of this type exists, `dinofs_fs_type` is registered with the
/// VFS; dropping it unregisters the type.
pub(crate) struct Registration(());

impl Registration {
    /// Creates the inode cache and registers the `dinofs` filesystem type.
    pub(crate) fn new() -> Result<Self> {
        // SAFETY: called once from module init; registers a static,
        // fully initialised `file_system_type`.
        to_result(unsafe { bindings::dinofs_register_filesystem() })?;
        // INVARIANT: registration succeeded just above.
        Ok(Self(()))
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        // SAFETY: by the type invariant the type is registered. Mounted
        // superblocks pin the module (`fs_type.owner`), so none exists when
        // the module value holding this registration is dropped.
        unsafe { bindings::dinofs_unregister_filesystem() };
    }
}

/// The crc32c the on-disk format uses: the kernel's `crc32c()`.
pub(crate) fn crc32c(seed: u32, bytes: &[u8]) -> u32 {
    // SAFETY: `bytes` is a valid slice for the duration of the call.
    unsafe { bindings::crc32c(seed, bytes.as_ptr().cast(), bytes.len() as c_uint) }
}

// ---------------------------------------------------------------------------
// Superblock

/// A mounted (or mounting) dinofs superblock (`struct super_block`).
///
/// # Invariants
///
/// References to this type are only created for live superblocks, for no
/// longer than the VFS keeps them alive (the duration of a callback, or the
/// lifetime of an inode of the superblock).
#[repr(transparent)]
pub(crate) struct SuperBlock(Opaque<bindings::super_block>);

impl SuperBlock {
    /// # Safety
    ///
    /// `ptr` must point to a live superblock that outlives `'a`.
    unsafe fn from_raw<'a>(ptr: *mut bindings::super_block) -> &'a Self {
        // SAFETY: `SuperBlock` is a transparent wrapper of the C struct and
        // the caller guarantees liveness.
        unsafe { &*ptr.cast() }
    }

    fn as_ptr(&self) -> *mut bindings::super_block {
        self.0.get()
    }

    /// The block device's name, e.g. `vdb`, for messages.
    pub(crate) fn id(&self) -> &CStr {
        // SAFETY: `s_id` is a NUL-terminated array inside the live
        // superblock; it is set before `fill_super` runs and never changed.
        unsafe { CStr::from_char_ptr((*self.as_ptr()).s_id.as_ptr()) }
    }

    /// The device number (`s_dev`), for tracepoints.
    pub(crate) fn dev(&self) -> crate::trace::Dev {
        // SAFETY: live superblock; s_dev is set before fill_super.
        crate::trace::Dev(unsafe { bindings::dinofs_sb_dev(self.as_ptr()) })
    }

    /// Size of the block device in filesystem blocks.
    pub(crate) fn device_blocks(&self) -> u64 {
        // SAFETY: the superblock is live and has a block device.
        unsafe { bindings::dinofs_sb_dev_blocks(self.as_ptr()) }
    }

    /// Whether the filesystem is mounted read-only.
    pub(crate) fn rdonly(&self) -> bool {
        // SAFETY: the superblock is live (type invariant).
        unsafe { bindings::dinofs_sb_rdonly(self.as_ptr()) }
    }

    /// The per-mount dinofs state set up by `fill_super`.
    pub(crate) fn info(&self) -> &crate::super_ops::DinoSb {
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
            None => unreachable!("dinofs superblock without s_fs_info"),
        }
    }

    /// The per-mount state, or `None` before `fill_super` set it up or
    /// after a failed mount tore it down.
    pub(crate) fn try_info(&self) -> Option<&crate::super_ops::DinoSb> {
        // SAFETY: `s_fs_info` is null or a leaked `DinoSb` that lives until
        // `put_super` (or the failure path of `fill_super`) frees it, after
        // which no dinofs code runs for this superblock.
        unsafe {
            (*self.as_ptr())
                .s_fs_info
                .cast::<crate::super_ops::DinoSb>()
                .as_ref()
        }
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

    /// The VFS's `freeze_super()` (for dinofs's `->freeze_super`, which
    /// wraps it). `who` is the caller's `enum freeze_holder`.
    pub(crate) fn vfs_freeze_super(&self, who: c_uint) -> Result {
        // SAFETY: live superblock with an active reference held by the
        // caller (ioctl or block-device holder); freeze_super takes
        // s_umount itself.
        to_result(unsafe { bindings::freeze_super(self.as_ptr(), who) })
    }

    /// `Err(EIO)` once the filesystem has been shut down
    /// ([`crate::super_ops::shutdown`]): the first thing every operation
    /// that reads or writes the disk checks.
    pub(crate) fn live(&self) -> Result {
        match self.try_info() {
            Some(i) if i.is_shutdown() => Err(EIO),
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

    /// Returns a zeroed, uptodate buffer for block `block`, for metadata
    /// that is about to be written whole (a new cluster, directory block or
    /// indirect block).
    pub(crate) fn getblk_zero(&self, block: u32) -> Result<Buffer> {
        self.live()?;
        // SAFETY: as for `bread`.
        let bh = unsafe { bindings::dinofs_sb_getblk_zero(self.as_ptr(), block as u64) };
        Buffer::new(bh, block).ok_or(ENOMEM)
    }

    /// Reports corrupt metadata and returns the error every caller passes
    /// up: `-EUCLEAN`. Reports are rate-limited per mount (the mount's
    /// [`RateLimit`]), so a flood about one damaged filesystem never hides
    /// the first report about another; before `fill_super` set up the
    /// per-mount state a module-wide limit applies.
    pub(crate) fn corrupt(&self, what: &CStr, whereabouts: u64) -> Error {
        let rs = self
            .try_info()
            .map_or(core::ptr::null_mut(), |i| i.reports.as_ptr());
        // SAFETY: valid superblock and NUL-terminated string; `rs` is null
        // or the initialised limit inside the mount's state, which outlives
        // this call (`try_info`'s guarantee).
        unsafe { bindings::dinofs_corrupt(self.as_ptr(), rs, what.as_char_ptr(), whereabouts) };
        crate::super_ops::on_corruption(self);
        Error::from_errno(-(bindings::EUCLEAN as c_int))
    }

    /// Looks up inode `ino` in the inode cache; a miss allocates a new
    /// inode in the `I_NEW` state for the caller to read from disk.
    pub(crate) fn iget_locked(&self, ino: u32) -> Result<Iget> {
        // SAFETY: the superblock is live.
        let ptr = unsafe { bindings::iget_locked(self.as_ptr(), ino as _) };
        let ptr = NonNull::new(ptr).ok_or(ENOMEM)?;
        // SAFETY: iget_locked returned a referenced inode; we own that
        // reference.
        let inode = unsafe { ARef::from_raw(ptr.cast::<Inode>()) };
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
    pub(crate) fn new_inode(&self, ino: u32) -> Result<NewInode> {
        // SAFETY: the superblock is live.
        let ptr = unsafe { bindings::new_inode(self.as_ptr()) };
        let ptr = NonNull::new(ptr).ok_or(ENOMEM)?;
        // SAFETY: new_inode returned a referenced, unhashed inode we own.
        let inode = unsafe { ARef::from_raw(ptr.cast::<Inode>()) };
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
        to_result(unsafe { bindings::dinofs_sb_bdev_freeze(self.as_ptr()) })
    }

    /// Undoes [`Self::freeze_bdev`].
    pub(crate) fn thaw_bdev(&self) {
        // SAFETY: as for `freeze_bdev`, after a successful freeze.
        unsafe { bindings::dinofs_sb_bdev_thaw(self.as_ptr()) }
    }

    /// Runs `f` with `s_umount` held shared (as `syncfs(2)` does), which
    /// serialises it against freeze, thaw, remount and unmount.
    pub(crate) fn with_umount_read<R>(&self, f: impl FnOnce() -> R) -> R {
        // SAFETY: live superblock; the caller holds no s_umount already
        // (it runs in a syscall on an open file).
        unsafe { bindings::dinofs_sb_umount_read_lock(self.as_ptr()) };
        let r = f();
        // SAFETY: taken just above.
        unsafe { bindings::dinofs_sb_umount_read_unlock(self.as_ptr()) };
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

/// The result of [`SuperBlock::iget_locked`].
pub(crate) enum Iget {
    /// The inode was cached and is fully set up.
    Cached(ARef<Inode>),
    /// A new inode; read it from disk and publish it.
    New(NewInode),
}

// ---------------------------------------------------------------------------
// Inodes

/// A dinofs inode (`struct inode` inside `struct dinofs_inode`).
///
/// # Invariants
///
/// Instances are always embedded in a `struct dinofs_inode` allocated by
/// `helpers.c`, and references exist only while the inode is referenced.
#[repr(transparent)]
pub(crate) struct Inode(Opaque<bindings::inode>);

// SAFETY: the refcount is managed by ihold/iput, which may be called from
// any thread; all shared mutable state is protected by kernel locks.
unsafe impl AlwaysRefCounted for Inode {
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
unsafe impl Send for Inode {}
// SAFETY: as above.
unsafe impl Sync for Inode {}

/// File times as stored.
pub(crate) type Times = (format::Timestamp, format::Timestamp, format::Timestamp);

fn ts(t: bindings::timespec64) -> format::Timestamp {
    format::Timestamp {
        sec: t.tv_sec,
        nsec: t.tv_nsec as u32,
    }
}

impl Inode {
    /// # Safety
    ///
    /// `ptr` must point to a referenced dinofs inode that outlives `'a`.
    unsafe fn from_raw<'a>(ptr: *mut bindings::inode) -> &'a Self {
        // SAFETY: transparent wrapper; liveness by the caller.
        unsafe { &*ptr.cast() }
    }

    fn as_ptr(&self) -> *mut bindings::inode {
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
    pub(crate) fn sb(&self) -> &SuperBlock {
        // SAFETY: an inode keeps its superblock alive.
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
        // SAFETY: live inode.
        unsafe { bindings::dinofs_inode_nlink(self.as_ptr()) }
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
        unsafe { bindings::dinofs_encode_dev((*self.as_ptr()).i_rdev) }
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
        unsafe { bindings::dinofs_inode_touch_ctime(self.as_ptr()) };
    }

    /// Sets mtime and ctime to now.
    pub(crate) fn touch_mctime(&self) {
        // SAFETY: live inode.
        unsafe { bindings::dinofs_inode_touch_mctime(self.as_ptr()) };
    }

    /// Marks the inode dirty so writeback calls `write_inode`.
    pub(crate) fn mark_dirty(&self) {
        // SAFETY: live inode.
        unsafe { bindings::dinofs_mark_inode_dirty(self.as_ptr()) };
    }

    /// Whether the inode was marked bad (I/O error or corruption).
    pub(crate) fn is_bad(&self) -> bool {
        // SAFETY: live inode.
        unsafe { bindings::is_bad_inode(self.as_ptr()) }
    }

    /// Locks the block map.
    pub(crate) fn lock_map(&self) -> MapGuard<'_> {
        // SAFETY: live dinofs inode (type invariant); the mutex was
        // initialised by the slab constructor.
        unsafe { bindings::dinofs_map_lock(self.as_ptr()) };
        MapGuard { inode: self }
    }

    /// Fills the VFS inode from its on-disk form and installs the
    /// operation tables for its type. For inodes not yet visible to others.
    pub(crate) fn load(&self, d: &format::Inode) {
        let p = self.as_ptr();
        // SAFETY: the inode is I_NEW or freshly allocated: only we access it.
        unsafe {
            (*p).i_mode = d.mode;
            bindings::set_nlink(p, d.nlink);
            bindings::dinofs_i_uid_write(p, d.uid);
            bindings::dinofs_i_gid_write(p, d.gid);
            bindings::dinofs_i_size_write(p, d.size as i64);
            (*p).i_generation = d.generation;
            (*p).i_rdev = bindings::dinofs_decode_dev(d.rdev);
            bindings::dinofs_inode_set_times(
                p,
                d.atime.sec,
                d.atime.nsec,
                d.mtime.sec,
                d.mtime.nsec,
                d.ctime.sec,
                d.ctime.nsec,
            );
            let di = bindings::dinofs_i(p);
            let map = &mut (*di).map;
            map[..format::DIRECT_BLOCKS].copy_from_slice(&d.direct);
            map[format::DIRECT_BLOCKS] = d.indirect;
            map[format::DIRECT_BLOCKS + 1] = d.dindirect;
            map[format::DIRECT_BLOCKS + 2] = d.tindirect;
            (*di).blocks = d.blocks;
            (*p).i_blocks = (d.blocks as u64) << (format::BLOCK_SHIFT - 9);
            bindings::dinofs_set_inode_ops(p);
        }
    }

    /// Sets up a new inode: owner from the creating task and directory
    /// (`inode_init_owner`), mode, device number, times now, generation.
    pub(crate) fn init_new(&self, dir: &Inode, mode: u16, rdev: u32, generation: u32) {
        let p = self.as_ptr();
        // SAFETY: `self` is a new inode only we access; `dir` is live.
        unsafe {
            bindings::inode_init_owner(&raw mut bindings::nop_mnt_idmap, p, dir.as_ptr(), mode);
            (*p).i_rdev = bindings::dinofs_decode_dev(rdev);
            (*p).i_generation = generation;
            bindings::dinofs_inode_touch_mctime(p);
            let now = bindings::dinofs_inode_get_ctime(p);
            bindings::dinofs_inode_set_times(
                p,
                now.tv_sec,
                now.tv_nsec as u32,
                now.tv_sec,
                now.tv_nsec as u32,
                now.tv_sec,
                now.tv_nsec as u32,
            );
            bindings::dinofs_set_inode_ops(p);
        }
    }
}

/// The locked block map of an inode (`dinofs_inode.map_lock`).
pub(crate) struct MapGuard<'a> {
    inode: &'a Inode,
}

impl MapGuard<'_> {
    fn di(&self) -> *mut bindings::dinofs_inode {
        // SAFETY: the inode is a live dinofs inode.
        unsafe { bindings::dinofs_i(self.inode.as_ptr()) }
    }

    /// The pointers: direct, then single, double, triple indirect.
    pub(crate) fn ptrs(&self) -> [u32; bindings::DINOFS_MAP_SLOTS as usize] {
        // SAFETY: `map` is only accessed under `map_lock`, which we hold.
        unsafe { (*self.di()).map }
    }

    /// Sets pointer `slot` (index into [`Self::ptrs`]).
    pub(crate) fn set_ptr(&mut self, slot: usize, block: u32) {
        // SAFETY: as above; `slot` is bounds-checked by the array index.
        unsafe {
            if let Some(p) = (*self.di()).map.get_mut(slot) {
                *p = block;
            }
        }
    }

    /// Blocks owned by the inode.
    pub(crate) fn blocks(&self) -> u32 {
        // SAFETY: under `map_lock`.
        unsafe { (*self.di()).blocks }
    }

    /// Whether blocks past EOF may be mapped (speculative preallocation).
    pub(crate) fn prealloc(&self) -> bool {
        // SAFETY: under `map_lock`.
        unsafe { (*self.di()).prealloc }
    }

    /// Records whether blocks past EOF may be mapped.
    pub(crate) fn set_prealloc(&mut self, v: bool) {
        // SAFETY: under `map_lock`.
        unsafe { (*self.di()).prealloc = v };
    }

    /// Sets the blocks owned, and `i_blocks` (in 512-byte units) with it.
    pub(crate) fn set_blocks(&mut self, n: u32) {
        // SAFETY: under `map_lock`; `i_blocks` is only written here and by
        // `load` (before the inode is visible).
        unsafe {
            (*self.di()).blocks = n;
            (*self.inode.as_ptr()).i_blocks = (n as u64) << (format::BLOCK_SHIFT - 9);
        }
    }
}

impl Drop for MapGuard<'_> {
    fn drop(&mut self) {
        // SAFETY: we hold the lock (taken in `lock_map`).
        unsafe { bindings::dinofs_map_unlock(self.inode.as_ptr()) };
    }
}

/// An inode in the `I_NEW` state: hashed, but invisible to other lookups
/// until published. Dropping it unpublished marks it bad and releases it
/// (`iget_failed`), so a failed read or create never leaves a half-set-up
/// inode in the cache.
pub(crate) struct NewInode(ManuallyDrop<ARef<Inode>>);

impl NewInode {
    fn new(inode: ARef<Inode>) -> Self {
        Self(ManuallyDrop::new(inode))
    }

    /// The inode being set up.
    pub(crate) fn inode(&self) -> &Inode {
        &self.0
    }

    /// Gives up the guard: the caller now owns the reference (and the job
    /// of clearing `I_NEW`).
    fn take(self) -> ARef<Inode> {
        let mut this = ManuallyDrop::new(self);
        // SAFETY: `this` is never dropped, so the reference is moved out of
        // it exactly once.
        unsafe { ManuallyDrop::take(&mut this.0) }
    }

    /// Makes the inode visible to lookups.
    pub(crate) fn publish(self) -> ARef<Inode> {
        let inode = self.take();
        // SAFETY: the inode is I_NEW and fully set up.
        unsafe { bindings::unlock_new_inode(inode.as_ptr()) };
        inode
    }
}

impl Drop for NewInode {
    fn drop(&mut self) {
        // SAFETY: drop runs once and nothing uses the field afterwards.
        let inode = unsafe { ManuallyDrop::take(&mut self.0) };
        let ptr = ARef::into_raw(inode);
        // SAFETY: an I_NEW inode we hold a reference to; iget_failed marks
        // it bad, clears I_NEW and drops our reference.
        unsafe { bindings::iget_failed(ptr.as_ptr().cast()) };
    }
}

/// The memory of an inode the VFS has destroyed (`->destroy_inode`): the
/// VFS is done with it, and dinofs owns it until it is freed (dropping this
/// frees it after an RCU grace period). The deferred-inactivation engine
/// keeps these on its queues. Only the on-disk identity and block map of
/// the inode are used from here on (`inode::inactivate`).
pub(crate) struct DeadInode(NonNull<bindings::inode>);

// SAFETY: the inode memory is owned by this value alone and moves between
// CPUs through the engine's queues.
unsafe impl Send for DeadInode {}

impl DeadInode {
    /// The inode (cleared: no page cache, no VFS state, but its number,
    /// superblock, mode, link count and block map are intact).
    pub(crate) fn inode(&self) -> &Inode {
        // SAFETY: we own the memory until drop.
        unsafe { Inode::from_raw(self.0.as_ptr()) }
    }
}

// SAFETY: `into_node` gives up the owned inode memory, whose `gc_node`
// stays valid until `from_node` takes it back; `from_node` finds the same
// inode from its node (`container_of`).
unsafe impl crate::kernel_ext::llist::LListItem for DeadInode {
    fn into_node(self) -> NonNull<bindings::llist_node> {
        let p = self.0.as_ptr();
        core::mem::forget(self);
        // SAFETY: we owned the inode; its node now carries the ownership.
        unsafe { NonNull::new_unchecked(&raw mut (*bindings::dinofs_i(p)).gc_node) }
    }

    unsafe fn from_node(node: NonNull<bindings::llist_node>) -> Self {
        // SAFETY: per the contract, `node` is the gc_node of a dinofs inode
        // given up by `into_node`.
        let di = unsafe { bindings::dinofs_i_of_gc_node(node.as_ptr()) };
        // SAFETY: `vfs_inode` of a live container.
        Self(unsafe { NonNull::new_unchecked(&raw mut (*di).vfs_inode) })
    }
}

impl Drop for DeadInode {
    fn drop(&mut self) {
        // SAFETY: we own the memory; free it after an RCU grace period.
        unsafe { bindings::dinofs_free_inode_rcu(self.0.as_ptr()) };
    }
}

#[no_mangle]
extern "C" fn dinofs_rs_destroy_inode(inode: *mut bindings::inode) {
    // SAFETY: the VFS is done with the inode (destroy_inode, no
    // free_inode): its memory is ours.
    let dead = DeadInode(unsafe { NonNull::new_unchecked(inode) });
    // SAFETY: an inode keeps its superblock alive, and the superblock
    // outlives every inode's destruction.
    let sb = unsafe { SuperBlock::from_raw((*inode).i_sb) };
    match sb.try_info() {
        Some(info) => info.gc.destroy_inode(dead),
        None => drop(dead),
    }
}

#[no_mangle]
extern "C" fn dinofs_rs_freeze_super(sb: *mut bindings::super_block, who: c_uint) -> c_int {
    // SAFETY: the VFS calls ->freeze_super on a live superblock it holds an
    // active reference to, without s_umount.
    let sb = unsafe { SuperBlock::from_raw(sb) };
    from_result(|| {
        crate::super_ops::freeze_super(sb, who)?;
        Ok(0)
    })
}

#[no_mangle]
extern "C" fn dinofs_rs_freeze_fs(sb: *mut bindings::super_block) -> c_int {
    // SAFETY: live superblock, s_umount held by freeze_super.
    let sb = unsafe { SuperBlock::from_raw(sb) };
    from_result(|| {
        crate::super_ops::freeze_fs(sb)?;
        Ok(0)
    })
}

#[no_mangle]
extern "C" fn dinofs_rs_unfreeze_fs(sb: *mut bindings::super_block) -> c_int {
    // SAFETY: live superblock, s_umount held by thaw_super.
    crate::super_ops::unfreeze_fs(unsafe { SuperBlock::from_raw(sb) });
    0
}

#[no_mangle]
extern "C" fn dinofs_rs_shutdown(sb: *mut bindings::super_block, flags: u32) -> c_int {
    // SAFETY: the ioctl caller holds an open file on this filesystem, which
    // keeps the superblock (and its dinofs state) alive.
    let sb = unsafe { SuperBlock::from_raw(sb) };
    from_result(|| {
        crate::super_ops::shutdown(sb, flags)?;
        Ok(0)
    })
}

#[no_mangle]
extern "C" fn dinofs_rs_is_shutdown(sb: *mut bindings::super_block) -> bool {
    // SAFETY: called from file operations and writeback, which hold an
    // inode (and so the superblock) of this filesystem.
    unsafe { SuperBlock::from_raw(sb) }.live().is_err()
}

/// A `seq_file` as a `core::fmt::Write` sink (debugfs output).
pub(crate) struct SeqWriter(*mut bindings::seq_file);

impl core::fmt::Write for SeqWriter {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        // SAFETY: live seq_file during a show callback; valid bytes.
        unsafe { bindings::dinofs_seq_write(self.0, s.as_ptr(), s.len()) };
        Ok(())
    }
}

#[no_mangle]
extern "C" fn dinofs_rs_gc_show(m: *mut bindings::seq_file, gc: *mut kernel::ffi::c_void) -> c_int {
    // SAFETY: `gc` is the engine the debugfs file was created for; the file
    // is removed (waiting for readers) before the engine is freed.
    let gc = unsafe { &*gc.cast::<crate::inodegc::InodeGc>() };
    crate::inodegc::show_stats(gc, &mut SeqWriter(m));
    0
}

/// A mount's debugfs directory, `/sys/kernel/debug/dinofs/<dev>/`, removed
/// on drop. Creation failures are not errors (debugfs is optional).
pub(crate) struct DebugfsDir(*mut bindings::dentry);

// SAFETY: a handle to a debugfs dentry; removal is thread-safe.
unsafe impl Send for DebugfsDir {}
// SAFETY: as above.
unsafe impl Sync for DebugfsDir {}

impl DebugfsDir {
    /// Creates the directory for `gc`: statistics and the debug knobs.
    ///
    /// # Safety
    ///
    /// `gc` must neither move nor be freed before the returned value is
    /// dropped (the files call back into it; removal waits for them).
    pub(crate) unsafe fn new(sb: &SuperBlock, gc: &crate::inodegc::InodeGc) -> Self {
        // SAFETY: valid string; `gc` outlives the directory per the
        // contract. The knob files reach the engine only through
        // `dinofs_rs_gc_knob_get`/`_set`, which use its atomics.
        let d = unsafe {
            bindings::dinofs_debugfs_mount(
                sb.id().as_char_ptr(),
                (gc as *const crate::inodegc::InodeGc).cast_mut().cast(),
            )
        };
        Self(d)
    }
}

#[no_mangle]
extern "C" fn dinofs_rs_gc_knob_get(gc: *mut kernel::ffi::c_void, knob: c_uint) -> u64 {
    // SAFETY: `gc` is the engine the debugfs file was created for; the file
    // is removed (waiting for users) before the engine is freed.
    let gc = unsafe { &*gc.cast::<crate::inodegc::InodeGc>() };
    gc.knob(knob)
}

#[no_mangle]
extern "C" fn dinofs_rs_gc_knob_set(
    gc: *mut kernel::ffi::c_void,
    knob: c_uint,
    value: u64,
) -> c_int {
    // SAFETY: as above.
    let gc = unsafe { &*gc.cast::<crate::inodegc::InodeGc>() };
    from_result(|| {
        gc.set_knob(knob, value)?;
        Ok(0)
    })
}

impl Drop for DebugfsDir {
    fn drop(&mut self) {
        if !self.0.is_null() {
            // SAFETY: created by us, removed once; waits for readers.
            unsafe { bindings::dinofs_debugfs_remove(self.0) };
        }
    }
}

// ---------------------------------------------------------------------------
// Buffers

/// A referenced buffer head for one filesystem block.
///
/// The block's contents are reached only through [`Buffer::read`] and
/// [`Buffer::modify`], which hold the buffer lock, so two holders of the
/// same block never race on its bytes. Never call them nested on two
/// buffers (the lock order between buffers is undefined).
///
/// # Invariants
///
/// `bh` is a referenced buffer head whose `b_data` points to `BLOCK_SIZE`
/// bytes.
pub(crate) struct Buffer {
    bh: NonNull<bindings::buffer_head>,
    block: u32,
}

impl Buffer {
    fn new(bh: *mut bindings::buffer_head, block: u32) -> Option<Self> {
        let bh = NonNull::new(bh)?;
        // SAFETY: a referenced buffer head.
        if unsafe { (*bh.as_ptr()).b_size } != BLOCK_SIZE {
            // SAFETY: we own the reference.
            unsafe { bindings::dinofs_brelse(bh.as_ptr()) };
            return None;
        }
        // INVARIANT: referenced, and b_size checked above.
        Some(Self { bh, block })
    }

    /// The block number.
    pub(crate) fn block(&self) -> u32 {
        self.block
    }

    fn data(&self) -> *mut Block {
        // SAFETY: `b_data` is valid for BLOCK_SIZE bytes (type invariant).
        unsafe { bindings::dinofs_bh_data(self.bh.as_ptr()).cast() }
    }

    /// Runs `f` on the block's contents under the buffer lock.
    pub(crate) fn read<R>(&self, f: impl FnOnce(&Block) -> R) -> R {
        // SAFETY: we hold a reference to the buffer head.
        unsafe { bindings::dinofs_lock_buffer(self.bh.as_ptr()) };
        // SAFETY: the buffer lock excludes every writer that goes through
        // `modify`, and the data is valid (type invariant).
        let r = f(unsafe { &*self.data() });
        // SAFETY: we took the lock above.
        unsafe { bindings::dinofs_unlock_buffer(self.bh.as_ptr()) };
        r
    }

    /// Runs `f` on the block's contents under the buffer lock and marks the
    /// buffer dirty.
    pub(crate) fn modify<R>(&self, f: impl FnOnce(&mut Block) -> R) -> R {
        // SAFETY: we hold a reference to the buffer head.
        unsafe { bindings::dinofs_lock_buffer(self.bh.as_ptr()) };
        // SAFETY: the buffer lock gives us exclusive access to the bytes
        // among dinofs users; the data is valid (type invariant).
        let r = f(unsafe { &mut *self.data() });
        // SAFETY: we took the lock above.
        unsafe { bindings::dinofs_unlock_buffer(self.bh.as_ptr()) };
        // SAFETY: referenced buffer head.
        unsafe { bindings::mark_buffer_dirty(self.bh.as_ptr()) };
        r
    }

    /// Runs the checksum check `check` on the block unless it already
    /// passed since the block was read from disk; remembers a pass.
    pub(crate) fn verify_once(&self, check: impl FnOnce(&Block) -> bool) -> bool {
        // SAFETY: referenced buffer head; the bit is only a hint we own.
        if unsafe { bindings::dinofs_buffer_verified(self.bh.as_ptr()) } {
            return true;
        }
        let ok = self.read(check);
        if ok {
            // SAFETY: as above.
            unsafe { bindings::dinofs_set_buffer_verified(self.bh.as_ptr()) };
        }
        ok
    }

    /// Associates the (dirty) buffer with `inode`, so `fsync` of the inode
    /// writes it: for indirect and directory blocks.
    pub(crate) fn attach_to(&self, inode: &Inode) {
        // SAFETY: referenced buffer head, live inode.
        unsafe { bindings::mark_buffer_dirty_inode(self.bh.as_ptr(), inode.as_ptr()) };
    }

    /// Writes the buffer now and waits for it.
    pub(crate) fn sync(&self) -> Result {
        // SAFETY: referenced buffer head.
        to_result(unsafe { bindings::sync_dirty_buffer(self.bh.as_ptr()) })
    }
}

impl Drop for Buffer {
    fn drop(&mut self) {
        // SAFETY: we own one reference (type invariant).
        unsafe { bindings::dinofs_brelse(self.bh.as_ptr()) };
    }
}

// ---------------------------------------------------------------------------
// Dentries

/// A directory entry in the dcache (`struct dentry`).
///
/// # Invariants
///
/// References exist only for the duration of a VFS callback that received
/// the dentry.
#[repr(transparent)]
pub(crate) struct Dentry(Opaque<bindings::dentry>);

impl Dentry {
    /// # Safety
    ///
    /// `ptr` must be a dentry the VFS keeps alive for `'a`.
    unsafe fn from_raw<'a>(ptr: *mut bindings::dentry) -> &'a Self {
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
    pub(crate) fn inode(&self) -> Option<&Inode> {
        // SAFETY: a positive dentry holds a reference to its inode.
        let p = unsafe { bindings::dinofs_d_inode(self.as_ptr()) };
        // SAFETY: as above.
        (!p.is_null()).then(|| unsafe { Inode::from_raw(p) })
    }

    /// Binds a new inode to this negative dentry and publishes the inode.
    pub(crate) fn instantiate_new(&self, inode: NewInode) {
        let inode = inode.take();
        // SAFETY: negative dentry, I_NEW inode; d_instantiate_new consumes
        // our reference and clears I_NEW.
        unsafe {
            bindings::d_instantiate_new(self.as_ptr(), ARef::into_raw(inode).as_ptr().cast())
        };
    }

    /// Binds an existing inode to this negative dentry (`link`).
    pub(crate) fn instantiate(&self, inode: ARef<Inode>) {
        // SAFETY: negative dentry; d_instantiate consumes our reference.
        unsafe { bindings::d_instantiate(self.as_ptr(), ARef::into_raw(inode).as_ptr().cast()) };
    }
}

// ---------------------------------------------------------------------------
// The mount API

/// A mount request under construction (`struct fs_context`).
///
/// # Invariants
///
/// References exist only during a mount-API callback for that context.
#[repr(transparent)]
pub(crate) struct FsContext(Opaque<bindings::fs_context>);

impl FsContext {
    /// # Safety
    ///
    /// `ptr` must be the live context of the current callback.
    unsafe fn from_raw<'a>(ptr: *mut bindings::fs_context) -> &'a Self {
        // SAFETY: transparent wrapper; liveness by the caller.
        unsafe { &*ptr.cast() }
    }

    fn as_ptr(&self) -> *mut bindings::fs_context {
        self.0.get()
    }

    /// Logs `msg` as a mount error. The VFS prefixes it with "dinofs: "; it
    /// reaches userspace through the mount API and the kernel log.
    pub(crate) fn error(&self, msg: &CStr) {
        // SAFETY: live context, valid string.
        unsafe { bindings::dinofs_fc_error(self.as_ptr(), msg.as_char_ptr()) };
    }

    /// Whether the mount (or remount) asks for read-only.
    pub(crate) fn rdonly(&self) -> bool {
        // SAFETY: live context.
        unsafe { bindings::dinofs_fc_sb_rdonly(self.as_ptr()) }
    }

    /// The options parsed so far.
    pub(crate) fn options(&self) -> &crate::super_ops::MountOptions {
        // SAFETY: `fs_private` is set in `init_fs_context` to a leaked box
        // that lives until `free`.
        unsafe { &*bindings::dinofs_fc_private(self.as_ptr()).cast() }
    }
}

/// The options of context `fc`, for the parse callback to change.
///
/// # Safety
///
/// `fc` is the live context of the current callback, and no other reference
/// to its options is live while the returned one is: the caller is the
/// `parse_param` callback, which the VFS serialises with every other
/// callback of this context.
unsafe fn fc_options_mut<'a>(
    fc: *mut bindings::fs_context,
) -> &'a mut crate::super_ops::MountOptions {
    // SAFETY: `fs_private` is the leaked box of `init_fs_context`, live
    // until `free`; exclusivity is the caller's promise.
    unsafe { &mut *bindings::dinofs_fc_private(fc).cast() }
}

#[no_mangle]
extern "C" fn dinofs_rs_init_fs_context(fc: *mut bindings::fs_context) -> c_int {
    from_result(|| {
        let opts = KBox::new(crate::super_ops::MountOptions::default(), GFP_KERNEL)?;
        // SAFETY: live context; `fs_private` takes ownership of the box,
        // released in `dinofs_rs_free_fc`.
        unsafe {
            bindings::dinofs_fc_set_private(fc, KBox::into_raw(opts).cast());
            bindings::dinofs_fc_set_ops(fc);
        }
        Ok(0)
    })
}

#[no_mangle]
extern "C" fn dinofs_rs_free_fc(fc: *mut bindings::fs_context) {
    // SAFETY: live context; `fs_private` is null or our box.
    let p = unsafe { bindings::dinofs_fc_private(fc) };
    if !p.is_null() {
        // SAFETY: `p` came from `KBox::into_raw` in init_fs_context.
        drop(unsafe { KBox::from_raw(p.cast::<crate::super_ops::MountOptions>()) });
    }
}

#[no_mangle]
extern "C" fn dinofs_rs_parse_param(
    fc: *mut bindings::fs_context,
    param: *mut bindings::fs_parameter,
) -> c_int {
    let mut value = 0u32;
    // SAFETY: live context and parameter, valid out pointer.
    let opt = unsafe { bindings::dinofs_fc_parse(fc, param, &mut value) };
    if opt < 0 {
        return opt;
    }
    // SAFETY: the live context of this callback, the parse callback:
    // nothing else holds its options.
    let opts = unsafe { fc_options_mut(fc) };
    from_result(|| {
        crate::super_ops::parse_option(opts, opt as u32, value)?;
        Ok(0)
    })
}

#[no_mangle]
extern "C" fn dinofs_rs_get_tree(fc: *mut bindings::fs_context) -> c_int {
    // SAFETY: `fc` is the live context; `fill_super` matches get_tree_bdev's
    // callback type.
    unsafe { bindings::get_tree_bdev(fc, Some(fill_super)) }
}

extern "C" fn fill_super(sb: *mut bindings::super_block, fc: *mut bindings::fs_context) -> c_int {
    // SAFETY: the VFS keeps both alive for the duration of this callback.
    let (sbr, fcr) = unsafe { (SuperBlock::from_raw(sb), FsContext::from_raw(fc)) };
    from_result(|| {
        // SAFETY: the superblock is being set up by us alone.
        if unsafe { bindings::sb_set_blocksize(sb, BLOCK_SIZE as c_int) } != BLOCK_SIZE as c_int {
            fcr.error(c_str!("device does not support 4096-byte blocks"));
            return Err(EINVAL);
        }
        let info = crate::super_ops::fill_super(sbr, fcr)?;
        // SAFETY: set up before any inode exists; freed in put_super.
        unsafe {
            (*sb).s_fs_info = KBox::into_raw(Pin::into_inner_unchecked(info)).cast();
            bindings::dinofs_sb_setup(sb, format::MAX_FILE_SIZE);
            (*sb).s_magic = format::MAGIC as _;
        }
        let root = match crate::super_ops::root_inode(sbr) {
            Ok(r) => r,
            Err(e) => {
                free_info(sb);
                return Err(e);
            }
        };
        // SAFETY: d_make_root consumes the reference (also on failure).
        let dentry = unsafe { bindings::d_make_root(ARef::into_raw(root).as_ptr().cast()) };
        if dentry.is_null() {
            free_info(sb);
            return Err(ENOMEM);
        }
        // SAFETY: we are setting up the superblock.
        unsafe { (*sb).s_root = dentry };
        // On failure the VFS tears the superblock down (kill_sb ->
        // put_super), which frees s_fs_info.
        crate::super_ops::finish_mount(sbr)?;
        Ok(0)
    })
}

/// Frees `s_fs_info` (failed fill_super, or put_super). The engine is torn
/// down first, through a shared reference: its callbacks, timers and
/// workers are gone before the box holding it is dropped.
fn free_info(sb: *mut bindings::super_block) {
    // SAFETY: `s_fs_info` is null or the box leaked in fill_super, and no
    // inode uses it any more.
    let p = unsafe { (*sb).s_fs_info.cast::<crate::super_ops::DinoSb>() };
    if p.is_null() {
        return;
    }
    // SAFETY: `p` is the live DinoSb (see above).
    unsafe { (*p).gc.teardown() };
    // SAFETY: as above; nothing refers to the engine or the state any more.
    unsafe {
        (*sb).s_fs_info = core::ptr::null_mut();
        drop(KBox::from_raw(p));
    }
}

#[no_mangle]
extern "C" fn dinofs_rs_reconfigure(fc: *mut bindings::fs_context) -> c_int {
    // SAFETY: live context; reconfigure always has a root (remount).
    let (fcr, sb) = unsafe {
        let root = (*fc).root;
        (FsContext::from_raw(fc), SuperBlock::from_raw((*root).d_sb))
    };
    from_result(|| {
        // Sync first, as the VFS expects of ->reconfigure. Going read-only,
        // a failure fails the remount (ext4 does the same): what could not
        // be written must not be left behind a read-only flag.
        // SAFETY: live superblock, s_umount held by the VFS.
        let r = unsafe { bindings::sync_filesystem((*(*fc).root).d_sb) };
        if r < 0 && fcr.rdonly() && !sb.rdonly() {
            fcr.error(c_str!("sync before remount read-only failed"));
            return Err(Error::from_errno(r));
        }
        crate::super_ops::reconfigure(sb, fcr)?;
        Ok(0)
    })
}

#[no_mangle]
extern "C" fn dinofs_rs_put_super(sb: *mut bindings::super_block) {
    // SAFETY: the superblock is live during put_super.
    crate::super_ops::put_super(unsafe { SuperBlock::from_raw(sb) });
    free_info(sb);
}

#[no_mangle]
extern "C" fn dinofs_rs_sync_fs(sb: *mut bindings::super_block, wait: c_int) -> c_int {
    // SAFETY: live superblock.
    let sb = unsafe { SuperBlock::from_raw(sb) };
    from_result(|| {
        crate::super_ops::sync_fs(sb, wait != 0)?;
        Ok(0)
    })
}

#[no_mangle]
extern "C" fn dinofs_rs_statfs(
    dentry: *mut bindings::dentry,
    buf: *mut bindings::kstatfs,
) -> c_int {
    // SAFETY: live dentry of a mounted dinofs.
    let sb = unsafe { SuperBlock::from_raw((*dentry).d_sb) };
    let st = crate::super_ops::statfs(sb);
    // SAFETY: `buf` is the caller's, zeroed by vfs_statfs.
    unsafe {
        (*buf).f_type = format::MAGIC as _;
        (*buf).f_bsize = BLOCK_SIZE as _;
        (*buf).f_blocks = st.blocks;
        (*buf).f_bfree = st.bfree;
        (*buf).f_bavail = st.bfree;
        (*buf).f_files = st.files;
        (*buf).f_ffree = st.ffree;
        (*buf).f_namelen = format::NAME_MAX as _;
        (*buf).f_fsid = bindings::__kernel_fsid_t { val: st.fsid };
    }
    0
}

#[no_mangle]
extern "C" fn dinofs_rs_show_options(
    m: *mut bindings::seq_file,
    root: *mut bindings::dentry,
) -> c_int {
    // SAFETY: live root dentry of a mounted dinofs.
    let sb = unsafe { SuperBlock::from_raw((*root).d_sb) };
    for opt in crate::super_ops::shown_options(sb) {
        // SAFETY: live seq_file; static strings.
        unsafe { bindings::dinofs_seq_puts(m, opt.as_char_ptr()) };
    }
    0
}

#[no_mangle]
extern "C" fn dinofs_rs_write_inode(
    inode: *mut bindings::inode,
    wbc: *mut bindings::writeback_control,
) -> c_int {
    // SAFETY: writeback holds a reference to the inode; `wbc` is live.
    let (inode, sync) = unsafe {
        (
            Inode::from_raw(inode),
            (*wbc).sync_mode == bindings::writeback_sync_modes_WB_SYNC_ALL,
        )
    };
    from_result(|| {
        inode.sb().live()?;
        crate::inode::write_inode(inode, sync)?;
        Ok(0)
    })
}

#[no_mangle]
extern "C" fn dinofs_rs_evict_inode(inode: *mut bindings::inode) {
    // SAFETY: the inode is being evicted: the VFS holds the last reference
    // and no new one can be taken (I_FREEING).
    unsafe { bindings::truncate_inode_pages_final(&mut (*inode).i_data) };
    // On-disk teardown happens later, from destroy_inode
    // (rust/inodegc.rs); the engine enters the inode in its index now,
    // while it is still hashed, so a racing iget sees it. Dirty metadata
    // buffers attached to the inode stay dirty in the block device's cache
    // and are written by writeback; they are only detached here.
    // SAFETY: as above.
    let inoder = unsafe { Inode::from_raw(inode) };
    if let Some(info) = inoder.sb().try_info() {
        info.gc.evict(inoder);
    }
    // SAFETY: as above.
    unsafe {
        bindings::invalidate_inode_buffers(inode);
        bindings::clear_inode(inode);
    }
}

#[no_mangle]
extern "C" fn dinofs_rs_write_failed(inode: *mut bindings::inode) {
    // SAFETY: called from write_begin with the inode held (the mapping's
    // host) and locked by the VFS.
    crate::inode::note_write_failed(unsafe { Inode::from_raw(inode) });
}

#[no_mangle]
extern "C" fn dinofs_rs_get_block(
    inode: *mut bindings::inode,
    iblock: bindings::sector_t,
    bh: *mut bindings::buffer_head,
    create: c_int,
) -> c_int {
    // SAFETY: the page-cache code holds the inode (via the mapping).
    let inode = unsafe { Inode::from_raw(inode) };
    from_result(|| {
        inode.sb().live()?;
        if let Some((block, new)) = crate::inode::map_block(inode, iblock, create != 0)? {
            // SAFETY: `bh` is the caller's unmapped buffer head.
            unsafe {
                bindings::dinofs_map_bh(bh, (*inode.as_ptr()).i_sb, block as u64);
                if new {
                    bindings::dinofs_set_buffer_new(bh);
                }
            }
        }
        Ok(0)
    })
}

// ---------------------------------------------------------------------------
// Directory and inode operations

#[no_mangle]
extern "C" fn dinofs_rs_lookup(
    dir: *mut bindings::inode,
    dentry: *mut bindings::dentry,
    _flags: c_uint,
) -> *mut bindings::dentry {
    // SAFETY: the VFS holds `dir` locked and `dentry` referenced.
    let (dirr, d) = unsafe { (Inode::from_raw(dir), Dentry::from_raw(dentry)) };
    if let Err(e) = dirr.sb().live() {
        return e.to_ptr();
    }
    let inode = match crate::dir::lookup(dirr, d.name()) {
        Ok(Some(i)) => ARef::into_raw(i).as_ptr().cast(),
        Ok(None) => core::ptr::null_mut(),
        Err(e) => return e.to_ptr(),
    };
    // SAFETY: d_splice_alias consumes the inode reference (or NULL).
    unsafe { bindings::d_splice_alias(inode, dentry) }
}

/// Runs a "create something in `dir`" operation and instantiates `dentry`.
fn create_common(
    dir: *mut bindings::inode,
    dentry: *mut bindings::dentry,
    mode: u16,
    rdev: u32,
    symlink: Option<&[u8]>,
) -> c_int {
    // SAFETY: the VFS holds `dir` locked and `dentry` (negative) referenced.
    let (dir, d) = unsafe { (Inode::from_raw(dir), Dentry::from_raw(dentry)) };
    from_result(|| {
        dir.sb().live()?;
        let new = crate::dir::create(dir, d.name(), mode, rdev, symlink)?;
        d.instantiate_new(new);
        Ok(0)
    })
}

#[no_mangle]
extern "C" fn dinofs_rs_create(
    _idmap: *mut bindings::mnt_idmap,
    dir: *mut bindings::inode,
    dentry: *mut bindings::dentry,
    mode: bindings::umode_t,
    _excl: bool,
) -> c_int {
    create_common(dir, dentry, mode | format::S_IFREG, 0, None)
}

#[no_mangle]
extern "C" fn dinofs_rs_mknod(
    _idmap: *mut bindings::mnt_idmap,
    dir: *mut bindings::inode,
    dentry: *mut bindings::dentry,
    mode: bindings::umode_t,
    rdev: bindings::dev_t,
) -> c_int {
    // SAFETY: pure conversion.
    let rdev = unsafe { bindings::dinofs_encode_dev(rdev) };
    create_common(dir, dentry, mode, rdev, None)
}

#[no_mangle]
extern "C" fn dinofs_rs_mkdir(
    _idmap: *mut bindings::mnt_idmap,
    dir: *mut bindings::inode,
    dentry: *mut bindings::dentry,
    mode: bindings::umode_t,
) -> c_int {
    create_common(dir, dentry, mode | format::S_IFDIR, 0, None)
}

#[no_mangle]
extern "C" fn dinofs_rs_symlink(
    _idmap: *mut bindings::mnt_idmap,
    dir: *mut bindings::inode,
    dentry: *mut bindings::dentry,
    target: *const kernel::ffi::c_char,
) -> c_int {
    // SAFETY: the VFS passes a NUL-terminated target that outlives the call.
    let target = unsafe { CStr::from_char_ptr(target) };
    create_common(
        dir,
        dentry,
        format::S_IFLNK | 0o777,
        0,
        Some(target.as_bytes()),
    )
}

#[no_mangle]
extern "C" fn dinofs_rs_tmpfile(
    _idmap: *mut bindings::mnt_idmap,
    dir: *mut bindings::inode,
    file: *mut bindings::file,
    mode: bindings::umode_t,
) -> c_int {
    // SAFETY: the VFS holds `dir` and passes the file being opened.
    let dirr = unsafe { Inode::from_raw(dir) };
    from_result(|| {
        dirr.sb().live()?;
        let new = crate::dir::tmpfile(dirr, mode)?;
        let inode = new.inode() as *const Inode as *mut bindings::inode;
        // SAFETY: d_tmpfile binds the I_NEW inode to the file's dentry and
        // takes over our reference; then we publish it.
        unsafe {
            let inode_ref = ARef::into_raw(new.publish_for_tmpfile()).as_ptr().cast();
            bindings::d_tmpfile(file, inode_ref);
            bindings::unlock_new_inode(inode);
        }
        // SAFETY: the file's dentry is now positive.
        Ok(unsafe { bindings::dinofs_finish_open_simple(file) })
    })
}

impl NewInode {
    /// Gives up the `I_NEW` guard without unlocking (for `d_tmpfile`, which
    /// must see the inode still new); the caller unlocks it.
    fn publish_for_tmpfile(self) -> ARef<Inode> {
        self.take()
    }
}

#[no_mangle]
extern "C" fn dinofs_rs_link(
    old: *mut bindings::dentry,
    dir: *mut bindings::inode,
    dentry: *mut bindings::dentry,
) -> c_int {
    let (old, dir, d) =
        // SAFETY: the VFS holds `dir` and the source inode locked.
        unsafe { (Dentry::from_raw(old), Inode::from_raw(dir), Dentry::from_raw(dentry)) };
    from_result(|| {
        dir.sb().live()?;
        let inode = old.inode().ok_or(ENOENT)?;
        crate::dir::link(dir, d.name(), inode)?;
        d.instantiate(ARef::from(inode));
        Ok(0)
    })
}

#[no_mangle]
extern "C" fn dinofs_rs_unlink(dir: *mut bindings::inode, dentry: *mut bindings::dentry) -> c_int {
    // SAFETY: the VFS holds `dir` and the victim locked.
    let (dir, d) = unsafe { (Inode::from_raw(dir), Dentry::from_raw(dentry)) };
    from_result(|| {
        dir.sb().live()?;
        let inode = d.inode().ok_or(ENOENT)?;
        crate::dir::unlink(dir, d.name(), inode)?;
        Ok(0)
    })
}

#[no_mangle]
extern "C" fn dinofs_rs_rmdir(dir: *mut bindings::inode, dentry: *mut bindings::dentry) -> c_int {
    // SAFETY: the VFS holds `dir` and the victim locked.
    let (dir, d) = unsafe { (Inode::from_raw(dir), Dentry::from_raw(dentry)) };
    from_result(|| {
        dir.sb().live()?;
        let inode = d.inode().ok_or(ENOENT)?;
        crate::dir::rmdir(dir, d.name(), inode)?;
        Ok(0)
    })
}

#[no_mangle]
extern "C" fn dinofs_rs_rename(
    _idmap: *mut bindings::mnt_idmap,
    old_dir: *mut bindings::inode,
    old_dentry: *mut bindings::dentry,
    new_dir: *mut bindings::inode,
    new_dentry: *mut bindings::dentry,
    flags: c_uint,
) -> c_int {
    // SAFETY: the VFS holds both directories and the inodes involved locked.
    let (od, o, nd, n) = unsafe {
        (
            Inode::from_raw(old_dir),
            Dentry::from_raw(old_dentry),
            Inode::from_raw(new_dir),
            Dentry::from_raw(new_dentry),
        )
    };
    from_result(|| {
        if flags & !(bindings::RENAME_NOREPLACE as c_uint) != 0 {
            return Err(EINVAL);
        }
        od.sb().live()?;
        let inode = o.inode().ok_or(ENOENT)?;
        crate::dir::rename(od, o.name(), inode, nd, n.name(), n.inode())?;
        Ok(0)
    })
}

#[no_mangle]
extern "C" fn dinofs_rs_setattr(
    idmap: *mut bindings::mnt_idmap,
    dentry: *mut bindings::dentry,
    attr: *mut bindings::iattr,
) -> c_int {
    // SAFETY: the VFS holds the inode locked and passes a live iattr.
    unsafe {
        let inode = bindings::dinofs_d_inode(dentry);
        if let Err(e) = Inode::from_raw(inode).sb().live() {
            return e.to_errno();
        }
        let ret = bindings::setattr_prepare(idmap, dentry, attr);
        if ret != 0 {
            return ret;
        }
        let inoder = Inode::from_raw(inode);
        if (*attr).ia_valid & bindings::ATTR_SIZE != 0 {
            let size = (*attr).ia_size as u64;
            if let Err(e) = crate::inode::truncate(inoder, size) {
                return e.to_errno();
            }
        }
        bindings::setattr_copy(idmap, inode, attr);
        bindings::dinofs_mark_inode_dirty(inode);
    }
    0
}

impl Inode {
    /// Changes the size for a truncate: zeroes the tail of the new last
    /// block and drops the page cache past it. The block map is trimmed by
    /// the caller afterwards.
    pub(crate) fn truncate_pagecache(&self, size: u64) -> Result {
        let p = self.as_ptr();
        // SAFETY: the caller (setattr) holds the inode lock.
        unsafe {
            to_result(bindings::dinofs_block_truncate_page(p, size as i64))?;
            bindings::truncate_setsize(p, size as i64);
        }
        Ok(())
    }

    /// Writes a symlink target into the new inode's first block through the
    /// page cache (`page_symlink`).
    pub(crate) fn write_symlink(&self, target: &[u8]) -> Result {
        // SAFETY: a new inode only we access; `target` is valid for its
        // length + NUL is not required by page_symlink.
        to_result(unsafe {
            bindings::page_symlink(
                self.as_ptr(),
                target.as_ptr().cast(),
                target.len() as c_int + 1,
            )
        })
    }
}

/// A `readdir` emitter (`struct dir_context`).
pub(crate) struct DirEmitter(*mut bindings::dir_context);

impl DirEmitter {
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

#[no_mangle]
extern "C" fn dinofs_rs_iterate_shared(
    file: *mut bindings::file,
    ctx: *mut bindings::dir_context,
) -> c_int {
    // SAFETY: the VFS holds the directory's lock shared and the file open.
    let dir = unsafe { Inode::from_raw((*file).f_inode) };
    let mut emitter = DirEmitter(ctx);
    from_result(|| {
        dir.sb().live()?;
        crate::dir::readdir(dir, &mut emitter)?;
        Ok(0)
    })
}

/// The test harness's failure switch (`make check DINOFS_BREAK=splat`).
pub(crate) mod selftest {
    use crate::bindings;

    /// Whether the module was loaded with `selftest_splat=1`.
    pub(crate) fn splat_requested() -> bool {
        // SAFETY: reads a module parameter; no preconditions.
        unsafe { bindings::dinofs_selftest_splat() }
    }

    /// Emits one deliberate `WARNING:` with a backtrace.
    pub(crate) fn warn() {
        // SAFETY: `WARN()` from process context; no preconditions.
        unsafe { bindings::dinofs_selftest_warn() }
    }
}
