// SPDX-License-Identifier: GPL-2.0

//! Block-granular access to a filesystem image or block device.
//!
//! Everything on disk is addressed in [`BLOCK_SIZE`] blocks. A [`Device`]
//! wraps a [`File`] that is either a regular image file or a block device;
//! both are read and written with positioned I/O (`pread`/`pwrite`), and
//! the size comes from seeking to the end, which works for both.

use crate::format::{Block, BLOCK_SIZE};
use std::fs::{File, OpenOptions};
use std::io::{self, Seek, SeekFrom};
use std::os::unix::fs::FileExt;
use std::path::Path;

/// An open image file or block device.
#[derive(Debug)]
pub struct Device {
    file: File,
    size: u64,
    regular: bool,
}

/// A zero-filled block on the heap (blocks are 4 KiB; keep them off the
/// stack when there are many).
pub fn zero_block() -> Box<Block> {
    Box::new([0u8; BLOCK_SIZE])
}

impl Device {
    /// Opens `path` read-only, or read-write if `writable`.
    pub fn open(path: &Path, writable: bool) -> io::Result<Self> {
        let file = OpenOptions::new().read(true).write(writable).open(path)?;
        Self::from_file(file)
    }

    /// Wraps an already open file; its size is measured by seeking to the end.
    pub fn from_file(mut file: File) -> io::Result<Self> {
        let regular = file.metadata()?.file_type().is_file();
        let size = file.seek(SeekFrom::End(0))?;
        Ok(Self {
            file,
            size,
            regular,
        })
    }

    /// Size in bytes.
    pub fn size_bytes(&self) -> u64 {
        self.size
    }

    /// Size in whole blocks.
    pub fn blocks(&self) -> u64 {
        self.size / BLOCK_SIZE as u64
    }

    /// Whether this is a regular file (an image) rather than a device.
    pub fn is_regular_file(&self) -> bool {
        self.regular
    }

    /// Grows a regular image file to `blocks` blocks (never shrinks it).
    /// Block devices cannot be resized: asking for more than they hold is
    /// an error.
    pub fn ensure_blocks(&mut self, blocks: u64) -> io::Result<()> {
        if blocks <= self.blocks() {
            return Ok(());
        }
        if !self.regular {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "device holds only {} blocks, {} requested",
                    self.blocks(),
                    blocks
                ),
            ));
        }
        let len = blocks * BLOCK_SIZE as u64;
        self.file.set_len(len)?;
        self.size = len;
        Ok(())
    }

    fn offset(&self, n: u64) -> io::Result<u64> {
        if n < self.blocks() {
            Ok(n * BLOCK_SIZE as u64)
        } else {
            Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!(
                    "block {n} is beyond the end of the device ({} blocks)",
                    self.blocks()
                ),
            ))
        }
    }

    /// Reads block `n` into `buf`.
    pub fn read_block_into(&self, n: u64, buf: &mut Block) -> io::Result<()> {
        self.file.read_exact_at(buf, self.offset(n)?)
    }

    /// Reads block `n` into a new heap buffer.
    pub fn read_block(&self, n: u64) -> io::Result<Box<Block>> {
        let mut b = zero_block();
        self.read_block_into(n, &mut b)?;
        Ok(b)
    }

    /// Writes block `n`.
    pub fn write_block(&self, n: u64, buf: &Block) -> io::Result<()> {
        self.file.write_all_at(buf, self.offset(n)?)
    }

    /// Flushes written data to stable storage.
    pub fn sync(&self) -> io::Result<()> {
        self.file.sync_all()
    }

    /// The underlying file.
    pub fn file(&self) -> &File {
        &self.file
    }
}
