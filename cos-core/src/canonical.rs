//! RFC 8785 JSON Canonicalization Scheme (JCS).
//!
//! The canonical form is what cos signs and hashes whenever the input is JSON:
//! object members sorted by their UTF-16 code units, no insignificant
//! whitespace, strings with the minimal escapes, and numbers printed the way
//! ECMAScript's `Number.prototype.toString` prints an IEEE-754 double.
//!
//! Input must be I-JSON (RFC 7493): valid UTF-8 with no lone surrogates, no
//! duplicate member names, finite numbers. An integer literal must survive
//! conversion to a double unchanged: `9007199254740993` would be silently
//! rounded to `9007199254740992` by a JavaScript-style canonicaliser, which
//! is not acceptable for ids and timestamps in signed evidence, so it is
//! rejected (PyPI `rfc8785` likewise refuses integers it cannot represent).
//! Every integer within ±(2^53 − 1) passes, and so does a larger one written
//! the way ECMAScript prints it (`100000000000000000000`), so canonical output
//! always canonicalises to itself. Float literals (`1e21`, `5e-324`, `-0.0`)
//! are accepted and printed in ECMAScript form.
//!
//! ```
//! let canon = cos_core::canonical::canonicalize(br#"{"b": [1.0, 1e21, -0], "a": "\u00e9"}"#).unwrap();
//! assert_eq!(canon, "{\"a\":\"é\",\"b\":[1,1e+21,0]}".as_bytes());
//! ```

use std::cmp::Ordering;

use serde::Serialize;

use crate::error::{Error, Result};

/// Most levels of nested arrays and objects accepted in input (`[[1]]` has
/// two). 127 is what `serde_json` reads back, so everything cos canonicalises
/// can also be parsed by cos's serde-based readers.
pub const MAX_DEPTH: usize = 127;

/// Canonicalises JSON text (RFC 8785).
pub fn canonicalize(input: &[u8]) -> Result<Vec<u8>> {
    let value = parse(input)?;
    let mut out = Vec::with_capacity(input.len());
    write_value(&value, &mut out);
    Ok(out)
}

/// Canonical JSON of any serialisable value.
///
/// ```
/// #[derive(serde::Serialize)]
/// struct Subject { name: String, size: u64 }
/// let s = Subject { name: "a.tar".into(), size: 3 };
/// assert_eq!(cos_core::canonical::to_canonical_vec(&s).unwrap(), br#"{"name":"a.tar","size":3}"#);
/// ```
pub fn to_canonical_vec<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>> {
    let v = serde_json::to_value(value).map_err(|e| Error::InvalidJson {
        reason: e.to_string(),
    })?;
    let node = from_serde(&v, 0)?;
    let mut out = Vec::new();
    write_value(&node, &mut out);
    Ok(out)
}

/// Canonical JSON of a value as a `String`.
pub fn to_canonical_string<T: Serialize + ?Sized>(value: &T) -> Result<String> {
    let bytes = to_canonical_vec(value)?;
    // Canonical output is built from valid UTF-8 only.
    String::from_utf8(bytes).map_err(|e| Error::InvalidJson {
        reason: e.to_string(),
    })
}

/// Formats a double the way ECMAScript's `Number.prototype.toString` does
/// (RFC 8785 section 3.2.2.3). Returns `None` for NaN and infinities.
///
/// ```
/// use cos_core::canonical::format_number;
/// assert_eq!(format_number(1e21).unwrap(), "1e+21");
/// assert_eq!(format_number(1e20).unwrap(), "100000000000000000000");
/// assert_eq!(format_number(5e-324).unwrap(), "5e-324");
/// assert_eq!(format_number(-0.0).unwrap(), "0");
/// assert_eq!(format_number(0.000001).unwrap(), "0.000001");
/// assert_eq!(format_number(1e-7).unwrap(), "1e-7");
/// ```
pub fn format_number(v: f64) -> Option<String> {
    if !v.is_finite() {
        return None;
    }
    let mut out = Vec::new();
    write_number(v, &mut out);
    String::from_utf8(out).ok()
}

#[derive(Debug, Clone, PartialEq)]
enum Node {
    Null,
    Bool(bool),
    Number(f64),
    String(String),
    Array(Vec<Node>),
    Object(Vec<(String, Node)>),
}

