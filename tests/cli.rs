//! The binary end to end on the shipped pack: reports as snapshots, exit codes.

use std::process::Command;

fn kpi(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_kpi"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the kpi binary runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn smm_table_report() {
    let (code, out, err) = kpi(&["eval", "kpis/smm", "--as-of", "2026-11-20"]);
    // The shipped goals include failing periods, so the default --fail-on fail exits 1.
    assert_eq!(code, 1, "{err}");
    assert!(out.lines().all(|l| l.chars().count() <= 100), "the table fits 100 columns");
    insta::assert_snapshot!("smm_table", out);
}

#[test]
fn smm_json_report_for_october() {
    let (code, out, err) =
        kpi(&["eval", "kpis/smm", "--as-of", "2026-11-20", "--period", "2026-10", "--format", "json"]);
    assert_eq!(code, 1, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("one JSON document");
    assert_eq!(v["schema"], "kpi-report/1");
    insta::assert_json_snapshot!("smm_json_2026_10", v);
}

#[test]
fn fail_on_levels_decide_the_exit_code() {
    let (never, _, _) =
        kpi(&["eval", "kpis/smm", "--as-of", "2026-11-20", "--format", "json", "--fail-on", "never"]);
    assert_eq!(never, 0);
    // September 2026 alone holds a fail (tiktok CPC), so `fail` exits 1 ...
    let (fail, _, _) =
        kpi(&["eval", "kpis/smm", "--as-of", "2026-11-20", "--format", "json", "--period", "2026-09"]);
    assert_eq!(fail, 1);
    // ... while the first quarter only passes.
    let (q1, out, _) =
        kpi(&["eval", "kpis/smm", "--as-of", "2026-11-20", "--format", "json", "--period", "2026-Q1"]);
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(v["summary"]["pass"], 1, "{out}");
    assert_eq!(q1, 0);
    let (warn, _, _) = kpi(&[
        "eval",
        "kpis/smm",
        "--as-of",
        "2026-11-20",
        "--format",
        "json",
        "--period",
        "2026-Q2",
        "--fail-on",
        "warn",
    ]);
    assert_eq!(warn, 1, "Q2 ROI is a warn");
}

#[test]
fn same_inputs_give_identical_reports() {
    let a = kpi(&["eval", "kpis/smm", "--as-of", "2026-11-20", "--format", "json"]);
    let b = kpi(&["eval", "kpis/smm", "--as-of", "2026-11-20", "--format", "json"]);
    assert_eq!(a.1, b.1);
}

#[test]
fn check_accepts_the_shipped_pack() {
    let (code, _, err) = kpi(&["check", "kpis/smm"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("23 KPI(s)"), "{err}");
}

#[test]
fn bad_command_lines_exit_2() {
    assert_eq!(kpi(&["eval", "kpis/smm", "--as-of", "2026-02-30"]).0, 2);
    assert_eq!(kpi(&["eval", "kpis/smm", "--data", "nope"]).0, 2);
    assert_eq!(kpi(&["eval", "kpis/smm", "--data", "postz=x.csv"]).0, 2);
    assert_eq!(kpi(&["eval", "kpis/smm", "--period", "2026-13"]).0, 2);
    assert_eq!(kpi(&["eval", "kpis/smm", "--format", "yaml"]).0, 2);
    assert_eq!(kpi(&["frobnicate"]).0, 2);
    assert_eq!(kpi(&["--help"]).0, 0);
}

#[test]
fn a_missing_data_file_exits_3() {
    let (code, _, err) = kpi(&["eval", "kpis/smm", "--data", "posts=does/not/exist.csv"]);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("does/not/exist.csv"), "{err}");
}

#[test]
fn strict_check_passes_the_shipped_pack_and_fails_vague_goals() {
    let (code, _, err) = kpi(&["check", "kpis/smm", "--strict"]);
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = kpi(&["check", "tests/fixtures/vague/pack.yaml", "--strict"]);
    assert_eq!(code, 1, "{err}");
    for needle in [
        "goal `no_description_no_owner` is not SMART — S: needs a description, an owner",
        "goal `no_scope` is not SMART — S: needs an explicit scope (`for:`)",
        "goal `no_objective` is not SMART — R: needs an objective",
        "goal `no_window` is not SMART — T: needs a window with a start and an end",
    ] {
        assert!(err.contains(needle), "missing `{needle}` in:\n{err}");
    }
    // Without --strict the same pack only warns.
    assert_eq!(kpi(&["check", "tests/fixtures/vague/pack.yaml"]).0, 0);
}
