#![allow(
    clippy::panic,
    clippy::expect_used,
    clippy::needless_continue,
    clippy::unused_trait_names
)] // net builtins panic/expect in invariant checks

use core::net::IpAddr;
use std::format;
use std::sync::Arc;
use std::vec::Vec;

use crate::ast::{Expr, Ref};
use crate::builtins;
use crate::builtins::utils::ensure_args_count;
use crate::lexer::Span;
use crate::value::Value;

use anyhow::{anyhow, bail, Result};

use super::gonet;
use super::utils::ensure_string;

pub fn register(m: &mut builtins::BuiltinsMap<&'static str, builtins::BuiltinFcn>) {
    m.insert("net.cidr_is_valid", (cidr_is_valid, 1));
    m.insert("net.cidr_contains", (cidr_contains, 2));
    m.insert("net.cidr_expand", (cidr_expand, 1));
    // cos patch 22: the rest of OPA's net.* (net.lookup_ip_addr stays
    // refused: a decision does no I/O; net.cidr_overlap too: OPA refuses a
    // module calling it, deprecated), with Go's net semantics (gonet.rs).
    m.insert("net.cidr_intersects", (cidr_intersects, 2));
    m.insert("net.cidr_contains_matches", (cidr_contains_matches, 2));
    m.insert("net.cidr_merge", (cidr_merge, 1));
}

/// Checks if a CIDR string is valid or invalid. Uses the
/// `net::IpAddr` type to determine if the string is a valid IP,
/// and checks to ensure that the mask is in bounds for the parsed
/// IP address type (v4 or v6).
pub fn cidr_is_valid(
    span: &Span,
    params: &[Ref<Expr>],
    args: &[Value],
    _strict: bool,
) -> Result<Value> {
    ensure_args_count(span, "cidr_is_valid", params, args, 1)?;
    let cidr = ensure_string("cidr_is_valid", &params[0], &args[0])?;

    Ok(Value::from(is_valid_cidr(cidr)))
}

fn is_valid_cidr(cidr: Arc<str>) -> bool {
    let Some((ip_addr, prefix_len)) = cidr.split_once("/") else {
        return false;
    };
    match ip_addr.parse::<IpAddr>() {
        Ok(addr) => {
            let Ok(mask) = prefix_len.parse::<i16>() else {
                return false;
            };

            match addr {
                IpAddr::V4(_) => {
                    if !(0..=32).contains(&mask) {
                        return false;
                    }
                }
                IpAddr::V6(_) => {
                    if !(0..=128).contains(&mask) {
                        return false;
                    }
                }
            }
            true
        }
        Err(_) => false,
    }
}

/// Checks if a CIDR string contains a given CIDR or individual network address.
/// cos patch 22: OPA's `builtinNetCIDRContains`, with Go's `net` semantics.
pub fn cidr_contains(
    span: &Span,
    params: &[Ref<Expr>],
    args: &[Value],
    _strict: bool,
) -> Result<Value> {
    ensure_args_count(span, "net.cidr_contains", params, args, 2)?;
    let cidr = ensure_string("net.cidr_contains", &params[0], &args[0])?;
    let cidr_or_ip = ensure_string("net.cidr_contains", &params[1], &args[1])?;
    match gonet::cidr_contains(&cidr, &cidr_or_ip) {
        Ok(r) => Ok(Value::from(r)),
        Err(e) => bail!(span.error(&format!("net.cidr_contains: {e}"))),
    }
}

pub fn cidr_intersects(
    span: &Span,
    params: &[Ref<Expr>],
    args: &[Value],
    _strict: bool,
) -> Result<Value> {
    ensure_args_count(span, "net.cidr_intersects", params, args, 2)?;
    let a = ensure_string("net.cidr_intersects", &params[0], &args[0])?;
    let b = ensure_string("net.cidr_intersects", &params[1], &args[1])?;
    match gonet::cidr_intersects(&a, &b) {
        Ok(r) => Ok(Value::from(r)),
        Err(e) => bail!(span.error(&format!("net.cidr_intersects: {e}"))),
    }
}

/// OPA's `evalNetCIDRContainsMatchesOperand`: (cidr, index) pairs.
fn contains_matches_operand(operand: usize, v: &Value) -> Result<Vec<(Value, Value)>> {
    let cidr_of = |x: &Value| -> Result<Value> {
        match x {
            Value::String(_) => Ok(x.clone()),
            Value::Array(a) if !a.is_empty() => Ok(a[0].clone()),
            _ => bail!("operand {operand}: element must be string or non-empty array"),
        }
    };
    let mut out = Vec::new();
    match v {
        Value::String(_) => out.push((v.clone(), v.clone())),
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                out.push((cidr_of(x)?, Value::from(i)));
            }
        }
        Value::Set(s) => {
            for x in s.iter() {
                out.push((cidr_of(x)?, x.clone()));
            }
        }
        Value::Object(o) => {
            for (k, x) in o.iter() {
                out.push((cidr_of(x)?, k.clone()));
            }
        }
        _ => {}
    }
    Ok(out)
}

