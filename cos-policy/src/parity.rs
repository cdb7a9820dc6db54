//! Load-time checks for policies that OPA rejects but regorus accepts, so
//! that a pack which loads in cos also loads in OPA.
//!
//! Checked so far (each pinned by a test against the real OPA in
//! `tests/interop/test_opa_bundles.py`):
//! - `input` or `data` as a function argument
//!   (`args must not shadow input`);
//! - `input` or `data` assigned with `:=` in a rule body or `every` body
//!   (`variables must not shadow input`); regorus's parser already refuses
//!   most of these ("cannot be shadowed"), this is the backstop;
//! - `some x` followed by `x := …` in the same body (`var x declared above`).
//!
//! - recursive rules and functions, and a name used both for a rule and a
//!   function, across the pack's modules ([`crate::recursion`]).
//!
//! Not yet checked (see docs/policy-builtins.md and the issue tracker):
//! unsafe `_` under `not`, builtin arity mismatches, and assignments inside
//! comprehensions.

use regorus::unstable::{AssignOp, Expr, Literal, Parser, Query, Rule, RuleHead, Source};

use crate::error::{Error, Result};
use crate::pack::Module;

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
    check_nesting(module)?;
    let source =
        Source::from_contents(module.path.clone(), module.source.clone()).map_err(|e| err(&e))?;
    let mut parser = Parser::new(&source).map_err(|e| err(&e))?;
    if rego_v1 {
        parser.enable_rego_v1().map_err(|e| err(&e))?;
    }
    parser.parse().map_err(|e| err(&e))
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
    let code = crate::builtins::code_only(&module.source);
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

/// Checks a pack's modules, each on its own and then together (recursion,
/// rule/function name clashes: see [`crate::recursion`]).
pub(crate) fn check_pack(
    modules: &[Module],
    rego_v1: bool,
) -> Result<crate::recursion::DependencyReport> {
    let mut parsed = Vec::with_capacity(modules.len());
    for m in modules {
        let p = parse_module(m, rego_v1)?;
        check_parsed(m, &p)?;
        parsed.push(p);
    }
    let pairs: Vec<_> = modules.iter().zip(parsed.iter()).collect();
    crate::recursion::check(&pairs)
}

/// Checks one module; `rego_v1` selects the syntax.
pub fn check_module(module: &Module, rego_v1: bool) -> Result<()> {
    let parsed = parse_module(module, rego_v1)?;
    check_parsed(module, &parsed)
}

fn check_parsed(module: &Module, parsed: &regorus::unstable::Module) -> Result<()> {
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
    Ok(())
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
    fn ordinary_policies_pass() {
        check("package p\n\nf(x) := x + 1\n\nx if {\n\ty := input.a\n\ty == data.b\n\tsome input_copy in [1]\n}\n").unwrap();
    }
}
