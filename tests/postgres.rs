//! The PostgreSQL backend against a live server: every fixture pack loaded into tables and
//! evaluated with `--data NAME=postgres://...` must give the CSV report (values 1e-9
//! relative, goal statuses); database failures are exit 3 with a clear message and never
//! show the password; timeouts hold.
//!
//! The server: `$KPI_TEST_DATABASE_URL`, else `postgres://postgres:kpi@127.0.0.1:5432/postgres`
//! (what `.ci/run` sets up with `pg_ctlcluster 15 main start`). Without a server the tests
//! that need one print a loud SKIPPED line, except under CI, where they fail.
#![cfg(feature = "postgres")]

mod common;

use common::backends::{assert_same_report, eval_json, in_ci, kpi, CASES};
use kpi_rules::diagnostic::Sources;
use postgres::{Client, NoTls};
use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

fn url() -> String {
    std::env::var("KPI_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres:kpi@127.0.0.1:5432/postgres".to_string())
}

/// A client, or None (after saying so loudly) when no server answers outside CI.
fn server() -> Option<Client> {
    let mut config: postgres::Config = url().parse().expect("KPI_TEST_DATABASE_URL is a postgres URL");
    config.connect_timeout(Duration::from_secs(5));
    match config.connect(NoTls) {
        Ok(c) => Some(c),
        Err(e) => {
            assert!(
                !in_ci(),
                "CI must reach PostgreSQL at {} (.ci/run starts it): {e}",
                kpi_rules::check::redact_url(&url())
            );
            eprintln!(
                "\n*** SKIPPED: no PostgreSQL at {} ({e}); start one (pg_ctlcluster 15 main start) or set KPI_TEST_DATABASE_URL ***\n",
                kpi_rules::check::redact_url(&url())
            );
            None
        }
    }
}

/// A schema of its own for one test, dropped when done.
struct Schema<'c> {
    client: &'c mut Client,
    name: String,
}

impl<'c> Schema<'c> {
    fn new(client: &'c mut Client, tag: &str) -> Schema<'c> {
        static N: AtomicUsize = AtomicUsize::new(0);
        let name = format!("kpi_test_{}_{}_{tag}", std::process::id(), N.fetch_add(1, Ordering::Relaxed));
        client
            .batch_execute(&format!("DROP SCHEMA IF EXISTS {name} CASCADE; CREATE SCHEMA {name}"))
            .expect("schema");
        Schema { client, name }
    }

    /// Creates `name` with the columns and loads the CSV file into it.
    fn load(&mut self, table: &str, columns: &[(String, &str)], csv: &std::path::Path) {
        let cols: Vec<String> =
            columns.iter().map(|(n, t)| format!("\"{}\" {t}", n.replace('"', "\"\""))).collect();
        self.client
            .batch_execute(&format!("CREATE TABLE {}.{table} ({})", self.name, cols.join(", ")))
            .expect("create table");
        let data = std::fs::read(csv).expect("csv");
        let mut w = self
            .client
            .copy_in(&format!("COPY {}.{table} FROM STDIN WITH (FORMAT csv, HEADER true)", self.name))
            .expect("copy");
        w.write_all(&data).expect("copy data");
        w.finish().expect("copy finish");
    }
}

impl Drop for Schema<'_> {
    fn drop(&mut self) {
        let _ = self.client.batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.name));
    }
}

/// `URL?table=T` (or `&table=`).
fn with_param(url: &str, key: &str, value: &str) -> String {
    let enc: String = value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'.' | b'_' | b'-' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect();
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}{key}={enc}")
}

