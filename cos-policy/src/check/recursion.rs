//! Load-time dependency checks across a pack's modules, as OPA's compiler
//! makes them: recursive rules and functions (`rule data.p.a is recursive:
//! data.p.a -> data.p.b -> data.p.a`), and a name used both as a function
//! and as a rule (`conflicting rules data.p.f found`).
//!
//! The dependency graph has one node per rule path (`data.<package>.<head
//! ref>`). A reference with static prefix `S` (`data.p.a`, a rule `a` of the
//! same package, an imported alias, or a function call) depends on every rule
//! whose path is a prefix of `S` or has `S` as a prefix, as in OPA.
//!
//! Two graphs are built: the precise one (local variables declared with
//! `:=`, `some`, `every` or as function arguments shadow rule names), which
//! gives OPA's errors; and a conservative one (any name equal to a rule's
//! counts), whose cycles only tell the engine not to run the pack on the
//! register VM, which has no runtime recursion guard.
//!
//! The same walk marks the rules that use constructs regorus 0.14's register
//! VM gets wrong (found by the conformance corpus, see ADR-0005): ref heads
//! with a key (`a[k] := v`, `a[k] contains v`: the VM ignores the key and
//! misses conflicts), object comprehensions (duplicate keys not detected),
//! and array comprehensions whose term may be undefined (the VM keeps an
//! undefined element where OPA skips the iteration), and calls to the
//! builtins cos replaces (`glob.match`, `glob.quote_meta`, `time.add_date`:
//! the VM would call regorus's own), and `rego.metadata.chain` /
//! `rego.metadata.rule` (their value is that of the rule holding the call,
//! which only the interpreter knows; on the VM they are a hard error).
//! Entrypoints depending
//! on such a rule are evaluated by the interpreter.

use std::collections::{BTreeMap, BTreeSet};

use regorus::unstable::{AssignOp, Expr, Literal, Query, Rule, RuleHead};

use crate::bundle::pack::Module;
use crate::error::{Error, Result};

/// Builtins cos implements itself with OPA's semantics (registered as
/// regorus extensions, which the register VM does not call).
pub(crate) const REPLACED_BUILTINS: [&str; 3] = ["glob.match", "glob.quote_meta", "time.add_date"];

/// Deepest expression nesting walked; deeper policies are refused.
const MAX_DEPTH: usize = 512;

/// What the check found beyond errors.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct DependencyReport {
    /// A cycle exists when every name equal to a rule is read as that rule
    /// (so the register VM must not run this pack).
    pub conservative_cycle: bool,
    /// Rule paths the register VM must not evaluate: they use a construct
    /// it gets wrong, or depend (conservatively) on a rule that does.
    pub vm_unsafe: BTreeSet<Vec<String>>,
}

impl DependencyReport {
    /// Whether the register VM may evaluate the document at `path`
    /// (segments after `data`): no rule at, under or above it is unsafe.
    pub(crate) fn vm_may_evaluate(&self, path: &[String]) -> bool {
        !self
            .vm_unsafe
            .iter()
            .any(|n| n.starts_with(path) || path.starts_with(n))
    }
}

/// One rule path: segments after `data`.
type Path = Vec<String>;

pub(crate) fn show(p: &[String]) -> String {
    let mut s = String::from("data");
    for seg in p {
        if !seg.is_empty() && seg.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            s.push('.');
            s.push_str(seg);
        } else {
            s.push_str(&format!("[{}]", serde_json::Value::from(seg.as_str())));
        }
    }
    s
}

/// The static part of a reference expression.
pub(crate) struct StaticRef {
    /// The root variable.
    pub(crate) root: String,
    /// The literal fields after the root, up to the first non-literal index.
    pub(crate) segs: Vec<String>,
    /// No index was non-literal: the whole reference is ground.
    pub(crate) ground: bool,
}

impl StaticRef {
    /// The root followed by the segments (for a rule head, the rule tree
    /// node of its ground prefix).
    pub(crate) fn into_path(self) -> Vec<String> {
        let mut path = Vec::with_capacity(self.segs.len() + 1);
        path.push(self.root);
        path.extend(self.segs);
        path
    }
}

