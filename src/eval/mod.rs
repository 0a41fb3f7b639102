//! Evaluation after the aggregate table: KPI values per group and period, time functions,
//! goals with statuses, pace and projection, SMART. Backend-neutral.

mod goals;
mod kpis;
pub mod smart;

pub use goals::{evaluate_goals, Achievable, GoalOutcome, GoalResult, Status};
pub use kpis::{evaluate_kpis, KpiValues, Series, Value};

use crate::calendar::{Calendar, DateRange, Grain};
use crate::check::Model;
use crate::plan::{Bucketing, Needs};

/// What to evaluate and report.
#[derive(Debug, Clone)]
pub struct EvalOptions {
    /// The last day of data taken; rows after it are ignored.
    pub as_of: i32,
    /// Report only periods overlapping this range.
    pub range: Option<DateRange>,
}

/// The window just before `w`, equally long.
pub fn baseline_window(w: DateRange) -> DateRange {
    DateRange { start: w.start - w.days(), end: w.start - 1 }
}

/// How many equally long windows before a goal's window are evaluated: the first is the
/// baseline, all of them are the history behind the achievability verdict.
pub const HISTORY_WINDOWS: usize = 8;

/// A goal's window followed by the [`HISTORY_WINDOWS`] equally long windows before it,
/// most recent first.
pub fn window_ranges(w: DateRange) -> Vec<DateRange> {
    let mut v = vec![w];
    for _ in 0..HISTORY_WINDOWS {
        let prev = baseline_window(*v.last().unwrap_or(&w));
        v.push(prev);
    }
    v
}

/// The bucketing a goal is judged at.
pub fn goal_bucketing(model: &Model, g: usize) -> Bucketing {
    let goal = &model.goals[g];
    let kpi = &model.kpis[goal.kpi];
    match (goal.each, goal.window) {
        (Some(e), _) => Bucketing::Grain(e),
        (None, Some(w)) => Bucketing::Ranges(window_ranges(w)),
        (None, None) => Bucketing::Grain(kpi.grain),
    }
}

/// Every (bucketing, KPI) the report needs: each KPI at its grain, each goal at its
/// bucketing, and each windowed goal over its window and the one before (baseline).
pub fn needs(model: &Model) -> Needs {
    let mut items: Vec<(Bucketing, usize)> =
        model.kpis.iter().enumerate().map(|(i, k)| (Bucketing::Grain(k.grain), i)).collect();
    for (gi, g) in model.goals.iter().enumerate() {
        items.push((goal_bucketing(model, gi), g.kpi));
        if let Some(w) = g.window {
            items.push((Bucketing::Ranges(window_ranges(w)), g.kpi));
        }
    }
    Needs { items }
}

/// The label of a period in a bucketing.
pub fn period_label(cal: &Calendar, b: &Bucketing, p: i32) -> String {
    match b {
        Bucketing::Grain(g) => cal.label(*g, p),
        Bucketing::Ranges(rs) => rs.get(p as usize).map(|r| r.label()).unwrap_or_default(),
    }
}

/// The days of a period in a bucketing.
pub fn period_range(cal: &Calendar, b: &Bucketing, p: i32) -> DateRange {
    match b {
        Bucketing::Grain(g) => DateRange { start: cal.start(*g, p), end: cal.end(*g, p) },
        Bucketing::Ranges(rs) => rs.get(p as usize).copied().unwrap_or(DateRange { start: 0, end: 0 }),
    }
}

/// Whether a grain bucketing is used (for the time functions' series).
pub fn grain_of(b: &Bucketing) -> Option<Grain> {
    match b {
        Bucketing::Grain(g) => Some(*g),
        Bucketing::Ranges(_) => None,
    }
}
