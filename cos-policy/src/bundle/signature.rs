//! OPA bundle signatures: `.signatures.json` with one JWS (ES256) over the
//! list of the bundle's files and their hashes.
//!
//! Files are hashed the way OPA hashes them: `.json` files and `.manifest`
//! over OPA's canonical walk of the parsed document (object keys sorted by
//! their bytes, number literals as written, strings escaped as Go's JSON
//! encoder does without HTML escaping), `.yaml`/`.yml` data likewise after
//! conversion to JSON, every other file over its raw bytes. The JWS is
//! `{"alg":"ES256"}` (plus `kid` when a key id is given) over the claims
//! `{"files": [{"name", "hash", "algorithm": "SHA-256"}], "keyid"?, "scope"?}`.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use cos_core::{KeyAlgorithm, PrivateKey, PublicKey, Signer, Verifier};
use serde::{Deserialize, Serialize};
use sha2::Digest as _;

use crate::bundle::manifest::BUNDLE_MANIFEST;
use crate::bundle::pack::{PackFiles, SIGNATURES_FILE};
use crate::error::{Error, Result};

/// The hashing algorithm name OPA writes and cos accepts.
pub const HASH_ALGORITHM: &str = "SHA-256";

/// Largest `.signatures.json` accepted.
const MAX_SIGNATURES_FILE: usize = 1 << 20;

/// Options for signing or verifying a bundle (also as the bindings take
/// them: `{keyId, scope}` in JavaScript).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SignatureOptions {
    /// Key id: written as the JWS `kid` when signing; when verifying, a
    /// token that names a key id must name this one. OPA's CLI calls it
    /// `--signing-key-id` / `--verification-key-id` (default `default`).
    pub key_id: Option<String>,
    /// Scope claim: written when signing; required to match when verifying.
    pub scope: Option<String>,
}

/// One file entry of the signed claims.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileHash {
    /// Path inside the bundle, without a leading `/`.
    pub name: String,
    /// Lowercase hex hash.
    pub hash: String,
    /// Hash algorithm (`SHA-256`).
    pub algorithm: String,
}

/// The claims of a bundle signature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedClaims {
    /// Every file of the bundle but `.signatures.json`.
    pub files: Vec<FileHash>,
    /// Key id claim (deprecated by OPA in favour of the `kid` header).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keyid: Option<String>,
    /// Scope claim.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// Issued-at, seconds (OPA writes it when a claims file has it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    /// Issuer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct SignaturesFile {
    signatures: Vec<String>,
}

#[derive(Debug, Serialize, Deserialize)]
struct JwsHeader {
    alg: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    kid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    typ: Option<String>,
}

fn sig_err(reason: impl Into<String>) -> Error {
    Error::SignatureInvalid {
        file: None,
        reason: reason.into(),
    }
}

fn file_err(file: &str, reason: impl Into<String>) -> Error {
    Error::SignatureInvalid {
        file: Some(file.to_owned()),
        reason: reason.into(),
    }
}

// ------------------------------------------------------------ OPA's hash

/// A JSON value with number literals kept as written.
enum J {
    Null,
    Bool(bool),
    Num(String),
    Str(String),
    Arr(Vec<J>),
    Obj(BTreeMap<String, J>),
}

fn from_serde(v: &serde_json::Value) -> J {
    match v {
        serde_json::Value::Null => J::Null,
        serde_json::Value::Bool(b) => J::Bool(*b),
        serde_json::Value::Number(n) => J::Num(match n.as_f64() {
            Some(f) if n.is_f64() => go_json_float(f),
            _ => n.to_string(),
        }),
        serde_json::Value::String(s) => J::Str(s.clone()),
        serde_json::Value::Array(a) => J::Arr(a.iter().map(from_serde).collect()),
        serde_json::Value::Object(o) => {
            J::Obj(o.iter().map(|(k, v)| (k.clone(), from_serde(v))).collect())
        }
    }
}

/// Formats a float the way Go's `encoding/json` does (OPA converts YAML to
/// JSON through it): shortest round-trip digits, plain notation for
/// `1e-6 <= |f| < 1e21`, otherwise exponent form with a signed exponent
/// (`1e+21`, `1e-7`).
fn go_json_float(f: f64) -> String {
    let a = f.abs();
    if a == 0.0 || (1e-6..1e21).contains(&a) {
        format!("{f}")
    } else {
        let e = format!("{f:e}");
        match e.split_once('e') {
            Some((m, x)) if !x.starts_with('-') => format!("{m}e+{x}"),
            _ => e,
        }
    }
}

