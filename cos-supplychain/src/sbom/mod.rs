//! Software bills of materials: one neutral model, producers from lockfiles,
//! CycloneDX 1.5 / 1.6 and SPDX 2.3 JSON writers and readers, merge and diff.
//!
//! ```
//! use cos_supplychain::sbom::{Format, NpmOptions, Sbom, WriteOptions};
//!
//! let lock = br#"{"name": "app", "version": "1.0.0", "lockfileVersion": 3, "packages": {
//!   "": {"name": "app", "version": "1.0.0", "dependencies": {"left-pad": "^1.3.0"}},
//!   "node_modules/left-pad": {"version": "1.3.0", "license": "WTFPL",
//!     "integrity": "sha512-XI5MPzVNApjAyhQzphX8BkmKsKUxD4LdyK24iZeQEkAn2bgFn1RDT6UwyxTDnyTvwOe4PMrlgHFjibK6AX2A6g=="}}}"#;
//! let sbom = Sbom::from_package_lock(lock, &NpmOptions::default()).unwrap();
//! assert_eq!(sbom.components[0].purl.as_deref(), Some("pkg:npm/left-pad@1.3.0"));
//! // Byte-identical for the same input and timestamp (SOURCE_DATE_EPOCH).
//! let options = WriteOptions::at(1_700_000_000);
//! let a = sbom.write(Format::CycloneDx16, &options).unwrap();
//! assert_eq!(a, sbom.write(Format::CycloneDx16, &options).unwrap());
//! let back = Sbom::from_json(&a).unwrap();
//! assert_eq!(back.components, sbom.components);
//! ```
//!
//! The model keeps everything in a stable order: components sorted by
//! `bom_ref`, hashes sorted and de-duplicated, the dependency graph in
//! ordered maps. Writers derive the CycloneDX `serialNumber` and the SPDX
//! `documentNamespace` from the document's own content, so the same input
//! and timestamp give the same bytes (see `docs/sbom.md`).

mod cargo;
mod cyclonedx;
mod diff;
mod lockfile;
mod npm;
mod purl;
mod python;
mod spdx_json;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

use serde::Serialize;

use crate::{Error, Result};

pub use cargo::CargoOptions;
pub use diff::{Change, ComponentSummary, SbomDiff};
pub use lockfile::{GenerateOptions, LockfileKind};
pub use npm::NpmOptions;
pub use purl::{Purl, normalize_python_name};
pub use python::PythonOptions;

/// Largest lockfile, `cargo metadata` output or SBOM read (bytes).
pub const MAX_INPUT_SIZE: u64 = 64 * 1024 * 1024;
/// Most components (packages) one input may describe.
pub const MAX_COMPONENTS: usize = 250_000;
/// Most dependency edges one input may describe.
pub const MAX_EDGES: usize = 2_000_000;

/// Property (document level) that says how complete the dependency graph is.
pub const PROPERTY_GRAPH: &str = "cos:dependency-graph";

/// The output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Format {
    /// CycloneDX 1.5 JSON.
    CycloneDx15,
    /// CycloneDX 1.6 JSON.
    CycloneDx16,
    /// SPDX 2.3 JSON.
    Spdx23,
}

impl Format {
    /// The name used on the command line (`cyclonedx-1.6`, `spdx-2.3`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Format::CycloneDx15 => "cyclonedx-1.5",
            Format::CycloneDx16 => "cyclonedx-1.6",
            Format::Spdx23 => "spdx-2.3",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Format {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "cyclonedx-1.5" => Ok(Format::CycloneDx15),
            "cyclonedx-1.6" | "cyclonedx" => Ok(Format::CycloneDx16),
            "spdx-2.3" | "spdx" => Ok(Format::Spdx23),
            other => Err(Error::InvalidSbom {
                reason: format!(
                    "unknown format {other:?} (expected cyclonedx-1.6, cyclonedx-1.5 or spdx-2.3)"
                ),
            }),
        }
    }
}

