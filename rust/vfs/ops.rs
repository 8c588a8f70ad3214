// SPDX-License-Identifier: GPL-2.0

//! The [`FileSystem`] trait, the operation tables built from it, and one
//! generic `extern "C"` trampoline per operation.
//!
//! Each table is an associated `const` of [`Tables<T>`], built in Rust for
//! the filesystem `T` and promoted to static storage where it is referenced
//! (`&Tables::<T>::SUPER`), the way the `kernel` crate builds its vtables.
//! A trampoline turns the raw pointers the VFS passes into the views of
//! this layer (whose type parameter says which filesystem they belong to:
//! the VFS only calls `T`'s trampolines for objects of `T`), calls `T`, and
//! turns the `Result` back into an errno.

use super::dentry::{Dentry, DirEmitter, FsContext};
use super::inode::{DeadInode, Inode, NewInode};
use super::journal::Handle;
use super::super_block::SuperBlock;
use super::{RateLimit, BLOCK_SIZE};
use crate::bindings;
use core::marker::PhantomData;
use core::mem::MaybeUninit;
use core::ptr::NonNull;
use kernel::c_str;
use kernel::error::{from_result, to_result};
use kernel::ffi::{c_char, c_int, c_long, c_uint, c_ulong, c_void};
use kernel::prelude::*;
use kernel::str::CStr;
use kernel::types::ARef;

/// `statfs` numbers (the block size is [`BLOCK_SIZE`]).
pub(crate) struct StatFs {
    /// Total blocks.
    pub(crate) blocks: u64,
    /// Free blocks (all available to unprivileged users).
    pub(crate) bfree: u64,
    /// Total inodes.
    pub(crate) files: u64,
    /// Free inodes.
    pub(crate) ffree: u64,
    /// Filesystem id.
    pub(crate) fsid: [i32; 2],
}

/// A block filesystem built on this layer. Every method is called from the
/// trampoline of the VFS operation it is named after (or the one the doc
/// says), with the VFS's locking for that operation.
pub(crate) trait FileSystem: Sized + Send + Sync + 'static {
    /// Per-mount state (`s_fs_info`), built by [`Self::fill_super`].
    type Info: Send + Sync;
    /// Mount options under construction (`fs_context::fs_private`).
    type Options: Default + Send;
    /// What the filesystem keeps beside each VFS inode, under the inode's
    /// data lock ([`Inode::lock_data`]). At most 64 bytes, no destructor.
    type InodeData: Default + Copy + Send;

    /// `s_magic` and `f_type`.
    const MAGIC: u64;
    /// `s_maxbytes`.
    const MAX_FILE_SIZE: u64;
    /// `f_namelen`.
    const NAME_MAX: u32;

    /// One option, as the C parameter table parsed it (`opt` is its index,
    /// `value` its enum value).
    fn parse_option(opts: &mut Self::Options, opt: u32, value: u32) -> Result;
    /// Reads the superblock and builds the per-mount state (the block size
    /// is set; `s_fs_info` is not yet).
    fn fill_super(sb: &SuperBlock<Self>, fc: &FsContext<Self>) -> Result<Pin<KBox<Self::Info>>>;
    /// The root directory (after `s_fs_info` is set).
    fn root_inode(sb: &SuperBlock<Self>) -> Result<ARef<Inode<Self>>>;
    /// The last step of a mount, with the root dentry in place (orphan
    /// recovery). On failure the VFS tears the superblock down.
    fn finish_mount(sb: &SuperBlock<Self>) -> Result;
    /// `->reconfigure`, after the sync the VFS expects of it.
    fn reconfigure(sb: &SuperBlock<Self>, fc: &FsContext<Self>) -> Result;
    /// Stops everything that may still reach the per-mount state (workers,
    /// callbacks), just before it is freed: after `put_super`, or when a
    /// mount fails after `fill_super`.
    fn teardown(info: &Self::Info);
    /// Whether the filesystem was shut down (every operation then fails
    /// with `EIO`: [`SuperBlock::live`]).
    fn is_shut_down(info: &Self::Info) -> bool;
    /// The rate limit of this mount's corruption reports.
    fn reports(info: &Self::Info) -> &RateLimit;
    /// Called after every corruption report ([`SuperBlock::corrupt`]).
    fn on_corruption(sb: &SuperBlock<Self>);
    /// `->put_super`.
    fn put_super(sb: &SuperBlock<Self>);
    /// `->sync_fs`.
    fn sync_fs(sb: &SuperBlock<Self>, wait: bool) -> Result;
    /// `->statfs`.
    fn statfs(sb: &SuperBlock<Self>) -> StatFs;
    /// `->show_options`: the options `/proc/mounts` shows, each passed to
    /// `show` starting with a comma.
    fn show_options(sb: &SuperBlock<Self>, show: &mut dyn FnMut(&[u8]));
    /// `->freeze_super` (`who` is the `enum freeze_holder`).
    fn freeze_super(sb: &SuperBlock<Self>, who: u32) -> Result;
    /// `->freeze_fs`.
    fn freeze_fs(sb: &SuperBlock<Self>) -> Result;
    /// `->unfreeze_fs`.
    fn unfreeze_fs(sb: &SuperBlock<Self>);
    /// The shutdown ioctl (`FS_IOC_SHUTDOWN`), flags as XFS's.
    fn shutdown(sb: &SuperBlock<Self>, flags: u32) -> Result;

    /// `fsync` (and `fdatasync`) of `inode`, after `generic_file_fsync`
    /// wrote and waited for its data, its buffers and the inode: what else
    /// makes its metadata durable (a journal commit).
    fn fsync(inode: &Inode<Self>) -> Result;
    /// `->dirty_inode`: the VFS (or the filesystem) changed `inode` in
    /// memory (`mark_inode_dirty`); a journaling filesystem logs it now,
    /// in the running handle or in one of its own (as `ext4_dirty_inode`).
    /// There is no `->write_inode`: writeback never writes an inode itself.
    fn dirty_inode(inode: &Inode<Self>);
    /// `->evict_inode`, after the page cache is gone and before the inode
    /// is cleared.
    fn evict(inode: &Inode<Self>);
    /// `->destroy_inode`: the memory is the filesystem's now.
    fn destroy(sb: &SuperBlock<Self>, dead: DeadInode<Self>);
    /// `get_block`: maps file block `iblock` to a disk block (allocating
    /// it if `create`); `Some((block, new))`, or `None` for a hole.
    fn map_block(inode: &Inode<Self>, iblock: u64, create: bool) -> Result<Option<(u32, bool)>>;
    /// Starts the transaction in which a page-cache write may allocate
    /// blocks: from `write_begin` to `write_end` (a buffered write, a
    /// symlink's target, an expanding truncate), and around `page_mkwrite`
    /// (a shared mapping's first write to a page). Started before the
    /// folio is locked, as jbd2's order is (handle, then folio lock), and
    /// with the caller's freeze protection (`sb_start_write` for writes,
    /// `sb_start_pagefault` for faults); stopped when dropped. Inside a
    /// running handle (a symlink created in `create`'s), the same handle
    /// again.
    fn begin_write(inode: &Inode<Self>) -> Result<Handle<'_>>;
    /// After a write or a fault failed with `ENOSPC`, its handle stopped:
    /// whether space may be free after a commit (the filesystem commits
    /// and waits, then the caller retries, at most three times).
    fn retry_alloc(inode: &Inode<Self>) -> bool;
    /// A buffered write failed after instantiating page cache past EOF
    /// (which is dropped); blocks it allocated there stay mapped.
    fn write_failed(inode: &Inode<Self>);
    /// A size change from `setattr` (after `setattr_prepare`).
    fn truncate(inode: &Inode<Self>, size: u64) -> Result;

    /// `->lookup`.
    fn lookup(dir: &Inode<Self>, name: &[u8]) -> Result<Option<ARef<Inode<Self>>>>;
    /// `->create`, `->mknod`, `->mkdir` and `->symlink` (`symlink` is the
    /// target).
    fn create(
        dir: &Inode<Self>,
        name: &[u8],
        mode: u16,
        rdev: u32,
        symlink: Option<&[u8]>,
    ) -> Result<NewInode<Self>>;
    /// `->tmpfile`.
    fn tmpfile(dir: &Inode<Self>, mode: u16) -> Result<NewInode<Self>>;
    /// `->link`.
    fn link(dir: &Inode<Self>, name: &[u8], inode: &Inode<Self>) -> Result;
    /// `->unlink`.
    fn unlink(dir: &Inode<Self>, name: &[u8], inode: &Inode<Self>) -> Result;
    /// `->rmdir`.
    fn rmdir(dir: &Inode<Self>, name: &[u8], inode: &Inode<Self>) -> Result;
    /// `->rename` (flags 0 or `RENAME_NOREPLACE`; the trampoline refuses
    /// others).
    fn rename(
        old_dir: &Inode<Self>,
        old_name: &[u8],
        inode: &Inode<Self>,
        new_dir: &Inode<Self>,
        new_name: &[u8],
        target: Option<&Inode<Self>>,
    ) -> Result;
    /// `->iterate_shared`.
    fn readdir(dir: &Inode<Self>, ctx: &mut DirEmitter) -> Result;
}

