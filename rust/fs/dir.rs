// SPDX-License-Identifier: GPL-2.0

//! Directories: entry lookup, insertion and removal, and readdir (the
//! namespace operations built on them are [`super::namei`]).
//!
//! A directory's data blocks hold 64-byte entry slots (`format.rs`). Entries
//! never move, so a readdir position (block * slots-per-block + slot) stays
//! valid while entries are added and removed around it: a concurrent
//! readdir neither repeats nor skips a live entry. The VFS holds the
//! directory's `i_rwsem` exclusively for every change and shared for
//! readdir, which is what serialises access to the entry blocks.

#![forbid(unsafe_code)]

use super::bmap;
use super::dir_index::{Candidates, DirIndex};
use super::inode;
use super::Inode;
use crate::format::{self, DIRENT_SLOTS_PER_BLOCK, NAME_MAX};
use crate::kernel_ext::errno::enametoolong;
use crate::vfs::{self, Buffer, DirEmitter};
use kernel::c_str;
use kernel::prelude::*;
use kernel::types::ARef;

/// Where an entry lives.
#[derive(Clone, Copy)]
pub(super) struct EntryPos {
    /// Directory block index.
    block: u32,
    /// First slot.
    slot: u32,
    /// Inode the entry names.
    pub(super) ino: u32,
    /// The name's hash ([`name_hash`]), for the directory index.
    hash: u32,
}

/// The directory index's hash of a name.
fn name_hash(name: &[u8]) -> u32 {
    vfs::crc32c(0, name)
}

/// An entry's position in the directory index: block * slots-per-block +
/// slot (`None` past what a `u32` holds: such a directory is not indexed).
fn index_pos(block: u32, slot: u32) -> Option<u32> {
    block.checked_mul(DIRENT_SLOTS_PER_BLOCK)?.checked_add(slot)
}

pub(super) fn dir_blocks(dir: &Inode) -> u32 {
    (dir.size() / format::BLOCK_SIZE as u64) as u32
}

/// Reads directory block `n`, verified. A hole in a directory is corruption.
fn read_dir_block(dir: &Inode, n: u32) -> Result<Buffer> {
    let sb = dir.sb();
    let Some((block, _)) = bmap::map_block(dir, n as u64, false)? else {
        return Err(sb.corrupt(c_str!("directory (hole)"), dir.ino() as u64));
    };
    let buf = sb.bread(block)?;
    if !buf.verify_once(|b| format::verify_block(b, vfs::crc32c).is_ok()) {
        return Err(sb.corrupt(c_str!("directory block (checksum)"), block as u64));
    }
    Ok(buf)
}

/// Finds `name` in `dir`: through the directory index (one block read),
/// or by a scan of every block that also builds the index.
pub(super) fn find_entry(dir: &Inode, name: &[u8]) -> Result<Option<EntryPos>> {
    let hash = name_hash(name);
    let build = match dir.sb().info().dirs.candidates(dir.ino(), hash) {
        Candidates::Found(positions, n) => {
            for &p in positions.iter().take(n) {
                let (block, slot) = (p / DIRENT_SLOTS_PER_BLOCK, p % DIRENT_SLOTS_PER_BLOCK);
                let buf = read_dir_block(dir, block)?;
                let ino = buf.read(|b| match format::dir_entries(b, slot).next() {
                    Some(Ok(e)) if e.slot == slot && e.name == name => Some(e.ino),
                    _ => None,
                });
                if let Some(ino) = ino {
                    return Ok(Some(EntryPos {
                        block,
                        slot,
                        ino,
                        hash,
                    }));
                }
            }
            return Ok(None);
        }
        Candidates::TooMany => false,
        Candidates::NoIndex => true,
    };
    scan_entries(dir, name, hash, build)
}