/// How a document is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteOptions {
    /// Creation time, in seconds since 1970-01-01 UTC (from
    /// `SOURCE_DATE_EPOCH` for reproducible output: [`source_date_epoch`]).
    pub created: u64,
    /// Name of the tool recorded as the SBOM's author.
    pub tool_name: String,
    /// Version of that tool.
    pub tool_version: String,
}

impl WriteOptions {
    /// Options with this creation time and `cos` (this crate's version) as the tool.
    pub fn at(created: u64) -> Self {
        WriteOptions {
            created,
            tool_name: "cos".into(),
            tool_version: env!("CARGO_PKG_VERSION").into(),
        }
    }
}

/// The options of a binding's `Sbom.write` (ADR-0020): the format's name
/// and the [`WriteOptions`], as plain data. `created` is required; the
/// format defaults to `cyclonedx-1.6`, the tool to [`WriteOptions::at`]'s.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WriteConfig {
    /// `cyclonedx-1.6` (default), `cyclonedx-1.5` or `spdx-2.3`.
    #[serde(default = "default_format")]
    pub format: String,
    /// Creation time, seconds since 1970 (`SOURCE_DATE_EPOCH`).
    pub created: u64,
    /// Tool recorded as the author (default `cos`).
    #[serde(default)]
    pub tool_name: Option<String>,
    /// Its version (default this crate's).
    #[serde(default)]
    pub tool_version: Option<String>,
}

fn default_format() -> String {
    Format::CycloneDx16.name().to_owned()
}

impl Default for WriteConfig {
    fn default() -> Self {
        WriteConfig {
            format: default_format(),
            created: 0,
            tool_name: None,
            tool_version: None,
        }
    }
}

impl WriteConfig {
    /// Writes `sbom` with these options (a format name cos does not know
    /// is the error [`Format`]'s `FromStr` gives).
    pub fn write(&self, sbom: &Sbom) -> Result<Vec<u8>> {
        let format: Format = self.format.parse()?;
        let mut w = WriteOptions::at(self.created);
        if let Some(name) = &self.tool_name {
            w.tool_name.clone_from(name);
        }
        if let Some(version) = &self.tool_version {
            w.tool_version.clone_from(version);
        }
        sbom.write(format, &w)
    }
}

/// Parses a `SOURCE_DATE_EPOCH` value: [`cos_core::time::parse_source_date_epoch`]
/// (whole seconds since 1970, up to the end of year 9999); anything else is
/// cos-core's `InvalidSourceDateEpoch` ([`Error::Core`], code
/// `invalid_source_date_epoch`).
pub fn source_date_epoch(value: &str) -> Result<u64> {
    Ok(cos_core::time::parse_source_date_epoch(value)?)
}

/// Formats seconds since 1970 as RFC 3339 UTC (`2023-11-14T22:13:20Z`).
pub(crate) fn rfc3339(secs: u64) -> String {
    use cos_core::time::{Fraction, Rfc3339};
    Rfc3339::new(i64::try_from(secs).unwrap_or(i64::MAX), 0, Fraction::Omit).to_string()
}

/// Finishes a CycloneDX or SPDX document: the UUID of its compact JSON so
/// far ([`content_uuid`]) goes to `stamp`, which gives the field derived
/// from it (CycloneDX's `serialNumber`, SPDX's `documentNamespace`); the
/// result is pretty-printed JSON with a final newline.
pub(crate) fn finish_document(
    mut doc: serde_json::Map<String, serde_json::Value>,
    stamp: impl FnOnce(&str) -> (&'static str, String),
) -> Result<Vec<u8>> {
    let json_err = |e: serde_json::Error| invalid_sbom(e.to_string());
    let content = serde_json::to_vec(&doc).map_err(json_err)?;
    let (field, value) = stamp(&content_uuid(&content));
    doc.insert(field.into(), serde_json::Value::String(value));
    let mut out = serde_json::to_vec_pretty(&serde_json::Value::Object(doc)).map_err(json_err)?;
    out.push(b'\n');
    Ok(out)
}

/// A malformed SBOM.
pub(crate) fn invalid_sbom(reason: impl Into<String>) -> Error {
    Error::InvalidSbom {
        reason: reason.into(),
    }
}

/// The string at `key` of a JSON object, if it is one.
pub(crate) fn str_of<'a>(v: &'a serde_json::Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(serde_json::Value::as_str)
}

