// SPDX-License-Identifier: GPL-2.0

//! `mkfs.dinofs`: creates an empty dinofs filesystem.
//!
//! ```text
//! mkfs.dinofs [-b 4096] [-q] [-f] [-L label] [-J size=MiB] DEVICE|IMAGE [NBLOCKS]
//! ```
//!
//! The filesystem gets a jbd2 journal of `-J size=` MiB (as `mke2fs -J
//! size=`), by default sized as `mke2fs` sizes one for 4 KiB blocks: 4 MiB
//! below 128 MiB, 16 MiB below 1 GiB, and so on up to 1 GiB
//! (`format::default_journal_blocks`); at least 4 MiB (1,024 blocks, jbd2's
//! minimum) and at most half the filesystem.
//!
//! Never prompts (fstests pipes `yes` into mkfs, and there is nothing to
//! ask): an existing filesystem is overwritten silently, `-f` is accepted
//! for compatibility. A mounted device is refused. Without NBLOCKS the
//! whole device or image is used (at most [`MAX_BLOCKS`]); with it, an
//! image file is extended (or created) to that size. Exit status: 0 on
//! success, 1 on any error.

use dinofs_tools::builder::{self, format_uuid, MkfsOptions};
use dinofs_tools::cli;
use dinofs_tools::device::Device;
use dinofs_tools::format::{
    Geometry, BLOCK_SIZE, MAX_BLOCKS, MAX_JOURNAL_BLOCKS, MIN_BLOCKS, MIN_JOURNAL_BLOCKS,
};
use dinofs_tools::mounts;
use std::ffi::OsString;
use std::fs::OpenOptions;
use std::path::Path;
use std::process::ExitCode;

const USAGE: &str =
    "usage: mkfs.dinofs [-b 4096] [-q] [-f] [-L label] [-J size=MiB] DEVICE|IMAGE [NBLOCKS]";

/// Parses `-J`'s value: `size=N`, N in MiB (mke2fs's unit), into blocks.
fn parse_journal(s: &str) -> Result<u32, Failure> {
    let Some(n) = s.strip_prefix("size=") else {
        return usage(format!("-J {s}: only size=MiB is supported"));
    };
    let blocks = n
        .parse::<u64>()
        .ok()
        .and_then(|mib| mib.checked_mul((1 << 20) / BLOCK_SIZE as u64));
    match blocks {
        Some(b) if (MIN_JOURNAL_BLOCKS as u64..=MAX_JOURNAL_BLOCKS as u64).contains(&b) => {
            Ok(b as u32)
        }
        _ => fail(format!(
            "journal size {n} MiB is out of range: {} to {} MiB",
            (MIN_JOURNAL_BLOCKS as usize * BLOCK_SIZE) >> 20,
            (MAX_JOURNAL_BLOCKS as usize * BLOCK_SIZE) >> 20
        )),
    }
}

/// A failure: the message to print, and whether to print the usage line.
struct Failure {
    message: String,
    usage: bool,
}

fn fail<T>(message: impl Into<String>) -> Result<T, Failure> {
    Err(Failure {
        message: message.into(),
        usage: false,
    })
}

fn usage<T>(message: impl Into<String>) -> Result<T, Failure> {
    Err(Failure {
        message: message.into(),
        usage: true,
    })
}

/// Parses a size in blocks: a plain number of 4 KiB blocks, or a byte
/// count with a K, M, G or T suffix (`64M`).
fn parse_blocks(s: &str) -> Option<u64> {
    let (digits, unit) = match s.char_indices().last()? {
        (i, c) if c.is_ascii_alphabetic() => (&s[..i], c.to_ascii_uppercase()),
        _ => return s.parse().ok(),
    };
    let shift = match unit {
        'K' => 10,
        'M' => 20,
        'G' => 30,
        'T' => 40,
        _ => return None,
    };
    let bytes = digits.parse::<u64>().ok()?.checked_mul(1 << shift)?;
    Some(bytes / BLOCK_SIZE as u64)
}

