//! Sigstore bundles signed with a known key: make one for a blob, and verify
//! a blob against one offline.
//!
//! Reads the Sigstore bundle JSON (`application/vnd.dev.sigstore.bundle`
//! v0.1, v0.2 and v0.3, as `cosign sign-blob --new-bundle-format`, sigstore-go
//! and sigstore-python write it) and cosign's older blob bundle
//! (`{"base64Signature", "cert", "rekorBundle"}`, what `cosign sign-blob
//! --bundle` writes without `--new-bundle-format`). The content may be a
//! message signature (over the blob's bytes; its `messageDigest` must be the
//! blob's SHA-256) or a DSSE envelope holding an in-toto Statement, one of
//! whose subjects must carry the blob's SHA-256.
//!
//! This is **key mode**: the caller's public key is the trust anchor, like
//! `cosign verify-blob --key KEY --insecure-ignore-tlog`. Transparency-log
//! entries and timestamps that the bundle carries are counted in
//! [`VerifiedBlob`] but not checked (that needs a trusted root); keyless
//! bundles, whose trust comes from a Fulcio certificate and Rekor, are
//! verified by `cos-supplychain` against a `trusted_root.json`.
//!
//! ```
//! use cos_core::{KeyAlgorithm, PrivateKey, sigstore};
//!
//! let key = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
//! let bundle = sigstore::sign_blob(b"pack bytes", &key).unwrap();
//! let parsed = sigstore::Bundle::from_json(&bundle).unwrap();
//! let ok = parsed.verify_blob(b"pack bytes", key.public_key()).unwrap();
//! assert_eq!(ok.key_id, key.public_key().key_id());
//! assert!(parsed.verify_blob(b"other bytes", key.public_key()).is_err());
//! ```

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value, json};

use crate::digest::{Digest, DigestAlgorithm};
use crate::dsse::{Envelope, decode_b64};
use crate::error::{Error, Result, excerpt};
use crate::key::{PublicKey, Signer, Verifier};
use crate::statement::{PAYLOAD_TYPE, Statement};

/// Largest bundle cos parses (16 MiB: bundles carry a few certificates and
/// log entries, or one DSSE envelope).
pub const MAX_BUNDLE_SIZE: u64 = 16 * 1024 * 1024;

/// Media type of the bundles [`sign_blob`] writes.
pub const MEDIA_TYPE_V03: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";

const MEDIA_TYPES: [&str; 4] = [
    "application/vnd.dev.sigstore.bundle+json;version=0.1",
    "application/vnd.dev.sigstore.bundle+json;version=0.2",
    "application/vnd.dev.sigstore.bundle+json;version=0.3",
    MEDIA_TYPE_V03,
];

/// Which on-disk form a bundle had.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum BundleFormat {
    /// A Sigstore bundle with this `mediaType`.
    Sigstore(String),
    /// cosign's older blob bundle (`base64Signature`, `cert`, `rekorBundle`).
    CosignLegacy,
}

#[derive(Debug, Clone)]
enum Content {
    /// A signature over the blob's bytes; `digest` is the bundle's claim of
    /// the blob's SHA-256 (absent in the legacy form).
    Message {
        digest: Option<Vec<u8>>,
        signature: Vec<u8>,
    },
    Dsse(Envelope),
}

/// A parsed Sigstore bundle.
#[derive(Debug, Clone)]
pub struct Bundle {
    format: BundleFormat,
    content: Content,
    key_hint: Option<String>,
    has_certificate: bool,
    tlog_entries: usize,
    timestamps: usize,
}

