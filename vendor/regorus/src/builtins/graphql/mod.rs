// Copyright (c) Microsoft Corporation.
// Licensed under the MIT License.
//! OPA's `graphql.*` builtins (OPA v1.22.2, v1/topdown/graphql.go), which
//! use github.com/vektah/gqlparser/v2 v2.5.58: its lexer, parser, schema
//! validation and the query validation rules OPA enables, ported here with
//! their messages, and the AST written as OPA writes it (Go's JSON of the
//! structs, pruned of nulls, empty arrays and objects, and positions).
//!
//! Where gqlparser's answer cannot be reproduced (nesting deeper than
//! `parser::MAX_DEPTH`, an AST object this port does not decode as Go
//! would), the builtin fails with an error instead of answering otherwise.

mod ast;
mod decode;
mod lexer;
mod parser;
mod schema;
mod validate;

use crate::ast::{Expr, Ref};
use crate::builtins;
use crate::builtins::utils::ensure_args_count;
use crate::lexer::Span;
use crate::value::Value;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec;
use anyhow::{bail, Result};

use ast::{Pos, QueryDocument, SchemaDocument};

pub fn register(m: &mut builtins::BuiltinsMap<&'static str, builtins::BuiltinFcn>) {
    m.insert("graphql.parse_query", (parse_query, 1));
    m.insert("graphql.parse_schema", (parse_schema, 1));
    m.insert("graphql.schema_is_valid", (schema_is_valid, 1));
    m.insert("graphql.parse", (parse, 2));
    m.insert("graphql.parse_and_verify", (parse_and_verify, 2));
    m.insert("graphql.is_valid", (is_valid, 2));
}

/// A gqlparser error (message and location), or a limit of this port.
#[derive(Clone, Debug)]
pub struct GqlError {
    pub msg: String,
    /// Line and column; `None` is an error without location.
    pub loc: Option<(i64, i64)>,
    pub file: &'static str,
    /// Not gqlparser's answer: this port cannot tell what it would be.
    pub unsupported: bool,
    /// Raised as is by OPA (a JSON decoding error), not formatted.
    pub raw: bool,
    /// gqlparser's message is not known here (it depends on Go's map
    /// order or on sorting this port does not reproduce); whether there
    /// is an error is.
    pub nondeterministic: bool,
}

impl GqlError {
    pub fn at(pos: Option<Pos>, msg: String) -> Self {
        // ErrorPosf with a nil position reports line and column -1.
        let (loc, file) = match pos {
            Some(p) => (
                Some((p.line, p.column)),
                if p.builtin {
                    "prelude.graphql"
                } else {
                    "input"
                },
            ),
            None => (Some((-1, -1)), "input"),
        };
        GqlError {
            msg,
            loc,
            file,
            unsupported: false,
            raw: false,
            nondeterministic: false,
        }
    }

    pub fn unsupported(what: &str) -> Self {
        GqlError {
            msg: what.to_string(),
            loc: None,
            file: "input",
            unsupported: true,
            raw: false,
            nondeterministic: false,
        }
    }

    pub fn decode(msg: String) -> Self {
        GqlError {
            msg,
            loc: None,
            file: "input",
            unsupported: false,
            raw: true,
            nondeterministic: false,
        }
    }

    /// gqlerror's `Error()`.
    fn go_string(&self) -> String {
        match self.loc {
            Some((l, c)) => format!("{}:{}:{}: {}", self.file, l, c, self.msg),
            None => format!("{}: {}", self.file, self.msg),
        }
    }
}

/// OPA's formatGqlParserError over a gqlerror.List's `Error()` text.
fn format_errors(errs: &[GqlError]) -> String {
    let mut text = String::new();
    for e in errs {
        text.push_str(&e.go_string());
        text.push('\n');
    }
    format_text(&text)
}

fn format_text(text: &str) -> String {
    let parts: alloc::vec::Vec<&str> = text.splitn(4, ':').collect();
    if parts.len() >= 4 {
        if let (Ok(row), Ok(col)) = (parts[1].parse::<u64>(), parts[2].parse::<u64>()) {
            let msg = parts[3].trim_start_matches(' ');
            let msg = msg.strip_suffix(".\n").unwrap_or(msg);
            return format!("{msg} in GraphQL string at location {row}:{col}");
        }
    }
    format!("GraphQL parse error: {text}")
}

