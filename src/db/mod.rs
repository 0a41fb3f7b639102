//! Database sources: the connection string, and the backend that runs a dataset plan's SQL
//! in the database and reads back only the aggregate rows (feature `postgres`).
//!
//! A source is `{url, table}` or `{url, query}` in YAML, or `--data NAME=URL?table=T` (or
//! `query=...`, URL-encoded) on the command line. `table` and `query` are taken out of the
//! URL's query string; the rest (`sslmode`, `application_name`...) goes to the driver. The
//! password is never printed: every message passes through [`Connection::redact`].

#[cfg(feature = "postgres")]
mod pg;

use crate::check::{expand_env, redact_url, BoundSource, Model, Ty};
use crate::diagnostic::{Code, Diagnostic};
use crate::engine::source::{ScanStats, Sniff};
use crate::plan::{AggRow, DatasetPlan};
use crate::spec::SourceSpec;
use crate::sql::SqlSource;
use std::time::Duration;

/// Connection limits (`--connect-timeout`, `--statement-timeout`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DbOptions {
    /// How long to wait for a connection.
    pub connect_timeout: Duration,
    /// How long one statement may run in the database.
    pub statement_timeout: Duration,
}

impl DbOptions {
    /// The defaults: 10 s to connect, 10 min per statement.
    pub const DEFAULT: DbOptions =
        DbOptions { connect_timeout: Duration::from_secs(10), statement_timeout: Duration::from_secs(600) };
}

impl Default for DbOptions {
    fn default() -> Self {
        DbOptions::DEFAULT
    }
}

/// A database source, parsed: the driver's URL (without `table`/`query`), what to read,
/// and how to show it.
#[derive(Debug, Clone)]
pub struct Connection {
    /// The URL for the driver, `${VAR}` expanded, `table`/`query` removed.
    pub url: String,
    /// The table or query.
    pub source: SqlSource,
    /// The password, if the URL has one (to redact it from messages).
    password: Option<String>,
    /// The URL as shown: password replaced by `***`.
    pub display: String,
}

impl Connection {
    /// Parses a bound database source.
    pub fn parse(spec: &SourceSpec) -> Result<Connection, String> {
        let SourceSpec::Database { url, table, query } = spec else {
            return Err("not a database source".to_string());
        };
        let url = expand_env(url);
        let display = redact_url(&url);
        let scheme = url.split("://").next().unwrap_or("");
        if !matches!(scheme, "postgres" | "postgresql") {
            return Err(format!(
                "`{display}`: databases of kind `{scheme}` are not supported; use a postgres:// URL, or `kpi sql --dialect {}` to get the SQL for another engine",
                match scheme {
                    "duckdb" | "snowflake" | "bigquery" | "spark" => scheme,
                    _ => "duckdb",
                }
            ));
        }
        let (base, qs) = match url.split_once('?') {
            Some((b, q)) => (b.to_string(), q.to_string()),
            None => (url.clone(), String::new()),
        };
        let (mut table, mut query) = (table.clone(), query.clone());
        let mut rest: Vec<String> = Vec::new();
        for pair in qs.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            match k {
                "table" => table = Some(percent_decode(v)?),
                "query" => query = Some(percent_decode(v)?),
                _ => rest.push(pair.to_string()),
            }
        }
        let source = match (table, query) {
            (Some(_), Some(_)) => {
                return Err(format!("`{display}` gives both a table and a query; give one"));
            }
            (Some(t), None) if !t.trim().is_empty() => SqlSource::Table(t),
            (None, Some(q)) if !q.trim().is_empty() => SqlSource::Query(q),
            _ => {
                return Err(format!(
                    "`{display}` names no table or query: add `table: posts` (or `?table=posts` on the command line), or `query: \"SELECT ...\"`"
                ));
            }
        };
        let driver_url = if rest.is_empty() { base } else { format!("{base}?{}", rest.join("&")) };
        Ok(Connection { password: password_of(&driver_url), url: driver_url, source, display })
    }

    /// A message with the password (raw or URL-decoded) replaced by `***`.
    pub fn redact(&self, msg: &str) -> String {
        let mut out = msg.replace(&self.url, &self.display);
        if let Some(p) = self.password.as_deref().filter(|p| !p.is_empty()) {
            let mut forms = vec![p.to_string()];
            forms.extend(percent_decode(p).ok());
            for f in forms {
                out =
                    out.replace(&format!(":{f}@"), ":***@").replace(&format!("password={f}"), "password=***");
                // A password long enough not to be an ordinary word is masked anywhere.
                if f.len() >= 6 {
                    out = out.replace(&f, "***");
                }
            }
        }
        out
    }
}