/// The static segments of a reference expression: the root variable and
/// the literal fields after it, stopping at the first non-literal index,
/// and whether there was none.
pub(crate) fn static_ref(e: &Expr) -> Option<StaticRef> {
    let mut segs = Vec::new();
    let mut ground = true;
    let mut cur = e;
    loop {
        match cur {
            Expr::RefDot { refr, field, .. } => {
                segs.push(field.1.as_string().ok()?.to_string());
                cur = refr.as_ref();
            }
            Expr::RefBrack { refr, index, .. } => {
                match index.as_ref() {
                    Expr::String { value, .. } | Expr::RawString { value, .. } => {
                        segs.push(value.as_string().ok()?.to_string());
                    }
                    // A dynamic index ends the static prefix here.
                    _ => {
                        segs.clear();
                        ground = false;
                    }
                }
                cur = refr.as_ref();
            }
            Expr::Var { value, .. } => {
                segs.reverse();
                return Some(StaticRef {
                    root: value.as_string().ok()?.to_string(),
                    segs,
                    ground,
                });
            }
            _ => return None,
        }
    }
}

/// One segment of a reference as a pattern over rule paths.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Seg {
    /// A literal field or string index.
    Lit(String),
    /// A variable or computed index: any rule name.
    Any,
    /// A number, boolean or null index: no rule name (rule paths are
    /// strings), so nothing from here on is a rule (`data[2]`).
    Never,
}

/// A reference as a pattern: the root variable and every segment after
/// it. OPA looks a reference with variables up in its rule tree with the
/// variables as wildcards and the later ground segments still compared
/// (`data[first].allow.see` does not reach `data.test.p`), so it does here.
fn ref_pattern(e: &Expr) -> Option<(String, Vec<Seg>)> {
    let mut segs = Vec::new();
    let mut cur = e;
    loop {
        match cur {
            Expr::RefDot { refr, field, .. } => {
                segs.push(Seg::Lit(field.1.as_string().ok()?.to_string()));
                cur = refr.as_ref();
            }
            Expr::RefBrack { refr, index, .. } => {
                segs.push(match index.as_ref() {
                    Expr::String { value, .. } | Expr::RawString { value, .. } => {
                        Seg::Lit(value.as_string().ok()?.to_string())
                    }
                    Expr::Number { .. } | Expr::Bool { .. } | Expr::Null { .. } => Seg::Never,
                    _ => Seg::Any,
                });
                cur = refr.as_ref();
            }
            Expr::Var { value, .. } => {
                segs.reverse();
                return Some((value.as_string().ok()?.to_string(), segs));
            }
            _ => return None,
        }
    }
}

/// Whether a reference pattern and a rule path can meet: equal up to the
/// shorter of the two.
fn overlaps(node: &[String], pattern: &[Seg]) -> bool {
    node.iter().zip(pattern).all(|(n, s)| match s {
        Seg::Lit(l) => l == n,
        Seg::Any => true,
        Seg::Never => false,
    })
}

struct PackageScope<'a> {
    package: Path,
    /// Import alias -> path after `data` (imports of `data.…` only).
    imports: BTreeMap<String, Path>,
    /// Names (first head segment) of this package's rules.
    rule_names: &'a BTreeSet<String>,
}

struct Walker<'a> {
    scope: &'a PackageScope<'a>,
    locals: BTreeSet<String>,
    respect_locals: bool,
    refs: Vec<Vec<Seg>>,
    module: &'a Module,
    /// A construct the register VM gets wrong was seen.
    vm_unsafe: bool,
}

