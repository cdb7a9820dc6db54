//! `DisclosurePack`, `VerifiedDisclosure`, `verifyDisclosure`,
//! `decideResidency`: cos_policy::disclosure, mapped.

use cos_policy::disclosure::{
    Approval, ApprovalPolicy, Dataset, DisclosurePackBuilder, ResidencyRequest, Timestamp,
};
use napi::bindgen_prelude::{Buffer, ClassInstance};
use napi::{Env, Unknown};
use napi_derive::napi;
use serde_json::Value;

use crate::{
    Bytes, Engine, Result, SigningKey, bytes, core_err, from_value, invalid_arg, json_arg,
    json_out, policy_err, public_keys, signers,
};

fn timestamp(s: &str) -> Result<Timestamp> {
    s.parse().map_err(policy_err)
}

/// What `new DisclosurePack(spec)` takes (times are RFC 3339 UTC).
#[napi(object)]
pub struct DisclosurePackSpec {
    /// The pack's id.
    pub id: String,
    /// Who issues it.
    pub issuer: String,
    /// The purpose tag (`support`).
    pub purpose: String,
    /// The destination region (`US`); this or a party is required.
    pub destination_region: Option<String>,
    /// The receiving party.
    pub destination_party: Option<String>,
    /// Datasets in the pack's JSON form: `{id, classification, residency: [...], objects: [{name, digest}]}`.
    pub datasets: Value,
    /// Approvals: `{approver, role, time}`.
    pub approvals: Option<Value>,
    /// When it is made.
    pub created: String,
    /// When it expires.
    pub expires: String,
}

/// Options of `verifyDisclosure` and `decideResidency`: what a pack needs
/// besides a good signature.
#[napi(object)]
pub struct ApprovalOptions {
    /// Fewest distinct approvers (default 1).
    pub min_approvals: Option<i64>,
    /// Roles some approval must carry each.
    pub required_roles: Option<Vec<String>>,
    /// Fewest distinct trusted keys that must have signed (default 1).
    pub min_signatures: Option<i64>,
    /// `verifyDisclosure` only: verify for this time (RFC 3339; default now).
    pub now: Option<String>,
    /// `decideResidency` only: the disclosure pack envelope.
    pub envelope: Option<Bytes>,
    /// `decideResidency` only: trusted keys (SPKI PEM).
    pub trusted_keys: Option<Vec<String>>,
}

fn approval_policy(o: &ApprovalOptions) -> Result<ApprovalPolicy> {
    let n = |v: Option<i64>, name: &str| -> Result<usize> {
        usize::try_from(v.unwrap_or(1)).map_err(|_| invalid_arg(format!("{name} is negative")))
    };
    let mut p = ApprovalPolicy::new(n(o.min_approvals, "minApprovals")?)
        .with_min_signatures(n(o.min_signatures, "minSignatures")?);
    for r in o.required_roles.iter().flatten() {
        p = p.with_required_role(r.clone());
    }
    Ok(p)
}

fn no_options() -> ApprovalOptions {
    ApprovalOptions {
        min_approvals: None,
        required_roles: None,
        min_signatures: None,
        now: None,
        envelope: None,
        trusted_keys: None,
    }
}

/// A validated disclosure pack.
#[napi]
pub struct DisclosurePack(cos_policy::disclosure::DisclosurePack);

#[napi]
impl DisclosurePack {
    /// Builds and validates a pack (throws `disclosure_invalid`).
    #[napi(constructor)]
    pub fn new(spec: DisclosurePackSpec) -> Result<Self> {
        let datasets: Vec<Dataset> = from_value(spec.datasets, "list of datasets")?;
        let approvals: Vec<Approval> = match spec.approvals {
            Some(a) => from_value(a, "list of approvals")?,
            None => Vec::new(),
        };
        let mut b = DisclosurePackBuilder::new(spec.id)
            .issuer(spec.issuer)
            .purpose(spec.purpose)
            .created(timestamp(&spec.created)?)
            .expires(timestamp(&spec.expires)?);
        if let Some(r) = spec.destination_region {
            b = b.destination_region(r.parse().map_err(core_err)?);
        }
        if let Some(p) = spec.destination_party {
            b = b.destination_party(p);
        }
        for d in datasets {
            b = b.dataset(d);
        }
        for a in approvals {
            b = b.approval(a.approver, a.role, a.time);
        }
        b.build().map(DisclosurePack).map_err(policy_err)
    }

    /// Parses and validates the JSON form.
    #[napi(factory)]
    pub fn from_json(data: Bytes) -> Result<Self> {
        cos_policy::disclosure::DisclosurePack::from_json(bytes(&data))
            .map(DisclosurePack)
            .map_err(policy_err)
    }

    /// The pack's id.
    #[napi(getter)]
    pub fn id(&self) -> String {
        self.0.id.clone()
    }

