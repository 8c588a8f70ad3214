// SPDX-License-Identifier: GPL-2.0

//! The dinofs on-disk format: the single source of truth for the layout.
//!
//! This file is compiled twice: into the kernel module (`mod format;` in
//! `dinofs_main.rs`) and into the userspace tools (the `#![no_std]` crate
//! `tools/format`, which includes it by path). It therefore uses only `core`:
//! no allocation, no I/O, and no panic on any input — every decoder validates
//! what it reads and returns a [`FormatError`]. Checksums are computed by a
//! function the caller passes in (the kernel's `crc32c()` in the module, the
//! `crc32c` crate in userspace), so neither side hand-rolls one.
//!
//! All integers are little-endian. `Documentation/format.rst` has the same
//! layout with the reasoning behind it.
//!
//! ```text
//!  block 0     1 .. J       1+J .. 1+J+B     1+J+B .. 1+J+2B   data area
//! +----------+------------+----------------+-----------------+-------------------+
//! | super-   | jbd2       | block bitmap   | inode-cluster   | inode clusters,   |
//! | block    | journal    | (1 bit/block,  | map (1 bit/     | file, directory   |
//! |          | (its own   |  set = in use) |  block: set =   | and indirect      |
//! |          |  sb first) |                |  a cluster)     | blocks            |
//! +----------+------------+----------------+-----------------+-------------------+
//!   J = journal_blocks (default: default_journal_blocks(blocks))
//!   B = ceil(blocks / BITS_PER_BITMAP_BLOCK)
//!
//!  inode cluster: one block of 32 x 128-byte inodes; inode number
//!  = cluster block number * 32 + slot, so an inode number says where it lives.
//!
//!  every metadata block except inode clusters ends in a 4-byte crc32c;
//!  each inode carries its own crc32c in its last 4 bytes.
//! ```

#![forbid(unsafe_code)]

/// Filesystem block size in bytes. Everything on disk is addressed in blocks.
pub const BLOCK_SIZE: usize = 4096;

/// `log2(BLOCK_SIZE)`.
pub const BLOCK_SHIFT: u32 = 12;

/// Superblock magic, "DINOFS01" read as a little-endian `u64`.
pub const MAGIC: u64 = u64::from_le_bytes(*b"DINOFS01");

/// On-disk format version this code reads and writes. Version 2 added the
/// jbd2 journal region; version 1 images (no journal) are refused.
pub const VERSION: u32 = 2;

/// Block number of the superblock.
pub const SUPERBLOCK_BLOCK: u32 = 0;

/// Smallest filesystem, in blocks (8 MiB): the smallest journal, the other
/// metadata, the root directory and some data. `mke2fs` makes no journal
/// below this size either.
pub const MIN_BLOCKS: u64 = 2048;

/// First block of the journal region (the jbd2 superblock).
pub const JOURNAL_START: u32 = 1;

/// Smallest journal, in blocks: jbd2's `JBD2_MIN_JOURNAL_BLOCKS`.
pub const MIN_JOURNAL_BLOCKS: u32 = 1024;

/// Largest journal, in blocks (1 GiB, `mke2fs`'s largest default).
pub const MAX_JOURNAL_BLOCKS: u32 = 1 << 18;

/// The journal size `mkfs.dinofs` picks for a filesystem of `blocks`
/// blocks: `mke2fs`'s table for 4 KiB blocks (e2fsprogs
/// `ext2fs_default_journal_size`), never below [`MIN_JOURNAL_BLOCKS`].
pub fn default_journal_blocks(blocks: u64) -> u32 {
    match blocks {
        0..32_768 => 1024,
        32_768..262_144 => 4096,
        262_144..524_288 => 8192,
        524_288..4_194_304 => 16_384,
        4_194_304..8_388_608 => 32_768,
        8_388_608..16_777_216 => 65_536,
        16_777_216..33_554_432 => 131_072,
        _ => 262_144,
    }
}

/// Largest filesystem, in blocks (512 GiB). Block numbers and inode numbers
/// (block * 32 + slot) are stored as `u32`, so blocks must stay below 2^27.
pub const MAX_BLOCKS: u64 = 1 << 27;

/// Offset of the 4-byte crc32c at the end of every checksummed block.
pub const BLOCK_CRC_OFFSET: usize = BLOCK_SIZE - 4;

/// Bitmap bits per bitmap block (the last 4 bytes hold the checksum).
pub const BITS_PER_BITMAP_BLOCK: u64 = (BLOCK_CRC_OFFSET * 8) as u64;

/// Size of one on-disk inode.
pub const INODE_SIZE: usize = 128;

/// Inodes per cluster block. This is also the engine's queue-depth trigger:
/// 32 queued inodes is one cluster's worth of inactivation work (XFS uses
/// the same reasoning for its inode cluster buffers).
pub const INODES_PER_CLUSTER: u32 = (BLOCK_SIZE / INODE_SIZE) as u32;

/// `log2(INODES_PER_CLUSTER)`.
pub const INODES_PER_CLUSTER_SHIFT: u32 = 5;

/// Block pointers held directly in the inode.
pub const DIRECT_BLOCKS: usize = 8;

/// Block pointers per indirect block (the last slot holds the checksum).
pub const PTRS_PER_BLOCK: u64 = (BLOCK_CRC_OFFSET / 4) as u64;

/// Largest file offset (exclusive) the block map can address, in blocks:
/// direct + single + double + triple indirect.
pub const MAX_FILE_BLOCKS: u64 = DIRECT_BLOCKS as u64
    + PTRS_PER_BLOCK
    + PTRS_PER_BLOCK * PTRS_PER_BLOCK
    + PTRS_PER_BLOCK * PTRS_PER_BLOCK * PTRS_PER_BLOCK;

