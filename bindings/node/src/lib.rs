//! Node.js bindings (napi-rs) for cos-core, cos-policy and cos-supplychain: the native half
//! of the `@companyos/cos` npm package.
//!
//! Bindings hold no logic: every function here converts arguments, calls
//! the crate, and maps the result or error. Behaviour is tested in the
//! crates; `bindings/node/test` (node:test) checks the mapping.
//!
//! Errors are JavaScript `Error` objects whose `code` is the crate error's
//! stable code (`cos_core::Error::code`, `cos_policy::Error::code`), the
//! codes the Python binding exposes. Arguments that cannot be mapped carry
//! napi-rs's own codes (`InvalidArg`, `StringExpected`, …), and so do the
//! few checks made here (a negative count, a closed writer). Async variants
//! (`loadPackAsync`, `Engine.evaluateAsync`, `Engine.decideAsync`,
//! `PolicyStore.activateAsync` and the other candidate offers,
//! `PolicyStore.openAsync`, `PackClient.fetch`, `Dlp.redactTextAsync`,
//! `Dlp.redactJsonAsync`, `sbomFromLockfileAsync`, `sbomFromJsonAsync`,
//! `sbomFromCargoMetadataAsync`, `verifyProvenanceAsync`, `cveGateAsync`) run on the libuv thread pool and reject with the
//! same errors. JSON values cross
//! as text through V8's `JSON.stringify`/`JSON.parse` (see `json_in`).
//! The JavaScript API is declared, with its documentation, in `index.d.ts`.
#![allow(
    unsafe_code,
    reason = "napi-rs's macros expand to FFI glue; no unsafe code is written here"
)]

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use napi::bindgen_prelude::{
    AsyncTask, Buffer, ClassInstance, Either, Function, JsObjectValue, Object, ToNapiValue,
    Uint8Array,
};
use napi::{Env, JSON, JsValue, ScopedTask, Status, Task, Unknown};
use napi_derive::napi;
use serde_json::Value;

mod disclosure;
mod dlp;
mod shape;
mod store;
mod supplychain;

// Reachable from the crate root, as the functions defined here are (napi
// registers them; without this a `cfg(test)` build sees them as unused).
pub use disclosure::{decide_residency, verify_disclosure};
pub use store::{in_cohort, tenant_bucket};
pub use supplychain::{
    attest_provenance, cve_gate, cve_gate_async, cvss_score, detect_report_format,
    provenance_statement, sbom_from_cargo_metadata_async, sbom_from_json_async,
    sbom_from_lockfile_async, source_date_epoch, verify_provenance, verify_provenance_async,
};

/// Errors thrown to JavaScript: `code` is a cos error code or `InvalidArg`.
/// (`&'static str`: every code is a crate's `Error::code` or [`INVALID_ARG`].)
type Result<T> = napi::Result<T, &'static str>;

/// The code of arguments that cannot be mapped (napi-rs's own code for them).
const INVALID_ARG: &str = "InvalidArg";

fn core_err(e: cos_core::Error) -> napi::Error<&'static str> {
    napi::Error::new(e.code(), e.to_string())
}

/// The mtime of a built bundle's entries: `SOURCE_DATE_EPOCH` parsed by
/// cos-core (as `cos pack build` does), else 0.
fn bundle_mtime() -> Result<u64> {
    match std::env::var_os("SOURCE_DATE_EPOCH") {
        Some(v) => cos_core::time::parse_source_date_epoch(&v.to_string_lossy()).map_err(core_err),
        None => Ok(0),
    }
}

/// A cos-policy error, or one of its sub-domain errors
/// (`cos_policy::DlpError`, …), with its code.
fn policy_err(e: impl Into<cos_policy::Error>) -> napi::Error<&'static str> {
    let e = e.into();
    napi::Error::new(e.code(), e.to_string())
}

fn invalid_arg(reason: impl Into<String>) -> napi::Error<&'static str> {
    napi::Error::new(INVALID_ARG, reason.into())
}

/// A rejection for a Promise: a JavaScript `Error` with `code` (async tasks
/// settle through napi's `Status`-typed errors, so the object is built here).
fn rejection(env: &Env, code: &str, reason: String) -> napi::Error {
    let built = env
        .create_error(napi::Error::new(Status::GenericFailure, reason))
        .and_then(|mut err| {
            err.set_named_property("code", code)?;
            Ok(napi::Error::from(err.to_unknown()))
        });
    match built {
        Ok(e) | Err(e) => e,
    }
}

/// Bytes from JavaScript: a string (its UTF-8) or a `Uint8Array`/`Buffer`.
type Bytes = Either<String, Uint8Array>;

fn bytes(b: &Bytes) -> &[u8] {
    match b {
        Either::A(s) => s.as_bytes(),
        Either::B(u) => u,
    }
}

// JSON crosses the boundary as text, through V8's own `JSON.stringify` and
// `JSON.parse`: several times faster than walking objects property by
// property through N-API, and JavaScript's JSON semantics (`toJSON`,
// `undefined` properties left out, NaN as null, cycles rejected).

