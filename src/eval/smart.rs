//! SMART assessment of a goal: specific, measurable, achievable, relevant, time-bound.

use crate::check::{GoalDef, Model};

/// The five letters; each `ok` or a reason (achievable: `ok`, `stretch`, `unlikely`,
/// `unknown`).
#[derive(Debug, Clone, serde::Serialize, PartialEq)]
pub struct Smart {
    /// S: description, owner, one KPI, explicit scope.
    pub specific: String,
    /// M: the formula type-checks, data binds, units agree.
    pub measurable: String,
    /// A: the required change against history.
    pub achievable: String,
    /// R: an objective the pack declares.
    pub relevant: String,
    /// T: a window with a start and an end.
    pub time_bound: String,
}

impl Smart {
    /// The letters that are not `ok` (achievable counts only when `unlikely`), with reasons.
    pub fn problems(&self) -> Vec<(&'static str, &str)> {
        let mut v = Vec::new();
        for (l, s) in
            [("S", &self.specific), ("M", &self.measurable), ("R", &self.relevant), ("T", &self.time_bound)]
        {
            if s != "ok" {
                v.push((l, s.as_str()));
            }
        }
        v
    }
}

/// Assesses a goal's S, M, R and T from its definition; A is `unknown` until history is
/// compared (see [`assess_achievable`]).
pub fn assess(model: &Model, g: &GoalDef) -> Smart {
    let kpi = &model.kpis[g.kpi];
    let mut s_missing = Vec::new();
    if g.description.as_deref().is_none_or(|d| d.trim().is_empty()) {
        s_missing.push("a description");
    }
    if g.owner.as_deref().is_none_or(|d| d.trim().is_empty()) {
        s_missing.push("an owner");
    }
    if !kpi.by.is_empty() && g.for_.is_empty() {
        s_missing.push("an explicit scope (`for:`)");
    }
    let specific =
        if s_missing.is_empty() { "ok".to_string() } else { format!("needs {}", s_missing.join(", ")) };
    let ds = &model.datasets[kpi.dataset];
    let measurable = if ds.source.is_none() {
        format!("dataset `{}` is not bound to data", ds.id)
    } else {
        "ok".to_string()
    };
    let relevant = match &g.objective {
        None => "needs an objective".to_string(),
        Some(o) if !g.objective_known => format!("objective `{o}` is not declared"),
        Some(_) => "ok".to_string(),
    };
    let time_bound = if g.window.is_some() {
        "ok".to_string()
    } else {
        "needs a window with a start and an end".to_string()
    };
    Smart { specific, measurable, achievable: "unknown".into(), relevant, time_bound }
}

/// The verdict on achievability: the change the goal requires from its baseline compared
/// with the changes seen between consecutive equally long windows in the KPI's history.
/// `ok` up to the median improvement, `stretch` up to the 90th percentile, `unlikely`
/// beyond, `unknown` with fewer than 2 past changes or no baseline.
pub fn assess_achievable(required: Option<f64>, history: &[f64]) -> (String, Option<f64>, Option<f64>) {
    let Some(req) = required else { return ("unknown".into(), None, None) };
    let mut h: Vec<f64> = history.iter().copied().filter(|x| x.is_finite()).collect();
    if h.len() < 2 {
        return ("unknown".into(), None, None);
    }
    h.sort_by(|a, b| a.total_cmp(b));
    let q = |p: f64| {
        let pos = p * (h.len() - 1) as f64;
        let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
        h[lo] + (h[hi] - h[lo]) * (pos - lo as f64)
    };
    let (med, p90) = (q(0.5), q(0.9));
    let verdict = if req <= med.max(0.0) {
        "ok"
    } else if req <= p90 {
        "stretch"
    } else {
        "unlikely"
    };
    (verdict.into(), Some(med), Some(p90))
}
