//! cos-pdp end to end (loopback, bounded): decisions with their log entries
//! and metrics, and the fault tests of issue 5: under steady load 50 pack
//! swaps fail no request; a pack server answering 500, timing out, or
//! serving truncated, tampered or wrongly signed packs leaves the last good
//! pack deciding, with the failure visible in `/health` and `/metrics`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a failure should panic with context"
)]

use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cos_core::{KeyAlgorithm, PrivateKey, sigstore};
use cos_policy::distribution::publish::PublishedPack;
use serde_json::{Value, json};

mod common;
use common::{Mode, agent, get, pack_server, pdp, post, wait_until};

fn archive(version: &str, allowed: &str) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("manifest.yaml"),
        format!("name: demo\nversion: {version}\nrevision: r-{version}\nroots: [demo]\n"),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("policy.rego"),
        format!("package demo\nimport rego.v1\nallow if input.user == \"{allowed}\"\nversion := \"{version}\"\n"),
    )
    .unwrap();
    cos_policy::Pack::load(dir.path(), &Default::default())
        .unwrap()
        .build_bundle()
        .unwrap()
}

#[test]
fn decides_logs_and_reports_metrics() {
    let dir = tempfile::tempdir().unwrap();
    let key = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let pack = dir.path().join("demo.tar.gz");
    let bytes = archive("1.0.0", "alice");
    std::fs::write(&pack, &bytes).unwrap();
    std::fs::write(
        dir.path().join("demo.tar.gz.sigstore.json"),
        sigstore::sign_blob(&bytes, &key).unwrap(),
    )
    .unwrap();
    std::fs::write(dir.path().join("k.pub"), key.public_key().to_pem()).unwrap();
    let log = dir.path().join("decisions.jsonl");
    let server = pdp(&[
        "--pack",
        pack.to_str().unwrap(),
        "--public-key",
        dir.path().join("k.pub").to_str().unwrap(),
        "--decision-log",
        log.to_str().unwrap(),
    ]);
    let a = agent();
    let (status, body) = post(
        &a,
        &format!("{}/v1/data/demo/allow", server.base),
        &json!({"input": {"user": "alice"}}),
    );
    assert_eq!((status, &body["result"]), (200, &json!(true)));
    let id = body["decision_id"].as_str().unwrap().to_owned();
    let (_, body) = post(
        &a,
        &format!("{}/v1/data/demo/nothing", server.base),
        &json!({"input": {}}),
    );
    assert!(body.get("result").is_none(), "undefined: {body}");

    let events: Vec<Value> = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(events.len(), 2);
    assert_eq!(events[0]["decision_id"], id);
    assert_eq!(events[0]["path"], "demo/allow");
    assert_eq!(events[0]["input"], json!({"user": "alice"}));
    assert_eq!(events[0]["result"], true);
    assert_eq!(events[0]["bundles"]["demo"]["revision"], "r-1.0.0");

    let (status, text) = get(&a, &format!("{}/metrics", server.base));
    assert_eq!(status, 200);
    for needle in [
        "http_request_duration_seconds_count{code=\"200\",handler=\"v1/data\",method=\"POST\"} 2",
        "cos_pdp_decisions_total{outcome=\"defined\"} 1",
        "cos_pdp_decisions_total{outcome=\"undefined\"} 1",
        "cos_pdp_pack_info{name=\"demo\",version=\"1.0.0\",revision=\"r-1.0.0\"",
        "cos_pdp_ready 1",
    ] {
        assert!(text.contains(needle), "{needle} not in\n{text}");
    }
    assert_eq!(get(&a, &format!("{}/healthz", server.base)).0, 200);
    assert_eq!(get(&a, &format!("{}/livez", server.base)).0, 200);
    assert_eq!(
        get(&a, &format!("{}/health?bundles&plugins", server.base)).0,
        200
    );
}

