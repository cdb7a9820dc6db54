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
