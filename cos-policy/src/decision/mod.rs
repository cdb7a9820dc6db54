//! The typed result of a policy decision.

pub(crate) mod log;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Why a decision came out as it did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reason {
    /// Stable machine code (`CROSS_TENANT`, `STEP_UP_REQUIRED`, …).
    pub code: String,
    /// Human-readable text.
    #[serde(default)]
    pub message: String,
}

/// Something the caller must do for an allowed decision to hold (or to turn
/// a denial into an allow).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Obligation {
    /// Redact these fields before the data leaves.
    Redact {
        /// Field paths (`customer.email`).
        fields: Vec<String>,
        /// The classification that requires it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        classification: Option<cos_core::Classification>,
        /// How: `redact`, `mask`, `hash`, `drop`, … (pack-defined).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        operator: Option<String>,
    },
    /// The subject must complete a step-up authentication.
    StepUp {
        /// The method asked for (`mfa`, `webauthn`, …).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        method: Option<String>,
    },
    /// An approved disclosure pack must be referenced.
    DisclosurePack {
        /// The purpose the pack must cover.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        purpose: Option<String>,
        /// The destination it must cover.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        destination: Option<String>,
    },
    /// An obligation type cos does not know; kept as the policy wrote it.
    #[serde(untagged)]
    Other(serde_json::Value),
}

/// Which pack made a decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackRef {
    /// Pack name.
    pub name: String,
    /// Pack version.
    pub version: String,
    /// Pack revision.
    pub revision: String,
    /// Pack digest (`sha256:<hex>`).
    pub digest: String,
}

/// A policy decision with everything needed to check it later.
///
/// Entry points return `{"allow": bool, "reasons": [...], "obligations": [...]}`;
/// cos adds the pack, a decision id and timing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Decision {
    /// Whether the request is allowed (subject to the obligations).
    pub allow: bool,
    /// Reasons, in the order the policy gave them.
    pub reasons: Vec<Reason>,
    /// Obligations, in the order the policy gave them.
    pub obligations: Vec<Obligation>,
    /// The entrypoint's document path (`companyos/abac/decision`).
    pub path: String,
    /// The pack that decided.
    pub pack: PackRef,
    /// Unique id (UUID v4), as in OPA decision logs.
    pub decision_id: String,
    /// When the evaluation started (RFC 3339, UTC, nanoseconds).
    pub timestamp: String,
    /// How long the evaluation took, in nanoseconds.
    pub eval_ns: u64,
}

impl Decision {
    /// Reads the `{allow, reasons, obligations}` document a policy returned.
    pub(crate) fn from_document(
        path: &str,
        doc: &serde_json::Value,
    ) -> Result<(bool, Vec<Reason>, Vec<Obligation>)> {
        let bad = |reason: String| Error::InvalidDecision {
            entrypoint: path.to_owned(),
            reason,
        };
        let obj = doc
            .as_object()
            .ok_or_else(|| bad(format!("expected an object, got {}", kind(doc))))?;
        let allow = obj
            .get("allow")
            .ok_or_else(|| bad("no \"allow\" field".into()))?
            .as_bool()
            .ok_or_else(|| bad("\"allow\" is not a boolean".into()))?;
        let reasons = match obj.get("reasons") {
            None | Some(serde_json::Value::Null) => Vec::new(),
            Some(v) => {
                serde_json::from_value(v.clone()).map_err(|e| bad(format!("reasons: {e}")))?
            }
        };
        let obligations = match obj.get("obligations") {
            None | Some(serde_json::Value::Null) => Vec::new(),
            Some(v) => {
                serde_json::from_value(v.clone()).map_err(|e| bad(format!("obligations: {e}")))?
            }
        };
        Ok((allow, reasons, obligations))
    }

    /// Reason codes, for quick checks.
    pub fn reason_codes(&self) -> Vec<&str> {
        self.reasons.iter().map(|r| r.code.as_str()).collect()
    }
}

