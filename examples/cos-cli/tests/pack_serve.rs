//! `cos pack serve` end to end, with cos's own HTTP client: headers,
//! attestation, conditional requests, long polling that wakes when a file
//! changes, a half-written file that is not published, and the store
//! verifying what it fetched.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a failure should panic with context"
)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use cos_core::{KeyAlgorithm, PrivateKey, sigstore};
use cos_policy::Pack;
use cos_policy::distribution::http::{ClientOptions, PackClient};
use cos_policy::store::{PolicyStore, StoreOptions};

/// The running server; killed when dropped.
struct Served {
    child: Child,
    base: String,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(args: &[&str]) -> Served {
    let mut child = Command::new(env!("CARGO_BIN_EXE_cos"))
        .args([
            "pack",
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--watch-ms",
            "50",
        ])
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let base = line
        .trim()
        .rsplit_once(" on ")
        .map(|(_, url)| url.to_owned())
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"));
    Served { child, base }
}

fn archive(version: &str) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("manifest.yaml"),
        format!(
            "name: demo\nversion: {version}\nroots: [demo]\nentrypoints: {{authz: demo/decision}}\n"
        ),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("policy.rego"),
        format!("package demo\nimport rego.v1\ndecision := {{\"allow\": true, \"reasons\": [{{\"code\": \"V\", \"message\": \"{version}\"}}], \"obligations\": []}}\n"),
    )
    .unwrap();
    Pack::load(dir.path(), &Default::default())
        .unwrap()
        .build_bundle()
        .unwrap()
}

/// Writes the archive and its bundle the way a publisher should: bundle
/// first, then the archive renamed into place.
fn publish(dir: &Path, version: &str, key: &PrivateKey) {
    let a = archive(version);
    std::fs::write(
        dir.join("demo.tar.gz.sigstore.json"),
        sigstore::sign_blob(&a, key).unwrap(),
    )
    .unwrap();
    std::fs::write(dir.join(".demo.tmp"), &a).unwrap();
    std::fs::rename(dir.join(".demo.tmp"), dir.join("demo.tar.gz")).unwrap();
}

fn client() -> PackClient {
    PackClient::new(ClientOptions {
        timeout: Duration::from_secs(10),
        retries: 0,
        ..ClientOptions::default()
    })
}

#[test]
fn serves_with_headers_attestation_and_conditions() {
    let key = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let dir = tempfile::tempdir().unwrap();
    publish(dir.path(), "1.0.0", &key);
    let served = serve(&[dir.path().to_str().unwrap()]);
    let url = format!("{}/demo.tar.gz", served.base);

    let fetched = client().fetch(&url, None).unwrap().unwrap();
    assert_eq!(
        fetched.archive,
        std::fs::read(dir.path().join("demo.tar.gz")).unwrap()
    );
    let etag = fetched.etag.clone().unwrap();
    assert!(etag.starts_with("W/\"sha-256:"), "{etag}");
    // The bundle came in the x-cosign-bundle header (small key bundle) and verifies.
    let bundle = fetched.sigstore_bundle.clone().unwrap();
    sigstore::Bundle::from_json(&bundle)
        .unwrap()
        .verify_blob(&fetched.archive, key.public_key())
        .unwrap();
    // ... and at /attestation.
    let att = client()
        .fetch_attestation(&format!("{url}/attestation"))
        .unwrap();
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&att).unwrap(),
        serde_json::from_slice::<serde_json::Value>(&bundle).unwrap()
    );
    assert!(client().fetch(&url, Some(&etag)).unwrap().is_none(), "304");
    let err = client()
        .fetch(&format!("{}/nope.tar.gz", served.base), None)
        .unwrap_err();
    assert_eq!(err.to_string(), "HTTP 404");

    // The store takes it, verified with the key.
    let store = PolicyStore::new(StoreOptions {
        sigstore: Some(Arc::new(key.public_key().clone())),
        ..StoreOptions::default()
    });
    store.activate(fetched.into_candidate()).unwrap();
    assert_eq!(store.pack_for(None).unwrap().pack().version, "1.0.0");
}

