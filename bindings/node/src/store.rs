//! `PolicyStore`, `PackClient`, `tenantBucket`, `inCohort`: cos_policy::store
//! and cos_policy::distribution::http, mapped.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use cos_policy::distribution::http::{ClientOptions, Fetched};
use cos_policy::store::{Activation, Candidate, TestPolicy};
use napi::bindgen_prelude::{AsyncTask, Buffer, Function};
use napi::threadsafe_function::ThreadsafeFunctionCallMode;
use napi::{Env, ScopedTask, Task, Unknown};
use napi_derive::napi;

use crate::{
    Bytes, Pack, Result, blob_verifier, bytes, core_err, from_value, input_from_text, invalid_arg,
    json_arg, json_opt, json_out, json_out_opt, output_text, policy_err, rejection,
};

/// Options of `new PolicyStore(options)` and `PolicyStore.open(options)`.
#[napi(object)]
pub struct StoreOptions {
    /// Require an OPA `.signatures.json` made with this key (SPKI PEM).
    pub opa_public_key: Option<String>,
    /// The `kid` the OPA signature must carry.
    pub opa_key_id: Option<String>,
    /// The `scope` the OPA signature must carry.
    pub opa_scope: Option<String>,
    /// Require a Sigstore bundle signed with this key (SPKI PEM) ...
    pub public_key: Option<String>,
    /// ... or keyless: the `trusted_root.json`, ...
    pub trusted_root: Option<Bytes>,
    /// ... the certificate identity ...
    pub identity: Option<String>,
    /// ... and its OIDC issuer.
    pub issuer: Option<String>,
    /// `"required"`, `"if_present"` (default) or `"skip"`: the candidate's own tests.
    pub tests: Option<String>,
    /// Where the last known good pack is kept.
    pub state_dir: Option<String>,
    /// Earlier stable packs kept for `rollback()` (default 4).
    pub history: Option<i64>,
    /// Decisions before automatic rollback judges a pack (default 100).
    pub min_samples: Option<i64>,
    /// OPA's `--strict-builtin-errors`.
    pub strict_builtin_errors: Option<bool>,
    /// Wall-clock limit of one evaluation, milliseconds (default 1000).
    pub timeout_ms: Option<i64>,
    /// Time limit of each of a candidate's tests, milliseconds (default
    /// 5000; 0: `timeoutMs`). A test out of time refuses the candidate.
    pub test_timeout_ms: Option<i64>,
    /// The name every pack must have (default: the first pack activated's).
    pub pack_name: Option<String>,
    /// Time limit of a candidate's compile, milliseconds (default 30000; 0: none).
    pub compile_timeout_ms: Option<i64>,
}

fn count(v: Option<i64>, name: &str, default: u64) -> Result<u64> {
    match v {
        None => Ok(default),
        Some(n) => u64::try_from(n).map_err(|_| invalid_arg(format!("{name} {n} is negative"))),
    }
}

fn store_options(o: Option<StoreOptions>) -> Result<cos_policy::store::StoreOptions> {
    let Some(o) = o else {
        return Ok(cos_policy::store::StoreOptions::default());
    };
    let tests: TestPolicy = match o.tests {
        Some(t) => from_value(
            serde_json::Value::from(t),
            "tests option (required, if_present, skip)",
        )?,
        None => TestPolicy::default(),
    };
    let opa_signature = match o.opa_public_key {
        Some(pem) => Some((
            cos_core::PublicKey::from_pem(&pem).map_err(core_err)?,
            cos_policy::SignatureOptions {
                key_id: o.opa_key_id,
                scope: o.opa_scope,
            },
        )),
        None => None,
    };
    let sigstore = if o.public_key.is_some() || o.trusted_root.is_some() {
        Some(Arc::from(blob_verifier(
            o.public_key.as_deref(),
            o.trusted_root.as_ref().map(bytes),
            o.identity.as_deref(),
            o.issuer.as_deref(),
        )?))
    } else {
        None
    };
    let history = usize::try_from(count(o.history, "history", 4)?)
        .map_err(|_| invalid_arg("history is too large"))?;
    Ok(cos_policy::store::StoreOptions {
        engine: cos_policy::EngineOptions {
            strict_builtin_errors: o.strict_builtin_errors.unwrap_or(false),
            time_limit: Some(Duration::from_millis(count(
                o.timeout_ms,
                "timeoutMs",
                1000,
            )?)),
            ..Default::default()
        },
        opa_signature,
        sigstore,
        tests,
        test_timeout: match count(o.test_timeout_ms, "testTimeoutMs", 5000)? {
            0 => None,
            ms => Some(Duration::from_millis(ms)),
        },
        state_dir: o.state_dir.map(Into::into),
        pack_name: o.pack_name,
        compile_timeout: match count(o.compile_timeout_ms, "compileTimeoutMs", 30_000)? {
            0 => None,
            ms => Some(Duration::from_millis(ms)),
        },
        history,
        min_samples: count(o.min_samples, "minSamples", 100)?,
        ..cos_policy::store::StoreOptions::default()
    })
}

