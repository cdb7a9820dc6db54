//! Civil-date arithmetic and RFC 3339 UTC text, shared by every crate that
//! reads or writes a timestamp (decision ids and logs, SBOM and provenance
//! times, waiver expiries, disclosure packs, `time.add_date`).
//!
//! Dates are proleptic Gregorian, day 0 is 1970-01-01 (H. Hinnant's
//! `days_from_civil` / `civil_from_days`). The functions are total: any
//! `i64` day converts, and a date whose day number does not fit an `i64`
//! gives `None`. Parsing stays with each format, whose rules differ (OPA's
//! `time.parse_rfc3339_ns` range for disclosure packs, date-only waiver
//! expiries, leap seconds in provenance); they share these functions.
//!
//! ```
//! use cos_core::time::{Fraction, Rfc3339, civil_from_days, days_from_civil};
//! assert_eq!(days_from_civil(2026, 12, 2), Some(20_789));
//! assert_eq!(civil_from_days(20_789), (2026, 12, 2));
//! let t = Rfc3339::new(1_796_205_600, 500_000_000, Fraction::Shortest);
//! assert_eq!(t.to_string(), "2026-12-02T10:00:00.5Z");
//! ```

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

/// Seconds in a day (UTC, no leap seconds).
pub const SECS_PER_DAY: i64 = 86_400;

/// Whether `year` is a leap year in the proleptic Gregorian calendar.
pub const fn is_leap_year(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

/// The number of days in `month` (1–12) of `year`; 0 for a month outside
/// 1–12, so that `day <= days_in_month(y, m)` also checks the month.
pub const fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap_year(year) => 29,
        2 => 28,
        _ => 0,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date. A day past the end
/// of the month counts on into the next ones (day 32 of January is
/// 1 February), as Go's `time.Date` normalises; `None` for a month outside
/// 1–12, or a date too far out for an `i64` day number.
pub fn days_from_civil(year: i64, month: u32, day: u32) -> Option<i64> {
    if !(1..=12).contains(&month) {
        return None;
    }
    let (m, d) = (i128::from(month), i128::from(day));
    let y = i128::from(year) - i128::from(month <= 2);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    i64::try_from(era * 146_097 + doe - 719_468).ok()
}

/// The date (year, month 1–12, day 1–31) of a day number counted from
/// 1970-01-01; the inverse of [`days_from_civil`], for every `i64`.
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = i128::from(days) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    // In range by construction: day 1..=31, month 1..=12, and a year
    // within ±i64::MAX / 365 of 1970.
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = (yoe + era * 400 + i128::from(month <= 2)) as i64;
    (year, month, day)
}

/// How many fraction-of-second digits [`Rfc3339`] writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Fraction {
    /// Whole seconds only (`2026-12-02T10:00:00Z`): SBOM and provenance
    /// times, which are at second precision.
    Omit,
    /// The shortest exact form: none for a whole second, else without
    /// trailing zeros (`…:00.25Z`), so the text of an instant is canonical.
    Shortest,
    /// Always nine digits (`…:00.250000000Z`), as OPA's decision logs write
    /// them.
    Nanos,
}

/// An instant written as RFC 3339 in UTC (`2026-12-02T10:00:00Z`), through
/// [`fmt::Display`]. Years before 0 or after 9999 are written with more
/// digits or a sign, which RFC 3339 cannot express; callers that promise
/// RFC 3339 bound the range they accept.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Rfc3339 {
    secs: i64,
    nanos: u32,
    fraction: Fraction,
}

impl Rfc3339 {
    /// `secs` seconds (negative: before) and `nanos` nanoseconds after
    /// 1970-01-01T00:00:00Z; nanoseconds past a second are carried into it.
    pub fn new(secs: i64, nanos: u32, fraction: Fraction) -> Self {
        let carry = i64::from(nanos / 1_000_000_000);
        Rfc3339 {
            secs: secs.saturating_add(carry),
            nanos: nanos % 1_000_000_000,
            fraction,
        }
    }

