//! The two verification paths of a distributed pack
//! (`distribution::verify_archive`, for a download used directly, and
//! `PolicyStore::verify`, which guards what decides) accept and refuse the
//! same archives with the same error codes: a good one, a tampered one, one
//! signed by another key, one without its bundle, signed bytes that are not
//! a pack (issue 20).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a failure should panic with context"
)]

use std::sync::Arc;

use cos_core::{Digest, DigestAlgorithm, KeyAlgorithm, PrivateKey, sigstore};
use cos_policy::distribution::{Verification, verify_archive};
use cos_policy::store::{Candidate, PolicyStore, StoreOptions};

fn archive() -> Vec<u8> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../examples/policy-packs/companyos-baseline");
    cos_policy::Pack::load(&dir, &Default::default())
        .unwrap()
        .build_bundle()
        .unwrap()
}

/// A case: its name, the archive, its Sigstore bundle, the error code
/// both paths must give (`None`: both accept it).
type Case = (&'static str, Vec<u8>, Option<Vec<u8>>, Option<&'static str>);

#[test]
fn both_paths_accept_and_refuse_the_same_archives() {
    let key = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let other = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let good = archive();
    let bundle = sigstore::sign_blob(&good, &key).unwrap();
    let mut tampered = good.clone();
    let last = tampered.len() - 1;
    tampered[last] ^= 1;
    let not_a_pack = b"signed, but not a pack".to_vec();
    let cases: Vec<Case> = vec![
        ("good", good.clone(), Some(bundle.clone()), None),
        (
            "tampered archive",
            tampered,
            Some(bundle.clone()),
            Some("bundle_verification_failed"),
        ),
        (
            "signed by another key",
            good.clone(),
            Some(sigstore::sign_blob(&good, &other).unwrap()),
            Some("bundle_verification_failed"),
        ),
        (
            "no bundle",
            good.clone(),
            None,
            Some("missing_verification"),
        ),
        (
            "not a pack",
            not_a_pack.clone(),
            Some(sigstore::sign_blob(&not_a_pack, &key).unwrap()),
            Some("invalid_pack"),
        ),
    ];
    let store = PolicyStore::new(StoreOptions {
        sigstore: Some(Arc::new(key.public_key().clone())),
        ..StoreOptions::default()
    });
    for (name, bytes, bundle, expected) in cases {
        // The transport's digest matches the bytes served: only the
        // signature and the archive are judged.
        let header = format!(
            "sha-256={}",
            Digest::of_bytes(DigestAlgorithm::Sha256, &bytes).hex()
        );
        let check = Verification {
            digest_header: Some(&header),
            bundle: bundle.as_deref(),
            key: key.public_key(),
        };
        let direct = verify_archive(&bytes, &check, &Default::default()).map(|_| ());
        let mut candidate = Candidate::new(bytes);
        if let Some(b) = bundle {
            candidate = candidate.with_sigstore_bundle(b);
        }
        let stored = store.verify(&candidate).map(|_| ());
        let code = |r: &cos_policy::Result<()>| r.as_ref().err().map(|e| e.code());
        assert_eq!(code(&direct), expected, "{name}: verify_archive {direct:?}");
        assert_eq!(
            code(&stored),
            expected,
            "{name}: PolicyStore::verify {stored:?}"
        );
        if let (Err(a), Err(b)) = (&direct, &stored) {
            assert_eq!(a.to_string(), b.to_string(), "{name}: the same message");
        }
    }
}
