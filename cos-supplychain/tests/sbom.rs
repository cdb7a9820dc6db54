//! SBOM producers, writers, readers, merge, diff and the licence gate, on
//! small fixture lockfiles (tests/data/sbom) and realistic foreign SBOMs.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers outside #[test] fns may panic"
)]

use std::path::PathBuf;

use cos_supplychain::license::{Outcome, Policy};
use cos_supplychain::sbom::{
    CargoOptions, Component, Format, HashAlgorithm, License, NpmOptions, PythonOptions, Sbom,
    Scope, WriteOptions,
};

fn data(path: &str) -> Vec<u8> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/sbom")
        .join(path);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn purls(s: &Sbom) -> Vec<String> {
    s.components
        .iter()
        .map(|c| c.purl.clone().unwrap_or_default())
        .collect()
}

fn find<'a>(s: &'a Sbom, purl: &str) -> &'a Component {
    s.all_components()
        .find(|c| c.purl.as_deref() == Some(purl))
        .unwrap_or_else(|| panic!("{purl} not in {:?}", purls(s)))
}

fn deps(s: &Sbom, bom_ref: &str) -> Vec<String> {
    s.dependencies
        .get(bom_ref)
        .map(|d| d.iter().cloned().collect())
        .unwrap_or_default()
}

fn edges(s: &Sbom) -> Vec<(String, String)> {
    s.dependencies
        .iter()
        .flat_map(|(a, bs)| bs.iter().map(move |b| (a.clone(), b.clone())))
        .collect()
}

const T: u64 = 1_700_000_000;
const ALL_FORMATS: [Format; 3] = [Format::CycloneDx15, Format::CycloneDx16, Format::Spdx23];

fn cargo_workspace() -> Sbom {
    Sbom::from_cargo_metadata(
        &data("cargo/workspace-metadata.json"),
        Some(&data("cargo/Cargo.lock")),
        &CargoOptions::default(),
    )
    .unwrap()
}

fn npm_v3() -> Sbom {
    Sbom::from_package_lock(&data("npm-v3/package-lock.json"), &NpmOptions::default()).unwrap()
}

fn all_fixtures() -> Vec<(&'static str, Sbom)> {
    let py = PythonOptions::with_root("demo");
    vec![
        ("cargo", cargo_workspace()),
        (
            "cargo-app",
            Sbom::from_cargo_metadata(
                &data("cargo/app-linux-fast-metadata.json"),
                Some(&data("cargo/Cargo.lock")),
                &CargoOptions::default(),
            )
            .unwrap(),
        ),
        ("npm-v3", npm_v3()),
        (
            "npm-v2",
            Sbom::from_package_lock(&data("npm-v2/package-lock.json"), &NpmOptions::default())
                .unwrap(),
        ),
        (
            "requirements",
            Sbom::from_requirements(&data("python/requirements.txt"), &py).unwrap(),
        ),
        (
            "poetry",
            Sbom::from_poetry_lock(&data("python/poetry.lock"), &py).unwrap(),
        ),
        (
            "poetry-1.1",
            Sbom::from_poetry_lock(&data("python/poetry-1.1.lock"), &py).unwrap(),
        ),
        (
            "uv",
            Sbom::from_uv_lock(&data("python/uv.lock"), &py).unwrap(),
        ),
    ]
}

// ------------------------------------------------------------------ producers

#[test]
fn cargo_workspace_graph_leaves_out_dev_dependencies() {
    let s = cargo_workspace();
    let root = s.root.as_ref().unwrap();
    assert_eq!(root.name, "demo");
    assert_eq!(
        deps(&s, &root.bom_ref),
        ["pkg:cargo/demo-app@0.3.0", "pkg:cargo/demo-util@0.1.0"]
    );
    let p = purls(&s);
    assert!(
        !p.iter().any(|p| p.contains("/hex@")),
        "dev-dependency: {p:?}"
    );
    for want in ["cfg-if", "itoa", "ryu", "zeroize", "demo-app", "demo-util"] {
        assert!(
            p.iter().any(|p| p.contains(&format!("/{want}@"))),
            "{want}: {p:?}"
        );
    }
    let app = find(&s, "pkg:cargo/demo-app@0.3.0");
    // Legacy `MIT/Apache-2.0`.
    assert_eq!(
        app.license,
        Some(License::Expression("MIT OR Apache-2.0".into()))
    );
    assert_eq!(app.authors, ["Demo Team <team@example.com>"]);
    // Build dependencies are followed.
    assert!(deps(&s, &app.bom_ref).iter().any(|d| d.contains("cfg-if")));
    let util = find(&s, "pkg:cargo/demo-util@0.1.0");
    assert_eq!(util.license, None);
    assert_eq!(
        util.properties
            .get("cos:cargo:license-file")
            .map(String::as_str),
        Some("LICENSE.txt")
    );
    let itoa = s.components.iter().find(|c| c.name == "itoa").unwrap();
    assert_eq!(itoa.hashes.len(), 1);
    assert_eq!(itoa.hashes[0].algorithm, HashAlgorithm::Sha256);
}

