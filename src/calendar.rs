//! Dates as day numbers, grains and period labels.
//!
//! A date is an `i32`: days since 1970-01-01 (which was a Thursday). A period is an `i32`
//! key within its grain: the day number for `day`, the Monday's day number / 7 for ISO
//! `week`, `year * 12 + month - 1` for `month`, `year * 4 + quarter - 1` for `quarter`,
//! the year for `year`. Conversions are pure arithmetic (no allocation): they run per row.

/// A calendar grain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Grain {
    /// A calendar day.
    Day,
    /// An ISO week (Monday to Sunday).
    Week,
    /// A calendar month.
    Month,
    /// A calendar quarter.
    Quarter,
    /// A calendar year.
    Year,
}

impl Grain {
    /// Every grain, finest first.
    pub const ALL: [Grain; 5] = [Grain::Day, Grain::Week, Grain::Month, Grain::Quarter, Grain::Year];

    /// Parses `day`, `week`, `month`, `quarter`, `year`.
    pub fn parse(s: &str) -> Option<Grain> {
        match s.trim() {
            "day" | "daily" => Some(Grain::Day),
            "week" | "weekly" => Some(Grain::Week),
            "month" | "monthly" => Some(Grain::Month),
            "quarter" | "quarterly" => Some(Grain::Quarter),
            "year" | "yearly" => Some(Grain::Year),
            _ => None,
        }
    }

    /// The grain's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Grain::Day => "day",
            Grain::Week => "week",
            Grain::Month => "month",
            Grain::Quarter => "quarter",
            Grain::Year => "year",
        }
    }

    /// The period containing `day`.
    #[inline]
    pub fn period_of(self, day: i32) -> i32 {
        match self {
            Grain::Day => day,
            Grain::Week => (day + 3).div_euclid(7),
            Grain::Month => {
                let (y, m, _) = civil_from_days(day);
                y * 12 + m as i32 - 1
            }
            Grain::Quarter => {
                let (y, m, _) = civil_from_days(day);
                y * 4 + (m as i32 - 1) / 3
            }
            Grain::Year => civil_from_days(day).0,
        }
    }

    /// The first day of period `p`.
    pub fn start(self, p: i32) -> i32 {
        match self {
            Grain::Day => p,
            Grain::Week => p * 7 - 3,
            Grain::Month => days_from_civil(p.div_euclid(12), (p.rem_euclid(12) + 1) as u32, 1),
            Grain::Quarter => days_from_civil(p.div_euclid(4), (p.rem_euclid(4) * 3 + 1) as u32, 1),
            Grain::Year => days_from_civil(p, 1, 1),
        }
    }

    /// The last day of period `p`.
    pub fn end(self, p: i32) -> i32 {
        self.start(p + 1) - 1
    }

    /// The label of period `p`: `2026-10-05`, `2026-W41`, `2026-10`, `2026-Q4`, `2026`.
    pub fn label(self, p: i32) -> String {
        match self {
            Grain::Day => format_date(p),
            Grain::Week => {
                let thursday = p * 7;
                let (y, _, _) = civil_from_days(thursday);
                let week = (thursday - days_from_civil(y, 1, 1)) / 7 + 1;
                format!("{y}-W{week:02}")
            }
            Grain::Month => format!("{}-{:02}", p.div_euclid(12), p.rem_euclid(12) + 1),
            Grain::Quarter => format!("{}-Q{}", p.div_euclid(4), p.rem_euclid(4) + 1),
            Grain::Year => format!("{p}"),
        }
    }

    /// Whether every period of `self` lies within one period of `coarser`.
    pub fn nests_in(self, coarser: Grain) -> bool {
        match (self, coarser) {
            (a, b) if a == b => true,
            (Grain::Day, _) => true,
            (Grain::Week, _) => false,
            (Grain::Month, Grain::Quarter | Grain::Year) => true,
            (Grain::Quarter, Grain::Year) => true,
            _ => false,
        }
    }
}

