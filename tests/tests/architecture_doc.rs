//! docs/architecture.md names real files: every path it writes in backticks
//! (`cos-policy/src/store.rs`, `engine/mod.rs` in the cos-policy table,
//! `examples/cos-cli/src/{keys,blob,dsse}.rs`) exists, so that the map a
//! newcomer reads does not drift from the tree when files move.
#![allow(
    clippy::expect_used,
    clippy::panic,
    reason = "a test: an unreadable doc fails it"
)]

use std::path::{Path, PathBuf};

/// Where a path written relative to a crate's `src/` may live.
const BASES: &[&str] = &[
    "",
    "cos-core/src/",
    "cos-policy/src/",
    "cos-supplychain/src/",
    "examples/cos-pdp/src/",
    "examples/cos-cli/src/",
    "bindings/node/",
    "bindings/python/python/companyos/",
];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// `a/{b,c}.rs` → `a/b.rs`, `a/c.rs`; `a/*.rs` is kept (checked as a glob's
/// directory).
fn expand(token: &str) -> Vec<String> {
    match (token.find('{'), token.find('}')) {
        (Some(open), Some(close)) if open < close => token[open + 1..close]
            .split(',')
            .map(|alt| format!("{}{alt}{}", &token[..open], &token[close + 1..]))
            .collect(),
        _ => vec![token.to_owned()],
    }
}

fn exists(path: &str) -> bool {
    let root = root();
    let path = path.trim_end_matches('/');
    BASES.iter().any(|base| {
        let full = root.join(format!("{base}{path}"));
        match path.rsplit_once("/*") {
            // `dir/*.rs`: the directory exists.
            Some((dir, _)) => root.join(format!("{base}{dir}")).is_dir(),
            None => full.exists(),
        }
    })
}

/// A backticked token that names a file or folder of the tree: it has a
/// slash or a source-file extension, and is not a URL, a route or a package.
fn is_path(token: &str) -> bool {
    let file_like = [
        ".rs", ".md", ".ts", ".txt", ".py", ".sh", ".toml", ".json", ".pyi",
    ]
    .iter()
    .any(|ext| token.ends_with(ext));
    // A route, a package, a URL, or a file format (`.signatures.json`).
    let rooted = token.starts_with(['/', '@', '.']) || token.contains("://");
    (token.contains('/') || file_like) && !rooted && !token.contains(' ')
}

#[test]
fn every_file_the_architecture_doc_names_exists() {
    let doc = std::fs::read_to_string(root().join("docs/architecture.md"))
        .expect("docs/architecture.md is readable");
    let mut checked = 0;
    let mut missing = Vec::new();
    for (i, part) in doc.split('`').enumerate() {
        if i % 2 == 0 || !is_path(part) || part.contains("::") {
            continue;
        }
        for path in expand(part) {
            checked += 1;
            if !exists(&path) {
                missing.push(path);
            }
        }
    }
    assert!(checked > 50, "the scan found only {checked} paths");
    assert!(
        missing.is_empty(),
        "docs/architecture.md names files that do not exist: {missing:?}"
    );
}