/// The password of a database source (as written and %-decoded), for masking.
pub fn secrets_of(spec: &SourceSpec) -> Vec<String> {
    let SourceSpec::Database { url, .. } = spec else { return Vec::new() };
    let mut out = Vec::new();
    for u in [url.clone(), expand_env(url)] {
        if let Some(p) = password_of(&u) {
            if let Ok(d) = percent_decode(&p) {
                out.push(d);
            }
            out.push(p);
        }
    }
    out.sort();
    out.dedup();
    out
}

fn password_of(url: &str) -> Option<String> {
    let rest = &url[url.find("://")? + 3..];
    // As the driver reads it: the credentials end at the first `@`.
    if let Some((_, p)) = rest.find('@').and_then(|at| rest[..at].split_once(':')) {
        return Some(p.to_string());
    }
    rest.split_once('?')
        .and_then(|(_, q)| q.split('&').find_map(|kv| kv.strip_prefix("password=").map(str::to_string)))
}

/// Decodes `%XX` escapes and `+` (a space) in a URL query value.
pub fn percent_decode(s: &str) -> Result<String, String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                let hex = b.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
                let v = hex.and_then(|h| u8::from_str_radix(h, 16).ok());
                match v {
                    Some(v) => out.push(v),
                    None => {
                        let bad = String::from_utf8_lossy(&b[i..(i + 3).min(b.len())]).into_owned();
                        return Err(format!("`{bad}` is not a valid %-escape"));
                    }
                }
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8(out).map_err(|_| "a %-escaped value is not UTF-8".to_string())
}

/// A database error: exit 3, pointing at the `source:` that bound the dataset.
pub fn db_error(bound: Option<&BoundSource>, dataset: &str, msg: String, help: &str) -> Diagnostic {
    let mut d = Diagnostic::error(Code::DatabaseError, format!("dataset `{dataset}`: {msg}")).with_help(help);
    if let Some(b) = bound {
        d = d.with_opt_label(b.span, "bound here");
    }
    d
}

/// The columns of a database source and their types (for the checker), read without
/// reading rows.
pub fn describe(
    bound: &BoundSource,
    dataset: &str,
    time: &str,
    opts: &DbOptions,
) -> Result<(Sniff, Vec<(String, Ty)>), Diagnostic> {
    // The checker labels the binding itself.
    let unlabelled = BoundSource { span: None, ..bound.clone() };
    let conn = Connection::parse(&bound.spec).map_err(|m| {
        db_error(Some(&unlabelled), dataset, m, "bind it as {url: postgres://USER@HOST/DB, table: NAME}")
    })?;
    #[cfg(feature = "postgres")]
    {
        pg::describe(&conn, time, opts)
            .map(|d| (d.sniff, d.typed))
            .map_err(|e| e.diagnostic(&conn, &unlabelled, dataset))
    }
    #[cfg(not(feature = "postgres"))]
    {
        let _ = (time, opts, conn);
        Err(no_support(bound, dataset))
    }
}

#[cfg(not(feature = "postgres"))]
fn no_support(bound: &BoundSource, dataset: &str) -> Diagnostic {
    db_error(
        Some(bound),
        dataset,
        format!("{} is a database, and this build has no PostgreSQL support", bound.display),
        "build kpi with `--features postgres` (on by default), or export the table to CSV and bind it with --data",
    )
}