/// [`find_entry`] by reading every block; with `build`, records every
/// entry in a new index and installs it (no memory: no index).
fn scan_entries(dir: &Inode, name: &[u8], hash: u32, build: bool) -> Result<Option<EntryPos>> {
    let mut index = if build {
        KBox::new(DirIndex::new(), GFP_KERNEL).ok()
    } else {
        None
    };
    let mut hit = None;
    for n in 0..dir_blocks(dir) {
        let buf = read_dir_block(dir, n)?;
        // The block's entries (hash, slot) are copied out under the buffer
        // lock and indexed after it: nothing is allocated under a lock.
        let mut entries = [(0u32, 0u32); DIRENT_SLOTS_PER_BLOCK as usize];
        let mut count = 0usize;
        let found = buf.read(|b| {
            let mut found = None;
            for e in format::dir_entries(b, 0) {
                let Ok(e) = e else {
                    return Err(());
                };
                if found.is_none() && e.name == name {
                    found = Some((e.slot, e.ino));
                }
                if let Some(slot) = entries.get_mut(count) {
                    *slot = (name_hash(e.name), e.slot);
                    count += 1;
                }
            }
            Ok(found)
        });
        let found = match found {
            Ok(f) => f,
            Err(()) => {
                return Err(dir
                    .sb()
                    .corrupt(c_str!("directory entry"), buf.block() as u64))
            }
        };
        drop(buf);
        if let Some(idx) = index.as_mut() {
            for &(h, slot) in entries.iter().take(count) {
                let pos = index_pos(n, slot).ok_or(ENOMEM);
                if pos.and_then(|p| idx.add(h, p)).is_err() {
                    index = None;
                    break;
                }
            }
        }
        if let (None, Some((slot, ino))) = (&hit, found) {
            hit = Some(EntryPos {
                block: n,
                slot,
                ino,
                hash,
            });
        }
        if hit.is_some() && index.is_none() {
            break;
        }
    }
    if let Some(idx) = index {
        dir.sb().info().dirs.install(dir.ino(), idx);
    }
    Ok(hit)
}

/// The journal every directory block change is part of: directory blocks
/// are journaled metadata (changed only in the namespace operations'
/// handles, created with `create_block`, revoked when the directory is
/// torn down).
fn journal(dir: &Inode) -> &vfs::Journal {
    &dir.sb().info().journal
}

/// Adds an entry to `dir` in the first block with room, growing the
/// directory by one block when none has.
pub(super) fn add_entry(dir: &Inode, name: &[u8], ino: u32, ftype: u8) -> Result {
    if name.len() > NAME_MAX {
        return Err(enametoolong());
    }
    let need = format::dirent_slots(name.len());
    let nblocks = dir_blocks(dir);
    let dirs = &dir.sb().info().dirs;
    for n in dirs.hint(dir.ino()).min(nblocks)..nblocks {
        let buf = read_dir_block(dir, n)?;
        let Some(slot) = buf.read(|b| format::dir_find_free(b, need)) else {
            continue;
        };
        let ok = journal(dir).modify(&buf, |b| {
            let ok = format::dir_insert(b, slot, ino, ftype, name);
            format::seal_block(b, vfs::crc32c);
            ok
        })?;
        if !ok {
            return Err(EINVAL);
        }
        index_added(dir, name, n, slot);
        dir.touch_mctime();
        dir.mark_dirty();
        return Ok(());
    }
    // Grow the directory.
    let Some((block, _)) = bmap::map_block(dir, nblocks as u64, true)? else {
        return Err(EIO);
    };
    let buf = journal(dir).create_block(dir.sb(), block)?;
    let ok = journal(dir).modify(&buf, |b| {
        let ok = format::dir_insert(b, 0, ino, ftype, name);
        format::seal_block(b, vfs::crc32c);
        ok
    })?;
    if ok {
        index_added(dir, name, nblocks, 0);
    }
    dir.set_size((nblocks as u64 + 1) * format::BLOCK_SIZE as u64);
    dir.touch_mctime();
    dir.mark_dirty();
    if ok {
        Ok(())
    } else {
        Err(EINVAL)
    }
}

/// Records a new entry in the directory index (if `dir` has one).
fn index_added(dir: &Inode, name: &[u8], block: u32, slot: u32) {
    let dirs = &dir.sb().info().dirs;
    match index_pos(block, slot) {
        Some(p) => dirs.added(dir.ino(), name_hash(name), p, block),
        None => dirs.forget(dir.ino()),
    }
}

/// Removes the entry at `pos`.
pub(super) fn remove_entry(dir: &Inode, pos: EntryPos) -> Result {
    let buf = read_dir_block(dir, pos.block)?;
    let ok = journal(dir).modify(&buf, |b| {
        let ok = format::dir_remove(b, pos.slot);
        format::seal_block(b, vfs::crc32c);
        ok
    })?;
    if !ok {
        return Err(dir
            .sb()
            .corrupt(c_str!("directory entry (remove)"), dir.ino() as u64));
    }
    let dirs = &dir.sb().info().dirs;
    match index_pos(pos.block, pos.slot) {
        Some(p) => dirs.removed(dir.ino(), pos.hash, p, pos.block),
        None => dirs.forget(dir.ino()),
    }
    dir.touch_mctime();
    dir.mark_dirty();
    Ok(())
}

