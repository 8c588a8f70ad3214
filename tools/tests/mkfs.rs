// SPDX-License-Identifier: GPL-2.0

//! `mkfs.dinofs` end to end: sizing, options, refusals, and that what it
//! makes is clean to `fsck.dinofs`.

mod common;

use common::*;
use dinofs_tools::format::{Geometry, BLOCK_SIZE, MAX_BLOCKS, MIN_BLOCKS, STATE_CLEAN};
use std::io::Write;
use std::process::{Command, Stdio};

fn mkfs(args: &[&str]) -> Run {
    run(MKFS, args)
}

fn len(img: &TempImage) -> u64 {
    std::fs::metadata(&img.path).unwrap().len()
}

#[test]
fn whole_image_then_fsck_clean() {
    let img = TempImage::with_blocks("whole", 2048);
    let r = mkfs(&[img.path.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(
        r.stdout.contains("2048 blocks of 4096 bytes"),
        "{}",
        r.stdout
    );
    let sb = img.superblock();
    let g = Geometry::for_blocks(2048).unwrap();
    assert_eq!(
        (sb.blocks, sb.state, sb.clusters, sb.free_inodes),
        (2048, STATE_CLEAN, 1, 31)
    );
    assert_eq!(sb.free_blocks, 2048 - g.data_start as u64 - 2);
    assert_eq!(sb.uuid[6] >> 4, 4, "random version 4 uuid");
    let r = fsck("-n", &img.path);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(r.stdout.contains("dinofs: 1/"), "{}", r.stdout);
}

#[test]
fn nblocks_extends_an_image() {
    let img = TempImage::with_blocks("extend", 100);
    let r = mkfs(&["-q", img.path.to_str().unwrap(), "3000"]);
    assert_eq!(r.code, 0, "{}", r.text());
    assert_eq!(r.stdout, "", "-q prints nothing");
    assert_eq!(len(&img), 3000 * BLOCK_SIZE as u64);
    assert_eq!(img.superblock().blocks, 3000);
    assert_clean(&img.path);
}

#[test]
fn nblocks_smaller_than_the_image() {
    let img = TempImage::with_blocks("smaller", 4000);
    assert_eq!(mkfs(&[img.path.to_str().unwrap(), "2500"]).code, 0);
    assert_eq!(
        len(&img),
        4000 * BLOCK_SIZE as u64,
        "the image is not shrunk"
    );
    assert_eq!(img.superblock().blocks, 2500);
    assert_clean(&img.path);
}

#[test]
fn nblocks_creates_a_missing_image_and_takes_suffixes() {
    let img = TempImage::new("create");
    assert_eq!(mkfs(&[img.path.to_str().unwrap(), "12M"]).code, 0);
    assert_eq!(img.superblock().blocks, 3072);
    assert_clean(&img.path);
    // Without a size, a missing file is an error.
    let missing = TempImage::new("missing");
    let r = mkfs(&[missing.path.to_str().unwrap()]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("cannot open"), "{}", r.stderr);
}

#[test]
fn options_in_any_order_and_label() {
    let img = TempImage::with_blocks("label", MIN_BLOCKS);
    let p = img.path.to_str().unwrap();
    let r = mkfs(&[p, "-f", "-L", "scratch", "-b", "4096", "-q"]);
    assert_eq!(r.code, 0, "{}", r.text());
    assert_eq!(&img.superblock().label[..8], b"scratch\0");
    assert_clean(&img.path);
    let r = mkfs(&["-L", &"x".repeat(33), p]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("longer than 32 bytes"), "{}", r.stderr);
}

#[test]
fn refuses_other_block_sizes() {
    let img = TempImage::with_blocks("bs", MIN_BLOCKS);
    for bs in ["1024", "8192", "4k"] {
        let r = mkfs(&["-b", bs, img.path.to_str().unwrap()]);
        assert_eq!(r.code, 1, "-b {bs}");
        assert!(r.stderr.contains("not supported"), "{}", r.stderr);
    }
    assert_eq!(len(&img), MIN_BLOCKS * BLOCK_SIZE as u64);
    assert_eq!(fsck("-n", &img.path).code, 8, "nothing was written");
}

#[test]
fn size_limits() {
    let small = TempImage::with_blocks("small", MIN_BLOCKS - 1);
    let r = mkfs(&[small.path.to_str().unwrap()]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("too small"), "{}", r.stderr);
    let p = small.path.to_str().unwrap();
    assert_eq!(mkfs(&[p, &(MIN_BLOCKS - 1).to_string()]).code, 1);
    assert_eq!(mkfs(&[p, &(MAX_BLOCKS + 1).to_string()]).code, 1);
    assert_eq!(mkfs(&[p, &MIN_BLOCKS.to_string()]).code, 0);
    assert_clean(&small.path);
}

#[test]
fn larger_than_max_is_clamped() {
    let img = TempImage::new("huge");
    let f = std::fs::File::create(&img.path).unwrap();
    if f.set_len((MAX_BLOCKS + 1) * BLOCK_SIZE as u64).is_err() {
        eprintln!("skipped: the temporary filesystem cannot hold a 512 GiB sparse file");
        return;
    }
    let r = mkfs(&[img.path.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(
        r.stdout.contains("larger than dinofs supports"),
        "{}",
        r.stdout
    );
    assert_eq!(img.superblock().blocks, MAX_BLOCKS);
}

#[test]
fn usage_errors() {
    let img = TempImage::with_blocks("usage", MIN_BLOCKS);
    let p = img.path.to_str().unwrap();
    for args in [
        &[][..],
        &["-J", "4", p],
        &["-J", "device=/dev/sdb", p],
        &["-z", p],
        &[p, "12x"],
        &[p, "100", "extra"],
        &["-b"],
        &["--force", p],
    ] {
        let r = mkfs(args);
        assert_eq!(r.code, 1, "{args:?}");
        assert!(
            r.stderr.contains("usage: mkfs.dinofs"),
            "{args:?}: {}",
            r.stderr
        );
    }
}

#[test]
fn never_prompts_and_overwrites() {
    let (img, _) = sample_image("overwrite");
    let old = img.superblock();
    // fstests: yes | mkfs -t dinofs -- DEV
    let mut child = Command::new(MKFS)
        .arg(&img.path)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let _ = child.stdin.take().unwrap().write_all(b"y\ny\ny\n");
    assert!(child.wait().unwrap().success());
    let new = img.superblock();
    assert_ne!(new.uuid, old.uuid);
    assert_eq!((new.clusters, new.orphan_head), (1, 0));
    assert_clean(&img.path);
}

#[test]
fn journal_size_option_and_default() {
    // The default: mke2fs's table (4 MiB below 128 MiB, 16 MiB from there).
    for (blocks, want) in [(MIN_BLOCKS, 1024u32), (32_768, 4096)] {
        let img = TempImage::with_blocks("journal-default", blocks);
        let r = mkfs(&[img.path.to_str().unwrap()]);
        assert_eq!(r.code, 0, "{}", r.text());
        assert!(
            r.stdout.contains(&format!("journal: {want} blocks")),
            "{}",
            r.stdout
        );
        let sb = img.superblock();
        assert_eq!((sb.journal_start, sb.journal_blocks), (1, want));
        assert_clean(&img.path);
    }
    // -J size= in MiB.
    let img = TempImage::with_blocks("journal-size", 16_384);
    let p = img.path.to_str().unwrap();
    let r = mkfs(&["-q", "-J", "size=8", p]);
    assert_eq!(r.code, 0, "{}", r.text());
    assert_eq!(img.superblock().journal_blocks, 2048);
    let g = img.superblock().geometry().unwrap();
    assert_eq!(g.data_start, 1 + 2048 + 2);
    let j = dinofs_tools::journal::JournalSuperblock::decode(&img.read(1)).unwrap();
    assert_eq!((j.first, j.maxlen, j.start), (2, 2049, 0));
    assert_clean(&img.path);
    // Too small for jbd2, too large for the filesystem, too large at all.
    for (size, what) in [
        ("size=3", "out of range"),
        ("size=33", "does not fit"),
        ("size=2048", "out of range"),
    ] {
        let r = mkfs(&["-J", size, p]);
        assert_eq!(r.code, 1, "-J {size}");
        assert!(r.stderr.contains(what), "-J {size}: {}", r.stderr);
    }
}
