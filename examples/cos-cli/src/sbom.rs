//! `cos sbom` (generate, merge, diff) and `cos gate license`.

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand, ValueEnum};
use cos_core::file::{Overwrite, read_limited, write_atomic};
use cos_supplychain::license::Policy;
use cos_supplychain::sbom::{
    CargoOptions, Format, MAX_INPUT_SIZE, NpmOptions, PythonOptions, Sbom, WriteOptions,
};

use crate::{Failure, json_line, read_input, write_stdout};

/// `cos sbom`: generate an SBOM from a lockfile, or merge / diff SBOMs.
#[derive(Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub(crate) struct SbomArgs {
    #[command(subcommand)]
    command: Option<SbomCommand>,
    #[command(flatten)]
    generate: GenerateArgs,
}

#[derive(Subcommand)]
enum SbomCommand {
    /// Merge SBOMs (CycloneDX or SPDX JSON): components united by purl,
    /// dependency graphs merged; the first one's root stays the root.
    Merge {
        /// The SBOMs (two or more).
        #[arg(required = true, num_args = 2.., value_name = "SBOM")]
        inputs: Vec<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = FormatArg::Cyclonedx16)]
        format: FormatArg,
        /// Write here (atomically) instead of standard output.
        #[arg(short = 'o', long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Compare two SBOMs: packages added and removed, versions, licences
    /// and hashes changed.
    Diff {
        /// The SBOM before.
        before: PathBuf,
        /// The SBOM after.
        after: PathBuf,
        /// JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Args)]
#[group(id = "input", required = true, multiple = false)]
struct InputArgs {
    /// A Rust package or workspace: runs `cargo metadata --locked` on it.
    #[arg(long, value_name = "Cargo.toml")]
    manifest_path: Option<PathBuf>,
    /// An npm `package-lock.json` (lockfileVersion 2 or 3).
    #[arg(long, value_name = "package-lock.json")]
    npm: Option<PathBuf>,
    /// A pip `requirements.txt` with pinned versions and hashes.
    #[arg(long, value_name = "requirements.txt")]
    requirements: Option<PathBuf>,
    /// A `poetry.lock`.
    #[arg(long, value_name = "poetry.lock")]
    poetry: Option<PathBuf>,
    /// A `uv.lock`.
    #[arg(long, value_name = "uv.lock")]
    uv: Option<PathBuf>,
}

#[derive(Args)]
struct GenerateArgs {
    #[command(flatten)]
    input: InputArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = FormatArg::Cyclonedx16)]
    format: FormatArg,
    /// Write here (atomically) instead of standard output.
    #[arg(short = 'o', long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Rust: features to activate (passed to cargo).
    #[arg(short = 'F', long, value_name = "FEATURES")]
    features: Vec<String>,
    /// Rust: activate all features.
    #[arg(long)]
    all_features: bool,
    /// Rust: do not activate the default features.
    #[arg(long)]
    no_default_features: bool,
    /// Rust: only dependencies for this target triple (`cargo metadata --filter-platform`).
    #[arg(long, alias = "target", value_name = "TRIPLE")]
    filter_platform: Option<String>,
    /// Rust: describe these workspace members (default: the manifest's
    /// package, or every member of a virtual workspace).
    #[arg(short = 'p', long = "package", value_name = "NAME")]
    packages: Vec<String>,
    /// npm, Poetry, uv: keep dev dependencies (left out by default).
    #[arg(long)]
    include_dev: bool,
    /// Python: name of the root component (default: the lockfile's directory name).
    #[arg(long, value_name = "NAME")]
    root_name: Option<String>,
    /// Python: version of the root component.
    #[arg(long, value_name = "VERSION")]
    root_version: Option<String>,
}

#[derive(Clone, Copy, ValueEnum)]
enum FormatArg {
    #[value(name = "cyclonedx-1.6")]
    Cyclonedx16,
    #[value(name = "cyclonedx-1.5")]
    Cyclonedx15,
    #[value(name = "spdx-2.3")]
    Spdx23,
}