/// Largest file size in bytes. The block map reaches further; this is the
/// size the VFS is told (`s_maxbytes`), and it is well above 4 GiB.
pub const MAX_FILE_SIZE: u64 = 1 << 40;

/// Directory entry slot size. An entry takes 1-5 consecutive slots.
pub const DIRENT_SLOT_SIZE: usize = 64;

/// Usable slots per directory block (the last slot's space holds the
/// checksum and is otherwise reserved).
pub const DIRENT_SLOTS_PER_BLOCK: u32 = (BLOCK_SIZE / DIRENT_SLOT_SIZE) as u32 - 1;

/// Bytes of an entry before its name.
pub const DIRENT_HEADER_SIZE: usize = 8;

/// Longest file name.
pub const NAME_MAX: usize = 255;

/// Longest symlink target (it is stored in one data block, NUL-free).
pub const SYMLINK_MAX: usize = BLOCK_SIZE - 1;

/// Superblock `state`: cleanly unmounted.
pub const STATE_CLEAN: u32 = 1;
/// Superblock `state`: mounted read-write (or crashed while it was).
pub const STATE_DIRTY: u32 = 2;

/// "No inode" / "no block" in pointer fields.
pub const NULL: u32 = 0;

/// A checksum function: `crc32c(seed, bytes)`, with the kernel's convention
/// (no pre- or post-inversion inside; callers pass `!0` as the seed).
pub type Crc32cFn = fn(u32, &[u8]) -> u32;

/// Why a metadata structure was rejected. The kernel maps [`BadMagic`]
/// (not dinofs at all) to `-EINVAL` and every other variant to `-EUCLEAN`,
/// with a rate-limited message; fsck reports it.
///
/// [`BadMagic`]: FormatError::BadMagic
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(clippy::enum_variant_names)] // "Bad..." reads as what is wrong.
pub enum FormatError {
    /// The magic number is wrong: this is not a dinofs filesystem.
    BadMagic,
    /// A dinofs filesystem of a version this code does not know.
    BadVersion(u32),
    /// Feature flags this code does not know.
    BadFeatures(u32),
    /// The stored checksum does not match the contents.
    BadChecksum,
    /// A field holds a value that cannot be right (geometry, block number,
    /// inode number, name length, mode).
    BadValue,
}

// ---------------------------------------------------------------------------
// Little-endian field access. Offsets are compile-time constants inside the
// block, so the slicing below cannot go out of bounds.

fn get_u16(b: &[u8], off: usize) -> u16 {
    let mut v = [0u8; 2];
    v.copy_from_slice(&b[off..off + 2]);
    u16::from_le_bytes(v)
}

fn get_u32(b: &[u8], off: usize) -> u32 {
    let mut v = [0u8; 4];
    v.copy_from_slice(&b[off..off + 4]);
    u32::from_le_bytes(v)
}

fn get_u64(b: &[u8], off: usize) -> u64 {
    let mut v = [0u8; 8];
    v.copy_from_slice(&b[off..off + 8]);
    u64::from_le_bytes(v)
}

fn put_u16(b: &mut [u8], off: usize, v: u16) {
    b[off..off + 2].copy_from_slice(&v.to_le_bytes());
}

fn put_u32(b: &mut [u8], off: usize, v: u32) {
    b[off..off + 4].copy_from_slice(&v.to_le_bytes());
}

fn put_u64(b: &mut [u8], off: usize, v: u64) {
    b[off..off + 8].copy_from_slice(&v.to_le_bytes());
}

/// A block of the filesystem.
pub type Block = [u8; BLOCK_SIZE];

/// Computes the crc32c of a checksummed block (everything before the
/// trailing checksum field).
pub fn block_checksum(b: &Block, crc32c: Crc32cFn) -> u32 {
    crc32c(!0, &b[..BLOCK_CRC_OFFSET])
}

/// Stores the checksum of a checksummed block in its last 4 bytes.
pub fn seal_block(b: &mut Block, crc32c: Crc32cFn) {
    let crc = block_checksum(b, crc32c);
    put_u32(b, BLOCK_CRC_OFFSET, crc);
}

/// Checks the trailing checksum of a block.
pub fn verify_block(b: &Block, crc32c: Crc32cFn) -> Result<(), FormatError> {
    if get_u32(b, BLOCK_CRC_OFFSET) == block_checksum(b, crc32c) {
        Ok(())
    } else {
        Err(FormatError::BadChecksum)
    }
}

// ---------------------------------------------------------------------------
// Superblock

/// Where the metadata regions are, derived from the size and the journal
/// size alone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Geometry {
    /// Total blocks.
    pub blocks: u64,
    /// First block of the journal (its jbd2 superblock): [`JOURNAL_START`].
    pub journal_start: u32,
    /// Blocks in the journal, its superblock included.
    pub journal_blocks: u32,
    /// First block of the block bitmap.
    pub bitmap_start: u32,
    /// Blocks in the block bitmap (and in the cluster map).
    pub bitmap_blocks: u32,
    /// First block of the inode-cluster map.
    pub clustermap_start: u32,
    /// First block after the fixed metadata.
    pub data_start: u32,
}

