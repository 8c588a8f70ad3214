// SPDX-License-Identifier: GPL-2.0

//! The consistency checker behind `fsck.dinofs`.
//!
//! [`check`] reads the whole filesystem and verifies everything the format
//! promises, in passes:
//!
//! 0. superblock, journal superblock and bitmaps (`mod.rs`): checksums,
//!    geometry, the jbd2 superblock against the region the superblock
//!    records, no bits past the end;
//! 1. `inodes.rs`: every inode in every cluster the cluster map names, and
//!    every block it maps (range, checksums, no block owned twice);
//! 2. `dirs.rs`: the directory tree, breadth-first from the root: entries
//!    well formed and pointing at live inodes, `.` and `..`, no directory
//!    reachable twice;
//! 3. `links.rs`: the orphan list, link counts, unreachable inodes, empty
//!    clusters;
//! 4. `space.rs`: the bitmaps and superblock counters against what the
//!    passes found.
//!
//! Every problem is repaired *in memory* as it is found, whether or not
//! repairs were asked for: changed blocks go to an overlay that later
//! reads see, so each pass checks the repaired state of the earlier ones
//! and `-n` reports what `-y` would do. Only in repair mode is the overlay
//! written to the device at the end (superblock last).
//!
//! Nothing here trusts the disk: every pointer is range-checked before
//! use, every block is claimed by one owner at most (so no walk can visit
//! a block twice, which bounds all loops), and the tree walk marks
//! directories as it goes.
//!
//! Memory: 4 bytes per filesystem block (the owner of each block) plus
//! about 100 bytes per allocated inode.

mod dirs;
mod inodes;
mod links;
mod space;

use crate::bits::{self, Bits};
use crate::crc32c;
use crate::device::Device;
use crate::format::{
    self, Block, FormatError, Geometry, Inode, Superblock, S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO,
    S_IFLNK, S_IFMT, S_IFREG, S_IFSOCK,
};
use crate::journal::{JournalSuperblock, Replay};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::io;

/// e2fsck-compatible exit codes.
pub mod exit {
    /// No errors.
    pub const CLEAN: i32 = 0;
    /// Errors were found and all of them corrected.
    pub const FIXED: i32 = 1;
    /// Errors were left uncorrected.
    pub const UNCORRECTED: i32 = 4;
    /// Operational error: could not check at all.
    pub const OPERATIONAL: i32 = 8;
}

/// How to check.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Options {
    /// Write repairs to the device (`-y`, `-p`). Otherwise (`-n`) nothing
    /// is written.
    pub repair: bool,
    /// Report progress notes as well (`-v`).
    pub verbose: bool,
}

/// How serious a message is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    /// Progress and statistics, only collected with [`Options::verbose`].
    Note,
    /// Worth knowing, not an error (e.g. not cleanly unmounted, with `-n`).
    Info,
    /// An inconsistency that repair mode corrects.
    Error,
    /// An inconsistency fsck cannot correct.
    Fatal,
}

/// One line of the report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    /// How serious it is.
    pub severity: Severity,
    /// What was found, e.g. `inode 12 nlink 3, counted 2`.
    pub text: String,
}

/// The outcome of a check.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// Everything found, in the order found.
    pub messages: Vec<Message>,
    /// Whether repairs were requested.
    pub repair: bool,
    /// Repairs were requested but refused as unsafe (no usable root
    /// directory: everything would look unreachable). Nothing was written.
    pub refused: bool,
    /// Whether anything was written to the device.
    pub wrote: bool,
    /// Allocated inodes (after repair).
    pub inodes_used: u64,
    /// Inodes the filesystem could hold ([`Superblock::total_inodes`]).
    pub inodes_total: u64,
    /// Used blocks, metadata included (after repair).
    pub blocks_used: u64,
    /// Blocks in the filesystem.
    pub blocks_total: u64,
}

impl Report {
    fn count(&self, severity: Severity) -> usize {
        self.messages
            .iter()
            .filter(|m| m.severity == severity)
            .count()
    }

    /// Inconsistencies found (fixable or not).
    pub fn errors(&self) -> usize {
        self.count(Severity::Error) + self.count(Severity::Fatal)
    }

    /// Whether the repairs were applied.
    fn fixing(&self) -> bool {
        self.repair && !self.refused
    }

    /// The e2fsck exit code: [`exit::CLEAN`], [`exit::FIXED`] or
    /// [`exit::UNCORRECTED`].
    pub fn exit_code(&self) -> i32 {
        if self.errors() == 0 {
            exit::CLEAN
        } else if self.fixing() && self.count(Severity::Fatal) == 0 {
            exit::FIXED
        } else {
            exit::UNCORRECTED
        }
    }

