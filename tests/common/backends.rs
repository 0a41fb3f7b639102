//! Backend parity: the same pack on the same rows must give the same report from the local
//! engine (CSV) and from a database (the generated SQL run elsewhere). Shared by
//! `tests/sql_duckdb.rs` (DuckDB through Python) and `tests/postgres.rs` (a live server).

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

/// One fixture pack evaluated on both backends.
pub struct Case {
    /// Name for messages.
    pub name: &'static str,
    /// The pack, relative to the crate root.
    pub pack: &'static str,
    /// `--as-of`.
    pub as_of: &'static str,
    /// How the time column is stored in the database: `DATE` or `TIMESTAMPTZ`.
    pub time_type: &'static str,
}

/// The fixture packs: arithmetic and filters; time functions over Monday and Sunday weeks;
/// Sunday weeks, April fiscal years and Europe/Berlin datetimes; goals over windows (date
/// ranges), baselines and `first`/`last`.
pub const CASES: &[Case] = &[
    Case { name: "parity", pack: "tests/fixtures/parity/pack.yaml", as_of: "2026-12-31", time_type: "DATE" },
    Case {
        name: "timefns",
        pack: "tests/fixtures/timefns/pack.yaml",
        as_of: "2026-12-31",
        time_type: "DATE",
    },
    Case {
        name: "timefns_sunday",
        pack: "tests/fixtures/timefns/sunday.yaml",
        as_of: "2026-12-31",
        time_type: "DATE",
    },
    Case {
        name: "calendar_berlin",
        pack: "tests/fixtures/calendar/berlin.yaml",
        as_of: "2027-12-31",
        time_type: "TIMESTAMPTZ",
    },
    Case {
        name: "calendar_iso",
        pack: "tests/fixtures/calendar/iso.yaml",
        as_of: "2027-12-31",
        time_type: "TIMESTAMPTZ",
    },
    Case { name: "goals", pack: "tests/fixtures/goals/pack.yaml", as_of: "2026-06-15", time_type: "DATE" },
    Case {
        name: "hostile",
        pack: "tests/fixtures/hostile/pack.yaml",
        as_of: "2026-12-31",
        time_type: "DATE",
    },
];

/// A fixture pack loaded, checked and planned at its as-of day, as `kpi eval` would.
pub fn prepare_case(
    case: &Case,
    sources: &kpi_rules::diagnostic::Sources,
) -> (kpi_rules::pipeline::Prepared, kpi_rules::pipeline::RunOptions) {
    let opts = kpi_rules::pipeline::RunOptions {
        data: Vec::new(),
        as_of: kpi_rules::calendar::parse_date(case.as_of).expect("as-of"),
        range: None,
        period: None,
        on_bad_row: kpi_rules::engine::source::BadRowPolicy::Fail,
        locked: false,
        db: Default::default(),
    };
    match kpi_rules::pipeline::prepare(Path::new(case.pack), sources, &opts) {
        Ok(p) => (p, opts),
        Err(kpi_rules::pipeline::RunError::Diagnostics(d)) => panic!("{}: {d:?}", case.name),
    }
}

/// The columns of a dataset's CSV file with database types: the time column as the case
/// says, text columns as `text`, the rest as `number`.
pub fn typed_columns<'a>(
    case: &Case,
    ds: &kpi_rules::check::DatasetDef,
    text: &'a str,
    number: &'a str,
) -> Vec<(String, &'a str)>
where
    'static: 'a,
{
    let csv = ds.source.as_ref().and_then(|s| s.path.clone()).expect("a CSV source");
    csv_header(&csv)
        .into_iter()
        .map(|c| {
            let ty = if c == ds.time {
                case.time_type
            } else if ds.known.iter().any(|(n, t)| *n == c && *t == kpi_rules::check::Ty::Text) {
                text
            } else {
                number
            };
            (c, ty)
        })
        .collect()
}

/// The header of a CSV file (quoted names unquoted).
pub fn csv_header(path: &Path) -> Vec<String> {
    let mut r = csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    r.headers().expect("a header").iter().map(str::to_string).collect()
}

/// The crate root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Whether this run is CI (where a missing database is a failure, not a skip).
pub fn in_ci() -> bool {
    std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "false" && v != "0")
}