#[test]
fn cargo_single_package_with_target_and_features() {
    let s = Sbom::from_cargo_metadata(
        &data("cargo/app-linux-fast-metadata.json"),
        Some(&data("cargo/Cargo.lock")),
        &CargoOptions::default(),
    )
    .unwrap();
    assert_eq!(
        s.root.as_ref().unwrap().purl.as_deref(),
        Some("pkg:cargo/demo-app@0.3.0")
    );
    let p = purls(&s);
    assert!(
        p.iter().any(|p| p.contains("/memchr@")),
        "feature `fast`: {p:?}"
    );
    assert!(
        !p.iter().any(|p| p.contains("/zeroize@")),
        "cfg(windows) on linux: {p:?}"
    );
    assert!(!p.iter().any(|p| p.contains("/hex@")));
    // Choosing a member explicitly.
    let util = Sbom::from_cargo_metadata(
        &data("cargo/workspace-metadata.json"),
        None,
        &CargoOptions::with_packages(vec!["demo-util".into()]),
    )
    .unwrap();
    assert_eq!(util.root.as_ref().unwrap().name, "demo-util");
    assert_eq!(purls(&util).len(), 1);
    assert!(util.components[0].hashes.is_empty(), "no Cargo.lock given");
    let e = Sbom::from_cargo_metadata(
        &data("cargo/workspace-metadata.json"),
        None,
        &CargoOptions::with_packages(vec!["nope".into()]),
    )
    .unwrap_err();
    assert_eq!(e.code(), "invalid_lockfile");
}

#[test]
fn npm_v3_resolves_nesting_and_leaves_out_dev() {
    let s = npm_v3();
    let root = s.root.as_ref().unwrap();
    assert_eq!(root.purl.as_deref(), Some("pkg:npm/shop-web@2.1.0"));
    let p = purls(&s);
    assert!(
        !p.iter()
            .any(|p| p.contains("jest") || p.contains("old-sha1")),
        "{p:?}"
    );
    assert_eq!(p.len(), 11, "{p:?}");
    // Scoped names: namespace %40scope, CycloneDX group.
    let babel = find(&s, "pkg:npm/%40babel/runtime@7.24.5");
    assert_eq!(babel.group.as_deref(), Some("@babel"));
    assert_eq!(babel.name, "runtime");
    assert_eq!(babel.hashes[0].algorithm, HashAlgorithm::Sha512);
    // express needs its nested ms@2.0.0, not the top-level 2.1.3.
    assert!(deps(&s, "pkg:npm/express@4.19.2").contains(&"pkg:npm/ms@2.0.0".to_string()));
    assert!(!deps(&s, "pkg:npm/express@4.19.2").contains(&"pkg:npm/ms@2.1.3".to_string()));
    assert_eq!(
        deps(&s, "pkg:npm/ui@0.0.1"),
        ["pkg:npm/cookie@0.6.0", "pkg:npm/left-pad@1.3.0"]
    );
    let root_deps = deps(&s, &root.bom_ref);
    for d in [
        "express@4.19.2",
        "ui@0.0.1",
        "fsevents@2.3.3",
        "runtime@7.24.5",
    ] {
        assert!(
            root_deps.iter().any(|r| r.ends_with(d)),
            "{d}: {root_deps:?}"
        );
    }
    assert_eq!(find(&s, "pkg:npm/fsevents@2.3.3").scope, Scope::Optional);
    assert_eq!(find(&s, "pkg:npm/no-license@1.0.0").license, None);
    assert_eq!(
        find(&s, "pkg:npm/left-pad@1.3.0").license,
        Some(License::Expression("WTFPL".into()))
    );
    // With dev packages.
    let dev = Sbom::from_package_lock(
        &data("npm-v3/package-lock.json"),
        &NpmOptions::with_dev(true),
    )
    .unwrap();
    let old = find(&dev, "pkg:npm/old-sha1@1.0.0");
    assert_eq!(old.hashes[0].algorithm, HashAlgorithm::Sha1);
}

