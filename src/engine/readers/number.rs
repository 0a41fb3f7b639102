//! Numbers from raw field bytes, without building a `String`.

/// Powers of ten exactly representable as `f64`.
pub(crate) const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18,
    1e19, 1e20, 1e21, 1e22,
];

/// Parses a number field: surrounding ASCII spaces/tabs are ignored, an empty field is
/// null (NaN), `None` means "not a number".
///
/// Accepts what Rust's `f64::from_str` accepts for decimal notation (`-3.5`, `+2`, `1e6`,
/// `.5`, `5.`) and gives the same value; rejects `inf`, `NaN`, and values that overflow
/// to infinity, so a null never comes from the text of a value.
#[inline(always)]
pub fn parse_number(field: &[u8]) -> Option<f64> {
    if let Some(v) = parse_plain(field) {
        return Some(v);
    }
    parse_general(field)
}

/// `digits[.digits]`, untrimmed and unsigned, as exporters write most numbers: the common
/// case of [`parse_simple_decimal`] in one tight loop (same value: `m / 10^k`).
///
/// A byte loop, not SWAR: most fields are 1 to 5 bytes, and callgrind counted 80
/// instructions per field for an eight-bytes-at-once parse against 52 for this loop.
#[inline(always)]
fn parse_plain(s: &[u8]) -> Option<f64> {
    // At most 19 digits: `m` cannot overflow a u64.
    if s.is_empty() || s.len() > 19 {
        return None;
    }
    let mut m: u64 = 0;
    let mut i = 0;
    while i < s.len() {
        let d = s[i].wrapping_sub(b'0');
        if d > 9 {
            break;
        }
        m = m * 10 + u64::from(d);
        i += 1;
    }
    if i == 0 {
        return None;
    }
    let mut frac = 0;
    if i < s.len() {
        if s[i] != b'.' {
            return None;
        }
        for &c in &s[i + 1..] {
            let d = c.wrapping_sub(b'0');
            if d > 9 {
                return None;
            }
            m = m * 10 + u64::from(d);
            frac += 1;
        }
    }
    if m > (1u64 << 53) {
        return None;
    }
    Some(m as f64 / POW10[frac])
}

/// Reads the decimal digits from `i` on into `m` (wrapping: callers bound the count);
/// returns the value and the index after the last digit.
#[inline(always)]
fn digits_at(line: &[u8], mut i: usize, mut m: u64) -> (u64, usize) {
    while let Some(&c) = line.get(i) {
        let d = c.wrapping_sub(b'0');
        if d > 9 {
            break;
        }
        m = m.wrapping_mul(10).wrapping_add(u64::from(d));
        i += 1;
    }
    (m, i)
}

/// The plain number (`digits[.digits]` with at most 15 digits, which [`parse_plain`]
/// takes) or empty field that starts at `line[start]` and ends at `line[end]` (a
/// delimiter or the line's end): its value (NaN when empty) and `end`. `None` when the
/// field is anything else (the caller then goes the general way); the value is
/// [`parse_number`]'s: at most 15 digits are below 2^53, so `m / 10^k` as there.
#[inline(always)]
pub(crate) fn plain_at(line: &[u8], start: usize, delim: u8) -> Option<(f64, usize)> {
    let (mut m, mut i) = digits_at(line, start, 0);
    let mut digits = i - start;
    let mut frac = 0;
    match line.get(i) {
        None => {}
        Some(&c) if c == delim => {}
        Some(&b'.') if digits > 0 => {
            i += 1;
            let from = i;
            (m, i) = digits_at(line, i, m);
            frac = i - from;
            digits += frac;
            match line.get(i) {
                None => {}
                Some(&c) if c == delim => {}
                Some(_) => return None,
            }
        }
        Some(_) => return None,
    }
    if digits == 0 {
        return Some((f64::NAN, i));
    }
    if digits > 15 {
        return None;
    }
    Some((exact_ratio(m, frac), i))
}