impl Geometry {
    /// The layout of a filesystem of `blocks` blocks with a journal of
    /// `journal_blocks` blocks, or `None` if either is out of range or the
    /// journal leaves less than half of the filesystem to the rest.
    pub fn new(blocks: u64, journal_blocks: u32) -> Option<Self> {
        if !(MIN_BLOCKS..=MAX_BLOCKS).contains(&blocks)
            || !(MIN_JOURNAL_BLOCKS..=MAX_JOURNAL_BLOCKS).contains(&journal_blocks)
            || journal_blocks as u64 > blocks / 2
        {
            return None;
        }
        let bitmap_blocks = blocks.div_ceil(BITS_PER_BITMAP_BLOCK) as u32;
        let bitmap_start = JOURNAL_START + journal_blocks;
        let clustermap_start = bitmap_start + bitmap_blocks;
        Some(Self {
            blocks,
            journal_start: JOURNAL_START,
            journal_blocks,
            bitmap_start,
            bitmap_blocks,
            clustermap_start,
            data_start: clustermap_start + bitmap_blocks,
        })
    }

    /// The layout of a filesystem of `blocks` blocks with the default
    /// journal ([`default_journal_blocks`]).
    pub fn for_blocks(blocks: u64) -> Option<Self> {
        Self::new(blocks, default_journal_blocks(blocks))
    }

    /// Whether `block` is in the data area (where files, directories,
    /// indirect blocks and inode clusters live).
    pub fn in_data_area(&self, block: u64) -> bool {
        block >= self.data_start as u64 && block < self.blocks
    }

    /// Whether `block` is in the journal region.
    pub fn in_journal(&self, block: u64) -> bool {
        block >= self.journal_start as u64
            && block < self.journal_start as u64 + self.journal_blocks as u64
    }

    /// The journal region as jbd2 addresses it with an identity block map
    /// (`jbd2_journal_init_dev(bdev, bdev, start, len, 4096)`): its
    /// superblock at device block `start`, log blocks `s_first ..
    /// s_maxlen` in device block numbers. Returns `(start, len)` for
    /// `init_dev`; `len` is also the jbd2 superblock's `s_maxlen`, and
    /// `start + 1` its `s_first`.
    pub fn journal_extent(&self) -> (u32, u32) {
        (self.journal_start, self.journal_start + self.journal_blocks)
    }
}

/// The superblock (block 0). Counters are exact as of the last sync or
/// clean unmount; while mounted read-write the kernel keeps them in memory.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Superblock {
    /// Total blocks in the filesystem, metadata included.
    pub blocks: u64,
    /// Free blocks.
    pub free_blocks: u64,
    /// First block of the block bitmap.
    pub bitmap_start: u32,
    /// Blocks in each of the two bitmaps.
    pub bitmap_blocks: u32,
    /// First block of the inode-cluster map.
    pub clustermap_start: u32,
    /// Inode number of the root directory.
    pub root_ino: u32,
    /// First inode of the orphan list (unlinked, still holding space), or 0.
    pub orphan_head: u32,
    /// Inode clusters allocated.
    pub clusters: u32,
    /// Free inode slots inside allocated clusters.
    pub free_inodes: u32,
    /// [`STATE_CLEAN`] or [`STATE_DIRTY`].
    pub state: u32,
    /// Next inode generation number to hand out (NFS-style file handles).
    pub next_generation: u32,
    /// Time of mkfs, seconds since the epoch.
    pub mkfs_time: i64,
    /// Filesystem UUID.
    pub uuid: [u8; 16],
    /// Volume label, NUL-padded.
    pub label: [u8; 32],
    /// First block of the jbd2 journal: [`JOURNAL_START`].
    pub journal_start: u32,
    /// Blocks in the journal, its superblock included.
    pub journal_blocks: u32,
}

/// Byte offsets inside the superblock block.
mod sb_off {
    pub(super) const MAGIC: usize = 0;
    pub(super) const VERSION: usize = 8;
    pub(super) const FEATURES: usize = 12;
    pub(super) const BLOCKS: usize = 16;
    pub(super) const FREE_BLOCKS: usize = 24;
    pub(super) const BITMAP_START: usize = 32;
    pub(super) const BITMAP_BLOCKS: usize = 36;
    pub(super) const CLUSTERMAP_START: usize = 40;
    pub(super) const ROOT_INO: usize = 44;
    pub(super) const ORPHAN_HEAD: usize = 48;
    pub(super) const CLUSTERS: usize = 52;
    pub(super) const FREE_INODES: usize = 56;
    pub(super) const STATE: usize = 60;
    pub(super) const NEXT_GENERATION: usize = 64;
    pub(super) const MKFS_TIME: usize = 72;
    pub(super) const UUID: usize = 80;
    pub(super) const LABEL: usize = 96;
    pub(super) const JOURNAL_START: usize = 128;
    pub(super) const JOURNAL_BLOCKS: usize = 132;
}

