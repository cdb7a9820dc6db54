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

    /// Something this build of cos-policy does not do.
    #[error("not supported: {what}")]
    Unsupported {
        /// What was asked for.
        what: String,
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
            Error::InvalidQuery { .. } => "invalid_query",
            Error::UnknownEntrypoint { .. } => "unknown_entrypoint",
            Error::InvalidDecision { .. } => "invalid_decision",
            Error::SignatureInvalid { .. } => "signature_invalid",
            Error::MissingVerification => "missing_verification",
            Error::DigestMismatch { .. } => "digest_mismatch",
            Error::BundleVerification { .. } => "bundle_verification_failed",
            Error::Unsupported { .. } => "unsupported",
            Error::DlpPattern { .. } => "dlp_invalid_pattern",
            Error::DlpOperator { .. } => "dlp_invalid_operator",
            Error::DlpPath { .. } => "dlp_invalid_path",
            Error::DlpInputTooLarge { .. } => "dlp_input_too_large",
            Error::Core(e) => e.code(),
        }
    }
}
