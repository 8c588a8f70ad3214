// SPDX-License-Identifier: GPL-2.0

//! Reading and replaying a `dm-log-writes` log.
//!
//! The `log-writes` device-mapper target (`drivers/md/dm-log-writes.c`,
//! `Documentation/admin-guide/device-mapper/log-writes.rst`) passes I/O
//! to a data device and records every completed write on a log device, in
//! the order the writes were *flushed*: a write that completed is logged
//! only when a later FLUSH (or the target's teardown) makes it durable, so
//! a prefix of the log is a state a power cut could have left on disk.
//! `dmsetup message DEV 0 mark LABEL` adds a MARK entry at that point.
//!
//! The log device holds, in units of the data device's logical block size
//! (`sectorsize`, 512 for virtio-blk):
//!
//! ```text
//! block 0      super:  le64 magic, le64 version, le64 nr_entries, le32 sectorsize
//! block 1..    entry:  le64 sector, le64 nr_sectors, le64 flags, le64 data_len
//!                      [the mark's label, data_len bytes, if flags has MARK]
//!              then nr_sectors blocks of data (none for a DISCARD), then
//!              the next entry
//! ```
//!
//! This module is a reader for that format written from the description
//! above; it replays entries onto an in-memory image.

use std::fs::File;
use std::io::{self, Seek, SeekFrom};
use std::os::unix::fs::FileExt;
use std::path::Path;

/// The super's magic number.
pub const MAGIC: u64 = 0x006a_7366_7773_6872;
/// The only log version there is.
pub const VERSION: u64 = 1;
/// The write had REQ_PREFLUSH (or was an empty flush).
pub const FLUSH: u64 = 1 << 0;
/// The write had REQ_FUA.
pub const FUA: u64 = 1 << 1;
/// A discard: the range reads back as zeroes here.
pub const DISCARD: u64 = 1 << 2;
/// A mark from `dmsetup message ... mark LABEL`.
pub const MARK: u64 = 1 << 3;
/// The write had REQ_META.
pub const METADATA: u64 = 1 << 4;

/// One log entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// First logical block written, in the data device's `sectorsize` units.
    pub sector: u64,
    /// Blocks written (0 for a flush or a mark).
    pub nr_sectors: u64,
    /// [`FLUSH`], [`FUA`], [`DISCARD`], [`MARK`], [`METADATA`].
    pub flags: u64,
    /// The label, for a mark.
    pub mark: Option<String>,
    /// Byte offset of the data in the log.
    data_offset: u64,
}

impl Entry {
    /// A point a crash test must visit: a flush, a FUA write or a mark.
    pub fn is_sync_point(&self) -> bool {
        self.flags & (FLUSH | FUA | MARK) != 0
    }
}

/// A log: its geometry and every entry's header.
pub struct Log {
    file: File,
    /// The data device's logical block size.
    pub sectorsize: u64,
    /// The entries, in log order.
    pub entries: Vec<Entry>,
}

fn bad(what: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what)
}

fn le64(b: &[u8], at: usize) -> u64 {
    let mut v = [0u8; 8];
    v.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(v)
}

impl Log {
    /// Reads the super and every entry header of the log in `path` (a log
    /// device or a copy of one).
    pub fn open(path: &Path) -> io::Result<Log> {
        let mut file = File::open(path)?;
        // Seeking to the end measures a block device as well as a file.
        let size = file.seek(SeekFrom::End(0))?;
        let mut sup = [0u8; 28];
        file.read_exact_at(&mut sup, 0)?;
        if le64(&sup, 0) != MAGIC {
            return Err(bad(format!("{}: not a dm-log-writes log", path.display())));
        }
        if le64(&sup, 8) != VERSION {
            return Err(bad(format!("log version {}", le64(&sup, 8))));
        }
        let count = le64(&sup, 16);
        let sectorsize = u64::from(u32::from_le_bytes([sup[24], sup[25], sup[26], sup[27]]));
        if !(512..=65536).contains(&sectorsize) || !sectorsize.is_power_of_two() {
            return Err(bad(format!("log sector size {sectorsize}")));
        }
        let mut entries = Vec::new();
        let mut pos = sectorsize;
        let mut block = vec![0u8; sectorsize as usize];
        for i in 0..count {
            if pos.checked_add(sectorsize).is_none_or(|end| end > size) {
                return Err(bad(format!("entry {i} of {count} past the end of the log")));
            }
            file.read_exact_at(&mut block, pos)?;
            let (sector, nr_sectors, flags, data_len) = (
                le64(&block, 0),
                le64(&block, 8),
                le64(&block, 16),
                le64(&block, 24),
            );
            let mark = if flags & MARK != 0 {
                let n = usize::try_from(data_len)
                    .ok()
                    .filter(|&n| n <= block.len() - 32)
                    .ok_or_else(|| bad(format!("entry {i}: mark of {data_len} bytes")))?;
                Some(String::from_utf8_lossy(&block[32..32 + n]).into_owned())
            } else if data_len != 0 {
                return Err(bad(format!(
                    "entry {i}: inline data (DAX) is not supported"
                )));
            } else {
                None
            };
            pos += sectorsize;
            let data_offset = pos;
            if flags & DISCARD == 0 {
                let len = nr_sectors
                    .checked_mul(sectorsize)
                    .filter(|&l| pos.checked_add(l).is_some_and(|e| e <= size))
                    .ok_or_else(|| bad(format!("entry {i}: {nr_sectors} blocks past the end")))?;
                pos += len;
            }
            entries.push(Entry {
                sector,
                nr_sectors,
                flags,
                mark,
                data_offset,
            });
        }
        Ok(Log {
            file,
            sectorsize,
            entries,
        })
    }

