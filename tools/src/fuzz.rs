// SPDX-License-Identifier: GPL-2.0

//! Field-aware image fuzzing (`dinofs-fuzz`).
//!
//! A base image holds one of everything the format can describe (nested and
//! multi-block directories, long names, files through the double and triple
//! indirect blocks, a symlink, device nodes, hard links, two orphans). Each
//! mutation picks one metadata field — a superblock counter or geometry
//! field, an inode field, a directory slot field, an indirect pointer, a
//! bitmap bit, an orphan link — sets it to a boundary or cross-reference
//! value (0, 1, the maximum, the filesystem size plus or minus one, another
//! inode's number, a metadata block, the entry's own directory or parent)
//! and **reseals the checksum**, so the kernel's and fsck's structure checks,
//! not the checksum, are what meet the value. XFS's fuzz tests do the same
//! with `xfs_db fuzz` (xfs/350-400). Everything is deterministic in
//! `(seed, index)`, so a failing image is replayed with
//! `dinofs-fuzz image --seed S --index I`.

use crate::builder::{Builder, MkfsOptions};
use crate::crc32c;
use crate::device::Device;
use crate::format::{
    self, dirent_slots, ino_cluster, make_ino, Block, Inode, Superblock, BLOCK_SIZE,
    DIRENT_SLOTS_PER_BLOCK, DIRENT_SLOT_SIZE, INODES_PER_CLUSTER, PTRS_PER_BLOCK, S_IFBLK, S_IFCHR,
    S_IFDIR, S_IFIFO, S_IFLNK, S_IFMT, S_IFREG, S_IFSOCK,
};
use crate::journal::{JournalSuperblock, LogWriter};
use crate::Result;
use std::path::Path;

/// Size of the base image in blocks (1 MiB: cheap to write per image).
pub const BASE_BLOCKS: u64 = format::MIN_BLOCKS;

/// xorshift64*: small and deterministic.
pub struct Rng(u64);

impl Rng {
    /// The generator for image `index` of campaign `seed`.
    pub fn for_image(seed: u64, index: u64) -> Self {
        let mut r = Rng((seed.wrapping_mul(0xd1b5_4a32_d192_ed03)
            ^ index.wrapping_mul(0x9e37_79b9_7f4a_7c15))
            | 1);
        r.next_u64();
        r
    }

    /// The next number.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number below `n` (`n > 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    /// One of `items` (not empty).
    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }
}

/// Writes the base image to `path` (created or truncated).
pub fn write_base(path: &Path) -> Result<()> {
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(path)?;
    file.set_len(BASE_BLOCKS * BLOCK_SIZE as u64)?;
    let mut b = Builder::format(Device::from_file(file)?, &MkfsOptions::new(BASE_BLOCKS)?)?;
    let root = b.root();
    let a = b.mkdir(root, "a", 0o755)?;
    let deep = b.mkdir(a, "b", 0o700)?;
    b.create_file(a, "hello", 0o644, &b"hello, dinofs\n".repeat(40))?;
    b.create_file(deep, "deep", 0o600, b"deep\n")?;
    let data: Vec<u8> = (0..12 * BLOCK_SIZE).map(|i| (i % 251) as u8 + 1).collect();
    let big = b.create_file(root, "big", 0o644, &data)?;
    b.link(a, "hardlink", big)?;
    let sparse = b.create_file(root, "sparse", 0o644, b"start")?;
    let double = format::DIRECT_BLOCKS as u64 + PTRS_PER_BLOCK + 3;
    let triple = double + PTRS_PER_BLOCK * PTRS_PER_BLOCK;
    b.write_at(sparse, double * BLOCK_SIZE as u64, b"double")?;
    b.write_at(sparse, triple * BLOCK_SIZE as u64 + 9, b"triple")?;
    b.symlink(root, "link", "a/hello")?;
    b.mknod(root, "null", S_IFCHR | 0o666, (1 << 8) | 3)?;
    b.mknod(root, "disk", S_IFBLK | 0o660, (8 << 8) | 1)?;
    b.mknod(root, "fifo", S_IFIFO | 0o644, 0)?;
    b.mknod(root, "sock", S_IFSOCK | 0o755, 0)?;
    b.create_file(a, vec![b'x'; format::NAME_MAX], 0o644, b"long name")?;
    let many = b.mkdir(root, "many", 0o755)?;
    for i in 0..80 {
        let name = format!("a-name-long-enough-for-two-slots-{i:03}-{:0>40}", i);
        b.create_file(many, name, 0o644, &[])?;
    }
    b.create_file(root, "open1", 0o644, b"orphan one")?;
    b.create_file(root, "open2", 0o644, &data)?;
    b.unlink_open(root, "open1")?;
    b.unlink_open(root, "open2")?;
    b.finish()?;
    Ok(())
}

