//! The command line: clap definitions and dispatch. Each command lives in its own file.

mod check;
mod deps;
mod eval;
mod explain;
mod init;
mod lock;
pub mod output;
mod schema;
mod sql;
mod test;

use crate::diagnostic::{render_human, render_json, Diagnostic, Sources};
use clap::{Parser, Subcommand, ValueEnum};
use std::io::IsTerminal;
use std::path::PathBuf;

/// Exit code: everything evaluated, no goal at or above `--fail-on`.
pub const EXIT_OK: i32 = 0;
/// Exit code: some goal at or above `--fail-on` (for `test`: some test failed).
pub const EXIT_GOALS: i32 = 1;
/// Exit code: invalid definitions or command line.
pub const EXIT_INVALID: i32 = 2;
/// Exit code: a data source could not be read.
pub const EXIT_DATA: i32 = 3;

/// kpi: KPIs and goals as code. Define KPIs and SMART goals in YAML, evaluate them on your
/// data, and get per-group, per-period values and pass / warn / fail verdicts.
#[derive(Debug, Parser)]
#[command(name = "kpi", version, about, long_about = None, after_help = "\
Exit codes: 0 ok · 1 a goal failed (at or above --fail-on) · 2 invalid definitions or command line · 3 unreadable data

Examples:
  kpi check kpis/smm                      check definitions, point at mistakes
  kpi eval kpis/smm --as-of 2026-11-20    evaluate KPIs and goals as of a day
  kpi eval my.yaml --format json --data posts=export.csv > report.json")]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Evaluate KPIs and goals on the data and print a report.
    #[command(after_help = "\
Examples:
  kpi eval kpis/smm
  kpi eval kpis/smm --as-of 2026-11-20 --format json --output report.json
  kpi eval my.yaml --data posts=exports/posts.csv --period 2026-Q4 --fail-on warn")]
    Eval(EvalArgs),
    /// Check definitions without evaluating: names, types, units, goals, SMART.
    #[command(after_help = "\
Examples:
  kpi check kpis/smm
  kpi check my.yaml --strict          also fail (exit 1) when a goal is not SMART
  kpi check my.yaml --format json     diagnostics as JSON for tools")]
    Check(CheckArgs),
    /// Run the pack's test cases (tests/*.yaml): hand-computed values and goal statuses.
    #[command(after_help = "\
Examples:
  kpi test kpis/smm
  kpi test kpis/smm engagement          only the cases whose id contains `engagement`
  kpi test kpis/smm --format junit > kpi-tests.xml
  kpi test kpis/smm --min-coverage 100  also fail when a KPI or goal has no expectation")]
    Test(test::TestArgs),
    /// Explain a KPI: what it reads, how it is computed, what depends on it, its goals.
    #[command(
        override_usage = "kpi explain [PACK] KPI [--format text|json] [--as-of DATE]",
        after_help = "\
Examples:
  kpi explain kpis/smm engagement_rate
  kpi explain engagement_rate              in a pack's folder
  kpi explain kpis/smm cpc --format json"
    )]
    Explain(ExplainArgs),
    /// Print the JSON Schema of the definition files, for editors.
    #[command(after_help = "\
Examples:
  kpi schema > kpi.schema.json
  then, at the top of a pack file:  # yaml-language-server: $schema=./kpi.schema.json")]
    Schema,
    /// Write a new pack to start from: pack.yaml, sample data and a test.
    #[command(after_help = "\
Examples:
  kpi init my-kpis && kpi eval my-kpis --as-of 2026-10-01")]
    Init(InitArgs),
    /// Write kpi.lock: every resolved import with its version, source and content hash.
    Lock(lock::LockArgs),
    /// Print the import tree: namespace, pack, version, source.
    Deps(deps::DepsArgs),
    /// Print the SQL that computes the pack's aggregates, one statement per dataset, for a
    /// database or warehouse.
    #[command(after_help = "\
Each statement returns the aggregate table kpi evaluates: per query (kpi__query), the group
(kpi__k0...), the period key (kpi__period), the row count (kpi__n) and the aggregates
(kpi__v0...). `kpi eval --data NAME=postgres://...` runs the PostgreSQL statement itself.

Examples:
  kpi sql kpis/smm                              PostgreSQL, reading table `posts`
  kpi sql kpis/smm --dialect bigquery --table posts=analytics.posts
  kpi sql kpis/smm --dialect duckdb --time-type timestamptz --as-of 2026-11-30")]
    Sql(sql::SqlArgs),
}

/// Report formats of `kpi eval`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A table for people (default).
    Table,
    /// The JSON report `kpi-report/1`.
    Json,
    /// GitHub-flavoured Markdown for a pull-request comment or `$GITHUB_STEP_SUMMARY`.
    Markdown,
    /// JUnit XML: one test case per goal, group and period.
    Junit,
    /// One self-contained HTML page with charts.
    Html,
    /// GitHub Actions annotations on the goals' lines.
    Github,
}