/// `m / 10^frac` for `m` below 2^53 (at most 15 digits): both exact, so one correctly
/// rounded division, and none for an integer (most fields); `m` converts as a signed
/// integer (one instruction, where `u64` takes a branch and several).
#[inline(always)]
fn exact_ratio(m: u64, frac: usize) -> f64 {
    let v = m as i64 as f64;
    if frac == 0 {
        v
    } else {
        v / POW10[frac]
    }
}

/// `'0'` in every byte of a word.
pub(crate) const ZEROS: u64 = 0x3030_3030_3030_3030;
const HIGH: u64 = 0xf0f0_f0f0_f0f0_f0f0;
const LO7: u64 = 0x7f7f_7f7f_7f7f_7f7f;

/// 1 to 8 bytes as one little-endian word, left-padded with `'0'`s to eight bytes (so the
/// first byte is the most significant digit), by overlapping fixed-size reads.
#[inline(always)]
fn padded_word(s: &[u8]) -> Option<u64> {
    let n = s.len();
    let half = |b: &[u8]| -> u64 {
        let mut w = [0u8; 4];
        w.copy_from_slice(b);
        u64::from(u32::from_le_bytes(w))
    };
    let w = match n {
        1..=3 => {
            u64::from(s[0]) | u64::from(s[n / 2]) << (8 * (n / 2)) | u64::from(s[n - 1]) << (8 * (n - 1))
        }
        4..=8 => half(&s[..4]) | half(&s[n - 4..]) << (8 * (n - 4)),
        _ => return None,
    };
    Some((w << (8 * (8 - n))) | ZEROS.checked_shr(8 * n as u32).unwrap_or(0))
}

/// The high bit of each byte of `x` that is not zero.
#[inline(always)]
fn nonzero_bytes(x: u64) -> u64 {
    (((x & LO7) + LO7) | x) & !LO7
}

/// Eight ASCII digits in a word (SWAR), most significant first.
#[inline(always)]
pub(crate) fn combine(w: u64) -> u64 {
    let d = w - ZEROS;
    let d = (d.wrapping_mul(10) + (d >> 8)) & 0x00ff_00ff_00ff_00ff;
    let d = (d.wrapping_mul(100) + (d >> 16)) & 0x0000_ffff_0000_ffff;
    (d.wrapping_mul(10000) + (d >> 32)) & 0xffff_ffff
}

/// 1 to 8 ASCII digits as an integer; `None` for anything else.
#[inline(always)]
pub(crate) fn eight_digits(s: &[u8]) -> Option<u64> {
    let w = padded_word(s)?;
    (not_digits(w) == 0).then(|| combine(w))
}

/// The high bit of each byte of `w` that is not an ASCII digit (a digit's high nibble is 3
/// before and after adding 6; a carry out of a byte >= 0xfa only flags more bytes).
#[inline(always)]
fn not_digits(w: u64) -> u64 {
    nonzero_bytes(((w & HIGH) ^ ZEROS) | ((w.wrapping_add(0x0606_0606_0606_0606) & HIGH) ^ ZEROS))
}

#[cold]
fn parse_general(field: &[u8]) -> Option<f64> {
    let s = field.trim_ascii();
    if s.is_empty() {
        return Some(f64::NAN);
    }
    if let Some(v) = parse_simple_decimal(s) {
        return Some(v);
    }
    if !s.iter().all(|b| matches!(b, b'0'..=b'9' | b'+' | b'-' | b'.' | b'e' | b'E')) {
        return None;
    }
    let v: f64 = std::str::from_utf8(s).ok()?.parse().ok()?;
    v.is_finite().then_some(v)
}