/// What [`Bundle::verify_blob`] (or another [`BlobVerifier`]) established.
/// Serialized, it is the bindings' result shape (ADR-0020): every field but
/// `format`, the digest as `sha256:<hex>`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct VerifiedBlob {
    /// The bundle's form.
    #[serde(skip)]
    pub format: BundleFormat,
    /// Id of the key whose signature verified (key mode); empty for a
    /// keyless bundle, whose signer is [`VerifiedBlob::identity`].
    pub key_id: String,
    /// The certificate identity (SAN) a keyless bundle was verified for.
    pub identity: Option<String>,
    /// The OIDC issuer a keyless bundle was verified for.
    pub issuer: Option<String>,
    /// SHA-256 of the blob that was verified.
    pub artifact_digest: Digest,
    /// The DSSE payload type, when the bundle held an envelope.
    pub payload_type: Option<String>,
    /// Transparency-log entries the bundle carries (not checked in key mode).
    pub unchecked_tlog_entries: usize,
    /// RFC 3161 timestamps the bundle carries (not checked in key mode).
    pub unchecked_timestamps: usize,
}

fn bad(reason: impl Into<String>) -> Error {
    Error::InvalidSigstoreBundle {
        reason: reason.into(),
    }
}

fn b64_field(obj: &Map<String, Value>, field: &str, path: &str) -> Result<Vec<u8>> {
    match obj.get(field) {
        Some(Value::String(s)) => {
            decode_b64(path, s).map_err(|_| bad(format!("{path} is not valid base64")))
        }
        Some(_) => Err(bad(format!("{path} must be a base64 string"))),
        None => Err(bad(format!("{path} is missing"))),
    }
}

fn object<'a>(v: &'a Value, path: &str) -> Result<&'a Map<String, Value>> {
    v.as_object()
        .ok_or_else(|| bad(format!("{path} must be an object")))
}

fn array_len(obj: &Map<String, Value>, field: &str, path: &str) -> Result<usize> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(0),
        Some(Value::Array(a)) => Ok(a.len()),
        Some(_) => Err(bad(format!("{path}.{field} must be an array"))),
    }
}

impl Bundle {
    /// Parses a bundle (at most [`MAX_BUNDLE_SIZE`] bytes).
    pub fn from_json(json: &[u8]) -> Result<Self> {
        if json.len() as u64 > MAX_BUNDLE_SIZE {
            return Err(Error::TooLarge {
                what: "Sigstore bundle".into(),
                limit: MAX_BUNDLE_SIZE,
            });
        }
        let value: Value =
            serde_json::from_slice(json).map_err(|e| bad(format!("not JSON: {e}")))?;
        let root = object(&value, "bundle")?;
        if root.contains_key("base64Signature") {
            return Self::legacy(root);
        }
        let media_type = match root.get("mediaType") {
            Some(Value::String(m)) => m.clone(),
            _ => return Err(bad("mediaType is missing (not a Sigstore bundle)")),
        };
        if !MEDIA_TYPES.contains(&media_type.as_str()) {
            return Err(bad(format!(
                "unsupported mediaType {:?}",
                excerpt(&media_type)
            )));
        }
        let material = object(
            root.get("verificationMaterial")
                .ok_or_else(|| bad("verificationMaterial is missing"))?,
            "verificationMaterial",
        )?;
        let key_hint = match material.get("publicKey") {
            Some(pk) => match object(pk, "verificationMaterial.publicKey")?.get("hint") {
                Some(Value::String(h)) => Some(h.clone()),
                None => None,
                Some(_) => return Err(bad("verificationMaterial.publicKey.hint must be a string")),
            },
            None => None,
        };
        let has_certificate =
            material.contains_key("certificate") || material.contains_key("x509CertificateChain");
        if key_hint.is_none() && !has_certificate && !material.contains_key("publicKey") {
            return Err(bad(
                "verificationMaterial has no publicKey, certificate or x509CertificateChain",
            ));
        }
        let tlog_entries = array_len(material, "tlogEntries", "verificationMaterial")?;
        let timestamps = match material.get("timestampVerificationData") {
            Some(t) => array_len(
                object(t, "verificationMaterial.timestampVerificationData")?,
                "rfc3161Timestamps",
                "verificationMaterial.timestampVerificationData",
            )?,
            None => 0,
        };
        let content = match (root.get("messageSignature"), root.get("dsseEnvelope")) {
            (Some(ms), None) => {
                let ms = object(ms, "messageSignature")?;
                let signature = b64_field(ms, "signature", "messageSignature.signature")?;
                let digest = match ms.get("messageDigest") {
                    None => None,
                    Some(d) => {
                        let d = object(d, "messageSignature.messageDigest")?;
                        match d.get("algorithm") {
                            Some(Value::String(a)) if a == "SHA2_256" => {}
                            Some(Value::String(a)) => {
                                return Err(Error::UnsupportedAlgorithm {
                                    name: excerpt(a),
                                    supported: "SHA2_256",
                                });
                            }
                            _ => {
                                return Err(bad(
                                    "messageSignature.messageDigest.algorithm is missing",
                                ));
                            }
                        }
                        Some(b64_field(
                            d,
                            "digest",
                            "messageSignature.messageDigest.digest",
                        )?)
                    }
                };
                Content::Message { digest, signature }
            }
            (None, Some(env)) => {
                let raw = serde_json::to_vec(env).map_err(|e| bad(e.to_string()))?;
                Content::Dsse(Envelope::from_json(&raw)?)
            }
            (Some(_), Some(_)) => {
                return Err(bad("both messageSignature and dsseEnvelope are present"));
            }
            (None, None) => {
                return Err(bad("neither messageSignature nor dsseEnvelope is present"));
            }
        };
        Ok(Bundle {
            format: BundleFormat::Sigstore(media_type),
            content,
            key_hint,
            has_certificate,
            tlog_entries,
            timestamps,
        })
    }

