//! Bundles signed by the real OPA (fixtures in `tests/fixtures/opa-signed`,
//! made as its README says) verify with cos, and tampering is caught the way
//! OPA catches it: structured files (`data.json`, `data.yaml`, `data.yml`,
//! `.manifest`) are hashed in canonical form, every other file raw.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers outside #[test] fns may panic"
)]

use std::io::Read;
use std::path::PathBuf;

use cos_core::PublicKey;
use cos_policy::{Limits, Pack, SignatureOptions};
use cos_policy::{is_structured_doc, opa_file_hash};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/opa-signed")
        .join(name)
}

fn key(name: &str) -> PublicKey {
    let pem = std::fs::read_to_string(fixture(name)).unwrap();
    PublicKey::from_pem(&pem).unwrap()
}

/// The archive's entries, in order, as (name, bytes).
fn entries(archive: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut t = tar::Archive::new(flate2::read::GzDecoder::new(archive));
    let mut out = Vec::new();
    for e in t.entries().unwrap() {
        let mut e = e.unwrap();
        let name = e.path().unwrap().to_string_lossy().into_owned();
        let mut b = Vec::new();
        e.read_to_end(&mut b).unwrap();
        out.push((name, b));
    }
    out
}

fn archive(entries: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut b = tar::Builder::new(flate2::write::GzEncoder::new(
        Vec::new(),
        flate2::Compression::default(),
    ));
    for (name, bytes) in entries {
        let mut h = tar::Header::new_gnu();
        h.set_size(bytes.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        b.append_data(&mut h, name, bytes.as_slice()).unwrap();
    }
    b.into_inner().unwrap().finish().unwrap()
}

fn verify(bytes: &[u8]) -> Result<(), String> {
    let pack = Pack::from_bytes(bytes, &Limits::default()).map_err(|e| e.to_string())?;
    pack.verify_signature(&key("es256.pub.pem"), &SignatureOptions::default())
        .map(|_| ())
        .map_err(|e| e.to_string())
}

fn change(bytes: &[u8], file: &str, f: impl Fn(&[u8]) -> Vec<u8>) -> Vec<u8> {
    let mut es = entries(bytes);
    let e = es.iter_mut().find(|(n, _)| n == file).unwrap();
    e.1 = f(&e.1);
    archive(&es)
}

#[test]
fn opa_build_signed_bundle_verifies() {
    let bytes = std::fs::read(fixture("bundle.tar.gz")).unwrap();
    verify(&bytes).unwrap();
    // The header and claims OPA wrote, as the README records them.
    let header = std::fs::read_to_string(fixture("jwt-header.json")).unwrap();
    assert_eq!(header, r#"{"alg":"ES256","kid":"default","typ":"JWT"}"#);
}

#[test]
fn opa_sign_bundle_with_raw_json_and_yaml_verifies() {
    // `opa sign` over a directory holding example/other.json and
    // example/notes.yaml (hashed raw by OPA), a BOM-prefixed data.yaml
    // holding JSON, and a data.yml with a YAML float (1e3).
    let bytes = std::fs::read(fixture("signed-raw.tar.gz")).unwrap();
    verify(&bytes).unwrap();
    let pack = Pack::from_bytes(&bytes, &Limits::default()).unwrap();
    let names: Vec<&str> = pack.files().iter().map(|(n, _)| n).collect();
    assert!(names.contains(&"example/other.json"), "{names:?}");
    assert!(names.contains(&"example/notes.yaml"), "{names:?}");
}

#[test]
fn other_json_is_hashed_raw_so_reformatting_it_breaks_the_signature() {
    let bytes = std::fs::read(fixture("signed-raw.tar.gz")).unwrap();
    // Same value, other key order: OPA hashes other.json raw, so this fails.
    let bad = change(&bytes, "example/other.json", |_| {
        br#"{"a": 1, "b": 2}"#.to_vec()
    });
    let e = verify(&bad).unwrap_err();
    assert!(e.contains("example/other.json"), "{e}");
    let bad = change(&bytes, "example/notes.yaml", |b| [b, b"\n"].concat());
    let e = verify(&bad).unwrap_err();
    assert!(e.contains("example/notes.yaml"), "{e}");
}

#[test]
fn data_json_is_hashed_canonically_so_reformatting_keeps_the_signature() {
    let bytes = std::fs::read(fixture("signed-raw.tar.gz")).unwrap();
    let ok = change(&bytes, "example/data.json", |b| {
        let v: serde_json::Value = serde_json::from_slice(b).unwrap();
        serde_json::to_vec_pretty(&v).unwrap()
    });
    verify(&ok).unwrap();
    // A changed value is caught and named.
    let bad = change(&bytes, "example/data.json", |b| {
        String::from_utf8_lossy(b)
            .replace("viewer", "admin")
            .into_bytes()
    });
    let e = verify(&bad).unwrap_err();
    assert!(e.contains("example/data.json"), "{e}");
}

#[test]
fn extra_and_missing_files_are_named() {
    let bytes = std::fs::read(fixture("signed-raw.tar.gz")).unwrap();
    let mut es = entries(&bytes);
    es.push(("example/extra.json".to_owned(), b"{}".to_vec()));
    let e = verify(&archive(&es)).unwrap_err();
    assert!(e.contains("example/extra.json"), "{e}");
    let es: Vec<_> = entries(&bytes)
        .into_iter()
        .filter(|(n, _)| n != "example/notes.yaml")
        .collect();
    let e = verify(&archive(&es)).unwrap_err();
    assert!(e.contains("example/notes.yaml"), "{e}");
}

#[test]
fn structured_docs_are_the_four_base_names() {
    for n in ["data.json", "a/data.yaml", "a/b/data.yml", ".manifest"] {
        assert!(is_structured_doc(n), "{n}");
    }
    for n in [
        "other.json",
        "a/notes.yaml",
        "x.yml",
        "data.json.bak",
        "manifest.yaml",
    ] {
        assert!(!is_structured_doc(n), "{n}");
    }
    // Hashes OPA wrote for the signed-raw fixture's files.
    let h = opa_file_hash("example/sub/data.yml", b"k: v\nn: 1e3\n").unwrap();
    assert_eq!(
        h,
        "debac216f44874f4b10f0c63a27cef4ce89b152fe9cdb8a25d72c61f2294048b"
    );
    let h = opa_file_hash("x/other.json", b"{\"b\": 2,\n \"a\": 1}\n").unwrap();
    assert_eq!(
        h,
        "c50dd57b580457c6c24a5ead568e8abdb250036f1d9f6e8dac02f691986668ec"
    );
    let h = opa_file_hash("x/data.yaml", b"\xef\xbb\xbf{\"z\": 1.50, \"y\": \"x\"}").unwrap();
    assert_eq!(
        h,
        "60d0422d07c67bf469a8a1ed0192db63f81002d148f7de723336a53e6b692c10"
    );
}
