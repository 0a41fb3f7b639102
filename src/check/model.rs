//! The checked model: names resolved, types known, formulas split into the aggregates a
//! backend computes and the arithmetic evaluated over them.

use crate::calendar::{DateRange, Grain};
use crate::diagnostic::SrcSpan;
use crate::engine::batch::ColType;
use crate::spec::{FormulaText, Item, SourceSpec};
use crate::syntax::ast::{BinOp, UnaryOp};
use std::path::PathBuf;

/// The type of a value in a formula.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Ty {
    /// A 64-bit float.
    Number,
    /// Text.
    Text,
    /// A boolean.
    Bool,
    /// A date.
    Date,
    /// `null`: fits anything.
    Null,
}

impl Ty {
    /// The type's name in messages.
    pub fn name(self) -> &'static str {
        match self {
            Ty::Number => "a number",
            Ty::Text => "text",
            Ty::Bool => "a boolean",
            Ty::Date => "a date",
            Ty::Null => "null",
        }
    }

    /// Whether a value of this type can stand where `want` is needed.
    pub fn fits(self, want: Ty) -> bool {
        self == want || self == Ty::Null
    }
}

/// A KPI's unit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unit {
    /// A count of things.
    Count,
    /// A fraction shown as percent.
    Percent,
    /// A plain ratio.
    Ratio,
    /// Money in a currency (`USD`).
    Currency(String),
    /// A duration in seconds.
    Seconds,
    /// Anything else, shown after the number.
    Other(String),
    /// No unit given.
    None,
}

impl Unit {
    /// Reads a unit as written.
    pub fn parse(s: &str) -> Unit {
        let t = s.trim();
        match t {
            "count" => Unit::Count,
            "percent" | "%" => Unit::Percent,
            "ratio" => Unit::Ratio,
            "seconds" | "s" => Unit::Seconds,
            "" => Unit::None,
            _ => match t.strip_prefix("currency:") {
                Some(c) => Unit::Currency(c.trim().to_string()),
                None => Unit::Other(t.to_string()),
            },
        }
    }

    /// The unit as written in the report.
    pub fn as_string(&self) -> Option<String> {
        match self {
            Unit::Count => Some("count".into()),
            Unit::Percent => Some("percent".into()),
            Unit::Ratio => Some("ratio".into()),
            Unit::Currency(c) => Some(format!("currency:{c}")),
            Unit::Seconds => Some("seconds".into()),
            Unit::Other(s) => Some(s.clone()),
            Unit::None => None,
        }
    }
}

/// A constant value.
#[derive(Debug, Clone, PartialEq)]
pub enum Const {
    /// A number.
    Number(f64),
    /// Text.
    Text(String),
    /// A boolean.
    Bool(bool),
    /// A date (day number).
    Date(i32),
    /// null.
    Null,
}

/// Scalar functions, usable in rows and over KPI values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ScalarFn {
    /// `abs(x)`
    Abs,
    /// `round(x)`, `round(x, n)`
    Round,
    /// `floor(x)`
    Floor,
    /// `ceil(x)`
    Ceil,
    /// `sqrt(x)`: null for negatives.
    Sqrt,
    /// `ln(x)`: null for x <= 0.
    Ln,
    /// `coalesce(a, b, ...)`
    Coalesce,
    /// `if(cond, a, b)`
    If,
    /// `greatest(...)`: nulls ignored.
    Greatest,
    /// `least(...)`: nulls ignored.
    Least,
}

/// Aggregate functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AggFn {
    /// `sum(e)`
    Sum,
    /// `avg(e)`
    Avg,
    /// `min(e)`
    Min,
    /// `max(e)`
    Max,
    /// `count()` (no argument) or `count(e)` (non-null values).
    Count,
    /// `count_distinct(e)`
    CountDistinct,
    /// `first(e)` by time.
    First,
    /// `last(e)` by time.
    Last,
    /// `median(e)`
    Median,
    /// `percentile(e, p)`
    Percentile,
}

