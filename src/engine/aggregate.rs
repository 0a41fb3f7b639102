//! The aggregate kernels: one streaming pass over a dataset computes every aggregate of
//! every query of its plan.
//!
//! Per batch, each distinct row expression and filter is evaluated once, column-wise; then
//! per query each row gets its group slot (dimension ids and period packed into one
//! integer key), and each aggregate runs one tight loop over the batch updating its
//! per-slot state, held in flat vectors (struct of arrays).

use super::batch::{Batch, ColumnData, Dictionary, NULL_ID};
use super::distinct::{key_of_bits, key_of_bytes, DistinctSet, Key, NULL_KEY};
use super::source::{Scan, ScanStats};
use crate::calendar::{Calendar, Grain};
use crate::check::{AggFn, Const, RowExpr, ScalarFn};
use crate::diagnostic::Diagnostic;
use crate::plan::{AggRow, Bucketing, DatasetPlan, Query};
use crate::syntax::ast::{BinOp, UnaryOp};
use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

/// A fast hasher for integer keys (the keys are ours, not an attacker's: group ids and
/// value hashes).
#[derive(Default, Clone, Copy)]
pub struct FastHasher(u64);

impl Hasher for FastHasher {
    #[inline]
    fn finish(&self) -> u64 {
        let mut h = self.0;
        h ^= h >> 33;
        h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
        h ^= h >> 33;
        h
    }
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(b as u64);
        }
    }
    #[inline]
    fn write_u64(&mut self, x: u64) {
        self.0 = (self.0 ^ x).wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(26);
    }
    #[inline]
    fn write_u32(&mut self, x: u32) {
        self.write_u64(x as u64);
    }
    #[inline]
    fn write_u128(&mut self, x: u128) {
        self.write_u64(x as u64);
        self.write_u64((x >> 64) as u64);
    }
    #[inline]
    fn write_usize(&mut self, x: usize) {
        self.write_u64(x as u64);
    }
}

/// A hash map with [`FastHasher`].
pub type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<FastHasher>>;
/// A hash set with [`FastHasher`].
pub type FastSet<K> = HashSet<K, BuildHasherDefault<FastHasher>>;

/// A row that belongs to no group of the query (after `--as-of`, outside every range).
const SKIP: u32 = u32::MAX;
/// The null of a three-valued boolean (0 false, 1 true).
const NB: u8 = 2;
/// Up to this many dimensions, a group's key is packed into one `u128` with its period.
const PACKED_DIMS: usize = 3;

/// Values of a row expression over a batch.
enum Vals<'a> {
    /// Numbers (and dates as day numbers); NaN = null.
    Num(Cow<'a, [f64]>),
    /// 0 false, 1 true, 2 null.
    Bool(Cow<'a, [u8]>),
    /// Text ids of column `col`'s dictionary.
    Text(Cow<'a, [u32]>, usize),
    /// Distinct-counting keys of text values ([`key_of_bytes`]).
    Key(Cow<'a, [Key]>),
    /// A constant text.
    ConstText(String),
    /// All null.
    Null,
}

impl Vals<'_> {
    fn to_num(&self, n: usize) -> Cow<'_, [f64]> {
        match self {
            Vals::Num(x) => Cow::Borrowed(x.as_ref()),
            Vals::Bool(b) => {
                Cow::Owned(b.iter().map(|&x| if x == NB { f64::NAN } else { x as f64 }).collect())
            }
            _ => Cow::Owned(vec![f64::NAN; n]),
        }
    }

    fn to_bool(&self, n: usize) -> Cow<'_, [u8]> {
        match self {
            Vals::Bool(b) => Cow::Borrowed(b.as_ref()),
            Vals::Num(x) => {
                Cow::Owned(x.iter().map(|v| if v.is_nan() { NB } else { u8::from(*v != 0.0) }).collect())
            }
            _ => Cow::Owned(vec![NB; n]),
        }
    }

    /// [`Vals::to_bool`], keeping an owned vector instead of copying it.
    fn into_bool(self, n: usize) -> Vec<u8> {
        match self {
            Vals::Bool(b) => b.into_owned(),
            v => v.to_bool(n).into_owned(),
        }
    }

    fn is_null(&self, r: usize) -> bool {
        match self {
            Vals::Num(x) => x[r].is_nan(),
            Vals::Bool(b) => b[r] == NB,
            Vals::Text(ids, _) => ids[r] == NULL_ID,
            Vals::Key(k) => k[r] == NULL_KEY,
            Vals::ConstText(_) => false,
            Vals::Null => true,
        }
    }

    /// The value's key for distinct counting ([`NULL_KEY`] for null).
    #[inline]
    fn distinct_key(&self, r: usize, dicts: &[Dictionary]) -> Key {
        match self {
            Vals::Num(x) => {
                let v = x[r];
                if v.is_nan() {
                    NULL_KEY
                } else {
                    key_of_bits(if v == 0.0 { 0 } else { v.to_bits() })
                }
            }
            Vals::Bool(b) => {
                if b[r] == NB {
                    NULL_KEY
                } else {
                    key_of_bits(b[r] as u64)
                }
            }
            // By the text's key, not its id: ids differ between reader threads.
            Vals::Text(ids, c) => {
                let id = ids[r];
                if id == NULL_ID {
                    NULL_KEY
                } else {
                    dicts.get(*c).and_then(|d| d.get(id)).map_or(NULL_KEY, |s| key_of_bytes(s.as_bytes()))
                }
            }
            Vals::Key(k) => k[r],
            Vals::ConstText(s) => key_of_bytes(s.as_bytes()),
            Vals::Null => NULL_KEY,
        }
    }
}

/// The state of one aggregate over every slot of a query, as flat vectors.
enum AggAcc {
    /// `nulls`: whether the last batch's values had a null (see [`add_by_slot`]).
    Sum {
        s: Vec<f64>,
        any: Vec<bool>,
        nulls: bool,
    },
    Avg {
        s: Vec<f64>,
        n: Vec<u64>,
    },
    Min(Vec<f64>),
    Max(Vec<f64>),
    Count(Vec<u64>),
    Distinct(Vec<DistinctSet>),
    First {
        t: Vec<i32>,
        v: Vec<f64>,
    },
    Last {
        t: Vec<i32>,
        v: Vec<f64>,
    },
    Values(Vec<Vec<f64>>),
}

