//! SLSA provenance v1: made here and verified like slsa-verifier, and real
//! npm provenance (GitHub Actions, keyless, published by others) verified
//! offline.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests")]

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use cos_core::statement::Subject;
use cos_core::{Digest, DigestAlgorithm, KeyAlgorithm, PrivateKey, Verifier};
use cos_supplychain::Error;
use cos_supplychain::slsa::{self, BuildDescription, Expectations};
use serde_json::{Value, json};

const BUILDER: &str = "https://ci.example.com/builders/release@v2";
const COMMIT: &str = "46e7056ff9912ebfee5298d94024895a9fea76c0";
const ARTIFACT: &[u8] = b"the release tarball";

fn description() -> Value {
    json!({
        "builder_id": BUILDER,
        "build_type": "https://ci.example.com/buildtypes/make/v1",
        "external_parameters": {"target": "release"},
        "source": {"repository": "https://github.com/acme/app", "commit": COMMIT, "ref": "refs/tags/v1.2.0"},
        "resolved_dependencies": [{"uri": "pkg:docker/rust@1.91", "digest": {"sha256": "ab".repeat(32)}}],
        "invocation_id": "https://ci.example.com/runs/7",
        "started_on": "2026-11-22T10:00:00Z",
        "finished_on": "2026-11-22T10:04:31Z"
    })
}

fn build(v: &Value) -> Result<BuildDescription, Error> {
    BuildDescription::from_json(&serde_json::to_vec(v).unwrap())
}

fn signed_envelope(key: &PrivateKey) -> Vec<u8> {
    let subject = Subject::new(
        "app.tar.gz",
        &Digest::of_bytes(DigestAlgorithm::Sha256, ARTIFACT),
    );
    let st = slsa::statement(&build(&description()).unwrap(), vec![subject]).unwrap();
    st.sign(&[key]).unwrap().to_json()
}

fn expect() -> Expectations {
    Expectations::new(
        "https://ci.example.com/builders/release",
        "github.com/acme/app",
    )
}

#[test]
fn provenance_has_the_slsa_v1_shape() {
    let p = slsa::provenance(&build(&description()).unwrap()).unwrap();
    let v = serde_json::to_value(&p).unwrap();
    assert_eq!(
        v["buildDefinition"]["resolvedDependencies"][0],
        json!({"uri": "git+https://github.com/acme/app@refs/tags/v1.2.0", "digest": {"gitCommit": COMMIT}})
    );
    assert_eq!(
        v["buildDefinition"]["externalParameters"],
        json!({"target": "release"})
    );
    assert_eq!(v["runDetails"]["builder"]["id"], BUILDER);
    assert_eq!(
        v["runDetails"]["metadata"],
        json!({"invocationId": "https://ci.example.com/runs/7", "startedOn": "2026-11-22T10:00:00Z", "finishedOn": "2026-11-22T10:04:31Z"})
    );
    // The same description gives the same bytes (canonical JSON).
    let key = PrivateKey::generate(KeyAlgorithm::Ed25519).unwrap();
    let a = cos_core::dsse::Envelope::from_json(&signed_envelope(&key)).unwrap();
    let b = cos_core::dsse::Envelope::from_json(&signed_envelope(&key)).unwrap();
    assert_eq!(a.payload, b.payload);
}

#[test]
fn bad_descriptions_are_refused_with_the_reason() {
    type Change = Box<dyn Fn(&mut Value)>;
    let cases: Vec<(Change, &str)> = vec![
        (Box::new(|v| v["builder_id"] = json!(" ")), "builder_id"),
        (Box::new(|v| v["build_type"] = json!("")), "build_type"),
        (
            Box::new(|v| v["source"]["commit"] = json!("abc")),
            "source.commit",
        ),
        (
            Box::new(|v| v["source"]["ref"] = json!("main")),
            "source.ref",
        ),
        (
            Box::new(|v| v["source"]["repository"] = json!("https://github.com/a/b@refs/heads/x")),
            "source.repository",
        ),
        (
            Box::new(|v| v["started_on"] = json!("yesterday")),
            "started_on",
        ),
        (
            Box::new(|v| v["finished_on"] = json!("2026-11-22T09:59:59Z")),
            "before started_on",
        ),
        (Box::new(|v| v["surprise"] = json!(1)), "unknown field"),
        (
            Box::new(|v| {
                v.as_object_mut().unwrap().remove("builder_id");
            }),
            "builder_id",
        ),
    ];
    for (change, needle) in cases {
        let mut v = description();
        change(&mut v);
        let err = build(&v).and_then(|b| slsa::provenance(&b)).unwrap_err();
        assert_eq!(err.code(), "invalid_build_description", "{err}");
        assert!(err.to_string().contains(needle), "{err} lacks {needle}");
    }
    let huge = vec![b' '; slsa::MAX_BUILD_DESCRIPTION + 1];
    assert_eq!(
        BuildDescription::from_json(&huge).unwrap_err().code(),
        "too_large"
    );
}

