//! Signing keys: Ed25519 and ECDSA P-256, PEM files, key ids, and the
//! [`Signer`] / [`Verifier`] traits that KMS or HSM backends implement.
//!
//! Private keys are PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`, unencrypted;
//! SEC1 `EC PRIVATE KEY` is also read), public keys SubjectPublicKeyInfo PEM
//! (`-----BEGIN PUBLIC KEY-----`), as OpenSSL, Go and Python's
//! `cryptography` write them. A key id is the lowercase hex SHA-256 of the
//! public key's SPKI DER encoding.
//!
//! Ed25519 signatures are the 64-byte RFC 8032 form. Verification rejects
//! non-canonical `s` (no malleable signatures) and weak (small-order) public
//! keys are refused when a key is loaded, so a signature made for one
//! message cannot verify for another. ECDSA P-256 signatures are over SHA-256
//! of the message and DER-encoded (strict DER), as Sigstore and
//! `securesystemslib` expect; they are made and checked with `ring`
//! (ADR-0002), key files are handled by the RustCrypto crates.
//!
//! ```
//! use cos_core::{KeyAlgorithm, PrivateKey, PublicKey, Signer, Verifier};
//!
//! let key = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
//! let pem = key.public_key().to_pem();
//! let public = PublicKey::from_pem(&pem).unwrap();
//! assert_eq!(public.key_id(), key.key_id());
//!
//! let sig = key.sign(b"release 1.2.3").unwrap();
//! assert!(public.verify(b"release 1.2.3", &sig).is_ok());
//! assert!(public.verify(b"release 1.2.4", &sig).is_err());
//! ```

use std::fmt;
use std::path::Path;
use std::str::FromStr;

use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey};
use zeroize::Zeroizing;

use crate::digest::sha256;
use crate::error::{Error, Result, excerpt};
use crate::file::{Overwrite, read_limited, write_atomic};

/// Largest key file cos reads.
pub const MAX_KEY_FILE: u64 = 64 * 1024;

/// A signature algorithm supported by cos keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum KeyAlgorithm {
    /// Ed25519 (RFC 8032).
    Ed25519,
    /// ECDSA on NIST P-256 with SHA-256, DER-encoded signatures.
    EcdsaP256,
}

impl KeyAlgorithm {
    /// The name used on the command line: `ed25519` or `ecdsa-p256`.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyAlgorithm::Ed25519 => "ed25519",
            KeyAlgorithm::EcdsaP256 => "ecdsa-p256",
        }
    }
}

impl fmt::Display for KeyAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for KeyAlgorithm {
    type Err = Error;
    /// Accepts `ed25519`, `ecdsa-p256` and the aliases `ecdsa-sha2-nistp256`,
    /// `p256`, `es256` (case-insensitive).
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "ed25519" => Ok(KeyAlgorithm::Ed25519),
            "ecdsa-p256" | "ecdsa-sha2-nistp256" | "p256" | "p-256" | "es256" => {
                Ok(KeyAlgorithm::EcdsaP256)
            }
            _ => Err(Error::UnsupportedAlgorithm {
                name: excerpt(s),
                supported: "ed25519, ecdsa-p256",
            }),
        }
    }
}

/// Something that signs messages: a local [`PrivateKey`], or a KMS / HSM
/// backend implemented outside cos.
pub trait Signer: Send + Sync {
    /// The id of the public key that verifies this signer's signatures.
    fn key_id(&self) -> &str;
    /// The signature algorithm.
    fn algorithm(&self) -> KeyAlgorithm;
    /// Signs `message` (the whole message: ECDSA hashes it with SHA-256).
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>>;
}

/// Something that checks signatures: a [`PublicKey`] or an external backend.
pub trait Verifier: Send + Sync {
    /// The key id that signatures made by the matching signer carry.
    fn key_id(&self) -> &str;
    /// Checks `signature` over `message`; [`Error::SignatureInvalid`] if it
    /// does not verify.
    fn verify(&self, message: &[u8], signature: &[u8]) -> Result<()>;
}

fn key_err(reason: impl Into<String>) -> Error {
    Error::InvalidKey {
        reason: reason.into(),
    }
}

fn random_32() -> Result<Zeroizing<[u8; 32]>> {
    let mut seed = Zeroizing::new([0u8; 32]);
    getrandom::fill(seed.as_mut()).map_err(|e| key_err(format!("no system randomness: {e}")))?;
    Ok(seed)
}

