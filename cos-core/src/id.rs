//! Identifiers: tenants, releases, and the text form of UUIDs.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{Error, Result, excerpt};

/// The RFC 9562 text form of a UUID's 16 bytes: lower-case hex in groups
/// of 8-4-4-4-12 (`0a1b2c3d-…`). The version and variant bits are the
/// caller's (a random v4 decision id, a content-derived v5-style id).
///
/// ```
/// assert_eq!(
///     cos_core::id::uuid_text(&[0xab; 16]),
///     "abababab-abab-abab-abab-abababababab"
/// );
/// ```
pub fn uuid_text(bytes: &[u8; 16]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(36);
    for (i, &b) in bytes.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            s.push('-');
        }
        s.push(char::from(HEX[usize::from(b >> 4)]));
        s.push(char::from(HEX[usize::from(b & 0xf)]));
    }
    s
}

/// Longest tenant id accepted.
pub const MAX_TENANT_ID_LEN: usize = 128;

/// A tenant identifier: 1 to 128 ASCII letters, digits, `-`, `_` or `.`,
/// starting with a letter or digit. Case is preserved and significant.
///
/// ```
/// use cos_core::TenantId;
/// let t: TenantId = "acme-eu.prod".parse().unwrap();
/// assert_eq!(t.as_str(), "acme-eu.prod");
/// assert!("-acme".parse::<TenantId>().is_err());
/// assert!("acme/../x".parse::<TenantId>().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TenantId(String);

impl TenantId {
    /// Parses and validates a tenant id.
    pub fn new(s: &str) -> Result<Self> {
        let err = |reason| Error::InvalidTenantId {
            input: excerpt(s),
            reason,
        };
        let first = s.bytes().next().ok_or_else(|| err("empty"))?;
        if s.len() > MAX_TENANT_ID_LEN {
            return Err(err("longer than 128 characters"));
        }
        if !first.is_ascii_alphanumeric() {
            return Err(err("must start with an ASCII letter or digit"));
        }
        if !s
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        {
            return Err(err(
                "only ASCII letters, digits, '-', '_' and '.' are allowed",
            ));
        }
        Ok(TenantId(s.to_owned()))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A release: the git commit id it was built from, 40 (SHA-1) or 64
/// (SHA-256 object format) hex digits, stored in lower case.
///
/// ```
/// use cos_core::ReleaseId;
/// let r: ReleaseId = "0123456789ABCDEF0123456789abcdef01234567".parse().unwrap();
/// assert_eq!(r.as_str(), "0123456789abcdef0123456789abcdef01234567");
/// assert_eq!(r.short(), "0123456");
/// assert!("v1.2.3".parse::<ReleaseId>().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ReleaseId(String);

impl ReleaseId {
    /// Parses and validates a commit id.
    pub fn new(s: &str) -> Result<Self> {
        if !matches!(s.len(), 40 | 64) || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(Error::InvalidReleaseId { input: excerpt(s) });
        }
        Ok(ReleaseId(s.to_ascii_lowercase()))
    }

    /// The full commit id.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The first seven hex digits, as `git log --oneline` shows them.
    pub fn short(&self) -> &str {
        &self.0[..7]
    }
}

macro_rules! string_id_impls {
    ($t:ty) => {
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl FromStr for $t {
            type Err = Error;
            fn from_str(s: &str) -> Result<Self> {
                Self::new(s)
            }
        }
        impl AsRef<str> for $t {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
        impl Serialize for $t {
            fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }
        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                Self::new(&s).map_err(serde::de::Error::custom)
            }
        }
    };
}

string_id_impls!(TenantId);
string_id_impls!(ReleaseId);

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn tenant_limits() {
        assert!(TenantId::new(&"a".repeat(128)).is_ok());
        assert_eq!(
            TenantId::new(&"a".repeat(129)).unwrap_err().code(),
            "invalid_tenant_id"
        );
        for bad in ["", " a", "a b", "a/b", ".a", "ä", "a\n"] {
            assert!(TenantId::new(bad).is_err(), "{bad:?}");
        }
        let t: TenantId = serde_json::from_str("\"Tenant_1\"").unwrap();
        assert_eq!(serde_json::to_string(&t).unwrap(), "\"Tenant_1\"");
        assert!(serde_json::from_str::<TenantId>("\"\"").is_err());
    }

    #[test]
    fn release_forms() {
        assert!(ReleaseId::new(&"a".repeat(64)).is_ok());
        for bad in ["", "abc", &"g".repeat(40), &"a".repeat(41), &"a".repeat(39)] {
            assert!(ReleaseId::new(bad).is_err(), "{bad:?}");
        }
    }

    proptest! {
        #[test]
        fn tenant_roundtrip(s in "[A-Za-z0-9][A-Za-z0-9._-]{0,127}") {
            let t = TenantId::new(&s).unwrap();
            prop_assert_eq!(t.to_string().parse::<TenantId>().unwrap(), t);
        }

        #[test]
        fn never_panics(s in ".{0,200}") {
            let _ = TenantId::new(&s);
            let _ = ReleaseId::new(&s);
        }
    }
}
