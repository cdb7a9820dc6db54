//! Rust: `cargo metadata --format-version 1` and `Cargo.lock`.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use serde::Deserialize;

use super::purl::Purl;
use super::{
    Component, ComponentKind, Hash, HashAlgorithm, License, PROPERTY_GRAPH, Sbom, add_edge,
    check_count, check_size,
};
use crate::{Error, Result};

const INPUT: &str = "cargo metadata";
const LOCK: &str = "Cargo.lock";

/// Options of the Rust producer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CargoOptions {
    /// Workspace members (package names) to describe. Empty: the package of
    /// the manifest (`resolve.root`), or every workspace member for a
    /// virtual manifest.
    pub packages: Vec<String>,
}

impl CargoOptions {
    /// Options that describe these workspace members.
    pub fn with_packages(packages: Vec<String>) -> Self {
        CargoOptions { packages }
    }
}

#[derive(Deserialize)]
struct Metadata {
    packages: Vec<Package>,
    workspace_members: Vec<String>,
    resolve: Option<Resolve>,
    #[serde(default)]
    workspace_root: String,
    version: u32,
}

#[derive(Deserialize)]
struct Package {
    name: String,
    version: String,
    id: String,
    #[serde(default)]
    license: Option<String>,
    #[serde(default)]
    license_file: Option<String>,
    #[serde(default)]
    source: Option<String>,
    #[serde(default)]
    authors: Vec<String>,
}

#[derive(Deserialize)]
struct Resolve {
    nodes: Vec<Node>,
    #[serde(default)]
    root: Option<String>,
}

#[derive(Deserialize)]
struct Node {
    id: String,
    #[serde(default)]
    deps: Vec<NodeDep>,
}

#[derive(Deserialize)]
struct NodeDep {
    pkg: String,
    #[serde(default)]
    dep_kinds: Vec<DepKind>,
}

#[derive(Deserialize)]
struct DepKind {
    #[serde(default)]
    kind: Option<String>,
}

#[derive(Deserialize)]
struct CargoLock {
    #[serde(default)]
    package: Vec<LockPackage>,
    #[serde(default)]
    metadata: BTreeMap<String, toml::Value>,
}

#[derive(Deserialize)]
struct LockPackage {
    name: String,
    version: String,
    #[serde(default)]
    source: Option<String>,
    #[serde(default)]
    checksum: Option<String>,
}

fn bad(reason: impl Into<String>) -> Error {
    Error::InvalidLockfile {
        input: INPUT,
        reason: reason.into(),
    }
}

/// Checksums by (name, version, source) from a `Cargo.lock` (v1's
/// `[metadata]` table and v2+'s `checksum` fields).
fn lock_checksums(lock: &[u8]) -> Result<BTreeMap<(String, String, String), String>> {
    let bad_lock = |reason: String| Error::InvalidLockfile {
        input: LOCK,
        reason,
    };
    check_size(lock.len(), LOCK).map_err(bad_lock)?;
    let text = std::str::from_utf8(lock).map_err(|_| bad_lock("not UTF-8".into()))?;
    let parsed: CargoLock = toml::from_str(text).map_err(|e| bad_lock(e.to_string()))?;
    check_count(parsed.package.len()).map_err(bad_lock)?;
    let mut out = BTreeMap::new();
    for p in parsed.package {
        if let (Some(source), Some(sum)) = (p.source, p.checksum) {
            out.insert((p.name, p.version, source), sum);
        }
    }
    // Version 1: `"checksum NAME VERSION (SOURCE)" = "<hex>"`.
    for (key, value) in parsed.metadata {
        let (Some(rest), toml::Value::String(sum)) = (key.strip_prefix("checksum "), value) else {
            continue;
        };
        let mut parts = rest.splitn(3, ' ');
        if let (Some(n), Some(v), Some(s)) = (parts.next(), parts.next(), parts.next()) {
            let s = s.trim_start_matches('(').trim_end_matches(')');
            out.insert((n.to_owned(), v.to_owned(), s.to_owned()), sum);
        }
    }
    Ok(out)
}