#[test]
fn a_signed_provenance_verifies_and_each_mismatch_is_named() {
    let key = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let env = signed_envelope(&key);
    let trusted: [&dyn Verifier; 1] = [key.public_key()];
    let ok = slsa::verify_envelope(&env, &trusted, ARTIFACT, &expect().tag("v1.2.0")).unwrap();
    assert_eq!(ok.source_uri, "github.com/acme/app");
    assert_eq!(ok.source_ref.as_deref(), Some("refs/tags/v1.2.0"));
    assert_eq!(ok.source_commit.as_deref(), Some(COMMIT));
    assert_eq!(ok.builder_id, BUILDER);
    assert_eq!(ok.subject, "app.tar.gz");
    assert!(ok.signer.starts_with("key "));
    // The exact builder version, the full ref and other URI spellings pass too.
    for e in [
        Expectations::new(BUILDER, "https://github.com/acme/app.git").tag("refs/tags/v1.2.0"),
        Expectations::new(BUILDER, "git+https://github.com/acme/app")
            .build_type("https://ci.example.com/buildtypes/make/v1"),
    ] {
        slsa::verify_envelope(&env, &trusted, ARTIFACT, &e).unwrap();
    }
    let cases = [
        (
            Expectations::new(
                "https://ci.example.com/builders/other",
                "github.com/acme/app",
            ),
            "builder id",
        ),
        (
            Expectations::new(
                "https://ci.example.com/builders/release@v3",
                "github.com/acme/app",
            ),
            "builder id",
        ),
        (
            Expectations::new(
                "https://ci.example.com/builders/release",
                "github.com/acme/app2",
            ),
            "source URI",
        ),
        (expect().branch("main"), "source branch"),
        (expect().tag("v1.2.1"), "source tag"),
        (expect().build_type("https://other/v1"), "build type"),
    ];
    for (e, field) in cases {
        let err = slsa::verify_envelope(&env, &trusted, ARTIFACT, &e).unwrap_err();
        assert!(
            matches!(&err, Error::ProvenanceMismatch { field: f, .. } if f.starts_with(field)),
            "{err} is not about {field}"
        );
        assert!(err.is_verification_failure());
    }
    let err = slsa::verify_envelope(&env, &trusted, b"another artifact", &expect()).unwrap_err();
    assert!(
        matches!(&err, Error::ProvenanceMismatch { field, .. } if field == "subject"),
        "{err}"
    );
    // Another key, or a changed payload: the signature fails first.
    let other = PrivateKey::generate(KeyAlgorithm::Ed25519).unwrap();
    let wrong: [&dyn Verifier; 1] = [other.public_key()];
    let err = slsa::verify_envelope(&env, &wrong, ARTIFACT, &expect()).unwrap_err();
    assert!(err.is_verification_failure(), "{err}");
    let mut v: Value = serde_json::from_slice(&env).unwrap();
    let payload = STANDARD.decode(v["payload"].as_str().unwrap()).unwrap();
    let forged = String::from_utf8(payload)
        .unwrap()
        .replace("github.com/acme/app", "github.com/evil/app");
    v["payload"] = json!(STANDARD.encode(forged));
    let err = slsa::verify_envelope(
        &serde_json::to_vec(&v).unwrap(),
        &trusted,
        ARTIFACT,
        &expect(),
    )
    .unwrap_err();
    assert_eq!(err.code(), "threshold_not_met", "{err}");
}

