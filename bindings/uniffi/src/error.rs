//! The one error type the bindings raise, mapped from the crates' errors.

/// Every error cos raises: which crate it came from (`Core`, `Verification`,
/// `Policy`), the crate's stable machine `code` and the human-readable
/// `detail`.
///
/// Kotlin sees it as the sealed class `CosException` (`CosException.Policy`,
/// …), Swift as the `CosError` enum, Python as the exception `CosError` with
/// one subclass per variant (`CosError.Policy`, …).
// The text is `detail`, not `message`: Kotlin's `Throwable` owns `message`
// (uniffi generates it from the fields), so a field of that name would not
// compile.
#[derive(Debug, thiserror::Error, uniffi::Error)]
#[non_exhaustive]
pub enum CosError {
    /// A cos-core error about unusable input (JSON, key, digest, file …).
    #[error("{detail}")]
    Core {
        /// Stable machine code, e.g. `invalid_json`, `invalid_key`.
        code: String,
        /// What was wrong with which input.
        detail: String,
    },
    /// A cos-core check that did not hold: a signature, threshold or payload
    /// type (the evidence is not valid, as opposed to unusable).
    #[error("{detail}")]
    Verification {
        /// Stable machine code, e.g. `threshold_not_met`.
        code: String,
        /// What did not verify.
        detail: String,
    },
    /// A cos-policy error: pack, compilation, evaluation, signature (also
    /// when its cause is a cos-core error, whose code it then carries).
    #[error("{detail}")]
    Policy {
        /// Stable machine code, e.g. `invalid_pack`, `compile_error`, `io`.
        code: String,
        /// What went wrong with which pack, file or query.
        detail: String,
    },
}

impl From<cos_core::Error> for CosError {
    fn from(e: cos_core::Error) -> Self {
        let (code, detail) = (e.code().to_owned(), e.to_string());
        if e.is_verification_failure() {
            CosError::Verification { code, detail }
        } else {
            CosError::Core { code, detail }
        }
    }
}

impl From<cos_policy::Error> for CosError {
    fn from(e: cos_policy::Error) -> Self {
        CosError::Policy {
            code: e.code().to_owned(),
            detail: e.to_string(),
        }
    }
}

/// Result type of every exported function.
pub type Result<T, E = CosError> = std::result::Result<T, E>;
