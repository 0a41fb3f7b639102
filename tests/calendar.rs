//! `calendar:` of a pack: the same events (tests/fixtures/calendar/events.csv, RFC 3339 UTC
//! datetimes) bucketed by the default calendar (`iso.yaml`: ISO weeks, calendar quarters, UTC)
//! and by `berlin.yaml` (weeks from Sunday, fiscal years from April named after the year they
//! end in, datetimes converted to Europe/Berlin, whose clocks go forward on 2026-03-29).

use serde_json::Value;
use std::process::Command;

fn kpi(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_kpi"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(args)
        .output()
        .expect("the kpi binary runs")
}

/// KPI id → [(period, value)] of `kpi eval PACK --as-of 2027-12-31`.
fn values(pack: &str) -> Vec<(String, Vec<(String, f64)>)> {
    let out = kpi(&["eval", pack, "--as-of", "2027-12-31", "--format", "json", "--fail-on", "never"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let r: Value = serde_json::from_slice(&out.stdout).expect("a JSON report");
    r["kpis"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|k| {
            let vs = k["values"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|v| {
                    (v["period"].as_str().unwrap_or("").to_string(), v["value"].as_f64().unwrap_or(f64::NAN))
                })
                .collect();
            (k["id"].as_str().unwrap_or("").to_string(), vs)
        })
        .collect()
}

fn kpi_values<'a>(all: &'a [(String, Vec<(String, f64)>)], id: &str) -> Vec<(&'a str, f64)> {
    all.iter()
        .find(|(k, _)| k == id)
        .map(|(_, vs)| vs.iter().map(|(p, v)| (p.as_str(), *v)).collect())
        .unwrap_or_default()
}

#[test]
fn default_calendar_iso_weeks_and_utc_days() {
    let v = values("tests/fixtures/calendar/iso.yaml");
    assert_eq!(
        kpi_values(&v, "daily"),
        [
            ("2026-03-28", 2.0),
            ("2026-03-29", 2.0),
            ("2026-03-31", 2.0),
            ("2026-04-01", 1.0),
            ("2026-12-27", 1.0),
            ("2026-12-28", 1.0),
            ("2027-01-03", 1.0)
        ]
    );
    // 2026 has 53 ISO weeks: Monday 2026-12-28 to Sunday 2027-01-03 is 2026-W53.
    assert_eq!(
        kpi_values(&v, "weekly"),
        [("2026-W13", 4.0), ("2026-W14", 3.0), ("2026-W52", 1.0), ("2026-W53", 2.0)]
    );
    assert_eq!(
        kpi_values(&v, "quarterly"),
        [("2026-Q1", 6.0), ("2026-Q2", 1.0), ("2026-Q4", 2.0), ("2027-Q1", 1.0)]
    );
    assert_eq!(kpi_values(&v, "yearly"), [("2026", 9.0), ("2027", 1.0)]);
    // W52 directly precedes W53: growth is 2 / 1 - 1.
    assert_eq!(kpi_values(&v, "weekly_growth")[3], ("2026-W53", 1.0));
}

#[test]
fn berlin_days_across_the_dst_change() {
    let v = values("tests/fixtures/calendar/berlin.yaml");
    // 2026-03-28T23:30Z is 00:30 on the 29th in Berlin (CET, +1); 2026-03-29T21:30Z is 23:30
    // on the 29th (CEST, +2) and 22:30Z is already the 30th; 2026-03-31T22:30Z is April 1st.
    assert_eq!(
        kpi_values(&v, "daily"),
        [
            ("2026-03-28", 1.0),
            ("2026-03-29", 2.0),
            ("2026-03-30", 1.0),
            ("2026-03-31", 1.0),
            ("2026-04-01", 2.0),
            ("2026-12-27", 1.0),
            ("2026-12-28", 1.0),
            ("2027-01-03", 1.0)
        ]
    );
}

#[test]
fn sunday_weeks_are_labelled_by_the_iso_week_of_most_of_their_days() {
    let v = values("tests/fixtures/calendar/berlin.yaml");
    // Sun 2026-03-29 .. Sat 04-04 is W14; Sun 2026-12-27 .. Sat 2027-01-02 is W53; Sunday
    // 2027-01-03 starts 2027-W01.
    assert_eq!(
        kpi_values(&v, "weekly"),
        [("2026-W13", 1.0), ("2026-W14", 6.0), ("2026-W53", 2.0), ("2027-W01", 1.0)]
    );
    assert_eq!(kpi_values(&v, "weekly_growth")[3], ("2027-W01", -0.5));
}

#[test]
fn fiscal_years_from_april_are_named_after_their_end() {
    let v = values("tests/fixtures/calendar/berlin.yaml");
    // 2026-03-31 is in FY2026 Q4; 2026-04-01 starts FY2027 (Q1 = April to June 2026).
    assert_eq!(
        kpi_values(&v, "quarterly"),
        [("2026-FQ4", 5.0), ("2027-FQ1", 2.0), ("2027-FQ3", 2.0), ("2027-FQ4", 1.0)]
    );
    assert_eq!(kpi_values(&v, "yearly"), [("FY2026", 5.0), ("FY2027", 5.0)]);
}

#[test]
fn goal_windows_and_periods_in_fiscal_quarters() {
    let out = kpi(&[
        "eval",
        "tests/fixtures/calendar/berlin.yaml",
        "--as-of",
        "2027-12-31",
        "--format",
        "json",
        "--fail-on",
        "never",
    ]);
    let r: Value = serde_json::from_slice(&out.stdout).expect("a JSON report");
    let g = &r["goals"][0];
    assert_eq!(g["window"], "2026-04-01..2027-03-31", "window: FY2027");
    let results: Vec<(String, String)> = g["results"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|x| (x["period"].as_str().unwrap_or("").into(), x["status"].as_str().unwrap_or("").into()))
        .collect();
    let want = [("2027-FQ1", "pass"), ("2027-FQ2", "no_data"), ("2027-FQ3", "pass"), ("2027-FQ4", "fail")];
    assert_eq!(results, want.map(|(p, s)| (p.to_string(), s.to_string())));
}

#[test]
fn a_bad_calendar_is_a_check_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let pack = dir.path().join("pack.yaml");
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/calendar/berlin.yaml"),
    )
    .expect("berlin.yaml")
    .replace("week_start: sunday", "week_start: someday")
    .replace("fiscal_year_start: april", "fiscal_year_start: 13")
    .replace("Europe/Berlin", "Europe/Atlantis");
    std::fs::write(&pack, text).expect("write pack");
    let out = kpi(&["check", pack.to_str().expect("utf-8")]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("`someday` is not a weekday"), "{err}");
    assert!(err.contains("`13` is not a month"), "{err}");
    assert!(err.contains("unknown time zone `Europe/Atlantis`"), "{err}");
}

