// Copyright (c) Microsoft Corporation.
// Licensed under the MIT License.

//! cos patch 32: Rego annotations (`# METADATA` comment blocks) and OPA's
//! `rego.metadata.chain()` / `rego.metadata.rule()`.
//!
//! As OPA (v1/ast/parser.go, annotations.go): a block starts at a comment in
//! column 1 whose text, trimmed, begins with `METADATA`, and takes the
//! column-1 comments on the lines right below it (up to the next `METADATA`
//! comment); their text, less one leading space, is a YAML document read
//! into OPA's fields (`scope`, `title`, `description`, `entrypoint`,
//! `organizations`, `related_resources`, `authors`, `schemas`, `compile`,
//! `custom`, `labels`; other keys are ignored, as Go's YAML reader does).
//! A block applies to the first package, import or rule below its first
//! line; its scope defaults from that (`rule`, or `document` for an
//! entrypoint; `package`). A block OPA refuses is a `rego_parse_error`.
//!
//! The values are OPA's: the same keys, omitted when empty, the scalars of
//! string fields kept as written (`title: 1.50` is `"1.50"`). Where cos
//! cannot reproduce OPA's value (a YAML timestamp, which Go writes back in
//! RFC 3339; a URL Go's `net/url` would rewrite; a reference beyond dotted
//! names), the block is refused with a message saying so, rather than
//! answered differently.

use crate::ast::{Expr, Module, Ref, Rule, RuleHead};
use crate::lexer::{Source, Span};
use crate::value::Value;
use crate::*;

use alloc::collections::BTreeMap;
use anyhow::{anyhow, Result};

/// Where an annotation applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// The rule right below.
    Rule,
    /// Every definition of the rule's document.
    Document,
    /// The package.
    Package,
    /// The package and those under it.
    Subpackages,
}

impl Scope {
    const fn name(self) -> &'static str {
        match self {
            Self::Rule => "rule",
            Self::Document => "document",
            Self::Package => "package",
            Self::Subpackages => "subpackages",
        }
    }
}

/// The statement an annotation is attached to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// The module's package.
    Package,
    /// A rule of the module, by index in `Module::policy`.
    Rule(usize),
}

/// One parsed `# METADATA` block of a module.
#[derive(Debug, Clone)]
pub struct Annotation {
    /// Line of the `# METADATA` comment.
    pub line: u32,
    /// Its resolved scope.
    pub scope: Scope,
    /// What it is attached to.
    pub target: Target,
    /// OPA's object for it (`scope` included).
    pub value: Value,
}

const SCOPE_CHOICES: &str = "Use one of 'rule', 'document', 'package', or 'subpackages'";

fn is_metadata(text: &str) -> bool {
    text.trim().starts_with("METADATA")
}

/// Parses the METADATA blocks of a module (its column-1 comments, as
/// recorded by the lexer) and attaches them to its statements.
pub fn parse_module_annotations(
    source: &Source,
    comments: &[(u32, u32, u32)],
    package_line: u32,
    import_lines: &[u32],
    rule_lines: &[u32],
) -> Result<Vec<Annotation>> {
    let contents = source.contents();
    let text = |c: &(u32, u32, u32)| -> &str {
        contents.get(c.1 as usize..c.2 as usize).unwrap_or_default()
    };
    let mut out = Vec::new();
    let mut i = 0;
    while i < comments.len() {
        let Some(first) = comments.get(i) else { break };
        if !is_metadata(text(first)) {
            i += 1;
            continue;
        }
        let line = first.0;
        let mut doc = String::new();
        let mut lines = Vec::new();
        let mut prev = first.0;
        i += 1;
        while let Some(c) = comments.get(i) {
            if c.0 != prev.saturating_add(1) || is_metadata(text(c)) {
                break;
            }
            let t = text(c);
            doc.push_str(t.strip_prefix(' ').unwrap_or(t));
            doc.push('\n');
            lines.push(c.0);
            prev = c.0;
            i += 1;
        }
        let err = |msg: &str| source.error(line, 1, &format!("rego_parse_error: {msg}"));
        if doc.trim().is_empty() {
            return Err(err("expected METADATA block, found whitespace"));
        }
        let raw = read_yaml(&doc).map_err(|e| err(&e))?;

        // The statement below the block's first line.
        enum Stmt {
            Package,
            Import,
            Rule(usize),
        }
        let mut below: Option<(u32, Stmt)> = None;
        let mut consider = |l: u32, s: Stmt| {
            if l > line && below.as_ref().is_none_or(|(b, _)| l < *b) {
                below = Some((l, s));
            }
        };
        consider(package_line, Stmt::Package);
        for l in import_lines {
            consider(*l, Stmt::Import);
        }
        // Rules are in source order: the first one below is the one.
        if let Some(idx) = rule_lines.iter().position(|l| *l > line) {
            if let Some(l) = rule_lines.get(idx) {
                consider(*l, Stmt::Rule(idx));
            }
        }

        let entrypoint = raw.entrypoint;
        let scope_name: String = match (&raw.scope, &below) {
            (Some(s), _) => s.clone(),
            (None, Some((_, Stmt::Rule(_)))) if entrypoint => "document".into(),
            (None, Some((_, Stmt::Rule(_)))) => "rule".into(),
            (None, Some((_, Stmt::Package))) => "package".into(),
            (None, Some((_, Stmt::Import))) => "import".into(),
            (None, None) => String::new(),
        };
        let scope = match scope_name.as_str() {
            "rule" => Scope::Rule,
            "document" => Scope::Document,
            "package" => Scope::Package,
            "subpackages" => Scope::Subpackages,
            other => {
                return Err(err(&format!(
                    "invalid annotation scope '{other}'. {SCOPE_CHOICES}"
                )))
            }
        };
        let target = match (scope, &below) {
            (Scope::Rule | Scope::Document, Some((_, Stmt::Rule(idx)))) => Target::Rule(*idx),
            (Scope::Package | Scope::Subpackages, Some((_, Stmt::Package))) => Target::Package,
            (Scope::Rule | Scope::Document, _) => {
                return Err(err(&format!(
                    "annotation scope '{}' must be applied to rule (have '{}')",
                    scope.name(),
                    stmt_name(below.as_ref().map(|(_, s)| s))
                )))
            }
            (Scope::Package | Scope::Subpackages, _) => {
                return Err(err(&format!(
                    "annotation scope '{}' must be applied to package (have '{}')",
                    scope.name(),
                    stmt_name(below.as_ref().map(|(_, s)| s))
                )))
            }
        };
        if entrypoint && !matches!(scope, Scope::Document | Scope::Package) {
            return Err(err(&format!(
                "annotation entrypoint applied to non-document or package scope '{}'",
                scope.name()
            )));
        }
        let mut fields = raw.fields;
        fields.insert(Value::from("scope"), Value::from(scope.name()));
        out.push(Annotation {
            line,
            scope,
            target,
            value: Value::from(fields),
        });

        fn stmt_name(s: Option<&Stmt>) -> &'static str {
            match s {
                Some(Stmt::Package) => "package",
                Some(Stmt::Import) => "import",
                Some(Stmt::Rule(_)) => "rule",
                None => "nothing",
            }
        }
    }
    Ok(out)
}