fn json_err(reason: impl Into<String>) -> Error {
    Error::InvalidJson {
        reason: reason.into(),
    }
}

fn from_serde(v: &serde_json::Value, depth: usize) -> Result<Node> {
    if depth >= MAX_DEPTH && (v.is_array() || v.is_object()) {
        return Err(json_err(format!("nesting deeper than {MAX_DEPTH}")));
    }
    Ok(match v {
        serde_json::Value::Null => Node::Null,
        serde_json::Value::Bool(b) => Node::Bool(*b),
        serde_json::Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                integer_node(i as f64, &n.to_string())?
            } else if let Some(u) = n.as_u64() {
                integer_node(u as f64, &n.to_string())?
            } else {
                let f = n.as_f64().ok_or_else(|| Error::NumberOutOfRange {
                    value: n.to_string(),
                    reason: "not representable as a double",
                })?;
                float_node(f, &n.to_string())?
            }
        }
        serde_json::Value::String(s) => Node::String(s.clone()),
        serde_json::Value::Array(a) => Node::Array(
            a.iter()
                .map(|x| from_serde(x, depth + 1))
                .collect::<Result<_>>()?,
        ),
        serde_json::Value::Object(m) => {
            let members = m
                .iter()
                .map(|(k, x)| Ok((k.clone(), from_serde(x, depth + 1)?)))
                .collect::<Result<Vec<_>>>()?;
            sorted_object(members)?
        }
    })
}

/// Below 2^53 every integer is exact as a double (2^53 + 1 rounds to 2^53).
const EXACT_INTEGER_LIMIT: f64 = 9_007_199_254_740_992.0;

fn integer_node(f: f64, text: &str) -> Result<Node> {
    // Beyond 2^53 a literal is kept only if it is exactly how ECMAScript
    // prints its double, i.e. nothing was rounded away.
    if f.abs() >= EXACT_INTEGER_LIMIT && format_number(f).as_deref() != Some(text) {
        return Err(Error::NumberOutOfRange {
            value: crate::error::excerpt(text),
            reason: "integer would lose precision as an IEEE-754 double; send it as a string",
        });
    }
    Ok(Node::Number(f))
}

fn float_node(f: f64, text: &str) -> Result<Node> {
    if !f.is_finite() {
        return Err(Error::NumberOutOfRange {
            value: crate::error::excerpt(text),
            reason: "not a finite double",
        });
    }
    Ok(Node::Number(f))
}

fn utf16_cmp(a: &str, b: &str) -> Ordering {
    a.encode_utf16().cmp(b.encode_utf16())
}

fn sorted_object(mut members: Vec<(String, Node)>) -> Result<Node> {
    members.sort_by(|a, b| utf16_cmp(&a.0, &b.0));
    if let Some(w) = members.windows(2).find(|w| w[0].0 == w[1].0) {
        return Err(json_err(format!(
            "duplicate member name {:?}",
            crate::error::excerpt(&w[0].0)
        )));
    }
    Ok(Node::Object(members))
}

// ---------------------------------------------------------------- parsing

fn parse(input: &[u8]) -> Result<Node> {
    let text = std::str::from_utf8(input).map_err(|e| json_err(format!("not UTF-8: {e}")))?;
    let mut p = Parser {
        s: text.as_bytes(),
        text,
        pos: 0,
    };
    p.skip_ws();
    let v = p.value(0)?;
    p.skip_ws();
    if p.pos != p.s.len() {
        return Err(p.err("trailing characters after the JSON value"));
    }
    Ok(v)
}

struct Parser<'a> {
    s: &'a [u8],
    text: &'a str,
    pos: usize,
}

