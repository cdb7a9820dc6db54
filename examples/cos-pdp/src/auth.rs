//! Who may call what, as OPA's server decides it: `--authentication`
//! (who the caller is: a bearer token or a client certificate),
//! `--authorization=basic` (a
//! `data.system.authz.allow` policy decides every API call, given OPA's
//! input document), and `--writes` (whether the write APIs are open at all).
//!
//! The input document is OPA's (v1.22.2 `v1/server/authorizer`):
//! `path` (segments; the Policy API's decoded before the split, the rest
//! split first and each segment decoded), `method` (upper case), `params`
//! and `headers` (lists of values, header names in Go's canonical form,
//! `Host` left out as Go's server leaves it out), `body` (for `POST /`,
//! `POST /v{0,1}/data…`, `/v1/query`, `/v1/compile`) and `identity` (the
//! bearer token, or the subject of a verified client certificate:
//! `--authentication` is in auth_flags.rs). See docs/cos-pdp.md, "Authentication and authorisation".

use std::collections::BTreeMap;

use axum::http::{HeaderMap, Method, Uri};
use serde_json::{Map, Value};

/// `--authorization`: what decides whether a call may proceed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Authorization {
    /// Every call proceeds.
    Off,
    /// `data.system.authz.allow` decides every call but `/livez`.
    Basic,
}

/// `--writes`: whether `PUT`, `PATCH` and `DELETE` on `/v1/policies` and
/// `/v1/data` are served.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Writes {
    /// Off when a pack source (`--pack`, `--pack-url`) is configured, else on.
    Auto,
    /// Served (under the pack's roots they are still refused).
    On,
    /// Refused with 403.
    Off,
}

impl Writes {
    /// Whether writes are served, given whether a pack source is configured.
    pub(crate) fn enabled(self, pack_source: bool) -> bool {
        match self {
            Writes::Auto => !pack_source,
            Writes::On => true,
            Writes::Off => false,
        }
    }
}

/// The decision OPA's basic authoriser queries.
pub(crate) const DECISION: &str = "data/system/authz/allow";

/// Whether a request is one of the write APIs `--writes` switches.
pub(crate) fn is_write(method: &Method, path: &str) -> bool {
    let api = |root: &str| {
        path.strip_prefix(root)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    };
    matches!(*method, Method::PUT | Method::PATCH | Method::DELETE)
        && (api("/v1/policies") || api("/v1/data"))
}

/// The bearer token of an `Authorization` header, as OPA's token
/// identifier reads it: `^Bearer\s+(\S+)$` on the first such header.
pub(crate) fn bearer_token(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(axum::http::header::AUTHORIZATION)?;
    let text = String::from_utf8_lossy(value.as_bytes());
    let rest = text.strip_prefix("Bearer")?;
    let token = rest.trim_start_matches(is_go_space);
    if token.len() == rest.len() || token.is_empty() || token.contains(is_go_space) {
        return None;
    }
    Some(token.to_owned())
}

/// Go's `\s` (RE2's Perl class): tab, line feed, form feed, carriage return, space.
fn is_go_space(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\x0c' | '\r' | ' ')
}

/// A request that cannot be turned into the authoriser's input: OPA's
/// `400 invalid_parameter`, with this message.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct BadRequest(pub(crate) String);

/// Whether the authoriser reads this request's body into `input.body`.
pub(crate) fn expects_body(method: &Method, segments: &[String]) -> bool {
    if *method != Method::POST || segments.is_empty() {
        return false;
    }
    if segments.len() == 1 {
        return segments[0].is_empty();
    }
    matches!(
        (segments[0].as_str(), segments[1].as_str()),
        ("v0", "data") | ("v1", "data") | ("v1", "compile") | ("v1", "query")
    )
}

/// `input.path`: the Policy and Compile APIs' paths decoded, then split;
/// every other path split, then each segment decoded.
pub(crate) fn path_segments(uri: &Uri) -> Result<Vec<String>, BadRequest> {
    let raw = uri.path();
    let Some(rest) = raw.strip_prefix('/') else {
        return Ok(Vec::new());
    };
    let decoded = unescape(raw, false)?;
    if ["/v1/policies/", "/v1/compile/"]
        .iter()
        .any(|p| decoded.starts_with(p))
    {
        return Ok(decoded[1..].split('/').map(str::to_owned).collect());
    }
    rest.split('/').map(|s| unescape(s, false)).collect()
}

/// `input.params`: Go's `url.ParseQuery`, ignoring the pairs it refuses
/// (as `URL.Query` does).
pub(crate) fn query_params(uri: &Uri) -> BTreeMap<String, Vec<String>> {
    let mut params: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let Some(query) = uri.query() else {
        return params;
    };
    for pair in query.split('&') {
        if pair.is_empty() || pair.contains(';') {
            continue;
        }
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        if let (Ok(k), Ok(v)) = (unescape(k, true), unescape(v, true)) {
            params.entry(k).or_default().push(v);
        }
    }
    params
}

