// Copyright (c) Microsoft Corporation.
// Licensed under the MIT License.

use crate::ast::{Expr, Ref};
use crate::builtins;
use crate::builtins::utils::ensure_args_count;

use crate::lexer::Span;
use crate::value::Value;

use anyhow::Result;

pub fn register(m: &mut builtins::BuiltinsMap<&'static str, builtins::BuiltinFcn>) {
    m.insert("http.send", (send, 1));
}

fn send(span: &Span, params: &[Ref<Expr>], args: &[Value], _strict: bool) -> Result<Value> {
    let name = "http.send";
    ensure_args_count(span, name, params, args, 1)?;
    // cos patch: a builtin error (undefined unless strict builtin errors
    // are on) rather than a plain undefined: cos sends no requests, and a
    // call that reaches here was not replaced by a `with` mock.
    anyhow::bail!(span.error("http.send: cos sends no requests (a decision does no I/O); mock it with `with http.send as ...`"))
}
