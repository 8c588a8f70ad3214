// SPDX-License-Identifier: GPL-2.0

//! `dinofs-workload`: bulk file operations for the in-guest tests, in one
//! process.
//!
//! Under TCG a fork+exec costs tens of milliseconds, so a shell loop over
//! thousands of files measures the shell, not the filesystem. Every
//! subcommand here does its whole job in one process and prints one line of
//! numbers (`key=value ...`) for the test to assert on.
//!
//! ```text
//! dinofs-workload create DIR COUNT SIZE      files DIR/f000000.. of SIZE bytes
//! dinofs-workload verify DIR COUNT SIZE      read them back, check contents
//! dinofs-workload unlink DIR COUNT           remove them
//! dinofs-workload list DIR                   readdir: count, duplicates
//! dinofs-workload fill DIR                   write 1 MiB files until ENOSPC
//! dinofs-workload hold DIR COUNT SIZE        create, open, unlink COUNT files;
//!                                            keep them open until stdin closes
//! dinofs-workload statfs PATH SECONDS        statfs in a loop; latency percentiles
//! dinofs-workload frag BIG SMALL SIZE        write BIG (SIZE bytes) in 64 KiB pieces,
//!                                            4 KiB to SMALL after each: BIG ends up
//!                                            fragmented on disk
//! dinofs-workload shutdown PATH MODE         FS_IOC_SHUTDOWN on PATH's filesystem,
//!                                            MODE default|logflush|nologflush
//! dinofs-workload probe DIR                  try each kind of I/O on DIR and
//!                                            DIR/probe; print each one's errno
//! ```

use std::collections::HashSet;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

fn name(dir: &Path, i: u64) -> PathBuf {
    dir.join(format!("f{i:06}"))
}

/// The content of file `i`: deterministic, different per file and offset.
fn pattern(i: u64, buf: &mut [u8], off: u64) {
    for (k, b) in buf.iter_mut().enumerate() {
        let x = (off + k as u64).wrapping_mul(2654435761).wrapping_add(i.wrapping_mul(40503));
        *b = (x >> 13) as u8;
    }
}

fn write_file(path: &Path, i: u64, size: u64) -> io::Result<()> {
    let mut f = File::create(path)?;
    let mut buf = vec![0u8; 64 * 1024];
    let mut off = 0;
    while off < size {
        let n = std::cmp::min(buf.len() as u64, size - off) as usize;
        pattern(i, &mut buf[..n], off);
        f.write_all(&buf[..n])?;
        off += n as u64;
    }
    Ok(())
}

fn create(dir: &Path, count: u64, size: u64) -> io::Result<String> {
    fs::create_dir_all(dir)?;
    let t = Instant::now();
    for i in 0..count {
        write_file(&name(dir, i), i, size)?;
    }
    Ok(format!("created={count} bytes={} secs={:.3}", count * size, t.elapsed().as_secs_f64()))
}

fn verify(dir: &Path, count: u64, size: u64) -> io::Result<String> {
    let mut bad = 0;
    let mut buf = vec![0u8; 64 * 1024];
    let mut want = vec![0u8; 64 * 1024];
    for i in 0..count {
        let mut f = File::open(name(dir, i))?;
        let mut off = 0u64;
        loop {
            let n = f.read(&mut buf)?;
            if n == 0 {
                break;
            }
            pattern(i, &mut want[..n], off);
            if buf[..n] != want[..n] {
                bad += 1;
                break;
            }
            off += n as u64;
        }
        if off != size {
            bad += 1;
        }
    }
    Ok(format!("verified={count} bad={bad}"))
}

fn unlink(dir: &Path, count: u64) -> io::Result<String> {
    let t = Instant::now();
    for i in 0..count {
        fs::remove_file(name(dir, i))?;
    }
    Ok(format!("unlinked={count} secs={:.3}", t.elapsed().as_secs_f64()))
}

fn list(dir: &Path) -> io::Result<String> {
    let mut seen = HashSet::new();
    let mut dups = 0;
    for e in fs::read_dir(dir)? {
        if !seen.insert(e?.file_name()) {
            dups += 1;
        }
    }
    Ok(format!("entries={} duplicates={dups}", seen.len()))
}

