//! The SQL comparison shared by the parity and time-function tests: `kpi eval` on a fixture
//! pack must give the values a DuckDB script computed (`expected*.json`, the shape of the
//! report's `kpis[].values`). Every expected (KPI, group, period) must be in the report with the
//! same value (relative tolerance 1e-9, absolute near zero; `null` only matches `null`), and
//! pairs the report has but SQL has not are listed too: SQL only emits pairs with rows.

use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

const TOLERANCE: f64 = 1e-9;

type Key = (String, String, String); // kpi id, group as canonical JSON, period

/// The group object in a canonical form: keys sorted, values as JSON text.
fn group_key(group: Option<&Value>) -> String {
    let sorted: BTreeMap<&String, &Value> =
        group.and_then(Value::as_object).map(|m| m.iter().collect()).unwrap_or_default();
    serde_json::to_string(&sorted).unwrap_or_default()
}

/// `{kpi: [{group, period, value}]}` (expected.json, or the report's kpis[] reshaped) as a map.
fn index(by_kpi: &Map<String, Value>) -> BTreeMap<Key, Value> {
    let mut out = BTreeMap::new();
    for (kpi, values) in by_kpi {
        for v in values.as_array().into_iter().flatten() {
            let period = v.get("period").and_then(Value::as_str).unwrap_or("").to_string();
            let value = v.get("value").cloned().unwrap_or(Value::Null);
            out.insert((kpi.clone(), group_key(v.get("group")), period), value);
        }
    }
    out
}

fn same(want: &Value, got: &Value) -> bool {
    match (want.as_f64(), got.as_f64()) {
        (Some(w), Some(g)) => (w - g).abs() <= TOLERANCE * w.abs().max(1.0),
        _ => want.is_null() && got.is_null(),
    }
}

/// Runs `kpi eval FIXTURE_DIR/PACK` and compares its KPI values with `FIXTURE_DIR/EXPECTED_FILE`.
pub fn assert_matches_sql(fixture_dir: &str, pack: &str, expected_file: &str) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let fixtures = root.join(fixture_dir);
    let expected_text = std::fs::read_to_string(fixtures.join(expected_file))
        .unwrap_or_else(|e| panic!("cannot read expected.json: {e}"));
    let expected: Value =
        serde_json::from_str(&expected_text).unwrap_or_else(|e| panic!("expected.json is not JSON: {e}"));
    let expected = index(expected.as_object().expect("expected.json holds an object"));

    let out = Command::new(env!("CARGO_BIN_EXE_kpi"))
        .current_dir(root)
        .args([
            "eval",
            &format!("{fixture_dir}/{pack}"),
            "--format",
            "json",
            "--as-of",
            "2026-12-31",
            "--fail-on",
            "never",
        ])
        .output()
        .unwrap_or_else(|e| panic!("cannot run kpi: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "kpi eval exited with {:?}\nstderr:\n{stderr}", out.status.code());
    let report: Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("the report is not JSON ({e}):\n{stdout}\nstderr:\n{stderr}"));

    let mut by_kpi = Map::new();
    for k in report.get("kpis").and_then(Value::as_array).into_iter().flatten() {
        let id = k.get("id").and_then(Value::as_str).unwrap_or("").to_string();
        by_kpi.insert(id, k.get("values").cloned().unwrap_or(Value::Null));
    }
    let actual = index(&by_kpi);

    let mut problems = Vec::new();
    for (key, want) in &expected {
        match actual.get(key) {
            None => problems.push(format!("{} {} {}: missing (want {want})", key.0, key.1, key.2)),
            Some(got) if !same(want, got) => {
                problems.push(format!("{} {} {}: want {want}, got {got}", key.0, key.1, key.2))
            }
            Some(_) => {}
        }
    }
    let checked: std::collections::BTreeSet<&String> = expected.keys().map(|k| &k.0).collect();
    for (key, got) in &actual {
        if checked.contains(&key.0) && !expected.contains_key(key) {
            problems.push(format!("{} {} {}: unexpected value {got} (no rows)", key.0, key.1, key.2));
        }
    }
    assert!(
        problems.is_empty(),
        "{} of {} expected values differ from DuckDB:\n{}",
        problems.len(),
        expected.len(),
        problems.join("\n")
    );
}
