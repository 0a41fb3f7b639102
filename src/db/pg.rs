//! The PostgreSQL backend: connect with timeouts, describe the source, run the generated
//! statement, decode the aggregate rows.

use super::{db_error, Connection, DbOptions};
use crate::check::{BoundSource, Model, Ty};
use crate::diagnostic::Diagnostic;
use crate::engine::batch::ColType;
use crate::engine::source::{ScanStats, Sniff};
use crate::plan::{AggRow, DatasetPlan};
use crate::sql::decode::{rows_to_table, ResultRow};
use crate::sql::{plan_to_sql, Postgres, SqlSource, TimeKind};
use postgres::types::Type;
use postgres::{Client, Config, NoTls, Row};
use std::str::FromStr;
use std::time::Duration;

/// A failure, before redaction.
pub struct PgError {
    message: String,
    help: &'static str,
}

impl PgError {
    /// The diagnostic, with credentials redacted.
    pub fn diagnostic(&self, conn: &Connection, bound: &BoundSource, dataset: &str) -> Diagnostic {
        db_error(Some(bound), dataset, conn.redact(&self.message), self.help)
    }
}

fn classify(e: &postgres::Error, conn: &Connection, what: &str) -> PgError {
    if let Some(db) = e.as_db_error() {
        let code = db.code().code();
        let help = match code {
            "28P01" | "28000" => "check the user and password in the URL (or the variable it reads)",
            "3D000" => "check the database name in the URL",
            "42P01" => "check the table name (`table:` or `?table=`); qualify it as schema.table if needed",
            "42703" => {
                "the pack reads a column the table lacks: check the formulas, `time:` and `dimensions:`"
            }
            "57014" => {
                "the statement ran past --statement-timeout; raise it, or add an index on the time column"
            }
            "42601" | "42883" | "42804" => {
                "check the `query:` of the source; run `kpi sql --dialect postgres` to see the statement"
            }
            _ => "see the database's message above",
        };
        let mut message = format!("{what} {}: {} ({code})", conn.display, db.message());
        if let Some(d) = db.detail() {
            message.push_str(&format!("; {d}"));
        }
        return PgError { message, help };
    }
    let mut message = format!("{what} {}: {e}", conn.display);
    let mut src = std::error::Error::source(e);
    while let Some(s) = src {
        let t = s.to_string();
        if !message.contains(&t) {
            message.push_str(&format!(": {t}"));
        }
        src = s.source();
    }
    let lower = message.to_ascii_lowercase();
    let help = if lower.contains("timed out") || lower.contains("timeout") {
        "the server did not answer within --connect-timeout; check the host and port, or raise the timeout"
    } else if lower.contains("refused") {
        "no server listens there: check the host and port, and that PostgreSQL is running"
    } else if lower.contains("tls") || lower.contains("ssl") {
        "this build connects without TLS: use sslmode=disable or sslmode=prefer on a trusted network"
    } else {
        "check the URL: postgres://USER:PASSWORD@HOST:PORT/DATABASE?table=NAME"
    };
    PgError { message, help }
}

fn connect(conn: &Connection, opts: &DbOptions) -> Result<Client, PgError> {
    let mut config = Config::from_str(&conn.url).map_err(|e| PgError {
        message: format!("`{}` is not a PostgreSQL URL: {e}", conn.display),
        help: "write postgres://USER:PASSWORD@HOST:PORT/DATABASE?table=NAME",
    })?;
    let statement_ms = opts.statement_timeout.as_millis().max(1);
    // The URL's own `options` (e.g. `-c search_path=analytics`) come first; ours follow.
    let options = format!(
        "{} -c statement_timeout={statement_ms} -c TimeZone=UTC",
        config.get_options().unwrap_or_default()
    );
    config
        .connect_timeout(opts.connect_timeout)
        .keepalives(true)
        .keepalives_idle(Duration::from_secs(30))
        .keepalives_interval(Duration::from_secs(10))
        .keepalives_retries(3)
        .application_name("kpi")
        .options(options.trim());
    // The driver's connect timeout covers the TCP connect only: a server that accepts and
    // never answers the start-up would hang. The whole connect gets the deadline here.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(config.connect(NoTls));
    });
    match rx.recv_timeout(opts.connect_timeout) {
        Ok(r) => r.map_err(|e| classify(&e, conn, "cannot connect to")),
        Err(_) => Err(PgError {
            message: format!(
                "cannot connect to {}: no answer within {} s",
                conn.display,
                opts.connect_timeout.as_secs_f64()
            ),
            help: "the server did not answer within --connect-timeout; check the host and port, or raise the timeout",
        }),
    }
}

fn from_clause(source: &SqlSource) -> String {
    match source {
        SqlSource::Table(t) => {
            t.split('.').map(|p| crate::sql::Dialect::quote_ident(&Postgres, p)).collect::<Vec<_>>().join(".")
        }
        SqlSource::Query(q) => format!("(\n{}\n) AS kpi__source", q.trim().trim_end_matches(';')),
    }
}