    /// The message lines to print (notes only if collected), with the
    /// outcome of each repair.
    pub fn lines(&self) -> Vec<String> {
        self.messages
            .iter()
            .map(|m| match m.severity {
                Severity::Error if self.fixing() => format!("{}: fixed", m.text),
                Severity::Error if self.refused => format!("{}: not fixed", m.text),
                Severity::Fatal if self.repair => format!("{}: NOT FIXED", m.text),
                _ => m.text.clone(),
            })
            .collect()
    }

    /// The closing line(s): what happened, then usage like e2fsck's
    /// `dinofs: 12/3200 inodes, 340/16384 blocks`.
    pub fn summary(&self) -> Vec<String> {
        let mut out = Vec::new();
        let (errors, fatal) = (self.errors(), self.count(Severity::Fatal));
        if errors > 0 && !self.repair {
            out.push(format!(
                "dinofs: {errors} problem(s) found, nothing changed (-n)"
            ));
        } else if errors > 0 && self.refused {
            out.push(format!(
                "dinofs: {errors} problem(s) found, nothing changed: \
                 repair is unsafe without a usable root directory"
            ));
        } else if errors > 0 && fatal > 0 {
            out.push(format!(
                "dinofs: {} problem(s) fixed, {fatal} left uncorrected",
                errors - fatal
            ));
        } else if errors > 0 {
            out.push(format!("dinofs: {errors} problem(s) fixed"));
        }
        out.push(format!(
            "dinofs: {}/{} inodes, {}/{} blocks",
            self.inodes_used, self.inodes_total, self.blocks_used, self.blocks_total
        ));
        out
    }
}

/// Why a check could not run at all (exit code [`exit::OPERATIONAL`]).
#[derive(Debug)]
pub enum FsckError {
    /// Reading or writing the device failed.
    Io(io::Error),
    /// No dinofs superblock (bad magic).
    NotDinofs,
    /// A dinofs version or feature set this fsck does not know.
    Unsupported(String),
    /// The superblock is unusable, so nothing else can be checked.
    BadSuperblock(String),
}

impl fmt::Display for FsckError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FsckError::Io(e) => write!(f, "I/O error: {e}"),
            FsckError::NotDinofs => write!(f, "not a dinofs filesystem (bad magic number)"),
            FsckError::Unsupported(what) => write!(f, "unsupported dinofs filesystem: {what}"),
            FsckError::BadSuperblock(what) => write!(f, "superblock is corrupt: {what}"),
        }
    }
}

impl std::error::Error for FsckError {}

impl From<io::Error> for FsckError {
    fn from(e: io::Error) -> Self {
        FsckError::Io(e)
    }
}

/// Result of the checker's internal steps.
type Result<T> = std::result::Result<T, FsckError>;

/// Checks (and with [`Options::repair`], repairs) the filesystem on `dev`.
/// `dev` must be writable for repairs.
pub fn check(dev: &Device, opts: &Options) -> Result<Report> {
    let mut c = Checker::new(dev, opts)?;
    c.note("pass 0: superblock, journal and bitmaps");
    c.check_journal()?;
    c.load_bitmaps()?;
    c.note("pass 1: inode clusters, inodes and block maps");
    c.check_inodes()?;
    if c.root_ok {
        c.note("pass 2: directory tree");
        c.check_tree()?;
        c.note("pass 3: orphan list, link counts, unreachable inodes");
        c.check_links();
        c.check_clusters();
    } else {
        c.note("passes 2 and 3 skipped: no usable root directory");
    }
    c.note("pass 4: bitmaps and counters");
    c.release_freed_blocks();
    c.check_space()?;
    c.finish()
}

// ---------------------------------------------------------------------------
// Internals shared by the passes

/// Owner of a block in [`Checker::owner`]: free, fixed metadata, an inode
/// cluster, or otherwise the number of the inode that maps it (inode
/// numbers are at least `data_start * 32`, far above these values).
const OWNER_FREE: u32 = 0;
const OWNER_METADATA: u32 = 1;
const OWNER_CLUSTER: u32 = 2;

/// What the checker knows about one allocated inode.
#[derive(Clone, Debug)]
struct InodeState {
    /// The inode, as repaired so far.
    inode: Inode,
    /// Changed since read: written back at the end.
    dirty: bool,
    /// Reached by the tree walk from the root.
    reachable: bool,
    /// Links counted by the tree walk: entries naming it, or for a
    /// directory 2 + its subdirectories.
    links: u32,
    /// Found on the on-disk orphan list.
    on_orphan_list: bool,
}

