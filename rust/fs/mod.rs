// SPDX-License-Identifier: GPL-2.0

//! dinofs itself: the filesystem, on the VFS glue ([`crate::vfs`]) and the
//! deferred-inactivation engine ([`crate::inodegc`]).
//!
//! - [`super_ops`]: mount, statfs, sync, freeze, remount, shutdown,
//!   unmount; the per-mount state [`DinoSb`] and the lock order;
//! - [`options`]: the mount options;
//! - [`inode`]: inode I/O, truncate and `inactivate()`;
//! - [`bmap`]: the block map, preallocation past EOF, freeing blocks;
//! - [`dir`]: directory entries, lookup and readdir;
//! - [`dir_index`]: the in-memory index of a directory's names;
//! - [`namei`]: create, link, unlink, rmdir, rename, `O_TMPFILE`;
//! - [`alloc`]: block, inode and cluster allocation;
//! - [`orphan`]: the orphan list and orphan recovery;
//! - [`gc`]: the engine's trait implemented for dinofs (what needs work
//!   after eviction, and doing it) and the CPU-dead state;
//! - [`trans`]: jbd2 handles: credits per kind of work, and the freeze
//!   protection and handle the filesystem's own work runs in.
//!
//! [`DinoFs`] implements [`vfs::FileSystem`]: the VFS glue's trampolines
//! call these modules through it. This layer holds no `unsafe` code.
//!
//! Layering: it may use every layer below (`vfs`, `inodegc`, `kernel_ext`,
//! `format`, `trace`); only the module root uses it.

#![forbid(unsafe_code)]

pub(crate) mod alloc;
pub(crate) mod bmap;
pub(crate) mod busy;
pub(crate) mod dir;
pub(crate) mod dir_index;
pub(crate) mod gc;
pub(crate) mod inode;
pub(crate) mod namei;
pub(crate) mod options;
pub(crate) mod orphan;
pub(crate) mod super_ops;
pub(crate) mod trans;

use crate::format;
use crate::vfs::{self, DirEmitter, RateLimit, StatFs};
use kernel::prelude::*;
use kernel::types::ARef;
pub(crate) use super_ops::DinoSb;

/// The dinofs filesystem type.
pub(crate) struct DinoFs;

/// The views of the VFS glue, for dinofs.
pub(crate) type SuperBlock = vfs::SuperBlock<DinoFs>;
/// A dinofs inode.
pub(crate) type Inode = vfs::Inode<DinoFs>;
/// A dinofs inode being set up.
pub(crate) type NewInode = vfs::NewInode<DinoFs>;
/// A destroyed dinofs inode, on its way to inactivation.
pub(crate) type DeadInode = vfs::DeadInode<DinoFs>;
/// A dinofs mount request.
pub(crate) type FsContext = vfs::FsContext<DinoFs>;
/// The result of an inode cache lookup.
pub(crate) type Iget = vfs::Iget<DinoFs>;
/// The locked block map of an inode.
pub(crate) type MapGuard<'a> = vfs::DataGuard<'a, DinoFs>;

/// The block map dinofs keeps beside each VFS inode (under its data lock):
/// direct, single, double and triple indirect pointers, the blocks owned,
/// and whether blocks past EOF may be mapped (speculative preallocation).
#[derive(Clone, Copy, Default)]
pub(crate) struct InodeMap {
    map: [u32; format::DIRECT_BLOCKS + 3],
    blocks: u32,
    prealloc: bool,
}

impl InodeMap {
    /// The pointers: direct, then single, double, triple indirect.
    pub(crate) fn ptrs(&self) -> [u32; format::DIRECT_BLOCKS + 3] {
        self.map
    }

    /// Sets pointer `slot` (index into [`Self::ptrs`]; others are ignored).
    pub(crate) fn set_ptr(&mut self, slot: usize, block: u32) {
        if let Some(p) = self.map.get_mut(slot) {
            *p = block;
        }
    }

    /// Blocks owned by the inode.
    pub(crate) fn blocks(&self) -> u32 {
        self.blocks
    }

    /// Whether blocks past EOF may be mapped.
    pub(crate) fn prealloc(&self) -> bool {
        self.prealloc
    }

    /// Records whether blocks past EOF may be mapped.
    pub(crate) fn set_prealloc(&mut self, v: bool) {
        self.prealloc = v;
    }
}

impl MapGuard<'_> {
    /// Sets the blocks owned, and `i_blocks` (in 512-byte units) with it.
    pub(crate) fn set_blocks(&mut self, n: u32) {
        self.blocks = n;
        self.set_sectors((n as u64) << (format::BLOCK_SHIFT - 9));
    }
}

const _: () = assert!(format::BLOCK_SIZE == vfs::BLOCK_SIZE);

impl vfs::FileSystem for DinoFs {
    type Info = DinoSb;
    type Options = options::MountOptions;
    type InodeData = InodeMap;

    const MAGIC: u64 = format::MAGIC;
    const MAX_FILE_SIZE: u64 = format::MAX_FILE_SIZE;
    const NAME_MAX: u32 = format::NAME_MAX as u32;

    fn parse_option(opts: &mut Self::Options, opt: u32, value: u32) -> Result {
        options::parse_option(opts, opt, value)
    }

    fn fill_super(sb: &SuperBlock, fc: &FsContext) -> Result<Pin<KBox<DinoSb>>> {
        super_ops::fill_super(sb, fc)
    }

    fn root_inode(sb: &SuperBlock) -> Result<ARef<Inode>> {
        super_ops::root_inode(sb)
    }

