//! OPA's REST API as clients use it: the Data API (`GET`/`POST
//! /v1/data/{path}`, `POST /`), the Policy API (`/v1/policies`), data writes
//! (`PUT`/`PATCH`/`DELETE /v1/data/{path}`), `/health` (with `bundles` and
//! `plugins`), `/metrics`; plus `/healthz` (ready) and `/livez` (alive).
//! Bodies and error shapes are OPA's (`{"code", "message"}`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, Query, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use cos_policy::{DecisionLogger, JsonLinesWriter};
use cos_policy::{Input, Output};
use serde_json::{Value, json};

use crate::Authentication;
use crate::Config;
use crate::auth::{self, Authorization, Verdict};
use crate::metrics::Metrics;
use crate::policy::{Answerer, Policy, WriteError};
use crate::pool::Pool;

pub(crate) struct App {
    policy: Arc<Policy>,
    metrics: Arc<Metrics>,
    log: Option<(DecisionLogger, Mutex<JsonLinesWriter<std::fs::File>>)>,
    /// Where evaluations and compilations run (off the async workers).
    pool: Pool,
    /// How callers are identified (`--authentication`).
    authentication: Authentication,
    /// Whether `data.system.authz.allow` decides every call (`--authorization`).
    authorization: Authorization,
    /// Whether the write APIs are served (`--writes`, resolved).
    writes: bool,
    /// `--max-body`: the most the authoriser reads of a body.
    max_body: usize,
}

impl App {
    pub(crate) fn new(
        policy: Arc<Policy>,
        metrics: Arc<Metrics>,
        config: &Config,
    ) -> Result<Arc<Self>, String> {
        let log = match &config.decision_log {
            Some(path) => {
                let writer = JsonLinesWriter::append(path).map_err(|e| e.to_string())?;
                let labels = [("service".to_owned(), "cos-pdp".to_owned())]
                    .into_iter()
                    .collect();
                Some((DecisionLogger::new(labels), Mutex::new(writer)))
            }
            None => None,
        };
        Ok(Arc::new(App {
            policy,
            metrics,
            log,
            pool: Pool::new(config.decision_threads())?,
            authentication: config.authentication,
            authorization: config.authorization,
            writes: config
                .writes
                .enabled(config.pack.is_some() || config.pack_url.is_some()),
            max_body: config.max_body,
        }))
    }
}

/// Runs `f` (an evaluation, or a write that compiles) on the decision pool;
/// a panic there is OPA's `500 internal_error`, and the daemon goes on.
async fn off_worker(app: &Arc<App>, f: impl FnOnce(&App) -> Response + Send + 'static) -> Response {
    let shared = Arc::clone(app);
    match app.pool.run(move || f(&shared)).await {
        Ok(response) => response,
        Err(message) => internal_error(&message),
    }
}

/// `500 internal_error` with `message` (a panic, caught).
pub(crate) fn internal_error(message: &str) -> Response {
    error(StatusCode::INTERNAL_SERVER_ERROR, "internal_error", message)
}

/// The answers to what the server loop refuses itself, in OPA's shape.
pub(crate) fn refusal(r: &cos_http::Refusal) -> Response {
    let code = match r {
        cos_http::Refusal::Panic { .. } => "internal_error",
        _ => "invalid_parameter",
    };
    error(r.status(), code, &r.message())
}

type Shared = State<Arc<App>>;
type Params = Query<HashMap<String, String>>;

