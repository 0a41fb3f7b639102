//! The stages end to end: `yaml_to_spec` → `spec_to_model` → `model_to_plan` →
//! `plan_to_table` → `table_to_values` → `values_to_report`.

use crate::calendar::DateRange;
use crate::check::{check_pack, CheckOptions, Model};
use crate::diagnostic::{Code, Diagnostic, Diagnostics, Sources};
use crate::engine::aggregate::scan_dataset;
use crate::engine::readers::LocalFiles;
use crate::engine::source::{BadRowPolicy, Scan};
use crate::eval::{evaluate_goals, needs, EvalOptions};
use crate::plan::{model_to_plan, AggTable, Plan};
use crate::report::{build_report, Report};
use crate::spec::{load_pack, Pack};
use std::io::IsTerminal;
use std::path::Path;

/// Loads a pack's YAML into its spec.
pub fn yaml_to_spec(path: &Path, sources: &Sources) -> Result<Pack, Diagnostics> {
    load_pack(path, sources)
}

/// Checks a spec into the model.
pub fn spec_to_model(
    pack: &Pack,
    sources: &Sources,
    opts: &CheckOptions,
) -> Result<(Model, Diagnostics), Diagnostics> {
    check_pack(pack, sources, opts)
}

/// Runs a plan: one scan per dataset bound to a file (local backend), one SQL statement per
/// dataset bound to a database. On a terminal, a spinner on stderr shows the rows read while
/// a large file is scanned.
pub fn plan_to_table(
    model: &Model,
    plan: &Plan,
    scanner: &dyn Scan,
    db: &crate::db::DbOptions,
) -> Result<AggTable, Box<Diagnostic>> {
    let with_progress = crate::engine::progress::ProgressScan { inner: scanner };
    let scanner: &dyn Scan = if std::io::stderr().is_terminal() { &with_progress } else { scanner };
    let mut table = AggTable::default();
    for dp in &plan.datasets {
        let ds = &model.datasets[dp.dataset];
        let (rows, stats) = match ds.source.as_ref().map(|s| &s.spec) {
            Some(crate::spec::SourceSpec::Database { .. }) if dp.read.is_none() => {
                crate::db::run_dataset(model, dp, plan.as_of, db)?
            }
            _ => scan_dataset(dp, scanner, plan.as_of).map_err(Box::new)?,
        };
        table.queries.push(rows);
        table.stats.push(stats);
    }
    Ok(table)
}

/// A warning per dataset that lost rows under `--on-bad-row skip`, pointing at the first.
fn skipped_rows(model: &Model, plan: &Plan, table: &AggTable) -> Diagnostics {
    let mut out = Vec::new();
    for (dp, st) in plan.datasets.iter().zip(&table.stats) {
        if st.skipped == 0 {
            continue;
        }
        let Some(ds) = model.datasets.get(dp.dataset) else { continue };
        let mut d = Diagnostic::warning(
            Code::RowsSkipped,
            format!("dataset `{}`: {} bad row(s) skipped (--on-bad-row skip)", ds.id, st.skipped),
        )
        .with_help("the report lists the first ones under `skipped_examples`; fix them, or run without --on-bad-row skip to stop at the first");
        if let Some(src) = &ds.source {
            d = d.with_path(&src.display);
            if let Some(first) = st.first_skipped.first() {
                d = d.with_line_col(first.line as usize, 0);
                d.message = format!("{}; the first: {}", d.message, first.reason);
            }
        }
        out.push(d);
    }
    out
}

/// What one evaluation needs besides the pack.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// `--data NAME=SOURCE`.
    pub data: Vec<(String, String)>,
    /// `--as-of`.
    pub as_of: i32,
    /// `--from/--to`.
    pub range: Option<DateRange>,
    /// `--period`, read in the pack's calendar (`2026-Q4`, `2026-W41`, `FY2027`, `A..B`).
    pub period: Option<String>,
    /// `--on-bad-row`.
    pub on_bad_row: BadRowPolicy,
    /// `--locked`: the imports must match `kpi.lock`.
    pub locked: bool,
    /// Database connections: timeouts.
    pub db: crate::db::DbOptions,
}

