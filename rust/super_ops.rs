// SPDX-License-Identifier: GPL-2.0

//! Superblock setup for dinofs.
//!
//! The on-disk format and the read-write filesystem arrive with the
//! filesystem-core issue; until then every mount is refused with a clear
//! message after the VFS has opened (and validated) the block device.

use crate::vfs::{FsContext, SuperBlock};
use kernel::c_str;
use kernel::prelude::*;

/// Reads and validates the on-disk superblock and sets up the mount.
pub(crate) fn fill_super(sb: &SuperBlock, fc: &FsContext) -> Result {
    pr_err!(
        "{}: mounting is not implemented yet (no on-disk format in this build)\n",
        sb.id()
    );
    fc.error(c_str!("mounting is not implemented yet"));
    Err(EINVAL)
}
