//! The one error type of this crate.

/// What was wrong with the [`Limits`](crate::Limits) given.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A limit that must be positive was zero (a zero timeout or cap would
    /// refuse every connection).
    #[error("{name} must be greater than zero")]
    Zero {
        /// The limit's name (`header_timeout`, `body_timeout`, `max_connections`).
        name: &'static str,
    },
}

impl Error {
    /// A stable machine code for the error.
    pub fn code(&self) -> &'static str {
        match self {
            Error::Zero { .. } => "invalid_limit",
        }
    }
}

/// This crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
