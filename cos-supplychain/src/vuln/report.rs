//! Vulnerability reports: OSV, Grype JSON, Trivy JSON (CycloneDX is in
//! `cyclonedx.rs`), read into [`Finding`]s.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer};
use serde_json::Value;

use super::cvss::{CvssVersion, detect_version};
use super::finding::{Finding, Limits, Package, Report, ReportFormat, ReportedScore};
use super::purl::Purl;
use crate::error::{Error, Result};

/// `null` or missing → the type's default (reports write `null` for empty lists).
pub(crate) fn nullable<'de, D, T>(d: D) -> std::result::Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// Counts findings against the limit.
pub(crate) struct Sink<'a> {
    pub(crate) findings: Vec<Finding>,
    limits: &'a Limits,
    what: String,
}

impl<'a> Sink<'a> {
    pub(crate) fn new(limits: &'a Limits, what: String) -> Self {
        Sink {
            findings: Vec::new(),
            limits,
            what,
        }
    }
    pub(crate) fn push(&mut self, f: Finding) -> Result<()> {
        if self.findings.len() >= self.limits.max_findings {
            return Err(Error::TooManyEntries {
                what: self.what.clone(),
                entries: "findings",
                limit: self.limits.max_findings,
            });
        }
        self.findings.push(f);
        Ok(())
    }
}

/// Parses a vulnerability report. With [`ReportFormat::Auto`] the format is
/// recognised from the content (see [`detect_format`]). `source` is what
/// the verdict calls the report (e.g. its file name).
///
/// Errors: [`Error::InputTooLarge`], [`Error::TooManyEntries`],
/// [`Error::UnknownFormat`] (auto, unrecognised), [`Error::InvalidReport`]
/// (not JSON, or a required field missing or of the wrong type).
pub fn parse_report(
    bytes: &[u8],
    format: ReportFormat,
    source: &str,
    limits: &Limits,
) -> Result<Report> {
    limits.check_size(&format!("report {source}"), bytes)?;
    let parsed: std::result::Result<Value, _> = serde_json::from_slice(bytes);
    let format = match (format, &parsed) {
        (ReportFormat::Auto, Ok(v)) => detect(v)?,
        (ReportFormat::Auto, Err(e)) => {
            return Err(Error::UnknownFormat {
                what: "vulnerability report",
                reason: format!("not JSON: {e}"),
            });
        }
        // A format given by the caller must be what the document is: a
        // Grype report read as Trivy would yield no findings and pass.
        (f, Ok(v)) => match detect(v) {
            Ok(d) if d == f => f,
            Ok(d) => {
                return Err(Error::InvalidReport {
                    format: f.as_str(),
                    reason: format!(
                        "this is a {} report, not {} (give its format, or auto)",
                        d.as_str(),
                        f.as_str()
                    ),
                });
            }
            Err(e) => {
                return Err(Error::InvalidReport {
                    format: f.as_str(),
                    reason: format!("does not look like a {} report: {e}", f.as_str()),
                });
            }
        },
        (f, Err(_)) => f,
    };
    let invalid = |reason: String| Error::InvalidReport {
        format: format.as_str(),
        reason,
    };
    let value = parsed.map_err(|e| invalid(format!("not JSON: {e}")))?;
    let mut sink = Sink::new(limits, format!("{} report {source}", format.as_str()));
    let mut statements = Vec::new();
    match format {
        ReportFormat::Osv => osv(value, &mut sink)?,
        ReportFormat::Grype => grype(value, &mut sink)?,
        ReportFormat::Trivy => trivy(value, &mut sink)?,
        ReportFormat::Cyclonedx => {
            statements = super::cyclonedx::read(value, source, Some(&mut sink), limits)?;
        }
        ReportFormat::Auto => {
            return Err(invalid("the format was not resolved".into()));
        }
    }
    Ok(Report {
        source: source.to_owned(),
        format,
        digest: sha256(bytes),
        findings: sink.findings,
        statements,
    })
}

/// `sha256:<hex>` of some bytes.
pub(crate) fn sha256(bytes: &[u8]) -> String {
    cos_core::Digest::of_bytes(cos_core::DigestAlgorithm::Sha256, bytes).to_string()
}

