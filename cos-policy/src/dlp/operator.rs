//! What to do with a finding: redact, mask, replace, hash or drop.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize};
use sha2::{Digest as _, Sha256};

use super::error::{DlpError, Result};

/// How a finding (a detected span or a selected JSON field) is transformed.
///
/// In JSON (pack data, custom patterns) an operator is either its name —
/// `"redact"`, `"mask"` (keep the last 4), `"hash"`, `"drop"` — or an object
/// tagged with `type`:
///
/// ```
/// use cos_policy::dlp::{MaskFrom, Operator};
/// let op: Operator = serde_json::from_str(r##"{"type":"mask","char":"#","keep":2,"from":"start"}"##)?;
/// assert_eq!(op, Operator::Mask { char: '#', keep: 2, from: MaskFrom::Start });
/// assert_eq!(serde_json::from_str::<Operator>(r#""mask""#)?, Operator::mask_last(4));
/// assert_eq!("replace".parse::<Operator>().unwrap_err().code(), "dlp_invalid_operator");
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Operator {
    /// Replace with a label, by default `[REDACTED:<ENTITY>]` (see
    /// [`DlpBuilder::redact_template`](super::DlpBuilder::redact_template)).
    Redact,
    /// Replace letters and digits with `char`, keeping `keep` of them at the
    /// `from` end (`4111 1111 1111 1111` → `**** **** **** 1111`). Other
    /// characters (separators, `@`, `.`) are kept, so the shape stays
    /// readable.
    Mask {
        /// The masking character (default `*`).
        char: char,
        /// How many letters and digits stay visible (default 0).
        keep: usize,
        /// Which end the visible ones are at (default the end).
        from: MaskFrom,
    },
    /// Replace with a fixed value.
    Replace {
        /// The replacement.
        value: String,
    },
    /// Replace with the hex HMAC-SHA256 of the value under the DLP key
    /// (deterministic for a key, so records can still be joined).
    Hash,
    /// Remove: the span from text, the member from its object, the element
    /// from its array.
    Drop,
}

fn default_mask_char() -> char {
    '*'
}

/// Which end of a masked value stays visible.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MaskFrom {
    /// Keep the last characters (`****1111`).
    #[default]
    End,
    /// Keep the first characters (`4111****`).
    Start,
}

impl Operator {
    /// `Mask` with `*`, keeping the last `keep` letters and digits.
    pub fn mask_last(keep: usize) -> Operator {
        Operator::Mask {
            char: '*',
            keep,
            from: MaskFrom::End,
        }
    }

    /// The operator's kind, as recorded in reports.
    pub fn kind(&self) -> OperatorKind {
        match self {
            Operator::Redact => OperatorKind::Redact,
            Operator::Mask { .. } => OperatorKind::Mask,
            Operator::Replace { .. } => OperatorKind::Replace,
            Operator::Hash => OperatorKind::Hash,
            Operator::Drop => OperatorKind::Drop,
        }
    }

    /// How strict it is, for choosing between two rules on one field:
    /// drop > redact > replace > hash > mask.
    pub(crate) fn strictness(&self) -> u8 {
        match self {
            Operator::Drop => 4,
            Operator::Redact => 3,
            Operator::Replace { .. } => 2,
            Operator::Hash => 1,
            Operator::Mask { .. } => 0,
        }
    }
}

impl FromStr for Operator {
    type Err = DlpError;

    /// The operators with a name alone: `redact`, `mask` (`*`, keep the last
    /// 4), `hash`, `drop`. `replace` needs a value, so it has no name form.
    fn from_str(s: &str) -> Result<Operator> {
        match s {
            "redact" => Ok(Operator::Redact),
            "mask" => Ok(Operator::mask_last(4)),
            "hash" => Ok(Operator::Hash),
            "drop" => Ok(Operator::Drop),
            "replace" => Err(DlpError::Operator {
                operator: s.to_owned(),
                reason: "replace needs a value: {\"type\":\"replace\",\"value\":…}".into(),
            }),
            _ => Err(DlpError::Operator {
                operator: s.to_owned(),
                reason: "unknown operator (known: redact, mask, replace, hash, drop)".into(),
            }),
        }
    }
}

