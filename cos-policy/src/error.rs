//! The one error type of `cos-policy`.

/// Result type used throughout `cos-policy`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

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
    },

    /// A file in the pack is not acceptable (unsafe path, link, device, bad data).
    #[error("invalid pack file {path:?}: {reason}")]
    InvalidFile {
        /// The path inside the pack as it was given.
        path: String,
        /// What was wrong.
        reason: String,
    },

    /// The pack as a whole breaks a rule (no manifest, conflicting data, roots).
    #[error("invalid pack: {reason}")]
    InvalidPack {
        /// What was wrong.
        reason: String,
    },

    /// A size or count limit was exceeded while reading a pack.
    #[error("pack exceeds limit: {what} (limit {limit})")]
    LimitExceeded {
        /// Which limit.
        what: String,
        /// The limit's value.
        limit: u64,
    },

    /// A Rego module failed to parse or compile.
    #[error("policy {path}: {message}")]
    Compile {
        /// The module's path in the pack.
        path: String,
        /// The compiler's message.
        message: String,
    },

    /// Evaluation failed: a conflict, a builtin error (in strict mode), or an
    /// input that is not JSON.
    #[error("evaluation of {query} failed: {message}")]
    Evaluation {
        /// The query or document path.
        query: String,
        /// What went wrong.
        message: String,
    },

    /// Evaluation ran longer than its time limit.
    #[error("evaluation of {query} exceeded its time limit of {limit_ms} ms")]
    Timeout {
        /// The query or document path.
        query: String,
        /// The limit in milliseconds.
        limit_ms: u64,
    },

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
    },

    /// A query or document path is not valid (`data.a.b`, `a/b`).
    #[error("invalid query {query:?}: {reason}")]
    InvalidQuery {
        /// The query as given.
        query: String,
        /// What was wrong.
        reason: String,
    },

    /// The pack has no entrypoint of that name.
    #[error("pack has no entrypoint {name:?} (it has: {known})")]
    UnknownEntrypoint {
        /// The name asked for.
        name: String,
        /// The entrypoints the pack declares.
        known: String,
    },

    /// A decision document did not have the decision shape
    /// (`{allow, reasons, obligations}`).
    #[error("{entrypoint} did not return a decision: {reason}")]
    InvalidDecision {
        /// The entrypoint path.
        entrypoint: String,
        /// What was wrong with the value.
        reason: String,
    },

    /// A bundle signature is missing, malformed, made with another key, or
    /// does not match the bundle's files.
    #[error("bundle signature invalid{}: {reason}", file.as_ref().map(|f| format!(" ({f})")).unwrap_or_default())]
    SignatureInvalid {
        /// The file concerned, when one is.
        file: Option<String>,
        /// What was wrong.
        reason: String,
    },

    /// A downloaded pack came without its digest or its Sigstore bundle.
    /// (The message is the TypeScript `cos-policy-fetcher`'s.)
    #[error("missing verification headers")]
    MissingVerification,

    /// A downloaded pack's bytes do not have the digest it was served with.
    #[error("digest mismatch: {actual} != {expected}")]
    DigestMismatch {
        /// Hex digest of the bytes received.
        actual: String,
        /// Hex digest the server announced.
        expected: String,
    },

    /// A pack's Sigstore bundle is malformed or does not verify with the key.
    /// (The prefix is the TypeScript `cos-policy-fetcher`'s, which ran cosign.)
    #[error("cosign verify failed: {reason}")]
    BundleVerification {
        /// Why verification failed.
        reason: String,
    },

    /// A candidate pack's own tests failed (or are missing where the store
    /// requires them), so it was not activated.
    #[error("candidate pack refused: its tests did not pass: {reason}")]
    CandidateTests {
        /// Which tests failed, or why none ran.
        reason: String,
    },

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
    },

    /// The candidate is not the pack this store serves: another name, or
    /// the active version again with other content (cos pins a pack
    /// source's identity; OPA activates any bundle its key verifies).
    #[error("candidate {candidate} refused: {reason}")]
    PackIdentity {
        /// The candidate (`name@version (revision)`).
        candidate: String,
        /// What does not match, and what to do.
        reason: String,
    },

    /// A rollout, shadow or rollback step cannot be taken now.
    #[error("rollout step refused: {reason}")]
    Rollout {
        /// Why.
        reason: String,
    },

    /// No pack has been activated yet, so nothing can decide.
    #[error("no policy pack is active yet")]
    NoActivePack,

    /// A pack server answered with an unexpected HTTP status. (The message
    /// is the TypeScript `cos-policy-fetcher`'s.)
    #[error("HTTP {status}")]
    HttpStatus {
        /// The status code.
        status: u16,
        /// The URL requested.
        url: String,
    },

    /// A pack server could not be reached, or the transfer failed or timed
    /// out (after the configured retries).
    #[error("fetching {url} failed: {reason}")]
    Transport {
        /// The URL requested.
        url: String,
        /// What went wrong.
        reason: String,
    },

    /// Something this build of cos-policy does not do.
    #[error("not supported: {what}")]
    Unsupported {
        /// What was asked for.
        what: String,
    },

    /// A disclosure pack (or its DSSE envelope) is malformed, too large, or
    /// breaks a rule of the format (no dataset, expiry not after creation, a
    /// digest that is not sha256, …).
    #[error("invalid disclosure pack: {reason}")]
    DisclosureInvalid {
        /// What was wrong.
        reason: String,
    },

    /// No signature on a disclosure pack verifies with a trusted key whose
    /// key id it names (a forged, altered or corrupted signature), or fewer
    /// than the required number verify.
    #[error("disclosure pack signature invalid: {reason}")]
    DisclosureSignatureInvalid {
        /// What was wrong.
        reason: String,
    },

    /// A disclosure pack is signed, but by none of the trusted keys.
    #[error("disclosure pack is not signed by a trusted key (signed by: {key_ids})")]
    DisclosureUntrustedKey {
        /// The key ids the envelope's signatures name (hints, unauthenticated).
        key_ids: String,
    },

    /// A DSSE envelope given as a disclosure pack carries another payload type.
    #[error("not a disclosure pack: payload type {found:?}, expected {expected:?}")]
    DisclosurePayloadType {
        /// The payload type expected.
        expected: &'static str,
        /// The payload type found (shortened).
        found: String,
    },

    /// A disclosure pack's expiry is not after the time of verification.
    #[error("disclosure pack {id:?} expired at {expires} (checked at {now})")]
    DisclosureExpired {
        /// The pack id.
        id: String,
        /// The pack's expiry (RFC 3339).
        expires: String,
        /// The time of verification (RFC 3339).
        now: String,
    },

    /// A disclosure pack's creation time is after the time of verification.
    #[error("disclosure pack {id:?} is not valid before {created} (checked at {now})")]
    DisclosureNotYetValid {
        /// The pack id.
        id: String,
        /// The pack's creation time (RFC 3339).
        created: String,
        /// The time of verification (RFC 3339).
        now: String,
    },

    /// A disclosure pack lacks the approvals the approval policy requires
    /// (too few distinct approvers, or a required role missing).
    #[error("disclosure pack {id:?} lacks approvals: {reason}")]
    DisclosureApprovals {
        /// The pack id.
        id: String,
        /// What is missing.
        reason: String,
    },

    /// Data bytes do not have the digest a disclosure pack lists for them,
    /// or the pack lists no such object.
    #[error("disclosure pack data {dataset}/{object}: {reason}")]
    DisclosureDigestMismatch {
        /// The dataset id.
        dataset: String,
        /// The object name within the dataset.
        object: String,
        /// Expected and actual digest, or that the object is not listed.
        reason: String,
    },

    /// A DLP custom pattern (from pack data or the caller) is malformed: bad
    /// shape, a name that is empty or taken, or a regex that does not compile
    /// within the size limits.
    #[error("DLP pattern {name:?}: {reason}")]
    DlpPattern {
        /// The pattern's name (or its index in the list when it has none).
        name: String,
        /// What was wrong.
        reason: String,
    },

    /// A DLP operator is unknown or cannot be used as configured
    /// (`hash` without a key, `mask` keeping too much).
    #[error("DLP operator {operator:?}: {reason}")]
    DlpOperator {
        /// The operator as given.
        operator: String,
        /// What was wrong.
        reason: String,
    },

    /// A DLP field path (`customer.email`, `items[*].card`) does not parse.
    #[error("DLP field path {path:?}: {reason}")]
    DlpPath {
        /// The path as given.
        path: String,
        /// What was wrong.
        reason: String,
    },

    /// Text or a JSON document given to DLP is larger or deeper than its
    /// configured limit.
    #[error("DLP input too large: {what} is {size} (limit {limit})")]
    DlpInputTooLarge {
        /// What was measured (`text bytes`, `document bytes`, `document depth`).
        what: String,
        /// The measured size.
        size: u64,
        /// The limit.
        limit: u64,
    },

    /// An error from `cos-core` (digests, keys, files).
    #[error(transparent)]
    Core(#[from] cos_core::Error),
}

