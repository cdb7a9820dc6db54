//! `SOURCE_DATE_EPOCH` is read by one parser (cos-core's), the same way in
//! every command that reads it: `cos pack build`, `cos pack serve`,
//! `cos sbom` and `cos gate cve`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers outside #[test] fns may panic"
)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

fn cos_env(args: &[&str], epoch: Option<&str>) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_cos"));
    c.args(args).stdin(Stdio::null());
    match epoch {
        Some(e) => c.env("SOURCE_DATE_EPOCH", e),
        None => c.env_remove("SOURCE_DATE_EPOCH"),
    };
    c.output().unwrap()
}

/// `cos pack serve` exits by itself on a malformed value; a server that
/// started is killed after 20 s and fails the test.
fn serve_env(args: &[&str], epoch: &str) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_cos"));
    command.args(args).env("SOURCE_DATE_EPOCH", epoch);
    cos_tests::server::run_bounded(command, Duration::from_secs(20)).output
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn data(rel: &str) -> String {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../cos-supplychain/tests/data")
        .join(rel);
    p.to_str().unwrap().to_owned()
}

fn pack(dir: &Path) -> PathBuf {
    let p = dir.join("pack");
    std::fs::create_dir_all(p.join("authz")).unwrap();
    std::fs::write(
        p.join("manifest.yaml"),
        "name: demo\nversion: 1.0.0\nrevision: r1\nroots: [demo]\nentrypoints: {allow: demo/authz/allow}\n",
    )
    .unwrap();
    std::fs::write(
        p.join("authz/policy.rego"),
        "package demo.authz\n\ndefault allow := false\n",
    )
    .unwrap();
    p
}

const MESSAGE: &str = "invalid SOURCE_DATE_EPOCH";
const HINT: &str = "set it to such a number, or unset it";

#[test]
fn every_command_refuses_a_malformed_value_the_same_way() {
    let dir = tempfile::tempdir().unwrap();
    let pack = pack(dir.path());
    let out = dir.path().join("b.tar.gz");
    let npm = data("sbom/npm-v3/package-lock.json");
    let grype = data("cve/grype.json");
    let commands: Vec<Vec<&str>> = vec![
        vec!["pack", "build", s(&pack), "-o", s(&out)],
        vec!["pack", "build", s(&pack), "--with-tests", "-o", s(&out)],
        vec!["sbom", "--npm", &npm],
        vec!["gate", "cve", "--report", &grype],
    ];
    for bad in [
        "",
        "yesterday",
        "-1",
        "1.5",
        " 1700000000",
        "1e9",
        "253402300800",
    ] {
        let mut messages = Vec::new();
        for args in &commands {
            let o = cos_env(args, Some(bad));
            let err = String::from_utf8_lossy(&o.stderr).into_owned();
            assert_eq!(o.status.code(), Some(2), "{args:?} {bad:?}: {err}");
            assert!(err.starts_with("cos: error: "), "{args:?} {bad:?}: {err}");
            assert!(err.contains(MESSAGE) && err.contains(HINT), "{err}");
            messages.push(err);
        }
        let o = serve_env(&["pack", "serve", s(&pack), "--listen", "127.0.0.1:0"], bad);
        let err = String::from_utf8_lossy(&o.stderr).into_owned();
        assert_eq!(o.status.code(), Some(2), "pack serve {bad:?}: {err}");
        messages.push(err);
        // One parser: the same line from every command.
        assert!(
            messages.windows(2).all(|w| w[0] == w[1]),
            "{bad:?}: {messages:#?}"
        );
        assert!(!out.exists(), "nothing is written on a malformed value");
    }
}

#[test]
fn a_valid_value_dates_the_output() {
    let dir = tempfile::tempdir().unwrap();
    let pack = pack(dir.path());
    let build = |name: &str, epoch: Option<&str>| {
        let out = dir.path().join(name);
        let o = cos_env(&["pack", "build", s(&pack), "-o", s(&out)], epoch);
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
        std::fs::read(out).unwrap()
    };
    let unset = build("a.tar.gz", None);
    assert_eq!(unset, build("b.tar.gz", Some("0")), "unset is mtime 0");
    let dated = build("c.tar.gz", Some("1700000000"));
    assert_ne!(dated, unset);
    assert_eq!(dated, build("d.tar.gz", Some("1700000000")));

    let grype = data("cve/grype.json");
    let args = ["gate", "cve", "--report", &grype, "--json"];
    let a = cos_env(&args, Some("1700000000"));
    let b = cos_env(&args, Some("1700000000"));
    assert!(!a.stdout.is_empty());
    assert_eq!(a.stdout, b.stdout, "the same time gives the same verdict");
}
