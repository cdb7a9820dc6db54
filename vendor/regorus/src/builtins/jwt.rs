// cos patch 21: OPA's io.jwt.* builtins (v1/topdown/tokens.go in OPA 1.22.2,
// with lestrrat-go/jwx v3.3.0's jwk and jwsbb for keys and signatures).
//
// OPA's inter-query caches of tokens and keys are not reproduced: they do
// not change answers.
#![allow(
    clippy::as_conversions,
    clippy::unused_trait_names,
    clippy::pattern_type_mismatch
)]

use crate::ast::{Expr, Ref};
use crate::builtins;
use crate::builtins::crypto::{
    b64url_decode, b64url_encode, check_rsa_size, ct_eq, digest, ecdsa_verify, hex, hmac_bytes,
    keys_from_cert_or_jwk, parse_jwk, rsa_private_der, rsa_verify_pkcs1, rsa_verify_pss, Curve,
    Hash, PrivateParts, PublicKey, VerificationKey,
};
use crate::builtins::utils::{ensure_args_count, ensure_object, ensure_string};
use crate::lexer::Span;
use crate::utils::limits::LimitError;
use crate::value::Value;
use crate::*;

use anyhow::{anyhow, bail, Result};

pub fn register(m: &mut builtins::BuiltinsMap<&'static str, builtins::BuiltinFcn>) {
    m.insert("io.jwt.decode", (jwt_decode, 1));
    m.insert("io.jwt.decode_verify", (jwt_decode_verify, 2));
    m.insert("io.jwt.encode_sign", (jwt_encode_sign, 3));
    m.insert("io.jwt.encode_sign_raw", (jwt_encode_sign_raw, 3));
    m.insert("io.jwt.verify_hs256", (verify_hs256, 2));
    m.insert("io.jwt.verify_hs384", (verify_hs384, 2));
    m.insert("io.jwt.verify_hs512", (verify_hs512, 2));
    m.insert("io.jwt.verify_rs256", (verify_rs256, 2));
    m.insert("io.jwt.verify_rs384", (verify_rs384, 2));
    m.insert("io.jwt.verify_rs512", (verify_rs512, 2));
    m.insert("io.jwt.verify_ps256", (verify_ps256, 2));
    m.insert("io.jwt.verify_ps384", (verify_ps384, 2));
    m.insert("io.jwt.verify_ps512", (verify_ps512, 2));
    m.insert("io.jwt.verify_es256", (verify_es256, 2));
    m.insert("io.jwt.verify_es384", (verify_es384, 2));
    m.insert("io.jwt.verify_es512", (verify_es512, 2));
    m.insert("io.jwt.verify_eddsa", (verify_eddsa, 2));
}

const TOKEN_ALGS: [&str; 13] = [
    "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "HS256",
    "HS384", "HS512", "EdDSA",
];

pub(super) fn is_token_alg(alg: &str) -> bool {
    TOKEN_ALGS.contains(&alg)
}

// ------------------------------------------------------------ token parts

struct Token<'a> {
    header: &'a str,
    payload: &'a str,
    signature: &'a str,
}

fn split_token(s: &str) -> Result<Token<'_>> {
    if !s.contains('.') {
        bail!("encoded JWT had no period separators");
    }
    let parts: Vec<&str> = s.split('.').collect();
    if parts.len() != 3 {
        bail!("encoded JWT must have 3 sections, found {}", parts.len());
    }
    Ok(Token {
        header: parts[0],
        payload: parts[1],
        signature: parts[2],
    })
}

fn json_object(s: &str) -> Result<Value> {
    let v = Value::from_json_str(s).map_err(|e| anyhow!("invalid JSON: {e}"))?;
    if !matches!(v, Value::Object(_)) {
        bail!("decoded JSON type was not an Object");
    }
    Ok(v)
}

fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

