//! Package URLs (<https://github.com/package-url/purl-spec>): building them
//! with the spec's encoding, and reading the parts back.

use std::fmt::Write as _;

/// Percent-encodes everything but the unreserved characters (and, when
/// `keep` says so, `:` and `/`).
fn encode(s: &str, keep_slash_colon: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        let plain = b.is_ascii_alphanumeric()
            || matches!(b, b'.' | b'-' | b'_' | b'~')
            || (keep_slash_colon && matches!(b, b':' | b'/'));
        if plain {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// Decodes `%XX` escapes (invalid escapes are kept as they are).
fn decode(s: &str) -> String {
    fn hex_val(b: u8) -> Option<u8> {
        match b {
            b'0'..=b'9' => Some(b - b'0'),
            b'a'..=b'f' => Some(b - b'a' + 10),
            b'A'..=b'F' => Some(b - b'A' + 10),
            _ => None,
        }
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex_val(bytes[i + 1]), hex_val(bytes[i + 2]))
        {
            out.push(h * 16 + l);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The parts of a package URL.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Purl {
    /// Type (`cargo`, `npm`, `pypi`, ...), lower case.
    pub ty: String,
    /// Namespace (decoded; `@scope` for npm), if any.
    pub namespace: Option<String>,
    /// Name (decoded).
    pub name: String,
    /// Version (decoded), if any.
    pub version: Option<String>,
    /// Qualifiers, sorted by key (values decoded).
    pub qualifiers: Vec<(String, String)>,
}

impl Purl {
    /// A purl from its parts; qualifiers are sorted by key.
    pub fn new(
        ty: &str,
        namespace: Option<&str>,
        name: &str,
        version: Option<&str>,
        qualifiers: &[(&str, &str)],
    ) -> Self {
        let mut q: Vec<(String, String)> = qualifiers
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| ((*k).to_ascii_lowercase(), (*v).to_owned()))
            .collect();
        q.sort();
        Purl {
            ty: ty.to_ascii_lowercase(),
            namespace: namespace.filter(|n| !n.is_empty()).map(str::to_owned),
            name: name.to_owned(),
            version: version.filter(|v| !v.is_empty()).map(str::to_owned),
            qualifiers: q,
        }
    }

    /// An npm purl: a `@scope/name` name puts `@scope` in the namespace
    /// (written `%40scope`).
    pub fn npm(full_name: &str, version: Option<&str>) -> Self {
        match full_name.split_once('/') {
            Some((scope, name)) if scope.starts_with('@') => {
                Purl::new("npm", Some(scope), name, version, &[])
            }
            _ => Purl::new("npm", None, full_name, version, &[]),
        }
    }

    /// A PyPI purl with the name normalised (PEP 503: lower case, runs of
    /// `-`, `_`, `.` as one `-`).
    pub fn pypi(name: &str, version: Option<&str>) -> Self {
        Purl::new("pypi", None, &normalize_python_name(name), version, &[])
    }

    /// Parses a purl (`pkg:type/namespace/name@version?qualifiers#subpath`);
    /// `None` when it is not one.
    pub fn parse(s: &str) -> Option<Self> {
        let rest = s.strip_prefix("pkg:")?;
        let rest = rest.trim_start_matches('/');
        let rest = rest.split_once('#').map_or(rest, |(a, _)| a);
        let (path, query) = match rest.split_once('?') {
            Some((a, b)) => (a, Some(b)),
            None => (rest, None),
        };
        let (ty, path) = path.split_once('/')?;
        if ty.is_empty() || path.is_empty() {
            return None;
        }
        // The version follows the last '@' after the last '/'.
        let last_slash = path.rfind('/').map_or(0, |i| i + 1);
        let (path, version) = match path[last_slash..].rfind('@') {
            Some(at) => (
                &path[..last_slash + at],
                Some(decode(&path[last_slash + at + 1..])),
            ),
            None => (path, None),
        };
        let path = path.trim_end_matches('/');
        let (namespace, name) = match path.rfind('/') {
            Some(i) => (Some(decode(&path[..i])), decode(&path[i + 1..])),
            None => (None, decode(path)),
        };
        if name.is_empty() {
            return None;
        }
        let mut qualifiers: Vec<(String, String)> = query
            .unwrap_or("")
            .split('&')
            .filter_map(|kv| kv.split_once('='))
            .map(|(k, v)| (k.to_ascii_lowercase(), decode(v)))
            .filter(|(_, v)| !v.is_empty())
            .collect();
        qualifiers.sort();
        Some(Purl {
            ty: ty.to_ascii_lowercase(),
            namespace,
            name,
            version: version.filter(|v| !v.is_empty()),
            qualifiers,
        })
    }

    /// Type, namespace and name: what stays when a package changes version.
    pub fn package_key(&self) -> String {
        let mut p = self.clone();
        p.version = None;
        p.qualifiers.clear();
        p.to_string()
    }
}

impl std::fmt::Display for Purl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "pkg:{}/", self.ty)?;
        if let Some(ns) = &self.namespace {
            for seg in ns.split('/') {
                write!(f, "{}/", encode(seg, false))?;
            }
        }
        f.write_str(&encode(&self.name, false))?;
        if let Some(v) = &self.version {
            write!(f, "@{}", encode(v, false))?;
        }
        for (i, (k, v)) in self.qualifiers.iter().enumerate() {
            let sep = if i == 0 { '?' } else { '&' };
            write!(f, "{sep}{k}={}", encode(v, true))?;
        }
        Ok(())
    }
}