impl AggAcc {
    fn new(f: AggFn) -> AggAcc {
        match f {
            AggFn::Sum => AggAcc::Sum { s: Vec::new(), any: Vec::new(), nulls: false },
            AggFn::Avg => AggAcc::Avg { s: Vec::new(), n: Vec::new() },
            AggFn::Min => AggAcc::Min(Vec::new()),
            AggFn::Max => AggAcc::Max(Vec::new()),
            AggFn::Count => AggAcc::Count(Vec::new()),
            AggFn::CountDistinct => AggAcc::Distinct(Vec::new()),
            AggFn::First => AggAcc::First { t: Vec::new(), v: Vec::new() },
            AggFn::Last => AggAcc::Last { t: Vec::new(), v: Vec::new() },
            AggFn::Median | AggFn::Percentile => AggAcc::Values(Vec::new()),
        }
    }

    /// Adds one empty slot.
    fn push_slot(&mut self) {
        match self {
            AggAcc::Sum { s, any, .. } => {
                s.push(0.0);
                any.push(false);
            }
            AggAcc::Avg { s, n } => {
                s.push(0.0);
                n.push(0);
            }
            AggAcc::Min(v) | AggAcc::Max(v) => v.push(f64::NAN),
            AggAcc::Count(c) => c.push(0),
            AggAcc::Distinct(d) => d.push(DistinctSet::default()),
            AggAcc::First { t, v } => {
                t.push(i32::MAX);
                v.push(f64::NAN);
            }
            AggAcc::Last { t, v } => {
                t.push(i32::MIN);
                v.push(f64::NAN);
            }
            AggAcc::Values(v) => v.push(Vec::new()),
        }
    }

    /// Folds slot `j` of `other` (a later part of the data) into slot `i`.
    fn merge_slot(&mut self, i: usize, other: &mut AggAcc, j: usize) {
        match (self, other) {
            (AggAcc::Sum { s, any, .. }, AggAcc::Sum { s: s2, any: a2, .. }) if a2[j] => {
                s[i] += s2[j];
                any[i] = true;
            }
            (AggAcc::Avg { s, n }, AggAcc::Avg { s: s2, n: n2 }) => {
                s[i] += s2[j];
                n[i] += n2[j];
            }
            (AggAcc::Min(m), AggAcc::Min(m2)) if !m2[j].is_nan() && (m[i].is_nan() || m2[j] < m[i]) => {
                m[i] = m2[j]
            }
            (AggAcc::Max(m), AggAcc::Max(m2)) if !m2[j].is_nan() && (m[i].is_nan() || m2[j] > m[i]) => {
                m[i] = m2[j]
            }
            (AggAcc::Count(c), AggAcc::Count(c2)) => c[i] += c2[j],
            (AggAcc::Distinct(d), AggAcc::Distinct(d2)) => {
                let theirs = std::mem::take(&mut d2[j]);
                d[i].merge(theirs);
            }
            // Ties keep the earlier part's value for `first`, the later part's for `last`.
            (AggAcc::First { t, v }, AggAcc::First { t: t2, v: v2 }) if t2[j] < t[i] => {
                t[i] = t2[j];
                v[i] = v2[j];
            }
            (AggAcc::Last { t, v }, AggAcc::Last { t: t2, v: v2 }) if t2[j] >= t[i] && !v2[j].is_nan() => {
                t[i] = t2[j];
                v[i] = v2[j];
            }
            (AggAcc::Values(a), AggAcc::Values(b)) => {
                let theirs = std::mem::take(&mut b[j]);
                a[i].extend(theirs);
            }
            _ => {}
        }
    }

    /// The final value of a slot (NaN = null).
    fn finish(&mut self, slot: usize, param: f64) -> f64 {
        match self {
            AggAcc::Sum { s, any, .. } => {
                if any[slot] {
                    s[slot]
                } else {
                    f64::NAN
                }
            }
            AggAcc::Avg { s, n } => {
                if n[slot] > 0 {
                    s[slot] / n[slot] as f64
                } else {
                    f64::NAN
                }
            }
            AggAcc::Min(v) | AggAcc::Max(v) => v[slot],
            AggAcc::Count(c) => c[slot] as f64,
            AggAcc::Distinct(d) => d[slot].len() as f64,
            AggAcc::First { v, .. } | AggAcc::Last { v, .. } => v[slot],
            AggAcc::Values(all) => {
                let vs = &mut all[slot];
                if vs.is_empty() {
                    return f64::NAN;
                }
                vs.sort_by(|a, b| a.total_cmp(b));
                // Linear interpolation between the closest ranks (SQL's percentile_cont).
                let pos = param * (vs.len() - 1) as f64;
                let lo = pos.floor() as usize;
                let hi = pos.ceil() as usize;
                vs[lo] + (vs[hi] - vs[lo]) * (pos - lo as f64)
            }
        }
    }

