//! Verifying a distributed pack before anything uses it, and unpacking it
//! safely: the checks of the TypeScript `cos-policy-fetcher` (BrianCLong/summit
//! `clients/cos-policy-fetcher`), done in-process.
//!
//! That fetcher GETs a pack archive, requires a `digest: sha-256=<hex>` header
//! and compares it with the body, verifies a Sigstore bundle (from the
//! `x-cosign-bundle` header or `<url>/attestation`) by running `cosign
//! verify-blob`, and unpacks the archive into a fresh temporary directory.
//! [`verify_archive`] does the digest and bundle checks with the caller's
//! public key (no cosign binary); [`unpack`] writes a verified pack's files
//! into a directory atomically; [`verify_and_unpack_file`] does both for a
//! pack file on disk, finding its bundle beside it. The errors carry the
//! fetcher's messages, so callers matching on them keep working:
//! `missing verification headers`, `digest mismatch: <actual> != <expected>`,
//! `cosign verify failed: <reason>`.
//!
//! The HTTP client (ETag, long polling, retries) is a separate, opt-in part
//! of the distribution work; everything here is synchronous and local.
//!
//! ```
//! use cos_core::{KeyAlgorithm, PrivateKey, sigstore};
//! use cos_policy::distribution::{Verification, verify_archive};
//!
//! # let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
//! #     .join("../examples/policy-packs/companyos-baseline");
//! # let pack = cos_policy::Pack::load(&dir, &Default::default()).unwrap();
//! let archive = pack.build_bundle().unwrap();
//! let key = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
//! let bundle = sigstore::sign_blob(&archive, &key).unwrap();
//! let digest = cos_core::Digest::of_bytes(cos_core::DigestAlgorithm::Sha256, &archive);
//!
//! let header = format!("sha-256={}", digest.hex());
//! let check = Verification { digest_header: Some(&header), bundle: Some(&bundle), key: key.public_key() };
//! let verified = verify_archive(&archive, &check, &Default::default()).unwrap();
//! assert_eq!(verified.pack.manifest().name, pack.manifest().name);
//! ```

#[cfg(feature = "http")]
#[cfg_attr(docsrs, doc(cfg(feature = "http")))]
pub mod http;
pub mod publish;

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use cos_core::Digest;
use cos_core::sigstore::{BlobVerifier, VerifiedBlob};

use crate::bundle::pack::{Limits, Pack, PackFiles};
use crate::error::{DistributionError, Error, Result};

/// Suffixes tried, in order, for the Sigstore bundle of a pack file on disk
/// (`pack.tar.gz` → `pack.tar.gz.sigstore.json`, then `pack.tar.gz.bundle`).
pub const BUNDLE_SUFFIXES: [&str; 2] = [".sigstore.json", ".bundle"];

/// What to check a downloaded archive against.
#[derive(Clone, Copy)]
pub struct Verification<'a> {
    /// The `Digest` header's value: `sha-256=<hex>` (the fetcher's form) or
    /// RFC 3230 `sha-256=<base64>`. `None` when the transport gave none.
    pub digest_header: Option<&'a str>,
    /// The Sigstore bundle's JSON (new or legacy cosign format).
    pub bundle: Option<&'a [u8]>,
    /// Who must have signed the archive: a `cos_core::PublicKey` (key
    /// mode), or a keyless verifier with a trusted root and identity.
    pub key: &'a dyn BlobVerifier,
}

/// A pack whose archive passed [`verify_archive`].
#[derive(Debug)]
#[non_exhaustive]
pub struct VerifiedArchive {
    /// The pack, parsed and checked (limits, paths, manifest); its
    /// `files()` are what [`unpack`] writes.
    pub pack: Pack,
    /// SHA-256 of the archive.
    pub archive_digest: Digest,
    /// What the Sigstore bundle check established.
    pub signature: VerifiedBlob,
}

