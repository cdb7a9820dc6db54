//! `glob.match` and `glob.quote_meta` with OPA's semantics (OPA uses the Go
//! library gobwas/glob), replacing regorus 0.14's versions, which differ
//! from OPA in ways that matter for scope checks: with `[":"]` as delimiters
//! a `*` crosses `:` (`glob.match("invoice:*", [":"], "invoice:read:all")`
//! is true in regorus, false in OPA), a `*` delimiter breaks the pattern,
//! and `quote_meta` escapes only `*`.
//!
//! Syntax: `*` any run of characters without a delimiter, `**` any run,
//! `?` one character that is not a delimiter, `[abc]`, `[a-z]`, `[!abc]`,
//! `[!a-z]` one character of (or not of) a class, `{a,b*}` one of several
//! sub-patterns, `\x` the character `x`. The whole string must match.
//! Delimiters: `null` none, `[]` the default `["."]`, else the given
//! single-character strings.

use regorus::Value;

/// Longest pattern or value accepted (characters).
const MAX_LEN: usize = 64 * 1024;
/// Matching steps before giving up on a pathological pattern.
const MAX_STEPS: usize = 1_000_000;
/// Deepest `{…}` nesting accepted.
const MAX_ALT_DEPTH: usize = 32;

#[derive(Debug, Clone, PartialEq)]
enum Node {
    Lit(char),
    /// `?`
    Single,
    /// `*`
    Any,
    /// `**`
    Super,
    /// `[…]`: negated, ranges (inclusive).
    Class(bool, Vec<(char, char)>),
    /// `{a,b}`
    Alt(Vec<Vec<Node>>),
}

/// A compiled glob pattern.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Glob {
    nodes: Vec<Node>,
    delimiters: Vec<char>,
}

fn parse_seq(
    chars: &[char],
    i: &mut usize,
    depth: usize,
    in_alt: bool,
) -> Result<Vec<Node>, String> {
    if depth > MAX_ALT_DEPTH {
        return Err(format!(
            "alternatives nested more than {MAX_ALT_DEPTH} deep"
        ));
    }
    let mut out = Vec::new();
    while let Some(&c) = chars.get(*i) {
        match c {
            ',' | '}' if in_alt => return Ok(out),
            '\\' => {
                *i += 1;
                let Some(&e) = chars.get(*i) else {
                    return Err("unexpected end of input after escape".into());
                };
                out.push(Node::Lit(e));
                *i += 1;
            }
            '*' => {
                if chars.get(*i + 1) == Some(&'*') {
                    out.push(Node::Super);
                    *i += 2;
                } else {
                    out.push(Node::Any);
                    *i += 1;
                }
            }
            '?' => {
                out.push(Node::Single);
                *i += 1;
            }
            '[' => {
                *i += 1;
                out.push(parse_class(chars, i)?);
            }
            '{' => {
                *i += 1;
                let mut alts = Vec::new();
                loop {
                    alts.push(parse_seq(chars, i, depth + 1, true)?);
                    match chars.get(*i) {
                        Some(',') => *i += 1,
                        Some('}') => {
                            *i += 1;
                            break;
                        }
                        _ => return Err("unexpected end of input: unclosed '{'".into()),
                    }
                }
                out.push(Node::Alt(alts));
            }
            _ => {
                out.push(Node::Lit(c));
                *i += 1;
            }
        }
    }
    Ok(out)
}

fn parse_class(chars: &[char], i: &mut usize) -> Result<Node, String> {
    let negated = chars.get(*i) == Some(&'!');
    if negated {
        *i += 1;
    }
    let mut ranges = Vec::new();
    loop {
        let Some(&c) = chars.get(*i) else {
            return Err("unexpected end of input: unclosed '['".into());
        };
        *i += 1;
        match c {
            ']' => break,
            '\\' => {
                let Some(&e) = chars.get(*i) else {
                    return Err("unexpected end of input after escape".into());
                };
                *i += 1;
                ranges.push((e, e));
            }
            _ => {
                if chars.get(*i) == Some(&'-') {
                    // As in gobwas/glob: `a-` must be followed by the top
                    // of the range (`[a-]` is an error, `[-a]` is not).
                    let Some(&hi) = chars.get(*i + 1).filter(|&&h| h != ']') else {
                        return Err("unexpected end of input in range".into());
                    };
                    *i += 2;
                    if hi < c {
                        return Err(format!("invalid range {c}-{hi}"));
                    }
                    ranges.push((c, hi));
                } else {
                    ranges.push((c, c));
                }
            }
        }
    }
    if ranges.is_empty() {
        return Err("empty character class".into());
    }
    Ok(Node::Class(negated, ranges))
}

