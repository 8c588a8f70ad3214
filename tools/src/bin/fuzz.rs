// SPDX-License-Identifier: GPL-2.0

//! `dinofs-fuzz`: field-aware fuzzed images (see `dinofs_tools::fuzz`).
//!
//! ```text
//! dinofs-fuzz base OUT                         write the base image
//! dinofs-fuzz image --seed S --index I BASE OUT   one mutated image (replay)
//! dinofs-fuzz mount --seed S --count N [--start I] [--timeout SECS] BASE DEV MNT
//! ```
//!
//! `mount` runs the whole campaign in this one process (a process start
//! costs tens of milliseconds or more under TCG): for each image it writes
//! the mutation to DEV, mount(2)s it (or records the refusal), walks the
//! tree reading every file and link, creates, writes, truncates, renames
//! and unlinks, statfs, syncfs, and umount(2)s. A watchdog thread prints
//! the seed, index and mutation of an image that takes longer than the
//! timeout, so a hang is reported instead of silently waited for. Errors
//! from the filesystem are expected (that is what the mutations are for);
//! what must never happen is a splat, a hang or a panic, which the test
//! harness catches in the kernel log.

use dinofs_tools::{fuzz, sys};
use std::collections::BTreeMap;
use std::ffi::CString;
use std::fs;
use std::io::{Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

extern "C" {
    fn statfs(path: *const i8, buf: *mut u8) -> i32;
}

fn errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

fn cstr(p: &Path) -> CString {
    CString::new(p.as_os_str().as_bytes()).unwrap_or_default()
}

#[derive(Default)]
struct Tally {
    images: u64,
    mounted: u64,
    refused: BTreeMap<i32, u64>,
    op_errors: BTreeMap<i32, u64>,
    entries: u64,
    slowest_ms: u128,
}

fn note(map: &mut BTreeMap<i32, u64>, e: &std::io::Error) {
    *map.entry(e.raw_os_error().unwrap_or(-1)).or_default() += 1;
}

/// Walks `dir` (depth and entry bounded: a corrupt tree may be huge or
/// cyclic through hard-linked directories), reading files and links.
fn walk(dir: &Path, depth: u32, t: &mut Tally, budget: &mut u32) {
    let rd = match fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) => return note(&mut t.op_errors, &e),
    };
    for entry in rd {
        if *budget == 0 {
            return;
        }
        *budget -= 1;
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                note(&mut t.op_errors, &e);
                return;
            }
        };
        t.entries += 1;
        let path = entry.path();
        let meta = match fs::symlink_metadata(&path) {
            Ok(m) => m,
            Err(e) => {
                note(&mut t.op_errors, &e);
                continue;
            }
        };
        let ft = meta.file_type();
        if ft.is_dir() && depth < 8 {
            walk(&path, depth + 1, t, budget);
        } else if ft.is_symlink() {
            if let Err(e) = fs::read_link(&path) {
                note(&mut t.op_errors, &e);
            }
        } else if ft.is_file() {
            let mut buf = vec![0u8; 64 * 1024];
            match fs::File::open(&path) {
                Ok(mut f) => {
                    // The first 1 MiB is enough to reach every mapping kind.
                    for _ in 0..16 {
                        match f.read(&mut buf) {
                            Ok(0) => break,
                            Ok(_) => {}
                            Err(e) => {
                                note(&mut t.op_errors, &e);
                                break;
                            }
                        }
                    }
                }
                Err(e) => note(&mut t.op_errors, &e),
            }
        }
    }
}

/// Changes the tree: every step may fail on a damaged image.
fn exercise(mnt: &Path, t: &mut Tally) {
    let mut step = |r: std::io::Result<()>| {
        if let Err(e) = r {
            note(&mut t.op_errors, &e);
        }
    };
    let new = mnt.join("fuzz-new");
    step(fs::File::create(&new).and_then(|mut f| f.write_all(&[0x5a; 20000])));
    step(
        fs::OpenOptions::new()
            .write(true)
            .open(&new)
            .and_then(|f| f.set_len(100)),
    );
    step(
        fs::OpenOptions::new()
            .write(true)
            .open(&new)
            .and_then(|f| f.write_all_at(b"past the end", 70000)),
    );
    step(fs::rename(&new, mnt.join("fuzz-renamed")));
    step(fs::rename(mnt.join("big"), mnt.join("a/big-moved")));
    step(fs::remove_file(mnt.join("fuzz-renamed")));
    step(fs::remove_file(mnt.join("a/hello")));
    step(fs::create_dir(mnt.join("fuzz-dir")));
    step(fs::File::create(mnt.join("many/fuzz-extra")).map(drop));
    step(fs::remove_dir(mnt.join("fuzz-dir")));
    step(fs::hard_link(
        mnt.join("sparse"),
        mnt.join("many/sparse-link"),
    ));
    step(std::os::unix::fs::symlink(
        "a/b/deep",
        mnt.join("fuzz-link"),
    ));
    let mut st = [0u8; 256];
    // SAFETY: a valid path and a buffer larger than struct statfs.
    if unsafe { statfs(cstr(mnt).as_ptr(), st.as_mut_ptr()) } != 0 {
        *t.op_errors.entry(errno()).or_default() += 1;
    }
    if let Ok(d) = fs::File::open(mnt) {
        if let Err(e) = sys::syncfs(&d) {
            note(&mut t.op_errors, &e);
        }
    }
}

