//! JUnit XML, as Jenkins and GitLab read it: one `<testsuite>` per goal, one `<testcase>`
//! per goal × group × period.
//!
//! Statuses: `pass` and `on_track` pass; `fail` and `off_track` are a `<failure>` whose
//! message says value vs target; `error` is an `<error>`; `no_data` is `<skipped>`; `warn`
//! and `at_risk` pass (CI systems would otherwise fail the build) with a `WARN:` line in
//! `<system-out>`, which Jenkins and GitLab show with the test.

use super::markdown::group_text;
use super::{format_value, Report};
use std::fmt::Write;

fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&apos;"),
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\t' | '\r') => {}
            c => o.push(c),
        }
    }
    o
}

/// Renders the report as JUnit XML.
pub fn render(r: &Report) -> String {
    let count = |pred: &dyn Fn(&str) -> bool| {
        r.goals.iter().flat_map(|g| &g.results).filter(|x| pred(x.status)).count()
    };
    let tests = count(&|_| true);
    let failures = count(&|s| matches!(s, "fail" | "off_track"));
    let errors = count(&|s| s == "error");
    let skipped = count(&|s| s == "no_data");
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"kpi {} {}\" tests=\"{tests}\" failures=\"{failures}\" errors=\"{errors}\" skipped=\"{skipped}\" time=\"0\">",
        esc(&r.pack.name),
        esc(&r.pack.version)
    );
    for g in &r.goals {
        let unit = r.unit_of(&g.kpi);
        let c = |pred: &dyn Fn(&str) -> bool| g.results.iter().filter(|x| pred(x.status)).count();
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"0\" timestamp=\"{}T00:00:00\">",
            esc(&g.id),
            g.results.len(),
            c(&|s| matches!(s, "fail" | "off_track")),
            c(&|s| s == "error"),
            c(&|s| s == "no_data"),
            esc(&r.as_of)
        );
        for x in &g.results {
            let name = format!("{} {}", group_text(&x.group), x.period);
            let value = format_value(x.value, &unit);
            let what = format!("{}: value {value} vs target {}", g.kpi, x.target);
            let _ =
                write!(out, "    <testcase classname=\"{}\" name=\"{}\" time=\"0\"", esc(&g.id), esc(&name));
            match x.status {
                "fail" | "off_track" => {
                    let msg = match x.projected {
                        Some(p) => format!("{what} (projected {} at the end)", format_value(Some(p), &unit)),
                        None => what,
                    };
                    let _ = writeln!(
                        out,
                        ">\n      <failure type=\"{}\" message=\"{}\"/>\n    </testcase>",
                        x.status,
                        esc(&msg)
                    );
                }
                "error" => {
                    let msg = x.message.clone().unwrap_or_else(|| "could not be evaluated".into());
                    let _ = writeln!(
                        out,
                        ">\n      <error type=\"error\" message=\"{}\"/>\n    </testcase>",
                        esc(&msg)
                    );
                }
                "no_data" => {
                    let _ = writeln!(
                        out,
                        ">\n      <skipped message=\"no data: no rows, or a null value\"/>\n    </testcase>"
                    );
                }
                "warn" | "at_risk" => {
                    let _ = writeln!(
                        out,
                        ">\n      <system-out>WARN: {} — {}</system-out>\n    </testcase>",
                        x.status,
                        esc(&what)
                    );
                }
                _ => {
                    let _ = writeln!(out, "/>");
                }
            }
        }
        let _ = writeln!(out, "  </testsuite>");
    }
    out.push_str("</testsuites>\n");
    out
}
