//! Field paths into JSON documents: `customer.email`, `items[*].card`,
//! `items[0]`, `meta["x.y"]`, `*.ssn`.

use std::fmt;
use std::str::FromStr;

use super::error::{DlpError, Result};

/// One step of a [`FieldPath`].
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    /// An object member.
    Key(String),
    /// Any object member (`*`).
    AnyKey,
    /// An array element.
    Index(usize),
    /// Any array element (`[*]`).
    AnyIndex,
}

/// A pattern selecting fields of a JSON document.
///
/// Syntax: members separated by dots (`customer.email`), `[n]` for an array
/// element, `[*]` for every element, `*` for every member of an object, and
/// `["…"]` (a JSON string) for a member whose name has dots, brackets or
/// quotes. A leading `$.` is allowed. The path matches the fields it names
/// exactly; a rule on `customer` covers everything under it.
///
/// ```
/// use cos_policy::dlp::FieldPath;
/// let p: FieldPath = "items[*].card".parse()?;
/// assert_eq!(p.to_string(), "items[*].card");
/// let q: FieldPath = r#"$.meta["a.b"][0]"#.parse()?;
/// assert_eq!(q.to_string(), r#"meta["a.b"][0]"#);
/// assert!("a..b".parse::<FieldPath>().is_err());
/// # Ok::<(), cos_policy::dlp::DlpError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldPath {
    steps: Vec<Step>,
}

/// Longest field path accepted, in bytes.
const MAX_PATH: usize = 4096;

impl FromStr for FieldPath {
    type Err = DlpError;

    fn from_str(s: &str) -> Result<FieldPath> {
        let bad = |reason: &str| DlpError::Path {
            path: s.chars().take(200).collect(),
            reason: reason.to_owned(),
        };
        if s.len() > MAX_PATH {
            return Err(bad("longer than 4096 bytes"));
        }
        let mut rest = s.strip_prefix("$.").unwrap_or(s);
        if rest.is_empty() {
            return Err(bad("empty path"));
        }
        let mut steps = Vec::new();
        let mut expect_member = true;
        while !rest.is_empty() {
            if let Some(r) = rest.strip_prefix('[') {
                if let Some(r2) = r.strip_prefix("*]") {
                    steps.push(Step::AnyIndex);
                    rest = r2;
                } else if r.starts_with('"') {
                    // A JSON string, then `]`.
                    let mut de = serde_json::Deserializer::from_str(r).into_iter::<String>();
                    let key = match de.next() {
                        Some(Ok(k)) => k,
                        _ => return Err(bad("a bracketed name must be a JSON string")),
                    };
                    let used = de.byte_offset();
                    rest = r
                        .get(used..)
                        .and_then(|t| t.strip_prefix(']'))
                        .ok_or_else(|| bad("expected ] after a bracketed name"))?;
                    steps.push(Step::Key(key));
                } else {
                    let close = r.find(']').ok_or_else(|| bad("unclosed ["))?;
                    let n = &r[..close];
                    if n.is_empty() || !n.bytes().all(|b| b.is_ascii_digit()) {
                        return Err(bad("an index must be digits, * or a quoted name"));
                    }
                    let i = n.parse::<usize>().map_err(|_| bad("index too large"))?;
                    steps.push(Step::Index(i));
                    rest = &r[close + 1..];
                }
                expect_member = false;
                continue;
            }
            if !expect_member {
                rest = rest
                    .strip_prefix('.')
                    .ok_or_else(|| bad("expected . or [ between steps"))?;
            }
            let end = rest.find(['.', '[', ']', '"']).unwrap_or(rest.len());
            let name = &rest[..end];
            if name.is_empty() {
                return Err(bad("empty member name"));
            }
            if rest[end..].starts_with([']', '"']) {
                return Err(bad("unexpected ] or \" in a member name (use [\"…\"])"));
            }
            steps.push(if name == "*" {
                Step::AnyKey
            } else {
                Step::Key(name.to_owned())
            });
            rest = &rest[end..];
            expect_member = false;
        }
        Ok(FieldPath { steps })
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (k, s) in self.steps.iter().enumerate() {
            match s {
                Step::Key(name) => write_key(f, name, k == 0)?,
                Step::AnyKey => f.write_str(if k == 0 { "*" } else { ".*" })?,
                Step::Index(i) => write!(f, "[{i}]")?,
                Step::AnyIndex => f.write_str("[*]")?,
            }
        }
        Ok(())
    }
}

