//! Python bindings for cos-core, cos-policy and cos-supplychain (the
//! `companyos` package).
//!
//! Bindings hold no logic: every function here converts arguments, calls
//! the crate, and maps the result or error. Behaviour is tested in the
//! crates; `bindings/python/tests` checks the mapping.
#![allow(
    unsafe_code,
    reason = "pyo3's macros expand to FFI glue, and `with_str` reads a str's cached UTF-8 through one C-API call (two `unsafe` blocks, each with its SAFETY note)"
)]
#![allow(
    missing_docs,
    reason = "the Python API is documented in python/companyos/*.pyi"
)]

mod disclosure;
mod dlp;
mod store;
mod supplychain;

use pyo3::create_exception;
use pyo3::exceptions::{PyException, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyBytes, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};

create_exception!(
    companyos,
    CosError,
    PyException,
    "Base class of every error cos raises; `code` is the stable machine code."
);
create_exception!(
    companyos,
    CoreError,
    CosError,
    "An error from cos-core (digests, canonical JSON, keys, DSSE)."
);
create_exception!(
    companyos,
    VerificationError,
    CoreError,
    "A signature, digest or threshold did not verify: the evidence does not hold."
);
create_exception!(
    companyos,
    PolicyError,
    CosError,
    "An error from cos-policy (packs, compilation, evaluation, signatures)."
);

fn with_code(err: PyErr, py: Python<'_>, code: &str) -> PyErr {
    // Best effort: the message is what matters if the attribute cannot be set.
    let _ = err.value(py).setattr("code", code);
    err
}

fn core_err(e: cos_core::Error) -> PyErr {
    Python::attach(|py| {
        let err = if e.is_verification_failure() {
            VerificationError::new_err(e.to_string())
        } else {
            CoreError::new_err(e.to_string())
        };
        with_code(err, py, e.code())
    })
}

/// The mtime of a built bundle's entries: `SOURCE_DATE_EPOCH` parsed by
/// cos-core (as `cos pack build` does), else 0.
fn bundle_mtime() -> PyResult<u64> {
    match std::env::var_os("SOURCE_DATE_EPOCH") {
        Some(v) => cos_core::time::parse_source_date_epoch(&v.to_string_lossy()).map_err(core_err),
        None => Ok(0),
    }
}

/// Every cos-policy error is a `PolicyError` (also when its cause is a
/// cos-core error, whose code it carries, or a sub-domain error such as
/// `cos_policy::DlpError`, whose code is the same).
fn policy_err(e: impl Into<cos_policy::Error>) -> PyErr {
    let e = e.into();
    Python::attach(|py| with_code(PolicyError::new_err(e.to_string()), py, e.code()))
}

/// `policy_err` for an error the caller keeps (a polling loop's report).
fn policy_err_ref(e: &cos_policy::Error) -> PyErr {
    Python::attach(|py| with_code(PolicyError::new_err(e.to_string()), py, e.code()))
}

// ---------------------------------------------------------------- JSON mapping

/// Deepest Python structure converted (as serde_json's parser limit).
const MAX_DEPTH: usize = 128;

/// Calls `f` with the text of a Python `str`, borrowed where CPython allows.
///
/// Under the 3.9 stable ABI, pyo3 reads a `str` by encoding it into a new
/// `bytes` object. On CPython 3.10 and newer, `PyUnicode_AsUTF8AndSize` is part
/// of the stable ABI and returns the UTF-8 form CPython caches in the string
/// itself (for ASCII text, the string's own buffer): no allocation and no copy.
/// The running interpreter's version decides, so the same abi3 wheel keeps
/// working on 3.9.
fn with_str<R>(s: &Bound<'_, PyString>, f: impl FnOnce(&str) -> R) -> PyResult<R> {
    #[cfg(not(windows))]
    if utf8_in_place(s.py()) {
        let mut len: pyo3::ffi::Py_ssize_t = 0;
        // SAFETY: `s` is a live `str` for the whole call; on success CPython
        // returns a buffer owned by it (valid while `s` is) of `len` bytes.
        let ptr = unsafe { PyUnicode_AsUTF8AndSize(s.as_ptr(), &mut len) };
        if ptr.is_null() {
            return Err(PyErr::fetch(s.py()));
        }
        let len = usize::try_from(len).map_err(|_| PyValueError::new_err("negative str length"))?;
        // SAFETY: as above; `ptr` is non-null and points at `len` bytes.
        let bytes = unsafe { std::slice::from_raw_parts(ptr.cast::<u8>(), len) };
        // CPython encodes strictly (a lone surrogate is an error above), so
        // this check does not fail; it keeps the `&str` contract local.
        let text = std::str::from_utf8(bytes)
            .map_err(|e| PyValueError::new_err(format!("string is not UTF-8: {e}")))?;
        return Ok(f(text));
    }
    let utf8 = s.encode_utf8()?;
    let text = std::str::from_utf8(utf8.as_bytes())
        .map_err(|e| PyValueError::new_err(format!("string is not UTF-8: {e}")))?;
    Ok(f(text))
}

#[cfg(not(windows))]
unsafe extern "C" {
    // In the stable ABI since CPython 3.10 (pyo3 declares it only for
    // abi3-py310 builds); exported with this signature by every CPython 3.x,
    // and only called when the running interpreter is 3.10 or newer.
    fn PyUnicode_AsUTF8AndSize(
        unicode: *mut pyo3::ffi::PyObject,
        size: *mut pyo3::ffi::Py_ssize_t,
    ) -> *const std::os::raw::c_char;
}