impl Token<'_> {
    fn decode_header(&self) -> Result<Value> {
        let h = b64url_decode(self.header).map_err(|e| anyhow!("JWT header had invalid encoding: {e}"))?;
        let header = json_object(&lossy(&h)).map_err(|e| anyhow!("bad JWT header: {e}"))?;
        if get(&header, "enc").is_some() {
            bail!("JWT is a JWE object, which is not supported");
        }
        Ok(header)
    }
    fn decode_payload(&self) -> Result<Vec<u8>> {
        b64url_decode(self.payload).map_err(|e| anyhow!("JWT payload had invalid encoding: {e}"))
    }
    fn decode_signature(&self) -> Result<Vec<u8>> {
        b64url_decode(self.signature).map_err(|e| anyhow!("JWT signature had invalid encoding: {e}"))
    }
    fn signing_input(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(self.header.len() + self.payload.len() + 1);
        v.extend_from_slice(self.header.as_bytes());
        v.push(b'.');
        v.extend_from_slice(self.payload.as_bytes());
        v
    }
}

fn get<'a>(obj: &'a Value, key: &str) -> Option<&'a Value> {
    match obj {
        Value::Object(o) => o.get(&Value::from(key)),
        _ => None,
    }
}

/// The JOSE header fields OPA reads (parseTokenHeader).
#[derive(Default)]
struct Header {
    alg: String,
    kid: String,
    cty: String,
    crit: Vec<String>,
    unknown: Vec<String>,
}

fn parse_header(header: &Value) -> Result<Header> {
    let mut h = Header::default();
    let Value::Object(o) = header else {
        bail!("bad JWT header");
    };
    for (k, v) in o.iter() {
        let Value::String(k) = k else { continue };
        let slot = match k.as_ref() {
            "alg" => &mut h.alg,
            "kid" => &mut h.kid,
            "cty" => &mut h.cty,
            "typ" => {
                if !matches!(v, Value::String(_)) {
                    bail!("typ: must be a string");
                }
                continue;
            }
            "crit" => {
                let Value::Array(a) = v else {
                    bail!("crit: must be a list");
                };
                // OPA stops at the first non-string and ignores that error.
                for e in a.iter() {
                    match e {
                        Value::String(s) => h.crit.push(s.to_string()),
                        _ => break,
                    }
                }
                if h.crit.is_empty() {
                    bail!("crit: must be a nonempty list");
                }
                continue;
            }
            _ => {
                h.unknown.push(k.to_string());
                continue;
            }
        };
        match v {
            Value::String(s) => *slot = s.to_string(),
            _ => bail!("{k}: must be a string"),
        }
    }
    Ok(h)
}

impl Header {
    fn valid(&self) -> bool {
        !self.alg.is_empty() && !self.unknown.iter().any(|u| self.crit.contains(u))
    }
}

// ------------------------------------------------------------ io.jwt.decode

fn decode_token(s: &str) -> Result<Value> {
    let token = split_token(s)?;
    let header = token.decode_header()?;
    let p = token.decode_payload()?;
    if let Some(cty) = get(&header, "cty") {
        let Value::String(cty) = cty else {
            bail!("cty: must be a string");
        };
        if cty.as_ref() == "JWT" {
            let inner = lossy(&p);
            return decode_token(inner.trim_matches(|c| c == '"' || c == '\''));
        }
    }
    let payload = json_object(&lossy(&p))?;
    let sig = token.decode_signature()?;
    Ok(Value::from(vec![header, payload, Value::from(hex(&sig))]))
}

fn jwt_decode(span: &Span, params: &[Ref<Expr>], args: &[Value], _strict: bool) -> Result<Value> {
    let name = "io.jwt.decode";
    ensure_args_count(span, name, params, args, 1)?;
    let s = ensure_string(name, &params[0], &args[0])?;
    decode_token(&s)
}

// ------------------------------------------------------------ verify_*