impl Parser<'_> {
    fn err(&self, what: &str) -> Error {
        json_err(format!("{what} at byte {}", self.pos))
    }

    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.s.get(self.pos) {
            self.pos += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    fn expect_lit(&mut self, lit: &[u8], node: Node) -> Result<Node> {
        if self.s[self.pos..].starts_with(lit) {
            self.pos += lit.len();
            Ok(node)
        } else {
            Err(self.err("invalid literal"))
        }
    }

    fn value(&mut self, depth: usize) -> Result<Node> {
        if depth >= MAX_DEPTH && matches!(self.peek(), Some(b'[' | b'{')) {
            return Err(self.err(&format!("nesting deeper than {MAX_DEPTH}")));
        }
        match self.peek() {
            None => Err(self.err("unexpected end of input")),
            Some(b'n') => self.expect_lit(b"null", Node::Null),
            Some(b't') => self.expect_lit(b"true", Node::Bool(true)),
            Some(b'f') => self.expect_lit(b"false", Node::Bool(false)),
            Some(b'"') => Ok(Node::String(self.string()?)),
            Some(b'[') => {
                self.pos += 1;
                let mut items = Vec::new();
                self.skip_ws();
                if self.peek() == Some(b']') {
                    self.pos += 1;
                    return Ok(Node::Array(items));
                }
                loop {
                    self.skip_ws();
                    items.push(self.value(depth + 1)?);
                    self.skip_ws();
                    match self.peek() {
                        Some(b',') => self.pos += 1,
                        Some(b']') => {
                            self.pos += 1;
                            return Ok(Node::Array(items));
                        }
                        _ => return Err(self.err("expected ',' or ']'")),
                    }
                }
            }
            Some(b'{') => {
                self.pos += 1;
                let mut members = Vec::new();
                self.skip_ws();
                if self.peek() == Some(b'}') {
                    self.pos += 1;
                    return Ok(Node::Object(members));
                }
                loop {
                    self.skip_ws();
                    if self.peek() != Some(b'"') {
                        return Err(self.err("expected a member name"));
                    }
                    let k = self.string()?;
                    self.skip_ws();
                    if self.peek() != Some(b':') {
                        return Err(self.err("expected ':'"));
                    }
                    self.pos += 1;
                    self.skip_ws();
                    let v = self.value(depth + 1)?;
                    members.push((k, v));
                    self.skip_ws();
                    match self.peek() {
                        Some(b',') => self.pos += 1,
                        Some(b'}') => {
                            self.pos += 1;
                            return sorted_object(members);
                        }
                        _ => return Err(self.err("expected ',' or '}'")),
                    }
                }
            }
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(_) => Err(self.err("unexpected character")),
        }
    }

    fn digits(&mut self) -> usize {
        let start = self.pos;
        while let Some(b'0'..=b'9') = self.peek() {
            self.pos += 1;
        }
        self.pos - start
    }

    fn number(&mut self) -> Result<Node> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => {
                self.digits();
            }
            _ => return Err(self.err("invalid number")),
        }
        let mut integer = true;
        if self.peek() == Some(b'.') {
            integer = false;
            self.pos += 1;
            if self.digits() == 0 {
                return Err(self.err("invalid number: digits expected after '.'"));
            }
        }
        if let Some(b'e' | b'E') = self.peek() {
            integer = false;
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            if self.digits() == 0 {
                return Err(self.err("invalid number: digits expected in exponent"));
            }
        }
        let lit = &self.text[start..self.pos];
        let f: f64 = lit.parse().map_err(|_| self.err("invalid number"))?;
        if integer {
            integer_node(f, lit)
        } else {
            float_node(f, lit)
        }
    }

    fn hex4(&mut self) -> Result<u32> {
        let h = self
            .s
            .get(self.pos..self.pos + 4)
            .ok_or_else(|| self.err("truncated \\u escape"))?;
        let h = std::str::from_utf8(h).map_err(|_| self.err("invalid \\u escape"))?;
        let v = u32::from_str_radix(h, 16).map_err(|_| self.err("invalid \\u escape"))?;
        if !h.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(self.err("invalid \\u escape"));
        }
        self.pos += 4;
        Ok(v)
    }

    fn string(&mut self) -> Result<String> {
        self.pos += 1; // opening quote
        let mut out = String::new();
        loop {
            // Copy a run of plain characters at once.
            let run_start = self.pos;
            while let Some(&b) = self.s.get(self.pos) {
                if b == b'"' || b == b'\\' || b < 0x20 {
                    break;
                }
                self.pos += 1;
            }
            out.push_str(&self.text[run_start..self.pos]);
            match self.peek() {
                None => return Err(self.err("unterminated string")),
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.pos += 1;
                    let c = self.peek().ok_or_else(|| self.err("unterminated escape"))?;
                    self.pos += 1;
                    match c {
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'/' => out.push('/'),
                        b'b' => out.push('\u{8}'),
                        b'f' => out.push('\u{c}'),
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        b'u' => {
                            let hi = self.hex4()?;
                            let cp = if (0xD800..0xDC00).contains(&hi) {
                                if !self.s[self.pos..].starts_with(b"\\u") {
                                    return Err(self.err("lone high surrogate"));
                                }
                                self.pos += 2;
                                let lo = self.hex4()?;
                                if !(0xDC00..0xE000).contains(&lo) {
                                    return Err(
                                        self.err("high surrogate not followed by a low one")
                                    );
                                }
                                0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                            } else if (0xDC00..0xE000).contains(&hi) {
                                return Err(self.err("lone low surrogate"));
                            } else {
                                hi
                            };
                            let ch =
                                char::from_u32(cp).ok_or_else(|| self.err("invalid code point"))?;
                            out.push(ch);
                        }
                        _ => return Err(self.err("invalid escape")),
                    }
                }
                Some(_) => return Err(self.err("unescaped control character in string")),
            }
        }
    }
}

