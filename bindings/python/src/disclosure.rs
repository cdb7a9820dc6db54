//! `companyos.policy` disclosure packs and the residency decision:
//! cos_policy::disclosure, mapped.

use cos_policy::disclosure::{ApprovalPolicy, DisclosurePackSpec, ResidencyRequest, Timestamp};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};

use crate::{Engine, SigningKey, core_err, from_py, options_from_py, policy_err, to_py};

fn timestamp(s: &str) -> PyResult<Timestamp> {
    s.parse().map_err(policy_err)
}

fn public_keys(pems: &[String]) -> PyResult<Vec<cos_core::PublicKey>> {
    pems.iter()
        .map(|p| cos_core::PublicKey::from_pem(p))
        .collect::<Result<Vec<_>, _>>()
        .map_err(core_err)
}

/// A validated disclosure pack (cos_policy::disclosure::DisclosurePack).
#[pyclass(frozen, module = "companyos._native")]
pub(crate) struct DisclosurePack(cos_policy::disclosure::DisclosurePack);

#[pymethods]
impl DisclosurePack {
    /// Builds and validates a pack. `datasets` are dicts in the pack's JSON
    /// form (`{"id", "classification", "residency": [...], "objects":
    /// [{"name", "digest": "sha256:..."}]}`), `approvals` are
    /// `{"approver", "role", "time"}` dicts; times are RFC 3339 UTC.
    #[new]
    #[pyo3(signature = (id, *, issuer, purpose, datasets, created, expires, destination_region = None, destination_party = None, approvals = None))]
    #[allow(
        clippy::too_many_arguments,
        reason = "the fields of cos_policy::disclosure::DisclosurePackSpec"
    )]
    fn new(
        id: String,
        issuer: String,
        purpose: String,
        datasets: &Bound<'_, PyAny>,
        created: String,
        expires: String,
        destination_region: Option<String>,
        destination_party: Option<String>,
        approvals: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let spec = DisclosurePackSpec {
            id,
            issuer,
            purpose,
            datasets: from_py(datasets, "list of datasets")?,
            created,
            expires,
            destination_region,
            destination_party,
            approvals: approvals
                .map(|a| from_py(a, "list of approvals"))
                .transpose()?
                .unwrap_or_default(),
        };
        spec.build().map(DisclosurePack).map_err(|e| match e {
            cos_policy::Error::Core(e) => core_err(e),
            other => policy_err(other),
        })
    }

    /// Parses and validates the JSON form.
    #[staticmethod]
    fn from_json(data: &[u8]) -> PyResult<Self> {
        cos_policy::disclosure::DisclosurePack::from_json(data)
            .map(DisclosurePack)
            .map_err(policy_err)
    }

    #[getter]
    fn id(&self) -> &str {
        &self.0.id
    }

    /// The pack as a dict (its JSON form).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.0)
    }

    /// The RFC 8785 canonical JSON (the signed bytes).
    fn to_json<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        let b = self.0.to_canonical_json().map_err(policy_err)?;
        Ok(PyBytes::new(py, &b))
    }

    /// A DSSE envelope (JSON bytes) signed by every key.
    fn sign<'py>(
        &self,
        py: Python<'py>,
        keys: Vec<Bound<'py, SigningKey>>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let signers: Vec<&dyn cos_core::Signer> = keys
            .iter()
            .map(|k| &k.get().0 as &dyn cos_core::Signer)
            .collect();
        let env = self.0.sign(&signers).map_err(policy_err)?;
        Ok(PyBytes::new(py, &env.to_json()))
    }

    fn __repr__(&self) -> String {
        format!("DisclosurePack(id={:?})", self.0.id)
    }
}

/// A disclosure pack whose signature, validity and approvals verified.
#[pyclass(frozen, module = "companyos._native")]
pub(crate) struct VerifiedDisclosure(cos_policy::disclosure::VerifiedDisclosure);