/// A pack's calendar (`calendar:` in pack.yaml): where weeks start, where fiscal years start,
/// and the time zone datetimes are converted to before bucketing. The default (Monday, January,
/// UTC) is the ISO calendar of [`Grain`]; every method then gives exactly what `Grain` gives.
///
/// - `week_start`: a week runs from that weekday for seven days. Its label is the ISO week
///   `YYYY-Www` that holds most of its days (the ISO week of its fourth day), so a Sunday week
///   Sun 2026-12-27..Sat 2027-01-02 is `2026-W53`, like the ISO week starting the next day.
/// - `fiscal_year_start`: quarters and years start at that month. A fiscal year is named after
///   the calendar year it ENDS in (FY2027 runs 2026-04-01..2027-03-31 with an April start, as
///   the US federal government, Apple or Microsoft name theirs); quarter labels are
///   `2027-FQ1`, year labels `FY2027`. A January start is the calendar year (plain labels).
/// - `timezone`: an IANA zone name; the readers convert datetimes to it before taking the date.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Calendar {
    /// First day of a week: 0 = Monday ... 6 = Sunday.
    pub week_start: u32,
    /// First month of a fiscal year minus one: 0 = January ... 11 = December.
    pub fiscal_offset: u32,
    /// IANA time zone; None = UTC.
    pub timezone: Option<String>,
}

/// Weekday names, Monday first.
pub const WEEKDAYS: [&str; 7] =
    ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"];

/// Month names, January first.
pub const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

/// Parses a weekday name (`monday`, `Mon`, ...): 0 = Monday ... 6 = Sunday.
pub fn parse_weekday(s: &str) -> Option<u32> {
    let s = s.trim().to_ascii_lowercase();
    (s.len() >= 3).then(|| WEEKDAYS.iter().position(|w| w.starts_with(&s)).map(|i| i as u32)).flatten()
}

/// Parses a month name (`april`, `Apr`) or number (`4`): 0 = January ... 11 = December.
pub fn parse_month(s: &str) -> Option<u32> {
    let s = s.trim().to_ascii_lowercase();
    if let Ok(n) = s.parse::<u32>() {
        return (1..=12).contains(&n).then(|| n - 1);
    }
    (s.len() >= 3).then(|| MONTHS.iter().position(|m| m.starts_with(&s)).map(|i| i as u32)).flatten()
}

impl Calendar {
    fn fiscal(&self, g: Grain) -> bool {
        self.fiscal_offset != 0 && matches!(g, Grain::Quarter | Grain::Year)
    }

    /// The period of grain `g` containing `day`.
    #[inline]
    pub fn period_of(&self, g: Grain, day: i32) -> i32 {
        match g {
            Grain::Week if self.week_start != 0 => (day + 3 - self.week_start as i32).div_euclid(7),
            _ if self.fiscal(g) => {
                let (y, m, _) = civil_from_days(day);
                let fm = y * 12 + m as i32 - 1 - self.fiscal_offset as i32;
                if g == Grain::Quarter {
                    fm.div_euclid(3)
                } else {
                    fm.div_euclid(12)
                }
            }
            _ => g.period_of(day),
        }
    }

    /// The first day of period `p` of grain `g`.
    pub fn start(&self, g: Grain, p: i32) -> i32 {
        match g {
            Grain::Week if self.week_start != 0 => p * 7 - 3 + self.week_start as i32,
            _ if self.fiscal(g) => {
                let fm = if g == Grain::Quarter { p * 3 } else { p * 12 } + self.fiscal_offset as i32;
                days_from_civil(fm.div_euclid(12), (fm.rem_euclid(12) + 1) as u32, 1)
            }
            _ => g.start(p),
        }
    }

    /// The last day of period `p` of grain `g`.
    pub fn end(&self, g: Grain, p: i32) -> i32 {
        self.start(g, p + 1) - 1
    }

