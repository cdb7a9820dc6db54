//! `cos dsse sign` and `cos dsse verify`.

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use cos_core::dsse::{Envelope, MAX_ENVELOPE_SIZE};
use cos_core::file::{Overwrite, write_atomic};
use cos_core::text::shown;
use cos_core::{PrivateKey, PublicKey, Verifier};

use crate::{Failure, read_input, write_stdout};

/// Largest payload `cos dsse sign` reads (the envelope adds a third for base64).
const MAX_PAYLOAD: u64 = MAX_ENVELOPE_SIZE / 4 * 3 - 64 * 1024;

#[derive(Subcommand)]
pub(crate) enum DsseCommand {
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
pub(crate) struct VerifyArgs {
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

/// Runs a `cos dsse` command.
pub(crate) fn run(command: DsseCommand) -> Result<(), Failure> {
    match command {
        DsseCommand::Sign {
            keys,
            payload_type,
            out,
            file,
        } => dsse_sign(&keys, &payload_type, out.as_deref(), &file),
        DsseCommand::Verify(args) => dsse_verify(&args),
    }
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
