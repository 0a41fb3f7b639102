//! Goal statuses at a fixed `--as-of`: `tests/fixtures/goals` has a goal result of every status
//! (pass, warn, fail, no_data, error, on_track, at_risk, off_track), literal and computed
//! baselines, and projections of unfinished windows. The goals part of the JSON report (and the
//! summary) is an insta snapshot.

use serde_json::Value;
use std::process::Command;

fn report(as_of: &str) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_kpi"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["eval", "tests/fixtures/goals", "--format", "json", "--as-of", as_of, "--fail-on", "never"])
        .output()
        .expect("the kpi binary runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "kpi eval failed:\n{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("the report is not JSON ({e}):\n{stdout}"))
}

#[test]
fn every_status_appears() {
    let r = report("2026-06-15");
    let mut seen: Vec<String> = r["goals"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|g| g["results"].as_array().cloned().unwrap_or_default())
        .filter_map(|res| res["status"].as_str().map(str::to_string))
        .collect();
    seen.sort();
    seen.dedup();
    for s in ["pass", "warn", "fail", "no_data", "error", "on_track", "at_risk", "off_track"] {
        assert!(seen.iter().any(|x| x == s), "no `{s}` result; seen {seen:?}");
        assert!(r["summary"][s].as_u64().unwrap_or(0) > 0, "summary has no {s}");
    }
}

#[test]
fn goal_statuses_snapshot() {
    let r = report("2026-06-15");
    let goals = serde_json::json!({"as_of": r["as_of"], "goals": r["goals"], "summary": r["summary"]});
    insta::assert_json_snapshot!("goal_statuses_2026_06_15", goals);
}

#[test]
fn finished_windows_are_judged_not_projected() {
    // As of the end of the half year every window is finished: no pace statuses remain, and the
    // rows dated after 2026-06-15 now count.
    let r = report("2026-06-30");
    for g in r["goals"].as_array().into_iter().flatten() {
        for res in g["results"].as_array().into_iter().flatten() {
            let s = res["status"].as_str().unwrap_or("");
            assert!(!["on_track", "at_risk", "off_track"].contains(&s), "{} {res}", g["id"]);
            assert!(res.get("projected").is_none(), "{} {res}", g["id"]);
        }
    }
}