/// A public key with its SPKI encoding and key id.
#[derive(Clone)]
pub struct PublicKey {
    inner: PublicInner,
    spki_der: Vec<u8>,
    key_id: String,
    /// 32-byte Ed25519 key or 65-byte uncompressed P-256 point.
    raw: Vec<u8>,
}

#[derive(Clone)]
enum PublicInner {
    Ed25519(ed25519_dalek::VerifyingKey),
    EcdsaP256(p256::ecdsa::VerifyingKey),
}

impl PublicKey {
    fn from_inner(inner: PublicInner) -> Result<Self> {
        if let PublicInner::Ed25519(k) = &inner
            && k.is_weak()
        {
            return Err(key_err(
                "weak (small-order) Ed25519 public key: any signature would verify",
            ));
        }
        let doc = match &inner {
            PublicInner::Ed25519(k) => k.to_public_key_der(),
            PublicInner::EcdsaP256(k) => k.to_public_key_der(),
        }
        .map_err(|e| key_err(format!("cannot encode public key: {e}")))?;
        let spki_der = doc.as_bytes().to_vec();
        let key_id = hex::encode(sha256(&spki_der));
        let raw = match &inner {
            PublicInner::Ed25519(k) => k.to_bytes().to_vec(),
            PublicInner::EcdsaP256(k) => k.to_sec1_point(false).as_bytes().to_vec(),
        };
        Ok(PublicKey {
            inner,
            spki_der,
            key_id,
            raw,
        })
    }

    /// Parses a DER SubjectPublicKeyInfo (Ed25519 or P-256).
    pub fn from_der(der: &[u8]) -> Result<Self> {
        if let Ok(k) = ed25519_dalek::VerifyingKey::from_public_key_der(der) {
            return Self::from_inner(PublicInner::Ed25519(k));
        }
        if let Ok(k) = p256::ecdsa::VerifyingKey::from_public_key_der(der) {
            return Self::from_inner(PublicInner::EcdsaP256(k));
        }
        Err(key_err(
            "not an Ed25519 or ECDSA P-256 SubjectPublicKeyInfo (other key types are not supported)",
        ))
    }

    /// Parses a `-----BEGIN PUBLIC KEY-----` PEM (SubjectPublicKeyInfo).
    pub fn from_pem(pem: &str) -> Result<Self> {
        if !pem.contains("-----BEGIN PUBLIC KEY-----") {
            let hint = if pem.contains("PRIVATE KEY-----") {
                "this is a private key; give the public key (.pub)"
            } else {
                "expected a -----BEGIN PUBLIC KEY----- PEM block"
            };
            return Err(key_err(hint));
        }
        if let Ok(k) = ed25519_dalek::VerifyingKey::from_public_key_pem(pem.trim()) {
            return Self::from_inner(PublicInner::Ed25519(k));
        }
        if let Ok(k) = p256::ecdsa::VerifyingKey::from_public_key_pem(pem.trim()) {
            return Self::from_inner(PublicInner::EcdsaP256(k));
        }
        Err(key_err(
            "PEM is not an Ed25519 or ECDSA P-256 public key (other key types are not supported)",
        ))
    }

    /// Reads a public key PEM file.
    pub fn load(path: impl AsRef<Path>) -> Result<Self> {
        let bytes = read_limited(path.as_ref(), MAX_KEY_FILE)?;
        let text = std::str::from_utf8(&bytes).map_err(|_| {
            key_err(format!(
                "{} is not a PEM text file",
                path.as_ref().display()
            ))
        })?;
        Self::from_pem(text)
    }

    /// Writes the public key as PEM (atomically, replacing an existing file).
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        write_atomic(
            path,
            self.to_pem().as_bytes(),
            Some(0o644),
            Overwrite::Replace,
        )
    }

    /// The SubjectPublicKeyInfo PEM.
    pub fn to_pem(&self) -> String {
        let b64 =
            base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &self.spki_der);
        let mut out = String::from("-----BEGIN PUBLIC KEY-----\n");
        for chunk in b64.as_bytes().chunks(64) {
            out.push_str(&String::from_utf8_lossy(chunk));
            out.push('\n');
        }
        out.push_str("-----END PUBLIC KEY-----\n");
        out
    }

    /// The SubjectPublicKeyInfo DER.
    pub fn to_der(&self) -> &[u8] {
        &self.spki_der
    }

    /// Lowercase hex SHA-256 of the SPKI DER.
    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    /// The algorithm.
    pub fn algorithm(&self) -> KeyAlgorithm {
        match self.inner {
            PublicInner::Ed25519(_) => KeyAlgorithm::Ed25519,
            PublicInner::EcdsaP256(_) => KeyAlgorithm::EcdsaP256,
        }
    }

    /// The raw key bytes: 32 bytes for Ed25519, the uncompressed SEC1 point
    /// (65 bytes) for P-256.
    pub fn raw_bytes(&self) -> &[u8] {
        &self.raw
    }
}

