//! DSSE (Dead Simple Signing Envelope) v1: sign, verify with a key threshold,
//! and the JSON envelope `{payload, payloadType, signatures[{keyid, sig}]}`.
//!
//! Signatures cover the pre-authentication encoding [`pae`] of the payload
//! type and payload, never the JSON text, so an envelope can be re-serialised
//! freely. Base64 fields are written in the standard alphabet with padding;
//! on reading, the standard or the URL-safe alphabet is accepted (as the
//! DSSE spec asks), but not a mix of both, and non-canonical trailing bits
//! are rejected so that no two texts decode to the same bytes by accident.
//!
//! ```
//! use cos_core::dsse::Envelope;
//! use cos_core::{KeyAlgorithm, PrivateKey, Verifier};
//!
//! let alice = PrivateKey::generate(KeyAlgorithm::Ed25519).unwrap();
//! let bob = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
//! let env = Envelope::sign("application/vnd.in-toto+json", b"{}", &[&alice, &bob]).unwrap();
//!
//! let json = env.to_json();
//! let parsed = Envelope::from_json(&json).unwrap();
//! let keys: [&dyn Verifier; 2] = [alice.public_key(), bob.public_key()];
//! let ok = parsed.verify(&keys, 2, Some("application/vnd.in-toto+json")).unwrap();
//! assert_eq!(ok.key_ids.len(), 2);
//! assert_eq!(parsed.verify(&keys, 2, Some("text/plain")).unwrap_err().code(), "payload_type_mismatch");
//! ```

use base64::Engine as _;
use base64::engine::DecodePaddingMode;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result, excerpt};
use crate::key::{Signer, Verifier};

/// Largest envelope cos parses (64 MiB).
pub const MAX_ENVELOPE_SIZE: u64 = 64 * 1024 * 1024;
/// Most signatures an envelope may carry.
pub const MAX_SIGNATURES: usize = 64;

const STANDARD_LENIENT: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);
const URL_SAFE_LENIENT: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Decodes DSSE base64: one alphabet (standard or URL-safe), padding optional,
/// canonical trailing bits.
pub(crate) fn decode_b64(field: &str, s: &str) -> Result<Vec<u8>> {
    let engine = if s.contains(['-', '_']) {
        &URL_SAFE_LENIENT
    } else {
        &STANDARD_LENIENT
    };
    engine.decode(s).map_err(|e| Error::InvalidEnvelope {
        reason: format!("{field} is not valid base64: {e}"),
    })
}

/// The DSSE v1 pre-authentication encoding:
/// `"DSSEv1" SP LEN(type) SP type SP LEN(body) SP body`.
///
/// ```
/// assert_eq!(
///     cos_core::dsse::pae("http://example.com/HelloWorld", b"hello world"),
///     b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
/// );
/// ```
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload_type.len() + payload.len() + 32);
    out.extend_from_slice(b"DSSEv1 ");
    out.extend_from_slice(payload_type.len().to_string().as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload_type.as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload.len().to_string().as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload);
    out
}

/// One signature in an envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    /// Unauthenticated hint naming the key (may be empty).
    pub keyid: String,
    /// The raw signature bytes.
    pub sig: Vec<u8>,
}

/// A DSSE envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    /// The payload type (a media type or URI).
    pub payload_type: String,
    /// The payload bytes.
    pub payload: Vec<u8>,
    /// Signatures over [`pae`]`(payload_type, payload)`.
    pub signatures: Vec<Signature>,
}

/// What a successful [`Envelope::verify`] established (serialized, the
/// bindings' result shape; ADR-0020).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verified {
    /// Ids of the distinct trusted keys whose signature verified, in the
    /// order the keys were given.
    pub key_ids: Vec<String>,
    /// The verified payload type.
    pub payload_type: String,
}

#[derive(Serialize, Deserialize)]
struct WireEnvelope {
    payload: String,
    #[serde(rename = "payloadType")]
    payload_type: String,
    signatures: Vec<WireSignature>,
}

#[derive(Serialize, Deserialize)]
struct WireSignature {
    #[serde(default)]
    keyid: String,
    sig: String,
}