#[test]
fn npm_v2_and_legacy_license_objects() {
    let s =
        Sbom::from_package_lock(&data("npm-v2/package-lock.json"), &NpmOptions::default()).unwrap();
    assert!(!purls(&s).iter().any(|p| p.contains("typescript")));
    assert_eq!(
        find(&s, "pkg:npm/legacy-lic@0.1.0").license,
        Some(License::Expression("BSD-3-Clause".into()))
    );
    assert_eq!(
        deps(&s, "pkg:npm/%40types/node@20.12.7"),
        ["pkg:npm/undici-types@5.26.5"]
    );
}

#[test]
fn requirements_are_flat_and_said_so() {
    let s = Sbom::from_requirements(
        &data("python/requirements.txt"),
        &PythonOptions::with_root("svc"),
    )
    .unwrap();
    let p = purls(&s);
    assert_eq!(
        p,
        [
            "pkg:pypi/certifi@2024.8.30",
            "pkg:pypi/charset-normalizer@3.4.0",
            "pkg:pypi/idna@3.10",
            "pkg:pypi/requests@2.32.3",
            "pkg:pypi/typing-extensions@4.12.2",
            "pkg:pypi/urllib3@2.2.3",
        ]
    );
    assert_eq!(find(&s, "pkg:pypi/certifi@2024.8.30").hashes.len(), 2);
    let root = s.root.as_ref().unwrap();
    assert_eq!(deps(&s, &root.bom_ref).len(), 6);
    assert_eq!(
        s.dependencies.len(),
        1,
        "only the root's relations are known"
    );
    assert!(s.properties["cos:dependency-graph"].starts_with("flat"));
}

#[test]
fn poetry_2_groups_and_1_1_categories() {
    let s = Sbom::from_poetry_lock(
        &data("python/poetry.lock"),
        &PythonOptions::with_root("svc"),
    )
    .unwrap();
    assert_eq!(
        purls(&s),
        [
            "pkg:pypi/certifi@2024.8.30",
            "pkg:pypi/idna@3.10",
            "pkg:pypi/requests@2.32.3",
            "pkg:pypi/zope-interface@7.1.0",
        ]
    );
    assert_eq!(
        deps(&s, "pkg:pypi/requests@2.32.3"),
        ["pkg:pypi/certifi@2024.8.30", "pkg:pypi/idna@3.10"]
    );
    assert_eq!(
        deps(&s, "pkg:pypi/svc"),
        ["pkg:pypi/requests@2.32.3", "pkg:pypi/zope-interface@7.1.0"]
    );
    assert_eq!(
        find(&s, "pkg:pypi/zope-interface@7.1.0").scope,
        Scope::Optional
    );
    assert_eq!(find(&s, "pkg:pypi/certifi@2024.8.30").hashes.len(), 2);
    let mut with_dev = PythonOptions::with_root("svc");
    with_dev.include_dev = true;
    let dev = Sbom::from_poetry_lock(&data("python/poetry.lock"), &with_dev).unwrap();
    assert_eq!(
        deps(&dev, "pkg:pypi/pytest@8.3.3"),
        ["pkg:pypi/colorama@0.4.6"]
    );

    let old =
        Sbom::from_poetry_lock(&data("python/poetry-1.1.lock"), &PythonOptions::default()).unwrap();
    assert_eq!(
        purls(&old),
        ["pkg:pypi/click@8.1.7", "pkg:pypi/colorama@0.4.6"]
    );
    assert_eq!(
        find(&old, "pkg:pypi/click@8.1.7").hashes.len(),
        1,
        "[metadata.files]"
    );
    assert_eq!(old.root.as_ref().unwrap().name, "python-project");
}

#[test]
fn uv_walks_from_the_project() {
    let s = Sbom::from_uv_lock(&data("python/uv.lock"), &PythonOptions::default()).unwrap();
    let root = s.root.as_ref().unwrap();
    assert_eq!(root.purl.as_deref(), Some("pkg:pypi/my-service@0.4.0"));
    assert_eq!(
        purls(&s),
        [
            "pkg:pypi/anyio@4.6.2",
            "pkg:pypi/click@8.1.7",
            "pkg:pypi/idna@3.10",
            "pkg:pypi/sniffio@1.3.1",
        ]
    );
    assert_eq!(find(&s, "pkg:pypi/click@8.1.7").scope, Scope::Optional);
    assert_eq!(
        find(&s, "pkg:pypi/anyio@4.6.2").hashes.len(),
        2,
        "sdist and wheel"
    );
    let mut with_dev = PythonOptions::default();
    with_dev.include_dev = true;
    let dev = Sbom::from_uv_lock(&data("python/uv.lock"), &with_dev).unwrap();
    assert!(purls(&dev).contains(&"pkg:pypi/iniconfig@2.0.0".to_string()));
}

