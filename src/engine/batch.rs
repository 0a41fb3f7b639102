//! Column batches: what the readers produce and the aggregate kernels consume.
//!
//! Numbers are `f64` with NaN standing for null (arithmetic on NaN stays NaN, which is
//! SQL's null propagation; comparisons are handled three-valued by the kernels). Text is
//! interned per column into a [`Dictionary`]: a batch holds `u32` ids, [`NULL_ID`] for null.

use std::collections::HashMap;

/// The id of a null text value.
pub const NULL_ID: u32 = u32::MAX;

/// Rows per batch.
pub const BATCH_ROWS: usize = 4096;

/// The type of a column as the engine stores it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ColType {
    /// 64-bit float; empty = null.
    Number,
    /// Interned text; empty = null.
    Text,
    /// Text kept only as its distinct-counting key ([`super::distinct::key_of_bytes`]): for
    /// columns that are only counted distinct (post ids), so a value is never interned.
    Key,
}

/// A 64-bit hash of a value's bytes (never `u64::MAX`).
///
/// For distinct counting of text that is not an id (see [`super::distinct`]), two
/// different values collide with probability about 2^-64 per pair: for 10 million such
/// values the chance that a count is off by one is about 3 in a million.
#[inline]
pub fn hash_bytes(b: &[u8]) -> u64 {
    const K: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut h: u64 = (b.len() as u64).wrapping_mul(K) ^ 0x2545_F491_4F6C_DD1D;
    let mut chunks = b.chunks_exact(8);
    for c in &mut chunks {
        let w = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
        h = (h ^ w).wrapping_mul(K).rotate_left(29);
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut w = [0u8; 8];
        w[..rest.len()].copy_from_slice(rest);
        h = (h ^ u64::from_le_bytes(w)).wrapping_mul(K).rotate_left(29);
    }
    // murmur3's finaliser spreads every input bit over the output.
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^= h >> 33;
    if h == u64::MAX {
        h - 1
    } else {
        h
    }
}

/// One column's values in a batch.
#[derive(Debug, Clone)]
pub enum ColumnData {
    /// NaN = null.
    Number(Vec<f64>),
    /// Dictionary ids; [`NULL_ID`] = null.
    Text(Vec<u32>),
    /// Distinct-counting keys of the values; [`super::distinct::NULL_KEY`] = null.
    Key(Vec<u128>),
}

impl ColumnData {
    /// An empty column of `ty`.
    pub fn new(ty: ColType) -> Self {
        match ty {
            ColType::Number => ColumnData::Number(Vec::with_capacity(BATCH_ROWS)),
            ColType::Text => ColumnData::Text(Vec::with_capacity(BATCH_ROWS)),
            ColType::Key => ColumnData::Key(Vec::with_capacity(BATCH_ROWS)),
        }
    }

    /// Keeps the first `n` values.
    pub fn truncate(&mut self, n: usize) {
        match self {
            ColumnData::Number(v) => v.truncate(n),
            ColumnData::Text(v) => v.truncate(n),
            ColumnData::Key(v) => v.truncate(n),
        }
    }

    /// Removes every value, keeping the allocation.
    pub fn clear(&mut self) {
        match self {
            ColumnData::Number(v) => v.clear(),
            ColumnData::Text(v) => v.clear(),
            ColumnData::Key(v) => v.clear(),
        }
    }
}

/// A batch of rows: the time column (days since 1970-01-01) and the requested columns in
/// request order.
#[derive(Debug, Clone, Default)]
pub struct Batch {
    /// Number of rows.
    pub len: usize,
    /// Each row's date, days since 1970-01-01 (datetimes converted in the calendar's zone).
    pub time: Vec<i32>,
    /// Each row's 1-based line in the source (for messages).
    pub lines: Vec<u64>,
    /// The requested columns, in request order.
    pub columns: Vec<ColumnData>,
}

/// Hashes byte strings a word at a time ([`hash_bytes`]); the values come from data files,
/// and the table only ever holds each distinct value once.
#[derive(Debug, Default, Clone, Copy)]
pub struct BytesHasher(u64);

impl std::hash::Hasher for BytesHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        self.0 = hash_bytes(bytes) ^ self.0.rotate_left(5);
    }
}

/// The distinct values of one text column, in order of first appearance.
#[derive(Debug, Clone, Default)]
pub struct Dictionary {
    values: Vec<String>,
    index: HashMap<Box<[u8]>, u32, std::hash::BuildHasherDefault<BytesHasher>>,
    /// Values of at most 16 bytes by [`short_key`]: dimension values (channels, campaigns)
    /// are short, and a fixed-size key needs no byte-string hash or `memcmp` call.
    short: super::aggregate::FastMap<(u128, u8), u32>,
    /// A direct-mapped cache in front of `short` ([`RECENT`] entries, allocated on the first
    /// short value): a dimension has few values, so nearly every row finds its value here
    /// with one multiply and one compare instead of a hash-table probe.
    recent: Vec<Recent>,
}

