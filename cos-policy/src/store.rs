//! Packs that change while a service runs: hot reload with last known good,
//! rollback, cohort rollout and shadow evaluation.
//!
//! A [`PolicyStore`] holds the packs a service decides with. Every pack that
//! enters it is a [`Candidate`] (archive bytes, optionally with a Sigstore
//! bundle) and is **verified before it decides anything**: the signatures the
//! store is configured to require (OPA `.signatures.json`, Sigstore bundle),
//! the archive parses within the limits, the policy compiles, and the tests
//! it carries pass ([`TestPolicy`]). Only then does it become active, by an
//! atomic swap: a decision already running keeps the pack it started with, a
//! new decision takes the new one, and none waits for a load or fails
//! because of it.
//!
//! - **Last known good**: with a state directory, every pack that becomes
//!   the stable one is written there (content-addressed files and a pointer
//!   replaced atomically); [`PolicyStore::open`] starts from it, verified
//!   again, when the pack server is down.
//! - **Rollback**: [`PolicyStore::rollback`] returns to the previous stable
//!   pack (kept in memory), or abandons a rollout or shadow in progress. A
//!   pack whose manifest asks for `rollback: {strategy: automatic}` is rolled
//!   back by the store itself when its error rate or its deny-rate increase
//!   passes the manifest's thresholds. An older version is refused by
//!   [`PolicyStore::activate`] ([`Error::OlderVersion`]); going back is only
//!   done on purpose ([`PolicyStore::rollback`], [`PolicyStore::roll_back_to`]).
//! - **Cohorts**: [`PolicyStore::start_rollout`] activates a candidate for the
//!   first cohort of its manifest only; [`PolicyStore::promote`] extends it
//!   cohort by cohort and finally makes it the stable pack; [`PolicyStore::halt`]
//!   freezes it. Tenants are assigned by hashing the tenant id
//!   ([`tenant_bucket`]), so a tenant stays in its cohort across versions,
//!   processes and machines. Two versions decide at once during a rollout.
//! - **Shadow**: [`PolicyStore::start_shadow`] evaluates a candidate beside
//!   the pack that decides, on a share of live decisions, counting (and
//!   reporting to an observer) every difference; promotion out of the shadow
//!   is refused while the difference rate or the deny-rate increase passes
//!   the candidate manifest's `shadow` thresholds.
//!
//! ```
//! use cos_policy::store::{Candidate, PolicyStore, StoreOptions};
//! # let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
//! #     .join("../examples/policy-packs/companyos-baseline");
//! # let pack = cos_policy::Pack::load(&dir, &Default::default()).unwrap();
//! # let archive = pack.build_bundle_with_tests().unwrap();
//! let store = PolicyStore::new(StoreOptions::default());
//! store.activate(Candidate::new(archive))?; // verified, compiled, tested, swapped in
//!
//! let input = serde_json::json!({"dataset": {"id": "d1", "residency": "EU-Only", "classification": "CONFIDENTIAL"},
//!                                "destination": {"region": "DE"}});
//! let decision = store.decide(None, "residency", &input)?;
//! assert!(decision.allow);
//! # Ok::<(), cos_policy::Error>(())
//! ```

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, SystemTime};

use cos_core::sigstore::BlobVerifier;
use cos_core::{Digest, DigestAlgorithm, PublicKey, TenantId};
use serde::{Deserialize, Serialize};

use crate::bundle::manifest::{Cohort, RollbackStrategy, ShadowPlan};
use crate::bundle::pack::{Limits, Pack};
use crate::bundle::signature::SignatureOptions;
use crate::decision::{Decision, PackRef, rfc3339};
use crate::engine::{EngineOptions, InputRef, Output, PolicyEngine};
use crate::error::{DistributionError, Error, Result};

/// A pack offered to the store: the archive (a `.tar.gz` pack or OPA
/// bundle) and, when it came with one, its Sigstore bundle.
#[derive(Debug, Clone)]
pub struct Candidate {
    /// The archive's bytes.
    pub archive: Vec<u8>,
    /// The Sigstore bundle (JSON) signing the archive, if any.
    pub sigstore_bundle: Option<Vec<u8>>,
}

impl Candidate {
    /// A candidate without a Sigstore bundle.
    pub fn new(archive: Vec<u8>) -> Self {
        Candidate {
            archive,
            sigstore_bundle: None,
        }
    }

    /// The same candidate with its Sigstore bundle.
    pub fn with_sigstore_bundle(mut self, bundle: Vec<u8>) -> Self {
        self.sigstore_bundle = Some(bundle);
        self
    }
}

/// Whether a candidate's own tests must run (and pass) before it activates.
///
/// In JSON (the bindings' `tests` option): `"required"`, `"if_present"`,
/// `"skip"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TestPolicy {
    /// The candidate must carry tests, and all must pass.
    Required,
    /// Tests it carries must pass (the default; `cos pack build
    /// --with-tests` keeps them in the archive).
    #[default]
    IfPresent,
    /// Tests are not run.
    Skip,
}

/// Default time limit of each test of a candidate pack (`opa test`'s
/// default `--timeout`).
pub const DEFAULT_TEST_TIMEOUT: Duration = Duration::from_secs(5);

/// Default time limit of a candidate pack's compile.
pub const DEFAULT_COMPILE_TIMEOUT: Duration = Duration::from_secs(30);

/// Default [`StoreOptions::history`].
pub const DEFAULT_HISTORY: usize = 4;

/// Default [`StoreOptions::min_samples`].
pub const DEFAULT_MIN_SAMPLES: u64 = 100;

/// What the store checks and keeps.
#[derive(Clone)]
pub struct StoreOptions {
    /// How engines evaluate.
    pub engine: EngineOptions,
    /// Limits on candidate archives.
    pub limits: Limits,
    /// Require an OPA `.signatures.json` made with this key.
    pub opa_signature: Option<(PublicKey, SignatureOptions)>,
    /// Require a Sigstore bundle that this verifier accepts (a public key,
    /// or a keyless verifier with a trusted root and identity).
    pub sigstore: Option<Arc<dyn BlobVerifier>>,
    /// Whether the candidate's tests run before activation.
    pub tests: TestPolicy,
    /// Time limit of each of the candidate's tests (default 5 s, as `opa
    /// test --timeout`; `None`: the engine's own limit). A test that runs
    /// out of time is an error, so the candidate is refused.
    pub test_timeout: Option<Duration>,
    /// Time limit of a candidate's compile (`None`: none); past it the
    /// candidate is refused with a `timeout` (see
    /// [`PolicyEngine::new_within`]). 30 s by default.
    pub compile_timeout: Option<Duration>,
    /// Where the last known good pack is kept (created if missing).
    pub state_dir: Option<PathBuf>,
    /// The name every pack of this store must have. `None`: the name of
    /// the first pack activated (or of the last known good loaded at
    /// start), so that another pack signed by the same key cannot take its
    /// place.
    pub pack_name: Option<String>,
    /// How many earlier stable packs are kept for [`PolicyStore::rollback`].
    pub history: usize,
    /// Decisions a pack must have made before automatic rollback judges it
    /// (and, for the pack it is compared with, before its deny rate counts).
    pub min_samples: u64,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            engine: EngineOptions::default(),
            limits: Limits::default(),
            opa_signature: None,
            sigstore: None,
            tests: TestPolicy::default(),
            test_timeout: Some(DEFAULT_TEST_TIMEOUT),
            compile_timeout: Some(DEFAULT_COMPILE_TIMEOUT),
            state_dir: None,
            pack_name: None,
            history: DEFAULT_HISTORY,
            min_samples: DEFAULT_MIN_SAMPLES,
        }
    }
}

