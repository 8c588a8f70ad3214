// SPDX-License-Identifier: GPL-2.0

//! The jbd2 journal superblock, as `mkfs.dinofs` writes it and
//! `fsck.dinofs` checks it.
//!
//! The journal's format belongs to the kernel's jbd2 (`include/linux/jbd2.h`,
//! `journal_superblock_t`); dinofs only decides where the region is (the
//! dinofs superblock's `journal_start`/`journal_blocks`, see
//! `rust/format.rs`). jbd2 addresses the region with an identity block map
//! (`jbd2_journal_init_dev(bdev, bdev, start, len, 4096)`): its superblock is
//! device block `start`, and `s_first`/`s_maxlen` are device block numbers,
//! so `s_first = start + 1` and `s_maxlen = start + journal_blocks`.
//!
//! All jbd2 fields are big-endian. The superblock occupies the first 1,024
//! bytes of its block; its checksum (v3, crc32c) covers those bytes with
//! `s_checksum` zeroed, seeded `~0` (`jbd2_superblock_csum`).

use crate::format::{Block, Geometry, BLOCK_SIZE};

/// `JBD2_MAGIC_NUMBER`.
pub const JBD2_MAGIC: u32 = 0xc03b_3998;
/// `JBD2_SUPERBLOCK_V2`.
pub const JBD2_SUPERBLOCK_V2: u32 = 4;
/// `JBD2_SUPERBLOCK_V1`.
pub const JBD2_SUPERBLOCK_V1: u32 = 3;
/// `JBD2_FEATURE_INCOMPAT_REVOKE` (set by jbd2 itself at the first revoke).
pub const INCOMPAT_REVOKE: u32 = 0x1;
/// `JBD2_FEATURE_INCOMPAT_64BIT`.
pub const INCOMPAT_64BIT: u32 = 0x2;
/// `JBD2_FEATURE_INCOMPAT_ASYNC_COMMIT`.
pub const INCOMPAT_ASYNC_COMMIT: u32 = 0x4;
/// `JBD2_FEATURE_INCOMPAT_CSUM_V2`.
pub const INCOMPAT_CSUM_V2: u32 = 0x8;
/// `JBD2_FEATURE_INCOMPAT_CSUM_V3`: what mkfs.dinofs sets.
pub const INCOMPAT_CSUM_V3: u32 = 0x10;
/// `JBD2_FEATURE_INCOMPAT_FAST_COMMIT`: dinofs never uses it.
pub const INCOMPAT_FAST_COMMIT: u32 = 0x20;
/// `JBD2_FEATURE_COMPAT_CHECKSUM` (checksum v1).
pub const COMPAT_CHECKSUM: u32 = 0x1;
/// `JBD2_CRC32C_CHKSUM`.
pub const CRC32C_CHKSUM: u8 = 4;
/// Bytes of the superblock structure (`sizeof(journal_superblock_t)`).
pub const JSB_SIZE: usize = 1024;

/// Incompatible features a dinofs journal may carry: what mkfs sets, what
/// jbd2 sets on its own (revoke), and what it may have been given.
pub const KNOWN_INCOMPAT: u32 = INCOMPAT_REVOKE | INCOMPAT_64BIT | INCOMPAT_CSUM_V3;

mod off {
    pub(super) const MAGIC: usize = 0x0;
    pub(super) const BLOCKTYPE: usize = 0x4;
    pub(super) const BLOCKSIZE: usize = 0xc;
    pub(super) const MAXLEN: usize = 0x10;
    pub(super) const FIRST: usize = 0x14;
    pub(super) const SEQUENCE: usize = 0x18;
    pub(super) const START: usize = 0x1c;
    pub(super) const ERRNO: usize = 0x20;
    pub(super) const COMPAT: usize = 0x24;
    pub(super) const INCOMPAT: usize = 0x28;
    pub(super) const RO_COMPAT: usize = 0x2c;
    pub(super) const UUID: usize = 0x30;
    pub(super) const NR_USERS: usize = 0x40;
    pub(super) const CHECKSUM_TYPE: usize = 0x50;
    pub(super) const CHECKSUM: usize = 0xfc;
}

fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn put_be32(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_be_bytes());
}

