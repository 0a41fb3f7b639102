//! `kpi check`: load and check a pack, print diagnostics and the SMART assessment.

use super::{
    diagnostics_json, exit_for, parse_bindings, print_diagnostics, CheckArgs, CheckFormat, EXIT_GOALS,
    EXIT_OK,
};
use crate::check::CheckOptions;
use crate::diagnostic::{render_github, Code, Diagnostic, Sources};
use crate::engine::readers::LocalFiles;
use crate::eval::smart;
use crate::pipeline::{spec_to_model, yaml_to_spec};

/// Runs `kpi check`.
pub fn run(a: CheckArgs) -> i32 {
    let sources = Sources::new();
    let emit = |diags: &[Diagnostic]| match a.format {
        CheckFormat::Text => print_diagnostics(diags, &sources),
        CheckFormat::Json => print!("{}", diagnostics_json(diags, &sources)),
        CheckFormat::Github => {
            let lines: String = diags.iter().map(|d| render_github(d, &sources) + "\n").collect();
            print!("{lines}");
        }
    };
    let data = match parse_bindings(&a.data) {
        Ok(d) => d,
        Err(e) => {
            emit(&[e]);
            return super::EXIT_INVALID;
        }
    };
    let pack = match yaml_to_spec(&a.pack, &sources) {
        Ok(p) => p,
        Err(d) => {
            emit(&d);
            return super::EXIT_INVALID;
        }
    };
    if a.locked {
        if let Err(d) = crate::spec::lock::verify(&pack) {
            emit(&[d]);
            return super::EXIT_INVALID;
        }
    }
    let scanner = LocalFiles;
    let opts = CheckOptions {
        data: &data,
        require_data: false,
        scanner: &scanner,
        db: &crate::db::DbOptions::DEFAULT,
    };
    match spec_to_model(&pack, &sources, &opts) {
        Err(d) => {
            emit(&d);
            let code = exit_for(&d);
            if code == super::EXIT_DATA {
                super::EXIT_INVALID
            } else {
                code
            }
        }
        Ok((model, mut warnings)) => {
            let mut not_smart = 0;
            for (g, item) in model.goals.iter().zip(&model.goal_items) {
                let s = smart::assess(&model, g);
                let problems = s.problems();
                if !problems.is_empty() {
                    not_smart += 1;
                    let reasons: Vec<String> = problems.iter().map(|(l, r)| format!("{l}: {r}")).collect();
                    warnings.push(
                        Diagnostic::warning(
                            Code::NotSmart,
                            format!("goal `{}` is not SMART — {}", g.id, reasons.join("; ")),
                        )
                        .with_label(item.span, "this goal")
                        .with_help(
                            "add a description, owner, `for:` scope, a declared objective and a window",
                        ),
                    );
                }
            }
            emit(&warnings);
            if a.format == CheckFormat::Text {
                eprintln!(
                    "checked {}: {} dataset(s), {} KPI(s), {} goal(s); {} warning(s)",
                    model.name,
                    model.datasets.len(),
                    model.kpis.len(),
                    model.goals.len(),
                    warnings.len()
                );
            }
            if a.strict && not_smart > 0 {
                EXIT_GOALS
            } else {
                EXIT_OK
            }
        }
    }
}
