//! SLSA provenance: build descriptions and provenance statements from
//! outside never panic the maker or the checker, and a statement the checker
//! accepts is about the artefact it was checked with.

#![no_main]

use cos_core::statement::Statement;
use cos_supplychain::slsa::{self, BuildDescription, Expectations};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(build) = BuildDescription::from_json(data) {
        if let Ok(p) = slsa::provenance(&build) {
            // What was made serialises.
            assert!(serde_json::to_vec(&p).is_ok());
        }
    }
    if let Ok(st) = Statement::from_json(data) {
        let expect = Expectations::new("https://builder", "github.com/o/r");
        if let Ok(v) = slsa::check(&st, b"artifact", &expect, String::new()) {
            assert!(st.subject_for(b"artifact").is_some());
            assert_eq!(v.source_uri, "github.com/o/r");
        }
    }
    let _ = slsa::normalize_source_uri(&String::from_utf8_lossy(data));
});
