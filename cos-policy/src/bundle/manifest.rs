//! The pack manifest (`manifest.yaml`) and OPA's bundle `.manifest`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// File name of a cos pack manifest.
pub const PACK_MANIFEST: &str = "manifest.yaml";
/// File name of an OPA bundle manifest.
pub const BUNDLE_MANIFEST: &str = ".manifest";

/// A cos policy pack manifest (`manifest.yaml`).
///
/// ```
/// let m = cos_policy::Manifest::from_yaml(r#"
/// name: companyos-baseline
/// version: 1.0.0
/// revision: "2026.11.22-1"
/// roots: [companyos]
/// entrypoints:
///   abac: companyos/abac/decision
/// cohorts:
///   - {name: canary, percent: 5}
///   - {name: eu-pilot, tenants: [acme-eu]}
/// "#).unwrap();
/// assert_eq!(m.version.to_string(), "1.0.0");
/// assert_eq!(m.entrypoint("abac").unwrap(), "companyos/abac/decision");
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Pack name: lowercase letters, digits, `-`, `_`, `.`.
    pub name: String,
    /// Semantic version of the pack.
    pub version: semver::Version,
    /// Free-form revision (becomes the OPA bundle revision), e.g. a date and
    /// counter or a commit id.
    #[serde(default)]
    pub revision: String,
    /// Rego language version of the modules: 0 or 1 (default 1).
    #[serde(default = "default_rego_version")]
    pub rego_version: u8,
    /// Data and package roots this pack owns (`companyos`, `companyos/abac`).
    #[serde(default)]
    pub roots: Vec<String>,
    /// Named decisions: name → document path (`companyos/abac/decision`).
    #[serde(default)]
    pub entrypoints: BTreeMap<String, String>,
    /// Rollout cohorts, in order of precedence.
    #[serde(default)]
    pub cohorts: Vec<Cohort>,
    /// How to roll back a bad rollout of this pack.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollback: Option<RollbackPlan>,
    /// How this pack is judged while it runs in the shadow of the active
    /// one, before promotion (see [`crate::store`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shadow: Option<ShadowPlan>,
    /// Free-form metadata, copied into the OPA bundle manifest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<serde_json::Value>,
}

fn default_rego_version() -> u8 {
    1
}

/// A rollout cohort: a percentage of tenants, or a list of tenants.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cohort {
    /// Cohort name.
    pub name: String,
    /// Share of tenants (0–100), assigned by hashing the tenant id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub percent: Option<f64>,
    /// Explicit tenants.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenants: Option<Vec<cos_core::TenantId>>,
}

/// How a pack is rolled back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RollbackPlan {
    /// `automatic` (on the thresholds below) or `manual`.
    pub strategy: RollbackStrategy,
    /// Roll back when the deny rate rises by more than this fraction.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_deny_rate_increase: Option<f64>,
    /// Roll back when the evaluation error rate exceeds this fraction.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_error_rate: Option<f64>,
    /// Version to return to (default: the previous active one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous: Option<semver::Version>,
}

/// Shadow evaluation of a candidate pack: a share of live decisions is also
/// evaluated on the candidate, and its promotion is refused while the
/// answers differ too often or it denies too much more.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShadowPlan {
    /// Share of decisions also evaluated on the candidate (0–1, default 1).
    #[serde(default = "one")]
    pub sample_rate: f64,
    /// Compared decisions needed before promotion is judged (default 100).
    #[serde(default = "hundred")]
    pub min_samples: u64,
    /// Refuse promotion when more than this share of compared decisions
    /// differ (allow, reason codes or obligations). Default 0.01.
    #[serde(default = "one_percent")]
    pub max_difference_rate: f64,
    /// Refuse promotion when the candidate's deny rate on the compared
    /// decisions exceeds the active pack's by more than this. Default 0.05.
    #[serde(default = "five_percent")]
    pub max_deny_rate_increase: f64,
}

impl Default for ShadowPlan {
    fn default() -> Self {
        ShadowPlan {
            sample_rate: one(),
            min_samples: hundred(),
            max_difference_rate: one_percent(),
            max_deny_rate_increase: five_percent(),
        }
    }
}

