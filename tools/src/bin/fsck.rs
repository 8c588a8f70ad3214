// SPDX-License-Identifier: GPL-2.0

//! `fsck.dinofs`: checks and repairs a dinofs filesystem.
//!
//! ```text
//! fsck.dinofs [-n|-y|-p] [-f] [-v] DEVICE|IMAGE
//! ```
//!
//! `-n` checks without writing anything (the device is opened read-only);
//! this is also the default. `-y` and `-p` (or `-a`) repair everything
//! fsck can repair. `-f` is accepted: every check is a full check. `-v`
//! adds progress notes. Exit codes are e2fsck's: 0 clean, 1 errors fixed,
//! 4 errors left uncorrected, 8 operational error (unreadable device, not
//! dinofs, usage, repair of a mounted device).
//!
//! A jbd2 journal that needs recovery is replayed first, as e2fsck does and
//! as the next mount would: with `-n` in memory only (the check sees the
//! replayed image, the device is untouched), with `-y`/`-p` on the device,
//! the journal then marked empty. The replay alone is not an error.

use dinofs_tools::cli;
use dinofs_tools::device::Device;
use dinofs_tools::fsck::{self, exit, Options};
use dinofs_tools::mounts;
use std::path::Path;
use std::process::ExitCode;

const USAGE: &str = "usage: fsck.dinofs [-n|-y|-p] [-f] [-v] DEVICE|IMAGE";

/// Prints an operational error (and optionally the usage line) and
/// returns exit code 8.
fn operational(message: &str, usage: bool) -> i32 {
    eprintln!("fsck.dinofs: {message}");
    if usage {
        eprintln!("{USAGE}");
    }
    exit::OPERATIONAL
}

fn run() -> i32 {
    let args = match cli::parse(std::env::args_os().skip(1), "nypafv", "") {
        Ok(a) => a,
        Err(e) => return operational(&e, true),
    };
    let modes = ['n', 'y', 'p', 'a']
        .iter()
        .filter(|&&c| args.has(c))
        .count();
    let no_write = args.has('n');
    if modes > 1 && (no_write || args.has('y')) {
        return operational("only one of -n, -y and -p may be given", true);
    }
    let opts = Options {
        repair: modes > 0 && !no_write,
        verbose: args.has('v'),
    };
    let path = match args.operands.as_slice() {
        [p] => Path::new(p),
        [] => return operational("no device given", true),
        _ => return operational("too many arguments", true),
    };
    let shown = path.display();

    match mounts::mounts_of(path) {
        Ok(m) if !m.is_empty() => {
            if opts.repair {
                let at = &m[0].mountpoint;
                return operational(
                    &format!("{shown} is mounted on {at}; refusing to repair"),
                    false,
                );
            }
            eprintln!("fsck.dinofs: warning: {shown} is mounted; the results may be inaccurate");
        }
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return operational(&format!("cannot open {shown}: {e}"), false)
        }
        Err(e) => eprintln!("fsck.dinofs: warning: cannot check whether {shown} is mounted: {e}"),
    }

    let dev = match Device::open(path, opts.repair) {
        Ok(d) => d,
        Err(e) => return operational(&format!("cannot open {shown}: {e}"), false),
    };
    match fsck::check(&dev, &opts) {
        Ok(report) => {
            for line in report.lines().iter().chain(&report.summary()) {
                println!("{line}");
            }
            report.exit_code()
        }
        Err(e) => operational(&format!("{shown}: {e}"), false),
    }
}

fn main() -> ExitCode {
    ExitCode::from(run() as u8)
}