    /// A system time; times before 1970 are written as 1970-01-01T00:00:00Z.
    pub fn from_system_time(t: SystemTime, fraction: Fraction) -> Self {
        let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
        let secs = i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
        Self::new(secs, d.subsec_nanos(), fraction)
    }
}

impl fmt::Display for Rfc3339 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, m, d) = civil_from_days(self.secs.div_euclid(SECS_PER_DAY));
        let rem = self.secs.rem_euclid(SECS_PER_DAY);
        let (h, mi, s) = (rem / 3600, rem % 3600 / 60, rem % 60);
        let (frac, width) = match self.fraction {
            Fraction::Omit => (0, 0),
            Fraction::Nanos => (self.nanos, 9),
            Fraction::Shortest if self.nanos == 0 => (0, 0),
            Fraction::Shortest => {
                let (mut n, mut width) = (self.nanos, 9);
                while n % 10 == 0 {
                    n /= 10;
                    width -= 1;
                }
                (n, width)
            }
        };
        if !(0..=9999).contains(&y) {
            // Outside RFC 3339's years: Rust's number formatting.
            write!(f, "{y:04}-{m:02}-{d:02}T{h:02}:{mi:02}:{s:02}")?;
            if width > 0 {
                write!(f, ".{frac:0width$}")?;
            }
            return f.write_str("Z");
        }
        // The common case written digit by digit (a decision's timestamp is
        // on the hot path): `YYYY-MM-DDTHH:MM:SS[.fffffffff]Z`.
        let mut buf = *b"0000-00-00T00:00:00.000000000Z";
        let mut put = |at: usize, digits: usize, mut v: u64| {
            for i in (at..at + digits).rev() {
                buf[i] = b'0' + (v % 10) as u8;
                v /= 10;
            }
        };
        // All in range: y 0..=9999, the rest below 100, frac below 10^9.
        put(0, 4, y as u64);
        put(5, 2, u64::from(m));
        put(8, 2, u64::from(d));
        put(11, 2, h as u64);
        put(14, 2, mi as u64);
        put(17, 2, s as u64);
        let end = if width > 0 {
            put(20, width, u64::from(frac));
            20 + width
        } else {
            19
        };
        buf[end] = b'Z';
        match std::str::from_utf8(&buf[..=end]) {
            Ok(text) => f.write_str(text),
            Err(_) => Err(fmt::Error),
        }
    }
}

/// The unit of a duration written as a bare number (`--timeout-ms 500`,
/// `--poll-interval 10`), which every cos command keeps accepting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BareUnit {
    /// A bare number is seconds.
    Seconds,
    /// A bare number is milliseconds.
    Millis,
}

/// The longest duration [`parse_duration`] accepts: 100 years.
pub const MAX_DURATION: std::time::Duration = std::time::Duration::from_secs(100 * 365 * 86_400);