pub(crate) fn router(app: Arc<App>, max_body: usize) -> axum::Router {
    let mut router = axum::Router::new()
        .route("/", post(root_query))
        .route(
            "/v1/data",
            get(data_get_root)
                .post(data_post_root)
                .put(data_put_root)
                .patch(data_patch_root)
                .delete(data_delete_root),
        )
        .route(
            "/v1/data/{*path}",
            get(data_get)
                .post(data_post)
                .put(data_put)
                .patch(data_patch)
                .delete(data_delete),
        )
        .route("/v0/data", post(v0_post_root))
        .route("/v0/data/{*path}", post(v0_post))
        .route("/v1/policies", get(policies_list))
        .route(
            "/v1/policies/{*id}",
            get(policy_get).put(policy_put).delete(policy_delete),
        )
        .route("/health", get(health))
        .route("/healthz", get(healthz))
        .route(
            "/livez",
            get(|| async { json_response(StatusCode::OK, &json!({}), false) }),
        )
        .route("/metrics", get(metrics))
        .fallback(|| async {
            error(
                StatusCode::NOT_FOUND,
                "resource_not_found",
                "the requested resource does not exist",
            )
        });
    // Innermost first: the write switch, then authorisation around it (an
    // unauthorised write is 401 whether or not writes are on, as in OPA),
    // then the request metrics around both.
    if !app.writes {
        router = router.layer(axum::middleware::from_fn(writes_off));
    }
    if app.authorization == Authorization::Basic {
        router = router.layer(axum::middleware::from_fn_with_state(
            Arc::clone(&app),
            authorize,
        ));
    }
    router
        .layer(axum::middleware::from_fn_with_state(
            Arc::clone(&app),
            observe,
        ))
        .layer(DefaultBodyLimit::max(max_body))
        .with_state(app)
}

/// Records `http_request_duration_seconds` for every request.
async fn observe(State(app): Shared, req: Request, next: Next) -> Response {
    let method = req.method().to_string();
    let handler = handler_of(req.uri().path());
    let start = Instant::now();
    let response = opa_shaped(next.run(req).await).await;
    app.metrics.request(
        handler,
        &method,
        response.status().as_u16(),
        start.elapsed().as_secs_f64(),
    );
    response
}

/// `--writes off` (the default with a pack source): the write APIs are 403.
async fn writes_off(req: Request, next: Next) -> Response {
    if auth::is_write(req.method(), req.uri().path()) {
        return error(
            StatusCode::FORBIDDEN,
            "invalid_operation",
            "writes are off: this cos-pdp decides with the packs of its pack source; \
             publish a new pack revision, or start cos-pdp with --writes on to serve \
             PUT, PATCH and DELETE on /v1/policies and /v1/data",
        );
    }
    next.run(req).await
}

/// `--authorization=basic`: `data.system.authz.allow` decides the call,
/// given OPA's input document (auth.rs). `/livez` is not asked: it says
/// only that the process runs, and probes carry no credentials.
async fn authorize(State(app): Shared, req: Request, next: Next) -> Response {
    if req.uri().path() == "/livez" {
        return next.run(req).await;
    }
    let segments = match auth::path_segments(req.uri()) {
        Ok(s) => s,
        Err(auth::BadRequest(m)) => return error(StatusCode::BAD_REQUEST, "invalid_parameter", &m),
    };
    let (parts, body) = req.into_parts();
    let (parsed, body) = if auth::expects_body(&parts.method, &segments) {
        let bytes = match axum::body::to_bytes(body, app.max_body).await {
            Ok(b) => b,
            Err(_) => {
                return error(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "invalid_parameter",
                    &format!(
                        "request body larger than --max-body ({} bytes)",
                        app.max_body
                    ),
                );
            }
        };
        let parsed = if bytes.is_empty() {
            None
        } else {
            match serde_json::from_slice::<Value>(&bytes) {
                Ok(v) => Some(v),
                Err(e) => {
                    let yaml = parts
                        .headers
                        .get(header::CONTENT_TYPE)
                        .is_some_and(|v| String::from_utf8_lossy(v.as_bytes()).contains("yaml"));
                    let message = if yaml {
                        "YAML request bodies are not supported: send JSON".to_owned()
                    } else {
                        e.to_string()
                    };
                    return error(StatusCode::BAD_REQUEST, "invalid_parameter", &message);
                }
            }
        };
        (parsed, axum::body::Body::from(bytes))
    } else {
        (None, body)
    };
    let identity = match app.authentication {
        Authentication::Token => auth::bearer_token(&parts.headers),
        Authentication::Tls => parts
            .extensions
            .get::<cos_http::ClientIdentity>()
            .map(|id| id.subject.clone()),
        Authentication::Off => None,
    };
    let input = auth::input(
        &parts.method,
        &parts.uri,
        &parts.headers,
        segments,
        parsed,
        identity,
    );
    let shared = Arc::clone(&app);
    let verdict = app
        .pool
        .run(
            move || match shared.policy.evaluate(auth::DECISION, Some(&input)) {
                Ok((_, Ok(result))) => auth::verdict(result.map(|o| logged(&o)).as_ref()),
                Ok((_, Err(e))) | Err(e) => Verdict::Fail(e.to_string()),
            },
        )
        .await
        .unwrap_or_else(Verdict::Fail);
    match verdict {
        Verdict::Allow => next.run(Request::from_parts(parts, body)).await,
        Verdict::Deny(message) => error(StatusCode::UNAUTHORIZED, "unauthorized", &message),
        Verdict::Fail(message) => internal_error(&message),
    }
}

