//! JSON text in and out with every number exact, as OPA keeps it.
//!
//! OPA holds a JSON number as its decimal text: an input with
//! `12345678901234567890123` compares exactly, and a result of `2 / 3 * 3`
//! or an X.509 serial number of 128 bits is written back digit for digit.
//! serde_json (without its `arbitrary_precision` feature, which would change
//! number equality everywhere) holds a number as an `i64`, `u64` or `f64`,
//! and would round such numbers silently.
//!
//! - [`read`] parses JSON text into the engine's value. Numbers that an
//!   `i64`, `u64` or `f64` holds exactly take serde's path unchanged (one
//!   pass, the common case). When [`crate::check_json_numbers`] finds one
//!   that would round, each such number token is replaced by a string
//!   sentinel carrying its text and a nonce of this call, the text is
//!   parsed, and the sentinels are turned into exact numbers (big integers,
//!   exact decimals). A number outside what the engine holds (an exponent
//!   beyond the float range, `1e400`) is [`Error::Unsupported`].
//! - [`write`] writes a value as compact JSON text with sorted keys, as
//!   regorus' `Serialize` does, except that big integers and exact decimals
//!   are written as their digits.

use std::fmt::Write as _;

use regorus::{Number, Value};

use crate::error::{Error, Result};

/// Deepest nesting [`write`] follows; deeper is an error, not a stack
/// overflow. serde_json reads at most 128 levels, and the parity check caps
/// literal nesting, so only computed values come near it.
const MAX_WRITE_DEPTH: usize = 1024;

/// Parses JSON text into the engine's value, every number exact. `what`
/// names the text in errors ([`Error::InvalidFile`] for malformed JSON).
pub(crate) fn read(what: &str, text: &[u8]) -> Result<Value> {
    let malformed = |e: serde_json::Error| Error::InvalidFile {
        path: what.to_owned(),
        reason: format!("not valid JSON: {e}"),
    };
    if crate::engine::json_numbers::check(text).is_ok() {
        match serde_json::from_slice::<Value>(text) {
            Ok(v) => return Ok(v),
            // `1e400`: read again below, exactly.
            Err(e) if !e.to_string().contains("number out of range") => return Err(malformed(e)),
            Err(_) => {}
        }
    }
    let nonce = sentinel_nonce();
    let (marked, count) = mark_numbers(text, &nonce);
    let value = serde_json::from_slice::<Value>(&marked).map_err(malformed)?;
    let mut left = count;
    let value = unmark(value, &nonce, &mut left, 0)?;
    Ok(value)
}

/// A prefix no JSON text can hold by chance: a NUL and 128 random bits.
fn sentinel_nonce() -> String {
    let mut bytes = [0u8; 16];
    // Not secret, only unpredictable: a document cannot forge a number from
    // a string it sends. Without OS randomness (it never fails on the
    // platforms cos supports) the clock still differs per call.
    if getrandom::fill(&mut bytes).is_err() {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        bytes = t.to_le_bytes();
    }
    let mut s = String::from("\u{0}cos-number:");
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s.push(':');
    s
}

/// The text with every inexact number token replaced by the JSON string
/// `"<nonce><token>"`, and how many were replaced.
fn mark_numbers(text: &[u8], nonce: &str) -> (Vec<u8>, usize) {
    let mut out = Vec::with_capacity(text.len() + 64);
    let mut count = 0;
    let mut copied = 0;
    for range in crate::engine::json_numbers::number_tokens(text) {
        let token = text.get(range.clone()).unwrap_or_default();
        if json_number(token) && !held_exactly(token) {
            out.extend_from_slice(text.get(copied..range.start).unwrap_or_default());
            out.push(b'"');
            // The nonce starts with a NUL, which JSON writes escaped.
            out.extend_from_slice(b"\\u0000");
            out.extend_from_slice(nonce.get(1..).unwrap_or_default().as_bytes());
            out.extend_from_slice(token);
            out.push(b'"');
            copied = range.end;
            count += 1;
        }
    }
    out.extend_from_slice(text.get(copied..).unwrap_or_default());
    (out, count)
}

/// Whether serde_json reads a number token as the same number: an `i64`,
/// `u64` or `f64` holds it exactly, and it is within the float range
/// (serde_json refuses `1e400` as out of range; OPA reads it).
fn held_exactly(token: &[u8]) -> bool {
    crate::engine::json_numbers::check(token).is_ok()
        && std::str::from_utf8(token)
            .ok()
            .and_then(|s| s.parse::<f64>().ok())
            .is_some_and(f64::is_finite)
}

