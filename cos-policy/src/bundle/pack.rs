//! Policy packs: reading them safely from a directory, a `.tar.gz` or bytes,
//! in either layout (a cos pack with `manifest.yaml`, or an OPA bundle), and
//! building them into OPA-compatible bundles.
//!
//! Everything read from outside is bounded by [`Limits`]; paths are checked
//! before anything else happens: absolute paths, `..`, empty or `.`
//! components, backslashes and control characters are refused, and so are
//! symbolic and hard links, devices, FIFOs and sockets. A single leading `/`
//! in a tarball entry is read as the bundle root, as OPA writes and reads
//! bundles (`opa build` names its entries `/.manifest`, `/x/data.json`).

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

use cos_core::{Digest, DigestAlgorithm};

use crate::bundle::manifest::{
    BUNDLE_MANIFEST, BundleManifest, Manifest, PACK_MANIFEST, check_doc_path, under_root,
};
use crate::error::{Error, Result};

/// File name of OPA bundle signatures.
pub const SIGNATURES_FILE: &str = ".signatures.json";

/// The key of a bundle's `.manifest` `metadata` that lists the files that are
/// the pack's tests (written by [`Pack::build_bundle_with_tests`]).
pub const TESTS_METADATA: &str = "tests";

/// Limits on what is read from a pack or bundle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Most files.
    pub max_files: usize,
    /// Largest single file, in bytes.
    pub max_file_size: u64,
    /// Most bytes over all files.
    pub max_total_size: u64,
    /// Most bytes a compressed archive may expand to (tar headers included).
    pub max_decompressed_size: u64,
    /// Longest path inside the pack, in bytes.
    pub max_path_len: usize,
}

impl Default for Limits {
    /// 10,000 files, 16 MiB a file, 128 MiB in all, 160 MiB decompressed,
    /// paths up to 1,024 bytes.
    fn default() -> Self {
        Limits {
            max_files: 10_000,
            max_file_size: 16 << 20,
            max_total_size: 128 << 20,
            max_decompressed_size: 160 << 20,
            max_path_len: 1024,
        }
    }
}

fn limit(what: impl Into<String>, limit: u64) -> Error {
    Error::LimitExceeded {
        what: what.into(),
        limit,
    }
}

fn bad_file(path: &str, reason: impl Into<String>) -> Error {
    Error::InvalidFile {
        path: path.chars().take(200).collect(),
        reason: reason.into(),
    }
}

/// Normalises a path inside a pack to `a/b/c`, refusing anything unsafe.
fn normalise(raw: &str, from_archive: bool, limits: &Limits) -> Result<String> {
    if raw.len() > limits.max_path_len {
        return Err(limit(
            format!(
                "path length of {:?}…",
                &raw.chars().take(40).collect::<String>()
            ),
            limits.max_path_len as u64,
        ));
    }
    if raw.chars().any(|c| c.is_control()) {
        return Err(bad_file(raw, "control characters in path"));
    }
    if raw.contains('\\') {
        return Err(bad_file(raw, "backslash in path"));
    }
    let mut p = raw;
    if from_archive {
        p = p.strip_prefix("./").unwrap_or(p);
        if let Some(rest) = p.strip_prefix('/') {
            if rest.starts_with('/') {
                return Err(bad_file(raw, "absolute path"));
            }
            p = rest;
        }
    } else if p.starts_with('/') {
        return Err(bad_file(raw, "absolute path"));
    }
    let p = p.strip_suffix('/').unwrap_or(p);
    if p.is_empty() {
        return Err(bad_file(raw, "empty path"));
    }
    for seg in p.split('/') {
        match seg {
            "" => return Err(bad_file(raw, "empty path component")),
            "." | ".." => return Err(bad_file(raw, "path traversal ('.' or '..' component)")),
            _ => {}
        }
    }
    Ok(p.to_owned())
}

/// The raw files of a pack or bundle, by normalised path.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PackFiles {
    files: BTreeMap<String, Vec<u8>>,
    total: u64,
}

impl PackFiles {
    fn insert(&mut self, path: String, bytes: Vec<u8>, limits: &Limits) -> Result<()> {
        if bytes.len() as u64 > limits.max_file_size {
            return Err(limit(format!("size of {path}"), limits.max_file_size));
        }
        if self.files.len() >= limits.max_files {
            return Err(limit("number of files", limits.max_files as u64));
        }
        self.total += bytes.len() as u64;
        if self.total > limits.max_total_size {
            return Err(limit("total size of files", limits.max_total_size));
        }
        if self.files.contains_key(&path) {
            return Err(bad_file(&path, "appears twice"));
        }
        self.files.insert(path, bytes);
        Ok(())
    }

    /// Files given in memory (e.g. modules and data a server received), by
    /// path; paths are checked and limits applied as for a directory.
    pub fn from_map(files: BTreeMap<String, Vec<u8>>, limits: &Limits) -> Result<Self> {
        let mut out = PackFiles::default();
        for (path, bytes) in files {
            let path = normalise(&path, false, limits)?;
            out.insert(path, bytes, limits)?;
        }
        Ok(out)
    }