/// An error answer not in OPA's `{"code", "message"}` shape (axum's own
/// rejections: a path that is not UTF-8 once decoded, a method a route does
/// not take) rewritten into it, its text as the message. Everything else
/// passes untouched.
async fn opa_shaped(response: Response) -> Response {
    let status = response.status();
    let json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if json || !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let (parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, 64 << 10)
        .await
        .unwrap_or_default();
    let mut message = cos_core::text::escape_untrusted(&String::from_utf8_lossy(&text), 1024);
    if message.trim().is_empty() {
        message = status
            .canonical_reason()
            .unwrap_or("request refused")
            .to_owned();
    }
    let code = match status {
        StatusCode::NOT_FOUND => "resource_not_found",
        s if s.is_server_error() => "internal_error",
        _ => "invalid_parameter",
    };
    let mut shaped = error(status, code, message.trim());
    for (name, value) in &parts.headers {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            shaped.headers_mut().insert(name.clone(), value.clone());
        }
    }
    shaped
}

fn handler_of(path: &str) -> &'static str {
    match path {
        "/" => "v0/data",
        p if p.starts_with("/v0/data") => "v0/data",
        p if p.starts_with("/v1/data") => "v1/data",
        p if p.starts_with("/v1/policies") => "v1/policies",
        "/health" | "/healthz" | "/livez" => "health",
        "/metrics" => "metrics",
        _ => "other",
    }
}

