//! The plan (IR): per dataset, the distinct aggregates and the groupings and bucketings
//! they are needed at. Every backend turns a plan into the same aggregate table.

use crate::calendar::{Calendar, DateRange, Grain};
use crate::check::{AggCall, AggFn, Model, RowExpr};
use crate::engine::batch::ColType;
use crate::engine::source::{BadRowPolicy, ColumnRequest, FileFormat, ReadRequest};
use std::collections::BTreeSet;

/// How rows are bucketed in time.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Bucketing {
    /// Calendar periods of a grain.
    Grain(Grain),
    /// Explicit date ranges (goal windows and their baselines); a row may fall in several.
    Ranges(Vec<DateRange>),
}

/// One grouping of one dataset's rows.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    /// Dimension columns (indexes into the dataset's read columns), in `by` order.
    pub dims: Vec<usize>,
    /// Their names.
    pub dim_names: Vec<String>,
    /// Time bucketing.
    pub buckets: Bucketing,
    /// Aggregates computed (indexes into [`DatasetPlan::aggs`]).
    pub aggs: Vec<usize>,
}

/// Everything computed from one dataset in one scan.
#[derive(Debug, Clone)]
pub struct DatasetPlan {
    /// Index of the dataset in the model.
    pub dataset: usize,
    /// What to read (file backends).
    pub read: Option<ReadRequest>,
    /// The distinct aggregates.
    pub aggs: Vec<AggCall>,
    /// The groupings.
    pub queries: Vec<Query>,
    /// The calendar that grain bucketings use.
    pub calendar: Calendar,
}

/// The whole plan.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// One entry per dataset that some KPI reads.
    pub datasets: Vec<DatasetPlan>,
    /// The last day of data taken (`--as-of`).
    pub as_of: i32,
}

impl Plan {
    /// The query of dataset `ds` at (`by`, `buckets`), if planned: (plan index, query index).
    pub fn find(&self, ds: usize, by: &[String], buckets: &Bucketing) -> Option<(usize, usize)> {
        let pi = self.datasets.iter().position(|p| p.dataset == ds)?;
        let qi = self.datasets[pi].queries.iter().position(|q| q.dim_names == by && &q.buckets == buckets)?;
        Some((pi, qi))
    }
}

/// Which KPIs are needed at which bucketing.
#[derive(Debug, Clone, Default)]
pub struct Needs {
    /// (bucketing, KPI) pairs; KPIs' dependencies are added by [`model_to_plan`].
    pub items: Vec<(Bucketing, usize)>,
}