    /// Files by path, sorted.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.files.iter().map(|(k, v)| (k.as_str(), v.as_slice()))
    }

    /// One file's bytes.
    pub fn get(&self, path: &str) -> Option<&[u8]> {
        self.files.get(path).map(Vec::as_slice)
    }

    /// Number of files.
    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// Whether there are no files.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// Reads a directory tree. Hidden entries (names starting with `.`) are
    /// skipped, except `.manifest` and `.signatures.json` at the top.
    pub fn from_dir(root: &Path, limits: &Limits) -> Result<Self> {
        let mut out = PackFiles::default();
        let meta = std::fs::metadata(root).map_err(|source| cos_core::Error::Io {
            op: "open",
            path: root.to_owned(),
            source,
        })?;
        if !meta.is_dir() {
            return Err(Error::InvalidPack {
                reason: format!("{} is not a directory", root.display()),
            });
        }
        let mut stack = vec![(root.to_path_buf(), String::new())];
        while let Some((dir, prefix)) = stack.pop() {
            let entries = std::fs::read_dir(&dir).map_err(|source| cos_core::Error::Io {
                op: "read directory",
                path: dir.clone(),
                source,
            })?;
            let mut entries: Vec<_> = entries
                .map(|e| {
                    e.map_err(|source| cos_core::Error::Io {
                        op: "read directory",
                        path: dir.clone(),
                        source,
                    })
                })
                .collect::<std::result::Result<_, _>>()?;
            entries.sort_by_key(|e| e.file_name());
            for entry in entries {
                let name = entry.file_name();
                let name = name.to_str().ok_or_else(|| {
                    bad_file(
                        &format!("{prefix}{}", name.to_string_lossy()),
                        "name is not UTF-8",
                    )
                })?;
                let rel = format!("{prefix}{name}");
                let top_special =
                    prefix.is_empty() && (name == BUNDLE_MANIFEST || name == SIGNATURES_FILE);
                if name.starts_with('.') && !top_special {
                    continue;
                }
                let rel = normalise(&rel, false, limits)?;
                let ft = entry.file_type().map_err(|source| cos_core::Error::Io {
                    op: "stat",
                    path: entry.path(),
                    source,
                })?;
                if ft.is_symlink() {
                    return Err(bad_file(&rel, "symbolic links are not allowed in a pack"));
                } else if ft.is_dir() {
                    stack.push((entry.path(), format!("{rel}/")));
                } else if ft.is_file() {
                    let bytes = cos_core::file::read_limited(entry.path(), limits.max_file_size)
                        .map_err(|e| match e {
                            cos_core::Error::TooLarge { .. } => {
                                limit(format!("size of {rel}"), limits.max_file_size)
                            }
                            other => other.into(),
                        })?;
                    out.insert(rel, bytes, limits)?;
                } else {
                    return Err(bad_file(
                        &rel,
                        "devices, FIFOs and sockets are not allowed in a pack",
                    ));
                }
            }
        }
        Ok(out)
    }

    /// Reads a tarball, gzip-compressed or not.
    pub fn from_archive(bytes: &[u8], limits: &Limits) -> Result<Self> {
        let gz = bytes.starts_with(&[0x1f, 0x8b]);
        let reader: Box<dyn Read + '_> = if gz {
            Box::new(flate2::read::GzDecoder::new(bytes))
        } else {
            Box::new(bytes)
        };
        let bounded = Bounded {
            inner: reader,
            left: limits.max_decompressed_size,
            tripped: false,
        };
        let mut archive = tar::Archive::new(bounded);
        let mut out = PackFiles::default();
        // The tar crate's messages quote raw bytes of what it read (`numeric
        // field did not have utf-8 text: <bytes> when getting cksum for
        // <bytes>`: a symlinked /etc/passwd, binary): only what went wrong
        // is kept, escaped and capped.
        let tar_err = |e: std::io::Error| {
            let text = e.to_string();
            let what = text.split(':').next().unwrap_or_default();
            Error::InvalidPack {
                reason: format!(
                    "not a valid {}tarball: {}",
                    if gz { "gzip " } else { "" },
                    cos_core::text::escape_untrusted(what, 80)
                ),
            }
        };
        let entries = archive.entries().map_err(tar_err)?;
        for entry in entries {
            let mut entry = entry.map_err(|e| {
                if e.kind() == std::io::ErrorKind::FileTooLarge {
                    limit("decompressed size", limits.max_decompressed_size)
                } else {
                    tar_err(e)
                }
            })?;
            let raw = entry.path_bytes();
            let raw = std::str::from_utf8(&raw)
                .map_err(|_| bad_file(&String::from_utf8_lossy(&raw), "name is not UTF-8"))?
                .to_owned();
            let kind = entry.header().entry_type();
            use tar::EntryType as T;
            match kind {
                T::Directory => {
                    normalise(&raw, true, limits).or_else(|e| {
                        if raw == "/" || raw == "./" {
                            Ok(String::new())
                        } else {
                            Err(e)
                        }
                    })?;
                    continue;
                }
                T::Regular | T::Continuous => {}
                T::Symlink | T::Link => {
                    return Err(bad_file(&raw, "links are not allowed in a pack"));
                }
                T::Char | T::Block | T::Fifo => {
                    return Err(bad_file(
                        &raw,
                        "devices and FIFOs are not allowed in a pack",
                    ));
                }
                other => {
                    return Err(bad_file(
                        &raw,
                        format!("unsupported tar entry type {:?}", other.as_byte() as char),
                    ));
                }
            }
            let path = normalise(&raw, true, limits)?;
            let size = entry.header().size().map_err(tar_err)?;
            if size > limits.max_file_size {
                return Err(limit(format!("size of {path}"), limits.max_file_size));
            }
            let mut buf = Vec::with_capacity(size as usize);
            (&mut entry)
                .take(limits.max_file_size + 1)
                .read_to_end(&mut buf)
                .map_err(|e| {
                    if e.kind() == std::io::ErrorKind::FileTooLarge {
                        limit("decompressed size", limits.max_decompressed_size)
                    } else {
                        tar_err(e)
                    }
                })?;
            out.insert(path, buf, limits)?;
        }
        Ok(out)
    }
}

/// A reader that fails once more than `left` bytes were read.
struct Bounded<R> {
    inner: R,
    left: u64,
    tripped: bool,
}