    fn legacy(root: &Map<String, Value>) -> Result<Self> {
        let signature = b64_field(root, "base64Signature", "base64Signature")?;
        let has_certificate = matches!(root.get("cert"), Some(Value::String(c)) if !c.is_empty());
        let tlog_entries = match root.get("rekorBundle") {
            None | Some(Value::Null) => 0,
            Some(Value::Object(_)) => 1,
            Some(_) => return Err(bad("rekorBundle must be an object")),
        };
        Ok(Bundle {
            format: BundleFormat::CosignLegacy,
            content: Content::Message {
                digest: None,
                signature,
            },
            key_hint: None,
            has_certificate,
            tlog_entries,
            timestamps: 0,
        })
    }

    /// The bundle's form.
    pub fn format(&self) -> &BundleFormat {
        &self.format
    }

    /// The unauthenticated public-key hint, if the bundle names its key.
    pub fn key_hint(&self) -> Option<&str> {
        self.key_hint.as_deref()
    }

    /// Whether the bundle carries a signing certificate (a keyless bundle).
    pub fn has_certificate(&self) -> bool {
        self.has_certificate
    }

    /// Verifies that `key` signed `artifact` in this bundle.
    ///
    /// Errors: [`Error::ArtifactMismatch`] when the bundle is about another
    /// blob (message digest or Statement subjects), [`Error::SignatureInvalid`]
    /// when the signature does not verify with `key`.
    pub fn verify_blob(&self, artifact: &[u8], key: &dyn Verifier) -> Result<VerifiedBlob> {
        let artifact_digest = Digest::of_bytes(DigestAlgorithm::Sha256, artifact);
        let payload_type = match &self.content {
            Content::Message { digest, signature } => {
                if let Some(claimed) = digest
                    && claimed.as_slice() != artifact_digest.as_bytes()
                {
                    return Err(Error::ArtifactMismatch {
                        reason: format!(
                            "the bundle's message digest is sha256:{}, the artifact's is {}",
                            hex::encode(claimed),
                            artifact_digest
                        ),
                    });
                }
                key.verify(artifact, signature)?;
                None
            }
            Content::Dsse(env) => {
                if env.payload_type != PAYLOAD_TYPE {
                    return Err(Error::PayloadTypeMismatch {
                        expected: PAYLOAD_TYPE.into(),
                        found: excerpt(&env.payload_type),
                    });
                }
                env.verify(&[key], 1, Some(PAYLOAD_TYPE))?;
                let statement = Statement::from_json(&env.payload)?;
                if statement.subject_for(artifact).is_none() {
                    return Err(Error::ArtifactMismatch {
                        reason: format!(
                            "no subject of the bundle's in-toto Statement has the artifact's digest ({artifact_digest})"
                        ),
                    });
                }
                Some(env.payload_type.clone())
            }
        };
        Ok(VerifiedBlob {
            format: self.format.clone(),
            key_id: key.key_id().to_owned(),
            identity: None,
            issuer: None,
            artifact_digest,
            payload_type,
            unchecked_tlog_entries: self.tlog_entries,
            unchecked_timestamps: self.timestamps,
        })
    }
}

