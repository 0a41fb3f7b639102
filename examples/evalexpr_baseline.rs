//! The per-row baseline of the benchmark (issue 8): the 12 KPIs of `bench/pack.yaml` computed
//! the way a generic expression interpreter does it, one row at a time.
//!
//! ```sh
//! cargo run --release --example evalexpr_baseline -- bench/data/posts_1000000.csv [AS_OF]
//! ```
//!
//! The posts CSV is read with the `csv` crate (one reused `StringRecord`). For every row, the
//! columns that some expression reads are converted to `evalexpr` values (integers, floats,
//! strings; an empty field is `Value::Empty`, i.e. null) in a row context, and every row-level
//! expression of the pack is evaluated with a `Node` compiled once (`eval_with_context`): the
//! as-of filter `date <= "AS_OF"`, the `where` filters (`likes + comments > 0`,
//! `campaign == "c07"`) and the arguments of the aggregates (`likes`, `reach`, ...). The results
//! are accumulated per (channel, month): sums, counts, the non-null count of `avg`, and the set
//! of distinct `post_id`s (exact, as strings). At the end each KPI's formula over its
//! aggregates is evaluated once per group, again with `evalexpr` (float values, null = empty).
//!
//! Semantics are the pack's (SQL's): a null argument is skipped by `sum`/`avg`, `sum` of no
//! non-null value is null, arithmetic or a comparison with null is null, a null filter drops the
//! row, and division by zero is null. The output is the JSON shape of `kpi eval --format json`
//! (`kpis[].values[]` with `group.channel`, `period`, `value`) so that `bench/run.py` can check
//! it against DuckDB like the other engines.
//!
//! It is deliberately a fair baseline, not a strawman: aggregates shared by several KPIs are
//! computed once, nodes are compiled once, the row context is a flat vector (no per-row
//! `HashMap` or `String` keys), string values reuse their buffers, and group lookup does not
//! allocate. It runs on one thread, as a per-row interpreter loop does.

use std::collections::{HashMap, HashSet};
use std::error::Error;

use evalexpr::{
    build_operator_tree, Context, ContextWithMutableVariables, EvalexprError, EvalexprResult, HashMapContext,
    Node, Value,
};

/// How a column is converted to an `evalexpr` value.
#[derive(Clone, Copy, PartialEq)]
enum Type {
    Int,
    Float,
    Text,
}

const COLUMNS: &[(&str, Type)] = &[
    ("date", Type::Text),
    ("channel", Type::Text),
    ("campaign", Type::Text),
    ("post_id", Type::Text),
    ("impressions", Type::Int),
    ("reach", Type::Int),
    ("likes", Type::Int),
    ("comments", Type::Int),
    ("shares", Type::Int),
    ("saves", Type::Int),
    ("clicks", Type::Int),
    ("conversions", Type::Int),
    ("revenue", Type::Float),
    ("spend", Type::Float),
    ("new_followers", Type::Int),
    ("unfollows", Type::Int),
];

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Sum,
    Count,
    Avg,
    CountDistinct,
}

/// The aggregates of the 12 KPIs, each once: (name used in the KPI formulas, kind, argument,
/// `where` filter).
const AGGREGATES: &[(&str, Kind, &str, &str)] = &[
    ("sum_likes", Kind::Sum, "likes", ""),
    ("sum_comments", Kind::Sum, "comments", ""),
    ("sum_shares", Kind::Sum, "shares", ""),
    ("sum_saves", Kind::Sum, "saves", ""),
    ("sum_reach", Kind::Sum, "reach", ""),
    ("sum_clicks", Kind::Sum, "clicks", ""),
    ("sum_impressions", Kind::Sum, "impressions", ""),
    ("sum_conversions", Kind::Sum, "conversions", ""),
    ("sum_revenue", Kind::Sum, "revenue", ""),
    ("sum_spend", Kind::Sum, "spend", ""),
    ("sum_new_followers", Kind::Sum, "new_followers", ""),
    ("sum_unfollows", Kind::Sum, "unfollows", ""),
    ("count_reacted", Kind::Count, "", "likes + comments > 0"),
    ("count_all", Kind::Count, "", ""),
    ("avg_reach", Kind::Avg, "reach", ""),
    ("sum_likes_c07", Kind::Sum, "likes", "campaign == \"c07\""),
    ("distinct_post_id", Kind::CountDistinct, "post_id", ""),
];

