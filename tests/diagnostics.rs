//! The diagnostics corpus: one fixture folder per diagnostic code (and per input that must
//! work), run through the real binary, with the exit code and stderr snapshotted; and the
//! limits (sizes, nesting, counts), generated here rather than committed.
//!
//! A fixture folder `tests/fixtures/diagnostics/K0101_unknown_column/` holds a tiny pack
//! (`pack.yaml`, data files), optionally `cmd` (the arguments, whitespace-separated; default
//! `check .`) and `exit` (the expected exit code; default 3 for a data code `K06xx`, 2 for
//! any other code, 0 for `ok_*`). The command runs with the fixture folder as its working
//! directory, so the paths in messages are short and stable.

use kpi_rules::diagnostic::Code;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// What one run of `kpi` gave.
struct Run {
    args: Vec<String>,
    code: i32,
    stdout: String,
    stderr: String,
    elapsed: Duration,
}

impl Run {
    /// The text that is snapshotted: the command, the exit code, stderr, and stdout if any.
    fn snapshot(&self) -> String {
        let mut s =
            format!("$ kpi {}\nexit: {}\n--- stderr\n{}", self.args.join(" "), self.code, self.stderr);
        if !self.stdout.is_empty() {
            s.push_str("--- stdout\n");
            s.push_str(&self.stdout);
        }
        s
    }
}

fn run_kpi(dir: &Path, args: &[String]) -> Run {
    let start = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_kpi"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("RUST_BACKTRACE")
        .env_remove("RUST_LIB_BACKTRACE")
        .output()
        .expect("run kpi");
    Run {
        args: args.to_vec(),
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        elapsed: start.elapsed(),
    }
}

/// Where a diagnostic of this code must point.
#[derive(Debug, PartialEq)]
enum Place {
    /// `file:line:col` in a definition file.
    LineCol,
    /// `file:line` (at least) in a data file, or `file:line:col` in the definitions.
    Line,
    /// A file named without a line (a missing pack, a file too large, an output path).
    File,
    /// Nothing: the command line itself.
    None,
}

fn place_of(code: Code) -> Place {
    match code {
        Code::PackNotFound | Code::PackUnreadable | Code::FileTooLarge | Code::OutputUnwritable => {
            Place::File
        }
        Code::InvalidArgument => Place::None,
        c if c.is_data() => Place::Line,
        _ => Place::LineCol,
    }
}

/// Whether `text` holds `something:LINE` (and `:COL` when `col`) after a `-->`.
fn has_location(text: &str, col: bool) -> bool {
    text.lines().filter_map(|l| l.trim_start().strip_prefix("--> ")).any(|loc| {
        let parts: Vec<&str> = loc.rsplitn(3, ':').collect();
        let num = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        match parts.as_slice() {
            [c, l, _file] => num(c) && num(l),
            [l, _file] => !col && num(l),
            _ => false,
        }
    })
}

/// Runs one case and checks what every diagnostic must satisfy; the problems found, if any.
fn check_case(name: &str, dir: &Path, args: &[String], code: Option<Code>, exit: i32) -> (Run, Vec<String>) {
    let run = run_kpi(dir, args);
    let problems = problems(name, &run, code, exit, true);
    (run, problems)
}

fn problems(name: &str, run: &Run, code: Option<Code>, exit: i32, timed: bool) -> Vec<String> {
    let mut out = Vec::new();
    let mut fail = |what: String| out.push(format!("{name}: {what}\n{}", clip(&run.snapshot(), 200)));
    let all = format!("{}{}", run.stderr, run.stdout);
    if run.code != exit {
        fail(format!("exit code {}, expected {exit}", run.code));
    }
    for bad in ["panicked", "RUST_BACKTRACE", "internal error", "stack overflow"] {
        if all.contains(bad) {
            fail(format!("`{bad}` in the output"));
        }
    }
    if timed && run.elapsed >= Duration::from_secs(1) {
        fail(format!("took {:?}, expected well under a second", run.elapsed));
    }
    match code {
        Some(code) => {
            if !all.contains(code.as_str()) {
                fail(format!("{code} not in the output"));
            }
            if exit >= 2 {
                let ok = match place_of(code) {
                    Place::LineCol => has_location(&run.stderr, true),
                    Place::Line => has_location(&run.stderr, false),
                    Place::File => run.stderr.contains("--> "),
                    Place::None => true,
                };
                if !ok {
                    fail(format!("no {:?} location in stderr", place_of(code)));
                }
                if !run.stderr.contains("= help: ") {
                    fail("no help line".into());
                }
                if !run.stdout.is_empty() {
                    fail("a report was written on failure".into());
                }
            }
        }
        None => {
            if run.stderr.contains("error") {
                fail("an error".into());
            }
        }
    }
    out
}

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/diagnostics")
}