fn tenant(t: Option<&str>) -> Result<Option<cos_core::TenantId>> {
    t.map(cos_core::TenantId::new).transpose().map_err(core_err)
}

fn candidate(archive: &Bytes, sigstore_bundle: Option<&Bytes>) -> Candidate {
    Candidate {
        archive: bytes(archive).to_vec(),
        sigstore_bundle: sigstore_bundle.map(|b| bytes(b).to_vec()),
    }
}

/// Which store operation a candidate is offered to.
#[derive(Clone, Copy)]
enum Offer {
    Activate,
    RollBackTo,
    StartRollout,
    StartShadow,
}

fn offer(
    store: &cos_policy::store::PolicyStore,
    how: Offer,
    c: Candidate,
) -> cos_policy::Result<Activation> {
    match how {
        Offer::Activate => store.activate(c),
        Offer::RollBackTo => store.roll_back_to(c),
        Offer::StartRollout => store.start_rollout(c),
        Offer::StartShadow => store.start_shadow(c),
    }
}

/// A candidate offered to the store off the main thread.
pub struct OfferCandidate {
    store: Arc<cos_policy::store::PolicyStore>,
    how: Offer,
    candidate: Candidate,
}

impl<'task> ScopedTask<'task> for OfferCandidate {
    type Output = std::result::Result<Activation, cos_policy::Error>;
    type JsValue = Unknown<'task>;

    fn compute(&mut self) -> napi::Result<Self::Output> {
        let c = std::mem::replace(&mut self.candidate, Candidate::new(Vec::new()));
        Ok(offer(&self.store, self.how, c))
    }

    fn resolve(&mut self, env: &'task Env, output: Self::Output) -> napi::Result<Unknown<'task>> {
        let a = output.map_err(|e| rejection(env, e.code(), e.to_string()))?;
        json_out(env, &a).map_err(|e| rejection(env, e.status, e.reason))
    }
}

/// `PolicyStore.openAsync` off the main thread.
pub struct OpenStore(Option<cos_policy::store::StoreOptions>);

impl Task for OpenStore {
    type Output = std::result::Result<cos_policy::store::PolicyStore, cos_policy::Error>;
    type JsValue = PolicyStore;

    fn compute(&mut self) -> napi::Result<Self::Output> {
        let options = self.0.take().unwrap_or_default();
        Ok(cos_policy::store::PolicyStore::open(options))
    }