impl Superblock {
    /// Decodes and validates a superblock block: magic, version, checksum,
    /// and every geometry field against the size it claims.
    pub fn decode(b: &Block, crc32c: Crc32cFn) -> Result<Self, FormatError> {
        if get_u64(b, sb_off::MAGIC) != MAGIC {
            return Err(FormatError::BadMagic);
        }
        let version = get_u32(b, sb_off::VERSION);
        if version != VERSION {
            return Err(FormatError::BadVersion(version));
        }
        verify_block(b, crc32c)?;
        let features = get_u32(b, sb_off::FEATURES);
        if features != 0 {
            return Err(FormatError::BadFeatures(features));
        }
        let mut uuid = [0u8; 16];
        uuid.copy_from_slice(&b[sb_off::UUID..sb_off::UUID + 16]);
        let mut label = [0u8; 32];
        label.copy_from_slice(&b[sb_off::LABEL..sb_off::LABEL + 32]);
        let sb = Self {
            blocks: get_u64(b, sb_off::BLOCKS),
            free_blocks: get_u64(b, sb_off::FREE_BLOCKS),
            bitmap_start: get_u32(b, sb_off::BITMAP_START),
            bitmap_blocks: get_u32(b, sb_off::BITMAP_BLOCKS),
            clustermap_start: get_u32(b, sb_off::CLUSTERMAP_START),
            root_ino: get_u32(b, sb_off::ROOT_INO),
            orphan_head: get_u32(b, sb_off::ORPHAN_HEAD),
            clusters: get_u32(b, sb_off::CLUSTERS),
            free_inodes: get_u32(b, sb_off::FREE_INODES),
            state: get_u32(b, sb_off::STATE),
            next_generation: get_u32(b, sb_off::NEXT_GENERATION),
            mkfs_time: get_u64(b, sb_off::MKFS_TIME) as i64,
            uuid,
            label,
            journal_start: get_u32(b, sb_off::JOURNAL_START),
            journal_blocks: get_u32(b, sb_off::JOURNAL_BLOCKS),
        };
        sb.validate()?;
        Ok(sb)
    }

    /// Checks the fields against each other and against the geometry the
    /// size implies.
    pub fn validate(&self) -> Result<(), FormatError> {
        let geo = self.geometry().ok_or(FormatError::BadValue)?;
        let ok = self.journal_start == geo.journal_start
            && self.bitmap_start == geo.bitmap_start
            && self.bitmap_blocks == geo.bitmap_blocks
            && self.clustermap_start == geo.clustermap_start
            && self.free_blocks < self.blocks
            && self.clusters as u64 <= self.blocks
            && self.free_inodes as u64 <= self.clusters as u64 * INODES_PER_CLUSTER as u64
            && (self.state == STATE_CLEAN || self.state == STATE_DIRTY)
            && ino_is_valid(self.root_ino, &geo)
            && (self.orphan_head == NULL || ino_is_valid(self.orphan_head, &geo));
        if ok {
            Ok(())
        } else {
            Err(FormatError::BadValue)
        }
    }

    /// The layout this superblock describes.
    pub fn geometry(&self) -> Option<Geometry> {
        Geometry::new(self.blocks, self.journal_blocks)
    }

    /// Encodes the superblock into a block, checksum included.
    pub fn encode(&self, b: &mut Block, crc32c: Crc32cFn) {
        b.fill(0);
        put_u64(b, sb_off::MAGIC, MAGIC);
        put_u32(b, sb_off::VERSION, VERSION);
        put_u32(b, sb_off::FEATURES, 0);
        put_u64(b, sb_off::BLOCKS, self.blocks);
        put_u64(b, sb_off::FREE_BLOCKS, self.free_blocks);
        put_u32(b, sb_off::BITMAP_START, self.bitmap_start);
        put_u32(b, sb_off::BITMAP_BLOCKS, self.bitmap_blocks);
        put_u32(b, sb_off::CLUSTERMAP_START, self.clustermap_start);
        put_u32(b, sb_off::ROOT_INO, self.root_ino);
        put_u32(b, sb_off::ORPHAN_HEAD, self.orphan_head);
        put_u32(b, sb_off::CLUSTERS, self.clusters);
        put_u32(b, sb_off::FREE_INODES, self.free_inodes);
        put_u32(b, sb_off::STATE, self.state);
        put_u32(b, sb_off::NEXT_GENERATION, self.next_generation);
        put_u64(b, sb_off::MKFS_TIME, self.mkfs_time as u64);
        b[sb_off::UUID..sb_off::UUID + 16].copy_from_slice(&self.uuid);
        b[sb_off::LABEL..sb_off::LABEL + 32].copy_from_slice(&self.label);
        put_u32(b, sb_off::JOURNAL_START, self.journal_start);
        put_u32(b, sb_off::JOURNAL_BLOCKS, self.journal_blocks);
        seal_block(b, crc32c);
    }

    /// Inodes the filesystem could hold: the allocated slots plus 32 per
    /// free block (every free block could become a cluster). `statfs`'s
    /// `f_files`, so that `f_files - f_ffree` is exactly the inodes in use.
    pub fn total_inodes(&self) -> u64 {
        self.clusters as u64 * INODES_PER_CLUSTER as u64
            + self.free_blocks * INODES_PER_CLUSTER as u64
    }

    /// Free inodes, `statfs`'s `f_ffree`.
    pub fn available_inodes(&self) -> u64 {
        self.free_inodes as u64 + self.free_blocks * INODES_PER_CLUSTER as u64
    }
}

// ---------------------------------------------------------------------------
// Inode numbers

/// The cluster block holding inode `ino`.
pub fn ino_cluster(ino: u32) -> u32 {
    ino >> INODES_PER_CLUSTER_SHIFT
}

/// The slot of inode `ino` inside its cluster.
pub fn ino_slot(ino: u32) -> u32 {
    ino & (INODES_PER_CLUSTER - 1)
}

/// The inode number of `slot` in the cluster at block `cluster`.
pub fn make_ino(cluster: u32, slot: u32) -> u32 {
    (cluster << INODES_PER_CLUSTER_SHIFT) | (slot & (INODES_PER_CLUSTER - 1))
}

/// Whether `ino` can name an inode in a filesystem laid out as `geo`: its
/// cluster must be a data-area block. (Whether that block *is* a cluster is
/// the cluster map's to say.)
pub fn ino_is_valid(ino: u32, geo: &Geometry) -> bool {
    geo.in_data_area(ino_cluster(ino) as u64)
}

