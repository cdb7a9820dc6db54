//! OPA's compile-time conflict checks across a pack's modules and its data
//! (OPA `ast/compile.go` `checkRuleConflicts`, `ast/conflicts.go`
//! `CheckPathConflicts`): what OPA refuses when a bundle is activated or
//! a policy or data document is written through its REST API.
//!
//! - **Data against rules** (`rego_compile_error: conflicting rule for data
//!   path a/b found`): a rule's path (its package and the ground prefix of
//!   its head) holds a value in the data, or a prefix of that path holds a
//!   value that is not an object. Without it a data file mounted over a
//!   rule, or a `PUT /v1/data/good {"allow": false}`, would replace the
//!   rule's answer.
//! - **Multiple `default` rules** for one path (`rego_type_error: multiple
//!   default rules data.p.allow found`), in one module or several: without
//!   it a second module's `default allow := true` turns deny-by-default
//!   into allow.
//! - **Rule kinds** (`rego_type_error: conflicting rules data.p.f found`):
//!   complete and partial rules at one path, functions of different
//!   arities, a rule and a function (also in [`crate::check::recursion`]).
//! - **Extents** (`rego_type_error: rule data.p.q conflicts with: rule
//!   data.p.q.r at m.rego:5`): a rule whose head is ground with another rule inside
//!   the document it defines; and a package that is also a rule's path.
//!
//! Each message is OPA's, pinned by conformance cases judged by the real OPA
//! (`tests/conformance/cases/conflicts.yaml`) and by cos-pdp's REST tests.

use std::collections::BTreeMap;

use regorus::unstable::{Rule, RuleHead};

use crate::bundle::pack::Module;
use crate::check::recursion::{StaticRef, static_ref};
use crate::error::{Error, Result};

/// Segments after `data`.
type Path = Vec<String>;

/// What one rule contributes to the rule tree node of its ground prefix.
struct Entry<'a> {
    module: &'a Module,
    line: u32,
    /// The whole head reference is ground (no variable index).
    ground: bool,
    /// `default …`.
    default: bool,
    /// A complete (single-value, ground) rule, as opposed to a partial one.
    complete: bool,
    /// A multi-value rule (`p contains x`; in Rego v0 also `p[x] { … }`).
    multi: bool,
    /// Function arity (`None` for rules).
    arity: Option<usize>,
}

/// The package's path after `data` (`package data.a` is `data.data.a`, in
/// OPA and regorus alike).
pub(crate) fn package_path(m: &regorus::unstable::Module) -> Option<Path> {
    static_ref(&m.package.refr).map(StaticRef::into_path)
}

fn show(p: &[String]) -> String {
    crate::check::recursion::show(p)
}

fn slash(p: &[String]) -> String {
    p.join("/")
}

fn type_error(module: &Module, line: u32, message: String) -> Error {
    Error::Compile {
        path: module.path.clone(),
        message: format!("line {line}: rego_type_error: {message}"),
    }
}

/// Node path → the rules at it.
type RuleTree<'a> = BTreeMap<Path, Vec<Entry<'a>>>;

/// Each module's package path and the line of its `package`.
type Packages<'a> = Vec<(&'a Module, Path, u32)>;

