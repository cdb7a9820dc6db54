use super::*;
use cos_core::{KeyAlgorithm, PrivateKey, Verifier};
use proptest::prelude::*;
use serde_json::json;

fn t(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn eu_only() -> Residency {
    "EU-Only".parse().unwrap()
}

fn builder() -> DisclosurePackBuilder {
    DisclosurePack::builder("dp-7")
        .issuer("privacy-office")
        .purpose("support")
        .destination_region("US".parse().unwrap())
        .destination_party("acme-support-inc")
        .dataset(
            Dataset::new("ds-eu-1", Classification::Confidential, eu_only())
                .with_data("tickets.jsonl", b"ticket 1\n")
                .with_data("notes.txt", b"notes\n"),
        )
        .approval("ann", "dpo", t("2026-11-20T09:00:00Z"))
        .approval("bob", "security", t("2026-11-20T10:00:00Z"))
        .created(t("2026-11-20T08:00:00Z"))
        .expires(t("2027-01-01T00:00:00Z"))
}

fn key() -> PrivateKey {
    // A fixed Ed25519 key, so that signatures are reproducible.
    let pem = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIAABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4f\n-----END PRIVATE KEY-----\n";
    PrivateKey::from_pem(pem).unwrap()
}

const NOW: &str = "2026-11-22T10:00:00Z";

#[test]
fn json_round_trip_and_canonical_form() {
    let pack = builder().build().unwrap();
    let canon = pack.to_canonical_json().unwrap();
    assert_eq!(DisclosurePack::from_json(&canon).unwrap(), pack);
    let pretty = serde_json::to_vec_pretty(&pack).unwrap();
    assert_eq!(DisclosurePack::from_json(&pretty).unwrap(), pack);
    assert_eq!(cos_core::canonical::canonicalize(&pretty).unwrap(), canon);
    let v: serde_json::Value = serde_json::from_slice(&canon).unwrap();
    assert_eq!(
        v["destination"],
        json!({"region": "US", "party": "acme-support-inc"})
    );
    assert_eq!(v["datasets"][0]["residency"], json!(["EU-Only"]));
    assert_eq!(v["datasets"][0]["classification"], "CONFIDENTIAL");
    assert_eq!(
        v["datasets"][0]["objects"][0]["digest"],
        Digest::of_bytes(DigestAlgorithm::Sha256, b"ticket 1\n").to_string()
    );
    assert_eq!(
        v["approvals"][0],
        json!({"approver": "ann", "role": "dpo", "time": "2026-11-20T09:00:00Z"})
    );
    assert_eq!(v["created"], "2026-11-20T08:00:00Z");
    // The documented example parses (digest replaced by a real one).
    let doc = json!({
        "id": "dp-7", "issuer": "privacy-office", "purpose": "support",
        "destination": {"region": "US"},
        "datasets": [{"id": "ds-eu-1", "classification": "CONFIDENTIAL", "residency": ["EU-Only"],
                      "objects": [{"name": "a", "digest": format!("sha256:{}", "ab".repeat(32))}]}],
        "approvals": [], "created": "2026-11-20T08:00:00Z", "expires": "2027-01-01T00:00:00Z"
    });
    DisclosurePack::from_json(doc.to_string().as_bytes()).unwrap();
}

#[test]
fn unknown_and_malformed_fields_are_refused() {
    let good: serde_json::Value =
        serde_json::from_slice(&builder().build().unwrap().to_canonical_json().unwrap()).unwrap();
    let mut cases = Vec::new();
    for (ptr, value) in [
        ("/extra", json!(1)),
        ("/destination/extra", json!(1)),
        ("/datasets/0/extra", json!(1)),
        ("/datasets/0/objects/0/extra", json!(1)),
        ("/approvals/0/extra", json!(1)),
        ("/datasets/0/objects/0/digest", json!("sha256:abc")),
        ("/datasets/0/objects/0/digest", json!("md5:00")),
        ("/datasets/0/classification", json!("SECRET")),
        ("/datasets/0/residency", json!(["Mars-Only"])),
        ("/destination/region", json!("XX")),
        ("/created", json!("2026-11-20")),
        ("/expires", json!("2027-01-01T00:00:00+00:00")),
        ("/approvals/0/time", json!(1)),
    ] {
        let mut v = good.clone();
        let (parent, last) = ptr.rsplit_once('/').unwrap();
        v.pointer_mut(parent)
            .unwrap()
            .as_object_mut()
            .unwrap()
            .insert(last.into(), value);
        cases.push((ptr, v.to_string()));
    }
    cases.push(("missing id", {
        let mut v = good.clone();
        v.as_object_mut().unwrap().remove("id");
        v.to_string()
    }));
    cases.push(("not json", "{".into()));
    for (what, text) in cases {
        let e = DisclosurePack::from_json(text.as_bytes()).unwrap_err();
        assert_eq!(e.code(), "disclosure_invalid", "{what}: {e}");
    }
    let huge = vec![b' '; MAX_ENVELOPE_SIZE + 1];
    assert_eq!(
        DisclosurePack::from_json(&huge).unwrap_err().code(),
        "disclosure_invalid"
    );
}

#[test]
fn builder_validation() {
    let sha512 = Digest::of_bytes(DigestAlgorithm::Sha512, b"x");
    let cases: Vec<(&str, DisclosurePackBuilder, &str)> = vec![
        (
            "no issuer",
            DisclosurePackBuilder {
                issuer: None,
                ..builder()
            },
            "no issuer",
        ),
        (
            "no purpose",
            DisclosurePackBuilder {
                purpose: None,
                ..builder()
            },
            "no purpose",
        ),
        (
            "no created",
            DisclosurePackBuilder {
                created: None,
                ..builder()
            },
            "no creation",
        ),
        (
            "no expiry",
            DisclosurePackBuilder {
                expires: None,
                ..builder()
            },
            "no expiry",
        ),
        (
            "expiry = created",
            builder().expires(t("2026-11-20T08:00:00Z")),
            "not after creation",
        ),
        (
            "expiry < created",
            builder().expires(t("2025-01-01T00:00:00Z")),
            "not after creation",
        ),
        (
            "no datasets",
            DisclosurePackBuilder {
                datasets: vec![],
                ..builder()
            },
            "no datasets",
        ),
        (
            "no destination",
            DisclosurePackBuilder {
                destination: Destination::default(),
                ..builder()
            },
            "neither a region nor a party",
        ),
        (
            "empty id",
            DisclosurePackBuilder {
                id: String::new(),
                ..builder()
            },
            "id is empty",
        ),
        (
            "control char",
            builder().issuer("a\nb"),
            "control character",
        ),
        (
            "long name",
            builder().issuer("x".repeat(MAX_NAME_LEN + 1)),
            "longer than",
        ),
        (
            "purpose tag",
            builder().purpose("Support Cases"),
            "not a purpose tag",
        ),
        (
            "purpose tag dash",
            builder().purpose("-x"),
            "not a purpose tag",
        ),
        (
            "empty party",
            builder().destination_party(""),
            "party is empty",
        ),
        (
            "duplicate dataset",
            builder().dataset(
                Dataset::new("ds-eu-1", Classification::Public, eu_only()).with_data("a", b""),
            ),
            "listed twice",
        ),
        (
            "no objects",
            builder().dataset(Dataset::new("ds-2", Classification::Public, eu_only())),
            "no data objects",
        ),
        (
            "duplicate object",
            builder().dataset(
                Dataset::new("ds-2", Classification::Public, eu_only())
                    .with_data("a", b"1")
                    .with_data("a", b"2"),
            ),
            "twice",
        ),
        (
            "sha512",
            builder().dataset(
                Dataset::new("ds-2", Classification::Public, eu_only()).with_object("a", sha512),
            ),
            "must be sha256",
        ),
        (
            "repeated residency",
            builder().dataset(
                Dataset::new("ds-2", Classification::Public, eu_only())
                    .with_residency(eu_only())
                    .with_data("a", b""),
            ),
            "repeats a residency tag",
        ),
        (
            "no residency",
            builder().dataset(Dataset {
                residency: vec![],
                ..Dataset::new("ds-2", Classification::Public, eu_only()).with_data("a", b"")
            }),
            "no residency tag",
        ),
        (
            "approval after expiry",
            builder().approval("cy", "legal", t("2027-01-01T00:00:00Z")),
            "not before the expiry",
        ),
        (
            "empty role",
            builder().approval("cy", "", t(NOW)),
            "role is empty",
        ),
    ];
    for (what, b, expected) in cases {
        let e = b.build().unwrap_err();
        assert_eq!(e.code(), "disclosure_invalid", "{what}");
        assert!(e.to_string().contains(expected), "{what}: {e}");
    }
    // Signing an invalid pack is refused too.
    let mut pack = builder().build().unwrap();
    pack.datasets.clear();
    assert_eq!(
        pack.sign(&[&key()]).unwrap_err().code(),
        "disclosure_invalid"
    );
    // Approvals are optional in the format; the verifier's policy wants them.
    assert!(
        DisclosurePackBuilder {
            approvals: vec![],
            ..builder()
        }
        .build()
        .is_ok()
    );
    // A party-only destination is fine.
    assert!(
        DisclosurePackBuilder {
            destination: Destination {
                region: None,
                party: Some("p".into())
            },
            ..builder()
        }
        .build()
        .is_ok()
    );
}

#[test]
fn signing_is_deterministic_and_canonical() {
    let a = builder().sign(&[&key()]).unwrap();
    let b = builder().sign(&[&key()]).unwrap();
    assert_eq!(a.to_json(), b.to_json());
    assert_eq!(a.payload_type, PAYLOAD_TYPE);
    assert_eq!(
        a.payload,
        builder().build().unwrap().to_canonical_json().unwrap()
    );
    assert_eq!(
        cos_core::canonical::canonicalize(&a.payload).unwrap(),
        a.payload
    );
    assert!(builder().sign(&[]).is_err());
}

fn ok(policy: &ApprovalPolicy) -> Result<VerifiedDisclosure> {
    let k = key();
    let env = builder().sign(&[&k]).unwrap().to_json();
    let trusted: [&dyn Verifier; 1] = [k.public_key()];
    verify(&env, &trusted, t(NOW), policy)
}

#[test]
fn verifies_and_renders_the_policy_input() {
    let v = ok(&ApprovalPolicy::new(2).with_required_role("dpo")).unwrap();
    assert_eq!(v.key_ids(), [key().key_id().to_owned()]);
    assert_eq!(v.verified_at(), t(NOW));
    assert_eq!(v.pack().id, "dp-7");
    assert_eq!(
        v.to_policy_input(),
        json!({
            "approved": true, "id": "dp-7", "destination": "US", "data_ids": ["ds-eu-1"],
            "expires": "2027-01-01T00:00:00Z", "purpose": "support",
            "approvals": [{"approver": "ann", "role": "dpo"}, {"approver": "bob", "role": "security"}],
        })
    );
    assert!(v.covers("ds-eu-1", Classification::Confidential, eu_only()));
    assert!(v.covers("ds-eu-1", Classification::Public, eu_only()));
    assert!(!v.covers("ds-eu-1", Classification::Restricted, eu_only()));
    assert!(!v.covers(
        "ds-eu-1",
        Classification::Public,
        "US-Only".parse().unwrap()
    ));
    assert!(!v.covers("ds-other", Classification::Public, eu_only()));
    v.check_data("ds-eu-1", "tickets.jsonl", b"ticket 1\n")
        .unwrap();
    v.check_data("ds-eu-1", "notes.txt", b"notes\n").unwrap();
    for (ds, obj, data) in [
        ("ds-eu-1", "tickets.jsonl", &b"ticket 2\n"[..]),
        ("ds-eu-1", "missing", b"ticket 1\n"),
        ("ds-other", "tickets.jsonl", b"ticket 1\n"),
    ] {
        assert_eq!(
            v.check_data(ds, obj, data).unwrap_err().code(),
            "disclosure_digest_mismatch"
        );
    }
}

#[test]
fn verification_failures_are_typed() {
    let k = key();
    let other = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let trusted: [&dyn Verifier; 1] = [k.public_key()];
    let policy = ApprovalPolicy::default();
    let env = builder().sign(&[&k]).unwrap();
    let code = |bytes: &[u8], now: &str, p: &ApprovalPolicy| {
        verify(bytes, &trusted, t(now), p).unwrap_err().code()
    };

    // Untrusted signer.
    let foreign = builder().sign(&[&other]).unwrap().to_json();
    assert_eq!(code(&foreign, NOW, &policy), "disclosure_untrusted_key");
    // A signature naming the trusted key that does not verify.
    let mut forged = env.clone();
    forged.signatures[0].sig[3] ^= 1;
    assert_eq!(
        code(&forged.to_json(), NOW, &policy),
        "disclosure_signature_invalid"
    );
    let mut unsigned = env.clone();
    unsigned.signatures.clear();
    assert_eq!(
        code(&unsigned.to_json(), NOW, &policy),
        "disclosure_signature_invalid"
    );
    // Another payload type, even when properly signed.
    let other_type =
        cos_core::dsse::Envelope::sign("application/json", &env.payload, &[&k]).unwrap();
    assert_eq!(
        code(&other_type.to_json(), NOW, &policy),
        "disclosure_payload_type"
    );
    // A signed payload that is not a valid pack.
    let junk = cos_core::dsse::Envelope::sign(PAYLOAD_TYPE, b"{}", &[&k]).unwrap();
    assert_eq!(code(&junk.to_json(), NOW, &policy), "disclosure_invalid");
    // Not an envelope, or too large.
    assert_eq!(code(b"not json", NOW, &policy), "disclosure_invalid");
    assert_eq!(
        code(&vec![b' '; MAX_ENVELOPE_SIZE + 1], NOW, &policy),
        "disclosure_invalid"
    );
    // Time.
    let good = env.to_json();
    assert_eq!(
        code(&good, "2026-11-20T07:59:59Z", &policy),
        "disclosure_not_yet_valid"
    );
    assert!(
        verify(
            &good,
            &trusted,
            t("2026-11-20T08:00:00Z"),
            &ApprovalPolicy::new(0)
        )
        .is_ok()
    );
    assert!(
        verify(
            &good,
            &trusted,
            t("2026-12-31T23:59:59.999999999Z"),
            &policy
        )
        .is_ok()
    );
    assert_eq!(
        code(&good, "2027-01-01T00:00:00Z", &policy),
        "disclosure_expired"
    );
    // Approvals: count, role, dated in the future (not yet given).
    assert_eq!(
        code(&good, NOW, &ApprovalPolicy::new(3)),
        "disclosure_insufficient_approvals"
    );
    assert_eq!(
        code(
            &good,
            NOW,
            &ApprovalPolicy::new(1).with_required_role("legal")
        ),
        "disclosure_insufficient_approvals"
    );
    assert_eq!(
        code(&good, "2026-11-20T09:30:00Z", &ApprovalPolicy::new(2)),
        "disclosure_insufficient_approvals"
    );
    assert_eq!(
        code(
            &good,
            "2026-11-20T09:30:00Z",
            &ApprovalPolicy::new(1).with_required_role("security")
        ),
        "disclosure_insufficient_approvals"
    );
    // One person approving twice counts once.
    let twice = DisclosurePackBuilder {
        approvals: vec![],
        ..builder()
    }
    .approval("ann", "dpo", t("2026-11-20T09:00:00Z"))
    .approval("ann", "security", t("2026-11-20T09:00:00Z"))
    .sign(&[&k])
    .unwrap()
    .to_json();
    assert_eq!(
        code(&twice, NOW, &ApprovalPolicy::new(2)),
        "disclosure_insufficient_approvals"
    );
    assert!(
        verify(
            &twice,
            &trusted,
            t(NOW),
            &ApprovalPolicy::new(1).with_required_role("security")
        )
        .is_ok()
    );
    // Two signatures required: one trusted key is a configuration error,
    // two trusted keys with one signature fall short.
    let two = ApprovalPolicy::default().with_min_signatures(2);
    assert_eq!(code(&good, NOW, &two), "invalid_threshold");
    let both: [&dyn Verifier; 2] = [k.public_key(), other.public_key()];
    assert_eq!(
        verify(&good, &both, t(NOW), &two).unwrap_err().code(),
        "disclosure_signature_invalid"
    );
    let cosigned = builder().sign(&[&k, &other]).unwrap().to_json();
    assert_eq!(
        verify(&cosigned, &both, t(NOW), &two)
            .unwrap()
            .key_ids()
            .len(),
        2
    );
    assert_eq!(
        verify(&good, &[], t(NOW), &policy).unwrap_err().code(),
        "invalid_threshold"
    );
}

fn signed() -> &'static [u8] {
    static SIGNED: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    SIGNED.get_or_init(|| builder().sign(&[&key()]).unwrap().to_json())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn verify_never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let k = key();
        let trusted: [&dyn Verifier; 1] = [k.public_key()];
        prop_assert!(verify(&bytes, &trusted, t(NOW), &ApprovalPolicy::default()).is_err());
    }

    #[test]
    fn verify_never_panics_on_mutated_envelopes(
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
    ) {
        let k = key();
        let trusted: [&dyn Verifier; 1] = [k.public_key()];
        let mut bytes = signed().to_vec();
        for (i, b) in &edits {
            let i = i.index(bytes.len());
            bytes[i] = *b;
        }
        if let Ok(v) = verify(&bytes, &trusted, t(NOW), &ApprovalPolicy::default()) {
            // Only changes that leave the signed content alone may pass.
            prop_assert_eq!(v.pack(), &builder().build().unwrap());
        }
    }

}

proptest! {
    // Each case signs (slow in debug builds).
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn signed_payloads_with_arbitrary_json_never_panic(s in "\\PC{0,200}") {
        let k = key();
        let trusted: [&dyn Verifier; 1] = [k.public_key()];
        let env = cos_core::dsse::Envelope::sign(PAYLOAD_TYPE, s.as_bytes(), &[&k]).unwrap();
        prop_assert!(verify(&env.to_json(), &trusted, t(NOW), &ApprovalPolicy::default()).is_err());
    }
}
