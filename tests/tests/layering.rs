//! The workspace's layers (ADR-0001), read from `cargo metadata`: the
//! library crates depend on cos-core and on nothing else of the workspace,
//! and cos-core on none of it. Composition happens in examples, bindings,
//! benches and tests.
#![allow(
    clippy::expect_used,
    clippy::panic,
    reason = "a test helper: a failed metadata read fails the test"
)]

use std::collections::BTreeMap;
use std::process::Command;

/// The library siblings: each may depend on cos-core only.
const SIBLINGS: &[&str] = &["cos-policy", "cos-supplychain", "cos-evidence", "cos-slo"];

/// Exceptions ADR-0001 writes down: (crate, workspace dependency). None yet.
const ALLOWED: &[(&str, &str)] = &[];

/// Each workspace package and the workspace packages it depends on (every
/// kind: normal, build and dev).
fn workspace_edges() -> BTreeMap<String, Vec<String>> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo metadata runs");
    assert!(
        out.status.success(),
        "cargo metadata: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).expect("metadata is JSON");
    let packages = meta["packages"].as_array().expect("packages");
    let names: Vec<String> = packages
        .iter()
        .filter_map(|p| p["name"].as_str().map(str::to_owned))
        .collect();
    packages
        .iter()
        .map(|p| {
            let deps = p["dependencies"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|d| d["name"].as_str())
                .filter(|d| names.iter().any(|n| n == d))
                .map(str::to_owned)
                .collect();
            (p["name"].as_str().unwrap_or_default().to_owned(), deps)
        })
        .collect()
}

#[test]
fn library_siblings_depend_only_on_cos_core() {
    let edges = workspace_edges();
    let core = edges
        .get("cos-core")
        .expect("cos-core is a workspace member");
    assert!(
        core.is_empty(),
        "cos-core depends on workspace crates {core:?}: it is the bottom layer"
    );
    for sibling in SIBLINGS {
        let deps = edges
            .get(*sibling)
            .unwrap_or_else(|| panic!("{sibling} is a workspace member"));
        for dep in deps {
            let allowed = dep == "cos-core" || ALLOWED.contains(&(*sibling, dep.as_str()));
            assert!(
                allowed,
                "{sibling} depends on {dep}: library siblings depend only on cos-core \
                 (ADR-0001); compose them in examples/, bindings/ or the caller"
            );
        }
    }
}

#[test]
fn the_layering_test_sees_a_sibling_edge() {
    // The check above reads real edges: cos-policy's dependency on cos-core
    // is there (a metadata read that found nothing would pass vacuously).
    let edges = workspace_edges();
    assert!(edges["cos-policy"].iter().any(|d| d == "cos-core"));
    assert!(edges["cos-supplychain"].iter().any(|d| d == "cos-core"));
}

/// `crate::` paths in `dir` (recursively) that leave `allowed` (a module
/// path such as `crate::dlp::`): (file, line number, line).
fn crate_paths_outside(dir: &std::path::Path, allowed: &str) -> Vec<(String, usize, String)> {
    let mut out = Vec::new();
    let mut dirs = vec![dir.to_path_buf()];
    while let Some(d) = dirs.pop() {
        for entry in std::fs::read_dir(&d).expect("the module directory is readable") {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).expect("a module file is UTF-8");
                for (n, line) in text.lines().enumerate() {
                    let leaves = line
                        .match_indices("crate::")
                        .any(|(i, _)| !line[i..].starts_with(allowed));
                    if leaves || line.contains("super::super") {
                        out.push((path.display().to_string(), n + 1, line.trim().to_owned()));
                    }
                }
            }
        }
    }
    out
}

/// DLP depends on nothing else in cos-policy: `cos-policy/src/dlp/` uses
/// cos-core and its own items only (its error is `DlpError`, the
/// obligations it reads are `cos_core::Obligation`), so that it can move to
/// a crate of its own or be used without the policy engine (ADR-0021).
#[test]
fn dlp_uses_nothing_else_of_cos_policy() {
    let dlp = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../cos-policy/src/dlp");
    assert!(
        dlp.join("mod.rs").is_file(),
        "{} holds the DLP module",
        dlp.display()
    );
    let outside = crate_paths_outside(&dlp, "crate::dlp::");
    assert!(
        outside.is_empty(),
        "cos-policy/src/dlp uses items of cos-policy outside dlp/ (use cos-core or dlp's own): {outside:#?}"
    );
    // The scan sees a `crate::` path where there is one.
    let probe =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../cos-policy/src/distribution");
    assert!(!crate_paths_outside(&probe, "crate::distribution::").is_empty());
}
