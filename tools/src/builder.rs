// SPDX-License-Identifier: GPL-2.0

//! A small userspace dinofs builder: `mkfs`, and enough of the namespace
//! operations (mkdir, create, symlink, mknod, link, unlink) to build test
//! images without a kernel.
//!
//! It is deliberately simple: the block bitmap and the list of inode
//! clusters live in memory, everything else (inodes, directory and
//! indirect blocks, file data) is read and written through the [`Device`]
//! as it changes, and [`Builder::finish`] writes the bitmaps and the
//! superblock last. Allocation is next-fit from the start of the data
//! area, so a fresh image's layout is predictable:
//!
//! ```text
//! data_start      root inode cluster (root = make_ino(data_start, 0))
//! data_start + 1  root directory block ("." and "..")
//! data_start + 2  whatever is created next
//! ```

use crate::bits::{self, Bits};
use crate::crc32c;
use crate::device::{zero_block, Device};
use crate::error::{Error, Result};
use crate::format::{
    self, block_path, dir_entries, dir_find_free, dir_insert, dir_remove, dirent_slots, ftype,
    ftype_of_mode, indirect_get, indirect_set, ino_cluster, make_ino, mode_has_blocks,
    mode_is_valid, seal_block, verify_block, Block, BlockPath, Geometry, Inode, Superblock,
    Timestamp, BLOCK_SIZE, INODES_PER_CLUSTER, NAME_MAX, NULL, PTRS_PER_BLOCK, STATE_CLEAN,
    SYMLINK_MAX, S_IFDIR, S_IFLNK, S_IFMT, S_IFREG,
};
use crate::journal::JournalSuperblock;
use std::collections::BTreeMap;
use std::io::{self, Read};
use std::time::{SystemTime, UNIX_EPOCH};

/// What `mkfs` needs to know.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MkfsOptions {
    /// Filesystem size in blocks ([`format::MIN_BLOCKS`] ..= [`format::MAX_BLOCKS`]).
    pub blocks: u64,
    /// Volume label, NUL-padded.
    pub label: [u8; 32],
    /// Filesystem UUID.
    pub uuid: [u8; 16],
    /// Creation time: `mkfs_time` and the root directory's timestamps.
    pub time: Timestamp,
    /// Journal size in blocks, or `None` for the default
    /// ([`format::default_journal_blocks`]).
    pub journal_blocks: Option<u32>,
    /// The journal's first transaction id (non-zero; random by default).
    pub journal_sequence: u32,
}

impl MkfsOptions {
    /// Options for a filesystem of `blocks` blocks, created now, with no
    /// label and a random UUID.
    pub fn new(blocks: u64) -> io::Result<Self> {
        Ok(Self {
            blocks,
            label: [0; 32],
            uuid: random_uuid()?,
            time: now(),
            journal_blocks: None,
            journal_sequence: random_u32()?.max(1),
        })
    }

    /// The journal size these options give.
    pub fn journal_blocks(&self) -> u32 {
        self.journal_blocks
            .unwrap_or_else(|| format::default_journal_blocks(self.blocks))
    }
}

/// A random `u32` from `/dev/urandom`.
pub fn random_u32() -> io::Result<u32> {
    let mut b = [0u8; 4];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut b)?;
    Ok(u32::from_le_bytes(b))
}

/// The current time as an on-disk timestamp.
pub fn now() -> Timestamp {
    match SystemTime::now().duration_since(UNIX_EPOCH) {
        Ok(d) => Timestamp {
            sec: d.as_secs() as i64,
            nsec: d.subsec_nanos(),
        },
        Err(_) => Timestamp::default(),
    }
}

/// A random (version 4) UUID from `/dev/urandom`.
pub fn random_uuid() -> io::Result<[u8; 16]> {
    let mut uuid = [0u8; 16];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut uuid)?;
    uuid[6] = (uuid[6] & 0x0f) | 0x40; // version 4
    uuid[8] = (uuid[8] & 0x3f) | 0x80; // RFC 4122 variant
    Ok(uuid)
}

