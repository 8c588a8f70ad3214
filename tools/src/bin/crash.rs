// SPDX-License-Identifier: GPL-2.0

//! `dinofs-crash`: crash-point testing with `dm-log-writes`.
//!
//! ```text
//! dinofs-crash run MNT DMNAME
//!     the workload of dinofs_tools::crash on the dinofs mounted on MNT,
//!     whose device is the log-writes target DMNAME; a mark after each phase
//! dinofs-crash replay [--between N] [--seed S] [--every-after MARK] LOG DEV MNT BYTES
//!     replay the log on LOG from its "mkfs" mark to its end, stopping at
//!     every flush, FUA write and mark, at N points drawn (by seed S)
//!     between each two of them, and at every entry from MARK to the next
//!     mark; at each point write the image (BYTES long)
//!     to DEV, mount it on MNT (journal replay and orphan recovery run),
//!     check what must have survived, read the whole tree, unmount, and
//!     fsck -n, which must find nothing at any point
//! ```
//!
//! Both do all their work in this one process: under TCG a process start
//! costs tens of milliseconds or more. `run` starts `dmsetup` once per mark.

use dinofs_tools::crash::{self, Content, Expect};
use dinofs_tools::device::Device;
use dinofs_tools::fsck::{self, Options};
use dinofs_tools::fuzz::Rng;
use dinofs_tools::logwrites::{self, Log};
use dinofs_tools::sys;
use std::collections::{BTreeMap, BTreeSet};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::process::{Command, ExitCode};

type Res<T> = Result<T, String>;

fn ctx(what: impl std::fmt::Display) -> impl FnOnce(io::Error) -> String {
    move |e| format!("{what}: {e}")
}

// --- run ------------------------------------------------------------------

struct Run<'a> {
    mnt: &'a Path,
    dm: &'a str,
}

impl Run<'_> {
    fn write(&self, rel: &str, c: Content) -> Res<File> {
        let path = self.mnt.join(rel);
        let mut f = File::create(&path).map_err(ctx(path.display()))?;
        let mut off = 0;
        while off < c.len {
            let n = (c.len - off).min(64 << 10);
            f.write_all(&c.bytes(off, n)).map_err(ctx(path.display()))?;
            off += n;
        }
        Ok(f)
    }

    fn keep(&self, gen: u64) -> Res<()> {
        for i in 0..crash::KEEP_PER_GEN {
            let (p, c) = crash::keep(gen, i, 0);
            self.write(&p, c)?;
        }
        Ok(())
    }

    fn mkdir(&self, rel: &str) -> Res<()> {
        fs::create_dir(self.mnt.join(rel)).map_err(ctx(rel))
    }

    fn rm(&self, rel: &str) -> Res<()> {
        fs::remove_file(self.mnt.join(rel)).map_err(ctx(rel))
    }

    /// syncfs, then the mark: everything the phase did is in the log before it.
    fn sync_and_mark(&self, label: &str) -> Res<()> {
        let root = File::open(self.mnt).map_err(ctx("open mount"))?;
        sys::syncfs(&root).map_err(ctx("syncfs"))?;
        self.mark(label)
    }

    fn mark(&self, label: &str) -> Res<()> {
        let st = Command::new("dmsetup")
            .args(["message", self.dm, "0", "mark", label])
            .status()
            .map_err(ctx("dmsetup"))?;
        if !st.success() {
            return Err(format!("dmsetup message {} mark {label}: {st}", self.dm));
        }
        println!("mark {label}");
        Ok(())
    }

    fn workload(&self) -> Res<()> {
        for d in ["keep", "storm", "held", "big", "churn"] {
            self.mkdir(d)?;
        }
        self.keep(0)?;
        self.sync_and_mark("g0-sync")?;

        // 1: an unlink storm, the removals deferred to the worker.
        let storm: Vec<String> = (0..crash::STORM_FILES)
            .map(|i| format!("storm/s{i:03}"))
            .collect();
        for (i, p) in storm.iter().enumerate() {
            self.write(
                p,
                Content {
                    seed: 1000 + i as u64,
                    len: 2048,
                },
            )?;
        }
        let root = File::open(self.mnt).map_err(ctx("open mount"))?;
        sys::syncfs(&root).map_err(ctx("syncfs"))?;
        for p in &storm {
            self.rm(p)?;
        }
        self.keep(1)?;
        self.sync_and_mark("g1-sync")?;

        // 2: open-unlinked files: on the orphan list at the mark.
        let mut held = Vec::new();
        for i in 0..crash::HELD_FILES {
            let p = format!("held/h{i:02}");
            held.push(self.write(
                &p,
                Content {
                    seed: 2000 + i,
                    len: 64 << 10,
                },
            )?);
            self.rm(&p)?;
        }
        self.keep(2)?;
        self.sync_and_mark("g2-sync")?;

        // 3: two files written in turns, 64 KiB at a time: both fragmented.
        let (pa, ca) = crash::big(0);
        let (pb, cb) = crash::big(1);
        let mut fa = File::create(self.mnt.join(&pa)).map_err(ctx(&pa))?;
        let mut fb = File::create(self.mnt.join(&pb)).map_err(ctx(&pb))?;
        let mut off = 0;
        while off < crash::BIG_BYTES {
            fa.write_all(&ca.bytes(off, 64 << 10)).map_err(ctx(&pa))?;
            fb.write_all(&cb.bytes(off, 64 << 10)).map_err(ctx(&pb))?;
            off += 64 << 10;
        }
        drop((fa, fb));
        self.keep(3)?;
        self.sync_and_mark("g3-sync")?;

        // 4: a big teardown and the held files' final iputs, together.
        self.rm(&pa)?;
        drop(held);
        self.keep(4)?;
        self.sync_and_mark("g4-sync")?;

        // 5: rewrite in place, new sizes, fsync each (no syncfs).
        for i in 0..crash::KEEP_PER_GEN {
            let (p, c) = crash::keep(0, i, 1);
            let path = self.mnt.join(&p);
            let mut f = OpenOptions::new()
                .write(true)
                .open(&path)
                .map_err(ctx(&p))?;
            f.set_len(0).map_err(ctx(&p))?;
            f.write_all(&c.bytes(0, c.len)).map_err(ctx(&p))?;
            f.sync_all().map_err(ctx(&p))?;
        }
        self.mark("g5-fsync")?;

        // 6: removals and new files, made durable by a freeze.
        for i in 0..crash::KEEP_PER_GEN {
            self.rm(&crash::keep(1, i, 0).0)?;
        }
        self.keep(6)?;
        let root = File::open(self.mnt).map_err(ctx("open mount"))?;
        sys::freeze(&root).map_err(ctx("FIFREEZE"))?;
        let marked = self.mark("g6-frozen");
        sys::thaw(&root).map_err(ctx("FITHAW"))?;
        marked?;

        // After the last mark: churn that is never synced.
        for i in 0..100u64 {
            let p = format!("churn/c{i:03}");
            self.write(
                &p,
                Content {
                    seed: 3000 + i,
                    len: 6000,
                },
            )?;
            if i % 2 == 0 {
                self.rm(&p)?;
            }
        }
        self.rm(&pb)?;
        Ok(())
    }
}