impl<'de> Deserialize<'de> for Operator {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Operator, D::Error> {
        let v = serde_json::Value::deserialize(d)?;
        operator_from_json(&v).map_err(serde::de::Error::custom)
    }
}

/// An operator from its JSON form (a name or a tagged object).
pub(crate) fn operator_from_json(v: &serde_json::Value) -> Result<Operator> {
    match v {
        serde_json::Value::String(s) => s.parse(),
        other => Tagged::deserialize(other)
            .map(Operator::from)
            .map_err(|e| DlpError::Operator {
                operator: other.to_string().chars().take(80).collect(),
                reason: e.to_string(),
            }),
    }
}

/// The tagged-object form, as read.
#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
enum Tagged {
    Redact,
    Mask {
        #[serde(default = "default_mask_char")]
        char: char,
        #[serde(default)]
        keep: usize,
        #[serde(default)]
        from: MaskFrom,
    },
    Replace {
        value: String,
    },
    Hash,
    Drop,
}

impl From<Tagged> for Operator {
    fn from(t: Tagged) -> Operator {
        match t {
            Tagged::Redact => Operator::Redact,
            Tagged::Mask { char, keep, from } => Operator::Mask { char, keep, from },
            Tagged::Replace { value } => Operator::Replace { value },
            Tagged::Hash => Operator::Hash,
            Tagged::Drop => Operator::Drop,
        }
    }
}

/// The kind of an [`Operator`], without its parameters (what reports record).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum OperatorKind {
    /// [`Operator::Redact`].
    Redact,
    /// [`Operator::Mask`].
    Mask,
    /// [`Operator::Replace`].
    Replace,
    /// [`Operator::Hash`].
    Hash,
    /// [`Operator::Drop`].
    Drop,
}

impl OperatorKind {
    /// The operator's name.
    pub fn as_str(self) -> &'static str {
        match self {
            OperatorKind::Redact => "redact",
            OperatorKind::Mask => "mask",
            OperatorKind::Replace => "replace",
            OperatorKind::Hash => "hash",
            OperatorKind::Drop => "drop",
        }
    }
}

impl fmt::Display for OperatorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// HMAC-SHA256 (RFC 2104) with the key's pads hashed once.
#[derive(Clone)]
pub(crate) struct HmacKey {
    inner: Sha256,
    outer: Sha256,
}

impl fmt::Debug for HmacKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("HmacKey(..)")
    }
}

impl HmacKey {
    pub(crate) fn new(key: &[u8]) -> HmacKey {
        let mut block = [0u8; 64];
        if key.len() > 64 {
            let d = Sha256::digest(key);
            block[..32].copy_from_slice(d.as_slice());
        } else {
            block[..key.len()].copy_from_slice(key);
        }
        let mut ipad = [0x36u8; 64];
        let mut opad = [0x5cu8; 64];
        for k in 0..64 {
            ipad[k] ^= block[k];
            opad[k] ^= block[k];
        }
        let mut inner = Sha256::new();
        inner.update(ipad);
        let mut outer = Sha256::new();
        outer.update(opad);
        HmacKey { inner, outer }
    }

    pub(crate) fn mac(&self, msg: &[u8]) -> [u8; 32] {
        let mut inner = self.inner.clone();
        inner.update(msg);
        let ih = inner.finalize();
        let mut outer = self.outer.clone();
        outer.update(ih.as_slice());
        let mut out = [0u8; 32];
        out.copy_from_slice(outer.finalize().as_slice());
        out
    }

    pub(crate) fn hex(&self, msg: &[u8]) -> String {
        hex_lower(&self.mac(msg))
    }
}

fn hex_lower(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        s.push(HEX[(b >> 4) as usize] as char);
        s.push(HEX[(b & 15) as usize] as char);
    }
    s
}