    /// Updates every slot from one batch: `slots[r]` is row r's slot or [`SKIP`].
    ///
    /// `touched` lists the slots of the batch's rows, each once, when no row is [`SKIP`]:
    /// then the kernels need no per-row skip test, and sums and averages over a batch
    /// without nulls no per-row null test either.
    #[allow(clippy::too_many_arguments)]
    fn update(
        &mut self,
        slots: &[u32],
        touched: Option<&[u32]>,
        arg: Option<&Vals>,
        filter: Option<&[u8]>,
        time: &[i32],
        n: usize,
        dicts: &[Dictionary],
    ) {
        // A filter that keeps no row of the batch (`campaign == "c07"` on most batches)
        // leaves every slot as it is.
        if filter.is_some_and(|f| !any_true(&f[..n])) {
            return;
        }
        let keep = |r: usize| slots[r] != SKIP && filter.is_none_or(|f| f[r] == 1);
        match self {
            AggAcc::Count(c) => match arg {
                // `count(where ...)`: the filter's 1 (true) adds one, 0 and 2 (null) none.
                None if touched.is_some() => match filter {
                    Some(f) => {
                        for (&slot, &b) in slots[..n].iter().zip(&f[..n]) {
                            c[slot as usize] += u64::from(b == 1);
                        }
                    }
                    None => {
                        for &slot in &slots[..n] {
                            c[slot as usize] += 1;
                        }
                    }
                },
                None if filter.is_none() => {
                    for &slot in &slots[..n] {
                        if slot != SKIP {
                            c[slot as usize] += 1;
                        }
                    }
                }
                None => {
                    for r in 0..n {
                        if keep(r) {
                            c[slots[r] as usize] += 1;
                        }
                    }
                }
                Some(a) => {
                    for r in 0..n {
                        if keep(r) && !a.is_null(r) {
                            c[slots[r] as usize] += 1;
                        }
                    }
                }
            },
            AggAcc::Distinct(d) => match arg {
                Some(Vals::Key(k)) if filter.is_none() => {
                    for (&slot, &key) in slots[..n].iter().zip(&k[..n]) {
                        if slot != SKIP {
                            d[slot as usize].insert(key);
                        }
                    }
                }
                Some(Vals::Key(k)) => {
                    for r in 0..n {
                        if keep(r) {
                            d[slots[r] as usize].insert(k[r]);
                        }
                    }
                }
                Some(a) => {
                    for r in 0..n {
                        if keep(r) {
                            d[slots[r] as usize].insert(a.distinct_key(r, dicts));
                        }
                    }
                }
                None => {}
            },
            _ => {
                let Some(a) = arg else { return };
                let x = a.to_num(n);
                let x = x.as_ref();
                match self {
                    // Without a filter (most sums and averages), one zipped pass: no
                    // per-row filter test or bounds checks on the batch's vectors.
                    AggAcc::Sum { s, any, nulls } if filter.is_none() => match touched {
                        // No skipped row and (as in the last batch) no null: every row
                        // adds, and each slot of the batch gets a value.
                        Some(t) if !*nulls && add_by_slot(s, &slots[..n], &x[..n]) => {
                            for &i in t {
                                any[i as usize] = true;
                            }
                        }
                        Some(_) => {
                            *nulls = any_nan(&x[..n]);
                            add_non_null_by_slot(s, any, &slots[..n], &x[..n]);
                        }
                        None => {
                            for (&slot, &v) in slots[..n].iter().zip(&x[..n]) {
                                if slot != SKIP && !v.is_nan() {
                                    let i = slot as usize;
                                    s[i] += v;
                                    any[i] = true;
                                }
                            }
                        }
                    },
                    AggAcc::Sum { s, any, .. } => {
                        for r in 0..n {
                            if keep(r) && !x[r].is_nan() {
                                let i = slots[r] as usize;
                                s[i] += x[r];
                                any[i] = true;
                            }
                        }
                    }
                    AggAcc::Avg { s, n: cnt } if filter.is_none() => match touched {
                        Some(_) if !any_nan(&x[..n]) => {
                            for (&slot, &v) in slots[..n].iter().zip(&x[..n]) {
                                let i = slot as usize;
                                s[i] += v;
                                cnt[i] += 1;
                            }
                        }
                        _ => {
                            for (&slot, &v) in slots[..n].iter().zip(&x[..n]) {
                                if slot != SKIP && !v.is_nan() {
                                    let i = slot as usize;
                                    s[i] += v;
                                    cnt[i] += 1;
                                }
                            }
                        }
                    },
                    AggAcc::Avg { s, n: cnt } => {
                        for r in 0..n {
                            if keep(r) && !x[r].is_nan() {
                                let i = slots[r] as usize;
                                s[i] += x[r];
                                cnt[i] += 1;
                            }
                        }
                    }
                    AggAcc::Min(m) => {
                        for r in 0..n {
                            if keep(r) && !x[r].is_nan() {
                                let i = slots[r] as usize;
                                if m[i].is_nan() || x[r] < m[i] {
                                    m[i] = x[r];
                                }
                            }
                        }
                    }
                    AggAcc::Max(m) => {
                        for r in 0..n {
                            if keep(r) && !x[r].is_nan() {
                                let i = slots[r] as usize;
                                if m[i].is_nan() || x[r] > m[i] {
                                    m[i] = x[r];
                                }
                            }
                        }
                    }
                    // The earliest non-null value; among rows of the same day, the first read.
                    AggAcc::First { t, v } => {
                        for r in 0..n {
                            if keep(r) && !x[r].is_nan() {
                                let i = slots[r] as usize;
                                if time[r] < t[i] {
                                    t[i] = time[r];
                                    v[i] = x[r];
                                }
                            }
                        }
                    }
                    // The latest non-null value; among rows of the same day, the last read.
                    AggAcc::Last { t, v } => {
                        for r in 0..n {
                            if keep(r) && !x[r].is_nan() {
                                let i = slots[r] as usize;
                                if time[r] >= t[i] {
                                    t[i] = time[r];
                                    v[i] = x[r];
                                }
                            }
                        }
                    }
                    AggAcc::Values(vs) => {
                        for r in 0..n {
                            if keep(r) && !x[r].is_nan() {
                                vs[slots[r] as usize].push(x[r]);
                            }
                        }
                    }
                    AggAcc::Count(_) | AggAcc::Distinct(_) => {}
                }
            }
        }
    }
}

/// Slots up to which [`add_by_slot`] adds into a local array.
const LOCAL_SLOTS: usize = 256;

