// SPDX-License-Identifier: GPL-2.0

//! `fsck.dinofs` end to end: for each injected corruption, `-n` reports
//! it (exit 4) and changes nothing, `-y` repairs it (exit 1), and `-n` is
//! then clean (exit 0). Plus the operational errors (exit 8) and the
//! dirty-state rule.

mod common;

use common::*;
use dinofs_tools::crc32c;
use dinofs_tools::format::*;

/// Runs the -n / -y / -n cycle on the sample image after `corrupt`, which
/// returns strings the `-n` report must contain.
fn corruption_case(tag: &str, corrupt: impl FnOnce(&TempImage, &Sample) -> Vec<String>) {
    let (img, s) = sample_image(tag);
    assert_clean(&img.path);
    let expect = corrupt(&img, &s);

    let found = fsck("-n", &img.path);
    assert_eq!(
        found.code,
        4,
        "fsck -n should find errors:\n{}",
        found.text()
    );
    for e in expect {
        assert!(
            found.stdout.contains(&e),
            "fsck -n does not report '{e}':\n{}",
            found.text()
        );
    }
    let again = fsck("-n", &img.path);
    assert_eq!(again.stdout, found.stdout, "fsck -n changed the image");

    let fixed = fsck("-y", &img.path);
    assert_eq!(
        fixed.code,
        1,
        "fsck -y should fix everything:\n{}",
        fixed.text()
    );
    assert!(fixed.stdout.contains(": fixed"), "{}", fixed.text());
    assert_clean(&img.path);
    let nothing = fsck("-y", &img.path);
    assert_eq!(nothing.code, 0, "second fsck -y:\n{}", nothing.text());
}

/// A free inode number inside an allocated cluster.
fn free_ino(img: &TempImage) -> u32 {
    let sb = img.superblock();
    for c in 0..sb.blocks as u32 {
        if img.bitmap_bit(true, c as u64) {
            let cluster = img.read(c);
            for slot in 0..INODES_PER_CLUSTER {
                let ino = make_ino(c, slot);
                if Inode::decode(&cluster, ino, &sb.geometry().unwrap(), crc32c) == Ok(None) {
                    return ino;
                }
            }
        }
    }
    panic!("no free inode slot");
}

/// The slot of entry `name` in directory block `block`.
fn entry_slot(img: &TempImage, block: u32, name: &[u8]) -> u32 {
    let b = img.read(block);
    let slot = dir_entries(&b, 0)
        .map(|e| e.unwrap())
        .find(|e| e.name == name)
        .unwrap()
        .slot;
    slot
}

#[test]
fn sample_image_is_clean() {
    let (img, _) = sample_image("clean");
    let r = fsck("-n", &img.path);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(r.stdout.starts_with("dinofs: "), "{}", r.stdout);
    assert!(r.stdout.contains(" inodes, ") && r.stdout.contains(" blocks"));
    for flag in ["-y", "-p", "-a", "-f"] {
        assert_eq!(fsck(flag, &img.path).code, 0, "{flag}");
    }
    let r = run(FSCK, &["-fnv", img.path.to_str().unwrap()]);
    assert_eq!(r.code, 0);
    assert!(r.stdout.contains("pass 2: directory tree"), "{}", r.stdout);
}

#[test]
fn bitmap_bit_cleared() {
    corruption_case("bit-cleared", |img, s| {
        let b = img.inode(s.hello).direct[0];
        img.set_bitmap_bit(false, b as u64, false);
        vec![format!(
            "block {b} used by inode {} and free in bitmap",
            s.hello
        )]
    });
}

#[test]
fn bitmap_bit_set() {
    corruption_case("bit-set", |img, _| {
        assert!(!img.bitmap_bit(false, 4000));
        img.set_bitmap_bit(false, 4000, true);
        vec!["block 4000 marked used in bitmap but owned by nothing".into()]
    });
}

