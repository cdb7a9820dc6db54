//! Keyless Sigstore bundles: verify a blob against a bundle whose signer is
//! a Fulcio certificate identity, offline, with a given `trusted_root.json`
//! (as `cosign verify-blob --bundle B --certificate-identity I
//! --certificate-oidc-issuer O --trusted-root R` and sigstore-python's
//! `Verifier(trusted_root=…).verify_artifact(…, policy.Identity(…))` do).
//!
//! The checks are `sigstore-verify`'s (ADR-0008): the certificate chains to
//! a Fulcio CA of the trusted root valid at signing time, its SCT verifies
//! against a CT log key, the signature (message or DSSE) verifies with the
//! certificate's key and is about this artifact, the Rekor entry's
//! inclusion proof, checkpoint and signed entry timestamp verify against a
//! log key of the root, RFC 3161 timestamps verify against a TSA of the
//! root, and the identity (exact SAN) and OIDC issuer are the expected ones.
//!
//! Key-mode bundles (a public key instead of a certificate) are verified by
//! `cos_core::sigstore` alone (the signature; log entries counted, not
//! checked, like cosign's `--insecure-ignore-tlog`), or, given a trusted
//! root too, by [`KeyLogVerifier`]: the signature and each Rekor entry's
//! inclusion proof, checkpoint and signed entry timestamp against the root's
//! log keys (as `cosign verify-blob --key K --trusted-root R` does). All
//! implement [`cos_core::sigstore::BlobVerifier`], so
//! `cos_policy::distribution` accepts any of them.

use cos_core::sigstore::{BlobVerifier, VerifiedBlob};
use cos_core::{Digest, DigestAlgorithm, PublicKey};
use sigstore_verify::trust_root::TrustedRoot;
use sigstore_verify::types::DerPublicKey;
use sigstore_verify::types::{Bundle, SignatureContent};
use sigstore_verify::{PublicKeyVerificationPolicy, VerificationPolicy, Verifier};

use crate::error::{Error, Result};

/// Largest `trusted_root.json` read (the public-good root is ~7 KiB).
pub const MAX_TRUSTED_ROOT_SIZE: usize = 1024 * 1024;

/// Verifies keyless bundles for one identity and issuer against one
/// trusted root. Build it once and use it for many blobs.
///
/// ```
/// # let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/sigstore");
/// use cos_core::sigstore::BlobVerifier;
/// use cos_supplychain::sigstore::KeylessVerifier;
///
/// let root = std::fs::read(dir.join("public-good-trusted-root.json")).unwrap();
/// let verifier = KeylessVerifier::new(&root, "w.vollprecht@gmail.com", "https://github.com/login/oauth").unwrap();
/// let blob = std::fs::read(dir.join("cosign-v3-blob.txt")).unwrap();
/// let bundle = std::fs::read(dir.join("cosign-v3-blob.sigstore.json")).unwrap();
/// let ok = verifier.verify_blob(&blob, &bundle).unwrap();
/// assert_eq!(ok.identity.as_deref(), Some("w.vollprecht@gmail.com"));
/// assert!(verifier.verify_blob(b"another blob", &bundle).is_err());
/// ```
pub struct KeylessVerifier {
    verifier: Verifier,
    policy: VerificationPolicy,
    identity: String,
    issuer: String,
}

impl std::fmt::Debug for KeylessVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeylessVerifier")
            .field("identity", &self.identity)
            .field("issuer", &self.issuer)
            .finish_non_exhaustive()
    }
}

impl KeylessVerifier {
    /// A verifier trusting the CAs, logs and timestamp authorities of
    /// `trusted_root` (the JSON of a `trusted_root.json`), for signatures by
    /// `identity` (the certificate's SAN, exactly: an e-mail address or a
    /// URI such as a workflow ref) issued by `issuer` (the OIDC issuer URL).
    pub fn new(trusted_root: &[u8], identity: &str, issuer: &str) -> Result<Self> {
        if identity.is_empty() || issuer.is_empty() {
            return Err(Error::InvalidPolicy {
                reason: "the expected identity and issuer must both be given".into(),
            });
        }
        Ok(KeylessVerifier {
            verifier: root_verifier(trusted_root)?,
            policy: VerificationPolicy::new(identity, issuer),
            identity: identity.to_owned(),
            issuer: issuer.to_owned(),
        })
    }
}

