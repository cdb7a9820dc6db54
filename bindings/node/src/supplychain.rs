//! The `supplychain` API of `@companyos/cos`: cos_supplychain (SBOMs, the
//! licence gate, SLSA provenance, the CVE gate), mapped. Every behaviour is
//! the crate's; the functions here convert arguments and results and map
//! errors (`code` is `cos_supplychain::Error::code`).

use napi::bindgen_prelude::{AsyncTask, Buffer, ClassInstance, Either3, Uint8Array};
use napi::{Env, ScopedTask, Task, Unknown};
use napi_derive::napi;

use cos_supplychain::sbom::{self, GenerateOptions, LockfileKind};
use cos_supplychain::{license, slsa, vuln};

use crate::{
    Bytes, Result, SigningKey, SubjectInput, bytes, invalid_arg, json_arg, json_opt, json_out,
    rejection, shape, shape_out,
};

fn sc_err(e: cos_supplychain::Error) -> napi::Error<&'static str> {
    napi::Error::new(e.code(), e.to_string())
}

fn sc_rejection(env: &Env, e: &cos_supplychain::Error) -> napi::Error {
    rejection(env, e.code(), e.to_string())
}

// ---------------------------------------------------------------- SBOMs

/// `Sbom.fromLockfile`'s options: `cos_supplychain::sbom::GenerateOptions`
/// in camelCase, the fields a lockfile reads (`SbomOptions` in index.d.ts).
fn generate_options(env: &Env, o: Option<Unknown<'_>>) -> Result<GenerateOptions> {
    let v = json_opt(env, o)?;
    shape::options_among(
        v,
        "SBOM options",
        &["include_dev", "root_name", "root_version"],
    )
}

/// `Sbom.fromCargoMetadata`'s options: the `packages` of `GenerateOptions`
/// (`CargoSbomOptions` in index.d.ts).
fn cargo_options(env: &Env, o: Option<Unknown<'_>>) -> Result<GenerateOptions> {
    shape::options_among(json_opt(env, o)?, "Cargo SBOM options", &["packages"])
}

/// A software bill of materials.
#[napi]
pub struct Sbom(sbom::Sbom);

#[napi]
impl Sbom {
    /// Reads CycloneDX (1.2–1.6) or SPDX (2.2, 2.3) JSON.
    #[napi(factory)]
    pub fn from_json(data: Bytes) -> Result<Self> {
        sbom::Sbom::from_json(bytes(&data))
            .map(Sbom)
            .map_err(sc_err)
    }

