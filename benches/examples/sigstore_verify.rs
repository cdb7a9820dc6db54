//! Sigstore bundle verification in-process, for the comparison with PyPI
//! `sigstore` (`benches/sigstore/run.sh`, results in docs/benchmarks.md).
//!
//! `sigstore_verify DATA_DIR ITERATIONS [CASE]` verifies each test bundle of
//! `cos-supplychain/tests/data/sigstore` ITERATIONS times on this thread
//! (parse + verify per call, the trusted root loaded once, as a service
//! would) and prints one JSON line per case: `{"case", "us_per_verify"}`
//! (the best of 5 batches), plus the cost of loading the trusted root; with
//! CASE, only the cases whose name contains it.
//!
//! Build with `cargo build --profile bench -p cos-benches --example sigstore_verify`.

use std::error::Error;
use std::path::Path;
use std::time::Instant;

use cos_core::sigstore::BlobVerifier;
use cos_supplychain::sigstore::{KeyLogVerifier, KeylessVerifier};

type Res<T> = Result<T, Box<dyn Error>>;

const BATCHES: usize = 5;

/// A case: its name, the verifier, the artifact and the bundle.
type Case = (&'static str, Box<dyn BlobVerifier>, Vec<u8>, Vec<u8>);

fn best_us(iterations: usize, mut f: impl FnMut() -> Res<()>) -> Res<f64> {
    let mut best = f64::MAX;
    for _ in 0..BATCHES {
        let start = Instant::now();
        for _ in 0..iterations {
            f()?;
        }
        best = best.min(start.elapsed().as_secs_f64() * 1e6 / iterations as f64);
    }
    Ok(best)
}

fn main() -> Res<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (dir, n, only) = match args.as_slice() {
        [dir, n] => (dir, n, ""),
        [dir, n, only] => (dir, n, only.as_str()),
        _ => return Err("usage: sigstore_verify DATA_DIR ITERATIONS [CASE]".into()),
    };
    let dir = Path::new(dir);
    let n: usize = n.parse()?;
    let read = |name: &str| std::fs::read(dir.join(name));
    let root = read("public-good-trusted-root.json")?;

    let cases: Vec<Case> = vec![
        (
            "keyless message signature (cosign-v3-blob)",
            Box::new(KeylessVerifier::new(
                &root,
                "w.vollprecht@gmail.com",
                "https://github.com/login/oauth",
            )?),
            read("cosign-v3-blob.txt")?,
            read("cosign-v3-blob.sigstore.json")?,
        ),
        (
            "keyless DSSE attestation (conda-attestation)",
            Box::new(KeylessVerifier::new(
                &root,
                "https://github.com/prefix-dev/sigstore-example/.github/workflows/action.yaml@refs/heads/main",
                "https://token.actions.githubusercontent.com",
            )?),
            read("signed-package-2.1.0-hb0f4dca_0.conda")?,
            read("conda-attestation.sigstore.json")?,
        ),
        (
            "key + Rekor entry (managed-key)",
            Box::new(KeyLogVerifier::new(
                &String::from_utf8(read("managed-key.pub")?)?,
                &root,
            )?),
            read("managed-key-artifact.txt")?,
            read("managed-key.sigstore.json")?,
        ),
    ];
    for (case, verifier, artifact, bundle) in cases.iter().filter(|c| c.0.contains(only)) {
        let us = best_us(n, || {
            verifier.verify_blob(artifact, bundle)?;
            Ok(())
        })?;
        println!(
            "{}",
            serde_json::json!({"case": case, "us_per_verify": (us * 10.0).round() / 10.0})
        );
    }
    if !"load trusted root".contains(only) {
        return Ok(());
    }
    let us = best_us(n.div_ceil(10).max(1), || {
        KeylessVerifier::new(&root, "a@example.com", "https://issuer.example")?;
        Ok(())
    })?;
    println!(
        "{}",
        serde_json::json!({"case": "load trusted root", "us_per_verify": (us * 10.0).round() / 10.0})
    );
    Ok(())
}
