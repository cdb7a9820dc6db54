//! The HTTP distribution client (`distribution::http`, feature `http`)
//! against a scripted loopback server: conditional requests, long polling,
//! digests, bundles, retries, timeouts, truncated and oversized bodies, and
//! the polling loop feeding a `PolicyStore` that keeps its last good pack.
//!
//! (`cargo test --workspace` enables the feature through the `cos` CLI.)
#![cfg(feature = "http")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a failure should panic with context"
)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use cos_core::{Digest, DigestAlgorithm, KeyAlgorithm, PrivateKey, sigstore};
use cos_policy::Pack;
use cos_policy::distribution::http::{ClientOptions, PackClient};
use cos_policy::distribution::publish::PublishedPack;
use cos_policy::store::{PolicyStore, StoreOptions};

/// A request as the server saw it.
#[derive(Debug, Clone)]
struct Seen {
    path: String,
    headers: Vec<(String, String)>,
}

impl Seen {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// What to answer.
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    /// Announce this Content-Length (to send a truncated body).
    length: Option<usize>,
    delay: Duration,
}

fn reply(status: u16, body: &[u8]) -> Reply {
    Reply {
        status,
        headers: vec![],
        body: body.to_vec(),
        length: None,
        delay: Duration::ZERO,
    }
}

type Handler = dyn Fn(usize, &Seen) -> Reply + Send + Sync;

/// Serves until dropped; returns the base URL and the requests seen.
struct Server {
    base: String,
    seen: Arc<Mutex<Vec<Seen>>>,
    stop: Arc<AtomicBool>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = std::net::TcpStream::connect(self.base.trim_start_matches("http://"));
    }
}

fn serve(handler: Arc<Handler>) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let (seen2, stop2) = (Arc::clone(&seen), Arc::clone(&stop));
    let count = Arc::new(AtomicUsize::new(0));
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            if stop2.load(Ordering::Relaxed) {
                return;
            }
            let Ok(mut stream) = stream else { continue };
            let (handler, seen, count) =
                (Arc::clone(&handler), Arc::clone(&seen2), Arc::clone(&count));
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 {
                    return;
                }
                let path = line.split_whitespace().nth(1).unwrap_or("/").to_owned();
                let mut headers = vec![];
                loop {
                    let mut h = String::new();
                    if reader.read_line(&mut h).unwrap_or(0) == 0 || h.trim().is_empty() {
                        break;
                    }
                    if let Some((k, v)) = h.trim_end().split_once(':') {
                        headers.push((k.trim().to_owned(), v.trim().to_owned()));
                    }
                }
                let req = Seen { path, headers };
                seen.lock().unwrap().push(req.clone());
                let n = count.fetch_add(1, Ordering::Relaxed);
                let r = handler(n, &req);
                std::thread::sleep(r.delay);
                let mut out = format!(
                    "HTTP/1.1 {} X\r\nContent-Length: {}\r\nConnection: close\r\n",
                    r.status,
                    r.length.unwrap_or(r.body.len())
                );
                for (k, v) in &r.headers {
                    out.push_str(&format!("{k}: {v}\r\n"));
                }
                out.push_str("\r\n");
                let _ = stream.write_all(out.as_bytes());
                let _ = stream.write_all(&r.body);
                let _ = stream.flush();
                let mut rest = Vec::new();
                let _ = stream.set_read_timeout(Some(Duration::from_millis(10)));
                let _ = reader.read_to_end(&mut rest);
            });
        }
    });
    Server { base, seen, stop }
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
        "package demo\nimport rego.v1\ndecision := {\"allow\": true, \"reasons\": [], \"obligations\": []}\n",
    )
    .unwrap();
    Pack::load(dir.path(), &Default::default())
        .unwrap()
        .build_bundle()
        .unwrap()
}

/// The headers `cos pack serve` sends for a pack.
fn published(p: &PublishedPack) -> Vec<(String, String)> {
    let mut h = vec![
        ("ETag".to_owned(), p.etag().to_owned()),
        ("Digest".to_owned(), p.digest_header()),
    ];
    if let Some(b) = p.bundle_header() {
        h.push(("x-cosign-bundle".to_owned(), b.to_owned()));
    }
    h
}