/// The purl of a crate: crates.io crates plain; other registries with
/// `repository_url`, git sources with `vcs_url`; path crates plain.
fn cargo_purl(p: &Package) -> Purl {
    let mut q: Vec<(&str, String)> = Vec::new();
    if let Some(source) = &p.source {
        let is_crates_io = source == "registry+https://github.com/rust-lang/crates.io-index"
            || source == "sparse+https://index.crates.io/";
        if !is_crates_io {
            if let Some(git) = source.strip_prefix("git+") {
                // git+https://host/repo?rev=x#<commit>
                let (url, commit) = git.split_once('#').unwrap_or((git, ""));
                let url = url.split_once('?').map_or(url, |(u, _)| u);
                let vcs = if commit.is_empty() {
                    format!("git+{url}")
                } else {
                    format!("git+{url}@{commit}")
                };
                q.push(("vcs_url", vcs));
            } else if let Some(reg) = source
                .strip_prefix("registry+")
                .or_else(|| source.strip_prefix("sparse+"))
            {
                q.push(("repository_url", reg.to_owned()));
            }
        }
    }
    let q: Vec<(&str, &str)> = q.iter().map(|(k, v)| (*k, v.as_str())).collect();
    Purl::new("cargo", None, &p.name, Some(&p.version), &q)
}

fn component(p: &Package, checksums: &BTreeMap<(String, String, String), String>) -> Component {
    let purl = cargo_purl(p).to_string();
    let mut c = Component::library(&p.name, Some(&p.version), purl);
    // Legacy `MIT/Apache-2.0` becomes `MIT OR Apache-2.0` in from_declared.
    c.license = p.license.as_deref().and_then(License::from_declared);
    if let Some(file) = &p.license_file {
        c.properties
            .insert("cos:cargo:license-file".into(), file.clone());
    }
    c.authors = p.authors.clone();
    if let Some(source) = &p.source
        && let Some(sum) = checksums.get(&(p.name.clone(), p.version.clone(), source.clone()))
    {
        c.add_hashes(Hash::from_hex(HashAlgorithm::Sha256, sum));
    }
    c
}

