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

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use cos_core::{KeyAlgorithm, PrivateKey, sigstore};
use cos_policy::Pack;
use cos_policy::distribution::http::{ClientOptions, PackClient};
use cos_policy::store::{PolicyStore, StoreOptions};

/// The running server (`base` is `http://127.0.0.1:PORT`), killed when
/// dropped.
use cos_tests::server::Server as Served;

fn serve(args: &[&str]) -> Served {
    let mut command = Command::new(env!("CARGO_BIN_EXE_cos"));
    command
        .args([
            "pack",
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--watch-ms",
            "50",
        ])
        .args(args);
    cos_tests::server::start(command)
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
    let mut command = Command::new(env!("CARGO_BIN_EXE_cos"));
    command
        .args(["pack", "serve", "--listen", "127.0.0.1:0"])
        .arg(dir.path());
    let line = cos_tests::server::start(command).first_line.clone();
    assert!(line.starts_with("serving "), "{line:?}");
    assert!(!line.contains('\u{202e}'), "{line:?}");
    assert!(line.contains("\\u{202e}zg.rat.tar.gz"), "{line:?}");
}

/// The OPA binary the oracle scripts install (`scripts/oracles/opa.sh`), or
/// `COS_OPA_BIN`; `None` when neither is there.
fn opa_bin() -> Option<std::path::PathBuf> {
    let p = match std::env::var_os("COS_OPA_BIN") {
        Some(p) => std::path::PathBuf::from(p),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.oracles/bin/opa"),
    };
    p.is_file().then_some(p)
}

/// `opa eval --bundle PATH` of `query` for `input`: its `result[0].expressions[0].value`.
fn opa_eval(
    opa: &Path,
    bundle: &Path,
    query: &str,
    input: &serde_json::Value,
) -> serde_json::Value {
    let dir = tempfile::tempdir().unwrap();
    let input_path = dir.path().join("input.json");
    std::fs::write(&input_path, input.to_string()).unwrap();
    let o = Command::new(opa)
        .args(["eval", "--format", "json", "--bundle"])
        .arg(bundle)
        .arg("--input")
        .arg(&input_path)
        .arg(query)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "opa eval: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    v["result"][0]["expressions"][0]["value"].clone()
}

/// A client for unsigned archives (no Sigstore bundle asked for).
fn unsigned(long_poll: Option<Duration>) -> PackClient {
    PackClient::new(ClientOptions {
        long_poll,
        timeout: Duration::from_secs(10),
        retries: 0,
        sigstore_bundle: false,
        ..ClientOptions::default()
    })
}