/// Whether the running CPython has `PyUnicode_AsUTF8AndSize` in its stable
/// ABI (3.10 and newer).
#[cfg(not(windows))]
fn utf8_in_place(py: Python<'_>) -> bool {
    static IN_PLACE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *IN_PLACE.get_or_init(|| py.version_info() >= (3, 10))
}

/// A Python object as JSON (`serde_json::Value`): `None`, `bool`, `int`,
/// `float` (finite), `str`, `dict` with `str` keys, `list` and `tuple`,
/// nested at most `MAX_DEPTH` deep.
fn to_json(obj: &Bound<'_, PyAny>, depth: usize) -> PyResult<serde_json::Value> {
    walk(obj, depth)
}

/// A Python object as an evaluation input, built directly in the engine's
/// form (`cos_policy::Input`'s constructors, no JSON value in between);
/// what `to_json` accepts, with the same errors.
fn py_input(obj: &Bound<'_, PyAny>) -> PyResult<cos_policy::Input> {
    walk(obj, 0)
}

/// The two forms a Python object is read into (`walk`).
trait FromPython: Sized {
    type Key;
    fn key(s: &str) -> Self::Key;
    fn null() -> Self;
    fn bool(b: bool) -> Self;
    fn int(i: i64) -> Self;
    fn uint(u: u64) -> Self;
    /// `None` for NaN and the infinities.
    fn float(x: f64) -> Option<Self>;
    /// An integer beyond 64 bits, from its decimal text.
    fn big(text: &str) -> PyResult<Self>;
    fn string(s: &str) -> Self;
    fn array(items: Vec<Self>) -> Self;
    fn object(entries: Vec<(Self::Key, Self)>) -> Self;
}

impl FromPython for serde_json::Value {
    type Key = String;
    fn key(s: &str) -> String {
        s.to_owned()
    }
    fn null() -> Self {
        serde_json::Value::Null
    }
    fn bool(b: bool) -> Self {
        serde_json::Value::Bool(b)
    }
    fn int(i: i64) -> Self {
        serde_json::Value::from(i)
    }
    fn uint(u: u64) -> Self {
        serde_json::Value::from(u)
    }
    fn float(x: f64) -> Option<Self> {
        serde_json::Number::from_f64(x).map(serde_json::Value::Number)
    }
    fn big(text: &str) -> PyResult<Self> {
        // A JSON value holds it only as the nearest float: refused, not
        // rounded (an evaluation input holds it exactly).
        Err(PyValueError::new_err(format!(
            "integer {text} is beyond 64 bits, which cos holds exactly only in an evaluation input: send it as a string"
        )))
    }
    fn string(s: &str) -> Self {
        serde_json::Value::String(s.to_owned())
    }
    fn array(items: Vec<Self>) -> Self {
        serde_json::Value::Array(items)
    }
    fn object(entries: Vec<(String, Self)>) -> Self {
        serde_json::Value::Object(entries.into_iter().collect())
    }
}

impl FromPython for cos_policy::Input {
    type Key = cos_policy::Input;
    fn key(s: &str) -> Self {
        cos_policy::Input::string(s)
    }
    fn null() -> Self {
        cos_policy::Input::null()
    }
    fn bool(b: bool) -> Self {
        cos_policy::Input::bool(b)
    }
    fn int(i: i64) -> Self {
        cos_policy::Input::int(i)
    }
    fn uint(u: u64) -> Self {
        cos_policy::Input::uint(u)
    }
    fn float(x: f64) -> Option<Self> {
        cos_policy::Input::float(x)
    }
    fn big(text: &str) -> PyResult<Self> {
        // Exact, as OPA holds it.
        cos_policy::Input::integer_text(text)
            .ok_or_else(|| PyValueError::new_err(format!("integer {text}: not decimal digits")))
    }
    fn string(s: &str) -> Self {
        cos_policy::Input::string(s)
    }
    fn array(items: Vec<Self>) -> Self {
        cos_policy::Input::array(items)
    }
    fn object(entries: Vec<(Self, Self)>) -> Self {
        cos_policy::Input::object(entries)
    }
}