/// Repoints the entry at `pos` to `ino` (rename over an existing name).
pub(super) fn retarget_entry(dir: &Inode, pos: EntryPos, ino: u32, ftype: u8) -> Result {
    let buf = read_dir_block(dir, pos.block)?;
    let ok = journal(dir).modify(&buf, |b| {
        let ok = format::dir_set_ino(b, pos.slot, ino, ftype);
        format::seal_block(b, vfs::crc32c);
        ok
    })?;
    if !ok {
        return Err(dir
            .sb()
            .corrupt(c_str!("directory entry (retarget)"), dir.ino() as u64));
    }
    dir.touch_mctime();
    dir.mark_dirty();
    Ok(())
}

/// Whether a directory holds nothing but `.` and `..`.
pub(super) fn is_empty(dir: &Inode) -> Result<bool> {
    for n in 0..dir_blocks(dir) {
        let buf = read_dir_block(dir, n)?;
        let other = buf.read(|b| {
            format::dir_entries(b, 0).any(|e| match e {
                Ok(e) => e.name != b"." && e.name != b"..",
                Err(_) => true,
            })
        });
        if other {
            return Ok(false);
        }
    }
    Ok(true)
}

/// `lookup`: the inode `name` names in `dir`, or `None`.
pub(crate) fn lookup(dir: &Inode, name: &[u8]) -> Result<Option<ARef<Inode>>> {
    if name.len() > NAME_MAX {
        return Err(enametoolong());
    }
    match find_entry(dir, name)? {
        Some(pos) => Ok(Some(inode::iget(dir.sb(), pos.ino)?)),
        None => Ok(None),
    }
}

/// The first entry of directory block `b` that starts at or after slot
/// `from`: the entry, or `None` past the last one. A position may be any
/// number a user `lseek`ed to, including the middle of a multi-slot entry:
/// that is legal input, not corruption, so the block is walked from its
/// first slot (entry boundaries are only known from there). If the walk
/// meets a bad slot before `from`, the walk starts at `from` itself, which
/// is then taken to be an entry start (every position dinofs hands out is
/// one): damage before the position does not hide what follows it.
fn entry_at_or_after(
    b: &format::Block,
    from: u32,
) -> Option<core::result::Result<format::Dirent<'_>, ()>> {
    for e in format::dir_entries(b, 0) {
        match e {
            Ok(e) if e.slot >= from => return Some(Ok(e)),
            Ok(_) => {}
            Err(_) => {
                return format::dir_entries(b, from)
                    .next()
                    .map(|e| e.map_err(|_| ()))
            }
        }
    }
    None
}

/// `iterate_shared`: emits entries from the context's position on.
///
/// The position is the slot index (block * slots-per-block + slot) of the
/// next entry to emit. It is advanced past every entry as soon as that
/// entry is emitted, so a later call never emits it again; a corrupt entry
/// ends the call with `EUCLEAN` and, since the position stays on it, so
/// does every later call: the error reaches userspace (the VFS drops an
/// error from a call that already emitted entries, and the next call meets
/// it first), and a directory walk ends instead of looping.
pub(crate) fn readdir(dir: &Inode, ctx: &mut DirEmitter) -> Result {
    let per = DIRENT_SLOTS_PER_BLOCK as i64;
    let nblocks = dir_blocks(dir) as i64;
    let mut pos = ctx.pos().max(0);
    while pos / per < nblocks {
        let n = (pos / per) as u32;
        let buf = read_dir_block(dir, n)?;
        let mut slot = (pos % per) as u32;
        // Only a position handed in by the caller may fall inside a
        // multi-slot entry; every later one is an entry start we computed.
        let mut resync = slot != 0;
        loop {
            // Copy one entry out under the buffer lock, emit it without:
            // emitting copies to userspace and may fault.
            let mut name = [0u8; NAME_MAX];
            let next = buf.read(|b| {
                let e = if resync {
                    entry_at_or_after(b, slot)
                } else {
                    format::dir_entries(b, slot)
                        .next()
                        .map(|e| e.map_err(|_| ()))
                };
                e.map(|e| {
                    e.map(|e| {
                        name[..e.name.len()].copy_from_slice(e.name);
                        (e.slot, e.ino, e.ftype, e.name.len())
                    })
                })
            });
            match next {
                None => break,
                Some(Err(())) => {
                    ctx.set_pos(n as i64 * per + slot as i64);
                    return Err(dir
                        .sb()
                        .corrupt(c_str!("directory entry"), buf.block() as u64));
                }
                Some(Ok((s, ino, ftype, len))) => {
                    ctx.set_pos(n as i64 * per + s as i64);
                    if !ctx.emit(&name[..len], ino, ftype) {
                        return Ok(());
                    }
                    slot = s + format::dirent_slots(len);
                    resync = false;
                    ctx.set_pos(n as i64 * per + slot as i64);
                }
            }
        }
        pos = (n as i64 + 1) * per;
        ctx.set_pos(pos);
    }
    Ok(())
}
