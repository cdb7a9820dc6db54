//! Builtins whose work or output can be far larger than their arguments
//! end quickly with a typed error under a small time limit (issue 18): the
//! budget of `EngineOptions::time_limit` and `EngineOptions::max_value_bytes`
//! holds inside builtins, on the VM and the interpreter, with and without
//! strict builtin errors, and a refusal is never "undefined".
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

use std::time::{Duration, Instant};

use cos_policy::{EngineOptions, Error, Limits, Pack, PolicyEngine};
use serde_json::json;

fn engine(policy: &str, strict: bool, vm: bool) -> PolicyEngine {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("manifest.yaml"),
        "name: t\nversion: 1.0.0\nroots: [t]\nentrypoints: {d: t/decision}\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("p.rego"), policy).unwrap();
    let pack = Pack::load(dir.path(), &Limits::default()).unwrap();
    PolicyEngine::new(
        &pack,
        EngineOptions {
            strict_builtin_errors: strict,
            time_limit: Some(Duration::from_millis(100)),
            vm,
            ..EngineOptions::default()
        },
    )
    .unwrap()
}

/// How a hostile call may end.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Want {
    /// A refusal for resources: `Timeout` or `ResourceLimit`, in every mode.
    Refused,
    /// OPA's own builtin error: undefined without strict errors, an
    /// evaluation error with them (a refusal is accepted too).
    BuiltinError,
}

/// Evaluates `x := <expr>` as `data.t.x` in all four modes.
fn check(expr: &str, want: Want) {
    check_with(expr, &json!({"s": "a".repeat(1000)}), want);
}

/// Like [`check`], with an input.
fn check_with(expr: &str, input: &serde_json::Value, want: Want) {
    let policy = format!("package t\n\nx := {expr}\n");
    for strict in [false, true] {
        for vm in [true, false] {
            let e = engine(&policy, strict, vm);
            let start = Instant::now();
            let got = e.evaluate("data.t.x", input);
            let took = start.elapsed();
            assert!(
                took < Duration::from_secs(1),
                "{expr} (strict {strict}, vm {vm}) took {took:?}"
            );
            let refused = matches!(
                got,
                Err(Error::Timeout { .. } | Error::ResourceLimit { .. })
            );
            match want {
                Want::Refused => assert!(refused, "{expr} (strict {strict}, vm {vm}): {got:?}"),
                Want::BuiltinError if strict => assert!(
                    refused || matches!(got, Err(Error::Evaluation { .. })),
                    "{expr} (strict, vm {vm}): {got:?}"
                ),
                Want::BuiltinError => assert!(
                    refused || matches!(got, Ok(None)),
                    "{expr} (vm {vm}): {got:?}"
                ),
            }
        }
    }
}

#[test]
fn shifts_are_bounded() {
    check("bits.lsh(1, 100000000)", Want::Refused);
    check("bits.lsh(1, 4294967295)", Want::Refused);
}

#[test]
fn ranges_are_bounded() {
    check("count(numbers.range(1, 1e8))", Want::Refused);
    check("numbers.range(1, 1e12)", Want::Refused);
    check("numbers.range(1e12, 1)", Want::Refused);
    check("numbers.range_step(1, 1e12, 1)", Want::Refused);
    // Step zero is OPA's builtin error (it was a division by zero).
    check("numbers.range_step(1, 10, 0)", Want::BuiltinError);
}

