//! Rendering test outcomes: text for people (and the `N passed, M failed` line CI reads),
//! JUnit XML for CI systems.

use super::coverage::Coverage;
use super::run::{CaseOutcome, Failure};
use std::fmt::Write;

fn failure_line(f: &Failure) -> String {
    format!("{}: {}: expected {}, actual {}", f.location, f.subject, f.expected, f.actual)
}

/// `test ID ... ok`, or `FAILED` followed by one indented line per failing expectation.
pub fn text_case(o: &CaseOutcome) -> String {
    let mut s = format!("test {} ... {}\n", o.id, if o.passed() { "ok" } else { "FAILED" });
    for f in &o.failures {
        let _ = writeln!(s, "    {}", failure_line(f));
    }
    s
}

/// The closing line: exactly `N passed, M failed`.
pub fn summary_line(outcomes: &[CaseOutcome]) -> String {
    let passed = outcomes.iter().filter(|o| o.passed()).count();
    format!("{passed} passed, {} failed\n", outcomes.len() - passed)
}

/// The coverage lines.
pub fn coverage_text(c: &Coverage) -> String {
    let mut s = format!(
        "coverage: {} of {} KPIs and goals have an expectation ({:.1}%)\n",
        c.touched,
        c.total,
        c.percent()
    );
    if !c.kpis_missed.is_empty() {
        let _ = writeln!(s, "  KPIs without an expectation: {}", c.kpis_missed.join(", "));
    }
    if !c.goals_missed.is_empty() {
        let _ = writeln!(s, "  goals without an expectation: {}", c.goals_missed.join(", "));
    }
    s
}

fn xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' | '\t' => out.push(c),
            c if (c as u32) < 0x20 => {}
            c => out.push(c),
        }
    }
    out
}

/// A JUnit document: one testsuite for the pack, one testcase per case, a `<failure>` listing
/// the failing expectations.
pub fn junit(pack: &str, outcomes: &[CaseOutcome]) -> String {
    let failed = outcomes.iter().filter(|o| !o.passed()).count();
    let mut s = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        s,
        "<testsuites name=\"kpi test\" tests=\"{}\" failures=\"{failed}\" errors=\"0\">",
        outcomes.len()
    );
    let _ = writeln!(
        s,
        "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failed}\" errors=\"0\" skipped=\"0\">",
        xml(pack),
        outcomes.len()
    );
    for o in outcomes {
        let file = o.file.display().to_string();
        let head = format!(
            "    <testcase name=\"{}\" classname=\"{}\" file=\"{}\"",
            xml(&o.id),
            xml(pack),
            xml(&file)
        );
        if o.passed() {
            let _ = writeln!(s, "{head}/>");
            continue;
        }
        let _ = writeln!(s, "{head}>");
        let n = o.failures.len();
        let body: Vec<String> = o.failures.iter().map(failure_line).collect();
        let _ = writeln!(
            s,
            "      <failure type=\"expectation\" message=\"{n} expectation{} failed\">{}</failure>",
            if n == 1 { "" } else { "s" },
            xml(&body.join("\n"))
        );
        let _ = writeln!(s, "    </testcase>");
    }
    s.push_str("  </testsuite>\n</testsuites>\n");
    s
}