/// A UUID (RFC 9562 layout, version bits 5, variant 10) made from the first
/// 16 bytes of the SHA-256 of `content`: the same content, the same UUID.
pub(crate) fn content_uuid(content: &[u8]) -> String {
    use cos_core::{Digest, DigestAlgorithm};
    let digest = Digest::of_bytes(DigestAlgorithm::Sha256, content);
    let mut b = [0u8; 16];
    for (to, from) in b.iter_mut().zip(digest.as_bytes()) {
        *to = *from;
    }
    b[6] = (b[6] & 0x0f) | 0x50;
    b[8] = (b[8] & 0x3f) | 0x80;
    cos_core::id::uuid_text(&b)
}

/// A hash algorithm of a component's artefact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum HashAlgorithm {
    /// MD5 (only read from others' SBOMs).
    Md5,
    /// SHA-1 (old npm `integrity`).
    Sha1,
    /// SHA-256.
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
    /// SHA3-256.
    Sha3_256,
    /// SHA3-384.
    Sha3_384,
    /// SHA3-512.
    Sha3_512,
    /// BLAKE2b-256.
    Blake2b256,
    /// BLAKE2b-384.
    Blake2b384,
    /// BLAKE2b-512.
    Blake2b512,
    /// BLAKE3.
    Blake3,
}

const HASH_NAMES: &[(HashAlgorithm, &str, &str, usize)] = &[
    (HashAlgorithm::Md5, "MD5", "MD5", 32),
    (HashAlgorithm::Sha1, "SHA-1", "SHA1", 40),
    (HashAlgorithm::Sha256, "SHA-256", "SHA256", 64),
    (HashAlgorithm::Sha384, "SHA-384", "SHA384", 96),
    (HashAlgorithm::Sha512, "SHA-512", "SHA512", 128),
    (HashAlgorithm::Sha3_256, "SHA3-256", "SHA3-256", 64),
    (HashAlgorithm::Sha3_384, "SHA3-384", "SHA3-384", 96),
    (HashAlgorithm::Sha3_512, "SHA3-512", "SHA3-512", 128),
    (HashAlgorithm::Blake2b256, "BLAKE2b-256", "BLAKE2b-256", 64),
    (HashAlgorithm::Blake2b384, "BLAKE2b-384", "BLAKE2b-384", 96),
    (HashAlgorithm::Blake2b512, "BLAKE2b-512", "BLAKE2b-512", 128),
    (HashAlgorithm::Blake3, "BLAKE3", "BLAKE3", 64),
];

impl HashAlgorithm {
    fn row(self) -> (&'static str, &'static str, usize) {
        HASH_NAMES
            .iter()
            .find(|r| r.0 == self)
            .map_or(("SHA-256", "SHA256", 64), |r| (r.1, r.2, r.3))
    }
    /// The CycloneDX name (`SHA-256`).
    pub fn cyclonedx_name(self) -> &'static str {
        self.row().0
    }
    /// The SPDX 2.3 JSON name (`SHA256`, `SHA3-256`, `BLAKE2b-256`).
    pub fn spdx_name(self) -> &'static str {
        self.row().1
    }
    /// Length of a value in hex digits.
    pub fn hex_len(self) -> usize {
        self.row().2
    }
    /// From a CycloneDX name.
    pub fn from_cyclonedx(name: &str) -> Option<Self> {
        HASH_NAMES.iter().find(|r| r.1 == name).map(|r| r.0)
    }
    /// From an SPDX name (`SHA256`, `SHA3-256`; `SHA3_256` as some tools write it).
    pub fn from_spdx(name: &str) -> Option<Self> {
        let name = name.replace('_', "-");
        HASH_NAMES
            .iter()
            .find(|r| r.2.eq_ignore_ascii_case(&name))
            .map(|r| r.0)
    }
}

