//! Test files (SPEC §8): the YAML model with spans, and the typed cases read from it.
//!
//! A test file is `tests: {case_id: {as_of, data, expect, tolerance?}}`. Every key is
//! checked (unknown keys get a did-you-mean through the pack loader's error mapping), and
//! every expectation keeps its span so a failure names its file and line.

use crate::calendar::{parse_date, Calendar, DateRange};
use crate::diagnostic::{did_you_mean, Code, Diagnostic, Diagnostics, FileId, Sources, SrcSpan};
use crate::spec::model::{Entries, Scalar};
use crate::spec::{loc_span, parse_yaml, read_text};
use serde::Deserialize;
use serde_saphyr::Spanned;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The relative tolerance when a case or an expectation gives none.
pub const DEFAULT_TOLERANCE: f64 = 1e-9;

/// Most test files read from one pack.
pub const MAX_TEST_FILES: usize = 1_000;

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct TestFileDoc {
    tests: Option<Entries<Spanned<CaseDoc>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CaseDoc {
    /// Free text for the reader; not used.
    #[allow(dead_code)]
    description: Option<String>,
    as_of: Spanned<Scalar>,
    data: Option<Entries<Spanned<DataDoc>>>,
    expect: Spanned<ExpectDoc>,
    tolerance: Option<Spanned<Scalar>>,
}

/// Inline CSV, or `{path: file.csv}`. Untagged, so always wrapped whole in `Spanned`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum DataDoc {
    Inline(String),
    Table(BTreeMap<String, String>),
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ExpectDoc {
    kpis: Option<Vec<Spanned<KpiExpectDoc>>>,
    goals: Option<Vec<Spanned<GoalExpectDoc>>>,
    error: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct KpiExpectDoc {
    kpi: Spanned<String>,
    group: Option<Entries<Spanned<Option<Scalar>>>>,
    period: Spanned<Scalar>,
    value: Spanned<Option<Scalar>>,
    tolerance: Option<Spanned<Scalar>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct GoalExpectDoc {
    goal: Spanned<String>,
    group: Option<Entries<Spanned<Option<Scalar>>>>,
    period: Spanned<Scalar>,
    status: Spanned<String>,
}

/// One test case.
#[derive(Debug, Clone)]
pub struct Case {
    /// Its id.
    pub id: String,
    /// Where the id is written.
    pub span: SrcSpan,
    /// The test file.
    pub file: PathBuf,
    /// `as_of`, in days.
    pub as_of: i32,
    /// The rows given per dataset, in file order.
    pub data: Vec<CaseData>,
    /// What should come out.
    pub expect: Expect,
}

/// The rows a case gives for one dataset.
#[derive(Debug, Clone)]
pub struct CaseData {
    /// The dataset id.
    pub dataset: String,
    /// Where it is given.
    pub span: SrcSpan,
    /// The rows.
    pub rows: Rows,
}

/// Rows inline or in a file.
#[derive(Debug, Clone)]
pub enum Rows {
    /// CSV text, header first.
    Inline(String),
    /// A file, resolved against the test file's folder.
    Path(PathBuf),
}

/// What a case expects.
#[derive(Debug, Clone)]
pub enum Expect {
    /// Values and statuses from a successful evaluation.
    Values {
        /// KPI values.
        kpis: Vec<KpiExpect>,
        /// Goal statuses.
        goals: Vec<GoalExpect>,
    },
    /// The evaluation fails with this code.
    Error {
        /// The code.
        code: Code,
        /// Where it is written.
        span: SrcSpan,
    },
}

/// A group as written: dimension → value (`null` for an empty value).
pub type Group = BTreeMap<String, Option<String>>;

/// One expected KPI value.
#[derive(Debug, Clone)]
pub struct KpiExpect {
    /// The KPI id.
    pub kpi: String,
    /// Where the id is written.
    pub kpi_span: SrcSpan,
    /// The group.
    pub group: Group,
    /// Where the group is written (or the expectation, when absent).
    pub group_span: SrcSpan,
    /// The period's days.
    pub period: DateRange,
    /// The period as written.
    pub period_text: String,
    /// The value; `None` expects null.
    pub value: Option<f64>,
    /// The value as written.
    pub value_text: String,
    /// Relative tolerance.
    pub tolerance: f64,
    /// The whole expectation.
    pub span: SrcSpan,
}

/// One expected goal status.
#[derive(Debug, Clone)]
pub struct GoalExpect {
    /// The goal id.
    pub goal: String,
    /// Where the id is written.
    pub goal_span: SrcSpan,
    /// The group.
    pub group: Group,
    /// Where the group is written (or the expectation, when absent).
    pub group_span: SrcSpan,
    /// The period's days.
    pub period: DateRange,
    /// The period as written.
    pub period_text: String,
    /// The status, as in reports.
    pub status: String,
    /// Where the status is written.
    pub status_span: SrcSpan,
    /// The whole expectation.
    pub span: SrcSpan,
}

/// Every `.yaml`/`.yml` file under `dir`, recursively, sorted.
pub fn find_test_files(dir: &Path) -> Result<Vec<PathBuf>, Diagnostic> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>, depth: usize) -> Result<(), Diagnostic> {
        if depth > 16 || out.len() > MAX_TEST_FILES {
            return Ok(());
        }
        let entries = std::fs::read_dir(dir).map_err(|e| {
            Diagnostic::error(Code::PackUnreadable, format!("cannot list `{}`: {e}", dir.display()))
                .with_path(dir)
        })?;
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') {
                continue;
            }
            let Ok(ft) = entry.file_type() else { continue };
            let p = entry.path();
            if ft.is_dir() {
                walk(&p, out, depth + 1)?;
            } else if ft.is_file() && (name.ends_with(".yaml") || name.ends_with(".yml")) {
                out.push(p);
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    walk(dir, &mut out, 0)?;
    if out.len() > MAX_TEST_FILES {
        return Err(Diagnostic::error(
            Code::TooManyDefinitions,
            format!("`{}` holds more than {MAX_TEST_FILES} test files", dir.display()),
        )
        .with_path(dir));
    }
    out.sort();
    Ok(out)
}

/// Reads one test file into its cases. Problems of shape (unknown keys, bad values) are
/// collected in `diags`; the cases that could be read are returned.
pub fn read_test_file(
    path: &Path,
    sources: &Sources,
    calendar: &Calendar,
    diags: &mut Diagnostics,
) -> Vec<Case> {
    let text = match read_text(path) {
        Ok(t) => t,
        Err(d) => {
            diags.push(d);
            return Vec::new();
        }
    };
    let file = sources.add(path, text.as_str());
    let doc = match parse_yaml::<TestFileDoc>(&text, file, sources) {
        Ok(d) => d.unwrap_or_default(),
        Err(d) => {
            diags.push(d);
            return Vec::new();
        }
    };
    let cx = Cx { file, text: &text, dir: path.parent().unwrap_or(Path::new("")), path, calendar };
    let mut cases = Vec::new();
    for (id, case) in doc.tests.unwrap_or_default().0 {
        let span = cx.span(&id.referenced);
        if let Some(c) = cx.case(id.value, span, case, diags) {
            cases.push(c);
        }
    }
    cases
}

struct Cx<'a> {
    file: FileId,
    text: &'a str,
    dir: &'a Path,
    path: &'a Path,
    /// The pack's calendar: periods are its labels (fiscal quarters, shifted weeks).
    calendar: &'a Calendar,
}

fn invalid(span: SrcSpan, msg: String, label: &str, help: &str) -> Diagnostic {
    Diagnostic::error(Code::InvalidValue, msg).with_label(span, label).with_help(help)
}

impl Cx<'_> {
    fn span(&self, l: &serde_saphyr::Location) -> SrcSpan {
        loc_span(self.file, l, self.text)
    }

    fn case(&self, id: String, span: SrcSpan, c: Spanned<CaseDoc>, diags: &mut Diagnostics) -> Option<Case> {
        let before = diags.len();
        let c = c.value;
        let as_of_span = self.span(&c.as_of.referenced);
        let as_of_text = c.as_of.value.to_text();
        let as_of = parse_date(&as_of_text);
        if as_of.is_none() {
            diags.push(invalid(
                as_of_span,
                format!("`as_of: {as_of_text}` is not a date"),
                "not YYYY-MM-DD",
                "write the day the case is evaluated at, e.g. `as_of: 2026-11-01`",
            ));
        }
        let tolerance = match &c.tolerance {
            Some(t) => self.tolerance(t, diags),
            None => DEFAULT_TOLERANCE,
        };
        let mut data = Vec::new();
        for (ds, d) in c.data.unwrap_or_default().0 {
            let dspan = self.span(&ds.referenced);
            let vspan = self.span(&d.referenced);
            let rows = match d.value {
                DataDoc::Inline(s) => Rows::Inline(s),
                DataDoc::Table(m) => match (m.get("path"), m.len()) {
                    (Some(p), 1) => Rows::Path(self.dir.join(p)),
                    _ => {
                        let bad: Vec<&str> = m.keys().filter(|k| *k != "path").map(|k| k.as_str()).collect();
                        let help = match bad.first().and_then(|b| did_you_mean(b, ["path"])) {
                            Some(_) => "did you mean `path`? give `{path: file.csv}`".to_string(),
                            None => "give the rows as inline CSV (`|` then the lines) or `{path: file.csv}`, relative to the test file".to_string(),
                        };
                        diags.push(
                            Diagnostic::error(
                                Code::UnknownKey,
                                format!("the data of `{}` takes only `path:`", ds.value),
                            )
                            .with_label(vspan, "expected inline CSV or {path: ...}")
                            .with_help(help),
                        );
                        continue;
                    }
                },
            };
            data.push(CaseData { dataset: ds.value, span: dspan, rows });
        }
        let e = c.expect.value;
        let espan = self.span(&c.expect.referenced);
        let expect = match e.error {
            Some(code) => {
                let cspan = self.span(&code.referenced);
                if e.kpis.as_ref().is_some_and(|v| !v.is_empty())
                    || e.goals.as_ref().is_some_and(|v| !v.is_empty())
                {
                    diags.push(invalid(
                        cspan,
                        "a case expects either an error or values, not both".into(),
                        "an error is expected here",
                        "move the value expectations to another case",
                    ));
                }
                match Code::parse(code.value.trim()) {
                    Some(k) => Expect::Error { code: k, span: cspan },
                    None => {
                        let names = crate::diagnostic::Code::ALL.iter().map(|c| c.as_str());
                        let help = match did_you_mean(code.value.trim(), names) {
                            Some(s) => format!("did you mean `{s}`? codes look like K0101"),
                            None => "give a diagnostic code such as K0101 (see `kpi check` output)".into(),
                        };
                        diags.push(
                            Diagnostic::error(
                                Code::InvalidValue,
                                format!("`{}` is not a diagnostic code", code.value),
                            )
                            .with_label(cspan, "unknown code")
                            .with_help(help),
                        );
                        Expect::Values { kpis: Vec::new(), goals: Vec::new() }
                    }
                }
            }
            None => {
                let kpis = e
                    .kpis
                    .unwrap_or_default()
                    .into_iter()
                    .filter_map(|k| self.kpi_expect(k, tolerance, diags))
                    .collect::<Vec<_>>();
                let goals = e
                    .goals
                    .unwrap_or_default()
                    .into_iter()
                    .filter_map(|g| self.goal_expect(g, diags))
                    .collect::<Vec<_>>();
                if kpis.is_empty() && goals.is_empty() && diags.len() == before {
                    diags.push(invalid(
                        espan,
                        format!("case `{id}` expects nothing"),
                        "no `kpis:`, `goals:` or `error:`",
                        "add `kpis:` or `goals:` expectations, or `error: K0101`",
                    ));
                }
                Expect::Values { kpis, goals }
            }
        };
        // A case with problems is still returned, so its names are checked against the
        // pack too; the suite does not run while any problem is reported.
        Some(Case { id, span, file: self.path.to_path_buf(), as_of: as_of?, data, expect })
    }

    fn tolerance(&self, t: &Spanned<Scalar>, diags: &mut Diagnostics) -> f64 {
        let span = self.span(&t.referenced);
        match number(&t.value) {
            Some(v) if v >= 0.0 && v.is_finite() => v,
            _ => {
                diags.push(invalid(
                    span,
                    format!("`tolerance: {}` is not a non-negative number", t.value.to_text()),
                    "not a tolerance",
                    "a tolerance is relative: `tolerance: 1e-6`, or `0.1%`",
                ));
                DEFAULT_TOLERANCE
            }
        }
    }

    fn group(
        &self,
        g: Option<Entries<Spanned<Option<Scalar>>>>,
        whole: SrcSpan,
        diags: &mut Diagnostics,
    ) -> (Group, SrcSpan) {
        let mut out = Group::new();
        let mut span: Option<SrcSpan> = None;
        for (k, v) in g.unwrap_or_default().0 {
            let ks = self.span(&k.referenced);
            let vs = self.span(&v.referenced);
            span = Some(match span {
                None => SrcSpan::new(ks.file, ks.start, vs.end),
                Some(s) => SrcSpan::new(s.file, s.start, vs.end.max(s.end)),
            });
            if out.insert(k.value.clone(), v.value.as_ref().map(Scalar::to_text)).is_some() {
                diags.push(invalid(
                    ks,
                    format!("dimension `{}` is given twice in the group", k.value),
                    "again here",
                    "give each dimension once",
                ));
            }
        }
        (out, span.unwrap_or(whole))
    }

    fn period(&self, p: &Spanned<Scalar>, diags: &mut Diagnostics) -> Option<(DateRange, String)> {
        let text = p.value.to_text();
        match self.calendar.parse_range(&text) {
            Some(r) => Some((r, text)),
            None => {
                diags.push(invalid(
                    self.span(&p.referenced),
                    format!("`period: {text}` is not a period"),
                    "not a period",
                    "write 2026-10-05, 2026-W41, 2026-10, 2026-Q4, 2026 or START..END",
                ));
                None
            }
        }
    }

    fn kpi_expect(
        &self,
        k: Spanned<KpiExpectDoc>,
        case_tolerance: f64,
        diags: &mut Diagnostics,
    ) -> Option<KpiExpect> {
        let span = self.span(&k.referenced);
        let k = k.value;
        let (group, group_span) = self.group(k.group, span, diags);
        let period = self.period(&k.period, diags);
        let vspan = self.span(&k.value.referenced);
        let (value, value_text) = match &k.value.value {
            None => (None, "null".to_string()),
            Some(s) => match number(s) {
                Some(v) => (Some(v), s.to_text()),
                None => {
                    diags.push(invalid(
                        vspan,
                        format!("`value: {}` is not a number", s.to_text()),
                        "not a number",
                        "write a number (`0.13`, `1_000`), a percent (`13%`) or `null`",
                    ));
                    return None;
                }
            },
        };
        let tolerance = match &k.tolerance {
            Some(t) => self.tolerance(t, diags),
            None => case_tolerance,
        };
        let (period, period_text) = period?;
        Some(KpiExpect {
            kpi: k.kpi.value.clone(),
            kpi_span: self.span(&k.kpi.referenced),
            group,
            group_span,
            period,
            period_text,
            value,
            value_text,
            tolerance,
            span,
        })
    }

    fn goal_expect(&self, g: Spanned<GoalExpectDoc>, diags: &mut Diagnostics) -> Option<GoalExpect> {
        let span = self.span(&g.referenced);
        let g = g.value;
        let (group, group_span) = self.group(g.group, span, diags);
        let period = self.period(&g.period, diags);
        let status_span = self.span(&g.status.referenced);
        let status = g.status.value.trim().to_string();
        let all = crate::eval::Status::ALL.map(|s| s.as_str());
        if !all.contains(&status.as_str()) {
            let help = match did_you_mean(&status, all.iter().copied()) {
                Some(s) => format!("did you mean `{s}`? the statuses are: {}", all.join(", ")),
                None => format!("the statuses are: {}", all.join(", ")),
            };
            diags.push(
                Diagnostic::error(Code::InvalidValue, format!("`{status}` is not a goal status"))
                    .with_label(status_span, "not a status")
                    .with_help(help),
            );
            return None;
        }
        let (period, period_text) = period?;
        Some(GoalExpect {
            goal: g.goal.value.clone(),
            goal_span: self.span(&g.goal.referenced),
            group,
            group_span,
            period,
            period_text,
            status,
            status_span,
            span,
        })
    }
}

