//! Package URLs (purl), as far as the gate needs them: to match a finding's
//! package with a waiver or a VEX statement, and to tell that two reports
//! name the same package.

use std::fmt;

/// A parsed package URL (`pkg:type/namespace/name@version?qualifiers#subpath`).
///
/// Qualifiers and subpath are dropped when parsing: they never take part in
/// matching ([`Purl::matches`]). Normalisation is described at
/// [`Purl::parse`]; percent-escapes are decoded.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Purl {
    /// The package type (`npm`, `maven`, `pypi`, `deb`, …), lower case.
    pub ty: String,
    /// The namespace (Maven group, npm scope, Go module path prefix, distro), if any.
    pub namespace: Option<String>,
    /// The package name.
    pub name: String,
    /// The version, if any.
    pub version: Option<String>,
}

/// Decodes `%XX` escapes; `None` when an escape is malformed or the result
/// is not UTF-8.
fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Types whose names (and namespaces) the purl spec defines as case-insensitive.
const CASE_INSENSITIVE: &[&str] = &[
    "alpm",
    "apk",
    "bitbucket",
    "composer",
    "deb",
    "github",
    "gitlab",
    "hex",
    "npm",
    "nuget",
    "pypi",
    "rpm",
];

impl Purl {
    /// Parses a purl; `None` when `s` is not one (no `pkg:` scheme, no type
    /// or name, bad percent-escapes).
    ///
    /// Normalisation: the type is lower-cased; for the types whose names are
    /// case-insensitive (`npm`, `pypi`, `nuget`, `deb`, `apk`, `rpm`,
    /// `composer`, `github`, …) namespace and name are lower-cased too; PyPI
    /// names have `_` and `.` folded to `-` (PEP 503).
    pub fn parse(s: &str) -> Option<Purl> {
        let s = s.trim();
        let rest = s.strip_prefix("pkg:").or_else(|| s.strip_prefix("PKG:"))?;
        let rest = rest.trim_start_matches('/');
        // Subpath and qualifiers are dropped: they never take part in matching.
        let rest = rest.split('#').next().unwrap_or_default();
        let rest = rest.split('?').next().unwrap_or_default();
        let (ty, path) = rest.split_once('/')?;
        let ty = ty.to_ascii_lowercase();
        if ty.is_empty()
            || !ty
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"+.-".contains(&b))
        {
            return None;
        }
        let (path, version) = match path.rsplit_once('@') {
            Some((p, v)) => (p, Some(percent_decode(v)?)),
            None => (path, None),
        };
        let path = path.trim_matches('/');
        let (namespace, name) = match path.rsplit_once('/') {
            Some((ns, n)) => {
                let segments = ns
                    .split('/')
                    .filter(|x| !x.is_empty())
                    .map(percent_decode)
                    .collect::<Option<Vec<_>>>()?;
                // A segment may not hold a `/` once decoded (purl spec).
                if segments.iter().any(|x| x.contains('/') || x.is_empty()) {
                    return None;
                }
                (Some(segments.join("/")), percent_decode(n)?)
            }
            None => (None, percent_decode(path)?),
        };
        if name.is_empty() || name.contains('/') {
            return None;
        }
        let fold = CASE_INSENSITIVE.contains(&ty.as_str());
        let mut name = if fold { name.to_lowercase() } else { name };
        if ty == "pypi" {
            name = name.replace(['_', '.'], "-");
        }
        let namespace = namespace
            .filter(|n| !n.is_empty())
            .map(|n| if fold { n.to_lowercase() } else { n });
        Some(Purl {
            ty,
            namespace,
            name,
            version: version.filter(|v| !v.is_empty()),
        })
    }

    /// Whether `self` (from a waiver or VEX statement) covers `other` (a
    /// finding's package): same type, namespace and name; and same version,
    /// unless `self` names none (then every version). Qualifiers and subpath
    /// are ignored on both sides.
    pub fn matches(&self, other: &Purl) -> bool {
        self.ty == other.ty
            && self.namespace == other.namespace
            && self.name == other.name
            && (self.version.is_none() || self.version == other.version)
    }

    /// The same purl without its version.
    pub fn without_version(&self) -> Purl {
        Purl {
            version: None,
            ..self.clone()
        }
    }

    /// A purl for a package of an OSV ecosystem (`npm`, `PyPI`, `Maven`,
    /// `Go`, `crates.io`, `RubyGems`, `NuGet`, `Packagist`, `Hex`, `Pub`),
    /// so that OSV findings can be matched with purls; `None` for other
    /// ecosystems (e.g. Linux distributions, whose purls need a distro
    /// namespace OSV does not give in the same form).
    pub fn from_ecosystem(ecosystem: &str, name: &str, version: Option<&str>) -> Option<Purl> {
        let (ty, namespace, pname) = match ecosystem {
            "npm" => match name.strip_prefix('@').and_then(|n| n.split_once('/')) {
                Some((scope, n)) => ("npm", Some(format!("@{scope}")), n.to_owned()),
                None => ("npm", None, name.to_owned()),
            },
            "PyPI" => ("pypi", None, name.to_owned()),
            "Maven" => {
                let (g, a) = name.split_once(':')?;
                ("maven", Some(g.to_owned()), a.to_owned())
            }
            "Go" => match name.rsplit_once('/') {
                Some((ns, n)) => ("golang", Some(ns.to_owned()), n.to_owned()),
                None => ("golang", None, name.to_owned()),
            },
            "crates.io" => ("cargo", None, name.to_owned()),
            "RubyGems" => ("gem", None, name.to_owned()),
            "NuGet" => ("nuget", None, name.to_owned()),
            "Packagist" => {
                let (v, n) = name.split_once('/')?;
                ("composer", Some(v.to_owned()), n.to_owned())
            }
            "Hex" => ("hex", None, name.to_owned()),
            "Pub" => ("pub", None, name.to_owned()),
            _ => return None,
        };
        let text = match namespace {
            Some(ns) => format!(
                "pkg:{ty}/{}/{}",
                ns.split('/').map(escape).collect::<Vec<_>>().join("/"),
                escape(&pname)
            ),
            None => format!("pkg:{ty}/{}", escape(&pname)),
        };
        let mut p = Purl::parse(&text)?;
        p.version = version.filter(|v| !v.is_empty()).map(str::to_owned);
        Some(p)
    }
}

