// cos patch 21: OPA's crypto.* builtins (v1/topdown/crypto.go in OPA 1.22.2)
// and the key handling io.jwt.* shares with them.
//
// Semantics follow OPA; where this engine cannot give OPA's answer (a key
// size, curve or hash combination it does not implement) the builtin fails
// with `LimitError::Unsupported`, a hard error even without strict builtin
// errors, rather than answer differently.
#![allow(
    clippy::as_conversions,
    clippy::unused_trait_names,
    clippy::pattern_type_mismatch
)]

use crate::ast::{Expr, Ref};
use crate::builtins;
use crate::builtins::utils::{ensure_args_count, ensure_string};
use crate::lexer::Span;
use crate::utils::limits::LimitError;
use crate::value::Value;
use crate::*;

use anyhow::{anyhow, bail, Result};
use base64::Engine as _;
use num_bigint::BigUint;

pub fn register(m: &mut builtins::BuiltinsMap<&'static str, builtins::BuiltinFcn>) {
    m.insert("crypto.md5", (crypto_md5, 1));
    m.insert("crypto.sha1", (crypto_sha1, 1));
    m.insert("crypto.sha256", (crypto_sha256, 1));
    m.insert("crypto.hmac.md5", (hmac_md5, 2));
    m.insert("crypto.hmac.sha1", (hmac_sha1, 2));
    m.insert("crypto.hmac.sha256", (hmac_sha256, 2));
    m.insert("crypto.hmac.sha512", (hmac_sha512, 2));
    m.insert("crypto.hmac.equal", (hmac_equal, 2));
}

// ------------------------------------------------------------ hashes, HMAC

pub(super) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}

fn md5(data: &[u8]) -> Vec<u8> {
    use md5::Digest;
    md5::Md5::digest(data).to_vec()
}

/// HMAC (RFC 2104) over MD5, which ring does not have.
fn hmac_md5_bytes(key: &[u8], data: &[u8]) -> Vec<u8> {
    const BLOCK: usize = 64;
    let mut k = if key.len() > BLOCK {
        md5(key)
    } else {
        key.to_vec()
    };
    k.resize(BLOCK, 0);
    let mut inner: Vec<u8> = k.iter().map(|b| b ^ 0x36).collect();
    inner.extend_from_slice(data);
    let inner_hash = md5(&inner);
    let mut outer: Vec<u8> = k.iter().map(|b| b ^ 0x5c).collect();
    outer.extend_from_slice(&inner_hash);
    md5(&outer)
}

pub(super) fn hmac_bytes(alg: ring::hmac::Algorithm, key: &[u8], data: &[u8]) -> Vec<u8> {
    let k = ring::hmac::Key::new(alg, key);
    ring::hmac::sign(&k, data).as_ref().to_vec()
}

pub(super) fn digest(alg: &'static ring::digest::Algorithm, data: &[u8]) -> Vec<u8> {
    ring::digest::digest(alg, data).as_ref().to_vec()
}

fn one_string(name: &'static str, span: &Span, params: &[Ref<Expr>], args: &[Value]) -> Result<Rc<str>> {
    ensure_args_count(span, name, params, args, 1)?;
    ensure_string(name, &params[0], &args[0])
}

fn two_strings(
    name: &'static str,
    span: &Span,
    params: &[Ref<Expr>],
    args: &[Value],
) -> Result<(Rc<str>, Rc<str>)> {
    ensure_args_count(span, name, params, args, 2)?;
    Ok((
        ensure_string(name, &params[0], &args[0])?,
        ensure_string(name, &params[1], &args[1])?,
    ))
}

fn crypto_md5(span: &Span, params: &[Ref<Expr>], args: &[Value], _strict: bool) -> Result<Value> {
    let s = one_string("crypto.md5", span, params, args)?;
    Ok(Value::from(hex(&md5(s.as_bytes()))))
}

fn crypto_sha1(span: &Span, params: &[Ref<Expr>], args: &[Value], _strict: bool) -> Result<Value> {
    let s = one_string("crypto.sha1", span, params, args)?;
    Ok(Value::from(hex(&digest(
        &ring::digest::SHA1_FOR_LEGACY_USE_ONLY,
        s.as_bytes(),
    ))))
}

