//! The YAML model of a pack file, as written, with spans (serde-saphyr `Spanned`).
//!
//! Every struct denies unknown keys. `Spanned` loses its location under `flatten` and
//! untagged enums, so untagged enums are always wrapped whole: `Spanned<Scalar>`, never a
//! `Spanned` inside a variant.

use serde::de::{Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use serde_saphyr::Spanned;
use std::fmt;
use std::marker::PhantomData;

/// A YAML mapping kept in source order, with every key's span.
#[derive(Debug, Clone)]
pub struct Entries<V>(pub Vec<(Spanned<String>, V)>);

impl<V> Default for Entries<V> {
    fn default() -> Self {
        Entries(Vec::new())
    }
}

impl<'de, V: Deserialize<'de>> Deserialize<'de> for Entries<V> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V2<V>(PhantomData<V>);
        impl<'de, V: Deserialize<'de>> Visitor<'de> for V2<V> {
            type Value = Entries<V>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a mapping of ids to definitions")
            }
            fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
                Ok(Entries(Vec::new()))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = m.next_entry::<Spanned<String>, V>()? {
                    let Spanned { value, referenced, defined } = k;
                    out.push((Spanned::new(value, referenced, defined), v));
                }
                Ok(Entries(out))
            }
        }
        d.deserialize_map(V2(PhantomData))
    }
}

/// A scalar that may be written as a number, a boolean or a string (`version: 1.0`,
/// `window: 2026`, `baseline: 3.9%`).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum Scalar {
    /// `true` / `false`.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
    /// Anything else, as text.
    Str(String),
}

impl Scalar {
    /// The scalar as text, as the user wrote it (as far as YAML lets us tell).
    pub fn to_text(&self) -> String {
        match self {
            Scalar::Bool(b) => b.to_string(),
            Scalar::Int(i) => i.to_string(),
            Scalar::Float(f) => f.to_string(),
            Scalar::Str(s) => s.clone(),
        }
    }
}

/// One YAML file of a pack: every section is optional.
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct FileDoc {
    /// The pack's name.
    pub pack: Option<Spanned<Scalar>>,
    /// The pack's semver version.
    pub version: Option<Spanned<Scalar>>,
    /// What the pack is for.
    pub description: Option<Spanned<String>>,
    /// Business aims: id → description.
    pub objectives: Option<Entries<Spanned<String>>>,
    /// Datasets: id → definition.
    pub datasets: Option<Entries<DatasetDoc>>,
    /// KPIs: id → definition.
    pub kpis: Option<Entries<KpiDoc>>,
    /// Goals: id → definition.
    pub goals: Option<Entries<GoalDoc>>,
    /// Imported packs: namespace → where and which version.
    pub imports: Option<Entries<ImportDoc>>,
    /// Changes to imported definitions.
    pub overrides: Option<OverridesDoc>,
    /// Typed parameters the importer may set: name → declaration.
    pub params: Option<Entries<ParamDoc>>,
    /// Week start, fiscal year start and time zone.
    pub calendar: Option<CalendarDoc>,
}

/// `calendar:` of a pack.
#[derive(Debug, Deserialize, Default, Clone)]
#[serde(deny_unknown_fields)]
pub struct CalendarDoc {
    /// The first day of a week: `monday` (default) ... `sunday`.
    pub week_start: Option<Spanned<Scalar>>,
    /// The first month of a fiscal year: a name (`april`) or a number (`4`); default January.
    pub fiscal_year_start: Option<Spanned<Scalar>>,
    /// IANA zone that datetimes are converted to before bucketing (default UTC).
    pub timezone: Option<Spanned<String>>,
}

/// One import: a path or a git repository, a version requirement, parameter values.
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ImportDoc {
    /// A folder or file, relative to the importing pack.
    pub path: Option<Spanned<String>>,
    /// A git repository URL.
    pub git: Option<Spanned<String>>,
    /// A tag, branch or commit of `git:`.
    pub rev: Option<Spanned<Scalar>>,
    /// A semver requirement on the imported pack's `version:`.
    pub version: Option<Spanned<Scalar>>,
    /// Values of the imported pack's `params:`.
    pub params: Option<Entries<Spanned<Scalar>>>,
}

