// Copyright (c) Microsoft Corporation.
// Licensed under the MIT License.
//! gqlparser v2.5.58's query validation (validator/core/walk.go and the
//! default rules of validator/rules, which OPA enables), ported step for
//! step with its messages.
//!
//! gqlparser's walker annotates the AST in place (`Definition`,
//! `ExpectedType`, `Used`, ...) and its rules read those annotations, often
//! of other nodes. Here the document stays immutable and the annotations
//! live in side tables keyed by each node's address, set and cleared where
//! the walker assigns them (never reset between walks, as in Go).
//!
//! Rules observe the walk's events in the order gqlparser sorts them (by
//! rule name), so that errors come in gqlparser's order. Where gqlparser's
//! answer cannot be reproduced (it would panic, recurse without bound, or
//! its message depends on Go's map order), validation fails with
//! [`VErr::Unsupported`]; where only a message is unknown, the error is
//! marked `nondeterministic` (fine for `is_valid`, refused by `parse`).

use super::ast::*;
use super::lexer::go_quote;
use super::schema::Schema;
use super::GqlError;
use crate::utils::limits::LimitError;
use alloc::collections::{BTreeMap, BTreeSet};
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

/// Nesting of the walk (selections through fragments, values) and of the
/// rules' own recursions.
const MAX_DEPTH: usize = 512;
/// Steps of work before validation gives up (the deadline is also read).
const MAX_STEPS: u64 = 50_000_000;

pub enum VErr {
    Unsupported(String),
    Limit(LimitError),
}

type R<T> = Result<T, VErr>;

fn unsupported<T>(what: &str) -> R<T> {
    Err(VErr::Unsupported(what.to_string()))
}

fn id<T>(r: &T) -> usize {
    core::ptr::from_ref(r) as usize
}

const QUERY: &str = "query";
const MUTATION: &str = "mutation";
const SUBSCRIPTION: &str = "subscription";

pub fn validate(schema: &Schema, doc: &QueryDocument) -> R<Vec<GqlError>> {
    let typename = FieldDefinition {
        name: "__typename".into(),
        ty: Some(Type::named("String", false)),
        ..Default::default()
    };
    let mut w = Walker {
        schema,
        doc,
        typename: &typename,
        a: Ann::default(),
        current_op: None,
        validated_spreads: BTreeSet::new(),
        errors: Vec::new(),
        steps: 0,
        depth: 0,
        known_directives_seen: BTreeSet::new(),
        no_fragment_cycles_visited: BTreeSet::new(),
        no_unused_in_fragment: false,
        no_unused_used: BTreeSet::new(),
        compared_pairs: BTreeMap::new(),
        compared_fragments: BTreeSet::new(),
        unique_fragments: BTreeSet::new(),
        unique_operations: BTreeSet::new(),
    };
    w.walk()?;
    Ok(w.errors)
}

/// The walker's annotations.
#[derive(Default)]
struct Ann<'a> {
    field_def: BTreeMap<usize, &'a FieldDefinition>,
    field_obj: BTreeMap<usize, &'a Definition>,
    spread_def: BTreeMap<usize, &'a FragmentDefinition>,
    spread_obj: BTreeMap<usize, &'a Definition>,
    inline_obj: BTreeMap<usize, &'a Definition>,
    frag_def: BTreeMap<usize, &'a Definition>,
    var_def: BTreeMap<usize, &'a Definition>,
    var_used: BTreeSet<usize>,
    val_def: BTreeMap<usize, &'a Definition>,
    val_vardef: BTreeMap<usize, &'a VariableDefinition>,
    val_expected: BTreeMap<usize, &'a Type>,
    val_has_default: BTreeMap<usize, bool>,
    dir_def: BTreeMap<usize, &'a DirectiveDefinition>,
    dir_loc: BTreeMap<usize, &'static str>,
}

fn set<K: Ord, V>(m: &mut BTreeMap<K, V>, k: K, v: Option<V>) {
    match v {
        Some(v) => {
            m.insert(k, v);
        }
        None => {
            m.remove(&k);
        }
    }
}

struct Walker<'a> {
    schema: &'a Schema,
    doc: &'a QueryDocument,
    typename: &'a FieldDefinition,
    a: Ann<'a>,
    current_op: Option<&'a OperationDefinition>,
    validated_spreads: BTreeSet<&'a str>,
    errors: Vec<GqlError>,
    steps: u64,
    depth: usize,
    // Rule state (rules.NewDefaultRules is made once per validation).
    known_directives_seen: BTreeSet<(String, i64, i64)>,
    no_fragment_cycles_visited: BTreeSet<String>,
    no_unused_in_fragment: bool,
    no_unused_used: BTreeSet<String>,
    compared_pairs: BTreeMap<String, BTreeMap<String, bool>>,
    compared_fragments: BTreeSet<String>,
    unique_fragments: BTreeSet<String>,
    unique_operations: BTreeSet<String>,
}

fn ty<'t>(t: &'t Option<Type>) -> R<&'t Type> {
    match t {
        Some(t) => Ok(t),
        None => unsupported("a definition without a type"),
    }
}

fn value_of(v: &Option<Value>) -> R<&Value> {
    match v {
        Some(v) => Ok(v),
        None => unsupported("an argument or input field without a value"),
    }
}

fn child_value(c: &ChildValue) -> R<&Value> {
    match &c.value {
        Some(v) => Ok(v),
        None => unsupported("an input field without a value"),
    }
}

fn field_for<'d>(def: &'d Definition, name: &str) -> Option<&'d FieldDefinition> {
    def.fields.iter().find(|f| f.name == name)
}

fn arg_for<'d>(args: &'d [ArgumentDefinition], name: &str) -> Option<&'d ArgumentDefinition> {
    args.iter().find(|a| a.name == name)
}

fn is_leaf(d: &Definition) -> bool {
    matches!(d.kind.as_str(), "ENUM" | "SCALAR")
}
fn is_abstract(d: &Definition) -> bool {
    matches!(d.kind.as_str(), "INTERFACE" | "UNION")
}
fn is_composite(d: &Definition) -> bool {
    matches!(d.kind.as_str(), "OBJECT" | "INTERFACE" | "UNION")
}
fn is_input(d: &Definition) -> bool {
    matches!(d.kind.as_str(), "SCALAR" | "ENUM" | "INPUT_OBJECT")
}

/// `Value.String()`.
fn value_string(v: &Value, depth: usize) -> R<String> {
    if depth > MAX_DEPTH {
        return unsupported("values nested too deeply");
    }
    Ok(match v.kind {
        KIND_VARIABLE => format!("${}", v.raw),
        KIND_INT | KIND_FLOAT | KIND_ENUM | KIND_BOOLEAN | KIND_NULL => v.raw.clone(),
        KIND_STRING | KIND_BLOCK => go_quote(&v.raw),
        KIND_LIST => {
            let mut parts = Vec::new();
            for c in &v.children {
                parts.push(match &c.value {
                    Some(x) => value_string(x, depth + 1)?,
                    None => "<nil>".into(),
                });
            }
            format!("[{}]", parts.join(","))
        }
        KIND_OBJECT => {
            let mut parts = Vec::new();
            for c in &v.children {
                let s = match &c.value {
                    Some(x) => value_string(x, depth + 1)?,
                    None => "<nil>".into(),
                };
                parts.push(format!("{}:{}", c.name, s));
            }
            format!("{{{}}}", parts.join(","))
        }
        _ => return unsupported("a value of an unknown kind"),
    })
}

/// Go's `strconv.ParseBool`.
fn go_parse_bool(s: &str) -> bool {
    matches!(
        s,
        "1" | "t" | "T" | "TRUE" | "true" | "True" | "0" | "f" | "F" | "FALSE" | "false" | "False"
    )
}

/// Go's `strconv.ParseInt(s, 10, bits)`: Ok, or Err(true) for a range error.
fn go_parse_int(s: &str, bits: u32) -> Result<(), bool> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(false);
    }
    let ok = if bits == 32 {
        s.parse::<i32>().is_ok()
    } else {
        s.parse::<i64>().is_ok()
    };
    if ok {
        Ok(())
    } else {
        Err(true)
    }
}

/// Go's `strconv.ParseFloat(s, 64)` succeeds; `None` where this port
/// does not know (forms Go accepts beyond decimal notation).
fn go_parse_float_ok(s: &str) -> Option<bool> {
    let b = s.as_bytes();
    let mut i = 0;
    if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
        i += 1;
    }
    let start = i;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    let mut mant = i - start;
    if i < b.len() && b[i] == b'.' {
        i += 1;
        let f = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        mant += i - f;
    }
    if mant == 0 {
        // "inf", "nan", hex floats and underscores are Go's too.
        let rest = s.get(start..).unwrap_or("");
        if rest
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'.')
            && !rest.is_empty()
        {
            return None;
        }
        return Some(false);
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
            i += 1;
        }
        let e = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == e {
            return Some(false);
        }
    }
    if i != b.len() {
        if s.contains('_') || s.contains(['x', 'X', 'p', 'P']) {
            return None;
        }
        return Some(false);
    }
    match s.parse::<f64>() {
        Ok(f) => Some(f.is_finite()),
        Err(_) => None,
    }
}

