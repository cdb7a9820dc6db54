// cos patch 26: OPA's crypto.x509.* parsing builtins and
// crypto.parse_private_keys (v1/topdown/crypto.go in OPA 1.22.2, built with
// Go 1.26). Their results are Go's encoding/json of crypto/x509's structs;
// this file parses DER as Go's crypto/x509 (cryptobyte) does and writes the
// same objects. What it cannot reproduce exactly fails with
// `LimitError::Unsupported` (name constraints, DSA keys, multi-prime RSA,
// URIs needing escapes, times with offsets, ...), never a different answer.
#![allow(
    clippy::as_conversions,
    clippy::unused_trait_names,
    clippy::pattern_type_mismatch
)]

use crate::ast::{Expr, Ref};
use crate::builtins;
use crate::builtins::crypto::{b64std_decode, pem_decode};
use crate::builtins::utils::{ensure_args_count, ensure_object, ensure_string};
use crate::lexer::Span;
use crate::number::Number;
use crate::utils::limits::LimitError;
use crate::value::Value;
use crate::*;

use alloc::collections::{BTreeMap, BTreeSet};
use anyhow::{anyhow, bail, Result};
use base64::Engine as _;
use num_bigint::{BigInt, BigUint, Sign};
use num_traits::{One, Zero};

pub fn register(m: &mut builtins::BuiltinsMap<&'static str, builtins::BuiltinFcn>) {
    m.insert("crypto.x509.parse_certificates", (parse_certificates, 1));
    m.insert(
        "crypto.x509.parse_certificate_request",
        (parse_certificate_request, 1),
    );
    m.insert(
        "crypto.x509.parse_rsa_private_key",
        (parse_rsa_private_key, 1),
    );
    m.insert("crypto.parse_private_keys", (parse_private_keys, 1));
    m.insert("crypto.x509.parse_keypair", (parse_keypair, 2));
    m.insert(
        "crypto.x509.parse_and_verify_certificates",
        (parse_and_verify_certificates, 1),
    );
    m.insert(
        "crypto.x509.parse_and_verify_certificates_with_options",
        (parse_and_verify_certificates_with_options, 2),
    );
}

// ------------------------------------------------------------ errors

/// A failure: Go's error (a builtin error) or an input this engine cannot
/// answer as OPA does.
enum Fail {
    Go(String),
    Unsupported(&'static str),
}

type R<T> = core::result::Result<T, Fail>;

fn go<T>(msg: &str) -> R<T> {
    Err(Fail::Go(msg.to_string()))
}

fn unsupported<T>(what: &'static str) -> R<T> {
    Err(Fail::Unsupported(what))
}

fn finish(builtin: &'static str, r: R<Value>) -> Result<Value> {
    match r {
        Ok(v) => Ok(v),
        Err(Fail::Go(m)) => bail!("{builtin}: {m}"),
        Err(Fail::Unsupported(what)) => Err(LimitError::Unsupported { builtin, what }.into()),
    }
}

// ------------------------------------------------------------ DER (cryptobyte)

const SEQUENCE: u8 = 0x30;
const SET: u8 = 0x31;
const INTEGER: u8 = 0x02;
const BOOLEAN: u8 = 0x01;
const BIT_STRING: u8 = 0x03;
const OCTET_STRING: u8 = 0x04;
const OID: u8 = 0x06;
const UTC_TIME: u8 = 0x17;
const GENERALIZED_TIME: u8 = 0x18;

#[derive(Clone, Copy)]
struct Rd<'a>(&'a [u8]);

impl<'a> Rd<'a> {
    fn empty(&self) -> bool {
        self.0.is_empty()
    }

    /// cryptobyte's readASN1: (tag, contents, whole element).
    fn any(&mut self) -> Option<(u8, &'a [u8], &'a [u8])> {
        let s = self.0;
        let tag = *s.first()?;
        let len_byte = *s.get(1)?;
        if tag & 0x1f == 0x1f {
            return None;
        }
        let (length, header): (usize, usize) = if len_byte & 0x80 == 0 {
            (len_byte as usize, 2)
        } else {
            let n = (len_byte & 0x7f) as usize;
            if n == 0 || n > 4 || s.len() < 2 + n {
                return None;
            }
            let mut l: u32 = 0;
            for b in s.get(2..2 + n)? {
                l = (l << 8) | u32::from(*b);
            }
            if l < 128 || (l >> ((n - 1) * 8)) == 0 {
                return None;
            }
            (l as usize, 2 + n)
        };
        let total = header.checked_add(length)?;
        if s.len() < total {
            return None;
        }
        let el = s.get(..total)?;
        let contents = s.get(header..total)?;
        self.0 = s.get(total..)?;
        Some((tag, contents, el))
    }

    fn read(&mut self, tag: u8) -> Option<&'a [u8]> {
        let mut c = *self;
        let (t, contents, _) = c.any()?;
        if t != tag {
            return None;
        }
        *self = c;
        Some(contents)
    }

    fn read_el(&mut self, tag: u8) -> Option<&'a [u8]> {
        let mut c = *self;
        let (t, _, el) = c.any()?;
        if t != tag {
            return None;
        }
        *self = c;
        Some(el)
    }

    fn peek(&self, tag: u8) -> bool {
        self.0.first() == Some(&tag)
    }

    /// Some(None) when absent, None when malformed.
    fn optional(&mut self, tag: u8) -> Option<Option<&'a [u8]>> {
        if !self.peek(tag) {
            return Some(None);
        }
        self.read(tag).map(Some)
    }

    fn big_int(&mut self) -> Option<BigInt> {
        let b = self.read(INTEGER)?;
        check_int(b)?;
        Some(BigInt::from_signed_bytes_be(b))
    }

    fn int64_contents(b: &[u8]) -> Option<i64> {
        check_int(b)?;
        if b.len() > 8 {
            return None;
        }
        let mut v: i64 = if b.first()? & 0x80 != 0 { -1 } else { 0 };
        for x in b {
            v = (v << 8) | i64::from(*x);
        }
        Some(v)
    }

    fn int64(&mut self) -> Option<i64> {
        let b = self.read(INTEGER)?;
        Self::int64_contents(b)
    }

    fn boolean(&mut self) -> Option<bool> {
        let b = self.read(BOOLEAN)?;
        match b {
            [0] => Some(false),
            [0xff] => Some(true),
            _ => None,
        }
    }

    fn oid(&mut self) -> Option<Vec<i64>> {
        let b = self.read(OID)?;
        oid_components(b)
    }

    /// (bytes, padding bits)
    fn bit_string(&mut self) -> Option<(&'a [u8], u8)> {
        let b = self.read(BIT_STRING)?;
        let (pad, bytes) = b.split_first()?;
        let pad = *pad;
        if pad > 7 || (bytes.is_empty() && pad != 0) {
            return None;
        }
        if let Some(last) = bytes.last() {
            if last & ((1u8 << pad) - 1) != 0 {
                return None;
            }
        }
        Some((bytes, pad))
    }
}

fn check_int(b: &[u8]) -> Option<()> {
    match b {
        [] => None,
        [_] => Some(()),
        [0, x, ..] if x & 0x80 == 0 => None,
        [0xff, x, ..] if x & 0x80 != 0 => None,
        _ => Some(()),
    }
}

/// cryptobyte's ReadASN1ObjectIdentifier over the contents.
fn oid_components(mut b: &[u8]) -> Option<Vec<i64>> {
    fn base128(b: &mut &[u8]) -> Option<i64> {
        let mut ret: i64 = 0;
        let mut i = 0;
        while let Some((&x, rest)) = b.split_first() {
            if i == 5 || ret >= 1 << (31 - 7) {
                return None;
            }
            ret <<= 7;
            if i == 0 && x == 0x80 {
                return None;
            }
            *b = rest;
            ret |= i64::from(x & 0x7f);
            if x & 0x80 == 0 {
                return Some(ret);
            }
            i += 1;
        }
        None
    }
    if b.is_empty() {
        return None;
    }
    let v = base128(&mut b)?;
    let mut out = if v < 80 {
        vec![v / 40, v % 40]
    } else {
        vec![2, v - 80]
    };
    while !b.is_empty() {
        out.push(base128(&mut b)?);
    }
    Some(out)
}

/// The dotted form of x509.OID's DER (newOIDFromDER's checks).
fn oid_der_string(der: &[u8]) -> Option<String> {
    if der.is_empty() || der.last()? & 0x80 != 0 {
        return None;
    }
    let mut start = true;
    for (i, &x) in der.iter().enumerate() {
        if start && x == 0x80 {
            return None;
        }
        start = x & 0x80 == 0;
        let _ = i;
    }
    let mut parts: Vec<String> = Vec::new();
    let mut val = BigUint::zero();
    let mut first = true;
    for &x in der {
        val = (val << 7u32) | BigUint::from(x & 0x7f);
        if x & 0x80 == 0 {
            if first {
                let forty = BigUint::from(40u32);
                let eighty = BigUint::from(80u32);
                if val < eighty {
                    parts.push((&val / &forty).to_string());
                    parts.push((&val % &forty).to_string());
                } else {
                    parts.push("2".to_string());
                    parts.push((&val - &eighty).to_string());
                }
                first = false;
            } else {
                parts.push(val.to_string());
            }
            val = BigUint::zero();
        }
    }
    Some(parts.join("."))
}

// ------------------------------------------------------------ JSON pieces

fn obj(fields: Vec<(&str, Value)>) -> Value {
    let mut m = BTreeMap::new();
    for (k, v) in fields {
        m.insert(Value::from(k), v);
    }
    Value::from(m)
}

fn b64(bytes: &[u8]) -> Value {
    Value::from(base64::engine::general_purpose::STANDARD.encode(bytes))
}

fn opt_b64(bytes: Option<&[u8]>) -> Value {
    bytes.map_or(Value::Null, b64)
}

fn big(n: BigInt) -> Value {
    Value::from(Number::from(n))
}

fn ubig(n: &BigUint) -> Value {
    big(BigInt::from_biguint(Sign::Plus, n.clone()))
}

fn strs(v: &[String]) -> Value {
    if v.is_empty() {
        return Value::Null;
    }
    Value::from(
        v.iter()
            .map(|s| Value::from(s.as_str()))
            .collect::<Vec<_>>(),
    )
}

fn oid_value(o: &[i64]) -> Value {
    Value::from(o.iter().map(|c| Value::from(*c)).collect::<Vec<_>>())
}

fn oids(v: &[Vec<i64>]) -> Value {
    if v.is_empty() {
        return Value::Null;
    }
    Value::from(v.iter().map(|o| oid_value(o)).collect::<Vec<_>>())
}

// ------------------------------------------------------------ strings, names

fn is_printable(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || (b'\''..=b')').contains(&b)
        || (b'+'..=b'/').contains(&b)
        || matches!(b, b' ' | b':' | b'=' | b'?' | b'*' | b'&')
}

fn asn1_string(tag: u8, v: &[u8]) -> core::result::Result<String, String> {
    match tag {
        20 => Ok(v.iter().map(|b| char::from(*b)).collect()),
        19 => {
            if v.iter().all(|b| is_printable(*b)) {
                Ok(String::from_utf8_lossy(v).into_owned())
            } else {
                Err("invalid PrintableString".into())
            }
        }
        12 => core::str::from_utf8(v)
            .map(|s| s.to_string())
            .map_err(|_| "invalid UTF-8 string".to_string()),
        30 => {
            if v.len() % 2 != 0 {
                return Err("invalid BMPString".into());
            }
            let mut v = v;
            if v.len() >= 2 && v[v.len() - 1] == 0 && v[v.len() - 2] == 0 {
                v = &v[..v.len() - 2];
            }
            let mut units = Vec::with_capacity(v.len() / 2);
            for c in v.chunks_exact(2) {
                let p = (u16::from(c[0]) << 8) | u16::from(c[1]);
                if p == 0xfffe
                    || p == 0xffff
                    || (0xfdd0..=0xfdef).contains(&p)
                    || (0xd800..=0xdfff).contains(&p)
                {
                    return Err("invalid BMPString".into());
                }
                units.push(p);
            }
            Ok(String::from_utf16_lossy(&units))
        }
        22 => {
            if v.is_ascii() {
                Ok(String::from_utf8_lossy(v).into_owned())
            } else {
                Err("invalid IA5String".into())
            }
        }
        18 => {
            if v.iter().all(|b| b.is_ascii_digit() || *b == b' ') {
                Ok(String::from_utf8_lossy(v).into_owned())
            } else {
                Err("invalid NumericString".into())
            }
        }
        t => Err(format!("unsupported string type: {t}")),
    }
}

/// parseName + pkix.Name.FillFromRDNSequence, as JSON.
fn parse_name(raw: &[u8], csr: bool) -> R<Value> {
    let mut r = Rd(raw);
    let Some(seq) = r.read(SEQUENCE) else {
        return go("x509: invalid RDNSequence");
    };
    let mut seq = Rd(seq);
    let mut names = Vec::new();
    let mut cn = String::new();
    let mut serial = String::new();
    let mut lists: BTreeMap<i64, Vec<String>> = BTreeMap::new();
    while !seq.empty() {
        let Some(set) = seq.read(SET) else {
            return go("x509: invalid RDNSequence");
        };
        let mut set = Rd(set);
        while !set.empty() {
            let Some(atav) = set.read(SEQUENCE) else {
                return go("x509: invalid RDNSequence: invalid attribute");
            };
            let mut atav = Rd(atav);
            let Some(typ) = atav.oid() else {
                return go("x509: invalid RDNSequence: invalid attribute type");
            };
            let Some((tag, val, _)) = atav.any() else {
                return go("x509: invalid RDNSequence: invalid attribute value");
            };
            if csr
                && (!matches!(tag, 19 | 12 | 22 | 18 | 20 | 30) || (tag == 20 && !val.is_ascii()))
            {
                return unsupported(
                    "certificate request subjects with values encoding/asn1 reads differently",
                );
            }
            let value = asn1_string(tag, val).map_err(|e| {
                Fail::Go(format!(
                    "x509: invalid RDNSequence: invalid attribute value: {e}"
                ))
            })?;
            if typ.len() == 4 && typ[0] == 2 && typ[1] == 5 && typ[2] == 4 {
                match typ[3] {
                    3 => cn = value.clone(),
                    5 => serial = value.clone(),
                    6 | 7 | 8 | 9 | 10 | 11 | 17 => {
                        lists.entry(typ[3]).or_default().push(value.clone())
                    }
                    _ => {}
                }
            }
            names.push(obj(vec![
                ("Type", oid_value(&typ)),
                ("Value", Value::from(value)),
            ]));
        }
    }
    let l = |k: i64| strs(lists.get(&k).map(|v| v.as_slice()).unwrap_or(&[]));
    Ok(obj(vec![
        ("CommonName", Value::from(cn)),
        ("Country", l(6)),
        ("ExtraNames", Value::Null),
        ("Locality", l(7)),
        (
            "Names",
            if names.is_empty() {
                Value::Null
            } else {
                Value::from(names)
            },
        ),
        ("Organization", l(10)),
        ("OrganizationalUnit", l(11)),
        ("PostalCode", l(17)),
        ("Province", l(8)),
        ("SerialNumber", Value::from(serial)),
        ("StreetAddress", l(9)),
    ]))
}

