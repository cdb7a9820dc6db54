//! Lockfile producers (`package-lock.json`, `requirements.txt`,
//! `poetry.lock`, `uv.lock`, `cargo metadata` JSON with a `Cargo.lock`):
//! never panic; whatever parses writes as CycloneDX 1.6 and SPDX 2.3 that
//! read back with the same components.

#![no_main]

use cos_supplychain::sbom::{CargoOptions, Format, NpmOptions, PythonOptions, Sbom, WriteOptions};
use libfuzzer_sys::fuzz_target;

fn check(sbom: Sbom) {
    for format in [Format::CycloneDx16, Format::Spdx23] {
        let bytes = sbom
            .write(format, &WriteOptions::at(0))
            .expect("a parsed SBOM writes");
        let back = Sbom::from_json(&bytes).expect("our output reads back");
        if format == Format::CycloneDx16 {
            assert_eq!(back.components.len(), sbom.components.len());
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let py = PythonOptions::default();
    // The first byte picks the parser, so the corpus can specialise.
    let Some((which, input)) = data.split_first() else {
        return;
    };
    let parsed = match which % 5 {
        0 => Sbom::from_package_lock(input, &NpmOptions::with_dev(which & 0x80 != 0)),
        1 => Sbom::from_requirements(input, &py),
        2 => Sbom::from_poetry_lock(input, &py),
        3 => Sbom::from_uv_lock(input, &py),
        _ => {
            // cargo metadata JSON, then (after a NUL) a Cargo.lock.
            let (meta, lock) = match input.iter().position(|b| *b == 0) {
                Some(i) => (&input[..i], Some(&input[i + 1..])),
                None => (input, None),
            };
            Sbom::from_cargo_metadata(meta, lock, &CargoOptions::default())
        }
    };
    if let Ok(sbom) = parsed {
        check(sbom);
    }
});
