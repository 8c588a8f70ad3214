// SPDX-License-Identifier: GPL-2.0

//! The orphan list and orphan recovery.
//!
//! An inode whose last link goes is put on the on-disk orphan list (a
//! doubly linked list through the inodes, its head in block 0) in the same
//! write that sets its link count to 0, and taken off by its inactivation.
//! After a crash, a shutdown or a failed inactivation, the next mount finds
//! what is left on it and inactivates it ([`recover_orphans`]), after
//! relinking the list from the inodes themselves if a crash left it torn
//! ([`rebuild_orphan_list`]). All changes run under the allocator mutex,
//! in the caller's jbd2 handle (the list is journaled with the rest).

use super::alloc::update_disk_inode;
use super::super_ops::AllocState;
use super::{inode, Inode, SuperBlock};
use crate::format;
use crate::vfs;
use kernel::c_str;
use kernel::prelude::*;
use kernel::types::ARef;

/// The inode after `ino` on the orphan list (0 at the end).
pub(crate) fn orphan_next(sb: &SuperBlock, ino: u32) -> Result<u32> {
    let geo = sb.info().geo;
    let buf = sb.bread(format::ino_cluster(ino))?;
    match buf.read(|b| format::Inode::decode(b, ino, &geo, vfs::crc32c)) {
        Ok(Some(d)) => Ok(d.orphan_next),
        _ => Err(sb.corrupt(c_str!("inode (orphan list)"), ino as u64)),
    }
}

/// Puts inode `ino` (nlink just dropped to 0) at the head of the orphan
/// list, so its space is reclaimed even if the system crashes before the
/// last close.
pub(crate) fn orphan_add(sb: &SuperBlock, st: &mut AllocState, ino: u32) -> Result {
    let head = st.orphan_head;
    if head == ino {
        return update_disk_inode(sb, ino, |d| d.nlink = 0);
    }
    // The link count goes to 0 on disk in the same write that puts the
    // inode on the list: the VFS never writes back an unlinked inode, so
    // without this an orphan found after a crash (or after a failed
    // inactivation) would still claim its old links.
    update_disk_inode(sb, ino, |d| {
        d.orphan_next = head;
        d.orphan_prev = format::NULL;
        d.nlink = 0;
    })?;
    if head != format::NULL {
        update_disk_inode(sb, head, |d| d.orphan_prev = ino)?;
    }
    st.orphan_head = ino;
    super::super_ops::store_orphan_head(sb, st)
}

/// Removes inode `ino` from the orphan list (inactivation is done with it,
/// or a link brought it back).
pub(crate) fn orphan_remove(sb: &SuperBlock, st: &mut AllocState, ino: u32) -> Result {
    let mut links = (format::NULL, format::NULL);
    update_disk_inode(sb, ino, |d| {
        links = (d.orphan_prev, d.orphan_next);
        d.orphan_prev = format::NULL;
        d.orphan_next = format::NULL;
    })?;
    let (prev, next) = links;
    if prev == format::NULL {
        if st.orphan_head != ino {
            // Not on the list at all.
            return Ok(());
        }
        st.orphan_head = next;
        super::super_ops::store_orphan_head(sb, st)?;
    } else {
        update_disk_inode(sb, prev, |d| d.orphan_next = next)?;
    }
    if next != format::NULL {
        update_disk_inode(sb, next, |d| d.orphan_prev = prev)?;
    }
    Ok(())
}

