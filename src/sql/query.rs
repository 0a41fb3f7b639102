//! `plan_to_sql`: one SQL statement per dataset plan, whose result rows are the aggregate
//! table ([`crate::plan::AggTable`]) that the local backend computes by scanning files.
//!
//! The statement reads the source once into `kpi__rows` (the used columns, numbers as doubles,
//! the row's date in the calendar's time zone, its day number and month number, the as-of
//! cut), then has one `SELECT ... GROUP BY` per query of the plan, joined with `UNION ALL`.
//! Every branch has the same columns:
//!
//! | column | meaning |
//! |---|---|
//! | `kpi__query` | the index of the query in the dataset plan |
//! | `kpi__k0` ... | the query's dimension values as text (NULL-padded) |
//! | `kpi__period` | the period key of `calendar.rs` (day number, week, month index...), or the range index |
//! | `kpi__n` | rows in the group and period, before filters |
//! | `kpi__v0` ... | the query's aggregates in `Query.aggs` order, as doubles (NULL-padded) |
//!
//! Period keys are computed with the same arithmetic as [`crate::calendar::Calendar`], so the
//! rows decode into exactly the keys the local engine produces.

use super::Dialect;
use crate::calendar::{format_date, Calendar, Grain};
use crate::check::{AggCall, AggFn, Const, Model, RowExpr, ScalarFn, Ty};
use crate::plan::{Bucketing, DatasetPlan, Query};
use crate::syntax::ast::{BinOp, UnaryOp};
use std::fmt::Write;

/// Where a dataset's rows come from, in SQL.
#[derive(Debug, Clone, PartialEq)]
pub enum SqlSource {
    /// A table (or view); `schema.table` is split at dots and each part quoted.
    Table(String),
    /// A query, used as a subquery.
    Query(String),
}

/// What the time column holds, which decides how a row's date is taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeKind {
    /// A `DATE`.
    Date,
    /// A `TIMESTAMP` without time zone: civil time, dated as written.
    Timestamp,
    /// A `TIMESTAMP WITH TIME ZONE` (an instant): dated in the calendar's time zone.
    Instant,
    /// ISO 8601 text: a date, a civil datetime, or a datetime with an offset (an instant).
    Text,
}

impl TimeKind {
    /// Parses `date`, `timestamp`, `timestamptz`, `text`.
    pub fn parse(s: &str) -> Option<TimeKind> {
        match s {
            "date" => Some(TimeKind::Date),
            "timestamp" => Some(TimeKind::Timestamp),
            "timestamptz" | "instant" => Some(TimeKind::Instant),
            "text" => Some(TimeKind::Text),
            _ => None,
        }
    }
}

/// One dataset's statement.
#[derive(Debug, Clone)]
pub struct DatasetSql {
    /// The dataset's id.
    pub dataset: String,
    /// The statement.
    pub sql: String,
    /// Dimension columns (`kpi__k*`) in every result row.
    pub dims: usize,
    /// Value columns (`kpi__v*`) in every result row.
    pub values: usize,
}

/// Generated names, prefixed so that they cannot meet a user's column.
const ROWS: &str = "kpi__rows";
const DAY: &str = "kpi__day";
const MONTH: &str = "kpi__month";
const DATE: &str = "kpi__date";
const TIME: &str = "kpi__time";

