// Copyright (c) Microsoft Corporation.
// Licensed under the MIT License.

//! cos patch 27: the subset of gojsonschema (OPA's internal fork, used by
//! `json.match_schema` and `json.verify_schema`) whose errors cos reproduces
//! exactly: the compile messages, the error objects (`type`, `field`,
//! `desc`, `error`) and their order. A schema keyword, or a validation
//! outcome, outside that subset is refused (`Unsupported`), never answered
//! differently.

use crate::*;
use alloc::collections::BTreeMap;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use serde_json::Value as J;

/// A compile or validation failure.
pub enum Fail {
    /// gojsonschema's error message (verify_schema prefixes `jsonschema: `).
    Msg(String),
    /// Outside the reproduced subset.
    Unsupported(&'static str),
    /// The engine's deadline or budget.
    Limit(crate::utils::limits::LimitError),
}

type R<T> = core::result::Result<T, Fail>;

fn msg<T>(s: String) -> R<T> {
    Err(Fail::Msg(s))
}

#[derive(Default)]
pub struct Schema {
    pass: Option<bool>,
    types: Vec<&'static str>,
    properties: Vec<(String, Schema)>,
    additional: Option<Addl>,
    items: Option<Items>,
    additional_items: Option<Addl>,
    multiple_of: Option<f64>,
    minimum: Option<f64>,
    exclusive_minimum: Option<f64>,
    maximum: Option<f64>,
    exclusive_maximum: Option<f64>,
    min_length: Option<i64>,
    max_length: Option<i64>,
    pattern: Option<(String, regex::Regex)>,
    min_properties: Option<i64>,
    max_properties: Option<i64>,
    required: Vec<String>,
    min_items: Option<i64>,
    max_items: Option<i64>,
    unique_items: bool,
    constant: Option<String>,
    enumeration: Option<Vec<String>>,
}

enum Addl {
    Bool(bool),
    Schema(alloc::boxed::Box<Schema>),
}

enum Items {
    One(alloc::boxed::Box<Schema>),
    Tuple(Vec<Schema>),
}

const JSON_TYPES: [&str; 7] = [
    "array", "boolean", "integer", "number", "null", "object", "string",
];

/// Keywords that only annotate (gojsonschema reads `title` and
/// `description` and checks they are strings; the others it ignores).
const ANNOTATIONS: [&str; 6] = [
    "title",
    "description",
    "default",
    "examples",
    "$comment",
    "$schema",
];

const MAX_DEPTH: usize = 64;

pub fn compile(doc: &J) -> R<Schema> {
    if let Some(s) = doc.get("$schema") {
        match s.as_str() {
            Some("http://json-schema.org/draft-07/schema#")
            | Some("http://json-schema.org/draft-07/schema") => {}
            _ => return Err(Fail::Unsupported("a $schema other than draft-07")),
        }
    }
    parse(doc, 0)
}

fn integer(v: &J) -> Option<i64> {
    match v {
        J::Number(n) => n.as_i64().or_else(|| {
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
                .map(|f| f as i64)
        }),
        _ => None,
    }
}

fn number(v: &J) -> Option<f64> {
    match v {
        J::Number(n) => n.as_f64(),
        _ => None,
    }
}

fn invalid_type(expected: &str, given: &str) -> Fail {
    Fail::Msg(format!(
        "Invalid type. Expected: {expected}, given: {given}"
    ))
}

fn parse(doc: &J, depth: usize) -> R<Schema> {
    if depth > MAX_DEPTH {
        return Err(Fail::Unsupported("a schema nested this deeply"));
    }
    if let J::Bool(b) = doc {
        return Ok(Schema {
            pass: Some(*b),
            ..Default::default()
        });
    }
    let J::Object(m) = doc else {
        return msg("Expected: Valid Schema, given: Invalid JSON".to_string());
    };
    for k in m.keys() {
        let known = matches!(
            k.as_str(),
            "type"
                | "properties"
                | "additionalProperties"
                | "items"
                | "additionalItems"
                | "multipleOf"
                | "minimum"
                | "exclusiveMinimum"
                | "maximum"
                | "exclusiveMaximum"
                | "minLength"
                | "maxLength"
                | "pattern"
                | "minProperties"
                | "maxProperties"
                | "required"
                | "minItems"
                | "maxItems"
                | "uniqueItems"
                | "const"
                | "enum"
        );
        if !known && !ANNOTATIONS.contains(&k.as_str()) {
            return Err(Fail::Unsupported("this schema keyword"));
        }
    }
    let mut s = Schema::default();
    for key in ["title", "description"] {
        if let Some(v) = m.get(key) {
            if !v.is_string() {
                return Err(invalid_type("string", key));
            }
        }
    }
    if let Some(t) = m.get("type") {
        let mut add = |t: &str| -> R<()> {
            let Some(known) = JSON_TYPES.iter().find(|x| **x == t) else {
                return msg(format!(
                    "has a primitive type that is NOT VALID -- given: /{t}/ Expected valid values are:[{}]",
                    JSON_TYPES.join(" ")
                ));
            };
            if s.types.contains(known) {
                return msg(format!("{t} type is duplicated"));
            }
            s.types.push(known);
            Ok(())
        };
        match t {
            J::String(t) => add(t)?,
            J::Array(a) => {
                for t in a {
                    match t {
                        J::String(t) => add(t)?,
                        _ => return Err(invalid_type("type", "string/Array Of Strings")),
                    }
                }
            }
            _ => return Err(invalid_type("type", "string/Array Of Strings")),
        }
    }
    if let Some(p) = m.get("properties") {
        let J::Object(p) = p else {
            return msg("Properties must be of type object".to_string());
        };
        if p.len() > 1 {
            // gojsonschema visits properties in Go's random map order.
            for v in p.values() {
                if !v.is_object() && !v.is_boolean() {
                    return Err(Fail::Unsupported(
                        "an invalid property schema among several",
                    ));
                }
            }
        }
        for (k, v) in p {
            s.properties.push((k.clone(), parse(v, depth + 1)?));
        }
    }
    if let Some(a) = m.get("additionalProperties") {
        s.additional = Some(match a {
            J::Bool(b) => Addl::Bool(*b),
            J::Object(_) => Addl::Schema(parse(a, depth + 1)?.into()),
            _ => return Err(invalid_type("boolean/Valid Schema", "additionalProperties")),
        });
    }
    if let Some(i) = m.get("items") {
        s.items = Some(match i {
            J::Array(a) => {
                let mut v = Vec::new();
                for e in a {
                    match e {
                        J::Object(_) | J::Bool(_) => v.push(parse(e, depth + 1)?),
                        _ => return Err(invalid_type("Valid Schema/Array Of Schemas", "items")),
                    }
                }
                Items::Tuple(v)
            }
            J::Object(_) | J::Bool(_) => Items::One(parse(i, depth + 1)?.into()),
            _ => return Err(invalid_type("Valid Schema/Array Of Schemas", "items")),
        });
    }
    if let Some(a) = m.get("additionalItems") {
        s.additional_items = Some(match a {
            J::Bool(b) => Addl::Bool(*b),
            J::Object(_) => Addl::Schema(parse(a, depth + 1)?.into()),
            _ => return Err(invalid_type("boolean/Valid Schema", "additionalItems")),
        });
    }
    if let Some(v) = m.get("multipleOf") {
        let Some(n) = number(v) else {
            return Err(invalid_type("Number", "multipleOf"));
        };
        if n <= 0.0 {
            return msg("multipleOf must be strictly greater than 0".to_string());
        }
        s.multiple_of = Some(n);
    }
    if let Some(v) = m.get("minimum") {
        s.minimum = Some(number(v).ok_or_else(|| Fail::Msg("minimum must be of a Number".into()))?);
    }
    if let Some(v) = m.get("exclusiveMinimum") {
        match v {
            J::Number(_) => s.exclusive_minimum = number(v),
            J::Bool(_) => return Err(Fail::Unsupported("a boolean exclusiveMinimum")),
            _ => return Err(invalid_type("boolean/number", "exclusiveMinimum")),
        }
    }
    if let Some(v) = m.get("maximum") {
        s.maximum = Some(number(v).ok_or_else(|| Fail::Msg("maximum must be of a Number".into()))?);
    }
    if let Some(v) = m.get("exclusiveMaximum") {
        match v {
            J::Number(_) => s.exclusive_maximum = number(v),
            J::Bool(_) => return Err(Fail::Unsupported("a boolean exclusiveMaximum")),
            _ => return Err(invalid_type("boolean/number", "exclusiveMaximum")),
        }
    }
    let count = |key: &str| -> R<Option<i64>> {
        match m.get(key) {
            None => Ok(None),
            Some(v) => {
                let Some(n) = integer(v) else {
                    return msg(format!("{key} must be of an integer"));
                };
                if n < 0 {
                    return msg(format!("{key} must be greater than or equal to 0"));
                }
                Ok(Some(n))
            }
        }
    };
    s.min_length = count("minLength")?;
    s.max_length = count("maxLength")?;
    if let (Some(a), Some(b)) = (s.min_length, s.max_length) {
        if a > b {
            return msg("minLength cannot be greater than maxLength".to_string());
        }
    }
    if let Some(p) = m.get("pattern") {
        let J::String(p) = p else {
            return Err(invalid_type("string", "pattern"));
        };
        // Go's RE2 and Rust's regex agree on the common syntax; a pattern
        // Rust refuses is not known to be one Go refuses.
        let Ok(re) = regex::Regex::new(&ascii_perl_classes(p)) else {
            return Err(Fail::Unsupported(
                "a pattern the regex crate does not compile",
            ));
        };
        s.pattern = Some((p.clone(), re));
    }
    s.min_properties = count("minProperties")?;
    s.max_properties = count("maxProperties")?;
    if let (Some(a), Some(b)) = (s.min_properties, s.max_properties) {
        if a > b {
            return msg("minProperties cannot be greater than maxProperties".to_string());
        }
    }
    if let Some(r) = m.get("required") {
        let J::Array(r) = r else {
            return msg("required must be of an array".to_string());
        };
        for v in r {
            let J::String(v) = v else {
                return Err(invalid_type("string", "required"));
            };
            if s.required.contains(v) {
                return msg("required items must be unique".to_string());
            }
            s.required.push(v.clone());
        }
    }
    s.min_items = count("minItems")?;
    s.max_items = count("maxItems")?;
    if let Some(u) = m.get("uniqueItems") {
        let J::Bool(u) = u else {
            return msg("uniqueItems must be of a boolean".to_string());
        };
        s.unique_items = *u;
    }
    if let Some(c) = m.get("const") {
        s.constant = Some(marshal(c)?);
    }
    if let Some(e) = m.get("enum") {
        let J::Array(e) = e else {
            return msg("enum must be of an array".to_string());
        };
        let mut v: Vec<String> = Vec::new();
        for x in e {
            let x = marshal(x)?;
            if v.contains(&x) {
                return msg("enum items must be unique".to_string());
            }
            v.push(x);
        }
        s.enumeration = Some(v);
    }
    Ok(s)
}

/// Go's RE2 `\\d`, `\\w`, `\\s` and `\\b` are ASCII; the regex crate's are
/// Unicode: spell them out as Go means them.
fn ascii_perl_classes(p: &str) -> String {
    let mut out = String::with_capacity(p.len());
    let mut it = p.chars();
    while let Some(c) = it.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match it.next() {
            Some('d') => out.push_str("[0-9]"),
            Some('D') => out.push_str("[^0-9]"),
            Some('w') => out.push_str("[0-9A-Za-z_]"),
            Some('W') => out.push_str("[^0-9A-Za-z_]"),
            Some('s') => out.push_str("[\\t\\n\\f\\r ]"),
            Some('S') => out.push_str("[^\\t\\n\\f\\r ]"),
            Some('b') => out.push_str("(?-u:\\b)"),
            Some('B') => out.push_str("(?-u:\\B)"),
            Some(n) => {
                out.push('\\');
                out.push(n);
            }
            None => out.push('\\'),
        }
    }
    out
}