/// The 12 KPIs of bench/pack.yaml, as formulas over the aggregates above (evaluated once per
/// group, with float values).
const KPIS: &[(&str, &str)] = &[
    ("engagement_rate", "(sum_likes + sum_comments + sum_shares + sum_saves) / sum_reach"),
    ("ctr", "sum_clicks / sum_impressions"),
    ("conversion_rate", "sum_conversions / sum_clicks"),
    ("roi", "(sum_revenue - sum_spend) / sum_spend"),
    ("cpc", "sum_spend / sum_clicks"),
    ("reaction_rate", "count_reacted / count_all"),
    ("avg_reach", "avg_reach"),
    ("total_reach", "sum_reach"),
    ("net_follower_growth", "sum_new_followers - sum_unfollows"),
    ("c07_likes", "sum_likes_c07"),
    ("distinct_posts", "distinct_post_id"),
    ("revenue_per_conversion", "sum_revenue / sum_conversions"),
];

/// The values of the current row, by position in `COLUMNS`; identifiers are resolved by name,
/// as `evalexpr` asks for them.
struct RowContext {
    values: Vec<Value>,
}

impl Context for RowContext {
    fn get_value(&self, identifier: &str) -> Option<&Value> {
        COLUMNS.iter().position(|(name, _)| *name == identifier).map(|i| &self.values[i])
    }

    fn call_function(&self, identifier: &str, _argument: &Value) -> EvalexprResult<Value> {
        Err(EvalexprError::FunctionIdentifierNotFound(identifier.to_string()))
    }

    fn are_builtin_functions_disabled(&self) -> bool {
        false
    }

    fn set_builtin_functions_disabled(&mut self, _disabled: bool) -> EvalexprResult<()> {
        Err(EvalexprError::ContextNotMutable)
    }
}

/// A compiled row-level expression and the columns it reads.
struct Expr {
    node: Node,
    columns: Vec<usize>,
}

impl Expr {
    fn new(text: &str) -> Result<Expr, Box<dyn Error>> {
        let node = build_operator_tree(text)?;
        let columns = node
            .iter_variable_identifiers()
            .map(|id| {
                COLUMNS
                    .iter()
                    .position(|(name, _)| *name == id)
                    .ok_or_else(|| format!("unknown column `{id}` in `{text}`"))
            })
            .collect::<Result<_, _>>()?;
        Ok(Expr { node, columns })
    }

    /// The value of the expression on the row; `Value::Empty` (null) when it fails because a
    /// column it reads is null (SQL: arithmetic and comparisons with null are null). Any other
    /// error is a real one.
    fn eval(&self, row: &RowContext) -> Result<Value, Box<dyn Error>> {
        match self.node.eval_with_context(row) {
            Ok(v) => Ok(v),
            Err(_) if self.columns.iter().any(|&c| row.values[c].is_empty()) => Ok(Value::Empty),
            Err(e) => Err(format!("{e} in `{}`", self.node).into()),
        }
    }

    /// A filter holds when it is true; false and null drop the row.
    fn holds(&self, row: &RowContext) -> Result<bool, Box<dyn Error>> {
        truth(&self.eval(row)?)
    }
}

fn truth(v: &Value) -> Result<bool, Box<dyn Error>> {
    match v {
        Value::Boolean(b) => Ok(*b),
        Value::Empty => Ok(false),
        v => Err(format!("a filter gave {v}").into()),
    }
}

/// An aggregate; its argument and filter are indices into the row-level expressions.
struct Aggregate {
    kind: Kind,
    arg: Option<usize>,
    filter: Option<usize>,
}