/// Runs `kpi ARGS` from the crate root; returns (exit code, stdout, stderr).
pub fn kpi(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_kpi"))
        .current_dir(root())
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .unwrap_or_else(|e| panic!("cannot run kpi: {e}"));
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The JSON report of `kpi eval PACK --as-of AS_OF EXTRA...`.
pub fn eval_json(pack: &str, as_of: &str, extra: &[&str]) -> Value {
    let mut args = vec!["eval", pack, "--format", "json", "--as-of", as_of, "--fail-on", "never"];
    args.extend_from_slice(extra);
    let (code, stdout, stderr) = kpi(&args);
    assert_eq!(code, 0, "kpi {} exited with {code}\nstderr:\n{stderr}", args.join(" "));
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("not JSON ({e}):\n{stdout}"))
}

fn close(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (x.as_f64().unwrap_or(f64::NAN), y.as_f64().unwrap_or(f64::NAN));
            (x - y).abs() <= 1e-9 * x.abs().max(y.abs()).max(1.0)
        }
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(p, q)| close(p, q)),
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| close(v, w)))
        }
        _ => a == b,
    }
}

/// Lists where two values differ (numbers within 1e-9 relative), by JSON path.
fn diff(path: &str, a: &Value, b: &Value, out: &mut Vec<String>) {
    if close(a, b) {
        return;
    }
    match (a, b) {
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (p, q)) in x.iter().zip(y).enumerate() {
                diff(&format!("{path}[{i}]"), p, q, out);
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            let i = x.iter().zip(y).position(|(p, q)| !close(p, q)).unwrap_or(x.len().min(y.len()));
            out.push(format!(
                "{path}: {} local items, {} database items; first difference at [{i}]: local {}, database {}",
                x.len(),
                y.len(),
                x.get(i).map_or("none".to_string(), Value::to_string),
                y.get(i).map_or("none".to_string(), Value::to_string)
            ));
        }
        (Value::Object(x), Value::Object(y)) => {
            for (k, v) in x {
                match y.get(k) {
                    Some(w) => diff(&format!("{path}.{k}"), v, w, out),
                    None => out.push(format!("{path}.{k}: only in the local report")),
                }
            }
            for k in y.keys().filter(|k| !x.contains_key(*k)) {
                out.push(format!("{path}.{k}: only in the database report"));
            }
        }
        _ => out.push(format!("{path}: local {a}, database {b}")),
    }
}

/// Asserts that the KPI values and goal results of two reports agree, and that they hold
/// some values (a parity check over nothing proves nothing).
pub fn assert_same_report(case: &str, local: &Value, db: &Value) {
    let values: usize = local["kpis"]
        .as_array()
        .map(|ks| ks.iter().map(|k| k["values"].as_array().map_or(0, Vec::len)).sum())
        .unwrap_or(0);
    assert!(values > 0, "{case}: the local report has no values");
    let mut out = Vec::new();
    // Where a goal is defined is not a backend's business (and differs when the pack was copied).
    let strip = |r: &Value| {
        let mut g = r["goals"].clone();
        g.as_array_mut().into_iter().flatten().filter_map(Value::as_object_mut).for_each(|o| {
            o.remove("defined_at");
        });
        g
    };
    diff("kpis", &local["kpis"], &db["kpis"], &mut out);
    diff("goals", &strip(local), &strip(db), &mut out);
    assert!(
        out.is_empty(),
        "{case}: {} differences between CSV and database:\n{}",
        out.len(),
        out.join("\n")
    );
}

/// The CSV file a fixture pack's dataset reads (its `source:` next to the pack).
pub fn csv_of(pack: &str, source: &str) -> PathBuf {
    root().join(Path::new(pack).parent().unwrap_or(Path::new("."))).join(source)
}
