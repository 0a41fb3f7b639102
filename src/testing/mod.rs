//! `kpi test`: hand-computed cases for a pack's formulas and goals (SPEC §8).
//!
//! Stages: [`load_suite`] reads the pack (checked once) and every test file under its
//! `tests/` folder into typed [`spec::Case`]s, checked against the pack; [`run::run_case`]
//! evaluates one case with the real pipeline and compares the report with the
//! expectations; [`coverage`] and [`output`] summarise.

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
        cases.extend(spec::read_test_file(f, sources, &mut diags));
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
