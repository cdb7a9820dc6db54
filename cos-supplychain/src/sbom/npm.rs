//! npm: `package-lock.json` lockfileVersion 2 and 3 (the `packages` map).

use std::collections::{BTreeMap, BTreeSet};

use base64::Engine as _;
use serde::Deserialize;

use super::purl::Purl;
use super::{
    Component, ComponentKind, Hash, HashAlgorithm, License, PROPERTY_GRAPH, Sbom, Scope, add_edge,
    check_count, check_size,
};
use crate::{Error, Result};

const INPUT: &str = "package-lock.json";

/// Options of the npm producer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct NpmOptions {
    /// Keep `dev` and `devOptional` packages (left out by default).
    pub include_dev: bool,
}

impl NpmOptions {
    /// Options that keep (`true`) or leave out dev packages.
    pub fn with_dev(include_dev: bool) -> Self {
        NpmOptions { include_dev }
    }
}

#[derive(Deserialize)]
struct PackageLock {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    version: Option<String>,
    #[serde(rename = "lockfileVersion")]
    lockfile_version: u32,
    #[serde(default)]
    packages: BTreeMap<String, Entry>,
}

#[derive(Deserialize, Default)]
struct Entry {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    resolved: Option<String>,
    #[serde(default)]
    integrity: Option<String>,
    #[serde(default)]
    dev: bool,
    #[serde(default)]
    optional: bool,
    #[serde(default, rename = "devOptional")]
    dev_optional: bool,
    #[serde(default)]
    link: bool,
    #[serde(default)]
    license: Option<serde_json::Value>,
    #[serde(default)]
    dependencies: BTreeMap<String, serde_json::Value>,
    #[serde(default, rename = "optionalDependencies")]
    optional_dependencies: BTreeMap<String, serde_json::Value>,
    #[serde(default, rename = "peerDependencies")]
    peer_dependencies: BTreeMap<String, serde_json::Value>,
}

fn bad(reason: impl Into<String>) -> Error {
    Error::InvalidLockfile {
        input: INPUT,
        reason: reason.into(),
    }
}

/// `sha512-<base64> sha1-<base64>` → hashes (unknown algorithms skipped).
pub(super) fn integrity_hashes(integrity: &str) -> Vec<Hash> {
    integrity
        .split_whitespace()
        .filter_map(|item| {
            let (alg, b64) = item.split_once('-')?;
            let alg = match alg {
                "sha1" => HashAlgorithm::Sha1,
                "sha256" => HashAlgorithm::Sha256,
                "sha384" => HashAlgorithm::Sha384,
                "sha512" => HashAlgorithm::Sha512,
                _ => return None,
            };
            // Options (`?foo`) may follow the digest.
            let b64 = b64.split_once('?').map_or(b64, |(d, _)| d);
            let bytes = base64::engine::general_purpose::STANDARD.decode(b64).ok()?;
            Hash::from_hex(alg, &hex::encode(bytes))
        })
        .collect()
}

/// npm's `license`: a string, an old `{type}` object or a list of them.
fn npm_license(v: &serde_json::Value) -> Option<License> {
    match v {
        serde_json::Value::String(s) => License::from_declared(s),
        serde_json::Value::Object(o) => o
            .get("type")
            .and_then(|t| t.as_str())
            .and_then(License::from_declared),
        serde_json::Value::Array(items) => {
            let names: Vec<&str> = items
                .iter()
                .filter_map(|i| i.get("type").and_then(|t| t.as_str()).or(i.as_str()))
                .collect();
            if names.is_empty() {
                None
            } else {
                License::from_declared(&names.join(" OR "))
            }
        }
        _ => None,
    }
}

/// `@scope/name` → group `@scope`, name `name` (CycloneDX's way, as cdxgen).
fn split_scope(c: &mut Component) {
    if let Some((scope, rest)) = c.name.split_once('/')
        && scope.starts_with('@')
        && !rest.is_empty()
    {
        let (scope, rest) = (scope.to_owned(), rest.to_owned());
        c.group = Some(scope);
        c.name = rest;
    }
}

/// The package name at a `packages` key: the part after the last
/// `node_modules/` (`@scope/name` included), else the last path segment.
fn name_at(key: &str) -> &str {
    match key.rfind("node_modules/") {
        Some(i) => &key[i + "node_modules/".len()..],
        None => key.rsplit('/').next().unwrap_or(key),
    }
}

/// The key a package's requirement of `dep` resolves to, Node's way: the
/// nearest `node_modules/<dep>` walking up from `from`.
fn resolve<'a>(packages: &'a BTreeMap<String, Entry>, from: &str, dep: &str) -> Option<&'a str> {
    let mut base = from.to_owned();
    loop {
        let candidate = if base.is_empty() {
            format!("node_modules/{dep}")
        } else {
            format!("{base}/node_modules/{dep}")
        };
        if let Some((k, _)) = packages.get_key_value(&candidate) {
            return Some(k.as_str());
        }
        if base.is_empty() {
            return None;
        }
        // Up one level: drop the last `/node_modules/<name>`; a workspace
        // package (`packages/a`) goes up to the root.
        base = match base.rfind("/node_modules/") {
            Some(i) => base[..i].to_owned(),
            None => String::new(),
        };
    }
}