fn json_object<'e>(env: &'e Env) -> Result<JSON<'e>> {
    env.get_global()
        .and_then(|g| g.get_named_property_unchecked::<JSON<'e>>("JSON"))
        .map_err(|e| invalid_arg(e.reason))
}

/// A JavaScript value as JSON: `None` for what `JSON.stringify` gives
/// `undefined` for (`undefined`, functions, symbols).
fn json_in(env: &Env, value: Unknown<'_>) -> Result<Option<Value>> {
    let stringify: Function<'_, Unknown<'_>, Option<String>> = json_object(env)?
        .get_named_property_unchecked("stringify")
        .map_err(|e| invalid_arg(e.reason))?;
    // A throw (a cycle, a BigInt, a throwing toJSON) is an argument error.
    let Some(text) = stringify.call(value).map_err(|e| invalid_arg(e.reason))? else {
        return Ok(None);
    };
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|e| invalid_arg(format!("input is not JSON cos can read: {e}")))
}

/// An evaluation input: the `JSON.stringify` text parsed straight into the
/// engine's own value (no intermediate JSON tree).
fn input_in(env: &Env, value: Option<Unknown<'_>>) -> Result<Option<cos_policy::Input>> {
    let Some(value) = value else {
        return Ok(None);
    };
    let stringify: Function<'_, Unknown<'_>, Option<String>> = json_object(env)?
        .get_named_property_unchecked("stringify")
        .map_err(|e| invalid_arg(e.reason))?;
    let Some(text) = stringify.call(value).map_err(|e| invalid_arg(e.reason))? else {
        return Ok(None);
    };
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|e| invalid_arg(format!("input is not JSON cos can read: {e}")))
}

/// An evaluation input from JSON text (`evaluateJson`): parsed straight
/// into the engine's own value.
fn input_from_text(text: Option<String>) -> Result<Option<cos_policy::Input>> {
    text.map(|t| {
        // Every number exact, as OPA reads it (JSON text can hold more
        // digits than a JavaScript number); one beyond the float range
        // (`1e400`) is refused with code `unsupported`.
        cos_policy::Input::from_json_text("input", t.as_bytes()).map_err(|e| match e {
            cos_policy::Error::InvalidFile { reason, .. } => {
                invalid_arg(format!("input is not JSON cos can read: {reason}"))
            }
            other => policy_err(other),
        })
    })
    .transpose()
}

/// An evaluation result as JSON text, or `undefined` in JavaScript (as
/// `evaluate` gives) when the document is undefined.
fn output_text(out: Option<cos_policy::Output>) -> Result<napi::Either<String, ()>> {
    match out {
        // Every number exact (big integers, exact decimals), as OPA writes it.
        Some(v) => v.to_json_string().map(napi::Either::A).map_err(policy_err),
        None => Ok(napi::Either::B(())),
    }
}

/// A JavaScript value that must be JSON (`what` names it in the error).
fn json_arg(env: &Env, value: Unknown<'_>, what: &str) -> Result<Value> {
    json_in(env, value)?.ok_or_else(|| invalid_arg(format!("{what} is not a JSON value")))
}

/// An optional argument: `undefined` or `null` is none.
fn json_opt(env: &Env, value: Option<Unknown<'_>>) -> Result<Option<Value>> {
    match value {
        Some(v) => json_in(env, v),
        None => Ok(None),
    }
}

/// A Rust value as a JavaScript value, through `JSON.parse`.
fn json_out<'e, T: serde::Serialize>(env: &'e Env, value: &T) -> Result<Unknown<'e>> {
    let text = serde_json::to_string(value).map_err(|e| invalid_arg(e.to_string()))?;
    let parse: Function<'e, String, Unknown<'e>> = json_object(env)?
        .get_named_property_unchecked("parse")
        .map_err(|e| invalid_arg(e.reason))?;
    parse.call(text).map_err(|e| invalid_arg(e.reason))
}

/// A shape cos defines (a decision, a store's status, a pack's info) as a
/// JavaScript value: its struct fields in camelCase (`shape`), the user
/// data inside it (policy documents, obligation parameters) unchanged.
fn shape_out<'e, T: serde::Serialize>(env: &'e Env, value: &T) -> Result<Unknown<'e>> {
    let text = shape::to_text(value)?;
    let parse: Function<'e, String, Unknown<'e>> = json_object(env)?
        .get_named_property_unchecked("parse")
        .map_err(|e| invalid_arg(e.reason))?;
    parse.call(text).map_err(|e| invalid_arg(e.reason))
}

/// `shape_out`, or `undefined` for `None`.
fn shape_out_opt<'e, T: serde::Serialize>(env: &'e Env, value: Option<&T>) -> Result<Unknown<'e>> {
    match value {
        Some(v) => shape_out(env, v),
        None => ().into_unknown(env).map_err(|e| invalid_arg(e.reason)),
    }
}

/// The verifier of the Sigstore trust an options object names, if any.
fn trust_verifier(
    trust: Option<cos_core::shape::SigstoreTrust<'_>>,
) -> Result<Option<Box<dyn cos_core::sigstore::BlobVerifier>>> {
    trust
        .map(cos_supplychain::sigstore::verifier)
        .transpose()
        .map_err(supplychain_err)
}

