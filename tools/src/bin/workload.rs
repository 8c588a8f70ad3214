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
//! dinofs-workload reseal DEV BLOCK           recompute the trailing checksum of
//!                                            metadata block BLOCK (after a poke)
//! dinofs-workload set-inode-blocks DEV INO N set inode INO's block count, resealed
//! dinofs-workload seekdir DIR                lseek DIR to every position, read
//!                                            one batch from each; count errors
//! dinofs-workload extend FILE HOW BYTES      make FILE BYTES longer by truncate,
//!                                            pwrite (one byte at the new end) or
//!                                            mmap (store after a truncate); print
//!                                            the non-zero bytes in the new range
//! dinofs-workload mmap-fill FILE PAGES       sparse FILE of PAGES pages, mapped
//!                                            shared, one byte stored per page;
//!                                            SIGBUS (exit 7) prints the count
//! dinofs-workload unlink-time FILE           one unlink(2) of FILE, timed
//! dinofs-workload unlink-par DIR THREADS COUNT
//!                                            THREADS threads, thread t pinned to
//!                                            CPU t, each unlinking DIR/t<t>/f000000..
//!                                            (COUNT files); files per second
//! dinofs-workload lookup DIR COUNT           stat(2) DIR/f000000.. (COUNT names)
//! dinofs-workload jsb DEV [FIELD=VALUE]      print the jbd2 superblock's state
//!                                            (start, sequence, errno), or set one
//!                                            of them and reseal its checksum
//! dinofs-workload jtx DEV FROM [revoke=B] [uncommitted]
//!                                            log one jbd2 transaction into DEV's
//!                                            journal holding every block FROM has
//!                                            different (journal excepted); mark
//!                                            the log as needing recovery
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
        let x = (off + k as u64)
            .wrapping_mul(2654435761)
            .wrapping_add(i.wrapping_mul(40503));
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
    Ok(format!(
        "created={count} bytes={} secs={:.3}",
        count * size,
        t.elapsed().as_secs_f64()
    ))
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
    Ok(format!(
        "unlinked={count} secs={:.3}",
        t.elapsed().as_secs_f64()
    ))
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
        m => m
            .parse()
            .map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?,
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
    out.push(format!(
        "write={}",
        errno(
            OpenOptions::new()
                .write(true)
                .open(&file)
                .and_then(|mut f| f.write_all(b"x"))
        )
    ));
    out.push(format!(
        "create={}",
        errno(File::create(dir.join("probe-new")))
    ));
    out.push(format!(
        "mkdir={}",
        errno(fs::create_dir(dir.join("probe-dir")))
    ));
    out.push(format!(
        "readdir={}",
        errno(fs::read_dir(dir).and_then(|mut d| d.next().transpose()))
    ));
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
    Ok(format!(
        "big={size} small={} secs={:.3}",
        size / 16,
        t.elapsed().as_secs_f64()
    ))
}

/// Recomputes the trailing crc32c of block `block` of `dev` (a test pokes
/// a field and reseals it, so the structure checks behind the checksum are
/// what the kernel meets).
fn reseal(dev: &Path, block: u64) -> io::Result<String> {
    use std::io::{Seek, SeekFrom};
    use std::os::unix::fs::FileExt;
    let mut f = OpenOptions::new().read(true).write(true).open(dev)?;
    let mut b = [0u8; dinofs_format::BLOCK_SIZE];
    f.read_exact_at(&mut b, block * dinofs_format::BLOCK_SIZE as u64)?;
    dinofs_format::seal_block(&mut b, dinofs_tools::crc32c);
    f.write_all_at(&b, block * dinofs_format::BLOCK_SIZE as u64)?;
    f.seek(SeekFrom::Start(0))?;
    f.sync_all()?;
    Ok(format!("resealed={block}"))
}

/// Sets the `blocks` field of inode `ino` on `dev` and reseals the inode.
fn set_inode_blocks(dev: &Path, ino: u32, value: u32) -> io::Result<String> {
    use dinofs_format as format;
    use std::os::unix::fs::FileExt;
    let f = OpenOptions::new().read(true).write(true).open(dev)?;
    let bad = || io::Error::from(io::ErrorKind::InvalidData);
    let mut b = [0u8; format::BLOCK_SIZE];
    f.read_exact_at(&mut b, 0)?;
    let geo = format::Superblock::decode(&b, dinofs_tools::crc32c)
        .ok()
        .and_then(|sb| sb.geometry())
        .ok_or_else(bad)?;
    let at = format::ino_cluster(ino) as u64 * format::BLOCK_SIZE as u64;
    f.read_exact_at(&mut b, at)?;
    let mut d = format::Inode::decode(&b, ino, &geo, dinofs_tools::crc32c)
        .map_err(|_| bad())?
        .ok_or_else(bad)?;
    d.blocks = value;
    d.encode(&mut b, ino, dinofs_tools::crc32c);
    f.write_all_at(&b, at)?;
    f.sync_all()?;
    Ok(format!("ino={ino} blocks={value}"))
}