/// Entries of [`Dictionary::recent`] (a power of two).
const RECENT: usize = 64;

/// One entry of [`Dictionary::recent`]: a short value's key and id (`len` 0xff = empty,
/// which no short value has).
#[derive(Debug, Clone, Copy)]
struct Recent {
    key: u128,
    len: u8,
    id: u32,
}

const EMPTY_RECENT: Recent = Recent { key: 0, len: u8::MAX, id: 0 };

/// The entry of a short key in [`Dictionary::recent`].
#[inline]
fn recent_slot((key, len): (u128, u8)) -> usize {
    let x = (key as u64) ^ ((key >> 64) as u64).rotate_left(29) ^ u64::from(len);
    (x.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 58) as usize & (RECENT - 1)
}

/// A value of at most 16 bytes as two words and its length: the first and the last 8 (or
/// 4) bytes, overlapping for shorter values, which with the length determine the value.
#[inline(always)]
fn short_key(b: &[u8]) -> Option<(u128, u8)> {
    let n = b.len();
    let word = |s: &[u8]| -> u64 {
        let mut w = [0u8; 8];
        w.copy_from_slice(s);
        u64::from_le_bytes(w)
    };
    let half = |s: &[u8]| -> u64 {
        let mut w = [0u8; 4];
        w.copy_from_slice(s);
        u64::from(u32::from_le_bytes(w))
    };
    let (a, z) = match n {
        0 => (0, 0),
        1..=3 => (u64::from(b[0]) | u64::from(b[n / 2]) << 8 | u64::from(b[n - 1]) << 16, 0),
        4..=7 => (half(&b[..4]), half(&b[n - 4..])),
        8..=16 => (word(&b[..8]), word(&b[n - 8..])),
        _ => return None,
    };
    Some((u128::from(a) | u128::from(z) << 64, n as u8))
}

impl Dictionary {
    /// The id of `bytes`, adding it if new. Allocates only for a value not seen before.
    ///
    /// Inlined into the readers' row loops for the common case, a short value in the cache.
    #[inline(always)]
    pub fn intern(&mut self, bytes: &[u8]) -> u32 {
        if let Some(k) = short_key(bytes) {
            let slot = recent_slot(k);
            if let Some(e) = self.recent.get(slot) {
                if e.key == k.0 && e.len == k.1 {
                    return e.id;
                }
            }
            return self.intern_short(bytes, k, slot);
        }
        self.intern_long(bytes)
    }

    /// [`Dictionary::intern`] of a value longer than 16 bytes.
    #[inline(never)]
    fn intern_long(&mut self, bytes: &[u8]) -> u32 {
        match self.index.get(bytes) {
            Some(&id) => id,
            None => self.add(bytes),
        }
    }

    /// [`Dictionary::intern`] of a short value not in the cache: looks it up in (or adds it
    /// to) `short` and caches it in entry `slot`.
    #[inline(never)]
    fn intern_short(&mut self, bytes: &[u8], k: (u128, u8), slot: usize) -> u32 {
        let id = match self.short.get(&k) {
            Some(&id) => id,
            None => {
                let id = self.add(bytes);
                self.short.insert(k, id);
                id
            }
        };
        if self.recent.is_empty() {
            self.recent = vec![EMPTY_RECENT; RECENT];
        }
        if let Some(e) = self.recent.get_mut(slot) {
            *e = Recent { key: k.0, len: k.1, id };
        }
        id
    }

    #[cold]
    fn add(&mut self, bytes: &[u8]) -> u32 {
        if let Some(&id) = self.index.get(bytes) {
            return id;
        }
        let id = self.values.len() as u32;
        self.values.push(String::from_utf8_lossy(bytes).into_owned());
        self.index.insert(bytes.into(), id);
        id
    }

    /// The id of `s`, if it appeared.
    pub fn lookup(&self, s: &str) -> Option<u32> {
        self.index.get(s.as_bytes()).copied()
    }

    /// The text of `id`.
    pub fn get(&self, id: u32) -> Option<&str> {
        self.values.get(id as usize).map(|s| s.as_str())
    }

    /// How many distinct values.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether no value appeared.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn interning_gives_one_id_per_value(values in proptest::collection::vec("[ab\u{e9}]{0,20}", 0..200)) {
            let mut d = Dictionary::default();
            let mut want: HashMap<&str, u32> = HashMap::new();
            for v in &values {
                let id = d.intern(v.as_bytes());
                let next = want.len() as u32;
                prop_assert_eq!(id, *want.entry(v.as_str()).or_insert(next));
                prop_assert_eq!(d.get(id), Some(v.as_str()));
                prop_assert_eq!(d.lookup(v), Some(id));
            }
            prop_assert_eq!(d.len(), want.len());
        }
    }
}
