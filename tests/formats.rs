//! Every report format on a fixture with each kind of status; JUnit counts agree with the
//! JSON summary; output is byte-identical run to run; `--report` writes all or nothing;
//! the HTML renders in headless Chromium when it is installed.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const PACK: &str = "tests/fixtures/reports/pack.yaml";

fn kpi(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kpi"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("kpi runs")
}

fn report(format: &str) -> String {
    let o = kpi(&["eval", PACK, "--as-of", "2026-11-20", "--format", format]);
    assert_eq!(o.status.code(), Some(1), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn markdown_report() {
    insta::assert_snapshot!(report("markdown"));
}

#[test]
fn junit_report() {
    insta::assert_snapshot!(report("junit"));
}

#[test]
fn github_report() {
    insta::assert_snapshot!(report("github"));
}

#[test]
fn junit_counts_match_the_json_summary() {
    let json: serde_json::Value = serde_json::from_str(&report("json")).expect("json");
    let s = &json["summary"];
    let n = |k: &str| s[k].as_u64().unwrap_or(0);
    let xml = report("junit");
    let head = xml.lines().find(|l| l.starts_with("<testsuites")).expect("testsuites");
    let total: u64 = ["pass", "warn", "fail", "no_data", "error", "on_track", "at_risk", "off_track"]
        .iter()
        .map(|k| n(k))
        .sum();
    assert!(head.contains(&format!("tests=\"{total}\"")), "{head}");
    assert!(head.contains(&format!("failures=\"{}\"", n("fail") + n("off_track"))), "{head}");
    assert!(head.contains(&format!("errors=\"{}\"", n("error"))), "{head}");
    assert!(head.contains(&format!("skipped=\"{}\"", n("no_data"))), "{head}");
    assert_eq!(xml.matches("<testcase ").count() as u64, total);
}

#[test]
fn every_format_is_deterministic() {
    for f in ["table", "json", "markdown", "junit", "html", "github"] {
        assert_eq!(report(f), report(f), "{f} differs between two runs");
    }
}

#[test]
fn html_is_self_contained() {
    let html = report("html");
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains("<svg"), "charts are inline SVG");
    for banned in ["<script", "http://", "https://", "@import", "url("] {
        assert!(!html.contains(banned), "the page must not load anything: found {banned}");
    }
}

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("kpi-formats-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

#[test]
fn several_reports_from_one_evaluation() {
    let d = temp_dir("many");
    let p = |n: &str| d.join(n).display().to_string();
    let o = kpi(&[
        "eval",
        PACK,
        "--as-of",
        "2026-11-20",
        "--format",
        "json",
        "--output",
        &p("r.json"),
        "--report",
        &format!("junit={}", p("r.xml")),
        "--report",
        &format!("markdown={}", p("r.md")),
        "--report",
        &format!("html={}", p("r.html")),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(o.stdout.is_empty(), "with --output nothing goes to stdout");
    for (f, n) in [("json", "r.json"), ("junit", "r.xml"), ("markdown", "r.md"), ("html", "r.html")] {
        let written = std::fs::read_to_string(d.join(n)).expect("written");
        assert_eq!(written, report(f), "{n} equals the {f} report");
    }
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn a_report_that_cannot_be_written_leaves_no_file() {
    let d = temp_dir("none");
    let ok = d.join("ok.json").display().to_string();
    let o = kpi(&[
        "eval",
        PACK,
        "--as-of",
        "2026-11-20",
        "--format",
        "json",
        "--output",
        &ok,
        "--report",
        "junit=/nonexistent-dir/kpi/r.xml",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stderr).contains("K0702"));
    let left: Vec<_> = std::fs::read_dir(&d).expect("dir").flatten().collect();
    assert!(left.is_empty(), "nothing is written when one report fails: {left:?}");
    assert_eq!(kpi(&["eval", PACK, "--report", "yaml=x.yaml"]).status.code(), Some(2));
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn html_renders_in_headless_chromium() {
    let chromium = ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .find(|c| Command::new(c).arg("--version").output().is_ok_and(|o| o.status.success()));
    let Some(chromium) = chromium else {
        eprintln!("SKIPPED: no chromium on PATH; .ci/run installs Debian's `chromium` for this test");
        return;
    };
    let d = temp_dir("chromium");
    let html = d.join("report.html");
    std::fs::write(&html, report("html")).expect("write html");
    let png = d.join("report.png");
    let profile = d.join("profile");
    let o = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--screenshot={}", png.display()))
        .arg("--window-size=1200,1600")
        .arg(format!("file://{}", html.display()))
        .output()
        .expect("chromium runs");
    let log = String::from_utf8_lossy(&o.stderr);
    assert!(!log.contains("Uncaught") && !log.contains("CONSOLE"), "console errors:\n{log}");
    let size = std::fs::metadata(&png).map(|m| m.len()).unwrap_or(0);
    assert!(size > 10_000, "a screenshot was produced ({size} bytes):\n{log}");
    // Keep the screenshot for people to look at.
    let keep = Path::new(env!("CARGO_TARGET_TMPDIR")).join("report.png");
    let _ = std::fs::copy(&png, &keep);
    eprintln!("screenshot: {}", keep.display());
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn html_report() {
    insta::assert_snapshot!(report("html"));
}
