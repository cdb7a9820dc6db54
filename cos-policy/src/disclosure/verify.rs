//! Verification of signed disclosure packs.

use std::collections::BTreeSet;

use cos_core::dsse::Envelope;
use cos_core::{Classification, Digest, DigestAlgorithm, Residency, Verifier};
use serde_json::{Value, json};

use super::{Approval, DisclosurePack, MAX_ENVELOPE_SIZE, PAYLOAD_TYPE, Timestamp, invalid};
use crate::error::{DisclosureError, Error, Result};

/// What a disclosure pack needs, besides a good signature, to count as
/// approved.
///
/// ```
/// use cos_policy::disclosure::ApprovalPolicy;
/// // Two distinct approvers, one of them the DPO, and two trusted signatures.
/// let p = ApprovalPolicy::new(2).with_required_role("dpo").with_min_signatures(2);
/// assert_eq!(p.min_approvals, 2);
/// assert_eq!(ApprovalPolicy::default(), ApprovalPolicy::new(1));
/// ```
///
/// It is plain data: the bindings read it from keyword options
/// (`min_approvals`, `required_roles`, `min_signatures`; ADR-0020).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct ApprovalPolicy {
    /// Fewest distinct approvers (by approver id). Default 1.
    pub min_approvals: usize,
    /// Roles that some approval must carry each. Default none.
    pub required_roles: Vec<String>,
    /// Fewest distinct trusted keys that must have signed the envelope.
    /// Default 1.
    pub min_signatures: usize,
}

impl Default for ApprovalPolicy {
    fn default() -> Self {
        ApprovalPolicy::new(1)
    }
}

impl ApprovalPolicy {
    /// At least `min_approvals` distinct approvers and one trusted signature.
    pub fn new(min_approvals: usize) -> Self {
        ApprovalPolicy {
            min_approvals,
            required_roles: Vec::new(),
            min_signatures: 1,
        }
    }

    /// Also requires an approval in `role`.
    pub fn with_required_role(mut self, role: impl Into<String>) -> Self {
        self.required_roles.push(role.into());
        self
    }

    /// Requires `n` distinct trusted keys to have signed.
    pub fn with_min_signatures(mut self, n: usize) -> Self {
        self.min_signatures = n;
        self
    }
}

/// The options object of the bindings' `verifyDisclosure` and
/// `decideResidency` (ADR-0020): the [`ApprovalPolicy`] fields, and what
/// each function takes besides (`now` for `verifyDisclosure`, `envelope`
/// and `trusted_keys` for `decideResidency`; each ignores the others).
/// Its defaults are [`ApprovalPolicy`]'s.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ApprovalConfig {
    /// Fewest distinct approvers (default 1).
    pub min_approvals: usize,
    /// Roles some approval must carry each.
    pub required_roles: Vec<String>,
    /// Fewest distinct trusted keys that must have signed (default 1).
    pub min_signatures: usize,
    /// `verifyDisclosure`: verify for this time (RFC 3339; default now).
    pub now: Option<String>,
    /// `decideResidency`: the disclosure pack envelope.
    pub envelope: Option<cos_core::shape::Blob>,
    /// `decideResidency`: trusted keys (SPKI PEM).
    pub trusted_keys: Vec<String>,
}

impl Default for ApprovalConfig {
    fn default() -> Self {
        let p = ApprovalPolicy::default();
        ApprovalConfig {
            min_approvals: p.min_approvals,
            required_roles: p.required_roles,
            min_signatures: p.min_signatures,
            now: None,
            envelope: None,
            trusted_keys: Vec::new(),
        }
    }
}

impl ApprovalConfig {
    /// The approval policy these options name.
    pub fn policy(&self) -> ApprovalPolicy {
        ApprovalPolicy {
            min_approvals: self.min_approvals,
            required_roles: self.required_roles.clone(),
            min_signatures: self.min_signatures,
        }
    }
}

/// A disclosure pack whose signature, payload type, validity period and
/// approvals have been checked by [`verify`].
///
/// It cannot be made any other way, so a policy input rendered from it
/// ([`VerifiedDisclosure::to_policy_input`]) says `approved: true` only for
/// a pack that verified.
///
/// It serialises (for a log or a binding) as
/// `{"pack": {…}, "key_ids": […], "approvals": […], "verified_at": "…"}`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct VerifiedDisclosure {
    pack: DisclosurePack,
    key_ids: Vec<String>,
    approvals: Vec<Approval>,
    verified_at: Timestamp,
}

