//! TLS on the accepted streams: the server's configuration from PEM.

use std::sync::Arc;

use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::pem::{self, PemObject};
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::error::{Error, Pem, Result};

/// The lowest TLS version the server accepts (OPA's `--min-tls-version`;
/// TLS 1.0 and 1.1 are not offered: rustls does not implement them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum TlsVersion {
    /// TLS 1.2 and 1.3 (the default, as OPA's).
    #[default]
    Tls12,
    /// TLS 1.3 only.
    Tls13,
}

/// How the server speaks TLS: its certificate chain and key, the lowest
/// version, and, for mutual TLS, the CAs a client's certificate must chain
/// to. Made once, shared by every connection ([`serve_tls`]).
///
/// With client CAs, every client must present a certificate that verifies
/// against them (Go's `tls.RequireAndVerifyClientCert`, as OPA's
/// `--authentication=tls`), or the handshake fails; the requests of a
/// verified client carry its [`ClientIdentity`].
///
/// Cryptography is rustls with the *ring* provider; ALPN offers
/// `http/1.1` only (the loop speaks HTTP/1.1).
///
/// [`serve_tls`]: crate::serve_tls
/// [`ClientIdentity`]: crate::ClientIdentity
#[derive(Clone)]
pub struct TlsConfig {
    pub(crate) server: Arc<rustls::ServerConfig>,
    pub(crate) verify_clients: bool,
}

impl std::fmt::Debug for TlsConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsConfig")
            .field("verify_clients", &self.verify_clients)
            .finish_non_exhaustive()
    }
}

impl TlsConfig {
    /// A configuration from PEM texts: `cert_chain`, the server's
    /// certificate then any intermediates (`CERTIFICATE` sections);
    /// `private_key`, its key (the first `PRIVATE KEY`, `RSA PRIVATE KEY`
    /// or `EC PRIVATE KEY` section); `client_ca`, for mutual TLS, the CA
    /// certificates a client's certificate must chain to.
    ///
    /// Fails with [`Error::Pem`] when a text holds no usable section (what
    /// is said names the input, never repeats its bytes), and with
    /// [`Error::Tls`] when rustls refuses the set (a key that does not
    /// match the certificate, a key type it does not support).
    pub fn from_pem(
        cert_chain: &[u8],
        private_key: &[u8],
        client_ca: Option<&[u8]>,
        min_version: TlsVersion,
    ) -> Result<Self> {
        let certs = certificates(cert_chain, Pem::CertChain)?;
        let key = PrivateKeyDer::from_pem_slice(private_key).map_err(|e| Error::Pem {
            input: Pem::PrivateKey,
            reason: pem_reason(&e, "PRIVATE KEY"),
        })?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let versions: &[&'static rustls::SupportedProtocolVersion] = match min_version {
            TlsVersion::Tls12 => &[&rustls::version::TLS13, &rustls::version::TLS12],
            TlsVersion::Tls13 => &[&rustls::version::TLS13],
        };
        let builder = rustls::ServerConfig::builder_with_provider(Arc::clone(&provider))
            .with_protocol_versions(versions)
            .map_err(tls_error)?;
        let builder = match client_ca {
            None => builder.with_no_client_auth(),
            Some(pem) => {
                let mut roots = rustls::RootCertStore::empty();
                let (added, _ignored) =
                    roots.add_parsable_certificates(certificates(pem, Pem::ClientCa)?);
                if added == 0 {
                    return Err(Error::Pem {
                        input: Pem::ClientCa,
                        reason: "none of its certificates is a usable CA certificate".into(),
                    });
                }
                let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
                    Arc::new(roots),
                    provider,
                )
                .build()
                .map_err(|e| Error::Tls {
                    reason: e.to_string(),
                })?;
                builder.with_client_cert_verifier(verifier)
            }
        };
        let mut server = builder.with_single_cert(certs, key).map_err(tls_error)?;
        server.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(TlsConfig {
            server: Arc::new(server),
            verify_clients: client_ca.is_some(),
        })
    }

    /// Whether clients must present a certificate that verifies (mutual TLS).
    pub fn verifies_clients(&self) -> bool {
        self.verify_clients
    }
}

fn tls_error(e: rustls::Error) -> Error {
    Error::Tls {
        reason: e.to_string(),
    }
}

fn certificates(text: &[u8], input: Pem) -> Result<Vec<CertificateDer<'static>>> {
    let certs = CertificateDer::pem_slice_iter(text)
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| Error::Pem {
            input,
            reason: pem_reason(&e, "CERTIFICATE"),
        })?;
    if certs.is_empty() {
        return Err(Error::Pem {
            input,
            reason: pem_reason(&pem::Error::NoItemsFound, "CERTIFICATE"),
        });
    }
    Ok(certs)
}

/// What was wrong, in words of our own: some of `pem::Error`'s messages
/// quote lines of the file, which may be a secret key.
fn pem_reason(e: &pem::Error, section: &str) -> String {
    match e {
        pem::Error::NoItemsFound => {
            format!("no PEM section of the kind expected (-----BEGIN {section}-----)")
        }
        pem::Error::MissingSectionEnd { .. } => "a PEM section has no END line".into(),
        pem::Error::IllegalSectionStart { .. } => "a PEM BEGIN line is malformed".into(),
        pem::Error::Base64Decode(_) => "a PEM section is not valid base64".into(),
        pem::Error::SectionTooLarge => "a PEM section is too large".into(),
        _ => "it cannot be read as PEM".into(),
    }
}