/// Adds each `x[r]` to `s[slots[r]]`, in row order (so each slot's sum is the same
/// floating-point result as one row at a time), if no `x[r]` is NaN (null); else returns
/// false and leaves `s` as it was. Every slot must be below `s.len()`.
///
/// With few slots (one per channel and month, typically), the sums go through a local
/// array of [`LOCAL_SLOTS`] indexed by the slot's low byte: no bounds check per row, four
/// rows per step, and no null test per row: a null makes its slot's sum NaN, which the
/// local array shows at the end (so does an overflow to infinities of opposite signs,
/// which then takes the caller's slower way to the same result).
#[inline]
fn add_by_slot(s: &mut [f64], slots: &[u32], x: &[f64]) -> bool {
    if s.len() > LOCAL_SLOTS {
        if any_nan(x) {
            return false;
        }
        for (&slot, &v) in slots.iter().zip(x) {
            s[slot as usize] += v;
        }
        return true;
    }
    let mut local = [0.0f64; LOCAL_SLOTS];
    local[..s.len()].copy_from_slice(s);
    let at = |slot: u32| slot as usize & (LOCAL_SLOTS - 1);
    let ((sl, sl_rest), (xs, xs_rest)) = (slots.as_chunks::<4>(), x.as_chunks::<4>());
    for (c, v) in sl.iter().zip(xs) {
        local[at(c[0])] += v[0];
        local[at(c[1])] += v[1];
        local[at(c[2])] += v[2];
        local[at(c[3])] += v[3];
    }
    for (&slot, &v) in sl_rest.iter().zip(xs_rest) {
        local[at(slot)] += v;
    }
    let n = s.len();
    if any_nan(&local[..n]) {
        return false;
    }
    s.copy_from_slice(&local[..n]);
    true
}

/// [`add_by_slot`] of the values that are not NaN (null), marking in `any` each slot that
/// got one.
#[inline]
fn add_non_null_by_slot(s: &mut [f64], any: &mut [bool], slots: &[u32], x: &[f64]) {
    if s.len() > LOCAL_SLOTS {
        for (&slot, &v) in slots.iter().zip(x) {
            if !v.is_nan() {
                s[slot as usize] += v;
                any[slot as usize] = true;
            }
        }
        return;
    }
    let (mut local, mut got) = ([0.0f64; LOCAL_SLOTS], [false; LOCAL_SLOTS]);
    local[..s.len()].copy_from_slice(s);
    for (&slot, &v) in slots.iter().zip(x) {
        if !v.is_nan() {
            let i = slot as usize & (LOCAL_SLOTS - 1);
            local[i] += v;
            got[i] = true;
        }
    }
    let n = s.len();
    s.copy_from_slice(&local[..n]);
    for (a, &g) in any.iter_mut().zip(&got[..n]) {
        *a |= g;
    }
}

/// Whether any value is NaN (null); eight at a time without an early exit, so that the
/// loop is vectorised.
#[inline]
fn any_nan(x: &[f64]) -> bool {
    let mut chunks = x.chunks_exact(8);
    let mut found = false;
    for c in &mut chunks {
        found |= c.iter().fold(false, |a, v| a | v.is_nan());
    }
    found || chunks.remainder().iter().any(|v| v.is_nan())
}

/// Whether any three-valued boolean is 1 (true); vectorised like [`any_nan`].
#[inline]
fn any_true(f: &[u8]) -> bool {
    f.iter().fold(0u8, |a, &b| a | u8::from(b == 1)) != 0
}

/// How rows of a query fall into periods.
enum Bucketer {
    /// Calendar periods; caches the last day seen (rows often come sorted by date).
    Grain { grain: Grain, calendar: Calendar, last_day: i32, last_period: i32 },
    /// Disjoint ranges, sorted: a row falls in at most one.
    Disjoint(Vec<(i32, i32, i32)>),
    /// Overlapping ranges: a row may fall in several (one pass per range).
    Overlapping(Vec<(i32, i32)>),
}

impl Bucketer {
    fn new(b: &Bucketing, calendar: &Calendar) -> Bucketer {
        match b {
            Bucketing::Grain(g) => {
                Bucketer::Grain { grain: *g, calendar: calendar.clone(), last_day: i32::MIN, last_period: 0 }
            }
            Bucketing::Ranges(rs) => {
                let mut sorted: Vec<(i32, i32, i32)> =
                    rs.iter().enumerate().map(|(i, r)| (r.start, r.end, i as i32)).collect();
                sorted.sort_unstable();
                if sorted.windows(2).all(|w| w[0].1 < w[1].0) {
                    Bucketer::Disjoint(sorted)
                } else {
                    Bucketer::Overlapping(rs.iter().map(|r| (r.start, r.end)).collect())
                }
            }
        }
    }

    fn passes(&self) -> usize {
        match self {
            Bucketer::Overlapping(rs) => rs.len(),
            _ => 1,
        }
    }

    /// The period of `day` in pass `pass`, if any.
    #[inline]
    fn period(&mut self, day: i32, pass: usize) -> Option<i32> {
        match self {
            Bucketer::Grain { grain, calendar, last_day, last_period } => {
                if day != *last_day {
                    *last_day = day;
                    *last_period = calendar.period_of(*grain, day);
                }
                Some(*last_period)
            }
            Bucketer::Disjoint(rs) => {
                let i = rs.partition_point(|r| r.1 < day);
                rs.get(i).filter(|r| r.0 <= day).map(|r| r.2)
            }
            Bucketer::Overlapping(rs) => {
                let (s, e) = rs[pass];
                (day >= s && day <= e).then_some(pass as i32)
            }
        }
    }
}

/// Accumulates one query.
struct QueryAcc {
    map: FastMap<u128, u32>,
    keys: Vec<u128>,
    /// For more than [`PACKED_DIMS`] dimensions: the combinations, interned.
    combos: FastMap<Vec<u32>, u32>,
    combo_list: Vec<Vec<u32>>,
    rows: Vec<u64>,
    aggs: Vec<AggAcc>,
    bucketer: Bucketer,
    slots: Vec<u32>,
    /// For one dimension: the slots of the period `direct_period` by dimension id (the
    /// first [`DIRECT_IDS`] ids; [`SKIP`] = not looked up yet), so that rows sorted by
    /// date find their group without hashing.
    direct: Vec<u32>,
    direct_period: Option<i32>,
    /// The slots of the current pass's rows, each once (see [`AggAcc::update`]).
    touched: Vec<u32>,
    /// Whether some row of the current pass is [`SKIP`].
    skipped: bool,
    /// Per slot, the pass that last put it in `touched` (`stamp`: the current one).
    seen: Vec<u64>,
    stamp: u64,
}

/// Dimension ids below this are looked up in [`QueryAcc::direct`].
const DIRECT_IDS: u32 = 256;

