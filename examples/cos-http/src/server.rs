//! The accept loop and one connection's life.

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes, HttpBody};
use axum::http::{HeaderMap, HeaderValue, Request, Response, StatusCode, header};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tokio_rustls::TlsAcceptor;
use tower_service::Service;

use crate::identity::ClientIdentity;
use crate::limits::Limits;
use crate::panic::CatchPanic;
use crate::tls::TlsConfig;

/// A request the loop answered itself, without the router; the caller
/// gives the answer its body (each server has its own error shape).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Refusal {
    /// The body is larger than [`Limits::max_body`] (from its
    /// `Content-Length`, before any of it was read, or while reading a body
    /// without one): `413`.
    BodyTooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
    /// The body did not arrive in full within [`Limits::body_timeout`]: `408`.
    BodyTimeout {
        /// The limit.
        after: Duration,
    },
    /// The body could not be read (the client broke off, bad chunking): `400`.
    BodyUnreadable {
        /// What hyper said.
        reason: String,
    },
    /// The request's `Transfer-Encoding` names a coding other than
    /// `chunked` (`gzip, chunked`): `501`, as Go's server answers, where
    /// hyper would hand the still-encoded body on.
    UnsupportedTransferEncoding,
    /// The handler panicked: `500`.
    Panic {
        /// The panic's message.
        message: String,
    },
}