    fn resolve(&mut self, env: Env, output: Self::Output) -> napi::Result<PolicyStore> {
        output
            .map(|s| PolicyStore(Arc::new(s)))
            .map_err(|e| rejection(&env, e.code(), e.to_string()))
    }
}

/// What `PolicyStore.evaluateWithPack` returns.
#[napi(object)]
pub struct EvaluatedWithPack {
    /// The pack that answered.
    pub pack: serde_json::Value,
    /// The document, or `undefined` when it is undefined.
    pub result: Option<serde_json::Value>,
}

/// Holds the packs a service decides with: verified hot reload, last
/// known good, rollback, cohort rollout, shadow evaluation.
#[napi]
pub struct PolicyStore(Arc<cos_policy::store::PolicyStore>);

impl PolicyStore {
    fn offer_now<'e>(
        &self,
        env: &'e Env,
        how: Offer,
        archive: &Bytes,
        bundle: Option<&Bytes>,
    ) -> Result<Unknown<'e>> {
        let a = offer(&self.0, how, candidate(archive, bundle)).map_err(policy_err)?;
        json_out(env, &a)
    }

    fn offer_later(
        &self,
        how: Offer,
        archive: &Bytes,
        bundle: Option<&Bytes>,
    ) -> AsyncTask<OfferCandidate> {
        AsyncTask::new(OfferCandidate {
            store: Arc::clone(&self.0),
            how,
            candidate: candidate(archive, bundle),
        })
    }
}

#[napi]
impl PolicyStore {
    /// An empty store.
    #[napi(constructor)]
    pub fn new(options: Option<StoreOptions>) -> Result<Self> {
        Ok(PolicyStore(Arc::new(cos_policy::store::PolicyStore::new(
            store_options(options)?,
        ))))
    }

    /// A store started from the last known good pack in `stateDir`,
    /// verified again; empty when there is none.
    #[napi(factory)]
    pub fn open(options: Option<StoreOptions>) -> Result<Self> {
        cos_policy::store::PolicyStore::open(store_options(options)?)
            .map(|s| PolicyStore(Arc::new(s)))
            .map_err(policy_err)
    }

    /// `open` on the libuv thread pool.
    #[napi(ts_return_type = "Promise<PolicyStore>")]
    pub fn open_async(options: Option<StoreOptions>) -> Result<AsyncTask<OpenStore>> {
        Ok(AsyncTask::new(OpenStore(Some(store_options(options)?))))
    }

    /// Whether any pack is active.
    #[napi(getter)]
    pub fn is_ready(&self) -> bool {
        self.0.is_ready()
    }

