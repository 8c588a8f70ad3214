// SPDX-License-Identifier: GPL-2.0

//! Randomized corruption: whatever is done to the metadata, fsck must not
//! panic or hang, and after `-y` a `-n` run must find nothing. A fixed
//! seed keeps failures reproducible; each failure prints the round, the
//! corruption and both reports. `DINOFS_FUZZ_ROUNDS` and
//! `DINOFS_FUZZ_SEED` run a longer or different campaign.

mod common;

use common::*;
use dinofs_tools::crc32c;
use dinofs_tools::format::{
    self, ino_cluster, make_ino, Block, Geometry, Inode, BLOCK_SIZE, INODES_PER_CLUSTER,
    MIN_BLOCKS, S_IFBLK, S_IFDIR, S_IFLNK, S_IFREG, S_IFSOCK,
};
use dinofs_tools::fsck::{self, Options, Severity};

use dinofs_tools::fuzz::Rng;

/// A number from the environment, or `default`.
fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// What `fsck -y` made of an image.
enum Outcome {
    /// Nothing to repair.
    Clean,
    /// Repaired, and a second `-n` run is clean.
    Repaired,
    /// Exit 8: unusable superblock or a fatal finding.
    Beyond,
}

/// Runs `fsck -y` on `img` and, if it repaired anything, requires a clean
/// `-n` run after it; `what` names the image in the failure message.
fn repair_converges(img: &TempImage, what: &str) -> Outcome {
    let repair = Options {
        repair: true,
        verbose: false,
    };
    let Ok(first) = fsck::check(&img.device(true), &repair) else {
        return Outcome::Beyond;
    };
    if first.messages.iter().any(|m| m.severity == Severity::Fatal) {
        return Outcome::Beyond;
    }
    if first.errors() == 0 {
        return Outcome::Clean;
    }
    let second = fsck::check(&img.device(false), &Options::default()).unwrap();
    assert_eq!(
        second.errors(),
        0,
        "{what}\nrepair:\n{}\nthen -n:\n{}",
        first.lines().join("\n"),
        second.lines().join("\n")
    );
    Outcome::Repaired
}

/// Size of the fuzzed image (the smallest filesystem).
const BLOCKS: u64 = MIN_BLOCKS;

/// Its layout.
fn geo() -> Geometry {
    Geometry::for_blocks(BLOCKS).unwrap()
}

/// Block `n` of an in-memory image.
fn block_mut(image: &mut [u8], n: u64) -> &mut Block {
    let base = n as usize * BLOCK_SIZE;
    <&mut Block>::try_from(&mut image[base..base + BLOCK_SIZE]).unwrap()
}

/// Changes one field of one of `inodes` to a plausible wrong value, with
/// a valid checksum.
fn mutate_inode(image: &mut [u8], inodes: &[u32], rng: &mut Rng) -> String {
    let ino = inodes[rng.below(inodes.len() as u64) as usize];
    let cluster = block_mut(image, ino_cluster(ino) as u64);
    let Ok(Some(mut inode)) = Inode::decode(cluster, ino, &geo(), crc32c) else {
        return format!("inode {ino} already damaged");
    };
    // Mostly inside the data area; one time in four anywhere, metadata
    // and the journal included, or a little past the end.
    let small = if rng.below(4) == 0 {
        rng.below(BLOCKS + BLOCKS / 8)
    } else {
        let data = geo().data_start as u64;
        data + rng.below(BLOCKS - data + BLOCKS / 16)
    } as u32;
    let other = inodes[rng.below(inodes.len() as u64) as usize];
    let field = rng.below(11);
    match field {
        0 => inode.nlink = small % 5,
        1 => inode.size = rng.below(6 * BLOCK_SIZE as u64),
        2 => inode.blocks = small % 40,
        3..=5 => inode.direct[rng.below(8) as usize] = small,
        6 => inode.indirect = small,
        7 => inode.dindirect = small,
        8 => inode.orphan_next = other,
        9 => inode.orphan_prev = other,
        _ => {
            let types = [S_IFREG, S_IFDIR, S_IFLNK, S_IFBLK, S_IFSOCK];
            inode.mode = types[rng.below(5) as usize] | 0o644;
        }
    }
    inode.encode(cluster, ino, crc32c);
    format!("inode {ino} field {field} changed: {inode:?}")
}

