//! The CVE gate blocks, waives and expires as specified (issue 6, item 4),
//! on the reports in tests/data/cve (see its README).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers outside #[test] fns fail loudly on missing or bad test data"
)]

use std::path::PathBuf;

use cos_supplychain::vuln::{
    self, Disposition, FindingVerdict, GateInput, Limits, Policy, Report, ReportFormat,
    ScoreSource, Severity, Timestamp, Verdict, VexDocument, VexFormat, Waiver, WaiverStatus,
};

fn data(name: &str) -> Vec<u8> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/cve")
        .join(name);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn report(name: &str) -> Report {
    vuln::parse_report(&data(name), ReportFormat::Auto, name, &Limits::default()).unwrap()
}

fn vex(name: &str) -> VexDocument {
    vuln::parse_vex(&data(name), VexFormat::Auto, name, &Limits::default()).unwrap()
}

fn waivers() -> Vec<Waiver> {
    vuln::parse_waivers(&data("waivers.yaml"), &Limits::default()).unwrap()
}

fn at(t: &str) -> Timestamp {
    Timestamp::parse(t).unwrap()
}

fn judge(
    policy: &Policy,
    reports: &[Report],
    vex: &[VexDocument],
    waivers: &[Waiver],
    now: &str,
) -> Verdict {
    vuln::evaluate(GateInput {
        policy,
        reports,
        vex,
        waivers,
        now: at(now),
    })
}

fn find<'a>(v: &'a Verdict, id: &str) -> &'a FindingVerdict {
    v.findings
        .iter()
        .find(|f| f.id == id)
        .unwrap_or_else(|| panic!("no finding {id} in {:#?}", v.findings))
}

const NOW: &str = "2026-12-01T00:00:00Z";
const LATER: &str = "2027-01-01T00:00:00Z";

#[test]
fn blocks_a_9_8_computed_from_its_vector() {
    let v = judge(&Policy::default(), &[report("grype.json")], &[], &[], NOW);
    assert!(!v.passed());
    assert_eq!(v.result, "fail");
    let spring = find(&v, "CVE-2022-22965");
    assert_eq!(spring.disposition, Disposition::Blocked);
    assert!(spring.blocking);
    assert_eq!(spring.score, Some(9.8));
    assert_eq!(spring.severity, Severity::Critical);
    assert!(matches!(
        &spring.score_source,
        ScoreSource::Cvss { vector, .. } if vector == "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
    ));
    assert_eq!(spring.reason, "score 9.8 >= threshold 7.0");
    assert_eq!(spring.aliases, ["GHSA-36p3-wjmg-h94x"]);
    assert_eq!(spring.fixed_versions, ["5.3.18"]);
    // The medium one passes below the threshold.
    let medium = find(&v, "CVE-2022-22970");
    assert_eq!(medium.disposition, Disposition::BelowThreshold);
    assert_eq!(medium.score, Some(5.3));
    let text = v.to_text();
    assert!(
        text.starts_with("CVE gate: FAIL - 2 of 3 findings block"),
        "{text}"
    );
    assert!(
        text.contains(
            "BLOCKED         CVE-2022-22965 (GHSA-36p3-wjmg-h94x) in spring-beans 5.3.17"
        ),
        "{text}"
    );
}

