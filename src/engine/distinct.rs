//! Exact, mergeable state for `count_distinct`.
//!
//! A value is first turned into a [`Key`] (a pure function of its bytes, so every reader
//! thread agrees on it):
//!
//! - an id of the shape *prefix + decimal digits* (`p000000001`, `123456`, `ord-77`) with a
//!   prefix of at most [`MAX_PREFIX`] bytes and 1 to [`MAX_DIGITS`] digits is encoded
//!   exactly as (prefix, digit count, integer): the digit count keeps leading zeros apart
//!   (`p01` ≠ `p1`), and the integer stays below 10^14 < 2^47;
//! - any other text is kept as its 64-bit hash ([`hash_bytes`]), as before;
//! - numbers and booleans by their bits.
//!
//! [`DistinctSet`] stores encoded ids like a roaring bitmap: the integer's low 16 bits go
//! into a container per 64K-value chunk (a sorted `u16` array while sparse, an 8 KiB bitmap
//! when dense). Codes whose chunk holds few values stay in a plain set of codes until a
//! chunk has enough of them to be worth a container, so random sparse ids cost no more
//! than they would as hashes. The count is the codes held plus the other values held;
//! merging is a union.

use super::aggregate::{FastMap, FastSet};
use super::batch::hash_bytes;
use super::readers::number::{combine, eight_digits, ZEROS};

/// A value as distinct counting sees it; [`NULL_KEY`] is null (not counted).
pub type Key = u128;

/// The key of a null (or empty) value.
pub const NULL_KEY: Key = 0;

/// The longest prefix an encoded id may have.
pub const MAX_PREFIX: usize = 8;
/// The most digits an encoded id may have (10^14 < 2^47: the integer, with its digit count
/// and prefix, fits a `u128`, and its chunk number fits the container keys).
pub const MAX_DIGITS: usize = 14;

const TAG_SHIFT: u32 = 120;
/// Text kept as a hash.
const TAG_HASH: u128 = 1 << TAG_SHIFT;
/// An encoded id.
const TAG_CODE: u128 = 2 << TAG_SHIFT;
/// A number or boolean by its bits.
const TAG_BITS: u128 = 3 << TAG_SHIFT;

/// The key of a field read from a file: empty is null, as the readers have it.
#[inline]
pub fn key_of_field(b: &[u8]) -> Key {
    if b.is_empty() {
        NULL_KEY
    } else {
        key_of_bytes(b)
    }
}

/// The key of a text value (never [`NULL_KEY`]: an empty text is a value here).
///
/// Layout of an encoded id: tag (bits 120..128), prefix bytes (56..120), prefix length
/// (52..56), digit count (48..52), integer (0..48).
#[inline]
pub fn key_of_bytes(b: &[u8]) -> Key {
    match code_of_9_to_16(b) {
        Some(k) => k,
        None => key_of_any(b),
    }
}

const SIXES: u64 = 0x0606_0606_0606_0606;
const HIGH_NIBBLES: u64 = 0xf0f0_f0f0_f0f0_f0f0;
const HIGH_BITS: u64 = 0x8080_8080_8080_8080;

/// Eight bytes as a little-endian word (the first byte lowest).
#[inline(always)]
fn word_at(b: &[u8], at: usize) -> Option<u64> {
    let s = b.get(at..at + 8)?;
    let mut w = [0u8; 8];
    w.copy_from_slice(s);
    Some(u64::from_le_bytes(w))
}

/// A word of ASCII bytes with each byte that is not a digit nonzero, each digit zero: a
/// digit's high nibble is 3 before and after adding 6, and below 0x80 no byte carries into
/// the next.
#[inline(always)]
fn non_digits_of_ascii(w: u64) -> u64 {
    ((w & HIGH_NIBBLES) ^ ZEROS) | (((w + SIXES) & HIGH_NIBBLES) ^ ZEROS)
}

