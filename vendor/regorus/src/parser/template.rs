// Copyright (c) Microsoft Corporation.
// Licensed under the MIT License.

//! cos patch 20: template strings (`$"… {expr} …"` and the raw form
//! `` $`…` ``), as OPA v1 parses them, desugared here into what OPA's
//! compiler rewrites them to: a call of the builtin
//! `internal.template_string` on an array whose elements are the literal
//! text and, for each expression, the set comprehension
//! `{__t | __t = expr}` (with the expression's `with` modifiers), so that an
//! undefined expression renders `<undefined>` and both evaluators (the
//! interpreter and the register VM) run it as any other call.

use super::Parser;
use crate::ast::*;
use crate::lexer::*;
use crate::value::*;

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;
use anyhow::{bail, Result};

/// The builtin the parser calls (registered in `builtins::strings`).
pub const TEMPLATE_BUILTIN: &str = "internal.template_string";

impl<'source> Parser<'source> {
    /// Parses a template string whose first part is the current token.
    pub(super) fn parse_template_string(&mut self) -> Result<Expr> {
        self.with_nesting(|this| this.parse_template_string_inner())
    }

    /// A function's argument in its head. OPA accepts a template string
    /// there (matched after the body has run); this engine's function
    /// arguments are patterns it cannot compute, so such a head is refused
    /// rather than mis-scheduled.
    pub(super) fn parse_function_arg(&mut self) -> Result<Expr> {
        let arg = self.parse_term()?;
        let text = arg.span().text();
        if text.contains("$\"") || text.contains("$`") {
            bail!(arg
                .span()
                .error("template strings in function arguments are not supported"));
        }
        Ok(arg)
    }

    fn parse_template_string_inner(&mut self) -> Result<Expr> {
        let mut span = self.tok.1.clone();
        let (raw, _) = match self.tok.0 {
            TokenKind::Template { raw, end } => (raw, end),
            _ => bail!(span.error("expecting template string")),
        };
        let mut parts: Vec<Ref<Expr>> = Vec::new();
        let mut first = true;
        loop {
            let tok_span = self.tok.1.clone();
            let end = match self.tok.0 {
                TokenKind::Template { end, .. } => end,
                _ => bail!(tok_span.error("expecting template string")),
            };
            let text = template_part_text(&tok_span, raw, first)?;
            first = false;
            if !text.is_empty() {
                parts.push(Ref::new(Expr::String {
                    span: tok_span.clone(),
                    value: Value::from(text),
                    eidx: self.next_eidx(),
                }));
            }
            if end {
                break;
            }
            self.next_token()?;
            if self.token_text() == "}" && self.tok.0 == TokenKind::Symbol {
                bail!(self.tok.1.error("invalid template-string expression"));
            }
            // Not `parse_literal_stmt`: it parses a term twice (once as the
            // left of an assignment), which doubled the work at every level
            // of nested template strings.
            let mut stmt_span = self.tok.1.clone();
            if self.tok.0 == TokenKind::Ident {
                let what = match self.token_text() {
                    "not" => Some("negation ('not')"),
                    "some" => Some("'some'"),
                    "every" => Some("'every'"),
                    _ => None,
                };
                if let Some(what) = what {
                    bail!(stmt_span
                        .error(&format!("unexpected {what} in template-string expression")));
                }
            }
            let expr = Ref::new(self.parse_expr()?);
            if self.tok.0 == TokenKind::Symbol {
                match self.token_text() {
                    "=" => bail!(stmt_span
                        .error("unexpected unification ('=') in template-string expression")),
                    ":=" => bail!(stmt_span
                        .error("unexpected assignment (':=') in template-string expression")),
                    _ => (),
                }
            }
            let with_mods = self.parse_with_modifiers()?;
            stmt_span.end = self.end;
            if self.token_text() != "}" || self.tok.0 != TokenKind::Symbol {
                bail!(self
                    .tok
                    .1
                    .error("expected } to end template string expression"));
            }
            // The lexer stands just after this `}`: the template goes on.
            self.line = self.tok.1.line;
            self.end = self.tok.1.end;
            self.tok = self.lexer.next_template_part(raw)?;

            let literal_text = with_mods.is_empty()
                && matches!(
                    expr.as_ref(),
                    Expr::String { .. }
                        | Expr::RawString { .. }
                        | Expr::Bool { .. }
                        | Expr::Null { .. }
                        | Expr::Number { .. }
                );
            if literal_text {
                // OPA keeps a literal as written (`{1.0}` renders `1.0`).
                let value = match expr.as_ref() {
                    Expr::Number { span, .. } => Value::from(span.text()),
                    e => match e {
                        Expr::String { value, .. }
                        | Expr::RawString { value, .. }
                        | Expr::Bool { value, .. }
                        | Expr::Null { value, .. } => value.clone(),
                        _ => Value::Undefined,
                    },
                };
                // The literal's index is reused (indexes stay contiguous).
                parts.push(Ref::new(Expr::String {
                    span: expr.span().clone(),
                    value,
                    eidx: expr.eidx(),
                }));
                continue;
            }
            parts.push(Ref::new(self.template_capture(expr, stmt_span, with_mods)?));
        }
        span.end = self.tok.1.end;
        self.next_token()?;

        let name_span = synthetic_span(&span, TEMPLATE_BUILTIN)?;
        let dot = TEMPLATE_BUILTIN.find('.').unwrap_or(0);
        let mut head = name_span.clone();
        head.end = head.start.saturating_add(u32::try_from(dot).unwrap_or(0));
        let mut field = name_span.clone();
        field.start = head.end.saturating_add(1);
        let fcn = Expr::RefDot {
            span: name_span,
            refr: Ref::new(Expr::Var {
                value: Value::from(head.text()),
                span: head,
                eidx: self.next_eidx(),
            }),
            field: (field.clone(), Value::from(field.text())),
            eidx: self.next_eidx(),
        };
        let array = Expr::Array {
            span: span.clone(),
            items: parts,
            eidx: self.next_eidx(),
        };
        Ok(Expr::Call {
            span,
            fcn: Ref::new(fcn),
            params: vec![Ref::new(array)],
            eidx: self.next_eidx(),
        })
    }