#[test]
fn a_valid_waiver_waives_until_its_expiry_then_the_finding_blocks_again() {
    let reports = [report("grype.json"), report("trivy.json")];
    let vexes = [vex("openvex.json"), vex("cyclonedx-vex.json")];
    let w = waivers();
    let policy = Policy::default();

    let before = judge(&policy, &reports, &vexes, &w, NOW);
    assert!(before.passed(), "{}", before.to_text());
    let spring = find(&before, "CVE-2022-22965");
    assert_eq!(spring.disposition, Disposition::Waived);
    assert!(!spring.blocking);
    let waiver = spring.waiver.as_ref().unwrap();
    assert_eq!(waiver.approver, "maria.garcia@example.com");
    assert_eq!(waiver.expires_at, "2027-01-01T00:00:00Z");
    assert!(
        spring
            .reason
            .starts_with("waived by maria.garcia@example.com until 2027-01-01T00:00:00Z")
    );
    assert_eq!(before.waivers[0].status, WaiverStatus::Applied);

    // The last second of 2026-12-31 is still covered.
    assert!(judge(&policy, &reports, &vexes, &w, "2026-12-31T23:59:59Z").passed());

    let after = judge(&policy, &reports, &vexes, &w, LATER);
    assert!(!after.passed());
    let spring = find(&after, "CVE-2022-22965");
    assert_eq!(spring.disposition, Disposition::ExpiredWaiver);
    assert!(spring.blocking);
    assert!(
        spring.reason.contains("expired at 2027-01-01T00:00:00Z"),
        "{}",
        spring.reason
    );
    assert_eq!(after.counts.expired_waiver, 1);
    assert_eq!(after.counts.blocking, 1);
    assert_eq!(after.waivers[0].status, WaiverStatus::Expired);
    assert!(after.waivers[0].expired);
    assert!(after.to_text().contains("EXPIRED at 2027-01-01T00:00:00Z"));
}

#[test]
fn an_expired_waiver_blocks_even_below_the_threshold() {
    let w = vuln::parse_waivers(
        b"- {id: CVE-2022-22970, package: spring-beans, reason: r, approver: a, expires: 2026-11-30}\n",
        &Limits::default(),
    )
    .unwrap();
    let v = judge(&Policy::default(), &[report("grype.json")], &[], &w, NOW);
    let medium = find(&v, "CVE-2022-22970");
    assert_eq!(medium.score, Some(5.3));
    assert_eq!(medium.disposition, Disposition::ExpiredWaiver);
    assert!(medium.blocking);
}

#[test]
fn stale_waivers_are_reported() {
    let v = judge(
        &Policy::default(),
        &[report("grype.json")],
        &[],
        &waivers(),
        NOW,
    );
    let stale = &v.waivers[1];
    assert_eq!(stale.waiver.id, "CVE-2019-10744");
    assert_eq!(stale.status, WaiverStatus::Stale);
    assert!(stale.expired);
    assert!(stale.matched.is_empty());
    assert!(
        v.to_text()
            .contains("stale: matched no finding (and expired)")
    );
}

#[test]
fn vex_not_affected_is_honoured_with_its_justification() {
    let v = judge(
        &Policy::default(),
        &[report("grype.json"), report("trivy.json")],
        &[vex("openvex.json"), vex("cyclonedx-vex.json")],
        &[],
        NOW,
    );
    let lodash = find(&v, "CVE-2020-8203");
    assert_eq!(lodash.disposition, Disposition::NotAffected);
    let statement = lodash.vex.as_ref().unwrap();
    assert_eq!(statement.status, "not_affected");
    assert_eq!(
        statement.justification.as_deref(),
        Some("vulnerable_code_not_in_execute_path")
    );
    assert_eq!(statement.source, "openvex.json");
    let nghttp2 = find(&v, "CVE-2023-44487");
    assert_eq!(nghttp2.disposition, Disposition::NotAffected);
    assert_eq!(
        nghttp2.vex.as_ref().unwrap().justification.as_deref(),
        Some("requires_configuration")
    );
    // under_investigation is recorded and changes nothing.
    let medium = find(&v, "CVE-2022-22970");
    assert_eq!(medium.disposition, Disposition::BelowThreshold);
    assert_eq!(medium.vex.as_ref().unwrap().status, "under_investigation");
    assert_eq!(v.counts.not_affected, 2);
    // Only Spring4Shell still blocks.
    assert_eq!(v.counts.blocking, 1);
}