// --- replay ---------------------------------------------------------------

#[derive(Default)]
struct Tally {
    points: u64,
    quiet_points: u64,
    recovered: u64,
    files_checked: u64,
}

/// The engine's `inactivated` count for the filesystem on `dev` (right
/// after mount: the orphans recovery inactivated).
fn inactivated(dev: &Path) -> u64 {
    let name = dev.file_name().map(|n| n.to_string_lossy().into_owned());
    let path = format!(
        "/sys/kernel/debug/dinofs/{}/inodegc",
        name.unwrap_or_default()
    );
    fs::read_to_string(path)
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("inactivated ")?.trim().parse().ok())
        })
        .unwrap_or(0)
}

/// Compares a file with its expected content: all of a small file, 17
/// samples of 4 KiB of a large one (the big files are read at every point).
fn check_file(path: &Path, c: &Content) -> Result<(), String> {
    let f = File::open(path).map_err(|e| format!("open: {e}"))?;
    let len = f.metadata().map_err(|e| format!("stat: {e}"))?.len();
    if len != c.len {
        return Err(format!("size {len}, expected {}", c.len));
    }
    let offsets: Vec<u64> = if c.len <= 64 << 10 {
        vec![0]
    } else {
        (0..=16).map(|k| (c.len - 4096) / 16 * k).collect()
    };
    for off in offsets {
        let n = if c.len <= 64 << 10 { c.len } else { 4096 };
        let mut buf = vec![0u8; n as usize];
        f.read_exact_at(&mut buf, off)
            .map_err(|e| format!("read at {off}: {e}"))?;
        if buf != c.bytes(off, n) {
            return Err(format!("content differs in {n} bytes at {off}"));
        }
    }
    Ok(())
}

