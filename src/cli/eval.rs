//! `kpi eval`: evaluate a pack and print or write the report.

use super::{
    color_stdout, exit_for, output, parse_bindings, print_diagnostics, EvalArgs, FailOn, Format, OnBadRow,
};
use super::{EXIT_GOALS, EXIT_INVALID, EXIT_OK};
use crate::calendar::{parse_date, today, DateRange};
use crate::diagnostic::{Code, Diagnostic, Sources};
use crate::engine::source::BadRowPolicy;
use crate::pipeline::{evaluate_pack, RunError, RunOptions};
use crate::report::{github, html, json, junit, markdown, table};

fn bad_arg(msg: String, help: &str) -> Diagnostic {
    Diagnostic::error(Code::InvalidArgument, msg).with_help(help)
}

fn date_arg(flag: &str, v: &str) -> Result<i32, Diagnostic> {
    parse_date(v).ok_or_else(|| {
        bad_arg(format!("{flag} `{v}` is not a date"), "write a date as YYYY-MM-DD, e.g. 2026-11-20")
    })
}

/// Runs `kpi eval`.
pub fn run(a: EvalArgs) -> i32 {
    let sources = Sources::new();
    let mut reports: Vec<(Format, std::path::PathBuf)> = Vec::new();
    let parsed = (|| -> Result<RunOptions, Diagnostic> {
        let data = parse_bindings(&a.data)?;
        let as_of = match &a.as_of {
            Some(s) => date_arg("--as-of", s)?,
            None => today(),
        };
        let range = match (&a.from, &a.to, &a.period) {
            (Some(f), Some(t), _) => {
                let (f, t) = (date_arg("--from", f)?, date_arg("--to", t)?);
                if f > t {
                    return Err(bad_arg("--from is after --to".into(), "give --from on or before --to"));
                }
                Some(DateRange { start: f, end: t })
            }
            // `--period` is read in the pack's calendar (fiscal labels, week start), once loaded.
            _ => None,
        };
        let on_bad_row = if a.on_bad_row == OnBadRow::Skip { BadRowPolicy::Skip } else { BadRowPolicy::Fail };
        for r in &a.reports {
            let ok = r
                .split_once('=')
                .and_then(|(f, p)| Some((Format::parse(f)?, p)))
                .filter(|(_, p)| !p.is_empty());
            match ok {
                Some((f, p)) => reports.push((f, std::path::PathBuf::from(p))),
                None => {
                    return Err(bad_arg(
                        format!("--report `{r}` is not FORMAT=PATH"),
                        "write e.g. --report junit=kpi.xml; the formats are table, json, markdown, junit, html, github",
                    ))
                }
            }
        }
        let db = crate::db::DbOptions {
            connect_timeout: std::time::Duration::from_secs(a.connect_timeout),
            statement_timeout: std::time::Duration::from_secs(a.statement_timeout),
        };
        Ok(RunOptions { data, as_of, range, period: a.period.clone(), on_bad_row, locked: a.locked, db })
    })();
    let opts = match parsed {
        Ok(o) => o,
        Err(d) => {
            print_diagnostics(&[d], &sources);
            return EXIT_INVALID;
        }
    };
    let (report, warnings) = match evaluate_pack(&a.pack, &sources, &opts) {
        Ok(r) => r,
        Err(RunError::Diagnostics(d)) => {
            print_diagnostics(&d, &sources);
            return exit_for(&d);
        }
    };
    print_diagnostics(&warnings, &sources);
    let render = |f: Format, to_terminal: bool| match f {
        Format::Json => json::render(&report),
        Format::Table => table::render(&report, to_terminal && color_stdout()),
        Format::Markdown => markdown::render(&report),
        Format::Junit => junit::render(&report),
        Format::Html => html::render(&report),
        Format::Github => github::render(&report),
    };
    let mut files: Vec<(std::path::PathBuf, String)> =
        reports.iter().map(|(f, p)| (p.clone(), render(*f, false))).collect();
    if let Some(path) = &a.output {
        files.insert(0, (path.clone(), render(a.format, false)));
    }
    if !files.is_empty() {
        let mut inputs: Vec<std::path::PathBuf> = vec![a.pack.clone()];
        for f in 0..u32::MAX {
            match sources.get(crate::diagnostic::FileId(f)) {
                Some(s) => inputs.push(s.path),
                None => break,
            }
        }
        inputs.extend(report.data.iter().map(|d| std::path::PathBuf::from(&d.source)));
        if let Err(d) = output::write_all_atomic(&files, &inputs) {
            print_diagnostics(&[d], &sources);
            return EXIT_INVALID;
        }
    }
    if a.output.is_none() {
        use std::io::Write;
        // A closed pipe (`kpi eval | head`) is not an error worth a panic.
        let _ = std::io::stdout().write_all(render(a.format, true).as_bytes());
    }
    let failing = |s: &str| match a.fail_on {
        FailOn::Never => false,
        FailOn::Fail => matches!(s, "fail" | "off_track" | "error"),
        FailOn::Warn => matches!(s, "fail" | "off_track" | "error" | "warn" | "at_risk"),
    };
    if report.goals.iter().any(|g| g.results.iter().any(|r| failing(r.status))) {
        EXIT_GOALS
    } else {
        EXIT_OK
    }
}