fn crypto_sha256(span: &Span, params: &[Ref<Expr>], args: &[Value], _strict: bool) -> Result<Value> {
    let s = one_string("crypto.sha256", span, params, args)?;
    Ok(Value::from(hex(&digest(&ring::digest::SHA256, s.as_bytes()))))
}

fn hmac_md5(span: &Span, params: &[Ref<Expr>], args: &[Value], _strict: bool) -> Result<Value> {
    let (m, k) = two_strings("crypto.hmac.md5", span, params, args)?;
    Ok(Value::from(hex(&hmac_md5_bytes(k.as_bytes(), m.as_bytes()))))
}

fn hmac_sha1(span: &Span, params: &[Ref<Expr>], args: &[Value], _strict: bool) -> Result<Value> {
    let (m, k) = two_strings("crypto.hmac.sha1", span, params, args)?;
    Ok(Value::from(hex(&hmac_bytes(
        ring::hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY,
        k.as_bytes(),
        m.as_bytes(),
    ))))
}

fn hmac_sha256(span: &Span, params: &[Ref<Expr>], args: &[Value], _strict: bool) -> Result<Value> {
    let (m, k) = two_strings("crypto.hmac.sha256", span, params, args)?;
    Ok(Value::from(hex(&hmac_bytes(
        ring::hmac::HMAC_SHA256,
        k.as_bytes(),
        m.as_bytes(),
    ))))
}

fn hmac_sha512(span: &Span, params: &[Ref<Expr>], args: &[Value], _strict: bool) -> Result<Value> {
    let (m, k) = two_strings("crypto.hmac.sha512", span, params, args)?;
    Ok(Value::from(hex(&hmac_bytes(
        ring::hmac::HMAC_SHA512,
        k.as_bytes(),
        m.as_bytes(),
    ))))
}

/// Constant-time comparison, as Go's hmac.Equal.
pub(super) fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut d = 0u8;
    for (x, y) in a.iter().zip(b.iter()) {
        d |= x ^ y;
    }
    d == 0
}

fn hmac_equal(span: &Span, params: &[Ref<Expr>], args: &[Value], _strict: bool) -> Result<Value> {
    let (a, b) = two_strings("crypto.hmac.equal", span, params, args)?;
    Ok(Value::from(ct_eq(a.as_bytes(), b.as_bytes())))
}

// ------------------------------------------------------------ encodings

/// OPA's base64url.decode: padding added where RFC 7515 appendix C leaves it
/// out, then Go's `base64.URLEncoding` (newlines ignored, trailing bits not
/// checked).
pub(super) fn b64url_decode(s: &str) -> Result<Vec<u8>, String> {
    let mut t: String = s.chars().filter(|c| *c != '\r' && *c != '\n').collect();
    if !t.ends_with('=') {
        match t.len() % 4 {
            0 => {}
            2 => t.push_str("=="),
            3 => t.push('='),
            _ => return Err(format!("illegal base64url string: {s}")),
        }
    }
    go_engine(&base64::alphabet::URL_SAFE, true)
        .decode(t.as_bytes())
        .map_err(|e| format!("illegal base64 data: {e}"))
}

pub(super) fn b64url_encode(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Go's `base64.StdEncoding.DecodeString`.
#[allow(dead_code)]
pub(super) fn b64std_decode(s: &str) -> Result<Vec<u8>, String> {
    let t: String = s.chars().filter(|c| *c != '\r' && *c != '\n').collect();
    go_engine(&base64::alphabet::STANDARD, true)
        .decode(t.as_bytes())
        .map_err(|e| format!("illegal base64 data: {e}"))
}

fn go_engine(alphabet: &base64::alphabet::Alphabet, padded: bool) -> base64::engine::GeneralPurpose {
    let mode = if padded {
        base64::engine::DecodePaddingMode::RequireCanonical
    } else {
        base64::engine::DecodePaddingMode::RequireNone
    };
    base64::engine::GeneralPurpose::new(
        alphabet,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_allow_trailing_bits(true)
            .with_decode_padding_mode(mode),
    )
}

/// The raw (unpadded) base64url of JWK members, as lestrrat-go/jwx reads
/// them: padding tolerated.
pub(super) fn jwk_b64(s: &str) -> Result<Vec<u8>, String> {
    let t = s.trim_end_matches('=');
    go_engine(&base64::alphabet::URL_SAFE, false)
        .decode(t.as_bytes())
        .or_else(|_| go_engine(&base64::alphabet::STANDARD, false).decode(t.as_bytes()))
        .map_err(|e| format!("failed to decode base64: {e}"))
}

/// One PEM block as Go's `pem.Decode` finds it: its type, its bytes, and
/// the rest of the input after its end line.
pub(super) struct PemBlock<'a> {
    pub typ: &'a str,
    pub bytes: Vec<u8>,
    pub rest: &'a str,
}

