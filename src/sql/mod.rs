//! SQL generation for databases and warehouses: a `Dialect` trait in the style of
//! DataFusion's unparser, with one implementation per engine, and [`query::plan_to_sql`],
//! which turns a dataset plan into one statement whose rows are the aggregate table.

pub mod decode;
pub mod query;

pub use query::{plan_to_sql, DatasetSql, SqlSource, TimeKind};

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

    /// Whether `COUNT(DISTINCT x) FILTER (WHERE ...)` is supported.
    fn supports_distinct_filter(&self) -> bool {
        self.supports_filter()
    }

    /// The text type.
    fn text_type(&self) -> &'static str {
        "VARCHAR"
    }

    /// The 64-bit float type.
    fn double_type(&self) -> &'static str {
        "DOUBLE"
    }

    /// The 64-bit integer type.
    fn bigint_type(&self) -> &'static str {
        "BIGINT"
    }

    /// What follows `WITH name AS` so that a CTE is inlined, not materialized.
    fn inline_cte(&self) -> &'static str {
        ""
    }

    /// A date literal for day number `day`.
    fn date_literal(&self, day: i32) -> String {
        format!("DATE '{}'", crate::calendar::format_date(day))
    }

    /// The date of a time value `t` of kind `kind`; instants are dated in zone `tz`.
    fn date_of(&self, t: &str, kind: TimeKind, tz: &str) -> String {
        match kind {
            TimeKind::Date | TimeKind::Timestamp | TimeKind::Text => format!("CAST({t} AS DATE)"),
            TimeKind::Instant => format!("CAST(timezone({}, {t}) AS DATE)", self.quote_str(tz)),
        }
    }

    /// Days from 1970-01-01 to the date `d`.
    fn day_number(&self, d: &str) -> String {
        format!("({d} - DATE '1970-01-01')")
    }

    /// `JOIN` of the rows with the date ranges `(index, first day, last day)` that hold
    /// their day number `day`, as `kpi__r(i, s, e)`.
    fn ranges_join(&self, ranges: &[(i32, i32, i32)], day: &str) -> String {
        let rows: Vec<String> = ranges.iter().map(|(i, s, e)| format!("({i}, {s}, {e})")).collect();
        format!("JOIN (VALUES {}) AS kpi__r(i, s, e) ON {day} BETWEEN kpi__r.s AND kpi__r.e", rows.join(", "))
    }

    /// The continuous percentile `p` (linear interpolation) of `x`, nulls ignored.
    fn percentile(&self, x: &str, p: f64, filter: Option<&str>) -> String {
        let p = query::number_literal(p);
        match filter {
            None => format!("PERCENTILE_CONT({p}) WITHIN GROUP (ORDER BY {x})"),
            Some(f) if self.supports_filter() => {
                format!("PERCENTILE_CONT({p}) WITHIN GROUP (ORDER BY {x}) FILTER (WHERE {f})")
            }
            Some(f) => format!("PERCENTILE_CONT({p}) WITHIN GROUP (ORDER BY CASE WHEN {f} THEN {x} END)"),
        }
    }

    /// The first (or last) non-null `x` in the order `order` (nulls of `x` skipped).
    fn first_last(&self, x: &str, filter: Option<&str>, last: bool, order: &[&str]) -> String {
        let keep = non_null_and(x, filter);
        let by = if last { "MAX_BY" } else { "MIN_BY" };
        let key = order.first().copied().unwrap_or("1");
        format!("{by}({x}, CASE WHEN {keep} THEN {key} END)")
    }

    /// `greatest`/`least` with nulls ignored.
    fn greatest_least(&self, greatest: bool, items: &[String]) -> String {
        let f = if greatest { "GREATEST" } else { "LEAST" };
        format!("{f}({})", items.join(", "))
    }

    /// A text operand of an ordering comparison, compared byte-wise (as the local engine does).
    fn binary_collation(&self, x: &str) -> String {
        x.to_string()
    }
}

/// `a, b` or `a DESC, b DESC`: the order of `first` (ascending) or `last` (descending).
fn order_by(order: &[&str], last: bool) -> String {
    let dir = if last { " DESC" } else { "" };
    order.iter().map(|o| format!("{o}{dir}")).collect::<Vec<_>>().join(", ")
}

