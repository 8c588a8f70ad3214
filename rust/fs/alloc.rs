// SPDX-License-Identifier: GPL-2.0

//! Space and inode allocation: the block bitmap, the inode-cluster map, the
//! superblock counters and the on-disk orphan list.
//!
//! Every function here takes the locked [`AllocState`] (the allocator mutex
//! in [`DinoSb`](super::super_ops::DinoSb)), so the bitmaps, the counters and
//! the orphan list only change together and under one lock. Bitmap and
//! cluster blocks are verified against their checksums on every use and
//! resealed once per change — one bit, a run of preallocated blocks
//! ([`alloc_run`]) or a sorted batch of freed ones ([`free_blocks_sorted`]);
//! a mismatch is `-EUCLEAN`, never a guess.
//!
//! Everything here is journaled: the two bitmaps, the inode clusters (and
//! the orphan-list links in them) and block 0 change in the caller's jbd2
//! handle ([`vfs::Journal::modify`]; every caller runs in one, see
//! [`super::trans`]), are written to the log at commit and in place by
//! jbd2's checkpoint, never by the block device's writeback. A freed
//! cluster is revoked. A freed block is busy until the transaction that
//! freed it commits, and no allocation hands it out before
//! ([`super::busy`]).
//!
//! Inode clusters (seed 003, XFS inode chunks): a cluster block is allocated
//! from free space when no allocated cluster has a free slot, and returned to
//! free space as soon as its last inode is freed.

#![forbid(unsafe_code)]

use super::busy::Busy;
use super::super_ops::AllocState;
use super::SuperBlock;
use crate::format::{self, Block, INODES_PER_CLUSTER, INODE_SIZE};
use crate::vfs;
use kernel::c_str;
use kernel::prelude::*;
use kernel::str::CStr;

/// Which of the two bitmaps.
#[derive(Clone, Copy)]
enum Map {
    Blocks,
    Clusters,
}

fn map_start(sb: &SuperBlock, map: Map) -> u32 {
    let geo = &sb.info().geo;
    match map {
        Map::Blocks => geo.bitmap_start,
        Map::Clusters => geo.clustermap_start,
    }
}

/// Reads bitmap block `block`, verified.
fn verified(sb: &SuperBlock, block: u32) -> Result<vfs::Buffer> {
    let buf = sb.bread(block)?;
    if !buf.verify_once(|b| format::verify_block(b, vfs::crc32c).is_ok()) {
        return Err(sb.corrupt(c_str!("bitmap block (checksum)"), block as u64));
    }
    Ok(buf)
}

/// Reads the bitmap block holding `block`'s bit, verified.
fn bitmap_buffer(sb: &SuperBlock, map: Map, block: u64) -> Result<(vfs::Buffer, usize)> {
    let (idx, bit) = format::bitmap_pos(block);
    Ok((verified(sb, map_start(sb, map) + idx)?, bit))
}

/// Sets or clears one bit; returns its previous value.
fn assign_bit(sb: &SuperBlock, map: Map, block: u64, value: bool) -> Result<bool> {
    let (buf, bit) = bitmap_buffer(sb, map, block)?;
    let info = sb.info();
    let gc = &info.gc;
    info.journal.modify(&buf, |b| {
        let old = format::bit_test(b, bit);
        format::bit_assign(b, bit, value);
        let t = gc.profile_start();
        format::seal_block(b, vfs::crc32c);
        gc.profile_end(super::gc::phase::SEAL, t);
        old
    })
}

/// Tests one bit.
pub(crate) fn test_bit_cluster(sb: &SuperBlock, block: u64) -> Result<bool> {
    let (buf, bit) = bitmap_buffer(sb, Map::Clusters, block)?;
    Ok(buf.read(|b| format::bit_test(b, bit)))
}

