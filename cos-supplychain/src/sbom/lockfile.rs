//! One entry point for every producer: the kind of lockfile from its file
//! name, and the options of all producers as one value.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::{CargoOptions, NpmOptions, PythonOptions, Sbom};
use crate::{Error, Result};

/// The inputs an SBOM is made from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum LockfileKind {
    /// `cargo metadata --format-version 1` output (JSON), with `Cargo.lock`
    /// for checksums ([`Sbom::from_cargo_metadata`]).
    CargoMetadata,
    /// npm `package-lock.json` (lockfileVersion 2 or 3).
    PackageLock,
    /// pip `requirements.txt` with pinned versions and hashes.
    Requirements,
    /// `poetry.lock`.
    PoetryLock,
    /// `uv.lock`.
    UvLock,
}

impl LockfileKind {
    /// The kind's name: `cargo-metadata`, `package-lock`, `requirements`,
    /// `poetry-lock`, `uv-lock`.
    pub fn name(self) -> &'static str {
        match self {
            LockfileKind::CargoMetadata => "cargo-metadata",
            LockfileKind::PackageLock => "package-lock",
            LockfileKind::Requirements => "requirements",
            LockfileKind::PoetryLock => "poetry-lock",
            LockfileKind::UvLock => "uv-lock",
        }
    }

    /// The kind a file is by its name (the last path component is looked
    /// at): `package-lock.json` (and `npm-shrinkwrap.json`),
    /// `requirements*.txt` (`requirements.txt`, `requirements-dev.txt`, …),
    /// `poetry.lock`, `uv.lock`. `Cargo.lock` alone is not enough for an
    /// SBOM (it needs `cargo metadata` output): [`Error::UnknownFormat`],
    /// as for any other name.
    pub fn from_file_name(name: &str) -> Result<LockfileKind> {
        let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
        let lower = base.to_ascii_lowercase();
        match lower.as_str() {
            "package-lock.json" | "npm-shrinkwrap.json" => Ok(LockfileKind::PackageLock),
            "poetry.lock" => Ok(LockfileKind::PoetryLock),
            "uv.lock" => Ok(LockfileKind::UvLock),
            n if n.starts_with("requirements") && n.ends_with(".txt") => {
                Ok(LockfileKind::Requirements)
            }
            _ => Err(Error::UnknownFormat {
                what: "lockfile",
                reason: format!(
                    "cannot tell the kind of {:?} from its name (package-lock.json, requirements*.txt, poetry.lock, uv.lock; Rust: cargo metadata output)",
                    base.chars().take(64).collect::<String>()
                ),
            }),
        }
    }
}

impl fmt::Display for LockfileKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for LockfileKind {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "cargo-metadata" => Ok(LockfileKind::CargoMetadata),
            "package-lock" | "npm" => Ok(LockfileKind::PackageLock),
            "requirements" => Ok(LockfileKind::Requirements),
            "poetry-lock" | "poetry" => Ok(LockfileKind::PoetryLock),
            "uv-lock" | "uv" => Ok(LockfileKind::UvLock),
            other => Err(Error::UnknownFormat {
                what: "lockfile",
                reason: format!(
                    "unknown lockfile kind {:?} (cargo-metadata, package-lock, requirements, poetry-lock, uv-lock)",
                    other.chars().take(32).collect::<String>()
                ),
            }),
        }
    }
}

/// The options of every producer in one value (JSON: snake_case keys,
/// unknown keys refused); each producer reads the ones that apply to it,
/// as `cos sbom` does with its flags.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct GenerateOptions {
    /// npm, Poetry, uv: keep dev dependencies (left out by default).
    #[serde(default)]
    pub include_dev: bool,
    /// Python: name of the root component (default `python-project`).
    #[serde(default)]
    pub root_name: Option<String>,
    /// Python: version of the root component.
    #[serde(default)]
    pub root_version: Option<String>,
    /// Rust: the workspace members to describe (default: the manifest's
    /// package, or every member of a virtual workspace).
    #[serde(default)]
    pub packages: Vec<String>,
}

impl GenerateOptions {
    /// The npm producer's options.
    pub fn npm(&self) -> NpmOptions {
        NpmOptions::with_dev(self.include_dev)
    }

    /// The Python producers' options.
    pub fn python(&self) -> PythonOptions {
        PythonOptions {
            root_name: self.root_name.clone(),
            root_version: self.root_version.clone(),
            include_dev: self.include_dev,
        }
    }

    /// The Rust producer's options.
    pub fn cargo(&self) -> CargoOptions {
        CargoOptions::with_packages(self.packages.clone())
    }
}

