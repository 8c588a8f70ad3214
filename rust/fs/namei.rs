// SPDX-License-Identifier: GPL-2.0

//! The namespace operations: create (files, directories, device nodes,
//! FIFOs, sockets, symlinks), `O_TMPFILE`, link, unlink, rmdir, rename,
//! built on the directory entries of [`super::dir`]. An inode whose last
//! link goes is put on the orphan list ([`super::orphan`]) here; its
//! teardown is the engine's, after the VFS lets it go.

use super::dir::{add_entry, find_entry, is_empty, remove_entry, retarget_entry};
use super::{alloc, inode, orphan};
use super::{Inode, NewInode};
use crate::format::{self, NAME_MAX};
use crate::kernel_ext::errno::{enametoolong, enotempty};
use kernel::c_str;
use kernel::prelude::*;

/// Largest link count (directories: 2 + subdirectories).
const LINK_MAX: u32 = 65000;

/// Allocates a new inode on disk (reserving its slot) and in memory.
fn new_inode(dir: &Inode, mode: u16, rdev: u32, nlink: u32) -> Result<NewInode> {
    let sb = dir.sb();
    let (ino, generation) = {
        let mut st = sb.info().alloc.lock();
        let generation = st.next_generation;
        let initial = format::Inode {
            mode,
            nlink,
            generation,
            ..Default::default()
        };
        let ino = alloc::alloc_inode(sb, &mut st, &initial)?;
        st.next_generation = st.next_generation.wrapping_add(1);
        (ino, generation)
    };
    let new = match sb.new_inode(ino) {
        Ok(n) => n,
        Err(e) => {
            let mut st = sb.info().alloc.lock();
            let _ = alloc::free_inode(sb, &mut st, ino);
            return Err(e);
        }
    };
    new.init_new(dir, mode, rdev, generation);
    new.inode().set_nlink(nlink);
    Ok(new)
}

/// Creates an inode named `name` in `dir`: files, directories, device
/// nodes, FIFOs, sockets and symlinks (`symlink` = target).
pub(crate) fn create(
    dir: &Inode,
    name: &[u8],
    mode: u16,
    rdev: u32,
    symlink: Option<&[u8]>,
) -> Result<NewInode> {
    if name.len() > NAME_MAX {
        return Err(enametoolong());
    }
    if let Some(t) = symlink {
        if t.len() > format::SYMLINK_MAX {
            return Err(enametoolong());
        }
    }
    let is_dir = mode & format::S_IFMT == format::S_IFDIR;
    if is_dir && dir.nlink() >= LINK_MAX {
        return Err(EMLINK);
    }
    let new = new_inode(dir, mode, rdev, if is_dir { 2 } else { 1 })?;
    let inode = new.inode();
    let r = (|| -> Result {
        if is_dir {
            add_entry(inode, b".", inode.ino(), format::ftype::DIR)?;
            add_entry(inode, b"..", dir.ino(), format::ftype::DIR)?;
        }
        if let Some(target) = symlink {
            inode.write_symlink(target)?;
        }
        add_entry(dir, name, inode.ino(), format::ftype_of_mode(inode.mode()))
    })();
    if let Err(e) = r {
        inode::discard_new(new);
        return Err(e);
    }
    if is_dir {
        dir.inc_nlink();
    }
    inode.mark_dirty();
    dir.mark_dirty();
    Ok(new)
}

/// `O_TMPFILE`: an inode with no name, on the orphan list from the start
/// (`d_tmpfile` drops its link count to 0).
pub(crate) fn tmpfile(dir: &Inode, mode: u16) -> Result<NewInode> {
    let new = new_inode(dir, mode, 0, 1)?;
    let inode = new.inode();
    let sb = dir.sb();
    let r = {
        let mut st = sb.info().alloc.lock();
        orphan::orphan_add(sb, &mut st, inode.ino())
    };
    if let Err(e) = r {
        inode::discard_new(new);
        return Err(e);
    }
    inode.mark_dirty();
    Ok(new)
}

/// `link`: a new name for `inode` in `dir`.
pub(crate) fn link(dir: &Inode, name: &[u8], inode: &Inode) -> Result {
    if inode.nlink() >= LINK_MAX {
        return Err(EMLINK);
    }
    add_entry(dir, name, inode.ino(), format::ftype_of_mode(inode.mode()))?;
    if inode.nlink() == 0 {
        // An O_TMPFILE inode being linked in: it is no longer an orphan.
        let sb = dir.sb();
        let mut st = sb.info().alloc.lock();
        orphan::orphan_remove(sb, &mut st, inode.ino())?;
    }
    inode.inc_nlink();
    inode.touch_ctime();
    // Logged now (`dirty_inode`), in the handle that took it off the
    // orphan list if it was on it.
    inode.mark_dirty();
    Ok(())
}

