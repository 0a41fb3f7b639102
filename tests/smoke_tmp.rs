use kpi_rules::syntax::*;
#[test]
fn smoke() {
    for s in ["5%", "a b", ">= a and b"] { let _ = parse_target(s); }
}
