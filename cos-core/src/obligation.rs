//! Obligations: what the caller must do for an allowed decision to hold.
//!
//! The wire shape of a format cos owns (the `obligations` of a decision,
//! docs/policy-pack-format.md), here so that crates that act on obligations (DLP
//! redaction in `cos-policy`, and later the release gate) share one type
//! without depending on the policy engine. `cos_policy::Obligation` is this
//! type.

use serde::{Deserialize, Serialize};

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
        classification: Option<crate::Classification>,
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
