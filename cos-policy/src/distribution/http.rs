//! Fetching packs over HTTP(S) (feature `http`): conditional requests with
//! `ETag` / `If-None-Match`, long polling (`Prefer: wait=<s>`, as OPA's
//! bundle plugin sends it), the `Digest` header checked against the body
//! (RFC 3230 base64 or the hex form of the TypeScript fetcher), the Sigstore
//! bundle from the `x-cosign-bundle` header or `<url>/attestation`, size
//! limits, timeouts, and retries with exponential backoff.
//!
//! A fetched pack is a [`crate::store::Candidate`]; the
//! [`crate::store::PolicyStore`] verifies it (signatures, compile, tests)
//! before it decides anything. [`PackClient::poll`] is the loop a service
//! runs: fetch, offer, keep the ETag, repeat; [`PackClient::poll_observed`]
//! is the same loop telling an observer what each round did
//! ([`PollEvent`]), for a daemon's logs, metrics and health.
//!
//! ```no_run
//! use cos_policy::distribution::http::{ClientOptions, PackClient};
//! use cos_policy::store::{PolicyStore, StoreOptions};
//!
//! let client = PackClient::new(ClientOptions::default());
//! let store = PolicyStore::new(StoreOptions::default());
//! let mut etag = None;
//! if let Some(fetched) = client.fetch("https://packs.example/baseline.tar.gz", etag.as_deref())? {
//!     etag = fetched.etag.clone();
//!     store.activate(fetched.into_candidate())?;
//! }
//! # Ok::<(), cos_policy::Error>(())
//! ```

use std::time::{Duration, Instant};

use cos_core::Digest;

use crate::error::{DistributionError, Error, Result};

/// How a [`PackClient`] fetches.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// Limit for one attempt (connect, headers and body); default 30 s.
    pub timeout: Duration,
    /// With an ETag, ask the server to hold the request up to this long for
    /// a new revision (`Prefer: wait=<seconds>`); `None` for plain polling.
    pub long_poll: Option<Duration>,
    /// Largest archive accepted; default 32 MiB.
    pub max_archive_bytes: u64,
    /// Largest Sigstore bundle accepted; default 16 MiB
    /// ([`cos_core::sigstore::MAX_BUNDLE_SIZE`]).
    pub max_bundle_bytes: u64,
    /// Retries after the first attempt, on connection errors, timeouts,
    /// 429 and 5xx answers; default 3.
    pub retries: u32,
    /// First wait before a retry, doubled each time; default 200 ms.
    pub backoff: Duration,
    /// Longest wait between retries; default 5 s.
    pub max_backoff: Duration,
    /// Require a `Digest` header (the fetcher does: `missing verification
    /// headers`); default true.
    pub require_digest: bool,
    /// Fetch the Sigstore bundle (header or `<url>/attestation`); default
    /// true. A missing one is then an error.
    pub sigstore_bundle: bool,
    /// Extra request headers (e.g. `Authorization`).
    pub headers: Vec<(String, String)>,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            timeout: Duration::from_secs(30),
            long_poll: None,
            max_archive_bytes: 32 << 20,
            max_bundle_bytes: cos_core::sigstore::MAX_BUNDLE_SIZE,
            retries: 3,
            backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(5),
            require_digest: true,
            sigstore_bundle: true,
            headers: Vec::new(),
        }
    }
}

