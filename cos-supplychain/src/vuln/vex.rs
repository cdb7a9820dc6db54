//! VEX statements: OpenVEX documents and CycloneDX `analysis` (the
//! CycloneDX side is in `cyclonedx.rs`).

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::finding::{Finding, Limits};
use super::purl::Purl;
use super::report::nullable;
use super::time::Timestamp;
use crate::error::{Error, Result};

/// A VEX status, from OpenVEX (`not_affected`, `affected`, `fixed`,
/// `under_investigation`) or CycloneDX `analysis.state` (`not_affected`,
/// `false_positive`, `exploitable`, `resolved`, `resolved_with_pedigree`,
/// `in_triage`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum VexStatus {
    /// The product is not affected: the gate removes the finding.
    NotAffected,
    /// CycloneDX `false_positive`: the finding is wrong; removed like `not_affected`.
    FalsePositive,
    /// OpenVEX `affected`, CycloneDX `exploitable`.
    Affected,
    /// OpenVEX `fixed`, CycloneDX `resolved` / `resolved_with_pedigree`:
    /// recorded, but the finding stays (the scanner still sees the version).
    Fixed,
    /// OpenVEX `under_investigation`, CycloneDX `in_triage`.
    UnderInvestigation,
}

impl VexStatus {
    /// Reads an OpenVEX status or CycloneDX state.
    pub fn parse(s: &str) -> Option<VexStatus> {
        Some(match s {
            "not_affected" => VexStatus::NotAffected,
            "false_positive" => VexStatus::FalsePositive,
            "affected" | "exploitable" => VexStatus::Affected,
            "fixed" | "resolved" | "resolved_with_pedigree" => VexStatus::Fixed,
            "under_investigation" | "in_triage" => VexStatus::UnderInvestigation,
            _ => return None,
        })
    }

    /// Whether the gate drops a finding this statement applies to.
    pub fn removes_finding(self) -> bool {
        matches!(self, VexStatus::NotAffected | VexStatus::FalsePositive)
    }

    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            VexStatus::NotAffected => "not_affected",
            VexStatus::FalsePositive => "false_positive",
            VexStatus::Affected => "affected",
            VexStatus::Fixed => "fixed",
            VexStatus::UnderInvestigation => "under_investigation",
        }
    }
}

/// What a statement is about: a purl (matched ignoring qualifiers, any
/// version when it names none) or another identifier (matched exactly
/// against the package name or `name@version`).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ProductRef {
    /// A package URL.
    Purl(Purl),
    /// Anything else (a CycloneDX bom-ref that is no purl, a name).
    Other(String),
}

impl ProductRef {
    /// Reads an identifier: a purl when it parses as one.
    pub fn parse(s: &str) -> ProductRef {
        match Purl::parse(s) {
            Some(p) => ProductRef::Purl(p),
            None => ProductRef::Other(s.trim().to_owned()),
        }
    }

    /// Whether this names the package of `f`.
    pub fn matches(&self, f: &Finding) -> bool {
        let pkg = &f.package;
        match self {
            ProductRef::Purl(p) => match &pkg.purl {
                Some(fp) => p.matches(fp),
                None => {
                    p.name.eq_ignore_ascii_case(&pkg.name)
                        && (p.version.is_none() || p.version == pkg.version)
                }
            },
            ProductRef::Other(s) => !s.is_empty() && (s == &pkg.name || s == &pkg.key()),
        }
    }
}

impl std::fmt::Display for ProductRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ProductRef::Purl(p) => p.fmt(f),
            ProductRef::Other(s) => f.write_str(s),
        }
    }
}

/// One VEX statement: a status of a vulnerability for some products.
#[derive(Clone, Debug, PartialEq)]
pub struct VexStatement {
    /// The vulnerability (`CVE-…`, `GHSA-…`).
    pub vulnerability: String,
    /// Its other ids.
    pub aliases: BTreeSet<String>,
    /// The products (packages) it is about.
    pub products: Vec<ProductRef>,
    /// The status.
    pub status: VexStatus,
    /// Why (OpenVEX `justification`, CycloneDX `analysis.justification`).
    pub justification: Option<String>,
    /// Free text (OpenVEX `impact_statement`/`status_notes`, CycloneDX `analysis.detail`).
    pub detail: Option<String>,
    /// When it was made (the statement's, else the document's timestamp):
    /// of several statements on the same finding, the latest holds.
    pub timestamp: Option<Timestamp>,
    /// Which document it comes from.
    pub source: String,
}