/// Checks an archive as the fetcher does, in its order: the digest header
/// must be present ([`DistributionError::MissingVerification`]) and match the bytes
/// ([`DistributionError::DigestMismatch`]); the Sigstore bundle must be present and
/// verify with the key ([`DistributionError::BundleVerification`]); then the archive
/// must be a valid pack or OPA bundle within `limits`.
///
/// What it guards: a download used directly (its files unpacked with
/// [`unpack`], or read as a [`Pack`]). It does not compile the policy or
/// run its tests. A pack that is to decide goes through
/// [`crate::store::PolicyStore::verify`] instead, which makes the same
/// Sigstore and archive checks by calling the same code (so the two accept
/// and refuse the same archives, with the same errors), then the OPA
/// signature, the compile and the tests.
pub fn verify_archive(
    archive: &[u8],
    check: &Verification<'_>,
    limits: &Limits,
) -> Result<VerifiedArchive> {
    let Some(header) = check.digest_header else {
        return Err(Error::from(DistributionError::MissingVerification));
    };
    verify_parts(archive, Some(header), check.bundle, check.key, limits)
}

/// [`verify_archive`] with the digest optional (a file on disk has no
/// transport whose integrity a header would vouch for); also the Sigstore
/// and archive checks of [`crate::store::PolicyStore::verify`].
pub(crate) fn verify_parts(
    archive: &[u8],
    digest_header: Option<&str>,
    bundle: Option<&[u8]>,
    key: &dyn BlobVerifier,
    limits: &Limits,
) -> Result<VerifiedArchive> {
    let Some(bundle) = bundle else {
        return Err(Error::from(DistributionError::MissingVerification));
    };
    if let Some(header) = digest_header {
        check_digest(archive, header)?;
    }
    let signature = verify_bundle(archive, bundle, key)?;
    let pack = Pack::from_files(PackFiles::from_archive(archive, limits)?)?;
    Ok(VerifiedArchive {
        pack,
        archive_digest: signature.artifact_digest.clone(),
        signature,
    })
}

fn check_digest(archive: &[u8], header: &str) -> Result<()> {
    let expected = Digest::parse_http_header(header)?;
    // The strongest instance digest the header names is checked (the fetcher
    // knows only SHA-256; a SHA-512 one is compared with SHA-512).
    let actual = Digest::of_bytes(expected.algorithm(), archive);
    if expected != actual {
        return Err(Error::from(DistributionError::DigestMismatch {
            actual: actual.hex(),
            expected: expected.hex(),
        }));
    }
    Ok(())
}

fn verify_bundle(archive: &[u8], bundle: &[u8], key: &dyn BlobVerifier) -> Result<VerifiedBlob> {
    key.verify_blob(archive, bundle).map_err(|e| {
        Error::from(DistributionError::BundleVerification {
            reason: e.to_string(),
        })
    })
}

/// Writes a pack's files under `dest`, which must not exist yet: they are
/// written into a sibling staging directory first and renamed into place, so
/// `dest` either holds every file or does not exist. Paths were normalised
/// and checked when the files were read (no `..`, no absolute paths, no
/// links).
pub fn unpack(files: &PackFiles, dest: &Path) -> Result<()> {
    let io = |op: &'static str, path: &Path| {
        let path = path.to_path_buf();
        move |source| Error::Core(cos_core::Error::Io { op, path, source })
    };
    if dest.exists() {
        return Err(Error::Core(cos_core::Error::Io {
            op: "unpack into",
            path: dest.to_path_buf(),
            source: std::io::Error::from(std::io::ErrorKind::AlreadyExists),
        }));
    }
    let parent = match dest.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = dest.file_name().map(|n| n.to_string_lossy().into_owned());
    let staging = parent.join(format!(
        ".{}.partial-{}",
        name.as_deref().unwrap_or("pack"),
        random_suffix()
    ));
    create_private_dir(&staging).map_err(io("create", &staging))?;
    let result = (|| {
        for (path, bytes) in files.iter() {
            let target = staging.join(path);
            if let Some(dir) = target.parent() {
                fs::create_dir_all(dir).map_err(io("create", dir))?;
            }
            let mut f = fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&target)
                .map_err(io("create", &target))?;
            f.write_all(bytes).map_err(io("write", &target))?;
            f.sync_all().map_err(io("sync", &target))?;
        }
        fs::rename(&staging, dest).map_err(io("rename", dest))
    })();
    if result.is_err() {
        let _ = fs::remove_dir_all(&staging);
    }
    result
}

