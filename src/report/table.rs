//! The table report for a terminal: KPIs pivoted by period, goals with status.

use super::{format_short, Report};
use crate::check::Unit;
use std::fmt::Write;

/// The width the table fits in.
pub const WIDTH: usize = 100;
const LABEL: usize = 26;
const CELL: usize = 11;

fn fit(s: &str, w: usize) -> String {
    let n = s.chars().count();
    if n <= w {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(w.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

fn pad_left(s: &str, w: usize) -> String {
    let n = s.chars().count();
    format!("{}{}", " ".repeat(w.saturating_sub(n)), s)
}

fn pad_right(s: &str, w: usize) -> String {
    let n = s.chars().count();
    format!("{}{}", s, " ".repeat(w.saturating_sub(n)))
}

fn paint(s: &str, status: &str, color: bool) -> String {
    if !color {
        return s.to_string();
    }
    let code = match status {
        "pass" | "on_track" => "32",
        "warn" | "at_risk" => "33",
        "fail" | "off_track" | "error" => "31",
        _ => "90",
    };
    format!("\x1b[{code}m{s}\x1b[0m")
}

fn group_label(g: &std::collections::BTreeMap<String, Option<String>>) -> String {
    if g.is_empty() {
        return "(all)".to_string();
    }
    g.values().map(|v| v.clone().unwrap_or_else(|| "(null)".into())).collect::<Vec<_>>().join(" · ")
}

/// Renders the report as a table that fits [`WIDTH`] columns; `color` adds ANSI colours.
pub fn render(r: &Report, color: bool) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{} {} · as of {}", r.pack.name, r.pack.version, r.as_of);
    let max_periods = (WIDTH - LABEL) / CELL;
    if !r.kpis.is_empty() {
        let _ = writeln!(out, "\nKPIs");
    }
    for k in &r.kpis {
        let unit = Unit::parse(k.unit.as_deref().unwrap_or(""));
        let by = if k.by.is_empty() { String::new() } else { format!(" by {}", k.by.join(", ")) };
        let _ = writeln!(out, "\n  {} — {}{}, per {}", k.id, fit(&k.name, 50), by, k.grain);
        let mut periods: Vec<&str> = k.values.iter().map(|v| v.period.as_str()).collect();
        periods.sort_unstable();
        periods.dedup();
        if periods.is_empty() {
            let _ = writeln!(out, "    (no data)");
            continue;
        }
        let shown: Vec<&str> = periods[periods.len().saturating_sub(max_periods)..].to_vec();
        let mut header = " ".repeat(LABEL);
        for p in &shown {
            header.push_str(&pad_left(p, CELL));
        }
        let _ = writeln!(out, "{}", header.trim_end());
        let mut groups: Vec<String> = Vec::new();
        for v in &k.values {
            let g = group_label(&v.group);
            // Groups with no value in the periods shown would print an empty row.
            if !groups.contains(&g) && shown.contains(&v.period.as_str()) {
                groups.push(g);
            }
        }
        for g in &groups {
            let mut line = pad_right(&format!("    {}", fit(g, LABEL - 5)), LABEL);
            for p in &shown {
                let cell = k
                    .values
                    .iter()
                    .find(|v| group_label(&v.group) == *g && v.period == *p)
                    .map(|v| {
                        let s = format_short(v.value, &unit);
                        if v.partial {
                            format!("{s}*")
                        } else {
                            s
                        }
                    })
                    .unwrap_or_default();
                line.push_str(&pad_left(&fit(&cell, CELL - 1), CELL));
            }
            let _ = writeln!(out, "{}", line.trim_end());
        }
        if shown.len() < periods.len() {
            let _ = writeln!(
                out,
                "    (last {} of {} periods; --from/--to or --format json for all)",
                shown.len(),
                periods.len()
            );
        }
    }
    if r.kpis.iter().any(|k| k.values.iter().any(|v| v.partial)) {
        let _ = writeln!(out, "\n  * period not finished at {}", r.as_of);
    }
    if !r.goals.is_empty() {
        let _ = writeln!(out, "\nGoals");
    }
    for g in &r.goals {
        let unit = r.unit_of(&g.kpi);
        let s = &g.smart;
        let letter =
            |l: &str, v: &str| if v == "ok" { l.to_string() } else { format!("{}?", l.to_lowercase()) };
        let smart = format!(
            "{}{}{}{}{}",
            letter("S", &s.specific),
            letter("M", &s.measurable),
            if s.achievable == "ok" || s.achievable == "stretch" { "A".to_string() } else { "a?".into() },
            letter("R", &s.relevant),
            letter("T", &s.time_bound)
        );
        let _ = writeln!(out, "\n  {} — {} {} [SMART {}]", g.id, g.kpi, g.target, smart);
        if let Some(d) = &g.description {
            let _ = writeln!(out, "    {}", fit(d, WIDTH - 4));
        }
        for res in &g.results {
            let status = paint(&pad_right(res.status, 10), res.status, color);
            let value = format_short(res.value, &unit);
            let line = format!(
                "    {} {} {} {}",
                status,
                pad_right(&fit(&group_label(&res.group), 20), 20),
                pad_right(&fit(&res.period, 22), 22),
                pad_left(&value, 11)
            );
            let _ = writeln!(out, "{}", line.trim_end());
            if let (Some(p), Some(e)) = (res.projected, res.expected_progress) {
                let mut pace = format!("      projected {} at the end", format_short(Some(p), &unit));
                if let Some(pr) = res.progress {
                    let filled = (pr.clamp(0.0, 1.0) * 10.0).round() as usize;
                    let bar = format!("{}{}", "█".repeat(filled), "░".repeat(10 - filled));
                    let _ = write!(pace, " · [{bar}] {:.0}% of the way", pr * 100.0);
                }
                let _ = write!(pace, " · {:.0}% of the time gone", e * 100.0);
                let _ = writeln!(out, "{pace}");
            }
        }
        if g.results.is_empty() {
            let _ = writeln!(out, "    (no period started by {}, or none in the periods selected)", r.as_of);
        }
    }
    let _ = writeln!(out);
    let parts: Vec<String> =
        r.summary.iter().filter(|(_, &n)| n > 0).map(|(k, n)| format!("{n} {k}")).collect();
    let _ = writeln!(
        out,
        "Summary: {}",
        if parts.is_empty() { "no goals judged".to_string() } else { parts.join(", ") }
    );
    for n in &r.notes {
        let _ = writeln!(out, "note[{}]: {}", n.code, n.message);
    }
    out
}