/// `undefined` for `None` (OPA's undefined document, a dropped event).
fn json_out_opt<'e, T: serde::Serialize>(env: &'e Env, value: Option<&T>) -> Result<Unknown<'e>> {
    match value {
        Some(v) => json_out(env, v),
        None => ().into_unknown(env).map_err(|e| invalid_arg(e.reason)),
    }
}

fn from_value<T: serde::de::DeserializeOwned>(v: Value, what: &str) -> Result<T> {
    serde_json::from_value(v).map_err(|e| invalid_arg(format!("not a {what}: {e}")))
}

fn public_keys(pems: &[String]) -> Result<Vec<cos_core::PublicKey>> {
    pems.iter()
        .map(|p| cos_core::PublicKey::from_pem(p))
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(core_err)
}

/// JavaScript numbers arrive as `i64` (napi-rs wraps negatives into `u32`).
fn threshold(t: Option<i64>) -> Result<usize> {
    let t = t.unwrap_or(1);
    usize::try_from(t).map_err(|_| invalid_arg(format!("threshold {t} is negative")))
}

// ---------------------------------------------------------------- cos-core

/// `sha256:<hex>` (or `sha512:<hex>`) of `data`.
#[napi]
pub fn digest(data: Bytes, algorithm: Option<String>) -> Result<String> {
    let alg: cos_core::DigestAlgorithm = algorithm
        .as_deref()
        .unwrap_or("sha256")
        .parse()
        .map_err(core_err)?;
    Ok(cos_core::Digest::of_bytes(alg, bytes(&data)).to_string())
}

/// RFC 8785 canonical form of a JSON text.
#[napi]
pub fn canonicalize(json: Bytes) -> Result<Buffer> {
    let out = cos_core::canonical::canonicalize(bytes(&json)).map_err(core_err)?;
    Ok(out.into())
}

/// RFC 8785 canonical JSON of a JavaScript value.
#[napi]
pub fn canonical_json(env: &Env, value: Unknown<'_>) -> Result<Buffer> {
    let value = json_arg(env, value, "value")?;
    let out = cos_core::canonical::to_canonical_vec(&value).map_err(core_err)?;
    Ok(out.into())
}

/// A private signing key (Ed25519 or ECDSA P-256).
#[napi]
pub struct SigningKey(cos_core::PrivateKey);

#[napi]
impl SigningKey {
    /// A new random key: `algorithm` is `"ed25519"` (default) or `"ecdsa-p256"`.
    #[napi(factory)]
    pub fn generate(algorithm: Option<String>) -> Result<Self> {
        let alg: cos_core::KeyAlgorithm = algorithm
            .as_deref()
            .unwrap_or("ed25519")
            .parse()
            .map_err(core_err)?;
        Ok(SigningKey(
            cos_core::PrivateKey::generate(alg).map_err(core_err)?,
        ))
    }

    /// A key from its PKCS#8 PEM text.
    #[napi(factory)]
    pub fn from_pem(pem: String) -> Result<Self> {
        Ok(SigningKey(
            cos_core::PrivateKey::from_pem(&pem).map_err(core_err)?,
        ))
    }

    /// The PKCS#8 PEM text (secret: handle with care).
    #[napi]
    pub fn to_pem(&self) -> Result<String> {
        Ok(self.0.to_pem().map_err(core_err)?.to_string())
    }

    /// The public key's SPKI PEM text.
    #[napi]
    pub fn public_pem(&self) -> String {
        self.0.public_key().to_pem()
    }

    /// `sha256` of the public key's SPKI DER, hex.
    #[napi(getter)]
    pub fn key_id(&self) -> String {
        self.0.public_key().key_id().to_owned()
    }

    /// `"ed25519"` or `"ecdsa-p256"`.
    #[napi(getter)]
    pub fn algorithm(&self) -> &'static str {
        self.0.public_key().algorithm().as_str()
    }

    /// `SigningKey(algorithm=…, keyId=…)`: never the secret.
    #[napi(js_name = "toString")]
    pub fn describe(&self) -> String {
        format!(
            "SigningKey(algorithm={:?}, keyId={:?})",
            self.algorithm(),
            self.key_id()
        )
    }
}