fn json_response(status: StatusCode, body: &Value, pretty: bool) -> Response {
    let text = if pretty {
        serde_json::to_string_pretty(body)
    } else {
        serde_json::to_string(body)
    }
    .unwrap_or_else(|_| "{}".to_owned());
    let mut r = (status, text).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

/// OPA's error body.
fn error(status: StatusCode, code: &str, message: &str) -> Response {
    json_response(status, &json!({"code": code, "message": message}), false)
}

fn truthy(params: &HashMap<String, String>, key: &str) -> bool {
    params
        .get(key)
        .is_some_and(|v| v.is_empty() || v.eq_ignore_ascii_case("true"))
}

fn segments(path: &str) -> Vec<String> {
    path.split('/')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

// ------------------------------------------------------------------ Data API

async fn data_get_root(app: Shared, params: Params) -> Response {
    data_get(app, Path(String::new()), params).await
}

async fn data_get(State(app): Shared, Path(path): Path<String>, Query(params): Params) -> Response {
    if let Some(text) = params.get("input")
        && let Err(r) = exact_numbers(text.as_bytes())
    {
        return *r;
    }
    let input = match params.get("input") {
        Some(text) => match serde_json::from_str::<Value>(text) {
            Ok(v) => Some(v),
            Err(e) => {
                return error(
                    StatusCode::BAD_REQUEST,
                    "invalid_parameter",
                    &format!("parameter contains malformed input document: {e}"),
                );
            }
        },
        None => None,
    };
    off_worker(&app, move |app| {
        evaluate(app, GET_V1, &path, input, &params, false)
    })
    .await
}

async fn data_post_root(app: Shared, params: Params, body: Bytes) -> Response {
    data_post(app, Path(String::new()), params, body).await
}

async fn data_post(
    State(app): Shared,
    Path(path): Path<String>,
    Query(params): Params,
    body: Bytes,
) -> Response {
    off_worker(&app, move |app| data_post_now(app, &path, &params, &body)).await
}

/// `POST /v1/data/{path}`, on the decision pool.
fn data_post_now(
    app: &App,
    path: &str,
    params: &HashMap<String, String>,
    body: &Bytes,
) -> Response {
    if body.iter().all(u8::is_ascii_whitespace) {
        return evaluate(app, POST_V1, path, None, params, true);
    }
    if let Err(r) = exact_numbers(body) {
        return *r;
    }
    // Without a decision log nothing needs the input or the result as JSON
    // trees: the body is parsed straight into the engine's values and the
    // answer serialised from them. A body this path does not take (not an
    // object, a repeated key, malformed) goes the JSON way, which gives
    // OPA's answer or error for it.
    // Only an object is a request body; serde would read the struct from an
    // array too (`[{"role": "admin"}]` as that input), where OPA refuses it.
    let object = body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
    if app.log.is_none()
        && object
        && !truthy(params, "strict-builtin-errors")
        && let Ok(request) = serde_json::from_slice::<DataRequest>(body)
    {
        return evaluate_fast(app, path, request.input, params);
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(mut m)) => match m.remove("input") {
            Some(i) => evaluate(app, POST_V1, path, Some(i), params, false),
            None => evaluate(app, POST_V1, path, None, params, true),
        },
        Ok(_) => error(
            StatusCode::BAD_REQUEST,
            "invalid_parameter",
            "body contains malformed input document: expected an object with an \"input\" key",
        ),
        Err(e) => error(
            StatusCode::BAD_REQUEST,
            "invalid_parameter",
            &format!("body contains malformed input document: {e}"),
        ),
    }
}

/// A Data API request body in the engine's form: `{"input": …}`, other keys
/// ignored (as OPA does); `"input": null` is a null input, not a missing one.
#[derive(serde::Deserialize)]
struct DataRequest {
    #[serde(default, deserialize_with = "present")]
    input: Option<Input>,
}

fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Input>, D::Error> {
    <Input as serde::Deserialize>::deserialize(d).map(Some)
}

/// The Data API's answer, in OPA's key order (sorted).
#[derive(serde::Serialize)]
struct DataResponse<R> {
    #[serde(skip_serializing_if = "Option::is_none")]
    decision_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    metrics: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    provenance: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    result: Option<R>,
    #[serde(skip_serializing_if = "Option::is_none")]
    warning: Option<Value>,
}

fn query_of(path: &str) -> String {
    if path.trim_matches('/').is_empty() {
        "data".to_owned()
    } else {
        format!("data/{}", path.trim_matches('/'))
    }
}

/// OPA's answer to a failed evaluation: 400 for a bad query, 500 otherwise.
fn evaluation_error(app: &App, e: &cos_policy::Error) -> Response {
    app.metrics.decision("error");
    let status = match e {
        cos_policy::Error::InvalidQuery { .. } => StatusCode::BAD_REQUEST,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    let code = if status == StatusCode::BAD_REQUEST {
        "invalid_parameter"
    } else {
        "internal_error"
    };
    match e {
        // OPA's shape for a failed evaluation: the errors under a summary.
        cos_policy::Error::Evaluation { message, .. } => {
            let kind = if message.contains("conflict") {
                "eval_conflict_error"
            } else {
                "eval_builtin_error"
            };
            json_response(
                status,
                &json!({
                    "code": code,
                    "message": "error(s) occurred while evaluating query",
                    "errors": [{"code": kind, "message": message}],
                }),
                false,
            )
        }
        _ => error(status, code, &e.to_string()),
    }
}

fn elapsed_ns(started: Instant) -> u64 {
    u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX)
}

/// The 200 answer: the result (absent when undefined) and what the query
/// parameters ask for.
fn data_response(
    app: &App,
    answerer: &Answerer,
    result: Option<Output>,
    decision_id: Option<String>,
    eval_ns: u64,
    params: &HashMap<String, String>,
    warn_missing: bool,
) -> Response {
    app.metrics.decision(if result.is_some() {
        "defined"
    } else {
        "undefined"
    });
    let provenance = match answerer {
        Answerer::Pack(p) if truthy(params, "provenance") => {
            let r = p.pack();
            Some(
                json!({"version": env!("CARGO_PKG_VERSION"), "bundles": {r.name.clone(): {"revision": r.revision}}}),
            )
        }
        _ => None,
    };
    let body = DataResponse {
        decision_id,
        metrics: truthy(params, "metrics").then(|| json!({"timer_rego_query_eval_ns": eval_ns})),
        provenance,
        result: result.as_ref().map(Exact),
        warning: warn_missing.then(|| {
            json!({"code": "api_usage_warning", "message": "'input' key missing from the request"})
        }),
    };
    let text = if truthy(params, "pretty") {
        serde_json::to_vec_pretty(&body)
    } else {
        serde_json::to_vec(&body)
    };
    match text {
        Ok(text) => {
            let mut r = (StatusCode::OK, text).into_response();
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            r
        }
        Err(e) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            &format!("result is not JSON: {e}"),
        ),
    }
}

