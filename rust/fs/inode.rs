// SPDX-License-Identifier: GPL-2.0

//! Inodes: reading and writing them, truncate and inactivation (the block
//! map is [`super::bmap`]).
//!
//! [`inactivate`] is the single path that tears an unlinked inode down on
//! disk: it frees every block, removes the inode from the orphan list, and
//! frees its slot (and its cluster when that was the last inode in it). The
//! deferred-inactivation engine (`crate::inodegc`) calls it from per-CPU workers
//! (or inline with `inodegc=sync`) once the VFS has destroyed the inode.

#![forbid(unsafe_code)]

use super::alloc;
use super::bmap::{
    eof_blocks, free_blocks_from, free_blocks_from_mode, maps_blocks_from, FreeMode,
};
use super::gc::phase;
use super::{trans, Iget, Inode, MapGuard, NewInode, SuperBlock};
use crate::format;
use crate::vfs;
use kernel::c_str;
use kernel::prelude::*;
use kernel::types::ARef;

/// Index of the single/double/triple indirect pointer in the inode map.
const IND: usize = format::DIRECT_BLOCKS;

/// Reads inode `ino`, named by a directory entry (or the root), from the
/// inode cache or from disk. An inode with no links is corruption here
/// (ext4: "deleted inode referenced"): linking to it or creating in it would
/// make the VFS warn, and unlinking it would put it on the orphan list a
/// second time.
pub(crate) fn iget(sb: &SuperBlock, ino: u32) -> Result<ARef<Inode>> {
    iget_as(sb, ino, false)
}

/// Reads inode `ino` for orphan recovery, which expects it unlinked.
pub(crate) fn iget_orphan(sb: &SuperBlock, ino: u32) -> Result<ARef<Inode>> {
    iget_as(sb, ino, true)
}

fn iget_as(sb: &SuperBlock, ino: u32, orphan: bool) -> Result<ARef<Inode>> {
    let unlinked = |n: u32| n == 0 && !orphan;
    let geo = sb.info().geo;
    if !format::ino_is_valid(ino, &geo)
        || !alloc::test_bit_cluster(sb, format::ino_cluster(ino) as u64)?
    {
        return Err(sb.corrupt(c_str!("inode number"), ino as u64));
    }
    let new = match sb.iget_locked(ino)? {
        Iget::Cached(inode) if unlinked(inode.nlink()) => {
            return Err(sb.corrupt(c_str!("inode (unlinked, still named)"), ino as u64));
        }
        Iget::Cached(inode) => return Ok(inode),
        Iget::New(new) => new,
    };
    // An evicted copy waiting for (or in) inactivation must not be read
    // back from disk under it. Only now, after the hash missed: eviction
    // enters an inode in the gc index before it leaves the inode hash, so
    // any copy the miss could have raced with is in the index by now.
    sb.info().gc.claim_for_iget(ino);
    let buf = sb.bread(format::ino_cluster(ino))?;
    let disk = buf.read(|b| format::Inode::decode(b, ino, &geo, vfs::crc32c));
    match disk {
        Ok(Some(d)) if unlinked(d.nlink) => {
            Err(sb.corrupt(c_str!("inode (unlinked, still named)"), ino as u64))
        }
        // A directory has "." and its entry in its parent (an orphan one
        // has none at all).
        Ok(Some(d)) if d.mode & format::S_IFMT == format::S_IFDIR && d.nlink == 1 => {
            Err(sb.corrupt(c_str!("directory link count"), ino as u64))
        }
        Ok(Some(d)) => {
            load(&new, &d);
            let inode = new.inode();
            if inode.mode() & format::S_IFMT == format::S_IFREG {
                // Post-EOF state comes from the block map, as XFS derives it
                // from the extent map: blocks may be mapped past EOF after a
                // cancelled trim, a shutdown that discarded one, a crash or
                // a failed write. Marking them lets truncate, a write past
                // EOF and the next eviction deal with them.
                let mut map = inode.lock_data();
                let past = maps_blocks_from(inode, &map, eof_blocks(inode))?;
                map.set_prealloc(past);
            }
            Ok(new.publish())
        }
        // A directory entry naming a free slot, or a bad inode: corruption.
        Ok(None) => Err(sb.corrupt(c_str!("inode (free slot in use)"), ino as u64)),
        Err(_) => Err(sb.corrupt(c_str!("inode"), ino as u64)),
    }
}

