//! Licence policy: allow and deny lists of SPDX licences checked against
//! every component of an SBOM.
//!
//! ```
//! use cos_supplychain::license::Policy;
//! use cos_supplychain::sbom::{NpmOptions, Sbom};
//!
//! let policy = Policy::from_json(br#"{"allow": ["MIT", "Apache-2.0"], "deny": ["GPL-3.0-only"]}"#).unwrap();
//! let lock = br#"{"lockfileVersion": 3, "packages": {
//!   "": {"name": "app", "version": "1.0.0", "license": "MIT", "dependencies": {"a": "1", "b": "1"}},
//!   "node_modules/a": {"version": "1.0.0", "license": "(MIT OR GPL-3.0-only)"},
//!   "node_modules/b": {"version": "1.0.0", "license": "GPL-3.0-only"}}}"#;
//! let sbom = Sbom::from_package_lock(lock, &NpmOptions::default()).unwrap();
//! let report = policy.check(&sbom);
//! assert!(!report.passed());
//! assert_eq!(report.blocked().map(|r| r.name.as_str()).collect::<Vec<_>>(), ["b"]);
//! ```
//!
//! An expression passes when it can be satisfied with allowed licences that
//! are not denied: `A OR B` needs one of them, `A AND B` both. An allowed
//! licence also allows it `WITH` any exception; an entry with an exception
//! allows only that exception. A denied licence blocks wherever it would
//! be needed (for the GNU family, `-only` and `-or-later` alike). An empty
//! allow list allows everything that is not denied. A component without a
//! licence, or with one that is not an SPDX expression, is handled as the
//! policy's `unknown` says: `block` (the default), `warn` or `allow`.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::sbom::{License, Sbom};
use crate::{Error, Result};

/// Largest policy file read (bytes).
pub const MAX_POLICY_SIZE: u64 = 1024 * 1024;

/// What to do with a component whose licence is missing or not SPDX.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum UnknownAction {
    /// Fail the gate (the default).
    #[default]
    Block,
    /// Report it; the gate still passes.
    Warn,
    /// Accept it silently.
    Allow,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyFile {
    #[serde(default)]
    allow: Vec<String>,
    #[serde(default)]
    deny: Vec<String>,
    #[serde(default)]
    unknown: UnknownAction,
    /// Packages exempt from the gate (purl, or purl without version).
    #[serde(default)]
    ignore: Vec<String>,
}

/// A licence policy.
#[derive(Debug, Clone)]
pub struct Policy {
    allow: Vec<(String, spdx::Licensee)>,
    deny: Vec<(String, spdx::Licensee)>,
    unknown: UnknownAction,
    ignore: Vec<crate::sbom::Purl>,
}

/// The outcome for one component.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// The licence satisfies the policy.
    Pass,
    /// Reported, not blocking (unknown licence under `unknown: warn`).
    Warn,
    /// Blocks the gate.
    Block,
    /// Exempt (`ignore`).
    Ignored,
}

/// The verdict for one component.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ComponentVerdict {
    /// The component's `bom_ref`.
    pub bom_ref: String,
    /// Name (with group).
    pub name: String,
    /// Version.
    pub version: Option<String>,
    /// Purl.
    pub purl: Option<String>,
    /// The licence checked.
    pub license: Option<String>,
    /// Pass, warn, block or ignored.
    pub outcome: Outcome,
    /// Why (machine code: `allowed`, `denied`, `not_allowed`,
    /// `missing`, `not_spdx`, `ignored`).
    pub reason: String,
    /// The licences that were denied or not allowed.
    pub offending: Vec<String>,
}

/// The result of checking an SBOM against a policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    /// One verdict per component (root first, then by `bom_ref`).
    pub components: Vec<ComponentVerdict>,
}

fn bad(reason: impl Into<String>) -> Error {
    Error::InvalidLicensePolicy {
        reason: reason.into(),
    }
}

fn parse_entry(s: &str) -> Result<(String, spdx::Licensee)> {
    let l = spdx::Licensee::parse(s.trim()).map_err(|e| {
        bad(format!(
            "{s:?} is not an SPDX licence id (with an optional WITH exception): {e}"
        ))
    })?;
    Ok((s.trim().to_owned(), l))
}