/// PEP 503 normalisation: lower case, each run of `-`, `_` and `.` as one `-`.
pub fn normalize_python_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut in_sep = false;
    for c in name.trim().chars() {
        if matches!(c, '-' | '_' | '.') {
            if !in_sep {
                out.push('-');
            }
            in_sep = true;
        } else {
            out.extend(c.to_lowercase());
            in_sep = false;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn npm_scope_is_encoded() {
        assert_eq!(
            Purl::npm("@babel/core", Some("7.24.0")).to_string(),
            "pkg:npm/%40babel/core@7.24.0"
        );
        assert_eq!(
            Purl::npm("lodash", Some("4.17.21")).to_string(),
            "pkg:npm/lodash@4.17.21"
        );
    }

    #[test]
    fn pypi_names_are_normalised() {
        assert_eq!(
            Purl::pypi("Typing_Extensions", Some("4.12.2")).to_string(),
            "pkg:pypi/typing-extensions@4.12.2"
        );
        assert_eq!(normalize_python_name("zope.interface"), "zope-interface");
        assert_eq!(normalize_python_name("a__b--c"), "a-b-c");
    }

    #[test]
    fn cargo_versions_with_build_metadata() {
        let p = Purl::new(
            "cargo",
            None,
            "wasi",
            Some("0.11.0+wasi-snapshot-preview1"),
            &[],
        );
        assert_eq!(
            p.to_string(),
            "pkg:cargo/wasi@0.11.0%2Bwasi-snapshot-preview1"
        );
        assert_eq!(Purl::parse(&p.to_string()), Some(p));
    }

    #[test]
    fn parse_round_trips_and_reads_unencoded_scopes() {
        for s in [
            "pkg:npm/%40babel/core@7.24.0",
            "pkg:cargo/serde@1.0.228",
            "pkg:pypi/requests@2.32.3",
            "pkg:cargo/x@1.0.0?vcs_url=git%2Bhttps://github.com/a/b%40abc",
            "pkg:maven/org.apache/commons-io@2.0",
        ] {
            let p = Purl::parse(s).unwrap();
            assert_eq!(p.to_string(), s);
        }
        let p = Purl::parse("pkg:npm/@babel/core@7.24.0").unwrap();
        assert_eq!(p.namespace.as_deref(), Some("@babel"));
        assert_eq!(p.version.as_deref(), Some("7.24.0"));
        assert_eq!(p.package_key(), "pkg:npm/%40babel/core");
        assert!(Purl::parse("npm/x").is_none());
        assert!(Purl::parse("pkg:npm").is_none());
        assert_eq!(Purl::parse("pkg:npm/a%4").unwrap().name, "a%4");
    }
}