/// What the base image holds, found by reading it.
struct Layout {
    sb: Superblock,
    geo: format::Geometry,
    blocks: u64,
    metadata: Vec<u32>,
    inodes: Vec<u32>,
    /// (directory inode, its block) for every directory block.
    dir_blocks: Vec<(u32, u32)>,
    indirect: Vec<u32>,
    data: Vec<u32>,
}

fn block(image: &[u8], n: u32) -> &Block {
    let base = n as usize * BLOCK_SIZE;
    <&Block>::try_from(&image[base..base + BLOCK_SIZE]).expect("block inside the image")
}

fn block_mut(image: &mut [u8], n: u32) -> &mut Block {
    let base = n as usize * BLOCK_SIZE;
    <&mut Block>::try_from(&mut image[base..base + BLOCK_SIZE]).expect("block inside the image")
}

fn layout(image: &[u8]) -> Layout {
    let sb = Superblock::decode(block(image, 0), crc32c).expect("a valid base image");
    let geo = sb.geometry().expect("valid geometry");
    let blocks = sb.blocks;
    // Block 0, the journal superblock and the bitmaps; not the journal's
    // log, all zeroes and never read while the log is empty.
    let metadata: Vec<u32> = [0, geo.journal_start]
        .into_iter()
        .chain(geo.bitmap_start..geo.data_start)
        .collect();
    let mut l = Layout {
        sb,
        geo,
        blocks,
        metadata,
        inodes: Vec::new(),
        dir_blocks: Vec::new(),
        indirect: Vec::new(),
        data: Vec::new(),
    };
    let cmap = block(image, geo.clustermap_start);
    for c in geo.data_start..blocks as u32 {
        let (_, bit) = format::bitmap_pos(c as u64);
        if !format::bit_test(cmap, bit) {
            continue;
        }
        for slot in 0..INODES_PER_CLUSTER {
            let ino = make_ino(c, slot);
            let Ok(Some(inode)) = Inode::decode(block(image, c), ino, &geo, crc32c) else {
                continue;
            };
            l.inodes.push(ino);
            let is_dir = inode.mode & S_IFMT == S_IFDIR;
            for &p in inode.direct.iter().filter(|&&p| p != 0) {
                if is_dir {
                    l.dir_blocks.push((ino, p));
                } else {
                    l.data.push(p);
                }
            }
            for top in [inode.indirect, inode.dindirect, inode.tindirect] {
                if top != 0 {
                    l.indirect.push(top);
                }
            }
        }
    }
    l
}

/// Boundary and cross-reference values for a block pointer.
fn block_value(rng: &mut Rng, l: &Layout) -> u32 {
    let b = l.blocks as u32;
    match rng.below(9) {
        0 => 0,
        1 => 1,
        2 => b - 1,
        3 => b,
        4 => b.wrapping_add(1),
        5 => u32::MAX,
        6 => rng.pick(&l.metadata),
        7 if !l.data.is_empty() => rng.pick(&l.data),
        _ => rng.pick(&l.indirect),
    }
}

/// Boundary and cross-reference values for an inode number.
fn ino_value(rng: &mut Rng, l: &Layout, own: u32) -> u32 {
    match rng.below(7) {
        0 => 0,
        1 => own,
        2 => u32::MAX,
        3 => make_ino(l.blocks as u32, 0),
        4 => own.wrapping_add(1),
        _ => rng.pick(&l.inodes),
    }
}

/// Boundary values for a counter.
fn count_value(rng: &mut Rng, max: u64) -> u64 {
    match rng.below(6) {
        0 => 0,
        1 => 1,
        2 => max.saturating_sub(1),
        3 => max,
        4 => max.saturating_add(1),
        _ => u64::MAX,
    }
}

