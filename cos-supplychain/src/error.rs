//! The crate's error type.

/// Errors from `cos-supplychain`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A trusted root (`trusted_root.json`) is malformed or unusable.
    #[error("invalid trusted root: {reason}")]
    InvalidTrustedRoot {
        /// What was wrong with it.
        reason: String,
    },

    /// A verification policy is unusable (e.g. an empty identity).
    #[error("invalid verification policy: {reason}")]
    InvalidPolicy {
        /// What was wrong with it.
        reason: String,
    },

    /// A build description (the input of SLSA provenance) is malformed.
    #[error("invalid build description: {reason}")]
    InvalidBuildDescription {
        /// What was wrong with it.
        reason: String,
    },

    /// A provenance whose signature verified is not SLSA provenance v1 as
    /// cos reads it (a required field missing or of the wrong type).
    #[error("invalid provenance: {reason}")]
    InvalidProvenance {
        /// What was wrong with it.
        reason: String,
    },

    /// A provenance does not say what the verifier expected (builder id,
    /// source repository, branch or tag, build type, subject).
    #[error("provenance mismatch: {field}: expected {expected}, the provenance has {found}")]
    ProvenanceMismatch {
        /// Which field.
        field: String,
        /// What was expected.
        expected: String,
        /// What the provenance says (shortened).
        found: String,
    },

    /// An error from `cos-core` (bundles, digests, files), including every
    /// verification failure (`is_verification_failure()` on it).
    #[error(transparent)]
    Core(#[from] cos_core::Error),
}

impl Error {
    /// A stable, machine-readable code for this error.
    pub fn code(&self) -> &'static str {
        match self {
            Error::InvalidTrustedRoot { .. } => "invalid_trusted_root",
            Error::InvalidPolicy { .. } => "invalid_policy",
            Error::InvalidBuildDescription { .. } => "invalid_build_description",
            Error::InvalidProvenance { .. } => "invalid_provenance",
            Error::ProvenanceMismatch { .. } => "provenance_mismatch",
            Error::Core(e) => e.code(),
        }
    }

    /// Whether the evidence did not hold (a signature, bundle or provenance
    /// that does not verify, or says something else than expected), as
    /// opposed to unusable input or options.
    pub fn is_verification_failure(&self) -> bool {
        match self {
            Error::InvalidProvenance { .. } | Error::ProvenanceMismatch { .. } => true,
            Error::Core(e) => e.is_verification_failure(),
            _ => false,
        }
    }
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