/// The fields of a jbd2 superblock dinofs cares about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct JournalSuperblock {
    /// `h_blocktype`: [`JBD2_SUPERBLOCK_V2`].
    pub blocktype: u32,
    /// `s_blocksize`.
    pub blocksize: u32,
    /// `s_maxlen`: one past the last log block (a device block number).
    pub maxlen: u32,
    /// `s_first`: the first log block (a device block number).
    pub first: u32,
    /// `s_sequence`: the first transaction id expected in the log.
    pub sequence: u32,
    /// `s_start`: where the log starts, or 0 when it is empty (clean).
    pub start: u32,
    /// `s_errno`: the error `jbd2_journal_abort` recorded, or 0.
    pub errno: i32,
    /// `s_feature_compat`.
    pub compat: u32,
    /// `s_feature_incompat`.
    pub incompat: u32,
    /// `s_feature_ro_compat`.
    pub ro_compat: u32,
    /// `s_uuid`: the filesystem's UUID (it seeds every journal checksum).
    pub uuid: [u8; 16],
    /// `s_nr_users`.
    pub nr_users: u32,
    /// `s_checksum_type`.
    pub checksum_type: u8,
}

/// The crc32c `jbd2_superblock_csum` computes.
fn superblock_csum(b: &Block, crc32c: fn(u32, &[u8]) -> u32) -> u32 {
    let mut raw = [0u8; JSB_SIZE];
    raw.copy_from_slice(&b[..JSB_SIZE]);
    raw[off::CHECKSUM..off::CHECKSUM + 4].fill(0);
    crc32c(!0, &raw)
}

impl JournalSuperblock {
    /// The superblock `mkfs.dinofs` writes for `geo`: version 2, checksum
    /// v3 (crc32c), one user, empty log (`s_start = 0`), first transaction
    /// id `sequence` (random, non-zero).
    pub fn new(geo: &Geometry, uuid: [u8; 16], sequence: u32) -> Self {
        let (start, len) = geo.journal_extent();
        Self {
            blocktype: JBD2_SUPERBLOCK_V2,
            blocksize: BLOCK_SIZE as u32,
            maxlen: len,
            first: start + 1,
            sequence: sequence.max(1),
            start: 0,
            errno: 0,
            compat: 0,
            incompat: INCOMPAT_CSUM_V3,
            ro_compat: 0,
            uuid,
            nr_users: 1,
            checksum_type: CRC32C_CHKSUM,
        }
    }

    /// Encodes the superblock into a zeroed block, checksum included.
    pub fn encode(&self, b: &mut Block, crc32c: fn(u32, &[u8]) -> u32) {
        b.fill(0);
        put_be32(b, off::MAGIC, JBD2_MAGIC);
        put_be32(b, off::BLOCKTYPE, self.blocktype);
        put_be32(b, off::BLOCKSIZE, self.blocksize);
        put_be32(b, off::MAXLEN, self.maxlen);
        put_be32(b, off::FIRST, self.first);
        put_be32(b, off::SEQUENCE, self.sequence);
        put_be32(b, off::START, self.start);
        put_be32(b, off::ERRNO, self.errno as u32);
        put_be32(b, off::COMPAT, self.compat);
        put_be32(b, off::INCOMPAT, self.incompat);
        put_be32(b, off::RO_COMPAT, self.ro_compat);
        b[off::UUID..off::UUID + 16].copy_from_slice(&self.uuid);
        put_be32(b, off::NR_USERS, self.nr_users);
        b[off::CHECKSUM_TYPE] = self.checksum_type;
        let csum = superblock_csum(b, crc32c);
        put_be32(b, off::CHECKSUM, csum);
    }

    /// Writes the dynamic fields (`s_sequence`, `s_start`, `s_errno`) into
    /// an existing superblock block and reseals it, leaving every other
    /// byte (what jbd2 keeps there, such as `s_head`) as it is.
    pub fn update(&self, b: &mut Block, crc32c: fn(u32, &[u8]) -> u32) {
        put_be32(b, off::SEQUENCE, self.sequence);
        put_be32(b, off::START, self.start);
        put_be32(b, off::ERRNO, self.errno as u32);
        let csum = superblock_csum(b, crc32c);
        put_be32(b, off::CHECKSUM, csum);
    }

