//! Judging goals: statuses of finished periods, pace and projection of unfinished ones.

use super::kpis::{eval_band_value, GroupKey, KpiValues};
use super::{goal_bucketing, period_label, period_range, window_ranges, EvalOptions};
use crate::calendar::DateRange;
use crate::check::{Band, GoalDef, KpiKind, Model};
use crate::plan::Bucketing;
use crate::syntax::ast::BinOp;

/// A goal result's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The target holds.
    Pass,
    /// The target fails, the warn band holds.
    Warn,
    /// Both fail.
    Fail,
    /// No rows, or a null value.
    NoData,
    /// It could not be evaluated.
    Error,
    /// Unfinished; the projection meets the target.
    OnTrack,
    /// Unfinished; the projection misses the target but is within the at-risk band.
    AtRisk,
    /// Unfinished; the projection misses the at-risk band too.
    OffTrack,
}

impl Status {
    /// The status as written in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Warn => "warn",
            Status::Fail => "fail",
            Status::NoData => "no_data",
            Status::Error => "error",
            Status::OnTrack => "on_track",
            Status::AtRisk => "at_risk",
            Status::OffTrack => "off_track",
        }
    }

    /// Every status, in summary order.
    pub const ALL: [Status; 8] = [
        Status::Pass,
        Status::Warn,
        Status::Fail,
        Status::NoData,
        Status::Error,
        Status::OnTrack,
        Status::AtRisk,
        Status::OffTrack,
    ];
}

/// One judged (group, period) of a goal.
#[derive(Debug, Clone)]
pub struct GoalResult {
    /// The group: (dimension, value).
    pub group: Vec<(String, Option<String>)>,
    /// The period label.
    pub period: String,
    /// Its days.
    pub range: DateRange,
    /// The KPI's value (to date, if partial).
    pub value: Option<f64>,
    /// The status.
    pub status: Status,
    /// Whether the period is unfinished at `--as-of`.
    pub partial: bool,
    /// The value expected at the period's end (partial periods).
    pub projected: Option<f64>,
    /// (value - baseline) / (target - baseline).
    pub progress: Option<f64>,
    /// The fraction of the period elapsed (partial periods).
    pub expected_progress: Option<f64>,
    /// The baseline used.
    pub baseline: Option<f64>,
    /// The target's threshold as a number (for Compare bands).
    pub target_value: Option<f64>,
    /// Why the status is `error` or `no_data`.
    pub message: Option<String>,
}

/// A goal's results.
#[derive(Debug, Clone)]
pub struct GoalOutcome {
    /// Index of the goal.
    pub goal: usize,
    /// Results ordered by group values, then period.
    pub results: Vec<GoalResult>,
    /// The achievability verdict and the numbers behind it.
    pub achievable: Achievable,
}

/// The A of SMART: the change a goal requires from its baseline against the changes seen
/// between consecutive equally long windows before it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Achievable {
    /// `ok`, `stretch`, `unlikely` or `unknown`.
    pub verdict: String,
    /// The group the numbers are for (the hardest one).
    pub group: std::collections::BTreeMap<String, Option<String>>,
    /// target / baseline - 1 (sign flipped for `<` targets, so larger is harder).
    pub required_change: Option<f64>,
    /// Median of the past window-to-window changes.
    pub median_change: Option<f64>,
    /// 90th percentile of the past changes.
    pub p90_change: Option<f64>,
    /// How many past changes were seen.
    pub history: usize,
}

fn holds(band: &Band, v: f64, baseline: f64) -> Option<bool> {
    match band {
        Band::Compare(op, e) => {
            let t = eval_band_value(e, baseline);
            if t.is_nan() || v.is_nan() {
                return None;
            }
            Some(match op {
                BinOp::Ge => v >= t,
                BinOp::Gt => v > t,
                BinOp::Le => v <= t,
                BinOp::Lt => v < t,
                BinOp::Eq => (v - t).abs() <= 1e-12 * t.abs().max(1.0),
                BinOp::Ne => (v - t).abs() > 1e-12 * t.abs().max(1.0),
                _ => false,
            })
        }
        Band::Between(l, h) => {
            let (lo, hi) = (eval_band_value(l, baseline), eval_band_value(h, baseline));
            if lo.is_nan() || hi.is_nan() || v.is_nan() {
                return None;
            }
            Some(v >= lo && v <= hi)
        }
    }
}

fn band_uses_baseline(band: &Band) -> bool {
    fn uses(e: &crate::check::KpiExpr) -> bool {
        use crate::check::KpiExpr::*;
        match e {
            Baseline => true,
            Unary(_, x) => uses(x),
            Binary(_, a, b) => uses(a) || uses(b),
            Call(_, xs) => xs.iter().any(uses),
            _ => false,
        }
    }
    match band {
        Band::Compare(_, e) => uses(e),
        Band::Between(a, b) => uses(a) || uses(b),
    }
}

