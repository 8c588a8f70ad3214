// SPDX-License-Identifier: GPL-2.0

//! Mount options: `-o inodegc=deferred|sync,errors=continue|remount-ro`.
//! The C parameter table (`dinofs_param_specs`, `helpers.c`) parses the
//! strings; this applies the results and says what `/proc/mounts` shows.

use super::SuperBlock;
use kernel::c_str;
use kernel::prelude::*;
use kernel::str::CStr;

/// Mount options (`-o inodegc=deferred|sync,errors=continue|remount-ro`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct MountOptions {
    /// `inodegc=sync`: inactivate at the final iput instead of deferring.
    pub(crate) inodegc_sync: bool,
    /// `errors=remount-ro`.
    pub(crate) errors_remount_ro: bool,
}

/// Option indices, in the order of `dinofs_param_specs` in `helpers.c`.
const OPT_INODEGC: u32 = 0;
const OPT_ERRORS: u32 = 1;

/// Applies one parsed option (`opt`, `value` from the C parameter table).
pub(crate) fn parse_option(opts: &mut MountOptions, opt: u32, value: u32) -> Result {
    match opt {
        OPT_INODEGC => opts.inodegc_sync = value == 1,
        OPT_ERRORS => opts.errors_remount_ro = value == 1,
        _ => return Err(EINVAL),
    }
    Ok(())
}

/// The options `/proc/mounts` shows (beyond `ro`/`rw`).
pub(crate) fn shown_options(sb: &SuperBlock) -> impl Iterator<Item = &'static CStr> {
    let o = sb.info().opts;
    [
        o.inodegc_sync.then_some(c_str!(",inodegc=sync")),
        o.errors_remount_ro.then_some(c_str!(",errors=remount-ro")),
    ]
    .into_iter()
    .flatten()
}