/// Recognises a report's format from its top-level JSON keys: `matches` →
/// Grype; `SchemaVersion`/`Results` → Trivy; `bomFormat: CycloneDX` (or
/// `specVersion` with `vulnerabilities`) → CycloneDX; `results`, `vulns`,
/// an OSV record (`id` with `affected`, `modified` or `schema_version`), or
/// a list of records → OSV.
pub fn detect_format(bytes: &[u8]) -> Result<ReportFormat> {
    let value: Value = serde_json::from_slice(bytes).map_err(|e| Error::UnknownFormat {
        what: "vulnerability report",
        reason: format!("not JSON: {e}"),
    })?;
    detect(&value)
}

fn detect(value: &Value) -> Result<ReportFormat> {
    let unknown = |reason: String| Error::UnknownFormat {
        what: "vulnerability report",
        reason,
    };
    match value {
        Value::Array(items) => {
            if items
                .iter()
                .all(|i| i.get("id").is_some_and(Value::is_string))
            {
                Ok(ReportFormat::Osv)
            } else {
                Err(unknown("a JSON list, but not of OSV records".into()))
            }
        }
        Value::Object(m) => {
            if m.contains_key("matches") {
                Ok(ReportFormat::Grype)
            } else if m.contains_key("SchemaVersion") || m.contains_key("Results") {
                Ok(ReportFormat::Trivy)
            } else if m.get("bomFormat").and_then(Value::as_str) == Some("CycloneDX")
                || (m.contains_key("specVersion") && m.contains_key("vulnerabilities"))
            {
                Ok(ReportFormat::Cyclonedx)
            } else if m.contains_key("results")
                || m.contains_key("vulns")
                || (m.get("id").is_some_and(Value::is_string)
                    && (m.contains_key("affected")
                        || m.contains_key("modified")
                        || m.contains_key("schema_version")))
            {
                Ok(ReportFormat::Osv)
            } else if m.contains_key("statements") || m.contains_key("@context") {
                Err(unknown(
                    "this looks like an OpenVEX document: pass it as VEX (--vex), not as a report"
                        .into(),
                ))
            } else {
                let keys: Vec<&str> = m.keys().take(8).map(String::as_str).collect();
                Err(unknown(format!(
                    "no known top-level keys (saw {keys:?}); expected Grype `matches`, Trivy `Results`, CycloneDX `bomFormat`, OSV `results`/`vulns`/record"
                )))
            }
        }
        _ => Err(unknown("not a JSON object or list".into())),
    }
}

/// A vector with the prefix its CVSS version implies, when a format gives
/// the version beside a vector without one.
fn prefixed(vector: &str, version: Option<&str>) -> String {
    let v = vector.trim();
    if v.starts_with("CVSS:") {
        return v.to_owned();
    }
    match version.map(str::trim) {
        Some(ver @ ("3.0" | "3.1" | "4.0")) => format!("CVSS:{ver}/{v}"),
        _ => v.to_owned(),
    }
}

fn from_value<T: for<'de> Deserialize<'de>>(
    value: Value,
    format: &'static str,
    what: &str,
) -> Result<T> {
    serde_json::from_value(value).map_err(|e| Error::InvalidReport {
        format,
        reason: format!("{what}: {e}"),
    })
}

// ---------------------------------------------------------------- OSV

#[derive(Deserialize)]
pub(crate) struct OsvRecord {
    id: String,
    #[serde(default, deserialize_with = "nullable")]
    aliases: Vec<String>,
    #[serde(default, deserialize_with = "nullable")]
    severity: Vec<OsvSeverity>,
    #[serde(default, deserialize_with = "nullable")]
    affected: Vec<OsvAffected>,
    #[serde(default)]
    database_specific: Option<Value>,
    #[serde(default)]
    withdrawn: Option<String>,
}

#[derive(Deserialize)]
struct OsvSeverity {
    #[serde(rename = "type")]
    ty: String,
    score: String,
}

#[derive(Deserialize)]
struct OsvAffected {
    #[serde(default)]
    package: Option<OsvPackage>,
    #[serde(default, deserialize_with = "nullable")]
    severity: Vec<OsvSeverity>,
    #[serde(default, deserialize_with = "nullable")]
    ranges: Vec<OsvRange>,
    #[serde(default)]
    database_specific: Option<Value>,
    #[serde(default)]
    ecosystem_specific: Option<Value>,
}