/// A hash of a component's artefact (lower-case hex). Serialised as
/// `{"algorithm": "SHA-256", "value": "<hex>"}` (CycloneDX names).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Hash {
    /// The algorithm.
    pub algorithm: HashAlgorithm,
    /// The value, lower-case hex of the right length.
    pub value: String,
}

impl Hash {
    /// A hash from hex text; `None` unless it is hex of the algorithm's length.
    pub fn from_hex(algorithm: HashAlgorithm, hex: &str) -> Option<Self> {
        (hex.len() == algorithm.hex_len() && hex.bytes().all(|b| b.is_ascii_hexdigit())).then(
            || Hash {
                algorithm,
                value: hex.to_ascii_lowercase(),
            },
        )
    }

    /// `sha256:<hex>` / `sha512:<hex>` (pip, poetry, uv); `None` for other forms.
    pub fn from_prefixed(text: &str) -> Option<Self> {
        let (alg, hex) = text.trim().split_once(':')?;
        let alg = match alg.to_ascii_lowercase().as_str() {
            "md5" => HashAlgorithm::Md5,
            "sha1" => HashAlgorithm::Sha1,
            "sha256" => HashAlgorithm::Sha256,
            "sha384" => HashAlgorithm::Sha384,
            "sha512" => HashAlgorithm::Sha512,
            _ => return None,
        };
        Hash::from_hex(alg, hex)
    }
}

/// A component's declared licence. Serialised as `{"expression": "MIT"}`
/// or `{"name": "Some licence"}`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum License {
    /// A valid SPDX licence expression (`MIT OR Apache-2.0`).
    Expression(String),
    /// Licence text that is not an SPDX expression (kept as given).
    Named(String),
}

impl License {
    /// Reads a declared licence: a valid SPDX expression is kept; legacy
    /// forms (`MIT/Apache-2.0`, deprecated or imprecise ids such as
    /// `GPL-2.0` or `Apache 2.0`) become the canonical expression; anything
    /// else is kept as a name. Empty text is no licence.
    pub fn from_declared(raw: &str) -> Option<License> {
        let raw = raw.trim();
        if raw.is_empty() || raw == "NOASSERTION" || raw == "NONE" {
            return None;
        }
        if raw.len() > 4096 {
            return Some(License::Named(raw.chars().take(4096).collect()));
        }
        if raw.contains("DocumentRef-") {
            return Some(License::Named(raw.to_owned()));
        }
        // The canonical form (upper-case operators, `/` as OR, current ids)
        // when it is a valid expression; else the text as given, if valid.
        if let Ok(Some(canonical)) = spdx::Expression::canonicalize(raw)
            && spdx::Expression::parse(&canonical).is_ok()
        {
            return Some(License::Expression(canonical));
        }
        if spdx::Expression::parse(raw).is_ok() {
            return Some(License::Expression(raw.to_owned()));
        }
        Some(License::Named(raw.to_owned()))
    }

    /// The text: the expression or the name.
    pub fn as_str(&self) -> &str {
        match self {
            License::Expression(s) | License::Named(s) => s,
        }
    }
}

impl Serialize for HashAlgorithm {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.cyclonedx_name())
    }
}

impl Serialize for ComponentKind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.cyclonedx_name())
    }
}

