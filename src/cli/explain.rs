//! `kpi explain [PACK] KPI`: what a KPI reads, how it is computed, what depends on it.

use super::{print_diagnostics, ExplainArgs, ExplainFormat, EXIT_INVALID, EXIT_OK};
use crate::check::explain::explain_kpi;
use crate::diagnostic::{did_you_mean, Code, Diagnostic, Sources};
use crate::pipeline::yaml_to_spec;
use std::io::Write;
use std::path::PathBuf;

/// Runs `kpi explain`.
pub fn run(a: ExplainArgs) -> i32 {
    // One positional is the KPI, in the current folder's pack.
    let (pack, kpi) = match (a.first, a.second) {
        (kpi, None) => (PathBuf::from("."), kpi),
        (pack, Some(kpi)) => (PathBuf::from(pack), kpi),
    };
    let sources = Sources::new();
    let as_of = match &a.as_of {
        Some(s) => match crate::calendar::parse_date(s) {
            Some(d) => d,
            None => {
                let d = Diagnostic::error(Code::InvalidArgument, format!("--as-of `{s}` is not a date"))
                    .with_help("write a date as YYYY-MM-DD, e.g. 2026-11-20");
                print_diagnostics(&[d], &sources);
                return EXIT_INVALID;
            }
        },
        None => crate::calendar::today(),
    };
    let spec = match yaml_to_spec(&pack, &sources) {
        Ok(p) => p,
        Err(d) => {
            print_diagnostics(&d, &sources);
            return EXIT_INVALID;
        }
    };
    let model = match super::model_without_data(&spec, &sources, &[]) {
        Ok(m) => m,
        Err(code) => return code,
    };
    let Some(k) = model.kpis.iter().position(|x| x.id == kpi) else {
        let ids: Vec<&str> = model.kpis.iter().map(|x| x.id.as_str()).collect();
        let help = match did_you_mean(&kpi, ids.iter().copied()) {
            Some(s) => format!("did you mean `{s}`?"),
            None if ids.is_empty() => "the pack defines no KPI".to_string(),
            None => format!("the KPIs are: {}", ids.join(", ")),
        };
        let d = Diagnostic::error(Code::UnknownKpi, format!("pack `{}` has no KPI `{kpi}`", model.name))
            .with_help(help);
        print_diagnostics(&[d], &sources);
        return EXIT_INVALID;
    };
    let mut e = explain_kpi(&model, k);
    // The file an (imported) definition came from, without the column.
    let loc = sources.location(model.kpis[k].span);
    e.defined_at = Some(loc.rsplit_once(':').map(|(f, _)| f.to_string()).unwrap_or(loc));
    e.sql = kpi_sql(&model, k, as_of);
    let text = match a.format {
        ExplainFormat::Text => e.to_text(),
        ExplainFormat::Json => serde_json::to_string_pretty(&e).unwrap_or_default() + "\n",
    };
    // A closed pipe (`kpi explain ... | head`) is not an error worth a message.
    let _ = std::io::stdout().write_all(text.as_bytes());
    EXIT_OK
}

/// The PostgreSQL statements that compute KPI `k` (and the KPIs it reads) at its grain.
fn kpi_sql(model: &crate::check::Model, k: usize, as_of: i32) -> Vec<crate::check::explain::SqlUse> {
    use crate::plan::{model_to_plan, Bucketing, Needs};
    use crate::sql::{plan_to_sql, Postgres, SqlSource, TimeKind};
    let needs = Needs { items: vec![(Bucketing::Grain(model.kpis[k].grain), k)] };
    let plan = model_to_plan(model, &needs, as_of, crate::engine::source::BadRowPolicy::Fail, None);
    let time_kind = if model.calendar.timezone.is_some() { TimeKind::Instant } else { TimeKind::Date };
    plan.datasets
        .iter()
        .map(|dp| {
            let ds = &model.datasets[dp.dataset];
            let source = ds
                .source
                .as_ref()
                .and_then(|b| crate::db::Connection::parse(&b.spec).ok())
                .map(|c| c.source)
                .unwrap_or_else(|| SqlSource::Table(ds.id.clone()));
            let q = plan_to_sql(model, dp, as_of, &source, time_kind, &Postgres);
            crate::check::explain::SqlUse { dataset: ds.id.clone(), dialect: "postgres", statement: q.sql }
        })
        .collect()
}
