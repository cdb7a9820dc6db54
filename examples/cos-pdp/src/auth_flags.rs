//! The flags of who may call the API and how it is reached: OPA's
//! `--authentication` and the TLS flags (`--tls-*`, `--min-tls-version`),
//! and the server's TLS configuration made from them.

use std::path::Path;

use crate::Config;

/// OPA's `--authentication`: how a client proves who it is.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Authentication {
    /// Nobody is asked (the default).
    #[default]
    Off,
    /// A bearer token (`Authorization: Bearer ...`), given to the
    /// authorisation policy as `input.identity`.
    Token,
    /// A client certificate, required and verified against
    /// `--tls-ca-cert-file` in the TLS handshake; its subject is
    /// `input.identity` (`cos_http::ClientIdentity` on each request).
    Tls,
}

/// OPA's `--min-tls-version` (OPA also takes 1.0 and 1.1; rustls speaks
/// neither).
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum MinTlsVersion {
    /// TLS 1.2 (the default).
    #[default]
    #[value(name = "1.2")]
    V1_2,
    /// TLS 1.3.
    #[value(name = "1.3")]
    V1_3,
}

/// The server's TLS configuration from the flags: `None` for plain HTTP.
/// Refuses inconsistent flags (a certificate without its key, `tls`
/// authentication without a CA or a certificate) and unusable files, saying
/// which file and what to do.
pub(crate) fn tls_config(config: &Config) -> Result<Option<cos_http::TlsConfig>, String> {
    let (cert, key) = match (&config.tls_cert_file, &config.tls_private_key_file) {
        (Some(c), Some(k)) => (c, k),
        (None, None) => {
            if config.authentication == Authentication::Tls {
                return Err("--authentication=tls needs TLS: give --tls-cert-file and \
                            --tls-private-key-file (and --tls-ca-cert-file for the client CAs)"
                    .into());
            }
            return Ok(None);
        }
        _ => {
            return Err(
                "--tls-cert-file and --tls-private-key-file must be specified together".into(),
            );
        }
    };
    // As OPA: client certificates are asked for (and required) only under
    // --authentication=tls; a CA file alone changes nothing.
    let ca = match (&config.tls_ca_cert_file, config.authentication) {
        (Some(ca), Authentication::Tls) => Some(read(ca, "--tls-ca-cert-file")?),
        (None, Authentication::Tls) => {
            return Err("--authentication=tls needs --tls-ca-cert-file: the CA \
                        certificates (PEM) that client certificates must chain to"
                .into());
        }
        _ => None,
    };
    let min = match config.min_tls_version {
        MinTlsVersion::V1_2 => cos_http::TlsVersion::Tls12,
        MinTlsVersion::V1_3 => cos_http::TlsVersion::Tls13,
    };
    let cert_pem = read(cert, "--tls-cert-file")?;
    let key_pem = read(key, "--tls-private-key-file")?;
    cos_http::TlsConfig::from_pem(&cert_pem, &key_pem, ca.as_deref(), min)
        .map(Some)
        .map_err(|e| explain(&e, config))
}

fn read(path: &Path, flag: &str) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("{flag} {}: cannot read it: {e}", shown(path)))
}

/// A path as it is shown in a message.
fn shown(path: &Path) -> String {
    cos_core::text::escape_untrusted(&path.display().to_string(), 300)
}

/// The error, naming the flag and file, and what to do.
fn explain(e: &cos_http::Error, config: &Config) -> String {
    let shown = |p: &Option<std::path::PathBuf>| p.as_deref().map_or_else(String::new, shown);
    match e {
        cos_http::Error::Pem { input, reason } => {
            let (flag, file, want) = match input {
                cos_http::Pem::CertChain => (
                    "--tls-cert-file",
                    shown(&config.tls_cert_file),
                    "the server's certificate, then any intermediates, as PEM CERTIFICATE sections",
                ),
                cos_http::Pem::PrivateKey => (
                    "--tls-private-key-file",
                    shown(&config.tls_private_key_file),
                    "the certificate's private key as PEM (PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY), unencrypted",
                ),
                _ => (
                    "--tls-ca-cert-file",
                    shown(&config.tls_ca_cert_file),
                    "the CA certificates that sign client certificates, as PEM CERTIFICATE sections",
                ),
            };
            format!("{flag} {file}: {reason}; expected {want}")
        }
        other => format!(
            "--tls-cert-file {} with --tls-private-key-file {}: {other}; check that the key is the certificate's",
            shown(&config.tls_cert_file),
            shown(&config.tls_private_key_file)
        ),
    }
}