    /// From a lockfile whose kind `fileName` tells.
    #[napi(
        factory,
        ts_args_type = "data: Bytes, fileName: string, options?: SbomOptions"
    )]
    pub fn from_lockfile(
        env: &Env,
        data: Bytes,
        file_name: String,
        options: Option<Unknown<'_>>,
    ) -> Result<Self> {
        let options = generate_options(env, options)?;
        let kind = LockfileKind::from_file_name(&file_name).map_err(sc_err)?;
        sbom::Sbom::from_lockfile(kind, bytes(&data), &options)
            .map(Sbom)
            .map_err(sc_err)
    }

    /// From `cargo metadata --format-version 1` output and `Cargo.lock`.
    #[napi(
        factory,
        ts_args_type = "metadata: Bytes, cargoLock?: Bytes | null, options?: CargoSbomOptions"
    )]
    pub fn from_cargo_metadata(
        env: &Env,
        metadata: Bytes,
        cargo_lock: Option<Bytes>,
        options: Option<Unknown<'_>>,
    ) -> Result<Self> {
        let options = cargo_options(env, options)?;
        sbom::Sbom::from_cargo_metadata(
            bytes(&metadata),
            cargo_lock.as_ref().map(bytes),
            &options.cargo(),
        )
        .map(Sbom)
        .map_err(sc_err)
    }

    /// The document in a format, at a creation time.
    #[napi]
    pub fn write(
        &self,
        env: &Env,
        #[napi(ts_arg_type = "SbomWriteOptions")] options: Unknown<'_>,
    ) -> Result<Buffer> {
        let options: sbom::WriteConfig = shape::options(
            Some(json_arg(env, options, "SBOM write options")?),
            "SBOM write options",
        )?;
        options.write(&self.0).map(Buffer::from).map_err(sc_err)
    }

    /// This SBOM merged with `other` (this one's root stays the root).
    #[napi]
    pub fn merge(&self, other: &Sbom) -> Sbom {
        Sbom(self.0.merge(&other.0))
    }

    /// What changed from this SBOM to `after`.
    #[napi]
    pub fn diff(&self, after: &Sbom) -> SbomDiff {
        SbomDiff(self.0.diff(&after.0))
    }

    /// The root component, or `null` (cos's model: its fields in camelCase,
    /// `bomRef`; the documents `write` gives keep their standard keys).
    #[napi(getter, ts_return_type = "SbomComponent | null")]
    pub fn root<'e>(&self, env: &'e Env) -> Result<Unknown<'e>> {
        shape_out(env, &self.0.root)
    }

    /// The other components, sorted by `bom_ref`.
    #[napi(getter, ts_return_type = "SbomComponent[]")]
    pub fn components<'e>(&self, env: &'e Env) -> Result<Unknown<'e>> {
        shape_out(env, &self.0.components)
    }

    /// Components including the root.
    #[napi(getter)]
    pub fn size(&self) -> u32 {
        u32::try_from(self.0.components.len() + usize::from(self.0.root.is_some()))
            .unwrap_or(u32::MAX)
    }

    /// The model: `root`, `components`, `dependencies`, `properties`.
    #[napi(ts_return_type = "SbomModel")]
    pub fn to_object<'e>(&self, env: &'e Env) -> Result<Unknown<'e>> {
        shape_out(env, &self.0)
    }

    /// `Sbom(root=…, components=N)`.
    #[napi(js_name = "toString")]
    pub fn describe(&self) -> String {
        format!(
            "Sbom(root={}, components={})",
            self.0
                .root
                .as_ref()
                .map_or_else(|| "none".to_owned(), |r| r.label()),
            self.0.components.len()
        )
    }
}

/// What changed between two SBOMs.
#[napi]
pub struct SbomDiff(sbom::SbomDiff);

#[napi]
impl SbomDiff {
    /// No difference at all.
    #[napi(getter)]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `{added, removed, changed}`.
    #[napi(ts_return_type = "SbomDiffJson")]
    pub fn to_object<'e>(&self, env: &'e Env) -> Result<Unknown<'e>> {
        json_out(env, &self.0.to_json())
    }

    /// `+ added`, `- removed`, `~ changed` lines and a count.
    #[napi]
    pub fn to_text(&self) -> String {
        self.0.to_text()
    }
}

/// Seconds since 1970 from a `SOURCE_DATE_EPOCH` value (strict).
#[napi]
pub fn source_date_epoch(value: String) -> Result<i64> {
    let secs = sbom::source_date_epoch(&value).map_err(sc_err)?;
    // At most 253402300799: exact in a JavaScript number.
    i64::try_from(secs).map_err(|_| invalid_arg("SOURCE_DATE_EPOCH out of range"))
}

/// Which SBOM an async task makes.
enum SbomInput {
    Json(Vec<u8>),
    Lockfile(LockfileKind, Vec<u8>, GenerateOptions),
    Cargo(Vec<u8>, Option<Vec<u8>>, GenerateOptions),
}

/// Makes an SBOM off the main thread.
pub struct MakeSbom(SbomInput);

impl Task for MakeSbom {
    type Output = std::result::Result<sbom::Sbom, cos_supplychain::Error>;
    type JsValue = Sbom;

    fn compute(&mut self) -> napi::Result<Self::Output> {
        Ok(match &self.0 {
            SbomInput::Json(data) => sbom::Sbom::from_json(data),
            SbomInput::Lockfile(kind, data, o) => sbom::Sbom::from_lockfile(*kind, data, o),
            SbomInput::Cargo(meta, lock, o) => {
                sbom::Sbom::from_cargo_metadata(meta, lock.as_deref(), &o.cargo())
            }
        })
    }