/// Verifies a disclosure pack envelope (DSSE JSON, at most
/// [`MAX_ENVELOPE_SIZE`] bytes) at time `now`:
///
/// 1. the envelope parses ([`DisclosureError::Invalid`]) and its payload
///    type is [`PAYLOAD_TYPE`] ([`DisclosureError::PayloadType`]);
/// 2. at least `policy.min_signatures` distinct keys of `trusted_keys`
///    signed it, checked by [`Envelope::verify`]
///    ([`DisclosureError::UntrustedKey`] when no signature names a trusted
///    key, [`DisclosureError::SignatureInvalid`] otherwise);
/// 3. the payload is a valid [`DisclosurePack`] ([`DisclosureError::Invalid`]);
/// 4. `created <= now < expires` ([`DisclosureError::NotYetValid`],
///    [`DisclosureError::Expired`]);
/// 5. the approvals dated no later than `now` come from at least
///    `policy.min_approvals` distinct approvers and carry every required
///    role ([`DisclosureError::Approvals`]).
///
/// An empty `trusted_keys`, or a signature threshold of 0 or above the
/// number of distinct keys, is the caller's mistake: [`Error::Core`]
/// (`invalid_threshold`).
pub fn verify(
    envelope: &[u8],
    trusted_keys: &[&dyn Verifier],
    now: Timestamp,
    policy: &ApprovalPolicy,
) -> Result<VerifiedDisclosure> {
    if envelope.len() > MAX_ENVELOPE_SIZE {
        return Err(invalid(format!(
            "envelope is {} bytes, at most {MAX_ENVELOPE_SIZE} allowed",
            envelope.len()
        )));
    }
    let env = Envelope::from_json(envelope).map_err(|e| invalid(format!("envelope: {e}")))?;
    if env.payload_type != PAYLOAD_TYPE {
        let mut found: String = env.payload_type.chars().take(100).collect();
        if found.len() < env.payload_type.len() {
            found.push('…');
        }
        return Err(Error::from(DisclosureError::PayloadType {
            expected: PAYLOAD_TYPE,
            found,
        }));
    }
    let verified = match env.verify(trusted_keys, policy.min_signatures, Some(PAYLOAD_TYPE)) {
        Ok(v) => v,
        Err(e @ cos_core::Error::InvalidThreshold { .. }) => return Err(e.into()),
        Err(e) => return Err(signature_error(&env, trusted_keys, &e)),
    };
    let pack = DisclosurePack::from_json(&env.payload)?;
    if now < pack.created {
        return Err(Error::from(DisclosureError::NotYetValid {
            id: pack.id,
            created: pack.created.to_string(),
            now: now.to_string(),
        }));
    }
    if now >= pack.expires {
        return Err(Error::from(DisclosureError::Expired {
            id: pack.id,
            expires: pack.expires.to_string(),
            now: now.to_string(),
        }));
    }
    let approvals: Vec<Approval> = pack
        .approvals
        .iter()
        .filter(|a| a.time <= now)
        .cloned()
        .collect();
    let approvers: BTreeSet<&str> = approvals.iter().map(|a| a.approver.as_str()).collect();
    if approvers.len() < policy.min_approvals {
        return Err(Error::from(DisclosureError::Approvals {
            id: pack.id.clone(),
            reason: format!(
                "{} distinct approver(s) by {now}, {} required",
                approvers.len(),
                policy.min_approvals
            ),
        }));
    }
    let missing: Vec<&str> = policy
        .required_roles
        .iter()
        .filter(|r| !approvals.iter().any(|a| &a.role == *r))
        .map(String::as_str)
        .collect();
    if !missing.is_empty() {
        return Err(Error::from(DisclosureError::Approvals {
            id: pack.id.clone(),
            reason: format!("no approval in role(s) {}", missing.join(", ")),
        }));
    }
    Ok(VerifiedDisclosure {
        pack,
        key_ids: verified.key_ids,
        approvals,
        verified_at: now,
    })
}