/// The options of a [`PackClient`] as the bindings take them (Python
/// keyword arguments of `PackClient(...)`, the JavaScript object of `new
/// PackClient({...})`): plain data, its defaults those of
/// [`ClientOptions::default`], made [`ClientOptions`] by `From`. Times are
/// milliseconds. The Sigstore trust (`public_key`, or `trusted_root` with
/// `identity` and `issuer`) verifies fetched packs in the bindings
/// ([`ClientConfig::sigstore_trust`]). See ADR-0020.
///
/// ```
/// use cos_policy::distribution::http::{ClientConfig, ClientOptions};
/// let c: ClientConfig = serde_json::from_str(r#"{"retries": 0, "headers": {"X-Trace_id": "1"}}"#)?;
/// let o = ClientOptions::from(c);
/// assert_eq!((o.retries, o.max_archive_bytes), (0, 32 << 20));
/// assert_eq!(o.headers, [("X-Trace_id".to_owned(), "1".to_owned())]);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClientConfig {
    /// Limit of one attempt, milliseconds.
    pub timeout_ms: u64,
    /// Long polling: with an ETag, ask the server to hold the request this
    /// long, milliseconds (`None`: plain polling).
    pub long_poll_ms: Option<u64>,
    /// Largest archive.
    pub max_archive_bytes: u64,
    /// Largest Sigstore bundle.
    pub max_bundle_bytes: u64,
    /// Retries on connection errors, timeouts, 429 and 5xx.
    pub retries: u32,
    /// First wait before a retry, milliseconds, doubled each time.
    pub backoff_ms: u64,
    /// Longest wait between retries, milliseconds.
    pub max_backoff_ms: u64,
    /// Require a `Digest` header.
    pub require_digest: bool,
    /// Fetch the Sigstore bundle.
    pub sigstore_bundle: bool,
    /// Extra request headers (names and values as given).
    pub headers: std::collections::BTreeMap<String, String>,
    /// Verify fetched packs with this key (SPKI PEM) ...
    pub public_key: Option<String>,
    /// ... or keyless: the `trusted_root.json`, ...
    pub trusted_root: Option<cos_core::shape::Blob>,
    /// ... the certificate identity ...
    pub identity: Option<String>,
    /// ... and its OIDC issuer.
    pub issuer: Option<String>,
}

fn as_millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

impl Default for ClientConfig {
    /// [`ClientOptions::default`], as data.
    fn default() -> Self {
        let d = ClientOptions::default();
        ClientConfig {
            timeout_ms: as_millis(d.timeout),
            long_poll_ms: d.long_poll.map(as_millis),
            max_archive_bytes: d.max_archive_bytes,
            max_bundle_bytes: d.max_bundle_bytes,
            retries: d.retries,
            backoff_ms: as_millis(d.backoff),
            max_backoff_ms: as_millis(d.max_backoff),
            require_digest: d.require_digest,
            sigstore_bundle: d.sigstore_bundle,
            headers: d.headers.into_iter().collect(),
            public_key: None,
            trusted_root: None,
            identity: None,
            issuer: None,
        }
    }
}

impl ClientConfig {
    /// The Sigstore trust that verifies fetched packs, if any (make it a
    /// verifier with `cos_supplychain::sigstore::verifier`).
    pub fn sigstore_trust(&self) -> Option<cos_core::shape::SigstoreTrust<'_>> {
        cos_core::shape::SigstoreTrust::named(
            self.public_key.as_deref(),
            self.trusted_root.as_ref(),
            self.identity.as_deref(),
            self.issuer.as_deref(),
        )
    }
}

impl From<ClientConfig> for ClientOptions {
    fn from(c: ClientConfig) -> Self {
        ClientOptions {
            timeout: Duration::from_millis(c.timeout_ms),
            long_poll: c.long_poll_ms.map(Duration::from_millis),
            max_archive_bytes: c.max_archive_bytes,
            max_bundle_bytes: c.max_bundle_bytes,
            retries: c.retries,
            backoff: Duration::from_millis(c.backoff_ms),
            max_backoff: Duration::from_millis(c.max_backoff_ms),
            require_digest: c.require_digest,
            sigstore_bundle: c.sigstore_bundle,
            headers: c.headers.into_iter().collect(),
        }
    }
}

/// A pack fetched and checked against its `Digest` header.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Fetched {
    /// The URL it came from.
    pub url: String,
    /// The archive's bytes.
    pub archive: Vec<u8>,
    /// The response's `ETag`, for the next conditional request.
    pub etag: Option<String>,
    /// The digest the server announced (and the body matched), if any.
    pub digest: Option<Digest>,
    /// The Sigstore bundle, from the `x-cosign-bundle` header or
    /// `<url>/attestation`.
    pub sigstore_bundle: Option<Vec<u8>>,
}

