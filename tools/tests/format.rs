// SPDX-License-Identifier: GPL-2.0

//! Round trips through the shared on-disk format code (`rust/format.rs`):
//! superblock, inodes, directory entries, indirect blocks, bitmaps and
//! the block map, with the userspace crc32c.

use dinofs_tools::crc32c;
use dinofs_tools::format::*;

fn zero() -> Block {
    [0u8; BLOCK_SIZE]
}

#[test]
fn geometry_boundaries() {
    assert_eq!(Geometry::for_blocks(MIN_BLOCKS - 1), None);
    assert_eq!(Geometry::for_blocks(MAX_BLOCKS + 1), None);
    let g = Geometry::for_blocks(MIN_BLOCKS).unwrap();
    assert_eq!(
        (
            g.journal_start,
            g.journal_blocks,
            g.bitmap_start,
            g.bitmap_blocks,
            g.clustermap_start,
            g.data_start
        ),
        (1, 1024, 1025, 1, 1026, 1027)
    );
    // jbd2's view: superblock at block 1, log blocks 2 .. 1025.
    assert_eq!(g.journal_extent(), (1, 1025));
    assert!(g.in_journal(1) && g.in_journal(1024) && !g.in_journal(1025));
    assert!(!g.in_data_area(1026) && g.in_data_area(1027) && !g.in_data_area(MIN_BLOCKS));
    let g = Geometry::for_blocks(BITS_PER_BITMAP_BLOCK).unwrap();
    assert_eq!(g.bitmap_blocks, 1);
    let g = Geometry::for_blocks(BITS_PER_BITMAP_BLOCK + 1).unwrap();
    assert_eq!(
        (
            g.journal_blocks,
            g.bitmap_blocks,
            g.clustermap_start,
            g.data_start
        ),
        (1024, 2, 1027, 1029)
    );
    // The journal: at least jbd2's minimum, at most half the filesystem.
    assert_eq!(Geometry::new(MIN_BLOCKS, MIN_JOURNAL_BLOCKS - 1), None);
    assert_eq!(Geometry::new(4096, 2049), None);
    assert_eq!(Geometry::new(4096, 2048).unwrap().data_start, 2051);
    assert_eq!(Geometry::new(MAX_BLOCKS, MAX_JOURNAL_BLOCKS + 1), None);
    // mke2fs's sizes for 4 KiB blocks.
    assert_eq!(default_journal_blocks(MIN_BLOCKS), 1024);
    assert_eq!(default_journal_blocks(32_768), 4096);
    assert_eq!(default_journal_blocks(262_144), 8192);
    assert_eq!(default_journal_blocks(MAX_BLOCKS), 262_144);
    let g = Geometry::for_blocks(MAX_BLOCKS).unwrap();
    assert_eq!(
        g.bitmap_blocks as u64,
        MAX_BLOCKS.div_ceil(BITS_PER_BITMAP_BLOCK)
    );
}

#[test]
fn superblock_round_trip_all_fields() {
    let g = Geometry::for_blocks(100_000).unwrap();
    let sb = Superblock {
        blocks: 100_000,
        free_blocks: 99_000,
        bitmap_start: g.bitmap_start,
        bitmap_blocks: g.bitmap_blocks,
        clustermap_start: g.clustermap_start,
        root_ino: make_ino(g.data_start, 0),
        orphan_head: make_ino(g.data_start + 10, 3),
        clusters: 7,
        free_inodes: 100,
        state: STATE_DIRTY,
        next_generation: 0xdead_beef,
        mkfs_time: -5,
        uuid: [0xab; 16],
        label: *b"a label of exactly 32 bytes!!!!!",
        journal_start: g.journal_start,
        journal_blocks: g.journal_blocks,
    };
    let mut b = zero();
    sb.encode(&mut b, crc32c);
    assert_eq!(Superblock::decode(&b, crc32c), Ok(sb));
    assert_eq!(sb.total_inodes(), 7 * 32 + 99_000 * 32);
    assert_eq!(sb.available_inodes(), 100 + 99_000 * 32);

    // Geometry that disagrees with the size is rejected, checksum or not.
    let mut bad = sb;
    bad.bitmap_blocks += 1;
    bad.encode(&mut b, crc32c);
    assert_eq!(Superblock::decode(&b, crc32c), Err(FormatError::BadValue));
    let mut bad = sb;
    bad.journal_blocks += 1; // the bitmaps would have to move
    bad.encode(&mut b, crc32c);
    assert_eq!(Superblock::decode(&b, crc32c), Err(FormatError::BadValue));
    let mut bad = sb;
    bad.journal_start = 0;
    bad.encode(&mut b, crc32c);
    assert_eq!(Superblock::decode(&b, crc32c), Err(FormatError::BadValue));
    let mut bad = sb;
    bad.free_blocks = bad.blocks;
    bad.encode(&mut b, crc32c);
    assert_eq!(Superblock::decode(&b, crc32c), Err(FormatError::BadValue));
}

