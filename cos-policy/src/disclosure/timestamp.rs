//! RFC 3339 UTC timestamps for disclosure packs.

use std::fmt;
use std::str::FromStr;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{Error, Result};
use cos_core::time::{Fraction, Rfc3339, days_from_civil, days_in_month};

/// A point in time, UTC, with nanosecond precision, written in RFC 3339
/// form with a `Z` offset (`2026-11-22T10:00:00Z`,
/// `2026-11-22T10:00:00.25Z`).
///
/// Only what OPA's `time.parse_rfc3339_ns` can also read is accepted: years
/// 1970 to 2262 (nanoseconds since the epoch in an `i64`), upper-case `T`
/// and `Z`, no other offset, no leap second, at most nine fraction digits.
/// Printing gives the shortest form (trailing fraction zeros dropped), so
/// the text of a parsed timestamp is canonical.
///
/// ```
/// use cos_policy::disclosure::Timestamp;
/// let t: Timestamp = "2026-11-22T10:00:00.500Z".parse().unwrap();
/// assert_eq!(t.to_string(), "2026-11-22T10:00:00.5Z");
/// assert!(t < "2027-01-01T00:00:00Z".parse().unwrap());
/// assert!("2026-11-22T10:00:00+01:00".parse::<Timestamp>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Timestamp(i64);

fn bad(input: &str, reason: &str) -> Error {
    let mut shown: String = input.chars().take(64).collect();
    if shown.len() < input.len() {
        shown.push('…');
    }
    Error::DisclosureInvalid {
        reason: format!(
            "timestamp {shown:?}: {reason} (expected RFC 3339 UTC, e.g. 2026-11-22T10:00:00Z)"
        ),
    }
}

impl Timestamp {
    /// The timestamp `ns` nanoseconds after 1970-01-01T00:00:00Z (negative
    /// values are refused).
    pub fn from_unix_nanos(ns: i64) -> Option<Self> {
        (ns >= 0).then_some(Timestamp(ns))
    }

    /// Nanoseconds since 1970-01-01T00:00:00Z.
    pub fn unix_nanos(self) -> i64 {
        self.0
    }

    /// A system time, or `None` outside the supported range.
    pub fn from_system_time(t: SystemTime) -> Option<Self> {
        let d = t.duration_since(UNIX_EPOCH).ok()?;
        i64::try_from(d.as_nanos()).ok().map(Timestamp)
    }

    /// The current time (the system clock).
    pub fn now() -> Self {
        Self::from_system_time(SystemTime::now()).unwrap_or(Timestamp(i64::MAX))
    }

    fn parse(s: &str) -> Result<Self> {
        let b = s.as_bytes();
        if b.len() < 20 || b.len() > 30 {
            return Err(bad(s, "wrong length"));
        }
        let num = |from: usize, to: usize| -> Result<i128> {
            let part = &b[from..to];
            if !part.iter().all(u8::is_ascii_digit) {
                return Err(bad(s, "digits expected"));
            }
            Ok(part
                .iter()
                .fold(0i128, |acc, d| acc * 10 + i128::from(d - b'0')))
        };
        for (i, c) in [(4, b'-'), (7, b'-'), (10, b'T'), (13, b':'), (16, b':')] {
            if b[i] != c {
                return Err(bad(s, "malformed"));
            }
        }
        let (y, mo, d) = (num(0, 4)?, num(5, 7)?, num(8, 10)?);
        let (h, mi, sec) = (num(11, 13)?, num(14, 16)?, num(17, 19)?);
        let mut nanos = 0i128;
        let rest = &b[19..];
        let rest = match rest.split_last() {
            Some((b'Z', rest)) => rest,
            _ => return Err(bad(s, "must end in Z (UTC)")),
        };
        if let Some((b'.', frac)) = rest.split_first() {
            if frac.is_empty() || frac.len() > 9 {
                return Err(bad(s, "1 to 9 fraction digits expected"));
            }
            let f = num(20, 20 + frac.len())?;
            nanos = f * 10i128.pow(9 - frac.len() as u32);
        } else if !rest.is_empty() {
            return Err(bad(s, "malformed"));
        }
        // Four and two digits: in range for the conversions below.
        let (y, mo, d) = (y as i64, mo as u32, d as u32);
        if !(1..=12).contains(&mo) {
            return Err(bad(s, "month out of range"));
        }
        if d < 1 || d > days_in_month(y, mo) {
            return Err(bad(s, "day out of range"));
        }
        if h > 23 || mi > 59 || sec > 59 {
            return Err(bad(s, "time of day out of range"));
        }
        let days = days_from_civil(y, mo, d).ok_or_else(|| bad(s, "month out of range"))?;
        let ns = i128::from(days) * i128::from(crate::engine::dates::NS_PER_DAY)
            + ((h * 60 + mi) * 60 + sec) * 1_000_000_000
            + nanos;
        i64::try_from(ns)
            .ok()
            .and_then(Self::from_unix_nanos)
            .ok_or_else(|| bad(s, "outside 1970 to 2262"))
    }
}

