// SPDX-License-Identifier: GPL-2.0

//! dinofs's side of the deferred-inactivation engine: what needs work
//! after eviction and how it is done ([`Inactivate`] for [`DinoFs`]), the
//! module's CPU-hotplug state the mounts' engines register with.

use super::{alloc, bmap, inode, orphan, trans, DeadInode, DinoFs, Inode, SuperBlock};
use crate::format;
use crate::inodegc::{Inactivate, InodeGc};
use crate::kernel_ext::hotplug::{CpuDeadSetup, CpuDeadState};
use core::sync::atomic::Ordering::Relaxed;
use kernel::c_str;
use kernel::prelude::*;

/// The engine of a dinofs mount.
pub(crate) type DinoGc = InodeGc<DinoFs>;

/// dinofs's profile phases ([`Inactivate::PHASES`]).
pub(crate) mod phase {
    use crate::inodegc::FsPhase;
    /// Freeing an unlinked inode's blocks (bitmaps, indirect blocks).
    pub(crate) const BLOCKS: FsPhase = FsPhase(0);
    /// Taking it off the orphan list.
    pub(crate) const ORPHAN: FsPhase = FsPhase(1);
    /// Freeing its slot (and cluster).
    pub(crate) const SLOT: FsPhase = FsPhase(2);
    /// Resealing a bitmap block (its crc32c), per change.
    pub(crate) const SEAL: FsPhase = FsPhase(3);
    /// The `unlink` syscall's own work, per unlink: the directory entry
    /// removed, the link dropped, and at the last link the orphan list
    /// entry (the same in every mode: the part deferral cannot save).
    pub(crate) const UNLINK: FsPhase = FsPhase(4);
    /// Part of `unlink`: putting the inode on the orphan list at its last
    /// link, the allocator mutex's wait included.
    pub(crate) const ORPHAN_ADD: FsPhase = FsPhase(5);
    /// Part of that: the wait for the allocator mutex.
    pub(crate) const ALLOC_WAIT: FsPhase = FsPhase(6);
}

impl Inactivate for DinoFs {
    const CLUSTER_INODES: u32 = format::INODES_PER_CLUSTER;
    const PHASES: &'static [&'static str] = &[
        "blocks",
        "orphan",
        "slot",
        "seal",
        "unlink",
        "orphan_add",
        "alloc_wait",
    ];

    fn wants_trim(inode: &Inode) -> bool {
        inode.lock_data().prealloc()
    }

    fn inactivate(i: &Inode) -> Result {
        let sb = i.sb();
        let blocks = i.lock_data().blocks();
        let credits = trans::inactivate_credits(&sb.info().geo, blocks);
        let revokes = trans::inactivate_revokes(i.mode(), blocks);
        trans::own_work(sb, credits, revokes, || inode::inactivate(i))
    }

    fn inactivate_batch(inodes: &[DeadInode], results: &mut [Result]) {
        let Some(first) = inodes.first() else {
            return;
        };
        let sb = first.inode().sb();
        let geo = sb.info().geo;
        let (credits, revokes) = inodes.iter().fold((0u32, 0u32), |(c, r), d| {
            let inode = d.inode();
            let blocks = inode.lock_data().blocks();
            (
                c.saturating_add(trans::inactivate_credits(&geo, blocks)),
                r.saturating_add(trans::inactivate_revokes(inode.mode(), blocks)),
            )
        });
        let r = trans::own_work(sb, credits, revokes, || {
            inactivate_batch(inodes, results);
            Ok(())
        });
        if let Err(e) = r {
            // The handle could not start (or its stop reported an aborted
            // journal): nothing of the batch is known to be on disk.
            for r in results.iter_mut().filter(|r| r.is_ok()) {
                *r = Err(e);
            }
        }
    }

    fn inactivate_failed(i: &Inode) {
        // Best effort: record the block map as it is now (exactly what the
        // inode still owns; the teardown clears each pointer as it frees
        // the block) in the on-disk inode, so that the next mount's orphan
        // recovery frees all of it, including blocks allocated after the
        // inode was last logged. A failure here leaves them to fsck.
        let _ = trans::own_work(i.sb(), trans::INODE_CREDITS, 0, || inode::log_inode(i));
    }

    fn trim(i: &Inode) -> Result {
        trans::own_work(i.sb(), trans::TRIM_CREDITS, trans::TRIM_REVOKES, || {
            inode::trim_eof(i)
        })
    }

    fn space_low(sb: &SuperBlock) -> bool {
        match sb.try_info() {
            Some(info) => info.free_blocks_hint.load(Relaxed) < info.geo.blocks / 64,
            None => false,
        }
    }
}

/// The CPU-dead state every mount's engine registers with
/// (`fs/dinofs:dead`), set up at module init ([`module_init`]).
pub(crate) static CPU_DEAD: CpuDeadState<DinoGc> = CpuDeadState::new();

/// Sets up the CPU-dead state; the module keeps the guard until exit.
pub(crate) fn module_init() -> Result<CpuDeadSetup<DinoGc>> {
    CPU_DEAD.setup(c_str!("fs/dinofs:dead"))
}

/// Blocks collected before they are freed together (on the stack).
const CHUNK: usize = 512;

