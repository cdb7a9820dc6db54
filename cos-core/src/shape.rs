//! Pieces of the option and result shapes the bindings read and write.
//!
//! Every option object a binding accepts (Python keyword arguments, a
//! JavaScript options object) is a serde struct in its crate, with its
//! defaults in one place (`#[serde(default, deny_unknown_fields)]` and a
//! `Default` impl) and a conversion into the runtime type; see ADR-0020.
//! This module holds what those structs share: [`Blob`] (bytes given as
//! text or as bytes), [`SigstoreTrust`] (the Sigstore trust an option
//! object names) and [`fields`] (the field names a struct reads, for the
//! bindings' casing and the stub checks).

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

/// Bytes in an option object: a string (its UTF-8), a sequence of byte
/// values (what a binding makes of Python `bytes`), or what
/// `JSON.stringify` makes of a Node `Buffer` (`{"type": "Buffer", "data":
/// [...]}`) or of a `Uint8Array` (`{"0": …, "1": …}`).
///
/// ```
/// use cos_core::shape::Blob;
/// let a: Blob = serde_json::from_str(r#""{}""#).unwrap();
/// let b: Blob = serde_json::from_str("[123, 125]").unwrap();
/// let c: Blob = serde_json::from_str(r#"{"type": "Buffer", "data": [123, 125]}"#).unwrap();
/// let d: Blob = serde_json::from_str(r#"{"0": 123, "1": 125}"#).unwrap();
/// assert!([&a, &b, &c, &d].iter().all(|x| x.as_bytes() == b"{}"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Blob(pub Vec<u8>);

impl Blob {
    /// The bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

/// As a list of byte values (what [`Blob`] reads back).
impl serde::Serialize for Blob {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(&self.0)
    }
}

impl<'de> Deserialize<'de> for Blob {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(BlobVisitor)
    }
}

struct BlobVisitor;

fn byte<E: de::Error>(v: u64) -> Result<u8, E> {
    u8::try_from(v).map_err(|_| E::custom(format!("{v} is not a byte")))
}

impl<'de> Visitor<'de> for BlobVisitor {
    type Value = Blob;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("bytes: a string, a Buffer or Uint8Array, or a list of byte values")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Blob, E> {
        Ok(Blob(v.as_bytes().to_vec()))
    }

    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Blob, E> {
        Ok(Blob(v.to_vec()))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Blob, A::Error> {
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1 << 20));
        while let Some(b) = seq.next_element::<u64>()? {
            out.push(byte(b)?);
        }
        Ok(Blob(out))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Blob, A::Error> {
        // `{"type": "Buffer", "data": [...]}` or `{"0": b0, "1": b1, ...}`.
        let mut indexed: Vec<(usize, u8)> = Vec::new();
        let mut data: Option<Vec<u64>> = None;
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "type" => {
                    let t: String = map.next_value()?;
                    if t != "Buffer" {
                        return Err(de::Error::custom(format!("type {t:?} is not Buffer")));
                    }
                }
                "data" => data = Some(map.next_value()?),
                k => {
                    let i: usize = k
                        .parse()
                        .map_err(|_| de::Error::custom(format!("unexpected key {k:?} in bytes")))?;
                    indexed.push((i, byte(map.next_value()?)?));
                }
            }
        }
        if let Some(data) = data {
            return data
                .into_iter()
                .map(byte)
                .collect::<Result<_, _>>()
                .map(Blob);
        }
        indexed.sort_unstable_by_key(|(i, _)| *i);
        if indexed.iter().enumerate().any(|(n, (i, _))| n != *i) {
            return Err(de::Error::custom("bytes: indices are not 0, 1, 2, …"));
        }
        Ok(Blob(indexed.into_iter().map(|(_, b)| b).collect()))
    }
}

/// The Sigstore trust an option object names: a public key (SPKI PEM), a
/// public key and a trusted root (its log entries checked), or a trusted
/// root with the certificate identity and OIDC issuer (keyless).
/// `cos_supplychain::sigstore::verifier` makes it a verifier (keyless
/// verification lives there).
#[derive(Debug, Clone, Copy)]
pub struct SigstoreTrust<'a> {
    /// The public key, SPKI PEM.
    pub public_key: Option<&'a str>,
    /// The `trusted_root.json`.
    pub trusted_root: Option<&'a [u8]>,
    /// The certificate identity (exact SAN) that must have signed.
    pub identity: Option<&'a str>,
    /// Its OIDC issuer.
    pub issuer: Option<&'a str>,
}

impl<'a> SigstoreTrust<'a> {
    /// The trust, when a public key or a trusted root is given.
    pub fn named(
        public_key: Option<&'a str>,
        trusted_root: Option<&'a Blob>,
        identity: Option<&'a str>,
        issuer: Option<&'a str>,
    ) -> Option<Self> {
        (public_key.is_some() || trusted_root.is_some()).then_some(SigstoreTrust {
            public_key,
            trusted_root: trusted_root.map(Blob::as_bytes),
            identity,
            issuer,
        })
    }
}

/// The field names a struct deriving `Deserialize` reads, in declaration
/// order (empty for anything that is not a struct). The bindings use it to
/// name cos-defined keys in each language's casing, and the stub checks to
/// compare `index.d.ts` and the `.pyi` stubs with the structs.
///
/// ```
/// #[derive(serde::Deserialize)]
/// struct Options { state_dir: Option<String>, history: usize }
/// assert_eq!(cos_core::shape::fields::<Options>(), ["state_dir", "history"]);
/// ```
pub fn fields<'de, T: Deserialize<'de>>() -> &'static [&'static str] {
    let mut found: &'static [&'static str] = &[];
    let _ = T::deserialize(Fields(&mut found));
    found
}

struct Fields<'f>(&'f mut &'static [&'static str]);

#[derive(Debug)]
struct Stop;

impl std::fmt::Display for Stop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("fields read")
    }
}

impl std::error::Error for Stop {}

impl de::Error for Stop {
    fn custom<T: std::fmt::Display>(_: T) -> Self {
        Stop
    }
}

impl<'de> Deserializer<'de> for Fields<'_> {
    type Error = Stop;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Stop> {
        Err(Stop)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        fields: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, Stop> {
        *self.0 = fields;
        Err(Stop)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map enum identifier ignored_any
    }
}