/// Finds the first clear (or set, for `want == true`) bit at or after
/// `from` in `map`, below the filesystem size, wrapping around once,
/// skipping the blocks `busy` holds.
fn find_bit(
    sb: &SuperBlock,
    map: Map,
    from: u64,
    want: bool,
    busy: Option<&Busy>,
) -> Result<Option<u64>> {
    let geo = sb.info().geo;
    let total = geo.blocks;
    let per = format::BITS_PER_BITMAP_BLOCK;
    let start = if from >= total { 0 } else { from };
    let mut done = 0u64;
    let mut pos = start;
    while done < total {
        let (buf, bit) = bitmap_buffer(sb, map, pos)?;
        let base = pos - bit as u64;
        let limit = core::cmp::min(per, total - base) as usize;
        let (idx, _) = format::bitmap_pos(base);
        let busy = busy.filter(|z| z.any_in(idx));
        let found = buf.read(|b| {
            (bit..limit).find(|&i| {
                format::bit_test(b, i) == want && !busy.is_some_and(|z| z.is_busy(base + i as u64))
            })
        });
        if let Some(i) = found {
            return Ok(Some(base + i as u64));
        }
        done += (limit - bit) as u64;
        pos = base + limit as u64;
        if pos >= total {
            pos = 0;
        }
    }
    Ok(None)
}

/// Allocates one block, preferring `goal` or the next free one after it.
pub(crate) fn alloc_block(sb: &SuperBlock, st: &mut AllocState, goal: u64) -> Result<u32> {
    alloc_run(sb, st, goal, 1).map(|(block, _)| block)
}

/// Allocates a run of up to `max` contiguous blocks (at least one),
/// preferring `goal`: the first free block at or after it and the free
/// blocks right after that one in the same bitmap block. The bitmap block
/// is changed and resealed once for the whole run and the counter updated
/// once (preallocation allocates a batch this way). Returns the first
/// block and the run's length.
pub(crate) fn alloc_run(
    sb: &SuperBlock,
    st: &mut AllocState,
    goal: u64,
    max: u32,
) -> Result<(u32, u32)> {
    if st.free_blocks == 0 {
        return Err(ENOSPC);
    }
    let geo = sb.info().geo;
    let from = if goal >= geo.data_start as u64 {
        goal
    } else {
        st.block_hint
    };
    st.busy.release(&sb.info().journal);
    // Only busy space left is ENOSPC too: the caller commits and retries
    // (`trans::retry_busy`).
    let Some(first) = find_bit(sb, Map::Blocks, from, false, Some(&st.busy))? else {
        st.busy.note_hit();
        return Err(ENOSPC);
    };
    if first < geo.data_start as u64 {
        // Metadata blocks are always marked in use; a clear bit is corruption.
        return Err(sb.corrupt(c_str!("block bitmap (metadata block free)"), first));
    }
    let want = core::cmp::max(1, core::cmp::min(max as u64, st.free_blocks));
    let (buf, bit) = bitmap_buffer(sb, Map::Blocks, first)?;
    let base = first - bit as u64;
    // The run stays inside this bitmap block and the filesystem.
    let limit = core::cmp::min(format::BITS_PER_BITMAP_BLOCK, geo.blocks - base) as usize;
    let gc = &sb.info().gc;
    let busy = &st.busy;
    let n = sb.info().journal.modify(&buf, |b| {
        if format::bit_test(b, bit) {
            return None;
        }
        let mut n = 0usize;
        while (n as u64) < want
            && bit + n < limit
            && !format::bit_test(b, bit + n)
            && !busy.is_busy(first + n as u64)
        {
            format::bit_assign(b, bit + n, true);
            n += 1;
        }
        let t = gc.profile_start();
        format::seal_block(b, vfs::crc32c);
        gc.profile_end(super::gc::phase::SEAL, t);
        Some(n as u64)
    })?;
    let Some(n) = n else {
        return Err(sb.corrupt(c_str!("block bitmap (changed under the allocator)"), first));
    };
    // 1 <= n <= want <= free_blocks.
    st.free_blocks = counter_sub(sb, st.free_blocks, n, c_str!("free block counter"))?;
    sb.info().publish(st);
    st.block_hint = first + n;
    // n <= BITS_PER_BITMAP_BLOCK < 2^32.
    Ok((first as u32, n as u32))
}

/// Frees one block.
pub(crate) fn free_block(sb: &SuperBlock, st: &mut AllocState, block: u32) -> Result {
    free_block_ex(sb, st, block, false).map(drop)
}