impl QueryAcc {
    fn new(q: &Query, plan: &DatasetPlan) -> QueryAcc {
        QueryAcc {
            map: FastMap::default(),
            keys: Vec::new(),
            combos: FastMap::default(),
            combo_list: Vec::new(),
            rows: Vec::new(),
            aggs: q.aggs.iter().map(|&a| AggAcc::new(plan.aggs[a].func)).collect(),
            bucketer: Bucketer::new(&q.buckets, &plan.calendar),
            slots: Vec::with_capacity(super::batch::BATCH_ROWS),
            direct: Vec::new(),
            direct_period: None,
            touched: Vec::new(),
            skipped: false,
            seen: Vec::new(),
            stamp: 0,
        }
    }

    fn dim_id(col: &ColumnData, r: usize) -> u32 {
        match col {
            ColumnData::Text(ids) => ids[r],
            // Dimensions are always read as text (see `plan`); keep other kinds total.
            ColumnData::Number(v) => v[r].to_bits() as u32,
            ColumnData::Key(k) => k[r] as u32,
        }
    }

    /// Computes each row's slot for one pass, creating slots for new groups.
    fn assign(&mut self, q: &Query, batch: &Batch, as_of: i32, pass: usize, key_buf: &mut Vec<u32>) {
        self.slots.clear();
        self.touched.clear();
        self.skipped = false;
        self.stamp += 1;
        let packed = q.dims.len() <= PACKED_DIMS;
        for r in 0..batch.len {
            let day = batch.time[r];
            let period = if day > as_of { None } else { self.bucketer.period(day, pass) };
            let Some(p) = period else {
                self.slots.push(SKIP);
                self.skipped = true;
                continue;
            };
            let slot = if q.dims.len() == 1 {
                let id = Self::dim_id(&batch.columns[q.dims[0]], r);
                if self.direct_period != Some(p) {
                    self.direct_period = Some(p);
                    self.direct.clear();
                }
                match self.direct.get(id as usize) {
                    Some(&s) if s != SKIP => s,
                    _ => {
                        let s = self.slot_of_key((p as u32 as u128) << 96 | id as u128);
                        if id < DIRECT_IDS {
                            if self.direct.len() <= id as usize {
                                self.direct.resize(id as usize + 1, SKIP);
                            }
                            self.direct[id as usize] = s;
                        }
                        s
                    }
                }
            } else if packed {
                let mut key: u128 = (p as u32 as u128) << 96;
                for (k, &d) in q.dims.iter().enumerate() {
                    key |= (Self::dim_id(&batch.columns[d], r) as u128) << (32 * k);
                }
                self.slot_of_key(key)
            } else {
                key_buf.clear();
                key_buf.extend(q.dims.iter().map(|&d| Self::dim_id(&batch.columns[d], r)));
                self.slot_for(key_buf, p)
            };
            self.rows[slot as usize] += 1;
            if self.seen[slot as usize] != self.stamp {
                self.seen[slot as usize] = self.stamp;
                self.touched.push(slot);
            }
            self.slots.push(slot);
        }
    }

    /// The slot of a packed key, created if new.
    #[inline]
    fn slot_of_key(&mut self, key: u128) -> u32 {
        match self.map.get(&key) {
            Some(&s) => s,
            None => {
                let s = self.keys.len() as u32;
                self.map.insert(key, s);
                self.keys.push(key);
                self.rows.push(0);
                self.seen.push(0);
                self.aggs.iter_mut().for_each(AggAcc::push_slot);
                s
            }
        }
    }

    /// The slot of dimension ids and a period, created if new.
    fn slot_for(&mut self, ids: &[u32], p: i32) -> u32 {
        let mut key: u128 = (p as u32 as u128) << 96;
        if ids.len() <= PACKED_DIMS {
            for (k, &id) in ids.iter().enumerate() {
                key |= (id as u128) << (32 * k);
            }
        } else {
            let combo = match self.combos.get(ids) {
                Some(&c) => c,
                None => {
                    let c = self.combo_list.len() as u32;
                    self.combos.insert(ids.to_vec(), c);
                    self.combo_list.push(ids.to_vec());
                    c
                }
            };
            key |= combo as u128;
        }
        self.slot_of_key(key)
    }

    /// The dimension ids of a slot's key.
    fn dims_of(&self, key: u128, ndims: usize) -> Vec<u32> {
        if ndims <= PACKED_DIMS {
            (0..ndims).map(|k| (key >> (32 * k)) as u32).collect()
        } else {
            self.combo_list.get(key as u32 as usize).cloned().unwrap_or_default()
        }
    }
}

/// One reader thread's share of a scan: an accumulator per query.
struct Worker<'p> {
    plan: &'p DatasetPlan,
    accs: Vec<QueryAcc>,
    as_of: i32,
    key_buf: Vec<u32>,
}

impl<'p> Worker<'p> {
    fn new(plan: &'p DatasetPlan, as_of: i32) -> Self {
        Worker {
            plan,
            accs: plan.queries.iter().map(|q| QueryAcc::new(q, plan)).collect(),
            as_of,
            key_buf: Vec::new(),
        }
    }

    fn batch(&mut self, batch: &Batch, dicts: &[Dictionary]) {
        let plan = self.plan;
        let n = batch.len;
        let args: Vec<Option<Vals>> =
            plan.aggs.iter().map(|a| a.arg.as_ref().map(|e| eval_rows(e, batch, dicts))).collect();
        let filters: Vec<Option<Vec<u8>>> = plan
            .aggs
            .iter()
            .map(|a| a.filter.as_ref().map(|f| eval_rows(f, batch, dicts).into_bool(n)))
            .collect();
        for (q, acc) in plan.queries.iter().zip(self.accs.iter_mut()) {
            for pass in 0..acc.bucketer.passes() {
                acc.assign(q, batch, self.as_of, pass, &mut self.key_buf);
                let slots = std::mem::take(&mut acc.slots);
                let touched = (!acc.skipped).then_some(acc.touched.as_slice());
                for (j, &ai) in q.aggs.iter().enumerate() {
                    acc.aggs[j].update(
                        &slots,
                        touched,
                        args[ai].as_ref(),
                        filters[ai].as_deref(),
                        &batch.time,
                        n,
                        dicts,
                    );
                }
                acc.slots = slots;
            }
        }
    }