impl std::fmt::Debug for StoreOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreOptions")
            .field("engine", &self.engine)
            .field("limits", &self.limits)
            .field("opa_signature", &self.opa_signature.is_some())
            .field("sigstore", &self.sigstore.is_some())
            .field("tests", &self.tests)
            .field("test_timeout", &self.test_timeout)
            .field("compile_timeout", &self.compile_timeout)
            .field("state_dir", &self.state_dir)
            .field("pack_name", &self.pack_name)
            .field("history", &self.history)
            .field("min_samples", &self.min_samples)
            .finish()
    }
}

/// The options of a store as the bindings take them (Python keyword
/// arguments of `PolicyStore(...)`, the JavaScript object of `new
/// PolicyStore({...})`): plain data, its defaults those of
/// [`StoreOptions::default`], made [`StoreOptions`] by
/// [`StoreConfig::into_options`] (or `TryFrom` when no trusted root is
/// named). Times are milliseconds. See ADR-0020.
///
/// ```
/// use cos_policy::store::{StoreConfig, StoreOptions};
/// let config: StoreConfig = serde_json::from_str(r#"{"history": 2, "timeout_ms": 250}"#)?;
/// let options = StoreOptions::try_from(config)?;
/// assert_eq!(options.history, 2);
/// assert_eq!(options.min_samples, 100);
/// assert!(serde_json::from_str::<StoreConfig>(r#"{"histroy": 2}"#).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StoreConfig {
    /// Require an OPA `.signatures.json` made with this key (SPKI PEM).
    pub opa_public_key: Option<String>,
    /// The `kid` the OPA signature must carry.
    pub opa_key_id: Option<String>,
    /// The `scope` the OPA signature must carry.
    pub opa_scope: Option<String>,
    /// Require a Sigstore bundle signed with this key (SPKI PEM) ...
    pub public_key: Option<String>,
    /// ... or keyless: the `trusted_root.json`, ...
    pub trusted_root: Option<cos_core::shape::Blob>,
    /// ... the certificate identity ...
    pub identity: Option<String>,
    /// ... and its OIDC issuer.
    pub issuer: Option<String>,
    /// Whether the candidate's own tests run ([`TestPolicy`]).
    pub tests: TestPolicy,
    /// Where the last known good pack is kept.
    pub state_dir: Option<PathBuf>,
    /// Earlier stable packs kept for `rollback()`.
    pub history: usize,
    /// Decisions before automatic rollback judges a pack.
    pub min_samples: u64,
    /// OPA's `--strict-builtin-errors`.
    pub strict_builtin_errors: bool,
    /// Wall-clock limit of one evaluation, milliseconds.
    pub timeout_ms: u64,
    /// Time limit of each of a candidate's tests, milliseconds (0: the
    /// evaluation limit, `timeout_ms`).
    pub test_timeout_ms: u64,
    /// The name every pack must have (default: the first pack activated's).
    pub pack_name: Option<String>,
    /// Time limit of a candidate's compile, milliseconds (0: none).
    pub compile_timeout_ms: u64,
}

fn millis(d: Option<Duration>) -> u64 {
    d.map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

fn nonzero_millis(ms: u64) -> Option<Duration> {
    (ms > 0).then(|| Duration::from_millis(ms))
}

impl Default for StoreConfig {
    /// [`StoreOptions::default`], as data.
    fn default() -> Self {
        let d = StoreOptions::default();
        StoreConfig {
            opa_public_key: None,
            opa_key_id: None,
            opa_scope: None,
            public_key: None,
            trusted_root: None,
            identity: None,
            issuer: None,
            tests: d.tests,
            state_dir: d.state_dir,
            history: d.history,
            min_samples: d.min_samples,
            strict_builtin_errors: d.engine.strict_builtin_errors,
            timeout_ms: millis(d.engine.time_limit),
            test_timeout_ms: millis(d.test_timeout),
            pack_name: d.pack_name,
            compile_timeout_ms: millis(d.compile_timeout),
        }
    }
}

impl StoreConfig {
    /// The Sigstore trust these options name, if any: make it a verifier
    /// with `cos_supplychain::sigstore::verifier` and pass it to
    /// [`StoreConfig::into_options`].
    pub fn sigstore_trust(&self) -> Option<cos_core::shape::SigstoreTrust<'_>> {
        cos_core::shape::SigstoreTrust::named(
            self.public_key.as_deref(),
            self.trusted_root.as_ref(),
            self.identity.as_deref(),
            self.issuer.as_deref(),
        )
    }

    /// The runtime options, with `sigstore` the verifier made of
    /// [`StoreConfig::sigstore_trust`] (`None` when that is `None`). The
    /// OPA public key is parsed here ([`Error::Core`], `invalid_key`).
    pub fn into_options(self, sigstore: Option<Arc<dyn BlobVerifier>>) -> Result<StoreOptions> {
        let opa_signature = match self.opa_public_key {
            Some(pem) => Some((
                PublicKey::from_pem(&pem)?,
                SignatureOptions {
                    key_id: self.opa_key_id,
                    scope: self.opa_scope,
                },
            )),
            None => None,
        };
        Ok(StoreOptions {
            engine: EngineOptions {
                strict_builtin_errors: self.strict_builtin_errors,
                time_limit: Some(Duration::from_millis(self.timeout_ms)),
                ..EngineOptions::default()
            },
            opa_signature,
            sigstore,
            tests: self.tests,
            test_timeout: nonzero_millis(self.test_timeout_ms),
            compile_timeout: nonzero_millis(self.compile_timeout_ms),
            state_dir: self.state_dir,
            pack_name: self.pack_name,
            history: self.history,
            min_samples: self.min_samples,
            ..StoreOptions::default()
        })
    }
}

impl TryFrom<StoreConfig> for StoreOptions {
    type Error = Error;

    /// [`StoreConfig::into_options`] with the Sigstore trust a public key
    /// alone (key mode; log entries unchecked). A trusted root needs
    /// `cos_supplychain::sigstore::verifier`: refused here
    /// (`bundle_verification_failed`) rather than ignored.
    fn try_from(config: StoreConfig) -> Result<StoreOptions> {
        if config.trusted_root.is_some() {
            return Err(DistributionError::BundleVerification {
                reason: "a trusted root needs cos_supplychain::sigstore::verifier: use \
                         StoreConfig::into_options"
                    .into(),
            }
            .into());
        }
        let sigstore = match &config.public_key {
            Some(pem) => Some(Arc::new(PublicKey::from_pem(pem)?) as Arc<dyn BlobVerifier>),
            None => None,
        };
        config.into_options(sigstore)
    }
}

/// Counters of one pack's decisions.
#[derive(Debug, Default)]
struct Counters {
    decisions: AtomicU64,
    denies: AtomicU64,
    errors: AtomicU64,
}

/// A snapshot of a pack's counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct PackStats {
    /// Decisions and evaluations made (errors included).
    pub decisions: u64,
    /// Decisions that denied.
    pub denies: u64,
    /// Evaluations that failed.
    pub errors: u64,
}

impl PackStats {
    /// Denies over decisions (0 with no decisions).
    pub fn deny_rate(&self) -> f64 {
        ratio(self.denies, self.decisions)
    }