    /// Verifies a candidate and makes it the stable pack.
    #[napi(ts_return_type = "Activation")]
    pub fn activate<'e>(
        &self,
        env: &'e Env,
        archive: Bytes,
        sigstore_bundle: Option<Bytes>,
    ) -> Result<Unknown<'e>> {
        self.offer_now(env, Offer::Activate, &archive, sigstore_bundle.as_ref())
    }

    /// `activate` on the libuv thread pool.
    #[napi(ts_return_type = "Promise<Activation>")]
    pub fn activate_async(
        &self,
        archive: Bytes,
        sigstore_bundle: Option<Bytes>,
    ) -> AsyncTask<OfferCandidate> {
        self.offer_later(Offer::Activate, &archive, sigstore_bundle.as_ref())
    }

    /// `activate`, accepting an older version: an explicit rollback.
    #[napi(ts_return_type = "Activation")]
    pub fn roll_back_to<'e>(
        &self,
        env: &'e Env,
        archive: Bytes,
        sigstore_bundle: Option<Bytes>,
    ) -> Result<Unknown<'e>> {
        self.offer_now(env, Offer::RollBackTo, &archive, sigstore_bundle.as_ref())
    }

    /// `rollBackTo` on the libuv thread pool.
    #[napi(ts_return_type = "Promise<Activation>")]
    pub fn roll_back_to_async(
        &self,
        archive: Bytes,
        sigstore_bundle: Option<Bytes>,
    ) -> AsyncTask<OfferCandidate> {
        self.offer_later(Offer::RollBackTo, &archive, sigstore_bundle.as_ref())
    }

    /// Verifies a candidate and rolls it out to its first cohort.
    #[napi(ts_return_type = "Activation")]
    pub fn start_rollout<'e>(
        &self,
        env: &'e Env,
        archive: Bytes,
        sigstore_bundle: Option<Bytes>,
    ) -> Result<Unknown<'e>> {
        self.offer_now(env, Offer::StartRollout, &archive, sigstore_bundle.as_ref())
    }

    /// `startRollout` on the libuv thread pool.
    #[napi(ts_return_type = "Promise<Activation>")]
    pub fn start_rollout_async(
        &self,
        archive: Bytes,
        sigstore_bundle: Option<Bytes>,
    ) -> AsyncTask<OfferCandidate> {
        self.offer_later(Offer::StartRollout, &archive, sigstore_bundle.as_ref())
    }

    /// Verifies a candidate and evaluates it in the shadow of the deciding pack.
    #[napi(ts_return_type = "Activation")]
    pub fn start_shadow<'e>(
        &self,
        env: &'e Env,
        archive: Bytes,
        sigstore_bundle: Option<Bytes>,
    ) -> Result<Unknown<'e>> {
        self.offer_now(env, Offer::StartShadow, &archive, sigstore_bundle.as_ref())
    }

    /// `startShadow` on the libuv thread pool.
    #[napi(ts_return_type = "Promise<Activation>")]
    pub fn start_shadow_async(
        &self,
        archive: Bytes,
        sigstore_bundle: Option<Bytes>,
    ) -> AsyncTask<OfferCandidate> {
        self.offer_later(Offer::StartShadow, &archive, sigstore_bundle.as_ref())
    }

    /// One step forward: shadow → rollout (or stable), next cohort, stable.
    #[napi(ts_return_type = "PackRef")]
    pub fn promote<'e>(&self, env: &'e Env) -> Result<Unknown<'e>> {
        json_out(env, &self.0.promote().map_err(policy_err)?)
    }

    /// Freezes a rollout at its current cohorts.
    #[napi(ts_return_type = "PackRef")]
    pub fn halt<'e>(&self, env: &'e Env) -> Result<Unknown<'e>> {
        json_out(env, &self.0.halt().map_err(policy_err)?)
    }

    /// Lifts a halt.
    #[napi(ts_return_type = "PackRef")]
    pub fn resume<'e>(&self, env: &'e Env) -> Result<Unknown<'e>> {
        json_out(env, &self.0.resume().map_err(policy_err)?)
    }

    /// Abandons a rollout or shadow, or returns to the previous stable pack.
    #[napi(ts_return_type = "PackRef")]
    pub fn rollback<'e>(&self, env: &'e Env) -> Result<Unknown<'e>> {
        json_out(env, &self.0.rollback().map_err(policy_err)?)
    }

    /// The store's state.
    #[napi(ts_return_type = "StoreStatus")]
    pub fn status<'e>(&self, env: &'e Env) -> Result<Unknown<'e>> {
        json_out(env, &self.0.status())
    }

    /// The pack a tenant's decisions go to now, or `undefined`.
    #[napi(ts_return_type = "PackInfo | undefined")]
    pub fn pack_for<'e>(&self, env: &'e Env, tenant: Option<String>) -> Result<Unknown<'e>> {
        let t = self::tenant(tenant.as_deref())?;
        let info = self.0.pack_for(t.as_ref()).map(|p| p.info());
        json_out_opt(env, info.as_ref())
    }

    /// A typed decision from the tenant's pack (counted, shadowed).
    #[napi(ts_return_type = "Decision")]
    pub fn decide<'e>(
        &self,
        env: &'e Env,
        entrypoint: String,
        input: Unknown<'_>,
        tenant: Option<String>,
    ) -> Result<Unknown<'e>> {
        let t = self::tenant(tenant.as_deref())?;
        let input = json_arg(env, input, "input")?;
        let d = self
            .0
            .decide(t.as_ref(), &entrypoint, &input)
            .map_err(policy_err)?;
        json_out(env, &d)
    }

    /// A document from the tenant's pack on JSON text, giving JSON text or
    /// `undefined` (as `Engine.evaluateJson`). `evaluate` (in index.js) is
    /// `JSON.parse(evaluateJson(path, JSON.stringify(input), tenant))`.
    #[napi(js_name = "evaluateJson", ts_return_type = "string | undefined")]
    pub fn evaluate_json(
        &self,
        path: String,
        input: Option<String>,
        tenant: Option<String>,
    ) -> Result<napi::Either<String, ()>> {
        let t = self::tenant(tenant.as_deref())?;
        let input = input_from_text(input)?;
        let evaluation = self
            .0
            .evaluate(t.as_ref(), &path, input.as_ref())
            .map_err(policy_err)?;
        output_text(evaluation.result.map_err(policy_err)?)
    }

    /// `evaluate`, also returning the pack that answered.
    #[napi]
    pub fn evaluate_with_pack(
        &self,
        env: &Env,
        path: String,
        input: Option<Unknown<'_>>,
        tenant: Option<String>,
    ) -> Result<EvaluatedWithPack> {
        let t = self::tenant(tenant.as_deref())?;
        let input = json_opt(env, input)?;
        let evaluation = self
            .0
            .evaluate(t.as_ref(), &path, input.as_ref())
            .map_err(policy_err)?;
        let result = evaluation
            .result
            .and_then(|r| r.map(|o| o.to_json()).transpose())
            .map_err(policy_err)?;
        Ok(EvaluatedWithPack {
            pack: serde_json::to_value(evaluation.pack.info())
                .map_err(|e| invalid_arg(e.to_string()))?,
            result,
        })
    }
}

