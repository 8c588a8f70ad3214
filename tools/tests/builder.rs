// SPDX-License-Identifier: GPL-2.0

//! The image builder: what mkfs lays down, the sample filesystem read
//! back, and fsck (library) finding it all consistent.

mod common;

use common::*;
use dinofs_tools::builder::{mkfs, Builder};
use dinofs_tools::crc32c;
use dinofs_tools::format::*;
use dinofs_tools::fsck::{self, Options, Severity};
use dinofs_tools::Error;

#[test]
fn mkfs_layout() {
    let img = TempImage::with_blocks("layout", 2048);
    let sb = mkfs(img.device(true), &mkfs_options(2048)).unwrap();
    // The journal: its jbd2 superblock valid and empty, its log zeroed,
    // its blocks in use.
    let g0 = Geometry::for_blocks(2048).unwrap();
    assert_eq!((sb.journal_start, sb.journal_blocks), (1, 1024));
    let jsb = img.read(1);
    assert!(
        dinofs_tools::journal::JournalSuperblock::check(&jsb, &g0, &sb.uuid, crc32c).is_empty()
    );
    let j = dinofs_tools::journal::JournalSuperblock::decode(&jsb).unwrap();
    assert_eq!((j.first, j.maxlen, j.start, j.sequence), (2, 1025, 0, 1));
    for b in 2..=1024 {
        assert!(img.read(b).iter().all(|&x| x == 0), "log block {b}");
    }
    let g = Geometry::for_blocks(2048).unwrap();
    assert_eq!(img.superblock(), sb);
    assert_eq!(sb.root_ino, make_ino(g.data_start, 0));
    assert_eq!(
        (sb.clusters, sb.free_inodes, sb.next_generation),
        (1, 31, 1)
    );
    assert_eq!(sb.free_blocks, 2048 - g.data_start as u64 - 2);
    assert_eq!((sb.state, sb.orphan_head), (STATE_CLEAN, NULL));
    assert_eq!(&sb.label[..5], b"test\0");

    let root = img.inode(sb.root_ino);
    assert_eq!(root.mode, S_IFDIR | 0o755);
    assert_eq!(
        (root.nlink, root.uid, root.gid, root.size, root.blocks),
        (2, 0, 0, 4096, 1)
    );
    assert_eq!(root.direct[0], g.data_start + 1);
    assert_eq!(root.mtime, mkfs_options(2048).time);

    let dir = img.read(g.data_start + 1);
    assert_eq!(verify_block(&dir, crc32c), Ok(()));
    let entries: Vec<(Vec<u8>, u32)> = dir_entries(&dir, 0)
        .map(|e| e.unwrap())
        .map(|e| (e.name.to_vec(), e.ino))
        .collect();
    assert_eq!(
        entries,
        vec![(b".".to_vec(), sb.root_ino), (b"..".to_vec(), sb.root_ino)]
    );

    for b in 0..2048u64 {
        assert_eq!(
            img.bitmap_bit(false, b),
            b < g.data_start as u64 + 2,
            "block bitmap bit {b}"
        );
        assert_eq!(
            img.bitmap_bit(true, b),
            b == g.data_start as u64,
            "cluster map bit {b}"
        );
    }
    let report = fsck::check(&img.device(false), &Options::default()).unwrap();
    assert_eq!(report.errors(), 0, "{:?}", report.lines());
    assert_eq!(
        (report.inodes_used, report.blocks_used),
        (1, g.data_start as u64 + 2)
    );
}

