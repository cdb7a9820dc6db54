//! DLP on mixed text: prose with about 2 % of its bytes personal data and
//! secrets, all detectors on.
//!
//! `cargo bench -p cos-benches --bench dlp`; figures go in docs/benchmarks.md.
#![allow(
    missing_docs,
    reason = "criterion_main! generates an undocumented main"
)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "benchmarks may panic on setup failure"
)]

use cos_policy::dlp::{CustomPattern, Dlp, FieldRules, Operator};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;

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
fn mixed_text(size: usize) -> String {
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

fn text(c: &mut Criterion) {
    let text = mixed_text(4 << 20);
    let all = Dlp::default();
    let found = all.scan(&text).unwrap().len();
    assert!(
        found > 1000,
        "the text has personal data ({found} findings)"
    );
    let custom = Dlp::builder()
        .pattern(CustomPattern::new("employee_id", r"\bEMP-[0-9]{6}\b"))
        .build()
        .unwrap();
    let masking = Dlp::builder()
        .operator("credit_card", Operator::mask_last(4))
        .operator("email", Operator::Hash)
        .hash_key(b"bench")
        .build()
        .unwrap();

    let mut g = c.benchmark_group("dlp");
    g.throughput(Throughput::Bytes(text.len() as u64));
    g.sample_size(20);
    g.bench_function(BenchmarkId::new("scan", "4MiB"), |b| {
        b.iter(|| all.scan(black_box(&text)).unwrap())
    });
    g.bench_function(BenchmarkId::new("redact_text", "4MiB"), |b| {
        b.iter(|| all.redact_text(black_box(&text)).unwrap())
    });
    g.bench_function(BenchmarkId::new("redact_text_mask_hash", "4MiB"), |b| {
        b.iter(|| masking.redact_text(black_box(&text)).unwrap())
    });
    g.bench_function(BenchmarkId::new("scan_with_custom_pattern", "4MiB"), |b| {
        b.iter(|| custom.scan(black_box(&text)).unwrap())
    });
    g.finish();

    // A document: 2,000 records of a few fields each.
    let lines: Vec<&str> = text.lines().take(6000).collect();
    let records: Vec<serde_json::Value> = lines
        .chunks(3)
        .map(|c| serde_json::json!({"id": 1, "note": c[0], "email": c.get(1), "items": [{"card": c.get(2)}]}))
        .collect();
    let doc = serde_json::Value::Array(records);
    let bytes = serde_json::to_vec(&doc).unwrap().len();
    let rules = FieldRules::new()
        .field("[*].email", Operator::Redact)
        .unwrap()
        .field("[*].items[*].card", Operator::mask_last(4))
        .unwrap();
    let mut g = c.benchmark_group("dlp");
    g.throughput(Throughput::Bytes(bytes as u64));
    g.sample_size(20);
    g.bench_function(
        BenchmarkId::new("redact_json", format!("{}KiB", bytes >> 10)),
        |b| b.iter(|| all.redact_json(black_box(&doc), &rules).unwrap()),
    );
    g.finish();
}

criterion_group!(benches, text);
criterion_main!(benches);
