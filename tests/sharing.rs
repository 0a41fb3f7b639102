//! Rule packs shared between teams (SPEC §9): a company pack imported by path and through
//! git, namespaces, overrides, parameters, version and cycle errors, `kpi.lock`, and the
//! guarantee that an imported pack's `source:` is never opened.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn sharing() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sharing")
}

/// Runs `kpi` in `dir` with a private cache folder.
fn kpi_in(dir: &Path, cache: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kpi"))
        .current_dir(dir)
        .env("XDG_CACHE_HOME", cache)
        .env("NO_COLOR", "1")
        .args(args)
        .output()
        .expect("the kpi binary runs")
}

fn kpi(args: &[&str]) -> Output {
    let cache = std::env::temp_dir().join("kpi-sharing-tests-cache");
    kpi_in(&sharing(), &cache, args)
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn json(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", stderr(o)))
}

fn value(report: &Value, kpi: &str, channel: &str, period: &str) -> Option<f64> {
    let k = report["kpis"].as_array()?.iter().find(|k| k["id"] == kpi)?;
    let v =
        k["values"].as_array()?.iter().find(|v| v["group"]["channel"] == channel && v["period"] == period)?;
    v["value"].as_f64()
}

fn goal<'a>(report: &'a Value, id: &str) -> &'a Value {
    report["goals"].as_array().and_then(|g| g.iter().find(|g| g["id"] == id)).expect("goal in report")
}

