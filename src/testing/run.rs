//! Running cases: bind each case's rows, evaluate the pack at the case's `as_of`, compare
//! the report with the expectations.
//!
//! A dataset the case gives no rows for is bound to a header-only CSV (the time column,
//! the dimensions, the declared columns and every column the KPIs read), so the pack still
//! checks and KPIs over that dataset simply have no rows. The pack's own `source:` files
//! are never read while a case runs.

use super::spec::{Case, Expect, GoalExpect, Group, KpiExpect, Rows};
use crate::calendar::DateRange;
use crate::check::{CheckOptions, Model};
use crate::diagnostic::{did_you_mean, Code, Diagnostic, Diagnostics, Sources};
use crate::engine::readers::LocalFiles;
use crate::engine::source::BadRowPolicy;
use crate::pipeline::{evaluate_pack, spec_to_model, yaml_to_spec, RunError, RunOptions};
use crate::report::Report;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

/// The pack under test, loaded and checked once.
#[derive(Debug)]
pub struct PackUnderTest {
    /// The pack path as given.
    pub path: PathBuf,
    /// The checked model (ids, groupings).
    pub model: Model,
    /// Per dataset: the header of its empty stand-in.
    pub headers: Vec<(String, Vec<String>)>,
}

/// Loads and checks the pack. Its data files are not required.
pub fn prepare(path: &Path, sources: &Sources) -> Result<PackUnderTest, Diagnostics> {
    let pack = yaml_to_spec(path, sources)?;
    let scanner = LocalFiles;
    let opts = CheckOptions {
        data: &[],
        require_data: false,
        scanner: &scanner,
        db: &crate::db::DbOptions::DEFAULT,
    };
    let (model, _warnings) = spec_to_model(&pack, sources, &opts)?;
    let mut headers = Vec::new();
    for (spec, def) in pack.datasets.iter().zip(&model.datasets) {
        let mut cols: Vec<String> = Vec::new();
        let mut add = |c: &str| {
            if !c.is_empty() && !cols.iter().any(|x| x == c) {
                cols.push(c.to_string());
            }
        };
        add(&def.time);
        def.dimensions.iter().for_each(|d| add(d));
        spec.columns.iter().for_each(|(c, _)| add(&c.value));
        def.columns.iter().for_each(|(c, _)| add(c));
        headers.push((def.id.clone(), cols));
    }
    Ok(PackUnderTest { path: path.to_path_buf(), model, headers })
}

fn group_text(g: &Group) -> String {
    let parts: Vec<String> =
        g.iter().map(|(k, v)| format!("{k}: {}", v.as_deref().unwrap_or("null"))).collect();
    format!("{{{}}}", parts.join(", "))
}

fn same_dims(g: &Group, by: &[String]) -> bool {
    g.len() == by.len() && by.iter().all(|b| g.contains_key(b))
}

fn group_help(by: &[String]) -> String {
    if by.is_empty() {
        "this KPI has no `by:`; write `group: {}` or leave `group` out".into()
    } else {
        let dims: Vec<String> = by.iter().map(|b| format!("{b}: ...")).collect();
        format!("write `group: {{{}}}`", dims.join(", "))
    }
}