    /// Applies entry `i` to `image` (the data device's content): copies its
    /// data in, or zeroes a discarded range. Flushes and marks change nothing.
    pub fn apply(&self, i: usize, image: &mut [u8]) -> io::Result<()> {
        let e = &self.entries[i];
        if e.nr_sectors == 0 {
            return Ok(());
        }
        let range = e
            .sector
            .checked_mul(self.sectorsize)
            .and_then(|start| Some((start, start.checked_add(e.nr_sectors * self.sectorsize)?)))
            .filter(|&(_, end)| end <= image.len() as u64)
            .ok_or_else(|| {
                bad(format!(
                    "entry {i}: blocks {}+{} outside the {}-byte image",
                    e.sector,
                    e.nr_sectors,
                    image.len()
                ))
            })?;
        let dst = &mut image[range.0 as usize..range.1 as usize];
        if e.flags & DISCARD != 0 {
            dst.fill(0);
            Ok(())
        } else {
            self.file.read_exact_at(dst, e.data_offset)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// Writes a log the way the target lays it out, sector size 512.
    fn write_log(path: &Path, entries: &[(u64, u64, u64, &[u8])]) {
        let mut out = vec![0u8; 512];
        out[0..8].copy_from_slice(&MAGIC.to_le_bytes());
        out[8..16].copy_from_slice(&VERSION.to_le_bytes());
        out[16..24].copy_from_slice(&(entries.len() as u64).to_le_bytes());
        out[24..28].copy_from_slice(&512u32.to_le_bytes());
        for &(sector, flags, fill, mark) in entries {
            let nr = if flags & MARK != 0 || fill == 0 { 0 } else { 2 };
            let mut h = vec![0u8; 512];
            h[0..8].copy_from_slice(&sector.to_le_bytes());
            h[8..16].copy_from_slice(&(nr as u64).to_le_bytes());
            h[16..24].copy_from_slice(&flags.to_le_bytes());
            h[24..32].copy_from_slice(&(mark.len() as u64).to_le_bytes());
            h[32..32 + mark.len()].copy_from_slice(mark);
            out.extend_from_slice(&h);
            if flags & DISCARD == 0 {
                out.extend(std::iter::repeat_n(fill as u8, nr * 512));
            }
        }
        File::create(path)
            .and_then(|mut f| f.write_all(&out))
            .unwrap();
    }

    #[test]
    fn reads_and_replays_a_log() {
        let path = std::env::temp_dir().join(format!("dinofs-logwrites-{}", std::process::id()));
        write_log(
            &path,
            &[
                (0, 0, 0xaa, b""),
                (4, FLUSH, 0, b""),
                (0, MARK, 0, b"g0-sync"),
                (1, DISCARD, 1, b""),
                (2, 0, 0xbb, b""),
            ],
        );
        let log = Log::open(&path).unwrap();
        let _ = std::fs::remove_file(&path);
        assert_eq!(log.entries.len(), 5);
        assert_eq!(log.entries[2].mark.as_deref(), Some("g0-sync"));
        let points: Vec<bool> = log.entries.iter().map(Entry::is_sync_point).collect();
        assert_eq!(points, [false, true, true, false, false]);
        assert_eq!(log.entries[3].nr_sectors, 2);
        let mut image = vec![0u8; 8 * 512];
        for i in 0..log.entries.len() {
            log.apply(i, &mut image).unwrap();
        }
        // Blocks 0-1 0xaa, then 1-2 discarded, then 2-3 0xbb.
        assert!(image[..512].iter().all(|&b| b == 0xaa));
        assert!(image[512..1024].iter().all(|&b| b == 0));
        assert!(image[1024..2048].iter().all(|&b| b == 0xbb));
        // A write past the image is an error, not a panic.
        let mut small = vec![0u8; 1024];
        assert!(log.apply(4, &mut small).is_err());
    }

    #[test]
    fn refuses_a_truncated_log() {
        let path = std::env::temp_dir().join(format!("dinofs-logwrites-t-{}", std::process::id()));
        write_log(&path, &[(0, 0, 0xaa, b"")]);
        let f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        f.set_len(1024 + 512).unwrap();
        let r = Log::open(&path);
        let _ = std::fs::remove_file(&path);
        assert!(r.is_err());
    }
}