impl FromStr for Timestamp {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Self::parse(s)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (secs, nanos) = (
            self.0.div_euclid(1_000_000_000),
            self.0.rem_euclid(1_000_000_000),
        );
        // 0..1e9 by construction.
        Rfc3339::new(secs, nanos as u32, Fraction::Shortest).fmt(f)
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parse_and_print() {
        for (text, ns, printed) in [
            ("1970-01-01T00:00:00Z", 0i64, "1970-01-01T00:00:00Z"),
            (
                "2000-03-01T00:00:00Z",
                951_868_800_000_000_000,
                "2000-03-01T00:00:00Z",
            ),
            (
                "2026-11-22T10:00:00.5Z",
                1_795_341_600_500_000_000,
                "2026-11-22T10:00:00.5Z",
            ),
            (
                "2026-11-22T10:00:00.000000001Z",
                1_795_341_600_000_000_001,
                "2026-11-22T10:00:00.000000001Z",
            ),
            (
                "2026-11-22T10:00:00.000Z",
                1_795_341_600_000_000_000,
                "2026-11-22T10:00:00Z",
            ),
            (
                "2024-02-29T23:59:59Z",
                1_709_251_199_000_000_000,
                "2024-02-29T23:59:59Z",
            ),
        ] {
            let t: Timestamp = text.parse().unwrap();
            assert_eq!(t.unix_nanos(), ns, "{text}");
            assert_eq!(t.to_string(), printed);
        }
        for bad in [
            "",
            "2026-11-22",
            "2026-11-22T10:00:00",
            "2026-11-22t10:00:00Z",
            "2026-11-22T10:00:00z",
            "2026-11-22T10:00:00+00:00",
            "2026-11-22 10:00:00Z",
            "2026-13-01T00:00:00Z",
            "2026-00-01T00:00:00Z",
            "2023-02-29T00:00:00Z",
            "2026-11-31T00:00:00Z",
            "2026-11-22T24:00:00Z",
            "2026-11-22T10:60:00Z",
            "2026-11-22T10:00:60Z",
            "2026-11-22T10:00:00.Z",
            "2026-11-22T10:00:00.1234567890Z",
            "1969-12-31T23:59:59Z",
            "2262-04-12T00:00:00Z",
            "+026-11-22T10:00:00Z",
            "2026-11-22T10:00:00ZZ",
            "２026-11-22T10:00:00Z",
        ] {
            let e = bad.parse::<Timestamp>().unwrap_err();
            assert_eq!(e.code(), "disclosure_invalid", "{bad}");
        }
    }

    proptest! {
        #[test]
        fn round_trip(ns in 0i64..i64::MAX) {
            let t = Timestamp::from_unix_nanos(ns).unwrap();
            prop_assert_eq!(t.to_string().parse::<Timestamp>().unwrap(), t);
        }

        #[test]
        fn parse_never_panics(s in "\\PC{0,32}") {
            let _ = s.parse::<Timestamp>();
        }
    }
}
