//! Waivers: time-boxed, approved exceptions for one vulnerability in one
//! package.

use serde::Serialize;
use serde_json::{Map, Value};

use super::finding::{Finding, Limits};
use super::purl::Purl;
use super::time::Timestamp;
use crate::error::{Error, Result};

/// Which packages a waiver covers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PackageMatch {
    /// `*`: every package.
    Any,
    /// A purl: matched ignoring qualifiers and subpath, any version when it
    /// names none.
    Purl(Purl),
    /// A name: the finding's package name, or its purl's name
    /// (`namespace/name` and Maven's `group:artifact` too), exactly.
    Name(String),
}

impl PackageMatch {
    fn parse(s: &str) -> Option<PackageMatch> {
        let s = s.trim();
        if s == "*" {
            Some(PackageMatch::Any)
        } else if s.starts_with("pkg:") {
            Purl::parse(s).map(PackageMatch::Purl)
        } else if s.is_empty() {
            None
        } else {
            Some(PackageMatch::Name(s.to_owned()))
        }
    }

    /// Whether it covers the package of `f`.
    pub fn matches(&self, f: &Finding) -> bool {
        let pkg = &f.package;
        match self {
            PackageMatch::Any => true,
            PackageMatch::Purl(p) => match &pkg.purl {
                Some(fp) => p.matches(fp),
                None => p.name == pkg.name && (p.version.is_none() || p.version == pkg.version),
            },
            PackageMatch::Name(n) => {
                n == &pkg.name
                    || pkg.purl.as_ref().is_some_and(|u| {
                        n == &u.name
                            || u.namespace.as_ref().is_some_and(|ns| {
                                n == &format!("{ns}/{}", u.name) || n == &format!("{ns}:{}", u.name)
                            })
                    })
            }
        }
    }
}

/// One waiver.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Waiver {
    /// The vulnerability: an id or alias (`CVE-…`, `GHSA-…`), compared without case.
    pub id: String,
    /// The package, as written (`*`, a purl or a name).
    pub package: String,
    /// Why the risk is accepted.
    pub reason: String,
    /// Who accepted it.
    pub approver: String,
    /// The expiry as written (RFC 3339 date or date-time).
    pub expires: String,
    /// The instant it stops holding: the given date-time, or the end of the
    /// given date (UTC).
    #[serde(skip)]
    pub expires_at: Timestamp,
    /// Where it was matched against packages.
    #[serde(skip)]
    pub package_match: PackageMatch,
    /// Its position in the file, from 1.
    #[serde(skip)]
    pub index: usize,
}

impl Waiver {
    /// Whether the waiver names this finding (id or alias, and package),
    /// whatever its expiry.
    pub fn matches(&self, f: &Finding) -> bool {
        f.ids().contains(&self.id.to_ascii_uppercase()) && self.package_match.matches(f)
    }

    /// Whether it still holds at `now` (`now` before the expiry).
    pub fn holds_at(&self, now: Timestamp) -> bool {
        now < self.expires_at
    }
}

const FIELDS: &[&str] = &[
    "id", "package", "purl", "reason", "approver", "expires", "expiry",
];

/// Parses a waivers file, YAML or JSON: a list of waivers, or a mapping
/// with a `waivers` list. Each waiver has `id`, `package` (or `purl`),
/// `reason`, `approver` and `expires` (or `expiry`), all required and
/// non-empty; other fields are refused.
///
/// Errors: [`Error::InputTooLarge`], [`Error::TooManyEntries`],
/// [`Error::InvalidWaivers`] (not YAML/JSON, wrong shape),
/// [`Error::InvalidWaiver`] (naming the waiver and the field).
pub fn parse_waivers(bytes: &[u8], limits: &Limits) -> Result<Vec<Waiver>> {
    limits.check_size("waivers file", bytes)?;
    let bad = |reason: String| Error::InvalidWaivers { reason };
    let value = super::policy::yaml_or_json(bytes).map_err(bad)?;
    let list = match value {
        Value::Array(items) => items,
        Value::Object(mut m) => {
            if let Some(k) = m.keys().find(|k| k.as_str() != "waivers") {
                return Err(bad(format!(
                    "unknown top-level field `{k}` (expected `waivers`)"
                )));
            }
            match m.remove("waivers") {
                Some(Value::Array(items)) => items,
                Some(Value::Null) => Vec::new(),
                _ => return Err(bad("`waivers` is not a list".into())),
            }
        }
        Value::Null => Vec::new(),
        _ => return Err(bad("expected a list of waivers or a `waivers:` list".into())),
    };
    if list.len() > limits.max_waivers {
        return Err(Error::TooManyEntries {
            what: "waivers file".into(),
            entries: "waivers",
            limit: limits.max_waivers,
        });
    }
    list.into_iter()
        .enumerate()
        .map(|(i, v)| waiver(i + 1, v))
        .collect()
}