/// [`key_of_bytes`] of the common id shape, 9 to 16 bytes ending in at least 8 digits
/// (`p000000001`), from two overlapping word reads instead of a loop per byte; `None` for
/// anything else, which [`key_of_any`] then encodes (to the same key).
#[inline(always)]
fn code_of_9_to_16(b: &[u8]) -> Option<Key> {
    let n = b.len();
    if !(9..=16).contains(&n) {
        return None;
    }
    let (first, last) = (word_at(b, 0)?, word_at(b, n - 8)?);
    // Non-ASCII text is left to the byte loop.
    if (first | last) & HIGH_BITS != 0 || non_digits_of_ascii(last) != 0 {
        return None;
    }
    // The bytes before the last eight: `m` of them, at the bottom of `first`. The digit run
    // starts after the last non-digit among them.
    let m = n - 8;
    let before = non_digits_of_ascii(first) & (u64::MAX >> (8 * (8 - m)));
    let start = if before == 0 { 0 } else { (71 - before.leading_zeros() as usize) / 8 };
    let digits = n - start;
    if digits > MAX_DIGITS {
        return None;
    }
    // The run's first `m - start` digits, moved to the top of a word padded with '0's.
    let k = m - start;
    let top = first << (8 * (8 - m));
    let pad = u64::MAX >> (8 * k);
    let hi = combine((top & !pad) | (ZEROS & pad));
    let v = hi * 100_000_000 + combine(last);
    let p = first & u64::MAX.checked_shr(8 * (8 - start) as u32).unwrap_or(0);
    Some(TAG_CODE | (p as u128) << 56 | (start as u128) << 52 | (digits as u128) << 48 | v as u128)
}

/// [`key_of_bytes`] of any value, a byte at a time.
fn key_of_any(b: &[u8]) -> Key {
    let n = b.len();
    let tail = n.min(8);
    // The last (up to) 8 bytes at once; if they are all digits, the run may go on before them.
    let (start, v) = match eight_digits(&b[n - tail..]) {
        Some(lo) => {
            let (mut start, mut hi, mut scale) = (n - tail, 0u64, 1u64);
            while start > 0 && n - start <= MAX_DIGITS && b[start - 1].is_ascii_digit() {
                hi += u64::from(b[start - 1] - b'0') * scale;
                scale *= 10;
                start -= 1;
            }
            (start, hi * 100_000_000 + lo)
        }
        None => {
            let mut start = n;
            while start > 0 && b[start - 1].is_ascii_digit() {
                start -= 1;
            }
            let mut v: u64 = 0;
            for &c in &b[start..] {
                v = v * 10 + u64::from(c - b'0');
            }
            (start, v)
        }
    };
    let digits = n - start;
    if digits == 0 || digits > MAX_DIGITS || start > MAX_PREFIX {
        return TAG_HASH | hash_bytes(b) as u128;
    }
    // Byte by byte: a variable-length copy into an array would be a `memcpy` call.
    let mut p: u64 = 0;
    for &c in b[..start].iter().rev() {
        p = p << 8 | u64::from(c);
    }
    TAG_CODE | (p as u128) << 56 | (start as u128) << 52 | (digits as u128) << 48 | v as u128
}

/// The key of a number or boolean's bits (the caller maps null to [`NULL_KEY`]).
#[inline]
pub fn key_of_bits(bits: u64) -> Key {
    TAG_BITS | bits as u128
}

/// Values per chunk: the low 16 bits of an encoded id select the bit in its container.
const CHUNK_BITS: u32 = 16;
/// Above this many values an array container becomes a bitmap (both are then 8 KiB).
const ARRAY_MAX: usize = 4096;
/// A chunk with at least this many codes waiting in the sparse set gets a container:
/// even if it never grows, a bitmap then costs at most 128 bytes per value, and an array
/// 2 bytes per value plus a fixed ~60.
const PROMOTE_MIN: u32 = 64;
/// The sparse set is first checked for chunks worth a container at this size, then each
/// time it doubles (amortised O(1) per insert).
const FIRST_CHECK: usize = 256;

/// One chunk's low 16 bits.
#[derive(Debug, Clone)]
enum Container {
    /// Sorted, without duplicates, at most [`ARRAY_MAX`] long.
    Array(Vec<u16>),
    /// One bit per value, and how many are set.
    Bitmap(Box<[u64; 1024]>, u32),
}

impl Container {
    fn len(&self) -> u64 {
        match self {
            Container::Array(a) => a.len() as u64,
            Container::Bitmap(_, n) => u64::from(*n),
        }
    }

