//! The server side of pack distribution, without the server: what a pack
//! server sends for one pack so that both the TypeScript `cos-policy-fetcher`
//! and OPA's bundle plugin accept it (`cos pack serve` is built on this).
//!
//! - `ETag: W/"sha-256:<hex>"` and conditional requests: `If-None-Match`
//!   naming it (or `*`) gets 304 Not Modified;
//! - `Digest: sha-256=<hex>` (the hex form the fetcher compares with
//!   `sha256sum`; cos's client also accepts RFC 3230 base64) and the RFC
//!   9530 `Repr-Digest: sha-256=:<base64>:`;
//! - the Sigstore bundle at `<url>/attestation`, and in the `x-cosign-bundle`
//!   header when its compact JSON is small enough for a header;
//! - `Content-Type: application/gzip`, or OPA's
//!   `application/vnd.openpolicyagent.bundles` when the request long-polls
//!   (`Prefer: wait=<s>`), which tells OPA the server supports it.
//!
//! ```
//! use cos_policy::distribution::publish::PublishedPack;
//! let p = PublishedPack::new("baseline.tar.gz", b"archive bytes".to_vec(), None);
//! assert!(p.etag().starts_with("W/\"sha-256:"));
//! assert!(p.not_modified(Some(p.etag())));
//! assert!(!p.not_modified(Some("W/\"sha-256:00\"")));
//! ```

use std::sync::Arc;

use base64::Engine as _;
use cos_core::{Digest, DigestAlgorithm};

/// Headers over this size carry no bundle (it is served at `/attestation`).
pub const MAX_BUNDLE_HEADER: usize = 6 * 1024;

/// The media type OPA's bundle plugin expects when it long-polls.
pub const OPA_LONG_POLL_CONTENT_TYPE: &str = "application/vnd.openpolicyagent.bundles";

/// One pack as a server publishes it.
#[derive(Debug, Clone)]
pub struct PublishedPack {
    name: String,
    archive: Arc<[u8]>,
    sigstore_bundle: Option<Arc<[u8]>>,
    digest: Digest,
    etag: String,
    bundle_header: Option<String>,
}

impl PublishedPack {
    /// Publishes `archive` under `name` (the last URL path segment, e.g.
    /// `baseline.tar.gz`), with its Sigstore bundle when there is one.
    pub fn new(name: &str, archive: Vec<u8>, sigstore_bundle: Option<Vec<u8>>) -> Self {
        let digest = Digest::of_bytes(DigestAlgorithm::Sha256, &archive);
        let etag = format!("W/\"sha-256:{}\"", digest.hex());
        let bundle_header = sigstore_bundle.as_deref().and_then(compact_header);
        PublishedPack {
            name: name.to_owned(),
            archive: archive.into(),
            sigstore_bundle: sigstore_bundle.map(Into::into),
            digest,
            etag,
            bundle_header,
        }
    }

    /// The name it is published under.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The archive's bytes.
    pub fn archive(&self) -> &Arc<[u8]> {
        &self.archive
    }

    /// The Sigstore bundle, if any (served at `<url>/attestation`).
    pub fn sigstore_bundle(&self) -> Option<&Arc<[u8]>> {
        self.sigstore_bundle.as_ref()
    }

    /// SHA-256 of the archive.
    pub fn digest(&self) -> &Digest {
        &self.digest
    }

    /// `W/"sha-256:<hex>"`.
    pub fn etag(&self) -> &str {
        &self.etag
    }

    /// `sha-256=<hex>` for the `Digest` header.
    pub fn digest_header(&self) -> String {
        format!("sha-256={}", self.digest.hex())
    }

    /// `sha-256=:<base64>:` for the RFC 9530 `Repr-Digest` header.
    pub fn repr_digest_header(&self) -> String {
        format!(
            "sha-256=:{}:",
            base64::engine::general_purpose::STANDARD.encode(self.digest.as_bytes())
        )
    }

    /// The bundle's compact JSON for the `x-cosign-bundle` header, when it
    /// has one and it is at most [`MAX_BUNDLE_HEADER`] bytes.
    pub fn bundle_header(&self) -> Option<&str> {
        self.bundle_header.as_deref()
    }

    /// Whether a request with this `If-None-Match` gets 304: the header is
    /// `*` or lists this ETag (weak comparison, as RFC 9110 asks for
    /// `If-None-Match`: `W/"x"` and `"x"` match).
    pub fn not_modified(&self, if_none_match: Option<&str>) -> bool {
        let Some(h) = if_none_match else {
            return false;
        };
        let ours = opaque(&self.etag);
        h.split(',')
            .map(str::trim)
            .any(|t| t == "*" || opaque(t) == ours)
    }
}

fn opaque(tag: &str) -> &str {
    tag.strip_prefix("W/").unwrap_or(tag)
}

/// The bundle as one line of printable ASCII, if it is JSON and short enough.
fn compact_header(bundle: &[u8]) -> Option<String> {
    let value: serde_json::Value = serde_json::from_slice(bundle).ok()?;
    let text = serde_json::to_string(&value).ok()?;
    (text.len() <= MAX_BUNDLE_HEADER && text.bytes().all(|b| (0x20..0x7f).contains(&b)))
        .then_some(text)
}

/// Parses `Prefer: wait=<seconds>` (RFC 7240), capped at `max`.
pub fn prefer_wait(prefer: Option<&str>, max: std::time::Duration) -> Option<std::time::Duration> {
    let v = prefer?;
    v.split([',', ';']).find_map(|p| {
        let secs: u64 = p.trim().strip_prefix("wait=")?.trim().parse().ok()?;
        Some(std::time::Duration::from_secs(secs).min(max))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn etags_and_conditions() {
        let p = PublishedPack::new("p.tar.gz", b"abc".to_vec(), None);
        let hex = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        assert_eq!(p.etag(), format!("W/\"sha-256:{hex}\""));
        assert_eq!(p.digest_header(), format!("sha-256={hex}"));
        assert_eq!(
            p.repr_digest_header(),
            "sha-256=:ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=:"
        );
        assert!(p.not_modified(Some(&format!("\"sha-256:{hex}\""))));
        assert!(p.not_modified(Some(&format!("\"x\", W/\"sha-256:{hex}\""))));
        assert!(p.not_modified(Some("*")));
        assert!(!p.not_modified(Some("\"sha-256:00\"")));
        assert!(!p.not_modified(None));
    }

    #[test]
    fn bundle_header_only_when_small_and_json() {
        let small = br#"{ "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json" }"#;
        let p = PublishedPack::new("p", b"x".to_vec(), Some(small.to_vec()));
        assert_eq!(
            p.bundle_header(),
            Some(r#"{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json"}"#)
        );
        let big = format!("{{\"a\": \"{}\"}}", "x".repeat(MAX_BUNDLE_HEADER));
        assert!(
            PublishedPack::new("p", vec![], Some(big.into_bytes()))
                .bundle_header()
                .is_none()
        );
        assert!(
            PublishedPack::new("p", vec![], Some(b"not json".to_vec()))
                .bundle_header()
                .is_none()
        );
    }

    #[test]
    fn prefer_wait_parses_and_caps() {
        let max = Duration::from_secs(60);
        assert_eq!(
            prefer_wait(Some("wait=10"), max),
            Some(Duration::from_secs(10))
        );
        assert_eq!(prefer_wait(Some("respond-async, wait=600"), max), Some(max));
        assert_eq!(prefer_wait(Some("wait=x"), max), None);
        assert_eq!(prefer_wait(None, max), None);
    }
}