// ---------------------------------------------------------------- output

fn write_value(v: &Node, out: &mut Vec<u8>) {
    match v {
        Node::Null => out.extend_from_slice(b"null"),
        Node::Bool(true) => out.extend_from_slice(b"true"),
        Node::Bool(false) => out.extend_from_slice(b"false"),
        Node::Number(f) => write_number(*f, out),
        Node::String(s) => write_string(s, out),
        Node::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_value(item, out);
            }
            out.push(b']');
        }
        Node::Object(members) => {
            out.push(b'{');
            for (i, (k, item)) in members.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_string(k, out);
                out.push(b':');
                write_value(item, out);
            }
            out.push(b'}');
        }
    }
}

fn write_string(s: &str, out: &mut Vec<u8>) {
    out.push(b'"');
    let bytes = s.as_bytes();
    let mut run = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let esc: Option<&[u8]> = match b {
            b'"' => Some(b"\\\""),
            b'\\' => Some(b"\\\\"),
            0x08 => Some(b"\\b"),
            0x09 => Some(b"\\t"),
            0x0A => Some(b"\\n"),
            0x0C => Some(b"\\f"),
            0x0D => Some(b"\\r"),
            0x00..=0x1F => None,
            _ => continue,
        };
        out.extend_from_slice(&bytes[run..i]);
        run = i + 1;
        match esc {
            Some(e) => out.extend_from_slice(e),
            None => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.extend_from_slice(b"\\u00");
                out.push(HEX[(b >> 4) as usize]);
                out.push(HEX[(b & 0xF) as usize]);
            }
        }
    }
    out.extend_from_slice(&bytes[run..]);
    out.push(b'"');
}