impl<R: Read> Read for Bounded<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.tripped {
            return Err(std::io::Error::new(
                std::io::ErrorKind::FileTooLarge,
                "decompressed size limit",
            ));
        }
        let n = self.inner.read(buf)?;
        if n as u64 > self.left {
            self.tripped = true;
            return Err(std::io::Error::new(
                std::io::ErrorKind::FileTooLarge,
                "decompressed size limit",
            ));
        }
        self.left -= n as u64;
        Ok(n)
    }
}

/// Which layout a pack was read in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// A cos pack: `manifest.yaml`, policy directories, `tests/`, `data/`.
    Pack,
    /// An OPA bundle: `.manifest`, `.rego` files, `data.json` / `data.yaml`.
    Bundle,
}

/// A Rego module of a pack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Module {
    /// Path inside the pack.
    pub path: String,
    /// The Rego source.
    pub source: String,
}

/// A data document of a pack and where it is mounted.
#[derive(Debug, Clone, PartialEq)]
pub struct DataFile {
    /// Path inside the pack.
    pub path: String,
    /// Where it is mounted under `data` (slash-separated, `""` for the root).
    pub mount: String,
    /// The document.
    pub value: serde_json::Value,
}

/// A loaded policy pack.
#[derive(Debug, Clone)]
pub struct Pack {
    manifest: Manifest,
    layout: Layout,
    modules: Vec<Module>,
    tests: Vec<Module>,
    data_files: Vec<DataFile>,
    data: serde_json::Value,
    files: PackFiles,
    digest: Digest,
}

fn parse_data(path: &str, bytes: &[u8]) -> Result<serde_json::Value> {
    let v: serde_json::Value = if path.ends_with(".json") {
        // A number serde_json would round is refused, not rounded
        // (`crate::engine::json_numbers`).
        crate::engine::json_numbers::check(bytes).map_err(|e| bad_file(path, e.to_string()))?;
        serde_json::from_slice(bytes).map_err(|e| bad_file(path, format!("not valid JSON: {e}")))?
    } else {
        if let Some(e) = cos_core::text::yaml_nesting_error(bytes) {
            return Err(bad_file(path, format!("not valid YAML: {e}")));
        }
        yaml_serde::from_slice(bytes).map_err(|e| bad_file(path, format!("not valid YAML: {e}")))?
    };
    Ok(v)
}

fn utf8(path: &str, bytes: &[u8]) -> Result<String> {
    String::from_utf8(bytes.to_vec()).map_err(|_| bad_file(path, "not UTF-8"))
}

fn is_data_ext(name: &str) -> bool {
    name.ends_with(".json") || name.ends_with(".yaml") || name.ends_with(".yml")
}

/// Mounts `value` at `mount` inside `root`, refusing to overwrite anything.
fn mount_data(
    root: &mut serde_json::Value,
    mount: &str,
    value: serde_json::Value,
    file: &str,
) -> Result<()> {
    let conflict = |at: &str| Error::InvalidPack {
        reason: format!("data from {file} conflicts with other data at {at:?}"),
    };
    let mut node = root;
    if !mount.is_empty() {
        for seg in mount.split('/') {
            let obj = node.as_object_mut().ok_or_else(|| conflict(mount))?;
            node = obj
                .entry(seg.to_owned())
                .or_insert_with(|| serde_json::Value::Object(Default::default()));
        }
    }
    match (node, value) {
        (serde_json::Value::Object(dst), serde_json::Value::Object(src)) => {
            for (k, v) in src {
                match dst.get_mut(&k) {
                    None => {
                        dst.insert(k, v);
                    }
                    Some(existing) => {
                        let at = if mount.is_empty() {
                            k.clone()
                        } else {
                            format!("{mount}/{k}")
                        };
                        mount_data(existing, "", v, file).map_err(|_| conflict(&at))?;
                    }
                }
            }
            Ok(())
        }
        (node, value) if node.as_object().is_some_and(|o| o.is_empty()) => {
            *node = value;
            Ok(())
        }
        _ => Err(conflict(mount)),
    }
}

impl Pack {
    /// Reads a pack from a directory or a (gzipped) tarball file.
    pub fn load(path: impl AsRef<Path>, limits: &Limits) -> Result<Self> {
        let path = path.as_ref();
        if path.is_dir() {
            Self::from_files(PackFiles::from_dir(path, limits)?)
        } else {
            let bytes = cos_core::file::read_limited(path, limits.max_total_size)?;
            Self::from_bytes(&bytes, limits)
        }
    }

    /// Reads a pack from the bytes of a (gzipped) tarball.
    pub fn from_bytes(bytes: &[u8], limits: &Limits) -> Result<Self> {
        Self::from_files(PackFiles::from_archive(bytes, limits)?)
    }

    /// Interprets a set of files as a pack (if `manifest.yaml` is at the top)
    /// or as an OPA bundle.
    pub fn from_files(files: PackFiles) -> Result<Self> {
        if files.get(PACK_MANIFEST).is_some() {
            Self::from_pack_files(files)
        } else {
            Self::from_bundle_files(files)
        }
    }

    fn from_pack_files(files: PackFiles) -> Result<Self> {
        let text = utf8(PACK_MANIFEST, files.get(PACK_MANIFEST).unwrap_or_default())?;
        let manifest = Manifest::from_yaml(&text)?;
        // data/<a>/<b>.json mounts at a/b; data/<a>/data.json at a.
        let mount_of = |path: &str| {
            let rel = path.strip_prefix("data/")?;
            if !is_data_ext(rel) {
                return None;
            }
            let stem = rel.rsplit_once('.').map_or(rel, |(s, _)| s);
            Some(match stem.strip_suffix("/data") {
                Some(dir) => dir.to_owned(),
                None if stem == "data" => String::new(),
                None => stem.to_owned(),
            })
        };
        let (modules, tests, data_files) =
            split_files(&files, mount_of, |p| p.starts_with("tests/"))?;
        Self::assemble(manifest, Layout::Pack, modules, tests, data_files, files)
    }