    /// Errors over decisions (0 with no decisions).
    pub fn error_rate(&self) -> f64 {
        ratio(self.errors, self.decisions)
    }
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

/// A verified, compiled pack held by the store.
#[derive(Debug)]
pub struct ActivePack {
    engine: PolicyEngine,
    archive: Arc<[u8]>,
    sigstore_bundle: Option<Arc<[u8]>>,
    archive_digest: Digest,
    verified_at: SystemTime,
    counters: Counters,
}

impl ActivePack {
    /// The compiled pack.
    pub fn engine(&self) -> &PolicyEngine {
        &self.engine
    }

    /// Name, version, revision and content digest of the pack.
    pub fn pack(&self) -> &PackRef {
        self.engine.pack()
    }

    /// The archive it came in.
    pub fn archive(&self) -> &[u8] {
        &self.archive
    }

    /// SHA-256 of the archive it came in.
    pub fn archive_digest(&self) -> &Digest {
        &self.archive_digest
    }

    /// When it passed verification.
    pub fn verified_at(&self) -> SystemTime {
        self.verified_at
    }

    /// Its decision counters so far.
    pub fn stats(&self) -> PackStats {
        PackStats {
            decisions: self.counters.decisions.load(Ordering::Relaxed),
            denies: self.counters.denies.load(Ordering::Relaxed),
            errors: self.counters.errors.load(Ordering::Relaxed),
        }
    }

    /// What [`PolicyStore::status`] reports of it.
    pub fn info(&self) -> PackInfo {
        let p = self.pack();
        PackInfo {
            name: p.name.clone(),
            version: p.version.clone(),
            revision: p.revision.clone(),
            digest: p.digest.clone(),
            archive_digest: self.archive_digest.to_string(),
            verified_at: rfc3339(self.verified_at),
            stats: self.stats(),
        }
    }

    fn count<T>(&self, result: &Result<T>, allowed: impl Fn(&T) -> bool) {
        self.counters.decisions.fetch_add(1, Ordering::Relaxed);
        match result {
            Ok(v) if !allowed(v) => {
                self.counters.denies.fetch_add(1, Ordering::Relaxed);
            }
            Ok(_) => {}
            Err(_) => {
                self.counters.errors.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

/// A pack rolling out cohort by cohort.
#[derive(Debug, Clone)]
struct Rollout {
    pack: Arc<ActivePack>,
    /// Cohorts `0..=stage` of the pack's manifest decide with it.
    stage: usize,
    halted: bool,
}

/// A pack evaluated in the shadow of the deciding one.
#[derive(Debug)]
struct Shadow {
    pack: Arc<ActivePack>,
    plan: ShadowPlan,
    seen: AtomicU64,
    compared: AtomicU64,
    differences: AtomicU64,
    active_denies: AtomicU64,
    candidate_denies: AtomicU64,
    candidate_errors: AtomicU64,
}

/// What the store decides with, swapped as a whole.
#[derive(Debug, Default, Clone)]
struct State {
    stable: Option<Arc<ActivePack>>,
    rollout: Option<Rollout>,
    shadow: Option<Arc<Shadow>>,
    /// Earlier stable packs, most recent last.
    history: Vec<Arc<ActivePack>>,
}

impl State {
    fn assign(&self, tenant: Option<&TenantId>) -> Option<&Arc<ActivePack>> {
        if let (Some(r), Some(t)) = (&self.rollout, tenant) {
            let cohorts = &r.pack.engine.manifest().cohorts;
            if cohorts.iter().take(r.stage + 1).any(|c| in_cohort(c, t)) {
                return Some(&r.pack);
            }
        }
        self.stable.as_ref()
    }
}

/// The bucket of a tenant, 0–9,999: the first eight bytes of SHA-256 of the
/// tenant id, big-endian, modulo 10,000. A cohort of `percent: p` holds the
/// tenants whose bucket is below `p × 100`, so cohorts of growing
/// percentages nest, and a tenant's assignment does not depend on the pack,
/// the process or the machine.
pub fn tenant_bucket(tenant: &TenantId) -> u16 {
    let d = Digest::of_bytes(DigestAlgorithm::Sha256, tenant.as_str().as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&d.as_bytes()[..8]);
    (u64::from_be_bytes(first) % 10_000) as u16
}

/// Whether a tenant belongs to a cohort.
pub fn in_cohort(cohort: &Cohort, tenant: &TenantId) -> bool {
    if let Some(list) = &cohort.tenants {
        return list.iter().any(|t| t == tenant);
    }
    match cohort.percent {
        Some(p) => f64::from(tenant_bucket(tenant)) < p * 100.0,
        None => false,
    }
}

/// What happened to the store, newest last in [`StoreStatus::events`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoreEvent {
    /// RFC 3339 time.
    pub time: String,
    /// What happened: `activated`, `refused`, `rolled_back`,
    /// `rolled_back_automatically`, `rollout_started`, `promoted`, `halted`,
    /// `resumed`, `shadow_started`, `loaded_last_known_good`.
    pub kind: String,
    /// The pack concerned (`name@version (revision)`), when known.
    pub pack: Option<String>,
    /// Details: the refusal's error, the threshold passed.
    pub detail: Option<String>,
}

/// A pack as reported by [`PolicyStore::status`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PackInfo {
    /// Pack name.
    pub name: String,
    /// Pack version.
    pub version: String,
    /// Pack revision.
    pub revision: String,
    /// Digest of the pack's files.
    pub digest: String,
    /// Digest of the archive it came in.
    pub archive_digest: String,
    /// When it was verified (RFC 3339).
    pub verified_at: String,
    /// Its decisions so far.
    pub stats: PackStats,
}

/// A rollout as reported by [`PolicyStore::status`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RolloutInfo {
    /// The pack rolling out.
    pub pack: PackInfo,
    /// The cohorts deciding with it so far.
    pub cohorts: Vec<String>,
    /// The cohorts still to come.
    pub remaining: Vec<String>,
    /// Whether promotion is frozen.
    pub halted: bool,
}

/// A shadow evaluation as reported by [`PolicyStore::status`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ShadowInfo {
    /// The candidate.
    pub pack: PackInfo,
    /// Decisions compared.
    pub compared: u64,
    /// Compared decisions that differed.
    pub differences: u64,
    /// Share of compared decisions that differed.
    pub difference_rate: f64,
    /// The deciding pack's deny rate on the compared decisions.
    pub active_deny_rate: f64,
    /// The candidate's deny rate on the compared decisions.
    pub candidate_deny_rate: f64,
    /// Evaluation errors on the candidate.
    pub candidate_errors: u64,
    /// The thresholds it is judged by.
    pub plan: ShadowPlan,
}

/// The store's state, for health endpoints and metrics.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoreStatus {
    /// The pack every tenant outside a rollout decides with.
    pub stable: Option<PackInfo>,
    /// A rollout in progress.
    pub rollout: Option<RolloutInfo>,
    /// A shadow evaluation in progress.
    pub shadow: Option<ShadowInfo>,
    /// Earlier stable packs available to [`PolicyStore::rollback`], most
    /// recent last.
    pub history: Vec<PackInfo>,
    /// Candidates activated (stable or rollout) since start.
    pub activations: u64,
    /// Candidates refused since start.
    pub refusals: u64,
    /// Rollbacks since start (explicit and automatic).
    pub rollbacks: u64,
    /// The last refusal or failure, if any since the last activation.
    pub last_error: Option<StoreEvent>,
    /// The latest events (at most 64).
    pub events: Vec<StoreEvent>,
}

/// A document evaluated by the store, with the pack that answered
/// (an [`Evaluation`] of [`PolicyStore::evaluate`] as data: what the
/// bindings' `evaluate_with_pack` returns).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evaluated {
    /// The pack that answered.
    pub pack: PackInfo,
    /// The document; absent when it is undefined.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<serde_json::Value>,
}