/// Registration of the module's filesystem type (`dinofs_fs_type` in
/// `helpers.c`) for `T`.
///
/// # Invariants
///
/// While a value of this type exists, the type is registered with `T`'s
/// `init_fs_context`; dropping it unregisters the type.
pub(crate) struct Registration<T: FileSystem>(PhantomData<T>);

impl<T: FileSystem> Registration<T> {
    /// Creates the inode cache and registers the filesystem type. Fails
    /// with `EBUSY` if it is registered already.
    pub(crate) fn new() -> Result<Self> {
        // SAFETY: `init_fs_context::<T>` has the C signature; the C side
        // installs it only if no other registration holds the type.
        to_result(unsafe { bindings::dinofs_register_filesystem(Some(init_fs_context::<T>)) })?;
        // INVARIANT: registration succeeded just above.
        Ok(Self(PhantomData))
    }
}

impl<T: FileSystem> Drop for Registration<T> {
    fn drop(&mut self) {
        // SAFETY: by the type invariant the type is registered (by us).
        // Mounted superblocks pin the module (`fs_type.owner`), so none
        // exists when the module value holding this registration is dropped.
        unsafe { bindings::dinofs_unregister_filesystem() };
    }
}

/// `T`'s operation tables.
pub(crate) struct Tables<T>(PhantomData<T>);

/// A table with every operation unset (the C tables' implicit zeros).
const fn zeroed<S>() -> S {
    // SAFETY: only instantiated below with operation tables: structs of
    // nullable function pointers, raw pointers and integers, for which the
    // all-zero pattern is valid (and means "not implemented").
    unsafe { MaybeUninit::zeroed().assume_init() }
}

impl<T: FileSystem> Tables<T> {
    const SUPER: bindings::super_operations = bindings::super_operations {
        alloc_inode: Some(alloc_inode::<T>),
        destroy_inode: Some(destroy_inode::<T>),
        dirty_inode: Some(dirty_inode::<T>),
        evict_inode: Some(evict_inode::<T>),
        put_super: Some(put_super::<T>),
        sync_fs: Some(sync_fs::<T>),
        statfs: Some(statfs::<T>),
        show_options: Some(show_options::<T>),
        freeze_super: Some(freeze_super::<T>),
        freeze_fs: Some(freeze_fs::<T>),
        unfreeze_fs: Some(unfreeze_fs::<T>),
        ..zeroed()
    };

    const AOPS: bindings::address_space_operations = bindings::address_space_operations {
        dirty_folio: Some(bindings::block_dirty_folio),
        invalidate_folio: Some(bindings::block_invalidate_folio),
        read_folio: Some(read_folio::<T>),
        readahead: Some(readahead::<T>),
        writepages: Some(writepages::<T>),
        write_begin: Some(write_begin::<T>),
        write_end: Some(write_end::<T>),
        bmap: Some(bmap::<T>),
        migrate_folio: Some(bindings::buffer_migrate_folio),
        is_partially_uptodate: Some(bindings::block_is_partially_uptodate),
        error_remove_folio: Some(bindings::generic_error_remove_folio),
        ..zeroed()
    };

    /// A shared mapping of a `T` file: the page cache's fault handlers,
    /// and a `page_mkwrite` that allocates the page's blocks in a handle
    /// (`generic_file_vm_ops` would leave that to writeback, which runs
    /// under folio locks and with no handle).
    const VM_OPS: bindings::vm_operations_struct = bindings::vm_operations_struct {
        fault: Some(bindings::filemap_fault),
        map_pages: Some(bindings::filemap_map_pages),
        page_mkwrite: Some(page_mkwrite::<T>),
        ..zeroed()
    };

