//! The one error type of `cos-policy`.

pub use crate::dlp::DlpError;

/// Result type used throughout `cos-policy`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

cos_core::error_enum! {
    /// Everything that can go wrong in `cos-policy`.
    ///
    /// [`Error::code`] gives a stable machine-readable code for the bindings.
    #[derive(Debug, thiserror::Error)]
    #[non_exhaustive]
    pub enum Error {
        /// The pack manifest (`manifest.yaml` or OPA `.manifest`) is malformed.
        #[error("invalid manifest {file}: {reason}")]
        InvalidManifest {
            /// The manifest file.
            file: String,
            /// What was wrong.
            reason: String,
        } => "invalid_manifest",

        /// A file in the pack is not acceptable (unsafe path, link, device, bad data).
        #[error("invalid pack file {path:?}: {reason}")]
        InvalidFile {
            /// The path inside the pack as it was given.
            path: String,
            /// What was wrong.
            reason: String,
        } => "invalid_file",

        /// The pack as a whole breaks a rule (no manifest, conflicting data, roots).
        #[error("invalid pack: {reason}")]
        InvalidPack {
            /// What was wrong.
            reason: String,
        } => "invalid_pack",

        /// A size or count limit was exceeded while reading a pack.
        #[error("pack exceeds limit: {what} (limit {limit})")]
        LimitExceeded {
            /// Which limit.
            what: String,
            /// The limit's value.
            limit: u64,
        } => "limit_exceeded",

        /// A Rego module failed to parse or compile.
        #[error("policy {path}: {message}")]
        Compile {
            /// The module's path in the pack.
            path: String,
            /// The compiler's message.
            message: String,
        } => "compile_error",

        /// Evaluation failed: a conflict, a builtin error (in strict mode), or an
        /// input that is not JSON.
        #[error("evaluation of {query} failed: {message}")]
        Evaluation {
            /// The query or document path.
            query: String,
            /// What went wrong.
            message: String,
        } => "evaluation_error",

        /// Evaluation ran longer than its time limit.
        #[error("evaluation of {query} exceeded its time limit of {limit_ms} ms")]
        Timeout {
            /// The query or document path.
            query: String,
            /// The limit in milliseconds.
            limit_ms: u64,
        } => "timeout",

        /// Evaluation was refused for resources other than time: a builtin
        /// would have built a value larger than
        /// [`EngineOptions::max_value_bytes`](crate::EngineOptions::max_value_bytes)
        /// (or hit a regex or memory limit). Never an "undefined" answer, even
        /// without strict builtin errors, so that `not f(x)` cannot turn it into
        /// an allow.
        #[error("evaluation of {query} exceeded a resource limit: {message}")]
        ResourceLimit {
            /// The query or document path.
            query: String,
            /// The engine's message (which limit, the size asked for).
            message: String,
        } => "resource_limit",

        /// A query or document path is not valid (`data.a.b`, `a/b`).
        #[error("invalid query {query:?}: {reason}")]
        InvalidQuery {
            /// The query as given.
            query: String,
            /// What was wrong.
            reason: String,
        } => "invalid_query",

        /// The pack has no entrypoint of that name.
        #[error("pack has no entrypoint {name:?} (it has: {known})")]
        UnknownEntrypoint {
            /// The name asked for.
            name: String,
            /// The entrypoints the pack declares.
            known: String,
        } => "unknown_entrypoint",

        /// A decision document did not have the decision shape
        /// (`{allow, reasons, obligations}`).
        #[error("{entrypoint} did not return a decision: {reason}")]
        InvalidDecision {
            /// The entrypoint path.
            entrypoint: String,
            /// What was wrong with the value.
            reason: String,
        } => "invalid_decision",

        /// A bundle signature is missing, malformed, made with another key, or
        /// does not match the bundle's files.
        #[error("bundle signature invalid{}: {reason}", file.as_ref().map(|f| format!(" ({f})")).unwrap_or_default())]
        SignatureInvalid {
            /// The file concerned, when one is.
            file: Option<String>,
            /// What was wrong.
            reason: String,
        } => "signature_invalid",

        /// A candidate pack's own tests failed (or are missing where the store
        /// requires them), so it was not activated.
        #[error("candidate pack refused: its tests did not pass: {reason}")]
        CandidateTests {
            /// Which tests failed, or why none ran.
            reason: String,
        } => "candidate_tests_failed",

        /// A candidate pack is older than the active one; going back is only
        /// done by an explicit rollback.
        #[error(
            "candidate {candidate} is older than the active {active}; roll back explicitly to go back"
        )]
        OlderVersion {
            /// The candidate (`name@version (revision)`).
            candidate: String,
            /// The active pack.
            active: String,
        } => "older_version",

        /// The candidate is not the pack this store serves: another name, or
        /// the active version again with other content (cos pins a pack
        /// source's identity; OPA activates any bundle its key verifies).
        #[error("candidate {candidate} refused: {reason}")]
        PackIdentity {
            /// The candidate (`name@version (revision)`).
            candidate: String,
            /// What does not match, and what to do.
            reason: String,
        } => "pack_identity",

        /// A rollout, shadow or rollback step cannot be taken now.
        #[error("rollout step refused: {reason}")]
        Rollout {
            /// Why.
            reason: String,
        } => "rollout_refused",

        /// No pack has been activated yet, so nothing can decide.
        #[error("no policy pack is active yet")]
        NoActivePack => "no_active_pack",

        /// Something this build of cos-policy does not do.
        #[error("not supported: {what}")]
        Unsupported {
            /// What was asked for.
            what: String,
        } => "unsupported",
    }
    nested {
        /// Fetching or checking a pack from a pack server
        /// ([`distribution`](crate::distribution)).
        #[error(transparent)]
        Distribution(DistributionError),
        /// Building or verifying a disclosure pack
        /// ([`disclosure`](crate::disclosure)).
        #[error(transparent)]
        Disclosure(DisclosureError),
        /// Configuring or running DLP ([`dlp`](crate::dlp)).
        #[error(transparent)]
        Dlp(DlpError),
    }
    foreign {
        /// An error from `cos-core` (digests, keys, files).
        #[error(transparent)]
        Core(cos_core::Error),
    }
}

