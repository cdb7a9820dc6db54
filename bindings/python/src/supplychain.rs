//! `companyos.supplychain`: cos_supplychain (SBOMs, the licence gate, SLSA
//! provenance, the CVE gate), mapped. Every behaviour is the crate's; the
//! functions here convert arguments and results and map errors.

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBytes, PyDict, PyString, PyTuple, PyType};

use cos_supplychain::sbom::{self, GenerateOptions, LockfileKind};
use cos_supplychain::{license, slsa, vuln};

use crate::{CosError, SigningKey, VerificationError, options_from_py, to_json, to_py, with_code};

pyo3::create_exception!(
    companyos,
    SupplyChainError,
    CosError,
    "An error from cos-supplychain (SBOMs, licence and CVE gates, SLSA provenance)."
);

/// `SupplyChainVerificationError(SupplyChainError, VerificationError)`,
/// made at import (a class with two bases).
static VERIFICATION_ERROR: PyOnceLock<Py<PyType>> = PyOnceLock::new();

/// Adds the exception classes to the module.
pub(crate) fn add_exceptions(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("SupplyChainError", py.get_type::<SupplyChainError>())?;
    let cls = VERIFICATION_ERROR.get_or_try_init(py, || -> PyResult<Py<PyType>> {
        let bases = PyTuple::new(
            py,
            [
                py.get_type::<SupplyChainError>(),
                py.get_type::<VerificationError>(),
            ],
        )?;
        let attrs = PyDict::new(py);
        attrs.set_item("__module__", "companyos")?;
        attrs.set_item(
            "__doc__",
            "Supply-chain evidence did not hold (a provenance signature, subject, builder, source or ref): \
             both a SupplyChainError and a VerificationError.",
        )?;
        let cls = py
            .get_type::<PyType>()
            .call1(("SupplyChainVerificationError", bases, attrs))?
            .cast_into::<PyType>()?;
        Ok(cls.unbind())
    })?;
    m.add("SupplyChainVerificationError", cls.bind(py))?;
    Ok(())
}

/// Every cos-supplychain error is a `SupplyChainError` with the crate's
/// code (also when its cause is a cos-core error); verification failures
/// are `SupplyChainVerificationError`, also a `VerificationError`.
pub(crate) fn sc_err(e: cos_supplychain::Error) -> PyErr {
    Python::attach(|py| {
        let message = e.to_string();
        let err = match VERIFICATION_ERROR.get(py) {
            Some(cls) if e.is_verification_failure() => {
                PyErr::from_type(cls.bind(py).clone(), message)
            }
            _ => SupplyChainError::new_err(message),
        };
        with_code(err, py, e.code())
    })
}

fn core(e: cos_core::Error) -> PyErr {
    sc_err(cos_supplychain::Error::Core(e))
}

/// JSON input as bytes: `bytes`, `str` (its UTF-8), or a dict / list
/// (serialised), so the crate's parser and its size limit see it.
fn json_bytes(obj: &Bound<'_, PyAny>) -> PyResult<Vec<u8>> {
    if let Ok(b) = obj.cast::<PyBytes>() {
        return Ok(b.as_bytes().to_vec());
    }
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(s.to_cow()?.as_bytes().to_vec());
    }
    serde_json::to_vec(&to_json(obj, 0)?)
        .map_err(|e| pyo3::exceptions::PyValueError::new_err(e.to_string()))
}

// ---------------------------------------------------------------- SBOMs

/// A software bill of materials (cos_supplychain::sbom::Sbom).
#[pyclass(frozen, module = "companyos._native")]
pub(crate) struct Sbom(sbom::Sbom);

#[pymethods]
impl Sbom {
    /// Reads a CycloneDX (1.2–1.6) or SPDX (2.2, 2.3) JSON document.
    #[staticmethod]
    fn from_json(py: Python<'_>, data: &[u8]) -> PyResult<Self> {
        py.detach(|| sbom::Sbom::from_json(data))
            .map(Sbom)
            .map_err(sc_err)
    }

