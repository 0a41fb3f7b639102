//! The DuckDB dialect executed for real: for every fixture pack, the statements of
//! `plan_to_sql` run in DuckDB (Python's `duckdb`, installed by `.ci/run`) over the fixture
//! CSVs loaded as typed tables; their rows decode into the aggregate table, which is evaluated
//! as usual. The report must equal the local engine's (values 1e-9 relative, goal statuses,
//! projections, achievability). Also: `kpi sql` output per dialect is snapshotted.

mod common;

use common::backends::{assert_same_report, eval_json, in_ci, kpi, CASES};
use kpi_rules::diagnostic::Sources;
use kpi_rules::engine::source::ScanStats;
use kpi_rules::pipeline::table_to_report;
use kpi_rules::plan::AggTable;
use kpi_rules::sql::decode::{rows_to_table, ResultRow};
use kpi_rules::sql::{plan_to_sql, DuckDb, SqlSource, TimeKind};
use serde_json::{json, Value};
use std::io::Write;
use std::process::{Command, Stdio};

/// Loads the tables, runs the statements, prints `[[row...]...]` per statement as JSON.
const RUNNER: &str = r#"
import json, sys, duckdb
job = json.load(sys.stdin)
con = duckdb.connect()
con.execute("SET TimeZone = 'UTC'")
con.execute("CREATE TABLE kpi_victim (x INTEGER)")
for t in job["tables"]:
    cols = ", ".join("'%s': '%s'" % (n.replace("'", "''"), ty) for n, ty in t["columns"])
    con.execute("CREATE TABLE \"%s\" AS SELECT * FROM read_csv(?, header = true, nullstr = '', columns = {%s})"
                % (t["name"].replace('"', '""'), cols), [t["csv"]])
out = [con.execute(sql).fetchall() for sql in job["sql"]]
con.execute("SELECT count(*) FROM kpi_victim").fetchall()  # still there: nothing was injected
json.dump(out, sys.stdout)
"#;

fn python_duckdb() -> bool {
    Command::new("python3").args(["-c", "import duckdb"]).output().is_ok_and(|o| o.status.success())
}

fn int(v: &Value) -> i64 {
    v.as_i64().or_else(|| v.as_f64().map(|f| f as i64)).unwrap_or(i64::MIN)
}

#[test]
fn duckdb_runs_the_generated_sql_to_the_local_numbers() {
    if !python_duckdb() {
        assert!(
            !in_ci(),
            "CI must have Python's duckdb (pip install duckdb): the DuckDB parity test cannot run"
        );
        eprintln!("\n*** SKIPPED: Python's duckdb is not installed (pip install duckdb); DuckDB parity NOT checked ***\n");
        return;
    }
    for case in CASES {
        let sources = Sources::new();
        let (prepared, opts) = common::backends::prepare_case(case, &sources);
        let time_kind = if case.time_type == "DATE" { TimeKind::Date } else { TimeKind::Instant };
        let mut tables = Vec::new();
        let mut statements = Vec::new();
        for dp in &prepared.plan.datasets {
            let ds = &prepared.model.datasets[dp.dataset];
            let csv = ds.source.as_ref().and_then(|s| s.path.clone()).expect("a CSV source");
            let columns: Vec<Value> = common::backends::typed_columns(case, ds, "VARCHAR", "DOUBLE")
                .into_iter()
                .map(|(c, ty)| json!([c, ty]))
                .collect();
            tables.push(json!({"name": ds.id, "csv": csv, "columns": columns}));
            let q = plan_to_sql(
                &prepared.model,
                dp,
                prepared.plan.as_of,
                &SqlSource::Table(ds.id.clone()),
                time_kind,
                &DuckDb,
            );
            statements.push(q);
        }
        let job =
            json!({"tables": tables, "sql": statements.iter().map(|s| s.sql.clone()).collect::<Vec<_>>()});
        let mut child = Command::new("python3")
            .args(["-c", RUNNER])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("python3");
        child.stdin.take().expect("stdin").write_all(job.to_string().as_bytes()).expect("write job");
        let out = child.wait_with_output().expect("python3 output");
        assert!(
            out.status.success(),
            "{}: DuckDB failed:\n{}\nSQL:\n{}",
            case.name,
            String::from_utf8_lossy(&out.stderr),
            statements.iter().map(|s| s.sql.as_str()).collect::<Vec<_>>().join("\n;\n")
        );
        let results: Vec<Vec<Vec<Value>>> = serde_json::from_slice(&out.stdout).expect("JSON rows");
        let mut table = AggTable::default();
        for ((dp, q), rows) in prepared.plan.datasets.iter().zip(&statements).zip(results) {
            let decoded = rows.iter().map(|r| ResultRow {
                query: int(&r[0]),
                keys: (0..q.dims).map(|i| r[1 + i].as_str().map(str::to_string)).collect(),
                period: int(&r[1 + q.dims]),
                rows: int(&r[2 + q.dims]),
                values: (0..q.values).map(|i| r[3 + q.dims + i].as_f64()).collect(),
            });
            table.queries.push(rows_to_table(dp, decoded).unwrap_or_else(|e| panic!("{}: {e}", case.name)));
            table.stats.push(ScanStats::default());
        }
        let (report, _) = table_to_report(&prepared, &table, &opts, &sources);
        let db: Value = serde_json::from_str(&kpi_rules::report::json::render(&report)).expect("report JSON");
        let local = eval_json(case.pack, case.as_of, &[]);
        assert_same_report(case.name, &local, &db);
    }
}