    /// The pack as a plain object (its JSON form).
    #[napi(ts_return_type = "DisclosurePackJson")]
    pub fn to_object<'e>(&self, env: &'e Env) -> Result<Unknown<'e>> {
        json_out(env, &self.0)
    }

    /// The RFC 8785 canonical JSON (the signed bytes).
    #[napi]
    pub fn to_json(&self) -> Result<Buffer> {
        Ok(self.0.to_canonical_json().map_err(policy_err)?.into())
    }

    /// A DSSE envelope (JSON bytes) signed by every key.
    #[napi]
    pub fn sign(&self, keys: Vec<ClassInstance<'_, SigningKey>>) -> Result<Buffer> {
        let env = self.0.sign(&signers(&keys)).map_err(policy_err)?;
        Ok(env.to_json().into())
    }
}

/// A disclosure pack whose signature, validity period and approvals verified.
#[napi]
pub struct VerifiedDisclosure(cos_policy::disclosure::VerifiedDisclosure);

#[napi]
impl VerifiedDisclosure {
    /// The verified pack (a plain object).
    #[napi(getter, ts_return_type = "DisclosurePackJson")]
    pub fn pack(&self) -> Result<Value> {
        serde_json::to_value(self.0.pack()).map_err(|e| invalid_arg(e.to_string()))
    }

    /// Ids of the trusted keys whose signatures verified.
    #[napi(getter)]
    pub fn key_ids(&self) -> Vec<String> {
        self.0.key_ids().to_vec()
    }

    /// The time it was verified for (RFC 3339).
    #[napi(getter)]
    pub fn verified_at(&self) -> String {
        self.0.verified_at().to_string()
    }

    /// The approvals that counted.
    #[napi(getter, ts_return_type = "Approval[]")]
    pub fn approvals(&self) -> Result<Value> {
        serde_json::to_value(self.0.approvals()).map_err(|e| invalid_arg(e.to_string()))
    }

    /// `{pack, key_ids, approvals, verified_at}`.
    #[napi(ts_return_type = "any")]
    pub fn to_object<'e>(&self, env: &'e Env) -> Result<Unknown<'e>> {
        json_out(env, &self.0)
    }

    /// The `disclosure_pack` object of a policy input (`approved: true`).
    #[napi(ts_return_type = "Record<string, any>")]
    pub fn to_policy_input<'e>(&self, env: &'e Env) -> Result<Unknown<'e>> {
        json_out(env, &self.0.to_policy_input())
    }

    /// Whether the pack lists this dataset for this classification and residency.
    #[napi]
    pub fn covers(
        &self,
        dataset: String,
        classification: String,
        residency: String,
    ) -> Result<bool> {
        let c: cos_core::Classification = classification.parse().map_err(core_err)?;
        let r: cos_core::Residency = residency.parse().map_err(core_err)?;
        Ok(self.0.covers(&dataset, c, r))
    }

    /// Throws `disclosure_digest_mismatch` unless `data` is the object the pack lists.
    #[napi]
    pub fn check_data(&self, dataset: String, object: String, data: Bytes) -> Result<()> {
        self.0
            .check_data(&dataset, &object, bytes(&data))
            .map_err(policy_err)
    }

    /// `checkData` for a digest (`sha256:<hex>`) computed by the caller.
    #[napi]
    pub fn check_digest(&self, dataset: String, object: String, digest: String) -> Result<()> {
        let d = cos_core::Digest::parse_prefixed(&digest).map_err(core_err)?;
        self.0
            .check_digest(&dataset, &object, &d)
            .map_err(policy_err)
    }
}

/// Verifies a disclosure pack envelope against trusted keys (SPKI PEM).
#[napi]
pub fn verify_disclosure(
    envelope: Bytes,
    trusted_keys: Vec<String>,
    options: Option<ApprovalOptions>,
) -> Result<VerifiedDisclosure> {
    let o = options.unwrap_or_else(no_options);
    let keys = public_keys(&trusted_keys)?;
    let verifiers: Vec<&dyn cos_core::Verifier> =
        keys.iter().map(|k| k as &dyn cos_core::Verifier).collect();
    let now = match &o.now {
        Some(t) => timestamp(t)?,
        None => Timestamp::now(),
    };
    cos_policy::disclosure::verify(bytes(&envelope), &verifiers, now, &approval_policy(&o)?)
        .map(VerifiedDisclosure)
        .map_err(policy_err)
}

/// The residency decision (AC-4): verifies `options.envelope` (if any) at
/// the request's time and asks `entrypoint`.
#[napi(ts_return_type = "ResidencyOutcome")]
pub fn decide_residency<'e>(
    env: &'e Env,
    engine: &Engine,
    entrypoint: String,
    request: Unknown<'_>,
    options: Option<ApprovalOptions>,
) -> Result<Unknown<'e>> {
    let request: ResidencyRequest =
        from_value(json_arg(env, request, "request")?, "residency request")?;
    let o = options.unwrap_or_else(no_options);
    let keys = public_keys(o.trusted_keys.as_deref().unwrap_or_default())?;
    let verifiers: Vec<&dyn cos_core::Verifier> =
        keys.iter().map(|k| k as &dyn cos_core::Verifier).collect();
    let out = cos_policy::disclosure::decide_residency(
        &engine.0,
        &entrypoint,
        &request,
        o.envelope.as_ref().map(bytes),
        &verifiers,
        &approval_policy(&o)?,
    )
    .map_err(policy_err)?;
    json_out(env, &out)
}