/// A YAML scalar as Go's YAML reader puts it into a string field: its
/// text as written; null is the empty string.
#[derive(serde::Deserialize)]
#[serde(transparent)]
struct GoString(Option<String>);

impl GoString {
    fn into_string(self) -> String {
        self.0.unwrap_or_default()
    }
}

/// A YAML scalar as Go's YAML reader puts it into a bool field: a boolean,
/// or one of YAML 1.1's words for one.
struct GoBool(bool);

impl<'de> serde::Deserialize<'de> for GoBool {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> core::result::Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = GoBool;
            fn expecting(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.write_str("a boolean")
            }
            fn visit_bool<E: serde::de::Error>(self, b: bool) -> core::result::Result<GoBool, E> {
                Ok(GoBool(b))
            }
            fn visit_unit<E: serde::de::Error>(self) -> core::result::Result<GoBool, E> {
                Ok(GoBool(false))
            }
            fn visit_none<E: serde::de::Error>(self) -> core::result::Result<GoBool, E> {
                Ok(GoBool(false))
            }
            fn visit_str<E: serde::de::Error>(self, t: &str) -> core::result::Result<GoBool, E> {
                match t {
                    "y" | "Y" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" => Ok(GoBool(true)),
                    "n" | "N" | "no" | "No" | "NO" | "off" | "Off" | "OFF" => Ok(GoBool(false)),
                    _ => Err(E::custom(format!("cannot unmarshal {t:?} into bool"))),
                }
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(serde::Deserialize)]
struct RawAnnotation {
    scope: Option<GoString>,
    title: Option<GoString>,
    entrypoint: Option<GoBool>,
    description: Option<GoString>,
    organizations: Option<Vec<GoString>>,
    related_resources: Option<Vec<Value>>,
    authors: Option<Vec<Value>>,
    schemas: Option<Vec<Option<BTreeMap<GoString, Value>>>>,
    compile: Option<Value>,
    custom: Option<BTreeMap<GoString, Value>>,
    labels: Option<BTreeMap<GoString, Value>>,
}

impl PartialEq for GoString {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}
impl Eq for GoString {}
impl PartialOrd for GoString {
    fn partial_cmp(&self, other: &Self) -> Option<core::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for GoString {
    fn cmp(&self, other: &Self) -> core::cmp::Ordering {
        self.0.cmp(&other.0)
    }
}

/// What a block's YAML gives: the scope as written, the entrypoint flag and
/// the other fields of OPA's object.
struct Parsed {
    scope: Option<String>,
    entrypoint: bool,
    fields: BTreeMap<Value, Value>,
}

#[cfg(feature = "yaml")]
fn read_yaml(doc: &str) -> core::result::Result<Parsed, String> {
    use serde::Deserialize;
    if crate::builtins::encoding::flow_depth_exceeds(doc, 128) {
        return Err("yaml: exceeded max depth of 128".into());
    }
    let Scan {
        tags,
        dates,
        number,
    } = scan(doc);
    if tags {
        return Err("cos does not read YAML tags (`!...`) in METADATA".into());
    }
    if let Some(n) = number {
        return Err(format!(
            "cos does not read the YAML number {n:?} in METADATA (Go's YAML reader reads this form differently); write it as a plain decimal or quote it"
        ));
    }
    // Go's reader decodes the first document of the stream.
    let raw: RawAnnotation = match yaml_serde::Deserializer::from_str(doc).next() {
        Some(d) => RawAnnotation::deserialize(d).map_err(|e| format!("yaml: {e}"))?,
        None => return Err("expected METADATA block, found whitespace".into()),
    };
    convert(raw, dates)
}

#[cfg(not(feature = "yaml"))]
fn read_yaml(_doc: &str) -> core::result::Result<Parsed, String> {
    Err("METADATA blocks need regorus's `yaml` feature".into())
}

fn s(v: &str) -> Value {
    Value::from(v)
}

fn convert(raw: RawAnnotation, dates: bool) -> core::result::Result<Parsed, String> {
    let mut f = BTreeMap::new();
    let nonempty = |x: Option<GoString>| x.map(GoString::into_string).filter(|t| !t.is_empty());
    if let Some(t) = nonempty(raw.title) {
        f.insert(s("title"), s(&t));
    }
    let entrypoint = raw.entrypoint.is_some_and(|b| b.0);
    if entrypoint {
        f.insert(s("entrypoint"), Value::Bool(true));
    }
    if let Some(t) = nonempty(raw.description) {
        f.insert(s("description"), s(&t));
    }
    if let Some(orgs) = raw
        .organizations
        .filter(|o| o.iter().any(|x| x.0.is_some()))
    {
        // Go's reader drops a null element of a string list.
        let items: Vec<Value> = orgs
            .into_iter()
            .filter_map(|o| o.0)
            .map(|o| s(&o))
            .collect();
        f.insert(s("organizations"), Value::from(items));
    }
    if let Some(rrs) = raw.related_resources.filter(|r| !r.is_empty()) {
        let mut items = Vec::new();
        for rr in rrs {
            items.push(
                related_resource(&rr, dates).map_err(|e| {
                    format!("invalid related-resource definition {}: {e}", show(&rr))
                })?,
            );
        }
        f.insert(s("related_resources"), Value::from(items));
    }
    if let Some(authors) = raw.authors.filter(|a| !a.is_empty()) {
        let mut items = Vec::new();
        for a in authors {
            items.push(
                author(&a, dates)
                    .map_err(|e| format!("invalid author definition {}: {e}", show(&a)))?,
            );
        }
        f.insert(s("authors"), Value::from(items));
    }
    if let Some(schemas) = raw.schemas.filter(|x| !x.is_empty()) {
        let mut items = Vec::new();
        for pair in schemas {
            items.push(schema(pair.unwrap_or_default(), dates)?);
        }
        f.insert(s("schemas"), Value::from(items));
    }
    if let Some(compile) = raw.compile {
        check_compile(&compile)?;
    }
    for (key, m) in [("custom", raw.custom), ("labels", raw.labels)] {
        if let Some(m) = m.filter(|m| !m.is_empty()) {
            let mut obj = BTreeMap::new();
            for (k, v) in m {
                check_value(&v, 0, dates)?;
                // Go's reader drops a null key here.
                if let GoString(Some(k)) = k {
                    obj.insert(s(&k), v);
                }
            }
            f.insert(s(key), Value::from(obj));
        }
    }
    Ok(Parsed {
        scope: nonempty(raw.scope),
        entrypoint,
        fields: f,
    })
}

fn show(v: &Value) -> String {
    match v {
        Value::String(t) => t.to_string(),
        other => other.to_json_str().unwrap_or_default(),
    }
}

/// A value under `custom`, `labels` or a schema definition: JSON as OPA
/// makes it, or refused where cos cannot.
fn check_value(v: &Value, depth: usize, dates: bool) -> core::result::Result<(), String> {
    if depth > 128 {
        return Err("yaml: exceeded max depth of 128".into());
    }
    match v {
        Value::Object(o) => {
            for (k, x) in o.iter() {
                if !matches!(k, Value::String(_)) {
                    return Err("invalid map key type(s)".into());
                }
                check_value(x, depth + 1, dates)?;
            }
        }
        Value::Array(a) => {
            for x in a.iter() {
                check_value(x, depth + 1, dates)?;
            }
        }
        Value::Set(_) | Value::Undefined => return Err("unsupported YAML value".into()),
        Value::String(t) if dates && looks_like_timestamp(t) => {
            return Err(format!(
                "cos does not read the YAML timestamp {t:?} in METADATA (OPA rewrites it in RFC 3339); quote it differently"
            ))
        }
        Value::Number(n) if n.as_f64().is_some_and(|x| !x.is_finite()) => {
            return Err("unsupported YAML number (infinity or NaN)".into())
        }
        _ => {}
    }
    Ok(())
}

/// What a scan of the YAML text finds where nodes start (outside quotes):
/// a tag (`!x`), a plain scalar that starts like a date, and, under the
/// keys whose values Go reads untyped (`custom`, `labels`, `authors`,
/// `related_resources`, `schemas`, `compile`), a plain number in a form
/// Go's reader and cos's read differently (`017`, `0o7`, `1_000`, `+1`,
/// `00`, beyond 64 bits...).
struct Scan {
    tags: bool,
    dates: bool,
    number: Option<String>,
}

const UNTYPED_KEYS: [&str; 6] = [
    "custom",
    "labels",
    "authors",
    "related_resources",
    "schemas",
    "compile",
];

fn scan(doc: &str) -> Scan {
    let mut out = Scan {
        tags: false,
        dates: false,
        number: None,
    };
    let mut untyped = false;
    for line in doc.lines() {
        let b = line.as_bytes();
        let top_level = b
            .first()
            .is_some_and(|c| !matches!(c, b' ' | b'\t' | b'#' | b'-'));
        if top_level {
            let key = line.split(':').next().unwrap_or_default().trim();
            untyped = UNTYPED_KEYS.contains(&key);
        }
        let mut start = true;
        let mut quote: Option<u8> = None;
        let mut i = 0;
        while let Some(&c) = b.get(i) {
            if let Some(q) = quote {
                if c == q {
                    quote = None;
                }
                i += 1;
                continue;
            }
            let node_start = start && c != b' ' && c != b'\t';
            if node_start {
                let rest = line.get(i..).unwrap_or_default();
                if c == b'!' {
                    out.tags = true;
                }
                if looks_like_timestamp(rest) {
                    out.dates = true;
                }
                if untyped && !(top_level && i == 0) && out.number.is_none() {
                    let token = plain_token(rest);
                    if risky_number(token) {
                        out.number = Some(token.to_string());
                    }
                }
                start = false;
            }
            match c {
                b'"' | b'\'' if node_start => quote = Some(c),
                b'#' if i == 0 || b.get(i - 1) == Some(&b' ') => break,
                b'[' | b'{' | b',' => start = true,
                b':' | b'-' | b'?' if matches!(b.get(i + 1), None | Some(b' ') | Some(b'\t')) => {
                    start = true
                }
                _ => {}
            }
            i += 1;
        }
    }
    out
}

/// A plain scalar at the start of `rest`: up to a flow indicator, a
/// comment, a `: ` or the end of the line.
fn plain_token(rest: &str) -> &str {
    let b = rest.as_bytes();
    let mut end = b.len();
    for (i, c) in b.iter().enumerate() {
        let next_blank = matches!(b.get(i + 1), None | Some(b' ') | Some(b'\t'));
        if matches!(c, b',' | b']' | b'}')
            || (*c == b'#' && i > 0 && b.get(i - 1) == Some(&b' '))
            || (*c == b':' && next_blank)
        {
            end = i;
            break;
        }
    }
    rest.get(..end).unwrap_or_default().trim_end()
}

/// Whether Go's YAML reader reads a plain scalar as a number (its
/// `resolve`: underscores dropped, `strconv.ParseInt(s, 0, 64)` forms, its
/// float pattern); cos's reader (YAML 1.2's core schema) reads a subset of
/// these.
fn go_number(t: &str) -> bool {
    let u: String = t.chars().filter(|c| *c != '_').collect();
    let body = u.strip_prefix(['-', '+']).unwrap_or(&u);
    let all = |x: &str, f: fn(&u8) -> bool| !x.is_empty() && x.as_bytes().iter().all(f);
    if all(body, u8::is_ascii_digit) {
        return true;
    }
    let hex: fn(&u8) -> bool = u8::is_ascii_hexdigit;
    let oct: fn(&u8) -> bool = |c| (b'0'..=b'7').contains(c);
    let bin: fn(&u8) -> bool = |c| *c == b'0' || *c == b'1';
    for (p, f) in [
        ("0x", hex),
        ("0X", hex),
        ("0o", oct),
        ("0O", oct),
        ("0b", bin),
        ("0B", bin),
    ] {
        if body.strip_prefix(p).is_some_and(|x| all(x, f)) {
            return true;
        }
    }
    // ^(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(i) => (body.get(..i).unwrap_or_default(), body.get(i + 1..)),
        None => (body, None),
    };
    let digits = |x: &str| all(x, u8::is_ascii_digit);
    let mantissa_ok = match mantissa.split_once('.') {
        Some(("", f)) => digits(f),
        Some((i, f)) => digits(i) && (f.is_empty() || digits(f)),
        None => digits(mantissa),
    };
    mantissa_ok && exponent.is_none_or(|e| digits(e.strip_prefix(['+', '-']).unwrap_or(e)))
}

/// Whether a plain scalar is a number Go's YAML reader may read otherwise
/// than cos's: one Go reads as a number, but for a decimal integer of at
/// most 18 digits and a decimal fraction (with an optional exponent), not
/// `-0`.
fn risky_number(t: &str) -> bool {
    if !go_number(t) {
        return false;
    }
    let body = t.strip_prefix(['-', '+']).unwrap_or(t);
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(i) => (body.get(..i).unwrap_or_default(), body.get(i + 1..)),
        None => (body, None),
    };
    let (int, frac) = match mantissa.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (mantissa, None),
    };
    let digits = |x: &str| !x.is_empty() && x.bytes().all(|c| c.is_ascii_digit());
    // `.5` and `1.` are fractions to both readers.
    let int_ok = (int.is_empty() && frac.is_some_and(digits))
        || (digits(int) && (int == "0" || !int.starts_with('0')) && int.len() <= 18);
    let frac_ok = frac.is_none_or(|f| f.is_empty() || digits(f));
    let exp_ok = exponent.is_none_or(|e| digits(e.strip_prefix(['+', '-']).unwrap_or(e)));
    let negative_zero =
        t.starts_with('-') && int == "0" && frac.is_none_or(|f| f.bytes().all(|c| c == b'0'));
    !(int_ok && frac_ok && exp_ok && !negative_zero)
}