/// Checks every case against the pack: datasets, KPIs and goals exist, groups name the
/// KPI's dimensions, referenced data files exist.
pub fn validate(put: &PackUnderTest, case: &Case) -> Diagnostics {
    let m = &put.model;
    let mut diags = Vec::new();
    for d in &case.data {
        if !m.datasets.iter().any(|x| x.id == d.dataset) {
            let ids: Vec<&str> = m.datasets.iter().map(|x| x.id.as_str()).collect();
            let help = match did_you_mean(&d.dataset, ids.iter().copied()) {
                Some(s) => format!("did you mean `{s}`? the datasets are: {}", ids.join(", ")),
                None => format!("the datasets are: {}", ids.join(", ")),
            };
            diags.push(
                Diagnostic::error(Code::UnknownDataset, format!("the pack has no dataset `{}`", d.dataset))
                    .with_label(d.span, "no such dataset")
                    .with_help(help),
            );
        }
        if let Rows::Path(p) = &d.rows {
            if !p.is_file() {
                diags.push(
                    Diagnostic::error(Code::SourceUnreadable, format!("no data file `{}`", p.display()))
                        .with_label(d.span, "rows from a missing file")
                        .with_help("a `path:` is relative to the test file's folder"),
                );
            }
        }
    }
    let Expect::Values { kpis, goals } = &case.expect else { return diags };
    for k in kpis {
        match m.kpis.iter().find(|x| x.id == k.kpi) {
            None => {
                let help = match did_you_mean(&k.kpi, m.kpis.iter().map(|x| x.id.as_str())) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => "`kpi` names a KPI of the pack".into(),
                };
                diags.push(
                    Diagnostic::error(Code::UnknownKpi, format!("unknown KPI `{}`", k.kpi))
                        .with_label(k.kpi_span, "no such KPI")
                        .with_help(help),
                );
            }
            Some(def) if !same_dims(&k.group, &def.by) => {
                diags.push(
                    Diagnostic::error(
                        Code::InvalidValue,
                        format!(
                            "KPI `{}` is grouped by [{}], but the group gives [{}]",
                            k.kpi,
                            def.by.join(", "),
                            k.group.keys().cloned().collect::<Vec<_>>().join(", ")
                        ),
                    )
                    .with_label(k.group_span, "does not match the KPI's `by:`")
                    .with_help(group_help(&def.by)),
                );
            }
            Some(_) => {}
        }
    }
    for g in goals {
        match m.goals.iter().find(|x| x.id == g.goal) {
            None => {
                let help = match did_you_mean(&g.goal, m.goals.iter().map(|x| x.id.as_str())) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => "`goal` names a goal of the pack".into(),
                };
                diags.push(
                    Diagnostic::error(Code::InvalidValue, format!("unknown goal `{}`", g.goal))
                        .with_label(g.goal_span, "no such goal")
                        .with_help(help),
                );
            }
            Some(def) => {
                let by = &m.kpis[def.kpi].by;
                if !same_dims(&g.group, by) {
                    diags.push(
                        Diagnostic::error(
                            Code::InvalidValue,
                            format!(
                                "goal `{}` judges KPI `{}`, grouped by [{}], but the group gives [{}]",
                                g.goal,
                                m.kpis[def.kpi].id,
                                by.join(", "),
                                g.group.keys().cloned().collect::<Vec<_>>().join(", ")
                            ),
                        )
                        .with_label(g.group_span, "does not match the KPI's `by:`")
                        .with_help(group_help(by)),
                    );
                }
            }
        }
    }
    diags
}

/// One failed expectation.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    /// `file:line:col` of the expectation.
    pub location: String,
    /// What was checked: `kpi engagement_rate {channel: instagram} 2026-10`.
    pub subject: String,
    /// What the case expected.
    pub expected: String,
    /// What came out.
    pub actual: String,
}

/// The outcome of one case.
#[derive(Debug, Clone)]
pub struct CaseOutcome {
    /// The case id.
    pub id: String,
    /// `file:line:col` of the case.
    pub location: String,
    /// The test file.
    pub file: PathBuf,
    /// Empty when the case passed.
    pub failures: Vec<Failure>,
}

impl CaseOutcome {
    /// Whether every expectation held.
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }
}

/// A private folder under the temp dir, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> std::io::Result<TempDir> {
        static N: AtomicUsize = AtomicUsize::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let mut last = None;
        for _ in 0..100 {
            let dir = std::env::temp_dir().join(format!(
                "kpi-test-{}-{}-{nanos}",
                std::process::id(),
                N.fetch_add(1, Ordering::Relaxed)
            ));
            match std::fs::create_dir(&dir) {
                Ok(()) => return Ok(TempDir(dir)),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| std::io::Error::other("cannot create a temporary folder")))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// Writes the case's rows and the empty stand-ins; returns the `--data` bindings.
fn bind(put: &PackUnderTest, case: &Case, dir: &Path) -> std::io::Result<Vec<(String, String)>> {
    let mut data = Vec::new();
    for (ds, header) in &put.headers {
        let given = case.data.iter().find(|d| &d.dataset == ds);
        let path = match given.map(|d| &d.rows) {
            Some(Rows::Path(p)) => p.clone(),
            Some(Rows::Inline(text)) => {
                let p = dir.join(format!("{}.csv", sanitize(ds)));
                std::fs::write(&p, text)?;
                p
            }
            None => {
                let p = dir.join(format!("{}.empty.csv", sanitize(ds)));
                let line: Vec<String> = header.iter().map(|c| csv_field(c)).collect();
                std::fs::write(&p, format!("{}\n", line.join(",")))?;
                p
            }
        };
        data.push((ds.clone(), path.to_string_lossy().into_owned()));
    }
    Ok(data)
}