/// Byte offset of inode `ino` inside its cluster block.
pub fn ino_offset(ino: u32) -> usize {
    ino_slot(ino) as usize * INODE_SIZE
}

// ---------------------------------------------------------------------------
// Inodes

/// File type bits of `mode` (`S_IFMT`).
pub const S_IFMT: u16 = 0o170000;
/// Socket.
pub const S_IFSOCK: u16 = 0o140000;
/// Symbolic link.
pub const S_IFLNK: u16 = 0o120000;
/// Regular file.
pub const S_IFREG: u16 = 0o100000;
/// Block device.
pub const S_IFBLK: u16 = 0o060000;
/// Directory.
pub const S_IFDIR: u16 = 0o040000;
/// Character device.
pub const S_IFCHR: u16 = 0o020000;
/// FIFO.
pub const S_IFIFO: u16 = 0o010000;

/// Whether `mode` has a file type dinofs stores.
pub fn mode_is_valid(mode: u16) -> bool {
    matches!(
        mode & S_IFMT,
        S_IFSOCK | S_IFLNK | S_IFREG | S_IFBLK | S_IFDIR | S_IFCHR | S_IFIFO
    )
}

/// Whether inodes of this mode map data blocks (regular files,
/// directories and symlinks; devices, FIFOs and sockets do not).
pub fn mode_has_blocks(mode: u16) -> bool {
    matches!(mode & S_IFMT, S_IFREG | S_IFDIR | S_IFLNK)
}

/// A timestamp.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Timestamp {
    /// Seconds since the epoch.
    pub sec: i64,
    /// Nanoseconds, below 1e9.
    pub nsec: u32,
}

/// An on-disk inode. A free slot has `mode == 0` (and is otherwise zero).
///
/// `blocks` counts every block the inode owns: data blocks (including any
/// speculative preallocation past EOF) and indirect blocks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Inode {
    /// Type and permission bits; 0 for a free slot.
    pub mode: u16,
    /// Hard links. 0 with a nonzero mode: unlinked, on the orphan list.
    pub nlink: u32,
    /// Owner.
    pub uid: u32,
    /// Group.
    pub gid: u32,
    /// Size in bytes.
    pub size: u64,
    /// Blocks owned (data + indirect).
    pub blocks: u32,
    /// Generation number (for file handles).
    pub generation: u32,
    /// Last access.
    pub atime: Timestamp,
    /// Last modification.
    pub mtime: Timestamp,
    /// Last status change.
    pub ctime: Timestamp,
    /// Device number of block and character devices (`new_encode_dev`).
    pub rdev: u32,
    /// Next inode on the orphan list, or 0.
    pub orphan_next: u32,
    /// Previous inode on the orphan list, or 0 for the head.
    pub orphan_prev: u32,
    /// Direct block pointers (0 = hole).
    pub direct: [u32; DIRECT_BLOCKS],
    /// Single indirect block, or 0.
    pub indirect: u32,
    /// Double indirect block, or 0.
    pub dindirect: u32,
    /// Triple indirect block, or 0.
    pub tindirect: u32,
}

/// Byte offsets inside an on-disk inode.
mod ino_off {
    pub(super) const MODE: usize = 0;
    pub(super) const RESERVED: usize = 2;
    pub(super) const NLINK: usize = 4;
    pub(super) const UID: usize = 8;
    pub(super) const GID: usize = 12;
    pub(super) const SIZE: usize = 16;
    pub(super) const BLOCKS: usize = 24;
    pub(super) const GENERATION: usize = 28;
    pub(super) const ATIME: usize = 32;
    pub(super) const MTIME: usize = 40;
    pub(super) const CTIME: usize = 48;
    pub(super) const ATIME_NSEC: usize = 56;
    pub(super) const MTIME_NSEC: usize = 60;
    pub(super) const CTIME_NSEC: usize = 64;
    pub(super) const RDEV: usize = 68;
    pub(super) const ORPHAN_NEXT: usize = 72;
    pub(super) const ORPHAN_PREV: usize = 76;
    pub(super) const DIRECT: usize = 80;
    pub(super) const INDIRECT: usize = 112;
    pub(super) const DINDIRECT: usize = 116;
    pub(super) const TINDIRECT: usize = 120;
    pub(super) const CRC: usize = 124;
}

impl Inode {
    /// Decodes inode `ino` from its cluster block. A free slot decodes to
    /// `Ok(None)`; a slot that fails its checksum or holds impossible values
    /// is an error. `geo` is the filesystem's layout, for range checks.
    pub fn decode(
        cluster: &Block,
        ino: u32,
        geo: &Geometry,
        crc32c: Crc32cFn,
    ) -> Result<Option<Self>, FormatError> {
        let inode = Self::decode_loose(cluster, ino, geo, crc32c)?;
        if let Some(inode) = &inode {
            inode.validate(geo)?;
        }
        Ok(inode)
    }