/// Go's `json.Marshal` of the value decoded without `UseNumber`.
fn marshal(v: &J) -> R<String> {
    let mut out = String::new();
    marshal_into(v, &mut out)?;
    Ok(out)
}

fn marshal_into(v: &J, out: &mut String) -> R<()> {
    match v {
        J::Null => out.push_str("null"),
        J::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        J::Number(n) => out.push_str(&go_float(n.as_f64().unwrap_or(f64::NAN))?),
        J::String(s) => go_string(s, out),
        J::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                marshal_into(x, out)?;
            }
            out.push(']');
        }
        J::Object(m) => {
            let sorted: BTreeMap<&String, &J> = m.iter().collect();
            out.push('{');
            for (i, (k, x)) in sorted.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                go_string(k, out);
                out.push(':');
                marshal_into(x, out)?;
            }
            out.push('}');
        }
    }
    Ok(())
}

fn go_float(f: f64) -> R<String> {
    if !f.is_finite() {
        return Err(Fail::Unsupported("this number"));
    }
    if f == 0.0 {
        return Ok("0".to_string());
    }
    let a = f.abs();
    if !(1e-6..1e21).contains(&a) {
        return Err(Fail::Unsupported("a number in exponent notation"));
    }
    if f.fract() == 0.0 && a < 9.0e15 {
        return Ok(format!("{}", f as i64));
    }
    Ok(format!("{f}"))
}