fn verify_hs(
    name: &'static str,
    alg: ring::hmac::Algorithm,
    span: &Span,
    params: &[Ref<Expr>],
    args: &[Value],
) -> Result<Value> {
    ensure_args_count(span, name, params, args, 2)?;
    let jwt = ensure_string(name, &params[0], &args[0])?;
    let secret = ensure_string(name, &params[1], &args[1])?;
    let token = split_token(&jwt)?;
    let mac = hmac_bytes(alg, secret.as_bytes(), &token.signing_input());
    let sig = token.decode_signature()?;
    Ok(Value::from(ct_eq(&sig, &mac)))
}

fn verify_hs256(span: &Span, params: &[Ref<Expr>], args: &[Value], _strict: bool) -> Result<Value> {
    verify_hs("io.jwt.verify_hs256", ring::hmac::HMAC_SHA256, span, params, args)
}
fn verify_hs384(span: &Span, params: &[Ref<Expr>], args: &[Value], _strict: bool) -> Result<Value> {
    verify_hs("io.jwt.verify_hs384", ring::hmac::HMAC_SHA384, span, params, args)
}
fn verify_hs512(span: &Span, params: &[Ref<Expr>], args: &[Value], _strict: bool) -> Result<Value> {
    verify_hs("io.jwt.verify_hs512", ring::hmac::HMAC_SHA512, span, params, args)
}

#[derive(Clone, Copy)]
enum Scheme {
    Pkcs1(Hash),
    Pss(Hash),
    Ecdsa(Hash),
    EdDsa,
}

/// OPA's per-builtin verifiers (tokens.go): the key must be a public key of
/// the right type (a JWK with private parts is a private key in Go, and
/// fails); ECDSA signatures are split in half whatever their length.
fn verify_with_scheme(name: &'static str, scheme: Scheme, key: &VerificationKey, input: &[u8], sig: &[u8]) -> Result<bool> {
    if key.private {
        return Ok(false);
    }
    match (scheme, &key.key) {
        (Scheme::Pkcs1(h), PublicKey::Rsa { n, e }) => {
            check_rsa_size(name, n)?;
            Ok(rsa_verify_pkcs1(n, e, h, &digest(h.ring(), input), sig))
        }
        (Scheme::Pss(h), PublicKey::Rsa { n, e }) => {
            check_rsa_size(name, n)?;
            Ok(rsa_verify_pss(n, e, h, &digest(h.ring(), input), sig))
        }
        (Scheme::Ecdsa(h), PublicKey::Ec { curve, point }) => {
            let half = sig.len() / 2;
            ecdsa_verify(name, *curve, point, h, input, &sig[..half], &sig[half..])
        }
        (Scheme::EdDsa, PublicKey::Ed25519(x)) => Ok(ed25519_verify(x, input, sig)),
        _ => Ok(false),
    }
}

fn ed25519_verify(x: &[u8], input: &[u8], sig: &[u8]) -> bool {
    if x.len() != 32 || sig.len() != 64 {
        return false;
    }
    ring::signature::UnparsedPublicKey::new(&ring::signature::ED25519, x)
        .verify(input, sig)
        .is_ok()
}

fn verify_asym(name: &'static str, scheme: Scheme, span: &Span, params: &[Ref<Expr>], args: &[Value]) -> Result<Value> {
    ensure_args_count(span, name, params, args, 2)?;
    let jwt = ensure_string(name, &params[0], &args[0])?;
    let token = split_token(&jwt)?;
    let cert = ensure_string(name, &params[1], &args[1])?;
    let keys = keys_from_cert_or_jwk(&cert)?;
    let sig = token.decode_signature()?;
    let header = parse_header(&token.decode_header()?)?;
    let input = token.signing_input();
    if !header.kid.is_empty() {
        if let Some(key) = keys.iter().find(|k| k.kid == header.kid) {
            return Ok(Value::from(verify_with_scheme(name, scheme, key, &input, &sig)?));
        }
    }
    for key in &keys {
        if !key.alg.is_empty() && key.alg != header.alg {
            continue;
        }
        if verify_with_scheme(name, scheme, key, &input, &sig)? {
            return Ok(Value::from(true));
        }
    }
    Ok(Value::from(false))
}

