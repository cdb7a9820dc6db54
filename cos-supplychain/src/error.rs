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
            Error::Core(e) => e.code(),
        }
    }
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
