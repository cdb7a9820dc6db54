//! The pack's own tests gate every activation (issue 26, Found 3): at
//! start-up and on every poll, for a pack directory and for an archive built
//! with its tests, a failing test refuses the pack (exit 2 at start-up,
//! naming the test; `/health?plugins` and `/metrics` on a poll), and the
//! test modules of a pack that passes are never served as policy. A pack
//! with a failing test never decides, by any route.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a failure should panic with context"
)]

use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cos_policy::distribution::publish::PublishedPack;
use serde_json::{Value, json};

mod common;
use common::{Mode, agent, get, pack_server, pdp, post, wait_until};

/// Runs the daemon expecting it to refuse to start: its exit code and
/// standard error (killed, and the test failed, if it is still running
/// after 60 s).
fn refused_start(args: &[&str]) -> (i32, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_cos-pdp"));
    command.args(["--listen", "127.0.0.1:0"]).args(args);
    let run = cos_tests::server::run_bounded(command, Duration::from_secs(60));
    if run.killed {
        panic!("cos-pdp {args:?} started; it should have refused the pack");
    }
    (
        run.output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&run.output.stderr).into_owned(),
    )
}

const PASSING: &str = "package demo.authz_test\nimport rego.v1\nimport data.demo.authz\n\
    test_alice if authz.allow with input as {\"user\": \"alice\"}\n";

/// Fails (carol is not).
const FAILING: &str = "package demo.authz_test\nimport rego.v1\nimport data.demo.authz\n\
    test_carol if authz.allow with input as {\"user\": \"carol\"}\n";

/// Writes a pack of `version` into `dir`: `demo.authz` (allowing alice,
/// saying its version), `system.main` (its version, for `POST /`), and the
/// test module `test` at `tests/<file>` when given. The test package sits
/// under the pack's root, as `acme.authz_test` did in the issue.
fn write_pack(dir: &Path, version: &str, test: Option<(&str, &str)>) {
    std::fs::write(
        dir.join("manifest.yaml"),
        format!("name: demo\nversion: {version}\nrevision: r-{version}\nroots: [demo, system]\n"),
    )
    .unwrap();
    std::fs::create_dir_all(dir.join("authz")).unwrap();
    std::fs::write(
        dir.join("authz/policy.rego"),
        format!(
            "package demo.authz\nimport rego.v1\ndefault allow := false\n\
             allow if input.user == \"alice\"\nversion := \"{version}\"\n"
        ),
    )
    .unwrap();
    std::fs::create_dir_all(dir.join("system")).unwrap();
    std::fs::write(
        dir.join("system/main.rego"),
        "package system\nimport rego.v1\nmain := data.demo.authz.version\n",
    )
    .unwrap();
    if let Some((file, source)) = test {
        std::fs::create_dir_all(dir.join("tests")).unwrap();
        std::fs::write(dir.join("tests").join(file), source).unwrap();
    }
}

/// The archive `cos pack build --with-tests` (and `cos pack serve DIR`)
/// makes of such a pack.
fn archive(version: &str, test: Option<(&str, &str)>) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    write_pack(dir.path(), version, test);
    cos_policy::Pack::load(dir.path(), &Default::default())
        .unwrap()
        .build_bundle_with_tests()
        .unwrap()
}

/// The file names a pack's tests may have: the `_test.rego` OPA's runner
/// looks for, and any other (before the fix the second was a live module).
const TEST_FILES: [&str; 2] = ["authz_test.rego", "checks.rego"];

#[test]
fn a_pack_directory_with_a_failing_test_does_not_start() {
    for file in TEST_FILES {
        let dir = tempfile::tempdir().unwrap();
        write_pack(dir.path(), "1.0.0", Some((file, FAILING)));
        let (code, stderr) = refused_start(&["--pack", dir.path().to_str().unwrap()]);
        assert_eq!(code, 2, "{file}: {stderr}");
        assert!(
            stderr.contains("data.demo.authz_test.test_carol"),
            "{file}: {stderr}"
        );
        assert!(stderr.contains("tests did not pass"), "{file}: {stderr}");
    }
}

/// Runs for hours but for its time limit.
const ENDLESS: &str = "package demo.authz_test\nimport rego.v1\n\
    test_endless if {\n\
    \tn := count([1 | some x in numbers.range(1, 100000); some y in numbers.range(1, 100000)])\n\
    \tn > 0\n}\n";

#[test]
fn a_pack_whose_test_times_out_does_not_start() {
    let dir = tempfile::tempdir().unwrap();
    write_pack(dir.path(), "1.0.0", Some(("checks.rego", ENDLESS)));
    let (code, stderr) = refused_start(&[
        "--pack",
        dir.path().to_str().unwrap(),
        "--test-timeout-ms",
        "200",
    ]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("data.demo.authz_test.test_endless") && stderr.contains("200 ms"),
        "{stderr}"
    );
}