#[pymethods]
impl VerifiedDisclosure {
    /// The pack (a dict).
    #[getter]
    fn pack<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, self.0.pack())
    }

    #[getter]
    fn key_ids(&self) -> Vec<String> {
        self.0.key_ids().to_vec()
    }

    #[getter]
    fn verified_at(&self) -> String {
        self.0.verified_at().to_string()
    }

    #[getter]
    fn approvals<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.0.approvals())
    }

    /// `{"pack", "key_ids", "approvals", "verified_at"}`.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.0)
    }

    /// The `disclosure_pack` object of a policy input (`approved: True`).
    fn to_policy_input<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.0.to_policy_input())
    }

    /// Whether the pack lists this dataset for this classification and residency.
    fn covers(&self, dataset: &str, classification: &str, residency: &str) -> PyResult<bool> {
        let c: cos_core::Classification = classification.parse().map_err(core_err)?;
        let r: cos_core::Residency = residency.parse().map_err(core_err)?;
        Ok(self.0.covers(dataset, c, r))
    }

    /// Raises `PolicyError` (`disclosure_digest_mismatch`) unless `data` is
    /// the object the pack lists.
    fn check_data(&self, py: Python<'_>, dataset: &str, object: &str, data: &[u8]) -> PyResult<()> {
        py.detach(|| self.0.check_data(dataset, object, data))
            .map_err(policy_err)
    }

    /// `check_data` for a digest (`sha256:<hex>`) computed by the caller.
    fn check_digest(&self, dataset: &str, object: &str, digest: &str) -> PyResult<()> {
        let d = cos_core::Digest::parse_prefixed(digest).map_err(core_err)?;
        self.0.check_digest(dataset, object, &d).map_err(policy_err)
    }

    fn __repr__(&self) -> String {
        format!("VerifiedDisclosure(id={:?})", self.0.pack().id)
    }
}

/// Verifies a disclosure pack envelope against trusted keys (SPKI PEM) at
/// `now` (RFC 3339, default the current time) with an approval policy.
#[pyfunction]
#[pyo3(signature = (envelope, trusted_keys, now = None, **options))]
pub(crate) fn verify_disclosure(
    py: Python<'_>,
    envelope: &[u8],
    trusted_keys: Vec<String>,
    now: Option<&str>,
    options: Option<&Bound<'_, PyDict>>,
) -> PyResult<VerifiedDisclosure> {
    let policy: ApprovalPolicy = options_from_py(options, "approval policy")?;
    let keys = public_keys(&trusted_keys)?;
    let verifiers: Vec<&dyn cos_core::Verifier> =
        keys.iter().map(|k| k as &dyn cos_core::Verifier).collect();
    let now = match now {
        Some(t) => timestamp(t)?,
        None => Timestamp::now(),
    };
    py.detach(|| cos_policy::disclosure::verify(envelope, &verifiers, now, &policy))
        .map(VerifiedDisclosure)
        .map_err(policy_err)
}

/// The residency decision (AC-4): verifies `envelope` (if any) at the
/// request's time and asks `entrypoint`. Returns `{"decision", "disclosure":
/// {"status": "absent" | "verified" | "rejected", ...}}`.
#[pyfunction]
#[pyo3(signature = (engine, entrypoint, request, envelope = None, trusted_keys = None, **options))]
pub(crate) fn decide_residency<'py>(
    py: Python<'py>,
    engine: &Engine,
    entrypoint: &str,
    request: &Bound<'py, PyAny>,
    envelope: Option<Vec<u8>>,
    trusted_keys: Option<Vec<String>>,
    options: Option<&Bound<'py, PyDict>>,
) -> PyResult<Bound<'py, PyAny>> {
    let policy: ApprovalPolicy = options_from_py(options, "approval policy")?;
    let request: ResidencyRequest = from_py(request, "residency request")?;
    let keys = public_keys(&trusted_keys.unwrap_or_default())?;
    let verifiers: Vec<&dyn cos_core::Verifier> =
        keys.iter().map(|k| k as &dyn cos_core::Verifier).collect();
    let out = py
        .detach(|| {
            cos_policy::disclosure::decide_residency(
                &engine.0,
                entrypoint,
                &request,
                envelope.as_deref(),
                &verifiers,
                &policy,
            )
        })
        .map_err(policy_err)?;
    to_py(py, &out)
}