fn waiver(index: usize, v: Value) -> Result<Waiver> {
    let Value::Object(m) = v else {
        return Err(Error::InvalidWaiver {
            index,
            id: String::new(),
            field: "id",
            reason: "a waiver is a mapping with id, package, reason, approver, expires".into(),
        });
    };
    let id = text(&m, index, "", "id")?.unwrap_or_default();
    let err = |field: &'static str, reason: String| Error::InvalidWaiver {
        index,
        id: id.clone(),
        field,
        reason,
    };
    if id.is_empty() {
        return Err(err(
            "id",
            "missing (the vulnerability id or an alias)".into(),
        ));
    }
    if let Some(k) = m.keys().find(|k| !FIELDS.contains(&k.as_str())) {
        return Err(err(
            "(unknown)",
            format!("unknown field `{k}` (fields: id, package, reason, approver, expires)"),
        ));
    }
    let package = match (
        text(&m, index, &id, "package")?,
        text(&m, index, &id, "purl")?,
    ) {
        (Some(_), Some(_)) => {
            return Err(err("package", "give `package` or `purl`, not both".into()));
        }
        (Some(p), None) | (None, Some(p)) => p,
        (None, None) => {
            return Err(err(
                "package",
                "missing (a package name, a purl, or `*` for every package)".into(),
            ));
        }
    };
    let Some(package_match) = PackageMatch::parse(&package) else {
        return Err(err("package", format!("{package:?} is not a valid purl")));
    };
    let reason = text(&m, index, &id, "reason")?
        .ok_or_else(|| err("reason", "missing (why the risk is accepted)".into()))?;
    let approver = text(&m, index, &id, "approver")?
        .ok_or_else(|| err("approver", "missing (who accepted the risk)".into()))?;
    let expires = match (
        text(&m, index, &id, "expires")?,
        text(&m, index, &id, "expiry")?,
    ) {
        (Some(_), Some(_)) => {
            return Err(err(
                "expires",
                "give `expires` or `expiry`, not both".into(),
            ));
        }
        (Some(e), None) | (None, Some(e)) => e,
        (None, None) => {
            return Err(err(
                "expires",
                "missing (an RFC 3339 date or date-time; every waiver expires)".into(),
            ));
        }
    };
    let expires_at =
        Timestamp::parse_end_of(&expires).map_err(|e| err("expires", e.to_string()))?;
    Ok(Waiver {
        id,
        package,
        reason,
        approver,
        expires,
        expires_at,
        package_match,
        index,
    })
}

