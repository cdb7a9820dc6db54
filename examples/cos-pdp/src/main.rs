//! `cos-pdp`: a policy decision daemon that speaks OPA's REST API as
//! clients use it, deciding with verified, hot-reloaded cos packs.
//!
//! Policy comes from a pack file (`--pack`) or a pack server (`--pack-url`,
//! polled or long-polled, verified by `cos_policy::store` before it decides
//! anything, last known good kept in `--state-dir`), and from the REST API
//! itself (`PUT /v1/policies/{id}`, `PUT /v1/data/{path}`), as an OPA
//! hot-reload controller uses it. See docs/cos-pdp.md.

mod api;
mod auth;
mod auth_flags;
mod metrics;
mod policy;
mod pool;

/// mimalloc instead of the system allocator: a decision allocates and frees
/// many small values (the input, the VM's registers, the response), and
/// glibc's malloc took a fifth of the server's time (ADR-0012).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;

pub(crate) use auth_flags::{Authentication, MinTlsVersion};

/// Command line of `cos-pdp`.
#[derive(Parser, Debug)]
#[command(
    name = "cos-pdp",
    version,
    about = "Policy decision daemon compatible with OPA's REST API"
)]
pub(crate) struct Config {
    /// Address to listen on (port 0 picks a free one; the address is printed on standard output).
    #[arg(long, default_value = "127.0.0.1:8181", value_name = "ADDR")]
    pub(crate) listen: String,
    /// A pack archive (`.tar.gz`) or pack directory to decide with.
    #[arg(long, value_name = "PATH", conflicts_with = "pack_url")]
    pub(crate) pack: Option<PathBuf>,
    /// A pack server URL (e.g. `cos pack serve`) to fetch the pack from and poll.
    #[arg(long, value_name = "URL")]
    pub(crate) pack_url: Option<String>,
    /// Time between polls of --pack-url (`10s`, `500ms`, `2m`; a bare number is seconds).
    #[arg(long, default_value = "10s", value_name = "DURATION", value_parser = secs)]
    pub(crate) poll_interval: Duration,
    /// Time one fetch attempt of --pack-url may take (a bare number is seconds).
    #[arg(long, default_value = "30s", value_name = "DURATION", value_parser = secs)]
    pub(crate) fetch_timeout: Duration,
    /// Long-poll --pack-url (`Prefer: wait=<seconds>`, whole seconds, at least 1): new packs arrive as soon as they are published (a bare number is seconds).
    #[arg(long, value_name = "DURATION", value_parser = secs)]
    pub(crate) long_poll: Option<Duration>,
    /// Require a Sigstore bundle signed by this public key (SPKI PEM) on every pack.
    #[arg(long, value_name = "PEM")]
    pub(crate) public_key: Option<PathBuf>,
    /// Require an OPA `.signatures.json` made with this ES256 public key (SPKI PEM).
    #[arg(long, value_name = "PEM")]
    pub(crate) opa_verification_key: Option<PathBuf>,
    /// Refuse packs that carry no tests (packs that carry tests must pass them in any case).
    #[arg(long)]
    pub(crate) require_tests: bool,
    /// The name every pack must have (default: the name of the first pack activated). Another name, or the active version again with other content, is refused: a pack source serves one pack, whose versions strictly increase.
    #[arg(long, value_name = "NAME")]
    pub(crate) pack_name: Option<String>,
    /// Keep the last known good pack here, and start from it when the pack server is down.
    #[arg(long, value_name = "DIR")]
    pub(crate) state_dir: Option<PathBuf>,
    /// Append OPA-format decision-log events (JSON lines) to this file.
    #[arg(long, value_name = "FILE")]
    pub(crate) decision_log: Option<PathBuf>,
    /// Time limit of one evaluation (`1s`, `250ms`; a bare number is milliseconds).
    #[arg(long, default_value = "1000", value_name = "DURATION", value_parser = millis)]
    pub(crate) timeout_ms: Duration,
    /// Time limit of each test of a candidate pack, in milliseconds (as `opa test --timeout`); a test that runs out of time refuses the candidate.
    #[arg(long, default_value = "5000", value_name = "DURATION", value_parser = millis)]
    pub(crate) test_timeout_ms: Duration,
    /// Time limit of compiling a pack or a REST write with what it joins, in milliseconds: past it the pack is refused, the write answered 400 (the compile is abandoned on its own thread, bounded by the size limits).
    #[arg(long, default_value = "30000", value_name = "DURATION", value_parser = millis)]
    pub(crate) compile_timeout_ms: Duration,
    /// Largest request body accepted, in bytes (a larger `Content-Length` is 413 before the body is read).
    #[arg(long, default_value_t = 8 << 20, value_name = "BYTES")]
    pub(crate) max_body: usize,
    /// Worker threads of the HTTP runtime (default: one per core).
    #[arg(long, value_name = "N")]
    pub(crate) threads: Option<usize>,
    /// Threads that run evaluations and compiling writes, off the HTTP workers (default: one per core); further work waits in a queue without a thread.
    #[arg(long, value_name = "N")]
    pub(crate) decision_threads: Option<usize>,
    /// Seconds for a request's headers to arrive, also the longest a connection may sit idle (before its first request or between keep-alive requests).
    #[arg(long, default_value = "10s", value_name = "DURATION", value_parser = secs)]
    pub(crate) header_timeout: Duration,
    /// Seconds for a request's body to arrive in full (else 408 and the connection is closed).
    #[arg(long, default_value = "10s", value_name = "DURATION", value_parser = secs)]
    pub(crate) body_timeout: Duration,
    /// `basic`: the policy `data.system.authz.allow` (from the pack, or written through the API) decides every call but `/livez`, given OPA's input document (path, method, params, headers, body, identity); undefined is 500, so load it before you turn this on.
    #[arg(long, value_enum, default_value = "off", value_name = "SCHEME")]
    pub(crate) authorization: auth::Authorization,
    /// Whether PUT, PATCH and DELETE on /v1/policies and /v1/data are served: `auto` is off when --pack or --pack-url is given (403; publish a pack instead), on otherwise.
    #[arg(long, value_enum, default_value = "auto", value_name = "WHEN")]
    pub(crate) writes: auth::Writes,
    /// Connections held at once; past it the one idle the longest is closed (default: from the open-files limit, `ulimit -n`, less an eighth).
    #[arg(long, value_name = "N")]
    pub(crate) max_connections: Option<usize>,
    /// Serve HTTPS with this certificate (PEM: the server's certificate, then any intermediates); with --tls-private-key-file.
    #[arg(long, value_name = "PEM")]
    pub(crate) tls_cert_file: Option<PathBuf>,
    /// The private key of --tls-cert-file (PEM, unencrypted).
    #[arg(long, value_name = "PEM")]
    pub(crate) tls_private_key_file: Option<PathBuf>,
    /// CA certificates (PEM) that client certificates must chain to, under --authentication=tls.
    #[arg(long, value_name = "PEM")]
    pub(crate) tls_ca_cert_file: Option<PathBuf>,
    /// Lowest TLS version accepted.
    #[arg(long, value_enum, default_value_t = MinTlsVersion::V1_2, value_name = "VERSION")]
    pub(crate) min_tls_version: MinTlsVersion,
    /// How callers are identified, for the authorisation policy's `input.identity`: `token` reads `Authorization: Bearer <token>`; `tls` requires a client certificate that verifies against --tls-ca-cert-file (mutual TLS) and takes its subject (as `opa run --authentication`).
    #[arg(long, value_enum, default_value_t = Authentication::Off, value_name = "SCHEME")]
    pub(crate) authentication: Authentication,
}