#[test]
fn calendar_given_in_two_files_is_an_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let head = "pack: twice\nversion: 0.1.0\ncalendar:\n  week_start: sunday\n";
    std::fs::write(dir.path().join("pack.yaml"), head).expect("write pack.yaml");
    std::fs::write(dir.path().join("more.yaml"), "calendar:\n  fiscal_year_start: april\n").expect("write");
    let out = kpi(&["check", dir.path().to_str().expect("utf-8")]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("`calendar:` is given twice"), "{err}");
}

/// `--period` is read in the pack's calendar: `FY2027` is April 2026 to March 2027 with an
/// April fiscal start, and only those quarters are reported; without a fiscal calendar the
/// label is an argument error that says what is missing.
#[test]
fn period_flag_reads_fiscal_labels_in_the_packs_calendar() {
    let args = ["--as-of", "2027-12-31", "--format", "json", "--fail-on", "never", "--period", "FY2027"];
    let mut all = vec!["eval", "tests/fixtures/calendar/berlin.yaml"];
    all.extend(args);
    let out = kpi(&all);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let r: Value = serde_json::from_slice(&out.stdout).expect("a JSON report");
    let quarterly =
        r["kpis"].as_array().into_iter().flatten().find(|k| k["id"] == "quarterly").expect("quarterly");
    let periods: Vec<&str> =
        quarterly["values"].as_array().into_iter().flatten().filter_map(|v| v["period"].as_str()).collect();
    assert!(!periods.is_empty());
    assert!(periods.iter().all(|p| p.starts_with("2027-FQ")), "{periods:?}");

    let mut all = vec!["eval", "tests/fixtures/calendar/iso.yaml"];
    all.extend(args);
    let out = kpi(&all);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("fiscal_year_start"), "{err}");
}
