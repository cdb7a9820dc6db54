//! cos-pdp over TLS and mutual TLS (OPA's `--tls-*`, `--min-tls-version`,
//! `--authentication=tls`), loopback and bounded, with the fixtures of
//! `tests/tls/` (made by `tests/tls/make.sh`): HTTPS decisions with ureq;
//! plain HTTP to the TLS port gets no answer; under mTLS no certificate and
//! an untrusted one are refused, a trusted one is served; a connection that
//! sends no ClientHello is closed within the header timeout and counts
//! against the connection cap while a good client is served;
//! `--min-tls-version 1.3` refuses a TLS 1.2-only client; unusable flags
//! and files are exit 2 with a message that names the file and quotes
//! nothing of it; `cos_http::ClientIdentity` gives each fixture the
//! identity OPA gives it (`tests/tls/identities.json`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a failure should panic with context"
)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/tls")
        .join(name)
}

fn fixture_arg(name: &str) -> String {
    fixture(name).display().to_string()
}

mod common;
use common::{Pdp, pdp};

fn https(extra: &[&str]) -> Pdp {
    let (cert, key) = (fixture_arg("server.pem"), fixture_arg("server.key"));
    let mut args = vec![
        "--tls-cert-file",
        cert.as_str(),
        "--tls-private-key-file",
        key.as_str(),
    ];
    args.extend_from_slice(extra);
    let server = pdp(&args);
    assert!(
        server.base.starts_with("https://"),
        "unexpected address {}",
        server.base
    );
    server
}

fn mtls(extra: &[&str]) -> Pdp {
    let ca = fixture_arg("ca.pem");
    let mut args = vec!["--authentication", "tls", "--tls-ca-cert-file", ca.as_str()];
    args.extend_from_slice(extra);
    https(&args)
}

fn certs(name: &str) -> Vec<CertificateDer<'static>> {
    CertificateDer::pem_file_iter(fixture(name))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

/// A ureq agent trusting the test CA, with this client certificate
/// (`client` names `NAME.pem` and `NAME.key`).
fn agent(client: Option<&str>) -> ureq::Agent {
    let ca = std::fs::read(fixture("ca.pem")).unwrap();
    let mut tls =
        ureq::tls::TlsConfig::builder().root_certs(ureq::tls::RootCerts::new_with_certs(&[
            ureq::tls::Certificate::from_pem(&ca).unwrap(),
        ]));
    if let Some(name) = client {
        let cert = std::fs::read(fixture(&format!("{name}.pem"))).unwrap();
        let key = std::fs::read(fixture(&format!("{name}.key"))).unwrap();
        tls = tls.client_cert(Some(ureq::tls::ClientCert::new_with_certs(
            &[ureq::tls::Certificate::from_pem(&cert).unwrap()],
            ureq::tls::PrivateKey::from_pem(&key).unwrap(),
        )));
    }
    ureq::Agent::new_with_config(
        ureq::config::Config::builder()
            .tls_config(tls.build())
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(20)))
            .build(),
    )
}

/// PUTs a policy and decides with it over HTTPS: the decision's body.
fn decide(agent: &ureq::Agent, port: u16) -> Result<(u16, String), ureq::Error> {
    let base = format!("https://localhost:{port}");
    let put = agent
        .put(format!("{base}/v1/policies/x"))
        .header("Content-Type", "text/plain")
        .send("package x\nimport rego.v1\nallow if input.user == \"alice\"\n")?;
    assert_eq!(put.status(), 200);
    let mut answer = agent
        .post(format!("{base}/v1/data/x/allow"))
        .header("Content-Type", "application/json")
        .send(r#"{"input": {"user": "alice"}}"#)?;
    let status = answer.status().as_u16();
    Ok((status, answer.body_mut().read_to_string()?))
}

#[test]
fn https_serves_decisions() {
    let pdp = https(&[]);
    let (status, body) = decide(&agent(None), pdp.port).unwrap();
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&body).unwrap()["result"],
        true
    );
    // A client certificate is not asked for without --authentication=tls
    // (as OPA): one offered is ignored, and the CA file changes nothing.
    let ca = fixture_arg("ca.pem");
    let pdp = https(&["--tls-ca-cert-file", ca.as_str()]);
    assert_eq!(
        decide(&agent(Some("other-client")), pdp.port).unwrap().0,
        200
    );
}