    /// Adds `lo`; whether it was new.
    ///
    /// Inlined for the two common cases, a bitmap and an append to an array that stays an
    /// array (ids often arrive in increasing order); the rest is [`Container::insert_other`].
    #[inline(always)]
    fn insert(&mut self, lo: u16) -> bool {
        match self {
            Container::Bitmap(bits, n) => {
                let (w, bit) = ((lo >> 6) as usize, 1u64 << (lo & 63));
                let new = bits[w] & bit == 0;
                bits[w] |= bit;
                *n += u32::from(new);
                new
            }
            Container::Array(a) if a.len() < ARRAY_MAX && a.last().is_none_or(|&l| l < lo) => {
                a.push(lo);
                true
            }
            Container::Array(_) => self.insert_other(lo),
        }
    }

    /// [`Container::insert`] into an array, out of order or making it a bitmap.
    #[inline(never)]
    fn insert_other(&mut self, lo: u16) -> bool {
        let Container::Array(a) = self else { return self.insert(lo) };
        match a.last() {
            None => a.push(lo),
            Some(&l) if l < lo => a.push(lo),
            _ => match a.binary_search(&lo) {
                Ok(_) => return false,
                Err(p) => a.insert(p, lo),
            },
        }
        if a.len() > ARRAY_MAX {
            *self = Container::bitmap_of(a);
        }
        true
    }

    fn bitmap_of(values: &[u16]) -> Container {
        let mut bits = Box::new([0u64; 1024]);
        for &lo in values {
            bits[(lo >> 6) as usize] |= 1u64 << (lo & 63);
        }
        let n = bits.iter().map(|w| w.count_ones()).sum();
        Container::Bitmap(bits, n)
    }

    /// An array from unsorted values, or a bitmap if there are many.
    fn from_unsorted(mut values: Vec<u16>) -> Container {
        if values.len() > ARRAY_MAX {
            return Container::bitmap_of(&values);
        }
        values.sort_unstable();
        values.dedup();
        Container::Array(values)
    }

    /// Folds `other` into this one.
    fn union(&mut self, other: Container) {
        match (&mut *self, other) {
            (Container::Bitmap(a, n), Container::Bitmap(b, _)) => {
                for (x, y) in a.iter_mut().zip(b.iter()) {
                    *x |= *y;
                }
                *n = a.iter().map(|w| w.count_ones()).sum();
            }
            (Container::Bitmap(..), Container::Array(b)) => {
                for lo in b {
                    self.insert(lo);
                }
            }
            (Container::Array(_), Container::Bitmap(b, n)) => {
                let Container::Array(a) = std::mem::replace(self, Container::Bitmap(b, n)) else { return };
                for lo in a {
                    self.insert(lo);
                }
            }
            (Container::Array(a), Container::Array(b)) => {
                let mut all = std::mem::take(a);
                all.extend(b);
                *self = Container::from_unsorted(all);
            }
        }
    }
}

/// Bits of a code below its class (tag, prefix, digit count): the integer.
const VALUE_BITS: u32 = 48;
const VALUE_MASK: u64 = (1 << VALUE_BITS) - 1;
/// At most this many classes per group are numbered; codes of any further class are kept
/// whole.
const MAX_CLASSES: usize = 1 << 16;

/// A set of codes in 8 bytes each: a code's class (its bits above the integer: tag, prefix,
/// digit count) is numbered per set, and the number replaces it. Random sparse ids then
/// cost what their hashes did.
///
/// A class keeps its number for good, and classes past [`MAX_CLASSES`] are never numbered,
/// so each code has exactly one place: `narrow` or `wide`.
#[derive(Debug, Clone, Default)]
struct NarrowSet {
    classes: Vec<u128>,
    class_of: FastMap<u128, u32>,
    /// The last class seen and its number.
    last: Option<(u128, u64)>,
    /// Class number << 48 | integer.
    narrow: FastSet<u64>,
    /// Codes of unnumbered classes.
    wide: FastSet<u128>,
}

impl NarrowSet {
    fn len(&self) -> usize {
        self.narrow.len() + self.wide.len()
    }

    #[inline]
    fn class(&mut self, class: u128) -> Option<u64> {
        if let Some((c, n)) = self.last {
            if c == class {
                return Some(n);
            }
        }
        let n = match self.class_of.get(&class) {
            Some(&n) => u64::from(n),
            None if self.classes.len() < MAX_CLASSES => {
                let n = self.classes.len() as u32;
                self.classes.push(class);
                self.class_of.insert(class, n);
                u64::from(n)
            }
            None => return None,
        };
        self.last = Some((class, n));
        Some(n)
    }

