//! SPDX 2.3 JSON: writer and reader (2.2 and 2.3).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value, json};

use super::purl::Purl;
use super::{
    Component, ComponentKind, Hash, HashAlgorithm, License, Sbom, WriteOptions, check_count,
    finish_document, invalid_sbom as bad, rfc3339, str_of,
};
use crate::Result;

/// Characters allowed in an SPDX id after `SPDXRef-` / `LicenseRef-`.
fn sanitize(s: &str) -> String {
    let out: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    let trimmed = out.trim_matches('-');
    if trimmed.is_empty() {
        "x".into()
    } else {
        trimmed.to_owned()
    }
}

/// `Name <mail>` → `Person: Name (mail)`.
fn person(author: &str) -> String {
    match author.split_once('<') {
        Some((name, rest)) => {
            let mail = rest.trim_end().trim_end_matches('>');
            format!("Person: {} ({})", name.trim(), mail.trim())
        }
        None => format!("Person: {}", author.trim()),
    }
}

/// The LicenseRef for a licence that is not an SPDX expression.
fn license_ref(name: &str) -> String {
    use cos_core::{Digest, DigestAlgorithm};
    let digest = Digest::of_bytes(DigestAlgorithm::Sha256, name.as_bytes()).hex();
    let short: String = sanitize(name).chars().take(40).collect();
    format!("LicenseRef-{short}-{}", &digest[..8])
}

