//! `cos pack build`, `verify`, `inspect` and `serve` (the server is in
//! serve.rs).

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use cos_core::file::{Overwrite, write_atomic};
use cos_core::text::shown;
use cos_core::{Digest, DigestAlgorithm, PrivateKey, PublicKey};

use crate::{Failure, json_line, load_pack, millis, path_shown, secs, serve, source_date_epoch};

#[derive(Args)]
pub(crate) struct SigArgs {
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

#[derive(Subcommand)]
pub(crate) enum PackCommand {
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
        /// its optional `<file>.sigstore.json` beside it), a pack source
        /// directory (with manifest.yaml; built with its tests), or an OPA
        /// bundle directory (with .manifest, or .rego files and no archive;
        /// served as `cos pack build` builds it).
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

/// Runs a `cos pack` command.
pub(crate) fn run(command: PackCommand) -> Result<(), Failure> {
    match command {
        PackCommand::Build {
            dir,
            out,
            sign,
            with_tests,
            sig,
        } => pack_build(&dir, &out, sign.as_deref(), with_tests, &sig.options()),
        PackCommand::Verify { path, public, sig } => pack_verify(&path, &public, &sig.options()),
        PackCommand::Inspect { path } => pack_inspect(&path),
        PackCommand::Serve {
            path,
            listen,
            sign_key,
            max_wait,
            watch_ms,
            header_timeout,
            max_connections,
        } => {
            let mtime = source_date_epoch()?.unwrap_or(0);
            let sign_key = sign_key.as_deref().map(PrivateKey::load).transpose()?;
            let limits = serve::limits(header_timeout, max_connections)?;
            serve::serve(
                serve::Source {
                    path,
                    sign_key,
                    mtime,
                },
                &listen,
                max_wait,
                watch_ms.max(std::time::Duration::from_millis(10)),
                limits,
            )
        }
    }
}

fn pack_build(
    dir: &Path,
    out: &Path,
    sign: Option<&Path>,
    with_tests: bool,
    opts: &cos_policy::SignatureOptions,
) -> Result<(), Failure> {
    // The entries' mtime: SOURCE_DATE_EPOCH, else 0.
    let mtime = source_date_epoch()?.unwrap_or(0);
    let pack = load_pack(dir)?;
    // Compile before writing: a bundle that does not compile is not built.
    cos_policy::PolicyEngine::new(&pack, cos_policy::EngineOptions::default())?;
    let bundle = match sign {
        Some(key) => {
            let key = PrivateKey::load(key)?;
            // A signing failure here is a usage problem (wrong key type).
            pack.build_signed_bundle_at(&key, opts, mtime)
                .map_err(|e| Failure::Usage(e.to_string()))?
        }
        None if with_tests => pack.build_bundle_with_tests_at(mtime)?,
        None => pack.build_bundle_at(mtime)?,
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