// ------------------------------------------------------------ time

fn digits(s: &[u8]) -> Option<u32> {
    let mut v = 0u32;
    for b in s {
        if !b.is_ascii_digit() {
            return None;
        }
        v = v * 10 + u32::from(b - b'0');
    }
    Some(v)
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ => {
            if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 {
                29
            } else {
                28
            }
        }
    }
}

/// The fields after the year (MMDDhhmm[ss]) and the zone: Go's time.Parse
/// with the layout, then the re-format check. Only "Z" is reproduced.
fn time_rest(year: i64, b: &[u8], seconds: bool) -> R<Option<String>> {
    let n = if seconds { 10 } else { 8 };
    if b.len() < n {
        return Ok(None);
    }
    let (body, zone) = b.split_at(n);
    let f = |i: usize| digits(&body[i..i + 2]);
    let (Some(mo), Some(d), Some(h), Some(mi)) = (f(0), f(2), f(4), f(6)) else {
        return Ok(None);
    };
    let s = if seconds {
        match f(8) {
            Some(s) => s,
            None => return Ok(None),
        }
    } else {
        0
    };
    if !(1..=12).contains(&mo)
        || d < 1
        || d > days_in_month(year, mo)
        || h > 23
        || mi > 59
        || s > 59
    {
        return Ok(None);
    }
    match zone {
        b"Z" => {}
        [b'+' | b'-', rest @ ..] if rest.len() == 4 && rest.iter().all(u8::is_ascii_digit) => {
            return unsupported("certificate times with a UTC offset");
        }
        _ => return Ok(None),
    }
    Ok(Some(format!(
        "{year:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z"
    )))
}

fn parse_time(r: &mut Rd<'_>) -> R<String> {
    if r.peek(UTC_TIME) {
        let Some(b) = r.read(UTC_TIME) else {
            return go("x509: malformed UTCTime");
        };
        let Some(yy) = b.get(..2).and_then(digits) else {
            return go("x509: malformed UTCTime");
        };
        let year = if yy >= 50 {
            1900 + i64::from(yy)
        } else {
            2000 + i64::from(yy)
        };
        if let Some(t) = time_rest(year, &b[2..], true)? {
            return Ok(t);
        }
        if let Some(t) = time_rest(year, &b[2..], false)? {
            return Ok(t);
        }
        go("x509: malformed UTCTime")
    } else if r.peek(GENERALIZED_TIME) {
        let Some(b) = r.read(GENERALIZED_TIME) else {
            return go("x509: malformed GeneralizedTime");
        };
        let Some(y) = b.get(..4).and_then(digits) else {
            return go("x509: malformed GeneralizedTime");
        };
        match time_rest(i64::from(y), &b[4..], true)? {
            Some(t) => Ok(t),
            None => go("x509: malformed GeneralizedTime"),
        }
    } else {
        go("x509: unsupported time format")
    }
}

// ------------------------------------------------------------ keys

const OID_RSA: &[i64] = &[1, 2, 840, 113549, 1, 1, 1];
const OID_DSA: &[i64] = &[1, 2, 840, 10040, 4, 1];
const OID_EC: &[i64] = &[1, 2, 840, 10045, 2, 1];
const OID_ED25519: &[i64] = &[1, 3, 101, 112];
const OID_X25519: &[i64] = &[1, 3, 101, 110];

#[derive(Clone, Copy, PartialEq, Eq)]
enum Curve {
    P256,
    P384,
    P521,
}

impl Curve {
    fn of(oid: &[i64]) -> R<Curve> {
        match oid {
            [1, 2, 840, 10045, 3, 1, 7] => Ok(Curve::P256),
            [1, 3, 132, 0, 34] => Ok(Curve::P384),
            [1, 3, 132, 0, 35] => Ok(Curve::P521),
            [1, 3, 132, 0, 33] => unsupported("the P-224 curve"),
            _ => go("x509: unsupported elliptic curve"),
        }
    }
    fn size(self) -> usize {
        match self {
            Curve::P256 => 32,
            Curve::P384 => 48,
            Curve::P521 => 66,
        }
    }
    fn name(self) -> &'static str {
        match self {
            Curve::P256 => "P-256",
            Curve::P384 => "P-384",
            Curve::P521 => "P-521",
        }
    }
    /// (p, b, n) of y^2 = x^3 - 3x + b.
    fn params(self) -> (BigUint, BigUint, BigUint) {
        let h = |s: &str| BigUint::parse_bytes(s.as_bytes(), 16).unwrap_or_default();
        match self {
            Curve::P256 => (
                h("ffffffff00000001000000000000000000000000ffffffffffffffffffffffff"),
                h("5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604b"),
                h("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551"),
            ),
            Curve::P384 => (
                h("fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffeffffffff0000000000000000ffffffff"),
                h("b3312fa7e23ee7e4988e056be3f82d19181d9c6efe8141120314088f5013875ac656398d8a2ed19d2a85c8edd3ec2aef"),
                h("ffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973"),
            ),
            Curve::P521 => (
                (BigUint::one() << 521u32) - BigUint::one(),
                h("0051953eb9618e1c9a1f929a21a0b68540eea2da725b99b315f3b8b489918ef109e156193951ec7e937b1652c0bd3bb1bf073573df883d2c34f1ef451fd46b503f00"),
                h("01fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffa51868783bf2f966b7fcc0148f709a5d03bb5c9b8899c47aebb6fb71e91386409"),
            ),
        }
    }
}

#[derive(Clone, PartialEq, Eq)]
enum PubKey {
    Rsa {
        n: BigUint,
        e: i64,
    },
    Ec {
        curve: Curve,
        x: BigUint,
        y: BigUint,
    },
    Ed25519(Vec<u8>),
    /// Go's UnknownPublicKeyAlgorithm (X25519, unknown OIDs): no key.
    None,
}

impl PubKey {
    fn to_value(&self) -> Value {
        match self {
            PubKey::Rsa { n, e } => obj(vec![("E", Value::from(*e)), ("N", ubig(n))]),
            PubKey::Ec { x, y, .. } => obj(vec![
                ("Curve", Value::new_object()),
                ("X", ubig(x)),
                ("Y", ubig(y)),
            ]),
            PubKey::Ed25519(k) => b64(k),
            PubKey::None => Value::Null,
        }
    }
    fn algorithm(&self) -> i64 {
        match self {
            PubKey::Rsa { .. } => 1,
            PubKey::Ec { .. } => 3,
            PubKey::Ed25519(_) => 4,
            PubKey::None => 0,
        }
    }
}

/// ecdsa.ParseUncompressedPublicKey.
fn ec_point(curve: Curve, data: &[u8]) -> R<PubKey> {
    let size = curve.size();
    if data.len() != 1 + 2 * size || data[0] != 4 {
        return go("ecdsa: invalid public key");
    }
    let x = BigUint::from_bytes_be(&data[1..1 + size]);
    let y = BigUint::from_bytes_be(&data[1 + size..]);
    let (p, b, _) = curve.params();
    if x >= p || y >= p {
        return go("ecdsa: invalid public key");
    }
    let three = BigUint::from(3u32);
    let rhs = (&x * &x % &p * &x + &b + &p * &three - (&three * &x) % &p) % &p;
    if (&y * &y) % &p != rhs {
        return go("ecdsa: invalid public key");
    }
    Ok(PubKey::Ec { curve, x, y })
}

/// A parsed AlgorithmIdentifier: OID and the parameters' full DER.
struct Ai<'a> {
    oid: Vec<i64>,
    params: &'a [u8],
}

fn parse_ai(der: &[u8]) -> R<Ai<'_>> {
    let mut r = Rd(der);
    let Some(oid) = r.oid() else {
        return go("x509: malformed OID");
    };
    if r.empty() {
        return Ok(Ai { oid, params: &[] });
    }
    let Some((_, _, el)) = r.any() else {
        return go("x509: malformed parameters");
    };
    Ok(Ai { oid, params: el })
}

/// parsePublicKey for an algorithm Go knows (others give PubKey::None).
fn parse_public_key(ai: &Ai<'_>, bits: &[u8], pad: u8) -> R<PubKey> {
    let known = [OID_RSA, OID_DSA, OID_EC, OID_ED25519].contains(&ai.oid.as_slice());
    if !known {
        return Ok(PubKey::None);
    }
    if pad != 0 {
        return unsupported("public keys of a bit string that is not whole bytes");
    }
    match ai.oid.as_slice() {
        OID_RSA => {
            if ai.params != [5, 0] {
                return go("x509: RSA key missing NULL parameters");
            }
            let mut r = Rd(bits);
            let Some(seq) = r.read(SEQUENCE) else {
                return go("x509: invalid RSA public key");
            };
            let mut s = Rd(seq);
            let Some(n) = s.big_int() else {
                return go("x509: invalid RSA modulus");
            };
            let Some(e) = s.int64() else {
                return go("x509: invalid RSA public exponent");
            };
            let Some(n) = n.to_biguint().filter(|n| !n.is_zero()) else {
                return go("x509: RSA modulus is not a positive number");
            };
            if e <= 0 {
                return go("x509: RSA public exponent is not a positive number");
            }
            Ok(PubKey::Rsa { n, e })
        }
        OID_EC => {
            let mut p = Rd(ai.params);
            let Some(c) = p.oid() else {
                return go("x509: invalid ECDSA parameters");
            };
            let curve = Curve::of(&c)?;
            ec_point(curve, bits)
        }
        OID_ED25519 => {
            if !ai.params.is_empty() {
                return go("x509: Ed25519 key encoded with illegal parameters");
            }
            if bits.len() != 32 {
                return go("x509: wrong Ed25519 public key size");
            }
            Ok(PubKey::Ed25519(bits.to_vec()))
        }
        _ => unsupported("DSA public keys"),
    }
}

const PSS_PARAMS: [(&[u8], i64); 3] = [
    (
        &[
            48, 52, 160, 15, 48, 13, 6, 9, 96, 134, 72, 1, 101, 3, 4, 2, 1, 5, 0, 161, 28, 48, 26,
            6, 9, 42, 134, 72, 134, 247, 13, 1, 1, 8, 48, 13, 6, 9, 96, 134, 72, 1, 101, 3, 4, 2,
            1, 5, 0, 162, 3, 2, 1, 32,
        ],
        13,
    ),
    (
        &[
            48, 52, 160, 15, 48, 13, 6, 9, 96, 134, 72, 1, 101, 3, 4, 2, 2, 5, 0, 161, 28, 48, 26,
            6, 9, 42, 134, 72, 134, 247, 13, 1, 1, 8, 48, 13, 6, 9, 96, 134, 72, 1, 101, 3, 4, 2,
            2, 5, 0, 162, 3, 2, 1, 48,
        ],
        14,
    ),
    (
        &[
            48, 52, 160, 15, 48, 13, 6, 9, 96, 134, 72, 1, 101, 3, 4, 2, 3, 5, 0, 161, 28, 48, 26,
            6, 9, 42, 134, 72, 134, 247, 13, 1, 1, 8, 48, 13, 6, 9, 96, 134, 72, 1, 101, 3, 4, 2,
            3, 5, 0, 162, 3, 2, 1, 64,
        ],
        15,
    ),
];

/// getSignatureAlgorithmFromAI.
fn signature_algorithm(ai: &Ai<'_>) -> R<i64> {
    Ok(match ai.oid.as_slice() {
        [1, 2, 840, 113549, 1, 1, 4] => 2,
        [1, 2, 840, 113549, 1, 1, 5] | [1, 3, 14, 3, 2, 29] => 3,
        [1, 2, 840, 113549, 1, 1, 11] => 4,
        [1, 2, 840, 113549, 1, 1, 12] => 5,
        [1, 2, 840, 113549, 1, 1, 13] => 6,
        [1, 2, 840, 10040, 4, 3] => 7,
        [2, 16, 840, 1, 101, 3, 4, 3, 2] => 8,
        [1, 2, 840, 10045, 4, 1] => 9,
        [1, 2, 840, 10045, 4, 3, 2] => 10,
        [1, 2, 840, 10045, 4, 3, 3] => 11,
        [1, 2, 840, 10045, 4, 3, 4] => 12,
        [1, 3, 101, 112] => {
            if ai.params.is_empty() {
                16
            } else {
                0
            }
        }
        [1, 2, 840, 113549, 1, 1, 10] => match PSS_PARAMS.iter().find(|(p, _)| *p == ai.params) {
            Some((_, a)) => *a,
            None => return unsupported("RSA-PSS signature parameters other than Go's three"),
        },
        _ => 0,
    })
}

// ------------------------------------------------------------ SANs, URIs

fn is_ia5(s: &[u8]) -> bool {
    s.is_ascii()
}

fn domain_name_valid(s: &str) -> bool {
    if s.is_empty() {
        return true;
    }
    if s.ends_with('.') {
        return false;
    }
    s.split('.')
        .all(|l| !l.is_empty() && l.bytes().all(|b| (33..=126).contains(&b)))
}

struct Uri {
    scheme: String,
    opaque: String,
    host: String,
    path: String,
    omit_host: bool,
    text: String,
}

fn path_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-_.~$&+,/:;=@".contains(&b)
}

/// Go's url.Parse for the URIs whose parse this engine reproduces
/// exactly: no escapes, query, fragment or user info.
fn parse_uri(s: &str) -> R<Uri> {
    let b = s.as_bytes();
    if b.iter().any(|c| *c < 0x20 || *c == 0x7f) {
        return go(&format!(
            "x509: cannot parse URI {s:?}: net/url: invalid control character in URL"
        ));
    }
    if b.iter().any(|c| b"%#?@[] \\\"<>^`{|}".contains(c)) {
        return unsupported("URIs with escapes, queries, fragments or user info");
    }
    // getScheme
    let mut scheme = String::new();
    let mut rest = s;
    for (i, c) in s.bytes().enumerate() {
        if c.is_ascii_alphabetic() {
            continue;
        }
        if c.is_ascii_digit() || c == b'+' || c == b'-' || c == b'.' {
            if i == 0 {
                break;
            }
            continue;
        }
        if c == b':' {
            if i == 0 {
                return go(&format!(
                    "x509: cannot parse URI {s:?}: parse {s:?}: missing protocol scheme"
                ));
            }
            scheme = s[..i].to_ascii_lowercase();
            rest = &s[i + 1..];
        }
        break;
    }
    let mut u = Uri {
        scheme,
        opaque: String::new(),
        host: String::new(),
        path: String::new(),
        omit_host: false,
        text: String::new(),
    };
    if !rest.starts_with('/') {
        if !u.scheme.is_empty() {
            if !rest.bytes().all(path_char) {
                return unsupported("URIs with characters Go escapes");
            }
            u.opaque = rest.to_string();
            u.text = format!("{}:{}", u.scheme, u.opaque);
            return Ok(u);
        }
        return unsupported("relative URIs");
    }
    if !u.scheme.is_empty() && rest.starts_with("//") {
        let auth_rest = &rest[2..];
        let (auth, p) = match auth_rest.find('/') {
            Some(i) => (&auth_rest[..i], &auth_rest[i..]),
            None => (auth_rest, ""),
        };
        let (h, port) = match auth.rfind(':') {
            Some(i) => (&auth[..i], Some(&auth[i + 1..])),
            None => (auth, None),
        };
        if let Some(port) = port {
            if !port.bytes().all(|c| c.is_ascii_digit()) {
                return unsupported("URIs with an invalid port");
            }
        }
        if !h
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || b"-_.~".contains(&c))
        {
            return unsupported("URIs with characters Go escapes");
        }
        u.host = auth.to_string();
        rest = p;
    } else if !u.scheme.is_empty() {
        u.omit_host = true;
    }
    if !rest.bytes().all(path_char) {
        return unsupported("URIs with characters Go escapes");
    }
    u.path = rest.to_string();
    if !u.host.is_empty() && !domain_name_valid(&u.host) {
        return go(&format!("x509: cannot parse URI {s:?}: invalid domain"));
    }
    // URL.String
    let mut t = String::new();
    if !u.scheme.is_empty() {
        t.push_str(&u.scheme);
        t.push(':');
    }
    if !(u.omit_host && u.host.is_empty()) && (!u.host.is_empty() || !u.path.is_empty()) {
        t.push_str("//");
    }
    t.push_str(&u.host);
    t.push_str(&u.path);
    u.text = t;
    Ok(u)
}

