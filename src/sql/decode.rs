//! Result rows of a generated statement ([`super::plan_to_sql`]) back into the aggregate
//! table, whatever engine ran it.

use crate::plan::{AggRow, DatasetPlan};

/// One result row, as any driver reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct ResultRow {
    /// `kpi__query`.
    pub query: i64,
    /// `kpi__k*` (all of them; the query's own come first).
    pub keys: Vec<Option<String>>,
    /// `kpi__period`.
    pub period: i64,
    /// `kpi__n`.
    pub rows: i64,
    /// `kpi__v*` (all of them; the query's own come first); `None` = NULL.
    pub values: Vec<Option<f64>>,
}

/// The rows of each query of the plan, as the local backend would give them. A row that
/// does not fit the plan (an unknown query, a period key out of range) is an error: it
/// means the statement was not the one generated for this plan.
pub fn rows_to_table(
    dp: &DatasetPlan,
    rows: impl IntoIterator<Item = ResultRow>,
) -> Result<Vec<Vec<AggRow>>, String> {
    let mut out: Vec<Vec<AggRow>> = vec![Vec::new(); dp.queries.len()];
    for r in rows {
        let q = usize::try_from(r.query)
            .ok()
            .and_then(|q| dp.queries.get(q).map(|x| (q, x)))
            .ok_or_else(|| format!("result row names query {} of {}", r.query, dp.queries.len()))?;
        let (qi, query) = q;
        let period =
            i32::try_from(r.period).map_err(|_| format!("period key {} is out of range", r.period))?;
        if r.keys.len() < query.dim_names.len() || r.values.len() < query.aggs.len() {
            return Err(format!(
                "result row has {} keys and {} values; query {qi} needs {} and {}",
                r.keys.len(),
                r.values.len(),
                query.dim_names.len(),
                query.aggs.len()
            ));
        }
        out[qi].push(AggRow {
            key: r.keys.into_iter().take(query.dim_names.len()).collect(),
            period,
            rows: r.rows.max(0) as u64,
            values: r.values.into_iter().take(query.aggs.len()).map(|v| v.unwrap_or(f64::NAN)).collect(),
        });
    }
    for q in &mut out {
        q.sort_by(|a, b| a.key.cmp(&b.key).then(a.period.cmp(&b.period)));
    }
    Ok(out)
}