/// This port's limit: a hard error (`LimitError::Unsupported`, which is
/// never turned into undefined), with the detail as its message.
fn unsupported(name: &'static str, what: &str) -> anyhow::Error {
    anyhow::Error::from(crate::utils::limits::LimitError::Unsupported {
        builtin: name,
        what: "this GraphQL input (gqlparser's answer is not reproduced)",
    })
    .context(format!(
        "{name}: not supported by this GraphQL implementation: {what}"
    ))
}

/// The builtin error for a failure: OPA's message, or this port's limit.
fn fail(name: &'static str, e: &GqlError) -> anyhow::Error {
    if e.unsupported {
        return unsupported(name, &e.msg);
    }
    if e.raw {
        return anyhow::anyhow!("{name}: {}", e.msg);
    }
    anyhow::anyhow!("{name}: {}", format_text(&e.go_string()))
}

fn to_value(j: serde_json::Value) -> Result<Value> {
    let v = Value::from(j);
    crate::utils::limits::check_value_size(&v)?;
    Ok(v)
}

fn check_input(v: &Value) -> Result<()> {
    crate::utils::limits::check_value_size(v)?;
    Ok(())
}

/// The query argument: a string parsed, an object decoded as Go's JSON.
fn query_doc(v: &Value) -> Option<Result<QueryDocument, GqlError>> {
    match v {
        Value::String(s) => Some(parser::parse_query(s)),
        Value::Object(_) => Some(decode::query_document(v)),
        _ => None,
    }
}

fn schema_doc(v: &Value) -> Option<Result<SchemaDocument, GqlError>> {
    match v {
        Value::String(s) => Some(parser::parse_schema(s, false)),
        Value::Object(_) => Some(decode::schema_document(v)),
        _ => None,
    }
}

/// convertSchema: the prelude and the document merged and validated.
fn convert_schema(doc: &SchemaDocument) -> Result<schema::Schema, GqlError> {
    schema::validate_schema_document(doc).map_err(|e| {
        if e.unsupported {
            return e;
        }
        GqlError {
            msg: format!(
                "Error in gqlparser SchemaDocument to Schema conversion: {}",
                e.go_string()
            ),
            loc: None,
            file: "input",
            unsupported: false,
            raw: true,
            nondeterministic: false,
        }
    })
}

/// gqlparser's ValidateWithRules with the default rules.
fn run_validation(
    name: &'static str,
    schema: &schema::Schema,
    query: &QueryDocument,
) -> Result<alloc::vec::Vec<GqlError>> {
    validate::validate(schema, query).map_err(|e| match e {
        validate::VErr::Unsupported(what) => unsupported(name, &what),
        validate::VErr::Limit(l) => anyhow::Error::from(l),
    })
}

fn type_error(name: &'static str, i: usize, v: &Value) -> anyhow::Error {
    let t = match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Set(_) => "set",
        Value::Object(_) => "object",
        Value::Undefined => "undefined",
    };
    anyhow::anyhow!("{name}: operand {i} must be one of {{string, object}} but got {t}")
}

fn parse(span: &Span, params: &[Ref<Expr>], args: &[Value], _strict: bool) -> Result<Value> {
    let name = "graphql.parse";
    ensure_args_count(span, name, params, args, 2)?;
    check_input(&args[0])?;
    check_input(&args[1])?;
    let query = match query_doc(&args[0]) {
        Some(r) => r.map_err(|e| fail(name, &e))?,
        None => return Err(type_error(name, 0, &args[0])),
    };
    let sdoc = match schema_doc(&args[1]) {
        Some(r) => r.map_err(|e| fail(name, &e))?,
        None => return Err(type_error(name, 1, &args[1])),
    };
    let schema_ast = ast::schema_document_json(&sdoc);
    let schema = convert_schema(&sdoc).map_err(|e| fail(name, &e))?;
    let query_ast = ast::query_document_json(&query);
    let errs = run_validation(name, &schema, &query)?;
    if errs.iter().any(|e| e.nondeterministic) {
        return Err(unsupported(
            name,
            "gqlparser's message for this query depends on Go's map order or sort",
        ));
    }
    if !errs.is_empty() {
        bail!("{name}: {}", format_errors(&errs));
    }
    to_value(serde_json::Value::Array(vec![query_ast, schema_ast]))
}

