//! Seed acceptance AC-4, with the real baseline pack: `EU-Only` data to a US
//! region is blocked without an approved disclosure pack and allowed with
//! one; expired, untrusted, tampered, misdirected, too narrow and
//! unapproved packs change nothing.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers outside #[test] fns may panic"
)]

use std::path::PathBuf;
use std::sync::OnceLock;

use cos_core::dsse::Envelope;
use cos_core::{Classification, KeyAlgorithm, PrivateKey, Region, Residency, Verifier};
use cos_policy::disclosure::{
    Approval, ApprovalPolicy, Dataset, DisclosurePack, DisclosurePackBuilder, DisclosureStatus,
    ResidencyOutcome, ResidencyRequest, Timestamp, decide_residency,
};
use cos_policy::{EngineOptions, Limits, Obligation, Pack, PolicyEngine};

fn engine() -> &'static PolicyEngine {
    static ENGINE: OnceLock<PolicyEngine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../examples/policy-packs/companyos-baseline");
        let pack = Pack::load(dir, &Limits::default()).unwrap();
        PolicyEngine::new(&pack, EngineOptions::default()).unwrap()
    })
}

/// The trusted issuer. ECDSA P-256 (verified by `ring`, fast in debug
/// builds too: the byte-flip test verifies about 1,300 envelopes); the
/// Ed25519 path is exercised in `ac4_..._allowed_with_...` and the unit tests.
fn issuer() -> &'static PrivateKey {
    static KEY: OnceLock<PrivateKey> = OnceLock::new();
    KEY.get_or_init(|| PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap())
}

fn t(s: &str) -> Timestamp {
    s.parse().unwrap()
}

const NOW: &str = "2026-11-22T10:00:00Z";
const DATA: &[u8] = b"{\"ticket\":4711,\"customer\":\"c-1\"}\n";

fn eu_only() -> Residency {
    "EU-Only".parse().unwrap()
}

fn request(destination: &str) -> ResidencyRequest {
    ResidencyRequest::new(
        "ds-eu-1",
        Classification::Confidential,
        eu_only(),
        destination,
        t(NOW),
    )
    .with_party("internal")
    .with_purpose("support")
}

fn pack() -> DisclosurePackBuilder {
    DisclosurePack::builder("dp-7")
        .issuer("privacy-office")
        .purpose("support")
        .destination_region("US".parse::<Region>().unwrap())
        .dataset(
            Dataset::new("ds-eu-1", Classification::Confidential, eu_only())
                .with_data("tickets.jsonl", DATA),
        )
        .approval("ann", "dpo", t("2026-11-20T09:00:00Z"))
        .created(t("2026-11-20T08:00:00Z"))
        .expires(t("2027-01-01T00:00:00Z"))
}

fn policy() -> ApprovalPolicy {
    ApprovalPolicy::new(1).with_required_role("dpo")
}

fn decide(req: &ResidencyRequest, envelope: Option<&[u8]>) -> ResidencyOutcome {
    let trusted: [&dyn Verifier; 1] = [issuer().public_key()];
    decide_residency(engine(), "residency", req, envelope, &trusted, &policy()).unwrap()
}

fn signed(b: DisclosurePackBuilder) -> Vec<u8> {
    b.sign(&[issuer()]).unwrap().to_json()
}

/// The denial AC-4 asks for: a residency violation and an obligation to
/// bring a disclosure pack.
fn assert_blocked(out: &ResidencyOutcome, what: &str) {
    let d = &out.decision;
    assert!(!d.allow, "{what}: allowed");
    assert_eq!(d.reason_codes(), ["RESIDENCY_VIOLATION"], "{what}");
    assert_eq!(
        d.obligations,
        [Obligation::DisclosurePack {
            purpose: Some("support".into()),
            destination: Some("US".into()),
        }],
        "{what}"
    );
    assert_eq!(d.path, "companyos/residency/decision");
}

fn rejected_code(out: &ResidencyOutcome) -> &'static str {
    match &out.disclosure {
        DisclosureStatus::Rejected(e) => e.code(),
        other => panic!("expected a rejected pack, got {other:?}"),
    }
}

#[test]
fn ac4_eu_only_to_us_blocked_without_disclosure_pack() {
    let out = decide(&request("us-east-1"), None);
    assert_blocked(&out, "no pack");
    assert!(matches!(out.disclosure, DisclosureStatus::Absent));
    assert!(
        request("us-east-1")
            .input(None)
            .get("disclosure_pack")
            .is_none()
    );
}

