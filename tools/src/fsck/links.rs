// SPDX-License-Identifier: GPL-2.0

//! Pass 3: the orphan list, link counts, unreachable inodes and empty
//! clusters.
//!
//! An allocated inode is in exactly one of two states:
//!
//! - *linked*: reachable from the root; its `nlink` is what pass 2
//!   counted (entries naming it, or 2 + subdirectories for a directory);
//! - *orphan*: unreachable, `nlink` 0, on the orphan list (unlinked while
//!   open; the kernel frees it at the next mount or when it is closed).
//!
//! An unreachable inode that is neither (`nlink` > 0 and not on the orphan
//! list) is lost: repair frees it. Repair rebuilds the orphan list from
//! every inode whose `nlink` ends up 0 if anything about it is wrong.

use super::{Checker, OWNER_CLUSTER, OWNER_FREE};
use crate::format::{make_ino, INODES_PER_CLUSTER, NULL};
use std::collections::BTreeSet;

impl Checker<'_> {
    /// Follows the on-disk orphan list, marking its members. Returns
    /// whether the list is damaged.
    fn walk_orphan_list(&mut self) -> bool {
        let mut damaged = false;
        let mut seen = BTreeSet::new();
        let mut prev = NULL;
        let mut cur = self.sb.orphan_head;
        while cur != NULL {
            if !seen.insert(cur) {
                self.error(format!("orphan list loops at inode {cur}"));
                return true;
            }
            let Some(s) = self.inodes.get_mut(&cur) else {
                self.error(if prev == NULL {
                    format!("orphan list head points to free inode {cur}")
                } else {
                    format!("orphan list: inode {prev} points to free inode {cur}")
                });
                return true;
            };
            s.on_orphan_list = true;
            let (back, next) = (s.inode.orphan_prev, s.inode.orphan_next);
            if back != prev {
                self.error(format!(
                    "inode {cur} orphan_prev is {back}, expected {prev}"
                ));
                damaged = true;
            }
            prev = cur;
            cur = next;
        }
        damaged
    }

    /// Pass 3a: orphan list and link counts; frees lost inodes.
    pub(super) fn check_links(&mut self) {
        let mut rebuild = self.walk_orphan_list();
        let inos: Vec<u32> = self.inodes.keys().copied().collect();
        for ino in inos {
            let Some(s) = self.inodes.get(&ino) else {
                continue;
            };
            let (nlink, on_list, reachable) = (s.inode.nlink, s.on_orphan_list, s.reachable);
            let has_orphan_links = s.inode.orphan_next != NULL || s.inode.orphan_prev != NULL;
            if !reachable && !on_list && nlink > 0 {
                self.error(format!("inode {ino} allocated but unreachable"));
                self.release_inode(ino);
                continue;
            }
            let counted = if reachable { s.links } else { 0 };
            if on_list && nlink != 0 {
                self.error(format!("inode {ino} on orphan list has nlink {nlink}"));
                rebuild = true;
            } else if on_list && counted != 0 {
                self.error(format!(
                    "inode {ino} on orphan list but linked from a directory"
                ));
                rebuild = true;
            }
            if reachable && nlink != counted {
                self.error(format!("inode {ino} nlink {nlink}, counted {counted}"));
            }
            if counted == 0 && !on_list {
                self.error(format!(
                    "inode {ino} has nlink 0 but is not on the orphan list"
                ));
                rebuild = true;
            }
            if counted != 0 && !on_list && has_orphan_links {
                self.error(format!(
                    "inode {ino} is not an orphan but has orphan list links"
                ));
                rebuild = true;
            }
            if let Some(s) = self.inodes.get_mut(&ino) {
                if s.inode.nlink != counted {
                    s.inode.nlink = counted;
                    s.dirty = true;
                }
            }
        }
        if rebuild {
            self.rebuild_orphan_list();
        }
    }

    /// Relinks the orphan list from every inode with `nlink` 0, in inode
    /// order, and clears the links of every other inode.
    fn rebuild_orphan_list(&mut self) {
        let orphans: Vec<u32> = self
            .inodes
            .iter()
            .filter(|(_, s)| s.inode.nlink == 0)
            .map(|(&i, _)| i)
            .collect();
        for (&ino, s) in self.inodes.iter_mut() {
            let (prev, next) = match orphans.binary_search(&ino) {
                Ok(i) => (
                    i.checked_sub(1).map_or(NULL, |j| orphans[j]),
                    orphans.get(i + 1).copied().unwrap_or(NULL),
                ),
                Err(_) => (NULL, NULL),
            };
            if (s.inode.orphan_prev, s.inode.orphan_next) != (prev, next) {
                s.inode.orphan_prev = prev;
                s.inode.orphan_next = next;
                s.dirty = true;
            }
        }
        self.sb.orphan_head = orphans.first().copied().unwrap_or(NULL);
    }

    /// Pass 3b: a cluster with no allocated inode must not exist; repair
    /// returns it to free space.
    pub(super) fn check_clusters(&mut self) {
        let clusters: Vec<u32> = self.clusters.iter().copied().collect();
        for c in clusters {
            let range = make_ino(c, 0)..=make_ino(c, INODES_PER_CLUSTER - 1);
            if self.inodes.range(range).next().is_none() {
                self.error(format!("inode cluster {c} is empty"));
                self.clusters.remove(&c);
                self.set_owner(c, OWNER_FREE);
            }
        }
    }

    /// Returns the blocks of inodes released by repair to free space.
    pub(super) fn release_freed_blocks(&mut self) {
        if self.freed.is_empty() {
            return;
        }
        for o in self.owner.iter_mut() {
            if *o > OWNER_CLUSTER && self.freed.contains(o) {
                *o = OWNER_FREE;
            }
        }
    }
}