// ------------------------------------------------------------------ malformed input

#[test]
fn malformed_inputs_are_typed_errors() {
    let none = PythonOptions::default();
    let cases: Vec<(&str, cos_supplychain::Error)> = vec![
        (
            "npm not json",
            Sbom::from_package_lock(b"{", &NpmOptions::default()).unwrap_err(),
        ),
        (
            "npm v1",
            Sbom::from_package_lock(
                br#"{"lockfileVersion": 1, "dependencies": {}}"#,
                &NpmOptions::default(),
            )
            .unwrap_err(),
        ),
        (
            "npm packages not a map",
            Sbom::from_package_lock(
                br#"{"lockfileVersion": 3, "packages": []}"#,
                &NpmOptions::default(),
            )
            .unwrap_err(),
        ),
        (
            "req unpinned",
            Sbom::from_requirements(b"requests>=2\n", &none).unwrap_err(),
        ),
        (
            "req bad hash",
            Sbom::from_requirements(b"a==1 --hash=sha256:zz\n", &none).unwrap_err(),
        ),
        (
            "req not utf8",
            Sbom::from_requirements(b"\xff\xfe", &none).unwrap_err(),
        ),
        (
            "poetry",
            Sbom::from_poetry_lock(b"[[package]]\nname = 1\n", &none).unwrap_err(),
        ),
        (
            "uv",
            Sbom::from_uv_lock(b"version = 2\n", &none).unwrap_err(),
        ),
        (
            "uv toml",
            Sbom::from_uv_lock(b"[[package]\n", &none).unwrap_err(),
        ),
        (
            "cargo",
            Sbom::from_cargo_metadata(b"{\"version\": 1}", None, &CargoOptions::default())
                .unwrap_err(),
        ),
        (
            "cargo lock",
            Sbom::from_cargo_metadata(
                &data("cargo/workspace-metadata.json"),
                Some(b"[[package]\n"),
                &CargoOptions::default(),
            )
            .unwrap_err(),
        ),
    ];
    for (what, e) in cases {
        assert_eq!(e.code(), "invalid_lockfile", "{what}: {e}");
    }
    for bad in [
        &b"{"[..],
        br#"{"bomFormat": "CycloneDX", "specVersion": "2.0"}"#,
        br#"{"bomFormat": "CycloneDX", "specVersion": "1.6", "components": {}}"#,
        br#"{"bomFormat": "CycloneDX", "specVersion": "1.6", "components": [{"type": "library"}]}"#,
        br#"{"spdxVersion": "SPDX-3.0"}"#,
        br#"{"spdxVersion": "SPDX-2.3", "packages": [{"name": "x"}]}"#,
        br#"{"hello": 1}"#,
    ] {
        let e = Sbom::from_json(bad).unwrap_err();
        assert_eq!(e.code(), "invalid_sbom", "{}", String::from_utf8_lossy(bad));
    }
    let huge = vec![b' '; (cos_supplychain::sbom::MAX_INPUT_SIZE + 1) as usize];
    assert_eq!(
        Sbom::from_package_lock(&huge, &NpmOptions::default())
            .unwrap_err()
            .code(),
        "invalid_lockfile"
    );
}

// ------------------------------------------------------------------ writers

#[test]
fn output_is_byte_identical_across_runs() {
    for (name, s) in all_fixtures() {
        for f in ALL_FORMATS {
            let a = s.write(f, &WriteOptions::at(T)).unwrap();
            // A fresh parse of the same input, written again.
            let again = all_fixtures()
                .into_iter()
                .find(|(n, _)| *n == name)
                .unwrap()
                .1
                .write(f, &WriteOptions::at(T))
                .unwrap();
            assert_eq!(a, again, "{name} {f}");
            let later = s.write(f, &WriteOptions::at(T + 1)).unwrap();
            assert_ne!(a, later, "{name} {f}: the timestamp is in the document");
        }
    }
}