fn go_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                out.push_str(&format!("\\u{:04x}", c as u32))
            }
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// A `*big.Float` as Go's text/template prints it (`%v`: the shortest
/// digits, `%e` form from an exponent of 6 up or below -4).
fn big_float(f: f64) -> R<String> {
    if !f.is_finite() {
        return Err(Fail::Unsupported("this number"));
    }
    if f == 0.0 {
        return Ok("0".to_string());
    }
    let e = format!("{f:e}");
    let (mant, exp) = e.split_once('e').unwrap_or((&e, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let (neg, mant) = match mant.strip_prefix('-') {
        Some(m) => (true, m),
        None => (false, mant),
    };
    let digits: String = mant.chars().filter(|c| c.is_ascii_digit()).collect();
    let digits = digits.trim_end_matches('0');
    let digits = if digits.is_empty() { "0" } else { digits };
    if digits.len() > 15 {
        // Go prints the shortest digits of a 64-bit-mantissa float.
        return Err(Fail::Unsupported("a bound with more than 15 digits"));
    }
    let nd = digits.len() as i32;
    let dp = exp + 1;
    let eprec = 6;
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    if exp < -4 || exp >= eprec {
        out.push_str(&digits[..1]);
        if nd > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        out.push_str(&format!(
            "e{}{:02}",
            if exp < 0 { '-' } else { '+' },
            exp.abs()
        ));
    } else if dp <= 0 {
        out.push_str("0.");
        for _ in 0..(-dp) {
            out.push('0');
        }
        out.push_str(digits);
    } else if dp >= nd {
        out.push_str(digits);
        for _ in 0..(dp - nd) {
            out.push('0');
        }
    } else {
        out.push_str(&digits[..dp as usize]);
        out.push('.');
        out.push_str(&digits[dp as usize..]);
    }
    Ok(out)
}

/// One error object of `json.match_schema`.
pub struct Error {
    pub kind: &'static str,
    pub field: String,
    pub desc: String,
}

struct Ctx<'a> {
    path: &'a [String],
}

impl Ctx<'_> {
    fn field(&self) -> String {
        if self.path.is_empty() {
            "(Root)".to_string()
        } else {
            self.path.join(".")
        }
    }
}