impl Error {
    /// A stable, machine-readable code for this error.
    pub fn code(&self) -> &'static str {
        match self {
            Error::InvalidManifest { .. } => "invalid_manifest",
            Error::InvalidFile { .. } => "invalid_file",
            Error::InvalidPack { .. } => "invalid_pack",
            Error::LimitExceeded { .. } => "limit_exceeded",
            Error::Compile { .. } => "compile_error",
            Error::Evaluation { .. } => "evaluation_error",
            Error::Timeout { .. } => "timeout",
            Error::ResourceLimit { .. } => "resource_limit",
            Error::InvalidQuery { .. } => "invalid_query",
            Error::UnknownEntrypoint { .. } => "unknown_entrypoint",
            Error::InvalidDecision { .. } => "invalid_decision",
            Error::SignatureInvalid { .. } => "signature_invalid",
            Error::MissingVerification => "missing_verification",
            Error::DigestMismatch { .. } => "digest_mismatch",
            Error::BundleVerification { .. } => "bundle_verification_failed",
            Error::CandidateTests { .. } => "candidate_tests_failed",
            Error::OlderVersion { .. } => "older_version",
            Error::PackIdentity { .. } => "pack_identity",
            Error::Rollout { .. } => "rollout_refused",
            Error::NoActivePack => "no_active_pack",
            Error::HttpStatus { .. } => "http_status",
            Error::Transport { .. } => "transport",
            Error::Unsupported { .. } => "unsupported",
            Error::DisclosureInvalid { .. } => "disclosure_invalid",
            Error::DisclosureSignatureInvalid { .. } => "disclosure_signature_invalid",
            Error::DisclosureUntrustedKey { .. } => "disclosure_untrusted_key",
            Error::DisclosurePayloadType { .. } => "disclosure_payload_type",
            Error::DisclosureExpired { .. } => "disclosure_expired",
            Error::DisclosureNotYetValid { .. } => "disclosure_not_yet_valid",
            Error::DisclosureApprovals { .. } => "disclosure_insufficient_approvals",
            Error::DisclosureDigestMismatch { .. } => "disclosure_digest_mismatch",
            Error::DlpPattern { .. } => "dlp_invalid_pattern",
            Error::DlpOperator { .. } => "dlp_invalid_operator",
            Error::DlpPath { .. } => "dlp_invalid_path",
            Error::DlpInputTooLarge { .. } => "dlp_input_too_large",
            Error::Core(e) => e.code(),
        }
    }
}
