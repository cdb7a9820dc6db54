//! Residency decisions with an optional disclosure pack.

use cos_core::{Classification, Residency, Verifier};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{ApprovalPolicy, Timestamp, VerifiedDisclosure, verify};
use crate::decision::Decision;
use crate::engine::PolicyEngine;
use crate::error::{Error, Result};

/// May this dataset go to this destination? The facts a residency
/// entrypoint needs, besides a disclosure pack.
///
/// ```
/// use cos_core::Classification;
/// use cos_policy::disclosure::ResidencyRequest;
/// let req = ResidencyRequest::new(
///     "ds-eu-1", Classification::Confidential, "EU-Only".parse().unwrap(),
///     "us-east-1", "2026-11-22T10:00:00Z".parse().unwrap(),
/// ).with_purpose("support");
/// assert_eq!(req.input(None)["destination"]["region"], "us-east-1");
/// assert!(req.input(None).get("disclosure_pack").is_none());
/// ```
///
/// It also reads from JSON (`party` and `purpose` optional):
/// `{"dataset_id": "ds-eu-1", "classification": "CONFIDENTIAL", "residency":
/// "EU-Only", "destination_region": "us-east-1", "time": "2026-11-22T10:00:00Z"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct ResidencyRequest {
    /// The dataset's id.
    pub dataset_id: String,
    /// The dataset's classification.
    pub classification: Classification,
    /// The dataset's residency tag.
    pub residency: Residency,
    /// The destination region as the policy pack knows regions: a country
    /// code (`US`), or a cloud region name the pack maps to a country
    /// (`us-east-1`, in the baseline's `data.companyos.regions.cloud`).
    pub destination_region: String,
    /// The receiving party, if any (`internal`, a vendor id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub party: Option<String>,
    /// The purpose of the transfer, if known (named in the obligation a
    /// denial carries).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purpose: Option<String>,
    /// The time of the decision: disclosure packs are verified for it and
    /// the policy sees it as `context.time`.
    pub time: Timestamp,
}

impl ResidencyRequest {
    /// A request without party or purpose.
    pub fn new(
        dataset_id: impl Into<String>,
        classification: Classification,
        residency: Residency,
        destination_region: impl Into<String>,
        time: Timestamp,
    ) -> Self {
        ResidencyRequest {
            dataset_id: dataset_id.into(),
            classification,
            residency,
            destination_region: destination_region.into(),
            party: None,
            purpose: None,
            time,
        }
    }

    /// Names the receiving party.
    pub fn with_party(mut self, party: impl Into<String>) -> Self {
        self.party = Some(party.into());
        self
    }

    /// Names the purpose.
    pub fn with_purpose(mut self, purpose: impl Into<String>) -> Self {
        self.purpose = Some(purpose.into());
        self
    }

    /// The policy input:
    /// `{dataset: {id, classification, residency}, destination: {region, party?},
    /// context: {time}, purpose?, disclosure_pack?}`.
    ///
    /// `disclosure_pack` is present only for a verified pack
    /// ([`VerifiedDisclosure::to_policy_input`]); if the pack does not list
    /// this dataset with this residency tag at this classification or a
    /// more sensitive one ([`VerifiedDisclosure::covers`]), the dataset's id
    /// is left out of its `data_ids`.
    pub fn input(&self, disclosure: Option<&VerifiedDisclosure>) -> Value {
        let mut destination = json!({"region": self.destination_region});
        let mut input = json!({
            "dataset": {
                "id": self.dataset_id,
                "classification": self.classification.as_str(),
                "residency": self.residency.to_string(),
            },
            "context": {"time": self.time.to_string()},
        });
        if let (Some(party), Some(d)) = (&self.party, destination.as_object_mut()) {
            d.insert("party".into(), Value::from(party.as_str()));
        }
        let Some(obj) = input.as_object_mut() else {
            return input;
        };
        obj.insert("destination".into(), destination);
        if let Some(purpose) = &self.purpose {
            obj.insert("purpose".into(), Value::from(purpose.as_str()));
        }
        if let Some(v) = disclosure {
            let mut pack = v.to_policy_input();
            if !v.covers(&self.dataset_id, self.classification, self.residency)
                && let Some(Value::Array(ids)) = pack.get_mut("data_ids")
            {
                ids.retain(|id| id.as_str() != Some(self.dataset_id.as_str()));
            }
            obj.insert("disclosure_pack".into(), pack);
        }
        input
    }
}