/// Builds the plan: for every needed (bucketing, KPI) and the KPIs it reads, a query on
/// its dataset at its `by`, with identical aggregates shared.
pub fn model_to_plan(
    model: &Model,
    needs: &Needs,
    as_of: i32,
    on_bad_row: BadRowPolicy,
    timezone: Option<String>,
) -> Plan {
    let mut plan = Plan { datasets: Vec::new(), as_of };
    let mut todo: Vec<(Bucketing, usize)> = needs.items.clone();
    let mut done: BTreeSet<(String, usize)> = BTreeSet::new();
    while let Some((b, k)) = todo.pop() {
        if !done.insert((format!("{b:?}"), k)) {
            continue;
        }
        let kpi = &model.kpis[k];
        for &d in &kpi.deps {
            todo.push((b.clone(), d));
        }
        let ds = &model.datasets[kpi.dataset];
        let pi = match plan.datasets.iter().position(|p| p.dataset == kpi.dataset) {
            Some(i) => i,
            None => {
                let read = ds.source.as_ref().and_then(|s| s.path.clone()).map(|path| ReadRequest {
                    dataset: ds.id.clone(),
                    format: FileFormat::from_path(&path).unwrap_or(FileFormat::Csv),
                    path,
                    time_column: ds.time.clone(),
                    columns: Vec::new(),
                    on_bad_row,
                    timezone: timezone.clone().or_else(|| model.calendar.timezone.clone()),
                });
                plan.datasets.push(DatasetPlan {
                    dataset: kpi.dataset,
                    read,
                    aggs: Vec::new(),
                    queries: Vec::new(),
                    calendar: model.calendar.clone(),
                });
                plan.datasets.len() - 1
            }
        };
        let dp = &mut plan.datasets[pi];
        let agg_ids: Vec<usize> = kpi
            .aggs
            .iter()
            .map(|a| match dp.aggs.iter().position(|x| x == a) {
                Some(i) => i,
                None => {
                    dp.aggs.push(a.clone());
                    dp.aggs.len() - 1
                }
            })
            .collect();
        let qi = match dp.queries.iter().position(|q| q.dim_names == kpi.by && q.buckets == b) {
            Some(i) => i,
            None => {
                dp.queries.push(Query {
                    dims: Vec::new(),
                    dim_names: kpi.by.clone(),
                    buckets: b.clone(),
                    aggs: Vec::new(),
                });
                dp.queries.len() - 1
            }
        };
        for a in agg_ids {
            if !dp.queries[qi].aggs.contains(&a) {
                dp.queries[qi].aggs.push(a);
            }
        }
    }
    // Columns: those the formulas read, then the dimensions the queries group by.
    for dp in &mut plan.datasets {
        let ds = &model.datasets[dp.dataset];
        // A text column that is only ever counted distinct is read as distinct keys, not interned.
        let mut used_otherwise = vec![false; ds.columns.len()];
        for a in &dp.aggs {
            match (&a.func, &a.arg) {
                (AggFn::CountDistinct, Some(RowExpr::Column(_, _))) => {}
                (_, Some(e)) => mark_columns(e, &mut used_otherwise),
                _ => {}
            }
            if let Some(f) = &a.filter {
                mark_columns(f, &mut used_otherwise);
            }
        }
        let mut columns: Vec<ColumnRequest> = ds
            .columns
            .iter()
            .enumerate()
            .map(|(i, (n, t))| {
                let ty = if *t == ColType::Text && !used_otherwise[i] { ColType::Key } else { *t };
                ColumnRequest { name: n.clone(), ty }
            })
            .collect();
        for q in &mut dp.queries {
            q.dims = q
                .dim_names
                .iter()
                .map(|d| match columns.iter().position(|c| &c.name == d && c.ty == ColType::Text) {
                    Some(i) => i,
                    None => {
                        columns.push(ColumnRequest { name: d.clone(), ty: ColType::Text });
                        columns.len() - 1
                    }
                })
                .collect();
            q.aggs.sort_unstable();
        }
        if let Some(r) = dp.read.as_mut() {
            r.columns = columns;
        }
    }
    plan.datasets.sort_by_key(|d| d.dataset);
    plan
}

/// Marks the columns (indexes into the dataset's read list) that a row expression reads.
pub fn mark_columns(e: &RowExpr, used: &mut [bool]) {
    match e {
        RowExpr::Column(i, _) => {
            if let Some(u) = used.get_mut(*i) {
                *u = true;
            }
        }
        RowExpr::Time | RowExpr::Const(_) => {}
        RowExpr::Unary(_, x) => mark_columns(x, used),
        RowExpr::Binary(_, a, b) => {
            mark_columns(a, used);
            mark_columns(b, used);
        }
        RowExpr::In(x, l, _) => {
            mark_columns(x, used);
            l.iter().for_each(|y| mark_columns(y, used));
        }
        RowExpr::Between(x, a, b, _) => {
            mark_columns(x, used);
            mark_columns(a, used);
            mark_columns(b, used);
        }
        RowExpr::Call(_, args) => args.iter().for_each(|y| mark_columns(y, used)),
    }
}

/// One row of the aggregate table: a group, a period, and the query's aggregate values.
#[derive(Debug, Clone, PartialEq)]
pub struct AggRow {
    /// Dimension values in the query's `dims` order; `None` = null.
    pub key: Vec<Option<String>>,
    /// Period key in the bucketing (grain key, or range index).
    pub period: i32,
    /// Rows in this group and period (before filters).
    pub rows: u64,
    /// Values parallel to the query's `aggs`; NaN = null.
    pub values: Vec<f64>,
}

/// The aggregate table: what every backend produces, per dataset plan, per query.
#[derive(Debug, Clone, Default)]
pub struct AggTable {
    /// Parallel to [`Plan::datasets`], then to each plan's queries.
    pub queries: Vec<Vec<Vec<AggRow>>>,
    /// Per dataset plan: rows read and skipped.
    pub stats: Vec<crate::engine::source::ScanStats>,
}