impl Uri {
    fn to_value(&self) -> Value {
        obj(vec![
            ("ForceQuery", Value::from(false)),
            ("Fragment", Value::from("")),
            ("Host", Value::from(self.host.as_str())),
            ("OmitHost", Value::from(self.omit_host)),
            ("Opaque", Value::from(self.opaque.as_str())),
            ("Path", Value::from(self.path.as_str())),
            ("RawFragment", Value::from("")),
            ("RawPath", Value::from("")),
            ("RawQuery", Value::from("")),
            ("Scheme", Value::from(self.scheme.as_str())),
            ("User", Value::Null),
        ])
    }
}

/// net.IP.String().
fn ip_string(ip: &[u8]) -> String {
    let v4 = |b: &[u8]| format!("{}.{}.{}.{}", b[0], b[1], b[2], b[3]);
    if ip.len() == 4 {
        return v4(ip);
    }
    if ip[..10].iter().all(|b| *b == 0) && ip[10] == 0xff && ip[11] == 0xff {
        return v4(&ip[12..]);
    }
    let groups: Vec<u16> = ip
        .chunks_exact(2)
        .map(|c| (u16::from(c[0]) << 8) | u16::from(c[1]))
        .collect();
    // Longest run of zero groups (at least two), first on ties.
    let (mut best, mut best_len) = (usize::MAX, 0);
    let mut i = 0;
    while i < 8 {
        if groups[i] == 0 {
            let j = (i..8).find(|k| groups[*k] != 0).unwrap_or(8);
            if j - i > best_len && j - i >= 2 {
                best = i;
                best_len = j - i;
            }
            i = j;
        } else {
            i += 1;
        }
    }
    let mut s = String::new();
    let mut k = 0;
    while k < 8 {
        if k == best {
            s.push_str("::");
            k += best_len;
            continue;
        }
        if !s.is_empty() && !s.ends_with(':') {
            s.push(':');
        }
        s.push_str(&format!("{:x}", groups[k]));
        k += 1;
    }
    s
}

#[derive(Default)]
struct Sans {
    dns: Vec<String>,
    emails: Vec<String>,
    ips: Vec<String>,
    /// The IP addresses' bytes (4 or 16), for VerifyHostname.
    ip_raw: Vec<Vec<u8>>,
    uris: Vec<Uri>,
}

fn parse_sans(der: &[u8]) -> R<Sans> {
    let mut out = Sans::default();
    let mut r = Rd(der);
    let Some(seq) = r.read(SEQUENCE) else {
        return go("x509: invalid subject alternative names");
    };
    let mut seq = Rd(seq);
    while !seq.empty() {
        let Some((tag, data, _)) = seq.any() else {
            return go("x509: invalid subject alternative name");
        };
        match tag ^ 0x80 {
            1 => {
                if !is_ia5(data) {
                    return go("x509: SAN rfc822Name is malformed");
                }
                out.emails.push(String::from_utf8_lossy(data).into_owned());
            }
            2 => {
                if !is_ia5(data) {
                    return go("x509: SAN dNSName is malformed");
                }
                out.dns.push(String::from_utf8_lossy(data).into_owned());
            }
            6 => {
                if !is_ia5(data) {
                    return go("x509: SAN uniformResourceIdentifier is malformed");
                }
                out.uris.push(parse_uri(&String::from_utf8_lossy(data))?);
            }
            7 => match data.len() {
                4 | 16 => {
                    out.ips.push(ip_string(data));
                    out.ip_raw.push(data.to_vec());
                }
                n => return go(&format!("x509: cannot parse IP address of length {n}")),
            },
            _ => {}
        }
    }
    Ok(out)
}

fn sans_fields(s: &Sans, fields: &mut Vec<(&'static str, Value)>) {
    fields.push(("DNSNames", strs(&s.dns)));
    fields.push(("EmailAddresses", strs(&s.emails)));
    fields.push(("IPAddresses", strs(&s.ips)));
    fields.push((
        "URIs",
        if s.uris.is_empty() {
            Value::Null
        } else {
            Value::from(s.uris.iter().map(Uri::to_value).collect::<Vec<_>>())
        },
    ));
}

// ------------------------------------------------------------ certificates

struct Ext<'a> {
    id: Vec<i64>,
    critical: bool,
    value: &'a [u8],
}

fn parse_extension(der: &[u8]) -> R<Ext<'_>> {
    let mut r = Rd(der);
    let Some(id) = r.oid() else {
        return go("x509: malformed extension OID field");
    };
    let mut critical = false;
    if r.peek(BOOLEAN) {
        match r.boolean() {
            Some(c) => critical = c,
            None => return go("x509: malformed extension critical field"),
        }
    }
    let Some(value) = r.read(OCTET_STRING) else {
        return go("x509: malformed extension value field");
    };
    Ok(Ext {
        id,
        critical,
        value,
    })
}

fn ext_value(e: &Ext<'_>) -> Value {
    obj(vec![
        ("Critical", Value::from(e.critical)),
        ("Id", oid_value(&e.id)),
        ("Value", b64(e.value)),
    ])
}

const EKU: [&[i64]; 14] = [
    &[2, 5, 29, 37, 0],
    &[1, 3, 6, 1, 5, 5, 7, 3, 1],
    &[1, 3, 6, 1, 5, 5, 7, 3, 2],
    &[1, 3, 6, 1, 5, 5, 7, 3, 3],
    &[1, 3, 6, 1, 5, 5, 7, 3, 4],
    &[1, 3, 6, 1, 5, 5, 7, 3, 5],
    &[1, 3, 6, 1, 5, 5, 7, 3, 6],
    &[1, 3, 6, 1, 5, 5, 7, 3, 7],
    &[1, 3, 6, 1, 5, 5, 7, 3, 8],
    &[1, 3, 6, 1, 5, 5, 7, 3, 9],
    &[1, 3, 6, 1, 4, 1, 311, 10, 3, 3],
    &[2, 16, 840, 1, 113730, 4, 1],
    &[1, 3, 6, 1, 4, 1, 311, 2, 1, 22],
    &[1, 3, 6, 1, 4, 1, 311, 61, 1, 1],
];

/// What a certificate's extensions set (processExtensions).
struct ExtFields {
    key_usage: i64,
    is_ca: bool,
    max_path_len: i64,
    bc_valid: bool,
    sans: Sans,
    crl_dps: Vec<String>,
    akid: Option<Vec<u8>>,
    skid: Option<Vec<u8>>,
    require_explicit: Option<i64>,
    inhibit_mapping: Option<i64>,
    eku: Vec<i64>,
    unknown_eku: Vec<Vec<i64>>,
    policies: Option<Vec<String>>,
    policy_ids: Vec<Vec<i64>>,
    policy_mappings: Vec<(String, String)>,
    inhibit_any: Option<i64>,
    ocsp: Vec<String>,
    issuing: Vec<String>,
    unhandled: Vec<Vec<i64>>,
}