pub(super) fn pem_decode(input: &str) -> Option<PemBlock<'_>> {
    let mut search = input;
    loop {
        let start = search.find("-----BEGIN ")?;
        // Go requires BEGIN at the start of a line.
        let before_ok = start == 0 || search[..start].ends_with('\n');
        let after = &search[start + 11..];
        let line_end = after.find('\n').unwrap_or(after.len());
        let line = after[..line_end].trim_end_matches('\r').trim_end();
        if before_ok && line.ends_with("-----") && line.len() >= 5 {
            let typ = &line[..line.len() - 5];
            let body_start = if line_end < after.len() { line_end + 1 } else { after.len() };
            let body = &after[body_start..];
            let end_marker = format!("-----END {typ}-----");
            if let Some(end) = body.find(&end_marker) {
                let content = &body[..end];
                // Headers ("Key: value" lines before a blank line).
                let mut text = content;
                if content.lines().next().is_some_and(|l| l.contains(':')) {
                    if let Some(i) = content.find("\n\n").or_else(|| content.find("\r\n\r\n")) {
                        text = &content[i..];
                    }
                }
                let b64: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
                if let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(b64.as_bytes()) {
                    let mut rest = &body[end + end_marker.len()..];
                    rest = rest.trim_start_matches([' ', '\t']);
                    if let Some(r) = rest.strip_prefix("\r\n") {
                        rest = r;
                    } else if let Some(r) = rest.strip_prefix('\n') {
                        rest = r;
                    } else if !rest.is_empty() {
                        // END line followed by other text: not a block.
                        search = after;
                        continue;
                    }
                    return Some(PemBlock { typ, bytes, rest });
                }
            }
        }
        search = after;
    }
}

// ------------------------------------------------------------ keys

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Curve {
    P256,
    P384,
    P521,
}

impl Curve {
    pub(super) fn size(self) -> usize {
        match self {
            Curve::P256 => 32,
            Curve::P384 => 48,
            Curve::P521 => 66,
        }
    }
}

#[derive(Clone, Debug)]
pub(super) enum PublicKey {
    Rsa { n: BigUint, e: BigUint },
    /// Uncompressed SEC1 point.
    Ec { curve: Curve, point: Vec<u8> },
    Ed25519(Vec<u8>),
    /// A JWK "oct" key (bytes).
    Oct(Vec<u8>),
}

/// A verification key: the key, whether it came with private parts (Go then
/// holds a private key type, which OPA's `io.jwt.verify_*` reject), and the
/// JWK `alg` and `kid` when it came from a JWK.
#[derive(Clone, Debug)]
pub(super) struct VerificationKey {
    pub key: PublicKey,
    pub private: bool,
    pub alg: String,
    pub kid: String,
}

const OID_RSA: &str = "1.2.840.113549.1.1.1";
const OID_EC: &str = "1.2.840.10045.2.1";
const OID_ED25519: &str = "1.3.101.112";
const OID_P256: &str = "1.2.840.10045.3.1.7";
const OID_P384: &str = "1.3.132.0.34";
const OID_P521: &str = "1.3.132.0.35";

/// Largest RSA modulus accepted (bits): bounds the modular exponentiation.
pub(super) const MAX_RSA_BITS: u64 = 16384;

pub(super) fn curve_of_oid(oid: &str) -> Option<Curve> {
    match oid {
        OID_P256 => Some(Curve::P256),
        OID_P384 => Some(Curve::P384),
        OID_P521 => Some(Curve::P521),
        _ => None,
    }
}

