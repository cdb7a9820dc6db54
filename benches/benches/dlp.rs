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

use cos_benches::mixed_text;
use cos_policy::dlp::{CustomPattern, Dlp, FieldRules, Operator};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;

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