#[derive(Deserialize)]
struct OsvPackage {
    #[serde(default)]
    ecosystem: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    purl: Option<String>,
    #[serde(default)]
    version: Option<String>,
}

#[derive(Deserialize)]
struct OsvRange {
    #[serde(default, deserialize_with = "nullable")]
    events: Vec<OsvEvent>,
}

#[derive(Deserialize)]
struct OsvEvent {
    #[serde(default)]
    fixed: Option<String>,
}

#[derive(Deserialize)]
struct ScannerOutput {
    #[serde(default, deserialize_with = "nullable")]
    results: Vec<ScannerResult>,
}

#[derive(Deserialize)]
struct ScannerResult {
    #[serde(default, deserialize_with = "nullable")]
    packages: Vec<ScannerPackage>,
}

#[derive(Deserialize)]
struct ScannerPackage {
    package: OsvPackage,
    #[serde(default, deserialize_with = "nullable")]
    vulnerabilities: Vec<OsvRecord>,
    #[serde(default, deserialize_with = "nullable")]
    groups: Vec<ScannerGroup>,
}

#[derive(Deserialize)]
struct ScannerGroup {
    #[serde(default, deserialize_with = "nullable")]
    ids: Vec<String>,
    #[serde(default, deserialize_with = "nullable")]
    aliases: Vec<String>,
    #[serde(default)]
    max_severity: Option<Value>,
}

/// A `severity` string from `database_specific` (GHSA: `HIGH`, `MODERATE`).
fn db_label(v: &Option<Value>) -> Option<&str> {
    v.as_ref()?.get("severity")?.as_str()
}

fn osv_package(p: &OsvPackage) -> Package {
    let name = p.name.clone().unwrap_or_default();
    let purl = p.purl.as_deref().and_then(Purl::parse).or_else(|| {
        p.ecosystem
            .as_deref()
            .and_then(|e| Purl::from_ecosystem(e, &name, p.version.as_deref()))
    });
    let purl = match (purl, &p.version) {
        (Some(mut u), Some(v)) if u.version.is_none() => {
            u.version = Some(v.clone());
            Some(u)
        }
        (u, _) => u,
    };
    Package {
        name,
        version: p.version.clone().filter(|v| !v.is_empty()),
        purl,
    }
}

/// Vectors, labels, fixed versions of `rec` for the affected entries that
/// `select` picks.
fn osv_fill(f: &mut Finding, rec: &OsvRecord, select: impl Fn(usize, &OsvAffected) -> bool) {
    for a in &rec.aliases {
        f.add_alias(a);
    }
    let add_sev = |f: &mut Finding, s: &OsvSeverity| match s.ty.as_str() {
        "CVSS_V2" | "CVSS_V3" | "CVSS_V4" => f.add_vector(&s.score),
        // Distribution ratings (`Ubuntu`: `medium`, …) are labels.
        _ => f.add_label(&s.score),
    };
    for s in &rec.severity {
        add_sev(f, s);
    }
    if let Some(l) = db_label(&rec.database_specific) {
        f.add_label(l);
    }
    for (_, a) in rec
        .affected
        .iter()
        .enumerate()
        .filter(|(k, a)| select(*k, a))
    {
        for s in &a.severity {
            add_sev(f, s);
        }
        for l in [
            db_label(&a.database_specific),
            db_label(&a.ecosystem_specific),
        ]
        .into_iter()
        .flatten()
        {
            f.add_label(l);
        }
        for r in &a.ranges {
            for e in &r.events {
                if let Some(x) = e.fixed.as_deref().filter(|x| !x.is_empty()) {
                    f.fixed_versions.insert(x.to_owned());
                }
            }
        }
    }
}