/// Follows the on-disk orphan list from `head`: its members in order, or
/// `None` where it cannot be followed to its end consistently (a free or
/// unreadable inode, a back link that does not match, a loop).
fn follow_orphan_list(sb: &SuperBlock, head: u32, limit: usize) -> Result<Option<KVec<u32>>> {
    let geo = sb.info().geo;
    let mut members = KVec::new();
    let (mut prev, mut cur) = (format::NULL, head);
    while cur != format::NULL {
        if members.len() >= limit || !format::ino_is_valid(cur, &geo) {
            return Ok(None);
        }
        let buf = sb.bread(format::ino_cluster(cur))?;
        let links = buf.read(|b| match format::Inode::decode(b, cur, &geo, vfs::crc32c) {
            Ok(Some(d)) if d.nlink == 0 => Some((d.orphan_prev, d.orphan_next)),
            _ => None,
        });
        match links {
            Some((back, next)) if back == prev => {
                members.push(cur, GFP_KERNEL)?;
                (prev, cur) = (cur, next);
            }
            _ => return Ok(None),
        }
    }
    Ok(Some(members))
}

/// Makes the on-disk orphan list hold exactly `orphans` (every unlinked
/// inode, from [`recount`]) before orphan recovery follows it.
///
/// Every change of the list is journaled, so after a replay it is whole;
/// the check stays for images whose list is damaged otherwise (a torn
/// write the journal cannot see, a bug, an image written by a tool): the
/// orphans after a cut would be lost to everything but fsck. Like
/// `fsck.dinofs -y`, relink the list from the inodes themselves: in inode
/// order, logging only inodes whose links change, [`RELINK_BATCH`] of
/// them per handle (a crash in between leaves a list the next mount
/// relinks again). Returns how many were on the list as found, or `None`
/// if it needed the rebuild.
///
/// [`recount`]: super::alloc::recount
pub(crate) fn rebuild_orphan_list(sb: &SuperBlock, orphans: &[u32]) -> Result<Option<usize>> {
    let info = sb.info();
    let head = info.alloc.lock().orphan_head;
    let found = follow_orphan_list(sb, head, orphans.len().saturating_add(1))?;
    // A list whose back links all match visits no inode twice, so it holds
    // the same inodes as `orphans` (sorted) if it is as long and each of
    // its members is one of them.
    if let Some(list) = &found {
        if list.len() == orphans.len() && list.iter().all(|i| orphans.binary_search(i).is_ok()) {
            return Ok(Some(list.len()));
        }
    }
    let geo = info.geo;
    let mut first = true;
    for (c, chunk) in orphans.chunks(RELINK_BATCH).enumerate() {
        // Each inode's cluster block, and block 0 in the first handle.
        let credits = chunk.len() as u32 + 1;
        super::trans::own_work(sb, credits, 0, || {
            let mut st = info.alloc.lock();
            for (k, &ino) in chunk.iter().enumerate() {
                let i = c * RELINK_BATCH + k;
                let prev = i.checked_sub(1).map_or(format::NULL, |j| orphans[j]);
                let next = orphans.get(i + 1).copied().unwrap_or(format::NULL);
                let buf = sb.bread(format::ino_cluster(ino))?;
                let same = buf.read(|b| match format::Inode::decode(b, ino, &geo, vfs::crc32c) {
                    Ok(Some(d)) => (d.orphan_prev, d.orphan_next) == (prev, next),
                    _ => false,
                });
                if !same {
                    update_disk_inode(sb, ino, |d| {
                        d.orphan_prev = prev;
                        d.orphan_next = next;
                    })?;
                }
            }
            if first {
                st.orphan_head = orphans.first().copied().unwrap_or(format::NULL);
                super::super_ops::store_orphan_head(sb, &st)?;
            }
            Ok(())
        })?;
        first = false;
    }
    if orphans.is_empty() {
        super::trans::own_work(sb, 1, 0, || {
            let mut st = info.alloc.lock();
            st.orphan_head = format::NULL;
            super::super_ops::store_orphan_head(sb, &st)
        })?;
    }
    Ok(None)
}

/// Orphans relinked per handle by [`rebuild_orphan_list`].
const RELINK_BATCH: usize = 32;