    /// Adds a code; whether it was new.
    #[inline]
    fn insert(&mut self, code: u128) -> bool {
        match self.class(code >> VALUE_BITS) {
            Some(n) => self.narrow.insert(n << VALUE_BITS | (code as u64 & VALUE_MASK)),
            None => self.wide.insert(code),
        }
    }

    fn widen(classes: &[u128], x: u64) -> u128 {
        // Every number in `narrow` was given out by `class`.
        classes
            .get((x >> VALUE_BITS) as usize)
            .map_or(NULL_KEY, |&c| c << VALUE_BITS | u128::from(x & VALUE_MASK))
    }

    fn iter(&self) -> impl Iterator<Item = u128> + '_ {
        self.narrow.iter().map(|&x| Self::widen(&self.classes, x)).chain(self.wide.iter().copied())
    }

    fn retain(&mut self, mut keep: impl FnMut(u128) -> bool) {
        let classes = &self.classes;
        self.narrow.retain(|&x| keep(Self::widen(classes, x)));
        self.wide.retain(|&c| keep(c));
    }

    /// Gives memory back after many codes left.
    fn shrink(&mut self) {
        if self.narrow.capacity() > 4 * self.narrow.len().max(FIRST_CHECK) {
            self.narrow.shrink_to(2 * self.narrow.len());
        }
        if self.wide.capacity() > 4 * self.wide.len().max(FIRST_CHECK) {
            self.wide.shrink_to(2 * self.wide.len());
        }
    }

    fn heap_bytes(&self) -> usize {
        self.classes.capacity() * 16
            + self.class_of.capacity() * 21
            + self.narrow.capacity() * 9
            + self.wide.capacity() * 17
    }
}

/// The encoded ids of one group: a roaring-style bitmap plus the codes of chunks too
/// sparse for a container.
///
/// Invariant: a code is either in `sparse` (and its chunk has no container) or in its
/// chunk's container, never both.
#[derive(Debug, Clone)]
struct Codes {
    sparse: NarrowSet,
    /// Chunk (code >> 16) → its container in `chunks`.
    index: FastMap<u128, u32>,
    chunks: Vec<Container>,
    /// How many values the containers hold.
    in_chunks: u64,
    /// The chunk of the last insert into a container, and its position.
    last: (u128, usize),
    next_check: usize,
    /// The chunk of the last codes added to `sparse`, and how many in a row.
    run: (u128, u32),
}

impl Default for Codes {
    fn default() -> Self {
        Codes {
            sparse: NarrowSet::default(),
            index: FastMap::default(),
            chunks: Vec::new(),
            in_chunks: 0,
            // No code's chunk is all ones: the tag byte of a code is 2.
            last: (u128::MAX, 0),
            next_check: FIRST_CHECK,
            run: (u128::MAX, 0),
        }
    }
}

impl Codes {
    fn len(&self) -> u64 {
        self.sparse.len() as u64 + self.in_chunks
    }

    /// Adds a code. Inlined for the common case, a code in the chunk of the last insert;
    /// the rest is [`Codes::insert_other`].
    #[inline(always)]
    fn insert(&mut self, code: u128) {
        let (hi, lo) = (code >> CHUNK_BITS, code as u16);
        if hi == self.last.0 {
            if let Some(c) = self.chunks.get_mut(self.last.1) {
                self.in_chunks += u64::from(c.insert(lo));
                return;
            }
        }
        self.insert_other(code);
    }

    /// [`Codes::insert`] of a code outside the last insert's chunk.
    #[inline(never)]
    fn insert_other(&mut self, code: u128) {
        let (hi, lo) = (code >> CHUNK_BITS, code as u16);
        if let Some(&i) = self.index.get(&hi) {
            self.last = (hi, i as usize);
            if let Some(c) = self.chunks.get_mut(i as usize) {
                self.in_chunks += u64::from(c.insert(lo));
            }
            return;
        }
        if !self.sparse.insert(code) {
            return;
        }
        self.run = if self.run.0 == hi { (hi, self.run.1 + 1) } else { (hi, 1) };
        // Ids in increasing order fill one chunk at a time: a run of new codes in one chunk
        // gives it a container at once (while `sparse` is small, so that the scan stays
        // cheap) instead of at the next check.
        if self.sparse.len() >= self.next_check
            || (self.run.1 >= PROMOTE_MIN && self.sparse.len() <= FIRST_CHECK)
        {
            self.promote();
        }
    }

