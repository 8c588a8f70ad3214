// SPDX-License-Identifier: GPL-2.0

//! The block map: direct, single, double and triple indirect pointers
//! (`get_block`), speculative preallocation past EOF, and freeing the
//! blocks from a file block on (truncate, trimming, inactivation). Every
//! function here runs with the inode's data lock held ([`MapGuard`]) by
//! its caller or takes it.

use super::alloc;
use super::{Inode, MapGuard, SuperBlock};
use crate::format::{self, BlockPath, PTRS_PER_BLOCK};
use crate::vfs;
use kernel::c_str;
use kernel::prelude::*;

/// Index of the single/double/triple indirect pointer in the inode map.
pub(super) const IND: usize = format::DIRECT_BLOCKS;

/// Speculative preallocation starts once a file is this many blocks long
/// (files within the direct blocks never get any).
pub(crate) const PREALLOC_MIN_BLOCKS: u64 = format::DIRECT_BLOCKS as u64;

/// Most blocks preallocated past EOF at once.
pub(crate) const PREALLOC_MAX_BLOCKS: u64 = 64;

/// Reads pointer `idx` of indirect block `block`, verifying the block.
fn read_ptr(sb: &SuperBlock, block: u32, idx: u32) -> Result<u32> {
    let geo = sb.info().geo;
    let buf = sb.bread(block)?;
    if !buf.verify_once(|b| format::indirect_verify(b, &geo, vfs::crc32c).is_ok()) {
        return Err(sb.corrupt(c_str!("indirect block"), block as u64));
    }
    Ok(buf.read(|b| format::indirect_get(b, idx)))
}

/// The journal: indirect blocks are journaled metadata, changed in the
/// running handle, created with `create_block`, revoked when freed.
fn journal(sb: &SuperBlock) -> &vfs::Journal {
    &sb.info().journal
}

/// Sets pointer `idx` of indirect block `block` and reseals it.
fn write_ptr(inode: &Inode, block: u32, idx: u32, ptr: u32) -> Result {
    let sb = inode.sb();
    let buf = sb.bread(block)?;
    journal(sb).modify(&buf, |b| {
        format::indirect_set(b, idx, ptr);
        format::seal_block(b, vfs::crc32c);
    })
}

/// Allocates a block for `inode`'s map: a data block, or a zeroed, sealed
/// indirect block.
fn new_block(inode: &Inode, map: &mut MapGuard<'_>, goal: u64, indirect: bool) -> Result<u32> {
    let sb = inode.sb();
    let n = map
        .blocks()
        .checked_add(1)
        .ok_or_else(|| sb.corrupt(c_str!("inode block count"), inode.ino() as u64))?;
    let block = {
        let mut st = sb.info().alloc.lock();
        alloc::alloc_block(sb, &mut st, goal)?
    };
    if indirect {
        let made = journal(sb)
            .create_block(sb, block)
            .and_then(|buf| journal(sb).modify(&buf, |b| format::seal_block(b, vfs::crc32c)));
        if let Err(e) = made {
            // Not mapped: give it back (the journal is aborted, or out of
            // memory).
            let mut st = sb.info().alloc.lock();
            let _ = alloc::free_block(sb, &mut st, block);
            return Err(e);
        }
    }
    map.set_blocks(n);
    Ok(block)
}

/// Blocks of `inode` inside EOF: file blocks `>= eof_blocks` are past EOF.
pub(super) fn eof_blocks(inode: &Inode) -> u64 {
    inode.size().div_ceil(format::BLOCK_SIZE as u64)
}