/// gqlparser's `lexicalDistance` (agnivade/levenshtein over runes).
fn lexical_distance(a: &str, b: &str) -> usize {
    if a == b {
        return 0;
    }
    let a = a.to_lowercase();
    let b = b.to_lowercase();
    if a == b {
        return 1;
    }
    let s1: Vec<char> = a.chars().collect();
    let s2: Vec<char> = b.chars().collect();
    if s1.is_empty() {
        return s2.len();
    }
    if s2.is_empty() {
        return s1.len();
    }
    let mut prev: Vec<usize> = (0..=s2.len()).collect();
    let mut cur = alloc::vec![0usize; s2.len() + 1];
    for (i, c1) in s1.iter().enumerate() {
        cur[0] = i + 1;
        for (j, c2) in s2.iter().enumerate() {
            let cost = usize::from(c1 != c2);
            cur[j + 1] = (prev[j + 1] + 1).min(cur[j] + 1).min(prev[j] + cost);
        }
        core::mem::swap(&mut prev, &mut cur);
    }
    prev[s2.len()]
}

/// `OrList`.
fn or_list(items: &[String]) -> String {
    let items = items.get(..items.len().min(5)).unwrap_or(items);
    if items.len() == 2 {
        return format!("{} or {}", items[0], items[1]);
    }
    let mut buf = String::new();
    for (i, item) in items.iter().enumerate() {
        if i != 0 {
            if i == items.len() - 1 {
                buf.push_str(", or ");
            } else {
                buf.push_str(", ");
            }
        }
        buf.push_str(item);
    }
    buf
}

fn quoted_or_list(items: &[String]) -> String {
    let q: Vec<String> = items.iter().map(|i| format!("\"{i}\"")).collect();
    or_list(&q)
}

/// A message being built, and whether Go's answer for it is unknown.
struct Msg {
    text: String,
    unknown: bool,
}

impl<'a> Walker<'a> {
    fn tick(&mut self, n: u64) -> R<()> {
        let before = self.steps;
        self.steps = self.steps.saturating_add(n);
        if self.steps > MAX_STEPS {
            return unsupported("a query whose validation takes too many steps");
        }
        if before >> 10 != self.steps >> 10 {
            crate::utils::limits::check_deadline().map_err(VErr::Limit)?;
        }
        Ok(())
    }

    fn enter(&mut self) -> R<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return unsupported("a query nested too deeply for validation (through fragments)");
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    fn add(&mut self, pos: Option<Pos>, msg: Msg) {
        self.add_locs(&[pos], msg)
    }

    /// `addError(Message(...), At(p1), At(p2), ...)`: the first location
    /// that is not nil is the one `Error()` shows.
    fn add_locs(&mut self, pos: &[Option<Pos>], msg: Msg) {
        let loc = pos.iter().flatten().next().map(|p| (p.line, p.column));
        self.errors.push(GqlError {
            msg: msg.text,
            loc,
            file: "input",
            unsupported: false,
            raw: false,
            nondeterministic: msg.unknown,
        });
    }

    fn add_text(&mut self, pos: Option<Pos>, text: String) {
        self.add(
            pos,
            Msg {
                text,
                unknown: false,
            },
        )
    }

    /// `SuggestionList`.
    fn suggestion_list(
        &mut self,
        input: &str,
        options: &[&str],
        go_map_order: bool,
    ) -> R<(Vec<String>, bool)> {
        let threshold = ((input.len() as f64 * 0.4).floor() as usize + 1).max(1);
        let mut unknown = false;
        let input_runes = input.chars().count();
        let mut results: Vec<(String, usize)> = Vec::new();
        for option in options {
            let orunes = option.chars().count();
            if input_runes > 65535 || orunes > 65535 || !input.is_ascii() || !option.is_ascii() {
                // agnivade/levenshtein counts in uint16; Unicode case
                // folding is Go's.
                unknown = true;
            }
            if input_runes.abs_diff(orunes) > threshold && *option != input {
                // The distance is at least the difference of lengths.
                if !(input.to_lowercase() == option.to_lowercase()) {
                    continue;
                }
            }
            self.tick(1 + (input_runes as u64).saturating_mul(orunes as u64) / 64)?;
            let d = lexical_distance(input, option);
            if d <= threshold {
                results.push((option.to_string(), d));
            }
        }
        // sort.Slice: an insertion sort (stable) up to 12 elements.
        if results.len() > 12 {
            unknown = true;
        }
        if go_map_order {
            let mut ds: Vec<usize> = results.iter().map(|r| r.1).collect();
            ds.sort_unstable();
            if ds.windows(2).any(|w| w[0] == w[1]) {
                unknown = true;
            }
        }
        results.sort_by_key(|r| r.1);
        Ok((results.into_iter().map(|r| r.0).collect(), unknown))
    }

    /// `SuggestListQuoted(prefix, typed, options)` applied to a message.
    fn suggest_quoted(
        &mut self,
        msg: &mut Msg,
        prefix: &str,
        typed: &str,
        options: &[&str],
        map_order: bool,
    ) -> R<()> {
        let (s, unknown) = self.suggestion_list(typed, options, map_order)?;
        msg.unknown |= unknown;
        if !s.is_empty() {
            msg.text
                .push_str(&format!(" {prefix} {}?", quoted_or_list(&s)));
        }
        Ok(())
    }

    // ------------------------------------------------------------- walk

    fn walk(&mut self) -> R<()> {
        let doc = self.doc;
        for op in &doc.operations {
            self.validated_spreads = BTreeSet::new();
            self.walk_operation(op)?;
        }
        for f in &doc.fragments {
            self.validated_spreads = BTreeSet::new();
            self.walk_fragment(f)?;
        }
        Ok(())
    }

