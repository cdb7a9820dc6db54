//! End-to-end tests of `cos sbom` and `cos gate license`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers outside #[test] fns may panic"
)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn data(rel: &str) -> String {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../cos-supplychain/tests/data/sbom")
        .join(rel);
    p.to_str().unwrap().to_owned()
}

fn cos_env(args: &[&str], epoch: Option<&str>) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_cos"));
    c.args(args).stdin(Stdio::null());
    match epoch {
        Some(e) => c.env("SOURCE_DATE_EPOCH", e),
        None => c.env_remove("SOURCE_DATE_EPOCH"),
    };
    c.output().unwrap()
}

fn cos(args: &[&str]) -> Output {
    cos_env(args, Some("1700000000"))
}

fn code(o: &Output) -> i32 {
    o.status.code().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn json(o: &Output) -> serde_json::Value {
    assert_eq!(code(o), 0, "{}", stderr(o));
    serde_json::from_slice(&o.stdout).unwrap()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn sbom_from_lockfiles_in_every_format_is_reproducible() {
    let inputs: [(&str, String); 5] = [
        ("--npm", data("npm-v3/package-lock.json")),
        ("--npm", data("npm-v2/package-lock.json")),
        ("--requirements", data("python/requirements.txt")),
        ("--poetry", data("python/poetry.lock")),
        ("--uv", data("python/uv.lock")),
    ];
    for (flag, path) in &inputs {
        for format in ["cyclonedx-1.6", "cyclonedx-1.5", "spdx-2.3"] {
            let a = cos(&["sbom", flag, path, "--format", format]);
            let v = json(&a);
            let b = cos(&["sbom", flag, path, "--format", format]);
            assert_eq!(a.stdout, b.stdout, "{flag} {format}");
            if format == "spdx-2.3" {
                assert_eq!(v["creationInfo"]["created"], "2023-11-14T22:13:20Z");
            } else {
                assert_eq!(v["specVersion"], &format["cyclonedx-".len()..]);
                assert_eq!(v["metadata"]["timestamp"], "2023-11-14T22:13:20Z");
            }
        }
    }
    // Default format: CycloneDX 1.6. The Python root is named after the directory.
    let v = json(&cos(&[
        "sbom",
        "--requirements",
        &data("python/requirements.txt"),
    ]));
    assert_eq!(v["specVersion"], "1.6");
    assert_eq!(v["metadata"]["component"]["name"], "python");
    let v = json(&cos(&[
        "sbom",
        "--requirements",
        &data("python/requirements.txt"),
        "--root-name",
        "svc",
        "--root-version",
        "1.2.3",
    ]));
    assert_eq!(v["metadata"]["component"]["purl"], "pkg:pypi/svc@1.2.3");
}

#[test]
fn sbom_written_atomically_to_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("bom.json");
    let o = cos(&[
        "sbom",
        "--npm",
        &data("npm-v3/package-lock.json"),
        "-o",
        s(&out),
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(o.stdout.is_empty());
    assert!(stderr(&o).contains("12 components"), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(v["bomFormat"], "CycloneDX");
    // Dev packages only on request.
    let dev = json(&cos(&[
        "sbom",
        "--npm",
        &data("npm-v3/package-lock.json"),
        "--include-dev",
    ]));
    assert_eq!(dev["components"].as_array().unwrap().len(), 13);
}

/// A workspace of path crates: no registry needed.
fn tiny_workspace(dir: &Path) -> PathBuf {
    let w = |p: &str, text: &str| {
        let path = dir.join(p);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    w(
        "app/Cargo.toml",
        r#"[package]
name = "app"
version = "1.0.0"
edition = "2021"
license = "MIT"

[dependencies]
lib-a = { path = "../lib-a" }
lib-opt = { path = "../lib-opt", optional = true }

[target.'cfg(windows)'.dependencies]
lib-win = { path = "../lib-win" }

[dev-dependencies]
lib-dev = { path = "../lib-dev" }

[features]
extra = ["dep:lib-opt"]
"#,
    );
    w("app/src/main.rs", "fn main() {}\n");
    for name in ["lib-a", "lib-opt", "lib-win", "lib-dev"] {
        w(
            &format!("{name}/Cargo.toml"),
            &format!(
                "[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2021\"\nlicense = \"Apache-2.0\"\n"
            ),
        );
        w(&format!("{name}/src/lib.rs"), "\n");
    }
    let mut lock = String::from("version = 4\n");
    for (name, version, deps) in [
        (
            "app",
            "1.0.0",
            "\ndependencies = [\n \"lib-a\",\n \"lib-dev\",\n \"lib-opt\",\n \"lib-win\",\n]",
        ),
        ("lib-a", "0.1.0", ""),
        ("lib-dev", "0.1.0", ""),
        ("lib-opt", "0.1.0", ""),
        ("lib-win", "0.1.0", ""),
    ] {
        lock.push_str(&format!(
            "\n[[package]]\nname = \"{name}\"\nversion = \"{version}\"{deps}\n"
        ));
    }
    w("app/Cargo.lock", &lock);
    dir.join("app/Cargo.toml")
}

fn names(v: &serde_json::Value) -> Vec<String> {
    let mut n: Vec<String> = v["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_owned())
        .collect();
    n.sort();
    n
}

#[test]
fn sbom_of_a_cargo_package_follows_features_and_target() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = tiny_workspace(dir.path());
    let m = s(&manifest);
    let plain = json(&cos(&["sbom", "--manifest-path", m]));
    assert_eq!(
        plain["metadata"]["component"]["purl"],
        "pkg:cargo/app@1.0.0"
    );
    // Dev-dependencies left out; every platform without --filter-platform.
    assert_eq!(names(&plain), ["lib-a", "lib-win"]);
    let linux = json(&cos(&[
        "sbom",
        "--manifest-path",
        m,
        "--filter-platform",
        "x86_64-unknown-linux-gnu",
    ]));
    assert_eq!(names(&linux), ["lib-a"]);
    let props = linux["metadata"]["properties"].to_string();
    assert!(props.contains("x86_64-unknown-linux-gnu"), "{props}");
    let extra = json(&cos(&["sbom", "--manifest-path", m, "--features", "extra"]));
    assert_eq!(names(&extra), ["lib-a", "lib-opt", "lib-win"]);
    let all = json(&cos(&["sbom", "--manifest-path", m, "--all-features"]));
    assert_eq!(names(&all), ["lib-a", "lib-opt", "lib-win"]);
    let spdx = json(&cos(&[
        "sbom",
        "--manifest-path",
        m,
        "--format",
        "spdx-2.3",
    ]));
    assert_eq!(spdx["packages"].as_array().unwrap().len(), 3);
    // A manifest cargo cannot read is a usage error.
    let o = cos(&[
        "sbom",
        "--manifest-path",
        s(&dir.path().join("nope/Cargo.toml")),
    ]);
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).contains("cargo metadata failed"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn merge_and_diff() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.json");
    let b = dir.path().join("b.json");
    assert_eq!(
        code(&cos(&[
            "sbom",
            "--npm",
            &data("npm-v3/package-lock.json"),
            "-o",
            s(&a)
        ])),
        0
    );
    assert_eq!(
        code(&cos(&[
            "sbom",
            "--npm",
            &data("npm-v3/package-lock.json"),
            "--format",
            "spdx-2.3",
            "-o",
            s(&b)
        ])),
        0
    );
    // Our CycloneDX and our SPDX of the same lockfile: no difference.
    let o = cos(&["sbom", "diff", s(&a), s(&b)]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        "0 added, 0 removed, 0 changed\n"
    );
    let gh = data("foreign/github-dependency-graph.spdx.json");
    let d = json(&cos(&["sbom", "diff", s(&a), &gh, "--json"]));
    let changed = d["changed"].as_array().unwrap();
    assert!(
        changed.iter().any(|c| c["package"] == "pkg:npm/cookie"
            && c["field"] == "version"
            && c["before"] == "0.6.0"
            && c["after"] == "0.7.0"),
        "{d}"
    );
    let merged = dir.path().join("m.json");
    let o = cos(&[
        "sbom",
        "merge",
        s(&a),
        &gh,
        &data("foreign/cdxgen-1.6.cdx.json"),
        "-o",
        s(&merged),
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let m: serde_json::Value = serde_json::from_slice(&std::fs::read(&merged).unwrap()).unwrap();
    assert_eq!(m["metadata"]["component"]["purl"], "pkg:npm/shop-web@2.1.0");
    let purls: Vec<&str> = m["components"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["purl"].as_str())
        .collect();
    assert!(purls.contains(&"pkg:npm/cookie@0.7.0"));
    assert!(purls.contains(&"pkg:npm/dual@1.0.0"));
    assert_eq!(
        purls.iter().filter(|p| **p == "pkg:npm/ms@2.1.3").count(),
        1
    );
    // One input is not a merge.
    assert_eq!(code(&cos(&["sbom", "merge", s(&a)])), 2);
}

#[test]
fn license_gate_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let bom = dir.path().join("bom.json");
    assert_eq!(
        code(&cos(&[
            "sbom",
            "--npm",
            &data("npm-v3/package-lock.json"),
            "-o",
            s(&bom)
        ])),
        0
    );
    let policy = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p
    };
    let strict = policy(
        "strict.json",
        r#"{"allow": ["MIT", "Apache-2.0"], "deny": ["WTFPL"]}"#,
    );
    let o = cos(&["gate", "license", "--sbom", s(&bom), "--policy", s(&strict)]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("BLOCK pkg:npm/left-pad@1.3.0 (WTFPL): denied: WTFPL"),
        "{text}"
    );
    assert!(
        text.contains("BLOCK pkg:npm/no-license@1.0.0 (no licence): no licence declared"),
        "{text}"
    );
    assert!(text.contains("license gate: FAIL"), "{text}");
    assert!(
        stderr(&o).contains("2 of 12 components blocked"),
        "{}",
        stderr(&o)
    );
    let o = cos(&[
        "gate",
        "license",
        "--sbom",
        s(&bom),
        "--policy",
        s(&strict),
        "--json",
    ]);
    assert_eq!(code(&o), 1);
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(report["passed"], false);
    assert_eq!(report["counts"]["block"], 2);
    let o2 = cos(&[
        "gate",
        "license",
        "--sbom",
        s(&bom),
        "--policy",
        s(&strict),
        "--json",
    ]);
    assert_eq!(o.stdout, o2.stdout, "deterministic");

    let yaml = policy(
        "lenient.yaml",
        "allow: [MIT, Apache-2.0, WTFPL]\nunknown: warn\n",
    );
    let o = cos(&["gate", "license", "--sbom", s(&bom), "--policy", s(&yaml)]);
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stdout));
    assert!(String::from_utf8_lossy(&o.stdout).contains("WARN  pkg:npm/no-license@1.0.0"));

    for bad in [
        r#"{"allow": ["Not-A-Licence"]}"#,
        r#"{"allow": ["MIT"], "typo": 1}"#,
        "{",
    ] {
        let p = policy("bad.json", bad);
        let o = cos(&["gate", "license", "--sbom", s(&bom), "--policy", s(&p)]);
        assert_eq!(code(&o), 2, "{bad}: {}", stderr(&o));
        assert!(
            stderr(&o).contains("invalid licence policy"),
            "{}",
            stderr(&o)
        );
    }
    let o = cos(&[
        "gate",
        "license",
        "--sbom",
        &data("npm-v3/package-lock.json"),
        "--policy",
        s(&strict),
    ]);
    assert_eq!(code(&o), 2, "a lockfile is not an SBOM");
}

#[test]
fn usage_errors_exit_2() {
    let npm = data("npm-v3/package-lock.json");
    // No input, two inputs, an unknown format.
    assert_eq!(code(&cos(&["sbom"])), 2);
    assert_eq!(
        code(&cos(&[
            "sbom",
            "--npm",
            &npm,
            "--uv",
            &data("python/uv.lock")
        ])),
        2
    );
    assert_eq!(code(&cos(&["sbom", "--npm", &npm, "--format", "xml"])), 2);
    // Malformed input names what was wrong.
    let o = cos(&["sbom", "--uv", &npm]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("invalid uv.lock"), "{}", stderr(&o));
    let o = cos(&["sbom", "--npm", "/no/such/file"]);
    assert_eq!(code(&o), 2);
    // SOURCE_DATE_EPOCH must be whole seconds.
    for bad in ["", "1.5", "-1", "soon"] {
        let o = cos_env(&["sbom", "--npm", &npm], Some(bad));
        assert_eq!(code(&o), 2, "{bad:?}");
        assert!(stderr(&o).contains("SOURCE_DATE_EPOCH"), "{}", stderr(&o));
    }
    // Without it, the clock: a timestamp of this century.
    let v = json(&cos_env(&["sbom", "--npm", &npm], None));
    assert!(
        v["metadata"]["timestamp"]
            .as_str()
            .unwrap()
            .starts_with("20")
    );
}
