// cos patch 22: `uri.parse` and `uri.is_valid`, as OPA v1.22.2 computes them
// with Go's `net/url.Parse` (go 1.26: strict colons in http(s) hosts).

use crate::ast::{Expr, Ref};
use crate::builtins;
use crate::builtins::utils::{ensure_args_count, ensure_string};
use crate::lexer::Span;
use crate::value::Value;

use anyhow::{bail, Result};
use std::collections::BTreeMap;
use std::format;
use std::string::{String, ToString};
use std::vec::Vec;

pub fn register(m: &mut builtins::BuiltinsMap<&'static str, builtins::BuiltinFcn>) {
    m.insert("uri.parse", (uri_parse, 1));
    m.insert("uri.is_valid", (uri_is_valid, 1));
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Path,
    Host,
    Zone,
    UserPassword,
    Fragment,
}

fn should_escape(c: u8, mode: Mode) -> bool {
    if c.is_ascii_alphanumeric() {
        return false;
    }
    if matches!(mode, Mode::Host | Mode::Zone)
        && matches!(
            c,
            b'!' | b'$'
                | b'&'
                | b'\''
                | b'('
                | b')'
                | b'*'
                | b'+'
                | b','
                | b';'
                | b'='
                | b':'
                | b'['
                | b']'
                | b'<'
                | b'>'
                | b'"'
        )
    {
        return false;
    }
    match c {
        b'-' | b'_' | b'.' | b'~' => return false,
        b'$' | b'&' | b'+' | b',' | b'/' | b':' | b';' | b'=' | b'?' | b'@' => match mode {
            Mode::Path => return c == b'?',
            Mode::UserPassword => return matches!(c, b'@' | b'/' | b'?' | b':'),
            Mode::Fragment => return false,
            _ => {}
        },
        _ => {}
    }
    if mode == Mode::Fragment && matches!(c, b'!' | b'(' | b')' | b'*') {
        return false;
    }
    true
}

fn unhex(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        _ => c.wrapping_sub(b'A').wrapping_add(10),
    }
}

/// Go's `unescape` (no query modes: '+' stays '+').
fn unescape(s: &str, mode: Mode) -> Result<Vec<u8>, String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                if i + 2 >= b.len()
                    || !b[i + 1].is_ascii_hexdigit()
                    || !b[i + 2].is_ascii_hexdigit()
                {
                    let end = (i + 3).min(b.len());
                    let bad = String::from_utf8_lossy(&b[i..end]).into_owned();
                    return Err(format!("invalid URL escape {bad:?}"));
                }
                let v = unhex(b[i + 1]) << 4 | unhex(b[i + 2]);
                let seq = &b[i..i + 3];
                if mode == Mode::Host && unhex(b[i + 1]) < 8 && seq != b"%25" {
                    return Err(format!(
                        "invalid URL escape {:?}",
                        String::from_utf8_lossy(seq)
                    ));
                }
                if mode == Mode::Zone && seq != b"%25" && v != b' ' && should_escape(v, Mode::Host)
                {
                    return Err(format!(
                        "invalid URL escape {:?}",
                        String::from_utf8_lossy(seq)
                    ));
                }
                out.push(v);
                i += 3;
            }
            c => {
                if matches!(mode, Mode::Host | Mode::Zone) && c < 0x80 && should_escape(c, mode) {
                    return Err(format!(
                        "invalid character {:?} in host name",
                        (c as char).to_string()
                    ));
                }
                out.push(c);
                i += 1;
            }
        }
    }
    // Go strings hold bytes: the caller checks UTF-8 where a value is made.
    Ok(out)
}

fn escape(s: &[u8], mode: Mode) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    for &c in s {
        if should_escape(c, mode) {
            out.extend_from_slice(format!("%{c:02X}").as_bytes());
        } else {
            out.push(c);
        }
    }
    out
}

fn valid_optional_port(port: &str) -> bool {
    if port.is_empty() {
        return true;
    }
    let Some(rest) = port.strip_prefix(':') else {
        return false;
    };
    rest.bytes().all(|b| b.is_ascii_digit())
}

fn valid_userinfo(s: &str) -> bool {
    s.chars().all(|r| {
        r.is_ascii_alphanumeric()
            || matches!(
                r,
                '-' | '.'
                    | '_'
                    | ':'
                    | '~'
                    | '!'
                    | '$'
                    | '&'
                    | '\''
                    | '('
                    | ')'
                    | '*'
                    | '+'
                    | ','
                    | ';'
                    | '='
                    | '%'
                    | '@'
            )
    })
}

