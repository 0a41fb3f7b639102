//! KPI values over the aggregate table: per (bucketing, KPI), per group and period.

use super::grain_of;
use crate::check::{Const, KpiExpr, Model, TimeFn};
use crate::engine::aggregate::{arith, logic, scalar};
use crate::plan::{AggTable, Bucketing, Plan};
use crate::syntax::ast::{BinOp, UnaryOp};
use std::collections::{BTreeMap, HashMap};

/// A group: dimension values in the KPI's `by` order (`None` = null).
pub type GroupKey = Vec<Option<String>>;

/// One KPI's values at one bucketing: group → period → value (NaN = null).
#[derive(Debug, Clone, Default)]
pub struct Series {
    /// Values; only (group, period) pairs with rows in the KPI's dataset.
    pub values: BTreeMap<GroupKey, BTreeMap<i32, f64>>,
    /// Division by zero count (for notes).
    pub div_by_zero: u64,
}

/// Every KPI's series at every bucketing needed.
#[derive(Debug, Default)]
pub struct KpiValues {
    /// (bucketing, KPI) → series.
    pub series: HashMap<(String, usize), Series>,
}

impl KpiValues {
    /// The series of KPI `k` at `b`.
    pub fn get(&self, b: &Bucketing, k: usize) -> Option<&Series> {
        self.series.get(&(format!("{b:?}"), k))
    }
}

/// A value at KPI level.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A number (NaN = null).
    Num(f64),
    /// A boolean (None = null).
    Bool(Option<bool>),
    /// Text.
    Text(String),
}

impl Value {
    fn num(&self) -> f64 {
        match self {
            Value::Num(x) => *x,
            Value::Bool(Some(b)) => f64::from(u8::from(*b)),
            _ => f64::NAN,
        }
    }
    fn tri(&self) -> u8 {
        match self {
            Value::Bool(Some(b)) => u8::from(*b),
            Value::Num(x) if !x.is_nan() => u8::from(*x != 0.0),
            _ => 2,
        }
    }
    fn is_null(&self) -> bool {
        match self {
            Value::Num(x) => x.is_nan(),
            Value::Bool(b) => b.is_none(),
            Value::Text(_) => false,
        }
    }
}

struct Ctx<'a> {
    model: &'a Model,
    bucketing: &'a Bucketing,
    /// Per KPI: (key, period) → aggregate values in KPI agg order.
    aggs: &'a HashMap<usize, HashMap<(GroupKey, i32), Vec<f64>>>,
    done: &'a HashMap<usize, Series>,
    baseline: f64,
    div0: u64,
}