#[test]
fn superblock_rejects_version_and_features() {
    let g = Geometry::for_blocks(4096).unwrap();
    let sb = Superblock {
        blocks: 4096,
        journal_start: g.journal_start,
        journal_blocks: g.journal_blocks,
        bitmap_start: g.bitmap_start,
        bitmap_blocks: g.bitmap_blocks,
        clustermap_start: g.clustermap_start,
        root_ino: make_ino(g.data_start, 0),
        state: STATE_CLEAN,
        ..Default::default()
    };
    let mut b = zero();
    sb.encode(&mut b, crc32c);
    assert_eq!(Superblock::decode(&b, crc32c), Ok(sb));
    // Version 1 (no journal) is refused, as is anything newer.
    for version in [1, 3] {
        let mut v = b;
        v[8] = version;
        seal_block(&mut v, crc32c);
        assert_eq!(
            Superblock::decode(&v, crc32c),
            Err(FormatError::BadVersion(version as u32))
        );
    }
    let mut f = b;
    f[12] = 1; // features
    seal_block(&mut f, crc32c);
    assert_eq!(
        Superblock::decode(&f, crc32c),
        Err(FormatError::BadFeatures(1))
    );
}

fn sample_inode(data_start: u32) -> Inode {
    Inode {
        mode: S_IFREG | 0o644,
        nlink: 3,
        uid: 1000,
        gid: 100,
        size: 123_456_789,
        blocks: 42,
        generation: 77,
        atime: Timestamp { sec: 1, nsec: 2 },
        mtime: Timestamp {
            sec: -3,
            nsec: 999_999_999,
        },
        ctime: Timestamp {
            sec: 1 << 40,
            nsec: 0,
        },
        rdev: 0,
        orphan_next: make_ino(data_start, 5),
        orphan_prev: 0,
        direct: [
            data_start + 10,
            data_start + 11,
            0,
            data_start + 13,
            data_start + 14,
            data_start + 15,
            data_start + 16,
            data_start + 17,
        ],
        indirect: data_start + 20,
        dindirect: data_start + 21,
        tindirect: 0,
    }
}

