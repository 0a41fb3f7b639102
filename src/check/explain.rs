//! `kpi explain`: what a checked KPI reads, how it is computed, what depends on it, and the
//! goals that judge it, in words a marketer can follow.
//!
//! The checked IR is turned back into the formula AST so that [`crate::syntax::print`]
//! prints it with the same precedence rules as everywhere else.

use super::formula::{FnKind, FUNCTIONS};
use super::model::{AggCall, AggFn, Const, KpiExpr, Model, RowExpr, TimeFn, Unit};
use crate::syntax::ast::{BinOp, Expr, ExprKind, Ident, Span, UnaryOp};
use serde::Serialize;
use std::fmt::Write;

/// Everything `kpi explain` says about one KPI.
#[derive(Debug, Clone, Serialize)]
pub struct Explanation {
    /// The KPI's id.
    pub id: String,
    /// Its display name.
    pub name: String,
    /// Its description.
    pub description: Option<String>,
    /// Its unit as written, if any.
    pub unit: Option<String>,
    /// The formula as written.
    pub formula: String,
    /// The computation in words.
    pub summary: String,
    /// The dataset read.
    pub dataset: DatasetUse,
    /// The time bucket.
    pub grain: &'static str,
    /// The group-by dimensions.
    pub by: Vec<String>,
    /// The aggregates computed from rows, in formula order.
    pub aggregates: Vec<AggregateUse>,
    /// The KPIs it reads, each with those they read.
    pub depends_on: Vec<KpiNode>,
    /// The KPIs that read it, each with those that read them.
    pub used_by: Vec<KpiNode>,
    /// The goals that judge it.
    pub goals: Vec<GoalUse>,
    /// Where it is defined (`file:line`), set by the caller that knows the sources.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub defined_at: Option<String>,
    /// The SQL that computes its aggregates in a database, set by the caller.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sql: Vec<SqlUse>,
}

/// One statement a KPI needs in a database.
#[derive(Debug, Clone, Serialize)]
pub struct SqlUse {
    /// The dataset.
    pub dataset: String,
    /// The dialect.
    pub dialect: &'static str,
    /// The statement.
    pub statement: String,
}

/// The dataset a KPI reads.
#[derive(Debug, Clone, Serialize)]
pub struct DatasetUse {
    /// Its id.
    pub id: String,
    /// Where the rows come from, credentials redacted; absent when unbound.
    pub source: Option<String>,
    /// The time column.
    pub time: String,
    /// The columns the KPI's aggregates read.
    pub columns: Vec<String>,
}

/// One aggregate of a KPI.
#[derive(Debug, Clone, Serialize)]
pub struct AggregateUse {
    /// In formula syntax: `sum(likes where channel == "vk")`.
    pub expr: String,
    /// In words: `the sum of likes, counting only rows where channel == "vk"`.
    pub words: String,
    /// The aggregate function.
    pub function: &'static str,
    /// The `where` filter in formula syntax.
    pub filter: Option<String>,
}

/// A KPI in a dependency tree.
#[derive(Debug, Clone, Serialize)]
pub struct KpiNode {
    /// Its id.
    pub id: String,
    /// Its display name.
    pub name: String,
    /// Its formula as written.
    pub formula: String,
    /// Its grouping and grain in words: `by channel, per month`.
    pub grouping: String,
    /// The next level of the tree (empty when already shown higher up).
    pub children: Vec<KpiNode>,
}

/// A goal on the KPI.
#[derive(Debug, Clone, Serialize)]
pub struct GoalUse {
    /// Its id.
    pub id: String,
    /// Its description.
    pub description: Option<String>,
    /// Which groups: `channel = instagram`.
    pub scope: Vec<String>,
    /// The target as written.
    pub target: String,
    /// The warn band as written.
    pub warn: Option<String>,
    /// The window, as `START..END`.
    pub window: Option<String>,
    /// The judging grain.
    pub each: Option<&'static str>,
    /// The literal baseline, printed.
    pub baseline: Option<String>,
    /// The objective id.
    pub objective: Option<String>,
    /// What the objective means, when the pack declares it.
    pub objective_text: Option<String>,
    /// Owner.
    pub owner: Option<String>,
}

