//! Keyless Sigstore bundles published by others (test data saved with the
//! public-good trusted root they chain to), and every single-field tamper of
//! one of them refused. PyPI `sigstore` gives the same verdicts
//! (tests/interop/test_sigstore_keyless.py).
#![cfg(feature = "sigstore")]
#![allow(
    clippy::panic,
    reason = "test helpers fail loudly on missing test data"
)]

use std::path::PathBuf;

use cos_core::sigstore::BlobVerifier;
use cos_supplychain::sigstore::{KeyLogVerifier, KeylessVerifier};
use serde_json::Value;

const COSIGN_ID: &str = "w.vollprecht@gmail.com";
const GITHUB_LOGIN: &str = "https://github.com/login/oauth";
const CONDA_ID: &str =
    "https://github.com/prefix-dev/sigstore-example/.github/workflows/action.yaml@refs/heads/main";
const ACTIONS: &str = "https://token.actions.githubusercontent.com";

fn data(name: &str) -> Vec<u8> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/sigstore")
        .join(name);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn root() -> Vec<u8> {
    data("public-good-trusted-root.json")
}

#[test]
fn cosign_keyless_blob_verifies_for_its_identity_only() {
    let blob = data("cosign-v3-blob.txt");
    let bundle = data("cosign-v3-blob.sigstore.json");
    let v = KeylessVerifier::new(&root(), COSIGN_ID, GITHUB_LOGIN).unwrap();
    let ok = v.verify_blob(&blob, &bundle).unwrap();
    assert_eq!(ok.identity.as_deref(), Some(COSIGN_ID));
    assert_eq!(ok.issuer.as_deref(), Some(GITHUB_LOGIN));
    assert_eq!(ok.key_id, "");
    assert!(ok.payload_type.is_none());

    let e = v.verify_blob(b"another blob", &bundle).unwrap_err();
    assert_eq!(e.code(), "artifact_mismatch", "{e}");
    let other = KeylessVerifier::new(&root(), "someone@example.com", GITHUB_LOGIN).unwrap();
    let e = other.verify_blob(&blob, &bundle).unwrap_err();
    assert_eq!(e.code(), "bundle_not_trusted", "{e}");
    let other = KeylessVerifier::new(&root(), COSIGN_ID, ACTIONS).unwrap();
    assert_eq!(
        other.verify_blob(&blob, &bundle).unwrap_err().code(),
        "bundle_not_trusted"
    );
}

#[test]
fn github_actions_dsse_attestation_verifies() {
    let artifact = data("signed-package-2.1.0-hb0f4dca_0.conda");
    let bundle = data("conda-attestation.sigstore.json");
    let v = KeylessVerifier::new(&root(), CONDA_ID, ACTIONS).unwrap();
    let ok = v.verify_blob(&artifact, &bundle).unwrap();
    assert_eq!(
        ok.payload_type.as_deref(),
        Some("application/vnd.in-toto+json")
    );
    assert_eq!(
        ok.artifact_digest.to_string(),
        "sha256:54303491a8418fbed24344b513546182c29b43bf282ceb433af65e2299f9271f"
    );
    assert!(v.verify_blob(b"x", &bundle).is_err());
}

#[test]
fn an_unrelated_or_broken_trusted_root_is_refused() {
    let blob = data("cosign-v3-blob.txt");
    let bundle = data("cosign-v3-blob.sigstore.json");
    // A root with none of public-good's CAs and logs.
    let mut r: Value = serde_json::from_slice(&root()).unwrap();
    for k in [
        "certificateAuthorities",
        "tlogs",
        "ctlogs",
        "timestampAuthorities",
    ] {
        r[k] = Value::Array(vec![]);
    }
    let empty = serde_json::to_vec(&r).unwrap();
    match KeylessVerifier::new(&empty, COSIGN_ID, GITHUB_LOGIN) {
        Ok(v) => assert!(
            v.verify_blob(&blob, &bundle)
                .unwrap_err()
                .is_verification_failure()
        ),
        Err(e) => assert_eq!(e.code(), "invalid_trusted_root"),
    }
    for bad in [&b""[..], b"{", b"[]", b"\xff"] {
        assert_eq!(
            KeylessVerifier::new(bad, COSIGN_ID, GITHUB_LOGIN)
                .unwrap_err()
                .code(),
            "invalid_trusted_root"
        );
    }
    assert_eq!(
        KeylessVerifier::new(&root(), "", GITHUB_LOGIN)
            .unwrap_err()
            .code(),
        "invalid_policy"
    );
}

