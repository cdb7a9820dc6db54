//! SBOM readers (CycloneDX and SPDX JSON) and the licence gate: never
//! panic; a document that reads writes in every format and reads back
//! (CycloneDX with the same components), merges and diffs with itself, and
//! can be checked against a licence policy.

#![no_main]

use cos_supplychain::license::Policy;
use cos_supplychain::sbom::{Format, Sbom, WriteOptions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = Policy::from_json(data);
    let Ok(sbom) = Sbom::from_json(data) else {
        return;
    };
    for format in [Format::CycloneDx15, Format::CycloneDx16, Format::Spdx23] {
        let bytes = sbom
            .write(format, &WriteOptions::at(0))
            .expect("a parsed SBOM writes");
        let back = Sbom::from_json(&bytes).expect("our output reads back");
        if format != Format::Spdx23 {
            assert_eq!(back.components.len(), sbom.components.len());
        }
    }
    let _ = sbom.diff(&sbom.merge(&sbom)).to_text();
    if let Ok(policy) = Policy::from_json(br#"{"allow": ["MIT", "Apache-2.0"], "deny": ["GPL-3.0-only"]}"#) {
        let _ = policy.check(&sbom).to_json();
    }
});