#[test]
fn postgres_gives_the_csv_numbers_for_every_fixture_pack() {
    let Some(mut client) = server() else { return };
    // The hostile fixture's names and literals try to drop this table.
    client.batch_execute("CREATE TABLE IF NOT EXISTS public.kpi_victim (x int)").expect("victim");
    for case in CASES {
        let sources = Sources::new();
        let (prepared, _) = common::backends::prepare_case(case, &sources);
        let mut schema = Schema::new(&mut client, case.name);
        let mut binds = Vec::new();
        for ds in &prepared.model.datasets {
            let csv = ds.source.as_ref().and_then(|s| s.path.clone()).expect("a CSV source");
            let columns = common::backends::typed_columns(case, ds, "TEXT", "DOUBLE PRECISION");
            schema.load(&ds.id, &columns, &csv);
            binds.push(format!(
                "{}={}",
                ds.id,
                with_param(&url(), "table", &format!("{}.{}", schema.name, ds.id))
            ));
        }
        let mut extra: Vec<&str> = Vec::new();
        for b in &binds {
            extra.push("--data");
            extra.push(b);
        }
        let local = eval_json(case.pack, case.as_of, &[]);
        let db = eval_json(case.pack, case.as_of, &extra);
        assert_same_report(case.name, &local, &db);
        let password = url().split(':').nth(2).and_then(|p| p.split('@').next()).unwrap_or("").to_string();
        assert!(!db.to_string().contains(&format!(":{password}@")), "the report shows the password");
    }
    client
        .batch_execute("SELECT count(*) FROM public.kpi_victim")
        .expect("kpi_victim survived the hostile pack");
}

/// A source given as a query (URL-encoded on the command line), with a timestamp column
/// stored as text.
#[test]
fn a_query_source_and_text_times() {
    let Some(mut client) = server() else { return };
    let mut schema = Schema::new(&mut client, "query");
    let cols: Vec<(String, &str)> =
        [("ts", "TEXT"), ("amount", "DOUBLE PRECISION")].iter().map(|(n, t)| (n.to_string(), *t)).collect();
    schema.load("events", &cols, &common::backends::root().join("tests/fixtures/calendar/events.csv"));
    let q = format!("SELECT ts, amount FROM {}.events WHERE amount IS NOT NULL", schema.name);
    let bind = format!("events={}", with_param(&url(), "query", &q));
    for pack in ["tests/fixtures/calendar/berlin.yaml", "tests/fixtures/calendar/iso.yaml"] {
        let local = eval_json(pack, "2027-12-31", &[]);
        let db = eval_json(pack, "2027-12-31", &["--data", &bind]);
        assert_same_report(pack, &local, &db);
    }
}