    /// Decodes a journal superblock block. Only the magic number is
    /// required here; [`Self::check`] says what else is wrong.
    pub fn decode(b: &Block) -> Option<Self> {
        if be32(b, off::MAGIC) != JBD2_MAGIC {
            return None;
        }
        let mut uuid = [0u8; 16];
        uuid.copy_from_slice(&b[off::UUID..off::UUID + 16]);
        Some(Self {
            blocktype: be32(b, off::BLOCKTYPE),
            blocksize: be32(b, off::BLOCKSIZE),
            maxlen: be32(b, off::MAXLEN),
            first: be32(b, off::FIRST),
            sequence: be32(b, off::SEQUENCE),
            start: be32(b, off::START),
            errno: be32(b, off::ERRNO) as i32,
            compat: be32(b, off::COMPAT),
            incompat: be32(b, off::INCOMPAT),
            ro_compat: be32(b, off::RO_COMPAT),
            uuid,
            nr_users: be32(b, off::NR_USERS),
            checksum_type: b[off::CHECKSUM_TYPE],
        })
    }

    /// Whether the log holds transactions a mount (or fsck) must replay.
    pub fn needs_recovery(&self) -> bool {
        self.start != 0
    }

    /// Everything wrong with the journal superblock in block `b` for a
    /// filesystem laid out as `geo` with UUID `uuid`, as messages; empty
    /// if it is one the kernel's jbd2 loads and dinofs accepts.
    pub fn check(
        b: &Block,
        geo: &Geometry,
        uuid: &[u8; 16],
        crc32c: fn(u32, &[u8]) -> u32,
    ) -> Vec<String> {
        let Some(j) = Self::decode(b) else {
            return vec![format!(
                "journal superblock (block {}): bad magic {:#010x}",
                geo.journal_start,
                be32(b, off::MAGIC)
            )];
        };
        let mut bad = Vec::new();
        let (start, len) = geo.journal_extent();
        if j.blocktype != JBD2_SUPERBLOCK_V2 {
            bad.push(format!(
                "journal superblock: block type {} (expected {JBD2_SUPERBLOCK_V2}, version 2)",
                j.blocktype
            ));
        }
        if j.blocksize != BLOCK_SIZE as u32 {
            bad.push(format!("journal superblock: block size {}", j.blocksize));
        }
        if j.maxlen != len || j.first != start + 1 {
            bad.push(format!(
                "journal superblock: log blocks {}..{} do not match the region {}..{} the filesystem records",
                j.first,
                j.maxlen,
                start + 1,
                len
            ));
        }
        if j.incompat & !KNOWN_INCOMPAT != 0 || j.ro_compat != 0 || j.compat & COMPAT_CHECKSUM != 0
        {
            bad.push(format!(
                "journal superblock: unsupported features (compat {:#x}, incompat {:#x}, ro_compat {:#x})",
                j.compat, j.incompat, j.ro_compat
            ));
        }
        if j.incompat & INCOMPAT_CSUM_V3 == 0 {
            bad.push("journal superblock: no checksums (v3 expected)".into());
        } else if j.checksum_type != CRC32C_CHKSUM {
            bad.push(format!(
                "journal superblock: checksum type {} (expected crc32c, {CRC32C_CHKSUM})",
                j.checksum_type
            ));
        } else if be32(b, off::CHECKSUM) != superblock_csum(b, crc32c) {
            bad.push("journal superblock: checksum mismatch".into());
        }
        if &j.uuid != uuid {
            bad.push("journal superblock: UUID differs from the filesystem's".into());
        }
        if j.nr_users > 1 {
            bad.push(format!(
                "journal superblock: {} users (a dinofs journal has one)",
                j.nr_users
            ));
        }
        if j.start != 0 && (j.start < j.first || j.start >= j.maxlen) {
            bad.push(format!(
                "journal superblock: log start {} outside the log",
                j.start
            ));
        }
        bad
    }
}

// ---------------------------------------------------------------------------
// The log: what jbd2 writes (fs/jbd2/commit.c) and replays
// (fs/jbd2/recovery.c), for a journal with CSUM_V3 and 32-bit block
// numbers, as dinofs's is.

/// `JBD2_DESCRIPTOR_BLOCK`.
pub const DESCRIPTOR_BLOCK: u32 = 1;
/// `JBD2_COMMIT_BLOCK`.
pub const COMMIT_BLOCK: u32 = 2;
/// `JBD2_REVOKE_BLOCK`.
pub const REVOKE_BLOCK: u32 = 5;
/// `JBD2_FLAG_ESCAPE`: the block began with the jbd2 magic, zeroed in the log.
pub const FLAG_ESCAPE: u32 = 1;
/// `JBD2_FLAG_SAME_UUID`: no UUID follows the tag.
pub const FLAG_SAME_UUID: u32 = 2;
/// `JBD2_FLAG_LAST_TAG`.
pub const FLAG_LAST_TAG: u32 = 8;
/// `sizeof(journal_block_tag3_t)`.
const TAG_BYTES: usize = 16;
/// `sizeof(journal_header_t)`.
const HEADER_BYTES: usize = 12;
/// `sizeof(jbd2_journal_revoke_header_t)`.
const REVOKE_HEADER_BYTES: usize = 16;
/// `sizeof(struct jbd2_journal_block_tail)`.
const TAIL_BYTES: usize = 4;

