//! `kpi schema`: the JSON Schema of the definition files, on stdout.

use super::EXIT_OK;

/// Runs `kpi schema`.
pub fn run() -> i32 {
    let schema = crate::spec::schema::file_schema();
    println!("{}", serde_json::to_string_pretty(&schema).unwrap_or_default());
    EXIT_OK
}
