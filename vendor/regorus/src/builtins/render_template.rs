// cos patch 22: `strings.render_template`, a subset of Go's text/template
// as OPA v1.22.2 runs it (variables decoded as JSON: numbers are float64).
//
// Supported: text, `{{- -}}` trim markers, comments, `.`, field chains
// (`.a.b`), variables (`$`, `$x`, `$x.a`, `$x := …`, `$x = …`), string,
// number and boolean literals, `if`/`else if`/`else`, `range` (with
// `$i, $e :=` and `else`), `with`/`else`, `end`. Anything else (functions,
// pipes, parentheses, `define`/`template`/`block`, `break`/`continue`) is
// refused with an error naming it: never a different text.

use crate::ast::{Expr, Ref};
use crate::builtins;
use crate::builtins::utils::{ensure_args_count, ensure_string};
use crate::lexer::Span;
use crate::value::Value;

use anyhow::{anyhow, bail, Result};
use std::format;
use std::string::{String, ToString};
use std::vec::Vec;

pub fn register(m: &mut builtins::BuiltinsMap<&'static str, builtins::BuiltinFcn>) {
    m.insert("strings.render_template", (render_template, 2));
}

#[derive(Clone, Debug)]
enum Tok {
    Dot,
    Field(String),
    Var(String),
    Str(String),
    Bool(bool),
    Ident(String),
    Declare,
    Assign,
    Comma,
}

#[derive(Clone, Debug)]
enum Operand {
    /// `.` or `$x`, then fields.
    Chain(Option<String>, Vec<String>),
    Lit(Value),
}

#[derive(Clone, Debug)]
struct Pipe {
    decl: Vec<String>,
    assign: bool,
    operand: Operand,
}

#[derive(Debug)]
enum Node {
    Text(String),
    Print(Pipe),
    If(Pipe, Vec<Node>, Vec<Node>),
    With(Pipe, Vec<Node>, Vec<Node>),
    Range(Pipe, Vec<Node>, Vec<Node>),
}

fn unsupported(what: &str) -> anyhow::Error {
    anyhow!("template: {what} is not supported by cos's text/template subset (see docs/policy-builtins.md); cos refuses the template")
}