/// A string field: `None` when absent or empty; an error when not text.
fn text(
    m: &Map<String, Value>,
    index: usize,
    id: &str,
    field: &'static str,
) -> Result<Option<String>> {
    match m.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.trim().to_owned()).filter(|s| !s.is_empty())),
        Some(other) => Err(Error::InvalidWaiver {
            index,
            id: id.to_owned(),
            field: match field {
                "purl" => "package",
                "expiry" => "expires",
                f => f,
            },
            reason: format!("expected text, found {}", kind(other)),
        }),
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "text",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vuln::finding::Package;

    fn parse(s: &str) -> Result<Vec<Waiver>> {
        parse_waivers(s.as_bytes(), &Limits::default())
    }

    #[test]
    fn yaml_and_json_forms() {
        let y = parse(
            "waivers:\n  - id: CVE-2021-44228\n    package: pkg:maven/org.apache.logging.log4j/log4j-core\n    reason: not reachable\n    approver: alice@example.com\n    expires: 2026-12-31\n",
        )
        .unwrap();
        assert_eq!(y[0].expires_at.to_string(), "2027-01-01T00:00:00Z");
        let j = parse(
            r#"[{"id":"CVE-1","purl":"pkg:npm/a","reason":"r","approver":"a","expiry":"2026-12-01T12:00:00Z"}]"#,
        )
        .unwrap();
        assert_eq!(j[0].package, "pkg:npm/a");
        assert_eq!(j[0].expires_at.to_string(), "2026-12-01T12:00:00Z");
        assert!(parse("waivers: []\n").unwrap().is_empty());
        assert!(parse("").unwrap().is_empty());
    }

    #[test]
    fn missing_and_bad_fields_are_named() {
        let base = [
            ("id", "CVE-1"),
            ("package", "a"),
            ("reason", "r"),
            ("approver", "b"),
            ("expires", "2026-12-31"),
        ];
        for (drop, _) in base {
            let doc: Map<String, Value> = base
                .iter()
                .filter(|(k, _)| *k != drop)
                .map(|(k, v)| ((*k).to_owned(), Value::String((*v).to_owned())))
                .collect();
            let text = serde_json::to_string(&vec![Value::Object(doc)]).unwrap();
            match parse(&text).unwrap_err() {
                Error::InvalidWaiver { index, field, .. } => {
                    assert_eq!((index, field), (1, drop));
                }
                other => panic!("{other}"),
            }
        }
        for (doc, field) in [
            (
                r#"[{"id":"CVE-1","package":"a","reason":"r","approver":"b","expires":"soon"}]"#,
                "expires",
            ),
            (
                r#"[{"id":"CVE-1","package":"pkg:","reason":"r","approver":"b","expires":"2026-01-01"}]"#,
                "package",
            ),
            (
                r#"[{"id":"CVE-1","package":"a","reason":7,"approver":"b","expires":"2026-01-01"}]"#,
                "reason",
            ),
            (
                r#"[{"id":"CVE-1","package":"a","reason":"r","approver":"b","expires":"2026-01-01","note":"x"}]"#,
                "(unknown)",
            ),
            (
                r#"[{"id":"CVE-1","package":"a","purl":"pkg:npm/a","reason":"r","approver":"b","expires":"2026-01-01"}]"#,
                "package",
            ),
            (r#"["CVE-1"]"#, "id"),
        ] {
            match parse(doc).unwrap_err() {
                Error::InvalidWaiver { field: f, .. } => assert_eq!(f, field, "{doc}"),
                other => panic!("{doc}: {other}"),
            }
        }
        for doc in ["{\"waiver\": []}", "waivers: 3", "- [", "42"] {
            assert_eq!(parse(doc).unwrap_err().code(), "invalid_waivers", "{doc}");
        }
    }

    #[test]
    fn package_matching() {
        let purl = Purl::parse("pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1?type=jar");
        let f = Finding::new(
            "CVE-2021-44228",
            Package {
                name: "log4j-core".into(),
                version: Some("2.14.1".into()),
                purl,
            },
        );
        for (p, want) in [
            ("*", true),
            ("log4j-core", true),
            ("org.apache.logging.log4j:log4j-core", true),
            ("org.apache.logging.log4j/log4j-core", true),
            ("pkg:maven/org.apache.logging.log4j/log4j-core", true),
            ("pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1", true),
            (
                "pkg:maven/org.apache.logging.log4j/log4j-core@2.17.0",
                false,
            ),
            ("log4j-api", false),
        ] {
            assert_eq!(PackageMatch::parse(p).unwrap().matches(&f), want, "{p}");
        }
    }
}