/// A DER TLV: tag, contents, rest.
pub(super) fn der_tlv(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let tag = *input.first()?;
    let l0 = *input.get(1)?;
    let (len, hdr) = if l0 < 0x80 {
        (l0 as usize, 2)
    } else {
        let n = (l0 & 0x7f) as usize;
        if n == 0 || n > 4 {
            return None;
        }
        let mut len = 0usize;
        for i in 0..n {
            len = (len << 8) | *input.get(2 + i)? as usize;
        }
        (len, 2 + n)
    };
    let end = hdr.checked_add(len)?;
    let content = input.get(hdr..end)?;
    Some((tag, content, input.get(end..)?))
}

/// The contents of a DER INTEGER as an unsigned big number (negative
/// numbers refused).
pub(super) fn der_uint(input: &[u8]) -> Option<(BigUint, &[u8])> {
    let (tag, content, rest) = der_tlv(input)?;
    if tag != 0x02 || content.is_empty() || content[0] & 0x80 != 0 {
        return None;
    }
    Some((BigUint::from_bytes_be(content), rest))
}

fn rsa_public_from_pkcs1(der: &[u8]) -> Option<PublicKey> {
    let (tag, seq, rest) = der_tlv(der)?;
    if tag != 0x30 || !rest.is_empty() {
        return None;
    }
    let (n, r) = der_uint(seq)?;
    let (e, r) = der_uint(r)?;
    if !r.is_empty() {
        return None;
    }
    Some(PublicKey::Rsa { n, e })
}

/// Parses a DER SubjectPublicKeyInfo (Go's x509.ParsePKIXPublicKey).
pub(super) fn parse_spki(der: &[u8]) -> Result<PublicKey, String> {
    use x509_cert::der::Decode;
    let spki = x509_cert::spki::SubjectPublicKeyInfoOwned::from_der(der)
        .map_err(|e| format!("x509: failed to parse public key: {e}"))?;
    spki_to_key(&spki)
}

pub(super) fn spki_to_key(spki: &x509_cert::spki::SubjectPublicKeyInfoOwned) -> Result<PublicKey, String> {
    let oid = spki.algorithm.oid.to_string();
    let bits = spki
        .subject_public_key
        .as_bytes()
        .ok_or_else(|| "x509: invalid public key bit string".to_string())?;
    match oid.as_str() {
        OID_RSA => rsa_public_from_pkcs1(bits)
            .ok_or_else(|| "x509: invalid RSA public key".to_string()),
        OID_EC => {
            let params = spki
                .algorithm
                .parameters
                .as_ref()
                .ok_or_else(|| "x509: missing ECDSA parameters".to_string())?;
            let curve_oid: x509_cert::der::asn1::ObjectIdentifier = params
                .decode_as()
                .map_err(|_| "x509: invalid ECDSA parameters".to_string())?;
            let curve = curve_of_oid(&curve_oid.to_string())
                .ok_or_else(|| "x509: unsupported elliptic curve".to_string())?;
            if bits.len() != 1 + 2 * curve.size() || bits[0] != 4 {
                return Err("x509: failed to unmarshal elliptic curve point".to_string());
            }
            Ok(PublicKey::Ec {
                curve,
                point: bits.to_vec(),
            })
        }
        OID_ED25519 => {
            if bits.len() != 32 {
                return Err("x509: wrong Ed25519 public key size".to_string());
            }
            Ok(PublicKey::Ed25519(bits.to_vec()))
        }
        _ => Err("x509: unknown public key algorithm".to_string()),
    }
}

/// The public key of a DER certificate.
pub(super) fn cert_public_key(der: &[u8]) -> Result<PublicKey, String> {
    use x509_cert::der::Decode;
    let cert = x509_cert::Certificate::from_der(der).map_err(|e| format!("x509: malformed certificate: {e}"))?;
    spki_to_key(&cert.tbs_certificate.subject_public_key_info)
}