pub(super) fn write(sbom: &Sbom, options: &WriteOptions) -> Result<Vec<u8>> {
    // SPDX ids: stable, from the purl type, name and version; a counter
    // keeps them unique.
    let mut ids: BTreeMap<String, String> = BTreeMap::new();
    let mut used: BTreeSet<String> = BTreeSet::new();
    let all: Vec<&Component> = sbom.all_components().collect();
    for c in &all {
        let ty = c
            .purl
            .as_deref()
            .and_then(Purl::parse)
            .map(|p| p.ty)
            .unwrap_or_else(|| "package".into());
        let base = format!(
            "SPDXRef-Package-{}-{}{}",
            sanitize(&ty),
            sanitize(&c.display_name()),
            c.version
                .as_deref()
                .map(|v| format!("-{}", sanitize(v)))
                .unwrap_or_default()
        );
        let mut id = base.clone();
        let mut n = 2;
        while used.contains(&id) {
            id = format!("{base}-{n}");
            n += 1;
        }
        used.insert(id.clone());
        ids.insert(c.bom_ref.clone(), id);
    }

    let mut extracted: BTreeMap<String, String> = BTreeMap::new();
    let mut packages = Vec::new();
    for c in &all {
        let mut p = Map::new();
        p.insert("SPDXID".into(), json!(ids.get(&c.bom_ref)));
        p.insert("name".into(), json!(c.display_name()));
        if let Some(v) = &c.version {
            p.insert("versionInfo".into(), json!(v));
        }
        p.insert("downloadLocation".into(), json!("NOASSERTION"));
        p.insert("filesAnalyzed".into(), json!(false));
        // We declare what the package manager says; we conclude nothing.
        p.insert("licenseConcluded".into(), json!("NOASSERTION"));
        let declared = match &c.license {
            Some(License::Expression(e)) => {
                for token in e.split(|ch: char| ch.is_whitespace() || ch == '(' || ch == ')') {
                    if token.starts_with("LicenseRef-") {
                        extracted
                            .entry(token.to_owned())
                            .or_insert_with(|| token.to_owned());
                    }
                }
                e.clone()
            }
            Some(License::Named(n)) => {
                let id = license_ref(n);
                extracted.insert(id.clone(), n.clone());
                id
            }
            None => "NOASSERTION".into(),
        };
        p.insert("licenseDeclared".into(), json!(declared));
        p.insert("copyrightText".into(), json!("NOASSERTION"));
        p.insert(
            "supplier".into(),
            json!(match &c.supplier {
                Some(s) => format!("Organization: {s}"),
                None => "NOASSERTION".into(),
            }),
        );
        if let Some(first) = c.authors.first() {
            p.insert("originator".into(), json!(person(first)));
        }
        p.insert("primaryPackagePurpose".into(), json!(c.kind.spdx_purpose()));
        if !c.hashes.is_empty() {
            let sums: Vec<Value> = c
                .hashes
                .iter()
                .map(|h| json!({ "algorithm": h.algorithm.spdx_name(), "checksumValue": h.value }))
                .collect();
            p.insert("checksums".into(), Value::Array(sums));
        }
        if let Some(purl) = &c.purl {
            p.insert(
                "externalRefs".into(),
                json!([{
                    "referenceCategory": "PACKAGE-MANAGER",
                    "referenceType": "purl",
                    "referenceLocator": purl,
                }]),
            );
        }
        let mut notes = c.properties.clone();
        if c.purl.as_deref() != Some(c.bom_ref.as_str()) {
            // Keeps the graph's identifiers through a round trip.
            notes.insert("cos:bom-ref".into(), c.bom_ref.clone());
        }
        if c.scope != super::Scope::Required {
            let scope = if c.scope == super::Scope::Optional {
                "optional"
            } else {
                "excluded"
            };
            notes.insert("cos:scope".into(), scope.into());
        }
        if !notes.is_empty() {
            let text = notes
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("\n");
            p.insert("comment".into(), json!(text));
        }
        packages.push(Value::Object(p));
    }
    packages.sort_by(|a, b| {
        a.get("SPDXID")
            .and_then(Value::as_str)
            .cmp(&b.get("SPDXID").and_then(Value::as_str))
    });

    let mut relationships: BTreeSet<(String, &'static str, String)> = BTreeSet::new();
    match &sbom.root {
        Some(root) => {
            if let Some(id) = ids.get(&root.bom_ref) {
                relationships.insert(("SPDXRef-DOCUMENT".into(), "DESCRIBES", id.clone()));
            }
        }
        None => {
            for c in &sbom.components {
                if let Some(id) = ids.get(&c.bom_ref) {
                    relationships.insert(("SPDXRef-DOCUMENT".into(), "DESCRIBES", id.clone()));
                }
            }
        }
    }
    for (from, deps) in &sbom.dependencies {
        let Some(from) = ids.get(from) else { continue };
        for to in deps {
            if let Some(to) = ids.get(to) {
                relationships.insert((from.clone(), "DEPENDS_ON", to.clone()));
            }
        }
    }
    let relationships: Vec<Value> = relationships
        .into_iter()
        .map(|(a, t, b)| {
            json!({ "spdxElementId": a, "relationshipType": t, "relatedSpdxElement": b })
        })
        .collect();

    let name = sbom
        .root
        .as_ref()
        .map(Component::label)
        .unwrap_or_else(|| "sbom".into());
    let mut doc = Map::new();
    doc.insert("spdxVersion".into(), json!("SPDX-2.3"));
    doc.insert("dataLicense".into(), json!("CC0-1.0"));
    doc.insert("SPDXID".into(), json!("SPDXRef-DOCUMENT"));
    doc.insert("name".into(), json!(name));
    let mut creation = Map::new();
    creation.insert("created".into(), json!(rfc3339(options.created)));
    creation.insert(
        "creators".into(),
        json!([format!(
            "Tool: {}-{}",
            options.tool_name, options.tool_version
        )]),
    );
    // SPDX wants `major.minor` (the crate says e.g. `3.29.0`).
    let list: Vec<&str> = spdx::license_version().split('.').take(2).collect();
    creation.insert("licenseListVersion".into(), json!(list.join(".")));
    if !sbom.properties.is_empty() {
        let text = sbom
            .properties
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("\n");
        creation.insert("comment".into(), json!(text));
    }
    doc.insert("creationInfo".into(), Value::Object(creation));
    doc.insert("packages".into(), Value::Array(packages));
    doc.insert("relationships".into(), Value::Array(relationships));
    if !extracted.is_empty() {
        let infos: Vec<Value> = extracted
            .iter()
            .map(|(id, text)| json!({ "licenseId": id, "name": text, "extractedText": text }))
            .collect();
        doc.insert("hasExtractedLicensingInfos".into(), Value::Array(infos));
    }
    // The namespace is derived from everything else in the document.
    finish_document(doc, |uuid| {
        let name = sanitize(&name);
        (
            "documentNamespace",
            format!("https://spdx.org/spdxdocs/{name}-{uuid}"),
        )
    })
}

// ---------------------------------------------------------------- reader

/// `Organization: X` / `Person: X (mail)` → `X` / `X <mail>`.
fn actor(s: &str) -> Option<String> {
    let s = s.trim();
    if s.is_empty() || s == "NOASSERTION" {
        return None;
    }
    let s = s
        .strip_prefix("Organization:")
        .or_else(|| s.strip_prefix("Person:"))
        .or_else(|| s.strip_prefix("Tool:"))
        .unwrap_or(s)
        .trim();
    match s.split_once('(') {
        Some((name, mail)) if mail.ends_with(')') => {
            let mail = mail.trim_end_matches(')').trim();
            if mail.is_empty() {
                Some(name.trim().to_owned())
            } else {
                Some(format!("{} <{mail}>", name.trim()))
            }
        }
        _ => Some(s.to_owned()),
    }
}

pub(super) fn read(doc: &Value) -> Result<Sbom> {
    let version = str_of(doc, "spdxVersion").unwrap_or("");
    if !matches!(version, "SPDX-2.2" | "SPDX-2.3") {
        return Err(bad(format!(
            "spdxVersion {version:?} is not supported (SPDX-2.2 or SPDX-2.3)"
        )));
    }
    let packages = match doc.get("packages") {
        Some(Value::Array(p)) => p.as_slice(),
        Some(_) => return Err(bad("\"packages\" is not an array")),
        None => &[],
    };
    check_count(packages.len()).map_err(bad)?;
    // LicenseRef id -> its name, for licences that are only a LicenseRef.
    let mut ref_names: BTreeMap<&str, &str> = BTreeMap::new();
    if let Some(infos) = doc
        .get("hasExtractedLicensingInfos")
        .and_then(Value::as_array)
    {
        for i in infos {
            if let (Some(id), Some(name)) = (
                str_of(i, "licenseId"),
                str_of(i, "name").or_else(|| str_of(i, "extractedText")),
            ) {
                ref_names.insert(id, name);
            }
        }
    }
    let mut by_id: BTreeMap<String, String> = BTreeMap::new(); // SPDXID -> bom_ref
    let mut components = Vec::new();
    for (index, p) in packages.iter().enumerate() {
        let spdx_id =
            str_of(p, "SPDXID").ok_or_else(|| bad(format!("package {index} has no SPDXID")))?;
        let name =
            str_of(p, "name").ok_or_else(|| bad(format!("package {spdx_id} has no name")))?;
        let purl = p
            .get("externalRefs")
            .and_then(Value::as_array)
            .and_then(|refs| {
                refs.iter().find_map(|r| {
                    (str_of(r, "referenceType") == Some("purl"))
                        .then(|| str_of(r, "referenceLocator"))
                        .flatten()
                })
            })
            .map(str::to_owned);
        let version = str_of(p, "versionInfo")
            .filter(|v| !v.is_empty())
            .map(str::to_owned);
        let mut c = Component {
            bom_ref: purl.clone().unwrap_or_else(|| spdx_id.to_owned()),
            kind: ComponentKind::from_spdx_purpose(
                str_of(p, "primaryPackagePurpose").unwrap_or("LIBRARY"),
            ),
            name: name.to_owned(),
            version,
            purl,
            ..Component::default()
        };
        if let Some(sums) = p.get("checksums").and_then(Value::as_array) {
            c.add_hashes(sums.iter().filter_map(|s| {
                let alg = HashAlgorithm::from_spdx(str_of(s, "algorithm")?)?;
                Hash::from_hex(alg, str_of(s, "checksumValue")?)
            }));
        }
        let declared = [str_of(p, "licenseDeclared"), str_of(p, "licenseConcluded")]
            .into_iter()
            .flatten()
            .find(|l| !matches!(l.trim(), "" | "NOASSERTION" | "NONE"));
        c.license = declared.and_then(|l| match ref_names.get(l.trim()) {
            Some(name) => Some(License::Named((*name).to_owned())),
            None => License::from_declared(l),
        });
        c.supplier = str_of(p, "supplier").and_then(actor);
        if let Some(o) = str_of(p, "originator").and_then(actor) {
            c.authors = vec![o];
        }
        if let Some((scope, rest)) = c.name.split_once('/')
            && scope.starts_with('@')
            && !rest.is_empty()
            && !rest.contains('/')
        {
            let (scope, rest) = (scope.to_owned(), rest.to_owned());
            c.group = Some(scope);
            c.name = rest;
        }
        if let Some(comment) = str_of(p, "comment") {
            for line in comment.lines() {
                match line.split_once('=') {
                    Some(("cos:bom-ref", r)) if !r.is_empty() => c.bom_ref = r.to_owned(),
                    Some(("cos:scope", "optional")) => c.scope = super::Scope::Optional,
                    Some(("cos:scope", "excluded")) => c.scope = super::Scope::Excluded,
                    Some((k, v)) if k.starts_with("cos:") => {
                        c.properties.insert(k.to_owned(), v.to_owned());
                    }
                    _ => {}
                }
            }
        }
        by_id.insert(spdx_id.to_owned(), c.bom_ref.clone());
        components.push(c);
    }

    let mut described: BTreeSet<String> = BTreeSet::new();
    if let Some(list) = doc.get("documentDescribes").and_then(Value::as_array) {
        described.extend(list.iter().filter_map(Value::as_str).map(str::to_owned));
    }
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    if let Some(rels) = doc.get("relationships") {
        let rels = rels
            .as_array()
            .ok_or_else(|| bad("\"relationships\" is not an array"))?;
        if rels.len() > super::MAX_EDGES {
            return Err(bad("too many relationships"));
        }
        for r in rels {
            let (Some(a), Some(t), Some(b)) = (
                str_of(r, "spdxElementId"),
                str_of(r, "relationshipType"),
                str_of(r, "relatedSpdxElement"),
            ) else {
                continue;
            };
            let (from, to) = match t {
                "DESCRIBES" if a == "SPDXRef-DOCUMENT" => {
                    described.insert(b.to_owned());
                    continue;
                }
                "DESCRIBED_BY" if b == "SPDXRef-DOCUMENT" => {
                    described.insert(a.to_owned());
                    continue;
                }
                "DEPENDS_ON" => (a, b),
                "DEPENDENCY_OF"
                | "RUNTIME_DEPENDENCY_OF"
                | "BUILD_DEPENDENCY_OF"
                | "OPTIONAL_DEPENDENCY_OF" => (b, a),
                _ => continue,
            };
            if let (Some(f), Some(t)) = (by_id.get(from), by_id.get(to))
                && f != t
            {
                graph.entry(f.clone()).or_default().insert(t.clone());
            }
        }
    }

    let mut sbom = Sbom {
        dependencies: graph,
        ..Sbom::default()
    };
    let described: Vec<&String> = described
        .iter()
        .filter(|d| by_id.contains_key(*d))
        .collect();
    if let [only] = described.as_slice() {
        let root_ref = by_id.get(*only).cloned().unwrap_or_default();
        if let Some(i) = components.iter().position(|c| c.bom_ref == root_ref) {
            sbom.root = Some(components.remove(i));
        }
    }
    sbom.components = components;
    if let Some(comment) = doc.get("creationInfo").and_then(|c| str_of(c, "comment")) {
        for line in comment.lines() {
            if let Some((k, v)) = line.split_once('=')
                && k.starts_with("cos:")
            {
                sbom.properties.insert(k.to_owned(), v.to_owned());
            }
        }
    }
    sbom.normalize();
    Ok(sbom)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_actors() {
        assert_eq!(sanitize("@babel/core"), "babel-core");
        assert_eq!(sanitize("___"), "x");
        assert_eq!(person("A B <a@b.c>"), "Person: A B (a@b.c)");
        assert_eq!(actor("Person: A B (a@b.c)").as_deref(), Some("A B <a@b.c>"));
        assert_eq!(actor("Organization: Acme").as_deref(), Some("Acme"));
        assert_eq!(actor("NOASSERTION"), None);
        assert!(license_ref("My licence!").starts_with("LicenseRef-My-licence-"));
    }
}