/// Verifies the pack archive at `path` and unpacks it into a new private
/// directory `<tmp>/policy-pack-<random>/unpacked` (the fetcher's layout),
/// or into `dest` when given (which must not exist). Returns the directory.
///
/// The bundle is `bundle` when given, else the first of
/// [`BUNDLE_SUFFIXES`] found beside the file. The digest header is optional
/// here (a file has no transport to check); when given it must match.
pub fn verify_and_unpack_file(
    path: &Path,
    digest_header: Option<&str>,
    bundle: Option<&[u8]>,
    key: &dyn BlobVerifier,
    dest: Option<&Path>,
    limits: &Limits,
) -> Result<PathBuf> {
    let archive = cos_core::file::read_limited(path, limits.max_decompressed_size)?;
    let beside = match bundle {
        Some(_) => None,
        None => read_bundle_beside(path)?,
    };
    let bundle = bundle.or(beside.as_deref());
    let verified = verify_parts(&archive, digest_header, bundle, key, limits)?;
    unpack_verified(&verified, dest)
}

/// The Sigstore bundle kept beside a pack file: the first of
/// [`BUNDLE_SUFFIXES`] appended to its path that names a file.
pub fn bundle_beside(path: &Path) -> Option<PathBuf> {
    BUNDLE_SUFFIXES.iter().find_map(|suffix| {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        let p = PathBuf::from(p);
        p.is_file().then_some(p)
    })
}

/// Reads [`bundle_beside`], at most [`cos_core::sigstore::MAX_BUNDLE_SIZE`]
/// bytes; `None` when there is none.
pub fn read_bundle_beside(path: &Path) -> Result<Option<Vec<u8>>> {
    bundle_beside(path)
        .map(|p| cos_core::file::read_limited(&p, cos_core::sigstore::MAX_BUNDLE_SIZE))
        .transpose()
        .map_err(Error::from)
}

/// Unpacks into `dest`, or a new private `<tmp>/policy-pack-<random>/unpacked`.
fn unpack_verified(verified: &VerifiedArchive, dest: Option<&Path>) -> Result<PathBuf> {
    match dest {
        Some(d) => {
            unpack(verified.pack.files(), d)?;
            Ok(d.to_path_buf())
        }
        None => {
            let base = std::env::temp_dir().join(format!("policy-pack-{}", random_suffix()));
            create_private_dir(&base).map_err(|source| {
                Error::Core(cos_core::Error::Io {
                    op: "create",
                    path: base.clone(),
                    source,
                })
            })?;
            let dir = base.join("unpacked");
            if let Err(e) = unpack(verified.pack.files(), &dir) {
                // Nothing of ours is left behind.
                let _ = fs::remove_dir_all(&base);
                return Err(e);
            }
            Ok(dir)
        }
    }
}

