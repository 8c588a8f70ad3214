// SPDX-License-Identifier: GPL-2.0

//! Pass 1: inode clusters, inodes and block maps.
//!
//! Every block the cluster map names is read as a cluster and every slot
//! decoded; a slot that fails its checksum or holds impossible values is
//! cleared. Then each inode's block tree is walked and every block in it
//! *claimed*: a pointer outside the data area, or to a block something
//! else already owns, is cut (the first owner in inode order keeps the
//! block). Since a block can be claimed only once, no walk can loop.
//! Finally the type-specific rules: `blocks` matches what was counted,
//! devices/FIFOs/sockets map nothing, directories have a first block and
//! a whole number of blocks, symlinks hold a valid target.

use super::{type_name, Checker, InodeState, Result, OWNER_CLUSTER, OWNER_FREE, OWNER_METADATA};
use crate::crc32c;
use crate::format::{
    dir_entries, indirect_get, indirect_set, make_ino, mode_has_blocks, seal_block, verify_block,
    FormatError, Inode, BLOCK_SIZE, DIRECT_BLOCKS, INODES_PER_CLUSTER, NULL, PTRS_PER_BLOCK,
    SYMLINK_MAX, S_IFDIR, S_IFLNK, S_IFMT,
};

/// The state of one inode's block-tree walk.
struct Walk {
    ino: u32,
    /// Blocks claimed (data and indirect).
    counted: u64,
    /// Data blocks as `(file block, block)`, if recording.
    data: Option<Vec<(u64, u32)>>,
    /// A pointer was cut: `blocks` is corrected without a separate report.
    cut: bool,
}

/// Names a block at `level` of a block tree (0: data, 1-3: indirect)
/// whose range starts at file block `first`, for messages:
/// `file block 3 at block 700`, `double indirect block 512 (file blocks
/// from 1031)`.
fn describe(level: u32, block: u32, first: u64) -> String {
    let kind = match level {
        0 => return format!("file block {first} at block {block}"),
        1 => "indirect",
        2 => "double indirect",
        _ => "triple indirect",
    };
    format!("{kind} block {block} (file blocks from {first})")
}