impl VerifiedBlob {
    /// The result of a keyless verification (certificate chain to a trusted
    /// root, transparency log and timestamps all checked by the verifier
    /// that builds it, e.g. `cos-supplychain`'s).
    pub fn keyless(
        media_type: impl Into<String>,
        artifact_digest: Digest,
        identity: impl Into<String>,
        issuer: impl Into<String>,
        payload_type: Option<String>,
    ) -> Self {
        VerifiedBlob {
            format: BundleFormat::Sigstore(media_type.into()),
            key_id: String::new(),
            identity: Some(identity.into()),
            issuer: Some(issuer.into()),
            artifact_digest,
            payload_type,
            unchecked_tlog_entries: 0,
            unchecked_timestamps: 0,
        }
    }
}

/// Something that decides whether a Sigstore bundle vouches for a blob: a
/// [`PublicKey`] (key mode, [`Bundle::verify_blob`]), or a keyless verifier
/// holding a trusted root and the expected identity (`cos-supplychain`).
/// Callers such as `cos_policy::distribution` take `&dyn BlobVerifier`, so
/// they work with either.
pub trait BlobVerifier: Send + Sync {
    /// Verifies `artifact` against the bundle's JSON.
    fn verify_blob(&self, artifact: &[u8], bundle: &[u8]) -> Result<VerifiedBlob>;
}

impl BlobVerifier for PublicKey {
    fn verify_blob(&self, artifact: &[u8], bundle: &[u8]) -> Result<VerifiedBlob> {
        Bundle::from_json(bundle)?.verify_blob(artifact, self)
    }
}

/// cosign's public-key hint: the standard base64 of SHA-256 over the key's
/// SPKI DER (the same hash as a cos key id, which is its hex).
fn key_hint(key_id: &str) -> String {
    match hex::decode(key_id) {
        Ok(raw) => STANDARD.encode(raw),
        Err(_) => key_id.to_owned(),
    }
}

/// Signs `artifact` and returns a v0.3 Sigstore bundle (JSON, sorted keys)
/// holding the message signature, its SHA-256 digest and cosign's
/// public-key hint, with no transparency-log entry: verify it with the public
/// key (`cosign verify-blob --key KEY --bundle B --new-bundle-format
/// --insecure-ignore-tlog`).
pub fn sign_blob(artifact: &[u8], signer: &dyn Signer) -> Result<Vec<u8>> {
    let digest = Digest::of_bytes(DigestAlgorithm::Sha256, artifact);
    let signature = signer.sign(artifact)?;
    let bundle = json!({
        "mediaType": MEDIA_TYPE_V03,
        "verificationMaterial": {
            "publicKey": {"hint": key_hint(signer.key_id())},
        },
        "messageSignature": {
            "messageDigest": {
                "algorithm": "SHA2_256",
                "digest": STANDARD.encode(digest.as_bytes()),
            },
            "signature": STANDARD.encode(signature),
        },
    });
    serde_json::to_vec(&bundle).map_err(|e| Error::SigningFailed {
        reason: format!("bundle encoding: {e}"),
    })
}