/// Frees one block; with `tolerate_free`, a block already free is not an
/// error (returns `false`, changes nothing): an unlinked inode's teardown
/// that was interrupted by a crash or an I/O error may have freed it, and
/// its bitmap block may have reached the disk without the inode's cleared
/// pointer.
pub(crate) fn free_block_ex(
    sb: &SuperBlock,
    st: &mut AllocState,
    block: u32,
    tolerate_free: bool,
) -> Result<bool> {
    let geo = sb.info().geo;
    if (block as u64) < geo.data_start as u64 || block as u64 >= geo.blocks {
        return Err(sb.corrupt(c_str!("block pointer (out of range)"), block as u64));
    }
    if !assign_bit(sb, Map::Blocks, block as u64, false)? {
        if tolerate_free {
            return Ok(false);
        }
        return Err(sb.corrupt(c_str!("block bitmap (freeing a free block)"), block as u64));
    }
    if let Some(tid) = sb.info().journal.handle_tid() {
        st.busy.reserve(format::bitmap_pos(block as u64).0, tid);
        st.busy.mark(block as u64, tid);
    }
    st.free_blocks = counter_add(
        sb,
        st.free_blocks,
        1,
        geo.blocks,
        c_str!("free block counter"),
    )?;
    sb.info().publish(st);
    Ok(true)
}

/// `value + n`, which must stay within `max`. The counters are trusted from
/// a clean superblock, so a damaged one reaches here: `-EUCLEAN` with a
/// message, never an overflow.
fn counter_add(sb: &SuperBlock, value: u64, n: u64, max: u64, what: &CStr) -> Result<u64> {
    match value.checked_add(n) {
        Some(v) if v <= max => Ok(v),
        _ => Err(sb.corrupt(what, value)),
    }
}

/// `value - n`, which must not go below zero (see [`counter_add`]).
fn counter_sub(sb: &SuperBlock, value: u64, n: u64, what: &CStr) -> Result<u64> {
    value.checked_sub(n).ok_or_else(|| sb.corrupt(what, value))
}

/// Whether slot `slot` of a cluster block is free (all zeroes).
fn slot_free(b: &Block, slot: u32) -> bool {
    let off = slot as usize * INODE_SIZE;
    b[off..off + INODE_SIZE].iter().all(|&x| x == 0)
}

/// Allocates an inode number and writes `initial` into its slot, which
/// reserves it. Allocates a new cluster when no allocated one has room.
pub(crate) fn alloc_inode(
    sb: &SuperBlock,
    st: &mut AllocState,
    initial: &format::Inode,
) -> Result<u32> {
    if st.free_inodes == 0 {
        let block = alloc_block(sb, st, st.block_hint)?;
        // A new cluster block: created in the handle, all slots free.
        if let Err(e) = sb.info().journal.create_block(sb, block) {
            let _ = free_block(sb, st, block);
            return Err(e);
        }
        if assign_bit(sb, Map::Clusters, block as u64, true)? {
            return Err(sb.corrupt(
                c_str!("cluster map (new cluster already mapped)"),
                block as u64,
            ));
        }
        let blocks = sb.info().geo.blocks;
        let clusters = counter_add(sb, st.clusters as u64, 1, blocks, c_str!("cluster counter"))?;
        let max_free = clusters * INODES_PER_CLUSTER as u64;
        let free = counter_add(
            sb,
            st.free_inodes as u64,
            INODES_PER_CLUSTER as u64,
            max_free,
            c_str!("free inode counter"),
        )?;
        // Both fit: clusters <= blocks < 2^27, free <= 32 * clusters < 2^32.
        st.clusters = clusters as u32;
        st.free_inodes = free as u32;
        st.cluster_hint = block as u64;
    }
    // Find a cluster with a free slot, starting at the hint.
    let mut from = st.cluster_hint;
    let mut scanned = 0u32;
    while scanned <= st.clusters {
        let Some(cluster) = find_bit(sb, Map::Clusters, from, true, None)? else {
            break;
        };
        let buf = sb.bread(cluster as u32)?;
        // Looked for first: a full cluster is not logged.
        if buf.read(|b| (0..INODES_PER_CLUSTER).all(|s| !slot_free(b, s))) {
            scanned += 1;
            from = cluster + 1;
            continue;
        }
        let ino = sb.info().journal.modify(&buf, |b| {
            let slot = (0..INODES_PER_CLUSTER).find(|&s| slot_free(b, s))?;
            let ino = format::make_ino(cluster as u32, slot);
            initial.encode(b, ino, vfs::crc32c);
            Some(ino)
        })?;
        if let Some(ino) = ino {
            st.free_inodes -= 1;
            sb.info().publish(st);
            st.cluster_hint = cluster;
            return Ok(ino);
        }
        scanned += 1;
        from = cluster + 1;
    }
    // The counter promised a free slot that no cluster has.
    Err(sb.corrupt(
        c_str!("inode counters (no free slot)"),
        st.free_inodes as u64,
    ))
}