    /// Gives the chunks with many codes waiting in `sparse` a container each.
    fn promote(&mut self) {
        let mut counts: FastMap<u128, u32> = FastMap::default();
        for c in self.sparse.iter() {
            *counts.entry(c >> CHUNK_BITS).or_default() += 1;
        }
        let mut fresh: FastMap<u128, Vec<u16>> = counts
            .into_iter()
            .filter(|&(_, n)| n >= PROMOTE_MIN)
            .map(|(k, n)| (k, Vec::with_capacity(n as usize)))
            .collect();
        if !fresh.is_empty() {
            self.sparse.retain(|c| match fresh.get_mut(&(c >> CHUNK_BITS)) {
                Some(v) => {
                    v.push(c as u16);
                    false
                }
                None => true,
            });
            for (hi, values) in fresh {
                self.add_chunk(hi, Container::from_unsorted(values));
            }
            self.sparse.shrink();
        }
        self.next_check = (2 * self.sparse.len()).max(FIRST_CHECK);
    }

    /// Adds a container for a chunk that has none.
    fn add_chunk(&mut self, hi: u128, c: Container) {
        self.in_chunks += c.len();
        self.index.insert(hi, self.chunks.len() as u32);
        self.chunks.push(c);
    }

    fn merge(&mut self, mut other: Codes) {
        let mut added = false;
        for (hi, i) in other.index.drain() {
            let Some(slot) = other.chunks.get_mut(i as usize) else { continue };
            let theirs = std::mem::replace(slot, Container::Array(Vec::new()));
            match self.index.get(&hi) {
                Some(&j) => {
                    if let Some(mine) = self.chunks.get_mut(j as usize) {
                        self.in_chunks -= mine.len();
                        mine.union(theirs);
                        self.in_chunks += mine.len();
                    }
                }
                None => {
                    self.add_chunk(hi, theirs);
                    added = true;
                }
            }
        }
        if added {
            // Codes of ours whose chunk just got a container move into it.
            let (index, chunks, in_chunks) = (&self.index, &mut self.chunks, &mut self.in_chunks);
            self.sparse.retain(|c| {
                match index.get(&(c >> CHUNK_BITS)).and_then(|&i| chunks.get_mut(i as usize)) {
                    Some(container) => {
                        *in_chunks += u64::from(container.insert(c as u16));
                        false
                    }
                    None => true,
                }
            });
        }
        for c in other.sparse.iter() {
            self.insert(c);
        }
    }
}

/// The distinct values of one group.
#[derive(Debug, Clone, Default)]
pub struct DistinctSet {
    /// Hashes of text that is not an id, and numbers' bits.
    other: FastSet<u64>,
    /// Encoded ids; boxed, as most groups of most queries have none.
    codes: Option<Box<Codes>>,
}

impl DistinctSet {
    /// Adds a key ([`NULL_KEY`] is ignored). Inlined into the aggregate kernel's loop: it
    /// runs once per row.
    #[inline(always)]
    pub fn insert(&mut self, k: Key) {
        if k & (0xff << TAG_SHIFT) == TAG_CODE {
            self.codes.get_or_insert_with(Default::default).insert(k);
        } else if k != NULL_KEY {
            // Hashes and bits never meet in one group: an aggregate's argument has one type.
            self.other.insert(k as u64);
        }
    }

    /// How many distinct values.
    pub fn len(&self) -> u64 {
        self.other.len() as u64 + self.codes.as_ref().map_or(0, |c| c.len())
    }

    /// Whether no value was added.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Adds every value of `other`.
    pub fn merge(&mut self, other: DistinctSet) {
        if self.other.len() < other.other.len() {
            let mine = std::mem::replace(&mut self.other, other.other);
            self.other.extend(mine);
        } else {
            self.other.extend(other.other);
        }
        match (&mut self.codes, other.codes) {
            (_, None) => {}
            (None, Some(c)) => self.codes = Some(c),
            (Some(a), Some(b)) => {
                if a.len() < b.len() {
                    let mine = std::mem::replace(a, b);
                    a.merge(*mine);
                } else {
                    a.merge(*b);
                }
            }
        }
    }