/// Whether a string could be a YAML timestamp (Go reads a plain one as a
/// time). A value is refused when it looks like one and the block has a
/// plain scalar that does (cos's reader does not say which was quoted).
fn looks_like_timestamp(t: &str) -> bool {
    let b = t.as_bytes();
    let digits = |r: core::ops::Range<usize>| {
        b.get(r)
            .is_some_and(|x| !x.is_empty() && x.iter().all(u8::is_ascii_digit))
    };
    digits(0..4) && b.get(4) == Some(&b'-') && b.get(5).is_some_and(u8::is_ascii_digit)
}

fn get_str<'a>(o: &'a Value, k: &str) -> &'a str {
    match &o[k] {
        Value::String(t) => t.as_ref(),
        _ => "",
    }
}

fn related_resource(v: &Value, dates: bool) -> core::result::Result<Value, String> {
    check_value(v, 0, dates).or_else(|e| {
        if matches!(v, Value::String(_)) {
            Ok(())
        } else {
            Err(e)
        }
    })?;
    match v {
        Value::String(t) => {
            if t.is_empty() {
                return Err("ref URL may not be empty string".into());
            }
            if dates && looks_like_timestamp(t) {
                return Err(format!(
                    "cos does not read the YAML timestamp {t:?} in METADATA (Go reads a time here)"
                ));
            }
            let mut o = BTreeMap::new();
            o.insert(s("ref"), s(&url(t)?));
            Ok(Value::from(o))
        }
        Value::Object(_) => {
            let description = get_str(v, "description").trim();
            let r = get_str(v, "ref").trim();
            if r.is_empty() {
                return Err("'ref' value required in object".into());
            }
            let mut o = BTreeMap::new();
            o.insert(s("ref"), s(&url(r)?));
            if !description.is_empty() {
                o.insert(s("description"), s(description));
            }
            Ok(Value::from(o))
        }
        _ => Err("invalid value type, must be string or map".into()),
    }
}