/// Reads a Python object into `T`. Containers are copied (as references)
/// before they are walked: reading an `int` subclass runs its `__str__`,
/// which may change the dict or list being walked, and must neither break
/// the iteration nor panic.
fn walk<T: FromPython>(obj: &Bound<'_, PyAny>, depth: usize) -> PyResult<T> {
    if depth > MAX_DEPTH {
        return Err(PyValueError::new_err(format!(
            "input nested more than {MAX_DEPTH} deep"
        )));
    }
    // Most common first: under the stable ABI each type check is a call.
    if let Ok(s) = obj.cast::<PyString>() {
        return with_str(s, T::string);
    }
    let depth = depth + 1;
    if let Ok(d) = obj.cast::<PyDict>() {
        // Collecting runs no Python code, so the dict cannot change under it.
        let items: Vec<_> = d.iter().collect();
        let mut entries = Vec::with_capacity(items.len());
        for (k, v) in &items {
            let key = k
                .cast::<PyString>()
                .map_err(|_| PyTypeError::new_err("JSON object keys must be str"))
                .and_then(|k| with_str(k, T::key))?;
            entries.push((key, walk(v, depth)?));
        }
        return Ok(T::object(entries));
    }
    if let Ok(l) = obj.cast::<PyList>() {
        let items: Vec<_> = l.iter().collect();
        return items
            .iter()
            .map(|x| walk(x, depth))
            .collect::<PyResult<_>>()
            .map(T::array);
    }
    if obj.is_none() {
        return Ok(T::null());
    }
    // `bool` before `int`: it is a subclass of `int`.
    if let Ok(b) = obj.cast::<PyBool>() {
        return Ok(T::bool(b.is_true()));
    }
    if obj.is_instance_of::<PyInt>() {
        if let Ok(i) = obj.extract::<i64>() {
            return Ok(T::int(i));
        }
        if let Ok(u) = obj.extract::<u64>() {
            return Ok(T::uint(u));
        }
        // Beyond 64 bits: through its decimal text (exact in an input,
        // refused where a JSON value would round it).
        let text: String = obj.str()?.extract()?;
        return T::big(&text);
    }
    if let Ok(f) = obj.cast::<PyFloat>() {
        return T::float(f.value())
            .ok_or_else(|| PyValueError::new_err("NaN and infinities are not JSON"));
    }
    if let Ok(t) = obj.cast::<PyTuple>() {
        return t
            .iter()
            .map(|x| walk(&x, depth))
            .collect::<PyResult<_>>()
            .map(T::array);
    }
    Err(PyTypeError::new_err(format!(
        "cannot convert {} to JSON",
        obj.get_type().name()?
    )))
}

fn from_json<'py>(py: Python<'py>, v: &serde_json::Value) -> PyResult<Bound<'py, PyAny>> {
    use serde_json::Value;
    Ok(match v {
        Value::Null => py.None().into_bound(py),
        Value::Bool(b) => PyBool::new(py, *b).to_owned().into_any(),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                i.into_pyobject(py)?.into_any()
            } else if let Some(u) = n.as_u64() {
                u.into_pyobject(py)?.into_any()
            } else {
                n.as_f64().unwrap_or(f64::NAN).into_pyobject(py)?.into_any()
            }
        }
        Value::String(s) => PyString::new(py, s).into_any(),
        Value::Array(a) => {
            let items = a
                .iter()
                .map(|x| from_json(py, x))
                .collect::<PyResult<Vec<_>>>()?;
            PyList::new(py, items)?.into_any()
        }
        Value::Object(o) => {
            let d = PyDict::new(py);
            for (k, x) in o {
                d.set_item(k, from_json(py, x)?)?;
            }
            d.into_any()
        }
    })
}

// ---------------------------------------------------------------- cos-core

/// `sha256:<hex>` (or `sha512:<hex>`) of `data`.
#[pyfunction]
#[pyo3(signature = (data, algorithm = "sha256"))]
fn digest(data: &[u8], algorithm: &str) -> PyResult<String> {
    let alg = match algorithm {
        "sha256" => cos_core::DigestAlgorithm::Sha256,
        "sha512" => cos_core::DigestAlgorithm::Sha512,
        other => {
            return Err(PyValueError::new_err(format!(
                "unknown digest algorithm {other:?} (sha256, sha512)"
            )));
        }
    };
    Ok(cos_core::Digest::of_bytes(alg, data).to_string())
}

/// RFC 8785 canonical form of a JSON text.
#[pyfunction]
fn canonicalize<'py>(py: Python<'py>, json: &[u8]) -> PyResult<Bound<'py, PyBytes>> {
    let out = cos_core::canonical::canonicalize(json).map_err(core_err)?;
    Ok(PyBytes::new(py, &out))
}

/// RFC 8785 canonical JSON of a Python value (dict, list, str, numbers…).
#[pyfunction]
fn canonical_json<'py>(
    py: Python<'py>,
    value: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyBytes>> {
    let v = to_json(value, 0)?;
    let out = cos_core::canonical::to_canonical_vec(&v).map_err(core_err)?;
    Ok(PyBytes::new(py, &out))
}

/// A private signing key (Ed25519 or ECDSA P-256).
#[pyclass(frozen, module = "companyos._native")]
struct SigningKey(cos_core::PrivateKey);

#[pymethods]
impl SigningKey {
    /// A new random key: `algorithm` is `"ed25519"` or `"ecdsa-p256"`.
    #[staticmethod]
    #[pyo3(signature = (algorithm = "ed25519"))]
    fn generate(algorithm: &str) -> PyResult<Self> {
        let alg: cos_core::KeyAlgorithm = algorithm.parse().map_err(core_err)?;
        Ok(SigningKey(
            cos_core::PrivateKey::generate(alg).map_err(core_err)?,
        ))
    }

    /// A key from its PKCS#8 PEM text.
    #[staticmethod]
    fn from_pem(pem: &str) -> PyResult<Self> {
        Ok(SigningKey(
            cos_core::PrivateKey::from_pem(pem).map_err(core_err)?,
        ))
    }

    /// The PKCS#8 PEM text (secret: handle with care).
    fn to_pem(&self) -> PyResult<String> {
        Ok(self.0.to_pem().map_err(core_err)?.to_string())
    }

    /// The public key's SPKI PEM text.
    fn public_pem(&self) -> String {
        self.0.public_key().to_pem()
    }

    /// `sha256` of the public key's SPKI DER, hex.
    #[getter]
    fn key_id(&self) -> String {
        self.0.public_key().key_id().to_owned()
    }

