//! Python: `requirements.txt` with hashes, `poetry.lock`, `uv.lock`.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use serde::Deserialize;

use super::purl::{Purl, normalize_python_name};
use super::{
    Component, ComponentKind, Hash, PROPERTY_GRAPH, Sbom, Scope, add_edge, check_count, check_size,
};
use crate::{Error, Result};

/// Options of the Python producers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PythonOptions {
    /// Name of the root component (the project): `requirements.txt` and
    /// `poetry.lock` do not record it. Default: `python-project`.
    pub root_name: Option<String>,
    /// Version of the root component.
    pub root_version: Option<String>,
    /// Keep dev packages (poetry groups other than `main`, uv dev groups).
    pub include_dev: bool,
}

impl PythonOptions {
    /// Options with this root name.
    pub fn with_root(name: impl Into<String>) -> Self {
        PythonOptions {
            root_name: Some(name.into()),
            ..PythonOptions::default()
        }
    }

    fn root(&self) -> Component {
        let name = self
            .root_name
            .clone()
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| "python-project".into());
        let purl = Purl::pypi(&name, self.root_version.as_deref()).to_string();
        let mut c = Component::library(&name, self.root_version.as_deref(), purl);
        c.kind = ComponentKind::Application;
        c
    }
}

fn text<'a>(input: &'static str, bytes: &'a [u8]) -> Result<&'a str> {
    let bad = |reason: String| Error::InvalidLockfile { input, reason };
    check_size(bytes.len(), input).map_err(bad)?;
    std::str::from_utf8(bytes).map_err(|_| bad("not UTF-8".into()))
}

// ---------------------------------------------------------------- requirements.txt

const REQUIREMENTS: &str = "requirements.txt";

fn bad_req(reason: impl Into<String>) -> Error {
    Error::InvalidLockfile {
        input: REQUIREMENTS,
        reason: reason.into(),
    }
}

/// Logical lines: comments removed, `\` continuations joined.
fn logical_lines(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut start = 0;
    for (i, raw) in text.lines().enumerate() {
        if current.is_empty() {
            start = i + 1;
        }
        // A comment starts at a `#` at the line start or after whitespace.
        let mut line = raw;
        let bytes = raw.as_bytes();
        for (j, b) in bytes.iter().enumerate() {
            if *b == b'#' && (j == 0 || bytes[j - 1].is_ascii_whitespace()) {
                line = &raw[..j];
                break;
            }
        }
        let trimmed = line.trim_end();
        if let Some(cont) = trimmed.strip_suffix('\\') {
            current.push_str(cont);
            current.push(' ');
            continue;
        }
        current.push_str(trimmed);
        if !current.trim().is_empty() {
            out.push((start, current.trim().to_owned()));
        }
        current.clear();
    }
    if !current.trim().is_empty() {
        out.push((start, current.trim().to_owned()));
    }
    out
}

