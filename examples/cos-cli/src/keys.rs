//! `cos keygen` and `cos digest`.

use std::path::{Path, PathBuf};

use clap::ValueEnum;
use cos_core::file::{Overwrite, write_atomic};
use cos_core::{Digest, DigestAlgorithm, KeyAlgorithm, PrivateKey};

use crate::{Failure, is_stdin, path_shown, write_stdout};

#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum AlgArg {
    Ed25519,
    EcdsaP256,
}

#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum DigestArg {
    Sha256,
    Sha512,
}

pub(crate) fn keygen(alg: AlgArg, out: &Path, force: bool) -> Result<(), Failure> {
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

pub(crate) fn digest(alg: DigestArg, http: bool, files: &[PathBuf]) -> Result<(), Failure> {
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
