//! RFC 3339 instants: the gate's `now` and waiver expiries.

use std::fmt;

use cos_core::time::{Fraction, Rfc3339, SECS_PER_DAY, days_from_civil, days_in_month};

use crate::error::{Error, Result};

/// An instant in UTC, to the nanosecond, parsed from RFC 3339 text.
///
/// Accepted forms: a date-time with `Z` or a numeric offset
/// (`2026-12-01T10:00:00Z`, `2026-12-01T11:00:00.5+01:00`; `t`/`z` and a
/// space instead of `T` too, as RFC 3339 allows), and a full date
/// (`2026-12-01`), which [`Timestamp::parse`] reads as the start of that day
/// in UTC and [`Timestamp::parse_end_of`] as the end of it (used for waiver
/// expiries: a waiver that expires on a date holds through that day).
/// Years 0000–9999; leap seconds (`:60`) are refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp {
    secs: i64,
    nanos: u32,
}

fn bad(input: &str, reason: impl Into<String>) -> Error {
    Error::InvalidTime {
        input: input.chars().take(64).collect(),
        reason: reason.into(),
    }
}

/// Parses exactly `n` ASCII digits at `s[at..]`.
fn digits(s: &[u8], at: usize, n: usize) -> Option<i64> {
    let part = s.get(at..at + n)?;
    let mut v = 0i64;
    for &b in part {
        if !b.is_ascii_digit() {
            return None;
        }
        v = v * 10 + i64::from(b - b'0');
    }
    Some(v)
}

impl Timestamp {
    /// The Unix epoch, 1970-01-01T00:00:00Z.
    pub const UNIX_EPOCH: Timestamp = Timestamp { secs: 0, nanos: 0 };

    /// The instant `secs` seconds after the Unix epoch (negative: before).
    pub fn from_unix(secs: i64) -> Self {
        Timestamp { secs, nanos: 0 }
    }

    /// Seconds since the Unix epoch (rounded down).
    pub fn unix_seconds(&self) -> i64 {
        self.secs
    }

    /// Now, from the system clock.
    pub fn now() -> Self {
        match std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
            Ok(d) => Timestamp {
                secs: i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
                nanos: d.subsec_nanos(),
            },
            Err(_) => Timestamp::UNIX_EPOCH,
        }
    }

    /// Parses an RFC 3339 date-time, or a full date as the start of that day (UTC).
    pub fn parse(input: &str) -> Result<Self> {
        Self::parse_with(input, false)
    }

    /// Parses an RFC 3339 date-time, or a full date as the end of that day
    /// (UTC): the first instant of the next day.
    pub fn parse_end_of(input: &str) -> Result<Self> {
        Self::parse_with(input, true)
    }

    /// Whether `input` is a date without a time (`YYYY-MM-DD`).
    pub fn is_date_only(input: &str) -> bool {
        input.trim().len() == 10
    }

    fn parse_with(input: &str, date_end: bool) -> Result<Self> {
        let text = input.trim();
        let s = text.as_bytes();
        if s.len() > 64 {
            return Err(bad(input, "too long"));
        }
        let (Some(y), Some(mo), Some(d)) = (digits(s, 0, 4), digits(s, 5, 2), digits(s, 8, 2))
        else {
            return Err(bad(input, "expected YYYY-MM-DD at the start"));
        };
        if s.get(4) != Some(&b'-') || s.get(7) != Some(&b'-') {
            return Err(bad(input, "expected YYYY-MM-DD at the start"));
        }
        // Two digits each: in range for u32.
        let (mo, d) = (mo as u32, d as u32);
        let Some(day) = days_from_civil(y, mo, d).filter(|_| d >= 1 && d <= days_in_month(y, mo))
        else {
            return Err(bad(input, "no such date"));
        };
        if s.len() == 10 {
            let secs = (day + i64::from(date_end)) * SECS_PER_DAY;
            return Ok(Timestamp { secs, nanos: 0 });
        }
        if !matches!(s.get(10), Some(b'T' | b't' | b' ')) {
            return Err(bad(input, "expected `T` between date and time"));
        }
        let (Some(h), Some(mi), Some(sec)) = (digits(s, 11, 2), digits(s, 14, 2), digits(s, 17, 2))
        else {
            return Err(bad(input, "expected HH:MM:SS after the date"));
        };
        if s.get(13) != Some(&b':') || s.get(16) != Some(&b':') {
            return Err(bad(input, "expected HH:MM:SS after the date"));
        }
        if h > 23 || mi > 59 || sec > 59 {
            return Err(bad(
                input,
                "no such time of day (leap seconds are not accepted)",
            ));
        }
        let mut at = 19;
        let mut nanos = 0u32;
        if s.get(at) == Some(&b'.') {
            at += 1;
            let start = at;
            let mut scale = 100_000_000u32;
            while let Some(b) = s.get(at).filter(|b| b.is_ascii_digit()) {
                nanos += u32::from(b - b'0') * scale;
                scale /= 10;
                at += 1;
            }
            if at == start {
                return Err(bad(input, "expected digits after `.`"));
            }
        }
        let offset = match s.get(at) {
            Some(b'Z' | b'z') if s.len() == at + 1 => 0,
            Some(sign @ (b'+' | b'-')) if s.len() == at + 6 => {
                let (Some(oh), Some(om)) = (digits(s, at + 1, 2), digits(s, at + 4, 2)) else {
                    return Err(bad(input, "expected a time offset ±HH:MM"));
                };
                if s.get(at + 3) != Some(&b':') || oh > 23 || om > 59 {
                    return Err(bad(input, "expected a time offset ±HH:MM"));
                }
                let o = oh * 3600 + om * 60;
                if *sign == b'-' { -o } else { o }
            }
            _ => {
                return Err(bad(
                    input,
                    "expected `Z` or an offset ±HH:MM at the end (RFC 3339 needs one)",
                ));
            }
        };
        let secs = day * SECS_PER_DAY + h * 3600 + mi * 60 + sec - offset;
        Ok(Timestamp { secs, nanos })
    }
}

