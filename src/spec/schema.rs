//! The JSON Schema (draft-07) of the definition files, for editors: completion, help on
//! hover, and typos flagged as you type.
//!
//! serde-saphyr's `Spanned<T>` has no `JsonSchema`, so these are schema-only mirrors of the
//! types in [`super::model`]. Keep them in step: a section added to `FileDoc` gets a field
//! here (with a doc comment: it becomes the help text in the editor). Every object denies
//! unknown keys, so a misspelt key is flagged.

use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use std::borrow::Cow;
use std::collections::BTreeMap;

/// The schema of one definition file, as a JSON value.
pub fn file_schema() -> serde_json::Value {
    let generator = schemars::generate::SchemaSettings::draft07().into_generator();
    generator.into_root_schema_for::<FileSchema>().to_value()
}

/// A file of a kpi pack: `pack.yaml`, or any other `.yaml` file of the pack's folder. Every
/// section is optional; an id may be defined in one file only.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "kpi pack file")]
pub struct FileSchema {
    /// The pack's name, e.g. `smm`.
    pub pack: Option<ScalarText>,
    /// The pack's version (semver), e.g. `1.0.0`; importing packs can require a range.
    pub version: Option<ScalarText>,
    /// What the pack is for.
    pub description: Option<String>,
    /// Business aims that goals serve: id → what it means, e.g. `awareness: Grow brand awareness`.
    #[schemars(extend("propertyNames" = {"pattern": "^[A-Za-z_][A-Za-z0-9_]*$"}))]
    pub objectives: Option<BTreeMap<String, String>>,
    /// Tables of rows that KPIs read: id → definition.
    pub datasets: Option<BTreeMap<String, DatasetSchema>>,
    /// KPIs: id → definition. An id is letters, digits and `_`.
    #[schemars(extend("propertyNames" = {"pattern": "^[A-Za-z_][A-Za-z0-9_]*$"}))]
    pub kpis: Option<BTreeMap<String, KpiSchema>>,
    /// Goals on KPIs: id → definition.
    #[schemars(extend("propertyNames" = {"pattern": "^[A-Za-z_][A-Za-z0-9_]*$"}))]
    pub goals: Option<BTreeMap<String, GoalSchema>>,
    /// The pack's calendar: where weeks and fiscal years start, and the time zone of datetimes.
    pub calendar: Option<CalendarSchema>,
}

/// `calendar:` of a pack. Absent = ISO weeks from Monday, calendar quarters and years, UTC.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CalendarSchema {
    /// The first day of a week, e.g. `sunday` (default `monday`). A week is labelled with the
    /// ISO week `YYYY-Www` that holds most of its days.
    pub week_start: Option<Weekday>,
    /// The first month of a fiscal year: a name (`april`) or a number (`4`); default January.
    /// Quarters and years then follow it: labels `2027-FQ1` and `FY2027`, a fiscal year being
    /// named after the calendar year it ends in (FY2027 = 2026-04-01..2027-03-31).
    pub fiscal_year_start: Option<Month>,
    /// The IANA time zone that datetimes are converted to before their date is taken, e.g.
    /// `Europe/Berlin` (default UTC).
    pub timezone: Option<String>,
}

/// A dataset: where its rows come from and which columns date and group them.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DatasetSchema {
    /// Where the rows come from: a path relative to the pack (`data/posts.csv`; .csv, .tsv,
    /// .ndjson, .jsonl), or a database `{url, table}` / `{url, query}`. `${VAR}` reads the
    /// environment. `--data NAME=SOURCE` rebinds it.
    pub source: Option<SourceSchema>,
    /// The column that dates each row (ISO date or RFC 3339 datetime), e.g. `date`.
    pub time: Option<String>,
    /// Columns that KPIs may group by (`by:`) and goals may scope (`for:`), e.g. `[channel, campaign]`.
    pub dimensions: Option<Vec<String>>,
    /// Declared column types (otherwise inferred from the data): column → type.
    pub columns: Option<BTreeMap<String, ColumnType>>,
    /// What one row is.
    pub description: Option<String>,
}

/// A dataset's source.
#[derive(JsonSchema)]
#[serde(untagged)]
pub enum SourceSchema {
    /// A file path relative to the pack, e.g. `data/posts.csv`.
    Path(String),
    /// A database table or query.
    Db(DbSource),
}

/// A database source; credentials in the URL are never printed.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DbSource {
    /// Connection URL, e.g. `${DATABASE_URL}` or `postgres://user@host/db`.
    pub url: String,
    /// A table to read.
    pub table: Option<String>,
    /// A query to read (instead of a table).
    pub query: Option<String>,
}

/// A declared column type.
#[derive(JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ColumnType {
    /// A number (64-bit float).
    Number,
    /// Same as `number`.
    Int,
    /// Same as `number`.
    Integer,
    /// Same as `number`.
    Float,
    /// Same as `number`.
    Decimal,
    /// Text.
    Text,
    /// Same as `text`.
    String,
    /// A date.
    Date,
    /// A datetime, read as its date.
    Datetime,
    /// Same as `datetime`.
    Timestamp,
    /// true / false.
    Bool,
    /// Same as `bool`.
    Boolean,
}

