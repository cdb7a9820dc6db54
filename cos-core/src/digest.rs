//! Content digests: `sha256:<hex>` and the HTTP `Digest` header form.

use std::fmt;
use std::io::Read;
use std::path::Path;
use std::str::FromStr;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::Digest as _;

use crate::error::{Error, Result, excerpt};

/// A digest algorithm supported by cos.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum DigestAlgorithm {
    /// SHA-256 (FIPS 180-4).
    Sha256,
    /// SHA-512 (FIPS 180-4).
    Sha512,
}

const SUPPORTED: &str = "sha256, sha512";

impl DigestAlgorithm {
    /// The name used in `sha256:<hex>` and in in-toto digest sets.
    pub fn name(self) -> &'static str {
        match self {
            DigestAlgorithm::Sha256 => "sha256",
            DigestAlgorithm::Sha512 => "sha512",
        }
    }

    /// The name used in the HTTP `Digest` header (RFC 3230, IANA registry).
    pub fn http_name(self) -> &'static str {
        match self {
            DigestAlgorithm::Sha256 => "sha-256",
            DigestAlgorithm::Sha512 => "sha-512",
        }
    }

    /// Length of a digest in bytes.
    pub fn output_len(self) -> usize {
        match self {
            DigestAlgorithm::Sha256 => 32,
            DigestAlgorithm::Sha512 => 64,
        }
    }

    fn from_name(name: &str) -> Result<Self> {
        match name.to_ascii_lowercase().as_str() {
            "sha256" | "sha-256" => Ok(DigestAlgorithm::Sha256),
            "sha512" | "sha-512" => Ok(DigestAlgorithm::Sha512),
            _ => Err(Error::UnsupportedAlgorithm {
                name: excerpt(name),
                supported: SUPPORTED,
            }),
        }
    }
}

impl fmt::Display for DigestAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for DigestAlgorithm {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Self::from_name(s)
    }
}

/// A content digest: an algorithm and the bytes it produced.
///
/// Prints as `sha256:<lowercase hex>` (the OCI / in-toto form) and parses
/// that form as well as the HTTP `Digest` header form `sha-256=<base64>`.
///
/// ```
/// use cos_core::{Digest, DigestAlgorithm};
///
/// let d = Digest::of_bytes(DigestAlgorithm::Sha256, b"hello world");
/// assert_eq!(
///     d.to_string(),
///     "sha256:b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9"
/// );
/// assert_eq!(d.to_http_header(), "sha-256=uU0nuZNNPgilLlLX2n2r+sSE7+N6U4DukIj3rOLvzek=");
/// assert_eq!("sha-256=uU0nuZNNPgilLlLX2n2r+sSE7+N6U4DukIj3rOLvzek=".parse::<Digest>().unwrap(), d);
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest {
    algorithm: DigestAlgorithm,
    bytes: Vec<u8>,
}

impl Digest {
    /// Builds a digest from raw bytes, checking their length.
    pub fn from_bytes(algorithm: DigestAlgorithm, bytes: &[u8]) -> Result<Self> {
        if bytes.len() != algorithm.output_len() {
            return Err(Error::InvalidDigest {
                input: hex::encode(bytes),
                reason: format!(
                    "{} digests are {} bytes, got {}",
                    algorithm,
                    algorithm.output_len(),
                    bytes.len()
                ),
            });
        }
        Ok(Digest {
            algorithm,
            bytes: bytes.to_vec(),
        })
    }

    /// Parses `<alg>:<hex>` (e.g. `sha256:ab12…`), hex in either case.
    pub fn parse_prefixed(s: &str) -> Result<Self> {
        let (alg, hex_part) = s.split_once(':').ok_or_else(|| Error::InvalidDigest {
            input: excerpt(s),
            reason: "expected <algorithm>:<hex>".into(),
        })?;
        let algorithm = DigestAlgorithm::from_name(alg)?;
        let bytes = hex::decode(hex_part).map_err(|e| Error::InvalidDigest {
            input: excerpt(s),
            reason: format!("bad hex: {e}"),
        })?;
        Self::from_bytes(algorithm, &bytes)
    }