/// The options of a binding's `fetchAndVerify` (the TypeScript
/// `cos-policy-fetcher`'s `{url, cosignPath?}`, with a public key or a
/// keyless trust instead of a cosign binary): plain data, read by the
/// bindings (ADR-0020). `url` is required; the bindings make the trust
/// fields a verifier (keyless verification lives in cos-supplychain) and
/// call [`fetch_and_verify`].
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FetchConfig {
    /// The pack: an `http(s):` URL, a path or a `file:` URL.
    pub url: String,
    /// The public key (SPKI PEM, e.g. `cosign.pub`) that signed the pack.
    #[serde(default)]
    pub public_key: Option<String>,
    /// The Sigstore bundle; default `<file>.sigstore.json` or `<file>.bundle`.
    #[serde(default)]
    pub bundle: Option<cos_core::shape::Blob>,
    /// The `Digest` header value (`sha-256=<hex>` or RFC 3230 base64).
    #[serde(default)]
    pub digest: Option<String>,
    /// Unpack here (must not exist) instead of a new temporary directory.
    #[serde(default)]
    pub dest: Option<PathBuf>,
    /// Keyless instead: the `trusted_root.json` (text or bytes) ...
    #[serde(default)]
    pub trusted_root: Option<cos_core::shape::Blob>,
    /// ... the certificate identity (exact SAN) that must have signed ...
    #[serde(default)]
    pub identity: Option<String>,
    /// ... and its OIDC issuer.
    #[serde(default)]
    pub issuer: Option<String>,
}

/// The TypeScript fetcher's `fetchAndVerify`, in-process: reads a pack
/// from a local path or `file:` URL, or, with the `http` feature, GETs an
/// `http:` / `https:` URL ([`http::PackClient`] with default options: the
/// `Digest` header is required and checked, the Sigstore bundle comes from
/// `x-cosign-bundle` or `<url>/attestation` unless `bundle` is given), then
/// verifies and unpacks as [`verify_and_unpack_file`]. Without the feature,
/// HTTP URLs are refused with [`Error::Unsupported`].
pub fn fetch_and_verify(
    url: &str,
    digest_header: Option<&str>,
    bundle: Option<&[u8]>,
    key: &dyn BlobVerifier,
    dest: Option<&Path>,
    limits: &Limits,
) -> Result<PathBuf> {
    #[cfg(feature = "http")]
    if is_http(url) {
        let client = http::PackClient::new(http::ClientOptions {
            max_archive_bytes: limits.max_decompressed_size,
            sigstore_bundle: bundle.is_none(),
            ..Default::default()
        });
        let fetched = client.fetch(url, None)?.ok_or_else(|| {
            Error::Distribution(DistributionError::HttpStatus {
                status: 304,
                url: url.to_owned(),
            })
        })?;
        let header = fetched
            .digest
            .as_ref()
            .map(|d| format!("sha-256={}", d.hex()));
        let header = digest_header.map(str::to_owned).or(header);
        let bundle = bundle.or(fetched.sigstore_bundle.as_deref());
        let verified = verify_parts(&fetched.archive, header.as_deref(), bundle, key, limits)?;
        return unpack_verified(&verified, dest);
    }
    let path = local_path(url)?;
    verify_and_unpack_file(&path, digest_header, bundle, key, dest, limits)
}

fn is_http(url: &str) -> bool {
    let lower = url.get(..8).unwrap_or(url).to_ascii_lowercase();
    lower.starts_with("http://") || lower.starts_with("https://")
}

/// Reads a Sigstore bundle (the fetcher's `fetchAttestation`): from a local
/// path or `file:` URL, at most [`cos_core::sigstore::MAX_BUNDLE_SIZE`]
/// bytes, as UTF-8 text. `http:` / `https:` as in [`fetch_and_verify`].
pub fn fetch_attestation(url: &str) -> Result<String> {
    #[cfg(feature = "http")]
    let bytes = if is_http(url) {
        http::PackClient::new(http::ClientOptions::default()).fetch_attestation(url)?
    } else {
        cos_core::file::read_limited(local_path(url)?, cos_core::sigstore::MAX_BUNDLE_SIZE)?
    };
    #[cfg(not(feature = "http"))]
    let bytes =
        cos_core::file::read_limited(local_path(url)?, cos_core::sigstore::MAX_BUNDLE_SIZE)?;
    String::from_utf8(bytes).map_err(|_| {
        Error::from(DistributionError::BundleVerification {
            reason: "the attestation is not UTF-8 text".into(),
        })
    })
}