/// Runs a dataset plan in its database: one statement, only aggregate rows come back.
pub fn run_dataset(
    model: &Model,
    dp: &DatasetPlan,
    as_of: i32,
    opts: &DbOptions,
) -> Result<(Vec<Vec<AggRow>>, ScanStats), Box<Diagnostic>> {
    let ds = &model.datasets[dp.dataset];
    let Some(bound) = ds.source.as_ref() else {
        return Err(Box::new(db_error(None, &ds.id, "is not bound".into(), "bind it with --data")));
    };
    let conn = Connection::parse(&bound.spec).map_err(|m| {
        Box::new(db_error(Some(bound), &ds.id, m, "bind it as {url: postgres://USER@HOST/DB, table: NAME}"))
    })?;
    #[cfg(feature = "postgres")]
    {
        pg::run(model, dp, as_of, &conn, opts).map_err(|e| Box::new(e.diagnostic(&conn, bound, &ds.id)))
    }
    #[cfg(not(feature = "postgres"))]
    {
        let _ = (as_of, opts, conn);
        Err(Box::new(no_support(bound, &ds.id)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db(url: &str) -> SourceSpec {
        SourceSpec::Database { url: url.to_string(), table: None, query: None }
    }

    #[test]
    fn table_and_query_come_out_of_the_url() {
        let c = Connection::parse(&db("postgres://u:s3cret@h:5432/db?sslmode=disable&table=public.posts"))
            .unwrap();
        assert_eq!(c.url, "postgres://u:s3cret@h:5432/db?sslmode=disable");
        assert_eq!(c.source, SqlSource::Table("public.posts".into()));
        assert_eq!(c.display, "postgres://u:***@h:5432/db?sslmode=disable&table=public.posts");
        let c =
            Connection::parse(&db("postgresql://h/db?query=SELECT+*+FROM+t+WHERE+x+%3D+%27a%27")).unwrap();
        assert_eq!(c.source, SqlSource::Query("SELECT * FROM t WHERE x = 'a'".into()));
        assert_eq!(c.url, "postgresql://h/db");
    }

    #[test]
    fn bad_urls_say_what_to_do() {
        assert!(Connection::parse(&db("postgres://h/db")).unwrap_err().contains("names no table"));
        assert!(Connection::parse(&db("postgres://h/db?table=a&query=b")).unwrap_err().contains("both"));
        assert!(Connection::parse(&db("mysql://u:pw@h/db?table=t")).unwrap_err().contains("not supported"));
        assert!(Connection::parse(&db("postgres://h/db?table=%zz")).unwrap_err().contains("%-escape"));
    }

    #[test]
    fn passwords_with_slashes_or_in_the_query_string_are_redacted() {
        let c = Connection::parse(&db("postgres://u:ab/cd+ef@127.0.0.1:1/db?table=t")).unwrap();
        assert_eq!(c.display, "postgres://u:***@127.0.0.1:1/db?table=t");
        assert_eq!(
            secrets_of(&db("postgres://u:ab/cd+ef@h/db")),
            vec!["ab/cd ef".to_string(), "ab/cd+ef".to_string()]
        );
        let c = Connection::parse(&db("postgres://u@h/db?password=hunter22&table=t")).unwrap();
        assert_eq!(c.display, "postgres://u@h/db?password=***&table=t");
        assert_eq!(c.redact("connecting with hunter22"), "connecting with ***");
        assert!(Connection::parse(&db("postgres://u@h/db?table=%aé")).unwrap_err().contains("%-escape"));
    }

    #[test]
    fn passwords_are_redacted_raw_and_decoded() {
        let c = Connection::parse(&db("postgres://u:p%40ss@h/db?table=t")).unwrap();
        assert_eq!(c.redact("u:p%40ss@h and u:p@ss@h"), "u:***@h and u:***@h");
        assert!(!c.display.contains("p%40ss"));
    }
}