/// The SQL of one dataset plan.
pub fn plan_to_sql(
    model: &Model,
    dp: &DatasetPlan,
    as_of: i32,
    source: &SqlSource,
    time_kind: TimeKind,
    d: &dyn Dialect,
) -> DatasetSql {
    let ds = &model.datasets[dp.dataset];
    let g = Gen { d, columns: &ds.columns };
    let dims = dp.queries.iter().map(|q| q.dim_names.len()).max().unwrap_or(0);
    let values = dp.queries.iter().map(|q| q.aggs.len()).max().unwrap_or(0);

    // The rows: the used columns as they are (numbers are cast where they are used, so
    // that a column only counted or compared keeps its own type), the date, the cut.
    let mut cols: Vec<String> = Vec::new();
    let mut used = vec![false; ds.columns.len()];
    for a in &dp.aggs {
        a.arg.iter().chain(a.filter.iter()).for_each(|e| crate::plan::mark_columns(e, &mut used));
    }
    let names = ds
        .columns
        .iter()
        .zip(&used)
        .filter(|(_, u)| **u)
        .map(|((n, _), _)| n)
        .chain(dp.queries.iter().flat_map(|q| q.dim_names.iter()));
    for name in names {
        let q = d.quote_ident(name);
        if *name != ds.time && !cols.contains(&q) {
            cols.push(q);
        }
    }
    let time = d.quote_ident(&ds.time);
    let tz = dp.calendar.timezone.as_deref().unwrap_or("UTC");
    let from = match source {
        SqlSource::Table(t) => t.split('.').map(|p| d.quote_ident(p)).collect::<Vec<_>>().join("."),
        SqlSource::Query(q) => format!("(\n    {}\n  ) AS kpi__source", q.trim().trim_end_matches(';')),
    };
    let mut sql = String::new();
    // One comment line: names from the pack or the data must not end it (a newline in a
    // column name would otherwise start a statement of its own).
    let comment = format!(
        "-- dataset `{}`: {} quer{}; time column {} read as {}, dated in {}; rows after {} ignored",
        ds.id,
        dp.queries.len(),
        if dp.queries.len() == 1 { "y" } else { "ies" },
        time,
        match time_kind {
            TimeKind::Date => "DATE",
            TimeKind::Timestamp => "TIMESTAMP (civil time)",
            TimeKind::Instant => "TIMESTAMP WITH TIME ZONE",
            TimeKind::Text => "ISO 8601 text",
        },
        tz,
        format_date(as_of)
    );
    let _ = writeln!(sql, "{}", comment.replace(['\n', '\r'], " "));
    let _ = writeln!(sql, "WITH kpi__source_rows AS{} (", d.inline_cte());
    let _ = writeln!(sql, "  SELECT {} AS {DATE}, {time} AS {TIME}", d.date_of(&time, time_kind, tz));
    for c in &cols {
        let _ = writeln!(sql, "    , {c}");
    }
    let _ = writeln!(sql, "  FROM {from}");
    let _ = writeln!(sql, "), {ROWS} AS{} (", d.inline_cte());
    let _ = writeln!(sql, "  SELECT *, {} AS {DAY}, {} AS {MONTH}", d.day_number(DATE), month_index(d, DATE));
    let _ = writeln!(sql, "  FROM kpi__source_rows");
    let _ = writeln!(sql, "  WHERE {DATE} <= {}", d.date_literal(as_of));
    let _ = writeln!(sql, ")");
    for (qi, q) in dp.queries.iter().enumerate() {
        if qi > 0 {
            sql.push_str("UNION ALL\n");
        }
        g.branch(&mut sql, qi, q, dp, &dp.calendar, dims, values);
    }
    DatasetSql { dataset: ds.id.clone(), sql, dims, values }
}

fn month_index(d: &dyn Dialect, date: &str) -> String {
    let int = d.bigint_type();
    format!("CAST(EXTRACT(YEAR FROM {date}) AS {int}) * 12 + CAST(EXTRACT(MONTH FROM {date}) AS {int}) - 1")
}

/// `floor(x / k)` as an integer, for negative x too.
fn floor_div(d: &dyn Dialect, x: &str, k: i32) -> String {
    format!("CAST(FLOOR(({x}) / {k}.0) AS {})", d.bigint_type())
}

/// The period key of a grain in a calendar, from the day and month numbers.
fn period_key(d: &dyn Dialect, cal: &Calendar, grain: Grain) -> String {
    let fiscal = cal.fiscal_offset as i32;
    match grain {
        Grain::Day => DAY.to_string(),
        Grain::Week => floor_div(d, &format!("{DAY} + {}", 3 - cal.week_start as i32), 7),
        Grain::Month => MONTH.to_string(),
        Grain::Quarter => floor_div(d, &offset(MONTH, fiscal), 3),
        Grain::Year => floor_div(d, &offset(MONTH, fiscal), 12),
    }
}

fn offset(x: &str, by: i32) -> String {
    if by == 0 {
        x.to_string()
    } else {
        format!("{x} - {by}")
    }
}

struct Gen<'a> {
    d: &'a dyn Dialect,
    columns: &'a [(String, crate::engine::batch::ColType)],
}