#[test]
fn an_archive_built_with_a_failing_test_does_not_start() {
    for file in TEST_FILES {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("demo.tar.gz");
        std::fs::write(&path, archive("1.0.0", Some((file, FAILING)))).unwrap();
        let (code, stderr) = refused_start(&["--pack", path.to_str().unwrap()]);
        assert_eq!(code, 2, "{file}: {stderr}");
        assert!(
            stderr.contains("data.demo.authz_test.test_carol"),
            "{file}: {stderr}"
        );
    }
}

/// Decides with a pack whose tests pass, from a directory and from an
/// archive, with and without `--require-tests`: its test package is not
/// policy on any route.
#[test]
fn passing_tests_start_and_are_never_served() {
    let dir = tempfile::tempdir().unwrap();
    let pack = dir.path().join("pack");
    std::fs::create_dir(&pack).unwrap();
    write_pack(&pack, "1.0.0", Some(("checks.rego", PASSING)));
    let file = dir.path().join("demo.tar.gz");
    std::fs::write(&file, archive("1.0.0", Some(("checks.rego", PASSING)))).unwrap();
    let a = agent();
    for source in [&pack, &file] {
        for extra in [&[][..], &["--require-tests"][..]] {
            let mut args = vec!["--pack", source.to_str().unwrap()];
            args.extend_from_slice(extra);
            let server = pdp(&args);
            let (status, body) = get(&a, &format!("{}/v1/data/demo", server.base));
            assert_eq!(status, 200, "{body}");
            let body: Value = serde_json::from_str(&body).unwrap();
            assert_eq!(
                body["result"],
                json!({"authz": {"allow": false, "version": "1.0.0"}}),
                "{source:?} {extra:?}: the tests are served"
            );
            let (_, whole) = get(&a, &format!("{}/v1/data", server.base));
            assert!(!whole.contains("authz_test"), "{whole}");
            let (status, body) = post(
                &a,
                &format!("{}/v1/data/demo/authz_test/test_alice", server.base),
                &json!({"input": {}}),
            );
            assert_eq!((status, &body), (200, &json!({})), "undefined");
            let (status, body) = post(
                &a,
                &format!("{}/v0/data/demo/authz_test/test_alice", server.base),
                &json!({}),
            );
            assert_eq!(status, 404, "{body}");
            let (status, body) = post(
                &a,
                &format!("{}/v1/data/demo/authz/allow", server.base),
                &json!({"input": {"user": "alice"}}),
            );
            assert_eq!((status, &body["result"]), (200, &json!(true)));
        }
    }
}

#[test]
fn require_tests_refuses_a_pack_without_tests() {
    let dir = tempfile::tempdir().unwrap();
    let pack = dir.path().join("pack");
    std::fs::create_dir(&pack).unwrap();
    write_pack(&pack, "1.0.0", None);
    let file = dir.path().join("demo.tar.gz");
    std::fs::write(&file, archive("1.0.0", None)).unwrap();
    for source in [&pack, &file] {
        let (code, stderr) =
            refused_start(&["--pack", source.to_str().unwrap(), "--require-tests"]);
        assert_eq!(code, 2, "{stderr}");
        assert!(stderr.contains("carries no tests"), "{stderr}");
        // Without the flag it decides.
        let server = pdp(&["--pack", source.to_str().unwrap()]);
        let (status, _) = get(
            &agent(),
            &format!("{}/v1/data/demo/authz/allow", server.base),
        );
        assert_eq!(status, 200);
    }
}