/// A KPI: a named formula giving one number per group and period.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct KpiSchema {
    /// Display name, e.g. `Engagement rate`.
    pub name: Option<String>,
    /// What it measures, in words.
    pub description: Option<String>,
    /// `count`, `percent`, `ratio`, `currency:USD`, `seconds`, or any text shown after the number.
    pub unit: Option<Unit>,
    /// The dataset it reads; optional when the pack has exactly one dataset.
    pub dataset: Option<String>,
    /// The formula, e.g. `(sum(likes) + sum(comments)) / sum(reach)`. Inside an aggregate names
    /// are columns; outside, they are KPIs.
    pub formula: Option<String>,
    /// Dimensions to group by, e.g. `[channel]`; absent = one value for all rows.
    pub by: Option<Vec<String>>,
    /// The period each value covers (default `month`).
    pub grain: Option<GrainSchema>,
    /// Free tags, e.g. `[engagement]`.
    pub tags: Option<Vec<String>>,
    /// Who answers for the KPI.
    pub owner: Option<String>,
}

/// A calendar grain.
#[derive(JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum GrainSchema {
    /// One value per day: `2026-10-05`.
    Day,
    /// One value per ISO week: `2026-W41`.
    Week,
    /// One value per month: `2026-10`.
    Month,
    /// One value per quarter: `2026-Q4`.
    Quarter,
    /// One value per year: `2026`.
    Year,
    /// Same as `day`.
    Daily,
    /// Same as `week`.
    Weekly,
    /// Same as `month`.
    Monthly,
    /// Same as `quarter`.
    Quarterly,
    /// Same as `year`.
    Yearly,
}

/// A goal: a SMART target for one KPI, scoped to groups and bounded in time.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GoalSchema {
    /// The KPI judged.
    pub kpi: Option<String>,
    /// What the goal is, in words (the S of SMART).
    pub description: Option<String>,
    /// Which groups: dimension → a value or a list of values, e.g. `{channel: instagram}`;
    /// absent = every group, each judged on its own.
    #[serde(rename = "for")]
    pub for_: Option<BTreeMap<String, ForSchema>>,
    /// `OP VALUE` or `between A and B`, e.g. `">= 4.5%"` (quote it: a leading `>` starts a
    /// YAML block). A value may use `baseline`: `">= 1.2 * baseline"`.
    pub target: Option<Band>,
    /// A second band: the target fails but this holds = `warn`, not `fail`. Same form as `target`.
    pub warn: Option<Band>,
    /// When: `2026-10-01..2026-12-31`, `2026-Q4`, `2026-10`, `2026-W41` or `2026`.
    pub window: Option<Window>,
    /// Judge every period of this grain in the window; absent = the window as one period.
    pub each: Option<GrainSchema>,
    /// The starting value, e.g. `3.9%`; absent = the KPI over the equally long window just before.
    pub baseline: Option<ScalarText>,
    /// The objective it serves (declared under `objectives:`).
    pub objective: Option<String>,
    /// Who answers for the goal.
    pub owner: Option<String>,
}

/// The value(s) of one dimension in a goal's `for:`.
#[derive(JsonSchema)]
#[serde(untagged)]
pub enum ForSchema {
    /// One value.
    One(ScalarText),
    /// Any of several values.
    Many(Vec<ScalarText>),
}

/// Defines a schema-only type whose schema is written by hand, inlined where it is used.
macro_rules! hand_written {
    ($(#[$doc:meta])* $name:ident => $schema:tt) => {
        $(#[$doc])*
        pub struct $name;
        impl JsonSchema for $name {
            fn inline_schema() -> bool {
                true
            }
            fn schema_name() -> Cow<'static, str> {
                stringify!($name).into()
            }
            fn json_schema(_: &mut SchemaGenerator) -> Schema {
                json_schema!($schema)
            }
        }
    };
}

hand_written! {
    /// A YAML scalar read as text (`version: 1.0`, `baseline: 3.9%`, `for: {year: 2026}`).
    ScalarText => {"type": ["string", "number", "boolean"]}
}

hand_written! {
    /// A weekday.
    Weekday => {
        "type": "string",
        "enum": ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
    }
}

hand_written! {
    /// A month: a name or a number from 1 to 12.
    Month => {
        "anyOf": [
            {"type": "string", "examples": ["january", "april", "july", "october"]},
            {"type": "integer", "minimum": 1, "maximum": 12}
        ]
    }
}

hand_written! {
    /// A goal band.
    Band => {
        "type": "string",
        "examples": [">= 4.5%", "<= 0.35", "between 3% and 5%", ">= 1.05 * baseline"]
    }
}

hand_written! {
    /// A goal window.
    Window => {
        "type": ["string", "integer"],
        "examples": ["2026-10-01..2026-12-31", "2026-Q4", "2026-10", "2026"]
    }
}

hand_written! {
    /// A KPI unit: the usual ones are suggested, any text is accepted.
    Unit => {
        "anyOf": [
            {"enum": ["count", "percent", "ratio", "seconds", "currency:USD", "currency:EUR"]},
            {"type": "string"}
        ]
    }
}