fn sanitize(s: &str) -> String {
    s.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' || c == '.' { c } else { '_' }).collect()
}

/// One line for an evaluation error, with the temporary folder hidden (inline rows are
/// named `DATASET.csv`).
fn error_line(d: &Diagnostic, sources: &Sources, tmp: &Path) -> String {
    let prefix = format!("{}{}", tmp.display(), std::path::MAIN_SEPARATOR);
    let hide = |s: &str| s.replace(&prefix, "");
    let mut out = format!("error[{}]: {}", d.code, hide(&d.message));
    if let Some(l) = d.labels.first() {
        out.push_str(&format!(" (at {})", hide(&sources.location(l.span))));
    } else if let Some(p) = &d.path {
        let file = hide(&p.display().to_string());
        match d.line_col {
            None | Some((0, _)) => out.push_str(&format!(" (at {file})")),
            Some((l, 0)) => out.push_str(&format!(" (at {file}:{l})")),
            Some((l, c)) => out.push_str(&format!(" (at {file}:{l}:{c})")),
        }
    }
    out
}

/// Runs one case.
pub fn run_case(put: &PackUnderTest, case: &Case, sources: &Sources) -> CaseOutcome {
    let location = sources.location(case.span);
    let mut outcome = CaseOutcome {
        id: case.id.clone(),
        location: location.clone(),
        file: case.file.clone(),
        failures: Vec::new(),
    };
    let tmp = match TempDir::new() {
        Ok(t) => t,
        Err(e) => {
            outcome.failures.push(Failure {
                location,
                subject: "the case's data".into(),
                expected: "a temporary folder".into(),
                actual: format!("cannot create one: {e}"),
            });
            return outcome;
        }
    };
    let data = match bind(put, case, &tmp.0) {
        Ok(d) => d,
        Err(e) => {
            outcome.failures.push(Failure {
                location,
                subject: "the case's data".into(),
                expected: "written to a temporary folder".into(),
                actual: format!("cannot write it: {e}"),
            });
            return outcome;
        }
    };
    let opts = RunOptions {
        data,
        as_of: case.as_of,
        range: None,
        period: None,
        on_bad_row: BadRowPolicy::Fail,
        locked: false,
        db: Default::default(),
    };
    let result = evaluate_pack(&put.path, sources, &opts);
    match (&case.expect, result) {
        (Expect::Error { code, span }, Err(RunError::Diagnostics(diags))) => {
            let errors: Vec<&Diagnostic> = diags.iter().filter(|d| d.is_error()).collect();
            if !errors.iter().any(|d| d.code == *code) {
                let actual: Vec<String> = errors.iter().map(|d| error_line(d, sources, &tmp.0)).collect();
                outcome.failures.push(Failure {
                    location: sources.location(*span),
                    subject: "evaluation".into(),
                    expected: format!("error {code}"),
                    actual: actual.join("; "),
                });
            }
        }
        (Expect::Error { code, span }, Ok(_)) => outcome.failures.push(Failure {
            location: sources.location(*span),
            subject: "evaluation".into(),
            expected: format!("error {code}"),
            actual: "it succeeded".into(),
        }),
        (Expect::Values { .. }, Err(RunError::Diagnostics(diags))) => {
            for d in diags.iter().filter(|d| d.is_error()) {
                outcome.failures.push(Failure {
                    location: location.clone(),
                    subject: "evaluation".into(),
                    expected: "success".into(),
                    actual: error_line(d, sources, &tmp.0),
                });
            }
        }
        (Expect::Values { kpis, goals }, Ok((report, _))) => {
            let index = ReportIndex::new(&report, &put.model.calendar);
            for k in kpis {
                if let Some(f) = compare_kpi(&index, k, sources) {
                    outcome.failures.push(f);
                }
            }
            for g in goals {
                if let Some(f) = compare_goal(&index, g, sources) {
                    outcome.failures.push(f);
                }
            }
        }
    }
    outcome
}

type Key = (String, Group, Option<DateRange>);

