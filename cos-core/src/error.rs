//! The one error type of `cos-core`.

use std::path::PathBuf;

/// Result type used throughout `cos-core`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

crate::error_enum! {
    /// Everything that can go wrong in `cos-core`.
    ///
    /// Every variant says what was wrong with which input. [`Error::code`] gives a
    /// stable machine-readable code that the Python and Node bindings expose.
    #[derive(Debug, thiserror::Error)]
    #[non_exhaustive]
    pub enum Error {
        /// A digest string could not be parsed.
        #[error("invalid digest {input:?}: {reason}")]
        InvalidDigest {
            /// The text that was given (truncated if long).
            input: String,
            /// What was wrong with it.
            reason: String,
        } => "invalid_digest",

        /// An algorithm name (digest or key) is not one cos supports.
        #[error("unsupported algorithm {name:?} (supported: {supported})")]
        UnsupportedAlgorithm {
            /// The name that was given.
            name: String,
            /// The names that are supported.
            supported: &'static str,
        } => "unsupported_algorithm",

        /// Text that should be JSON is not, or breaks an I-JSON rule (RFC 7493)
        /// that canonicalisation relies on.
        #[error("invalid JSON: {reason}")]
        InvalidJson {
            /// What the parser or checker reported.
            reason: String,
        } => "invalid_json",

        /// A duration (`500ms`, `1.5s`, `2m`, `1h30m`, or a bare number in the
        /// option's own unit) is malformed, negative or too long.
        #[error("invalid duration {value:?}: {reason}")]
        InvalidDuration {
            /// The text as given (at most 40 characters of it).
            value: String,
            /// What is wrong with it.
            reason: &'static str,
        } => "invalid_duration",

        /// A `SOURCE_DATE_EPOCH` value is not whole seconds since 1970 in range
        /// (see [`crate::time::parse_source_date_epoch`]).
        #[error(
            "invalid SOURCE_DATE_EPOCH {value:?}: expected whole seconds since 1970-01-01 (0 to 253402300799); set it to such a number, or unset it"
        )]
        InvalidSourceDateEpoch {
            /// The value as given (at most 40 characters of it).
            value: String,
        } => "invalid_source_date_epoch",

        /// A JSON number cannot be represented as an IEEE-754 double without loss,
        /// or is not finite; RFC 8785 has no form for it.
        #[error("JSON number {value} cannot be canonicalised: {reason}")]
        NumberOutOfRange {
            /// The number as text.
            value: String,
            /// Why it cannot be represented.
            reason: &'static str,
        } => "number_out_of_range",

        /// A data classification label is not one of PUBLIC, INTERNAL,
        /// CONFIDENTIAL, RESTRICTED.
        #[error(
            "invalid classification {input:?}: expected PUBLIC, INTERNAL, CONFIDENTIAL or RESTRICTED"
        )]
        InvalidClassification {
            /// The label that was given.
            input: String,
        } => "invalid_classification",

        /// A region is neither an ISO 3166-1 alpha-2 country code nor a known
        /// region group.
        #[error("invalid region {input:?}: expected an ISO 3166-1 alpha-2 code or a group ({groups})")]
        InvalidRegion {
            /// The region that was given.
            input: String,
            /// The group names that are known.
            groups: &'static str,
        } => "invalid_region",

        /// A residency tag is not of the form `<REGION>-Only` or `Global`.
        #[error("invalid residency tag {input:?}: {reason}")]
        InvalidResidency {
            /// The tag that was given.
            input: String,
            /// What was wrong with it.
            reason: String,
        } => "invalid_residency",

        /// A tenant id breaks the tenant id syntax.
        #[error("invalid tenant id {input:?}: {reason}")]
        InvalidTenantId {
            /// The id that was given.
            input: String,
            /// What was wrong with it.
            reason: &'static str,
        } => "invalid_tenant_id",

        /// A release id is not a git commit id (40 or 64 hex digits).
        #[error(
            "invalid release id {input:?}: expected a git commit id of 40 (SHA-1) or 64 (SHA-256) hex digits"
        )]
        InvalidReleaseId {
            /// The id that was given.
            input: String,
        } => "invalid_release_id",

        /// Key material could not be parsed, generated or encoded.
        #[error("invalid key: {reason}")]
        InvalidKey {
            /// What was wrong with it.
            reason: String,
        } => "invalid_key",

        /// A signature did not verify under the given key.
        #[error("signature does not verify with key {key_id}")]
        SignatureInvalid {
            /// The id of the key that was tried.
            key_id: String,
        } => "signature_invalid",

        /// A signing backend (local key, KMS, HSM) failed to sign.
        #[error("signing failed: {reason}")]
        SigningFailed {
            /// What the backend reported.
            reason: String,
        } => "signing_failed",

        /// A DSSE envelope is malformed.
        #[error("invalid DSSE envelope: {reason}")]
        InvalidEnvelope {
            /// What was wrong with it.
            reason: String,
        } => "invalid_envelope",

        /// A DSSE envelope carries another payload type than the one required.
        #[error("DSSE payload type is {found:?}, expected {expected:?}")]
        PayloadTypeMismatch {
            /// The payload type the caller required.
            expected: String,
            /// The payload type the envelope carries.
            found: String,
        } => "payload_type_mismatch",

        /// Fewer distinct trusted keys signed a DSSE envelope than the threshold.
        #[error(
            "DSSE threshold not met: {verified} of {threshold} required keys verified ({signatures} signatures checked against {keys} keys)"
        )]
        ThresholdNotMet {
            /// Distinct keys whose signature verified.
            verified: usize,
            /// Distinct keys required.
            threshold: usize,
            /// Signatures in the envelope.
            signatures: usize,
            /// Keys that were trusted.
            keys: usize,
        } => "threshold_not_met",

        /// A verification threshold is zero or larger than the number of keys.
        #[error(
            "invalid threshold {threshold} for {keys} keys: it must be between 1 and the number of keys"
        )]
        InvalidThreshold {
            /// The threshold that was asked for.
            threshold: usize,
            /// The number of keys given.
            keys: usize,
        } => "invalid_threshold",

        /// An in-toto Statement is malformed.
        #[error("invalid in-toto statement: {reason}")]
        InvalidStatement {
            /// What was wrong with it.
            reason: String,
        } => "invalid_statement",

        /// A Sigstore bundle is malformed or of an unsupported kind.
        #[error("invalid Sigstore bundle: {reason}")]
        InvalidSigstoreBundle {
            /// What was wrong with it.
            reason: String,
        } => "invalid_sigstore_bundle",

        /// A Sigstore bundle is well-formed but does not establish trust: its
        /// certificate does not chain to the trusted root, the identity or
        /// issuer is not the expected one, or its transparency-log or timestamp
        /// evidence does not verify.
        #[error("Sigstore bundle not trusted: {reason}")]
        BundleNotTrusted {
            /// What failed.
            reason: String,
        } => "bundle_not_trusted",

        /// A signature is about another artefact than the one being verified.
        #[error("artifact mismatch: {reason}")]
        ArtifactMismatch {
            /// Which digests differ.
            reason: String,
        } => "artifact_mismatch",

        /// Input read from outside is larger than the limit for it.
        #[error("{what} is larger than the limit of {limit} bytes")]
        TooLarge {
            /// What was being read.
            what: String,
            /// The limit in bytes.
            limit: u64,
        } => "too_large",

        /// Reading or writing a file failed.
        #[error("{op} {path}: {source}")]
        Io {
            /// What was being done ("read", "write", "rename", ...).
            op: &'static str,
            /// The file concerned.
            path: PathBuf,
            /// The underlying error.
            #[source]
            source: std::io::Error,
        } => "io",
    }
}