impl Walker<'_> {
    fn err_depth(&self, line: u32) -> Error {
        Error::Compile {
            path: self.module.path.clone(),
            message: format!("line {line}: expression nested more than {MAX_DEPTH} deep"),
        }
    }

    /// Whether a term can never be undefined: literals, local variables and
    /// collections of those (not rules, refs or calls).
    fn always_defined(&self, e: &Expr) -> bool {
        match e {
            Expr::String { .. }
            | Expr::RawString { .. }
            | Expr::Number { .. }
            | Expr::Bool { .. }
            | Expr::Null { .. } => true,
            Expr::Var { value, .. } => value.as_string().is_ok_and(|n| {
                let n = n.as_ref();
                n != "input"
                    && n != "data"
                    && !self.scope.imports.contains_key(n)
                    && (self.locals.contains(n) || !self.scope.rule_names.contains(n))
            }),
            Expr::Array { items, .. } | Expr::Set { items, .. } => {
                items.iter().all(|x| self.always_defined(x))
            }
            Expr::Object { fields, .. } => fields
                .iter()
                .all(|(_, k, v)| self.always_defined(k) && self.always_defined(v)),
            _ => false,
        }
    }

    fn resolve(&mut self, root: &str, segs: &[String]) {
        let segs: Vec<Seg> = segs.iter().cloned().map(Seg::Lit).collect();
        self.resolve_pattern(root, &segs);
    }

    fn resolve_pattern(&mut self, root: &str, segs: &[Seg]) {
        let base: Option<Path> = if root == "data" {
            Some(Vec::new())
        } else if let Some(p) = self.scope.imports.get(root) {
            Some(p.clone())
        } else if self.scope.rule_names.contains(root)
            && !(self.respect_locals && self.locals.contains(root))
        {
            let mut p = self.scope.package.clone();
            p.push(root.to_owned());
            Some(p)
        } else {
            None
        };
        if let Some(p) = base {
            let mut pattern: Vec<Seg> = p.into_iter().map(Seg::Lit).collect();
            pattern.extend(segs.iter().cloned());
            self.refs.push(pattern);
        }
    }

    fn query(&mut self, q: &Query, depth: usize) -> Result<()> {
        for stmt in &q.stmts {
            match &stmt.literal {
                Literal::SomeVars { vars, .. } => {
                    self.locals.extend(vars.iter().map(|v| v.text().to_owned()));
                }
                Literal::SomeIn {
                    key,
                    value,
                    collection,
                    ..
                } => {
                    for e in key.iter().chain(std::iter::once(value)) {
                        declare(e, &mut self.locals);
                    }
                    self.expr(collection, depth + 1)?;
                    for e in key.iter().chain(std::iter::once(value)) {
                        self.expr(e, depth + 1)?;
                    }
                }
                Literal::Expr { expr, .. } | Literal::NotExpr { expr, .. } => {
                    if let Expr::AssignExpr {
                        op: AssignOp::ColEq,
                        lhs,
                        ..
                    } = expr.as_ref()
                    {
                        declare(lhs, &mut self.locals);
                    }
                    self.expr(expr, depth + 1)?;
                }
                Literal::Every {
                    key,
                    value,
                    domain,
                    query,
                    ..
                } => {
                    self.locals.extend(key.iter().map(|k| k.text().to_owned()));
                    self.locals.insert(value.text().to_owned());
                    self.expr(domain, depth + 1)?;
                    self.query(query, depth + 1)?;
                }
            }
            for w in &stmt.with_mods {
                // The target of `with` is replaced, not read.
                self.expr(&w.r#as, depth + 1)?;
            }
        }
        Ok(())
    }

    fn expr(&mut self, e: &Expr, depth: usize) -> Result<()> {
        if depth > MAX_DEPTH {
            return Err(self.err_depth(e.span().line));
        }
        let d = depth + 1;
        match e {
            Expr::String { .. }
            | Expr::RawString { .. }
            | Expr::Number { .. }
            | Expr::Bool { .. }
            | Expr::Null { .. } => {}
            Expr::Var { value, .. } => {
                if let Ok(name) = value.as_string() {
                    self.resolve(name.as_ref(), &[]);
                }
            }
            Expr::Array { items, .. } | Expr::Set { items, .. } => {
                for x in items {
                    self.expr(x, d)?;
                }
            }
            Expr::Object { fields, .. } => {
                for (_, k, v) in fields {
                    self.expr(k, d)?;
                    self.expr(v, d)?;
                }
            }
            Expr::ArrayCompr { term, query, .. } | Expr::SetCompr { term, query, .. } => {
                self.query(query, d)?;
                if matches!(e, Expr::ArrayCompr { .. }) && !self.always_defined(term) {
                    self.vm_unsafe = true;
                }
                self.expr(term, d)?;
            }
            Expr::ObjectCompr {
                key, value, query, ..
            } => {
                self.vm_unsafe = true;
                self.query(query, d)?;
                self.expr(key, d)?;
                self.expr(value, d)?;
            }
            Expr::Call { fcn, params, .. } => {
                if let Some(StaticRef { root, segs, .. }) = static_ref(fcn) {
                    // cos replaces these builtins; the VM would call
                    // regorus's own.
                    if segs.len() == 1
                        && REPLACED_BUILTINS.contains(&format!("{root}.{}", segs[0]).as_str())
                    {
                        self.vm_unsafe = true;
                    }
                    // `rego.metadata.*` answers for the rule that holds the
                    // call, which only the interpreter knows.
                    if root == "rego" && segs.first().is_some_and(|s| s == "metadata") {
                        self.vm_unsafe = true;
                    }
                    self.resolve(&root, &segs);
                }
                for p in params {
                    self.expr(p, d)?;
                }
            }
            Expr::UnaryExpr { expr, .. } => self.expr(expr, d)?,
            Expr::RefDot { .. } | Expr::RefBrack { .. } => {
                if let Some((root, segs)) = ref_pattern(e) {
                    self.resolve_pattern(&root, &segs);
                }
                // Walk the dynamic indexes (and the root if it is not a
                // variable, e.g. a call or a literal).
                let mut cur = e;
                let mut n = 0usize;
                loop {
                    n += 1;
                    if depth + n > MAX_DEPTH {
                        return Err(self.err_depth(e.span().line));
                    }
                    match cur {
                        Expr::RefDot { refr, .. } => cur = refr.as_ref(),
                        Expr::RefBrack { refr, index, .. } => {
                            if !matches!(
                                index.as_ref(),
                                Expr::String { .. } | Expr::RawString { .. }
                            ) {
                                self.expr(index, d + n)?;
                            }
                            cur = refr.as_ref();
                        }
                        Expr::Var { .. } => break,
                        other => {
                            self.expr(other, d + n)?;
                            break;
                        }
                    }
                }
            }
            Expr::BinExpr { lhs, rhs, .. }
            | Expr::BoolExpr { lhs, rhs, .. }
            | Expr::ArithExpr { lhs, rhs, .. }
            | Expr::AssignExpr { lhs, rhs, .. } => {
                self.expr(lhs, d)?;
                self.expr(rhs, d)?;
            }
            Expr::Membership {
                key,
                value,
                collection,
                ..
            } => {
                if let Some(k) = key {
                    self.expr(k, d)?;
                }
                self.expr(value, d)?;
                self.expr(collection, d)?;
            }
            #[allow(unreachable_patterns, reason = "rego-extensions variants")]
            _ => {}
        }
        Ok(())
    }
}