fn quick() -> ClientOptions {
    ClientOptions {
        timeout: Duration::from_secs(5),
        backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(40),
        ..ClientOptions::default()
    }
}

#[test]
fn fetches_checks_and_revalidates() {
    let key = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let bytes = archive("1.0.0");
    let pack = PublishedPack::new(
        "p.tar.gz",
        bytes.clone(),
        Some(sigstore::sign_blob(&bytes, &key).unwrap()),
    );
    let p2 = pack.clone();
    let server = serve(Arc::new(move |_, req: &Seen| {
        if p2.not_modified(req.header("if-none-match")) {
            return reply(304, b"");
        }
        let mut r = reply(200, &p2.archive()[..]);
        r.headers = published(&p2);
        r
    }));
    let client = PackClient::new(quick());
    let url = format!("{}/p.tar.gz", server.base);
    let fetched = client.fetch(&url, None).unwrap().unwrap();
    assert_eq!(fetched.archive, bytes);
    assert_eq!(fetched.etag.as_deref(), Some(pack.etag()));
    assert_eq!(fetched.digest.as_ref(), Some(pack.digest()));
    let bundle = fetched.sigstore_bundle.clone().unwrap();
    sigstore::Bundle::from_json(&bundle)
        .unwrap()
        .verify_blob(&bytes, key.public_key())
        .unwrap();
    // Verified as the fetcher does: the pack, and its bundle with the key.
    let verified = fetched
        .verify(key.public_key(), &Default::default())
        .unwrap();
    assert_eq!(verified.pack.manifest().version.to_string(), "1.0.0");
    assert_eq!(&verified.archive_digest, pack.digest());
    let other = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let err = fetched
        .verify(other.public_key(), &Default::default())
        .unwrap_err();
    assert_eq!(err.code(), "bundle_verification_failed");
    let mut unsigned = fetched.clone();
    unsigned.sigstore_bundle = None;
    let err = unsigned
        .verify(key.public_key(), &Default::default())
        .unwrap_err();
    assert_eq!(err.code(), "missing_verification");
    // Conditional: 304 is "nothing new".
    assert!(
        client
            .fetch(&url, fetched.etag.as_deref())
            .unwrap()
            .is_none()
    );
    let seen = server.seen.lock().unwrap().clone();
    assert_eq!(seen[1].header("if-none-match"), Some(pack.etag()));
    assert!(
        seen[0]
            .header("user-agent")
            .unwrap()
            .starts_with("cos-policy/")
    );
}

#[test]
fn digest_forms_and_failures_keep_the_fetchers_messages() {
    let bytes = archive("1.0.0");
    let hex = Digest::of_bytes(DigestAlgorithm::Sha256, &bytes);
    let b64 = base64::engine::general_purpose::STANDARD.encode(hex.as_bytes());
    let mode = Arc::new(Mutex::new(String::new()));
    let (m, b) = (Arc::clone(&mode), bytes.clone());
    let hexs = hex.hex();
    let server = serve(Arc::new(move |_, req: &Seen| {
        if req.path.ends_with("/attestation") {
            return reply(200, b"{\"bundle\": true}");
        }
        let mut r = reply(200, &b);
        match m.lock().unwrap().as_str() {
            "base64" => r.headers.push(("Digest".into(), format!("SHA-256={b64}"))),
            "hex" => r.headers.push(("Digest".into(), format!("sha-256={hexs}"))),
            "wrong" => r
                .headers
                .push(("Digest".into(), format!("sha-256={}", "0".repeat(64)))),
            _ => {}
        }
        r
    }));
    let client = PackClient::new(quick());
    let url = format!("{}/p.tar.gz", server.base);
    for form in ["base64", "hex"] {
        *mode.lock().unwrap() = form.into();
        let f = client.fetch(&url, None).unwrap().unwrap();
        assert_eq!(f.digest.unwrap(), hex, "{form}");
        // No x-cosign-bundle header: taken from <url>/attestation.
        assert_eq!(f.sigstore_bundle.unwrap(), b"{\"bundle\": true}");
    }
    *mode.lock().unwrap() = "wrong".into();
    let err = client.fetch(&url, None).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("digest mismatch: {} != {}", hex.hex(), "0".repeat(64))
    );
    *mode.lock().unwrap() = "none".into();
    let err = client.fetch(&url, None).unwrap_err();
    assert_eq!(err.to_string(), "missing verification headers");
    assert_eq!(err.code(), "missing_verification");
}

