//! A self-contained HTML report: inline CSS and SVG only (no script, no font, no URL), a
//! summary, the goals with their statuses, and a line chart per KPI over its periods with
//! one line per group and the goal's threshold as a dashed line. Readable when printed.

use super::markdown::{group_text, severity};
use super::{format_short, KpiReport, Report};
use crate::check::Unit;
use std::collections::BTreeMap;
use std::fmt::Write;

const PALETTE: [&str; 8] =
    ["#2563eb", "#059669", "#d97706", "#7c3aed", "#db2777", "#0891b2", "#4b5563", "#65a30d"];

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

fn status_class(s: &str) -> &'static str {
    match s {
        "pass" | "on_track" => "ok",
        "warn" | "at_risk" => "warn",
        "fail" | "off_track" | "error" => "bad",
        _ => "none",
    }
}

const CSS: &str = "
:root{--ok:#15803d;--warn:#b45309;--bad:#b91c1c;--none:#6b7280;--line:#e5e7eb;--ink:#111827;--muted:#6b7280}
*{box-sizing:border-box}body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;color:var(--ink);margin:0;background:#f9fafb}
main{max-width:1100px;margin:0 auto;padding:32px 24px}h1{font-size:24px;margin:0 0 4px}h2{font-size:18px;margin:32px 0 12px}
.sub{color:var(--muted);margin:0 0 20px}.cards{display:flex;flex-wrap:wrap;gap:12px}
.card{background:#fff;border:1px solid var(--line);border-radius:10px;padding:12px 16px;min-width:110px}
.card b{display:block;font-size:22px;margin-bottom:4px}
table{border-collapse:collapse;width:100%;table-layout:fixed;background:#fff;border:1px solid var(--line);border-radius:10px;overflow:hidden;font-size:14px}
th,td{padding:7px 10px;border-bottom:1px solid var(--line);text-align:left}th{background:#f3f4f6;font-weight:600}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.pill{display:inline-block;padding:2px 8px;border-radius:999px;font-size:12px;font-weight:600;color:#fff}
.pill.ok{background:var(--ok)}.pill.warn{background:var(--warn)}.pill.bad{background:var(--bad)}.pill.none{background:var(--none)}
.goal{margin:18px 0}.goal h3{font-size:15px;margin:0 0 6px}.goal p{margin:0 0 8px;color:var(--muted);font-size:14px}
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(480px,1fr));gap:16px}
figure{margin:0;background:#fff;border:1px solid var(--line);border-radius:10px;padding:12px}
figcaption{font-weight:600;font-size:14px;margin-bottom:6px}figcaption small{color:var(--muted);font-weight:400}
.legend{display:flex;flex-wrap:wrap;gap:10px;font-size:12px;color:var(--muted);margin-top:4px}.legend i{display:inline-block;width:10px;height:3px;margin-right:4px;vertical-align:middle}
@media print{body{background:#fff}main{padding:0}.charts{grid-template-columns:1fr 1fr}figure,.goal,table{break-inside:avoid}}
";

fn chart(k: &KpiReport, thresholds: &[f64]) -> String {
    let unit = Unit::parse(k.unit.as_deref().unwrap_or(""));
    let mut periods: Vec<&str> = k.values.iter().map(|v| v.period.as_str()).collect();
    periods.sort_unstable();
    periods.dedup();
    let mut series: BTreeMap<String, Vec<(usize, f64)>> = BTreeMap::new();
    for v in &k.values {
        let i = periods.iter().position(|p| *p == v.period).unwrap_or(0);
        let entry = series.entry(group_text(&v.group)).or_default();
        if let Some(x) = v.value {
            entry.push((i, x));
        }
    }
    let vals = series.values().flatten().map(|(_, x)| *x).chain(thresholds.iter().copied());
    let (mut lo, mut hi) = vals.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| (a.min(x), b.max(x)));
    if !lo.is_finite() {
        return "<p class=\"sub\">No values.</p>".into();
    }
    if lo > 0.0 && lo < hi * 0.5 {
        lo = 0.0;
    }
    if hi == lo {
        hi = lo + 1.0;
    }
    let (w, h, left, right, top, bottom) = (480.0, 220.0, 64.0, 30.0, 10.0, 28.0);
    // Axis labels keep decimals that a table cell would round away (counts of 1.5).
    let axis_unit = if unit == Unit::Count { Unit::None } else { unit.clone() };
    let x = |i: usize| {
        left + (w - left - right)
            * if periods.len() > 1 { i as f64 / (periods.len() - 1) as f64 } else { 0.5 }
    };
    let y = |v: f64| top + (h - top - bottom) * (1.0 - (v - lo) / (hi - lo));
    let mut s = format!(
        "<svg viewBox=\"0 0 {w} {h}\" width=\"100%\" role=\"img\" aria-label=\"{} over time\">",
        esc(&k.name)
    );
    for t in 0..=4 {
        let v = lo + (hi - lo) * t as f64 / 4.0;
        let _ = write!(
            s,
            "<line x1=\"{left}\" x2=\"{}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#e5e7eb\"/><text x=\"{}\" y=\"{:.1}\" font-size=\"10\" text-anchor=\"end\" fill=\"#6b7280\">{}</text>",
            w - right,
            left - 6.0,
            y(v) + 3.0,
            esc(&format_short(Some(v), &axis_unit)),
            y = y(v)
        );
    }
    let step = (periods.len() / 6).max(1);
    for (i, p) in periods.iter().enumerate().filter(|(i, _)| i % step == 0) {
        let _ = write!(
            s,
            "<text x=\"{:.1}\" y=\"{}\" font-size=\"10\" text-anchor=\"middle\" fill=\"#6b7280\">{}</text>",
            x(i),
            h - 8.0,
            esc(p)
        );
    }
    for t in thresholds {
        let _ = write!(s, "<line x1=\"{left}\" x2=\"{}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#b91c1c\" stroke-dasharray=\"5 4\"/>", w - right, y = y(*t));
    }
    for (n, pts) in series.values().enumerate() {
        let color = PALETTE[n % PALETTE.len()];
        let d: Vec<String> = pts.iter().map(|(i, v)| format!("{:.1},{:.1}", x(*i), y(*v))).collect();
        let _ = write!(
            s,
            "<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"2\" points=\"{}\"/>",
            d.join(" ")
        );
        for (i, v) in pts {
            let _ = write!(s, "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"2.5\" fill=\"{color}\"/>", x(*i), y(*v));
        }
    }
    s.push_str("</svg><div class=\"legend\">");
    for (n, g) in series.keys().enumerate() {
        let _ =
            write!(s, "<span><i style=\"background:{}\"></i>{}</span>", PALETTE[n % PALETTE.len()], esc(g));
    }
    if !thresholds.is_empty() {
        s.push_str("<span><i style=\"background:#b91c1c\"></i>goal threshold</span>");
    }
    s.push_str("</div>");
    s
}

/// Renders the report as one self-contained HTML page.
pub fn render(r: &Report) -> String {
    let mut o = String::new();
    let _ = write!(
        o,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><title>KPI report: {} {}</title><style>{CSS}</style></head><body><main>",
        esc(&r.pack.name),
        esc(&r.pack.version)
    );
    let _ = write!(
        o,
        "<h1>KPI report: {} {}</h1><p class=\"sub\">As of {}</p><div class=\"cards\">",
        esc(&r.pack.name),
        esc(&r.pack.version),
        esc(&r.as_of)
    );
    for status in ["pass", "warn", "fail", "no_data", "error", "on_track", "at_risk", "off_track"] {
        let n = r.summary.get(status).copied().unwrap_or(0);
        if n > 0 {
            let _ = write!(
                o,
                "<div class=\"card\"><b>{n}</b><span class=\"pill {}\">{}</span></div>",
                status_class(status),
                status.replace('_', " ")
            );
        }
    }
    o.push_str("</div><h2>Goals</h2>");
    let mut goals: Vec<_> = r.goals.iter().collect();
    goals.sort_by_key(|g| (g.results.iter().map(|x| severity(x.status)).min().unwrap_or(5), g.id.clone()));
    for g in goals {
        let unit = r.unit_of(&g.kpi);
        let _ = write!(
            o,
            "<section class=\"goal\"><h3>{} — {} <code>{}</code></h3>",
            esc(&g.id),
            esc(&g.kpi),
            esc(&g.target)
        );
        if let Some(d) = &g.description {
            let _ = write!(o, "<p>{}</p>", esc(d));
        }
        o.push_str("<table><thead><tr><th>Status</th><th>Group</th><th>Period</th><th>Value</th><th>Projected</th></tr></thead><tbody>");
        let mut rows: Vec<_> = g.results.iter().collect();
        rows.sort_by_key(|x| severity(x.status));
        for x in rows {
            let _ = write!(
                o,
                "<tr><td><span class=\"pill {}\">{}</span></td><td>{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
                status_class(x.status),
                x.status.replace('_', " "),
                esc(&group_text(&x.group)),
                esc(&x.period),
                esc(&format_short(x.value, &unit)),
                x.projected.map(|p| esc(&format_short(Some(p), &unit))).unwrap_or_default()
            );
        }
        if g.results.is_empty() {
            o.push_str("<tr><td colspan=\"5\">Nothing to judge yet.</td></tr>");
        }
        o.push_str("</tbody></table></section>");
    }
    o.push_str("<h2>KPIs</h2><div class=\"charts\">");
    for k in &r.kpis {
        let mut thresholds: Vec<f64> = r
            .goals
            .iter()
            .filter(|g| g.kpi == k.id && g.window.is_some() && g.each.is_some())
            .flat_map(|g| g.results.iter().filter_map(|x| x.threshold))
            .collect();
        thresholds.sort_by(|a, b| a.total_cmp(b));
        thresholds.dedup();
        let by = if k.by.is_empty() { String::new() } else { format!(" by {}", k.by.join(", ")) };
        let _ = write!(
            o,
            "<figure><figcaption>{} <small>{}{}, per {}</small></figcaption>{}</figure>",
            esc(&k.name),
            esc(&k.id),
            esc(&by),
            k.grain,
            chart(k, &thresholds)
        );
    }
    o.push_str("</div>");
    for n in &r.notes {
        let _ = write!(o, "<p class=\"sub\">Note {}: {}</p>", esc(&n.code), esc(&n.message));
    }
    o.push_str("</main></body></html>\n");
    o
}
