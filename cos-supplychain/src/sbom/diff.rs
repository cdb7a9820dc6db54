//! Merging and comparing SBOMs.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::purl::Purl;
use super::{Component, Sbom, Scope};

/// The identity used to unite components: the purl (normalised), else
/// `name@version`.
fn identity(c: &Component) -> String {
    match c.purl.as_deref().and_then(Purl::parse) {
        Some(p) => p.to_string(),
        None => match &c.purl {
            Some(raw) => raw.clone(),
            None => format!("name:{}", c.label()),
        },
    }
}

/// The package without its version: purl type, namespace and name, else the name.
fn package_key(c: &Component) -> String {
    match c.purl.as_deref().and_then(Purl::parse) {
        Some(p) => p.package_key(),
        None => format!("name:{}", c.display_name()),
    }
}

pub(super) fn merge(a: &Sbom, b: &Sbom) -> Sbom {
    let mut out = Sbom::default();
    let mut merged: BTreeMap<String, Component> = BTreeMap::new();
    let mut root_key = None;
    for (n, sbom) in [a, b].into_iter().enumerate() {
        let mut key_of: BTreeMap<&str, String> = BTreeMap::new();
        for (is_root, c) in sbom
            .root
            .iter()
            .map(|c| (true, c))
            .chain(sbom.components.iter().map(|c| (false, c)))
        {
            let key = identity(c);
            key_of.insert(c.bom_ref.as_str(), key.clone());
            if is_root && n == 0 {
                root_key = Some(key.clone());
            }
            match merged.get_mut(&key) {
                Some(existing) => {
                    existing.add_hashes(c.hashes.iter().cloned());
                    if existing.license.is_none() {
                        existing.license = c.license.clone();
                    }
                    if existing.supplier.is_none() {
                        existing.supplier = c.supplier.clone();
                    }
                    if existing.authors.is_empty() {
                        existing.authors = c.authors.clone();
                    }
                    if c.scope == Scope::Required {
                        existing.scope = Scope::Required;
                    }
                    for (k, v) in &c.properties {
                        existing
                            .properties
                            .entry(k.clone())
                            .or_insert_with(|| v.clone());
                    }
                }
                None => {
                    let mut c = c.clone();
                    c.bom_ref = key.clone();
                    merged.insert(key, c);
                }
            }
        }
        for (from, deps) in &sbom.dependencies {
            let Some(f) = key_of.get(from.as_str()) else {
                continue;
            };
            let entry = out.dependencies.entry(f.clone()).or_default();
            for d in deps {
                if let Some(t) = key_of.get(d.as_str())
                    && t != f
                {
                    entry.insert(t.clone());
                }
            }
        }
        for (k, v) in &sbom.properties {
            out.properties.entry(k.clone()).or_insert_with(|| v.clone());
        }
    }
    if let Some(k) = root_key {
        out.root = merged.remove(&k);
    }
    out.components = merged.into_values().collect();
    out.normalize();
    out
}

/// One component, as a diff lists it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct ComponentSummary {
    /// The package without its version (purl type/namespace/name, or `name:` + name).
    pub package: String,
    /// Version.
    pub version: Option<String>,
    /// Purl.
    pub purl: Option<String>,
    /// Declared licence.
    pub license: Option<String>,
}

/// One changed field of a package present before and after.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Change {
    /// The package (as in [`ComponentSummary::package`]).
    pub package: String,
    /// `version`, `license` or `hashes`.
    pub field: String,
    /// Before (a version, a licence, or the hashes as `ALG:hex` joined by spaces).
    pub before: Option<String>,
    /// After.
    pub after: Option<String>,
}

/// What changed between two SBOMs: packages added or removed, and
/// versions, licences and hashes that changed. Everything is sorted.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct SbomDiff {
    /// Packages (or versions of a package) only in the second SBOM.
    pub added: Vec<ComponentSummary>,
    /// Packages (or versions of a package) only in the first SBOM.
    pub removed: Vec<ComponentSummary>,
    /// Changes to packages in both.
    pub changed: Vec<Change>,
}