#[test]
fn a_later_vex_statement_overrides_an_earlier_one() {
    let doc = |status: &str, ts: &str| {
        format!(
            r#"{{"@context":"https://openvex.dev/ns/v0.2.0","timestamp":"{ts}","statements":[
            {{"vulnerability":{{"name":"CVE-2020-8203"}},"products":[{{"@id":"pkg:npm/lodash"}}],"status":"{status}"{}}}]}}"#,
            if status == "not_affected" {
                r#","justification":"component_not_present""#
            } else {
                ""
            }
        )
    };
    let parse = |s: String, name: &str| {
        vuln::parse_vex(s.as_bytes(), VexFormat::Auto, name, &Limits::default()).unwrap()
    };
    let old = parse(doc("not_affected", "2026-01-01T00:00:00Z"), "old");
    let new = parse(doc("affected", "2026-06-01T00:00:00Z"), "new");
    let v = judge(
        &Policy::default(),
        &[report("grype.json")],
        &[new.clone(), old.clone()],
        &[],
        NOW,
    );
    assert_eq!(find(&v, "CVE-2020-8203").disposition, Disposition::Blocked);
    let v = judge(
        &Policy::default(),
        &[report("grype.json")],
        &[old, new],
        &[],
        NOW,
    );
    assert_eq!(
        find(&v, "CVE-2020-8203").vex.as_ref().unwrap().source,
        "new"
    );
}

#[test]
fn budgets_per_severity() {
    let policy = Policy::from_slice(&data("policy.yaml")).unwrap();
    let reports = [report("grype.json"), report("trivy.json")];
    // Two high findings (lodash 7.4, nghttp2 7.5) against a budget of one.
    let v = judge(&policy, &reports, &[], &[], NOW);
    let high = &v.severities[&Severity::High];
    assert_eq!((high.active, high.budget, high.blocking), (2, Some(1), 2));
    for id in ["CVE-2020-8203", "CVE-2023-44487"] {
        let f = find(&v, id);
        assert_eq!(f.disposition, Disposition::OverBudget, "{id}");
        assert_eq!(f.reason, "2 high findings exceed the budget of 1");
    }
    // Critical has no budget: the threshold blocks it.
    assert_eq!(find(&v, "CVE-2022-22965").disposition, Disposition::Blocked);
    // Medium (1 of 5) is within budget.
    assert_eq!(
        find(&v, "CVE-2022-22970").disposition,
        Disposition::WithinBudget
    );

    // VEX takes nghttp2 away: one high left, within budget; a waiver takes Spring4Shell.
    let v = judge(
        &policy,
        &reports,
        &[vex("cyclonedx-vex.json")],
        &waivers(),
        NOW,
    );
    assert_eq!(
        find(&v, "CVE-2020-8203").disposition,
        Disposition::WithinBudget
    );
    assert!(v.passed(), "{}", v.to_text());

    // A budget of zero blocks any finding of that severity, even below the threshold.
    let strict = Policy::from_slice(b"budgets: {medium: 0}").unwrap();
    let v = judge(&strict, &[report("grype.json")], &[], &[], NOW);
    assert_eq!(
        find(&v, "CVE-2022-22970").disposition,
        Disposition::OverBudget
    );
}

#[test]
fn the_threshold_is_configurable() {
    let reports = [report("grype.json")];
    let high = Policy::from_slice(b"threshold: 9.9").unwrap();
    let v = judge(&high, &reports, &[], &[], NOW);
    assert!(v.passed(), "{}", v.to_text());
    let low = Policy::from_slice(b"{\"threshold\": 5.0}").unwrap();
    let v = judge(&low, &reports, &[], &[], NOW);
    assert_eq!(v.counts.blocking, 3);
}

#[test]
fn the_same_cve_from_grype_and_trivy_is_one_finding() {
    let v = judge(
        &Policy::default(),
        &[report("grype.json"), report("trivy.json")],
        &[],
        &[],
        NOW,
    );
    let spring: Vec<&FindingVerdict> = v
        .findings
        .iter()
        .filter(|f| {
            f.package.purl.as_deref() == Some("pkg:maven/org.springframework/spring-beans@5.3.17")
        })
        .collect();
    assert_eq!(spring.len(), 2, "Spring4Shell once, CVE-2022-22970 once");
    let s = find(&v, "CVE-2022-22965");
    assert_eq!(s.sources, ["grype:grype.json", "trivy:trivy.json"]);
    assert_eq!(s.aliases, ["GHSA-36p3-wjmg-h94x"]);
    assert_eq!(s.fixed_versions, ["5.2.20.RELEASE", "5.3.18"]);
    // Its first report's package name stays.
    assert_eq!(s.package.name, "spring-beans");
    assert_eq!(v.counts.findings, 6);
    // Order of the reports does not change the verdict's JSON, but the sources' order.
    let a = judge(
        &Policy::default(),
        &[report("grype.json"), report("trivy.json")],
        &[],
        &[],
        NOW,
    );
    let b = judge(
        &Policy::default(),
        &[report("grype.json"), report("trivy.json")],
        &[],
        &[],
        NOW,
    );
    assert_eq!(a.to_json().unwrap(), b.to_json().unwrap());
}