/// Formats a UUID the usual way (`8-4-4-4-12` hex digits).
pub fn format_uuid(uuid: &[u8; 16]) -> String {
    let hex: String = uuid.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

/// Where file block `n` is mapped: [`block_path`] as a direct slot, or
/// the indirect tree with `levels` levels (1-3) and the pointer index at
/// each level.
enum Route {
    Direct(usize),
    Tree(usize, [u32; 3]),
}

fn route(n: u64) -> Result<Route> {
    Ok(
        match block_path(n).ok_or(Error::Invalid("file offset too large"))? {
            BlockPath::Direct(i) => Route::Direct(i),
            BlockPath::Indirect(a) => Route::Tree(1, [a, 0, 0]),
            BlockPath::DoubleIndirect(a, b) => Route::Tree(2, [a, b, 0]),
            BlockPath::TripleIndirect(a, b, c) => Route::Tree(3, [a, b, c]),
        },
    )
}

/// The root of the indirect tree with `levels` levels (1-3) in `inode`.
fn tree_root(inode: &Inode, levels: usize) -> u32 {
    match levels {
        1 => inode.indirect,
        2 => inode.dindirect,
        _ => inode.tindirect,
    }
}

/// Sets the root of the indirect tree with `levels` levels (1-3).
fn set_tree_root(inode: &mut Inode, levels: usize, ptr: u32) {
    match levels {
        1 => inode.indirect = ptr,
        2 => inode.dindirect = ptr,
        _ => inode.tindirect = ptr,
    }
}

/// Writes an empty jbd2 journal over the region of `geo`: the log zeroed
/// (no stale block can look like a transaction to a replay), then the
/// journal superblock ([`JournalSuperblock::new`]).
fn write_journal(dev: &Device, geo: &Geometry, opts: &MkfsOptions) -> Result<()> {
    let zero = zero_block();
    for b in geo.journal_start as u64 + 1..geo.journal_start as u64 + geo.journal_blocks as u64 {
        dev.write_block(b, &zero)?;
    }
    let mut b = zero_block();
    JournalSuperblock::new(geo, opts.uuid, opts.journal_sequence).encode(&mut b, crc32c);
    dev.write_block(geo.journal_start as u64, &b)?;
    Ok(())
}

/// Creates an empty filesystem on `dev`: see [`Builder::format`].
pub fn mkfs(dev: Device, opts: &MkfsOptions) -> Result<Superblock> {
    Builder::format(dev, opts)?.finish()
}

/// A filesystem being built or modified. See the module documentation.
#[derive(Debug)]
pub struct Builder {
    dev: Device,
    sb: Superblock,
    geo: Geometry,
    /// The block bitmap.
    used: Bits,
    /// Inode cluster blocks, with their number of free slots.
    clusters: BTreeMap<u32, u32>,
    /// Where the next block search starts (next-fit).
    cursor: u64,
    /// Timestamp given to new and changed inodes.
    time: Timestamp,
}

impl Builder {
    /// Formats `dev` as an empty filesystem of `opts.blocks` blocks: the
    /// superblock, both bitmaps and the root directory. Nothing reaches
    /// the disk as a valid filesystem until [`finish`](Self::finish).
    pub fn format(dev: Device, opts: &MkfsOptions) -> Result<Self> {
        let geo = Geometry::new(opts.blocks, opts.journal_blocks())
            .ok_or(Error::Invalid("filesystem or journal size"))?;
        if dev.blocks() < opts.blocks {
            return Err(Error::Invalid("device is smaller than the filesystem"));
        }
        // Invalidate any previous superblock first: if mkfs is interrupted,
        // the device must not look like a (broken) filesystem.
        dev.write_block(0, &zero_block())?;
        write_journal(&dev, &geo, opts)?;

        let mut used = Bits::new(opts.blocks);
        for b in 0..geo.data_start as u64 {
            used.set(b, true);
        }
        let sb = Superblock {
            blocks: opts.blocks,
            free_blocks: opts.blocks - geo.data_start as u64,
            bitmap_start: geo.bitmap_start,
            bitmap_blocks: geo.bitmap_blocks,
            clustermap_start: geo.clustermap_start,
            root_ino: NULL,
            orphan_head: NULL,
            clusters: 0,
            free_inodes: 0,
            state: STATE_CLEAN,
            // The root directory gets generation 0, and the counter is 1.
            next_generation: 0,
            mkfs_time: opts.time.sec,
            uuid: opts.uuid,
            label: opts.label,
            journal_start: geo.journal_start,
            journal_blocks: geo.journal_blocks,
        };
        let mut builder = Self {
            dev,
            sb,
            geo,
            used,
            clusters: BTreeMap::new(),
            cursor: geo.data_start as u64,
            time: opts.time,
        };
        let root = builder.new_dir(None, 0o755)?;
        builder.sb.root_ino = root;
        Ok(builder)
    }

    /// Opens an existing, consistent filesystem to add to it.
    pub fn open(dev: Device) -> Result<Self> {
        let mut sb = Superblock::decode(&*dev.read_block(0)?, crc32c)?;
        let geo = sb
            .geometry()
            .ok_or(Error::Format(format::FormatError::BadValue))?;
        if dev.blocks() < sb.blocks {
            return Err(Error::Invalid("device is smaller than the filesystem"));
        }
        let mut used = Bits::new(sb.blocks);
        let mut cluster_bits = Bits::new(sb.blocks);
        for i in 0..geo.bitmap_blocks {
            let b = dev.read_block((geo.bitmap_start + i) as u64)?;
            verify_block(&b, crc32c)?;
            bits::decode_bitmap_block(&mut used, i, &b);
            let b = dev.read_block((geo.clustermap_start + i) as u64)?;
            verify_block(&b, crc32c)?;
            bits::decode_bitmap_block(&mut cluster_bits, i, &b);
        }
        let mut clusters = BTreeMap::new();
        for c in (geo.data_start as u64..sb.blocks).filter(|&c| cluster_bits.get(c)) {
            let block = dev.read_block(c)?;
            let free = (0..INODES_PER_CLUSTER)
                .filter(|&s| {
                    matches!(
                        Inode::decode(&block, make_ino(c as u32, s), &geo, crc32c),
                        Ok(None)
                    )
                })
                .count();
            clusters.insert(c as u32, free as u32);
        }
        // Recount rather than trust the counters, so that allocation
        // bookkeeping cannot underflow on a slightly inconsistent image.
        sb.free_blocks = sb.blocks - used.count_ones();
        sb.clusters = clusters.len() as u32;
        sb.free_inodes = clusters.values().sum();
        Ok(Self {
            dev,
            sb,
            geo,
            used,
            clusters,
            cursor: geo.data_start as u64,
            time: now(),
        })
    }

    /// Writes the bitmaps and then the superblock (marked clean), and
    /// syncs. Returns the final superblock.
    pub fn finish(self) -> Result<Superblock> {
        let mut cluster_bits = Bits::new(self.sb.blocks);
        for &c in self.clusters.keys() {
            cluster_bits.set(c as u64, true);
        }
        for i in 0..self.geo.bitmap_blocks {
            let b = bits::encode_bitmap_block(&self.used, i);
            self.dev
                .write_block((self.geo.bitmap_start + i) as u64, &b)?;
            let b = bits::encode_bitmap_block(&cluster_bits, i);
            self.dev
                .write_block((self.geo.clustermap_start + i) as u64, &b)?;
        }
        self.dev.sync()?;
        let mut sb = self.sb;
        sb.state = STATE_CLEAN;
        let mut b = zero_block();
        sb.encode(&mut b, crc32c);
        self.dev.write_block(0, &b)?;
        self.dev.sync()?;
        Ok(sb)
    }

    /// The superblock as it will be written (counters are kept current).
    pub fn superblock(&self) -> &Superblock {
        &self.sb
    }

    /// The layout.
    pub fn geometry(&self) -> &Geometry {
        &self.geo
    }

    /// The root directory's inode number.
    pub fn root(&self) -> u32 {
        self.sb.root_ino
    }

    /// The device being written.
    pub fn device(&self) -> &Device {
        &self.dev
    }

    /// Sets the timestamp given to inodes created or changed from now on.
    pub fn set_time(&mut self, time: Timestamp) {
        self.time = time;
    }

    // -- blocks ------------------------------------------------------------

    fn read(&self, block: u32) -> Result<Box<Block>> {
        Ok(self.dev.read_block(block as u64)?)
    }

    fn write(&self, block: u32, b: &Block) -> Result<()> {
        Ok(self.dev.write_block(block as u64, b)?)
    }

    /// Allocates a block (next-fit). Its contents are the caller's to write.
    fn alloc_block(&mut self) -> Result<u32> {
        let b = self.used.find_clear(self.cursor).ok_or(Error::NoSpace)?;
        self.used.set(b, true);
        self.sb.free_blocks -= 1;
        self.cursor = b + 1;
        Ok(b as u32)
    }

    fn free_block(&mut self, b: u32) {
        if b >= self.geo.data_start && self.used.get(b as u64) {
            self.used.set(b as u64, false);
            self.sb.free_blocks += 1;
        }
    }

    /// Allocates an empty, sealed indirect block.
    fn new_indirect(&mut self) -> Result<u32> {
        let b = self.alloc_block()?;
        let mut blk = zero_block();
        seal_block(&mut blk, crc32c);
        self.write(b, &blk)?;
        Ok(b)
    }

    // -- inodes ------------------------------------------------------------

    /// Reads inode `ino`; a free slot is [`Error::NotFound`].
    pub fn read_inode(&self, ino: u32) -> Result<Inode> {
        if !format::ino_is_valid(ino, &self.geo) {
            return Err(Error::NotFound);
        }
        let cluster = self.read(ino_cluster(ino))?;
        Inode::decode(&cluster, ino, &self.geo, crc32c)?.ok_or(Error::NotFound)
    }

    /// Writes inode `ino` into its slot (read-modify-write of the cluster).
    pub fn write_inode(&self, ino: u32, inode: &Inode) -> Result<()> {
        let c = ino_cluster(ino);
        let mut cluster = self.read(c)?;
        inode.encode(&mut cluster, ino, crc32c);
        self.write(c, &cluster)
    }

    /// A new in-memory inode of `mode` with one link, stamped now.
    fn new_inode(&self, mode: u16) -> Inode {
        Inode {
            mode,
            nlink: 1,
            atime: self.time,
            mtime: self.time,
            ctime: self.time,
            ..Default::default()
        }
    }

    /// Finds a free inode slot (allocating a cluster if none is left),
    /// gives `inode` the next generation number and writes it there.
    fn alloc_inode(&mut self, inode: &mut Inode) -> Result<u32> {
        let cluster = match self.clusters.iter().find(|&(_, &free)| free > 0) {
            Some((&c, _)) => c,
            None => {
                let c = self.alloc_block()?;
                self.write(c, &zero_block())?;
                self.clusters.insert(c, INODES_PER_CLUSTER);
                self.sb.clusters += 1;
                self.sb.free_inodes += INODES_PER_CLUSTER;
                c
            }
        };
        let mut block = self.read(cluster)?;
        let geo = self.geo;
        let slot = (0..INODES_PER_CLUSTER)
            .find(|&s| {
                matches!(
                    Inode::decode(&block, make_ino(cluster, s), &geo, crc32c),
                    Ok(None)
                )
            })
            .ok_or(Error::Format(format::FormatError::BadValue))?;
        let ino = make_ino(cluster, slot);
        inode.generation = self.sb.next_generation;
        self.sb.next_generation = self.sb.next_generation.wrapping_add(1);
        inode.encode(&mut block, ino, crc32c);
        self.write(cluster, &block)?;
        if let Some(free) = self.clusters.get_mut(&cluster) {
            *free -= 1;
        }
        self.sb.free_inodes -= 1;
        Ok(ino)
    }

    /// Releases inode `ino` and everything it owns; a cluster left empty
    /// goes back to free space.
    fn free_inode(&mut self, ino: u32) -> Result<()> {
        let inode = self.read_inode(ino)?;
        for &p in &inode.direct {
            self.free_tree(p, 0)?;
        }
        self.free_tree(inode.indirect, 1)?;
        self.free_tree(inode.dindirect, 2)?;
        self.free_tree(inode.tindirect, 3)?;

        let c = ino_cluster(ino);
        let mut cluster = self.read(c)?;
        Inode::clear(&mut cluster, ino);
        self.write(c, &cluster)?;
        self.sb.free_inodes += 1;
        let free = self.clusters.get(&c).map_or(0, |f| f + 1);
        if free == INODES_PER_CLUSTER {
            self.clusters.remove(&c);
            self.sb.clusters -= 1;
            self.sb.free_inodes -= INODES_PER_CLUSTER;
            self.free_block(c);
        } else {
            self.clusters.insert(c, free);
        }
        Ok(())
    }

    /// Frees block `ptr` and, for an indirect block of `level` >= 1,
    /// everything below it.
    fn free_tree(&mut self, ptr: u32, level: u32) -> Result<()> {
        if ptr == NULL {
            return Ok(());
        }
        if level > 0 {
            let b = self.read(ptr)?;
            for i in 0..PTRS_PER_BLOCK as u32 {
                self.free_tree(indirect_get(&b, i), level - 1)?;
            }
        }
        self.free_block(ptr);
        Ok(())
    }

    // -- block map ---------------------------------------------------------

    /// The block holding file block `n` of `inode`, or [`NULL`] for a hole.
    pub fn bmap(&self, inode: &Inode, n: u64) -> Result<u32> {
        let (levels, idx) = match route(n)? {
            Route::Direct(i) => return Ok(inode.direct[i]),
            Route::Tree(levels, idx) => (levels, idx),
        };
        let mut ptr = tree_root(inode, levels);
        for &i in &idx[..levels] {
            if ptr == NULL {
                break;
            }
            let b = self.read(ptr)?;
            verify_block(&b, crc32c)?;
            ptr = indirect_get(&b, i);
        }
        Ok(ptr)
    }

    /// Maps file block `n` (currently a hole) of `inode` to `block`,
    /// allocating indirect blocks on the way. Counts every block in
    /// `inode.blocks` as it is linked in, so the inode stays consistent
    /// if allocation fails halfway; the caller writes the inode.
    fn map_block(&mut self, inode: &mut Inode, n: u64, block: u32) -> Result<()> {
        let (levels, idx) = match route(n)? {
            Route::Direct(i) => {
                inode.direct[i] = block;
                inode.blocks += 1;
                return Ok(());
            }
            Route::Tree(levels, idx) => (levels, idx),
        };
        let mut ptr = tree_root(inode, levels);
        if ptr == NULL {
            ptr = self.new_indirect()?;
            set_tree_root(inode, levels, ptr);
            inode.blocks += 1;
        }
        for (depth, &i) in idx[..levels].iter().enumerate() {
            let mut b = self.read(ptr)?;
            let old = indirect_get(&b, i);
            let next = if depth + 1 == levels {
                block
            } else if old == NULL {
                let new = self.new_indirect()?;
                inode.blocks += 1;
                new
            } else {
                old
            };
            if next != old {
                indirect_set(&mut b, i, next);
                seal_block(&mut b, crc32c);
                self.write(ptr, &b)?;
            }
            ptr = next;
        }
        inode.blocks += 1;
        Ok(())
    }

    // -- file data ---------------------------------------------------------

    /// Writes `data` at byte `offset` of regular file (or symlink) `ino`,
    /// extending its size as needed. Whole blocks of zeroes that are not
    /// yet mapped stay holes, so sparse files stay sparse. If space runs
    /// out, what was written so far is kept (and consistent).
    pub fn write_at(&mut self, ino: u32, offset: u64, data: &[u8]) -> Result<()> {
        let mut inode = self.read_inode(ino)?;
        if !mode_has_blocks(inode.mode) {
            return Err(Error::Invalid("inode type has no data"));
        }
        let end = offset
            .checked_add(data.len() as u64)
            .ok_or(Error::Invalid("offset"))?;
        if end > format::MAX_FILE_SIZE {
            return Err(Error::Invalid("file too large"));
        }
        let mut reached = offset;
        let result = self.write_range(&mut inode, offset, data, &mut reached);
        if reached > offset {
            inode.size = inode.size.max(reached);
            inode.mtime = self.time;
            inode.ctime = self.time;
        }
        self.write_inode(ino, &inode)?;
        result
    }

    /// The loop of [`write_at`](Self::write_at); `reached` follows the end
    /// of what has been written.
    fn write_range(
        &mut self,
        inode: &mut Inode,
        offset: u64,
        data: &[u8],
        reached: &mut u64,
    ) -> Result<()> {
        let bs = BLOCK_SIZE as u64;
        let end = offset + data.len() as u64;
        while *reached < end {
            let pos = *reached;
            let n = pos / bs;
            let start = (pos % bs) as usize;
            let len = (bs - start as u64).min(end - pos) as usize;
            let chunk = &data[(pos - offset) as usize..][..len];
            let mapped = self.bmap(inode, n)?;
            if mapped != NULL {
                let mut b = self.read(mapped)?;
                b[start..start + len].copy_from_slice(chunk);
                self.write(mapped, &b)?;
            } else if chunk.iter().any(|&c| c != 0) {
                let block = self.alloc_block()?;
                let mut b = zero_block();
                b[start..start + len].copy_from_slice(chunk);
                self.write(block, &b)?;
                if let Err(e) = self.map_block(inode, n, block) {
                    self.free_block(block);
                    return Err(e);
                }
            }
            *reached = pos + len as u64;
        }
        Ok(())
    }

    /// Reads the whole contents of `ino` (holes read as zeroes).
    pub fn read_data(&self, ino: u32) -> Result<Vec<u8>> {
        let inode = self.read_inode(ino)?;
        let size = usize::try_from(inode.size).map_err(|_| Error::Invalid("file too large"))?;
        let mut out = vec![0u8; size];
        for (n, chunk) in out.chunks_mut(BLOCK_SIZE).enumerate() {
            let b = self.bmap(&inode, n as u64)?;
            if b != NULL {
                let blk = self.read(b)?;
                chunk.copy_from_slice(&blk[..chunk.len()]);
            }
        }
        Ok(out)
    }

    // -- directories -------------------------------------------------------

    fn read_dir_inode(&self, dir: u32) -> Result<Inode> {
        let inode = self.read_inode(dir)?;
        if inode.mode & S_IFMT != S_IFDIR {
            return Err(Error::NotDir);
        }
        Ok(inode)
    }

    /// Finds `name` in directory `dir`: `(block, slot, ino)`.
    fn find_entry(&self, dir: u32, name: &[u8]) -> Result<Option<(u32, u32, u32)>> {
        let inode = self.read_dir_inode(dir)?;
        for n in 0..inode.size / BLOCK_SIZE as u64 {
            let block = self.bmap(&inode, n)?;
            if block == NULL {
                continue;
            }
            let b = self.read(block)?;
            verify_block(&b, crc32c)?;
            for entry in dir_entries(&b, 0) {
                let entry = entry?;
                if entry.name == name {
                    return Ok(Some((block, entry.slot, entry.ino)));
                }
            }
        }
        Ok(None)
    }

    /// The inode `name` in directory `dir` names, if any.
    pub fn lookup(&self, dir: u32, name: impl AsRef<[u8]>) -> Result<Option<u32>> {
        Ok(self.find_entry(dir, name.as_ref())?.map(|(_, _, ino)| ino))
    }

    /// Fails unless `name` is a valid new name in directory `dir`.
    fn check_new_name(&self, dir: u32, name: &[u8]) -> Result<()> {
        if name.is_empty()
            || name.len() > NAME_MAX
            || name == b"."
            || name == b".."
            || name.iter().any(|&c| c == 0 || c == b'/')
        {
            return Err(Error::Invalid("file name"));
        }
        match self.find_entry(dir, name)? {
            Some(_) => Err(Error::Exists),
            None => Ok(()),
        }
    }

    /// Adds entry `name` -> `ino` to directory `dir`, in the first block
    /// with room, or in a new block appended to the directory.
    fn add_entry(&mut self, dir: u32, name: &[u8], ino: u32, ftype: u8) -> Result<()> {
        let mut inode = self.read_dir_inode(dir)?;
        let need = dirent_slots(name.len());
        let nblocks = inode.size / BLOCK_SIZE as u64;
        for n in 0..nblocks {
            let block = self.bmap(&inode, n)?;
            if block == NULL {
                continue;
            }
            let mut b = self.read(block)?;
            if let Some(slot) = dir_find_free(&b, need) {
                if !dir_insert(&mut b, slot, ino, ftype, name) {
                    return Err(Error::Invalid("file name"));
                }
                seal_block(&mut b, crc32c);
                self.write(block, &b)?;
                inode.mtime = self.time;
                inode.ctime = self.time;
                return self.write_inode(dir, &inode);
            }
        }
        let block = self.alloc_block()?;
        let mut b = zero_block();
        if !dir_insert(&mut b, 0, ino, ftype, name) {
            self.free_block(block);
            return Err(Error::Invalid("file name"));
        }
        seal_block(&mut b, crc32c);
        self.write(block, &b)?;
        if let Err(e) = self.map_block(&mut inode, nblocks, block) {
            self.free_block(block);
            self.write_inode(dir, &inode)?; // indirect blocks it did get
            return Err(e);
        }
        inode.size += BLOCK_SIZE as u64;
        inode.mtime = self.time;
        inode.ctime = self.time;
        self.write_inode(dir, &inode)
    }

    /// Allocates a directory inode with its first block holding `.` and
    /// `..` (`..` is the directory itself when `parent` is `None`: the root).
    fn new_dir(&mut self, parent: Option<u32>, perm: u16) -> Result<u32> {
        let mut inode = self.new_inode(S_IFDIR | (perm & 0o7777));
        inode.nlink = 2;
        let ino = self.alloc_inode(&mut inode)?;
        let block = match self.alloc_block() {
            Ok(b) => b,
            Err(e) => {
                self.free_inode(ino)?;
                return Err(e);
            }
        };
        let mut b = zero_block();
        dir_insert(&mut b, 0, ino, ftype::DIR, b".");
        dir_insert(&mut b, 1, parent.unwrap_or(ino), ftype::DIR, b"..");
        seal_block(&mut b, crc32c);
        self.write(block, &b)?;
        inode.direct[0] = block;
        inode.blocks = 1;
        inode.size = BLOCK_SIZE as u64;
        self.write_inode(ino, &inode)?;
        Ok(ino)
    }

    /// Creates directory `name` in `parent` with permissions `perm`.
    pub fn mkdir(&mut self, parent: u32, name: impl AsRef<[u8]>, perm: u16) -> Result<u32> {
        let name = name.as_ref();
        self.check_new_name(parent, name)?;
        let ino = self.new_dir(Some(parent), perm)?;
        if let Err(e) = self.add_entry(parent, name, ino, ftype::DIR) {
            self.free_inode(ino)?;
            return Err(e);
        }
        let mut p = self.read_inode(parent)?;
        p.nlink += 1;
        self.write_inode(parent, &p)?;
        Ok(ino)
    }

    /// Creates an inode of `mode` and links it as `name` in `parent`.
    fn create(&mut self, parent: u32, name: &[u8], mode: u16) -> Result<(u32, Inode)> {
        self.check_new_name(parent, name)?;
        let mut inode = self.new_inode(mode);
        let ino = self.alloc_inode(&mut inode)?;
        if let Err(e) = self.add_entry(parent, name, ino, ftype_of_mode(mode)) {
            self.free_inode(ino)?;
            return Err(e);
        }
        Ok((ino, inode))
    }

    /// Creates regular file `name` in `parent` holding `data` (all-zero
    /// blocks become holes).
    pub fn create_file(
        &mut self,
        parent: u32,
        name: impl AsRef<[u8]>,
        perm: u16,
        data: &[u8],
    ) -> Result<u32> {
        let (ino, _) = self.create(parent, name.as_ref(), S_IFREG | (perm & 0o7777))?;
        self.write_at(ino, 0, data)?;
        Ok(ino)
    }

    /// Creates symbolic link `name` in `parent` pointing to `target`.
    pub fn symlink(
        &mut self,
        parent: u32,
        name: impl AsRef<[u8]>,
        target: impl AsRef<[u8]>,
    ) -> Result<u32> {
        let target = target.as_ref();
        if target.is_empty() || target.len() > SYMLINK_MAX || target.contains(&0) {
            return Err(Error::Invalid("symlink target"));
        }
        let (ino, _) = self.create(parent, name.as_ref(), S_IFLNK | 0o777)?;
        self.write_at(ino, 0, target)?;
        Ok(ino)
    }

    /// Creates a device node, FIFO or socket `name` in `parent`. `mode`
    /// includes the file type, which must be one without data blocks.
    pub fn mknod(
        &mut self,
        parent: u32,
        name: impl AsRef<[u8]>,
        mode: u16,
        rdev: u32,
    ) -> Result<u32> {
        if !mode_is_valid(mode) || mode_has_blocks(mode) {
            return Err(Error::Invalid("mknod mode"));
        }
        let (ino, mut inode) = self.create(parent, name.as_ref(), mode)?;
        inode.rdev = rdev;
        self.write_inode(ino, &inode)?;
        Ok(ino)
    }

    /// Adds hard link `name` in `parent` to the non-directory `ino`.
    pub fn link(&mut self, parent: u32, name: impl AsRef<[u8]>, ino: u32) -> Result<()> {
        let name = name.as_ref();
        let inode = self.read_inode(ino)?;
        if inode.mode & S_IFMT == S_IFDIR {
            return Err(Error::IsDir);
        }
        self.check_new_name(parent, name)?;
        self.add_entry(parent, name, ino, ftype_of_mode(inode.mode))?;
        let mut inode = self.read_inode(ino)?;
        inode.nlink += 1;
        inode.ctime = self.time;
        self.write_inode(ino, &inode)
    }

    /// Removes entry `name` (not a directory) from `parent`. When the last
    /// link goes, the inode and its blocks are freed.
    pub fn unlink(&mut self, parent: u32, name: impl AsRef<[u8]>) -> Result<()> {
        self.remove_link(parent, name.as_ref(), false)
    }

    /// Like [`unlink`](Self::unlink), but an inode losing its last link
    /// stays allocated on the orphan list, as a file that was still open
    /// when the system went down.
    pub fn unlink_open(&mut self, parent: u32, name: impl AsRef<[u8]>) -> Result<()> {
        self.remove_link(parent, name.as_ref(), true)
    }

    fn remove_link(&mut self, parent: u32, name: &[u8], keep_orphan: bool) -> Result<()> {
        let (block, slot, ino) = self.find_entry(parent, name)?.ok_or(Error::NotFound)?;
        let mut inode = self.read_inode(ino)?;
        if inode.mode & S_IFMT == S_IFDIR {
            return Err(Error::IsDir);
        }
        let mut b = self.read(block)?;
        dir_remove(&mut b, slot);
        seal_block(&mut b, crc32c);
        self.write(block, &b)?;

        inode.nlink = inode.nlink.saturating_sub(1);
        inode.ctime = self.time;
        if inode.nlink > 0 {
            return self.write_inode(ino, &inode);
        }
        if !keep_orphan {
            return self.free_inode(ino);
        }
        // Push onto the head of the orphan list.
        let head = self.sb.orphan_head;
        if head != NULL {
            let mut h = self.read_inode(head)?;
            h.orphan_prev = ino;
            self.write_inode(head, &h)?;
        }
        inode.orphan_next = head;
        inode.orphan_prev = NULL;
        self.write_inode(ino, &inode)?;
        self.sb.orphan_head = ino;
        Ok(())
    }
}