impl PartialEq for PublicKey {
    fn eq(&self, other: &Self) -> bool {
        self.spki_der == other.spki_der
    }
}
impl Eq for PublicKey {}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({}, {})", self.algorithm(), self.key_id)
    }
}

impl Verifier for PublicKey {
    fn key_id(&self) -> &str {
        &self.key_id
    }

    fn verify(&self, message: &[u8], signature: &[u8]) -> Result<()> {
        let bad = || Error::SignatureInvalid {
            key_id: self.key_id.clone(),
        };
        match &self.inner {
            PublicInner::Ed25519(k) => {
                use ed25519_dalek::Verifier as _;
                // Cofactorless RFC 8032 check with canonical `s`; weak keys
                // were refused at load. (verify_strict's extra small-order
                // check on R costs a point decompression and adds nothing
                // for cofactorless verification.)
                let sig = ed25519_dalek::Signature::from_slice(signature).map_err(|_| bad())?;
                k.verify(message, &sig).map_err(|_| bad())
            }
            PublicInner::EcdsaP256(_) => {
                let key = ring::signature::UnparsedPublicKey::new(
                    &ring::signature::ECDSA_P256_SHA256_ASN1,
                    &self.raw,
                );
                key.verify(message, signature).map_err(|_| bad())
            }
        }
    }
}

/// Converts a DER ECDSA P-256 signature to the fixed 64-byte `r || s` form
/// that JWS (ES256) uses.
pub fn ecdsa_p256_der_to_fixed(der: &[u8]) -> Result<[u8; 64]> {
    let sig = p256::ecdsa::Signature::from_der(der)
        .map_err(|_| key_err("not a DER ECDSA P-256 signature"))?;
    let mut out = [0u8; 64];
    out.copy_from_slice(&sig.to_bytes());
    Ok(out)
}

/// Converts a fixed 64-byte `r || s` ECDSA P-256 signature (JWS ES256) to DER.
pub fn ecdsa_p256_fixed_to_der(fixed: &[u8]) -> Result<Vec<u8>> {
    let sig = p256::ecdsa::Signature::from_slice(fixed)
        .map_err(|_| key_err("not a 64-byte r||s ECDSA P-256 signature"))?;
    Ok(sig.to_der().as_bytes().to_vec())
}

/// A private signing key held in memory (zeroised on drop).
pub struct PrivateKey {
    inner: PrivateInner,
    public: PublicKey,
}

enum PrivateInner {
    Ed25519(ed25519_dalek::SigningKey),
    /// The RustCrypto key encodes PEM; the ring key pair signs.
    EcdsaP256(p256::ecdsa::SigningKey, ring::signature::EcdsaKeyPair),
}

fn ecdsa_inner(key: p256::ecdsa::SigningKey) -> Result<PrivateInner> {
    let scalar = Zeroizing::new(key.to_bytes());
    let point = key.verifying_key().to_sec1_point(false);
    let pair = ring::signature::EcdsaKeyPair::from_private_key_and_public_key(
        &ring::signature::ECDSA_P256_SHA256_ASN1_SIGNING,
        scalar.as_slice(),
        point.as_bytes(),
        &ring::rand::SystemRandom::new(),
    )
    .map_err(|e| key_err(format!("P-256 key rejected: {e}")))?;
    Ok(PrivateInner::EcdsaP256(key, pair))
}

impl PrivateKey {
    fn from_inner(inner: PrivateInner) -> Result<Self> {
        let public = PublicKey::from_inner(match &inner {
            PrivateInner::Ed25519(k) => PublicInner::Ed25519(k.verifying_key()),
            PrivateInner::EcdsaP256(k, _) => PublicInner::EcdsaP256(*k.verifying_key()),
        })?;
        Ok(PrivateKey { inner, public })
    }