/// The code a fixture or case is named after (`K0101_...`), if any.
fn code_of(name: &str) -> Option<Code> {
    name.get(..5).and_then(Code::parse)
}

#[test]
fn every_fixture_gives_its_diagnostic() {
    let mut names: Vec<String> = std::fs::read_dir(fixtures_dir())
        .expect("fixtures")
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert!(names.len() > 40, "{names:?}");
    let mut failures = Vec::new();
    for name in names {
        let dir = fixtures_dir().join(&name);
        let code = code_of(&name);
        assert!(code.is_some() || name.starts_with("ok_"), "{name}: name it `Knnnn_what` or `ok_what`");
        let args: Vec<String> = match std::fs::read_to_string(dir.join("cmd")) {
            Ok(s) => s.split_whitespace().map(str::to_string).collect(),
            Err(_) => vec!["check".into(), ".".into()],
        };
        let exit = match std::fs::read_to_string(dir.join("exit")) {
            Ok(s) => s.trim().parse().expect("exit file holds a number"),
            Err(_) => match code {
                Some(c) if c.is_data() => 3,
                Some(_) => 2,
                None => 0,
            },
        };
        let (run, mut problems) = check_case(&name, &dir, &args, code, exit);
        failures.append(&mut problems);
        insta::assert_snapshot!(name.as_str(), run.snapshot());
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// Every code of the table has a fixture, or is listed here with the reason it has none.
#[test]
fn every_code_has_a_fixture_or_a_reason() {
    let untriggerable = [
        // No check compares a target's unit with the KPI's unit yet.
        Code::UnitMismatch,
        // Needs a pack file the process cannot read; the tests run as root, who reads all.
        Code::PackUnreadable,
        // Generated by the limit tests below (a 4 MiB file, 20,001 definitions).
        Code::FileTooLarge,
        Code::TooManyDefinitions,
        // Import errors need several packs (and a git repository); tests/sharing.rs
        // triggers each of them and snapshots the messages.
        Code::UnknownOverride,
        Code::ImportVersion,
        Code::ImportCycle,
        Code::UnknownParam,
        Code::ImportUnavailable,
        Code::LockMismatch,
    ];
    let names: Vec<String> = std::fs::read_dir(fixtures_dir())
        .expect("fixtures")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    for code in Code::ALL {
        let has = names.iter().any(|n| n.starts_with(code.as_str()));
        assert!(has || untriggerable.contains(code), "{code} ({}) has no fixture", code.name());
    }
}

/// A fresh folder under the temp dir, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "kpi-diag-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        TempDir(dir)
    }

    fn write(&self, name: &str, bytes: impl AsRef<[u8]>) {
        std::fs::write(self.0.join(name), bytes).expect("write fixture");
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

const HEAD: &str = "pack: limits\nversion: 1.0.0\ndatasets:\n  posts:\n    source: data.csv\n    time: date\n    dimensions: [channel]\n";
const DATA: &str = "date,channel,likes,reach\n2026-10-01,vk,10,100\n";

/// A pack whose one KPI has `formula`, checked; the case is snapshotted as `name`.
fn limit_case(name: &str, pack_yaml: &str, code: Code) -> Run {
    let dir = TempDir::new(name);
    dir.write("pack.yaml", pack_yaml);
    dir.write("data.csv", DATA);
    let args = vec!["check".to_string(), ".".to_string()];
    let run = run_kpi(&dir.0, &args);
    // The generated packs are large; their time is not the point (and is not asserted).
    let problems = problems(name, &run, Some(code), 2, false);
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
    run
}

fn formula_pack(formula: &str) -> String {
    format!("{HEAD}kpis:\n  deep:\n    formula: \"{formula}\"\n")
}

/// Keeps a snapshot short: the first `n` characters of each line.
fn clip(text: &str, n: usize) -> String {
    text.lines()
        .map(|l| {
            if l.chars().count() > n {
                format!("{}…", l.chars().take(n).collect::<String>())
            } else {
                l.into()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn limit_yaml_file_over_the_size_limit() {
    let mut yaml = String::from(HEAD);
    yaml.push_str("kpis:\n  likes_total:\n    formula: sum(likes)\n");
    let pad = "# padding to go over the size limit of definition files\n";
    while yaml.len() as u64 <= kpi_rules::spec::MAX_YAML_BYTES {
        yaml.push_str(pad);
    }
    let run = limit_case("K0901_yaml_over_size_limit", &yaml, Code::FileTooLarge);
    insta::assert_snapshot!("K0901_yaml_over_size_limit", run.snapshot());
}

#[test]
fn limit_yaml_nested_100_000_deep() {
    let yaml = format!("kpis:\n  x:\n    formula: {}{}\n", "[".repeat(100_000), "]".repeat(100_000));
    // Every position in a pack has a type, so deep nesting is refused where it starts.
    let run = limit_case("K0403_yaml_nested_100000_deep", &yaml, Code::InvalidValue);
    insta::assert_snapshot!("K0403_yaml_nested_100000_deep", run.snapshot());
}

#[test]
fn limit_yaml_block_nesting() {
    let mut yaml = String::from("kpis:\n");
    for i in 0..2_000 {
        yaml.push_str(&" ".repeat(2 * (i + 1)));
        yaml.push_str(&format!("k{i}:\n"));
    }
    let run = limit_case("K0402_yaml_block_nesting", &yaml, Code::UnknownKey);
    insta::assert_snapshot!("K0402_yaml_block_nesting", run.snapshot());
}

#[test]
fn limit_100_000_nested_parentheses() {
    let f = format!("{}sum(likes){}", "(".repeat(100_000), ")".repeat(100_000));
    let run = limit_case("K0902_100000_parentheses", &formula_pack(&f), Code::FormulaTooLong);
    insta::assert_snapshot!("K0902_100000_parentheses", run.snapshot());
}

#[test]
fn limit_parentheses_within_the_length_limit() {
    let f = format!("{}sum(likes){}", "(".repeat(4_000), ")".repeat(4_000));
    let run = limit_case("K0903_4000_parentheses", &formula_pack(&f), Code::NestingTooDeep);
    insta::assert_snapshot!("K0903_4000_parentheses", run.snapshot());
}

#[test]
fn limit_20_000_term_chain() {
    let f = vec!["sum(likes)"; 20_000].join(" + ");
    let run = limit_case("K0902_20000_term_chain", &formula_pack(&f), Code::FormulaTooLong);
    insta::assert_snapshot!("K0902_20000_term_chain", run.snapshot());
}

#[test]
fn limit_chain_deeper_than_the_tree_limit() {
    // 2 bytes a term: within the length limit, but a left-deep tree over the depth limit.
    let f = vec!["a"; 2_500].join("+");
    let run = limit_case("K0903_2500_term_chain", &formula_pack(&f), Code::NestingTooDeep);
    insta::assert_snapshot!("K0903_2500_term_chain", run.snapshot());
}

#[test]
fn limit_chain_just_within_the_tree_limit_is_checked() {
    // Deep but allowed: the checker's recursion must cope (here: an unknown KPI `a`).
    let f = vec!["a"; 1_900].join("+");
    let run = limit_case("K0103_1900_term_chain", &formula_pack(&f), Code::UnknownKpi);
    insta::assert_snapshot!("K0103_1900_term_chain", run.snapshot());
}

#[test]
fn limit_10_000_nots() {
    let f = format!("{}true", "not ".repeat(10_000));
    let run = limit_case("K0902_10000_nots", &formula_pack(&f), Code::FormulaTooLong);
    insta::assert_snapshot!("K0902_10000_nots", run.snapshot());
}

#[test]
fn limit_nots_and_minuses_within_the_length_limit() {
    let f = format!("{}true", "not ".repeat(2_000));
    let run = limit_case("K0903_2000_nots", &formula_pack(&f), Code::NestingTooDeep);
    insta::assert_snapshot!("K0903_2000_nots", run.snapshot());
    let f = format!("{}1", "-".repeat(5_000));
    let run = limit_case("K0903_5000_minuses", &formula_pack(&f), Code::NestingTooDeep);
    insta::assert_snapshot!("K0903_5000_minuses", run.snapshot());
}

fn kpis_pack(n: usize) -> String {
    let mut yaml = String::from(HEAD);
    yaml.push_str("kpis:\n");
    for i in 0..n {
        yaml.push_str(&format!("  k{i}:\n    formula: sum(likes) + {i}\n"));
    }
    yaml
}

#[test]
fn limit_too_many_definitions() {
    let n = kpi_rules::spec::MAX_DEFINITIONS + 1;
    let run = limit_case("K0904_too_many_kpis", &kpis_pack(n), Code::TooManyDefinitions);
    insta::assert_snapshot!("K0904_too_many_kpis", run.snapshot());
}

#[test]
fn a_1000_kpi_pack_checks() {
    let dir = TempDir::new("k1000");
    dir.write("pack.yaml", kpis_pack(1_000));
    dir.write("data.csv", DATA);
    let run = run_kpi(&dir.0, &["check".into(), ".".into()]);
    assert_eq!(run.code, 0, "{}", run.snapshot());
    assert!(run.stderr.contains("1000 KPI(s)"), "{}", run.snapshot());
}
