//! `cos`: the CompanyOS command-line tool.
//!
//! Exit codes: 0 valid / done, 1 invalid (the evidence does not hold; a
//! one-line reason on stderr), 2 usage error or unreadable input.
//!
//! This file holds the command line (`Cli`), the dispatch, the exit codes
//! (`Failure`) and the helpers the commands share; each command group is a
//! module of its own (`keys`, `blob`, `dsse`, `provenance`, `policy`,
//! `pack` with `serve`, `sbom`, `gate`).

mod blob;
mod dsse;
mod gate;
mod keys;
mod pack;
mod policy;
mod provenance;
mod sbom;
mod serve;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use cos_core::canonical;
use cos_core::file::{read_limited, read_reader_limited};
use cos_core::text::shown;

/// Largest JSON document `cos canon` reads.
const MAX_JSON_INPUT: u64 = 64 * 1024 * 1024;
/// Largest file `cos sign-blob` / `cos verify-blob` reads (held in memory).
const MAX_BLOB: u64 = 1 << 30;

#[derive(Parser)]
#[command(name = "cos", version, about = "CompanyOS primitives: keys, digests, canonical JSON, DSSE, policy packs, release gates", long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Generate a key pair: PREFIX.key (PKCS#8 PEM, mode 0600) and PREFIX.pub (SPKI PEM).
    Keygen {
        /// Signature algorithm.
        #[arg(long, value_enum)]
        alg: keys::AlgArg,
        /// Path prefix of the two files written.
        #[arg(long, value_name = "PREFIX")]
        out: PathBuf,
        /// Replace existing files.
        #[arg(long)]
        force: bool,
    },
    /// Print the digest of each file (`-` for standard input).
    Digest {
        /// Digest algorithm.
        #[arg(long, value_enum, default_value_t = keys::DigestArg::Sha256)]
        alg: keys::DigestArg,
        /// Print the HTTP `Digest` header form (`sha-256=<base64>`) instead of `sha256:<hex>`.
        #[arg(long)]
        http: bool,
        /// Files to hash.
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
    },
    /// Print the RFC 8785 canonical form of a JSON document (`-` for standard input).
    Canon {
        /// The JSON file.
        file: PathBuf,
    },
    /// Sign FILE with a key and write a Sigstore bundle (v0.3, public-key hint, no log entry).
    SignBlob {
        /// Private key (PKCS#8 PEM).
        #[arg(long, value_name = "KEY")]
        key: PathBuf,
        /// Where to write the bundle (atomically).
        #[arg(long, value_name = "OUT")]
        bundle: PathBuf,
        /// The file to sign (`-` for standard input).
        file: PathBuf,
    },
    /// Verify FILE against a Sigstore bundle, offline: with a public key (key mode;
    /// transparency-log entries are not checked, like cosign's --insecure-ignore-tlog),
    /// with a public key and a trusted root (key mode, and the Rekor entry's inclusion
    /// proof, checkpoint and SET checked against the root's logs; an unlogged bundle is
    /// refused), or keyless against a trusted root for an expected identity and issuer
    /// (certificate chain, SCT, Rekor inclusion proof, checkpoint and SET, timestamps).
    #[command(group(clap::ArgGroup::new("trust").required(true).multiple(true).args(["key", "trusted_root"])))]
    VerifyBlob {
        /// Trusted public key (SPKI PEM, e.g. cosign.pub).
        #[arg(long, value_name = "PUB")]
        key: Option<PathBuf>,
        /// trusted_root.json: its CAs, logs and timestamp authorities (keyless bundles;
        /// with --key, its logs check the bundle's Rekor entry).
        #[arg(long, value_name = "JSON")]
        trusted_root: Option<PathBuf>,
        /// Expected certificate identity (SAN: e-mail or URI, exact; keyless).
        #[arg(
            long,
            value_name = "ID",
            requires = "trusted_root",
            conflicts_with = "key"
        )]
        certificate_identity: Option<String>,
        /// Expected OIDC issuer of the certificate (keyless).
        #[arg(
            long,
            value_name = "URL",
            requires = "trusted_root",
            conflicts_with = "key"
        )]
        certificate_oidc_issuer: Option<String>,
        /// The bundle (Sigstore JSON, or cosign's older blob bundle).
        #[arg(long, value_name = "BUNDLE")]
        bundle: PathBuf,
        /// The file that was signed (`-` for standard input).
        file: PathBuf,
    },
    /// Sign and verify DSSE envelopes.
    #[command(subcommand)]
    Dsse(dsse::DsseCommand),
    /// Make attestations: SLSA provenance v1.
    #[command(subcommand)]
    Attest(provenance::AttestCommand),
    /// Verify attestations (SLSA provenance) like slsa-verifier, offline.
    #[command(subcommand)]
    Verify(provenance::VerifyCommand),
    /// Evaluate policy packs.
    #[command(subcommand)]
    Policy(policy::PolicyCommand),
    /// Build and inspect policy packs and OPA bundles.
    #[command(subcommand)]
    Pack(pack::PackCommand),
    /// Software bills of materials: generate one from a lockfile
    /// (CycloneDX 1.5/1.6, SPDX 2.3 JSON), or merge / diff SBOMs.
    Sbom(sbom::SbomArgs),
    /// Release gates: the CVE budget gate, CVSS scores, licence policy.
    #[command(subcommand)]
    Gate(gate::GateCommand),
}

