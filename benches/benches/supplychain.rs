//! cos-supplychain hot paths: Sigstore bundle verification (keyless and key
//! with its Rekor entry) against the public-good trusted root.
//!
//! `cargo bench -p cos-benches --bench supplychain`; the comparison with PyPI
//! `sigstore` is `benches/sigstore/run.sh`; figures go in docs/benchmarks.md.
#![allow(
    missing_docs,
    reason = "criterion_main! generates an undocumented main"
)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "benchmarks may panic on setup failure"
)]

use std::hint::black_box;
use std::path::PathBuf;

use cos_core::sigstore::BlobVerifier;
use cos_supplychain::sigstore::{KeyLogVerifier, KeylessVerifier};
use criterion::{Criterion, criterion_group, criterion_main};

fn data(name: &str) -> Vec<u8> {
    let dir =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../cos-supplychain/tests/data/sigstore");
    std::fs::read(dir.join(name)).unwrap()
}

fn sigstore(c: &mut Criterion) {
    let root = data("public-good-trusted-root.json");
    let mut g = c.benchmark_group("sigstore_verify");
    let keyless = KeylessVerifier::new(
        &root,
        "w.vollprecht@gmail.com",
        "https://github.com/login/oauth",
    )
    .unwrap();
    let (blob, bundle) = (
        data("cosign-v3-blob.txt"),
        data("cosign-v3-blob.sigstore.json"),
    );
    g.bench_function("keyless_message", |b| {
        b.iter(|| {
            keyless
                .verify_blob(black_box(&blob), black_box(&bundle))
                .unwrap()
        })
    });
    let dsse = KeylessVerifier::new(
        &root,
        "https://github.com/prefix-dev/sigstore-example/.github/workflows/action.yaml@refs/heads/main",
        "https://token.actions.githubusercontent.com",
    )
    .unwrap();
    let (pkg, att) = (
        data("signed-package-2.1.0-hb0f4dca_0.conda"),
        data("conda-attestation.sigstore.json"),
    );
    g.bench_function("keyless_dsse", |b| {
        b.iter(|| dsse.verify_blob(black_box(&pkg), black_box(&att)).unwrap())
    });
    let key = String::from_utf8(data("managed-key.pub")).unwrap();
    let logged = KeyLogVerifier::new(&key, &root).unwrap();
    let (artifact, kb) = (
        data("managed-key-artifact.txt"),
        data("managed-key.sigstore.json"),
    );
    g.bench_function("key_with_rekor_entry", |b| {
        b.iter(|| {
            logged
                .verify_blob(black_box(&artifact), black_box(&kb))
                .unwrap()
        })
    });
    g.bench_function("load_trusted_root", |b| {
        b.iter(|| {
            KeylessVerifier::new(black_box(&root), "a@example.com", "https://i.example").unwrap()
        })
    });
    g.finish();
}

criterion_group!(benches, sigstore);
criterion_main!(benches);