impl Gen<'_> {
    #[allow(clippy::too_many_arguments)]
    fn branch(
        &self,
        sql: &mut String,
        qi: usize,
        q: &Query,
        dp: &DatasetPlan,
        cal: &Calendar,
        dims: usize,
        values: usize,
    ) {
        let d = self.d;
        let (period, join) = match &q.buckets {
            Bucketing::Grain(g) => (period_key(d, cal, *g), String::new()),
            Bucketing::Ranges(rs) => {
                let ranges: Vec<(i32, i32, i32)> =
                    rs.iter().enumerate().map(|(i, r)| (i as i32, r.start, r.end)).collect();
                ("kpi__r.i".to_string(), format!("\n  {}", d.ranges_join(&ranges, DAY)))
            }
        };
        let mut select = vec![format!("{qi} AS kpi__query")];
        let mut group: Vec<String> = Vec::new();
        for i in 0..dims {
            match q.dim_names.get(i) {
                Some(n) => {
                    let key = format!("CAST({} AS {})", d.quote_ident(n), d.text_type());
                    select.push(format!("{key} AS kpi__k{i}"));
                    group.push(key);
                }
                None => select.push(format!("CAST(NULL AS {}) AS kpi__k{i}", d.text_type())),
            }
        }
        select.push(format!("{period} AS kpi__period"));
        group.push(period);
        select.push(format!("CAST(COUNT(*) AS {}) AS kpi__n", d.bigint_type()));
        for i in 0..values {
            match q.aggs.get(i) {
                Some(&a) => select.push(format!(
                    "CAST({} AS {}) AS kpi__v{i}",
                    self.aggregate(&dp.aggs[a]),
                    d.double_type()
                )),
                None => select.push(format!("CAST(NULL AS {}) AS kpi__v{i}", d.double_type())),
            }
        }
        let _ = writeln!(sql, "SELECT {}", select.join(",\n       "));
        let _ = writeln!(sql, "FROM {ROWS}{join}");
        let _ = writeln!(sql, "GROUP BY {}", group.join(", "));
    }

    /// One aggregate call.
    fn aggregate(&self, a: &AggCall) -> String {
        let d = self.d;
        let filter = a.filter.as_ref().map(|f| self.boolean(f));
        let arg = a.arg.as_ref();
        let num = |e: &RowExpr| self.number(e);
        match a.func {
            AggFn::Count if arg.is_none() => match &filter {
                None => "COUNT(*)".to_string(),
                Some(f) if d.supports_filter() => format!("COUNT(*) FILTER (WHERE {f})"),
                Some(f) => format!("COUNT(CASE WHEN {f} THEN 1 END)"),
            },
            AggFn::Count => self.filtered("COUNT(", &self.value(arg), ")", filter.as_deref()),
            AggFn::CountDistinct => match &filter {
                Some(f) if !d.supports_distinct_filter() => {
                    format!("COUNT(DISTINCT CASE WHEN {f} THEN {} END)", self.value(arg))
                }
                _ => self.filtered("COUNT(DISTINCT ", &self.value(arg), ")", filter.as_deref()),
            },
            AggFn::Sum => self.filtered("SUM(", &arg.map(num).unwrap_or_default(), ")", filter.as_deref()),
            AggFn::Avg => self.filtered("AVG(", &arg.map(num).unwrap_or_default(), ")", filter.as_deref()),
            AggFn::Min => self.filtered("MIN(", &arg.map(num).unwrap_or_default(), ")", filter.as_deref()),
            AggFn::Max => self.filtered("MAX(", &arg.map(num).unwrap_or_default(), ")", filter.as_deref()),
            AggFn::Median | AggFn::Percentile => {
                d.percentile(&arg.map(num).unwrap_or_default(), a.param, filter.as_deref())
            }
            AggFn::First | AggFn::Last => d.first_last(
                &arg.map(num).unwrap_or_default(),
                filter.as_deref(),
                a.func == AggFn::Last,
                &[DAY, TIME],
            ),
        }
    }

    /// `f(x) FILTER (WHERE c)`, or `f(CASE WHEN c THEN x END)` where FILTER is missing.
    fn filtered(&self, open: &str, x: &str, close: &str, filter: Option<&str>) -> String {
        match filter {
            None => format!("{open}{x}{close}"),
            Some(f) if self.d.supports_filter() => format!("{open}{x}{close} FILTER (WHERE {f})"),
            Some(f) => format!("{open}CASE WHEN {f} THEN {x} END{close}"),
        }
    }

    /// A value of any type (for `count`, `count_distinct`): a bare column as it is stored.
    fn value(&self, e: Option<&RowExpr>) -> String {
        match e {
            None => "1".to_string(),
            Some(RowExpr::Column(i, _)) => match self.columns.get(*i) {
                Some((name, _)) => self.d.quote_ident(name),
                None => "NULL".to_string(),
            },
            Some(e) => match ty(e) {
                Ty::Text => self.text(e),
                Ty::Bool => self.boolean(e),
                _ => self.number(e),
            },
        }
    }

    /// An expression in a numeric context (booleans are 1/0, dates their day number).
    fn number(&self, e: &RowExpr) -> String {
        match ty(e) {
            Ty::Bool => {
                let b = self.boolean(e);
                format!("CASE WHEN {b} THEN 1.0 WHEN NOT {b} THEN 0.0 END")
            }
            _ => self.expr(e),
        }
    }

    /// An expression in a boolean context (numbers are true when not zero).
    fn boolean(&self, e: &RowExpr) -> String {
        match ty(e) {
            Ty::Bool | Ty::Null => self.expr(e),
            _ => format!("({} <> 0)", self.expr(e)),
        }
    }

    fn text(&self, e: &RowExpr) -> String {
        self.expr(e)
    }

    fn expr(&self, e: &RowExpr) -> String {
        let d = self.d;
        match e {
            RowExpr::Column(i, t) => match self.columns.get(*i) {
                Some((name, _)) if *t == Ty::Number => {
                    format!("CAST({} AS {})", d.quote_ident(name), d.double_type())
                }
                // A date column compares and computes as its day number, like the time column.
                Some((name, _)) if *t == Ty::Date => {
                    d.day_number(&format!("CAST({} AS DATE)", d.quote_ident(name)))
                }
                Some((name, _)) => d.quote_ident(name),
                None => "NULL".to_string(),
            },
            RowExpr::Time => DAY.to_string(),
            RowExpr::Const(c) => self.constant(c),
            RowExpr::Unary(UnaryOp::Neg, x) => format!("(- {})", self.number(x)),
            RowExpr::Unary(UnaryOp::Not, x) => format!("(NOT {})", self.boolean(x)),
            RowExpr::Binary(op, a, b) => match op {
                BinOp::Add | BinOp::Sub | BinOp::Mul => {
                    format!("({} {} {})", self.number(a), op.as_str(), self.number(b))
                }
                BinOp::Div => format!("({} / NULLIF({}, 0))", self.number(a), self.number(b)),
                BinOp::And => format!("({} AND {})", self.boolean(a), self.boolean(b)),
                BinOp::Or => format!("({} OR {})", self.boolean(a), self.boolean(b)),
                _ => {
                    let sql_op = match op {
                        BinOp::Eq => "=",
                        BinOp::Ne => "<>",
                        other => other.as_str(),
                    };
                    let text = ty(a) == Ty::Text || ty(b) == Ty::Text;
                    let (x, y) = (self.operand(a), self.operand(b));
                    if text && !matches!(op, BinOp::Eq | BinOp::Ne) {
                        format!("({} {sql_op} {})", d.binary_collation(&x), d.binary_collation(&y))
                    } else {
                        format!("({x} {sql_op} {y})")
                    }
                }
            },
            RowExpr::In(x, list, negated) => {
                let items: Vec<String> = list.iter().map(|y| self.operand(y)).collect();
                let not = if *negated { "NOT " } else { "" };
                format!("({} {not}IN ({}))", self.operand(x), items.join(", "))
            }
            RowExpr::Between(x, lo, hi, negated) => {
                let (x, lo, hi) = (self.operand(x), self.operand(lo), self.operand(hi));
                if *negated {
                    format!("(NOT ({x} >= {lo} AND {x} <= {hi}))")
                } else {
                    format!("({x} >= {lo} AND {x} <= {hi})")
                }
            }
            RowExpr::Call(f, args) => self.call(*f, args),
        }
    }

    /// A comparison operand: numbers and dates as numbers, text as text, booleans as they are.
    fn operand(&self, e: &RowExpr) -> String {
        match ty(e) {
            Ty::Text | Ty::Bool | Ty::Null => self.expr(e),
            _ => self.number(e),
        }
    }

    fn constant(&self, c: &Const) -> String {
        match c {
            Const::Number(x) => number_literal(*x),
            Const::Text(s) => self.d.quote_str(s),
            Const::Bool(true) => "TRUE".to_string(),
            Const::Bool(false) => "FALSE".to_string(),
            Const::Date(day) => day.to_string(),
            Const::Null => "NULL".to_string(),
        }
    }

    fn call(&self, f: ScalarFn, args: &[RowExpr]) -> String {
        let d = self.d;
        let x = || args.first().map(|a| self.number(a)).unwrap_or_else(|| "NULL".to_string());
        match f {
            ScalarFn::Abs => format!("ABS({})", x()),
            ScalarFn::Floor => format!("FLOOR({})", x()),
            ScalarFn::Ceil => format!("CEIL({})", x()),
            ScalarFn::Sqrt => {
                let x = x();
                format!("CASE WHEN {x} >= 0 THEN SQRT({x}) END")
            }
            ScalarFn::Ln => {
                let x = x();
                format!("CASE WHEN {x} > 0 THEN LN({x}) END")
            }
            // Half away from zero, like the local engine (`f64::round`), whatever the engine's
            // own ROUND does with halves.
            ScalarFn::Round => {
                let scale = match args.get(1) {
                    None => "1".to_string(),
                    Some(RowExpr::Const(Const::Number(n))) => number_literal(10f64.powi(*n as i32)),
                    // The digits are truncated toward zero, as the local engine does.
                    Some(e) => {
                        let n = self.number(e);
                        format!("POWER(10.0, CAST(SIGN({n}) * FLOOR(ABS({n})) AS {}))", d.bigint_type())
                    }
                };
                let y = format!("({} * {scale})", x());
                format!("(SIGN({y}) * FLOOR(ABS({y}) + 0.5) / {scale})")
            }
            ScalarFn::Coalesce => {
                let items: Vec<String> = args.iter().map(|a| self.operand(a)).collect();
                format!("COALESCE({})", items.join(", "))
            }
            ScalarFn::If => {
                let c = args.first().map(|a| self.boolean(a)).unwrap_or_else(|| "NULL".to_string());
                let a = args.get(1).map(|a| self.operand(a)).unwrap_or_else(|| "NULL".to_string());
                let b = args.get(2).map(|a| self.operand(a)).unwrap_or_else(|| "NULL".to_string());
                format!("CASE WHEN {c} THEN {a} ELSE {b} END")
            }
            ScalarFn::Greatest | ScalarFn::Least => {
                let items: Vec<String> = args.iter().map(|a| self.number(a)).collect();
                d.greatest_least(f == ScalarFn::Greatest, &items)
            }
        }
    }
}