#[test]
fn cyclonedx_shape() {
    let s = npm_v3();
    for (f, spec) in [(Format::CycloneDx15, "1.5"), (Format::CycloneDx16, "1.6")] {
        let v: serde_json::Value =
            serde_json::from_slice(&s.write(f, &WriteOptions::at(T)).unwrap()).unwrap();
        assert_eq!(v["specVersion"], spec);
        assert_eq!(v["metadata"]["timestamp"], "2023-11-14T22:13:20Z");
        let serial = v["serialNumber"].as_str().unwrap();
        assert!(
            serial.starts_with("urn:uuid:") && serial.len() == 45,
            "{serial}"
        );
        assert_eq!(
            v["metadata"]["component"]["bom-ref"],
            "pkg:npm/shop-web@2.1.0"
        );
        let comps = v["components"].as_array().unwrap();
        let refs: Vec<&str> = comps
            .iter()
            .map(|c| c["bom-ref"].as_str().unwrap())
            .collect();
        let mut sorted = refs.clone();
        sorted.sort();
        assert_eq!(refs, sorted);
        let babel = comps.iter().find(|c| c["name"] == "runtime").unwrap();
        assert_eq!(babel["group"], "@babel");
        assert_eq!(babel["purl"], "pkg:npm/%40babel/runtime@7.24.5");
        assert_eq!(babel["hashes"][0]["alg"], "SHA-512");
        assert_eq!(babel["licenses"][0]["expression"], "MIT");
        assert!(v["dependencies"].as_array().unwrap().len() >= 5);
    }
}

#[test]
fn spdx_shape() {
    let s = npm_v3();
    let v: serde_json::Value =
        serde_json::from_slice(&s.write(Format::Spdx23, &WriteOptions::at(T)).unwrap()).unwrap();
    assert_eq!(v["spdxVersion"], "SPDX-2.3");
    assert_eq!(v["creationInfo"]["created"], "2023-11-14T22:13:20Z");
    // `major.minor`, as pyspdxtools requires.
    let list = v["creationInfo"]["licenseListVersion"].as_str().unwrap();
    assert_eq!(list.split('.').count(), 2, "{list}");
    assert!(
        v["documentNamespace"]
            .as_str()
            .unwrap()
            .starts_with("https://spdx.org/spdxdocs/shop-web-2.1.0-")
    );
    let pkgs = v["packages"].as_array().unwrap();
    assert_eq!(pkgs.len(), 12);
    for p in pkgs {
        let id = p["SPDXID"].as_str().unwrap();
        assert!(
            id.starts_with("SPDXRef-")
                && id[8..]
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-'),
            "{id}"
        );
    }
    let rels = v["relationships"].as_array().unwrap();
    assert!(
        rels.iter()
            .any(|r| r["relationshipType"] == "DESCRIBES"
                && r["spdxElementId"] == "SPDXRef-DOCUMENT")
    );
    assert!(
        rels.iter()
            .filter(|r| r["relationshipType"] == "DEPENDS_ON")
            .count()
            >= 8
    );
    let babel = pkgs.iter().find(|p| p["name"] == "@babel/runtime").unwrap();
    assert_eq!(babel["checksums"][0]["algorithm"], "SHA512");
    assert_eq!(
        babel["externalRefs"][0]["referenceLocator"],
        "pkg:npm/%40babel/runtime@7.24.5"
    );
    assert_eq!(babel["licenseDeclared"], "MIT");
    assert_eq!(babel["licenseConcluded"], "NOASSERTION");
}

#[test]
fn non_spdx_licences_become_license_refs() {
    let mut s = npm_v3();
    s.components[0].license = Some(License::Named("Proprietary, see LICENSE".into()));
    let v: serde_json::Value =
        serde_json::from_slice(&s.write(Format::Spdx23, &WriteOptions::at(T)).unwrap()).unwrap();
    let infos = v["hasExtractedLicensingInfos"].as_array().unwrap();
    assert_eq!(infos.len(), 1);
    let id = infos[0]["licenseId"].as_str().unwrap();
    assert!(
        id.starts_with("LicenseRef-Proprietary--see-LICENSE-"),
        "{id}"
    );
    let back = Sbom::from_json(&s.write(Format::Spdx23, &WriteOptions::at(T)).unwrap()).unwrap();
    assert_eq!(back.components[0].license, s.components[0].license);
    // CycloneDX keeps the name.
    let back =
        Sbom::from_json(&s.write(Format::CycloneDx16, &WriteOptions::at(T)).unwrap()).unwrap();
    assert_eq!(back.components[0].license, s.components[0].license);
}

// ------------------------------------------------------------------ readers