/// Separates the journal's random stream from the rest of an image's.
const JOURNAL_STREAM: u64 = 0x6a62_6432; // "jbd2"

/// A hostile journal: a journal superblock field set to a boundary value
/// (resealed, so jbd2's own checks are what meet it), or transactions
/// planted in the log (by [`LogWriter`], checksums valid) that write a
/// metadata block, a block of the journal itself or one past the end,
/// maybe damaged after the fact or left without its commit block.
fn mutate_journal(image: &mut [u8], rng: &mut Rng, l: &Layout) -> String {
    let at = l.geo.journal_start;
    let Some(mut j) = JournalSuperblock::decode(block(image, at)) else {
        return "journal superblock already gone".into();
    };
    if rng.below(2) == 0 {
        let (field, what) = match rng.below(7) {
            0 => {
                j.start = [j.first, j.first + 1, j.maxlen - 1, j.maxlen, u32::MAX, 1]
                    [rng.below(6) as usize];
                ("start", j.start)
            }
            1 => {
                j.maxlen = [j.maxlen - 1, j.maxlen + 1, 1023, u32::MAX][rng.below(4) as usize];
                ("maxlen", j.maxlen)
            }
            2 => {
                j.first = [0, 1, j.maxlen, j.maxlen - 1][rng.below(4) as usize];
                ("first", j.first)
            }
            3 => {
                j.incompat = 1 << rng.below(32);
                ("incompat", j.incompat)
            }
            4 => {
                j.errno = -(rng.below(140) as i32);
                ("errno", j.errno as u32)
            }
            5 => {
                j.blocktype = rng.below(6) as u32;
                ("blocktype", j.blocktype)
            }
            _ => {
                j.sequence = rng.next_u64() as u32;
                ("sequence", j.sequence)
            }
        };
        j.encode(block_mut(image, at), crc32c);
        return format!("journal superblock {field} = {what:#x}");
    }
    // Planted transactions.
    let mut w = LogWriter::new(&j, crc32c);
    let mut targets = Vec::new();
    for _ in 0..1 + rng.below(2) {
        let n = 1 + rng.below(3);
        let mut blocks = Vec::new();
        for _ in 0..n {
            let target = match rng.below(5) {
                0 => rng.pick(&l.metadata),
                1 => at + rng.below(l.geo.journal_blocks as u64) as u32,
                2 => (l.blocks + rng.below(64)) as u32,
                _ => rng.pick(&l.metadata).max(l.geo.data_start) + rng.below(64) as u32,
            };
            let src = rng.pick(&l.metadata).max(l.geo.bitmap_start);
            let mut data = Box::new(*block(image, src));
            let flip = rng.below(BLOCK_SIZE as u64) as usize;
            data[flip] ^= 1 << rng.below(8);
            targets.push(target);
            blocks.push((target, data));
        }
        let revokes: Vec<u32> = if rng.below(3) == 0 {
            vec![targets[0]]
        } else {
            vec![]
        };
        w.transaction(&blocks, &revokes, rng.below(5) != 0);
    }
    for (n, b) in &w.out {
        if (*n as u64) < l.blocks {
            *block_mut(image, *n) = **b;
        }
    }
    let mut damaged = String::new();
    if rng.below(3) == 0 {
        let (n, _) = w.out[rng.below(w.out.len() as u64) as usize];
        let off = rng.below(BLOCK_SIZE as u64) as usize;
        block_mut(image, n)[off] ^= 0x40;
        damaged = format!(", log block {n} byte {off} damaged");
    }
    j.start = j.first;
    j.update(block_mut(image, at), crc32c);
    format!("journal: transactions planted writing {targets:?}{damaged}")
}