/// Frees inode `ino`'s slot, and its cluster if that was the last inode in
/// use there.
pub(crate) fn free_inode(sb: &SuperBlock, st: &mut AllocState, ino: u32) -> Result {
    let r = free_cluster_slots(sb, st, format::ino_cluster(ino), &[ino]);
    sb.info().publish(st);
    r
}

/// Reads, changes and logs one on-disk inode, in the running handle.
pub(crate) fn update_disk_inode(
    sb: &SuperBlock,
    ino: u32,
    f: impl FnOnce(&mut format::Inode),
) -> Result {
    let geo = sb.info().geo;
    let buf = sb.bread(format::ino_cluster(ino))?;
    let ok = sb.info().journal.modify(&buf, |b| {
        match format::Inode::decode(b, ino, &geo, vfs::crc32c) {
            Ok(Some(mut d)) => {
                f(&mut d);
                d.encode(b, ino, vfs::crc32c);
                true
            }
            _ => false,
        }
    })?;
    if ok {
        Ok(())
    } else {
        Err(sb.corrupt(c_str!("inode (orphan list update)"), ino as u64))
    }
}

/// What [`recount`] found.
pub(crate) struct Recount {
    pub(crate) free_blocks: u64,
    pub(crate) clusters: u32,
    pub(crate) free_inodes: u32,
    /// Every allocated inode with link count 0, in inode order: the
    /// orphans, whatever the orphan list says.
    pub(crate) orphans: KVec<u32>,
}

/// Counts free blocks, allocated clusters and free inode slots from the
/// bitmaps and cluster blocks, and finds every unlinked inode (at the mount
/// of an image that was not cleanly unmounted, whose superblock counters
/// may be stale and whose orphan list may be cut). Runs before the
/// per-mount state exists, so it takes the geometry.
pub(crate) fn recount(sb: &SuperBlock, geo: &format::Geometry) -> Result<Recount> {
    let per = format::BITS_PER_BITMAP_BLOCK;
    let (mut used, mut clusters, mut free_inodes) = (0u64, 0u32, 0u32);
    let mut orphans = KVec::new();
    for idx in 0..geo.bitmap_blocks {
        let base = idx as u64 * per;
        let limit = core::cmp::min(per, geo.blocks - base) as usize;
        let bitmap = verified(sb, geo.bitmap_start + idx)?;
        used += bitmap.read(|b| (0..limit).filter(|&i| format::bit_test(b, i)).count() as u64);
        let cmap = verified(sb, geo.clustermap_start + idx)?;
        let mut from = 0;
        while let Some(i) = cmap.read(|b| (from..limit).find(|&i| format::bit_test(b, i))) {
            let cluster = (base + i as u64) as u32;
            let buf = sb.bread(cluster)?;
            for slot in 0..INODES_PER_CLUSTER {
                let ino = format::make_ino(cluster, slot);
                // A slot that fails to decode is fsck's business here.
                let state = buf.read(|b| {
                    if slot_free(b, slot) {
                        None
                    } else {
                        Some(matches!(
                            format::Inode::decode(b, ino, geo, vfs::crc32c),
                            Ok(Some(d)) if d.nlink == 0
                        ))
                    }
                });
                match state {
                    None => free_inodes += 1,
                    Some(true) => orphans.push(ino, GFP_KERNEL)?,
                    Some(false) => {}
                }
            }
            clusters += 1;
            from = i + 1;
        }
    }
    Ok(Recount {
        free_blocks: geo.blocks - used,
        clusters,
        free_inodes,
        orphans,
    })
}