macro_rules! asym {
    ($f:ident, $name:literal, $scheme:expr) => {
        fn $f(span: &Span, params: &[Ref<Expr>], args: &[Value], _strict: bool) -> Result<Value> {
            verify_asym($name, $scheme, span, params, args)
        }
    };
}

asym!(verify_rs256, "io.jwt.verify_rs256", Scheme::Pkcs1(Hash::Sha256));
asym!(verify_rs384, "io.jwt.verify_rs384", Scheme::Pkcs1(Hash::Sha384));
asym!(verify_rs512, "io.jwt.verify_rs512", Scheme::Pkcs1(Hash::Sha512));
asym!(verify_ps256, "io.jwt.verify_ps256", Scheme::Pss(Hash::Sha256));
asym!(verify_ps384, "io.jwt.verify_ps384", Scheme::Pss(Hash::Sha384));
asym!(verify_ps512, "io.jwt.verify_ps512", Scheme::Pss(Hash::Sha512));
asym!(verify_es256, "io.jwt.verify_es256", Scheme::Ecdsa(Hash::Sha256));
asym!(verify_es384, "io.jwt.verify_es384", Scheme::Ecdsa(Hash::Sha384));
asym!(verify_es512, "io.jwt.verify_es512", Scheme::Ecdsa(Hash::Sha512));
asym!(verify_eddsa, "io.jwt.verify_eddsa", Scheme::EdDsa);

/// jwsbb.Verify: the algorithm named by the token decides the scheme; the
/// key must be of its type (private keys allowed); ECDSA signatures must be
/// exactly twice the curve size.
fn jwsbb_verify(name: &'static str, key: &PublicKey, alg: &str, input: &[u8], sig: &[u8]) -> Result<bool> {
    let scheme = match alg {
        "HS256" | "HS384" | "HS512" => {
            let PublicKey::Oct(secret) = key else {
                return Ok(false);
            };
            let a = match alg {
                "HS256" => ring::hmac::HMAC_SHA256,
                "HS384" => ring::hmac::HMAC_SHA384,
                _ => ring::hmac::HMAC_SHA512,
            };
            return Ok(ct_eq(&hmac_bytes(a, secret, input), sig));
        }
        "RS256" => Scheme::Pkcs1(Hash::Sha256),
        "RS384" => Scheme::Pkcs1(Hash::Sha384),
        "RS512" => Scheme::Pkcs1(Hash::Sha512),
        "PS256" => Scheme::Pss(Hash::Sha256),
        "PS384" => Scheme::Pss(Hash::Sha384),
        "PS512" => Scheme::Pss(Hash::Sha512),
        "ES256" => Scheme::Ecdsa(Hash::Sha256),
        "ES384" => Scheme::Ecdsa(Hash::Sha384),
        "ES512" => Scheme::Ecdsa(Hash::Sha512),
        "EdDSA" => Scheme::EdDsa,
        _ => return Ok(false),
    };
    if let (Scheme::Ecdsa(_), PublicKey::Ec { curve, .. }) = (scheme, key) {
        if sig.len() != 2 * curve.size() {
            return Ok(false);
        }
    }
    let k = VerificationKey {
        key: key.clone(),
        private: false,
        alg: String::new(),
        kid: String::new(),
    };
    verify_with_scheme(name, scheme, &k, input, sig)
}

// ------------------------------------------------------------ decode_verify

struct Constraints {
    keys: Option<Vec<VerificationKey>>,
    secret: String,
    alg: String,
    iss: String,
    aud: String,
    /// Nanoseconds.
    time: f64,
}

fn now_ns() -> f64 {
    match std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        Ok(d) => d.as_nanos() as f64,
        Err(_) => 0.0,
    }
}