/// `netip.ParseAddr` of a bracketed host: Some(is4).
fn parse_netip(s: &[u8]) -> Result<bool, String> {
    let Ok(s) = core::str::from_utf8(s) else {
        return Err("ParseAddr: unable to parse IP".into());
    };
    let (addr, zone) = match s.split_once('%') {
        Some((a, z)) => (a, Some(z)),
        None => (s, None),
    };
    if zone.is_none() && addr.parse::<core::net::Ipv4Addr>().is_ok() {
        return Ok(true);
    }
    if addr.parse::<core::net::Ipv6Addr>().is_ok() {
        if zone == Some("") {
            return Err(format!("ParseAddr({s:?}): zone must be a non-empty string"));
        }
        return Ok(false);
    }
    Err(format!("ParseAddr({s:?}): unable to parse IP"))
}

fn parse_host(scheme: &str, host: &str) -> Result<Vec<u8>, String> {
    if let Some(open) = host.rfind('[') {
        if open > 0 {
            return Err("invalid IP-literal".into());
        }
        let close = host.rfind(']').ok_or("missing ']' in host")?;
        let colon_port = &host[close + 1..];
        if !valid_optional_port(colon_port) {
            return Err(format!("invalid port {colon_port:?} after host"));
        }
        let colon_port = unescape(colon_port, Mode::Host)?;
        let hostname = host.get(1..close).ok_or("invalid IP-literal")?;
        let unescaped = match hostname.find("%25") {
            Some(z) => {
                let mut h = unescape(&hostname[..z], Mode::Host)?;
                h.extend(unescape(&hostname[z..], Mode::Zone)?);
                h
            }
            None => unescape(hostname, Mode::Host)?,
        };
        if parse_netip(&unescaped).map_err(|e| format!("invalid host: {e}"))? {
            return Err("invalid IP-literal".into());
        }
        let mut out = Vec::from(*b"[");
        out.extend(unescaped);
        out.push(b']');
        out.extend(colon_port);
        return Ok(out);
    } else if let Some(mut i) = host.find(':') {
        let last = host.rfind(':').unwrap_or(i);
        if last != i && scheme != "http" && scheme != "https" {
            i = last;
        }
        let colon_port = &host[i..];
        if !valid_optional_port(colon_port) {
            return Err(format!("invalid port {colon_port:?} after host"));
        }
    }
    unescape(host, Mode::Host)
}

#[derive(Default)]
struct Url {
    scheme: String,
    host: Vec<u8>,
    path: Vec<u8>,
    raw_path: String,
    raw_query: String,
    fragment: Vec<u8>,
}

fn parse_authority(scheme: &str, authority: &str) -> Result<Vec<u8>, String> {
    let at = authority.rfind('@');
    let host = match at {
        None => parse_host(scheme, authority)?,
        Some(i) => parse_host(scheme, &authority[i + 1..])?,
    };
    if let Some(i) = at {
        let userinfo = &authority[..i];
        if !valid_userinfo(userinfo) {
            return Err("net/url: invalid userinfo".into());
        }
        match userinfo.split_once(':') {
            None => {
                unescape(userinfo, Mode::UserPassword)?;
            }
            Some((u, p)) => {
                unescape(u, Mode::UserPassword)?;
                unescape(p, Mode::UserPassword)?;
            }
        }
    }
    Ok(host)
}

fn get_scheme(raw: &str) -> Result<(&str, &str), String> {
    for (i, c) in raw.bytes().enumerate() {
        match c {
            b'a'..=b'z' | b'A'..=b'Z' => {}
            b'0'..=b'9' | b'+' | b'-' | b'.' => {
                if i == 0 {
                    return Ok(("", raw));
                }
            }
            b':' => {
                if i == 0 {
                    return Err("missing protocol scheme".into());
                }
                return Ok((&raw[..i], &raw[i + 1..]));
            }
            _ => return Ok(("", raw)),
        }
    }
    Ok(("", raw))
}

fn parse_inner(raw: &str) -> Result<Url, String> {
    if raw.bytes().any(|b| b < b' ' || b == 0x7f) {
        return Err("net/url: invalid control character in URL".into());
    }
    let mut url = Url::default();
    if raw == "*" {
        url.path = b"*".to_vec();
        return Ok(url);
    }
    let (scheme, rest) = get_scheme(raw)?;
    url.scheme = scheme.to_ascii_lowercase();
    let mut rest: &str = rest;
    if rest.ends_with('?') && rest.matches('?').count() == 1 {
        rest = &rest[..rest.len() - 1];
    } else if let Some((r, q)) = rest.split_once('?') {
        rest = r;
        url.raw_query = q.into();
    }
    if !rest.starts_with('/') {
        if !url.scheme.is_empty() {
            // Opaque: OPA reports neither host nor path.
            return Ok(url);
        }
        let segment = rest.split('/').next().unwrap_or("");
        if segment.contains(':') {
            return Err("first path segment in URL cannot contain colon".into());
        }
    }
    if (!url.scheme.is_empty() || !rest.starts_with("///")) && rest.starts_with("//") {
        let authority_rest = &rest[2..];
        let (authority, r) = match authority_rest.find('/') {
            Some(i) => (&authority_rest[..i], &authority_rest[i..]),
            None => (authority_rest, ""),
        };
        url.host = parse_authority(&url.scheme, authority)?;
        rest = r;
    }
    url.path = unescape(rest, Mode::Path)?;
    url.raw_path = if escape(&url.path, Mode::Path) == rest.as_bytes() {
        String::new()
    } else {
        rest.into()
    };
    Ok(url)
}