fn mutate_superblock(image: &mut [u8], rng: &mut Rng, l: &Layout) -> String {
    // An earlier mutation of this image may have made it undecodable.
    let mut sb = Superblock::decode(block(image, 0), crc32c).unwrap_or(l.sb);
    let blocks = l.blocks;
    let field = rng.below(10);
    let what = match field {
        0 => {
            sb.free_blocks = count_value(rng, blocks);
            "free_blocks"
        }
        1 => {
            sb.clusters = count_value(rng, blocks) as u32;
            "clusters"
        }
        2 => {
            sb.free_inodes = count_value(rng, blocks * 32) as u32;
            "free_inodes"
        }
        3 => {
            sb.orphan_head = ino_value(rng, l, sb.orphan_head);
            "orphan_head"
        }
        4 => {
            sb.root_ino = ino_value(rng, l, sb.root_ino);
            "root_ino"
        }
        5 => {
            sb.state = rng.below(4) as u32;
            "state"
        }
        6 => {
            sb.bitmap_start = block_value(rng, l);
            "bitmap_start"
        }
        7 => {
            sb.clustermap_start = block_value(rng, l);
            "clustermap_start"
        }
        8 => {
            sb.blocks = count_value(rng, blocks);
            "blocks"
        }
        _ => {
            sb.next_generation = u32::MAX;
            "next_generation"
        }
    };
    sb.encode(block_mut(image, 0), crc32c);
    format!("superblock {what} changed ({sb:?})")
}

fn mutate_inode(image: &mut [u8], rng: &mut Rng, l: &Layout) -> String {
    let ino = rng.pick(&l.inodes);
    let cluster = ino_cluster(ino);
    let Ok(Some(mut inode)) = Inode::decode(block(image, cluster), ino, &l.geo, crc32c) else {
        return format!("inode {ino} already damaged");
    };
    let what = match rng.below(12) {
        0 => {
            let types = [
                S_IFREG, S_IFDIR, S_IFLNK, S_IFBLK, S_IFCHR, S_IFIFO, S_IFSOCK, 0, S_IFMT,
            ];
            inode.mode = (inode.mode & !S_IFMT) | rng.pick(&types);
            format!("mode = {:#o}", inode.mode)
        }
        1 => {
            inode.nlink = count_value(rng, 2) as u32;
            format!("nlink = {}", inode.nlink)
        }
        2 => {
            inode.size = count_value(rng, format::MAX_FILE_SIZE);
            format!("size = {}", inode.size)
        }
        3 => {
            inode.blocks = count_value(rng, l.blocks) as u32;
            format!("blocks = {}", inode.blocks)
        }
        4..=6 => {
            let i = rng.below(format::DIRECT_BLOCKS as u64) as usize;
            inode.direct[i] = block_value(rng, l);
            format!("direct[{i}] = {}", inode.direct[i])
        }
        7 => {
            inode.indirect = block_value(rng, l);
            format!("indirect = {}", inode.indirect)
        }
        8 => {
            inode.dindirect = block_value(rng, l);
            format!("dindirect = {}", inode.dindirect)
        }
        9 => {
            inode.tindirect = block_value(rng, l);
            format!("tindirect = {}", inode.tindirect)
        }
        10 => {
            inode.orphan_next = ino_value(rng, l, ino);
            format!("orphan_next = {}", inode.orphan_next)
        }
        _ => {
            inode.orphan_prev = ino_value(rng, l, ino);
            format!("orphan_prev = {}", inode.orphan_prev)
        }
    };
    inode.encode(block_mut(image, cluster), ino, crc32c);
    format!("inode {ino} {what}")
}

fn mutate_dirent(image: &mut [u8], rng: &mut Rng, l: &Layout) -> String {
    let (dir, b) = rng.pick(&l.dir_blocks);
    let live: Vec<u32> = format::dir_entries(block(image, b), 0)
        .filter_map(|e| e.ok().map(|e| e.slot))
        .collect();
    let slot = if live.is_empty() || rng.below(8) == 0 {
        rng.below(DIRENT_SLOTS_PER_BLOCK as u64) as u32
    } else {
        rng.pick(&live)
    };
    let off = slot as usize * DIRENT_SLOT_SIZE;
    let blk = block_mut(image, b);
    let field = rng.below(6);
    let what = match field {
        0 => {
            let v = ino_value(rng, l, dir);
            blk[off..off + 4].copy_from_slice(&v.to_le_bytes());
            format!("ino = {v}")
        }
        1 => {
            let v = rng.pick(&[0u8, 1, 4, 5, 6, 63, 255]);
            blk[off + 4] = v;
            format!("slots = {v}")
        }
        2 => {
            let v = rng.pick(&[0u8, 1, 56, 57, 255]);
            blk[off + 5] = v;
            format!("name_len = {v} (fits {} slot(s))", dirent_slots(v as usize))
        }
        3 => {
            let v = rng.below(10) as u8;
            blk[off + 6] = v;
            format!("ftype = {v}")
        }
        4 => {
            let v = rng.pick(&[b'/', 0, b'.']);
            blk[off + 8] = v;
            blk[off + 9] = if v == b'.' { b'.' } else { blk[off + 9] };
            format!("name byte = {v:#x}")
        }
        _ => {
            // "." and ".." slots pointing elsewhere.
            let v = ino_value(rng, l, dir);
            let s = rng.below(2) as usize * DIRENT_SLOT_SIZE;
            blk[s..s + 4].copy_from_slice(&v.to_le_bytes());
            format!("dot entry {} ino = {v}", s / DIRENT_SLOT_SIZE)
        }
    };
    format::seal_block(blk, crc32c);
    format!("directory {dir} block {b} slot {slot}: {what}")
}