/// One timed evaluation: which engine answered, its defined-or-undefined
/// result and the nanoseconds it took, or the error response (500 when
/// nothing can decide, OPA's mapping for a failed evaluation).
#[allow(
    clippy::type_complexity,
    reason = "the policy's pair of answerer and result"
)]
fn timed<T>(
    app: &App,
    eval: impl FnOnce() -> Result<(Answerer, Result<T, cos_policy::Error>), cos_policy::Error>,
) -> Result<(Answerer, T, u64), Box<Response>> {
    let started = Instant::now();
    let (answerer, result) = eval().map_err(|e| {
        app.metrics.decision("error");
        Box::new(error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            &e.to_string(),
        ))
    })?;
    let eval_ns = elapsed_ns(started);
    match result {
        Ok(r) => Ok((answerer, r, eval_ns)),
        Err(e) => Err(Box::new(evaluation_error(app, &e))),
    }
}

/// The Data API without a decision log: input and result in the engine's form.
fn evaluate_fast(
    app: &App,
    path: &str,
    input: Option<Input>,
    params: &HashMap<String, String>,
) -> Response {
    match timed(app, || app.policy.evaluate(&query_of(path), input.as_ref())) {
        Ok((answerer, result, eval_ns)) => data_response(
            app,
            &answerer,
            result,
            None,
            eval_ns,
            params,
            input.is_none(),
        ),
        Err(response) => *response,
    }
}

/// The routes that decide, as the decision log's `custom.route` names them.
const GET_V1: &str = "GET /v1/data";
const POST_V1: &str = "POST /v1/data";
const POST_V0: &str = "POST /v0/data";
const POST_ROOT: &str = "POST /";

/// Writes the decision-log event of one decision (defined, undefined or
/// failed) when logging is on, and gives its id; the error response when
/// the log cannot take it: no decision without its record.
fn log_decision(
    app: &App,
    route: &str,
    engine: Option<&cos_policy::PolicyEngine>,
    path: &str,
    input: Option<&Value>,
    outcome: Result<Option<&Value>, cos_policy::EventError>,
    eval_ns: u64,
) -> Result<Option<String>, Box<Response>> {
    let Some((logger, writer)) = &app.log else {
        return Ok(None);
    };
    let event = match (&outcome, engine) {
        (Ok(result), Some(engine)) => {
            logger.event_for_result(engine, path, input, *result, eval_ns)
        }
        (Ok(_), None) => Ok(None),
        (Err(e), engine) => logger.event_for_error(engine, path, input, e, eval_ns),
    };
    let failed = |e: &dyn std::fmt::Display| {
        Box::new(error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            &format!("decision log: {e}"),
        ))
    };
    match event {
        Ok(Some(mut event)) => {
            event
                .custom
                .insert("route".to_owned(), Value::String(route.to_owned()));
            let mut w = writer.lock().unwrap_or_else(|p| p.into_inner());
            w.write(&event).map_err(|e| failed(&e))?;
            Ok(Some(event.decision_id))
        }
        Ok(None) => Ok(None),
        Err(e) => Err(failed(&e)),
    }
}

