//! `cos`: the CompanyOS command-line tool.
//!
//! Exit codes: 0 valid / done, 1 invalid (the evidence does not hold; a
//! one-line reason on stderr), 2 usage error or unreadable input.

mod provenance;
mod sbom;
mod serve;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};
use cos_core::dsse::{Envelope, MAX_ENVELOPE_SIZE};
use cos_core::file::{Overwrite, read_limited, read_reader_limited, write_atomic};
use cos_core::text::shown;
use cos_core::{Digest, DigestAlgorithm, KeyAlgorithm, PrivateKey, PublicKey, Verifier, canonical};
use cos_supplychain::vuln;

/// Largest JSON document `cos canon` reads.
const MAX_JSON_INPUT: u64 = 64 * 1024 * 1024;
/// Largest payload `cos dsse sign` reads (the envelope adds a third for base64).
const MAX_PAYLOAD: u64 = MAX_ENVELOPE_SIZE / 4 * 3 - 64 * 1024;
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
        alg: AlgArg,
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
        #[arg(long, value_enum, default_value_t = DigestArg::Sha256)]
        alg: DigestArg,
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
    Dsse(DsseCommand),
    /// Make attestations: SLSA provenance v1.
    #[command(subcommand)]
    Attest(provenance::AttestCommand),
    /// Verify attestations (SLSA provenance) like slsa-verifier, offline.
    #[command(subcommand)]
    Verify(provenance::VerifyCommand),
    /// Evaluate policy packs.
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// Build and inspect policy packs and OPA bundles.
    #[command(subcommand)]
    Pack(PackCommand),
    /// Software bills of materials: generate one from a lockfile
    /// (CycloneDX 1.5/1.6, SPDX 2.3 JSON), or merge / diff SBOMs.
    Sbom(sbom::SbomArgs),
    /// Release gates: the CVE budget gate, CVSS scores, licence policy.
    #[command(subcommand)]
    Gate(GateCommand),
}

#[derive(Subcommand)]
enum GateCommand {
    /// Licence policy over an SBOM.
    #[command(flatten)]
    Sbom(sbom::GateCommand),
    /// Judge vulnerability reports against a policy, with VEX and waivers
    /// (docs/cve-gate.md). Prints the verdict (text, or canonical JSON with
    /// --json); exit 0 pass, 1 blocked, 2 usage error or unreadable input.
    Cve(CveArgs),
    /// Print the score of each CVSS v3.0/v3.1/v4.0 vector (one per line from
    /// standard input when none is given): `SCORE SEVERITY VECTOR`, or a JSON
    /// list with --json. Exit 2 when a vector is invalid.
    Cvss {
        /// Vectors (`CVSS:3.1/AV:N/...`, `CVSS:4.0/AV:N/...`).
        vectors: Vec<String>,
        /// Print a JSON list of {vector, version, score, severity[, nomenclature]}
        /// (invalid vectors: {vector, error, code}).
        #[arg(long)]
        json: bool,
    },
}

#[derive(Args)]
struct CveArgs {
    /// A vulnerability report (OSV, Grype JSON, Trivy JSON, CycloneDX); repeat for several.
    #[arg(long = "report", required = true, value_name = "FILE")]
    reports: Vec<PathBuf>,
    /// Format of the reports (auto: recognised from each file's content).
    #[arg(long, value_enum, default_value_t = ReportFormatArg::Auto)]
    format: ReportFormatArg,
    /// A VEX document (OpenVEX or CycloneDX); repeat for several.
    #[arg(long = "vex", value_name = "FILE")]
    vex: Vec<PathBuf>,
    /// Waivers file (YAML or JSON).
    #[arg(long, value_name = "FILE")]
    waivers: Option<PathBuf>,
    /// Gate policy file (YAML or JSON); default: block CVSS 7.0 and above.
    #[arg(long, value_name = "FILE")]
    policy: Option<PathBuf>,
    /// The time waivers are judged at (RFC 3339); default: SOURCE_DATE_EPOCH
    /// when set, else the clock.
    #[arg(long, value_name = "TIME")]
    now: Option<String>,
    /// Print the verdict as canonical JSON instead of text.
    #[arg(long)]
    json: bool,
    /// Also write the canonical JSON verdict to this file (atomically), for
    /// the evidence bundle.
    #[arg(long, value_name = "FILE")]
    verdict: Option<PathBuf>,
}