/// Whether a token follows JSON's number grammar
/// (`-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`): a malformed one is
/// left in place for the parser to refuse.
fn json_number(token: &[u8]) -> bool {
    let mut t = token.strip_prefix(b"-").unwrap_or(token);
    let digits = |t: &mut &[u8]| {
        let n = t.iter().take_while(|c| c.is_ascii_digit()).count();
        *t = t.get(n..).unwrap_or_default();
        n
    };
    match t.first() {
        Some(b'0') => t = t.get(1..).unwrap_or_default(),
        Some(b'1'..=b'9') => {
            digits(&mut t);
        }
        _ => return false,
    }
    if let Some(rest) = t.strip_prefix(b".") {
        t = rest;
        if digits(&mut t) == 0 {
            return false;
        }
    }
    if let Some(rest) = t.strip_prefix(b"e").or_else(|| t.strip_prefix(b"E")) {
        t = rest;
        t = t
            .strip_prefix(b"+")
            .or_else(|| t.strip_prefix(b"-"))
            .unwrap_or(t);
        if digits(&mut t) == 0 {
            return false;
        }
    }
    t.is_empty()
}

/// Replaces the sentinel strings by the exact numbers they carry.
fn unmark(value: Value, nonce: &str, left: &mut usize, depth: usize) -> Result<Value> {
    if *left == 0 {
        return Ok(value);
    }
    if depth > MAX_WRITE_DEPTH {
        return Err(too_deep());
    }
    Ok(match value {
        Value::String(s) => match s.strip_prefix(nonce) {
            Some(token) => {
                *left -= 1;
                exact_number(token)?
            }
            None => Value::String(s),
        },
        Value::Array(_) => {
            let items: Vec<Value> = value
                .as_array()
                .map_err(|e| internal(e.to_string()))?
                .iter()
                .cloned()
                .collect();
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                out.push(unmark(item, nonce, left, depth + 1)?);
            }
            Value::from(out)
        }
        Value::Object(_) => {
            let entries: Vec<(Value, Value)> = value
                .as_object()
                .map_err(|e| internal(e.to_string()))?
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            let mut out = Vec::with_capacity(entries.len());
            for (k, v) in entries {
                out.push((k, unmark(v, nonce, left, depth + 1)?));
            }
            Value::from_entries(out)
        }
        other => other,
    })
}

/// The engine's exact number for a JSON number token that an `i64`, `u64`
/// or `f64` would round.
fn exact_number(token: &str) -> Result<Value> {
    let unsupported = || Error::Unsupported {
        what: format!(
            "the JSON number {} is beyond what cos holds exactly (an exponent outside the \
             64-bit float range): send it as a string",
            token.chars().take(48).collect::<String>()
        ),
    };
    // OPA keeps `1e400` as its text and writes it back so; cos would hold
    // it as a 401-digit integer and write that: refused, not rewritten.
    if token.parse::<f64>().map_or(true, |f| !f.is_finite()) {
        return Err(unsupported());
    }
    let value = Value::from_numeric_string(token).map_err(|_| unsupported())?;
    match &value {
        Value::Number(Number::Float(f)) if !f.is_finite() => Err(unsupported()),
        Value::Number(_) => Ok(value),
        _ => Err(unsupported()),
    }
}

/// Writes a value as JSON text: sorted keys, sets as arrays, every number
/// exact; compact, or `pretty` as serde_json's pretty printer lays it out
/// (two spaces, `"key": value`). Undefined (never part of a defined result)
/// is an error.
pub(crate) fn write(value: &Value, out: &mut String, pretty: bool) -> Result<()> {
    write_at(value, out, pretty, 0)
}

fn newline(out: &mut String, pretty: bool, depth: usize) {
    if pretty {
        out.push('\n');
        for _ in 0..depth {
            out.push_str("  ");
        }
    }
}

fn write_at(value: &Value, out: &mut String, pretty: bool, depth: usize) -> Result<()> {
    if depth > MAX_WRITE_DEPTH {
        return Err(too_deep());
    }
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::String(s) => write_str(s, out)?,
        Value::Number(n) => write_number(n, out)?,
        Value::Array(_) | Value::Set(_) => {
            let items: Box<dyn Iterator<Item = &Value>> = match value {
                Value::Array(a) => Box::new(a.iter()),
                Value::Set(s) => Box::new(s.iter()),
                _ => Box::new(std::iter::empty()),
            };
            out.push('[');
            let mut empty = true;
            for (i, item) in items.enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(out, pretty, depth + 1);
                write_at(item, out, pretty, depth + 1)?;
                empty = false;
            }
            if !empty {
                newline(out, pretty, depth);
            }
            out.push(']');
        }
        Value::Object(o) => {
            out.push('{');
            let mut empty = true;
            for (i, (k, v)) in o.iter_sorted().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(out, pretty, depth + 1);
                match k {
                    Value::String(s) => write_str(s, out)?,
                    Value::Number(n @ (Number::BigInt(_) | Number::Dec(_))) => {
                        write_str(&n.format_decimal(), out)?
                    }
                    // As regorus' `Serialize`: a key that is not a string is
                    // written as the string of its compact JSON text.
                    other => {
                        let mut text = String::new();
                        write_at(other, &mut text, false, depth + 1)?;
                        write_str(&text, out)?;
                    }
                }
                out.push_str(if pretty { ": " } else { ":" });
                write_at(v, out, pretty, depth + 1)?;
                empty = false;
            }
            if !empty {
                newline(out, pretty, depth);
            }
            out.push('}');
        }
        Value::Undefined => {
            return Err(internal("an undefined value inside a result".into()));
        }
    }
    Ok(())
}

