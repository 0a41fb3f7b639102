//! The aggregate kernels: one streaming pass over a dataset computes every aggregate of
//! every query of its plan. Row expressions and filters are evaluated column-wise per batch.

use super::batch::{Batch, ColumnData, Dictionary, NULL_ID};
use super::source::{Scan, ScanStats};
use crate::calendar::Grain;
use crate::check::{AggFn, Const, RowExpr, ScalarFn};
use crate::diagnostic::Diagnostic;
use crate::plan::{AggRow, Bucketing, DatasetPlan};
use crate::syntax::ast::{BinOp, UnaryOp};
use std::collections::{HashMap, HashSet};

/// Values of a row expression over a batch.
enum Vals {
    /// Numbers (and dates as day numbers); NaN = null.
    Num(Vec<f64>),
    /// 0 false, 1 true, 2 null.
    Bool(Vec<u8>),
    /// Text ids of column `col`'s dictionary.
    Text(Vec<u32>, usize),
    /// A constant text.
    ConstText(String),
    /// All null.
    Null,
}

const NB: u8 = 2;

#[derive(Debug, Clone)]
enum State {
    Sum { s: f64, any: bool },
    Avg { s: f64, n: u64 },
    Min(f64),
    Max(f64),
    Count(u64),
    Distinct(HashSet<u64>),
    First { t: i32, v: f64 },
    Last { t: i32, v: f64 },
    Values(Vec<f64>),
}

impl State {
    fn new(f: AggFn) -> State {
        match f {
            AggFn::Sum => State::Sum { s: 0.0, any: false },
            AggFn::Avg => State::Avg { s: 0.0, n: 0 },
            AggFn::Min => State::Min(f64::NAN),
            AggFn::Max => State::Max(f64::NAN),
            AggFn::Count => State::Count(0),
            AggFn::CountDistinct => State::Distinct(HashSet::new()),
            AggFn::First => State::First { t: i32::MAX, v: f64::NAN },
            AggFn::Last => State::Last { t: i32::MIN, v: f64::NAN },
            AggFn::Median | AggFn::Percentile => State::Values(Vec::new()),
        }
    }

    fn finish(&mut self, param: f64) -> f64 {
        match self {
            State::Sum { s, any } => {
                if *any {
                    *s
                } else {
                    f64::NAN
                }
            }
            State::Avg { s, n } => {
                if *n > 0 {
                    *s / *n as f64
                } else {
                    f64::NAN
                }
            }
            State::Min(v) | State::Max(v) => *v,
            State::Count(n) => *n as f64,
            State::Distinct(set) => set.len() as f64,
            State::First { v, .. } | State::Last { v, .. } => *v,
            State::Values(vs) => {
                if vs.is_empty() {
                    return f64::NAN;
                }
                vs.sort_by(|a, b| a.total_cmp(b));
                let pos = param * (vs.len() - 1) as f64;
                let lo = pos.floor() as usize;
                let hi = pos.ceil() as usize;
                let frac = pos - lo as f64;
                vs[lo] + (vs[hi] - vs[lo]) * frac
            }
        }
    }
}

struct QueryState {
    slots: HashMap<Vec<u32>, usize>,
    keys: Vec<Vec<u32>>,
    rows: Vec<u64>,
    states: Vec<State>,
}