/// The rows `first`/`last` may take: `x` not null, and the filter.
fn non_null_and(x: &str, filter: Option<&str>) -> String {
    match filter {
        Some(f) => format!("{x} IS NOT NULL AND {f}"),
        None => format!("{x} IS NOT NULL"),
    }
}

/// `greatest`/`least` for engines whose functions return NULL when any argument is NULL:
/// each argument falls back to the others, so nulls are ignored and all-null gives NULL.
fn null_skipping(f: &str, items: &[String]) -> String {
    let args: Vec<String> = (0..items.len())
        .map(|i| {
            let mut order = vec![items[i].clone()];
            order.extend(items.iter().enumerate().filter(|(j, _)| *j != i).map(|(_, s)| s.clone()));
            if order.len() == 1 {
                order.remove(0)
            } else {
                format!("COALESCE({})", order.join(", "))
            }
        })
        .collect();
    format!("{f}({})", args.join(", "))
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
    fn text_type(&self) -> &'static str {
        "TEXT"
    }
    fn double_type(&self) -> &'static str {
        "DOUBLE PRECISION"
    }
    fn inline_cte(&self) -> &'static str {
        " NOT MATERIALIZED"
    }
    fn date_of(&self, t: &str, kind: TimeKind, tz: &str) -> String {
        let tz = self.quote_str(tz);
        match kind {
            TimeKind::Date | TimeKind::Timestamp => format!("CAST({t} AS DATE)"),
            TimeKind::Instant => format!("CAST({t} AT TIME ZONE {tz} AS DATE)"),
            // ISO text: a date or a civil datetime is dated as written; a datetime with an
            // offset is an instant, dated in the zone.
            TimeKind::Text => format!(
                "CASE WHEN {t} ~ '(Z|z|[+-][0-9][0-9](:?[0-9][0-9])?)$' AND length({t}) > 10 \
                 THEN CAST(CAST({t} AS TIMESTAMPTZ) AT TIME ZONE {tz} AS DATE) \
                 ELSE CAST(CAST({t} AS TIMESTAMP) AS DATE) END"
            ),
        }
    }
    fn first_last(&self, x: &str, filter: Option<&str>, last: bool, order: &[&str]) -> String {
        let by = order_by(order, last);
        let keep = non_null_and(x, filter);
        format!("(ARRAY_AGG({x} ORDER BY {}) FILTER (WHERE {keep}))[1]", by)
    }
    fn binary_collation(&self, x: &str) -> String {
        format!("({x} COLLATE \"C\")")
    }
}

impl Dialect for DuckDb {
    fn name(&self) -> &'static str {
        "duckdb"
    }
    fn day_number(&self, d: &str) -> String {
        format!("date_diff('day', DATE '1970-01-01', {d})")
    }
    fn percentile(&self, x: &str, p: f64, filter: Option<&str>) -> String {
        let p = query::number_literal(p);
        match filter {
            None => format!("quantile_cont({x}, {p})"),
            Some(f) => format!("quantile_cont({x}, {p}) FILTER (WHERE {f})"),
        }
    }
    fn first_last(&self, x: &str, filter: Option<&str>, last: bool, order: &[&str]) -> String {
        let by = order_by(order, last);
        let keep = non_null_and(x, filter);
        format!("first({x} ORDER BY {}) FILTER (WHERE {keep})", by)
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
    fn text_type(&self) -> &'static str {
        "STRING"
    }
    // `convert_timezone(to, ts)` (Spark 3.4+) gives the civil time in `to` whatever the
    // session zone; `from_utc_timestamp` would depend on it.
    fn date_of(&self, t: &str, kind: TimeKind, tz: &str) -> String {
        match kind {
            TimeKind::Instant => format!("to_date(convert_timezone({}, {t}))", self.quote_str(tz)),
            _ => format!("to_date({t})"),
        }
    }
    // Spark < 3.2 has no FILTER on DISTINCT aggregates; CASE works everywhere.
    fn supports_distinct_filter(&self) -> bool {
        false
    }
    // The day, then the full time value, break ties (a struct orders field by field).
    fn first_last(&self, x: &str, filter: Option<&str>, last: bool, order: &[&str]) -> String {
        let keep = non_null_and(x, filter);
        let by = if last { "MAX_BY" } else { "MIN_BY" };
        let fields: Vec<String> = order.iter().enumerate().map(|(i, o)| format!("'k{i}', {o}")).collect();
        format!("{by}({x}, CASE WHEN {keep} THEN named_struct({}) END)", fields.join(", "))
    }
    fn day_number(&self, d: &str) -> String {
        format!("datediff({d}, DATE '1970-01-01')")
    }
    fn ranges_join(&self, ranges: &[(i32, i32, i32)], day: &str) -> String {
        let rows: Vec<String> = ranges.iter().map(|(i, s, e)| format!("({i}, {s}, {e})")).collect();
        format!("JOIN VALUES {} AS kpi__r(i, s, e) ON {day} BETWEEN kpi__r.s AND kpi__r.e", rows.join(", "))
    }
    fn percentile(&self, x: &str, p: f64, filter: Option<&str>) -> String {
        let p = query::number_literal(p);
        match filter {
            None => format!("percentile({x}, {p})"),
            Some(f) => format!("percentile({x}, {p}) FILTER (WHERE {f})"),
        }
    }
}