extern "C" {
    fn lseek(fd: i32, off: i64, whence: i32) -> i64;
    fn syscall(nr: i64, ...) -> i64;
    fn mmap(addr: *mut u8, len: usize, prot: i32, flags: i32, fd: i32, off: i64) -> *mut u8;
    fn munmap(addr: *mut u8, len: usize) -> i32;
}

/// Seeks the directory to every position a block-sized directory can
/// have (entry starts and the middle of multi-slot entries alike) and
/// reads one `getdents64` batch from each: fstests' `t_readdir_3` in one
/// process. Every call must succeed.
fn seekdir(dir: &Path) -> io::Result<String> {
    use std::os::fd::AsRawFd;
    let d = File::open(dir)?;
    let size = d.metadata()?.len();
    let positions = size / 4096 * 63 + 1;
    let mut buf = vec![0u8; 512];
    let (mut errors, mut entries) = (0u64, 0u64);
    for pos in 0..positions {
        // SAFETY: a valid descriptor.
        if unsafe { lseek(d.as_raw_fd(), pos as i64, 0) } < 0 {
            errors += 1;
            continue;
        }
        // SAFETY: getdents64 (217) writes at most buf.len() bytes into buf.
        let n = unsafe { syscall(217, d.as_raw_fd() as i64, buf.as_mut_ptr(), buf.len()) };
        if n < 0 {
            errors += 1;
        } else if n > 0 {
            entries += 1;
        }
    }
    Ok(format!(
        "positions={positions} reads_with_entries={entries} errors={errors}"
    ))
}

/// Extends `file` by `bytes` and counts the non-zero bytes in the range
/// that became part of the file: a block brought inside EOF that was never
/// written must read as zeroes, through the page cache now and from disk
/// later.
fn extend(file: &Path, how: &str, bytes: u64) -> io::Result<String> {
    use std::os::fd::AsRawFd;
    use std::os::unix::fs::FileExt;
    let f = OpenOptions::new().read(true).write(true).open(file)?;
    let old = f.metadata()?.len();
    let new = old + bytes;
    match how {
        "truncate" => f.set_len(new)?,
        "pwrite" => f.write_all_at(&[0], new - 1)?,
        "mmap" => {
            f.set_len(new)?;
            let len = new as usize;
            // SAFETY: a shared read-write mapping of the whole file, which
            // is `len` bytes long; unmapped below.
            let p = unsafe { mmap(std::ptr::null_mut(), len, 3, 1, f.as_raw_fd(), 0) };
            if p as isize == -1 {
                return Err(io::Error::last_os_error());
            }
            // SAFETY: inside the mapping; a store to the last byte faults
            // in the page past the old EOF.
            unsafe { *p.add(len - 1) = 0 };
            // SAFETY: mapped above.
            unsafe { munmap(p, len) };
        }
        _ => return Err(io::Error::from(io::ErrorKind::InvalidInput)),
    }
    let data = fs::read(file)?;
    let range = data.get(old as usize..).unwrap_or(&[]);
    let nonzero = range.iter().filter(|&&b| b != 0).count();
    Ok(format!("old={old} new={} nonzero={nonzero}", data.len()))
}

extern "C" {
    fn signal(sig: i32, handler: extern "C" fn(i32)) -> usize;
    fn write(fd: i32, buf: *const u8, len: usize) -> isize;
    fn _exit(code: i32) -> !;
    fn msync(addr: *mut u8, len: usize, flags: i32) -> i32;
}

/// Pages `mmap_fill` has stored to, for its `SIGBUS` handler.
static STORED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// `SIGBUS` in `mmap_fill`: the store that faulted could not get its page's
/// block. Prints what was stored and exits 7 (async-signal-safe calls
/// only).
extern "C" fn on_sigbus(_sig: i32) {
    let n = STORED.load(std::sync::atomic::Ordering::SeqCst);
    let mut buf = [0u8; 40];
    let mut msg = io::Cursor::new(&mut buf[..]);
    let _ = writeln!(msg, "stored={n} sigbus=1");
    let len = msg.position() as usize;
    // SAFETY: writes `len` bytes of `buf` to stdout, then exits without
    // unwinding; both are async-signal-safe.
    unsafe {
        write(1, buf.as_ptr(), len);
        _exit(7);
    }
}

