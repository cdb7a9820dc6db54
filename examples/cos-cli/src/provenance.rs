//! `cos attest provenance` and `cos verify provenance`: SLSA provenance v1
//! made from a build description, and verified the way `slsa-verifier
//! verify-artifact` does (`cos_supplychain::slsa`).

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use cos_core::file::{Overwrite, write_atomic};
use cos_core::statement::Subject;
use cos_core::{Digest, DigestAlgorithm, PrivateKey, PublicKey};
use cos_supplychain::slsa::{self, BuildDescription, Expectations};

use cos_core::text::shown;

use crate::{Failure, MAX_BLOB, read_input, write_stdout};

#[derive(Subcommand)]
pub(crate) enum AttestCommand {
    /// Make SLSA provenance v1 for artefacts from a build description
    /// (JSON: builder_id, build_type, external_parameters, source
    /// {repository, commit, ref}, resolved_dependencies, invocation_id,
    /// started_on, finished_on), signed as a DSSE envelope or a Sigstore bundle.
    Provenance(AttestProvenance),
}

#[derive(Args)]
pub(crate) struct AttestProvenance {
    /// The build description (JSON).
    #[arg(long, value_name = "JSON")]
    build: PathBuf,
    /// An artefact the build produced (repeatable); its SHA-256 becomes a subject.
    #[arg(long = "subject", value_name = "FILE", required = true)]
    subjects: Vec<PathBuf>,
    /// Private key (PKCS#8 PEM).
    #[arg(long, value_name = "KEY")]
    key: PathBuf,
    /// Write a Sigstore bundle (v0.3, DSSE, public-key hint) instead of a DSSE envelope.
    #[arg(long)]
    bundle: bool,
    /// Where to write it (atomically).
    #[arg(short = 'o', long, value_name = "OUT")]
    out: PathBuf,
}

#[derive(Subcommand)]
pub(crate) enum VerifyCommand {
    /// Verify SLSA provenance for an artefact, offline: the signature (DSSE
    /// with a key, or a Sigstore bundle: key, or keyless against a trusted
    /// root with identity and issuer), then the artefact among the subjects,
    /// the builder id, the source repository and, if given, branch or tag.
    #[command(group(clap::ArgGroup::new("trust").required(true).args(["key", "trusted_root"])))]
    Provenance(VerifyProvenance),
}

#[derive(Args)]
pub(crate) struct VerifyProvenance {
    /// The provenance: a DSSE envelope (one JSON object, or the first line
    /// of an .intoto.jsonl) or a Sigstore bundle.
    #[arg(long, value_name = "FILE")]
    provenance: PathBuf,
    /// Trusted public key (SPKI PEM).
    #[arg(long, value_name = "PUB")]
    key: Option<PathBuf>,
    /// trusted_root.json (keyless bundles).
    #[arg(long, value_name = "JSON", requires_all = ["certificate_identity", "certificate_oidc_issuer"])]
    trusted_root: Option<PathBuf>,
    /// Expected certificate identity (SAN, exact) of a keyless bundle.
    #[arg(long, value_name = "ID")]
    certificate_identity: Option<String>,
    /// Expected OIDC issuer of a keyless bundle's certificate.
    #[arg(long, value_name = "URL")]
    certificate_oidc_issuer: Option<String>,
    /// Expected builder id (without @version: any version of that builder).
    #[arg(long, value_name = "ID")]
    builder_id: String,
    /// Expected source repository (e.g. github.com/acme/app).
    #[arg(long, value_name = "URI")]
    source_uri: String,
    /// Expected branch (main or refs/heads/main).
    #[arg(long, value_name = "BRANCH", conflicts_with = "source_tag")]
    source_branch: Option<String>,
    /// Expected tag (v1.2.0 or refs/tags/v1.2.0).
    #[arg(long, value_name = "TAG")]
    source_tag: Option<String>,
    /// Expected build type (exact).
    #[arg(long, value_name = "URI")]
    build_type: Option<String>,
    /// Print what was verified as JSON on standard output.
    #[arg(long)]
    json: bool,
    /// The artefact (`-` for standard input).
    artifact: PathBuf,
}