impl Refusal {
    /// The status of the answer.
    pub fn status(&self) -> StatusCode {
        match self {
            Refusal::BodyTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Refusal::BodyTimeout { .. } => StatusCode::REQUEST_TIMEOUT,
            Refusal::BodyUnreadable { .. } => StatusCode::BAD_REQUEST,
            Refusal::UnsupportedTransferEncoding => StatusCode::NOT_IMPLEMENTED,
            Refusal::Panic { .. } => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// A one-line description for the answer's body.
    pub fn message(&self) -> String {
        match self {
            Refusal::BodyTooLarge { limit } => {
                format!("request body too large (the limit is {limit} bytes)")
            }
            Refusal::BodyTimeout { after } => {
                format!("request body not received within {} ms", after.as_millis())
            }
            Refusal::BodyUnreadable { reason } => format!("request body unreadable: {reason}"),
            Refusal::UnsupportedTransferEncoding => {
                "unsupported transfer encoding: only chunked is understood (send the body \
                 uncompressed, or with Content-Encoding instead)"
                    .to_owned()
            }
            Refusal::Panic { message } => {
                format!("internal error: the handler panicked: {message}")
            }
        }
    }

    /// The answer as `text/plain`: [`Refusal::status`] and [`Refusal::message`].
    pub fn plain_text(&self) -> Response<Body> {
        let mut r = Response::new(Body::from(format!("{}\n", self.message())));
        *r.status_mut() = self.status();
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        r
    }
}

type Refuse = dyn Fn(&Refusal) -> Response<Body> + Send + Sync;

/// Serves `router` on `listener` within `limits` until `shutdown`
/// completes; `refuse` gives the answers to requests the loop refuses
/// itself. On shutdown it stops accepting, closes idle connections and
/// lets requests in flight finish (for at most 10 s).
///
/// Never fails: a failed `accept` is retried (after shedding an idle
/// connection and backing off, 10 ms doubling to 0.5 s, when it is not the
/// failure of one connection), a failed connection is closed.
pub async fn serve(
    listener: TcpListener,
    router: axum::Router,
    limits: Limits,
    refuse: impl Fn(&Refusal) -> Response<Body> + Send + Sync + 'static,
    shutdown: impl Future<Output = ()>,
) {
    serve_with(listener, router, limits, None, Box::new(refuse), shutdown).await;
}

/// [`serve`] over TLS: each accepted connection first completes a TLS
/// handshake as `tls` says, then is served as [`serve`] serves it.
///
/// The handshake is held to the same bounds as a request's head: it must
/// complete within [`Limits::header_timeout`] from the accept (a client
/// that opens a connection and sends no ClientHello is closed when it runs
/// out), and a connection in its handshake counts against
/// [`Limits::max_connections`] and may be shed as an idle one. The clock of
/// the first request's headers starts when the handshake ends. A failed
/// handshake closes the connection, silently. With client verification
/// ([`TlsConfig`] made with client CAs), every request of a connection
/// carries the client's [`ClientIdentity`] in its extensions; a verified
/// certificate whose subject cannot be read (Go's parser refuses it too)
/// closes the connection.
pub async fn serve_tls(
    listener: TcpListener,
    router: axum::Router,
    limits: Limits,
    tls: TlsConfig,
    refuse: impl Fn(&Refusal) -> Response<Body> + Send + Sync + 'static,
    shutdown: impl Future<Output = ()>,
) {
    serve_with(
        listener,
        router,
        limits,
        Some(tls),
        Box::new(refuse),
        shutdown,
    )
    .await;
}

async fn serve_with(
    listener: TcpListener,
    router: axum::Router,
    limits: Limits,
    tls: Option<TlsConfig>,
    refuse: Box<Refuse>,
    shutdown: impl Future<Output = ()>,
) {
    let tls = tls.map(|t| Tls {
        acceptor: TlsAcceptor::from(t.server),
        verify_clients: t.verify_clients,
    });
    let mut http = hyper::server::conn::http1::Builder::new();
    // half_close: a client that shuts its sending side after the request
    // (as `curl --data … | nc -N` and some proxies do) still gets its answer.
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .half_close(true);
    let shared = Arc::new(Shared {
        router,
        limits,
        refuse,
        http,
        registry: Registry {
            epoch: Instant::now(),
            conns: Mutex::new(HashMap::new()),
            emptied: Notify::new(),
        },
    });
    tokio::pin!(shutdown);
    let mut backoff = Duration::ZERO;
    let mut next_id = 0u64;
    loop {
        let accepted = tokio::select! {
            biased;
            () = &mut shutdown => break,
            r = listener.accept() => r,
        };
        match accepted {
            Ok((stream, _)) => {
                backoff = Duration::ZERO;
                // Answers are written whole; no reason to hold small ones back.
                let _ = stream.set_nodelay(true);
                next_id += 1;
                let conn = Arc::new(Conn {
                    in_flight: AtomicUsize::new(0),
                    last_active_ms: AtomicU64::new(shared.registry.now_ms()),
                    evict: Notify::new(),
                });
                if shared
                    .registry
                    .admit(next_id, Arc::clone(&conn), limits.max_connections)
                {
                    let shared = Arc::clone(&shared);
                    match &tls {
                        None => tokio::spawn(connection(stream, None, shared, conn, next_id)),
                        Some(tls) => {
                            tokio::spawn(tls_connection(tls.clone(), stream, shared, conn, next_id))
                        }
                    };
                }
            }
            Err(e) if one_connection(&e) => {}
            Err(_) => {
                // Out of descriptors (EMFILE, ENFILE) or memory: make room
                // and wait, rather than asking again at once.
                shared.registry.shed_idlest(None);
                backoff =
                    (backoff * 2).clamp(Duration::from_millis(10), Duration::from_millis(500));
                tokio::select! {
                    () = &mut shutdown => break,
                    () = tokio::time::sleep(backoff) => {}
                }
            }
        }
    }
    drop(listener);
    shared.registry.close_all();
    let _ = tokio::time::timeout(Duration::from_secs(10), shared.registry.empty()).await;
}

/// Failures of one incoming connection, not of the listener.
fn one_connection(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::*;
    matches!(
        e.kind(),
        ConnectionRefused | ConnectionAborted | ConnectionReset | Interrupted | WouldBlock
    )
}

struct Shared {
    router: axum::Router,
    limits: Limits,
    refuse: Box<Refuse>,
    http: hyper::server::conn::http1::Builder,
    registry: Registry,
}

/// One connection as the registry sees it.
struct Conn {
    /// Requests handed to the router and not answered yet.
    in_flight: AtomicUsize,
    /// When it was accepted or last began or finished a request
    /// (milliseconds since the registry's epoch).
    last_active_ms: AtomicU64,
    /// Told to close (evicted, or the server shuts down).
    evict: Notify,
}

/// The open connections.
struct Registry {
    epoch: Instant,
    conns: Mutex<HashMap<u64, Arc<Conn>>>,
    emptied: Notify,
}

impl Registry {
    fn now_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<u64, Arc<Conn>>> {
        self.conns.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Registers a new connection; past `max`, closes the connection idle
    /// the longest. `false` (the newcomer is to be closed) when every other
    /// connection has a request in flight.
    fn admit(&self, id: u64, conn: Arc<Conn>, max: usize) -> bool {
        let mut conns = self.lock();
        conns.insert(id, conn);
        if conns.len() <= max {
            return true;
        }
        if Self::evict_idlest(&mut conns, Some(id)) {
            true
        } else {
            conns.remove(&id);
            false
        }
    }

    /// Closes the connection idle the longest, if one is idle.
    fn shed_idlest(&self, except: Option<u64>) -> bool {
        Self::evict_idlest(&mut self.lock(), except)
    }

    fn evict_idlest(conns: &mut HashMap<u64, Arc<Conn>>, except: Option<u64>) -> bool {
        let victim = conns
            .iter()
            .filter(|(id, c)| Some(**id) != except && c.in_flight.load(Ordering::SeqCst) == 0)
            .min_by_key(|(_, c)| c.last_active_ms.load(Ordering::Relaxed))
            .map(|(id, _)| *id);
        match victim.and_then(|id| conns.remove(&id)) {
            Some(c) => {
                // Gone from the count now; its task closes the socket.
                c.evict.notify_one();
                true
            }
            None => false,
        }
    }

    fn leave(&self, id: u64) {
        let mut conns = self.lock();
        conns.remove(&id);
        if conns.is_empty() {
            self.emptied.notify_waiters();
        }
    }

    fn close_all(&self) {
        for c in self.lock().values() {
            c.evict.notify_one();
        }
    }

    async fn empty(&self) {
        loop {
            let emptied = self.emptied.notified();
            if self.lock().is_empty() {
                return;
            }
            emptied.await;
        }
    }
}

/// Marks a request in flight on its connection while it lives.
struct InFlight<'a> {
    conn: &'a Conn,
    registry: &'a Registry,
}

impl<'a> InFlight<'a> {
    fn begin(conn: &'a Conn, registry: &'a Registry) -> Self {
        conn.in_flight.fetch_add(1, Ordering::SeqCst);
        conn.last_active_ms
            .store(registry.now_ms(), Ordering::Relaxed);
        InFlight { conn, registry }
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.conn
            .last_active_ms
            .store(self.registry.now_ms(), Ordering::Relaxed);
        self.conn.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The TLS side of [`serve_tls`].
#[derive(Clone)]
struct Tls {
    acceptor: TlsAcceptor,
    verify_clients: bool,
}

/// The handshake, within the header timeout and while the connection is
/// not evicted, then the connection as a plain one.
async fn tls_connection(
    tls: Tls,
    stream: TcpStream,
    shared: Arc<Shared>,
    conn: Arc<Conn>,
    id: u64,
) {
    let handshake = tokio::time::timeout(shared.limits.header_timeout, tls.acceptor.accept(stream));
    let stream = tokio::select! {
        r = handshake => match r {
            Ok(Ok(stream)) => Some(stream),
            // Refused by either side, broken off, or too slow: closed.
            Ok(Err(_)) | Err(_) => None,
        },
        () = conn.evict.notified() => None,
    };
    let Some(stream) = stream else {
        shared.registry.leave(id);
        return;
    };
    let identity = if tls.verify_clients {
        // The verifier required a certificate: there is one.
        let subject = stream
            .get_ref()
            .1
            .peer_certificates()
            .and_then(|certs| certs.first())
            .map(|leaf| ClientIdentity::from_certificate_der(leaf));
        match subject {
            Some(Ok(identity)) => Some(Arc::new(identity)),
            _ => {
                shared.registry.leave(id);
                return;
            }
        }
    } else {
        None
    };
    connection(stream, identity, shared, conn, id).await;
}

async fn connection<S>(
    stream: S,
    identity: Option<Arc<ClientIdentity>>,
    shared: Arc<Shared>,
    conn: Arc<Conn>,
    id: u64,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = {
        let (shared, conn) = (Arc::clone(&shared), Arc::clone(&conn));
        hyper::service::service_fn(move |req: Request<Incoming>| {
            let (shared, conn, identity) =
                (Arc::clone(&shared), Arc::clone(&conn), identity.clone());
            async move { Ok::<_, Infallible>(shared.handle(req, &conn, identity.as_deref()).await) }
        })
    };
    let http = shared.http.serve_connection(TokioIo::new(stream), service);
    tokio::pin!(http);
    let mut closing = false;
    loop {
        tokio::select! {
            _ = http.as_mut() => break,
            () = conn.evict.notified(), if !closing => {
                if conn.in_flight.load(Ordering::SeqCst) == 0 {
                    break;
                }
                // A request in flight finishes first.
                closing = true;
                http.as_mut().graceful_shutdown();
            }
        }
    }
    shared.registry.leave(id);
}

impl Shared {
    async fn handle(
        &self,
        req: Request<Incoming>,
        conn: &Conn,
        identity: Option<&ClientIdentity>,
    ) -> Response<Body> {
        let _in_flight = InFlight::begin(conn, &self.registry);
        let (mut parts, mut incoming) = req.into_parts();
        if let Some(identity) = identity {
            parts.extensions.insert(identity.clone());
        }
        if !only_chunked(&parts.headers) {
            return self.refuse_and_close(&Refusal::UnsupportedTransferEncoding);
        }
        let max = self.limits.max_body;
        if content_length(&parts.headers)
            .is_some_and(|n| n > u64::try_from(max).unwrap_or(u64::MAX))
        {
            return self.refuse_and_close(&Refusal::BodyTooLarge { limit: max });
        }
        let body = if incoming.is_end_stream() {
            Body::empty()
        } else {
            let after = self.limits.body_timeout;
            match tokio::time::timeout(after, read_body(&mut incoming, max)).await {
                Ok(Ok(bytes)) => Body::from(bytes),
                Ok(Err(refusal)) => return self.refuse_and_close(&refusal),
                Err(_) => return self.refuse_and_close(&Refusal::BodyTimeout { after }),
            }
        };
        let mut router = self.router.clone();
        let req = Request::from_parts(parts, body);
        match CatchPanic::new(async move { router.call(req).await }).await {
            Ok(Ok(response)) => response,
            Ok(Err(never)) => match never {},
            Err(message) => (self.refuse)(&Refusal::Panic { message }),
        }
    }

    /// The caller's answer, and the connection closed after it (its body
    /// was not read, or not in full).
    fn refuse_and_close(&self, refusal: &Refusal) -> Response<Body> {
        let mut r = (self.refuse)(refusal);
        r.headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
        r
    }
}

/// Whether every `Transfer-Encoding` coding is `chunked` (or there is none).
fn only_chunked(headers: &HeaderMap) -> bool {
    headers.get_all(header::TRANSFER_ENCODING).iter().all(|v| {
        v.to_str().is_ok_and(|v| {
            v.split(',')
                .all(|coding| coding.trim().eq_ignore_ascii_case("chunked"))
        })
    })
}

fn content_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// The whole body, at most `max` bytes (one chunk is not copied).
async fn read_body(body: &mut Incoming, max: usize) -> Result<Bytes, Refusal> {
    let mut first: Option<Bytes> = None;
    let mut rest: Vec<u8> = Vec::new();
    let mut len = 0usize;
    loop {
        let frame = std::future::poll_fn(|cx| Pin::new(&mut *body).poll_frame(cx)).await;
        let data = match frame {
            None => break,
            Some(Err(e)) => {
                return Err(Refusal::BodyUnreadable {
                    reason: e.to_string(),
                });
            }
            Some(Ok(frame)) => match frame.into_data() {
                Ok(data) => data,
                Err(_) => continue,
            },
        };
        len = len.saturating_add(data.len());
        if len > max {
            return Err(Refusal::BodyTooLarge { limit: max });
        }
        if first.is_none() && rest.is_empty() {
            first = Some(data);
        } else {
            if let Some(f) = first.take() {
                rest.extend_from_slice(&f);
            }
            rest.extend_from_slice(&data);
        }
    }
    Ok(first.unwrap_or_else(|| Bytes::from(rest)))
}