#[test]
fn a_key_signed_provenance_bundle_verifies() {
    let key = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let subject = Subject::new("app", &Digest::of_bytes(DigestAlgorithm::Sha512, ARTIFACT));
    let st = slsa::statement(&build(&description()).unwrap(), vec![subject]).unwrap();
    let bundle = cos_core::sigstore::sign_statement(&st, &key).unwrap();
    assert!(slsa::is_bundle(&bundle));
    let ok = slsa::verify_bundle(&bundle, key.public_key(), ARTIFACT, &expect()).unwrap();
    assert_eq!(ok.source_commit.as_deref(), Some(COMMIT));
    let err = slsa::verify_bundle(&bundle, key.public_key(), b"x", &expect()).unwrap_err();
    assert!(err.is_verification_failure(), "{err}");
    // A message-signature bundle is not an attestation.
    let blob = cos_core::sigstore::sign_blob(ARTIFACT, &key).unwrap();
    let err = slsa::verify_bundle(&blob, key.public_key(), ARTIFACT, &expect()).unwrap_err();
    assert_eq!(err.code(), "invalid_provenance", "{err}");
}

#[test]
fn provenance_that_is_not_slsa_v1_is_refused() {
    let key = PrivateKey::generate(KeyAlgorithm::Ed25519).unwrap();
    let subject = Subject::new("a", &Digest::of_bytes(DigestAlgorithm::Sha256, ARTIFACT));
    let trusted: [&dyn Verifier; 1] = [key.public_key()];
    let other_type =
        cos_core::statement::Statement::new("https://slsa.dev/provenance/v0.2", json!({}))
            .with_subject(subject.clone());
    let env = other_type.sign(&[&key]).unwrap().to_json();
    let err = slsa::verify_envelope(&env, &trusted, ARTIFACT, &expect()).unwrap_err();
    assert!(
        matches!(&err, Error::ProvenanceMismatch { field, .. } if field == "predicateType"),
        "{err}"
    );
    for predicate in [
        json!({}),
        json!({"runDetails": {"builder": {"id": BUILDER}}}),
        json!({"runDetails": {"builder": {"id": BUILDER}}, "buildDefinition": {"buildType": "t"}}),
        json!({"runDetails": {"builder": {"id": BUILDER}}, "buildDefinition": {"buildType": "t", "resolvedDependencies": {}}}),
    ] {
        let st = cos_core::statement::Statement::new(slsa::PREDICATE_TYPE, predicate.clone())
            .with_subject(subject.clone());
        let env = st.sign(&[&key]).unwrap().to_json();
        let err = slsa::verify_envelope(&env, &trusted, ARTIFACT, &expect()).unwrap_err();
        assert_eq!(err.code(), "invalid_provenance", "{predicate}: {err}");
    }
    // Two places naming different repositories: refused.
    let st = cos_core::statement::Statement::new(
        slsa::PREDICATE_TYPE,
        json!({"runDetails": {"builder": {"id": BUILDER}}, "buildDefinition": {"buildType": "t",
            "externalParameters": {"workflow": {"repository": "https://github.com/acme/app", "ref": "refs/heads/main"}},
            "resolvedDependencies": [{"uri": "git+https://github.com/evil/app@refs/heads/main", "digest": {"gitCommit": COMMIT}}]}}),
    )
    .with_subject(subject);
    let env = st.sign(&[&key]).unwrap().to_json();
    let err = slsa::verify_envelope(&env, &trusted, ARTIFACT, &expect()).unwrap_err();
    assert!(err.to_string().contains("resolvedDependencies"), "{err}");
}

/// Real npm provenance (SLSA v1 from GitHub Actions, keyless, Rekor v0.2
/// bundles) saved from slsa-verifier's test data: verified offline with the
/// public-good trusted root, with slsa-verifier's expectations.
#[cfg(feature = "sigstore")]
mod npm {
    use super::*;
    use cos_supplychain::sigstore::KeylessVerifier;
    use std::path::PathBuf;