#[test]
fn bitmap_bit_past_the_end() {
    // A 4000-block filesystem in a 4096-block image: bit 4050 is past the end.
    let img = TempImage::with_blocks("past-end", 4096);
    dinofs_tools::builder::mkfs(img.device(true), &mkfs_options(4000)).unwrap();
    img.set_bitmap_bit(false, 4050, true);
    let r = fsck("-n", &img.path);
    assert_eq!(r.code, 4);
    assert!(
        r.stdout
            .contains("block bitmap has 1 bit(s) set past the end"),
        "{}",
        r.stdout
    );
    assert_eq!(fsck("-y", &img.path).code, 1);
    assert_clean(&img.path);
}

#[test]
fn bitmap_block_checksum() {
    corruption_case("bitmap-crc", |img, _| {
        let start = img.superblock().bitmap_start;
        img.edit(start, |b| b[BLOCK_CRC_OFFSET] ^= 1);
        vec![format!("block bitmap block {start} checksum mismatch")]
    });
}

#[test]
fn free_blocks_counter() {
    corruption_case("free-blocks", |img, _| {
        let mut sb = img.superblock();
        let counted = sb.free_blocks;
        sb.free_blocks -= 2;
        img.write_superblock(&sb);
        vec![format!(
            "superblock free_blocks {}, counted {counted}",
            counted - 2
        )]
    });
}

#[test]
fn inode_counters() {
    corruption_case("inode-counters", |img, _| {
        let mut sb = img.superblock();
        sb.free_inodes += 1;
        sb.clusters += 1;
        img.write_superblock(&sb);
        vec![
            "superblock free_inodes".into(),
            "superblock clusters".into(),
        ]
    });
}

#[test]
fn superblock_checksum() {
    corruption_case("sb-crc", |img, _| {
        img.edit(0, |b| b[300] ^= 0x40);
        vec!["superblock checksum mismatch".into()]
    });
}

#[test]
fn dangling_dirent() {
    corruption_case("dangling", |img, s| {
        let ghost = free_ino(img);
        let block = img.inode(s.root).direct[0];
        img.edit_sealed(block, |b| {
            let slot = dir_find_free(b, 1).unwrap();
            assert!(dir_insert(b, slot, ghost, ftype::REG, b"ghost"));
        });
        vec![format!(
            "directory inode {} entry 'ghost' points to free inode {ghost}",
            s.root
        )]
    });
}

#[test]
fn orphan_list_loop() {
    corruption_case("orphan-loop", |img, s| {
        let [head, tail] = s.orphans;
        img.edit_inode(tail, |i| i.orphan_next = head);
        vec![format!("orphan list loops at inode {head}")]
    });
}

#[test]
fn orphan_with_links() {
    corruption_case("orphan-nlink", |img, s| {
        img.edit_inode(s.orphans[1], |i| i.nlink = 3);
        vec![format!("inode {} on orphan list has nlink 3", s.orphans[1])]
    });
}

#[test]
fn orphan_missing_from_list() {
    corruption_case("orphan-missing", |img, s| {
        img.edit_inode(s.orphans[0], |i| i.orphan_next = NULL);
        vec![format!(
            "inode {} has nlink 0 but is not on the orphan list",
            s.orphans[1]
        )]
    });
}

#[test]
fn bad_inode_checksum() {
    corruption_case("inode-crc", |img, s| {
        let off = ino_offset(s.hello);
        img.edit(ino_cluster(s.hello), |c| c[off + 12] ^= 1);
        vec![
            format!("inode {} checksum mismatch", s.hello),
            format!("entry 'hello.txt' points to free inode {}", s.hello),
        ]
    });
}

#[test]
fn bad_dir_block_checksum() {
    corruption_case("dir-crc", |img, s| {
        let block = img.inode(s.dir_a).direct[0];
        let slot = entry_slot(img, block, b"hello.txt");
        // "hello.txt" becomes "iello.txt": still a valid entry.
        img.edit(block, |b| {
            b[slot as usize * DIRENT_SLOT_SIZE + DIRENT_HEADER_SIZE] ^= 1
        });
        vec![format!(
            "directory {} block {block} checksum mismatch",
            s.dir_a
        )]
    });
}