fn osv(value: Value, sink: &mut Sink<'_>) -> Result<()> {
    let records: Vec<Value> = match value {
        Value::Array(items) => items,
        Value::Object(mut m) => {
            if m.contains_key("results") {
                let out: ScannerOutput = from_value(Value::Object(m), "osv", "osv-scanner output")?;
                return osv_scanner(out, sink);
            }
            if m.contains_key("vulns") {
                match m.remove("vulns") {
                    Some(Value::Array(items)) => items,
                    Some(Value::Null) | None => Vec::new(),
                    Some(_) => {
                        return Err(Error::InvalidReport {
                            format: "osv",
                            reason: "`vulns` is not a list".into(),
                        });
                    }
                }
            } else {
                vec![Value::Object(m)]
            }
        }
        _ => {
            return Err(Error::InvalidReport {
                format: "osv",
                reason: "not an OSV record, a list of them, or osv-scanner output".into(),
            });
        }
    };
    for (i, item) in records.into_iter().enumerate() {
        let rec: OsvRecord = from_value(item, "osv", &format!("record #{}", i + 1))?;
        if rec.withdrawn.is_some() {
            continue;
        }
        // A bare record names affected packages, not what is installed.
        let packages: Vec<(usize, Package)> = rec
            .affected
            .iter()
            .enumerate()
            .filter_map(|(k, a)| a.package.as_ref().map(|p| (k, osv_package(p))))
            .collect();
        if packages.is_empty() {
            let mut f = Finding::new(rec.id.clone(), Package::default());
            osv_fill(&mut f, &rec, |_, _| true);
            sink.push(f)?;
        }
        for (k, package) in packages {
            let mut f = Finding::new(rec.id.clone(), package);
            osv_fill(&mut f, &rec, |i, _| i == k);
            sink.push(f)?;
        }
    }
    Ok(())
}

fn osv_scanner(out: ScannerOutput, sink: &mut Sink<'_>) -> Result<()> {
    for result in out.results {
        for p in result.packages {
            let package = osv_package(&p.package);
            for rec in &p.vulnerabilities {
                if rec.withdrawn.is_some() {
                    continue;
                }
                let mut f = Finding::new(rec.id.clone(), package.clone());
                let same_package = |_: usize, a: &OsvAffected| match &a.package {
                    Some(ap) => {
                        ap.name.as_deref() == Some(package.name.as_str())
                            || ap.purl.as_deref().and_then(Purl::parse).is_some_and(|u| {
                                package
                                    .purl
                                    .as_ref()
                                    .is_some_and(|pu| u.without_version().matches(pu))
                            })
                    }
                    None => false,
                };
                osv_fill(&mut f, rec, same_package);
                for g in p
                    .groups
                    .iter()
                    .filter(|g| g.ids.iter().any(|x| x == &rec.id))
                {
                    for x in g.ids.iter().chain(&g.aliases) {
                        f.add_alias(x);
                    }
                    let max = match &g.max_severity {
                        Some(Value::String(s)) => s.trim().parse::<f64>().ok(),
                        Some(Value::Number(n)) => n.as_f64(),
                        _ => None,
                    };
                    if let Some(score) = max.filter(|s| (0.0..=10.0).contains(s)) {
                        f.reported_scores.push(ReportedScore {
                            score,
                            from: "osv-scanner group max_severity".into(),
                            vector: None,
                        });
                    }
                }
                sink.push(f)?;
            }
        }
    }
    Ok(())
}

// ---------------------------------------------------------------- Grype

