//! RFC 8785 canonicalisation: never panics; canonical output is a fixed
//! point, is valid JSON for `serde_json`, and the serde path
//! (`to_canonical_vec`) agrees with the text path.

#![no_main]

use cos_core::canonical::{canonicalize, to_canonical_vec};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(c1) = canonicalize(data) else {
        return;
    };

    let c2 = match canonicalize(&c1) {
        Ok(c2) => c2,
        Err(e) => panic!(
            "canonical output does not canonicalise: {e}\noutput: {}",
            String::from_utf8_lossy(&c1)
        ),
    };
    assert_eq!(
        c1,
        c2,
        "canonicalisation is not idempotent\nfirst:  {}\nsecond: {}",
        String::from_utf8_lossy(&c1),
        String::from_utf8_lossy(&c2)
    );
    assert!(
        std::str::from_utf8(&c1).is_ok(),
        "canonical output is not UTF-8"
    );

    let value: serde_json::Value = match serde_json::from_slice(&c1) {
        Ok(v) => v,
        Err(e) => panic!(
            "serde_json rejects canonical output: {e}\noutput: {}",
            String::from_utf8_lossy(&c1)
        ),
    };
    match to_canonical_vec(&value) {
        Ok(c3) => assert_eq!(
            c3,
            c1,
            "serde path disagrees with text path\ntext:  {}\nserde: {}",
            String::from_utf8_lossy(&c1),
            String::from_utf8_lossy(&c3)
        ),
        Err(e) => panic!(
            "to_canonical_vec rejects a value canonicalize accepted: {e}\noutput: {}",
            String::from_utf8_lossy(&c1)
        ),
    }
});