fn run_mount(
    base: &Path,
    dev: &Path,
    mnt: &Path,
    seed: u64,
    start: u64,
    count: u64,
    timeout: u64,
) -> Result<Tally, String> {
    let pristine = fs::read(base).map_err(|e| format!("{}: {e}", base.display()))?;
    let devf = fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(dev)
        .map_err(|e| format!("{}: {e}", dev.display()))?;
    let current = Arc::new(AtomicU64::new(u64::MAX));
    let started = Arc::new(Mutex::new((Instant::now(), String::new())));
    {
        let (current, started) = (current.clone(), started.clone());
        std::thread::spawn(move || {
            let mut reported = u64::MAX;
            loop {
                std::thread::sleep(Duration::from_secs(1));
                let i = current.load(SeqCst);
                if i == u64::MAX || i == reported {
                    continue;
                }
                let Ok((t0, what)) = started.lock().map(|g| g.clone()) else {
                    continue;
                };
                if t0.elapsed() > Duration::from_secs(timeout) {
                    eprintln!(
                        "HANG: seed {seed} index {i} running for {}s: {what}",
                        t0.elapsed().as_secs()
                    );
                    reported = i;
                }
            }
        });
    }
    let mut t = Tally::default();
    for i in start..start + count {
        let mut image = pristine.clone();
        let what = fuzz::mutate(&mut image, seed, i);
        if let Ok(mut g) = started.lock() {
            *g = (Instant::now(), what.clone());
        }
        current.store(i, SeqCst);
        let t0 = Instant::now();
        devf.write_all_at(&image, 0)
            .and_then(|()| devf.sync_all())
            .map_err(|e| format!("writing image {i}: {e}"))?;
        t.images += 1;
        let r = sys::mount(dev, mnt, "dinofs");
        if let Err(e) = &r {
            note(&mut t.refused, e);
        } else {
            t.mounted += 1;
            let mut budget = 2000;
            walk(mnt, 0, &mut t, &mut budget);
            exercise(mnt, &mut t);
            if let Err(e) = sys::umount(mnt, 0) {
                eprintln!("umount failed ({e}): seed {seed} index {i}: {what}");
                let _ = sys::umount(mnt, sys::MNT_DETACH);
                return Err(format!("umount of image {i} failed"));
            }
        }
        current.store(u64::MAX, SeqCst);
        t.slowest_ms = t.slowest_ms.max(t0.elapsed().as_millis());
        if std::env::var_os("DINOFS_FUZZ_VERBOSE").is_some() {
            let r = r.map_or_else(|e| e.raw_os_error().unwrap_or(-1), |()| 0);
            println!("image {i}: mount {r}: {what}");
        }
    }
    Ok(t)
}

fn usage() -> ExitCode {
    eprintln!(
        "usage: dinofs-fuzz base OUT | image --seed S --index I BASE OUT | mount --seed S --count N [--start I] [--timeout SECS] BASE DEV MNT"
    );
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mut opt = |name: &str, default: u64| -> Option<u64> {
        match args.iter().position(|a| a == name) {
            Some(p) if p + 1 < args.len() => {
                let v = args.remove(p + 1).parse().ok();
                args.remove(p);
                v
            }
            Some(_) => None,
            None => Some(default),
        }
    };
    let (Some(seed), Some(index), Some(count), Some(start), Some(timeout)) = (
        opt("--seed", 1),
        opt("--index", 0),
        opt("--count", 1),
        opt("--start", 0),
        opt("--timeout", 60),
    ) else {
        return usage();
    };
    let r = match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["base", out] => fuzz::write_base(Path::new(out)).map_err(|e| e.to_string()),
        ["image", base, out] => fs::read(base)
            .map_err(|e| e.to_string())
            .and_then(|mut img| {
                let what = fuzz::mutate(&mut img, seed, index);
                println!("seed {seed} index {index}: {what}");
                fs::write(out, img).map_err(|e| e.to_string())
            }),
        ["mount", base, dev, mnt] => run_mount(
            Path::new(base),
            Path::new(dev),
            Path::new(mnt),
            seed,
            start,
            count,
            timeout,
        )
        .map(|t| {
            println!(
                "images={} mounted={} refused={:?} op_errors={:?} entries={} slowest_ms={}",
                t.images, t.mounted, t.refused, t.op_errors, t.entries, t.slowest_ms
            );
        }),
        _ => return usage(),
    };
    match r {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("dinofs-fuzz: {e}");
            ExitCode::FAILURE
        }
    }
}