    fn root(&self, op: &str) -> Option<Option<&'a Definition>> {
        let s = self.schema;
        let name = match op {
            QUERY | "" => &s.query,
            MUTATION => &s.mutation,
            SUBSCRIPTION => &s.subscription,
            _ => return None,
        };
        Some(name.as_ref().and_then(|n| s.types.get(n)))
    }

    fn walk_operation(&mut self, op: &'a OperationDefinition) -> R<()> {
        self.current_op = Some(op);
        let types = &self.schema.types;
        for vd in &op.variable_definitions {
            let t = ty(&vd.ty)?;
            set(&mut self.a.var_def, id(vd), types.get(t.name()));
            self.on_variable(vd)?;
            if let Some(dv) = &vd.default_value {
                self.a.val_expected.insert(id(dv), t);
                set(&mut self.a.val_def, id(dv), types.get(t.name()));
            }
        }
        let (def, loc) = match op.operation.as_str() {
            QUERY | "" => (self.root(QUERY).flatten(), "QUERY"),
            MUTATION => (self.root(MUTATION).flatten(), "MUTATION"),
            SUBSCRIPTION => (self.root(SUBSCRIPTION).flatten(), "SUBSCRIPTION"),
            _ => (None, ""),
        };
        for vd in &op.variable_definitions {
            if let Some(dv) = &vd.default_value {
                self.walk_value(dv)?;
            }
            let vdef = self.a.var_def.get(&id(vd)).copied();
            self.walk_directives(vdef, &vd.directives, "VARIABLE_DEFINITION")?;
        }
        self.walk_directives(def, &op.directives, loc)?;
        self.walk_selection_set(def, &op.selection_set)?;
        self.on_operation(op)?;
        self.current_op = None;
        Ok(())
    }

    fn walk_fragment(&mut self, f: &'a FragmentDefinition) -> R<()> {
        let def = self.schema.types.get(&f.type_condition);
        set(&mut self.a.frag_def, id(f), def);
        self.walk_directives(def, &f.directives, "FRAGMENT_DEFINITION")?;
        self.walk_selection_set(def, &f.selection_set)?;
        self.on_fragment(f)
    }

    fn walk_directives(
        &mut self,
        _parent: Option<&'a Definition>,
        dirs: &'a [Directive],
        loc: &'static str,
    ) -> R<()> {
        for dir in dirs {
            self.tick(1)?;
            let def = self.schema.directives.get(&dir.name);
            set(&mut self.a.dir_def, id(dir), def);
            self.a.dir_loc.insert(id(dir), loc);
            for arg in &dir.arguments {
                let ad = def.and_then(|d| arg_for(&d.arguments, &arg.name));
                self.walk_argument(ad, arg)?;
            }
            self.on_directive(dir)?;
        }
        self.on_directive_list(dirs);
        Ok(())
    }

    fn walk_value(&mut self, v: &'a Value) -> R<()> {
        self.tick(1)?;
        self.enter()?;
        if v.kind == KIND_VARIABLE {
            if let Some(op) = self.current_op {
                let vd = op.variable_definitions.iter().find(|d| d.variable == v.raw);
                set(&mut self.a.val_vardef, id(v), vd);
                if let Some(vd) = vd {
                    self.a.var_used.insert(id(vd));
                }
            }
        }
        if v.kind == KIND_OBJECT {
            for c in &v.children {
                let cv = child_value(c)?;
                if let Some(def) = self.a.val_def.get(&id(v)).copied() {
                    if let Some(fd) = field_for(def, &c.name) {
                        let ft = ty(&fd.ty)?;
                        self.a.val_expected.insert(id(cv), ft);
                        let hd = fd
                            .default_value
                            .as_ref()
                            .is_some_and(|d| d.kind != KIND_NULL);
                        self.a.val_has_default.insert(id(cv), hd);
                        set(
                            &mut self.a.val_def,
                            id(cv),
                            self.schema.types.get(ft.name()),
                        );
                    }
                }
                self.walk_value(cv)?;
            }
        }
        if v.kind == KIND_LIST {
            for c in &v.children {
                let cv = child_value(c)?;
                if let Some(et) = self.a.val_expected.get(&id(v)).copied() {
                    if let Some(elem) = &et.elem {
                        self.a.val_expected.insert(id(cv), elem);
                        let d = self.a.val_def.get(&id(v)).copied();
                        set(&mut self.a.val_def, id(cv), d);
                    }
                }
                self.walk_value(cv)?;
            }
        }
        self.on_value(v)?;
        self.leave();
        Ok(())
    }

    fn walk_argument(&mut self, ad: Option<&'a ArgumentDefinition>, arg: &'a Argument) -> R<()> {
        let v = value_of(&arg.value)?;
        if let Some(ad) = ad {
            let t = ty(&ad.ty)?;
            self.a.val_expected.insert(id(v), t);
            let hd = ad
                .default_value
                .as_ref()
                .is_some_and(|d| d.kind != KIND_NULL);
            self.a.val_has_default.insert(id(v), hd);
            set(&mut self.a.val_def, id(v), self.schema.types.get(t.name()));
        }
        self.walk_value(v)
    }

    fn walk_selection_set(&mut self, parent: Option<&'a Definition>, ss: &'a [Selection]) -> R<()> {
        for s in ss {
            self.walk_selection(parent, s)?;
        }
        Ok(())
    }

    fn walk_selection(&mut self, parent: Option<&'a Definition>, s: &'a Selection) -> R<()> {
        self.tick(1)?;
        self.enter()?;
        match s {
            Selection::Field(f) => {
                let def: Option<&'a FieldDefinition> = if f.name == "__typename" {
                    Some(self.typename)
                } else {
                    parent.and_then(|p| field_for(p, &f.name))
                };
                set(&mut self.a.field_def, id(f), def);
                set(&mut self.a.field_obj, id(f), parent);
                let next = match def {
                    Some(d) => self.schema.types.get(ty(&d.ty)?.name()),
                    None => None,
                };
                for arg in &f.arguments {
                    let ad = def.and_then(|d| arg_for(&d.arguments, &arg.name));
                    self.walk_argument(ad, arg)?;
                }
                self.walk_directives(next, &f.directives, "FIELD")?;
                self.walk_selection_set(next, &f.selection_set)?;
                self.on_field(f)?;
            }
            Selection::Inline(f) => {
                set(&mut self.a.inline_obj, id(f), parent);
                let next = if f.type_condition.is_empty() {
                    parent
                } else {
                    self.schema.types.get(&f.type_condition)
                };
                self.walk_directives(next, &f.directives, "INLINE_FRAGMENT")?;
                self.walk_selection_set(next, &f.selection_set)?;
                self.on_inline_fragment(f)?;
            }
            Selection::Spread(f) => {
                let doc = self.doc;
                let def = doc.fragments.iter().find(|d| d.name == f.name);
                set(&mut self.a.spread_def, id(f), def);
                set(&mut self.a.spread_obj, id(f), parent);
                let next = def.and_then(|d| self.schema.types.get(&d.type_condition));
                self.walk_directives(next, &f.directives, "FRAGMENT_SPREAD")?;
                if let Some(d) = def {
                    if !self.validated_spreads.contains(d.name.as_str()) {
                        self.validated_spreads.insert(&d.name);
                        self.walk_directives(next, &d.directives, "FRAGMENT_DEFINITION")?;
                        self.walk_selection_set(next, &d.selection_set)?;
                    }
                }
                self.on_fragment_spread(f)?;
            }
        }
        self.leave();
        Ok(())
    }

    // ----------------------------------------------------------- events

    fn on_field(&mut self, f: &'a Field) -> R<()> {
        let def = self.a.field_def.get(&id(f)).copied();
        let obj = self.a.field_obj.get(&id(f)).copied();
        // FieldsOnCorrectType
        if let (Some(obj), None) = (obj, def) {
            let mut msg = Msg {
                text: format!(
                    "Cannot query field \"{}\" on type \"{}\".",
                    f.name, obj.name
                ),
                unknown: false,
            };
            match self.suggested_type_names(obj, &f.name)? {
                Some(types) => {
                    msg.text.push_str(&format!(
                        " Did you mean to use an inline fragment on {}?",
                        quoted_or_list(&types)
                    ));
                }
                None => {
                    if obj.kind == "OBJECT" || obj.kind == "INTERFACE" {
                        let names: Vec<&str> = obj.fields.iter().map(|f| f.name.as_str()).collect();
                        let (s, unknown) = self.suggestion_list(&f.name, &names, false)?;
                        msg.unknown |= unknown;
                        if !s.is_empty() {
                            msg.text
                                .push_str(&format!(" Did you mean {}?", quoted_or_list(&s)));
                        }
                    }
                }
            }
            self.add(f.pos, msg);
        }
        // KnownArgumentNames
        if let (Some(def), Some(obj)) = (def, obj) {
            for arg in &f.arguments {
                if arg_for(&def.arguments, &arg.name).is_some() {
                    continue;
                }
                let mut msg = Msg {
                    text: format!(
                        "Unknown argument \"{}\" on field \"{}.{}\".",
                        arg.name, obj.name, f.name
                    ),
                    unknown: false,
                };
                let names: Vec<&str> = def.arguments.iter().map(|a| a.name.as_str()).collect();
                self.suggest_quoted(&mut msg, "Did you mean", &arg.name, &names, false)?;
                self.add(f.pos, msg);
            }
        }
        // MaxIntrospectionDepth
        if f.name == "__schema" || f.name == "__type" {
            let mut visited = BTreeSet::new();
            if self.check_depth_field(f, &mut visited, 0, 0)? {
                self.add_text(f.pos, "Maximum introspection depth exceeded".into());
            }
        }
        // OverlappingFieldsCanBeMerged
        if self.current_op.is_some() {
            let conflicts = self.find_conflicts_within(&f.selection_set, 0)?;
            self.add_conflicts(conflicts)?;
        }
        // ProvidedRequiredArguments
        if let Some(def) = def {
            for ad in &def.arguments {
                let t = ty(&ad.ty)?;
                if !t.non_null || ad.default_value.is_some() {
                    continue;
                }
                if f.arguments.iter().any(|a| a.name == ad.name) {
                    continue;
                }
                self.add_text(
                    f.pos,
                    format!(
                        "Field \"{}\" argument \"{}\" of type \"{}\" is required, but it was not provided.",
                        f.name,
                        ad.name,
                        t.to_gql_string()
                    ),
                );
            }
        }
        // ScalarLeafs
        if let Some(def) = def {
            let dt = ty(&def.ty)?;
            if let Some(ft) = self.schema.types.get(dt.name()) {
                if is_leaf(ft) && !f.selection_set.is_empty() {
                    self.add_text(
                        f.pos,
                        format!(
                            "Field \"{}\" must not have a selection since type \"{}\" has no subfields.",
                            f.name, ft.name
                        ),
                    );
                }
                if !is_leaf(ft) && f.selection_set.is_empty() {
                    self.add_text(
                        f.pos,
                        format!(
                            "Field \"{}\" of type \"{}\" must have a selection of subfields. Did you mean \"{} {{ ... }}\"?",
                            f.name,
                            dt.to_gql_string(),
                            f.name
                        ),
                    );
                }
            }
        }
        // UniqueArgumentNames
        self.check_unique_args(&f.arguments);
        Ok(())
    }

    fn suggested_type_names(
        &mut self,
        parent: &'a Definition,
        name: &str,
    ) -> R<Option<Vec<String>>> {
        if !is_abstract(parent) {
            return Ok(None);
        }
        let mut objects: Vec<String> = Vec::new();
        let mut interfaces: Vec<String> = Vec::new();
        let mut usage: BTreeMap<String, i64> = BTreeMap::new();
        let possible = self
            .schema
            .possible_types
            .get(&parent.name)
            .cloned()
            .unwrap_or_default();
        for pt in &possible {
            self.tick(1)?;
            let Some(pt) = pt.as_ref().and_then(|n| self.schema.types.get(n)) else {
                return unsupported("a possible type that is not defined");
            };
            if field_for(pt, name).is_none() {
                continue;
            }
            objects.push(pt.name.clone());
            for intf in &pt.interfaces {
                if let Some(idef) = self.schema.types.get(intf) {
                    if field_for(idef, name).is_some() {
                        let c = usage.entry(intf.clone()).or_insert(0);
                        if *c == 0 {
                            interfaces.push(intf.clone());
                        }
                        *c += 1;
                    }
                }
            }
        }
        if interfaces.is_empty() && objects.is_empty() {
            return Ok(None);
        }
        let mut all = interfaces;
        all.extend(objects);
        let count = |n: &String| usage.get(n).copied().unwrap_or(0);
        all.sort_by(|a, b| count(b).cmp(&count(a)).then_with(|| a.cmp(b)));
        Ok(Some(all))
    }

    fn check_depth_field(
        &mut self,
        f: &'a Field,
        visited: &mut BTreeSet<String>,
        mut depth: i64,
        nest: usize,
    ) -> R<bool> {
        self.tick(1)?;
        if nest > MAX_DEPTH {
            return unsupported("an introspection query nested too deeply");
        }
        if matches!(
            f.name.as_str(),
            "fields" | "interfaces" | "possibleTypes" | "inputFields"
        ) {
            depth += 1;
            if depth >= 3 {
                return Ok(true);
            }
        }
        self.check_depth_set(&f.selection_set, visited, depth, nest + 1)
    }

    fn check_depth_set(
        &mut self,
        ss: &'a [Selection],
        visited: &mut BTreeSet<String>,
        depth: i64,
        nest: usize,
    ) -> R<bool> {
        if nest > MAX_DEPTH {
            return unsupported("an introspection query nested too deeply");
        }
        for s in ss {
            match s {
                Selection::Field(f) => {
                    if self.check_depth_field(f, visited, depth, nest + 1)? {
                        return Ok(true);
                    }
                }
                Selection::Spread(sp) => {
                    if visited.contains(&sp.name) {
                        continue;
                    }
                    let Some(fd) = self.a.spread_def.get(&id(sp)).copied() else {
                        continue;
                    };
                    visited.insert(sp.name.clone());
                    let r = self.check_depth_set(&fd.selection_set, visited, depth, nest + 1);
                    visited.remove(&sp.name);
                    if r? {
                        return Ok(true);
                    }
                }
                Selection::Inline(i) => {
                    if self.check_depth_set(&i.selection_set, visited, depth, nest + 1)? {
                        return Ok(true);
                    }
                }
            }
        }
        Ok(false)
    }

    fn check_unique_args(&mut self, args: &[Argument]) {
        let mut known: BTreeMap<&str, usize> = BTreeMap::new();
        for arg in args {
            let c = known.entry(&arg.name).or_insert(0);
            if *c == 1 {
                let text = format!("There can be only one argument named \"{}\".", arg.name);
                *c += 1;
                self.add_text(arg.pos, text);
                continue;
            }
            *c += 1;
        }
    }

    fn on_directive(&mut self, dir: &'a Directive) -> R<()> {
        let def = self.a.dir_def.get(&id(dir)).copied();
        let loc = self.a.dir_loc.get(&id(dir)).copied().unwrap_or("");
        // KnownArgumentNames
        if let Some(def) = def {
            for arg in &dir.arguments {
                if arg_for(&def.arguments, &arg.name).is_some() {
                    continue;
                }
                let mut msg = Msg {
                    text: format!(
                        "Unknown argument \"{}\" on directive \"@{}\".",
                        arg.name, dir.name
                    ),
                    unknown: false,
                };
                let names: Vec<&str> = def.arguments.iter().map(|a| a.name.as_str()).collect();
                self.suggest_quoted(&mut msg, "Did you mean", &arg.name, &names, false)?;
                self.add(dir.pos, msg);
            }
        }
        // KnownDirectives
        match def {
            None => self.add_text(dir.pos, format!("Unknown directive \"@{}\".", dir.name)),
            Some(def) => {
                if !def.locations.iter().any(|l| l == loc) {
                    let Some(p) = dir.pos else {
                        return unsupported(
                            "a misplaced directive without a position (gqlparser dereferences it)",
                        );
                    };
                    let key = (dir.name.clone(), p.line, p.column);
                    if !self.known_directives_seen.contains(&key) {
                        self.add_text(
                            dir.pos,
                            format!("Directive \"@{}\" may not be used on {}.", dir.name, loc),
                        );
                        self.known_directives_seen.insert(key);
                    }
                }
            }
        }
        // ProvidedRequiredArguments
        if let Some(def) = def {
            for ad in &def.arguments {
                let t = ty(&ad.ty)?;
                if !t.non_null || ad.default_value.is_some() {
                    continue;
                }
                if dir.arguments.iter().any(|a| a.name == ad.name) {
                    continue;
                }
                self.add_text(
                    dir.pos,
                    format!(
                        "Directive \"@{}\" argument \"{}\" of type \"{}\" is required, but it was not provided.",
                        def.name,
                        ad.name,
                        t.to_gql_string()
                    ),
                );
            }
        }
        // UniqueArgumentNames
        self.check_unique_args(&dir.arguments);
        Ok(())
    }

    fn on_directive_list(&mut self, dirs: &'a [Directive]) {
        // UniqueDirectivesPerLocation
        let mut seen: BTreeSet<&str> = BTreeSet::new();
        for dir in dirs {
            let def = self.a.dir_def.get(&id(dir)).copied();
            if !def.is_some_and(|d| d.is_repeatable) && seen.contains(dir.name.as_str()) {
                self.add_text(
                    dir.pos,
                    format!(
                        "The directive \"@{}\" can only be used once at this location.",
                        dir.name
                    ),
                );
            }
            seen.insert(&dir.name);
        }
    }

    fn on_fragment_spread(&mut self, sp: &'a FragmentSpread) -> R<()> {
        let def = self.a.spread_def.get(&id(sp)).copied();
        // KnownFragmentNames
        if def.is_none() {
            self.add_text(sp.pos, format!("Unknown fragment \"{}\".", sp.name));
        }
        // NoUnusedFragments
        if !self.no_unused_in_fragment {
            self.no_unused_used.insert(sp.name.clone());
        }
        // PossibleFragmentSpreads
        if let Some(def) = def {
            let parent = self.a.spread_obj.get(&id(sp)).copied();
            if self.spread_impossible(parent, &def.type_condition)? {
                let pname = parent.map(|p| p.name.clone()).unwrap_or_default();
                self.add_text(
                    sp.pos,
                    format!(
                        "Fragment \"{}\" cannot be spread here as objects of type \"{}\" can never be of type \"{}\".",
                        sp.name, pname, def.type_condition
                    ),
                );
            }
        }
        Ok(())
    }

    fn possible(&self, def: &Definition) -> R<Vec<&'a Definition>> {
        let mut out = Vec::new();
        for p in self
            .schema
            .possible_types
            .get(&def.name)
            .into_iter()
            .flatten()
        {
            match p.as_ref().and_then(|n| self.schema.types.get(n)) {
                Some(d) => out.push(d),
                None => return unsupported("a possible type that is not defined"),
            }
        }
        Ok(out)
    }

    /// PossibleFragmentSpreads' `validate`: true when the error is due.
    fn spread_impossible(&mut self, parent: Option<&'a Definition>, frag_type: &str) -> R<bool> {
        let Some(parent) = parent else {
            return Ok(false);
        };
        let parents = match parent.kind.as_str() {
            "OBJECT" => alloc::vec![parent],
            "INTERFACE" | "UNION" => self.possible(parent)?,
            _ => return Ok(false),
        };
        let Some(ft) = self.schema.types.get(frag_type) else {
            return Ok(false);
        };
        if !is_composite(ft) {
            return Ok(false);
        }
        let frags = self.possible(ft)?;
        self.tick((frags.len() as u64).saturating_mul(parents.len() as u64) / 16)?;
        for fd in &frags {
            for pd in &parents {
                if pd.name == fd.name {
                    return Ok(false);
                }
            }
        }
        Ok(true)
    }

    fn on_inline_fragment(&mut self, f: &'a InlineFragment) -> R<()> {
        // FragmentsOnCompositeTypes
        if let Some(t) = self.schema.types.get(&f.type_condition) {
            if !is_composite(t) {
                self.add_text(
                    f.pos,
                    format!(
                        "Fragment cannot condition on non composite type \"{}\".",
                        f.type_condition
                    ),
                );
            }
        }
        // KnownTypeNames
        if !f.type_condition.is_empty() && !self.schema.types.contains_key(&f.type_condition) {
            self.add_text(f.pos, format!("Unknown type \"{}\".", f.type_condition));
        }
        // OverlappingFieldsCanBeMerged
        let conflicts = self.find_conflicts_within(&f.selection_set, 0)?;
        self.add_conflicts(conflicts)?;
        // PossibleFragmentSpreads
        let parent = self.a.inline_obj.get(&id(f)).copied();
        if self.spread_impossible(parent, &f.type_condition)? {
            let pname = parent.map(|p| p.name.clone()).unwrap_or_default();
            self.add_text(
                f.pos,
                format!(
                    "Fragment cannot be spread here as objects of type \"{}\" can never be of type \"{}\".",
                    pname, f.type_condition
                ),
            );
        }
        Ok(())
    }

    fn on_fragment(&mut self, f: &'a FragmentDefinition) -> R<()> {
        // FragmentsOnCompositeTypes
        if let Some(d) = self.a.frag_def.get(&id(f)).copied() {
            if !f.type_condition.is_empty() && !is_composite(d) {
                self.add_text(
                    f.pos,
                    format!(
                        "Fragment \"{}\" cannot condition on non composite type \"{}\".",
                        f.name, f.type_condition
                    ),
                );
            }
        }
        // KnownTypeNames
        if !self.schema.types.contains_key(&f.type_condition) {
            let mut msg = Msg {
                text: format!("Unknown type \"{}\".", f.type_condition),
                unknown: false,
            };
            let names: Vec<&str> = self
                .schema
                .types
                .values()
                .map(|t| t.name.as_str())
                .collect();
            self.suggest_quoted(&mut msg, "Did you mean", &f.type_condition, &names, true)?;
            self.add(f.pos, msg);
        }
        // NoFragmentCycles
        let mut path: Vec<&'a FragmentSpread> = Vec::new();
        let mut index: BTreeMap<String, usize> = BTreeMap::new();
        self.fragment_cycles(f, &mut path, &mut index, 0)?;
        // NoUnusedFragments
        self.no_unused_in_fragment = true;
        if !self.no_unused_used.contains(&f.name) {
            self.add_text(f.pos, format!("Fragment \"{}\" is never used.", f.name));
        }
        // OverlappingFieldsCanBeMerged
        let conflicts = self.find_conflicts_within(&f.selection_set, 0)?;
        self.add_conflicts(conflicts)?;
        // UniqueFragmentNames
        if self.unique_fragments.contains(&f.name) {
            self.add_text(
                f.pos,
                format!("There can be only one fragment named \"{}\".", f.name),
            );
        }
        self.unique_fragments.insert(f.name.clone());
        Ok(())
    }

    fn fragment_cycles(
        &mut self,
        f: &'a FragmentDefinition,
        path: &mut Vec<&'a FragmentSpread>,
        index: &mut BTreeMap<String, usize>,
        depth: usize,
    ) -> R<()> {
        if depth > MAX_DEPTH {
            return unsupported("fragments spread within each other too deeply");
        }
        if self.no_fragment_cycles_visited.contains(&f.name) {
            return Ok(());
        }
        self.no_fragment_cycles_visited.insert(f.name.clone());
        let spreads = self.fragment_spreads(&f.selection_set)?;
        if spreads.is_empty() {
            return Ok(());
        }
        index.insert(f.name.clone(), path.len());
        for sp in spreads {
            self.tick(1)?;
            let cycle = index.get(&sp.name).copied();
            path.push(sp);
            match cycle {
                None => {
                    let doc = self.doc;
                    if let Some(sf) = doc.fragments.iter().find(|d| d.name == sp.name) {
                        self.fragment_cycles(sf, path, index, depth + 1)?;
                    }
                }
                Some(ci) => {
                    let end = path.len().saturating_sub(1);
                    let names: Vec<String> = path
                        .get(ci..end)
                        .unwrap_or(&[])
                        .iter()
                        .map(|s| format!("\"{}\"", s.name))
                        .collect();
                    let via = if names.is_empty() {
                        String::new()
                    } else {
                        format!(" via {}", names.join(", "))
                    };
                    self.add_text(
                        sp.pos,
                        format!(
                            "Cannot spread fragment \"{}\" within itself{}.",
                            sp.name, via
                        ),
                    );
                }
            }
            path.pop();
        }
        index.remove(&f.name);
        Ok(())
    }

    /// `getFragmentSpreads` (an explicit stack, last set first).
    fn fragment_spreads(&mut self, ss: &'a [Selection]) -> R<Vec<&'a FragmentSpread>> {
        let mut out = Vec::new();
        let mut stack: Vec<&'a [Selection]> = alloc::vec![ss];
        while let Some(set) = stack.pop() {
            self.tick(set.len() as u64 / 16 + 1)?;
            for s in set {
                match s {
                    Selection::Spread(sp) => out.push(sp),
                    Selection::Field(f) => stack.push(&f.selection_set),
                    Selection::Inline(i) => stack.push(&i.selection_set),
                }
            }
        }
        Ok(out)
    }

    fn on_operation(&mut self, op: &'a OperationDefinition) -> R<()> {
        // KnownRootType
        let Some(root) = self.root(&op.operation) else {
            return unsupported("an operation type gqlparser does not know (it panics)");
        };
        if root.is_none() {
            self.add_text(
                op.pos,
                format!(
                    "Schema does not support operation type \"{}\"",
                    op.operation
                ),
            );
        }
        // LoneAnonymousOperation
        if op.name.is_empty() && self.doc.operations.len() > 1 {
            self.add_text(
                op.pos,
                "This anonymous operation must be the only defined operation.".into(),
            );
        }
        // NoUnusedVariables
        for vd in &op.variable_definitions {
            if self.a.var_used.contains(&id(vd)) || vd.used {
                continue;
            }
            let text = if !op.name.is_empty() {
                format!(
                    "Variable \"${}\" is never used in operation \"{}\".",
                    vd.variable, op.name
                )
            } else {
                format!("Variable \"${}\" is never used.", vd.variable)
            };
            self.add_text(vd.pos, text);
        }
        // OverlappingFieldsCanBeMerged
        let conflicts = self.find_conflicts_within(&op.selection_set, 0)?;
        self.add_conflicts(conflicts)?;
        // SingleFieldSubscriptions
        if self.schema.subscription.is_some() && op.operation == SUBSCRIPTION {
            let fields = self.top_field_names(&op.selection_set)?;
            let name = if op.name.is_empty() {
                "Anonymous Subscription".to_string()
            } else {
                format!("Subscription {}", go_quote(&op.name))
            };
            if let Some(second) = fields.get(1) {
                self.add_text(
                    second.1,
                    format!("{name} must select only one top level field."),
                );
            }
            for (fname, pos) in &fields {
                if fname.starts_with("__") {
                    self.add_text(
                        *pos,
                        format!("{name} must not select an introspection top level field."),
                    );
                }
            }
        }
        // UniqueOperationNames
        if self.unique_operations.contains(&op.name) {
            self.add_text(
                op.pos,
                format!("There can be only one operation named \"{}\".", op.name),
            );
        }
        self.unique_operations.insert(op.name.clone());
        // UniqueVariableNames
        let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
        for vd in &op.variable_definitions {
            let c = seen.entry(&vd.variable).or_insert(0);
            if *c == 1 {
                *c += 1;
                let text = format!("There can be only one variable named \"${}\".", vd.variable);
                self.add_text(vd.pos, text);
                continue;
            }
            *c += 1;
        }
        // VariablesAreInputTypes
        for vd in &op.variable_definitions {
            let Some(d) = self.a.var_def.get(&id(vd)).copied() else {
                continue;
            };
            if !is_input(d) {
                self.add_text(
                    vd.pos,
                    format!(
                        "Variable \"${}\" cannot be non-input type \"{}\".",
                        vd.variable,
                        ty(&vd.ty)?.to_gql_string()
                    ),
                );
            }
        }
        Ok(())
    }

    /// `retrieveTopFieldNames`: names and positions, first of each name.
    fn top_field_names(&mut self, ss: &'a [Selection]) -> R<Vec<(String, Option<Pos>)>> {
        fn walk<'a>(
            w: &mut Walker<'a>,
            ss: &'a [Selection],
            out: &mut Vec<(String, Option<Pos>)>,
            rec: &mut BTreeSet<String>,
            depth: usize,
        ) -> R<()> {
            if depth > MAX_DEPTH {
                return unsupported("a subscription nested too deeply");
            }
            for s in ss {
                w.tick(1)?;
                match s {
                    Selection::Field(f) => out.push((f.name.clone(), f.pos)),
                    Selection::Inline(i) => walk(w, &i.selection_set, out, rec, depth + 1)?,
                    Selection::Spread(sp) => {
                        let Some(d) = w.a.spread_def.get(&id(sp)).copied() else {
                            return Ok(());
                        };
                        if !rec.contains(&d.name) {
                            rec.insert(d.name.clone());
                            walk(w, &d.selection_set, out, rec, depth + 1)?;
                        }
                    }
                }
            }
            Ok(())
        }
        let mut fields = Vec::new();
        let mut rec = BTreeSet::new();
        walk(self, ss, &mut fields, &mut rec, 0)?;
        let mut seen = BTreeSet::new();
        let mut out = Vec::new();
        for (n, p) in fields {
            if !seen.contains(&n) {
                seen.insert(n.clone());
                out.push((n, p));
            }
        }
        Ok(out)
    }

    fn on_variable(&mut self, vd: &'a VariableDefinition) -> R<()> {
        // KnownTypeNames
        let name = ty(&vd.ty)?.name();
        if !self.schema.types.contains_key(name) {
            self.add_text(vd.pos, format!("Unknown type \"{name}\"."));
        }
        Ok(())
    }

    fn on_value(&mut self, v: &'a Value) -> R<()> {
        let vardef = self.a.val_vardef.get(&id(v)).copied();
        // NoUndefinedVariables
        if let Some(op) = self.current_op {
            if v.kind == KIND_VARIABLE && vardef.is_none() {
                let vs = value_string(v, 0)?;
                let text = if !op.name.is_empty() {
                    format!(
                        "Variable \"{}\" is not defined by operation \"{}\".",
                        vs, op.name
                    )
                } else {
                    format!("Variable \"{vs}\" is not defined.")
                };
                self.add_text(v.pos, text);
            }
        }
        // UniqueInputFieldNames
        if v.kind == KIND_OBJECT {
            let mut seen: BTreeSet<&str> = BTreeSet::new();
            for c in &v.children {
                if seen.contains(c.name.as_str()) {
                    self.add_text(
                        c.pos,
                        format!("There can be only one input field named \"{}\".", c.name),
                    );
                }
                seen.insert(&c.name);
            }
        }
        // ValuesOfCorrectType
        self.values_of_correct_type(v)?;
        // VariablesInAllowedPosition (two observers)
        let expected = self.a.val_expected.get(&id(v)).copied();
        if let (KIND_VARIABLE, Some(et), Some(vd), Some(_)) =
            (v.kind, expected, vardef, self.current_op)
        {
            let mut tmp = et.clone();
            if vd
                .default_value
                .as_ref()
                .is_some_and(|d| d.kind != KIND_NULL)
                && et.non_null
            {
                tmp.non_null = false;
            }
            if self.has_default(v) {
                tmp.non_null = false;
            }
            let vt = ty(&vd.ty)?;
            if !super::schema::is_compatible(vt, &tmp)
                .map_err(|_| VErr::Unsupported("a type".into()))?
            {
                self.add_text(
                    v.pos,
                    format!(
                        "Variable \"{}\" of type \"{}\" used in position expecting type \"{}\".",
                        value_string(v, 0)?,
                        vt.to_gql_string(),
                        et.to_gql_string()
                    ),
                );
            }
        }
        if v.kind == KIND_OBJECT {
            if let Some(def) = self.a.val_def.get(&id(v)).copied() {
                if def.directives.iter().any(|d| d.name == "oneOf") {
                    for c in &v.children {
                        let Some(fv) = &c.value else { continue };
                        if fv.kind != KIND_VARIABLE {
                            continue;
                        }
                        let Some(fvd) = self.a.val_vardef.get(&id(&**fv)).copied() else {
                            continue;
                        };
                        let t = ty(&fvd.ty)?;
                        if !t.non_null {
                            self.add_locs(
                                &[fvd.pos, fv.pos],
                                Msg {
                                    text: format!(
                                        "Variable \"{}\" is of type \"{}\" but must be non-nullable to be used for OneOf Input Object \"{}\".",
                                        value_string(fv, 0)?,
                                        t.to_gql_string(),
                                        def.name
                                    ),
                                    unknown: false,
                                },
                            );
                        }
                    }
                }
            }
        }
        Ok(())
    }

    fn has_default(&self, v: &Value) -> bool {
        self.a
            .val_has_default
            .get(&id(v))
            .copied()
            .unwrap_or(v.expected_type_has_default)
    }

    /// `Value.Value(nil)` fails.
    fn value_fails(&mut self, v: &'a Value, depth: usize) -> R<bool> {
        if depth > MAX_DEPTH {
            return unsupported("values nested too deeply");
        }
        self.tick(1)?;
        Ok(match v.kind {
            KIND_VARIABLE => match self.a.val_vardef.get(&id(v)).copied() {
                Some(vd) => match &vd.default_value {
                    Some(dv) => self.value_fails(dv, depth + 1)?,
                    None => false,
                },
                None => false,
            },
            KIND_INT => go_parse_int(&v.raw, 64).is_err(),
            KIND_FLOAT => match go_parse_float_ok(&v.raw) {
                Some(ok) => !ok,
                None => {
                    return unsupported("a float value in a form Go's ParseFloat reads its own way")
                }
            },
            KIND_STRING | KIND_BLOCK | KIND_ENUM | KIND_NULL => false,
            KIND_BOOLEAN => !go_parse_bool(&v.raw),
            KIND_LIST => {
                for c in &v.children {
                    let Some(cv) = &c.value else { continue };
                    if self.value_fails(cv, depth + 1)? {
                        return Ok(true);
                    }
                }
                false
            }
            KIND_OBJECT => {
                for c in &v.children {
                    let cv = child_value(c)?;
                    // isUnsetVariable (no variables are given).
                    if cv.kind == KIND_VARIABLE {
                        let vd = self.a.val_vardef.get(&id(cv)).copied();
                        if vd.is_none_or(|d| d.default_value.is_none()) {
                            continue;
                        }
                    }
                    if self.value_fails(cv, depth + 1)? {
                        return Ok(true);
                    }
                }
                false
            }
            _ => return unsupported("a value of an unknown kind"),
        })
    }

    fn unexpected_type_message(&mut self, v: &'a Value, et: &Type, def: &Definition) -> R<String> {
        let vs = value_string(v, 0)?;
        Ok(match et.to_gql_string().as_str() {
            "Int" | "Int!" => {
                if go_parse_int(&v.raw, 32) == Err(true) {
                    format!("Int cannot represent non 32-bit signed integer value: {vs}")
                } else {
                    format!("Int cannot represent non-integer value: {vs}")
                }
            }
            "String" | "String!" | "[String]" => {
                format!("String cannot represent a non string value: {vs}")
            }
            "Boolean" | "Boolean!" => format!("Boolean cannot represent a non boolean value: {vs}"),
            "Float" | "Float!" => format!("Float cannot represent non numeric value: {vs}"),
            "ID" | "ID!" => format!("ID cannot represent a non-string and non-integer value: {vs}"),
            ets => {
                if def.kind == "ENUM" {
                    format!("Enum \"{ets}\" cannot represent non-enum value: {vs}.")
                } else {
                    format!("Expected value of type \"{ets}\", found {vs}.")
                }
            }
        })
    }

    fn values_of_correct_type(&mut self, v: &'a Value) -> R<()> {
        let (Some(def), Some(et)) = (
            self.a.val_def.get(&id(v)).copied(),
            self.a.val_expected.get(&id(v)).copied(),
        ) else {
            return Ok(());
        };
        if v.kind == KIND_NULL && et.non_null {
            self.add_text(
                v.pos,
                format!(
                    "Expected value of type \"{}\", found {}.",
                    et.to_gql_string(),
                    value_string(v, 0)?
                ),
            );
        }
        if def.kind == "SCALAR"
            && !matches!(
                def.name.as_str(),
                "Int" | "Float" | "String" | "Boolean" | "ID"
            )
        {
            return Ok(());
        }
        let enums: Vec<&str> = if def.kind == "ENUM" {
            def.enum_values.iter().map(|e| e.name.as_str()).collect()
        } else {
            Vec::new()
        };
        if self.value_fails(v, 0)? {
            let m = self.unexpected_type_message(v, et, def)?;
            self.add_text(v.pos, m);
        }
        let one_of = |names: &[&str]| names.contains(&def.name.as_str());
        match v.kind {
            KIND_NULL => return Ok(()),
            KIND_LIST => {
                if et.elem.is_none() {
                    let m = self.unexpected_type_message(v, et, def)?;
                    self.add_text(v.pos, m);
                    return Ok(());
                }
            }
            KIND_INT => {
                if !one_of(&["Int", "Float", "ID"]) {
                    let m = self.unexpected_type_message(v, et, def)?;
                    self.add_text(v.pos, m);
                }
            }
            KIND_FLOAT => {
                if !one_of(&["Float"]) {
                    let m = self.unexpected_type_message(v, et, def)?;
                    self.add_text(v.pos, m);
                }
            }
            KIND_STRING | KIND_BLOCK => {
                if def.kind == "ENUM" {
                    let mut msg = Msg {
                        text: format!(
                            "Enum \"{}\" cannot represent non-enum value: {}.",
                            et.to_gql_string(),
                            value_string(v, 0)?
                        ),
                        unknown: false,
                    };
                    self.suggest_quoted(
                        &mut msg,
                        "Did you mean the enum value",
                        &v.raw,
                        &enums,
                        false,
                    )?;
                    self.add(v.pos, msg);
                } else if !one_of(&["String", "ID"]) {
                    let m = self.unexpected_type_message(v, et, def)?;
                    self.add_text(v.pos, m);
                }
            }
            KIND_ENUM => {
                if def.kind != "ENUM" {
                    let text = self.unexpected_type_message(v, et, def)?;
                    let mut msg = Msg {
                        text,
                        unknown: false,
                    };
                    let (s, unknown) = self.suggestion_list(&v.raw, &enums, false)?;
                    msg.unknown |= unknown;
                    if !s.is_empty() {
                        msg.text
                            .push_str(&format!(" Did you mean the enum value {}?", or_list(&s)));
                    }
                    self.add(v.pos, msg);
                } else if !def.enum_values.iter().any(|e| e.name == v.raw) {
                    let mut msg = Msg {
                        text: format!(
                            "Value \"{}\" does not exist in \"{}\" enum.",
                            value_string(v, 0)?,
                            et.to_gql_string()
                        ),
                        unknown: false,
                    };
                    self.suggest_quoted(
                        &mut msg,
                        "Did you mean the enum value",
                        &v.raw,
                        &enums,
                        false,
                    )?;
                    self.add(v.pos, msg);
                }
            }
            KIND_BOOLEAN => {
                if !one_of(&["Boolean"]) {
                    let m = self.unexpected_type_message(v, et, def)?;
                    self.add_text(v.pos, m);
                }
            }
            KIND_OBJECT => {
                for field in &def.fields {
                    self.tick(1)?;
                    let ft = ty(&field.ty)?;
                    if ft.non_null {
                        let present = v.children.iter().any(|c| c.name == field.name);
                        if !present && field.default_value.is_none() {
                            self.add_text(
                                v.pos,
                                format!(
                                    "Field \"{}.{}\" of required type \"{}\" was not provided.",
                                    def.name,
                                    field.name,
                                    ft.to_gql_string()
                                ),
                            );
                            continue;
                        }
                    }
                }
                for d in &def.directives {
                    if d.name != "oneOf" {
                        continue;
                    }
                    if v.children.len() != 1 {
                        self.add_text(
                            v.pos,
                            format!(
                                "OneOf Input Object \"{}\" must specify exactly one key.",
                                def.name
                            ),
                        );
                        continue;
                    }
                    let Some(c) = v.children.first() else {
                        continue;
                    };
                    let fv = child_value(c)?;
                    if fv.kind == KIND_NULL {
                        let Some(f0) = def.fields.first() else {
                            return unsupported("a oneOf input object without fields");
                        };
                        self.add_text(
                            fv.pos,
                            format!("Field \"{}.{}\" must be non-null.", def.name, f0.name),
                        );
                    }
                }
                for c in &v.children {
                    if field_for(def, &c.name).is_none() {
                        let mut msg = Msg {
                            text: format!(
                                "Field \"{}\" is not defined by type \"{}\".",
                                c.name, def.name
                            ),
                            unknown: false,
                        };
                        let names: Vec<&str> = def.fields.iter().map(|f| f.name.as_str()).collect();
                        self.suggest_quoted(&mut msg, "Did you mean", &c.name, &names, false)?;
                        self.add(c.pos, msg);
                    }
                }
            }
            KIND_VARIABLE => return Ok(()),
            _ => return unsupported("a value of an unknown kind"),
        }
        Ok(())
    }

    // ------------------------------------ OverlappingFieldsCanBeMerged

    fn add_conflicts(&mut self, conflicts: Vec<Conflict>) -> R<()> {
        for c in conflicts {
            let mut buf = String::new();
            c.write(&mut buf, 0)?;
            if buf.len() > 1 << 20 {
                return unsupported("a field conflict message over 1 MiB");
            }
            self.add_text(
                c.pos,
                format!(
                    "Fields \"{}\" conflict because {}. Use different aliases on the fields to fetch both if this was intentional.",
                    c.response_name, buf
                ),
            );
        }
        Ok(())
    }

    fn fields_and_fragments(
        &mut self,
        ss: &'a [Selection],
    ) -> R<(FieldsMap<'a>, Vec<&'a FragmentSpread>)> {
        fn walk<'a>(
            w: &mut Walker<'a>,
            ss: &'a [Selection],
            m: &mut FieldsMap<'a>,
            spreads: &mut Vec<&'a FragmentSpread>,
            depth: usize,
        ) -> R<()> {
            if depth > MAX_DEPTH {
                return unsupported("inline fragments nested too deeply");
            }
            w.tick(ss.len() as u64 / 16 + 1)?;
            for s in ss {
                match s {
                    Selection::Field(f) => {
                        let rn = if f.alias.is_empty() {
                            &f.name
                        } else {
                            &f.alias
                        };
                        m.push(rn, f);
                    }
                    Selection::Inline(i) => walk(w, &i.selection_set, m, spreads, depth + 1)?,
                    Selection::Spread(sp) => spreads.push(sp),
                }
            }
            Ok(())
        }
        let mut m = FieldsMap::default();
        let mut spreads = Vec::new();
        walk(self, ss, &mut m, &mut spreads, 0)?;
        Ok((m, spreads))
    }

    fn find_conflicts_within(&mut self, ss: &'a [Selection], depth: usize) -> R<Vec<Conflict>> {
        if ss.is_empty() {
            return Ok(Vec::new());
        }
        let (fields, spreads) = self.fields_and_fragments(ss)?;
        let mut conflicts = Vec::new();
        // collectConflictsWithin
        for (_, list) in &fields.entries {
            for (i, a) in list.iter().enumerate() {
                for b in list.iter().skip(i + 1) {
                    if let Some(c) = self.find_conflict(false, a, b, depth + 1)? {
                        conflicts.push(c);
                    }
                }
            }
        }
        self.compared_fragments = BTreeSet::new();
        for (i, sa) in spreads.iter().enumerate() {
            self.between_fields_and_fragment(&mut conflicts, false, &fields, sa, depth + 1)?;
            for sb in spreads.iter().skip(i + 1) {
                self.between_fragments(&mut conflicts, false, sa, sb, depth + 1)?;
            }
        }
        Ok(conflicts)
    }

    fn between_fields_and_fragment(
        &mut self,
        conflicts: &mut Vec<Conflict>,
        exclusive: bool,
        fields: &FieldsMap<'a>,
        sp: &'a FragmentSpread,
        depth: usize,
    ) -> R<()> {
        if depth > MAX_DEPTH {
            return unsupported("fields and fragments compared too deeply");
        }
        self.tick(1)?;
        if self.compared_fragments.contains(&sp.name) {
            return Ok(());
        }
        self.compared_fragments.insert(sp.name.clone());
        let Some(def) = self.a.spread_def.get(&id(sp)).copied() else {
            return Ok(());
        };
        let (fields_b, spreads) = self.fields_and_fragments(&def.selection_set)?;
        if fields.deep_equal(&fields_b)? {
            return Ok(());
        }
        self.between(conflicts, exclusive, fields, &fields_b, depth + 1)?;
        for s in spreads {
            if s.name == sp.name {
                continue;
            }
            self.between_fields_and_fragment(conflicts, exclusive, fields, s, depth + 1)?;
        }
        Ok(())
    }

    fn pair_has(&self, a: &str, b: &str, exclusive: bool) -> bool {
        match self.compared_pairs.get(a).and_then(|m| m.get(b)) {
            None => false,
            Some(r) => exclusive || !*r,
        }
    }

    fn between_fragments(
        &mut self,
        conflicts: &mut Vec<Conflict>,
        exclusive: bool,
        a: &'a FragmentSpread,
        b: &'a FragmentSpread,
        depth: usize,
    ) -> R<()> {
        if depth > MAX_DEPTH {
            return unsupported("fragments compared too deeply");
        }
        self.tick(1)?;
        if a.name == b.name {
            return Ok(());
        }
        if self.pair_has(&a.name, &b.name, exclusive) {
            return Ok(());
        }
        self.compared_pairs
            .entry(a.name.clone())
            .or_default()
            .insert(b.name.clone(), exclusive);
        self.compared_pairs
            .entry(b.name.clone())
            .or_default()
            .insert(a.name.clone(), exclusive);
        let (Some(da), Some(db)) = (
            self.a.spread_def.get(&id(a)).copied(),
            self.a.spread_def.get(&id(b)).copied(),
        ) else {
            return Ok(());
        };
        let (fa, sa) = self.fields_and_fragments(&da.selection_set)?;
        let (fb, sb) = self.fields_and_fragments(&db.selection_set)?;
        self.between(conflicts, exclusive, &fa, &fb, depth + 1)?;
        for s in sb {
            self.between_fragments(conflicts, exclusive, a, s, depth + 1)?;
        }
        for s in sa {
            self.between_fragments(conflicts, exclusive, s, b, depth + 1)?;
        }
        Ok(())
    }

    fn between_sub_selection_sets(
        &mut self,
        exclusive: bool,
        ssa: &'a [Selection],
        ssb: &'a [Selection],
        depth: usize,
    ) -> R<Vec<Conflict>> {
        let mut conflicts = Vec::new();
        let (fa, sa) = self.fields_and_fragments(ssa)?;
        let (fb, sb) = self.fields_and_fragments(ssb)?;
        self.between(&mut conflicts, exclusive, &fa, &fb, depth + 1)?;
        for s in &sb {
            self.compared_fragments = BTreeSet::new();
            self.between_fields_and_fragment(&mut conflicts, exclusive, &fa, s, depth + 1)?;
        }
        for s in &sa {
            self.compared_fragments = BTreeSet::new();
            self.between_fields_and_fragment(&mut conflicts, exclusive, &fb, s, depth + 1)?;
        }
        for a in &sa {
            for b in &sb {
                self.between_fragments(&mut conflicts, exclusive, a, b, depth + 1)?;
            }
        }
        Ok(conflicts)
    }

    fn between(
        &mut self,
        conflicts: &mut Vec<Conflict>,
        exclusive: bool,
        fa: &FieldsMap<'a>,
        fb: &FieldsMap<'a>,
        depth: usize,
    ) -> R<()> {
        for (name, list_a) in &fa.entries {
            let Some(list_b) = fb.get(name) else {
                continue;
            };
            for a in list_a {
                for b in list_b {
                    if let Some(c) = self.find_conflict(exclusive, a, b, depth + 1)? {
                        conflicts.push(c);
                    }
                }
            }
        }
        Ok(())
    }

    fn find_conflict(
        &mut self,
        parent_exclusive: bool,
        a: &'a Field,
        b: &'a Field,
        depth: usize,
    ) -> R<Option<Conflict>> {
        if depth > MAX_DEPTH {
            return unsupported("fields compared too deeply");
        }
        self.tick(1)?;
        let (Some(oa), Some(ob)) = (
            self.a.field_obj.get(&id(a)).copied(),
            self.a.field_obj.get(&id(b)).copied(),
        ) else {
            return Ok(None);
        };
        let da = self.a.field_def.get(&id(a)).copied();
        let db = self.a.field_def.get(&id(b)).copied();
        let mut exclusive = parent_exclusive;
        if !exclusive {
            exclusive = oa.name != ob.name
                && oa.kind == "OBJECT"
                && ob.kind == "OBJECT"
                && da.is_some()
                && db.is_some();
        }
        let name_a = if a.alias.is_empty() {
            &a.name
        } else {
            &a.alias
        };
        let leaf = |message: String| {
            Ok(Some(Conflict {
                message,
                response_name: name_a.clone(),
                sub: Vec::new(),
                pos: b.pos,
            }))
        };
        if !exclusive {
            if a.name != b.name {
                return leaf(format!(
                    "\"{}\" and \"{}\" are different fields",
                    a.name, b.name
                ));
            }
            if !same_arguments(&a.arguments, &b.arguments)? {
                return leaf("they have differing arguments".into());
            }
        }
        if let (Some(da), Some(db)) = (da, db) {
            let (ta, tb) = (ty(&da.ty)?, ty(&db.ty)?);
            if self.types_conflict(ta, tb, 0)? {
                return leaf(format!(
                    "they return conflicting types \"{}\" and \"{}\"",
                    ta.to_gql_string(),
                    tb.to_gql_string()
                ));
            }
        }
        let sub = self.between_sub_selection_sets(
            exclusive,
            &a.selection_set,
            &b.selection_set,
            depth + 1,
        )?;
        if sub.is_empty() {
            return Ok(None);
        }
        Ok(Some(Conflict {
            message: String::new(),
            response_name: name_a.clone(),
            sub,
            pos: b.pos,
        }))
    }

    fn types_conflict(&self, t1: &Type, t2: &Type, depth: usize) -> R<bool> {
        if depth > MAX_DEPTH {
            return unsupported("list types nested too deeply");
        }
        if let Some(e1) = &t1.elem {
            if let Some(e2) = &t2.elem {
                return self.types_conflict(e1, e2, depth + 1);
            }
            return Ok(true);
        }
        if t2.elem.is_some() {
            return Ok(true);
        }
        if t1.non_null != t2.non_null {
            return Ok(true);
        }
        let (Some(d1), Some(d2)) = (
            self.schema.types.get(&t1.named),
            self.schema.types.get(&t2.named),
        ) else {
            return unsupported("a field of an undefined type");
        };
        if is_leaf(d1) && is_leaf(d2) {
            return Ok(d1.name != d2.name);
        }
        Ok(false)
    }
}