/// What follows the sequence being matched.
enum Cont<'a> {
    End,
    Then(&'a [Node], &'a Cont<'a>),
}

struct Matcher<'a> {
    s: &'a [char],
    delimiters: &'a [char],
    steps: usize,
}

impl Matcher<'_> {
    /// Whether `c` is a delimiter; a long delimiter list costs steps (one
    /// per 64 entries), so the step budget bounds the time.
    fn is_delim(&mut self, c: char) -> bool {
        self.steps += self.delimiters.len() / 16;
        self.delimiters.contains(&c)
    }

    fn seq(&mut self, seq: &[Node], k: &Cont<'_>, i: usize) -> Result<bool, String> {
        self.steps += 1;
        if self.steps > MAX_STEPS {
            return Err("pattern too complex to match".into());
        }
        let Some((first, rest)) = seq.split_first() else {
            return match k {
                Cont::End => Ok(i == self.s.len()),
                Cont::Then(next, k2) => self.seq(next, k2, i),
            };
        };
        let cur = self.s.get(i).copied();
        match first {
            Node::Lit(c) => Ok(cur == Some(*c) && self.seq(rest, k, i + 1)?),
            Node::Single => match cur {
                Some(c) if !self.is_delim(c) => self.seq(rest, k, i + 1),
                _ => Ok(false),
            },
            Node::Class(negated, ranges) => match cur {
                Some(c) => {
                    // A class of many ranges costs steps (one per 16).
                    self.steps += ranges.len() / 16;
                    let inside = ranges.iter().any(|&(lo, hi)| lo <= c && c <= hi);
                    Ok(inside != *negated && self.seq(rest, k, i + 1)?)
                }
                None => Ok(false),
            },
            Node::Any | Node::Super => {
                let mut j = i;
                loop {
                    if self.seq(rest, k, j)? {
                        return Ok(true);
                    }
                    let next = self.s.get(j).copied();
                    match next {
                        Some(c) if matches!(first, Node::Super) || !self.is_delim(c) => {
                            j += 1;
                        }
                        _ => return Ok(false),
                    }
                }
            }
            Node::Alt(alts) => {
                let k2 = Cont::Then(rest, k);
                for a in alts {
                    if self.seq(a, &k2, i)? {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
        }
    }
}

impl Glob {
    /// Compiles `pattern` with the given delimiters.
    pub(crate) fn new(pattern: &str, delimiters: Vec<char>) -> Result<Self, String> {
        let chars: Vec<char> = pattern.chars().collect();
        if chars.len() > MAX_LEN {
            return Err(format!("pattern longer than {MAX_LEN} characters"));
        }
        let mut i = 0;
        let nodes = parse_seq(&chars, &mut i, 0, false)?;
        if i != chars.len() {
            return Err(format!("unexpected '{}'", chars[i]));
        }
        Ok(Glob { nodes, delimiters })
    }

    /// Whether the whole of `s` matches.
    pub(crate) fn is_match(&self, s: &str) -> Result<bool, String> {
        let s: Vec<char> = s.chars().collect();
        if s.len() > MAX_LEN {
            return Err(format!("value longer than {MAX_LEN} characters"));
        }
        let mut m = Matcher {
            s: &s,
            delimiters: &self.delimiters,
            steps: 0,
        };
        m.seq(&self.nodes, &Cont::End, 0)
    }
}

/// `glob.match(pattern, delimiters, match)` as a regorus extension.
pub(crate) fn glob_match(args: Vec<Value>) -> anyhow::Result<Value> {
    let [pattern, delimiters, value] = args.as_slice() else {
        anyhow::bail!("glob.match: expects 3 arguments");
    };
    let pattern = pattern
        .as_string()
        .map_err(|_| anyhow::anyhow!("glob.match: operand 1 must be string"))?;
    let value = value
        .as_string()
        .map_err(|_| anyhow::anyhow!("glob.match: operand 3 must be string"))?;
    let delimiters = match delimiters {
        Value::Null => Vec::new(),
        Value::Array(items) => {
            let mut out = Vec::with_capacity(items.len());
            for d in items.iter() {
                let s = d.as_string().map_err(|_| {
                    anyhow::anyhow!("glob.match: operand 2 must be array of strings")
                })?;
                let mut cs = s.chars();
                match (cs.next(), cs.next()) {
                    (Some(c), None) => out.push(c),
                    _ => anyhow::bail!(
                        "glob.match: operand 2 must be array of single-character strings"
                    ),
                }
            }
            if out.is_empty() {
                out.push('.');
            }
            out
        }
        _ => anyhow::bail!("glob.match: operand 2 must be array or null"),
    };
    let glob = Glob::new(pattern, delimiters).map_err(|e| anyhow::anyhow!("glob.match: {e}"))?;
    let m = glob
        .is_match(value)
        .map_err(|e| anyhow::anyhow!("glob.match: {e}"))?;
    Ok(Value::Bool(m))
}

/// `glob.quote_meta(pattern)`: escapes every character with a meaning in
/// a glob pattern.
pub(crate) fn quote_meta(args: Vec<Value>) -> anyhow::Result<Value> {
    let [pattern] = args.as_slice() else {
        anyhow::bail!("glob.quote_meta: expects 1 argument");
    };
    let pattern = pattern
        .as_string()
        .map_err(|_| anyhow::anyhow!("glob.quote_meta: operand 1 must be string"))?;
    let mut out = String::with_capacity(pattern.len() * 2);
    for c in pattern.chars() {
        if matches!(c, '*' | '?' | '\\' | '[' | ']' | '{' | '}') {
            out.push('\\');
        }
        out.push(c);
    }
    Ok(Value::from(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, d: &[char], s: &str) -> bool {
        Glob::new(p, d.to_vec()).unwrap().is_match(s).unwrap()
    }

    #[test]
    fn opa_documented_examples() {
        assert!(m("*.github.com", &['.'], "api.github.com"));
        assert!(!m("*.github.com", &['.'], "api.cdn.github.com"));
        assert!(m("*hub.com", &[], "api.cdn.github.com"));
        assert!(m("*:github:com", &[':'], "api:github:com"));
        assert!(m("api.**.com", &['.'], "api.github.com"));
        assert!(m("api.**.com", &['.'], "api.cdn.github.com"));
        assert!(m("?at", &[], "cat"));
        assert!(!m("?at", &[], "at"));
        assert!(m("[abc]at", &[], "bat"));
        assert!(m("[!abc]at", &[], "fat"));
        assert!(!m("[!abc]at", &[], "cat"));
        assert!(m("[a-c]at", &[], "bat"));
        assert!(!m("[!a-c]at", &[], "cat"));
        assert!(m("{cat,bat,[fr]at}", &[], "rat"));
        assert!(!m("{cat,bat,[fr]at}", &[], "at"));
    }

    #[test]
    fn delimiters_bound_stars() {
        assert!(m("invoice:*", &[':'], "invoice:read"));
        assert!(!m("invoice:*", &[':'], "invoice:read:all"));
        assert!(m("invoice:**", &[':'], "invoice:read:all"));
        assert!(m("case:*", &['*'], "case:read"));
        assert!(!m("case:?", &[':'], "case::"));
        assert!(m(r"a\*b", &[], "a*b"));
        // Checked against OPA 1.22.2.
        assert!(m("[-a]", &[], "-"));
        assert!(m("a]", &[], "a]"));
        assert!(m("a}", &[], "a}"));
        assert!(m("{,x}y", &[], "y"));
        assert!(m("{a,{b,c}}", &[], "c"));
        assert!(!m("{a,*}", &['.'], "b.c"));
        assert!(m("a[.]b", &['.'], "a.b"));
        assert!(!m(r"a\*b", &[], "axb"));
    }

    proptest::proptest! {
        /// Any pattern, value and delimiters: an answer or an error, never
        /// a panic (patterns from the glob alphabet, to reach every branch).
        #[test]
        fn never_panics(
            p in "[a-c*?\\[\\]{},!\\\\.:-]{0,24}",
            v in "[a-c.:*-]{0,24}",
            d in proptest::collection::vec(proptest::char::range('*', ':'), 0..3),
        ) {
            if let Ok(g) = Glob::new(&p, d) {
                let _ = g.is_match(&v);
            }
        }
    }

    #[test]
    fn bad_patterns_are_errors_and_hostile_ones_are_bounded() {
        for p in ["[abc", "{a,b", "a\\", "[]", "[z-a]", "[a-]", "[]a]"] {
            assert!(Glob::new(p, vec![]).is_err(), "{p}");
        }
        let deep = format!("{}a{}", "{".repeat(40), "}".repeat(40));
        assert!(Glob::new(&deep, vec![]).is_err());
        // Many stars against a long non-matching value: budget, not a hang.
        let p = "*a*a*a*a*a*a*a*a*a*a*a*a*b";
        let s = "a".repeat(200);
        assert!(Glob::new(p, vec![]).unwrap().is_match(&s).is_err());
    }
}