fn one() -> f64 {
    1.0
}
fn hundred() -> u64 {
    100
}
fn one_percent() -> f64 {
    0.01
}
fn five_percent() -> f64 {
    0.05
}

/// Rollback strategy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RollbackStrategy {
    /// Roll back by itself when a threshold is passed.
    Automatic,
    /// Only by an operator's call.
    Manual,
}

fn bad(reason: impl Into<String>) -> Error {
    Error::InvalidManifest {
        file: PACK_MANIFEST.into(),
        reason: reason.into(),
    }
}

/// Checks a slash-separated document path (`a/b/c`): non-empty segments, no
/// leading or trailing slash.
pub(crate) fn check_doc_path(path: &str) -> std::result::Result<(), String> {
    if path.is_empty() {
        return Err("empty path".into());
    }
    if path.split('/').any(str::is_empty) {
        return Err(format!(
            "{path:?} has an empty segment (no leading, trailing or double '/')"
        ));
    }
    if path.chars().any(|c| c.is_control() || c == '\\') {
        return Err(format!("{path:?} contains control characters or '\\'"));
    }
    Ok(())
}

/// Whether `path` (slash-separated) lies under `root` (equal or a descendant).
pub(crate) fn under_root(path: &str, root: &str) -> bool {
    root.is_empty()
        || path == root
        || path
            .strip_prefix(root)
            .is_some_and(|rest| rest.starts_with('/'))
}

impl Manifest {
    /// Parses and validates `manifest.yaml`.
    pub fn from_yaml(text: &str) -> Result<Self> {
        if let Some(e) = cos_core::text::yaml_nesting_error(text) {
            return Err(bad(e));
        }
        let m: Manifest = yaml_serde::from_str(text).map_err(|e| bad(e.to_string()))?;
        m.validate()?;
        Ok(m)
    }