/// Explains KPI `k` of `model`.
pub fn explain_kpi(model: &Model, k: usize) -> Explanation {
    let kpi = &model.kpis[k];
    let ds = &model.datasets[kpi.dataset];
    let col = |i: usize| ds.columns.get(i).map(|c| c.0.clone()).unwrap_or_else(|| format!("column{i}"));
    let mut columns: Vec<String> = Vec::new();
    for a in &kpi.aggs {
        for e in a.arg.iter().chain(a.filter.iter()) {
            row_columns(e, &mut |i| {
                let c = col(i);
                if !columns.contains(&c) {
                    columns.push(c);
                }
            });
        }
    }
    let names = Names { model, columns: &col };
    let aggregates = kpi
        .aggs
        .iter()
        .map(|a| AggregateUse {
            expr: crate::syntax::print(&names.agg(a)),
            words: names.agg_words(a),
            function: a.func.name(),
            filter: a.filter.as_ref().map(|f| crate::syntax::print(&names.row(f))),
        })
        .collect();
    let grouping = if kpi.by.is_empty() {
        format!("For each {}", kpi.grain.as_str())
    } else {
        format!("For each {} and {}", kpi.by.join(", "), kpi.grain.as_str())
    };
    let from = match &ds.source {
        Some(s) => format!("from dataset {} ({})", ds.id, s.display),
        None => format!("from dataset {} (not bound to a source)", ds.id),
    };
    let words = names.kpi_words(&kpi.expr, &kpi.aggs, 0);
    let summary = if kpi.aggs.is_empty() {
        format!("{grouping}: {words}.")
    } else {
        format!("{grouping}: {words}, {from}.")
    };
    let mut seen = vec![k];
    let depends_on =
        kpi.deps.iter().map(|&d| tree(model, d, &|i| model.kpis[i].deps.clone(), &mut seen)).collect();
    let readers = |i: usize| -> Vec<usize> {
        model.kpis.iter().enumerate().filter(|(_, x)| x.deps.contains(&i)).map(|(j, _)| j).collect()
    };
    let mut seen = vec![k];
    let used_by = readers(k).into_iter().map(|r| tree(model, r, &readers, &mut seen)).collect();
    let goals = model
        .goals
        .iter()
        .filter(|g| g.kpi == k)
        .map(|g| GoalUse {
            id: g.id.clone(),
            description: g.description.clone(),
            scope: g.for_.iter().map(|(d, vs)| format!("{d} = {}", vs.join(" or "))).collect(),
            target: g.target.0.clone(),
            warn: g.warn.as_ref().map(|w| w.0.clone()),
            window: g.window.map(|w| w.label()),
            each: g.each.map(|e| e.as_str()),
            baseline: g.baseline.as_ref().map(|b| match b {
                KpiExpr::Const(Const::Number(v)) if kpi.unit == Unit::Percent => {
                    let pct = (v * 100.0 * 1e9).round() / 1e9;
                    crate::syntax::print(&node(ExprKind::Percent(pct)))
                }
                other => crate::syntax::print(&names.kpi(other, &[])),
            }),
            objective: g.objective.clone(),
            objective_text: g
                .objective
                .as_ref()
                .and_then(|o| model.objectives.iter().find(|(id, _)| id == o).map(|(_, t)| t.clone())),
            owner: g.owner.clone(),
        })
        .collect();
    Explanation {
        id: kpi.id.clone(),
        name: kpi.name.clone(),
        description: kpi.description.clone(),
        unit: kpi.unit.as_string(),
        formula: kpi.formula.text.trim().to_string(),
        summary,
        dataset: DatasetUse {
            id: ds.id.clone(),
            source: ds.source.as_ref().map(|s| s.display.clone()),
            time: ds.time.clone(),
            columns,
        },
        grain: kpi.grain.as_str(),
        by: kpi.by.clone(),
        aggregates,
        depends_on,
        used_by,
        goals,
        defined_at: None,
        sql: Vec::new(),
    }
}

