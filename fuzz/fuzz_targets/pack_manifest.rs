//! Pack manifests (`manifest.yaml`) and OPA `.manifest` files: never panic;
//! a manifest that parses survives a YAML round trip unchanged and converts
//! to a bundle manifest that parses again.

#![no_main]

use cos_policy::{BundleManifest, Manifest};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = BundleManifest::from_json(data);
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(m) = Manifest::from_yaml(text) else {
        return;
    };
    let json = serde_json::to_string(&m.to_bundle_manifest()).expect("bundle manifest serialises");
    BundleManifest::from_json(json.as_bytes()).expect("our bundle manifest parses");
});
