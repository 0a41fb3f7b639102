//! `kpi schema`: the JSON Schema of the definition files, on stdout.

use super::EXIT_OK;
use std::io::Write;

/// Runs `kpi schema`.
pub fn run() -> i32 {
    let schema = crate::spec::schema::file_schema();
    let text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    // A closed pipe (`kpi schema | head`) is not an error worth a message.
    let _ = writeln!(std::io::stdout(), "{text}");
    EXIT_OK
}
