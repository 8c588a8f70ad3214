// SPDX-License-Identifier: GPL-2.0

//! The crash-point test's workload plan and what must survive each step.
//!
//! `dinofs-crash run` (in the guest, on a `dm-log-writes` device) performs
//! the phases below and, after each one's sync, puts a mark labelled
//! `g<N>-<kind>` in the log. `dinofs-crash replay` replays the log to many
//! points and checks, at a mark, [`expected`] for it, and at a point between
//! two marks, [`stable`] for the earlier one: whatever was `syncfs`ed,
//! `fsync`ed or frozen before the point is there, and every name removed
//! before a sync is gone, except what the phase in flight is changing.
//!
//! | gen | kind   | what the phase does (then syncs and marks)                      |
//! |-----|--------|------------------------------------------------------------------|
//! | 0   | sync   | `keep/g0-*`                                                      |
//! | 1   | sync   | an unlink storm: 300 files in `storm/` created, synced, removed  |
//! | 2   | sync   | 16 files in `held/` opened and unlinked, left open (orphans)     |
//! | 3   | sync   | two fragmented 6 MiB files `big/a` and `big/b`, interleaved       |
//! | 4   | sync   | `big/a` removed and the held files closed (a teardown)           |
//! | 5   | fsync  | `keep/g0-*` rewritten (new sizes) and each one `fsync`ed         |
//! | 6   | frozen | `keep/g1-*` removed, `keep/g6-*` written, the filesystem frozen  |
//!
//! Every phase but 5 also writes its own `keep/g<N>-*` files. After the last
//! mark the workload goes on without syncing (more churn, `big/b`
//! removed) until the test unmounts. A `sync` or `frozen` mark is a point
//! where nothing is in flight: all of `expected` holds there. No point, mark
//! or not, may need repair: the journal's replay and orphan recovery alone
//! must leave a whole image.

use std::collections::BTreeMap;

/// Keep files written per phase.
pub const KEEP_PER_GEN: u64 = 12;
/// Files in the unlink storm.
pub const STORM_FILES: u64 = 300;
/// Open-unlinked files of phase 2.
pub const HELD_FILES: u64 = 16;
/// Size of each of the two fragmented files.
pub const BIG_BYTES: u64 = 6 << 20;
/// The last phase with a mark; phase 7 is the unsynced churn after it.
pub const LAST_GEN: u64 = 6;

/// A file's content: `len` bytes of the pattern of `seed`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Content {
    pub seed: u64,
    pub len: u64,
}

impl Content {
    /// The byte at `off`.
    pub fn byte(&self, off: u64) -> u8 {
        let x = off
            .wrapping_add(1)
            .wrapping_mul(0x9e37_79b9_7f4a_7c15)
            .wrapping_add(self.seed.wrapping_mul(0xc2b2_ae3d_27d4_eb4f));
        (x >> 29) as u8
    }

    /// `len` bytes from `off`.
    pub fn bytes(&self, off: u64, len: u64) -> Vec<u8> {
        (off..off + len).map(|o| self.byte(o)).collect()
    }
}

/// The path (relative to the mount) and content of keep file `i` of `gen`,
/// `version` 0 when first written, 1 after phase 5 rewrote it.
pub fn keep(gen: u64, i: u64, version: u64) -> (String, Content) {
    let seed = gen << 32 | i << 8 | version;
    // 0 to ~40 KiB: empty, inline-sized, direct and indirect-mapped files.
    let len = (seed.wrapping_mul(2_654_435_761) >> 7) % 40_000 * (i % 6).min(1);
    (format!("keep/g{gen}-{i:02}"), Content { seed, len })
}

/// The content of `big/a` (`which` 0) or `big/b` (1).
pub fn big(which: u64) -> (String, Content) {
    let name = if which == 0 { "big/a" } else { "big/b" };
    (
        name.to_string(),
        Content {
            seed: 0xb16 + which,
            len: BIG_BYTES,
        },
    )
}

/// What the tree must hold at a point whose last mark is of `gen`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expect {
    /// A regular file with this content.
    File(Content),
    /// No such name.
    Absent,
    /// A directory with no entries.
    EmptyDir,
}