fn write_str(s: &str, out: &mut String) -> Result<()> {
    let text = serde_json::to_string(s).map_err(|e| internal(e.to_string()))?;
    out.push_str(&text);
    Ok(())
}

fn write_number(n: &Number, out: &mut String) -> Result<()> {
    match n {
        Number::BigInt(_) | Number::Dec(_) => out.push_str(&n.format_decimal()),
        // Exactly as before: serde_json's integer and shortest-float text.
        _ => {
            let text = serde_json::to_string(n).map_err(|e| internal(e.to_string()))?;
            out.push_str(&text);
        }
    }
    Ok(())
}

/// Whether a big integer or an exact decimal (which serde writes as the
/// nearest `f64`) sits anywhere in the value, keys included. Deeper than
/// [`MAX_WRITE_DEPTH`] counts as yes.
pub(crate) fn has_inexact_number(value: &Value, depth: usize) -> bool {
    if depth > MAX_WRITE_DEPTH {
        return true;
    }
    match value {
        Value::Number(Number::BigInt(_) | Number::Dec(_)) => true,
        Value::Array(a) => a.iter().any(|v| has_inexact_number(v, depth + 1)),
        Value::Set(s) => s.iter().any(|v| has_inexact_number(v, depth + 1)),
        Value::Object(o) => o
            .iter()
            .any(|(k, v)| has_inexact_number(k, depth + 1) || has_inexact_number(v, depth + 1)),
        _ => false,
    }
}

fn too_deep() -> Error {
    Error::Unsupported {
        what: format!("a JSON value nested deeper than {MAX_WRITE_DEPTH} levels"),
    }
}

fn internal(message: String) -> Error {
    Error::Evaluation {
        query: "(JSON)".into(),
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(text: &str) -> String {
        let v = read("t", text.as_bytes()).unwrap();
        let mut out = String::new();
        write(&v, &mut out, false).unwrap();
        out
    }

    #[test]
    fn pretty_text_is_laid_out_as_serde_json_does() {
        for text in [
            r#"{"b": [1, {"x": []}, {}], "a": {"c": null, "d": "s\n"}}"#,
            "[]",
            "{}",
            r#"[[[]]]"#,
            r#"{"k": [true, false, 0.5, -3]}"#,
        ] {
            let v = read("t", text.as_bytes()).unwrap();
            let mut out = String::new();
            write(&v, &mut out, true).unwrap();
            let serde: serde_json::Value = serde_json::from_str(text).unwrap();
            assert_eq!(out, serde_json::to_string_pretty(&serde).unwrap(), "{text}");
        }
    }

    #[test]
    fn exact_numbers_survive_a_round_trip() {
        assert_eq!(
            round_trip(r#"{"b": 12345678901234567890123, "a": [0.1, -98765432109876543210, 1]}"#),
            r#"{"a":[0.1,-98765432109876543210,1],"b":12345678901234567890123}"#
        );
        assert_eq!(
            round_trip("0.12345678901234567890123"),
            "0.12345678901234567890123"
        );
        assert_eq!(round_trip("18446744073709551615"), "18446744073709551615");
    }

    #[test]
    fn a_sentinel_lookalike_string_stays_a_string() {
        let text = r#"["\u0000cos-number:00000000000000000000000000000000:123", 123456789012345678901234]"#;
        let out = round_trip(text);
        assert!(out.starts_with(r#"["\u0000cos-number:"#), "{out}");
        assert!(out.ends_with(r#",123456789012345678901234]"#), "{out}");
    }

    #[test]
    fn a_number_beyond_the_float_range_is_unsupported() {
        let e = read("t", b"[1e400]").unwrap_err();
        assert_eq!(e.code(), "unsupported", "{e}");
    }

    #[test]
    fn malformed_json_is_invalid_file() {
        for t in [
            &b"[1,"[..],
            b"{\"a\" 123456789012345678901234}",
            b"01",
            b"1.e5",
        ] {
            let e = read("t", t).unwrap_err();
            assert_eq!(e.code(), "invalid_file", "{e}");
        }
    }

    #[test]
    fn json_number_grammar() {
        for ok in [
            "0",
            "-0",
            "1.5",
            "1e5",
            "1E+5",
            "-12.5e-3",
            "123456789012345678901234",
        ] {
            assert!(json_number(ok.as_bytes()), "{ok}");
        }
        for bad in ["", "-", "01", "1.", ".5", "1e", "1e+", "--1", "1-2", "+1"] {
            assert!(!json_number(bad.as_bytes()), "{bad}");
        }
    }
}