impl Fetched {
    /// Verifies the fetched archive as the fetcher does after its digest
    /// check (done while fetching): the Sigstore bundle must be present
    /// ([`DistributionError::MissingVerification`]) and verify with `key`
    /// ([`DistributionError::BundleVerification`]), and the archive must be a valid pack
    /// or OPA bundle within `limits`. A [`crate::store::PolicyStore`] makes
    /// its own checks; this is for callers that use the pack directly.
    pub fn verify(
        &self,
        key: &dyn cos_core::sigstore::BlobVerifier,
        limits: &crate::bundle::pack::Limits,
    ) -> Result<super::VerifiedArchive> {
        super::verify_parts(
            &self.archive,
            None,
            self.sigstore_bundle.as_deref(),
            key,
            limits,
        )
    }

    /// The pack as a store candidate.
    pub fn into_candidate(self) -> crate::store::Candidate {
        crate::store::Candidate {
            archive: self.archive,
            sigstore_bundle: self.sigstore_bundle,
        }
    }
}

/// A blocking HTTP(S) client for packs; cheap to clone (shared connection
/// pool).
#[derive(Debug, Clone)]
pub struct PackClient {
    agent: ureq::Agent,
    options: ClientOptions,
}

/// Why an attempt failed: worth retrying (connection error, timeout, 429,
/// 5xx), or not (a 4xx, a digest mismatch, a body over the limit).
enum Failure {
    Retry(Error),
    Fail(Error),
}

type Attempt<T> = std::result::Result<T, Failure>;

