//! RFC 8785 canonicalisation: never panics; canonical output is a fixed
//! point, is valid JSON for serde_json, and the serde path
//! (`to_canonical_vec`) agrees with the text path.

#![no_main]

use cos_core::canonical::{canonicalize, to_canonical_vec};
use libfuzzer_sys::fuzz_target;

/// serde_json refuses to nest deeper than this (its default recursion limit
/// of 128 admits 127 levels), while `canonicalize` admits `MAX_DEPTH` = 128.
const SERDE_JSON_MAX_NESTING: usize = 127;

/// Nesting depth of JSON text that is already known to be valid.
fn depth(json: &[u8]) -> usize {
    let (mut d, mut max, mut in_str, mut esc) = (0usize, 0usize, false, false);
    for &b in json {
        if in_str {
            match (esc, b) {
                (true, _) => esc = false,
                (false, b'\\') => esc = true,
                (false, b'"') => in_str = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_str = true,
            b'[' | b'{' => {
                d += 1;
                max = max.max(d);
            }
            b']' | b'}' => d = d.saturating_sub(1),
            _ => {}
        }
    }
    max
}

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
    assert!(std::str::from_utf8(&c1).is_ok(), "canonical output is not UTF-8");

    if depth(&c1) > SERDE_JSON_MAX_NESTING {
        // Known, documented gap between the two parsers; not what we hunt here.
        return;
    }
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
