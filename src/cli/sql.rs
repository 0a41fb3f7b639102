//! `kpi sql [PACK] [--dialect D]`: the SQL that computes a pack's aggregate table.

use super::{parse_bindings, print_diagnostics, EXIT_INVALID, EXIT_OK};
use crate::calendar::{parse_date, today};
use crate::db::Connection;
use crate::diagnostic::{Code, Diagnostic, Sources};
use crate::engine::source::BadRowPolicy;
use crate::eval::needs;
use crate::pipeline::yaml_to_spec;
use crate::plan::model_to_plan;
use crate::spec::SourceSpec;
use crate::sql::{dialect_by_name, plan_to_sql, SqlSource, TimeKind};
use clap::ValueEnum;
use std::io::Write;
use std::path::PathBuf;

/// SQL dialects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DialectArg {
    /// PostgreSQL (what `kpi eval` runs on a postgres:// source).
    Postgres,
    /// DuckDB.
    Duckdb,
    /// Spark SQL (Databricks).
    Spark,
    /// BigQuery (GoogleSQL).
    Bigquery,
    /// Snowflake.
    Snowflake,
}

/// How the time column is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TimeTypeArg {
    /// DATE.
    Date,
    /// TIMESTAMP without time zone (civil time).
    Timestamp,
    /// TIMESTAMP WITH TIME ZONE (an instant, dated in the calendar's zone).
    Timestamptz,
    /// ISO 8601 text.
    Text,
}

/// Arguments of `kpi sql`.
#[derive(Debug, clap::Args)]
pub struct SqlArgs {
    /// The pack: a .yaml file or a folder with pack.yaml.
    #[arg(default_value = ".")]
    pub pack: PathBuf,
    /// The SQL dialect.
    #[arg(long, value_enum, default_value_t = DialectArg::Postgres)]
    pub dialect: DialectArg,
    /// Read dataset NAME from TABLE (repeatable; `schema.table` allowed). Default: the table or
    /// query of a database `source:`, else a table named like the dataset.
    #[arg(long = "table", value_name = "NAME=TABLE")]
    pub tables: Vec<String>,
    /// Bind a dataset to a source, as for `kpi eval` (its table or query is used).
    #[arg(long = "data", value_name = "NAME=SOURCE")]
    pub data: Vec<String>,
    /// Ignore rows dated after this day (YYYY-MM-DD); default today.
    #[arg(long, value_name = "DATE")]
    pub as_of: Option<String>,
    /// How the time column is stored. Default: `timestamptz` when the pack's calendar has a
    /// time zone, else `date` (a TIMESTAMP column also works as `date`: it is dated as written).
    #[arg(long, value_enum)]
    pub time_type: Option<TimeTypeArg>,
    /// Only the statement of this dataset.
    #[arg(long, value_name = "NAME")]
    pub dataset: Option<String>,
}

/// Runs `kpi sql`.
pub fn run(a: SqlArgs) -> i32 {
    let sources = Sources::new();
    type Bindings = Vec<(String, String)>;
    let args = (|| -> Result<(Bindings, Bindings, i32), Diagnostic> {
        let data = parse_bindings(&a.data)?;
        let tables = parse_bindings(&a.tables).map_err(|mut d| {
            d.message = d.message.replace("--data", "--table");
            d.help = Some("write --table posts=analytics.posts".into());
            d
        })?;
        let as_of = match &a.as_of {
            Some(s) => parse_date(s).ok_or_else(|| {
                Diagnostic::error(Code::InvalidArgument, format!("--as-of `{s}` is not a date"))
                    .with_help("write a date as YYYY-MM-DD, e.g. 2026-11-20")
            })?,
            None => today(),
        };
        Ok((data, tables, as_of))
    })();
    let (data, tables, as_of) = match args {
        Ok(x) => x,
        Err(d) => {
            print_diagnostics(&[d], &sources);
            return EXIT_INVALID;
        }
    };
    let spec = match yaml_to_spec(&a.pack, &sources) {
        Ok(p) => p,
        Err(d) => {
            print_diagnostics(&d, &sources);
            return EXIT_INVALID;
        }
    };
    let model = match super::model_without_data(&spec, &sources, &data) {
        Ok(m) => m,
        Err(code) => return code,
    };
    if let Some(name) = &a.dataset {
        if !model.datasets.iter().any(|d| &d.id == name) {
            let ids: Vec<&str> = model.datasets.iter().map(|d| d.id.as_str()).collect();
            let d = Diagnostic::error(
                Code::UnknownDataset,
                format!("pack `{}` has no dataset `{name}`", model.name),
            )
            .with_help(format!("the datasets are: {}", ids.join(", ")));
            print_diagnostics(&[d], &sources);
            return EXIT_INVALID;
        }
    }
    let dialect = dialect_by_name(match a.dialect {
        DialectArg::Postgres => "postgres",
        DialectArg::Duckdb => "duckdb",
        DialectArg::Spark => "spark",
        DialectArg::Bigquery => "bigquery",
        DialectArg::Snowflake => "snowflake",
    })
    .expect("every dialect argument names a dialect");
    let time_kind = match a.time_type {
        Some(TimeTypeArg::Date) => TimeKind::Date,
        Some(TimeTypeArg::Timestamp) => TimeKind::Timestamp,
        Some(TimeTypeArg::Timestamptz) => TimeKind::Instant,
        Some(TimeTypeArg::Text) => TimeKind::Text,
        None if model.calendar.timezone.is_some() => TimeKind::Instant,
        None => TimeKind::Date,
    };
    let plan = model_to_plan(&model, &needs(&model), as_of, BadRowPolicy::Fail, None);
    let mut out = String::new();
    for dp in &plan.datasets {
        let ds = &model.datasets[dp.dataset];
        if a.dataset.as_ref().is_some_and(|n| n != &ds.id) {
            continue;
        }
        let source = match tables.iter().find(|(n, _)| *n == ds.id) {
            Some((_, t)) => SqlSource::Table(t.clone()),
            None => match ds.source.as_ref().map(|b| &b.spec) {
                Some(spec @ SourceSpec::Database { .. }) => match Connection::parse(spec) {
                    Ok(c) => c.source,
                    Err(m) => {
                        let d = crate::db::db_error(
                            ds.source.as_ref(),
                            &ds.id,
                            m,
                            "bind it as {url: ..., table: NAME}, or pass --table NAME=TABLE",
                        );
                        print_diagnostics(&[Diagnostic { code: Code::InvalidArgument, ..d }], &sources);
                        return EXIT_INVALID;
                    }
                },
                _ => SqlSource::Table(ds.id.clone()),
            },
        };
        let q = plan_to_sql(&model, dp, as_of, &source, time_kind, dialect.as_ref());
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(q.sql.trim_end());
        out.push_str(";\n");
    }
    if out.is_empty() {
        out.push_str("-- the pack has no KPI: nothing to compute\n");
    }
    let _ = std::io::stdout().write_all(out.as_bytes());
    EXIT_OK
}