/// Parses a duration as Go's `time.ParseDuration` writes them (`300ms`,
/// `1.5s`, `2m`, `1h30m`; units `ns`, `us`/`µs`, `ms`, `s`, `m`, `h`), or a
/// bare non-negative number in `bare` units. Negative durations, an empty
/// text and anything beyond [`MAX_DURATION`] are
/// [`crate::Error::InvalidDuration`].
///
/// ```
/// use cos_core::time::{BareUnit, parse_duration};
/// use std::time::Duration;
/// assert_eq!(parse_duration("1m30s", BareUnit::Seconds)?, Duration::from_secs(90));
/// assert_eq!(parse_duration("250", BareUnit::Millis)?, Duration::from_millis(250));
/// assert_eq!(parse_duration("0.5", BareUnit::Seconds)?, Duration::from_millis(500));
/// assert!(parse_duration("-1s", BareUnit::Seconds).is_err());
/// # Ok::<(), cos_core::Error>(())
/// ```
pub fn parse_duration(text: &str, bare: BareUnit) -> crate::Result<std::time::Duration> {
    let bad = |reason: &'static str| crate::Error::InvalidDuration {
        value: text.chars().take(40).collect(),
        reason,
    };
    let t = text.trim();
    if t.is_empty() {
        return Err(bad("empty; write e.g. 500ms, 10s or 2m"));
    }
    if t.starts_with('-') {
        return Err(bad("negative"));
    }
    let t = t.strip_prefix('+').unwrap_or(t);
    // Nanoseconds, in u128 so that no sum of bounded parts overflows.
    let mut total: u128 = 0;
    let mut rest = t;
    let mut parts = 0;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let (num, after) = rest.split_at(num_len);
        let unit_len = after
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(after.len());
        let (unit, next) = after.split_at(unit_len);
        let scale: u128 = match unit {
            "" if parts == 0 && next.is_empty() => match bare {
                BareUnit::Seconds => 1_000_000_000,
                BareUnit::Millis => 1_000_000,
            },
            "ns" => 1,
            "us" | "µs" | "μs" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            "" => {
                return Err(bad(
                    "a number without a unit after another part; units: ns, us, ms, s, m, h",
                ));
            }
            _ => return Err(bad("unknown unit; units: ns, us, ms, s, m, h")),
        };
        total = total
            .checked_add(
                scaled(num, scale)
                    .ok_or_else(|| bad("not a number followed by a unit, e.g. 1.5s"))?,
            )
            .ok_or_else(|| bad("too long"))?;
        if total > MAX_DURATION.as_nanos() {
            return Err(bad("longer than 100 years"));
        }
        parts += 1;
        rest = next;
    }
    let secs = u64::try_from(total / 1_000_000_000).map_err(|_| bad("too long"))?;
    let nanos = u32::try_from(total % 1_000_000_000).map_err(|_| bad("too long"))?;
    Ok(std::time::Duration::new(secs, nanos))
}

/// The largest `SOURCE_DATE_EPOCH` [`parse_source_date_epoch`] accepts:
/// 9999-12-31T23:59:59Z, the last second RFC 3339 can write.
pub const MAX_SOURCE_DATE_EPOCH: u64 = 253_402_300_799;

/// Parses a `SOURCE_DATE_EPOCH` value (reproducible-builds.org): whole
/// seconds since 1970-01-01 UTC, ASCII digits only, up to
/// [`MAX_SOURCE_DATE_EPOCH`]. Anything else (empty, signed, fractional,
/// spaced, out of range) is [`crate::Error::InvalidSourceDateEpoch`]
/// (`invalid_source_date_epoch`), as the specification asks a build to
/// stop on a malformed value rather than guess.
///
/// This is a function of the text: libraries take the time as a parameter
/// and never read the environment; the programs (`cos`, `cos-pdp`, the
/// bindings) read the variable and call this.
///
/// ```
/// use cos_core::time::parse_source_date_epoch;
/// assert_eq!(parse_source_date_epoch("1700000000")?, 1_700_000_000);
/// assert!(parse_source_date_epoch("yesterday").is_err());
/// assert!(parse_source_date_epoch(" 1").is_err());
/// # Ok::<(), cos_core::Error>(())
/// ```
pub fn parse_source_date_epoch(text: &str) -> crate::Result<u64> {
    let bad = || crate::Error::InvalidSourceDateEpoch {
        value: text.chars().take(40).collect(),
    };
    if text.is_empty() || text.len() > 20 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let secs: u64 = text.parse().map_err(|_| bad())?;
    if secs > MAX_SOURCE_DATE_EPOCH {
        return Err(bad());
    }
    Ok(secs)
}