#[derive(Deserialize)]
struct GrypeDoc {
    matches: Option<Vec<GrypeMatch>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GrypeMatch {
    vulnerability: GrypeVuln,
    #[serde(default, deserialize_with = "nullable")]
    related_vulnerabilities: Vec<GrypeVuln>,
    artifact: GrypeArtifact,
}

#[derive(Deserialize)]
struct GrypeVuln {
    id: String,
    #[serde(default)]
    severity: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    cvss: Vec<GrypeCvss>,
    #[serde(default)]
    fix: Option<GrypeFix>,
}

#[derive(Deserialize)]
struct GrypeCvss {
    #[serde(default)]
    source: Option<String>,
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    vector: Option<String>,
    #[serde(default)]
    metrics: Option<GrypeMetrics>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GrypeMetrics {
    #[serde(default)]
    base_score: Option<f64>,
}

#[derive(Deserialize)]
struct GrypeFix {
    #[serde(default, deserialize_with = "nullable")]
    versions: Vec<String>,
}

#[derive(Deserialize)]
struct GrypeArtifact {
    name: String,
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    purl: Option<String>,
}

fn grype_cvss(f: &mut Finding, v: &GrypeVuln) {
    for c in &v.cvss {
        let vector = c
            .vector
            .as_deref()
            .filter(|x| !x.trim().is_empty())
            .map(|x| prefixed(x, c.version.as_deref()));
        if let Some(x) = &vector {
            f.add_vector(x);
        }
        if let Some(score) = c.metrics.as_ref().and_then(|m| m.base_score) {
            f.reported_scores.push(ReportedScore {
                score,
                from: format!(
                    "grype {} {} {}",
                    v.id,
                    c.source.as_deref().unwrap_or("?"),
                    c.version.as_deref().unwrap_or("?")
                ),
                vector,
            });
        }
    }
}

fn grype(value: Value, sink: &mut Sink<'_>) -> Result<()> {
    let doc: GrypeDoc = from_value(value, "grype", "document")?;
    let Some(matches) = doc.matches else {
        return Err(Error::InvalidReport {
            format: "grype",
            reason: "no `matches` list".into(),
        });
    };
    for m in matches {
        let package = Package {
            purl: m.artifact.purl.as_deref().and_then(Purl::parse),
            name: m.artifact.name,
            version: m.artifact.version.filter(|v| !v.is_empty()),
        };
        let mut f = Finding::new(m.vulnerability.id.clone(), package);
        if let Some(l) = &m.vulnerability.severity {
            f.add_label(l);
        }
        grype_cvss(&mut f, &m.vulnerability);
        if let Some(fix) = &m.vulnerability.fix {
            f.fixed_versions
                .extend(fix.versions.iter().filter(|x| !x.is_empty()).cloned());
        }
        for r in &m.related_vulnerabilities {
            f.add_alias(&r.id);
            grype_cvss(&mut f, r);
        }
        sink.push(f)?;
    }
    Ok(())
}

// ---------------------------------------------------------------- Trivy

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TrivyDoc {
    #[serde(default, deserialize_with = "nullable")]
    results: Vec<TrivyResult>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TrivyResult {
    #[serde(default, deserialize_with = "nullable")]
    vulnerabilities: Vec<TrivyVuln>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TrivyVuln {
    #[serde(rename = "VulnerabilityID")]
    vulnerability_id: String,
    pkg_name: String,
    #[serde(default)]
    installed_version: Option<String>,
    #[serde(default)]
    fixed_version: Option<String>,
    #[serde(default)]
    pkg_identifier: Option<TrivyPkgIdentifier>,
    #[serde(default)]
    severity: Option<String>,
    #[serde(default)]
    severity_source: Option<String>,
    #[serde(default, rename = "CVSS", deserialize_with = "nullable")]
    cvss: BTreeMap<String, TrivyCvss>,
    #[serde(default, rename = "VendorIDs", deserialize_with = "nullable")]
    vendor_ids: Vec<String>,
}

#[derive(Deserialize)]
struct TrivyPkgIdentifier {
    #[serde(default, rename = "PURL")]
    purl: Option<String>,
}

#[derive(Deserialize)]
struct TrivyCvss {
    #[serde(default, rename = "V2Vector")]
    v2_vector: Option<String>,
    #[serde(default, rename = "V3Vector")]
    v3_vector: Option<String>,
    #[serde(default, rename = "V40Vector")]
    v40_vector: Option<String>,
    #[serde(default, rename = "V2Score")]
    v2_score: Option<f64>,
    #[serde(default, rename = "V3Score")]
    v3_score: Option<f64>,
    #[serde(default, rename = "V40Score")]
    v40_score: Option<f64>,
}

fn trivy(value: Value, sink: &mut Sink<'_>) -> Result<()> {
    if !value.is_object() {
        return Err(Error::InvalidReport {
            format: "trivy",
            reason: "not a JSON object".into(),
        });
    }
    let doc: TrivyDoc = from_value(value, "trivy", "document")?;
    for r in doc.results {
        for v in r.vulnerabilities {
            let package = Package {
                purl: v
                    .pkg_identifier
                    .as_ref()
                    .and_then(|p| p.purl.as_deref())
                    .and_then(Purl::parse),
                name: v.pkg_name,
                version: v.installed_version.filter(|x| !x.is_empty()),
            };
            let mut f = Finding::new(v.vulnerability_id, package);
            if let Some(l) = &v.severity {
                f.add_label(l);
            }
            for a in &v.vendor_ids {
                f.add_alias(a);
            }
            if let Some(fixed) = &v.fixed_version {
                f.fixed_versions.extend(
                    fixed
                        .split(',')
                        .map(str::trim)
                        .filter(|x| !x.is_empty())
                        .map(str::to_owned),
                );
            }
            // The vendor Trivy took the severity from first, then the others.
            let mut vendors: Vec<(&String, &TrivyCvss)> = v.cvss.iter().collect();
            vendors.sort_by_key(|(name, _)| Some(name.as_str()) != v.severity_source.as_deref());
            for (vendor, c) in vendors {
                for (vector, score, field) in [
                    (&c.v40_vector, c.v40_score, "V40Score"),
                    (&c.v3_vector, c.v3_score, "V3Score"),
                    (&c.v2_vector, c.v2_score, "V2Score"),
                ] {
                    let vector = vector.as_deref().filter(|x| !x.trim().is_empty());
                    if let Some(x) = vector {
                        f.add_vector(x);
                    }
                    if let Some(score) = score {
                        f.reported_scores.push(ReportedScore {
                            score,
                            from: format!("trivy {vendor} {field}"),
                            vector: vector.map(str::to_owned),
                        });
                    }
                }
            }
            sink.push(f)?;
        }
    }
    Ok(())
}

/// Whether a vector is one the gate scores (v3.x, v4.0).
pub(crate) fn is_scored(vector: &str) -> bool {
    matches!(
        detect_version(vector),
        Some(CvssVersion::V3_0 | CvssVersion::V3_1 | CvssVersion::V4_0)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_formats() {
        let cases: [(&str, Option<ReportFormat>); 9] = [
            (r#"{"matches":[]}"#, Some(ReportFormat::Grype)),
            (
                r#"{"SchemaVersion":2,"Results":[]}"#,
                Some(ReportFormat::Trivy),
            ),
            (
                r#"{"bomFormat":"CycloneDX","specVersion":"1.5"}"#,
                Some(ReportFormat::Cyclonedx),
            ),
            (r#"{"results":[]}"#, Some(ReportFormat::Osv)),
            (
                r#"{"id":"GHSA-x","modified":"2024-01-01T00:00:00Z"}"#,
                Some(ReportFormat::Osv),
            ),
            (r#"[{"id":"GHSA-x"}]"#, Some(ReportFormat::Osv)),
            (
                r#"{"@context":"https://openvex.dev/ns/v0.2.0","statements":[]}"#,
                None,
            ),
            (r#"{"hello":1}"#, None),
            ("not json", None),
        ];
        for (text, want) in cases {
            match want {
                Some(f) => assert_eq!(detect_format(text.as_bytes()).unwrap(), f, "{text}"),
                None => assert_eq!(
                    detect_format(text.as_bytes()).unwrap_err().code(),
                    "unknown_format",
                    "{text}"
                ),
            }
        }
    }

    #[test]
    fn grype_vectors_get_their_prefix() {
        assert_eq!(prefixed("AV:N/AC:L", Some("3.1")), "CVSS:3.1/AV:N/AC:L");
        assert_eq!(
            prefixed("AV:N/AC:L/Au:N/C:P/I:P/A:P", Some("2.0")),
            "AV:N/AC:L/Au:N/C:P/I:P/A:P"
        );
        assert_eq!(prefixed("CVSS:3.0/AV:N", Some("3.1")), "CVSS:3.0/AV:N");
    }

    #[test]
    fn limits_are_enforced() {
        let limits = Limits {
            max_findings: 1,
            ..Limits::default()
        };
        let two = r#"{"matches":[
            {"vulnerability":{"id":"CVE-1"},"artifact":{"name":"a"}},
            {"vulnerability":{"id":"CVE-2"},"artifact":{"name":"b"}}]}"#;
        let e = parse_report(two.as_bytes(), ReportFormat::Auto, "x", &limits).unwrap_err();
        assert_eq!(e.code(), "too_many_entries");
        let small = Limits {
            max_bytes: 10,
            ..Limits::default()
        };
        let e = parse_report(two.as_bytes(), ReportFormat::Grype, "x", &small).unwrap_err();
        assert_eq!(e.code(), "input_too_large");
    }
}