fn process_extensions(exts: &[Ext<'_>]) -> R<ExtFields> {
    let mut o = ExtFields {
        key_usage: 0,
        is_ca: false,
        max_path_len: 0,
        bc_valid: false,
        sans: Sans::default(),
        crl_dps: Vec::new(),
        akid: None,
        skid: None,
        require_explicit: None,
        inhibit_mapping: None,
        eku: Vec::new(),
        unknown_eku: Vec::new(),
        policies: None,
        policy_ids: Vec::new(),
        policy_mappings: Vec::new(),
        inhibit_any: None,
        ocsp: Vec::new(),
        issuing: Vec::new(),
        unhandled: Vec::new(),
    };
    for e in exts {
        let mut unhandled = false;
        let id = e.id.as_slice();
        if id.len() == 4 && id[0] == 2 && id[1] == 5 && id[2] == 29 {
            match id[3] {
                15 => {
                    let Some((bytes, pad)) = Rd(e.value).bit_string() else {
                        return go("x509: invalid key usage");
                    };
                    let bitlen = bytes.len() * 8 - pad as usize;
                    let mut usage = 0i64;
                    for i in 0..9usize {
                        if i < bitlen && bytes[i / 8] & (0x80 >> (i % 8)) != 0 {
                            usage |= 1 << i;
                        }
                    }
                    o.key_usage = usage;
                }
                19 => {
                    let mut r = Rd(e.value);
                    let Some(seq) = r.read(SEQUENCE) else {
                        return go("x509: invalid basic constraints");
                    };
                    let mut s = Rd(seq);
                    let mut is_ca = false;
                    if s.peek(BOOLEAN) {
                        match s.boolean() {
                            Some(b) => is_ca = b,
                            None => return go("x509: invalid basic constraints"),
                        }
                    }
                    let mut mpl = -1i64;
                    if s.peek(INTEGER) {
                        // uint: non-negative, fits an int.
                        match s.read(INTEGER).and_then(|b| {
                            check_int(b)?;
                            if b[0] & 0x80 != 0 || b.len() > 9 || (b.len() == 9 && b[0] != 0) {
                                return None;
                            }
                            let mut v: u64 = 0;
                            for x in b {
                                v = (v << 8) | u64::from(*x);
                            }
                            i64::try_from(v).ok()
                        }) {
                            Some(v) => mpl = v,
                            None => return go("x509: invalid basic constraints"),
                        }
                    }
                    o.is_ca = is_ca;
                    o.max_path_len = mpl;
                    o.bc_valid = true;
                }
                17 => {
                    o.sans = parse_sans(e.value)?;
                    let s = &o.sans;
                    if s.dns.is_empty()
                        && s.emails.is_empty()
                        && s.ips.is_empty()
                        && s.uris.is_empty()
                    {
                        unhandled = true;
                    }
                }
                30 => return unsupported("certificates with name constraints"),
                31 => {
                    let mut r = Rd(e.value);
                    let Some(val) = r.read(SEQUENCE) else {
                        return go("x509: invalid CRL distribution points");
                    };
                    let mut val = Rd(val);
                    while !val.empty() {
                        let Some(dp) = val.read(SEQUENCE) else {
                            return go("x509: invalid CRL distribution point");
                        };
                        let mut dp = Rd(dp);
                        let Some(name) = dp.optional(0xa0) else {
                            return go("x509: invalid CRL distribution point");
                        };
                        let Some(name) = name else { continue };
                        let Some(full) = Rd(name).read(0xa0) else {
                            return go("x509: invalid CRL distribution point");
                        };
                        let mut full = Rd(full);
                        while !full.empty() {
                            if !full.peek(0x86) {
                                break;
                            }
                            let Some(uri) = full.read(0x86) else {
                                return go("x509: invalid CRL distribution point");
                            };
                            o.crl_dps.push(String::from_utf8_lossy(uri).into_owned());
                            if core::str::from_utf8(uri).is_err() {
                                return unsupported("CRL distribution points that are not UTF-8");
                            }
                        }
                    }
                }
                35 => {
                    if e.critical {
                        return go("x509: authority key identifier incorrectly marked critical");
                    }
                    let Some(akid) = Rd(e.value).read(SEQUENCE) else {
                        return go("x509: invalid authority key identifier");
                    };
                    let mut akid = Rd(akid);
                    if akid.peek(0x80) {
                        match akid.read(0x80) {
                            Some(k) => o.akid = Some(k.to_vec()),
                            None => return go("x509: invalid authority key identifier"),
                        }
                    }
                }
                36 => {
                    let Some(val) = Rd(e.value).read(SEQUENCE) else {
                        return go("x509: invalid policy constraints extension");
                    };
                    let mut val = Rd(val);
                    for (tag, slot) in [
                        (0x80u8, &mut o.require_explicit),
                        (0x81u8, &mut o.inhibit_mapping),
                    ] {
                        if val.peek(tag) {
                            match val.read(tag).and_then(Rd::int64_contents) {
                                Some(v) => *slot = Some(v),
                                None => return go("x509: invalid policy constraints extension"),
                            }
                        }
                    }
                }
                37 => {
                    let Some(seq) = Rd(e.value).read(SEQUENCE) else {
                        return go("x509: invalid extended key usages");
                    };
                    let mut seq = Rd(seq);
                    let (mut known, mut unknown) = (Vec::new(), Vec::new());
                    while !seq.empty() {
                        let Some(u) = seq.oid() else {
                            return go("x509: invalid extended key usages");
                        };
                        match EKU.iter().position(|k| *k == u.as_slice()) {
                            Some(i) => known.push(i as i64),
                            None => unknown.push(u),
                        }
                    }
                    o.eku = known;
                    o.unknown_eku = unknown;
                }
                14 => {
                    if e.critical {
                        return go("x509: subject key identifier incorrectly marked critical");
                    }
                    let Some(k) = Rd(e.value).read(OCTET_STRING) else {
                        return go("x509: invalid subject key identifier");
                    };
                    o.skid = Some(k.to_vec());
                }
                32 => {
                    let Some(seq) = Rd(e.value).read(SEQUENCE) else {
                        return go("x509: invalid certificate policies");
                    };
                    let mut seq = Rd(seq);
                    let mut seen: Vec<&[u8]> = Vec::new();
                    let mut pols = Vec::new();
                    let mut ids = Vec::new();
                    while !seq.empty() {
                        let Some(cp) = seq.read(SEQUENCE) else {
                            return go("x509: invalid certificate policies");
                        };
                        let Some(der) = Rd(cp).read(OID) else {
                            return go("x509: invalid certificate policies");
                        };
                        if seen.contains(&der) {
                            return go("x509: invalid certificate policies");
                        }
                        seen.push(der);
                        let Some(s) = oid_der_string(der) else {
                            return go("x509: invalid certificate policies");
                        };
                        // toASN1OID: every component an int.
                        let comps: Option<Vec<i64>> =
                            s.split('.').map(|c| c.parse::<i64>().ok()).collect();
                        match comps {
                            Some(c) => ids.push(c),
                            None => {
                                return unsupported(
                                    "certificate policy OIDs with components over 63 bits",
                                )
                            }
                        }
                        pols.push(s);
                    }
                    o.policies = Some(pols);
                    o.policy_ids = ids;
                }
                33 => {
                    let Some(val) = Rd(e.value).read(SEQUENCE) else {
                        return go("x509: invalid policy mappings extension");
                    };
                    let mut val = Rd(val);
                    while !val.empty() {
                        let m = val.read(SEQUENCE).and_then(|s| {
                            let mut s = Rd(s);
                            Some((s.read(OID)?, s.read(OID)?))
                        });
                        let Some((i, s)) = m else {
                            return go("x509: invalid policy mappings extension");
                        };
                        match (oid_der_string(i), oid_der_string(s)) {
                            (Some(i), Some(s)) => o.policy_mappings.push((i, s)),
                            _ => return unsupported("malformed policy mapping OIDs"),
                        }
                    }
                }
                54 => match Rd(e.value).int64() {
                    Some(v) => o.inhibit_any = Some(v),
                    None => return go("x509: invalid inhibit any policy extension"),
                },
                _ => unhandled = true,
            }
        } else if id == [1, 3, 6, 1, 5, 5, 7, 1, 1] {
            if e.critical {
                return go("x509: authority info access incorrectly marked critical");
            }
            let Some(val) = Rd(e.value).read(SEQUENCE) else {
                return go("x509: invalid authority info access");
            };
            let mut val = Rd(val);
            while !val.empty() {
                let Some(aia) = val.read(SEQUENCE) else {
                    return go("x509: invalid authority info access");
                };
                let mut aia = Rd(aia);
                let Some(method) = aia.oid() else {
                    return go("x509: invalid authority info access");
                };
                if !aia.peek(0x86) {
                    continue;
                }
                let Some(loc) = aia.read(0x86) else {
                    return go("x509: invalid authority info access");
                };
                if core::str::from_utf8(loc).is_err() {
                    return unsupported("authority info access locations that are not UTF-8");
                }
                let loc = String::from_utf8_lossy(loc).into_owned();
                if method == [1, 3, 6, 1, 5, 5, 7, 48, 1] {
                    o.ocsp.push(loc);
                } else if method == [1, 3, 6, 1, 5, 5, 7, 48, 2] {
                    o.issuing.push(loc);
                }
            }
        } else {
            unhandled = true;
        }
        if e.critical && unhandled {
            o.unhandled.push(e.id.clone());
        }
    }
    Ok(o)
}

/// A parsed certificate: its JSON (Go's x509.Certificate) and what
/// parse_keypair needs.
struct Cert {
    raw_len: usize,
    value: Value,
    uri_strings: Option<Vec<String>>,
    key: PubKey,
    /// What crypto/x509's Verify reads (patch 33).
    v: VInfo,
}

/// The fields of a certificate that Go's `Certificate.Verify` reads.
struct VInfo {
    raw: Vec<u8>,
    raw_tbs: Vec<u8>,
    raw_issuer: Vec<u8>,
    raw_subject: Vec<u8>,
    raw_spki: Vec<u8>,
    version: i64,
    bc_valid: bool,
    is_ca: bool,
    max_path_len: i64,
    key_usage: i64,
    sig_alg: i64,
    signature: Vec<u8>,
    /// Unix seconds.
    not_before: i64,
    not_after: i64,
    eku: Vec<i64>,
    has_unknown_eku: bool,
    has_unhandled_critical: bool,
    akid: Vec<u8>,
    skid: Vec<u8>,
    dns: Vec<String>,
    ips: Vec<Vec<u8>>,
    /// The first subjectAltName extension's value (alreadyInChain).
    san: Option<Vec<u8>>,
    /// Certificate policies (dotted OIDs), mappings and constraints.
    policies: Vec<String>,
    policy_mappings: Vec<(String, String)>,
    require_explicit: Option<i64>,
    inhibit_mapping: Option<i64>,
    inhibit_any: Option<i64>,
}

fn parse_certificate(der: &[u8]) -> R<Cert> {
    let mut input = Rd(der);
    let Some(raw) = input.read_el(SEQUENCE) else {
        return go("x509: malformed certificate");
    };
    let Some(body) = Rd(raw).read(SEQUENCE) else {
        return go("x509: malformed certificate");
    };
    let mut body = Rd(body);
    let Some(raw_tbs) = body.read_el(SEQUENCE) else {
        return go("x509: malformed tbs certificate");
    };
    let Some(tbs) = Rd(raw_tbs).read(SEQUENCE) else {
        return go("x509: malformed tbs certificate");
    };
    let mut tbs = Rd(tbs);
    let mut version = 0i64;
    match tbs.optional(0xa0) {
        None => return go("x509: malformed version"),
        Some(None) => {}
        Some(Some(v)) => {
            let mut v = Rd(v);
            match v.int64() {
                Some(x) if v.empty() => version = x,
                _ => return go("x509: malformed version"),
            }
        }
    }
    if version < 0 {
        return go("x509: malformed version");
    }
    version += 1;
    if version > 3 {
        return go("x509: invalid version");
    }
    let Some(serial) = tbs.big_int() else {
        return go("x509: malformed serial number");
    };
    if serial.sign() == Sign::Minus {
        return go("x509: negative serial number");
    }
    let Some(sig_ai) = tbs.read(SEQUENCE) else {
        return go("x509: malformed signature algorithm identifier");
    };
    let Some(outer_ai) = body.read(SEQUENCE) else {
        return go("x509: malformed algorithm identifier");
    };
    if sig_ai != outer_ai {
        return go("x509: inner and outer signature algorithm identifiers don't match");
    }
    let sig_alg = signature_algorithm(&parse_ai(sig_ai)?)?;
    let Some(raw_issuer) = tbs.read_el(SEQUENCE) else {
        return go("x509: malformed issuer");
    };
    let issuer = parse_name(raw_issuer, false)?;
    let Some(validity) = tbs.read(SEQUENCE) else {
        return go("x509: malformed validity");
    };
    let mut validity = Rd(validity);
    let not_before = parse_time(&mut validity)?;
    let not_after = parse_time(&mut validity)?;
    let (Some(nb), Some(na)) = (unix_seconds(&not_before), unix_seconds(&not_after)) else {
        return unsupported("certificate times outside years 0-9999");
    };
    let Some(raw_subject) = tbs.read_el(SEQUENCE) else {
        return go("x509: malformed issuer");
    };
    let subject = parse_name(raw_subject, false)?;
    let Some(raw_spki) = tbs.read_el(SEQUENCE) else {
        return go("x509: malformed spki");
    };
    let key = parse_spki(raw_spki)?;
    let mut exts: Vec<Ext<'_>> = Vec::new();
    let mut seen_ext = false;
    if version > 1 {
        for tag in [0x81u8, 0x82u8] {
            if tbs.optional(tag).is_none() {
                return go(if tag == 0x81 {
                    "x509: malformed issuerUniqueID"
                } else {
                    "x509: malformed subjectUniqueID"
                });
            }
        }
        if version == 3 {
            let Some(present) = tbs.optional(0xa3) else {
                return go("x509: malformed extensions");
            };
            if let Some(e) = present {
                seen_ext = true;
                let Some(seq) = Rd(e).read(SEQUENCE) else {
                    return go("x509: malformed extensions");
                };
                let mut seq = Rd(seq);
                while !seq.empty() {
                    let Some(ext) = seq.read(SEQUENCE) else {
                        return go("x509: malformed extension");
                    };
                    let ext = parse_extension(ext)?;
                    if exts.iter().any(|x| x.id == ext.id) {
                        let s: Vec<String> = ext.id.iter().map(|c| c.to_string()).collect();
                        return go(&format!(
                            "x509: certificate contains duplicate extension with OID {:?}",
                            s.join(".")
                        ));
                    }
                    exts.push(ext);
                }
            }
        }
    }
    let f = if seen_ext {
        process_extensions(&exts)?
    } else {
        process_extensions(&[])?
    };
    let Some((sig, pad)) = body.bit_string() else {
        return go("x509: malformed signature");
    };
    if pad != 0 {
        return unsupported("signatures of a bit string that is not whole bytes");
    }
    let mut fields: Vec<(&'static str, Value)> = vec![
        ("AuthorityKeyId", opt_b64(f.akid.as_deref())),
        ("BasicConstraintsValid", Value::from(f.bc_valid)),
        ("CRLDistributionPoints", strs(&f.crl_dps)),
        ("ExcludedDNSDomains", Value::Null),
        ("ExcludedEmailAddresses", Value::Null),
        ("ExcludedIPRanges", Value::Null),
        ("ExcludedURIDomains", Value::Null),
        (
            "ExtKeyUsage",
            if f.eku.is_empty() {
                Value::Null
            } else {
                Value::from(f.eku.iter().map(|u| Value::from(*u)).collect::<Vec<_>>())
            },
        ),
        (
            "Extensions",
            if exts.is_empty() {
                Value::Null
            } else {
                Value::from(exts.iter().map(ext_value).collect::<Vec<_>>())
            },
        ),
        ("ExtraExtensions", Value::Null),
        ("InhibitAnyPolicy", Value::from(f.inhibit_any.unwrap_or(0))),
        (
            "InhibitAnyPolicyZero",
            Value::from(f.inhibit_any == Some(0)),
        ),
        (
            "InhibitPolicyMapping",
            Value::from(f.inhibit_mapping.unwrap_or(0)),
        ),
        (
            "InhibitPolicyMappingZero",
            Value::from(f.inhibit_mapping == Some(0)),
        ),
        ("IsCA", Value::from(f.is_ca)),
        ("Issuer", issuer),
        ("IssuingCertificateURL", strs(&f.issuing)),
        ("KeyUsage", Value::from(f.key_usage)),
        ("MaxPathLen", Value::from(f.max_path_len)),
        (
            "MaxPathLenZero",
            Value::from(f.bc_valid && f.max_path_len == 0),
        ),
        ("NotAfter", Value::from(not_after)),
        ("NotBefore", Value::from(not_before)),
        ("OCSPServer", strs(&f.ocsp)),
        ("PermittedDNSDomains", Value::Null),
        ("PermittedDNSDomainsCritical", Value::from(false)),
        ("PermittedEmailAddresses", Value::Null),
        ("PermittedIPRanges", Value::Null),
        ("PermittedURIDomains", Value::Null),
        (
            "Policies",
            match &f.policies {
                Some(p) if !p.is_empty() => strs(p),
                _ => Value::Null,
            },
        ),
        (
            "PolicyIdentifiers",
            match &f.policies {
                Some(_) => Value::from(
                    f.policy_ids
                        .iter()
                        .map(|o| oid_value(o))
                        .collect::<Vec<_>>(),
                ),
                None => Value::Null,
            },
        ),
        (
            "PolicyMappings",
            if f.policy_mappings.is_empty() {
                Value::Null
            } else {
                Value::from(
                    f.policy_mappings
                        .iter()
                        .map(|(i, s)| {
                            obj(vec![
                                ("IssuerDomainPolicy", Value::from(i.as_str())),
                                ("SubjectDomainPolicy", Value::from(s.as_str())),
                            ])
                        })
                        .collect::<Vec<_>>(),
                )
            },
        ),
        ("PublicKey", key.to_value()),
        ("PublicKeyAlgorithm", Value::from(key.algorithm())),
        ("Raw", b64(raw)),
        ("RawIssuer", b64(raw_issuer)),
        ("RawSubject", b64(raw_subject)),
        ("RawSubjectPublicKeyInfo", b64(raw_spki)),
        ("RawTBSCertificate", b64(raw_tbs)),
        (
            "RequireExplicitPolicy",
            Value::from(f.require_explicit.unwrap_or(0)),
        ),
        (
            "RequireExplicitPolicyZero",
            Value::from(f.require_explicit == Some(0)),
        ),
        ("SerialNumber", big(serial)),
        ("Signature", b64(sig)),
        ("SignatureAlgorithm", Value::from(sig_alg)),
        ("Subject", subject),
        ("SubjectKeyId", opt_b64(f.skid.as_deref())),
        ("UnhandledCriticalExtensions", oids(&f.unhandled)),
        ("UnknownExtKeyUsage", oids(&f.unknown_eku)),
        ("Version", Value::from(version)),
    ];
    let uri_strings = if f.sans.uris.is_empty() {
        None
    } else {
        Some(f.sans.uris.iter().map(|u| u.text.clone()).collect())
    };
    sans_fields(&f.sans, &mut fields);
    let v = VInfo {
        raw: raw.to_vec(),
        raw_tbs: raw_tbs.to_vec(),
        raw_issuer: raw_issuer.to_vec(),
        raw_subject: raw_subject.to_vec(),
        raw_spki: raw_spki.to_vec(),
        version,
        bc_valid: f.bc_valid,
        is_ca: f.is_ca,
        max_path_len: f.max_path_len,
        key_usage: f.key_usage,
        sig_alg,
        signature: sig.to_vec(),
        not_before: nb,
        not_after: na,
        eku: f.eku.clone(),
        has_unknown_eku: !f.unknown_eku.is_empty(),
        has_unhandled_critical: !f.unhandled.is_empty(),
        akid: f.akid.clone().unwrap_or_default(),
        skid: f.skid.clone().unwrap_or_default(),
        dns: f.sans.dns.clone(),
        ips: f.sans.ip_raw.clone(),
        san: exts
            .iter()
            .find(|e| e.id == [2, 5, 29, 17])
            .map(|e| e.value.to_vec()),
        policies: f.policies.clone().unwrap_or_default(),
        policy_mappings: f.policy_mappings.clone(),
        require_explicit: f.require_explicit,
        inhibit_mapping: f.inhibit_mapping,
        inhibit_any: f.inhibit_any,
    };
    Ok(Cert {
        raw_len: raw.len(),
        value: obj(fields),
        uri_strings,
        key,
        v,
    })
}

/// The SubjectPublicKeyInfo element: the key (parsePublicKey's rules).
fn parse_spki(raw_spki: &[u8]) -> R<PubKey> {
    let Some(spki) = Rd(raw_spki).read(SEQUENCE) else {
        return go("x509: malformed spki");
    };
    let mut spki = Rd(spki);
    let Some(pk_ai) = spki.read(SEQUENCE) else {
        return go("x509: malformed public key algorithm identifier");
    };
    let pk_ai = parse_ai(pk_ai)?;
    let Some((bits, pad)) = spki.bit_string() else {
        return go("x509: malformed subjectPublicKey");
    };
    parse_public_key(&pk_ai, bits, pad)
}

/// x509.ParseCertificates.
fn parse_certificates_der(mut der: &[u8]) -> R<Vec<Cert>> {
    let mut out = Vec::new();
    while !der.is_empty() {
        let c = parse_certificate(der)?;
        der = der.get(c.raw_len..).unwrap_or(&[]);
        out.push(c);
    }
    Ok(out)
}

fn certs_from_pem(mut s: &str) -> R<Vec<Cert>> {
    let mut der = Vec::new();
    while !s.is_empty() {
        let Some(b) = pem_decode(s) else { break };
        if b.typ != "CERTIFICATE" {
            return go(&format!(
                "PEM block type is '{}', expected CERTIFICATE",
                b.typ
            ));
        }
        der.extend_from_slice(&b.bytes);
        s = b.rest;
    }
    parse_certificates_der(&der)
}

/// getX509CertsFromString.
fn certs_from_string(s: &str) -> R<Vec<Cert>> {
    if s.starts_with("-----BEGIN") {
        return certs_from_pem(s);
    }
    let bytes = b64std_decode(s).map_err(Fail::Go)?;
    if bytes.starts_with(b"-----BEGIN") {
        return match core::str::from_utf8(&bytes) {
            Ok(t) => certs_from_pem(t),
            Err(_) => unsupported("PEM that is not UTF-8"),
        };
    }
    parse_certificates_der(&bytes)
}

fn extended(c: &Cert) -> Value {
    let mut v = c.value.clone();
    if let Ok(m) = v.as_object_mut() {
        m.insert(
            Value::from("URIStrings"),
            c.uri_strings.as_ref().map_or(Value::Null, |u| strs(u)),
        );
    }
    v
}

fn parse_certificates(
    span: &Span,
    params: &[Ref<Expr>],
    args: &[Value],
    _strict: bool,
) -> Result<Value> {
    let name = "crypto.x509.parse_certificates";
    ensure_args_count(span, name, params, args, 1)?;
    let s = ensure_string(name, &params[0], &args[0])?;
    finish(
        name,
        certs_from_string(&s).map(|cs| Value::from(cs.iter().map(extended).collect::<Vec<_>>())),
    )
}

// ------------------------------------------------------------ verification (patch 33)

/// Unix seconds of an RFC 3339 "YYYY-MM-DDTHH:MM:SSZ" (as parse_time writes).
fn unix_seconds(t: &str) -> Option<i64> {
    let b = t.as_bytes();
    if b.len() != 20 {
        return None;
    }
    let num = |r: core::ops::Range<usize>| -> Option<i64> { digits(b.get(r)?).map(i64::from) };
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, s) = (num(11..13)?, num(14..16)?, num(17..19)?);
    // days_from_civil (proleptic Gregorian).
    let y2 = if mo <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let mp = (mo + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + h * 3_600 + mi * 60 + s)
}