#[test]
fn osv_scanner_output_cvss_v4_and_reported_scores() {
    let v = judge(
        &Policy::default(),
        &[report("osv-scanner.json")],
        &[],
        &[],
        NOW,
    );
    let v4 = find(&v, "CVE-2099-4001");
    assert_eq!(v4.score, Some(8.7));
    assert_eq!(v4.disposition, Disposition::Blocked);
    assert_eq!(v4.vectors[0].nomenclature.as_deref(), Some("CVSS-B"));
    assert_eq!(v4.package.purl.as_deref(), Some("pkg:npm/example-v4@1.0.0"));
    assert_eq!(v4.fixed_versions, ["1.0.1"]);
    // No vector: the report's own score, and the verdict says so.
    let noscore = find(&v, "CVE-2099-4002");
    assert_eq!(noscore.score, Some(6.1));
    assert!(
        matches!(&noscore.score_source, ScoreSource::Reported { from } if from == "osv-scanner group max_severity")
    );
    assert!(
        noscore
            .notes
            .iter()
            .any(|n| n.contains("no CVSS v3/v4 vector"))
    );
    assert_eq!(noscore.disposition, Disposition::BelowThreshold);
}

#[test]
fn a_bare_osv_record_and_label_only_findings() {
    let v = judge(
        &Policy::default(),
        &[report("osv-record.json")],
        &[],
        &[],
        NOW,
    );
    let log4shell = find(&v, "CVE-2021-44228");
    assert_eq!(log4shell.score, Some(10.0));
    assert_eq!(log4shell.aliases, ["GHSA-jfh8-c2jp-5v3q"]);
    assert_eq!(log4shell.fixed_versions, ["2.15.0", "2.3.1"]);
    assert_eq!(log4shell.package.version, None);

    let v = judge(&Policy::default(), &[report("trivy.json")], &[], &[], NOW);
    let bash = find(&v, "TEMP-0841856-B18BAF");
    assert_eq!(bash.score, None);
    assert_eq!(bash.severity, Severity::Low);
    assert!(matches!(&bash.score_source, ScoreSource::Label { label } if label == "LOW"));
    assert_eq!(bash.disposition, Disposition::BelowThreshold);
    let apt = find(&v, "CVE-2011-3374");
    assert_eq!(apt.score, Some(3.7));
    assert_eq!(apt.vectors.len(), 2);
    assert!(
        apt.vectors
            .iter()
            .any(|x| x.error.as_deref() == Some("CVSS v2 vectors are not scored"))
    );

    let block = Policy::from_slice(b"unscored: block").unwrap();
    let v = judge(&block, &[report("trivy.json")], &[], &[], NOW);
    assert_eq!(
        find(&v, "TEMP-0841856-B18BAF").disposition,
        Disposition::Blocked
    );
}

#[test]
fn the_computed_score_wins_over_a_reported_one() {
    let grype = br#"{"matches":[{"vulnerability":{"id":"CVE-2099-0001","severity":"Low",
        "cvss":[{"source":"vendor","version":"3.1","vector":"AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H","metrics":{"baseScore":2.0}}]},
        "artifact":{"name":"x","version":"1","purl":"pkg:generic/x@1"}}]}"#;
    let r = vuln::parse_report(grype, ReportFormat::Grype, "g", &Limits::default()).unwrap();
    let v = judge(&Policy::default(), &[r], &[], &[], NOW);
    let f = find(&v, "CVE-2099-0001");
    assert_eq!(f.score, Some(9.8));
    assert_eq!(f.disposition, Disposition::Blocked);
    assert!(
        f.notes
            .iter()
            .any(|n| n.contains("states 2.0") && n.contains("computed 9.8")),
        "{:?}",
        f.notes
    );
}