    /// `{__t | __t = expr with …}` for one template expression.
    fn template_capture(
        &mut self,
        expr: Ref<Expr>,
        stmt_span: Span,
        with_mods: Vec<WithModifier>,
    ) -> Result<Expr> {
        let espan = expr.span().clone();
        let n = self.next_qidx();
        let var_span = synthetic_span(&espan, &format!("__cos_template{n}__"))?;
        let var = |this: &mut Self| Expr::Var {
            span: var_span.clone(),
            value: Value::from(var_span.text()),
            eidx: this.next_eidx(),
        };
        let lhs = var(self);
        let assign = Expr::AssignExpr {
            span: espan.clone(),
            op: AssignOp::Eq,
            lhs: Ref::new(lhs),
            rhs: expr,
            eidx: self.next_eidx(),
        };
        let query = Query {
            span: espan.clone(),
            stmts: vec![LiteralStmt {
                span: stmt_span,
                literal: Literal::Expr {
                    span: espan.clone(),
                    expr: Ref::new(assign),
                },
                with_mods,
                sidx: self.next_sidx(),
            }],
            qidx: n,
        };
        let term = var(self);
        Ok(Expr::SetCompr {
            span: espan,
            term: Ref::new(term),
            query: Ref::new(query),
            eidx: self.next_eidx(),
        })
    }
}

/// A span over `text` alone (a name the desugaring introduces), reporting
/// the template's file.
/// The name stands on the template's line (blank lines before it), so that
/// a message located at it names a line its source has.
fn synthetic_span(at: &Span, text: &str) -> Result<Span> {
    let pad = usize::try_from(at.line.saturating_sub(1)).unwrap_or(0);
    let mut contents = "\n".repeat(pad);
    contents.push_str(text);
    let source = Source::from_contents(at.source.file().to_string(), contents)?;
    let start = u32::try_from(pad).unwrap_or(0);
    Ok(Span {
        source,
        line: at.line,
        col: 1,
        start,
        end: start.saturating_add(u32::try_from(text.len()).unwrap_or(0)),
    })
}

/// The text of one part, without its delimiters, unescaped as OPA does:
/// `\{` is `{`; in a `"…"` template the rest are JSON escapes.
fn template_part_text(span: &Span, raw: bool, first: bool) -> Result<String> {
    let text = span.text();
    let inner = text
        .get(if first { 2 } else { 0 }..text.len().saturating_sub(1))
        .unwrap_or("");
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    let mut escaped = false;
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('{') => out.push('{'),
            Some(n) if !raw => {
                escaped = true;
                out.push('\\');
                out.push(n);
            }
            Some(n) => {
                // A raw template keeps a backslash; the next character is
                // read again (`\\{` is a backslash and an escaped brace).
                out.push('\\');
                if n == '\\' {
                    match chars.clone().next() {
                        Some('{') => {
                            chars.next();
                            out.push('{');
                        }
                        _ => out.push('\\'),
                    }
                } else {
                    out.push(n);
                }
            }
            None => out.push('\\'),
        }
    }
    if !escaped {
        return Ok(out);
    }
    match serde_json::from_str::<String>(&format!("\"{out}\"")) {
        Ok(s) => Ok(s),
        Err(_) => bail!(span.error(&format!("illegal template-string part: {text}"))),
    }
}
