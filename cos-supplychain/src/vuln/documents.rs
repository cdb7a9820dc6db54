//! The whole gate from the documents as bytes: what `cos gate cve` and the
//! Python and Node bindings do with the files they are given.

use super::{
    GateInput, Limits, Policy, ReportFormat, Timestamp, Verdict, VexFormat, evaluate, parse_report,
    parse_vex, parse_waivers,
};
use crate::{Error, Result};

/// The inputs of the CVE gate as documents (bytes with a name), parsed and
/// judged by [`evaluate_documents`].
///
/// ```
/// use cos_supplychain::vuln::{GateDocuments, Timestamp, evaluate_documents};
///
/// let grype = br#"{"matches": [{"vulnerability": {"id": "CVE-2021-44228",
///   "cvss": [{"version": "3.1", "vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H"}]},
///   "artifact": {"name": "log4j-core", "version": "2.14.1",
///     "purl": "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"}}]}"#;
/// let mut docs = GateDocuments::at(Timestamp::parse("2026-12-01T00:00:00Z")?);
/// docs.reports.push(("grype.json", grype));
/// let verdict = evaluate_documents(&docs)?;
/// assert!(!verdict.passed()); // 10.0 blocks under the default policy
/// # Ok::<(), cos_supplychain::Error>(())
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct GateDocuments<'a> {
    /// Vulnerability reports: (name recorded in the verdict, bytes). At
    /// least one is required.
    pub reports: Vec<(&'a str, &'a [u8])>,
    /// The format of every report ([`ReportFormat::Auto`]: recognised from
    /// each one's content).
    pub format: ReportFormat,
    /// VEX documents (OpenVEX or CycloneDX, recognised from the content):
    /// (name, bytes).
    pub vex: Vec<(&'a str, &'a [u8])>,
    /// The waivers file (YAML or JSON), if any.
    pub waivers: Option<&'a [u8]>,
    /// The gate policy file (YAML or JSON); none: [`Policy::default`]
    /// (block CVSS 7.0 and above).
    pub policy: Option<&'a [u8]>,
    /// The time waivers are judged at.
    pub now: Timestamp,
    /// Size and count limits for every document.
    pub limits: Limits,
}

impl<'a> GateDocuments<'a> {
    /// No documents yet, judged at `now`, automatic report format, default
    /// limits.
    pub fn at(now: Timestamp) -> Self {
        GateDocuments {
            reports: Vec::new(),
            format: ReportFormat::Auto,
            vex: Vec::new(),
            waivers: None,
            policy: None,
            now,
            limits: Limits::default(),
        }
    }
}

/// A named document in a binding's gate options: a report or VEX file.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NamedDocument {
    /// The name recorded in the verdict (a file name).
    pub name: String,
    /// Its bytes (or text).
    pub data: cos_core::shape::Blob,
}

/// The options of a binding's `cveGate` / `cve_gate` (ADR-0020): the
/// documents and the time as plain data, evaluated by
/// [`GateConfig::evaluate`]. `reports` and `now` are required.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GateConfig {
    /// Vulnerability reports (OSV, Grype, Trivy, CycloneDX); at least one.
    pub reports: Vec<NamedDocument>,
    /// The time waivers are judged at (RFC 3339).
    pub now: String,
    /// VEX documents (OpenVEX, CycloneDX).
    #[serde(default)]
    pub vex: Vec<NamedDocument>,
    /// The waivers file (YAML or JSON).
    #[serde(default)]
    pub waivers: Option<cos_core::shape::Blob>,
    /// The gate policy (YAML or JSON); none: block CVSS 7.0 and above.
    #[serde(default)]
    pub policy: Option<cos_core::shape::Blob>,
    /// `auto` (none), `osv`, `grype`, `trivy`, `cyclonedx`.
    #[serde(default)]
    pub format: Option<String>,
}

impl GateConfig {
    /// The time and the report format, parsed (what a binding checks
    /// before it runs the gate off its main thread).
    pub fn parsed(&self) -> Result<(Timestamp, ReportFormat)> {
        let now = Timestamp::parse(&self.now)?;
        let format = match &self.format {
            Some(f) => f.parse()?,
            None => ReportFormat::Auto,
        };
        Ok((now, format))
    }

    /// Parses every document and evaluates the gate ([`evaluate_documents`]).
    pub fn evaluate(&self) -> Result<Verdict> {
        let (now, format) = self.parsed()?;
        let mut docs = GateDocuments::at(now);
        docs.format = format;
        docs.reports = self
            .reports
            .iter()
            .map(|d| (d.name.as_str(), d.data.as_bytes()))
            .collect();
        docs.vex = self
            .vex
            .iter()
            .map(|d| (d.name.as_str(), d.data.as_bytes()))
            .collect();
        docs.waivers = self.waivers.as_ref().map(cos_core::shape::Blob::as_bytes);
        docs.policy = self.policy.as_ref().map(cos_core::shape::Blob::as_bytes);
        evaluate_documents(&docs)
    }
}

