// SPDX-License-Identifier: GPL-2.0

//! dinofs's side of the deferred-inactivation engine: what needs work
//! after eviction and how it is done ([`Inactivate`] for [`DinoFs`]), the
//! module's CPU-hotplug state the mounts' engines register with.

use super::{inode, DinoFs, Inode, SuperBlock};
use crate::format;
use crate::inodegc::{Inactivate, InodeGc};
use crate::kernel_ext::hotplug::{CpuDeadSetup, CpuDeadState};
use core::sync::atomic::Ordering::Relaxed;
use kernel::c_str;
use kernel::prelude::*;

/// The engine of a dinofs mount.
pub(crate) type DinoGc = InodeGc<DinoFs>;

impl Inactivate for DinoFs {
    const CLUSTER_INODES: u32 = format::INODES_PER_CLUSTER;

    fn wants_trim(inode: &Inode) -> bool {
        inode.lock_data().prealloc()
    }

    fn inactivate(i: &Inode) -> Result {
        inode::inactivate(i)
    }

    fn inactivate_failed(i: &Inode) {
        // Best effort: record the block map as it is now (exactly what the
        // inode still owns; the teardown clears each pointer as it frees
        // the block) in the on-disk inode, so that the next mount's orphan
        // recovery frees all of it, including blocks allocated after the
        // inode was last written back. A failure here leaves them to fsck.
        let _ = inode::write_inode(i, false);
    }

    fn trim(i: &Inode) -> Result {
        inode::trim_eof(i)
    }

    fn space_low(sb: &SuperBlock) -> bool {
        match sb.try_info() {
            Some(info) => info.free_blocks_hint.load(Relaxed) < info.geo.blocks / 64,
            None => false,
        }
    }
}

/// The CPU-dead state every mount's engine registers with
/// (`fs/dinofs:dead`), set up at module init ([`module_init`]).
pub(crate) static CPU_DEAD: CpuDeadState<DinoGc> = CpuDeadState::new();

/// Sets up the CPU-dead state; the module keeps the guard until exit.
pub(crate) fn module_init() -> Result<CpuDeadSetup<DinoGc>> {
    CPU_DEAD.setup(c_str!("fs/dinofs:dead"))
}