#[test]
fn inode_round_trip_and_checksum_seeded_with_ino() {
    let g = Geometry::for_blocks(4096).unwrap();
    let blocks = &g;
    let c = g.data_start + 5;
    let ino = make_ino(c, 7);
    assert_eq!(
        (ino_cluster(ino), ino_slot(ino), ino_offset(ino)),
        (c, 7, 7 * INODE_SIZE)
    );
    let inode = sample_inode(g.data_start);
    let mut cluster = zero();
    inode.encode(&mut cluster, ino, crc32c);
    assert_eq!(
        Inode::decode(&cluster, ino, blocks, crc32c),
        Ok(Some(inode))
    );
    // Other slots stay free.
    assert_eq!(
        Inode::decode(&cluster, make_ino(c, 6), blocks, crc32c),
        Ok(None)
    );

    // The same bytes in another slot fail: the checksum is per inode number.
    let mut moved = zero();
    let (from, to) = (ino_offset(ino), ino_offset(make_ino(c, 8)));
    moved[to..to + INODE_SIZE].copy_from_slice(&cluster[from..from + INODE_SIZE]);
    assert_eq!(
        Inode::decode(&moved, make_ino(c, 8), blocks, crc32c),
        Err(FormatError::BadChecksum)
    );

    // Any flipped byte fails.
    let mut bad = cluster;
    bad[from + 9] ^= 0x10;
    assert_eq!(
        Inode::decode(&bad, ino, blocks, crc32c),
        Err(FormatError::BadChecksum)
    );

    // Pointers past the end are rejected even with a good checksum.
    // So are pointers into the metadata: the superblock, the journal, the
    // bitmaps.
    for p in [
        g.blocks as u32,
        0xffff_ffff,
        1,
        g.journal_blocks,
        g.data_start - 1,
    ] {
        let mut far = inode;
        far.direct[0] = p;
        far.encode(&mut cluster, ino, crc32c);
        assert_eq!(
            Inode::decode(&cluster, ino, blocks, crc32c),
            Err(FormatError::BadValue),
            "pointer {p}"
        );
    }

    // A device must not have a size.
    let mut dev = Inode {
        mode: S_IFCHR | 0o600,
        nlink: 1,
        rdev: 0x0103,
        ..Default::default()
    };
    dev.encode(&mut cluster, ino, crc32c);
    assert_eq!(Inode::decode(&cluster, ino, blocks, crc32c), Ok(Some(dev)));
    dev.size = 1;
    dev.encode(&mut cluster, ino, crc32c);
    assert_eq!(
        Inode::decode(&cluster, ino, blocks, crc32c),
        Err(FormatError::BadValue)
    );

    Inode::clear(&mut cluster, ino);
    assert_eq!(Inode::decode(&cluster, ino, blocks, crc32c), Ok(None));
}

#[test]
fn ino_validity() {
    let g = Geometry::for_blocks(4096).unwrap();
    assert!(!ino_is_valid(make_ino(g.data_start - 1, 31), &g));
    assert!(ino_is_valid(make_ino(g.data_start, 0), &g));
    assert!(ino_is_valid(make_ino(4095, 31), &g));
    assert!(!ino_is_valid(make_ino(4096, 0), &g));
    assert!(!ino_is_valid(make_ino(g.journal_start, 0), &g));
    assert!(!ino_is_valid(0, &g));
}

#[test]
fn mode_helpers() {
    for m in [S_IFREG, S_IFDIR, S_IFLNK] {
        assert!(mode_is_valid(m) && mode_has_blocks(m));
    }
    for m in [S_IFCHR, S_IFBLK, S_IFIFO, S_IFSOCK] {
        assert!(mode_is_valid(m) && !mode_has_blocks(m));
    }
    assert!(!mode_is_valid(0) && !mode_is_valid(0o030000));
    assert_eq!(ftype_of_mode(S_IFDIR | 0o755), ftype::DIR);
    assert_eq!(ftype_of_mode(S_IFLNK), ftype::SYMLINK);
    assert_eq!(ftype_of_mode(S_IFSOCK), ftype::SOCK);
}

#[test]
fn dirent_slots_boundaries() {
    assert_eq!(dirent_slots(1), 1);
    assert_eq!(dirent_slots(DIRENT_SLOT_SIZE - DIRENT_HEADER_SIZE), 1);
    assert_eq!(dirent_slots(DIRENT_SLOT_SIZE - DIRENT_HEADER_SIZE + 1), 2);
    assert_eq!(dirent_slots(NAME_MAX), 5);
}

