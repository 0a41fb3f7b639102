//! SQL parity: `kpi eval` on `tests/fixtures/parity/pack.yaml` must give the numbers DuckDB gives
//! for the same KPIs (`tests/fixtures/parity/expected.json`, written by `make_expected.py`).
//!
//! Every expected (KPI, group, period) must be in the report with the same value (relative
//! tolerance 1e-9, absolute near zero; `null` only matches `null`). Pairs that the report has and
//! SQL has not are listed too: SQL only emits pairs with at least one row.

mod common;

use common::sql_parity::assert_matches_sql;

#[test]
fn kpi_values_match_duckdb_sql() {
    assert_matches_sql("tests/fixtures/parity", "pack.yaml", "expected.json");
}