/// One evaluation of `path` with its decision-log event, on `route`.
#[allow(
    clippy::type_complexity,
    reason = "which engine answered, and its result"
)]
fn evaluate_logged(
    app: &App,
    route: &str,
    path: &str,
    input: Option<&Value>,
    strict: bool,
) -> Result<(Answerer, Option<Output>, Option<String>, u64), Box<Response>> {
    let started = Instant::now();
    let outcome = if strict {
        app.policy.evaluate_strict(&query_of(path), input)
    } else {
        app.policy.evaluate(&query_of(path), input)
    };
    let eval_ns = elapsed_ns(started);
    let display_path = path.trim_matches('/');
    match outcome {
        Ok((answerer, Ok(result))) => {
            let id = log_decision(
                app,
                route,
                Some(answerer.engine()),
                display_path,
                input,
                Ok(result.as_ref().map(logged).as_ref()),
                eval_ns,
            )?;
            Ok((answerer, result, id, eval_ns))
        }
        Ok((answerer, Err(e))) => {
            let event_error = (&e).into();
            log_decision(
                app,
                route,
                Some(answerer.engine()),
                display_path,
                input,
                Err(event_error),
                eval_ns,
            )?;
            Err(Box::new(evaluation_error(app, &e)))
        }
        Err(e) => {
            log_decision(
                app,
                route,
                None,
                display_path,
                input,
                Err((&e).into()),
                eval_ns,
            )?;
            app.metrics.decision("error");
            Err(Box::new(error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal_error",
                &e.to_string(),
            )))
        }
    }
}

fn evaluate(
    app: &App,
    route: &str,
    path: &str,
    input: Option<Value>,
    params: &HashMap<String, String>,
    warn_missing: bool,
) -> Response {
    let strict = truthy(params, "strict-builtin-errors");
    match evaluate_logged(app, route, path, input.as_ref(), strict) {
        Ok((answerer, result, decision_id, eval_ns)) => data_response(
            app,
            &answerer,
            result,
            decision_id,
            eval_ns,
            params,
            warn_missing,
        ),
        Err(response) => *response,
    }
}

/// `POST /`: the body is the input; the answer is `data.system.main`, unwrapped.
async fn root_query(State(app): Shared, Query(params): Params, body: Bytes) -> Response {
    off_worker(&app, move |app| {
        v0_query(app, POST_ROOT, "system/main", &params, &body)
    })
    .await
}

/// `POST /v0/data/{path}`: OPA's v0 Data API, the body is the input and the
/// answer the document, unwrapped.
async fn v0_post(
    State(app): Shared,
    Path(path): Path<String>,
    Query(params): Params,
    body: Bytes,
) -> Response {
    off_worker(&app, move |app| {
        v0_query(app, POST_V0, &path, &params, &body)
    })
    .await
}

async fn v0_post_root(app: Shared, params: Params, body: Bytes) -> Response {
    v0_post(app, Path(String::new()), params, body).await
}

/// The v0 answer: the document itself, or `404 undefined_document` (logged
/// with that error, as OPA logs it).
fn v0_query(
    app: &App,
    route: &str,
    path: &str,
    params: &HashMap<String, String>,
    body: &Bytes,
) -> Response {
    if let Err(r) = exact_numbers(body) {
        return *r;
    }
    let input = if body.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        match serde_json::from_slice::<Value>(body) {
            Ok(v) => Some(v),
            Err(e) => {
                return error(
                    StatusCode::BAD_REQUEST,
                    "invalid_parameter",
                    &format!("body contains malformed input document: {e}"),
                );
            }
        }
    };
    let display_path = path.trim_matches('/');
    let started = Instant::now();
    let outcome = app.policy.evaluate(&query_of(path), input.as_ref());
    let eval_ns = elapsed_ns(started);
    let (engine, result) = match &outcome {
        Ok((answerer, Ok(result))) => (Some(answerer.engine()), result.as_ref()),
        Ok((answerer, Err(e))) => {
            return v0_error(
                app,
                route,
                Some(answerer.engine()),
                display_path,
                input.as_ref(),
                e,
                eval_ns,
            );
        }
        Err(e) => return v0_error(app, route, None, display_path, input.as_ref(), e, eval_ns),
    };
    match result {
        Some(v) => {
            if let Err(r) = log_decision(
                app,
                route,
                engine,
                display_path,
                input.as_ref(),
                Ok(Some(&logged(v))),
                eval_ns,
            ) {
                return *r;
            }
            app.metrics.decision("defined");
            match serde_json::to_value(Exact(v)) {
                Ok(v) => json_response(StatusCode::OK, &v, truthy(params, "pretty")),
                Err(e) => internal_error(&format!("result is not JSON: {e}")),
            }
        }
        None => {
            let missing = cos_policy::EventError {
                code: "undefined_document".to_owned(),
                message: format!("document missing: {}", query_of(path).replace('/', ".")),
            };
            if let Err(r) = log_decision(
                app,
                route,
                engine,
                display_path,
                input.as_ref(),
                Err(missing.clone()),
                eval_ns,
            ) {
                return *r;
            }
            app.metrics.decision("undefined");
            error(StatusCode::NOT_FOUND, &missing.code, &missing.message)
        }
    }
}