    /// The SBOM of a lockfile whose kind is told by `file_name`
    /// (`package-lock.json`, `requirements*.txt`, `poetry.lock`, `uv.lock`).
    #[staticmethod]
    #[pyo3(signature = (data, file_name, *, include_dev = false, root_name = None, root_version = None))]
    fn from_lockfile(
        py: Python<'_>,
        data: &[u8],
        file_name: &str,
        include_dev: bool,
        root_name: Option<String>,
        root_version: Option<String>,
    ) -> PyResult<Self> {
        let kind = LockfileKind::from_file_name(file_name).map_err(sc_err)?;
        let mut options = GenerateOptions::default();
        options.include_dev = include_dev;
        options.root_name = root_name;
        options.root_version = root_version;
        py.detach(|| sbom::Sbom::from_lockfile(kind, data, &options))
            .map(Sbom)
            .map_err(sc_err)
    }

    /// The SBOM of a Rust workspace from `cargo metadata --format-version 1`
    /// output and its `Cargo.lock` (for checksums).
    #[staticmethod]
    #[pyo3(signature = (metadata, cargo_lock = None, *, packages = None))]
    fn from_cargo_metadata(
        py: Python<'_>,
        metadata: &[u8],
        cargo_lock: Option<&[u8]>,
        packages: Option<Vec<String>>,
    ) -> PyResult<Self> {
        let mut options = GenerateOptions::default();
        options.packages = packages.unwrap_or_default();
        py.detach(|| sbom::Sbom::from_cargo_metadata(metadata, cargo_lock, &options.cargo()))
            .map(Sbom)
            .map_err(sc_err)
    }

    /// The document in `format` (`cyclonedx-1.6`, `cyclonedx-1.5`,
    /// `spdx-2.3`) created at `created` (seconds since 1970, e.g.
    /// `source_date_epoch(os.environ["SOURCE_DATE_EPOCH"])`).
    #[pyo3(signature = (format = "cyclonedx-1.6", *, created, tool_name = None, tool_version = None))]
    fn write<'py>(
        &self,
        py: Python<'py>,
        format: &str,
        created: u64,
        tool_name: Option<String>,
        tool_version: Option<String>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let options = sbom::WriteConfig {
            format: format.to_owned(),
            created,
            tool_name,
            tool_version,
        };
        let out = py.detach(|| options.write(&self.0)).map_err(sc_err)?;
        Ok(PyBytes::new(py, &out))
    }

    /// This SBOM merged with `other` (this one's root stays the root).
    fn merge(&self, py: Python<'_>, other: &Sbom) -> Sbom {
        Sbom(py.detach(|| self.0.merge(&other.0)))
    }

    /// What changed from this SBOM (before) to `after`.
    fn diff(&self, py: Python<'_>, after: &Sbom) -> SbomDiff {
        SbomDiff(py.detach(|| self.0.diff(&after.0)))
    }

    /// The root component (dict), if any.
    #[getter]
    fn root<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        crate::opt_to_py(py, self.0.root.as_ref())
    }

    /// The other components (dicts), sorted by `bom_ref`.
    #[getter]
    fn components<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.0.components)
    }

    /// The whole model: `root`, `components`, `dependencies`, `properties`.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.0)
    }

    fn __len__(&self) -> usize {
        self.0.components.len() + usize::from(self.0.root.is_some())
    }

    fn __repr__(&self) -> String {
        format!(
            "Sbom(root={:?}, components={})",
            self.0.root.as_ref().map(|r| r.label()),
            self.0.components.len()
        )
    }
}

/// What changed between two SBOMs.
#[pyclass(frozen, module = "companyos._native")]
pub(crate) struct SbomDiff(sbom::SbomDiff);

#[pymethods]
impl SbomDiff {
    /// No difference at all.
    #[getter]
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `{"added": [...], "removed": [...], "changed": [...]}`.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        crate::from_json(py, &self.0.to_json())
    }

    /// `+ added`, `- removed`, `~ changed` lines and a count.
    fn to_text(&self) -> String {
        self.0.to_text()
    }
}

/// Seconds since 1970 from a `SOURCE_DATE_EPOCH` value (strict).
#[pyfunction]
pub(crate) fn source_date_epoch(value: &str) -> PyResult<u64> {
    sbom::source_date_epoch(value).map_err(sc_err)
}