/// Every leaf of the bundle's JSON changed one at a time (strings get one
/// character changed, numbers +1, booleans flipped): each changed bundle is
/// refused, except where the change hits text no signature covers.
///
/// The one such place: the key *name* on a checkpoint's signature line
/// (`— rekor.sigstore.dev <base64>`). A signed note's signature covers the
/// note text above the blank line; verifiers pick the signature by its key
/// hint (inside the base64), so the name is unauthenticated. The change made
/// here (the middle character of the envelope) lands in that name, and
/// PyPI `sigstore` 4.5.1 accepts it too; a change to the signed text of the
/// checkpoint (its root hash) is refused, checked below.
#[test]
fn every_single_field_tamper_is_refused() {
    let blob = data("cosign-v3-blob.txt");
    let original: Value = serde_json::from_slice(&data("cosign-v3-blob.sigstore.json")).unwrap();
    let v = KeylessVerifier::new(&root(), COSIGN_ID, GITHUB_LOGIN).unwrap();
    let mut paths = Vec::new();
    leaves(&original, String::new(), &mut paths);
    assert!(paths.len() > 15, "{paths:?}");
    let mut accepted = Vec::new();
    for path in &paths {
        let mut t = original.clone();
        tamper(&mut t, path);
        assert_ne!(t, original, "{path}");
        let bytes = serde_json::to_vec(&t).unwrap();
        if v.verify_blob(&blob, &bytes).is_ok() {
            accepted.push(path.clone());
        }
    }
    let checkpoint = "/verificationMaterial/tlogEntries/0/inclusionProof/checkpoint/envelope";
    assert_eq!(
        accepted,
        vec![checkpoint.to_owned()],
        "tampered fields accepted"
    );

    // Change the checkpoint's signed text instead: its root hash line.
    let mut t = original.clone();
    let envelope = t
        .pointer(checkpoint)
        .and_then(Value::as_str)
        .unwrap()
        .to_owned();
    let mut lines: Vec<String> = envelope.split('\n').map(str::to_owned).collect();
    let root_hash = &mut lines[2];
    let flipped = if root_hash.starts_with('A') { "B" } else { "A" };
    root_hash.replace_range(0..1, flipped);
    *t.pointer_mut(checkpoint).unwrap() = Value::String(lines.join("\n"));
    let bytes = serde_json::to_vec(&t).unwrap();
    assert!(
        v.verify_blob(&blob, &bytes).is_err(),
        "changed checkpoint root hash accepted"
    );
}

fn leaves(v: &Value, path: String, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => m
            .iter()
            .for_each(|(k, x)| leaves(x, format!("{path}/{k}"), out)),
        Value::Array(a) => a
            .iter()
            .enumerate()
            .for_each(|(i, x)| leaves(x, format!("{path}/{i}"), out)),
        _ => out.push(path),
    }
}

fn tamper(v: &mut Value, path: &str) {
    let Some(leaf) = v.pointer_mut(path) else {
        panic!("{path}")
    };
    *leaf = match leaf.clone() {
        Value::String(s) => {
            let mut chars: Vec<char> = s.chars().collect();
            // Change a character in the middle (in base64, a change there
            // changes the decoded bytes; padding at the end might not).
            let i = chars.len() / 2;
            if chars.is_empty() {
                Value::String("x".into())
            } else {
                chars[i] = if chars[i] == 'A' { 'B' } else { 'A' };
                Value::String(chars.into_iter().collect())
            }
        }
        Value::Number(n) => Value::from(n.as_i64().unwrap_or(0) + 1),
        Value::Bool(b) => Value::Bool(!b),
        Value::Null => Value::String("x".into()),
        other => other,
    };
}

#[test]
fn a_published_key_bundle_verifies_in_key_mode() {
    // A cosign key bundle with a Rekor entry: cos-core's key mode checks the
    // signature and counts the (unchecked) log entry.
    let key = cos_core::PublicKey::from_pem(std::str::from_utf8(&data("managed-key.pub")).unwrap())
        .unwrap();
    let artifact = data("managed-key-artifact.txt");
    let bundle = data("managed-key.sigstore.json");
    let ok = key.verify_blob(&artifact, &bundle).unwrap();
    assert_eq!(ok.key_id, cos_core::Verifier::key_id(&key));
    assert!(key.verify_blob(b"other", &bundle).is_err());
}

fn managed_key() -> String {
    String::from_utf8(data("managed-key.pub")).unwrap_or_else(|e| panic!("managed-key.pub: {e}"))
}