impl Ctx<'_> {
    fn eval(&mut self, k: usize, e: &KpiExpr, key: &GroupKey, p: i32) -> Value {
        match e {
            KpiExpr::Const(c) => match c {
                Const::Number(x) => Value::Num(*x),
                Const::Bool(b) => Value::Bool(Some(*b)),
                Const::Text(s) => Value::Text(s.clone()),
                Const::Date(d) => Value::Num(*d as f64),
                Const::Null => Value::Num(f64::NAN),
            },
            KpiExpr::Baseline => Value::Num(self.baseline),
            KpiExpr::Agg(i) => {
                let v = self
                    .aggs
                    .get(&k)
                    .and_then(|m| m.get(&(key.clone(), p)))
                    .and_then(|vs| vs.get(*i))
                    .copied();
                Value::Num(v.unwrap_or(f64::NAN))
            }
            KpiExpr::Kpi(j) => {
                let by = &self.model.kpis[k].by;
                let dep_by = &self.model.kpis[*j].by;
                let sub: GroupKey = dep_by
                    .iter()
                    .map(|d| by.iter().position(|b| b == d).and_then(|i| key.get(i).cloned()).flatten())
                    .collect();
                let v = self.done.get(j).and_then(|s| s.values.get(&sub)).and_then(|m| m.get(&p)).copied();
                Value::Num(v.unwrap_or(f64::NAN))
            }
            KpiExpr::Unary(UnaryOp::Neg, x) => Value::Num(-self.eval(k, x, key, p).num()),
            KpiExpr::Unary(UnaryOp::Not, x) => {
                let t = self.eval(k, x, key, p).tri();
                Value::Bool(if t == 2 { None } else { Some(t == 0) })
            }
            KpiExpr::Binary(op, a, b) => {
                let va = self.eval(k, a, key, p);
                let vb = self.eval(k, b, key, p);
                match op {
                    BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div => {
                        let (x, y) = (va.num(), vb.num());
                        if *op == BinOp::Div && y == 0.0 && !x.is_nan() {
                            self.div0 += 1;
                        }
                        Value::Num(arith(*op, x, y))
                    }
                    BinOp::And | BinOp::Or => tri_value(logic(*op, va.tri(), vb.tri())),
                    _ => compare(*op, &va, &vb),
                }
            }
            KpiExpr::In(x, list, negated) => {
                let vx = self.eval(k, x, key, p);
                let mut acc = 0u8;
                for it in list {
                    let vi = self.eval(k, it, key, p);
                    acc = logic(BinOp::Or, acc, to_tri(&compare(BinOp::Eq, &vx, &vi)));
                }
                if *negated && acc != 2 {
                    acc = 1 - acc;
                }
                tri_value(acc)
            }
            KpiExpr::Between(x, lo, hi, negated) => {
                let vx = self.eval(k, x, key, p);
                let ge = to_tri(&compare(BinOp::Ge, &vx, &self.eval(k, lo, key, p)));
                let le = to_tri(&compare(BinOp::Le, &vx, &self.eval(k, hi, key, p)));
                let mut r = logic(BinOp::And, ge, le);
                if *negated && r != 2 {
                    r = 1 - r;
                }
                tri_value(r)
            }
            KpiExpr::Call(f, args) => {
                use crate::check::ScalarFn;
                match f {
                    ScalarFn::If => {
                        let c = args.first().map(|a| self.eval(k, a, key, p).tri()).unwrap_or(2);
                        let pick = if c == 1 { 1 } else { 2 };
                        args.get(pick).map(|a| self.eval(k, a, key, p)).unwrap_or(Value::Num(f64::NAN))
                    }
                    ScalarFn::Coalesce => {
                        for a in args {
                            let v = self.eval(k, a, key, p);
                            if !v.is_null() {
                                return v;
                            }
                        }
                        Value::Num(f64::NAN)
                    }
                    _ => {
                        let xs: Vec<f64> = args.iter().map(|a| self.eval(k, a, key, p).num()).collect();
                        Value::Num(scalar(*f, &xs))
                    }
                }
            }
            KpiExpr::Time(f, x, n) => {
                if grain_of(self.bucketing).is_none() {
                    return Value::Num(f64::NAN);
                }
                let n = *n as i32;
                let has =
                    |s: &Self, q: i32| s.aggs.get(&k).is_some_and(|m| m.contains_key(&(key.clone(), q)));
                let at = |s: &mut Self, q: i32| -> f64 {
                    if has(s, q) {
                        s.eval(k, x, key, q).num()
                    } else {
                        f64::NAN
                    }
                };
                Value::Num(match f {
                    TimeFn::Previous => at(self, p - n),
                    TimeFn::Change => at(self, p) - at(self, p - 1),
                    TimeFn::Growth => {
                        let (c, prev) = (at(self, p), at(self, p - 1));
                        if prev == 0.0 {
                            self.div0 += 1;
                        }
                        arith(BinOp::Div, c, prev) - 1.0
                    }
                    TimeFn::RollingSum | TimeFn::RollingAvg => {
                        let vals: Vec<f64> =
                            (p - n + 1..=p).map(|q| at(self, q)).filter(|v| !v.is_nan()).collect();
                        if vals.is_empty() {
                            f64::NAN
                        } else if *f == TimeFn::RollingSum {
                            vals.iter().sum()
                        } else {
                            vals.iter().sum::<f64>() / vals.len() as f64
                        }
                    }
                    TimeFn::Cumulative => {
                        let first = self
                            .aggs
                            .get(&k)
                            .and_then(|m| m.keys().filter(|(g, _)| g == key).map(|(_, q)| *q).min())
                            .unwrap_or(p);
                        let vals: Vec<f64> =
                            (first..=p).map(|q| at(self, q)).filter(|v| !v.is_nan()).collect();
                        if vals.is_empty() {
                            f64::NAN
                        } else {
                            vals.iter().sum()
                        }
                    }
                })
            }
        }
    }
}

fn tri_value(t: u8) -> Value {
    Value::Bool(if t == 2 { None } else { Some(t == 1) })
}

fn to_tri(v: &Value) -> u8 {
    v.tri()
}