/// What describing a source tells.
pub struct Described {
    /// Columns with number/text types, as a file's header would give.
    pub sniff: Sniff,
    /// The time column's kind.
    pub kind: TimeKind,
    /// Columns typed as booleans or dates.
    pub typed: Vec<(String, Ty)>,
}

/// The source's columns and the kind of its time column.
pub fn describe(conn: &Connection, time: &str, opts: &DbOptions) -> Result<Described, PgError> {
    let mut client = connect(conn, opts)?;
    describe_with(&mut client, conn, time)
}

fn describe_with(client: &mut Client, conn: &Connection, time: &str) -> Result<Described, PgError> {
    let sql = format!("SELECT * FROM {} LIMIT 0", from_clause(&conn.source));
    let stmt = client.prepare(&sql).map_err(|e| classify(&e, conn, "cannot read the source in"))?;
    let mut kind = TimeKind::Text;
    let mut typed = Vec::new();
    let columns = stmt
        .columns()
        .iter()
        .map(|c| {
            let t = c.type_();
            let ty =
                if [Type::INT2, Type::INT4, Type::INT8, Type::FLOAT4, Type::FLOAT8, Type::NUMERIC, Type::OID]
                    .contains(t)
                {
                    Some(ColType::Number)
                } else if *t == Type::BOOL {
                    typed.push((c.name().to_string(), Ty::Bool));
                    None
                } else if [Type::DATE, Type::TIMESTAMP, Type::TIMESTAMPTZ].contains(t) {
                    typed.push((c.name().to_string(), Ty::Date));
                    None
                } else {
                    Some(ColType::Text)
                };
            if c.name() == time {
                kind = match *t {
                    Type::DATE => TimeKind::Date,
                    Type::TIMESTAMP => TimeKind::Timestamp,
                    Type::TIMESTAMPTZ => TimeKind::Instant,
                    _ => TimeKind::Text,
                };
            }
            (c.name().to_string(), ty)
        })
        .collect();
    Ok(Described { sniff: Sniff { columns }, kind, typed })
}

fn int(row: &Row, i: usize) -> Option<i64> {
    row.try_get::<_, Option<i64>>(i)
        .ok()
        .flatten()
        .or_else(|| row.try_get::<_, Option<i32>>(i).ok().flatten().map(i64::from))
}

/// Runs the dataset plan's statement and decodes its rows.
pub fn run(
    model: &Model,
    dp: &DatasetPlan,
    as_of: i32,
    conn: &Connection,
    opts: &DbOptions,
) -> Result<(Vec<Vec<AggRow>>, ScanStats), PgError> {
    let ds = &model.datasets[dp.dataset];
    let mut client = connect(conn, opts)?;
    let kind = describe_with(&mut client, conn, &ds.time)?.kind;
    let q = plan_to_sql(model, dp, as_of, &conn.source, kind, &Postgres);
    let rows = client.query(q.sql.as_str(), &[]).map_err(|e| classify(&e, conn, "the query failed in"))?;
    let mut total = 0u64;
    let bad = |i: usize, e: postgres::Error| PgError {
        message: format!("unexpected result from {}: column {i}: {e}", conn.display),
        help: "this is a bug in kpi's SQL generation; please report it with `kpi sql --dialect postgres`",
    };
    let mut decoded: Vec<ResultRow> = Vec::with_capacity(rows.len());
    for r in &rows {
        let query = int(r, 0).unwrap_or(-1);
        let mut keys = Vec::with_capacity(q.dims);
        for i in 0..q.dims {
            keys.push(r.try_get::<_, Option<String>>(1 + i).map_err(|e| bad(1 + i, e))?);
        }
        let period = int(r, 1 + q.dims).unwrap_or(i64::MIN);
        let n = int(r, 2 + q.dims).unwrap_or(0);
        if query == 0 {
            total += n.max(0) as u64;
        }
        let mut values = Vec::with_capacity(q.values);
        for i in 0..q.values {
            let col = 3 + q.dims + i;
            values.push(r.try_get::<_, Option<f64>>(col).map_err(|e| bad(col, e))?);
        }
        decoded.push(ResultRow { query, keys, period, rows: n, values });
    }
    let table = rows_to_table(dp, decoded).map_err(|m| PgError {
        message: format!("unexpected result from {}: {m}", conn.display),
        help: "this is a bug in kpi's SQL generation; please report it with `kpi sql --dialect postgres`",
    })?;
    // Rows read: those of the first query, when it buckets by grain (every row counted once).
    let rows_read = match dp.queries.first().map(|q| &q.buckets) {
        Some(crate::plan::Bucketing::Grain(_)) => total,
        _ => 0,
    };
    Ok((table, ScanStats { rows: rows_read, ..ScanStats::default() }))
}
