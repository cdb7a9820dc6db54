//! Runs the DLP scan of benches/dlp.rs in a loop, for `perf stat` /
//! `perf record` (CPU time rather than wall time on a shared machine):
//! `cargo build --profile bench -p cos-benches --example dlp_profile`, then
//! `perf stat target/release/examples/dlp_profile [scan|redact] [iterations]`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a profiling harness may panic on setup failure"
)]

use cos_policy::dlp::Dlp;
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

fn main() {
    let mut args = std::env::args().skip(1);
    let what = args.next().unwrap_or_else(|| "scan".into());
    let n: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(100);
    let text = mixed_text(4 << 20);
    let dlp = Dlp::default();
    let start = std::time::Instant::now();
    let mut found = 0;
    for _ in 0..n {
        found += match what.as_str() {
            "redact" => dlp
                .redact_text(black_box(&text))
                .unwrap()
                .report
                .findings
                .len(),
            _ => dlp.scan(black_box(&text)).unwrap().len(),
        };
    }
    let s = start.elapsed().as_secs_f64();
    let mb = (text.len() * n) as f64 / 1e6;
    println!(
        "{what}: {n} x {} bytes, {found} findings, {:.1} MB/s wall",
        text.len(),
        mb / s
    );
}