impl fmt::Display for License {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether a component is needed (serialised in lower case, as CycloneDX).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// Needed at run time (the default).
    #[default]
    Required,
    /// Optional (npm `optional`, Python extras, ...).
    Optional,
    /// Listed but not part of the delivered software (read from others' SBOMs).
    Excluded,
}

/// What kind of thing a component is (CycloneDX `type`; SPDX
/// `primaryPackagePurpose`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[non_exhaustive]
pub enum ComponentKind {
    /// An application (the root, workspace members).
    Application,
    /// A framework.
    Framework,
    /// A library (most dependencies).
    #[default]
    Library,
    /// A container image.
    Container,
    /// A platform.
    Platform,
    /// An operating system.
    OperatingSystem,
    /// A device.
    Device,
    /// Firmware.
    Firmware,
    /// A file.
    File,
}

impl ComponentKind {
    pub(crate) fn cyclonedx_name(self) -> &'static str {
        match self {
            ComponentKind::Application => "application",
            ComponentKind::Framework => "framework",
            ComponentKind::Library => "library",
            ComponentKind::Container => "container",
            ComponentKind::Platform => "platform",
            ComponentKind::OperatingSystem => "operating-system",
            ComponentKind::Device => "device",
            ComponentKind::Firmware => "firmware",
            ComponentKind::File => "file",
        }
    }
    pub(crate) fn from_cyclonedx(s: &str) -> Self {
        match s {
            "application" => ComponentKind::Application,
            "framework" => ComponentKind::Framework,
            "container" => ComponentKind::Container,
            "platform" => ComponentKind::Platform,
            "operating-system" => ComponentKind::OperatingSystem,
            "device" => ComponentKind::Device,
            "firmware" => ComponentKind::Firmware,
            "file" => ComponentKind::File,
            _ => ComponentKind::Library,
        }
    }
    pub(crate) fn spdx_purpose(self) -> &'static str {
        match self {
            ComponentKind::Application => "APPLICATION",
            ComponentKind::Framework => "FRAMEWORK",
            ComponentKind::Library => "LIBRARY",
            ComponentKind::Container => "CONTAINER",
            ComponentKind::Platform | ComponentKind::OperatingSystem => "OPERATING-SYSTEM",
            ComponentKind::Device => "DEVICE",
            ComponentKind::Firmware => "FIRMWARE",
            ComponentKind::File => "FILE",
        }
    }
    pub(crate) fn from_spdx_purpose(s: &str) -> Self {
        match s {
            "APPLICATION" => ComponentKind::Application,
            "FRAMEWORK" => ComponentKind::Framework,
            "CONTAINER" => ComponentKind::Container,
            "OPERATING-SYSTEM" => ComponentKind::OperatingSystem,
            "DEVICE" => ComponentKind::Device,
            "FIRMWARE" => ComponentKind::Firmware,
            "FILE" => ComponentKind::File,
            _ => ComponentKind::Library,
        }
    }
}

/// One component (package) of an SBOM (serialised with these field names,
/// for the bindings).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Component {
    /// Identifier within the document (our producers use the purl).
    pub bom_ref: String,
    /// What kind of component.
    pub kind: ComponentKind,
    /// Group / namespace, when the ecosystem has one (CycloneDX `group`).
    pub group: Option<String>,
    /// Name (for npm, with its `@scope/`).
    pub name: String,
    /// Version.
    pub version: Option<String>,
    /// Package URL.
    pub purl: Option<String>,
    /// Hashes of the artefact(s), sorted, no duplicates.
    pub hashes: Vec<Hash>,
    /// Declared licence.
    pub license: Option<License>,
    /// Supplier (organisation or person), when known.
    pub supplier: Option<String>,
    /// Authors, when known.
    pub authors: Vec<String>,
    /// Required or optional.
    pub scope: Scope,
    /// Extra facts (`cos:cargo:license-file`, ...), as CycloneDX properties.
    pub properties: BTreeMap<String, String>,
}