/// OPA's parseKeysFromCertOrJWK: a PEM certificate or public key, or a JWK
/// (set).
pub(super) fn keys_from_cert_or_jwk(s: &str) -> Result<Vec<VerificationKey>> {
    if let Some(block) = pem_decode(s) {
        if !block.rest.is_empty() {
            bail!("extra data after a PEM certificate block");
        }
        let key = match block.typ {
            "CERTIFICATE" => cert_public_key(&block.bytes)
                .map_err(|e| anyhow!("failed to parse a PEM certificate: {e}"))?,
            "PUBLIC KEY" => parse_spki(&block.bytes)
                .map_err(|e| anyhow!("failed to parse a PEM public key: {e}"))?,
            _ => bail!("failed to extract a Key from the PEM certificate"),
        };
        return Ok(vec![VerificationKey {
            key,
            private: false,
            alg: String::new(),
            kid: String::new(),
        }]);
    }
    let json: serde_json::Value =
        serde_json::from_str(s).map_err(|e| anyhow!("failed to parse a JWK key (set): {e}"))?;
    let list: Vec<&serde_json::Value> = match json.get("keys") {
        Some(serde_json::Value::Array(keys)) => keys.iter().collect(),
        Some(_) => bail!("failed to parse a JWK key (set): invalid keys member"),
        None => vec![&json],
    };
    let mut keys = Vec::with_capacity(list.len());
    for k in list {
        let jwk = parse_jwk(k).map_err(|e| anyhow!("failed to parse a JWK key (set): {e}"))?;
        if !jwk.alg.is_empty() && !super::jwt::is_token_alg(&jwk.alg) {
            continue;
        }
        keys.push(VerificationKey {
            key: jwk.public,
            private: jwk.private.is_some(),
            alg: jwk.alg,
            kid: jwk.kid,
        });
    }
    Ok(keys)
}

/// The private parts of a JWK.
#[derive(Clone, Debug)]
pub(super) enum PrivateParts {
    Rsa {
        d: BigUint,
        p: Option<BigUint>,
        q: Option<BigUint>,
        dp: Option<BigUint>,
        dq: Option<BigUint>,
        qi: Option<BigUint>,
    },
    /// EC scalar or Ed25519 seed.
    Scalar(Vec<u8>),
}

#[derive(Clone, Debug)]
pub(super) struct Jwk {
    pub public: PublicKey,
    pub private: Option<PrivateParts>,
    pub alg: String,
    pub kid: String,
}

fn member<'a>(o: &'a serde_json::Value, name: &str) -> Result<Option<&'a str>, String> {
    match o.get(name) {
        None => Ok(None),
        Some(serde_json::Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(format!("invalid {name} member")),
    }
}

fn required_bytes(o: &serde_json::Value, name: &str) -> Result<Vec<u8>, String> {
    let s = member(o, name)?.ok_or_else(|| format!("required field {name} is missing"))?;
    jwk_b64(s)
}

fn optional_uint(o: &serde_json::Value, name: &str) -> Result<Option<BigUint>, String> {
    match member(o, name)? {
        None => Ok(None),
        Some(s) => Ok(Some(BigUint::from_bytes_be(&jwk_b64(s)?))),
    }
}