/// One node of a dependency tree; a KPI already shown is not expanded again (diamonds).
fn tree(model: &Model, k: usize, next: &dyn Fn(usize) -> Vec<usize>, seen: &mut Vec<usize>) -> KpiNode {
    let kpi = &model.kpis[k];
    let expand = !seen.contains(&k);
    seen.push(k);
    let children =
        if expand { next(k).into_iter().map(|c| tree(model, c, next, seen)).collect() } else { Vec::new() };
    let grouping = if kpi.by.is_empty() {
        format!("all groups together, per {}", kpi.grain.as_str())
    } else {
        format!("by {}, per {}", kpi.by.join(", "), kpi.grain.as_str())
    };
    KpiNode {
        id: kpi.id.clone(),
        name: kpi.name.clone(),
        formula: kpi.formula.text.trim().to_string(),
        grouping,
        children,
    }
}

fn row_columns(e: &RowExpr, f: &mut dyn FnMut(usize)) {
    match e {
        RowExpr::Column(i, _) => f(*i),
        RowExpr::Time | RowExpr::Const(_) => {}
        RowExpr::Unary(_, x) => row_columns(x, f),
        RowExpr::Binary(_, a, b) => {
            row_columns(a, f);
            row_columns(b, f);
        }
        RowExpr::In(x, list, _) => {
            row_columns(x, f);
            list.iter().for_each(|y| row_columns(y, f));
        }
        RowExpr::Between(x, a, b, _) => {
            row_columns(x, f);
            row_columns(a, f);
            row_columns(b, f);
        }
        RowExpr::Call(_, args) => args.iter().for_each(|y| row_columns(y, f)),
    }
}

fn node(kind: ExprKind) -> Expr {
    Expr::new(kind, Span::default())
}

fn name(s: &str) -> Expr {
    node(ExprKind::Name(vec![ident(s)]))
}

fn ident(s: &str) -> Ident {
    Ident { name: s.to_string(), span: Span::default() }
}

fn call(f: &str, args: Vec<Expr>, filter: Option<Expr>) -> Expr {
    node(ExprKind::Call { func: ident(f), args, filter: filter.map(Box::new) })
}

fn fn_name(kind: FnKind) -> &'static str {
    FUNCTIONS.iter().find(|(_, k)| *k == kind).map(|(n, _)| *n).unwrap_or("?")
}

fn constant(c: &Const) -> Expr {
    node(match c {
        Const::Number(v) => ExprKind::Number(*v),
        Const::Text(s) => ExprKind::Str(s.clone()),
        Const::Bool(b) => ExprKind::Bool(*b),
        Const::Date(d) => ExprKind::Date(*d),
        Const::Null => ExprKind::Null,
    })
}

/// Names for printing the IR: columns of the KPI's dataset, KPIs of the model.
struct Names<'a> {
    model: &'a Model,
    columns: &'a dyn Fn(usize) -> String,
}