/// The licence id without a GNU `-only` / `-or-later` suffix.
fn family(id: spdx::LicenseId) -> &'static str {
    if id.is_gnu() {
        id.name
            .strip_suffix("-only")
            .or_else(|| id.name.strip_suffix("-or-later"))
            .unwrap_or(id.name)
    } else {
        id.name
    }
}

/// Whether a policy entry covers a requirement of an expression.
fn covers(entry: &spdx::Licensee, req: &spdx::LicenseReq, gnu_family: bool) -> bool {
    let e = entry.clone().into_req();
    if e.addition.is_some() && e.addition != req.addition {
        return false;
    }
    if gnu_family
        && let (Some(a), Some(b)) = (e.license.id(), req.license.id())
        && a.is_gnu()
        && b.is_gnu()
        && family(a) == family(b)
    {
        return true;
    }
    let bare = spdx::Licensee::new(e.license, None);
    bare.satisfies(&spdx::LicenseReq {
        license: req.license.clone(),
        addition: None,
    })
}

impl Policy {
    /// A policy from JSON: `{"allow": [...], "deny": [...], "unknown":
    /// "block"|"warn"|"allow", "ignore": [purl, ...]}`.
    pub fn from_json(bytes: &[u8]) -> Result<Self> {
        if bytes.len() as u64 > MAX_POLICY_SIZE {
            return Err(bad("larger than 1 MiB"));
        }
        let f: PolicyFile = serde_json::from_slice(bytes).map_err(|e| bad(e.to_string()))?;
        Self::from_file(f)
    }

    /// A policy from YAML (the same fields as JSON).
    pub fn from_yaml(bytes: &[u8]) -> Result<Self> {
        if bytes.len() as u64 > MAX_POLICY_SIZE {
            return Err(bad("larger than 1 MiB"));
        }
        if let Some(e) = cos_core::text::yaml_nesting_error(bytes) {
            return Err(bad(e));
        }
        let f: PolicyFile = yaml_serde::from_slice(bytes).map_err(|e| bad(e.to_string()))?;
        Self::from_file(f)
    }

    fn from_file(f: PolicyFile) -> Result<Self> {
        if f.allow.is_empty() && f.deny.is_empty() {
            return Err(bad("neither an allow nor a deny list"));
        }
        Ok(Policy {
            allow: f
                .allow
                .iter()
                .map(|s| parse_entry(s))
                .collect::<Result<_>>()?,
            deny: f
                .deny
                .iter()
                .map(|s| parse_entry(s))
                .collect::<Result<_>>()?,
            unknown: f.unknown,
            ignore: f
                .ignore
                .iter()
                .map(|i| {
                    crate::sbom::Purl::parse(i)
                        .ok_or_else(|| bad(format!("ignore entry {i:?} is not a purl")))
                })
                .collect::<Result<_>>()?,
        })
    }

    fn allowed(&self, req: &spdx::LicenseReq) -> bool {
        self.allow.is_empty() || self.allow.iter().any(|(_, l)| covers(l, req, false))
    }

    fn denied(&self, req: &spdx::LicenseReq) -> bool {
        self.deny.iter().any(|(_, l)| covers(l, req, true))
    }

    fn is_ignored(&self, purl: Option<&str>) -> bool {
        let Some(p) = purl.and_then(crate::sbom::Purl::parse) else {
            return false;
        };
        self.ignore.iter().any(|q| {
            q.package_key() == p.package_key() && (q.version.is_none() || q.version == p.version)
        })
    }

