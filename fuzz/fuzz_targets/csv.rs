//! Any bytes as the data of a small pack: evaluation never panics; it reports or errors.
#![no_main]
use kpi_rules::diagnostic::Sources;
use kpi_rules::engine::source::BadRowPolicy;
use kpi_rules::pipeline::{evaluate_pack, RunOptions};
use libfuzzer_sys::fuzz_target;

const PACK: &str = "pack: f\nversion: 0.1.0\ndatasets:\n  d:\n    source: data.csv\n    time: date\n    dimensions: [channel]\n    columns: {likes: number, reach: number}\nkpis:\n  er:\n    formula: sum(likes) / sum(reach)\n    by: [channel]\n  n:\n    formula: count(where likes > 0)\n";

fuzz_target!(|data: &[u8]| {
    let dir = std::env::temp_dir().join(format!("kpi-fuzz-csv-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let _ = std::fs::write(dir.join("pack.yaml"), PACK);
    let _ = std::fs::write(dir.join("data.csv"), data);
    for on_bad_row in [BadRowPolicy::Fail, BadRowPolicy::Skip] {
        let opts = RunOptions { data: Vec::new(), as_of: 20_000, range: None, on_bad_row, locked: false };
        let _ = evaluate_pack(&dir.join("pack.yaml"), &Sources::new(), &opts);
    }
});