impl Config {
    /// The size of the decision pool.
    pub(crate) fn decision_threads(&self) -> usize {
        self.decision_threads
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, usize::from))
            .max(1)
    }

    fn limits(&self) -> Result<cos_http::Limits, String> {
        let limits = cos_http::Limits {
            header_timeout: seconds(self.header_timeout, "--header-timeout")?,
            body_timeout: seconds(self.body_timeout, "--body-timeout")?,
            max_body: self.max_body,
            max_connections: self
                .max_connections
                .unwrap_or_else(cos_http::default_max_connections),
        };
        limits.check().map_err(|e| e.to_string())?;
        Ok(limits)
    }
}

fn main() -> ExitCode {
    let config = Config::parse();
    match run(config) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // The message may quote a pack's or a file's text.
            eprintln!("cos-pdp: {}", cos_core::text::escape_message(&e));
            ExitCode::from(2)
        }
    }
}

/// A duration from seconds given on the command line (10 ms to a day).
/// A duration option whose bare numbers are seconds (`10`, `0.5`, `10s`, `2m`).
fn secs(s: &str) -> Result<Duration, String> {
    cos_core::time::parse_duration(s, cos_core::time::BareUnit::Seconds).map_err(|e| e.to_string())
}

/// A duration option whose bare numbers are milliseconds (`1000`, `1s`).
fn millis(s: &str) -> Result<Duration, String> {
    cos_core::time::parse_duration(s, cos_core::time::BareUnit::Millis).map_err(|e| e.to_string())
}

