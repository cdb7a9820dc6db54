//! The REST overlay and the store's accounting (issue 20): decisions with
//! policies or data written through the API are answered by the pack and
//! the writes together, which the store does not count. So a pack that asks
//! for automatic rollback refuses writes (400 `invalid_parameter`, as OPA
//! refuses writes under a bundle's roots), a pack that asks for it is
//! refused while writes are in place (`/health?plugins`, `/metrics`), and
//! `/healthz` says when decisions are not counted on the pack.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a failure should panic with context"
)]

mod common;

use std::sync::{Arc, Mutex};

use common::{Mode, agent, get, pack_server, pdp, post, wait_until};
use cos_policy::distribution::publish::PublishedPack;
use serde_json::{Value, json};

/// A pack `demo` of `version` whose manifest asks for `rollback` (a YAML
/// flow mapping), or for nothing.
fn pack(version: &str, rollback: Option<&str>) -> PublishedPack {
    let dir = tempfile::tempdir().unwrap();
    let rollback = rollback.map_or(String::new(), |r| format!("rollback: {r}\n"));
    std::fs::write(
        dir.path().join("manifest.yaml"),
        format!("name: demo\nversion: {version}\nrevision: r-{version}\nroots: [demo]\n{rollback}"),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("policy.rego"),
        format!("package demo\nimport rego.v1\nallow if input.user == \"alice\"\nversion := \"{version}\"\n"),
    )
    .unwrap();
    let archive = cos_policy::Pack::load(dir.path(), &Default::default())
        .unwrap()
        .build_bundle()
        .unwrap();
    PublishedPack::new("demo.tar.gz", archive, None)
}

const AUTOMATIC: &str = "{strategy: automatic, max_error_rate: 0.5}";