#[test]
fn unknown_severity_blocks_by_default() {
    let grype = br#"{"matches":[{"vulnerability":{"id":"CVE-2099-0002","severity":"Unknown"},
        "artifact":{"name":"x","version":"1"}}]}"#;
    let r = vuln::parse_report(grype, ReportFormat::Auto, "g", &Limits::default()).unwrap();
    let v = judge(&Policy::default(), std::slice::from_ref(&r), &[], &[], NOW);
    assert_eq!(find(&v, "CVE-2099-0002").disposition, Disposition::Blocked);
    let allow = Policy::from_slice(b"unknown_severity: allow").unwrap();
    let v = judge(&allow, &[r], &[], &[], NOW);
    assert_eq!(
        find(&v, "CVE-2099-0002").disposition,
        Disposition::AllowedUnscored
    );
    assert!(v.passed());
}

#[test]
fn the_verdict_json_is_canonical_and_complete() {
    let v = judge(
        &Policy::default(),
        &[report("grype.json"), report("trivy.json")],
        &[vex("openvex.json")],
        &waivers(),
        LATER,
    );
    let bytes = v.to_json().unwrap();
    assert_eq!(cos_core::canonical::canonicalize(&bytes).unwrap(), bytes);
    let j: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(j["schema"], vuln::VERDICT_SCHEMA);
    assert_eq!(j["result"], "fail");
    assert_eq!(j["now"], "2027-01-01T00:00:00Z");
    assert_eq!(j["policy"]["threshold"], 7.0);
    assert_eq!(j["severities"]["critical"]["blocking"], 1);
    assert_eq!(j["inputs"].as_array().unwrap().len(), 3);
    let first = &j["findings"][0];
    assert_eq!(first["id"], "CVE-2022-22965");
    assert_eq!(first["disposition"], "expired_waiver");
    assert_eq!(first["blocking"], true);
    assert_eq!(first["score_source"]["kind"], "cvss");
    assert_eq!(first["waiver"]["expires"], "2026-12-31");
    assert_eq!(j["waivers"][1]["status"], "stale");
}