#[derive(Clone, Copy, ValueEnum)]
enum ReportFormatArg {
    Auto,
    Osv,
    Grype,
    Trivy,
    Cyclonedx,
}

#[derive(Subcommand)]
enum PolicyCommand {
    /// Evaluate a document (`data.x.y`) for an input; prints `{"result": …}`,
    /// or `{}` when undefined, as OPA's Data API does.
    Eval {
        /// Pack directory, pack or bundle `.tar.gz`.
        #[arg(long, value_name = "PATH")]
        pack: PathBuf,
        /// Document to evaluate (`data.x.y` or `x/y`).
        #[arg(long, value_name = "QUERY")]
        query: String,
        /// Input document (JSON file, or `-` for standard input); without it `input` is undefined.
        #[arg(long, value_name = "FILE")]
        input: Option<PathBuf>,
        /// Fail on builtin errors instead of treating them as undefined.
        #[arg(long)]
        strict_builtin_errors: bool,
        /// Time limit for the evaluation (`1s`, `250ms`; a bare number is milliseconds).
        #[arg(long, default_value = "1000", value_name = "DURATION", value_parser = millis)]
        timeout_ms: std::time::Duration,
    },
    /// Check a pack like `opa check --strict`: parse and compile every
    /// module (tests included) with the OPA-parity checks; exit 1 on any
    /// error.
    Check {
        /// Pack directory, pack or bundle `.tar.gz`.
        path: PathBuf,
    },
    /// Run a pack's tests like `opa test` (exit 1 on any FAIL or ERROR).
    Test {
        /// Pack directory, pack or bundle `.tar.gz`.
        path: PathBuf,
        /// Report format.
        #[arg(long, value_enum, default_value_t = TestFormat::Pretty)]
        format: TestFormat,
        /// List every test, not only failures.
        #[arg(short, long)]
        verbose: bool,
        /// Only tests whose `data.pkg.name` contains this text.
        #[arg(long, value_name = "TEXT")]
        run: Option<String>,
        /// Print the line coverage report (OPA's JSON shape) instead of the results.
        #[arg(long)]
        coverage: bool,
        /// Fail on builtin errors instead of treating them as undefined.
        #[arg(long)]
        strict_builtin_errors: bool,
        /// Time limit of each test, as `opa test --timeout` (`500ms`, `5s`, `1m`; `0`: none).
        #[arg(long, default_value = "5s", value_name = "DURATION", value_parser = test_timeout)]
        timeout: TestTimeout,
    },
}

/// `cos policy test --timeout`: `None` for no limit.
#[derive(Clone, Copy, Debug)]
struct TestTimeout(Option<std::time::Duration>);

/// A duration option whose bare numbers are seconds (`60`, `60s`, `2m`).
fn secs(s: &str) -> Result<std::time::Duration, String> {
    cos_core::time::parse_duration(s, cos_core::time::BareUnit::Seconds).map_err(|e| e.to_string())
}

/// A duration option whose bare numbers are milliseconds (`1000`, `1s`).
fn millis(s: &str) -> Result<std::time::Duration, String> {
    cos_core::time::parse_duration(s, cos_core::time::BareUnit::Millis).map_err(|e| e.to_string())
}

/// A duration as `opa test --timeout` takes it (`500ms`, `5s`, `2m`; `0` for none).
fn test_timeout(s: &str) -> Result<TestTimeout, String> {
    let d = secs(s)?;
    Ok(TestTimeout((!d.is_zero()).then_some(d)))
}

#[derive(Args)]
struct SigArgs {
    /// Key id: the JWS `kid` when signing; when verifying, a signature that
    /// names a key id must name this one.
    #[arg(long, value_name = "ID")]
    key_id: Option<String>,
    /// Scope claim to write, or to require.
    #[arg(long, value_name = "SCOPE")]
    scope: Option<String>,
}

impl SigArgs {
    fn options(&self) -> cos_policy::SignatureOptions {
        cos_policy::SignatureOptions {
            key_id: self.key_id.clone(),
            scope: self.scope.clone(),
        }
    }
}

#[derive(Clone, Copy, ValueEnum)]
enum TestFormat {
    Pretty,
    Json,
}