impl AggFn {
    /// The function's name.
    pub fn name(self) -> &'static str {
        match self {
            AggFn::Sum => "sum",
            AggFn::Avg => "avg",
            AggFn::Min => "min",
            AggFn::Max => "max",
            AggFn::Count => "count",
            AggFn::CountDistinct => "count_distinct",
            AggFn::First => "first",
            AggFn::Last => "last",
            AggFn::Median => "median",
            AggFn::Percentile => "percentile",
        }
    }
}

/// Time functions over a KPI's series of periods.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TimeFn {
    /// `previous(e, n)`
    Previous,
    /// `change(e)`
    Change,
    /// `growth(e)`
    Growth,
    /// `rolling_sum(e, n)`
    RollingSum,
    /// `rolling_avg(e, n)`
    RollingAvg,
    /// `cumulative(e)`
    Cumulative,
}

/// A row-level expression, evaluated on every row of a dataset.
#[derive(Debug, Clone, PartialEq)]
pub enum RowExpr {
    /// A column, by its index in the dataset's read list, with its type.
    Column(usize, Ty),
    /// The time column (a date).
    Time,
    /// A constant.
    Const(Const),
    /// `-x`, `not x`.
    Unary(UnaryOp, Box<RowExpr>),
    /// `a op b`.
    Binary(BinOp, Box<RowExpr>, Box<RowExpr>),
    /// `x in (...)`, negated for `not in`.
    In(Box<RowExpr>, Vec<RowExpr>, bool),
    /// `x between a and b`, negated for `not between`.
    Between(Box<RowExpr>, Box<RowExpr>, Box<RowExpr>, bool),
    /// A scalar function.
    Call(ScalarFn, Vec<RowExpr>),
}

/// One aggregate: function, row expression, filter. Two identical aggregates in a dataset
/// are computed once.
#[derive(Debug, Clone, PartialEq)]
pub struct AggCall {
    /// The function.
    pub func: AggFn,
    /// The row expression (absent for `count()`).
    pub arg: Option<RowExpr>,
    /// The `where` filter.
    pub filter: Option<RowExpr>,
    /// The percentile's fraction (0.5 for median).
    pub param: f64,
}

/// A KPI-level expression, evaluated per group and period over aggregate values.
#[derive(Debug, Clone, PartialEq)]
pub enum KpiExpr {
    /// A constant.
    Const(Const),
    /// An aggregate: index into the KPI's `aggs`.
    Agg(usize),
    /// Another KPI's value for the same group (projected onto its `by`) and period.
    Kpi(usize),
    /// `-x`, `not x`.
    Unary(UnaryOp, Box<KpiExpr>),
    /// `a op b`.
    Binary(BinOp, Box<KpiExpr>, Box<KpiExpr>),
    /// `x in (...)`.
    In(Box<KpiExpr>, Vec<KpiExpr>, bool),
    /// `x between a and b`.
    Between(Box<KpiExpr>, Box<KpiExpr>, Box<KpiExpr>, bool),
    /// A scalar function.
    Call(ScalarFn, Vec<KpiExpr>),
    /// A time function over the series of periods; `n` is its count argument (1 if none).
    Time(TimeFn, Box<KpiExpr>, u32),
    /// The goal's baseline (only in targets).
    Baseline,
}

/// A dataset with its binding and columns.
#[derive(Debug, Clone)]
pub struct DatasetDef {
    /// Its id.
    pub id: String,
    /// Where it is defined.
    pub span: SrcSpan,
    /// Where the rows come from, once bound.
    pub source: Option<BoundSource>,
    /// The time column.
    pub time: String,
    /// Dimension columns.
    pub dimensions: Vec<String>,
    /// The columns formulas read, in read order, with their types.
    pub columns: Vec<(String, ColType)>,
    /// Every known column (from declarations and the data's header) and its type.
    pub known: Vec<(String, Ty)>,
    /// Whether the data's header was read (so unknown columns could be detected).
    pub header_read: bool,
}