/// `num` (digits with at most one `.`) times `scale` nanoseconds, exactly
/// up to the nanosecond (further fraction digits are dropped, as Go does).
fn scaled(num: &str, scale: u128) -> Option<u128> {
    let (whole, frac) = num.split_once('.').unwrap_or((num, ""));
    if (whole.is_empty() && frac.is_empty()) || frac.contains('.') {
        return None;
    }
    if whole.len() > 20 {
        return None;
    }
    let w: u128 = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    let mut ns = w.checked_mul(scale)?;
    let mut place = scale;
    for d in frac.bytes().take(30) {
        place /= 10;
        if place == 0 {
            break;
        }
        ns = ns.checked_add(u128::from(d.checked_sub(b'0').filter(|d| *d < 10)?) * place)?;
    }
    Some(ns)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_days() {
        assert_eq!(days_from_civil(1970, 1, 1), Some(0));
        assert_eq!(days_from_civil(2000, 3, 1), Some(11_017));
        assert_eq!(days_from_civil(1969, 12, 31), Some(-1));
        assert_eq!(days_from_civil(2024, 1, 32), days_from_civil(2024, 2, 1));
        assert_eq!(days_from_civil(2024, 13, 1), None);
        assert_eq!(days_from_civil(2024, 0, 1), None);
        assert_eq!(days_from_civil(i64::MAX, 12, 31), None);
        assert_eq!(days_from_civil(i64::MIN, 1, 1), None);
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(-719_468), (0, 3, 1));
        assert_eq!(days_in_month(2024, 2), 29);
        assert_eq!(days_in_month(2100, 2), 28);
        assert_eq!(days_in_month(2000, 2), 29);
        assert_eq!(days_in_month(2026, 13), 0);
        // The extremes convert without overflow.
        for z in [i64::MIN, i64::MIN + 1, -1, i64::MAX - 1, i64::MAX] {
            let (y, m, d) = civil_from_days(z);
            assert!((1..=12).contains(&m) && (1..=31).contains(&d), "{z}");
            assert_eq!(days_from_civil(y, m, d), Some(z), "{z}");
        }
    }

    #[test]
    fn writes_each_fraction() {
        let t = |s, n, f| Rfc3339::new(s, n, f).to_string();
        assert_eq!(t(0, 0, Fraction::Omit), "1970-01-01T00:00:00Z");
        assert_eq!(t(0, 0, Fraction::Shortest), "1970-01-01T00:00:00Z");
        assert_eq!(t(0, 0, Fraction::Nanos), "1970-01-01T00:00:00.000000000Z");
        assert_eq!(
            t(1_700_000_000, 250_000_000, Fraction::Shortest),
            "2023-11-14T22:13:20.25Z"
        );
        assert_eq!(
            t(1_700_000_000, 7, Fraction::Shortest),
            "2023-11-14T22:13:20.000000007Z"
        );
        assert_eq!(
            t(1_700_000_000, 250_000_000, Fraction::Omit),
            "2023-11-14T22:13:20Z"
        );
        assert_eq!(t(-1, 0, Fraction::Omit), "1969-12-31T23:59:59Z");
        assert_eq!(
            t(253_402_300_799, 0, Fraction::Omit),
            "9999-12-31T23:59:59Z"
        );
        assert_eq!(
            t(0, 1_500_000_000, Fraction::Shortest),
            "1970-01-01T00:00:01.5Z"
        );
        assert_eq!(
            t(-62_167_219_200, 0, Fraction::Omit),
            "0000-01-01T00:00:00Z"
        );
        assert_eq!(
            t(-62_167_219_201, 5, Fraction::Nanos),
            "-001-12-31T23:59:59.000000005Z"
        );
        assert_eq!(
            t(253_402_300_800, 0, Fraction::Omit),
            "10000-01-01T00:00:00Z"
        );
        // Out of RFC 3339's range: written, not a panic.
        for s in [i64::MIN, i64::MAX] {
            assert!(t(s, u32::MAX, Fraction::Nanos).ends_with('Z'));
        }
        assert_eq!(
            Rfc3339::from_system_time(UNIX_EPOCH, Fraction::Omit).to_string(),
            "1970-01-01T00:00:00Z"
        );
    }

    proptest! {
        #[test]
        fn days_round_trip(z in any::<i64>()) {
            let (y, m, d) = civil_from_days(z);
            prop_assert!(d >= 1 && d <= days_in_month(y, m));
            prop_assert_eq!(days_from_civil(y, m, d), Some(z));
        }

        #[test]
        fn writes_what_rust_formatting_writes(secs in -70_000_000_000i64..260_000_000_000, nanos in 0u32..1_000_000_000) {
            let (y, m, d) = civil_from_days(secs.div_euclid(SECS_PER_DAY));
            let rem = secs.rem_euclid(SECS_PER_DAY);
            let base = format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}", rem / 3600, rem % 3600 / 60, rem % 60);
            let nine = format!("{nanos:09}");
            let short = nine.trim_end_matches('0');
            let shortest = if short.is_empty() { format!("{base}Z") } else { format!("{base}.{short}Z") };
            prop_assert_eq!(Rfc3339::new(secs, nanos, Fraction::Omit).to_string(), format!("{base}Z"));
            prop_assert_eq!(Rfc3339::new(secs, nanos, Fraction::Nanos).to_string(), format!("{base}.{nine}Z"));
            prop_assert_eq!(Rfc3339::new(secs, nanos, Fraction::Shortest).to_string(), shortest);
        }

        #[test]
        fn consecutive_days_are_consecutive_dates(z in -10_000_000i64..10_000_000) {
            let (y, m, d) = civil_from_days(z);
            let next = civil_from_days(z + 1);
            let expected = if d < days_in_month(y, m) {
                (y, m, d + 1)
            } else if m < 12 {
                (y, m + 1, 1)
            } else {
                (y + 1, 1, 1)
            };
            prop_assert_eq!(next, expected);
        }
    }

    #[test]
    fn source_date_epoch_is_strict() {
        assert_eq!(parse_source_date_epoch("0").unwrap(), 0);
        assert_eq!(
            parse_source_date_epoch("1700000000").unwrap(),
            1_700_000_000
        );
        assert_eq!(
            parse_source_date_epoch("253402300799").unwrap(),
            MAX_SOURCE_DATE_EPOCH
        );
        for bad in [
            "",
            "-1",
            "+1",
            "1.5",
            " 1",
            "1 ",
            "1e9",
            "abc",
            "\u{663}",
            "253402300800",
            "99999999999999999999999",
        ] {
            let e = parse_source_date_epoch(bad).unwrap_err();
            assert_eq!(e.code(), "invalid_source_date_epoch", "{bad:?}");
            assert!(e.to_string().contains("SOURCE_DATE_EPOCH"), "{e}");
        }
        let long = "x".repeat(1000);
        let e = parse_source_date_epoch(&long).unwrap_err();
        assert!(e.to_string().len() < 200, "{e}");
    }

    #[test]
    fn durations_parse_as_go_writes_them() {
        use super::{BareUnit, parse_duration};
        use std::time::Duration;
        let ok = [
            ("500ms", Duration::from_millis(500)),
            ("1.5s", Duration::from_millis(1500)),
            ("2m", Duration::from_secs(120)),
            ("1h30m", Duration::from_secs(5400)),
            ("1m0.5s", Duration::from_millis(60_500)),
            ("10us", Duration::from_micros(10)),
            ("10µs", Duration::from_micros(10)),
            ("7ns", Duration::from_nanos(7)),
            (".5s", Duration::from_millis(500)),
            ("0", Duration::ZERO),
            ("10", Duration::from_secs(10)),
            ("0.25", Duration::from_millis(250)),
            (" 3s ", Duration::from_secs(3)),
        ];
        for (text, want) in ok {
            assert_eq!(
                parse_duration(text, BareUnit::Seconds).unwrap(),
                want,
                "{text}"
            );
        }
        assert_eq!(
            parse_duration("250", BareUnit::Millis).unwrap(),
            Duration::from_millis(250)
        );
        assert_eq!(
            parse_duration("1s", BareUnit::Millis).unwrap(),
            Duration::from_secs(1)
        );
        for bad in [
            "",
            "-1s",
            "1x",
            "s",
            "1.2.3s",
            "1s2",
            "5 s",
            "99999999999999999999999h",
            "1e3s",
            "876001h",
            ".",
        ] {
            let e = parse_duration(bad, BareUnit::Seconds).unwrap_err();
            assert_eq!(e.code(), "invalid_duration", "{bad}");
        }
    }
}