    /// Checks one licence (`None`: missing).
    pub fn evaluate(&self, license: Option<&License>) -> (Outcome, String, Vec<String>) {
        let unknown = |reason: &str| {
            let outcome = match self.unknown {
                UnknownAction::Block => Outcome::Block,
                UnknownAction::Warn => Outcome::Warn,
                UnknownAction::Allow => Outcome::Pass,
            };
            (outcome, reason.to_owned(), Vec::new())
        };
        let expr = match license {
            None => return unknown("missing"),
            Some(License::Named(_)) => return unknown("not_spdx"),
            Some(License::Expression(e)) => match spdx::Expression::parse(e) {
                Ok(x) => x,
                Err(_) => return unknown("not_spdx"),
            },
        };
        match expr.evaluate_with_failures(|req| self.allowed(req) && !self.denied(req)) {
            Ok(()) => (Outcome::Pass, "allowed".into(), Vec::new()),
            Err(failures) => {
                let mut denied = BTreeSet::new();
                let mut not_allowed = BTreeSet::new();
                for f in failures {
                    if self.denied(&f.req) {
                        denied.insert(f.req.to_string());
                    } else {
                        not_allowed.insert(f.req.to_string());
                    }
                }
                if denied.is_empty() {
                    (
                        Outcome::Block,
                        "not_allowed".into(),
                        not_allowed.into_iter().collect(),
                    )
                } else {
                    (
                        Outcome::Block,
                        "denied".into(),
                        denied.into_iter().collect(),
                    )
                }
            }
        }
    }

    /// Checks every component of `sbom` (the root included).
    pub fn check(&self, sbom: &Sbom) -> Report {
        let components = sbom
            .all_components()
            .map(|c| {
                let (outcome, reason, offending) = if self.is_ignored(c.purl.as_deref()) {
                    (Outcome::Ignored, "ignored".to_owned(), Vec::new())
                } else {
                    self.evaluate(c.license.as_ref())
                };
                ComponentVerdict {
                    bom_ref: c.bom_ref.clone(),
                    name: c.display_name(),
                    version: c.version.clone(),
                    purl: c.purl.clone(),
                    license: c.license.as_ref().map(|l| l.as_str().to_owned()),
                    outcome,
                    reason,
                    offending,
                }
            })
            .collect();
        Report { components }
    }
}

impl Report {
    /// True when no component blocks.
    pub fn passed(&self) -> bool {
        !self.components.iter().any(|c| c.outcome == Outcome::Block)
    }

    /// The blocking components.
    pub fn blocked(&self) -> impl Iterator<Item = &ComponentVerdict> {
        self.components
            .iter()
            .filter(|c| c.outcome == Outcome::Block)
    }

    /// The deterministic JSON report: `{"passed", "counts", "components"}`.
    pub fn to_json(&self) -> serde_json::Value {
        let count = |o: Outcome| self.components.iter().filter(|c| c.outcome == o).count();
        serde_json::json!({
            "passed": self.passed(),
            "counts": {
                "pass": count(Outcome::Pass),
                "warn": count(Outcome::Warn),
                "block": count(Outcome::Block),
                "ignored": count(Outcome::Ignored),
            },
            "components": serde_json::to_value(&self.components).unwrap_or_default(),
        })
    }