#[test]
fn ac4_eu_only_to_us_allowed_with_approved_disclosure_pack() {
    let envelope = signed(pack());
    let out = decide(&request("us-east-1"), Some(&envelope));
    assert!(out.decision.allow, "{:?}", out.decision);
    assert_eq!(out.decision.reason_codes(), ["DISCLOSURE_PACK_APPROVED"]);
    assert!(out.decision.reasons[0].message.contains("dp-7"));
    assert!(out.decision.obligations.is_empty());
    let DisclosureStatus::Verified(v) = &out.disclosure else {
        panic!("{:?}", out.disclosure)
    };
    assert_eq!(v.key_ids(), [issuer().public_key().key_id().to_owned()]);
    v.check_data("ds-eu-1", "tickets.jsonl", DATA).unwrap();
    // Signed with Ed25519 by another trusted issuer.
    let ed = PrivateKey::generate(KeyAlgorithm::Ed25519).unwrap();
    let trusted: [&dyn Verifier; 2] = [issuer().public_key(), ed.public_key()];
    let out = decide_residency(
        engine(),
        "residency",
        &request("us-east-1"),
        Some(&pack().sign(&[&ed]).unwrap().to_json()),
        &trusted,
        &policy(),
    )
    .unwrap();
    assert!(out.decision.allow);
    // A country code as destination, and a pack verified just before expiry.
    assert!(decide(&request("us"), Some(&envelope)).decision.allow);
    let mut last_moment = request("us-east-1");
    last_moment.time = t("2026-12-31T23:59:59Z");
    assert!(decide(&last_moment, Some(&envelope)).decision.allow);
}

#[test]
fn eu_only_within_the_eu_needs_no_pack() {
    for dest in ["eu-central-1", "eu-west-1", "fr", "DE"] {
        let out = decide(&request(dest), None);
        assert!(out.decision.allow, "{dest}");
        assert!(out.decision.reasons.is_empty(), "{dest}");
    }
    // London is not in the EU.
    assert!(!decide(&request("eu-west-2"), None).decision.allow);
}

#[test]
fn expired_pack_is_refused() {
    let envelope = signed(pack());
    let mut later = request("us-east-1");
    later.time = t("2027-01-01T00:00:00Z");
    let out = decide(&later, Some(&envelope));
    assert_eq!(rejected_code(&out), "disclosure_expired");
    assert!(!out.decision.allow);
    assert_eq!(out.decision.reason_codes(), ["RESIDENCY_VIOLATION"]);
    // A pack not valid yet either.
    let mut early = request("us-east-1");
    early.time = t("2026-11-01T00:00:00Z");
    let out = decide(&early, Some(&envelope));
    assert_eq!(rejected_code(&out), "disclosure_not_yet_valid");
    assert_blocked(&out, "not yet valid");
}

#[test]
fn pack_signed_by_an_untrusted_key_is_refused() {
    for alg in [KeyAlgorithm::Ed25519, KeyAlgorithm::EcdsaP256] {
        let mallory = PrivateKey::generate(alg).unwrap();
        let envelope = pack().sign(&[&mallory]).unwrap().to_json();
        let out = decide(&request("us-east-1"), Some(&envelope));
        assert_eq!(rejected_code(&out), "disclosure_untrusted_key");
        assert_blocked(&out, "untrusted key");
        // Claiming to be the trusted key does not help.
        let mut env = Envelope::from_json(&envelope).unwrap();
        env.signatures[0].keyid = issuer().public_key().key_id().to_owned();
        let out = decide(&request("us-east-1"), Some(&env.to_json()));
        assert_eq!(rejected_code(&out), "disclosure_signature_invalid");
        assert_blocked(&out, "impersonation");
    }
}

#[test]
fn every_byte_flip_of_payload_or_signature_is_refused() {
    let good = pack().sign(&[issuer()]).unwrap();
    let req = request("us-east-1");
    let mut tried = 0;
    for i in 0..good.payload.len() {
        for flip in [0x01u8, 0x80, 0xff] {
            let mut env = good.clone();
            env.payload[i] ^= flip;
            let out = decide(&req, Some(&env.to_json()));
            assert_eq!(
                rejected_code(&out),
                "disclosure_signature_invalid",
                "payload byte {i}"
            );
            assert_blocked(&out, "tampered payload");
            tried += 1;
        }
    }
    for i in 0..good.signatures[0].sig.len() {
        for flip in [0x01u8, 0x80, 0xff] {
            let mut env = good.clone();
            env.signatures[0].sig[i] ^= flip;
            let out = decide(&req, Some(&env.to_json()));
            assert_eq!(
                rejected_code(&out),
                "disclosure_signature_invalid",
                "sig byte {i}"
            );
            assert_blocked(&out, "tampered signature");
            tried += 1;
        }
    }
    let mut env = good.clone();
    env.payload_type.push('x');
    let out = decide(&req, Some(&env.to_json()));
    assert_eq!(rejected_code(&out), "disclosure_payload_type");
    assert_blocked(&out, "payload type");
    assert!(tried > 3 * 400, "{tried}");
    // The untampered envelope still passes.
    assert!(decide(&req, Some(&good.to_json())).decision.allow);
}

