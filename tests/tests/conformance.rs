//! The Rego conformance corpora (`tests/conformance/cases/*.json` and
//! `tests/conformance/topics/cases/*.json`): every case
//! carries the answer of the real OPA engine (written by
//! `tests/conformance/regenerate.py`), and cos must give the same one.
//!
//! Cases where regorus is known to differ from OPA are listed in
//! `tests/conformance/divergences.json` with the reason; for those the test
//! asserts that they *still* differ, so that a fix (ours or upstream) is
//! noticed and the case moves back to the agreeing set.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test harness"
)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use cos_policy::{EngineOptions, Limits, Pack, PolicyEngine};
use serde::Deserialize;
use serde_json::Value;

#[derive(Deserialize)]
struct CaseFile {
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    name: String,
    modules: BTreeMap<String, String>,
    #[serde(default)]
    data: Option<Value>,
    #[serde(default)]
    input: Option<Value>,
    query: String,
    #[serde(default = "one")]
    rego_version: u8,
    want: Option<Want>,
}

fn one() -> u8 {
    1
}

#[derive(Deserialize, Debug)]
#[serde(untagged)]
enum Want {
    Result { result: Value },
    Undefined { undefined: bool },
    Error { error: String },
}

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("conformance")
}

/// What cos answered.
enum Got {
    Result(Value),
    Undefined,
    Error(String),
}

/// Runs a case with the register VM on (the default) or off (the
/// interpreter alone).
fn run_case(case: &Case, vm: bool) -> Got {
    let dir = tempfile::tempdir().unwrap();
    let manifest =
        serde_json::json!({"revision": "conformance", "rego_version": case.rego_version});
    std::fs::write(dir.path().join(".manifest"), manifest.to_string()).unwrap();
    for (name, src) in &case.modules {
        let p = dir.path().join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, src).unwrap();
    }
    if let Some(data) = &case.data {
        std::fs::write(dir.path().join("data.json"), data.to_string()).unwrap();
    }
    let pack = match Pack::load(dir.path(), &Limits::default()) {
        Ok(p) => p,
        Err(e) => return Got::Error(e.to_string()),
    };
    let options = EngineOptions {
        vm,
        ..EngineOptions::default()
    };
    let engine = match PolicyEngine::new(&pack, options) {
        Ok(e) => e,
        Err(e) => return Got::Error(e.to_string()),
    };
    let result = engine
        .evaluate(&case.query, case.input.as_ref())
        .and_then(|o| o.map(|o| o.to_json_string()).transpose());
    match result {
        Ok(Some(text)) => match serde_json::from_str(&text) {
            Ok(v) => Got::Result(v),
            Err(e) => Got::Error(e.to_string()),
        },
        Ok(None) => Got::Undefined,
        Err(e) => Got::Error(e.to_string()),
    }
}

/// JSON equality with numbers compared by value (OPA prints `1.0` where
/// regorus may print `1`).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_f64(), y.as_f64()) {
            (Some(x), Some(y)) => x == y,
            _ => x == y,
        },
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

fn describe(want: &Want) -> String {
    match want {
        Want::Result { result } => format!("result {result}"),
        Want::Undefined { .. } => "undefined".into(),
        Want::Error { error } => format!("error {error:?}"),
    }
}

fn describe_got(got: &Got) -> String {
    match got {
        Got::Result(v) => format!("result {v}"),
        Got::Undefined => "undefined".into(),
        Got::Error(e) => format!("error {e:?}"),
    }
}

fn agrees(want: &Want, got: &Got) -> bool {
    match (want, got) {
        (Want::Result { result }, Got::Result(v)) => same(result, v),
        (Want::Undefined { undefined }, Got::Undefined) => *undefined,
        (Want::Error { .. }, Got::Error(_)) => true,
        _ => false,
    }
}

#[test]
fn cos_agrees_with_opa_on_the_corpus() {
    // Two corpora: cases/ (corpus.py) and topics/cases/ (one file per topic),
    // each with its own divergences.json.
    let mut files: Vec<PathBuf> = Vec::new();
    let mut divergences: BTreeMap<String, String> = BTreeMap::new();
    for root in [corpus_dir(), corpus_dir().join("topics")] {
        let dir = root.join("cases");
        let found = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("conformance corpus missing at {}: {e}", dir.display()))
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"));
        files.extend(found);
        let listed: BTreeMap<String, String> =
            serde_json::from_slice(&std::fs::read(root.join("divergences.json")).unwrap()).unwrap();
        for (name, reason) in listed {
            assert!(
                divergences.insert(name.clone(), reason).is_none(),
                "{name} listed twice"
            );
        }
    }
    files.sort();

    let (mut total, mut agreed) = (0, 0);
    let mut failures = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for f in &files {
        let cf: CaseFile = serde_json::from_slice(&std::fs::read(f).unwrap())
            .unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        for case in cf.cases {
            assert!(
                seen.insert(case.name.clone()),
                "case name {} appears twice",
                case.name
            );
            let want = case.want.as_ref().unwrap_or_else(|| {
                panic!(
                    "{} has no `want`: run tests/conformance/regenerate.py",
                    case.name
                )
            });
            total += 1;
            if std::env::var_os("COS_CONFORMANCE_TRACE").is_some() {
                eprintln!("case {}", case.name);
            }
            // Both evaluation paths must give OPA's answer.
            let got = run_case(&case, true);
            let got_interp = run_case(&case, false);
            if agrees(want, &got) != agrees(want, &got_interp) {
                failures.push(format!(
                    "{}: the register VM and the interpreter differ: VM {}, interpreter {}, OPA {}",
                    case.name,
                    describe_got(&got),
                    describe_got(&got_interp),
                    describe(want)
                ));
                continue;
            }
            let ok = agrees(want, &got);
            match (ok, divergences.get(&case.name)) {
                (true, None) => agreed += 1,
                (false, Some(_)) => {}
                (true, Some(reason)) => failures.push(format!(
                    "{}: listed as a divergence ({reason}) but now agrees with OPA: remove it from divergences.json",
                    case.name
                )),
                (false, None) => failures.push(format!(
                    "{}: OPA {}, cos {}",
                    case.name,
                    describe(want),
                    describe_got(&got)
                )),
            }
        }
    }
    for name in divergences.keys() {
        if !seen.contains(name) {
            failures.push(format!(
                "divergences.json names {name}, which is not in the corpus"
            ));
        }
    }
    assert!(
        total >= 200,
        "the corpus has {total} cases; at least 200 are required"
    );
    assert!(
        failures.is_empty(),
        "{} of {total} cases disagree with OPA ({agreed} agree, {} known divergences):\n{}",
        failures.len(),
        divergences.len(),
        failures.join("\n")
    );
    eprintln!(
        "conformance: {agreed} of {total} cases agree with OPA; {} known divergences",
        divergences.len()
    );
}