/// Maps file block `iblock` of `inode` to a disk block, allocating it (and
/// any indirect blocks on the way) if `create`. Returns the block and
/// whether it is new, or `None` for a hole when not creating.
///
/// Speculative preallocation (regular files): a write that appends at EOF
/// to a file of at least [`PREALLOC_MIN_BLOCKS`] blocks also allocates up
/// to [`PREALLOC_MAX_BLOCKS`] blocks past it, so a streaming writer gets
/// contiguous space and one allocation per batch. Those blocks were never
/// written, so a block past EOF is always reported *new* to the buffer
/// layer (which zeroes what the write does not cover and drops stale
/// block-device aliases), and a write that would leave preallocated blocks
/// inside EOF with a hole before it frees them first. The preallocation is
/// trimmed when the inode is evicted (`trim_eof`, from the inodegc worker)
/// or truncated.
///
pub(crate) fn map_block(inode: &Inode, iblock: u64, create: bool) -> Result<Option<(u32, bool)>> {
    let mut map = inode.lock_data();
    let before = (map.ptrs(), map.blocks());
    let r = map_block_locked(inode, &mut map, iblock, create);
    if (map.ptrs(), map.blocks()) != before {
        // The inode's map changed (blocks allocated or freed, even on an
        // error): logged with it, in the write's handle.
        let l = super::inode::log_inode_locked(inode, &map);
        if r.is_ok() {
            l?;
        }
    }
    r
}

fn map_block_locked(
    inode: &Inode,
    map: &mut MapGuard<'_>,
    iblock: u64,
    create: bool,
) -> Result<Option<(u32, bool)>> {
    let regular = inode.mode() & format::S_IFMT == format::S_IFREG;
    if !create || !regular {
        return map_locked(inode, map, iblock, create);
    }
    let eof = eof_blocks(inode);
    if iblock > eof && map.prealloc() {
        // A write past EOF leaving a hole: preallocated blocks would end up
        // inside EOF without ever being written. Free them first.
        free_blocks_from(inode, map, eof)?;
        map.set_prealloc(false);
    }
    let Some((block, mut new)) = map_locked(inode, map, iblock, true)? else {
        return Ok(None);
    };
    if iblock >= eof {
        new = true;
    }
    // Preallocate when this append reaches the end of what is mapped (the
    // next block is not): the writer streams past any earlier batch.
    if iblock == eof
        && iblock >= PREALLOC_MIN_BLOCKS
        && map_locked(inode, map, iblock + 1, false)?.is_none()
    {
        let extra = core::cmp::min(iblock / 4 + 1, PREALLOC_MAX_BLOCKS);
        // Best effort: a failure (ENOSPC, EFBIG) ends the batch early.
        let got = if inode.sb().info().gc.batching() {
            prealloc_run(inode, map, iblock + 1, extra).0
        } else {
            // Debug knob `batch=0`: a block at a time, two reseals each.
            (1..=extra)
                .take_while(|&j| matches!(map_locked(inode, map, iblock + j, true), Ok(Some(_))))
                .count() as u64
        };
        if got > 0 {
            map.set_prealloc(true);
        }
    }
    Ok(Some((block, new)))
}

/// Maps the holes of file blocks `first..first + count` up to the first
/// block already mapped, in batches: each batch is a run of contiguous
/// blocks from [`alloc::alloc_run`] (one bitmap reseal) whose pointers go
/// into their indirect block with one reseal, instead of two reseals per
/// block. Returns how many blocks it mapped and the error that stopped it
/// early, if any; what it mapped stays mapped.
fn prealloc_run(
    inode: &Inode,
    map: &mut MapGuard<'_>,
    first: u64,
    count: u64,
) -> (u64, Option<Error>) {
    let mut done = 0u64;
    while done < count {
        match prealloc_batch(inode, map, first + done, count - done) {
            Ok(0) => break,
            Ok(n) => done += n,
            Err(e) => return (done, Some(e)),
        }
    }
    (done, None)
}

