//! GitHub-flavoured Markdown: fits a pull-request comment and `$GITHUB_STEP_SUMMARY`.
//! A summary line, then one table per goal, the goals with failing rows first and, within a
//! goal, the failing rows first.

use super::{format_short, GoalReport, Report, ResultRow};

use std::fmt::Write;

/// How bad a status is, worst first (for ordering).
pub fn severity(status: &str) -> u8 {
    match status {
        "fail" | "off_track" | "error" => 0,
        "warn" | "at_risk" => 1,
        "no_data" => 2,
        "on_track" => 3,
        _ => 4,
    }
}

/// The status with an emoji.
pub fn badge(status: &str) -> &'static str {
    match status {
        "pass" => "✅ pass",
        "warn" => "⚠️ warn",
        "fail" => "❌ fail",
        "no_data" => "⚪ no data",
        "error" => "❗ error",
        "on_track" => "🟢 on track",
        "at_risk" => "🟡 at risk",
        "off_track" => "🔴 off track",
        _ => "?",
    }
}

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// `channel=vk, campaign=c07`, or `all` for the empty group.
pub fn group_text(g: &std::collections::BTreeMap<String, Option<String>>) -> String {
    if g.is_empty() {
        return "all".into();
    }
    g.iter().map(|(k, v)| format!("{k}={}", v.as_deref().unwrap_or("null"))).collect::<Vec<_>>().join(", ")
}

fn worst(g: &GoalReport) -> u8 {
    g.results.iter().map(|r| severity(r.status)).min().unwrap_or(5)
}

/// Renders the report as Markdown.
pub fn render(r: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "## KPI report: {} {} (as of {})\n", r.pack.name, r.pack.version, r.as_of);
    let parts: Vec<String> = ["pass", "warn", "fail", "no_data", "error", "on_track", "at_risk", "off_track"]
        .iter()
        .filter_map(|s| r.summary.get(s).filter(|&&n| n > 0).map(|n| format!("{} **{n}**", badge(s))))
        .collect();
    let _ = writeln!(
        out,
        "{}\n",
        if parts.is_empty() { "No goal judged.".to_string() } else { parts.join(" · ") }
    );
    let mut goals: Vec<&GoalReport> = r.goals.iter().collect();
    goals.sort_by_key(|g| (worst(g), g.id.clone()));
    for g in goals {
        let unit = r.unit_of(&g.kpi);
        let status =
            g.results.iter().min_by_key(|x| severity(x.status)).map(|x| x.status).unwrap_or("no_data");
        let _ = writeln!(
            out,
            "### {} `{}` — {} `{}`\n",
            badge(status).split(' ').next().unwrap_or(""),
            g.id,
            g.kpi,
            g.target
        );
        if let Some(d) = &g.description {
            let _ = writeln!(out, "{}\n", cell(d));
        }
        if g.results.is_empty() {
            let _ = writeln!(out, "_Nothing to judge yet._\n");
            continue;
        }
        let _ = writeln!(out, "| status | group | period | value | target | projected |");
        let _ = writeln!(out, "|---|---|---|---:|---|---:|");
        let mut rows: Vec<&ResultRow> = g.results.iter().collect();
        rows.sort_by_key(|x| severity(x.status));
        for x in rows {
            let projected = x.projected.map(|p| format_short(Some(p), &unit)).unwrap_or_default();
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | `{}` | {} |",
                badge(x.status),
                cell(&group_text(&x.group)),
                x.period,
                format_short(x.value, &unit),
                cell(&x.target),
                projected
            );
        }
        let _ = writeln!(out);
    }
    for n in &r.notes {
        let _ = writeln!(out, "> note {}: {}", n.code, cell(&n.message));
    }
    out
}