/// Parses every document (with the limits) and evaluates the gate.
///
/// Errors: those of [`Policy::from_slice`], [`parse_report`],
/// [`parse_vex`] and [`parse_waivers`]; [`Error::InvalidReport`] when no
/// report is given (a gate with nothing to judge would pass silently).
pub fn evaluate_documents(docs: &GateDocuments<'_>) -> Result<Verdict> {
    if docs.reports.is_empty() {
        return Err(Error::InvalidReport {
            format: docs.format.as_str(),
            reason: "no vulnerability report given (at least one is required)".into(),
        });
    }
    let policy = match docs.policy {
        Some(bytes) => Policy::from_slice(bytes)?,
        None => Policy::default(),
    };
    let reports = docs
        .reports
        .iter()
        .map(|(name, bytes)| parse_report(bytes, docs.format, name, &docs.limits))
        .collect::<Result<Vec<_>>>()?;
    let vex = docs
        .vex
        .iter()
        .map(|(name, bytes)| parse_vex(bytes, VexFormat::Auto, name, &docs.limits))
        .collect::<Result<Vec<_>>>()?;
    let waivers = match docs.waivers {
        Some(bytes) => parse_waivers(bytes, &docs.limits)?,
        None => Vec::new(),
    };
    Ok(evaluate(GateInput {
        policy: &policy,
        reports: &reports,
        vex: &vex,
        waivers: &waivers,
        now: docs.now,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(name: &str) -> Vec<u8> {
        let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/cve")
            .join(name);
        std::fs::read(p).unwrap()
    }

    #[test]
    fn documents_judge_like_the_parsed_inputs() {
        let (grype, trivy, vex, waivers, policy) = (
            data("grype.json"),
            data("trivy.json"),
            data("openvex.json"),
            data("waivers.yaml"),
            data("policy.yaml"),
        );
        let now = Timestamp::parse("2026-12-01T00:00:00Z").unwrap();
        let mut docs = GateDocuments::at(now);
        docs.reports = vec![("grype.json", &grype), ("trivy.json", &trivy)];
        docs.vex = vec![("openvex.json", &vex)];
        docs.waivers = Some(&waivers);
        docs.policy = Some(&policy);
        let got = evaluate_documents(&docs).unwrap();

        let limits = Limits::default();
        let reports = vec![
            parse_report(&grype, ReportFormat::Auto, "grype.json", &limits).unwrap(),
            parse_report(&trivy, ReportFormat::Auto, "trivy.json", &limits).unwrap(),
        ];
        let vexes = vec![parse_vex(&vex, VexFormat::Auto, "openvex.json", &limits).unwrap()];
        let waivers = parse_waivers(&waivers, &limits).unwrap();
        let want = evaluate(GateInput {
            policy: &Policy::from_slice(&policy).unwrap(),
            reports: &reports,
            vex: &vexes,
            waivers: &waivers,
            now,
        });
        assert_eq!(got.to_json().unwrap(), want.to_json().unwrap());
        assert_eq!(got.inputs.len(), 3); // the reports and the VEX document
    }

    #[test]
    fn an_expired_waiver_blocks() {
        let (grype, waivers) = (data("grype.json"), data("waivers.yaml"));
        let judge = |now: &str| {
            let mut docs = GateDocuments::at(Timestamp::parse(now).unwrap());
            docs.reports = vec![("grype.json", &grype)];
            docs.waivers = Some(&waivers);
            evaluate_documents(&docs).unwrap()
        };
        let before = judge("2026-12-01T00:00:00Z");
        let after = judge("2027-01-01T00:00:00Z");
        assert_eq!(before.counts.waived, 1);
        assert_eq!(after.counts.waived, 0);
        assert!(after.counts.expired_waiver >= 1);
        assert!(!after.passed());
    }

    #[test]
    fn errors_are_typed() {
        let now = Timestamp::parse("2026-12-01T00:00:00Z").unwrap();
        let code = |docs: &GateDocuments<'_>| evaluate_documents(docs).unwrap_err().code();
        let docs = GateDocuments::at(now);
        assert_eq!(code(&docs), "invalid_report");
        let grype = data("grype.json");
        let mut docs = GateDocuments::at(now);
        docs.reports = vec![("x.json", b"{\"neither\": 1}")];
        assert_eq!(code(&docs), "unknown_format");
        docs.reports = vec![("grype.json", b"not json")];
        docs.format = ReportFormat::Grype;
        assert_eq!(code(&docs), "invalid_report");
        docs.format = ReportFormat::Auto;
        docs.reports = vec![("grype.json", &grype)];
        docs.policy = Some(b"threshold: 11");
        assert_eq!(code(&docs), "invalid_gate_policy");
        docs.policy = None;
        docs.waivers = Some(b"- id: CVE-1\n");
        assert_eq!(code(&docs), "invalid_waiver");
        docs.waivers = None;
        docs.vex = vec![("v.json", b"not json")];
        assert_eq!(code(&docs), "invalid_vex");
        docs.vex = Vec::new();
        docs.limits.max_bytes = 10;
        assert_eq!(code(&docs), "input_too_large");
    }
}