/// Every path [`Expect`]ed after the phases up to and including `gen`
/// (7: the churn after the last mark, which removes `big/b`).
pub fn expected(gen: u64) -> BTreeMap<String, Expect> {
    let mut m = BTreeMap::new();
    for g in 0..=gen.min(LAST_GEN + 1) {
        if g <= LAST_GEN && g != 5 {
            for i in 0..KEEP_PER_GEN {
                let (p, c) = keep(g, i, 0);
                m.insert(p, Expect::File(c));
            }
        }
        match g {
            1 => {
                m.insert("storm".into(), Expect::EmptyDir);
            }
            2 => {
                m.insert("held".into(), Expect::EmptyDir);
            }
            3 | 4 => {
                for w in 0..2 {
                    let (p, c) = big(w);
                    let e = if g == 4 && w == 0 {
                        Expect::Absent
                    } else {
                        Expect::File(c)
                    };
                    m.insert(p, e);
                }
            }
            5 => {
                for i in 0..KEEP_PER_GEN {
                    let (p, c) = keep(0, i, 1);
                    m.insert(p, Expect::File(c));
                }
            }
            6 => {
                for i in 0..KEEP_PER_GEN {
                    m.insert(keep(1, i, 0).0, Expect::Absent);
                }
            }
            7 => {
                m.insert(big(1).0, Expect::Absent);
            }
            _ => {}
        }
    }
    m
}

/// What must hold at a point after the mark of `gen` and before the next
/// one: the expectations phase `gen + 1` does not change (what it changes
/// is in flight, in its old state, its new one or in between).
pub fn stable(gen: u64) -> BTreeMap<String, Expect> {
    let next = expected(gen + 1);
    expected(gen)
        .into_iter()
        .filter(|(p, e)| next.get(p) == Some(e))
        .collect()
}

/// The mark the target itself adds when it is removed: after the test
/// unmounted, so everything, the churn included, is on disk and clean.
pub const END_MARK: &str = "dm-log-writes-end";

/// The generation of a mark label `g<N>-<kind>`; the end mark is phase 7's.
pub fn mark_gen(label: &str) -> Option<u64> {
    if label == END_MARK {
        return Some(LAST_GEN + 1);
    }
    label.strip_prefix('g')?.split('-').next()?.parse().ok()
}

/// Whether the mark `label` is put where nothing is in flight (after mkfs,
/// a `syncfs`, a freeze or the unmount), so the image there must be
/// consistent.
pub fn is_quiet_mark(label: &str) -> bool {
    label == "mkfs" || label == END_MARK || label.ends_with("-sync") || label.ends_with("-frozen")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_is_consistent() {
        assert_eq!(mark_gen("g12-sync"), Some(12));
        assert_eq!(mark_gen("mkfs"), None);
        assert_eq!(mark_gen("dm-log-writes-end"), Some(LAST_GEN + 1));
        assert!(is_quiet_mark("g6-frozen") && !is_quiet_mark("g5-fsync"));
        // Phase 5 rewrote the g0 files, phase 6 removed the g1 files.
        let e = expected(6);
        assert_eq!(e["keep/g0-01"], Expect::File(keep(0, 1, 1).1));
        assert_eq!(e["keep/g1-01"], Expect::Absent);
        assert_eq!(e["big/a"], Expect::Absent);
        assert_eq!(expected(3)["big/a"], Expect::File(big(0).1));
        assert!(!expected(4).contains_key("keep/g5-00"));
        // Between the g3 and g4 marks big/a is being removed: unchecked;
        // big/b and the synced keep files are checked.
        let s3 = stable(3);
        assert!(!s3.contains_key("big/a") && s3.contains_key("big/b"));
        assert!(s3.contains_key("keep/g3-00") && !s3.contains_key("keep/g4-00"));
        // Phase 5 rewrites keep/g0-*; after the last mark big/b goes.
        assert!(!stable(4).contains_key("keep/g0-00") && stable(4).contains_key("keep/g1-00"));
        assert!(!stable(6).contains_key("big/b") && stable(6).contains_key("keep/g6-00"));
        // Sizes vary and include empty files; contents differ per version.
        let sizes: Vec<u64> = (0..KEEP_PER_GEN).map(|i| keep(2, i, 0).1.len).collect();
        assert!(sizes.contains(&0) && sizes.iter().any(|&s| s > 8192));
        assert_ne!(keep(0, 1, 0).1.bytes(0, 64), keep(0, 1, 1).1.bytes(0, 64));
    }
}