impl Names<'_> {
    fn row(&self, e: &RowExpr) -> Expr {
        let b = |x: &RowExpr| Box::new(self.row(x));
        match e {
            RowExpr::Column(i, _) => name(&(self.columns)(*i)),
            RowExpr::Time => name("time"),
            RowExpr::Const(c) => constant(c),
            RowExpr::Unary(op, x) => node(ExprKind::Unary(*op, b(x))),
            RowExpr::Binary(op, x, y) => node(ExprKind::Binary(*op, b(x), b(y))),
            RowExpr::In(x, list, neg) => node(ExprKind::In {
                expr: b(x),
                list: list.iter().map(|y| self.row(y)).collect(),
                negated: *neg,
            }),
            RowExpr::Between(x, lo, hi, neg) => {
                node(ExprKind::Between { expr: b(x), low: b(lo), high: b(hi), negated: *neg })
            }
            RowExpr::Call(f, args) => {
                call(fn_name(FnKind::Scalar(*f)), args.iter().map(|a| self.row(a)).collect(), None)
            }
        }
    }

    fn agg(&self, a: &AggCall) -> Expr {
        let mut args: Vec<Expr> = a.arg.iter().map(|e| self.row(e)).collect();
        if a.func == AggFn::Percentile {
            args.push(node(ExprKind::Number(a.param)));
        }
        call(a.func.name(), args, a.filter.as_ref().map(|f| self.row(f)))
    }

    fn agg_words(&self, a: &AggCall) -> String {
        let arg = a.arg.as_ref().map(|e| crate::syntax::print(&self.row(e))).unwrap_or_default();
        let arg = if matches!(a.arg, Some(RowExpr::Column(..))) { arg } else { format!("({arg})") };
        let base = match a.func {
            AggFn::Sum => format!("the sum of {arg}"),
            AggFn::Avg => format!("the average of {arg}"),
            AggFn::Min => format!("the smallest {arg}"),
            AggFn::Max => format!("the largest {arg}"),
            AggFn::Count if a.arg.is_none() => "the number of rows".to_string(),
            AggFn::Count => format!("the number of rows with a value in {arg}"),
            AggFn::CountDistinct => format!("the number of distinct values of {arg}"),
            AggFn::First => format!("the first {arg} of the period (by date)"),
            AggFn::Last => format!("the last {arg} of the period (by date)"),
            AggFn::Median => format!("the median of {arg}"),
            AggFn::Percentile => format!("the {} percentile of {arg}", ordinal(a.param * 100.0)),
        };
        match &a.filter {
            Some(f) => format!("{base} where {}", crate::syntax::print(&self.row(f))),
            None => base,
        }
    }

    fn kpi(&self, e: &KpiExpr, aggs: &[AggCall]) -> Expr {
        let b = |x: &KpiExpr| Box::new(self.kpi(x, aggs));
        match e {
            KpiExpr::Const(c) => constant(c),
            KpiExpr::Agg(i) => aggs.get(*i).map(|a| self.agg(a)).unwrap_or_else(|| name("?")),
            KpiExpr::Kpi(i) => name(&self.model.kpis[*i].id),
            KpiExpr::Unary(op, x) => node(ExprKind::Unary(*op, b(x))),
            KpiExpr::Binary(op, x, y) => node(ExprKind::Binary(*op, b(x), b(y))),
            KpiExpr::In(x, list, neg) => node(ExprKind::In {
                expr: b(x),
                list: list.iter().map(|y| self.kpi(y, aggs)).collect(),
                negated: *neg,
            }),
            KpiExpr::Between(x, lo, hi, neg) => {
                node(ExprKind::Between { expr: b(x), low: b(lo), high: b(hi), negated: *neg })
            }
            KpiExpr::Call(f, args) => {
                call(fn_name(FnKind::Scalar(*f)), args.iter().map(|a| self.kpi(a, aggs)).collect(), None)
            }
            KpiExpr::Time(f, x, n) => {
                let mut args = vec![self.kpi(x, aggs)];
                if matches!(f, TimeFn::RollingSum | TimeFn::RollingAvg) || *n != 1 {
                    args.push(node(ExprKind::Number(f64::from(*n))));
                }
                call(fn_name(FnKind::Time(*f)), args, None)
            }
            KpiExpr::Baseline => name("baseline"),
        }
    }

    /// The KPI-level arithmetic in words; `min` is the binding strength the context needs.
    fn kpi_words(&self, e: &KpiExpr, aggs: &[AggCall], min: u8) -> String {
        let (text, strength) = match e {
            KpiExpr::Agg(i) => (aggs.get(*i).map(|a| self.agg_words(a)).unwrap_or_default(), 9),
            KpiExpr::Kpi(i) => {
                let k = &self.model.kpis[*i];
                let text = if k.name == k.id {
                    format!("the KPI {}", k.id)
                } else {
                    format!("the KPI {} ({})", k.id, k.name)
                };
                (text, 9)
            }
            KpiExpr::Binary(op @ (BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div), a, b) => {
                let (word, p) = match op {
                    BinOp::Add => ("plus", 5),
                    BinOp::Sub => ("minus", 5),
                    BinOp::Mul => ("times", 6),
                    _ => ("divided by", 6),
                };
                let text =
                    format!("{} {word} {}", self.kpi_words(a, aggs, p), self.kpi_words(b, aggs, p + 1));
                (text, p)
            }
            KpiExpr::Unary(UnaryOp::Neg, x) => (format!("minus {}", self.kpi_words(x, aggs, 7)), 7),
            KpiExpr::Time(f, x, n) => {
                let inner = self.kpi_words(x, aggs, 0);
                let text = match f {
                    TimeFn::Previous if *n == 1 => format!("[{inner}] one period earlier"),
                    TimeFn::Previous => format!("[{inner}] {n} periods earlier"),
                    TimeFn::Change => format!("the change of [{inner}] since the period before"),
                    TimeFn::Growth => format!("the growth of [{inner}] since the period before"),
                    TimeFn::RollingSum => format!("the sum of [{inner}] over the last {n} periods"),
                    TimeFn::RollingAvg => format!("the average of [{inner}] over the last {n} periods"),
                    TimeFn::Cumulative => format!("the running total of [{inner}]"),
                };
                (text, 9)
            }
            other => (crate::syntax::print(&self.kpi(other, aggs)), 9),
        };
        if strength < min {
            format!("({text})")
        } else {
            text
        }
    }
}

