//! Criterion benchmarks for the cos crates; see `benches/` and
//! `docs/benchmarks.md`. Run with `cargo bench -p cos-benches`.

use std::path::PathBuf;

/// The ABAC pack the policy benchmarks evaluate (`benches/fixtures/abac-pack`).
pub fn abac_pack_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/abac-pack")
}

/// Inputs for the ABAC decision: the typical allow (cross-tenant read under
/// a grant) and a denial with three reasons and an obligation.
pub fn abac_inputs() -> Result<(serde_json::Value, serde_json::Value), Box<dyn std::error::Error>> {
    let allow: serde_json::Value =
        serde_json::from_slice(&std::fs::read(abac_pack_dir().join("input.json"))?)?;
    let mut deny = allow.clone();
    deny["resource"]["classification"] = "RESTRICTED".into();
    deny["context"]["grants"] = serde_json::json!([]);
    Ok((allow, deny))
}

/// The baseline pack (`examples/policy-packs/companyos-baseline`).
pub fn baseline_pack_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/policy-packs/companyos-baseline")
}

/// A typical ABAC request for the baseline pack: an analyst reading a
/// CONFIDENTIAL dataset of another tenant under an unexpired grant.
pub fn baseline_abac_input() -> serde_json::Value {
    serde_json::json!({
        "subject": {"id": "u-42", "tenant": "acme", "roles": ["analyst", "viewer"],
                    "attributes": {"clearance": "CONFIDENTIAL", "step_up": false}},
        "action": "read",
        "resource": {"type": "dataset", "id": "ds-7", "tenant": "globex", "classification": "CONFIDENTIAL", "residency": "EU-Only"},
        "context": {"time": "2026-11-22T10:00:00Z",
                    "grants": [{"tenant": "globex", "role": "analyst", "actions": ["read"], "expires": "2026-12-31T00:00:00Z"}]}
    })
}

const WORDS: &[&str] = &[
    "the",
    "a",
    "and",
    "of",
    "to",
    "in",
    "is",
    "for",
    "customer",
    "account",
    "data",
    "be",
    "each",
    "can",
    "deployment",
    "after",
    "before",
    "between",
    "fast",
    "cache",
    "decision",
    "policy",
    "request",
    "was",
    "denied",
    "because",
    "region",
    "tenant",
    "support",
    "ticket",
    "shipped",
    "order",
    "invoice",
    "regarding",
    "follow-up",
    "escalated",
    "service",
    "at",
    "on",
    "with",
    "from",
    "by",
    "engineering",
    "review",
    "approved",
    "deadline",
    "added",
    "feedback",
    "defect",
    "build",
    "release",
    "rollback",
    "café",
    "über",
    "naïve",
    "2024",
    "42",
    "3.5",
    "12:30",
    "v1.2.3",
    "(see",
    "note)",
    "e.g.",
    "10-12",
    "std::io",
    "x86_64",
];

const PII: &[&str] = &[
    "alice.smith@example.com",
    "(415) 555-0132",
    "+44 20 7946 0958",
    "030 1234567",
    "4111 1111 1111 1111",
    "DE89 3704 0044 0532 0130 00",
    "123-45-6789",
    "192.168.10.25",
    "2001:db8::8a2e:370:7334",
    "00:1a:2b:3c:4d:5e",
    "AKIAIOSFODNN7EXAMPLE",
    "ghp_0123456789abcdefghijABCDEFGHIJ012345",
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJlLXZhbHVl",
];

/// About `size` bytes of prose with about 2 % of the bytes from `PII`.
/// Prose of about `size` bytes with about 2 % of its bytes personal data and
/// secrets (e-mail, phones, cards, IBANs, keys, …): the DLP benchmarks' input.
pub fn mixed_text(size: usize) -> String {
    let mut s = String::with_capacity(size + 128);
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = || {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    };
    let mut pii_bytes = 0usize;
    while s.len() < size {
        let r = next();
        // Keep personal data at ~2 % of the bytes written so far.
        if pii_bytes * 50 < s.len() && r % 8 == 0 {
            let p = PII[(r >> 8) as usize % PII.len()];
            s.push_str(p);
            pii_bytes += p.len();
        } else {
            s.push_str(WORDS[(r >> 8) as usize % WORDS.len()]);
        }
        s.push(if r % 13 == 0 {
            '\n'
        } else if r % 11 == 0 {
            ','
        } else {
            ' '
        });
        if r % 11 == 0 {
            s.push(' ');
        }
    }
    s
}
