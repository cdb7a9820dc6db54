//! Criterion benchmarks for the cos crates; see `benches/` and
//! `docs/benchmarks.md`. Run with `cargo bench -p cos-benches`.

use std::path::PathBuf;

/// The ABAC pack the policy benchmarks evaluate (`benches/fixtures/abac-pack`).
pub fn abac_pack_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/abac-pack")
}

/// Inputs for the ABAC decision: the typical allow (cross-tenant read under
/// a grant) and a denial with three reasons and an obligation.
pub fn abac_inputs() -> Result<(serde_json::Value, serde_json::Value), Box<dyn std::error::Error>> {
    let allow: serde_json::Value =
        serde_json::from_slice(&std::fs::read(abac_pack_dir().join("input.json"))?)?;
    let mut deny = allow.clone();
    deny["resource"]["classification"] = "RESTRICTED".into();
    deny["context"]["grants"] = serde_json::json!([]);
    Ok((allow, deny))
}

/// The baseline pack (`examples/policy-packs/companyos-baseline`).
pub fn baseline_pack_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/policy-packs/companyos-baseline")
}

/// A typical ABAC request for the baseline pack: an analyst reading a
/// CONFIDENTIAL dataset of another tenant under an unexpired grant.
pub fn baseline_abac_input() -> serde_json::Value {
    serde_json::json!({
        "subject": {"id": "u-42", "tenant": "acme", "roles": ["analyst", "viewer"],
                    "attributes": {"clearance": "CONFIDENTIAL", "step_up": false}},
        "action": "read",
        "resource": {"type": "dataset", "id": "ds-7", "tenant": "globex", "classification": "CONFIDENTIAL", "residency": "EU-Only"},
        "context": {"time": "2026-11-22T10:00:00Z",
                    "grants": [{"tenant": "globex", "role": "analyst", "actions": ["read"], "expires": "2026-12-31T00:00:00Z"}]}
    })
}