/// The tenant's bucket, 0–9999 (a cohort of `percent: p` holds buckets below `p × 100`).
#[napi]
pub fn tenant_bucket(tenant: String) -> Result<u32> {
    let t = cos_core::TenantId::new(&tenant).map_err(core_err)?;
    Ok(u32::from(cos_policy::store::tenant_bucket(&t)))
}

/// Whether a tenant belongs to a cohort (`{name, percent}` or `{name, tenants}`).
#[napi]
pub fn in_cohort(env: &Env, cohort: Unknown<'_>, tenant: String) -> Result<bool> {
    let c: cos_policy::Cohort = from_value(json_arg(env, cohort, "cohort")?, "cohort")?;
    let t = cos_core::TenantId::new(&tenant).map_err(core_err)?;
    Ok(cos_policy::store::in_cohort(&c, &t))
}

// ---------------------------------------------------------------- PackClient

/// Options of `new PackClient(options)`.
#[napi(object)]
pub struct PackClientOptions {
    /// Limit of one attempt, milliseconds (default 30000).
    pub timeout_ms: Option<i64>,
    /// Long polling: with an ETag, ask the server to hold the request this long.
    pub long_poll_ms: Option<i64>,
    /// Largest archive (default 32 MiB).
    pub max_archive_bytes: Option<i64>,
    /// Largest Sigstore bundle (default 1 MiB).
    pub max_bundle_bytes: Option<i64>,
    /// Retries on connection errors, timeouts, 429 and 5xx (default 3).
    pub retries: Option<i64>,
    /// First wait before a retry, milliseconds (default 200), doubled each time.
    pub backoff_ms: Option<i64>,
    /// Longest wait between retries, milliseconds (default 5000).
    pub max_backoff_ms: Option<i64>,
    /// Require a `Digest` header (default true).
    pub require_digest: Option<bool>,
    /// Fetch the Sigstore bundle (default true).
    pub sigstore_bundle: Option<bool>,
    /// Extra request headers.
    pub headers: Option<HashMap<String, String>>,
    /// Verify fetched packs with this key (SPKI PEM) ...
    pub public_key: Option<String>,
    /// ... or keyless: the `trusted_root.json`, ...
    pub trusted_root: Option<Bytes>,
    /// ... the certificate identity ...
    pub identity: Option<String>,
    /// ... and its OIDC issuer.
    pub issuer: Option<String>,
}

/// A blocking HTTP(S) pack client whose requests run off the main thread.
#[napi]
pub struct PackClient {
    client: cos_policy::distribution::http::PackClient,
    key: Option<Arc<dyn cos_core::sigstore::BlobVerifier>>,
}

fn millis(v: Option<i64>, name: &str, default: u64) -> Result<Duration> {
    count(v, name, default).map(Duration::from_millis)
}

