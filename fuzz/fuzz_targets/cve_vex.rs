//! VEX documents (OpenVEX, CycloneDX `analysis`) for the CVE gate: parsing
//! never panics and stays within small limits; statements that parse apply
//! to the findings of a small report without panicking.

#![no_main]

use cos_supplychain::vuln::{self, GateInput, Limits, Policy, ReportFormat, Timestamp, VexFormat};
use libfuzzer_sys::fuzz_target;

const REPORT: &[u8] = br#"{"matches":[
  {"vulnerability":{"id":"CVE-2020-8203","severity":"High"},
   "artifact":{"name":"lodash","version":"4.17.15","purl":"pkg:npm/lodash@4.17.15"}},
  {"vulnerability":{"id":"GHSA-36p3-wjmg-h94x"},"relatedVulnerabilities":[{"id":"CVE-2022-22965"}],
   "artifact":{"name":"spring-beans","version":"5.3.17"}}]}"#;

fuzz_target!(|data: &[u8]| {
    let limits = Limits {
        max_bytes: 1 << 20,
        max_findings: 64,
        max_statements: 64,
        max_waivers: 16,
    };
    let mut docs = Vec::new();
    for format in [VexFormat::Auto, VexFormat::Openvex, VexFormat::Cyclonedx] {
        if let Ok(d) = vuln::parse_vex(data, format, "fuzz", &limits) {
            assert!(d.statements.len() <= limits.max_statements);
            docs.push(d);
        }
    }
    if docs.is_empty() {
        return;
    }
    let report = vuln::parse_report(REPORT, ReportFormat::Auto, "r", &Limits::default())
        .expect("the fixed report parses");
    let policy = Policy::default();
    let verdict = vuln::evaluate(GateInput {
        policy: &policy,
        reports: std::slice::from_ref(&report),
        vex: &docs,
        waivers: &[],
        now: Timestamp::UNIX_EPOCH,
    });
    for f in &verdict.findings {
        assert_eq!(f.blocking, f.disposition.is_blocking());
    }
    let _ = verdict.to_json().expect("a verdict always serialises");
});