    /// `"ed25519"` or `"ecdsa-p256"`.
    #[getter]
    fn algorithm(&self) -> &'static str {
        self.0.public_key().algorithm().as_str()
    }

    fn __repr__(&self) -> String {
        format!(
            "SigningKey(algorithm={:?}, key_id={:?})",
            self.algorithm(),
            self.key_id()
        )
    }
}

/// Signs `payload` as a DSSE envelope (JSON bytes) with every key given.
#[pyfunction]
fn dsse_sign<'py>(
    py: Python<'py>,
    payload: &[u8],
    payload_type: &str,
    keys: Vec<Bound<'py, SigningKey>>,
) -> PyResult<Bound<'py, PyBytes>> {
    let signers: Vec<&dyn cos_core::Signer> = keys
        .iter()
        .map(|k| &k.get().0 as &dyn cos_core::Signer)
        .collect();
    let env = cos_core::dsse::Envelope::sign(payload_type, payload, &signers).map_err(core_err)?;
    Ok(PyBytes::new(py, &env.to_json()))
}

/// Verifies a DSSE envelope against public keys (SPKI PEM texts): at least
/// `threshold` distinct keys must have signed, and the payload type must be
/// `payload_type` when given. Returns `(payload, payload_type, key_ids)`.
#[pyfunction]
#[pyo3(signature = (envelope, public_keys, threshold = 1, payload_type = None))]
fn dsse_verify<'py>(
    py: Python<'py>,
    envelope: &[u8],
    public_keys: Vec<String>,
    threshold: usize,
    payload_type: Option<&str>,
) -> PyResult<(Bound<'py, PyBytes>, String, Vec<String>)> {
    let keys = public_keys
        .iter()
        .map(|p| cos_core::PublicKey::from_pem(p))
        .collect::<Result<Vec<_>, _>>()
        .map_err(core_err)?;
    let verifiers: Vec<&dyn cos_core::Verifier> =
        keys.iter().map(|k| k as &dyn cos_core::Verifier).collect();
    let env = cos_core::dsse::Envelope::from_json(envelope).map_err(core_err)?;
    let verified = env
        .verify(&verifiers, threshold, payload_type)
        .map_err(core_err)?;
    Ok((
        PyBytes::new(py, &env.payload),
        verified.payload_type,
        verified.key_ids,
    ))
}

/// Signs `artifact` with `key` and returns a Sigstore bundle (v0.3 JSON
/// bytes, public-key hint, no transparency-log entry).
#[pyfunction]
fn sigstore_sign_blob<'py>(
    py: Python<'py>,
    artifact: &[u8],
    key: &SigningKey,
) -> PyResult<Bound<'py, PyBytes>> {
    let bundle = cos_core::sigstore::sign_blob(artifact, &key.0).map_err(core_err)?;
    Ok(PyBytes::new(py, &bundle))
}

/// Verifies `artifact` against a Sigstore bundle (or cosign's older blob
/// bundle) with a public key (SPKI PEM), offline. Returns a dict: `key_id`,
/// `artifact_digest`, `payload_type`, `unchecked_tlog_entries`,
/// `unchecked_timestamps`.
#[pyfunction]
fn sigstore_verify_blob<'py>(
    py: Python<'py>,
    artifact: &[u8],
    bundle: &[u8],
    public_key: &str,
) -> PyResult<Bound<'py, PyAny>> {
    let key = cos_core::PublicKey::from_pem(public_key).map_err(core_err)?;
    let v = cos_core::sigstore::Bundle::from_json(bundle)
        .and_then(|b| b.verify_blob(artifact, &key))
        .map_err(core_err)?;
    to_py(py, &v)
}

fn supplychain_err(e: cos_supplychain::Error) -> PyErr {
    match e {
        cos_supplychain::Error::Core(e) => core_err(e),
        other => {
            Python::attach(|py| with_code(CoreError::new_err(other.to_string()), py, other.code()))
        }
    }
}

/// The verifier of the Sigstore trust keyword options name, if any.
fn trust_verifier(
    trust: Option<cos_core::shape::SigstoreTrust<'_>>,
) -> PyResult<Option<Box<dyn cos_core::sigstore::BlobVerifier>>> {
    trust
        .map(cos_supplychain::sigstore::verifier)
        .transpose()
        .map_err(supplychain_err)
}

fn blob_verifier(
    public_key: Option<&str>,
    trusted_root: Option<&[u8]>,
    identity: Option<&str>,
    issuer: Option<&str>,
) -> PyResult<Box<dyn cos_core::sigstore::BlobVerifier>> {
    cos_supplychain::sigstore::blob_verifier(public_key, trusted_root, identity, issuer)
        .map_err(supplychain_err)
}

/// Verifies `artifact` against a keyless Sigstore bundle, offline, with a
/// trusted root (`trusted_root.json` bytes) for the expected certificate
/// `identity` (exact SAN) and OIDC `issuer`. Returns a dict like
/// `sigstore_verify_blob`'s, with `identity` and `issuer`.
#[pyfunction]
fn sigstore_verify_blob_keyless<'py>(
    py: Python<'py>,
    artifact: &[u8],
    bundle: &[u8],
    trusted_root: &[u8],
    identity: &str,
    issuer: &str,
) -> PyResult<Bound<'py, PyAny>> {
    let verifier = blob_verifier(None, Some(trusted_root), Some(identity), Some(issuer))?;
    let v = py
        .detach(|| verifier.verify_blob(artifact, bundle))
        .map_err(core_err)?;
    to_py(py, &v)
}