/// `d` when it is between 10 ms and a day.
fn seconds(d: Duration, what: &str) -> Result<Duration, String> {
    if (Duration::from_millis(10)..=Duration::from_secs(86_400)).contains(&d) {
        Ok(d)
    } else {
        Err(format!(
            "{what} {d:?}: expected a duration between 10ms and 24h"
        ))
    }
}

fn run(config: Config) -> Result<(), String> {
    let limits = config.limits()?;
    let tls = auth_flags::tls_config(&config)?;
    let policy = Arc::new(policy::Policy::start(&config)?);
    let metrics = Arc::new(metrics::Metrics::new());
    // Set when the server has stopped: the poller ends its loop.
    let stop_polling = Arc::new(std::sync::atomic::AtomicBool::new(false));
    if let Some(url) = config.pack_url.clone() {
        policy::spawn_poller(
            Arc::clone(&policy),
            Arc::clone(&metrics),
            url,
            seconds(config.poll_interval, "--poll-interval")?,
            seconds(config.fetch_timeout, "--fetch-timeout")?,
            config.long_poll,
            Arc::clone(&stop_polling),
        );
    }
    let mut runtime = tokio::runtime::Builder::new_multi_thread();
    // Decisions run on the pool's own threads (pool.rs); the runtime's
    // blocking threads only resolve the listen address. Same stack size
    // everywhere, whatever the platform's default.
    runtime
        .enable_all()
        .thread_stack_size(pool::STACK_SIZE)
        .max_blocking_threads(4);
    if let Some(n) = config.threads {
        runtime.worker_threads(n.max(1));
    }
    let runtime = runtime
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    let served = runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(&config.listen)
            .await
            .map_err(|e| format!("cannot listen on {}: {e}", config.listen))?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        let scheme = if tls.is_some() { "https" } else { "http" };
        println!("cos-pdp listening on {scheme}://{addr}");
        let app = api::router(api::App::new(policy, metrics, &config)?, config.max_body);
        let shutdown = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        match tls {
            None => cos_http::serve(listener, app, limits, api::refusal, shutdown).await,
            Some(tls) => {
                cos_http::serve_tls(listener, app, limits, tls, api::refusal, shutdown).await;
            }
        }
        Ok(())
    });
    stop_polling.store(true, std::sync::atomic::Ordering::Relaxed);
    served
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_test_timeout_defaults_to_the_stores() {
        let config = Config::try_parse_from(["cos-pdp"]).unwrap();
        assert_eq!(
            config.test_timeout_ms,
            cos_policy::store::DEFAULT_TEST_TIMEOUT
        );
    }
}
