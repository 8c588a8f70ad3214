// SPDX-License-Identifier: GPL-2.0

//! The few system calls the in-guest test tools make that `std` has no
//! wrapper for: mount(2), umount2(2), syncfs(2) and the freeze ioctls.
//! Each wrapper is safe: it passes only NUL-terminated strings it built
//! and descriptors borrowed from an open [`File`].

use std::ffi::CString;
use std::fs::File;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::io::AsRawFd;
use std::path::Path;

extern "C" {
    #[link_name = "mount"]
    fn c_mount(
        source: *const std::ffi::c_char,
        target: *const std::ffi::c_char,
        fstype: *const std::ffi::c_char,
        flags: u64,
        data: *const u8,
    ) -> i32;
    #[link_name = "umount2"]
    fn c_umount2(target: *const std::ffi::c_char, flags: i32) -> i32;
    #[link_name = "syncfs"]
    fn c_syncfs(fd: i32) -> i32;
    #[link_name = "ioctl"]
    fn c_ioctl(fd: i32, request: u64, ...) -> i32;
}

/// `umount2()` flag: detach now, clean up when the last user goes.
pub const MNT_DETACH: i32 = 2;
/// `_IOWR('X', 119, int)`: freeze the filesystem the descriptor is on.
const FIFREEZE: u64 = 0xc004_5877;
/// `_IOWR('X', 120, int)`: thaw it.
const FITHAW: u64 = 0xc004_5878;

fn cstr(p: &Path) -> io::Result<CString> {
    CString::new(p.as_os_str().as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "NUL in a path"))
}

fn check(r: i32) -> io::Result<()> {
    if r == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// mount(2) `dev` on `mnt` as `fstype` with no flags and no options.
pub fn mount(dev: &Path, mnt: &Path, fstype: &str) -> io::Result<()> {
    let (d, m) = (cstr(dev)?, cstr(mnt)?);
    let t = cstr(Path::new(fstype))?;
    // SAFETY: three NUL-terminated strings that outlive the call; no data.
    check(unsafe { c_mount(d.as_ptr(), m.as_ptr(), t.as_ptr(), 0, std::ptr::null()) })
}

/// umount2(2) with `flags` (0 or [`MNT_DETACH`]).
pub fn umount(mnt: &Path, flags: i32) -> io::Result<()> {
    let m = cstr(mnt)?;
    // SAFETY: a NUL-terminated string that outlives the call.
    check(unsafe { c_umount2(m.as_ptr(), flags) })
}

/// syncfs(2) on the filesystem `f` is on.
pub fn syncfs(f: &File) -> io::Result<()> {
    // SAFETY: a descriptor `f` keeps open for the duration of the call.
    check(unsafe { c_syncfs(f.as_raw_fd()) })
}

/// FIFREEZE (`freeze_super()`) on the filesystem `f` is on.
pub fn freeze(f: &File) -> io::Result<()> {
    // SAFETY: an open descriptor; FIFREEZE reads no argument.
    check(unsafe { c_ioctl(f.as_raw_fd(), FIFREEZE, 0usize) })
}

/// FITHAW on the filesystem `f` is on.
pub fn thaw(f: &File) -> io::Result<()> {
    // SAFETY: an open descriptor; FITHAW reads no argument.
    check(unsafe { c_ioctl(f.as_raw_fd(), FITHAW, 0usize) })
}