/// The TypeScript `fetchAndVerify` in-process: verifies the pack at `url` (an
/// `http(s):` URL, a path or a `file:` URL) against its Sigstore bundle (`bundle`, else
/// `<file>.sigstore.json` / `<file>.bundle`) with `public_key` (SPKI PEM; with
/// `trusted_root` too, its Rekor entry is checked against the root's logs), or
/// keyless with `trusted_root` + `identity` + `issuer`, and the `digest`
/// header value when given, then unpacks it; returns the directory.
#[pyfunction]
#[pyo3(signature = (url, public_key = None, bundle = None, digest = None, dest = None, *, trusted_root = None, identity = None, issuer = None))]
#[allow(
    clippy::too_many_arguments,
    reason = "mirrors the keyword options of the TypeScript fetcher"
)]
fn fetch_and_verify(
    py: Python<'_>,
    url: &str,
    public_key: Option<&str>,
    bundle: Option<Vec<u8>>,
    digest: Option<String>,
    dest: Option<std::path::PathBuf>,
    trusted_root: Option<Vec<u8>>,
    identity: Option<&str>,
    issuer: Option<&str>,
) -> PyResult<String> {
    let verifier = blob_verifier(public_key, trusted_root.as_deref(), identity, issuer)?;
    let dir = py
        .detach(|| {
            cos_policy::distribution::fetch_and_verify(
                url,
                digest.as_deref(),
                bundle.as_deref(),
                verifier.as_ref(),
                dest.as_deref(),
                &cos_policy::Limits::default(),
            )
        })
        .map_err(policy_err)?;
    Ok(dir.to_string_lossy().into_owned())
}

/// The TypeScript `fetchAttestation`: the Sigstore bundle at `url` (a path
/// or `file:` URL) as text.
#[pyfunction]
fn fetch_attestation(py: Python<'_>, url: &str) -> PyResult<String> {
    py.detach(|| cos_policy::distribution::fetch_attestation(url))
        .map_err(policy_err)
}

/// A validated in-toto Statement v1 (as a dict): `subjects` are
/// `(name, "sha256:<hex>")` pairs.
#[pyfunction]
fn statement<'py>(
    py: Python<'py>,
    predicate_type: &str,
    predicate: &Bound<'py, PyAny>,
    subjects: Vec<(String, String)>,
) -> PyResult<Bound<'py, PyAny>> {
    let mut st = cos_core::statement::Statement::new(predicate_type, to_json(predicate, 0)?);
    for (name, digest) in &subjects {
        let d = cos_core::Digest::parse_prefixed(digest).map_err(core_err)?;
        st = st.with_subject(cos_core::statement::Subject::new(name.as_str(), &d));
    }
    st.validate().map_err(core_err)?;
    to_py(py, &st)
}

fn statement_from_py(obj: &Bound<'_, PyAny>) -> PyResult<cos_core::statement::Statement> {
    let json =
        serde_json::to_vec(&to_json(obj, 0)?).map_err(|e| PyValueError::new_err(e.to_string()))?;
    cos_core::statement::Statement::from_json(&json).map_err(core_err)
}

/// Signs a statement (dict) into a DSSE envelope (JSON bytes) of type
/// `application/vnd.in-toto+json`.
#[pyfunction]
fn statement_sign<'py>(
    py: Python<'py>,
    statement: &Bound<'py, PyAny>,
    keys: Vec<Bound<'py, SigningKey>>,
) -> PyResult<Bound<'py, PyBytes>> {
    let st = statement_from_py(statement)?;
    let signers: Vec<&dyn cos_core::Signer> = keys
        .iter()
        .map(|k| &k.get().0 as &dyn cos_core::Signer)
        .collect();
    let env = st.sign(&signers).map_err(core_err)?;
    Ok(PyBytes::new(py, &env.to_json()))
}

/// Verifies an in-toto DSSE envelope and returns the statement (dict).
#[pyfunction]
#[pyo3(signature = (envelope, public_keys, threshold = 1))]
fn statement_verify<'py>(
    py: Python<'py>,
    envelope: &[u8],
    public_keys: Vec<String>,
    threshold: usize,
) -> PyResult<Bound<'py, PyAny>> {
    let keys = public_keys
        .iter()
        .map(|p| cos_core::PublicKey::from_pem(p))
        .collect::<Result<Vec<_>, _>>()
        .map_err(core_err)?;
    let verifiers: Vec<&dyn cos_core::Verifier> =
        keys.iter().map(|k| k as &dyn cos_core::Verifier).collect();
    let env = cos_core::dsse::Envelope::from_json(envelope).map_err(core_err)?;
    let st = cos_core::statement::Statement::verify_envelope(&env, &verifiers, threshold)
        .map_err(core_err)?;
    to_py(py, &st)
}

// ---------------------------------------------------------------- cos-policy

/// A policy pack (or OPA bundle), checked and loaded with size limits.
#[pyclass(frozen, module = "companyos._native")]
struct Pack(cos_policy::Pack);

#[pymethods]
impl Pack {
    /// Loads a pack directory, a pack or bundle `.tar.gz`.
    #[staticmethod]
    fn load(py: Python<'_>, path: std::path::PathBuf) -> PyResult<Self> {
        py.detach(|| cos_policy::Pack::load(&path, &cos_policy::Limits::default()))
            .map(Pack)
            .map_err(policy_err)
    }