    fn resolve(&mut self, env: Env, output: Self::Output) -> napi::Result<Sbom> {
        output.map(Sbom).map_err(|e| sc_rejection(&env, &e))
    }
}

/// `Sbom.fromJson` on the libuv thread pool.
#[napi(ts_return_type = "Promise<Sbom>")]
pub fn sbom_from_json_async(data: Bytes) -> AsyncTask<MakeSbom> {
    AsyncTask::new(MakeSbom(SbomInput::Json(bytes(&data).to_vec())))
}

/// `Sbom.fromLockfile` on the libuv thread pool.
#[napi(
    ts_args_type = "data: Bytes, fileName: string, options?: SbomOptions",
    ts_return_type = "Promise<Sbom>"
)]
pub fn sbom_from_lockfile_async(
    env: &Env,
    data: Bytes,
    file_name: String,
    options: Option<Unknown<'_>>,
) -> Result<AsyncTask<MakeSbom>> {
    let options = generate_options(env, options)?;
    let kind = LockfileKind::from_file_name(&file_name).map_err(sc_err)?;
    Ok(AsyncTask::new(MakeSbom(SbomInput::Lockfile(
        kind,
        bytes(&data).to_vec(),
        options,
    ))))
}

/// `Sbom.fromCargoMetadata` on the libuv thread pool.
#[napi(
    ts_args_type = "metadata: Bytes, cargoLock?: Bytes | null, options?: CargoSbomOptions",
    ts_return_type = "Promise<Sbom>"
)]
pub fn sbom_from_cargo_metadata_async(
    env: &Env,
    metadata: Bytes,
    cargo_lock: Option<Bytes>,
    options: Option<Unknown<'_>>,
) -> Result<AsyncTask<MakeSbom>> {
    Ok(AsyncTask::new(MakeSbom(SbomInput::Cargo(
        bytes(&metadata).to_vec(),
        cargo_lock.as_ref().map(|b| bytes(b).to_vec()),
        cargo_options(env, options)?,
    ))))
}

// ---------------------------------------------------------------- licences

/// Allow / deny lists of SPDX licences.
#[napi]
pub struct LicensePolicy(license::Policy);

#[napi]
impl LicensePolicy {
    /// From JSON.
    #[napi(factory)]
    pub fn from_json(data: Bytes) -> Result<Self> {
        license::Policy::from_json(bytes(&data))
            .map(LicensePolicy)
            .map_err(sc_err)
    }

    /// From YAML.
    #[napi(factory)]
    pub fn from_yaml(data: Bytes) -> Result<Self> {
        license::Policy::from_yaml(bytes(&data))
            .map(LicensePolicy)
            .map_err(sc_err)
    }

    /// Every component's licence against the policy.
    #[napi]
    pub fn check(&self, sbom: &Sbom) -> LicenseReport {
        LicenseReport(self.0.check(&sbom.0))
    }
}

/// The licence gate's report.
#[napi]
pub struct LicenseReport(license::Report);

#[napi]
impl LicenseReport {
    /// No component is blocked.
    #[napi(getter)]
    pub fn passed(&self) -> bool {
        self.0.passed()
    }

    /// `{passed, counts, components}`.
    #[napi(ts_return_type = "LicenseReportJson")]
    pub fn to_object<'e>(&self, env: &'e Env) -> Result<Unknown<'e>> {
        json_out(env, &self.0.to_json())
    }

    /// One line per blocked or warned component and a summary.
    #[napi]
    pub fn to_text(&self) -> String {
        self.0.to_text()
    }
}

// ---------------------------------------------------------------- SLSA

fn subjects(list: Vec<SubjectInput>) -> Result<Vec<cos_core::statement::Subject>> {
    list.into_iter()
        .map(|s| {
            let d = cos_core::Digest::parse_prefixed(&s.digest)
                .map_err(|e| sc_err(cos_supplychain::Error::Core(e)))?;
            Ok(cos_core::statement::Subject::new(s.name, &d))
        })
        .collect()
}

