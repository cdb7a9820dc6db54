//! cos-policy hot paths: loading and compiling a pack, and one decision.
//!
//! `cargo bench -p cos-benches --bench policy`; figures in docs/benchmarks.md.
#![allow(
    missing_docs,
    reason = "criterion_main! generates an undocumented main"
)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "benchmarks may panic on setup failure"
)]

use cos_benches::{abac_inputs, abac_pack_dir};
use cos_policy::{EngineOptions, Limits, Pack, PolicyEngine};
use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;

fn policy(c: &mut Criterion) {
    let dir = abac_pack_dir();
    let mut g = c.benchmark_group("policy");
    g.bench_function("load_and_compile/abac-pack", |b| {
        b.iter(|| {
            let pack = Pack::load(black_box(&dir), &Limits::default()).unwrap();
            PolicyEngine::new(&pack, EngineOptions::default()).unwrap()
        })
    });
    let pack = Pack::load(&dir, &Limits::default()).unwrap();
    let engine = PolicyEngine::new(&pack, EngineOptions::default()).unwrap();
    let (allow, deny) = abac_inputs().unwrap();
    g.bench_function("decide/abac-allow", |b| {
        b.iter(|| engine.decide("abac", black_box(&allow)).unwrap())
    });
    g.bench_function("decide/abac-deny", |b| {
        b.iter(|| engine.decide("abac", black_box(&deny)).unwrap())
    });
    let base_dir = cos_benches::baseline_pack_dir();
    g.bench_function("load_and_compile/baseline", |b| {
        b.iter(|| {
            let pack = Pack::load(black_box(&base_dir), &Limits::default()).unwrap();
            PolicyEngine::new(&pack, EngineOptions::default()).unwrap()
        })
    });
    // Including the register-VM programs of every entrypoint (which
    // `PolicyEngine::new` leaves to the first decision).
    g.bench_function("load_compile_warm/baseline", |b| {
        b.iter(|| {
            let pack = Pack::load(black_box(&base_dir), &Limits::default()).unwrap();
            let e = PolicyEngine::new(&pack, EngineOptions::default()).unwrap();
            e.warm();
            e
        })
    });
    let base_pack = Pack::load(&base_dir, &Limits::default()).unwrap();
    let base = PolicyEngine::new(&base_pack, EngineOptions::default()).unwrap();
    let input = cos_benches::baseline_abac_input();
    g.bench_function("decide/baseline-abac", |b| {
        b.iter(|| base.decide("abac", black_box(&input)).unwrap())
    });
    let interp = PolicyEngine::new(
        &base_pack,
        EngineOptions {
            vm: false,
            ..EngineOptions::default()
        },
    )
    .unwrap();
    g.bench_function("decide/baseline-abac-interpreter", |b| {
        b.iter(|| interp.decide("abac", black_box(&input)).unwrap())
    });
    g.finish();
}

criterion_group!(benches, policy);
criterion_main!(benches);