#[test]
fn dirent_insert_iterate_remove() {
    let mut b = zero();
    let long = [b'z'; NAME_MAX];
    let names: [&[u8]; 4] = [b".", b"..", &long, b"x"];
    let mut slots = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let slot = dir_find_free(&b, dirent_slots(name.len())).unwrap();
        assert!(dir_insert(&mut b, slot, 100 + i as u32, ftype::REG, name));
        slots.push(slot);
    }
    assert_eq!(slots, vec![0, 1, 2, 7]); // the long name takes 5 slots
    seal_block(&mut b, crc32c);
    assert_eq!(verify_block(&b, crc32c), Ok(()));

    let got: Vec<Dirent> = dir_entries(&b, 0).map(Result::unwrap).collect();
    assert_eq!(got.len(), 4);
    for (e, (name, slot)) in got.iter().zip(names.iter().zip(&slots)) {
        assert_eq!((e.name, e.slot), (*name, *slot));
    }
    assert_eq!(got[2].ino, 102);
    // Iteration can resume from an entry boundary (not from inside an
    // entry: its name bytes do not parse as a slot header).
    assert_eq!(dir_entries(&b, 7).next().unwrap().unwrap().name, b"x");
    assert_eq!(
        dir_entries(&b, 3).next().unwrap(),
        Err(FormatError::BadValue)
    );

    // Removing the long name frees its 5 slots for reuse.
    assert!(dir_remove(&mut b, 2));
    assert!(!dir_remove(&mut b, 2));
    assert_eq!(dir_find_free(&b, 5), Some(2));
    assert_eq!(dir_find_free(&b, 6), Some(8));
    assert!(dir_set_ino(&mut b, 7, 555, ftype::DIR));
    let got: Vec<Dirent> = dir_entries(&b, 0).map(Result::unwrap).collect();
    assert_eq!(got.len(), 3);
    assert_eq!((got[2].ino, got[2].ftype), (555, ftype::DIR));

    // Invalid names are refused.
    assert!(!dir_insert(&mut b, 20, 1, ftype::REG, b""));
    assert!(!dir_insert(&mut b, 20, 1, ftype::REG, b"a/b"));
    assert!(!dir_insert(&mut b, 20, 1, ftype::REG, b"a\0b"));
    assert!(!dir_insert(
        &mut b,
        20,
        1,
        ftype::REG,
        &[b'y'; NAME_MAX + 1]
    ));
    assert!(!dir_insert(&mut b, 20, 0, ftype::REG, b"noino"));
    // An entry may not run past the last usable slot.
    assert!(!dir_insert(
        &mut b,
        DIRENT_SLOTS_PER_BLOCK - 1,
        1,
        ftype::REG,
        &long
    ));
    assert!(dir_insert(
        &mut b,
        DIRENT_SLOTS_PER_BLOCK - 5,
        1,
        ftype::REG,
        &long
    ));
}

#[test]
fn dirent_block_full() {
    let mut b = zero();
    for i in 0..DIRENT_SLOTS_PER_BLOCK {
        let slot = dir_find_free(&b, 1).unwrap();
        assert_eq!(slot, i);
        assert!(dir_insert(
            &mut b,
            slot,
            1 + i,
            ftype::REG,
            format!("f{i}").as_bytes()
        ));
    }
    assert_eq!(dir_find_free(&b, 1), None);
    assert_eq!(dir_entries(&b, 0).count(), DIRENT_SLOTS_PER_BLOCK as usize);
}

#[test]
fn dirent_malformed_slot_is_an_error() {
    let mut b = zero();
    assert!(dir_insert(&mut b, 0, 9, ftype::REG, b"ok"));
    b[DIRENT_SLOT_SIZE + 4] = 1; // slot 1: no inode but a slot count
    let items: Vec<_> = dir_entries(&b, 0).collect();
    assert_eq!(items.len(), 2);
    assert!(items[0].is_ok());
    assert_eq!(items[1], Err(FormatError::BadValue));
}

