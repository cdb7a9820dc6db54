// cos patch 22: OPA v1.22.2 builtins upstream regorus lacks:
// `strings.split_n`, `array.flatten`, `regex.globs_match`.

use crate::ast::{Expr, Ref};
use crate::builtins;
use crate::builtins::utils::{ensure_args_count, ensure_array, ensure_string};
use crate::lexer::Span;
use crate::value::Value;

use anyhow::{anyhow, bail, Result};
use std::format;
use std::string::String;
use std::vec::Vec;

pub fn register(m: &mut builtins::BuiltinsMap<&'static str, builtins::BuiltinFcn>) {
    m.insert("strings.split_n", (split_n, 3));
    m.insert("array.flatten", (flatten, 1));
    m.insert("regex.globs_match", (globs_match, 2));
}

// ------------------------------------------------------------ split_n

/// Go's `strings.SplitN(s, sep, n)` for `n != 0` (`n < 0`: all parts).
fn go_split_n<'a>(s: &'a str, sep: &str, n: i64) -> Vec<&'a str> {
    let mut out = Vec::new();
    if n == 0 {
        return out;
    }
    let limit = |len: usize| n > 0 && (len as u64).saturating_add(1) >= n as u64;
    if sep.is_empty() {
        // Go explodes into UTF-8 sequences, the last holding the rest.
        let mut rest = s;
        while !rest.is_empty() {
            if limit(out.len()) {
                out.push(rest);
                return out;
            }
            let w = rest.chars().next().map_or(1, char::len_utf8);
            out.push(&rest[..w]);
            rest = &rest[w..];
        }
        return out;
    }
    let mut rest = s;
    while !limit(out.len()) {
        match rest.find(sep) {
            Some(m) => {
                out.push(&rest[..m]);
                rest = &rest[m + sep.len()..];
            }
            None => break,
        }
    }
    out.push(rest);
    out
}

fn split_n(span: &Span, params: &[Ref<Expr>], args: &[Value], _strict: bool) -> Result<Value> {
    let name = "strings.split_n";
    ensure_args_count(span, name, params, args, 3)?;
    let s = ensure_string(name, &params[0], &args[0])?;
    let d = ensure_string(name, &params[1], &args[1])?;
    let n = match &args[2] {
        Value::Number(n) => n.as_i64().filter(|_| n.is_integer()),
        _ => None,
    };
    let Some(n) = n else {
        bail!(params[2]
            .span()
            .error(&format!("{name}: operand 3 must be integer number")));
    };
    let parts: Vec<&str> = if n >= 0 {
        // n+1 overflowing means no limit, as in OPA.
        let limit = n.checked_add(1).unwrap_or(-1);
        let mut parts = go_split_n(&s, &d, limit);
        parts.truncate(usize::try_from(n).unwrap_or(usize::MAX));
        parts
    } else {
        let parts = go_split_n(&s, &d, -1);
        let keep = usize::try_from(n.unsigned_abs()).unwrap_or(usize::MAX);
        let start = parts.len().saturating_sub(keep);
        parts[start..].to_vec()
    };
    crate::utils::limits::check_elements(parts.len() as u128)?;
    Ok(Value::from_array(
        parts.into_iter().map(|p| Value::String(p.into())).collect(),
    ))
}

// ------------------------------------------------------------ flatten

fn flatten(span: &Span, params: &[Ref<Expr>], args: &[Value], _strict: bool) -> Result<Value> {
    let name = "array.flatten";
    ensure_args_count(span, name, params, args, 1)?;
    let arr = ensure_array(name, &params[0], args[0].clone())?;
    let mut size: u128 = 0;
    for v in arr.iter() {
        size += match v {
            Value::Array(a) => a.len() as u128,
            _ => 1,
        };
    }
    crate::utils::limits::check_elements(size)?;
    let mut out = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    for v in arr.iter() {
        match v {
            Value::Array(a) => out.extend(a.iter().cloned()),
            other => out.push(other.clone()),
        }
    }
    Ok(Value::from_array(out))
}