pub(super) fn from_requirements(bytes: &[u8], options: &PythonOptions) -> Result<Sbom> {
    let text = text(REQUIREMENTS, bytes)?;
    let root = options.root();
    let mut sbom = Sbom::default();
    let mut notes = Vec::new();
    for (line_no, line) in logical_lines(text) {
        if line.starts_with('-') {
            let opt = line.split([' ', '=']).next().unwrap_or("");
            if matches!(
                opt,
                "-r" | "--requirement" | "-c" | "--constraint" | "-e" | "--editable"
            ) {
                notes.push(format!("line {line_no}: {opt} not followed"));
            }
            continue;
        }
        // Split off the options (--hash=...) from the requirement.
        let mut spec_end = line.len();
        if let Some(i) = line.find(" --") {
            spec_end = i;
        }
        let (spec, opts) = line.split_at(spec_end);
        let mut hashes = Vec::new();
        let mut tokens = opts.split_whitespace().peekable();
        while let Some(tok) = tokens.next() {
            let value = if let Some(v) = tok.strip_prefix("--hash=") {
                v.to_owned()
            } else if tok == "--hash" {
                tokens.next().unwrap_or_default().to_owned()
            } else {
                continue;
            };
            let h = Hash::from_prefixed(&value)
                .ok_or_else(|| bad_req(format!("line {line_no}: bad hash {value:?}")))?;
            hashes.push(h);
        }
        let spec = spec.split(';').next().unwrap_or("").trim();
        let (name_part, version) = if let Some((n, v)) = spec.split_once("===") {
            (n, Some(v.trim()))
        } else if let Some((n, v)) = spec.split_once("==") {
            (n, Some(v.trim()))
        } else if let Some((n, _url)) = spec.split_once(" @ ") {
            (n, None)
        } else {
            return Err(bad_req(format!(
                "line {line_no}: {spec:?} is not pinned with == (a hashed requirements file pins every version)"
            )));
        };
        let name = name_part.split('[').next().unwrap_or("").trim();
        let valid_name = !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
        if !valid_name {
            return Err(bad_req(format!(
                "line {line_no}: {name:?} is not a package name"
            )));
        }
        if let Some(v) = version
            && (v.is_empty() || v.contains(',') || v.contains(' '))
        {
            return Err(bad_req(format!("line {line_no}: bad version {v:?}")));
        }
        let normalized = normalize_python_name(name);
        let purl = Purl::pypi(name, version).to_string();
        let mut c = Component::library(&normalized, version, purl.clone());
        c.add_hashes(hashes);
        add_edge(&mut sbom.dependencies, &root.bom_ref, &purl);
        sbom.components.push(c);
        check_count(sbom.components.len()).map_err(bad_req)?;
    }
    sbom.dependencies.entry(root.bom_ref.clone()).or_default();
    sbom.root = Some(root);
    sbom.properties.insert(
        PROPERTY_GRAPH.into(),
        "flat: requirements.txt records no dependency relations; every requirement is listed as a direct dependency of the root and the requirements' own dependencies are unknown"
            .into(),
    );
    if !notes.is_empty() {
        sbom.properties
            .insert("cos:requirements:not-followed".into(), notes.join("; "));
    }
    sbom.normalize();
    Ok(sbom)
}

// ---------------------------------------------------------------- poetry.lock

const POETRY: &str = "poetry.lock";

#[derive(Deserialize)]
struct PoetryLock {
    #[serde(default)]
    package: Vec<PoetryPackage>,
    #[serde(default)]
    metadata: Option<PoetryMetadata>,
}

#[derive(Deserialize)]
struct PoetryMetadata {
    #[serde(default, rename = "lock-version")]
    lock_version: Option<String>,
    #[serde(default)]
    files: BTreeMap<String, Vec<PoetryFile>>,
}

#[derive(Deserialize)]
struct PoetryPackage {
    name: String,
    version: String,
    #[serde(default)]
    optional: bool,
    #[serde(default)]
    category: Option<String>,
    #[serde(default)]
    groups: Option<Vec<String>>,
    #[serde(default)]
    files: Vec<PoetryFile>,
    #[serde(default)]
    dependencies: BTreeMap<String, toml::Value>,
    #[serde(default)]
    source: Option<PoetrySource>,
}

#[derive(Deserialize)]
struct PoetryFile {
    #[serde(default)]
    hash: Option<String>,
}

#[derive(Deserialize)]
struct PoetrySource {
    #[serde(default, rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    resolved_reference: Option<String>,
}

fn bad_poetry(reason: impl Into<String>) -> Error {
    Error::InvalidLockfile {
        input: POETRY,
        reason: reason.into(),
    }
}