    /// As [`Self::decode`], but block pointers are only checked to be
    /// inside the filesystem ([`Self::validate_loose`]), not inside the
    /// data area: for fsck, which names and repairs such a pointer itself
    /// rather than losing the whole inode.
    pub fn decode_loose(
        cluster: &Block,
        ino: u32,
        geo: &Geometry,
        crc32c: Crc32cFn,
    ) -> Result<Option<Self>, FormatError> {
        let off = ino_offset(ino);
        let raw = &cluster[off..off + INODE_SIZE];
        if raw.iter().all(|&b| b == 0) {
            return Ok(None);
        }
        let crc = crc32c(ino ^ !0, &raw[..ino_off::CRC]);
        if get_u32(raw, ino_off::CRC) != crc {
            return Err(FormatError::BadChecksum);
        }
        let ts = |s: usize, ns: usize| Timestamp {
            sec: get_u64(raw, s) as i64,
            nsec: get_u32(raw, ns),
        };
        let mut direct = [0u32; DIRECT_BLOCKS];
        for (i, d) in direct.iter_mut().enumerate() {
            *d = get_u32(raw, ino_off::DIRECT + 4 * i);
        }
        let inode = Self {
            mode: get_u16(raw, ino_off::MODE),
            nlink: get_u32(raw, ino_off::NLINK),
            uid: get_u32(raw, ino_off::UID),
            gid: get_u32(raw, ino_off::GID),
            size: get_u64(raw, ino_off::SIZE),
            blocks: get_u32(raw, ino_off::BLOCKS),
            generation: get_u32(raw, ino_off::GENERATION),
            atime: ts(ino_off::ATIME, ino_off::ATIME_NSEC),
            mtime: ts(ino_off::MTIME, ino_off::MTIME_NSEC),
            ctime: ts(ino_off::CTIME, ino_off::CTIME_NSEC),
            rdev: get_u32(raw, ino_off::RDEV),
            orphan_next: get_u32(raw, ino_off::ORPHAN_NEXT),
            orphan_prev: get_u32(raw, ino_off::ORPHAN_PREV),
            direct,
            indirect: get_u32(raw, ino_off::INDIRECT),
            dindirect: get_u32(raw, ino_off::DINDIRECT),
            tindirect: get_u32(raw, ino_off::TINDIRECT),
        };
        if get_u16(raw, ino_off::RESERVED) != 0 {
            return Err(FormatError::BadValue);
        }
        inode.validate_loose(geo)?;
        Ok(Some(inode))
    }

    /// Range checks on every field that points somewhere: block pointers
    /// into the data area (never the superblock, the journal or a
    /// bitmap), inode numbers into data-area clusters.
    pub fn validate(&self, geo: &Geometry) -> Result<(), FormatError> {
        self.validate_with(geo, |p| geo.in_data_area(p as u64))
    }

    /// As [`Self::validate`], but block pointers need only be below the
    /// filesystem's size.
    pub fn validate_loose(&self, geo: &Geometry) -> Result<(), FormatError> {
        self.validate_with(geo, |p| (p as u64) < geo.blocks)
    }

    fn validate_with(
        &self,
        geo: &Geometry,
        in_range: impl Fn(u32) -> bool,
    ) -> Result<(), FormatError> {
        let blocks = geo.blocks;
        let ptr_ok = |p: u32| p == NULL || in_range(p);
        let ino_ok = |i: u32| i == NULL || ino_is_valid(i, geo);
        let ok = mode_is_valid(self.mode)
            && self.size <= MAX_FILE_SIZE
            && self.atime.nsec < 1_000_000_000
            && self.mtime.nsec < 1_000_000_000
            && self.ctime.nsec < 1_000_000_000
            && ino_ok(self.orphan_next)
            && ino_ok(self.orphan_prev)
            && self.direct.iter().all(|&p| ptr_ok(p))
            && ptr_ok(self.indirect)
            && ptr_ok(self.dindirect)
            && ptr_ok(self.tindirect)
            && (self.blocks as u64) < blocks
            && (mode_has_blocks(self.mode) || (self.blocks == 0 && self.size == 0));
        if ok {
            Ok(())
        } else {
            Err(FormatError::BadValue)
        }
    }

    /// Encodes inode `ino` into its slot of a cluster block, checksum
    /// included. The checksum is seeded with the inode number, so an inode
    /// copied to the wrong slot fails verification.
    pub fn encode(&self, cluster: &mut Block, ino: u32, crc32c: Crc32cFn) {
        let off = ino_offset(ino);
        let raw = &mut cluster[off..off + INODE_SIZE];
        raw.fill(0);
        put_u16(raw, ino_off::MODE, self.mode);
        put_u32(raw, ino_off::NLINK, self.nlink);
        put_u32(raw, ino_off::UID, self.uid);
        put_u32(raw, ino_off::GID, self.gid);
        put_u64(raw, ino_off::SIZE, self.size);
        put_u32(raw, ino_off::BLOCKS, self.blocks);
        put_u32(raw, ino_off::GENERATION, self.generation);
        put_u64(raw, ino_off::ATIME, self.atime.sec as u64);
        put_u64(raw, ino_off::MTIME, self.mtime.sec as u64);
        put_u64(raw, ino_off::CTIME, self.ctime.sec as u64);
        put_u32(raw, ino_off::ATIME_NSEC, self.atime.nsec);
        put_u32(raw, ino_off::MTIME_NSEC, self.mtime.nsec);
        put_u32(raw, ino_off::CTIME_NSEC, self.ctime.nsec);
        put_u32(raw, ino_off::RDEV, self.rdev);
        put_u32(raw, ino_off::ORPHAN_NEXT, self.orphan_next);
        put_u32(raw, ino_off::ORPHAN_PREV, self.orphan_prev);
        for (i, d) in self.direct.iter().enumerate() {
            put_u32(raw, ino_off::DIRECT + 4 * i, *d);
        }
        put_u32(raw, ino_off::INDIRECT, self.indirect);
        put_u32(raw, ino_off::DINDIRECT, self.dindirect);
        put_u32(raw, ino_off::TINDIRECT, self.tindirect);
        let crc = crc32c(ino ^ !0, &raw[..ino_off::CRC]);
        put_u32(raw, ino_off::CRC, crc);
    }

