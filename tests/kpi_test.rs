//! `kpi test` end to end: the binary over fixture packs in tests/fixtures/kpitest/.

use std::path::{Path, PathBuf};
use std::process::Command;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/kpitest")
}

/// Runs `kpi` in `dir`; returns the exit code, stdout and stderr.
fn kpi_in(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_kpi"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("the kpi binary runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn kpi(args: &[&str]) -> (i32, String, String) {
    kpi_in(&fixtures(), args)
}

fn transcript((code, out, err): (i32, String, String)) -> String {
    format!("exit: {code}\n--- stdout\n{out}--- stderr\n{err}")
}

#[test]
fn passing_pack_text() {
    let r = kpi(&["test", "passing"]);
    assert_eq!(r.0, 0, "{}", transcript(r.clone()));
    assert!(r.1.ends_with("3 passed, 0 failed\n"));
    insta::assert_snapshot!("passing_text", transcript(r));
}

#[test]
fn failing_pack_text_names_every_failed_expectation() {
    let r = kpi(&["test", "failing"]);
    assert_eq!(r.0, 1, "{}", transcript(r.clone()));
    assert!(r.1.ends_with("1 passed, 3 failed\n"));
    insta::assert_snapshot!("failing_text", transcript(r));
}

#[test]
fn failing_pack_junit() {
    let r = kpi(&["test", "failing", "--format", "junit"]);
    assert_eq!(r.0, 1);
    insta::assert_snapshot!("failing_junit", transcript(r));
}

#[test]
fn passing_pack_junit() {
    let r = kpi(&["test", "passing", "--format", "junit"]);
    assert_eq!(r.0, 0);
    insta::assert_snapshot!("passing_junit", transcript(r));
}

#[test]
fn bad_test_files_exit_2_with_places_and_hints() {
    let r = kpi(&["test", "bad_test_file"]);
    assert_eq!(r.0, 2);
    assert!(r.1.is_empty(), "nothing runs: {}", r.1);
    insta::assert_snapshot!("bad_test_file", transcript(r));
}

#[test]
fn filter_selects_cases_by_id() {
    let (code, out, _) = kpi(&["test", "failing", "passing"]);
    assert_eq!(code, 0);
    assert_eq!(out, "running 1 case\ntest still_passing ... ok\n1 passed, 0 failed\n");
    let (code, out, _) = kpi(&["test", "failing", "nothing-matches"]);
    assert_eq!(code, 0);
    assert_eq!(out, "running 0 cases\n0 passed, 0 failed\n");
}

#[test]
fn coverage_lists_what_no_expectation_touches() {
    let r = kpi(&["test", "failing", "--coverage"]);
    assert_eq!(r.0, 1);
    insta::assert_snapshot!("failing_coverage", transcript(r));
    let (code, out, _) = kpi(&["test", "passing", "--min-coverage", "100"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("coverage: 5 of 5 KPIs and goals have an expectation (100.0%)"), "{out}");
    let (code, out, _) = kpi(&["test", "passing", "still", "--min-coverage", "50"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("is below --min-coverage 50%"), "{out}");
    assert!(out.ends_with("0 passed, 0 failed\n"), "{out}");
    let (code, _, err) = kpi(&["test", "passing", "--min-coverage", "lots"]);
    assert_eq!(code, 2);
    assert!(err.contains("K0701"), "{err}");
}

#[test]
fn missing_pack_or_tests_folder_exit_2() {
    let (code, _, err) = kpi(&["test", "no_such_pack"]);
    assert_eq!(code, 2);
    assert!(err.contains("K0407"), "{err}");
    let (code, _, err) = kpi(&["test", "passing/tests/../pack.yaml"]);
    // A single-file pack reads the tests/ folder next to it.
    assert_eq!(code, 0, "{err}");
}

#[test]
fn shipped_smm_pack_passes_with_full_coverage() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let (code, out, err) = kpi_in(root, &["test", "kpis/smm", "--min-coverage", "100"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("(100.0%)"), "{out}");
    assert!(!out.contains("FAILED"), "{out}");
}

#[test]
fn periods_are_read_in_the_packs_calendar() {
    // Fiscal quarters and years (`2027-FQ1`, `FY2027`) and Sunday weeks in expectations.
    let r = kpi(&["test", "fiscal"]);
    assert_eq!(r.0, 0, "{}", transcript(r.clone()));
    assert!(r.1.ends_with("1 passed, 0 failed\n"), "{}", r.1);
}