/// One batch of [`prealloc_run`]: maps holes from file block `iblock` on,
/// at most `count`, all in one indirect block. Returns how many it mapped
/// (0: `iblock` is mapped already).
fn prealloc_batch(inode: &Inode, map: &mut MapGuard<'_>, iblock: u64, count: u64) -> Result<u64> {
    let sb = inode.sb();
    let path = format::block_path(iblock).ok_or(EFBIG)?;
    let (parent, idx) = match path {
        // The direct blocks are few and precede preallocation: one at a time.
        BlockPath::Direct(_) => {
            return match map_locked(inode, map, iblock, false)? {
                Some(_) => Ok(0),
                None => map_locked(inode, map, iblock, true).map(|_| 1),
            };
        }
        BlockPath::Indirect(a) => (leaf_parent(inode, map, IND, &[], iblock)?, a),
        BlockPath::DoubleIndirect(a, b) => (leaf_parent(inode, map, IND + 1, &[a], iblock)?, b),
        BlockPath::TripleIndirect(a, b, c) => {
            (leaf_parent(inode, map, IND + 2, &[a, b], iblock)?, c)
        }
    };
    let geo = sb.info().geo;
    let buf = sb.bread(parent)?;
    if !buf.verify_once(|b| format::indirect_verify(b, &geo, vfs::crc32c).is_ok()) {
        return Err(sb.corrupt(c_str!("indirect block"), parent as u64));
    }
    // idx < PTRS_PER_BLOCK, so `room` is at least 1.
    let room = core::cmp::min(count, PTRS_PER_BLOCK - idx as u64) as u32;
    let holes = buf.read(|b| {
        (idx..idx + room)
            .take_while(|&i| format::indirect_get(b, i) == format::NULL)
            .count() as u32
    });
    if holes == 0 {
        return Ok(0);
    }
    let total = map
        .blocks()
        .checked_add(holes)
        .ok_or_else(|| sb.corrupt(c_str!("inode block count"), inode.ino() as u64))?;
    let goal = map.ptrs()[0] as u64 + iblock;
    let (start, n) = {
        let mut st = sb.info().alloc.lock();
        alloc::alloc_run(sb, &mut st, goal, holes)?
    };
    // n <= holes: `total` bounds the new count.
    map.set_blocks(total - (holes - n));
    journal(sb).modify(&buf, |b| {
        for i in 0..n {
            format::indirect_set(b, idx + i, start + i);
        }
        format::seal_block(b, vfs::crc32c);
    })?;
    Ok(n as u64)
}

/// The indirect block whose pointers map file block `iblock` directly,
/// allocating it and the levels above it if needed: `top` is the inode
/// pointer the path starts at and `upper` the indices above the leaf.
fn leaf_parent(
    inode: &Inode,
    map: &mut MapGuard<'_>,
    top: usize,
    upper: &[u32],
    iblock: u64,
) -> Result<u32> {
    let goal = map.ptrs()[0] as u64 + iblock;
    let mut ptr = map.ptrs()[top];
    if ptr == format::NULL {
        ptr = new_block(inode, map, goal, true)?;
        map.set_ptr(top, ptr);
    }
    for &i in upper {
        let mut child = read_ptr(inode.sb(), ptr, i)?;
        if child == format::NULL {
            child = new_block(inode, map, goal, true)?;
            write_ptr(inode, ptr, i, child)?;
        }
        ptr = child;
    }
    Ok(ptr)
}