#[test]
fn malformed_dirent_slot() {
    corruption_case("dir-slot", |img, s| {
        let block = img.inode(s.root).direct[0];
        // Slot 62 (free): a slot count without an inode number.
        img.edit_sealed(block, |b| b[62 * DIRENT_SLOT_SIZE + 4] = 3);
        vec![format!(
            "directory {} block {block} slot 62 is malformed",
            s.root
        )]
    });
}

#[test]
fn unreachable_inode() {
    corruption_case("unreachable", |img, s| {
        let block = img.inode(s.dir_b).direct[0];
        let slot = entry_slot(img, block, b"deep.txt");
        img.edit_sealed(block, |b| assert!(dir_remove(b, slot)));
        vec![format!("inode {} allocated but unreachable", s.deep)]
    });
}

#[test]
fn unreachable_directory_tree() {
    corruption_case("unreachable-dir", |img, s| {
        let block = img.inode(s.dir_a).direct[0];
        let slot = entry_slot(img, block, b"b");
        img.edit_sealed(block, |b| assert!(dir_remove(b, slot)));
        vec![
            format!("inode {} allocated but unreachable", s.dir_b),
            format!("inode {} allocated but unreachable", s.deep),
            format!("inode {} nlink 3, counted 2", s.dir_a),
        ]
    });
}

#[test]
fn wrong_nlink() {
    corruption_case("nlink", |img, s| {
        img.edit_inode(s.big, |i| i.nlink = 5);
        img.edit_inode(s.dir_a, |i| i.nlink = 7);
        vec![
            format!("inode {} nlink 5, counted 2", s.big),
            format!("inode {} nlink 7, counted 3", s.dir_a),
        ]
    });
}

#[test]
fn block_used_twice() {
    corruption_case("dup", |img, s| {
        let shared = img.inode(s.hello).direct[0];
        let lost = img.inode(s.deep).direct[0];
        img.edit_inode(s.deep, |i| i.direct[0] = shared);
        vec![
            format!("block {shared} used by inodes {} and {}", s.hello, s.deep),
            format!("block {lost} marked used in bitmap but owned by nothing"),
        ]
    });
}

#[test]
fn block_used_by_inode_and_cluster() {
    corruption_case("dup-cluster", |img, s| {
        let cluster = ino_cluster(s.root);
        img.edit_inode(s.deep, |i| i.direct[1] = cluster);
        vec![format!(
            "block {cluster} used by an inode cluster and inode {}",
            s.deep
        )]
    });
}

#[test]
fn pointer_outside_data_area() {
    corruption_case("range", |img, s| {
        img.edit_inode(s.hello, |i| i.direct[3] = 1);
        vec![format!(
            "inode {} file block 3 at block 1 is outside the data area",
            s.hello
        )]
    });
}

#[test]
fn wrong_block_count() {
    corruption_case("blocks", |img, s| {
        img.edit_inode(s.big, |i| i.blocks = 40);
        vec![format!("inode {} blocks 40, counted 21", s.big)]
    });
}

#[test]
fn indirect_block_checksum() {
    corruption_case("indirect-crc", |img, s| {
        let block = img.inode(s.big).indirect;
        img.edit(block, |b| b[BLOCK_CRC_OFFSET + 1] ^= 1);
        vec![format!(
            "inode {} indirect block {block} (file blocks from 8) checksum mismatch",
            s.big
        )]
    });
}

#[test]
fn garbage_indirect_block() {
    corruption_case("indirect-garbage", |img, s| {
        let block = img.inode(s.sparse).dindirect;
        img.edit(block, |b| b[..64].fill(0xff));
        vec![
            format!("inode {} double indirect block", s.sparse),
            "bad pointers".into(),
        ]
    });
}

#[test]
fn device_with_block_pointers() {
    corruption_case("dev-ptrs", |img, s| {
        img.edit_inode(s.chr, |i| i.direct[0] = 100);
        vec![format!(
            "inode {} (character device) has block pointers",
            s.chr
        )]
    });
}

#[test]
fn symlink_with_nul() {
    corruption_case("symlink", |img, s| {
        img.edit(img.inode(s.symlink).direct[0], |b| b[3] = 0);
        vec![format!("symlink {} target contains a NUL byte", s.symlink)]
    });
}