type Crc = fn(u32, &[u8]) -> u32;

/// `j_csum_seed`: the crc32c of the journal's UUID.
fn csum_seed(uuid: &[u8; 16], crc32c: Crc) -> u32 {
    crc32c(!0, uuid)
}

/// The checksum of a descriptor or revoke block (tail zeroed) or of a
/// commit block (`h_chksum[0]` zeroed), `at` being that field's offset.
fn block_csum(b: &Block, at: usize, seed: u32, crc32c: Crc) -> u32 {
    let mut copy = *b;
    copy[at..at + 4].fill(0);
    crc32c(seed, &copy)
}

/// A tag's checksum of the data block it describes (`t_checksum`, v3).
fn tag_csum(data: &Block, sequence: u32, seed: u32, crc32c: Crc) -> u32 {
    crc32c(crc32c(seed, &sequence.to_be_bytes()), data)
}

/// What replaying a journal's log would write, found by walking it as
/// `jbd2_journal_recover` does: every transaction from `s_start` whose
/// commit block is there and valid, its blocks minus those a revoke
/// record of the same or a later committed transaction names.
#[derive(Debug, Default)]
pub struct Replay {
    /// Filesystem block -> its contents after the replay (last write wins).
    pub blocks: std::collections::BTreeMap<u32, Box<Block>>,
    /// Committed transactions found.
    pub transactions: u32,
    /// The first transaction id after them (the log's next `s_sequence`).
    pub end_sequence: u32,
    /// Blocks skipped because a later revoke named them.
    pub revoked: u32,
    /// What was wrong on the way (a bad checksum, a target outside the
    /// filesystem); such blocks are not replayed.
    pub problems: Vec<String>,
}

/// One transaction of the log while it is walked.
#[derive(Default)]
struct Txn {
    /// (target block, log block, tag flags, tag checksum).
    tags: Vec<(u32, u32, u32, u32)>,
    revokes: Vec<u32>,
}