    fn from_bundle_files(files: PackFiles) -> Result<Self> {
        // The rollout plan cos writes into the bundle metadata
        // (`Manifest::to_bundle_manifest`); absent in bundles of other tools.
        fn plan<T: serde::de::DeserializeOwned>(
            meta: &serde_json::Value,
            key: &str,
        ) -> Result<Option<T>> {
            meta.get(key)
                .map(|v| {
                    serde_json::from_value(v.clone()).map_err(|e| Error::InvalidManifest {
                        file: BUNDLE_MANIFEST.into(),
                        reason: format!("metadata.{key}: {e}"),
                    })
                })
                .transpose()
        }
        let bm = match files.get(BUNDLE_MANIFEST) {
            Some(b) => BundleManifest::from_json(b)?,
            None => BundleManifest {
                revision: String::new(),
                roots: None,
                rego_version: None,
                metadata: None,
                extra: BTreeMap::new(),
            },
        };
        let meta = bm.metadata.clone().unwrap_or_default();
        let name = meta
            .get("name")
            .and_then(|v| v.as_str())
            .unwrap_or("bundle")
            .to_owned();
        let version = meta
            .get("version")
            .and_then(|v| v.as_str())
            .and_then(|v| semver::Version::parse(v).ok())
            .unwrap_or_else(|| semver::Version::new(0, 0, 0));
        let entrypoints = meta
            .get("entrypoints")
            .and_then(|v| serde_json::from_value(v.clone()).ok())
            .unwrap_or_default();
        let roots: Vec<String> = bm
            .effective_roots()
            .into_iter()
            .filter(|r| !r.is_empty())
            .collect();
        let manifest = Manifest {
            name,
            version,
            revision: bm.revision.clone(),
            rego_version: bm.rego_version.unwrap_or(1),
            roots,
            entrypoints,
            cohorts: plan(&meta, "cohorts")?.unwrap_or_default(),
            rollback: plan(&meta, "rollback")?,
            shadow: plan(&meta, "shadow")?,
            metadata: bm.metadata.clone(),
        };
        if !manifest.cohorts.is_empty() || manifest.rollback.is_some() || manifest.shadow.is_some()
        {
            // A cos-built bundle: its plan is held to manifest.yaml's rules.
            manifest.validate()?;
        }
        // <dir>/data.json (or .yaml, .yml) mounts at <dir>.
        let mount_of = |path: &str| {
            let (dir, name) = path.rsplit_once('/').unwrap_or(("", path));
            matches!(name, "data.json" | "data.yaml" | "data.yml").then(|| dir.to_owned())
        };
        // The pack's tests, when cos built the bundle with them: listed in
        // the metadata, so that they are run and never served. Any other
        // module, `*_test.rego` included, is policy, as `opa run --bundle`
        // serves it.
        let listed: Vec<String> = plan(&meta, TESTS_METADATA)?.unwrap_or_default();
        for path in &listed {
            if !path.ends_with(".rego") || files.get(path).is_none() {
                return Err(Error::InvalidManifest {
                    file: BUNDLE_MANIFEST.into(),
                    reason: format!(
                        "metadata.{TESTS_METADATA} names {path:?}, which is not a .rego file of the bundle"
                    ),
                });
            }
        }
        let (modules, tests, data_files) =
            split_files(&files, mount_of, |p| listed.iter().any(|t| t == p))?;
        Self::assemble(manifest, Layout::Bundle, modules, tests, data_files, files)
    }

    fn assemble(
        manifest: Manifest,
        layout: Layout,
        modules: Vec<Module>,
        tests: Vec<Module>,
        data_files: Vec<DataFile>,
        files: PackFiles,
    ) -> Result<Self> {
        let mut data = serde_json::Value::Object(Default::default());
        for df in &data_files {
            if !df.mount.is_empty() {
                check_doc_path(&df.mount).map_err(|e| bad_file(&df.path, e))?;
            }
            if !manifest.roots.is_empty() {
                let outside = if df.mount.is_empty() {
                    // Root data: each top-level key must be under a root.
                    df.value
                        .as_object()
                        .map(|o| {
                            o.keys()
                                .find(|k| !manifest.roots.iter().any(|r| under_root(k, r)))
                                .cloned()
                        })
                        .unwrap_or(Some(String::new()))
                } else if manifest
                    .roots
                    .iter()
                    .any(|r| under_root(&df.mount, r) || under_root(r, &df.mount))
                {
                    None
                } else {
                    Some(df.mount.clone())
                };
                if let Some(at) = outside {
                    return Err(Error::InvalidPack {
                        reason: format!(
                            "data from {} at {at:?} is outside the pack's roots ({})",
                            df.path,
                            manifest.roots.join(", ")
                        ),
                    });
                }
            }
            mount_data(&mut data, &df.mount, df.value.clone(), &df.path)?;
        }
        // An OPA bundle may hold data only (OPA loads it, and cos-pdp
        // compiles one when every REST policy was deleted); a cos pack
        // without policy is a mistake.
        if modules.is_empty() && layout == Layout::Pack {
            return Err(Error::InvalidPack {
                reason: "no Rego policy modules".into(),
            });
        }
        let digest = files_digest(&files)?;
        Ok(Pack {
            manifest,
            layout,
            modules,
            tests,
            data_files,
            data,
            files,
            digest,
        })
    }

    /// The manifest (synthesised from `.manifest` for an OPA bundle).
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// The layout it was read in.
    pub fn layout(&self) -> Layout {
        self.layout
    }

    /// Policy modules (tests excluded).
    pub fn modules(&self) -> &[Module] {
        &self.modules
    }

