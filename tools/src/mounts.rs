// SPDX-License-Identifier: GPL-2.0

//! Is a device (or image file) mounted?
//!
//! Reads `/proc/self/mounts` and compares each mount's source with the
//! target two ways: canonical paths (symlinks such as `/dev/disk/by-id/...`
//! resolved) and, for block devices, the device number (`st_rdev`), which
//! also catches device nodes with other names. An image file counts as
//! mounted when a loop device backed by it is mounted.

use std::fs;
use std::io;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

/// A mount that uses the target.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mount {
    /// The mount's source as listed (`/dev/vdb`, `/dev/loop0`).
    pub source: String,
    /// Where it is mounted.
    pub mountpoint: String,
}

/// Undoes the octal escapes of `/proc/self/mounts` (`\040` for a space,
/// `\011` tab, `\012` newline, `\134` backslash).
fn unescape(field: &str) -> String {
    let b = field.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let octal = b
            .get(i + 1..i + 4)
            .filter(|d| d.iter().all(|c| (b'0'..=b'7').contains(c)));
        match (b[i], octal) {
            (b'\\', Some(d)) => {
                let v = d.iter().fold(0u32, |v, c| v * 8 + (c - b'0') as u32);
                out.push(v as u8);
                i += 4;
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The loop devices (`/dev/loopN`) whose backing file is `file`.
fn loop_devices_backed_by(file: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let Ok(entries) = fs::read_dir("/sys/block") else {
        return found;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if !name.starts_with("loop") {
            continue;
        }
        let Ok(backing) = fs::read_to_string(entry.path().join("loop/backing_file")) else {
            continue;
        };
        if Path::new(backing.trim_end_matches('\n')) == file {
            found.push(Path::new("/dev").join(name));
        }
    }
    found
}

/// The mounts whose source is `path` (or the same block device, or a loop
/// device over the same image file). Empty if it is not mounted.
pub fn mounts_of(path: &Path) -> io::Result<Vec<Mount>> {
    mounts_in(&fs::read_to_string("/proc/self/mounts")?, path)
}

/// [`mounts_of`] against a given mount table (in `/proc/self/mounts`
/// format).
pub fn mounts_in(table: &str, path: &Path) -> io::Result<Vec<Mount>> {
    let canonical = fs::canonicalize(path)?;
    let meta = fs::metadata(&canonical)?;
    let rdev = meta.file_type().is_block_device().then(|| meta.rdev());
    let mut aliases = vec![canonical.clone()];
    if meta.file_type().is_file() {
        aliases.extend(loop_devices_backed_by(&canonical));
    }

    let mut found = Vec::new();
    for line in table.lines() {
        let mut fields = line.split_whitespace();
        let (Some(source), Some(mountpoint)) = (fields.next(), fields.next()) else {
            continue;
        };
        let source = unescape(source);
        if !source.starts_with('/') {
            continue; // proc, tmpfs, ...: not a path
        }
        let same_path = fs::canonicalize(&source).is_ok_and(|s| aliases.contains(&s));
        let same_dev = rdev.is_some_and(|r| {
            fs::metadata(&source).is_ok_and(|m| m.file_type().is_block_device() && m.rdev() == r)
        });
        if same_path || same_dev {
            found.push(Mount {
                source,
                mountpoint: unescape(mountpoint),
            });
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unescapes_proc_mounts_fields() {
        assert_eq!(unescape("/mnt/a\\040b"), "/mnt/a b");
        assert_eq!(unescape("back\\134slash"), "back\\slash");
        assert_eq!(unescape("trailing\\"), "trailing\\");
        assert_eq!(unescape("\\04x"), "\\04x");
    }

    #[test]
    fn finds_a_mount_by_canonical_path() {
        let dir = std::env::temp_dir().join(format!("dinofs-mounts-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let image = dir.join("my image");
        fs::write(&image, b"x").unwrap();
        let alias = dir.join("alias");
        let _ = fs::remove_file(&alias);
        std::os::unix::fs::symlink(&image, &alias).unwrap();
        let escaped = image.to_str().unwrap().replace(' ', "\\040");
        let table = format!(
            "proc /proc proc rw 0 0\n{escaped} /mnt/a\\040b dinofs rw 0 0\n/dev/nonexistent / ext4 rw 0 0\n"
        );
        let found = mounts_in(&table, &alias);
        let not_found = mounts_in("proc /proc proc rw 0 0\n", &image);
        let real = mounts_of(&image);
        fs::remove_dir_all(&dir).unwrap();
        let found = found.unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].mountpoint, "/mnt/a b");
        assert_eq!(not_found.unwrap(), Vec::new());
        assert_eq!(
            real.unwrap(),
            Vec::new(),
            "a fresh temp file is not mounted"
        );
    }
}