    /// Generates a new key from the operating system's random source.
    pub fn generate(algorithm: KeyAlgorithm) -> Result<Self> {
        match algorithm {
            KeyAlgorithm::Ed25519 => {
                let seed = random_32()?;
                Self::from_inner(PrivateInner::Ed25519(
                    ed25519_dalek::SigningKey::from_bytes(&seed),
                ))
            }
            KeyAlgorithm::EcdsaP256 => {
                // A random 32-byte string is a valid scalar except with
                // probability ~2^-32; draw again in that case.
                for _ in 0..16 {
                    let seed = random_32()?;
                    if let Ok(k) = p256::ecdsa::SigningKey::from_slice(seed.as_ref()) {
                        return Self::from_inner(ecdsa_inner(k)?);
                    }
                }
                Err(key_err("could not draw a valid P-256 scalar"))
            }
        }
    }

    /// Parses an unencrypted PKCS#8 DER private key.
    pub fn from_der(der: &[u8]) -> Result<Self> {
        if let Ok(k) = ed25519_dalek::SigningKey::from_pkcs8_der(der) {
            return Self::from_inner(PrivateInner::Ed25519(k));
        }
        if let Ok(k) = p256::ecdsa::SigningKey::from_pkcs8_der(der) {
            return Self::from_inner(ecdsa_inner(k)?);
        }
        Err(key_err(
            "not an unencrypted Ed25519 or ECDSA P-256 PKCS#8 private key",
        ))
    }

    /// Parses a `-----BEGIN PRIVATE KEY-----` (PKCS#8) or
    /// `-----BEGIN EC PRIVATE KEY-----` (SEC1, P-256) PEM.
    pub fn from_pem(pem: &str) -> Result<Self> {
        let pem = pem.trim();
        if pem.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----") {
            return Err(key_err(
                "encrypted private keys are not supported; decrypt it first (openssl pkcs8)",
            ));
        }
        if pem.contains("-----BEGIN EC PRIVATE KEY-----") {
            use p256::elliptic_curve::SecretKey;
            let sk = SecretKey::<p256::NistP256>::from_sec1_pem(pem)
                .map_err(|_| key_err("EC PRIVATE KEY is not a valid P-256 SEC1 key"))?;
            return Self::from_inner(ecdsa_inner(sk.into())?);
        }
        if !pem.contains("-----BEGIN PRIVATE KEY-----") {
            let hint = if pem.contains("PUBLIC KEY-----") {
                "this is a public key; give the private key"
            } else {
                "expected a -----BEGIN PRIVATE KEY----- PEM block"
            };
            return Err(key_err(hint));
        }
        if let Ok(k) = ed25519_dalek::SigningKey::from_pkcs8_pem(pem) {
            return Self::from_inner(PrivateInner::Ed25519(k));
        }
        if let Ok(k) = p256::ecdsa::SigningKey::from_pkcs8_pem(pem) {
            return Self::from_inner(ecdsa_inner(k)?);
        }
        Err(key_err(
            "PEM is not an Ed25519 or ECDSA P-256 PKCS#8 private key",
        ))
    }

    /// Reads a private key PEM file.
    pub fn load(path: impl AsRef<Path>) -> Result<Self> {
        let bytes = Zeroizing::new(read_limited(path.as_ref(), MAX_KEY_FILE)?);
        let text = std::str::from_utf8(&bytes).map_err(|_| {
            key_err(format!(
                "{} is not a PEM text file",
                path.as_ref().display()
            ))
        })?;
        Self::from_pem(text)
    }

    /// Writes the key as PKCS#8 PEM with mode 0600, atomically. Refuses to
    /// replace an existing file unless `overwrite` is [`Overwrite::Replace`].
    pub fn save(&self, path: impl AsRef<Path>, overwrite: Overwrite) -> Result<()> {
        let pem = self.to_pem()?;
        write_atomic(path, pem.as_bytes(), Some(0o600), overwrite)
    }

    /// The PKCS#8 PEM (version 1, as OpenSSL writes it).
    pub fn to_pem(&self) -> Result<Zeroizing<String>> {
        let enc =
            |e: ed25519_dalek::pkcs8::Error| key_err(format!("cannot encode private key: {e}"));
        match &self.inner {
            PrivateInner::Ed25519(k) => {
                let kp = ed25519_dalek::pkcs8::KeypairBytes {
                    secret_key: k.to_bytes(),
                    public_key: None,
                };
                kp.to_pkcs8_pem(LineEnding::LF).map_err(enc)
            }
            PrivateInner::EcdsaP256(k, _) => k
                .to_pkcs8_pem(LineEnding::LF)
                .map_err(|e| key_err(format!("cannot encode private key: {e}"))),
        }
    }

    /// The matching public key.
    pub fn public_key(&self) -> &PublicKey {
        &self.public
    }
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "PrivateKey({}, {}, <secret>)",
            self.algorithm(),
            self.public.key_id
        )
    }
}

