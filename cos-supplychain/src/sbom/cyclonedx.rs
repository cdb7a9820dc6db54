//! CycloneDX JSON: writer (1.5, 1.6) and reader (1.2–1.6).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value, json};

use super::{
    Component, ComponentKind, Hash, HashAlgorithm, License, Sbom, Scope, WriteOptions, check_count,
    finish_document, invalid_sbom as bad, rfc3339, str_of,
};
use crate::Result;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Version {
    V1_5,
    V1_6,
}

impl Version {
    fn spec(self) -> &'static str {
        match self {
            Version::V1_5 => "1.5",
            Version::V1_6 => "1.6",
        }
    }
}

fn license_json(l: &License) -> Value {
    match l {
        License::Expression(e) => json!([{ "expression": e }]),
        License::Named(n) => json!([{ "license": { "name": n } }]),
    }
}

fn component_json(c: &Component, version: Version, is_root: bool) -> Value {
    let mut o = Map::new();
    o.insert("bom-ref".into(), json!(c.bom_ref));
    o.insert("type".into(), json!(c.kind.cyclonedx_name()));
    o.insert("name".into(), json!(c.name));
    if let Some(g) = &c.group {
        o.insert("group".into(), json!(g));
    }
    if let Some(v) = &c.version {
        o.insert("version".into(), json!(v));
    }
    if let Some(p) = &c.purl {
        o.insert("purl".into(), json!(p));
    }
    if !is_root {
        let scope = match c.scope {
            Scope::Required => "required",
            Scope::Optional => "optional",
            Scope::Excluded => "excluded",
        };
        o.insert("scope".into(), json!(scope));
    }
    if !c.hashes.is_empty() {
        let hashes: Vec<Value> = c
            .hashes
            .iter()
            .map(|h| json!({ "alg": h.algorithm.cyclonedx_name(), "content": h.value }))
            .collect();
        o.insert("hashes".into(), Value::Array(hashes));
    }
    if let Some(l) = &c.license {
        o.insert("licenses".into(), license_json(l));
    }
    if let Some(s) = &c.supplier {
        o.insert("supplier".into(), json!({ "name": s }));
    }
    if !c.authors.is_empty() {
        match version {
            // `author` (a string) is deprecated from 1.6 on.
            Version::V1_5 => {
                o.insert("author".into(), json!(c.authors.join(", ")));
            }
            Version::V1_6 => {
                let authors: Vec<Value> = c.authors.iter().map(|a| json!({ "name": a })).collect();
                o.insert("authors".into(), Value::Array(authors));
            }
        }
    }
    if !c.properties.is_empty() {
        o.insert("properties".into(), properties_json(&c.properties));
    }
    Value::Object(o)
}

fn properties_json(p: &BTreeMap<String, String>) -> Value {
    Value::Array(
        p.iter()
            .map(|(k, v)| json!({ "name": k, "value": v }))
            .collect(),
    )
}

pub(super) fn write(sbom: &Sbom, version: Version, options: &WriteOptions) -> Result<Vec<u8>> {
    let mut metadata = Map::new();
    metadata.insert("timestamp".into(), json!(rfc3339(options.created)));
    metadata.insert(
        "tools".into(),
        json!({ "components": [{
            "type": "application",
            "name": options.tool_name,
            "version": options.tool_version,
        }]}),
    );
    if let Some(root) = &sbom.root {
        metadata.insert("component".into(), component_json(root, version, true));
    }
    if !sbom.properties.is_empty() {
        metadata.insert("properties".into(), properties_json(&sbom.properties));
    }
    let mut components: Vec<&Component> = sbom.components.iter().collect();
    components.sort_by(|a, b| a.bom_ref.cmp(&b.bom_ref));
    let components: Vec<Value> = components
        .into_iter()
        .map(|c| component_json(c, version, false))
        .collect();
    let dependencies: Vec<Value> = sbom
        .dependencies
        .iter()
        .map(|(r, deps)| json!({ "ref": r, "dependsOn": deps }))
        .collect();
    let mut doc = Map::new();
    doc.insert(
        "$schema".into(),
        json!(format!(
            "http://cyclonedx.org/schema/bom-{}.schema.json",
            version.spec()
        )),
    );
    doc.insert("bomFormat".into(), json!("CycloneDX"));
    doc.insert("specVersion".into(), json!(version.spec()));
    doc.insert("version".into(), json!(1));
    doc.insert("metadata".into(), Value::Object(metadata));
    doc.insert("components".into(), Value::Array(components));
    doc.insert("dependencies".into(), Value::Array(dependencies));
    // The serial number is derived from everything else in the document.
    finish_document(doc, |uuid| ("serialNumber", format!("urn:uuid:{uuid}")))
}

// ---------------------------------------------------------------- reader