    /// Loads a pack or bundle from `.tar.gz` bytes.
    #[staticmethod]
    fn from_bytes(py: Python<'_>, data: &[u8]) -> PyResult<Self> {
        py.detach(|| cos_policy::Pack::from_bytes(data, &cos_policy::Limits::default()))
            .map(Pack)
            .map_err(policy_err)
    }

    /// `name`, `version`, `revision` and `digest` of the pack.
    #[getter]
    fn name(&self) -> String {
        self.0.manifest().name.clone()
    }

    #[getter]
    fn version(&self) -> String {
        self.0.manifest().version.to_string()
    }

    #[getter]
    fn revision(&self) -> String {
        self.0.manifest().revision.clone()
    }

    #[getter]
    fn digest(&self) -> String {
        self.0.digest().to_string()
    }

    /// Entrypoint name → document path, from the manifest.
    #[getter]
    fn entrypoints(&self) -> std::collections::BTreeMap<String, String> {
        self.0
            .manifest()
            .entrypoints
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    /// The pack as a deterministic OPA bundle (`.tar.gz` bytes); entries
    /// are dated `SOURCE_DATE_EPOCH` when set (malformed: `CoreError`
    /// `invalid_source_date_epoch`), else 0.
    fn build_bundle<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        let mtime = bundle_mtime()?;
        let out = py
            .detach(|| self.0.build_bundle_at(mtime))
            .map_err(policy_err)?;
        Ok(PyBytes::new(py, &out))
    }

    /// Like `build_bundle`, with the pack's `tests/` kept (`cos pack build
    /// --with-tests`), so that a store runs them before activating it.
    fn build_bundle_with_tests<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        let mtime = bundle_mtime()?;
        let out = py
            .detach(|| self.0.build_bundle_with_tests_at(mtime))
            .map_err(policy_err)?;
        Ok(PyBytes::new(py, &out))
    }

    /// Whether the pack carries an OPA `.signatures.json`.
    #[getter]
    fn is_signed(&self) -> bool {
        self.0.is_signed()
    }

    /// The pack as an OPA bundle signed with an ECDSA P-256 key (ES256 JWS
    /// in `.signatures.json`, verifiable by `opa run --verification-key`).
    #[pyo3(signature = (key, key_id = None, scope = None))]
    fn build_signed_bundle<'py>(
        &self,
        py: Python<'py>,
        key: &SigningKey,
        key_id: Option<String>,
        scope: Option<String>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let opts = cos_policy::SignatureOptions { key_id, scope };
        let mtime = bundle_mtime()?;
        let out = py
            .detach(|| self.0.build_signed_bundle_at(&key.0, &opts, mtime))
            .map_err(policy_err)?;
        Ok(PyBytes::new(py, &out))
    }

    /// Verifies the pack's `.signatures.json` against its files with a
    /// public key (SPKI PEM); returns the signed claims and the `kid`.
    /// Raises `PolicyError` naming the missing, extra or changed file.
    #[pyo3(signature = (public_pem, key_id = None, scope = None))]
    fn verify_signature<'py>(
        &self,
        py: Python<'py>,
        public_pem: &str,
        key_id: Option<String>,
        scope: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let key = cos_core::PublicKey::from_pem(public_pem).map_err(core_err)?;
        let opts = cos_policy::SignatureOptions { key_id, scope };
        let v = py
            .detach(|| self.0.verify_signature(&key, &opts))
            .map_err(policy_err)?;
        to_py(py, &v)
    }

    /// Runs the pack's tests like `opa test`; returns OPA's JSON report
    /// (a list of results) and whether every test passed.
    #[pyo3(signature = (run = None, strict_builtin_errors = false))]
    fn run_tests<'py>(
        &self,
        py: Python<'py>,
        run: Option<String>,
        strict_builtin_errors: bool,
    ) -> PyResult<(Bound<'py, PyAny>, bool)> {
        let options = cos_policy::RunTestsOptions {
            run,
            strict_builtin_errors,
        };
        let report = py
            .detach(|| options.run_tests(&self.0))
            .map_err(policy_err)?;
        Ok((from_json(py, &report.to_json())?, report.success()))
    }

    fn __repr__(&self) -> String {
        format!(
            "Pack(name={:?}, version={:?}, digest={:?})",
            self.name(),
            self.version(),
            self.digest()
        )
    }
}

/// A compiled pack: evaluate many times, from any thread (the GIL is
/// released while evaluating).
#[pyclass(frozen, module = "companyos._native")]
struct Engine(cos_policy::PolicyEngine);

#[pymethods]
impl Engine {
    /// `strict_builtin_errors` and `timeout_ms` are those of
    /// `cos_policy::EngineConfig` (its defaults where not given).
    #[new]
    #[pyo3(signature = (pack, strict_builtin_errors = None, timeout_ms = None))]
    fn new(
        py: Python<'_>,
        pack: &Pack,
        strict_builtin_errors: Option<bool>,
        timeout_ms: Option<u64>,
    ) -> PyResult<Self> {
        let d = cos_policy::EngineConfig::default();
        let options = cos_policy::EngineOptions::from(cos_policy::EngineConfig {
            strict_builtin_errors: strict_builtin_errors.unwrap_or(d.strict_builtin_errors),
            timeout_ms: timeout_ms.unwrap_or(d.timeout_ms),
        });
        py.detach(|| cos_policy::PolicyEngine::new(&pack.0, options))
            .map(Engine)
            .map_err(policy_err)
    }

