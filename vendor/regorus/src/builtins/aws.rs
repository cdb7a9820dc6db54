// cos patch 22: `providers.aws.sign_req`, AWS Signature Version 4 as OPA
// v1.22.2 computes it (internal/providers/aws/signing_v4.go), with the
// signing time from the third argument (nanoseconds since the epoch): the
// builtin reads no clock and does no I/O.

use crate::ast::{Expr, Ref};
use crate::builtins;
use crate::builtins::utils::ensure_args_count;
use crate::lexer::Span;
use crate::value::Value;

use anyhow::{anyhow, bail, Result};
use hmac::{KeyInit, Mac};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::format;
use std::string::{String, ToString};
use std::vec::Vec;

const NAME: &str = "providers.aws.sign_req";

pub fn register(m: &mut builtins::BuiltinsMap<&'static str, builtins::BuiltinFcn>) {
    m.insert(NAME, (sign_req, 3));
}

/// http.send's request keys (OPA's `validateHTTPRequestOperand`).
const ALLOWED_REQUEST_KEYS: &[&str] = &[
    "method",
    "url",
    "body",
    "enable_redirect",
    "force_json_decode",
    "force_yaml_decode",
    "headers",
    "raw_body",
    "tls_use_system_certs",
    "tls_ca_cert",
    "tls_ca_cert_file",
    "tls_ca_cert_env_variable",
    "tls_client_cert",
    "tls_client_cert_file",
    "tls_client_cert_env_variable",
    "tls_client_key",
    "tls_client_key_file",
    "tls_client_key_env_variable",
    "tls_insecure_skip_verify",
    "tls_server_name",
    "timeout",
    "cache",
    "force_cache",
    "force_cache_duration_seconds",
    "raise_error",
    "caching_mode",
    "max_retry_attempts",
    "cache_ignored_headers",
];

const REQUIRED_AWS_KEYS: &[&str] = &[
    "aws_access_key",
    "aws_region",
    "aws_secret_access_key",
    "aws_service",
];

fn get<'a>(o: &'a BTreeMap<Value, Value>, k: &str) -> Option<&'a Value> {
    o.get(&Value::from(k))
}

fn str_of(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => s.to_string(),
        _ => String::new(),
    }
}

/// OPA prints sets of strings as `{"a", "b"}` in these messages.
fn set_text(names: &[&str]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("{n:?}")).collect();
    format!("{{{}}}", quoted.join(", "))
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn hmac256(key: &[u8], msg: &str) -> Result<Vec<u8>> {
    let mut mac = hmac::Hmac::<Sha256>::new_from_slice(key).map_err(|e| anyhow!("{e}"))?;
    mac.update(msg.as_bytes());
    Ok(mac.finalize().into_bytes().to_vec())
}

/// Go's `json.Marshal` of `ast.JSON(body)`: sorted keys, no spaces, HTML
/// characters escaped. Refused where cos cannot know OPA's text (numbers
/// that are not integers: OPA prints the literal as written).
fn go_json(v: &Value, out: &mut String) -> Result<()> {
    crate::utils::limits::check_bytes(out.len() as u128)?;
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => {
            if !n.is_integer() || matches!(n, crate::number::Number::Float(_)) {
                bail!("a body number with a fraction or an exponent (OPA signs the literal's text, which cos does not keep); cos refuses");
            }
            if let Some(i) = n.as_i64() {
                out.push_str(&i.to_string());
            } else if let Some(u) = n.as_u64() {
                out.push_str(&u.to_string());
            } else if let Some(b) = n.as_big() {
                out.push_str(&b.to_string());
            } else {
                bail!("a body number cos cannot print as OPA does");
            }
        }
        Value::String(s) => go_json_string(s, out),
        Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                go_json(x, out)?;
            }
            out.push(']');
        }
        Value::Set(s) => {
            out.push('[');
            for (i, x) in s.iter().enumerate() {
                if !matches!(
                    x,
                    Value::Null | Value::Bool(_) | Value::Number(_) | Value::String(_)
                ) {
                    bail!("a body set holding arrays, objects or sets (OPA's order of them is not cos's)");
                }
                if i > 0 {
                    out.push(',');
                }
                go_json(x, out)?;
            }
            out.push(']');
        }
        Value::Object(o) => {
            out.push('{');
            for (i, (k, x)) in o.iter().enumerate() {
                let Value::String(k) = k else {
                    bail!("body: object key must be string");
                };
                if i > 0 {
                    out.push(',');
                }
                go_json_string(k, out);
                out.push(':');
                go_json(x, out)?;
            }
            out.push('}');
        }
        Value::Undefined => bail!("body: undefined value"),
    }
    Ok(())
}