/// Checks the expectations `exp`; returns the ones that failed.
fn check_expected(mnt: &Path, exp: &BTreeMap<String, Expect>, t: &mut Tally) -> Vec<String> {
    let mut bad = Vec::new();
    for (rel, e) in exp {
        let path = mnt.join(rel);
        let r = match e {
            Expect::File(c) => {
                t.files_checked += 1;
                check_file(&path, c)
            }
            Expect::Absent => match fs::symlink_metadata(&path) {
                Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
                Err(e) => Err(format!("lstat: {e}")),
                Ok(_) => Err("present, but its removal was synced".into()),
            },
            Expect::EmptyDir => match fs::read_dir(&path) {
                Ok(rd) => match rd.count() {
                    0 => Ok(()),
                    n => Err(format!("{n} entries, but their removal was synced")),
                },
                Err(e) => Err(format!("readdir: {e}")),
            },
        };
        if let Err(why) = r {
            bad.push(format!("{rel}: {why}"));
        }
    }
    bad
}

/// Reads every file and directory of the tree, collecting the errors
/// (after journal replay and orphan recovery there must be none, at any
/// point).
fn walk(dir: &Path, bad: &mut Vec<String>) {
    let rd = match fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) => return bad.push(format!("{}: readdir: {e}", dir.display())),
    };
    for entry in rd {
        let path = match entry {
            Ok(e) => e.path(),
            Err(e) => return bad.push(format!("{}: readdir: {e}", dir.display())),
        };
        match fs::symlink_metadata(&path) {
            Ok(m) if m.is_dir() => walk(&path, bad),
            Ok(m) if m.is_file() && m.len() <= 64 << 10 => {
                let r = File::open(&path).and_then(|mut f| f.read_to_end(&mut Vec::new()));
                if let Err(e) = r {
                    bad.push(format!("{}: read: {e}", path.display()));
                }
            }
            Ok(_) => {}
            Err(e) => bad.push(format!("{}: lstat: {e}", path.display())),
        }
    }
}

fn fsck_dev(dev: &Path, repair: bool) -> Res<(i32, Vec<String>)> {
    let d = Device::open(dev, repair).map_err(ctx(dev.display()))?;
    let opts = Options {
        repair,
        verbose: false,
    };
    let r = fsck::check(&d, &opts).map_err(|e| format!("fsck: {e}"))?;
    Ok((r.exit_code(), r.lines()))
}

/// What one replay point must show.
struct Point {
    /// The last mark's generation, if it had one.
    gen: Option<u64>,
    /// The point is a mark (then all of `expected(gen)` holds).
    at_mark: bool,
    /// The point is a mark after a syncfs or a freeze (counted; every
    /// point must show no damage).
    quiet: bool,
}

/// Mounts DEV, checks `exp` and reads the tree, unmounts. Returns the
/// failed expectations and the read errors.
fn mount_and_check(
    dev: &Path,
    mnt: &Path,
    exp: &BTreeMap<String, Expect>,
    t: &mut Tally,
) -> Res<(Vec<String>, Vec<String>)> {
    sys::mount(dev, mnt, "dinofs").map_err(|e| format!("does not mount: {e}"))?;
    t.recovered += inactivated(dev);
    let lost = check_expected(mnt, exp, t);
    let mut unreadable = Vec::new();
    walk(mnt, &mut unreadable);
    if let Err(e) = sys::umount(mnt, 0) {
        let _ = sys::umount(mnt, sys::MNT_DETACH);
        return Err(format!("umount: {e}"));
    }
    Ok((lost, unreadable))
}

/// Everything about one replay point; `Err` is a test failure.
fn check_point(
    image: &[u8],
    devf: &File,
    dev: &Path,
    mnt: &Path,
    at: &Point,
    t: &mut Tally,
) -> Res<()> {
    devf.write_all_at(image, 0)
        .and_then(|()| devf.sync_all())
        .map_err(ctx("writing the image"))?;
    t.points += 1;
    let exp = match at.gen {
        None => BTreeMap::new(),
        Some(g) if at.at_mark => crash::expected(g),
        Some(g) => crash::stable(g),
    };
    let (lost, unreadable) = mount_and_check(dev, mnt, &exp, t)?;
    if !lost.is_empty() {
        return Err(format!("lost what was synced: {}", lost.join("; ")));
    }
    // Journal replay and orphan recovery alone must leave a whole image
    // at every point, not only at the quiet marks: nothing to read back
    // with an error, nothing for fsck to repair.
    let what = if at.quiet { "a quiet point" } else { "a point" };
    if !unreadable.is_empty() {
        return Err(format!("damaged at {what}: {}", unreadable.join("; ")));
    }
    let (code, lines) = fsck_dev(dev, false)?;
    if code != 0 {
        return Err(format!(
            "needs repair at {what} (fsck -n exit {code}): {}",
            lines.join("; ")
        ));
    }
    Ok(())
}