fn ordinal(v: f64) -> String {
    let s = crate::syntax::print(&node(ExprKind::Number(v)));
    let suffix = match s.as_str() {
        x if x.ends_with("11") || x.ends_with("12") || x.ends_with("13") => "th",
        x if x.ends_with('1') => "st",
        x if x.ends_with('2') => "nd",
        x if x.ends_with('3') => "rd",
        _ => "th",
    };
    format!("{s}{suffix}")
}

impl Explanation {
    /// The explanation for people.
    pub fn to_text(&self) -> String {
        let mut o = String::new();
        let unit = self.unit.as_deref().map(|u| format!(" ({u})")).unwrap_or_default();
        let _ = writeln!(o, "{} — {}{unit}", self.id, self.name);
        if let Some(d) = &self.description {
            let _ = writeln!(o, "  {d}");
        }
        if let Some(at) = &self.defined_at {
            let _ = writeln!(o, "  defined in {at}");
        }
        let _ = writeln!(o, "\nHow it is computed");
        let _ = writeln!(o, "  {}", self.summary);
        let _ = writeln!(o, "  formula: {}", self.formula);
        if !self.aggregates.is_empty() {
            let _ = writeln!(o, "  aggregates, computed in one pass over {}:", self.dataset.id);
        }
        let width = self.aggregates.iter().map(|a| a.expr.chars().count()).max().unwrap_or(0);
        for (i, a) in self.aggregates.iter().enumerate() {
            let _ = writeln!(o, "    [{}] {:width$}   {}", i + 1, a.expr, a.words);
        }
        let _ = writeln!(o, "\nWhat it reads");
        let source = self.dataset.source.as_deref().unwrap_or("not bound: give --data");
        let _ = writeln!(o, "  dataset:  {} ({source})", self.dataset.id);
        let cols = if !self.dataset.columns.is_empty() {
            self.dataset.columns.join(", ")
        } else if !self.depends_on.is_empty() {
            "none directly: it reads the KPIs below".to_string()
        } else {
            "none".to_string()
        };
        let _ = writeln!(o, "  columns:  {cols}");
        let filters: Vec<&str> = self.aggregates.iter().filter_map(|a| a.filter.as_deref()).collect();
        let filters = if !filters.is_empty() {
            filters.join("; ")
        } else if self.aggregates.is_empty() && !self.depends_on.is_empty() {
            "none directly".to_string()
        } else {
            "none: every row counts".to_string()
        };
        let _ = writeln!(o, "  filters:  {filters}");
        let _ = writeln!(o, "  time:     column {}, bucketed by {}", self.dataset.time, self.grain);
        let by =
            if self.by.is_empty() { "none: one value for all rows".to_string() } else { self.by.join(", ") };
        let _ = writeln!(o, "  grouped:  {by}");
        let _ = writeln!(o, "\nDepends on");
        tree_text(&mut o, &self.depends_on, "only the data, no other KPI");
        let _ = writeln!(o, "\nUsed by");
        tree_text(&mut o, &self.used_by, "no other KPI");
        let _ = writeln!(o, "\nGoals");
        if self.goals.is_empty() {
            let _ = writeln!(o, "  none");
        }
        for g in &self.goals {
            let _ = writeln!(o, "  {}", g.id);
            if let Some(d) = &g.description {
                let _ = writeln!(o, "    {d}");
            }
            let _ = writeln!(o, "    target:    {} passes", g.target);
            if let Some(w) = &g.warn {
                let _ = writeln!(o, "    warn:      {w} warns instead of failing");
            }
            let scope = match (g.scope.is_empty(), self.by.is_empty()) {
                (false, _) => g.scope.join(", "),
                (true, false) => "every group, each on its own".to_string(),
                (true, true) => "all rows (the KPI has no `by`)".to_string(),
            };
            let _ = writeln!(o, "    for:       {scope}");
            let window = g.window.as_deref().unwrap_or("none (not time-bound)");
            let each = match g.each {
                Some(e) => format!(", judged every {e}"),
                None => ", judged as one period".to_string(),
            };
            let _ = writeln!(o, "    window:    {window}{each}");
            let baseline = g.baseline.as_deref().unwrap_or("the window just before");
            let _ = writeln!(o, "    baseline:  {baseline}");
            let objective = match (&g.objective, &g.objective_text) {
                (Some(id), Some(t)) => format!("{id}: {t}"),
                (Some(id), None) => format!("{id} (not declared in objectives)"),
                _ => "none".to_string(),
            };
            let _ = writeln!(o, "    objective: {objective}");
            let _ = writeln!(o, "    owner:     {}", g.owner.as_deref().unwrap_or("none"));
        }
        for q in &self.sql {
            let _ = writeln!(
                o,
                "\nSQL ({}, dataset {}; `kpi sql --dialect ...` for other engines)",
                q.dialect, q.dataset
            );
            for line in q.statement.lines() {
                let _ = writeln!(o, "  {line}");
            }
        }
        o
    }
}

fn tree_text(o: &mut String, nodes: &[KpiNode], none: &str) {
    if nodes.is_empty() {
        let _ = writeln!(o, "  {none}");
    }
    fn walk(o: &mut String, nodes: &[KpiNode], prefix: &str) {
        for (i, n) in nodes.iter().enumerate() {
            let last = i + 1 == nodes.len();
            let branch = if last { "└─ " } else { "├─ " };
            let title = if n.name == n.id { n.id.clone() } else { format!("{}: {}", n.id, n.name) };
            let _ = writeln!(o, "  {prefix}{branch}{title} = {} ({})", n.formula, n.grouping);
            walk(o, &n.children, &format!("{prefix}{}", if last { "   " } else { "│  " }));
        }
    }
    walk(o, nodes, "");
}

#[cfg(test)]
mod tests {
    use super::ordinal;

    #[test]
    fn ordinals_read_as_english() {
        let got: Vec<String> = [1.0, 2.0, 3.0, 11.0, 12.0, 22.0, 50.0, 90.0, 99.5].map(ordinal).to_vec();
        assert_eq!(got, ["1st", "2nd", "3rd", "11th", "12th", "22nd", "50th", "90th", "99.5th"]);
    }
}