/// The options of Go's VerifyOptions that OPA sets.
struct VerifyOpts {
    dns_name: String,
    /// Nanoseconds since the epoch; None: the clock at the call.
    current_time: Option<i64>,
    key_usages: Vec<i64>,
}

const EKU_ANY: i64 = 0;
const EKU_SERVER_AUTH: i64 = 1;
const KEY_USAGE_CERT_SIGN: i64 = 1 << 5;
const MAX_CHAIN_SIGNATURE_CHECKS: usize = 100;

/// OPA's allowedKeyUsages: the option's names for Go's ExtKeyUsage values.
const KEY_USAGE_NAMES: [(&str, i64); 14] = [
    ("KeyUsageAny", 0),
    ("KeyUsageServerAuth", 1),
    ("KeyUsageClientAuth", 2),
    ("KeyUsageCodeSigning", 3),
    ("KeyUsageEmailProtection", 4),
    ("KeyUsageIPSECEndSystem", 5),
    ("KeyUsageIPSECTunnel", 6),
    ("KeyUsageIPSECUser", 7),
    ("KeyUsageTimeStamping", 8),
    ("KeyUsageOCSPSigning", 9),
    ("KeyUsageMicrosoftServerGatedCrypto", 10),
    ("KeyUsageNetscapeServerGatedCrypto", 11),
    ("KeyUsageMicrosoftCommercialCodeSigning", 12),
    ("KeyUsageMicrosoftKernelCodeSigning", 13),
];

fn now_unix_ns() -> i128 {
    match std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        Ok(d) => d.as_nanos() as i128,
        Err(e) => -(e.duration().as_nanos() as i128),
    }
}

/// ast.Number's Int64 (strconv.ParseInt of the number's text): an integer
/// kept as one; a float with a fraction fails as in Go; a float without one
/// (`1e9`, whose text OPA would refuse) cannot be told apart.
fn opt_int64(n: &Number, key: &'static str) -> R<i64> {
    match n {
        Number::Float(f) => {
            if f.is_finite() && f.fract() == 0.0 {
                unsupported("a verification option number written as a float (OPA reads its text)")
            } else {
                go(&format!("'{key}' should be a valid int64 number"))
            }
        }
        _ => match n.as_i64() {
            Some(v) => Ok(v),
            None => go(&format!("'{key}' should be a valid int64 number")),
        },
    }
}

/// extractVerifyOpts: string keys only, any other key type is skipped.
fn extract_verify_opts(options: &Value) -> R<VerifyOpts> {
    let mut o = VerifyOpts {
        dns_name: String::new(),
        current_time: None,
        key_usages: Vec::new(),
    };
    let Ok(map) = options.as_object() else {
        return go("operand 2 must be object");
    };
    for (k, v) in map.iter() {
        let Value::String(k) = k else { continue };
        match k.as_ref() {
            "DNSName" => {
                let Value::String(s) = v else {
                    return go("'DNSName' should be a string");
                };
                o.dns_name = s.trim_matches('"').to_string();
            }
            "CurrentTime" => {
                let Value::Number(n) = v else {
                    return go("'CurrentTime' should be a number");
                };
                o.current_time = Some(opt_int64(n, "CurrentTime")?);
            }
            "MaxConstraintComparisons" => {
                // Read by Go only for name constraints, which cos refuses.
                let Value::Number(n) = v else {
                    return go("'MaxConstraintComparisons' should be a number");
                };
                opt_int64(n, "MaxConstraintComparisons")?;
            }
            "KeyUsages" => {
                let items: Vec<&Value> = match v {
                    Value::Array(a) => a.iter().collect(),
                    Value::Set(s) => s.iter().collect(),
                    _ => return go("'KeyUsages' should be an Array or Set"),
                };
                let mut invalid = Vec::new();
                for item in items {
                    let Value::String(u) = item else { continue };
                    let u = u.trim_matches('"');
                    match KEY_USAGE_NAMES.iter().find(|(n, _)| *n == u) {
                        Some((_, k)) => o.key_usages.push(*k),
                        None => invalid.push(u.to_string()),
                    }
                }
                if !invalid.is_empty() {
                    return go(&format!(
                        "invalid entries for 'KeyUsages' found: [{}]",
                        invalid.join(" ")
                    ));
                }
            }
            _ => return go("invalid key option"),
        }
    }
    Ok(o)
}

/// An ECDSA signature's (r, s) as Go's parseSignature reads it (cryptobyte:
/// DER lengths, minimal non-negative integers, nothing trailing).
fn ecdsa_sig_parts(sig: &[u8]) -> Option<(&[u8], &[u8])> {
    let mut input = Rd(sig);
    let inner = input.read(SEQUENCE)?;
    if !input.empty() {
        return None;
    }
    let mut inner = Rd(inner);
    let mut int = || -> Option<&[u8]> {
        let b = inner.read(INTEGER)?;
        check_int(b)?;
        if b.first()? & 0x80 != 0 {
            return None;
        }
        Some(b)
    };
    let r = int()?;
    let s = int()?;
    if !inner.empty() {
        return None;
    }
    Some((r, s))
}

/// checkSignature(algo, signed, signature, parent key, allowSHA1 = false):
/// Ok(true) when valid, Ok(false) when Go fails.
fn check_signature(algo: i64, signed: &[u8], sig: &[u8], key: &PubKey) -> R<bool> {
    use crate::builtins::crypto::{self as c, Hash};
    // (hash, public key algorithm: 1 RSA, 2 DSA, 3 ECDSA, 4 Ed25519, pss)
    let (hash, pk_alg, pss) = match algo {
        4 => (Some(Hash::Sha256), 1, false),
        5 => (Some(Hash::Sha384), 1, false),
        6 => (Some(Hash::Sha512), 1, false),
        13 => (Some(Hash::Sha256), 1, true),
        14 => (Some(Hash::Sha384), 1, true),
        15 => (Some(Hash::Sha512), 1, true),
        8 => (Some(Hash::Sha256), 2, false),
        10 => (Some(Hash::Sha256), 3, false),
        11 => (Some(Hash::Sha384), 3, false),
        12 => (Some(Hash::Sha512), 3, false),
        16 => (None, 4, false),
        // Unknown and MD2 (no hash), MD5 and SHA-1 (insecure): Go refuses.
        _ => return Ok(false),
    };
    match key {
        PubKey::Rsa { n, e } => {
            if pk_alg != 1 {
                return Ok(false);
            }
            let Some(hash) = hash else { return Ok(false) };
            // fips140/rsa checkPublicKey.
            let e = *e;
            if n.bits() == 0 || !n.bit(0) || e < 2 || e & 1 == 0 || e > (1i64 << 31) - 1 {
                return Ok(false);
            }
            if c::check_rsa_size("crypto.x509.parse_and_verify_certificates", n).is_err() {
                return unsupported("RSA keys outside 1024-16384 bits in a certificate chain");
            }
            let e = BigUint::from(e as u64);
            let d = c::digest(hash.ring(), signed);
            Ok(if pss {
                let hl = d.len();
                c::rsa_verify_pss_salt(n, &e, hash, &d, sig, Some(hl))
            } else {
                c::rsa_verify_pkcs1(n, &e, hash, &d, sig)
            })
        }
        PubKey::Ec { curve, x, y } => {
            if pk_alg != 3 {
                return Ok(false);
            }
            let Some(hash) = hash else { return Ok(false) };
            let Some((r, s)) = ecdsa_sig_parts(sig) else {
                return Ok(false);
            };
            let size = curve.size();
            // A big-endian integer as `size` bytes (None: too long).
            let fit = |b: &[u8]| -> Option<Vec<u8>> {
                let first = b.iter().position(|x| *x != 0).unwrap_or(b.len());
                let b = b.get(first..)?;
                if b.len() > size {
                    return None;
                }
                let mut out = vec![0u8; size - b.len()];
                out.extend_from_slice(b);
                Some(out)
            };
            let (Some(px), Some(py)) = (fit(&x.to_bytes_be()), fit(&y.to_bytes_be())) else {
                return Ok(false);
            };
            let mut point = vec![4u8];
            point.extend_from_slice(&px);
            point.extend_from_slice(&py);
            let cc = match curve {
                Curve::P256 => c::Curve::P256,
                Curve::P384 => c::Curve::P384,
                Curve::P521 => c::Curve::P521,
            };
            match (curve, hash) {
                (Curve::P256 | Curve::P384, Hash::Sha256 | Hash::Sha384) => {
                    match c::ecdsa_verify(
                        "crypto.x509.parse_and_verify_certificates",
                        cc,
                        &point,
                        hash,
                        signed,
                        r,
                        s,
                    ) {
                        Ok(ok) => Ok(ok),
                        Err(_) => {
                            unsupported("this ECDSA curve and hash pair in a certificate chain")
                        }
                    }
                }
                // Go's hashToNat: the hash truncated to the order's bits
                // (ecdsa's bytes2scalar does the same, for any length).
                (Curve::P521, _) => {
                    use p521::ecdsa::signature::hazmat::PrehashVerifier;
                    let (Some(mut rs), Some(sb)) = (fit(r), fit(s)) else {
                        return Ok(false);
                    };
                    rs.extend_from_slice(&sb);
                    let Ok(vk) = p521::ecdsa::VerifyingKey::from_sec1_bytes(&point) else {
                        return Ok(false);
                    };
                    let Ok(sig) = p521::ecdsa::Signature::from_slice(&rs) else {
                        return Ok(false);
                    };
                    Ok(vk
                        .verify_prehash(&c::digest(hash.ring(), signed), &sig)
                        .is_ok())
                }
                (Curve::P256, _) => {
                    use p256::ecdsa::signature::hazmat::PrehashVerifier;
                    let (Some(mut rs), Some(sb)) = (fit(r), fit(s)) else {
                        return Ok(false);
                    };
                    rs.extend_from_slice(&sb);
                    let Ok(vk) = p256::ecdsa::VerifyingKey::from_sec1_bytes(&point) else {
                        return Ok(false);
                    };
                    let Ok(sig) = p256::ecdsa::Signature::from_slice(&rs) else {
                        return Ok(false);
                    };
                    Ok(vk
                        .verify_prehash(&c::digest(hash.ring(), signed), &sig)
                        .is_ok())
                }
                (Curve::P384, _) => {
                    unsupported("ECDSA certificate signatures with P-384 and SHA-512")
                }
            }
        }
        PubKey::Ed25519(pk) => {
            if pk_alg != 4 {
                return Ok(false);
            }
            Ok(
                ring::signature::UnparsedPublicKey::new(&ring::signature::ED25519, pk)
                    .verify(signed, sig)
                    .is_ok(),
            )
        }
        PubKey::None => Ok(false),
    }
}

/// Certificate.CheckSignatureFrom(parent).
fn check_signature_from(child: &Cert, parent: &Cert) -> R<bool> {
    let p = &parent.v;
    if (p.version == 3 && !p.bc_valid) || (p.bc_valid && !p.is_ca) {
        return Ok(false);
    }
    if p.key_usage != 0 && p.key_usage & KEY_USAGE_CERT_SIGN == 0 {
        return Ok(false);
    }
    if matches!(parent.key, PubKey::None) {
        return Ok(false);
    }
    check_signature(
        child.v.sig_alg,
        &child.v.raw_tbs,
        &child.v.signature,
        &parent.key,
    )
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum CertType {
    Leaf,
    Intermediate,
    Root,
}

/// Certificate.isValid: Ok(false) where Go returns an error.
fn is_valid(c: &Cert, typ: CertType, chain: &[&Cert], now_ns: i128) -> bool {
    let v = &c.v;
    if v.has_unhandled_critical {
        return false;
    }
    if let Some(child) = chain.last() {
        if child.v.raw_issuer != v.raw_subject {
            return false;
        }
    }
    let nb = i128::from(v.not_before) * 1_000_000_000;
    let na = i128::from(v.not_after) * 1_000_000_000;
    if now_ns < nb || now_ns > na {
        return false;
    }
    if typ != CertType::Leaf && chain.is_empty() {
        return false;
    }
    if typ == CertType::Intermediate && (!v.bc_valid || !v.is_ca) {
        return false;
    }
    if v.bc_valid && v.max_path_len >= 0 {
        let num_intermediates = chain.len() as i64 - 1;
        if num_intermediates > v.max_path_len {
            return false;
        }
    }
    true
}

/// alreadyInChain: same subject, key and subjectAltName (or none).
fn already_in_chain(cand: &Cert, chain: &[&Cert]) -> bool {
    for c in chain {
        if cand.v.raw_subject != c.v.raw_subject || cand.v.raw_spki != c.v.raw_spki {
            continue;
        }
        match (&cand.v.san, &c.v.san) {
            (None, None) => return true,
            (None, _) | (_, None) => return false,
            (Some(a), Some(b)) => {
                if a == b {
                    return true;
                }
            }
        }
    }
    false
}

/// CertPool.findPotentialParents: the pool's certificates whose subject is
/// the child's issuer, those whose key id matches first.
fn potential_parents<'a>(pool: &[&'a Cert], child: &Cert) -> Vec<&'a Cert> {
    let (mut matching, mut one, mut mismatch) = (Vec::new(), Vec::new(), Vec::new());
    for cand in pool {
        if cand.v.raw_subject != child.v.raw_issuer {
            continue;
        }
        let (skid, akid) = (&cand.v.skid, &child.v.akid);
        if skid == akid {
            matching.push(*cand);
        } else if (skid.is_empty() && !akid.is_empty()) || (!skid.is_empty() && akid.is_empty()) {
            one.push(*cand);
        } else {
            mismatch.push(*cand);
        }
    }
    matching.extend(one);
    matching.extend(mismatch);
    matching
}