/// [`map_block`] with the map already locked, without preallocation.
fn map_locked(
    inode: &Inode,
    map: &mut MapGuard<'_>,
    iblock: u64,
    create: bool,
) -> Result<Option<(u32, bool)>> {
    let Some(path) = format::block_path(iblock) else {
        return if create { Err(EFBIG) } else { Ok(None) };
    };
    let (top, idx): (usize, &[u32]) = match &path {
        BlockPath::Direct(i) => (*i, &[]),
        BlockPath::Indirect(a) => (IND, core::slice::from_ref(a)),
        BlockPath::DoubleIndirect(a, b) => (IND + 1, &[*a, *b][..]),
        BlockPath::TripleIndirect(a, b, c) => (IND + 2, &[*a, *b, *c][..]),
    };
    // `idx` borrows temporaries above for the double/triple cases; copy it.
    let mut indices = [0u32; 3];
    let depth = idx.len();
    indices[..depth].copy_from_slice(idx);

    let goal = map.ptrs()[0] as u64 + iblock;
    let mut ptr = map.ptrs()[top];
    let mut new = false;
    if ptr == format::NULL {
        if !create {
            return Ok(None);
        }
        ptr = new_block(inode, map, goal, depth > 0)?;
        map.set_ptr(top, ptr);
        new = depth == 0;
    }
    // Walk down the indirect levels.
    let mut parent = ptr;
    for (level, &i) in indices[..depth].iter().enumerate() {
        let mut child = read_ptr(inode.sb(), parent, i)?;
        if child == format::NULL {
            if !create {
                return Ok(None);
            }
            let leaf = level + 1 == depth;
            child = new_block(inode, map, goal, !leaf)?;
            write_ptr(inode, parent, i, child)?;
            new = leaf;
        }
        parent = child;
    }
    Ok(Some((parent, new)))
}

/// Whether `inode`'s map has any block for a file block `>= from`. Reads
/// only the indirect blocks whose range reaches `from`.
pub(super) fn maps_blocks_from(inode: &Inode, map: &MapGuard<'_>, from: u64) -> Result<bool> {
    let ptrs = map.ptrs();
    if ptrs[..IND]
        .iter()
        .enumerate()
        .any(|(i, &p)| p != format::NULL && i as u64 >= from)
    {
        return Ok(true);
    }
    let p = PTRS_PER_BLOCK;
    let bases = [
        format::DIRECT_BLOCKS as u64,
        format::DIRECT_BLOCKS as u64 + p,
        format::DIRECT_BLOCKS as u64 + p + p * p,
    ];
    for level in 1..=3u32 {
        let top = ptrs[IND + level as usize - 1];
        let base = bases[level as usize - 1];
        if top != format::NULL
            && base + p.pow(level) > from
            && subtree_maps_from(inode, top, level, base, from)?
        {
            return Ok(true);
        }
    }
    Ok(false)
}

/// [`maps_blocks_from`] for the subtree rooted at indirect block `block`
/// (`level` 1 = points at data) mapping file blocks from `base` on.
fn subtree_maps_from(inode: &Inode, block: u32, level: u32, base: u64, from: u64) -> Result<bool> {
    let sb = inode.sb();
    let geo = sb.info().geo;
    let buf = sb.bread(block)?;
    if !buf.verify_once(|b| format::indirect_verify(b, &geo, vfs::crc32c).is_ok()) {
        return Err(sb.corrupt(c_str!("indirect block"), block as u64));
    }
    let span = PTRS_PER_BLOCK.pow(level - 1);
    // The first pointer whose range reaches `from`.
    let first = (from.saturating_sub(base) / span).min(PTRS_PER_BLOCK) as u32;
    let mut i = first;
    while (i as u64) < PTRS_PER_BLOCK {
        // The next non-null pointer at or after `i`, found under the buffer
        // lock; the recursion below runs without it (one buffer lock at a
        // time).
        let next = buf.read(|b| {
            (i..PTRS_PER_BLOCK as u32)
                .map(|j| (j, format::indirect_get(b, j)))
                .find(|&(_, p)| p != format::NULL)
        });
        let Some((j, child)) = next else {
            return Ok(false);
        };
        if level == 1 || subtree_maps_from(inode, child, level - 1, base + j as u64 * span, from)? {
            return Ok(true);
        }
        i = j + 1;
    }
    Ok(false)
}

/// A write failed after `get_block` may have allocated blocks past EOF for
/// it: mark them, so truncate, later writes and eviction trim them.
pub(crate) fn note_write_failed(inode: &Inode) {
    if inode.mode() & format::S_IFMT == format::S_IFREG {
        inode.lock_data().set_prealloc(true);
    }
}

