//! docs/error-codes.md and docs/error-codes.json list every error code of
//! the cos library crates, generated from their `Error::CODES`
//! (`cos_core::error_enum!`). The Node tests read the JSON.
//! `COS_REGENERATE=1 cargo test -p cos-tests --test error_codes` rewrites
//! both.
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "a test: a failed read or write fails it"
)]

use std::fmt::Write as _;
use std::path::PathBuf;

use cos_core::ErrorCode;

/// The crates whose codes users see (through the Python and Node packages,
/// the `cos` CLI's JSON and cos-pdp's answers), in order. cos-evidence and
/// cos-slo have no error yet; cos-http's errors are configuration errors
/// that cos-pdp turns into startup messages, with no code.
fn crates() -> Vec<(&'static str, &'static [ErrorCode])> {
    vec![
        ("cos-core", cos_core::Error::CODES),
        ("cos-policy", cos_policy::Error::CODES),
        ("cos-supplychain", cos_supplychain::Error::CODES),
    ]
}

fn docs() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs")
}

fn markdown() -> String {
    let mut doc = String::from(
        "# Error codes\n\n\
         Every error of a cos library has a stable machine-readable code: \
         `Error::code()` in Rust,\n\
         `err.code` in Node (`CosErrorCode` in `index.d.ts`), `CosError.code` in Python,\n\
         the `code` of the `cos` CLI's JSON output and of cos-pdp's error answers.\n\
         A code is never renamed. This file is generated from each crate's `Error::CODES`\n\
         (`cos_core::error_enum!` declares `code()` and `CODES` from one table) and checked\n\
         by `tests/tests/error_codes.rs`; `COS_REGENERATE=1 cargo test -p cos-tests --test error_codes`\n\
         rewrites it and `error-codes.json` beside it, which the Node tests read.\n\n\
         An error of cos-policy or cos-supplychain caused by cos-core carries cos-core's code.\n\
         cos-policy's sub-domain errors (`DistributionError`, `DisclosureError`, `DlpError`)\n\
         reach users as `cos_policy::Error` with the same codes; `limit_exceeded` is both a\n\
         pack limit and DLP's field-rule limit, and `signature_invalid` is both cos-core's\n\
         (a signature) and cos-policy's (an OPA bundle signature).\n",
    );
    for (krate, codes) in crates() {
        write!(
            doc,
            "\n## {krate}\n\n| code | variant | meaning |\n|---|---|---|\n"
        )
        .unwrap();
        for c in codes {
            writeln!(
                doc,
                "| `{}` | `{}` | {} |",
                c.code,
                c.variant,
                c.meaning().replace('|', "\\|")
            )
            .unwrap();
        }
    }
    doc
}

fn json() -> String {
    let rows: Vec<serde_json::Value> = crates()
        .into_iter()
        .flat_map(|(krate, codes)| {
            codes.iter().map(move |c| {
                serde_json::json!({
                    "code": c.code,
                    "crate": krate,
                    "variant": c.variant,
                    "meaning": c.meaning(),
                })
            })
        })
        .collect();
    serde_json::to_string_pretty(&rows).unwrap() + "\n"
}

/// docs/error-codes.md and docs/error-codes.json are what the crates'
/// `Error::CODES` give.
#[test]
fn error_codes_doc_is_current() {
    let files = [
        (docs().join("error-codes.md"), markdown()),
        (docs().join("error-codes.json"), json()),
    ];
    for (path, want) in files {
        if std::env::var_os("COS_REGENERATE").is_some() {
            std::fs::write(&path, &want).unwrap();
        }
        let current = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            current == want,
            "{} is stale: run COS_REGENERATE=1 cargo test -p cos-tests --test error_codes",
            path.display()
        );
    }
}

/// Codes that two crates declare, each for the same kind of failure:
/// `signature_invalid` is a cos-core signature and a cos-policy bundle
/// signature that do not verify.
const SHARED_ACROSS_CRATES: &[&str] = &["signature_invalid"];

/// Each crate's list is well-formed, and no two crates declare the same
/// code but those in [`SHARED_ACROSS_CRATES`] (a cos-core code reaches
/// users of every crate).
#[test]
fn codes_are_unique_across_crates() {
    let mut seen: Vec<(&str, &str)> = Vec::new();
    for (krate, codes) in crates() {
        let shared: &[&str] = if krate == "cos-policy" {
            &["limit_exceeded"]
        } else {
            &[]
        };
        assert_eq!(
            cos_core::error_codes::problems(codes, shared),
            Vec::<String>::new()
        );
        for c in codes {
            let other = seen.iter().find(|(k, code)| {
                *code == c.code && *k != krate && !SHARED_ACROSS_CRATES.contains(code)
            });
            assert!(
                other.is_none(),
                "{} is a code of {other:?} and {krate}",
                c.code
            );
            seen.push((krate, c.code));
        }
    }
    assert!(seen.len() > 60);
}