/// Escapes what would change the structure of a purl (and white space and
/// control characters, which parsing would trim or that no one can read).
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '%' | '@' | '?' | '#' | '/') || c.is_whitespace() || c.is_control() {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("%{b:02X}"));
            }
        } else {
            out.push(c);
        }
    }
    out
}

impl fmt::Display for Purl {
    /// The normalised purl (no qualifiers, no subpath), e.g.
    /// `pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "pkg:{}/", self.ty)?;
        if let Some(ns) = &self.namespace {
            for seg in ns.split('/') {
                write!(f, "{}/", escape(seg))?;
            }
        }
        f.write_str(&escape(&self.name))?;
        if let Some(v) = &self.version {
            write!(f, "@{}", escape(v))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn p(s: &str) -> Purl {
        Purl::parse(s).unwrap()
    }

    #[test]
    fn parses_and_normalises() {
        let x = p("pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1?type=jar#sub/path");
        assert_eq!(x.ty, "maven");
        assert_eq!(x.namespace.as_deref(), Some("org.apache.logging.log4j"));
        assert_eq!(x.name, "log4j-core");
        assert_eq!(x.version.as_deref(), Some("2.14.1"));
        assert_eq!(
            x.to_string(),
            "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"
        );
        let npm = p("pkg:npm/%40Angular/Core@1.0.0");
        assert_eq!(npm.namespace.as_deref(), Some("@angular"));
        assert_eq!(npm.to_string(), "pkg:npm/%40angular/core@1.0.0");
        assert_eq!(
            p("pkg:PyPI/Django_Rest.Framework@3.0").name,
            "django-rest-framework"
        );
        assert_eq!(
            p("pkg:deb/debian/openssl@3.0.11-1~deb12u2?arch=amd64&distro=debian-12").to_string(),
            "pkg:deb/debian/openssl@3.0.11-1~deb12u2"
        );
        assert_eq!(
            p("pkg:golang/golang.org/x/text@v0.3.7")
                .namespace
                .as_deref(),
            Some("golang.org/x")
        );
        for bad in [
            "",
            "log4j",
            "pkg:",
            "pkg:maven",
            "pkg:maven/",
            "pkg:npm/%zz@1",
            "pkg:np m/x",
        ] {
            assert!(Purl::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn matching_ignores_qualifiers_and_takes_any_version_when_none_is_given() {
        let finding = p("pkg:deb/debian/openssl@3.0.11-1?arch=amd64");
        assert!(p("pkg:deb/debian/openssl@3.0.11-1?arch=arm64").matches(&finding));
        assert!(p("pkg:deb/debian/openssl").matches(&finding));
        assert!(!p("pkg:deb/debian/openssl@3.0.12").matches(&finding));
        assert!(!p("pkg:deb/ubuntu/openssl").matches(&finding));
        assert!(!p("pkg:rpm/debian/openssl").matches(&finding));
        assert!(!p("pkg:deb/debian/openssl@3.0.11-1").matches(&p("pkg:deb/debian/openssl")));
    }

    #[test]
    fn osv_ecosystems_become_purls() {
        let cases = [
            ("npm", "@babel/core", "pkg:npm/%40babel/core@1"),
            ("npm", "lodash", "pkg:npm/lodash@1"),
            ("PyPI", "Jinja2", "pkg:pypi/jinja2@1"),
            (
                "Maven",
                "org.apache.logging.log4j:log4j-core",
                "pkg:maven/org.apache.logging.log4j/log4j-core@1",
            ),
            (
                "Go",
                "github.com/gogo/protobuf",
                "pkg:golang/github.com/gogo/protobuf@1",
            ),
            ("crates.io", "regex", "pkg:cargo/regex@1"),
        ];
        for (eco, name, want) in cases {
            assert_eq!(
                Purl::from_ecosystem(eco, name, Some("1"))
                    .unwrap()
                    .to_string(),
                want
            );
        }
        assert!(Purl::from_ecosystem("Debian:12", "openssl", Some("1")).is_none());
        assert!(Purl::from_ecosystem("Maven", "no-colon", None).is_none());
    }

    proptest! {
        #[test]
        fn parse_never_panics_and_display_is_stable(s in "pkg:\\PC{0,40}") {
            if let Some(x) = Purl::parse(&s) {
                let again = Purl::parse(&x.to_string()).unwrap();
                prop_assert_eq!(again.to_string(), x.to_string());
            }
        }
    }
}