fn mutate_indirect(image: &mut [u8], rng: &mut Rng, l: &Layout) -> String {
    let b = rng.pick(&l.indirect);
    let used: Vec<u32> = (0..PTRS_PER_BLOCK as u32)
        .filter(|&i| format::indirect_get(block(image, b), i) != 0)
        .collect();
    let i = if used.is_empty() || rng.below(4) == 0 {
        rng.below(PTRS_PER_BLOCK) as u32
    } else {
        rng.pick(&used)
    };
    let v = if rng.below(6) == 0 {
        b
    } else {
        block_value(rng, l)
    };
    let blk = block_mut(image, b);
    format::indirect_set(blk, i, v);
    format::seal_block(blk, crc32c);
    format!("indirect block {b} pointer {i} = {v}")
}

fn mutate_bitmap(image: &mut [u8], rng: &mut Rng, l: &Layout) -> String {
    let (start, which) = if rng.below(2) == 0 {
        (l.sb.bitmap_start, "block bitmap")
    } else {
        (l.sb.clustermap_start, "cluster map")
    };
    let target = match rng.below(3) {
        0 => rng.pick(&l.metadata),
        1 => rng.pick(&l.indirect),
        _ => rng.below(l.blocks) as u32,
    };
    let (_, bit) = format::bitmap_pos(target as u64);
    let blk = block_mut(image, start);
    let old = format::bit_test(blk, bit);
    format::bit_assign(blk, bit, !old);
    format::seal_block(blk, crc32c);
    format!("{which} bit {target}: {old} -> {}", !old)
}

fn mutate_garbage(image: &mut [u8], rng: &mut Rng, l: &Layout) -> String {
    let mut candidates = l.indirect.clone();
    candidates.extend(l.dir_blocks.iter().map(|&(_, b)| b));
    candidates.extend(&l.metadata[1..]);
    let b = rng.pick(&candidates);
    let off = rng.below(BLOCK_SIZE as u64 / 64) as usize * 64;
    let blk = block_mut(image, b);
    for x in &mut blk[off..off + 64] {
        *x = rng.next_u64() as u8;
    }
    format::seal_block(blk, crc32c);
    format!("block {b} bytes {off}..+64 garbage, resealed")
}

/// Applies mutation `index` of campaign `seed` to `image` (a copy of the
/// base); returns what it changed. One to three fields change.
pub fn mutate(image: &mut [u8], seed: u64, index: u64) -> String {
    let l = layout(image);
    let mut rng = Rng::for_image(seed, index);
    let mut what = Vec::new();
    // The journal, in one image of six, from a stream of its own (so the
    // other mutations of an image, and the replay indices recorded for
    // them, did not change when the journal joined).
    let mut jrng = Rng::for_image(seed ^ JOURNAL_STREAM, index);
    if jrng.below(6) == 0 {
        what.push(mutate_journal(image, &mut jrng, &l));
    }
    for _ in 0..1 + rng.below(3) {
        let m = match rng.below(16) {
            0 | 1 => mutate_superblock(image, &mut rng, &l),
            2..=6 => mutate_inode(image, &mut rng, &l),
            7..=10 => mutate_dirent(image, &mut rng, &l),
            11 | 12 => mutate_indirect(image, &mut rng, &l),
            13 | 14 => mutate_bitmap(image, &mut rng, &l),
            _ => mutate_garbage(image, &mut rng, &l),
        };
        what.push(m);
    }
    what.join("; ")
}