    /// Parses a window or period label in this calendar: what [`DateRange::parse`] reads, with
    /// weeks starting on `week_start` (`2026-W53` is the week labelled so), and with a fiscal
    /// start also `2027-FQ1` and `FY2027` (`2026-Q1` and `2026` stay calendar quarters and
    /// years); `A..B` spans from A's start to B's end.
    pub fn parse_range(&self, s: &str) -> Option<DateRange> {
        let s = s.trim();
        if let Some((a, b)) = s.split_once("..") {
            let (a, b) = (self.parse_range(a)?, self.parse_range(b)?);
            return (a.start <= b.end).then_some(DateRange { start: a.start, end: b.end });
        }
        let range = |g: Grain, p: i32| Some(DateRange { start: self.start(g, p), end: self.end(g, p) });
        let year = |t: &str| -> Option<i32> {
            (t.len() == 4 && t.bytes().all(|c| c.is_ascii_digit())).then(|| t.parse().ok()).flatten()
        };
        if self.fiscal_offset != 0 {
            if let Some(y) = s.strip_prefix("FY").and_then(year) {
                return range(Grain::Year, y - 1);
            }
            if let Some((y, q)) = s.split_once("-FQ") {
                let q: i32 = q.parse().ok().filter(|q| (1..=4).contains(q))?;
                return range(Grain::Quarter, (year(y)? - 1) * 4 + q - 1);
            }
        }
        match parse_period(s) {
            Some((Grain::Week, iso)) if self.week_start != 0 => {
                // The week whose fourth day lies in ISO week `iso`.
                let monday = Grain::Week.start(iso);
                let start = monday + (self.week_start as i32 + 3) % 7 - 3;
                range(Grain::Week, self.period_of(Grain::Week, start))
            }
            // Plain labels are calendar periods, also in a fiscal calendar.
            Some((g, p)) => Some(DateRange { start: g.start(p), end: g.end(p) }),
            None => None,
        }
    }

    /// The label of period `p` of grain `g` (see [`Calendar`] for weeks and fiscal years).
    pub fn label(&self, g: Grain, p: i32) -> String {
        match g {
            Grain::Week if self.week_start != 0 => {
                let fourth = self.start(g, p) + 3;
                Grain::Week.label(Grain::Week.period_of(fourth))
            }
            Grain::Quarter if self.fiscal(g) => {
                // p counts fiscal quarters; the fiscal year of p is named after its end.
                format!("{}-FQ{}", p.div_euclid(4) + 1, p.rem_euclid(4) + 1)
            }
            Grain::Year if self.fiscal(g) => format!("FY{}", p + 1),
            _ => g.label(p),
        }
    }
}

/// Days since 1970-01-01 of a civil date (proleptic Gregorian). From H. Hinnant's
/// `days_from_civil`.
#[inline]
pub fn days_from_civil(y: i32, m: u32, d: u32) -> i32 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy as i32;
    era * 146_097 + doe - 719_468
}

/// The civil date (year, month, day) of a day number.
#[inline]
pub fn civil_from_days(z: i32) -> (i32, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Days in a month.
pub fn days_in_month(y: i32, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        _ => 28,
    }
}

/// Parses an ISO date `YYYY-MM-DD` strictly.
pub fn parse_date(s: &str) -> Option<i32> {
    let b = s.trim().as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let num = |r: &[u8]| -> Option<u32> {
        r.iter().try_fold(0u32, |a, &c| c.is_ascii_digit().then(|| a * 10 + (c - b'0') as u32))
    };
    let (y, m, d) = (num(&b[0..4])? as i32, num(&b[5..7])?, num(&b[8..10])?);
    if !(1..=12).contains(&m) || d == 0 || d > days_in_month(y, m) {
        return None;
    }
    Some(days_from_civil(y, m, d))
}

/// Formats a day number as `YYYY-MM-DD`.
pub fn format_date(day: i32) -> String {
    let (y, m, d) = civil_from_days(day);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Today's date in UTC.
pub fn today() -> i32 {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    (secs / 86_400) as i32
}

/// A range of days, both ends included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DateRange {
    /// First day.
    pub start: i32,
    /// Last day.
    pub end: i32,
}

impl DateRange {
    /// The label `START..END`.
    pub fn label(&self) -> String {
        format!("{}..{}", format_date(self.start), format_date(self.end))
    }

    /// Number of days.
    pub fn days(&self) -> i32 {
        self.end - self.start + 1
    }

    /// Parses a window: `2026-10-01..2026-12-31`, `2026-Q4`, `2026-10`, `2026-W41`,
    /// `2026-10-05`, `2026`.
    pub fn parse(s: &str) -> Option<DateRange> {
        let s = s.trim();
        if let Some((a, b)) = s.split_once("..") {
            let a = DateRange::parse(a)?;
            let b = DateRange::parse(b)?;
            return (a.start <= b.end).then_some(DateRange { start: a.start, end: b.end });
        }
        let (g, p) = parse_period(s)?;
        Some(DateRange { start: g.start(p), end: g.end(p) })
    }
}