    const FILE_FOPS: bindings::file_operations = bindings::file_operations {
        llseek: Some(bindings::generic_file_llseek),
        read_iter: Some(read_iter::<T>),
        write_iter: Some(write_iter::<T>),
        mmap: Some(mmap::<T>),
        open: Some(open::<T>),
        fsync: Some(fsync::<T>),
        splice_read: Some(splice_read::<T>),
        splice_write: Some(bindings::iter_file_splice_write),
        unlocked_ioctl: Some(ioctl::<T>),
        ..zeroed()
    };

    const DIR_FOPS: bindings::file_operations = bindings::file_operations {
        llseek: Some(bindings::generic_file_llseek),
        read: Some(bindings::generic_read_dir),
        iterate_shared: Some(iterate_shared::<T>),
        fsync: Some(fsync::<T>),
        unlocked_ioctl: Some(ioctl::<T>),
        // compat_ptr_ioctl on kernels with CONFIG_COMPAT; the test kernel
        // has none, so 32-bit callers are not served.
        ..zeroed()
    };

    const FILE_IOPS: bindings::inode_operations = bindings::inode_operations {
        setattr: Some(setattr::<T>),
        ..zeroed()
    };

    const DIR_IOPS: bindings::inode_operations = bindings::inode_operations {
        lookup: Some(lookup::<T>),
        create: Some(create::<T>),
        link: Some(link::<T>),
        unlink: Some(unlink::<T>),
        symlink: Some(symlink::<T>),
        mkdir: Some(mkdir::<T>),
        rmdir: Some(rmdir::<T>),
        mknod: Some(mknod::<T>),
        rename: Some(rename::<T>),
        tmpfile: Some(tmpfile::<T>),
        setattr: Some(setattr::<T>),
        ..zeroed()
    };

    const SYMLINK_IOPS: bindings::inode_operations = bindings::inode_operations {
        get_link: Some(bindings::page_get_link),
        setattr: Some(setattr::<T>),
        ..zeroed()
    };

    const SPECIAL_IOPS: bindings::inode_operations = bindings::inode_operations {
        setattr: Some(setattr::<T>),
        ..zeroed()
    };

    const CONTEXT: bindings::fs_context_operations = bindings::fs_context_operations {
        parse_param: Some(parse_param::<T>),
        get_tree: Some(get_tree::<T>),
        reconfigure: Some(reconfigure::<T>),
        free: Some(free_fc::<T>),
        ..zeroed()
    };
}

const S_IFMT: u16 = 0o170000;
const S_IFREG: u16 = 0o100000;
const S_IFDIR: u16 = 0o040000;
const S_IFLNK: u16 = 0o120000;

/// Installs `T`'s operation tables matching the type of a new inode.
pub(super) fn set_inode_ops<T: FileSystem>(new: &NewInode<T>) {
    let inode = new.inode();
    let p = inode.as_ptr();
    let (iops, fops, aops): (&'static _, Option<&'static _>, bool) = match inode.mode() & S_IFMT {
        S_IFREG => (&Tables::<T>::FILE_IOPS, Some(&Tables::<T>::FILE_FOPS), true),
        S_IFDIR => (&Tables::<T>::DIR_IOPS, Some(&Tables::<T>::DIR_FOPS), true),
        S_IFLNK => (&Tables::<T>::SYMLINK_IOPS, None, true),
        _ => (&Tables::<T>::SPECIAL_IOPS, None, false),
    };
    let aops: *const bindings::address_space_operations = if aops {
        &Tables::<T>::AOPS
    } else {
        core::ptr::null()
    };
    let fops: *const bindings::file_operations = fops.map_or(core::ptr::null(), |f| f);
    // SAFETY: an I_NEW inode only the caller accesses (`NewInode`'s
    // invariant); the tables are 'static. Special inodes get their file
    // operations from `init_special_inode`, symlinks none (`page_get_link`
    // reads the page cache, kept out of highmem).
    unsafe {
        bindings::dinofs_inode_set_ops(p, iops, fops, aops);
        match inode.mode() & S_IFMT {
            S_IFREG | S_IFDIR => {}
            S_IFLNK => bindings::inode_nohighmem(p),
            mode => bindings::init_special_inode(p, mode, (*p).i_rdev),
        }
    }
}

/// The `T::InodeData` of an inode container.
///
/// # Safety
///
/// `inode` is a live inode of a `T` filesystem (in a container from
/// `alloc_inode`).
pub(super) unsafe fn inode_data<T: FileSystem>(inode: *mut bindings::inode) -> *mut T::InodeData {
    const {
        assert!(
            core::mem::size_of::<T::InodeData>()
                <= core::mem::size_of::<[u64; bindings::DINOFS_INODE_DATA_WORDS as usize]>()
        );
        assert!(core::mem::align_of::<T::InodeData>() <= core::mem::align_of::<u64>());
    }
    // SAFETY: computing a field address of the container of `inode` (live,
    // per the contract), without reading it.
    unsafe { (&raw mut (*bindings::dinofs_i(inode)).fs_data).cast() }
}

// ---------------------------------------------------------------------------
// Superblock operations

extern "C" fn alloc_inode<T: FileSystem>(sb: *mut bindings::super_block) -> *mut bindings::inode {
    // SAFETY: the VFS allocates an inode for a live superblock.
    let inode = unsafe { bindings::dinofs_alloc_inode(sb) };
    if !inode.is_null() {
        // SAFETY: a fresh container of a `T` inode nobody else sees yet;
        // its data area fits a `T::InodeData` (`inode_data`'s assertions).
        unsafe { inode_data::<T>(inode).write(T::InodeData::default()) };
    }
    inode
}

extern "C" fn destroy_inode<T: FileSystem>(inode: *mut bindings::inode) {
    // SAFETY: an inode keeps its superblock alive, and the superblock
    // outlives every inode's destruction.
    let sb = unsafe { SuperBlock::<T>::from_raw((*inode).i_sb) };
    // SAFETY: the VFS is done with the inode (destroy_inode, no
    // free_inode): its memory is ours, and it is a `T` inode.
    T::destroy(sb, unsafe {
        DeadInode::from_destroyed(NonNull::new_unchecked(inode))
    });
}