/// One difference seen by shadow evaluation (no input: log it yourself if
/// your decision log may hold it).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ShadowDifference {
    /// The entrypoint or document evaluated.
    pub path: String,
    /// The tenant, if given.
    pub tenant: Option<String>,
    /// The deciding pack (`name@version`).
    pub active_pack: String,
    /// The candidate (`name@version`).
    pub candidate_pack: String,
    /// The deciding pack's answer (the decision or document, or the error).
    pub active: serde_json::Value,
    /// The candidate's answer.
    pub candidate: serde_json::Value,
}

/// Receives each shadow difference (for a decision log, say).
pub type ShadowObserver = Arc<dyn Fn(&ShadowDifference) + Send + Sync>;

/// What checking a candidate against the stable pack found.
#[allow(
    clippy::large_enum_variant,
    reason = "built once per activation and consumed at once; boxing buys nothing"
)]
enum Admission {
    /// A verified pack that may replace the stable one.
    New(ActivePack),
    /// The stable pack itself, again.
    Same(PackRef),
}

/// One evaluation by the store ([`PolicyStore::evaluate`]): the pack that
/// answered, and its outcome (`Ok(None)` when the document is undefined).
#[derive(Debug)]
pub struct Evaluation {
    /// The pack that answered (its digest, version and revision go into the
    /// decision log).
    pub pack: Arc<ActivePack>,
    /// The result, or the evaluation's error.
    pub result: Result<Option<Output>>,
}

/// What an activation did.
///
/// It serialises as `{"status": "activated" | "unchanged", "pack": {…}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", content = "pack", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Activation {
    /// The candidate is now active (stable, rolling out or in the shadow).
    Activated(PackRef),
    /// The candidate is the pack already active: nothing changed.
    Unchanged(PackRef),
}

impl Activation {
    /// The pack activated, or the one already active.
    pub fn pack(&self) -> &PackRef {
        match self {
            Activation::Activated(p) | Activation::Unchanged(p) => p,
        }
    }
}

/// Holds the packs a service decides with. `Send + Sync`: share one store
/// (in an `Arc`) between every thread; see the [module docs](self).
pub struct PolicyStore {
    options: StoreOptions,
    state: RwLock<Arc<State>>,
    /// Serialises changes of state (readers never take it).
    writer: Mutex<Log>,
    observer: Option<ShadowObserver>,
}

#[derive(Debug, Default)]
struct Log {
    events: VecDeque<StoreEvent>,
    activations: u64,
    refusals: u64,
    rollbacks: u64,
    last_error: Option<StoreEvent>,
}

impl Log {
    fn push(&mut self, kind: &str, pack: Option<&PackRef>, detail: Option<String>) -> StoreEvent {
        let event = StoreEvent {
            time: rfc3339(SystemTime::now()),
            kind: kind.to_owned(),
            pack: pack.map(label),
            detail,
        };
        if self.events.len() == 64 {
            self.events.pop_front();
        }
        self.events.push_back(event.clone());
        event
    }
}

fn label(p: &PackRef) -> String {
    if p.revision.is_empty() {
        format!("{}@{}", p.name, p.version)
    } else {
        format!("{}@{} ({})", p.name, p.version, p.revision)
    }
}

impl std::fmt::Debug for PolicyStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PolicyStore")
            .field("options", &self.options)
            .field("state", &self.snapshot())
            .finish_non_exhaustive()
    }
}

/// The pointer file of the last known good pack in the state directory.
pub const LAST_KNOWN_GOOD: &str = "last-known-good.json";

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct LkgPointer {
    archive: String,
    archive_digest: String,
    sigstore_bundle: Option<String>,
    pack: String,
    saved_at: String,
}

impl PolicyStore {
    /// An empty store: nothing decides until a candidate is activated.
    pub fn new(options: StoreOptions) -> Self {
        PolicyStore {
            options,
            state: RwLock::new(Arc::new(State::default())),
            writer: Mutex::new(Log::default()),
            observer: None,
        }
    }

    /// A store started from the last known good pack in
    /// `options.state_dir`, verified again as any candidate; an empty store
    /// when there is none. A saved pack that no longer verifies (tampered
    /// on disk, another key configured) is an error: nothing unverified ever
    /// decides.
    pub fn open(options: StoreOptions) -> Result<Self> {
        let store = Self::new(options);
        if let Some(candidate) = store.read_last_known_good()? {
            let active = store.verify(&candidate)?;
            if let Some(pinned) = &store.options.pack_name {
                let name = &active.engine.manifest().name;
                if name != pinned {
                    return Err(Error::PackIdentity {
                        candidate: label(active.pack()),
                        reason: format!(
                            "the last known good pack is named {name:?}, not {pinned:?}: empty \
                             the state directory to serve another pack"
                        ),
                    });
                }
            }
            let info = active.pack().clone();
            let mut log = store.log();
            store.swap(|s| s.stable = Some(Arc::new(active)));
            log.push("loaded_last_known_good", Some(&info), None);
        }
        Ok(store)
    }

    /// Sets the observer told of every shadow difference.
    pub fn with_shadow_observer(mut self, observer: ShadowObserver) -> Self {
        self.observer = Some(observer);
        self
    }

    /// The options the store was made with.
    pub fn options(&self) -> &StoreOptions {
        &self.options
    }

