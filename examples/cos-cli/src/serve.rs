//! `cos pack serve`: serves packs the way the TypeScript `cos-policy-fetcher`
//! and OPA's bundle plugin both expect (headers from
//! `cos_policy::distribution::publish`), with long polling, and picks up
//! changed files by itself.
//!
//! Routes: `GET|HEAD /<name>` (the archive), `/<name>/attestation` (its
//! Sigstore bundle), `/` (a JSON index), `/healthz`.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use cos_core::text::{shown, shown_long};
use cos_policy::distribution::publish::{OPA_LONG_POLL_CONTENT_TYPE, PublishedPack, prefer_wait};

use crate::Failure;

/// Where the packs come from.
pub(crate) struct Source {
    /// A pack archive, a directory of archives, or a source directory: a
    /// pack source (with `manifest.yaml`) or an OPA bundle directory (with
    /// `.manifest`, or `.rego` files and no archive), built on every change
    /// ([`is_source_dir`]).
    pub(crate) path: PathBuf,
    /// Sign each served archive with this key (a Sigstore bundle at
    /// `/attestation`) when it has no bundle file beside it.
    pub(crate) sign_key: Option<cos_core::PrivateKey>,
    /// The mtime of the entries of archives built from a source directory
    /// (`SOURCE_DATE_EPOCH`, else 0).
    pub(crate) mtime: u64,
}

/// What the files looked like at the last scan: path → (length, mtime).
type Fingerprint = BTreeMap<PathBuf, (u64, Option<SystemTime>)>;

struct Shared {
    packs: RwLock<BTreeMap<String, PublishedPack>>,
    /// Bumped on every change; long polls wait on it.
    generation: tokio::sync::watch::Sender<u64>,
    max_wait: Duration,
}

/// The limits of the server loop (cos-http): `--header-timeout` (from 10 ms
/// to a day) and `--max-connections`. Requests carry no body here: at most
/// 64 KiB of one is read, within the header timeout.
pub(crate) fn limits(
    header_timeout: Duration,
    max_connections: Option<usize>,
) -> Result<cos_http::Limits, Failure> {
    if !(Duration::from_millis(10)..=Duration::from_secs(86_400)).contains(&header_timeout) {
        return Err(Failure::Usage(format!(
            "--header-timeout {header_timeout:?}: expected a duration between 10ms and 24h"
        )));
    }
    let limits = cos_http::Limits {
        header_timeout,
        body_timeout: header_timeout,
        max_body: 64 << 10,
        max_connections: max_connections.unwrap_or_else(cos_http::default_max_connections),
    };
    limits
        .check()
        .map_err(|e| Failure::Usage(format!("--max-connections: {e}")))?;
    Ok(limits)
}

pub(crate) fn serve(
    source: Source,
    listen: &str,
    max_wait: Duration,
    watch: Duration,
    limits: cos_http::Limits,
) -> Result<(), Failure> {
    let (packs, mut fingerprint) = scan(&source, &BTreeMap::new())?;
    if packs.is_empty() {
        return Err(Failure::Usage(format!(
            "{}: no pack archives (*.tar.gz), manifest.yaml or OPA bundle (.manifest, *.rego) to serve",
            source.path.display()
        )));
    }
    let (generation, _) = tokio::sync::watch::channel(0u64);
    let shared = Arc::new(Shared {
        packs: RwLock::new(packs),
        generation,
        max_wait,
    });
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::Usage(format!("cannot start the runtime: {e}")))?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .map_err(|e| Failure::Usage(format!("cannot listen on {listen}: {e}")))?;
        let addr: SocketAddr = listener
            .local_addr()
            .map_err(|e| Failure::Usage(e.to_string()))?;
        {
            let packs = read(&shared.packs);
            let names: Vec<String> = packs.keys().map(|n| shown(n)).collect();
            println!("serving {} on http://{addr}", names.join(", "));
        }
        // The watcher: a rescan whenever a file's length or time changes.
        let watcher = Arc::clone(&shared);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(watch).await;
                let now = fingerprint_of(&source.path);
                if now == fingerprint {
                    continue;
                }
                let previous = read(&watcher.packs).clone();
                match scan(&source, &previous) {
                    Ok((packs, f)) if !packs.is_empty() => {
                        fingerprint = f;
                        let changed = !same(&read(&watcher.packs), &packs);
                        if changed {
                            for (name, p) in &packs {
                                eprintln!("publishing {} {}", shown(name), shown(p.etag()));
                            }
                            *write(&watcher.packs) = packs;
                            watcher.generation.send_modify(|g| *g += 1);
                        }
                    }
                    // Half-written or broken: keep serving what was there.
                    Ok(_) => fingerprint = now,
                    Err(e) => {
                        eprintln!("not publishing the change: {}", shown_long(e.message()));
                        fingerprint = now;
                    }
                }
            }
        });
        let app = axum::Router::new().fallback(handle).with_state(shared);
        cos_http::serve(
            listener,
            app,
            limits,
            cos_http::Refusal::plain_text,
            async {
                let _ = tokio::signal::ctrl_c().await;
            },
        )
        .await;
        Ok(())
    })
}