#[test]
fn database_failures_are_exit_3_with_the_reason_and_no_password() {
    let pack = "tests/fixtures/parity/pack.yaml";
    let run = |bind: &str, extra: &[&str]| {
        let mut args = vec!["eval", pack, "--as-of", "2026-12-31", "--data", bind];
        args.extend_from_slice(extra);
        let start = Instant::now();
        let (code, _, stderr) = kpi(&args);
        (code, stderr, start.elapsed())
    };
    // Nothing listens on port 1: refused at once, whatever the machine.
    let (code, stderr, _) = run("events=postgres://kpi:hunter22@127.0.0.1:1/db?table=events", &[]);
    assert_eq!(code, 3, "{stderr}");
    assert!(stderr.contains("K0610") && stderr.contains("cannot connect"), "{stderr}");
    assert!(stderr.contains("kpi:***@127.0.0.1:1"), "{stderr}");
    assert!(!stderr.contains("hunter22"), "{stderr}");
    // A non-routable address: the connect timeout ends it.
    let (code, stderr, took) =
        run("events=postgres://kpi:hunter22@10.255.255.1:5432/db?table=events", &["--connect-timeout", "1"]);
    assert_eq!(code, 3, "{stderr}");
    assert!(took < Duration::from_secs(8), "took {took:?}: {stderr}");
    assert!(!stderr.contains("hunter22"), "{stderr}");
    // A server that accepts and never answers the start-up: the deadline covers the whole connect.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("listener");
    let port = silent.local_addr().expect("addr").port();
    let holder = std::thread::spawn(move || {
        let mut held = Vec::new();
        if let Ok((c, _)) = silent.accept() {
            held.push(c);
            std::thread::sleep(Duration::from_secs(6));
        }
    });
    let (code, stderr, took) = run(
        &format!("events=postgres://kpi:hunter22@127.0.0.1:{port}/db?table=events"),
        &["--connect-timeout", "1"],
    );
    assert_eq!(code, 3, "{stderr}");
    assert!(took < Duration::from_secs(4), "took {took:?}: {stderr}");
    assert!(stderr.contains("no answer within"), "{stderr}");
    drop(holder);
    // Not a database kpi runs.
    let (code, stderr, _) = run("events=mysql://kpi:hunter22@127.0.0.1/db?table=events", &[]);
    assert_eq!(code, 3, "{stderr}");
    assert!(stderr.contains("kpi sql --dialect"), "{stderr}");
    assert!(!stderr.contains("hunter22"), "{stderr}");

    let Some(mut client) = server() else { return };
    let base = url();
    // Wrong password.
    let wrong = match base.split_once("://").and_then(|(s, r)| r.split_once('@').map(|(a, h)| (s, a, h))) {
        Some((scheme, auth, host)) => {
            let user = auth.split(':').next().unwrap_or("postgres");
            format!("{scheme}://{user}:Wr0ngPassw0rd@{host}")
        }
        None => panic!("KPI_TEST_DATABASE_URL needs user:password@host"),
    };
    let (code, stderr, _) = run(&format!("events={}", with_param(&wrong, "table", "events")), &[]);
    assert_eq!(code, 3, "{stderr}");
    assert!(stderr.contains("password authentication failed"), "{stderr}");
    assert!(!stderr.contains("Wr0ngPassw0rd"), "{stderr}");
    // A missing table.
    let schema = Schema::new(&mut client, "errors");
    let name = schema.name.clone();
    let (code, stderr, _) =
        run(&format!("events={}", with_param(&base, "table", &format!("{name}.nope"))), &[]);
    assert_eq!(code, 3, "{stderr}");
    assert!(stderr.contains("does not exist") && stderr.contains("table name"), "{stderr}");
    // A missing column: the table lacks `w` and `id`.
    schema.client.batch_execute(&format!("CREATE TABLE {name}.events (date date, d text, region text, tag text, x float8, y float8, z float8)")).expect("create");
    let (code, stderr, _) =
        run(&format!("events={}", with_param(&base, "table", &format!("{name}.events"))), &[]);
    assert_eq!(code, 3, "{stderr}");
    assert!(stderr.contains('w') && stderr.contains("K0606"), "{stderr}");
    // The statement timeout cancels a slow query.
    let slow = format!(
        "SELECT e.*, 'x' AS w, 'u' AS id FROM {name}.events e CROSS JOIN LATERAL (SELECT pg_sleep(5)) s"
    );
    schema
        .client
        .batch_execute(&format!(
            "INSERT INTO {name}.events VALUES ('2026-01-01', 'a', 'north', 'x', 1, 2, 3)"
        ))
        .expect("insert");
    let (code, stderr, took) =
        run(&format!("events={}", with_param(&base, "query", &slow)), &["--statement-timeout", "1"]);
    assert_eq!(code, 3, "{stderr}");
    assert!(stderr.contains("statement timeout"), "{stderr}");
    assert!(took < Duration::from_secs(4), "took {took:?}");
}