/// The report's values and results by (id, group, period days).
struct ReportIndex {
    kpis: HashMap<Key, Option<f64>>,
    goals: HashMap<Key, (&'static str, Option<f64>)>,
}

impl ReportIndex {
    fn new(r: &Report, cal: &crate::calendar::Calendar) -> ReportIndex {
        let mut kpis = HashMap::new();
        for k in &r.kpis {
            for v in &k.values {
                kpis.insert((k.id.clone(), v.group.clone(), cal.parse_range(&v.period)), v.value);
            }
        }
        let mut goals = HashMap::new();
        for g in &r.goals {
            for v in &g.results {
                goals
                    .insert((g.id.clone(), v.group.clone(), cal.parse_range(&v.period)), (v.status, v.value));
            }
        }
        ReportIndex { kpis, goals }
    }
}

/// A number for people: the shortest text that reads back the same.
pub fn num(v: f64) -> String {
    format!("{v}")
}

fn close(actual: f64, expected: f64, tolerance: f64) -> bool {
    let diff = (actual - expected).abs();
    if expected == 0.0 {
        diff <= tolerance
    } else {
        diff <= tolerance * expected.abs()
    }
}

fn compare_kpi(index: &ReportIndex, k: &KpiExpect, sources: &Sources) -> Option<Failure> {
    let key = (k.kpi.clone(), k.group.clone(), Some(k.period));
    let actual = index.kpis.get(&key);
    let ok = match (actual, k.value) {
        (Some(None), None) => true,
        (Some(Some(a)), Some(e)) => close(*a, e, k.tolerance),
        _ => false,
    };
    if ok {
        return None;
    }
    let expected = match k.value {
        None => "null".to_string(),
        Some(v) if num(v) == k.value_text => k.value_text.clone(),
        Some(v) => format!("{} ({})", k.value_text, num(v)),
    };
    let actual = match actual {
        None => "no value".to_string(),
        Some(None) => "null".to_string(),
        Some(Some(a)) => num(*a),
    };
    let expected = if k.value.is_some() && k.tolerance != super::spec::DEFAULT_TOLERANCE {
        format!("{expected} ± {} relative", num(k.tolerance))
    } else {
        expected
    };
    Some(Failure {
        location: sources.location(k.span),
        subject: format!("kpi {} {} {}", k.kpi, group_text(&k.group), k.period_text),
        expected,
        actual,
    })
}

fn compare_goal(index: &ReportIndex, g: &GoalExpect, sources: &Sources) -> Option<Failure> {
    let key = (g.goal.clone(), g.group.clone(), Some(g.period));
    let actual = index.goals.get(&key);
    if actual.is_some_and(|(s, _)| *s == g.status) {
        return None;
    }
    let actual = match actual {
        None => "no result".to_string(),
        Some((s, Some(v))) => format!("{s} (value {})", num(*v)),
        Some((s, None)) => format!("{s} (value null)"),
    };
    Some(Failure {
        location: sources.location(g.span),
        subject: format!("goal {} {} {}", g.goal, group_text(&g.group), g.period_text),
        expected: g.status.clone(),
        actual,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tolerance_is_relative_and_absolute_at_zero() {
        assert!(close(0.1 + 0.2, 0.3, 1e-9));
        assert!(!close(0.31, 0.3, 1e-9));
        assert!(close(105.0, 100.0, 0.05));
        assert!(!close(106.0, 100.0, 0.05));
        assert!(close(1e-10, 0.0, 1e-9));
        assert!(!close(1e-3, 0.0, 1e-9));
    }

    #[test]
    fn header_fields_are_quoted_when_needed() {
        assert_eq!(csv_field("likes"), "likes");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
    }

    #[test]
    fn cases_run_and_leave_no_temporary_files() {
        let pack = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/kpitest/passing");
        let sources = Sources::new();
        let suite = crate::testing::load_suite(&pack, &sources).expect("the fixture pack loads");
        // orders and visits: the stand-in headers hold the time column, dimensions,
        // declared columns and the columns read.
        assert_eq!(
            suite.pack.headers,
            vec![
                ("orders".to_string(), vec!["date".to_string(), "region".into(), "amount".into()]),
                ("visits".to_string(), vec!["date".to_string(), "visits".into()]),
            ]
        );
        for c in &suite.cases {
            let o = run_case(&suite.pack, c, &sources);
            assert!(o.passed(), "{:?}", o.failures);
        }
        let prefix = format!("kpi-test-{}-", std::process::id());
        let left: Vec<_> = std::fs::read_dir(std::env::temp_dir())
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with(&prefix))
            .collect();
        assert!(left.is_empty(), "left behind: {left:?}");
    }
}
