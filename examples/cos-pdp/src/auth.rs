//! Who may call what, as OPA's server decides it (`--authentication=token`,
//! `--authorization=basic`), and cos's switch for the write APIs.
//!
//! - **Token authentication** reads `Authorization: Bearer <token>` (OPA's
//!   `^Bearer\s+(\S+)$`) into the authorization input's `identity`. It
//!   checks nothing by itself: the `system.authz` policy does.
//! - **Basic authorization** evaluates `data.system.authz.allow` for every
//!   API call, with OPA's input document (`method`, `path` as segments,
//!   `params` and `headers` as lists of values, `body` for the calls that
//!   carry an input, `identity`); `true`, or `{"allowed": true}`, lets the
//!   call through, anything else is a 401 in OPA's shape. The policy is the
//!   one in force: the pack's `system.authz` package, or one written through
//!   the API (when writes are on and the policy allows it). `/livez` and
//!   `/healthz` are exempt, so that probes answer while every decision
//!   worker is busy.
//! - **Writes** (`PUT`/`PATCH`/`DELETE` on `/v1/policies` and `/v1/data`)
//!   are refused with 403 unless enabled; they are off by default when
//!   policy comes from a pack (a verified, signed source is the authority).

use std::collections::BTreeMap;

use axum::http::{HeaderMap, Method, Uri};
use serde_json::{Value, json};

/// `--authentication`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Authentication {
    /// No identity is read.
    Off,
    /// The bearer token is the identity.
    Token,
}

/// `--authorization`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Authorization {
    /// Every call is let through.
    Off,
    /// `data.system.authz.allow` decides every call.
    Basic,
}

/// `--writes`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Writes {
    /// Off when a pack source (`--pack`, `--pack-url`) is configured, else on.
    Auto,
    /// The write APIs answer.
    On,
    /// The write APIs are refused with 403.
    Off,
}

/// The document OPA's authorizer evaluates.
pub(crate) const DECISION: &str = "data.system.authz.allow";

/// Whether a call is one of the write APIs.
pub(crate) fn is_write(method: &Method, path: &str) -> bool {
    let api = path.starts_with("/v1/policies") || path.starts_with("/v1/data");
    api && matches!(*method, Method::PUT | Method::PATCH | Method::DELETE)
}

/// Calls that are never authorised by policy: the probes.
pub(crate) fn is_exempt(path: &str) -> bool {
    matches!(path, "/livez" | "/healthz")
}

/// Whether OPA's authorizer reads the body of this call into `input.body`:
/// `POST` on the Data API (v0 and v1) and `POST /`.
pub(crate) fn reads_body(method: &Method, path: &str) -> bool {
    *method == Method::POST
        && (path == "/"
            || path == ""
            || path.starts_with("/v1/data")
            || path.starts_with("/v0/data")
            || path.starts_with("/v1/query")
            || path.starts_with("/v1/compile"))
}

/// The bearer token of a request, as OPA's token identifier reads it.
pub(crate) fn bearer(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(axum::http::header::AUTHORIZATION)?.to_str().ok()?;
    let rest = value.strip_prefix("Bearer")?;
    // `\s+(\S+)$`: at least one space, then one word to the end.
    if !rest.starts_with(char::is_whitespace) {
        return None;
    }
    let token = rest.trim_start();
    (!token.is_empty() && !token.contains(char::is_whitespace)).then(|| token.to_owned())
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// `input.path`: the path split at `/`. The Policy API's segments are
/// decoded before splitting, every other API's after (so `%2F` stays
/// inside a Data API segment), as in OPA.
pub(crate) fn path_segments(path: &str) -> Option<Vec<String>> {
    if path.is_empty() {
        return Some(Vec::new());
    }
    let rest = path.strip_prefix('/').unwrap_or(path);
    if path.starts_with("/v1/policies/") || path.starts_with("/v1/compile/") {
        let decoded = percent_decode(rest)?;
        return Some(decoded.split('/').map(str::to_owned).collect());
    }
    rest.split('/').map(percent_decode).collect()
}

/// `input.params`: each query parameter with the list of its values.
fn params(uri: &Uri) -> Value {
    let mut out: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for pair in uri.query().unwrap_or_default().split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let decode = |s: &str| percent_decode(&s.replace('+', " ")).unwrap_or_else(|| s.to_owned());
        out.entry(decode(k)).or_default().push(Value::from(decode(v)));
    }
    json!(out)
}

/// `input.headers`: canonical header names (`Content-Type`) with the list
/// of their values, as Go's `http.Header`.
fn headers(h: &HeaderMap) -> Value {
    let mut out: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for (name, value) in h {
        let canonical: String = name
            .as_str()
            .split('-')
            .map(|w| {
                let mut c = w.chars();
                match c.next() {
                    Some(f) => f.to_ascii_uppercase().to_string() + c.as_str(),
                    None => String::new(),
                }
            })
            .collect::<Vec<_>>()
            .join("-");
        out.entry(canonical)
            .or_default()
            .push(Value::from(String::from_utf8_lossy(value.as_bytes()).into_owned()));
    }
    json!(out)
}

