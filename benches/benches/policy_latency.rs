//! Latency percentiles and two-thread throughput of one ABAC decision.
//!
//! `cargo bench -p cos-benches --bench policy_latency` prints median, p99 and
//! p99.9 over 50,000 single-thread decisions, the same for a fixed amount of
//! arithmetic as long as the baseline decision's median (the machine's own
//! tail), then decisions per second on one and two threads. Figures in
//! docs/benchmarks.md.
#![allow(missing_docs, reason = "bench binary")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "benchmarks may panic on setup failure"
)]

use cos_benches::{abac_inputs, abac_pack_dir};
use cos_policy::{EngineOptions, Limits, Pack, PolicyEngine};
use std::time::{Duration, Instant};

fn main() {
    // `cargo bench` passes --bench; `cargo test --benches` passes nothing
    // useful either: run a short version unless benchmarking.
    let full = std::env::args().any(|a| a == "--bench");
    let n: usize = if full { 50_000 } else { 200 };
    // COS_BENCH_ONLY=evaluate: only the timed `evaluate` (the call the Python
    // and Node benchmarks time; benches/bindings/overhead.sh alternates them).
    let only_evaluate = std::env::var("COS_BENCH_ONLY").is_ok_and(|v| v == "evaluate");
    // COS_BENCH_VM=0 measures the tree-walking interpreter alone.
    let options = EngineOptions {
        vm: std::env::var("COS_BENCH_VM").map_or(true, |v| v != "0"),
        ..EngineOptions::default()
    };
    let pack = Pack::load(abac_pack_dir(), &Limits::default()).unwrap();
    let engine = PolicyEngine::new(&pack, options).unwrap();
    let (allow, deny) = abac_inputs().unwrap();
    let baseline = PolicyEngine::new(
        &Pack::load(cos_benches::baseline_pack_dir(), &Limits::default()).unwrap(),
        options,
    )
    .unwrap();
    let base_input = cos_benches::baseline_abac_input();
    // The call the Python and Node benchmarks time (benches/python,
    // benches/node): `evaluate` of the baseline decision, JSON in and out.
    let evaluate_baseline = || {
        std::hint::black_box(
            baseline
                .evaluate("companyos/abac/decision", &base_input)
                .unwrap()
                .map(|o| o.to_json().unwrap()),
        );
    };
    // COS_BENCH_EVAL_ONLY=N: N baseline evaluations in a plain loop, after a
    // warm-up, and their mean (instruction counts under callgrind, and
    // benches/bindings/overhead.sh; the same as `--loop N` of
    // benches/python/bench_evaluate.py and benches/node/bench_evaluate.mjs).
    // With COS_BENCH_CALL=decide the loop calls `decide` instead (the typed
    // decision: its id, timestamp and reasons on top of the evaluation).
    if let Some(n) = std::env::var("COS_BENCH_EVAL_ONLY")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
    {
        let decide = || {
            std::hint::black_box(baseline.decide("abac", &base_input).unwrap());
        };
        let call: &dyn Fn() = if std::env::var("COS_BENCH_CALL").is_ok_and(|v| v == "decide") {
            &decide
        } else {
            &evaluate_baseline
        };
        (0..n.min(1000)).for_each(|_| call());
        let t = Instant::now();
        (0..n).for_each(|_| call());
        let per_call = t.elapsed().as_nanos() as f64 / n.max(1) as f64;
        println!(
            "policy_latency/evaluate-loop: n={n} mean={:.2}µs",
            per_call / 1000.0
        );
        return;
    }
    for _ in 0..n / 10 {
        engine.decide("abac", &allow).unwrap();
        evaluate_baseline();
    }
    // Prints median, p99 and p99.9 in µs; returns the median in ns.
    let report = |what: &str, mut samples: Vec<u64>| -> u64 {
        samples.sort_unstable();
        let at = |p: f64| samples[((samples.len() as f64 * p) as usize).min(samples.len() - 1)];
        let us = |p: f64| at(p) as f64 / 1000.0;
        println!(
            "policy_latency/{what}: n={n} median={:.1}µs p99={:.1}µs p99.9={:.1}µs",
            us(0.5),
            us(0.99),
            us(0.999)
        );
        at(0.5)
    };
    let decisions = [
        ("abac-allow", &engine, &allow),
        ("abac-deny", &engine, &deny),
        ("baseline-abac", &baseline, &base_input),
    ];
    let mut baseline_median = 0;
    for (name, engine, input) in decisions.into_iter().filter(|_| !only_evaluate) {
        let samples: Vec<u64> = (0..n)
            .map(|_| {
                let t = Instant::now();
                std::hint::black_box(engine.decide("abac", input).unwrap());
                t.elapsed().as_nanos() as u64
            })
            .collect();
        let median = report(&format!("decide/{name}"), samples);
        if name == "baseline-abac" {
            baseline_median = median;
        }
    }
    if !only_evaluate {
        noise_floor(n, baseline_median, report);
    }
    let samples: Vec<u64> = (0..n)
        .map(|_| {
            let t = Instant::now();
            evaluate_baseline();
            t.elapsed().as_nanos() as u64
        })
        .collect();
    report("evaluate/baseline-abac", samples);
    if only_evaluate {
        return;
    }
    let window = if full {
        Duration::from_secs(3)
    } else {
        Duration::from_millis(100)
    };
    for threads in [1usize, 2] {
        let total: u64 = std::thread::scope(|s| {
            let handles: Vec<_> = (0..threads)
                .map(|_| {
                    let engine = &engine;
                    let allow = &allow;
                    s.spawn(move || {
                        let end = Instant::now() + window;
                        let mut count = 0u64;
                        while Instant::now() < end {
                            std::hint::black_box(engine.decide("abac", allow).unwrap());
                            count += 1;
                        }
                        count
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).sum()
        });
        println!(
            "policy_latency/throughput/abac-allow: threads={threads} {:.0} decisions/s",
            total as f64 / window.as_secs_f64()
        );
    }
}

/// The machine's own tail: a fixed amount of arithmetic (no allocation, no
/// memory traffic), sized to take the baseline decision's median, timed the
/// same way. Its p99 is what this machine adds to any computation of that
/// length (interrupts, the hypervisor), so a decision's p99 cannot be read
/// without it.
fn noise_floor(n: usize, median_ns: u64, report: impl Fn(&str, Vec<u64>) -> u64) {
    fn spin(iters: u64) -> u64 {
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        for i in 0..iters {
            x = (x ^ (x >> 29))
                .wrapping_mul(0xBF58_476D_1CE4_E5B9)
                .wrapping_add(i);
        }
        x
    }
    // Calibrate: the fastest of 50 runs of 100,000 iterations.
    let probe = 100_000u64;
    let best = (0..50)
        .map(|_| {
            let t = Instant::now();
            std::hint::black_box(spin(std::hint::black_box(probe)));
            t.elapsed().as_nanos().max(1) as u64
        })
        .min()
        .unwrap_or(1);
    let iters = (median_ns.saturating_mul(probe) / best).max(1);
    let samples: Vec<u64> = (0..n)
        .map(|_| {
            let t = Instant::now();
            std::hint::black_box(spin(std::hint::black_box(iters)));
            t.elapsed().as_nanos() as u64
        })
        .collect();
    report("noise-floor/fixed-work", samples);
}
