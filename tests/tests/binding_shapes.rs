//! The binding stubs agree with the crates' option structs (ADR-0020):
//! every field of an options struct the bindings read is declared in
//! `bindings/node/index.d.ts` (camelCase) and in the Python stub
//! `bindings/python/python/companyos/_native.pyi` (snake_case, with the
//! struct's default), and nothing else is. A field added in Rust and
//! missing from a stub fails here.
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test: a stub that cannot be read fails it"
)]

use std::path::Path;

use cos_core::shape::fields;
use cos_policy::distribution::http::ClientConfig;
use cos_policy::store::StoreConfig;
use serde_json::Value;

fn read(rel: &str) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    std::fs::read_to_string(root.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn camel(snake: &str) -> String {
    let mut out = String::new();
    let mut up = false;
    for c in snake.chars() {
        if c == '_' {
            up = true;
        } else if up {
            out.extend(c.to_uppercase());
            up = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// The property names of `export interface <name> { ... }`.
fn ts_interface(dts: &str, name: &str) -> Vec<String> {
    let start = dts
        .find(&format!("export interface {name} {{"))
        .unwrap_or_else(|| panic!("index.d.ts has no interface {name}"));
    let body = &dts[start..];
    let end = body.find("\n}").expect("interface closes");
    body[..end]
        .lines()
        .skip(1)
        .filter_map(|l| {
            let l = l.trim();
            if l.starts_with("/*") || l.starts_with('*') || l.starts_with("//") {
                return None;
            }
            let name = l.split([':', '?']).next()?.trim();
            (!name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
                .then(|| name.to_owned())
        })
        .collect()
}

/// The defaults the `index.d.ts` interface `name` documents: `(default 4)`,
/// `(default 32 MiB)`, `(default true)` in a property's doc comment.
fn ts_documented_defaults(dts: &str, name: &str) -> Vec<(String, Value)> {
    let start = dts
        .find(&format!("export interface {name} {{"))
        .expect("interface");
    let body = &dts[start..];
    let body = &body[..body.find("\n}").expect("interface closes")];
    let mut out = Vec::new();
    let mut doc: Option<Value> = None;
    for line in body.lines().skip(1) {
        let l = line.trim();
        if l.starts_with("/**") {
            doc = l.split_once("(default ").and_then(|(_, rest)| {
                let text: String = rest
                    .chars()
                    .take_while(|c| *c != ')' && *c != ';')
                    .collect();
                let mut words = text.split_whitespace();
                let first = words.next()?;
                match (first, words.next()) {
                    ("true", _) => Some(Value::Bool(true)),
                    ("false", _) => Some(Value::Bool(false)),
                    (n, Some("MiB")) => n.parse::<u64>().ok().map(|n| Value::from(n << 20)),
                    (n, _) => n.parse::<u64>().ok().map(Value::from),
                }
            });
        } else if let Some(name) = l
            .split([':', '?'])
            .next()
            .filter(|n| !n.is_empty() && !l.starts_with('*'))
            && let Some(d) = doc.take()
        {
            out.push((name.trim().to_owned(), d));
        }
    }
    out
}

/// The keyword parameters (name, default text) of `def <def>(` in `class <class>`.
fn pyi_keywords(pyi: &str, class: &str, def: &str) -> Vec<(String, String)> {
    let start = pyi
        .find(&format!("\nclass {class}"))
        .unwrap_or_else(|| panic!("_native.pyi has no class {class}"));
    let body = &pyi[start + 1..];
    let body = &body[..body[1..].find("\nclass ").map_or(body.len(), |i| i + 1)];
    pyi_params(body, def).unwrap_or_else(|| panic!("{class} has no {def}"))
}

/// The parameters (name, default text) of the first `def <def>(` in `body`.
fn pyi_params(body: &str, def: &str) -> Option<Vec<(String, String)>> {
    let d = body.find(&format!("def {def}("))?;
    let params = &body[d + def.len() + 5..];
    // Up to the `)` that closes the parameter list (types hold brackets).
    let mut depth = 0usize;
    let mut end = params.len();
    let mut parts = Vec::new();
    let mut last = 0;
    for (i, c) in params.char_indices() {
        match c {
            '(' | '[' => depth += 1,
            ']' => depth = depth.saturating_sub(1),
            ')' if depth == 0 => {
                end = i;
                break;
            }
            ')' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&params[last..i]);
                last = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&params[last..end]);
    let mut out = Vec::new();
    for part in parts {
        let part = part.trim();
        if part.is_empty() || part == "self" || part == "*" {
            continue;
        }
        let (name, rest) = part.split_once(':').expect("annotated parameter");
        let default = rest.split_once(" = ").map_or("", |(_, d)| d).trim();
        out.push((name.trim().to_owned(), default.to_owned()));
    }
    Some(out)
}

/// A Python default (`None`, `True`, `4`, `32 << 20`, `"if_present"`) as JSON.
fn python_value(text: &str) -> Value {
    match text {
        "None" => Value::Null,
        "True" => Value::Bool(true),
        "False" => Value::Bool(false),
        t if t.starts_with('"') => Value::String(t.trim_matches('"').to_owned()),
        t => {
            let n: u64 = match t.split_once("<<") {
                Some((a, b)) => {
                    a.trim().parse::<u64>().unwrap() << b.trim().parse::<u32>().unwrap()
                }
                None => t
                    .replace('_', "")
                    .parse()
                    .unwrap_or_else(|_| panic!("default {t}")),
            };
            Value::from(n)
        }
    }
}

fn check<T>(ts: &str, py: &[(&str, &str)], extra_py: &[&str])
where
    T: for<'de> serde::Deserialize<'de> + serde::Serialize + Default,
{
    check_among::<T>(fields::<T>(), ts, py, extra_py);
}

/// `check` for the part `among` of `T`'s fields that one function takes.
fn check_among<T>(among: &[&str], ts: &str, py: &[(&str, &str)], extra_py: &[&str])
where
    T: for<'de> serde::Deserialize<'de> + serde::Serialize + Default,
{
    let dts = read("bindings/node/index.d.ts");
    let pyi = read("bindings/python/python/companyos/_native.pyi");
    assert!(
        among.iter().all(|f| fields::<T>().contains(f)),
        "{among:?} are fields"
    );
    let want: Vec<&str> = among.to_vec();
    let defaults = serde_json::to_value(T::default()).unwrap();

    let mut got = ts_interface(&dts, ts);
    let mut camel_want: Vec<String> = want.iter().map(|f| camel(f)).collect();
    got.sort();
    camel_want.sort();
    assert_eq!(
        got, camel_want,
        "index.d.ts `{ts}` against the Rust struct's fields"
    );
    for (name, documented) in ts_documented_defaults(&dts, ts) {
        let field = want.iter().find(|f| camel(f) == name).expect("a field");
        assert_eq!(
            defaults[*field], documented,
            "index.d.ts `{ts}.{name}` documents default {documented}, the Rust default is {}",
            defaults[*field]
        );
    }

    check_pyi(&pyi, &want, &defaults, py, extra_py);
}

/// The `.pyi` keyword parameters of each `(class, def)` (`class` empty: a
/// module-level function) against the fields `want` and their `defaults`.
fn check_pyi(pyi: &str, want: &[&str], defaults: &Value, py: &[(&str, &str)], extra_py: &[&str]) {
    for (class, def) in py {
        let kws = if class.is_empty() {
            pyi_params(pyi, def).unwrap_or_else(|| panic!("_native.pyi has no {def}"))
        } else {
            pyi_keywords(pyi, class, def)
        };
        let names: Vec<&str> = kws
            .iter()
            .map(|(n, _)| n.as_str())
            .filter(|n| !extra_py.contains(n))
            .collect();
        assert_eq!(
            names, want,
            "_native.pyi `{class}.{def}` against the Rust struct's fields"
        );
        for (name, default) in &kws {
            if extra_py.contains(&name.as_str()) {
                continue;
            }
            let rust = &defaults[name.as_str()];
            let py = python_value(default);
            // `None` stands for an empty map or list as well.
            let same = *rust == py
                || (py.is_null()
                    && (rust.as_object().is_some_and(|o| o.is_empty())
                        || rust.as_array().is_some_and(|a| a.is_empty())));
            assert!(
                same,
                "_native.pyi `{class}.{def}`: {name} = {default}, the Rust default is {rust}"
            );
        }
    }
}

#[test]
fn store_options_stubs_match_store_config() {
    check::<StoreConfig>(
        "StoreOptions",
        &[("PolicyStore", "__init__"), ("PolicyStore", "open")],
        &["shadow_observer"],
    );
}

#[test]
fn engine_stubs_match_engine_config() {
    check::<cos_policy::EngineConfig>("EngineOptions", &[("Engine", "__init__")], &["pack"]);
}

#[test]
fn signature_stubs_match_signature_options() {
    check::<cos_policy::SignatureOptions>(
        "SignatureOptions",
        &[
            ("Pack", "build_signed_bundle"),
            ("Pack", "verify_signature"),
        ],
        &["key", "public_pem"],
    );
}

#[test]
fn sbom_stubs_match_generate_options() {
    use cos_supplychain::sbom::GenerateOptions;
    let lockfile = ["include_dev", "root_name", "root_version"];
    let cargo = ["packages"];
    let mut all: Vec<&str> = lockfile.iter().chain(&cargo).copied().collect();
    all.sort_unstable();
    let mut fields = fields::<GenerateOptions>().to_vec();
    fields.sort_unstable();
    assert_eq!(
        all, fields,
        "every GenerateOptions field is taken by one function"
    );
    check_among::<GenerateOptions>(
        &lockfile,
        "SbomOptions",
        &[("Sbom", "from_lockfile")],
        &["data", "file_name"],
    );
    check_among::<GenerateOptions>(
        &cargo,
        "CargoSbomOptions",
        &[("Sbom", "from_cargo_metadata")],
        &["metadata", "cargo_lock"],
    );
}

#[test]
fn pack_client_stubs_match_client_config() {
    check::<ClientConfig>("PackClientOptions", &[("PackClient", "__init__")], &[]);
}

#[test]
fn run_tests_stubs_match_run_tests_options() {
    check::<cos_policy::RunTestsOptions>("RunTestsOptions", &[("Pack", "run_tests")], &[]);
}

#[test]
fn fetch_stubs_match_fetch_config() {
    use cos_policy::distribution::FetchConfig;
    // `url` is required (no default), so the generic check does not apply.
    let dts = read("bindings/node/index.d.ts");
    let mut got = ts_interface(&dts, "FetchOptions");
    let mut want: Vec<String> = fields::<FetchConfig>().iter().map(|f| camel(f)).collect();
    got.sort();
    want.sort();
    assert_eq!(got, want, "index.d.ts `FetchOptions` against FetchConfig");
    let pyi = read("bindings/python/python/companyos/_native.pyi");
    let params = pyi_params(&pyi, "fetch_and_verify").expect("fetch_and_verify");
    let names: Vec<&str> = params.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        fields::<FetchConfig>(),
        "_native.pyi `fetch_and_verify`"
    );
    assert!(
        params.iter().skip(1).all(|(_, d)| d == "None"),
        "every option but url defaults to None"
    );
}

/// The top-level keys `value` serializes to, in camelCase, against the
/// `index.d.ts` interface `ts` (a result shape: every field the struct
/// writes is declared, and nothing else).
fn check_result<T: serde::Serialize>(value: &T, ts: &str) {
    let dts = read("bindings/node/index.d.ts");
    let v = serde_json::to_value(value).unwrap();
    let mut want: Vec<String> = v
        .as_object()
        .expect("a struct")
        .keys()
        .map(|k| camel(k))
        .collect();
    let mut got = ts_interface(&dts, ts);
    want.sort();
    got.sort();
    assert_eq!(
        got, want,
        "index.d.ts `{ts}` against the Rust result struct"
    );
}

#[test]
fn result_interfaces_match_result_structs() {
    let key = cos_core::PrivateKey::generate(cos_core::KeyAlgorithm::EcdsaP256).unwrap();
    let bundle = cos_core::sigstore::sign_blob(b"artifact", &key).unwrap();
    let verified = cos_core::sigstore::Bundle::from_json(&bundle)
        .and_then(|b| b.verify_blob(b"artifact", key.public_key()))
        .unwrap();
    check_result(&verified, "SigstoreVerified");

    // `dsseVerify`: cos_core::dsse::Verified, and the payload as a Buffer.
    let env = cos_core::dsse::Envelope::sign("text/plain", b"hi", &[&key as &dyn cos_core::Signer])
        .unwrap();
    let dsse = env
        .verify(&[key.public_key() as &dyn cos_core::Verifier], 1, None)
        .unwrap();
    let dts = read("bindings/node/index.d.ts");
    let mut got = ts_interface(&dts, "DsseVerified");
    let mut want: Vec<String> = serde_json::to_value(&dsse)
        .unwrap()
        .as_object()
        .unwrap()
        .keys()
        .map(|k| camel(k))
        .chain(["payload".to_owned()])
        .collect();
    got.sort();
    want.sort();
    assert_eq!(got, want, "index.d.ts `DsseVerified`");

    use cos_supplychain::slsa;
    let build = slsa::BuildDescription::from_json(
        br#"{"builder_id": "https://ci.example.com/builders/release@v2",
             "build_type": "https://ci.example.com/buildtypes/make/v1",
             "source": {"repository": "https://github.com/acme/app",
                        "commit": "46e7056ff9912ebfee5298d94024895a9fea76c0"}}"#,
    )
    .unwrap();
    let subject = cos_core::statement::Subject::new(
        "app.tar.gz",
        &cos_core::Digest::of_bytes(cos_core::DigestAlgorithm::Sha256, b"artifact"),
    );
    let envelope = slsa::attest(&build, vec![subject], &key, slsa::SignatureFormat::Dsse).unwrap();
    let config = slsa::VerifyConfig {
        builder_id: "https://ci.example.com/builders/release".into(),
        source_uri: "github.com/acme/app".into(),
        public_key: Some(key.public_key().to_pem()),
        ..Default::default()
    };
    check_result(
        &config.verify(&envelope, b"artifact").unwrap(),
        "VerifiedProvenance",
    );

    // The SBOM model's component (cos's shape; CycloneDX/SPDX documents keep their keys).
    let sbom = cos_supplychain::sbom::Sbom::from_json(
        br#"{"bomFormat": "CycloneDX", "specVersion": "1.6",
             "components": [{"type": "library", "name": "left-pad", "version": "1.3.0",
                             "bom-ref": "pkg:npm/left-pad@1.3.0", "purl": "pkg:npm/left-pad@1.3.0"}]}"#,
    )
    .unwrap();
    check_result(&sbom.components[0], "SbomComponent");
    check_result(&sbom, "SbomModel");
    check_result(
        &cos_policy::TestRun {
            report: Value::Array(vec![]),
            success: true,
        },
        "TestRun",
    );
    check_result(
        &cos_policy::AllowReason {
            allow: true,
            reason: Some("r".into()),
        },
        "AllowReason",
    );
}

#[test]
fn disclosure_stubs_match_approval_options() {
    use cos_policy::disclosure::{ApprovalConfig, ApprovalPolicy};
    check::<ApprovalConfig>("ApprovalOptions", &[], &[]);
    let pyi = read("bindings/python/python/companyos/_native.pyi");
    let defaults = serde_json::to_value(ApprovalPolicy::default()).unwrap();
    check_pyi(
        &pyi,
        fields::<ApprovalPolicy>(),
        &defaults,
        &[("", "verify_disclosure"), ("", "decide_residency")],
        &[
            "envelope",
            "trusted_keys",
            "now",
            "engine",
            "entrypoint",
            "request",
        ],
    );
    // The Node options hold the policy's fields.
    assert!(
        fields::<ApprovalPolicy>()
            .iter()
            .all(|f| fields::<ApprovalConfig>().contains(f))
    );
}

#[test]
fn disclosure_pack_stubs_match_spec() {
    use cos_policy::disclosure::DisclosurePackSpec;
    // Required fields have no default, so the generic check does not apply.
    let dts = read("bindings/node/index.d.ts");
    let mut got = ts_interface(&dts, "DisclosurePackSpec");
    let mut want: Vec<String> = fields::<DisclosurePackSpec>()
        .iter()
        .map(|f| camel(f))
        .collect();
    got.sort();
    want.sort();
    assert_eq!(got, want, "index.d.ts `DisclosurePackSpec`");
    let pyi = read("bindings/python/python/companyos/_native.pyi");
    let params = pyi_keywords(&pyi, "DisclosurePack", "__init__");
    let names: Vec<&str> = params.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        fields::<DisclosurePackSpec>(),
        "_native.pyi `DisclosurePack.__init__`"
    );
}

#[test]
fn provenance_stubs_match_verify_config() {
    use cos_supplychain::slsa::VerifyConfig;
    // `builder_id` and `source_uri` are required (no default).
    let dts = read("bindings/node/index.d.ts");
    let mut got = ts_interface(&dts, "VerifyProvenanceOptions");
    let mut want: Vec<String> = fields::<VerifyConfig>().iter().map(|f| camel(f)).collect();
    got.sort();
    want.sort();
    assert_eq!(got, want, "index.d.ts `VerifyProvenanceOptions`");
    let pyi = read("bindings/python/python/companyos/_native.pyi");
    let params = pyi_params(&pyi, "verify_provenance").expect("verify_provenance");
    let names: Vec<&str> = params
        .iter()
        .map(|(n, _)| n.as_str())
        .filter(|n| !["provenance", "artifact"].contains(n))
        .collect();
    assert_eq!(
        names,
        fields::<VerifyConfig>(),
        "_native.pyi `verify_provenance`"
    );
    let defaults = serde_json::to_value(VerifyConfig::default()).unwrap();
    for (name, default) in params.iter().filter(|(_, d)| !d.is_empty()) {
        assert_eq!(python_value(default), defaults[name.as_str()], "{name}");
    }
}

#[test]
fn sbom_write_stubs_match_write_config() {
    use cos_supplychain::sbom::WriteConfig;
    // `created` is required (no default).
    let dts = read("bindings/node/index.d.ts");
    let mut got = ts_interface(&dts, "SbomWriteOptions");
    let mut want: Vec<String> = fields::<WriteConfig>().iter().map(|f| camel(f)).collect();
    got.sort();
    want.sort();
    assert_eq!(got, want, "index.d.ts `SbomWriteOptions`");
    let pyi = read("bindings/python/python/companyos/_native.pyi");
    let params = pyi_keywords(&pyi, "Sbom", "write");
    let names: Vec<&str> = params.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, fields::<WriteConfig>(), "_native.pyi `Sbom.write`");
    let defaults = serde_json::to_value(WriteConfig::default()).unwrap();
    for (name, default) in params.iter().filter(|(_, d)| !d.is_empty()) {
        assert_eq!(python_value(default), defaults[name.as_str()], "{name}");
    }
}

