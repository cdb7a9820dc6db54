//! Numbers in JSON text that cos would not read exactly.
//!
//! OPA keeps a JSON number as its decimal text, so an input or data
//! document with `12345678901234567890123` or `0.1234567890123456789`
//! compares exactly in OPA. cos reads JSON with serde_json, which holds
//! such numbers as the nearest 64-bit float: `input.id ==
//! 12345678901234567890123` would be false, silently. [`check`] finds them
//! first, so that the caller refuses the document with a typed error
//! ([`Error::Unsupported`]) instead of deciding on a rounded value.
//!
//! A number is read exactly when it is an integer that fits 64 bits
//! (signed or unsigned), or when the float serde_json reads it as has that
//! number as its shortest decimal (every number of at most 15 significant
//! digits within the float range does: `0.1`, `1e20`, `2.5e-7`).
//!
//! ```
//! assert!(cos_policy::check_json_numbers(br#"{"id": 18446744073709551615, "x": 0.1}"#).is_ok());
//! let e = cos_policy::check_json_numbers(br#"{"id": 18446744073709551616}"#).unwrap_err();
//! assert_eq!(e.code(), "unsupported");
//! ```

use crate::error::{Error, Result};

/// Scans JSON text (valid or not: the parser reports syntax) and fails on
/// the first number that a 64-bit float or integer would not hold exactly.
/// One pass over the bytes; strings are skipped.
pub fn check(text: &[u8]) -> Result<()> {
    for range in number_tokens(text) {
        let token = text.get(range).unwrap_or_default();
        if !exact(token) {
            let shown: String = String::from_utf8_lossy(token).chars().take(48).collect();
            return Err(Error::Unsupported {
                what: format!(
                    "the JSON number {shown} has more digits or range than cos reads exactly \
                     (a 64-bit integer or float; OPA keeps its text): send it as a string"
                ),
            });
        }
    }
    Ok(())
}

/// The byte ranges of the number tokens of JSON text, in order (a run of
/// digits, signs, dots and exponents outside strings; whether it is a
/// well-formed number is the parser's to say). Strings are skipped, escapes
/// included.
pub(crate) fn number_tokens(text: &[u8]) -> impl Iterator<Item = std::ops::Range<usize>> + '_ {
    let mut i = 0;
    std::iter::from_fn(move || {
        while let Some(&b) = text.get(i) {
            match b {
                b'"' => {
                    i += 1;
                    while let Some(&c) = text.get(i) {
                        i += 1;
                        match c {
                            b'\\' => i += 1,
                            b'"' => break,
                            _ => {}
                        }
                    }
                }
                b'-' | b'0'..=b'9' => {
                    let start = i;
                    while text.get(i).is_some_and(|c| {
                        matches!(c, b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E')
                    }) {
                        i += 1;
                    }
                    return Some(start..i);
                }
                _ => i += 1,
            }
        }
        None
    })
}

/// Whether serde_json reads this number token exactly. A malformed token
/// counts as exact: the JSON parser reports it.
fn exact(token: &[u8]) -> bool {
    let Ok(s) = std::str::from_utf8(token) else {
        return true;
    };
    let unsigned = s.strip_prefix('-').unwrap_or(s);
    if !unsigned.bytes().all(|b| b.is_ascii_digit()) {
        return float_exact(s);
    }
    // An integer: 64 bits, signed or unsigned (19 digits always fit).
    if unsigned.len() <= 18 {
        return true;
    }
    if s.starts_with('-') {
        s.parse::<i64>().is_ok()
    } else {
        s.parse::<u64>().is_ok()
    }
}

/// A fraction or exponent form: exact when its value is the shortest
/// decimal of the float it parses to.
fn float_exact(s: &str) -> bool {
    let Some(lit) = Decimal::parse(s) else {
        return true;
    };
    if lit.digits.is_empty() {
        return true;
    }
    if lit.digits.len() <= 15 && (-300..=300).contains(&lit.exp) {
        return true;
    }
    let Ok(f) = s.parse::<f64>() else {
        return true;
    };
    if !f.is_finite() {
        // serde_json refuses it ("number out of range").
        return true;
    }
    Decimal::parse(&format!("{f:e}")).is_some_and(|d| d.digits == lit.digits && d.exp == lit.exp)
}

/// A decimal's significant digits (no leading or trailing zeros) and its
/// exponent: value = 0.digits × 10^exp. Zero has no digits.
#[derive(PartialEq, Eq)]
struct Decimal {
    digits: String,
    exp: i64,
}

impl Decimal {
    fn parse(s: &str) -> Option<Decimal> {
        let s = s.strip_prefix('-').unwrap_or(s);
        let (mant, exp) = match s.find(['e', 'E']) {
            Some(i) => (s.get(..i)?, s.get(i + 1..)?.parse::<i64>().ok()?),
            None => (s, 0),
        };
        let (whole, frac) = mant.split_once('.').unwrap_or((mant, ""));
        if !whole
            .bytes()
            .chain(frac.bytes())
            .all(|b| b.is_ascii_digit())
        {
            return None;
        }
        let all: String = format!("{whole}{frac}");
        let lead = all.len() - all.trim_start_matches('0').len();
        let digits = all.trim_start_matches('0').trim_end_matches('0').to_owned();
        let whole_len = i64::try_from(whole.len()).ok()?;
        let lead = i64::try_from(lead).ok()?;
        Some(Decimal {
            digits,
            exp: exp.checked_add(whole_len)?.checked_sub(lead)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_numbers_pass() {
        for ok in [
            "0",
            "-0",
            "1",
            "-9223372036854775808",
            "18446744073709551615",
            "0.1",
            "1e20",
            "1E+20",
            "2.5e-7",
            "0.30000000000000004",
            "1.7976931348623157e308",
            "5e-324",
            "123456789012345",
            "1.0",
            "100.000",
        ] {
            assert!(check(ok.as_bytes()).is_ok(), "{ok}");
            assert!(
                check(format!("{{\"a\": [{ok}]}}").as_bytes()).is_ok(),
                "{ok}"
            );
        }
    }

    #[test]
    fn rounded_numbers_fail() {
        for bad in [
            "18446744073709551616",
            "-9223372036854775809",
            "12345678901234567890123",
            "0.1234567890123456789",
            "1e-400",
            "0.30000000000000000001",
            "9007199254740993.0",
        ] {
            let e = check(format!("{{\"a\": {bad}}}").as_bytes()).unwrap_err();
            assert_eq!(e.code(), "unsupported", "{bad}");
            assert!(e.to_string().contains(bad), "{e}");
        }
    }

    #[test]
    fn strings_and_keys_are_skipped() {
        let text = br#"{"12345678901234567890123": "0.1234567890123456789 \" 99999999999999999999", "b": 1}"#;
        assert!(check(text).is_ok());
    }

    #[test]
    fn any_bytes_are_scanned_without_panic() {
        for text in [
            &b"\""[..],
            b"\"\\",
            b"-",
            b"1e",
            b"1e99999999999999999999",
            b"\xff9",
            b"--1",
        ] {
            let _ = check(text);
        }
    }
}