impl Replay {
    /// Walks the log of `j` (which needs recovery) through `read` (a
    /// device block reader) for a filesystem laid out as `geo`.
    pub fn scan(
        j: &JournalSuperblock,
        geo: &Geometry,
        read: &mut dyn FnMut(u32) -> std::io::Result<Box<Block>>,
        crc32c: Crc,
    ) -> std::io::Result<Self> {
        let seed = csum_seed(&j.uuid, crc32c);
        let (first, last) = (j.first, j.maxlen);
        let mut out = Replay {
            end_sequence: j.sequence,
            ..Default::default()
        };
        if !j.needs_recovery() || first >= last || j.start < first || j.start >= last {
            return Ok(out);
        }
        let wrap = |b: u32| if b + 1 >= last { first } else { b + 1 };
        let mut pos = j.start;
        let mut seq = j.sequence;
        let mut committed: Vec<(u32, Txn)> = Vec::new();
        let mut cur = Txn::default();
        // Each log block is visited at most once per walk round the log.
        let mut budget = last - first;
        'walk: while budget > 0 {
            budget -= 1;
            let b: Box<Block> = read(pos)?;
            let b: &Block = &b;
            let here = pos;
            pos = wrap(pos);
            if be32(b, 0) != JBD2_MAGIC || be32(b, 8) != seq {
                break;
            }
            match be32(b, 4) {
                DESCRIPTOR_BLOCK => {
                    if be32(b, BLOCK_SIZE - TAIL_BYTES)
                        != block_csum(b, BLOCK_SIZE - TAIL_BYTES, seed, crc32c)
                    {
                        out.problems.push(format!(
                            "journal: descriptor block {here} of transaction {seq} fails its checksum; the log ends there"
                        ));
                        break;
                    }
                    let mut at = HEADER_BYTES;
                    while at + TAG_BYTES <= BLOCK_SIZE - TAIL_BYTES {
                        let target = be32(b, at);
                        let flags = be32(b, at + 4);
                        let csum = be32(b, at + 12);
                        if budget == 0 {
                            break 'walk;
                        }
                        budget -= 1;
                        cur.tags.push((target, pos, flags, csum));
                        pos = wrap(pos);
                        at += TAG_BYTES;
                        if flags & FLAG_SAME_UUID == 0 {
                            at += 16;
                        }
                        if flags & FLAG_LAST_TAG != 0 {
                            break;
                        }
                    }
                }
                REVOKE_BLOCK => {
                    let count = be32(b, HEADER_BYTES) as usize;
                    if count > BLOCK_SIZE - TAIL_BYTES {
                        out.problems.push(format!(
                            "journal: revoke block {here} of transaction {seq} claims {count} bytes; the log ends there"
                        ));
                        break;
                    }
                    let mut at = REVOKE_HEADER_BYTES;
                    while at + 4 <= count {
                        cur.revokes.push(be32(b, at));
                        at += 4;
                    }
                }
                COMMIT_BLOCK => {
                    if be32(b, 16) != block_csum(b, 16, seed, crc32c) {
                        out.problems.push(format!(
                            "journal: commit block {here} of transaction {seq} fails its checksum; the transaction is not replayed"
                        ));
                        break;
                    }
                    committed.push((seq, core::mem::take(&mut cur)));
                    seq = seq.wrapping_add(1);
                }
                _ => break,
            }
        }
        out.transactions = committed.len() as u32;
        out.end_sequence = seq;
        // Revoke records: block -> the latest transaction that revoked it.
        let mut revoked = std::collections::BTreeMap::new();
        for (tid, t) in &committed {
            for &r in &t.revokes {
                revoked.insert(r, *tid);
            }
        }
        for (tid, t) in &committed {
            for &(target, log, flags, csum) in &t.tags {
                if revoked
                    .get(&target)
                    .is_some_and(|r| r.wrapping_sub(*tid) as i32 >= 0)
                {
                    out.revoked += 1;
                    continue;
                }
                let mut data = read(log)?;
                if tag_csum(&data, *tid, seed, crc32c) != csum {
                    out.problems.push(format!(
                        "journal: block {target} of transaction {tid} (log block {log}) fails its checksum; not replayed"
                    ));
                    continue;
                }
                if !geo.in_data_area(target as u64)
                    && target != crate::format::SUPERBLOCK_BLOCK
                    && !(target >= geo.bitmap_start && target < geo.data_start)
                {
                    out.problems.push(format!(
                        "journal: transaction {tid} writes block {target}, which is not a filesystem block outside the journal; not replayed"
                    ));
                    continue;
                }
                if flags & FLAG_ESCAPE != 0 {
                    put_be32(&mut data[..], 0, JBD2_MAGIC);
                }
                out.blocks.insert(target, data);
            }
        }
        Ok(out)
    }
}

/// Writes transactions into a journal's log as jbd2's commit does, for
/// tests: each transaction is a descriptor block with one tag per block,
/// the blocks (escaped where they begin with the jbd2 magic), an optional
/// revoke block and a commit block. The log starts at `s_first`.
pub struct LogWriter {
    seed: u32,
    next: u32,
    first: u32,
    sequence: u32,
    crc32c: Crc,
    /// Blocks to write: (log block number, contents).
    pub out: Vec<(u32, Box<Block>)>,
}

impl LogWriter {
    /// A writer for the log of `j`, starting at its first block with its
    /// sequence.
    pub fn new(j: &JournalSuperblock, crc32c: Crc) -> Self {
        Self {
            seed: csum_seed(&j.uuid, crc32c),
            next: j.first,
            first: j.first,
            sequence: j.sequence,
            crc32c,
            out: Vec::new(),
        }
    }

    fn header(b: &mut Block, kind: u32, seq: u32) {
        put_be32(b, 0, JBD2_MAGIC);
        put_be32(b, 4, kind);
        put_be32(b, 8, seq);
    }

    fn push(&mut self, b: Box<Block>) {
        self.out.push((self.next, b));
        self.next += 1;
    }