fn v0_error(
    app: &App,
    route: &str,
    engine: Option<&cos_policy::PolicyEngine>,
    path: &str,
    input: Option<&Value>,
    e: &cos_policy::Error,
    eval_ns: u64,
) -> Response {
    if let Err(r) = log_decision(app, route, engine, path, input, Err(e.into()), eval_ns) {
        return *r;
    }
    app.metrics.decision("error");
    internal_error(&e.to_string())
}

// ------------------------------------------------------------- data writes

fn write_result(r: Result<(), WriteError>, ok: StatusCode) -> Response {
    match r {
        Ok(()) if ok == StatusCode::NO_CONTENT => StatusCode::NO_CONTENT.into_response(),
        Ok(()) => json_response(ok, &json!({}), false),
        Err(WriteError::OwnedByPack(m)) | Err(WriteError::Invalid(m)) => {
            error(StatusCode::BAD_REQUEST, "invalid_parameter", &m)
        }
        Err(WriteError::NotFound(m)) => error(StatusCode::NOT_FOUND, "resource_not_found", &m),
        Err(WriteError::Compile(file, m)) => json_response(
            StatusCode::BAD_REQUEST,
            &json!({
                "code": "invalid_parameter",
                "message": "error(s) occurred while compiling module(s)",
                "errors": [{"code": "rego_compile_error", "message": m, "location": {"file": file}}],
            }),
            false,
        ),
    }
}

/// A result as the decision log and the authorization policy read it: a
/// JSON value, a number beyond 64 bits as the nearest float (as a JSON
/// reader with 64-bit numbers reads OPA's log).
fn logged(o: &Output) -> Value {
    serde_json::to_value(o).unwrap_or(Value::Null)
}

/// A result in an answer: as a JSON value when every number fits one, else
/// as its exact JSON text (big integers and exact decimals digit for digit,
/// as OPA writes them).
struct Exact<'a>(&'a Output);

impl serde::Serialize for Exact<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::Error as _;
        // Straight from the engine's values (no JSON tree on the fast path,
        // ADR-0012) when serde writes every number exactly.
        if self.0.fits_json_value() {
            return self.0.serialize(s);
        }
        let text = self.0.to_json_string().map_err(S::Error::custom)?;
        serde_json::value::RawValue::from_string(text)
            .map_err(S::Error::custom)?
            .serialize(s)
    }
}

/// A JSON number cos would round (`cos_policy::check_json_numbers`): refused with
/// 400, where OPA, which keeps the number's text, would decide on it exactly.
fn exact_numbers(text: &[u8]) -> Result<(), Box<Response>> {
    cos_policy::check_json_numbers(text).map_err(|e| {
        Box::new(error(
            StatusCode::BAD_REQUEST,
            "invalid_parameter",
            &e.to_string(),
        ))
    })
}

fn parse_json(body: &Bytes) -> Result<Value, Box<Response>> {
    exact_numbers(body)?;
    serde_json::from_slice(body).map_err(|e| {
        Box::new(error(
            StatusCode::BAD_REQUEST,
            "invalid_parameter",
            &format!("body contains malformed JSON: {e}"),
        ))
    })
}

async fn data_put_root(app: Shared, body: Bytes) -> Response {
    data_put(app, Path(String::new()), body).await
}

async fn data_put(State(app): Shared, Path(path): Path<String>, body: Bytes) -> Response {
    let value = match parse_json(&body) {
        Ok(v) => v,
        Err(r) => return *r,
    };
    off_worker(&app, move |app| {
        write_result(
            app.policy.put_data(&segments(&path), value),
            StatusCode::NO_CONTENT,
        )
    })
    .await
}

