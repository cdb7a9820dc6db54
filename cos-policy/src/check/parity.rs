//! Load-time checks for policies that OPA rejects but regorus accepts, so
//! that a pack which loads in cos also loads in OPA.
//!
//! Checked (each pinned by a conformance case judged by the real OPA,
//! `tests/conformance`):
//! - `input` or `data` as a function argument
//!   (`args must not shadow input`);
//! - `input` or `data` assigned with `:=` in a rule body or `every` body
//!   (`variables must not shadow input`); regorus's parser already refuses
//!   most of these ("cannot be shadowed"), this is the backstop;
//! - `some x` followed by `x := …` in the same body (`var x declared above`);
//! - recursive rules and functions, and a name used both for a rule and a
//!   function, across the pack's modules (`recursion.rs`);
//! - builtin calls with the wrong number of arguments (`count: arity
//!   mismatch`), and negations that would output a variable (`var _ is
//!   unsafe`).
//!
//! See docs/policy-opa-parity.md for what is still different.

use regorus::unstable::{AssignOp, Expr, Literal, Parser, Query, Rule, RuleHead, Source};

use crate::bundle::pack::Module;
use crate::check::recursion::{StaticRef, static_ref};
use crate::error::{Error, Result};

const RESERVED: [&str; 2] = ["input", "data"];

fn compile(module: &Module, line: u32, message: String) -> Error {
    Error::Compile {
        path: module.path.clone(),
        message: format!("line {line}: rego_compile_error: {message}"),
    }
}

fn walk_query(module: &Module, q: &Query) -> Result<()> {
    // Variables introduced by `some x` earlier in this query.
    let mut declared: Vec<String> = Vec::new();
    for stmt in &q.stmts {
        match &stmt.literal {
            Literal::SomeVars { vars, .. } => {
                declared.extend(vars.iter().map(|v| v.text().to_owned()))
            }
            Literal::Expr { expr, .. } | Literal::NotExpr { expr, .. } => {
                if let Expr::AssignExpr {
                    op: AssignOp::ColEq,
                    lhs,
                    ..
                } = expr.as_ref()
                {
                    let name = lhs.span().text();
                    if declared.iter().any(|d| d == name) {
                        return Err(compile(
                            module,
                            lhs.span().line,
                            format!("var {name} declared above"),
                        ));
                    }
                    if RESERVED.contains(&name) {
                        return Err(compile(
                            module,
                            lhs.span().line,
                            format!(
                                "variables must not shadow {name} (use a different variable name)"
                            ),
                        ));
                    }
                }
            }
            Literal::Every { query, .. } => walk_query(module, query)?,
            Literal::SomeIn { .. } => {}
        }
    }
    Ok(())
}

/// Parses one module with regorus's parser (`rego_v1` selects the syntax),
/// for the checks here and the test runner's rule discovery.
pub(crate) fn parse_module(module: &Module, rego_v1: bool) -> Result<regorus::unstable::Module> {
    let err = |e: &dyn std::fmt::Display| Error::Compile {
        path: module.path.clone(),
        message: e.to_string(),
    };
    check_null(module)?;
    check_nesting(module)?;
    if !rego_v1 {
        check_v0_if(module)?;
    }
    let source =
        Source::from_contents(module.path.clone(), module.source.clone()).map_err(|e| err(&e))?;
    let mut parser =
        Parser::new_with_max_col(&source, Some(crate::engine::max_col())).map_err(|e| err(&e))?;
    if rego_v1 {
        parser.enable_rego_v1().map_err(|e| err(&e))?;
    }
    parser.parse().map_err(|e| err(&e))
}

/// OPA's scanner refuses a NUL byte anywhere in a module (in code, strings
/// and comments alike); regorus reads it as part of a name.
fn check_null(module: &Module) -> Result<()> {
    match module.source.find('\0') {
        Some(at) => {
            let line = 1 + module.source[..at].matches('\n').count();
            Err(Error::Compile {
                path: module.path.clone(),
                message: format!("line {line}: rego_parse_error: illegal null character"),
            })
        }
        None => Ok(()),
    }
}

