//! Reading and writing literal values: numbers, strings, dates.

use super::ast::Span;
use super::error::SyntaxError;
use crate::calendar::{civil_from_days, days_from_civil, days_in_month};
use crate::diagnostic::Code;

/// Reads a number as matched by the grammar (underscores allowed, no sign). `at` is where the
/// text starts in the formula.
pub(crate) fn number(text: &str, at: usize) -> Result<f64, SyntaxError> {
    let span = Span::new(at, at + text.len());
    let clean: String = text.chars().filter(|&c| c != '_').collect();
    match clean.parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(v),
        _ => Err(SyntaxError::new(Code::InvalidLiteral, span, format!("the number `{text}` is too large"))
            .with_help("numbers are 64-bit floats: at most about 1.8e308")),
    }
}

/// Resolves the escapes of a quoted string (quotes included in `text`).
pub(crate) fn string(text: &str, at: usize) -> Result<String, SyntaxError> {
    let quote = text.chars().next().unwrap_or('"');
    let inner = text.get(1..text.len().saturating_sub(1)).unwrap_or("");
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.char_indices();
    while let Some((i, c)) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some((_, e)) if e == '\\' || e == quote || e == '"' || e == '\'' => out.push(e),
            Some((_, 'n')) => out.push('\n'),
            Some((_, 't')) => out.push('\t'),
            Some((j, e)) => {
                let start = at + 1 + i;
                let end = at + 1 + j + e.len_utf8();
                return Err(SyntaxError::new(
                    Code::InvalidLiteral,
                    Span::new(start, end),
                    format!("unknown escape `\\{e}` in a string"),
                )
                .with_help("the escapes are `\\\"`, `\\'`, `\\\\`, `\\n` and `\\t`"));
            }
            None => out.push('\\'),
        }
    }
    Ok(out)
}

/// Writes a string as a double-quoted literal that [`string`] reads back.
pub(crate) fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            _ => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Writes a number so that it reads back exactly (shortest round-trip form).
pub(crate) fn format_number(v: f64) -> String {
    // `{:?}` is the shortest text that parses back to the same f64, with an exponent for very
    // large or small values (`1e300`, `1e-7`), which the grammar accepts.
    // Integers below 1e16 print without `.0`.
    let debug = format!("{v:?}");
    if debug.contains('e') {
        debug
    } else {
        format!("{v}")
    }
}

/// Reads `YYYY-MM-DD` into days since 1970-01-01, or `None` when it is not a real date.
pub(crate) fn date(s: &str) -> Option<i32> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let digits = |r: std::ops::Range<usize>| -> Option<i64> {
        let part = s.get(r)?;
        if !part.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        part.parse().ok()
    };
    let (y, m, d) = (digits(0..4)?, digits(5..7)?, digits(8..10)?);
    let (y, m, d): (i64, i64, i64) = (y, m, d);
    if !(1..=12).contains(&m) || d < 1 || d > i64::from(days_in_month(y as i32, m as u32)) {
        return None;
    }
    Some(days_from_civil(y as i32, m as u32, d as u32))
}

/// Writes days since 1970-01-01 as `YYYY-MM-DD` (years outside 0..=9999 as signed numbers).
pub(crate) fn format_date(days: i32) -> String {
    let (y, m, d) = civil_from_days(days);
    if (0..=9999).contains(&y) {
        format!("{y:04}-{m:02}-{d:02}")
    } else {
        format!("{y}-{m:02}-{d:02}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_round_trip() {
        assert_eq!(date("1970-01-01"), Some(0));
        assert_eq!(date("2026-10-01"), Some(20_727));
        assert_eq!(date("2024-02-29"), Some(19_782));
        assert_eq!(date("2026-02-29"), None);
        assert_eq!(date("2026-13-01"), None);
        assert_eq!(date("2026-1-01"), None);
        assert_eq!(date("+026-10-01"), None);
        for d in [-800_000, -1, 0, 1, 20_727, 2_000_000] {
            assert_eq!(date(&format_date(d)).unwrap_or(d), d);
        }
        assert_eq!(format_date(20_727), "2026-10-01");
    }

    #[test]
    fn strings_unescape() {
        assert_eq!(string(r#""a\"b\\c""#, 0).ok().as_deref(), Some("a\"b\\c"));
        assert_eq!(string(r"'it\'s'", 0).ok().as_deref(), Some("it's"));
        let e = string(r#""a\qb""#, 10).err().map(|e| e.span);
        assert_eq!(e, Some(Span::new(12, 14)));
    }
}