async fn data_patch_root(app: Shared, body: Bytes) -> Response {
    data_patch(app, Path(String::new()), body).await
}

async fn data_patch(State(app): Shared, Path(path): Path<String>, body: Bytes) -> Response {
    let ops = match parse_json(&body) {
        Ok(Value::Array(ops)) => ops,
        Ok(_) => {
            return error(
                StatusCode::BAD_REQUEST,
                "invalid_parameter",
                "a JSON Patch is an array of operations",
            );
        }
        Err(r) => return *r,
    };
    off_worker(&app, move |app| {
        write_result(
            app.policy.patch_data(&segments(&path), &ops),
            StatusCode::NO_CONTENT,
        )
    })
    .await
}

async fn data_delete_root(app: Shared) -> Response {
    data_delete(app, Path(String::new())).await
}

async fn data_delete(State(app): Shared, Path(path): Path<String>) -> Response {
    off_worker(&app, move |app| {
        write_result(
            app.policy.delete_data(&segments(&path)),
            StatusCode::NO_CONTENT,
        )
    })
    .await
}

// ---------------------------------------------------------------- Policy API

async fn policies_list(State(app): Shared) -> Response {
    let list: Vec<Value> = app
        .policy
        .modules()
        .into_iter()
        .map(|(id, raw)| json!({"id": id, "raw": raw}))
        .collect();
    json_response(StatusCode::OK, &json!({"result": list}), false)
}

async fn policy_get(State(app): Shared, Path(id): Path<String>) -> Response {
    match app.policy.modules().remove(&id) {
        Some(raw) => json_response(
            StatusCode::OK,
            &json!({"result": {"id": id, "raw": raw}}),
            false,
        ),
        None => error(
            StatusCode::NOT_FOUND,
            "resource_not_found",
            &format!("storage_not_found_error: policy id {id:?}"),
        ),
    }
}

async fn policy_put(State(app): Shared, Path(id): Path<String>, body: Bytes) -> Response {
    let Ok(text) = String::from_utf8(body.to_vec()) else {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_parameter",
            "the policy is not UTF-8 text",
        );
    };
    off_worker(&app, move |app| {
        write_result(app.policy.put_module(&id, text), StatusCode::OK)
    })
    .await
}

async fn policy_delete(State(app): Shared, Path(id): Path<String>) -> Response {
    off_worker(&app, move |app| {
        write_result(app.policy.delete_module(&id), StatusCode::OK)
    })
    .await
}

// -------------------------------------------------------------- health, metrics

async fn health(State(app): Shared, Query(params): Params) -> Response {
    if params.contains_key("bundles") && !app.policy.ready() {
        return json_response(
            StatusCode::INTERNAL_SERVER_ERROR,
            &json!({"error": "not all configured bundles have been activated"}),
            false,
        );
    }
    if params.contains_key("plugins") {
        let download = crate::policy::read(&app.policy.download).clone();
        if download.configured && (download.last_error.is_some() || !app.policy.ready()) {
            return json_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                &json!({"error": "not all plugins in OK state", "bundle": download.last_error}),
                false,
            );
        }
    }
    json_response(StatusCode::OK, &json!({}), false)
}

async fn healthz(State(app): Shared) -> Response {
    let status = app
        .policy
        .store
        .as_ref()
        .map(cos_policy::store::PolicyStore::status);
    let body = json!({
        "ready": app.policy.ready(),
        "pack": status.as_ref().and_then(|s| s.stable.clone()),
        "last_error": status.as_ref().and_then(|s| s.last_error.clone()),
        "download_error": crate::policy::read(&app.policy.download).last_error,
        // What the REST API wrote (`null` when nothing): while anything is,
        // decisions are not counted on the pack (`pack_accounting: false`).
        "overlay": app.policy.overlay_status(),
    });
    let code = if app.policy.ready() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    json_response(code, &body, false)
}

async fn metrics(State(app): Shared, method: Method) -> Response {
    let text = app.metrics.render(&app.policy);
    let mut r = if method == Method::HEAD {
        ().into_response()
    } else {
        text.into_response()
    };
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    r
}