    /// Test modules: `tests/` in a pack, and in a bundle the files its
    /// `.manifest` lists under `metadata.tests` (as
    /// [`Pack::build_bundle_with_tests`] writes them). They are never
    /// compiled into [`crate::PolicyEngine::new`]. A bundle's other
    /// `*_test.rego` files are policy modules, as OPA serves them.
    pub fn tests(&self) -> &[Module] {
        &self.tests
    }

    /// The data files and where they are mounted.
    pub fn data_files(&self) -> &[DataFile] {
        &self.data_files
    }

    /// The merged data document.
    pub fn data(&self) -> &serde_json::Value {
        &self.data
    }

    /// The raw files.
    pub fn files(&self) -> &PackFiles {
        &self.files
    }

    /// The pack digest: SHA-256 of the RFC 8785 JSON object mapping every
    /// file path (except `.signatures.json`) to its `sha256:<hex>` digest.
    /// It identifies the content whatever the archive's byte layout.
    pub fn digest(&self) -> &Digest {
        &self.digest
    }

    /// Builds an OPA bundle: `.manifest`, the policy modules at their paths,
    /// each data file as `<mount>/data.json`, as a deterministic `.tar.gz`
    /// (sorted entries, mode 0644, owner 0, mtime `SOURCE_DATE_EPOCH` or 0).
    /// Tests are left out.
    pub fn build_bundle(&self) -> Result<Vec<u8>> {
        let files = self.bundle_files()?;
        write_tar_gz(&files)
    }

    /// Like [`Pack::build_bundle`], with the test modules included at their
    /// paths, so that `opa test` can run them from the bundle, and listed in
    /// the `.manifest` as `metadata.tests`, so that cos reads them back as
    /// [`Pack::tests`], runs them before the pack activates, and never serves
    /// them as policy.
    pub fn build_bundle_with_tests(&self) -> Result<Vec<u8>> {
        let mut files = self.bundle_files()?;
        if !self.tests.is_empty() {
            let mut bm = match files.get(BUNDLE_MANIFEST) {
                Some(raw) => BundleManifest::from_json(raw)?,
                None => self.manifest.to_bundle_manifest(),
            };
            let mut meta = match bm.metadata.take() {
                Some(serde_json::Value::Object(m)) => m,
                _ => serde_json::Map::new(),
            };
            meta.insert(
                TESTS_METADATA.into(),
                self.tests.iter().map(|t| t.path.clone()).collect(),
            );
            bm.metadata = Some(serde_json::Value::Object(meta));
            files.insert(
                BUNDLE_MANIFEST.to_owned(),
                cos_core::canonical::to_canonical_vec(&bm)?,
            );
        }
        for t in &self.tests {
            if files.contains_key(&t.path) {
                return Err(Error::InvalidPack {
                    reason: format!("{} would be written twice", t.path),
                });
            }
            files.insert(t.path.clone(), t.source.clone().into_bytes());
        }
        write_tar_gz(&files)
    }

    /// Builds a bundle signed with an ECDSA P-256 key: the bundle's files plus
    /// `.signatures.json`, verifiable by `opa build --verification-key` and
    /// `opa run --verification-key`.
    pub fn build_signed_bundle(
        &self,
        key: &cos_core::PrivateKey,
        opts: &crate::bundle::signature::SignatureOptions,
    ) -> Result<Vec<u8>> {
        let mut files = self.bundle_files()?;
        let sig = crate::bundle::signature::sign_files(&files, key, opts)?;
        files.insert(SIGNATURES_FILE.to_owned(), sig);
        write_tar_gz(&files)
    }

    /// Verifies the pack's `.signatures.json` against its files as they were
    /// read (see [`crate::bundle::signature::verify_files`]).
    pub fn verify_signature(
        &self,
        key: &cos_core::PublicKey,
        opts: &crate::bundle::signature::SignatureOptions,
    ) -> Result<crate::bundle::signature::VerifiedSignature> {
        crate::bundle::signature::verify_files(&self.files, key, opts)
    }

    /// Whether the pack carries a `.signatures.json`.
    pub fn is_signed(&self) -> bool {
        self.files.get(SIGNATURES_FILE).is_some()
    }

    /// The files of the OPA bundle this pack builds into, by path.
    pub fn bundle_files(&self) -> Result<BTreeMap<String, Vec<u8>>> {
        let mut out = BTreeMap::new();
        let mut bm = match (self.layout, self.files.get(BUNDLE_MANIFEST)) {
            (Layout::Bundle, Some(raw)) => BundleManifest::from_json(raw)?,
            _ => self.manifest.to_bundle_manifest(),
        };
        // These files leave the tests out, so they list none.
        if let Some(serde_json::Value::Object(meta)) = bm.metadata.as_mut() {
            meta.remove(TESTS_METADATA);
        }
        out.insert(
            BUNDLE_MANIFEST.to_owned(),
            cos_core::canonical::to_canonical_vec(&bm)?,
        );
        for m in &self.modules {
            out.insert(m.path.clone(), m.source.clone().into_bytes());
        }
        let mut by_mount: BTreeMap<&str, serde_json::Value> = BTreeMap::new();
        for df in &self.data_files {
            let slot = by_mount
                .entry(df.mount.as_str())
                .or_insert_with(|| serde_json::Value::Object(Default::default()));
            mount_data(slot, "", df.value.clone(), &df.path)?;
        }
        for (mount, value) in by_mount {
            let path = if mount.is_empty() {
                "data.json".to_owned()
            } else {
                format!("{mount}/data.json")
            };
            if out.contains_key(&path) {
                return Err(Error::InvalidPack {
                    reason: format!("{path} would be written twice"),
                });
            }
            out.insert(path, cos_core::canonical::to_canonical_vec(&value)?);
        }
        Ok(out)
    }
}

