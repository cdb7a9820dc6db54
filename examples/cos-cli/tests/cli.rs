//! End-to-end tests of the `cos` binary: behaviour and exit codes.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers outside #[test] fns may panic"
)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

fn cos(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cos"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn cos_stdin(args: &[&str], input: &[u8]) -> Output {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_cos"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    child.wait_with_output().unwrap()
}

fn code(o: &Output) -> i32 {
    o.status.code().unwrap()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Self {
        Fixture {
            dir: tempfile::tempdir().unwrap(),
        }
    }
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
    fn keygen(&self, alg: &str, prefix: &str) -> (PathBuf, PathBuf) {
        let out = self.path(prefix);
        let o = cos(&["keygen", "--alg", alg, "--out", s(&out)]);
        assert_eq!(code(&o), 0, "{}", stderr(&o));
        (
            self.path(&format!("{prefix}.key")),
            self.path(&format!("{prefix}.pub")),
        )
    }
    fn write(&self, name: &str, data: &[u8]) -> PathBuf {
        let p = self.path(name);
        std::fs::write(&p, data).unwrap();
        p
    }
}

#[test]
fn sign_verify_and_every_single_byte_tamper_rejected() {
    let f = Fixture::new();
    for alg in ["ed25519", "ecdsa-p256"] {
        let (key, public) = f.keygen(alg, alg);
        let payload = f.write("payload.json", br#"{"release":"1.2.3","ok":true}"#);
        let env_path = f.path(&format!("{alg}.dsse.json"));
        let o = cos(&[
            "dsse",
            "sign",
            "--key",
            s(&key),
            "--payload-type",
            "application/vnd.in-toto+json",
            "-o",
            s(&env_path),
            s(&payload),
        ]);
        assert_eq!(code(&o), 0, "{}", stderr(&o));
        let o = cos(&["dsse", "verify", "--pub", s(&public), s(&env_path)]);
        assert_eq!(code(&o), 0, "{}", stderr(&o));
        assert!(stderr(&o).contains("verified"));

        let env: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&env_path).unwrap()).unwrap();
        let payload_bytes = STANDARD.decode(env["payload"].as_str().unwrap()).unwrap();
        let sig_bytes = STANDARD
            .decode(env["signatures"][0]["sig"].as_str().unwrap())
            .unwrap();
        let tampered = f.path("tampered.json");
        let check = |field: &str, bytes: &[u8], what: String| {
            let mut t = env.clone();
            if field == "payload" {
                t["payload"] = STANDARD.encode(bytes).into();
            } else {
                t["signatures"][0]["sig"] = STANDARD.encode(bytes).into();
            }
            std::fs::write(&tampered, serde_json::to_vec(&t).unwrap()).unwrap();
            let o = cos(&["dsse", "verify", "--pub", s(&public), s(&tampered)]);
            assert_eq!(code(&o), 1, "{alg}: {what} was accepted");
            let err = stderr(&o);
            assert_eq!(err.lines().count(), 1, "one-line reason expected: {err}");
            assert!(err.starts_with("cos: invalid: "), "{err}");
        };
        for i in 0..payload_bytes.len() {
            let mut b = payload_bytes.clone();
            b[i] ^= 0x01;
            check("payload", &b, format!("payload byte {i} changed"));
        }
        for i in 0..sig_bytes.len() {
            let mut b = sig_bytes.clone();
            b[i] ^= 0x01;
            check("sig", &b, format!("signature byte {i} changed"));
        }
    }
}