fn read<T>(l: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    l.read().unwrap_or_else(|p| p.into_inner())
}

fn write<T>(l: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    l.write().unwrap_or_else(|p| p.into_inner())
}

/// Same names and ETags.
fn same(a: &BTreeMap<String, PublishedPack>, b: &BTreeMap<String, PublishedPack>) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b.iter())
            .all(|((x, p), (y, q))| x == y && p.etag() == q.etag())
}

async fn handle(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    if method != Method::GET && method != Method::HEAD {
        return (StatusCode::METHOD_NOT_ALLOWED, "GET or HEAD\n").into_response();
    }
    let path = uri.path().trim_start_matches('/');
    if path == "healthz" {
        return (StatusCode::OK, "ok\n").into_response();
    }
    if path.is_empty() {
        return index(&shared);
    }
    if let Some(name) = path.strip_suffix("/attestation") {
        let bundle = read(&shared.packs)
            .get(name)
            .and_then(|p| p.sigstore_bundle().cloned());
        return match bundle {
            Some(b) => (
                [(header::CONTENT_TYPE, "application/json")],
                Body::from(b.to_vec()),
            )
                .into_response(),
            None => (StatusCode::NOT_FOUND, "no attestation\n").into_response(),
        };
    }
    let text = |name: &str| {
        headers
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
    };
    let if_none_match = text("if-none-match").map(str::to_owned);
    let wait = prefer_wait(text("prefer"), shared.max_wait);
    let mut changes = shared.generation.subscribe();
    let mut pack = read(&shared.packs).get(path).cloned();
    if let (Some(wait), Some(p)) = (wait, &pack)
        && p.not_modified(if_none_match.as_deref())
    {
        // Long poll: hold the request until the pack changes or the wait ends.
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let woke = tokio::time::timeout_at(deadline, changes.changed()).await;
            pack = read(&shared.packs).get(path).cloned();
            let still = pack
                .as_ref()
                .is_some_and(|p| p.not_modified(if_none_match.as_deref()));
            if !matches!(woke, Ok(Ok(()))) || !still {
                break;
            }
        }
    }
    let Some(pack) = pack else {
        return (StatusCode::NOT_FOUND, "no such pack\n").into_response();
    };
    let content_type = if wait.is_some() {
        OPA_LONG_POLL_CONTENT_TYPE
    } else {
        "application/gzip"
    };
    let mut h = vec![
        (
            header::CONTENT_TYPE.as_str().to_owned(),
            content_type.to_owned(),
        ),
        (header::ETAG.as_str().to_owned(), pack.etag().to_owned()),
        (
            header::CACHE_CONTROL.as_str().to_owned(),
            "no-cache".to_owned(),
        ),
    ];
    if pack.not_modified(if_none_match.as_deref()) {
        return (StatusCode::NOT_MODIFIED, headers_of(h)).into_response();
    }
    h.push(("digest".to_owned(), pack.digest_header()));
    h.push(("repr-digest".to_owned(), pack.repr_digest_header()));
    if let Some(b) = pack.bundle_header() {
        h.push(("x-cosign-bundle".to_owned(), b.to_owned()));
    }
    let body = if method == Method::HEAD {
        Body::empty()
    } else {
        Body::from(pack.archive().to_vec())
    };
    (StatusCode::OK, headers_of(h), body).into_response()
}

fn headers_of(pairs: Vec<(String, String)>) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (k, v) in pairs {
        if let (Ok(k), Ok(v)) = (
            header::HeaderName::from_bytes(k.as_bytes()),
            HeaderValue::from_str(&v),
        ) {
            map.insert(k, v);
        }
    }
    map
}

fn index(shared: &Shared) -> Response {
    let packs = read(&shared.packs);
    let list: Vec<serde_json::Value> = packs
        .values()
        .map(|p| {
            serde_json::json!({
                "name": p.name(),
                "etag": p.etag(),
                "digest": p.digest().to_string(),
                "size": p.archive().len(),
                "attestation": p.sigstore_bundle().is_some(),
            })
        })
        .collect();
    (
        [(header::CONTENT_TYPE, "application/json")],
        serde_json::json!({ "packs": list }).to_string(),
    )
        .into_response()
}