fn fill(dir: &Path) -> io::Result<String> {
    fs::create_dir_all(dir)?;
    let mut files = 0u64;
    let mut bytes = 0u64;
    let buf = vec![0x5au8; 1 << 20];
    'outer: loop {
        let mut f = match File::create(name(dir, files)) {
            Ok(f) => f,
            Err(e) if e.raw_os_error() == Some(28) => break,
            Err(e) => return Err(e),
        };
        files += 1;
        match f.write(&buf) {
            Ok(n) => bytes += n as u64,
            Err(e) if e.raw_os_error() == Some(28) => break 'outer,
            Err(e) => return Err(e),
        }
        if let Err(e) = f.sync_all() {
            if e.raw_os_error() == Some(28) {
                break;
            }
            return Err(e);
        }
    }
    Ok(format!("files={files} bytes={bytes} enospc=1"))
}

fn hold(dir: &Path, count: u64, size: u64) -> io::Result<String> {
    fs::create_dir_all(dir)?;
    let mut open = Vec::new();
    for i in 0..count {
        let p = name(dir, i);
        write_file(&p, i, size)?;
        open.push(OpenOptions::new().read(true).open(&p)?);
        fs::remove_file(&p)?;
    }
    println!("holding={count}");
    io::stdout().flush()?;
    // Keep the files open until whoever started us closes our stdin.
    let mut sink = Vec::new();
    io::stdin().read_to_end(&mut sink)?;
    let mut readable = 0;
    let mut buf = [0u8; 1];
    for f in &mut open {
        if f.read(&mut buf)? == 1 || size == 0 {
            readable += 1;
        }
    }
    drop(open);
    Ok(format!("closed={count} readable={readable}"))
}