fn kind(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

/// A random UUID v4.
pub(crate) fn uuid_v4() -> String {
    let mut b = [0u8; 16];
    // With no OS randomness the id is still unique enough per process for
    // logs; it is never used as a secret.
    if getrandom::fill(&mut b).is_err() {
        let n = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        b = n.to_le_bytes();
    }
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    cos_core::id::uuid_text(&b)
}

/// RFC 3339 UTC with nanoseconds, e.g. `2026-11-22T10:57:03.123456789Z`.
pub(crate) fn rfc3339(t: std::time::SystemTime) -> String {
    use cos_core::time::{Fraction, Rfc3339};
    Rfc3339::from_system_time(t, Fraction::Nanos).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn timestamps() {
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00.000000000Z");
        assert_eq!(
            rfc3339(UNIX_EPOCH + Duration::new(1_795_340_223, 5)),
            "2026-11-22T09:37:03.000000005Z"
        );
        assert_eq!(
            rfc3339(UNIX_EPOCH + Duration::from_secs(951_782_400)),
            "2000-02-29T00:00:00.000000000Z"
        );
    }

    #[test]
    fn uuids() {
        let a = uuid_v4();
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "4");
        assert_ne!(a, uuid_v4());
    }

    #[test]
    fn decision_documents() {
        let doc = serde_json::json!({
            "allow": false,
            "reasons": [{"code": "STEP_UP_REQUIRED", "message": "RESTRICTED data needs MFA"}],
            "obligations": [
                {"type": "step_up", "method": "mfa"},
                {"type": "redact", "fields": ["a.b"], "classification": "CONFIDENTIAL"},
                {"type": "notify", "who": "dpo"}
            ]
        });
        let (allow, reasons, obligations) = Decision::from_document("p", &doc).unwrap();
        assert!(!allow);
        assert_eq!(reasons[0].code, "STEP_UP_REQUIRED");
        assert_eq!(
            obligations[0],
            Obligation::StepUp {
                method: Some("mfa".into())
            }
        );
        assert!(matches!(
            &obligations[1],
            Obligation::Redact {
                classification: Some(cos_core::Classification::Confidential),
                ..
            }
        ));
        assert!(matches!(&obligations[2], Obligation::Other(v) if v["who"] == "dpo"));
        for bad in [
            serde_json::json!(true),
            serde_json::json!({}),
            serde_json::json!({"allow": "yes"}),
            serde_json::json!({"allow": true, "reasons": [1]}),
        ] {
            assert_eq!(
                Decision::from_document("p", &bad).unwrap_err().code(),
                "invalid_decision"
            );
        }
    }
}

/// The `{allow, reason}` shape that OPA REST clients commonly reduce a
/// result to (as the TypeScript clients that cos replaces do): `allow` is
/// true only when the result is an object whose `allow` is exactly `true`,
/// and `reason` is the result's `reason` when it is a string. A document
/// that is undefined, not an object, or has a non-boolean `allow` denies.
///
/// ```
/// use cos_policy::AllowReason;
/// let r = AllowReason::from_result(Some(&serde_json::json!({"allow": true, "reason": "ok"})));
/// assert_eq!(r, AllowReason { allow: true, reason: Some("ok".into()) });
/// assert!(!AllowReason::from_result(Some(&serde_json::json!({"allow": "yes"}))).allow);
/// assert!(!AllowReason::from_result(None).allow);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AllowReason {
    /// Whether the result allows.
    pub allow: bool,
    /// The result's `reason`, when it is a string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl AllowReason {
    /// Reduces an OPA result (`None`: undefined) to `{allow, reason}`.
    pub fn from_result(result: Option<&serde_json::Value>) -> Self {
        let obj = result.and_then(serde_json::Value::as_object);
        AllowReason {
            allow: obj.and_then(|o| o.get("allow")) == Some(&serde_json::Value::Bool(true)),
            reason: obj
                .and_then(|o| o.get("reason"))
                .and_then(serde_json::Value::as_str)
                .map(str::to_owned),
        }
    }
}
