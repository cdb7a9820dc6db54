//! The CVE budget gate: vulnerability reports (OSV, Grype, Trivy,
//! CycloneDX), VEX (CycloneDX, OpenVEX), time-boxed waivers and a policy in;
//! a verdict out, in JSON for the evidence bundle and in text for people.
//!
//! ```
//! use cos_supplychain::vuln::{self, GateInput, Limits, Policy, ReportFormat, Timestamp};
//!
//! let grype = br#"{"matches": [{
//!   "vulnerability": {"id": "CVE-2021-44228", "severity": "Critical",
//!     "cvss": [{"version": "3.1", "vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H",
//!               "metrics": {"baseScore": 10.0}}],
//!     "fix": {"versions": ["2.15.0"], "state": "fixed"}},
//!   "artifact": {"name": "log4j-core", "version": "2.14.1",
//!     "purl": "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"}}]}"#;
//! let report = vuln::parse_report(grype, ReportFormat::Auto, "grype.json", &Limits::default())?;
//! let waivers = vuln::parse_waivers(b"
//! - id: CVE-2021-44228
//!   package: pkg:maven/org.apache.logging.log4j/log4j-core
//!   reason: JndiLookup class removed from the image
//!   approver: security@example.com
//!   expires: 2026-12-31
//! ", &Limits::default())?;
//! let policy = Policy::default(); // block CVSS >= 7.0
//! let judge = |now: &str| -> Result<vuln::Verdict, cos_supplychain::Error> {
//!     Ok(vuln::evaluate(GateInput {
//!         policy: &policy,
//!         reports: std::slice::from_ref(&report),
//!         vex: &[],
//!         waivers: &waivers,
//!         now: Timestamp::parse(now)?,
//!     }))
//! };
//! assert!(judge("2026-12-01T00:00:00Z")?.passed());   // waived until the end of 2026-12-31
//! let later = judge("2027-01-01T00:00:00Z")?;          // the waiver has expired: blocked
//! assert!(!later.passed());
//! assert_eq!(later.findings[0].score, Some(10.0));     // computed from the vector
//! println!("{}", later.to_text());
//! # Ok::<(), cos_supplychain::Error>(())
//! ```
//!
//! Formats, policy, waivers and the verdict JSON are documented in
//! `docs/cve-gate.md`; scores are computed with the RustSec `cvss` crate
//! and checked against PyPI `cvss` (ADR-0010).

mod cvss;
mod cyclonedx;
mod documents;
mod finding;
mod gate;
mod policy;
mod purl;
mod report;
mod time;
mod vex;
mod waiver;

pub use self::cvss::{CvssScore, CvssVersion, MAX_VECTOR_LEN, detect_version, score_vector};
pub use self::documents::{GateConfig, GateDocuments, NamedDocument, evaluate_documents};
pub use self::finding::{Finding, Limits, Package, Report, ReportFormat, ReportedScore, Severity};
pub use self::gate::{
    Counts, Disposition, FindingVerdict, GateInput, InputSummary, PackageVerdict, ScoreSource,
    SeverityCount, VERDICT_SCHEMA, VectorVerdict, Verdict, VexRef, WaiverRef, WaiverStatus,
    WaiverVerdict, evaluate,
};
pub use self::policy::{Policy, UnknownSeverity, Unscored};
pub use self::purl::Purl;
pub use self::report::{detect_format, parse_report};
pub use self::time::Timestamp;
pub use self::vex::{ProductRef, VexDocument, VexFormat, VexStatement, VexStatus, parse_vex};
pub use self::waiver::{PackageMatch, Waiver, parse_waivers};