/// The Data API answers alike whether the body goes straight into the
/// engine's values (no decision log) or through JSON trees (a decision log
/// needs them): same status and bytes, `decision_id` aside.
#[test]
fn data_api_answers_alike_with_and_without_a_decision_log() {
    let dir = tempfile::tempdir().unwrap();
    let pack = dir.path().join("demo.tar.gz");
    std::fs::write(&pack, archive("1.0.0", "alice")).unwrap();
    let log = dir.path().join("decisions.jsonl");
    let plain = pdp(&["--pack", pack.to_str().unwrap()]);
    let logged = pdp(&[
        "--pack",
        pack.to_str().unwrap(),
        "--decision-log",
        log.to_str().unwrap(),
    ]);
    let a = agent();
    let send = |base: &str, path: &str, body: &[u8]| {
        let mut r = a.post(format!("{base}{path}")).send(body).unwrap();
        let status = r.status().as_u16();
        let text = r.body_mut().read_to_string().unwrap();
        let mut v: Value = serde_json::from_str(&text).unwrap();
        if let Some(o) = v.as_object_mut() {
            o.remove("decision_id");
        }
        // Compare bytes of what is left, keys in the server's order.
        (
            status,
            serde_json::to_string(&v).unwrap(),
            text.contains('\n'),
        )
    };
    let bodies: [&[u8]; 14] = [
        br#"{"input": {"user": "alice"}}"#,
        br#"{"input": {"user": "bob"}}"#,
        br#"{"input": null}"#,
        br#"{"input": {"user": "alice"}, "other": [1, 2]}"#,
        br#"{"other": 1}"#,
        br#"{}"#,
        b"  \n ",
        br#"{"input": {"user": "bob"}, "input": {"user": "alice"}}"#,
        br#"[1, 2]"#,
        br#""input""#,
        br#"{"input": {"user": "alice""#,
        br#"{"input": {"n": 1e400}}"#,
        br#"{"input": {"big": 123456789012345678901234567890, "f": 0.1, "neg": -7}}"#,
        br#"{"input": {"user": "al\u0069ce", "emoji": "\ud83d\ude00"}}"#,
    ];
    for path in [
        "/v1/data/demo/allow",
        "/v1/data/demo",
        "/v1/data/demo/nothing",
        "/v1/data/demo?pretty=true&provenance=true",
        "/v1/data/demo/allow?metrics=false",
    ] {
        for body in bodies {
            let fast = send(&plain.base, path, body);
            let slow = send(&logged.base, path, body);
            assert_eq!(fast, slow, "{path} {}", String::from_utf8_lossy(body));
        }
    }
    // The fast path decides: alice's input (written with an escape) is allowed.
    let (_, text, _) = send(
        &plain.base,
        "/v1/data/demo/allow",
        br#"{"input": {"user": "al\u0069ce"}}"#,
    );
    assert_eq!(text, r#"{"result":true}"#);
    let (_, text, _) = send(&plain.base, "/v1/data/demo/allow", br#"{"other": 1}"#);
    assert!(text.contains("api_usage_warning"), "{text}");
    // A number cos would round is refused, on both paths and in a GET's
    // input parameter, where OPA decides on its exact text.
    for base in [&plain.base, &logged.base] {
        let (status, text, _) = send(
            base,
            "/v1/data/demo/allow",
            br#"{"input": {"id": 12345678901234567890123}}"#,
        );
        assert_eq!(status, 400, "{text}");
        assert!(
            text.contains("invalid_parameter") && text.contains("as a string"),
            "{text}"
        );
        let mut r = a
            .get(format!(
                "{base}/v1/data/demo/allow?input=%7B%22id%22%3A0.1234567890123456789%7D"
            ))
            .call()
            .unwrap();
        assert_eq!(
            r.status().as_u16(),
            400,
            "{}",
            r.body_mut().read_to_string().unwrap()
        );
    }
}

#[test]
fn an_unsigned_pack_is_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let key = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    std::fs::write(dir.path().join("demo.tar.gz"), archive("1.0.0", "alice")).unwrap();
    std::fs::write(dir.path().join("k.pub"), key.public_key().to_pem()).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_cos-pdp"))
        .args(["--listen", "127.0.0.1:0", "--pack"])
        .arg(dir.path().join("demo.tar.gz"))
        .arg("--public-key")
        .arg(dir.path().join("k.pub"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no Sigstore bundle"));
}

#[test]
fn a_malformed_duration_is_a_usage_error() {
    let out = Command::new(env!("CARGO_BIN_EXE_cos-pdp"))
        .args(["--listen", "127.0.0.1:0", "--poll-interval", "10x"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("invalid duration") && err.contains("units"),
        "{err}"
    );
}

/// The pack of `archive` under another name.
fn renamed(archive: &[u8], name: &str) -> Vec<u8> {
    let pack = cos_policy::Pack::from_bytes(archive, &Default::default()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    for m in pack.modules() {
        std::fs::write(dir.path().join(&m.path), &m.source).unwrap();
    }
    let manifest = pack.manifest();
    std::fs::write(
        dir.path().join("manifest.yaml"),
        format!(
            "name: {name}\nversion: {}\nroots: [demo]\n",
            manifest.version
        ),
    )
    .unwrap();
    cos_policy::Pack::load(dir.path(), &Default::default())
        .unwrap()
        .build_bundle()
        .unwrap()
}

fn signed(version: &str, allowed: &str, key: &PrivateKey) -> PublishedPack {
    let a = archive(version, allowed);
    let b = sigstore::sign_blob(&a, key).unwrap();
    PublishedPack::new("demo.tar.gz", a, Some(b))
}

#[test]
fn faults_leave_the_last_good_pack_and_swaps_fail_no_request() {
    let dir = tempfile::tempdir().unwrap();
    let key = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let other = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    std::fs::write(dir.path().join("k.pub"), key.public_key().to_pem()).unwrap();
    let mode = Arc::new(Mutex::new(Mode::Serve(signed("1.0.0", "alice", &key))));
    let base = pack_server(Arc::clone(&mode));
    let server = pdp(&[
        "--pack-url",
        &format!("{base}/demo.tar.gz"),
        // Durations with units and bare seconds both work.
        "--poll-interval",
        "50ms",
        "--fetch-timeout",
        "0.5",
        "--public-key",
        dir.path().join("k.pub").to_str().unwrap(),
        "--state-dir",
        dir.path().join("state").to_str().unwrap(),
    ]);
    let a = agent();
    let version = |a: &ureq::Agent| {
        post(
            a,
            &format!("{}/v1/data/demo/version", server.base),
            &json!({"input": {}}),
        )
        .1["result"]
            .clone()
    };
    wait_until("the first pack", || version(&a) == json!("1.0.0"));

    // Steady load on two threads while the pack changes 50 times.
    let stop = Arc::new(AtomicBool::new(false));
    let (ok, failed) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let load: Vec<_> = (0..2)
        .map(|_| {
            let (stop, ok, failed, url) = (
                Arc::clone(&stop),
                Arc::clone(&ok),
                Arc::clone(&failed),
                server.base.clone(),
            );
            std::thread::spawn(move || {
                let a = agent();
                while !stop.load(Ordering::Relaxed) {
                    let (status, body) = post(
                        &a,
                        &format!("{url}/v1/data/demo/allow"),
                        &json!({"input": {"user": "alice"}}),
                    );
                    if status == 200 && body.get("result").is_some() {
                        ok.fetch_add(1, Ordering::Relaxed);
                    } else {
                        failed.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    for minor in 1..=50 {
        let v = format!("1.{minor}.0");
        *mode.lock().unwrap() = Mode::Serve(signed(&v, "alice", &key));
        wait_until(&format!("version {v}"), || version(&a) == json!(v));
    }
    stop.store(true, Ordering::Relaxed);
    for t in load {
        t.join().unwrap();
    }
    assert_eq!(
        failed.load(Ordering::Relaxed),
        0,
        "failed requests during 50 swaps"
    );
    assert!(ok.load(Ordering::Relaxed) > 50);

    // Each fault: the last good pack keeps deciding; the failure shows.
    let failures = |a: &ureq::Agent| get(a, &format!("{}/metrics", server.base)).1;
    let faults: Vec<(&str, Mode, &str)> = vec![
        ("500", Mode::Fail500, "code=\"http_status\""),
        ("timeout", Mode::Hang, "code=\"transport\""),
        (
            "truncated",
            Mode::Truncate(signed("2.0.0", "bob", &key)),
            "code=\"transport\"",
        ),
        (
            "tampered",
            Mode::Serve({
                let good = signed("2.0.0", "bob", &key);
                let mut bytes = good.archive().to_vec();
                let n = bytes.len() - 1;
                bytes[n] ^= 1;
                PublishedPack::new(
                    "demo.tar.gz",
                    bytes,
                    good.sigstore_bundle().map(|b| b.to_vec()),
                )
            }),
            "code=\"bundle_verification_failed\"",
        ),
        (
            "wrongly signed",
            Mode::Serve(signed("2.0.0", "bob", &other)),
            "code=\"bundle_verification_failed\"",
        ),
        // Issue 26: another pack signed by the same key, and the active
        // version again with other content, do not replace the pack.
        (
            "another pack, same key",
            Mode::Serve({
                let a = renamed(&archive("9.0.0", "bob"), "dev-sandbox");
                let b = sigstore::sign_blob(&a, &key).unwrap();
                PublishedPack::new("demo.tar.gz", a, Some(b))
            }),
            "code=\"pack_identity\"",
        ),
        (
            "same version, other content",
            Mode::Serve(signed("1.50.0", "bob", &key)),
            "code=\"pack_identity\"",
        ),
    ];
    for (name, m, metric) in faults {
        *mode.lock().unwrap() = m;
        wait_until(&format!("{name} to show in /health and /metrics"), || {
            get(&a, &format!("{}/health?plugins", server.base)).0 == 500
                && failures(&a).contains(metric)
        });
        assert_eq!(
            version(&a),
            json!("1.50.0"),
            "{name}: the last good pack decides"
        );
        let (_, health) = get(&a, &format!("{}/healthz", server.base));
        assert!(health.contains("download_error"), "{health}");
        // Back to good before the next fault.
        *mode.lock().unwrap() = Mode::Serve(signed("1.50.0", "alice", &key));
        wait_until("recovery", || {
            get(&a, &format!("{}/health?plugins", server.base)).0 == 200
        });
    }
}

/// A pack of version `version` (allowing alice) that carries `test` as its
/// tests, built with them (`cos pack build --with-tests`).
fn archive_with_test(version: &str, test: &str) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("manifest.yaml"),
        format!(
            "name: demo\nversion: {version}\nrevision: r-{version}\nroots: [demo, demo_test]\n"
        ),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("policy.rego"),
        format!("package demo\nimport rego.v1\nallow if input.user == \"alice\"\nversion := \"{version}\"\n"),
    )
    .unwrap();
    std::fs::create_dir(dir.path().join("tests")).unwrap();
    std::fs::write(dir.path().join("tests/policy_test.rego"), test).unwrap();
    cos_policy::Pack::load(dir.path(), &Default::default())
        .unwrap()
        .build_bundle_with_tests()
        .unwrap()
}

const TEST_ALICE: &str = "package demo_test\nimport rego.v1\nimport data.demo\n\
    test_alice if demo.allow with input as {\"user\": \"alice\"}\n";

/// A test that would run for hours (10^10 iterations of the evaluator's
/// own loop, building nothing large) but for its time limit.
const TEST_ENDLESS: &str = "package demo_test\nimport rego.v1\n\
    test_endless if {\n\
    \tn := count([1 | some x in numbers.range(1, 100000); some y in numbers.range(1, 100000)])\n\
    \tn > 0\n}\n";

/// Issue 18: a candidate whose test runs out of `--test-timeout-ms` is
/// refused, the refusal stays in `/health?plugins`, `/healthz` and
/// `/metrics` while the server keeps offering it, the last good pack keeps
/// deciding, and a newer revision activates.
#[test]
fn a_candidate_whose_test_times_out_is_refused_visibly_and_newer_ones_activate() {
    let unsigned = |version: &str, test: &str| {
        PublishedPack::new("demo.tar.gz", archive_with_test(version, test), None)
    };
    let mode = Arc::new(Mutex::new(Mode::Serve(unsigned("1.0.0", TEST_ALICE))));
    let base = pack_server(Arc::clone(&mode));
    let server = pdp(&[
        "--pack-url",
        &format!("{base}/demo.tar.gz"),
        "--poll-interval",
        "0.05",
        "--test-timeout-ms",
        "200",
        // Decisions may take far longer: tests have their own limit.
        "--timeout-ms",
        "600000",
    ]);
    let a = agent();
    let version = |a: &ureq::Agent| {
        post(
            a,
            &format!("{}/v1/data/demo/version", server.base),
            &json!({"input": {}}),
        )
        .1["result"]
            .clone()
    };
    let metrics = |a: &ureq::Agent| get(a, &format!("{}/metrics", server.base)).1;
    let plugins = |a: &ureq::Agent| get(a, &format!("{}/health?plugins", server.base));
    wait_until("the first pack", || version(&a) == json!("1.0.0"));
    assert_eq!(plugins(&a).0, 200);
    let text = metrics(&a);
    assert!(text.contains("cos_pdp_pack_refusals 0"), "{text}");

    *mode.lock().unwrap() = Mode::Serve(unsigned("1.1.0", TEST_ENDLESS));
    let refused = "cos_pdp_pack_fetch_failures_total{code=\"candidate_tests_failed\"} 1";
    wait_until("the refusal in /metrics", || metrics(&a).contains(refused));
    let text = metrics(&a);
    assert!(text.contains("cos_pdp_pack_refusals 1"), "{text}");
    assert!(
        text.contains("cos_pdp_pack_info{name=\"demo\",version=\"1.0.0\""),
        "{text}"
    );

    // The refusal stays visible over many polls of the same pack (each a
    // 304), and the candidate is not run again; the last good pack decides.
    let timed_out = "data.demo_test.test_endless (evaluation of data.demo_test.test_endless \
        exceeded its time limit of 200 ms)";
    for round in 0..10 {
        let (status, body) = plugins(&a);
        assert_eq!(status, 500, "round {round}: {body}");
        let body: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(body["error"], "not all plugins in OK state", "{body}");
        let reason = body["bundle"].as_str().unwrap_or_default();
        assert!(reason.contains(timed_out), "round {round}: {body}");
        let (status, healthz) = get(&a, &format!("{}/healthz", server.base));
        assert_eq!(status, 200, "a pack decides: {healthz}");
        let healthz: Value = serde_json::from_str(&healthz).unwrap();
        for reason in [&healthz["last_error"]["detail"], &healthz["download_error"]] {
            let reason = reason.as_str().unwrap_or_default();
            assert!(reason.contains(timed_out), "{healthz}");
        }
        assert_eq!(version(&a), json!("1.0.0"), "round {round}");
        let text = metrics(&a);
        assert!(text.contains(refused), "round {round}: run again?\n{text}");
        assert!(text.contains("cos_pdp_pack_refusals 1"), "{text}");
        std::thread::sleep(Duration::from_millis(60));
    }

    // A newer good revision activates, and the bundle plugin is OK again.
    *mode.lock().unwrap() = Mode::Serve(unsigned("1.2.0", TEST_ALICE));
    wait_until("the next revision", || version(&a) == json!("1.2.0"));
    wait_until("the bundle plugin OK", || plugins(&a).0 == 200);
    let text = metrics(&a);
    assert!(text.contains("cos_pdp_pack_activations 2"), "{text}");
    assert!(text.contains("cos_pdp_pack_refusals 1"), "{text}");
}