/// Orphan recovery at mount: every inode on the on-disk orphan list was
/// unlinked but not yet inactivated when the filesystem was last mounted.
/// Read each (its link count is 0), let it go (it queues), then flush.
pub(crate) fn recover_orphans(sb: &SuperBlock) -> Result<u32> {
    let info = sb.info();
    let limit = {
        let st = info.alloc.lock();
        st.clusters as u64 * format::INODES_PER_CLUSTER as u64
    };
    let mut ino = info.alloc.lock().orphan_head;
    let mut n = 0u32;
    while ino != format::NULL {
        if n as u64 > limit {
            return Err(sb.corrupt(c_str!("orphan list (loop)"), ino as u64));
        }
        let inode: ARef<Inode> = inode::iget_orphan(sb, ino)?;
        let next = orphan_next(sb, ino)?;
        if inode.nlink() != 0 {
            // Linked again (an O_TMPFILE inode given a name) with the
            // removal from the list not all on disk: it is not an orphan.
            pr_warn!(
                "{}: inode {} on the orphan list has links; taking it off the list\n",
                sb.id(),
                ino
            );
            // The inode, both neighbours, block 0.
            super::trans::own_work(sb, 4, 0, || {
                let mut st = info.alloc.lock();
                orphan_remove(sb, &mut st, ino)
            })?;
        }
        drop(inode);
        n += 1;
        ino = next;
    }
    info.gc.flush()?;
    Ok(n)
}

/// The orphan-list links (previous, next) of inode `ino`.
fn links(sb: &SuperBlock, ino: u32) -> Result<(u32, u32)> {
    let geo = sb.info().geo;
    let buf = sb.bread(format::ino_cluster(ino))?;
    match buf.read(|b| format::Inode::decode(b, ino, &geo, vfs::crc32c)) {
        Ok(Some(d)) => Ok((d.orphan_prev, d.orphan_next)),
        _ => Err(sb.corrupt(c_str!("inode (orphan list)"), ino as u64)),
    }
}

/// Takes every inode of `inos` (sorted; their slots are freed next) off the
/// orphan list for a batched teardown: each run of consecutive members is
/// cut out by linking the inodes around it, so every inode outside the
/// batch and block 0 are written at most once or twice for the whole batch,
/// and the members' own links are left (their slots are cleared). `l` is
/// scratch space with room for `inos.len()` links, allocated by the caller
/// before it took the allocator mutex.
pub(crate) fn orphan_remove_many(
    sb: &SuperBlock,
    st: &mut AllocState,
    inos: &[u32],
    l: &mut KVec<(u32, u32)>,
) -> Result {
    for &ino in inos {
        // Within the capacity the caller reserved: allocates nothing.
        l.push(links(sb, ino)?, GFP_NOWAIT)?;
    }
    let member = |ino: u32| inos.binary_search(&ino).ok();
    let head0 = st.orphan_head;
    for (i, &ino) in inos.iter().enumerate() {
        let Some(&(prev, first_next)) = l.get(i) else {
            break;
        };
        if member(prev).is_some() {
            // Inside a run: its start handles it.
            continue;
        }
        if prev == format::NULL && head0 != ino {
            // Not on the list at all.
            continue;
        }
        // Walk the run forward to the first inode outside the batch (at
        // most every member once: a corrupt list cannot loop here).
        let mut next = first_next;
        let mut steps = 0;
        while let Some(j) = member(next) {
            steps += 1;
            if steps > inos.len() {
                return Err(sb.corrupt(c_str!("orphan list (loop)"), ino as u64));
            }
            next = l.get(j).map_or(format::NULL, |x| x.1);
        }
        if prev == format::NULL {
            st.orphan_head = next;
        } else {
            update_disk_inode(sb, prev, |d| d.orphan_next = next)?;
        }
        if next != format::NULL {
            update_disk_inode(sb, next, |d| d.orphan_prev = prev)?;
        }
    }
    if st.orphan_head != head0 {
        super::super_ops::store_orphan_head(sb, st)?;
    }
    Ok(())
}