pub fn validate(s: &Schema, doc: &J) -> R<Vec<Error>> {
    let mut errors = Vec::new();
    let mut path = Vec::new();
    recurse(s, doc, &mut path, &mut errors, 0)?;
    Ok(errors)
}

fn push(errors: &mut Vec<Error>, path: &[String], kind: &'static str, desc: String) {
    errors.push(Error {
        kind,
        field: Ctx { path }.field(),
        desc,
    });
}

fn given_type(doc: &J) -> &'static str {
    match doc {
        J::Null => "null",
        J::Bool(_) => "boolean",
        J::Number(n) => {
            if n.is_i64() || n.is_u64() || n.as_f64().is_some_and(|f| f.fract() == 0.0) {
                "integer"
            } else {
                "number"
            }
        }
        J::String(_) => "string",
        J::Array(_) => "array",
        J::Object(_) => "object",
    }
}

fn recurse(
    s: &Schema,
    doc: &J,
    path: &mut Vec<String>,
    errors: &mut Vec<Error>,
    depth: usize,
) -> R<()> {
    if depth > MAX_DEPTH * 4 {
        return Err(Fail::Unsupported("a document nested this deeply"));
    }
    crate::utils::limits::tick(errors.len()).map_err(Fail::Limit)?;
    if let Some(pass) = s.pass {
        if !pass {
            push(
                errors,
                path,
                "false",
                "False always fails validation".to_string(),
            );
        }
        return Ok(());
    }
    if !s.types.is_empty() {
        let given = given_type(doc);
        let ok = s.types.contains(&given) || (given == "integer" && s.types.contains(&"number"));
        if !ok {
            let expected = if s.types.len() > 1 {
                format!("[{}]", s.types.join(","))
            } else {
                s.types[0].to_string()
            };
            push(
                errors,
                path,
                "invalid_type",
                format!("Invalid type. Expected: {expected}, given: {given}"),
            );
            return Ok(());
        }
    }
    match doc {
        J::Number(n) => {
            let f = n.as_f64().unwrap_or(f64::NAN);
            validate_number(s, f, path, errors)?;
            validate_common(s, doc, path, errors)?;
        }
        J::String(st) => {
            validate_common(s, doc, path, errors)?;
            let len = st.chars().count() as i64;
            if let Some(min) = s.min_length {
                if len < min {
                    push(
                        errors,
                        path,
                        "string_gte",
                        format!("String length must be greater than or equal to {min}"),
                    );
                }
            }
            if let Some(max) = s.max_length {
                if len > max {
                    push(
                        errors,
                        path,
                        "string_lte",
                        format!("String length must be less than or equal to {max}"),
                    );
                }
            }
            if let Some((p, re)) = &s.pattern {
                if !re.is_match(st) {
                    push(
                        errors,
                        path,
                        "pattern",
                        format!("Does not match pattern '{p}'"),
                    );
                }
            }
        }
        J::Array(a) => {
            validate_array(s, a, path, errors, depth)?;
            validate_common(s, doc, path, errors)?;
        }
        J::Object(o) => {
            validate_object(s, o, path, errors, depth)?;
            validate_common(s, doc, path, errors)?;
            let mut failing = 0;
            for (k, sub) in &s.properties {
                if let Some(v) = o.get(k) {
                    let before = errors.len();
                    path.push(k.clone());
                    let r = recurse(sub, v, path, errors, depth + 1);
                    path.pop();
                    r?;
                    if errors.len() > before {
                        failing += 1;
                        if failing > 1 {
                            // gojsonschema visits properties in Go's
                            // random map order.
                            return Err(Fail::Unsupported("errors under several properties"));
                        }
                    }
                }
            }
        }
        J::Null | J::Bool(_) => validate_common(s, doc, path, errors)?,
    }
    Ok(())
}