/// Adds the variables of an assignment or `some … in` pattern to `locals`.
fn declare(e: &Expr, locals: &mut BTreeSet<String>) {
    let mut stack = vec![e];
    while let Some(e) = stack.pop() {
        match e {
            Expr::Var { value, .. } => {
                if let Ok(name) = value.as_string() {
                    locals.insert(name.to_string());
                }
            }
            Expr::Array { items, .. } => stack.extend(items.iter().map(|x| x.as_ref())),
            Expr::Object { fields, .. } => stack.extend(fields.iter().map(|(_, _, v)| v.as_ref())),
            _ => {}
        }
    }
}

/// The head reference of a rule and whether it is a function.
fn head_of(rule: &Rule) -> Option<(&Expr, bool)> {
    match rule {
        Rule::Spec { head, .. } => match head {
            RuleHead::Compr { refr, .. } | RuleHead::Set { refr, .. } => Some((refr, false)),
            RuleHead::Func { refr, .. } => Some((refr, true)),
        },
        Rule::Default { refr, args, .. } => Some((refr, !args.is_empty())),
    }
}

/// A literal, or a collection of literals: a value with no reference,
/// variable, call or comprehension in it.
fn is_constant(e: &Expr, depth: usize) -> bool {
    depth < 64
        && match e {
            Expr::String { .. }
            | Expr::RawString { .. }
            | Expr::Number { .. }
            | Expr::Bool { .. }
            | Expr::Null { .. } => true,
            Expr::Array { items, .. } | Expr::Set { items, .. } => {
                items.iter().all(|x| is_constant(x, depth + 1))
            }
            Expr::Object { fields, .. } => fields
                .iter()
                .all(|(_, k, v)| is_constant(k, depth + 1) && is_constant(v, depth + 1)),
            _ => false,
        }
}