/// A number as an SQL literal that reads back as the same double.
pub fn number_literal(x: f64) -> String {
    if x.is_finite() {
        let s = format!("{x:?}");
        if x < 0.0 {
            format!("({s})")
        } else {
            s
        }
    } else {
        "NULL".to_string()
    }
}

/// The type of a row expression (as the checker typed it).
fn ty(e: &RowExpr) -> Ty {
    match e {
        RowExpr::Column(_, t) => *t,
        RowExpr::Time => Ty::Date,
        RowExpr::Const(c) => match c {
            Const::Number(_) => Ty::Number,
            Const::Text(_) => Ty::Text,
            Const::Bool(_) => Ty::Bool,
            Const::Date(_) => Ty::Date,
            Const::Null => Ty::Null,
        },
        RowExpr::Unary(UnaryOp::Neg, _) => Ty::Number,
        RowExpr::Unary(UnaryOp::Not, _) => Ty::Bool,
        RowExpr::Binary(op, _, _) => match op {
            BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div => Ty::Number,
            _ => Ty::Bool,
        },
        RowExpr::In(..) | RowExpr::Between(..) => Ty::Bool,
        RowExpr::Call(f, args) => match f {
            ScalarFn::If => args.iter().skip(1).map(ty).find(|t| *t != Ty::Null).unwrap_or(Ty::Null),
            ScalarFn::Coalesce => args.iter().map(ty).find(|t| *t != Ty::Null).unwrap_or(Ty::Null),
            _ => Ty::Number,
        },
    }
}