extern "C" fn dirty_inode<T: FileSystem>(inode: *mut bindings::inode, _flags: c_int) {
    // SAFETY: `__mark_inode_dirty` runs on a referenced inode (or one
    // being set up, `I_NEW`, which its creator holds) of this filesystem.
    let inode = unsafe { Inode::<T>::from_raw(inode) };
    if inode.sb().live().is_ok() {
        T::dirty_inode(inode);
    }
}

extern "C" fn evict_inode<T: FileSystem>(inode: *mut bindings::inode) {
    // SAFETY: the inode is being evicted: the VFS holds the last reference
    // and no new one can be taken (I_FREEING).
    unsafe { bindings::truncate_inode_pages_final(&mut (*inode).i_data) };
    // SAFETY: as above.
    T::evict(unsafe { Inode::from_raw(inode) });
    // Dirty metadata buffers attached to the inode stay dirty in the block
    // device's cache and are written by writeback; they are only detached.
    // SAFETY: as above.
    unsafe {
        bindings::invalidate_inode_buffers(inode);
        bindings::clear_inode(inode);
    }
}

extern "C" fn put_super<T: FileSystem>(sb: *mut bindings::super_block) {
    // SAFETY: the superblock is live during put_super.
    T::put_super(unsafe { SuperBlock::from_raw(sb) });
    free_info::<T>(sb);
}

extern "C" fn sync_fs<T: FileSystem>(sb: *mut bindings::super_block, wait: c_int) -> c_int {
    // SAFETY: live superblock.
    let sb = unsafe { SuperBlock::<T>::from_raw(sb) };
    from_result(|| {
        T::sync_fs(sb, wait != 0)?;
        Ok(0)
    })
}

extern "C" fn statfs<T: FileSystem>(
    dentry: *mut bindings::dentry,
    // The kernel crate's opaque type, as in its `super_operations`.
    buf: *mut kernel::bindings::kstatfs,
) -> c_int {
    let buf = buf.cast::<bindings::kstatfs>();
    // SAFETY: live dentry of a mounted `T` filesystem.
    let sb = unsafe { SuperBlock::<T>::from_raw((*dentry).d_sb) };
    let st = T::statfs(sb);
    // SAFETY: `buf` is the caller's, zeroed by vfs_statfs.
    unsafe {
        (*buf).f_type = T::MAGIC as _;
        (*buf).f_bsize = BLOCK_SIZE as _;
        (*buf).f_blocks = st.blocks;
        (*buf).f_bfree = st.bfree;
        (*buf).f_bavail = st.bfree;
        (*buf).f_files = st.files;
        (*buf).f_ffree = st.ffree;
        (*buf).f_namelen = T::NAME_MAX as _;
        (*buf).f_fsid = bindings::__kernel_fsid_t { val: st.fsid };
    }
    0
}

extern "C" fn show_options<T: FileSystem>(
    m: *mut bindings::seq_file,
    root: *mut bindings::dentry,
) -> c_int {
    // SAFETY: live root dentry of a mounted `T` filesystem.
    let sb = unsafe { SuperBlock::<T>::from_raw((*root).d_sb) };
    T::show_options(sb, &mut |b: &[u8]| {
        // SAFETY: live seq_file; `b` is valid for its length.
        unsafe { bindings::seq_write(m, b.as_ptr().cast(), b.len()) };
    });
    0
}

extern "C" fn freeze_super<T: FileSystem>(sb: *mut bindings::super_block, who: c_uint) -> c_int {
    // SAFETY: the VFS calls ->freeze_super on a live superblock it holds an
    // active reference to, without s_umount.
    let sb = unsafe { SuperBlock::<T>::from_raw(sb) };
    from_result(|| {
        T::freeze_super(sb, who)?;
        Ok(0)
    })
}

extern "C" fn freeze_fs<T: FileSystem>(sb: *mut bindings::super_block) -> c_int {
    // SAFETY: live superblock, s_umount held by freeze_super.
    let sb = unsafe { SuperBlock::<T>::from_raw(sb) };
    from_result(|| {
        T::freeze_fs(sb)?;
        Ok(0)
    })
}

extern "C" fn unfreeze_fs<T: FileSystem>(sb: *mut bindings::super_block) -> c_int {
    // SAFETY: live superblock, s_umount held by thaw_super.
    T::unfreeze_fs(unsafe { SuperBlock::from_raw(sb) });
    0
}

// ---------------------------------------------------------------------------
// The mount API

extern "C" fn init_fs_context<T: FileSystem>(fc: *mut bindings::fs_context) -> c_int {
    from_result(|| {
        let opts = KBox::new(T::Options::default(), GFP_KERNEL)?;
        // SAFETY: live context being set up by us; `fs_private` takes
        // ownership of the box, released in `free_fc`. From here on the
        // context's callbacks are `T`'s.
        unsafe {
            (*fc).fs_private = KBox::into_raw(opts).cast();
            (*fc).ops = &Tables::<T>::CONTEXT;
        }
        Ok(0)
    })
}

extern "C" fn free_fc<T: FileSystem>(fc: *mut bindings::fs_context) {
    // SAFETY: live context; `fs_private` is null or our box.
    let p = unsafe { (*fc).fs_private };
    if !p.is_null() {
        // SAFETY: `p` came from `KBox::into_raw` in init_fs_context.
        drop(unsafe { KBox::from_raw(p.cast::<T::Options>()) });
    }
}

extern "C" fn parse_param<T: FileSystem>(
    fc: *mut bindings::fs_context,
    param: *mut bindings::fs_parameter,
) -> c_int {
    let mut value = 0u32;
    // SAFETY: live context and parameter, valid out pointer.
    let opt = unsafe { bindings::dinofs_fc_parse(fc, param, &mut value) };
    if opt < 0 {
        return opt;
    }
    // SAFETY: `fs_private` is our `T::Options` box (init_fs_context), and
    // the VFS serialises the parse callback with every other callback of
    // the context: nothing else refers to the options now.
    let opts = unsafe { &mut *(*fc).fs_private.cast::<T::Options>() };
    from_result(|| {
        T::parse_option(opts, opt as u32, value)?;
        Ok(0)
    })
}

extern "C" fn get_tree<T: FileSystem>(fc: *mut bindings::fs_context) -> c_int {
    // SAFETY: `fc` is the live context; `fill_super::<T>` matches
    // get_tree_bdev's callback type.
    unsafe { bindings::get_tree_bdev(fc, Some(fill_super::<T>)) }
}