/// Writes an OPA bundle directory, `.manifest` last.
fn write_opa_bundle_dir(dir: &Path, revision: &str, admins: &str) {
    std::fs::create_dir_all(dir.join("acme/authz")).unwrap();
    std::fs::write(
        dir.join("acme/authz/policy.rego"),
        "package acme.authz\n\ndefault allow := false\n\nallow if input.user in data.acme.authz.admins\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("acme/authz/data.json"),
        format!(r#"{{"admins": {admins}}}"#),
    )
    .unwrap();
    std::fs::write(
        dir.join(".manifest"),
        format!(
            r#"{{"revision": "{revision}", "roots": ["acme"], "metadata": {{"name": "acme"}}}}"#
        ),
    )
    .unwrap();
}

/// Issue 20: an OPA bundle directory (`.manifest`, `.rego`, `data.json`, as
/// `opa build` takes it) is served as a pack source is: built on every
/// change, fetched and activated by cos's client and store, and, with OPA
/// installed, read by `opa eval --bundle` with the answers OPA gives for
/// the directory itself.
#[test]
fn serves_an_opa_bundle_directory_as_a_pack_source() {
    let dir = tempfile::tempdir().unwrap();
    let bundle_dir = dir.path().join("src");
    write_opa_bundle_dir(&bundle_dir, "r1", r#"["alice"]"#);
    let served = serve(&[bundle_dir.to_str().unwrap()]);
    let url = format!("{}/acme.tar.gz", served.base);
    let index: serde_json::Value = serde_json::from_slice(
        &client()
            .fetch_attestation(&format!("{}/", served.base))
            .unwrap(),
    )
    .unwrap();
    assert_eq!(index["packs"][0]["name"], "acme.tar.gz", "{index}");

    let fetched = unsigned(None).fetch(&url, None).unwrap().unwrap();
    let etag = fetched.etag.clone().unwrap();
    let archive = fetched.archive.clone();
    let pack = Pack::from_bytes(&archive, &Default::default()).unwrap();
    assert_eq!(pack.layout(), cos_policy::Layout::Bundle);
    assert_eq!(pack.manifest().revision, "r1");
    // The same archive `cos pack build --with-tests` writes for the directory.
    assert_eq!(
        archive,
        Pack::load(&bundle_dir, &Default::default())
            .unwrap()
            .build_bundle_with_tests()
            .unwrap()
    );
    let store = PolicyStore::new(StoreOptions::default());
    store.activate(fetched.into_candidate()).unwrap();
    let active = store.pack_for(None).unwrap();
    assert_eq!(active.pack().revision, "r1");
    let engine = cos_policy::PolicyEngine::new(&pack, Default::default()).unwrap();
    let alice = serde_json::json!({"user": "alice"});
    let bob = serde_json::json!({"user": "bob"});
    assert_eq!(
        engine
            .evaluate("data.acme.authz.allow", &alice)
            .unwrap()
            .map(|o| o.to_json().unwrap()),
        Some(serde_json::json!(true))
    );
    assert_eq!(
        engine
            .evaluate("data.acme.authz.allow", &bob)
            .unwrap()
            .map(|o| o.to_json().unwrap()),
        Some(serde_json::json!(false))
    );

    // The oracle: OPA reads the served archive and decides as it does
    // from the directory.
    let opa = opa_bin();
    if let Some(opa) = &opa {
        let served_file = dir.path().join("served.tar.gz");
        std::fs::write(&served_file, &archive).unwrap();
        for input in [&alice, &bob] {
            assert_eq!(
                opa_eval(opa, &served_file, "data.acme.authz.allow", input),
                opa_eval(opa, &bundle_dir, "data.acme.authz.allow", input),
                "{input}"
            );
        }
        assert_eq!(
            opa_eval(opa, &served_file, "data.acme.authz.allow", &alice),
            serde_json::json!(true)
        );
    } else {
        eprintln!("opa not installed (scripts/oracles/opa.sh): the OPA oracle part is skipped");
    }

    // A change to the directory is built and served by itself.
    write_opa_bundle_dir(&bundle_dir, "r2", r#"["bob"]"#);
    let poller = unsigned(Some(Duration::from_secs(20)));
    // A scan may fall between two writes: poll until the whole change is in.
    let started = Instant::now();
    let mut etag = etag;
    let next = loop {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "r2 never served"
        );
        let Some(next) = poller.fetch(&url, Some(&etag)).unwrap() else {
            continue;
        };
        etag = next.etag.clone().unwrap();
        let pack = Pack::from_bytes(&next.archive, &Default::default()).unwrap();
        let engine = cos_policy::PolicyEngine::new(&pack, Default::default()).unwrap();
        if pack.manifest().revision == "r2"
            && engine
                .evaluate("data.acme.authz.allow", &bob)
                .unwrap()
                .map(|o| o.to_json().unwrap())
                == Some(serde_json::json!(true))
        {
            break next;
        }
    };
    if let Some(opa) = &opa {
        let served_file = dir.path().join("served2.tar.gz");
        std::fs::write(&served_file, &next.archive).unwrap();
        assert_eq!(
            opa_eval(opa, &served_file, "data.acme.authz.allow", &bob),
            serde_json::json!(true)
        );
    }
    drop(served);

    // Without `.manifest`: `.rego` files and no archive are a bundle too,
    // served under the name cos gives a bundle that names none.
    let bare = dir.path().join("bare");
    write_opa_bundle_dir(&bare, "r1", r#"["alice"]"#);
    std::fs::remove_file(bare.join(".manifest")).unwrap();
    let served = serve(&[bare.to_str().unwrap()]);
    let fetched = unsigned(None)
        .fetch(&format!("{}/bundle.tar.gz", served.base), None)
        .unwrap()
        .unwrap();
    let pack = Pack::from_bytes(&fetched.archive, &Default::default()).unwrap();
    assert_eq!(pack.modules().len(), 1);
}