fn validate_number(s: &Schema, f: f64, path: &[String], errors: &mut Vec<Error>) -> R<()> {
    if let Some(m) = s.multiple_of {
        let exact = |x: f64| x.fract() == 0.0 && x.abs() < 9.0e15;
        if !(exact(m) && exact(f)) {
            return Err(Fail::Unsupported("a non-integer multipleOf"));
        }
        if (f as i64) % (m as i64) != 0 {
            push(
                errors,
                path,
                "multiple_of",
                format!("Must be a multiple of {}", big_float(m)?),
            );
        }
    }
    if let Some(max) = s.maximum {
        if f > max {
            push(
                errors,
                path,
                "number_lte",
                format!("Must be less than or equal to {}", big_float(max)?),
            );
        }
    }
    if let Some(max) = s.exclusive_maximum {
        if f >= max {
            push(
                errors,
                path,
                "number_lt",
                format!("Must be less than {}", big_float(max)?),
            );
        }
    }
    if let Some(min) = s.minimum {
        if f < min {
            push(
                errors,
                path,
                "number_gte",
                format!("Must be greater than or equal to {}", big_float(min)?),
            );
        }
    }
    if let Some(min) = s.exclusive_minimum {
        if f <= min {
            push(
                errors,
                path,
                "number_gt",
                format!("Must be greater than {}", big_float(min)?),
            );
        }
    }
    Ok(())
}