impl FormatArg {
    fn format(self) -> Format {
        match self {
            FormatArg::Cyclonedx16 => Format::CycloneDx16,
            FormatArg::Cyclonedx15 => Format::CycloneDx15,
            FormatArg::Spdx23 => Format::Spdx23,
        }
    }
}

/// `cos gate ...`.
#[derive(Subcommand)]
pub(crate) enum GateCommand {
    /// Check every component's licence in an SBOM against allow / deny
    /// lists of SPDX licences (exit 1 when a component is blocked).
    License {
        /// The SBOM (CycloneDX or SPDX JSON).
        #[arg(long, value_name = "FILE")]
        sbom: PathBuf,
        /// The policy (JSON, or YAML for .yaml / .yml):
        /// {"allow": [...], "deny": [...], "unknown": "block"|"warn"|"allow", "ignore": [purl...]}.
        #[arg(long, value_name = "FILE")]
        policy: PathBuf,
        /// Print the JSON report instead of text.
        #[arg(long)]
        json: bool,
    },
}

/// The creation time: `SOURCE_DATE_EPOCH` when set (malformed is an
/// error), else now.
fn created() -> Result<u64, Failure> {
    match crate::source_date_epoch()? {
        Some(secs) => Ok(secs),
        None => Ok(std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0)),
    }
}

fn emit(sbom: &Sbom, format: Format, out: Option<&Path>) -> Result<(), Failure> {
    let bytes = sbom.write(format, &WriteOptions::at(created()?))?;
    match out {
        Some(path) => {
            write_atomic(path, &bytes, Some(0o644), Overwrite::Replace)?;
            eprintln!(
                "cos: wrote {} ({} components) to {}",
                format,
                sbom.components.len() + usize::from(sbom.root.is_some()),
                crate::path_shown(path)
            );
            Ok(())
        }
        None => write_stdout(&bytes),
    }
}

fn read_sbom(path: &Path) -> Result<Sbom, Failure> {
    let bytes = read_input(path, MAX_INPUT_SIZE)?;
    Sbom::from_json(&bytes).map_err(|e| Failure::Usage(format!("{}: {e}", path.display())))
}

pub(crate) fn sbom(args: SbomArgs) -> Result<(), Failure> {
    match args.command {
        Some(SbomCommand::Merge {
            inputs,
            format,
            out,
        }) => {
            let mut merged: Option<Sbom> = None;
            for p in &inputs {
                let s = read_sbom(p)?;
                merged = Some(match merged {
                    Some(m) => m.merge(&s),
                    None => s,
                });
            }
            let merged = merged.unwrap_or_default();
            emit(&merged, format.format(), out.as_deref())
        }
        Some(SbomCommand::Diff {
            before,
            after,
            json,
        }) => {
            let d = read_sbom(&before)?.diff(&read_sbom(&after)?);
            if json {
                json_line(&d.to_json())
            } else {
                write_stdout(d.to_text().as_bytes())
            }
        }
        None => generate(&args.generate),
    }
}

fn dir_name(path: &Path) -> Option<String> {
    let abs = std::fs::canonicalize(path).ok()?;
    abs.parent()?.file_name()?.to_str().map(str::to_owned)
}

fn python_options(g: &GenerateArgs, lockfile: &Path) -> PythonOptions {
    let mut o = PythonOptions::with_root(
        g.root_name
            .clone()
            .or_else(|| dir_name(lockfile))
            .unwrap_or_else(|| "python-project".into()),
    );
    o.root_version = g.root_version.clone();
    o.include_dev = g.include_dev;
    o
}