/// What became of the disclosure pack given to [`decide_residency`].
#[derive(Debug)]
#[non_exhaustive]
pub enum DisclosureStatus {
    /// No pack was given.
    Absent,
    /// The pack verified and was passed to the policy.
    Verified(VerifiedDisclosure),
    /// The pack did not verify (the error says why) and was not passed to
    /// the policy.
    Rejected(Error),
}

/// A residency decision and what became of the disclosure pack.
///
/// It serialises (for a log or a binding) as `{"decision": {…},
/// "disclosure": {"status": "absent"}}`, with `"status": "verified"` and the
/// pack's `id`, the `key_ids` that verified and the `policy_input` the policy
/// saw, or `"status": "rejected"` with the error's `code` and `message`.
#[derive(Debug)]
pub struct ResidencyOutcome {
    /// The policy's decision.
    pub decision: Decision,
    /// The disclosure pack's fate.
    pub disclosure: DisclosureStatus,
}

/// Decides whether a dataset may go to a destination: verifies the
/// disclosure pack envelope, if one is given ([`verify`], at
/// `request.time`), and evaluates `entrypoint` (e.g. `residency` in the
/// baseline pack) with [`ResidencyRequest::input`].
///
/// A pack that does not verify is not passed to the policy at all (its
/// error is in [`ResidencyOutcome::disclosure`]), so the policy decides as
/// without one. Errors are returned for evaluation failures and for a
/// misconfigured verifier (no trusted keys, an impossible signature
/// threshold), never for a bad pack.
pub fn decide_residency(
    engine: &PolicyEngine,
    entrypoint: &str,
    request: &ResidencyRequest,
    envelope: Option<&[u8]>,
    trusted_keys: &[&dyn Verifier],
    policy: &ApprovalPolicy,
) -> Result<ResidencyOutcome> {
    let disclosure = match envelope {
        None => DisclosureStatus::Absent,
        Some(bytes) => match verify(bytes, trusted_keys, request.time, policy) {
            Ok(v) => DisclosureStatus::Verified(v),
            Err(e @ Error::Core(_)) => return Err(e),
            Err(e) => DisclosureStatus::Rejected(e),
        },
    };
    let verified = match &disclosure {
        DisclosureStatus::Verified(v) => Some(v),
        _ => None,
    };
    let decision = engine.decide(entrypoint, &request.input(verified))?;
    Ok(ResidencyOutcome {
        decision,
        disclosure,
    })
}

#[derive(Serialize)]
struct OutcomeView<'a> {
    decision: &'a Decision,
    disclosure: DisclosureView<'a>,
}

#[derive(Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
enum DisclosureView<'a> {
    Absent,
    Verified {
        id: &'a str,
        key_ids: &'a [String],
        policy_input: Value,
    },
    Rejected {
        code: &'static str,
        message: String,
    },
}

impl Serialize for ResidencyOutcome {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let disclosure = match &self.disclosure {
            DisclosureStatus::Absent => DisclosureView::Absent,
            DisclosureStatus::Verified(v) => DisclosureView::Verified {
                id: &v.pack().id,
                key_ids: v.key_ids(),
                policy_input: v.to_policy_input(),
            },
            DisclosureStatus::Rejected(e) => DisclosureView::Rejected {
                code: e.code(),
                message: e.to_string(),
            },
        };
        OutcomeView {
            decision: &self.decision,
            disclosure,
        }
        .serialize(s)
    }
}