// ------------------------------------------------------- globs_match
//
// OPA's `regex.globs_match` is github.com/yashtewari/glob-intersection
// v0.2.0's `NonEmpty`: the globs have characters, `.`, sets `[...]` with
// ranges, `\` escapes, and the flags `+` and `*`.

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Flag {
    None,
    Plus,
    Star,
}

#[derive(Clone, PartialEq, Eq, Debug)]
enum Kind {
    Char(char),
    Dot,
    /// Sorted, merged, inclusive ranges.
    Set(Vec<(u32, u32)>),
}

#[derive(Clone, Debug)]
struct Token {
    kind: Kind,
    flag: Flag,
}

fn glob_err(input: &[char], pos: usize, msg: &str) -> anyhow::Error {
    let s: String = input.iter().collect();
    anyhow!("input:{s}, pos:{pos}, {msg}: the input provided is invalid")
}

/// `nextRune`: Ok(None) at the end.
fn next_rune(i: usize, input: &[char]) -> Result<Option<(usize, char, bool)>> {
    let Some(&c) = input.get(i) else {
        return Ok(None);
    };
    if c == '\\' {
        return match input.get(i + 1) {
            Some(&r) => Ok(Some((i + 2, r, true))),
            None => Err(glob_err(
                input,
                i,
                "input ends with a \\ (escape) character",
            )),
        };
    }
    Ok(Some((i + 1, c, false)))
}

fn normalize(mut ranges: Vec<(u32, u32)>) -> Vec<(u32, u32)> {
    ranges.sort_unstable();
    let mut out: Vec<(u32, u32)> = Vec::with_capacity(ranges.len());
    for (lo, hi) in ranges {
        match out.last_mut() {
            Some(last) if lo <= last.1.saturating_add(1) => last.1 = last.1.max(hi),
            _ => out.push((lo, hi)),
        }
    }
    out
}

fn next_set(mut i: usize, input: &[char]) -> Result<(usize, Token)> {
    let mut ranges = Vec::new();
    let mut prev: Option<char> = None;
    loop {
        let Some((ni, r, escaped)) = next_rune(i, input)? else {
            return Err(glob_err(input, i, "found [ without matching ]"));
        };
        i = ni;
        if escaped {
            ranges.push((r as u32, r as u32));
            prev = Some(r);
            continue;
        }
        match r {
            '-' => {
                let Some(p) = prev else {
                    return Err(glob_err(
                        input,
                        i,
                        "range character '-' must be preceded by a Unicode character",
                    ));
                };
                if i + 1 >= input.len() {
                    return Err(glob_err(
                        input,
                        i,
                        "range character '-' must be followed by a Unicode character",
                    ));
                }
                let Some((ni, r, escaped)) = next_rune(i, input)? else {
                    return Err(glob_err(input, i, "found [ without matching ]"));
                };
                i = ni;
                if !escaped && (r == ']' || r == '-') {
                    return Err(glob_err(
                        input,
                        i,
                        "range character '-' cannot be followed by a special symbol",
                    ));
                }
                if r < p {
                    return Err(glob_err(input, i, "range is out of order"));
                }
                ranges.push((p as u32, r as u32));
                prev = None;
            }
            ']' => {
                return Ok((
                    i,
                    Token {
                        kind: Kind::Set(normalize(ranges)),
                        flag: Flag::None,
                    },
                ))
            }
            _ => {
                ranges.push((r as u32, r as u32));
                prev = Some(r);
            }
        }
    }
}