/// A number as written in a test file: `0.13`, `13%`, `1_000`, `1e-6`.
pub fn number(s: &Scalar) -> Option<f64> {
    match s {
        Scalar::Int(i) => Some(*i as f64),
        Scalar::Float(f) => Some(*f),
        Scalar::Bool(_) => None,
        Scalar::Str(t) => {
            let t = t.trim().replace('_', "");
            let v = match t.strip_suffix('%') {
                Some(p) => p.trim().parse::<f64>().ok()? / 100.0,
                None => t.parse::<f64>().ok()?,
            };
            v.is_finite().then_some(v)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(yaml: &str) -> (Vec<Case>, Diagnostics) {
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("kpi-testspec-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("t.yaml");
        std::fs::write(&p, yaml).unwrap();
        let s = Sources::new();
        let mut d = Vec::new();
        let cases = read_test_file(&p, &s, &Calendar::default(), &mut d);
        let _ = std::fs::remove_dir_all(&dir);
        (cases, d)
    }

    #[test]
    fn reads_values_percent_null_and_spans() {
        let (cases, d) = read(
            "tests:\n  a:\n    as_of: 2026-11-01\n    tolerance: 1e-6\n    data:\n      posts: |\n        date,x\n        2026-10-01,1\n      audience: {path: a.csv}\n    expect:\n      kpis:\n        - {kpi: k, group: {channel: ig}, period: 2026-10, value: 13%}\n        - {kpi: k, period: 2026, value: null, tolerance: 0.1}\n      goals:\n        - {goal: g, group: {}, period: 2026-Q4, status: on_track}\n",
        );
        assert!(d.is_empty(), "{d:?}");
        let c = &cases[0];
        assert_eq!(c.data.len(), 2);
        let Expect::Values { kpis, goals } = &c.expect else { panic!() };
        assert_eq!(kpis[0].value, Some(0.13));
        assert_eq!(kpis[0].tolerance, 1e-6);
        assert_eq!(kpis[1].value, None);
        assert_eq!(kpis[1].tolerance, 0.1);
        assert_eq!(kpis[0].group.get("channel"), Some(&Some("ig".to_string())));
        assert_eq!(goals[0].status, "on_track");
        assert_eq!(goals[0].period.label(), "2026-10-01..2026-12-31");
    }

    #[test]
    fn rejects_unknown_keys_and_bad_values() {
        let (_, d) = read("tests:\n  a:\n    as_of: 2026-11-01\n    expct: {}\n");
        assert_eq!(d[0].code, Code::UnknownKey, "{d:?}");
        assert!(d[0].help.as_deref().unwrap_or("").contains("did you mean `expect`"), "{d:?}");
        let (_, d) = read(
            "tests:\n  a:\n    as_of: 2026-11-01\n    expect:\n      goals: [{goal: g, period: 2026-10, status: pas}]\n",
        );
        assert!(d[0].help.as_deref().unwrap_or("").contains("did you mean `pass`"), "{d:?}");
        let (_, d) = read("tests:\n  a:\n    as_of: 2026-11-01\n    expect: {error: K9999}\n");
        assert_eq!(d[0].code, Code::InvalidValue, "{d:?}");
    }

    #[test]
    fn numbers_as_written() {
        assert_eq!(number(&Scalar::Str("13%".into())), Some(0.13));
        assert_eq!(number(&Scalar::Str("1_000".into())), Some(1000.0));
        assert_eq!(number(&Scalar::Int(7)), Some(7.0));
        assert_eq!(number(&Scalar::Str("abc".into())), None);
    }
}