#[test]
fn pack_for_another_destination_is_refused() {
    for region in ["JP", "EU", "CA"] {
        let envelope = signed(pack().destination_region(region.parse().unwrap()));
        let out = decide(&request("us-east-1"), Some(&envelope));
        assert!(matches!(out.disclosure, DisclosureStatus::Verified(_)));
        assert_blocked(&out, region);
    }
    // A pack for a party only names no region.
    let party_only = DisclosurePackBuilder::new("dp-8")
        .issuer("privacy-office")
        .purpose("support")
        .destination_party("acme-support-inc")
        .dataset(
            Dataset::new("ds-eu-1", Classification::Confidential, eu_only()).with_data("t", DATA),
        )
        .approval("ann", "dpo", t("2026-11-20T09:00:00Z"))
        .created(t("2026-11-20T08:00:00Z"))
        .expires(t("2027-01-01T00:00:00Z"));
    assert_blocked(
        &decide(&request("us-east-1"), Some(&signed(party_only))),
        "party only",
    );
}

#[test]
fn pack_not_covering_the_dataset_is_refused() {
    let other_dataset = pack().dataset(
        Dataset::new("ds-other", Classification::Confidential, eu_only()).with_data("x", b"x"),
    );
    // Only ds-other.
    let only_other = DisclosurePack::builder("dp-9")
        .issuer("privacy-office")
        .purpose("support")
        .destination_region("US".parse().unwrap())
        .dataset(
            Dataset::new("ds-other", Classification::Confidential, eu_only()).with_data("x", b"x"),
        )
        .approval("ann", "dpo", t("2026-11-20T09:00:00Z"))
        .created(t("2026-11-20T08:00:00Z"))
        .expires(t("2027-01-01T00:00:00Z"));
    let out = decide(&request("us-east-1"), Some(&signed(only_other)));
    assert!(matches!(out.disclosure, DisclosureStatus::Verified(_)));
    assert_blocked(&out, "other dataset");
    // Listing it alongside others is fine.
    assert!(
        decide(&request("us-east-1"), Some(&signed(other_dataset)))
            .decision
            .allow
    );

    // Listed, but cleared for less sensitive data than the request's, or
    // under another residency tag: not covered.
    for (class, residency) in [
        (Classification::Internal, eu_only()),
        (Classification::Confidential, "DE-Only".parse().unwrap()),
    ] {
        let narrow = DisclosurePack::builder("dp-10")
            .issuer("privacy-office")
            .purpose("support")
            .destination_region("US".parse().unwrap())
            .dataset(Dataset::new("ds-eu-1", class, residency).with_data("t", DATA))
            .approval("ann", "dpo", t("2026-11-20T09:00:00Z"))
            .created(t("2026-11-20T08:00:00Z"))
            .expires(t("2027-01-01T00:00:00Z"));
        let out = decide(&request("us-east-1"), Some(&signed(narrow)));
        assert!(matches!(out.disclosure, DisclosureStatus::Verified(_)));
        assert_blocked(&out, &format!("{class} {residency}"));
    }
}