    const ISSUER: &str = "https://token.actions.githubusercontent.com";
    const RUNNER: &str = "https://github.com/actions/runner/github-hosted";

    fn data(name: &str) -> Vec<u8> {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data");
        std::fs::read(dir.join(name)).unwrap()
    }

    fn keyless(identity: &str) -> KeylessVerifier {
        KeylessVerifier::new(
            &data("sigstore/public-good-trusted-root.json"),
            identity,
            ISSUER,
        )
        .unwrap()
    }

    const SIGSTORE_JS: &str =
        "https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main";

    #[test]
    fn sigstore_js_release_provenance_verifies() {
        let bundle = data("slsa/sigstore-2.3.1.provenance.sigstore.json");
        let tgz = data("slsa/sigstore-2.3.1.tgz");
        let e = Expectations::new(RUNNER, "github.com/sigstore/sigstore-js").branch("main");
        let ok = slsa::verify_bundle(&bundle, &keyless(SIGSTORE_JS), &tgz, &e).unwrap();
        assert_eq!(ok.subject, "pkg:npm/sigstore@2.3.1");
        assert_eq!(ok.source_commit.as_deref(), Some(COMMIT));
        assert_eq!(ok.source_ref.as_deref(), Some("refs/heads/main"));
        assert!(ok.signer.contains(SIGSTORE_JS), "{}", ok.signer);
        // slsa-verifier's expectations that do not hold.
        for (e, field) in [
            (
                Expectations::new(RUNNER, "github.com/sigstore/sigstore-python"),
                "source URI",
            ),
            (
                Expectations::new(RUNNER, "github.com/sigstore/sigstore-js").tag("v2.3.1"),
                "source tag",
            ),
            (
                Expectations::new(RUNNER, "github.com/sigstore/sigstore-js").branch("dev"),
                "source branch",
            ),
            (
                Expectations::new(
                    "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/builder_nodejs_slsa3.yml",
                    "github.com/sigstore/sigstore-js",
                ),
                "builder id",
            ),
        ] {
            let err = slsa::verify_bundle(&bundle, &keyless(SIGSTORE_JS), &tgz, &e).unwrap_err();
            assert!(
                matches!(&err, Error::ProvenanceMismatch { field: f, .. } if f.starts_with(field)),
                "{err} is not about {field}"
            );
        }
        // Another package, another signer identity, a broken signature.
        let other = data("slsa/gundam-visor-1.0.1.tgz");
        let e = Expectations::new(RUNNER, "github.com/sigstore/sigstore-js");
        let err = slsa::verify_bundle(&bundle, &keyless(SIGSTORE_JS), &other, &e).unwrap_err();
        assert!(err.is_verification_failure(), "{err}");
        let err = slsa::verify_bundle(
            &bundle,
            &keyless("https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/dev"),
            &tgz,
            &e,
        )
        .unwrap_err();
        assert!(err.is_verification_failure(), "{err}");
        let broken = data("slsa/sigstore-2.3.1-invalidsig.provenance.sigstore.json");
        let err = slsa::verify_bundle(&broken, &keyless(SIGSTORE_JS), &tgz, &e).unwrap_err();
        assert!(err.is_verification_failure(), "{err}");
    }

    #[test]
    fn a_tag_build_verifies_with_its_tag() {
        let bundle = data("slsa/gundam-visor-1.0.1.provenance.sigstore.json");
        let tgz = data("slsa/gundam-visor-1.0.1.tgz");
        let id = "https://github.com/ramonpetgrave64/gundam-visor/.github/workflows/npm-publish.yml@refs/tags/v1.0.1";
        let e = Expectations::new(RUNNER, "github.com/ramonpetgrave64/gundam-visor").tag("v1.0.1");
        let ok = slsa::verify_bundle(&bundle, &keyless(id), &tgz, &e).unwrap();
        assert_eq!(ok.subject, "pkg:npm/gundam-visor@1.0.1");
        let e = Expectations::new(RUNNER, "github.com/ramonpetgrave64/gundam-visor").tag("v1.0.0");
        let err = slsa::verify_bundle(&bundle, &keyless(id), &tgz, &e).unwrap_err();
        assert_eq!(err.code(), "provenance_mismatch");
    }
}