    /// Evaluates a document (`data.a.b` or `a/b`) with OPA's Data API
    /// semantics: the value, or `None` when it is undefined.
    #[pyo3(signature = (path, input = None))]
    fn evaluate<'py>(
        &self,
        py: Python<'py>,
        path: &Bound<'py, PyString>,
        input: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        // Hot path: Python objects → engine value → Python objects, with no
        // JSON value in between; the path borrowed (`with_str`), not copied.
        let input = input.map(py_input).transpose()?;
        let out = with_str(path, |path| {
            py.detach(|| self.0.evaluate(path, input.as_ref()))
        })?
        .map_err(policy_err)?;
        match out {
            Some(v) => pythonize::pythonize(py, &v)
                .map_err(|e| PyValueError::new_err(format!("result: {e}"))),
            None => Ok(py.None().into_bound(py)),
        }
    }

    /// A typed decision for a manifest entrypoint (or a path), as a dict:
    /// allow, reasons, obligations, pack, decision_id, timestamp, eval_ns.
    fn decide<'py>(
        &self,
        py: Python<'py>,
        entrypoint: &str,
        input: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let input = to_json(input, 0)?;
        let d = py
            .detach(|| self.0.decide(entrypoint, &input))
            .map_err(policy_err)?;
        to_py(py, &d)
    }

    /// `{"allow": bool, "reason": str | None}` from the document at `path`,
    /// reduced as OPA REST clients do (`result.allow is True`, a string
    /// `result.reason`): the in-process replacement for an OPA client call.
    fn allow_reason<'py>(
        &self,
        py: Python<'py>,
        path: &str,
        input: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let input = to_json(input, 0)?;
        let r = py
            .detach(|| self.0.allow_reason(path, &input))
            .map_err(policy_err)?;
        from_json(
            py,
            &serde_json::json!({"allow": r.allow, "reason": r.reason}),
        )
    }

    /// Whether `path` is evaluated on the register VM (see ADR-0005).
    fn runs_on_vm(&self, py: Python<'_>, path: &str) -> bool {
        py.detach(|| self.0.runs_on_vm(path))
    }
}

fn from_py<T: serde::de::DeserializeOwned>(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<T> {
    serde_json::from_value(to_json(obj, 0)?)
        .map_err(|e| PyValueError::new_err(format!("not a {what}: {e}")))
}

/// Keyword options (`**options`) read into the crate's options struct `T`
/// (`#[serde(default, deny_unknown_fields)]`: an unknown keyword is a
/// `ValueError` naming the known ones). Values are read as `from_py` reads
/// them, and, at the top level, `bytes` as a list of byte values (for
/// `cos_core::shape::Blob`) and an `os.PathLike` as its `os.fspath`.
fn options_from_py<T: serde::de::DeserializeOwned>(
    options: Option<&Bound<'_, PyDict>>,
    what: &str,
) -> PyResult<T> {
    let mut object = serde_json::Map::new();
    if let Some(d) = options {
        let items: Vec<_> = d.iter().collect();
        for (k, v) in &items {
            let key: String = k.extract()?;
            let value = if let Ok(b) = v.cast::<PyBytes>() {
                serde_json::Value::from(b.as_bytes().to_vec())
            } else if !v.is_instance_of::<PyString>() && v.hasattr("__fspath__")? {
                to_json(&v.call_method0("__fspath__")?, 1)?
            } else {
                to_json(v, 1)?
            };
            object.insert(key, value);
        }
    }
    serde_json::from_value(serde_json::Value::Object(object))
        .map_err(|e| PyValueError::new_err(format!("{what}: {e}")))
}

fn to_py<'py, T: serde::Serialize>(py: Python<'py>, v: &T) -> PyResult<Bound<'py, PyAny>> {
    let json = serde_json::to_value(v).map_err(|e| PyValueError::new_err(e.to_string()))?;
    from_json(py, &json)
}

fn opt_to_py<'py, T: serde::Serialize>(
    py: Python<'py>,
    v: Option<&T>,
) -> PyResult<Bound<'py, PyAny>> {
    match v {
        Some(v) => to_py(py, v),
        None => Ok(py.None().into_bound(py)),
    }
}

/// Builds OPA decision-log events for an engine, applying the pack's
/// `system.log.mask` and `system.log.drop` rules.
#[pyclass(frozen, module = "companyos._native")]
struct DecisionLogger(cos_policy::DecisionLogger);

#[pymethods]
impl DecisionLogger {
    #[new]
    #[pyo3(signature = (labels = None))]
    fn new(labels: Option<std::collections::BTreeMap<String, String>>) -> Self {
        DecisionLogger(cos_policy::DecisionLogger::new(labels.unwrap_or_default()))
    }