/// `sequentialFieldsMap`: response names in order of first appearance.
#[derive(Default)]
struct FieldsMap<'a> {
    entries: Vec<(String, Vec<&'a Field>)>,
    index: BTreeMap<String, usize>,
}

impl<'a> FieldsMap<'a> {
    fn push(&mut self, name: &str, f: &'a Field) {
        match self.index.get(name) {
            Some(&i) => {
                if let Some(e) = self.entries.get_mut(i) {
                    e.1.push(f);
                }
            }
            None => {
                self.index.insert(name.to_string(), self.entries.len());
                self.entries.push((name.to_string(), alloc::vec![f]));
            }
        }
    }

    fn get(&self, name: &str) -> Option<&Vec<&'a Field>> {
        self.index
            .get(name)
            .and_then(|&i| self.entries.get(i))
            .map(|e| &e.1)
    }

    /// `reflect.DeepEqual` of two maps. Fields of a parsed document are
    /// equal only when they are the same node (their positions differ);
    /// distinct nodes without positions (a decoded AST) that hold the same
    /// query would be compared with their annotations: not modelled.
    fn deep_equal(&self, other: &FieldsMap<'a>) -> R<bool> {
        if self.entries.len() != other.entries.len() {
            return Ok(false);
        }
        let mut undecided = false;
        for ((na, la), (nb, lb)) in self.entries.iter().zip(other.entries.iter()) {
            if na != nb || la.len() != lb.len() {
                return Ok(false);
            }
            for (a, b) in la.iter().zip(lb.iter()) {
                if core::ptr::eq(*a, *b) {
                    continue;
                }
                if a.pos.is_some() || b.pos.is_some() || **a != **b {
                    return Ok(false);
                }
                undecided = true;
            }
        }
        if undecided {
            return unsupported("identical fields of an AST object compared as gqlparser compares them (reflect.DeepEqual)");
        }
        Ok(true)
    }
}