/// One aggregate's state in one group.
#[derive(Default)]
struct Acc {
    sum: f64,
    n: u64,
    distinct: HashSet<String>,
}

fn number(v: &Value) -> Result<Option<f64>, Box<dyn Error>> {
    match v {
        Value::Int(i) => Ok(Some(*i as f64)),
        Value::Float(f) => Ok(Some(*f)),
        Value::Empty => Ok(None),
        v => Err(format!("not a number: {v}").into()),
    }
}

/// Sets the row's values from the record, for the columns some expression reads.
fn load_row(
    row: &mut RowContext,
    rec: &csv::StringRecord,
    used: &[(usize, usize)],
    line: u64,
) -> Result<(), Box<dyn Error>> {
    for &(col, field) in used {
        let text = &rec[field];
        let slot = &mut row.values[col];
        if text.is_empty() {
            *slot = Value::Empty;
            continue;
        }
        let bad = || format!("line {line}: bad {} `{text}`", COLUMNS[col].0);
        match COLUMNS[col].1 {
            Type::Int => *slot = Value::Int(text.parse().map_err(|_| bad())?),
            Type::Float => *slot = Value::Float(text.parse().map_err(|_| bad())?),
            Type::Text => match slot {
                Value::String(s) => {
                    s.clear();
                    s.push_str(text);
                }
                _ => *slot = Value::String(text.to_string()),
            },
        }
    }
    Ok(())
}

/// Accepts `YYYY-MM-DD` (or a datetime starting with it) and returns its month `YYYY-MM`.
fn month_of(date: &str) -> Option<&str> {
    let b = date.as_bytes();
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    (b.len() >= 10 && digits(0..4) && b[4] == b'-' && digits(5..7) && b[7] == b'-' && digits(8..10))
        .then(|| &date[..7])
}