pub(super) fn from_poetry_lock(bytes: &[u8], options: &PythonOptions) -> Result<Sbom> {
    let text = text(POETRY, bytes)?;
    let lock: PoetryLock = toml::from_str(text).map_err(|e| bad_poetry(e.to_string()))?;
    check_count(lock.package.len()).map_err(bad_poetry)?;
    let (lock_version, mut old_files) = match lock.metadata {
        Some(m) => (m.lock_version, m.files),
        None => (None, BTreeMap::new()),
    };
    let records_groups = lock
        .package
        .iter()
        .any(|p| p.groups.is_some() || p.category.is_some());
    let is_main = |p: &PoetryPackage| -> bool {
        match (&p.groups, &p.category) {
            (Some(groups), _) => groups.iter().any(|g| g == "main"),
            (None, Some(category)) => category == "main",
            (None, None) => true,
        }
    };
    let root = options.root();
    let mut sbom = Sbom::default();
    // name -> bom_refs of included packages
    let mut by_name: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut kept: Vec<(&PoetryPackage, String)> = Vec::new();
    for p in &lock.package {
        if !options.include_dev && !is_main(p) {
            continue;
        }
        let name = normalize_python_name(&p.name);
        let mut qualifiers = Vec::new();
        if let Some(src) = &p.source {
            match (src.kind.as_deref(), &src.url) {
                (Some("git"), Some(url)) => {
                    let at = src
                        .resolved_reference
                        .as_deref()
                        .map(|r| format!("@{r}"))
                        .unwrap_or_default();
                    qualifiers.push(("vcs_url", format!("git+{url}{at}")));
                }
                (Some("url"), Some(url)) => qualifiers.push(("download_url", url.clone())),
                (Some("legacy"), Some(url)) => qualifiers.push(("repository_url", url.clone())),
                _ => {}
            }
        }
        let q: Vec<(&str, &str)> = qualifiers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let purl = Purl::new("pypi", None, &name, Some(&p.version), &q).to_string();
        let mut c = Component::library(&name, Some(&p.version), purl.clone());
        let files = if p.files.is_empty() {
            old_files.remove(&p.name).unwrap_or_default()
        } else {
            Vec::new()
        };
        c.add_hashes(
            p.files
                .iter()
                .chain(files.iter())
                .filter_map(|f| f.hash.as_deref().and_then(Hash::from_prefixed)),
        );
        if p.optional {
            c.scope = Scope::Optional;
        }
        if let Some(src) = &p.source
            && let Some(kind) = &src.kind
        {
            c.properties
                .insert("cos:poetry:source-type".into(), kind.clone());
        }
        by_name.entry(name).or_default().push(purl.clone());
        sbom.components.push(c);
        kept.push((p, purl));
    }
    let mut has_parent: BTreeSet<String> = BTreeSet::new();
    for (p, from) in &kept {
        sbom.dependencies.entry(from.clone()).or_default();
        for dep in p.dependencies.keys() {
            if let Some(targets) = by_name.get(&normalize_python_name(dep)) {
                for t in targets {
                    if t != from {
                        add_edge(&mut sbom.dependencies, from, t);
                        has_parent.insert(t.clone());
                    }
                }
            }
        }
    }
    // poetry.lock does not say which packages pyproject.toml asks for: the
    // root depends on those nothing else depends on.
    let tops: Vec<String> = sbom
        .components
        .iter()
        .filter(|c| !has_parent.contains(&c.bom_ref))
        .map(|c| c.bom_ref.clone())
        .collect();
    for t in tops {
        add_edge(&mut sbom.dependencies, &root.bom_ref, &t);
    }
    sbom.dependencies.entry(root.bom_ref.clone()).or_default();
    sbom.root = Some(root);
    let mut graph_note = String::from(
        "from poetry.lock: package dependencies as locked; the root's direct dependencies are inferred (the packages nothing else depends on), pyproject.toml is not read",
    );
    if !records_groups && !options.include_dev {
        graph_note.push_str(
            "; this lock file records no groups or categories (lock-version 2.0 of Poetry 1.5-1.8), so dev packages cannot be told apart and are included",
        );
    }
    sbom.properties.insert(PROPERTY_GRAPH.into(), graph_note);
    if let Some(v) = lock_version {
        sbom.properties.insert("cos:poetry:lock-version".into(), v);
    }
    sbom.normalize();
    Ok(sbom)
}