struct Conflict {
    message: String,
    response_name: String,
    sub: Vec<Conflict>,
    pos: Option<Pos>,
}

impl Conflict {
    fn write(&self, buf: &mut String, depth: usize) -> R<()> {
        if depth > MAX_DEPTH || buf.len() > 1 << 20 {
            return unsupported("a field conflict message too large");
        }
        if self.sub.is_empty() {
            buf.push_str(&self.message);
            return Ok(());
        }
        for (i, s) in self.sub.iter().enumerate() {
            buf.push_str("subfields \"");
            buf.push_str(&s.response_name);
            buf.push_str("\" conflict because ");
            s.write(buf, depth + 1)?;
            if i != self.sub.len() - 1 {
                buf.push_str(" and ");
            }
        }
        Ok(())
    }
}

fn same_arguments(a1: &[Argument], a2: &[Argument]) -> R<bool> {
    if a1.len() != a2.len() {
        return Ok(false);
    }
    for x in a1 {
        let mut matched = false;
        for y in a2 {
            if x.name == y.name && same_value(value_of(&x.value)?, value_of(&y.value)?, 0)? {
                matched = true;
                break;
            }
        }
        if !matched {
            return Ok(false);
        }
    }
    Ok(true)
}

fn same_value(v1: &Value, v2: &Value, depth: usize) -> R<bool> {
    if depth > MAX_DEPTH {
        return unsupported("values nested too deeply");
    }
    if v1.kind != v2.kind || v1.raw != v2.raw || v1.children.len() != v2.children.len() {
        return Ok(false);
    }
    let mut c1: Vec<&ChildValue> = v1.children.iter().collect();
    let mut c2: Vec<&ChildValue> = v2.children.iter().collect();
    if v1.kind == KIND_OBJECT {
        c1.sort_by(|a, b| a.name.cmp(&b.name));
        c2.sort_by(|a, b| a.name.cmp(&b.name));
    }
    for (a, b) in c1.iter().zip(c2.iter()) {
        if a.name != b.name || !same_value(child_value(a)?, child_value(b)?, depth + 1)? {
            return Ok(false);
        }
    }
    Ok(true)
}
