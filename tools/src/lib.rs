// SPDX-License-Identifier: GPL-2.0

//! Shared code of the dinofs userspace tools.
//!
//! - [`format`](mod@format): the on-disk format (`rust/format.rs`, shared with the kernel).
//! - [`device`]: block-granular access to an image file or block device.
//! - [`bits`]: in-memory bitsets and their conversion to on-disk bitmap blocks.
//! - [`builder`]: a small userspace filesystem builder (mkfs, test images).
//! - [`fsck`]: the consistency checker behind `fsck.dinofs`.
//! - [`journal`]: the jbd2 journal superblock mkfs writes and fsck checks.
//! - [`mounts`]: "is this device mounted?" from `/proc/self/mounts`.
//! - [`cli`]: the getopt-style parser both command-line tools use.
//! - [`fuzz`]: field-aware image mutations (`dinofs-fuzz`).
//! - [`logwrites`]: a `dm-log-writes` log reader; [`crash`]: the crash-point
//!   test's workload plan and what must survive it (`dinofs-crash`).
//! - [`sys`]: mount(2), umount2(2), syncfs(2), FIFREEZE/FITHAW.

pub use dinofs_format as format;

pub mod bits;
pub mod builder;
pub mod cli;
pub mod crash;
pub mod device;
pub mod error;
pub mod fsck;
pub mod fuzz;
pub mod journal;
pub mod logwrites;
pub mod mounts;
pub mod sys;

pub use error::{Error, Result};

/// The crc32c the on-disk format uses (Castagnoli, as the kernel's
/// `crc32c()`), from the maintained `crc32c` crate.
pub fn crc32c(seed: u32, bytes: &[u8]) -> u32 {
    // The kernel's crc32c(seed, ...) neither pre- nor post-inverts; the
    // crate's append() does both, so undo them to match the module bit for bit.
    !crc32c::crc32c_append(!seed, bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use format::{FormatError, Superblock, BLOCK_SIZE};

    #[test]
    fn crc32c_matches_kernel_convention() {
        // Kernel: crc32c(~0, "123456789", 9) ^ ~0 == 0xe3069283 (the standard check value).
        assert_eq!(crc32c(!0, b"123456789") ^ !0, 0xe306_9283);
    }

    fn test_sb(blocks: u64) -> Superblock {
        let geo = format::Geometry::for_blocks(blocks).unwrap();
        Superblock {
            blocks,
            free_blocks: blocks / 2,
            bitmap_start: geo.bitmap_start,
            bitmap_blocks: geo.bitmap_blocks,
            clustermap_start: geo.clustermap_start,
            root_ino: format::make_ino(geo.data_start, 0),
            clusters: 1,
            free_inodes: 31,
            state: format::STATE_CLEAN,
            journal_start: geo.journal_start,
            journal_blocks: geo.journal_blocks,
            ..Default::default()
        }
    }

    #[test]
    fn superblock_round_trip() {
        let sb = test_sb(1 << 20);
        let mut b = [0u8; BLOCK_SIZE];
        sb.encode(&mut b, crc32c);
        assert_eq!(Superblock::decode(&b, crc32c), Ok(sb));
    }

    #[test]
    fn superblock_rejects_corruption() {
        let sb = test_sb(4096);
        let mut b = [0u8; BLOCK_SIZE];
        sb.encode(&mut b, crc32c);
        let mut bad = b;
        bad[20] ^= 1;
        assert_eq!(
            Superblock::decode(&bad, crc32c),
            Err(FormatError::BadChecksum)
        );
        let mut bad = b;
        bad[0] ^= 1;
        assert_eq!(Superblock::decode(&bad, crc32c), Err(FormatError::BadMagic));
        assert_eq!(
            Superblock::decode(&[0u8; BLOCK_SIZE], crc32c),
            Err(FormatError::BadMagic)
        );
    }
}