    /// Checks the rules serde cannot express.
    pub fn validate(&self) -> Result<()> {
        let name_ok = !self.name.is_empty()
            && self.name.len() <= 128
            && self.name.bytes().all(|b| {
                b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'_' | b'.')
            });
        if !name_ok {
            return Err(bad(format!(
                "name {:?} must be 1-128 lowercase letters, digits, '-', '_' or '.'",
                self.name
            )));
        }
        if self.rego_version > 1 {
            return Err(bad(format!(
                "rego_version {} (expected 0 or 1)",
                self.rego_version
            )));
        }
        for r in &self.roots {
            check_doc_path(r).map_err(|e| bad(format!("root {e}")))?;
        }
        for (i, a) in self.roots.iter().enumerate() {
            for b in &self.roots[i + 1..] {
                if under_root(a, b) || under_root(b, a) {
                    return Err(bad(format!("roots {a:?} and {b:?} overlap")));
                }
            }
        }
        for (name, path) in &self.entrypoints {
            check_doc_path(path).map_err(|e| bad(format!("entrypoint {name}: {e}")))?;
            if !self.roots.is_empty() && !self.roots.iter().any(|r| under_root(path, r)) {
                return Err(bad(format!(
                    "entrypoint {name} ({path}) is outside the pack's roots"
                )));
            }
        }
        let mut seen = std::collections::BTreeSet::new();
        for c in &self.cohorts {
            if !seen.insert(c.name.as_str()) {
                return Err(bad(format!("cohort {:?} appears twice", c.name)));
            }
            match (c.percent, &c.tenants) {
                (Some(p), None) if (0.0..=100.0).contains(&p) => {}
                (Some(p), None) => {
                    return Err(bad(format!(
                        "cohort {}: percent {p} is not within 0-100",
                        c.name
                    )));
                }
                (None, Some(t)) if !t.is_empty() => {}
                _ => {
                    return Err(bad(format!(
                        "cohort {} must have either percent or a non-empty tenants list",
                        c.name
                    )));
                }
            }
        }
        if let Some(r) = &self.rollback {
            for (what, v) in [
                ("max_deny_rate_increase", r.max_deny_rate_increase),
                ("max_error_rate", r.max_error_rate),
            ] {
                if let Some(v) = v
                    && !(0.0..=1.0).contains(&v)
                {
                    return Err(bad(format!(
                        "rollback.{what} {v} is not a fraction within 0-1"
                    )));
                }
            }
        }
        if let Some(s) = &self.shadow {
            for (what, v) in [
                ("sample_rate", s.sample_rate),
                ("max_difference_rate", s.max_difference_rate),
                ("max_deny_rate_increase", s.max_deny_rate_increase),
            ] {
                if !(0.0..=1.0).contains(&v) {
                    return Err(bad(format!(
                        "shadow.{what} {v} is not a fraction within 0-1"
                    )));
                }
            }
        }
        Ok(())
    }

    /// The document path of a named entrypoint.
    pub fn entrypoint(&self, name: &str) -> Result<&str> {
        self.entrypoints
            .get(name)
            .map(String::as_str)
            .ok_or_else(|| Error::UnknownEntrypoint {
                name: name.to_owned(),
                known: self
                    .entrypoints
                    .keys()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }

    /// The OPA bundle `.manifest` for this pack: revision, roots, rego
    /// version, and metadata carrying the pack's name, version and
    /// entrypoints.
    pub fn to_bundle_manifest(&self) -> BundleManifest {
        let mut metadata = serde_json::Map::new();
        if let Some(serde_json::Value::Object(extra)) = &self.metadata {
            metadata.extend(extra.clone());
        }
        // Reserved: which files of the bundle are the pack's tests (set by
        // `Pack::build_bundle_with_tests` only, for the files it writes).
        metadata.remove(crate::bundle::pack::TESTS_METADATA);
        metadata.insert("name".into(), self.name.clone().into());
        metadata.insert("version".into(), self.version.to_string().into());
        if !self.entrypoints.is_empty() {
            metadata.insert(
                "entrypoints".into(),
                serde_json::to_value(&self.entrypoints).unwrap_or_default(),
            );
        }
        // The rollout plan travels with the bundle, so that a pack fetched
        // as an archive rolls out, is judged and rolls back as written.
        if !self.cohorts.is_empty() {
            metadata.insert(
                "cohorts".into(),
                serde_json::to_value(&self.cohorts).unwrap_or_default(),
            );
        }
        if let Some(r) = &self.rollback {
            metadata.insert(
                "rollback".into(),
                serde_json::to_value(r).unwrap_or_default(),
            );
        }
        if let Some(s) = &self.shadow {
            metadata.insert("shadow".into(), serde_json::to_value(s).unwrap_or_default());
        }
        BundleManifest {
            revision: self.revision.clone(),
            roots: Some(self.roots.clone()),
            rego_version: Some(self.rego_version),
            metadata: Some(serde_json::Value::Object(metadata)),
            extra: BTreeMap::new(),
        }
    }
}

/// OPA's bundle `.manifest` (JSON).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BundleManifest {
    /// The bundle revision.
    #[serde(default)]
    pub revision: String,
    /// Roots the bundle owns; absent means the whole data tree.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roots: Option<Vec<String>>,
    /// Rego version of the modules (OPA 1.x: 0 or 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rego_version: Option<u8>,
    /// Free-form metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<serde_json::Value>,
    /// Fields OPA knows and cos keeps as they are (`wasm`, `file_rego_versions`, …).
    #[serde(flatten)]
    pub extra: BTreeMap<String, serde_json::Value>,
}

impl BundleManifest {
    /// Parses a `.manifest`.
    pub fn from_json(bytes: &[u8]) -> Result<Self> {
        let m: BundleManifest =
            serde_json::from_slice(bytes).map_err(|e| Error::InvalidManifest {
                file: BUNDLE_MANIFEST.into(),
                reason: e.to_string(),
            })?;
        for r in m.roots.iter().flatten() {
            // OPA allows the empty root "" (the whole tree).
            if !r.is_empty() {
                check_doc_path(r).map_err(|e| Error::InvalidManifest {
                    file: BUNDLE_MANIFEST.into(),
                    reason: format!("root {e}"),
                })?;
            }
        }
        if let Some(v) = m.rego_version
            && v > 1
        {
            return Err(Error::InvalidManifest {
                file: BUNDLE_MANIFEST.into(),
                reason: format!("rego_version {v} (expected 0 or 1)"),
            });
        }
        Ok(m)
    }