/// Makes `file` a sparse file of `pages` pages, maps it shared and stores
/// 0xa5 at the start of each page in turn: every store is a shared
/// mapping's first write to a hole, so `page_mkwrite` must find the page a
/// block. On a full filesystem that store gets `SIGBUS` (printed with the
/// count, exit 7); otherwise `msync(MS_SYNC)` writes them and its result
/// is printed.
fn mmap_fill(file: &Path, pages: u64) -> io::Result<String> {
    use std::os::fd::AsRawFd;
    let f = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(file)?;
    let len =
        usize::try_from(pages * 4096).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    f.set_len(len as u64)?;
    // SAFETY: installs a handler that only reads an atomic, writes and
    // exits.
    unsafe { signal(7, on_sigbus) };
    // SAFETY: a shared read-write mapping of the whole file, `len` bytes;
    // unmapped below.
    let p = unsafe { mmap(std::ptr::null_mut(), len, 3, 1, f.as_raw_fd(), 0) };
    if p as isize == -1 {
        return Err(io::Error::last_os_error());
    }
    for i in 0..pages as usize {
        // SAFETY: inside the mapping (page i of `pages`).
        unsafe { p.add(i * 4096).write_volatile(0xa5) };
        STORED.store(i as u64 + 1, std::sync::atomic::Ordering::SeqCst);
    }
    // SAFETY: the mapping above; MS_SYNC (4).
    let r = unsafe { msync(p, len, 4) };
    let msync_err = if r == 0 {
        0
    } else {
        io::Error::last_os_error().raw_os_error().unwrap_or(-1)
    };
    // SAFETY: mapped above.
    unsafe { munmap(p, len) };
    Ok(format!("stored={pages} sigbus=0 msync={msync_err}"))
}

fn usage() -> ExitCode {
    eprintln!("usage: dinofs-workload create|verify DIR COUNT SIZE | unlink DIR COUNT | list DIR | fill DIR | hold DIR COUNT SIZE | statfs PATH SECONDS | frag BIG SMALL SIZE | shutdown PATH MODE | probe DIR | reseal DEV BLOCK | seekdir DIR | set-inode-blocks DEV INO VALUE | extend FILE truncate|pwrite|mmap BYTES | mmap-fill FILE PAGES | unlink-time FILE | unlink-par DIR THREADS COUNT | lookup DIR COUNT | jsb DEV [start|sequence|errno=VALUE] | jtx DEV FROM [revoke=BLOCK] [uncommitted]");
    ExitCode::from(2)
}

/// `unlink-time`: the time of one `unlink(2)` (the seed's headline: a huge
/// fragmented file's unlink must not wait for its teardown).
fn unlink_time(path: &Path) -> io::Result<String> {
    let t = Instant::now();
    fs::remove_file(path)?;
    Ok(format!("unlink_us={}", t.elapsed().as_micros()))
}

extern "C" {
    fn sched_setaffinity(pid: i32, cpusetsize: usize, mask: *const u64) -> i32;
}