struct Pools<'a> {
    roots: Vec<&'a Cert>,
    intermediates: Vec<&'a Cert>,
    now_ns: i128,
}

/// Certificate.buildChains: the chains in Go's order (none where Go fails);
/// the budget of signature checks is shared as in Go.
fn build_chains<'a>(
    c: &'a Cert,
    chain: &[&'a Cert],
    sig_checks: &mut usize,
    pools: &Pools<'a>,
) -> R<Vec<Vec<&'a Cert>>> {
    let mut chains: Vec<Vec<&'a Cert>> = Vec::new();
    'outer: for (typ, potentials) in [
        (CertType::Root, potential_parents(&pools.roots, c)),
        (
            CertType::Intermediate,
            potential_parents(&pools.intermediates, c),
        ),
    ] {
        for cand in potentials {
            *sig_checks += 1;
            if *sig_checks > MAX_CHAIN_SIGNATURE_CHECKS {
                break 'outer;
            }
            if matches!(cand.key, PubKey::None) || already_in_chain(cand, chain) {
                continue;
            }
            if !check_signature_from(c, cand)? || !is_valid(cand, typ, chain, pools.now_ns) {
                continue;
            }
            let mut next = chain.to_vec();
            next.push(cand);
            if typ == CertType::Root {
                chains.push(next);
            } else {
                chains.extend(build_chains(cand, &next, sig_checks, pools)?);
                // Past the budget Go stops at the next candidate.
                if *sig_checks > MAX_CHAIN_SIGNATURE_CHECKS {
                    break 'outer;
                }
            }
        }
    }
    // No chain: Go's error (UnknownAuthorityError, or the last one seen).
    Ok(chains)
}

/// validHostname(host, isPattern).
fn valid_hostname(host: &str, is_pattern: bool) -> bool {
    let host = if is_pattern {
        host
    } else {
        host.strip_suffix('.').unwrap_or(host)
    };
    if host.is_empty() || host == "*" {
        return false;
    }
    for (i, part) in host.split('.').enumerate() {
        if part.is_empty() {
            return false;
        }
        if is_pattern && i == 0 && part == "*" {
            continue;
        }
        for (j, ch) in part.char_indices() {
            if ch.is_ascii_alphanumeric() || ch == '_' || (ch == '-' && j != 0) {
                continue;
            }
            return false;
        }
    }
    true
}

fn match_exactly(a: &str, b: &str) -> bool {
    if a.is_empty() || a == "." || b.is_empty() || b == "." {
        return false;
    }
    a.to_ascii_lowercase() == b.to_ascii_lowercase()
}

fn match_hostnames(pattern: &str, host_parts: &[&str]) -> bool {
    let pattern = pattern.to_ascii_lowercase();
    if pattern.is_empty() || host_parts.is_empty() {
        return false;
    }
    let parts: Vec<&str> = pattern.split('.').collect();
    if parts.len() != host_parts.len() {
        return false;
    }
    parts
        .iter()
        .zip(host_parts)
        .enumerate()
        .all(|(i, (p, h))| (i == 0 && *p == "*") || p == h)
}

/// Certificate.VerifyHostname.
fn verify_hostname(c: &Cert, h: &str) -> bool {
    let mut candidate_ip = h;
    if h.len() >= 3 && h.starts_with('[') && h.ends_with(']') {
        candidate_ip = &h[1..h.len() - 1];
    }
    if let Some(ip) = crate::builtins::gonet::parse_ip(candidate_ip) {
        return c
            .v
            .ips
            .iter()
            .any(|cand| crate::builtins::gonet::ip_equal(&ip, cand));
    }
    let name = h.to_ascii_lowercase();
    let valid = valid_hostname(&name, false);
    let trimmed = name.strip_suffix('.').unwrap_or(&name).to_string();
    let host_parts: Vec<&str> = trimmed.split('.').collect();
    c.v.dns.iter().any(|m| {
        if valid && valid_hostname(m, true) {
            match_hostnames(m, &host_parts)
        } else {
            match_exactly(m, &name)
        }
    })
}

/// checkChainForKeyUsage.
fn chain_key_usage_ok(chain: &[&Cert], key_usages: &[i64]) -> bool {
    let mut usages: Vec<i64> = key_usages.to_vec();
    if chain.is_empty() {
        return false;
    }
    let mut remaining = usages.len();
    'next_cert: for cert in chain.iter().rev() {
        if cert.v.eku.is_empty() && !cert.v.has_unknown_eku {
            continue;
        }
        if cert.v.eku.contains(&EKU_ANY) {
            continue 'next_cert;
        }
        for u in usages.iter_mut() {
            if *u == -1 {
                continue;
            }
            if cert.v.eku.contains(u) {
                continue;
            }
            *u = -1;
            remaining -= 1;
            if remaining == 0 {
                return false;
            }
        }
    }
    true
}

const ANY_POLICY: &str = "2.5.29.32.0";

/// A node of RFC 9618's valid policy graph (Go's policyGraphNode).
struct PolicyNode {
    valid: String,
    expected: Vec<String>,
    parents: BTreeSet<usize>,
    children: BTreeSet<usize>,
}

/// Go's policyGraph: nodes in an arena, strata of policy -> node.
struct PolicyGraph {
    nodes: Vec<PolicyNode>,
    strata: Vec<BTreeMap<String, usize>>,
    parent_index: BTreeMap<String, Vec<usize>>,
    depth: usize,
}

impl PolicyGraph {
    fn new() -> Self {
        let root = PolicyNode {
            valid: ANY_POLICY.to_string(),
            expected: vec![ANY_POLICY.to_string()],
            parents: BTreeSet::new(),
            children: BTreeSet::new(),
        };
        let mut s0 = BTreeMap::new();
        s0.insert(ANY_POLICY.to_string(), 0);
        PolicyGraph {
            nodes: vec![root],
            strata: vec![s0],
            parent_index: BTreeMap::new(),
            depth: 0,
        }
    }

    /// newPolicyGraphNode followed by insert.
    fn insert(&mut self, valid: &str, parents: &[usize], expected: Option<Vec<String>>) {
        let id = self.nodes.len();
        let expected = expected.unwrap_or_else(|| vec![valid.to_string()]);
        let mut node = PolicyNode {
            valid: valid.to_string(),
            expected,
            parents: BTreeSet::new(),
            children: BTreeSet::new(),
        };
        for p in parents {
            if let Some(pn) = self.nodes.get_mut(*p) {
                pn.children.insert(id);
            }
            node.parents.insert(*p);
        }
        self.nodes.push(node);
        if let Some(level) = self.strata.get_mut(self.depth) {
            level.insert(valid.to_string(), id);
        }
    }

    fn parents_with_expected(&self, expected: &str) -> Vec<usize> {
        if self.depth == 0 {
            return Vec::new();
        }
        self.parent_index.get(expected).cloned().unwrap_or_default()
    }

    fn parent_with_any_policy(&self) -> Option<usize> {
        if self.depth == 0 {
            return None;
        }
        self.strata.get(self.depth - 1)?.get(ANY_POLICY).copied()
    }

    fn parents(&self) -> Vec<usize> {
        if self.depth == 0 {
            return Vec::new();
        }
        self.strata
            .get(self.depth - 1)
            .map(|m| m.values().copied().collect())
            .unwrap_or_default()
    }

    fn leaf_with_policy(&self, policy: &str) -> Option<usize> {
        self.strata.get(self.depth)?.get(policy).copied()
    }

    fn unlink(&mut self, id: usize) {
        let (parents, children) = match self.nodes.get_mut(id) {
            Some(n) => (
                core::mem::take(&mut n.parents),
                core::mem::take(&mut n.children),
            ),
            None => return,
        };
        for p in parents {
            if let Some(pn) = self.nodes.get_mut(p) {
                pn.children.remove(&id);
            }
        }
        for c in children {
            if let Some(cn) = self.nodes.get_mut(c) {
                cn.parents.remove(&id);
            }
        }
    }

    fn delete_leaf(&mut self, policy: &str) {
        let Some(id) = self.leaf_with_policy(policy) else {
            return;
        };
        self.unlink(id);
        if let Some(level) = self.strata.get_mut(self.depth) {
            level.remove(policy);
        }
    }

    fn valid_policy_nodes(&self) -> Vec<usize> {
        let mut out = Vec::new();
        for i in (0..=self.depth).rev() {
            let Some(level) = self.strata.get(i) else {
                continue;
            };
            for id in level.values() {
                let Some(n) = self.nodes.get(*id) else {
                    continue;
                };
                if n.valid == ANY_POLICY || n.parents.len() != 1 {
                    continue;
                }
                let parent_any = n
                    .parents
                    .iter()
                    .next()
                    .and_then(|p| self.nodes.get(*p))
                    .is_some_and(|p| p.valid == ANY_POLICY);
                if parent_any {
                    out.push(*id);
                }
            }
        }
        out
    }

    fn prune(&mut self) {
        for i in (1..self.depth).rev() {
            let ids: Vec<usize> = match self.strata.get(i) {
                Some(level) => level.values().copied().collect(),
                None => continue,
            };
            for id in ids {
                let childless = self.nodes.get(id).is_some_and(|n| n.children.is_empty());
                if !childless {
                    continue;
                }
                let (valid, parents) = match self.nodes.get_mut(id) {
                    Some(n) => (n.valid.clone(), core::mem::take(&mut n.parents)),
                    None => continue,
                };
                for p in parents {
                    if let Some(pn) = self.nodes.get_mut(p) {
                        pn.children.remove(&id);
                    }
                }
                if let Some(level) = self.strata.get_mut(i) {
                    level.remove(&valid);
                }
            }
        }
    }

    fn incr_depth(&mut self) {
        let mut index: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        if let Some(level) = self.strata.get(self.depth) {
            for id in level.values() {
                if let Some(n) = self.nodes.get(*id) {
                    for e in &n.expected {
                        index.entry(e.clone()).or_default().push(*id);
                    }
                }
            }
        }
        self.parent_index = index;
        self.depth += 1;
        self.strata.push(BTreeMap::new());
    }
}

/// The most policies and mappings a chain may carry into policiesValid
/// (the graph's work is their product at worst).
const MAX_CHAIN_POLICIES: usize = 1024;

/// policiesValid (RFC 5280 6.1 as updated by RFC 9618) with OPA's options:
/// no user policies (anyPolicy), nothing inhibited by the caller.
fn policies_valid(chain: &[&Cert]) -> R<bool> {
    if chain.len() <= 1 {
        return Ok(true);
    }
    let total: usize = chain
        .iter()
        .map(|c| c.v.policies.len() + c.v.policy_mappings.len())
        .sum();
    if total > MAX_CHAIN_POLICIES {
        return unsupported("certificate chains with over 1,024 policies and policy mappings");
    }
    let n = chain.len() - 1;
    let n_i = n as i64;
    let mut pg = Some(PolicyGraph::new());
    let (mut inhibit_any, mut explicit, mut mapping) = (n_i + 1, n_i + 1, n_i + 1);
    for i in (0..n).rev() {
        let cert = &chain[i].v;
        let self_signed = cert.raw_issuer == cert.raw_subject;
        if cert.policies.is_empty() {
            pg = None;
        }
        if explicit == 0 && pg.is_none() {
            return Ok(false);
        }
        if let Some(g) = pg.as_mut() {
            g.incr_depth();
            let mut set: BTreeSet<&str> = BTreeSet::new();
            for policy in &cert.policies {
                set.insert(policy.as_str());
                if policy == ANY_POLICY {
                    continue;
                }
                let mut parents = g.parents_with_expected(policy);
                if parents.is_empty() {
                    if let Some(a) = g.parent_with_any_policy() {
                        parents = vec![a];
                    }
                }
                if !parents.is_empty() {
                    g.insert(policy, &parents, None);
                }
            }
            if set.contains(ANY_POLICY) && (inhibit_any > 0 || ((n - i) < n && self_signed)) {
                let mut missing: BTreeMap<String, Vec<usize>> = BTreeMap::new();
                for p in g.parents() {
                    let expected = g
                        .nodes
                        .get(p)
                        .map(|x| x.expected.clone())
                        .unwrap_or_default();
                    for e in expected {
                        if g.leaf_with_policy(&e).is_none() {
                            missing.entry(e).or_default().push(p);
                        }
                    }
                }
                for (oid, parents) in missing {
                    g.insert(&oid, &parents, None);
                }
            }
            g.prune();
            if i != 0 && !cert.policy_mappings.is_empty() {
                let mut mappings: BTreeMap<&str, Vec<String>> = BTreeMap::new();
                for (issuer, subject) in &cert.policy_mappings {
                    if mapping > 0 {
                        if issuer == ANY_POLICY || subject == ANY_POLICY {
                            return Ok(false);
                        }
                        mappings.entry(issuer).or_default().push(subject.clone());
                    } else {
                        g.delete_leaf(issuer);
                    }
                }
                g.prune();
                for (issuer, subjects) in mappings {
                    if let Some(m) = g.leaf_with_policy(issuer) {
                        if let Some(node) = g.nodes.get_mut(m) {
                            node.expected = subjects;
                        }
                    } else if let Some(a) = g.leaf_with_policy(ANY_POLICY) {
                        g.insert(issuer, &[a], Some(subjects));
                    }
                }
            }
        }
        if i != 0 {
            if !self_signed {
                explicit = (explicit - 1).max(0);
                mapping = (mapping - 1).max(0);
                inhibit_any = (inhibit_any - 1).max(0);
            }
            // (v > 0 || zero) && v < current, with Go's int fields.
            for (field, slot) in [
                (cert.require_explicit, &mut explicit),
                (cert.inhibit_mapping, &mut mapping),
                (cert.inhibit_any, &mut inhibit_any),
            ] {
                if let Some(v) = field {
                    if v >= 0 && v < *slot {
                        *slot = v;
                    }
                }
            }
        }
    }
    if explicit > 0 {
        explicit -= 1;
    }
    if chain[0].v.require_explicit == Some(0) {
        explicit = 0;
    }
    let mut authority: BTreeSet<String> = BTreeSet::new();
    if let Some(g) = &pg {
        let mut valid = g.valid_policy_nodes();
        if let Some(a) = g.leaf_with_policy(ANY_POLICY) {
            valid.push(a);
        }
        for id in valid {
            if let Some(node) = g.nodes.get(id) {
                authority.insert(node.valid.clone());
            }
        }
    }
    // 6.1.5 (g) (6) does nothing for an initial set of anyPolicy.
    Ok(!(explicit == 0 && authority.is_empty()))
}