/// Masks `value` as [`Operator::Mask`] describes.
pub(crate) fn mask(value: &str, with: char, keep: usize, from: MaskFrom) -> String {
    let maskable = value.chars().filter(|c| c.is_alphanumeric()).count();
    let hidden = maskable.saturating_sub(keep);
    let mut seen = 0usize;
    value
        .chars()
        .map(|c| {
            if !c.is_alphanumeric() {
                return c;
            }
            seen += 1;
            let visible = match from {
                MaskFrom::End => seen > hidden,
                MaskFrom::Start => seen <= keep,
            };
            if visible { c } else { with }
        })
        .collect()
}

/// The redaction label: `template` with `{ENTITY}` → upper-case entity name
/// and `{entity}` → the name as is.
pub(crate) fn label(template: &str, entity: &str) -> String {
    template
        .replace("{ENTITY}", &entity.to_uppercase())
        .replace("{entity}", entity)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_rfc4231() {
        // Test case 1.
        let k = HmacKey::new(&[0x0b; 20]);
        assert_eq!(
            k.hex(b"Hi There"),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
        );
        // Test case 2.
        let k = HmacKey::new(b"Jefe");
        assert_eq!(
            k.hex(b"what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        // Test case 6: a key longer than the block.
        let k = HmacKey::new(&[0xaa; 131]);
        assert_eq!(
            k.hex(b"Test Using Larger Than Block-Size Key - Hash Key First"),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
        assert_eq!(format!("{k:?}"), "HmacKey(..)");
    }

    #[test]
    fn masking() {
        assert_eq!(
            mask("4111 1111 1111 1111", '*', 4, MaskFrom::End),
            "**** **** **** 1111"
        );
        assert_eq!(
            mask("4111111111111111", '#', 4, MaskFrom::Start),
            "4111############"
        );
        assert_eq!(
            mask("alice@example.com", '*', 0, MaskFrom::End),
            "*****@*******.***"
        );
        assert_eq!(mask("ab", '*', 4, MaskFrom::End), "ab");
        assert_eq!(mask("Zoë-1", 'x', 1, MaskFrom::End), "xxx-1");
        assert_eq!(mask("", '*', 4, MaskFrom::End), "");
    }

    #[test]
    fn labels() {
        assert_eq!(
            label("[REDACTED:{ENTITY}]", "credit_card"),
            "[REDACTED:CREDIT_CARD]"
        );
        assert_eq!(label("<{entity}>", "email"), "<email>");
    }

    #[test]
    fn operator_forms() {
        let parse = |s: &str| operator_from_json(&serde_json::from_str(s).unwrap());
        assert_eq!(parse(r#""redact""#).unwrap(), Operator::Redact);
        assert_eq!(parse(r#""drop""#).unwrap(), Operator::Drop);
        assert_eq!(parse(r#""hash""#).unwrap(), Operator::Hash);
        assert_eq!(parse(r#""mask""#).unwrap(), Operator::mask_last(4));
        assert_eq!(
            parse(r#"{"type":"replace","value":"x"}"#).unwrap(),
            Operator::Replace { value: "x".into() }
        );
        assert_eq!(
            parse(r#"{"type":"mask"}"#).unwrap(),
            Operator::Mask {
                char: '*',
                keep: 0,
                from: MaskFrom::End
            }
        );
        assert_eq!(
            parse(r#""shred""#).unwrap_err().code(),
            "dlp_invalid_operator"
        );
        assert_eq!(
            parse(r#""replace""#).unwrap_err().code(),
            "dlp_invalid_operator"
        );
        assert_eq!(
            parse(r#"{"type":"mask","keep":"4"}"#).unwrap_err().code(),
            "dlp_invalid_operator"
        );
        assert_eq!(
            parse(r#"{"type":"mask","extra":1}"#).unwrap_err().code(),
            "dlp_invalid_operator"
        );
        assert_eq!(parse("42").unwrap_err().code(), "dlp_invalid_operator");
        // Serialised as the tagged object.
        assert_eq!(
            serde_json::to_string(&Operator::mask_last(4)).unwrap(),
            r#"{"type":"mask","char":"*","keep":4,"from":"end"}"#
        );
        assert_eq!(Operator::Hash.kind().as_str(), "hash");
    }
}