fn replay(
    log: &Path,
    dev: &Path,
    mnt: &Path,
    bytes: u64,
    between: u64,
    seed: u64,
    every_after: Option<&str>,
) -> Res<()> {
    let log = Log::open(log).map_err(ctx(log.display()))?;
    let entries = &log.entries;
    let start = entries
        .iter()
        .position(|e| e.mark.as_deref() == Some("mkfs"))
        .ok_or("the log has no \"mkfs\" mark")?;
    // Every sync point from the mkfs mark on, N random points in each gap, the end.
    let sync: Vec<usize> = (start..entries.len())
        .filter(|&i| entries[i].is_sync_point())
        .collect();
    let mut points: BTreeSet<usize> = sync.iter().copied().collect();
    points.insert(entries.len() - 1);
    // Every entry after the mark `every_after` up to the next mark.
    if let Some(label) = every_after {
        let from = entries
            .iter()
            .position(|e| e.mark.as_deref() == Some(label))
            .ok_or_else(|| format!("the log has no mark {label:?}"))?;
        let to = (from + 1..entries.len())
            .find(|&i| entries[i].mark.is_some())
            .unwrap_or(entries.len());
        points.extend(from..to);
    }
    let mut rng = Rng::for_image(seed, 0);
    for w in sync.windows(2) {
        let gap = (w[1] - w[0] - 1) as u64;
        for _ in 0..between.min(gap) {
            points.insert(w[0] + 1 + rng.below(gap) as usize);
        }
    }
    let count = |f: u64| entries[start..].iter().filter(|e| e.flags & f != 0).count();
    println!(
        "log: {} entries, from mkfs {}: {} flushes, {} fua, {} marks, {} discards; {} points",
        entries.len(),
        entries.len() - start,
        count(logwrites::FLUSH),
        count(logwrites::FUA),
        count(logwrites::MARK),
        count(logwrites::DISCARD),
        points.len()
    );
    let mut image = vec![0u8; usize::try_from(bytes).map_err(|_| "BYTES too large")?];
    let devf = OpenOptions::new()
        .read(true)
        .write(true)
        .open(dev)
        .map_err(ctx(dev.display()))?;
    let mut t = Tally::default();
    let mut gen = None;
    let mut last_mark = String::from("(none)");
    for (i, entry) in entries.iter().enumerate() {
        log.apply(i, &mut image)
            .map_err(ctx(format!("entry {i}")))?;
        let mark = entry.mark.as_deref();
        if let Some(m) = mark {
            gen = crash::mark_gen(m).or(gen);
            last_mark = m.to_string();
        }
        if i < start || !points.contains(&i) {
            continue;
        }
        let at = Point {
            gen,
            at_mark: mark.and_then(crash::mark_gen).is_some(),
            quiet: mark.is_some_and(crash::is_quiet_mark),
        };
        t.quiet_points += u64::from(at.quiet);
        check_point(&image, &devf, dev, mnt, &at, &mut t).map_err(|e| {
            format!(
                "entry {i} (flags {:#x}, after mark {last_mark}): {e}",
                entry.flags
            )
        })?;
        if let Some(m) = mark {
            println!("ok: entry {i}: mark {m}, {} points so far", t.points);
        }
    }
    println!(
        "points={} quiet={} recovered_orphans={} files_checked={}",
        t.points, t.quiet_points, t.recovered, t.files_checked
    );
    Ok(())
}

fn usage() -> ExitCode {
    eprintln!(
        "usage: dinofs-crash run MNT DMNAME | replay [--between N] [--seed S] LOG DEV MNT BYTES"
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
    let (Some(between), Some(seed)) = (opt("--between", 2), opt("--seed", 1)) else {
        return usage();
    };
    let every_after = match args.iter().position(|a| a == "--every-after") {
        Some(p) if p + 1 < args.len() => {
            let v = args.remove(p + 1);
            args.remove(p);
            Some(v)
        }
        Some(_) => return usage(),
        None => None,
    };
    let r = match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["run", mnt, dm] => Run {
            mnt: Path::new(mnt),
            dm,
        }
        .workload(),
        ["replay", log, dev, mnt, bytes] => match bytes.parse() {
            Ok(b) => replay(
                Path::new(log),
                Path::new(dev),
                Path::new(mnt),
                b,
                between,
                seed,
                every_after.as_deref(),
            ),
            Err(_) => return usage(),
        },
        _ => return usage(),
    };
    match r {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("dinofs-crash: {e}");
            ExitCode::FAILURE
        }
    }
}
