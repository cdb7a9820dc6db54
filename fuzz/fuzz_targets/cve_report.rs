//! Vulnerability reports (OSV, Grype, Trivy, CycloneDX) for the CVE gate:
//! parsing never panics and stays within small limits, whichever format is
//! forced; whatever parses goes through the gate, and the verdict's JSON is
//! canonical and its text renders.

#![no_main]

use cos_supplychain::vuln::{self, GateInput, Limits, Policy, ReportFormat, Timestamp};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let limits = Limits {
        max_bytes: 1 << 20,
        max_findings: 64,
        max_statements: 64,
        max_waivers: 16,
    };
    let _ = vuln::detect_format(data);
    let mut reports = Vec::new();
    for format in [
        ReportFormat::Auto,
        ReportFormat::Osv,
        ReportFormat::Grype,
        ReportFormat::Trivy,
        ReportFormat::Cyclonedx,
    ] {
        if let Ok(r) = vuln::parse_report(data, format, "fuzz", &limits) {
            assert!(r.findings.len() <= limits.max_findings);
            assert_ne!(r.format, ReportFormat::Auto);
            reports.push(r);
        }
    }
    if reports.is_empty() {
        return;
    }
    let policy = Policy::default();
    let verdict = vuln::evaluate(GateInput {
        policy: &policy,
        reports: &reports,
        vex: &[],
        waivers: &[],
        now: Timestamp::UNIX_EPOCH,
    });
    let json = verdict.to_json().expect("a verdict always serialises");
    assert_eq!(
        cos_core::canonical::canonicalize(&json).expect("verdict JSON parses"),
        json,
        "verdict JSON is not canonical"
    );
    assert_eq!(
        verdict.passed(),
        verdict.findings.iter().all(|f| !f.blocking)
    );
    let _ = verdict.to_text();
});