fn failure(e: cos_supplychain::Error) -> Failure {
    match e {
        cos_supplychain::Error::Core(e) => Failure::from(e),
        e if e.is_verification_failure() => Failure::Invalid(e.to_string()),
        e => Failure::Usage(e.to_string()),
    }
}

pub(crate) fn attest(command: AttestCommand) -> Result<(), Failure> {
    let AttestCommand::Provenance(args) = command;
    let build = BuildDescription::from_json(&read_input(
        &args.build,
        slsa::MAX_BUILD_DESCRIPTION as u64,
    )?)
    .map_err(failure)?;
    let key = PrivateKey::load(&args.key)?;
    let mut subjects = Vec::with_capacity(args.subjects.len());
    for path in &args.subjects {
        let bytes = read_input(path, MAX_BLOB)?;
        let name = path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        subjects.push(Subject::new(
            name,
            &Digest::of_bytes(DigestAlgorithm::Sha256, &bytes),
        ));
    }
    let format = if args.bundle {
        slsa::SignatureFormat::SigstoreBundle
    } else {
        slsa::SignatureFormat::Dsse
    };
    let mut out = slsa::attest(&build, subjects, &key, format).map_err(failure)?;
    out.push(b'\n');
    Ok(write_atomic(&args.out, &out, None, Overwrite::Replace)?)
}

fn read_key(path: &Path) -> Result<PublicKey, Failure> {
    let pem = read_input(path, cos_core::key::MAX_KEY_FILE)?;
    let pem =
        String::from_utf8(pem).map_err(|_| Failure::Usage("the key is not PEM text".into()))?;
    Ok(PublicKey::from_pem(&pem)?)
}

pub(crate) fn verify(command: VerifyCommand) -> Result<(), Failure> {
    let VerifyCommand::Provenance(args) = command;
    let mut expect = Expectations::new(&args.builder_id, &args.source_uri);
    if let Some(b) = &args.source_branch {
        expect = expect.branch(b);
    }
    if let Some(t) = &args.source_tag {
        expect = expect.tag(t);
    }
    if let Some(t) = &args.build_type {
        expect = expect.build_type(t);
    }
    let provenance = read_input(&args.provenance, slsa::MAX_PROVENANCE)?;
    let artifact = read_input(&args.artifact, MAX_BLOB)?;
    // The key as PEM text: read (and checked) here, with the CLI's limits.
    let pem = args
        .key
        .as_deref()
        .map(read_key)
        .transpose()?
        .map(|k| k.to_pem());
    let root = args
        .trusted_root
        .as_deref()
        .map(|r| read_input(r, cos_supplychain::sigstore::MAX_TRUSTED_ROOT_SIZE as u64))
        .transpose()?;
    let mut trust = slsa::Trust::default();
    trust.public_key = pem.as_deref();
    trust.trusted_root = root.as_deref();
    trust.identity = args.certificate_identity.as_deref();
    trust.issuer = args.certificate_oidc_issuer.as_deref();
    let verified =
        slsa::verify_provenance(&provenance, &artifact, &trust, &expect).map_err(failure)?;
    eprintln!(
        "cos: verified: {} ({}) built by {} from {}{}{}, signed by {}",
        shown(&verified.subject),
        verified.artifact_digest,
        shown(&verified.builder_id),
        shown(&verified.source_uri),
        verified
            .source_ref
            .as_deref()
            .map(|r| format!(" {}", shown(r)))
            .unwrap_or_default(),
        verified
            .source_commit
            .as_deref()
            .map(|c| format!(" at {}", shown(c)))
            .unwrap_or_default(),
        shown(&verified.signer)
    );
    if args.json {
        let mut out = serde_json::to_vec_pretty(&verified)
            .map_err(|e| Failure::Usage(format!("encoding the result: {e}")))?;
        out.push(b'\n');
        write_stdout(&out)?;
    }
    Ok(())
}
