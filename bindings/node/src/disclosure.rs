//! `DisclosurePack`, `VerifiedDisclosure`, `verifyDisclosure`,
//! `decideResidency`: cos_policy::disclosure, mapped.

use cos_policy::disclosure::{ApprovalConfig, DisclosurePackSpec, ResidencyRequest, Timestamp};
use napi::bindgen_prelude::{Buffer, ClassInstance};
use napi::{Env, Unknown};
use napi_derive::napi;
use serde_json::Value;

use crate::{
    Bytes, Engine, Result, SigningKey, bytes, core_err, from_value, invalid_arg, json_arg,
    json_opt, json_out, policy_err, public_keys, shape, signers,
};

fn timestamp(s: &str) -> Result<Timestamp> {
    s.parse().map_err(policy_err)
}

/// Options of `verifyDisclosure` and `decideResidency`:
/// `cos_policy::disclosure::ApprovalConfig` in camelCase.
fn approval_options(env: &Env, o: Option<Unknown<'_>>) -> Result<ApprovalConfig> {
    shape::options(json_opt(env, o)?, "approval options")
}

/// A validated disclosure pack.
#[napi]
pub struct DisclosurePack(cos_policy::disclosure::DisclosurePack);

#[napi]
impl DisclosurePack {
    /// Builds and validates a pack (throws `disclosure_invalid`).
    #[napi(constructor)]
    pub fn new(
        env: &Env,
        #[napi(ts_arg_type = "DisclosurePackSpec")] spec: Unknown<'_>,
    ) -> Result<Self> {
        let spec: DisclosurePackSpec = shape::options(
            Some(json_arg(env, spec, "disclosure pack spec")?),
            "disclosure pack spec",
        )?;
        spec.build().map(DisclosurePack).map_err(policy_err)
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
    env: &Env,
    envelope: Bytes,
    trusted_keys: Vec<String>,
    #[napi(ts_arg_type = "ApprovalOptions")] options: Option<Unknown<'_>>,
) -> Result<VerifiedDisclosure> {
    let o = approval_options(env, options)?;
    let keys = public_keys(&trusted_keys)?;
    let verifiers: Vec<&dyn cos_core::Verifier> =
        keys.iter().map(|k| k as &dyn cos_core::Verifier).collect();
    let now = match &o.now {
        Some(t) => timestamp(t)?,
        None => Timestamp::now(),
    };
    cos_policy::disclosure::verify(bytes(&envelope), &verifiers, now, &o.policy())
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
    #[napi(ts_arg_type = "ApprovalOptions")] options: Option<Unknown<'_>>,
) -> Result<Unknown<'e>> {
    let request: ResidencyRequest =
        from_value(json_arg(env, request, "request")?, "residency request")?;
    let o = approval_options(env, options)?;
    let keys = public_keys(&o.trusted_keys)?;
    let verifiers: Vec<&dyn cos_core::Verifier> =
        keys.iter().map(|k| k as &dyn cos_core::Verifier).collect();
    let out = cos_policy::disclosure::decide_residency(
        &engine.0,
        &entrypoint,
        &request,
        o.envelope.as_ref().map(cos_core::shape::Blob::as_bytes),
        &verifiers,
        &o.policy(),
    )
    .map_err(policy_err)?;
    json_out(env, &out)
}