fn fingerprint_of(path: &Path) -> Fingerprint {
    let mut out = Fingerprint::new();
    let mut visit = |p: &Path| {
        if let Ok(m) = std::fs::metadata(p) {
            out.insert(p.to_path_buf(), (m.len(), m.modified().ok()));
        }
    };
    visit(path);
    if path.is_dir() {
        // Pack sources: every file under it (bounded); archive dirs: one level.
        let mut stack = vec![path.to_path_buf()];
        let mut seen = 0;
        while let Some(dir) = stack.pop() {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for e in entries.flatten() {
                seen += 1;
                if seen > 20_000 {
                    return out;
                }
                let p = e.path();
                if p.is_dir() {
                    stack.push(p);
                } else {
                    visit(&p);
                }
            }
        }
    }
    out
}

/// Reads what `source` holds now.
fn scan(
    source: &Source,
    previous: &BTreeMap<String, PublishedPack>,
) -> Result<(BTreeMap<String, PublishedPack>, Fingerprint), Failure> {
    let fingerprint = fingerprint_of(&source.path);
    let limits = cos_policy::Limits::default();
    let mut packs = BTreeMap::new();
    let path = &source.path;
    if is_source_dir(path) {
        // A pack source or an OPA bundle directory: cos_policy::Pack reads
        // both (Layout::Pack / Layout::Bundle), and both are served as the
        // archive `cos pack build --with-tests` would write.
        let pack = cos_policy::Pack::load(path, &limits)?;
        let archive = pack.build_bundle_with_tests_at(source.mtime)?;
        let name = format!("{}.tar.gz", pack.manifest().name);
        packs.insert(name.clone(), publish(source, &name, archive, None)?);
    } else if path.is_dir() {
        let entries = std::fs::read_dir(path)
            .map_err(|e| Failure::Usage(format!("{}: {e}", path.display())))?;
        let mut files: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
        files.sort();
        for file in files.iter().filter(|f| is_archive(f)) {
            match publish_file(source, file) {
                Ok((name, p)) => {
                    packs.insert(name, p);
                }
                // One bad file (half-written, not a pack) does not stop the
                // others; what was published under its name stays.
                Err(e) => {
                    eprintln!(
                        "not publishing {}: {}",
                        crate::path_shown(file),
                        shown_long(e.message())
                    );
                    let name = file
                        .file_name()
                        .and_then(|n| n.to_str())
                        .unwrap_or_default();
                    if let Some(p) = previous.get(name) {
                        packs.insert(name.to_owned(), p.clone());
                    }
                }
            }
        }
    } else {
        let (name, p) = publish_file(source, path)?;
        packs.insert(name, p);
    }
    Ok((packs, fingerprint))
}

/// Whether `path` is a directory to build, not a directory of archives: it
/// has a `manifest.yaml` (a cos pack), or a `.manifest` (an OPA bundle
/// directory, as `opa build` takes it), or no archive at its top and a
/// `.rego` file somewhere under it (an OPA bundle directory without
/// `.manifest`; at most 20,000 entries are looked at).
fn is_source_dir(path: &Path) -> bool {
    if !path.is_dir() {
        return false;
    }
    if path.join("manifest.yaml").is_file() || path.join(".manifest").is_file() {
        return true;
    }
    let Ok(entries) = std::fs::read_dir(path) else {
        return false;
    };
    let top: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    if top.iter().any(|p| is_archive(p)) {
        return false;
    }
    let mut stack = top;
    let mut seen = 0;
    while let Some(p) = stack.pop() {
        seen += 1;
        if seen > 20_000 {
            return false;
        }
        if p.is_dir() {
            if let Ok(entries) = std::fs::read_dir(&p) {
                stack.extend(entries.flatten().map(|e| e.path()));
            }
        } else if p.extension().is_some_and(|e| e == "rego") {
            return true;
        }
    }
    false
}

fn is_archive(p: &Path) -> bool {
    p.is_file()
        && p.file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.ends_with(".tar.gz") || n.ends_with(".tgz"))
}

fn publish_file(source: &Source, file: &Path) -> Result<(String, PublishedPack), Failure> {
    let name = file
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| Failure::Usage(format!("{}: not a file name", file.display())))?
        .to_owned();
    let limits = cos_policy::Limits::default();
    let archive = cos_core::file::read_limited(file, limits.max_decompressed_size)?;
    // Served only if it is a pack (a half-written file is not).
    cos_policy::Pack::from_bytes(&archive, &limits)?;
    let bundle = cos_policy::distribution::read_bundle_beside(file)?;
    Ok((name.clone(), publish(source, &name, archive, bundle)?))
}

fn publish(
    source: &Source,
    name: &str,
    archive: Vec<u8>,
    bundle: Option<Vec<u8>>,
) -> Result<PublishedPack, Failure> {
    let bundle = match (bundle, &source.sign_key) {
        (Some(b), _) => Some(b),
        (None, Some(key)) => Some(cos_core::sigstore::sign_blob(&archive, key)?),
        (None, None) => None,
    };
    Ok(PublishedPack::new(name, archive, bundle))
}