/// Frees `blocks`, sorted, for a batched teardown of unlinked inodes: each
/// bitmap block is changed and resealed once for all of its bits, and the
/// counter is updated once. A block already free is taken as freed by an
/// interrupted earlier teardown (see [`free_block_ex`]) and counted in
/// `already_free`. Returns how many bits it cleared.
pub(crate) fn free_blocks_sorted(
    sb: &SuperBlock,
    st: &mut AllocState,
    blocks: &[u32],
) -> Result<u64> {
    let info = sb.info();
    let geo = info.geo;
    let mut freed = 0u64;
    let mut already = 0u64;
    let mut rest = blocks;
    let tid = info.journal.handle_tid();
    while let Some(&first) = rest.first() {
        let (idx, _) = format::bitmap_pos(first as u64);
        let n = rest
            .iter()
            .position(|&b| format::bitmap_pos(b as u64).0 != idx)
            .unwrap_or(rest.len());
        let (group, tail) = rest.split_at(n);
        rest = tail;
        for &b in group {
            if (b as u64) < geo.data_start as u64 || b as u64 >= geo.blocks {
                return Err(sb.corrupt(c_str!("block pointer (out of range)"), b as u64));
            }
        }
        let buf = verified(sb, map_start(sb, Map::Blocks) + idx)?;
        let gc = &info.gc;
        if let Some(tid) = tid {
            st.busy.reserve(idx, tid);
        }
        let busy = &mut st.busy;
        let (f, a) = info.journal.modify(&buf, |bm| {
            let (mut f, mut a) = (0u64, 0u64);
            for &b in group {
                let (_, bit) = format::bitmap_pos(b as u64);
                if format::bit_test(bm, bit) {
                    format::bit_assign(bm, bit, false);
                    if let Some(tid) = tid {
                        busy.mark(b as u64, tid);
                    }
                    f += 1;
                } else {
                    a += 1;
                }
            }
            let t = gc.profile_start();
            format::seal_block(bm, vfs::crc32c);
            gc.profile_end(super::gc::phase::SEAL, t);
            (f, a)
        })?;
        freed += f;
        already += a;
    }
    st.free_blocks = counter_add(
        sb,
        st.free_blocks,
        freed,
        geo.blocks,
        c_str!("free block counter"),
    )?;
    info.publish(st);
    if already > 0 {
        info.already_free
            .fetch_add(already, core::sync::atomic::Ordering::Relaxed);
    }
    Ok(freed)
}

/// Frees the slots of `inos`, sorted, for a batched teardown: each cluster
/// block is changed once, and a cluster left empty is returned to free
/// space. Calls `done(i, result)` for every `inos[i]`: an error in one
/// cluster fails only the inodes in it.
pub(crate) fn free_inodes_sorted(
    sb: &SuperBlock,
    st: &mut AllocState,
    inos: &[u32],
    done: &mut dyn FnMut(usize, Result),
) {
    let mut at = 0usize;
    while let Some(&first) = inos.get(at) {
        let cluster = format::ino_cluster(first);
        let n = inos[at..]
            .iter()
            .position(|&i| format::ino_cluster(i) != cluster)
            .unwrap_or(inos.len() - at);
        let r = free_cluster_slots(sb, st, cluster, &inos[at..at + n]);
        for i in at..at + n {
            done(i, r);
        }
        at += n;
    }
    sb.info().publish(st);
}

/// Frees the slots `inos` of cluster block `cluster`, and the cluster if it
/// is left empty.
fn free_cluster_slots(sb: &SuperBlock, st: &mut AllocState, cluster: u32, inos: &[u32]) -> Result {
    let buf = sb.bread(cluster)?;
    let empty = sb.info().journal.modify(&buf, |b| {
        for &ino in inos {
            format::Inode::clear(b, ino);
        }
        (0..INODES_PER_CLUSTER).all(|s| slot_free(b, s))
    })?;
    let max_free = st.clusters as u64 * INODES_PER_CLUSTER as u64;
    st.free_inodes = counter_add(
        sb,
        st.free_inodes as u64,
        inos.len() as u64,
        max_free,
        c_str!("free inode counter"),
    )? as u32;
    if empty {
        // Return the whole cluster to free space (XFS: xfs_ifree_cluster).
        // No in-memory inode can still refer to it: every slot is free, and
        // a slot is freed only when its inode is being evicted.
        drop(buf);
        if !assign_bit(sb, Map::Clusters, cluster as u64, false)? {
            return Err(sb.corrupt(
                c_str!("cluster map (freeing an unmapped cluster)"),
                cluster as u64,
            ));
        }
        free_block(sb, st, cluster)?;
        // Journaled metadata: no replay may write an old copy of it over
        // what the block holds next.
        sb.info().journal.revoke(sb, cluster)?;
        st.clusters = counter_sub(sb, st.clusters as u64, 1, c_str!("cluster counter"))? as u32;
        st.free_inodes = counter_sub(
            sb,
            st.free_inodes as u64,
            INODES_PER_CLUSTER as u64,
            c_str!("free inode counter"),
        )? as u32;
    }
    Ok(())
}
