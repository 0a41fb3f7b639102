//! Building the report's data model from an evaluation.

use super::{DataInfo, GoalReport, KpiReport, Note, PackInfo, Report, ResultRow, ValueRow};
use crate::calendar::{format_date, DateRange};
use crate::check::Model;
use crate::eval::{smart, GoalOutcome, KpiValues, Status};
use crate::plan::{AggTable, Bucketing, Plan};
use std::collections::BTreeMap;

/// Everything an evaluation produced, for the report.
pub struct Evaluated<'a> {
    /// The checked pack.
    pub model: &'a Model,
    /// The plan that was run.
    pub plan: &'a Plan,
    /// The aggregate table.
    pub table: &'a AggTable,
    /// KPI values.
    pub values: &'a KpiValues,
    /// Goal outcomes.
    pub goals: &'a [GoalOutcome],
}

/// Builds the report: KPIs at their grain (periods overlapping `range`), goals, SMART,
/// the summary.
pub fn build_report(
    ev: &Evaluated,
    as_of: i32,
    range: Option<DateRange>,
    sources: &crate::diagnostic::Sources,
) -> Report {
    let Evaluated { model, plan, table, values, goals } = *ev;
    let mut notes = Vec::new();
    let mut kpis: Vec<KpiReport> = Vec::new();
    for (k, kpi) in model.kpis.iter().enumerate() {
        let b = Bucketing::Grain(kpi.grain);
        let mut rows = Vec::new();
        if let Some(s) = values.get(&b, k) {
            if s.div_by_zero > 0 {
                notes.push(Note {
                    code: "K0607".into(),
                    message: format!(
                        "`{}`: division by zero gave null in {} value(s)",
                        kpi.id, s.div_by_zero
                    ),
                });
            }
            for (key, periods) in &s.values {
                for (&p, &v) in periods {
                    let cal = &model.calendar;
                    let (start, end) = (cal.start(kpi.grain, p), cal.end(kpi.grain, p));
                    if let Some(r) = range {
                        if end < r.start || start > r.end {
                            continue;
                        }
                    }
                    rows.push(ValueRow {
                        group: kpi.by.iter().cloned().zip(key.iter().cloned()).collect(),
                        period: cal.label(kpi.grain, p),
                        value: (!v.is_nan()).then_some(v),
                        partial: end > as_of,
                    });
                }
            }
        }
        kpis.push(KpiReport {
            id: kpi.id.clone(),
            name: kpi.name.clone(),
            unit: kpi.unit.as_string(),
            grain: kpi.grain.as_str(),
            by: kpi.by.clone(),
            description: kpi.description.clone(),
            values: rows,
        });
    }
    kpis.sort_by(|a, b| a.id.cmp(&b.id));
    let mut summary: BTreeMap<&'static str, u64> = Status::ALL.iter().map(|s| (s.as_str(), 0)).collect();
    let mut greports = Vec::new();
    for out in goals {
        let g = &model.goals[out.goal];
        let kpi = &model.kpis[g.kpi];
        let mut results = Vec::new();
        for r in &out.results {
            *summary.entry(r.status.as_str()).or_default() += 1;
            results.push(ResultRow {
                group: r.group.iter().cloned().collect(),
                period: r.period.clone(),
                value: r.value,
                target: g.target.0.clone(),
                threshold: r.target_value,
                status: r.status.as_str(),
                partial: r.partial,
                projected: r.projected,
                progress: r.progress,
                expected_progress: r.expected_progress,
                baseline: r.baseline,
                message: r.message.clone(),
            });
        }
        let defined_at = sources.get(g.span.file).map(|f| super::DefinedAt {
            file: f.path.display().to_string(),
            line: crate::diagnostic::LineCol::of(&f.text, g.span.start).line,
        });
        greports.push(GoalReport {
            id: g.id.clone(),
            defined_at,
            kpi: kpi.id.clone(),
            objective: g.objective.clone(),
            description: g.description.clone(),
            owner: g.owner.clone(),
            window: g.window.map(|w| w.label()),
            each: g.each.map(|e| e.as_str()),
            target: g.target.0.clone(),
            warn: g.warn.as_ref().map(|w| w.0.clone()),
            smart: smart::Smart { achievable: out.achievable.verdict.clone(), ..smart::assess(model, g) },
            achievability: out.achievable.clone(),
            overridden: g.overridden.clone(),
            results,
        });
    }
    greports.sort_by(|a, b| a.id.cmp(&b.id));
    let mut data = Vec::new();
    for (i, dp) in plan.datasets.iter().enumerate() {
        let ds = &model.datasets[dp.dataset];
        let st = table.stats.get(i).cloned().unwrap_or_default();
        if st.skipped > 0 {
            notes.push(Note {
                code: "K0609".into(),
                message: format!(
                    "dataset `{}`: {} bad row(s) skipped (--on-bad-row skip)",
                    ds.id, st.skipped
                ),
            });
        }
        data.push(DataInfo {
            dataset: ds.id.clone(),
            source: ds.source.as_ref().map(|s| s.display.clone()).unwrap_or_default(),
            rows: st.rows,
            skipped: st.skipped,
            skipped_examples: st
                .first_skipped
                .iter()
                .map(|s| {
                    // Reader messages name their line already.
                    if s.reason.starts_with("line ") {
                        s.reason.clone()
                    } else {
                        format!("line {}: {}", s.line, s.reason)
                    }
                })
                .collect(),
        });
    }
    Report {
        schema: "kpi-report/1",
        pack: PackInfo { name: model.name.clone(), version: model.version.clone() },
        as_of: format_date(as_of),
        kpis,
        goals: greports,
        summary,
        data,
        notes,
    }
}