fn time_from_value(v: &Value) -> Result<f64> {
    let Value::Number(n) = v else {
        bail!("token time constraint: must be a number");
    };
    // Go's strconv.ParseFloat: rounded; only an overflow fails.
    use num_traits::ToPrimitive;
    let t = match n {
        crate::number::Number::UInt(v) => *v as f64,
        crate::number::Number::Int(v) => *v as f64,
        crate::number::Number::Float(f) => *f,
        crate::number::Number::Dec(d) => d.text().parse::<f64>().unwrap_or(0.0),
        crate::number::Number::BigInt(b) => b.to_f64().unwrap_or(f64::INFINITY),
    };
    if !t.is_finite() {
        bail!("token time constraint: unvalid float64");
    }
    if t < 0.0 {
        bail!("token time constraint: must not be negative");
    }
    Ok(t)
}

fn constraint_string(name: &str, v: &Value) -> Result<String> {
    match v {
        Value::String(s) => Ok(s.to_string()),
        _ => bail!("{name} constraint: must be a string"),
    }
}

fn parse_constraints(o: &Value) -> Result<Constraints> {
    let mut c = Constraints {
        keys: None,
        secret: String::new(),
        alg: String::new(),
        iss: String::new(),
        aud: String::new(),
        time: -1.0,
    };
    if let Value::Object(o) = o {
        for (k, v) in o.iter() {
            let name = match k {
                Value::String(s) => s.to_string(),
                _ => bail!("unknown token validation constraint: {k}"),
            };
            match name.as_str() {
                "cert" => {
                    let Value::String(s) = v else {
                        bail!("cert constraint: must be a string");
                    };
                    c.keys = Some(keys_from_cert_or_jwk(s)?);
                }
                "secret" => c.secret = constraint_string("secret", v)?,
                "alg" => c.alg = constraint_string("alg", v)?,
                "iss" => c.iss = constraint_string("iss", v)?,
                "aud" => c.aud = constraint_string("aud", v)?,
                "time" => c.time = time_from_value(v)?,
                _ => bail!("unknown token validation constraint: {name}"),
            }
        }
    }
    if c.time == -1.0 {
        c.time = now_ns();
    }
    Ok(c)
}

impl Constraints {
    fn validate(&self) -> Result<()> {
        let n = usize::from(self.keys.is_some()) + usize::from(!self.secret.is_empty());
        if n > 1 {
            bail!("duplicate key constraints");
        }
        if n < 1 {
            bail!("no key constraint");
        }
        Ok(())
    }

    fn verify(&self, name: &'static str, kid: &str, alg: &str, input: &[u8], sig: &[u8]) -> Result<bool> {
        if let Some(keys) = &self.keys {
            if !kid.is_empty() {
                if let Some(key) = keys.iter().find(|k| k.kid == kid) {
                    return jwsbb_verify(name, &key.key, alg, input, sig);
                }
            }
            for key in keys {
                if !key.alg.is_empty() && key.alg != alg {
                    continue;
                }
                if jwsbb_verify(name, &key.key, alg, input, sig)? {
                    return Ok(true);
                }
            }
            return Ok(false);
        }
        jwsbb_verify(name, &PublicKey::Oct(self.secret.as_bytes().to_vec()), alg, input, sig)
    }

    fn valid_audience(&self, aud: &Value) -> bool {
        match aud {
            Value::String(s) => s.as_ref() == self.aud,
            Value::Array(a) => a
                .iter()
                .any(|e| matches!(e, Value::String(s) if s.as_ref() == self.aud)),
            _ => false,
        }
    }
}