/// How to treat a block whose bitmap bit is already clear.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum FreeMode {
    /// A live inode's map: a pointer to a free block is corruption.
    Strict,
    /// Tearing down an unlinked inode (inactivation, orphan recovery): an
    /// interrupted earlier teardown may have freed the block already and
    /// reached the disk only in part (the bitmap, not the cleared pointer).
    /// The block is taken as freed; see "Why a crash at any point is
    /// recoverable" in `Documentation/inodegc.rst`.
    Teardown,
}

/// What freeing part of a block map did: blocks freed, whether the subtree
/// root is now empty (and freed), and the first error. Pointers to every
/// block freed are cleared even when an error stops the walk, so the map
/// always describes exactly what the inode still owns.
struct Freed {
    n: u32,
    empty: bool,
    err: Option<Error>,
}

/// Words of a bitmap with one bit per pointer of an indirect block.
const CLEARED_WORDS: usize = (PTRS_PER_BLOCK as usize).div_ceil(64);

/// Frees the blocks of the subtree rooted at indirect block `block`
/// (`level` 1 = points at data) that map file blocks `>= from`; `base` is
/// the first file block the subtree maps; `dir`: the data blocks are a
/// directory's (journaled metadata, revoked when freed).
///
/// All of it runs in one handle, so its order does not matter to a crash.
/// An indirect block that stays in use (it maps blocks before `from`, or
/// an error left some of its children) is rewritten once, with the
/// pointers to what was freed cleared; one freed whole is not rewritten at
/// all — it is freed and revoked — so a teardown of a whole file logs its
/// bitmap blocks and nothing of its tree.
fn free_subtree(
    inode: &Inode,
    block: u32,
    level: u32,
    base: u64,
    from: u64,
    mode: FreeMode,
) -> Freed {
    let sb = inode.sb();
    let dir = inode.mode() & format::S_IFMT == format::S_IFDIR;
    let span = PTRS_PER_BLOCK.pow(level - 1);
    let mut out = Freed {
        n: 0,
        empty: false,
        err: None,
    };
    let mut remaining = false;
    // Work through the pointers in chunks, never holding the indirect
    // block's lock while freeing (one buffer lock at a time).
    const CHUNK: u32 = 64;
    let geo = sb.info().geo;
    let buf = match sb.bread(block) {
        Ok(b) => b,
        Err(e) => {
            out.err = Some(e);
            return out;
        }
    };
    if !buf.verify_once(|b| format::indirect_verify(b, &geo, vfs::crc32c).is_ok()) {
        out.err = Some(sb.corrupt(c_str!("indirect block"), block as u64));
        return out;
    }
    let mut cleared = [0u64; CLEARED_WORDS];
    let mut any_cleared = false;
    let mut start = 0u32;
    while (start as u64) < PTRS_PER_BLOCK && out.err.is_none() {
        let end = core::cmp::min(start + CHUNK, PTRS_PER_BLOCK as u32);
        let mut ptrs = [0u32; CHUNK as usize];
        buf.read(|b| {
            for i in start..end {
                ptrs[(i - start) as usize] = format::indirect_get(b, i);
            }
        });
        for i in start..end {
            let p = ptrs[(i - start) as usize];
            if p == format::NULL {
                continue;
            }
            let child_base = base + i as u64 * span;
            if child_base + span <= from {
                remaining = true;
                continue;
            }
            if out.err.is_some() {
                remaining = true;
                continue;
            }
            let freed = if level == 1 {
                match free_one(sb, p, mode, dir) {
                    Ok(()) => {
                        out.n += 1;
                        true
                    }
                    Err(e) => {
                        out.err = Some(e);
                        false
                    }
                }
            } else {
                let sub = free_subtree(inode, p, level - 1, child_base, from, mode);
                out.n += sub.n;
                if sub.err.is_some() {
                    out.err = sub.err;
                }
                sub.empty
            };
            if freed {
                cleared[i as usize / 64] |= 1 << (i % 64);
                any_cleared = true;
            } else {
                remaining = true;
            }
        }
        start = end;
    }
    // Pointers after an error were not looked at: they remain.
    if out.err.is_some() && (start as u64) < PTRS_PER_BLOCK {
        remaining = true;
    }
    if !remaining {
        drop(buf);
        match free_one(sb, block, mode, true) {
            Ok(()) => {
                out.n += 1;
                out.empty = true;
                return out;
            }
            Err(e) => {
                out.err = Some(e);
                // Still the inode's: rewritten below without what it lost.
                match sb.bread(block) {
                    Ok(b) => return clear_ptrs(sb, &b, &cleared, any_cleared, out),
                    Err(_) => return out,
                }
            }
        }
    }
    clear_ptrs(sb, &buf, &cleared, any_cleared, out)
}

