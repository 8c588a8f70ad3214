// SPDX-License-Identifier: GPL-2.0

//! In-memory bitsets, and their conversion to and from the on-disk bitmap
//! blocks (the block bitmap and the inode-cluster map share one layout:
//! [`BITS_PER_BITMAP_BLOCK`] bits per block, then a crc32c).

use crate::crc32c;
use crate::format::{self, Block, BITS_PER_BITMAP_BLOCK, BLOCK_SIZE};

/// A fixed-size set of bits, one per filesystem block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bits {
    words: Vec<u64>,
    len: u64,
}

impl Bits {
    /// `len` bits, all clear.
    pub fn new(len: u64) -> Self {
        Self {
            words: vec![0; len.div_ceil(64) as usize],
            len,
        }
    }

    /// Number of bits.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether the set has no bits at all.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bit `i`; bits past the end read as clear.
    pub fn get(&self, i: u64) -> bool {
        i < self.len && self.words[(i / 64) as usize] & (1 << (i % 64)) != 0
    }

    /// Sets bit `i` to `value` (ignored past the end).
    pub fn set(&mut self, i: u64, value: bool) {
        if i < self.len {
            let w = &mut self.words[(i / 64) as usize];
            if value {
                *w |= 1 << (i % 64);
            } else {
                *w &= !(1 << (i % 64));
            }
        }
    }

    /// Number of set bits.
    pub fn count_ones(&self) -> u64 {
        self.words.iter().map(|w| w.count_ones() as u64).sum()
    }

    /// The first clear bit at or after `from`, wrapping around once.
    pub fn find_clear(&self, from: u64) -> Option<u64> {
        let from = if from < self.len { from } else { 0 };
        (from..self.len).chain(0..from).find(|&i| !self.get(i))
    }
}

/// Encodes bitmap block `index` (relative to the bitmap's start) from
/// `bits`, checksum included. Positions past `bits.len()` stay clear, as
/// the format requires.
pub fn encode_bitmap_block(bits: &Bits, index: u32) -> Box<Block> {
    let mut b = Box::new([0u8; BLOCK_SIZE]);
    let base = index as u64 * BITS_PER_BITMAP_BLOCK;
    let end = (base + BITS_PER_BITMAP_BLOCK).min(bits.len());
    let mut i = base;
    while i < end {
        if i.is_multiple_of(64) && bits.words[(i / 64) as usize] == 0 {
            i += 64; // a whole clear word: nothing to set
            continue;
        }
        if bits.get(i) {
            format::bit_assign(&mut b, (i - base) as usize, true);
        }
        i += 1;
    }
    format::seal_block(&mut b, crc32c);
    b
}

/// Decodes bitmap block `index` into `bits` (positions past `bits.len()`
/// are ignored). Returns how many bits are set at positions past the end,
/// which must be zero on a consistent filesystem. Checksums are the
/// caller's business.
pub fn decode_bitmap_block(bits: &mut Bits, index: u32, b: &Block) -> u64 {
    let base = index as u64 * BITS_PER_BITMAP_BLOCK;
    let mut past_end = 0;
    for bit in 0..BITS_PER_BITMAP_BLOCK {
        if format::bit_test(b, bit as usize) {
            if base + bit < bits.len() {
                bits.set(base + bit, true);
            } else {
                past_end += 1;
            }
        }
    }
    past_end
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_get_count() {
        let mut b = Bits::new(130);
        b.set(0, true);
        b.set(64, true);
        b.set(129, true);
        b.set(130, true); // past the end: ignored
        assert!(b.get(0) && b.get(64) && b.get(129) && !b.get(130) && !b.get(1));
        assert_eq!(b.count_ones(), 3);
        assert_eq!(b.find_clear(0), Some(1));
        assert_eq!(b.find_clear(129), Some(1));
        b.set(64, false);
        assert_eq!(b.count_ones(), 2);
    }

    #[test]
    fn bitmap_block_round_trip() {
        let len = BITS_PER_BITMAP_BLOCK + 100;
        let mut bits = Bits::new(len);
        for i in [
            0,
            7,
            8,
            4095,
            BITS_PER_BITMAP_BLOCK - 1,
            BITS_PER_BITMAP_BLOCK,
            len - 1,
        ] {
            bits.set(i, true);
        }
        let mut back = Bits::new(len);
        for index in 0..2 {
            let b = encode_bitmap_block(&bits, index);
            assert_eq!(format::verify_block(&b, crc32c), Ok(()));
            assert_eq!(decode_bitmap_block(&mut back, index, &b), 0);
        }
        assert_eq!(back, bits);
        // A bit past the end is reported, not stored.
        let mut b = encode_bitmap_block(&bits, 1);
        format::bit_assign(&mut b, 100, true);
        assert_eq!(decode_bitmap_block(&mut back, 1, &b), 1);
    }
}
