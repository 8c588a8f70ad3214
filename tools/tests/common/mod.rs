// SPDX-License-Identifier: GPL-2.0

//! Helpers shared by the integration tests: temporary images, running the
//! binaries, a sample filesystem with one of everything, and raw block
//! edits for injecting corruption.

#![allow(dead_code)] // each test crate uses a different subset

use dinofs_tools::builder::{Builder, MkfsOptions};
use dinofs_tools::crc32c;
use dinofs_tools::device::Device;
use dinofs_tools::format::{
    self, Block, Inode, Superblock, Timestamp, BLOCK_SIZE, DIRECT_BLOCKS, PTRS_PER_BLOCK, S_IFBLK,
    S_IFCHR, S_IFIFO, S_IFSOCK,
};
use std::fs::OpenOptions;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

pub const MKFS: &str = env!("CARGO_BIN_EXE_mkfs_dinofs");
pub const FSCK: &str = env!("CARGO_BIN_EXE_fsck_dinofs");

/// A file in the temporary directory, removed when dropped.
pub struct TempImage {
    pub path: PathBuf,
}

impl TempImage {
    /// A fresh path (the file does not exist yet).
    pub fn new(tag: &str) -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let name = format!("dinofs-test-{}-{tag}-{n}.img", std::process::id());
        let path = std::env::temp_dir().join(name);
        let _ = std::fs::remove_file(&path);
        Self { path }
    }

    /// A fresh path holding a sparse file of `blocks` blocks.
    pub fn with_blocks(tag: &str, blocks: u64) -> Self {
        let img = Self::new(tag);
        let f = OpenOptions::new()
            .create(true)
            .truncate(true)
            .write(true)
            .open(&img.path)
            .unwrap();
        f.set_len(blocks * BLOCK_SIZE as u64).unwrap();
        img
    }

    pub fn device(&self, writable: bool) -> Device {
        Device::open(&self.path, writable).unwrap()
    }

    pub fn superblock(&self) -> Superblock {
        Superblock::decode(&self.read(0), crc32c).unwrap()
    }

    pub fn write_superblock(&self, sb: &Superblock) {
        let mut b = [0u8; BLOCK_SIZE];
        sb.encode(&mut b, crc32c);
        self.write(0, &b);
    }

    pub fn read(&self, n: u32) -> Box<Block> {
        self.device(false).read_block(n as u64).unwrap()
    }

    pub fn write(&self, n: u32, b: &Block) {
        self.device(true).write_block(n as u64, b).unwrap();
    }

    /// Reads, edits and writes back block `n`.
    pub fn edit(&self, n: u32, f: impl FnOnce(&mut Block)) {
        let mut b = self.read(n);
        f(&mut b);
        self.write(n, &b);
    }

    /// Like [`edit`](Self::edit), resealing the block's checksum.
    pub fn edit_sealed(&self, n: u32, f: impl FnOnce(&mut Block)) {
        self.edit(n, |b| {
            f(b);
            format::seal_block(b, crc32c);
        });
    }

    pub fn inode(&self, ino: u32) -> Inode {
        let c = self.read(format::ino_cluster(ino));
        Inode::decode(&c, ino, &self.superblock().geometry().unwrap(), crc32c)
            .unwrap()
            .unwrap()
    }

    /// Reads, edits and writes back inode `ino` (with a valid checksum).
    pub fn edit_inode(&self, ino: u32, f: impl FnOnce(&mut Inode)) {
        let mut inode = self.inode(ino);
        f(&mut inode);
        self.edit(format::ino_cluster(ino), |c| inode.encode(c, ino, crc32c));
    }

    /// Sets or clears `block`'s bit in the block bitmap (or, with
    /// `cluster_map`, in the inode-cluster map), resealing it.
    pub fn set_bitmap_bit(&self, cluster_map: bool, block: u64, value: bool) {
        let sb = self.superblock();
        let start = if cluster_map {
            sb.clustermap_start
        } else {
            sb.bitmap_start
        };
        let (index, bit) = format::bitmap_pos(block);
        self.edit_sealed(start + index, |b| format::bit_assign(b, bit, value));
    }

    pub fn bitmap_bit(&self, cluster_map: bool, block: u64) -> bool {
        let sb = self.superblock();
        let start = if cluster_map {
            sb.clustermap_start
        } else {
            sb.bitmap_start
        };
        let (index, bit) = format::bitmap_pos(block);
        format::bit_test(&self.read(start + index), bit)
    }
}

