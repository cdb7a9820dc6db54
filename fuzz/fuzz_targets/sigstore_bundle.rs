//! Sigstore bundle parsing and key-mode verification: never panic on any
//! input, and a bundle that verifies is about the artifact it was checked
//! with (never about another one).

#![no_main]

use std::sync::OnceLock;

use cos_core::sigstore::Bundle;
use cos_core::{KeyAlgorithm, PrivateKey};
use libfuzzer_sys::fuzz_target;

fn key() -> &'static PrivateKey {
    static KEY: OnceLock<PrivateKey> = OnceLock::new();
    KEY.get_or_init(|| PrivateKey::generate(KeyAlgorithm::EcdsaP256).expect("key"))
}

fuzz_target!(|data: &[u8]| {
    let Ok(bundle) = Bundle::from_json(data) else {
        return;
    };
    let _ = bundle.key_hint();
    let _ = bundle.has_certificate();
    // A fresh random key signed nothing the fuzzer could have produced.
    assert!(bundle.verify_blob(b"artifact", key().public_key()).is_err());
});