    /// Bytes held on the heap (approximate: hash tables by capacity).
    pub fn heap_bytes(&self) -> usize {
        let mut n = self.other.capacity() * 9;
        if let Some(c) = &self.codes {
            n += std::mem::size_of::<Codes>() + c.sparse.heap_bytes() + c.index.capacity() * 21;
            n += c
                .chunks
                .iter()
                .map(|k| match k {
                    Container::Array(a) => 24 + 2 * a.capacity(),
                    Container::Bitmap(..) => 24 + 8192,
                })
                .sum::<usize>();
        }
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashSet;

    fn count(values: &[&[u8]]) -> u64 {
        let mut s = DistinctSet::default();
        for v in values {
            s.insert(key_of_field(v));
        }
        s.len()
    }

    #[test]
    fn ids_are_encoded_exactly() {
        let k = key_of_bytes(b"p000000001");
        assert_eq!(k & (0xff << TAG_SHIFT), TAG_CODE);
        assert_eq!(k as u64 & ((1 << 48) - 1), 1);
        // Leading zeros, prefixes and digit counts tell values apart.
        let all: [&[u8]; 9] = [b"p1", b"p01", b"p001", b"q1", b"1", b"01", b"P1", b"pp1", b"p10"];
        let keys: HashSet<Key> = all.iter().map(|v| key_of_bytes(v)).collect();
        assert_eq!(keys.len(), all.len());
        assert_eq!(key_of_field(b""), NULL_KEY);
        assert_ne!(key_of_bytes(b""), NULL_KEY);
    }

    #[test]
    fn other_shapes_are_hashed() {
        for v in
            [&b"abc"[..], b"p1x", b"123456789012345", b"123456789p", b"longprefix1", "préfixe-1".as_bytes()]
        {
            let k = key_of_bytes(v);
            assert_ne!(k & (0xff << TAG_SHIFT), TAG_CODE, "{}", String::from_utf8_lossy(v));
        }
        // Fourteen digits are the most encoded; 2^50 and up (16 digits) are hashed.
        assert_eq!(key_of_bytes(b"99999999999999") & (0xff << TAG_SHIFT), TAG_CODE);
        assert_eq!(key_of_bytes(b"1125899906842624") & (0xff << TAG_SHIFT), TAG_HASH);
        // A multi-byte UTF-8 prefix within 8 bytes is fine.
        assert_eq!(key_of_bytes("é-1".as_bytes()) & (0xff << TAG_SHIFT), TAG_CODE);
    }

    #[test]
    fn counts_mixed_shapes_and_ignores_nulls() {
        assert_eq!(count(&[b"p1", b"p01", b"p1", b"", b"abc", b"abc", b"1", b"01", b"00001"]), 6);
        assert_eq!(count(&[b"", b""]), 0);
    }

    #[test]
    fn dense_ids_use_bitmaps_and_stay_exact() {
        let mut s = DistinctSet::default();
        for i in 0..300_000u32 {
            s.insert(key_of_bytes(format!("p{:09}", i * 2 % 300_001).as_bytes()));
        }
        for i in 0..1000u32 {
            s.insert(key_of_bytes(format!("p{i:09}").as_bytes()));
        }
        let want: HashSet<u32> = (0..300_000u32).map(|i| i * 2 % 300_001).chain(0..1000).collect();
        assert_eq!(s.len(), want.len() as u64);
        // 300K ids in 5 chunks: far less than 300K hashes would take.
        assert!(s.heap_bytes() < 200_000, "{}", s.heap_bytes());
    }

    #[test]
    fn merge_is_a_union() {
        let (mut a, mut b) = (DistinctSet::default(), DistinctSet::default());
        for i in 0..100_000u32 {
            a.insert(key_of_bytes(format!("p{i:09}").as_bytes()));
        }
        // b overlaps a on 50_000..100_000, sparse in some chunks, dense in others.
        for i in (50_000..200_000u32).step_by(3).chain(60_000..60_010) {
            b.insert(key_of_bytes(format!("p{i:09}").as_bytes()));
        }
        for v in [&b"x"[..], b"y", b""] {
            a.insert(key_of_field(v));
            b.insert(key_of_field(v));
        }
        let want: HashSet<u32> =
            (0..100_000u32).chain((50_000..200_000u32).step_by(3)).chain(60_000..60_010).collect();
        let mut ab = a.clone();
        ab.merge(b.clone());
        b.merge(a);
        assert_eq!(ab.len(), want.len() as u64 + 2);
        assert_eq!(b.len(), want.len() as u64 + 2);
    }

    #[test]
    fn classes_past_the_numbered_ones_stay_exact() {
        let letters = |mut i: u32| {
            let mut s = String::new();
            loop {
                s.push((b'a' + (i % 26) as u8) as char);
                i /= 26;
                if i == 0 {
                    return s;
                }
            }
        };
        // 70K prefixes: more classes than are numbered per group.
        let values: Vec<String> = (0..70_000u32).map(|i| format!("{}{}", letters(i), i % 3)).collect();
        let (mut a, mut b) = (DistinctSet::default(), DistinctSet::default());
        for v in &values {
            a.insert(key_of_field(v.as_bytes()));
            a.insert(key_of_field(v.as_bytes()));
        }
        // b meets the classes in the opposite order, so its numbers differ from a's.
        for v in values.iter().rev().step_by(2) {
            b.insert(key_of_field(v.as_bytes()));
        }
        assert_eq!(a.len(), 70_000);
        assert_eq!(b.len(), 35_000);
        let mut ab = a.clone();
        ab.merge(b.clone());
        b.merge(a);
        assert_eq!((ab.len(), b.len()), (70_000, 70_000));
    }

    #[test]
    fn sparse_ids_cost_about_what_hashes_did() {
        let mut s = DistinctSet::default();
        let mut seed: u64 = 7;
        for _ in 0..100_000 {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            s.insert(key_of_field(
                format!("u{}", 100_000_000_000 + (seed >> 24) % 900_000_000_000).as_bytes(),
            ));
        }
        // A hash set of 100K u64 takes 9 bytes per bucket, 131K or 229K buckets.
        assert!(s.heap_bytes() < 2_200_000, "{}", s.heap_bytes());
    }

    /// A value from a small alphabet of shapes, so that collisions and shared chunks happen.
    fn value() -> impl Strategy<Value = String> {
        prop_oneof![
            (0u32..200_000).prop_map(|i| format!("p{i:06}")),
            (0u32..200_000).prop_map(|i| format!("p{i}")),
            (0u64..5000).prop_map(|i| i.to_string()),
            (0u64..u64::MAX).prop_map(|i| i.to_string()),
            "[a-c]{0,3}[0-9]{0,4}",
            // Digit runs around the 8 read at once and the 14 encoded.
            "[a-b]{0,2}0{0,3}[1-2]{0,17}",
            "[a-z0-9-]{0,12}",
            Just(String::new()),
        ]
    }

    proptest! {
        #[test]
        fn word_reads_agree_with_the_byte_loop(v in proptest::collection::vec(prop_oneof![4 => b'0'..=b'9', 1 => any::<u8>()], 0..19)) {
            prop_assert_eq!(key_of_bytes(&v), key_of_any(&v), "{:?}", v);
        }

        #[test]
        fn agrees_with_a_set_of_strings(values in proptest::collection::vec(value(), 0..3000), cut in 0usize..3000, cut2 in 0usize..3000) {
            let want: HashSet<&str> = values.iter().map(String::as_str).filter(|s| !s.is_empty()).collect();
            let mut one = DistinctSet::default();
            for v in &values {
                one.insert(key_of_field(v.as_bytes()));
            }
            prop_assert_eq!(one.len(), want.len() as u64);
            // Three parts merged, as the reader threads' states are.
            let (c1, c2) = (cut.min(values.len()), cut2.min(values.len()));
            let (c1, c2) = (c1.min(c2), c1.max(c2));
            let mut parts: Vec<DistinctSet> = vec![DistinctSet::default(); 3];
            for (i, v) in values.iter().enumerate() {
                let p = if i < c1 { 0 } else if i < c2 { 1 } else { 2 };
                parts[p].insert(key_of_field(v.as_bytes()));
            }
            let mut it = parts.into_iter();
            let mut all = it.next().unwrap_or_default();
            for p in it {
                all.merge(p);
            }
            prop_assert_eq!(all.len(), want.len() as u64);
        }

        #[test]
        fn dense_runs_agree_with_a_set(start in 0u64..1_000_000, len in 0usize..20_000, step in 1u64..5, split in 0usize..20_000) {
            let values: Vec<String> = (0..len as u64).map(|i| format!("id{:08}", start + i * step % 70_000)).collect();
            let want: HashSet<&String> = values.iter().collect();
            let (mut a, mut b) = (DistinctSet::default(), DistinctSet::default());
            for (i, v) in values.iter().enumerate() {
                if i < split { &mut a } else { &mut b }.insert(key_of_field(v.as_bytes()));
            }
            a.merge(b);
            prop_assert_eq!(a.len(), want.len() as u64);
        }
    }
}