/// Why an evaluation stopped.
#[derive(Debug)]
pub enum RunError {
    /// Invalid definitions or command line (exit 2), or unreadable data (exit 3):
    /// decided by the codes.
    Diagnostics(Diagnostics),
}

/// A pack loaded, checked and planned: everything before the data is aggregated.
pub struct Prepared {
    /// The checked model.
    pub model: Model,
    /// What each KPI is needed at.
    pub needs: crate::plan::Needs,
    /// The plan.
    pub plan: Plan,
    /// Warnings so far.
    pub warnings: Diagnostics,
    /// The reported range (`--from/--to`, or `--period` in the pack's calendar).
    pub range: Option<DateRange>,
}

/// Loads, checks and plans a pack (binding its sources, reading their headers).
pub fn prepare(path: &Path, sources: &Sources, opts: &RunOptions) -> Result<Prepared, RunError> {
    let pack = yaml_to_spec(path, sources).map_err(RunError::Diagnostics)?;
    if opts.locked {
        crate::spec::lock::verify(&pack).map_err(|d| RunError::Diagnostics(vec![d]))?;
    }
    let scanner = LocalFiles;
    let copts = CheckOptions { data: &opts.data, require_data: true, scanner: &scanner, db: &opts.db };
    let (model, warnings) = spec_to_model(&pack, sources, &copts).map_err(RunError::Diagnostics)?;
    let range = match &opts.period {
        None => opts.range,
        Some(p) => Some(model.calendar.parse_range(p).ok_or_else(|| {
            let fiscal = if model.calendar.fiscal_offset != 0 { ", 2027-FQ1, FY2027" } else { "" };
            RunError::Diagnostics(vec![Diagnostic::error(
                Code::InvalidArgument,
                format!("--period `{p}` is not a period"),
            )
            .with_help(format!(
                "write 2026-10, 2026-Q4, 2026-W41, 2026, 2026-10-05{fiscal} or START..END{}",
                if fiscal.is_empty() && (p.starts_with("FY") || p.contains("FQ")) {
                    " (fiscal labels need `calendar: {fiscal_year_start: april}` in the pack)"
                } else {
                    ""
                }
            ))])
        })?),
    };
    let needs = needs(&model);
    let plan = model_to_plan(&model, &needs, opts.as_of, opts.on_bad_row, None);
    Ok(Prepared { model, needs, plan, warnings, range })
}

/// Evaluates KPIs and goals over an aggregate table and builds the report.
pub fn table_to_report(
    prepared: &Prepared,
    table: &AggTable,
    opts: &RunOptions,
    sources: &Sources,
) -> (Report, Diagnostics) {
    let Prepared { model, needs, plan, warnings, range } = prepared;
    let mut warnings = warnings.clone();
    warnings.extend(skipped_rows(model, plan, table));
    let values = crate::eval::evaluate_kpis(model, plan, table, needs);
    let eopts = EvalOptions { as_of: opts.as_of, range: *range };
    let goals = evaluate_goals(model, &values, &eopts);
    let ev = crate::report::Evaluated { model, plan, table, values: &values, goals: &goals };
    (build_report(&ev, opts.as_of, *range, sources), warnings)
}

/// Loads, checks, plans, aggregates and evaluates a pack; returns the report and the warnings.
pub fn evaluate_pack(
    path: &Path,
    sources: &Sources,
    opts: &RunOptions,
) -> Result<(Report, Diagnostics), RunError> {
    let prepared = prepare(path, sources, opts)?;
    let table = plan_to_table(&prepared.model, &prepared.plan, &LocalFiles, &opts.db)
        .map_err(|d| RunError::Diagnostics(vec![*d]))?;
    Ok(table_to_report(&prepared, &table, opts, sources))
}