#[derive(Subcommand)]
enum PackCommand {
    /// Build a pack directory into an OPA-compatible bundle (`.tar.gz`).
    Build {
        /// The pack directory (with manifest.yaml) or an OPA bundle directory.
        dir: PathBuf,
        /// Where to write the bundle (atomically).
        #[arg(short = 'o', long, value_name = "FILE")]
        out: PathBuf,
        /// Sign the bundle (OPA `.signatures.json`, ES256) with this ECDSA P-256 key.
        #[arg(long, value_name = "KEY", conflicts_with = "with_tests")]
        sign: Option<PathBuf>,
        /// Include the pack's tests (for `opa test`); not for release bundles.
        #[arg(long)]
        with_tests: bool,
        #[command(flatten)]
        sig: SigArgs,
    },
    /// Verify a signed bundle's `.signatures.json` (exit 1 when it does not hold).
    Verify {
        /// The bundle (`.tar.gz`) or bundle directory.
        path: PathBuf,
        /// The ECDSA P-256 public key (SPKI PEM).
        #[arg(long = "pub", value_name = "PUB")]
        public: PathBuf,
        #[command(flatten)]
        sig: SigArgs,
    },
    /// Print what a pack or bundle contains, as JSON.
    Inspect {
        /// Pack directory, pack or bundle `.tar.gz`.
        path: PathBuf,
    },
    /// Serve packs over HTTP for the TypeScript cos-policy-fetcher, OPA's
    /// bundle plugin and cos's own client: ETag, Digest, x-cosign-bundle,
    /// `<name>/attestation`, and long polling (`Prefer: wait=<s>` with
    /// `If-None-Match`). Changed files are published by themselves.
    Serve {
        /// A pack archive (`.tar.gz`), a directory of archives (each with
        /// its optional `<file>.sigstore.json` beside it), or a pack source
        /// directory (with manifest.yaml; built with its tests).
        path: PathBuf,
        /// Address to listen on (port 0 picks a free one; the address is
        /// printed on standard output).
        #[arg(long, default_value = "127.0.0.1:8282", value_name = "ADDR")]
        listen: String,
        /// Sign archives that have no bundle beside them with this key
        /// (Sigstore bundle, public-key hint).
        #[arg(long, value_name = "KEY")]
        sign_key: Option<PathBuf>,
        /// Longest a long poll is held (`60s`, `2m`; a bare number is seconds).
        #[arg(long, default_value = "60s", value_name = "DURATION", value_parser = secs)]
        max_wait: std::time::Duration,
        /// How often files are checked for changes (`200ms`, `1s`; a bare number is milliseconds; at least 10ms).
        #[arg(long, default_value = "200", value_name = "DURATION", value_parser = millis)]
        watch_ms: std::time::Duration,
        /// Seconds for a request's headers to arrive; also the longest a
        /// connection may sit idle before its first request or between
        /// keep-alive requests (then it is closed).
        #[arg(long, default_value = "10s", value_name = "DURATION", value_parser = secs)]
        header_timeout: std::time::Duration,
        /// Connections held at once; past it the one idle the longest is
        /// closed for the newcomer (default: from the open-files limit,
        /// `ulimit -n`, less an eighth).
        #[arg(long, value_name = "N")]
        max_connections: Option<usize>,
    },
}

#[derive(Subcommand)]
enum DsseCommand {
    /// Sign FILE's bytes as the payload of a DSSE envelope (printed, or written to --out).
    Sign {
        /// Private key (PKCS#8 PEM); repeat to sign with several keys.
        #[arg(long = "key", required = true, value_name = "KEY")]
        keys: Vec<PathBuf>,
        /// The payload type, e.g. application/vnd.in-toto+json.
        #[arg(long, value_name = "TYPE")]
        payload_type: String,
        /// Write the envelope here (atomically) instead of standard output.
        #[arg(long, short = 'o', value_name = "OUT")]
        out: Option<PathBuf>,
        /// The payload file (`-` for standard input).
        file: PathBuf,
    },
    /// Verify a DSSE envelope against trusted public keys.
    Verify(VerifyArgs),
}