fn package_path(m: &regorus::unstable::Module) -> Option<Path> {
    // `package a.b` parses as a reference rooted at `a`.
    let mut p = static_ref(&m.package.refr)?.into_path();
    if p.first().is_some_and(|s| s == "data") {
        p.remove(0);
    }
    Some(p)
}

/// Checks a pack's parsed modules for recursion and rule/function name
/// clashes, with OPA's messages.
pub(crate) fn check(parsed: &[(&Module, &regorus::unstable::Module)]) -> Result<DependencyReport> {
    // Rule paths, and which are functions, per package.
    let mut nodes: BTreeMap<Path, (bool, bool, &Module)> = BTreeMap::new(); // (rule, function)
    let mut names: BTreeMap<Path, BTreeSet<String>> = BTreeMap::new();
    let mut pkgs = Vec::new();
    // For the VM gate: paths with a `default`, and paths with an `else`
    // chain.
    let mut defaults: BTreeSet<Path> = BTreeSet::new();
    let mut vm_unsafe_defaults: BTreeSet<Path> = BTreeSet::new();
    let mut with_else: BTreeSet<Path> = BTreeSet::new();
    for (module, m) in parsed {
        let Some(pkg) = package_path(m) else { continue };
        for rule in &m.policy {
            let Some((refr, is_fn)) = head_of(rule) else {
                continue;
            };
            let Some(StaticRef { root, segs, .. }) = static_ref(refr) else {
                continue;
            };
            let mut p = pkg.clone();
            p.push(root.clone());
            p.extend(segs);
            match rule.as_ref() {
                Rule::Default { value, args, .. } => {
                    defaults.insert(p.clone());
                    // The VM computes a default's value when it compiles
                    // the program, without the data or input: only a
                    // constant comes out right (`default p := [x | data.a[_]
                    // = x]` answered `[]`; OPA's suite, defaultkeyword). A
                    // function's default is lost when the function is called
                    // inside a loop (`[y | some x in xs; y := f(x)]`; OPA's
                    // suite, functions/comprehensions).
                    if !args.is_empty() || !is_constant(value, 0) {
                        vm_unsafe_defaults.insert(p.clone());
                    }
                }
                Rule::Spec { bodies, .. } => {
                    if bodies.iter().any(|b| b.is_else) {
                        with_else.insert(p.clone());
                    }
                }
            }
            let entry = nodes.entry(p).or_insert((false, false, module));
            if is_fn {
                entry.1 = true;
            } else {
                entry.0 = true;
            }
            names.entry(pkg.clone()).or_default().insert(root);
        }
        pkgs.push((*module, m, pkg));
    }
    if let Some((p, (_, _, module))) = nodes.iter().find(|(_, (r, f, _))| *r && *f) {
        return Err(Error::Compile {
            path: module.path.clone(),
            message: format!("rego_type_error: conflicting rules {} found", show(p)),
        });
    }
    let empty = BTreeSet::new();
    let mut precise: BTreeMap<Path, BTreeSet<Path>> = BTreeMap::new();
    let mut loose: BTreeMap<Path, BTreeSet<Path>> = BTreeMap::new();
    let mut vm_unsafe: BTreeSet<Path> = BTreeSet::new();
    for (module, m, pkg) in &pkgs {
        let scope = PackageScope {
            package: pkg.clone(),
            imports: m
                .imports
                .iter()
                .filter_map(|i| {
                    let StaticRef { root, segs, .. } = static_ref(&i.refr)?;
                    if root != "data" {
                        return None;
                    }
                    let alias = match &i.r#as {
                        Some(a) => a.text().to_owned(),
                        None => segs.last()?.clone(),
                    };
                    Some((alias, segs))
                })
                .collect(),
            rule_names: names.get(pkg).unwrap_or(&empty),
        };
        for rule in &m.policy {
            let Some((refr, _)) = head_of(rule) else {
                continue;
            };
            let Some(StaticRef { root, segs, .. }) = static_ref(refr) else {
                continue;
            };
            let mut from = pkg.clone();
            from.push(root);
            from.extend(segs);
            for (respect_locals, graph) in [(true, &mut precise), (false, &mut loose)] {
                let mut w = Walker {
                    scope: &scope,
                    locals: BTreeSet::new(),
                    respect_locals,
                    refs: Vec::new(),
                    module,
                    vm_unsafe: keyed_head(rule),
                };
                walk_rule(&mut w, rule)?;
                if w.vm_unsafe {
                    vm_unsafe.insert(from.clone());
                }
                let deps = graph.entry(from.clone()).or_default();
                for r in &w.refs {
                    for n in nodes.keys() {
                        if overlaps(n, r) {
                            deps.insert(n.clone());
                        }
                    }
                }
            }
        }
    }
    if let Some(cycle) = find_cycle(&precise) {
        let module = nodes.get(&cycle[0]).map(|n| n.2);
        return Err(Error::Compile {
            path: module.map(|m| m.path.clone()).unwrap_or_default(),
            message: format!(
                "rego_recursion_error: rule {} is recursive: {}",
                show(&cycle[0]),
                cycle
                    .iter()
                    .map(|p| show(p))
                    .collect::<Vec<_>>()
                    .join(" -> ")
            ),
        });
    }
    // The VM answers the default where OPA does not (issue 19): for a rule
    // with a default and an `else` chain, when a later body fails inside
    // `some … in` over nothing, OPA goes on down the chain. (A conflict in a
    // rule that a rule with a default reads is caught at run time: the
    // vendored VM then fails, COS-PATCHES.md patch 18, and the interpreter
    // answers.)
    vm_unsafe.extend(defaults.intersection(&with_else).cloned());
    vm_unsafe.extend(vm_unsafe_defaults);
    // Whatever (conservatively) depends on an unsafe rule is unsafe too.
    loop {
        let more: Vec<Path> = loose
            .iter()
            .filter(|(n, deps)| {
                !vm_unsafe.contains(*n) && deps.iter().any(|d| vm_unsafe.contains(d))
            })
            .map(|(n, _)| n.clone())
            .collect();
        if more.is_empty() {
            break;
        }
        vm_unsafe.extend(more);
    }
    Ok(DependencyReport {
        conservative_cycle: find_cycle(&loose).is_some(),
        vm_unsafe,
    })
}