cos_core::error_enum! {
    /// What went wrong fetching a pack from a pack server or checking what
    /// it served ([`distribution`](crate::distribution)); an [`Error::Distribution`].
    #[derive(Debug, thiserror::Error)]
    #[non_exhaustive]
    pub enum DistributionError {
        /// A downloaded pack came without its digest or its Sigstore bundle.
        /// (The message is the TypeScript `cos-policy-fetcher`'s.)
        #[error("missing verification headers")]
        MissingVerification => "missing_verification",

        /// A downloaded pack's bytes do not have the digest it was served with.
        #[error("digest mismatch: {actual} != {expected}")]
        DigestMismatch {
            /// Hex digest of the bytes received.
            actual: String,
            /// Hex digest the server announced.
            expected: String,
        } => "digest_mismatch",

        /// A pack's Sigstore bundle is malformed or does not verify with the key.
        /// (The prefix is the TypeScript `cos-policy-fetcher`'s, which ran cosign.)
        #[error("cosign verify failed: {reason}")]
        BundleVerification {
            /// Why verification failed.
            reason: String,
        } => "bundle_verification_failed",

        /// A pack server answered with an unexpected HTTP status. (The message
        /// is the TypeScript `cos-policy-fetcher`'s.)
        #[error("HTTP {status}")]
        HttpStatus {
            /// The status code.
            status: u16,
            /// The URL requested.
            url: String,
        } => "http_status",

        /// A pack server could not be reached, or the transfer failed or timed
        /// out (after the configured retries).
        #[error("fetching {url} failed: {reason}")]
        Transport {
            /// The URL requested.
            url: String,
            /// What went wrong.
            reason: String,
        } => "transport",
    }
}

