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