impl Sbom {
    /// The SBOM of a lockfile of the given kind. For
    /// [`LockfileKind::CargoMetadata`], `bytes` is the `cargo metadata`
    /// output and no `Cargo.lock` is read (no checksums): use
    /// [`Sbom::from_cargo_metadata`] to give one.
    ///
    /// ```
    /// use cos_supplychain::sbom::{GenerateOptions, LockfileKind, Sbom};
    ///
    /// let lock = b"idna==3.10 --hash=sha256:946d195a0d259cbba61165e88e65941f16e9b36ea6ddb97f00452bae8b1287d3\n";
    /// let kind = LockfileKind::from_file_name("deploy/requirements.txt")?;
    /// let sbom = Sbom::from_lockfile(kind, lock, &GenerateOptions::default())?;
    /// assert_eq!(sbom.components[0].purl.as_deref(), Some("pkg:pypi/idna@3.10"));
    /// # Ok::<(), cos_supplychain::Error>(())
    /// ```
    pub fn from_lockfile(
        kind: LockfileKind,
        bytes: &[u8],
        options: &GenerateOptions,
    ) -> Result<Sbom> {
        match kind {
            LockfileKind::CargoMetadata => Sbom::from_cargo_metadata(bytes, None, &options.cargo()),
            LockfileKind::PackageLock => Sbom::from_package_lock(bytes, &options.npm()),
            LockfileKind::Requirements => Sbom::from_requirements(bytes, &options.python()),
            LockfileKind::PoetryLock => Sbom::from_poetry_lock(bytes, &options.python()),
            LockfileKind::UvLock => Sbom::from_uv_lock(bytes, &options.python()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(path: &str) -> Vec<u8> {
        std::fs::read(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/data/sbom")
                .join(path),
        )
        .unwrap()
    }

    #[test]
    fn kinds_from_file_names() {
        for (name, kind) in [
            ("package-lock.json", LockfileKind::PackageLock),
            ("web/npm-shrinkwrap.json", LockfileKind::PackageLock),
            ("requirements.txt", LockfileKind::Requirements),
            ("C:\\app\\requirements-dev.txt", LockfileKind::Requirements),
            ("poetry.lock", LockfileKind::PoetryLock),
            ("/srv/app/uv.lock", LockfileKind::UvLock),
        ] {
            assert_eq!(LockfileKind::from_file_name(name).unwrap(), kind, "{name}");
            assert_eq!(kind.name().parse::<LockfileKind>().unwrap(), kind);
        }
        for bad in ["Cargo.lock", "yarn.lock", "", "requirements.in"] {
            let e = LockfileKind::from_file_name(bad).unwrap_err();
            assert_eq!(e.code(), "unknown_format", "{bad}");
        }
        assert_eq!(
            "pnpm".parse::<LockfileKind>().unwrap_err().code(),
            "unknown_format"
        );
    }

    #[test]
    fn from_lockfile_is_the_producer() {
        let o = GenerateOptions {
            include_dev: true,
            root_name: Some("shop".into()),
            root_version: Some("1.0".into()),
            ..GenerateOptions::default()
        };
        let npm = data("npm-v3/package-lock.json");
        assert_eq!(
            Sbom::from_lockfile(LockfileKind::PackageLock, &npm, &o).unwrap(),
            Sbom::from_package_lock(&npm, &NpmOptions::with_dev(true)).unwrap()
        );
        let mut py = PythonOptions::with_root("shop");
        py.root_version = Some("1.0".into());
        py.include_dev = true;
        for (kind, file) in [
            (LockfileKind::Requirements, "python/requirements.txt"),
            (LockfileKind::PoetryLock, "python/poetry.lock"),
            (LockfileKind::UvLock, "python/uv.lock"),
        ] {
            let bytes = data(file);
            let got = Sbom::from_lockfile(kind, &bytes, &o).unwrap();
            let want = match kind {
                LockfileKind::Requirements => Sbom::from_requirements(&bytes, &py),
                LockfileKind::PoetryLock => Sbom::from_poetry_lock(&bytes, &py),
                _ => Sbom::from_uv_lock(&bytes, &py),
            }
            .unwrap();
            assert_eq!(got, want, "{file}");
        }
        let meta = data("cargo/workspace-metadata.json");
        assert_eq!(
            Sbom::from_lockfile(
                LockfileKind::CargoMetadata,
                &meta,
                &GenerateOptions::default()
            )
            .unwrap(),
            Sbom::from_cargo_metadata(&meta, None, &CargoOptions::default()).unwrap()
        );
        let e = Sbom::from_lockfile(LockfileKind::UvLock, b"not toml [", &o).unwrap_err();
        assert_eq!(e.code(), "invalid_lockfile");
    }

    #[test]
    fn options_from_json() {
        let o: GenerateOptions =
            serde_json::from_str(r#"{"include_dev": true, "packages": ["a"]}"#).unwrap();
        assert!(o.include_dev && o.packages == ["a"]);
        assert!(serde_json::from_str::<GenerateOptions>(r#"{"includeDev": true}"#).is_err());
    }
}