impl Dialect for BigQuery {
    fn name(&self) -> &'static str {
        "bigquery"
    }
    fn identifier_quote(&self) -> char {
        '`'
    }
    // Quoted strings and identifiers cannot hold a raw newline in GoogleSQL.
    fn quote_ident(&self, name: &str) -> String {
        format!("`{}`", bigquery_escape(name).replace('`', "\\`"))
    }
    fn quote_str(&self, s: &str) -> String {
        format!("'{}'", bigquery_escape(s).replace('\'', "\\'"))
    }
    fn supports_filter(&self) -> bool {
        false
    }
    fn text_type(&self) -> &'static str {
        "STRING"
    }
    fn double_type(&self) -> &'static str {
        "FLOAT64"
    }
    fn bigint_type(&self) -> &'static str {
        "INT64"
    }
    fn date_of(&self, t: &str, kind: TimeKind, tz: &str) -> String {
        match kind {
            TimeKind::Instant => format!("DATE({t}, {})", self.quote_str(tz)),
            _ => format!("DATE({t})"),
        }
    }
    fn day_number(&self, d: &str) -> String {
        format!("UNIX_DATE({d})")
    }
    fn ranges_join(&self, ranges: &[(i32, i32, i32)], day: &str) -> String {
        let rows: Vec<String> =
            ranges.iter().map(|(i, s, e)| format!("STRUCT({i} AS i, {s} AS s, {e} AS e)")).collect();
        format!("JOIN UNNEST([{}]) AS kpi__r ON {day} BETWEEN kpi__r.s AND kpi__r.e", rows.join(", "))
    }
    // No aggregate PERCENTILE_CONT: interpolate over the group's sorted values, as the local
    // engine does (lo + (hi - lo) * fraction).
    fn percentile(&self, x: &str, p: f64, filter: Option<&str>) -> String {
        let p = query::number_literal(p);
        let x = match filter {
            Some(f) => format!("CASE WHEN {f} THEN {x} END"),
            None => x.to_string(),
        };
        let lo = "MAX(IF(o = CAST(FLOOR(pos) AS INT64), v, NULL))";
        let hi = "MAX(IF(o = CAST(CEIL(pos) AS INT64), v, NULL))";
        format!(
            "(SELECT {lo} + ({hi} - {lo}) * (MAX(pos) - FLOOR(MAX(pos))) \
             FROM (SELECT v, o, {p} * (COUNT(*) OVER () - 1) AS pos \
             FROM UNNEST(ARRAY_AGG({x} IGNORE NULLS ORDER BY {x})) AS v WITH OFFSET AS o))"
        )
    }
    fn first_last(&self, x: &str, filter: Option<&str>, last: bool, order: &[&str]) -> String {
        let by = order_by(order, last);
        let x = match filter {
            Some(f) => format!("CASE WHEN {f} THEN {x} END"),
            None => x.to_string(),
        };
        format!("ARRAY_AGG({x} IGNORE NULLS ORDER BY {} LIMIT 1)[SAFE_OFFSET(0)]", by)
    }
    fn greatest_least(&self, greatest: bool, items: &[String]) -> String {
        null_skipping(if greatest { "GREATEST" } else { "LEAST" }, items)
    }
}