#[test]
fn threshold_and_payload_type() {
    let f = Fixture::new();
    let (k1, p1) = f.keygen("ed25519", "a");
    let (k2, p2) = f.keygen("ecdsa-p256", "b");
    let (_k3, p3) = f.keygen("ed25519", "c");
    let payload = f.write("p.txt", b"hello");
    let env = f.path("env.json");
    let o = cos(&[
        "dsse",
        "sign",
        "--key",
        s(&k1),
        "--key",
        s(&k2),
        "--payload-type",
        "text/plain",
        "-o",
        s(&env),
        s(&payload),
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let verify = |extra: &[&str]| {
        let mut args = vec!["dsse", "verify"];
        args.extend_from_slice(extra);
        args.push(s(&env));
        cos(&args)
    };
    assert_eq!(
        code(&verify(&[
            "--pub",
            s(&p1),
            "--pub",
            s(&p2),
            "--threshold",
            "2"
        ])),
        0
    );
    let o = verify(&["--pub", s(&p1), "--pub", s(&p3), "--threshold", "2"]);
    assert_eq!(code(&o), 1);
    assert!(stderr(&o).contains("threshold not met"), "{}", stderr(&o));
    assert_eq!(code(&verify(&["--pub", s(&p3)])), 1);
    let o = verify(&["--pub", s(&p1), "--payload-type", "application/json"]);
    assert_eq!(code(&o), 1);
    assert!(stderr(&o).contains("payload type"), "{}", stderr(&o));
    assert_eq!(
        code(&verify(&["--pub", s(&p1), "--payload-type", "text/plain"])),
        0
    );
    // A threshold above the number of keys is a usage error.
    assert_eq!(code(&verify(&["--pub", s(&p1), "--threshold", "2"])), 2);
    // --print-payload gives back the signed bytes.
    let o = verify(&["--pub", s(&p2), "--print-payload"]);
    assert_eq!(o.stdout, b"hello");
}

#[test]
fn exit_code_2_for_usage_and_unreadable_input() {
    let f = Fixture::new();
    let (key, public) = f.keygen("ed25519", "k");
    let payload = f.write("p", b"x");
    let missing = f.path("missing");
    for args in [
        vec!["dsse", "verify", s(&missing)], // no --pub
        vec!["dsse", "verify", "--pub", s(&missing), s(&payload)], // unreadable key
        vec!["dsse", "verify", "--pub", s(&key), s(&payload)], // private key given as --pub
        vec![
            "dsse",
            "sign",
            "--key",
            s(&public),
            "--payload-type",
            "t",
            s(&payload),
        ], // public as --key
        vec![
            "dsse",
            "sign",
            "--key",
            s(&key),
            "--payload-type",
            "t",
            s(&missing),
        ],
        vec!["keygen", "--alg", "rsa", "--out", s(&missing)],
        vec!["digest", s(&missing)],
        vec!["canon", s(&missing)],
        vec!["frobnicate"],
    ] {
        let o = cos(&args);
        assert_eq!(code(&o), 2, "{args:?}: {}", stderr(&o));
        assert!(!stderr(&o).is_empty());
    }
    // Garbage where an envelope should be: the evidence does not hold.
    let o = cos(&["dsse", "verify", "--pub", s(&public), s(&payload)]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert_eq!(code(&cos(&["--help"])), 0);
    assert_eq!(code(&cos(&["--version"])), 0);
}

#[test]
fn keygen_files_and_overwrite() {
    let f = Fixture::new();
    let (key, public) = f.keygen("ecdsa-p256", "release");
    let key_pem = std::fs::read_to_string(&key).unwrap();
    assert!(key_pem.starts_with("-----BEGIN PRIVATE KEY-----"));
    assert!(
        std::fs::read_to_string(&public)
            .unwrap()
            .starts_with("-----BEGIN PUBLIC KEY-----")
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    // A second keygen to the same prefix refuses and leaves the key intact.
    let o = cos(&["keygen", "--alg", "ed25519", "--out", s(&f.path("release"))]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("--force"));
    assert_eq!(std::fs::read_to_string(&key).unwrap(), key_pem);
    let o = cos(&[
        "keygen",
        "--alg",
        "ed25519",
        "--out",
        s(&f.path("release")),
        "--force",
    ]);
    assert_eq!(code(&o), 0);
    assert_ne!(std::fs::read_to_string(&key).unwrap(), key_pem);
    // No temporary files left behind.
    let names: Vec<String> = std::fs::read_dir(f.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().all(|n| !n.contains(".tmp-")), "{names:?}");
}

#[test]
fn digest_and_canon() {
    let f = Fixture::new();
    let a = f.write("a", b"hello world");
    let b = f.write("b", b"");
    let o = cos(&["digest", s(&a), s(&b)]);
    assert_eq!(code(&o), 0);
    let out = String::from_utf8(o.stdout).unwrap();
    assert_eq!(
        out,
        format!(
            "sha256:b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9  {}\nsha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  {}\n",
            s(&a),
            s(&b)
        )
    );
    let o = cos(&["digest", "--alg", "sha512", "--http", s(&b)]);
    assert!(String::from_utf8(o.stdout).unwrap().starts_with("sha-512=z4PhNX7vuL3xVChQ1m2AB9Yg5AULVxXcg/SpIdNs6c5H0NE8XYXysP+DGNKHfuwvY7kxvUdBeoGlODJ6+SfaPg==  "));
    let o = cos_stdin(&["digest", "-"], b"hello world");
    assert!(
        String::from_utf8(o.stdout)
            .unwrap()
            .starts_with("sha256:b94d27b9")
    );

    let j = f.write(
        "j.json",
        br#"{ "b": [1.0, 1e21, -0], "a": "\u00e9\ud83d\ude00" }"#,
    );
    let o = cos(&["canon", s(&j)]);
    assert_eq!(code(&o), 0);
    assert_eq!(o.stdout, "{\"a\":\"é😀\",\"b\":[1,1e+21,0]}".as_bytes());
    let o = cos_stdin(&["canon", "-"], br#"{"a":1,"a":2}"#);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("duplicate"), "{}", stderr(&o));
}

fn demo_pack(f: &Fixture) -> PathBuf {
    let dir = f.path("pack");
    std::fs::create_dir_all(dir.join("authz")).unwrap();
    std::fs::create_dir_all(dir.join("data/demo")).unwrap();
    std::fs::write(
        dir.join("manifest.yaml"),
        "name: demo\nversion: 1.2.0\nrevision: r7\nroots: [demo]\nentrypoints: {authz: demo/authz/decision}\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("authz/policy.rego"),
        "package demo.authz\n\ndefault allow := false\n\nallow if input.user in data.demo.admins\n\ndecision := {\"allow\": allow, \"reasons\": []}\n",
    )
    .unwrap();
    std::fs::write(dir.join("data/demo/admins.json"), r#"["alice"]"#).unwrap();
    dir
}

#[test]
fn policy_eval_and_pack_build() {
    let f = Fixture::new();
    let pack = demo_pack(&f);
    let alice = f.write("alice.json", br#"{"user": "alice"}"#);
    let eval = |pack: &Path, query: &str, input: Option<&Path>| {
        let mut args = vec!["policy", "eval", "--pack", s(pack), "--query", query];
        if let Some(i) = input {
            args.extend(["--input", s(i)]);
        }
        let o = cos(&args);
        assert_eq!(code(&o), 0, "{}", stderr(&o));
        serde_json::from_slice::<serde_json::Value>(&o.stdout).unwrap()
    };
    assert_eq!(
        eval(&pack, "data.demo.authz.allow", Some(&alice)),
        serde_json::json!({"result": true})
    );
    assert_eq!(
        eval(&pack, "data.demo.authz.missing", Some(&alice)),
        serde_json::json!({})
    );
    assert_eq!(
        eval(&pack, "demo/admins", None),
        serde_json::json!({"result": ["alice"]})
    );
    // Durations take units (a bare number keeps its old unit, ms here).
    for ok in ["2s", "1500ms", "1500"] {
        let o = cos(&[
            "policy",
            "eval",
            "--pack",
            s(&pack),
            "--query",
            "demo/admins",
            "--timeout-ms",
            ok,
        ]);
        assert_eq!(code(&o), 0, "{ok}: {}", stderr(&o));
    }
    let o = cos(&[
        "policy",
        "eval",
        "--pack",
        s(&pack),
        "--query",
        "demo/admins",
        "--timeout-ms",
        "5x",
    ]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(stderr(&o).contains("invalid duration"), "{}", stderr(&o));
    // Numbers are read and written exactly, as OPA does: an id of 74 bits
    // is the same id, and a result of 77 bits is printed digit for digit.
    let exact = f.path("exact");
    std::fs::create_dir_all(&exact).unwrap();
    std::fs::write(
        exact.join("policy.rego"),
        "package big\n\nsame if input.id == 12345678901234567890123\n\nnext := input.id + 1\n\nthird := 1 / 3\n",
    )
    .unwrap();
    let big = f.write("big.json", br#"{"id": 12345678901234567890123}"#);
    let run = |query: &str, input: &Path| {
        let o = cos(&[
            "policy",
            "eval",
            "--pack",
            s(&exact),
            "--query",
            query,
            "--input",
            s(input),
        ]);
        assert_eq!(code(&o), 0, "{query}: {}", stderr(&o));
        String::from_utf8(o.stdout).unwrap()
    };
    assert_eq!(run("data.big.same", &big), "{\n  \"result\": true\n}\n");
    assert_eq!(
        run("data.big.next", &big),
        "{\n  \"result\": 12345678901234567890124\n}\n"
    );
    assert_eq!(
        run("data.big.third", &big),
        "{\n  \"result\": 0.33333333333333333334\n}\n"
    );
    let near = f.write("near.json", br#"{"id": 12345678901234567890124}"#);
    assert_eq!(run("data.big.same", &near), "{}\n");
    // Beyond the float's exponent range OPA would keep the text; cos
    // refuses it (usage, exit 2) rather than rewrite it.
    let huge = f.write("huge.json", br#"{"id": 1e400}"#);
    let o = cos(&[
        "policy",
        "eval",
        "--pack",
        s(&exact),
        "--query",
        "data.big.same",
        "--input",
        s(&huge),
    ]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(
        stderr(&o).contains("1e400") && stderr(&o).contains("as a string"),
        "{}",
        stderr(&o)
    );

    let bundle = f.path("bundle.tar.gz");
    let o = cos(&["pack", "build", s(&pack), "-o", s(&bundle)]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(
        eval(&bundle, "data.demo.authz.allow", Some(&alice)),
        serde_json::json!({"result": true})
    );
    assert_eq!(
        eval(&bundle, "data.demo.authz.decision", Some(&alice)),
        serde_json::json!({"result": {"allow": true, "reasons": []}})
    );

    let o = cos(&["pack", "inspect", s(&bundle)]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let info: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(info["layout"], "bundle");
    assert_eq!(info["name"], "demo");
    assert_eq!(info["revision"], "r7");
    assert_eq!(info["entrypoints"]["authz"], "demo/authz/decision");
    let o = cos(&["pack", "inspect", s(&pack)]);
    let info2: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(info2["layout"], "pack");

    // Tests, like `opa test`.
    std::fs::create_dir_all(pack.join("tests")).unwrap();
    std::fs::write(
        pack.join("tests/authz_test.rego"),
        "package demo.authz_test\n\nimport data.demo.authz\n\ntest_alice if authz.allow with input as {\"user\": \"alice\"}\n\ntodo_test_bob if false\n",
    )
    .unwrap();
    let o = cos(&["policy", "test", s(&pack)]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).ends_with("PASS: 1/2\nSKIPPED: 1/2\n"));
    let o = cos(&["policy", "test", s(&pack), "--coverage"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let cov: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(
        cov["files"]["authz/policy.rego"]["coverage"]
            .as_f64()
            .unwrap()
            > 0.0,
        "{cov}"
    );
    std::fs::write(
        pack.join("tests/more_test.rego"),
        "package demo.more_test\n\nimport data.demo.authz\n\ntest_bob if authz.allow with input as {\"user\": \"bob\"}\n",
    )
    .unwrap();
    let o = cos(&["policy", "test", s(&pack), "--format", "json"]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(report[2]["name"], "test_bob");
    assert_eq!(report[2]["fail"], true);

    // A pack that does not compile is not built, and nothing is written.
    std::fs::write(
        pack.join("authz/broken.rego"),
        "package demo.authz\n\nallow if {\n",
    )
    .unwrap();
    let out = f.path("broken.tar.gz");
    let o = cos(&["pack", "build", s(&pack), "-o", s(&out)]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("broken.rego"), "{}", stderr(&o));
    assert!(!out.exists());
    // Bad input JSON and a missing pack are usage errors.
    let bad = f.write("bad.json", b"{");
    let o = cos(&[
        "policy",
        "eval",
        "--pack",
        s(&bundle),
        "--query",
        "data.demo",
        "--input",
        s(&bad),
    ]);
    assert_eq!(code(&o), 2);
    let o = cos(&[
        "policy",
        "eval",
        "--pack",
        s(&f.path("nope")),
        "--query",
        "data.demo",
    ]);
    assert_eq!(code(&o), 2);
}

/// Issue 18: a panic during `cos policy eval` is one line on standard error
/// and exit code 2, not Rust's report, a backtrace and 101. Provoked with a
/// sprintf that panics in the vendored regorus (a bug being fixed): once it
/// is fixed the evaluation answers (0) or fails (1 or 2), and this still
/// holds.
#[test]
fn a_panic_in_policy_eval_is_one_line_and_exit_2() {
    let f = Fixture::new();
    let dir = f.path("boom");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("manifest.yaml"),
        "name: boom\nversion: 1.0.0\nroots: [boom]\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("policy.rego"),
        "package boom\nimport rego.v1\ns := sprintf(\"%.999999999f\", [1.5])\n",
    )
    .unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_cos"))
        .args([
            "policy",
            "eval",
            "--pack",
            s(&dir),
            "--query",
            "data.boom.s",
        ])
        .env("RUST_BACKTRACE", "1")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let err = stderr(&o);
    assert_ne!(code(&o), 101, "{err}");
    assert!([0, 1, 2].contains(&code(&o)), "{err}");
    assert!(
        !err.contains("panicked at") && !err.contains("backtrace"),
        "{err}"
    );
    assert!(err.lines().count() <= 1, "{err}");
    if err.contains("internal error") {
        assert_eq!(code(&o), 2, "{err}");
    }
}

#[test]
fn policy_check_like_opa_check_strict() {
    let f = Fixture::new();
    let pack = demo_pack(&f);
    let o = cos(&["policy", "check", s(&pack)]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(o.stdout, b"ok: 1 modules\n");
    // Tests are checked too, and each OPA refusal exits 1 naming the file.
    std::fs::create_dir_all(pack.join("tests")).unwrap();
    for (src, want) in [
        (
            "package demo.t\n\nf(x) := f(x)\n",
            "rego_recursion_error: rule data.demo.t.f is recursive: data.demo.t.f -> data.demo.t.f",
        ),
        ("package demo.t\n\nf(input) := 1\n", "rego_compile_error"),
        (
            "package demo.t\n\nx := net.lookup_ip_addr(input.t)\n",
            "net.lookup_ip_addr",
        ),
    ] {
        std::fs::write(pack.join("tests/t_test.rego"), src).unwrap();
        let o = cos(&["policy", "check", s(&pack)]);
        assert_eq!(code(&o), 1, "{src}: {}", stderr(&o));
        assert!(stderr(&o).contains("tests/t_test.rego"), "{}", stderr(&o));
        assert!(stderr(&o).contains(want), "{}", stderr(&o));
    }
    // Unreadable pack: usage error.
    let o = cos(&["policy", "check", s(&f.path("missing"))]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
}

#[test]
fn policy_check_refuses_what_would_replace_a_rules_answer() {
    // Issue 18: a data file mounted over a rule, and a second `default`
    // in another module, each turned deny-by-default into allow.
    let f = Fixture::new();
    let pack = demo_pack(&f);
    std::fs::write(pack.join("data/demo/authz.json"), r#"{"allow": true}"#).unwrap();
    let o = cos(&["policy", "check", s(&pack)]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert!(
        stderr(&o)
            .contains("rego_compile_error: conflicting rule for data path demo/authz/allow found"),
        "{}",
        stderr(&o)
    );
    std::fs::remove_file(pack.join("data/demo/authz.json")).unwrap();
    std::fs::write(
        pack.join("authz/open.rego"),
        "package demo.authz\n\ndefault allow := true\n",
    )
    .unwrap();
    let o = cos(&["policy", "check", s(&pack)]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert!(
        stderr(&o).contains("rego_type_error: multiple default rules data.demo.authz.allow found"),
        "{}",
        stderr(&o)
    );
    let o = cos(&[
        "policy",
        "eval",
        "--pack",
        s(&pack),
        "--query",
        "data.demo.authz.allow",
    ]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
}

#[test]
fn pack_errors_never_echo_the_bytes_of_a_file() {
    // Issue 18: a symlinked archive pointing at /etc/passwd-like text, or
    // binary with terminal escapes, was quoted in the error message.
    let f = Fixture::new();
    let secret = f.write(
        "secret",
        "root:x:0:0:root:/root:/bin/bash\n\u{1b}]0;PWNED\u{7}\u{1b}[2J binary\n"
            .repeat(20)
            .as_bytes(),
    );
    let link = f.path("passwd.tar.gz");
    std::os::unix::fs::symlink(&secret, &link).unwrap();
    for target in [&secret, &link] {
        let o = cos(&["pack", "inspect", s(target)]);
        assert_eq!(code(&o), 2, "{}", stderr(&o));
        let err = stderr(&o);
        assert!(err.contains("not a valid tarball"), "{err}");
        assert!(!err.contains("root:x") && !err.contains('\u{1b}'), "{err}");
        assert!(!o.stdout.contains(&0x1b), "{:?}", o.stdout);
    }
}

#[test]
fn policy_test_has_a_time_limit_per_test() {
    let f = Fixture::new();
    let pack = demo_pack(&f);
    std::fs::create_dir_all(pack.join("tests")).unwrap();
    std::fs::write(
        pack.join("tests/slow_test.rego"),
        "package demo.slow_test\n\ntest_quick if true\n\ntest_endless if {\n\tcount([1 | some x in numbers.range(1, 100000); some y in numbers.range(1, 100000)]) > 0\n}\n",
    )
    .unwrap();
    let started = std::time::Instant::now();
    let o = cos(&["policy", "test", s(&pack), "--timeout", "200ms", "-v"]);
    assert!(started.elapsed() < std::time::Duration::from_secs(30));
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(out.contains("test_quick: PASS"), "{out}");
    assert!(out.contains("test_endless: ERROR"), "{out}");
    assert!(out.contains("200 ms"), "{out}");
    for bad in ["5x", "s", "-1s", "99999999999999999999m"] {
        let o = cos(&["policy", "test", s(&pack), "--timeout", bad]);
        assert_eq!(code(&o), 2, "{bad}: {}", stderr(&o));
    }
}

#[test]
fn sign_blob_verify_blob_and_tampers() {
    let f = Fixture::new();
    for alg in ["ed25519", "ecdsa-p256"] {
        let (key, public) = f.keygen(alg, alg);
        let (_, other) = f.keygen(alg, &format!("{alg}-other"));
        let blob = f.write("blob.bin", b"release artefact bytes");
        let bundle = f.path(&format!("{alg}.sigstore.json"));
        let o = cos(&[
            "sign-blob",
            "--key",
            s(&key),
            "--bundle",
            s(&bundle),
            s(&blob),
        ]);
        assert_eq!(code(&o), 0, "{}", stderr(&o));
        let o = cos(&[
            "verify-blob",
            "--key",
            s(&public),
            "--bundle",
            s(&bundle),
            s(&blob),
        ]);
        assert_eq!(code(&o), 0, "{}", stderr(&o));
        assert!(stderr(&o).contains("verified"));

        let invalid = |o: &Output, what: &str| {
            assert_eq!(code(o), 1, "{alg}: {what} accepted: {}", stderr(o));
            assert!(stderr(o).starts_with("cos: invalid: "), "{}", stderr(o));
        };
        let o = cos(&[
            "verify-blob",
            "--key",
            s(&other),
            "--bundle",
            s(&bundle),
            s(&blob),
        ]);
        invalid(&o, "wrong key");
        let changed = f.write("changed.bin", b"release artefact bytes!");
        let o = cos(&[
            "verify-blob",
            "--key",
            s(&public),
            "--bundle",
            s(&bundle),
            s(&changed),
        ]);
        invalid(&o, "changed blob");

        // Every single-byte change of the signature or of the digest is refused.
        let doc: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&bundle).unwrap()).unwrap();
        let tampered = f.path("tampered.json");
        for field in ["signature", "digest"] {
            let raw = if field == "signature" {
                doc["messageSignature"]["signature"].as_str().unwrap()
            } else {
                doc["messageSignature"]["messageDigest"]["digest"]
                    .as_str()
                    .unwrap()
            };
            let bytes = STANDARD.decode(raw).unwrap();
            for i in (0..bytes.len()).step_by(7) {
                let mut b = bytes.clone();
                b[i] ^= 0x01;
                let mut t = doc.clone();
                if field == "signature" {
                    t["messageSignature"]["signature"] = STANDARD.encode(&b).into();
                } else {
                    t["messageSignature"]["messageDigest"]["digest"] = STANDARD.encode(&b).into();
                }
                std::fs::write(&tampered, serde_json::to_vec(&t).unwrap()).unwrap();
                let o = cos(&[
                    "verify-blob",
                    "--key",
                    s(&public),
                    "--bundle",
                    s(&tampered),
                    s(&blob),
                ]);
                invalid(&o, &format!("{field} byte {i} changed"));
            }
        }
        let o = cos(&[
            "verify-blob",
            "--key",
            s(&public),
            "--bundle",
            s(&f.write("junk", b"{")),
            s(&blob),
        ]);
        invalid(&o, "malformed bundle");
    }
}

#[test]
fn verify_blob_keyless_against_a_trusted_root() {
    let data =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../cos-supplychain/tests/data/sigstore");
    let root = data.join("public-good-trusted-root.json");
    let blob = data.join("cosign-v3-blob.txt");
    let bundle = data.join("cosign-v3-blob.sigstore.json");
    let keyless = |id: &str, file: &Path| {
        cos(&[
            "verify-blob",
            "--trusted-root",
            s(&root),
            "--certificate-identity",
            id,
            "--certificate-oidc-issuer",
            "https://github.com/login/oauth",
            "--bundle",
            s(&bundle),
            s(file),
        ])
    };
    let o = keyless("w.vollprecht@gmail.com", &blob);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stderr(&o).contains("w.vollprecht@gmail.com (issuer https://github.com/login/oauth)"));
    let o = keyless("someone@example.com", &blob);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let f = Fixture::new();
    let o = keyless("w.vollprecht@gmail.com", &f.write("other", b"other"));
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    // Usage: a trust anchor is required, and a trusted root needs identity and issuer.
    let o = cos(&["verify-blob", "--bundle", s(&bundle), s(&blob)]);
    assert_eq!(code(&o), 2);
    let o = cos(&[
        "verify-blob",
        "--trusted-root",
        s(&root),
        "--bundle",
        s(&bundle),
        s(&blob),
    ]);
    assert_eq!(code(&o), 2);
}

#[test]
fn verify_blob_with_a_key_and_a_trusted_root_checks_the_log_entry() {
    let data =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../cos-supplychain/tests/data/sigstore");
    let root = data.join("public-good-trusted-root.json");
    let key = data.join("managed-key.pub");
    let blob = data.join("managed-key-artifact.txt");
    let f = Fixture::new();
    let original = std::fs::read_to_string(data.join("managed-key.sigstore.json")).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&original).unwrap();
    let leaf = v
        .pointer_mut("/verificationMaterial/tlogEntries/0/inclusionProof/rootHash")
        .unwrap();
    *leaf = serde_json::Value::String("rnpacIXSjoToEDh0qD4CLAKdkPnW1Y4R1DhFMS+AGlA=".into());
    let tampered = f.write("tampered.json", v.to_string().as_bytes());
    let good = data.join("managed-key.sigstore.json");
    let verify = |bundle: &Path, with_root: bool| {
        let mut args = vec!["verify-blob", "--key", s(&key), "--bundle", s(bundle)];
        if with_root {
            args.extend(["--trusted-root", s(&root)]);
        }
        args.push(s(&blob));
        cos(&args)
    };
    let o = verify(&good, true);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(
        stderr(&o).contains("transparency-log entry verified"),
        "{}",
        stderr(&o)
    );
    let o = verify(&tampered, true);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    // The key alone does not check the log (cosign's --insecure-ignore-tlog), and says so.
    let o = verify(&tampered, false);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(
        stderr(&o).contains("not checked in key mode"),
        "{}",
        stderr(&o)
    );
    // An identity belongs to keyless verification.
    let o = cos(&[
        "verify-blob",
        "--key",
        s(&key),
        "--trusted-root",
        s(&root),
        "--certificate-identity",
        "x@example.com",
        "--bundle",
        s(&good),
        s(&blob),
    ]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
}

#[test]
fn attest_and_verify_provenance() {
    let f = Fixture::new();
    let (key, public) = f.keygen("ecdsa-p256", "builder");
    let artifact = f.write("app.tar.gz", b"release bytes");
    let build = f.write(
        "build.json",
        br#"{"builder_id": "https://ci.example.com/builders/release@v2",
             "build_type": "https://ci.example.com/buildtypes/make/v1",
             "external_parameters": {"target": "release"},
             "source": {"repository": "https://github.com/acme/app",
                        "commit": "46e7056ff9912ebfee5298d94024895a9fea76c0",
                        "ref": "refs/heads/main"},
             "started_on": "2026-11-22T10:00:00Z", "finished_on": "2026-11-22T10:04:31Z"}"#,
    );
    for (out, bundle) in [("prov.intoto.json", false), ("prov.sigstore.json", true)] {
        let out = f.path(out);
        let mut args = vec![
            "attest",
            "provenance",
            "--build",
            s(&build),
            "--subject",
            s(&artifact),
            "--key",
            s(&key),
            "-o",
            s(&out),
        ];
        if bundle {
            args.push("--bundle");
        }
        let o = cos(&args);
        assert_eq!(code(&o), 0, "{}", stderr(&o));
        let verify = |extra: &[&str], file: &Path| {
            let mut a = vec![
                "verify",
                "provenance",
                "--provenance",
                s(&out),
                "--key",
                s(&public),
                "--builder-id",
                "https://ci.example.com/builders/release",
                "--source-uri",
                "github.com/acme/app",
            ];
            a.extend_from_slice(extra);
            a.push(s(file));
            cos(&a)
        };
        let o = verify(&["--source-branch", "main", "--json"], &artifact);
        assert_eq!(code(&o), 0, "{}", stderr(&o));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(
            v["source_commit"],
            "46e7056ff9912ebfee5298d94024895a9fea76c0"
        );
        assert!(stderr(&o).contains("built by https://ci.example.com/builders/release@v2"));
        let o = verify(&["--source-tag", "v1.0.0"], &artifact);
        assert_eq!(code(&o), 1, "{}", stderr(&o));
        assert!(
            stderr(&o).contains(
                "source tag: expected refs/tags/v1.0.0, the provenance has refs/heads/main"
            ),
            "{}",
            stderr(&o)
        );
        let o = verify(&[], &f.write("other", b"other bytes"));
        assert_eq!(code(&o), 1, "{}", stderr(&o));
        // A changed character anywhere in the signed payload or the
        // signature (key ids and hints are unsigned hints): never accepted.
        let original = String::from_utf8(std::fs::read(&out).unwrap()).unwrap();
        for field in ["\"payload\"", "\"sig\""] {
            let at = original.find(field).unwrap() + field.len();
            let start = at + original[at..].find('"').unwrap() + 1;
            let end = start + original[start..].find('"').unwrap();
            // The last base64 characters may carry unused bits: stay clear.
            for i in (start..end.saturating_sub(4)).step_by(23) {
                let mut t = original.clone().into_bytes();
                t[i] = if t[i] == b'A' { b'B' } else { b'A' };
                std::fs::write(&out, &t).unwrap();
                let o = verify(&[], &artifact);
                assert_ne!(code(&o), 0, "{field} changed at {i} and still verified");
            }
        }
        std::fs::write(&out, &original).unwrap();
    }
    // Bad description: usage error naming the field.
    let bad = f.write(
        "bad.json",
        br#"{"builder_id": "x", "build_type": "y", "started_on": "now"}"#,
    );
    let o = cos(&[
        "attest",
        "provenance",
        "--build",
        s(&bad),
        "--subject",
        s(&artifact),
        "--key",
        s(&key),
        "-o",
        s(&f.path("x.json")),
    ]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(stderr(&o).contains("started_on"), "{}", stderr(&o));
    assert!(!f.path("x.json").exists());
}

#[test]
fn verify_real_npm_provenance_keyless() {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../cos-supplychain/tests/data");
    let root = data.join("sigstore/public-good-trusted-root.json");
    let run = |source: &str, branch: &str| {
        cos(&[
            "verify",
            "provenance",
            "--provenance",
            s(&data.join("slsa/sigstore-2.3.1.provenance.sigstore.json")),
            "--trusted-root",
            s(&root),
            "--certificate-identity",
            "https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main",
            "--certificate-oidc-issuer",
            "https://token.actions.githubusercontent.com",
            "--builder-id",
            "https://github.com/actions/runner/github-hosted",
            "--source-uri",
            source,
            "--source-branch",
            branch,
            s(&data.join("slsa/sigstore-2.3.1.tgz")),
        ])
    };
    let o = run("github.com/sigstore/sigstore-js", "main");
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(
        stderr(&o).contains("pkg:npm/sigstore@2.3.1"),
        "{}",
        stderr(&o)
    );
    let o = run("github.com/sigstore/sigstore-go", "main");
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let o = run("github.com/sigstore/sigstore-js", "release");
    assert_eq!(code(&o), 1, "{}", stderr(&o));
}

fn cve_data(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../cos-supplychain/tests/data/cve")
        .join(name)
        .to_str()
        .unwrap()
        .to_owned()
}

fn cos_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_cos"));
    c.args(args)
        .stdin(Stdio::null())
        .env_remove("SOURCE_DATE_EPOCH");
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().unwrap()
}

#[test]
fn gate_cve_blocks_waives_and_expires() {
    let (grype, trivy) = (cve_data("grype.json"), cve_data("trivy.json"));
    let (openvex, cdx) = (cve_data("openvex.json"), cve_data("cyclonedx-vex.json"));
    let waivers = cve_data("waivers.yaml");
    let base = [
        "gate",
        "cve",
        "--report",
        grype.as_str(),
        "--report",
        trivy.as_str(),
        "--vex",
        openvex.as_str(),
        "--vex",
        cdx.as_str(),
    ];
    // Without the waiver Spring4Shell (9.8) blocks: exit 1, the verdict on stdout.
    let mut args = base.to_vec();
    args.extend(["--now", "2026-12-01T00:00:00Z"]);
    let o = cos_env(&args, &[]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let out = String::from_utf8(o.stdout.clone()).unwrap();
    assert!(
        out.starts_with("CVE gate: FAIL - 1 of 6 findings block"),
        "{out}"
    );
    assert!(out.contains("CVE-2022-22965"), "{out}");
    assert!(stderr(&o).contains("cos: invalid: CVE gate failed: 1 of 6 findings block"));
    // With it: pass, exit 0.
    args.extend(["--waivers", waivers.as_str()]);
    let o = cos_env(&args, &[]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout)
            .contains("waived by maria.garcia@example.com until 2027-01-01T00:00:00Z")
    );
    // After its expiry (SOURCE_DATE_EPOCH for 2027-01-01): blocked again, the
    // expired waiver reported; --json gives the canonical verdict, --verdict writes it.
    let f = Fixture::new();
    let verdict = f.path("verdict.json");
    let mut late = base.to_vec();
    late.extend([
        "--waivers",
        waivers.as_str(),
        "--json",
        "--verdict",
        s(&verdict),
    ]);
    let o = cos_env(&late, &[("SOURCE_DATE_EPOCH", "1798761600")]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert_eq!(std::fs::read(&verdict).unwrap(), o.stdout);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["result"], "fail");
    assert_eq!(v["now"], "2027-01-01T00:00:00Z");
    assert_eq!(v["findings"][0]["disposition"], "expired_waiver");
    assert_eq!(v["waivers"][0]["status"], "expired");
    assert_eq!(v["waivers"][1]["status"], "stale");
    // The same inputs and time give the same bytes.
    let again = cos_env(&late, &[("SOURCE_DATE_EPOCH", "1798761600")]);
    assert_eq!(again.stdout, o.stdout);
}

#[test]
fn gate_cve_policy_formats_and_usage_errors() {
    let grype = cve_data("grype.json");
    let now = ["--now", "2026-12-01T00:00:00Z"];
    let f = Fixture::new();
    let lenient = f.write("policy.yaml", b"threshold: 9.9\n");
    let mut args = vec![
        "gate",
        "cve",
        "--report",
        grype.as_str(),
        "--policy",
        s(&lenient),
    ];
    args.extend(now);
    assert_eq!(code(&cos_env(&args, &[])), 0);
    // Forced format.
    let mut args = vec![
        "gate",
        "cve",
        "--format",
        "grype",
        "--report",
        grype.as_str(),
    ];
    args.extend(now);
    assert_eq!(code(&cos_env(&args, &[])), 1);
    // Exit 2: a malformed report, waiver, policy, time; a missing file; no report.
    let bad_report = f.write("bad.json", b"{\"matches\": 3}");
    let bad_waiver = f.write(
        "w.yaml",
        b"- id: CVE-1\n  package: a\n  reason: r\n  approver: b\n",
    );
    let bad_policy = f.write("p.yaml", b"threshold: eleven\n");
    for extra in [
        vec!["--report", s(&bad_report)],
        vec!["--waivers", s(&bad_waiver)],
        vec!["--policy", s(&bad_policy)],
        vec!["--now", "tomorrow"],
        vec!["--report", "/no/such/report.json"],
        vec!["--format", "sarif"],
    ] {
        let mut args = vec!["gate", "cve", "--report", grype.as_str()];
        args.extend(extra.iter());
        if !extra.contains(&"--now") {
            args.extend(now);
        }
        let o = cos_env(&args, &[]);
        assert_eq!(code(&o), 2, "{extra:?}: {}", stderr(&o));
    }
    let o = cos_env(
        &[
            "gate",
            "cve",
            "--report",
            grype.as_str(),
            "--waivers",
            s(&bad_waiver),
            "--now",
            "2026-12-01",
        ],
        &[],
    );
    assert!(
        stderr(&o).contains("invalid waiver #1 (CVE-1): field `expires`"),
        "{}",
        stderr(&o)
    );
    assert_eq!(code(&cos_env(&["gate", "cve"], &[])), 2);
    let o = cos_env(
        &["gate", "cve", "--report", grype.as_str()],
        &[("SOURCE_DATE_EPOCH", "yesterday")],
    );
    assert_eq!(code(&o), 2);
}

#[test]
fn gate_cvss_scores_vectors() {
    let o = cos(&[
        "gate",
        "cvss",
        "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
        "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(
        String::from_utf8(o.stdout).unwrap(),
        "9.8 critical CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H\n\
         9.3 critical CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N\n"
    );
    let o = cos_stdin(
        &["gate", "cvss", "--json"],
        b"CVSS:3.0/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H\n\nCVSS:3.1/AV:N\n",
    );
    assert_eq!(code(&o), 2);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v[0]["score"], 8.8);
    assert_eq!(v[0]["version"], "3.0");
    assert_eq!(v[0]["severity"], "high");
    assert_eq!(v[1]["code"], "invalid_cvss_vector");
}

/// Issue 26 (Found 3): an archive built `--with-tests` keeps its tests as
/// tests, whatever their file names: `cos policy eval` does not serve them,
/// `cos policy test` runs them, `cos pack inspect` lists them as tests.
#[test]
fn an_archive_built_with_tests_never_serves_them() {
    let f = Fixture::new();
    let pack = f.path("pack");
    std::fs::create_dir_all(pack.join("authz")).unwrap();
    std::fs::create_dir_all(pack.join("tests")).unwrap();
    std::fs::write(
        pack.join("manifest.yaml"),
        "name: acme\nversion: 1.0.0\nrevision: r1\nroots: [acme]\n",
    )
    .unwrap();
    std::fs::write(
        pack.join("authz/policy.rego"),
        "package acme.authz\n\ndefault allow := false\n\nallow if input.user == \"alice\"\n",
    )
    .unwrap();
    std::fs::write(
        pack.join("tests/checks.rego"),
        "package acme.authz_test\n\nimport data.acme.authz\n\ntest_alice if authz.allow with input as {\"user\": \"alice\"}\n\ntest_bob if authz.allow with input as {\"user\": \"bob\"}\n",
    )
    .unwrap();
    let out = f.path("acme.tar.gz");
    let o = cos(&["pack", "build", s(&pack), "--with-tests", "-o", s(&out)]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    for source in [&pack, &out] {
        let o = cos(&[
            "policy",
            "eval",
            "--pack",
            s(source),
            "--query",
            "data.acme",
        ]);
        assert_eq!(code(&o), 0, "{}", stderr(&o));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"result": {"authz": {"allow": false}}}),
            "{source:?}"
        );
        let o = cos(&["policy", "test", s(source), "--format", "json"]);
        assert_eq!(code(&o), 1, "{source:?}: {}", stderr(&o));
        let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(report.as_array().unwrap().len(), 2, "{report}");
        let o = cos(&["pack", "inspect", s(source)]);
        let info: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(
            info["tests"],
            serde_json::json!(["tests/checks.rego"]),
            "{info}"
        );
    }
}

// ------------------------------------------- issue 26: text from outside

/// Issue 26's escape string, as JSON text: it sets the window title,
/// clears the screen and overwrites the BLOCKED line with a PASS; a
/// right-to-left override follows.
const ATTACK_JSON: &str =
    r"CVE-2024-0001\u001b]0;PWNED\u0007\u001b[2J\u001b[1A\u001b[2KCVE gate: PASS\u202e";
/// The same, parsed.
const ATTACK: &str =
    "CVE-2024-0001\u{1b}]0;PWNED\u{7}\u{1b}[2J\u{1b}[1A\u{1b}[2KCVE gate: PASS\u{202e}";

/// Neither standard output nor standard error of `o` holds a character
/// that could drive a terminal (line breaks apart), and what was shown
/// names the item, escaped, in `stream` ("stdout" or "stderr").
fn assert_inert(o: &Output, stream: &str, needle: &str) {
    for (name, bytes) in [("stdout", &o.stdout), ("stderr", &o.stderr)] {
        let text = String::from_utf8_lossy(bytes);
        let raw: Vec<char> = text
            .chars()
            .filter(|&c| c != '\n' && cos_core::text::must_escape(c))
            .collect();
        assert!(raw.is_empty(), "raw {raw:?} on {name}: {text}");
    }
    let text = String::from_utf8_lossy(if stream == "stdout" {
        &o.stdout
    } else {
        &o.stderr
    })
    .into_owned();
    assert!(
        text.contains(&cos_core::text::shown(needle)),
        "{stream} does not name {needle:?}: {text}"
    );
}

/// JSON output stays exact JSON: no raw control character (JSON escapes
/// them), and the string is there once parsed.
fn assert_json_exact(o: &Output, needle: &str) {
    assert!(
        !o.stdout.iter().any(|&b| b < 0x20 && b != b'\n'),
        "{:?}",
        o.stdout
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(
        v.to_string()
            .contains(&serde_json::to_string(needle).unwrap()[1..20]),
        "{v}"
    );
}

/// A CVE test report of cos-supplychain with the escape string before
/// every id, alias, package name, VEX detail and fixed version.
fn poisoned_cve(f: &Fixture, name: &str) -> PathBuf {
    let mut text = std::fs::read_to_string(cve_data(name)).unwrap();
    for key in [
        "\"CVE-",
        "\"GHSA-",
        "\"spring-beans\"",
        "\"libnghttp2-14\"",
        "\"lodash\"",
        "\"apt\"",
        "\"org.apache.logging.log4j:log4j-core\"",
        "\"1.52.0-1+deb12u1\"",
    ] {
        text = text.replace(key, &format!("\"{ATTACK_JSON}{}", &key[1..]));
    }
    for key in ["\"impact_statement\": \"", "\"detail\": \""] {
        text = text.replace(key, &format!("{key}{ATTACK_JSON}"));
    }
    assert!(text.contains(ATTACK_JSON), "{name}");
    f.write(&format!("poisoned-{name}"), text.as_bytes())
}

#[test]
fn gate_cve_text_escapes_every_report_format_vex_and_waivers() {
    let f = Fixture::new();
    let now = ["--now", "2026-12-01T00:00:00Z"];
    for (name, format) in [
        ("grype.json", "grype"),
        ("trivy.json", "trivy"),
        ("osv-scanner.json", "osv"),
        ("osv-record.json", "osv"),
        ("cyclonedx-vex.json", "cyclonedx"),
    ] {
        let report = poisoned_cve(&f, name);
        for fmt in ["auto", format] {
            let mut args = vec!["gate", "cve", "--report", s(&report), "--format", fmt];
            args.extend(now);
            let o = cos(&args);
            assert!(code(&o) <= 1, "{name}: {}", stderr(&o));
            assert_inert(&o, "stdout", ATTACK);
            let out = String::from_utf8_lossy(&o.stdout).into_owned();
            // The verdict's first line is the only one saying what was decided.
            assert!(out.starts_with("CVE gate: "), "{out}");
            assert_eq!(out.matches("\nCVE gate:").count(), 0, "{out}");
            args.push("--json");
            let o = cos(&args);
            assert_json_exact(&o, ATTACK);
        }
    }
    // With VEX documents and waivers that say it too.
    let waivers = f.write(
        "waivers.yaml",
        format!(
            "- {{id: \"{ATTACK_JSON}CVE-2022-22965\", package: \"{ATTACK_JSON}spring-beans\", reason: \"{ATTACK_JSON}\", approver: \"{ATTACK_JSON}\", expires: 2026-12-31}}\n\
             - {{id: \"{ATTACK_JSON}CVE-1999-0001\", package: \"{ATTACK_JSON}\", reason: r, approver: a, expires: 2026-01-01}}\n"
        )
        .as_bytes(),
    );
    let (grype, trivy) = (
        poisoned_cve(&f, "grype.json"),
        poisoned_cve(&f, "trivy.json"),
    );
    let (openvex, cdx) = (
        poisoned_cve(&f, "openvex.json"),
        poisoned_cve(&f, "cyclonedx-vex.json"),
    );
    for at in ["2026-12-01T00:00:00Z", "2027-02-01T00:00:00Z"] {
        let o = cos(&[
            "gate",
            "cve",
            "--report",
            s(&grype),
            "--report",
            s(&trivy),
            "--vex",
            s(&openvex),
            "--vex",
            s(&cdx),
            "--waivers",
            s(&waivers),
            "--now",
            at,
        ]);
        // Waived (exit 0), then blocked once the waiver expired (exit 1).
        let expected = if at.starts_with("2026") { 0 } else { 1 };
        assert_eq!(code(&o), expected, "{at}: {}", stderr(&o));
        assert_inert(&o, "stdout", ATTACK);
        let out = String::from_utf8_lossy(&o.stdout).into_owned();
        assert!(out.contains("waivers:"), "{out}");
    }
    // A report whose bad field quotes the escape string: the error is escaped.
    let bad = f.write(
        "bad.json",
        format!(r#"{{"matches": [{{"vulnerability": {{"id": 7}}, "artifact": {{"name": "{ATTACK_JSON}"}}}}], "{ATTACK_JSON}": 1}}"#).as_bytes(),
    );
    let o = cos(&["gate", "cve", "--report", s(&bad), "--format", "grype"]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert_inert(&o, "stderr", "");
    // CVSS vectors from standard input that carry it.
    let o = cos_stdin(&["gate", "cvss"], format!("{ATTACK}\n").as_bytes());
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert_inert(&o, "stderr", "");
}

/// A CycloneDX SBOM whose names, versions and licences carry the escape
/// string.
fn poisoned_sbom(f: &Fixture, file: &str, version: &str, licence: &str) -> PathBuf {
    let a = ATTACK_JSON;
    f.write(
        file,
        format!(
            r#"{{"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1, "components": [
            {{"type": "library", "bom-ref": "x", "name": "{a}named", "version": "{a}{version}",
              "licenses": [{{"expression": "{licence}"}}]}},
            {{"type": "library", "bom-ref": "y", "name": "{a}{version}-only", "version": "1",
              "licenses": [{{"license": {{"name": "{a}"}}}}]}}
        ]}}"#
        )
        .as_bytes(),
    )
}

#[test]
fn gate_license_and_sbom_outputs_escape_what_sboms_say() {
    let f = Fixture::new();
    let a = poisoned_sbom(&f, "a.json", "1.0", "MIT");
    let b = poisoned_sbom(&f, "b.json", "2.0", "MIT AND GPL-3.0-only");
    let policy = f.write(
        "policy.json",
        br#"{"allow": ["MIT"], "deny": ["GPL-3.0-only"], "unknown": "block"}"#,
    );
    let o = cos(&["gate", "license", "--sbom", s(&b), "--policy", s(&policy)]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert_inert(&o, "stdout", ATTACK);
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        out.contains("BLOCK ") && out.contains("is not an SPDX expression"),
        "{out}"
    );
    assert_eq!(out.matches("license gate:").count(), 1, "{out}");
    let o = cos(&[
        "gate",
        "license",
        "--sbom",
        s(&b),
        "--policy",
        s(&policy),
        "--json",
    ]);
    assert_json_exact(&o, ATTACK);

    let o = cos(&["sbom", "diff", s(&a), s(&b)]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_inert(&o, "stdout", ATTACK);
    let o = cos(&["sbom", "diff", s(&a), s(&b), "--json"]);
    assert_json_exact(&o, ATTACK);

    // An output path named with the escape string (a glob can find one).
    let out = f.path(&format!("merged-{ATTACK}.json"));
    let o = cos(&["sbom", "merge", s(&a), s(&b), "-o", s(&out)]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_inert(&o, "stderr", ATTACK);
    let o = cos(&["digest", s(&out)]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_inert(&o, "stdout", ATTACK);
}

#[test]
fn provenance_verify_escapes_what_the_provenance_says() {
    let f = Fixture::new();
    let (key, public) = f.keygen("ecdsa-p256", "builder");
    // The subject's name is the artifact's file name.
    let artifact = f.write(&format!("app-{ATTACK}.tar.gz"), b"release bytes");
    let build = f.write(
        "build.json",
        format!(
            r#"{{"builder_id": "https://ci.example.com/builders/release@v2",
             "build_type": "https://ci.example.com/buildtypes/make/v1",
             "external_parameters": {{"target": "{ATTACK_JSON}"}},
             "source": {{"repository": "https://github.com/acme/app",
                        "commit": "46e7056ff9912ebfee5298d94024895a9fea76c0",
                        "ref": "refs/heads/{ATTACK_JSON}"}},
             "started_on": "2026-11-22T10:00:00Z", "finished_on": "2026-11-22T10:04:31Z"}}"#
        )
        .as_bytes(),
    );
    let prov = f.path("prov.intoto.json");
    let o = cos(&[
        "attest",
        "provenance",
        "--build",
        s(&build),
        "--subject",
        s(&artifact),
        "--key",
        s(&key),
        "-o",
        s(&prov),
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let verify = |extra: &[&str]| {
        let mut args = vec![
            "verify",
            "provenance",
            "--provenance",
            s(&prov),
            "--key",
            s(&public),
            "--builder-id",
            "https://ci.example.com/builders/release",
            "--source-uri",
            "github.com/acme/app",
        ];
        args.extend_from_slice(extra);
        args.push(s(&artifact));
        cos(&args)
    };
    let o = verify(&[]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_inert(&o, "stderr", ATTACK);
    // A mismatch quotes the provenance's ref: escaped too.
    let o = verify(&["--source-branch", "main"]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert_inert(&o, "stderr", ATTACK);
    let o = verify(&["--json"]);
    assert_json_exact(&o, ATTACK);
}

#[test]
fn policy_test_and_pack_outputs_escape_what_the_pack_says() {
    let f = Fixture::new();
    let pack = demo_pack(&f);
    // A revision and a test file name from the pack (control characters
    // are refused in pack paths; a bidi override is not).
    std::fs::write(
        pack.join("manifest.yaml"),
        format!("name: demo\nversion: 1.2.0\nrevision: \"{ATTACK_JSON}\"\nroots: [demo]\n"),
    )
    .unwrap();
    std::fs::create_dir_all(pack.join("tests")).unwrap();
    std::fs::write(
        pack.join("tests/\u{202e}lmth.rego"),
        format!(
            "package demo.t_test\n\ntest_fails if false\n\ntest_errors if {{\n\tto_number(\"{ATTACK_JSON}\") == 1\n}}\n"
        ),
    )
    .unwrap();
    let o = cos(&["policy", "test", s(&pack), "--strict-builtin-errors", "-v"]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert_inert(&o, "stdout", "tests/\u{202e}lmth.rego");
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(out.contains("test_fails: FAIL"), "{out}");
    let o = cos(&["policy", "test", s(&pack), "--format", "json"]);
    assert!(!o.stdout.iter().any(|&b| b < 0x20 && b != b'\n'));

    let bundle = f.path("demo.tar.gz");
    let o = cos(&["pack", "build", s(&pack), "-o", s(&bundle)]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_inert(&o, "stderr", ATTACK);
    let o = cos(&["pack", "inspect", s(&bundle)]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_json_exact(&o, ATTACK);
    let o = cos(&["pack", "inspect", s(&pack)]);
    assert_json_exact(&o, ATTACK);
}

/// Runs `cos` with a deadline: killed after 10 s (a read that blocks).
fn cos_bounded(args: &[&str]) -> (Output, std::time::Duration) {
    let started = std::time::Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_cos"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > std::time::Duration::from_secs(10) {
            let _ = child.kill();
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    (child.wait_with_output().unwrap(), started.elapsed())
}

#[test]
fn non_regular_files_are_refused_without_blocking() {
    let f = Fixture::new();
    let fifo = f.path("report.fifo");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let fifo = s(&fifo);
    let dir = s(f.dir.path());
    let grype = cve_data("grype.json");
    let sbom = poisoned_sbom(&f, "a.json", "1.0", "MIT");
    let policy = f.write("policy.json", br#"{"allow": ["MIT"]}"#);
    let (key, public) = f.keygen("ed25519", "k");
    let artifact = f.write("app", b"x");
    for path in [fifo, dir, "/dev/zero"] {
        let runs: Vec<Vec<&str>> = vec![
            vec!["gate", "cve", "--report", path],
            vec!["gate", "cve", "--report", &grype, "--vex", path],
            vec!["gate", "cve", "--report", &grype, "--waivers", path],
            vec!["gate", "cve", "--report", &grype, "--policy", path],
            vec!["gate", "license", "--sbom", path, "--policy", s(&policy)],
            vec!["gate", "license", "--sbom", s(&sbom), "--policy", path],
            vec!["sbom", "diff", s(&sbom), path],
            vec!["sbom", "merge", path, s(&sbom)],
            vec!["sbom", "--npm", path],
            vec!["sbom", "--requirements", path],
            vec![
                "verify",
                "provenance",
                "--provenance",
                path,
                "--key",
                s(&public),
                "--builder-id",
                "b",
                "--source-uri",
                "u",
                s(&artifact),
            ],
            vec!["dsse", "verify", "--pub", s(&public), path],
            vec![
                "dsse",
                "sign",
                "--key",
                s(&key),
                "--payload-type",
                "t",
                path,
            ],
            vec!["canon", path],
            vec!["digest", path],
            vec!["policy", "eval", "--pack", path, "--query", "data"],
        ];
        for args in runs {
            let (o, took) = cos_bounded(&args);
            assert!(
                took < std::time::Duration::from_secs(10),
                "{args:?} blocked"
            );
            assert_eq!(code(&o), 2, "{args:?}: {}", stderr(&o));
            let err = stderr(&o);
            if path == fifo {
                assert!(
                    err.contains("not a regular file (a FIFO)"),
                    "{args:?}: {err}"
                );
            } else if path == dir {
                assert!(
                    err.contains("not a regular file (a directory)")
                        || err.contains("is a directory")
                        || args.contains(&"--pack"),
                    "{args:?}: {err}"
                );
            } else {
                assert!(err.contains("(a character device)"), "{args:?}: {err}");
            }
        }
    }
}

#[test]
fn signature_verification_messages_escape_what_the_envelope_and_names_say() {
    let f = Fixture::new();
    let (key, public) = f.keygen("ed25519", "k");
    // The payload type of a DSSE envelope is the signer's text.
    let payload = f.write("payload.json", b"{}");
    let envelope = f.path("envelope.json");
    let o = cos(&[
        "dsse",
        "sign",
        "--key",
        s(&key),
        "--payload-type",
        ATTACK,
        "-o",
        s(&envelope),
        s(&payload),
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let o = cos(&["dsse", "verify", "--pub", s(&public), s(&envelope)]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_inert(&o, "stderr", "payloadType");
    // A blob whose file name holds a bidi override.
    let blob = f.write("\u{202e}txt.exe", b"blob");
    let bundle = f.path("blob.sigstore.json");
    let o = cos(&[
        "sign-blob",
        "--key",
        s(&key),
        "--bundle",
        s(&bundle),
        s(&blob),
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let o = cos(&[
        "verify-blob",
        "--key",
        s(&public),
        "--bundle",
        s(&bundle),
        s(&blob),
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_inert(&o, "stderr", "verified");
}