/// A build description: JSON text, JSON bytes, or an object.
type BuildInput<'a> = Either3<String, Uint8Array, Unknown<'a>>;

fn build_description(env: &Env, build: BuildInput<'_>) -> Result<slsa::BuildDescription> {
    let json = match build {
        Either3::A(s) => s.into_bytes(),
        Either3::B(b) => b.to_vec(),
        Either3::C(v) => serde_json::to_vec(&json_arg(env, v, "build description")?)
            .map_err(|e| invalid_arg(e.to_string()))?,
    };
    slsa::BuildDescription::from_json(&json).map_err(sc_err)
}

/// The in-toto Statement with the SLSA v1 predicate of a build description.
#[napi(ts_return_type = "Statement")]
pub fn provenance_statement<'e>(
    env: &'e Env,
    #[napi(ts_arg_type = "Bytes | BuildDescription")] build: BuildInput<'_>,
    subjects: Vec<SubjectInput>,
) -> Result<Unknown<'e>> {
    let build = build_description(env, build)?;
    let st = slsa::statement(&build, self::subjects(subjects)?).map_err(sc_err)?;
    json_out(env, &st)
}

/// Signed SLSA provenance: a DSSE envelope or a Sigstore bundle (JSON bytes).
#[napi]
pub fn attest_provenance(
    env: &Env,
    #[napi(ts_arg_type = "Bytes | BuildDescription")] build: BuildInput<'_>,
    subjects: Vec<SubjectInput>,
    key: ClassInstance<'_, SigningKey>,
    #[napi(ts_arg_type = "AttestOptions")] options: Option<Unknown<'_>>,
) -> Result<Buffer> {
    let options: slsa::AttestConfig =
        shape::options(json_opt(env, options)?, "attestProvenance options")?;
    let format = options.signature_format().map_err(sc_err)?;
    let build = build_description(env, build)?;
    slsa::attest(&build, self::subjects(subjects)?, &key.0, format)
        .map(Buffer::from)
        .map_err(sc_err)
}

/// `verifyProvenance`'s options: `cos_supplychain::slsa::VerifyConfig` in
/// camelCase.
fn verify_config(env: &Env, o: Unknown<'_>) -> Result<slsa::VerifyConfig> {
    let v = json_arg(env, o, "verifyProvenance options")?;
    shape::options(Some(v), "verifyProvenance options")
}

/// Owned arguments of a verification on the thread pool.
pub struct VerifyProvenance {
    provenance: Vec<u8>,
    artifact: Vec<u8>,
    config: slsa::VerifyConfig,
}

impl<'task> ScopedTask<'task> for VerifyProvenance {
    type Output = std::result::Result<slsa::VerifiedProvenance, cos_supplychain::Error>;
    type JsValue = Unknown<'task>;

    fn compute(&mut self) -> napi::Result<Self::Output> {
        Ok(self.config.verify(&self.provenance, &self.artifact))
    }

    fn resolve(&mut self, env: &'task Env, output: Self::Output) -> napi::Result<Unknown<'task>> {
        let v = output.map_err(|e| sc_rejection(env, &e))?;
        shape_out(env, &v).map_err(|e| rejection(env, e.status, e.reason))
    }
}

/// Verifies SLSA provenance for `artifact` as `cos verify provenance` does.
#[napi(ts_return_type = "VerifiedProvenance")]
pub fn verify_provenance<'e>(
    env: &'e Env,
    provenance: Bytes,
    artifact: Bytes,
    #[napi(ts_arg_type = "VerifyProvenanceOptions")] options: Unknown<'_>,
) -> Result<Unknown<'e>> {
    let v = verify_config(env, options)?
        .verify(bytes(&provenance), bytes(&artifact))
        .map_err(sc_err)?;
    shape_out(env, &v)
}

