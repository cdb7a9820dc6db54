//! Runs the DLP scan of benches/dlp.rs in a loop, for `perf stat` /
//! `perf record` (CPU time rather than wall time on a shared machine):
//! `cargo build --profile bench -p cos-benches --example dlp_profile`, then
//! `perf stat target/release/examples/dlp_profile [scan|redact] [iterations]`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a profiling harness may panic on setup failure"
)]

use cos_benches::mixed_text;
use cos_policy::dlp::Dlp;
use std::hint::black_box;

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