fn signers<'a>(keys: &'a [ClassInstance<'_, SigningKey>]) -> Vec<&'a dyn cos_core::Signer> {
    keys.iter().map(|k| &k.0 as &dyn cos_core::Signer).collect()
}

/// Signs `payload` as a DSSE envelope (JSON bytes) with every key given.
#[napi]
pub fn dsse_sign(
    payload: Bytes,
    payload_type: String,
    keys: Vec<ClassInstance<'_, SigningKey>>,
) -> Result<Buffer> {
    let env = cos_core::dsse::Envelope::sign(&payload_type, bytes(&payload), &signers(&keys))
        .map_err(core_err)?;
    Ok(env.to_json().into())
}

/// Verifies a DSSE envelope against public keys (SPKI PEM texts): at least
/// `threshold` (default 1) distinct keys must have signed, and the payload
/// type must be `payloadType` when given.
#[napi(ts_return_type = "DsseVerified")]
pub fn dsse_verify<'e>(
    env: &'e Env,
    envelope: Bytes,
    public_keys_pem: Vec<String>,
    threshold_keys: Option<i64>,
    payload_type: Option<String>,
) -> Result<Object<'e>> {
    let keys = public_keys(&public_keys_pem)?;
    let verifiers: Vec<&dyn cos_core::Verifier> =
        keys.iter().map(|k| k as &dyn cos_core::Verifier).collect();
    let parsed = cos_core::dsse::Envelope::from_json(bytes(&envelope)).map_err(core_err)?;
    let verified = parsed
        .verify(
            &verifiers,
            threshold(threshold_keys)?,
            payload_type.as_deref(),
        )
        .map_err(core_err)?;
    // `cos_core::dsse::Verified` in camelCase, and the payload as a Buffer
    // (bytes JSON cannot carry).
    let parse: Function<'e, String, Object<'e>> = json_object(env)?
        .get_named_property_unchecked("parse")
        .map_err(|e| invalid_arg(e.reason))?;
    let mut out = parse
        .call(shape::to_text(&verified)?)
        .map_err(|e| invalid_arg(e.reason))?;
    out.set_named_property("payload", Buffer::from(parsed.payload))
        .map_err(|e| invalid_arg(e.reason))?;
    Ok(out)
}

/// A subject of an in-toto statement.
#[napi(object)]
pub struct SubjectInput {
    /// The artefact's name.
    pub name: String,
    /// Its digest, `sha256:<hex>`.
    pub digest: String,
}

/// A validated in-toto Statement v1 (a plain object).
#[napi]
pub fn statement<'e>(
    env: &'e Env,
    predicate_type: String,
    predicate: Unknown<'_>,
    subjects: Vec<SubjectInput>,
) -> Result<Unknown<'e>> {
    let predicate = json_arg(env, predicate, "predicate")?;
    let mut st = cos_core::statement::Statement::new(&predicate_type, predicate);
    for s in &subjects {
        let d = cos_core::Digest::parse_prefixed(&s.digest).map_err(core_err)?;
        st = st.with_subject(cos_core::statement::Subject::new(s.name.as_str(), &d));
    }
    st.validate().map_err(core_err)?;
    json_out(env, &st)
}

fn statement_from_value(v: &Value) -> Result<cos_core::statement::Statement> {
    let json = serde_json::to_vec(v).map_err(|e| invalid_arg(e.to_string()))?;
    cos_core::statement::Statement::from_json(&json).map_err(core_err)
}

/// Signs a statement into a DSSE envelope (JSON bytes) of type
/// `application/vnd.in-toto+json`.
#[napi]
pub fn statement_sign(
    env: &Env,
    statement: Unknown<'_>,
    keys: Vec<ClassInstance<'_, SigningKey>>,
) -> Result<Buffer> {
    let st = statement_from_value(&json_arg(env, statement, "statement")?)?;
    let envelope = st.sign(&signers(&keys)).map_err(core_err)?;
    Ok(envelope.to_json().into())
}

/// Verifies an in-toto DSSE envelope and returns the statement.
#[napi]
pub fn statement_verify<'e>(
    env: &'e Env,
    envelope: Bytes,
    public_keys_pem: Vec<String>,
    threshold_keys: Option<i64>,
) -> Result<Unknown<'e>> {
    let keys = public_keys(&public_keys_pem)?;
    let verifiers: Vec<&dyn cos_core::Verifier> =
        keys.iter().map(|k| k as &dyn cos_core::Verifier).collect();
    let parsed = cos_core::dsse::Envelope::from_json(bytes(&envelope)).map_err(core_err)?;
    let st = cos_core::statement::Statement::verify_envelope(
        &parsed,
        &verifiers,
        threshold(threshold_keys)?,
    )
    .map_err(core_err)?;
    json_out(env, &st)
}

// ---------------------------------------------------------------- cos-policy

/// Options of a bundle signature (`buildSignedBundle`, `verifySignature`):
/// `cos_policy::SignatureOptions` in camelCase.
fn signature_options(env: &Env, o: Option<Unknown<'_>>) -> Result<cos_policy::SignatureOptions> {
    shape::options(json_opt(env, o)?, "signature options")
}

/// A policy pack (or OPA bundle), checked and loaded with size limits.
#[napi]
pub struct Pack(Arc<cos_policy::Pack>);

#[napi]
impl Pack {
    /// Loads a pack directory, or a pack or bundle `.tar.gz`.
    #[napi(factory)]
    pub fn load(path: String) -> Result<Self> {
        cos_policy::Pack::load(std::path::Path::new(&path), &cos_policy::Limits::default())
            .map(|p| Pack(Arc::new(p)))
            .map_err(policy_err)
    }

    /// Loads a pack or bundle from `.tar.gz` bytes.
    #[napi(factory)]
    pub fn from_bytes(data: Uint8Array) -> Result<Self> {
        cos_policy::Pack::from_bytes(&data, &cos_policy::Limits::default())
            .map(|p| Pack(Arc::new(p)))
            .map_err(policy_err)
    }