impl BlobVerifier for KeylessVerifier {
    fn verify_blob(&self, artifact: &[u8], bundle: &[u8]) -> cos_core::Result<VerifiedBlob> {
        let parsed = parse_bundle(bundle)?;
        let result = self
            .verifier
            .verify(artifact, &parsed, &self.policy)
            .map_err(verification_error)?;
        // The policy demanded both; a verifier that returned without them
        // would be a bug, refused rather than trusted.
        if !result.identity_policy_checked() || !result.certificate_verified() {
            return Err(cos_core::Error::BundleNotTrusted {
                reason: "the certificate or its identity was not checked".into(),
            });
        }
        let payload_type = match &parsed.content {
            SignatureContent::DsseEnvelope(env) => Some(env.payload_type.clone()),
            _ => None,
        };
        Ok(VerifiedBlob::keyless(
            parsed.media_type().as_str(),
            Digest::of_bytes(DigestAlgorithm::Sha256, artifact),
            self.identity.clone(),
            self.issuer.clone(),
            payload_type,
        ))
    }
}

/// Parses and checks a `trusted_root.json` (size, UTF-8, schema, keys).
fn root_verifier(trusted_root: &[u8]) -> Result<Verifier> {
    if trusted_root.len() > MAX_TRUSTED_ROOT_SIZE {
        return Err(Error::Core(cos_core::Error::TooLarge {
            what: "trusted root".into(),
            limit: MAX_TRUSTED_ROOT_SIZE as u64,
        }));
    }
    let text = std::str::from_utf8(trusted_root).map_err(|e| Error::InvalidTrustedRoot {
        reason: format!("not UTF-8: {e}"),
    })?;
    let root = TrustedRoot::from_json(text).map_err(|e| Error::InvalidTrustedRoot {
        reason: e.to_string(),
    })?;
    Verifier::new(&root).map_err(|e| Error::InvalidTrustedRoot {
        reason: e.to_string(),
    })
}

/// Parses a bundle for `sigstore-verify`, within cos-core's size limit.
fn parse_bundle(bundle: &[u8]) -> cos_core::Result<Bundle> {
    let bad = |reason: String| cos_core::Error::InvalidSigstoreBundle { reason };
    if bundle.len() as u64 > cos_core::sigstore::MAX_BUNDLE_SIZE {
        return Err(cos_core::Error::TooLarge {
            what: "Sigstore bundle".into(),
            limit: cos_core::sigstore::MAX_BUNDLE_SIZE,
        });
    }
    let text = std::str::from_utf8(bundle).map_err(|e| bad(format!("not UTF-8: {e}")))?;
    Bundle::from_json(text).map_err(|e| bad(e.to_string()))
}

/// `sigstore-verify`'s refusal as cos-core's: the artifact is not the one
/// signed, or the bundle does not chain to what the root trusts.
fn verification_error(e: sigstore_verify::Error) -> cos_core::Error {
    match e {
        sigstore_verify::Error::ArtifactMismatch(reason) => {
            cos_core::Error::ArtifactMismatch { reason }
        }
        other => cos_core::Error::BundleNotTrusted {
            reason: other.to_string(),
        },
    }
}

/// Verifies key-mode bundles (signed with a managed key, e.g. `cosign
/// sign-blob --key`) *and* their transparency-log entries against a trusted
/// root, as `cosign verify-blob --key K --trusted-root R` does: the
/// signature with the key (cos-core), then, with `sigstore-verify`, each
/// Rekor entry's inclusion proof and signed checkpoint and its signed entry
/// timestamp against the root's log keys, any RFC 3161 timestamp against
/// its timestamp authorities, and the entry's consistency with the bundle
/// (same signature, same artifact digest, same key). A bundle without a log
/// entry is refused: with a root given, the signature must have been
/// logged.
///
/// ```
/// # let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/sigstore");
/// use cos_core::sigstore::BlobVerifier;
/// use cos_supplychain::sigstore::KeyLogVerifier;
///
/// let root = std::fs::read(dir.join("public-good-trusted-root.json")).unwrap();
/// let key = std::fs::read_to_string(dir.join("managed-key.pub")).unwrap();
/// let verifier = KeyLogVerifier::new(&key, &root).unwrap();
/// let blob = std::fs::read(dir.join("managed-key-artifact.txt")).unwrap();
/// let bundle = std::fs::read(dir.join("managed-key.sigstore.json")).unwrap();
/// let ok = verifier.verify_blob(&blob, &bundle).unwrap();
/// assert_eq!(ok.unchecked_tlog_entries, 0);
/// // A bundle made by `cos sign-blob` has no log entry: refused here.
/// let own = cos_core::PrivateKey::generate(cos_core::KeyAlgorithm::EcdsaP256).unwrap();
/// let unlogged = cos_core::sigstore::sign_blob(b"x", &own).unwrap();
/// let v = KeyLogVerifier::new(&own.public_key().to_pem(), &root).unwrap();
/// assert!(v.verify_blob(b"x", &unlogged).is_err());
/// ```
pub struct KeyLogVerifier {
    verifier: Verifier,
    key: PublicKey,
    policy: PublicKeyVerificationPolicy,
}