/// A duration option whose bare numbers are seconds (`60`, `60s`, `2m`).
fn secs(s: &str) -> Result<std::time::Duration, String> {
    cos_core::time::parse_duration(s, cos_core::time::BareUnit::Seconds).map_err(|e| e.to_string())
}

/// A duration option whose bare numbers are milliseconds (`1000`, `1s`).
fn millis(s: &str) -> Result<std::time::Duration, String> {
    cos_core::time::parse_duration(s, cos_core::time::BareUnit::Millis).map_err(|e| e.to_string())
}

/// Why a command failed, and so which exit code it gets.
enum Failure {
    /// The evidence does not hold (exit 1).
    Invalid(String),
    /// Usage error or unreadable input (exit 2).
    Usage(String),
}

impl Failure {
    /// The one-line reason.
    fn message(&self) -> &str {
        match self {
            Failure::Invalid(m) | Failure::Usage(m) => m,
        }
    }
}

impl From<cos_core::Error> for Failure {
    fn from(e: cos_core::Error) -> Self {
        if e.is_verification_failure() {
            Failure::Invalid(e.to_string())
        } else {
            Failure::Usage(e.to_string())
        }
    }
}

/// A path as it is shown to people: escaped like any other outside text (a
/// file name found by a glob may hold escape sequences).
pub(crate) fn path_shown(p: &Path) -> String {
    shown(&p.display().to_string())
}

/// The one-line reason on standard error, escaped when it quotes
/// anything that could drive a terminal ([`cos_core::text::escape_message`]).
fn reason_text(msg: &str) -> String {
    cos_core::text::escape_message(msg)
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let outcome = match catch_panics(|| run(cli.command)) {
        Ok(outcome) => outcome,
        Err(message) => {
            // A bug (in cos or the engine), not a usage error: one line, no
            // backtrace, exit 2.
            eprintln!(
                "cos: internal error (a bug; please report it): {}",
                reason_text(&message)
            );
            return ExitCode::from(2);
        }
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Invalid(msg)) => {
            eprintln!("cos: invalid: {}", reason_text(&msg));
            ExitCode::from(1)
        }
        Err(Failure::Usage(msg)) => {
            eprintln!("cos: error: {}", reason_text(&msg));
            ExitCode::from(2)
        }
    }
}

/// Where the last panic on the main thread happened, from the panic hook.
static LAST_PANIC: std::sync::Mutex<Option<String>> = std::sync::Mutex::new(None);

/// Runs `f`; a panic on the main thread becomes `Err` with its message and
/// location instead of Rust's report and backtrace on standard error (exit
/// code 101). Panics on other threads (the pack server's) are reported by
/// the default hook as before.
fn catch_panics<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if std::thread::current().name() == Some("main") {
            let message = cos_http::panic_message(info.payload());
            let place = info
                .location()
                .map(|l| format!(" (at {}:{})", l.file(), l.line()))
                .unwrap_or_default();
            *LAST_PANIC.lock().unwrap_or_else(|p| p.into_inner()) =
                Some(format!("{message}{place}"));
        } else {
            default_hook(info);
        }
    }));
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).map_err(|payload| {
        LAST_PANIC
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
            .unwrap_or_else(|| cos_http::panic_message(payload.as_ref()))
    })
}