impl VexStatement {
    /// Whether the statement speaks of `f`: one of its ids is the finding's
    /// id or alias (without case), and one of its products is the finding's
    /// package.
    pub fn applies_to(&self, f: &Finding) -> bool {
        let ids = f.ids();
        let named = std::iter::once(&self.vulnerability)
            .chain(&self.aliases)
            .any(|v| ids.contains(&v.to_ascii_uppercase()));
        named && self.products.iter().any(|p| p.matches(f))
    }
}

/// A parsed VEX document.
#[derive(Clone, Debug)]
pub struct VexDocument {
    /// What the caller calls it (a file name).
    pub source: String,
    /// `openvex` or `cyclonedx`.
    pub format: VexFormat,
    /// The SHA-256 digest of its bytes (`sha256:<hex>`), for the record.
    pub digest: String,
    /// Its statements, in document order.
    pub statements: Vec<VexStatement>,
}

/// The VEX formats [`parse_vex`] reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum VexFormat {
    /// Recognise from the content.
    Auto,
    /// OpenVEX (v0.0.1 and v0.2.0 shapes).
    Openvex,
    /// CycloneDX (`vulnerabilities[].analysis`).
    Cyclonedx,
}

impl VexFormat {
    /// `auto`, `openvex` or `cyclonedx`.
    pub fn as_str(self) -> &'static str {
        match self {
            VexFormat::Auto => "auto",
            VexFormat::Openvex => "openvex",
            VexFormat::Cyclonedx => "cyclonedx",
        }
    }
}

/// Parses a VEX document (OpenVEX, or CycloneDX with `analysis`). With
/// [`VexFormat::Auto`]: `bomFormat: CycloneDX` → CycloneDX; `statements`
/// or an OpenVEX `@context` → OpenVEX.
///
/// Errors: [`Error::InputTooLarge`], [`Error::TooManyEntries`],
/// [`Error::UnknownFormat`], [`Error::InvalidVex`] (not JSON, a statement
/// without a vulnerability or with an unknown status, a bad timestamp).
pub fn parse_vex(
    bytes: &[u8],
    format: VexFormat,
    source: &str,
    limits: &Limits,
) -> Result<VexDocument> {
    limits.check_size(&format!("VEX document {source}"), bytes)?;
    let value: Value = serde_json::from_slice(bytes).map_err(|e| Error::InvalidVex {
        format: match format {
            VexFormat::Cyclonedx => "cyclonedx",
            _ => "openvex",
        },
        reason: format!("not JSON: {e}"),
    })?;
    let format = match format {
        VexFormat::Auto => {
            let is_cdx = value.get("bomFormat").and_then(Value::as_str) == Some("CycloneDX");
            let is_openvex = value.get("statements").is_some()
                || value
                    .get("@context")
                    .and_then(Value::as_str)
                    .is_some_and(|c| c.contains("openvex"));
            match (is_cdx, is_openvex) {
                (true, _) => VexFormat::Cyclonedx,
                (false, true) => VexFormat::Openvex,
                _ => {
                    return Err(Error::UnknownFormat {
                        what: "VEX document",
                        reason: "neither OpenVEX (`statements`) nor CycloneDX (`bomFormat`)".into(),
                    });
                }
            }
        }
        f => f,
    };
    let statements = match format {
        VexFormat::Cyclonedx => super::cyclonedx::read(value, source, None, limits)?,
        _ => openvex(value, source, limits)?,
    };
    Ok(VexDocument {
        source: source.to_owned(),
        format,
        digest: super::report::sha256(bytes),
        statements,
    })
}

#[derive(Deserialize)]
struct OpenVexDoc {
    #[serde(default)]
    timestamp: Option<String>,
    statements: Option<Vec<OvStatement>>,
}