/// Scans one dataset and computes every query of its plan.
pub fn scan_dataset(
    plan: &DatasetPlan,
    scanner: &dyn Scan,
    as_of: i32,
) -> Result<(Vec<Vec<AggRow>>, ScanStats), Diagnostic> {
    let Some(req) = &plan.read else {
        return Ok((plan.queries.iter().map(|_| Vec::new()).collect(), ScanStats::default()));
    };
    let mut qstates: Vec<QueryState> = plan
        .queries
        .iter()
        .map(|_| QueryState { slots: HashMap::new(), keys: Vec::new(), rows: Vec::new(), states: Vec::new() })
        .collect();
    let mut last_dicts: Vec<Dictionary> = Vec::new();
    let mut key = Vec::new();
    let mut periods: Vec<i32> = Vec::new();
    let stats = scanner.scan(req, &mut |batch: &Batch, dicts: &[Dictionary]| {
        // Evaluate each aggregate's argument and filter once per batch.
        let mut args: Vec<Option<Vals>> = Vec::with_capacity(plan.aggs.len());
        let mut filters: Vec<Option<Vec<u8>>> = Vec::with_capacity(plan.aggs.len());
        for a in &plan.aggs {
            args.push(a.arg.as_ref().map(|e| eval_rows(e, batch, dicts)));
            filters.push(a.filter.as_ref().map(|f| to_bool(eval_rows(f, batch, dicts), batch.len)));
        }
        for (q, qs) in plan.queries.iter().zip(qstates.iter_mut()) {
            for row in 0..batch.len {
                let day = batch.time[row];
                if day > as_of {
                    continue;
                }
                periods.clear();
                match &q.buckets {
                    Bucketing::Grain(g) => periods.push(period(*g, day)),
                    Bucketing::Ranges(rs) => {
                        for (i, r) in rs.iter().enumerate() {
                            if day >= r.start && day <= r.end {
                                periods.push(i as i32);
                            }
                        }
                    }
                }
                for &p in &periods {
                    key.clear();
                    for &d in &q.dims {
                        key.push(match &batch.columns[d] {
                            ColumnData::Text(ids) => ids[row],
                            ColumnData::Number(v) => v[row].to_bits() as u32,
                        });
                    }
                    key.push(p as u32);
                    let slot = match qs.slots.get(key.as_slice()) {
                        Some(&s) => s,
                        None => {
                            let s = qs.keys.len();
                            qs.slots.insert(key.clone(), s);
                            qs.keys.push(key.clone());
                            qs.rows.push(0);
                            for &ai in &q.aggs {
                                qs.states.push(State::new(plan.aggs[ai].func));
                            }
                            s
                        }
                    };
                    qs.rows[slot] += 1;
                    let base = slot * q.aggs.len();
                    for (j, &ai) in q.aggs.iter().enumerate() {
                        if let Some(f) = &filters[ai] {
                            if f[row] != 1 {
                                continue;
                            }
                        }
                        update(&mut qs.states[base + j], args[ai].as_ref(), row, day);
                    }
                }
            }
        }
        if last_dicts.len() != dicts.len() || dicts.iter().zip(&last_dicts).any(|(a, b)| a.len() != b.len()) {
            last_dicts = dicts.to_vec();
        }
        Ok(())
    })?;
    let mut out = Vec::new();
    for (q, mut qs) in plan.queries.iter().zip(qstates) {
        let n = q.aggs.len();
        let mut rows = Vec::with_capacity(qs.keys.len());
        for (slot, k) in qs.keys.iter().enumerate() {
            let key = q
                .dims
                .iter()
                .zip(k.iter())
                .map(|(&d, &id)| {
                    if id == NULL_ID {
                        None
                    } else {
                        last_dicts.get(d).and_then(|dict| dict.get(id)).map(str::to_string)
                    }
                })
                .collect();
            let period = *k.last().unwrap_or(&0) as i32;
            let values = (0..n).map(|j| qs.states[slot * n + j].finish(plan.aggs[q.aggs[j]].param)).collect();
            rows.push(AggRow { key, period, rows: qs.rows[slot], values });
        }
        qs.states.clear();
        out.push(rows);
    }
    Ok((out, stats))
}

#[inline]
fn period(g: Grain, day: i32) -> i32 {
    g.period_of(day)
}