/// OPA's authorization input for one call; `None` when the path cannot be
/// decoded (OPA: 400).
pub(crate) fn input(
    method: &Method,
    uri: &Uri,
    header_map: &HeaderMap,
    body: Option<Value>,
    identity: Option<String>,
) -> Option<Value> {
    let mut input = serde_json::Map::new();
    input.insert("path".into(), json!(path_segments(uri.path())?));
    input.insert("method".into(), Value::from(method.as_str().to_ascii_uppercase()));
    input.insert("params".into(), params(uri));
    input.insert("headers".into(), headers(header_map));
    if let Some(b) = body {
        input.insert("body".into(), b);
    }
    if let Some(id) = identity {
        input.insert("identity".into(), Value::from(id));
    }
    Some(Value::Object(input))
}

/// What the authorization decision says: allowed, or the 401 message.
pub(crate) fn verdict(result: Option<&Value>) -> Result<(), String> {
    const REJECTED: &str = "request rejected by administrative policy";
    match result {
        Some(Value::Bool(true)) => Ok(()),
        Some(Value::Object(o)) => match (o.get("allowed"), o.get("reason")) {
            (Some(Value::Bool(true)), _) => Ok(()),
            (_, Some(Value::String(reason))) => Err(reason.clone()),
            _ => Err(REJECTED.to_owned()),
        },
        _ => Err(REJECTED.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn bearer_tokens_as_opa_reads_them() {
        let mut h = HeaderMap::new();
        for (value, want) in [
            ("Bearer abc", Some("abc")),
            ("Bearer    abc", Some("abc")),
            ("Bearer", None),
            ("Bearer ", None),
            ("Bearerabc", None),
            ("Bearer a b", None),
            ("Basic abc", None),
        ] {
            h.insert("authorization", HeaderValue::from_static(value));
            assert_eq!(bearer(&h).as_deref(), want, "{value}");
        }
    }

    #[test]
    fn input_document_as_opa_builds_it() {
        let mut h = HeaderMap::new();
        h.insert("content-type", HeaderValue::from_static("application/json"));
        h.append("x-many", HeaderValue::from_static("1"));
        h.append("x-many", HeaderValue::from_static("2"));
        let uri: Uri = "/v1/data/a%2Fb/c?pretty=true&x=1&x=2".parse().unwrap();
        let i = input(
            &Method::POST,
            &uri,
            &h,
            Some(json!({"input": {}})),
            Some("t0k3n".into()),
        )
        .unwrap();
        assert_eq!(
            i,
            json!({
                "path": ["v1", "data", "a/b", "c"],
                "method": "POST",
                "params": {"pretty": ["true"], "x": ["1", "2"]},
                "headers": {"Content-Type": ["application/json"], "X-Many": ["1", "2"]},
                "body": {"input": {}},
                "identity": "t0k3n",
            })
        );
        let uri: Uri = "/v1/policies/a%2Fb".parse().unwrap();
        let i = input(&Method::PUT, &uri, &HeaderMap::new(), None, None).unwrap();
        assert_eq!(i["path"], json!(["v1", "policies", "a", "b"]));
        assert_eq!(i["params"], json!({}));
        assert!(i.get("identity").is_none() && i.get("body").is_none());
        let uri: Uri = "/".parse().unwrap();
        assert_eq!(
            input(&Method::POST, &uri, &HeaderMap::new(), None, None).unwrap()["path"],
            json!([""])
        );
    }

    #[test]
    fn verdicts_and_call_kinds() {
        assert_eq!(verdict(Some(&json!(true))), Ok(()));
        assert_eq!(verdict(Some(&json!({"allowed": true}))), Ok(()));
        assert_eq!(
            verdict(Some(&json!({"allowed": false, "reason": "no token"}))),
            Err("no token".into())
        );
        for denied in [None, Some(json!(false)), Some(json!("yes")), Some(json!({}))] {
            assert!(verdict(denied.as_ref()).is_err(), "{denied:?}");
        }
        assert!(is_write(&Method::PUT, "/v1/policies/x"));
        assert!(is_write(&Method::PATCH, "/v1/data"));
        assert!(is_write(&Method::DELETE, "/v1/data/a"));
        assert!(!is_write(&Method::POST, "/v1/data/a"));
        assert!(!is_write(&Method::GET, "/v1/policies"));
        assert!(reads_body(&Method::POST, "/"));
        assert!(reads_body(&Method::POST, "/v0/data/a"));
        assert!(!reads_body(&Method::PUT, "/v1/data/a"));
        assert!(is_exempt("/livez") && !is_exempt("/health"));
    }
}