#[test]
fn malformed_inputs_are_typed_errors() {
    let l = Limits::default();
    let report_err =
        |bytes: &[u8], f: ReportFormat| vuln::parse_report(bytes, f, "bad", &l).unwrap_err().code();
    assert_eq!(report_err(b"", ReportFormat::Auto), "unknown_format");
    assert_eq!(
        report_err(b"{\"x\":1}", ReportFormat::Auto),
        "unknown_format"
    );
    assert_eq!(
        report_err(b"not json", ReportFormat::Grype),
        "invalid_report"
    );
    assert_eq!(report_err(b"{}", ReportFormat::Grype), "invalid_report");
    assert_eq!(
        report_err(
            br#"{"matches":[{"vulnerability":{},"artifact":{"name":"a"}}]}"#,
            ReportFormat::Grype
        ),
        "invalid_report"
    );
    assert_eq!(
        report_err(br#"{"matches":"all"}"#, ReportFormat::Auto),
        "invalid_report"
    );
    assert_eq!(
        report_err(
            br#"{"Results":[{"Vulnerabilities":[{"PkgName":"a"}]}]}"#,
            ReportFormat::Auto
        ),
        "invalid_report"
    );
    assert_eq!(report_err(br#"{"Results":[{"Vulnerabilities":[{"VulnerabilityID":"CVE-1","PkgName":"a","CVSS":{"nvd":{"V3Score":"high"}}}]}]}"#, ReportFormat::Trivy), "invalid_report");
    assert_eq!(
        report_err(
            br#"{"results":[{"packages":[{"vulnerabilities":[]}]}]}"#,
            ReportFormat::Auto
        ),
        "invalid_report"
    );
    assert_eq!(
        report_err(br#"[{"id":"GHSA-1","affected":"npm"}]"#, ReportFormat::Auto),
        "invalid_report"
    );
    assert_eq!(
        report_err(br#"{"bomFormat":"CycloneDX"}"#, ReportFormat::Auto),
        "invalid_report"
    );
    assert_eq!(report_err(br#"[1,2]"#, ReportFormat::Osv), "invalid_report");
    // A format forced on a report of another format is refused, not read as
    // empty (a Grype report read as Trivy would find nothing and pass).
    for (name, wrong) in [
        ("grype.json", ReportFormat::Trivy),
        ("grype.json", ReportFormat::Osv),
        ("grype.json", ReportFormat::Cyclonedx),
        ("trivy.json", ReportFormat::Grype),
    ] {
        let e = vuln::parse_report(&data(name), wrong, name, &Limits::default()).unwrap_err();
        assert_eq!(e.code(), "invalid_report", "{name} as {wrong:?}");
        assert!(e.to_string().contains("report, not"), "{e}");
    }
    assert!(
        vuln::parse_report(
            &data("grype.json"),
            ReportFormat::Grype,
            "g",
            &Limits::default()
        )
        .is_ok()
    );
    assert_eq!(
        report_err(&data("openvex.json"), ReportFormat::Auto),
        "unknown_format"
    );

    let vex_err = |bytes: &[u8]| {
        vuln::parse_vex(bytes, VexFormat::Auto, "bad", &l)
            .unwrap_err()
            .code()
    };
    assert_eq!(vex_err(b"{}"), "unknown_format");
    assert_eq!(vex_err(b"{"), "invalid_vex");
    assert_eq!(
        vex_err(br#"{"statements":[{"vulnerability":"CVE-1","products":["a"],"status":"ok"}]}"#),
        "invalid_vex"
    );

    match vuln::parse_waivers(
        b"- id: CVE-1\n  package: a\n  reason: r\n  approver: b\n",
        &l,
    ) {
        Err(cos_supplychain::Error::InvalidWaiver {
            index, id, field, ..
        }) => {
            assert_eq!((index, id.as_str(), field), (1, "CVE-1", "expires"));
        }
        other => panic!("{other:?}"),
    }
    let e = vuln::parse_waivers(
        b"- id: CVE-1\n  package: a\n  approver: b\n  expires: 2026-01-01\n",
        &l,
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "invalid waiver #1 (CVE-1): field `reason`: missing (why the risk is accepted)"
    );
    assert_eq!(
        Policy::from_slice(b"threshold: 12").unwrap_err().code(),
        "invalid_gate_policy"
    );
    assert_eq!(
        Timestamp::parse("2026-12-01 10:00").unwrap_err().code(),
        "invalid_time"
    );

    let tight = Limits {
        max_findings: 2,
        ..Limits::default()
    };
    let e = vuln::parse_report(&data("trivy.json"), ReportFormat::Auto, "t", &tight).unwrap_err();
    assert_eq!(e.code(), "too_many_entries");
    let small = Limits {
        max_bytes: 100,
        ..Limits::default()
    };
    for e in [
        vuln::parse_report(&data("trivy.json"), ReportFormat::Auto, "t", &small).unwrap_err(),
        vuln::parse_vex(&data("openvex.json"), VexFormat::Auto, "v", &small).unwrap_err(),
        vuln::parse_waivers(&data("waivers.yaml"), &small).unwrap_err(),
    ] {
        assert_eq!(e.code(), "input_too_large");
    }
}

/// The escape string of issue 26, as JSON text: it sets the window title,
/// clears the screen and overwrites the line above with a PASS; a
/// right-to-left override follows.
const ATTACK_JSON: &str =
    r"CVE-2024-0001\u001b]0;PWNED\u0007\u001b[2J\u001b[1A\u001b[2KCVE gate: PASS\u202e";
const ATTACK: &str =
    "CVE-2024-0001\u{1b}]0;PWNED\u{7}\u{1b}[2J\u{1b}[1A\u{1b}[2KCVE gate: PASS\u{202e}";

/// `text` holds no character that could drive a terminal (newlines apart:
/// they are the printer's own).
fn assert_inert(text: &str) {
    let raw: Vec<char> = text
        .chars()
        .filter(|&c| c != '\n' && cos_core::text::must_escape(c))
        .collect();
    assert!(raw.is_empty(), "raw {raw:?} in {text}");
}

#[test]
fn the_verdict_text_escapes_what_reports_vex_and_waivers_say() {
    // Every id, alias, package name, justification and VEX detail in the
    // test reports starts with the escape string.
    let poison = |name: &str| {
        let text = String::from_utf8(data(name)).unwrap();
        let mut text = text;
        for key in [
            "\"CVE-",
            "\"GHSA-",
            "\"spring-beans\"",
            "\"libnghttp2-14\"",
            "\"lodash\"",
            "\"apt\"",
            "\"org.apache.logging.log4j:log4j-core\"",
            "\"impact_statement\": \"",
            "\"detail\": \"",
            "\"1.52.0-1+deb12u1\"",
        ] {
            let at = key.find('"').map(|i| i + 1).unwrap_or(0);
            let at = if key.ends_with(": \"") { key.len() } else { at };
            text = text.replace(key, &format!("{}{ATTACK_JSON}{}", &key[..at], &key[at..]));
        }
        assert!(text.contains(ATTACK_JSON), "{name}");
        text.into_bytes()
    };
    let limits = Limits::default();
    let reports: Vec<Report> = [
        ("grype.json", ReportFormat::Auto),
        ("trivy.json", ReportFormat::Auto),
        ("osv-scanner.json", ReportFormat::Auto),
        ("osv-record.json", ReportFormat::Auto),
        ("cyclonedx-vex.json", ReportFormat::Cyclonedx),
    ]
    .iter()
    .map(|(n, f)| vuln::parse_report(&poison(n), *f, n, &limits).unwrap())
    .collect();
    for r in &reports {
        assert!(
            r.findings.iter().any(|f| f.id.starts_with(ATTACK)),
            "{}",
            r.source
        );
    }
    let vexes: Vec<VexDocument> = ["openvex.json", "cyclonedx-vex.json"]
        .iter()
        .map(|n| vuln::parse_vex(&poison(n), VexFormat::Auto, n, &limits).unwrap())
        .collect();
    let waivers = vuln::parse_waivers(
        format!(
            "- {{id: \"{ATTACK_JSON}CVE-2022-22965\", package: \"{ATTACK_JSON}spring-beans\", reason: \"{ATTACK_JSON}\", approver: \"{ATTACK_JSON}\", expires: 2026-12-31}}\n\
             - {{id: \"{ATTACK_JSON}CVE-1999-0001\", package: \"{ATTACK_JSON}\", reason: r, approver: a, expires: 2026-01-01}}\n"
        )
        .as_bytes(),
        &limits,
    )
    .unwrap();
    for now in [NOW, LATER] {
        let v = judge(&Policy::default(), &reports, &vexes, &waivers, now);
        assert!(v.findings.iter().any(|f| f.id.starts_with(ATTACK)));
        let text = v.to_text();
        assert_inert(&text);
        let shown = cos_core::text::shown(ATTACK);
        assert!(text.contains(&shown), "{text}");
        // The verdict's own first line is still the first line, and the
        // only one that says what the gate decided.
        assert!(text.starts_with("CVE gate: FAIL"), "{text}");
        assert_eq!(text.matches("\nCVE gate:").count(), 0, "{text}");
        // The JSON verdict keeps the exact strings: JSON escapes control
        // characters (RFC 8785 leaves other characters, bidi ones too, as
        // they are; JSON is for programs).
        let json = String::from_utf8(v.to_json().unwrap()).unwrap();
        assert!(!json.chars().any(char::is_control), "{json}");
        assert!(
            json.contains(r"CVE-2024-0001\u001b]0;PWNED\u0007"),
            "{json}"
        );
    }
}