impl Component {
    /// A library component whose `bom_ref` is its purl.
    pub(crate) fn library(name: &str, version: Option<&str>, purl: String) -> Self {
        Component {
            bom_ref: purl.clone(),
            name: name.to_owned(),
            version: version.map(str::to_owned),
            purl: Some(purl),
            ..Component::default()
        }
    }

    /// `name@version` (or the name alone).
    pub fn label(&self) -> String {
        match &self.version {
            Some(v) => format!("{}@{v}", self.display_name()),
            None => self.display_name(),
        }
    }

    /// The name with its group (`group/name`) when it has one.
    pub fn display_name(&self) -> String {
        match &self.group {
            Some(g) if !g.is_empty() => format!("{g}/{}", self.name),
            _ => self.name.clone(),
        }
    }

    /// Adds hashes, keeping the list sorted and free of duplicates.
    pub(crate) fn add_hashes(&mut self, hashes: impl IntoIterator<Item = Hash>) {
        self.hashes.extend(hashes);
        self.hashes.sort();
        self.hashes.dedup();
    }
}

/// A bill of materials: the root (the software described), its components
/// and the dependency graph between them (serialised with these field
/// names: the model, not a CycloneDX or SPDX document; see [`Sbom::write`]).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Sbom {
    /// The software the SBOM describes (CycloneDX `metadata.component`, the
    /// SPDX package the document DESCRIBES).
    pub root: Option<Component>,
    /// Every other component, sorted by `bom_ref`.
    pub components: Vec<Component>,
    /// The dependency graph: `bom_ref` → the `bom_ref`s it depends on. A
    /// component with no entry has unknown dependencies; an empty set means
    /// none.
    pub dependencies: BTreeMap<String, BTreeSet<String>>,
    /// Document-level facts (e.g. [`PROPERTY_GRAPH`]), as CycloneDX
    /// `metadata.properties`.
    pub properties: BTreeMap<String, String>,
}

impl Sbom {
    /// Every component, the root first.
    pub fn all_components(&self) -> impl Iterator<Item = &Component> {
        self.root.iter().chain(self.components.iter())
    }

    /// The component with this `bom_ref` (root included).
    pub fn component(&self, bom_ref: &str) -> Option<&Component> {
        self.all_components().find(|c| c.bom_ref == bom_ref)
    }

    /// Puts the SBOM in its stable form: components sorted by `bom_ref`,
    /// components with the same `bom_ref` merged (hashes united), a
    /// component equal to the root dropped, and graph edges that name no
    /// component removed.
    pub fn normalize(&mut self) {
        let mut by_ref: BTreeMap<String, Component> = BTreeMap::new();
        for mut c in std::mem::take(&mut self.components) {
            c.hashes.sort();
            c.hashes.dedup();
            match by_ref.get_mut(&c.bom_ref) {
                Some(existing) => {
                    existing.add_hashes(c.hashes);
                    if existing.license.is_none() {
                        existing.license = c.license;
                    }
                    if existing.scope != Scope::Required && c.scope == Scope::Required {
                        existing.scope = Scope::Required;
                    }
                    for (k, v) in c.properties {
                        existing.properties.entry(k).or_insert(v);
                    }
                }
                None => {
                    by_ref.insert(c.bom_ref.clone(), c);
                }
            }
        }
        if let Some(root) = &mut self.root {
            root.hashes.sort();
            root.hashes.dedup();
            by_ref.remove(&root.bom_ref);
        }
        self.components = by_ref.into_values().collect();
        let known: BTreeSet<String> = self.all_components().map(|c| c.bom_ref.clone()).collect();
        self.dependencies.retain(|k, _| known.contains(k));
        for deps in self.dependencies.values_mut() {
            deps.retain(|d| known.contains(d));
        }
    }

