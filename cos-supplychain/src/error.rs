//! The crate's error type.

cos_core::error_enum! {
    /// Errors from `cos-supplychain`.
    #[derive(Debug, thiserror::Error)]
    #[non_exhaustive]
    pub enum Error {
        /// A trusted root (`trusted_root.json`) is malformed or unusable.
        #[error("invalid trusted root: {reason}")]
        InvalidTrustedRoot {
            /// What was wrong with it.
            reason: String,
        } => "invalid_trusted_root",

        /// A verification policy is unusable (e.g. an empty identity).
        #[error("invalid verification policy: {reason}")]
        InvalidPolicy {
            /// What was wrong with it.
            reason: String,
        } => "invalid_policy",

        /// An input (vulnerability report, VEX document, waivers or gate policy
        /// file) is larger than the limit for it.
        #[error("{what} is too large: {size} bytes, the limit is {limit}")]
        InputTooLarge {
            /// Which input (e.g. `grype report`, `waivers file`).
            what: String,
            /// Its size in bytes.
            size: usize,
            /// The limit in bytes.
            limit: usize,
        } => "input_too_large",

        /// An input holds more entries (findings, statements, waivers) than the
        /// limit allows.
        #[error("{what} has more than {limit} {entries}")]
        TooManyEntries {
            /// Which input.
            what: String,
            /// What was counted (`findings`, `statements`, `waivers`).
            entries: &'static str,
            /// The limit.
            limit: usize,
        } => "too_many_entries",

        /// The format of a vulnerability report or VEX document could not be
        /// recognised from its content.
        #[error("unrecognised {what}: {reason}")]
        UnknownFormat {
            /// Which input (`vulnerability report`, `VEX document`).
            what: &'static str,
            /// What was seen.
            reason: String,
        } => "unknown_format",

        /// A vulnerability report (OSV, Grype, Trivy, CycloneDX) is malformed.
        #[error("invalid {format} report: {reason}")]
        InvalidReport {
            /// The format it was read as (`osv`, `grype`, `trivy`, `cyclonedx`).
            format: &'static str,
            /// What was wrong, and where.
            reason: String,
        } => "invalid_report",

        /// A VEX document (CycloneDX or OpenVEX) is malformed.
        #[error("invalid {format} VEX document: {reason}")]
        InvalidVex {
            /// The format it was read as (`cyclonedx`, `openvex`).
            format: &'static str,
            /// What was wrong, and where.
            reason: String,
        } => "invalid_vex",

        /// A waivers file is not a list of waivers (not YAML/JSON, wrong shape).
        #[error("invalid waivers file: {reason}")]
        InvalidWaivers {
            /// What was wrong.
            reason: String,
        } => "invalid_waivers",

        /// One waiver of a waivers file lacks a required field or has a bad value.
        #[error("invalid waiver #{index} ({id}): field `{field}`: {reason}")]
        InvalidWaiver {
            /// Its position in the file, from 1.
            index: usize,
            /// Its `id` (empty when that is what is missing).
            id: String,
            /// The field at fault (`id`, `package`, `reason`, `approver`,
            /// `expires`; `(unknown)` for a field the format does not have).
            field: &'static str,
            /// What was wrong with it.
            reason: String,
        } => "invalid_waiver",

        /// A CVE gate policy file is malformed or inconsistent.
        #[error("invalid CVE gate policy: {reason}")]
        InvalidGatePolicy {
            /// What was wrong.
            reason: String,
        } => "invalid_gate_policy",

        /// A CVSS vector string could not be parsed or scored.
        #[error("invalid CVSS vector {vector:?}: {reason}")]
        InvalidCvssVector {
            /// The vector as given (truncated if long).
            vector: String,
            /// What was wrong with it.
            reason: String,
        } => "invalid_cvss_vector",

        /// A time is not an RFC 3339 date or date-time (or is out of range).
        #[error("invalid time {input:?}: {reason}")]
        InvalidTime {
            /// The text given (truncated if long).
            input: String,
            /// What was wrong with it.
            reason: String,
        } => "invalid_time",

        /// A build description (the input of SLSA provenance) is malformed.
        #[error("invalid build description: {reason}")]
        InvalidBuildDescription {
            /// What was wrong with it.
            reason: String,
        } => "invalid_build_description",

        /// A provenance whose signature verified is not SLSA provenance v1 as
        /// cos reads it (a required field missing or of the wrong type).
        #[error("invalid provenance: {reason}")]
        InvalidProvenance {
            /// What was wrong with it.
            reason: String,
        } => "invalid_provenance",

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
        } => "provenance_mismatch",

        /// A lockfile or package-manager output (`cargo metadata` JSON,
        /// `Cargo.lock`, `package-lock.json`, `requirements.txt`, `poetry.lock`,
        /// `uv.lock`) is malformed, too large or of an unsupported version.
        #[error("invalid {input}: {reason}")]
        InvalidLockfile {
            /// Which kind of input (e.g. `package-lock.json`).
            input: &'static str,
            /// What was wrong with it.
            reason: String,
        } => "invalid_lockfile",

        /// An SBOM (CycloneDX or SPDX JSON) is malformed, too large or of an
        /// unsupported version.
        #[error("invalid SBOM: {reason}")]
        InvalidSbom {
            /// What was wrong with it.
            reason: String,
        } => "invalid_sbom",

        /// A licence policy (allow / deny lists) is malformed or names
        /// something that is not an SPDX licence identifier.
        #[error("invalid licence policy: {reason}")]
        InvalidLicensePolicy {
            /// What was wrong with it.
            reason: String,
        } => "invalid_license_policy",
    }
    foreign {
        /// An error from `cos-core` (bundles, digests, files), including every
        /// verification failure (`is_verification_failure()` on it).
        #[error(transparent)]
        Core(cos_core::Error),
    }
}

impl Error {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// `Error::CODES` is duplicate-free, snake_case and documented, and
    /// comes from the same table as `code()` (`error_enum!`).
    #[test]
    fn codes_are_listed_once() {
        assert_eq!(
            cos_core::error_codes::problems(Error::CODES, &[]),
            Vec::<String>::new()
        );
        let e = Error::InvalidSbom { reason: "x".into() };
        assert!(Error::CODES.iter().any(|c| c.code == e.code()));
        // cos-core's codes are cos-core's: not listed again here.
        let core = Error::from(cos_core::Error::InvalidJson { reason: "x".into() });
        assert_eq!(core.code(), "invalid_json");
        assert!(!Error::CODES.iter().any(|c| c.code == core.code()));
        assert_eq!(Error::CODES.len(), 18);
    }
}