/// A URL as Go's `url.Parse(...).String()` gives it back, for the URLs it
/// gives back unchanged (but for the scheme's case); others are refused.
fn url(t: &str) -> core::result::Result<String, String> {
    let refuse = || {
        Err(format!(
            "cos reads only plain URLs in related_resources (Go would rewrite {t:?})"
        ))
    };
    let safe = |c: char| c.is_ascii_alphanumeric() || "-._~:/?#@!$&'()*+,;=".contains(c);
    if !t.chars().all(safe) || t.ends_with('#') || t.matches('#').count() > 1 {
        return refuse();
    }
    let (scheme, rest) = match t.find(':') {
        Some(i) if t.find(['/', '?', '#']).is_none_or(|j| i < j) => {
            let (sch, rest) = t.split_at(i);
            let mut cs = sch.chars();
            let ok = cs.next().is_some_and(|c| c.is_ascii_alphabetic())
                && cs.all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
            if !ok {
                return refuse();
            }
            (
                Some(sch.to_ascii_lowercase()),
                rest.get(1..).unwrap_or_default(),
            )
        }
        _ => (None, t),
    };
    if let Some(after) = rest.strip_prefix("//") {
        let end = after.find(['/', '?', '#']).unwrap_or(after.len());
        let authority = after.get(..end).unwrap_or_default();
        let userinfo_ok = |u: &str| {
            u.split(':').count() <= 2
                && u.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-._~:".contains(c))
        };
        let authority = match authority.rsplit_once('@') {
            Some((user, _)) if !userinfo_ok(user) => return refuse(),
            Some((_, hostport)) => hostport,
            None => authority,
        };
        let (host, port) = match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        };
        let host_ok = !host.is_empty()
            && host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
        let port_ok = port.is_none_or(|p| p.chars().all(|c| c.is_ascii_digit()));
        if !host_ok || !port_ok {
            return refuse();
        }
    } else if scheme.is_some() && rest.is_empty() {
        return refuse();
    }
    Ok(match scheme {
        Some(sch) => format!("{sch}:{rest}"),
        None => rest.to_string(),
    })
}