    /// Writes the SBOM in `format`.
    pub fn write(&self, format: Format, options: &WriteOptions) -> Result<Vec<u8>> {
        match format {
            Format::CycloneDx15 => cyclonedx::write(self, cyclonedx::Version::V1_5, options),
            Format::CycloneDx16 => cyclonedx::write(self, cyclonedx::Version::V1_6, options),
            Format::Spdx23 => spdx_json::write(self, options),
        }
    }

    /// Reads a CycloneDX (1.2–1.6) or SPDX (2.2, 2.3) JSON document, as
    /// written by cos or by other tools (syft, cdxgen, cargo-cyclonedx,
    /// GitHub's dependency graph export).
    pub fn from_json(bytes: &[u8]) -> Result<Sbom> {
        check_size(bytes.len(), "SBOM").map_err(|reason| Error::InvalidSbom { reason })?;
        let value: serde_json::Value =
            serde_json::from_slice(bytes).map_err(|e| Error::InvalidSbom {
                reason: format!("not JSON: {e}"),
            })?;
        if value.get("bomFormat").is_some() {
            cyclonedx::read(&value)
        } else if value.get("spdxVersion").is_some() {
            spdx_json::read(&value)
        } else {
            Err(Error::InvalidSbom {
                reason: "neither CycloneDX (bomFormat) nor SPDX (spdxVersion) JSON".into(),
            })
        }
    }

    /// The SBOM of a Rust workspace from `cargo metadata --format-version 1`
    /// output and its `Cargo.lock` (for checksums): the resolved graph from
    /// the chosen members, normal and build dependencies only.
    pub fn from_cargo_metadata(
        metadata: &[u8],
        cargo_lock: Option<&[u8]>,
        options: &CargoOptions,
    ) -> Result<Sbom> {
        cargo::from_metadata(metadata, cargo_lock, options)
    }

    /// The SBOM of an npm project from its `package-lock.json`
    /// (lockfileVersion 2 or 3).
    pub fn from_package_lock(lock: &[u8], options: &NpmOptions) -> Result<Sbom> {
        npm::from_package_lock(lock, options)
    }

    /// The SBOM of a Python `requirements.txt` with pinned versions and
    /// `--hash` options. It records no dependency relations: every
    /// requirement is a direct dependency of the root.
    pub fn from_requirements(text: &[u8], options: &PythonOptions) -> Result<Sbom> {
        python::from_requirements(text, options)
    }

    /// The SBOM of a Poetry project from `poetry.lock` (1.x and 2.x).
    pub fn from_poetry_lock(lock: &[u8], options: &PythonOptions) -> Result<Sbom> {
        python::from_poetry_lock(lock, options)
    }

    /// The SBOM of a uv project from `uv.lock`.
    pub fn from_uv_lock(lock: &[u8], options: &PythonOptions) -> Result<Sbom> {
        python::from_uv_lock(lock, options)
    }

    /// Merges two SBOMs: components united by purl (else `name@version`),
    /// hashes united, graphs merged. `self`'s root stays the root; `other`'s
    /// root becomes a component.
    pub fn merge(&self, other: &Sbom) -> Sbom {
        diff::merge(self, other)
    }

    /// What changed from `self` (before) to `after`.
    pub fn diff(&self, after: &Sbom) -> SbomDiff {
        diff::diff(self, after)
    }
}

/// Refuses inputs over [`MAX_INPUT_SIZE`].
pub(crate) fn check_size(len: usize, what: &str) -> std::result::Result<(), String> {
    if len as u64 > MAX_INPUT_SIZE {
        Err(format!(
            "{what} is larger than the limit of {MAX_INPUT_SIZE} bytes"
        ))
    } else {
        Ok(())
    }
}

/// Refuses more than [`MAX_COMPONENTS`] components.
pub(crate) fn check_count(n: usize) -> std::result::Result<(), String> {
    if n > MAX_COMPONENTS {
        Err(format!("more than {MAX_COMPONENTS} packages (limit)"))
    } else {
        Ok(())
    }
}