#[test]
fn directory_loop() {
    corruption_case("loop", |img, s| {
        let block = img.inode(s.dir_b).direct[0];
        img.edit_sealed(block, |b| {
            let slot = dir_find_free(b, 1).unwrap();
            assert!(dir_insert(b, slot, s.dir_a, ftype::DIR, b"up"));
        });
        vec![format!("directory {} reachable twice (loop)", s.dir_a)]
    });
}

#[test]
fn wrong_dotdot() {
    corruption_case("dotdot", |img, s| {
        let block = img.inode(s.dir_b).direct[0];
        let slot = entry_slot(img, block, b"..");
        img.edit_sealed(block, |b| assert!(dir_set_ino(b, slot, s.root, ftype::DIR)));
        vec![format!(
            "directory {} '..' points to {}, expected {}",
            s.dir_b, s.root, s.dir_a
        )]
    });
}

#[test]
fn missing_dot() {
    corruption_case("dot", |img, s| {
        let block = img.inode(s.dir_b).direct[0];
        let slot = entry_slot(img, block, b".");
        img.edit_sealed(block, |b| assert!(dir_remove(b, slot)));
        vec![format!("directory {} has no '.' entry", s.dir_b)]
    });
}

#[test]
fn directory_size_too_small() {
    corruption_case("dir-size", |img, s| {
        img.edit_inode(s.many, |i| i.size = BLOCK_SIZE as u64);
        vec![format!(
            "directory {} size 4096 leaves out block 1, which holds entries",
            s.many
        )]
    });
    // Nothing was lost: the entries in the second block are still there.
    let (img, s) = sample_image("dir-size-kept");
    let before = img.superblock();
    img.edit_inode(s.many, |i| i.size = 100);
    assert_eq!(fsck("-y", &img.path).code, 1);
    assert_eq!(img.inode(s.many).size, 2 * BLOCK_SIZE as u64);
    let after = img.superblock();
    assert_eq!(
        (after.free_inodes, after.free_blocks),
        (before.free_inodes, before.free_blocks)
    );
}

#[test]
fn wrong_file_type_in_entry() {
    corruption_case("ftype", |img, s| {
        let block = img.inode(s.root).direct[0];
        let slot = entry_slot(img, block, b"fifo");
        img.edit_sealed(block, |b| {
            assert!(dir_set_ino(b, slot, s.fifo, ftype::SOCK))
        });
        vec!["entry 'fifo' has file type 6".into()]
    });
}

#[test]
fn empty_cluster() {
    corruption_case("empty-cluster", |img, _| {
        img.set_bitmap_bit(true, 4000, true);
        img.set_bitmap_bit(false, 4000, true);
        let mut sb = img.superblock();
        sb.clusters += 1;
        sb.free_inodes += INODES_PER_CLUSTER;
        sb.free_blocks -= 1;
        img.write_superblock(&sb);
        vec!["inode cluster 4000 is empty".into()]
    });
}

#[test]
fn dirty_state() {
    let (img, _) = sample_image("dirty");
    let mut sb = img.superblock();
    sb.state = STATE_DIRTY;
    img.write_superblock(&sb);
    let r = fsck("-n", &img.path);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(r.stdout.contains("not cleanly unmounted"), "{}", r.stdout);
    let r = fsck("-y", &img.path);
    assert_eq!(r.code, 1, "{}", r.text());
    assert_eq!(img.superblock().state, STATE_CLEAN);
    let r = fsck("-n", &img.path);
    assert_eq!(r.code, 0);
    assert!(!r.stdout.contains("not cleanly unmounted"));
}

#[test]
fn repair_keeps_file_contents() {
    let (img, s) = sample_image("contents");
    img.set_bitmap_bit(false, img.inode(s.big).direct[3] as u64, false);
    img.edit_inode(s.big, |i| i.nlink = 9);
    assert_eq!(fsck("-y", &img.path).code, 1);
    let b = dinofs_tools::builder::Builder::open(img.device(true)).unwrap();
    assert_eq!(b.read_data(s.big).unwrap(), big_data());
    assert_eq!(b.read_data(s.hello).unwrap(), hello_data());
    assert_eq!(img.inode(s.big).nlink, 2);
}