    /// Clears inode `ino`'s slot (a free slot is all zeroes).
    pub fn clear(cluster: &mut Block, ino: u32) {
        let off = ino_offset(ino);
        cluster[off..off + INODE_SIZE].fill(0);
    }
}

// ---------------------------------------------------------------------------
// Block map: where file block `n` lives

/// The path from an inode to the pointer for one file block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlockPath {
    /// `inode.direct[i]`.
    Direct(usize),
    /// `inode.indirect`, then index 0.
    Indirect(u32),
    /// `inode.dindirect`, then indices 0, 1.
    DoubleIndirect(u32, u32),
    /// `inode.tindirect`, then indices 0, 1, 2.
    TripleIndirect(u32, u32, u32),
}

/// Which pointer maps file block `n`, or `None` past the largest file.
pub fn block_path(n: u64) -> Option<BlockPath> {
    let p = PTRS_PER_BLOCK;
    if n < DIRECT_BLOCKS as u64 {
        return Some(BlockPath::Direct(n as usize));
    }
    let n = n - DIRECT_BLOCKS as u64;
    if n < p {
        return Some(BlockPath::Indirect(n as u32));
    }
    let n = n - p;
    if n < p * p {
        return Some(BlockPath::DoubleIndirect((n / p) as u32, (n % p) as u32));
    }
    let n = n - p * p;
    if n < p * p * p {
        return Some(BlockPath::TripleIndirect(
            (n / (p * p)) as u32,
            ((n / p) % p) as u32,
            (n % p) as u32,
        ));
    }
    None
}

/// Reads pointer `i` of an indirect block (`i < PTRS_PER_BLOCK`; larger
/// indices read as a hole).
pub fn indirect_get(b: &Block, i: u32) -> u32 {
    if (i as u64) < PTRS_PER_BLOCK {
        get_u32(b, 4 * i as usize)
    } else {
        NULL
    }
}

/// Writes pointer `i` of an indirect block (ignored past the end). The
/// caller seals the block before writing it out.
pub fn indirect_set(b: &mut Block, i: u32, ptr: u32) {
    if (i as u64) < PTRS_PER_BLOCK {
        put_u32(b, 4 * i as usize, ptr);
    }
}

/// Verifies an indirect block: checksum and every pointer in the data area.
pub fn indirect_verify(b: &Block, geo: &Geometry, crc32c: Crc32cFn) -> Result<(), FormatError> {
    verify_block(b, crc32c)?;
    for i in 0..PTRS_PER_BLOCK as u32 {
        let p = indirect_get(b, i);
        if p != NULL && !geo.in_data_area(p as u64) {
            return Err(FormatError::BadValue);
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Bitmaps (block bitmap and inode-cluster map share the layout)

/// The bitmap block (index relative to the bitmap start) and bit holding
/// `block`'s bit.
pub fn bitmap_pos(block: u64) -> (u32, usize) {
    (
        (block / BITS_PER_BITMAP_BLOCK) as u32,
        (block % BITS_PER_BITMAP_BLOCK) as usize,
    )
}

/// Tests bit `bit` of a bitmap block.
pub fn bit_test(b: &Block, bit: usize) -> bool {
    bit < BLOCK_CRC_OFFSET * 8 && b[bit / 8] & (1 << (bit % 8)) != 0
}

/// Sets or clears bit `bit` of a bitmap block (ignored past the end).
pub fn bit_assign(b: &mut Block, bit: usize, value: bool) {
    if bit < BLOCK_CRC_OFFSET * 8 {
        if value {
            b[bit / 8] |= 1 << (bit % 8);
        } else {
            b[bit / 8] &= !(1 << (bit % 8));
        }
    }
}

// ---------------------------------------------------------------------------
// Directories

/// Directory entry file types (as in `fs_ftype.h`).
pub mod ftype {
    /// Unknown.
    pub const UNKNOWN: u8 = 0;
    /// Regular file.
    pub const REG: u8 = 1;
    /// Directory.
    pub const DIR: u8 = 2;
    /// Character device.
    pub const CHRDEV: u8 = 3;
    /// Block device.
    pub const BLKDEV: u8 = 4;
    /// FIFO.
    pub const FIFO: u8 = 5;
    /// Socket.
    pub const SOCK: u8 = 6;
    /// Symbolic link.
    pub const SYMLINK: u8 = 7;
}

/// The directory entry type for an inode mode.
pub fn ftype_of_mode(mode: u16) -> u8 {
    match mode & S_IFMT {
        S_IFREG => ftype::REG,
        S_IFDIR => ftype::DIR,
        S_IFCHR => ftype::CHRDEV,
        S_IFBLK => ftype::BLKDEV,
        S_IFIFO => ftype::FIFO,
        S_IFSOCK => ftype::SOCK,
        S_IFLNK => ftype::SYMLINK,
        _ => ftype::UNKNOWN,
    }
}

/// Slots an entry with a name of `name_len` bytes occupies.
pub fn dirent_slots(name_len: usize) -> u32 {
    (DIRENT_HEADER_SIZE + name_len).div_ceil(DIRENT_SLOT_SIZE) as u32
}

/// A directory entry as stored: `ino`, type and name. Slot layout: `ino`
/// (u32), `slots` (u8, 1-5), `name_len` (u8), `ftype` (u8), reserved (u8),
/// then the name, continuing into the following `slots - 1` slots. A free
/// slot has `ino == 0` and `slots == 0`.
///
/// Entries never move once written, so a directory position (block index *
/// [`DIRENT_SLOTS_PER_BLOCK`] + slot) stays valid across concurrent inserts
/// and removals: readdir neither repeats nor skips a live entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Dirent<'a> {
    /// Slot index of the entry's first slot in its block.
    pub slot: u32,
    /// Inode number.
    pub ino: u32,
    /// Entry type ([`ftype`]).
    pub ftype: u8,
    /// The name (1-255 bytes, no `/` or NUL).
    pub name: &'a [u8],
}

/// Iterator over the live entries of a directory block, as returned by
/// [`dir_entries`]. Yields an error (and then stops) at a malformed slot.
pub struct DirIter<'a> {
    block: &'a Block,
    slot: u32,
    failed: bool,
}

/// Iterates over the live entries of a directory block, starting at slot
/// `from`. The caller verifies the block's checksum first.
pub fn dir_entries(block: &Block, from: u32) -> DirIter<'_> {
    DirIter {
        block,
        slot: from,
        failed: false,
    }
}

