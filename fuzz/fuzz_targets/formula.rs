//! Any text as a formula or a target: parsing and printing never panic, and what parses
//! prints back to text that parses to the same tree.
#![no_main]
use kpi_rules::syntax::{ast::strip_spans, parse_formula, parse_target, print};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(e) = parse_formula(&text) {
        let again = parse_formula(&print(&e)).expect("printed formulas parse");
        assert_eq!(strip_spans(&e), strip_spans(&again));
    }
    let _ = parse_target(&text);
});