impl DatasetDef {
    /// Index of a read column, adding it if new.
    pub fn column_index(&mut self, name: &str, ty: ColType) -> usize {
        if let Some(i) = self.columns.iter().position(|(n, _)| n == name) {
            return i;
        }
        self.columns.push((name.to_string(), ty));
        self.columns.len() - 1
    }
}

/// A bound source.
#[derive(Debug, Clone, PartialEq)]
pub struct BoundSource {
    /// The spec.
    pub spec: SourceSpec,
    /// For a file: its path, resolved.
    pub path: Option<PathBuf>,
    /// Where it was bound (YAML span, or none for the command line).
    pub span: Option<SrcSpan>,
    /// How it is shown (credentials redacted).
    pub display: String,
}

/// How a KPI behaves over time, for projections.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum KpiKind {
    /// Sums and counts: grows with the window.
    Additive,
    /// `last`/`first`: a level at a point in time.
    Stock,
    /// Anything else (ratios, averages): judged on the value to date.
    Ratio,
}

/// A checked KPI.
#[derive(Debug, Clone)]
pub struct KpiDef {
    /// Its id.
    pub id: String,
    /// Where its id is written.
    pub span: SrcSpan,
    /// Display name (the id if none).
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// Unit.
    pub unit: Unit,
    /// Index of its dataset.
    pub dataset: usize,
    /// Group-by dimensions.
    pub by: Vec<String>,
    /// Grain.
    pub grain: Grain,
    /// The formula as written.
    pub formula: FormulaText,
    /// The formula's KPI-level expression.
    pub expr: KpiExpr,
    /// Its aggregates (indexes into `expr`'s `Agg`).
    pub aggs: Vec<AggCall>,
    /// KPIs it reads directly.
    pub deps: Vec<usize>,
    /// For projections.
    pub kind: KpiKind,
    /// Tags.
    pub tags: Vec<String>,
}

/// A goal's comparison.
#[derive(Debug, Clone)]
pub enum Band {
    /// `OP VALUE`.
    Compare(BinOp, KpiExpr),
    /// `between LOW and HIGH`.
    Between(KpiExpr, KpiExpr),
}

/// A checked goal.
#[derive(Debug, Clone)]
pub struct GoalDef {
    /// Its id.
    pub id: String,
    /// Where its id is written.
    pub span: SrcSpan,
    /// Index of its KPI.
    pub kpi: usize,
    /// Description.
    pub description: Option<String>,
    /// Scope: dimension → accepted values.
    pub for_: Vec<(String, Vec<String>)>,
    /// The target as written, and its band.
    pub target: (String, Band),
    /// The warn band, if any.
    pub warn: Option<(String, Band)>,
    /// The window.
    pub window: Option<DateRange>,
    /// The judging grain, if any.
    pub each: Option<Grain>,
    /// A literal baseline.
    pub baseline: Option<KpiExpr>,
    /// Objective id.
    pub objective: Option<String>,
    /// Owner.
    pub owner: Option<String>,
    /// Whether the objective is declared.
    pub objective_known: bool,
    /// The fields set by an importer's `overrides:`.
    pub overridden: Vec<String>,
}

/// The checked pack.
#[derive(Debug, Clone)]
pub struct Model {
    /// Pack name.
    pub name: String,
    /// Pack version.
    pub version: String,
    /// Datasets.
    pub datasets: Vec<DatasetDef>,
    /// KPIs, in pack order.
    pub kpis: Vec<KpiDef>,
    /// KPIs in dependency order (each after those it reads).
    pub order: Vec<usize>,
    /// Goals, in pack order.
    pub goals: Vec<GoalDef>,
    /// Objectives: id → text.
    pub objectives: Vec<(String, String)>,
    /// Where each goal is written, for annotations.
    pub goal_items: Vec<Item<String>>,
    /// The pack's calendar: week start, fiscal year start, time zone.
    pub calendar: crate::calendar::Calendar,
}
