//! `cos sign-blob` and `cos verify-blob` (Sigstore bundles for a file).

use std::path::Path;

use cos_core::PrivateKey;
use cos_core::file::{Overwrite, write_atomic};
use cos_core::text::shown;

use crate::{Failure, MAX_BLOB, read_input};

pub(crate) fn sign_blob(key: &Path, bundle: &Path, file: &Path) -> Result<(), Failure> {
    let key = PrivateKey::load(key)?;
    let blob = read_input(file, MAX_BLOB)?;
    let mut json = cos_core::sigstore::sign_blob(&blob, &key)?;
    json.push(b'\n');
    Ok(write_atomic(bundle, &json, None, Overwrite::Replace)?)
}

pub(crate) fn verify_blob(
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
