//! Time functions vs SQL: `kpi eval` on `tests/fixtures/timefns/pack.yaml` must give the numbers
//! DuckDB window functions over a calendar spine per group give (`tests/fixtures/timefns/expected.json`,
//! written by `make_expected.py`): previous, change, growth, rolling_sum, rolling_avg, cumulative
//! at month and week grains, with gaps (periods without rows are null).
//!
//! Every expected (KPI, group, period) must be in the report with the same value (relative
//! tolerance 1e-9, absolute near zero; `null` only matches `null`). Pairs that the report has and
//! SQL has not are listed too: SQL only emits pairs with at least one row.

mod common;

use common::sql_parity::assert_matches_sql;

#[test]
fn time_functions_match_duckdb_windows() {
    assert_matches_sql("tests/fixtures/timefns", "pack.yaml", "expected.json");
}

/// The same time functions over weeks starting on Sunday (`calendar: {week_start: sunday}`).
#[test]
fn time_functions_over_sunday_weeks_match_duckdb_windows() {
    assert_matches_sql("tests/fixtures/timefns", "sunday.yaml", "expected_sunday.json");
}
