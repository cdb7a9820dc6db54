//! Hot paths of cos-core: hashing, DSSE signing and verification, canonical JSON.
//!
//! `cargo bench -p cos-benches --bench core`; figures go in docs/benchmarks.md.
#![allow(
    missing_docs,
    reason = "criterion_main! generates an undocumented main"
)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "benchmarks may panic on setup failure"
)]

use cos_core::dsse::Envelope;
use cos_core::{Digest, DigestAlgorithm, KeyAlgorithm, PrivateKey, Verifier, canonical};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;

fn digests(c: &mut Criterion) {
    let data: Vec<u8> = (0..64 * 1024 * 1024u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    let mut g = c.benchmark_group("digest");
    g.throughput(Throughput::Bytes(data.len() as u64));
    g.sample_size(20);
    for alg in [DigestAlgorithm::Sha256, DigestAlgorithm::Sha512] {
        g.bench_function(BenchmarkId::new(alg.name(), "64MiB"), |b| {
            b.iter(|| Digest::of_bytes(alg, black_box(&data)))
        });
    }
    g.finish();
}

fn dsse(c: &mut Criterion) {
    // A typical in-toto statement payload (~1 KiB).
    let payload = vec![b'x'; 1024];
    let mut g = c.benchmark_group("dsse");
    g.throughput(Throughput::Elements(1));
    for alg in [KeyAlgorithm::Ed25519, KeyAlgorithm::EcdsaP256] {
        let key = PrivateKey::generate(alg).unwrap();
        g.bench_function(BenchmarkId::new("sign", alg.as_str()), |b| {
            b.iter(|| {
                Envelope::sign("application/vnd.in-toto+json", black_box(&payload), &[&key])
                    .unwrap()
            })
        });
        let env = Envelope::sign("application/vnd.in-toto+json", &payload, &[&key]).unwrap();
        let trusted: [&dyn Verifier; 1] = [key.public_key()];
        g.bench_function(BenchmarkId::new("verify", alg.as_str()), |b| {
            b.iter(|| {
                black_box(&env)
                    .verify(&trusted, 1, Some("application/vnd.in-toto+json"))
                    .unwrap()
            })
        });
    }
    g.finish();
}

fn signatures(c: &mut Criterion) {
    // The bare primitive on a 32-byte message, to separate DSSE's own cost.
    let msg = [0x5au8; 32];
    let mut g = c.benchmark_group("key");
    g.throughput(Throughput::Elements(1));
    for alg in [KeyAlgorithm::Ed25519, KeyAlgorithm::EcdsaP256] {
        let key = PrivateKey::generate(alg).unwrap();
        let sig = cos_core::Signer::sign(&key, &msg).unwrap();
        let public = key.public_key();
        g.bench_function(BenchmarkId::new("verify", alg.as_str()), |b| {
            b.iter(|| public.verify(black_box(&msg), black_box(&sig)).unwrap())
        });
    }
    g.finish();
}

fn canon(c: &mut Criterion) {
    // A 1,000-member object with mixed values, about 60 KiB.
    let mut doc = serde_json_doc();
    doc.push('}');
    let mut g = c.benchmark_group("canonical");
    g.throughput(Throughput::Bytes(doc.len() as u64));
    g.bench_function("canonicalize/60KiB", |b| {
        b.iter(|| canonical::canonicalize(black_box(doc.as_bytes())).unwrap())
    });
    g.finish();
}

fn serde_json_doc() -> String {
    let mut s = String::from("{");
    for i in 0..1000 {
        if i > 0 {
            s.push(',');
        }
        s.push_str(&format!(
            r#""key-{}": {{"n": {}.25, "s": "välue \u00e9 {}", "b": [true, null, 1e{}]}}"#,
            (i * 7919) % 1000,
            i,
            i,
            i % 300
        ));
    }
    s
}

criterion_group!(benches, digests, dsse, signatures, canon);
criterion_main!(benches);
