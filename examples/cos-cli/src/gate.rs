//! `cos gate cve` and `cos gate cvss` (`cos gate license` is in sbom.rs).

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand, ValueEnum};
use cos_core::file::{Overwrite, write_atomic};
use cos_core::text::shown;
use cos_supplychain::vuln;

use crate::{
    Failure, MAX_JSON_INPUT, json_line, read_input, reason_text, sbom, source_date_epoch,
    write_stdout,
};

#[derive(Subcommand)]
pub(crate) enum GateCommand {
    /// Licence policy over an SBOM.
    #[command(flatten)]
    Sbom(sbom::GateCommand),
    /// Judge vulnerability reports against a policy, with VEX and waivers
    /// (docs/cve-gate.md). Prints the verdict (text, or canonical JSON with
    /// --json); exit 0 pass, 1 blocked, 2 usage error or unreadable input.
    Cve(CveArgs),
    /// Print the score of each CVSS v3.0/v3.1/v4.0 vector (one per line from
    /// standard input when none is given): `SCORE SEVERITY VECTOR`, or a JSON
    /// list with --json. Exit 2 when a vector is invalid.
    Cvss {
        /// Vectors (`CVSS:3.1/AV:N/...`, `CVSS:4.0/AV:N/...`).
        vectors: Vec<String>,
        /// Print a JSON list of {vector, version, score, severity[, nomenclature]}
        /// (invalid vectors: {vector, error, code}).
        #[arg(long)]
        json: bool,
    },
}

#[derive(Args)]
pub(crate) struct CveArgs {
    /// A vulnerability report (OSV, Grype JSON, Trivy JSON, CycloneDX); repeat for several.
    #[arg(long = "report", required = true, value_name = "FILE")]
    reports: Vec<PathBuf>,
    /// Format of the reports (auto: recognised from each file's content).
    #[arg(long, value_enum, default_value_t = ReportFormatArg::Auto)]
    format: ReportFormatArg,
    /// A VEX document (OpenVEX or CycloneDX); repeat for several.
    #[arg(long = "vex", value_name = "FILE")]
    vex: Vec<PathBuf>,
    /// Waivers file (YAML or JSON).
    #[arg(long, value_name = "FILE")]
    waivers: Option<PathBuf>,
    /// Gate policy file (YAML or JSON); default: block CVSS 7.0 and above.
    #[arg(long, value_name = "FILE")]
    policy: Option<PathBuf>,
    /// The time waivers are judged at (RFC 3339); default: SOURCE_DATE_EPOCH
    /// when set, else the clock.
    #[arg(long, value_name = "TIME")]
    now: Option<String>,
    /// Print the verdict as canonical JSON instead of text.
    #[arg(long)]
    json: bool,
    /// Also write the canonical JSON verdict to this file (atomically), for
    /// the evidence bundle.
    #[arg(long, value_name = "FILE")]
    verdict: Option<PathBuf>,
}

#[derive(Clone, Copy, ValueEnum)]
enum ReportFormatArg {
    Auto,
    Osv,
    Grype,
    Trivy,
    Cyclonedx,
}

/// Runs a `cos gate` command.
pub(crate) fn run(command: GateCommand) -> Result<(), Failure> {
    match command {
        GateCommand::Cve(args) => gate_cve(&args),
        GateCommand::Cvss { vectors, json } => gate_cvss(vectors, json),
        GateCommand::Sbom(command) => sbom::gate(command),
    }
}

/// The time a gate judges at: --now, else SOURCE_DATE_EPOCH, else the clock.
fn gate_now(now: Option<&str>) -> Result<vuln::Timestamp, Failure> {
    if let Some(t) = now {
        return Ok(vuln::Timestamp::parse(t)?);
    }
    match source_date_epoch()? {
        // At most 253402300799: it fits.
        Some(secs) => Ok(vuln::Timestamp::from_unix(
            i64::try_from(secs).unwrap_or(i64::MAX),
        )),
        None => Ok(vuln::Timestamp::now()),
    }
}