impl std::fmt::Debug for KeyLogVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyLogVerifier")
            .field("key_id", &cos_core::Verifier::key_id(&self.key))
            .finish_non_exhaustive()
    }
}

impl KeyLogVerifier {
    /// A verifier for signatures by `public_key_pem` (SPKI PEM) whose log
    /// entries must verify against the logs of `trusted_root`.
    pub fn new(public_key_pem: &str, trusted_root: &[u8]) -> Result<Self> {
        let key = PublicKey::from_pem(public_key_pem)?;
        let der = DerPublicKey::new(key.to_der().to_vec());
        Ok(KeyLogVerifier {
            verifier: root_verifier(trusted_root)?,
            key,
            policy: PublicKeyVerificationPolicy::new(der),
        })
    }
}

impl BlobVerifier for KeyLogVerifier {
    fn verify_blob(&self, artifact: &[u8], bundle: &[u8]) -> cos_core::Result<VerifiedBlob> {
        // cos-core's key mode first: the bundle's form, the signature over
        // this artifact, the digest it names.
        let mut verified = self.key.verify_blob(artifact, bundle)?;
        let parsed = parse_bundle(bundle)?;
        if parsed.verification_material.tlog_entries.is_empty() {
            return Err(cos_core::Error::BundleNotTrusted {
                reason: "the bundle has no transparency-log entry (verify it with the key \
                         alone to accept an unlogged signature)"
                    .into(),
            });
        }
        let result = self
            .verifier
            .verify(artifact, &parsed, &self.policy)
            .map_err(verification_error)?;
        if !result.tlog_verified() {
            return Err(cos_core::Error::BundleNotTrusted {
                reason: "the transparency-log entry was not checked".into(),
            });
        }
        verified.unchecked_tlog_entries = 0;
        verified.unchecked_timestamps = 0;
        Ok(verified)
    }
}

/// [`blob_verifier`] for the trust an option object names
/// ([`cos_core::shape::SigstoreTrust`]).
pub fn verifier(trust: cos_core::shape::SigstoreTrust<'_>) -> Result<Box<dyn BlobVerifier>> {
    blob_verifier(
        trust.public_key,
        trust.trusted_root,
        trust.identity,
        trust.issuer,
    )
}

/// The verifier a caller's options ask for: a public key (SPKI PEM; key
/// mode, `cos_core::sigstore`: the signature, log entries unchecked), a
/// public key and a trusted root (key mode with the log entries checked,
/// [`KeyLogVerifier`]; `identity` and `issuer` must then be absent), or a
/// trusted root with the expected identity and issuer (keyless,
/// [`KeylessVerifier`]). Anything else is [`Error::InvalidPolicy`]. The CLI and the bindings use this,
/// so they all choose the same way.
///
/// ```
/// let key = cos_core::PrivateKey::generate(cos_core::KeyAlgorithm::EcdsaP256).unwrap();
/// let pem = key.public_key().to_pem();
/// let v = cos_supplychain::sigstore::blob_verifier(Some(&pem), None, None, None).unwrap();
/// let bundle = cos_core::sigstore::sign_blob(b"x", &key).unwrap();
/// assert!(v.verify_blob(b"x", &bundle).is_ok());
/// assert!(cos_supplychain::sigstore::blob_verifier(None, None, None, None).is_err());
/// ```
pub fn blob_verifier(
    public_key_pem: Option<&str>,
    trusted_root: Option<&[u8]>,
    identity: Option<&str>,
    issuer: Option<&str>,
) -> Result<Box<dyn BlobVerifier>> {
    match (public_key_pem, trusted_root) {
        (Some(pem), None) => Ok(Box::new(PublicKey::from_pem(pem)?)),
        (Some(_), Some(_)) if identity.is_some() || issuer.is_some() => Err(Error::InvalidPolicy {
            reason: "a certificate identity or issuer applies to keyless bundles, not to a \
                     public key"
                .into(),
        }),
        (Some(pem), Some(root)) => Ok(Box::new(KeyLogVerifier::new(pem, root)?)),
        (None, Some(root)) => Ok(Box::new(KeylessVerifier::new(
            root,
            identity.unwrap_or_default(),
            issuer.unwrap_or_default(),
        )?)),
        _ => Err(Error::InvalidPolicy {
            reason: "give a public key (with a trusted root to check its log entries), or a \
                     trusted root with identity and issuer"
                .into(),
        }),
    }
}