#[test]
fn plain_http_to_the_tls_port_gets_no_answer() {
    let pdp = https(&[]);
    let mut s = TcpStream::connect(("127.0.0.1", pdp.port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    assert!(
        !out.starts_with(b"HTTP/"),
        "{:?}",
        String::from_utf8_lossy(&out)
    );
    let plain = ureq::get(format!("http://127.0.0.1:{}/health", pdp.port)).call();
    assert!(plain.is_err(), "{plain:?}");
}

#[test]
fn mutual_tls_requires_a_trusted_client_certificate() {
    let pdp = mtls(&[]);
    let none = decide(&agent(None), pdp.port);
    assert!(none.is_err(), "no client certificate: {none:?}");
    let untrusted = decide(&agent(Some("other-client")), pdp.port);
    assert!(
        untrusted.is_err(),
        "untrusted client certificate: {untrusted:?}"
    );
    let (status, body) = decide(&agent(Some("client")), pdp.port).unwrap();
    assert_eq!(status, 200, "{body}");
    // The server goes on serving after refusals.
    assert!(decide(&agent(None), pdp.port).is_err());
    assert_eq!(decide(&agent(Some("tricky")), pdp.port).unwrap().0, 200);
}

/// A rustls client trusting the test CA, of these TLS versions: whether
/// its handshake with the server completes and a request is answered.
fn handshake(port: u16, versions: &[&'static rustls::SupportedProtocolVersion]) -> bool {
    let mut roots = rustls::RootCertStore::empty();
    roots.add_parsable_certificates(certs("ca.pem"));
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_protocol_versions(versions)
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let mut conn =
        rustls::ClientConnection::new(Arc::new(config), ServerName::try_from("localhost").unwrap())
            .unwrap();
    let mut sock = TcpStream::connect(("127.0.0.1", port)).unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut tls = rustls::Stream::new(&mut conn, &mut sock);
    if tls
        .write_all(b"GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut out = Vec::new();
    let _ = tls.read_to_end(&mut out);
    out.starts_with(b"HTTP/1.1 200")
}

#[test]
fn min_tls_version_1_3_refuses_a_tls_1_2_client() {
    let pdp = https(&[]);
    assert!(handshake(pdp.port, &[&rustls::version::TLS12]));
    assert!(handshake(pdp.port, &[&rustls::version::TLS13]));
    let pdp = https(&["--min-tls-version", "1.3"]);
    assert!(!handshake(pdp.port, &[&rustls::version::TLS12]));
    assert!(handshake(pdp.port, &[&rustls::version::TLS13]));
}

#[test]
fn a_silent_handshake_is_closed_and_counts_against_the_cap() {
    let pdp = https(&["--header-timeout", "1", "--max-connections", "3"]);
    let opened = Instant::now();
    let silent: Vec<TcpStream> = (0..3)
        .map(|_| TcpStream::connect(("127.0.0.1", pdp.port)).unwrap())
        .collect();
    std::thread::sleep(Duration::from_millis(200));
    // Past the cap, a newcomer is served: a silent one is shed for it.
    assert!(handshake(pdp.port, &[&rustls::version::TLS13]));
    for mut s in silent {
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut buf = [0u8; 16];
        // Closed by the server: end of stream (or a reset), not a timeout.
        match s.read(&mut buf) {
            Ok(0) => {}
            Err(e) => assert_ne!(e.kind(), std::io::ErrorKind::WouldBlock, "{e}"),
            Ok(n) => panic!("{n} bytes from a handshake never begun"),
        }
    }
    assert!(
        opened.elapsed() < Duration::from_secs(5),
        "{:?}",
        opened.elapsed()
    );
    // And the server still serves.
    assert!(handshake(pdp.port, &[&rustls::version::TLS12]));
}

/// cos-pdp with these arguments must exit 2 at once: its standard error.
fn refused(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_cos-pdp"))
        .args(["--listen", "127.0.0.1:0"])
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{args:?}: {out:?}");
    String::from_utf8(out.stderr).unwrap()
}

#[test]
fn unusable_flags_and_files_are_usage_errors() {
    let (cert, key) = (fixture_arg("server.pem"), fixture_arg("server.key"));
    let err = refused(&["--tls-cert-file", &cert]);
    assert!(err.contains("must be specified together"), "{err}");
    let err = refused(&["--tls-private-key-file", &key]);
    assert!(err.contains("must be specified together"), "{err}");
    let err = refused(&["--authentication", "tls"]);
    assert!(err.contains("--tls-cert-file"), "{err}");
    let err = refused(&[
        "--tls-cert-file",
        &cert,
        "--tls-private-key-file",
        &key,
        "--authentication",
        "tls",
    ]);
    assert!(err.contains("--tls-ca-cert-file"), "{err}");
    let err = refused(&["--min-tls-version", "1.1"]);
    assert!(err.contains("1.2"), "{err}");
    let err = refused(&["--authentication", "basic"]);
    assert!(err.contains("tls"), "{err}");

    // A key that is not the certificate's.
    let other_key = fixture_arg("client.key");
    let err = refused(&[
        "--tls-cert-file",
        &cert,
        "--tls-private-key-file",
        &other_key,
    ]);
    assert!(
        err.contains("--tls-cert-file") && err.contains("key"),
        "{err}"
    );

    // Files swapped, missing, or not PEM: the flag and file are named, no
    // byte of the file is repeated.
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.pem");
    std::fs::write(
        &bad,
        "-----BEGIN PRIVATE KEY-----\nSECRET\u{1b}[2J!!notbase64\n-----END PRIVATE KEY-----\n",
    )
    .unwrap();
    let bad = bad.display().to_string();
    for (flags, named) in [
        (
            [
                "--tls-cert-file",
                key.as_str(),
                "--tls-private-key-file",
                key.as_str(),
            ],
            "--tls-cert-file",
        ),
        (
            [
                "--tls-cert-file",
                cert.as_str(),
                "--tls-private-key-file",
                cert.as_str(),
            ],
            "--tls-private-key-file",
        ),
        (
            [
                "--tls-cert-file",
                cert.as_str(),
                "--tls-private-key-file",
                bad.as_str(),
            ],
            "--tls-private-key-file",
        ),
        (
            [
                "--tls-cert-file",
                bad.as_str(),
                "--tls-private-key-file",
                key.as_str(),
            ],
            "--tls-cert-file",
        ),
        (
            [
                "--tls-cert-file",
                "/nonexistent/x.pem",
                "--tls-private-key-file",
                key.as_str(),
            ],
            "--tls-cert-file",
        ),
    ] {
        let err = refused(&flags);
        assert!(err.contains(named), "{flags:?}: {err}");
        assert!(
            !err.contains("SECRET") && !err.contains("BEGIN EC") && !err.contains('\u{1b}'),
            "{err}"
        );
    }
    let err = refused(&[
        "--tls-cert-file",
        &cert,
        "--tls-private-key-file",
        &key,
        "--authentication",
        "tls",
        "--tls-ca-cert-file",
        &key,
    ]);
    assert!(err.contains("--tls-ca-cert-file"), "{err}");
}

#[test]
fn identities_are_what_opa_gives_policy() {
    let text = std::fs::read_to_string(fixture("identities.json")).unwrap();
    let want: std::collections::BTreeMap<String, String> = serde_json::from_str(&text).unwrap();
    assert!(want.len() >= 3);
    for (file, subject) in want {
        let leaf = &certs(&file)[0];
        let got = cos_http::ClientIdentity::from_certificate_der(leaf).unwrap();
        assert_eq!(got.subject, subject, "{file}");
    }
    // The keys parse too (the fixtures are whole).
    for name in ["server.key", "client.key", "tricky.key", "other-client.key"] {
        PrivateKeyDer::from_pem_file(fixture(name)).unwrap();
    }
}
