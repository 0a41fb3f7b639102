//! The time column: ISO dates on a hand-rolled fast path, RFC 3339 datetimes through jiff.

use crate::diagnostic::{Code, Diagnostic};
use jiff::tz::TimeZone;

// One implementation of the civil calendar arithmetic, shared with the bucketing.
use crate::calendar::days_in_month;
pub use crate::calendar::{civil_from_days, days_from_civil};

/// Parses exactly `YYYY-MM-DD` into days since 1970-01-01; `None` for anything else
/// (including impossible dates like `2026-02-30`).
pub fn parse_iso_date(b: &[u8]) -> Option<i32> {
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let digit = |i: usize| -> Option<u32> {
        let c = b[i].wrapping_sub(b'0');
        (c <= 9).then_some(c as u32)
    };
    let year = digit(0)? * 1000 + digit(1)? * 100 + digit(2)? * 10 + digit(3)?;
    let month = digit(5)? * 10 + digit(6)?;
    let day = digit(8)? * 10 + digit(9)?;
    let year = year as i32;
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return None;
    }
    Some(days_from_civil(year, month, day))
}

/// Why a time value was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeFault {
    /// The value is empty (or JSON null / missing).
    Empty,
    /// The value is neither an ISO date nor an RFC 3339 datetime.
    Invalid,
}

/// Turns time values into dates in one calendar zone.
#[derive(Debug, Clone)]
pub struct TimeParser {
    tz: TimeZone,
}

impl TimeParser {
    /// A parser converting instants to dates in the IANA zone `tz` (`None` = UTC).
    pub fn new(tz: Option<&str>) -> Result<TimeParser, Diagnostic> {
        let tz = match tz {
            None => TimeZone::UTC,
            Some(name) => TimeZone::get(name).map_err(|e| {
                Diagnostic::error(Code::InvalidValue, format!("unknown time zone `{name}`: {e}"))
                    .with_help("use an IANA time zone name such as `UTC` or `Europe/Berlin`")
            })?,
        };
        Ok(TimeParser { tz })
    }

    /// The date of a time value, in days since 1970-01-01.
    ///
    /// `2026-10-05` is that date. A datetime with an offset (`...Z`, `...+03:00`) is an
    /// instant: it is converted to the parser's zone and its date taken there. A datetime
    /// without an offset (`2026-10-05 13:45:00`) is already civil time: its date is taken
    /// as written.
    pub fn parse(&self, field: &[u8]) -> Result<i32, TimeFault> {
        let b = field.trim_ascii();
        if b.is_empty() {
            return Err(TimeFault::Empty);
        }
        if let Some(d) = parse_iso_date(b) {
            return Ok(d);
        }
        // Anything else must at least start like a date; this keeps free text away from jiff.
        if b.len() < 10 || !b[0].is_ascii_digit() {
            return Err(TimeFault::Invalid);
        }
        let s = std::str::from_utf8(b).map_err(|_| TimeFault::Invalid)?;
        let date = if let Ok(ts) = s.parse::<jiff::Timestamp>() {
            self.tz.to_datetime(ts).date()
        } else if let Ok(dt) = s.parse::<jiff::civil::DateTime>() {
            dt.date()
        } else {
            return Err(TimeFault::Invalid);
        };
        Ok(days_from_civil(date.year().into(), date.month() as u32, date.day() as u32))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> i32 {
        let d: jiff::civil::Date = s.parse().unwrap();
        days_from_civil(d.year().into(), d.month() as u32, d.day() as u32)
    }

    #[test]
    fn civil_round_trips() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(days_from_civil(1969, 12, 31), -1);
        for d in (-800_000..800_000).step_by(7) {
            let (y, m, dd) = civil_from_days(d);
            assert_eq!(days_from_civil(y, m, dd), d);
        }
    }

    #[test]
    fn fast_path_agrees_with_jiff() {
        let epoch = jiff::civil::date(1970, 1, 1);
        let mut d = jiff::civil::date(1899, 12, 25);
        while d.year() < 2101 {
            let s = d.to_string();
            let want = (d - epoch).get_days();
            assert_eq!(parse_iso_date(s.as_bytes()), Some(want), "{s}");
            d = d.tomorrow().unwrap();
        }
    }

    #[test]
    fn fast_path_rejects_impossible_dates() {
        for s in
            ["2026-02-29", "2026-13-01", "2026-00-10", "2026-04-31", "2026-1-05", "20261005", "2026/10/05"]
        {
            assert_eq!(parse_iso_date(s.as_bytes()), None, "{s}");
        }
        assert!(parse_iso_date(b"2024-02-29").is_some());
    }

    #[test]
    fn datetimes_take_their_date_in_the_zone() {
        let utc = TimeParser::new(None).unwrap();
        let berlin = TimeParser::new(Some("Europe/Berlin")).unwrap();
        let tokyo = TimeParser::new(Some("Asia/Tokyo")).unwrap();
        assert_eq!(utc.parse(b"2026-10-31T23:30:00-05:00"), Ok(day("2026-11-01")));
        assert_eq!(utc.parse(b"2026-10-05T13:45:00Z"), Ok(day("2026-10-05")));
        assert_eq!(berlin.parse(b"2026-03-29T00:30:00Z"), Ok(day("2026-03-29")));
        assert_eq!(berlin.parse(b"2026-03-28T23:30:00Z"), Ok(day("2026-03-29")));
        assert_eq!(tokyo.parse(b"2026-10-05T20:00:00+00:00"), Ok(day("2026-10-06")));
        assert_eq!(utc.parse(b"2026-10-05T01:00:00+03:00"), Ok(day("2026-10-04")));
        // No offset: civil time, its date as written, whatever the zone.
        assert_eq!(tokyo.parse(b"2026-10-05 23:45:00"), Ok(day("2026-10-05")));
        assert_eq!(tokyo.parse(b"2026-10-05T23:45:00"), Ok(day("2026-10-05")));
        assert_eq!(utc.parse(b" 2026-10-05 "), Ok(day("2026-10-05")));
    }

    #[test]
    fn bad_times() {
        let p = TimeParser::new(None).unwrap();
        assert_eq!(p.parse(b""), Err(TimeFault::Empty));
        assert_eq!(p.parse(b"  "), Err(TimeFault::Empty));
        for s in ["yesterday", "2026-02-30", "2026-10-05T25:00:00Z", "05/10/2026", "2026-10-05Tgarbage"] {
            assert_eq!(p.parse(s.as_bytes()), Err(TimeFault::Invalid), "{s}");
        }
        assert_eq!(p.parse(b"2026-10-05\xff\xfe"), Err(TimeFault::Invalid));
    }

    #[test]
    fn unknown_zone_is_an_error() {
        let e = TimeParser::new(Some("Europe/Berln")).unwrap_err();
        assert!(e.message.contains("Europe/Berln"));
    }
}
