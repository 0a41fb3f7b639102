//! `kpi eval`: evaluate a pack and print or write the report.

use super::{
    color_stdout, exit_for, output, parse_bindings, print_diagnostics, EvalArgs, FailOn, Format, OnBadRow,
};
use super::{EXIT_GOALS, EXIT_INVALID, EXIT_OK};
use crate::calendar::{parse_date, today, DateRange};
use crate::diagnostic::{Code, Diagnostic, Sources};
use crate::engine::source::BadRowPolicy;
use crate::pipeline::{evaluate_pack, RunError, RunOptions};
use crate::report::{json, table};

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
            (_, _, Some(p)) => Some(DateRange::parse(p).ok_or_else(|| {
                bad_arg(
                    format!("--period `{p}` is not a period"),
                    "write 2026-10, 2026-Q4, 2026-W41, 2026, 2026-10-05 or START..END",
                )
            })?),
            _ => None,
        };
        let on_bad_row = if a.on_bad_row == OnBadRow::Skip { BadRowPolicy::Skip } else { BadRowPolicy::Fail };
        Ok(RunOptions { data, as_of, range, on_bad_row, locked: a.locked })
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
    let text = match a.format {
        Format::Json => json::render(&report),
        Format::Table => table::render(&report, a.output.is_none() && color_stdout()),
    };
    match &a.output {
        Some(path) => {
            let mut inputs: Vec<std::path::PathBuf> = Vec::new();
            inputs.push(a.pack.clone());
            for f in 0..u32::MAX {
                match sources.get(crate::diagnostic::FileId(f)) {
                    Some(s) => inputs.push(s.path),
                    None => break,
                }
            }
            inputs.extend(report.data.iter().map(|d| std::path::PathBuf::from(&d.source)));
            if let Err(d) = output::write_atomic(path, &text, &inputs) {
                print_diagnostics(&[d], &sources);
                return EXIT_INVALID;
            }
        }
        None => print!("{text}"),
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