/// `verifyProvenance` on the libuv thread pool.
#[napi(ts_return_type = "Promise<VerifiedProvenance>")]
pub fn verify_provenance_async(
    env: &Env,
    provenance: Bytes,
    artifact: Bytes,
    #[napi(ts_arg_type = "VerifyProvenanceOptions")] options: Unknown<'_>,
) -> Result<AsyncTask<VerifyProvenance>> {
    Ok(AsyncTask::new(VerifyProvenance {
        provenance: bytes(&provenance).to_vec(),
        artifact: bytes(&artifact).to_vec(),
        config: verify_config(env, options)?,
    }))
}

// ---------------------------------------------------------------- CVE gate

/// `cveGate`'s options: `cos_supplychain::vuln::GateConfig` in camelCase
/// (the time and format checked here, so that `cveGateAsync` throws for
/// them as `cveGate` does).
pub struct CveGate(vuln::GateConfig);

impl CveGate {
    fn new(env: &Env, o: Unknown<'_>) -> Result<Self> {
        let config: vuln::GateConfig = shape::options(
            Some(json_arg(env, o, "cveGate options")?),
            "cveGate options",
        )?;
        config.parsed().map_err(sc_err)?;
        Ok(CveGate(config))
    }

    fn run(&self) -> std::result::Result<vuln::Verdict, cos_supplychain::Error> {
        self.0.evaluate()
    }
}

impl Task for CveGate {
    type Output = std::result::Result<vuln::Verdict, cos_supplychain::Error>;
    type JsValue = CveVerdict;

    fn compute(&mut self) -> napi::Result<Self::Output> {
        Ok(self.run())
    }

    fn resolve(&mut self, env: Env, output: Self::Output) -> napi::Result<CveVerdict> {
        output.map(CveVerdict).map_err(|e| sc_rejection(&env, &e))
    }
}

/// The CVE gate's verdict.
#[napi]
pub struct CveVerdict(vuln::Verdict);

#[napi]
impl CveVerdict {
    /// No finding blocks.
    #[napi(getter)]
    pub fn passed(&self) -> bool {
        self.0.passed()
    }

    /// RFC 8785 canonical JSON bytes (for the evidence bundle).
    #[napi]
    pub fn to_json(&self) -> Result<Buffer> {
        self.0.to_json().map(Buffer::from).map_err(sc_err)
    }

    /// The verdict as an object.
    #[napi(ts_return_type = "CveVerdictJson")]
    pub fn to_object<'e>(&self, env: &'e Env) -> Result<Unknown<'e>> {
        json_out(env, &self.0)
    }

    /// The verdict for people.
    #[napi]
    pub fn to_text(&self) -> String {
        self.0.to_text()
    }
}

/// Judges vulnerability reports with VEX, waivers and a policy at `now`.
#[napi]
pub fn cve_gate(
    env: &Env,
    #[napi(ts_arg_type = "CveGateOptions")] options: Unknown<'_>,
) -> Result<CveVerdict> {
    CveGate::new(env, options)?
        .run()
        .map(CveVerdict)
        .map_err(sc_err)
}

/// `cveGate` on the libuv thread pool.
#[napi(ts_return_type = "Promise<CveVerdict>")]
pub fn cve_gate_async(
    env: &Env,
    #[napi(ts_arg_type = "CveGateOptions")] options: Unknown<'_>,
) -> Result<AsyncTask<CveGate>> {
    Ok(AsyncTask::new(CveGate::new(env, options)?))
}

/// `osv`, `grype`, `trivy` or `cyclonedx`, from a report's content.
#[napi]
pub fn detect_report_format(data: Bytes) -> Result<&'static str> {
    vuln::detect_format(bytes(&data))
        .map(vuln::ReportFormat::as_str)
        .map_err(sc_err)
}

/// The CVSS v3.0/v3.1/v4.0 score of a vector.
#[napi(ts_return_type = "CvssScore")]
pub fn cvss_score<'e>(env: &'e Env, vector: String) -> Result<Unknown<'e>> {
    let s = vuln::score_vector(&vector).map_err(sc_err)?;
    json_out(env, &s)
}