    /// Folds a later worker's groups into this one, re-interning its dimension values.
    fn merge(&mut self, dicts: &mut [Dictionary], other: Worker, other_dicts: &[Dictionary]) {
        for ((q, acc), mut theirs) in self.plan.queries.iter().zip(self.accs.iter_mut()).zip(other.accs) {
            for slot in 0..theirs.keys.len() {
                let k = theirs.keys[slot];
                let ids: Vec<u32> = theirs
                    .dims_of(k, q.dims.len())
                    .into_iter()
                    .zip(&q.dims)
                    .map(|(id, &d)| match other_dicts.get(d).and_then(|x| x.get(id)) {
                        Some(s) if id != NULL_ID => {
                            dicts.get_mut(d).map_or(NULL_ID, |x| x.intern(s.as_bytes()))
                        }
                        _ => NULL_ID,
                    })
                    .collect();
                let mine = acc.slot_for(&ids, (k >> 96) as u32 as i32);
                acc.rows[mine as usize] += theirs.rows[slot];
                for (a, b) in acc.aggs.iter_mut().zip(theirs.aggs.iter_mut()) {
                    a.merge_slot(mine as usize, b, slot);
                }
            }
        }
    }
}

/// Scans one dataset and computes every query of its plan, with one reader thread per
/// available core plus one (`KPI_THREADS` overrides).
pub fn scan_dataset(
    plan: &DatasetPlan,
    scanner: &dyn Scan,
    as_of: i32,
) -> Result<(Vec<Vec<AggRow>>, ScanStats), Diagnostic> {
    // One part more than cores: the parts of a file cost unequal work (rows per byte, the
    // distinct ids they hold), and a third part on two cores evens out when they finish
    // (measured: 10M rows, 2 cores, median 1.89 s with 2 parts, 1.72 s with 3).
    // `KPI_THREADS=N` sets the number of parts (1 = single-threaded).
    let threads = std::env::var("KPI_THREADS")
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .unwrap_or_else(|| match std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1) {
            1 => 1,
            n => n + 1,
        })
        .clamp(1, 64);
    scan_dataset_with(plan, scanner, as_of, threads)
}

/// [`scan_dataset`] with an explicit number of reader threads (1 = single-threaded).
pub fn scan_dataset_with(
    plan: &DatasetPlan,
    scanner: &dyn Scan,
    as_of: i32,
    threads: usize,
) -> Result<(Vec<Vec<AggRow>>, ScanStats), Diagnostic> {
    let Some(req) = &plan.read else {
        return Ok((plan.queries.iter().map(|_| Vec::new()).collect(), ScanStats::default()));
    };
    // A first scan may guess where the reader threads' parts start; when a guess was
    // wrong, the workers saw rows that are not the file's and the scan runs again exactly.
    let mut exact = false;
    let (workers, stats, mut dicts) = loop {
        let mut workers: Vec<Worker> = (0..threads.max(1)).map(|_| Worker::new(plan, as_of)).collect();
        let scanned = {
            let mut sinks: Vec<Box<super::source::ParSink<'_>>> = workers
                .iter_mut()
                .map(|w| {
                    Box::new(move |b: &Batch, d: &[Dictionary]| {
                        w.batch(b, d);
                        Ok(())
                    })
                        as Box<dyn FnMut(&Batch, &[Dictionary]) -> Result<(), Diagnostic> + Send + '_>
                })
                .collect();
            let refs: Vec<&mut super::source::ParSink<'_>> = sinks.iter_mut().map(|s| s.as_mut()).collect();
            scanner.scan_parallel(req, refs, exact)?
        };
        match scanned {
            super::source::ParScan::Done(stats, dicts) => break (workers, stats, dicts),
            super::source::ParScan::Misaligned if !exact => exact = true,
            super::source::ParScan::Misaligned => {
                return Err(Diagnostic::error(
                    crate::diagnostic::Code::SourceUnreadable,
                    format!(
                        "{}: the parallel reader could not split the file into parts",
                        req.path.display()
                    ),
                )
                .with_help("run with KPI_THREADS=1 and report this as a bug"))
            }
        }
    };
    // Merge in file order so that `first`/`last` ties resolve as in one pass.
    let mut it = workers.into_iter().zip(dicts.drain(..));
    let Some((mut first, mut first_dicts)) = it.next() else {
        return Ok((plan.queries.iter().map(|_| Vec::new()).collect(), stats));
    };
    for (w, d) in it {
        first.merge(&mut first_dicts, w, &d);
    }
    let mut out = Vec::new();
    for (q, mut acc) in plan.queries.iter().zip(first.accs) {
        let mut rows = Vec::with_capacity(acc.keys.len());
        for slot in 0..acc.keys.len() {
            let k = acc.keys[slot];
            let ids = acc.dims_of(k, q.dims.len());
            let key = q
                .dims
                .iter()
                .zip(ids)
                .map(|(&d, id)| {
                    if id == NULL_ID {
                        None
                    } else {
                        first_dicts.get(d).and_then(|dict| dict.get(id)).map(str::to_string)
                    }
                })
                .collect();
            let period = (k >> 96) as u32 as i32;
            let values = acc
                .aggs
                .iter_mut()
                .zip(&q.aggs)
                .map(|(a, &ai)| a.finish(slot, plan.aggs[ai].param))
                .collect();
            rows.push(AggRow { key, period, rows: acc.rows[slot], values });
        }
        out.push(rows);
    }
    Ok((out, stats))
}

fn text_of<'a>(v: &'a Vals, row: usize, dicts: &'a [Dictionary]) -> Option<&'a str> {
    match v {
        Vals::Text(ids, c) => {
            let id = ids[row];
            if id == NULL_ID {
                None
            } else {
                dicts.get(*c).and_then(|d| d.get(id))
            }
        }
        Vals::ConstText(s) => Some(s.as_str()),
        _ => None,
    }
}