    /// The pack's name.
    #[napi(getter)]
    pub fn name(&self) -> String {
        self.0.manifest().name.clone()
    }

    /// The pack's semver version.
    #[napi(getter)]
    pub fn version(&self) -> String {
        self.0.manifest().version.to_string()
    }

    /// The pack's revision.
    #[napi(getter)]
    pub fn revision(&self) -> String {
        self.0.manifest().revision.clone()
    }

    /// The pack's digest, `sha256:<hex>`.
    #[napi(getter)]
    pub fn digest(&self) -> String {
        self.0.digest().to_string()
    }

    /// Entrypoint name → document path, from the manifest.
    #[napi(getter)]
    pub fn entrypoints(&self) -> BTreeMap<String, String> {
        self.0
            .manifest()
            .entrypoints
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    /// Whether the pack carries an OPA `.signatures.json`.
    #[napi(getter)]
    pub fn is_signed(&self) -> bool {
        self.0.is_signed()
    }

    /// The pack as a deterministic OPA bundle (`.tar.gz` bytes); entries
    /// are dated `SOURCE_DATE_EPOCH` when set (malformed: code
    /// `invalid_source_date_epoch`), else 0.
    #[napi]
    pub fn build_bundle(&self) -> Result<Buffer> {
        let mtime = bundle_mtime()?;
        Ok(self.0.build_bundle_at(mtime).map_err(policy_err)?.into())
    }

    /// Like `buildBundle`, with the pack's `tests/` kept (`cos pack build
    /// --with-tests`), so that a store runs them before activating it.
    #[napi]
    pub fn build_bundle_with_tests(&self) -> Result<Buffer> {
        let mtime = bundle_mtime()?;
        Ok(self
            .0
            .build_bundle_with_tests_at(mtime)
            .map_err(policy_err)?
            .into())
    }

    /// The pack as an OPA bundle signed with an ECDSA P-256 key (ES256 JWS
    /// in `.signatures.json`, verifiable by `opa run --verification-key`).
    #[napi(ts_args_type = "key: SigningKey, options?: SignatureOptions")]
    pub fn build_signed_bundle(
        &self,
        env: &Env,
        key: &SigningKey,
        options: Option<Unknown<'_>>,
    ) -> Result<Buffer> {
        let options = signature_options(env, options)?;
        let mtime = bundle_mtime()?;
        let out = self
            .0
            .build_signed_bundle_at(&key.0, &options, mtime)
            .map_err(policy_err)?;
        Ok(out.into())
    }

    /// Verifies the pack's `.signatures.json` against its files with a
    /// public key (SPKI PEM); throws naming the missing, extra or changed file.
    #[napi(
        ts_args_type = "publicPem: string, options?: SignatureOptions",
        ts_return_type = "VerifiedSignature"
    )]
    pub fn verify_signature<'e>(
        &self,
        env: &'e Env,
        public_pem: String,
        options: Option<Unknown<'_>>,
    ) -> Result<Unknown<'e>> {
        let options = signature_options(env, options)?;
        let key = cos_core::PublicKey::from_pem(&public_pem).map_err(core_err)?;
        let v = self
            .0
            .verify_signature(&key, &options)
            .map_err(policy_err)?;
        shape_out(env, &v)
    }

    /// Runs the pack's tests like `opa test`.
    #[napi(ts_return_type = "TestRun")]
    pub fn run_tests<'e>(
        &self,
        env: &'e Env,
        #[napi(ts_arg_type = "RunTestsOptions")] options: Option<Unknown<'_>>,
    ) -> Result<Unknown<'e>> {
        let options: cos_policy::RunTestsOptions =
            shape::options(json_opt(env, options)?, "runTests options")?;
        let report = options.run_tests(&self.0).map_err(policy_err)?;
        shape_out(env, &cos_policy::TestRun::from(&report))
    }

    /// `Pack(name=…, version=…, digest=…)`.
    #[napi(js_name = "toString")]
    pub fn describe(&self) -> String {
        format!(
            "Pack(name={:?}, version={:?}, digest={:?})",
            self.name(),
            self.version(),
            self.digest()
        )
    }
}

/// Loads a pack off the main thread (see `Pack.load`).
pub struct LoadPack(PathBuf);

impl Task for LoadPack {
    type Output = std::result::Result<cos_policy::Pack, cos_policy::Error>;
    type JsValue = Pack;

    fn compute(&mut self) -> napi::Result<Self::Output> {
        Ok(cos_policy::Pack::load(
            &self.0,
            &cos_policy::Limits::default(),
        ))
    }

    fn resolve(&mut self, env: Env, output: Self::Output) -> napi::Result<Pack> {
        output
            .map(|p| Pack(Arc::new(p)))
            .map_err(|e| rejection(&env, e.code(), e.to_string()))
    }
}

/// `Pack.load` on the libuv thread pool: a Promise of the pack.
#[napi(ts_return_type = "Promise<Pack>")]
pub fn load_pack_async(path: String) -> AsyncTask<LoadPack> {
    AsyncTask::new(LoadPack(PathBuf::from(path)))
}