fn gate_cve(args: &CveArgs) -> Result<(), Failure> {
    let limits = vuln::Limits::default();
    let max = limits.max_bytes as u64;
    let format = match args.format {
        ReportFormatArg::Auto => vuln::ReportFormat::Auto,
        ReportFormatArg::Osv => vuln::ReportFormat::Osv,
        ReportFormatArg::Grype => vuln::ReportFormat::Grype,
        ReportFormatArg::Trivy => vuln::ReportFormat::Trivy,
        ReportFormatArg::Cyclonedx => vuln::ReportFormat::Cyclonedx,
    };
    let now = gate_now(args.now.as_deref())?;
    let policy = match &args.policy {
        Some(p) => vuln::Policy::from_slice(&read_input(p, max)?)
            .map_err(|e| Failure::Usage(format!("{}: {e}", p.display())))?,
        None => vuln::Policy::default(),
    };
    let mut reports = Vec::new();
    for p in &args.reports {
        let name = p.display().to_string();
        let bytes = read_input(p, max)?;
        reports.push(
            vuln::parse_report(&bytes, format, &name, &limits)
                .map_err(|e| Failure::Usage(format!("{name}: {e}")))?,
        );
    }
    let mut vex = Vec::new();
    for p in &args.vex {
        let name = p.display().to_string();
        let bytes = read_input(p, max)?;
        vex.push(
            vuln::parse_vex(&bytes, vuln::VexFormat::Auto, &name, &limits)
                .map_err(|e| Failure::Usage(format!("{name}: {e}")))?,
        );
    }
    let waivers = match &args.waivers {
        Some(p) => vuln::parse_waivers(&read_input(p, max)?, &limits)
            .map_err(|e| Failure::Usage(format!("{}: {e}", p.display())))?,
        None => Vec::new(),
    };
    let verdict = vuln::evaluate(vuln::GateInput {
        policy: &policy,
        reports: &reports,
        vex: &vex,
        waivers: &waivers,
        now,
    });
    let mut json = verdict.to_json()?;
    json.push(b'\n');
    if let Some(out) = &args.verdict {
        write_atomic(out, &json, Some(0o644), Overwrite::Replace)?;
    }
    if args.json {
        write_stdout(&json)?;
    } else {
        write_stdout(verdict.to_text().as_bytes())?;
    }
    if verdict.passed() {
        Ok(())
    } else {
        Err(Failure::Invalid(format!(
            "CVE gate failed: {} of {} findings block",
            verdict.counts.blocking, verdict.counts.findings
        )))
    }
}

fn gate_cvss(vectors: Vec<String>, json: bool) -> Result<(), Failure> {
    let vectors = if vectors.is_empty() {
        let input = read_input(Path::new("-"), MAX_JSON_INPUT)?;
        String::from_utf8_lossy(&input)
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect()
    } else {
        vectors
    };
    let mut out = String::new();
    let mut items = Vec::new();
    let mut errors = 0usize;
    for v in &vectors {
        match vuln::score_vector(v) {
            Ok(s) => {
                if json {
                    items
                        .push(serde_json::to_value(&s).map_err(|e| Failure::Usage(e.to_string()))?);
                } else {
                    out.push_str(&format!(
                        "{:.1} {} {}\n",
                        s.score,
                        s.severity,
                        shown(&s.vector)
                    ));
                }
            }
            Err(e) => {
                errors += 1;
                if json {
                    items.push(
                        serde_json::json!({"vector": v, "error": e.to_string(), "code": e.code()}),
                    );
                } else {
                    eprintln!("cos: error: {}", reason_text(&e.to_string()));
                }
            }
        }
    }
    if json {
        json_line(&serde_json::Value::Array(items))?;
    } else {
        write_stdout(out.as_bytes())?;
    }
    if errors > 0 {
        return Err(Failure::Usage(format!(
            "{errors} of {} vectors are invalid",
            vectors.len()
        )));
    }
    Ok(())
}