fn go_json_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

fn object_of(v: &Value) -> Option<BTreeMap<Value, Value>> {
    match v {
        Value::Object(o) => Some(o.iter().map(|(k, v)| (k.clone(), v.clone())).collect()),
        _ => None,
    }
}

fn sign_req(span: &Span, params: &[Ref<Expr>], args: &[Value], _strict: bool) -> Result<Value> {
    ensure_args_count(span, NAME, params, args, 3)?;
    let err = |msg: String| anyhow!(span.error(&format!("{NAME}: {msg}")));
    let Some(req) = object_of(&args[0]) else {
        return Err(err("operand 1 must be object".into()));
    };
    let Some(cfg) = object_of(&args[1]) else {
        return Err(err("operand 1 must be object".into()));
    };
    let missing: Vec<&str> = REQUIRED_AWS_KEYS
        .iter()
        .copied()
        .filter(|k| get(&cfg, k).is_none())
        .collect();
    if !missing.is_empty() {
        return Err(err(format!(
            "operand 2 missing required AWS config parameters(s): {}",
            set_text(&missing)
        )));
    }
    let invalid: Vec<&str> = REQUIRED_AWS_KEYS
        .iter()
        .copied()
        .filter(|k| !matches!(get(&cfg, k), Some(Value::String(_))))
        .collect();
    if !invalid.is_empty() {
        return Err(err(format!(
            "operand 2 invalid values for required AWS config parameters(s): {}",
            set_text(&invalid)
        )));
    }
    let service = str_of(get(&cfg, "aws_service"));
    let access_key = str_of(get(&cfg, "aws_access_key"));
    let secret_key = str_of(get(&cfg, "aws_secret_access_key"));
    let region = str_of(get(&cfg, "aws_region"));
    let session_token = str_of(get(&cfg, "aws_session_token"));

    let Value::Number(ts) = &args[2] else {
        return Err(err("operand 1 must be number".into()));
    };
    // OPA converts the number's text with strconv.ParseInt: a literal with
    // a fraction or an exponent (regorus's Float) is refused even when it
    // is whole (-1e9).
    let is_float = matches!(ts, crate::number::Number::Float(_));
    let Some(ts) = ts.as_i64().filter(|_| ts.is_integer() && !is_float) else {
        return Err(err(
            "operand 3 could not convert time_ns value into a unix timestamp".into(),
        ));
    };

    let mut invalid_keys: Vec<&str> = Vec::new();
    for k in req.keys() {
        match k {
            Value::String(s) if ALLOWED_REQUEST_KEYS.contains(&s.as_ref()) => {}
            Value::String(s) => invalid_keys.push(s),
            _ => return Err(err("operand 1 invalid request parameters(s)".into())),
        }
    }
    if !invalid_keys.is_empty() {
        return Err(err(format!(
            "operand 1 invalid request parameters(s): {}",
            set_text(&invalid_keys)
        )));
    }
    let missing: Vec<&str> = ["method", "url"]
        .into_iter()
        .filter(|k| get(&req, k).is_none())
        .collect();
    if !missing.is_empty() {
        return Err(err(format!(
            "operand 1 missing required request parameters(s): {}",
            set_text(&missing)
        )));
    }

    let headers = match get(&req, "headers") {
        None => BTreeMap::new(),
        Some(h) => match object_of(h) {
            Some(h) => h,
            None => return Err(err("operand 0 must be object".into())),
        },
    };
    let mut invalid: Vec<&str> = Vec::new();
    if !matches!(get(&req, "method"), Some(Value::String(_))) {
        invalid.push("method");
    }
    if !matches!(get(&req, "url"), Some(Value::String(_))) {
        invalid.push("url");
    }
    if !invalid.is_empty() {
        return Err(err(format!(
            "operand 1 invalid values for required request parameters(s): {}",
            set_text(&invalid)
        )));
    }
    let raw_url = str_of(get(&req, "url"));
    let method = str_of(get(&req, "method"));
    let (host, escaped_path, raw_query) = super::uri::sign_parts(&raw_url).map_err(err)?;

    let body: Vec<u8> = match (get(&req, "raw_body"), get(&req, "body")) {
        (Some(raw), _) => str_of(Some(raw)).into_bytes(),
        (None, Some(b)) => {
            let mut s = String::new();
            go_json(b, &mut s).map_err(|e| {
                if e.downcast_ref::<crate::LimitError>().is_some() {
                    return e;
                }
                err(format!("{e}"))
            })?;
            s.into_bytes()
        }
        (None, None) => Vec::new(),
    };

    // The request's headers, values as strings (OPA reads any other value
    // as ""), and lowercased for signing.
    let mut original: Vec<(String, String)> = Vec::new();
    for (k, v) in &headers {
        let Value::String(k) = k else {
            return Err(err(
                "a header name that is not a string (OPA's answer depends on Go's map order); cos refuses".into(),
            ));
        };
        original.push((k.to_string(), str_of(Some(v))));
    }
    let disable_payload_signing = match get(&cfg, "disable_payload_signing") {
        None => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => {
            return Err(err(
                "operand 2 invalid value for 'disable_payload_signing' in AWS config".into(),
            ))
        }
    };

    let content_sha = if disable_payload_signing {
        "UNSIGNED-PAYLOAD".to_string()
    } else {
        hex(&Sha256::digest(&body))
    };
    let now = chrono::DateTime::from_timestamp_nanos(ts);
    let date = now.format("%Y%m%d").to_string();
    let stamp = now.format("%Y%m%dT%H%M%SZ").to_string();

    let mut aws_headers: BTreeMap<String, String> = BTreeMap::new();
    aws_headers.insert("host".into(), host);
    aws_headers.insert("x-amz-date".into(), stamp.clone());
    if service == "s3" || service == "glacier" {
        aws_headers.insert("x-amz-content-sha256".into(), content_sha.clone());
    }
    if !session_token.is_empty() {
        aws_headers.insert("x-amz-security-token".into(), session_token);
    }
    let mut to_sign = aws_headers.clone();
    let mut lowered = std::collections::BTreeSet::new();
    for (k, v) in &original {
        if !k.is_ascii() {
            return Err(err(
                "a header name that is not ASCII (Go's and Rust's lowercasing differ); cos refuses"
                    .into(),
            ));
        }
        let lk = k.to_ascii_lowercase();
        if !lowered.insert(lk.clone()) {
            return Err(err(format!(
                "headers whose names differ only in case ({lk}): OPA's signature depends on Go's map order; cos refuses"
            )));
        }
        if !matches!(
            lk.as_str(),
            "authorization" | "user-agent" | "x-amzn-trace-id"
        ) {
            to_sign.insert(lk, v.clone());
        }
    }

    let mut canonical = String::new();
    canonical.push_str(&method);
    canonical.push('\n');
    canonical.push_str(&escaped_path);
    canonical.push('\n');
    canonical.push_str(&raw_query);
    canonical.push('\n');
    for (k, v) in &to_sign {
        canonical.push_str(k);
        canonical.push(':');
        canonical.push_str(v);
        canonical.push('\n');
    }
    canonical.push('\n');
    let header_list: Vec<&str> = to_sign.keys().map(String::as_str).collect();
    let header_list = header_list.join(";");
    canonical.push_str(&header_list);
    canonical.push('\n');
    canonical.push_str(&content_sha);

    let scope = format!("{date}/{region}/{service}/aws4_request");
    let to_sign_str = format!(
        "AWS4-HMAC-SHA256\n{stamp}\n{scope}\n{}",
        hex(&Sha256::digest(canonical.as_bytes()))
    );
    let mut key = hmac256(format!("AWS4{secret_key}").as_bytes(), &date)?;
    key = hmac256(&key, &region)?;
    key = hmac256(&key, &service)?;
    key = hmac256(&key, "aws4_request")?;
    let signature = hex(&hmac256(&key, &to_sign_str)?);
    let auth = format!(
        "AWS4-HMAC-SHA256 Credential={access_key}/{scope},SignedHeaders={header_list},Signature={signature}"
    );

    let mut out_headers: BTreeMap<Value, Value> = BTreeMap::new();
    for (k, v) in original {
        out_headers.insert(Value::from(k), Value::from(v));
    }
    out_headers.insert(Value::from("Authorization"), Value::from(auth));
    for (k, v) in aws_headers {
        out_headers.insert(Value::from(k), Value::from(v));
    }
    let mut out = req;
    out.insert(Value::from("headers"), Value::from(out_headers));
    Ok(Value::from(out))
}
