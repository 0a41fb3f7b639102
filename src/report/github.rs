//! GitHub Actions workflow commands: `::error` for a goal with a fail/off_track/error result,
//! `::warning` for one with warn/at_risk, each pointing at the goal's line in its YAML file.

use super::markdown::group_text;
use super::{format_value, Report};
use std::fmt::Write;

fn esc_data(s: &str) -> String {
    s.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

fn esc_prop(s: &str) -> String {
    esc_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// Renders the report as workflow commands: one annotation per goal that needs attention
/// (GitHub shows at most 10 errors and 10 warnings per step, so results are grouped), then a
/// summary notice.
pub fn render(r: &Report) -> String {
    let mut out = String::new();
    for g in &r.goals {
        let unit = r.unit_of(&g.kpi);
        let flagged: Vec<_> = g
            .results
            .iter()
            .filter(|x| matches!(x.status, "fail" | "off_track" | "error" | "warn" | "at_risk"))
            .collect();
        if flagged.is_empty() {
            continue;
        }
        let level = if flagged.iter().any(|x| matches!(x.status, "fail" | "off_track" | "error")) {
            "error"
        } else {
            "warning"
        };
        let mut props = String::new();
        if let Some(at) = &g.defined_at {
            let _ = write!(props, "file={},line={},", esc_prop(&at.file), at.line);
        }
        let _ = write!(props, "title={}", esc_prop(&format!("goal {} ({} {})", g.id, g.kpi, g.target)));
        let lines: Vec<String> = flagged
            .iter()
            .map(|x| {
                let mut l = format!(
                    "{}: {} is {} for {} in {}",
                    x.status,
                    g.kpi,
                    format_value(x.value, &unit),
                    group_text(&x.group),
                    x.period
                );
                if let Some(p) = x.projected {
                    l.push_str(&format!(", projected {} at the end", format_value(Some(p), &unit)));
                }
                l
            })
            .collect();
        let msg = format!("target {}\n{}", g.target, lines.join("\n"));
        let _ = writeln!(out, "::{level} {props}::{}", esc_data(&msg));
    }
    let parts: Vec<String> =
        r.summary.iter().filter(|(_, &n)| n > 0).map(|(k, n)| format!("{n} {k}")).collect();
    let _ = writeln!(out, "::notice title=kpi {}::{}", esc_prop(&r.pack.name), esc_data(&parts.join(", ")));
    out
}