#[napi]
impl PackClient {
    /// A client with its own connection pool.
    #[napi(constructor)]
    pub fn new(options: Option<PackClientOptions>) -> Result<Self> {
        let o = options.unwrap_or(PackClientOptions {
            timeout_ms: None,
            long_poll_ms: None,
            max_archive_bytes: None,
            max_bundle_bytes: None,
            retries: None,
            backoff_ms: None,
            max_backoff_ms: None,
            require_digest: None,
            sigstore_bundle: None,
            headers: None,
            public_key: None,
            trusted_root: None,
            identity: None,
            issuer: None,
        });
        let d = ClientOptions::default();
        let key = if o.public_key.is_some() || o.trusted_root.is_some() {
            Some(Arc::from(blob_verifier(
                o.public_key.as_deref(),
                o.trusted_root.as_ref().map(bytes),
                o.identity.as_deref(),
                o.issuer.as_deref(),
            )?))
        } else {
            None
        };
        let options = ClientOptions {
            timeout: millis(o.timeout_ms, "timeoutMs", 30_000)?,
            long_poll: match o.long_poll_ms {
                Some(ms) => Some(millis(Some(ms), "longPollMs", 0)?),
                None => None,
            },
            max_archive_bytes: count(o.max_archive_bytes, "maxArchiveBytes", d.max_archive_bytes)?,
            max_bundle_bytes: count(o.max_bundle_bytes, "maxBundleBytes", d.max_bundle_bytes)?,
            retries: u32::try_from(count(o.retries, "retries", u64::from(d.retries))?)
                .map_err(|_| invalid_arg("retries is too large"))?,
            backoff: millis(o.backoff_ms, "backoffMs", 200)?,
            max_backoff: millis(o.max_backoff_ms, "maxBackoffMs", 5_000)?,
            require_digest: o.require_digest.unwrap_or(d.require_digest),
            sigstore_bundle: o.sigstore_bundle.unwrap_or(d.sigstore_bundle),
            headers: o.headers.unwrap_or_default().into_iter().collect(),
        };
        Ok(PackClient {
            client: cos_policy::distribution::http::PackClient::new(options),
            key,
        })
    }

    /// GETs a pack (conditionally with `etag`): `null` when not modified,
    /// else the `FetchedPack` (verified into `.pack` when the client has a key).
    #[napi(ts_return_type = "Promise<FetchedPack | null>")]
    pub fn fetch(&self, url: String, etag: Option<String>) -> AsyncTask<Fetch> {
        AsyncTask::new(Fetch {
            client: self.client.clone(),
            key: self.key.clone(),
            url,
            etag,
        })
    }

    /// GETs a Sigstore bundle.
    #[napi(ts_return_type = "Promise<Buffer>")]
    pub fn fetch_attestation(&self, url: String) -> AsyncTask<FetchBundle> {
        AsyncTask::new(FetchBundle {
            client: self.client.clone(),
            url,
        })
    }