fn const_vals(c: &Const, n: usize) -> Vals<'static> {
    match c {
        Const::Number(x) => Vals::Num(Cow::Owned(vec![*x; n])),
        Const::Date(d) => Vals::Num(Cow::Owned(vec![*d as f64; n])),
        Const::Bool(b) => Vals::Bool(Cow::Owned(vec![u8::from(*b); n])),
        Const::Text(s) => Vals::ConstText(s.clone()),
        Const::Null => Vals::Null,
    }
}

/// Compares two columns of numbers row by row (0/1, 2 if either is null), one loop per
/// operator so that each is vectorised.
fn compare_nums(op: BinOp, x: &[f64], y: &[f64]) -> Vec<u8> {
    fn each(x: &[f64], y: &[f64], test: impl Fn(f64, f64) -> bool) -> Vec<u8> {
        x.iter()
            .zip(y)
            .map(|(&p, &q)| if p.is_nan() || q.is_nan() { NB } else { u8::from(test(p, q)) })
            .collect()
    }
    match op {
        BinOp::Eq => each(x, y, |p, q| p == q),
        BinOp::Ne => each(x, y, |p, q| p != q),
        BinOp::Lt => each(x, y, |p, q| p < q),
        BinOp::Le => each(x, y, |p, q| p <= q),
        BinOp::Gt => each(x, y, |p, q| p > q),
        BinOp::Ge => each(x, y, |p, q| p >= q),
        _ => each(x, y, |_, _| false),
    }
}

/// Compares two values row by row; returns 0/1/2.
fn compare(op: BinOp, a: &Vals, b: &Vals, n: usize, dicts: &[Dictionary]) -> Vec<u8> {
    let test = |o: std::cmp::Ordering| -> u8 {
        use std::cmp::Ordering::*;
        u8::from(match op {
            BinOp::Eq => o == Equal,
            BinOp::Ne => o != Equal,
            BinOp::Lt => o == Less,
            BinOp::Le => o != Greater,
            BinOp::Gt => o == Greater,
            BinOp::Ge => o != Less,
            _ => false,
        })
    };
    match (a, b) {
        (Vals::Null, _) | (_, Vals::Null) => vec![NB; n],
        (Vals::Num(x), Vals::Num(y)) => compare_nums(op, x, y),
        (Vals::Bool(x), Vals::Bool(y)) => x
            .iter()
            .zip(y.iter())
            .map(|(&p, &q)| if p == NB || q == NB { NB } else { test(p.cmp(&q)) })
            .collect(),
        (Vals::Text(ids, c), Vals::ConstText(s)) | (Vals::ConstText(s), Vals::Text(ids, c))
            if matches!(op, BinOp::Eq | BinOp::Ne) =>
        {
            // Compare ids: the constant is looked up once per batch.
            // An absent constant equals no id: NULL_ID stands for it, as nulls are tested first.
            let want = dicts.get(*c).and_then(|d| d.lookup(s)).unwrap_or(NULL_ID);
            let ne = u8::from(op == BinOp::Ne);
            ids.iter().map(|&id| if id == NULL_ID { NB } else { u8::from(id == want) ^ ne }).collect()
        }
        _ => (0..n)
            .map(|r| match (text_of(a, r, dicts), text_of(b, r, dicts)) {
                (Some(p), Some(q)) => test(p.cmp(q)),
                _ => NB,
            })
            .collect(),
    }
}

fn eval_rows<'a>(e: &RowExpr, batch: &'a Batch, dicts: &[Dictionary]) -> Vals<'a> {
    let n = batch.len;
    match e {
        RowExpr::Column(i, _) => match &batch.columns[*i] {
            ColumnData::Number(v) => Vals::Num(Cow::Borrowed(v)),
            ColumnData::Text(ids) => Vals::Text(Cow::Borrowed(ids), *i),
            ColumnData::Key(k) => Vals::Key(Cow::Borrowed(k)),
        },
        RowExpr::Time => Vals::Num(Cow::Owned(batch.time.iter().map(|&d| d as f64).collect())),
        RowExpr::Const(c) => const_vals(c, n),
        RowExpr::Unary(UnaryOp::Neg, x) => {
            Vals::Num(Cow::Owned(eval_rows(x, batch, dicts).to_num(n).iter().map(|v| -v).collect()))
        }
        RowExpr::Unary(UnaryOp::Not, x) => Vals::Bool(Cow::Owned(
            eval_rows(x, batch, dicts).to_bool(n).iter().map(|&b| if b == NB { NB } else { 1 - b }).collect(),
        )),
        RowExpr::Binary(op, a, b) => {
            let (va, vb) = (eval_rows(a, batch, dicts), eval_rows(b, batch, dicts));
            match op {
                BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div => {
                    let (x, y) = (va.to_num(n), vb.to_num(n));
                    // One loop per operator, so that each is vectorised.
                    fn each(x: &[f64], y: &[f64], f: impl Fn(f64, f64) -> f64) -> Vec<f64> {
                        x.iter().zip(y).map(|(&p, &q)| f(p, q)).collect()
                    }
                    Vals::Num(Cow::Owned(match op {
                        BinOp::Add => each(&x, &y, |p, q| p + q),
                        BinOp::Sub => each(&x, &y, |p, q| p - q),
                        BinOp::Mul => each(&x, &y, |p, q| p * q),
                        _ => each(&x, &y, |p, q| arith(BinOp::Div, p, q)),
                    }))
                }
                BinOp::And | BinOp::Or => {
                    let (x, y) = (va.to_bool(n), vb.to_bool(n));
                    Vals::Bool(Cow::Owned(x.iter().zip(y.iter()).map(|(&p, &q)| logic(*op, p, q)).collect()))
                }
                _ => Vals::Bool(Cow::Owned(compare(*op, &va, &vb, n, dicts))),
            }
        }
        RowExpr::In(x, list, negated) => {
            let vx = eval_rows(x, batch, dicts);
            let mut acc = vec![0u8; n];
            for item in list {
                let vi = eval_rows(item, batch, dicts);
                let eq = compare(BinOp::Eq, &vx, &vi, n, dicts);
                for (a, e) in acc.iter_mut().zip(eq) {
                    *a = logic(BinOp::Or, *a, e);
                }
            }
            if *negated {
                acc.iter_mut().for_each(|b| *b = if *b == NB { NB } else { 1 - *b });
            }
            Vals::Bool(Cow::Owned(acc))
        }
        RowExpr::Between(x, lo, hi, negated) => {
            let vx = eval_rows(x, batch, dicts);
            let ge = compare(BinOp::Ge, &vx, &eval_rows(lo, batch, dicts), n, dicts);
            let le = compare(BinOp::Le, &vx, &eval_rows(hi, batch, dicts), n, dicts);
            Vals::Bool(Cow::Owned(
                ge.iter()
                    .zip(&le)
                    .map(|(&a, &b)| {
                        let r = logic(BinOp::And, a, b);
                        if *negated && r != NB {
                            1 - r
                        } else {
                            r
                        }
                    })
                    .collect(),
            ))
        }
        RowExpr::Call(f, args) => {
            let vals: Vec<Vals> = args.iter().map(|a| eval_rows(a, batch, dicts)).collect();
            call_rows(*f, vals, n, dicts)
        }
    }
}