    /// The verdict as text: one line per blocking or warned component and a summary.
    ///
    /// Names, versions, purls and licences come from the SBOM and are
    /// escaped ([`cos_core::text::shown`]).
    pub fn to_text(&self) -> String {
        use cos_core::text::shown;
        let mut out = String::new();
        for c in &self.components {
            let tag = match c.outcome {
                Outcome::Block => "BLOCK",
                Outcome::Warn => "WARN ",
                _ => continue,
            };
            let what = shown(&c.purl.clone().unwrap_or_else(|| match &c.version {
                Some(v) => format!("{}@{v}", c.name),
                None => c.name.clone(),
            }));
            let list = |v: &[String]| v.iter().map(|x| shown(x)).collect::<Vec<_>>().join(", ");
            let detail = match c.reason.as_str() {
                "missing" => "no licence declared".to_owned(),
                "not_spdx" => format!(
                    "\"{}\" is not an SPDX expression",
                    shown(c.license.as_deref().unwrap_or(""))
                ),
                "denied" => format!("denied: {}", list(&c.offending)),
                "not_allowed" => format!("not allowed: {}", list(&c.offending)),
                other => shown(other),
            };
            out.push_str(&format!(
                "{tag} {what} ({}): {detail}\n",
                shown(c.license.as_deref().unwrap_or("no licence"))
            ));
        }
        let blocked = self.blocked().count();
        let warned = self
            .components
            .iter()
            .filter(|c| c.outcome == Outcome::Warn)
            .count();
        out.push_str(&format!(
            "license gate: {} ({} components: {} blocked, {} warned)\n",
            if self.passed() { "PASS" } else { "FAIL" },
            self.components.len(),
            blocked,
            warned
        ));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(json: &str) -> Policy {
        Policy::from_json(json.as_bytes()).unwrap()
    }

    fn outcome(p: &Policy, l: &str) -> (Outcome, String) {
        let (o, r, _) = p.evaluate(License::from_declared(l).as_ref());
        (o, r)
    }

    #[test]
    fn or_needs_one_and_needs_all() {
        let p = policy(r#"{"allow": ["MIT", "Apache-2.0"]}"#);
        assert_eq!(outcome(&p, "MIT OR GPL-3.0-only").0, Outcome::Pass);
        assert_eq!(outcome(&p, "MIT AND Apache-2.0").0, Outcome::Pass);
        assert_eq!(
            outcome(&p, "MIT AND GPL-3.0-only"),
            (Outcome::Block, "not_allowed".into())
        );
        assert_eq!(outcome(&p, "MIT/Apache-2.0").0, Outcome::Pass);
    }

    #[test]
    fn deny_wins_and_covers_gnu_family() {
        let p = policy(r#"{"allow": ["MIT", "GPL-3.0-only"], "deny": ["GPL-3.0-or-later"]}"#);
        assert_eq!(
            outcome(&p, "GPL-3.0-only"),
            (Outcome::Block, "denied".into())
        );
        assert_eq!(outcome(&p, "MIT OR GPL-3.0-only").0, Outcome::Pass);
        let deny_only = policy(r#"{"deny": ["AGPL-3.0-only"]}"#);
        assert_eq!(outcome(&deny_only, "BSD-3-Clause").0, Outcome::Pass);
        assert_eq!(outcome(&deny_only, "AGPL-3.0-or-later").0, Outcome::Block);
    }

    #[test]
    fn exceptions() {
        let p = policy(r#"{"allow": ["Apache-2.0"]}"#);
        assert_eq!(
            outcome(&p, "Apache-2.0 WITH LLVM-exception").0,
            Outcome::Pass
        );
        let p = policy(r#"{"allow": ["GPL-2.0-only WITH Classpath-exception-2.0"]}"#);
        assert_eq!(outcome(&p, "GPL-2.0-only").0, Outcome::Block);
        assert_eq!(
            outcome(&p, "GPL-2.0-only WITH Classpath-exception-2.0").0,
            Outcome::Pass
        );
    }

    #[test]
    fn unknown_is_configurable() {
        let block = policy(r#"{"allow": ["MIT"]}"#);
        assert_eq!(block.evaluate(None).0, Outcome::Block);
        assert_eq!(
            outcome(&block, "Some custom licence"),
            (Outcome::Block, "not_spdx".into())
        );
        let warn = policy(r#"{"allow": ["MIT"], "unknown": "warn"}"#);
        assert_eq!(warn.evaluate(None).0, Outcome::Warn);
        let allow = policy(r#"{"allow": ["MIT"], "unknown": "allow"}"#);
        assert_eq!(allow.evaluate(None).0, Outcome::Pass);
    }

    #[test]
    fn bad_policies() {
        for bad in [
            r#"{"allow": ["NOT-A-LICENCE"]}"#,
            r#"{"allow": ["MIT"], "extra": 1}"#,
            r#"{}"#,
            r#"{"allow": "MIT"}"#,
            r#"{"allow": ["MIT"], "unknown": "maybe"}"#,
        ] {
            let e = Policy::from_json(bad.as_bytes()).unwrap_err();
            assert_eq!(e.code(), "invalid_license_policy", "{bad}");
        }
        assert!(Policy::from_yaml(b"allow: [MIT]\ndeny: [GPL-3.0-only]\n").is_ok());
    }
}
