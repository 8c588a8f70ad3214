// SPDX-License-Identifier: GPL-2.0

//! Pass 4: the bitmaps and the superblock against what the other passes
//! found.
//!
//! After passes 1-3 every block has exactly one owner (or none), so the
//! correct bitmaps and counters follow: a block is used iff it has an
//! owner, a cluster iff its owner is [`OWNER_CLUSTER`]. Differences with
//! the disk are reported as runs of blocks, and repair rewrites every
//! bitmap block that differs, then the superblock.

use super::{Checker, Result, OWNER_CLUSTER, OWNER_FREE, OWNER_METADATA};
use crate::bits::{self, Bits};
use crate::crc32c;
use crate::device::zero_block;
use crate::format::{INODES_PER_CLUSTER, STATE_CLEAN, STATE_DIRTY, SUPERBLOCK_BLOCK};

/// One kind of bitmap difference, for grouping consecutive blocks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Diff {
    /// Owned (by this owner) but clear in the bitmap.
    Missing(u32),
    /// Set in the bitmap but owned by nothing.
    Leaked,
}

impl Diff {
    fn describe(self, first: u64, last: u64) -> String {
        let blocks = if first == last {
            format!("block {first}")
        } else {
            format!("blocks {first}-{last}")
        };
        match self {
            Diff::Missing(OWNER_METADATA) => format!("{blocks} (metadata) free in bitmap"),
            Diff::Missing(OWNER_CLUSTER) => format!("{blocks} (inode cluster) free in bitmap"),
            Diff::Missing(ino) => format!("{blocks} used by inode {ino} and free in bitmap"),
            Diff::Leaked => format!("{blocks} marked used in bitmap but owned by nothing"),
        }
    }
}

impl Checker<'_> {
    /// Pass 4: bitmaps, counters, superblock.
    pub(super) fn check_space(&mut self) -> Result<()> {
        let mut used = Bits::new(self.blocks);
        let mut clusters = Bits::new(self.blocks);
        for (b, &o) in self.owner.iter().enumerate() {
            used.set(b as u64, o != OWNER_FREE);
        }
        for &c in &self.clusters {
            clusters.set(c as u64, true);
        }
        self.report_bitmap_differences(&used);
        // Cluster map differences were all reported where they were found
        // (bits in the metadata or past the end, empty clusters).
        self.write_bitmaps(&used, &clusters)?;
        self.check_superblock(&used)
    }

    /// Reports block bitmap differences, consecutive blocks with the same
    /// problem on one line.
    fn report_bitmap_differences(&mut self, used: &Bits) {
        let mut run: Option<(Diff, u64, u64)> = None;
        for b in 0..self.blocks {
            let diff = match (used.get(b), self.disk_used.get(b)) {
                (true, false) => Some(Diff::Missing(self.owner[b as usize])),
                (false, true) => Some(Diff::Leaked),
                _ => None,
            };
            run = match (run, diff) {
                (Some((d, first, last)), Some(now)) if d == now && last + 1 == b => {
                    Some((d, first, b))
                }
                (old, now) => {
                    if let Some((d, first, last)) = old {
                        self.error(d.describe(first, last));
                    }
                    now.map(|d| (d, b, b))
                }
            };
        }
        if let Some((d, first, last)) = run {
            self.error(d.describe(first, last));
        }
    }

    /// Queues every bitmap block whose correct contents differ from the
    /// disk's (differing bits, bad checksum or bits past the end).
    fn write_bitmaps(&mut self, used: &Bits, clusters: &Bits) -> Result<()> {
        for i in 0..self.geo.bitmap_blocks {
            for (start, bits) in [
                (self.geo.bitmap_start, used),
                (self.geo.clustermap_start, clusters),
            ] {
                let want = bits::encode_bitmap_block(bits, i);
                if self.io.read(start + i)? != want {
                    self.io.write(start + i, want);
                }
            }
        }
        Ok(())
    }

    /// Checks the counters and the state flag, and queues the superblock
    /// if anything in it changes.
    fn check_superblock(&mut self, used: &Bits) -> Result<()> {
        let mut sb = self.sb;
        let free_blocks = self.blocks - used.count_ones();
        // Clusters are blocks and blocks < 2^27, so these fit in u32.
        let clusters = self.clusters.len() as u32;
        let allocated = self.inodes.len() as u64;
        let free_inodes =
            (clusters as u64 * INODES_PER_CLUSTER as u64).saturating_sub(allocated) as u32;
        for (name, stored, counted) in [
            ("free_blocks", sb.free_blocks, free_blocks),
            ("clusters", sb.clusters as u64, clusters as u64),
            ("free_inodes", sb.free_inodes as u64, free_inodes as u64),
        ] {
            if stored != counted {
                let text = format!("superblock {name} {stored}, counted {counted}");
                if sb.state == STATE_DIRTY && !self.opts.repair {
                    // Counters are exact only in a cleanly unmounted image;
                    // the kernel recounts them when it mounts a dirty one
                    // (as e2fsck treats free counts: PR_NO_OK).
                    self.info(text);
                } else {
                    self.error(text);
                }
            }
        }
        sb.free_blocks = free_blocks;
        sb.clusters = clusters;
        sb.free_inodes = free_inodes;
        if sb.state == STATE_DIRTY {
            let text = "filesystem was not cleanly unmounted (state dirty)".to_string();
            if self.opts.repair {
                self.error(text);
                sb.state = STATE_CLEAN;
            } else {
                self.info(text);
            }
        }
        // `self.sb` carries the orphan head as rebuilt by pass 3.
        let original = if self.sb_bad_checksum {
            None
        } else {
            Some(self.original_sb)
        };
        if original != Some(sb) {
            let mut b = zero_block();
            sb.encode(&mut b, crc32c);
            self.io.write(SUPERBLOCK_BLOCK, b);
        }
        self.report.inodes_used = allocated;
        self.report.inodes_total = sb.total_inodes();
        self.report.blocks_used = self.blocks - free_blocks;
        self.sb = sb;
        Ok(())
    }
}