fn compare(op: BinOp, a: &Value, b: &Value) -> Value {
    use std::cmp::Ordering;
    let ord: Option<Ordering> = match (a, b) {
        (Value::Text(x), Value::Text(y)) => Some(x.cmp(y)),
        (Value::Text(_), _) | (_, Value::Text(_)) => None,
        _ => {
            let (x, y) = (a.num(), b.num());
            x.partial_cmp(&y)
        }
    };
    match ord {
        None => Value::Bool(None),
        Some(o) => Value::Bool(Some(match op {
            BinOp::Eq => o == Ordering::Equal,
            BinOp::Ne => o != Ordering::Equal,
            BinOp::Lt => o == Ordering::Less,
            BinOp::Le => o != Ordering::Greater,
            BinOp::Gt => o == Ordering::Greater,
            BinOp::Ge => o != Ordering::Less,
            _ => false,
        })),
    }
}

/// Evaluates every needed KPI at every needed bucketing over the aggregate table.
pub fn evaluate_kpis(model: &Model, plan: &Plan, table: &AggTable, needs: &crate::plan::Needs) -> KpiValues {
    let mut out = KpiValues::default();
    // Group the needs by bucketing.
    let mut buckets: Vec<Bucketing> = Vec::new();
    for (b, _) in &needs.items {
        if !buckets.contains(b) {
            buckets.push(b.clone());
        }
    }
    for b in buckets {
        // KPIs needed at b, with their dependencies.
        let mut need = vec![false; model.kpis.len()];
        let mut stack: Vec<usize> = needs.items.iter().filter(|(x, _)| *x == b).map(|(_, k)| *k).collect();
        while let Some(k) = stack.pop() {
            if !need[k] {
                need[k] = true;
                stack.extend(model.kpis[k].deps.iter().copied());
            }
        }
        // Aggregate values per KPI.
        let mut aggs: HashMap<usize, HashMap<(GroupKey, i32), Vec<f64>>> = HashMap::new();
        for (k, kpi) in model.kpis.iter().enumerate() {
            if !need[k] {
                continue;
            }
            let Some((pi, qi)) = plan.find(kpi.dataset, &kpi.by, &b) else { continue };
            let dp = &plan.datasets[pi];
            let q = &dp.queries[qi];
            // Position in the query's values of each of the KPI's aggregates.
            let pos: Vec<usize> = kpi
                .aggs
                .iter()
                .map(|a| {
                    let di = dp.aggs.iter().position(|x| x == a).unwrap_or(0);
                    q.aggs.iter().position(|&x| x == di).unwrap_or(0)
                })
                .collect();
            let rows = table.queries.get(pi).and_then(|d| d.get(qi)).map(|r| r.as_slice()).unwrap_or(&[]);
            let mut m = HashMap::with_capacity(rows.len());
            for r in rows {
                let vals: Vec<f64> =
                    pos.iter().map(|&i| r.values.get(i).copied().unwrap_or(f64::NAN)).collect();
                m.insert((r.key.clone(), r.period), vals);
            }
            aggs.insert(k, m);
        }
        let mut done: HashMap<usize, Series> = HashMap::new();
        for &k in &model.order {
            if !need[k] {
                continue;
            }
            let mut keys: Vec<(GroupKey, i32)> =
                aggs.get(&k).map(|m| m.keys().cloned().collect()).unwrap_or_default();
            keys.sort();
            let mut ctx = Ctx { model, bucketing: &b, aggs: &aggs, done: &done, baseline: f64::NAN, div0: 0 };
            let mut series = Series::default();
            for (key, p) in keys {
                let v = ctx.eval(k, &model.kpis[k].expr, &key, p).num();
                let v = if v.is_finite() { v } else { f64::NAN };
                series.values.entry(key).or_default().insert(p, v);
            }
            series.div_by_zero = ctx.div0;
            done.insert(k, series);
        }
        for (k, s) in done {
            out.series.insert((format!("{b:?}"), k), s);
        }
    }
    out
}

/// Evaluates a goal band's value expression (constants and `baseline`).
pub fn eval_band_value(e: &KpiExpr, baseline: f64) -> f64 {
    let empty_aggs = HashMap::new();
    let done = HashMap::new();
    let b = Bucketing::Ranges(Vec::new());
    let dummy = Model {
        name: String::new(),
        version: String::new(),
        datasets: Vec::new(),
        kpis: Vec::new(),
        order: Vec::new(),
        goals: Vec::new(),
        objectives: Vec::new(),
        goal_items: Vec::new(),
        calendar: Default::default(),
    };
    let mut ctx = Ctx { model: &dummy, bucketing: &b, aggs: &empty_aggs, done: &done, baseline, div0: 0 };
    ctx.eval(0, e, &Vec::new(), 0).num()
}