fn author(v: &Value, dates: bool) -> core::result::Result<Value, String> {
    let (name, email) = match v {
        Value::String(t) => {
            if dates && looks_like_timestamp(t) {
                return Err(format!(
                    "cos does not read the YAML timestamp {t:?} in METADATA (Go reads a time here)"
                ));
            }
            let parts: Vec<&str> = t.split_whitespace().collect();
            let Some((last, init)) = parts.split_last() else {
                return Err("author is an empty string".into());
            };
            match last
                .strip_prefix('<')
                .and_then(|x| x.strip_suffix('>'))
                .filter(|_| last.len() >= 2)
            {
                Some(email) => (init.join(" "), email.to_string()),
                None => (parts.join(" "), String::new()),
            }
        }
        Value::Object(_) => {
            check_value(v, 0, dates)?;
            let name = get_str(v, "name").trim().to_string();
            let email = get_str(v, "email").trim().to_string();
            if name.is_empty() && email.is_empty() {
                return Err("'name' and/or 'email' values required in object".into());
            }
            (name, email)
        }
        _ => return Err("invalid value type, must be string or map".into()),
    };
    let mut o = BTreeMap::new();
    if !name.is_empty() {
        o.insert(s("name"), s(&name));
    }
    if !email.is_empty() {
        o.insert(s("email"), s(&email));
    }
    Ok(Value::from(o))
}

/// A dotted reference (`input.x.y`) as OPA's array of its terms; other
/// references are refused (cos does not parse Rego terms here).
fn dotted_ref(t: &str) -> Option<Vec<Value>> {
    let mut out = Vec::new();
    for seg in t.split('.') {
        let mut cs = seg.chars();
        let ok = cs
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && cs.all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !ok {
            return None;
        }
        out.push(s(seg));
    }
    Some(out)
}

fn schema(pair: BTreeMap<GoString, Value>, dates: bool) -> core::result::Result<Value, String> {
    if pair.len() > 1 {
        return Err("cos reads one path a schemas entry (Go picks one at random)".into());
    }
    let (k, v) = pair
        .into_iter()
        .next()
        .map_or((String::new(), Value::Null), |(k, v)| (k.into_string(), v));
    let path = dotted_ref(&k).ok_or_else(|| {
        if k.is_empty() {
            "invalid document reference".to_string()
        } else {
            format!("cos reads only dotted references in schemas (not {k:?})")
        }
    })?;
    let mut o = BTreeMap::new();
    o.insert(s("path"), Value::from(path));
    match &v {
        Value::String(t) => {
            let r = dotted_ref(t)
                .filter(|r| r.first() == Some(&s("schema")))
                .ok_or_else(|| "invalid schema reference".to_string())?;
            o.insert(s("schema"), Value::from(r));
        }
        Value::Object(_) => {
            check_value(&v, 0, dates).map_err(|e| format!("invalid schema definition: {e}"))?;
            o.insert(s("definition"), v);
        }
        _ => return Err(format!("invalid schema declaration for path {k:?}")),
    }
    Ok(Value::from(o))
}

fn check_compile(c: &Value) -> core::result::Result<(), String> {
    match c {
        Value::Null => Ok(()),
        Value::Object(_) => {
            if let Value::Array(us) = &c["unknowns"] {
                for u in us.iter() {
                    if let Value::String(t) = u {
                        if dotted_ref(t).is_none() {
                            return Err(format!(
                                "cos reads only dotted references in compile.unknowns (not {t:?})"
                            ));
                        }
                    }
                }
            }
            if let Value::String(t) = &c["mask_rule"] {
                if dotted_ref(t).is_none() {
                    return Err(format!(
                        "cos reads only dotted references in compile.mask_rule (not {t:?})"
                    ));
                }
            }
            Ok(())
        }
        _ => Err("yaml: cannot unmarshal compile into a map".into()),
    }
}

// ---------------------------------------------------------------------------
// The annotation set of a policy (OPA's AnnotationSet) and the builtins.

/// A rule's document path (its head's ground prefix), after `data`.
fn ground_prefix(e: &Expr, out: &mut Vec<Value>) -> bool {
    match e {
        Expr::Var { value, .. } => {
            out.push(value.clone());
            true
        }
        Expr::RefDot { refr, field, .. } => {
            if ground_prefix(refr, out) {
                out.push(field.1.clone());
                true
            } else {
                false
            }
        }
        Expr::RefBrack { refr, index, .. } => {
            if !ground_prefix(refr, out) {
                return false;
            }
            match index.as_ref() {
                Expr::String { value, .. }
                | Expr::RawString { value, .. }
                | Expr::Number { value, .. }
                | Expr::Bool { value, .. }
                | Expr::Null { value, .. } => {
                    out.push(value.clone());
                    true
                }
                _ => false,
            }
        }
        _ => false,
    }
}

fn rule_head_ref(rule: &Rule) -> &Ref<Expr> {
    match rule {
        Rule::Spec { head, .. } => match head {
            RuleHead::Compr { refr, .. }
            | RuleHead::Set { refr, .. }
            | RuleHead::Func { refr, .. } => refr,
        },
        Rule::Default { refr, .. } => refr,
    }
}

fn package_path(m: &Module) -> Vec<Value> {
    let mut p = Vec::new();
    ground_prefix(&m.package.refr, &mut p);
    // `package data.x` is `x`.
    if p.first() == Some(&s("data")) {
        p.remove(0);
    }
    p
}

fn rule_path(m: &Module, rule: &Rule) -> Vec<Value> {
    let mut p = package_path(m);
    ground_prefix(rule_head_ref(rule), &mut p);
    p
}