impl InodeState {
    fn new(inode: Inode) -> Self {
        Self {
            inode,
            dirty: false,
            reachable: false,
            links: 0,
            on_orphan_list: false,
        }
    }
}

/// Blocks read from the device, with the repaired ones layered on top:
/// reads see earlier writes; nothing reaches the device before
/// [`flush`](Overlay::flush).
struct Overlay<'a> {
    dev: &'a Device,
    pending: BTreeMap<u32, Box<Block>>,
}

impl<'a> Overlay<'a> {
    fn read(&self, n: u32) -> io::Result<Box<Block>> {
        match self.pending.get(&n) {
            Some(b) => Ok(b.clone()),
            None => self.dev.read_block(n as u64),
        }
    }

    fn write(&mut self, n: u32, b: Box<Block>) {
        self.pending.insert(n, b);
    }

    /// Writes every pending block, the superblock last, with a sync before
    /// and after it.
    fn flush(&mut self) -> io::Result<()> {
        let sb = self.pending.remove(&format::SUPERBLOCK_BLOCK);
        for (&n, b) in &self.pending {
            self.dev.write_block(n as u64, b)?;
        }
        self.dev.sync()?;
        if let Some(b) = sb {
            self.dev.write_block(format::SUPERBLOCK_BLOCK as u64, &b)?;
            self.dev.sync()?;
        }
        self.pending.clear();
        Ok(())
    }
}

/// The checker's state across passes.
struct Checker<'a> {
    io: Overlay<'a>,
    opts: Options,
    report: Report,
    /// The superblock as read (checksum repaired if it was the only fault).
    original_sb: Superblock,
    /// The superblock as repaired so far (pass 3 rebuilds the orphan
    /// head, pass 4 the counters and state).
    sb: Superblock,
    /// The superblock block's checksum was wrong.
    sb_bad_checksum: bool,
    geo: Geometry,
    /// Filesystem size in blocks.
    blocks: u64,
    /// Owner of every block, see [`OWNER_FREE`].
    owner: Vec<u32>,
    /// The block bitmap as on disk.
    disk_used: Bits,
    /// The inode-cluster map as on disk.
    disk_clusters: Bits,
    /// Inode clusters (after repair).
    clusters: BTreeSet<u32>,
    /// Allocated inodes (after repair).
    inodes: BTreeMap<u32, InodeState>,
    /// Inodes released by repair, whose blocks go back to free space.
    freed: BTreeSet<u32>,
    /// Inode slots to zero (bad inodes and released ones).
    cleared: BTreeSet<u32>,
    /// Mapped blocks of directories and symlinks, `(file block, block)`
    /// in file order, recorded by pass 1 for passes 2 and 3.
    mapped: HashMap<u32, Vec<(u64, u32)>>,
    /// The root directory is usable: passes 2 and 3 can run.
    root_ok: bool,
}

/// A file type's name, for messages.
fn type_name(mode: u16) -> &'static str {
    match mode & S_IFMT {
        S_IFREG => "regular file",
        S_IFDIR => "directory",
        S_IFLNK => "symlink",
        S_IFCHR => "character device",
        S_IFBLK => "block device",
        S_IFIFO => "fifo",
        S_IFSOCK => "socket",
        _ => "unknown type",
    }
}

