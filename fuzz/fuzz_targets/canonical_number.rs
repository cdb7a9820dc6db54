//! ECMAScript number formatting: every finite double prints as text that
//! parses back to the same double, and that text is its own canonical form.

#![no_main]

use cos_core::canonical::{canonicalize, format_number};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some(bytes) = data.get(..8) else {
        return;
    };
    let mut bits = [0u8; 8];
    bits.copy_from_slice(bytes);
    let f = f64::from_bits(u64::from_le_bytes(bits));

    let Some(s) = format_number(f) else {
        assert!(
            !f.is_finite(),
            "format_number refused finite {f:e} ({bits:02x?})"
        );
        return;
    };
    assert!(f.is_finite(), "format_number accepted non-finite {f}");

    let back: f64 = match s.parse() {
        Ok(back) => back,
        Err(e) => panic!("{f:e} printed as {s:?}, which does not parse: {e}"),
    };
    assert!(
        back == f || (back == 0.0 && f == 0.0),
        "{f:e} (bits {:#018x}) printed as {s:?}, which parses as {back:e}",
        f.to_bits()
    );

    // The printed form is a valid canonical JSON number, unchanged by
    // canonicalisation.
    match canonicalize(s.as_bytes()) {
        Ok(c) => assert_eq!(
            c,
            s.as_bytes(),
            "{s:?} canonicalises to {:?}",
            String::from_utf8_lossy(&c)
        ),
        Err(e) => panic!("canonicalize rejects format_number output {s:?}: {e}"),
    }
});