#[test]
fn pack_lacking_approvals_is_refused() {
    let none = DisclosurePack {
        approvals: vec![],
        ..pack().build().unwrap()
    };
    let out = decide(
        &request("us-east-1"),
        Some(&none.sign(&[issuer()]).unwrap().to_json()),
    );
    assert_eq!(rejected_code(&out), "disclosure_insufficient_approvals");
    assert_blocked(&out, "no approvals");

    // An approval, but not by the DPO the policy requires.
    let no_dpo = DisclosurePack {
        approvals: vec![Approval {
            approver: "bob".into(),
            role: "security".into(),
            time: t("2026-11-20T09:00:00Z"),
        }],
        ..pack().build().unwrap()
    };
    let out = decide(
        &request("us-east-1"),
        Some(&no_dpo.sign(&[issuer()]).unwrap().to_json()),
    );
    assert_eq!(rejected_code(&out), "disclosure_insufficient_approvals");
    assert_blocked(&out, "no dpo");

    // The DPO's approval dated after the decision time does not count yet.
    let future = DisclosurePack {
        approvals: vec![Approval {
            approver: "ann".into(),
            role: "dpo".into(),
            time: t("2026-12-01T00:00:00Z"),
        }],
        ..pack().build().unwrap()
    };
    let out = decide(
        &request("us-east-1"),
        Some(&future.sign(&[issuer()]).unwrap().to_json()),
    );
    assert_eq!(rejected_code(&out), "disclosure_insufficient_approvals");
    assert_blocked(&out, "future approval");
}

#[test]
fn restricted_data_needs_a_cross_border_purpose() {
    let mut req = request("us-east-1");
    req.classification = Classification::Restricted;
    for (purpose, allowed) in [("support", false), ("analytics", false), ("legal", true)] {
        let b = DisclosurePack::builder("dp-11")
            .issuer("privacy-office")
            .purpose(purpose)
            .destination_region("US".parse().unwrap())
            .dataset(
                Dataset::new("ds-eu-1", Classification::Restricted, eu_only()).with_data("t", DATA),
            )
            .approval("ann", "dpo", t("2026-11-20T09:00:00Z"))
            .created(t("2026-11-20T08:00:00Z"))
            .expires(t("2027-01-01T00:00:00Z"));
        let out = decide(&req, Some(&signed(b)));
        assert_eq!(out.decision.allow, allowed, "{purpose}");
    }
}

#[test]
fn verifier_misconfiguration_is_an_error_not_a_denial() {
    let envelope = signed(pack());
    let err = decide_residency(
        engine(),
        "residency",
        &request("us-east-1"),
        Some(&envelope),
        &[],
        &policy(),
    )
    .unwrap_err();
    assert_eq!(err.code(), "invalid_threshold");
    let err = decide_residency(
        engine(),
        "no-such-entrypoint",
        &request("us-east-1"),
        None,
        &[],
        &policy(),
    )
    .unwrap_err();
    assert_eq!(err.code(), "unknown_entrypoint");
}

#[test]
fn requests_read_from_json_and_outcomes_serialise() {
    let req: ResidencyRequest = serde_json::from_value(serde_json::json!({
        "dataset_id": "ds-eu-1", "classification": "CONFIDENTIAL", "residency": "EU-Only",
        "destination_region": "us-east-1", "party": "internal", "purpose": "support",
        "time": NOW,
    }))
    .unwrap();
    assert_eq!(req, request("us-east-1"));
    assert!(
        serde_json::from_value::<ResidencyRequest>(serde_json::json!({
            "dataset_id": "d", "classification": "CONFIDENTIAL", "residency": "EU-Only",
            "destination_region": "US", "time": NOW, "extra": 1,
        }))
        .is_err()
    );

    let out = serde_json::to_value(decide(&req, None)).unwrap();
    assert_eq!(out["disclosure"], serde_json::json!({"status": "absent"}));
    assert_eq!(out["decision"]["allow"], false);

    let envelope = signed(pack());
    let out = serde_json::to_value(decide(&req, Some(&envelope))).unwrap();
    assert_eq!(out["decision"]["allow"], true);
    assert_eq!(out["disclosure"]["status"], "verified");
    assert_eq!(out["disclosure"]["id"], "dp-7");
    assert_eq!(
        out["disclosure"]["key_ids"][0],
        issuer().public_key().key_id()
    );
    assert_eq!(out["disclosure"]["policy_input"]["approved"], true);

    let mut late = req.clone();
    late.time = t("2027-02-01T00:00:00Z");
    let out = serde_json::to_value(decide(&late, Some(&envelope))).unwrap();
    assert_eq!(out["disclosure"]["status"], "rejected");
    assert_eq!(out["disclosure"]["code"], "disclosure_expired");
    assert!(out["disclosure"]["message"].is_string());

    let trusted: [&dyn Verifier; 1] = [issuer().public_key()];
    let v = cos_policy::disclosure::verify(&envelope, &trusted, t(NOW), &policy()).unwrap();
    let v = serde_json::to_value(&v).unwrap();
    assert_eq!(v["pack"]["id"], "dp-7");
    assert_eq!(v["verified_at"], NOW);
    assert_eq!(v["approvals"][0]["role"], "dpo");
}