    /// Appends one transaction writing `blocks` (at most one descriptor's
    /// worth: 254 blocks) and revoking `revokes`; `commit` false leaves
    /// it without its commit block (a crash during the commit).
    pub fn transaction(&mut self, blocks: &[(u32, Box<Block>)], revokes: &[u32], commit: bool) {
        let seq = self.sequence;
        let crc = self.crc32c;
        let mut d = Box::new([0u8; BLOCK_SIZE]);
        Self::header(&mut d, DESCRIPTOR_BLOCK, seq);
        let mut at = HEADER_BYTES;
        let mut data = Vec::new();
        for (i, (target, contents)) in blocks.iter().enumerate() {
            let mut flags = if i == 0 { 0 } else { FLAG_SAME_UUID };
            if i + 1 == blocks.len() {
                flags |= FLAG_LAST_TAG;
            }
            let mut logged = contents.clone();
            if be32(&logged[..], 0) == JBD2_MAGIC {
                flags |= FLAG_ESCAPE;
                logged[..4].fill(0);
            }
            put_be32(&mut d[..], at, *target);
            put_be32(&mut d[..], at + 4, flags);
            put_be32(&mut d[..], at + 12, tag_csum(&logged, seq, self.seed, crc));
            at += TAG_BYTES;
            if i == 0 {
                at += 16; // the UUID (its value is not checked)
            }
            data.push(logged);
        }
        let tail = block_csum(&d, BLOCK_SIZE - TAIL_BYTES, self.seed, crc);
        put_be32(&mut d[..], BLOCK_SIZE - TAIL_BYTES, tail);
        if !blocks.is_empty() {
            self.push(d);
            for b in data {
                self.push(b);
            }
        }
        if !revokes.is_empty() {
            let mut r = Box::new([0u8; BLOCK_SIZE]);
            Self::header(&mut r, REVOKE_BLOCK, seq);
            let count = REVOKE_HEADER_BYTES + 4 * revokes.len();
            put_be32(&mut r[..], HEADER_BYTES, count as u32);
            for (i, b) in revokes.iter().enumerate() {
                put_be32(&mut r[..], REVOKE_HEADER_BYTES + 4 * i, *b);
            }
            let tail = block_csum(&r, BLOCK_SIZE - TAIL_BYTES, self.seed, crc);
            put_be32(&mut r[..], BLOCK_SIZE - TAIL_BYTES, tail);
            self.push(r);
        }
        if commit {
            let mut c = Box::new([0u8; BLOCK_SIZE]);
            Self::header(&mut c, COMMIT_BLOCK, seq);
            let csum = block_csum(&c, 16, self.seed, crc);
            put_be32(&mut c[..], 16, csum);
            self.push(c);
            self.sequence = seq.wrapping_add(1);
        }
    }

    /// Where the log starts (`s_start` for the superblock).
    pub fn start(&self) -> u32 {
        self.first
    }
}