fn statfs(path: &Path, secs: u64) -> io::Result<String> {
    let cpath = std::ffi::CString::new(path.as_os_str().as_encoded_bytes())
        .map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    let mut lat = Vec::new();
    let end = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < end {
        // SAFETY: `st` is a valid out buffer and `cpath` a valid C string.
        let mut st: libc_statfs::Statfs = unsafe { std::mem::zeroed() };
        let t = Instant::now();
        // SAFETY: as above.
        let r = unsafe { libc_statfs::statfs(cpath.as_ptr(), &mut st) };
        lat.push(t.elapsed());
        if r != 0 {
            return Err(io::Error::last_os_error());
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    lat.sort();
    let p = |q: f64| lat[((lat.len() - 1) as f64 * q) as usize].as_micros();
    Ok(format!(
        "calls={} p50_us={} p90_us={} p99_us={} max_us={}",
        lat.len(),
        p(0.5),
        p(0.9),
        p(0.99),
        p(1.0)
    ))
}

/// statfs(2) without a libc crate dependency.
mod libc_statfs {
    /// `struct statfs` on x86_64 (120 bytes).
    #[repr(C)]
    pub struct Statfs {
        pub f_type: i64,
        pub f_bsize: i64,
        pub f_blocks: u64,
        pub f_bfree: u64,
        pub f_bavail: u64,
        pub f_files: u64,
        pub f_ffree: u64,
        pub f_fsid: [i32; 2],
        pub f_namelen: i64,
        pub f_frsize: i64,
        pub f_flags: i64,
        pub f_spare: [i64; 4],
    }
    extern "C" {
        pub fn statfs(path: *const std::ffi::c_char, buf: *mut Statfs) -> i32;
    }
}

/// `FS_IOC_SHUTDOWN` = `_IOR('X', 125, __u32)` (`XFS_IOC_GOINGDOWN`).
const FS_IOC_SHUTDOWN: u64 = (2 << 30) | (4 << 16) | ((b'X' as u64) << 8) | 125;

extern "C" {
    fn ioctl(fd: i32, request: u64, ...) -> i32;
}

fn shutdown(path: &Path, mode: &str) -> io::Result<String> {
    let flags: u32 = match mode {
        "default" => 0,
        "logflush" => 1,
        "nologflush" => 2,
        // Out-of-range flags, to test the kernel's EINVAL.
        m => m.parse().map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?,
    };
    let f = File::open(path)?;
    use std::os::fd::AsRawFd;
    // SAFETY: a valid open descriptor and a pointer to a live u32, which is
    // what this ioctl reads.
    let r = unsafe { ioctl(f.as_raw_fd(), FS_IOC_SHUTDOWN, &flags as *const u32) };
    if r != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(format!("shutdown={mode}"))
}

/// The errno of an I/O result, as a short name (`ok` for success).
fn errno<T>(r: io::Result<T>) -> String {
    match r {
        Ok(_) => "ok".into(),
        Err(e) => match e.raw_os_error() {
            Some(5) => "EIO".into(),
            Some(n) => format!("errno{n}"),
            None => format!("{:?}", e.kind()),
        },
    }
}

/// Tries every kind of access on DIR (which holds a file `probe`, created
/// before the shutdown): what a test of `FS_IOC_SHUTDOWN` asserts on.
fn probe(dir: &Path) -> io::Result<String> {
    let file = dir.join("probe");
    let mut out = Vec::new();
    out.push(format!("open={}", errno(File::open(&file))));
    let held = OpenOptions::new().read(true).write(true).open(&file);
    out.push(format!("read={}", errno(fs::read(&file))));
    out.push(format!("write={}", errno(OpenOptions::new().write(true).open(&file).and_then(|mut f| f.write_all(b"x")))));
    out.push(format!("create={}", errno(File::create(dir.join("probe-new")))));
    out.push(format!("mkdir={}", errno(fs::create_dir(dir.join("probe-dir")))));
    out.push(format!("readdir={}", errno(fs::read_dir(dir).and_then(|mut d| d.next().transpose()))));
    out.push(format!("unlink={}", errno(fs::remove_file(&file))));
    out.push(format!("fsync={}", errno(held.and_then(|f| f.sync_all()))));
    Ok(out.join(" "))
}

fn frag(big: &Path, small: &Path, size: u64) -> io::Result<String> {
    let mut b = File::create(big)?;
    let mut s = File::create(small)?;
    let mut buf = vec![0u8; 64 * 1024];
    let mut off = 0u64;
    let t = Instant::now();
    while off < size {
        let n = std::cmp::min(buf.len() as u64, size - off) as usize;
        pattern(1, &mut buf[..n], off);
        b.write_all(&buf[..n])?;
        s.write_all(&buf[..4096])?;
        // Allocation happens at write time, so interleaving the two files'
        // writes interleaves their blocks on disk.
        off += n as u64;
    }
    b.sync_all()?;
    s.sync_all()?;
    Ok(format!("big={size} small={} secs={:.3}", size / 16, t.elapsed().as_secs_f64()))
}

fn usage() -> ExitCode {
    eprintln!("usage: dinofs-workload create|verify DIR COUNT SIZE | unlink DIR COUNT | list DIR | fill DIR | hold DIR COUNT SIZE | statfs PATH SECONDS | frag BIG SMALL SIZE | shutdown PATH MODE | probe DIR");
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let num = |i: usize| args.get(i).and_then(|s| s.parse::<u64>().ok());
    let dir = args.get(1).map(PathBuf::from);
    let r = match (args.first().map(String::as_str), dir) {
        (Some("create"), Some(d)) => match (num(2), num(3)) {
            (Some(c), Some(s)) => create(&d, c, s),
            _ => return usage(),
        },
        (Some("verify"), Some(d)) => match (num(2), num(3)) {
            (Some(c), Some(s)) => verify(&d, c, s),
            _ => return usage(),
        },
        (Some("unlink"), Some(d)) => match num(2) {
            Some(c) => unlink(&d, c),
            _ => return usage(),
        },
        (Some("list"), Some(d)) => list(&d),
        (Some("fill"), Some(d)) => fill(&d),
        (Some("hold"), Some(d)) => match (num(2), num(3)) {
            (Some(c), Some(s)) => hold(&d, c, s),
            _ => return usage(),
        },
        (Some("frag"), Some(d)) => match (args.get(2), num(3)) {
            (Some(small), Some(size)) => frag(&d, Path::new(small), size),
            _ => return usage(),
        },
        (Some("shutdown"), Some(d)) => match args.get(2) {
            Some(m) => shutdown(&d, m),
            _ => return usage(),
        },
        (Some("probe"), Some(d)) => probe(&d),
        (Some("statfs"), Some(d)) => match num(2) {
            Some(s) => statfs(&d, s),
            _ => return usage(),
        },
        _ => return usage(),
    };
    match r {
        Ok(line) => {
            println!("{line}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("dinofs-workload: {e}");
            ExitCode::FAILURE
        }
    }
}
