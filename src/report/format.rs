//! Formatting values for people: 4.53%, $1,204.10, 12.4k.

use crate::check::Unit;

/// Groups the integer digits of a formatted number with commas.
fn group_thousands(s: &str) -> String {
    let (sign, rest) = s.strip_prefix('-').map_or(("", s), |r| ("-", r));
    let (int, frac) = rest.split_once('.').map_or((rest, None), |(a, b)| (a, Some(b)));
    let mut out = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    match frac {
        Some(f) => format!("{sign}{out}.{f}"),
        None => format!("{sign}{out}"),
    }
}

/// A compact count: 950, 12.4k, 3.1M.
fn compact(v: f64) -> String {
    let a = v.abs();
    if a >= 1e9 {
        format!("{:.1}B", v / 1e9)
    } else if a >= 1e6 {
        format!("{:.1}M", v / 1e6)
    } else if a >= 1e4 {
        format!("{:.1}k", v / 1e3)
    } else if v.fract() == 0.0 {
        group_thousands(&format!("{v:.0}"))
    } else {
        group_thousands(&format!("{v:.2}"))
    }
}

/// Formats a value in its unit, short enough for a table cell (money over 10,000 is
/// abbreviated: $121.3k).
pub fn format_short(v: Option<f64>, unit: &Unit) -> String {
    match (v, unit) {
        (Some(x), Unit::Currency(_)) if x.abs() >= 1e4 => {
            let full = format_value(Some(1.0), unit);
            let c = compact(x.abs());
            let sign = if x < 0.0 { "-" } else { "" };
            match full.strip_suffix("1.00") {
                Some(sym) if !sym.is_empty() => format!("{sign}{sym}{c}"),
                _ => format!("{sign}{c}{}", full.trim_start_matches("1.00")),
            }
        }
        _ => format_value(v, unit),
    }
}

/// Formats a value in its unit; `—` for null.
pub fn format_value(v: Option<f64>, unit: &Unit) -> String {
    let Some(v) = v else { return "—".to_string() };
    match unit {
        Unit::Percent => format!("{:.2}%", v * 100.0),
        Unit::Currency(c) => {
            let sym = match c.as_str() {
                "USD" => "$",
                "EUR" => "€",
                "GBP" => "£",
                "JPY" => "¥",
                "RUB" => "₽",
                _ => "",
            };
            let body = group_thousands(&format!("{:.2}", v.abs()));
            let sign = if v < 0.0 { "-" } else { "" };
            if sym.is_empty() {
                format!("{sign}{body} {c}")
            } else {
                format!("{sign}{sym}{body}")
            }
        }
        Unit::Count => compact(v.round()),
        Unit::Seconds => {
            if v.abs() >= 3600.0 {
                format!("{:.1}h", v / 3600.0)
            } else if v.abs() >= 60.0 {
                format!("{:.1}m", v / 60.0)
            } else {
                format!("{v:.1}s")
            }
        }
        Unit::Ratio => format!("{v:.3}"),
        Unit::Other(u) => format!("{} {u}", compact(v)),
        Unit::None => compact(v),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_units() {
        assert_eq!(format_value(Some(0.0453), &Unit::Percent), "4.53%");
        assert_eq!(format_value(Some(1204.1), &Unit::Currency("USD".into())), "$1,204.10");
        assert_eq!(format_value(Some(12400.0), &Unit::Count), "12.4k");
        assert_eq!(format_value(Some(950.0), &Unit::Count), "950");
        assert_eq!(format_value(None, &Unit::Count), "—");
        assert_eq!(format_value(Some(-1234567.0), &Unit::Currency("EUR".into())), "-€1,234,567.00");
        assert_eq!(format_short(Some(121287.4), &Unit::Currency("USD".into())), "$121.3k");
        assert_eq!(format_short(Some(121287.4), &Unit::Currency("CHF".into())), "121.3k CHF");
        assert_eq!(format_short(Some(12.5), &Unit::Currency("USD".into())), "$12.50");
    }
}