impl PackClient {
    /// A client with its own connection pool.
    pub fn new(options: ClientOptions) -> Self {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(options.timeout))
            .max_redirects(5)
            .user_agent(concat!("cos-policy/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        PackClient { agent, options }
    }

    /// The options it was made with.
    pub fn options(&self) -> &ClientOptions {
        &self.options
    }

    /// GETs a pack. With `etag`, the request is conditional (and long-polls
    /// when [`ClientOptions::long_poll`] is set): `Ok(None)` when the server
    /// answers 304 Not Modified. Otherwise the body is read up to the size
    /// limit, checked against the `Digest` header, and the Sigstore bundle
    /// is taken from `x-cosign-bundle` or fetched from `<url>/attestation`.
    ///
    /// Errors keep the TypeScript fetcher's messages: `HTTP <status>`,
    /// `missing verification headers`, `digest mismatch: <a> != <b>`.
    pub fn fetch(&self, url: &str, etag: Option<&str>) -> Result<Option<Fetched>> {
        self.with_retries(url, || self.attempt(url, etag))
    }

    /// GETs a Sigstore bundle (`fetchAttestation`): UTF-8 JSON, at most
    /// [`ClientOptions::max_bundle_bytes`].
    pub fn fetch_attestation(&self, url: &str) -> Result<Vec<u8>> {
        self.with_retries(url, || {
            let mut response = self.request(url, None, None)?;
            let status = response.status().as_u16();
            if status != 200 {
                return Err(status_error(url, status));
            }
            read_body(url, response.body_mut(), self.options.max_bundle_bytes)
        })
    }

    fn with_retries<T>(&self, url: &str, mut attempt: impl FnMut() -> Attempt<T>) -> Result<T> {
        let mut wait = self.options.backoff;
        let mut tries = 0;
        loop {
            match attempt() {
                Ok(v) => return Ok(v),
                Err(Failure::Fail(e)) => return Err(e),
                Err(Failure::Retry(e)) if tries >= self.options.retries => {
                    return Err(match e {
                        Error::Distribution(DistributionError::Transport { url, reason }) => {
                            Error::from(DistributionError::Transport {
                                url,
                                reason: format!("{reason} (after {} attempts)", tries + 1),
                            })
                        }
                        other => other,
                    });
                }
                Err(Failure::Retry(_)) => {
                    std::thread::sleep(jitter(wait, url, tries));
                    wait = (wait * 2).min(self.options.max_backoff);
                    tries += 1;
                }
            }
        }
    }

    fn request(
        &self,
        url: &str,
        etag: Option<&str>,
        wait: Option<Duration>,
    ) -> Attempt<ureq::http::Response<ureq::Body>> {
        let mut req = self.agent.get(url);
        for (k, v) in &self.options.headers {
            req = req.header(k.as_str(), v.as_str());
        }
        if let Some(etag) = etag {
            req = req.header("If-None-Match", etag);
        }
        if let Some(wait) = wait {
            req = req
                .header("Prefer", format!("wait={}", wait.as_secs().max(1)))
                .config()
                .timeout_global(Some(self.options.timeout + wait))
                .build();
        }
        req.call().map_err(|e| Failure::Retry(transport(url, &e)))
    }

    fn attempt(&self, url: &str, etag: Option<&str>) -> Attempt<Option<Fetched>> {
        let wait = etag.and(self.options.long_poll);
        let mut response = self.request(url, etag, wait)?;
        let status = response.status().as_u16();
        if status == 304 {
            return Ok(None);
        }
        if status != 200 {
            return Err(status_error(url, status));
        }
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let (etag, digest_header, bundle_header) =
            (header("etag"), header("digest"), header("x-cosign-bundle"));
        if digest_header.is_none() && self.options.require_digest {
            return Err(Failure::Fail(Error::from(
                DistributionError::MissingVerification,
            )));
        }
        let archive = read_body(url, response.body_mut(), self.options.max_archive_bytes)?;
        let digest = match digest_header {
            Some(h) => {
                super::check_digest(&archive, &h).map_err(Failure::Fail)?;
                Digest::parse_http_header(&h).ok()
            }
            None => None,
        };
        let sigstore_bundle = if !self.options.sigstore_bundle {
            None
        } else if let Some(b) = bundle_header {
            Some(b.into_bytes())
        } else {
            let att = if url.ends_with("/attestation") {
                url.to_owned()
            } else {
                format!("{url}/attestation")
            };
            Some(self.fetch_attestation(&att).map_err(Failure::Fail)?)
        };
        Ok(Some(Fetched {
            url: url.to_owned(),
            archive,
            etag,
            digest,
            sigstore_bundle,
        }))
    }

    /// Keeps a store up to date: fetches `url` (conditionally, long-polling
    /// when configured), offers every new pack to `offer` (usually
    /// `|c| store.activate(c)`), and sleeps `interval` between rounds, until
    /// `stop` returns true. A failed fetch or a refused pack leaves the store
    /// as it was; `on_error` hears about it, and the loop goes on.
    ///
    /// [`PackClient::poll_observed`] with an observer that passes on the
    /// errors of [`PollEvent::Refused`] and [`PollEvent::Failed`].
    pub fn poll(
        &self,
        url: &str,
        interval: Duration,
        offer: impl FnMut(crate::store::Candidate) -> Result<crate::store::Activation>,
        mut on_error: impl FnMut(&Error),
        stop: impl Fn() -> bool,
    ) {
        self.poll_observed(
            url,
            interval,
            offer,
            |event| {
                if let Some(e) = event.error() {
                    on_error(e);
                }
            },
            stop,
        );
    }

    /// [`PackClient::poll`], telling `observe` what each round did: a pack
    /// activated, nothing new (304), a pack refused, a fetch failed, each
    /// with the ETag held and the wait before the next round (what a daemon
    /// logs, counts and shows in its health). `observe` is called after the
    /// round and before the wait.
    ///
    /// The loop is bounded as [`PackClient::fetch`] is (timeouts, retries
    /// with backoff) and stoppable: `stop` is asked before each round and
    /// every 50 ms of a wait; a long poll in progress returns first (at
    /// most [`ClientOptions::long_poll`] plus [`ClientOptions::timeout`]).
    /// A refused pack's ETag is kept, so the same bytes are not verified
    /// again every round; after a failed fetch the ETag is the previous one.
    pub fn poll_observed(
        &self,
        url: &str,
        interval: Duration,
        mut offer: impl FnMut(crate::store::Candidate) -> Result<crate::store::Activation>,
        mut observe: impl FnMut(&PollEvent),
        stop: impl Fn() -> bool,
    ) {
        let mut etag: Option<String> = None;
        while !stop() {
            let started = Instant::now();
            let round = match self.fetch(url, etag.as_deref()) {
                Ok(Some(fetched)) => {
                    // Refused or not, the ETag is remembered: the same bytes
                    // are not fetched and verified again every round.
                    etag = fetched.etag.clone();
                    Round::New(offer(fetched.into_candidate()))
                }
                Ok(None) => Round::NotModified,
                Err(e) => Round::Failed(e),
            };
            // Long polling goes straight back after a new pack or a 304 that
            // waited; it waits the interval after a failure, or a 304 that
            // came at once (a server that does not hold requests). Plain
            // polling always waits the interval.
            let fetched_new = matches!(round, Round::New(_));
            let long_polling = etag.is_some() && self.options.long_poll.is_some();
            let quick = started.elapsed() < Duration::from_millis(50);
            let next_wait = if !long_polling || (quick && !fetched_new) {
                interval
            } else {
                Duration::ZERO
            };
            let etag = etag.clone();
            observe(&match round {
                Round::New(Ok(activation)) => PollEvent::Activated {
                    activation,
                    etag,
                    next_wait,
                },
                Round::New(Err(error)) => PollEvent::Refused {
                    error,
                    etag,
                    next_wait,
                },
                Round::NotModified => PollEvent::Unchanged { etag, next_wait },
                Round::Failed(error) => PollEvent::Failed {
                    error,
                    etag,
                    next_wait,
                },
            });
            if !next_wait.is_zero() {
                sleep_until(next_wait, &stop);
            }
        }
    }
}

/// What one round of a polling loop fetched.
enum Round {
    New(Result<crate::store::Activation>),
    NotModified,
    Failed(Error),
}

/// What one round of [`PackClient::poll_observed`] did.
///
/// Every event carries the ETag the loop holds after the round (sent as
/// `If-None-Match` next time) and the wait before the next round
/// ([`Duration::ZERO`] when a long poll goes straight back). It serialises
/// as `{"kind": "activated" | "unchanged" | "refused" | "failed",
/// "activation": {"status", "pack"} | null, "etag": … | null, "error":
/// {"code", "message"} | null, "next_wait_ms": …}`.
#[derive(Debug)]
#[non_exhaustive]
pub enum PollEvent {
    /// A new pack was fetched and offered: the store activated it, or
    /// answered that it is the pack already active
    /// ([`crate::store::Activation::Unchanged`]).
    Activated {
        /// What the store did, with the pack.
        activation: crate::store::Activation,
        /// The pack's ETag.
        etag: Option<String>,
        /// The wait before the next round.
        next_wait: Duration,
    },
    /// The server answered 304 Not Modified: nothing new. (If the pack the
    /// ETag names was refused, it is still refused.)
    Unchanged {
        /// The ETag sent, still held.
        etag: Option<String>,
        /// The wait before the next round.
        next_wait: Duration,
    },
    /// A new pack was fetched and refused (a signature, its tests, an older
    /// version, …): the store is as it was. Its ETag is kept, so it is not
    /// fetched again until the server has another.
    Refused {
        /// Why.
        error: Error,
        /// The refused pack's ETag.
        etag: Option<String>,
        /// The wait before the next round.
        next_wait: Duration,
    },
    /// The fetch failed after its retries (transport, HTTP status, digest,
    /// size limit): the store is as it was.
    Failed {
        /// Why.
        error: Error,
        /// The ETag still held (of the last pack fetched, if any).
        etag: Option<String>,
        /// The wait before the next round.
        next_wait: Duration,
    },
}

impl PollEvent {
    /// `activated`, `unchanged`, `refused` or `failed`.
    pub fn kind(&self) -> &'static str {
        match self {
            PollEvent::Activated { .. } => "activated",
            PollEvent::Unchanged { .. } => "unchanged",
            PollEvent::Refused { .. } => "refused",
            PollEvent::Failed { .. } => "failed",
        }
    }