fn read_license(v: &Value) -> Option<License> {
    let items = v.as_array()?;
    let mut parts: Vec<String> = Vec::new();
    for item in items {
        if let Some(e) = str_of(item, "expression") {
            parts.push(e.to_owned());
        } else if let Some(l) = item.get("license") {
            if let Some(id) = str_of(l, "id") {
                parts.push(id.to_owned());
            } else if let Some(name) = str_of(l, "name") {
                if items.len() == 1 {
                    return License::from_declared(name);
                }
                parts.push(name.to_owned());
            }
        }
    }
    match parts.len() {
        0 => None,
        1 => License::from_declared(&parts[0]),
        // Several licences listed: all of them apply (the strict reading).
        _ => {
            let joined = parts
                .iter()
                .map(|p| {
                    if p.contains(' ') {
                        format!("({p})")
                    } else {
                        p.clone()
                    }
                })
                .collect::<Vec<_>>()
                .join(" AND ");
            License::from_declared(&joined)
        }
    }
}

fn read_component(v: &Value, index: usize) -> Result<Component> {
    let name = str_of(v, "name")
        .ok_or_else(|| bad(format!("component {index} has no name")))?
        .to_owned();
    let version = str_of(v, "version")
        .filter(|v| !v.is_empty())
        .map(str::to_owned);
    let purl = str_of(v, "purl").map(str::to_owned);
    let bom_ref = str_of(v, "bom-ref")
        .map(str::to_owned)
        .or_else(|| purl.clone())
        .unwrap_or_else(|| match &version {
            Some(ver) => format!("{name}@{ver}"),
            None => name.clone(),
        });
    let mut c = Component {
        bom_ref,
        kind: ComponentKind::from_cyclonedx(str_of(v, "type").unwrap_or("library")),
        group: str_of(v, "group")
            .filter(|g| !g.is_empty())
            .map(str::to_owned),
        name,
        version,
        purl,
        ..Component::default()
    };
    if let Some(hashes) = v.get("hashes").and_then(Value::as_array) {
        c.add_hashes(hashes.iter().filter_map(|h| {
            let alg = HashAlgorithm::from_cyclonedx(str_of(h, "alg")?)?;
            Hash::from_hex(alg, str_of(h, "content")?)
        }));
    }
    c.license = v.get("licenses").and_then(read_license);
    c.supplier = v
        .get("supplier")
        .and_then(|s| str_of(s, "name"))
        .map(str::to_owned);
    if let Some(authors) = v.get("authors").and_then(Value::as_array) {
        c.authors = authors
            .iter()
            .filter_map(|a| str_of(a, "name").map(str::to_owned))
            .collect();
    } else if let Some(author) = str_of(v, "author") {
        c.authors = vec![author.to_owned()];
    }
    c.scope = match str_of(v, "scope") {
        Some("optional") => Scope::Optional,
        Some("excluded") => Scope::Excluded,
        _ => Scope::Required,
    };
    if let Some(props) = v.get("properties").and_then(Value::as_array) {
        for p in props {
            if let (Some(k), Some(val)) = (str_of(p, "name"), str_of(p, "value")) {
                c.properties.insert(k.to_owned(), val.to_owned());
            }
        }
    }
    Ok(c)
}

/// Components, nested ones included (flattened).
fn collect(list: &Value, out: &mut Vec<Component>, depth: usize) -> Result<()> {
    if depth > 32 {
        return Err(bad("components nested more than 32 deep"));
    }
    let Some(items) = list.as_array() else {
        return Err(bad("\"components\" is not an array"));
    };
    for item in items {
        let index = out.len();
        out.push(read_component(item, index)?);
        check_count(out.len()).map_err(bad)?;
        if let Some(nested) = item.get("components") {
            collect(nested, out, depth + 1)?;
        }
    }
    Ok(())
}

pub(super) fn read(doc: &Value) -> Result<Sbom> {
    if str_of(doc, "bomFormat") != Some("CycloneDX") {
        return Err(bad("bomFormat is not \"CycloneDX\""));
    }
    let spec = str_of(doc, "specVersion").unwrap_or("");
    if !matches!(spec, "1.2" | "1.3" | "1.4" | "1.5" | "1.6") {
        return Err(bad(format!(
            "CycloneDX specVersion {spec:?} is not supported (1.2 to 1.6)"
        )));
    }
    let mut sbom = Sbom::default();
    if let Some(meta) = doc.get("metadata") {
        if let Some(root) = meta.get("component") {
            sbom.root = Some(read_component(root, 0)?);
        }
        if let Some(props) = meta.get("properties").and_then(Value::as_array) {
            for p in props {
                if let (Some(k), Some(v)) = (str_of(p, "name"), str_of(p, "value")) {
                    sbom.properties.insert(k.to_owned(), v.to_owned());
                }
            }
        }
    }
    if let Some(list) = doc.get("components") {
        collect(list, &mut sbom.components, 0)?;
    }
    if let Some(deps) = doc.get("dependencies") {
        let deps = deps
            .as_array()
            .ok_or_else(|| bad("\"dependencies\" is not an array"))?;
        let mut edges = 0usize;
        for d in deps {
            let r = str_of(d, "ref").ok_or_else(|| bad("a dependency has no \"ref\""))?;
            let entry: &mut BTreeSet<String> = sbom.dependencies.entry(r.to_owned()).or_default();
            if let Some(on) = d.get("dependsOn").and_then(Value::as_array) {
                for t in on.iter().filter_map(Value::as_str) {
                    edges += 1;
                    if edges > super::MAX_EDGES {
                        return Err(bad("too many dependency edges"));
                    }
                    entry.insert(t.to_owned());
                }
            }
        }
    }
    sbom.normalize();
    Ok(sbom)
}