/// A Sigstore bundle (v0.3 JSON bytes, public-key hint, no log entry)
/// signing `artifact` with `key`.
#[napi]
pub fn sigstore_sign_blob(artifact: Bytes, key: &SigningKey) -> Result<Buffer> {
    cos_core::sigstore::sign_blob(bytes(&artifact), &key.0)
        .map(Buffer::from)
        .map_err(core_err)
}

/// Verifies `artifact` against a Sigstore bundle (or cosign's older blob
/// bundle) with a public key (SPKI PEM), offline.
#[napi(ts_return_type = "SigstoreVerified")]
pub fn sigstore_verify_blob<'e>(
    env: &'e Env,
    artifact: Bytes,
    bundle: Bytes,
    public_key_pem: String,
) -> Result<Unknown<'e>> {
    let key = cos_core::PublicKey::from_pem(&public_key_pem).map_err(core_err)?;
    let v = cos_core::sigstore::Bundle::from_json(bytes(&bundle))
        .and_then(|b| b.verify_blob(bytes(&artifact), &key))
        .map_err(core_err)?;
    shape_out(env, &v)
}

fn supplychain_err(e: cos_supplychain::Error) -> napi::Error<&'static str> {
    match e {
        cos_supplychain::Error::Core(e) => core_err(e),
        other => napi::Error::new(other.code(), other.to_string()),
    }
}

fn blob_verifier(
    public_key: Option<&str>,
    trusted_root: Option<&[u8]>,
    identity: Option<&str>,
    issuer: Option<&str>,
) -> Result<Box<dyn cos_core::sigstore::BlobVerifier>> {
    cos_supplychain::sigstore::blob_verifier(public_key, trusted_root, identity, issuer)
        .map_err(supplychain_err)
}

/// Verifies `artifact` against a keyless Sigstore bundle, offline, with a
/// `trusted_root.json` for the expected identity (exact SAN) and issuer.
#[napi(ts_return_type = "SigstoreVerified")]
pub fn sigstore_verify_blob_keyless<'e>(
    env: &'e Env,
    artifact: Bytes,
    bundle: Bytes,
    trusted_root: Bytes,
    identity: String,
    issuer: String,
) -> Result<Unknown<'e>> {
    let v = blob_verifier(
        None,
        Some(bytes(&trusted_root)),
        Some(&identity),
        Some(&issuer),
    )?
    .verify_blob(bytes(&artifact), bytes(&bundle))
    .map_err(core_err)?;
    shape_out(env, &v)
}

/// `fetchAndVerify` off the main thread.
pub struct FetchAndVerify {
    url: String,
    key: Box<dyn cos_core::sigstore::BlobVerifier>,
    bundle: Option<Vec<u8>>,
    digest: Option<String>,
    dest: Option<PathBuf>,
}

impl Task for FetchAndVerify {
    type Output = std::result::Result<PathBuf, cos_policy::Error>;
    type JsValue = String;

    fn compute(&mut self) -> napi::Result<Self::Output> {
        Ok(cos_policy::distribution::fetch_and_verify(
            &self.url,
            self.digest.as_deref(),
            self.bundle.as_deref(),
            self.key.as_ref(),
            self.dest.as_deref(),
            &cos_policy::Limits::default(),
        ))
    }

    fn resolve(&mut self, env: Env, output: Self::Output) -> napi::Result<String> {
        output
            .map(|p| p.to_string_lossy().into_owned())
            .map_err(|e| rejection(&env, e.code(), e.to_string()))
    }
}

/// The TypeScript `fetchAndVerify` in-process: verifies the pack (digest,
/// Sigstore bundle with `publicKey`), unpacks it, and resolves to the
/// directory. Rejections carry the fetcher's messages with a `code`.
#[napi(ts_return_type = "Promise<string>")]
pub fn fetch_and_verify(
    env: &Env,
    #[napi(ts_arg_type = "FetchOptions")] options: Unknown<'_>,
) -> Result<AsyncTask<FetchAndVerify>> {
    let options: cos_policy::distribution::FetchConfig = shape::options(
        Some(json_arg(env, options, "fetchAndVerify options")?),
        "fetchAndVerify options",
    )?;
    let key = blob_verifier(
        options.public_key.as_deref(),
        options
            .trusted_root
            .as_ref()
            .map(cos_core::shape::Blob::as_bytes),
        options.identity.as_deref(),
        options.issuer.as_deref(),
    )?;
    Ok(AsyncTask::new(FetchAndVerify {
        url: options.url,
        key,
        bundle: options.bundle.map(|b| b.0),
        digest: options.digest,
        dest: options.dest,
    }))
}

/// `fetchAttestation` off the main thread.
pub struct FetchAttestation(String);

impl Task for FetchAttestation {
    type Output = std::result::Result<String, cos_policy::Error>;
    type JsValue = String;

    fn compute(&mut self) -> napi::Result<Self::Output> {
        Ok(cos_policy::distribution::fetch_attestation(&self.0))
    }

    fn resolve(&mut self, env: Env, output: Self::Output) -> napi::Result<String> {
        output.map_err(|e| rejection(&env, e.code(), e.to_string()))
    }
}