#[test]
fn retries_server_errors_with_backoff_but_not_client_errors() {
    let bytes = archive("1.0.0");
    let pack = PublishedPack::new("p", bytes, None);
    let p2 = pack.clone();
    let server = serve(Arc::new(move |n, req: &Seen| {
        if req.path == "/missing" {
            return reply(404, b"no");
        }
        if req.path == "/down" || n < 2 {
            return reply(503, b"busy");
        }
        let mut r = reply(200, &p2.archive()[..]);
        r.headers = published(&p2);
        r
    }));
    let client = PackClient::new(ClientOptions {
        sigstore_bundle: false,
        ..quick()
    });
    assert!(
        client
            .fetch(&format!("{}/p", server.base), None)
            .unwrap()
            .is_some()
    );
    assert_eq!(server.seen.lock().unwrap().len(), 3, "two 503s, then 200");

    let err = client
        .fetch(&format!("{}/missing", server.base), None)
        .unwrap_err();
    assert_eq!(err.to_string(), "HTTP 404");
    assert_eq!(server.seen.lock().unwrap().len(), 4, "a 404 is not retried");

    let err = client
        .fetch(&format!("{}/down", server.base), None)
        .unwrap_err();
    assert_eq!(
        (err.code(), err.to_string().as_str()),
        ("http_status", "HTTP 503")
    );
    assert_eq!(
        server.seen.lock().unwrap().len(),
        8,
        "first attempt + 3 retries"
    );
}

#[test]
fn timeouts_truncation_and_size_limits() {
    let bytes = archive("1.0.0");
    let pack = PublishedPack::new("p", bytes.clone(), None);
    let p2 = pack.clone();
    let server = serve(Arc::new(move |_, req: &Seen| {
        let mut r = reply(200, &p2.archive()[..]);
        r.headers = published(&p2);
        match req.path.as_str() {
            "/slow" => r.delay = Duration::from_millis(800),
            "/truncated" => {
                r.length = Some(r.body.len() + 100);
            }
            _ => {}
        }
        r
    }));
    let opts = ClientOptions {
        timeout: Duration::from_millis(200),
        retries: 1,
        sigstore_bundle: false,
        ..quick()
    };
    let client = PackClient::new(opts.clone());
    let err = client
        .fetch(&format!("{}/slow", server.base), None)
        .unwrap_err();
    assert_eq!(err.code(), "transport", "{err}");
    assert!(err.to_string().contains("after 2 attempts"), "{err}");
    let err = client
        .fetch(&format!("{}/truncated", server.base), None)
        .unwrap_err();
    assert_eq!(err.code(), "transport", "{err}");

    let small = PackClient::new(ClientOptions {
        max_archive_bytes: 100,
        ..opts
    });
    let before = server.seen.lock().unwrap().len();
    let err = small
        .fetch(&format!("{}/p", server.base), None)
        .unwrap_err();
    assert_eq!(err.code(), "limit_exceeded", "{err}");
    assert_eq!(server.seen.lock().unwrap().len(), before + 1, "not retried");
}

