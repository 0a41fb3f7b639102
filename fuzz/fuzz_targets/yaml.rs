//! Any bytes as a pack file: loading and checking never panic, hang or overflow the stack.
#![no_main]
use kpi_rules::check::{check_pack, CheckOptions};
use kpi_rules::diagnostic::Sources;
use kpi_rules::engine::readers::LocalFiles;
use libfuzzer_sys::fuzz_target;
use std::io::Write;

fuzz_target!(|data: &[u8]| {
    let dir = std::env::temp_dir().join(format!("kpi-fuzz-yaml-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let path = dir.join("pack.yaml");
    if let Ok(mut f) = std::fs::File::create(&path) {
        let _ = f.write_all(data);
    }
    let sources = Sources::new();
    if let Ok(pack) = kpi_rules::spec::load_pack(&path, &sources) {
        let scanner = LocalFiles;
        let opts = CheckOptions { data: &[], require_data: false, scanner: &scanner };
        let _ = check_pack(&pack, &sources, &opts);
    }
});