/// `[+-]digits[.digits]` whose digits form an integer below 2^53 with at most 22
/// fraction digits: then `m / 10^k` is one correctly rounded division of two exact
/// values, so the result equals the correctly rounded decimal (Clinger's fast path).
fn parse_simple_decimal(s: &[u8]) -> Option<f64> {
    let (neg, s) = match s.first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let mut m: u64 = 0;
    let mut digits = 0usize;
    let mut frac = 0usize;
    let mut seen_dot = false;
    for &b in s {
        match b {
            b'0'..=b'9' => {
                digits += 1;
                if digits > 19 {
                    return None;
                }
                m = m * 10 + u64::from(b - b'0');
                if seen_dot {
                    frac += 1;
                }
            }
            b'.' if !seen_dot => seen_dot = true,
            _ => return None,
        }
    }
    if digits == 0 || m > (1u64 << 53) || frac > 22 {
        return None;
    }
    let v = m as f64 / POW10[frac];
    Some(if neg { -v } else { v })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepts_the_usual_forms() {
        assert_eq!(parse_number(b"12"), Some(12.0));
        assert_eq!(parse_number(b"  -3.5 "), Some(-3.5));
        assert_eq!(parse_number(b"+2"), Some(2.0));
        assert_eq!(parse_number(b"1e6"), Some(1e6));
        assert_eq!(parse_number(b"2.5E-3"), Some(2.5e-3));
        assert_eq!(parse_number(b".5"), Some(0.5));
        assert_eq!(parse_number(b"5."), Some(5.0));
        assert_eq!(parse_number(b"0.1"), Some(0.1));
        assert!(parse_number(b"").unwrap().is_nan());
        assert!(parse_number(b" \t").unwrap().is_nan());
        assert!(parse_number(b"-0").unwrap().is_sign_negative());
    }

    #[test]
    fn rejects_non_numbers() {
        for s in [
            "12a",
            "abc",
            "1,5",
            "1 000",
            "NaN",
            "inf",
            "-infinity",
            "1e999",
            ".",
            "-",
            "e5",
            "1..2",
            "--1",
            "0x10",
            "1_000",
        ] {
            assert_eq!(parse_number(s.as_bytes()), None, "{s}");
        }
        assert_eq!(parse_number(b"\xff1"), None);
    }

    #[test]
    fn eight_digits_at_once() {
        for s in
            ["0", "7", "12", "123", "1234", "12345", "123456", "1234567", "12345678", "00000001", "99999999"]
        {
            assert_eq!(eight_digits(s.as_bytes()), s.parse().ok(), "{s}");
        }
        for s in ["", "1a", "/", ":", "12 4", "1234567:", "123456789", "-1", "1.5", "\u{0}1"] {
            assert_eq!(eight_digits(s.as_bytes()), None, "{s}");
        }
    }

    proptest! {
        #[test]
        fn eight_digits_agrees_with_std(s in "[0-9/:a ]{0,9}") {
            let want = (s.len() <= 8 && !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())).then(|| s.parse::<u64>().ok()).flatten();
            prop_assert_eq!(eight_digits(s.as_bytes()), want);
        }

        #[test]
        fn agrees_with_std_on_decimals(int in "[+-]?[0-9]{0,20}", frac in proptest::option::of("[0-9]{0,25}"), exp in proptest::option::of(-30i32..30)) {
            let mut s = int.clone();
            if let Some(f) = &frac { s.push('.'); s.push_str(f); }
            if let Some(e) = exp { s.push_str(&format!("e{e}")); }
            let std = s.parse::<f64>().ok().filter(|v| v.is_finite());
            let ours = parse_number(s.as_bytes());
            match (std, ours) {
                (Some(a), Some(b)) => prop_assert_eq!(a.to_bits(), b.to_bits(), "{}", s),
                (None, None) => {}
                // Only the empty string differs: std rejects it, a field treats it as null.
                (a, b) => prop_assert!(s.is_empty() && a.is_none() && b.is_some_and(f64::is_nan), "{} {:?} {:?}", s, a, b),
            }
        }

        #[test]
        fn agrees_with_std_on_any_float(v in proptest::num::f64::NORMAL | proptest::num::f64::SUBNORMAL | proptest::num::f64::ZERO) {
            let s = v.to_string();
            prop_assert_eq!(parse_number(s.as_bytes()).map(f64::to_bits), Some(v.to_bits()));
            let e = format!("{v:e}");
            prop_assert_eq!(parse_number(e.as_bytes()).map(f64::to_bits), Some(v.to_bits()));
        }
    }
}
