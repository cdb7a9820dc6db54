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

    /// A lockfile or package-manager output (`cargo metadata` JSON,
    /// `Cargo.lock`, `package-lock.json`, `requirements.txt`, `poetry.lock`,
    /// `uv.lock`) is malformed, too large or of an unsupported version.
    #[error("invalid {input}: {reason}")]
    InvalidLockfile {
        /// Which kind of input (e.g. `package-lock.json`).
        input: &'static str,
        /// What was wrong with it.
        reason: String,
    },

    /// An SBOM (CycloneDX or SPDX JSON) is malformed, too large or of an
    /// unsupported version.
    #[error("invalid SBOM: {reason}")]
    InvalidSbom {
        /// What was wrong with it.
        reason: String,
    },

    /// A licence policy (allow / deny lists) is malformed or names
    /// something that is not an SPDX licence identifier.
    #[error("invalid licence policy: {reason}")]
    InvalidLicensePolicy {
        /// What was wrong with it.
        reason: String,
    },

    /// `SOURCE_DATE_EPOCH` is not a number of seconds since 1970 in range.
    #[error(
        "invalid SOURCE_DATE_EPOCH {value:?}: expected whole seconds since 1970-01-01 (0 to 253402300799)"
    )]
    InvalidSourceDateEpoch {
        /// The value given.
        value: String,
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
            Error::InvalidLockfile { .. } => "invalid_lockfile",
            Error::InvalidSbom { .. } => "invalid_sbom",
            Error::InvalidLicensePolicy { .. } => "invalid_license_policy",
            Error::InvalidSourceDateEpoch { .. } => "invalid_source_date_epoch",
            Error::Core(e) => e.code(),
        }
    }
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
