//! The normalised shapes every report format is read into.

use std::collections::BTreeSet;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::purl::Purl;

/// Qualitative severity, as CVSS rates scores (v3.1 and v4.0 use the same
/// bands), plus `unknown` for a finding with neither a score nor a label
/// the gate understands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// No score and no recognised label.
    Unknown,
    /// 0.0.
    None,
    /// 0.1–3.9.
    Low,
    /// 4.0–6.9.
    Medium,
    /// 7.0–8.9.
    High,
    /// 9.0–10.0.
    Critical,
}

impl Severity {
    /// Every severity, from the most severe.
    pub const ALL: [Severity; 6] = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
        Severity::None,
        Severity::Unknown,
    ];

    /// The band a CVSS score falls in.
    pub fn from_score(score: f64) -> Severity {
        if score >= 9.0 {
            Severity::Critical
        } else if score >= 7.0 {
            Severity::High
        } else if score >= 4.0 {
            Severity::Medium
        } else if score >= 0.1 {
            Severity::Low
        } else {
            Severity::None
        }
    }

    /// A report's severity label, case-insensitive: `critical`;
    /// `high`/`important`; `medium`/`moderate`; `low`/`negligible`/`minor`;
    /// `none`/`info`/`informational`; anything else is `unknown`.
    pub fn from_label(label: &str) -> Severity {
        match label.trim().to_ascii_lowercase().as_str() {
            "critical" => Severity::Critical,
            "high" | "important" => Severity::High,
            "medium" | "moderate" => Severity::Medium,
            "low" | "negligible" | "minor" => Severity::Low,
            "none" | "info" | "informational" => Severity::None,
            _ => Severity::Unknown,
        }
    }

    /// The highest score in the band (`None` for `unknown`): what a finding
    /// known only by its label is compared with the threshold as.
    pub fn band_max(self) -> Option<f64> {
        match self {
            Severity::Critical => Some(10.0),
            Severity::High => Some(8.9),
            Severity::Medium => Some(6.9),
            Severity::Low => Some(3.9),
            Severity::None => Some(0.0),
            Severity::Unknown => None,
        }
    }

    /// `critical`, `high`, `medium`, `low`, `none` or `unknown`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::High => "high",
            Severity::Medium => "medium",
            Severity::Low => "low",
            Severity::None => "none",
            Severity::Unknown => "unknown",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The package a finding is in.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Package {
    /// Its name as the report gives it (Trivy: `group:artifact` for Maven;
    /// Grype: the artifact name).
    pub name: String,
    /// The installed version, when the report says (a bare OSV record
    /// names affected packages, not installed versions).
    pub version: Option<String>,
    /// Its package URL: from the report, or made from an OSV ecosystem.
    pub purl: Option<Purl>,
}

impl Package {
    /// What identifies the package across reports: the normalised purl when
    /// there is one (qualifiers dropped), else `name@version`.
    pub fn key(&self) -> String {
        match &self.purl {
            Some(p) => p.to_string(),
            None => match &self.version {
                Some(v) => format!("{}@{v}", self.name),
                None => self.name.clone(),
            },
        }
    }
}

impl fmt::Display for Package {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)?;
        if let Some(v) = &self.version {
            write!(f, " {v}")?;
        }
        Ok(())
    }
}

/// A score a report states, with where it came from.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ReportedScore {
    /// The score.
    pub score: f64,
    /// Who gave it (e.g. `grype nvd@nist.gov 3.1`, `trivy nvd V3Score`).
    pub from: String,
    /// The vector it was given with, if any: then the gate computes the
    /// score from the vector and only compares.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vector: Option<String>,
}

/// One vulnerability in one package, as one report states it.
#[derive(Clone, Debug, PartialEq)]
pub struct Finding {
    /// The report's id for it (`CVE-…`, `GHSA-…`, `GO-…`, …).
    pub id: String,
    /// Other ids of the same vulnerability (CVE, GHSA, distro advisories).
    pub aliases: BTreeSet<String>,
    /// The package.
    pub package: Package,
    /// CVSS vectors as given (v2, v3.x, v4.0; prefixed where the format
    /// leaves the prefix out).
    pub vectors: Vec<String>,
    /// Scores the report states.
    pub reported_scores: Vec<ReportedScore>,
    /// Severity labels the report states (`HIGH`, `Moderate`, …).
    pub severity_labels: Vec<String>,
    /// Versions that fix it, when the report says.
    pub fixed_versions: BTreeSet<String>,
}

impl Finding {
    /// A finding with only an id and a package.
    pub fn new(id: impl Into<String>, package: Package) -> Self {
        Finding {
            id: id.into(),
            aliases: BTreeSet::new(),
            package,
            vectors: Vec::new(),
            reported_scores: Vec::new(),
            severity_labels: Vec::new(),
            fixed_versions: BTreeSet::new(),
        }
    }