#[test]
fn sample_reads_back() {
    let (img, s) = sample_image("readback");
    let b = Builder::open(img.device(true)).unwrap();
    let root = b.root();
    assert_eq!(b.lookup(root, "a").unwrap(), Some(s.dir_a));
    assert_eq!(b.lookup(s.dir_a, "b").unwrap(), Some(s.dir_b));
    assert_eq!(b.lookup(s.dir_b, "deep.txt").unwrap(), Some(s.deep));
    assert_eq!(b.lookup(root, "hardlink").unwrap(), Some(s.big));
    assert_eq!(b.lookup(root, "open1").unwrap(), None);
    assert!(b.lookup(s.dir_a, [b'x'; NAME_MAX]).unwrap().is_some());
    assert_eq!(b.read_data(s.hello).unwrap(), hello_data());
    assert_eq!(b.read_data(s.big).unwrap(), big_data());
    assert_eq!(b.read_data(s.deep).unwrap(), b"deep\n");
    assert_eq!(b.read_data(s.symlink).unwrap(), b"a/hello.txt");

    // Link counts: root has subdirectories a and many; a has b.
    assert_eq!(img.inode(root).nlink, 4);
    assert_eq!(img.inode(s.dir_a).nlink, 3);
    assert_eq!(img.inode(s.dir_b).nlink, 2);
    assert_eq!(img.inode(s.big).nlink, 2);
    assert_eq!(img.inode(s.chr).nlink, 2);
    assert_eq!(img.inode(s.big).blocks, 21); // 20 data + 1 indirect
    assert_eq!(img.inode(s.many).size, 2 * BLOCK_SIZE as u64); // 104 entries

    let chr = img.inode(s.chr);
    assert_eq!(
        (chr.mode, chr.rdev, chr.size, chr.blocks),
        (S_IFCHR | 0o666, 0x103, 0, 0)
    );
    assert_eq!(img.inode(s.fifo).mode & S_IFMT, S_IFIFO);
    let link = img.inode(s.symlink);
    assert_eq!((link.mode, link.size), (S_IFLNK | 0o777, 11));

    // The orphan list: open2 (unlinked last) -> open1.
    let sb = img.superblock();
    let [o2, o1] = s.orphans;
    assert_eq!(sb.orphan_head, o2);
    let (i2, i1) = (img.inode(o2), img.inode(o1));
    assert_eq!((i2.nlink, i2.orphan_prev, i2.orphan_next), (0, NULL, o1));
    assert_eq!((i1.nlink, i1.orphan_prev, i1.orphan_next), (0, o2, NULL));
    assert_eq!(i2.blocks, 21);

    // More than one cluster was needed, and the counters add up.
    assert!(sb.clusters >= 4);
    let report = fsck::check(&img.device(false), &Options::default()).unwrap();
    assert_eq!(report.errors(), 0, "{:?}", report.lines());
    assert_eq!(
        report.inodes_used,
        sb.clusters as u64 * 32 - sb.free_inodes as u64
    );
    assert_eq!(report.blocks_used, sb.blocks - sb.free_blocks);
}

#[test]
fn sparse_file_uses_double_and_triple_indirect_blocks() {
    let (img, s) = sample_image("sparse");
    let b = Builder::open(img.device(true)).unwrap();
    let inode = img.inode(s.sparse);
    assert_eq!(inode.size, SPARSE_TRIPLE * BLOCK_SIZE as u64 + 106);
    assert!(inode.direct[0] != NULL && inode.direct[1..].iter().all(|&p| p == NULL));
    assert_eq!(inode.indirect, NULL); // nothing in the single indirect range
    assert!(inode.dindirect != NULL && inode.tindirect != NULL);
    // 3 data blocks; dindirect + 1 indirect; tindirect + 2 levels below.
    assert_eq!(inode.blocks, 3 + 2 + 3);
    assert_eq!(b.bmap(&inode, 1).unwrap(), NULL);
    assert_eq!(b.bmap(&inode, SPARSE_DOUBLE - 1).unwrap(), NULL);
    let double = b.bmap(&inode, SPARSE_DOUBLE).unwrap();
    assert_eq!(&img.read(double)[..6], b"double");
    let triple = b.bmap(&inode, SPARSE_TRIPLE).unwrap();
    assert_eq!(&img.read(triple)[100..106], b"triple");
    assert_eq!(b.bmap(&inode, SPARSE_TRIPLE + 1).unwrap(), NULL);
}

#[test]
fn zero_blocks_become_holes() {
    let (img, mut b) = new_builder("holes", MIN_BLOCKS);
    let mut data = vec![0u8; 5 * BLOCK_SIZE];
    data[2 * BLOCK_SIZE] = 1;
    data[5 * BLOCK_SIZE - 1] = 2;
    let ino = b.create_file(b.root(), "f", 0o644, &data).unwrap();
    let inode = b.read_inode(ino).unwrap();
    assert_eq!(inode.blocks, 2);
    assert_eq!(inode.direct.iter().filter(|&&p| p != NULL).count(), 2);
    assert_eq!(b.read_data(ino).unwrap(), data);
    b.finish().unwrap();
    assert_clean(&img.path);
}

