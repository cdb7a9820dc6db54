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
//! Not yet checked (see docs/policy-builtins.md and the issue tracker):
//! unsafe `_` under `not`, builtin arity mismatches, and assignments inside
//! comprehensions (recursion is already refused by regorus, as by OPA).

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
    let source =
        Source::from_contents(module.path.clone(), module.source.clone()).map_err(|e| err(&e))?;
    let mut parser = Parser::new(&source).map_err(|e| err(&e))?;
    if rego_v1 {
        parser.enable_rego_v1().map_err(|e| err(&e))?;
    }
    parser.parse().map_err(|e| err(&e))
}

/// Checks one module; `rego_v1` selects the syntax.
pub fn check_module(module: &Module, rego_v1: bool) -> Result<()> {
    let parsed = parse_module(module, rego_v1)?;
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