/// Block numbers waiting to be freed, sorted when freed.
struct Chunk {
    blocks: [u32; CHUNK],
    len: usize,
}

impl Chunk {
    /// Frees the collected blocks, each bitmap block changed and resealed
    /// once, under the allocator mutex (taken per chunk: tearing down a
    /// huge file must not hold it throughout).
    fn free(&mut self, sb: &SuperBlock) -> Result {
        let blocks = &mut self.blocks[..self.len];
        self.len = 0;
        if blocks.is_empty() {
            return Ok(());
        }
        crate::kernel_ext::sort::sort(blocks);
        let mut st = sb.info().alloc.lock();
        alloc::free_blocks_sorted(sb, &mut st, blocks).map(drop)
    }
}

/// A worker's batch of unlinked inodes, sorted by inode number: their
/// blocks freed chunk by chunk with each bitmap block changed once per
/// chunk, the indirect blocks freed and never rewritten, then the whole
/// batch taken off the orphan list (each inode outside it written at most
/// twice, block 0 once) and the slots freed (each cluster block changed
/// once, an emptied cluster freed once), all under one hold of the
/// allocator mutex.
///
/// Errors stay per inode: an inode whose blocks could not all be freed (or
/// that shared a chunk whose freeing failed) keeps its map and stays on the
/// orphan list, and the engine writes it (`inactivate_failed`) for the
/// next mount's recovery, which takes a block already free as freed.
fn inactivate_batch(inodes: &[DeadInode], results: &mut [Result]) {
    let Some(first) = inodes.first() else {
        return;
    };
    let sb = first.inode().sb();
    let info = sb.info();
    let gc = &info.gc;
    let n = inodes.len() as u64;
    // 1. Blocks.
    let t = gc.profile_start();
    let mut chunk = Chunk {
        blocks: [0; CHUNK],
        len: 0,
    };
    // The first inode with blocks in `chunk`: a failed free fails it and
    // every inode after it up to the current one.
    let mut pending = 0usize;
    for (i, d) in inodes.iter().enumerate() {
        let inode = d.inode();
        let map = inode.lock_data();
        let mut freed_error = None;
        let is_dir = inode.mode() & format::S_IFMT == format::S_IFDIR;
        let walk = bmap::for_each_block(inode, &map, &mut |b, indirect| {
            if is_dir || indirect {
                // Journaled metadata (an indirect block, a directory's
                // block): revoked, so no replay writes an old copy over
                // what the block holds next.
                info.journal.revoke(sb, b)?;
            }
            if chunk.len == CHUNK {
                if let Err(e) = chunk.free(sb) {
                    freed_error = Some(e);
                    return Err(e);
                }
                // Every inode before this one is done with.
                pending = i;
            }
            chunk.blocks[chunk.len] = b;
            chunk.len += 1;
            Ok(())
        });
        drop(map);
        if let Some(e) = freed_error {
            for r in results.get_mut(pending..=i).into_iter().flatten() {
                *r = Err(e);
            }
            pending = i + 1;
        } else if let (Err(e), Some(r)) = (walk, results.get_mut(i)) {
            *r = Err(e);
        }
    }
    if let Err(e) = chunk.free(sb) {
        for r in results.get_mut(pending..).into_iter().flatten() {
            *r = Err(e);
        }
    }
    for (d, r) in inodes.iter().zip(results.iter()) {
        if r.is_ok() {
            bmap::clear_map(&mut d.inode().lock_data());
        }
    }
    gc.profile_end_n(phase::BLOCKS, t, n);
    // 2. The orphan list and the slots, for the inodes whose blocks are
    // all free.
    let mut inos = KVec::new();
    let mut idx = KVec::new();
    let mut links = KVec::new();
    if inos.reserve(inodes.len(), GFP_KERNEL).is_err()
        || idx.reserve(inodes.len(), GFP_KERNEL).is_err()
        || links.reserve(inodes.len(), GFP_KERNEL).is_err()
    {
        // No memory for the lists: one inode at a time (slower, the same).
        for (d, r) in inodes.iter().zip(results.iter_mut()) {
            if r.is_ok() {
                *r = inode::inactivate(d.inode());
            }
        }
        return;
    }
    for (i, d) in inodes.iter().enumerate() {
        if results.get(i).is_some_and(|r| r.is_ok()) {
            // Reserved above: cannot fail.
            let _ = inos.push(d.inode().ino(), GFP_KERNEL);
            let _ = idx.push(i, GFP_KERNEL);
        }
    }
    if inos.is_empty() {
        return;
    }
    let mut st = info.alloc.lock();
    let t = gc.profile_start();
    let r = orphan::orphan_remove_many(sb, &mut st, &inos, &mut links);
    gc.profile_end_n(phase::ORPHAN, t, inos.len() as u64);
    if let Err(e) = r {
        for &i in idx.iter() {
            if let Some(r) = results.get_mut(i) {
                *r = Err(e);
            }
        }
        return;
    }
    let t = gc.profile_start();
    alloc::free_inodes_sorted(sb, &mut st, &inos, &mut |k, r| {
        if let Some(slot) = idx.get(k).and_then(|&i| results.get_mut(i)) {
            *slot = r;
        }
    });
    gc.profile_end_n(phase::SLOT, t, inos.len() as u64);
}