#[test]
fn random_corruption_is_repaired() {
    let rounds: u64 = env("DINOFS_FUZZ_ROUNDS", 150);
    let seed: u64 = env("DINOFS_FUZZ_SEED", 0x00d1_a0f5);
    let (img, _) = sample_image_sized("fuzz-base", BLOCKS);
    let pristine = std::fs::read(&img.path).unwrap();
    // Blocks worth corrupting: everything the sample uses (superblock,
    // bitmaps, clusters, directories, indirect and data blocks).
    // The journal's log blocks are all zeroes, which no replay reads (its
    // superblock says the log is empty): only its superblock is worth it.
    let used: Vec<u64> = (0..BLOCKS)
        .filter(|&b| img.bitmap_bit(false, b) && (b < 2 || !geo().in_journal(b)))
        .collect();
    let clusters: Vec<u64> = (1..BLOCKS).filter(|&b| img.bitmap_bit(true, b)).collect();
    let inodes: Vec<u32> = clusters
        .iter()
        .flat_map(|&c| (0..INODES_PER_CLUSTER).map(move |s| make_ino(c as u32, s)))
        .filter(|&ino| {
            let c = block_mut(&mut pristine.clone(), ino_cluster(ino) as u64).to_owned();
            matches!(Inode::decode(&c, ino, &geo(), crc32c), Ok(Some(_)))
        })
        .collect();

    let mut rng = Rng::for_image(seed, 0);
    let mut repaired = 0;
    let mut fatal = 0;
    for round in 0..rounds {
        let mut image = pristine.clone();
        let mut what = Vec::new();
        for _ in 0..1 + rng.below(3) {
            if rng.below(5) < 2 {
                what.push(mutate_inode(&mut image, &inodes, &mut rng));
                continue;
            }
            let block = used[rng.below(used.len() as u64) as usize];
            let base = block as usize * BLOCK_SIZE;
            match rng.below(3) {
                0 => {
                    // Flip one bit.
                    let off = rng.below(BLOCK_SIZE as u64) as usize;
                    image[base + off] ^= 1 << rng.below(8);
                    what.push(format!("flip bit in block {block} byte {off}"));
                }
                1 => {
                    // A random small value in an aligned u32: looks like a
                    // block or inode number, or a count.
                    let off = rng.below(BLOCK_SIZE as u64 / 4) as usize * 4;
                    let v = rng.below(2 * BLOCKS * 32) as u32;
                    image[base + off..base + off + 4].copy_from_slice(&v.to_le_bytes());
                    what.push(format!("u32 {v} at block {block} byte {off}"));
                }
                _ => {
                    // Garbage over a whole 64-byte run.
                    let off = rng.below(BLOCK_SIZE as u64 / 64) as usize * 64;
                    for b in &mut image[base + off..base + off + 64] {
                        *b = rng.next_u64() as u8;
                    }
                    what.push(format!("garbage at block {block} bytes {off}..+64"));
                }
            }
            // Half the time, reseal the block so that the damage gets past
            // the checksum and into the structural checks.
            if !clusters.contains(&block) && rng.below(2) == 0 {
                format::seal_block(block_mut(&mut image, block), crc32c);
                what.push(format!("resealed block {block}"));
            }
        }
        std::fs::write(&img.path, &image).unwrap();
        match repair_converges(&img, &format!("round {round}: {what:?}")) {
            Outcome::Beyond => fatal += 1,
            Outcome::Repaired => repaired += 1,
            Outcome::Clean => {}
        }
    }
    eprintln!("{rounds} rounds: {repaired} repaired, {fatal} beyond repair");
    assert!(
        repaired > rounds / 3,
        "only {repaired} rounds had anything to repair"
    );
}

/// The field-aware images of `dinofs-fuzz` (the ones the in-guest test
/// mounts): fsck never panics, and `-y` either converges (a second `-n` is
/// clean) or reports the image as beyond repair. `DINOFS_FUZZ_IMAGES` and
/// `DINOFS_FUZZ_SEED` run a longer or different campaign; a failure prints
/// the replay command.
#[test]
fn field_aware_images_converge() {
    let images: u64 = env("DINOFS_FUZZ_IMAGES", 2000);
    let seed: u64 = env("DINOFS_FUZZ_SEED", 1);
    let base = TempImage::new("fuzz-field-base");
    dinofs_tools::fuzz::write_base(&base.path).unwrap();
    let pristine = std::fs::read(&base.path).unwrap();
    let img = TempImage::new("fuzz-field");
    let (mut clean, mut repaired, mut beyond) = (0, 0, 0);
    for index in 0..images {
        let mut image = pristine.clone();
        let what = dinofs_tools::fuzz::mutate(&mut image, seed, index);
        std::fs::write(&img.path, &image).unwrap();
        let replay = format!("dinofs-fuzz image --seed {seed} --index {index}: {what}");
        match repair_converges(&img, &replay) {
            Outcome::Clean => clean += 1,
            Outcome::Repaired => repaired += 1,
            Outcome::Beyond => beyond += 1,
        }
    }
    eprintln!("{images} images: {clean} clean, {repaired} repaired, {beyond} beyond repair");
    assert!(
        repaired > images / 2,
        "only {repaired} images needed repair"
    );
}
