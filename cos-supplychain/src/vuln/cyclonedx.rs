//! CycloneDX JSON `vulnerabilities` (1.4–1.6): findings (as a report) and
//! VEX statements (`analysis`).

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

use super::cvss::with_prefix;
use super::finding::{Finding, Limits, Package, ReportedScore};
use super::purl::Purl;
use super::report::{Sink, nullable};
use super::time::Timestamp;
use super::vex::{ProductRef, VexStatement, VexStatus};
use crate::error::{Error, Result};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Bom {
    #[serde(default)]
    bom_format: Option<String>,
    #[serde(default)]
    metadata: Option<Metadata>,
    #[serde(default, deserialize_with = "nullable")]
    components: Vec<Component>,
    vulnerabilities: Option<Vec<Vulnerability>>,
}

#[derive(Deserialize)]
struct Metadata {
    #[serde(default)]
    timestamp: Option<String>,
    #[serde(default)]
    component: Option<Component>,
}

#[derive(Deserialize)]
struct Component {
    #[serde(default, rename = "bom-ref")]
    bom_ref: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    purl: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    components: Vec<Component>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Vulnerability {
    #[serde(default)]
    id: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    references: Vec<Reference>,
    #[serde(default, deserialize_with = "nullable")]
    ratings: Vec<Rating>,
    #[serde(default)]
    analysis: Option<Analysis>,
    #[serde(default, deserialize_with = "nullable")]
    affects: Vec<Affects>,
    #[serde(default)]
    updated: Option<String>,
    #[serde(default)]
    published: Option<String>,
}

#[derive(Deserialize)]
struct Reference {
    id: String,
}

#[derive(Deserialize)]
struct Rating {
    #[serde(default)]
    source: Option<Source>,
    #[serde(default)]
    score: Option<f64>,
    #[serde(default)]
    severity: Option<String>,
    #[serde(default)]
    method: Option<String>,
    #[serde(default)]
    vector: Option<String>,
}

#[derive(Deserialize)]
struct Source {
    #[serde(default)]
    name: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Analysis {
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    justification: Option<String>,
    #[serde(default)]
    detail: Option<String>,
    #[serde(default)]
    last_updated: Option<String>,
    #[serde(default)]
    first_issued: Option<String>,
}

#[derive(Deserialize)]
struct Affects {
    #[serde(rename = "ref")]
    reference: String,
}

/// Every component by its bom-ref (nested components included).
fn index<'a>(roots: impl Iterator<Item = &'a Component>) -> BTreeMap<&'a str, &'a Component> {
    let mut out = BTreeMap::new();
    let mut stack: Vec<&Component> = roots.collect();
    while let Some(c) = stack.pop() {
        if let Some(r) = c.bom_ref.as_deref() {
            out.insert(r, c);
        }
        stack.extend(c.components.iter());
    }
    out
}

/// The bom-ref a reference points at: the fragment of a BOM-Link
/// (`urn:cdx:<serial>/<version>#<bom-ref>`, percent-decoded), else itself.
fn bom_ref(reference: &str) -> String {
    let r = reference.trim();
    match r.strip_prefix("urn:cdx:").and_then(|x| x.split_once('#')) {
        Some((_, frag)) => percent_decode(frag),
        None => r.to_owned(),
    }
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = s.get(i + 1..i + 3).filter(|_| b[i] == b'%');
        match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
            Some(v) => {
                out.push(v);
                i += 3;
            }
            None => {
                out.push(b[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Reads the `vulnerabilities` of a CycloneDX document: findings into
/// `sink` when given (read as a report), and the VEX statements of those
/// that have an `analysis.state`.
pub(crate) fn read(
    value: Value,
    source: &str,
    mut sink: Option<&mut Sink<'_>>,
    limits: &Limits,
) -> Result<Vec<VexStatement>> {
    let as_report = sink.is_some();
    let bad = |reason: String| {
        if as_report {
            Error::InvalidReport {
                format: "cyclonedx",
                reason,
            }
        } else {
            Error::InvalidVex {
                format: "cyclonedx",
                reason,
            }
        }
    };
    let bom: Bom = serde_json::from_value(value).map_err(|e| bad(e.to_string()))?;
    if bom.bom_format.as_deref().is_some_and(|f| f != "CycloneDX") {
        return Err(bad("`bomFormat` is not CycloneDX".into()));
    }
    let Some(vulns) = bom.vulnerabilities else {
        return Err(bad("no `vulnerabilities` list".into()));
    };
    if vulns.len() > limits.max_statements.max(limits.max_findings) {
        return Err(Error::TooManyEntries {
            what: format!("CycloneDX document {source}"),
            entries: "vulnerabilities",
            limit: limits.max_statements.max(limits.max_findings),
        });
    }
    let doc_time = bom
        .metadata
        .as_ref()
        .and_then(|m| m.timestamp.as_deref())
        .map(Timestamp::parse)
        .transpose()
        .map_err(|e| bad(format!("metadata.timestamp: {e}")))?;
    let components = index(
        bom.components
            .iter()
            .chain(bom.metadata.as_ref().and_then(|m| m.component.as_ref())),
    );
    let package_of = |reference: &str| -> Package {
        let r = bom_ref(reference);
        if let Some(c) = components.get(r.as_str()) {
            return Package {
                name: c.name.clone().unwrap_or_else(|| r.clone()),
                version: c.version.clone().filter(|v| !v.is_empty()),
                purl: c.purl.as_deref().and_then(Purl::parse),
            };
        }
        match Purl::parse(&r) {
            Some(p) => Package {
                name: p.name.clone(),
                version: p.version.clone(),
                purl: Some(p),
            },
            None => Package {
                name: r,
                version: None,
                purl: None,
            },
        }
    };
    let mut statements = Vec::new();
    for (i, v) in vulns.into_iter().enumerate() {
        let n = i + 1;
        let Some(id) = v.id.as_deref().map(str::trim).filter(|x| !x.is_empty()) else {
            return Err(bad(format!("vulnerability #{n} has no id")));
        };
        let packages: Vec<Package> = v.affects.iter().map(|a| package_of(&a.reference)).collect();
        if let Some(sink) = sink.as_deref_mut() {
            for package in &packages {
                let mut f = Finding::new(id, package.clone());
                for r in &v.references {
                    f.add_alias(&r.id);
                }
                for r in &v.ratings {
                    let method = r.method.as_deref().unwrap_or_default();
                    let vector = r.vector.as_deref().and_then(|x| with_prefix(x, method));
                    if let Some(x) = &vector {
                        f.add_vector(x);
                    } else if let Some(x) = r.vector.as_deref().filter(|_| method == "CVSSv2") {
                        f.add_vector(x);
                    }
                    if let Some(l) = &r.severity {
                        f.add_label(l);
                    }
                    if let Some(score) = r.score {
                        f.reported_scores.push(ReportedScore {
                            score,
                            from: format!(
                                "cyclonedx {} {}",
                                r.source
                                    .as_ref()
                                    .and_then(|s| s.name.as_deref())
                                    .unwrap_or("?"),
                                if method.is_empty() { "?" } else { method }
                            ),
                            vector,
                        });
                    }
                }
                sink.push(f)?;
            }
        }
        let Some(analysis) = &v.analysis else {
            continue;
        };
        let Some(state) = analysis.state.as_deref() else {
            continue;
        };
        let Some(status) = VexStatus::parse(state) else {
            return Err(bad(format!(
                "vulnerability #{n} ({id}): analysis.state {state:?} is not a CycloneDX state"
            )));
        };
        if v.affects.is_empty() {
            return Err(bad(format!(
                "vulnerability #{n} ({id}): analysis without `affects`"
            )));
        }
        let when = [
            analysis.last_updated.as_deref(),
            analysis.first_issued.as_deref(),
            v.updated.as_deref(),
            v.published.as_deref(),
        ]
        .into_iter()
        .flatten()
        .next();
        let timestamp = match when {
            Some(t) => Some(
                Timestamp::parse(t).map_err(|e| bad(format!("vulnerability #{n} ({id}): {e}")))?,
            ),
            None => doc_time,
        };
        let mut products = Vec::new();
        for (a, p) in v.affects.iter().zip(&packages) {
            products.push(match &p.purl {
                Some(u) => ProductRef::Purl(u.clone()),
                None => ProductRef::parse(&bom_ref(&a.reference)),
            });
        }
        statements.push(VexStatement {
            vulnerability: id.to_owned(),
            aliases: v
                .references
                .iter()
                .map(|r| r.id.trim().to_owned())
                .collect(),
            products,
            status,
            justification: analysis.justification.clone().filter(|j| !j.is_empty()),
            detail: analysis.detail.clone().filter(|d| !d.is_empty()),
            timestamp,
            source: source.to_owned(),
        });
        if statements.len() > limits.max_statements {
            return Err(Error::TooManyEntries {
                what: format!("CycloneDX document {source}"),
                entries: "statements",
                limit: limits.max_statements,
            });
        }
    }
    Ok(statements)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vuln::finding::ReportFormat;
    use crate::vuln::report::parse_report;
    use crate::vuln::vex::{VexFormat, parse_vex};

    const VEX: &str = r#"{
      "bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1,
      "metadata": {"timestamp": "2026-11-01T00:00:00Z"},
      "components": [{"bom-ref": "log4j", "name": "log4j-core", "version": "2.14.1",
                      "purl": "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"}],
      "vulnerabilities": [{
        "id": "CVE-2021-44228",
        "references": [{"id": "GHSA-jfh8-c2jp-5v3q", "source": {"name": "GitHub"}}],
        "ratings": [{"source": {"name": "NVD"}, "score": 10.0, "severity": "critical",
                     "method": "CVSSv31", "vector": "AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H"}],
        "analysis": {"state": "not_affected", "justification": "code_not_reachable",
                     "detail": "JndiLookup removed from the classpath"},
        "affects": [{"ref": "urn:cdx:3e671687-395b-41f5-a30f-a58921a69b79/1#log4j"}]
      }]
    }"#;

    #[test]
    fn as_a_report_and_as_vex() {
        let r = parse_report(
            VEX.as_bytes(),
            ReportFormat::Auto,
            "bom.json",
            &Limits::default(),
        )
        .unwrap();
        assert_eq!(r.format, ReportFormat::Cyclonedx);
        let f = &r.findings[0];
        assert_eq!(f.package.name, "log4j-core");
        assert_eq!(f.vectors, ["CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H"]);
        assert!(f.aliases.contains("GHSA-jfh8-c2jp-5v3q"));
        assert_eq!(r.statements.len(), 1);
        let v = parse_vex(
            VEX.as_bytes(),
            VexFormat::Auto,
            "bom.json",
            &Limits::default(),
        )
        .unwrap();
        assert_eq!(v.format, VexFormat::Cyclonedx);
        let s = &v.statements[0];
        assert_eq!(s.status, VexStatus::NotAffected);
        assert_eq!(s.justification.as_deref(), Some("code_not_reachable"));
        assert!(s.applies_to(f));
    }

    #[test]
    fn malformed_cyclonedx_is_a_typed_error() {
        for (bad, code) in [
            (r#"{"bomFormat":"CycloneDX"}"#, "invalid_vex"),
            (
                r#"{"bomFormat":"CycloneDX","vulnerabilities":[{"affects":[{"ref":"a"}]}]}"#,
                "invalid_vex",
            ),
            (
                r#"{"bomFormat":"CycloneDX","vulnerabilities":[{"id":"CVE-1","analysis":{"state":"fine"},"affects":[{"ref":"a"}]}]}"#,
                "invalid_vex",
            ),
            (
                r#"{"bomFormat":"CycloneDX","vulnerabilities":[{"id":"CVE-1","analysis":{"state":"not_affected"}}]}"#,
                "invalid_vex",
            ),
            (
                r#"{"bomFormat":"CycloneDX","vulnerabilities":"x"}"#,
                "invalid_vex",
            ),
        ] {
            let e = parse_vex(
                bad.as_bytes(),
                VexFormat::Cyclonedx,
                "v",
                &Limits::default(),
            )
            .unwrap_err();
            assert_eq!(e.code(), code, "{bad}");
        }
    }
}
