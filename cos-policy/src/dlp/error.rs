//! The error of DLP: what is wrong with a pattern, operator, field path or
//! input. `cos_policy::Error::Dlp` wraps it, with the same codes.

/// Result type of the DLP module.
pub(crate) type Result<T, E = DlpError> = std::result::Result<T, E>;

cos_core::error_enum! {
    /// What went wrong configuring or running DLP; `cos_policy::Error::Dlp`
    /// when it reaches the crate's error.
    #[derive(Debug, thiserror::Error)]
    #[non_exhaustive]
    pub enum DlpError {
        /// A DLP custom pattern (from pack data or the caller) is malformed: bad
        /// shape, a name that is empty or taken, or a regex that does not compile
        /// within the size limits.
        #[error("DLP pattern {name:?}: {reason}")]
        Pattern {
            /// The pattern's name (or its index in the list when it has none).
            name: String,
            /// What was wrong.
            reason: String,
        } => "dlp_invalid_pattern",

        /// A DLP operator is unknown or cannot be used as configured
        /// (`hash` without a key, `mask` keeping too much).
        #[error("DLP operator {operator:?}: {reason}")]
        Operator {
            /// The operator as given.
            operator: String,
            /// What was wrong.
            reason: String,
        } => "dlp_invalid_operator",

        /// A DLP field path (`customer.email`, `items[*].card`) does not parse.
        #[error("DLP field path {path:?}: {reason}")]
        Path {
            /// The path as given.
            path: String,
            /// What was wrong.
            reason: String,
        } => "dlp_invalid_path",

        /// Text or a JSON document given to DLP is larger or deeper than its
        /// configured limit.
        #[error("DLP input too large: {what} is {size} (limit {limit})")]
        InputTooLarge {
            /// What was measured (`text bytes`, `document bytes`, `document depth`).
            what: String,
            /// The measured size.
            size: u64,
            /// The limit.
            limit: u64,
        } => "dlp_input_too_large",

        /// More field rules than a DLP rule set may hold
        /// ([`MAX_FIELD_RULES`](super::MAX_FIELD_RULES)).
        #[error("pack exceeds limit: {what} (limit {limit})")]
        LimitExceeded {
            /// Which limit.
            what: String,
            /// The limit's value.
            limit: u64,
        } => "limit_exceeded",
    }
}