/// verifyX509CertificateChain: the first certificate is the root, the last
/// the leaf, the others intermediates; the first chain Go's Verify returns
/// (leaf first), or None where Go fails.
fn verify_chain<'a>(certs: &'a [Cert], opts: &VerifyOpts) -> R<Option<Vec<&'a Cert>>> {
    if certs.len() < 2 {
        return Ok(None);
    }
    let root = &certs[0];
    let leaf = &certs[certs.len() - 1];
    let mut intermediates: Vec<&Cert> = Vec::new();
    let mut seen: BTreeSet<&[u8]> = BTreeSet::new();
    for c in &certs[1..certs.len() - 1] {
        if seen.insert(c.v.raw.as_slice()) {
            intermediates.push(c);
        }
    }
    let now_ns = match opts.current_time {
        Some(t) => i128::from(t),
        None => now_unix_ns(),
    };
    let pools = Pools {
        roots: vec![root],
        intermediates,
        now_ns,
    };
    if !is_valid(leaf, CertType::Leaf, &[], now_ns) {
        return Ok(None);
    }
    if !opts.dns_name.is_empty() && !verify_hostname(leaf, &opts.dns_name) {
        return Ok(None);
    }
    let candidates: Vec<Vec<&Cert>> = if root.v.raw == leaf.v.raw {
        vec![vec![leaf]]
    } else {
        let mut sig_checks = 0usize;
        build_chains(leaf, &[leaf], &mut sig_checks, &pools)?
    };
    let any = opts.key_usages.contains(&EKU_ANY);
    let usages: Vec<i64> = if opts.key_usages.is_empty() {
        vec![EKU_SERVER_AUTH]
    } else {
        opts.key_usages.clone()
    };
    for chain in candidates {
        if !policies_valid(&chain)? {
            continue;
        }
        if !any && !chain_key_usage_ok(&chain, &usages) {
            continue;
        }
        // checkChainConstraints: name constraints are refused at parsing.
        return Ok(Some(chain));
    }
    Ok(None)
}

fn verify_result(chain: Option<Vec<&Cert>>, with_uri_strings: bool) -> Value {
    match chain {
        None => Value::from(vec![Value::from(false), Value::new_array()]),
        Some(chain) => Value::from(vec![
            Value::from(true),
            Value::from(
                chain
                    .iter()
                    .map(|c| {
                        if with_uri_strings {
                            extended(c)
                        } else {
                            c.value.clone()
                        }
                    })
                    .collect::<Vec<_>>(),
            ),
        ]),
    }
}

