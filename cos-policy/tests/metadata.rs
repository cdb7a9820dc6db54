//! `rego.metadata.chain()` and `rego.metadata.rule()` (vendored regorus
//! patch 32): the same answer on both evaluation paths (the VM gate sends
//! their callers to the interpreter), a malformed `# METADATA` block is a
//! typed load error naming the file and line, and no comment text panics,
//! hangs or grows without bound. OPA's answers for the field shapes and
//! scopes are pinned by the conformance topic `metadata`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

use std::time::{Duration, Instant};

use cos_policy::{EngineOptions, Error, Limits, Pack, PolicyEngine};
use proptest::prelude::*;
use serde_json::json;

/// A result as a JSON value (numbers beyond 64 bits read back as the
/// nearest float), for comparisons with `json!`.
fn js(o: Option<cos_policy::Output>) -> Option<serde_json::Value> {
    o.map(|o| serde_json::from_str(&o.to_json_string().unwrap()).unwrap())
}

/// Loads `source` as `p.rego` and evaluates `query` on both paths.
fn load_and_eval(source: &str, query: &str) -> Result<Vec<Option<serde_json::Value>>, Error> {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("manifest.yaml"),
        "name: t\nversion: 1.0.0\nroots: [t]\nentrypoints: {d: t/allow}\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("p.rego"), source).unwrap();
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
        out.push(e.evaluate(query, &json!({"action": "read"})).map(js)?);
    }
    Ok(out)
}

const POLICY: &str = r#"# METADATA
# title: Tenant policies
package t

# METADATA
# title: Readers
# custom:
#   action: read
allow if input.action == rego.metadata.rule().custom.action

# An entrypoint the VM could run reads a rule that calls the builtin.
# METADATA
# title: Decision
decision := {"allow": allow, "why": rego.metadata.chain()[0].annotations.title}
"#;

#[test]
fn both_paths_answer_for_the_rule_holding_the_call() {
    let got = load_and_eval(POLICY, "data.t.allow").unwrap();
    assert_eq!(got, vec![Some(json!(true)), Some(json!(true))]);
    let got = load_and_eval(POLICY, "data.t.decision").unwrap();
    let want = Some(json!({"allow": true, "why": "Decision"}));
    assert_eq!(got, vec![want.clone(), want]);
}

#[test]
fn malformed_block_is_a_parse_error_with_the_line() {
    let src = "package t\n\n# METADATA\n# title: [unclosed\nallow := true\n";
    match load_and_eval(src, "data.t.allow") {
        Err(Error::Compile { path, message }) => {
            assert_eq!(path, "p.rego");
            assert!(message.contains("rego_parse_error"), "{message}");
            assert!(message.contains("p.rego:3:"), "{message}");
        }
        other => panic!("not refused: {other:?}"),
    }
}

#[test]
fn redeclared_document_annotation_is_a_type_error() {
    let src = "# METADATA\n# title: a\npackage t\n\n# METADATA\n# scope: document\n# title: x\nallow := true\n\n# METADATA\n# scope: document\n# title: y\nallow := true\n";
    match load_and_eval(src, "data.t.allow") {
        Err(Error::Compile { message, .. }) => {
            assert!(
                message.contains("document annotation redeclared"),
                "{message}"
            );
        }
        other => panic!("not refused: {other:?}"),
    }
}

#[test]
fn deep_yaml_is_refused_quickly() {
    let start = Instant::now();
    let src = format!(
        "package t\n\n# METADATA\n# custom:\n#   x: {}\nallow := rego.metadata.rule()\n",
        "[".repeat(200_000)
    );
    match load_and_eval(&src, "data.t.allow") {
        Err(Error::Compile { message, .. }) => assert!(message.contains("depth"), "{message}"),
        other => panic!("not refused: {other:?}"),
    }
    assert!(start.elapsed() < Duration::from_secs(5));
}

#[test]
fn large_block_within_the_module_limits_loads() {
    let mut src = String::from("package t\n\n# METADATA\n# custom:\n");
    for i in 0..10_000 {
        src.push_str(&format!("#   k{i}: {i}\n"));
    }
    src.push_str("allow := count(rego.metadata.rule().custom)\n");
    let start = Instant::now();
    let got = load_and_eval(&src, "data.t.allow").unwrap();
    assert_eq!(got, vec![Some(json!(10_000)), Some(json!(10_000))]);
    assert!(start.elapsed() < Duration::from_secs(20));
}

#[test]
fn many_calls_variables_and_comprehensions_load_in_bounded_time() {
    let mut src = String::from("package t\n\n# METADATA\n# title: t\nallow := true\n\n");
    for i in 0..3_000 {
        src.push_str(&format!(
            "# METADATA\n# title: t{i}\nr{i} := v if {{ m := rego.metadata.rule(); v := [x | m := {{\"s\": {i}}}; x := m.s]; m.title }}\n"
        ));
    }
    let start = Instant::now();
    let got = load_and_eval(&src, "data.t.r2999").unwrap();
    assert_eq!(got, vec![Some(json!([2999])), Some(json!([2999]))]);
    assert!(
        start.elapsed() < Duration::from_secs(30),
        "{:?}",
        start.elapsed()
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// Any text in a METADATA block (and any comment around it) loads or is
    /// refused with a compile error; it never panics.
    #[test]
    fn any_comment_text_loads_or_is_refused(lines in proptest::collection::vec("[ -~\u{80}-\u{10ffff}\t]{0,40}", 0..8), col1 in any::<bool>()) {
        let mut src = String::from("package t\n\n");
        src.push_str(if col1 { "# METADATA\n" } else { " # METADATA\n" });
        for l in &lines {
            src.push('#');
            src.push_str(l);
            src.push('\n');
        }
        src.push_str("allow := rego.metadata.chain()\n");
        match load_and_eval(&src, "data.t.allow") {
            Ok(v) => prop_assert_eq!(&v[0], &v[1]),
            Err(Error::Compile { .. }) => {}
            Err(e) => prop_assert!(false, "unexpected error {e:?}"),
        }
    }
}