impl fmt::Display for Timestamp {
    /// RFC 3339 in UTC: `2026-12-01T10:00:00Z`, with a fraction only when
    /// there is one.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Rfc3339::new(self.secs, self.nanos, Fraction::Shortest).fmt(f)
    }
}

impl std::str::FromStr for Timestamp {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Timestamp::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_the_rfc3339_forms() {
        let t = Timestamp::parse("2026-12-01T10:00:00Z").unwrap();
        assert_eq!(t.to_string(), "2026-12-01T10:00:00Z");
        assert_eq!(
            Timestamp::parse("2026-12-01T11:30:00+01:30").unwrap(),
            Timestamp::parse("2026-12-01T10:00:00z").unwrap()
        );
        assert_eq!(
            Timestamp::parse("2026-12-01t10:00:00.250Z")
                .unwrap()
                .to_string(),
            "2026-12-01T10:00:00.25Z"
        );
        assert_eq!(
            Timestamp::parse("1970-01-01T00:00:00Z").unwrap(),
            Timestamp::UNIX_EPOCH
        );
        assert_eq!(
            Timestamp::parse("2026-12-01").unwrap().to_string(),
            "2026-12-01T00:00:00Z"
        );
        assert_eq!(
            Timestamp::parse_end_of("2026-12-31").unwrap().to_string(),
            "2027-01-01T00:00:00Z"
        );
        assert_eq!(
            Timestamp::parse("2024-02-29T23:59:59-00:00")
                .unwrap()
                .unix_seconds(),
            1_709_251_199
        );
    }

    #[test]
    fn refuses_what_is_not_rfc3339() {
        for bad in [
            "",
            "2026-13-01",
            "2026-02-29",
            "2026-12-01T10:00:00",
            "2026-12-01T10:00Z",
            "2026-12-01T24:00:00Z",
            "2026-12-01T23:59:60Z",
            "2026-12-01T10:00:00.Z",
            "2026-12-01T10:00:00+0100",
            "26-12-01",
            "2026/12/01",
            "2026-12-01T10:00:00Zjunk",
            "１９７０-01-01",
        ] {
            let e = Timestamp::parse(bad).unwrap_err();
            assert_eq!(e.code(), "invalid_time", "{bad}");
        }
    }

    proptest! {
        #[test]
        fn display_parses_back(secs in -62_135_596_800i64..253_402_300_799, nanos in 0u32..1_000_000_000) {
            let t = Timestamp { secs, nanos };
            prop_assert_eq!(Timestamp::parse(&t.to_string()).unwrap(), t);
        }

        #[test]
        fn never_panics(s in "\\PC{0,40}") {
            let _ = Timestamp::parse(&s);
            let _ = Timestamp::parse_end_of(&s);
        }
    }
}
