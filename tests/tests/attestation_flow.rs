//! An attestation from file to verdict, across cos-core's modules: stream a
//! file's digest, state it in an in-toto Statement, sign with keys loaded
//! from PEM files, write the envelope atomically, read it back within a size
//! limit and verify it with a threshold.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers outside #[test] fns may panic"
)]

use cos_core::dsse::{Envelope, MAX_ENVELOPE_SIZE};
use cos_core::file::{Overwrite, read_limited, write_atomic};
use cos_core::statement::{Statement, Subject};
use cos_core::{
    Classification, Digest, DigestAlgorithm, KeyAlgorithm, PrivateKey, PublicKey, Region,
    Residency, TenantId, Verifier,
};

#[test]
fn file_to_verified_statement() {
    let dir = tempfile::tempdir().unwrap();
    let artifact = dir.path().join("app.tar");
    std::fs::write(&artifact, vec![7u8; 300_000]).unwrap();
    let digest = Digest::of_file(DigestAlgorithm::Sha256, &artifact).unwrap();

    // Two release approvers, keys on disk as PEM.
    let mut pubs = Vec::new();
    for (i, alg) in [KeyAlgorithm::Ed25519, KeyAlgorithm::EcdsaP256]
        .into_iter()
        .enumerate()
    {
        let k = PrivateKey::generate(alg).unwrap();
        k.save(dir.path().join(format!("k{i}.key")), Overwrite::Refuse)
            .unwrap();
        k.public_key()
            .save(dir.path().join(format!("k{i}.pub")))
            .unwrap();
        pubs.push(dir.path().join(format!("k{i}.pub")));
    }
    let signers: Vec<PrivateKey> = (0..2)
        .map(|i| PrivateKey::load(dir.path().join(format!("k{i}.key"))).unwrap())
        .collect();

    let predicate = serde_json::json!({
        "tenant": TenantId::new("acme-eu").unwrap(),
        "classification": Classification::Confidential,
        "residency": "EU-Only".parse::<Residency>().unwrap(),
    });
    let st = Statement::new("https://companyos.dev/release/v1", predicate)
        .with_subject(Subject::new("app.tar", &digest));
    let env = st.sign(&[&signers[0], &signers[1]]).unwrap();
    let env_path = dir.path().join("app.tar.dsse.json");
    write_atomic(&env_path, &env.to_json(), None, Overwrite::Refuse).unwrap();

    // The verifier side: only public keys and the files.
    let keys: Vec<PublicKey> = pubs.iter().map(|p| PublicKey::load(p).unwrap()).collect();
    let trusted: Vec<&dyn Verifier> = keys.iter().map(|k| k as &dyn Verifier).collect();
    let read = Envelope::from_json(&read_limited(&env_path, MAX_ENVELOPE_SIZE).unwrap()).unwrap();
    let back = Statement::verify_envelope(&read, &trusted, 2).unwrap();
    assert!(back.subject[0].matches(&Digest::of_file(DigestAlgorithm::Sha256, &artifact).unwrap()));
    let residency: Residency = serde_json::from_value(back.predicate["residency"].clone()).unwrap();
    assert!(residency.permits(&"DE".parse::<Region>().unwrap()));
    assert!(!residency.permits(&"US".parse::<Region>().unwrap()));
    let class: Classification =
        serde_json::from_value(back.predicate["classification"].clone()).unwrap();
    assert!(class > Classification::Internal);

    // A changed artefact no longer matches the signed subject.
    std::fs::write(&artifact, vec![8u8; 300_000]).unwrap();
    assert!(
        !back.subject[0].matches(&Digest::of_file(DigestAlgorithm::Sha256, &artifact).unwrap())
    );
    // One approver is not enough for a threshold of two.
    let mut one = read.clone();
    one.signatures.truncate(1);
    assert_eq!(
        Statement::verify_envelope(&one, &trusted, 2)
            .unwrap_err()
            .code(),
        "threshold_not_met"
    );
}