    /// The pack the store activated (or found already active).
    pub fn pack(&self) -> Option<&crate::PackRef> {
        match self {
            PollEvent::Activated { activation, .. } => Some(activation.pack()),
            _ => None,
        }
    }

    /// The ETag the loop holds after the round.
    pub fn etag(&self) -> Option<&str> {
        match self {
            PollEvent::Activated { etag, .. }
            | PollEvent::Unchanged { etag, .. }
            | PollEvent::Refused { etag, .. }
            | PollEvent::Failed { etag, .. } => etag.as_deref(),
        }
    }

    /// Why a pack was refused or a fetch failed (its [`Error::code`] is the
    /// label to count by).
    pub fn error(&self) -> Option<&Error> {
        match self {
            PollEvent::Refused { error, .. } | PollEvent::Failed { error, .. } => Some(error),
            _ => None,
        }
    }

    /// The wait before the next round.
    pub fn next_wait(&self) -> Duration {
        match self {
            PollEvent::Activated { next_wait, .. }
            | PollEvent::Unchanged { next_wait, .. }
            | PollEvent::Refused { next_wait, .. }
            | PollEvent::Failed { next_wait, .. } => *next_wait,
        }
    }
}

impl serde::Serialize for PollEvent {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct as _;
        #[derive(serde::Serialize)]
        struct ErrorView<'a> {
            code: &'a str,
            message: String,
        }
        let activation = match self {
            PollEvent::Activated { activation, .. } => Some(activation),
            _ => None,
        };
        let error = self.error().map(|e| ErrorView {
            code: e.code(),
            message: e.to_string(),
        });
        let mut st = s.serialize_struct("PollEvent", 5)?;
        st.serialize_field("kind", self.kind())?;
        st.serialize_field("activation", &activation)?;
        st.serialize_field("etag", &self.etag())?;
        st.serialize_field("error", &error)?;
        st.serialize_field(
            "next_wait_ms",
            &u64::try_from(self.next_wait().as_millis()).unwrap_or(u64::MAX),
        )?;
        st.end()
    }
}

