//! `kpi test`: hand-computed cases for a pack's formulas and goals (SPEC §8).
//!
//! Stages: [`load_suite`] reads the pack (checked once) and every test file under its
//! `tests/` folder into typed [`spec::Case`]s, checked against the pack; [`run::run_case`]
//! evaluates one case with the real pipeline and compares the report with the
//! expectations; [`coverage`] and [`output`] summarise.
//!
//! ```yaml
//! tests:
//!   case_id:
//!     as_of: 2026-11-01
//!     tolerance: 1e-6                  # optional, relative; default 1e-9
//!     data:
//!       posts: |                       # inline CSV, header first
//!         date,channel,likes,reach
//!         2026-10-01,instagram,10,100
//!       audience: {path: rows.csv}     # or a file, relative to the test file
//!     expect:
//!       kpis:
//!         - {kpi: engagement_rate, group: {channel: instagram}, period: 2026-10, value: 10%}
//!       goals:
//!         - {goal: ig_engagement_q4, group: {channel: instagram}, period: 2026-10, status: pass}
//! ```
//!
//! - **Values**: a number, a percent string (`13%` = 0.13) or `null`. A value matches when
//!   `|actual - expected| <= tolerance * |expected|` (absolute `tolerance` when the expected
//!   value is 0); `null` matches only a null value; a (group, period) with no value at all
//!   is reported as `no value`. `tolerance:` may be set per case or per expectation.
//! - **Groups**: `group:` names every `by:` dimension of the KPI (absent = `{}`); `null`
//!   stands for an empty dimension value. **Periods** may be written in any period form
//!   (`2026-10`, `2026-W41`, `2026-Q4`, `START..END`) and match the report's period with
//!   the same days, so a goal judged over its whole window `2026-10-01..2026-12-31` can be
//!   written `2026-Q4`.
//! - **Datasets the case does not give** are bound to a header-only CSV: the time column,
//!   the dimensions, the declared `columns:` and every column the KPIs read. The pack checks
//!   as usual and KPIs over that dataset have no rows. The pack's own `source:` files are
//!   never read while a case runs (they are only sniffed once, as `kpi check` does, when
//!   the pack is loaded). Inline rows are written to a private folder under the system temp
//!   dir, removed after the case.
//! - **`expect: {error: K0602}`** (a code, or its name `BadNumber`): the case passes when the
//!   evaluation stops with that diagnostic, which lets a pack test its guard rails with data
//!   that should be refused (a missing column: K0101; a bad number: K0602; a bad date:
//!   K0604). A case expects either an error or values. Definition errors cannot be tested
//!   this way: a pack whose definitions do not check is not run at all (exit 2).
//! - **Coverage**: a KPI is covered by a KPI expectation naming it, a goal by a goal
//!   expectation naming it; over the selected cases.
//! - **Exit codes**: 0 every case passed; 1 some case failed or coverage is below
//!   `--min-coverage`; 2 the pack or a test file is invalid (every problem is listed).

pub mod coverage;
pub mod output;
pub mod run;
pub mod spec;

use crate::diagnostic::{Code, Diagnostic, Diagnostics, Sources};
use run::PackUnderTest;
use spec::Case;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// A pack with its cases, ready to run.
#[derive(Debug)]
pub struct Suite {
    /// The pack, loaded and checked.
    pub pack: PackUnderTest,
    /// Every case of every test file, files in path order, cases in file order.
    pub cases: Vec<Case>,
}

/// The folder holding a pack's tests: `PACK/tests`, or `tests/` next to a single-file pack.
pub fn tests_dir(pack: &Path) -> PathBuf {
    if pack.is_dir() {
        pack.join("tests")
    } else {
        pack.parent().unwrap_or(Path::new("")).join("tests")
    }
}

/// Loads the pack and its test files. Any problem in either is an error (exit 2).
pub fn load_suite(pack: &Path, sources: &Sources) -> Result<Suite, Diagnostics> {
    let put = run::prepare(pack, sources)?;
    let dir = tests_dir(pack);
    if !dir.is_dir() {
        return Err(vec![Diagnostic::error(
            Code::PackNotFound,
            format!("the pack has no tests: `{}` is not a folder", dir.display()),
        )
        .with_path(&dir)
        .with_help(
            "put test files (`tests: {case_id: {as_of, data, expect}}`) under the pack's tests/ folder",
        )]);
    }
    let files = spec::find_test_files(&dir).map_err(|d| vec![d])?;
    let mut diags = Vec::new();
    let mut cases = Vec::new();
    for f in &files {
        cases.extend(spec::read_test_file(f, sources, &put.model.calendar, &mut diags));
    }
    let mut seen: HashMap<String, crate::diagnostic::SrcSpan> = HashMap::new();
    for c in &cases {
        if let Some(first) = seen.get(&c.id) {
            diags.push(
                Diagnostic::error(Code::DuplicateId, format!("test case `{}` is defined twice", c.id))
                    .with_label(c.span, "defined again here")
                    .with_label(*first, "first defined here")
                    .with_help("case ids are unique across the pack's test files; rename one"),
            );
        } else {
            seen.insert(c.id.clone(), c.span);
        }
        diags.extend(run::validate(&put, c));
    }
    if files.is_empty() {
        diags.push(
            Diagnostic::error(
                Code::PackNotFound,
                format!("no test files (.yaml, .yml) under `{}`", dir.display()),
            )
            .with_path(&dir)
            .with_help("add a file such as tests/cases.yaml with `tests: {case_id: {as_of, data, expect}}`"),
        );
    }
    if diags.iter().any(|d| d.is_error()) {
        return Err(diags);
    }
    Ok(Suite { pack: put, cases })
}