fn local_path(url: &str) -> Result<PathBuf> {
    if is_http(url) {
        return Err(Error::Unsupported {
            what: "fetching packs over HTTP(S) in this build (cos-policy's `http` feature is \
                   off); download the pack and pass its path or a file: URL"
                .into(),
        });
    }
    Ok(match url.strip_prefix("file://") {
        // file:///abs/path and file://localhost/abs/path
        Some(rest) => PathBuf::from(rest.strip_prefix("localhost").unwrap_or(rest)),
        None => PathBuf::from(url.strip_prefix("file:").unwrap_or(url)),
    })
}

fn random_suffix() -> String {
    let mut b = [0u8; 8];
    // A failing OS random source leaves zeros: create_dir then fails on a
    // collision instead of reusing a directory.
    let _ = getrandom::fill(&mut b);
    hex_lower(&b)
}

fn hex_lower(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn create_private_dir(path: &Path) -> std::io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt as _;
        builder.mode(0o700);
    }
    builder.create(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use cos_core::sigstore::sign_blob;
    use cos_core::{DigestAlgorithm, KeyAlgorithm, PrivateKey};

    fn baseline_archive() -> Vec<u8> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../examples/policy-packs/companyos-baseline");
        Pack::load(&dir, &Limits::default())
            .unwrap()
            .build_bundle()
            .unwrap()
    }

    fn hex_header(bytes: &[u8]) -> String {
        format!(
            "sha-256={}",
            Digest::of_bytes(DigestAlgorithm::Sha256, bytes).hex()
        )
    }

    #[test]
    fn fetcher_errors_in_its_order() {
        let archive = baseline_archive();
        let key = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
        let bundle = sign_blob(&archive, &key).unwrap();
        let header = hex_header(&archive);
        let limits = Limits::default();
        let check = |h: Option<&str>, b: Option<&[u8]>, k: &dyn BlobVerifier, a: &[u8]| {
            verify_archive(
                a,
                &Verification {
                    digest_header: h,
                    bundle: b,
                    key: k,
                },
                &limits,
            )
        };
        let ok = check(Some(&header), Some(&bundle), key.public_key(), &archive).unwrap();
        assert_eq!(ok.signature.key_id, key.public_key().key_id());

        let e = check(None, Some(&bundle), key.public_key(), &archive).unwrap_err();
        assert_eq!(e.to_string(), "missing verification headers");
        let e = check(Some(&header), None, key.public_key(), &archive).unwrap_err();
        assert_eq!(e.code(), "missing_verification");

        let mut tampered = archive.clone();
        let last = tampered.len() - 1;
        tampered[last] ^= 1;
        let e = check(Some(&header), Some(&bundle), key.public_key(), &tampered).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!(
                "digest mismatch: {} != {}",
                Digest::of_bytes(DigestAlgorithm::Sha256, &tampered).hex(),
                Digest::of_bytes(DigestAlgorithm::Sha256, &archive).hex()
            )
        );
        // The attacker also serves the matching digest: the bundle catches it.
        let e = check(
            Some(&hex_header(&tampered)),
            Some(&bundle),
            key.public_key(),
            &tampered,
        )
        .unwrap_err();
        assert!(e.to_string().starts_with("cosign verify failed: "), "{e}");

        let other = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
        let e = check(Some(&header), Some(&bundle), other.public_key(), &archive).unwrap_err();
        assert_eq!(e.code(), "bundle_verification_failed");
        let e = check(Some(&header), Some(b"{}"), key.public_key(), &archive).unwrap_err();
        assert_eq!(e.code(), "bundle_verification_failed");

        // RFC 3230 base64 form is accepted too.
        let rfc = format!(
            "SHA-256={}",
            base64::Engine::encode(
                &base64::engine::general_purpose::STANDARD,
                Digest::of_bytes(DigestAlgorithm::Sha256, &archive).as_bytes()
            )
        );
        check(Some(&rfc), Some(&bundle), key.public_key(), &archive).unwrap();
    }

    #[test]
    fn a_signed_archive_that_is_not_a_pack_is_refused() {
        let key = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
        let junk = b"not a tarball at all".to_vec();
        let bundle = sign_blob(&junk, &key).unwrap();
        let e = verify_archive(
            &junk,
            &Verification {
                digest_header: Some(&hex_header(&junk)),
                bundle: Some(&bundle),
                key: key.public_key(),
            },
            &Limits::default(),
        )
        .unwrap_err();
        assert_eq!(e.code(), "invalid_pack");
    }

    #[test]
    fn file_with_bundle_beside_it_unpacks_atomically() {
        let tmp = tempfile::tempdir().unwrap();
        let archive = baseline_archive();
        let key = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
        let pack_path = tmp.path().join("pack.tar.gz");
        fs::write(&pack_path, &archive).unwrap();
        let limits = Limits::default();

        // No bundle anywhere.
        let e = verify_and_unpack_file(&pack_path, None, None, key.public_key(), None, &limits)
            .unwrap_err();
        assert_eq!(e.code(), "missing_verification");

        fs::write(
            tmp.path().join("pack.tar.gz.sigstore.json"),
            sign_blob(&archive, &key).unwrap(),
        )
        .unwrap();
        let dest = tmp.path().join("out");
        let dir = verify_and_unpack_file(
            &pack_path,
            None,
            None,
            key.public_key(),
            Some(&dest),
            &limits,
        )
        .unwrap();
        assert_eq!(dir, dest);
        let loaded = Pack::load(&dir, &limits).unwrap();
        assert_eq!(
            loaded.manifest().name,
            Pack::from_bytes(&archive, &limits).unwrap().manifest().name
        );
        // The destination exists now: a second unpack is refused, nothing
        // half-written is left beside it.
        let e = verify_and_unpack_file(
            &pack_path,
            None,
            None,
            key.public_key(),
            Some(&dest),
            &limits,
        )
        .unwrap_err();
        assert_eq!(e.code(), "io");
        let leftovers: Vec<_> = fs::read_dir(tmp.path())
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().contains(".partial-"))
            .collect();
        assert!(leftovers.is_empty());

        // Default destination: a fresh private temporary directory.
        let dir = verify_and_unpack_file(&pack_path, None, None, key.public_key(), None, &limits)
            .unwrap();
        assert!(dir.ends_with("unpacked"));
        assert!(dir.join(".manifest").is_file());
        fs::remove_dir_all(dir.parent().unwrap()).unwrap();

        // The same through a file: URL; HTTP is refused, typed, without
        // the `http` feature (with it: tests/http_client.rs).
        let url = format!("file://{}", pack_path.display());
        let dir = fetch_and_verify(&url, None, None, key.public_key(), None, &limits).unwrap();
        fs::remove_dir_all(dir.parent().unwrap()).unwrap();
        let att = fetch_attestation(&format!("{url}.sigstore.json")).unwrap();
        assert!(att.contains("messageSignature"));
        #[cfg(not(feature = "http"))]
        {
            let e = fetch_and_verify(
                "https://example.invalid/p",
                None,
                None,
                key.public_key(),
                None,
                &limits,
            )
            .unwrap_err();
            assert_eq!(e.code(), "unsupported");
            assert_eq!(
                fetch_attestation("http://x/attestation")
                    .unwrap_err()
                    .code(),
                "unsupported"
            );
        }

        // Wrong digest given for a file.
        let e = verify_and_unpack_file(
            &pack_path,
            Some(&format!("sha-256={}", "0".repeat(64))),
            None,
            key.public_key(),
            None,
            &limits,
        )
        .unwrap_err();
        assert_eq!(e.code(), "digest_mismatch");
    }
}