impl Drop for TempImage {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Output of a binary run.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// stdout and stderr together, for "does it mention ..." checks.
    pub fn text(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

pub fn run(bin: &str, args: &[&str]) -> Run {
    let out = Command::new(bin).args(args).output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

pub fn fsck(flag: &str, path: &Path) -> Run {
    run(FSCK, &[flag, path.to_str().unwrap()])
}

/// Asserts a clean `fsck -n`.
pub fn assert_clean(path: &Path) {
    let r = fsck("-n", path);
    assert_eq!(r.code, 0, "fsck -n not clean:\n{}", r.text());
}

/// Fixed mkfs options, so images are reproducible.
pub fn mkfs_options(blocks: u64) -> MkfsOptions {
    MkfsOptions {
        blocks,
        label: *b"test\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0",
        uuid: [7; 16],
        time: Timestamp {
            sec: 1_700_000_000,
            nsec: 5,
        },
        journal_blocks: None,
        journal_sequence: 1,
    }
}

/// A builder over a fresh image of `blocks` blocks.
pub fn new_builder(tag: &str, blocks: u64) -> (TempImage, Builder) {
    let img = TempImage::with_blocks(tag, blocks);
    let b = Builder::format(img.device(true), &mkfs_options(blocks)).unwrap();
    (img, b)
}

/// Inode numbers of the sample filesystem's objects.
#[derive(Clone, Copy, Debug)]
pub struct Sample {
    pub root: u32,
    /// `/a`
    pub dir_a: u32,
    /// `/a/b`
    pub dir_b: u32,
    /// `/a/hello.txt`, one data block.
    pub hello: u32,
    /// `/a/b/deep.txt`, one data block.
    pub deep: u32,
    /// `/big.bin`, 20 blocks (direct + single indirect), also `/hardlink`.
    pub big: u32,
    /// `/sparse.bin`: data in block 0, the double and triple indirect
    /// ranges, holes between.
    pub sparse: u32,
    /// `/many`: a directory of 100 files (two directory blocks).
    pub many: u32,
    pub symlink: u32,
    pub chr: u32,
    pub fifo: u32,
    /// Two unlinked-but-open files on the orphan list.
    pub orphans: [u32; 2],
}

/// File block of the sparse file inside the double indirect range.
pub const SPARSE_DOUBLE: u64 = DIRECT_BLOCKS as u64 + PTRS_PER_BLOCK + 5;
/// File block of the sparse file inside the triple indirect range.
pub const SPARSE_TRIPLE: u64 =
    DIRECT_BLOCKS as u64 + PTRS_PER_BLOCK + PTRS_PER_BLOCK * PTRS_PER_BLOCK + 7;

pub fn hello_data() -> Vec<u8> {
    b"hello, dinofs\n".repeat(100)
}

pub fn big_data() -> Vec<u8> {
    (0..20 * BLOCK_SIZE).map(|i| (i % 251) as u8 + 1).collect()
}

/// Builds the sample filesystem: directories, regular files (one sparse
/// through the double and triple indirect blocks), a symlink, device
/// nodes, a FIFO, a socket, hard links, a 255-byte name, a two-block
/// directory and two orphans.
pub fn build_sample(b: &mut Builder) -> Sample {
    let root = b.root();
    let dir_a = b.mkdir(root, "a", 0o755).unwrap();
    let dir_b = b.mkdir(dir_a, "b", 0o700).unwrap();
    let hello = b
        .create_file(dir_a, "hello.txt", 0o644, &hello_data())
        .unwrap();
    let deep = b.create_file(dir_b, "deep.txt", 0o600, b"deep\n").unwrap();
    let big = b.create_file(root, "big.bin", 0o644, &big_data()).unwrap();
    b.link(root, "hardlink", big).unwrap();
    let sparse = b.create_file(root, "sparse.bin", 0o644, b"start").unwrap();
    b.write_at(sparse, SPARSE_DOUBLE * BLOCK_SIZE as u64, b"double")
        .unwrap();
    b.write_at(sparse, SPARSE_TRIPLE * BLOCK_SIZE as u64 + 100, b"triple")
        .unwrap();
    let symlink = b.symlink(root, "link", "a/hello.txt").unwrap();
    let chr = b
        .mknod(root, "null", S_IFCHR | 0o666, (1 << 8) | 3)
        .unwrap();
    b.mknod(root, "disk", S_IFBLK | 0o660, (8 << 8) | 1)
        .unwrap();
    let fifo = b.mknod(root, "fifo", S_IFIFO | 0o644, 0).unwrap();
    b.mknod(root, "sock", S_IFSOCK | 0o755, 0).unwrap();
    let long = vec![b'x'; format::NAME_MAX];
    b.create_file(dir_a, &long, 0o644, b"long name").unwrap();
    let many = b.mkdir(root, "many", 0o755).unwrap();
    for i in 0..100 {
        b.create_file(many, format!("file-{i:03}"), 0o644, &[])
            .unwrap();
    }
    b.link(many, "chr-link", chr).unwrap();
    let o1 = b.create_file(root, "open1", 0o644, &hello_data()).unwrap();
    let o2 = b.create_file(root, "open2", 0o644, &big_data()).unwrap();
    b.unlink_open(root, "open1").unwrap();
    b.unlink_open(root, "open2").unwrap();
    // A created-then-deleted file leaves nothing behind.
    b.create_file(root, "temp", 0o644, &big_data()).unwrap();
    b.unlink(root, "temp").unwrap();
    Sample {
        root,
        dir_a,
        dir_b,
        hello,
        deep,
        big,
        sparse,
        many,
        symlink,
        chr,
        fifo,
        orphans: [o2, o1], // o2 is the head: unlinked last
    }
}

/// A finished sample image of 4096 blocks.
pub fn sample_image(tag: &str) -> (TempImage, Sample) {
    sample_image_sized(tag, 4096)
}

/// A finished sample image of `blocks` blocks (at least 512).
pub fn sample_image_sized(tag: &str, blocks: u64) -> (TempImage, Sample) {
    let (img, mut b) = new_builder(tag, blocks);
    let s = build_sample(&mut b);
    b.finish().unwrap();
    (img, s)
}