impl<'a> Checker<'a> {
    /// Reads and validates the superblock.
    fn new(dev: &'a Device, opts: &Options) -> Result<Self> {
        if dev.blocks() == 0 {
            return Err(FsckError::NotDinofs); // not even a superblock
        }
        let raw = dev.read_block(format::SUPERBLOCK_BLOCK as u64)?;
        let (sb, sb_bad_checksum) = match Superblock::decode(&raw, crc32c) {
            Ok(sb) => (sb, false),
            Err(FormatError::BadMagic) => return Err(FsckError::NotDinofs),
            Err(FormatError::BadVersion(v)) => {
                return Err(FsckError::Unsupported(format!("version {v}")))
            }
            Err(FormatError::BadFeatures(f)) => {
                return Err(FsckError::Unsupported(format!("feature flags {f:#x}")))
            }
            Err(FormatError::BadChecksum) => {
                // If only the checksum is wrong, the fields still validate:
                // decode a resealed copy and rewrite the superblock later.
                let mut copy = raw.clone();
                format::seal_block(&mut copy, crc32c);
                match Superblock::decode(&copy, crc32c) {
                    Ok(sb) => (sb, true),
                    Err(_) => {
                        return Err(FsckError::BadSuperblock(
                            "checksum mismatch and invalid fields".into(),
                        ))
                    }
                }
            }
            Err(FormatError::BadValue) => {
                return Err(FsckError::BadSuperblock("fields are inconsistent".into()))
            }
        };
        let geo = sb
            .geometry()
            .ok_or(FsckError::BadSuperblock("bad size".into()))?;
        if sb.blocks > dev.blocks() {
            return Err(FsckError::BadSuperblock(format!(
                "filesystem has {} blocks but the device only {}",
                sb.blocks,
                dev.blocks()
            )));
        }
        let blocks = sb.blocks;
        let mut owner = vec![OWNER_FREE; blocks as usize];
        for o in owner.iter_mut().take(geo.data_start as usize) {
            *o = OWNER_METADATA;
        }
        let mut c = Self {
            io: Overlay {
                dev,
                pending: BTreeMap::new(),
            },
            opts: *opts,
            report: Report {
                repair: opts.repair,
                blocks_total: blocks,
                ..Default::default()
            },
            original_sb: sb,
            sb,
            sb_bad_checksum,
            geo,
            blocks,
            owner,
            disk_used: Bits::new(blocks),
            disk_clusters: Bits::new(blocks),
            clusters: BTreeSet::new(),
            inodes: BTreeMap::new(),
            freed: BTreeSet::new(),
            cleared: BTreeSet::new(),
            mapped: HashMap::new(),
            root_ok: true,
        };
        if sb_bad_checksum {
            c.error("superblock checksum mismatch".to_string());
        }
        Ok(c)
    }

    fn push(&mut self, severity: Severity, text: String) {
        self.report.messages.push(Message { severity, text });
    }

    /// Records a problem that repair corrects.
    fn error(&mut self, text: String) {
        self.push(Severity::Error, text);
    }

    /// Records a problem fsck cannot correct.
    fn fatal(&mut self, text: String) {
        self.push(Severity::Fatal, text);
    }

    /// Records information that is not an error.
    fn info(&mut self, text: String) {
        self.push(Severity::Info, text);
    }

    /// Records a progress note (verbose mode only).
    fn note(&mut self, text: impl Into<String>) {
        if self.opts.verbose {
            self.push(Severity::Note, text.into());
        }
    }

    /// Whether block `b` is in the data area.
    fn in_data_area(&self, b: u32) -> bool {
        b >= self.geo.data_start && (b as u64) < self.blocks
    }

    /// Owner of block `b` (which must be below `blocks`).
    fn owner_of(&self, b: u32) -> u32 {
        self.owner
            .get(b as usize)
            .copied()
            .unwrap_or(OWNER_METADATA)
    }

    fn set_owner(&mut self, b: u32, owner: u32) {
        if let Some(o) = self.owner.get_mut(b as usize) {
            *o = owner;
        }
    }

    /// Pass 0, first: the jbd2 journal superblock, and the log's replay.
    ///
    /// A log that needs recovery is replayed first, as the mount would
    /// (`Replay::scan` walks it as `jbd2_journal_recover` does): the
    /// replayed blocks and an emptied journal superblock go to the overlay,
    /// so every later pass checks the image as replayed; `-n` writes
    /// nothing, `-y`/`-p` write the replay. A damaged journal superblock
    /// whose log needs no replay is rewritten as an empty journal (as
    /// e2fsck recreates a journal).
    fn check_journal(&mut self) -> Result<()> {
        let at = self.geo.journal_start;
        let raw = self.io.read(at)?;
        let problems = JournalSuperblock::check(&raw, &self.geo, &self.sb.uuid, crc32c);
        let decoded = JournalSuperblock::decode(&raw);
        if problems.is_empty() {
            if let Some(j) = decoded {
                if j.errno != 0 {
                    self.info(format!(
                        "journal records error {} from an earlier mount (the kernel reports and clears it at the next mount)",
                        j.errno
                    ));
                }
                if j.needs_recovery() {
                    self.replay_journal(&j, raw)?;
                }
            }
            return Ok(());
        }
        for p in problems {
            self.error(p);
        }
        if decoded.is_some_and(|j| j.needs_recovery()) {
            self.fatal(
                "journal superblock damaged while the log needs recovery: its transactions are lost if the journal is recreated"
                    .into(),
            );
        }
        let sequence = decoded.map_or(1, |j| j.sequence.wrapping_add(1).max(1));
        let mut fresh = Box::new([0u8; format::BLOCK_SIZE]);
        JournalSuperblock::new(&self.geo, self.sb.uuid, sequence).encode(&mut fresh, crc32c);
        self.io.write(at, fresh);
        self.info("journal superblock rewritten (an empty journal)".into());
        Ok(())
    }