/// Clears the pointers `cleared` (a bitmap) of indirect block `buf`, whose
/// blocks were freed, in the running handle; the first error goes in `out`.
fn clear_ptrs(
    sb: &SuperBlock,
    buf: &vfs::Buffer,
    cleared: &[u64; CLEARED_WORDS],
    any: bool,
    mut out: Freed,
) -> Freed {
    if !any {
        return out;
    }
    let r = journal(sb).modify(buf, |b| {
        for (w, &bits) in cleared.iter().enumerate() {
            for k in 0..64u32 {
                if bits & (1 << k) != 0 {
                    // Bits are set only for indices below PTRS_PER_BLOCK.
                    format::indirect_set(b, w as u32 * 64 + k, format::NULL);
                }
            }
        }
        format::seal_block(b, vfs::crc32c);
    });
    if let (Err(e), None) = (r, out.err) {
        out.err = Some(e);
    }
    out
}

/// Frees one block, taking the allocator mutex just for it: tearing down a
/// huge file must not hold the allocator (and everything waiting on it)
/// for the whole teardown. `meta`: the block is journaled metadata (an
/// indirect block, a directory's block), revoked once freed.
fn free_one(sb: &SuperBlock, block: u32, mode: FreeMode, meta: bool) -> Result {
    let freed = {
        let mut st = sb.info().alloc.lock();
        alloc::free_block_ex(sb, &mut st, block, mode == FreeMode::Teardown)?
    };
    if !freed {
        // Already free: nobody's, and revoked when it was freed.
        sb.info()
            .already_free
            .fetch_add(1, core::sync::atomic::Ordering::Relaxed);
        return Ok(());
    }
    if meta {
        journal(sb).revoke(sb, block)?;
    }
    Ok(())
}

/// Frees every block mapping file blocks `>= from` (data and any indirect
/// block left empty), in the running handle. Called with the map locked;
/// the caller logs the inode. On an error the map still loses exactly the
/// pointers to the blocks that were freed.
pub(super) fn free_blocks_from(inode: &Inode, map: &mut MapGuard<'_>, from: u64) -> Result {
    free_blocks_from_mode(inode, map, from, FreeMode::Strict)
}