/// The TypeScript `fetchAttestation`: the Sigstore bundle at `url` (a path
/// or `file:` URL) as text.
#[napi(ts_return_type = "Promise<string>")]
pub fn fetch_attestation(url: String) -> AsyncTask<FetchAttestation> {
    AsyncTask::new(FetchAttestation(url))
}

/// A compiled pack: evaluate many times; the async variants run on the
/// libuv thread pool.
#[napi]
pub struct Engine(Arc<cos_policy::PolicyEngine>);

#[napi]
impl Engine {
    /// Compiles a pack; `options`: `cos_policy::EngineConfig` in camelCase.
    #[napi(constructor, ts_args_type = "pack: Pack, options?: EngineOptions")]
    pub fn new(env: &Env, pack: &Pack, options: Option<Unknown<'_>>) -> Result<Self> {
        let config: cos_policy::EngineConfig =
            shape::options(json_opt(env, options)?, "Engine options")?;
        cos_policy::PolicyEngine::new(&pack.0, config.into())
            .map(|e| Engine(Arc::new(e)))
            .map_err(policy_err)
    }

    /// `evaluate` on JSON text, giving JSON text: the input as
    /// `JSON.stringify` would write it (`undefined` for none), the result's
    /// JSON or `undefined` when the document is undefined. `evaluate` (in
    /// index.js) is `JSON.parse(evaluateJson(path, JSON.stringify(input)))`:
    /// V8 runs both in JavaScript, and one string crosses N-API each way.
    /// Callers that hold JSON text already (an HTTP body) skip both.
    #[napi(js_name = "evaluateJson", ts_return_type = "string | undefined")]
    pub fn evaluate_json(
        &self,
        path: String,
        input: Option<String>,
    ) -> Result<napi::Either<String, ()>> {
        let input = input_from_text(input)?;
        let out = self.0.evaluate(&path, input.as_ref()).map_err(policy_err)?;
        output_text(out)
    }

    /// `evaluate` on the libuv thread pool.
    #[napi(ts_return_type = "Promise<any>")]
    pub fn evaluate_async(
        &self,
        env: &Env,
        path: String,
        input: Option<Unknown<'_>>,
    ) -> Result<AsyncTask<Evaluate>> {
        Ok(AsyncTask::new(Evaluate {
            engine: Arc::clone(&self.0),
            path,
            input: input_in(env, input)?,
        }))
    }

    /// A typed decision for a manifest entrypoint (or a path): allow,
    /// reasons, obligations, pack, decision_id, timestamp, eval_ns.
    #[napi(ts_return_type = "Decision")]
    pub fn decide<'e>(
        &self,
        env: &'e Env,
        entrypoint: String,
        input: Unknown<'_>,
    ) -> Result<Unknown<'e>> {
        let input = json_arg(env, input, "input")?;
        let d = self.0.decide(&entrypoint, &input).map_err(policy_err)?;
        shape_out(env, &d)
    }

    /// `decide` on the libuv thread pool.
    #[napi(ts_return_type = "Promise<Decision>")]
    pub fn decide_async(
        &self,
        env: &Env,
        entrypoint: String,
        input: Unknown<'_>,
    ) -> Result<AsyncTask<Decide>> {
        Ok(AsyncTask::new(Decide {
            engine: Arc::clone(&self.0),
            entrypoint,
            input: json_arg(env, input, "input")?,
        }))
    }

    /// `{allow, reason}` from the document at `path`, reduced as OPA REST
    /// clients do (`result.allow === true`, a string `result.reason`).
    #[napi(ts_return_type = "AllowReason")]
    pub fn allow_reason<'e>(
        &self,
        env: &'e Env,
        path: String,
        input: Unknown<'_>,
    ) -> Result<Unknown<'e>> {
        let input = json_arg(env, input, "input")?;
        let r = self.0.allow_reason(&path, &input).map_err(policy_err)?;
        shape_out(env, &r)
    }

    /// Whether `path` is evaluated on the register VM (see ADR-0005).
    #[napi]
    pub fn runs_on_vm(&self, path: String) -> bool {
        self.0.runs_on_vm(&path)
    }
}

/// `Engine.evaluate` off the main thread.
pub struct Evaluate {
    engine: Arc<cos_policy::PolicyEngine>,
    path: String,
    input: Option<cos_policy::Input>,
}

impl<'task> ScopedTask<'task> for Evaluate {
    type Output = std::result::Result<Option<cos_policy::Output>, cos_policy::Error>;
    type JsValue = Unknown<'task>;

    fn compute(&mut self) -> napi::Result<Self::Output> {
        Ok(self.engine.evaluate(&self.path, self.input.as_ref()))
    }

    fn resolve(&mut self, env: &'task Env, output: Self::Output) -> napi::Result<Unknown<'task>> {
        let value = output.map_err(|e| rejection(env, e.code(), e.to_string()))?;
        json_out_opt(env, value.as_ref()).map_err(|e| rejection(env, e.status, e.reason))
    }
}

/// `Engine.decide` off the main thread.
pub struct Decide {
    engine: Arc<cos_policy::PolicyEngine>,
    entrypoint: String,
    input: Value,
}

impl<'task> ScopedTask<'task> for Decide {
    type Output = std::result::Result<cos_policy::Decision, cos_policy::Error>;
    type JsValue = Unknown<'task>;