#[test]
fn imported_kpis_evaluate_under_their_namespace() {
    let out = kpi(&["eval", "team-a", "--as-of", "2026-12-31", "--format", "json", "--fail-on", "never"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let r = json(&out);
    // (40 + 10 + 30 + 20) / 2000 reach.
    assert_eq!(value(&r, "core.engagement_rate", "instagram", "2026-10"), Some(0.05));
    assert_eq!(value(&r, "core.reach", "vk", "2026-10"), Some(400.0));
    // The importer's own KPI reads the imported one by its namespaced name.
    assert_eq!(value(&r, "reach_x2", "instagram", "2026-10"), Some(4000.0));
    let data = &r["data"][0];
    assert_eq!(data["dataset"], "core.posts");
    assert_eq!(data["source"], "team-a/data/posts.csv");
}

#[test]
fn parameters_set_by_the_importer_replace_the_defaults() {
    // team-a sets er_target to 5%: the gap in 2026-10 is 5% - 5% = 0.
    let a =
        json(&kpi(&["eval", "team-a", "--as-of", "2026-12-31", "--format", "json", "--fail-on", "never"]));
    assert_eq!(value(&a, "core.er_gap", "instagram", "2026-10"), Some(0.0));
    // diamond leaves the default 4.5%.
    let d =
        json(&kpi(&["eval", "diamond", "--as-of", "2026-12-31", "--format", "json", "--fail-on", "never"]));
    let gap = value(&d, "core.er_gap", "instagram", "2026-10").expect("a value");
    assert!((gap - 0.005).abs() < 1e-12, "{gap}");
}

#[test]
fn overrides_change_an_imported_goal_and_the_report_says_so() {
    let r =
        json(&kpi(&["eval", "team-a", "--as-of", "2026-12-31", "--format", "json", "--fail-on", "never"]));
    let g = goal(&r, "core.ig_engagement_q4");
    assert_eq!(g["kpi"], "core.engagement_rate");
    assert_eq!(g["target"], ">= 10%");
    assert_eq!(g["owner"], "team-a");
    assert_eq!(g["overridden"], serde_json::json!(["target", "owner"]));
    assert_eq!(g["results"][0]["status"], "fail");
    // Without overrides the pack's own target holds: `>= er_target` with the default 4.5%.
    let d =
        json(&kpi(&["eval", "diamond", "--as-of", "2026-12-31", "--format", "json", "--fail-on", "never"]));
    let g = goal(&d, "core.ig_engagement_q4");
    assert_eq!(g["target"], ">= er_target");
    assert_eq!(g["results"][0]["status"], "pass");
    assert!(g.get("overridden").is_none());
}

#[test]
fn a_pack_reached_twice_at_one_version_is_loaded_once() {
    let out = kpi(&["deps", "diamond"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    insta::assert_snapshot!("deps_diamond", String::from_utf8_lossy(&out.stdout));
    let r =
        json(&kpi(&["eval", "diamond", "--as-of", "2026-12-31", "--format", "json", "--fail-on", "never"]));
    // `mid.core` is `core`: one set of KPIs, so mid.reach_plus - mid.core.reach is 1.
    assert_eq!(value(&r, "total", "instagram", "2026-10"), Some(1.0));
    let ids: Vec<&str> =
        r["kpis"].as_array().into_iter().flatten().filter_map(|k| k["id"].as_str()).collect();
    assert!(!ids.iter().any(|i| i.starts_with("mid.core.")), "{ids:?}");
}

#[test]
fn an_imported_source_is_never_opened() {
    // company-core's `source:` points at /nonexistent/company-core-secret/posts.csv.
    let eval = kpi(&["eval", "team-a", "--as-of", "2026-12-31", "--format", "json", "--fail-on", "never"]);
    assert_eq!(eval.status.code(), Some(0), "{}", stderr(&eval));
    assert!(!stderr(&eval).contains("company-core-secret"));
    // Unbound, `kpi check` says the dataset needs binding; it never tries the file.
    let unbound = kpi(&["check", "unbound"]);
    let err = stderr(&unbound);
    assert_eq!(unbound.status.code(), Some(0), "{err}");
    assert!(!err.contains("company-core-secret"), "{err}");
    assert!(!String::from_utf8_lossy(&unbound.stdout).contains("company-core-secret"));
    insta::assert_snapshot!("check_unbound_import", err);
    // `kpi eval` refuses to run unbound (exit 3), still without touching the file.
    let run = kpi(&["eval", "unbound", "--as-of", "2026-12-31"]);
    assert_eq!(run.status.code(), Some(3));
    assert!(!stderr(&run).contains("company-core-secret"));
    // `--data` binds it just as well.
    let bound = kpi(&[
        "eval",
        "unbound",
        "--as-of",
        "2026-12-31",
        "--format",
        "json",
        "--fail-on",
        "never",
        "--data",
        "core.posts=team-a/data/posts.csv",
    ]);
    assert_eq!(bound.status.code(), Some(0), "{}", stderr(&bound));
    assert_eq!(value(&json(&bound), "core.reach", "instagram", "2026-11"), Some(1000.0));
}

fn diagnostic(pack: &str) -> String {
    let out = kpi(&["check", pack]);
    assert_eq!(out.status.code(), Some(2), "{pack}: {}", stderr(&out));
    stderr(&out)
}

#[test]
fn version_requirement_not_met_names_both_files() {
    let e = diagnostic("version-mismatch");
    assert!(e.contains("version-mismatch/pack.yaml") && e.contains("company-core/pack.yaml"), "{e}");
    insta::assert_snapshot!("version_mismatch", e);
}

#[test]
fn import_cycle_names_the_chain() {
    let e = diagnostic("cycle-a");
    insta::assert_snapshot!("import_cycle", e);
}

#[test]
fn unknown_override_is_an_error() {
    insta::assert_snapshot!("unknown_override", diagnostic("unknown-override"));
}

#[test]
fn override_of_a_field_outside_the_list_is_an_error() {
    insta::assert_snapshot!("override_bad_field", diagnostic("override-bad-field"));
}

#[test]
fn unknown_param_is_an_error() {
    insta::assert_snapshot!("unknown_param", diagnostic("unknown-param"));
}

#[test]
fn text_param_in_arithmetic_is_a_type_error() {
    insta::assert_snapshot!("text_param", diagnostic("text-param"));
}

/// Copies a fixture folder (recursively) into `to`.
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read_dir").flatten() {
        let p = e.path();
        let t = to.join(e.file_name());
        if p.is_dir() {
            copy_dir(&p, &t);
        } else {
            std::fs::copy(&p, &t).expect("copy");
        }
    }
}

#[test]
fn lockfile_records_imports_and_locked_fails_when_they_move() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let cache = tmp.path().join("cache");
    copy_dir(&sharing().join("company-core"), &tmp.path().join("company-core"));
    copy_dir(&sharing().join("team-a"), &tmp.path().join("team-a"));
    let run = |args: &[&str]| kpi_in(tmp.path(), &cache, args);

    // No lock yet.
    let none = run(&["check", "team-a", "--locked"]);
    assert_eq!(none.status.code(), Some(2));
    assert!(stderr(&none).contains("K0414"), "{}", stderr(&none));

    let lock = run(&["lock", "team-a"]);
    assert_eq!(lock.status.code(), Some(0), "{}", stderr(&lock));
    let text = std::fs::read_to_string(tmp.path().join("team-a/kpi.lock")).expect("kpi.lock written");
    let l: Value = serde_json::from_str(&text).expect("lock is JSON");
    assert_eq!(l["lock"], "kpi-lock/1");
    assert_eq!(l["imports"][0]["namespace"], "core");
    assert_eq!(l["imports"][0]["version"], "1.2.3");
    assert_eq!(l["imports"][0]["source"]["path"], "../company-core");
    assert!(l["imports"][0]["hash"].as_str().is_some_and(|h| h.starts_with("sha256:") && h.len() == 71));

    let ok = run(&["eval", "team-a", "--locked", "--as-of", "2026-12-31", "--fail-on", "never"]);
    assert_eq!(ok.status.code(), Some(0), "{}", stderr(&ok));

    // The company pack changes under the same version: the hash no longer matches.
    let core = tmp.path().join("company-core/pack.yaml");
    let changed = std::fs::read_to_string(&core).expect("read").replace("sum(reach)", "sum(reach) + 0");
    std::fs::write(&core, changed).expect("write");
    let moved = run(&["eval", "team-a", "--locked", "--as-of", "2026-12-31"]);
    assert_eq!(moved.status.code(), Some(2));
    insta::assert_snapshot!(
        "lock_mismatch",
        stderr(&moved).replace(&tmp.path().display().to_string(), "[TMP]")
    );
    // Without --locked it runs; `kpi lock` accepts the change.
    assert_eq!(run(&["check", "team-a"]).status.code(), Some(0));
    assert_eq!(run(&["lock", "team-a"]).status.code(), Some(0));
    assert_eq!(run(&["check", "team-a", "--locked"]).status.code(), Some(0));
}

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .current_dir(dir)
        .args([
            "-c",
            "user.name=kpi",
            "-c",
            "user.email=kpi@example.invalid",
            "-c",
            "init.defaultBranch=main",
        ])
        .args(args)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .expect("git runs");
    assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn a_team_imports_the_company_pack_through_git() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = tmp.path();
    let cache = root.join("cache");
    // A bare repository with the company pack pushed at v1.2.3, then v2.0.0.
    let bare = root.join("company-core.git");
    std::fs::create_dir_all(&bare).expect("mkdir");
    git(&bare, &["init", "--quiet", "--bare"]);
    let work = root.join("work");
    copy_dir(&sharing().join("company-core"), &work);
    git(&work, &["init", "--quiet"]);
    git(&work, &["add", "."]);
    git(&work, &["commit", "--quiet", "-m", "company core 1.2.3"]);
    git(&work, &["tag", "v1.2.3"]);
    let core = work.join("pack.yaml");
    let v2 = std::fs::read_to_string(&core).expect("read").replace("version: 1.2.3", "version: 2.0.0");
    std::fs::write(&core, v2).expect("write");
    git(&work, &["commit", "--quiet", "-am", "company core 2.0.0"]);
    git(&work, &["tag", "v2.0.0"]);
    let url = format!("file://{}", bare.display());
    git(&work, &["push", "--quiet", &url, "HEAD:refs/heads/main", "--tags"]);

    // Team B imports it by URL and tag, and binds the data itself.
    let team = root.join("team-b");
    std::fs::create_dir_all(team.join("data")).expect("mkdir");
    std::fs::copy(sharing().join("team-a/data/posts.csv"), team.join("data/posts.csv")).expect("copy");
    let pack = |rev: &str| {
        format!(
            "pack: team-b\nversion: 1.0.0\nimports:\n  core:\n    git: {url}\n    rev: {rev}\n    version: \"^1.2\"\n\
             datasets:\n  core.posts: {{source: data/posts.csv}}\n\
             overrides:\n  goals:\n    core.ig_engagement_q4: {{target: \">= 3%\", owner: team-b}}\n"
        )
    };
    std::fs::write(team.join("pack.yaml"), pack("v1.2.3")).expect("write");
    let run = |args: &[&str]| kpi_in(root, &cache, args);

    let out = run(&["eval", "team-b", "--as-of", "2026-12-31", "--format", "json", "--fail-on", "never"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let r = json(&out);
    assert_eq!(value(&r, "core.engagement_rate", "instagram", "2026-10"), Some(0.05));
    let g = goal(&r, "core.ig_engagement_q4");
    assert_eq!(g["owner"], "team-b");
    assert_eq!(g["results"][0]["status"], "pass");
    // Fetched once into the cache, keyed by URL and revision.
    let fetched: Vec<_> = std::fs::read_dir(cache.join("kpi/git")).expect("cache").flatten().collect();
    assert_eq!(fetched.len(), 1);

    let deps = run(&["deps", "team-b"]);
    let tree = String::from_utf8_lossy(&deps.stdout).replace(&url, "[URL]");
    assert!(tree.starts_with("team-b 1.0.0\n  core: company-core 1.2.3 from [URL]@v1.2.3 ("), "{tree}");

    assert_eq!(run(&["lock", "team-b"]).status.code(), Some(0));
    let l: Value =
        serde_json::from_str(&std::fs::read_to_string(team.join("kpi.lock")).expect("lock")).expect("json");
    assert_eq!(l["imports"][0]["source"]["git"], url.as_str());
    assert_eq!(l["imports"][0]["source"]["rev"], "v1.2.3");
    assert_eq!(l["imports"][0]["source"]["commit"].as_str().map(str::len), Some(40));

    // Moving to v2.0.0 breaks the requirement ^1.2 ...
    std::fs::write(team.join("pack.yaml"), pack("v2.0.0")).expect("write");
    let bad = run(&["check", "team-b"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("K0410") && stderr(&bad).contains("2.0.0"), "{}", stderr(&bad));
    // ... and, with the requirement relaxed, no longer matches the lock.
    std::fs::write(team.join("pack.yaml"), pack("v2.0.0").replace("^1.2", ">=1.2, <3")).expect("write");
    assert_eq!(run(&["check", "team-b"]).status.code(), Some(0));
    let locked = run(&["check", "team-b", "--locked"]);
    assert_eq!(locked.status.code(), Some(2));
    assert!(stderr(&locked).contains("`core` is at 2.0.0 but locked at 1.2.3"), "{}", stderr(&locked));

    // A branch is read from the cache as first fetched (runs stay repeatable) until
    // `kpi lock --update` fetches it again and locks the commit it is at now.
    std::fs::write(team.join("pack.yaml"), pack("main").replace("^1.2", ">=1.2, <4")).expect("write");
    assert_eq!(run(&["lock", "team-b"]).status.code(), Some(0));
    let commit_of = || -> String {
        let l: Value = serde_json::from_str(&std::fs::read_to_string(team.join("kpi.lock")).expect("lock"))
            .expect("json");
        l["imports"][0]["source"]["commit"].as_str().unwrap_or("").to_string()
    };
    let before = commit_of();
    let v3 = std::fs::read_to_string(&core).expect("read").replace("version: 2.0.0", "version: 3.0.0");
    std::fs::write(&core, v3).expect("write");
    git(&work, &["commit", "--quiet", "-am", "company core 3.0.0"]);
    git(&work, &["push", "--quiet", &url, "HEAD:refs/heads/main"]);
    let deps = String::from_utf8_lossy(&run(&["deps", "team-b"]).stdout).into_owned();
    assert!(deps.contains("company-core 2.0.0"), "still the cached commit: {deps}");
    assert_eq!(run(&["check", "team-b", "--locked"]).status.code(), Some(0));
    assert_eq!(run(&["lock", "team-b", "--update"]).status.code(), Some(0));
    assert_ne!(commit_of(), before);
    let deps = String::from_utf8_lossy(&run(&["deps", "team-b"]).stdout).into_owned();
    assert!(deps.contains("company-core 3.0.0"), "{deps}");

    // An unknown revision is a clear error.
    std::fs::write(team.join("pack.yaml"), pack("v9.9.9")).expect("write");
    let missing = run(&["check", "team-b"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(stderr(&missing).contains("K0413"), "{}", stderr(&missing));
}

#[test]
fn one_pack_at_two_versions_is_an_error() {
    let e = diagnostic("conflict");
    assert!(e.contains("conflict/pack.yaml") && e.contains("conflict-mid/pack.yaml"), "{e}");
    insta::assert_snapshot!("version_conflict", e);
}

#[test]
fn a_fetched_pack_cannot_import_local_paths_outside_its_repository() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = tmp.path();
    let cache = root.join("cache");
    // Something local that a hostile repository would like kpi to read.
    std::fs::create_dir_all(root.join("secret")).expect("mkdir");
    std::fs::write(root.join("secret/pack.yaml"), "pack: secret\nversion: 1.0.0\n").expect("write");
    let bare = root.join("hostile.git");
    std::fs::create_dir_all(&bare).expect("mkdir");
    git(&bare, &["init", "--quiet", "--bare"]);
    let work = root.join("work");
    std::fs::create_dir_all(&work).expect("mkdir");
    let escape = format!("{}", root.join("secret").display());
    std::fs::write(
        work.join("pack.yaml"),
        format!("pack: hostile\nversion: 1.0.0\nimports:\n  s:\n    path: {escape}\n"),
    )
    .expect("write");
    git(&work, &["init", "--quiet"]);
    git(&work, &["add", "."]);
    git(&work, &["commit", "--quiet", "-m", "hostile"]);
    let url = format!("file://{}", bare.display());
    git(&work, &["push", "--quiet", &url, "HEAD:refs/heads/main"]);
    let team = root.join("team");
    std::fs::create_dir_all(&team).expect("mkdir");
    std::fs::write(
        team.join("pack.yaml"),
        format!("pack: team\nversion: 1.0.0\nimports:\n  h:\n    git: {url}\n    rev: main\n"),
    )
    .expect("write");
    let out = kpi_in(root, &cache, &["check", "team"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("K0413") && err.contains("leaves the fetched repository"), "{err}");
}