extern "C" fn fill_super<T: FileSystem>(
    sb: *mut bindings::super_block,
    fc: *mut bindings::fs_context,
) -> c_int {
    // SAFETY: the VFS keeps both alive for the duration of this callback;
    // the superblock is being set up for `T` (its `s_fs_info` is null).
    let (sbr, fcr) = unsafe { (SuperBlock::<T>::from_raw(sb), FsContext::<T>::from_raw(fc)) };
    from_result(|| {
        // SAFETY: the superblock is being set up by us alone.
        if unsafe { bindings::sb_set_blocksize(sb, BLOCK_SIZE as c_int) } != BLOCK_SIZE as c_int {
            fcr.error(c_str!("device does not support 4096-byte blocks"));
            return Err(EINVAL);
        }
        let info = T::fill_super(sbr, fcr)?;
        // SAFETY: set up before any inode exists; freed in `free_info`.
        // `T::Info` is not moved out of the box: it stays pinned.
        unsafe {
            (*sb).s_fs_info = KBox::into_raw(Pin::into_inner_unchecked(info)).cast();
            (*sb).s_op = &Tables::<T>::SUPER;
            (*sb).s_maxbytes = T::MAX_FILE_SIZE as _;
            (*sb).s_time_gran = 1;
            (*sb).s_time_min = i64::MIN;
            (*sb).s_time_max = i64::MAX;
            (*sb).s_magic = T::MAGIC as _;
        }
        let root = match T::root_inode(sbr) {
            Ok(r) => r,
            Err(e) => {
                free_info::<T>(sb);
                return Err(e);
            }
        };
        // SAFETY: d_make_root consumes the reference (also on failure).
        let dentry = unsafe { bindings::d_make_root(ARef::into_raw(root).as_ptr().cast()) };
        if dentry.is_null() {
            free_info::<T>(sb);
            return Err(ENOMEM);
        }
        // SAFETY: we are setting up the superblock.
        unsafe { (*sb).s_root = dentry };
        // On failure the VFS tears the superblock down (kill_sb ->
        // put_super), which frees s_fs_info.
        T::finish_mount(sbr)?;
        Ok(0)
    })
}

/// Frees `s_fs_info` (failed fill_super, or put_super), after
/// [`FileSystem::teardown`] stopped everything that could still reach it.
fn free_info<T: FileSystem>(sb: *mut bindings::super_block) {
    // SAFETY: `s_fs_info` is null or the box leaked in fill_super, and no
    // inode uses it any more.
    let p = unsafe { (*sb).s_fs_info.cast::<T::Info>() };
    if p.is_null() {
        return;
    }
    // SAFETY: `p` is the live state (see above).
    T::teardown(unsafe { &*p });
    // SAFETY: as above; nothing refers to the state any more.
    unsafe {
        (*sb).s_fs_info = core::ptr::null_mut();
        drop(KBox::from_raw(p));
    }
}

extern "C" fn reconfigure<T: FileSystem>(fc: *mut bindings::fs_context) -> c_int {
    // SAFETY: live context of a `T` filesystem; reconfigure always has a
    // root (remount).
    let (fcr, sb) = unsafe {
        let root = (*fc).root;
        (
            FsContext::<T>::from_raw(fc),
            SuperBlock::<T>::from_raw((*root).d_sb),
        )
    };
    from_result(|| {
        // Sync first, as the VFS expects of ->reconfigure. Going read-only,
        // a failure fails the remount (ext4 does the same): what could not
        // be written must not be left behind a read-only flag.
        // SAFETY: live superblock, s_umount held by the VFS.
        let r = unsafe { bindings::sync_filesystem(sb.as_ptr()) };
        if r < 0 && fcr.rdonly() && !sb.rdonly() {
            fcr.error(c_str!("sync before remount read-only failed"));
            return Err(Error::from_errno(r));
        }
        T::reconfigure(sb, fcr)?;
        Ok(0)
    })
}

// ---------------------------------------------------------------------------
// The page cache: address space operations