/// Parses as getX509CertsFromString: a Go error is `[false, []]` (OPA), an
/// input cos cannot read as Go does is an error.
fn parse_for_verify(s: &str) -> R<Option<Vec<Cert>>> {
    match certs_from_string(s) {
        Ok(c) => Ok(Some(c)),
        Err(Fail::Go(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

fn parse_and_verify_certificates(
    span: &Span,
    params: &[Ref<Expr>],
    args: &[Value],
    _strict: bool,
) -> Result<Value> {
    let name = "crypto.x509.parse_and_verify_certificates";
    ensure_args_count(span, name, params, args, 1)?;
    let s = ensure_string(name, &params[0], &args[0])?;
    let r = (|| -> R<Value> {
        let Some(certs) = parse_for_verify(&s)? else {
            return Ok(verify_result(None, true));
        };
        let opts = VerifyOpts {
            dns_name: String::new(),
            current_time: None,
            key_usages: Vec::new(),
        };
        Ok(verify_result(verify_chain(&certs, &opts)?, true))
    })();
    finish(name, r)
}

fn parse_and_verify_certificates_with_options(
    span: &Span,
    params: &[Ref<Expr>],
    args: &[Value],
    _strict: bool,
) -> Result<Value> {
    let name = "crypto.x509.parse_and_verify_certificates_with_options";
    ensure_args_count(span, name, params, args, 2)?;
    let s = ensure_string(name, &params[0], &args[0])?;
    ensure_object(name, &params[1], args[1].clone())?;
    let r = (|| -> R<Value> {
        let Some(certs) = parse_for_verify(&s)? else {
            return Ok(verify_result(None, false));
        };
        let opts = extract_verify_opts(&args[1])?;
        Ok(verify_result(verify_chain(&certs, &opts)?, false))
    })();
    finish(name, r)
}

// ------------------------------------------------------------ CSRs

/// encoding/asn1's decoding of a value into `any`, for what attributes hold.
fn asn1_any(tag: u8, contents: &[u8]) -> R<Value> {
    match tag {
        BOOLEAN => match contents {
            [0] => Ok(Value::from(false)),
            [_] => Ok(Value::from(true)),
            _ => go("asn1: syntax error: invalid boolean"),
        },
        OCTET_STRING => Ok(b64(contents)),
        _ => unsupported("certificate request attributes of this type"),
    }
}

fn parse_certificate_request_der(der: &[u8]) -> R<Value> {
    let mut input = Rd(der);
    let Some(raw) = input.read_el(SEQUENCE) else {
        return go("asn1: structure error: tags don't match");
    };
    if !input.empty() {
        return go("x509: trailing data after X.509 certificate request");
    }
    let Some(body) = Rd(raw).read(SEQUENCE) else {
        return go("asn1: structure error");
    };
    let mut body = Rd(body);
    let Some(raw_tbs) = body.read_el(SEQUENCE) else {
        return go("asn1: structure error");
    };
    let Some(sig_ai) = body.read(SEQUENCE) else {
        return go("asn1: structure error");
    };
    let Some((sig, pad)) = body.bit_string() else {
        return go("asn1: structure error");
    };
    if pad != 0 {
        return unsupported("signatures of a bit string that is not whole bytes");
    }
    let mut tbs = Rd(Rd(raw_tbs).read(SEQUENCE).unwrap_or(&[]));
    let Some(version) = tbs.int64() else {
        return go("asn1: structure error");
    };
    let Some(raw_subject) = tbs.read_el(SEQUENCE) else {
        return go("asn1: structure error");
    };
    let Some(raw_spki) = tbs.read_el(SEQUENCE) else {
        return go("asn1: structure error");
    };
    let attrs = match tbs.optional(0xa0) {
        Some(a) => a.unwrap_or(&[]),
        None => return go("asn1: structure error"),
    };
    let sig_alg = signature_algorithm(&parse_ai(sig_ai)?)?;
    let key = parse_spki(raw_spki)?;
    let subject = parse_name(raw_subject, true)?;
    // Attributes (parseRawAttributes) and the extension request.
    let mut attributes = Vec::new();
    let mut exts: Vec<Ext<'_>> = Vec::new();
    let mut a = Rd(attrs);
    while !a.empty() {
        let Some((_, attr, _)) = a.any() else {
            return go("asn1: structure error");
        };
        let mut attr = Rd(attr);
        let (Some(typ), Some(set)) = (attr.oid(), attr.read(SET)) else {
            continue;
        };
        let mut set = Rd(set);
        let mut values = Vec::new();
        let mut ok = true;
        while !set.empty() && ok {
            let Some(seq) = set.read(SEQUENCE) else {
                ok = false;
                break;
            };
            let mut seq = Rd(seq);
            let mut atvs = Vec::new();
            while !seq.empty() {
                let Some(atv) = seq.read(SEQUENCE) else {
                    ok = false;
                    break;
                };
                let mut atv = Rd(atv);
                let (Some(t), Some((vt, vc, _))) = (atv.oid(), atv.any()) else {
                    ok = false;
                    break;
                };
                atvs.push(obj(vec![
                    ("Type", oid_value(&t)),
                    ("Value", asn1_any(vt, vc)?),
                ]));
            }
            values.push(Value::from(atvs));
        }
        if ok {
            attributes.push(obj(vec![
                ("Type", oid_value(&typ)),
                ("Value", Value::from(values)),
            ]));
        }
    }
    // Extensions from every extensionRequest attribute.
    let mut a = Rd(attrs);
    while !a.empty() {
        let Some((_, attr, _)) = a.any() else { break };
        let mut attr = Rd(attr);
        let (Some(typ), Some(set)) = (attr.oid(), attr.read(SET)) else {
            continue;
        };
        if typ != [1, 2, 840, 113549, 1, 9, 14] || set.is_empty() {
            continue;
        }
        let Some(seq) = Rd(set).read(SEQUENCE) else {
            return go("x509: invalid extension request");
        };
        let mut seq = Rd(seq);
        while !seq.empty() {
            let Some(e) = seq.read(SEQUENCE) else {
                return go("x509: invalid extension request");
            };
            let e = parse_extension(e)?;
            if exts.iter().any(|x| x.id == e.id) {
                return go("x509: certificate request contains duplicate requested extensions");
            }
            exts.push(e);
        }
    }
    let mut sans = Sans::default();
    for e in &exts {
        if e.id == [2, 5, 29, 17] {
            sans = parse_sans(e.value)?;
        }
    }
    let mut fields: Vec<(&'static str, Value)> = vec![
        (
            "Attributes",
            if attributes.is_empty() {
                Value::Null
            } else {
                Value::from(attributes)
            },
        ),
        (
            "Extensions",
            if exts.is_empty() {
                Value::Null
            } else {
                Value::from(exts.iter().map(ext_value).collect::<Vec<_>>())
            },
        ),
        ("ExtraExtensions", Value::Null),
        ("PublicKey", key.to_value()),
        ("PublicKeyAlgorithm", Value::from(key.algorithm())),
        ("Raw", b64(raw)),
        ("RawSubject", b64(raw_subject)),
        ("RawSubjectPublicKeyInfo", b64(raw_spki)),
        ("RawTBSCertificateRequest", b64(raw_tbs)),
        ("Signature", b64(sig)),
        ("SignatureAlgorithm", Value::from(sig_alg)),
        ("Subject", subject),
        ("Version", Value::from(version)),
    ];
    sans_fields(&sans, &mut fields);
    Ok(obj(fields))
}

fn parse_certificate_request(
    span: &Span,
    params: &[Ref<Expr>],
    args: &[Value],
    _strict: bool,
) -> Result<Value> {
    let name = "crypto.x509.parse_certificate_request";
    ensure_args_count(span, name, params, args, 1)?;
    let s = ensure_string(name, &params[0], &args[0])?;
    let r = (|| {
        let decoded;
        let mut text: &[u8] = s.as_bytes();
        if !s.starts_with("-----BEGIN CERTIFICATE REQUEST-----") {
            decoded = b64std_decode(&s).map_err(Fail::Go)?;
            text = &decoded;
        }
        let block = match core::str::from_utf8(text) {
            Ok(t) => pem_decode(t),
            Err(_) => None,
        };
        let der = match block {
            Some(b) if b.typ != "CERTIFICATE REQUEST" => {
                return go("invalid PEM-encoded certificate signing request");
            }
            Some(b) => b.bytes,
            None => text.to_vec(),
        };
        if core::str::from_utf8(text).is_err() && text.windows(11).any(|w| w == b"-----BEGIN ") {
            return unsupported("PEM that is not UTF-8");
        }
        parse_certificate_request_der(&der)
    })();
    finish(name, r)
}

// ------------------------------------------------------------ private keys

enum PrivKey {
    Rsa {
        n: BigUint,
        e: i64,
        d: BigUint,
        p: BigUint,
        q: BigUint,
        dp: BigUint,
        dq: BigUint,
        qinv: BigUint,
    },
    Ec {
        curve: Curve,
        d: BigUint,
        x: BigUint,
        y: BigUint,
    },
    /// seed, public key
    Ed25519(Vec<u8>, Vec<u8>),
}

impl PrivKey {
    fn to_value(&self) -> Value {
        match self {
            PrivKey::Rsa {
                n,
                e,
                d,
                p,
                q,
                dp,
                dq,
                qinv,
            } => obj(vec![
                ("D", ubig(d)),
                ("E", Value::from(*e)),
                ("N", ubig(n)),
                (
                    "Precomputed",
                    obj(vec![
                        ("CRTValues", Value::new_array()),
                        ("Dp", ubig(dp)),
                        ("Dq", ubig(dq)),
                        ("Qinv", ubig(qinv)),
                    ]),
                ),
                ("Primes", Value::from(vec![ubig(p), ubig(q)])),
            ]),
            PrivKey::Ec { d, x, y, .. } => obj(vec![
                ("Curve", Value::new_object()),
                ("D", ubig(d)),
                ("X", ubig(x)),
                ("Y", ubig(y)),
            ]),
            PrivKey::Ed25519(seed, public) => {
                let mut k = seed.clone();
                k.extend_from_slice(public);
                b64(&k)
            }
        }
    }

    /// lestrrat-go/jwx's jwk.Import, as JSON.
    fn to_jwk(&self) -> Value {
        let u = |b: &[u8]| Value::from(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b));
        let n_ = |n: &BigUint| u(&n.to_bytes_be());
        let pad = |n: &BigUint, size: usize| {
            let b = n.to_bytes_be();
            let mut v = vec![0u8; size.saturating_sub(b.len())];
            v.extend_from_slice(&b);
            u(&v)
        };
        match self {
            PrivKey::Rsa {
                n,
                e,
                d,
                p,
                q,
                dp,
                dq,
                qinv,
            } => obj(vec![
                ("d", n_(d)),
                ("dp", n_(dp)),
                ("dq", n_(dq)),
                ("e", n_(&BigUint::from(*e as u64))),
                ("kty", Value::from("RSA")),
                ("n", n_(n)),
                ("p", n_(p)),
                ("q", n_(q)),
                ("qi", n_(qinv)),
            ]),
            PrivKey::Ec { curve, d, x, y } => obj(vec![
                ("crv", Value::from(curve.name())),
                ("d", pad(d, curve.size())),
                ("kty", Value::from("EC")),
                ("x", pad(x, curve.size())),
                ("y", pad(y, curve.size())),
            ]),
            PrivKey::Ed25519(seed, public) => obj(vec![
                ("crv", Value::from("Ed25519")),
                ("d", u(seed)),
                ("kty", Value::from("OKP")),
                ("x", u(public)),
            ]),
        }
    }

    fn public(&self) -> PubKey {
        match self {
            PrivKey::Rsa { n, e, .. } => PubKey::Rsa {
                n: n.clone(),
                e: *e,
            },
            PrivKey::Ec { curve, x, y, .. } => PubKey::Ec {
                curve: *curve,
                x: x.clone(),
                y: y.clone(),
            },
            PrivKey::Ed25519(_, p) => PubKey::Ed25519(p.clone()),
        }
    }
}

fn positive(n: BigInt) -> R<BigUint> {
    match n.to_biguint() {
        Some(u) if !u.is_zero() => Ok(u),
        _ => go("x509: private key contains zero or negative value"),
    }
}

/// x509.ParsePKCS1PrivateKey (two primes; Go's Validate and Precompute).
fn parse_pkcs1(der: &[u8]) -> R<PrivKey> {
    let mut r = Rd(der);
    let Some(seq) = r.read(SEQUENCE) else {
        return go("x509: failed to parse private key");
    };
    if !r.empty() {
        return go("asn1: syntax error: trailing data");
    }
    let mut s = Rd(seq);
    let Some(version) = s.int64() else {
        return go("x509: failed to parse private key");
    };
    let mut ints = Vec::new();
    for _ in 0..8 {
        match s.big_int() {
            Some(i) => ints.push(i),
            None => return go("asn1: structure error: failed to parse RSA private key"),
        }
    }
    if version > 1 {
        return go("x509: unsupported private key version");
    }
    if version == 1 || !s.empty() {
        return unsupported("multi-prime RSA keys");
    }
    let mut it = ints.into_iter();
    let (Some(n), Some(e), Some(d), Some(p), Some(q), Some(dp), Some(dq), Some(qinv)) = (
        it.next(),
        it.next(),
        it.next(),
        it.next(),
        it.next(),
        it.next(),
        it.next(),
        it.next(),
    ) else {
        return go("x509: failed to parse private key");
    };
    let Ok(e) = i64::try_from(e) else {
        return go("asn1: structure error: integer too large");
    };
    let (n, d, p, q, dp, dq, qinv) = (
        positive(n)?,
        positive(d)?,
        positive(p)?,
        positive(q)?,
        positive(dp)?,
        positive(dq)?,
        positive(qinv)?,
    );
    if n.bits() < 1024 {
        return unsupported("RSA keys under 1024 bits");
    }
    if n.bits() > crate::builtins::crypto::MAX_RSA_BITS {
        return unsupported("RSA keys over 16384 bits");
    }
    let one = BigUint::one();
    if e < 2 || &p * &q != n || p <= one || q <= one {
        return unsupported("RSA keys that Go's Validate may refuse");
    }
    let eb = BigUint::from(e as u64);
    let p1 = &p - &one;
    let q1 = &q - &one;
    let ok = (&d * &eb) % &p1 == one && (&d * &eb) % &q1 == one;
    let cdp = &d % &p1;
    let cdq = &d % &q1;
    let cqinv = (&q * &qinv) % &p;
    if !ok || cdp != dp || cdq != dq || cqinv != one || qinv >= p {
        return unsupported("RSA keys that Go's Validate may refuse");
    }
    Ok(PrivKey::Rsa {
        n,
        e,
        d,
        p,
        q,
        dp,
        dq,
        qinv,
    })
}

/// parseECPrivateKey: the public key is taken from the DER after checking
/// it against the private scalar (Go computes it).
fn parse_sec1(curve_oid: Option<&[i64]>, der: &[u8]) -> R<PrivKey> {
    let mut r = Rd(der);
    let Some(seq) = r.read(SEQUENCE) else {
        return go("x509: failed to parse EC private key");
    };
    let mut s = Rd(seq);
    let Some(version) = s.int64() else {
        return go("x509: failed to parse EC private key");
    };
    let Some(key) = s.read(OCTET_STRING) else {
        return go("x509: failed to parse EC private key");
    };
    let mut named: Option<Vec<i64>> = None;
    if let Some(Some(p)) = s.optional(0xa0) {
        named = Rd(p).oid();
    }
    let mut public: Option<&[u8]> = None;
    if let Some(Some(p)) = s.optional(0xa1) {
        public = Rd(p).bit_string().map(|(b, _)| b);
    }
    if version != 1 {
        return go(&format!("x509: unknown EC private key version {version}"));
    }
    let oid = match (curve_oid, &named) {
        (Some(o), _) => o.to_vec(),
        (None, Some(o)) => o.clone(),
        (None, None) => return go("x509: unknown elliptic curve"),
    };
    let curve = match Curve::of(&oid) {
        Ok(c) => c,
        Err(Fail::Go(_)) => return go("x509: unknown elliptic curve"),
        Err(e) => return Err(e),
    };
    let size = curve.size();
    let mut k = key;
    while k.len() > size {
        if k[0] != 0 {
            return go("x509: invalid private key length");
        }
        k = &k[1..];
    }
    let mut scalar = vec![0u8; size - k.len()];
    scalar.extend_from_slice(k);
    let d = BigUint::from_bytes_be(&scalar);
    let (_, _, order) = curve.params();
    if d.is_zero() || d >= order {
        return go("ecdsa: invalid private key");
    }
    let point: Vec<u8> = match curve {
        Curve::P521 => {
            let Ok(sk) = p521::ecdsa::SigningKey::from_slice(&scalar) else {
                return go("ecdsa: invalid private key");
            };
            let vk = p521::ecdsa::VerifyingKey::from(&sk);
            vk.to_sec1_point(false).as_bytes().to_vec()
        }
        Curve::P256 | Curve::P384 => {
            let Some(public) = public else {
                return unsupported("P-256 and P-384 private keys without their public key");
            };
            let alg = if curve == Curve::P256 {
                &ring::signature::ECDSA_P256_SHA256_FIXED_SIGNING
            } else {
                &ring::signature::ECDSA_P384_SHA384_FIXED_SIGNING
            };
            if ring::signature::EcdsaKeyPair::from_private_key_and_public_key(
                alg,
                &scalar,
                public,
                &ring::rand::SystemRandom::new(),
            )
            .is_err()
            {
                return unsupported("EC private keys whose public key does not match");
            }
            public.to_vec()
        }
    };
    match ec_point(curve, &point)? {
        PubKey::Ec { x, y, .. } => Ok(PrivKey::Ec { curve, d, x, y }),
        _ => go("ecdsa: invalid public key"),
    }
}

/// x509.ParsePKCS8PrivateKey.
fn parse_pkcs8(der: &[u8]) -> R<PrivKey> {
    let mut r = Rd(der);
    let Some(seq) = r.read(SEQUENCE) else {
        return go("x509: failed to parse private key");
    };
    let mut s = Rd(seq);
    let (Some(_version), Some(ai), Some(key)) = (s.int64(), s.read(SEQUENCE), s.read(OCTET_STRING))
    else {
        return go("x509: failed to parse private key");
    };
    let ai = parse_ai(ai)?;
    match ai.oid.as_slice() {
        OID_RSA => parse_pkcs1(key),
        OID_EC => {
            let curve = Rd(ai.params).oid();
            parse_sec1(curve.as_deref(), key)
        }
        OID_ED25519 => {
            if !ai.params.is_empty() {
                return go("x509: invalid Ed25519 private key parameters");
            }
            let Some(seed) = Rd(key).read(OCTET_STRING) else {
                return go("x509: invalid Ed25519 private key");
            };
            if seed.len() != 32 {
                return go("ed25519: bad private key length");
            }
            let Ok(kp) = ring::signature::Ed25519KeyPair::from_seed_unchecked(seed) else {
                return go("x509: invalid Ed25519 private key");
            };
            use ring::signature::KeyPair;
            Ok(PrivKey::Ed25519(
                seed.to_vec(),
                kp.public_key().as_ref().to_vec(),
            ))
        }
        OID_X25519 => unsupported("X25519 private keys"),
        _ => go("x509: PKCS#8 wrapping contained private key with unknown algorithm"),
    }
}

/// getPrivateKeysFromPEMData.
fn private_keys_from_pem(input: &str) -> R<Vec<PrivKey>> {
    let decoded = b64std_decode(input).ok();
    let text: String = match &decoded {
        Some(b) => match core::str::from_utf8(b) {
            Ok(t) => t.to_string(),
            // Bytes without a PEM block: Go finds no key.
            Err(_) if !b.windows(11).any(|w| w == b"-----BEGIN ") => return Ok(Vec::new()),
            Err(_) => return unsupported("PEM that is not UTF-8"),
        },
        None => input.to_string(),
    };
    let mut rest = text.as_str();
    let mut keys = Vec::new();
    while !rest.is_empty() {
        let Some(b) = pem_decode(rest) else { break };
        rest = b.rest;
        match b.typ {
            "RSA PRIVATE KEY" => keys.push(parse_pkcs1(&b.bytes)?),
            "PRIVATE KEY" => keys.push(parse_pkcs8(&b.bytes)?),
            "EC PRIVATE KEY" => keys.push(parse_sec1(None, &b.bytes)?),
            _ => {}
        }
    }
    Ok(keys)
}

fn parse_private_keys(
    span: &Span,
    params: &[Ref<Expr>],
    args: &[Value],
    _strict: bool,
) -> Result<Value> {
    let name = "crypto.parse_private_keys";
    ensure_args_count(span, name, params, args, 1)?;
    let s = ensure_string(name, &params[0], &args[0])?;
    if s.is_empty() {
        return Ok(Value::Null);
    }
    finish(
        name,
        private_keys_from_pem(&s)
            .map(|ks| Value::from(ks.iter().map(PrivKey::to_value).collect::<Vec<_>>())),
    )
}

fn parse_rsa_private_key(
    span: &Span,
    params: &[Ref<Expr>],
    args: &[Value],
    _strict: bool,
) -> Result<Value> {
    let name = "crypto.x509.parse_rsa_private_key";
    ensure_args_count(span, name, params, args, 1)?;
    let s = ensure_string(name, &params[0], &args[0])?;
    if s.is_empty() {
        bail!("{name}: input PEM data was empty");
    }
    let r = (|| {
        let text = if s.starts_with("-----BEGIN") {
            s.to_string()
        } else {
            let b = b64std_decode(&s).map_err(Fail::Go)?;
            if core::str::from_utf8(&b).is_err() && !b.windows(11).any(|w| w == b"-----BEGIN ") {
                // Bytes without a PEM block: Go finds no key.
                return Ok(Value::Null);
            }
            match String::from_utf8(b) {
                Ok(t) => t,
                Err(_) => return unsupported("PEM that is not UTF-8"),
            }
        };
        let keys = private_keys_from_pem(&text)?;
        Ok(keys.first().map_or(Value::Null, PrivKey::to_jwk))
    })();
    finish(name, r)
}

// ------------------------------------------------------------ key pairs

fn pem_encode_check(b: &[u8]) -> bool {
    b.starts_with(b"-----BEGIN ")
}

/// tls.X509KeyPair's parsePrivateKey: PKCS#1, PKCS#8, then SEC 1.
fn tls_private_key(der: &[u8]) -> R<PrivKey> {
    match parse_pkcs1(der) {
        Ok(k) => return Ok(k),
        Err(Fail::Unsupported(w)) => return Err(Fail::Unsupported(w)),
        Err(Fail::Go(_)) => {}
    }
    match parse_pkcs8(der) {
        Ok(k) => return Ok(k),
        Err(Fail::Unsupported(w)) => return Err(Fail::Unsupported(w)),
        Err(Fail::Go(_)) => {}
    }
    match parse_sec1(None, der) {
        Ok(k) => Ok(k),
        Err(Fail::Unsupported(w)) => Err(Fail::Unsupported(w)),
        Err(Fail::Go(_)) => go("tls: failed to parse private key"),
    }
}

fn parse_keypair_inner(cert_in: &str, key_in: &str) -> R<Value> {
    let cert_bytes: Vec<u8> = if pem_encode_check(cert_in.as_bytes()) {
        cert_in.as_bytes().to_vec()
    } else {
        b64std_decode(cert_in).map_err(Fail::Go)?
    };
    let key_bytes: Vec<u8> = if pem_encode_check(key_in.as_bytes()) {
        key_in.as_bytes().to_vec()
    } else {
        b64std_decode(key_in).map_err(Fail::Go)?
    };
    // Certificates: the CERTIFICATE blocks (or the DER itself).
    let mut chain: Vec<Vec<u8>> = Vec::new();
    if pem_encode_check(&cert_bytes) {
        let Ok(text) = core::str::from_utf8(&cert_bytes) else {
            return unsupported("PEM that is not UTF-8");
        };
        let mut rest = text;
        while let Some(b) = pem_decode(rest) {
            if b.typ == "CERTIFICATE" {
                chain.push(b.bytes);
            }
            rest = b.rest;
        }
        if chain.is_empty() {
            return go("tls: failed to find any PEM data in certificate input");
        }
    } else {
        chain.push(cert_bytes);
    }
    // The key: the first "PRIVATE KEY" block (or the DER itself).
    let key_der: Vec<u8> = if key_bytes.starts_with(b"-----BEGIN") {
        let Ok(text) = core::str::from_utf8(&key_bytes) else {
            return unsupported("PEM that is not UTF-8");
        };
        let mut rest = text;
        loop {
            let Some(b) = pem_decode(rest) else {
                return go("tls: failed to find any PEM data in key input");
            };
            if b.typ == "PRIVATE KEY" || b.typ.ends_with(" PRIVATE KEY") {
                break b.bytes;
            }
            rest = b.rest;
        }
    } else {
        key_bytes
    };
    let key = tls_private_key(&key_der)?;
    let Some(first) = chain.first() else {
        return go("tls: failed to find any PEM data in certificate input");
    };
    let leaf = parse_certificate(first)?;
    if leaf.raw_len != first.len() {
        return go("x509: trailing data");
    }
    let public = key.public();
    let matches = match (&leaf.key, &public) {
        (PubKey::Rsa { .. }, PubKey::Rsa { .. })
        | (PubKey::Ec { .. }, PubKey::Ec { .. })
        | (PubKey::Ed25519(_), PubKey::Ed25519(_)) => {
            if leaf.key == public {
                true
            } else {
                return go("tls: private key does not match public key");
            }
        }
        (PubKey::None, _) => return go("tls: unknown public key algorithm"),
        _ => false,
    };
    if !matches {
        return go("tls: private key type does not match public key type");
    }
    Ok(obj(vec![
        (
            "Certificate",
            Value::from(chain.iter().map(|c| b64(c)).collect::<Vec<_>>()),
        ),
        ("Leaf", leaf.value),
        ("OCSPStaple", Value::Null),
        ("PrivateKey", key.to_value()),
        ("SignedCertificateTimestamps", Value::Null),
        ("SupportedSignatureAlgorithms", Value::Null),
    ]))
}

fn parse_keypair(
    span: &Span,
    params: &[Ref<Expr>],
    args: &[Value],
    _strict: bool,
) -> Result<Value> {
    let name = "crypto.x509.parse_keypair";
    ensure_args_count(span, name, params, args, 2)?;
    let c = ensure_string(name, &params[0], &args[0])?;
    let k = ensure_string(name, &params[1], &args[1])?;
    finish(name, parse_keypair_inner(&c, &k))
}

#[allow(dead_code)]
fn _unused() -> anyhow::Error {
    anyhow!("")
}