fn jwt_decode_verify(span: &Span, params: &[Ref<Expr>], args: &[Value], _strict: bool) -> Result<Value> {
    let name = "io.jwt.decode_verify";
    ensure_args_count(span, name, params, args, 2)?;
    let jwt = ensure_string(name, &params[0], &args[0])?;
    let cons = ensure_object(name, &params[1], args[1].clone())?;
    let constraints = parse_constraints(&Value::Object(cons))?;
    constraints.validate()?;
    let unverified = || Value::from(vec![Value::from(false), Value::new_object(), Value::new_object()]);

    let mut current: String = jwt.to_string();
    let (header, payload_bytes) = loop {
        let token = split_token(&current)?;
        let header_value = token.decode_header()?;
        let header = parse_header(&header_value)?;
        if !header.valid() {
            return Ok(unverified());
        }
        if !constraints.alg.is_empty() && constraints.alg != header.alg {
            return Ok(unverified());
        }
        let sig = token.decode_signature()?;
        if !constraints.verify(name, &header.kid, &header.alg, &token.signing_input(), &sig)? {
            return Ok(unverified());
        }
        let p = token.decode_payload()?;
        if header.cty.eq_ignore_ascii_case("JWT") {
            current = lossy(&p);
            continue;
        }
        break (header_value, p);
    };
    let payload = json_object(&lossy(&payload_bytes))?;

    if !constraints.iss.is_empty() {
        match get(&payload, "iss") {
            Some(Value::String(s)) if s.as_ref() == constraints.iss => {}
            Some(Value::String(_)) | None => return Ok(unverified()),
            Some(_) => bail!("iss value must be a string"),
        }
    }
    match get(&payload, "aud") {
        Some(aud) => {
            if !constraints.valid_audience(aud) {
                return Ok(unverified());
            }
        }
        None => {
            if !constraints.aud.is_empty() {
                return Ok(unverified());
            }
        }
    }
    let now = Value::from(constraints.time / 1_000_000_000.0);
    if let Some(exp) = get(&payload, "exp") {
        if !matches!(exp, Value::Number(_)) {
            bail!("exp value must be a number");
        }
        // Expired unless now < exp.
        if now >= *exp {
            return Ok(unverified());
        }
    }
    if let Some(nbf) = get(&payload, "nbf") {
        if !matches!(nbf, Value::Number(_)) {
            bail!("nbf value must be a number");
        }
        if now < *nbf {
            return Ok(unverified());
        }
    }
    Ok(Value::from(vec![Value::from(true), header, payload]))
}

// ------------------------------------------------------------ encode_sign

/// Go's json.Marshal of the JSON form of a value (ast.JSON): object keys
/// sorted, sets as arrays, `<`, `>`, `&`, U+2028 and U+2029 escaped.
fn go_json(v: &Value, out: &mut String, depth: usize) -> Result<()> {
    if depth > 1000 {
        bail!("json: value nested too deeply");
    }
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(_) => out.push_str(&serde_json::to_string(v)?),
        Value::String(s) => go_json_string(s, out)?,
        Value::Array(a) => {
            out.push('[');
            for (i, e) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                go_json(e, out, depth + 1)?;
            }
            out.push(']');
        }
        Value::Set(s) => {
            out.push('[');
            for (i, e) in s.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                go_json(e, out, depth + 1)?;
            }
            out.push(']');
        }
        Value::Object(o) => {
            out.push('{');
            for (i, (k, e)) in o.iter().enumerate() {
                let Value::String(k) = k else {
                    bail!("json: unsupported type: object key {k} is not a string");
                };
                if i > 0 {
                    out.push(',');
                }
                go_json_string(k, out)?;
                out.push(':');
                go_json(e, out, depth + 1)?;
            }
            out.push('}');
        }
        Value::Undefined => bail!("json: undefined value"),
    }
    crate::utils::limits::check_bytes(out.len() as u128)?;
    Ok(())
}

fn go_json_string(s: &str, out: &mut String) -> Result<()> {
    let quoted = serde_json::to_string(s)?;
    for c in quoted.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    Ok(())
}

fn to_go_json(v: &Value) -> Result<String> {
    let mut s = String::new();
    go_json(v, &mut s, 0)?;
    Ok(s)
}

