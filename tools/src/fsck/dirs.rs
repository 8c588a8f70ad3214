// SPDX-License-Identifier: GPL-2.0

//! Pass 2: the directory tree.
//!
//! A breadth-first walk from the root. Each directory is visited once (a
//! second entry naming an already visited directory is a loop or an
//! illegal directory hard link, and is removed), so the walk ends after at
//! most one visit per directory. For every block of every directory: the
//! checksum, every slot well formed (malformed slots are cleared), `.` and
//! `..` present in the first block and right, no duplicate names, every
//! entry naming a live inode with the right file type. Entries are
//! counted: that is what pass 3 checks link counts against.

use super::{Checker, Result};
use crate::crc32c;
use crate::format::{
    dir_entries, dir_find_free, dir_insert, dir_remove, dir_set_ino, dirent_slots, ftype,
    ftype_of_mode, ino_is_valid, seal_block, verify_block, Block, BLOCK_SIZE,
    DIRENT_SLOTS_PER_BLOCK, DIRENT_SLOT_SIZE, S_IFDIR, S_IFMT,
};
use std::collections::{HashSet, VecDeque};

/// What to do with a directory entry.
enum Verdict {
    Keep,
    Remove,
    /// Repoint the entry (fix `.`/`..` or the file type).
    Set(u32, u8),
}

/// Per-directory state while its blocks are checked.
struct DirScan {
    dir: u32,
    parent: u32,
    names: HashSet<Vec<u8>>,
    dot: bool,
    dotdot: bool,
    subdirs: u32,
}

/// An entry name, printable.
fn show(name: &[u8]) -> String {
    name.escape_ascii().to_string()
}

/// Whether slot `slot` of a directory block holds any nonzero byte.
fn slot_in_use(b: &Block, slot: u32) -> bool {
    let off = slot as usize * DIRENT_SLOT_SIZE;
    b[off..off + DIRENT_SLOT_SIZE].iter().any(|&c| c != 0)
}

/// Zeroes slot `slot` (a free slot is all zeroes).
fn clear_slot(b: &mut Block, slot: u32) {
    let off = slot as usize * DIRENT_SLOT_SIZE;
    b[off..off + DIRENT_SLOT_SIZE].fill(0);
}

