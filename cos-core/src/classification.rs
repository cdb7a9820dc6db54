//! Data classification levels.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{Error, Result, excerpt};

/// How sensitive a piece of data is, ordered from least to most sensitive:
/// `PUBLIC < INTERNAL < CONFIDENTIAL < RESTRICTED`.
///
/// Parsing is case-insensitive; printing and serialising use upper case.
///
/// ```
/// use cos_core::Classification;
/// let c: Classification = "confidential".parse().unwrap();
/// assert_eq!(c, Classification::Confidential);
/// assert!(Classification::Public < c && c < Classification::Restricted);
/// assert_eq!(c.to_string(), "CONFIDENTIAL");
/// assert!("SECRET".parse::<Classification>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Classification {
    /// May be published.
    Public,
    /// For the company's people and systems only.
    Internal,
    /// For a need-to-know audience; disclosure causes harm.
    Confidential,
    /// The most sensitive data (regulated, secret); access needs step-up.
    Restricted,
}

impl Classification {
    /// All levels, least sensitive first.
    pub const ALL: [Classification; 4] = [
        Classification::Public,
        Classification::Internal,
        Classification::Confidential,
        Classification::Restricted,
    ];

    /// The upper-case label.
    pub fn as_str(self) -> &'static str {
        match self {
            Classification::Public => "PUBLIC",
            Classification::Internal => "INTERNAL",
            Classification::Confidential => "CONFIDENTIAL",
            Classification::Restricted => "RESTRICTED",
        }
    }
}

impl fmt::Display for Classification {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Classification {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Classification::ALL
            .into_iter()
            .find(|c| c.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| Error::InvalidClassification { input: excerpt(s) })
    }
}

impl Serialize for Classification {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Classification {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_and_serde() {
        let mut v = vec![
            Classification::Restricted,
            Classification::Public,
            Classification::Confidential,
            Classification::Internal,
        ];
        v.sort();
        assert_eq!(v, Classification::ALL);
        let json = serde_json::to_string(&Classification::ALL).unwrap();
        assert_eq!(json, r#"["PUBLIC","INTERNAL","CONFIDENTIAL","RESTRICTED"]"#);
        let back: Vec<Classification> = serde_json::from_str(&json).unwrap();
        assert_eq!(back, Classification::ALL);
        let err = serde_json::from_str::<Classification>("\"TOP-SECRET\"").unwrap_err();
        assert!(err.to_string().contains("TOP-SECRET"));
    }
}