    fn snapshot(&self) -> Arc<State> {
        match self.state.read() {
            Ok(s) => Arc::clone(&s),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    fn log(&self) -> std::sync::MutexGuard<'_, Log> {
        self.writer.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Replaces the state with a modified copy (call with the writer lock held).
    fn swap(&self, change: impl FnOnce(&mut State)) {
        let mut next = (*self.snapshot()).clone();
        change(&mut next);
        let next = Arc::new(next);
        match self.state.write() {
            Ok(mut s) => *s = next,
            Err(poisoned) => *poisoned.into_inner() = next,
        }
    }

    /// The pack a tenant's decisions go to now (the rollout's for tenants in
    /// its cohorts, the stable one otherwise); `None` before any activation.
    pub fn pack_for(&self, tenant: Option<&TenantId>) -> Option<Arc<ActivePack>> {
        self.snapshot().assign(tenant).cloned()
    }

    /// Whether any pack is active.
    pub fn is_ready(&self) -> bool {
        self.snapshot().stable.is_some()
    }

    /// Verifies a candidate as the options require, without activating it:
    /// signatures, limits, compilation, tests.
    ///
    /// This is what guards decisions: every pack that enters the store
    /// passes it. Its Sigstore and archive checks are those of
    /// [`crate::distribution::verify_archive`] (it calls the same code, so
    /// both accept and refuse the same archives with the same errors); it
    /// adds the OPA `.signatures.json` check, the compile and the pack's
    /// tests. `verify_archive` guards a download for callers that use the
    /// pack's files directly ([`crate::distribution::unpack`]), and also
    /// checks the transport's `Digest` header, which the HTTP client checks
    /// while fetching for the store.
    pub fn verify(&self, candidate: &Candidate) -> Result<ActivePack> {
        let o = &self.options;
        let archive_digest = Digest::of_bytes(DigestAlgorithm::Sha256, &candidate.archive);
        // The Sigstore bundle and the archive are checked as
        // `distribution::verify_archive` checks them (one code path; the
        // `Digest` header it also checks is the HTTP client's, checked while
        // fetching).
        let pack = match &o.sigstore {
            Some(verifier) => {
                crate::distribution::verify_parts(
                    &candidate.archive,
                    None,
                    candidate.sigstore_bundle.as_deref(),
                    verifier.as_ref(),
                    &o.limits,
                )?
                .pack
            }
            None => Pack::from_bytes(&candidate.archive, &o.limits)?,
        };
        if let Some((key, opts)) = &o.opa_signature {
            pack.verify_signature(key, opts)?;
        }
        let engine = match o.compile_timeout {
            Some(limit) => PolicyEngine::new_within(&pack, o.engine, limit)?,
            None => PolicyEngine::new(&pack, o.engine)?,
        };
        let has_tests = crate::tester::test_modules(&pack).next().is_some();
        let run = match o.tests {
            TestPolicy::Skip => false,
            TestPolicy::IfPresent => has_tests,
            TestPolicy::Required if !has_tests => {
                return Err(Error::CandidateTests {
                    reason: "the pack carries no tests and the store requires them".into(),
                });
            }
            TestPolicy::Required => true,
        };
        if run {
            let options = EngineOptions {
                time_limit: o.test_timeout.or(o.engine.time_limit),
                ..o.engine
            };
            let report = crate::tester::run_tests(&pack, options, None)?;
            if !report.success() {
                let failing: Vec<String> = report
                    .results
                    .iter()
                    .filter(|r| {
                        matches!(
                            r.outcome,
                            crate::tester::TestOutcome::Fail | crate::tester::TestOutcome::Error(_)
                        )
                    })
                    .take(5)
                    .map(|r| match &r.outcome {
                        // Say why it errored: a timeout reads as one.
                        crate::tester::TestOutcome::Error(e) => {
                            format!("{}.{} ({e})", r.package, r.name)
                        }
                        _ => format!("{}.{}", r.package, r.name),
                    })
                    .collect();
                return Err(Error::CandidateTests {
                    reason: format!(
                        "{} failed, {} errors: {}",
                        report.failed(),
                        report.errored(),
                        failing.join(", ")
                    ),
                });
            }
        }
        engine.warm();
        Ok(ActivePack {
            engine,
            archive: candidate.archive.as_slice().into(),
            sigstore_bundle: candidate.sigstore_bundle.as_deref().map(Into::into),
            archive_digest,
            verified_at: SystemTime::now(),
            counters: Counters::default(),
        })
    }

    /// Verifies a candidate and, if it passes, makes it the stable pack for
    /// every tenant (ending any rollout or shadow). A candidate with a lower
    /// version than the stable pack is refused ([`Error::OlderVersion`]);
    /// the stable pack itself again gives [`Activation::Unchanged`]. Refusals
    /// are recorded in [`PolicyStore::status`] and leave the store as it was.
    pub fn activate(&self, candidate: Candidate) -> Result<Activation> {
        self.activate_inner(candidate, false)
    }

    /// Like [`PolicyStore::activate`], accepting an older version: an
    /// explicit rollback to a pack that is no longer in memory.
    pub fn roll_back_to(&self, candidate: Candidate) -> Result<Activation> {
        self.activate_inner(candidate, true)
    }

    fn activate_inner(&self, candidate: Candidate, explicit: bool) -> Result<Activation> {
        let (mut log, result) = self.admit(&candidate, explicit);
        let active = match result {
            Ok(Admission::New(active)) => active,
            Ok(Admission::Same(unchanged)) => return Ok(Activation::Unchanged(unchanged)),
            Err(e) => return Err(refused(&mut log, e)),
        };
        let info = active.pack().clone();
        let active = Arc::new(active);
        if let Err(e) = self.save_last_known_good(&active) {
            return Err(refused(&mut log, e));
        }
        self.make_stable(active);
        log.activations += 1;
        log.last_error = None;
        log.push(
            if explicit { "rolled_back" } else { "activated" },
            Some(&info),
            None,
        );
        if explicit {
            log.rollbacks += 1;
        }
        Ok(Activation::Activated(info))
    }

    /// Makes `pack` the stable pack for everyone (the previous one joins the
    /// bounded history; a rollout or shadow in progress ends). Call with the
    /// writer lock held.
    fn make_stable(&self, pack: Arc<ActivePack>) {
        let keep = self.options.history;
        self.swap(|s| {
            if let Some(old) = s.stable.take() {
                s.history.push(old);
            }
            let excess = s.history.len().saturating_sub(keep);
            s.history.drain(..excess);
            s.stable = Some(pack);
            s.rollout = None;
            s.shadow = None;
        });
    }

    /// Verifies the candidate and checks its version against the stable
    /// pack: [`Admission::Same`] when it is the stable pack already. Runs
    /// without the writer lock.
    fn check_candidate(&self, candidate: &Candidate, explicit: bool) -> Result<Admission> {
        if let Some(stable) = &self.snapshot().stable {
            let digest = Digest::of_bytes(DigestAlgorithm::Sha256, &candidate.archive);
            if digest == stable.archive_digest {
                return Ok(Admission::Same(stable.pack().clone()));
            }
        }
        let active = self.verify(candidate)?;
        self.check_version(active, explicit)
    }

    /// Checks a verified candidate against the stable pack of this moment:
    /// the same archive gives [`Admission::Same`], an older version is refused
    /// unless the rollback is explicit.
    fn check_version(&self, active: ActivePack, explicit: bool) -> Result<Admission> {
        let state = self.snapshot();
        let name = &active.engine.manifest().name;
        let pinned = self
            .options
            .pack_name
            .as_ref()
            .or(state.stable.as_ref().map(|s| &s.engine.manifest().name));
        if let Some(pinned) = pinned
            && name != pinned
        {
            return Err(Error::PackIdentity {
                candidate: label(active.pack()),
                reason: format!(
                    "this store serves the pack named {pinned:?}, not {name:?} (a pack source \
                         is bound to one pack name; configure the name on purpose to change it)"
                ),
            });
        }
        if let Some(stable) = &state.stable {
            if active.archive_digest == stable.archive_digest
                || active.pack().digest == stable.pack().digest
            {
                return Ok(Admission::Same(stable.pack().clone()));
            }
            let (new, old) = (
                &active.engine.manifest().version,
                &stable.engine.manifest().version,
            );
            if new < old && !explicit {
                return Err(Error::OlderVersion {
                    candidate: label(active.pack()),
                    active: label(stable.pack()),
                });
            }
            if new == old && !explicit {
                return Err(Error::PackIdentity {
                    candidate: label(active.pack()),
                    reason: format!(
                        "version {new} is the active pack's, with other content ({} against {}): \
                         versions must strictly increase, so publish it as a newer version",
                        active.pack().digest,
                        stable.pack().digest
                    ),
                });
            }
        }
        Ok(Admission::New(active))
    }

    /// Verifies a candidate without holding the writer lock (decisions,
    /// [`PolicyStore::status`] and health checks go on while a pack is
    /// verified and its tests run), then takes the lock and checks the
    /// candidate again against the state of that moment: another activation
    /// may have happened meanwhile.
    fn admit(
        &self,
        candidate: &Candidate,
        explicit: bool,
    ) -> (std::sync::MutexGuard<'_, Log>, Result<Admission>) {
        let verified = self.check_candidate(candidate, explicit);
        let log = self.log();
        let result = match verified {
            Ok(Admission::New(active)) => self.check_version(active, explicit),
            other => other,
        };
        (log, result)
    }

    /// Verifies a candidate and rolls it out to the first cohort of its
    /// manifest; everyone else keeps the stable pack. A candidate without
    /// cohorts, or offered while no pack is stable, becomes stable at once
    /// (as [`PolicyStore::activate`]).
    pub fn start_rollout(&self, candidate: Candidate) -> Result<Activation> {
        let (mut log, result) = self.admit(&candidate, false);
        let active = match result {
            Ok(Admission::New(a)) => a,
            Ok(Admission::Same(unchanged)) => return Ok(Activation::Unchanged(unchanged)),
            Err(e) => return Err(refused(&mut log, e)),
        };
        if active.engine.manifest().cohorts.is_empty() || self.snapshot().stable.is_none() {
            drop(log);
            return self.activate(candidate);
        }
        let info = active.pack().clone();
        let first = active.engine.manifest().cohorts[0].name.clone();
        self.swap(|s| {
            s.rollout = Some(Rollout {
                pack: Arc::new(active),
                stage: 0,
                halted: false,
            });
            s.shadow = None;
        });
        log.activations += 1;
        log.last_error = None;
        log.push(
            "rollout_started",
            Some(&info),
            Some(format!("cohort {first}")),
        );
        Ok(Activation::Activated(info))
    }

    /// Verifies a candidate and evaluates it in the shadow of the deciding
    /// packs: it decides nothing; [`PolicyStore::promote`] judges it.
    pub fn start_shadow(&self, candidate: Candidate) -> Result<Activation> {
        let (mut log, result) = self.admit(&candidate, false);
        let active = match result {
            Ok(Admission::New(a)) => a,
            Ok(Admission::Same(unchanged)) => return Ok(Activation::Unchanged(unchanged)),
            Err(e) => return Err(refused(&mut log, e)),
        };
        if self.snapshot().stable.is_none() {
            return Err(refused(
                &mut log,
                Error::Rollout {
                    reason: "no active pack to shadow".into(),
                },
            ));
        }
        let info = active.pack().clone();
        let plan = active.engine.manifest().shadow.clone().unwrap_or_default();
        let shadow = Arc::new(Shadow {
            pack: Arc::new(active),
            plan,
            seen: AtomicU64::new(0),
            compared: AtomicU64::new(0),
            differences: AtomicU64::new(0),
            active_denies: AtomicU64::new(0),
            candidate_denies: AtomicU64::new(0),
            candidate_errors: AtomicU64::new(0),
        });
        self.swap(|s| s.shadow = Some(shadow));
        log.push("shadow_started", Some(&info), None);
        Ok(Activation::Activated(info))
    }

    /// Moves the change in progress one step forward: a shadow candidate
    /// (if its figures pass the thresholds) to a rollout, or to stable when
    /// it has no cohorts; a rollout to its next cohort, and after the last
    /// to stable. Refused with [`Error::Rollout`] when there is nothing to
    /// promote, the rollout is halted, or the shadow figures do not pass.
    pub fn promote(&self) -> Result<PackRef> {
        let mut log = self.log();
        let state = self.snapshot();
        if let Some(shadow) = &state.shadow {
            let info = shadow.pack.pack().clone();
            if let Err(reason) = shadow.judge() {
                return Err(refused(&mut log, Error::Rollout { reason }));
            }
            let pack = Arc::clone(&shadow.pack);
            if pack.engine.manifest().cohorts.is_empty() {
                self.promote_to_stable(&mut log, pack);
            } else {
                self.swap(|s| {
                    s.shadow = None;
                    s.rollout = Some(Rollout {
                        pack,
                        stage: 0,
                        halted: false,
                    });
                });
                log.activations += 1;
                log.push(
                    "promoted",
                    Some(&info),
                    Some("shadow to first cohort".into()),
                );
            }
            return Ok(info);
        }
        let Some(rollout) = &state.rollout else {
            return Err(refused(
                &mut log,
                Error::Rollout {
                    reason: "no rollout or shadow in progress".into(),
                },
            ));
        };
        let info = rollout.pack.pack().clone();
        if rollout.halted {
            return Err(refused(
                &mut log,
                Error::Rollout {
                    reason: format!("the rollout of {} is halted", label(&info)),
                },
            ));
        }
        let cohorts = &rollout.pack.engine.manifest().cohorts;
        if rollout.stage + 1 < cohorts.len() {
            let next = rollout.stage + 1;
            let name = cohorts[next].name.clone();
            self.swap(|s| {
                if let Some(r) = &mut s.rollout {
                    r.stage = next;
                }
            });
            log.push("promoted", Some(&info), Some(format!("cohort {name}")));
        } else {
            self.promote_to_stable(&mut log, Arc::clone(&rollout.pack));
        }
        Ok(info)
    }

    fn promote_to_stable(&self, log: &mut Log, pack: Arc<ActivePack>) {
        let info = pack.pack().clone();
        if let Err(e) = self.save_last_known_good(&pack) {
            // The pack is verified and already decides for some tenants;
            // failing to persist it only costs the restart shortcut.
            log.push(
                "last_known_good_not_saved",
                Some(&info),
                Some(e.to_string()),
            );
        }
        self.make_stable(pack);
        log.activations += 1;
        log.push(
            "promoted",
            Some(&info),
            Some("stable for every tenant".into()),
        );
    }

    /// Freezes a rollout at its current cohorts (they keep deciding with
    /// it) until [`PolicyStore::resume`]; promotion is refused meanwhile.
    pub fn halt(&self) -> Result<PackRef> {
        self.set_halted(true)
    }

    /// Lifts a [`PolicyStore::halt`].
    pub fn resume(&self) -> Result<PackRef> {
        self.set_halted(false)
    }

    fn set_halted(&self, halted: bool) -> Result<PackRef> {
        let mut log = self.log();
        let Some(rollout) = self.snapshot().rollout.clone() else {
            return Err(refused(
                &mut log,
                Error::Rollout {
                    reason: "no rollout in progress".into(),
                },
            ));
        };
        self.swap(|s| {
            if let Some(r) = &mut s.rollout {
                r.halted = halted;
            }
        });
        let info = rollout.pack.pack().clone();
        log.push(if halted { "halted" } else { "resumed" }, Some(&info), None);
        Ok(info)
    }

    /// Rolls back: abandons a shadow or rollout in progress (everyone
    /// decides with the stable pack), or else returns to the previous stable
    /// pack (which becomes the last known good). Returns the pack now
    /// deciding for everyone.
    pub fn rollback(&self) -> Result<PackRef> {
        let mut log = self.log();
        self.rollback_locked(&mut log, "rolled_back", None)
    }

    fn rollback_locked(&self, log: &mut Log, kind: &str, why: Option<String>) -> Result<PackRef> {
        let state = self.snapshot();
        let abandoned = state
            .rollout
            .as_ref()
            .map(|r| Arc::clone(&r.pack))
            .or_else(|| state.shadow.as_ref().map(|s| Arc::clone(&s.pack)));
        if let Some(abandoned) = abandoned {
            self.swap(|s| {
                s.rollout = None;
                s.shadow = None;
            });
            log.rollbacks += 1;
            log.push(kind, Some(abandoned.pack()), why);
            return state
                .stable
                .as_ref()
                .map(|p| p.pack().clone())
                .ok_or_else(|| Error::Rollout {
                    reason: "no stable pack".into(),
                });
        }
        let Some(previous) = state.history.last().cloned() else {
            return Err(refused(
                log,
                Error::Rollout {
                    reason: "no earlier pack to roll back to".into(),
                },
            ));
        };
        let from = state.stable.as_ref().map(|p| label(p.pack()));
        if let Err(e) = self.save_last_known_good(&previous) {
            return Err(refused(log, e));
        }
        self.swap(|s| {
            s.history.pop();
            s.stable = Some(Arc::clone(&previous));
        });
        log.rollbacks += 1;
        let detail = match (from, why) {
            (Some(f), Some(w)) => Some(format!("from {f}: {w}")),
            (Some(f), None) => Some(format!("from {f}")),
            (None, w) => w,
        };
        log.push(kind, Some(previous.pack()), detail);
        Ok(previous.pack().clone())
    }

    /// The state for health endpoints and metrics.
    pub fn status(&self) -> StoreStatus {
        let state = self.snapshot();
        let log = self.log();
        StoreStatus {
            stable: state.stable.as_ref().map(|p| p.info()),
            rollout: state.rollout.as_ref().map(|r| {
                let cohorts = &r.pack.engine.manifest().cohorts;
                let split = (r.stage + 1).min(cohorts.len());
                RolloutInfo {
                    pack: r.pack.info(),
                    cohorts: cohorts[..split].iter().map(|c| c.name.clone()).collect(),
                    remaining: cohorts[split..].iter().map(|c| c.name.clone()).collect(),
                    halted: r.halted,
                }
            }),
            shadow: state.shadow.as_ref().map(|s| s.info()),
            history: state.history.iter().map(|p| p.info()).collect(),
            activations: log.activations,
            refusals: log.refusals,
            rollbacks: log.rollbacks,
            last_error: log.last_error.clone(),
            events: log.events.iter().cloned().collect(),
        }
    }

    /// Decides with the tenant's pack ([`PolicyStore::pack_for`]): a named
    /// entrypoint or a document path, as [`PolicyEngine::decide`]. Counts
    /// the outcome, compares with the shadow candidate when sampled, and
    /// applies automatic rollback when the pack's thresholds are passed.
    pub fn decide(
        &self,
        tenant: Option<&TenantId>,
        entrypoint: &str,
        input: &serde_json::Value,
    ) -> Result<Decision> {
        let state = self.snapshot();
        let pack = state.assign(tenant).ok_or(Error::NoActivePack)?;
        let result = pack.engine.decide(entrypoint, input);
        pack.count(&result, |d: &Decision| d.allow);
        if let Some(shadow) = &state.shadow
            && shadow.sampled()
        {
            let other = shadow.pack.engine.decide(entrypoint, input);
            let differs = self.compare(
                shadow,
                &result,
                &other,
                |d: &Decision| d.allow,
                decision_view,
            );
            if differs {
                self.report(
                    shadow,
                    pack,
                    entrypoint,
                    tenant,
                    &result,
                    &other,
                    decision_view,
                );
            }
        }
        self.maybe_auto_rollback(&state, pack);
        result
    }

    /// Evaluates a document with the tenant's pack, as
    /// [`PolicyEngine::evaluate`] (OPA's Data API semantics, any
    /// [`InputRef`]), with the same counting, shadow comparison and
    /// automatic rollback as [`PolicyStore::decide`]. A result that is
    /// `false`, or an object whose `allow` is `false`, counts as a deny.
    ///
    /// The error is [`Error::NoActivePack`] (nothing answered); the
    /// evaluation's own outcome is in [`Evaluation::result`], beside the
    /// pack that answered (for a decision log).
    pub fn evaluate<'a>(
        &self,
        tenant: Option<&TenantId>,
        query: &str,
        input: impl Into<InputRef<'a>>,
    ) -> Result<Evaluation> {
        let input = input.into();
        let (pack, result) = self.evaluate_on(
            tenant,
            query,
            |engine| engine.evaluate(query, input),
            |v: &Option<Output>| v.as_ref().is_none_or(Output::allows),
            |v: &Option<Output>| {
                v.as_ref()
                    .map(Output::to_json_lossy)
                    .unwrap_or(serde_json::Value::Null)
            },
        )?;
        Ok(Evaluation { pack, result })
    }

    /// One evaluation with the tenant's pack: counted, compared with the
    /// shadow pack when sampled, then the automatic-rollback check.
    #[allow(
        clippy::type_complexity,
        reason = "a pair of the pack and the evaluation's result"
    )]
    fn evaluate_on<T>(
        &self,
        tenant: Option<&TenantId>,
        query: &str,
        eval: impl Fn(&PolicyEngine) -> Result<T>,
        allowed: impl Fn(&T) -> bool,
        view: impl Fn(&T) -> serde_json::Value,
    ) -> Result<(Arc<ActivePack>, Result<T>)> {
        let state = self.snapshot();
        let pack = state.assign(tenant).ok_or(Error::NoActivePack)?;
        let result = eval(&pack.engine);
        pack.count(&result, &allowed);
        if let Some(shadow) = &state.shadow
            && shadow.sampled()
        {
            let other = eval(&shadow.pack.engine);
            if self.compare(shadow, &result, &other, &allowed, &view) {
                self.report(shadow, pack, query, tenant, &result, &other, &view);
            }
        }
        self.maybe_auto_rollback(&state, pack);
        Ok((Arc::clone(pack), result))
    }

    /// Counts one shadow comparison; whether the answers differ.
    fn compare<T>(
        &self,
        shadow: &Shadow,
        active: &Result<T>,
        candidate: &Result<T>,
        allowed: impl Fn(&T) -> bool,
        view: impl Fn(&T) -> serde_json::Value,
    ) -> bool {
        shadow.compared.fetch_add(1, Ordering::Relaxed);
        shadow.pack.count(candidate, &allowed);
        if matches!(active, Ok(a) if !allowed(a)) {
            shadow.active_denies.fetch_add(1, Ordering::Relaxed);
        }
        match candidate {
            Ok(c) if !allowed(c) => {
                shadow.candidate_denies.fetch_add(1, Ordering::Relaxed);
            }
            Err(_) => {
                shadow.candidate_errors.fetch_add(1, Ordering::Relaxed);
            }
            Ok(_) => {}
        }
        let differs = match (active, candidate) {
            (Ok(a), Ok(c)) => view(a) != view(c),
            (Err(a), Err(c)) => a.code() != c.code(),
            _ => true,
        };
        if differs {
            shadow.differences.fetch_add(1, Ordering::Relaxed);
        }
        differs
    }

    #[allow(
        clippy::too_many_arguments,
        reason = "private helper, one call shape per caller"
    )]
    fn report<T>(
        &self,
        shadow: &Shadow,
        active_pack: &ActivePack,
        path: &str,
        tenant: Option<&TenantId>,
        active: &Result<T>,
        candidate: &Result<T>,
        view: impl Fn(&T) -> serde_json::Value,
    ) {
        let Some(observer) = &self.observer else {
            return;
        };
        let show = |r: &Result<T>| match r {
            Ok(v) => view(v),
            Err(e) => serde_json::json!({"error": {"code": e.code(), "message": e.to_string()}}),
        };
        observer(&ShadowDifference {
            path: path.to_owned(),
            tenant: tenant.map(|t| t.as_str().to_owned()),
            active_pack: label(active_pack.pack()),
            candidate_pack: label(shadow.pack.pack()),
            active: show(active),
            candidate: show(candidate),
        });
    }

    /// Automatic rollback of `pack` (stable after a swap, or rolling out)
    /// when its manifest asks for it and its figures pass the thresholds.
    fn maybe_auto_rollback(&self, state: &State, pack: &Arc<ActivePack>) {
        let stats = pack.stats();
        // Judged every 16 decisions once there are enough: cheap on the hot path.
        if stats.decisions < self.options.min_samples || !stats.decisions.is_multiple_of(16) {
            return;
        }
        let Some(plan) = &pack.engine.manifest().rollback else {
            return;
        };
        if plan.strategy != RollbackStrategy::Automatic {
            return;
        }
        let rolling_out = state
            .rollout
            .as_ref()
            .is_some_and(|r| Arc::ptr_eq(&r.pack, pack));
        let baseline = if rolling_out {
            state.stable.as_ref()
        } else if state.stable.as_ref().is_some_and(|s| Arc::ptr_eq(s, pack)) {
            state.history.last()
        } else {
            return;
        };
        if baseline.is_none() && !rolling_out {
            return; // nothing to go back to
        }
        let mut why = None;
        if let Some(max) = plan.max_error_rate
            && stats.error_rate() > max
        {
            why = Some(format!(
                "error rate {:.4} over {} decisions exceeds {max}",
                stats.error_rate(),
                stats.decisions
            ));
        }
        if let (None, Some(max), Some(base)) = (&why, plan.max_deny_rate_increase, baseline) {
            let base = base.stats();
            if base.decisions >= self.options.min_samples
                && stats.deny_rate() - base.deny_rate() > max
            {
                why = Some(format!(
                    "deny rate {:.4} exceeds the previous pack's {:.4} by more than {max}",
                    stats.deny_rate(),
                    base.deny_rate()
                ));
            }
        }
        let Some(why) = why else {
            return;
        };
        let mut log = self.log();
        // Another thread may have rolled back meanwhile: act only if `pack`
        // still holds the same place.
        let now = self.snapshot();
        let still = if rolling_out {
            now.rollout
                .as_ref()
                .is_some_and(|r| Arc::ptr_eq(&r.pack, pack))
        } else {
            now.stable.as_ref().is_some_and(|s| Arc::ptr_eq(s, pack))
        };
        if still {
            let _ = self.rollback_locked(&mut log, "rolled_back_automatically", Some(why));
        }
    }

    fn read_last_known_good(&self) -> Result<Option<Candidate>> {
        let Some(dir) = &self.options.state_dir else {
            return Ok(None);
        };
        let pointer_path = dir.join(LAST_KNOWN_GOOD);
        if !pointer_path.exists() {
            return Ok(None);
        }
        let pointer = cos_core::file::read_limited(&pointer_path, 64 * 1024)?;
        let pointer: LkgPointer =
            serde_json::from_slice(&pointer).map_err(|e| Error::InvalidPack {
                reason: format!("{}: {e}", pointer_path.display()),
            })?;
        let file = |name: &str| -> Result<PathBuf> {
            if name.contains(['/', '\\']) || name.starts_with('.') {
                return Err(Error::InvalidPack {
                    reason: format!("{}: bad file name {name:?}", pointer_path.display()),
                });
            }
            Ok(dir.join(name))
        };
        let archive = cos_core::file::read_limited(
            file(&pointer.archive)?,
            self.options.limits.max_decompressed_size,
        )?;
        let digest = Digest::of_bytes(DigestAlgorithm::Sha256, &archive);
        if digest.to_string() != pointer.archive_digest {
            return Err(Error::from(DistributionError::DigestMismatch {
                actual: digest.hex(),
                expected: pointer.archive_digest,
            }));
        }
        let sigstore_bundle = match &pointer.sigstore_bundle {
            Some(name) => Some(cos_core::file::read_limited(file(name)?, 1024 * 1024)?),
            None => None,
        };
        Ok(Some(Candidate {
            archive,
            sigstore_bundle,
        }))
    }

    /// Writes the pack's archive (and bundle) content-addressed, then the
    /// pointer atomically; removes files no pointer names.
    fn save_last_known_good(&self, pack: &ActivePack) -> Result<()> {
        let Some(dir) = &self.options.state_dir else {
            return Ok(());
        };
        std::fs::create_dir_all(dir).map_err(|source| cos_core::Error::Io {
            op: "create directory",
            path: dir.clone(),
            source,
        })?;
        let hex = pack.archive_digest.hex();
        let archive = format!("pack-{hex}.tar.gz");
        let bundle = pack
            .sigstore_bundle
            .as_ref()
            .map(|_| format!("pack-{hex}.sigstore.json"));
        use cos_core::file::{Overwrite, write_atomic};
        write_atomic(dir.join(&archive), &pack.archive, None, Overwrite::Replace)?;
        if let (Some(name), Some(bytes)) = (&bundle, &pack.sigstore_bundle) {
            write_atomic(dir.join(name), bytes, None, Overwrite::Replace)?;
        }
        let pointer = LkgPointer {
            archive: archive.clone(),
            archive_digest: pack.archive_digest.to_string(),
            sigstore_bundle: bundle.clone(),
            pack: label(pack.pack()),
            saved_at: rfc3339(SystemTime::now()),
        };
        let json = serde_json::to_vec_pretty(&pointer).map_err(|e| Error::InvalidPack {
            reason: format!("last known good pointer: {e}"),
        })?;
        write_atomic(dir.join(LAST_KNOWN_GOOD), &json, None, Overwrite::Replace)?;
        // Best effort: older content files are no longer named.
        if let Ok(entries) = std::fs::read_dir(dir) {
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                if name.starts_with("pack-") && name != archive && Some(&name) != bundle.as_ref() {
                    let _ = std::fs::remove_file(entry.path());
                }
            }
        }
        Ok(())
    }
}