/// The threshold of a band (the target's number), if it is a comparison.
pub fn threshold(band: &Band, baseline: f64) -> Option<f64> {
    match band {
        Band::Compare(_, e) => Some(eval_band_value(e, baseline)).filter(|v| !v.is_nan()),
        Band::Between(_, _) => None,
    }
}

/// Judges every goal.
pub fn evaluate_goals(model: &Model, values: &KpiValues, opts: &EvalOptions) -> Vec<GoalOutcome> {
    model.goals.iter().enumerate().map(|(gi, g)| evaluate_goal(model, gi, g, values, opts)).collect()
}

fn evaluate_goal(
    model: &Model,
    gi: usize,
    g: &GoalDef,
    values: &KpiValues,
    opts: &EvalOptions,
) -> GoalOutcome {
    let kpi = &model.kpis[g.kpi];
    let b = goal_bucketing(model, gi);
    let empty = Default::default();
    let series = values.get(&b, g.kpi).unwrap_or(&empty);
    let base_series =
        g.window.map(|w| Bucketing::Ranges(window_ranges(w))).and_then(|bb| values.get(&bb, g.kpi));
    // Groups: those seen that match `for`, plus the fully pinned ones.
    let matches = |key: &GroupKey| -> bool {
        g.for_.iter().all(|(dim, vals)| {
            let i = kpi.by.iter().position(|b| b == dim);
            match i.and_then(|i| key.get(i)) {
                Some(Some(v)) => vals.contains(v),
                _ => false,
            }
        })
    };
    let mut groups: Vec<GroupKey> = series.values.keys().filter(|k| matches(k)).cloned().collect();
    let all_series = values.get(&Bucketing::Grain(kpi.grain), g.kpi);
    if let Some(s) = all_series {
        for k in s.values.keys() {
            if matches(k) && !groups.contains(k) {
                groups.push(k.clone());
            }
        }
    }
    if kpi.by.iter().all(|d| g.for_.iter().any(|(fd, _)| fd == d)) {
        // Every dimension pinned: the cartesian product of the listed values.
        let mut pinned: Vec<GroupKey> = vec![Vec::new()];
        for d in &kpi.by {
            let vals = g.for_.iter().find(|(fd, _)| fd == d).map(|(_, v)| v.clone()).unwrap_or_default();
            pinned = pinned
                .into_iter()
                .flat_map(|p| {
                    vals.iter().map(move |v| {
                        let mut q = p.clone();
                        q.push(Some(v.clone()));
                        q
                    })
                })
                .collect();
        }
        for p in pinned {
            if !groups.contains(&p) {
                groups.push(p);
            }
        }
    }
    groups.sort();
    // Periods to judge.
    let periods: Vec<i32> = match &b {
        Bucketing::Grain(gr) => match g.window {
            Some(w) => {
                let mut v = Vec::new();
                let cal = &model.calendar;
                let mut p = cal.period_of(*gr, w.start);
                while cal.start(*gr, p) <= w.end && cal.start(*gr, p) <= opts.as_of {
                    v.push(p);
                    p += 1;
                }
                v
            }
            None => {
                let mut ps: Vec<i32> = series.values.values().flat_map(|m| m.keys().copied()).collect();
                ps.sort_unstable();
                ps.dedup();
                ps
            }
        },
        Bucketing::Ranges(rs) => {
            if rs.first().is_some_and(|w| w.start <= opts.as_of) {
                vec![0]
            } else {
                vec![]
            }
        }
    };
    let mut results = Vec::new();
    let mut achievable = Achievable {
        verdict: "unknown".into(),
        group: Default::default(),
        required_change: None,
        median_change: None,
        p90_change: None,
        history: 0,
    };
    let rank = |v: &str| match v {
        "unlikely" => 3,
        "stretch" => 2,
        "ok" => 1,
        _ => 0,
    };
    for key in &groups {
        // History, most recent first: the `each` periods before the window, or the equally
        // long windows before it.
        let hist: Option<Vec<f64>> = match (&b, g.window) {
            (Bucketing::Grain(gr), Some(w)) => series.values.get(key).map(|s| {
                let first = model.calendar.period_of(*gr, w.start);
                (1..=12).map(|i| s.get(&(first - i)).copied().unwrap_or(f64::NAN)).collect()
            }),
            _ => base_series.and_then(|s| s.values.get(key)).map(|s| {
                (1..=super::HISTORY_WINDOWS as i32).map(|i| s.get(&i).copied().unwrap_or(f64::NAN)).collect()
            }),
        };
        if let Some(hist) = hist {
            let flip = matches!(g.target.1, Band::Compare(BinOp::Le | BinOp::Lt, _));
            let sign = if flip { -1.0 } else { 1.0 };
            let changes: Vec<f64> =
                hist.windows(2).map(|w| sign * (w[0] / w[1] - 1.0)).filter(|c| c.is_finite()).collect();
            let b0 = match &g.baseline {
                Some(e) => eval_band_value(e, f64::NAN),
                None => hist[0],
            };
            let required =
                threshold(&g.target.1, b0).map(|t| sign * (t / b0 - 1.0)).filter(|r| r.is_finite());
            let (verdict, med, p90) = crate::eval::smart::assess_achievable(required, &changes);
            if rank(&verdict) > rank(&achievable.verdict)
                || achievable.group.is_empty() && verdict != "unknown"
            {
                achievable = Achievable {
                    verdict,
                    group: kpi.by.iter().cloned().zip(key.iter().cloned()).collect(),
                    required_change: required,
                    median_change: med,
                    p90_change: p90,
                    history: changes.len(),
                };
            }
        }
        let base_value = base_series
            .and_then(|s| s.values.get(key))
            .and_then(|m| m.get(&1))
            .copied()
            .filter(|v| !v.is_nan());
        let baseline = match &g.baseline {
            Some(e) => Some(eval_band_value(e, f64::NAN)).filter(|v| !v.is_nan()),
            None => base_value,
        };
        for &p in &periods {
            let range = period_range(&model.calendar, &b, p);
            if let Some(r) = opts.range {
                if range.end < r.start || range.start > r.end {
                    continue;
                }
            }
            let value = series.values.get(key).and_then(|m| m.get(&p)).copied().filter(|v| !v.is_nan());
            let partial = range.end > opts.as_of;
            let bl = baseline.unwrap_or(f64::NAN);
            let mut res = GoalResult {
                group: kpi.by.iter().cloned().zip(key.iter().cloned()).collect(),
                period: period_label(&model.calendar, &b, p),
                range,
                value,
                status: Status::NoData,
                partial,
                projected: None,
                progress: None,
                expected_progress: None,
                baseline,
                target_value: threshold(&g.target.1, bl),
                message: None,
            };
            let Some(v) = value else {
                res.message = Some("no rows, or a null value, in this group and period".into());
                results.push(res);
                continue;
            };
            if band_uses_baseline(&g.target.1) && baseline.is_none() {
                res.status = Status::Error;
                res.message = Some("the target uses `baseline`, but there is no baseline: give `baseline:` or data for the window before".into());
                results.push(res);
                continue;
            }
            if partial {
                // Progress towards the target: from zero for sums and counts (they start
                // afresh in each window), from the baseline for levels and ratios.
                res.progress = match (res.target_value, baseline, kpi.kind) {
                    (Some(t), _, KpiKind::Additive) if t != 0.0 => Some(v / t),
                    (Some(t), Some(b0), _) if t != b0 => Some((v - b0) / (t - b0)),
                    _ => None,
                };
                let elapsed = (opts.as_of - range.start + 1).max(0) as f64;
                let frac = (elapsed / range.days() as f64).clamp(0.0, 1.0);
                res.expected_progress = Some(frac);
                let projected = match kpi.kind {
                    KpiKind::Additive if frac > 0.0 => v / frac,
                    KpiKind::Stock if frac > 0.0 => match baseline {
                        Some(b0) => b0 + (v - b0) / frac,
                        None => v,
                    },
                    _ => v,
                };
                res.projected = Some(projected);
                res.status = match holds(&g.target.1, projected, bl) {
                    Some(true) => Status::OnTrack,
                    Some(false) => {
                        let near = match &g.warn {
                            Some((_, w)) => holds(w, projected, bl) == Some(true),
                            None => at_risk_default(&g.target.1, projected, bl),
                        };
                        if near {
                            Status::AtRisk
                        } else {
                            Status::OffTrack
                        }
                    }
                    None => Status::Error,
                };
            } else {
                res.status = match holds(&g.target.1, v, bl) {
                    Some(true) => Status::Pass,
                    Some(false) => match &g.warn {
                        Some((_, w)) if holds(w, v, bl) == Some(true) => Status::Warn,
                        _ => Status::Fail,
                    },
                    None => Status::Error,
                };
            }
            if res.status == Status::Error {
                res.message = Some("the target could not be evaluated".into());
            }
            results.push(res);
        }
    }
    GoalOutcome { goal: gi, results, achievable }
}

/// Without a warn band, a projection is at risk when it misses the threshold by at most
/// 10% of the threshold.
fn at_risk_default(band: &Band, projected: f64, baseline: f64) -> bool {
    match band {
        Band::Compare(op, e) => {
            let t = eval_band_value(e, baseline);
            let slack = 0.1 * t.abs();
            match op {
                BinOp::Ge | BinOp::Gt => projected >= t - slack,
                BinOp::Le | BinOp::Lt => projected <= t + slack,
                _ => (projected - t).abs() <= slack,
            }
        }
        Band::Between(l, h) => {
            let (lo, hi) = (eval_band_value(l, baseline), eval_band_value(h, baseline));
            let slack = 0.1 * (hi - lo).abs();
            projected >= lo - slack && projected <= hi + slack
        }
    }
}