/// Tells an untrusted signer from a bad signature by the key id hints.
fn signature_error(env: &Envelope, trusted: &[&dyn Verifier], e: &cos_core::Error) -> Error {
    let hints: Vec<&str> = env.signatures.iter().map(|s| s.keyid.as_str()).collect();
    let names_trusted = hints
        .iter()
        .any(|h| trusted.iter().any(|k| k.key_id() == *h));
    if env.signatures.is_empty() {
        Error::from(DisclosureError::SignatureInvalid {
            reason: "the envelope carries no signature".into(),
        })
    } else if names_trusted {
        Error::from(DisclosureError::SignatureInvalid {
            reason: e.to_string(),
        })
    } else {
        let mut key_ids: Vec<String> = hints
            .iter()
            .take(8)
            .map(|h| {
                if h.is_empty() {
                    "(no key id)".to_owned()
                } else {
                    h.chars().take(64).collect()
                }
            })
            .collect();
        if hints.len() > 8 {
            key_ids.push("…".into());
        }
        Error::from(DisclosureError::UntrustedKey {
            key_ids: key_ids.join(", "),
        })
    }
}

impl VerifiedDisclosure {
    /// The verified pack.
    pub fn pack(&self) -> &DisclosurePack {
        &self.pack
    }

    /// Ids of the trusted keys whose signatures verified.
    pub fn key_ids(&self) -> &[String] {
        &self.key_ids
    }

    /// The time the pack was verified for.
    pub fn verified_at(&self) -> Timestamp {
        self.verified_at
    }

    /// The approvals that counted (those dated no later than
    /// [`VerifiedDisclosure::verified_at`]).
    pub fn approvals(&self) -> &[Approval] {
        &self.approvals
    }

    /// Whether the pack lists dataset `id` for data of this classification
    /// (no more sensitive than the pack allows) and residency tag.
    pub fn covers(&self, id: &str, classification: Classification, residency: Residency) -> bool {
        self.pack.datasets.iter().any(|d| {
            d.id == id && classification <= d.classification && d.residency.contains(&residency)
        })
    }

    /// Checks that `data` is the object `object` of dataset `dataset` as
    /// the pack lists it ([`DisclosureError::DigestMismatch`] if the bytes
    /// differ or the pack lists no such object).
    pub fn check_data(&self, dataset: &str, object: &str, data: &[u8]) -> Result<()> {
        self.check_digest(
            dataset,
            object,
            &Digest::of_bytes(DigestAlgorithm::Sha256, data),
        )
    }

    /// Like [`VerifiedDisclosure::check_data`], for a digest computed by
    /// the caller (e.g. with [`Digest::of_file`]).
    pub fn check_digest(&self, dataset: &str, object: &str, digest: &Digest) -> Result<()> {
        let mismatch = |reason: String| {
            Error::from(DisclosureError::DigestMismatch {
                dataset: dataset.to_owned(),
                object: object.to_owned(),
                reason,
            })
        };
        let listed = self
            .pack
            .datasets
            .iter()
            .filter(|d| d.id == dataset)
            .flat_map(|d| d.objects.iter())
            .find(|o| o.name == object)
            .ok_or_else(|| mismatch("the pack lists no such object".into()))?;
        if &listed.digest != digest {
            return Err(mismatch(format!(
                "digest {digest}, the pack lists {}",
                listed.digest
            )));
        }
        Ok(())
    }

    /// The `disclosure_pack` object of a policy input, as the baseline
    /// pack's `residency.rego` reads it (`input.disclosure_pack`) and
    /// `disclosures.rego` reads `input.pack`:
    ///
    /// ```json
    /// {"approved": true, "id": "dp-7", "destination": "US",
    ///  "data_ids": ["ds-eu-1"], "expires": "2027-01-01T00:00:00Z",
    ///  "purpose": "support", "approvals": [{"approver": "ann", "role": "dpo"}]}
    /// ```
    ///
    /// `destination` is the destination region and is left out when the
    /// pack names only a party; `approvals` are those that counted.
    pub fn to_policy_input(&self) -> Value {
        let mut v = json!({
            "approved": true,
            "id": self.pack.id,
            "data_ids": self.pack.datasets.iter().map(|d| d.id.as_str()).collect::<Vec<_>>(),
            "expires": self.pack.expires.to_string(),
            "purpose": self.pack.purpose,
            "approvals": self.approvals.iter()
                .map(|a| json!({"approver": a.approver, "role": a.role}))
                .collect::<Vec<_>>(),
        });
        if let (Some(region), Some(obj)) = (&self.pack.destination.region, v.as_object_mut()) {
            obj.insert("destination".into(), Value::from(region.as_str()));
        }
        v
    }
}