fn parse_and_verify(
    span: &Span,
    params: &[Ref<Expr>],
    args: &[Value],
    _strict: bool,
) -> Result<Value> {
    let name = "graphql.parse_and_verify";
    ensure_args_count(span, name, params, args, 2)?;
    check_input(&args[0])?;
    check_input(&args[1])?;
    let unverified = || {
        Ok(Value::from(vec![
            Value::from(false),
            Value::new_object(),
            Value::new_object(),
        ]))
    };
    let query = match query_doc(&args[0]) {
        Some(Ok(q)) => q,
        Some(Err(e)) if e.unsupported => return Err(fail(name, &e)),
        _ => return unverified(),
    };
    let query_ast = ast::query_document_json(&query);
    let sdoc = match schema_doc(&args[1]) {
        Some(Ok(s)) => s,
        Some(Err(e)) if e.unsupported => return Err(fail(name, &e)),
        _ => return unverified(),
    };
    let schema_ast = ast::schema_document_json(&sdoc);
    let schema = match convert_schema(&sdoc) {
        Ok(s) => s,
        Err(e) if e.unsupported => return Err(fail(name, &e)),
        Err(_) => return unverified(),
    };
    let errs = run_validation(name, &schema, &query)?;
    if !errs.is_empty() {
        return unverified();
    }
    to_value(serde_json::Value::Array(vec![
        serde_json::Value::Bool(true),
        query_ast,
        schema_ast,
    ]))
}

fn parse_query(span: &Span, params: &[Ref<Expr>], args: &[Value], _strict: bool) -> Result<Value> {
    let name = "graphql.parse_query";
    ensure_args_count(span, name, params, args, 1)?;
    let Value::String(s) = &args[0] else {
        bail!(
            "{name}: operand 1 must be string but got {}",
            type_name(&args[0])
        );
    };
    let q = parser::parse_query(s).map_err(|e| fail(name, &e))?;
    to_value(ast::query_document_json(&q))
}

fn parse_schema(span: &Span, params: &[Ref<Expr>], args: &[Value], _strict: bool) -> Result<Value> {
    let name = "graphql.parse_schema";
    ensure_args_count(span, name, params, args, 1)?;
    let Value::String(s) = &args[0] else {
        bail!(
            "{name}: operand 1 must be string but got {}",
            type_name(&args[0])
        );
    };
    let d = parser::parse_schema(s, false).map_err(|e| fail(name, &e))?;
    to_value(ast::schema_document_json(&d))
}

fn is_valid(span: &Span, params: &[Ref<Expr>], args: &[Value], _strict: bool) -> Result<Value> {
    let name = "graphql.is_valid";
    ensure_args_count(span, name, params, args, 2)?;
    check_input(&args[0])?;
    check_input(&args[1])?;
    let query = match query_doc(&args[0]) {
        Some(Ok(q)) => q,
        Some(Err(e)) if e.unsupported => return Err(fail(name, &e)),
        _ => return Ok(Value::from(false)),
    };
    let sdoc = match schema_doc(&args[1]) {
        Some(Ok(s)) => s,
        Some(Err(e)) if e.unsupported => return Err(fail(name, &e)),
        _ => return Ok(Value::from(false)),
    };
    let schema = match convert_schema(&sdoc) {
        Ok(s) => s,
        Err(e) if e.unsupported => return Err(fail(name, &e)),
        Err(_) => return Ok(Value::from(false)),
    };
    let errs = run_validation(name, &schema, &query)?;
    Ok(Value::from(errs.is_empty()))
}

fn schema_is_valid(
    span: &Span,
    params: &[Ref<Expr>],
    args: &[Value],
    _strict: bool,
) -> Result<Value> {
    let name = "graphql.schema_is_valid";
    ensure_args_count(span, name, params, args, 1)?;
    check_input(&args[0])?;
    let sdoc = match schema_doc(&args[0]) {
        Some(Ok(s)) => s,
        Some(Err(e)) if e.unsupported => return Err(fail(name, &e)),
        _ => return Ok(Value::from(false)),
    };
    match convert_schema(&sdoc) {
        Ok(_) => Ok(Value::from(true)),
        Err(e) if e.unsupported => Err(fail(name, &e)),
        Err(_) => Ok(Value::from(false)),
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Set(_) => "set",
        Value::Object(_) => "object",
        Value::Undefined => "undefined",
    }
}
