//! The one error type of this crate.

/// What was wrong with the [`Limits`](crate::Limits) or the TLS material
/// given.
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
    /// A PEM input of [`TlsConfig::from_pem`](crate::TlsConfig::from_pem)
    /// holds nothing usable.
    #[error("the {input} is unusable: {reason}")]
    Pem {
        /// Which input.
        input: Pem,
        /// What was wrong (never a quote of the input).
        reason: String,
    },
    /// rustls refused the certificate chain, key or client CAs (e.g. a key
    /// that does not match the certificate).
    #[error("TLS configuration refused: {reason}")]
    Tls {
        /// What rustls said.
        reason: String,
    },
    /// A certificate's subject could not be read
    /// ([`ClientIdentity::from_certificate_der`](crate::ClientIdentity::from_certificate_der)).
    #[error("certificate subject unreadable: {reason}")]
    Certificate {
        /// What was wrong.
        reason: &'static str,
    },
}

/// The PEM inputs of [`TlsConfig::from_pem`](crate::TlsConfig::from_pem).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Pem {
    /// The server's certificate chain.
    CertChain,
    /// The server's private key.
    PrivateKey,
    /// The CA certificates for client certificates.
    ClientCa,
}

impl std::fmt::Display for Pem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Pem::CertChain => "certificate chain",
            Pem::PrivateKey => "private key",
            Pem::ClientCa => "client CA bundle",
        })
    }
}

impl Error {
    /// A stable machine code for the error.
    pub fn code(&self) -> &'static str {
        match self {
            Error::Zero { .. } => "invalid_limit",
            Error::Pem { .. } => "invalid_pem",
            Error::Tls { .. } => "invalid_tls_config",
            Error::Certificate { .. } => "invalid_certificate",
        }
    }
}

/// This crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