#[test]
fn indirect_get_set_verify() {
    let mut b = zero();
    let g = Geometry::for_blocks(4096).unwrap();
    let g_short = Geometry::for_blocks(4095).unwrap();
    indirect_set(&mut b, 0, g.data_start);
    indirect_set(&mut b, PTRS_PER_BLOCK as u32 - 1, 4095);
    indirect_set(&mut b, PTRS_PER_BLOCK as u32, 1234); // ignored: the checksum slot
    assert_eq!(indirect_get(&b, PTRS_PER_BLOCK as u32), NULL);
    seal_block(&mut b, crc32c);
    assert_eq!(indirect_get(&b, 0), g.data_start);
    assert_eq!(indirect_get(&b, PTRS_PER_BLOCK as u32 - 1), 4095);
    assert_eq!(indirect_verify(&b, &g, crc32c), Ok(()));
    assert_eq!(
        indirect_verify(&b, &g_short, crc32c),
        Err(FormatError::BadValue)
    );
    // A pointer into the journal is rejected too.
    let mut j = b;
    indirect_set(&mut j, 1, g.journal_start + 3);
    seal_block(&mut j, crc32c);
    assert_eq!(indirect_verify(&j, &g, crc32c), Err(FormatError::BadValue));
    b[100] ^= 1;
    assert_eq!(
        indirect_verify(&b, &g, crc32c),
        Err(FormatError::BadChecksum)
    );
}

#[test]
fn bitmap_bits() {
    assert_eq!(bitmap_pos(0), (0, 0));
    assert_eq!(
        bitmap_pos(BITS_PER_BITMAP_BLOCK - 1),
        (0, BITS_PER_BITMAP_BLOCK as usize - 1)
    );
    assert_eq!(bitmap_pos(BITS_PER_BITMAP_BLOCK), (1, 0));
    let mut b = zero();
    for bit in [0, 9, BITS_PER_BITMAP_BLOCK as usize - 1] {
        assert!(!bit_test(&b, bit));
        bit_assign(&mut b, bit, true);
        assert!(bit_test(&b, bit));
    }
    // Past the end: ignored, reads clear, and the checksum is untouched.
    bit_assign(&mut b, BITS_PER_BITMAP_BLOCK as usize, true);
    assert!(!bit_test(&b, BITS_PER_BITMAP_BLOCK as usize));
    assert_eq!(&b[BLOCK_CRC_OFFSET..], &[0, 0, 0, 0]);
    bit_assign(&mut b, 9, false);
    assert!(!bit_test(&b, 9) && bit_test(&b, 0));
}

#[test]
fn block_path_boundaries() {
    let p = PTRS_PER_BLOCK;
    let d = DIRECT_BLOCKS as u64;
    assert_eq!(p, 1023);
    assert_eq!(block_path(0), Some(BlockPath::Direct(0)));
    assert_eq!(
        block_path(d - 1),
        Some(BlockPath::Direct(DIRECT_BLOCKS - 1))
    );
    assert_eq!(block_path(d), Some(BlockPath::Indirect(0)));
    assert_eq!(
        block_path(d + p - 1),
        Some(BlockPath::Indirect(p as u32 - 1))
    );
    assert_eq!(block_path(d + p), Some(BlockPath::DoubleIndirect(0, 0)));
    assert_eq!(block_path(d + p + p), Some(BlockPath::DoubleIndirect(1, 0)));
    let last2 = (p - 1) as u32;
    assert_eq!(
        block_path(d + p + p * p - 1),
        Some(BlockPath::DoubleIndirect(last2, last2))
    );
    assert_eq!(
        block_path(d + p + p * p),
        Some(BlockPath::TripleIndirect(0, 0, 0))
    );
    assert_eq!(
        block_path(d + p + p * p + p * p + p + 1),
        Some(BlockPath::TripleIndirect(1, 1, 1))
    );
    assert_eq!(
        block_path(MAX_FILE_BLOCKS - 1),
        Some(BlockPath::TripleIndirect(last2, last2, last2))
    );
    assert_eq!(block_path(MAX_FILE_BLOCKS), None);
    // The advertised maximum file size is addressable.
    assert!(block_path((MAX_FILE_SIZE - 1) / BLOCK_SIZE as u64).is_some());
}

#[test]
fn block_seal_and_verify() {
    let mut b = zero();
    b[0] = 1;
    assert_eq!(verify_block(&b, crc32c), Err(FormatError::BadChecksum));
    seal_block(&mut b, crc32c);
    assert_eq!(verify_block(&b, crc32c), Ok(()));
    assert_eq!(
        block_checksum(&b, crc32c),
        crc32c(!0, &b[..BLOCK_CRC_OFFSET])
    );
}