#[test]
fn cve_gate_stubs_match_gate_config() {
    use cos_supplychain::vuln::{GateConfig, NamedDocument};
    // `reports` and `now` are required (no default).
    let dts = read("bindings/node/index.d.ts");
    for (ts, fields) in [
        ("CveGateOptions", fields::<GateConfig>()),
        ("NamedDocument", fields::<NamedDocument>()),
    ] {
        let mut got = ts_interface(&dts, ts);
        let mut want: Vec<String> = fields.iter().map(|f| camel(f)).collect();
        got.sort();
        want.sort();
        assert_eq!(got, want, "index.d.ts `{ts}`");
    }
    let pyi = read("bindings/python/python/companyos/_native.pyi");
    let params = pyi_params(&pyi, "cve_gate").expect("cve_gate");
    let names: Vec<&str> = params.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, fields::<GateConfig>(), "_native.pyi `cve_gate`");
}

#[test]
fn attest_stubs_match_attest_config() {
    check_pyi(
        &read("bindings/python/python/companyos/_native.pyi"),
        fields::<cos_supplychain::slsa::AttestConfig>(),
        &serde_json::to_value(cos_supplychain::slsa::AttestConfig::default()).unwrap(),
        &[("", "attest_provenance")],
        &["build", "subjects", "key"],
    );
    let dts = read("bindings/node/index.d.ts");
    assert_eq!(ts_interface(&dts, "AttestOptions"), ["format"]);
}
