// Copyright (c) Microsoft Corporation.
// Licensed under the MIT License.

//! cos patch 20: `internal.template_string`, the builtin the parser turns a
//! template string (`$"…{expr}…"`) into (see `parser/template.rs`). As OPA's
//! (`topdown/template_string.go`, which renders as `print` does): a string
//! renders bare; a number, boolean or null as its Rego text; a set is an
//! expression's values, `<undefined>` when empty, its one element rendered
//! (a string bare, anything else as Rego text: `[1, "a"]`, `{"k": 1}`,
//! `set()`), and more than one value is OPA's conflict error, which no
//! setting turns into "undefined".

use crate::ast::{Expr, Ref};
use crate::builtins;
use crate::lexer::Span;
use crate::number::Number;
use crate::value::Value;

use alloc::format;
use alloc::string::{String, ToString};
use anyhow::{bail, Result};
use core::fmt;

pub fn register(m: &mut builtins::BuiltinsMap<&'static str, builtins::BuiltinFcn>) {
    m.insert(crate::parser::TEMPLATE_BUILTIN, (template_string, 1));
}

/// An error that ends the evaluation whatever the strictness of builtin
/// errors (OPA's `Halt`): both evaluators propagate it as they propagate
/// `LimitError`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuiltinHalt(pub String);

impl fmt::Display for BuiltinHalt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl core::error::Error for BuiltinHalt {}

fn template_string(
    span: &Span,
    _params: &[Ref<Expr>],
    args: &[Value],
    _strict: bool,
) -> Result<Value> {
    let Some(Value::Array(parts)) = args.first() else {
        bail!(span.error("internal.template_string: operand 1 must be array"));
    };
    let mut out = String::new();
    for part in parts.iter() {
        match part {
            Value::String(s) => out.push_str(s),
            Value::Set(values) => {
                let mut it = values.iter();
                match (it.next(), it.next()) {
                    (None, _) => out.push_str("<undefined>"),
                    (Some(Value::String(s)), None) => out.push_str(s),
                    (Some(v), None) => rego_text(v, &mut out),
                    (Some(_), Some(_)) => {
                        return Err(BuiltinHalt(span.error(
                            "eval_conflict_error: template-strings must not produce multiple outputs",
                        ).to_string())
                        .into())
                    }
                }
            }
            Value::Number(_) | Value::Bool(_) | Value::Null => rego_text(part, &mut out),
            other => bail!(span.error(&format!(
                "internal.template_string: illegal argument type: {}",
                type_name(other)
            ))),
        }
        crate::utils::limits::check_bytes(out.len() as u128)?;
    }
    Ok(Value::from(out))
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Array(_) => "array",
        Value::Object(_) => "object",
        Value::Undefined => "undefined",
        _ => "value",
    }
}

/// A value as OPA's `ast.Value.String()` writes it.
pub fn rego_text(v: &Value, out: &mut String) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&number_text(n)),
        Value::String(s) => go_quote(s, out),
        Value::Array(a) => {
            out.push('[');
            for (i, e) in a.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                rego_text(e, out);
            }
            out.push(']');
        }
        Value::Set(s) if s.is_empty() => out.push_str("set()"),
        Value::Set(s) => {
            out.push('{');
            for (i, e) in s.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                rego_text(e, out);
            }
            out.push('}');
        }
        Value::Object(o) => {
            out.push('{');
            for (i, (k, e)) in o.iter_sorted().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                rego_text(k, out);
                out.push_str(": ");
                rego_text(e, out);
            }
            out.push('}');
        }
        Value::Undefined => out.push_str("<undefined>"),
    }
}

/// A number as OPA writes a computed one: integers in full, a float that is
/// an integer in full (`3`, not `3.0`), others as Go's `%g` with the
/// shortest digits (`0.5`, `1e-05`, `1.2345675e+06`).
pub fn number_text(n: &Number) -> String {
    let Some(f) = n.as_f64().filter(|_| matches!(n, Number::Float(_))) else {
        return n.format_decimal();
    };
    if f == 0.0 {
        return "0".to_string();
    }
    if f.fract() == 0.0 {
        return format!("{f}");
    }
    // Shortest digits and exponent: Rust's `{:e}` is `d.ddde-5`.
    let sci = format!("{f:e}");
    let (mant, exp) = sci.split_once('e').unwrap_or((sci.as_str(), "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if (-4..6).contains(&exp) {
        return format!("{f}");
    }
    let sign = if exp < 0 { '-' } else { '+' };
    format!("{mant}e{sign}{:02}", exp.unsigned_abs())
}

/// Go's `strconv.Quote`: printable characters as they are, the rest escaped.
fn go_quote(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{feff}') => {
                let u = c as u32;
                if u > 0xffff {
                    out.push_str(&format!("\\U{u:08x}"));
                } else {
                    out.push_str(&format!("\\u{u:04x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}
