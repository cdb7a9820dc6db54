//! Policies nested or chained without bound are refused with a parse error
//! naming the line, not a stack overflow; at the bound they load and
//! evaluate on a 2 MiB stack (tokio's worker default) in a debug build; and
//! parse time is linear in nesting (issues 18 and 26).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

use std::time::{Duration, Instant};

use cos_policy::{EngineOptions, Error, Limits, Pack, PolicyEngine};
use serde_json::json;

/// A result as a JSON value (numbers beyond 64 bits read back as the
/// nearest float), for comparisons with `json!`.
fn js(o: Option<cos_policy::Output>) -> Option<serde_json::Value> {
    o.map(|o| serde_json::from_str(&o.to_json_string().unwrap()).unwrap())
}

/// Loads `x := <expr>` and evaluates `data.t.x` (VM and interpreter) on a
/// thread with a 2 MiB stack.
fn load_and_eval(expr: String) -> Result<Vec<Option<serde_json::Value>>, Error> {
    std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(move || {
            let dir = tempfile::tempdir().unwrap();
            std::fs::write(
                dir.path().join("manifest.yaml"),
                "name: t\nversion: 1.0.0\nroots: [t]\nentrypoints: {d: t/x}\n",
            )
            .unwrap();
            std::fs::write(
                dir.path().join("p.rego"),
                format!("package t\n\nx := {expr}\n"),
            )
            .unwrap();
            let pack = Pack::load(dir.path(), &Limits::default()).unwrap();
            let mut out = vec![];
            for vm in [true, false] {
                let e = PolicyEngine::new(
                    &pack,
                    EngineOptions {
                        vm,
                        ..EngineOptions::default()
                    },
                )?;
                out.push(e.evaluate("data.t.x", &json!({"a": {"a": 1}})).map(js)?);
            }
            Ok(out)
        })
        .unwrap()
        .join()
        .unwrap()
}

fn refused(expr: String) {
    let start = Instant::now();
    match load_and_eval(expr) {
        Err(Error::Compile { message, .. }) => {
            assert!(message.contains("rego_parse_error"), "{message}");
            assert!(message.contains("p.rego:3:"), "{message}");
        }
        other => panic!("not refused: {other:?}"),
    }
    assert!(start.elapsed() < Duration::from_secs(5));
}

const BOUND: usize = regorus::unstable::MAX_NESTING;

#[test]
fn unary_minus_is_bounded() {
    refused(format!("{}1", "-".repeat(BOUND * 10)));
    // At the bound (the rule's value is one level) it parses and evaluates,
    // to the error two minus signs give ("unary - can only be used with
    // numeric literals").
    match load_and_eval(format!("{}1", "-".repeat(BOUND - 2))) {
        Err(Error::Evaluation { message, .. }) => assert!(message.contains("unary -"), "{message}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn parentheses_are_bounded() {
    refused(format!(
        "{}1{}",
        "(".repeat(BOUND * 10),
        ")".repeat(BOUND * 10)
    ));
    // regorus's own limit on parenthesised expressions (32) comes first.
    let n = 30;
    let got = load_and_eval(format!("{}1{}", "(".repeat(n), ")".repeat(n))).unwrap();
    assert_eq!(got, [Some(json!(1)), Some(json!(1))]);
}

#[test]
fn brackets_and_calls_are_bounded() {
    refused(format!(
        "{}1{}",
        "abs(".repeat(BOUND * 10),
        ")".repeat(BOUND * 10)
    ));
    let n = BOUND - 2;
    let got = load_and_eval(format!("{}-1{}", "abs(".repeat(n), ")".repeat(n))).unwrap();
    assert_eq!(got, [Some(json!(1)), Some(json!(1))]);
}

#[test]
fn comprehensions_are_bounded() {
    // `[x | x := [x | x := … 1 …][0]][0]`: 16 levels (the collection limit).
    let mut e = "1".to_owned();
    for _ in 0..16 {
        e = format!("[y | y := {e}][0]");
    }
    let got = load_and_eval(e).unwrap();
    assert_eq!(got, [Some(json!(1)), Some(json!(1))]);
}

#[test]
fn chains_are_bounded() {
    refused(vec!["1"; BOUND * 10].join(" + "));
    refused(format!("input{}", ".a".repeat(BOUND * 10)));
    let got = load_and_eval(vec!["1"; BOUND].join(" + ")).unwrap();
    assert_eq!(got, [Some(json!(BOUND)), Some(json!(BOUND))]);
    // Evaluated (to undefined: input.a.a is a number).
    let got = load_and_eval(format!("input{}", ".a".repeat(BOUND))).unwrap();
    assert_eq!(got, [None, None]);
}

#[test]
fn nested_collections_parse_in_linear_time() {
    // Issue 26: 16 levels of `[(`: 5.5 s before (each level parsed twice).
    let open = "[(".repeat(16);
    let close = ")]".repeat(16);
    let start = Instant::now();
    let got = load_and_eval(format!("{open}1{close}")).unwrap();
    let mut want = json!(1);
    for _ in 0..16 {
        want = json!([want]);
    }
    assert_eq!(got, [Some(want.clone()), Some(want)]);
    let mut obj = "1".to_owned();
    for _ in 0..16 {
        obj = format!("{{\"a\": ({obj})}}");
    }
    assert!(load_and_eval(obj).unwrap()[0].is_some());
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
}

/// The worst case within the limits, for docs/benchmarks.md (not a timing
/// test): a module as large as a policy file may be (1 MiB; 20,000 lines
/// at most), every line at the deepest collection nesting (16 levels of
/// `[(`), compiled once. Run `cargo test --release -p cos-policy --test hostile_parser --
/// --ignored --nocapture worst_case`; `COS_WORST_CASE_OUT=FILE` also
/// writes the module, for `opa check FILE` beside it.
#[test]
#[ignore = "a measurement for docs/benchmarks.md"]
fn worst_case_module_within_the_limits() {
    let open = "[(".repeat(16);
    let close = ")]".repeat(16);
    let mut source = String::from("package worst\n");
    for i in 0..19_998 {
        let line = format!("r{i} := {open}{i}{close}\n");
        if source.len() + line.len() > 1 << 20 {
            break;
        }
        source.push_str(&line);
    }
    if let Ok(out) = std::env::var("COS_WORST_CASE_OUT") {
        std::fs::write(out, &source).unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("manifest.yaml"),
        "name: w\nversion: 1.0.0\nroots: [worst]\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("p.rego"), &source).unwrap();
    let pack = Pack::load(dir.path(), &Limits::default()).unwrap();
    let start = Instant::now();
    let engine = PolicyEngine::new(&pack, EngineOptions::default()).unwrap();
    let took = start.elapsed();
    println!(
        "worst case: {} lines, {} bytes, compiled in {took:?}",
        source.lines().count(),
        source.len()
    );
    assert!(
        engine
            .evaluate("data.worst.r7", &json!({}))
            .map(js)
            .unwrap()
            .is_some()
    );
}