/// On a poll: a newer revision whose test (in `tests/checks.rego`, which
/// used to be read back as a policy module) fails is refused visibly, and
/// the old revision keeps deciding on every route that decides.
#[test]
fn a_newer_revision_with_a_failing_test_is_refused_on_a_poll() {
    let published = |version: &str, test: &str| {
        PublishedPack::new(
            "demo.tar.gz",
            archive(version, Some(("checks.rego", test))),
            None,
        )
    };
    let current = Arc::new(Mutex::new(Mode::Serve(published("1.0.0", PASSING))));
    let base = pack_server(Arc::clone(&current));
    let server = pdp(&[
        "--pack-url",
        &format!("{base}/demo.tar.gz"),
        "--poll-interval",
        "0.05",
    ]);
    let a = agent();
    // The revision each deciding route answers with.
    let routes = |a: &ureq::Agent| -> Vec<Value> {
        let b = &server.base;
        vec![
            post(
                a,
                &format!("{b}/v1/data/demo/authz/version"),
                &json!({"input": {}}),
            )
            .1["result"]
                .clone(),
            serde_json::from_str::<Value>(&get(a, &format!("{b}/v1/data/demo/authz/version")).1)
                .unwrap_or(Value::Null)["result"]
                .clone(),
            post(a, &format!("{b}/"), &json!({})).1,
            post(a, &format!("{b}/v0/data/demo/authz/version"), &json!({})).1,
        ]
    };
    wait_until("the first pack", || {
        routes(&a).iter().all(|v| *v == json!("1.0.0"))
    });
    let metrics = |a: &ureq::Agent| get(a, &format!("{}/metrics", server.base)).1;
    assert!(metrics(&a).contains("cos_pdp_pack_refusals 0"));

    *current.lock().unwrap() = Mode::Serve(published("1.1.0", FAILING));
    let refused = "cos_pdp_pack_fetch_failures_total{code=\"candidate_tests_failed\"} 1";
    wait_until("the refusal in /metrics", || metrics(&a).contains(refused));
    for round in 0..10 {
        let (status, body) = get(&a, &format!("{}/health?plugins", server.base));
        assert_eq!(status, 500, "round {round}: {body}");
        assert!(body.contains("data.demo.authz_test.test_carol"), "{body}");
        assert_eq!(
            routes(&a),
            vec![json!("1.0.0"); 4],
            "round {round}: the refused pack decided"
        );
        let (_, whole) = get(&a, &format!("{}/v1/data", server.base));
        assert!(!whole.contains("authz_test"), "{whole}");
        std::thread::sleep(Duration::from_millis(60));
    }
    let text = metrics(&a);
    assert!(text.contains("cos_pdp_pack_refusals 1"), "{text}");
    assert!(text.contains("cos_pdp_pack_activations 1"), "{text}");

    // A newer revision whose tests pass activates.
    *current.lock().unwrap() = Mode::Serve(published("1.2.0", PASSING));
    wait_until("the next revision", || {
        routes(&a).iter().all(|v| *v == json!("1.2.0"))
    });
}

/// An OPA bundle directory (no `manifest.yaml`) is read as `opa run
/// --bundle` reads it: its `*_test.rego` module is policy and served; its
/// passing `test_` rules still ran before it activated.
#[test]
fn an_opa_bundle_serves_its_test_files_as_opa_does() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("policy.rego"),
        "package demo.authz\nimport rego.v1\ndefault allow := false\nallow if input.user == \"alice\"\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("policy_test.rego"), PASSING).unwrap();
    let server = pdp(&["--pack", dir.path().to_str().unwrap()]);
    let (status, body) = get(
        &agent(),
        &format!("{}/v1/data/demo/authz_test/test_alice", server.base),
    );
    assert_eq!(status, 200, "{body}");
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["result"], json!(true), "{body}");
    drop(server);
    std::fs::write(dir.path().join("policy_test.rego"), FAILING).unwrap();
    let (code, stderr) = refused_start(&["--pack", dir.path().to_str().unwrap()]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("test_carol"), "{stderr}");
}

/// Issue 20: `--pack DIR` builds the archive `cos pack build --with-tests`
/// builds, dated `SOURCE_DATE_EPOCH`; a malformed value is refused at start
/// (exit 2) with the message every cos command gives.
#[test]
fn a_malformed_source_date_epoch_is_refused_for_a_pack_directory() {
    let dir = tempfile::tempdir().unwrap();
    write_pack(dir.path(), "1.0.0", Some(("authz_test.rego", PASSING)));
    for bad in ["", "yesterday", "-1", "1.5"] {
        let mut command = Command::new(env!("CARGO_BIN_EXE_cos-pdp"));
        command
            .args(["--listen", "127.0.0.1:0", "--pack"])
            .arg(dir.path())
            .env("SOURCE_DATE_EPOCH", bad);
        let run = cos_tests::server::run_bounded(command, Duration::from_secs(60));
        assert!(
            !run.killed,
            "cos-pdp started with SOURCE_DATE_EPOCH={bad:?}"
        );
        let err = String::from_utf8_lossy(&run.output.stderr);
        assert_eq!(run.output.status.code(), Some(2), "{bad:?}: {err}");
        assert!(
            err.contains("invalid SOURCE_DATE_EPOCH")
                && err.contains("set it to such a number, or unset it"),
            "{err}"
        );
    }
    let mut command = Command::new(env!("CARGO_BIN_EXE_cos-pdp"));
    command
        .args(["--listen", "127.0.0.1:0", "--pack"])
        .arg(dir.path())
        .env("SOURCE_DATE_EPOCH", "1700000000");
    let d = cos_tests::server::start(command);
    let (status, body) = get(&agent(), &format!("{}/health", d.base));
    assert_eq!(status, 200, "{body}");
}