fn generate(g: &GenerateArgs) -> Result<(), Failure> {
    let i = &g.input;
    let sbom = if let Some(manifest) = &i.manifest_path {
        cargo_sbom(g, manifest)?
    } else if let Some(p) = &i.npm {
        Sbom::from_package_lock(
            &read_input(p, MAX_INPUT_SIZE)?,
            &NpmOptions::with_dev(g.include_dev),
        )?
    } else if let Some(p) = &i.requirements {
        Sbom::from_requirements(&read_input(p, MAX_INPUT_SIZE)?, &python_options(g, p))?
    } else if let Some(p) = &i.poetry {
        Sbom::from_poetry_lock(&read_input(p, MAX_INPUT_SIZE)?, &python_options(g, p))?
    } else if let Some(p) = &i.uv {
        Sbom::from_uv_lock(&read_input(p, MAX_INPUT_SIZE)?, &python_options(g, p))?
    } else {
        return Err(Failure::Usage(
            "one of --manifest-path, --npm, --requirements, --poetry, --uv is required".into(),
        ));
    };
    emit(&sbom, g.format.format(), g.out.as_deref())
}

fn cargo_sbom(g: &GenerateArgs, manifest: &Path) -> Result<Sbom, Failure> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = std::process::Command::new(&cargo);
    cmd.args([
        "metadata",
        "--format-version",
        "1",
        "--locked",
        "--manifest-path",
    ])
    .arg(manifest);
    if let Some(t) = &g.filter_platform {
        cmd.args(["--filter-platform", t.as_str()]);
    }
    if !g.features.is_empty() {
        cmd.arg("--features").arg(g.features.join(","));
    }
    if g.all_features {
        cmd.arg("--all-features");
    }
    if g.no_default_features {
        cmd.arg("--no-default-features");
    }
    let output = cmd
        .output()
        .map_err(|e| Failure::Usage(format!("running {}: {e}", cargo.to_string_lossy())))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Err(Failure::Usage(format!(
            "cargo metadata failed ({}): {}",
            output.status,
            stderr.trim()
        )));
    }
    let meta: serde_json::Value = serde_json::from_slice(&output.stdout)
        .map_err(|e| Failure::Usage(format!("cargo metadata output is not JSON: {e}")))?;
    let lock_path = meta
        .get("workspace_root")
        .and_then(|r| r.as_str())
        .map(|r| Path::new(r).join("Cargo.lock"));
    let lock = match lock_path {
        Some(p) if p.is_file() => Some(read_limited(&p, MAX_INPUT_SIZE)?),
        _ => None,
    };
    let mut sbom = Sbom::from_cargo_metadata(
        &output.stdout,
        lock.as_deref(),
        &CargoOptions::with_packages(g.packages.clone()),
    )?;
    if let Some(t) = &g.filter_platform {
        sbom.properties.insert("cos:cargo:target".into(), t.clone());
    }
    let mut features = Vec::new();
    if g.all_features {
        features.push("--all-features".to_owned());
    }
    if g.no_default_features {
        features.push("--no-default-features".to_owned());
    }
    if !g.features.is_empty() {
        features.push(format!("--features {}", g.features.join(",")));
    }
    if !features.is_empty() {
        sbom.properties
            .insert("cos:cargo:features".into(), features.join(" "));
    }
    Ok(sbom)
}

pub(crate) fn gate(command: GateCommand) -> Result<(), Failure> {
    match command {
        GateCommand::License { sbom, policy, json } => {
            let sbom = read_sbom(&sbom)?;
            let bytes = read_input(&policy, cos_supplychain::license::MAX_POLICY_SIZE)?;
            let yaml = matches!(
                policy.extension().and_then(|e| e.to_str()),
                Some("yaml" | "yml")
            );
            let policy = if yaml {
                Policy::from_yaml(&bytes)?
            } else {
                Policy::from_json(&bytes)?
            };
            let report = policy.check(&sbom);
            if json {
                json_line(&report.to_json())?;
            } else {
                write_stdout(report.to_text().as_bytes())?;
            }
            if report.passed() {
                Ok(())
            } else {
                Err(Failure::Invalid(format!(
                    "{} of {} components blocked by the licence policy",
                    report.blocked().count(),
                    report.components.len()
                )))
            }
        }
    }
}