    /// Roots as a list; an absent list means the whole tree (`[""]`).
    pub fn effective_roots(&self) -> Vec<String> {
        self.roots.clone().unwrap_or_else(|| vec![String::new()])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "name: p\nversion: 1.2.3\nroots: [a]\nentrypoints: {x: a/x}\n";

    #[test]
    fn deep_yaml_is_refused_at_once() {
        // Issue 18: nested 100k deep, 200 KB took the parser over a minute.
        let started = std::time::Instant::now();
        for deep in [
            format!("name: p\nversion: 1.0.0\nroots: {}", "[".repeat(100_000)),
            format!("name: p\nversion: 1.0.0\nx: {}", "{a: ".repeat(50_000)),
        ] {
            let e = Manifest::from_yaml(&deep).unwrap_err().to_string();
            assert!(e.contains("line 3: YAML nested more than 128 deep"), "{e}");
        }
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
    }

    #[test]
    fn accepts_minimal_and_defaults() {
        let m = Manifest::from_yaml(GOOD).unwrap();
        assert_eq!(m.rego_version, 1);
        assert!(m.cohorts.is_empty());
        let b = m.to_bundle_manifest();
        assert_eq!(b.roots, Some(vec!["a".to_owned()]));
        assert_eq!(b.metadata.unwrap()["version"], "1.2.3");
    }

    #[test]
    fn rejects_with_reasons() {
        for (yaml, why) in [
            ("name: p\nversion: 1.2\n", "version"),
            ("name: P\nversion: 1.2.3\n", "lowercase"),
            ("name: p\nversion: 1.2.3\nextra: 1\n", "unknown field"),
            ("name: p\nversion: 1.2.3\nrego_version: 2\n", "rego_version"),
            ("name: p\nversion: 1.2.3\nroots: [a, a/b]\n", "overlap"),
            ("name: p\nversion: 1.2.3\nroots: [/a]\n", "empty segment"),
            (
                "name: p\nversion: 1.2.3\nroots: [a]\nentrypoints: {x: b/x}\n",
                "outside",
            ),
            (
                "name: p\nversion: 1.2.3\ncohorts: [{name: c}]\n",
                "either percent",
            ),
            (
                "name: p\nversion: 1.2.3\ncohorts: [{name: c, percent: 101}]\n",
                "0-100",
            ),
            (
                "name: p\nversion: 1.2.3\ncohorts: [{name: c, percent: 1}, {name: c, percent: 2}]\n",
                "twice",
            ),
            (
                "name: p\nversion: 1.2.3\ncohorts: [{name: c, tenants: ['-x']}]\n",
                "tenant",
            ),
            (
                "name: p\nversion: 1.2.3\nrollback: {strategy: sometimes}\n",
                "strategy",
            ),
            (
                "name: p\nversion: 1.2.3\nrollback: {strategy: manual, max_error_rate: 2}\n",
                "fraction",
            ),
            ("[1, 2]", "invalid type"),
        ] {
            let e = Manifest::from_yaml(yaml).unwrap_err().to_string();
            assert!(e.contains(why), "{yaml:?}: {e}");
        }
    }

    #[test]
    fn bundle_manifest() {
        let m = BundleManifest::from_json(br#"{"revision":"r1","roots":["a"],"wasm":[]}"#).unwrap();
        assert_eq!(m.revision, "r1");
        assert!(m.extra.contains_key("wasm"));
        assert_eq!(
            BundleManifest::from_json(b"{}").unwrap().effective_roots(),
            vec![String::new()]
        );
        assert!(BundleManifest::from_json(br#"{"roots":["a//b"]}"#).is_err());
    }

    #[test]
    fn roots() {
        assert!(under_root("a/b", "a"));
        assert!(!under_root("ab", "a"));
        assert!(under_root("anything", ""));
    }
}