pub(super) fn from_metadata(
    metadata: &[u8],
    cargo_lock: Option<&[u8]>,
    options: &CargoOptions,
) -> Result<Sbom> {
    check_size(metadata.len(), INPUT).map_err(bad)?;
    let meta: Metadata = serde_json::from_slice(metadata).map_err(|e| bad(e.to_string()))?;
    if meta.version != 1 {
        return Err(bad(format!(
            "format version {} (expected 1: --format-version 1)",
            meta.version
        )));
    }
    check_count(meta.packages.len()).map_err(bad)?;
    let resolve = meta
        .resolve
        .ok_or_else(|| bad("no \"resolve\" graph (was --no-deps given?)"))?;
    let checksums = match cargo_lock {
        Some(lock) => lock_checksums(lock)?,
        None => BTreeMap::new(),
    };
    let packages: BTreeMap<&str, &Package> =
        meta.packages.iter().map(|p| (p.id.as_str(), p)).collect();
    let nodes: BTreeMap<&str, &Node> = resolve.nodes.iter().map(|n| (n.id.as_str(), n)).collect();

    // The chosen roots.
    let roots: Vec<&str> = if !options.packages.is_empty() {
        let mut ids = Vec::new();
        for name in &options.packages {
            let id = meta
                .workspace_members
                .iter()
                .find(|id| packages.get(id.as_str()).is_some_and(|p| &p.name == name))
                .ok_or_else(|| bad(format!("{name:?} is not a workspace member")))?;
            ids.push(id.as_str());
        }
        ids
    } else if let Some(root) = resolve.root.as_deref() {
        vec![root]
    } else {
        meta.workspace_members.iter().map(String::as_str).collect()
    };
    if roots.is_empty() {
        return Err(bad("no workspace members"));
    }

    // Walk normal and build edges (dev-dependencies left out).
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut reached: BTreeSet<&str> = BTreeSet::new();
    let mut queue: VecDeque<&str> = roots.iter().copied().collect();
    let mut edges = 0usize;
    let purl_of = |id: &str| -> Result<String> {
        packages
            .get(id)
            .map(|p| cargo_purl(p).to_string())
            .ok_or_else(|| bad(format!("resolve names an unknown package {id:?}")))
    };
    while let Some(id) = queue.pop_front() {
        if !reached.insert(id) {
            continue;
        }
        let from = purl_of(id)?;
        graph.entry(from.clone()).or_default();
        let Some(node) = nodes.get(id) else {
            return Err(bad(format!(
                "package {id:?} has no node in the resolve graph"
            )));
        };
        for dep in &node.deps {
            let normal_or_build = dep.dep_kinds.is_empty()
                || dep
                    .dep_kinds
                    .iter()
                    .any(|k| k.kind.as_deref() != Some("dev"));
            if !normal_or_build {
                continue;
            }
            edges += 1;
            if edges > super::MAX_EDGES {
                return Err(bad("too many dependency edges"));
            }
            add_edge(&mut graph, &from, &purl_of(&dep.pkg)?);
            queue.push_back(dep.pkg.as_str());
        }
    }

    let mut components = Vec::new();
    for id in &reached {
        let p = packages
            .get(id)
            .ok_or_else(|| bad(format!("unknown package {id:?}")))?;
        let mut c = component(p, &checksums);
        if roots.contains(id) {
            c.kind = ComponentKind::Application;
        }
        components.push(c);
    }

    let mut sbom = Sbom {
        dependencies: graph,
        ..Sbom::default()
    };
    if roots.len() == 1 {
        let root_purl = purl_of(roots[0])?;
        let idx = components
            .iter()
            .position(|c| c.bom_ref == root_purl)
            .ok_or_else(|| bad("root package missing"))?;
        sbom.root = Some(components.remove(idx));
    } else {
        // Several members: a root for the workspace that depends on each.
        let name = std::path::Path::new(&meta.workspace_root)
            .file_name()
            .and_then(|n| n.to_str())
            .filter(|n| !n.is_empty())
            .unwrap_or("workspace")
            .to_owned();
        let bom_ref = format!("cos:workspace:{name}");
        for id in &roots {
            let member = purl_of(id)?;
            add_edge(&mut sbom.dependencies, &bom_ref, &member);
        }
        sbom.root = Some(Component {
            bom_ref,
            kind: ComponentKind::Application,
            name,
            ..Component::default()
        });
        sbom.properties.insert(
            "cos:cargo:workspace-members".into(),
            roots
                .iter()
                .filter_map(|id| packages.get(id).map(|p| p.name.clone()))
                .collect::<Vec<_>>()
                .join(" "),
        );
    }
    sbom.components = components;
    sbom.properties.insert(
        PROPERTY_GRAPH.into(),
        "complete: the resolved cargo graph (normal and build dependencies; dev-dependencies left out)"
            .into(),
    );
    sbom.normalize();
    Ok(sbom)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn git_and_registry_purls() {
        let mut p = Package {
            name: "x".into(),
            version: "1.0.0".into(),
            id: "x".into(),
            license: None,
            license_file: None,
            source: Some("git+https://github.com/a/b?rev=main#0123abcd".into()),
            authors: vec![],
        };
        assert_eq!(
            cargo_purl(&p).to_string(),
            "pkg:cargo/x@1.0.0?vcs_url=git%2Bhttps://github.com/a/b%400123abcd"
        );
        p.source = Some("sparse+https://index.crates.io/".into());
        assert_eq!(cargo_purl(&p).to_string(), "pkg:cargo/x@1.0.0");
        p.source = Some("sparse+https://my.registry/index/".into());
        assert_eq!(
            cargo_purl(&p).to_string(),
            "pkg:cargo/x@1.0.0?repository_url=https://my.registry/index/"
        );
    }

    #[test]
    fn lock_v1_metadata_checksums() {
        let lock = br#"
[[package]]
name = "a"
version = "1.0.0"
source = "registry+https://github.com/rust-lang/crates.io-index"

[metadata]
"checksum a 1.0.0 (registry+https://github.com/rust-lang/crates.io-index)" = "abab"
"#;
        let sums = lock_checksums(lock).unwrap();
        assert_eq!(
            sums.get(&(
                "a".into(),
                "1.0.0".into(),
                "registry+https://github.com/rust-lang/crates.io-index".into()
            )),
            Some(&"abab".to_string())
        );
    }
}