#[test]
fn cidr_expansion_is_bounded() {
    check(r#"net.cidr_expand("::/0")"#, Want::Refused);
    check(r#"net.cidr_expand("0.0.0.0/0")"#, Want::Refused);
    check(r#"count(net.cidr_expand("10.0.0.0/8"))"#, Want::Refused);
}

#[test]
fn sprintf_widths_are_bounded_and_do_not_panic() {
    // Go (so OPA) does not read a width or precision over 1e6: the rest of
    // the format is consumed ("%!(NOVERB)"). Either way: quick, no panic.
    for expr in [
        r#"sprintf("%0999999999d", [1])"#,
        r#"sprintf("%.999999999f", [1.5])"#,
        r#"sprintf("%99999999999999999999999d", [1])"#,
    ] {
        for strict in [false, true] {
            let e = engine(&format!("package t\n\nx := {expr}\n"), strict, true);
            let start = Instant::now();
            let got = e.evaluate("data.t.x", &json!({}));
            assert!(start.elapsed() < Duration::from_secs(1), "{expr}");
            // Go prints "%!(NOVERB)%!(EXTRA int=1)"; regorus reports the
            // extra argument as a builtin error. Quick, and no panic.
            match got {
                Ok(None) if !strict => {}
                Err(Error::Evaluation { .. }) if strict => {}
                Ok(Some(v)) => assert!(v.as_str().unwrap().starts_with("%!(NOVERB)"), "{v}"),
                other => panic!("{expr} (strict {strict}): {other:?}"),
            }
        }
    }
    // A large precision that Go formats: padded with zeros, no panic.
    let e = engine(
        "package t\n\nx := sprintf(\"%.70000f\", [1.5])\n",
        false,
        true,
    );
    let got = e.evaluate("data.t.x", &json!({})).unwrap().unwrap();
    let s = got.as_str().unwrap();
    assert!(s.starts_with("1.5000") && s.len() == 70002, "{}", s.len());
    // Many 1e6-wide verbs together would exceed the value cap.
    let fmt = "%01000000d".repeat(70);
    let args = vec!["1"; 70].join(",");
    check(&format!("sprintf(\"{fmt}\", [{args}])"), Want::Refused);
}

#[test]
fn replacement_growth_is_bounded() {
    // 1000 "a"s, each replaced by the 1000-byte string, five times over.
    let mut expr = "input.s".to_owned();
    for _ in 0..5 {
        expr = format!("replace({expr}, \"a\", input.s)");
    }
    check(&expr, Want::Refused);
    // An empty `old` matches between every character: 1001 x 1000 bytes
    // is under the cap, 100 such strings concatenated by a second replace
    // are not.
    check(
        r#"replace(replace(input.s, "", input.s), "", input.s)"#,
        Want::Refused,
    );
}

#[test]
fn unit_exponents_are_bounded() {
    // OPA: "exponent too large" (a builtin error) at once.
    check(
        r#"units.parse_bytes("10e100000000EiB")"#,
        Want::BuiltinError,
    );
    check(r#"units.parse("10e100000000")"#, Want::BuiltinError);
    // Under OPA's bound but a number of 100,000 digits: refused.
    check(r#"units.parse_bytes("1e100000")"#, Want::Refused);
    check(r#"units.parse("1e100000k")"#, Want::Refused);
}

#[test]
fn deep_documents_are_refused_quickly() {
    let deep_flow = format!("{}1{}", "[".repeat(100_000), "]".repeat(100_000));
    let deep_block = format!("{}1", "- ".repeat(100_000));
    let deep_json = deep_flow.clone();
    for (f, doc) in [
        ("yaml.unmarshal", deep_flow),
        ("yaml.unmarshal", deep_block),
        ("json.unmarshal", deep_json),
    ] {
        check_with(
            &format!("{f}(input.doc)"),
            &json!({"doc": doc}),
            Want::BuiltinError,
        );
    }
}

#[test]
fn huge_regex_patterns_are_refused() {
    let pattern = serde_json::to_string("(a{1000}){1000}").unwrap();
    check(&format!("regex.match({pattern}, input.s)"), Want::Refused);
}

#[test]
fn a_refusal_under_not_is_not_an_allow() {
    let policy = "package t\n\ndefault decision := {\"allow\": false, \"reasons\": []}\n\n\
        decision := {\"allow\": true, \"reasons\": []} if {\n\tnot bits.lsh(1, 100000000) == 0\n}\n\n\
        deny if not numbers.range(1, 1e12)\n";
    for strict in [false, true] {
        for vm in [true, false] {
            let e = engine(policy, strict, vm);
            let got = e.decide("d", &json!({}));
            assert!(
                matches!(
                    got,
                    Err(Error::ResourceLimit { .. } | Error::Timeout { .. })
                ),
                "strict {strict}, vm {vm}: {got:?}"
            );
            let got = e.evaluate("data.t.deny", &json!({}));
            assert!(
                matches!(
                    got,
                    Err(Error::ResourceLimit { .. } | Error::Timeout { .. })
                ),
                "strict {strict}, vm {vm}: {got:?}"
            );
        }
    }
}

#[test]
fn the_cap_is_configurable_and_has_a_stable_code() {
    let policy = "package t\n\nx := count(numbers.range(1, input.n))\n";
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("manifest.yaml"),
        "name: t\nversion: 1.0.0\nroots: [t]\nentrypoints: {d: t/decision}\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("p.rego"), policy).unwrap();
    let pack = Pack::load(dir.path(), &Limits::default()).unwrap();
    let small = EngineOptions {
        max_value_bytes: 100,
        ..EngineOptions::default()
    };
    for vm in [true, false] {
        let e = PolicyEngine::new(&pack, EngineOptions { vm, ..small }).unwrap();
        let err = e.evaluate("data.t.x", &json!({"n": 1000})).unwrap_err();
        assert_eq!(err.code(), "resource_limit", "{err}");
        let e = PolicyEngine::new(
            &pack,
            EngineOptions {
                vm,
                ..EngineOptions::default()
            },
        )
        .unwrap();
        assert_eq!(
            e.evaluate("data.t.x", &json!({"n": 1000})).unwrap(),
            Some(json!(1000))
        );
    }
}