/// A `${VAR}` in the YAML URL reads the environment; the password stays out of every output.
#[test]
fn env_urls_in_yaml_and_no_password_in_explain_or_reports() {
    let Some(mut client) = server() else { return };
    let mut schema = Schema::new(&mut client, "env");
    let cols: Vec<(String, &str)> = [
        ("date", "DATE"),
        ("region", "TEXT"),
        ("amount", "DOUBLE PRECISION"),
        ("balance", "DOUBLE PRECISION"),
    ]
    .iter()
    .map(|(n, t)| (n.to_string(), *t))
    .collect();
    schema.load("sales", &cols, &common::backends::root().join("tests/fixtures/goals/sales.csv"));
    let dir = tempfile::tempdir().expect("tmp");
    let pack = std::fs::read_to_string(common::backends::root().join("tests/fixtures/goals/pack.yaml"))
        .expect("pack");
    let pack = pack.replace(
        "source: sales.csv",
        &format!("source: {{url: \"${{KPI_PG_TEST_URL}}\", table: {}.sales}}", schema.name),
    );
    assert!(pack.contains("KPI_PG_TEST_URL"), "the fixture's source line moved");
    std::fs::write(dir.path().join("pack.yaml"), pack).expect("write pack");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kpi"))
        .args(["eval", "--as-of", "2026-06-15", "--format", "json", "--fail-on", "never"])
        .arg(dir.path().join("pack.yaml"))
        .env("KPI_PG_TEST_URL", url())
        .output()
        .expect("kpi");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let db: serde_json::Value = serde_json::from_str(&stdout).expect("JSON");
    let local = eval_json("tests/fixtures/goals/pack.yaml", "2026-06-15", &[]);
    assert_same_report("goals via ${VAR}", &local, &db);
    assert!(db["data"][0]["source"].as_str().unwrap_or("").contains(":***@"), "{}", db["data"]);
    let explain = std::process::Command::new(env!("CARGO_BIN_EXE_kpi"))
        .arg("explain")
        .arg(dir.path().join("pack.yaml"))
        .arg("revenue")
        .env("KPI_PG_TEST_URL", url())
        .output()
        .expect("kpi");
    let text = String::from_utf8_lossy(&explain.stdout);
    assert!(text.contains("SELECT"), "explain shows the SQL:\n{text}");
    assert!(!text.contains(":kpi@"), "{text}");
}

/// Boolean and date columns of a table keep their types: a boolean is a condition, a date
/// compares with a date literal (as a day number, like the time column).
#[test]
fn boolean_and_date_columns() {
    let Some(mut client) = server() else { return };
    let schema = Schema::new(&mut client, "types");
    let name = schema.name.clone();
    schema
        .client
        .batch_execute(&format!(
            "CREATE TABLE {name}.orders (day date, is_spam boolean, shipped date, amount numeric(10,2));
             INSERT INTO {name}.orders VALUES
               ('2026-01-05', true, '2026-05-01', 1.25), ('2026-01-06', false, '2026-06-02', 2.50),
               ('2026-01-07', NULL, '2026-07-01', NULL), ('2026-02-01', true, NULL, 4)"
        ))
        .expect("table");
    let dir = tempfile::tempdir().expect("tmp");
    std::fs::write(
        dir.path().join("pack.yaml"),
        "pack: types\nversion: 0.1.0\ndatasets:\n  orders:\n    time: day\nkpis:\n  spam:\n    formula: count(where is_spam)\n    grain: month\n  late:\n    formula: count(where shipped >= date(\"2026-06-01\"))\n    grain: month\n  spam_share:\n    formula: avg(if(is_spam, 1, 0))\n    grain: month\n  total:\n    formula: sum(amount)\n    grain: month\n",
    )
    .expect("pack");
    let bind = format!("orders={}", with_param(&url(), "table", &format!("{name}.orders")));
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kpi"))
        .args(["eval", "--as-of", "2026-12-31", "--format", "json", "--fail-on", "never", "--data", &bind])
        .arg(dir.path().join("pack.yaml"))
        .output()
        .expect("kpi");
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let value = |id: &str, period: &str| -> serde_json::Value {
        r["kpis"].as_array().into_iter().flatten().find(|k| k["id"] == id).expect(id)["values"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|v| v["period"] == period)
            .map(|v| v["value"].clone())
            .unwrap_or(serde_json::Value::Null)
    };
    assert_eq!(value("spam", "2026-01"), serde_json::json!(1.0));
    assert_eq!(value("spam", "2026-02"), serde_json::json!(1.0));
    assert_eq!(value("late", "2026-01"), serde_json::json!(2.0));
    assert_eq!(value("late", "2026-02"), serde_json::json!(0.0));
    assert_eq!(value("spam_share", "2026-01"), serde_json::json!(1.0 / 3.0));
    assert_eq!(value("total", "2026-01"), serde_json::json!(3.75));
}
