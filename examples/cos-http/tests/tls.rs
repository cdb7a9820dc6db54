//! `serve_tls` puts the verified client's `ClientIdentity` into each
//! request's extensions (what cos-pdp's authorisation reads), and none
//! without client verification. Loopback, bounded, with cos-pdp's fixtures
//! (examples/cos-pdp/tests/tls/).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a failure should panic with context"
)]

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../cos-pdp/tests/tls")
        .join(name)
}

fn read(name: &str) -> Vec<u8> {
    std::fs::read(fixture(name)).unwrap()
}

async fn whoami(identity: Option<axum::Extension<cos_http::ClientIdentity>>) -> String {
    identity.map_or_else(|| "none".to_owned(), |i| i.0.subject)
}

/// Serves `whoami` with `tls`; one request from a client with `client`
/// (`NAME.pem`/`NAME.key`): the answer's body, or `None` when refused.
async fn ask(tls: cos_http::TlsConfig, client: Option<&str>) -> Option<String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = axum::Router::new().route("/", axum::routing::get(whoami));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(cos_http::serve_tls(
        listener,
        router,
        cos_http::Limits::default(),
        tls,
        |r: &cos_http::Refusal| r.plain_text(),
        async {
            let _ = stopped.await;
        },
    ));
    let mut roots = rustls::RootCertStore::empty();
    roots.add_parsable_certificates(
        CertificateDer::pem_slice_iter(&read("ca.pem")).map(Result::unwrap),
    );
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots);
    let config = match client {
        None => builder.with_no_client_auth(),
        Some(name) => builder
            .with_client_auth_cert(
                CertificateDer::pem_slice_iter(&read(&format!("{name}.pem")))
                    .map(Result::unwrap)
                    .collect(),
                PrivateKeyDer::from_pem_slice(&read(&format!("{name}.key"))).unwrap(),
            )
            .unwrap(),
    };
    let answer = tokio::time::timeout(Duration::from_secs(20), async {
        let tcp = tokio::net::TcpStream::connect(addr).await.ok()?;
        let mut tls = tokio_rustls::TlsConnector::from(Arc::new(config))
            .connect(ServerName::try_from("localhost").unwrap(), tcp)
            .await
            .ok()?;
        tls.write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            .await
            .ok()?;
        let mut out = Vec::new();
        tls.read_to_end(&mut out).await.ok()?;
        let text = String::from_utf8(out).ok()?;
        let (head, body) = text.split_once("\r\n\r\n")?;
        head.starts_with("HTTP/1.1 200").then(|| body.to_owned())
    })
    .await
    .unwrap();
    let _ = stop.send(());
    server.await.unwrap();
    answer
}

fn config(client_ca: bool) -> cos_http::TlsConfig {
    let ca = read("ca.pem");
    cos_http::TlsConfig::from_pem(
        &read("server.pem"),
        &read("server.key"),
        client_ca.then_some(ca.as_slice()),
        cos_http::TlsVersion::default(),
    )
    .unwrap()
}

#[tokio::test]
async fn the_verified_client_identity_is_in_the_request() {
    let mtls = config(true);
    assert!(mtls.verifies_clients());
    assert_eq!(
        ask(mtls.clone(), Some("client")).await.as_deref(),
        Some("CN=client,OU=payments,O=Acme")
    );
    assert_eq!(
        ask(mtls.clone(), Some("tricky")).await.as_deref(),
        Some(r"CN=\#svc\;1,OU=a+OU=b\+x,O=Acme\, Inc.,C=DE")
    );
    assert_eq!(ask(mtls.clone(), None).await, None);
    assert_eq!(ask(mtls, Some("other-client")).await, None);
}

#[tokio::test]
async fn without_client_verification_there_is_no_identity() {
    let tls = config(false);
    assert!(!tls.verifies_clients());
    assert_eq!(ask(tls.clone(), None).await.as_deref(), Some("none"));
    assert_eq!(ask(tls, Some("client")).await.as_deref(), Some("none"));
}

#[test]
fn unusable_pem_is_a_typed_error() {
    let e =
        cos_http::TlsConfig::from_pem(b"", &read("server.key"), None, cos_http::TlsVersion::Tls13)
            .unwrap_err();
    assert_eq!(e.code(), "invalid_pem");
    let e = cos_http::TlsConfig::from_pem(
        &read("server.pem"),
        &read("client.key"),
        None,
        cos_http::TlsVersion::Tls12,
    )
    .unwrap_err();
    assert_eq!(e.code(), "invalid_tls_config");
    let e = cos_http::TlsConfig::from_pem(
        &read("server.pem"),
        &read("server.key"),
        Some(b"-----BEGIN CERTIFICATE-----\n!!\n-----END CERTIFICATE-----\n"),
        cos_http::TlsVersion::Tls12,
    )
    .unwrap_err();
    assert_eq!(e.code(), "invalid_pem");
    assert!(!e.to_string().contains("!!"), "{e}");
}
