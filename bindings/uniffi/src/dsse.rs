//! DSSE envelopes: [`cos_core::dsse`] and [`cos_core::PrivateKey`] mapped
//! to uniffi functions, records and objects.

use std::sync::Arc;

use crate::error::Result;

/// What a verified DSSE envelope carries.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct VerifiedPayload {
    /// The payload bytes (authenticated).
    pub payload: Vec<u8>,
    /// The payload type (authenticated).
    pub payload_type: String,
    /// Ids (`sha256` of the SPKI DER, hex) of the keys whose signature
    /// verified, in the order the keys were given.
    pub key_ids: Vec<String>,
}

/// Verifies a DSSE envelope (JSON text) against trusted public keys (SPKI
/// PEM texts): at least `threshold` distinct keys must have signed, and the
/// payload type must be `payload_type` when given.
///
/// Errors: `CosError.Verification` when a signature, the threshold or the
/// payload type does not hold (including a malformed envelope);
/// `CosError.Core` for an unusable key or threshold.
#[uniffi::export(default(threshold = 1, payload_type = None))]
pub fn dsse_verify(
    envelope_json: String,
    public_keys_pem: Vec<String>,
    threshold: u32,
    payload_type: Option<String>,
) -> Result<VerifiedPayload> {
    let keys = public_keys_pem
        .iter()
        .map(|p| cos_core::PublicKey::from_pem(p))
        .collect::<Result<Vec<_>, _>>()?;
    let verifiers: Vec<&dyn cos_core::Verifier> =
        keys.iter().map(|k| k as &dyn cos_core::Verifier).collect();
    let env = cos_core::dsse::Envelope::from_json(envelope_json.as_bytes())?;
    let verified = env.verify(&verifiers, threshold as usize, payload_type.as_deref())?;
    Ok(VerifiedPayload {
        payload: env.payload,
        payload_type: verified.payload_type,
        key_ids: verified.key_ids,
    })
}

/// Signs `payload` as a DSSE envelope (JSON text) with every key given.
#[uniffi::export]
pub fn dsse_sign(
    payload: Vec<u8>,
    payload_type: String,
    keys: Vec<Arc<SigningKey>>,
) -> Result<String> {
    let signers: Vec<&dyn cos_core::Signer> =
        keys.iter().map(|k| &k.0 as &dyn cos_core::Signer).collect();
    let env = cos_core::dsse::Envelope::sign(&payload_type, &payload, &signers)?;
    // `to_json` writes base64 and plain strings: always UTF-8.
    String::from_utf8(env.to_json()).map_err(|e| {
        cos_core::Error::InvalidEnvelope {
            reason: e.to_string(),
        }
        .into()
    })
}

/// A private signing key (Ed25519 or ECDSA P-256).
#[derive(uniffi::Object)]
pub struct SigningKey(cos_core::PrivateKey);

#[uniffi::export]
impl SigningKey {
    /// A new random key: `algorithm` is `ed25519` or `ecdsa-p256`.
    #[uniffi::constructor(default(algorithm = "ed25519"))]
    pub fn generate(algorithm: String) -> Result<Arc<Self>> {
        let alg: cos_core::KeyAlgorithm = algorithm.parse()?;
        Ok(Arc::new(SigningKey(cos_core::PrivateKey::generate(alg)?)))
    }

    /// A key from its PKCS#8 PEM text.
    #[uniffi::constructor]
    pub fn from_pem(pem: String) -> Result<Arc<Self>> {
        Ok(Arc::new(SigningKey(cos_core::PrivateKey::from_pem(&pem)?)))
    }

    /// The public key's SPKI PEM text.
    pub fn public_pem(&self) -> String {
        self.0.public_key().to_pem()
    }

    /// `sha256` of the public key's SPKI DER, hex.
    pub fn key_id(&self) -> String {
        self.0.public_key().key_id().to_owned()
    }

    /// `ed25519` or `ecdsa-p256`.
    pub fn algorithm(&self) -> String {
        self.0.public_key().algorithm().as_str().to_owned()
    }
}