pub(super) fn parse_jwk(o: &serde_json::Value) -> Result<Jwk, String> {
    if !o.is_object() {
        return Err("JWK is not an object".to_string());
    }
    let kty = member(o, "kty")?.ok_or_else(|| "required field kty is missing".to_string())?;
    let alg = member(o, "alg")?.unwrap_or_default().to_string();
    let kid = member(o, "kid")?.unwrap_or_default().to_string();
    let (public, private) = match kty {
        "RSA" => {
            let n = BigUint::from_bytes_be(&required_bytes(o, "n")?);
            let e = BigUint::from_bytes_be(&required_bytes(o, "e")?);
            let private = match optional_uint(o, "d")? {
                None => None,
                Some(d) => Some(PrivateParts::Rsa {
                    d,
                    p: optional_uint(o, "p")?,
                    q: optional_uint(o, "q")?,
                    dp: optional_uint(o, "dp")?,
                    dq: optional_uint(o, "dq")?,
                    qi: optional_uint(o, "qi")?,
                }),
            };
            (PublicKey::Rsa { n, e }, private)
        }
        "EC" => {
            let crv = member(o, "crv")?.ok_or_else(|| "required field crv is missing".to_string())?;
            let curve = match crv {
                "P-256" => Curve::P256,
                "P-384" => Curve::P384,
                "P-521" => Curve::P521,
                _ => return Err(format!("unsupported curve {crv}")),
            };
            let x = required_bytes(o, "x")?;
            let y = required_bytes(o, "y")?;
            let size = curve.size();
            if x.len() > size || y.len() > size {
                return Err("invalid EC coordinates".to_string());
            }
            let mut point = vec![4u8];
            point.extend(core::iter::repeat(0).take(size - x.len()));
            point.extend_from_slice(&x);
            point.extend(core::iter::repeat(0).take(size - y.len()));
            point.extend_from_slice(&y);
            let private = match member(o, "d")? {
                None => None,
                Some(d) => {
                    let d = jwk_b64(d)?;
                    if d.len() > size {
                        return Err("invalid EC private key".to_string());
                    }
                    let mut scalar = vec![0u8; size - d.len()];
                    scalar.extend_from_slice(&d);
                    Some(PrivateParts::Scalar(scalar))
                }
            };
            (PublicKey::Ec { curve, point }, private)
        }
        "OKP" => {
            let crv = member(o, "crv")?.ok_or_else(|| "required field crv is missing".to_string())?;
            if crv != "Ed25519" {
                return Err(format!("unsupported curve {crv}"));
            }
            let x = required_bytes(o, "x")?;
            let private = match member(o, "d")? {
                None => None,
                Some(d) => Some(PrivateParts::Scalar(jwk_b64(d)?)),
            };
            (PublicKey::Ed25519(x), private)
        }
        "oct" => (PublicKey::Oct(required_bytes(o, "k")?), None),
        _ => return Err(format!("invalid key type from JSON ({kty})")),
    };
    Ok(Jwk {
        public,
        private,
        alg,
        kid,
    })
}

// ------------------------------------------------------------ verification

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Hash {
    Sha256,
    Sha384,
    Sha512,
}

impl Hash {
    pub(super) fn ring(self) -> &'static ring::digest::Algorithm {
        match self {
            Hash::Sha256 => &ring::digest::SHA256,
            Hash::Sha384 => &ring::digest::SHA384,
            Hash::Sha512 => &ring::digest::SHA512,
        }
    }
    fn digest_info_prefix(self) -> &'static [u8] {
        match self {
            Hash::Sha256 => &[
                0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
                0x01, 0x05, 0x00, 0x04, 0x20,
            ],
            Hash::Sha384 => &[
                0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
                0x02, 0x05, 0x00, 0x04, 0x30,
            ],
            Hash::Sha512 => &[
                0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
                0x03, 0x05, 0x00, 0x04, 0x40,
            ],
        }
    }
}

/// Checks an RSA key's size against what this engine evaluates: Go (1.24
/// and later) refuses moduli under 1024 bits; over `MAX_RSA_BITS` is our
/// bound.
pub(super) fn check_rsa_size(builtin: &'static str, n: &BigUint) -> Result<()> {
    let bits = n.bits();
    if bits < 1024 {
        return Err(LimitError::Unsupported {
            builtin,
            what: "RSA keys under 1024 bits",
        }
        .into());
    }
    if bits > MAX_RSA_BITS {
        return Err(LimitError::Unsupported {
            builtin,
            what: "RSA keys over 16384 bits",
        }
        .into());
    }
    Ok(())
}

/// s^e mod n as a k-byte big-endian string, or None when s >= n.
fn rsa_public_op(n: &BigUint, e: &BigUint, sig: &[u8]) -> Option<Vec<u8>> {
    let k = n.bits().div_ceil(8) as usize;
    if sig.len() != k {
        return None;
    }
    let s = BigUint::from_bytes_be(sig);
    if &s >= n {
        return None;
    }
    let m = s.modpow(e, n).to_bytes_be();
    if m.len() > k {
        return None;
    }
    let mut em = vec![0u8; k - m.len()];
    em.extend_from_slice(&m);
    Some(em)
}