#[derive(Args)]
struct VerifyArgs {
    /// Trusted public key (SPKI PEM); repeat for several.
    #[arg(long = "pub", required = true, value_name = "PUB")]
    pubs: Vec<PathBuf>,
    /// How many distinct trusted keys must have signed.
    #[arg(long, default_value_t = 1)]
    threshold: usize,
    /// Require this payload type.
    #[arg(long, value_name = "TYPE")]
    payload_type: Option<String>,
    /// Print the verified payload to standard output.
    #[arg(long)]
    print_payload: bool,
    /// The envelope (JSON).
    envelope: PathBuf,
}

#[derive(Clone, Copy, ValueEnum)]
enum AlgArg {
    Ed25519,
    EcdsaP256,
}

#[derive(Clone, Copy, ValueEnum)]
enum DigestArg {
    Sha256,
    Sha512,
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
        Command::Keygen { alg, out, force } => keygen(alg, &out, force),
        Command::Digest { alg, http, files } => digest(alg, http, &files),
        Command::Canon { file } => {
            let input = read_input(&file, MAX_JSON_INPUT)?;
            let canon = canonical::canonicalize(&input)?;
            write_stdout(&canon)
        }
        Command::Dsse(DsseCommand::Sign {
            keys,
            payload_type,
            out,
            file,
        }) => dsse_sign(&keys, &payload_type, out.as_deref(), &file),
        Command::Dsse(DsseCommand::Verify(args)) => dsse_verify(&args),
        Command::SignBlob { key, bundle, file } => sign_blob(&key, &bundle, &file),
        Command::Attest(c) => provenance::attest(c),
        Command::Verify(c) => provenance::verify(c),
        Command::VerifyBlob {
            key,
            trusted_root,
            certificate_identity,
            certificate_oidc_issuer,
            bundle,
            file,
        } => verify_blob(
            key.as_deref(),
            trusted_root.as_deref(),
            certificate_identity.as_deref(),
            certificate_oidc_issuer.as_deref(),
            &bundle,
            &file,
        ),
        Command::Policy(PolicyCommand::Eval {
            pack,
            query,
            input,
            strict_builtin_errors,
            timeout_ms,
        }) => policy_eval(
            &pack,
            &query,
            input.as_deref(),
            strict_builtin_errors,
            timeout_ms,
        ),
        Command::Policy(PolicyCommand::Check { path }) => policy_check(&path),
        Command::Policy(PolicyCommand::Test {
            path,
            format,
            verbose,
            run,
            coverage,
            strict_builtin_errors,
            timeout,
        }) => policy_test(
            &path,
            format,
            verbose,
            run.as_deref(),
            coverage,
            strict_builtin_errors,
            timeout.0,
        ),
        Command::Pack(PackCommand::Build {
            dir,
            out,
            sign,
            with_tests,
            sig,
        }) => pack_build(&dir, &out, sign.as_deref(), with_tests, &sig.options()),
        Command::Pack(PackCommand::Verify { path, public, sig }) => {
            pack_verify(&path, &public, &sig.options())
        }
        Command::Pack(PackCommand::Inspect { path }) => pack_inspect(&path),
        Command::Gate(GateCommand::Cve(args)) => gate_cve(&args),
        Command::Gate(GateCommand::Cvss { vectors, json }) => gate_cvss(vectors, json),
        Command::Gate(GateCommand::Sbom(command)) => sbom::gate(command),
        Command::Sbom(args) => sbom::sbom(args),
        Command::Pack(PackCommand::Serve {
            path,
            listen,
            sign_key,
            max_wait,
            watch_ms,
            header_timeout,
            max_connections,
        }) => {
            let sign_key = sign_key.as_deref().map(PrivateKey::load).transpose()?;
            let limits = serve::limits(header_timeout, max_connections)?;
            serve::serve(
                serve::Source { path, sign_key },
                &listen,
                max_wait,
                watch_ms.max(std::time::Duration::from_millis(10)),
                limits,
            )
        }
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

/// The time a gate judges at: --now, else SOURCE_DATE_EPOCH, else the clock.
fn gate_now(now: Option<&str>) -> Result<vuln::Timestamp, Failure> {
    if let Some(t) = now {
        return Ok(vuln::Timestamp::parse(t)?);
    }
    match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(v) if !v.trim().is_empty() => v
            .trim()
            .parse::<i64>()
            .map(vuln::Timestamp::from_unix)
            .map_err(|_| {
                Failure::Usage(format!(
                    "SOURCE_DATE_EPOCH {v:?} is not a number of seconds"
                ))
            }),
        _ => Ok(vuln::Timestamp::now()),
    }
}