/// Signs an in-toto Statement and returns a v0.3 Sigstore bundle (JSON,
/// sorted keys) holding the DSSE envelope and cosign's public-key hint, with
/// no transparency-log entry: the attestation counterpart of [`sign_blob`]
/// (verify with [`Bundle::verify_blob`] and the public key, for an artefact
/// named by one of the statement's subjects).
///
/// ```
/// use cos_core::statement::{Statement, Subject};
/// use cos_core::{Digest, DigestAlgorithm, KeyAlgorithm, PrivateKey, sigstore};
///
/// let key = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
/// let st = Statement::new("https://slsa.dev/provenance/v1", serde_json::json!({}))
///     .with_subject(Subject::new("app", &Digest::of_bytes(DigestAlgorithm::Sha256, b"app")));
/// let bundle = sigstore::sign_statement(&st, &key).unwrap();
/// let parsed = sigstore::Bundle::from_json(&bundle).unwrap();
/// assert!(parsed.verify_blob(b"app", key.public_key()).is_ok());
/// assert!(parsed.verify_blob(b"other", key.public_key()).is_err());
/// ```
pub fn sign_statement(statement: &Statement, signer: &dyn Signer) -> Result<Vec<u8>> {
    let envelope = statement.sign(&[signer])?;
    let signatures: Vec<Value> = envelope
        .signatures
        .iter()
        .map(|s| json!({"keyid": "", "sig": STANDARD.encode(&s.sig)}))
        .collect();
    let bundle = json!({
        "mediaType": MEDIA_TYPE_V03,
        "verificationMaterial": {
            "publicKey": {"hint": key_hint(signer.key_id())},
        },
        "dsseEnvelope": {
            "payload": STANDARD.encode(&envelope.payload),
            "payloadType": envelope.payload_type,
            "signatures": signatures,
        },
    });
    serde_json::to_vec(&bundle).map_err(|e| Error::SigningFailed {
        reason: format!("bundle encoding: {e}"),
    })
}