fn chain_entry(path: &[Value], annotation: Option<&Value>) -> Value {
    let mut o = BTreeMap::new();
    o.insert(s("path"), Value::from(path.to_vec()));
    if let Some(a) = annotation {
        o.insert(s("annotations"), a.clone());
    }
    Value::from(o)
}

/// The annotations of a policy's modules, indexed as OPA's compiler does.
#[derive(Debug, Clone, Default)]
pub struct MetadataSet {
    /// Package-scoped annotations, by package path.
    by_package: BTreeMap<Vec<Value>, Value>,
    /// Document- and subpackages-scoped annotations, by path.
    by_path: BTreeMap<Vec<Value>, (Vec<Value>, Value)>,
}

impl MetadataSet {
    /// Builds the set; a second package-, document- or subpackages-scoped
    /// annotation for the same path is an error, as in OPA.
    pub fn build(modules: &[Ref<Module>]) -> Result<Option<Self>> {
        if modules.iter().all(|m| m.annotations.is_empty()) {
            return Ok(None);
        }
        // OPA reports in the order of the module names.
        let mut sorted: Vec<&Ref<Module>> = modules.iter().collect();
        sorted.sort_by(|a, b| {
            a.package
                .span
                .source
                .get_path()
                .cmp(b.package.span.source.get_path())
        });
        let mut set = Self::default();
        let mut seen: BTreeMap<Vec<Value>, (Scope, String)> = BTreeMap::new();
        let mut pkg_seen: BTreeMap<Vec<Value>, String> = BTreeMap::new();
        for m in sorted {
            let source = &m.package.span.source;
            for a in &m.annotations {
                let here = format!("{}:{}", source.get_path(), a.line);
                let redeclared = |other: &str| {
                    source.error(
                        a.line,
                        1,
                        &format!(
                            "rego_type_error: {} annotation redeclared: {other}",
                            a.scope.name()
                        ),
                    )
                };
                match (a.scope, a.target) {
                    (Scope::Package, Target::Package) => {
                        let p = package_path(m);
                        if let Some(other) = pkg_seen.get(&p) {
                            return Err(redeclared(other));
                        }
                        pkg_seen.insert(p.clone(), here);
                        set.by_package.insert(p, a.value.clone());
                    }
                    (Scope::Document, Target::Rule(idx)) => {
                        let rule = m
                            .policy
                            .get(idx)
                            .ok_or_else(|| anyhow!("internal error: annotated rule"))?;
                        let p = rule_path(m, rule);
                        // OPA's tree has a node here if anything is at or
                        // under this path.
                        if let Some((_, (_, other))) = seen
                            .range(p.clone()..)
                            .next()
                            .filter(|(k, _)| k.starts_with(&p))
                        {
                            return Err(redeclared(other));
                        }
                        seen.insert(p.clone(), (a.scope, here));
                        set.by_path.insert(p.clone(), (p, a.value.clone()));
                    }
                    (Scope::Subpackages, Target::Package) => {
                        let p = package_path(m);
                        if let Some((_, other)) = seen.get(&p) {
                            return Err(redeclared(other));
                        }
                        seen.insert(p.clone(), (a.scope, here));
                        set.by_path.insert(p.clone(), (p, a.value.clone()));
                    }
                    _ => {}
                }
            }
        }
        Ok(Some(set))
    }
}

/// The builtins' value for a call at `span` (`None`: not inside a rule).
pub fn lookup(
    set: Option<&MetadataSet>,
    modules: &[Ref<Module>],
    span: &Span,
    chain: bool,
) -> Option<Value> {
    let m = modules
        .iter()
        .find(|m| m.package.span.source == span.source)?;
    let at = span.start;
    // Rules are in source order: the last one starting at or before the
    // call holds it, if it ends after it.
    let idx = m
        .policy
        .partition_point(|r| r.span().start <= at)
        .checked_sub(1)?;
    let rule = m.policy.get(idx).filter(|r| at < r.span().end)?;
    let in_else = match rule.as_ref() {
        Rule::Spec { bodies, .. } => bodies
            .iter()
            .any(|b| b.is_else && b.span.start <= at && at < b.span.end),
        Rule::Default { .. } => false,
    };
    // The rule-scoped annotations of this definition (not of an `else`),
    // closest first.
    let mut own: Vec<&Annotation> = if in_else {
        Vec::new()
    } else {
        m.annotations
            .iter()
            .filter(|a| a.scope == Scope::Rule && a.target == Target::Rule(idx))
            .collect()
    };
    own.sort_by(|a, b| b.line.cmp(&a.line));
    if !chain {
        // OPA's "primary" annotation: the one declared first.
        return Some(
            own.last()
                .map_or_else(Value::new_object, |a| a.value.clone()),
        );
    }
    let path = rule_path(m, rule);
    let mut out = Vec::new();
    if own.is_empty() {
        out.push(chain_entry(&path, None));
    }
    for a in &own {
        out.push(chain_entry(&path, Some(&a.value)));
    }
    if let Some(set) = set {
        if let Some((p, v)) = set.by_path.get(&path) {
            out.push(chain_entry(p, Some(v)));
        }
        let pkg = package_path(m);
        if let Some(v) = set.by_package.get(&pkg) {
            out.push(chain_entry(&pkg, Some(v)));
        }
        for n in (1..=pkg.len()).rev() {
            if let Some((p, v)) = pkg.get(..n).and_then(|k| set.by_path.get(k)) {
                out.push(chain_entry(p, Some(v)));
            }
        }
    }
    Some(Value::from(out))
}

/// The message OPA gives outside a rule.
pub fn outside_rule(name: &str) -> anyhow::Error {
    anyhow!("the {name} function must only be called within the scope of a rule")
}

/// Registers the two builtins. The interpreter answers them itself (it
/// knows which rule holds the call); this entry is what the register VM
/// calls, which does not: a hard error, never a wrong or undefined value.
pub fn register(m: &mut crate::Map<&'static str, crate::builtins::BuiltinFcn>) {
    m.insert("rego.metadata.chain", (metadata_chain_vm, 0));
    m.insert("rego.metadata.rule", (metadata_rule_vm, 0));
}