// ---------------------------------------------------------------- licences

/// A licence policy: allow / deny lists of SPDX licences.
#[pyclass(frozen, module = "companyos._native")]
pub(crate) struct LicensePolicy(license::Policy);

#[pymethods]
impl LicensePolicy {
    /// From JSON (`{"allow": [...], "deny": [...], "unknown": ..., "ignore": [...]}`).
    #[staticmethod]
    fn from_json(data: &[u8]) -> PyResult<Self> {
        license::Policy::from_json(data)
            .map(LicensePolicy)
            .map_err(sc_err)
    }

    /// From YAML (the same fields).
    #[staticmethod]
    fn from_yaml(data: &[u8]) -> PyResult<Self> {
        license::Policy::from_yaml(data)
            .map(LicensePolicy)
            .map_err(sc_err)
    }

    /// Every component's licence of `sbom` against the policy.
    fn check(&self, py: Python<'_>, sbom: &Sbom) -> LicenseReport {
        LicenseReport(py.detach(|| self.0.check(&sbom.0)))
    }
}

/// The licence gate's report.
#[pyclass(frozen, module = "companyos._native")]
pub(crate) struct LicenseReport(license::Report);

#[pymethods]
impl LicenseReport {
    /// No component is blocked.
    #[getter]
    fn passed(&self) -> bool {
        self.0.passed()
    }

    /// `{"passed", "counts", "components"}`.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        crate::from_json(py, &self.0.to_json())
    }

    /// One line per blocked or warned component and a summary.
    fn to_text(&self) -> String {
        self.0.to_text()
    }
}

// ---------------------------------------------------------------- SLSA

fn subjects(pairs: Vec<(String, String)>) -> PyResult<Vec<cos_core::statement::Subject>> {
    pairs
        .into_iter()
        .map(|(name, digest)| {
            let d = cos_core::Digest::parse_prefixed(&digest).map_err(core)?;
            Ok(cos_core::statement::Subject::new(name, &d))
        })
        .collect()
}

fn build_description(build: &Bound<'_, PyAny>) -> PyResult<slsa::BuildDescription> {
    slsa::BuildDescription::from_json(&json_bytes(build)?).map_err(sc_err)
}

/// The in-toto Statement (dict) with the SLSA v1 predicate of a build
/// description (JSON bytes, str or dict) about `subjects`
/// (`(name, "sha256:<hex>")` pairs).
#[pyfunction]
pub(crate) fn provenance_statement<'py>(
    py: Python<'py>,
    build: &Bound<'py, PyAny>,
    subjects: Vec<(String, String)>,
) -> PyResult<Bound<'py, PyAny>> {
    let build = build_description(build)?;
    let st = slsa::statement(&build, self::subjects(subjects)?).map_err(sc_err)?;
    to_py(py, &st)
}

/// Signed SLSA provenance: a DSSE envelope (`format="dsse"`) or a Sigstore
/// bundle (`format="sigstore-bundle"`), JSON bytes.
#[pyfunction]
#[pyo3(signature = (build, subjects, key, *, format = "dsse"))]
pub(crate) fn attest_provenance<'py>(
    py: Python<'py>,
    build: &Bound<'py, PyAny>,
    subjects: Vec<(String, String)>,
    key: &SigningKey,
    format: &str,
) -> PyResult<Bound<'py, PyBytes>> {
    let format = slsa::AttestConfig {
        format: format.to_owned(),
    }
    .signature_format()
    .map_err(sc_err)?;
    let build = build_description(build)?;
    let subjects = self::subjects(subjects)?;
    let out = py
        .detach(|| slsa::attest(&build, subjects, &key.0, format))
        .map_err(sc_err)?;
    Ok(PyBytes::new(py, &out))
}

/// Verifies SLSA provenance for `artifact` as `cos verify provenance`
/// does; returns what was verified (dict).
#[pyfunction]
#[pyo3(signature = (provenance, artifact, **options))]
pub(crate) fn verify_provenance<'py>(
    py: Python<'py>,
    provenance: &[u8],
    artifact: &[u8],
    options: Option<&Bound<'py, PyDict>>,
) -> PyResult<Bound<'py, PyAny>> {
    let config: slsa::VerifyConfig = options_from_py(options, "verify_provenance options")?;
    let verified = py
        .detach(|| config.verify(provenance, artifact))
        .map_err(sc_err)?;
    to_py(py, &verified)
}