/// Fills a new in-memory inode from its on-disk form.
fn load(new: &NewInode, d: &format::Inode) {
    let t = |t: format::Timestamp| vfs::Timestamp {
        sec: t.sec,
        nsec: t.nsec,
    };
    new.load(&vfs::Attrs {
        mode: d.mode,
        nlink: d.nlink,
        uid: d.uid,
        gid: d.gid,
        size: d.size,
        generation: d.generation,
        rdev: d.rdev,
        times: (t(d.atime), t(d.mtime), t(d.ctime)),
        sectors: (d.blocks as u64) << (format::BLOCK_SHIFT - 9),
    });
    let mut map = new.inode().lock_data();
    map.set_ptr(IND, d.indirect);
    map.set_ptr(IND + 1, d.dindirect);
    map.set_ptr(IND + 2, d.tindirect);
    for (i, &b) in d.direct.iter().enumerate() {
        map.set_ptr(i, b);
    }
    map.set_blocks(d.blocks);
}

/// Builds the on-disk form of an in-memory inode.
fn to_disk(inode: &Inode, map: &MapGuard<'_>) -> format::Inode {
    let (uid, gid) = inode.owner();
    let t = |t: vfs::Timestamp| format::Timestamp {
        sec: t.sec,
        nsec: t.nsec,
    };
    let (atime, mtime, ctime) = inode.times();
    let (atime, mtime, ctime) = (t(atime), t(mtime), t(ctime));
    let ptrs = map.ptrs();
    let mut direct = [0u32; format::DIRECT_BLOCKS];
    direct.copy_from_slice(&ptrs[..IND]);
    format::Inode {
        mode: inode.mode(),
        nlink: inode.nlink(),
        uid,
        gid,
        size: inode.size(),
        blocks: map.blocks(),
        generation: inode.generation(),
        atime,
        mtime,
        ctime,
        rdev: inode.rdev(),
        orphan_next: 0,
        orphan_prev: 0,
        direct,
        indirect: ptrs[IND],
        dindirect: ptrs[IND + 1],
        tindirect: ptrs[IND + 2],
    }
}

/// Logs `inode` in the running handle: encodes it into its cluster block
/// through the journal. Every change of an inode is logged in the handle
/// of the operation that makes it (the VFS's own changes through
/// [`dirty_inode`]); writeback never writes an inode. The orphan-list
/// links are owned by the allocator (they live only on disk) and are kept.
pub(crate) fn log_inode(inode: &Inode) -> Result {
    let map = inode.lock_data();
    log_inode_locked(inode, &map)
}

/// [`log_inode`] with the inode's map already locked (the block map's
/// changes log the inode before they let the map go).
pub(crate) fn log_inode_locked(inode: &Inode, map: &MapGuard<'_>) -> Result {
    let sb = inode.sb();
    if sb.rdonly() || inode.is_bad() {
        return Ok(());
    }
    let ino = inode.ino();
    let geo = sb.info().geo;
    let mut disk = to_disk(inode, map);
    let buf = sb.bread(format::ino_cluster(ino))?;
    sb.info().journal.modify(&buf, |b| {
        if let Ok(Some(old)) = format::Inode::decode(b, ino, &geo, vfs::crc32c) {
            disk.orphan_next = old.orphan_next;
            disk.orphan_prev = old.orphan_prev;
        }
        disk.encode(b, ino, vfs::crc32c);
    })
}