    fn finish_mount(sb: &SuperBlock) -> Result {
        super_ops::finish_mount(sb)
    }

    fn reconfigure(sb: &SuperBlock, fc: &FsContext) -> Result {
        super_ops::reconfigure(sb, fc)
    }

    fn teardown(info: &DinoSb) {
        info.gc.teardown();
    }

    fn is_shut_down(info: &DinoSb) -> bool {
        info.is_shutdown()
    }

    fn reports(info: &DinoSb) -> &RateLimit {
        &info.reports
    }

    fn on_corruption(sb: &SuperBlock) {
        super_ops::on_corruption(sb)
    }

    fn put_super(sb: &SuperBlock) {
        super_ops::put_super(sb)
    }

    fn sync_fs(sb: &SuperBlock, wait: bool) -> Result {
        super_ops::sync_fs(sb, wait)
    }

    fn statfs(sb: &SuperBlock) -> StatFs {
        super_ops::statfs(sb)
    }

    fn show_options(sb: &SuperBlock, show: &mut dyn FnMut(&[u8])) {
        options::show_options(sb, show)
    }

    fn freeze_super(sb: &SuperBlock, who: u32) -> Result {
        super_ops::freeze_super(sb, who)
    }

    fn freeze_fs(sb: &SuperBlock) -> Result {
        super_ops::freeze_fs(sb)
    }

    fn unfreeze_fs(sb: &SuperBlock) {
        super_ops::unfreeze_fs(sb)
    }

    fn shutdown(sb: &SuperBlock, flags: u32) -> Result {
        super_ops::shutdown(sb, flags)
    }

    fn dirty_inode(inode: &Inode) {
        inode::dirty_inode(inode)
    }

    fn evict(inode: &Inode) {
        // On-disk teardown happens later, from destroy_inode; the engine
        // enters the inode in its index now, while it is still hashed, so
        // a racing iget sees it.
        if let Some(info) = inode.sb().try_info() {
            if inode.mode() & format::S_IFMT == format::S_IFDIR {
                info.dirs.forget(inode.ino());
            }
            info.gc.evict(inode);
        }
    }

    fn destroy(sb: &SuperBlock, dead: DeadInode) {
        // Before fill_super set up the state (or after a failed mount tore
        // it down) there is nothing to inactivate.
        match sb.try_info() {
            Some(info) => info.gc.destroy_inode(dead),
            None => drop(dead),
        }
    }

    fn map_block(inode: &Inode, iblock: u64, create: bool) -> Result<Option<(u32, bool)>> {
        bmap::map_block(inode, iblock, create)
    }

    fn fsync(inode: &Inode) -> Result {
        super_ops::commit_journal(inode.sb())
    }

    fn begin_write(inode: &Inode) -> Result<vfs::Handle<'_>> {
        trans::page_write(inode.sb())
    }

    fn retry_alloc(inode: &Inode) -> bool {
        trans::retry_busy(inode.sb())
    }

    fn write_failed(inode: &Inode) {
        bmap::note_write_failed(inode)
    }

    fn truncate(inode: &Inode, size: u64) -> Result {
        let sb = inode.sb();
        let blocks = inode.lock_data().blocks();
        let credits = trans::inactivate_credits(&sb.info().geo, blocks);
        let revokes = trans::indirect_revokes(blocks).max(trans::TRIM_REVOKES);
        trans::syscall(sb, credits, revokes, || inode::truncate(inode, size))
    }

    fn lookup(dir: &Inode, name: &[u8]) -> Result<Option<ARef<Inode>>> {
        dir::lookup(dir, name)
    }

    fn create(
        dir: &Inode,
        name: &[u8],
        mode: u16,
        rdev: u32,
        symlink: Option<&[u8]>,
    ) -> Result<NewInode> {
        trans::syscall_alloc(
            dir.sb(),
            trans::CREATE_CREDITS,
            trans::CREATE_REVOKES,
            || namei::create(dir, name, mode, rdev, symlink),
        )
    }

    fn tmpfile(dir: &Inode, mode: u16) -> Result<NewInode> {
        trans::syscall_alloc(dir.sb(), trans::TMPFILE_CREDITS, 0, || {
            namei::tmpfile(dir, mode)
        })
    }

    fn link(dir: &Inode, name: &[u8], inode: &Inode) -> Result {
        trans::syscall(dir.sb(), trans::LINK_CREDITS, 0, || {
            namei::link(dir, name, inode)
        })
    }

    fn unlink(dir: &Inode, name: &[u8], inode: &Inode) -> Result {
        trans::syscall(dir.sb(), trans::UNLINK_CREDITS, 0, || {
            namei::unlink(dir, name, inode)
        })
    }

    fn rmdir(dir: &Inode, name: &[u8], inode: &Inode) -> Result {
        trans::syscall(dir.sb(), trans::UNLINK_CREDITS, 0, || {
            namei::rmdir(dir, name, inode)
        })
    }

    fn rename(
        old_dir: &Inode,
        old_name: &[u8],
        inode: &Inode,
        new_dir: &Inode,
        new_name: &[u8],
        target: Option<&Inode>,
    ) -> Result {
        trans::syscall(old_dir.sb(), trans::RENAME_CREDITS, 0, || {
            namei::rename(old_dir, old_name, inode, new_dir, new_name, target)
        })
    }

    fn readdir(dir: &Inode, ctx: &mut DirEmitter) -> Result {
        dir::readdir(dir, ctx)
    }
}