/// Whether a rule's head reference has a `[…]` part (`a[k] := v`,
/// `a[k] contains v`, `a[x] if …`), or is a v0 partial object.
fn keyed_head(rule: &Rule) -> bool {
    let refr = match rule {
        Rule::Spec {
            head: RuleHead::Compr { refr, .. } | RuleHead::Set { refr, .. },
            ..
        } => refr,
        _ => return false,
    };
    let mut cur = refr.as_ref();
    loop {
        match cur {
            Expr::RefDot { refr, .. } => cur = refr.as_ref(),
            Expr::RefBrack { .. } => return true,
            _ => return false,
        }
    }
}

fn walk_rule(w: &mut Walker<'_>, rule: &Rule) -> Result<()> {
    match rule {
        Rule::Spec { head, bodies, .. } => {
            let (key, assign) = match head {
                RuleHead::Compr { refr, assign, .. } => {
                    walk_head_indexes(w, refr)?;
                    (None, assign.as_ref())
                }
                RuleHead::Set { refr, key, .. } => {
                    walk_head_indexes(w, refr)?;
                    (key.as_ref(), None)
                }
                RuleHead::Func {
                    refr, args, assign, ..
                } => {
                    walk_head_indexes(w, refr)?;
                    for a in args {
                        declare(a, &mut w.locals);
                    }
                    (None, assign.as_ref())
                }
            };
            // Bodies first: they declare the locals the head may use.
            for b in bodies {
                w.query(&b.query, 0)?;
                if let Some(a) = &b.assign {
                    w.expr(&a.value, 0)?;
                }
            }
            if let Some(k) = key {
                w.expr(k, 0)?;
            }
            if let Some(a) = assign {
                w.expr(&a.value, 0)?;
            }
        }
        Rule::Default { value, .. } => w.expr(value, 0)?,
    }
    Ok(())
}