/// Pins the calling thread to `cpu`.
fn pin_to(cpu: u64) -> io::Result<()> {
    let mut mask = [0u64; 16];
    let word = mask
        .get_mut((cpu / 64) as usize)
        .ok_or_else(|| io::Error::from(io::ErrorKind::InvalidInput))?;
    *word |= 1 << (cpu % 64);
    // SAFETY: `mask` is a valid CPU set of `size_of_val(&mask)` bytes, and
    // pid 0 is the calling thread.
    let r = unsafe { sched_setaffinity(0, std::mem::size_of_val(&mask), mask.as_ptr()) };
    if r != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// `unlink-par`: unlink throughput with `threads` threads, each pinned to
/// its own CPU and working in its own directory (per-CPU queues must not
/// share a lock on the queueing path).
fn unlink_par(dir: &Path, threads: u64, count: u64) -> io::Result<String> {
    let t0 = Instant::now();
    let workers: Vec<_> = (0..threads)
        .map(|t| {
            let d = dir.join(format!("t{t}"));
            std::thread::spawn(move || -> io::Result<()> {
                pin_to(t)?;
                for i in 0..count {
                    fs::remove_file(name(&d, i))?;
                }
                Ok(())
            })
        })
        .collect();
    for w in workers {
        w.join()
            .map_err(|_| io::Error::other("unlink thread panicked"))??;
    }
    let secs = t0.elapsed().as_secs_f64();
    let files = threads * count;
    Ok(format!(
        "threads={threads} files={files} secs={secs:.3} per_sec={:.0}",
        files as f64 / secs.max(1e-9)
    ))
}

/// `lookup`: `stat(2)` of every name, in one process.
fn lookup(dir: &Path, count: u64) -> io::Result<String> {
    let t = Instant::now();
    for i in 0..count {
        fs::metadata(name(dir, i))?;
    }
    Ok(format!(
        "looked_up={count} secs={:.3}",
        t.elapsed().as_secs_f64()
    ))
}

/// Prints (or sets one field of) the jbd2 superblock of the dinofs on `dev`:
/// `start=` (`s_start`, 0 = empty log; `first` for the log's first block),
/// `sequence=`, `errno=` (`s_errno`), resealed with a valid checksum.
fn jsb(dev: &Path, set: Option<&str>) -> io::Result<String> {
    use dinofs_format as format;
    use dinofs_tools::journal::JournalSuperblock;
    use std::os::unix::fs::FileExt;
    let bad = |what: &str| io::Error::new(io::ErrorKind::InvalidData, what.to_string());
    let f = OpenOptions::new()
        .read(true)
        .write(set.is_some())
        .open(dev)?;
    let mut b = [0u8; format::BLOCK_SIZE];
    f.read_exact_at(&mut b, 0)?;
    let sb = format::Superblock::decode(&b, dinofs_tools::crc32c)
        .map_err(|_| bad("not a dinofs superblock"))?;
    let at = sb.journal_start as u64 * format::BLOCK_SIZE as u64;
    f.read_exact_at(&mut b, at)?;
    let mut j = JournalSuperblock::decode(&b).ok_or_else(|| bad("no jbd2 superblock"))?;
    if let Some(set) = set {
        let (field, value) = set.split_once('=').ok_or_else(|| bad("FIELD=VALUE"))?;
        let value = if value == "first" {
            j.first as i64
        } else {
            value.parse::<i64>().map_err(|_| bad("bad value"))?
        };
        match field {
            "start" => j.start = value as u32,
            "sequence" => j.sequence = value as u32,
            "errno" => j.errno = value as i32,
            _ => return Err(bad("field is start, sequence or errno")),
        }
        j.update(&mut b, dinofs_tools::crc32c);
        f.write_all_at(&b, at)?;
        f.sync_all()?;
    }
    Ok(format!(
        "start={} sequence={} errno={} first={} maxlen={}",
        j.start, j.sequence, j.errno, j.first, j.maxlen
    ))
}

/// Logs the blocks `from` has different from `dev` as one transaction in
/// `dev`'s journal (`journal::log_differences`).
fn jtx(dev: &Path, from: &Path, opts: &[String]) -> io::Result<String> {
    use dinofs_tools::device::Device;
    let bad = |what: &str| io::Error::new(io::ErrorKind::InvalidInput, what.to_string());
    let mut revoke = Vec::new();
    let mut uncommitted = false;
    for o in opts {
        if let Some(b) = o.strip_prefix("revoke=") {
            revoke.push(b.parse::<u32>().map_err(|_| bad("revoke=BLOCK"))?);
        } else if o == "uncommitted" {
            uncommitted = true;
        } else {
            return Err(bad("options: revoke=BLOCK, uncommitted"));
        }
    }
    let d = Device::open(dev, true)?;
    let f = Device::open(from, false)?;
    let logged = dinofs_tools::journal::log_differences(&d, &f, &revoke, uncommitted)
        .map_err(|e| io::Error::other(e.to_string()))?;
    let list: Vec<String> = logged.iter().map(u32::to_string).collect();
    Ok(format!("logged={} blocks={}", logged.len(), list.join(",")))
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
        (Some("reseal"), Some(d)) => match num(2) {
            Some(b) => reseal(&d, b),
            _ => return usage(),
        },
        (Some("seekdir"), Some(d)) => seekdir(&d),
        (Some("set-inode-blocks"), Some(d)) => match (num(2), num(3)) {
            (Some(i), Some(v)) if i <= u32::MAX as u64 && v <= u32::MAX as u64 => {
                set_inode_blocks(&d, i as u32, v as u32)
            }
            _ => return usage(),
        },
        (Some("extend"), Some(d)) => match (args.get(2), num(3)) {
            (Some(how), Some(n)) if n > 0 => extend(&d, how, n),
            _ => return usage(),
        },
        (Some("mmap-fill"), Some(d)) => match num(2) {
            Some(n) if n > 0 => mmap_fill(&d, n),
            _ => return usage(),
        },
        (Some("unlink-time"), Some(d)) => unlink_time(&d),
        (Some("unlink-par"), Some(d)) => match (num(2), num(3)) {
            (Some(t), Some(c)) if (1..=64).contains(&t) => unlink_par(&d, t, c),
            _ => return usage(),
        },
        (Some("lookup"), Some(d)) => match num(2) {
            Some(c) => lookup(&d, c),
            _ => return usage(),
        },
        (Some("jsb"), Some(d)) => jsb(&d, args.get(2).map(String::as_str)),
        (Some("jtx"), Some(d)) => match args.get(2) {
            Some(from) => jtx(&d, Path::new(from), &args[3..]),
            None => return usage(),
        },
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