/// Drops one link of `inode`; at zero it goes on the orphan list, and the
/// last close (eviction) inactivates it.
fn drop_link(inode: &Inode) -> Result {
    inode.drop_nlink();
    if inode.mode() & format::S_IFMT == format::S_IFDIR {
        // A removed directory loses its "." link as well.
        inode.set_nlink(0);
    }
    inode.touch_ctime();
    inode.mark_dirty();
    if inode.nlink() == 0 {
        let sb = inode.sb();
        let gc = &sb.info().gc;
        let t = gc.profile_start();
        let mut st = sb.info().alloc.lock();
        gc.profile_end(super::gc::phase::ALLOC_WAIT, t);
        let r = orphan::orphan_add(sb, &mut st, inode.ino());
        drop(st);
        gc.profile_end(super::gc::phase::ORPHAN_ADD, t);
        r?;
    }
    Ok(())
}

/// `unlink`.
pub(crate) fn unlink(dir: &Inode, name: &[u8], inode: &Inode) -> Result {
    let gc = &dir.sb().info().gc;
    let t = gc.profile_start();
    let r = unlink_entry(dir, name, inode);
    gc.profile_end(super::gc::phase::UNLINK, t);
    r
}

fn unlink_entry(dir: &Inode, name: &[u8], inode: &Inode) -> Result {
    let pos = find_entry(dir, name)?.ok_or(ENOENT)?;
    if pos.ino != inode.ino() {
        return Err(dir
            .sb()
            .corrupt(c_str!("directory entry (stale)"), dir.ino() as u64));
    }
    remove_entry(dir, pos)?;
    drop_link(inode)
}

/// A directory that holds a subdirectory has at least three links (".",
/// its entry in its parent, the subdirectory's ".."). Fewer is corruption:
/// taking one away would leave it with one or none, and the VFS warns when
/// a link is added to an inode that has none.
fn check_parent_links(dir: &Inode) -> Result {
    if dir.nlink() < 3 {
        return Err(dir
            .sb()
            .corrupt(c_str!("directory link count"), dir.ino() as u64));
    }
    Ok(())
}

/// `rmdir`: only empty directories.
pub(crate) fn rmdir(dir: &Inode, name: &[u8], inode: &Inode) -> Result {
    if !is_empty(inode)? {
        return Err(enotempty());
    }
    check_parent_links(dir)?;
    unlink(dir, name, inode)?;
    dir.sb().info().dirs.forget(inode.ino());
    dir.drop_nlink();
    dir.mark_dirty();
    Ok(())
}

/// `rename`, including over an existing target (`RENAME_NOREPLACE` is
/// enforced by the VFS before we get here).
pub(crate) fn rename(
    old_dir: &Inode,
    old_name: &[u8],
    inode: &Inode,
    new_dir: &Inode,
    new_name: &[u8],
    target: Option<&Inode>,
) -> Result {
    let is_dir = inode.mode() & format::S_IFMT == format::S_IFDIR;
    let ftype = format::ftype_of_mode(inode.mode());
    let old_pos = find_entry(old_dir, old_name)?.ok_or(ENOENT)?;
    if is_dir && !core::ptr::eq(old_dir, new_dir) {
        check_parent_links(old_dir)?;
    }
    if let Some(t) = target {
        let t_dir = t.mode() & format::S_IFMT == format::S_IFDIR;
        if t_dir && !is_empty(t)? {
            return Err(enotempty());
        }
        if t_dir {
            check_parent_links(new_dir)?;
        }
        let new_pos = find_entry(new_dir, new_name)?.ok_or(ENOENT)?;
        retarget_entry(new_dir, new_pos, inode.ino(), ftype)?;
        drop_link(t)?;
        if t_dir {
            new_dir.drop_nlink();
        }
    } else {
        if is_dir && !core::ptr::eq(old_dir, new_dir) && new_dir.nlink() >= LINK_MAX {
            return Err(EMLINK);
        }
        add_entry(new_dir, new_name, inode.ino(), ftype)?;
    }
    // The old entry may have moved blocks? No: entries never move, and a
    // same-directory insert above used a free run, so `old_pos` is intact.
    remove_entry(old_dir, old_pos)?;
    if is_dir && !core::ptr::eq(old_dir, new_dir) {
        let dotdot = find_entry(inode, b"..")?.ok_or_else(|| {
            inode
                .sb()
                .corrupt(c_str!("directory (no ..)"), inode.ino() as u64)
        })?;
        retarget_entry(inode, dotdot, new_dir.ino(), format::ftype::DIR)?;
        old_dir.drop_nlink();
        new_dir.inc_nlink();
    }
    inode.touch_ctime();
    inode.mark_dirty();
    old_dir.mark_dirty();
    new_dir.mark_dirty();
    Ok(())
}