type Split = (Vec<Module>, Vec<Module>, Vec<DataFile>);

/// Sorts a pack's files into policy modules, test modules and data files;
/// other files are left alone.
fn split_files(
    files: &PackFiles,
    mount_of: impl Fn(&str) -> Option<String>,
    is_test: impl Fn(&str) -> bool,
) -> Result<Split> {
    let (mut modules, mut tests, mut data_files) = (Vec::new(), Vec::new(), Vec::new());
    for (path, bytes) in files.iter() {
        if let Some(mount) = mount_of(path) {
            data_files.push(DataFile {
                path: path.to_owned(),
                mount,
                value: parse_data(path, bytes)?,
            });
        } else if path.ends_with(".rego") {
            let m = Module {
                path: path.to_owned(),
                source: utf8(path, bytes)?,
            };
            if is_test(path) {
                tests.push(m);
            } else {
                modules.push(m);
            }
        }
    }
    Ok((modules, tests, data_files))
}

fn files_digest(files: &PackFiles) -> Result<Digest> {
    let listing: BTreeMap<&str, String> = files
        .iter()
        .filter(|(p, _)| *p != SIGNATURES_FILE)
        .map(|(p, b)| (p, Digest::of_bytes(DigestAlgorithm::Sha256, b).to_string()))
        .collect();
    let canon = cos_core::canonical::to_canonical_vec(&listing)?;
    Ok(Digest::of_bytes(DigestAlgorithm::Sha256, &canon))
}