/// RSASSA-PKCS1-v1_5 verification of `digest` (RFC 8017 8.2.2).
pub(super) fn rsa_verify_pkcs1(n: &BigUint, e: &BigUint, hash: Hash, digest: &[u8], sig: &[u8]) -> bool {
    let Some(em) = rsa_public_op(n, e, sig) else {
        return false;
    };
    let prefix = hash.digest_info_prefix();
    let t_len = prefix.len() + digest.len();
    let k = em.len();
    if k < t_len + 11 {
        return false;
    }
    let mut expected = vec![0x00, 0x01];
    expected.extend(core::iter::repeat(0xff).take(k - t_len - 3));
    expected.push(0);
    expected.extend_from_slice(prefix);
    expected.extend_from_slice(digest);
    ct_eq(&em, &expected)
}

fn mgf1(hash: Hash, seed: &[u8], len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 64);
    let mut counter: u32 = 0;
    while out.len() < len {
        let mut input = seed.to_vec();
        input.extend_from_slice(&counter.to_be_bytes());
        out.extend_from_slice(&digest(hash.ring(), &input));
        counter = counter.wrapping_add(1);
    }
    out.truncate(len);
    out
}

/// RSASSA-PSS verification of `digest` with the salt length recovered from
/// the signature, as Go's rsa.VerifyPSS with nil options (RFC 8017 9.1.2).
pub(super) fn rsa_verify_pss(n: &BigUint, e: &BigUint, hash: Hash, digest_: &[u8], sig: &[u8]) -> bool {
    rsa_verify_pss_salt(n, e, hash, digest_, sig, None)
}

/// RSASSA-PSS verification with the salt length fixed (`Some`, as Go's
/// rsa.VerifyPSS with a given `SaltLength`) or recovered (`None`).
pub(super) fn rsa_verify_pss_salt(
    n: &BigUint,
    e: &BigUint,
    hash: Hash,
    digest_: &[u8],
    sig: &[u8],
    salt_len: Option<usize>,
) -> bool {
    let Some(full) = rsa_public_op(n, e, sig) else {
        return false;
    };
    let mod_bits = n.bits() as usize;
    let em_bits = mod_bits - 1;
    let em_len = em_bits.div_ceil(8);
    // EM is the last em_len bytes; any byte before must be zero.
    let k = full.len();
    if k < em_len || full[..k - em_len].iter().any(|b| *b != 0) {
        return false;
    }
    let em = &full[k - em_len..];
    let h_len = digest_.len();
    if em_len < h_len + 2 || em[em_len - 1] != 0xbc {
        return false;
    }
    let db_len = em_len - h_len - 1;
    let masked_db = &em[..db_len];
    let h = &em[db_len..em_len - 1];
    let unused_bits = 8 * em_len - em_bits;
    let top_mask: u8 = if unused_bits == 0 { 0 } else { 0xffu8 << (8 - unused_bits) };
    if masked_db[0] & top_mask != 0 {
        return false;
    }
    let mask = mgf1(hash, h, db_len);
    let mut db: Vec<u8> = masked_db.iter().zip(mask.iter()).map(|(a, b)| a ^ b).collect();
    db[0] &= !top_mask;
    let Some(one) = db.iter().position(|b| *b != 0) else {
        return false;
    };
    if db[one] != 0x01 {
        return false;
    }
    let salt = &db[one + 1..];
    if salt_len.is_some_and(|l| l != salt.len()) {
        return false;
    }
    let mut m = vec![0u8; 8];
    m.extend_from_slice(digest_);
    m.extend_from_slice(salt);
    ct_eq(&digest(hash.ring(), &m), h)
}