fn call_rows<'a>(f: ScalarFn, vals: Vec<Vals<'a>>, n: usize, dicts: &[Dictionary]) -> Vals<'a> {
    match f {
        ScalarFn::If => {
            let mut it = vals.into_iter();
            let (Some(c), Some(a), Some(b)) = (it.next(), it.next(), it.next()) else { return Vals::Null };
            let c = c.to_bool(n);
            match (&a, &b) {
                (Vals::Bool(_), _) | (_, Vals::Bool(_)) => {
                    let (x, y) = (a.to_bool(n), b.to_bool(n));
                    Vals::Bool(Cow::Owned((0..n).map(|r| if c[r] == 1 { x[r] } else { y[r] }).collect()))
                }
                (Vals::Text(..) | Vals::ConstText(_), _) | (_, Vals::Text(..) | Vals::ConstText(_)) => {
                    // A text result is only compared or counted: keep its distinct key.
                    Vals::Key(Cow::Owned(
                        (0..n)
                            .map(|r| {
                                let v = if c[r] == 1 { &a } else { &b };
                                text_of(v, r, dicts).map_or(NULL_KEY, |s| key_of_bytes(s.as_bytes()))
                            })
                            .collect(),
                    ))
                }
                _ => {
                    let (x, y) = (a.to_num(n), b.to_num(n));
                    Vals::Num(Cow::Owned((0..n).map(|r| if c[r] == 1 { x[r] } else { y[r] }).collect()))
                }
            }
        }
        ScalarFn::Coalesce => {
            if vals.iter().any(|v| matches!(v, Vals::Text(..) | Vals::ConstText(_))) {
                return Vals::Key(Cow::Owned(
                    (0..n)
                        .map(|r| {
                            vals.iter()
                                .find_map(|v| text_of(v, r, dicts))
                                .map_or(NULL_KEY, |s| key_of_bytes(s.as_bytes()))
                        })
                        .collect(),
                ));
            }
            let nums: Vec<Cow<[f64]>> = vals.iter().map(|v| v.to_num(n)).collect();
            Vals::Num(Cow::Owned(
                (0..n).map(|r| nums.iter().map(|c| c[r]).find(|x| !x.is_nan()).unwrap_or(f64::NAN)).collect(),
            ))
        }
        _ => {
            let nums: Vec<Cow<[f64]>> = vals.iter().map(|v| v.to_num(n)).collect();
            let mut row = vec![0.0; nums.len()];
            Vals::Num(Cow::Owned(
                (0..n)
                    .map(|r| {
                        for (slot, c) in row.iter_mut().zip(&nums) {
                            *slot = c[r];
                        }
                        scalar(f, &row)
                    })
                    .collect(),
            ))
        }
    }
}

/// SQL arithmetic on floats with NaN as null; division by zero is null.
#[inline]
pub fn arith(op: BinOp, a: f64, b: f64) -> f64 {
    match op {
        BinOp::Add => a + b,
        BinOp::Sub => a - b,
        BinOp::Mul => a * b,
        BinOp::Div => {
            if b == 0.0 {
                f64::NAN
            } else {
                a / b
            }
        }
        _ => f64::NAN,
    }
}

/// Three-valued `and`/`or` on 0/1/2.
#[inline]
pub fn logic(op: BinOp, a: u8, b: u8) -> u8 {
    match op {
        BinOp::And => {
            if a == 0 || b == 0 {
                0
            } else if a == NB || b == NB {
                NB
            } else {
                1
            }
        }
        _ => {
            if a == 1 || b == 1 {
                1
            } else if a == NB || b == NB {
                NB
            } else {
                0
            }
        }
    }
}

/// A numeric scalar function on one row's arguments (NaN = null).
pub fn scalar(f: ScalarFn, a: &[f64]) -> f64 {
    let x = a.first().copied().unwrap_or(f64::NAN);
    match f {
        ScalarFn::Abs => x.abs(),
        ScalarFn::Round => {
            let d = a.get(1).copied().unwrap_or(0.0);
            if d.is_nan() {
                return f64::NAN;
            }
            let m = 10f64.powi(d as i32);
            (x * m).round() / m
        }
        ScalarFn::Floor => x.floor(),
        ScalarFn::Ceil => x.ceil(),
        ScalarFn::Sqrt => {
            if x < 0.0 {
                f64::NAN
            } else {
                x.sqrt()
            }
        }
        ScalarFn::Ln => {
            if x <= 0.0 {
                f64::NAN
            } else {
                x.ln()
            }
        }
        ScalarFn::Coalesce => a.iter().copied().find(|v| !v.is_nan()).unwrap_or(f64::NAN),
        ScalarFn::Greatest => {
            a.iter()
                .copied()
                .filter(|v| !v.is_nan())
                .fold(f64::NAN, |m, v| if m.is_nan() || v > m { v } else { m })
        }
        ScalarFn::Least => {
            a.iter()
                .copied()
                .filter(|v| !v.is_nan())
                .fold(f64::NAN, |m, v| if m.is_nan() || v < m { v } else { m })
        }
        ScalarFn::If => f64::NAN,
    }
}