fn plain(name: &str) -> bool {
    !name.is_empty()
        && name != "*"
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

fn write_key(f: &mut impl fmt::Write, name: &str, first: bool) -> fmt::Result {
    if plain(name) {
        if !first {
            f.write_char('.')?;
        }
        f.write_str(name)
    } else {
        let quoted = serde_json::to_string(name).map_err(|_| fmt::Error)?;
        write!(f, "[{quoted}]")
    }
}

/// A step of a concrete location while walking a document.
#[derive(Debug, Clone)]
pub(crate) enum Loc {
    Key(String),
    Index(usize),
}

impl FieldPath {
    /// Whether the path names exactly the location `loc`.
    pub(crate) fn matches(&self, loc: &[Loc]) -> bool {
        self.steps.len() == loc.len()
            && self.steps.iter().zip(loc).all(|(s, l)| match (s, l) {
                (Step::Key(k), Loc::Key(n)) => k == n,
                (Step::AnyKey, Loc::Key(_)) => true,
                (Step::Index(i), Loc::Index(j)) => i == j,
                (Step::AnyIndex, Loc::Index(_)) => true,
                _ => false,
            })
    }

    /// Whether the path could match `loc` or something below it.
    pub(crate) fn may_match_below(&self, loc: &[Loc]) -> bool {
        self.steps.len() > loc.len()
            && self.steps.iter().zip(loc).all(|(s, l)| match (s, l) {
                (Step::Key(k), Loc::Key(n)) => k == n,
                (Step::AnyKey, Loc::Key(_)) => true,
                (Step::Index(i), Loc::Index(j)) => i == j,
                (Step::AnyIndex, Loc::Index(_)) => true,
                _ => false,
            })
    }
}

/// Renders a concrete location in path syntax (`items[0].card`).
pub(crate) fn render(loc: &[Loc]) -> String {
    let mut s = String::new();
    for (k, l) in loc.iter().enumerate() {
        // Writing to a String cannot fail.
        let _ = match l {
            Loc::Key(name) => write_key(&mut s, name, k == 0),
            Loc::Index(i) => fmt::Write::write_fmt(&mut s, format_args!("[{i}]")),
        };
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> FieldPath {
        s.parse().unwrap()
    }

    #[test]
    fn parse_and_print() {
        for s in [
            "customer.email",
            "items[*].card",
            "items[3]",
            "*.ssn",
            "a[0][1].b",
            r#"m["a.b"].c"#,
            r#"["x y"]"#,
        ] {
            assert_eq!(p(s).to_string(), s);
        }
        assert_eq!(p("$.a.b").to_string(), "a.b");
        assert_eq!(p(r#"["plain"]"#).to_string(), "plain");
    }

    #[test]
    fn parse_errors() {
        for s in [
            "",
            "$.",
            "a..b",
            ".a",
            "a.",
            "a[",
            "a[x]",
            "a[-1]",
            "a]",
            "a\"b",
            r#"a["b"#,
            r#"a["b"x]"#,
            "a[0]b",
            "a[99999999999999999999999]",
        ] {
            let e = s.parse::<FieldPath>().unwrap_err();
            assert_eq!(e.code(), "dlp_invalid_path", "{s:?}");
        }
        assert!("a".repeat(5000).parse::<FieldPath>().is_err());
    }

    #[test]
    fn matching() {
        let loc = [
            Loc::Key("items".into()),
            Loc::Index(2),
            Loc::Key("card".into()),
        ];
        assert!(p("items[*].card").matches(&loc));
        assert!(p("items[2].card").matches(&loc));
        assert!(p("*[*].*").matches(&loc));
        assert!(!p("items[1].card").matches(&loc));
        assert!(!p("items.card").matches(&loc));
        assert!(!p("items[*]").matches(&loc));
        assert!(p("items[*].card").may_match_below(&loc[..2]));
        assert!(!p("orders[*].card").may_match_below(&loc[..2]));
        assert_eq!(render(&loc), "items[2].card");
        assert_eq!(
            render(&[Loc::Key("a.b".into()), Loc::Key("*".into())]),
            r#"["a.b"]["*"]"#
        );
    }
}