pub(super) fn from_package_lock(lock: &[u8], options: &NpmOptions) -> Result<Sbom> {
    check_size(lock.len(), INPUT).map_err(bad)?;
    let lock: PackageLock = serde_json::from_slice(lock).map_err(|e| bad(e.to_string()))?;
    if !(2..=3).contains(&lock.lockfile_version) {
        return Err(bad(format!(
            "lockfileVersion {} is not supported (2 or 3; npm 7 or later writes them)",
            lock.lockfile_version
        )));
    }
    check_count(lock.packages.len()).map_err(bad)?;
    let packages = &lock.packages;
    let empty = Entry::default();
    let root_entry = packages.get("").unwrap_or(&empty);

    // Follows `link` entries to their target key.
    let target = |key: &str| -> String {
        match packages.get(key) {
            Some(e) if e.link => e.resolved.clone().unwrap_or_else(|| key.to_owned()),
            _ => key.to_owned(),
        }
    };
    let included = |key: &str| -> bool {
        match packages.get(key) {
            Some(e) => options.include_dev || !(e.dev || e.dev_optional),
            None => false,
        }
    };

    // The root.
    let root_name = root_entry
        .name
        .clone()
        .or(lock.name.clone())
        .unwrap_or_else(|| "npm-project".into());
    let root_version = root_entry.version.clone().or(lock.version.clone());
    let root_purl = Purl::npm(&root_name, root_version.as_deref()).to_string();
    let mut root = Component::library(&root_name, root_version.as_deref(), root_purl.clone());
    root.kind = ComponentKind::Application;
    root.license = root_entry.license.as_ref().and_then(npm_license);
    split_scope(&mut root);

    // One component per included key (linked workspace packages at their target).
    let mut refs: BTreeMap<String, String> = BTreeMap::new(); // key -> bom_ref
    refs.insert(String::new(), root_purl.clone());
    let mut components = Vec::new();
    for (key, e) in packages {
        if key.is_empty() || e.link || !included(key) {
            continue;
        }
        let name = e.name.clone().unwrap_or_else(|| name_at(key).to_owned());
        if name.is_empty() {
            return Err(bad(format!("no package name at {key:?}")));
        }
        let purl = Purl::npm(&name, e.version.as_deref()).to_string();
        let mut c = Component::library(&name, e.version.as_deref(), purl.clone());
        split_scope(&mut c);
        if let Some(i) = &e.integrity {
            c.add_hashes(integrity_hashes(i));
        }
        c.license = e.license.as_ref().and_then(npm_license);
        if e.optional || e.dev_optional {
            c.scope = Scope::Optional;
        }
        if !key.contains("node_modules/") {
            // A workspace package.
            c.kind = ComponentKind::Application;
        }
        refs.insert(key.clone(), purl);
        components.push(c);
    }

    // Edges: each package's dependencies, resolved the way Node does.
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut edges = 0usize;
    for (key, from_ref) in &refs {
        let e = packages.get(key).unwrap_or(&empty);
        graph.entry(from_ref.clone()).or_default();
        let deps = e
            .dependencies
            .keys()
            .chain(e.optional_dependencies.keys())
            .chain(e.peer_dependencies.keys());
        for dep in deps {
            let Some(found) = resolve(packages, key, dep) else {
                continue; // not installed (e.g. an optional for another platform)
            };
            let found = target(found);
            if let Some(to) = refs.get(&found) {
                edges += 1;
                if edges > super::MAX_EDGES {
                    return Err(bad("too many dependency edges"));
                }
                if to != from_ref {
                    add_edge(&mut graph, from_ref, to);
                }
            }
        }
    }
    // Workspace packages linked from the root are its dependencies too.
    for (key, e) in packages {
        if e.link
            && key.starts_with("node_modules/")
            && !key[13..].contains("node_modules/")
            && let Some(to) = refs.get(&target(key))
        {
            add_edge(&mut graph, &root_purl, to);
        }
    }

    let mut sbom = Sbom {
        root: Some(root),
        components,
        dependencies: graph,
        ..Sbom::default()
    };
    sbom.properties.insert(
        PROPERTY_GRAPH.into(),
        if options.include_dev {
            "complete: package-lock.json, node_modules resolution; dev packages included"
        } else {
            "complete: package-lock.json, node_modules resolution; dev and devOptional packages left out"
        }
        .into(),
    );
    sbom.normalize();
    Ok(sbom)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integrity_to_hex() {
        let h = integrity_hashes(
            "sha512-XI5MPzVNApjAyhQzphX8BkmKsKUxD4LdyK24iZeQEkAn2bgFn1RDT6UwyxTDnyTvwOe4PMrlgHFjibK6AX2A6g== sha1-AAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        );
        assert_eq!(h.len(), 2);
        assert_eq!(h[0].algorithm, HashAlgorithm::Sha512);
        assert_eq!(h[0].value.len(), 128);
        assert_eq!(h[1].algorithm, HashAlgorithm::Sha1);
        assert!(integrity_hashes("md5-xx sha512-!!").is_empty());
    }

    #[test]
    fn node_resolution_walks_up() {
        let mut p = BTreeMap::new();
        for k in [
            "node_modules/a",
            "node_modules/b",
            "node_modules/a/node_modules/b",
            "node_modules/@s/c",
        ] {
            p.insert(k.to_string(), Entry::default());
        }
        assert_eq!(
            resolve(&p, "node_modules/a", "b"),
            Some("node_modules/a/node_modules/b")
        );
        assert_eq!(
            resolve(&p, "node_modules/@s/c", "b"),
            Some("node_modules/b")
        );
        assert_eq!(resolve(&p, "", "@s/c"), Some("node_modules/@s/c"));
        assert_eq!(resolve(&p, "packages/w", "a"), Some("node_modules/a"));
        assert_eq!(resolve(&p, "", "zzz"), None);
        assert_eq!(name_at("node_modules/a/node_modules/@s/c"), "@s/c");
    }
}