fn gate_cve(args: &CveArgs) -> Result<(), Failure> {
    let limits = vuln::Limits::default();
    let max = limits.max_bytes as u64;
    let format = match args.format {
        ReportFormatArg::Auto => vuln::ReportFormat::Auto,
        ReportFormatArg::Osv => vuln::ReportFormat::Osv,
        ReportFormatArg::Grype => vuln::ReportFormat::Grype,
        ReportFormatArg::Trivy => vuln::ReportFormat::Trivy,
        ReportFormatArg::Cyclonedx => vuln::ReportFormat::Cyclonedx,
    };
    let now = gate_now(args.now.as_deref())?;
    let policy = match &args.policy {
        Some(p) => vuln::Policy::from_slice(&read_input(p, max)?)
            .map_err(|e| Failure::Usage(format!("{}: {e}", p.display())))?,
        None => vuln::Policy::default(),
    };
    let mut reports = Vec::new();
    for p in &args.reports {
        let name = p.display().to_string();
        let bytes = read_input(p, max)?;
        reports.push(
            vuln::parse_report(&bytes, format, &name, &limits)
                .map_err(|e| Failure::Usage(format!("{name}: {e}")))?,
        );
    }
    let mut vex = Vec::new();
    for p in &args.vex {
        let name = p.display().to_string();
        let bytes = read_input(p, max)?;
        vex.push(
            vuln::parse_vex(&bytes, vuln::VexFormat::Auto, &name, &limits)
                .map_err(|e| Failure::Usage(format!("{name}: {e}")))?,
        );
    }
    let waivers = match &args.waivers {
        Some(p) => vuln::parse_waivers(&read_input(p, max)?, &limits)
            .map_err(|e| Failure::Usage(format!("{}: {e}", p.display())))?,
        None => Vec::new(),
    };
    let verdict = vuln::evaluate(vuln::GateInput {
        policy: &policy,
        reports: &reports,
        vex: &vex,
        waivers: &waivers,
        now,
    });
    let mut json = verdict.to_json()?;
    json.push(b'\n');
    if let Some(out) = &args.verdict {
        write_atomic(out, &json, Some(0o644), Overwrite::Replace)?;
    }
    if args.json {
        write_stdout(&json)?;
    } else {
        write_stdout(verdict.to_text().as_bytes())?;
    }
    if verdict.passed() {
        Ok(())
    } else {
        Err(Failure::Invalid(format!(
            "CVE gate failed: {} of {} findings block",
            verdict.counts.blocking, verdict.counts.findings
        )))
    }
}