fn is_stdin(p: &Path) -> bool {
    p.as_os_str() == "-"
}

fn read_input(path: &Path, limit: u64) -> Result<Vec<u8>, Failure> {
    if is_stdin(path) {
        Ok(read_reader_limited(
            std::io::stdin().lock(),
            limit,
            "standard input",
        )?)
    } else {
        Ok(read_limited(path, limit)?)
    }
}

fn write_stdout(bytes: &[u8]) -> Result<(), Failure> {
    let mut out = std::io::stdout().lock();
    out.write_all(bytes)
        .and_then(|()| out.flush())
        .map_err(|e| Failure::Usage(format!("writing standard output: {e}")))
}

fn run(command: Command) -> Result<(), Failure> {
    match command {
        Command::Keygen { alg, out, force } => keys::keygen(alg, &out, force),
        Command::Digest { alg, http, files } => keys::digest(alg, http, &files),
        Command::Canon { file } => {
            let input = read_input(&file, MAX_JSON_INPUT)?;
            let canon = canonical::canonicalize(&input)?;
            write_stdout(&canon)
        }
        Command::Dsse(c) => dsse::run(c),
        Command::SignBlob { key, bundle, file } => blob::sign_blob(&key, &bundle, &file),
        Command::Attest(c) => provenance::attest(c),
        Command::Verify(c) => provenance::verify(c),
        Command::VerifyBlob {
            key,
            trusted_root,
            certificate_identity,
            certificate_oidc_issuer,
            bundle,
            file,
        } => blob::verify_blob(
            key.as_deref(),
            trusted_root.as_deref(),
            certificate_identity.as_deref(),
            certificate_oidc_issuer.as_deref(),
            &bundle,
            &file,
        ),
        Command::Policy(c) => policy::run(c),
        Command::Pack(c) => pack::run(c),
        Command::Gate(c) => gate::run(c),
        Command::Sbom(args) => sbom::sbom(args),
    }
}

impl From<cos_policy::Error> for Failure {
    fn from(e: cos_policy::Error) -> Self {
        match e {
            cos_policy::Error::Core(c) => c.into(),
            e @ cos_policy::Error::SignatureInvalid { .. } => Failure::Invalid(e.to_string()),
            other => Failure::Usage(other.to_string()),
        }
    }
}

impl From<cos_supplychain::Error> for Failure {
    fn from(e: cos_supplychain::Error) -> Self {
        match e {
            cos_supplychain::Error::Core(c) => c.into(),
            e if e.is_verification_failure() => Failure::Invalid(e.to_string()),
            other => Failure::Usage(other.to_string()),
        }
    }
}

/// `SOURCE_DATE_EPOCH` from the environment: `None` when unset; a value
/// that is not whole seconds since 1970 (empty, signed, fractional, not
/// UTF-8, past 9999) is a usage error (exit 2) from
/// [`cos_core::time::parse_source_date_epoch`], the same for every command
/// that reads it (`pack build`, `pack serve`, `sbom`, `gate cve`).
pub(crate) fn source_date_epoch() -> Result<Option<u64>, Failure> {
    match std::env::var_os("SOURCE_DATE_EPOCH") {
        None => Ok(None),
        Some(v) => Ok(Some(cos_core::time::parse_source_date_epoch(
            &v.to_string_lossy(),
        )?)),
    }
}

fn load_pack(path: &Path) -> Result<cos_policy::Pack, Failure> {
    Ok(cos_policy::Pack::load(
        path,
        &cos_policy::Limits::default(),
    )?)
}

fn json_line(v: &serde_json::Value) -> Result<(), Failure> {
    let mut out = serde_json::to_vec_pretty(v).map_err(|e| Failure::Usage(e.to_string()))?;
    out.push(b'\n');
    write_stdout(&out)
}

#[cfg(test)]
#[allow(clippy::panic, reason = "the test provokes a panic")]
mod tests {
    use super::*;

    #[test]
    fn a_panic_is_caught_with_its_message() {
        let caught = catch_panics(|| -> u8 {
            if std::hint::black_box(true) {
                panic!("engine bug {}", 42);
            }
            0
        });
        assert!(
            caught
                .as_ref()
                .is_err_and(|m| m.starts_with("engine bug 42")),
            "{caught:?}"
        );
        assert_eq!(catch_panics(|| 7), Ok(7));
    }
}