fn encode_sign(name: &'static str, headers: &str, payload: &str, jwk_src: &str) -> Result<Value> {
    let jwk_json: serde_json::Value = serde_json::from_str(jwk_src).map_err(|e| anyhow!("failed to parse JWK: {e}"))?;
    let first = match jwk_json.get("keys") {
        Some(serde_json::Value::Array(keys)) => match keys.first() {
            Some(k) => k.clone(),
            None => bail!("no keys found in JWK set"),
        },
        Some(_) => bail!("failed to parse JWK: invalid keys member"),
        None => jwk_json,
    };
    let jwk = parse_jwk(&first).map_err(|e| anyhow!("failed to parse JWK: {e}"))?;

    let header_json: serde_json::Value = serde_json::from_str(headers)
        .map_err(|e| anyhow!("missing or invalid 'alg' header: {e}"))?;
    let alg = match header_json.get("alg") {
        Some(serde_json::Value::String(a)) => a.clone(),
        _ => bail!("missing or invalid 'alg' header"),
    };
    if !is_token_alg(&alg) {
        bail!("unknown JWS algorithm: {alg}");
    }
    let typ_is_jwt = match header_json.get("typ") {
        Some(serde_json::Value::String(t)) => t == "JWT",
        _ => true,
    };
    if typ_is_jwt && serde_json::from_str::<serde::de::IgnoredAny>(payload).is_err() {
        bail!("type is JWT but payload is not JSON");
    }
    let mut input = b64url_encode(headers.as_bytes());
    input.push('.');
    input.push_str(&b64url_encode(payload.as_bytes()));
    crate::utils::limits::check_bytes(input.len() as u128 + 1400)?;
    let sig = sign(name, &jwk, &alg, input.as_bytes())?;
    input.push('.');
    input.push_str(&b64url_encode(&sig));
    Ok(Value::from(input))
}

fn unsupported(builtin: &'static str, what: &'static str) -> anyhow::Error {
    LimitError::Unsupported { builtin, what }.into()
}