    /// Keeps `store` up to date from `url` on a background thread until
    /// `poller.stop()`: fetches (conditionally, long-polling when
    /// configured), activates every new pack, waits `intervalMs` (default
    /// 1000) between rounds. Failures leave the store as it was and are
    /// counted in the poller.
    #[napi]
    pub fn poll(
        &self,
        url: String,
        store: &PolicyStore,
        interval_ms: Option<i64>,
    ) -> Result<Poller> {
        let interval = millis(interval_ms, "intervalMs", 1000)?;
        let stop = Arc::new(AtomicBool::new(false));
        let errors = Arc::new(AtomicU32::new(0));
        let last_error: Arc<Mutex<Option<(&'static str, String)>>> = Arc::default();
        let client = self.client.clone();
        let store = Arc::clone(&store.0);
        let (s, n, last) = (
            Arc::clone(&stop),
            Arc::clone(&errors),
            Arc::clone(&last_error),
        );
        let handle = std::thread::Builder::new()
            .name("cos-pack-poll".into())
            .spawn(move || {
                client.poll(
                    &url,
                    interval,
                    |c| store.activate(c),
                    |e| {
                        n.fetch_add(1, Ordering::Relaxed);
                        if let Ok(mut l) = last.lock() {
                            *l = Some((e.code(), e.to_string()));
                        }
                    },
                    || s.load(Ordering::Relaxed),
                );
            })
            .map_err(|e| invalid_arg(format!("cannot start the polling thread: {e}")))?;
        Ok(Poller {
            stop,
            errors,
            last_error,
            handle: Mutex::new(Some(handle)),
        })
    }

    /// `poll`, calling `onEvent(event)` on the main thread after each round:
    /// `{kind: "activated" | "unchanged" | "refused" | "failed", activation:
    /// {status, pack} | null, etag: string | null, error: {code, message} |
    /// null, nextWaitMs}` (`nextWaitMs` 0 when a long poll goes straight
    /// back). The poller counts failures as `poll` does; an `onEvent` that
    /// throws is an uncaught exception, as in an event listener.
    #[napi(
        ts_args_type = "url: string, store: PolicyStore, onEvent: (event: PollEvent) => void, intervalMs?: number"
    )]
    pub fn poll_observed(
        &self,
        url: String,
        store: &PolicyStore,
        on_event: Function<'_, serde_json::Value, Unknown<'static>>,
        interval_ms: Option<i64>,
    ) -> Result<Poller> {
        let interval = millis(interval_ms, "intervalMs", 1000)?;
        // Weak: a running poller does not keep the process alive (as `poll`).
        let notify = on_event
            .build_threadsafe_function::<serde_json::Value>()
            .callee_handled::<false>()
            .weak::<true>()
            .build()
            .map_err(|e| invalid_arg(format!("onEvent: {}", e.reason)))?;
        let stop = Arc::new(AtomicBool::new(false));
        let errors = Arc::new(AtomicU32::new(0));
        let last_error: Arc<Mutex<Option<(&'static str, String)>>> = Arc::default();
        let client = self.client.clone();
        let store = Arc::clone(&store.0);
        let (s, n, last) = (
            Arc::clone(&stop),
            Arc::clone(&errors),
            Arc::clone(&last_error),
        );
        let handle = std::thread::Builder::new()
            .name("cos-pack-poll".into())
            .spawn(move || {
                client.poll_observed(
                    &url,
                    interval,
                    |c| store.activate(c),
                    |event| {
                        if let Some(e) = event.error() {
                            n.fetch_add(1, Ordering::Relaxed);
                            if let Ok(mut l) = last.lock() {
                                *l = Some((e.code(), e.to_string()));
                            }
                        }
                        if let Ok(mut v) = serde_json::to_value(event) {
                            // JavaScript's casing for the one key of two words.
                            if let Some(o) = v.as_object_mut()
                                && let Some(w) = o.remove("next_wait_ms")
                            {
                                o.insert("nextWaitMs".to_owned(), w);
                            }
                            notify.call(v, ThreadsafeFunctionCallMode::NonBlocking);
                        }
                    },
                    || s.load(Ordering::Relaxed),
                );
            })
            .map_err(|e| invalid_arg(format!("cannot start the polling thread: {e}")))?;
        Ok(Poller {
            stop,
            errors,
            last_error,
            handle: Mutex::new(Some(handle)),
        })
    }
}

/// `PackClient.fetch` off the main thread.
pub struct Fetch {
    client: cos_policy::distribution::http::PackClient,
    key: Option<Arc<dyn cos_core::sigstore::BlobVerifier>>,
    url: String,
    etag: Option<String>,
}

impl Task for Fetch {
    type Output = std::result::Result<Option<FetchedPack>, cos_policy::Error>;
    type JsValue = Option<FetchedPack>;

    fn compute(&mut self) -> napi::Result<Self::Output> {
        let limits = cos_policy::Limits {
            max_decompressed_size: self.client.options().max_archive_bytes,
            ..Default::default()
        };
        let run = || -> cos_policy::Result<Option<FetchedPack>> {
            let Some(fetched) = self.client.fetch(&self.url, self.etag.as_deref())? else {
                return Ok(None);
            };
            let pack = match &self.key {
                Some(k) => Some(Arc::new(fetched.verify(k.as_ref(), &limits)?.pack)),
                None => None,
            };
            Ok(Some(FetchedPack { fetched, pack }))
        };
        Ok(run())
    }