impl SbomDiff {
    /// No difference at all.
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.changed.is_empty()
    }

    /// The diff as JSON (sorted keys, stable order).
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or_default()
    }

    /// The diff as text: `+ added`, `- removed`, `~ changed` lines and a count.
    ///
    /// What came from the SBOMs (names, versions, purls, licences, hashes)
    /// is escaped ([`cos_core::text::shown`]).
    pub fn to_text(&self) -> String {
        use cos_core::text::shown;
        let mut out = String::new();
        let show = |c: &ComponentSummary| {
            shown(&c.purl.clone().unwrap_or_else(|| match &c.version {
                Some(v) => format!("{}@{v}", c.package),
                None => c.package.clone(),
            }))
        };
        for c in &self.added {
            out.push_str(&format!("+ {}\n", show(c)));
        }
        for c in &self.removed {
            out.push_str(&format!("- {}\n", show(c)));
        }
        for ch in &self.changed {
            out.push_str(&format!(
                "~ {}: {} {} -> {}\n",
                shown(&ch.package),
                shown(&ch.field),
                ch.before
                    .as_deref()
                    .map_or_else(|| "(none)".to_owned(), shown),
                ch.after
                    .as_deref()
                    .map_or_else(|| "(none)".to_owned(), shown)
            ));
        }
        out.push_str(&format!(
            "{} added, {} removed, {} changed\n",
            self.added.len(),
            self.removed.len(),
            self.changed.len()
        ));
        out
    }
}

fn summary(c: &Component) -> ComponentSummary {
    ComponentSummary {
        package: package_key(c),
        version: c.version.clone(),
        purl: c.purl.clone(),
        license: c.license.as_ref().map(|l| l.as_str().to_owned()),
    }
}

fn hashes_text(c: &Component) -> Option<String> {
    if c.hashes.is_empty() {
        return None;
    }
    Some(
        c.hashes
            .iter()
            .map(|h| format!("{}:{}", h.algorithm.cyclonedx_name(), h.value))
            .collect::<Vec<_>>()
            .join(" "),
    )
}

pub(super) fn diff(before: &Sbom, after: &Sbom) -> SbomDiff {
    type ByPackage<'a> = BTreeMap<String, BTreeMap<Option<String>, &'a Component>>;
    fn index(s: &Sbom) -> ByPackage<'_> {
        let mut m: ByPackage<'_> = BTreeMap::new();
        for c in s.all_components() {
            m.entry(package_key(c))
                .or_default()
                .entry(c.version.clone())
                .or_insert(c);
        }
        m
    }
    let (a, b) = (index(before), index(after));
    let mut d = SbomDiff::default();
    let keys: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
    let empty = BTreeMap::new();
    for key in keys {
        let va = a.get(key).unwrap_or(&empty);
        let vb = b.get(key).unwrap_or(&empty);
        let only_a: Vec<&&Component> = va
            .iter()
            .filter(|(v, _)| !vb.contains_key(*v))
            .map(|(_, c)| c)
            .collect();
        let only_b: Vec<&&Component> = vb
            .iter()
            .filter(|(v, _)| !va.contains_key(*v))
            .map(|(_, c)| c)
            .collect();
        if let ([old], [new]) = (only_a.as_slice(), only_b.as_slice()) {
            // One version replaced by another: a version change.
            d.changed.push(Change {
                package: key.clone(),
                field: "version".into(),
                before: old.version.clone(),
                after: new.version.clone(),
            });
            compare(key, old, new, &mut d);
        } else {
            d.removed.extend(only_a.iter().map(|c| summary(c)));
            d.added.extend(only_b.iter().map(|c| summary(c)));
        }
        for (v, old) in va {
            if let Some(new) = vb.get(v) {
                compare(key, old, new, &mut d);
            }
        }
    }
    d.added.sort();
    d.removed.sort();
    d.changed.sort();
    d
}

/// Licence and hash changes of the same package.
fn compare(key: &str, old: &Component, new: &Component, d: &mut SbomDiff) {
    let (la, lb) = (
        old.license.as_ref().map(|l| l.as_str().to_owned()),
        new.license.as_ref().map(|l| l.as_str().to_owned()),
    );
    if la != lb {
        d.changed.push(Change {
            package: key.to_owned(),
            field: "license".into(),
            before: la,
            after: lb,
        });
    }
    // Hashes differ when an algorithm both sides have gives different
    // values (for the same version), or when a version change came with
    // new hashes.
    let same_version = old.version == new.version;
    let common: BTreeSet<_> = old
        .hashes
        .iter()
        .map(|h| h.algorithm)
        .filter(|alg| new.hashes.iter().any(|h| h.algorithm == *alg))
        .collect();
    let differ = common.iter().any(|alg| {
        let x: BTreeSet<&str> = old
            .hashes
            .iter()
            .filter(|h| h.algorithm == *alg)
            .map(|h| h.value.as_str())
            .collect();
        let y: BTreeSet<&str> = new
            .hashes
            .iter()
            .filter(|h| h.algorithm == *alg)
            .map(|h| h.value.as_str())
            .collect();
        x != y
    });
    if differ && same_version {
        d.changed.push(Change {
            package: key.to_owned(),
            field: "hashes".into(),
            before: hashes_text(old),
            after: hashes_text(new),
        });
    }
}