// ---------------------------------------------------------------- uv.lock

const UV: &str = "uv.lock";

#[derive(Deserialize)]
struct UvLock {
    #[serde(default)]
    version: Option<u32>,
    #[serde(default)]
    package: Vec<UvPackage>,
    #[serde(default)]
    manifest: Option<UvManifest>,
}

#[derive(Deserialize)]
struct UvManifest {
    #[serde(default)]
    members: Vec<String>,
}

#[derive(Deserialize)]
struct UvPackage {
    name: String,
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    source: BTreeMap<String, toml::Value>,
    #[serde(default)]
    dependencies: Vec<UvDep>,
    #[serde(default, rename = "optional-dependencies")]
    optional_dependencies: BTreeMap<String, Vec<UvDep>>,
    #[serde(default, rename = "dev-dependencies")]
    dev_dependencies: BTreeMap<String, Vec<UvDep>>,
    #[serde(default)]
    sdist: Option<UvDist>,
    #[serde(default)]
    wheels: Vec<UvDist>,
}

#[derive(Deserialize)]
struct UvDep {
    name: String,
    #[serde(default)]
    version: Option<String>,
}

#[derive(Deserialize)]
struct UvDist {
    #[serde(default)]
    hash: Option<String>,
}

fn bad_uv(reason: impl Into<String>) -> Error {
    Error::InvalidLockfile {
        input: UV,
        reason: reason.into(),
    }
}

fn uv_purl(p: &UvPackage) -> String {
    let name = normalize_python_name(&p.name);
    let mut q: Vec<(&str, String)> = Vec::new();
    if let Some(toml::Value::String(url)) = p.source.get("git") {
        // git = "https://github.com/a/b?rev=x#<commit>"
        let (url, commit) = url.split_once('#').unwrap_or((url.as_str(), ""));
        let url = url.split_once('?').map_or(url, |(u, _)| u);
        let at = if commit.is_empty() {
            String::new()
        } else {
            format!("@{commit}")
        };
        q.push(("vcs_url", format!("git+{url}{at}")));
    } else if let Some(toml::Value::String(url)) = p.source.get("url") {
        q.push(("download_url", url.clone()));
    } else if let Some(toml::Value::String(url)) = p.source.get("registry")
        && url != "https://pypi.org/simple"
        && !url.starts_with("https://pypi.org/")
    {
        q.push(("repository_url", url.clone()));
    }
    let q: Vec<(&str, &str)> = q.iter().map(|(k, v)| (*k, v.as_str())).collect();
    Purl::new("pypi", None, &name, p.version.as_deref(), &q).to_string()
}