fn sign(name: &'static str, jwk: &crate::builtins::crypto::Jwk, alg: &str, input: &[u8]) -> Result<Vec<u8>> {
    use ring::signature as rs;
    let rng = ring::rand::SystemRandom::new();
    let hash = match alg {
        "RS256" | "PS256" | "ES256" | "HS256" => Hash::Sha256,
        "RS384" | "PS384" | "ES384" | "HS384" => Hash::Sha384,
        _ => Hash::Sha512,
    };
    match alg {
        "HS256" | "HS384" | "HS512" => {
            let PublicKey::Oct(k) = &jwk.public else {
                bail!("invalid key type for {alg}: []byte is required");
            };
            let a = match hash {
                Hash::Sha256 => ring::hmac::HMAC_SHA256,
                Hash::Sha384 => ring::hmac::HMAC_SHA384,
                Hash::Sha512 => ring::hmac::HMAC_SHA512,
            };
            Ok(hmac_bytes(a, k, input))
        }
        "RS256" | "RS384" | "RS512" | "PS256" | "PS384" | "PS512" => {
            let (PublicKey::Rsa { n, e }, Some(PrivateParts::Rsa { d, p, q, dp, dq, qi })) = (&jwk.public, &jwk.private) else {
                bail!("invalid key type for {alg}: *rsa.PrivateKey is required");
            };
            let (Some(p), Some(q)) = (p, q) else {
                return Err(unsupported(name, "RSA private keys without primes"));
            };
            let one = num_bigint::BigUint::from(1u8);
            let dp = dp.clone().unwrap_or_else(|| d % (p - &one));
            let dq = dq.clone().unwrap_or_else(|| d % (q - &one));
            let qi = match qi {
                Some(qi) => qi.clone(),
                None => q.modinv(p).ok_or_else(|| anyhow!("crypto/rsa: invalid prime"))?,
            };
            let der = rsa_private_der(n, e, d, p, q, &dp, &dq, &qi);
            let bits = n.bits();
            if !(2048..=4096).contains(&bits) {
                return Err(unsupported(name, "signing with RSA keys outside 2048-4096 bits"));
            }
            let kp = rs::RsaKeyPair::from_der(&der).map_err(|e| anyhow!("failed to sign: invalid RSA key: {e}"))?;
            let pad: &'static dyn rs::RsaEncoding = match alg {
                "RS256" => &rs::RSA_PKCS1_SHA256,
                "RS384" => &rs::RSA_PKCS1_SHA384,
                "RS512" => &rs::RSA_PKCS1_SHA512,
                "PS256" => &rs::RSA_PSS_SHA256,
                "PS384" => &rs::RSA_PSS_SHA384,
                _ => &rs::RSA_PSS_SHA512,
            };
            let mut sig = vec![0u8; kp.public().modulus_len()];
            kp.sign(pad, &rng, input, &mut sig)
                .map_err(|_| anyhow!("failed to sign payload"))?;
            Ok(sig)
        }
        "ES256" | "ES384" | "ES512" => {
            let (PublicKey::Ec { curve, point }, Some(PrivateParts::Scalar(d))) = (&jwk.public, &jwk.private) else {
                bail!("invalid key type for {alg}: *ecdsa.PrivateKey is required");
            };
            let want = match alg {
                "ES256" => Curve::P256,
                "ES384" => Curve::P384,
                _ => Curve::P521,
            };
            if *curve != want {
                bail!("failed to sign: key curve does not match {alg}");
            }
            match curve {
                Curve::P521 => {
                    use p521::ecdsa::signature::hazmat::PrehashSigner;
                    let sk = p521::ecdsa::SigningKey::from_slice(d)
                        .map_err(|_| anyhow!("failed to sign: invalid EC private key"))?;
                    let vk = p521::ecdsa::VerifyingKey::from(&sk);
                    if vk.to_sec1_point(false).as_bytes() != point.as_slice() {
                        bail!("failed to sign: EC public key does not match the private key");
                    }
                    let digest_ = digest(Hash::Sha512.ring(), input);
                    let sig: p521::ecdsa::Signature = sk
                        .sign_prehash(&digest_)
                        .map_err(|_| anyhow!("failed to sign payload"))?;
                    Ok(sig.to_bytes().to_vec())
                }
                _ => {
                    let a = if *curve == Curve::P256 {
                        &rs::ECDSA_P256_SHA256_FIXED_SIGNING
                    } else {
                        &rs::ECDSA_P384_SHA384_FIXED_SIGNING
                    };
                    let kp = rs::EcdsaKeyPair::from_private_key_and_public_key(a, d, point, &rng)
                        .map_err(|e| anyhow!("failed to sign: invalid EC key: {e}"))?;
                    Ok(kp
                        .sign(&rng, input)
                        .map_err(|_| anyhow!("failed to sign payload"))?
                        .as_ref()
                        .to_vec())
                }
            }
        }
        _ => {
            let (PublicKey::Ed25519(x), Some(PrivateParts::Scalar(seed))) = (&jwk.public, &jwk.private) else {
                bail!("invalid key type for {alg}: ed25519.PrivateKey is required");
            };
            let kp = rs::Ed25519KeyPair::from_seed_and_public_key(seed, x)
                .map_err(|e| anyhow!("failed to sign: invalid Ed25519 key: {e}"))?;
            Ok(kp.sign(input).as_ref().to_vec())
        }
    }
}

fn jwt_encode_sign(span: &Span, params: &[Ref<Expr>], args: &[Value], _strict: bool) -> Result<Value> {
    let name = "io.jwt.encode_sign";
    ensure_args_count(span, name, params, args, 3)?;
    let headers = to_go_json(&args[0]).map_err(|e| anyhow!("failed to marshal JWT headers: {e}"))?;
    let payload = to_go_json(&args[1]).map_err(|e| anyhow!("failed to marshal JWT payload: {e}"))?;
    let key = to_go_json(&args[2]).map_err(|e| anyhow!("failed to marshal JWT signature: {e}"))?;
    encode_sign(name, &headers, &payload, &key)
}

fn jwt_encode_sign_raw(span: &Span, params: &[Ref<Expr>], args: &[Value], _strict: bool) -> Result<Value> {
    let name = "io.jwt.encode_sign_raw";
    ensure_args_count(span, name, params, args, 3)?;
    let key = ensure_string(name, &params[2], &args[2])?;
    let headers = ensure_string(name, &params[0], &args[0])?;
    let payload = ensure_string(name, &params[1], &args[1])?;
    encode_sign(name, &headers, &payload, &key)
}