impl Format {
    /// Parses a format name (for `--report FORMAT=PATH`).
    pub fn parse(s: &str) -> Option<Format> {
        <Format as ValueEnum>::from_str(s, true).ok()
    }
}

/// Which goal statuses make `kpi eval` exit 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    /// `fail`, `off_track` or `error`.
    Fail,
    /// Also `warn` and `at_risk`.
    Warn,
    /// Never exit 1 for goals.
    Never,
}

/// What to do with a data row that cannot be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OnBadRow {
    /// Stop with exit 3, naming the file, line, column and value.
    Fail,
    /// Skip it, count it, and say so in the report.
    Skip,
}

/// Arguments of `kpi eval`.
#[derive(Debug, clap::Args)]
pub struct EvalArgs {
    /// The pack: a .yaml file or a folder with pack.yaml.
    #[arg(default_value = ".")]
    pub pack: PathBuf,
    /// Bind a dataset to a source (repeatable): NAME=PATH to a .csv/.tsv/.ndjson file, or
    /// NAME=postgres://USER:PASSWORD@HOST:PORT/DB?table=TABLE (or `query=SELECT...`,
    /// URL-encoded), to aggregate in the database.
    #[arg(long = "data", value_name = "NAME=SOURCE")]
    pub data: Vec<String>,
    /// Ignore rows dated after this day (YYYY-MM-DD); default today.
    #[arg(long, value_name = "DATE")]
    pub as_of: Option<String>,
    /// Seconds to wait for a database connection.
    #[arg(long, value_name = "SECONDS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    pub connect_timeout: u64,
    /// Seconds one SQL statement may run in the database before it is cancelled.
    #[arg(long, value_name = "SECONDS", default_value_t = 600, value_parser = clap::value_parser!(u64).range(1..))]
    pub statement_timeout: u64,
    /// Report periods from this day (with --to).
    #[arg(long, value_name = "DATE", requires = "to", conflicts_with = "period")]
    pub from: Option<String>,
    /// Report periods up to this day (with --from).
    #[arg(long, value_name = "DATE", requires = "from", conflicts_with = "period")]
    pub to: Option<String>,
    /// Report one period: 2026-10, 2026-Q4, 2026-W41, 2026, or START..END.
    #[arg(long, value_name = "P")]
    pub period: Option<String>,
    /// Report format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Write the report to FILE (whole or not at all) instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Also write the report in FORMAT to PATH (repeatable): one evaluation, several files.
    #[arg(long = "report", value_name = "FORMAT=PATH")]
    pub reports: Vec<String>,
    /// Exit 1 when a goal is at or above this level.
    #[arg(long, value_enum, default_value_t = FailOn::Fail)]
    pub fail_on: FailOn,
    /// What to do with a data row that cannot be read.
    #[arg(long, value_enum, default_value_t = OnBadRow::Fail)]
    pub on_bad_row: OnBadRow,
    /// Fail (exit 2) unless the imports match kpi.lock.
    #[arg(long)]
    pub locked: bool,
}

/// Formats of `kpi check` diagnostics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CheckFormat {
    /// For people, with snippets.
    Text,
    /// One JSON document on stdout.
    Json,
    /// GitHub Actions workflow commands (`::error file=...`): annotations in pull requests.
    Github,
}

/// Arguments of `kpi check`.
#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// The pack: a .yaml file or a folder with pack.yaml.
    #[arg(default_value = ".")]
    pub pack: PathBuf,
    /// Exit 1 when a goal is not Specific, Measurable, Relevant and Time-bound.
    #[arg(long)]
    pub strict: bool,
    /// Bind a dataset to a source: NAME=PATH (repeatable).
    #[arg(long = "data", value_name = "NAME=SOURCE")]
    pub data: Vec<String>,
    /// Diagnostics format.
    #[arg(long, value_enum, default_value_t = CheckFormat::Text)]
    pub format: CheckFormat,
    /// Fail (exit 2) unless the imports match kpi.lock.
    #[arg(long)]
    pub locked: bool,
}

/// Formats of `kpi explain`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExplainFormat {
    /// For people.
    Text,
    /// One JSON document.
    Json,
}

/// Arguments of `kpi explain`.
#[derive(Debug, clap::Args)]
pub struct ExplainArgs {
    /// The pack (a .yaml file or a folder with pack.yaml), or the KPI when it is the only argument.
    #[arg(value_name = "PACK")]
    pub first: String,
    /// The KPI to explain (then PACK is the pack; without it the pack is `.`).
    #[arg(value_name = "KPI")]
    pub second: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ExplainFormat::Text)]
    pub format: ExplainFormat,
    /// The as-of day of the SQL shown (rows after it are ignored); default today.
    #[arg(long, value_name = "DATE")]
    pub as_of: Option<String>,
}