#[test]
fn long_poll_wakes_on_a_new_file_and_ignores_a_broken_one() {
    let key = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let dir = tempfile::tempdir().unwrap();
    publish(dir.path(), "1.0.0", &key);
    let served = serve(&[dir.path().to_str().unwrap()]);
    let url = format!("{}/demo.tar.gz", served.base);
    let poller = PackClient::new(ClientOptions {
        long_poll: Some(Duration::from_secs(20)),
        timeout: Duration::from_secs(10),
        retries: 0,
        ..ClientOptions::default()
    });
    let first = poller.fetch(&url, None).unwrap().unwrap();
    let etag = first.etag.clone().unwrap();

    // A broken archive in the directory is not published.
    let publisher = {
        let dir = dir.path().to_owned();
        let key = PrivateKey::from_pem(&key.to_pem().unwrap()).unwrap();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(300));
            std::fs::write(dir.join("broken.tar.gz"), b"half-written").unwrap();
            std::thread::sleep(Duration::from_millis(300));
            publish(&dir, "2.0.0", &key);
        })
    };
    let started = Instant::now();
    let next = poller
        .fetch(&url, Some(&etag))
        .unwrap()
        .expect("a new pack, not a 304");
    let waited = started.elapsed();
    publisher.join().unwrap();
    assert!(
        waited >= Duration::from_millis(500),
        "held until the change: {waited:?}"
    );
    assert!(
        waited < Duration::from_secs(15),
        "woke on the change: {waited:?}"
    );
    assert_ne!(next.etag.as_deref(), Some(etag.as_str()));
    let pack = Pack::from_bytes(&next.archive, &Default::default()).unwrap();
    assert_eq!(pack.manifest().version.to_string(), "2.0.0");
}

#[test]
fn serves_a_pack_source_directory_signed_on_the_fly() {
    let key_dir = tempfile::tempdir().unwrap();
    let key = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let key_path = key_dir.path().join("k.key");
    std::fs::write(&key_path, key.to_pem().unwrap().as_bytes()).unwrap();
    let pack_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../policy-packs/companyos-baseline");
    let served = serve(&[
        pack_dir.to_str().unwrap(),
        "--sign-key",
        key_path.to_str().unwrap(),
    ]);
    let index: serde_json::Value = serde_json::from_slice(
        &client()
            .fetch_attestation(&format!("{}/", served.base))
            .unwrap(),
    )
    .unwrap();
    assert_eq!(index["packs"][0]["name"], "companyos-baseline.tar.gz");
    let fetched = client()
        .fetch(&format!("{}/companyos-baseline.tar.gz", served.base), None)
        .unwrap()
        .unwrap();
    // Built with its tests, so the store runs them before activating.
    let store = PolicyStore::new(StoreOptions {
        sigstore: Some(Arc::new(key.public_key().clone())),
        tests: cos_policy::store::TestPolicy::Required,
        ..StoreOptions::default()
    });
    store.activate(fetched.into_candidate()).unwrap();
}

/// Issue 18: 200 connections that each sent one byte, against a cap of 32:
/// the idlest are shed at once, the rest closed when their header time runs
/// out, and a good client is served throughout.
#[test]
fn slowloris_connections_are_shed_while_good_clients_succeed() {
    use std::io::{ErrorKind, Read, Write};
    use std::net::TcpStream;

    let dir = tempfile::tempdir().unwrap();
    let key = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    publish(dir.path(), "1.0.0", &key);
    let server = serve(&[
        dir.path().to_str().unwrap(),
        "--max-connections",
        "32",
        "--header-timeout",
        "2",
    ]);
    let addr = server.base.trim_start_matches("http://").to_owned();
    let closed = |s: &TcpStream, wait: Duration| {
        s.set_read_timeout(Some(wait)).unwrap();
        let mut reader = s;
        let mut buf = [0u8; 256];
        loop {
            match reader.read(&mut buf) {
                Ok(0) => return true,
                Ok(_) => continue,
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    return false;
                }
                Err(_) => return true,
            }
        }
    };
    let slow: Vec<TcpStream> = (0..200)
        .map(|_| {
            let mut s = TcpStream::connect(&addr).unwrap();
            s.write_all(b"G").unwrap();
            s
        })
        .collect();
    for i in 0..20 {
        let mut s = TcpStream::connect(&addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        s.write_all(b"HEAD /demo.tar.gz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .unwrap();
        let mut answer = String::new();
        s.read_to_string(&mut answer)
            .unwrap_or_else(|e| panic!("good request {i}: {e}"));
        assert!(
            answer.starts_with("HTTP/1.1 200"),
            "good request {i}: {answer}"
        );
    }
    let shed = slow
        .iter()
        .filter(|s| closed(s, Duration::from_millis(1)))
        .count();
    assert!(shed >= 200 - 32, "only {shed} of 200 shed at once");
    let deadline = Instant::now() + Duration::from_secs(6);
    for (i, s) in slow.iter().enumerate() {
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(
            closed(s, left.max(Duration::from_millis(1))),
            "stalled connection {i} still open after the header timeout"
        );
    }
}

#[test]
fn the_names_it_serves_are_escaped_in_its_messages() {
    // A pack archive whose file name holds a bidi override (issue 26: a
    // name from outside must not reorder what an operator reads).
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("\u{202e}zg.rat.tar.gz"), archive("1.0.0")).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_cos"))
        .args(["pack", "serve", "--listen", "127.0.0.1:0"])
        .arg(dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert!(line.starts_with("serving "), "{line:?}");
    assert!(!line.contains('\u{202e}'), "{line:?}");
    assert!(line.contains("\\u{202e}zg.rat.tar.gz"), "{line:?}");
}