/// `get_block_t` for `T`: the block map, as buffer-head I/O wants it.
pub(super) extern "C" fn get_block<T: FileSystem>(
    inode: *mut bindings::inode,
    iblock: bindings::sector_t,
    // The kernel crate's opaque type, as in its `get_block_t`.
    bh: *mut kernel::bindings::buffer_head,
    create: c_int,
) -> c_int {
    let bh = bh.cast::<bindings::buffer_head>();
    // SAFETY: the page-cache code holds the inode (via the mapping).
    let inode = unsafe { Inode::<T>::from_raw(inode) };
    from_result(|| {
        inode.sb().live()?;
        if let Some((block, new)) = T::map_block(inode, iblock, create != 0)? {
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

/// Whether the filesystem of `inode` was shut down (the file and page-cache
/// entry points then fail with `EIO`, as XFS's and ext4's do).
///
/// # Safety
///
/// `inode` is a live inode of a `T` filesystem.
unsafe fn shut_down<T: FileSystem>(inode: *mut bindings::inode) -> bool {
    // SAFETY: per the contract.
    unsafe { Inode::<T>::from_raw(inode) }.sb().live().is_err()
}

extern "C" fn read_folio<T: FileSystem>(
    _file: *mut bindings::file,
    folio: *mut bindings::folio,
) -> c_int {
    // SAFETY: a locked folio of a `T` file, as read_folio gets it.
    unsafe { bindings::block_read_full_folio(folio, Some(get_block::<T>)) }
}

extern "C" fn readahead<T: FileSystem>(rac: *mut bindings::readahead_control) {
    // SAFETY: the readahead control of a `T` file's mapping.
    unsafe { bindings::mpage_readahead(rac, Some(get_block::<T>)) }
}

extern "C" fn writepages<T: FileSystem>(
    mapping: *mut bindings::address_space,
    wbc: *mut bindings::writeback_control,
) -> c_int {
    // After a shutdown nothing reaches the disk: dirty pages stay dirty
    // until eviction drops them (as ext4 does).
    // SAFETY: a live mapping of a `T` inode (its host).
    if unsafe { shut_down::<T>((*mapping).host) } {
        return EIO.to_errno();
    }
    // SAFETY: as above; `wbc` is the caller's.
    unsafe { bindings::mpage_writepages(mapping, wbc, Some(get_block::<T>)) }
}

/// `write_begin`: starts the write's handle ([`FileSystem::begin_write`]),
/// then `block_write_begin` (which locks the folio and maps its blocks,
/// allocating them). On success the handle stays running in `*fsdata` for
/// [`write_end`], which every caller of a successful `write_begin` calls
/// on the same task (`generic_perform_write`, `page_symlink`,
/// `generic_cont_expand_simple`).
extern "C" fn write_begin<T: FileSystem>(
    _file: *mut bindings::file,
    mapping: *mut bindings::address_space,
    pos: bindings::loff_t,
    len: c_uint,
    foliop: *mut *mut bindings::folio,
    fsdata: *mut *mut c_void,
) -> c_int {
    // SAFETY: a live mapping of a `T` inode, its host held by the caller
    // for the write.
    let inode = unsafe { (*mapping).host };
    // SAFETY: the host of a `T` mapping is a `T` inode, live for the write
    // (the caller holds it and its `i_rwsem`).
    let host = unsafe { Inode::<T>::from_raw(inode) };
    let mut tries = 0;
    loop {
        let handle = match T::begin_write(host) {
            Ok(h) => h,
            Err(e) => return e.to_errno(),
        };
        let get_block: bindings::get_block_t = Some(get_block::<T>);
        // SAFETY: a live mapping of a `T` inode, locked by the VFS for the
        // write; the out pointer is the caller's.
        let ret = unsafe { bindings::block_write_begin(mapping, pos, len, foliop, get_block) };
        if ret == 0 {
            // SAFETY: the caller's out pointer, passed back to `write_end`.
            unsafe { *fsdata = handle.into_raw() };
            return 0;
        }
        // Stopped before the cleanup, which locks folios and may start
        // handles of its own.
        drop(handle);
        // SAFETY: as above.
        let size = unsafe { bindings::dinofs_i_size_read(inode) };
        if pos + len as bindings::loff_t > size {
            // Drop page cache past EOF that the failed write instantiated;
            // blocks get_block allocated for it stay mapped past EOF, and
            // the filesystem marks them for trimming.
            // SAFETY: as above.
            unsafe { bindings::truncate_pagecache(inode, size) };
            T::write_failed(host);
        }
        // Space freed by transactions not yet committed is busy: after
        // the filesystem committed them, the write tries again (as
        // `ext4_write_begin` retries on ENOSPC).
        if ret == ENOSPC.to_errno() && tries < 3 && T::retry_alloc(host) {
            tries += 1;
            continue;
        }
        return ret;
    }
}

/// `write_end`: `generic_write_end` (the copy committed to the folio,
/// `i_size` updated), then the handle `write_begin` left in `fsdata` is
/// stopped; an error stopping it (an aborted journal) fails the write.
extern "C" fn write_end<T: FileSystem>(
    file: *mut bindings::file,
    mapping: *mut bindings::address_space,
    pos: bindings::loff_t,
    len: c_uint,
    copied: c_uint,
    folio: *mut bindings::folio,
    fsdata: *mut c_void,
) -> c_int {
    let ret =
        // SAFETY: the caller's, after a successful `write_begin` on this
        // mapping (the folio is locked and referenced).
        unsafe { bindings::generic_write_end(file, mapping, pos, len, copied, folio, fsdata) };
    // SAFETY: `write_begin` put a running handle of this task there, taken
    // back once here; its journal belongs to the mapping's superblock,
    // which outlives the write.
    match unsafe { Handle::from_raw(fsdata) }.map(Handle::stop) {
        Some(Err(e)) if ret >= 0 => e.to_errno(),
        _ => ret,
    }
}

/// `page_mkwrite`: a shared mapping's first write to a page. With the
/// fault's freeze protection and the file's times updated, the write's
/// handle is started ([`FileSystem::begin_write`]) and
/// `block_page_mkwrite` locks the folio and maps its blocks, allocating
/// them: a full filesystem is a `SIGBUS` at the store, not a write lost
/// at writeback. Returns with the folio locked (`VM_FAULT_LOCKED`).
extern "C" fn page_mkwrite<T: FileSystem>(vmf: *mut bindings::vm_fault) -> bindings::vm_fault_t {
    // SAFETY: the fault of a shared, writable mapping of a `T` file: the
    // VMA, its file and the inode are live for the fault.
    let (vma, file, inode) = unsafe {
        let vma = (*vmf).__bindgen_anon_1.vma;
        let file = (*vma).vm_file;
        (vma, file, Inode::<T>::from_raw((*file).f_inode))
    };
    let sb = inode.sb();
    // SAFETY: a live superblock; ended below on this task.
    unsafe { bindings::dinofs_sb_start_pagefault(sb.as_ptr()) };
    let err = (|| {
        sb.live()?;
        // SAFETY: the fault's file. An error updating the times is not
        // the fault's (as in `filemap_page_mkwrite`).
        let _ = unsafe { bindings::file_update_time(file) };
        let mut tries = 0;
        loop {
            let handle = T::begin_write(inode)?;
            let get_block: bindings::get_block_t = Some(get_block::<T>);
            // SAFETY: the fault's VMA and `vmf`; the folio is locked by it
            // and left locked on success.
            let r = to_result(unsafe { bindings::block_page_mkwrite(vma, vmf, get_block) });
            // An aborted journal fails what comes next; this page's blocks
            // are mapped (as `ext4_page_mkwrite` ignores the stop's
            // verdict).
            drop(handle);
            match r {
                // Busy space: retried after a commit, as in `write_begin`.
                Err(e) if e == ENOSPC && tries < 3 && T::retry_alloc(inode) => tries += 1,
                r => return r,
            }
        }
    })();
    // SAFETY: taken above.
    unsafe { bindings::dinofs_sb_end_pagefault(sb.as_ptr()) };
    let errno = match err {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    };
    // SAFETY: maps an errno to the fault result (0: folio locked).
    unsafe { bindings::dinofs_vmf_fs_error(errno) }
}

extern "C" fn bmap<T: FileSystem>(
    mapping: *mut bindings::address_space,
    block: bindings::sector_t,
) -> bindings::sector_t {
    // SAFETY: a live mapping of a `T` inode.
    unsafe { bindings::generic_block_bmap(mapping, block, Some(get_block::<T>)) }
}

// ---------------------------------------------------------------------------
// File operations: the generic helpers, after a shutdown check

extern "C" fn read_iter<T: FileSystem>(
    iocb: *mut bindings::kiocb,
    to: *mut bindings::iov_iter,
) -> isize {
    // SAFETY: a live kiocb on an open `T` file.
    if unsafe { shut_down::<T>((*(*iocb).ki_filp).f_inode) } {
        return EIO.to_errno() as isize;
    }
    // SAFETY: as above.
    unsafe { bindings::generic_file_read_iter(iocb, to) }
}

extern "C" fn write_iter<T: FileSystem>(
    iocb: *mut bindings::kiocb,
    from: *mut bindings::iov_iter,
) -> isize {
    // SAFETY: a live kiocb on an open `T` file.
    if unsafe { shut_down::<T>((*(*iocb).ki_filp).f_inode) } {
        return EIO.to_errno() as isize;
    }
    // SAFETY: as above.
    unsafe { bindings::generic_file_write_iter(iocb, from) }
}

extern "C" fn splice_read<T: FileSystem>(
    file: *mut bindings::file,
    ppos: *mut bindings::loff_t,
    pipe: *mut bindings::pipe_inode_info,
    len: usize,
    flags: c_uint,
) -> isize {
    // SAFETY: an open `T` file.
    if unsafe { shut_down::<T>((*file).f_inode) } {
        return EIO.to_errno() as isize;
    }
    // SAFETY: as above; the rest is the caller's.
    unsafe { bindings::filemap_splice_read(file, ppos, pipe, len, flags) }
}

extern "C" fn mmap<T: FileSystem>(
    file: *mut bindings::file,
    vma: *mut bindings::vm_area_struct,
) -> c_int {
    // SAFETY: an open `T` file.
    if unsafe { shut_down::<T>((*file).f_inode) } {
        return EIO.to_errno();
    }
    // SAFETY: as above.
    let r = unsafe { bindings::generic_file_mmap(file, vma) };
    if r == 0 {
        // SAFETY: the VMA being set up for this file (mmap_lock held for
        // writing); `VM_OPS` is promoted to static storage.
        unsafe { (*vma).vm_ops = &Tables::<T>::VM_OPS };
    }
    r
}

extern "C" fn open<T: FileSystem>(inode: *mut bindings::inode, file: *mut bindings::file) -> c_int {
    // SAFETY: a `T` inode being opened.
    if unsafe { shut_down::<T>(inode) } {
        return EIO.to_errno();
    }
    // SAFETY: as above.
    unsafe { bindings::generic_file_open(inode, file) }
}

extern "C" fn fsync<T: FileSystem>(
    file: *mut bindings::file,
    start: bindings::loff_t,
    end: bindings::loff_t,
    datasync: c_int,
) -> c_int {
    // SAFETY: an open `T` file.
    if unsafe { shut_down::<T>((*file).f_inode) } {
        return EIO.to_errno();
    }
    // SAFETY: as above.
    let r = unsafe { bindings::generic_file_fsync(file, start, end, datasync) };
    if r != 0 {
        return r;
    }
    // SAFETY: as above.
    let inode = unsafe { Inode::<T>::from_raw((*file).f_inode) };
    match T::fsync(inode) {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

/// `FS_IOC_SHUTDOWN`: `_IOR('X', 125, __u32)`, the number every filesystem
/// uses for it (`XFS_IOC_GOINGDOWN`, `EXT4_IOC_SHUTDOWN`), so xfs_io's
/// "shutdown" and fstests' godown work unchanged.
const IOC_SHUTDOWN: u32 = kernel::ioctl::_IOR::<u32>(b'X' as u32, 125);

/// `CAP_SYS_ADMIN`.
const CAP_SYS_ADMIN: c_int = 21;

extern "C" fn ioctl<T: FileSystem>(file: *mut bindings::file, cmd: c_uint, arg: c_ulong) -> c_long {
    if cmd != IOC_SHUTDOWN {
        return ENOTTY.to_errno() as c_long;
    }
    // SAFETY: no preconditions.
    if !unsafe { bindings::capable(CAP_SYS_ADMIN) } {
        return EPERM.to_errno() as c_long;
    }
    let mut reader = kernel::uaccess::UserSlice::new(arg, 4).reader();
    let flags = match reader.read::<u32>() {
        Ok(f) => f,
        Err(e) => return e.to_errno() as c_long,
    };
    // SAFETY: the ioctl caller holds an open file on this `T` filesystem,
    // which keeps the superblock (and its state) alive.
    let sb = unsafe { SuperBlock::<T>::from_raw((*(*file).f_inode).i_sb) };
    from_result(|| {
        T::shutdown(sb, flags)?;
        Ok(0)
    }) as c_long
}

extern "C" fn iterate_shared<T: FileSystem>(
    file: *mut bindings::file,
    ctx: *mut bindings::dir_context,
) -> c_int {
    // SAFETY: the VFS holds the directory's lock shared and the file open.
    let dir = unsafe { Inode::<T>::from_raw((*file).f_inode) };
    // SAFETY: the context is live for the duration of this callback.
    let mut emitter = unsafe { DirEmitter::from_raw(ctx) };
    from_result(|| {
        dir.sb().live()?;
        T::readdir(dir, &mut emitter)?;
        Ok(0)
    })
}

// ---------------------------------------------------------------------------
// Inode operations

extern "C" fn lookup<T: FileSystem>(
    dir: *mut bindings::inode,
    dentry: *mut bindings::dentry,
    _flags: c_uint,
) -> *mut bindings::dentry {
    // SAFETY: the VFS holds `dir` locked and `dentry` referenced.
    let (dirr, d) = unsafe { (Inode::<T>::from_raw(dir), Dentry::<T>::from_raw(dentry)) };
    if let Err(e) = dirr.sb().live() {
        return e.to_ptr();
    }
    let inode = match T::lookup(dirr, d.name()) {
        Ok(Some(i)) => ARef::into_raw(i).as_ptr().cast(),
        Ok(None) => core::ptr::null_mut(),
        Err(e) => return e.to_ptr(),
    };
    // SAFETY: d_splice_alias consumes the inode reference (or NULL).
    unsafe { bindings::d_splice_alias(inode, dentry) }
}

/// Runs a "create something in `dir`" operation and instantiates `dentry`.
fn create_common<T: FileSystem>(
    dir: *mut bindings::inode,
    dentry: *mut bindings::dentry,
    mode: u16,
    rdev: u32,
    symlink: Option<&[u8]>,
) -> c_int {
    // SAFETY: the VFS holds `dir` locked and `dentry` (negative) referenced.
    let (dir, d) = unsafe { (Inode::<T>::from_raw(dir), Dentry::<T>::from_raw(dentry)) };
    from_result(|| {
        dir.sb().live()?;
        let new = T::create(dir, d.name(), mode, rdev, symlink)?;
        d.instantiate_new(new);
        Ok(0)
    })
}

extern "C" fn create<T: FileSystem>(
    _idmap: *mut bindings::mnt_idmap,
    dir: *mut bindings::inode,
    dentry: *mut bindings::dentry,
    mode: bindings::umode_t,
    _excl: bool,
) -> c_int {
    create_common::<T>(dir, dentry, mode | S_IFREG, 0, None)
}

extern "C" fn mknod<T: FileSystem>(
    _idmap: *mut bindings::mnt_idmap,
    dir: *mut bindings::inode,
    dentry: *mut bindings::dentry,
    mode: bindings::umode_t,
    rdev: bindings::dev_t,
) -> c_int {
    let rdev = super::inode::encode_dev(rdev);
    create_common::<T>(dir, dentry, mode, rdev, None)
}

extern "C" fn mkdir<T: FileSystem>(
    _idmap: *mut bindings::mnt_idmap,
    dir: *mut bindings::inode,
    dentry: *mut bindings::dentry,
    mode: bindings::umode_t,
) -> c_int {
    create_common::<T>(dir, dentry, mode | S_IFDIR, 0, None)
}

extern "C" fn symlink<T: FileSystem>(
    _idmap: *mut bindings::mnt_idmap,
    dir: *mut bindings::inode,
    dentry: *mut bindings::dentry,
    target: *const c_char,
) -> c_int {
    // SAFETY: the VFS passes a NUL-terminated target that outlives the call.
    let target = unsafe { CStr::from_char_ptr(target) };
    create_common::<T>(dir, dentry, S_IFLNK | 0o777, 0, Some(target.as_bytes()))
}

extern "C" fn tmpfile<T: FileSystem>(
    _idmap: *mut bindings::mnt_idmap,
    dir: *mut bindings::inode,
    file: *mut bindings::file,
    mode: bindings::umode_t,
) -> c_int {
    // SAFETY: the VFS holds `dir` and passes the file being opened.
    let dirr = unsafe { Inode::<T>::from_raw(dir) };
    from_result(|| {
        dirr.sb().live()?;
        let new = T::tmpfile(dirr, mode)?;
        let inode = ARef::into_raw(new.take())
            .as_ptr()
            .cast::<bindings::inode>();
        // SAFETY: d_tmpfile binds the still-I_NEW inode to the file's
        // dentry and takes over our reference; then we publish it.
        unsafe {
            bindings::d_tmpfile(file, inode);
            bindings::unlock_new_inode(inode);
        }
        // SAFETY: the file's dentry is now positive.
        Ok(unsafe { bindings::finish_open(file, (*file).f_path.dentry, None) })
    })
}

extern "C" fn link<T: FileSystem>(
    old: *mut bindings::dentry,
    dir: *mut bindings::inode,
    dentry: *mut bindings::dentry,
) -> c_int {
    // SAFETY: the VFS holds `dir` and the source inode locked.
    let (old, dir, d) = unsafe {
        (
            Dentry::<T>::from_raw(old),
            Inode::<T>::from_raw(dir),
            Dentry::<T>::from_raw(dentry),
        )
    };
    from_result(|| {
        dir.sb().live()?;
        let inode = old.inode().ok_or(ENOENT)?;
        T::link(dir, d.name(), inode)?;
        d.instantiate(ARef::from(inode));
        Ok(0)
    })
}

extern "C" fn unlink<T: FileSystem>(
    dir: *mut bindings::inode,
    dentry: *mut bindings::dentry,
) -> c_int {
    // SAFETY: the VFS holds `dir` and the victim locked.
    let (dir, d) = unsafe { (Inode::<T>::from_raw(dir), Dentry::<T>::from_raw(dentry)) };
    from_result(|| {
        dir.sb().live()?;
        let inode = d.inode().ok_or(ENOENT)?;
        T::unlink(dir, d.name(), inode)?;
        Ok(0)
    })
}

extern "C" fn rmdir<T: FileSystem>(
    dir: *mut bindings::inode,
    dentry: *mut bindings::dentry,
) -> c_int {
    // SAFETY: the VFS holds `dir` and the victim locked.
    let (dir, d) = unsafe { (Inode::<T>::from_raw(dir), Dentry::<T>::from_raw(dentry)) };
    from_result(|| {
        dir.sb().live()?;
        let inode = d.inode().ok_or(ENOENT)?;
        T::rmdir(dir, d.name(), inode)?;
        Ok(0)
    })
}

/// `RENAME_NOREPLACE`.
const RENAME_NOREPLACE: c_uint = 1;

extern "C" fn rename<T: FileSystem>(
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
            Inode::<T>::from_raw(old_dir),
            Dentry::<T>::from_raw(old_dentry),
            Inode::<T>::from_raw(new_dir),
            Dentry::<T>::from_raw(new_dentry),
        )
    };
    from_result(|| {
        if flags & !RENAME_NOREPLACE != 0 {
            return Err(EINVAL);
        }
        od.sb().live()?;
        let inode = o.inode().ok_or(ENOENT)?;
        T::rename(od, o.name(), inode, nd, n.name(), n.inode())?;
        Ok(0)
    })
}

extern "C" fn setattr<T: FileSystem>(
    idmap: *mut bindings::mnt_idmap,
    dentry: *mut bindings::dentry,
    attr: *mut bindings::iattr,
) -> c_int {
    // SAFETY: the VFS holds the (positive) dentry's inode locked and passes
    // a live iattr.
    let inode = unsafe { (*dentry).d_inode };
    // SAFETY: as above.
    let inoder = unsafe { Inode::<T>::from_raw(inode) };
    from_result(|| {
        inoder.sb().live()?;
        // SAFETY: as above.
        to_result(unsafe { bindings::setattr_prepare(idmap, dentry, attr) })?;
        // SAFETY: as above.
        if unsafe { (*attr).ia_valid } & bindings::ATTR_SIZE != 0 {
            // SAFETY: as above.
            let size = unsafe { (*attr).ia_size };
            T::truncate(inoder, u64::try_from(size).map_err(|_| EINVAL)?)?;
        }
        // SAFETY: as above.
        unsafe { bindings::setattr_copy(idmap, inode, attr) };
        inoder.mark_dirty();
        Ok(0)
    })
}