fn main() -> Result<(), Box<dyn Error>> {
    let mut args = std::env::args().skip(1);
    let path = args.next().ok_or("usage: evalexpr_baseline POSTS.csv [AS_OF]")?;
    let as_of = args.next().unwrap_or_else(|| "2026-12-31".to_string());

    let as_of_filter = Expr::new(&format!("date <= \"{as_of}\""))?;
    // Every distinct row-level expression once (`likes` and `reach` serve two aggregates each),
    // evaluated once per row.
    let mut texts: Vec<&str> = Vec::new();
    let mut intern = |text: &'static str| {
        (!text.is_empty()).then(|| match texts.iter().position(|t| *t == text) {
            Some(i) => i,
            None => {
                texts.push(text);
                texts.len() - 1
            }
        })
    };
    let aggregates: Vec<Aggregate> = AGGREGATES
        .iter()
        .map(|&(_, kind, arg, filter)| Aggregate { kind, arg: intern(arg), filter: intern(filter) })
        .collect();
    let exprs = texts.iter().map(|t| Expr::new(t)).collect::<Result<Vec<_>, _>>()?;
    for a in aggregates.iter().filter(|a| a.kind == Kind::CountDistinct) {
        let shared = aggregates.iter().filter(|b| b.arg == a.arg || b.filter == a.arg).count() > 1;
        if shared {
            return Err("the argument of count_distinct is moved out; it must not be shared".into());
        }
    }
    let mut results = vec![Value::Empty; exprs.len()];
    let formulas = KPIS
        .iter()
        .map(|&(id, f)| Ok((id, build_operator_tree(f)?)))
        .collect::<Result<Vec<_>, Box<dyn Error>>>()?;

    let mut reader = csv::Reader::from_path(&path)?;
    let headers = reader.headers()?.clone();
    let field_of = |name: &str| {
        headers.iter().position(|h| h == name).ok_or_else(|| format!("{path}: no column `{name}`"))
    };
    let (date_field, channel_field) = (field_of("date")?, field_of("channel")?);
    // (column, CSV field) of every column an expression reads
    let mut used: Vec<(usize, usize)> = Vec::new();
    for e in exprs.iter().chain([&as_of_filter]) {
        for &c in &e.columns {
            if !used.iter().any(|&(u, _)| u == c) {
                used.push((c, field_of(COLUMNS[c].0)?));
            }
        }
    }

    let mut row = RowContext { values: vec![Value::Empty; COLUMNS.len()] };
    // (channel, month) -> index into `groups`; looked up with a reused key, no allocation
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut groups: Vec<(String, String, Vec<Acc>)> = Vec::new();
    let mut key = String::new();
    let mut rec = csv::StringRecord::new();
    let mut line = 1u64;
    while reader.read_record(&mut rec)? {
        line += 1;
        load_row(&mut row, &rec, &used, line)?;
        if !as_of_filter.holds(&row)? {
            continue;
        }
        let (date, channel) = (&rec[date_field], &rec[channel_field]);
        let month = month_of(date).ok_or_else(|| format!("line {line}: bad date `{date}`"))?;
        key.clear();
        key.push_str(channel);
        key.push('\x1f');
        key.push_str(month);
        let g = match index.get(key.as_str()) {
            Some(&g) => g,
            None => {
                let accs = aggregates.iter().map(|_| Acc::default()).collect();
                groups.push((channel.to_string(), month.to_string(), accs));
                index.insert(key.clone(), groups.len() - 1);
                groups.len() - 1
            }
        };
        for (e, r) in exprs.iter().zip(results.iter_mut()) {
            *r = e.eval(&row)?;
        }
        let accs = &mut groups[g].2;
        for (agg, acc) in aggregates.iter().zip(accs.iter_mut()) {
            if let Some(f) = agg.filter {
                if !truth(&results[f])? {
                    continue;
                }
            }
            match (agg.kind, agg.arg) {
                (Kind::Count, None) => acc.n += 1,
                (Kind::Sum | Kind::Avg | Kind::Count, Some(arg)) => {
                    if let Some(x) = number(&results[arg])? {
                        acc.sum += x;
                        acc.n += 1;
                    }
                }
                // the string is moved into the set: no other aggregate reads it (checked above)
                (Kind::CountDistinct, Some(arg)) => {
                    match std::mem::replace(&mut results[arg], Value::Empty) {
                        Value::Empty => {}
                        Value::String(s) => {
                            acc.distinct.insert(s);
                        }
                        v => {
                            acc.distinct.insert(v.to_string());
                        }
                    }
                }
                _ => return Err("an aggregate without its argument".into()),
            }
        }
    }

    // The KPI formulas, once per group, over float aggregates (null = empty).
    groups.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    let mut out = Vec::new();
    for &(id, ref node) in &formulas {
        let mut values = Vec::new();
        for (channel, month, accs) in &groups {
            let mut ctx = HashMapContext::new();
            for (&(name, kind, _, _), acc) in AGGREGATES.iter().zip(accs) {
                let v = match kind {
                    Kind::Sum if acc.n == 0 => Value::Empty,
                    Kind::Sum => Value::Float(acc.sum),
                    Kind::Count => Value::Float(acc.n as f64),
                    Kind::Avg if acc.n == 0 => Value::Empty,
                    Kind::Avg => Value::Float(acc.sum / acc.n as f64),
                    Kind::CountDistinct => Value::Float(acc.distinct.len() as f64),
                };
                ctx.set_value(name.to_string(), v)?;
            }
            // an error here is arithmetic with null: the KPI is null; so is x / 0
            let value = match node.eval_with_context(&ctx) {
                Ok(Value::Float(f)) if f.is_finite() => Some(f),
                Ok(Value::Int(i)) => Some(i as f64),
                _ => None,
            };
            values.push(serde_json::json!({
                "group": {"channel": channel},
                "period": month,
                "value": value,
            }));
        }
        out.push(serde_json::json!({"id": id, "values": values}));
    }
    let report = serde_json::json!({"engine": "evalexpr 11.3.1 per row", "rows": line - 1, "kpis": out});
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}