/// `overrides:` of a pack.
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct OverridesDoc {
    /// Imported goal id (`core.goal`) → the fields to change.
    pub goals: Option<Entries<GoalOverrideDoc>>,
}

/// The fields of an imported goal that an importer may change.
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct GoalOverrideDoc {
    /// New target.
    pub target: Option<Spanned<Scalar>>,
    /// New warn band.
    pub warn: Option<Spanned<Scalar>>,
    /// New window.
    pub window: Option<Spanned<Scalar>>,
    /// New judging grain.
    pub each: Option<Spanned<String>>,
    /// New scope.
    #[serde(rename = "for")]
    pub for_: Option<Entries<Spanned<ForValue>>>,
    /// New owner.
    pub owner: Option<Spanned<String>>,
}

/// A declared parameter.
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ParamDoc {
    /// `number`, `percent`, `text` or `date`.
    #[serde(rename = "type")]
    pub type_: Option<Spanned<String>>,
    /// The value when the importer sets none.
    pub default: Option<Spanned<Scalar>>,
    /// What it controls.
    pub description: Option<Spanned<String>>,
}

/// A dataset's definition.
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct DatasetDoc {
    /// Where the rows come from.
    pub source: Option<Spanned<SourceDoc>>,
    /// The time column.
    pub time: Option<Spanned<String>>,
    /// Columns that KPIs may group and filter by.
    pub dimensions: Option<Spanned<Vec<Spanned<String>>>>,
    /// Declared column types: `number`, `text`, `date`, `bool`.
    pub columns: Option<Entries<Spanned<String>>>,
    /// What the rows are.
    pub description: Option<Spanned<String>>,
}

/// A dataset source: a path, or a database URL with a table or a query.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum SourceDoc {
    /// A file path relative to the pack.
    Path(String),
    /// A database.
    Db {
        /// Connection URL, `${VAR}` expanded.
        url: String,
        /// A table name.
        table: Option<String>,
        /// A query.
        query: Option<String>,
    },
}

/// A KPI's definition.
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct KpiDoc {
    /// Display name.
    pub name: Option<Spanned<String>>,
    /// What it measures.
    pub description: Option<Spanned<String>>,
    /// `count`, `percent`, `ratio`, `currency:USD`, `seconds` or any text.
    pub unit: Option<Spanned<String>>,
    /// The dataset it reads; optional when the pack has one dataset.
    pub dataset: Option<Spanned<String>>,
    /// The formula.
    pub formula: Option<Spanned<String>>,
    /// Dimensions to group by.
    pub by: Option<Spanned<Vec<Spanned<String>>>>,
    /// `day`, `week`, `month`, `quarter`, `year`.
    pub grain: Option<Spanned<String>>,
    /// Free tags.
    pub tags: Option<Vec<Spanned<String>>>,
    /// Who answers for it.
    pub owner: Option<Spanned<String>>,
}

/// A goal's definition.
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct GoalDoc {
    /// The KPI judged.
    pub kpi: Option<Spanned<String>>,
    /// What the goal is, in words.
    pub description: Option<Spanned<String>>,
    /// Which groups: dimension → value or list of values.
    #[serde(rename = "for")]
    pub for_: Option<Entries<Spanned<ForValue>>>,
    /// `OP VALUE` or `between A and B`.
    pub target: Option<Spanned<Scalar>>,
    /// The warning band.
    pub warn: Option<Spanned<Scalar>>,
    /// `2026-10-01..2026-12-31`, `2026-Q4`, `2026-10`, `2026`.
    pub window: Option<Spanned<Scalar>>,
    /// Judge every period of this grain in the window.
    pub each: Option<Spanned<String>>,
    /// A value, or absent = the window just before.
    pub baseline: Option<Spanned<Scalar>>,
    /// The objective it serves.
    pub objective: Option<Spanned<String>>,
    /// Who answers for it.
    pub owner: Option<Spanned<String>>,
}

/// The value(s) of one dimension in a goal's `for:`.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum ForValue {
    /// One value.
    One(Scalar),
    /// Any of several values.
    Many(Vec<Scalar>),
}
