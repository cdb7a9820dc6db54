// cos patch 22: the builtins OPA v1.22.2 still has but deprecates. OPA
// evaluates them in v0 modules only (a v1 module calling one is a
// `rego_type_error`, which cos-policy's load-time checks give: parity.rs),
// so a v0 pack using them runs as under OPA.

use crate::ast::{Expr, Ref};
use crate::builtins;
use crate::builtins::utils::ensure_args_count;
use crate::lexer::Span;
use crate::value::Value;

use anyhow::Result;
use std::collections::BTreeSet;
use std::format;
use std::vec::Vec;

pub fn register(m: &mut builtins::BuiltinsMap<&'static str, builtins::BuiltinFcn>) {
    m.insert("any", (any, 1));
    m.insert("all", (all, 1));
    m.insert("set_diff", (set_diff, 2));
    m.insert("cast_array", (cast_array, 1));
    m.insert("cast_set", (cast_set, 1));
    m.insert("cast_string", (cast_string, 1));
    m.insert("cast_boolean", (cast_boolean, 1));
    m.insert("cast_null", (cast_null, 1));
    m.insert("cast_object", (cast_object, 1));
    #[cfg(feature = "regex")]
    m.insert("re_match", (super::regex::regex_match, 2));
    #[cfg(feature = "net")]
    m.insert("net.cidr_overlap", (super::net::cidr_contains, 2));
}

fn type_err(span: &Span, name: &str, operand: u8, want: &str, got: &Value) -> anyhow::Error {
    let got = match got {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Set(_) => "set",
        Value::Object(_) => "object",
        Value::Undefined => "undefined",
    };
    anyhow::anyhow!(span.error(&format!(
        "{name}: operand {operand} must be {want} but got {got}"
    )))
}

fn any(span: &Span, params: &[Ref<Expr>], args: &[Value], _strict: bool) -> Result<Value> {
    ensure_args_count(span, "any", params, args, 1)?;
    let t = Value::Bool(true);
    match &args[0] {
        Value::Array(a) => Ok(Value::Bool(a.iter().any(|v| *v == t))),
        Value::Set(s) => Ok(Value::Bool(s.contains(&t))),
        v => Err(type_err(span, "any", 1, "one of {array, set}", v)),
    }
}

fn all(span: &Span, params: &[Ref<Expr>], args: &[Value], _strict: bool) -> Result<Value> {
    ensure_args_count(span, "all", params, args, 1)?;
    let t = Value::Bool(true);
    match &args[0] {
        Value::Array(a) => Ok(Value::Bool(a.iter().all(|v| *v == t))),
        Value::Set(s) => Ok(Value::Bool(s.iter().all(|v| *v == t))),
        v => Err(type_err(span, "all", 1, "one of {array, set}", v)),
    }
}

fn set_diff(span: &Span, params: &[Ref<Expr>], args: &[Value], _strict: bool) -> Result<Value> {
    ensure_args_count(span, "set_diff", params, args, 2)?;
    let (Value::Set(a), Value::Set(b)) = (&args[0], &args[1]) else {
        let (i, v) = if matches!(args[0], Value::Set(_)) {
            (2, &args[1])
        } else {
            (1, &args[0])
        };
        return Err(type_err(span, "set_diff", i, "set", v));
    };
    let out: BTreeSet<Value> = a.iter().filter(|v| !b.contains(v)).cloned().collect();
    Ok(Value::from(out))
}

fn cast_array(span: &Span, params: &[Ref<Expr>], args: &[Value], _strict: bool) -> Result<Value> {
    ensure_args_count(span, "cast_array", params, args, 1)?;
    match &args[0] {
        Value::Array(_) => Ok(args[0].clone()),
        Value::Set(s) => Ok(Value::from(s.iter().cloned().collect::<Vec<_>>())),
        v => Err(type_err(span, "cast_array", 1, "one of {array, set}", v)),
    }
}

fn cast_set(span: &Span, params: &[Ref<Expr>], args: &[Value], _strict: bool) -> Result<Value> {
    ensure_args_count(span, "cast_set", params, args, 1)?;
    match &args[0] {
        Value::Set(_) => Ok(args[0].clone()),
        Value::Array(a) => Ok(Value::from(a.iter().cloned().collect::<BTreeSet<_>>())),
        v => Err(type_err(span, "cast_set", 1, "one of {array, set}", v)),
    }
}

macro_rules! identity_cast {
    ($fname:ident, $name:literal, $want:literal, $pat:pat) => {
        fn $fname(
            span: &Span,
            params: &[Ref<Expr>],
            args: &[Value],
            _strict: bool,
        ) -> Result<Value> {
            ensure_args_count(span, $name, params, args, 1)?;
            match &args[0] {
                $pat => Ok(args[0].clone()),
                v => Err(type_err(span, $name, 1, $want, v)),
            }
        }
    };
}

identity_cast!(cast_string, "cast_string", "string", Value::String(_));
identity_cast!(cast_boolean, "cast_boolean", "boolean", Value::Bool(_));
identity_cast!(cast_null, "cast_null", "null", Value::Null);
identity_cast!(cast_object, "cast_object", "object", Value::Object(_));