impl Envelope {
    /// Signs `payload` with every signer (at least one).
    pub fn sign(payload_type: &str, payload: &[u8], signers: &[&dyn Signer]) -> Result<Self> {
        if signers.is_empty() {
            return Err(Error::SigningFailed {
                reason: "no signing key given".into(),
            });
        }
        let message = pae(payload_type, payload);
        let signatures = signers
            .iter()
            .map(|s| {
                Ok(Signature {
                    keyid: s.key_id().to_owned(),
                    sig: s.sign(&message)?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Envelope {
            payload_type: payload_type.to_owned(),
            payload: payload.to_vec(),
            signatures,
        })
    }

    /// Adds one more signature (e.g. a second approver countersigning).
    pub fn add_signature(&mut self, signer: &dyn Signer) -> Result<()> {
        if self.signatures.len() >= MAX_SIGNATURES {
            return Err(Error::SigningFailed {
                reason: format!("an envelope carries at most {MAX_SIGNATURES} signatures"),
            });
        }
        let sig = signer.sign(&pae(&self.payload_type, &self.payload))?;
        self.signatures.push(Signature {
            keyid: signer.key_id().to_owned(),
            sig,
        });
        Ok(())
    }

    /// Verifies that at least `threshold` distinct keys of `keys` signed the
    /// envelope, and, if given, that the payload type is `expected_type`.
    ///
    /// A signature's `keyid` is only a hint: it decides which keys are tried
    /// first, but a signature is checked against every trusted key, so an
    /// envelope whose keyids differ from ours (e.g. TUF-style ids) still
    /// verifies. Each key counts once, however many of its signatures verify.
    pub fn verify(
        &self,
        keys: &[&dyn Verifier],
        threshold: usize,
        expected_type: Option<&str>,
    ) -> Result<Verified> {
        let mut distinct: Vec<&dyn Verifier> = Vec::with_capacity(keys.len());
        for k in keys {
            if !distinct.iter().any(|d| d.key_id() == k.key_id()) {
                distinct.push(*k);
            }
        }
        if threshold == 0 || threshold > distinct.len() {
            return Err(Error::InvalidThreshold {
                threshold,
                keys: distinct.len(),
            });
        }
        if let Some(expected) = expected_type
            && expected != self.payload_type
        {
            return Err(Error::PayloadTypeMismatch {
                expected: expected.to_owned(),
                found: excerpt(&self.payload_type),
            });
        }
        if self.signatures.len() > MAX_SIGNATURES {
            return Err(Error::InvalidEnvelope {
                reason: format!("more than {MAX_SIGNATURES} signatures"),
            });
        }
        let message = pae(&self.payload_type, &self.payload);
        let mut key_ids = Vec::new();
        for key in &distinct {
            let hinted = self.signatures.iter().filter(|s| s.keyid == key.key_id());
            let others = self.signatures.iter().filter(|s| s.keyid != key.key_id());
            if hinted
                .chain(others)
                .any(|s| key.verify(&message, &s.sig).is_ok())
            {
                key_ids.push(key.key_id().to_owned());
            }
        }
        if key_ids.len() < threshold {
            return Err(Error::ThresholdNotMet {
                verified: key_ids.len(),
                threshold,
                signatures: self.signatures.len(),
                keys: distinct.len(),
            });
        }
        Ok(Verified {
            key_ids,
            payload_type: self.payload_type.clone(),
        })
    }

    /// Parses the JSON envelope (at most [`MAX_ENVELOPE_SIZE`] bytes and
    /// [`MAX_SIGNATURES`] signatures).
    pub fn from_json(json: &[u8]) -> Result<Self> {
        if json.len() as u64 > MAX_ENVELOPE_SIZE {
            return Err(Error::TooLarge {
                what: "DSSE envelope".into(),
                limit: MAX_ENVELOPE_SIZE,
            });
        }
        let wire: WireEnvelope =
            serde_json::from_slice(json).map_err(|e| Error::InvalidEnvelope {
                reason: e.to_string(),
            })?;
        if wire.signatures.len() > MAX_SIGNATURES {
            return Err(Error::InvalidEnvelope {
                reason: format!(
                    "{} signatures, at most {MAX_SIGNATURES} allowed",
                    wire.signatures.len()
                ),
            });
        }
        let payload = decode_b64("payload", &wire.payload)?;
        let signatures = wire
            .signatures
            .into_iter()
            .enumerate()
            .map(|(i, s)| {
                Ok(Signature {
                    sig: decode_b64(&format!("signatures[{i}].sig"), &s.sig)?,
                    keyid: s.keyid,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Envelope {
            payload_type: wire.payload_type,
            payload,
            signatures,
        })
    }

    /// The JSON envelope, compact, fields in a fixed order, standard base64.
    pub fn to_json(&self) -> Vec<u8> {
        let wire = WireEnvelope {
            payload: STANDARD.encode(&self.payload),
            payload_type: self.payload_type.clone(),
            signatures: self
                .signatures
                .iter()
                .map(|s| WireSignature {
                    keyid: s.keyid.clone(),
                    sig: STANDARD.encode(&s.sig),
                })
                .collect(),
        };
        // Serialising plain strings into a Vec cannot fail.
        serde_json::to_vec(&wire).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key::{KeyAlgorithm, PrivateKey};
    use proptest::prelude::*;

    #[test]
    fn pae_spec_vector() {
        assert_eq!(
            pae("http://example.com/HelloWorld", b"hello world"),
            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world".to_vec()
        );
        assert_eq!(pae("", b""), b"DSSEv1 0  0 ".to_vec());
        // Lengths are bytes, not characters.
        assert_eq!(
            pae("é", "ü".as_bytes()),
            "DSSEv1 2 é 2 ü".as_bytes().to_vec()
        );
    }

    fn keys() -> Vec<PrivateKey> {
        vec![
            PrivateKey::generate(KeyAlgorithm::Ed25519).unwrap(),
            PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap(),
            PrivateKey::generate(KeyAlgorithm::Ed25519).unwrap(),
        ]
    }

    #[test]
    fn thresholds() {
        let k = keys();
        let env = Envelope::sign("t", b"p", &[&k[0], &k[1]]).unwrap();
        let all: Vec<&dyn Verifier> = k.iter().map(|x| x.public_key() as &dyn Verifier).collect();
        assert_eq!(env.verify(&all, 2, None).unwrap().key_ids.len(), 2);
        let e = env.verify(&all, 3, None).unwrap_err();
        assert!(
            matches!(
                e,
                Error::ThresholdNotMet {
                    verified: 2,
                    threshold: 3,
                    ..
                }
            ),
            "{e}"
        );
        assert_eq!(
            env.verify(&all, 0, None).unwrap_err().code(),
            "invalid_threshold"
        );
        assert_eq!(
            env.verify(&all, 4, None).unwrap_err().code(),
            "invalid_threshold"
        );
        // The same key twice, or signed twice, counts once.
        let dup: Vec<&dyn Verifier> = vec![k[0].public_key(), k[0].public_key()];
        assert_eq!(
            env.verify(&dup, 2, None).unwrap_err().code(),
            "invalid_threshold"
        );
        let twice = Envelope::sign("t", b"p", &[&k[0], &k[0]]).unwrap();
        assert_eq!(
            twice.verify(&all, 2, None).unwrap_err().code(),
            "threshold_not_met"
        );
        // keyid is only a hint: a wrong hint still verifies, none verifies none.
        let mut renamed = env.clone();
        renamed.signatures[0].keyid = "someone-else".into();
        renamed.signatures[1].keyid = String::new();
        assert_eq!(renamed.verify(&all, 2, None).unwrap().key_ids.len(), 2);
        let mut empty = env.clone();
        empty.signatures.clear();
        assert_eq!(
            empty.verify(&all, 1, None).unwrap_err().code(),
            "threshold_not_met"
        );
    }

    #[test]
    fn every_single_byte_change_is_rejected() {
        for key in keys().iter().take(2) {
            let env = Envelope::sign("application/x", b"the release is good", &[key]).unwrap();
            let trusted: [&dyn Verifier; 1] = [key.public_key()];
            for i in 0..env.payload.len() {
                for flip in [0x01u8, 0x80, 0xff] {
                    let mut t = env.clone();
                    t.payload[i] ^= flip;
                    assert!(t.verify(&trusted, 1, None).is_err(), "payload byte {i}");
                }
            }
            for i in 0..env.signatures[0].sig.len() {
                for flip in [0x01u8, 0x80, 0xff] {
                    let mut t = env.clone();
                    t.signatures[0].sig[i] ^= flip;
                    assert!(t.verify(&trusted, 1, None).is_err(), "sig byte {i}");
                }
            }
            let mut t = env.clone();
            t.payload_type.push('x');
            assert!(t.verify(&trusted, 1, None).is_err());
        }
    }

    // Changing any byte of the JSON text either breaks parsing or
    // verification, or leaves the decoded envelope identical (a change in a
    // keyid hint, or an equivalent base64 alphabet).
    #[test]
    fn json_text_tampering() {
        let key = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
        let env = Envelope::sign("application/vnd.in-toto+json", b"{\"a\":1}", &[&key]).unwrap();
        let json = env.to_json();
        let trusted: [&dyn Verifier; 1] = [key.public_key()];
        for i in 0..json.len() {
            for b in [b'A', b'/', b'-', b'=', b'"', b'0'] {
                if json[i] == b {
                    continue;
                }
                let mut t = json.clone();
                t[i] = b;
                if let Ok(parsed) = Envelope::from_json(&t)
                    && parsed.verify(&trusted, 1, None).is_ok()
                {
                    assert_eq!(parsed.payload, env.payload, "byte {i}");
                    assert_eq!(parsed.payload_type, env.payload_type, "byte {i}");
                    assert_eq!(parsed.signatures[0].sig, env.signatures[0].sig, "byte {i}");
                }
            }
        }
    }

    #[test]
    fn base64_alphabets() {
        assert_eq!(decode_b64("f", "+/8=").unwrap(), vec![0xfb, 0xff]);
        assert_eq!(decode_b64("f", "-_8").unwrap(), vec![0xfb, 0xff]);
        assert!(decode_b64("f", "+_8=").is_err());
        assert!(decode_b64("f", "-/8=").is_err());
        // Non-canonical trailing bits.
        assert!(decode_b64("f", "+/9=").is_err());
    }

    #[test]
    fn malformed_envelopes() {
        for bad in [
            &b""[..],
            b"{}",
            b"[]",
            br#"{"payload":"!!","payloadType":"t","signatures":[]}"#,
            br#"{"payload":"","payloadType":"t","signatures":[{"sig":"%%"}]}"#,
            br#"{"payload":"","payloadType":1,"signatures":[]}"#,
        ] {
            let e = Envelope::from_json(bad).unwrap_err();
            assert_eq!(
                e.code(),
                "invalid_envelope",
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
        let many = format!(
            r#"{{"payload":"","payloadType":"t","signatures":[{}]}}"#,
            vec![r#"{"sig":""}"#; MAX_SIGNATURES + 1].join(",")
        );
        assert_eq!(
            Envelope::from_json(many.as_bytes()).unwrap_err().code(),
            "invalid_envelope"
        );
    }

    proptest! {
        #[test]
        fn roundtrip(payload in proptest::collection::vec(any::<u8>(), 0..256), ptype in ".{0,20}") {
            let key = PrivateKey::generate(KeyAlgorithm::Ed25519).unwrap();
            let env = Envelope::sign(&ptype, &payload, &[&key]).unwrap();
            let back = Envelope::from_json(&env.to_json()).unwrap();
            prop_assert_eq!(&back, &env);
            let trusted: [&dyn Verifier; 1] = [key.public_key()];
            prop_assert!(back.verify(&trusted, 1, Some(&ptype)).is_ok());
        }

        #[test]
        fn parse_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = Envelope::from_json(&bytes);
        }
    }
}
