//! Reports: one data model built from an evaluation, rendered by one module per format.

mod build;
mod format;
pub mod github;
pub mod html;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod table;

pub use build::{build_report, Evaluated};
pub use format::{format_short, format_value};

use crate::eval::smart::Smart;
use serde::Serialize;
use std::collections::BTreeMap;

/// The report of one evaluation (SPEC §7).
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Always `kpi-report/1`.
    pub schema: &'static str,
    /// The pack evaluated.
    pub pack: PackInfo,
    /// The last day of data taken.
    pub as_of: String,
    /// KPIs ordered by id.
    pub kpis: Vec<KpiReport>,
    /// Goals ordered by id.
    pub goals: Vec<GoalReport>,
    /// Counts of goal results per status.
    pub summary: BTreeMap<&'static str, u64>,
    /// What was read.
    pub data: Vec<DataInfo>,
    /// Notes (division by zero, skipped rows).
    pub notes: Vec<Note>,
}

impl Report {
    /// The unit of KPI `id` (none if the KPI is unknown or has no unit).
    pub fn unit_of(&self, id: &str) -> crate::check::Unit {
        self.kpis
            .iter()
            .find(|k| k.id == id)
            .map(|k| crate::check::Unit::parse(k.unit.as_deref().unwrap_or("")))
            .unwrap_or(crate::check::Unit::None)
    }
}

/// Name and version.
#[derive(Debug, Clone, Serialize)]
pub struct PackInfo {
    /// `pack:`.
    pub name: String,
    /// `version:`.
    pub version: String,
}

/// One dataset's read.
#[derive(Debug, Clone, Serialize)]
pub struct DataInfo {
    /// Dataset id.
    pub dataset: String,
    /// Where it came from (credentials redacted).
    pub source: String,
    /// Rows read.
    pub rows: u64,
    /// Rows skipped under `--on-bad-row skip`.
    pub skipped: u64,
    /// The first skipped rows: line and reason.
    pub skipped_examples: Vec<String>,
}

/// A note.
#[derive(Debug, Clone, Serialize)]
pub struct Note {
    /// Diagnostic code.
    pub code: String,
    /// What happened.
    pub message: String,
}

/// One KPI's values.
#[derive(Debug, Clone, Serialize)]
pub struct KpiReport {
    /// Id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Unit, if any.
    pub unit: Option<String>,
    /// Grain.
    pub grain: &'static str,
    /// Group-by dimensions.
    pub by: Vec<String>,
    /// Description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Values ordered by group values, then period.
    pub values: Vec<ValueRow>,
}

/// A value of a KPI.
#[derive(Debug, Clone, Serialize)]
pub struct ValueRow {
    /// Dimension → value.
    pub group: BTreeMap<String, Option<String>>,
    /// Period label.
    pub period: String,
    /// The value; null when undefined.
    pub value: Option<f64>,
    /// Set when the period is not finished at `as_of`.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub partial: bool,
}

/// One goal's assessment and results.
#[derive(Debug, Clone, Serialize)]
pub struct GoalReport {
    /// Id.
    pub id: String,
    /// Where the goal is defined: file and line (for annotations).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub defined_at: Option<DefinedAt>,
    /// KPI id.
    pub kpi: String,
    /// Objective id.
    pub objective: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// Owner.
    pub owner: Option<String>,
    /// Window label.
    pub window: Option<String>,
    /// Judging grain.
    pub each: Option<&'static str>,
    /// The target as written.
    pub target: String,
    /// The warn band as written.
    pub warn: Option<String>,
    /// SMART letters.
    pub smart: Smart,
    /// The numbers behind the achievability verdict.
    pub achievability: crate::eval::Achievable,
    /// The fields an importer's `overrides:` changed (`target`, `owner`, ...).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub overridden: Vec<String>,
    /// Results ordered by group values, then period.
    pub results: Vec<ResultRow>,
}

/// A place in a definition file.
#[derive(Debug, Clone, Serialize)]
pub struct DefinedAt {
    /// The file, as given on the command line.
    pub file: String,
    /// 1-based line.
    pub line: usize,
}

/// One judged group and period.
#[derive(Debug, Clone, Serialize)]
pub struct ResultRow {
    /// Dimension → value.
    pub group: BTreeMap<String, Option<String>>,
    /// Period label.
    pub period: String,
    /// The KPI's value (to date when partial).
    pub value: Option<f64>,
    /// The target as written.
    pub target: String,
    /// The target's threshold as a number, when it is `OP VALUE`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub threshold: Option<f64>,
    /// The status.
    pub status: &'static str,
    /// Unfinished at `as_of`.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub partial: bool,
    /// The value expected at the period's end.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub projected: Option<f64>,
    /// (value - baseline) / (target - baseline).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub progress: Option<f64>,
    /// The fraction of the period elapsed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected_progress: Option<f64>,
    /// The baseline used.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline: Option<f64>,
    /// Why the status is `error` or `no_data`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}