#[test]
fn a_key_bundle_with_a_trusted_root_has_its_log_entry_checked() {
    let artifact = data("managed-key-artifact.txt");
    let bundle = data("managed-key.sigstore.json");
    let v = KeyLogVerifier::new(&managed_key(), &root()).unwrap();
    let ok = v.verify_blob(&artifact, &bundle).unwrap();
    assert_eq!(ok.unchecked_tlog_entries, 0);
    assert_eq!(ok.unchecked_timestamps, 0);
    let key = cos_core::PublicKey::from_pem(&managed_key()).unwrap();
    assert_eq!(ok.key_id, cos_core::Verifier::key_id(&key));
    assert_eq!(
        v.verify_blob(b"other", &bundle).unwrap_err().code(),
        "artifact_mismatch"
    );

    // Another key: refused, with or without the root.
    let other = cos_core::PrivateKey::generate(cos_core::KeyAlgorithm::EcdsaP256).unwrap();
    let pem = other.public_key().to_pem();
    let e = KeyLogVerifier::new(&pem, &root())
        .unwrap()
        .verify_blob(&artifact, &bundle)
        .unwrap_err();
    assert!(e.is_verification_failure(), "{e}");

    // A bundle without a log entry (as `cos sign-blob` makes) verifies with
    // the key alone, and is refused when the log must be checked.
    let unlogged = cos_core::sigstore::sign_blob(b"x", &other).unwrap();
    assert!(other.public_key().verify_blob(b"x", &unlogged).is_ok());
    let e = KeyLogVerifier::new(&pem, &root())
        .unwrap()
        .verify_blob(b"x", &unlogged)
        .unwrap_err();
    assert_eq!(e.code(), "bundle_not_trusted", "{e}");
    assert!(e.to_string().contains("no transparency-log entry"), "{e}");

    // A root without public-good's logs: the entry cannot be checked.
    let mut r: Value = serde_json::from_slice(&root()).unwrap();
    r["tlogs"] = Value::Array(vec![]);
    let no_logs = serde_json::to_vec(&r).unwrap();
    if let Ok(v) = KeyLogVerifier::new(&managed_key(), &no_logs) {
        assert!(v.verify_blob(&artifact, &bundle).is_err());
    }
    assert_eq!(
        KeyLogVerifier::new(&managed_key(), b"{")
            .unwrap_err()
            .code(),
        "invalid_trusted_root"
    );
    assert!(KeyLogVerifier::new("not a key", &root()).is_err());
}

/// Key mode with a trusted root: every single-field tamper of a published
/// key bundle with a Rekor entry is refused, except the two places no
/// signature covers: the checkpoint's key name (see above) and the key hint
/// (a hint: the verifier's key decides, as in cosign). With the key alone,
/// a tampered inclusion proof, checkpoint or signed entry timestamp passes
/// (the log entry is counted, not checked): that is what the root adds.
#[test]
fn every_single_field_tamper_of_a_logged_key_bundle_is_refused() {
    let artifact = data("managed-key-artifact.txt");
    let original: Value = serde_json::from_slice(&data("managed-key.sigstore.json")).unwrap();
    let with_root = KeyLogVerifier::new(&managed_key(), &root()).unwrap();
    let key_only = cos_core::PublicKey::from_pem(&managed_key()).unwrap();
    let mut paths = Vec::new();
    leaves(&original, String::new(), &mut paths);
    assert!(paths.len() > 15, "{paths:?}");
    let mut accepted = Vec::new();
    let mut key_only_accepted = Vec::new();
    for path in &paths {
        let mut t = original.clone();
        tamper(&mut t, path);
        let bytes = serde_json::to_vec(&t).unwrap();
        if with_root.verify_blob(&artifact, &bytes).is_ok() {
            accepted.push(path.clone());
        }
        if key_only.verify_blob(&artifact, &bytes).is_ok() {
            key_only_accepted.push(path.clone());
        }
    }
    assert_eq!(
        accepted,
        vec![
            "/verificationMaterial/publicKey/hint".to_owned(),
            "/verificationMaterial/tlogEntries/0/inclusionProof/checkpoint/envelope".to_owned(),
        ],
        "tampered fields accepted with the trusted root"
    );
    for p in [
        "/verificationMaterial/tlogEntries/0/inclusionProof/rootHash",
        "/verificationMaterial/tlogEntries/0/inclusionProof/hashes/0",
        "/verificationMaterial/tlogEntries/0/inclusionPromise/signedEntryTimestamp",
    ] {
        assert!(
            key_only_accepted.iter().any(|a| a == p),
            "{p}: {key_only_accepted:?}"
        );
    }
}

#[test]
fn blob_verifier_picks_key_log_mode_for_a_key_and_a_root() {
    use cos_supplychain::sigstore::blob_verifier;
    let artifact = data("managed-key-artifact.txt");
    let mut t: Value = serde_json::from_slice(&data("managed-key.sigstore.json")).unwrap();
    tamper(
        &mut t,
        "/verificationMaterial/tlogEntries/0/inclusionProof/rootHash",
    );
    let tampered = serde_json::to_vec(&t).unwrap();
    let key = managed_key();
    let r = root();
    let key_only = blob_verifier(Some(&key), None, None, None).unwrap();
    assert!(key_only.verify_blob(&artifact, &tampered).is_ok());
    let logged = blob_verifier(Some(&key), Some(&r), None, None).unwrap();
    assert!(logged.verify_blob(&artifact, &tampered).is_err());
    assert!(
        logged
            .verify_blob(&artifact, &data("managed-key.sigstore.json"))
            .is_ok()
    );
    assert_eq!(
        blob_verifier(Some(&key), Some(&r), Some(COSIGN_ID), None)
            .err()
            .map(|e| e.code()),
        Some("invalid_policy")
    );
}