#[test]
fn our_output_reads_back() {
    for (name, s) in all_fixtures() {
        for f in [Format::CycloneDx15, Format::CycloneDx16] {
            let back = Sbom::from_json(&s.write(f, &WriteOptions::at(T)).unwrap()).unwrap();
            // CycloneDX 1.5 joins authors into one string.
            let mut want = s.clone();
            if f == Format::CycloneDx15 {
                for c in want.components.iter_mut().chain(want.root.iter_mut()) {
                    if c.authors.len() > 1 {
                        c.authors = vec![c.authors.join(", ")];
                    }
                }
            }
            assert_eq!(back, want, "{name} {f}");
        }
        let back =
            Sbom::from_json(&s.write(Format::Spdx23, &WriteOptions::at(T)).unwrap()).unwrap();
        // SPDX has relationships, not "no dependencies" entries: compare edges.
        assert_eq!(edges(&back), edges(&s), "{name} spdx graph");
        assert_eq!(back.properties, s.properties, "{name} spdx properties");
        assert_eq!(purls(&back), purls(&s), "{name} spdx");
        for (a, b) in back.components.iter().zip(&s.components) {
            assert_eq!(
                (&a.hashes, &a.license, a.scope, &a.group, &a.name),
                (&b.hashes, &b.license, b.scope, &b.group, &b.name),
                "{name}"
            );
        }
        assert!(
            s.diff(&back).is_empty(),
            "{name}: {}",
            s.diff(&back).to_text()
        );
    }
}

#[test]
fn foreign_cyclonedx() {
    let cdxgen = Sbom::from_json(&data("foreign/cdxgen-1.6.cdx.json")).unwrap();
    assert_eq!(cdxgen.root.as_ref().unwrap().name, "shop-web");
    let babel = find(&cdxgen, "pkg:npm/%40babel/runtime@7.24.5");
    assert_eq!(babel.group.as_deref(), Some("@babel"));
    assert_eq!(babel.license, Some(License::Expression("MIT".into())));
    assert_eq!(
        find(&cdxgen, "pkg:npm/fsevents@2.3.3").scope,
        Scope::Optional
    );
    // Several licences: all apply.
    assert_eq!(
        find(&cdxgen, "pkg:npm/dual@1.0.0").license,
        Some(License::Expression("MIT AND Apache-2.0".into()))
    );
    // Nested components are read.
    find(&cdxgen, "pkg:npm/dual-sub@1.0.0");
    assert_eq!(deps(&cdxgen, "pkg:npm/shop-web@2.1.0").len(), 4);

    let syft = Sbom::from_json(&data("foreign/syft-1.5.cdx.json")).unwrap();
    assert_eq!(
        deps(&syft, "pkg:npm/express@4.19.2?package-id=aa11"),
        ["pkg:npm/ms@2.1.3?package-id=4f1b4c1f2a5d3e0b"]
    );
    assert_eq!(
        find(&syft, "pkg:npm/left-pad@1.3.0").license,
        Some(License::Expression("WTFPL".into()))
    );

    let cargo = Sbom::from_json(&data("foreign/cargo-cyclonedx-1.4.cdx.json")).unwrap();
    let itoa = find(&cargo, "pkg:cargo/itoa@1.0.19");
    assert_eq!(itoa.authors, ["David Tolnay <dtolnay@gmail.com>"]);
    assert_eq!(itoa.hashes.len(), 1);
    assert_eq!(deps(&cargo, &cargo.root.as_ref().unwrap().bom_ref).len(), 2);
}

#[test]
fn foreign_spdx() {
    let syft = Sbom::from_json(&data("foreign/syft-2.3.spdx.json")).unwrap();
    assert_eq!(syft.root.as_ref().unwrap().name, "/app");
    assert_eq!(
        deps(&syft, "pkg:npm/express@4.19.2"),
        ["pkg:npm/ms@2.1.3"],
        "DEPENDENCY_OF"
    );
    assert_eq!(
        find(&syft, "pkg:npm/custom@0.0.1").license,
        Some(License::Named("Custom EULA".into()))
    );
    assert_eq!(
        find(&syft, "pkg:npm/express@4.19.2").supplier.as_deref(),
        Some("TJ Holowaychuk <tj@vision-media.ca>")
    );
    let gh = Sbom::from_json(&data("foreign/github-dependency-graph.spdx.json")).unwrap();
    let root = gh.root.as_ref().unwrap();
    assert_eq!(root.purl.as_deref(), Some("pkg:github/acme/shop-web@main"));
    assert_eq!(deps(&gh, &root.bom_ref).len(), 3);
    // licenseConcluded when nothing is declared.
    assert_eq!(
        find(&gh, "pkg:npm/ms@2.1.3").license,
        Some(License::Expression("MIT".into()))
    );
    assert_eq!(find(&gh, "pkg:npm/cookie@0.7.0").license, None);
}