fn refused(log: &mut Log, e: Error) -> Error {
    log.refusals += 1;
    let event = log.push("refused", None, Some(e.to_string()));
    log.last_error = Some(event);
    e
}

fn decision_view(d: &Decision) -> serde_json::Value {
    serde_json::json!({"allow": d.allow, "reasons": d.reasons, "obligations": d.obligations})
}

impl Shadow {
    /// Sampling at `plan.sample_rate`: the n-th decision is compared when
    /// splitmix64(n) / 2⁶⁴ < rate. Deterministic (repeatable in tests) but
    /// not periodic, so traffic with a period does not alias with it.
    fn sampled(&self) -> bool {
        let r = self.plan.sample_rate;
        if r >= 1.0 {
            return true;
        }
        let mut z = self
            .seen
            .fetch_add(1, Ordering::Relaxed)
            .wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        ((z >> 11) as f64 / (1u64 << 53) as f64) < r
    }

    fn info(&self) -> ShadowInfo {
        let compared = self.compared.load(Ordering::Relaxed);
        let differences = self.differences.load(Ordering::Relaxed);
        ShadowInfo {
            pack: self.pack.info(),
            compared,
            differences,
            difference_rate: ratio(differences, compared),
            active_deny_rate: ratio(self.active_denies.load(Ordering::Relaxed), compared),
            candidate_deny_rate: ratio(self.candidate_denies.load(Ordering::Relaxed), compared),
            candidate_errors: self.candidate_errors.load(Ordering::Relaxed),
            plan: self.plan.clone(),
        }
    }

    /// Whether the figures allow promotion; the reason when not.
    fn judge(&self) -> std::result::Result<(), String> {
        let i = self.info();
        if i.compared < self.plan.min_samples {
            return Err(format!(
                "shadow evaluation compared {} decisions, {} needed",
                i.compared, self.plan.min_samples
            ));
        }
        if i.difference_rate > self.plan.max_difference_rate {
            return Err(format!(
                "shadow difference rate {:.4} ({} of {}) exceeds {}",
                i.difference_rate, i.differences, i.compared, self.plan.max_difference_rate
            ));
        }
        let increase = i.candidate_deny_rate - i.active_deny_rate;
        if increase > self.plan.max_deny_rate_increase {
            return Err(format!(
                "shadow deny rate {:.4} exceeds the active pack's {:.4} by more than {}",
                i.candidate_deny_rate, i.active_deny_rate, self.plan.max_deny_rate_increase
            ));
        }
        Ok(())
    }
}