/// Go's `url.Parse`.
fn parse(raw: &str) -> Result<Url, String> {
    let (u, frag) = match raw.split_once('#') {
        Some((u, f)) => (u, Some(f)),
        None => (raw, None),
    };
    let mut url = parse_inner(u).map_err(|e| format!("parse {u:?}: {e}"))?;
    if let Some(f) = frag {
        if !f.is_empty() {
            url.fragment =
                unescape(f, Mode::Fragment).map_err(|e| format!("parse {raw:?}: {e}"))?;
        }
    }
    Ok(url)
}

/// `splitHostPort` of net/url.
fn split_host_port(host_port: &[u8]) -> (&[u8], &[u8]) {
    let mut host = host_port;
    let mut port: &[u8] = b"";
    if let Some(colon) = host.iter().rposition(|b| *b == b':') {
        let rest = &host[colon + 1..];
        if rest.iter().all(u8::is_ascii_digit) {
            port = rest;
            host = &host[..colon];
        }
    }
    if host.len() >= 2 && host.starts_with(b"[") && host.ends_with(b"]") {
        host = &host[1..host.len() - 1];
    }
    (host, port)
}

fn uri_parse(span: &Span, params: &[Ref<Expr>], args: &[Value], _strict: bool) -> Result<Value> {
    ensure_args_count(span, "uri.parse", params, args, 1)?;
    let s = ensure_string("uri.parse", &params[0], &args[0])?;
    let url = match parse(&s) {
        Ok(u) => u,
        Err(e) => bail!(span.error(&format!("uri.parse: {e}"))),
    };
    let mut obj = BTreeMap::new();
    let mut bad_utf8 = false;
    let mut put = |k: &str, v: &[u8]| {
        if !v.is_empty() {
            match core::str::from_utf8(v) {
                Ok(v) => {
                    obj.insert(Value::from(k), Value::from(v));
                }
                Err(_) => bad_utf8 = true,
            }
        }
    };
    put("scheme", url.scheme.as_bytes());
    let (hostname, port) = split_host_port(&url.host);
    put("hostname", hostname);
    put("port", port);
    if !url.path.is_empty() {
        put("path", &url.path);
        if url.raw_path.is_empty() {
            put("raw_path", &url.path);
        } else {
            put("raw_path", url.raw_path.as_bytes());
        }
    }
    put("raw_query", url.raw_query.as_bytes());
    put("fragment", &url.fragment);
    if bad_utf8 {
        // A Go string holds any bytes; a Rego value here is UTF-8.
        bail!(span.error(
            "uri.parse: a component's escapes decode to bytes that are not UTF-8 (OPA keeps them raw); cos refuses"
        ));
    }
    Ok(Value::from(obj))
}

fn uri_is_valid(span: &Span, params: &[Ref<Expr>], args: &[Value], _strict: bool) -> Result<Value> {
    ensure_args_count(span, "uri.is_valid", params, args, 1)?;
    let Value::String(s) = &args[0] else {
        return Ok(Value::Bool(false));
    };
    Ok(Value::Bool(!s.is_empty() && parse(s).is_ok()))
}

fn valid_encoded(s: &str, mode: Mode) -> bool {
    s.bytes().all(|c| {
        matches!(
            c,
            b'!' | b'$'
                | b'&'
                | b'\''
                | b'('
                | b')'
                | b'*'
                | b'+'
                | b','
                | b';'
                | b'='
                | b':'
                | b'@'
                | b'['
                | b']'
                | b'%'
        ) || !should_escape(c, mode)
    })
}

/// What `providers.aws.sign_req` reads of a URL: Go's `URL.Host`,
/// `URL.EscapedPath()` and `URL.RawQuery`.
pub(crate) fn sign_parts(raw: &str) -> Result<(String, String, String), String> {
    let url = parse(raw)?;
    let host = String::from_utf8(url.host)
        .map_err(|_| "the URL's host escapes decode to bytes that are not UTF-8".to_string())?;
    let path = if !url.raw_path.is_empty()
        && valid_encoded(&url.raw_path, Mode::Path)
        && unescape(&url.raw_path, Mode::Path).is_ok_and(|p| p == url.path)
    {
        url.raw_path
    } else if url.path == b"*" {
        "*".to_string()
    } else {
        // escape's output is ASCII.
        String::from_utf8_lossy(&escape(&url.path, Mode::Path)).into_owned()
    };
    Ok((host, path, url.raw_query))
}