#[test]
fn unlink_frees_everything() {
    let (img, mut b) = new_builder("unlink", MIN_BLOCKS);
    let root = b.root();
    let before = *b.superblock();
    let ino = b.create_file(root, "f", 0o644, &big_data()).unwrap();
    b.link(root, "g", ino).unwrap();
    b.unlink(root, "f").unwrap();
    assert_eq!(b.read_inode(ino).unwrap().nlink, 1);
    b.unlink(root, "g").unwrap();
    assert!(matches!(b.read_inode(ino), Err(Error::NotFound)));
    let after = *b.superblock();
    assert_eq!(
        (after.free_blocks, after.free_inodes, after.clusters),
        (before.free_blocks, before.free_inodes, before.clusters)
    );
    b.finish().unwrap();
    assert_clean(&img.path);
}

#[test]
fn a_cluster_emptied_by_unlink_is_freed() {
    let (img, mut b) = new_builder("cluster", MIN_BLOCKS);
    let root = b.root();
    // 31 fill the root's cluster, the 32nd needs a second one.
    for i in 0..32 {
        b.create_file(root, format!("f{i}"), 0o644, &[]).unwrap();
    }
    assert_eq!(b.superblock().clusters, 2);
    b.unlink(root, "f31").unwrap();
    assert_eq!(
        (b.superblock().clusters, b.superblock().free_inodes),
        (1, 0)
    );
    b.finish().unwrap();
    assert_clean(&img.path);
}

#[test]
fn namespace_errors() {
    let (_img, mut b) = new_builder("errors", MIN_BLOCKS);
    let root = b.root();
    let f = b.create_file(root, "f", 0o644, b"x").unwrap();
    assert!(matches!(
        b.create_file(root, "f", 0o644, b""),
        Err(Error::Exists)
    ));
    assert!(matches!(
        b.mkdir(root, "a/b", 0o755),
        Err(Error::Invalid(_))
    ));
    assert!(matches!(b.mkdir(root, "..", 0o755), Err(Error::Invalid(_))));
    assert!(matches!(
        b.mkdir(root, [b'n'; NAME_MAX + 1], 0o755),
        Err(Error::Invalid(_))
    ));
    assert!(matches!(b.mkdir(f, "x", 0o755), Err(Error::NotDir)));
    assert!(matches!(b.link(root, "root2", root), Err(Error::IsDir)));
    assert!(matches!(b.unlink(root, "nope"), Err(Error::NotFound)));
    assert!(matches!(
        b.mknod(root, "r", S_IFREG | 0o644, 0),
        Err(Error::Invalid(_))
    ));
    assert!(matches!(b.symlink(root, "s", ""), Err(Error::Invalid(_))));
    assert!(matches!(
        b.symlink(root, "s", [b'a'; SYMLINK_MAX + 1]),
        Err(Error::Invalid(_))
    ));
}

#[test]
fn fills_up_with_no_space() {
    let (img, mut b) = new_builder("full", MIN_BLOCKS);
    let root = b.root();
    let result = b.create_file(
        root,
        "huge",
        0o644,
        &vec![1u8; MIN_BLOCKS as usize * BLOCK_SIZE],
    );
    assert!(matches!(result, Err(Error::NoSpace)));
    assert_eq!(b.superblock().free_blocks, 0);
    b.finish().unwrap();
    // The failed file is consistent, just short.
    assert_clean(&img.path);
}

#[test]
fn open_existing_and_add() {
    let (img, s) = sample_image("reopen");
    let mut b = Builder::open(img.device(true)).unwrap();
    let d = b.mkdir(s.dir_b, "later", 0o755).unwrap();
    b.create_file(d, "x", 0o644, b"added after reopening")
        .unwrap();
    b.unlink(s.many, "file-050").unwrap();
    b.finish().unwrap();
    assert_clean(&img.path);
    let report = fsck::check(
        &img.device(false),
        &Options {
            repair: false,
            verbose: true,
        },
    )
    .unwrap();
    assert!(report.messages.iter().any(|m| m.severity == Severity::Note));
    assert_eq!(report.exit_code(), 0);
}

#[test]
fn running_out_of_inodes_and_blocks_stays_consistent() {
    let (img, mut b) = new_builder("exhaust", MIN_BLOCKS);
    let root = b.root();
    let mut i = 0;
    let err = loop {
        match b.create_file(
            root,
            format!("file-with-a-longish-name-{i:04}"),
            0o644,
            b"data",
        ) {
            Ok(_) => i += 1,
            Err(e) => break e,
        }
    };
    assert!(matches!(err, Error::NoSpace), "{err}");
    assert!(i > 20);
    b.finish().unwrap();
    assert_clean(&img.path);
}