/// Adds an edge to a graph.
pub(crate) fn add_edge(graph: &mut BTreeMap<String, BTreeSet<String>>, from: &str, to: &str) {
    graph
        .entry(from.to_owned())
        .or_default()
        .insert(to.to_owned());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_known_values() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(253_402_300_799), "9999-12-31T23:59:59Z");
    }

    #[test]
    fn source_date_epoch_is_strict() {
        assert_eq!(source_date_epoch("1700000000").unwrap(), 1_700_000_000);
        for bad in [
            "",
            "-1",
            "1.5",
            " 1",
            "abc",
            "253402300800",
            "99999999999999999999999",
        ] {
            let e = source_date_epoch(bad).unwrap_err();
            assert_eq!(e.code(), "invalid_source_date_epoch", "{bad}");
        }
    }

    #[test]
    fn uuid_is_version_5_variant_10() {
        let u = content_uuid(b"x");
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "5");
        assert!(matches!(&u[19..20], "8" | "9" | "a" | "b"));
        assert_eq!(u, content_uuid(b"x"));
        assert_ne!(u, content_uuid(b"y"));
        // SHA-256("x") = 2d711642b726b044 0162…, with the version and variant set.
        assert_eq!(u, "2d711642-b726-5044-8162-7ca9fbac32f5");
    }

    #[test]
    fn licenses_are_normalised() {
        assert_eq!(
            License::from_declared("MIT/Apache-2.0"),
            Some(License::Expression("MIT OR Apache-2.0".into()))
        );
        assert_eq!(
            License::from_declared("MIT OR Apache-2.0"),
            Some(License::Expression("MIT OR Apache-2.0".into()))
        );
        assert_eq!(
            License::from_declared("GPL-2.0"),
            Some(License::Expression("GPL-2.0-only".into()))
        );
        assert_eq!(
            License::from_declared("Some custom licence"),
            Some(License::Named("Some custom licence".into()))
        );
        assert_eq!(
            License::from_declared("mit or Apache-2.0"),
            Some(License::Expression("MIT OR Apache-2.0".into()))
        );
        assert_eq!(License::from_declared("  "), None);
        assert_eq!(License::from_declared("NOASSERTION"), None);
    }

    #[test]
    fn the_model_serialises() {
        let mut c = Component::library("idna", Some("3.10"), "pkg:pypi/idna@3.10".into());
        c.add_hashes(Hash::from_hex(HashAlgorithm::Sha256, &"a".repeat(64)));
        c.license = License::from_declared("MIT");
        c.scope = Scope::Optional;
        let sbom = Sbom {
            components: vec![c],
            ..Sbom::default()
        };
        let v = serde_json::to_value(&sbom).unwrap();
        assert_eq!(
            v["components"][0],
            serde_json::json!({
                "bom_ref": "pkg:pypi/idna@3.10", "kind": "library", "group": null,
                "name": "idna", "version": "3.10", "purl": "pkg:pypi/idna@3.10",
                "hashes": [{"algorithm": "SHA-256", "value": "a".repeat(64)}],
                "license": {"expression": "MIT"}, "supplier": null, "authors": [],
                "scope": "optional", "properties": {}
            })
        );
        assert_eq!(v["root"], serde_json::Value::Null);
        assert_eq!(v["dependencies"], serde_json::json!({}));
    }

    #[test]
    fn hashes_check_length() {
        assert!(Hash::from_hex(HashAlgorithm::Sha256, &"a".repeat(64)).is_some());
        assert!(Hash::from_hex(HashAlgorithm::Sha256, &"a".repeat(63)).is_none());
        assert!(Hash::from_hex(HashAlgorithm::Sha256, &"g".repeat(64)).is_none());
        assert_eq!(
            Hash::from_prefixed(&format!("sha256:{}", "AB".repeat(32))).map(|h| h.value),
            Some("ab".repeat(32))
        );
    }
}