/// Parses JSON keeping number literals; duplicate keys: the last wins (as
/// Go's maps do).
struct LiteralParser<'a> {
    s: &'a [u8],
    text: &'a str,
    pos: usize,
    depth: usize,
}

impl LiteralParser<'_> {
    fn err(&self, what: &str) -> String {
        format!("{what} at byte {}", self.pos)
    }
    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.s.get(self.pos) {
            self.pos += 1;
        }
    }
    fn value(&mut self) -> std::result::Result<J, String> {
        self.depth += 1;
        if self.depth > 512 {
            return Err(self.err("nesting too deep"));
        }
        self.ws();
        let out = match self.s.get(self.pos) {
            Some(b'{') => {
                self.pos += 1;
                let mut map = BTreeMap::new();
                self.ws();
                if self.s.get(self.pos) == Some(&b'}') {
                    self.pos += 1;
                } else {
                    loop {
                        self.ws();
                        let k = self.string()?;
                        self.ws();
                        if self.s.get(self.pos) != Some(&b':') {
                            return Err(self.err("expected ':'"));
                        }
                        self.pos += 1;
                        let v = self.value()?;
                        map.insert(k, v);
                        self.ws();
                        match self.s.get(self.pos) {
                            Some(b',') => self.pos += 1,
                            Some(b'}') => {
                                self.pos += 1;
                                break;
                            }
                            _ => return Err(self.err("expected ',' or '}'")),
                        }
                    }
                }
                J::Obj(map)
            }
            Some(b'[') => {
                self.pos += 1;
                let mut items = Vec::new();
                self.ws();
                if self.s.get(self.pos) == Some(&b']') {
                    self.pos += 1;
                } else {
                    loop {
                        items.push(self.value()?);
                        self.ws();
                        match self.s.get(self.pos) {
                            Some(b',') => self.pos += 1,
                            Some(b']') => {
                                self.pos += 1;
                                break;
                            }
                            _ => return Err(self.err("expected ',' or ']'")),
                        }
                    }
                }
                J::Arr(items)
            }
            Some(b'"') => J::Str(self.string()?),
            Some(b't') if self.s[self.pos..].starts_with(b"true") => {
                self.pos += 4;
                J::Bool(true)
            }
            Some(b'f') if self.s[self.pos..].starts_with(b"false") => {
                self.pos += 5;
                J::Bool(false)
            }
            Some(b'n') if self.s[self.pos..].starts_with(b"null") => {
                self.pos += 4;
                J::Null
            }
            Some(b'-' | b'0'..=b'9') => {
                let start = self.pos;
                while let Some(b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9') =
                    self.s.get(self.pos)
                {
                    self.pos += 1;
                }
                let lit = &self.text[start..self.pos];
                // Validate with serde_json's number grammar.
                serde_json::from_str::<serde_json::Number>(lit)
                    .map_err(|_| self.err("invalid number"))?;
                J::Num(lit.to_owned())
            }
            _ => return Err(self.err("unexpected character")),
        };
        self.depth -= 1;
        Ok(out)
    }
    fn string(&mut self) -> std::result::Result<String, String> {
        if self.s.get(self.pos) != Some(&b'"') {
            return Err(self.err("expected a string"));
        }
        let start = self.pos;
        self.pos += 1;
        loop {
            match self.s.get(self.pos) {
                None => return Err(self.err("unterminated string")),
                Some(b'\\') => self.pos += 2,
                Some(b'"') => {
                    self.pos += 1;
                    break;
                }
                Some(_) => self.pos += 1,
            }
        }
        let raw = self
            .text
            .get(start..self.pos)
            .ok_or_else(|| self.err("invalid string"))?;
        serde_json::from_str::<String>(raw).map_err(|e| self.err(&format!("invalid string: {e}")))
    }
}