/// The in-toto Statement a bundle's DSSE envelope carries, parsed but
/// **not verified**: read it only after [`Bundle::verify_blob`] (or another
/// [`BlobVerifier`]) accepted the bundle. `None` for message-signature
/// bundles.
pub fn unverified_statement(bundle: &Bundle) -> Result<Option<Statement>> {
    match &bundle.content {
        Content::Dsse(env) => Statement::from_json(&env.payload).map(Some),
        Content::Message { .. } => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key::{KeyAlgorithm, PrivateKey};
    use crate::statement::Subject;

    fn key() -> PrivateKey {
        PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap()
    }

    fn edit(bundle: &[u8], f: impl FnOnce(&mut Value)) -> Vec<u8> {
        let mut v: Value = serde_json::from_slice(bundle).unwrap();
        f(&mut v);
        serde_json::to_vec(&v).unwrap()
    }

    #[test]
    fn round_trip_both_algorithms() {
        for alg in [KeyAlgorithm::EcdsaP256, KeyAlgorithm::Ed25519] {
            let k = PrivateKey::generate(alg).unwrap();
            let b = sign_blob(b"blob", &k).unwrap();
            let parsed = Bundle::from_json(&b).unwrap();
            let hint = STANDARD.decode(parsed.key_hint().unwrap()).unwrap();
            assert_eq!(hex::encode(hint), k.public_key().key_id());
            let v = parsed.verify_blob(b"blob", k.public_key()).unwrap();
            assert_eq!(v.format, BundleFormat::Sigstore(MEDIA_TYPE_V03.into()));
            assert_eq!(v.unchecked_tlog_entries, 0);
        }
    }

    #[test]
    fn every_single_field_tamper_is_rejected() {
        let k = key();
        let b = sign_blob(b"blob", &k).unwrap();
        // other artifact
        let e = Bundle::from_json(&b)
            .unwrap()
            .verify_blob(b"blob2", k.public_key());
        assert_eq!(e.unwrap_err().code(), "artifact_mismatch");
        // wrong key
        let e = Bundle::from_json(&b)
            .unwrap()
            .verify_blob(b"blob", key().public_key());
        assert_eq!(e.unwrap_err().code(), "signature_invalid");
        // digest changed to match another blob: the signature still fails
        let other = Digest::of_bytes(DigestAlgorithm::Sha256, b"evil");
        let t = edit(&b, |v| {
            v["messageSignature"]["messageDigest"]["digest"] =
                STANDARD.encode(other.as_bytes()).into()
        });
        let e = Bundle::from_json(&t)
            .unwrap()
            .verify_blob(b"evil", k.public_key());
        assert_eq!(e.unwrap_err().code(), "signature_invalid");
        // signature bit flipped
        let t = edit(&b, |v| {
            let s = v["messageSignature"]["signature"].as_str().unwrap();
            let mut raw = STANDARD.decode(s).unwrap();
            let last = raw.len() - 1;
            raw[last] ^= 1;
            v["messageSignature"]["signature"] = STANDARD.encode(raw).into();
        });
        let e = Bundle::from_json(&t)
            .unwrap()
            .verify_blob(b"blob", k.public_key());
        assert_eq!(e.unwrap_err().code(), "signature_invalid");
        // structural damage
        for f in [
            (|v: &mut Value| v["mediaType"] = "application/json".into()) as fn(&mut Value),
            |v| {
                v.as_object_mut().unwrap().remove("messageSignature");
            },
            |v| {
                v.as_object_mut().unwrap().remove("verificationMaterial");
            },
            |v| v["messageSignature"]["messageDigest"]["algorithm"] = "MD5".into(),
            |v| v["messageSignature"]["signature"] = "%%%".into(),
            |v| v["dsseEnvelope"] = json!({}),
        ] {
            let t = edit(&b, f);
            assert!(
                Bundle::from_json(&t).is_err(),
                "{}",
                String::from_utf8_lossy(&t)
            );
        }
    }

    #[test]
    fn dsse_bundle_checks_statement_subject() {
        let k = key();
        let d = Digest::of_bytes(DigestAlgorithm::Sha256, b"blob");
        let env = Statement::new("https://slsa.dev/provenance/v1", json!({}))
            .with_subject(Subject::new("blob", &d))
            .sign(&[&k])
            .unwrap();
        let env_json: Value = serde_json::from_slice(&env.to_json()).unwrap();
        let b = serde_json::to_vec(&json!({
            "mediaType": MEDIA_TYPE_V03,
            "verificationMaterial": {"publicKey": {"hint": "k"}, "tlogEntries": [{}]},
            "dsseEnvelope": env_json,
        }))
        .unwrap();
        let parsed = Bundle::from_json(&b).unwrap();
        let v = parsed.verify_blob(b"blob", k.public_key()).unwrap();
        assert_eq!(v.payload_type.as_deref(), Some(PAYLOAD_TYPE));
        assert_eq!(v.unchecked_tlog_entries, 1);
        let e = parsed.verify_blob(b"other", k.public_key()).unwrap_err();
        assert_eq!(e.code(), "artifact_mismatch");
    }

    #[test]
    fn legacy_cosign_bundle() {
        let k = key();
        let sig = k.sign(b"blob").unwrap();
        let b = serde_json::to_vec(&json!({"base64Signature": STANDARD.encode(sig), "cert": ""}))
            .unwrap();
        let parsed = Bundle::from_json(&b).unwrap();
        assert_eq!(parsed.format(), &BundleFormat::CosignLegacy);
        parsed.verify_blob(b"blob", k.public_key()).unwrap();
        assert!(parsed.verify_blob(b"blob!", k.public_key()).is_err());
    }

    #[test]
    fn garbage_and_size_limits() {
        for input in [&b""[..], b"[]", b"{}", b"null", b"{\"mediaType\": 3}"] {
            assert_eq!(
                Bundle::from_json(input).unwrap_err().code(),
                "invalid_sigstore_bundle"
            );
        }
        let huge = vec![b' '; MAX_BUNDLE_SIZE as usize + 1];
        assert_eq!(Bundle::from_json(&huge).unwrap_err().code(), "too_large");
    }
}