/// `SOURCE_DATE_EPOCH` if set and valid, else 0.
pub(crate) fn source_date_epoch() -> u64 {
    std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

/// Writes files as a deterministic gzip tarball.
pub(crate) fn write_tar_gz(files: &BTreeMap<String, Vec<u8>>) -> Result<Vec<u8>> {
    let mtime = source_date_epoch();
    let io = |e: std::io::Error| Error::InvalidPack {
        reason: format!("writing bundle: {e}"),
    };
    let gz = flate2::GzBuilder::new()
        .mtime(0)
        .operating_system(255)
        .write(Vec::new(), flate2::Compression::new(6));
    let mut tar = tar::Builder::new(gz);
    tar.mode(tar::HeaderMode::Deterministic);
    for (path, bytes) in files {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Regular);
        h.set_size(bytes.len() as u64);
        h.set_mode(0o644);
        h.set_uid(0);
        h.set_gid(0);
        h.set_mtime(mtime);
        // Relative names: OPA reads them as it reads its own "/"-rooted ones.
        tar.append_data(&mut h, path, bytes.as_slice())
            .map_err(io)?;
    }
    let gz = tar.into_inner().map_err(io)?;
    gz.finish().map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A result as a JSON value (numbers beyond 64 bits read back as the
    /// nearest float), for comparisons with `json!`.
    fn js(o: Option<crate::Output>) -> Option<serde_json::Value> {
        o.map(|o| serde_json::from_str(&o.to_json_string().unwrap()).unwrap())
    }

    fn files(list: &[(&str, &str)]) -> PackFiles {
        let mut f = PackFiles::default();
        for (p, c) in list {
            f.insert((*p).to_owned(), c.as_bytes().to_vec(), &Limits::default())
                .unwrap();
        }
        f
    }

    const MANIFEST: &str = "name: t\nversion: 1.0.0\nrevision: r1\nroots: [acme]\nentrypoints: {allow: acme/authz/allow}\n";
    const POLICY: &str =
        "package acme.authz\n\ndefault allow := false\n\nallow if input.user in data.acme.admins\n";

    #[test]
    fn path_rules() {
        let l = Limits::default();
        assert_eq!(normalise("/a/b", true, &l).unwrap(), "a/b");
        assert_eq!(normalise("./a/b", true, &l).unwrap(), "a/b");
        for bad in [
            "/a", "a/../b", "../a", "a//b", "a/./b", "a\\b", "a\u{0}b", "//a", "",
        ] {
            assert!(normalise(bad, false, &l).is_err(), "{bad:?}");
        }
        for bad in ["//etc/passwd", "a/../../x", "..", "./../x"] {
            assert!(normalise(bad, true, &l).is_err(), "{bad:?}");
        }
        assert!(normalise(&"a".repeat(2000), true, &l).is_err());
    }

    #[test]
    fn pack_layout_and_bundle_roundtrip() {
        let p = Pack::from_files(files(&[
            ("manifest.yaml", MANIFEST),
            ("authz/policy.rego", POLICY),
            ("tests/policy_test.rego", "package acme.authz_test\n"),
            ("data/acme/admins.json", "[\"alice\"]"),
            ("data/acme/limits.yaml", "max: 3\n"),
            ("data/acme/extra/data.json", "{\"k\": 1}"),
            ("README.md", "# hi"),
        ]))
        .unwrap();
        assert_eq!(p.layout(), Layout::Pack);
        assert_eq!(p.modules().len(), 1);
        assert_eq!(p.tests().len(), 1);
        assert_eq!(
            p.data(),
            &serde_json::json!({"acme": {"admins": ["alice"], "limits": {"max": 3}, "extra": {"k": 1}}})
        );

        let bundle = p.build_bundle().unwrap();
        assert_eq!(
            bundle,
            p.build_bundle().unwrap(),
            "bundle bytes must be deterministic"
        );
        let b = Pack::from_bytes(&bundle, &Limits::default()).unwrap();
        assert_eq!(b.layout(), Layout::Bundle);
        assert_eq!(b.data(), p.data());
        assert_eq!(b.manifest().name, "t");
        assert_eq!(b.manifest().revision, "r1");
        assert_eq!(b.manifest().roots, vec!["acme".to_owned()]);
        assert_eq!(
            b.manifest().entrypoint("allow").unwrap(),
            "acme/authz/allow"
        );
        assert!(b.tests().is_empty());
        let names: Vec<&str> = b.files().iter().map(|(p, _)| p).collect();
        assert_eq!(
            names,
            [
                ".manifest",
                "acme/admins/data.json",
                "acme/extra/data.json",
                "acme/limits/data.json",
                "authz/policy.rego"
            ]
        );
    }

    /// Issue 26 (Found 3): an archive built with its tests reads back with
    /// them as tests, whatever their file names, never as policy modules.
    #[test]
    fn bundle_with_tests_keeps_them_tests() {
        let p = Pack::from_files(files(&[
            ("manifest.yaml", MANIFEST),
            ("authz/policy.rego", POLICY),
            (
                "tests/checks.rego",
                "package acme.authz_test
test_x if true
",
            ),
            (
                "tests/policy_test.rego",
                "package acme.authz_test
test_y if true
",
            ),
            ("data/acme/admins.json", "[\"alice\"]"),
        ]))
        .unwrap();
        let archive = p.build_bundle_with_tests().unwrap();
        assert_eq!(archive, p.build_bundle_with_tests().unwrap());
        let b = Pack::from_bytes(&archive, &Limits::default()).unwrap();
        assert_eq!(b.layout(), Layout::Bundle);
        let paths = |m: &[Module]| m.iter().map(|m| m.path.clone()).collect::<Vec<_>>();
        assert_eq!(paths(b.modules()), ["authz/policy.rego"]);
        assert_eq!(
            paths(b.tests()),
            ["tests/checks.rego", "tests/policy_test.rego"]
        );
        assert_eq!(b.data(), p.data());
        // Rebuilt without tests, the bundle lists none; rebuilt with them, the
        // same archive.
        let plain = Pack::from_bytes(&b.build_bundle().unwrap(), &Limits::default()).unwrap();
        assert!(plain.tests().is_empty());
        assert_eq!(paths(plain.modules()), ["authz/policy.rego"]);
        assert!(
            plain
                .manifest()
                .metadata
                .as_ref()
                .unwrap()
                .get(TESTS_METADATA)
                .is_none(),
            "{:?}",
            plain.manifest().metadata
        );
        assert_eq!(b.build_bundle_with_tests().unwrap(), archive);
        // A pack without tests builds the same archive either way.
        let bare = Pack::from_files(files(&[
            ("manifest.yaml", MANIFEST),
            ("authz/policy.rego", POLICY),
        ]))
        .unwrap();
        assert_eq!(
            bare.build_bundle_with_tests().unwrap(),
            bare.build_bundle().unwrap()
        );
        // manifest.yaml cannot smuggle the reserved key into a bundle.
        let sneaky = Pack::from_files(files(&[
            (
                "manifest.yaml",
                &format!("{MANIFEST}metadata: {{tests: [authz/policy.rego]}}\n"),
            ),
            ("authz/policy.rego", POLICY),
        ]))
        .unwrap();
        let read = Pack::from_bytes(&sneaky.build_bundle().unwrap(), &Limits::default()).unwrap();
        assert_eq!(paths(read.modules()), ["authz/policy.rego"]);
        assert!(read.tests().is_empty());
    }

    /// An OPA bundle keeps OPA's reading: `*_test.rego` files are policy
    /// modules (`opa run --bundle` serves them); a `metadata.tests` entry
    /// must name a `.rego` file of the bundle.
    #[test]
    fn opa_bundle_test_files_are_modules() {
        let b = Pack::from_files(files(&[
            ("authz/policy.rego", POLICY),
            (
                "authz/policy_test.rego",
                "package acme.authz_test
test_x if true
",
            ),
        ]))
        .unwrap();
        assert_eq!(b.layout(), Layout::Bundle);
        assert_eq!(b.modules().len(), 2);
        assert!(b.tests().is_empty());
        for listed in [
            "[\"missing.rego\"]",
            "[\"data.json\"]",
            "\"authz/policy.rego\"",
        ] {
            let manifest =
                format!("{{\"revision\": \"r\", \"metadata\": {{\"tests\": {listed}}}}}");
            let err = Pack::from_files(files(&[
                (".manifest", &manifest),
                ("authz/policy.rego", POLICY),
                ("data.json", "{}"),
            ]))
            .unwrap_err();
            assert_eq!(err.code(), "invalid_manifest", "{listed}: {err}");
        }
    }

    #[test]
    fn data_conflicts_and_roots() {
        let e = Pack::from_files(files(&[
            ("manifest.yaml", MANIFEST),
            ("p.rego", POLICY),
            ("data/acme/a.json", "{\"x\": 1}"),
            ("data/acme/data.json", "{\"a\": {\"x\": 2}}"),
        ]))
        .unwrap_err();
        assert!(e.to_string().contains("conflicts"), "{e}");
        let e = Pack::from_files(files(&[
            ("manifest.yaml", MANIFEST),
            ("p.rego", POLICY),
            ("data/other/a.json", "1"),
        ]))
        .unwrap_err();
        assert!(e.to_string().contains("outside the pack's roots"), "{e}");
        let e = Pack::from_files(files(&[
            ("manifest.yaml", MANIFEST),
            ("p.rego", POLICY),
            ("data/acme/a.json", "{"),
        ]))
        .unwrap_err();
        assert_eq!(e.code(), "invalid_file");
        // A number serde_json would round is refused, naming the file.
        let e = Pack::from_files(files(&[
            ("manifest.yaml", MANIFEST),
            ("p.rego", POLICY),
            ("data/acme/a.json", "{\"id\": 12345678901234567890123}"),
        ]))
        .unwrap_err();
        assert_eq!(e.code(), "invalid_file");
        assert!(
            e.to_string().contains("data/acme/a.json") && e.to_string().contains("as a string"),
            "{e}"
        );
        let e = Pack::from_files(files(&[("manifest.yaml", MANIFEST)])).unwrap_err();
        assert!(e.to_string().contains("no Rego"), "{e}");
        // An OPA bundle of data only loads, and decides from its data.
        let b = Pack::from_files(files(&[("data.json", "{\"x\": {\"a\": 1}}")])).unwrap();
        let engine = crate::PolicyEngine::new(&b, Default::default()).unwrap();
        assert_eq!(
            engine
                .evaluate("data.x.a", crate::InputRef::Undefined)
                .map(js)
                .unwrap(),
            Some(serde_json::json!(1))
        );
        assert_eq!(
            engine
                .evaluate("data.y", crate::InputRef::Undefined)
                .map(js)
                .unwrap(),
            None
        );
    }

    #[test]
    fn digest_ignores_signatures_and_tracks_content() {
        let a =
            Pack::from_files(files(&[("manifest.yaml", MANIFEST), ("p.rego", POLICY)])).unwrap();
        let b = Pack::from_files(files(&[
            ("manifest.yaml", MANIFEST),
            ("p.rego", POLICY),
            (SIGNATURES_FILE, "{}"),
        ]))
        .unwrap();
        let c = Pack::from_files(files(&[
            ("manifest.yaml", MANIFEST),
            ("p.rego", &format!("{POLICY}\n")),
        ]))
        .unwrap();
        assert_eq!(a.digest(), b.digest());
        assert_ne!(a.digest(), c.digest());
    }

    fn tar_with(entries: &[(&str, tar::EntryType, &[u8])]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for (name, kind, data) in entries {
            let mut h = tar::Header::new_gnu();
            h.set_entry_type(*kind);
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            // Bypass the builder's path checks to write hostile names.
            let raw = name.as_bytes();
            h.as_old_mut().name[..raw.len()].copy_from_slice(raw);
            if *kind == tar::EntryType::Symlink {
                h.set_link_name("/etc/passwd").unwrap();
            }
            h.set_cksum();
            b.append(&h, *data).unwrap();
        }
        b.into_inner().unwrap()
    }

    #[test]
    fn hostile_archives() {
        let l = Limits::default();
        let reg = tar::EntryType::Regular;
        for (entries, why) in [
            (vec![("../evil.rego", reg, &b"x"[..])], "traversal"),
            (vec![("a/../../evil", reg, &b"x"[..])], "traversal"),
            (vec![("//etc/passwd", reg, &b"x"[..])], "absolute"),
            (vec![("link", tar::EntryType::Symlink, &b""[..])], "links"),
            (vec![("hard", tar::EntryType::Link, &b""[..])], "links"),
            (vec![("dev", tar::EntryType::Char, &b""[..])], "devices"),
            (vec![("fifo", tar::EntryType::Fifo, &b""[..])], "FIFOs"),
            (
                vec![("a.rego", reg, &b"x"[..]), ("./a.rego", reg, &b"y"[..])],
                "twice",
            ),
        ] {
            let e = PackFiles::from_archive(&tar_with(&entries), &l)
                .unwrap_err()
                .to_string();
            assert!(e.contains(why), "{why}: {e}");
        }
        let tight = Limits {
            max_files: 1,
            ..Limits::default()
        };
        let e = PackFiles::from_archive(&tar_with(&[("a", reg, b"1"), ("b", reg, b"2")]), &tight)
            .unwrap_err();
        assert_eq!(e.code(), "limit_exceeded");
        let tight = Limits {
            max_file_size: 3,
            ..Limits::default()
        };
        let e = PackFiles::from_archive(&tar_with(&[("a", reg, b"1234")]), &tight).unwrap_err();
        assert!(e.to_string().contains("size of a"), "{e}");
        assert!(PackFiles::from_archive(b"\x1f\x8bgarbage", &l).is_err());
        assert!(PackFiles::from_archive(b"not a tar", &l).is_err());
    }

    #[test]
    fn gzip_bomb_is_bounded() {
        // 64 MiB of zeros compress to ~64 KiB; a 1 MiB decompression limit stops it.
        let mut files = BTreeMap::new();
        files.insert("zeros.json".to_owned(), vec![b' '; 64 << 20]);
        let gz = write_tar_gz(&files).unwrap();
        assert!(gz.len() < 1 << 20);
        let l = Limits {
            max_decompressed_size: 1 << 20,
            ..Limits::default()
        };
        let e = PackFiles::from_archive(&gz, &l).unwrap_err();
        assert_eq!(e.code(), "limit_exceeded", "{e}");
    }

    #[test]
    fn directories() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir_all(d.join("authz")).unwrap();
        std::fs::create_dir_all(d.join(".git")).unwrap();
        std::fs::write(d.join(".git/config"), "x").unwrap();
        std::fs::write(d.join("manifest.yaml"), MANIFEST).unwrap();
        std::fs::write(d.join("authz/p.rego"), POLICY).unwrap();
        let p = Pack::load(d, &Limits::default()).unwrap();
        assert_eq!(p.files().len(), 2);
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink("/etc/passwd", d.join("authz/link.rego")).unwrap();
            let e = Pack::load(d, &Limits::default()).unwrap_err();
            assert!(e.to_string().contains("symbolic links"), "{e}");
        }
    }

    proptest::proptest! {
        #[test]
        fn archive_reader_never_panics(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..2048)) {
            let _ = PackFiles::from_archive(&bytes, &Limits::default());
            let mut gz = vec![0x1f, 0x8b];
            gz.extend_from_slice(&bytes);
            let _ = PackFiles::from_archive(&gz, &Limits::default());
        }
    }
}