/// ECDSA verification of `msg` hashed with `hash`, r and s given as
/// big-endian byte strings. Ok(false) when invalid; Err(Unsupported) for a
/// curve and hash pair this engine does not implement.
pub(super) fn ecdsa_verify(
    builtin: &'static str,
    curve: Curve,
    point: &[u8],
    hash: Hash,
    msg: &[u8],
    r: &[u8],
    s: &[u8],
) -> Result<bool> {
    let size = curve.size();
    let fit = |v: &[u8]| -> Option<Vec<u8>> {
        let first = v.iter().position(|b| *b != 0).unwrap_or(v.len());
        let v = &v[first..];
        if v.len() > size {
            return None;
        }
        let mut out = vec![0u8; size - v.len()];
        out.extend_from_slice(v);
        Some(out)
    };
    let (Some(r), Some(s)) = (fit(r), fit(s)) else {
        return Ok(false);
    };
    match curve {
        Curve::P521 => {
            if hash != Hash::Sha512 {
                return Err(LimitError::Unsupported {
                    builtin,
                    what: "P-521 keys with a hash other than SHA-512",
                }
                .into());
            }
            use p521::ecdsa::signature::hazmat::PrehashVerifier;
            let Ok(vk) = p521::ecdsa::VerifyingKey::from_sec1_bytes(point) else {
                return Ok(false);
            };
            let mut rs = r;
            rs.extend_from_slice(&s);
            let Ok(sig) = p521::ecdsa::Signature::from_slice(&rs) else {
                return Ok(false);
            };
            let d = digest(hash.ring(), msg);
            Ok(vk.verify_prehash(&d, &sig).is_ok())
        }
        Curve::P256 | Curve::P384 => {
            use ring::signature as rs;
            let alg: &'static dyn rs::VerificationAlgorithm = match (curve, hash) {
                (Curve::P256, Hash::Sha256) => &rs::ECDSA_P256_SHA256_FIXED,
                (Curve::P384, Hash::Sha384) => &rs::ECDSA_P384_SHA384_FIXED,
                (Curve::P256, Hash::Sha384) => &rs::ECDSA_P256_SHA384_ASN1,
                (Curve::P384, Hash::Sha256) => &rs::ECDSA_P384_SHA256_ASN1,
                _ => {
                    return Err(LimitError::Unsupported {
                        builtin,
                        what: "P-256 or P-384 keys with SHA-512",
                    }
                    .into())
                }
            };
            let fixed = matches!((curve, hash), (Curve::P256, Hash::Sha256) | (Curve::P384, Hash::Sha384));
            let sig = if fixed {
                let mut v = r;
                v.extend_from_slice(&s);
                v
            } else {
                der_ecdsa_sig(&r, &s)
            };
            Ok(rs::UnparsedPublicKey::new(alg, point).verify(msg, &sig).is_ok())
        }
    }
}

fn der_int(v: &[u8]) -> Vec<u8> {
    let first = v.iter().position(|b| *b != 0).unwrap_or(v.len().saturating_sub(1));
    let mut body = v[first..].to_vec();
    if body.is_empty() {
        body.push(0);
    }
    if body[0] & 0x80 != 0 {
        body.insert(0, 0);
    }
    let mut out = vec![0x02];
    der_len(&mut out, body.len());
    out.extend_from_slice(&body);
    out
}

pub(super) fn der_len(out: &mut Vec<u8>, len: usize) {
    if len < 0x80 {
        out.push(len as u8);
    } else if len < 0x100 {
        out.extend_from_slice(&[0x81, len as u8]);
    } else if len < 0x10000 {
        out.extend_from_slice(&[0x82, (len >> 8) as u8, len as u8]);
    } else {
        out.extend_from_slice(&[0x83, (len >> 16) as u8, (len >> 8) as u8, len as u8]);
    }
}

fn der_ecdsa_sig(r: &[u8], s: &[u8]) -> Vec<u8> {
    let mut body = der_int(r);
    body.extend_from_slice(&der_int(s));
    let mut out = vec![0x30];
    der_len(&mut out, body.len());
    out.extend_from_slice(&body);
    out
}

/// PKCS#1 RSAPrivateKey DER of a JWK's components (for ring's signer).
pub(super) fn rsa_private_der(
    n: &BigUint,
    e: &BigUint,
    d: &BigUint,
    p: &BigUint,
    q: &BigUint,
    dp: &BigUint,
    dq: &BigUint,
    qi: &BigUint,
) -> Vec<u8> {
    let mut body = der_int(&[0]);
    for v in [n, e, d, p, q, dp, dq, qi] {
        body.extend_from_slice(&der_int(&v.to_bytes_be()));
    }
    let mut out = vec![0x30];
    der_len(&mut out, body.len());
    out.extend_from_slice(&body);
    out
}