/// Walks the dynamic parts of a head reference (`a[x] := …`: `x`).
fn walk_head_indexes(w: &mut Walker<'_>, refr: &Expr) -> Result<()> {
    let mut cur = refr;
    loop {
        match cur {
            Expr::RefDot { refr, .. } => cur = refr.as_ref(),
            Expr::RefBrack { refr, index, .. } => {
                if !matches!(index.as_ref(), Expr::String { .. } | Expr::RawString { .. }) {
                    // Key variables are bound by the body, not rules.
                    let mut locals = BTreeSet::new();
                    declare(index, &mut locals);
                    if locals.is_empty() {
                        w.expr(index, 0)?;
                    }
                }
                cur = refr.as_ref();
            }
            _ => return Ok(()),
        }
    }
}

/// The first cycle in node order, as a path that starts and ends at the
/// same node (`[a, b, a]`).
fn find_cycle(graph: &BTreeMap<Path, BTreeSet<Path>>) -> Option<Vec<Path>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        Open,
        Done,
    }
    let mut marks: BTreeMap<&Path, Mark> = BTreeMap::new();
    let empty = BTreeSet::new();
    for start in graph.keys() {
        if marks.contains_key(start) {
            continue;
        }
        // Iterative DFS: (node, iterator over its dependencies).
        let mut stack: Vec<(&Path, std::collections::btree_set::Iter<'_, Path>)> =
            vec![(start, graph.get(start).unwrap_or(&empty).iter())];
        marks.insert(start, Mark::Open);
        while let Some((node, deps)) = stack.last_mut() {
            let node: &Path = node;
            match deps.next() {
                Some(next) => match marks.get(next) {
                    Some(Mark::Open) => {
                        let i = stack.iter().position(|(n, _)| *n == next).unwrap_or(0);
                        let mut cycle: Vec<Path> =
                            stack[i..].iter().map(|(n, _)| (*n).clone()).collect();
                        cycle.push(next.clone());
                        return Some(cycle);
                    }
                    Some(Mark::Done) => {}
                    None => {
                        marks.insert(next, Mark::Open);
                        stack.push((next, graph.get(next).unwrap_or(&empty).iter()));
                    }
                },
                None => {
                    marks.insert(node, Mark::Done);
                    stack.pop();
                }
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(srcs: &[&str]) -> Result<DependencyReport> {
        crate::test_support::with_parsed(srcs, check)
    }

    fn err(srcs: &[&str]) -> String {
        run(srcs).unwrap_err().to_string()
    }

    #[test]
    fn recursion_refused_with_opas_message() {
        assert!(
            err(&["package p\n\nallow if can_access\n\ncan_access if allow\n"]).contains(
                "rule data.p.allow is recursive: data.p.allow -> data.p.can_access -> data.p.allow"
            )
        );
        assert!(
            err(&["package p\n\ndepth := n if {\n\tn := depth + 1\n}\n"])
                .contains("rule data.p.depth is recursive: data.p.depth -> data.p.depth")
        );
        assert!(
            err(&[
                "package p\n\nfact(n) := 1 if n <= 1\n\nfact(n) := n * fact(n - 1) if n > 1\n\nx := fact(3)\n"
            ])
            .contains("rule data.p.fact is recursive: data.p.fact -> data.p.fact")
        );
        // Across packages, through data refs and imports.
        assert!(
            err(&[
                "package a\n\nimport data.b\n\nx if b.y\n",
                "package b\n\ny if data.a.x\n"
            ])
            .contains("is recursive")
        );
        // Iterating over one's own package depends on every rule in it.
        assert!(err(&["package p\n\nr contains k if data.p[k]\n"]).contains("is recursive"));
    }

    #[test]
    fn rule_and_function_with_one_name_conflict() {
        assert!(
            err(&["package p\n\nf := 1\n\nf(a) := a\n\nx := f(1)\n"])
                .contains("conflicting rules data.p.f found")
        );
    }

    #[test]
    fn non_recursive_policies_pass() {
        let r = run(&[
            "package p\n\nimport data.q\n\ndefault allow := false\n\nallow if {\n\tsome r in input.roles\n\tq.grants[r]\n\thelper(r)\n}\n\nhelper(x) if x != \"\"\n\nobj[k] := v if {\n\tsome k, v in input.o\n}\n",
            "package q\n\ngrants := {\"admin\": true}\n\ntotal := count(grants)\n",
        ])
        .unwrap();
        assert!(!r.conservative_cycle);
        // Sibling ref-head rules are separate rules.
        run(&["package p\n\na.b if a.c\n\na.c := true\n"]).unwrap();
        // A variable index is a wildcard, but the ground segments after it
        // still have to match, and a number never names a rule (OPA's
        // suite: dataderef, planner-ir issue 7399).
        run(&[
            "package test\n\np := data[first].allow.see if first := \"primary\"\n\nq := data[2]\n",
            "package primary\n\nallow.see := 1\n",
        ])
        .unwrap();
        assert!(
            err(&["package test\n\np if { data[x].p }\n"])
                .contains("rule data.test.p is recursive")
        );
    }

    #[test]
    fn rego_metadata_calls_go_to_the_interpreter() {
        let r = run(&[
            "package p\n\n# METADATA\n# title: t\nmeta := rego.metadata.rule()\n\nuses if meta.title == \"t\"\n\nother := 1\n\nchain_in_fn(x) := [x, rego.metadata.chain()]\n",
        ])
        .unwrap();
        let path = |s: &str| vec!["p".to_owned(), s.to_owned()];
        // The caller, what depends on it, and the package: interpreter.
        assert!(!r.vm_may_evaluate(&path("meta")));
        assert!(!r.vm_may_evaluate(&path("uses")));
        assert!(!r.vm_may_evaluate(&path("chain_in_fn")));
        assert!(!r.vm_may_evaluate(&["p".to_owned()]));
        // An unrelated rule stays on the VM.
        assert!(r.vm_may_evaluate(&path("other")));
    }

    #[test]
    fn locals_shadow_rule_names_but_the_vm_is_told() {
        // `y := …` declares a local: no recursion for OPA, but the
        // conservative graph (for the VM) sees one.
        let r = run(&["package p\n\ny := v if {\n\tsome y in [1]\n\tv := y\n}\n"]).unwrap();
        assert!(r.conservative_cycle);
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        // Refused before regorus parses it (exponential time, then a stack
        // overflow, in regorus 0.14).
        for (open, close) in [("[", "]"), ("{", "}"), ("{\"a\": ", "}")] {
            let deep = format!(
                "package p\n\nx := {}1{}\n",
                open.repeat(300),
                close.repeat(300)
            );
            let module = Module {
                path: "d.rego".into(),
                source: deep,
            };
            let e = crate::check::parity::parse_module(&module, true)
                .unwrap_err()
                .to_string();
            assert!(
                e.contains("line 3: rego_parse_error: collections nested"),
                "{e}"
            );
        }
        // At the limit, and in strings or comments, it is fine.
        let n = crate::check::parity::MAX_COLLECTION_NESTING;
        let ok = format!(
            "package p\n\n# {}\nx := [{}1{}]\ny := \"{}\"\n",
            "[".repeat(100),
            "1, [".repeat(n - 1),
            "]".repeat(n - 1),
            "{".repeat(100)
        );
        let module = Module {
            path: "d.rego".into(),
            source: ok,
        };
        let parsed = crate::check::parity::parse_module(&module, true).unwrap();
        check(&[(&module, &parsed)]).unwrap();
    }
}