// ---------------------------------------------------------------- CVE gate

/// The CVE gate's verdict.
#[pyclass(frozen, module = "companyos._native")]
pub(crate) struct CveVerdict(vuln::Verdict);

#[pymethods]
impl CveVerdict {
    /// No finding blocks.
    #[getter]
    fn passed(&self) -> bool {
        self.0.passed()
    }

    /// The verdict as RFC 8785 canonical JSON bytes (for the evidence bundle).
    fn to_json<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        let out = self.0.to_json().map_err(sc_err)?;
        Ok(PyBytes::new(py, &out))
    }

    /// The verdict as a dict (the JSON's content).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.0)
    }

    /// The verdict for people.
    fn to_text(&self) -> String {
        self.0.to_text()
    }

    fn __repr__(&self) -> String {
        format!(
            "CveVerdict(result={:?}, findings={}, blocking={})",
            self.0.result, self.0.counts.findings, self.0.counts.blocking
        )
    }
}

/// Judges vulnerability reports (`(name, bytes)` pairs) with VEX documents,
/// waivers and a policy at `now` (RFC 3339) as `cos gate cve` does.
#[pyfunction]
#[pyo3(signature = (reports, *, now, vex = None, waivers = None, policy = None, format = "auto"))]
pub(crate) fn cve_gate(
    py: Python<'_>,
    reports: Vec<(String, Vec<u8>)>,
    now: &str,
    vex: Option<Vec<(String, Vec<u8>)>>,
    waivers: Option<Vec<u8>>,
    policy: Option<Vec<u8>>,
    format: &str,
) -> PyResult<CveVerdict> {
    let named = |docs: Vec<(String, Vec<u8>)>| -> Vec<vuln::NamedDocument> {
        docs.into_iter()
            .map(|(name, data)| vuln::NamedDocument {
                name,
                data: cos_core::shape::Blob(data),
            })
            .collect()
    };
    let config = vuln::GateConfig {
        reports: named(reports),
        now: now.to_owned(),
        vex: named(vex.unwrap_or_default()),
        waivers: waivers.map(cos_core::shape::Blob),
        policy: policy.map(cos_core::shape::Blob),
        format: Some(format.to_owned()),
    };
    py.detach(|| config.evaluate())
        .map(CveVerdict)
        .map_err(sc_err)
}

/// The format of a vulnerability report (`osv`, `grype`, `trivy`,
/// `cyclonedx`) from its content.
#[pyfunction]
pub(crate) fn detect_report_format(data: &[u8]) -> PyResult<&'static str> {
    vuln::detect_format(data)
        .map(vuln::ReportFormat::as_str)
        .map_err(sc_err)
}

/// The CVSS v3.0/v3.1/v4.0 score of a vector: `{"vector", "version",
/// "score", "severity"[, "nomenclature", "ignored_metrics"]}`.
#[pyfunction]
pub(crate) fn cvss_score<'py>(py: Python<'py>, vector: &str) -> PyResult<Bound<'py, PyAny>> {
    let s = vuln::score_vector(vector).map_err(sc_err)?;
    to_py(py, &s)
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    add_exceptions(m)?;
    m.add_class::<Sbom>()?;
    m.add_class::<SbomDiff>()?;
    m.add_class::<LicensePolicy>()?;
    m.add_class::<LicenseReport>()?;
    m.add_class::<CveVerdict>()?;
    m.add_function(wrap_pyfunction!(source_date_epoch, m)?)?;
    m.add_function(wrap_pyfunction!(provenance_statement, m)?)?;
    m.add_function(wrap_pyfunction!(attest_provenance, m)?)?;
    m.add_function(wrap_pyfunction!(verify_provenance, m)?)?;
    m.add_function(wrap_pyfunction!(cve_gate, m)?)?;
    m.add_function(wrap_pyfunction!(detect_report_format, m)?)?;
    m.add_function(wrap_pyfunction!(cvss_score, m)?)?;
    Ok(())
}