fn send(a: &ureq::Agent, method: &str, url: &str, body: &str) -> (u16, Value) {
    let mut r = match method {
        "PUT" => a.put(url).send(body.as_bytes()).unwrap(),
        "DELETE" => a.delete(url).call().unwrap(),
        other => panic!("{other}"),
    };
    let status = r.status().as_u16();
    let text = r.body_mut().read_to_string().unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

fn healthz(a: &ureq::Agent, base: &str) -> Value {
    serde_json::from_str(&get(a, &format!("{base}/healthz")).1).unwrap()
}

fn version(a: &ureq::Agent, base: &str) -> Value {
    post(
        a,
        &format!("{base}/v1/data/demo/version"),
        &json!({"input": {}}),
    )
    .1["result"]
        .clone()
}

const MODULE: &str = "package extra\nimport rego.v1\nhello := \"world\"\n";

#[test]
fn a_pack_with_automatic_rollback_refuses_writes_and_keeps_counting() {
    let mode = Arc::new(Mutex::new(Mode::Serve(pack("1.0.0", Some(AUTOMATIC)))));
    let base = pack_server(Arc::clone(&mode));
    let server = pdp(&[
        "--pack-url",
        &format!("{base}/demo.tar.gz"),
        "--poll-interval",
        "0.05",
        "--writes",
        "on",
    ]);
    let a = agent();
    wait_until("the pack", || version(&a, &server.base) == json!("1.0.0"));

    // Writes outside the pack's roots, which a pack without automatic
    // rollback takes, are refused in OPA's shape, saying why.
    for (method, path, body) in [
        ("PUT", "/v1/policies/extra", MODULE),
        ("PUT", "/v1/data/other", "{\"x\": 1}"),
    ] {
        let (status, answer) = send(&a, method, &format!("{}{path}", server.base), body);
        assert_eq!(status, 400, "{method} {path}: {answer}");
        assert_eq!(answer["code"], "invalid_parameter", "{answer}");
        let message = answer["message"].as_str().unwrap();
        assert!(
            message.contains("demo@1.0.0") && message.contains("automatic rollback"),
            "{message}"
        );
    }
    // Nothing was written: decisions are still the pack's, and counted.
    let health = healthz(&a, &server.base);
    assert_eq!(health["overlay"], Value::Null, "{health}");
    let before = health["pack"]["stats"]["decisions"].as_u64().unwrap();
    for _ in 0..5 {
        version(&a, &server.base);
    }
    let health = healthz(&a, &server.base);
    assert_eq!(
        health["pack"]["stats"]["decisions"].as_u64().unwrap(),
        before + 5,
        "{health}"
    );
    let (status, answer) = get(&a, &format!("{}/v1/data/extra/hello", server.base));
    let answer: Value = serde_json::from_str(&answer).unwrap();
    assert_eq!((status, answer), (200, json!({})), "undefined: not written");
}

#[test]
fn with_writes_in_place_a_pack_asking_for_automatic_rollback_is_refused_visibly() {
    let mode = Arc::new(Mutex::new(Mode::Serve(pack("1.0.0", None))));
    let base = pack_server(Arc::clone(&mode));
    let server = pdp(&[
        "--pack-url",
        &format!("{base}/demo.tar.gz"),
        "--poll-interval",
        "0.05",
        "--writes",
        "on",
    ]);
    let a = agent();
    wait_until("the pack", || version(&a, &server.base) == json!("1.0.0"));

    // A pack without automatic rollback takes writes outside its roots;
    // `/healthz` says decisions are no longer counted on the pack.
    let (status, answer) = send(
        &a,
        "PUT",
        &format!("{}/v1/policies/extra", server.base),
        MODULE,
    );
    assert_eq!(status, 200, "{answer}");
    let health = healthz(&a, &server.base);
    assert_eq!(
        health["overlay"],
        json!({"policies": ["extra"], "data": false, "pack_accounting": false}),
        "{health}"
    );
    let before = health["pack"]["stats"]["decisions"].as_u64().unwrap();
    assert_eq!(version(&a, &server.base), json!("1.0.0"));
    let health = healthz(&a, &server.base);
    assert_eq!(
        health["pack"]["stats"]["decisions"].as_u64().unwrap(),
        before,
        "not counted on the pack, as /healthz says: {health}"
    );

    // The next revision asks for automatic rollback: refused, visibly, and
    // the pack before it keeps deciding with the writes.
    *mode.lock().unwrap() = Mode::Serve(pack("1.1.0", Some(AUTOMATIC)));
    let plugins = |a: &ureq::Agent| get(a, &format!("{}/health?plugins", server.base));
    wait_until("the refusal in /health?plugins", || plugins(&a).0 == 500);
    let (_, body) = plugins(&a);
    let body: Value = serde_json::from_str(&body).unwrap();
    let reason = body["bundle"].as_str().unwrap();
    assert!(
        reason.contains("demo@1.1.0")
            && reason.contains("automatic rollback")
            && reason.contains("\"extra\""),
        "{body}"
    );
    let metrics = get(&a, &format!("{}/metrics", server.base)).1;
    assert!(
        metrics.contains("cos_pdp_pack_fetch_failures_total{code=\"unsupported\"} 1"),
        "{metrics}"
    );
    assert_eq!(version(&a, &server.base), json!("1.0.0"));
    let (status, answer) = get(&a, &format!("{}/v1/data/extra/hello", server.base));
    let answer: Value = serde_json::from_str(&answer).unwrap();
    assert_eq!((status, answer), (200, json!({"result": "world"})));

    // Without the writes, the next revision that asks for it activates.
    let (status, answer) = send(
        &a,
        "DELETE",
        &format!("{}/v1/policies/extra", server.base),
        "",
    );
    assert_eq!(status, 200, "{answer}");
    assert_eq!(healthz(&a, &server.base)["overlay"], Value::Null);
    *mode.lock().unwrap() = Mode::Serve(pack("1.2.0", Some(AUTOMATIC)));
    wait_until("the next revision", || {
        version(&a, &server.base) == json!("1.2.0")
    });
    wait_until("the bundle plugin OK", || plugins(&a).0 == 200);
}