pub(super) fn from_uv_lock(bytes: &[u8], options: &PythonOptions) -> Result<Sbom> {
    let text = text(UV, bytes)?;
    let lock: UvLock = toml::from_str(text).map_err(|e| bad_uv(e.to_string()))?;
    if let Some(v) = lock.version
        && v != 1
    {
        return Err(bad_uv(format!("version {v} is not supported (1)")));
    }
    check_count(lock.package.len()).map_err(bad_uv)?;
    let refs: Vec<String> = lock.package.iter().map(uv_purl).collect();
    let mut by_name: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, p) in lock.package.iter().enumerate() {
        by_name
            .entry(normalize_python_name(&p.name))
            .or_default()
            .push(i);
    }
    let find = |d: &UvDep| -> Vec<usize> {
        let all = by_name
            .get(&normalize_python_name(&d.name))
            .cloned()
            .unwrap_or_default();
        match &d.version {
            Some(v) => all
                .into_iter()
                .filter(|i| lock.package[*i].version.as_deref() == Some(v.as_str()))
                .collect(),
            None => all,
        }
    };
    // The project(s): editable or virtual sources at the workspace root, or
    // the manifest's members.
    let members: BTreeSet<String> = lock
        .manifest
        .as_ref()
        .map(|m| m.members.iter().map(|n| normalize_python_name(n)).collect())
        .unwrap_or_default();
    let mut roots: Vec<usize> = lock
        .package
        .iter()
        .enumerate()
        .filter(|(_, p)| {
            if !members.is_empty() {
                return members.contains(&normalize_python_name(&p.name));
            }
            ["editable", "virtual"]
                .iter()
                .any(|k| matches!(p.source.get(*k), Some(toml::Value::String(path)) if path == "."))
        })
        .map(|(i, _)| i)
        .collect();
    if roots.is_empty() {
        // No project found: every package nothing depends on.
        let mut depended: BTreeSet<usize> = BTreeSet::new();
        for p in &lock.package {
            for d in &p.dependencies {
                depended.extend(find(d));
            }
        }
        roots = (0..lock.package.len())
            .filter(|i| !depended.contains(i))
            .collect();
    }

    // Walk: required dependencies, optional ones (extras) as optional, dev
    // groups only when asked.
    let mut scope: BTreeMap<usize, Scope> = BTreeMap::new();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut queue: VecDeque<(usize, Scope)> = roots.iter().map(|i| (*i, Scope::Required)).collect();
    let mut edges = 0usize;
    while let Some((i, s)) = queue.pop_front() {
        match scope.get(&i) {
            Some(Scope::Required) => continue,
            Some(_) if s != Scope::Required => continue,
            _ => {}
        }
        scope.insert(i, s);
        let p = &lock.package[i];
        graph.entry(refs[i].clone()).or_default();
        let mut next: Vec<(&UvDep, Scope)> = p.dependencies.iter().map(|d| (d, s)).collect();
        for deps in p.optional_dependencies.values() {
            next.extend(deps.iter().map(|d| (d, Scope::Optional)));
        }
        if options.include_dev && roots.contains(&i) {
            for deps in p.dev_dependencies.values() {
                next.extend(deps.iter().map(|d| (d, s)));
            }
        }
        for (d, ds) in next {
            for j in find(d) {
                edges += 1;
                if edges > super::MAX_EDGES {
                    return Err(bad_uv("too many dependency edges"));
                }
                if j != i {
                    add_edge(&mut graph, &refs[i], &refs[j]);
                }
                queue.push_back((j, ds));
            }
        }
    }

    let mut sbom = Sbom {
        dependencies: graph,
        ..Sbom::default()
    };
    for (i, s) in &scope {
        let p = &lock.package[*i];
        let name = normalize_python_name(&p.name);
        let mut c = Component::library(&name, p.version.as_deref(), refs[*i].clone());
        c.scope = *s;
        c.add_hashes(
            p.sdist
                .iter()
                .chain(p.wheels.iter())
                .filter_map(|d| d.hash.as_deref().and_then(Hash::from_prefixed)),
        );
        if roots.contains(i) {
            c.kind = ComponentKind::Application;
        }
        sbom.components.push(c);
    }
    if roots.len() == 1 {
        let r = &refs[roots[0]];
        if let Some(idx) = sbom.components.iter().position(|c| &c.bom_ref == r) {
            sbom.root = Some(sbom.components.remove(idx));
        }
    } else {
        let mut root = options.root();
        root.bom_ref = format!("cos:workspace:{}", root.name);
        root.purl = None;
        for i in &roots {
            add_edge(&mut sbom.dependencies, &root.bom_ref, &refs[*i]);
        }
        sbom.root = Some(root);
    }
    sbom.properties.insert(
        PROPERTY_GRAPH.into(),
        if options.include_dev {
            "complete: uv.lock dependencies from the project, extras as optional, dev groups included"
        } else {
            "complete: uv.lock dependencies from the project, extras as optional, dev groups left out"
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
    fn logical_lines_join_and_strip() {
        let lines = logical_lines("a==1 \\\n  --hash=sha256:x # c\n# only\n\nb==2#notcomment\n");
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].1, "a==1    --hash=sha256:x");
        assert_eq!(lines[1].1, "b==2#notcomment");
    }
}
