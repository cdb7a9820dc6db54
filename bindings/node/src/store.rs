//! `PolicyStore`, `PackClient`, `tenantBucket`, `inCohort`: cos_policy::store
//! and cos_policy::distribution::http, mapped.

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use cos_policy::distribution::http::{ClientConfig, Fetched};
use cos_policy::store::{Activation, Candidate, StoreConfig};
use napi::bindgen_prelude::{AsyncTask, Buffer, Function};
use napi::threadsafe_function::ThreadsafeFunctionCallMode;
use napi::{Env, ScopedTask, Task, Unknown};
use napi_derive::napi;

use crate::{
    Bytes, Pack, Result, bytes, core_err, from_value, input_from_text, invalid_arg, json_arg,
    json_opt, output_text, policy_err, rejection, shape, shape_out, shape_out_opt, trust_verifier,
};

/// `new PolicyStore(options)`'s options: `cos_policy::store::StoreConfig`
/// in camelCase, its Sigstore trust made a verifier by cos-supplychain.
fn store_options(env: &Env, o: Option<Unknown<'_>>) -> Result<cos_policy::store::StoreOptions> {
    let config: StoreConfig = shape::options(json_opt(env, o)?, "PolicyStore options")?;
    let sigstore = trust_verifier(config.sigstore_trust())?.map(Arc::from);
    config.into_options(sigstore).map_err(policy_err)
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
        shape_out(env, &a).map_err(|e| rejection(env, e.status, e.reason))
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
        shape_out(env, &a)
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
    #[napi(constructor, ts_args_type = "options?: StoreOptions")]
    pub fn new(env: &Env, options: Option<Unknown<'_>>) -> Result<Self> {
        Ok(PolicyStore(Arc::new(cos_policy::store::PolicyStore::new(
            store_options(env, options)?,
        ))))
    }

    /// A store started from the last known good pack in `stateDir`,
    /// verified again; empty when there is none.
    #[napi(factory, ts_args_type = "options?: StoreOptions")]
    pub fn open(env: &Env, options: Option<Unknown<'_>>) -> Result<Self> {
        cos_policy::store::PolicyStore::open(store_options(env, options)?)
            .map(|s| PolicyStore(Arc::new(s)))
            .map_err(policy_err)
    }

    /// `open` on the libuv thread pool.
    #[napi(
        ts_args_type = "options?: StoreOptions",
        ts_return_type = "Promise<PolicyStore>"
    )]
    pub fn open_async(env: &Env, options: Option<Unknown<'_>>) -> Result<AsyncTask<OpenStore>> {
        Ok(AsyncTask::new(OpenStore(Some(store_options(
            env, options,
        )?))))
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
        shape_out(env, &self.0.promote().map_err(policy_err)?)
    }

    /// Freezes a rollout at its current cohorts.
    #[napi(ts_return_type = "PackRef")]
    pub fn halt<'e>(&self, env: &'e Env) -> Result<Unknown<'e>> {
        shape_out(env, &self.0.halt().map_err(policy_err)?)
    }

    /// Lifts a halt.
    #[napi(ts_return_type = "PackRef")]
    pub fn resume<'e>(&self, env: &'e Env) -> Result<Unknown<'e>> {
        shape_out(env, &self.0.resume().map_err(policy_err)?)
    }

    /// Abandons a rollout or shadow, or returns to the previous stable pack.
    #[napi(ts_return_type = "PackRef")]
    pub fn rollback<'e>(&self, env: &'e Env) -> Result<Unknown<'e>> {
        shape_out(env, &self.0.rollback().map_err(policy_err)?)
    }

    /// The store's state.
    #[napi(ts_return_type = "StoreStatus")]
    pub fn status<'e>(&self, env: &'e Env) -> Result<Unknown<'e>> {
        shape_out(env, &self.0.status())
    }

    /// The pack a tenant's decisions go to now, or `undefined`.
    #[napi(ts_return_type = "PackInfo | undefined")]
    pub fn pack_for<'e>(&self, env: &'e Env, tenant: Option<String>) -> Result<Unknown<'e>> {
        let t = self::tenant(tenant.as_deref())?;
        let info = self.0.pack_for(t.as_ref()).map(|p| p.info());
        shape_out_opt(env, info.as_ref())
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
        shape_out(env, &d)
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
    #[napi(ts_return_type = "EvaluatedWithPack")]
    pub fn evaluate_with_pack<'e>(
        &self,
        env: &'e Env,
        path: String,
        input: Option<Unknown<'_>>,
        tenant: Option<String>,
    ) -> Result<Unknown<'e>> {
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
        shape_out(
            env,
            &cos_policy::store::Evaluated {
                pack: evaluation.pack.info(),
                result,
            },
        )
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

/// A blocking HTTP(S) pack client whose requests run off the main thread.
#[napi]
pub struct PackClient {
    client: cos_policy::distribution::http::PackClient,
    key: Option<Arc<dyn cos_core::sigstore::BlobVerifier>>,
}

fn millis(v: Option<i64>, name: &str, default: u64) -> Result<Duration> {
    let ms = match v {
        None => default,
        Some(n) => u64::try_from(n).map_err(|_| invalid_arg(format!("{name} {n} is negative")))?,
    };
    Ok(Duration::from_millis(ms))
}

#[napi]
impl PackClient {
    /// A client with its own connection pool: `cos_policy::distribution::http::ClientConfig` in camelCase.
    #[napi(constructor, ts_args_type = "options?: PackClientOptions")]
    pub fn new(env: &Env, options: Option<Unknown<'_>>) -> Result<Self> {
        let config: ClientConfig = shape::options(json_opt(env, options)?, "PackClient options")?;
        let key = trust_verifier(config.sigstore_trust())?.map(Arc::from);
        Ok(PackClient {
            client: cos_policy::distribution::http::PackClient::new(config.into()),
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
                        // JavaScript's casing, by the shared serializer.
                        if let Ok(v) = shape::to_value(event) {
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
