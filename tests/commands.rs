//! The commands around the reports, driven through the real binary: `kpi explain`,
//! `kpi check --format github`, `kpi init`.

use std::path::Path;
use std::process::{Command, Output};

fn kpi(args: &[&str], dir: Option<&Path>) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_kpi"));
    c.args(args).env("NO_COLOR", "1");
    // `explain` shows SQL with the as-of cut: a fixed day keeps the snapshots stable.
    if args.first() == Some(&"explain") && !args.contains(&"--as-of") {
        c.args(["--as-of", "2026-11-20"]);
    }
    match dir {
        Some(d) => c.current_dir(d),
        None => c.current_dir(env!("CARGO_MANIFEST_DIR")),
    };
    c.output().expect("the kpi binary runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn explain_engagement_rate() {
    let o = kpi(&["explain", "kpis/smm", "engagement_rate"], None);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    insta::assert_snapshot!(stdout(&o));
}

#[test]
fn explain_channel_share_of_reach() {
    let o = kpi(&["explain", "kpis/smm", "channel_share_of_reach"], None);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    insta::assert_snapshot!(stdout(&o));
}

#[test]
fn explain_dependency_trees_both_ways() {
    let o = kpi(&["explain", "tests/fixtures/explain", "vk_share"], None);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    insta::assert_snapshot!(stdout(&o));
}

#[test]
fn explain_percentile_and_time_functions() {
    let o = kpi(&["explain", "tests/fixtures/explain", "watch_p90"], None);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    insta::assert_snapshot!(stdout(&o));
}

#[test]
fn explain_takes_the_kpi_alone_inside_a_pack_folder() {
    let pack = Path::new(env!("CARGO_MANIFEST_DIR")).join("kpis/smm");
    let o = kpi(&["explain", "reach"], Some(&pack));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.starts_with("reach — Reach (count)"), "{text}");
    assert!(text.contains("└─ channel_share_of_reach"), "{text}");
    assert!(text.contains("data/posts.csv)"), "{text}");
}

#[test]
fn explain_unknown_kpi_suggests_a_name() {
    let o = kpi(&["explain", "kpis/smm", "engagment_rate"], None);
    assert_eq!(o.status.code(), Some(2));
    assert!(o.stdout.is_empty());
    insta::assert_snapshot!(stderr(&o), @r"
    error[K0103]: pack `smm` has no KPI `engagment_rate`
       = help: did you mean `engagement_rate`?
    ");
}

#[test]
fn explain_json_has_the_structure() {
    let o = kpi(&["explain", "kpis/smm", "reaction_rate", "--format", "json"], None);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
    assert_eq!(v["id"], "reaction_rate");
    assert_eq!(v["dataset"]["id"], "posts");
    assert_eq!(v["by"], serde_json::json!(["channel"]));
    assert_eq!(v["aggregates"][0]["expr"], "count(where likes + comments + shares > 0)");
    assert_eq!(v["aggregates"][0]["filter"], "likes + comments + shares > 0");
    assert_eq!(v["aggregates"][1]["words"], "the number of rows");
}

#[test]
fn explain_redacts_credentials() {
    let o = kpi(&["explain", "kpis/smm", "reach", "--format", "json"], None);
    assert_eq!(o.status.code(), Some(0));
    let dir = tempfile::tempdir().expect("temp dir");
    let pack = dir.path().join("db.yaml");
    std::fs::write(
        &pack,
        "datasets:\n  posts:\n    source: {url: \"postgres://ann:s3cret@db.example/prod\", table: posts}\n    time: date\n    columns: {reach: number}\nkpis:\n  reach:\n    formula: sum(reach)\n",
    )
    .expect("write");
    let o = kpi(&["explain", pack.to_str().expect("utf-8 path"), "reach"], None);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(!text.contains("s3cret"), "{text}");
    assert!(text.contains("postgres://ann:***@db.example/prod"), "{text}");
}

#[test]
fn check_github_annotates_errors() {
    let o = kpi(&["check", "tests/fixtures/broken", "--format", "github"], None);
    assert_eq!(o.status.code(), Some(2));
    insta::assert_snapshot!(stdout(&o));
}

#[test]
fn check_github_annotates_warnings() {
    let o = kpi(&["check", "tests/fixtures/vague/pack.yaml", "--format", "github"], None);
    assert_eq!(o.status.code(), Some(0));
    insta::assert_snapshot!(stdout(&o));
}

#[test]
fn init_round_trip() {
    let dir = tempfile::tempdir().expect("temp dir");
    let pack = dir.path().join("my-kpis");
    let p = pack.to_str().expect("utf-8 path");
    let o = kpi(&["init", p], None);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o).replace(p, "<DIR>");
    assert!(out.contains("# yaml-language-server: $schema=./kpi.schema.json"), "{out}");
    assert!(out.contains("\"yaml.schemas\""), "{out}");
    for f in ["pack.yaml", "data/sample.csv", "tests/basic.yaml"] {
        assert!(pack.join(f).is_file(), "{f} written");
    }

    let o = kpi(&["check", p], None);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).contains("; 0 warning(s)"), "a new pack checks clean: {}", stderr(&o));

    let o = kpi(&["eval", p, "--as-of", "2026-10-01", "--format", "json"], None);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON report");
    assert_eq!(report["summary"]["pass"], 6, "{report}");
    assert_eq!(report["goals"][0]["smart"]["specific"], "ok", "{report}");

    let o = kpi(&["explain", p, "engagement_rate"], None);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

#[test]
fn init_refuses_to_overwrite_and_writes_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir_all(dir.path().join("tests")).expect("mkdir");
    std::fs::write(dir.path().join("tests/basic.yaml"), "mine\n").expect("write");
    let o = kpi(&["init", dir.path().to_str().expect("utf-8 path")], None);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("refusing to overwrite"), "{}", stderr(&o));
    assert!(!dir.path().join("pack.yaml").exists());
    assert!(!dir.path().join("data").exists());
    assert_eq!(std::fs::read_to_string(dir.path().join("tests/basic.yaml")).expect("read"), "mine\n");
}