fn tokenize(input: &[char]) -> Result<Vec<Token>> {
    let mut tokens = Vec::new();
    let mut i = 0;
    while let Some((ni, r, escaped)) = next_rune(i, input)? {
        crate::utils::limits::tick(tokens.len())?;
        i = ni;
        let mut tok = if escaped {
            Token {
                kind: Kind::Char(r),
                flag: Flag::None,
            }
        } else {
            match r {
                '.' => Token {
                    kind: Kind::Dot,
                    flag: Flag::None,
                },
                ']' => {
                    return Err(glob_err(input, i, "set-close ']' with no preceding '['"));
                }
                '[' => {
                    let (ni, t) = next_set(i, input)?;
                    i = ni;
                    t
                }
                '+' | '*' => {
                    return Err(glob_err(
                        input,
                        i,
                        &format!("flag '{r}' must be preceded by a non-flag"),
                    ));
                }
                _ => Token {
                    kind: Kind::Char(r),
                    flag: Flag::None,
                },
            }
        };
        // `nextFlag`: an unescaped + or * right after.
        if let Some((ni, f, false)) = next_rune(i, input)? {
            if f == '+' || f == '*' {
                tok.flag = if f == '+' { Flag::Plus } else { Flag::Star };
                i = ni;
            }
        }
        tokens.push(tok);
    }
    Ok(tokens)
}

fn simplify(tokens: Vec<Token>) -> Vec<Token> {
    let mut out: Vec<Token> = Vec::with_capacity(tokens.len());
    // `latest` is the last token appended (whose flag merges may change).
    for t in tokens {
        if let Some(latest) = out.last_mut() {
            if t.flag != Flag::None && latest.flag != Flag::None && t.kind == latest.kind {
                latest.flag = if t.flag == Flag::Plus || latest.flag == Flag::Plus {
                    Flag::Plus
                } else {
                    Flag::Star
                };
                continue;
            }
        }
        out.push(t);
    }
    out
}

fn sets_meet(a: &[(u32, u32)], b: &[(u32, u32)]) -> bool {
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        if a[i].1 < b[j].0 {
            i += 1;
        } else if b[j].1 < a[i].0 {
            j += 1;
        } else {
            return true;
        }
    }
    false
}

fn matches(a: &Token, b: &Token) -> bool {
    match (&a.kind, &b.kind) {
        (Kind::Dot, _) | (_, Kind::Dot) => true,
        (Kind::Char(x), Kind::Char(y)) => x == y,
        (Kind::Char(c), Kind::Set(s)) | (Kind::Set(s), Kind::Char(c)) => {
            let c = *c as u32;
            s.iter().any(|(lo, hi)| *lo <= c && c <= *hi)
        }
        (Kind::Set(x), Kind::Set(y)) => sets_meet(x, y),
    }
}

/// Recursion bound: each level consumes a token of one glob, so this is
/// reached only by globs of thousands of flagged tokens.
const MAX_DEPTH: usize = 2048;

struct Ctx {
    steps: usize,
}

impl Ctx {
    fn step(&mut self, depth: usize) -> Result<()> {
        crate::utils::limits::tick(self.steps)?;
        self.steps += 1;
        if depth > MAX_DEPTH {
            bail!("regex.globs_match: globs too long for cos to intersect (over {MAX_DEPTH} nested steps)");
        }
        Ok(())
    }
}

fn intersect_normal(c: &mut Ctx, d: usize, g1: &[Token], g2: &[Token]) -> Result<bool> {
    c.step(d)?;
    let (mut i, mut j) = (0, 0);
    while i < g1.len() && j < g2.len() {
        if g1[i].flag == Flag::None && g2[j].flag == Flag::None {
            if !matches(&g1[i], &g2[j]) {
                return Ok(false);
            }
        } else {
            return intersect_special(c, d + 1, &g1[i..], &g2[j..]);
        }
        i += 1;
        j += 1;
    }
    Ok(i == g1.len() && j == g2.len())
}

fn intersect_special(c: &mut Ctx, d: usize, g1: &[Token], g2: &[Token]) -> Result<bool> {
    let (Some(a), Some(b)) = (g1.first(), g2.first()) else {
        return Ok(false);
    };
    if a.flag != Flag::None {
        match a.flag {
            Flag::Plus => intersect_plus(c, d, g1, g2),
            _ => intersect_star(c, d, g1, g2),
        }
    } else {
        match b.flag {
            Flag::Plus => intersect_plus(c, d, g2, g1),
            Flag::Star => intersect_star(c, d, g2, g1),
            Flag::None => Ok(false),
        }
    }
}