fn run() -> Result<(), Failure> {
    let args = cli::parse(std::env::args_os().skip(1), "qf", "bLJ").or_else(usage)?;
    let quiet = args.has('q');
    if let Some(bs) = args.value('b') {
        if bs.parse::<u64>().ok() != Some(BLOCK_SIZE as u64) {
            return fail(format!(
                "block size {bs} is not supported: dinofs blocks are 4096 bytes"
            ));
        }
    }
    let mut label = [0u8; 32];
    if let Some(l) = args.value('L') {
        if l.len() > label.len() {
            return fail(format!("label '{l}' is longer than {} bytes", label.len()));
        }
        label[..l.len()].copy_from_slice(l.as_bytes());
    }
    let journal = args.value('J').map(parse_journal).transpose()?;
    let (path, nblocks): (&OsString, Option<u64>) = match args.operands.as_slice() {
        [path] => (path, None),
        [path, n] => {
            let n = n.to_str().and_then(parse_blocks);
            let Some(n) = n else {
                return usage("NBLOCKS must be a number of 4 KiB blocks");
            };
            (path, Some(n))
        }
        [] => return usage("no device given"),
        _ => return usage("too many arguments"),
    };
    let path = Path::new(path);
    let shown = path.display();
    if let Some(n) = nblocks {
        if !(MIN_BLOCKS..=MAX_BLOCKS).contains(&n) {
            return fail(format!(
                "{n} blocks is out of range: dinofs needs {MIN_BLOCKS} to {MAX_BLOCKS} blocks"
            ));
        }
    }

    if path.exists() {
        match mounts::mounts_of(path) {
            Ok(m) if !m.is_empty() => {
                return fail(format!(
                    "{shown} is mounted on {}; will not make a filesystem here",
                    m[0].mountpoint
                ))
            }
            Ok(_) => {}
            Err(e) => {
                eprintln!("mkfs.dinofs: warning: cannot check whether {shown} is mounted: {e}")
            }
        }
    }
    // An image file may be created, but only when its size is given.
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(nblocks.is_some())
        .truncate(false)
        .open(path);
    let file = file.or_else(|e| fail(format!("cannot open {shown}: {e}")))?;
    let mut dev = Device::from_file(file).or_else(|e| fail(format!("{shown}: {e}")))?;

    let blocks = match nblocks {
        Some(n) => {
            if dev.blocks() < n && !dev.is_regular_file() {
                return fail(format!(
                    "{shown} holds only {} blocks, {n} requested",
                    dev.blocks()
                ));
            }
            dev.ensure_blocks(n)
                .or_else(|e| fail(format!("cannot resize {shown}: {e}")))?;
            n
        }
        None if dev.blocks() < MIN_BLOCKS => {
            return fail(format!(
                "{shown} is too small: {} bytes, dinofs needs at least {} ({MIN_BLOCKS} blocks)",
                dev.size_bytes(),
                MIN_BLOCKS * BLOCK_SIZE as u64
            ))
        }
        None if dev.blocks() > MAX_BLOCKS => {
            if !quiet {
                println!("mkfs.dinofs: {shown} is larger than dinofs supports; using the first {MAX_BLOCKS} blocks");
            }
            MAX_BLOCKS
        }
        None => dev.blocks(),
    };

    let mut opts =
        MkfsOptions::new(blocks).or_else(|e| fail(format!("cannot get random bytes: {e}")))?;
    opts.label = label;
    opts.journal_blocks = journal;
    if Geometry::new(blocks, opts.journal_blocks()).is_none() {
        return fail(format!(
            "a journal of {} blocks does not fit a filesystem of {blocks} blocks (at most half of it)",
            opts.journal_blocks()
        ));
    }
    let sb = builder::mkfs(dev, &opts).or_else(|e| fail(format!("{shown}: {e}")))?;
    if !quiet {
        let geo = sb.geometry();
        let (bitmap_blocks, data_start) = geo.map_or((0, 0), |g| (g.bitmap_blocks, g.data_start));
        let journal_mib = (sb.journal_blocks as usize * BLOCK_SIZE) >> 20;
        let label = String::from_utf8_lossy(&sb.label);
        let label = label.trim_end_matches('\0');
        println!(
            "mkfs.dinofs: {shown}: {} blocks of {BLOCK_SIZE} bytes ({} MiB), {} free; \
             journal: {} blocks ({journal_mib} MiB) from block {}; \
             {bitmap_blocks} bitmap block(s) each for blocks and inode clusters; \
             data from block {data_start}; root directory inode {}; \
             {} inodes available; label '{label}'; uuid {}",
            sb.blocks,
            (sb.blocks * BLOCK_SIZE as u64) >> 20,
            sb.free_blocks,
            sb.journal_blocks,
            sb.journal_start,
            sb.root_ino,
            sb.available_inodes(),
            format_uuid(&sb.uuid),
        );
    }
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            eprintln!("mkfs.dinofs: {}", f.message);
            if f.usage {
                eprintln!("{USAGE}");
            }
            ExitCode::from(1)
        }
    }
}