#[test]
fn long_polls_with_prefer_wait() {
    let pack = PublishedPack::new("p", archive("1.0.0"), None);
    let p2 = pack.clone();
    let server = serve(Arc::new(move |_, req: &Seen| {
        if p2.not_modified(req.header("if-none-match")) {
            return reply(304, b"");
        }
        let mut r = reply(200, &p2.archive()[..]);
        r.headers = published(&p2);
        r
    }));
    let client = PackClient::new(ClientOptions {
        long_poll: Some(Duration::from_secs(7)),
        sigstore_bundle: false,
        ..quick()
    });
    let url = format!("{}/p", server.base);
    let f = client.fetch(&url, None).unwrap().unwrap();
    assert!(client.fetch(&url, f.etag.as_deref()).unwrap().is_none());
    let seen = server.seen.lock().unwrap().clone();
    assert_eq!(seen[0].header("prefer"), None, "no ETag yet: no long poll");
    assert_eq!(seen[1].header("prefer"), Some("wait=7"));
}

#[test]
fn polling_feeds_the_store_and_bad_packs_leave_the_last_good_one() {
    let key = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let sign = |b: &[u8]| sigstore::sign_blob(b, &key).unwrap();
    let current: Arc<Mutex<(PublishedPack, bool)>> = {
        let a = archive("1.0.0");
        let s = sign(&a);
        Arc::new(Mutex::new((PublishedPack::new("p", a, Some(s)), false)))
    };
    let c2 = Arc::clone(&current);
    let server = serve(Arc::new(move |_, req: &Seen| {
        let (p, broken) = c2.lock().unwrap().clone();
        if broken {
            return reply(500, b"down");
        }
        if p.not_modified(req.header("if-none-match")) {
            return reply(304, b"");
        }
        let mut r = reply(200, &p.archive()[..]);
        r.headers = published(&p);
        r
    }));
    let store = Arc::new(PolicyStore::new(StoreOptions {
        sigstore: Some(Arc::new(key.public_key().clone())),
        ..StoreOptions::default()
    }));
    let errors: Arc<Mutex<Vec<String>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let poller = {
        let (store, errors, stop) = (Arc::clone(&store), Arc::clone(&errors), Arc::clone(&stop));
        let url = format!("{}/p", server.base);
        std::thread::spawn(move || {
            let client = PackClient::new(ClientOptions {
                retries: 0,
                ..quick()
            });
            client.poll(
                &url,
                Duration::from_millis(20),
                |c| store.activate(c),
                |e| errors.lock().unwrap().push(e.code().to_owned()),
                || stop.load(Ordering::Relaxed),
            );
        })
    };
    let wait_for = |what: &dyn Fn() -> bool| {
        for _ in 0..500 {
            if what() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        panic!("timed out");
    };
    let version = || store.pack_for(None).map(|p| p.pack().version.clone());
    wait_for(&|| version().as_deref() == Some("1.0.0"));

    // A tampered pack (signature no longer matches) is refused.
    {
        let mut a = archive("2.0.0");
        let s = sign(&a);
        let n = a.len() - 1;
        a[n] ^= 1;
        current.lock().unwrap().0 = PublishedPack::new("p", a, Some(s));
    }
    wait_for(&|| {
        errors
            .lock()
            .unwrap()
            .iter()
            .any(|e| e == "bundle_verification_failed")
    });
    // The server failing: errors are reported, the store keeps deciding.
    current.lock().unwrap().1 = true;
    wait_for(&|| errors.lock().unwrap().iter().any(|e| e == "http_status"));
    assert_eq!(version().as_deref(), Some("1.0.0"));
    // Back, with a good new pack.
    {
        let a = archive("2.0.0");
        let s = sign(&a);
        *current.lock().unwrap() = (PublishedPack::new("p", a, Some(s)), false);
    }
    wait_for(&|| version().as_deref() == Some("2.0.0"));
    stop.store(true, Ordering::Relaxed);
    poller.join().unwrap();
    assert!(store.status().refusals >= 1);
}

#[test]
fn long_polling_goes_straight_back_after_a_new_pack() {
    // A server that holds conditional requests until the pack changes
    // (or 2 s pass). With a 10 s interval, both new packs must arrive in
    // well under the interval: the poller must not sleep after a new pack.
    let current: Arc<Mutex<PublishedPack>> =
        Arc::new(Mutex::new(PublishedPack::new("p", archive("1.0.0"), None)));
    let c2 = Arc::clone(&current);
    let server = serve(Arc::new(move |_, req: &Seen| {
        let start = std::time::Instant::now();
        loop {
            let p = c2.lock().unwrap().clone();
            if !p.not_modified(req.header("if-none-match")) {
                let mut r = reply(200, &p.archive()[..]);
                r.headers = published(&p);
                return r;
            }
            if start.elapsed() > Duration::from_secs(2) {
                return reply(304, b"");
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }));
    let store = Arc::new(PolicyStore::new(StoreOptions::default()));
    let stop = Arc::new(AtomicBool::new(false));
    let poller = {
        let (store, stop) = (Arc::clone(&store), Arc::clone(&stop));
        let url = format!("{}/p", server.base);
        std::thread::spawn(move || {
            let client = PackClient::new(ClientOptions {
                long_poll: Some(Duration::from_secs(5)),
                sigstore_bundle: false,
                ..quick()
            });
            client.poll(
                &url,
                Duration::from_secs(10),
                |c| store.activate(c),
                |_| {},
                || stop.load(Ordering::Relaxed),
            );
        })
    };
    let version = || store.pack_for(None).map(|p| p.pack().version.clone());
    let started = std::time::Instant::now();
    for v in ["1.0.0", "2.0.0", "3.0.0"] {
        if v != "1.0.0" {
            *current.lock().unwrap() = PublishedPack::new("p", archive(v), None);
        }
        while version().as_deref() != Some(v) {
            assert!(
                started.elapsed() < Duration::from_secs(8),
                "{v} not active in time: the poller slept"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }
    stop.store(true, Ordering::Relaxed);
    // The poller wakes from its current long poll (≤ 2 s here) and stops.
    poller.join().unwrap();
}

/// What `poll_observed` told its observer, as `(kind, etag, error code,
/// pack version, next wait)`.
type Seen5 = (
    &'static str,
    Option<String>,
    Option<&'static str>,
    Option<String>,
    Duration,
);

#[test]
fn the_observed_loop_reports_each_round_and_stops() {
    use cos_policy::distribution::http::PollEvent;

    let key = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let sign = |b: &[u8]| sigstore::sign_blob(b, &key).unwrap();
    let good = {
        let a = archive("1.0.0");
        let s = sign(&a);
        PublishedPack::new("p", a, Some(s))
    };
    let tampered = {
        let mut a = archive("2.0.0");
        let s = sign(&a);
        let n = a.len() - 1;
        a[n] ^= 1;
        PublishedPack::new("p", a, Some(s))
    };
    // 0: the good pack; 1: 304; 2: the tampered pack; 3: 304 (still
    // refused); 4 on: 500.
    let (g, t) = (good.clone(), tampered.clone());
    let server = serve(Arc::new(move |n, req: &Seen| {
        let p = match n {
            0 | 1 => &g,
            2 | 3 => &t,
            _ => return reply(500, b"down"),
        };
        if p.not_modified(req.header("if-none-match")) {
            return reply(304, b"");
        }
        let mut r = reply(200, &p.archive()[..]);
        r.headers = published(p);
        r
    }));
    let store = Arc::new(PolicyStore::new(StoreOptions {
        sigstore: Some(Arc::new(key.public_key().clone())),
        ..StoreOptions::default()
    }));
    let seen: Arc<Mutex<Vec<Seen5>>> = Arc::default();
    let json: Arc<Mutex<Vec<serde_json::Value>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let interval = Duration::from_millis(20);
    let poller = {
        let (store, seen, json, stop) = (
            Arc::clone(&store),
            Arc::clone(&seen),
            Arc::clone(&json),
            Arc::clone(&stop),
        );
        let url = format!("{}/p", server.base);
        std::thread::spawn(move || {
            let client = PackClient::new(ClientOptions {
                retries: 0,
                ..quick()
            });
            client.poll_observed(
                &url,
                interval,
                |c| store.activate(c),
                |e: &PollEvent| {
                    seen.lock().unwrap().push((
                        e.kind(),
                        e.etag().map(str::to_owned),
                        e.error().map(|e| e.code()),
                        e.pack().map(|p| p.version.clone()),
                        e.next_wait(),
                    ));
                    json.lock().unwrap().push(serde_json::to_value(e).unwrap());
                },
                || stop.load(Ordering::Relaxed),
            );
        })
    };
    for _ in 0..500 {
        if seen.lock().unwrap().len() >= 6 {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let started = std::time::Instant::now();
    stop.store(true, Ordering::Relaxed);
    poller.join().unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "stopped in {:?}",
        started.elapsed()
    );
    let seen = seen.lock().unwrap().clone();
    let (g, t) = (
        Some(good.etag().to_owned()),
        Some(tampered.etag().to_owned()),
    );
    let v1 = Some("1.0.0".to_owned());
    assert_eq!(
        seen[..6],
        [
            ("activated", g.clone(), None, v1, interval),
            ("unchanged", g.clone(), None, None, interval),
            (
                "refused",
                t.clone(),
                Some("bundle_verification_failed"),
                None,
                interval
            ),
            ("unchanged", t.clone(), None, None, interval),
            ("failed", t.clone(), Some("http_status"), None, interval),
            ("failed", t.clone(), Some("http_status"), None, interval),
        ],
        "{seen:#?}"
    );
    assert_eq!(
        store.pack_for(None).unwrap().pack().version,
        "1.0.0",
        "the refused pack left the store as it was"
    );
    let json = json.lock().unwrap().clone();
    assert_eq!(json[0]["kind"], "activated");
    assert_eq!(json[0]["activation"]["status"], "activated");
    assert_eq!(json[0]["activation"]["pack"]["version"], "1.0.0");
    assert_eq!(json[0]["etag"], good.etag());
    assert_eq!(json[0]["error"], serde_json::Value::Null);
    assert_eq!(json[0]["next_wait_ms"], 20);
    assert_eq!(json[2]["kind"], "refused");
    assert_eq!(json[2]["error"]["code"], "bundle_verification_failed");
    assert!(
        json[2]["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("cosign verify failed")
    );
    assert_eq!(json[2]["activation"], serde_json::Value::Null);
}

#[test]
fn long_polling_rounds_report_no_wait() {
    use cos_policy::distribution::http::PollEvent;

    // A server that holds conditional requests 100 ms, then answers 304.
    let pack = PublishedPack::new("p", archive("1.0.0"), None);
    let p2 = pack.clone();
    let server = serve(Arc::new(move |_, req: &Seen| {
        if p2.not_modified(req.header("if-none-match")) {
            let mut r = reply(304, b"");
            r.delay = Duration::from_millis(100);
            return r;
        }
        let mut r = reply(200, &p2.archive()[..]);
        r.headers = published(&p2);
        r
    }));
    let store = Arc::new(PolicyStore::new(StoreOptions::default()));
    let waits: Arc<Mutex<Vec<(&'static str, Duration)>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let poller = {
        let (store, waits, stop) = (Arc::clone(&store), Arc::clone(&waits), Arc::clone(&stop));
        let url = format!("{}/p", server.base);
        std::thread::spawn(move || {
            let client = PackClient::new(ClientOptions {
                long_poll: Some(Duration::from_secs(5)),
                sigstore_bundle: false,
                ..quick()
            });
            client.poll_observed(
                &url,
                Duration::from_secs(10),
                |c| store.activate(c),
                |e: &PollEvent| waits.lock().unwrap().push((e.kind(), e.next_wait())),
                || stop.load(Ordering::Relaxed),
            );
        })
    };
    for _ in 0..500 {
        if waits.lock().unwrap().len() >= 3 {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    stop.store(true, Ordering::Relaxed);
    poller.join().unwrap();
    let waits = waits.lock().unwrap().clone();
    assert_eq!(
        waits[..3],
        [
            ("activated", Duration::ZERO),
            ("unchanged", Duration::ZERO),
            ("unchanged", Duration::ZERO),
        ],
        "a new pack and a 304 that waited go straight back: {waits:?}"
    );
}