    /// The id and the aliases, upper-cased (ids are compared without case).
    pub fn ids(&self) -> BTreeSet<String> {
        std::iter::once(&self.id)
            .chain(&self.aliases)
            .map(|s| s.to_ascii_uppercase())
            .collect()
    }

    /// Adds a vector once.
    pub(crate) fn add_vector(&mut self, v: &str) {
        let v = v.trim();
        if !v.is_empty() && !self.vectors.iter().any(|x| x == v) {
            self.vectors.push(v.to_owned());
        }
    }

    /// Adds an alias unless it is the id.
    pub(crate) fn add_alias(&mut self, a: &str) {
        let a = a.trim();
        if !a.is_empty() && !a.eq_ignore_ascii_case(&self.id) {
            self.aliases.insert(a.to_owned());
        }
    }

    /// Adds a severity label once (empty ones are skipped).
    pub(crate) fn add_label(&mut self, l: &str) {
        let l = l.trim();
        if !l.is_empty() && !self.severity_labels.iter().any(|x| x == l) {
            self.severity_labels.push(l.to_owned());
        }
    }
}

/// The formats [`parse_report`](super::parse_report) reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ReportFormat {
    /// Recognise the format from the content.
    Auto,
    /// OSV: one record, a list of records, `{"vulns": [...]}`, or
    /// `osv-scanner --format json` output.
    Osv,
    /// `grype -o json`.
    Grype,
    /// `trivy --format json`.
    Trivy,
    /// A CycloneDX JSON document with `vulnerabilities` (VDR/VEX).
    Cyclonedx,
}

impl ReportFormat {
    /// The format's name (`osv`, `grype`, `trivy`, `cyclonedx`, `auto`).
    pub fn as_str(self) -> &'static str {
        match self {
            ReportFormat::Auto => "auto",
            ReportFormat::Osv => "osv",
            ReportFormat::Grype => "grype",
            ReportFormat::Trivy => "trivy",
            ReportFormat::Cyclonedx => "cyclonedx",
        }
    }
}

impl std::str::FromStr for ReportFormat {
    type Err = crate::Error;
    fn from_str(s: &str) -> crate::Result<Self> {
        match s {
            "auto" => Ok(ReportFormat::Auto),
            "osv" => Ok(ReportFormat::Osv),
            "grype" => Ok(ReportFormat::Grype),
            "trivy" => Ok(ReportFormat::Trivy),
            "cyclonedx" => Ok(ReportFormat::Cyclonedx),
            other => Err(crate::Error::UnknownFormat {
                what: "vulnerability report",
                reason: format!(
                    "{:?} is not one of auto, osv, grype, trivy, cyclonedx",
                    other.chars().take(32).collect::<String>()
                ),
            }),
        }
    }
}

/// A parsed vulnerability report.
#[derive(Clone, Debug)]
pub struct Report {
    /// What the caller calls it (a file name), used in the verdict.
    pub source: String,
    /// The format it was read as (never `Auto`).
    pub format: ReportFormat,
    /// The SHA-256 digest of its bytes (`sha256:<hex>`), for the record.
    pub digest: String,
    /// Its findings, in report order.
    pub findings: Vec<Finding>,
    /// VEX statements it carries (CycloneDX `analysis`).
    pub statements: Vec<super::vex::VexStatement>,
}

/// Limits on outside input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest report, VEX document, waivers or policy file, in bytes
    /// (default 64 MiB).
    pub max_bytes: usize,
    /// Most findings in one report (default 100 000).
    pub max_findings: usize,
    /// Most statements in one VEX document (default 100 000).
    pub max_statements: usize,
    /// Most waivers in one file (default 10 000).
    pub max_waivers: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bytes: 64 * 1024 * 1024,
            max_findings: 100_000,
            max_statements: 100_000,
            max_waivers: 10_000,
        }
    }
}

impl Limits {
    pub(crate) fn check_size(&self, what: &str, bytes: &[u8]) -> crate::Result<()> {
        if bytes.len() > self.max_bytes {
            return Err(crate::Error::InputTooLarge {
                what: what.to_owned(),
                size: bytes.len(),
                limit: self.max_bytes,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bands_and_labels() {
        assert_eq!(Severity::from_score(9.8), Severity::Critical);
        assert_eq!(Severity::from_score(9.0), Severity::Critical);
        assert_eq!(Severity::from_score(8.9), Severity::High);
        assert_eq!(Severity::from_score(7.0), Severity::High);
        assert_eq!(Severity::from_score(6.9), Severity::Medium);
        assert_eq!(Severity::from_score(0.1), Severity::Low);
        assert_eq!(Severity::from_score(0.0), Severity::None);
        assert_eq!(Severity::from_label("MODERATE"), Severity::Medium);
        assert_eq!(Severity::from_label("Negligible"), Severity::Low);
        assert_eq!(Severity::from_label("UNKNOWN"), Severity::Unknown);
        assert!(Severity::Critical > Severity::High && Severity::None > Severity::Unknown);
    }
}