/// Writes into the log of the dinofs on `dev` one committed transaction
/// holding every filesystem block (the journal region excepted) that
/// differs on `from`, and marks the log as needing recovery: replaying it
/// makes `dev` equal to `from` outside the journal. `revoke` adds a
/// revoke record for those blocks in a second, committed transaction;
/// `uncommitted` leaves the first without its commit block. For tests of
/// the kernel's and fsck's replay. Returns the blocks logged.
pub fn log_differences(
    dev: &crate::device::Device,
    from: &crate::device::Device,
    revoke: &[u32],
    uncommitted: bool,
) -> crate::Result<Vec<u32>> {
    use crate::crc32c;
    let sb = crate::format::Superblock::decode(&*dev.read_block(0)?, crc32c)?;
    let geo = sb
        .geometry()
        .ok_or(crate::Error::Invalid("filesystem layout"))?;
    let mut raw = dev.read_block(geo.journal_start as u64)?;
    let mut j = JournalSuperblock::decode(&raw).ok_or(crate::Error::Invalid("no journal"))?;
    let mut blocks = Vec::new();
    for b in 0..geo.blocks.min(from.blocks()) {
        if geo.in_journal(b) {
            continue;
        }
        let new = from.read_block(b)?;
        if *new != *dev.read_block(b)? {
            blocks.push((b as u32, new));
        }
    }
    if blocks.len() > 250 {
        return Err(crate::Error::Invalid(
            "more than one descriptor's worth of blocks",
        ));
    }
    let mut w = LogWriter::new(&j, crc32c);
    w.transaction(&blocks, &[], !uncommitted);
    if !revoke.is_empty() {
        w.transaction(&[], revoke, true);
    }
    for (n, b) in &w.out {
        dev.write_block(*n as u64, b)?;
    }
    j.start = w.start();
    j.update(&mut raw, crc32c);
    dev.write_block(geo.journal_start as u64, &raw)?;
    dev.sync()?;
    Ok(blocks.into_iter().map(|(b, _)| b).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crc32c;

    #[test]
    fn round_trip_and_check() {
        let geo = Geometry::for_blocks(8192).unwrap();
        let uuid = [7u8; 16];
        let j = JournalSuperblock::new(&geo, uuid, 0x1234);
        let mut b = [0u8; BLOCK_SIZE];
        j.encode(&mut b, crc32c);
        assert_eq!(JournalSuperblock::decode(&b), Some(j));
        assert!(JournalSuperblock::check(&b, &geo, &uuid, crc32c).is_empty());
        assert_eq!(j.first, 2);
        assert_eq!(j.maxlen, 1 + 1024);
        let mut bad = b;
        bad[0x20] ^= 1; // s_errno
        assert_eq!(
            JournalSuperblock::check(&bad, &geo, &uuid, crc32c),
            vec!["journal superblock: checksum mismatch".to_string()]
        );
        assert!(!JournalSuperblock::check(&b, &geo, &[0; 16], crc32c).is_empty());
    }

    /// The kernel's check value for the jbd2 superblock checksum: crc32c
    /// with the kernel's convention (seed ~0, no final inversion), as
    /// `jbd2_chksum` computes with the crypto API.
    #[test]
    fn checksum_is_crc32c_over_1024_bytes() {
        let geo = Geometry::for_blocks(8192).unwrap();
        let j = JournalSuperblock::new(&geo, [1; 16], 9);
        let mut b = [0u8; BLOCK_SIZE];
        j.encode(&mut b, crc32c);
        let mut raw = b[..JSB_SIZE].to_vec();
        raw[0xfc..0x100].fill(0);
        assert_eq!(be32(&b, 0xfc), crc32c(!0, &raw));
        // Bytes past the structure are not covered.
        let mut tail = b;
        tail[2000] = 1;
        assert!(JournalSuperblock::check(&tail, &geo, &[1; 16], crc32c).is_empty());
    }

    fn block(fill: u8) -> Box<Block> {
        Box::new([fill; BLOCK_SIZE])
    }

    /// Transactions written by [`LogWriter`] replay as jbd2 would: the
    /// last write wins, a later revoke cancels, an escaped block comes
    /// back whole, a transaction without its commit block is dropped.
    #[test]
    fn log_round_trip() {
        let geo = Geometry::for_blocks(8192).unwrap();
        let d = geo.data_start;
        let mut j = JournalSuperblock::new(&geo, [3; 16], 100);
        let mut w = LogWriter::new(&j, crc32c);
        let mut magic = block(7);
        magic[..4].copy_from_slice(&JBD2_MAGIC.to_be_bytes());
        w.transaction(
            &[(d, block(1)), (d + 1, block(2)), (0, magic.clone())],
            &[],
            true,
        );
        w.transaction(&[(d, block(3))], &[d + 1], true);
        w.transaction(&[(d + 2, block(4))], &[], false);
        let log: std::collections::HashMap<u32, Box<Block>> = w.out.into_iter().collect();
        j.start = j.first;
        let mut read = |n: u32| Ok(log.get(&n).cloned().unwrap_or_else(|| block(0)));
        let r = Replay::scan(&j, &geo, &mut read, crc32c).unwrap();
        assert_eq!((r.transactions, r.end_sequence, r.revoked), (2, 102, 1));
        assert!(r.problems.is_empty(), "{:?}", r.problems);
        assert_eq!(r.blocks.keys().copied().collect::<Vec<_>>(), vec![0, d]);
        assert_eq!(r.blocks[&d][100], 3);
        assert_eq!(r.blocks[&0], magic);

        // A damaged data block is skipped and reported.
        let mut read_bad = |n: u32| {
            let mut b = log.get(&n).cloned().unwrap_or_else(|| block(0));
            if n == j.first + 1 {
                b[9] ^= 1;
            }
            Ok(b)
        };
        let r = Replay::scan(&j, &geo, &mut read_bad, crc32c).unwrap();
        assert_eq!(r.problems.len(), 1, "{:?}", r.problems);
        // An empty log replays nothing.
        j.start = 0;
        let r = Replay::scan(&j, &geo, &mut read, crc32c).unwrap();
        assert_eq!((r.transactions, r.blocks.len()), (0, 0));
    }
}