fn validate_common(s: &Schema, doc: &J, path: &[String], errors: &mut Vec<Error>) -> R<()> {
    if s.constant.is_none() && s.enumeration.is_none() {
        return Ok(());
    }
    let v = marshal(doc)?;
    let field = Ctx { path }.field();
    if let Some(c) = &s.constant {
        if &v != c {
            push(
                errors,
                path,
                "const",
                format!("{field} does not match: {c}"),
            );
        }
    }
    if let Some(e) = &s.enumeration {
        if !e.contains(&v) {
            push(
                errors,
                path,
                "enum",
                format!("{field} must be one of the following: {}", e.join(", ")),
            );
        }
    }
    Ok(())
}

fn validate_array(
    s: &Schema,
    a: &[J],
    path: &mut Vec<String>,
    errors: &mut Vec<Error>,
    depth: usize,
) -> R<()> {
    match &s.items {
        Some(Items::One(sub)) => {
            for (i, v) in a.iter().enumerate() {
                path.push(i.to_string());
                let r = recurse(sub, v, path, errors, depth + 1);
                path.pop();
                r?;
            }
        }
        Some(Items::Tuple(subs)) if !subs.is_empty() => {
            for (i, (sub, v)) in subs.iter().zip(a.iter()).enumerate() {
                path.push(i.to_string());
                let r = recurse(sub, v, path, errors, depth + 1);
                path.pop();
                r?;
            }
            if subs.len() < a.len() {
                match &s.additional_items {
                    Some(Addl::Bool(false)) => push(
                        errors,
                        path,
                        "array_no_additional_items",
                        "No additional items allowed on array".to_string(),
                    ),
                    Some(Addl::Schema(sub)) => {
                        for (i, v) in a.iter().enumerate().skip(subs.len()) {
                            path.push(i.to_string());
                            let r = recurse(sub, v, path, errors, depth + 1);
                            path.pop();
                            r?;
                        }
                    }
                    _ => {}
                }
            }
        }
        _ => {}
    }
    let n = a.len() as i64;
    if let Some(min) = s.min_items {
        if n < min {
            push(
                errors,
                path,
                "array_min_items",
                format!("Array must have at least {min} items"),
            );
        }
    }
    if let Some(max) = s.max_items {
        if n > max {
            push(
                errors,
                path,
                "array_max_items",
                format!("Array must have at most {max} items"),
            );
        }
    }
    if s.unique_items {
        let mut seen: BTreeMap<String, usize> = BTreeMap::new();
        for (j, v) in a.iter().enumerate() {
            let m = marshal(v)?;
            if let Some(i) = seen.get(&m) {
                push(
                    errors,
                    path,
                    "unique",
                    format!("array items[{i},{j}] must be unique"),
                );
            }
            seen.insert(m, j);
        }
    }
    Ok(())
}

fn validate_object(
    s: &Schema,
    o: &serde_json::Map<String, J>,
    path: &mut Vec<String>,
    errors: &mut Vec<Error>,
    depth: usize,
) -> R<()> {
    let n = o.len() as i64;
    if let Some(min) = s.min_properties {
        if n < min {
            push(
                errors,
                path,
                "array_min_properties",
                format!("Must have at least {min} properties"),
            );
        }
    }
    if let Some(max) = s.max_properties {
        if n > max {
            push(
                errors,
                path,
                "array_max_properties",
                format!("Must have at most {max} properties"),
            );
        }
    }
    for r in &s.required {
        if !o.contains_key(r) {
            push(errors, path, "required", format!("{r} is required"));
        }
    }
    let mut extra = 0;
    for (k, v) in o {
        if s.properties.iter().any(|(p, _)| p == k) {
            continue;
        }
        match &s.additional {
            Some(Addl::Bool(false)) => {
                extra += 1;
                if extra > 1 {
                    // gojsonschema reports them in Go's random map order.
                    return Err(Fail::Unsupported("several additional properties"));
                }
                push(
                    errors,
                    path,
                    "additional_property_not_allowed",
                    format!("Additional property {k} is not allowed"),
                );
            }
            Some(Addl::Schema(sub)) => {
                extra += 1;
                let before = errors.len();
                path.push(k.clone());
                let r = recurse(sub, v, path, errors, depth + 1);
                path.pop();
                r?;
                if extra > 1 && errors.len() > before {
                    return Err(Fail::Unsupported("several additional properties"));
                }
            }
            _ => {}
        }
    }
    Ok(())
}