impl Checker<'_> {
    /// Pass 1. Sets `root_ok` to false if the root directory is unusable.
    pub(super) fn check_inodes(&mut self) -> Result<()> {
        self.load_clusters()?;
        let root = self.sb.root_ino;
        let inos: Vec<u32> = self.inodes.keys().copied().collect();
        for ino in inos {
            self.check_inode(ino)?;
        }
        match self.inodes.get(&root) {
            Some(s) if s.inode.mode & S_IFMT == S_IFDIR => {}
            Some(s) => {
                let t = type_name(s.inode.mode);
                self.fatal(format!("root inode {root} is a {t}, not a directory"));
                self.root_ok = false;
            }
            None if self.root_ok => {
                self.fatal(format!("root inode {root} is not allocated"));
                self.root_ok = false;
            }
            None => {}
        }
        Ok(())
    }

    /// Reads every cluster the cluster map names and decodes its inodes.
    fn load_clusters(&mut self) -> Result<()> {
        let root = self.sb.root_ino;
        for c in self.geo.data_start as u64..self.blocks {
            if !self.disk_clusters.get(c) {
                continue;
            }
            let c = c as u32;
            self.set_owner(c, OWNER_CLUSTER);
            self.clusters.insert(c);
            let block = self.io.read(c)?;
            for slot in 0..INODES_PER_CLUSTER {
                let ino = make_ino(c, slot);
                let problem = match Inode::decode_loose(&block, ino, &self.geo, crc32c) {
                    Ok(None) => continue,
                    Ok(Some(inode)) => {
                        self.inodes.insert(ino, InodeState::new(inode));
                        continue;
                    }
                    Err(FormatError::BadChecksum) => "checksum mismatch",
                    Err(_) => "has invalid field values",
                };
                if ino == root {
                    self.fatal(format!("root inode {ino} {problem}"));
                    self.root_ok = false;
                } else {
                    self.error(format!("inode {ino} {problem}"));
                    self.cleared.insert(ino);
                }
            }
        }
        Ok(())
    }

    /// Checks one inode and claims its blocks.
    fn check_inode(&mut self, ino: u32) -> Result<()> {
        let Some(mut inode) = self.inodes.get(&ino).map(|s| s.inode) else {
            return Ok(());
        };
        let kind = inode.mode & S_IFMT;

        if !mode_has_blocks(inode.mode) {
            // Format::decode already insists on size 0 and blocks 0.
            let tree = [inode.indirect, inode.dindirect, inode.tindirect];
            if inode.direct.iter().chain(&tree).any(|&p| p != NULL) {
                let t = type_name(inode.mode);
                self.error(format!("inode {ino} ({t}) has block pointers"));
                inode.direct = [NULL; DIRECT_BLOCKS];
                inode.indirect = NULL;
                inode.dindirect = NULL;
                inode.tindirect = NULL;
            }
        } else {
            let record = kind == S_IFDIR || kind == S_IFLNK;
            let mut walk = Walk {
                ino,
                counted: 0,
                data: record.then(Vec::new),
                cut: false,
            };
            let p = PTRS_PER_BLOCK;
            for i in 0..DIRECT_BLOCKS {
                self.claim(&mut walk, &mut inode.direct[i], 0, i as u64)?;
            }
            let first = DIRECT_BLOCKS as u64;
            self.claim(&mut walk, &mut inode.indirect, 1, first)?;
            self.claim(&mut walk, &mut inode.dindirect, 2, first + p)?;
            self.claim(&mut walk, &mut inode.tindirect, 3, first + p + p * p)?;
            if walk.counted != inode.blocks as u64 {
                if !walk.cut {
                    let b = inode.blocks;
                    self.error(format!("inode {ino} blocks {b}, counted {}", walk.counted));
                }
                inode.blocks = walk.counted as u32;
            }
            if let Some(data) = walk.data {
                self.mapped.insert(ino, data);
            }
        }
        if let Some(s) = self.inodes.get_mut(&ino) {
            if s.inode != inode {
                s.inode = inode;
                s.dirty = true;
            }
        }
        match kind {
            S_IFDIR => self.check_dir_shape(ino)?,
            S_IFLNK => self.check_symlink(ino)?,
            _ => {}
        }
        Ok(())
    }

    /// Claims block `*ptr` (and, for an indirect block of `level` >= 1,
    /// the tree below it) for `walk.ino`. `first` is the first file block
    /// the pointer covers. Cuts the pointer (sets it to 0) if it cannot be
    /// claimed.
    fn claim(&mut self, walk: &mut Walk, ptr: &mut u32, level: u32, first: u64) -> Result<()> {
        let p = *ptr;
        if p == NULL {
            return Ok(());
        }
        let ino = walk.ino;
        if !self.in_data_area(p) {
            let what = describe(level, p, first);
            self.error(format!("inode {ino} {what} is outside the data area"));
            *ptr = NULL;
            walk.cut = true;
            return Ok(());
        }
        match self.owner_of(p) {
            OWNER_FREE => self.set_owner(p, ino),
            other => {
                self.error(match other {
                    OWNER_CLUSTER => format!("block {p} used by an inode cluster and inode {ino}"),
                    OWNER_METADATA => format!("block {p} is metadata but used by inode {ino}"),
                    o if o == ino => format!("block {p} used twice by inode {ino}"),
                    o => format!("block {p} used by inodes {o} and {ino}"),
                });
                *ptr = NULL;
                walk.cut = true;
                return Ok(());
            }
        }
        walk.counted += 1;
        if level == 0 {
            if let Some(data) = walk.data.as_mut() {
                data.push((first, p));
            }
            return Ok(());
        }

        let mut b = self.io.read(p)?;
        let mut dirty = false;
        if verify_block(&b, crc32c).is_err() {
            let what = describe(level, p, first);
            let garbage = (0..PTRS_PER_BLOCK as u32).any(|i| {
                let q = indirect_get(&b, i);
                q != NULL && !self.in_data_area(q)
            });
            if garbage {
                // Not an indirect block any more: drop it and what it mapped.
                self.error(format!(
                    "inode {ino} {what} has a bad checksum and bad pointers"
                ));
                self.set_owner(p, OWNER_FREE);
                walk.counted -= 1;
                *ptr = NULL;
                walk.cut = true;
                return Ok(());
            }
            // Plausible contents: keep them and reseal.
            self.error(format!("inode {ino} {what} checksum mismatch"));
            dirty = true;
        }
        let span = PTRS_PER_BLOCK.pow(level - 1);
        for i in 0..PTRS_PER_BLOCK as u32 {
            let mut q = indirect_get(&b, i);
            if q == NULL {
                continue;
            }
            let before = q;
            self.claim(walk, &mut q, level - 1, first + i as u64 * span)?;
            if q != before {
                indirect_set(&mut b, i, q);
                dirty = true;
            }
        }
        if dirty {
            seal_block(&mut b, crc32c);
            self.io.write(p, b);
        }
        Ok(())
    }

    /// Drops inode `ino` (repair): its slot is cleared and its blocks go
    /// back to free space at the end of the check.
    pub(super) fn release_inode(&mut self, ino: u32) {
        self.inodes.remove(&ino);
        self.mapped.remove(&ino);
        self.freed.insert(ino);
        self.cleared.insert(ino);
    }

    /// A directory has a whole number of blocks, its first block (with
    /// `.` and `..`) exists, and no block past its size holds entries
    /// (blocks past the size are otherwise left alone: preallocation).
    fn check_dir_shape(&mut self, ino: u32) -> Result<()> {
        let mapped = self.mapped.get(&ino).cloned().unwrap_or_default();
        if mapped.first().is_none_or(|&(n, _)| n != 0) {
            if ino == self.sb.root_ino {
                self.fatal(format!("root directory {ino} has no first block"));
                self.root_ok = false;
            } else {
                self.error(format!("directory {ino} has no first block"));
                self.release_inode(ino);
            }
            return Ok(());
        }
        let Some(size) = self.inodes.get(&ino).map(|s| s.inode.size) else {
            return Ok(());
        };
        let bs = BLOCK_SIZE as u64;
        let mut new_size = size;
        if size == 0 || size % bs != 0 {
            self.error(format!(
                "directory {ino} size {size} is not a whole number of blocks"
            ));
            new_size = size.div_ceil(bs).max(1) * bs;
        }
        let mut last_used = None;
        for &(n, block) in mapped.iter().filter(|&&(n, _)| n >= new_size / bs) {
            let b = self.io.read(block)?;
            if verify_block(&b, crc32c).is_ok() && matches!(dir_entries(&b, 0).next(), Some(Ok(_)))
            {
                last_used = Some(n);
            }
        }
        if let Some(n) = last_used {
            self.error(format!(
                "directory {ino} size {size} leaves out block {n}, which holds entries"
            ));
            new_size = (n + 1) * bs;
        }
        if let Some(s) = self.inodes.get_mut(&ino) {
            if s.inode.size != new_size {
                s.inode.size = new_size;
                s.dirty = true;
            }
        }
        Ok(())
    }

    /// A symlink's target is 1..=SYMLINK_MAX bytes, without NUL, in its
    /// first block. Anything else cannot be repaired: the inode goes.
    fn check_symlink(&mut self, ino: u32) -> Result<()> {
        let Some(s) = self.inodes.get(&ino) else {
            return Ok(());
        };
        let size = s.inode.size;
        let first = self.mapped.get(&ino).and_then(|d| d.first().copied());
        let problem = match first {
            _ if size == 0 || size > SYMLINK_MAX as u64 => Some(format!("has size {size}")),
            Some((0, block)) => {
                let b = self.io.read(block)?;
                b[..size as usize]
                    .contains(&0)
                    .then(|| "target contains a NUL byte".to_string())
            }
            _ => Some("has no target block".to_string()),
        };
        if let Some(problem) = problem {
            self.error(format!("symlink {ino} {problem}"));
            self.release_inode(ino);
        }
        Ok(())
    }
}