/// Parses a period label into its grain and key: `2026-10-05`, `2026-W41`, `2026-10`,
/// `2026-Q4`, `2026`.
pub fn parse_period(s: &str) -> Option<(Grain, i32)> {
    let s = s.trim();
    if let Some(d) = parse_date(s) {
        return Some((Grain::Day, d));
    }
    let year = |t: &str| -> Option<i32> {
        (t.len() == 4 && t.bytes().all(|c| c.is_ascii_digit())).then(|| t.parse().ok()).flatten()
    };
    if let Some(y) = year(s) {
        return Some((Grain::Year, y));
    }
    let (y, rest) = s.split_once('-')?;
    let y = year(y)?;
    if let Some(q) = rest.strip_prefix('Q') {
        let q: i32 = q.parse().ok().filter(|q| (1..=4).contains(q))?;
        return Some((Grain::Quarter, y * 4 + q - 1));
    }
    if let Some(w) = rest.strip_prefix('W') {
        let w: i32 = w.parse().ok().filter(|w| (1..=53).contains(w))?;
        // ISO week 1 is the week with January 4th.
        let jan4 = days_from_civil(y, 1, 4);
        let p = Grain::Week.period_of(jan4) + w - 1;
        return (Grain::Week.label(p) == format!("{y}-W{w:02}")).then_some((Grain::Week, p));
    }
    if rest.len() == 2 {
        let m: i32 = rest.parse().ok().filter(|m| (1..=12).contains(m))?;
        return Some((Grain::Month, y * 12 + m - 1));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_round_trip_and_labels() {
        for d in -800_000..800_000 {
            let (y, m, dd) = civil_from_days(d);
            assert_eq!(days_from_civil(y, m, dd), d);
        }
        assert_eq!(format_date(0), "1970-01-01");
        let d = parse_date("2026-01-01").unwrap();
        assert_eq!(Grain::Week.label(Grain::Week.period_of(d)), "2026-W01");
        let d = parse_date("2025-12-29").unwrap();
        assert_eq!(Grain::Week.label(Grain::Week.period_of(d)), "2026-W01");
        let d = parse_date("2021-01-01").unwrap();
        assert_eq!(Grain::Week.label(Grain::Week.period_of(d)), "2020-W53");
        let d = parse_date("2026-11-26").unwrap();
        assert_eq!(Grain::Month.label(Grain::Month.period_of(d)), "2026-11");
        assert_eq!(Grain::Quarter.label(Grain::Quarter.period_of(d)), "2026-Q4");
        assert_eq!(Grain::Year.label(Grain::Year.period_of(d)), "2026");
        assert_eq!(format_date(Grain::Week.start(Grain::Week.period_of(d))), "2026-11-23");
        assert_eq!(format_date(Grain::Month.end(Grain::Month.period_of(d))), "2026-11-30");
    }

    #[test]
    fn windows_parse() {
        let w = DateRange::parse("2026-Q4").unwrap();
        assert_eq!(w.label(), "2026-10-01..2026-12-31");
        assert_eq!(DateRange::parse("2026").unwrap().label(), "2026-01-01..2026-12-31");
        assert_eq!(DateRange::parse("2026-02").unwrap().label(), "2026-02-01..2026-02-28");
        assert_eq!(DateRange::parse("2020-W53").unwrap().label(), "2020-12-28..2021-01-03");
        assert!(DateRange::parse("2026-13").is_none());
        assert!(DateRange::parse("2026-12-31..2026-01-01").is_none());
        assert!(parse_date("2026-02-29").is_none());
    }

    fn first_week() -> i32 {
        Grain::Week.period_of(parse_date("2000-01-01").unwrap())
    }

    fn at(cal: &Calendar, g: Grain, date: &str) -> String {
        cal.label(g, cal.period_of(g, parse_date(date).unwrap()))
    }

    #[test]
    fn default_calendar_is_the_iso_calendar() {
        let cal = Calendar::default();
        for d in -30_000..30_000 {
            for g in Grain::ALL {
                let p = cal.period_of(g, d);
                assert_eq!(p, g.period_of(d));
                assert_eq!(cal.start(g, p), g.start(p));
                assert_eq!(cal.label(g, p), g.label(p));
            }
        }
    }

    #[test]
    fn iso_week_53() {
        let cal = Calendar::default();
        assert_eq!(at(&cal, Grain::Week, "2026-12-28"), "2026-W53");
        assert_eq!(at(&cal, Grain::Week, "2027-01-03"), "2026-W53");
        assert_eq!(at(&cal, Grain::Week, "2027-01-04"), "2027-W01");
        assert_eq!(DateRange::parse("2026-W53").unwrap().label(), "2026-12-28..2027-01-03");
    }

    #[test]
    fn sunday_weeks() {
        let cal = Calendar { week_start: parse_weekday("sunday").unwrap(), ..Calendar::default() };
        let d = parse_date("2026-12-27").unwrap(); // a Sunday
        let p = cal.period_of(Grain::Week, d);
        assert_eq!(format_date(cal.start(Grain::Week, p)), "2026-12-27");
        assert_eq!(format_date(cal.end(Grain::Week, p)), "2027-01-02");
        assert_eq!(cal.label(Grain::Week, p), "2026-W53");
        // Saturday belongs to the week that started the Sunday before; Sunday starts a new one.
        assert_eq!(cal.period_of(Grain::Week, d - 1), p - 1);
        assert_eq!(cal.period_of(Grain::Week, d + 6), p);
        assert_eq!(cal.period_of(Grain::Week, d + 7), p + 1);
        assert_eq!(at(&cal, Grain::Week, "2026-11-22"), "2026-W48"); // Sunday before Mon W48
        assert_eq!(at(&cal, Grain::Week, "2026-11-21"), "2026-W47");
        assert_eq!(cal.parse_range("2026-W53").unwrap().label(), "2026-12-27..2027-01-02");
        for wd in 0..7 {
            let c = Calendar { week_start: wd, ..Calendar::default() };
            for q in first_week()..first_week() + 600 {
                let r = c.parse_range(&c.label(Grain::Week, q)).unwrap();
                assert_eq!((r.start, r.end), (c.start(Grain::Week, q), c.end(Grain::Week, q)));
            }
        }
        // Labels stay distinct and consecutive over many years.
        let first = cal.period_of(Grain::Week, parse_date("2000-01-01").unwrap());
        for q in first..first + 52 * 40 {
            assert_ne!(cal.label(Grain::Week, q), cal.label(Grain::Week, q + 1));
            assert_eq!(cal.period_of(Grain::Week, cal.start(Grain::Week, q)), q);
        }
    }

    #[test]
    fn fiscal_year_starting_in_april() {
        let cal = Calendar { fiscal_offset: parse_month("april").unwrap(), ..Calendar::default() };
        assert_eq!(parse_month("4"), parse_month("Apr"));
        assert_eq!(at(&cal, Grain::Quarter, "2026-04-01"), "2027-FQ1");
        assert_eq!(at(&cal, Grain::Year, "2026-04-01"), "FY2027");
        assert_eq!(at(&cal, Grain::Quarter, "2026-03-31"), "2026-FQ4");
        assert_eq!(at(&cal, Grain::Year, "2026-03-31"), "FY2026");
        assert_eq!(at(&cal, Grain::Quarter, "2026-12-31"), "2027-FQ3");
        assert_eq!(at(&cal, Grain::Quarter, "2027-01-01"), "2027-FQ4");
        let p = cal.period_of(Grain::Year, parse_date("2026-04-01").unwrap());
        assert_eq!(format_date(cal.start(Grain::Year, p)), "2026-04-01");
        assert_eq!(format_date(cal.end(Grain::Year, p)), "2027-03-31");
        let q = cal.period_of(Grain::Quarter, parse_date("2026-03-31").unwrap());
        assert_eq!(format_date(cal.start(Grain::Quarter, q)), "2026-01-01");
        assert_eq!(format_date(cal.end(Grain::Quarter, q)), "2026-03-31");
        assert_eq!(cal.parse_range("FY2027").unwrap().label(), "2026-04-01..2027-03-31");
        assert_eq!(cal.parse_range("2027-FQ1").unwrap().label(), "2026-04-01..2026-06-30");
        assert_eq!(cal.parse_range("2026-FQ4..2027-FQ1").unwrap().label(), "2026-01-01..2026-06-30");
        assert_eq!(cal.parse_range("2026-04").unwrap().label(), "2026-04-01..2026-04-30");
        // Calendar quarters and years keep their plain labels.
        assert_eq!(cal.parse_range("2026-Q1").unwrap().label(), "2026-01-01..2026-03-31");
        assert!(Calendar::default().parse_range("FY2027").is_none());
        // Months are not fiscal.
        assert_eq!(at(&cal, Grain::Month, "2026-04-01"), "2026-04");
        assert_eq!(parse_month("13"), None);
        assert_eq!(parse_weekday("xyz"), None);
    }
}
