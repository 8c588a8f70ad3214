// SPDX-License-Identifier: GPL-2.0

//! Mount options: `-o inodegc=deferred|sync,errors=continue|remount-ro,commit=N`.
//! The C parameter table (`dinofs_param_specs`, `helpers.c`) parses the
//! strings; this applies the results and says what `/proc/mounts` shows.

use super::SuperBlock;
use kernel::prelude::*;

/// Mount options (`-o inodegc=deferred|sync,errors=continue|remount-ro,commit=N`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct MountOptions {
    /// `inodegc=sync`: inactivate at the final iput instead of deferring.
    pub(crate) inodegc_sync: bool,
    /// `errors=remount-ro`.
    pub(crate) errors_remount_ro: bool,
    /// `commit=N`: the journal's commit interval in seconds (1 to
    /// [`COMMIT_MAX_SECS`]); 0, the default, is jbd2's 5 seconds.
    pub(crate) commit_secs: u32,
}

/// The longest commit interval `commit=` accepts (ext4 takes more; an hour
/// is already far past any use but a test's).
pub(crate) const COMMIT_MAX_SECS: u32 = 3600;

/// jbd2's default commit interval (`JBD2_DEFAULT_MAX_COMMIT_AGE`), what
/// `commit=0` means.
const COMMIT_DEFAULT_SECS: u32 = 5;

/// Option indices, in the order of `dinofs_param_specs` in `helpers.c`.
const OPT_INODEGC: u32 = 0;
const OPT_ERRORS: u32 = 1;
const OPT_COMMIT: u32 = 2;

/// Applies one parsed option (`opt`, `value` from the C parameter table).
pub(crate) fn parse_option(opts: &mut MountOptions, opt: u32, value: u32) -> Result {
    match opt {
        OPT_INODEGC => opts.inodegc_sync = value == 1,
        OPT_ERRORS => opts.errors_remount_ro = value == 1,
        OPT_COMMIT if value <= COMMIT_MAX_SECS => {
            opts.commit_secs = if value == COMMIT_DEFAULT_SECS {
                0
            } else {
                value
            }
        }
        _ => return Err(EINVAL),
    }
    Ok(())
}

/// The options `/proc/mounts` shows (beyond `ro`/`rw`), each to `show`.
pub(crate) fn show_options(sb: &SuperBlock, show: &mut dyn FnMut(&[u8])) {
    let o = sb.info().opts;
    if o.inodegc_sync {
        show(b",inodegc=sync");
    }
    if o.errors_remount_ro {
        show(b",errors=remount-ro");
    }
    if o.commit_secs != 0 {
        show(b",commit=");
        let mut digits = [0u8; 10];
        let mut n = o.commit_secs;
        let mut at = digits.len();
        while at > 0 {
            at -= 1;
            digits[at] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        show(&digits[at..]);
    }
}