/// `input.headers`: every header but `Host`, names in Go's canonical form
/// (`content-type` is `Content-Type`), values in order.
pub(crate) fn header_lists(headers: &HeaderMap) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (name, value) in headers {
        if name == axum::http::header::HOST {
            continue;
        }
        out.entry(canonical_header(name.as_str()))
            .or_default()
            .push(String::from_utf8_lossy(value.as_bytes()).into_owned());
    }
    out
}

/// Go's `textproto.CanonicalMIMEHeaderKey` of a (valid, lower-case) name.
fn canonical_header(name: &str) -> String {
    let mut upper = true;
    name.chars()
        .map(|c| {
            let c = if upper {
                c.to_ascii_uppercase()
            } else {
                c.to_ascii_lowercase()
            };
            upper = c == '-';
            c
        })
        .collect()
}

/// Percent-decoding as Go's `url.PathUnescape` (`query: false`) or
/// `url.QueryUnescape` (`query: true`, where `+` is a space): a `%` not
/// followed by two hex digits is an error.
fn unescape(s: &str, query: bool) -> Result<String, BadRequest> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = bytes.get(i + 1..i + 3).and_then(|h| {
                    let h = std::str::from_utf8(h).ok()?;
                    u8::from_str_radix(h, 16)
                        .ok()
                        .filter(|_| !h.starts_with('+'))
                });
                let Some(b) = hex else {
                    let bad: String = s[i..].chars().take(3).collect();
                    return Err(BadRequest(format!(
                        "invalid URL escape {}",
                        serde_json::to_string(&bad).unwrap_or_default()
                    )));
                };
                out.push(b);
                i += 3;
            }
            b'+' if query => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    Ok(String::from_utf8_lossy(&out).into_owned())
}

/// OPA's authoriser input for a request whose body (when
/// [`expects_body`]) has been read.
pub(crate) fn input(
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    segments: Vec<String>,
    body: Option<Value>,
    identity: Option<String>,
) -> Value {
    let mut input = Map::new();
    input.insert(
        "path".into(),
        Value::Array(segments.into_iter().map(Value::String).collect()),
    );
    input.insert(
        "method".into(),
        Value::String(method.as_str().to_ascii_uppercase()),
    );
    input.insert("params".into(), lists(query_params(uri)));
    input.insert("headers".into(), lists(header_lists(headers)));
    if let Some(body) = body {
        input.insert("body".into(), body);
    }
    if let Some(identity) = identity {
        input.insert("identity".into(), Value::String(identity));
    }
    Value::Object(input)
}

fn lists(m: BTreeMap<String, Vec<String>>) -> Value {
    Value::Object(
        m.into_iter()
            .map(|(k, v)| (k, Value::Array(v.into_iter().map(Value::String).collect())))
            .collect(),
    )
}

/// What the authorisation decision says about a call.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// The call proceeds.
    Allow,
    /// `401 unauthorized` with this message.
    Deny(String),
    /// `500 internal_error` with this message.
    Fail(String),
}

/// OPA's default refusal message.
pub(crate) const REJECTED: &str = "request rejected by administrative policy";