impl Dialect for Snowflake {
    fn name(&self) -> &'static str {
        "snowflake"
    }
    // Unquoted names resolve case-insensitively (stored upper-case); a quoted `"x"` would only
    // find a column created quoted in lower case. Plain names stay unquoted, others are quoted.
    fn quote_ident(&self, name: &str) -> String {
        let plain = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
            && !SNOWFLAKE_RESERVED.contains(&name.to_ascii_uppercase().as_str());
        if plain {
            name.to_string()
        } else {
            format!("\"{}\"", name.replace('"', "\"\""))
        }
    }
    fn quote_str(&self, s: &str) -> String {
        format!("'{}'", s.replace('\\', "\\\\").replace('\'', "''"))
    }
    fn supports_filter(&self) -> bool {
        false
    }
    fn date_of(&self, t: &str, kind: TimeKind, tz: &str) -> String {
        match kind {
            TimeKind::Instant => format!("CAST(CONVERT_TIMEZONE({}, {t}) AS DATE)", self.quote_str(tz)),
            _ => format!("CAST({t} AS DATE)"),
        }
    }
    fn day_number(&self, d: &str) -> String {
        format!("DATEDIFF(day, DATE '1970-01-01', {d})")
    }
    fn greatest_least(&self, greatest: bool, items: &[String]) -> String {
        null_skipping(if greatest { "GREATEST" } else { "LEAST" }, items)
    }
}

/// Backslashes, newlines and carriage returns escaped for a GoogleSQL quoted string or name.
fn bigquery_escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('\n', "\\n").replace('\r', "\\r")
}

/// Snowflake's reserved words (which must be quoted as identifiers).
const SNOWFLAKE_RESERVED: &[&str] = &[
    "ACCOUNT",
    "ALL",
    "ALTER",
    "AND",
    "ANY",
    "AS",
    "BETWEEN",
    "BY",
    "CASE",
    "CAST",
    "CHECK",
    "COLUMN",
    "CONNECT",
    "CONNECTION",
    "CONSTRAINT",
    "CREATE",
    "CROSS",
    "CURRENT",
    "CURRENT_DATE",
    "CURRENT_TIME",
    "CURRENT_TIMESTAMP",
    "CURRENT_USER",
    "DATABASE",
    "DELETE",
    "DISTINCT",
    "DROP",
    "ELSE",
    "EXISTS",
    "FALSE",
    "FOLLOWING",
    "FOR",
    "FROM",
    "FULL",
    "GRANT",
    "GROUP",
    "GSCLUSTER",
    "HAVING",
    "ILIKE",
    "IN",
    "INCREMENT",
    "INNER",
    "INSERT",
    "INTERSECT",
    "INTO",
    "IS",
    "ISSUE",
    "JOIN",
    "LATERAL",
    "LEFT",
    "LIKE",
    "LOCALTIME",
    "LOCALTIMESTAMP",
    "MINUS",
    "NATURAL",
    "NOT",
    "NULL",
    "OF",
    "ON",
    "OR",
    "ORDER",
    "ORGANIZATION",
    "QUALIFY",
    "REGEXP",
    "REVOKE",
    "RIGHT",
    "RLIKE",
    "ROW",
    "ROWS",
    "SAMPLE",
    "SCHEMA",
    "SELECT",
    "SET",
    "SOME",
    "START",
    "TABLE",
    "TABLESAMPLE",
    "THEN",
    "TO",
    "TRIGGER",
    "TRUE",
    "TRY_CAST",
    "UNION",
    "UNIQUE",
    "UPDATE",
    "USING",
    "VALUES",
    "VIEW",
    "WHEN",
    "WHENEVER",
    "WHERE",
    "WITH",
];

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
        assert_eq!(Snowflake.quote_ident("likes"), "likes");
        assert_eq!(Snowflake.quote_ident("select"), "\"select\"");
        assert_eq!(Snowflake.quote_ident("a\"b; --"), "\"a\"\"b; --\"");
        assert_eq!(BigQuery.quote_str("a\nb"), "'a\\nb'");
        for name in ["postgres", "duckdb", "spark", "bigquery", "snowflake"] {
            assert_eq!(dialect_by_name(name).unwrap().name(), name);
        }
    }
}