    fn resolve(&mut self, env: Env, output: Self::Output) -> napi::Result<Option<FetchedPack>> {
        output.map_err(|e| rejection(&env, e.code(), e.to_string()))
    }
}

/// `PackClient.fetchAttestation` off the main thread.
pub struct FetchBundle {
    client: cos_policy::distribution::http::PackClient,
    url: String,
}

impl Task for FetchBundle {
    type Output = std::result::Result<Vec<u8>, cos_policy::Error>;
    type JsValue = Buffer;

    fn compute(&mut self) -> napi::Result<Self::Output> {
        Ok(self.client.fetch_attestation(&self.url))
    }

    fn resolve(&mut self, env: Env, output: Self::Output) -> napi::Result<Buffer> {
        output
            .map(Buffer::from)
            .map_err(|e| rejection(&env, e.code(), e.to_string()))
    }
}

/// A pack fetched over HTTP(S), its `Digest` checked.
#[napi]
pub struct FetchedPack {
    fetched: Fetched,
    pack: Option<Arc<cos_policy::Pack>>,
}

#[napi]
impl FetchedPack {
    /// The URL it came from.
    #[napi(getter)]
    pub fn url(&self) -> String {
        self.fetched.url.clone()
    }

    /// The archive's bytes.
    #[napi(getter)]
    pub fn archive(&self) -> Buffer {
        self.fetched.archive.clone().into()
    }

    /// The `ETag`, for the next conditional fetch.
    #[napi(getter)]
    pub fn etag(&self) -> Option<String> {
        self.fetched.etag.clone()
    }

    /// The digest the server announced (and the body matched).
    #[napi(getter)]
    pub fn digest(&self) -> Option<String> {
        self.fetched.digest.as_ref().map(|d| d.to_string())
    }

    /// The Sigstore bundle.
    #[napi(getter)]
    pub fn sigstore_bundle(&self) -> Option<Buffer> {
        self.fetched.sigstore_bundle.clone().map(Buffer::from)
    }

    /// The verified pack, when the client has a key.
    #[napi(getter)]
    pub fn pack(&self) -> Option<Pack> {
        self.pack.as_ref().map(|p| Pack(Arc::clone(p)))
    }
}

/// A polling loop started by `PackClient.poll`.
#[napi]
pub struct Poller {
    stop: Arc<AtomicBool>,
    errors: Arc<AtomicU32>,
    last_error: Arc<Mutex<Option<(&'static str, String)>>>,
    handle: Mutex<Option<JoinHandle<()>>>,
}

/// The last error a poller saw.
#[napi(object)]
pub struct PollError {
    /// The error's code.
    pub code: String,
    /// Its message.
    pub message: String,
}

#[napi]
impl Poller {
    /// Asks the loop to stop (it ends within about 50 ms, or when a long
    /// poll in progress returns).
    #[napi]
    pub fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
    }

    /// Whether the loop is still running.
    #[napi(getter)]
    pub fn running(&self) -> bool {
        self.handle
            .lock()
            .map(|h| h.as_ref().is_some_and(|h| !h.is_finished()))
            .unwrap_or(false)
    }

    /// Failed fetches and refused packs so far.
    #[napi(getter)]
    pub fn errors(&self) -> u32 {
        self.errors.load(Ordering::Relaxed)
    }

    /// The last of them, if any.
    #[napi(getter)]
    pub fn last_error(&self) -> Option<PollError> {
        let last = self.last_error.lock().ok()?;
        last.as_ref().map(|(code, message)| PollError {
            code: (*code).to_owned(),
            message: message.clone(),
        })
    }
}

impl Drop for Poller {
    fn drop(&mut self) {
        // Garbage-collected without stop(): the loop ends all the same.
        self.stop.store(true, Ordering::Relaxed);
    }
}