    /// Parses the HTTP `Digest` header form (RFC 3230): `sha-256=<base64>`.
    ///
    /// Several comma-separated instance digests may be given; the strongest
    /// supported one is returned. A value of exactly twice the digest length
    /// in hex digits is read as hex (`sha-256=<64 hex digits>`, the form the
    /// TypeScript `cos-policy-fetcher` expects); it cannot be mistaken for
    /// base64, which would decode to the wrong length.
    ///
    /// ```
    /// use cos_core::Digest;
    /// let b64 = Digest::parse_http_header("SHA-256=LCa0a2j/xo/5m0U8HTBBNBNCLXBkg7+g+YpeiGJm564=").unwrap();
    /// let hex = Digest::parse_http_header(
    ///     "sha-256=2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae").unwrap();
    /// assert_eq!(b64, hex);
    /// ```
    pub fn parse_http_header(s: &str) -> Result<Self> {
        let mut best: Option<Digest> = None;
        for part in s.split(',') {
            let part = part.trim();
            let Some((alg, value)) = part.split_once('=') else {
                return Err(Error::InvalidDigest {
                    input: excerpt(s),
                    reason: "expected <algorithm>=<base64>".into(),
                });
            };
            let Ok(algorithm) = DigestAlgorithm::from_name(alg.trim()) else {
                continue; // unknown instance digests (md5, unixsum, …) are skipped
            };
            let value = value.trim();
            let is_hex = value.len() == 2 * algorithm.output_len()
                && value.bytes().all(|b| b.is_ascii_hexdigit());
            let bytes = if is_hex {
                hex::decode(value).map_err(|e| Error::InvalidDigest {
                    input: excerpt(s),
                    reason: format!("bad hex: {e}"),
                })?
            } else {
                STANDARD.decode(value).map_err(|e| Error::InvalidDigest {
                    input: excerpt(s),
                    reason: format!("bad base64: {e}"),
                })?
            };
            let d = Self::from_bytes(algorithm, &bytes)?;
            if best.as_ref().is_none_or(|b| b.algorithm < d.algorithm) {
                best = Some(d);
            }
        }
        best.ok_or_else(|| Error::InvalidDigest {
            input: excerpt(s),
            reason: format!("no supported algorithm ({SUPPORTED})"),
        })
    }

    /// The digest of a byte slice.
    pub fn of_bytes(algorithm: DigestAlgorithm, data: &[u8]) -> Self {
        let mut h = Hasher::new(algorithm);
        h.update(data);
        h.finish()
    }

    /// The digest of everything a reader yields, read in 64 KiB chunks.
    ///
    /// `path` is only used in the error message.
    pub fn of_reader<R: Read>(algorithm: DigestAlgorithm, mut reader: R) -> std::io::Result<Self> {
        let mut h = Hasher::new(algorithm);
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match reader.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => h.update(&buf[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
        Ok(h.finish())
    }

    /// The digest of a regular file's contents, streamed (files of any size;
    /// FIFOs, devices and directories are refused, see
    /// [`crate::file::open_regular`]).
    pub fn of_file(algorithm: DigestAlgorithm, path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let file = crate::file::open_regular(path)?;
        Self::of_reader(algorithm, file).map_err(|source| Error::Io {
            op: "read",
            path: path.to_owned(),
            source,
        })
    }

    /// The algorithm.
    pub fn algorithm(&self) -> DigestAlgorithm {
        self.algorithm
    }

    /// The raw digest bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Lowercase hex of the digest bytes, without the algorithm prefix.
    pub fn hex(&self) -> String {
        hex::encode(&self.bytes)
    }

    /// The HTTP `Digest` header value (RFC 3230): `sha-256=<base64>`.
    pub fn to_http_header(&self) -> String {
        format!(
            "{}={}",
            self.algorithm.http_name(),
            STANDARD.encode(&self.bytes)
        )
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.algorithm, self.hex())
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Digest({self})")
    }
}

impl FromStr for Digest {
    type Err = Error;
    /// Parses `sha256:<hex>` or the HTTP form `sha-256=<base64>`.
    fn from_str(s: &str) -> Result<Self> {
        if s.contains(':') {
            Self::parse_prefixed(s)
        } else if s.contains('=') {
            Self::parse_http_header(s)
        } else {
            Err(Error::InvalidDigest {
                input: excerpt(s),
                reason: "expected sha256:<hex> or sha-256=<base64>".into(),
            })
        }
    }
}

impl Serialize for Digest {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Digest {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// Incremental hashing; also an [`std::io::Write`] sink.
///
/// ```
/// use std::io::Write;
/// use cos_core::{DigestAlgorithm, Hasher};
///
/// let mut h = Hasher::new(DigestAlgorithm::Sha512);
/// h.write_all(b"hello ").unwrap();
/// h.update(b"world");
/// assert!(h.finish().to_string().starts_with("sha512:309ecc48"));
/// ```
#[derive(Clone)]
pub struct Hasher(HasherInner);

#[derive(Clone)]
enum HasherInner {
    Sha256(sha2::Sha256),
    Sha512(sha2::Sha512),
}

impl Hasher {
    /// A fresh hasher for `algorithm`.
    pub fn new(algorithm: DigestAlgorithm) -> Self {
        Hasher(match algorithm {
            DigestAlgorithm::Sha256 => HasherInner::Sha256(sha2::Sha256::new()),
            DigestAlgorithm::Sha512 => HasherInner::Sha512(sha2::Sha512::new()),
        })
    }