const VM_WHAT: &str = "a call on the register VM (which does not know the rule being evaluated); evaluate on the interpreter";

fn metadata_chain_vm(_: &Span, _: &[Ref<Expr>], _: &[Value], _: bool) -> Result<Value> {
    Err(crate::utils::limits::LimitError::Unsupported {
        builtin: "rego.metadata.chain",
        what: VM_WHAT,
    }
    .into())
}

fn metadata_rule_vm(_: &Span, _: &[Ref<Expr>], _: &[Value], _: bool) -> Result<Value> {
    Err(crate::utils::limits::LimitError::Unsupported {
        builtin: "rego.metadata.rule",
        what: VM_WHAT,
    }
    .into())
}

/// A reference into the value of a `rego.metadata.*()` call
/// (`rego.metadata.rule().custom.severity`): the call, the whole
/// reference, and its segments after the call (`None`: not a literal).
#[derive(Debug, Clone)]
pub struct MetadataRef {
    call: Span,
    whole: Span,
    chain: bool,
    segments: Vec<Option<Value>>,
}

/// A reference rooted at a variable that was assigned (`:=`) a
/// `rego.metadata.*()` call earlier in the module.
#[derive(Debug, Clone)]
struct VarRef {
    name: Value,
    whole: Span,
    segments: Vec<Option<Value>>,
}

#[derive(Debug, Default)]
struct LogInner {
    /// References rooted at a call, by the call's start.
    calls: BTreeMap<u32, MetadataRef>,
    /// `name := …` assignments of the names assigned a call: by name, the
    /// assignment's start and the call (`None`: another value).
    vars: BTreeMap<Value, BTreeMap<u32, Option<(Span, bool)>>>,
    /// References rooted at a variable other than `input` and `data`, by
    /// their start (kept only if the module mentions `rego.metadata`).
    var_refs: BTreeMap<u32, VarRef>,
    /// Whether the module's text mentions `rego.metadata`.
    mentioned: bool,
    /// The spans of comprehensions and `every` (their variables may shadow
    /// a body's), if it does.
    closures: Vec<(u32, u32)>,
}

/// The references the parser noted; shared by the parser's backtracking
/// clones (a re-parse replaces an entry).
#[derive(Debug, Clone, Default)]
pub struct MetadataRefLog(alloc::rc::Rc<core::cell::RefCell<LogInner>>);

/// The segments of a reference after its root (`None`: not a literal).
fn segments_of(term: &Expr) -> Vec<Option<Value>> {
    let mut segments = Vec::new();
    let mut cur = term;
    loop {
        match cur {
            Expr::RefDot { refr, field, .. } => {
                segments.push(Some(field.1.clone()));
                cur = refr;
            }
            Expr::RefBrack { refr, index, .. } => {
                segments.push(match index.as_ref() {
                    Expr::String { value, .. }
                    | Expr::RawString { value, .. }
                    | Expr::Number { value, .. }
                    | Expr::Bool { value, .. }
                    | Expr::Null { value, .. } => Some(value.clone()),
                    _ => None,
                });
                cur = refr;
            }
            _ => break,
        }
    }
    segments.reverse();
    segments
}

/// The call's span and whether it is `chain`, if `e` is a
/// `rego.metadata.*()` call.
fn metadata_call(e: &Expr) -> Option<(&Span, bool)> {
    match e {
        Expr::Call {
            span, fcn, params, ..
        } if params.is_empty() => metadata_builtin(fcn).map(|chain| (span, chain)),
        _ => None,
    }
}

impl MetadataRefLog {
    /// A log for a module whose text is `contents`.
    pub fn new(contents: &str) -> Self {
        let log = Self::default();
        log.0.borrow_mut().mentioned = contents.contains("rego.metadata");
        log
    }

    /// Notes `term` if it is a reference whose root is a call of
    /// `rego.metadata.rule()` or `rego.metadata.chain()`, or a variable
    /// assigned one.
    pub fn note(&self, term: &Expr) {
        // Most references are neither: find the root first, without
        // allocating.
        let mut root = term;
        while let Expr::RefDot { refr, .. } | Expr::RefBrack { refr, .. } = root {
            root = refr;
        }
        if let Some((span, chain)) = metadata_call(root) {
            let r = MetadataRef {
                call: span.clone(),
                whole: term.span().clone(),
                chain,
                segments: segments_of(term),
            };
            self.0.borrow_mut().calls.insert(span.start, r);
        } else if let Expr::Var { value, .. } = root {
            let mut log = self.0.borrow_mut();
            // A head is parsed before its body: keep every such reference
            // (in a module that mentions the builtins at all).
            if log.mentioned && value != &s("input") && value != &s("data") {
                let r = VarRef {
                    name: value.clone(),
                    whole: term.span().clone(),
                    segments: segments_of(term),
                };
                log.var_refs.insert(term.span().start, r);
            }
        }
    }

    /// Notes a comprehension or `every` (whose variables may shadow).
    pub fn closure(&self, span: &Span) {
        let mut log = self.0.borrow_mut();
        if log.mentioned {
            log.closures.push((span.start, span.end));
        }
    }

    /// Notes an assignment `lhs := rhs` (of a call, or of another value to a
    /// name that was assigned one).
    pub fn assign(&self, span: &Span, lhs: &Expr, rhs: &Expr) {
        let Expr::Var { value, .. } = lhs else {
            return;
        };
        let mut log = self.0.borrow_mut();
        match metadata_call(rhs) {
            Some((call, chain)) => {
                log.vars
                    .entry(value.clone())
                    .or_default()
                    .insert(span.start, Some((call.clone(), chain)));
            }
            None => {
                if let Some(v) = log.vars.get_mut(value) {
                    v.insert(span.start, None);
                }
            }
        }
    }