impl Signer for PrivateKey {
    fn key_id(&self) -> &str {
        self.public.key_id()
    }

    fn algorithm(&self) -> KeyAlgorithm {
        self.public.algorithm()
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>> {
        match &self.inner {
            PrivateInner::Ed25519(k) => {
                use ed25519_dalek::Signer as _;
                Ok(k.sign(message).to_bytes().to_vec())
            }
            PrivateInner::EcdsaP256(_, pair) => {
                let sig = pair
                    .sign(&ring::rand::SystemRandom::new(), message)
                    .map_err(|e| Error::SigningFailed {
                        reason: format!("ECDSA P-256: {e}"),
                    })?;
                Ok(sig.as_ref().to_vec())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 8032 section 7.1, test 1.
    #[test]
    fn ed25519_rfc8032_vector() {
        let sk = hex::decode("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
            .unwrap();
        let k = ed25519_dalek::SigningKey::from_bytes(&sk.try_into().unwrap());
        let key = PrivateKey::from_inner(PrivateInner::Ed25519(k)).unwrap();
        assert_eq!(
            hex::encode(key.public_key().raw_bytes()),
            "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
        );
        let sig = key.sign(b"").unwrap();
        assert_eq!(
            hex::encode(&sig),
            "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
        );
    }

    #[test]
    fn pem_roundtrip_and_key_ids() {
        for alg in [KeyAlgorithm::Ed25519, KeyAlgorithm::EcdsaP256] {
            let k = PrivateKey::generate(alg).unwrap();
            let pem = k.to_pem().unwrap();
            assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----\n"));
            let k2 = PrivateKey::from_pem(&pem).unwrap();
            assert_eq!(k2.public_key(), k.public_key());
            let p = PublicKey::from_pem(&k.public_key().to_pem()).unwrap();
            assert_eq!(p.key_id(), hex::encode(sha256(p.to_der())));
            assert_eq!(p.key_id().len(), 64);
            assert_eq!(PublicKey::from_der(p.to_der()).unwrap(), p);
            let msg = b"payload";
            let sig = k.sign(msg).unwrap();
            p.verify(msg, &sig).unwrap();
            assert_eq!(
                p.verify(b"other", &sig).unwrap_err().code(),
                "signature_invalid"
            );
            assert!(p.verify(msg, &[]).is_err());
        }
    }

    // A key written by OpenSSL (`openssl genpkey -algorithm ed25519`) and a
    // PKCS#8 v2 key with the public key embedded both load.
    #[test]
    fn reads_foreign_encodings() {
        let openssl = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEINTuctv5E1hK1bbY8fdp+K06/nwoy/HU++CXqI9EdVhC\n-----END PRIVATE KEY-----\n";
        let k = PrivateKey::from_pem(openssl).unwrap();
        assert_eq!(k.algorithm(), KeyAlgorithm::Ed25519);
        // RFC 8410 section 10.3 example with the public key attached (v2).
        let v2 = "-----BEGIN PRIVATE KEY-----\nMHICAQEwBQYDK2VwBCIEINTuctv5E1hK1bbY8fdp+K06/nwoy/HU++CXqI9EdVhC\noB8wHQYKKoZIhvcNAQkJFDEPDA1DdXJkbGUgQ2hhaXJzgSEAGb9ECWmEzf6FQbrB\nZ9w7lshQhqowtrbLDFw4rXAxZuE=\n-----END PRIVATE KEY-----\n";
        let k2 = PrivateKey::from_pem(v2).unwrap();
        assert_eq!(k2.public_key(), k.public_key());
        // SEC1 EC PRIVATE KEY (`openssl ecparam -genkey -name prime256v1`).
        let ec = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
        let PrivateInner::EcdsaP256(inner, _) = &ec.inner else {
            unreachable!()
        };
        let sec1 = p256::elliptic_curve::SecretKey::from(inner)
            .to_sec1_pem(LineEnding::LF)
            .unwrap();
        assert_eq!(
            PrivateKey::from_pem(&sec1).unwrap().public_key(),
            ec.public_key()
        );
    }

    #[test]
    fn clear_errors() {
        let pubpem = PrivateKey::generate(KeyAlgorithm::Ed25519)
            .unwrap()
            .public_key()
            .to_pem();
        assert!(
            PrivateKey::from_pem(&pubpem)
                .unwrap_err()
                .to_string()
                .contains("public key")
        );
        let privpem = PrivateKey::generate(KeyAlgorithm::Ed25519)
            .unwrap()
            .to_pem()
            .unwrap();
        assert!(
            PublicKey::from_pem(&privpem)
                .unwrap_err()
                .to_string()
                .contains("private key")
        );
        assert!(
            PublicKey::from_pem("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")
                .is_err()
        );
        assert!(
            PrivateKey::from_pem("-----BEGIN ENCRYPTED PRIVATE KEY-----")
                .unwrap_err()
                .to_string()
                .contains("encrypted")
        );
        assert!("rsa".parse::<KeyAlgorithm>().is_err());
        assert_eq!(
            "ES256".parse::<KeyAlgorithm>().unwrap(),
            KeyAlgorithm::EcdsaP256
        );
    }

    // A weak (small-order) Ed25519 public key would accept forged signatures:
    // it is refused when loaded.
    #[test]
    fn weak_ed25519_key_refused() {
        let mut spki = hex::decode("302a300506032b6570032100").unwrap();
        let mut identity = [0u8; 32];
        identity[0] = 1;
        spki.extend_from_slice(&identity);
        let e = PublicKey::from_der(&spki).unwrap_err();
        assert!(e.to_string().contains("weak"), "{e}");
    }

    // Ed25519 malleability: (R, s + L) must not verify where (R, s) does.
    #[test]
    fn ed25519_non_canonical_s_rejected() {
        const L: [u8; 32] = [
            0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9,
            0xde, 0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
        ];
        let k = PrivateKey::generate(KeyAlgorithm::Ed25519).unwrap();
        let mut sig = k.sign(b"m").unwrap();
        k.public_key().verify(b"m", &sig).unwrap();
        let mut carry = 0u16;
        for i in 0..32 {
            let v = u16::from(sig[32 + i]) + u16::from(L[i]) + carry;
            sig[32 + i] = v as u8;
            carry = v >> 8;
        }
        assert_eq!(carry, 0);
        assert!(k.public_key().verify(b"m", &sig).is_err());
    }

    // Our ECDSA signatures verify with the RustCrypto implementation too,
    // and theirs with ours: the two backends agree on the wire format.
    #[test]
    fn ecdsa_backends_agree() {
        use p256::ecdsa::signature::{Signer as _, Verifier as _};
        let k = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
        let PrivateInner::EcdsaP256(rc, _) = &k.inner else {
            unreachable!()
        };
        let ours = k.sign(b"msg").unwrap();
        let parsed = p256::ecdsa::Signature::from_der(&ours).unwrap();
        rc.verifying_key().verify(b"msg", &parsed).unwrap();
        let theirs: p256::ecdsa::Signature = rc.sign(b"msg");
        k.public_key()
            .verify(b"msg", theirs.to_der().as_bytes())
            .unwrap();
        // Raw r||s (not DER) is refused.
        assert!(k.public_key().verify(b"msg", &theirs.to_bytes()).is_err());
    }

    #[test]
    fn fixed_and_der_forms() {
        let k = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
        let der = k.sign(b"m").unwrap();
        let fixed = ecdsa_p256_der_to_fixed(&der).unwrap();
        assert_eq!(ecdsa_p256_fixed_to_der(&fixed).unwrap(), der);
        assert!(ecdsa_p256_der_to_fixed(&fixed).is_err());
        assert!(ecdsa_p256_fixed_to_der(&der).is_err() || der.len() == 64);
        assert!(ecdsa_p256_fixed_to_der(&[0u8; 64]).is_err());
    }

    #[test]
    fn save_and_load() {
        let dir = tempfile::tempdir().unwrap();
        let k = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
        k.save(dir.path().join("k.key"), Overwrite::Refuse).unwrap();
        k.public_key().save(dir.path().join("k.pub")).unwrap();
        assert!(k.save(dir.path().join("k.key"), Overwrite::Refuse).is_err());
        let loaded = PrivateKey::load(dir.path().join("k.key")).unwrap();
        assert_eq!(
            loaded.public_key(),
            &PublicKey::load(dir.path().join("k.pub")).unwrap()
        );
    }
}