impl Checker<'_> {
    /// Pass 2: walks the tree from the root.
    pub(super) fn check_tree(&mut self) -> Result<()> {
        let root = self.sb.root_ino;
        if let Some(s) = self.inodes.get_mut(&root) {
            s.reachable = true;
        }
        let mut queue = VecDeque::from([(root, root)]);
        while let Some((dir, parent)) = queue.pop_front() {
            self.check_dir(dir, parent, &mut queue)?;
        }
        Ok(())
    }

    /// Checks directory `dir`, reached from `parent`, queueing the
    /// subdirectories seen for the first time.
    fn check_dir(&mut self, dir: u32, parent: u32, queue: &mut VecDeque<(u32, u32)>) -> Result<()> {
        let Some(size) = self.inodes.get(&dir).map(|s| s.inode.size) else {
            return Ok(());
        };
        let nblocks = size / BLOCK_SIZE as u64;
        let blocks: Vec<(u64, u32)> = self
            .mapped
            .get(&dir)
            .map(|d| d.iter().copied().filter(|&(n, _)| n < nblocks).collect())
            .unwrap_or_default();
        let mut scan = DirScan {
            dir,
            parent,
            names: HashSet::new(),
            dot: false,
            dotdot: false,
            subdirs: 0,
        };
        for &(n, block) in &blocks {
            self.check_dir_block(&mut scan, n, block, queue)?;
        }
        if let Some(&(0, first)) = blocks.first() {
            for (present, name, target) in [(scan.dot, ".", dir), (scan.dotdot, "..", parent)] {
                if !present {
                    self.error(format!("directory {dir} has no '{name}' entry"));
                    self.add_entry(first, dir, name.as_bytes(), target)?;
                }
            }
        }
        if let Some(s) = self.inodes.get_mut(&dir) {
            s.links = 2 + scan.subdirs;
        }
        Ok(())
    }

    /// Checks block `block` (file block `n`) of directory `scan.dir`:
    /// checksum, slots, and every entry.
    fn check_dir_block(
        &mut self,
        scan: &mut DirScan,
        n: u64,
        block: u32,
        queue: &mut VecDeque<(u32, u32)>,
    ) -> Result<()> {
        let dir = scan.dir;
        let mut b = self.io.read(block)?;
        let mut dirty = false;
        if verify_block(&b, crc32c).is_err() {
            self.error(format!("directory {dir} block {block} checksum mismatch"));
            dirty = true;
        }
        let mut slot = 0;
        while slot < DIRENT_SLOTS_PER_BLOCK {
            let entry = dir_entries(&b, slot)
                .next()
                .map(|r| r.map(|e| (e.slot, e.ino, e.ftype, e.name.to_vec())));
            match entry {
                None => break,
                // The first slot in use at or after `slot` is malformed
                // (those before it are free): clear slots one by one until
                // the entries parse again.
                Some(Err(_)) => {
                    if slot_in_use(&b, slot) {
                        self.error(format!(
                            "directory {dir} block {block} slot {slot} is malformed"
                        ));
                        clear_slot(&mut b, slot);
                        dirty = true;
                    }
                    slot += 1;
                }
                Some(Ok((at, ino, ftype, name))) => {
                    slot = at + dirent_slots(name.len());
                    match self.check_entry(scan, n, &name, ino, ftype, queue) {
                        Verdict::Keep => {}
                        Verdict::Remove => {
                            dir_remove(&mut b, at);
                            dirty = true;
                        }
                        Verdict::Set(ino, ftype) => {
                            dir_set_ino(&mut b, at, ino, ftype);
                            dirty = true;
                        }
                    }
                }
            }
        }
        if dirty {
            seal_block(&mut b, crc32c);
            self.io.write(block, b);
        }
        Ok(())
    }

    /// Inserts entry `name` -> `target` (a directory) into block `block`
    /// of directory `dir`.
    fn add_entry(&mut self, block: u32, dir: u32, name: &[u8], target: u32) -> Result<()> {
        let mut b = self.io.read(block)?;
        let slot = dir_find_free(&b, dirent_slots(name.len()));
        match slot {
            Some(slot) if dir_insert(&mut b, slot, target, ftype::DIR, name) => {
                seal_block(&mut b, crc32c);
                self.io.write(block, b);
            }
            _ => {
                let name = show(name);
                self.fatal(format!("directory {dir}: no room to recreate '{name}'"));
            }
        }
        Ok(())
    }

    /// Checks one entry of `scan.dir`, found in file block `n`.
    fn check_entry(
        &mut self,
        scan: &mut DirScan,
        n: u64,
        name: &[u8],
        ino: u32,
        ftype: u8,
        queue: &mut VecDeque<(u32, u32)>,
    ) -> Verdict {
        let dir = scan.dir;
        if name == b"." || name == b".." {
            let (seen, want) = if name == b"." {
                (&mut scan.dot, dir)
            } else {
                (&mut scan.dotdot, scan.parent)
            };
            let name = show(name);
            if n != 0 || *seen {
                self.error(format!("directory {dir} has a stray '{name}' entry"));
                return Verdict::Remove;
            }
            *seen = true;
            if ino != want {
                self.error(format!(
                    "directory {dir} '{name}' points to {ino}, expected {want}"
                ));
                return Verdict::Set(want, ftype::DIR);
            }
            if ftype != ftype::DIR {
                self.error(format!("directory {dir} '{name}' has file type {ftype}"));
                return Verdict::Set(want, ftype::DIR);
            }
            return Verdict::Keep;
        }

        let shown = show(name);
        let Some(target) = self.inodes.get_mut(&ino) else {
            let what = if ino_is_valid(ino, &self.geo) {
                "free"
            } else {
                "invalid"
            };
            self.error(format!(
                "directory inode {dir} entry '{shown}' points to {what} inode {ino}"
            ));
            return Verdict::Remove;
        };
        let mode = target.inode.mode;
        let is_dir = mode & S_IFMT == S_IFDIR;
        if is_dir && target.reachable {
            self.error(format!(
                "directory {ino} reachable twice (loop), entry '{shown}' in directory {dir}"
            ));
            return Verdict::Remove;
        }
        if !scan.names.insert(name.to_vec()) {
            self.error(format!("directory {dir} has duplicate entry '{shown}'"));
            return Verdict::Remove;
        }
        let target = self.inodes.get_mut(&ino);
        if let Some(target) = target {
            target.reachable = true;
            if is_dir {
                scan.subdirs += 1;
                queue.push_back((ino, dir));
            } else {
                target.links = target.links.saturating_add(1);
            }
        }
        let want = ftype_of_mode(mode);
        if ftype != want {
            self.error(format!(
                "directory {dir} entry '{shown}' has file type {ftype}, inode {ino} is type {want}"
            ));
            return Verdict::Set(ino, want);
        }
        Verdict::Keep
    }
}