fn intersect_plus(c: &mut Ctx, d: usize, plussed: &[Token], other: &[Token]) -> Result<bool> {
    c.step(d)?;
    let (Some(p0), Some(o0)) = (plussed.first(), other.first()) else {
        bail!("regex.globs_match: OPA v1.22.2 panics on these globs (index out of range); cos refuses them");
    };
    if !matches(p0, o0) {
        return Ok(false);
    }
    if intersect_star(c, d + 1, plussed, &other[1..])? {
        return Ok(true);
    }
    Ok(o0.flag != Flag::None && intersect_normal(c, d + 1, &plussed[1..], other)?)
}

fn intersect_star(c: &mut Ctx, d: usize, starred: &[Token], other: &[Token]) -> Result<bool> {
    c.step(d)?;
    let Some(star) = starred.first() else {
        return Ok(false);
    };
    let next = starred.get(1);
    for (i, t) in other.iter().enumerate() {
        c.step(d)?;
        match next {
            Some(n) if matches(t, n) => {
                if intersect_normal(c, d + 1, &starred[1..], &other[i..])? {
                    return Ok(true);
                }
                if !matches(t, star) {
                    return Ok(false);
                }
            }
            _ => {
                if !matches(t, star) {
                    return Ok(false);
                }
            }
        }
    }
    Ok(next.is_none())
}

/// `trimGlobs`.
fn trim<'a>(g1: &'a [Token], g2: &'a [Token]) -> Result<Option<(&'a [Token], &'a [Token])>> {
    let mut l = 0usize;
    while l < g1.len() && l < g2.len() && g1[l].flag == Flag::None && g2[l].flag == Flag::None {
        if !matches(&g1[l], &g2[l]) {
            return Ok(None);
        }
        l += 1;
    }
    l = l.saturating_sub(1);
    let (mut r1, mut r2) = (g1.len() as isize - 1, g2.len() as isize - 1);
    let li = l as isize;
    while r1 >= 0 && r1 >= li && r2 >= 0 && r2 >= li {
        let (a, b) = (&g1[r1 as usize], &g2[r2 as usize]);
        if a.flag != Flag::None || b.flag != Flag::None {
            break;
        }
        if !matches(a, b) {
            return Ok(None);
        }
        r1 -= 1;
        r2 -= 1;
    }
    if r1 < g1.len() as isize - 1 {
        r1 += 1;
        r2 += 1;
    }
    let panic = || {
        anyhow!(
            "regex.globs_match: OPA v1.22.2 panics on these globs (slice bounds); cos refuses them"
        )
    };
    let end1 = usize::try_from(r1 + 1).map_err(|_| panic())?;
    let end2 = usize::try_from(r2 + 1).map_err(|_| panic())?;
    let a = g1.get(l.min(end1)..end1).ok_or_else(panic)?;
    let b = g2.get(l..end2).ok_or_else(panic)?;
    if l > end1 {
        return Err(panic());
    }
    Ok(Some((a, b)))
}

fn globs_match(span: &Span, params: &[Ref<Expr>], args: &[Value], _strict: bool) -> Result<Value> {
    let name = "regex.globs_match";
    ensure_args_count(span, name, params, args, 2)?;
    let a = ensure_string(name, &params[0], &args[0])?;
    let b = ensure_string(name, &params[1], &args[1])?;
    let wrap = |e: anyhow::Error| {
        if e.downcast_ref::<crate::LimitError>().is_some() {
            return e;
        }
        anyhow!(span.error(&format!("{name}: {e}")))
    };
    let ca: Vec<char> = a.chars().collect();
    let cb: Vec<char> = b.chars().collect();
    let g1 = simplify(tokenize(&ca).map_err(wrap)?);
    let g2 = simplify(tokenize(&cb).map_err(wrap)?);
    let Some((g1, g2)) = trim(&g1, &g2).map_err(wrap)? else {
        return Ok(Value::Bool(false));
    };
    let mut ctx = Ctx { steps: 0 };
    Ok(Value::Bool(
        intersect_normal(&mut ctx, 0, g1, g2).map_err(wrap)?,
    ))
}