cos_core::error_enum! {
    /// What is wrong with a disclosure pack or its verification
    /// ([`disclosure`](crate::disclosure)); an [`Error::Disclosure`].
    #[derive(Debug, thiserror::Error)]
    #[non_exhaustive]
    pub enum DisclosureError {
        /// A disclosure pack (or its DSSE envelope) is malformed, too large, or
        /// breaks a rule of the format (no dataset, expiry not after creation, a
        /// digest that is not sha256, …).
        #[error("invalid disclosure pack: {reason}")]
        Invalid {
            /// What was wrong.
            reason: String,
        } => "disclosure_invalid",

        /// No signature on a disclosure pack verifies with a trusted key whose
        /// key id it names (a forged, altered or corrupted signature), or fewer
        /// than the required number verify.
        #[error("disclosure pack signature invalid: {reason}")]
        SignatureInvalid {
            /// What was wrong.
            reason: String,
        } => "disclosure_signature_invalid",

        /// A disclosure pack is signed, but by none of the trusted keys.
        #[error("disclosure pack is not signed by a trusted key (signed by: {key_ids})")]
        UntrustedKey {
            /// The key ids the envelope's signatures name (hints, unauthenticated).
            key_ids: String,
        } => "disclosure_untrusted_key",

        /// A DSSE envelope given as a disclosure pack carries another payload type.
        #[error("not a disclosure pack: payload type {found:?}, expected {expected:?}")]
        PayloadType {
            /// The payload type expected.
            expected: &'static str,
            /// The payload type found (shortened).
            found: String,
        } => "disclosure_payload_type",

        /// A disclosure pack's expiry is not after the time of verification.
        #[error("disclosure pack {id:?} expired at {expires} (checked at {now})")]
        Expired {
            /// The pack id.
            id: String,
            /// The pack's expiry (RFC 3339).
            expires: String,
            /// The time of verification (RFC 3339).
            now: String,
        } => "disclosure_expired",

        /// A disclosure pack's creation time is after the time of verification.
        #[error("disclosure pack {id:?} is not valid before {created} (checked at {now})")]
        NotYetValid {
            /// The pack id.
            id: String,
            /// The pack's creation time (RFC 3339).
            created: String,
            /// The time of verification (RFC 3339).
            now: String,
        } => "disclosure_not_yet_valid",

        /// A disclosure pack lacks the approvals the approval policy requires
        /// (too few distinct approvers, or a required role missing).
        #[error("disclosure pack {id:?} lacks approvals: {reason}")]
        Approvals {
            /// The pack id.
            id: String,
            /// What is missing.
            reason: String,
        } => "disclosure_insufficient_approvals",

        /// Data bytes do not have the digest a disclosure pack lists for them,
        /// or the pack lists no such object.
        #[error("disclosure pack data {dataset}/{object}: {reason}")]
        DigestMismatch {
            /// The dataset id.
            dataset: String,
            /// The object name within the dataset.
            object: String,
            /// Expected and actual digest, or that the object is not listed.
            reason: String,
        } => "disclosure_digest_mismatch",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `Error::CODES` (the flat codes, then the sub-domain errors') is
    /// snake_case, documented and duplicate-free but for `limit_exceeded`,
    /// which DLP's field-rule limit kept when it moved into `DlpError`.
    /// `code()` and `CODES` come from one table (`error_enum!`).
    #[test]
    fn codes_are_listed_once() {
        assert_eq!(
            cos_core::error_codes::problems(Error::CODES, &["limit_exceeded"]),
            Vec::<String>::new()
        );
        for nested in [
            DistributionError::CODES,
            DisclosureError::CODES,
            DlpError::CODES,
        ] {
            assert!(nested.iter().all(|c| Error::CODES.contains(c)));
        }
        assert_eq!(
            Error::CODES.len(),
            Error::CODES
                .iter()
                .filter(|c| c.variant.starts_with("Error::"))
                .count()
                + DistributionError::CODES.len()
                + DisclosureError::CODES.len()
                + DlpError::CODES.len()
        );
        // cos-core's codes are cos-core's: not listed again here.
        assert!(!Error::CODES.iter().any(|c| c.code == "invalid_json"));
    }

    /// A sub-domain error keeps its flat code and message in `Error`.
    #[test]
    fn nested_errors_keep_code_and_message() {
        let cases: [(Error, &str, &str); 4] = [
            (
                DistributionError::MissingVerification.into(),
                "missing_verification",
                "missing verification headers",
            ),
            (
                DisclosureError::Invalid { reason: "x".into() }.into(),
                "disclosure_invalid",
                "invalid disclosure pack: x",
            ),
            (
                DlpError::Path {
                    path: "a..b".into(),
                    reason: "empty step".into(),
                }
                .into(),
                "dlp_invalid_path",
                "DLP field path \"a..b\": empty step",
            ),
            (
                DlpError::LimitExceeded {
                    what: "2 DLP field rules".into(),
                    limit: 1,
                }
                .into(),
                "limit_exceeded",
                "pack exceeds limit: 2 DLP field rules (limit 1)",
            ),
        ];
        for (e, code, message) in cases {
            assert_eq!(e.code(), code);
            assert!(Error::CODES.iter().any(|c| c.code == code), "{code}");
            assert_eq!(e.to_string(), message);
        }
    }
}