/// The rule tree of a pack, and its packages.
fn rule_tree<'a>(
    parsed: &[(&'a Module, &regorus::unstable::Module)],
    rego_v1: bool,
) -> (RuleTree<'a>, Packages<'a>) {
    let mut tree: RuleTree<'a> = BTreeMap::new();
    let mut packages = Vec::new();
    for (module, m) in parsed {
        let Some(pkg) = package_path(m) else { continue };
        packages.push((*module, pkg.clone(), m.package.span.line));
        for rule in &m.policy {
            let line = rule.span().line;
            let (refr, default, complete_if_ground, arity) = match rule.as_ref() {
                Rule::Default { refr, args, .. } => {
                    (refr, true, true, (!args.is_empty()).then_some(args.len()))
                }
                Rule::Spec { head, .. } => match head {
                    RuleHead::Compr { refr, .. } => (refr, false, true, None),
                    // `a.b if …` (no key) is complete; `p contains x` and
                    // `p[x]` are partial.
                    RuleHead::Set { refr, key, .. } => (refr, false, key.is_none(), None),
                    RuleHead::Func { refr, args, .. } => (refr, false, true, Some(args.len())),
                },
            };
            // The rule tree node of a rule is its head's ground prefix.
            let Some(head) = static_ref(refr) else {
                continue;
            };
            let ground = head.ground;
            // regorus reads `p contains x` and `p[x]` (no value) alike, as a
            // set head on `p`. For OPA the first is a multi-value rule on
            // `p`; in Rego v1 the second is `p[x] = true`, a single-value
            // rule whose head is not ground (in v0, a partial set).
            let (keyed, multi) = match rule.as_ref() {
                Rule::Spec {
                    head:
                        RuleHead::Set {
                            key: Some(_), span, ..
                        },
                    ..
                } => {
                    let contains = span.text().split_whitespace().any(|w| w == "contains");
                    (true, contains || !rego_v1)
                }
                _ => (false, false),
            };
            let mut path = pkg.clone();
            path.extend(head.into_path());
            tree.entry(path).or_default().push(Entry {
                module,
                line,
                ground: ground && (!keyed || multi),
                default,
                complete: complete_if_ground && ground && arity.is_none(),
                multi,
                arity,
            });
        }
    }
    (tree, packages)
}

/// Checks a pack's parsed modules against each other and against its data
/// (the merged data document), with OPA's messages.
pub(crate) fn check(
    parsed: &[(&Module, &regorus::unstable::Module)],
    rego_v1: bool,
    data: &serde_json::Value,
) -> Result<()> {
    let (tree, packages) = rule_tree(parsed, rego_v1);
    for (path, rules) in &tree {
        let Some(first) = rules.first() else { continue };
        // Ground rules may not have other rules inside their extent, nor
        // may functions sit inside a rule's dynamic extent: one walk of
        // the rules below `path` finds both (with a ground rule at `path`,
        // every rule below conflicts, functions among them).
        let ground = rules.iter().any(|r| r.ground);
        let kind = if ground { "rule" } else { "function" };
        let inside: String = tree
            .range(path.clone()..)
            .skip(1)
            .take_while(|(p, _)| p.starts_with(path))
            .flat_map(|(p, rs)| {
                rs.iter()
                    .filter(move |r| ground || r.arity.is_some())
                    .map(move |r| format!("\n  {kind} {} at {}:{}", show(p), r.module.path, r.line))
            })
            .collect();
        if !inside.is_empty() {
            return Err(type_error(
                first.module,
                first.line,
                format!("rule {} conflicts with:{inside}", show(path)),
            ));
        }
        let complete = rules.iter().filter(|r| r.complete).count();
        let partial = rules
            .iter()
            .filter(|r| !r.complete && r.arity.is_none())
            .count();
        let functions = rules.iter().filter(|r| r.arity.is_some()).count();
        let mut arities: Vec<usize> = rules.iter().filter_map(|r| r.arity).collect();
        arities.sort_unstable();
        arities.dedup();
        let multi = rules.iter().filter(|r| r.multi).count();
        // `p contains x` (a set) beside `p[k] contains v` (an object of sets).
        let set_and_object =
            rules.iter().any(|r| r.multi && r.ground) && rules.iter().any(|r| r.multi && !r.ground);
        if (complete > 0 && partial > 0)
            || (functions > 0 && functions < rules.len())
            || (multi > 0 && multi < rules.len())
            || set_and_object
            || arities.len() > 1
        {
            return Err(type_error(
                first.module,
                first.line,
                format!("conflicting rules {} found", show(path)),
            ));
        }
        let defaults: Vec<&Entry<'_>> = rules.iter().filter(|r| r.default).collect();
        if let [d, rest @ ..] = defaults.as_slice()
            && !rest.is_empty()
        {
            let at: Vec<String> = defaults
                .iter()
                .map(|r| format!("{}:{}", r.module.path, r.line))
                .collect();
            return Err(type_error(
                d.module,
                d.line,
                format!(
                    "multiple default rules {} found at {}",
                    show(path),
                    at.join(", ")
                ),
            ));
        }
    }
    // A package may not be the path of a ground rule in another package.
    // (Reported, as OPA does, at the package line of the rule's module.)
    for (module, pkg, _) in &packages {
        let Some(rules) = tree.get(pkg) else { continue };
        let Some(r) = rules
            .iter()
            .find(|r| r.ground && r.module.path != module.path)
        else {
            continue;
        };
        let Some((_, rule_pkg, rule_pkg_line)) =
            packages.iter().find(|(m, _, _)| m.path == r.module.path)
        else {
            continue;
        };
        return Err(type_error(
            r.module,
            *rule_pkg_line,
            format!(
                "package {} conflicts with rule {} defined at {}:{}",
                pkg.join("."),
                pkg.get(rule_pkg.len()..).unwrap_or_default().join("."),
                r.module.path,
                r.line
            ),
        ));
    }
    for (path, rules) in &tree {
        if data_exists(data, path) {
            let first = &rules[0];
            return Err(Error::Compile {
                path: first.module.path.clone(),
                message: format!(
                    "line {}: rego_compile_error: conflicting rule for data path {} found",
                    first.line,
                    slash(path)
                ),
            });
        }
    }
    Ok(())
}

/// OPA's `storage.NonEmpty`: the data holds a value at `path`, or a prefix
/// of it holds a value that is not an object.
pub(crate) fn data_exists(data: &serde_json::Value, path: &[String]) -> bool {
    let mut node = data;
    for (i, seg) in path.iter().enumerate() {
        match node {
            serde_json::Value::Object(m) => match m.get(seg) {
                Some(next) => node = next,
                None => return false,
            },
            // A scalar or array at a proper prefix (not the root).
            _ => return i > 0,
        }
    }
    !path.is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(srcs: &[&str], data: serde_json::Value) -> Result<()> {
        crate::test_support::with_parsed(srcs, |pairs| check(pairs, true, &data))
    }

    fn err(srcs: &[&str], data: serde_json::Value) -> String {
        run(srcs, data).unwrap_err().to_string()
    }

    const GOOD: &str =
        "package good\n\ndefault allow := false\n\nallow if input.user == \"alice\"\n";

    #[test]
    fn data_over_a_rule_is_refused() {
        for data in [
            json!({"good": {"allow": false}}),
            json!({"good": {"allow": {"x": 1}}}),
            json!({"good": 5}),
            json!({"good": [1]}),
        ] {
            let e = err(&[GOOD], data.clone());
            assert!(
                e.contains("rego_compile_error: conflicting rule for data path good/allow found"),
                "{data}: {e}"
            );
        }
        // Beside the rule, or an object above it: fine.
        run(&[GOOD], json!({"good": {"other": 1}, "x": 2})).unwrap();
        run(&[GOOD], json!({})).unwrap();
        // Under a partial object's ground prefix.
        let e = err(
            &["package p\n\nobj[k] := 1 if some k in input.ks\n"],
            json!({"p": {"obj": {}}}),
        );
        assert!(e.contains("data path p/obj found"), "{e}");
    }

    #[test]
    fn data_exists_as_opa_reads_it() {
        let d = json!({"a": {"b": 1, "o": {}}, "s": "x"});
        let p = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert!(data_exists(&d, &p(&["a", "b"])));
        assert!(data_exists(&d, &p(&["a", "o"])));
        assert!(data_exists(&d, &p(&["a", "b", "c"])));
        assert!(data_exists(&d, &p(&["s", "t"])));
        assert!(!data_exists(&d, &p(&["a", "o", "c"])));
        assert!(!data_exists(&d, &p(&["z"])));
        assert!(!data_exists(&d, &[]));
    }

    #[test]
    fn second_default_is_refused() {
        let e = err(
            &[
                "package p\n\ndefault allow := false\n\nallow if input.x\n",
                "package p\n\ndefault allow := true\n",
            ],
            json!({}),
        );
        assert!(
            e.contains(
                "rego_type_error: multiple default rules data.p.allow found at m0.rego:3, m1.rego:3"
            ),
            "{e}"
        );
    }

    #[test]
    fn rule_kinds_conflict() {
        for srcs in [
            &["package p\n\nr := 1\n\nr contains 2\n"][..],
            &["package p\n\nf(x) := x\n\nf(x, y) := x\n"],
            &["package p\n\nf(x) := x\n", "package p\n\nf := 1\n"],
            &["package p\n\nr := 1\n\nr[k] := 2 if some k in input.ks\n"],
            &["package p\n\nb contains 1 if input.x\n\nb[k] := 2 if some k in input.ks\n"],
            &["package p\n\nb[k] if some k in input.ks\n\nb contains 1 if input.x\n"],
        ] {
            let e = err(srcs, json!({}));
            assert!(e.contains("conflicting rules data.p."), "{srcs:?}: {e}");
        }
        let e = err(&["package p\n\nq := {}\n\nq.r := 1\n"], json!({}));
        assert!(
            e.contains("line 3: rego_type_error: rule data.p.q conflicts with:\n  rule data.p.q.r at m0.rego:5"),
            "{e}"
        );
        let e = err(
            &[
                "package p\n\nq[k] := 1 if some k in input.ks\n",
                "package p.q\n\nf(x) := x\n",
            ],
            json!({}),
        );
        assert!(
            e.contains("rule data.p.q conflicts with:\n  function data.p.q.f at m1.rego:3"),
            "{e}"
        );
        let e = err(&["package p\n\nq := 1\n", "package p.q\n"], json!({}));
        assert!(
            e.contains("m0.rego: line 1: rego_type_error: package p.q conflicts with rule q defined at m0.rego:3"),
            "{e}"
        );
    }

    #[test]
    fn ordinary_rules_pass() {
        run(
            &[
                "package p\n\ndefault allow := false\n\nallow if input.a\n\nallow if input.b\n\n\
                 deny contains \"x\" if input.c\n\ndeny contains \"y\" if input.d\n\n\
                 f(x) := 1 if x\n\nf(x) := 2 if not x\n\nobj[k] := 1 if some k in input.ks\n\n\
                 a.b if true\n\na.c := 1\n\nr := 1 if input.a\n\nelse := 2\n",
                "package q\n\nx := data.p.allow\n",
            ],
            json!({"p": {"other": 1}, "q2": {"x": 1}}),
        )
        .unwrap();
        // A dynamic extent may hold other rules.
        run(
            &["package p\n\nq[r] := 1 if some r in input.rs\n\nq.s.t := 2\n"],
            json!({}),
        )
        .unwrap();
    }
}