fn lex_action(s: &str) -> Result<Vec<Tok>> {
    let b: Vec<char> = s.chars().collect();
    let mut i = 0;
    let mut out = Vec::new();
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    while i < b.len() {
        let c = b[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '.'
            && b.get(i + 1)
                .is_some_and(|d| ident(*d) && !d.is_ascii_digit())
        {
            // A field chain: .a.b
            while i < b.len() && b[i] == '.' {
                let start = i + 1;
                i += 1;
                while i < b.len() && ident(b[i]) {
                    i += 1;
                }
                if i == start {
                    bail!("template: bad field syntax");
                }
                out.push(Tok::Field(b[start..i].iter().collect()));
            }
        } else if c == '.' && !b.get(i + 1).is_some_and(|d| d.is_ascii_digit()) {
            out.push(Tok::Dot);
            i += 1;
        } else if c == '$' {
            let start = i + 1;
            i += 1;
            while i < b.len() && ident(b[i]) {
                i += 1;
            }
            out.push(Tok::Var(b[start..i].iter().collect()));
        } else if c == ':' && b.get(i + 1) == Some(&'=') {
            out.push(Tok::Declare);
            i += 2;
        } else if c == '=' {
            out.push(Tok::Assign);
            i += 1;
        } else if c == ',' {
            out.push(Tok::Comma);
            i += 1;
        } else if c == '"' {
            let mut v = String::new();
            i += 1;
            loop {
                let Some(&d) = b.get(i) else {
                    bail!("template: unterminated quoted string");
                };
                i += 1;
                match d {
                    '"' => break,
                    '\\' => {
                        let Some(&e) = b.get(i) else {
                            bail!("template: unterminated quoted string");
                        };
                        i += 1;
                        v.push(match e {
                            'n' => '\n',
                            't' => '\t',
                            'r' => '\r',
                            '\\' => '\\',
                            '"' => '"',
                            _ => return Err(unsupported("this string escape")),
                        });
                    }
                    d => v.push(d),
                }
            }
            out.push(Tok::Str(v));
        } else if c == '`' {
            let start = i + 1;
            i += 1;
            while i < b.len() && b[i] != '`' {
                i += 1;
            }
            if i >= b.len() {
                bail!("template: unterminated raw quoted string");
            }
            out.push(Tok::Str(b[start..i].iter().collect()));
            i += 1;
        } else if c.is_ascii_digit() || c == '-' || c == '+' {
            // Go's number constants print as ints, floats or complex by
            // their form; cos does not follow that.
            return Err(unsupported("a number constant"));
        } else if ident(c) {
            let start = i;
            while i < b.len() && ident(b[i]) {
                i += 1;
            }
            let w: String = b[start..i].iter().collect();
            match w.as_str() {
                "true" => out.push(Tok::Bool(true)),
                "false" => out.push(Tok::Bool(false)),
                _ => out.push(Tok::Ident(w)),
            }
        } else {
            return Err(unsupported(&format!("{c:?} in an action")));
        }
    }
    Ok(out)
}

fn parse_operand(toks: &[Tok]) -> Result<Operand> {
    match toks {
        [Tok::Dot] => Ok(Operand::Chain(None, Vec::new())),
        [Tok::Str(s)] => Ok(Operand::Lit(Value::from(s.as_str()))),
        [Tok::Bool(b)] => Ok(Operand::Lit(Value::Bool(*b))),
        [Tok::Var(v), rest @ ..] => {
            let mut fields = Vec::new();
            for t in rest {
                let Tok::Field(f) = t else {
                    return Err(unsupported("a command with arguments"));
                };
                fields.push(f.clone());
            }
            Ok(Operand::Chain(Some(v.clone()), fields))
        }
        [Tok::Field(_), ..] => {
            let mut fields = Vec::new();
            for t in toks {
                let Tok::Field(f) = t else {
                    return Err(unsupported("a command with arguments"));
                };
                fields.push(f.clone());
            }
            Ok(Operand::Chain(None, fields))
        }
        [Tok::Ident(f), ..] => Err(unsupported(&format!("the function or keyword {f:?}"))),
        [] => bail!("template: missing value for command"),
        _ => Err(unsupported("this command")),
    }
}

fn parse_pipe(toks: &[Tok], allow_two: bool) -> Result<Pipe> {
    // `$x :=`, `$x =`, `$i, $e :=`.
    let mut decl = Vec::new();
    let mut assign = false;
    let mut rest = toks;
    match toks {
        [Tok::Var(a), Tok::Comma, Tok::Var(b), Tok::Declare, r @ ..] if allow_two => {
            decl = Vec::from([a.clone(), b.clone()]);
            rest = r;
        }
        [Tok::Var(a), Tok::Declare, r @ ..] => {
            decl = Vec::from([a.clone()]);
            rest = r;
        }
        [Tok::Var(a), Tok::Assign, r @ ..] => {
            decl = Vec::from([a.clone()]);
            assign = true;
            rest = r;
        }
        _ => {}
    }
    Ok(Pipe {
        decl,
        assign,
        operand: parse_operand(rest)?,
    })
}

enum Item {
    Text(String),
    Action(Vec<Tok>),
}

/// Splits the template into text and actions, applying trim markers and
/// dropping comments.
fn split(src: &str) -> Result<Vec<Item>> {
    let mut items = Vec::new();
    let mut rest = src;
    let mut trim_next = false;
    while let Some(open) = rest.find("{{") {
        let mut text = &rest[..open];
        if trim_next {
            text = text.trim_start();
        }
        let mut after = &rest[open + 2..];
        let trim_left = after.starts_with("- ")
            || after.starts_with("-\t")
            || after.starts_with("-\n")
            || after.starts_with("-\r");
        if trim_left {
            text = text.trim_end();
            after = &after[1..];
        }
        if !text.is_empty() {
            items.push(Item::Text(text.to_string()));
        }
        let trimmed = after.trim_start();
        if let Some(body) = trimmed.strip_prefix("/*") {
            let end = body
                .find("*/")
                .ok_or_else(|| anyhow!("template: unclosed comment"))?;
            let tail = body[end + 2..].trim_start();
            let (close_len, tn) = if tail.starts_with("-}}") {
                (3, true)
            } else if tail.starts_with("}}") {
                (2, false)
            } else {
                bail!("template: comment ends before closing delimiter");
            };
            trim_next = tn;
            rest = &tail[close_len..];
            continue;
        }
        // Find the closing delimiter outside quotes.
        let chars: Vec<(usize, char)> = after.char_indices().collect();
        let mut k = 0;
        let mut close = None;
        let mut quote: Option<char> = None;
        while k < chars.len() {
            let (pos, c) = chars[k];
            match quote {
                Some(q) => {
                    if c == '\\' && q == '"' {
                        k += 1;
                    } else if c == q {
                        quote = None;
                    }
                }
                None => {
                    if c == '"' || c == '`' {
                        quote = Some(c);
                    } else if after[pos..].starts_with(" -}}")
                        || after[pos..].starts_with("\t-}}")
                        || after[pos..].starts_with("\n-}}")
                    {
                        close = Some((pos, pos + 4, true));
                        break;
                    } else if after[pos..].starts_with("}}") {
                        close = Some((pos, pos + 2, false));
                        break;
                    }
                }
            }
            k += 1;
        }
        let Some((end, next, tn)) = close else {
            bail!("template: unclosed action");
        };
        items.push(Item::Action(lex_action(&after[..end])?));
        trim_next = tn;
        rest = &after[next..];
    }
    let mut text = rest;
    if trim_next {
        text = text.trim_start();
    }
    if !text.is_empty() {
        items.push(Item::Text(text.to_string()));
    }
    Ok(items)
}

enum Stop {
    End,
    Else(Vec<Tok>),
    Eof,
}

fn parse_list(items: &[Item], pos: &mut usize, depth: usize) -> Result<(Vec<Node>, Stop)> {
    if depth > 64 {
        bail!("template: nested more than 64 deep; cos refuses the template");
    }
    let mut nodes = Vec::new();
    while *pos < items.len() {
        let item = &items[*pos];
        *pos += 1;
        match item {
            Item::Text(t) => nodes.push(Node::Text(t.clone())),
            Item::Action(toks) => match toks.first() {
                Some(Tok::Ident(k)) if k == "end" => return Ok((nodes, Stop::End)),
                Some(Tok::Ident(k)) if k == "else" => {
                    return Ok((nodes, Stop::Else(toks[1..].to_vec())));
                }
                Some(Tok::Ident(k)) if k == "if" || k == "with" || k == "range" => {
                    let node = parse_block(k, &toks[1..], items, pos, depth)?;
                    nodes.push(node);
                }
                Some(Tok::Ident(k))
                    if matches!(
                        k.as_str(),
                        "define" | "template" | "block" | "break" | "continue" | "nil"
                    ) =>
                {
                    return Err(unsupported(&format!("{{{{{k}}}}}")));
                }
                _ => nodes.push(Node::Print(parse_pipe(toks, false)?)),
            },
        }
    }
    Ok((nodes, Stop::Eof))
}

fn parse_block(
    kind: &str,
    head: &[Tok],
    items: &[Item],
    pos: &mut usize,
    depth: usize,
) -> Result<Node> {
    let pipe = parse_pipe(head, kind == "range")?;
    let (body, stop) = parse_list(items, pos, depth + 1)?;
    let else_body = match stop {
        Stop::End => Vec::new(),
        Stop::Eof => bail!("template: unexpected EOF"),
        Stop::Else(rest) if rest.is_empty() => {
            let (e, stop) = parse_list(items, pos, depth + 1)?;
            match stop {
                Stop::End => e,
                _ => bail!("template: expected end"),
            }
        }
        Stop::Else(rest) => match rest.first() {
            // `else if …` / `else with …`: a nested block sharing the end.
            Some(Tok::Ident(k)) if (k == "if" || k == "with") && kind != "range" => {
                Vec::from([parse_block(k, &rest[1..], items, pos, depth + 1)?])
            }
            _ => return Err(unsupported("this else clause")),
        },
    };
    Ok(match kind {
        "if" => Node::If(pipe, body, else_body),
        "with" => Node::With(pipe, body, else_body),
        _ => Node::Range(pipe, body, else_body),
    })
}

// ------------------------------------------------------------ execute

/// A value as text/template holds it: `None` is Go's missing value.
type Val = Option<Value>;

struct Exec {
    /// (name, value, an int index of `range`: printed as Go prints ints)
    vars: Vec<(String, Val, bool)>,
    out: String,
    steps: usize,
}

fn truthy(v: &Val) -> bool {
    match v {
        None | Some(Value::Null) | Some(Value::Undefined) => false,
        Some(Value::Bool(b)) => *b,
        // OPA hands numbers over as json.Number, a string: never empty.
        Some(Value::Number(_)) => true,
        Some(Value::String(s)) => !s.is_empty(),
        Some(Value::Array(a)) => !a.is_empty(),
        Some(Value::Set(s)) => !s.is_empty(),
        Some(Value::Object(o)) => !o.is_empty(),
    }
}

fn go_print(v: &Value, top: bool) -> Result<String> {
    Ok(match v {
        Value::Null | Value::Undefined => "<nil>".into(),
        Value::Bool(b) => b.to_string(),
        // OPA hands numbers over as json.Number: printed as OPA's text of
        // the number. An integer's is its digits; a number with a fraction
        // keeps the text it was written with, which cos does not have.
        Value::Number(n) => match n {
            crate::number::Number::Float(_) | crate::number::Number::Dec(_) => bail!(
                "template: printing a number with a fraction or an exponent (OPA prints the text it was written with, which cos does not keep); cos refuses"
            ),
            n => match (n.as_i64(), n.as_u64(), n.as_big()) {
                (Some(i), _, _) => i.to_string(),
                (_, Some(u), _) => u.to_string(),
                (_, _, Some(b)) => b.to_string(),
                _ => bail!("template: a number cos cannot print as OPA does"),
            },
        },
        Value::String(s) => s.to_string(),
        Value::Array(a) => {
            let parts: Result<Vec<String>> = a.iter().map(|x| go_print(x, false)).collect();
            format!("[{}]", parts?.join(" "))
        }
        Value::Set(s) => {
            let parts: Result<Vec<String>> = s.iter().map(|x| go_print(x, false)).collect();
            format!("[{}]", parts?.join(" "))
        }
        Value::Object(o) => {
            let mut parts = Vec::new();
            for (k, x) in o.iter() {
                let Value::String(k) = k else {
                    bail!("template: a variable object with a key that is not a string");
                };
                parts.push(format!("{k}:{}", go_print(x, false)?));
            }
            let _ = top;
            format!("map[{}]", parts.join(" "))
        }
    })
}

impl Exec {
    fn lookup(&self, name: &str) -> Result<Val> {
        for (n, v, _) in self.vars.iter().rev() {
            if n == name {
                return Ok(v.clone());
            }
        }
        bail!("template: undefined variable: ${name}")
    }

    fn is_int(&self, name: &str) -> bool {
        self.vars
            .iter()
            .rev()
            .find(|(n, _, _)| n == name)
            .is_some_and(|(_, _, i)| *i)
    }

    fn eval(&self, op: &Operand, dot: &Val) -> Result<Val> {
        match op {
            Operand::Lit(v) => Ok(Some(v.clone())),
            Operand::Chain(var, fields) => {
                let mut cur = match var {
                    None => dot.clone(),
                    Some(n) => self.lookup(n)?,
                };
                for f in fields {
                    cur = match &cur {
                        Some(Value::Object(o)) => o.get(&Value::from(f.as_str())).cloned(),
                        // A missing key, then a field of it: Go's zero value.
                        None => None,
                        Some(Value::Null) => {
                            bail!("template: nil pointer evaluating interface {{}}.{f}")
                        }
                        Some(_) => bail!("template: can't evaluate field {f}"),
                    };
                }
                // A JSON null is Go's nil: printed "<no value>".
                if matches!(cur, Some(Value::Null)) {
                    cur = None;
                }
                Ok(cur)
            }
        }
    }

    fn pipe(&mut self, p: &Pipe, dot: &Val) -> Result<Val> {
        let v = self.eval(&p.operand, dot)?;
        if let Some(name) = p.decl.first() {
            if p.assign {
                let slot = self
                    .vars
                    .iter_mut()
                    .rev()
                    .find(|(n, _, _)| n == name)
                    .ok_or_else(|| anyhow!("template: undefined variable: ${name}"))?;
                slot.1 = v.clone();
                slot.2 = false;
            } else {
                let is_int = matches!(&p.operand, Operand::Chain(Some(src), f) if f.is_empty() && self.is_int(src));
                self.vars.push((name.clone(), v.clone(), is_int));
            }
        }
        Ok(v)
    }

    fn run(&mut self, nodes: &[Node], dot: &Val) -> Result<()> {
        for n in nodes {
            crate::utils::limits::tick(self.steps)?;
            self.steps += 1;
            crate::utils::limits::check_bytes(self.out.len() as u128)?;
            match n {
                Node::Text(t) => self.out.push_str(t),
                Node::Print(p) => {
                    let v = self.pipe(p, dot)?;
                    if !p.decl.is_empty() {
                        continue;
                    }
                    let int_var = matches!(&p.operand, Operand::Chain(Some(n), f) if f.is_empty() && self.is_int(n));
                    match v {
                        None => self.out.push_str("<no value>"),
                        Some(Value::Number(n)) if int_var => {
                            self.out.push_str(&n.as_u64().unwrap_or(0).to_string())
                        }
                        Some(v) => self.out.push_str(&go_print(&v, true)?),
                    }
                }
                Node::If(p, body, els) | Node::With(p, body, els) => {
                    let mark = self.vars.len();
                    let v = self.pipe(p, dot)?;
                    let is_with = matches!(n, Node::With(..));
                    // A `range` index is a Go int: 0 is false.
                    let int_var = matches!(&p.operand, Operand::Chain(Some(n), f) if f.is_empty() && self.is_int(n));
                    let t = if int_var {
                        !matches!(&v, Some(Value::Number(n)) if n.as_u64() == Some(0))
                    } else {
                        truthy(&v)
                    };
                    if t {
                        let d = if is_with { v } else { dot.clone() };
                        self.run(body, &d)?;
                    } else {
                        self.run(els, dot)?;
                    }
                    self.vars.truncate(mark);
                }
                Node::Range(p, body, els) => {
                    let mark = self.vars.len();
                    let v = self.eval(&p.operand, dot)?;
                    let entries: Vec<(Value, Value)> = match &v {
                        None | Some(Value::Null) => Vec::new(),
                        Some(Value::Array(a)) => a
                            .iter()
                            .enumerate()
                            .map(|(i, x)| (Value::from(i), x.clone()))
                            .collect(),
                        Some(Value::Object(o)) => {
                            o.iter().map(|(k, x)| (k.clone(), x.clone())).collect()
                        }
                        Some(_) => return Err(unsupported("range over this value")),
                    };
                    if entries.is_empty() {
                        self.run(els, dot)?;
                    }
                    for (k, x) in entries {
                        let inner = self.vars.len();
                        match p.decl.as_slice() {
                            [e] => self.vars.push((e.clone(), Some(x.clone()), false)),
                            [i, e] => {
                                let is_int = matches!(k, Value::Number(_));
                                self.vars.push((i.clone(), Some(k), is_int));
                                self.vars.push((e.clone(), Some(x.clone()), false));
                            }
                            _ => {}
                        }
                        self.run(body, &Some(x))?;
                        self.vars.truncate(inner);
                    }
                    self.vars.truncate(mark);
                }
            }
        }
        Ok(())
    }
}

fn render_template(
    span: &Span,
    params: &[Ref<Expr>],
    args: &[Value],
    _strict: bool,
) -> Result<Value> {
    let name = "strings.render_template";
    ensure_args_count(span, name, params, args, 2)?;
    let src = ensure_string(name, &params[0], &args[0])?;
    let Value::Object(_) = &args[1] else {
        bail!(params[1]
            .span()
            .error(&format!("{name}: operand 2 must be object")));
    };
    let wrap = |e: anyhow::Error| {
        if e.downcast_ref::<crate::LimitError>().is_some() {
            return e;
        }
        anyhow!(span.error(&format!("{name}: {e}")))
    };
    let items = split(&src).map_err(wrap)?;
    let mut pos = 0;
    let (nodes, stop) = parse_list(&items, &mut pos, 0).map_err(wrap)?;
    match stop {
        Stop::Eof => {}
        Stop::End => return Err(wrap(anyhow!("template: unexpected {{{{end}}}}"))),
        Stop::Else(_) => return Err(wrap(anyhow!("template: unexpected {{{{else}}}}"))),
    }
    let root = Some(args[1].clone());
    let mut ex = Exec {
        vars: Vec::from([(String::new(), root.clone(), false)]),
        out: String::new(),
        steps: 0,
    };
    ex.run(&nodes, &root).map_err(wrap)?;
    Ok(Value::from(ex.out.replace("<no value>", "<undefined>")))
}
