//! SQL generation for other engines (issue 9, first part): a `Dialect` trait in the
//! style of DataFusion's unparser, with one implementation per engine.

/// How one SQL engine spells identifiers, literals and the constructs kpi needs.
pub trait Dialect {
    /// The dialect's name (`postgres`, `duckdb`, ...).
    fn name(&self) -> &'static str;

    /// The character that quotes identifiers.
    fn identifier_quote(&self) -> char {
        '"'
    }

    /// An identifier, quoted; the quote character inside is doubled.
    fn quote_ident(&self, name: &str) -> String {
        let q = self.identifier_quote();
        let mut out = String::with_capacity(name.len() + 2);
        out.push(q);
        for c in name.chars() {
            if c == q {
                out.push(q);
            }
            out.push(c);
        }
        out.push(q);
        out
    }

    /// A string literal, quoted; quotes (and, where they escape, backslashes) are escaped.
    fn quote_str(&self, s: &str) -> String {
        format!("'{}'", s.replace('\'', "''"))
    }

    /// Whether `agg(x) FILTER (WHERE ...)` is supported (else `CASE WHEN` is used).
    fn supports_filter(&self) -> bool {
        true
    }
}

/// PostgreSQL.
pub struct Postgres;
/// DuckDB.
pub struct DuckDb;
/// Spark SQL.
pub struct Spark;
/// BigQuery (GoogleSQL).
pub struct BigQuery;
/// Snowflake.
pub struct Snowflake;

impl Dialect for Postgres {
    fn name(&self) -> &'static str {
        "postgres"
    }
}

impl Dialect for DuckDb {
    fn name(&self) -> &'static str {
        "duckdb"
    }
}

impl Dialect for Spark {
    fn name(&self) -> &'static str {
        "spark"
    }
    fn identifier_quote(&self) -> char {
        '`'
    }
    fn quote_str(&self, s: &str) -> String {
        format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))
    }
    fn supports_filter(&self) -> bool {
        true
    }
}

impl Dialect for BigQuery {
    fn name(&self) -> &'static str {
        "bigquery"
    }
    fn identifier_quote(&self) -> char {
        '`'
    }
    fn quote_ident(&self, name: &str) -> String {
        let escaped = name.replace('\\', "\\\\").replace('`', "\\`");
        format!("`{escaped}`")
    }
    fn quote_str(&self, s: &str) -> String {
        format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))
    }
    fn supports_filter(&self) -> bool {
        false
    }
}

impl Dialect for Snowflake {
    fn name(&self) -> &'static str {
        "snowflake"
    }
    fn quote_str(&self, s: &str) -> String {
        format!("'{}'", s.replace('\\', "\\\\").replace('\'', "''"))
    }
    fn supports_filter(&self) -> bool {
        false
    }
}

/// The dialect named `name`, if known.
pub fn dialect_by_name(name: &str) -> Option<Box<dyn Dialect>> {
    match name {
        "postgres" | "postgresql" => Some(Box::new(Postgres)),
        "duckdb" => Some(Box::new(DuckDb)),
        "spark" => Some(Box::new(Spark)),
        "bigquery" => Some(Box::new(BigQuery)),
        "snowflake" => Some(Box::new(Snowflake)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_identifiers_and_literals_stay_quoted() {
        let col = "x\"; DROP TABLE t; --";
        assert_eq!(Postgres.quote_ident(col), "\"x\"\"; DROP TABLE t; --\"");
        assert_eq!(Spark.quote_ident("a`b"), "`a``b`");
        assert_eq!(BigQuery.quote_ident("a`b"), "`a\\`b`");
        let lit = "'; DROP TABLE t; --";
        assert_eq!(DuckDb.quote_str(lit), "'''; DROP TABLE t; --'");
        assert_eq!(Spark.quote_str("a\\'b"), "'a\\\\\\'b'");
        assert_eq!(Snowflake.quote_str("a\\'b"), "'a\\\\''b'");
        for name in ["postgres", "duckdb", "spark", "bigquery", "snowflake"] {
            assert_eq!(dialect_by_name(name).unwrap().name(), name);
        }
    }
}