fn status_error(url: &str, status: u16) -> Failure {
    let e = Error::from(DistributionError::HttpStatus {
        status,
        url: url.to_owned(),
    });
    if status == 429 || status >= 500 {
        Failure::Retry(e)
    } else {
        Failure::Fail(e)
    }
}

fn read_body(url: &str, body: &mut ureq::Body, limit: u64) -> Attempt<Vec<u8>> {
    body.with_config()
        .limit(limit)
        .read_to_vec()
        .map_err(|e| match e {
            ureq::Error::BodyExceedsLimit(_) => Failure::Fail(Error::LimitExceeded {
                what: format!("response body from {url}"),
                limit,
            }),
            other => Failure::Retry(transport(url, &other)),
        })
}

fn transport(url: &str, e: &ureq::Error) -> Error {
    Error::from(DistributionError::Transport {
        url: url.to_owned(),
        reason: e.to_string(),
    })
}

/// Up to +25 % of `wait`, derived from the URL and attempt (no RNG needed):
/// clients restarted together do not retry in step.
fn jitter(wait: Duration, url: &str, attempt: u32) -> Duration {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in url.bytes().chain(attempt.to_le_bytes()) {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    wait + wait.mul_f64((h % 1000) as f64 / 4000.0)
}

fn sleep_until(total: Duration, stop: &impl Fn() -> bool) {
    let end = Instant::now() + total;
    while !stop() {
        let now = Instant::now();
        if now >= end {
            return;
        }
        std::thread::sleep((end - now).min(Duration::from_millis(50)));
    }
}