    /// Replays the log of `j` (superblock block `raw`) into the overlay and
    /// marks the journal empty there; decodes block 0 again if the replay
    /// rewrote it.
    fn replay_journal(&mut self, j: &JournalSuperblock, mut raw: Box<Block>) -> Result<()> {
        let io = &self.io;
        let mut read = |n: u32| io.read(n);
        let r = Replay::scan(j, &self.geo, &mut read, crc32c)?;
        let replayed = r.blocks.len();
        for p in &r.problems {
            self.error(p.clone());
        }
        for (b, data) in r.blocks {
            self.io.write(b, data);
        }
        let mut empty = *j;
        empty.start = 0;
        empty.sequence = r.end_sequence.max(1);
        empty.update(&mut raw, crc32c);
        self.io.write(self.geo.journal_start, raw);
        self.info(format!(
            "journal needs recovery: {} transaction(s), {} block(s) replayed{} ({} revoked)",
            r.transactions,
            replayed,
            if self.opts.repair {
                ""
            } else {
                " in memory only (-n)"
            },
            r.revoked
        ));
        let block0 = self.io.read(format::SUPERBLOCK_BLOCK)?;
        match Superblock::decode(&block0, crc32c) {
            Ok(sb) if sb.geometry() == Some(self.geo) => {
                self.sb = sb;
                self.original_sb = sb;
                Ok(())
            }
            _ => Err(FsckError::BadSuperblock(
                "the journal replay leaves an invalid superblock or another layout".into(),
            )),
        }
    }

    /// Pass 0: reads both bitmaps, checking checksums and that no bit is
    /// set past the end of the filesystem or (cluster map) in the metadata.
    fn load_bitmaps(&mut self) -> Result<()> {
        self.note(format!(
            "{} blocks: bitmaps at {} and {} ({} block(s) each), data from block {}",
            self.blocks,
            self.geo.bitmap_start,
            self.geo.clustermap_start,
            self.geo.bitmap_blocks,
            self.geo.data_start
        ));
        let mut past_end = [0u64; 2];
        for i in 0..self.geo.bitmap_blocks {
            for (k, is_cluster_map) in [false, true].into_iter().enumerate() {
                let (start, name) = if is_cluster_map {
                    (self.geo.clustermap_start, "inode cluster map")
                } else {
                    (self.geo.bitmap_start, "block bitmap")
                };
                let b = self.io.read(start + i)?;
                if format::verify_block(&b, crc32c).is_err() {
                    self.error(format!("{name} block {} checksum mismatch", start + i));
                }
                let bits = if is_cluster_map {
                    &mut self.disk_clusters
                } else {
                    &mut self.disk_used
                };
                past_end[k] += bits::decode_bitmap_block(bits, i, &b);
            }
        }
        for (n, name) in past_end
            .into_iter()
            .zip(["block bitmap", "inode cluster map"])
        {
            if n > 0 {
                self.error(format!(
                    "{name} has {n} bit(s) set past the end of the filesystem"
                ));
            }
        }
        for b in 0..self.geo.data_start {
            if self.disk_clusters.get(b as u64) {
                self.error(format!(
                    "inode cluster map marks metadata block {b} as a cluster"
                ));
            }
        }
        Ok(())
    }

    /// Writes back repaired inodes, then (repair mode) everything else.
    fn finish(mut self) -> Result<Report> {
        let changed: Vec<(u32, Inode)> = self
            .inodes
            .iter()
            .filter(|(_, s)| s.dirty)
            .map(|(&i, s)| (i, s.inode))
            .collect();
        for (ino, inode) in changed {
            let c = format::ino_cluster(ino);
            let mut block = self.io.read(c)?;
            inode.encode(&mut block, ino, crc32c);
            self.io.write(c, block);
        }
        let cleared: Vec<u32> = self.cleared.iter().copied().collect();
        for ino in cleared {
            let c = format::ino_cluster(ino);
            if self.clusters.contains(&c) {
                let mut block = self.io.read(c)?;
                Inode::clear(&mut block, ino);
                self.io.write(c, block);
            }
        }
        self.report.refused = self.opts.repair && !self.root_ok;
        if self.report.fixing() && !self.io.pending.is_empty() {
            self.io.flush()?;
            self.report.wrote = true;
        }
        Ok(self.report)
    }
}