/// ECMAScript Number::toString(10) for a finite double.
fn write_number(v: f64, out: &mut Vec<u8>) {
    if v == 0.0 {
        out.push(b'0'); // +0 and -0 alike
        return;
    }
    let mut buf = ryu::Buffer::new();
    let shortest = buf.format_finite(v);
    let (negative, body) = match shortest.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, shortest),
    };
    // Ryu gives the shortest round-trip digits in either "123.45" or
    // "1.2345e-7" form; reduce both to digits `s` and exponent `n` such that
    // v = 0.s × 10^n (ECMAScript's k and n).
    let (mantissa, exp) = match body.split_once('e') {
        Some((m, e)) => (m, e.parse::<i32>().unwrap_or(0)),
        None => (body, 0),
    };
    let (int_part, frac_part) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let mut digits: Vec<u8> = int_part.bytes().chain(frac_part.bytes()).collect();
    let mut n = int_part.len() as i32 + exp;
    let lead = digits.iter().take_while(|&&d| d == b'0').count();
    digits.drain(..lead);
    n -= lead as i32;
    while digits.last() == Some(&b'0') {
        digits.pop();
    }
    let k = digits.len() as i32;
    if negative {
        out.push(b'-');
    }
    if k <= n && n <= 21 {
        out.extend_from_slice(&digits);
        out.extend(std::iter::repeat_n(b'0', (n - k) as usize));
    } else if 0 < n && n <= 21 {
        out.extend_from_slice(&digits[..n as usize]);
        out.push(b'.');
        out.extend_from_slice(&digits[n as usize..]);
    } else if -6 < n && n <= 0 {
        out.extend_from_slice(b"0.");
        out.extend(std::iter::repeat_n(b'0', (-n) as usize));
        out.extend_from_slice(&digits);
    } else {
        out.push(digits[0]);
        if k > 1 {
            out.push(b'.');
            out.extend_from_slice(&digits[1..]);
        }
        out.push(b'e');
        let e = n - 1;
        out.push(if e < 0 { b'-' } else { b'+' });
        out.extend_from_slice(e.unsigned_abs().to_string().as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn canon(s: &str) -> String {
        String::from_utf8(canonicalize(s.as_bytes()).unwrap()).unwrap()
    }

    // RFC 8785 appendix B: number serialisation samples (IEEE-754 bit pattern → text).
    #[test]
    fn rfc8785_number_table() {
        let table: &[(u64, &str)] = &[
            (0x0000000000000000, "0"),
            (0x8000000000000000, "0"),
            (0x0000000000000001, "5e-324"),
            (0x8000000000000001, "-5e-324"),
            (0x7fefffffffffffff, "1.7976931348623157e+308"),
            (0xffefffffffffffff, "-1.7976931348623157e+308"),
            (0x4340000000000000, "9007199254740992"),
            (0xc340000000000000, "-9007199254740992"),
            (0x4430000000000000, "295147905179352830000"),
            (0x44b52d02c7e14af5, "9.999999999999997e+22"),
            (0x44b52d02c7e14af6, "1e+23"),
            (0x44b52d02c7e14af7, "1.0000000000000001e+23"),
            (0x444b1ae4d6e2ef4e, "999999999999999700000"),
            (0x444b1ae4d6e2ef4f, "999999999999999900000"),
            (0x444b1ae4d6e2ef50, "1e+21"),
            (0x3eb0c6f7a0b5ed8c, "9.999999999999997e-7"),
            (0x3eb0c6f7a0b5ed8d, "0.000001"),
            (0x41b3de4355555553, "333333333.3333332"),
            (0x41b3de4355555554, "333333333.33333325"),
            (0x41b3de4355555555, "333333333.3333333"),
            (0x41b3de4355555556, "333333333.3333334"),
            (0x41b3de4355555557, "333333333.33333343"),
            (0xbecbf647612f3696, "-0.0000033333333333333333"),
            (0x43143ff3c1cb0959, "1424953923781206.2"),
        ];
        for &(bits, want) in table {
            assert_eq!(
                format_number(f64::from_bits(bits)).unwrap(),
                want,
                "bits {bits:#x}"
            );
        }
        assert!(format_number(f64::NAN).is_none());
        assert!(format_number(f64::INFINITY).is_none());
    }

    // RFC 8785 section 3.2.2 example, with its awkward numbers and escapes.
    #[test]
    fn rfc8785_example() {
        let input = r#"{
          "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
          "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
          "literals": [null, true, false]
        }"#;
        assert_eq!(
            canon(input),
            r#"{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\u000f\nA'B\"\\\\\"/"}"#
        );
    }

    // RFC 8785 section 3.2.3: sorting by UTF-16 code units, not code points.
    #[test]
    fn utf16_sort_order() {
        let input = r#"{"\u20ac": "Euro Sign", "\r": "Carriage Return", "\ufb33": "Hebrew Letter Dalet With Dagesh",
            "1": "One", "\ud83d\ude00": "Emoji: Grinning Face", "\u0080": "Control", "\u00f6": "Latin Small Letter O With Diaeresis"}"#;
        assert_eq!(
            canon(input),
            "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\u{80}\":\"Control\",\"\u{f6}\":\"Latin Small Letter O With Diaeresis\",\"\u{20ac}\":\"Euro Sign\",\"\u{1f600}\":\"Emoji: Grinning Face\",\"\u{fb33}\":\"Hebrew Letter Dalet With Dagesh\"}"
        );
    }

    #[test]
    fn rejects_what_ijson_forbids() {
        for (bad, why) in [
            (r#"{"a":1,"a":2}"#, "duplicate"),
            (r#"["\ud800"]"#, "lone"),
            (r#"["\udc00x"]"#, "lone"),
            ("[9007199254740993]", "precision"),
            ("[-9007199254740993]", "precision"),
            ("[18446744073709551615]", "precision"),
            ("[123456789012345678901]", "precision"),
            ("[1e400]", "finite"),
            ("[01]", "expected"),
            ("[1.]", "digits"),
            ("[.5]", "unexpected"),
            ("[+1]", "unexpected"),
            ("[NaN]", "unexpected"),
            ("[1,]", "unexpected"),
            ("\"a\u{1}\"", "control"),
            ("{} {}", "trailing"),
            ("", "end of input"),
            ("[\"\\x\"]", "escape"),
            ("[\"\\u12G4\"]", "escape"),
            ("[\"\\u+123\"]", "escape"),
            ("{\"a\" 1}", "':'"),
            ("{1:2}", "member name"),
            ("tru", "literal"),
        ] {
            let err = canonicalize(bad.as_bytes()).unwrap_err().to_string();
            assert!(err.contains(why), "{bad:?}: {err}");
        }
        assert!(canonicalize(b"[\xff]").is_err());
        let deep = "[".repeat(MAX_DEPTH + 1) + &"]".repeat(MAX_DEPTH + 1);
        assert!(
            canonicalize(deep.as_bytes())
                .unwrap_err()
                .to_string()
                .contains("nesting")
        );
        let ok = "[".repeat(MAX_DEPTH) + &"]".repeat(MAX_DEPTH);
        let out = canonicalize(ok.as_bytes()).unwrap();
        // What we accept, serde_json reads back.
        assert!(serde_json::from_slice::<serde_json::Value>(&out).is_ok());
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(to_canonical_vec(&v).unwrap(), out);
        let deeper = serde_json::json!([v]);
        assert!(to_canonical_vec(&deeper).is_err());
    }

    #[test]
    fn edge_numbers() {
        assert_eq!(
            canon(
                "[9007199254740992, -9007199254740991, -0, -0.0, 0e10, 1E+2, 1e21, 1e-7, 123456789012345680000]"
            ),
            "[9007199254740992,-9007199254740991,0,0,0,100,1e+21,1e-7,123456789012345680000]"
        );
    }

    #[test]
    fn serde_values() {
        let v = serde_json::json!({"z": [1u64, -2i64, 0.5], "a": {"y": null, "b": true}});
        assert_eq!(
            to_canonical_string(&v).unwrap(),
            r#"{"a":{"b":true,"y":null},"z":[1,-2,0.5]}"#
        );
        let big = serde_json::json!([u64::MAX]);
        assert_eq!(
            to_canonical_vec(&big).unwrap_err().code(),
            "number_out_of_range"
        );
    }

    fn arb_json() -> impl Strategy<Value = serde_json::Value> {
        let leaf = prop_oneof![
            Just(serde_json::Value::Null),
            any::<bool>().prop_map(serde_json::Value::Bool),
            (-(1i64 << 53) + 1..(1i64 << 53)).prop_map(|i| serde_json::json!(i)),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(|f| serde_json::json!(f)),
            ".{0,8}".prop_map(serde_json::Value::String),
        ];
        leaf.prop_recursive(4, 64, 8, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::Array),
                proptest::collection::btree_map(".{0,6}", inner, 0..6)
                    .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        // Canonical form is a fixed point, parses back to the same value, and
        // agrees between the text and the serde paths.
        #[test]
        fn canonical_is_stable(v in arb_json()) {
            let c1 = to_canonical_vec(&v).unwrap();
            let c2 = canonicalize(&c1).unwrap();
            prop_assert_eq!(&c1, &c2);
            let pretty = serde_json::to_vec_pretty(&v).unwrap();
            prop_assert_eq!(&canonicalize(&pretty).unwrap(), &c1);
            let back: serde_json::Value = serde_json::from_slice(&c1).unwrap();
            prop_assert_eq!(to_canonical_vec(&back).unwrap(), c1);
        }

        // Every finite double prints in a form that parses back to itself.
        #[test]
        fn numbers_roundtrip(bits in any::<u64>()) {
            let f = f64::from_bits(bits);
            if let Some(s) = format_number(f) {
                let back: f64 = s.parse().unwrap();
                prop_assert!(back == f || (f == 0.0 && back == 0.0), "{} -> {}", f, s);
            }
        }

        #[test]
        fn never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = canonicalize(&bytes);
        }
    }
}