/// OPA's reading of `data.system.authz.allow`: `true`, or an object whose
/// `allowed` is `true`, lets the call through; an object with a string
/// `reason` gives the refusal's message; undefined, or an object without
/// `allowed`, is a 500.
pub(crate) fn verdict(result: Option<&Value>) -> Verdict {
    match result {
        None => Verdict::Fail("authorization policy missing or undefined".into()),
        Some(Value::Bool(true)) => Verdict::Allow,
        Some(Value::Object(m)) => match m.get("allowed") {
            Some(Value::Bool(true)) => Verdict::Allow,
            Some(_) => match m.get("reason") {
                Some(Value::String(reason)) => Verdict::Deny(reason.clone()),
                _ => Verdict::Deny(REJECTED.into()),
            },
            None => Verdict::Fail("document missing or undefined".into()),
        },
        Some(_) => Verdict::Deny(REJECTED.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn uri(s: &str) -> Uri {
        s.parse().unwrap()
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn bearer_tokens_as_opa_reads_them() {
        let t = |v: &str| bearer_token(&headers(&[("authorization", v)]));
        assert_eq!(t("Bearer abc").as_deref(), Some("abc"));
        assert_eq!(t("Bearer \t abc").as_deref(), Some("abc"));
        assert_eq!(t("Bearer abc def"), None);
        assert_eq!(t("Bearerabc"), None);
        assert_eq!(t("bearer abc"), None);
        assert_eq!(t("Bearer "), None);
        assert_eq!(t("Basic dXNlcjpwYXNz"), None);
        assert_eq!(bearer_token(&HeaderMap::new()), None);
        // The first Authorization header is the one read.
        let two = headers(&[("authorization", "Basic x"), ("authorization", "Bearer y")]);
        assert_eq!(bearer_token(&two), None);
    }

    #[test]
    fn paths_split_and_decode_as_opa_does() {
        let p = |s: &str| path_segments(&uri(s)).unwrap();
        assert_eq!(p("/"), vec![""]);
        assert_eq!(p("/v1/data"), vec!["v1", "data"]);
        assert_eq!(p("/v1/data/"), vec!["v1", "data", ""]);
        // A data path: split, then each segment decoded (%2F stays in its segment).
        assert_eq!(p("/v1/data/a%2Fb/c+d"), vec!["v1", "data", "a/b", "c+d"]);
        // A policy id: decoded, then split.
        assert_eq!(p("/v1/policies/a%2Fb"), vec!["v1", "policies", "a", "b"]);
        assert_eq!(
            path_segments(&uri("/v1/data/%zz")),
            Err(BadRequest("invalid URL escape \"%zz\"".into()))
        );
    }

    #[test]
    fn params_and_headers_are_lists() {
        let q = query_params(&uri("/v1/data?a=1&a=2&b&c=x+y%21&bad=%zz&semi=1;2&&"));
        assert_eq!(q["a"], vec!["1", "2"]);
        assert_eq!(q["b"], vec![""]);
        assert_eq!(q["c"], vec!["x y!"]);
        assert!(!q.contains_key("bad") && !q.contains_key("semi"));
        assert!(query_params(&uri("/v1/data")).is_empty());
        let h = header_lists(&headers(&[
            ("host", "x"),
            ("x-api-key", "1"),
            ("x-api-key", "2"),
            ("content-type", "application/json"),
        ]));
        assert_eq!(
            h.keys().collect::<Vec<_>>(),
            vec!["Content-Type", "X-Api-Key"]
        );
        assert_eq!(h["X-Api-Key"], vec!["1", "2"]);
    }

    #[test]
    fn bodies_are_read_for_the_query_apis_only() {
        let s = |p: &[&str]| p.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert!(expects_body(&Method::POST, &s(&[""])));
        assert!(expects_body(&Method::POST, &s(&["v1", "data", "x"])));
        assert!(expects_body(&Method::POST, &s(&["v0", "data"])));
        assert!(expects_body(&Method::POST, &s(&["v1", "compile"])));
        assert!(!expects_body(&Method::PUT, &s(&["v1", "data", "x"])));
        assert!(!expects_body(&Method::POST, &s(&["v1", "policies", "x"])));
        assert!(!expects_body(&Method::POST, &s(&["health"])));
    }

    #[test]
    fn the_input_document() {
        let h = headers(&[("authorization", "Bearer t")]);
        let u = uri("/v1/data/x?pretty");
        let doc = input(
            &Method::POST,
            &u,
            &h,
            path_segments(&u).unwrap(),
            Some(json!({"input": 1})),
            bearer_token(&h),
        );
        assert_eq!(
            doc,
            json!({
                "path": ["v1", "data", "x"], "method": "POST",
                "params": {"pretty": [""]}, "headers": {"Authorization": ["Bearer t"]},
                "body": {"input": 1}, "identity": "t",
            })
        );
    }

    #[test]
    fn verdicts_as_opa_reads_them() {
        assert_eq!(verdict(Some(&json!(true))), Verdict::Allow);
        assert_eq!(verdict(Some(&json!({"allowed": true}))), Verdict::Allow);
        assert_eq!(verdict(Some(&json!(false))), Verdict::Deny(REJECTED.into()));
        assert_eq!(verdict(Some(&json!("yes"))), Verdict::Deny(REJECTED.into()));
        assert_eq!(
            verdict(Some(&json!({"allowed": false, "reason": "no token"}))),
            Verdict::Deny("no token".into())
        );
        assert_eq!(
            verdict(Some(&json!({"allowed": 1, "reason": 2}))),
            Verdict::Deny(REJECTED.into())
        );
        assert!(matches!(
            verdict(Some(&json!({"reason": "x"}))),
            Verdict::Fail(_)
        ));
        assert!(matches!(verdict(None), Verdict::Fail(_)));
    }

    #[test]
    fn the_write_switch_covers_the_write_apis() {
        assert!(is_write(&Method::PUT, "/v1/policies/x"));
        assert!(is_write(&Method::DELETE, "/v1/data"));
        assert!(is_write(&Method::PATCH, "/v1/data/a/b"));
        assert!(!is_write(&Method::POST, "/v1/data/a"));
        assert!(!is_write(&Method::GET, "/v1/policies"));
        assert!(!is_write(&Method::PUT, "/v1/datax"));
        assert!(Writes::Auto.enabled(false) && !Writes::Auto.enabled(true));
        assert!(Writes::On.enabled(true) && !Writes::Off.enabled(false));
    }
}