/// `dirty_inode`: the VFS (`mark_inode_dirty`, after a change of times,
/// size, mode, owner or links) or dinofs changed `inode`: log it now, in
/// the running handle or in one of its own ([`trans::inode_update`]). A
/// failure is the journal's (aborted: the filesystem is shut down) or a
/// read of the cluster block's (reported by the block layer); the change
/// stays in memory only.
pub(crate) fn dirty_inode(inode: &Inode) {
    let sb = inode.sb();
    if sb.rdonly() || inode.is_bad() {
        return;
    }
    let _ = trans::inode_update(sb, || log_inode(inode));
}

/// Changes the size of a regular file (setattr with `ATTR_SIZE`). Shrinking
/// zeroes the new tail, drops the page cache past it and frees the blocks
/// past the new end of file.
pub(crate) fn truncate(inode: &Inode, size: u64) -> Result {
    let mode = inode.mode() & format::S_IFMT;
    if mode != format::S_IFREG {
        return Err(EINVAL);
    }
    if size > format::MAX_FILE_SIZE {
        return Err(EFBIG);
    }
    let old = inode.size();
    {
        // Preallocated blocks must not end up inside EOF unwritten.
        let mut map = inode.lock_data();
        if map.prealloc() {
            let r = free_blocks_from(inode, &mut map, eof_blocks(inode));
            // What was freed is gone from the map: log it either way.
            let l = log_inode_locked(inode, &map);
            r?;
            l?;
            map.set_prealloc(false);
        }
    }
    inode.truncate_pagecache(size)?;
    if size < old {
        let from = size.div_ceil(format::BLOCK_SIZE as u64);
        let mut map = inode.lock_data();
        let r = free_blocks_from(inode, &mut map, from);
        let l = log_inode_locked(inode, &map);
        r?;
        l?;
    }
    inode.touch_mctime();
    inode.mark_dirty();
    Ok(())
}

/// Tears an unlinked inode down on disk: frees all its blocks, takes it off
/// the orphan list and frees its slot (and cluster). The one inactivation
/// path; see the module documentation.
pub(crate) fn inactivate(inode: &Inode) -> Result {
    let sb = inode.sb();
    let ino = inode.ino();
    let mut map = inode.lock_data();
    // On an error keep the inode on the orphan list, its map describing
    // what it still owns (the engine writes it): the next mount's recovery
    // finishes the teardown.
    let gc = &sb.info().gc;
    let t = gc.profile_start();
    free_blocks_from_mode(inode, &mut map, 0, FreeMode::Teardown)?;
    gc.profile_end(phase::BLOCKS, t);
    let mut st = sb.info().alloc.lock();
    let t = gc.profile_start();
    let r2 = super::orphan::orphan_remove(sb, &mut st, ino);
    gc.profile_end(phase::ORPHAN, t);
    let t = gc.profile_start();
    let r3 = alloc::free_inode(sb, &mut st, ino);
    gc.profile_end(phase::SLOT, t);
    drop(st);
    drop(map);
    r2.and(r3)
}

/// Trims the speculative preallocation past EOF of a linked inode the VFS
/// has evicted (inodegc worker), and writes the inode's new block map.
pub(crate) fn trim_eof(inode: &Inode) -> Result {
    {
        let mut map = inode.lock_data();
        if !map.prealloc() {
            return Ok(());
        }
        let r = free_blocks_from(inode, &mut map, eof_blocks(inode));
        if r.is_ok() {
            map.set_prealloc(false);
        }
        // Whatever was freed is gone from the map: log it either way.
        let w = log_inode_locked(inode, &map);
        r?;
        w
    }
}

/// Undoes a create that failed after the inode was allocated on disk: frees
/// whatever blocks it got and its slot, then drops the `I_NEW` inode.
pub(crate) fn discard_new(new: NewInode) {
    let inode = new.inode();
    inode.set_nlink(0);
    if let Err(e) = inactivate(inode) {
        pr_err!(
            "{}: undoing a failed create of inode {}: {:?}\n",
            inode.sb().id(),
            inode.ino(),
            e
        );
    }
    drop(new);
}
