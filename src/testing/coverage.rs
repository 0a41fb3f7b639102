//! Coverage: which KPIs and goals some expectation touches.

use super::spec::{Case, Expect};
use crate::check::Model;
use std::collections::HashSet;

/// KPIs and goals touched by the cases.
#[derive(Debug, Clone, PartialEq)]
pub struct Coverage {
    /// KPIs plus goals of the pack.
    pub total: usize,
    /// How many of them an expectation names.
    pub touched: usize,
    /// KPIs no expectation names, by id.
    pub kpis_missed: Vec<String>,
    /// Goals no expectation names, by id.
    pub goals_missed: Vec<String>,
}

impl Coverage {
    /// Touched as a percentage of the total (100 for an empty pack).
    pub fn percent(&self) -> f64 {
        if self.total == 0 {
            100.0
        } else {
            self.touched as f64 * 100.0 / self.total as f64
        }
    }
}

/// A KPI is touched by a KPI expectation naming it, a goal by a goal expectation naming
/// it; `expect: error` cases touch nothing.
pub fn coverage<'a>(model: &Model, cases: impl IntoIterator<Item = &'a Case>) -> Coverage {
    let mut kpis: HashSet<&str> = HashSet::new();
    let mut goals: HashSet<&str> = HashSet::new();
    for c in cases {
        if let Expect::Values { kpis: ks, goals: gs } = &c.expect {
            kpis.extend(ks.iter().map(|k| k.kpi.as_str()));
            goals.extend(gs.iter().map(|g| g.goal.as_str()));
        }
    }
    let mut kpis_missed: Vec<String> =
        model.kpis.iter().filter(|k| !kpis.contains(k.id.as_str())).map(|k| k.id.clone()).collect();
    let mut goals_missed: Vec<String> =
        model.goals.iter().filter(|g| !goals.contains(g.id.as_str())).map(|g| g.id.clone()).collect();
    kpis_missed.sort();
    goals_missed.sort();
    let total = model.kpis.len() + model.goals.len();
    Coverage { total, touched: total - kpis_missed.len() - goals_missed.len(), kpis_missed, goals_missed }
}