    fn compute(&mut self) -> napi::Result<Self::Output> {
        Ok(self.engine.decide(&self.entrypoint, &self.input))
    }

    fn resolve(&mut self, env: &'task Env, output: Self::Output) -> napi::Result<Unknown<'task>> {
        let d = output.map_err(|e| rejection(env, e.code(), e.to_string()))?;
        shape_out(env, &d).map_err(|e| rejection(env, e.status, e.reason))
    }
}

/// Builds OPA decision-log events for an engine, applying the pack's
/// `system.log.mask` and `system.log.drop` rules.
#[napi]
pub struct DecisionLogger(cos_policy::DecisionLogger);

#[napi]
impl DecisionLogger {
    /// A logger whose events carry `labels` (plus an `id` label).
    #[napi(constructor)]
    pub fn new(labels: Option<BTreeMap<String, String>>) -> Self {
        DecisionLogger(cos_policy::DecisionLogger::new(labels.unwrap_or_default()))
    }

    /// The event for a decision from `Engine.decide`, or `undefined` when
    /// the pack's drop rule drops it.
    #[napi(ts_return_type = "DecisionEvent | undefined")]
    pub fn event_for_decision<'e>(
        &self,
        env: &'e Env,
        engine: &Engine,
        decision: Unknown<'_>,
        input: Option<Unknown<'_>>,
        requested_by: Option<String>,
    ) -> Result<Unknown<'e>> {
        let decision: cos_policy::Decision =
            shape::from_js(json_arg(env, decision, "decision")?, "decision")?;
        let input = json_opt(env, input)?;
        let ev = self
            .0
            .event_for_decision(
                &engine.0,
                &decision,
                input.as_ref(),
                requested_by.as_deref(),
            )
            .map_err(policy_err)?;
        json_out_opt(env, ev.as_ref())
    }

    /// The event for a plain evaluation (`Engine.evaluate`), or `undefined`
    /// when dropped.
    #[napi(ts_return_type = "DecisionEvent | undefined")]
    pub fn event_for_result<'e>(
        &self,
        env: &'e Env,
        engine: &Engine,
        path: String,
        input: Option<Unknown<'_>>,
        result: Option<Unknown<'_>>,
        eval_ns: Option<i64>,
    ) -> Result<Unknown<'e>> {
        let eval_ns = u64::try_from(eval_ns.unwrap_or(0))
            .map_err(|_| invalid_arg("evalNs must not be negative"))?;
        let input = json_opt(env, input)?;
        let result = json_opt(env, result)?;
        let ev = self
            .0
            .event_for_result(&engine.0, &path, input.as_ref(), result.as_ref(), eval_ns)
            .map_err(policy_err)?;
        json_out_opt(env, ev.as_ref())
    }

    /// The event for an evaluation that failed with `error` (`{code,
    /// message}`), by `engine` (its drop and mask rules apply) or by none;
    /// `undefined` when dropped.
    #[napi(ts_return_type = "DecisionEvent | undefined")]
    pub fn event_for_error<'e>(
        &self,
        env: &'e Env,
        path: String,
        error: Unknown<'_>,
        engine: Option<&Engine>,
        input: Option<Unknown<'_>>,
        eval_ns: Option<i64>,
    ) -> Result<Unknown<'e>> {
        let eval_ns = u64::try_from(eval_ns.unwrap_or(0))
            .map_err(|_| invalid_arg("evalNs must not be negative"))?;
        let error: cos_policy::EventError = from_value(json_arg(env, error, "error")?, "error")?;
        let input = json_opt(env, input)?;
        let ev = self
            .0
            .event_for_error(
                engine.map(|e| &*e.0),
                &path,
                input.as_ref(),
                &error,
                eval_ns,
            )
            .map_err(policy_err)?;
        json_out_opt(env, ev.as_ref())
    }
}

/// Appends decision-log events to a file as JSON lines (flushed per event).
#[napi]
pub struct JsonLinesWriter(Option<cos_policy::JsonLinesWriter<std::fs::File>>);

#[napi]
impl JsonLinesWriter {
    /// Opens (creates or appends to) the file at `path`.
    #[napi(constructor)]
    pub fn new(path: String) -> Result<Self> {
        cos_policy::JsonLinesWriter::append(path)
            .map(|w| JsonLinesWriter(Some(w)))
            .map_err(policy_err)
    }

    /// Writes one event (an object from `DecisionLogger`).
    #[napi]
    pub fn write(&mut self, env: &Env, event: Unknown<'_>) -> Result<()> {
        let event: cos_policy::DecisionEvent =
            from_value(json_arg(env, event, "event")?, "decision-log event")?;
        let w = self
            .0
            .as_mut()
            .ok_or_else(|| invalid_arg("the writer is closed"))?;
        w.write(&event).map_err(policy_err)
    }

    /// Closes the file; later writes throw (`code: "InvalidArg"`).
    #[napi]
    pub fn close(&mut self) {
        self.0 = None;
    }
}