    /// Feeds bytes.
    pub fn update(&mut self, data: &[u8]) {
        match &mut self.0 {
            HasherInner::Sha256(h) => h.update(data),
            HasherInner::Sha512(h) => h.update(data),
        }
    }

    /// Finishes and returns the digest.
    pub fn finish(self) -> Digest {
        match self.0 {
            HasherInner::Sha256(h) => Digest {
                algorithm: DigestAlgorithm::Sha256,
                bytes: h.finalize().to_vec(),
            },
            HasherInner::Sha512(h) => Digest {
                algorithm: DigestAlgorithm::Sha512,
                bytes: h.finalize().to_vec(),
            },
        }
    }
}

impl std::io::Write for Hasher {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.update(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// SHA-256 of `data` as raw bytes (a convenience for key ids and PAE).
pub(crate) fn sha256(data: &[u8]) -> [u8; 32] {
    sha2::Sha256::digest(data).into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    // FIPS 180-4 / NIST CAVP short vectors.
    #[test]
    fn known_answers() {
        let d = Digest::of_bytes(DigestAlgorithm::Sha256, b"abc");
        assert_eq!(
            d.hex(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let d = Digest::of_bytes(DigestAlgorithm::Sha512, b"abc");
        assert_eq!(
            d.hex(),
            "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"
        );
    }

    #[test]
    fn header_forms() {
        let d = Digest::of_bytes(DigestAlgorithm::Sha256, b"");
        let h = d.to_http_header();
        assert_eq!(h, "sha-256=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
        assert_eq!(Digest::parse_http_header(&h).unwrap(), d);
        // Several instance digests: unknown ones skipped, strongest chosen.
        let d512 = Digest::of_bytes(DigestAlgorithm::Sha512, b"");
        let both = format!(
            "md5=1B2M2Y8AsgTpgAmY7PhCfg==, {h}, {}",
            d512.to_http_header()
        );
        assert_eq!(Digest::parse_http_header(&both).unwrap(), d512);
        // Case-insensitive algorithm and hex.
        let upper = format!("SHA256:{}", d.hex().to_uppercase());
        assert_eq!(upper.parse::<Digest>().unwrap(), d);
    }

    #[test]
    fn rejects_bad_input() {
        for bad in [
            "",
            "sha256",
            "sha256:",
            "sha256:zz",
            "sha256:abcd",
            "md5:d41d8cd98f00b204e9800998ecf8427e",
            "sha-256=!!!",
            "sha-256=AAAA",
            "md5=1B2M2Y8AsgTpgAmY7PhCfg==",
        ] {
            assert!(bad.parse::<Digest>().is_err(), "{bad:?} should not parse");
        }
    }

    #[test]
    fn reader_equals_bytes() {
        let data: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        let a = Digest::of_reader(DigestAlgorithm::Sha256, &data[..]).unwrap();
        assert_eq!(a, Digest::of_bytes(DigestAlgorithm::Sha256, &data));
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        std::fs::write(&p, &data).unwrap();
        assert_eq!(Digest::of_file(DigestAlgorithm::Sha256, &p).unwrap(), a);
        let err = Digest::of_file(DigestAlgorithm::Sha256, dir.path().join("missing")).unwrap_err();
        assert_eq!(err.code(), "io");
    }

    proptest! {
        #[test]
        fn roundtrip_both_forms(data in proptest::collection::vec(any::<u8>(), 0..512), wide in any::<bool>()) {
            let alg = if wide { DigestAlgorithm::Sha512 } else { DigestAlgorithm::Sha256 };
            let d = Digest::of_bytes(alg, &data);
            prop_assert_eq!(d.to_string().parse::<Digest>().unwrap(), d.clone());
            prop_assert_eq!(d.to_http_header().parse::<Digest>().unwrap(), d.clone());
            let json = serde_json::to_string(&d).unwrap();
            prop_assert_eq!(serde_json::from_str::<Digest>(&json).unwrap(), d);
        }

        #[test]
        fn parse_never_panics(s in ".{0,100}") {
            let _ = s.parse::<Digest>();
        }
    }
}