// ------------------------------------------------------------------ merge and diff

#[test]
fn merge_unites_by_purl() {
    let ours = npm_v3();
    let gh = Sbom::from_json(&data("foreign/github-dependency-graph.spdx.json")).unwrap();
    let m = ours.merge(&gh);
    assert_eq!(
        m.root.as_ref().unwrap().purl,
        ours.root.as_ref().unwrap().purl
    );
    // ms@2.1.3 and express@4.19.2 are in both: once each, our hashes kept.
    assert_eq!(
        m.components
            .iter()
            .filter(|c| c.purl.as_deref() == Some("pkg:npm/ms@2.1.3"))
            .count(),
        1
    );
    assert!(!find(&m, "pkg:npm/ms@2.1.3").hashes.is_empty());
    // cookie@0.7.0 only in GitHub's, the GitHub root becomes a component.
    find(&m, "pkg:npm/cookie@0.7.0");
    let gh_root = find(&m, "pkg:github/acme/shop-web@main");
    assert_eq!(deps(&m, &gh_root.bom_ref).len(), 3);
    assert_eq!(
        deps(&m, "pkg:npm/express@4.19.2"),
        deps(&ours, "pkg:npm/express@4.19.2")
    );
    // Merging with itself changes nothing.
    let same = ours.merge(&ours);
    assert!(ours.diff(&same).is_empty());
    assert_eq!(purls(&same), purls(&ours));
    // Output of a merge is deterministic.
    let a = m.write(Format::CycloneDx16, &WriteOptions::at(T)).unwrap();
    assert_eq!(
        a,
        ours.merge(&gh)
            .write(Format::CycloneDx16, &WriteOptions::at(T))
            .unwrap()
    );
}

#[test]
fn diff_reports_versions_licences_hashes() {
    let before = npm_v3();
    let mut after = before.clone();
    // A version bump, a licence change, a hash change, a removal, an addition.
    let i = after
        .components
        .iter()
        .position(|c| c.name == "cookie")
        .unwrap();
    after.components[i].version = Some("0.7.0".into());
    after.components[i].purl = Some("pkg:npm/cookie@0.7.0".into());
    after.components[i].bom_ref = "pkg:npm/cookie@0.7.0".into();
    let j = after
        .components
        .iter()
        .position(|c| c.name == "left-pad")
        .unwrap();
    after.components[j].license = Some(License::Expression("MIT".into()));
    let k = after
        .components
        .iter()
        .position(|c| c.name == "regenerator-runtime")
        .unwrap();
    after.components[k].hashes[0].value = "0".repeat(128);
    after.components.retain(|c| c.name != "no-license");
    let mut extra = after.components[0].clone();
    extra.name = "new-thing".into();
    extra.group = None;
    extra.purl = Some("pkg:npm/new-thing@1.0.0".into());
    extra.bom_ref = "pkg:npm/new-thing@1.0.0".into();
    after.components.push(extra);
    after.normalize();
    let d = before.diff(&after);
    assert_eq!(d.added.len(), 1, "{}", d.to_text());
    assert_eq!(d.added[0].purl.as_deref(), Some("pkg:npm/new-thing@1.0.0"));
    assert_eq!(d.removed.len(), 1);
    assert_eq!(d.removed[0].package, "pkg:npm/no-license");
    let fields: Vec<(&str, &str)> = d
        .changed
        .iter()
        .map(|c| (c.package.as_str(), c.field.as_str()))
        .collect();
    assert_eq!(
        fields,
        [
            ("pkg:npm/cookie", "version"),
            ("pkg:npm/left-pad", "license"),
            ("pkg:npm/regenerator-runtime", "hashes"),
        ]
    );
    let text = d.to_text();
    assert!(
        text.contains("~ pkg:npm/cookie: version 0.6.0 -> 0.7.0"),
        "{text}"
    );
    assert!(text.ends_with("1 added, 1 removed, 3 changed\n"), "{text}");
    let json = d.to_json();
    assert_eq!(json["changed"][1]["after"], "MIT");
    // Across formats: our SPDX against our CycloneDX of the same input.
    let cdx = Sbom::from_json(
        &before
            .write(Format::CycloneDx16, &WriteOptions::at(T))
            .unwrap(),
    )
    .unwrap();
    let spdx =
        Sbom::from_json(&before.write(Format::Spdx23, &WriteOptions::at(T)).unwrap()).unwrap();
    assert!(cdx.diff(&spdx).is_empty(), "{}", cdx.diff(&spdx).to_text());
}