pub fn cidr_contains_matches(
    span: &Span,
    params: &[Ref<Expr>],
    args: &[Value],
    _strict: bool,
) -> Result<Value> {
    let name = "net.cidr_contains_matches";
    ensure_args_count(span, name, params, args, 2)?;
    let wrap = |e: anyhow::Error| anyhow!(span.error(&format!("{name}: {e}")));
    let lhs = contains_matches_operand(1, &args[0]).map_err(wrap)?;
    let rhs = contains_matches_operand(2, &args[1]).map_err(wrap)?;
    let mut result = std::collections::BTreeSet::new();
    let mut n = 0usize;
    for (c1, i1) in &lhs {
        for (c2, i2) in &rhs {
            crate::utils::limits::tick(n)?;
            n += 1;
            let (Value::String(a), Value::String(b)) = (c1, c2) else {
                bail!(span.error(&format!("{name}: operand must be string")));
            };
            if gonet::cidr_contains(a, b).map_err(wrap)? {
                // Each pair: a set element and a two-element array.
                crate::utils::limits::check_elements((result.len() as u128 + 1) * 3)?;
                result.insert(Value::from_array(Vec::from([i1.clone(), i2.clone()])));
            }
        }
    }
    Ok(Value::from(result))
}

pub fn cidr_merge(
    span: &Span,
    params: &[Ref<Expr>],
    args: &[Value],
    _strict: bool,
) -> Result<Value> {
    let name = "net.cidr_merge";
    ensure_args_count(span, name, params, args, 1)?;
    let wrap = |e: anyhow::Error| {
        if e.downcast_ref::<crate::LimitError>().is_some() {
            return e;
        }
        anyhow!(span.error(&format!("{name}: {e}")))
    };
    let elems: Vec<&Value> = match &args[0] {
        Value::Array(a) => a.iter().collect(),
        Value::Set(s) => s.iter().collect(),
        _ => bail!(span.error(&format!("{name}: operand must be an array"))),
    };
    let mut networks = Vec::with_capacity(elems.len());
    for e in elems {
        let Value::String(s) = e else {
            bail!(span.error(&format!("{name}: element must be string")));
        };
        networks.push(gonet::merge_element(s).map_err(wrap)?);
    }
    let merged = gonet::merge(networks).map_err(wrap)?;
    let set: std::collections::BTreeSet<Value> = merged
        .into_iter()
        .map(|s| Value::String(s.into()))
        .collect();
    Ok(Value::from(set))
}

pub fn cidr_expand(
    span: &Span,
    params: &[Ref<Expr>],
    args: &[Value],
    _strict: bool,
) -> Result<Value> {
    ensure_args_count(span, "net.cidr_expand", params, args, 1)?;
    let cidr = ensure_string("net.cidr_expand", &params[0], &args[0])?;
    _cidr_expand(&cidr).map_err(|e| {
        if e.downcast_ref::<crate::LimitError>().is_some() {
            return e;
        }
        anyhow!(span.error(&format!("net.cidr_expand: {e}")))
    })
}

/// cos patch 22: OPA's `builtinNetCIDRExpand` (a set, as OPA returns;
/// upstream returned an array), with Go's `net` semantics.
fn _cidr_expand(cidr: &str) -> Result<Value> {
    let (ip, net) = gonet::parse_cidr(cidr)?;
    // cos patch: an expansion larger than the value-size cap is refused
    // before it starts (a /0 has 2^32 or 2^128 addresses).
    let (ones, bits) = gonet::mask_size(&net.mask);
    let host_bits = u32::try_from(bits.saturating_sub(ones)).unwrap_or(u32::MAX);
    crate::utils::limits::check_elements(1u128.checked_shl(host_bits).unwrap_or(u128::MAX))?;
    let mut cur = gonet::mask_ip(&ip, &net.mask).unwrap_or_default();
    let mut hosts = std::collections::BTreeSet::new();
    let mut n = 0usize;
    while gonet::contains(&net, &cur) {
        crate::utils::limits::tick(n)?;
        n += 1;
        if !hosts.insert(Value::String(gonet::ip_string(&cur).into())) {
            // Wrapped around (255.255.255.255 + 1): Go would loop on.
            break;
        }
        gonet::inc_ip(&mut cur);
    }
    Ok(Value::from(hosts))
}

#[cfg(test)]
mod net_tests {
    use super::*;

    #[test]
    fn test_cidr_is_valid() {
        let valids = Vec::from(["127.0.0.1/32", "10.0.0.0/8", "0.1.2.3/32", "::1/128"]);
        let invalids = Vec::from(["256.0.0.0/8", "127.0.0.1/33", "::1/129"]);

        for cidr in valids {
            assert!(
                is_valid_cidr(Arc::from(cidr)),
                "Valid CIDR {cidr} deemed invalid"
            );
        }

        for cidr in invalids {
            assert!(
                !is_valid_cidr(Arc::from(cidr)),
                "Invalid CIDR {cidr} deemed valid"
            );
        }
    }
    // cos patch 22: the contains/expand tests moved to cos's conformance
    // cases (tests/conformance/topics/cases/builtins_more.json), written by OPA.
}