#[test]
fn root_not_a_directory_is_not_repaired() {
    let (img, s) = sample_image("root");
    img.edit_inode(s.root, |i| {
        *i = Inode {
            mode: S_IFREG | 0o644,
            nlink: 1,
            ..*i
        };
    });
    let before = std::fs::read(&img.path).unwrap();
    let r = fsck("-y", &img.path);
    assert_eq!(r.code, 4, "{}", r.text());
    assert!(
        r.stdout.contains("is a regular file, not a directory"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("NOT FIXED"));
    assert_eq!(
        std::fs::read(&img.path).unwrap(),
        before,
        "nothing may be written"
    );
}

#[test]
fn operational_errors() {
    let img = TempImage::new("not-dinofs");
    std::fs::write(&img.path, vec![0x5a; 64 * BLOCK_SIZE]).unwrap();
    let r = fsck("-n", &img.path);
    assert_eq!(r.code, 8);
    assert!(r.stderr.contains("not a dinofs filesystem"), "{}", r.stderr);

    std::fs::write(&img.path, b"tiny").unwrap();
    assert_eq!(fsck("-n", &img.path).code, 8);

    let missing = TempImage::new("missing");
    let r = fsck("-y", &missing.path);
    assert_eq!(r.code, 8);
    assert!(r.stderr.contains("cannot open"), "{}", r.stderr);

    let (img, _) = sample_image("usage");
    let p = img.path.to_str().unwrap();
    for args in [
        &[][..],
        &["-n", "-y", p],
        &["-x", p],
        &[p, p],
        &["--check", p],
    ] {
        let r = run(FSCK, args);
        assert_eq!(r.code, 8, "{args:?}");
        assert!(r.stderr.contains("usage:"), "{args:?}: {}", r.stderr);
    }

    // A filesystem claiming more blocks than the image holds (even a
    // tiny leftover of one).
    let (tiny, _) = sample_image("truncated");
    let f = std::fs::OpenOptions::new()
        .write(true)
        .open(&tiny.path)
        .unwrap();
    f.set_len(10 * BLOCK_SIZE as u64).unwrap();
    let r = fsck("-n", &tiny.path);
    assert_eq!(r.code, 8);
    assert!(r.stderr.contains("but the device only 10"), "{}", r.stderr);
    // A filesystem claiming more blocks than the image holds.
    let f = std::fs::OpenOptions::new()
        .write(true)
        .open(&img.path)
        .unwrap();
    f.set_len(4000 * BLOCK_SIZE as u64).unwrap();
    let r = fsck("-n", &img.path);
    assert_eq!(r.code, 8);
    assert!(
        r.stderr.contains("but the device only 4000"),
        "{}",
        r.stderr
    );
}

/// The jbd2 superblock: a damaged one is reported and, with no log to
/// replay, rewritten as an empty journal.
#[test]
fn journal_superblock_checksum() {
    corruption_case("journal-csum", |img, _| {
        img.edit(1, |b| b[0x20] ^= 1); // s_errno, checksum left stale
        vec!["journal superblock: checksum mismatch".into()]
    });
}

#[test]
fn journal_superblock_wrong_region() {
    corruption_case("journal-region", |img, _| {
        let sb = img.superblock();
        let g = sb.geometry().unwrap();
        let mut j = dinofs_tools::journal::JournalSuperblock::new(&g, sb.uuid, 5);
        j.maxlen -= 1;
        let mut b = [0u8; BLOCK_SIZE];
        j.encode(&mut b, crc32c);
        img.write(1, &b);
        vec!["do not match the region".into()]
    });
}

#[test]
fn journal_superblock_gone() {
    corruption_case("journal-zero", |img, _| {
        img.write(1, &[0u8; BLOCK_SIZE]);
        vec!["journal superblock (block 1): bad magic".into()]
    });
}

/// A log marked as needing recovery that holds nothing (an empty log from
/// s_start): the replay finds no transaction; -n says so and changes
/// nothing, -y marks the journal empty.
#[test]
fn journal_empty_log_needing_recovery() {
    let (img, _) = sample_image("journal-recover");
    let sb = img.superblock();
    let g = sb.geometry().unwrap();
    let mut j = dinofs_tools::journal::JournalSuperblock::new(&g, sb.uuid, 5);
    j.start = j.first;
    let mut b = [0u8; BLOCK_SIZE];
    j.encode(&mut b, crc32c);
    img.write(1, &b);
    let r = fsck("-n", &img.path);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(
        r.stdout.contains(
            "journal needs recovery: 0 transaction(s), 0 block(s) replayed in memory only"
        ),
        "{}",
        r.text()
    );
    assert_eq!(*img.read(1), b, "-n wrote the journal");
    let r = fsck("-y", &img.path);
    assert_eq!(r.code, 0, "{}", r.text());
    let j = dinofs_tools::journal::JournalSuperblock::decode(&img.read(1)).unwrap();
    assert_eq!((j.start, j.sequence), (0, 5));
    assert_clean(&img.path);
}

/// A real transaction (the blocks a change made, logged by the tools'
/// jbd2 log writer): -n checks the image as replayed and writes nothing;
/// -y replays it, and the image is then the changed one. A later revoke
/// keeps a block out of the replay; an uncommitted transaction is dropped.
#[test]
fn journal_transactions_are_replayed() {
    for case in ["plain", "revoke", "uncommitted"] {
        let (img, s) = sample_image(&format!("journal-tx-{case}"));
        let changed = TempImage::new(&format!("journal-tx-{case}-new"));
        std::fs::copy(&img.path, &changed.path).unwrap();
        // The change: a new label in block 0 and new bytes in a file.
        let mut sb = changed.superblock();
        sb.label[..7].copy_from_slice(b"changed");
        changed.write_superblock(&sb);
        let file = changed.inode(s.big);
        changed.edit(file.direct[0], |b| b[..5].copy_from_slice(b"new!!"));
        let before = std::fs::read(&img.path).unwrap();
        let dev = img.device(true);
        let revoke: &[u32] = if case == "revoke" {
            &[file.direct[0]]
        } else {
            &[]
        };
        let logged = dinofs_tools::journal::log_differences(
            &dev,
            &changed.device(false),
            revoke,
            case == "uncommitted",
        )
        .unwrap();
        assert_eq!(logged, vec![0, file.direct[0]]);
        let r = fsck("-n", &img.path);
        assert_eq!(r.code, 0, "{case}: {}", r.text());
        let want = match case {
            "plain" => "1 transaction(s), 2 block(s) replayed",
            "revoke" => "2 transaction(s), 1 block(s) replayed",
            _ => "0 transaction(s), 0 block(s) replayed",
        };
        assert!(r.stdout.contains(want), "{case}: {}", r.text());
        let r = fsck("-y", &img.path);
        assert_eq!(r.code, 0, "{case}: {}", r.text());
        assert_clean(&img.path);
        let label_changed = &img.superblock().label[..7] == b"changed";
        let data_changed = &img.read(file.direct[0])[..5] == b"new!!";
        assert_eq!(
            (label_changed, data_changed),
            match case {
                "plain" => (true, true),
                "revoke" => (true, false),
                _ => (false, false),
            },
            "{case}"
        );
        let j = dinofs_tools::journal::JournalSuperblock::decode(&img.read(1)).unwrap();
        assert_eq!(j.start, 0, "{case}: journal left needing recovery");
        assert_ne!(std::fs::read(&img.path).unwrap(), before);
    }
}

/// Images of format version 1 (no journal) are refused with a clear message.
#[test]
fn version_1_is_refused() {
    let (img, _) = sample_image("v1");
    img.edit_sealed(0, |b| b[8] = 1);
    let r = fsck("-n", &img.path);
    assert_eq!(r.code, 8, "{}", r.text());
    assert!(r.text().contains("version 1"), "{}", r.text());
}