// ------------------------------------------------------------------ licence gate

#[test]
fn license_gate_on_fixtures() {
    let policy = Policy::from_json(
        br#"{"allow": ["MIT", "Apache-2.0", "ISC", "BSD-3-Clause"], "deny": ["WTFPL"], "unknown": "block"}"#,
    )
    .unwrap();
    let report = policy.check(&npm_v3());
    assert!(!report.passed());
    let blocked: Vec<(&str, &str)> = report
        .blocked()
        .map(|c| (c.name.as_str(), c.reason.as_str()))
        .collect();
    assert_eq!(blocked, [("left-pad", "denied"), ("no-license", "missing")]);
    let json = report.to_json();
    assert_eq!(json["counts"]["block"], 2);
    assert_eq!(json, policy.check(&npm_v3()).to_json(), "deterministic");
    assert!(
        report
            .to_text()
            .contains("BLOCK pkg:npm/left-pad@1.3.0 (WTFPL): denied: WTFPL")
    );

    let lenient = Policy::from_json(
        br#"{"allow": ["MIT", "Apache-2.0"], "unknown": "warn", "ignore": ["pkg:npm/left-pad"]}"#,
    )
    .unwrap();
    let r = lenient.check(&npm_v3());
    assert!(r.passed(), "{}", r.to_text());
    assert!(r.components.iter().any(|c| c.outcome == Outcome::Warn));
    assert!(r.components.iter().any(|c| c.outcome == Outcome::Ignored));
    // The cargo workspace: demo-util has only a licence file.
    let r = lenient.check(&cargo_workspace());
    assert!(
        r.components
            .iter()
            .any(|c| c.name == "demo-util" && c.reason == "missing")
    );
}

// ------------------------------------------------------- text from outside

/// The escape string of issue 26 (JSON text), and what it is once parsed.
const ATTACK_JSON: &str =
    r"CVE-2024-0001\u001b]0;PWNED\u0007\u001b[2J\u001b[1A\u001b[2KCVE gate: PASS\u202e";
const ATTACK: &str =
    "CVE-2024-0001\u{1b}]0;PWNED\u{7}\u{1b}[2J\u{1b}[1A\u{1b}[2KCVE gate: PASS\u{202e}";

fn assert_inert(text: &str) {
    let raw: Vec<char> = text
        .chars()
        .filter(|&c| c != '\n' && cos_core::text::must_escape(c))
        .collect();
    assert!(raw.is_empty(), "raw {raw:?} in {text}");
}

/// A CycloneDX SBOM whose component names, versions and licences carry
/// the escape string.
fn poisoned_sbom(version: &str, licence: &str) -> Sbom {
    let a = ATTACK_JSON;
    let doc = format!(
        r#"{{"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1, "components": [
            {{"type": "library", "bom-ref": "x", "name": "{a}named", "version": "{a}{version}",
              "licenses": [{{"expression": "{licence}"}}]}},
            {{"type": "library", "bom-ref": "y", "name": "{a}{version}-only", "version": "1",
              "licenses": [{{"license": {{"name": "{a}"}}}}]}},
            {{"type": "library", "bom-ref": "z", "name": "gpl", "version": "1",
              "licenses": [{{"expression": "GPL-3.0-only"}}]}}
        ]}}"#
    );
    Sbom::from_json(doc.as_bytes()).unwrap()
}

#[test]
fn licence_gate_and_diff_text_escape_what_sboms_say() {
    let before = poisoned_sbom("1.0", "MIT");
    let after = poisoned_sbom("2.0", "MIT AND GPL-3.0-only");
    assert!(after.components.iter().any(|c| c.name.starts_with(ATTACK)));
    let shown = cos_core::text::shown(ATTACK);

    let diff = before.diff(&after);
    assert!(!diff.is_empty());
    let text = diff.to_text();
    assert_inert(&text);
    assert!(text.contains(&shown), "{text}");
    assert!(
        text.contains("+ ") && text.contains("- ") && text.contains("~ "),
        "{text}"
    );

    let policy =
        Policy::from_json(br#"{"allow": ["MIT"], "deny": ["GPL-3.0-only"], "unknown": "block"}"#)
            .unwrap();
    let report = policy.check(&after);
    assert!(!report.passed());
    let text = report.to_text();
    assert_inert(&text);
    assert!(text.contains(&shown), "{text}");
    assert!(text.contains("is not an SPDX expression"), "{text}");
    assert!(text.ends_with("blocked, 0 warned)\n"), "{text}");
    assert_eq!(text.matches("license gate:").count(), 1, "{text}");
}