impl Error {
    /// True for errors that mean "the evidence does not hold" (a signature,
    /// threshold or payload type check failed), as opposed to unusable input.
    ///
    /// The `cos` CLI maps the first kind to exit code 1 and the second to 2.
    pub fn is_verification_failure(&self) -> bool {
        matches!(
            self,
            Error::SignatureInvalid { .. }
                | Error::PayloadTypeMismatch { .. }
                | Error::ThresholdNotMet { .. }
                | Error::InvalidEnvelope { .. }
                | Error::ArtifactMismatch { .. }
                | Error::InvalidSigstoreBundle { .. }
                | Error::BundleNotTrusted { .. }
        )
    }
}

/// Shortens untrusted input before it is echoed in an error message.
pub(crate) fn excerpt(input: &str) -> String {
    const MAX: usize = 80;
    if input.len() <= MAX {
        return input.to_owned();
    }
    let mut end = MAX;
    while !input.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &input[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `Error::CODES` is duplicate-free, snake_case and documented;
    /// `code()` and `CODES` come from one table (`error_enum!`), so every
    /// variant's code is listed and every listed code has a variant.
    #[test]
    fn codes_are_listed_once() {
        assert_eq!(
            crate::error_codes::problems(Error::CODES, &[]),
            Vec::<String>::new()
        );
        let samples = [
            Error::InvalidJson { reason: "x".into() },
            Error::TooLarge {
                what: "x".into(),
                limit: 1,
            },
            Error::Io {
                op: "read",
                path: "x".into(),
                source: std::io::Error::other("x"),
            },
            Error::InvalidSourceDateEpoch { value: "x".into() },
        ];
        for e in samples {
            assert!(Error::CODES.iter().any(|c| c.code == e.code()), "{e}");
        }
        assert_eq!(Error::CODES.len(), 24);
    }
}