fn update(st: &mut State, arg: Option<&Vals>, row: usize, day: i32) {
    let (num, distinct_key): (f64, Option<u64>) = match arg {
        None => (0.0, None),
        Some(Vals::Num(v)) => {
            let x = v[row];
            (x, (!x.is_nan()).then(|| if x == 0.0 { 0 } else { x.to_bits() }))
        }
        Some(Vals::Bool(v)) => {
            let b = v[row];
            (if b == NB { f64::NAN } else { b as f64 }, (b != NB).then_some(b as u64))
        }
        Some(Vals::Text(ids, _)) => {
            let id = ids[row];
            (if id == NULL_ID { f64::NAN } else { 0.0 }, (id != NULL_ID).then_some(id as u64))
        }
        Some(Vals::ConstText(_)) => (0.0, Some(0)),
        Some(Vals::Null) => (f64::NAN, None),
    };
    let is_null = arg.is_some() && num.is_nan();
    match st {
        State::Count(n) => {
            if !is_null {
                *n += 1;
            }
        }
        State::Distinct(set) => {
            if let Some(k) = distinct_key {
                set.insert(k);
            }
        }
        _ if is_null => {}
        State::Sum { s, any } => {
            *s += num;
            *any = true;
        }
        State::Avg { s, n } => {
            *s += num;
            *n += 1;
        }
        State::Min(m) => {
            if m.is_nan() || num < *m {
                *m = num;
            }
        }
        State::Max(m) => {
            if m.is_nan() || num > *m {
                *m = num;
            }
        }
        State::First { t, v } => {
            if day < *t {
                *t = day;
                *v = num;
            }
        }
        State::Last { t, v } => {
            if day >= *t {
                *t = day;
                *v = num;
            }
        }
        State::Values(vs) => vs.push(num),
    }
}