pub(super) fn free_blocks_from_mode(
    inode: &Inode,
    map: &mut MapGuard<'_>,
    from: u64,
    mode: FreeMode,
) -> Result {
    let sb = inode.sb();
    let dir = inode.mode() & format::S_IFMT == format::S_IFDIR;
    let mut freed = 0u32;
    let ptrs = map.ptrs();
    let mut result = Ok(());
    let p = PTRS_PER_BLOCK;
    let bases = [
        format::DIRECT_BLOCKS as u64,
        format::DIRECT_BLOCKS as u64 + p,
        format::DIRECT_BLOCKS as u64 + p + p * p,
    ];
    for level in (1..=3u32).rev() {
        let slot = IND + level as usize - 1;
        let top = ptrs[slot];
        if top == format::NULL {
            continue;
        }
        let base = bases[level as usize - 1];
        if base + p.pow(level) <= from {
            continue;
        }
        let sub = free_subtree(inode, top, level, base, from, mode);
        freed += sub.n;
        if sub.empty {
            map.set_ptr(slot, format::NULL);
        }
        if let Some(e) = sub.err {
            result = Err(e);
        }
    }
    for (i, &p) in ptrs[..IND].iter().enumerate() {
        if p != format::NULL && i as u64 >= from {
            match free_one(sb, p, mode, dir) {
                Ok(()) => {
                    freed += 1;
                    map.set_ptr(i, format::NULL);
                }
                Err(e) => result = Err(e),
            }
        }
    }
    let blocks = map.blocks().saturating_sub(freed);
    map.set_blocks(blocks);
    result
}

/// Calls `sink` with every block an unlinked inode's map owns — data
/// blocks and indirect blocks (each after the blocks it points to; the
/// second argument says which) — for a
/// batched teardown ([`super::gc`]), which frees them all and never
/// rewrites the indirect blocks. Reads (and verifies) the indirect blocks;
/// holds no buffer lock while `sink` runs.
pub(super) fn for_each_block(
    inode: &Inode,
    map: &MapGuard<'_>,
    sink: &mut dyn FnMut(u32, bool) -> Result,
) -> Result {
    let ptrs = map.ptrs();
    // A cold teardown reads every indirect block: start all reads of a
    // level before waiting for the first (here, and per indirect block in
    // `subtree_blocks`), instead of one round trip per block.
    for &top in ptrs[IND..IND + 3].iter() {
        if top != format::NULL {
            inode.sb().readahead(top);
        }
    }
    for level in (1..=3u32).rev() {
        let top = ptrs[IND + level as usize - 1];
        if top != format::NULL {
            subtree_blocks(inode, top, level, sink)?;
        }
    }
    for &p in ptrs[..IND].iter() {
        if p != format::NULL {
            sink(p, false)?;
        }
    }
    Ok(())
}

/// [`for_each_block`] of the subtree under indirect block `block`.
fn subtree_blocks(
    inode: &Inode,
    block: u32,
    level: u32,
    sink: &mut dyn FnMut(u32, bool) -> Result,
) -> Result {
    let sb = inode.sb();
    let geo = sb.info().geo;
    let buf = sb.bread(block)?;
    if !buf.verify_once(|b| format::indirect_verify(b, &geo, vfs::crc32c).is_ok()) {
        return Err(sb.corrupt(c_str!("indirect block"), block as u64));
    }
    const CHUNK: u32 = 128;
    let mut start = 0u32;
    while (start as u64) < PTRS_PER_BLOCK {
        let end = core::cmp::min(start + CHUNK, PTRS_PER_BLOCK as u32);
        let mut ptrs = [0u32; CHUNK as usize];
        buf.read(|b| {
            for i in start..end {
                ptrs[(i - start) as usize] = format::indirect_get(b, i);
            }
        });
        if level > 1 {
            // The children are indirect blocks: read ahead (verified
            // pointers, so inside the filesystem).
            for &p in ptrs[..(end - start) as usize].iter() {
                if p != format::NULL {
                    sb.readahead(p);
                }
            }
        }
        for &p in ptrs[..(end - start) as usize].iter() {
            if p == format::NULL {
                continue;
            }
            if level == 1 {
                sink(p, false)?;
            } else {
                subtree_blocks(inode, p, level - 1, sink)?;
            }
        }
        start = end;
    }
    drop(buf);
    sink(block, true)
}

/// Forgets every pointer of an unlinked inode's map whose blocks a batched
/// teardown freed.
pub(super) fn clear_map(map: &mut MapGuard<'_>) {
    for slot in 0..IND + 3 {
        map.set_ptr(slot, format::NULL);
    }
    map.set_blocks(0);
}