impl<'a> Iterator for DirIter<'a> {
    type Item = Result<Dirent<'a>, FormatError>;

    fn next(&mut self) -> Option<Self::Item> {
        while !self.failed && self.slot < DIRENT_SLOTS_PER_BLOCK {
            let slot = self.slot;
            let off = slot as usize * DIRENT_SLOT_SIZE;
            let ino = get_u32(self.block, off);
            let slots = self.block[off + 4] as u32;
            let name_len = self.block[off + 5] as usize;
            if ino == NULL {
                if slots != 0 {
                    self.failed = true;
                    return Some(Err(FormatError::BadValue));
                }
                self.slot += 1;
                continue;
            }
            let end = off + DIRENT_HEADER_SIZE + name_len;
            if name_len == 0
                || slots != dirent_slots(name_len)
                || slot + slots > DIRENT_SLOTS_PER_BLOCK
                || end > DIRENT_SLOTS_PER_BLOCK as usize * DIRENT_SLOT_SIZE
            {
                self.failed = true;
                return Some(Err(FormatError::BadValue));
            }
            let name = &self.block[off + DIRENT_HEADER_SIZE..end];
            if name.iter().any(|&c| c == 0 || c == b'/') {
                self.failed = true;
                return Some(Err(FormatError::BadValue));
            }
            self.slot += slots;
            return Some(Ok(Dirent {
                slot,
                ino,
                ftype: self.block[off + 6],
                name,
            }));
        }
        None
    }
}

/// Finds the first run of `need` free slots in a directory block, at or
/// after slot 0. Returns the first slot of the run.
pub fn dir_find_free(block: &Block, need: u32) -> Option<u32> {
    let mut run_start = 0;
    let mut run = 0;
    let mut slot = 0;
    while slot < DIRENT_SLOTS_PER_BLOCK {
        let off = slot as usize * DIRENT_SLOT_SIZE;
        if get_u32(block, off) == NULL {
            if run == 0 {
                run_start = slot;
            }
            run += 1;
            if run == need {
                return Some(run_start);
            }
            slot += 1;
        } else {
            run = 0;
            slot += (block[off + 4] as u32).max(1);
        }
    }
    None
}

/// Writes an entry at `slot` (which must start a run of free slots long
/// enough, see [`dir_find_free`]). Returns `false`, writing nothing, if the
/// name is invalid or does not fit. The caller seals the block.
pub fn dir_insert(block: &mut Block, slot: u32, ino: u32, ftype: u8, name: &[u8]) -> bool {
    let slots = dirent_slots(name.len());
    if name.is_empty()
        || name.len() > NAME_MAX
        || ino == NULL
        || slot + slots > DIRENT_SLOTS_PER_BLOCK
        || name.iter().any(|&c| c == 0 || c == b'/')
    {
        return false;
    }
    let off = slot as usize * DIRENT_SLOT_SIZE;
    let len = slots as usize * DIRENT_SLOT_SIZE;
    block[off..off + len].fill(0);
    put_u32(block, off, ino);
    block[off + 4] = slots as u8;
    block[off + 5] = name.len() as u8;
    block[off + 6] = ftype;
    block[off + DIRENT_HEADER_SIZE..off + DIRENT_HEADER_SIZE + name.len()].copy_from_slice(name);
    true
}

/// Removes the entry starting at `slot` (zeroes all its slots). Returns
/// `false` if no entry starts there. The caller seals the block.
pub fn dir_remove(block: &mut Block, slot: u32) -> bool {
    if slot >= DIRENT_SLOTS_PER_BLOCK {
        return false;
    }
    let off = slot as usize * DIRENT_SLOT_SIZE;
    let slots = block[off + 4] as u32;
    if get_u32(block, off) == NULL || slots == 0 || slot + slots > DIRENT_SLOTS_PER_BLOCK {
        return false;
    }
    block[off..off + slots as usize * DIRENT_SLOT_SIZE].fill(0);
    true
}

/// Repoints the entry at `slot` to another inode (rename over an existing
/// name). Returns `false` if no entry starts there. The caller seals.
pub fn dir_set_ino(block: &mut Block, slot: u32, ino: u32, ftype: u8) -> bool {
    if slot >= DIRENT_SLOTS_PER_BLOCK || ino == NULL {
        return false;
    }
    let off = slot as usize * DIRENT_SLOT_SIZE;
    if get_u32(block, off) == NULL {
        return false;
    }
    put_u32(block, off, ino);
    block[off + 6] = ftype;
    true
}