    /// The event for a decision dict from `Engine.decide`, or `None` when
    /// the pack's drop rule drops it.
    #[pyo3(signature = (engine, decision, input = None, requested_by = None))]
    fn event_for_decision<'py>(
        &self,
        py: Python<'py>,
        engine: &Engine,
        decision: &Bound<'py, PyAny>,
        input: Option<&Bound<'py, PyAny>>,
        requested_by: Option<&str>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let decision: cos_policy::Decision = from_py(decision, "decision")?;
        let input = input.map(|i| to_json(i, 0)).transpose()?;
        let ev = py
            .detach(|| {
                self.0
                    .event_for_decision(&engine.0, &decision, input.as_ref(), requested_by)
            })
            .map_err(policy_err)?;
        opt_to_py(py, ev.as_ref())
    }

    /// The event for a plain evaluation (`Engine.evaluate`), or `None` when
    /// dropped.
    #[pyo3(signature = (engine, path, input = None, result = None, eval_ns = 0))]
    fn event_for_result<'py>(
        &self,
        py: Python<'py>,
        engine: &Engine,
        path: &str,
        input: Option<&Bound<'py, PyAny>>,
        result: Option<&Bound<'py, PyAny>>,
        eval_ns: u64,
    ) -> PyResult<Bound<'py, PyAny>> {
        let input = input.map(|i| to_json(i, 0)).transpose()?;
        let result = result.map(|r| to_json(r, 0)).transpose()?;
        let ev = py
            .detach(|| {
                self.0
                    .event_for_result(&engine.0, path, input.as_ref(), result.as_ref(), eval_ns)
            })
            .map_err(policy_err)?;
        opt_to_py(py, ev.as_ref())
    }

    /// The event for an evaluation that failed with `error` (a dict with
    /// `code` and `message`), by `engine` (its drop and mask rules apply) or
    /// by none; `None` when dropped.
    #[pyo3(signature = (path, error, engine = None, input = None, eval_ns = 0))]
    fn event_for_error<'py>(
        &self,
        py: Python<'py>,
        path: &str,
        error: &Bound<'py, PyAny>,
        engine: Option<&Engine>,
        input: Option<&Bound<'py, PyAny>>,
        eval_ns: u64,
    ) -> PyResult<Bound<'py, PyAny>> {
        let error: cos_policy::EventError = from_py(error, "error")?;
        let input = input.map(|i| to_json(i, 0)).transpose()?;
        let ev = py
            .detach(|| {
                self.0
                    .event_for_error(engine.map(|e| &e.0), path, input.as_ref(), &error, eval_ns)
            })
            .map_err(policy_err)?;
        opt_to_py(py, ev.as_ref())
    }
}

/// Appends decision-log events to a file as JSON lines (flushed per event).
#[pyclass(module = "companyos._native")]
struct JsonLinesWriter(Option<cos_policy::JsonLinesWriter<std::fs::File>>);

#[pymethods]
impl JsonLinesWriter {
    #[new]
    fn new(path: std::path::PathBuf) -> PyResult<Self> {
        // Opening the file is an I/O error (CoreError), as before.
        cos_policy::JsonLinesWriter::append(path)
            .map(|w| JsonLinesWriter(Some(w)))
            .map_err(|e| match e {
                cos_policy::Error::Core(e) => core_err(e),
                other => policy_err(other),
            })
    }

    /// Writes one event (a dict from `DecisionLogger`).
    fn write(&mut self, event: &Bound<'_, PyAny>) -> PyResult<()> {
        let event: cos_policy::DecisionEvent = from_py(event, "decision-log event")?;
        let w = self
            .0
            .as_mut()
            .ok_or_else(|| PyValueError::new_err("the writer is closed"))?;
        w.write(&event).map_err(policy_err)
    }

    /// Closes the file; later writes raise `ValueError`.
    fn close(&mut self) {
        self.0 = None;
    }
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("CosError", py.get_type::<CosError>())?;
    m.add("CoreError", py.get_type::<CoreError>())?;
    m.add("VerificationError", py.get_type::<VerificationError>())?;
    m.add("PolicyError", py.get_type::<PolicyError>())?;
    supplychain::register(m)?;
    m.add_function(wrap_pyfunction!(digest, m)?)?;
    m.add_function(wrap_pyfunction!(canonicalize, m)?)?;
    m.add_function(wrap_pyfunction!(canonical_json, m)?)?;
    m.add_function(wrap_pyfunction!(dsse_sign, m)?)?;
    m.add_function(wrap_pyfunction!(dsse_verify, m)?)?;
    m.add_function(wrap_pyfunction!(statement, m)?)?;
    m.add_function(wrap_pyfunction!(statement_sign, m)?)?;
    m.add_function(wrap_pyfunction!(statement_verify, m)?)?;
    m.add_function(wrap_pyfunction!(sigstore_sign_blob, m)?)?;
    m.add_function(wrap_pyfunction!(sigstore_verify_blob, m)?)?;
    m.add_function(wrap_pyfunction!(sigstore_verify_blob_keyless, m)?)?;
    m.add_function(wrap_pyfunction!(fetch_and_verify, m)?)?;
    m.add_function(wrap_pyfunction!(fetch_attestation, m)?)?;
    m.add_class::<SigningKey>()?;
    m.add_class::<Pack>()?;
    m.add_class::<Engine>()?;
    m.add_class::<DecisionLogger>()?;
    m.add_class::<JsonLinesWriter>()?;
    m.add_class::<store::PolicyStore>()?;
    m.add_class::<store::PackClient>()?;
    m.add_class::<store::FetchedPack>()?;
    m.add_function(wrap_pyfunction!(store::tenant_bucket, m)?)?;
    m.add_function(wrap_pyfunction!(store::in_cohort, m)?)?;
    m.add_class::<dlp::Dlp>()?;
    m.add_class::<disclosure::DisclosurePack>()?;
    m.add_class::<disclosure::VerifiedDisclosure>()?;
    m.add_function(wrap_pyfunction!(disclosure::verify_disclosure, m)?)?;
    m.add_function(wrap_pyfunction!(disclosure::decide_residency, m)?)?;
    Ok(())
}