fn parse_literal_json(bytes: &[u8]) -> std::result::Result<J, String> {
    let text = std::str::from_utf8(bytes).map_err(|_| "not UTF-8".to_owned())?;
    let mut p = LiteralParser {
        s: text.as_bytes(),
        text,
        pos: 0,
        depth: 0,
    };
    let v = p.value()?;
    p.ws();
    if p.pos != p.s.len() {
        return Err(p.err("trailing characters"));
    }
    Ok(v)
}

/// Go's `encoding/json` string encoding (Go 1.22+) with HTML escaping off.
fn go_string(s: &str, out: &mut Vec<u8>) {
    out.push(b'"');
    for c in s.chars() {
        match c {
            '"' => out.extend_from_slice(b"\\\""),
            '\\' => out.extend_from_slice(b"\\\\"),
            '\n' => out.extend_from_slice(b"\\n"),
            '\r' => out.extend_from_slice(b"\\r"),
            '\t' => out.extend_from_slice(b"\\t"),
            // Go 1.22 and later write \b and \f in short form.
            '\u{8}' => out.extend_from_slice(b"\\b"),
            '\u{c}' => out.extend_from_slice(b"\\f"),
            '\u{2028}' => out.extend_from_slice(b"\\u2028"),
            '\u{2029}' => out.extend_from_slice(b"\\u2029"),
            c if (c as u32) < 0x20 => {
                out.extend_from_slice(format!("\\u{:04x}", c as u32).as_bytes())
            }
            c => {
                let mut buf = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
        }
    }
    out.push(b'"');
}

fn walk(v: &J, out: &mut Vec<u8>) {
    match v {
        J::Null => out.extend_from_slice(b"null"),
        J::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        J::Num(n) => out.extend_from_slice(n.as_bytes()),
        J::Str(s) => go_string(s, out),
        J::Arr(items) => {
            out.push(b'[');
            for (i, x) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                walk(x, out);
            }
            out.push(b']');
        }
        J::Obj(map) => {
            // BTreeMap<String> orders by bytes, as Go's sort.Strings does.
            out.push(b'{');
            for (i, (k, x)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                go_string(k, out);
                out.push(b':');
                walk(x, out);
            }
            out.push(b'}');
        }
    }
}

/// Whether OPA hashes a bundle file in canonical (structured) form: only
/// files whose base name is `data.json`, `data.yaml`, `data.yml` or
/// `.manifest` (OPA's `IsStructuredDoc`). Every other file, including other
/// `.json` and `.yaml` files, is hashed over its raw bytes.
pub fn is_structured_doc(name: &str) -> bool {
    let base = name.rsplit('/').next().unwrap_or(name);
    matches!(
        base,
        "data.json" | "data.yaml" | "data.yml" | BUNDLE_MANIFEST
    )
}

/// The hash OPA computes for one bundle file, as lowercase hex.
///
/// Structured files ([`is_structured_doc`]) are parsed (a UTF-8 byte-order
/// mark stripped; JSON if the bytes are JSON, else YAML, whatever the
/// extension, as OPA's `util.Unmarshal` does) and hashed in OPA's canonical
/// form: keys in byte order, number literals as written, no whitespace.
/// Every other file is hashed as raw bytes.
pub fn opa_file_hash(name: &str, bytes: &[u8]) -> Result<String> {
    let structured = if is_structured_doc(name) {
        let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        Some(match parse_literal_json(body) {
            Ok(v) => v,
            Err(json_err) => {
                if let Some(e) = cos_core::text::yaml_nesting_error(body) {
                    return Err(file_err(
                        name,
                        format!("neither JSON ({json_err}) nor YAML ({e})"),
                    ));
                }
                let v: serde_json::Value = yaml_serde::from_slice(body).map_err(|e| {
                    file_err(name, format!("neither JSON ({json_err}) nor YAML ({e})"))
                })?;
                from_serde(&v)
            }
        })
    } else {
        None
    };
    let digest = match structured {
        Some(v) => {
            let mut buf = Vec::with_capacity(bytes.len());
            walk(&v, &mut buf);
            sha2::Sha256::digest(&buf)
        }
        None => sha2::Sha256::digest(bytes),
    };
    Ok(hex_lower(&digest))
}