fn gate_cvss(vectors: Vec<String>, json: bool) -> Result<(), Failure> {
    let vectors = if vectors.is_empty() {
        let input = read_input(Path::new("-"), MAX_JSON_INPUT)?;
        String::from_utf8_lossy(&input)
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect()
    } else {
        vectors
    };
    let mut out = String::new();
    let mut items = Vec::new();
    let mut errors = 0usize;
    for v in &vectors {
        match vuln::score_vector(v) {
            Ok(s) => {
                if json {
                    items
                        .push(serde_json::to_value(&s).map_err(|e| Failure::Usage(e.to_string()))?);
                } else {
                    out.push_str(&format!(
                        "{:.1} {} {}\n",
                        s.score,
                        s.severity,
                        shown(&s.vector)
                    ));
                }
            }
            Err(e) => {
                errors += 1;
                if json {
                    items.push(
                        serde_json::json!({"vector": v, "error": e.to_string(), "code": e.code()}),
                    );
                } else {
                    eprintln!("cos: error: {}", reason_text(&e.to_string()));
                }
            }
        }
    }
    if json {
        json_line(&serde_json::Value::Array(items))?;
    } else {
        write_stdout(out.as_bytes())?;
    }
    if errors > 0 {
        return Err(Failure::Usage(format!(
            "{errors} of {} vectors are invalid",
            vectors.len()
        )));
    }
    Ok(())
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

fn policy_eval(
    pack: &Path,
    query: &str,
    input: Option<&Path>,
    strict: bool,
    timeout_ms: std::time::Duration,
) -> Result<(), Failure> {
    let pack = load_pack(pack)?;
    let options = cos_policy::EngineOptions {
        strict_builtin_errors: strict,
        time_limit: Some(timeout_ms),
        ..Default::default()
    };
    let engine = cos_policy::PolicyEngine::new(&pack, options)?;
    let input = match input {
        Some(p) => {
            let bytes = read_input(p, MAX_JSON_INPUT)?;
            // Every number exact, as OPA reads it; one beyond the float
            // range (`1e400`) is refused (exit 2), not decided on rounded.
            let input = cos_policy::Input::from_json_text("input", &bytes)
                .map_err(|e| Failure::Usage(format!("input: {e}")))?;
            Some(input)
        }
        None => None,
    };
    // `{"result": …}` as OPA's `eval --format json` of a Data API answer,
    // the result's numbers written exactly.
    let doc = match engine.evaluate(query, input.as_ref())? {
        Some(result) => format!(
            "{{\n  \"result\": {}\n}}\n",
            result.to_json_pretty()?.replace('\n', "\n  ")
        ),
        None => "{}\n".to_owned(),
    };
    write_stdout(doc.as_bytes())
}

fn policy_check(path: &Path) -> Result<(), Failure> {
    let pack = load_pack(path)?;
    match cos_policy::PolicyEngine::with_tests(&pack, cos_policy::EngineOptions::default()) {
        Ok(_) => {
            let n = pack.modules().len() + pack.tests().len();
            write_stdout(format!("ok: {n} modules\n").as_bytes())
        }
        Err(e @ cos_policy::Error::Compile { .. }) => Err(Failure::Invalid(e.to_string())),
        Err(e) => Err(e.into()),
    }
}

fn policy_test(
    path: &Path,
    format: TestFormat,
    verbose: bool,
    run: Option<&str>,
    coverage: bool,
    strict: bool,
    timeout: Option<std::time::Duration>,
) -> Result<(), Failure> {
    let pack = load_pack(path)?;
    // Each test is one evaluation: the engine's time limit is the test's.
    let options = cos_policy::EngineOptions {
        strict_builtin_errors: strict,
        time_limit: timeout,
        ..Default::default()
    };
    let report = if coverage {
        cos_policy::run_tests_with_coverage(&pack, options, run)?
    } else {
        cos_policy::run_tests(&pack, options, run)?
    };
    match (report.coverage_json(), format) {
        (Some(cov), _) => json_line(&cov)?,
        (None, TestFormat::Pretty) => write_stdout(report.to_text(verbose).as_bytes())?,
        (None, TestFormat::Json) => json_line(&report.to_json())?,
    }
    if report.success() {
        Ok(())
    } else {
        Err(Failure::Invalid(format!(
            "{} failed, {} errors of {} tests",
            report.failed(),
            report.errored(),
            report.results.len()
        )))
    }
}

fn pack_build(
    dir: &Path,
    out: &Path,
    sign: Option<&Path>,
    with_tests: bool,
    opts: &cos_policy::SignatureOptions,
) -> Result<(), Failure> {
    let pack = load_pack(dir)?;
    // Compile before writing: a bundle that does not compile is not built.
    cos_policy::PolicyEngine::new(&pack, cos_policy::EngineOptions::default())?;
    let bundle = match sign {
        Some(key) => {
            let key = PrivateKey::load(key)?;
            // A signing failure here is a usage problem (wrong key type).
            pack.build_signed_bundle(&key, opts)
                .map_err(|e| Failure::Usage(e.to_string()))?
        }
        None if with_tests => pack.build_bundle_with_tests()?,
        None => pack.build_bundle()?,
    };
    write_atomic(out, &bundle, Some(0o644), Overwrite::Replace)?;
    let digest = Digest::of_bytes(DigestAlgorithm::Sha256, &bundle);
    eprintln!(
        "cos: built {} {} (revision \"{}\") into {}: {digest}, pack digest {}",
        shown(&pack.manifest().name),
        shown(&pack.manifest().version.to_string()),
        shown(&pack.manifest().revision),
        path_shown(out),
        pack.digest()
    );
    Ok(())
}

fn pack_verify(
    path: &Path,
    public: &Path,
    opts: &cos_policy::SignatureOptions,
) -> Result<(), Failure> {
    let key = PublicKey::load(public)?;
    let pack = load_pack(path)?;
    let v = pack.verify_signature(&key, opts)?;
    eprintln!(
        "cos: verified: {} files of {} {} (revision \"{}\") signed by {}{}",
        v.claims.files.len(),
        shown(&pack.manifest().name),
        shown(&pack.manifest().version.to_string()),
        shown(&pack.manifest().revision),
        key.key_id(),
        v.key_id
            .map(|k| format!(" (kid \"{}\")", shown(&k)))
            .unwrap_or_default()
    );
    Ok(())
}

fn pack_inspect(path: &Path) -> Result<(), Failure> {
    let pack = load_pack(path)?;
    let m = pack.manifest();
    let files: Vec<serde_json::Value> = pack
        .files()
        .iter()
        .map(|(p, b)| {
            serde_json::json!({
                "path": p,
                "size": b.len(),
                "digest": Digest::of_bytes(DigestAlgorithm::Sha256, b).to_string(),
            })
        })
        .collect();
    let doc = serde_json::json!({
        "layout": match pack.layout() { cos_policy::Layout::Pack => "pack", cos_policy::Layout::Bundle => "bundle" },
        "name": m.name,
        "version": m.version.to_string(),
        "revision": m.revision,
        "rego_version": m.rego_version,
        "roots": m.roots,
        "entrypoints": m.entrypoints,
        "cohorts": m.cohorts,
        "digest": pack.digest().to_string(),
        "signed": pack.is_signed(),
        "modules": pack.modules().iter().map(|x| x.path.as_str()).collect::<Vec<_>>(),
        "tests": pack.tests().iter().map(|x| x.path.as_str()).collect::<Vec<_>>(),
        "data": pack.data_files().iter().map(|d| serde_json::json!({"path": d.path, "mount": d.mount})).collect::<Vec<_>>(),
        "files": files,
    });
    json_line(&doc)
}

fn keygen(alg: AlgArg, out: &Path, force: bool) -> Result<(), Failure> {
    let alg = match alg {
        AlgArg::Ed25519 => KeyAlgorithm::Ed25519,
        AlgArg::EcdsaP256 => KeyAlgorithm::EcdsaP256,
    };
    let key = PrivateKey::generate(alg)?;
    let with_ext = |ext: &str| {
        let mut s = out.as_os_str().to_owned();
        s.push(ext);
        PathBuf::from(s)
    };
    let (priv_path, pub_path) = (with_ext(".key"), with_ext(".pub"));
    let overwrite = if force {
        Overwrite::Replace
    } else {
        Overwrite::Refuse
    };
    if !force {
        for p in [&priv_path, &pub_path] {
            if p.symlink_metadata().is_ok() {
                return Err(Failure::Usage(format!(
                    "{} exists; use --force to replace it",
                    p.display()
                )));
            }
        }
    }
    key.save(&priv_path, overwrite)?;
    if let Err(e) = write_atomic(
        &pub_path,
        key.public_key().to_pem().as_bytes(),
        Some(0o644),
        overwrite,
    ) {
        // Leave no half-made pair behind.
        let _ = std::fs::remove_file(&priv_path);
        return Err(e.into());
    }
    println!(
        "{} key {} written to {} and {}",
        alg,
        key.public_key().key_id(),
        path_shown(&priv_path),
        path_shown(&pub_path)
    );
    Ok(())
}

fn digest(alg: DigestArg, http: bool, files: &[PathBuf]) -> Result<(), Failure> {
    let alg = match alg {
        DigestArg::Sha256 => DigestAlgorithm::Sha256,
        DigestArg::Sha512 => DigestAlgorithm::Sha512,
    };
    let mut lines = String::new();
    for f in files {
        let d = if is_stdin(f) {
            Digest::of_reader(alg, std::io::stdin().lock())
                .map_err(|e| Failure::Usage(format!("reading standard input: {e}")))?
        } else {
            Digest::of_file(alg, f)?
        };
        let shown = if http {
            d.to_http_header()
        } else {
            d.to_string()
        };
        lines.push_str(&format!("{shown}  {}\n", path_shown(f)));
    }
    write_stdout(lines.as_bytes())
}

fn dsse_sign(
    keys: &[PathBuf],
    payload_type: &str,
    out: Option<&Path>,
    file: &Path,
) -> Result<(), Failure> {
    let keys = keys
        .iter()
        .map(PrivateKey::load)
        .collect::<Result<Vec<_>, _>>()?;
    let payload = read_input(file, MAX_PAYLOAD)?;
    let signers: Vec<&dyn cos_core::Signer> =
        keys.iter().map(|k| k as &dyn cos_core::Signer).collect();
    let env = Envelope::sign(payload_type, &payload, &signers)?;
    let mut json = env.to_json();
    json.push(b'\n');
    match out {
        Some(p) => Ok(write_atomic(p, &json, None, Overwrite::Replace)?),
        None => write_stdout(&json),
    }
}

fn sign_blob(key: &Path, bundle: &Path, file: &Path) -> Result<(), Failure> {
    let key = PrivateKey::load(key)?;
    let blob = read_input(file, MAX_BLOB)?;
    let mut json = cos_core::sigstore::sign_blob(&blob, &key)?;
    json.push(b'\n');
    Ok(write_atomic(bundle, &json, None, Overwrite::Replace)?)
}

fn verify_blob(
    key: Option<&Path>,
    trusted_root: Option<&Path>,
    identity: Option<&str>,
    issuer: Option<&str>,
    bundle: &Path,
    file: &Path,
) -> Result<(), Failure> {
    let key = key
        .map(|k| read_input(k, cos_core::key::MAX_KEY_FILE))
        .transpose()?;
    let key = key
        .map(|k| String::from_utf8(k).map_err(|_| Failure::Usage("the key is not PEM text".into())))
        .transpose()?;
    let root = trusted_root
        .map(|r| read_input(r, cos_supplychain::sigstore::MAX_TRUSTED_ROOT_SIZE as u64))
        .transpose()?;
    if key.is_none() && (identity.is_none() || issuer.is_none()) {
        return Err(Failure::Usage(
            "keyless verification needs --certificate-identity and \
             --certificate-oidc-issuer (or give --key)"
                .into(),
        ));
    }
    let verifier =
        cos_supplychain::sigstore::blob_verifier(key.as_deref(), root.as_deref(), identity, issuer)
            .map_err(|e| match e {
                cos_supplychain::Error::Core(e) => Failure::from(e),
                other => Failure::Usage(other.to_string()),
            })?;
    let bundle = read_input(bundle, cos_core::sigstore::MAX_BUNDLE_SIZE)?;
    let blob = read_input(file, MAX_BLOB)?;
    let verified = verifier.verify_blob(&blob, &bundle)?;
    let unchecked = verified.unchecked_tlog_entries + verified.unchecked_timestamps;
    let signer = match (&verified.identity, &verified.issuer) {
        (Some(id), Some(iss)) => format!("{} (issuer {})", shown(id), shown(iss)),
        _ => format!("key {}", shown(&verified.key_id)),
    };
    eprintln!(
        "cos: verified: {} signed by {signer}{}",
        verified.artifact_digest,
        if unchecked == 0 && root.is_some() {
            " (transparency-log entry verified)".to_owned()
        } else if unchecked > 0 {
            format!(" ({unchecked} transparency-log entries / timestamps not checked in key mode)")
        } else {
            String::new()
        }
    );
    Ok(())
}

fn dsse_verify(args: &VerifyArgs) -> Result<(), Failure> {
    let keys = args
        .pubs
        .iter()
        .map(PublicKey::load)
        .collect::<Result<Vec<_>, _>>()?;
    let bytes = read_input(&args.envelope, MAX_ENVELOPE_SIZE)?;
    // A malformed envelope (e.g. a changed byte broke its base64) is
    // evidence that does not hold: exit 1, like a bad signature.
    let env = Envelope::from_json(&bytes)?;
    let trusted: Vec<&dyn Verifier> = keys.iter().map(|k| k as &dyn Verifier).collect();
    let verified = env.verify(&trusted, args.threshold, args.payload_type.as_deref())?;
    eprintln!(
        "cos: verified: payloadType \"{}\", {} of {} trusted keys signed (threshold {}): {}",
        shown(&verified.payload_type),
        verified.key_ids.len(),
        trusted.len(),
        args.threshold,
        verified.key_ids.join(", ")
    );
    if args.print_payload {
        write_stdout(&env.payload)?;
    }
    Ok(())
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