fn to_bool(v: Vals, n: usize) -> Vec<u8> {
    match v {
        Vals::Bool(b) => b,
        Vals::Null => vec![NB; n],
        Vals::Num(x) => x.iter().map(|v| if v.is_nan() { NB } else { u8::from(*v != 0.0) }).collect(),
        _ => vec![NB; n],
    }
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

fn const_vals(c: &Const, n: usize) -> Vals {
    match c {
        Const::Number(x) => Vals::Num(vec![*x; n]),
        Const::Date(d) => Vals::Num(vec![*d as f64; n]),
        Const::Bool(b) => Vals::Bool(vec![u8::from(*b); n]),
        Const::Text(s) => Vals::ConstText(s.clone()),
        Const::Null => Vals::Null,
    }
}

fn num_vec(v: Vals, n: usize) -> Vec<f64> {
    match v {
        Vals::Num(x) => x,
        Vals::Bool(b) => b.iter().map(|&x| if x == NB { f64::NAN } else { x as f64 }).collect(),
        _ => vec![f64::NAN; n],
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
        (Vals::Num(x), Vals::Num(y)) => x
            .iter()
            .zip(y)
            .map(|(p, q)| match p.partial_cmp(q) {
                Some(o) => test(o),
                None => NB,
            })
            .collect(),
        (Vals::Bool(x), Vals::Bool(y)) => {
            x.iter().zip(y).map(|(&p, &q)| if p == NB || q == NB { NB } else { test(p.cmp(&q)) }).collect()
        }
        (Vals::Text(ids, c), Vals::ConstText(s)) | (Vals::ConstText(s), Vals::Text(ids, c))
            if matches!(op, BinOp::Eq | BinOp::Ne) =>
        {
            let want = dicts.get(*c).and_then(|d| d.lookup(s));
            ids.iter()
                .map(|&id| {
                    if id == NULL_ID {
                        NB
                    } else {
                        let eq = Some(id) == want;
                        u8::from(if op == BinOp::Eq { eq } else { !eq })
                    }
                })
                .collect()
        }
        _ => (0..n)
            .map(|r| match (text_of(a, r, dicts), text_of(b, r, dicts)) {
                (Some(p), Some(q)) => test(p.cmp(q)),
                _ => NB,
            })
            .collect(),
    }
}

fn eval_rows(e: &RowExpr, batch: &Batch, dicts: &[Dictionary]) -> Vals {
    let n = batch.len;
    match e {
        RowExpr::Column(i, _) => match &batch.columns[*i] {
            ColumnData::Number(v) => Vals::Num(v.clone()),
            ColumnData::Text(ids) => Vals::Text(ids.clone(), *i),
        },
        RowExpr::Time => Vals::Num(batch.time.iter().map(|&d| d as f64).collect()),
        RowExpr::Const(c) => const_vals(c, n),
        RowExpr::Unary(UnaryOp::Neg, x) => {
            Vals::Num(num_vec(eval_rows(x, batch, dicts), n).into_iter().map(|v| -v).collect())
        }
        RowExpr::Unary(UnaryOp::Not, x) => Vals::Bool(
            to_bool(eval_rows(x, batch, dicts), n)
                .into_iter()
                .map(|b| if b == NB { NB } else { 1 - b })
                .collect(),
        ),
        RowExpr::Binary(op, a, b) => {
            let (va, vb) = (eval_rows(a, batch, dicts), eval_rows(b, batch, dicts));
            match op {
                BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div => {
                    let (x, y) = (num_vec(va, n), num_vec(vb, n));
                    Vals::Num(x.iter().zip(&y).map(|(&p, &q)| arith(*op, p, q)).collect())
                }
                BinOp::And | BinOp::Or => {
                    let (x, y) = (to_bool(va, n), to_bool(vb, n));
                    Vals::Bool(x.iter().zip(&y).map(|(&p, &q)| logic(*op, p, q)).collect())
                }
                _ => Vals::Bool(compare(*op, &va, &vb, n, dicts)),
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
            Vals::Bool(acc)
        }
        RowExpr::Between(x, lo, hi, negated) => {
            let vx = eval_rows(x, batch, dicts);
            let ge = compare(BinOp::Ge, &vx, &eval_rows(lo, batch, dicts), n, dicts);
            let le = compare(BinOp::Le, &vx, &eval_rows(hi, batch, dicts), n, dicts);
            Vals::Bool(
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
            )
        }
        RowExpr::Call(f, args) => {
            let vals: Vec<Vals> = args.iter().map(|a| eval_rows(a, batch, dicts)).collect();
            call_rows(*f, vals, n)
        }
    }
}

fn call_rows(f: ScalarFn, mut vals: Vec<Vals>, n: usize) -> Vals {
    match f {
        ScalarFn::If => {
            let mut it = vals.drain(..);
            let (c, a, b) = match (it.next(), it.next(), it.next()) {
                (Some(c), Some(a), Some(b)) => (c, a, b),
                _ => return Vals::Null,
            };
            let c = to_bool(c, n);
            match (&a, &b) {
                (Vals::Num(_) | Vals::Null, Vals::Num(_) | Vals::Null) => {
                    let (x, y) = (num_vec(a, n), num_vec(b, n));
                    Vals::Num((0..n).map(|r| if c[r] == 1 { x[r] } else { y[r] }).collect())
                }
                (Vals::Bool(_) | Vals::Null, Vals::Bool(_) | Vals::Null) => {
                    let (x, y) = (to_bool(a, n), to_bool(b, n));
                    Vals::Bool((0..n).map(|r| if c[r] == 1 { x[r] } else { y[r] }).collect())
                }
                _ => {
                    // Text branches: materialise through the first dictionary-backed side.
                    Vals::Null
                }
            }
        }
        ScalarFn::Coalesce => {
            let mut nums: Vec<Vec<f64>> = Vec::new();
            let all_num = vals.iter().all(|v| matches!(v, Vals::Num(_) | Vals::Null));
            if !all_num {
                return vals.into_iter().find(|v| !matches!(v, Vals::Null)).unwrap_or(Vals::Null);
            }
            for v in vals {
                nums.push(num_vec(v, n));
            }
            Vals::Num(
                (0..n).map(|r| nums.iter().map(|c| c[r]).find(|x| !x.is_nan()).unwrap_or(f64::NAN)).collect(),
            )
        }
        _ => {
            let nums: Vec<Vec<f64>> = vals.into_iter().map(|v| num_vec(v, n)).collect();
            Vals::Num((0..n).map(|r| scalar(f, &nums.iter().map(|c| c[r]).collect::<Vec<_>>())).collect())
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