/// `kpi sql` for every dialect on the parity pack (which uses every aggregate and scalar
/// function, filters, `in`, `between`, text comparisons) and on the goals pack (date ranges).
#[test]
fn kpi_sql_per_dialect() {
    for dialect in ["postgres", "duckdb", "spark", "bigquery", "snowflake"] {
        for (name, pack, extra) in [
            ("parity", "tests/fixtures/parity/pack.yaml", vec![]),
            ("goals", "tests/fixtures/goals/pack.yaml", vec!["--table", "sales=analytics.sales"]),
            ("berlin", "tests/fixtures/calendar/berlin.yaml", vec![]),
            ("hostile", "tests/fixtures/hostile/pack.yaml", vec![]),
        ] {
            let mut args = vec!["sql", pack, "--dialect", dialect, "--as-of", "2026-06-15"];
            args.extend(extra);
            let (code, stdout, stderr) = kpi(&args);
            assert_eq!(code, 0, "{stderr}");
            insta::assert_snapshot!(format!("sql_{name}_{dialect}"), stdout);
        }
    }
}

/// A newline in a name cannot end the header comment and start a statement of its own.
#[test]
fn names_with_newlines_stay_inside_the_comment() {
    let dir = tempfile::tempdir().expect("tmp");
    std::fs::write(dir.path().join("e.csv"), "\"d\nSELECT 1; DROP TABLE kpi_victim; --\",x\n2026-01-01,1\n")
        .expect("csv");
    std::fs::write(
        dir.path().join("pack.yaml"),
        "pack: nl\nversion: 0.1.0\ndatasets:\n  e:\n    source: e.csv\n    time: \"d\\nSELECT 1; DROP TABLE kpi_victim; --\"\nkpis:\n  n:\n    formula: sum(x)\n",
    )
    .expect("pack");
    let pack = dir.path().join("pack.yaml");
    for dialect in ["postgres", "duckdb", "spark", "bigquery", "snowflake"] {
        let (code, stdout, stderr) = kpi(&["sql", pack.to_str().expect("utf-8"), "--dialect", dialect]);
        assert_eq!(code, 0, "{stderr}");
        // The comment is one line; the newline survives only inside the quoted identifier.
        let mut lines = stdout.lines();
        let comment = lines.next().unwrap_or("");
        assert!(comment.starts_with("-- dataset") && comment.ends_with("ignored"), "{dialect}:\n{stdout}");
        assert!(lines.next().is_some_and(|l| l.starts_with("WITH ")), "{dialect}:\n{stdout}");
    }
}