#[derive(Deserialize)]
struct OvStatement {
    vulnerability: Option<OvVulnerability>,
    #[serde(default, deserialize_with = "nullable")]
    products: Vec<OvProduct>,
    /// OpenVEX v0.0.1 put subcomponents beside the products.
    #[serde(default, deserialize_with = "nullable")]
    subcomponents: Vec<OvProduct>,
    status: Option<String>,
    #[serde(default)]
    justification: Option<String>,
    #[serde(default)]
    impact_statement: Option<String>,
    #[serde(default)]
    status_notes: Option<String>,
    #[serde(default)]
    timestamp: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OvVulnerability {
    Name(String),
    Object {
        #[serde(default)]
        name: Option<String>,
        #[serde(default, rename = "@id")]
        id: Option<String>,
        #[serde(default, deserialize_with = "nullable")]
        aliases: Vec<String>,
    },
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OvProduct {
    Id(String),
    Object {
        #[serde(default, rename = "@id")]
        id: Option<String>,
        #[serde(default)]
        identifiers: Option<OvIdentifiers>,
        #[serde(default, deserialize_with = "nullable")]
        subcomponents: Vec<OvProduct>,
    },
}

#[derive(Deserialize)]
struct OvIdentifiers {
    #[serde(default)]
    purl: Option<String>,
}

impl OvProduct {
    /// Its ids and those of its subcomponents (the packages a statement
    /// about an image is really about).
    fn collect(&self, out: &mut Vec<ProductRef>) {
        match self {
            OvProduct::Id(s) => out.push(ProductRef::parse(s)),
            OvProduct::Object {
                id,
                identifiers,
                subcomponents,
            } => {
                for s in [
                    id.as_deref(),
                    identifiers.as_ref().and_then(|i| i.purl.as_deref()),
                ]
                .into_iter()
                .flatten()
                {
                    out.push(ProductRef::parse(s));
                }
                for sub in subcomponents {
                    sub.collect(out);
                }
            }
        }
    }
}

fn openvex(value: Value, source: &str, limits: &Limits) -> Result<Vec<VexStatement>> {
    let bad = |reason: String| Error::InvalidVex {
        format: "openvex",
        reason,
    };
    let doc: OpenVexDoc = serde_json::from_value(value).map_err(|e| bad(e.to_string()))?;
    let Some(statements) = doc.statements else {
        return Err(bad("no `statements` list".into()));
    };
    if statements.len() > limits.max_statements {
        return Err(Error::TooManyEntries {
            what: format!("VEX document {source}"),
            entries: "statements",
            limit: limits.max_statements,
        });
    }
    let doc_time = doc
        .timestamp
        .as_deref()
        .map(Timestamp::parse)
        .transpose()
        .map_err(|e| bad(format!("document timestamp: {e}")))?;
    let mut out = Vec::with_capacity(statements.len());
    for (i, s) in statements.into_iter().enumerate() {
        let n = i + 1;
        let (vulnerability, aliases) = match s.vulnerability {
            Some(OvVulnerability::Name(name)) => (name, Vec::new()),
            Some(OvVulnerability::Object { name, id, aliases }) => match name.or(id) {
                Some(v) => (v, aliases),
                None => return Err(bad(format!("statement #{n}: vulnerability has no name"))),
            },
            None => return Err(bad(format!("statement #{n}: no `vulnerability`"))),
        };
        if vulnerability.trim().is_empty() {
            return Err(bad(format!("statement #{n}: empty vulnerability name")));
        }
        let raw = s.status.unwrap_or_default();
        let Some(status) = VexStatus::parse(&raw) else {
            return Err(bad(format!(
                "statement #{n}: status {raw:?} is not one of not_affected, affected, fixed, under_investigation"
            )));
        };
        let mut products = Vec::new();
        for p in s.products.iter().chain(&s.subcomponents) {
            p.collect(&mut products);
        }
        if products.is_empty() {
            return Err(bad(format!(
                "statement #{n} ({vulnerability}): no products"
            )));
        }
        let timestamp = match s.timestamp.as_deref() {
            Some(t) => Some(
                Timestamp::parse(t).map_err(|e| bad(format!("statement #{n} timestamp: {e}")))?,
            ),
            None => doc_time,
        };
        out.push(VexStatement {
            vulnerability: vulnerability.trim().to_owned(),
            aliases: aliases.into_iter().map(|a| a.trim().to_owned()).collect(),
            products,
            status,
            justification: s.justification.filter(|j| !j.is_empty()),
            detail: s
                .impact_statement
                .or(s.status_notes)
                .filter(|d| !d.is_empty()),
            timestamp,
            source: source.to_owned(),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vuln::finding::Package;

    fn finding(id: &str, purl: &str) -> Finding {
        let p = Purl::parse(purl).unwrap();
        Finding::new(
            id,
            Package {
                name: p.name.clone(),
                version: p.version.clone(),
                purl: Some(p),
            },
        )
    }

    #[test]
    fn openvex_v020_with_subcomponents_and_aliases() {
        let doc = br#"{
          "@context": "https://openvex.dev/ns/v0.2.0",
          "@id": "https://example.com/vex/1",
          "author": "Example Security",
          "timestamp": "2026-11-01T00:00:00Z",
          "version": 1,
          "statements": [{
            "vulnerability": {"name": "CVE-2023-0001", "aliases": ["GHSA-aaaa-bbbb-cccc"]},
            "products": [{"@id": "pkg:oci/app@sha256%3Aabc", "subcomponents": [{"@id": "pkg:npm/lodash@4.17.20"}]}],
            "status": "not_affected",
            "justification": "vulnerable_code_not_in_execute_path"
          }]
        }"#;
        let v = parse_vex(doc, VexFormat::Auto, "vex.json", &Limits::default()).unwrap();
        assert_eq!(v.format, VexFormat::Openvex);
        let s = &v.statements[0];
        assert!(s.status.removes_finding());
        assert_eq!(s.timestamp.unwrap().to_string(), "2026-11-01T00:00:00Z");
        assert!(s.applies_to(&finding("CVE-2023-0001", "pkg:npm/lodash@4.17.20")));
        let mut by_alias = finding("GHSA-AAAA-BBBB-CCCC", "pkg:npm/lodash@4.17.20?x=y");
        by_alias.aliases.insert("nothing".into());
        assert!(s.applies_to(&by_alias));
        assert!(!s.applies_to(&finding("CVE-2023-0001", "pkg:npm/lodash@4.17.21")));
        assert!(!s.applies_to(&finding("CVE-2023-0002", "pkg:npm/lodash@4.17.20")));
    }

    #[test]
    fn openvex_v001_strings() {
        let doc = br#"{"@context":"https://openvex.dev/ns","statements":[
            {"vulnerability":"CVE-2023-0001","products":["pkg:npm/lodash"],"status":"fixed"}]}"#;
        let v = parse_vex(doc, VexFormat::Openvex, "v", &Limits::default()).unwrap();
        assert_eq!(v.statements[0].status, VexStatus::Fixed);
        assert!(!v.statements[0].status.removes_finding());
        assert!(v.statements[0].applies_to(&finding("CVE-2023-0001", "pkg:npm/lodash@1.0.0")));
    }

    #[test]
    fn malformed_openvex_is_a_typed_error() {
        for bad in [
            r#"{"statements":[{"products":["pkg:npm/a"],"status":"not_affected"}]}"#,
            r#"{"statements":[{"vulnerability":"CVE-1","products":["pkg:npm/a"],"status":"maybe"}]}"#,
            r#"{"statements":[{"vulnerability":"CVE-1","products":[],"status":"not_affected"}]}"#,
            r#"{"statements":[{"vulnerability":"CVE-1","products":["a"],"status":"fixed","timestamp":"yesterday"}]}"#,
            r#"{"statements":{}}"#,
            r#"{"@context":"https://openvex.dev/ns/v0.2.0"}"#,
            "[]",
        ] {
            let e =
                parse_vex(bad.as_bytes(), VexFormat::Openvex, "v", &Limits::default()).unwrap_err();
            assert_eq!(e.code(), "invalid_vex", "{bad}");
        }
        let e = parse_vex(b"{}", VexFormat::Auto, "v", &Limits::default()).unwrap_err();
        assert_eq!(e.code(), "unknown_format");
    }
}