/// Arguments of `kpi init`.
#[derive(Debug, clap::Args)]
pub struct InitArgs {
    /// The folder to write the pack into (created if missing).
    #[arg(default_value = ".")]
    pub dir: PathBuf,
}

/// Parses `NAME=SOURCE` pairs.
pub fn parse_bindings(raw: &[String]) -> Result<Vec<(String, String)>, Diagnostic> {
    raw.iter()
        .map(|s| match s.split_once('=') {
            Some((n, v)) if !n.trim().is_empty() && !v.trim().is_empty() => {
                Ok((n.trim().to_string(), v.trim().to_string()))
            }
            _ => Err(Diagnostic::error(
                crate::diagnostic::Code::InvalidArgument,
                format!("--data `{s}` is not NAME=SOURCE"),
            )
            .with_help("write --data posts=data/posts.csv")),
        })
        .collect()
}

/// Checks a pack into its model without reading data (for commands that only describe it:
/// `explain`, `sql`); on errors prints them and returns the exit code, where unreadable
/// data counts as invalid input (exit 2), since no data was asked for.
pub fn model_without_data(
    spec: &crate::spec::Pack,
    sources: &Sources,
    data: &[(String, String)],
) -> Result<crate::check::Model, i32> {
    let scanner = crate::engine::readers::LocalFiles;
    let opts = crate::check::CheckOptions {
        data,
        require_data: false,
        scanner: &scanner,
        db: &crate::db::DbOptions::DEFAULT,
    };
    match crate::pipeline::spec_to_model(spec, sources, &opts) {
        Ok((m, _warnings)) => Ok(m),
        Err(d) => {
            print_diagnostics(&d, sources);
            Err(match exit_for(&d) {
                EXIT_DATA => EXIT_INVALID,
                c => c,
            })
        }
    }
}

/// Prints diagnostics to stderr for people.
pub fn print_diagnostics(diags: &[Diagnostic], sources: &Sources) {
    let mut s = String::new();
    for d in diags {
        s.push_str(&render_human(d, sources));
        s.push('\n');
    }
    eprint!("{s}");
}

/// The diagnostics as one JSON document.
pub fn diagnostics_json(diags: &[Diagnostic], sources: &Sources) -> String {
    let v: Vec<serde_json::Value> = diags.iter().map(|d| render_json(d, sources)).collect();
    let errors = diags.iter().filter(|d| d.is_error()).count();
    let doc = serde_json::json!({"diagnostics": v, "errors": errors, "warnings": diags.len() - errors});
    format!("{}\n", serde_json::to_string_pretty(&doc).unwrap_or_default())
}

/// The exit code for a list of errors: 3 if any concerns data, else 2.
pub fn exit_for(diags: &[Diagnostic]) -> i32 {
    if diags.iter().any(|d| d.is_error() && d.code.is_data()) {
        EXIT_DATA
    } else {
        EXIT_INVALID
    }
}

/// Whether colours may be used on stdout.
pub fn color_stdout() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
}

/// A clap error in the house style: `error[K0701]: ...`, clap's tip and usage, a help line.
fn clap_diagnostic(text: &str) -> String {
    let code = crate::diagnostic::Code::InvalidArgument;
    // `Usage: kpi eval [OPTIONS] ...` names the command whose --help to suggest.
    let command: Vec<&str> = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("Usage: "))
        .map(|u| u.split_whitespace().take_while(|w| !w.starts_with(['-', '[', '<'])).collect())
        .unwrap_or_default();
    let command = if command.is_empty() { "kpi".to_string() } else { command.join(" ") };
    let mut out = String::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("error: ") {
            out.push_str(&format!("error[{code}]: {rest}\n"));
        } else if line.starts_with("For more information, try ") {
            out.push_str(&format!("   = help: run `{command} --help` for the arguments\n"));
        } else if !line.trim().is_empty() {
            out.push_str(&format!("  {line}\n"));
        }
    }
    out
}

/// Runs the command line; returns the exit code.
pub fn run(args: Vec<std::ffi::OsString>) -> i32 {
    let cli = match Cli::try_parse_from(args) {
        Ok(c) => c,
        Err(e) => {
            if !e.use_stderr() {
                // --help, --version.
                let _ = e.print();
                return EXIT_OK;
            }
            eprint!("{}", clap_diagnostic(&e.render().to_string()));
            return EXIT_INVALID;
        }
    };
    match cli.command {
        Command::Eval(a) => eval::run(a),
        Command::Check(a) => check::run(a),
        Command::Test(a) => test::run(a),
        Command::Explain(a) => explain::run(a),
        Command::Schema => schema::run(),
        Command::Init(a) => init::run(a),
        Command::Lock(a) => lock::run(a),
        Command::Deps(a) => deps::run(a),
        Command::Sql(a) => sql::run(a),
    }
}