    /// The references noted, in source order: those through a variable
    /// only where the variable's last assignment before the reference is a
    /// call in the same rule body (so that it is that value).
    pub fn take(&self, policy: &[Ref<Rule>]) -> Vec<MetadataRef> {
        let inner = core::mem::take(&mut *self.0.borrow_mut());
        let mut out: Vec<MetadataRef> = inner.calls.into_values().collect();
        // The scope of a position: its rule, the body (with its `else`
        // head) holding it, the rule's own head going with its first body;
        // and whether it is in a head (parsed before the body's
        // assignments).
        let scope_of = |at: u32| -> Option<((usize, usize), bool)> {
            let idx = policy
                .partition_point(|r| r.span().start <= at)
                .checked_sub(1)?;
            let rule = policy.get(idx)?;
            if at >= rule.span().end {
                return None;
            }
            match rule.as_ref() {
                Rule::Spec { bodies, .. } => {
                    match bodies
                        .iter()
                        .position(|b| b.span.start <= at && at < b.span.end)
                    {
                        Some(i) => {
                            let head = bodies.get(i).is_some_and(|b| at < b.query.span.start);
                            Some(((idx, i), head))
                        }
                        None => match bodies.first() {
                            Some(b) if at < b.span.start && !b.is_else => Some(((idx, 0), true)),
                            Some(_) => None,
                            None => Some(((idx, usize::MAX), false)),
                        },
                    }
                }
                Rule::Default { .. } => None,
            }
        };
        // A reference is followed to an assignment in its own innermost
        // comprehension or `every` (or outside all of them): a variable of
        // an outer one may be shadowed in between. The innermost one of
        // each position, by one sweep (they nest).
        let mut points: Vec<u32> = inner
            .var_refs
            .keys()
            .copied()
            .chain(inner.vars.values().flat_map(|m| m.keys().copied()))
            .collect();
        points.sort_unstable();
        points.dedup();
        let mut closures = inner.closures.clone();
        closures.sort_by_key(|(a, b)| (*a, core::cmp::Reverse(*b)));
        closures.dedup();
        let mut innermost: BTreeMap<u32, Option<(u32, u32)>> = BTreeMap::new();
        let mut open: Vec<(u32, u32)> = Vec::new();
        let mut next = closures.iter().peekable();
        for p in points {
            while let Some(c) = next.next_if(|c| c.0 <= p) {
                while open.last().is_some_and(|t| t.1 <= c.0) {
                    open.pop();
                }
                open.push(*c);
            }
            while open.last().is_some_and(|t| t.1 <= p) {
                open.pop();
            }
            innermost.insert(p, open.last().copied());
        }
        let closure_of = |at: u32| innermost.get(&at).copied().flatten();
        // The assignments by name and innermost closure.
        let mut groups: BTreeMap<(Value, Option<(u32, u32)>), BTreeMap<u32, Option<(Span, bool)>>> =
            BTreeMap::new();
        for (name, m) in &inner.vars {
            for (a, v) in m {
                groups
                    .entry((name.clone(), closure_of(*a)))
                    .or_default()
                    .insert(*a, v.clone());
            }
        }
        for (at, r) in inner.var_refs {
            let closure = closure_of(at);
            let Some(assignments) = groups.get(&(r.name.clone(), closure)) else {
                continue;
            };
            let Some((scope, head)) = scope_of(at) else {
                continue;
            };
            let found = if head && closure.is_none() {
                // The one assignment of the name in the body (after the
                // head).
                let end = policy.get(scope.0).map_or(at, |r| r.span().end);
                let mut here = assignments
                    .range(at..end.max(at))
                    .filter(|(a, _)| scope_of(**a).is_some_and(|(s, _)| s == scope))
                    .take(2);
                match (here.next(), here.next()) {
                    (Some((_, v)), None) => v.as_ref(),
                    _ => None,
                }
            } else {
                // The last assignment before the reference, in its scope.
                match assignments.range(..at).next_back() {
                    Some((a, v)) if scope_of(*a).is_some_and(|(s, _)| s == scope) => v.as_ref(),
                    _ => None,
                }
            };
            let Some((call, chain)) = found else {
                continue;
            };
            out.push(MetadataRef {
                call: call.clone(),
                whole: r.whole,
                chain: *chain,
                segments: r.segments,
            });
        }
        out
    }
}

/// `Some(true)` for `rego.metadata.chain`, `Some(false)` for
/// `rego.metadata.rule`.
fn metadata_builtin(fcn: &Expr) -> Option<bool> {
    let Expr::RefDot { refr, field, .. } = fcn else {
        return None;
    };
    let Expr::RefDot {
        refr: root,
        field: middle,
        ..
    } = refr.as_ref()
    else {
        return None;
    };
    let Expr::Var { value, .. } = root.as_ref() else {
        return None;
    };
    if value != &s("rego") || middle.1 != s("metadata") {
        return None;
    }
    match &field.1 {
        v if v == &s("chain") => Some(true),
        v if v == &s("rule") => Some(false),
        _ => None,
    }
}

/// OPA's type check of the references into the builtins' values: the value
/// is known when the policy is compiled, so a literal key or index it lacks
/// is `rego_type_error: undefined ref`; after a non-literal index, a key
/// none of the values there has. A reference through a variable
/// (`m := rego.metadata.rule(); m.x`) is not checked.
pub fn check_refs(set: Option<&MetadataSet>, modules: &[Ref<Module>]) -> Result<()> {
    for m in modules {
        for r in &m.metadata_refs {
            let Some(v) = lookup(set, modules, &r.call, r.chain) else {
                continue;
            };
            // The values the reference may reach so far (several after a
            // non-literal index: OPA's type is then their union).
            let mut reach = vec![v];
            for seg in &r.segments {
                let mut next = Vec::new();
                for v in &reach {
                    match (v, seg) {
                        (Value::Object(o), Some(k)) => next.extend(o.get(k).cloned()),
                        (Value::Array(a), Some(Value::Number(n))) => next.extend(
                            n.as_u64()
                                .and_then(|i| usize::try_from(i).ok())
                                .and_then(|i| a.get(i).cloned()),
                        ),
                        (Value::Object(o), None) => next.extend(o.values().cloned()),
                        (Value::Array(a), None) => next.extend(a.iter().cloned()),
                        _ => {}
                    }
                }
                if next.is_empty() {
                    if seg.is_none() {
                        // Not checked through an empty collection.
                        break;
                    }
                    return Err(r.whole.error(&format!(
                        "rego_type_error: undefined ref: {}",
                        r.whole.text()
                    )));
                }
                reach = next;
            }
        }
    }
    Ok(())
}