/// Deepest nesting of `[` and `{` accepted in a module's source.
///
/// regorus 0.14 parses a collection whose first element is itself a
/// collection by trying a comprehension first and re-parsing on failure, so
/// parse time doubles with every level (16 levels: ~0.1 s, 24 levels: ~15 s
/// in a release build). Real policies stay far below this limit; deeper
/// source is refused before regorus sees it, so a hostile pack cannot stall
/// or crash the loader.
pub const MAX_COLLECTION_NESTING: usize = 16;

/// Refuses source nested deeper than [`MAX_COLLECTION_NESTING`] (strings and
/// comments are not counted).
fn check_nesting(module: &Module) -> Result<()> {
    let code = crate::engine::builtins::code_only(&module.source);
    let (mut depth, mut line) = (0usize, 1u32);
    for c in code.chars() {
        match c {
            '\n' => line += 1,
            '[' | '{' => {
                depth += 1;
                if depth > MAX_COLLECTION_NESTING {
                    return Err(Error::Compile {
                        path: module.path.clone(),
                        message: format!(
                            "line {line}: rego_parse_error: collections nested more than {MAX_COLLECTION_NESTING} deep \
                             (cos limit: regorus parses deeper nesting in exponential time)"
                        ),
                    });
                }
            }
            ']' | '}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

/// In Rego v0, `if` is a keyword only after `import future.keywords.if`
/// (or `future.keywords`, or `rego.v1`). regorus then warns and reads `if`
/// as a name, and the rule means something else; OPA refuses the module.
fn check_v0_if(module: &Module) -> Result<()> {
    let code = crate::engine::builtins::code_only(&module.source);
    let imported = code.lines().any(|l| {
        let mut t = l.split_whitespace();
        t.next() == Some("import")
            && t.next().is_some_and(|what| {
                what == "rego.v1" || what == "future.keywords" || what == "future.keywords.if"
            })
    });
    if imported {
        return Ok(());
    }
    for (n, line) in code.lines().enumerate() {
        // `if` right after a term on the same line (`allow if`, `f(x) if`,
        // `a[k] if`) can only be the keyword; `if = 3` or `x = if` use it
        // as a name, which v0 allows.
        let keyword = line.match_indices("if").any(|(i, _)| {
            let is_ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
            let whole = !line[..i].chars().next_back().is_some_and(is_ident)
                && !line[i + 2..].chars().next().is_some_and(is_ident);
            let prev = line[..i].trim_end().chars().next_back();
            whole && prev.is_some_and(|c| is_ident(c) || matches!(c, ')' | ']' | '}'))
        });
        if keyword {
            return Err(Error::Compile {
                path: module.path.clone(),
                message: format!(
                    "line {}: rego_parse_error: var cannot be used for rule name (hint: `import future.keywords.if` for `p if {{ ... }}` rules)",
                    n + 1
                ),
            });
        }
    }
    Ok(())
}

/// Checks a pack's modules, each on its own and then together (recursion,
/// rule/function name clashes: see [`crate::check::recursion`]; rule kinds,
/// defaults and data against rules: see [`crate::check::conflicts`]).
pub(crate) fn check_pack(
    modules: &[Module],
    rego_v1: bool,
    data: &serde_json::Value,
) -> Result<crate::check::recursion::DependencyReport> {
    let mut parsed = Vec::with_capacity(modules.len());
    for m in modules {
        let p = parse_module(m, rego_v1)?;
        check_parsed(m, &p, rego_v1)?;
        parsed.push(p);
    }
    let pairs: Vec<_> = modules.iter().zip(parsed.iter()).collect();
    check_functions_defined(&pairs, rego_v1)?;
    let report = crate::check::recursion::check(&pairs)?;
    crate::check::conflicts::check(&pairs, rego_v1, data)?;
    Ok(report)
}

/// The package of a module as the compiler reads it, as a slash path
/// (`package a.b`, `package a["b"]`, `package` + newline + `a.b` → `a/b`):
/// what decides which pack root a module falls under. Errors when the
/// module does not parse.
pub fn module_package(module: &Module, rego_v1: bool) -> Result<String> {
    let parsed = parse_module(module, rego_v1)?;
    let path = crate::check::conflicts::package_path(&parsed).ok_or_else(|| Error::Compile {
        path: module.path.clone(),
        message: "rego_parse_error: package path is not a reference of names".into(),
    })?;
    Ok(path.join("/"))
}

/// Checks one module; `rego_v1` selects the syntax.
pub fn check_module(module: &Module, rego_v1: bool) -> Result<()> {
    let parsed = parse_module(module, rego_v1)?;
    check_parsed(module, &parsed, rego_v1)
}

fn check_parsed(module: &Module, parsed: &regorus::unstable::Module, rego_v1: bool) -> Result<()> {
    for rule in &parsed.policy {
        let Rule::Spec { head, bodies, .. } = rule.as_ref() else {
            continue;
        };
        if let RuleHead::Func { args, .. } = head {
            for a in args {
                let name = a.span().text();
                if RESERVED.contains(&name) {
                    return Err(compile(
                        module,
                        a.span().line,
                        format!("args must not shadow {name} (use a different variable name)"),
                    ));
                }
            }
        }
        for body in bodies {
            walk_query(module, &body.query)?;
        }
    }
    Calls::new(module, parsed, rego_v1).module(parsed)
}

/// A call to a name that is neither an OPA builtin nor a rule, function or
/// import of the caller's package (in any module of the pack) is refused at
/// load, as OPA's type checker refuses it (`rego_type_error: undefined
/// function time.hour`); regorus failed only when the call was reached.
/// Calls through `data.` are left to the evaluator (another layer may
/// define them).
fn check_functions_defined(
    pairs: &[(&Module, &regorus::unstable::Module)],
    rego_v1: bool,
) -> Result<()> {
    let mut names: std::collections::BTreeMap<Vec<String>, std::collections::BTreeSet<String>> =
        std::collections::BTreeMap::new();
    for (_, parsed) in pairs {
        let Some(pkg) = crate::check::conflicts::package_path(parsed) else {
            continue;
        };
        let set = names.entry(pkg).or_default();
        for rule in &parsed.policy {
            if let Some(StaticRef { root, .. }) = static_ref(rule_ref(rule)) {
                set.insert(root);
            }
        }
    }
    for (module, parsed) in pairs {
        let mut calls = Calls::new(module, parsed, rego_v1);
        if let Some(pkg) = crate::check::conflicts::package_path(parsed)
            && let Some(set) = names.get(&pkg)
        {
            calls.local.extend(set.iter().cloned());
        }
        calls.undefined = true;
        calls.module(parsed)?;
    }
    Ok(())
}

fn rule_ref(rule: &Rule) -> &Expr {
    match rule {
        Rule::Spec { head, .. } => match head {
            RuleHead::Compr { refr, .. }
            | RuleHead::Set { refr, .. }
            | RuleHead::Func { refr, .. } => refr,
        },
        Rule::Default { refr, .. } => refr,
    }
}

/// Builtin arity and the safety of variables under `not`, as OPA's type
/// checker and safety analysis see them (for the forms policies use; see
/// docs/policy-opa-parity.md).
struct Calls<'a> {
    module: &'a Module,
    /// Names a call may resolve to other than a builtin: this module's
    /// rules and functions, and import aliases.
    local: std::collections::BTreeSet<String>,
    /// Refuse calls to names that are not builtins (set when `local` holds
    /// the whole package's names).
    undefined: bool,
    /// v1 syntax: OPA refuses calls to its deprecated builtins.
    rego_v1: bool,
}

/// OPA v1.22.2's deprecated builtins that a module may name (`Deprecated:
/// true` in v1/ast/builtins.go, less the `internal.*` ones): OPA evaluates
/// them in v0 modules and refuses them in v1 modules.
const DEPRECATED: &[&str] = &[
    "all",
    "any",
    "cast_array",
    "cast_boolean",
    "cast_null",
    "cast_object",
    "cast_set",
    "cast_string",
    "net.cidr_overlap",
    "re_match",
    "set_diff",
];

impl<'a> Calls<'a> {
    fn new(module: &'a Module, parsed: &regorus::unstable::Module, rego_v1: bool) -> Self {
        let mut local = std::collections::BTreeSet::new();
        for rule in &parsed.policy {
            if let Some(StaticRef { root, .. }) = static_ref(rule_ref(rule)) {
                local.insert(root);
            }
        }
        for i in &parsed.imports {
            match &i.r#as {
                Some(a) => {
                    local.insert(a.text().to_owned());
                }
                None => {
                    if let Some(StaticRef { root, segs, .. }) = static_ref(&i.refr) {
                        local.insert(segs.last().cloned().unwrap_or(root));
                    }
                }
            }
        }
        Calls {
            module,
            local,
            undefined: false,
            rego_v1,
        }
    }

    fn module(&self, parsed: &regorus::unstable::Module) -> Result<()> {
        for rule in &parsed.policy {
            match rule.as_ref() {
                Rule::Spec { head, bodies, .. } => {
                    match head {
                        RuleHead::Compr { refr, assign, .. } => {
                            self.expr(refr, 0)?;
                            if let Some(a) = assign {
                                self.expr(&a.value, 0)?;
                            }
                        }
                        RuleHead::Set { refr, key, .. } => {
                            self.expr(refr, 0)?;
                            if let Some(k) = key {
                                self.expr(k, 0)?;
                            }
                        }
                        RuleHead::Func { assign, .. } => {
                            if let Some(a) = assign {
                                self.expr(&a.value, 0)?;
                            }
                        }
                    }
                    for b in bodies {
                        if let Some(a) = &b.assign {
                            self.expr(&a.value, 0)?;
                        }
                        self.query(&b.query, 0)?;
                    }
                }
                Rule::Default { value, .. } => self.expr(value, 0)?,
            }
        }
        Ok(())
    }

    fn query(&self, q: &Query, depth: usize) -> Result<()> {
        // `some x` declarations not yet bound by a later statement.
        let mut unbound: Vec<String> = Vec::new();
        for stmt in &q.stmts {
            match &stmt.literal {
                Literal::SomeVars { vars, .. } => {
                    unbound.extend(vars.iter().map(|v| v.text().to_owned()))
                }
                Literal::NotExpr { expr, .. } => {
                    let mut vars = Vec::new();
                    negated_outputs(expr, &mut vars);
                    if let Some((v, line)) = vars
                        .iter()
                        .find(|(v, _)| v == "_" || unbound.iter().any(|u| u == v))
                    {
                        return Err(Error::Compile {
                            path: self.module.path.clone(),
                            message: format!(
                                "line {line}: rego_unsafe_var_error: var {v} is unsafe"
                            ),
                        });
                    }
                    self.statement(expr, depth)?;
                }
                Literal::Expr { expr, .. } => {
                    unbound.retain(|u| !mentions(stmt.span.text(), u));
                    self.statement(expr, depth)?;
                }
                Literal::SomeIn {
                    key,
                    value,
                    collection,
                    ..
                } => {
                    unbound.retain(|u| !mentions(stmt.span.text(), u));
                    for e in key.iter().chain([value, collection]) {
                        self.expr(e, depth + 1)?;
                    }
                }
                Literal::Every { domain, query, .. } => {
                    unbound.retain(|u| !mentions(stmt.span.text(), u));
                    self.expr(domain, depth + 1)?;
                    self.query(query, depth + 1)?;
                }
            }
            for w in &stmt.with_mods {
                self.expr(&w.r#as, depth + 1)?;
            }
        }
        Ok(())
    }

    /// A statement's expression: a call as the whole statement (negated or
    /// not: `not max(xs, m)`) may take an output argument.
    fn statement(&self, expr: &Expr, depth: usize) -> Result<()> {
        if let Expr::Call {
            fcn, params, span, ..
        } = expr
        {
            self.arity(fcn, params.len(), span.line, true)?;
            for p in params {
                self.expr(p, depth + 1)?;
            }
            Ok(())
        } else {
            self.expr(expr, depth + 1)
        }
    }

    fn arity(&self, fcn: &Expr, have: usize, line: u32, statement: bool) -> Result<()> {
        let Some(StaticRef { root, segs, .. }) = static_ref(fcn) else {
            return Ok(());
        };
        let through_data = root == "data";
        if self.local.contains(&root) {
            return Ok(());
        }
        let name = std::iter::once(root)
            .chain(segs)
            .collect::<Vec<_>>()
            .join(".");
        if self.rego_v1 && DEPRECATED.contains(&name.as_str()) {
            return Err(Error::Compile {
                path: self.module.path.clone(),
                message: format!(
                    "line {line}: rego_type_error: deprecated built-in function calls in expression: {name}"
                ),
            });
        }
        let want = match crate::engine::builtins::opa_arity(&name) {
            Some(Some(want)) => want,
            Some(None) => return Ok(()),
            None => {
                if self.undefined && !through_data && !crate::engine::builtins::is_infix(&name) {
                    return Err(Error::Compile {
                        path: self.module.path.clone(),
                        message: format!("line {line}: rego_type_error: undefined function {name}"),
                    });
                }
                return Ok(());
            }
        };
        if have == want || statement && have == want + 1 {
            return Ok(());
        }
        Err(Error::Compile {
            path: self.module.path.clone(),
            message: format!(
                "line {line}: rego_type_error: {name}: arity mismatch (have {have} arguments, want {want})"
            ),
        })
    }

    fn expr(&self, e: &Expr, depth: usize) -> Result<()> {
        // The parser's nesting limit keeps this shallow; stop anyway.
        if depth > 512 {
            return Ok(());
        }
        let d = depth + 1;
        match e {
            Expr::Call {
                fcn, params, span, ..
            } => {
                self.arity(fcn, params.len(), span.line, false)?;
                for p in params {
                    self.expr(p, d)?;
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
                self.expr(term, d)?;
            }
            Expr::ObjectCompr {
                key, value, query, ..
            } => {
                self.query(query, d)?;
                self.expr(key, d)?;
                self.expr(value, d)?;
            }
            Expr::UnaryExpr { expr, .. } => self.expr(expr, d)?,
            Expr::RefDot { refr, .. } => self.expr(refr, d)?,
            Expr::RefBrack { refr, index, .. } => {
                self.expr(refr, d)?;
                self.expr(index, d)?;
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
            _ => {}
        }
        Ok(())
    }
}

/// Whether `text` mentions the identifier `name` (as a whole token).
fn mentions(text: &str, name: &str) -> bool {
    let is_ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    text.match_indices(name).any(|(i, _)| {
        let before = text[..i].chars().next_back();
        let after = text[i + name.len()..].chars().next();
        !before.is_some_and(is_ident) && !after.is_some_and(is_ident)
    })
}

/// Variables a negated expression would have to output: those in the
/// references that are its operands (or the arguments of a call that is
/// the whole expression). OPA refuses a negation that outputs a variable.
fn negated_outputs(e: &Expr, out: &mut Vec<(String, u32)>) {
    match e {
        Expr::Call { params, .. } => params.iter().for_each(|p| ref_vars(p, out)),
        Expr::BinExpr { lhs, rhs, .. }
        | Expr::BoolExpr { lhs, rhs, .. }
        | Expr::AssignExpr { lhs, rhs, .. } => {
            ref_vars(lhs, out);
            ref_vars(rhs, out);
        }
        other => ref_vars(other, out),
    }
}

fn ref_vars(e: &Expr, out: &mut Vec<(String, u32)>) {
    let mut cur = e;
    loop {
        match cur {
            Expr::Var { span, .. } => {
                out.push((span.text().to_owned(), span.line));
                return;
            }
            Expr::RefDot { refr, .. } => cur = refr,
            Expr::RefBrack { refr, index, .. } => {
                if let Expr::Var { span, .. } = index.as_ref() {
                    out.push((span.text().to_owned(), span.line));
                }
                cur = refr;
            }
            _ => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(src: &str) -> Result<()> {
        check_module(
            &Module {
                path: "p.rego".into(),
                source: src.into(),
            },
            true,
        )
    }

    #[test]
    fn shadowing_refused_like_opa() {
        let e = check("package p\n\nf(input) := input + 1\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("line 3: rego_compile_error: args must not shadow input"),
            "{e}"
        );
        // regorus's parser already refuses these ("cannot be shadowed");
        // either way the pack does not load, as in OPA.
        for src in [
            "package p\n\nx if {\n\tinput := 1\n\tinput == 1\n}\n",
            "package p\n\nx if {\n\tevery v in [1] {\n\t\tdata := v\n\t}\n}\n",
        ] {
            let e = check(src).unwrap_err().to_string();
            assert!(e.contains("shadow"), "{src}: {e}");
        }
    }

    #[test]
    fn some_then_assign_refused_like_opa() {
        let e = check("package p\n\nx if {\n\tsome y\n\ty := 1\n\ty == 1\n}\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("line 5: rego_compile_error: var y declared above"),
            "{e}"
        );
        // `some y` then unification (=) is the intended use.
        check("package p\n\nx if {\n\tsome y\n\ty = 1\n}\n").unwrap();
    }

    #[test]
    fn undefined_functions_refused_like_opa() {
        let pack = |srcs: &[&str]| {
            check_pack(
                &crate::test_support::modules(srcs),
                true,
                &serde_json::json!({}),
            )
        };
        // Neither a builtin nor defined: refused even where never reached.
        let e = pack(&["package p\n\nx := time.hour(input.t) if input.flag\n"])
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("line 3: rego_type_error: undefined function time.hour"),
            "{e}"
        );
        let e = pack(&["package p\n\nallow if { not is_admin(input.user) }\n"])
            .unwrap_err()
            .to_string();
        assert!(e.contains("undefined function is_admin"), "{e}");
        // Defined in another module of the package, imported, a builtin, a
        // data path (another layer may define it), an operator: accepted.
        pack(&[
            "package p\n\nimport data.lib\n\nallow if {\n\tis_admin(input.user)\n\tlib.ok(1)\n\tdata.q.f(1)\n\tcount([1]) == 1\n\tprint(1)\n}\n",
            "package p\n\nis_admin(u) if u.admin\n",
            "package lib\n\nok(x) if x == 1\n",
        ])
        .unwrap();
    }

    #[test]
    fn builtin_arity_refused_like_opa() {
        for (src, want) in [
            (
                "x := count([1], 1)",
                "line 3: rego_type_error: count: arity mismatch (have 2 arguments, want 1)",
            ),
            (
                "x := count()",
                "count: arity mismatch (have 0 arguments, want 1)",
            ),
            ("x := concat(\",\")", "concat: arity mismatch"),
            (
                "x if {\n\ty := [upper(\"a\", \"b\")]\n\ty[0] == \"A\"\n}",
                "line 4: rego_type_error: upper: arity mismatch",
            ),
            (
                "x if time.parse_rfc3339_ns() > 0",
                "time.parse_rfc3339_ns: arity mismatch",
            ),
        ] {
            let e = check(&format!("package p\n\n{src}\n"))
                .unwrap_err()
                .to_string();
            assert!(e.contains(want), "{src}: {e}");
        }
        // A whole statement may name an output argument; print is variadic;
        // a package's own function may take any arity.
        check("package p\n\nx if {\n\tcount([1], n)\n\tn == 1\n\tprint(1, 2, 3)\n}\n").unwrap();
        // ... negated too, comparing with a bound value (OPA's suite: `not
        // max(xs, data.a[3])`).
        check("package p\n\nx if {\n\tm := input.m\n\tnot max([1, 2], m)\n}\n").unwrap();
        check("package p\n\ncount(a, b) := a + b\n\nx := count(1, 2)\n").unwrap();
    }

    #[test]
    fn deprecated_builtins_refused_in_v1_only() {
        let e = check("package p\n\nx := any([true])\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains(
                "line 3: rego_type_error: deprecated built-in function calls in expression: any"
            ),
            "{e}"
        );
        let e = check("package p\n\nx if re_match(\"a\", \"a\")\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("re_match"), "{e}");
        let v0 = Module {
            path: "p.rego".into(),
            source: "package p\n\nx = cast_array({1}) { true }\n".into(),
        };
        check_module(&v0, false).unwrap();
    }

    #[test]
    fn unsafe_vars_under_not_refused_like_opa() {
        for (src, var) in [
            ("x if not input.a[_] == 1", "_"),
            ("x if not input.a[_]", "_"),
            ("x if not startswith(input.a[_], \"x\")", "_"),
            ("x if {\n\tsome i\n\tnot input.a[i]\n}", "i"),
            ("x if not _ == 1", "_"),
        ] {
            let e = check(&format!("package p\n\n{src}\n"))
                .unwrap_err()
                .to_string();
            assert!(
                e.contains(&format!("rego_unsafe_var_error: var {var} is unsafe")),
                "{src}: {e}"
            );
        }
        // Accepted by OPA 1.22.2: a nested call, a bound variable.
        for src in [
            "x if not count(input.a[_]) == 1",
            "x if {\n\tsome i\n\tinput.b[i]\n\tnot input.a[i]\n}",
            "x if {\n\tsome r in input.roles\n\tnot data.banned[r]\n}",
        ] {
            check(&format!("package p\n\n{src}\n")).unwrap();
        }
    }

    #[test]
    fn package_paths_as_the_compiler_reads_them() {
        for (src, want) in [
            ("package acme.authz\n", "acme/authz"),
            ("package\tacme.authz\n\nallow if true\n", "acme/authz"),
            ("package acme[\"authz\"]\n", "acme/authz"),
            ("package\nacme.authz\n", "acme/authz"),
            ("# package other\npackage acme.authz\n", "acme/authz"),
            // `data.acme` is the package `data.data.acme`, in OPA too.
            ("package data.acme\n", "data/acme"),
        ] {
            let m = Module {
                path: "m.rego".into(),
                source: src.into(),
            };
            assert_eq!(module_package(&m, true).unwrap(), want, "{src:?}");
        }
        let m = Module {
            path: "m.rego".into(),
            source: "import rego.v1\n".into(),
        };
        assert!(module_package(&m, true).is_err());
    }

    #[test]
    fn null_characters_refused_like_opa() {
        for src in [
            "package evil\0\n\nx := 1\n",
            "package p\n\nx := \"a\0b\"\n",
            "package p\n\n# a\0b\nx := 1\n",
        ] {
            let e = check(src).unwrap_err().to_string();
            assert!(
                e.contains("rego_parse_error: illegal null character"),
                "{e}"
            );
        }
        assert!(
            check("package p\n\n# a\0b\nx := 1\n")
                .unwrap_err()
                .to_string()
                .contains("line 3:")
        );
    }

    #[test]
    fn v0_if_needs_its_import() {
        let m = |src: &str| Module {
            path: "p.rego".into(),
            source: src.into(),
        };
        let e = check_module(&m("package p\n\nallow if { true }\n"), false)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("line 3: rego_parse_error: var cannot be used for rule name"),
            "{e}"
        );
        for ok in [
            "package p\n\nimport future.keywords.if\n\nallow if { true }\n",
            "package p\n\nimport future.keywords\n\nallow if { true }\n",
            "package p\n\n# if only in a comment\nallow { \"if\" != \"\" }\n",
            "package p\n\nallow { contains(\"verify\", \"if\") }\n",
            "package p\n\nif = 2\n\nx = if\n",
        ] {
            check_module(&m(ok), false).unwrap();
        }
    }

    #[test]
    fn ordinary_policies_pass() {
        check("package p\n\nf(x) := x + 1\n\nx if {\n\ty := input.a\n\ty == data.b\n\tsome input_copy in [1]\n}\n").unwrap();
    }
}