fn hex_lower(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

// ------------------------------------------------------------ sign / verify

/// Computes the `.signatures.json` bytes for a bundle's files (every file
/// but `.signatures.json` is listed, sorted by name).
pub fn sign_files(
    files: &BTreeMap<String, Vec<u8>>,
    key: &PrivateKey,
    opts: &SignatureOptions,
) -> Result<Vec<u8>> {
    if key.algorithm() != KeyAlgorithm::EcdsaP256 {
        return Err(sig_err(format!(
            "OPA bundle signatures use ES256: an ECDSA P-256 key is needed, not {}",
            key.algorithm()
        )));
    }
    let entries = files
        .iter()
        .filter(|(name, _)| name.as_str() != SIGNATURES_FILE)
        .map(|(name, bytes)| {
            Ok(FileHash {
                name: name.clone(),
                hash: opa_file_hash(name, bytes)?,
                algorithm: HASH_ALGORITHM.into(),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let claims = SignedClaims {
        files: entries,
        keyid: None,
        scope: opts.scope.clone(),
        iat: None,
        iss: None,
    };
    let header = JwsHeader {
        alg: "ES256".into(),
        kid: opts.key_id.clone(),
        typ: None,
    };
    let signing_input = format!("{}.{}", b64_json(&header)?, b64_json(&claims)?);
    let der = key.sign(signing_input.as_bytes())?;
    let fixed = cos_core::key::ecdsa_p256_der_to_fixed(&der)?;
    let jws = format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(fixed));
    serde_json::to_vec(&SignaturesFile {
        signatures: vec![jws],
    })
    .map_err(|e| sig_err(e.to_string()))
}

fn b64_json<T: Serialize>(v: &T) -> Result<String> {
    let json = serde_json::to_vec(v).map_err(|e| sig_err(e.to_string()))?;
    Ok(URL_SAFE_NO_PAD.encode(json))
}

/// What a verified signature covered (serialized, the bindings' result
/// shape; ADR-0020).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerifiedSignature {
    /// The verified claims.
    pub claims: SignedClaims,
    /// The `kid` header, if any.
    pub key_id: Option<String>,
}

/// Verifies a bundle's `.signatures.json` against its files: the JWS must be
/// ES256 and verify with `key`, and the signed list must name exactly the
/// bundle's files (but `.signatures.json`) with their OPA hashes. Errors
/// name the file that is missing, extra or changed.
pub fn verify_files(
    files: &PackFiles,
    key: &PublicKey,
    opts: &SignatureOptions,
) -> Result<VerifiedSignature> {
    let raw = files
        .get(SIGNATURES_FILE)
        .ok_or_else(|| sig_err("bundle is not signed (no .signatures.json)"))?;
    if raw.len() > MAX_SIGNATURES_FILE {
        return Err(sig_err(".signatures.json is larger than 1 MiB"));
    }
    let sf: SignaturesFile = serde_json::from_slice(raw)
        .map_err(|e| file_err(SIGNATURES_FILE, format!("not a signatures file: {e}")))?;
    let [jws] = sf.signatures.as_slice() else {
        return Err(file_err(
            SIGNATURES_FILE,
            format!(
                "expected exactly one signature, found {}",
                sf.signatures.len()
            ),
        ));
    };
    let mut parts = jws.split('.');
    let (Some(h64), Some(p64), Some(s64), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(file_err(
            SIGNATURES_FILE,
            "signature is not a compact JWS (three parts)",
        ));
    };
    let decode = |what: &str, part: &str| {
        URL_SAFE_NO_PAD
            .decode(part)
            .map_err(|e| file_err(SIGNATURES_FILE, format!("JWS {what} is not base64url: {e}")))
    };
    let header: JwsHeader = serde_json::from_slice(&decode("header", h64)?)
        .map_err(|e| file_err(SIGNATURES_FILE, format!("JWS header: {e}")))?;
    if header.alg != "ES256" {
        return Err(file_err(
            SIGNATURES_FILE,
            format!(
                "JWS algorithm {:?} is not supported (ES256 only)",
                header.alg
            ),
        ));
    }
    if key.algorithm() != KeyAlgorithm::EcdsaP256 {
        return Err(sig_err(
            "ES256 signatures need an ECDSA P-256 verification key",
        ));
    }
    let sig = decode("signature", s64)?;
    let der = cos_core::key::ecdsa_p256_fixed_to_der(&sig)
        .map_err(|_| file_err(SIGNATURES_FILE, "ES256 signature is not 64 bytes"))?;
    key.verify(format!("{h64}.{p64}").as_bytes(), &der)
        .map_err(|_| {
            file_err(
                SIGNATURES_FILE,
                "signature does not verify with the given key",
            )
        })?;
    let claims: SignedClaims = serde_json::from_slice(&decode("payload", p64)?)
        .map_err(|e| file_err(SIGNATURES_FILE, format!("JWS claims: {e}")))?;

    let named = header.kid.clone().or_else(|| claims.keyid.clone());
    if let (Some(named), Some(expected)) = (&named, &opts.key_id)
        && named != expected
    {
        return Err(sig_err(format!(
            "signed with key id {named:?}, expected {expected:?}"
        )));
    }
    if let Some(expected) = &opts.scope
        && claims.scope.as_deref() != Some(expected.as_str())
    {
        return Err(sig_err(format!(
            "scope {:?} does not match the expected {expected:?}",
            claims.scope
        )));
    }
    let mut listed: BTreeMap<&str, &FileHash> = BTreeMap::new();
    for f in &claims.files {
        let name = f.name.strip_prefix('/').unwrap_or(&f.name);
        if listed.insert(name, f).is_some() {
            return Err(file_err(name, "listed twice in the signature"));
        }
    }
    for (name, bytes) in files.iter() {
        if name == SIGNATURES_FILE {
            continue;
        }
        let entry = listed.remove(name).ok_or_else(|| {
            file_err(
                name,
                "is in the bundle but not in its signature (extra file)",
            )
        })?;
        if !entry.algorithm.eq_ignore_ascii_case(HASH_ALGORITHM) {
            return Err(file_err(
                name,
                format!("hash algorithm {:?} is not supported", entry.algorithm),
            ));
        }
        if opa_file_hash(name, bytes)? != entry.hash.to_ascii_lowercase() {
            return Err(file_err(
                name,
                "content does not match its signed hash (changed file)",
            ));
        }
    }
    if let Some((name, _)) = listed.into_iter().next() {
        return Err(file_err(
            name,
            "is in the signature but missing from the bundle",
        ));
    }
    Ok(VerifiedSignature {
        claims,
        key_id: header.kid,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bundle::pack::Limits;

    fn walked(json: &str) -> String {
        let mut out = Vec::new();
        walk(&parse_literal_json(json.as_bytes()).unwrap(), &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn opa_walk_form() {
        assert_eq!(
            walked(r#"{"b": 1.50, "a": [true, null, 1e2], "é": "<&>"}"#),
            r#"{"a":[true,null,1e2],"b":1.50,"é":"<&>"}"#
        );
        // Keys by bytes, not UTF-16: U+FB33 (EF AC B3) sorts before U+1F600 (F0 9F 98 80).
        assert_eq!(
            walked("{\"\u{1f600}\": 1, \"\u{fb33}\": 2}"),
            "{\"\u{fb33}\":2,\"\u{1f600}\":1}"
        );
        assert_eq!(
            walked(r#"["\u2028\b\f\u0001\"\\/"]"#),
            r#"["\u2028\b\f\u0001\"\\/"]"#
        );
        assert_eq!(walked(r#"{"a":1,"a":2}"#), r#"{"a":2}"#);
        assert!(parse_literal_json(b"{").is_err());
        assert!(parse_literal_json(b"[01x]").is_err());
    }

    fn bundle() -> BTreeMap<String, Vec<u8>> {
        BTreeMap::from([
            (
                ".manifest".to_owned(),
                br#"{"revision":"r1","roots":["x"]}"#.to_vec(),
            ),
            (
                "x/p.rego".to_owned(),
                b"package x\n\nallow := true\n".to_vec(),
            ),
            ("x/data.json".to_owned(), br#"{"k": [1, 2]}"#.to_vec()),
        ])
    }

    fn files_with(map: &BTreeMap<String, Vec<u8>>, sig: &[u8]) -> PackFiles {
        let mut m = map.clone();
        m.insert(SIGNATURES_FILE.to_owned(), sig.to_vec());
        let gz = crate::bundle::pack::write_tar_gz(&m, 0).unwrap();
        PackFiles::from_archive(&gz, &Limits::default()).unwrap()
    }

    #[test]
    fn sign_and_verify_with_tampering() {
        let key = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
        let other = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
        let opts = SignatureOptions::default();
        let b = bundle();
        let sig = sign_files(&b, &key, &opts).unwrap();
        let ok = verify_files(&files_with(&b, &sig), key.public_key(), &opts).unwrap();
        assert_eq!(ok.claims.files.len(), 3);

        let wrong = verify_files(&files_with(&b, &sig), other.public_key(), &opts).unwrap_err();
        assert!(wrong.to_string().contains("does not verify"), "{wrong}");

        let mut changed = b.clone();
        changed.insert("x/p.rego".into(), b"package x\n\nallow := false\n".to_vec());
        let e = verify_files(&files_with(&changed, &sig), key.public_key(), &opts).unwrap_err();
        assert!(
            e.to_string().contains("x/p.rego") && e.to_string().contains("changed"),
            "{e}"
        );

        // Reformatting JSON is not a change (OPA hashes the parsed document).
        let mut reformatted = b.clone();
        reformatted.insert("x/data.json".into(), b"{ \"k\" : [ 1 , 2 ] }\n".to_vec());
        verify_files(&files_with(&reformatted, &sig), key.public_key(), &opts).unwrap();

        let mut extra = b.clone();
        extra.insert("x/extra.rego".into(), b"package x\n".to_vec());
        let e = verify_files(&files_with(&extra, &sig), key.public_key(), &opts).unwrap_err();
        assert!(
            e.to_string().contains("x/extra.rego") && e.to_string().contains("extra"),
            "{e}"
        );

        let mut missing = b.clone();
        missing.remove("x/data.json");
        let e = verify_files(&files_with(&missing, &sig), key.public_key(), &opts).unwrap_err();
        assert!(
            e.to_string().contains("x/data.json") && e.to_string().contains("missing"),
            "{e}"
        );

        let unsigned = PackFiles::from_archive(
            &crate::bundle::pack::write_tar_gz(&b, 0).unwrap(),
            &Limits::default(),
        )
        .unwrap();
        assert!(
            verify_files(&unsigned, key.public_key(), &opts)
                .unwrap_err()
                .to_string()
                .contains("not signed")
        );
    }

    #[test]
    fn key_id_scope_and_algorithms() {
        let key = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
        let b = bundle();
        let opts = SignatureOptions {
            key_id: Some("release".into()),
            scope: Some("write".into()),
        };
        let sig = sign_files(&b, &key, &opts).unwrap();
        let files = files_with(&b, &sig);
        let v = verify_files(&files, key.public_key(), &opts).unwrap();
        assert_eq!(v.key_id.as_deref(), Some("release"));
        let e = verify_files(
            &files,
            key.public_key(),
            &SignatureOptions {
                key_id: Some("other".into()),
                scope: None,
            },
        )
        .unwrap_err();
        assert!(e.to_string().contains("key id"), "{e}");
        let e = verify_files(
            &files,
            key.public_key(),
            &SignatureOptions {
                key_id: None,
                scope: Some("read".into()),
            },
        )
        .unwrap_err();
        assert!(e.to_string().contains("scope"), "{e}");

        let ed = PrivateKey::generate(KeyAlgorithm::Ed25519).unwrap();
        assert!(sign_files(&b, &ed, &SignatureOptions::default()).is_err());

        // alg "none" and friends are refused before any key is used.
        let none = format!(
            "{{\"signatures\":[\"{}.{}.\"]}}",
            URL_SAFE_NO_PAD.encode(br#"{"alg":"none"}"#),
            URL_SAFE_NO_PAD.encode(br#"{"files":[]}"#)
        );
        let e = verify_files(
            &files_with(&b, none.as_bytes()),
            key.public_key(),
            &SignatureOptions::default(),
        )
        .unwrap_err();
        assert!(e.to_string().contains("not supported"), "{e}");
        for junk in [
            &b"{}"[..],
            b"[]",
            br#"{"signatures":[]}"#,
            br#"{"signatures":["a.b"]}"#,
            br#"{"signatures":["!.!.!"]}"#,
        ] {
            assert_eq!(
                verify_files(
                    &files_with(&b, junk),
                    key.public_key(),
                    &SignatureOptions::default()
                )
                .unwrap_err()
                .code(),
                "signature_invalid"
            );
        }
    }
}
