//! SLSA provenance v1: make it from a description of a build, and verify it
//! the way `slsa-verifier` does.
//!
//! **Making.** A [`BuildDescription`] (builder id, build type, external
//! parameters, the source repository, commit and ref, other resolved
//! dependencies, start and finish times) becomes a [`Provenance`] predicate
//! (<https://slsa.dev/spec/v1.0/provenance>), wrapped in an in-toto
//! Statement v1 whose subjects are the artefacts built. Sign it as a DSSE
//! envelope ([`cos_core::statement::Statement::sign`]) or as a Sigstore
//! bundle ([`cos_core::sigstore::sign_statement`]).
//!
//! **Verifying.** After the signature (DSSE with a key, or a Sigstore
//! bundle, key or keyless) has verified, [`check`] holds the statement to
//! [`Expectations`], as `slsa-verifier verify-artifact` does: the artefact
//! is a subject (SHA-256 or SHA-512), the predicate is SLSA provenance v1,
//! the builder id is the expected one (without `@version` in the
//! expectation, any version of that builder), the source repository is the
//! expected one wherever the provenance names it
//! (`externalParameters.workflow.repository` of GitHub Actions builds, and
//! the git dependency in `resolvedDependencies`), and, when asked, the
//! source ref is the expected branch or tag. Each mismatch is an
//! [`Error::ProvenanceMismatch`] naming the field, what was expected and
//! what the provenance says.
//!
//! ```
//! use cos_core::statement::Subject;
//! use cos_core::{Digest, DigestAlgorithm, KeyAlgorithm, PrivateKey, Verifier};
//! use cos_supplychain::slsa::{self, BuildDescription, Expectations};
//!
//! let build: BuildDescription = serde_json::from_str(r#"{
//!     "builder_id": "https://ci.example.com/builders/release@v2",
//!     "build_type": "https://ci.example.com/buildtypes/make/v1",
//!     "external_parameters": {"target": "release"},
//!     "source": {"repository": "https://github.com/acme/app",
//!                "commit": "46e7056ff9912ebfee5298d94024895a9fea76c0",
//!                "ref": "refs/heads/main"},
//!     "started_on": "2026-11-22T10:00:00Z",
//!     "finished_on": "2026-11-22T10:04:31Z"
//! }"#).unwrap();
//! let artifact = b"the release tarball";
//! let subject = Subject::new("app.tar.gz", &Digest::of_bytes(DigestAlgorithm::Sha256, artifact));
//! let statement = slsa::statement(&build, vec![subject]).unwrap();
//! let key = PrivateKey::generate(KeyAlgorithm::Ed25519).unwrap();
//! let envelope = statement.sign(&[&key]).unwrap().to_json();
//!
//! let expect = Expectations::new("https://ci.example.com/builders/release", "github.com/acme/app")
//!     .branch("main");
//! let trusted: [&dyn Verifier; 1] = [key.public_key()];
//! let verified = slsa::verify_envelope(&envelope, &trusted, artifact, &expect).unwrap();
//! assert_eq!(verified.source_commit.as_deref(), Some("46e7056ff9912ebfee5298d94024895a9fea76c0"));
//!
//! let wrong = Expectations::new("https://ci.example.com/builders/release", "github.com/acme/other");
//! let err = slsa::verify_envelope(&envelope, &trusted, artifact, &wrong).unwrap_err();
//! assert_eq!(err.code(), "provenance_mismatch");
//! ```

use std::collections::BTreeMap;

use cos_core::dsse::Envelope;
use cos_core::sigstore::{BlobVerifier, Bundle};
use cos_core::statement::{PAYLOAD_TYPE, Statement, Subject};
use cos_core::time::{days_from_civil, days_in_month};
use cos_core::{Digest, DigestAlgorithm, Verifier};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::{Error, Result};

/// `predicateType` of SLSA provenance v1.
pub const PREDICATE_TYPE: &str = "https://slsa.dev/provenance/v1";

/// Largest build description read (1 MiB).
pub const MAX_BUILD_DESCRIPTION: usize = 1024 * 1024;

/// Largest provenance file read (the size of a DSSE envelope or bundle).
pub const MAX_PROVENANCE: u64 = cos_core::sigstore::MAX_BUNDLE_SIZE;

/// A resource (artefact, source, tool) by URI and digests: SLSA's
/// `ResourceDescriptor`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ResourceDescriptor {
    /// Where it is (`git+https://github.com/o/r@refs/heads/main`, a purl, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
    /// Algorithm → digest (`sha256`, `gitCommit`, …).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub digest: BTreeMap<String, String>,
    /// A name for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Where it can be downloaded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub download_location: Option<String>,
    /// Its media type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// Further data about it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<Map<String, Value>>,
}

/// The source a build started from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    /// The repository (`https://github.com/acme/app`, or with `git+`).
    pub repository: String,
    /// The commit built (40 or 64 hex digits).
    pub commit: String,
    /// The ref built (`refs/heads/main`, `refs/tags/v1.2.0`).
    #[serde(default, rename = "ref", skip_serializing_if = "Option::is_none")]
    pub git_ref: Option<String>,
}

/// What a build was: the input of [`provenance`] / [`statement`] (JSON,
/// snake_case keys; unknown keys are refused).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BuildDescription {
    /// Who built it: the builder's id (a URI), the trust anchor of the
    /// provenance.
    pub builder_id: String,
    /// Versions of the builder's components.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub builder_version: BTreeMap<String, String>,
    /// How: a URI naming the build type (the schema of the parameters).
    pub build_type: String,
    /// Inputs the user controlled.
    #[serde(default)]
    pub external_parameters: Map<String, Value>,
    /// Inputs the builder chose.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub internal_parameters: Option<Map<String, Value>>,
    /// The source repository, commit and ref (the first resolved
    /// dependency).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<Source>,
    /// Other resolved dependencies (toolchains, base images, …).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resolved_dependencies: Vec<ResourceDescriptor>,
    /// The build's id at the builder (a URL of the run).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invocation_id: Option<String>,
    /// When the build started (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_on: Option<String>,
    /// When it finished (RFC 3339, not before `started_on`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_on: Option<String>,
    /// Other outputs (logs, SBOMs) worth naming.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub byproducts: Vec<ResourceDescriptor>,
}

impl BuildDescription {
    /// Parses a description (JSON, at most [`MAX_BUILD_DESCRIPTION`] bytes).
    pub fn from_json(json: &[u8]) -> Result<Self> {
        if json.len() > MAX_BUILD_DESCRIPTION {
            return Err(Error::Core(cos_core::Error::TooLarge {
                what: "build description".into(),
                limit: MAX_BUILD_DESCRIPTION as u64,
            }));
        }
        serde_json::from_slice(json).map_err(|e| Error::InvalidBuildDescription {
            reason: e.to_string(),
        })
    }
}

/// The SLSA v1 predicate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Provenance {
    /// What was built and how.
    pub build_definition: BuildDefinition,
    /// Who built it and when.
    pub run_details: RunDetails,
}

/// `buildDefinition`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BuildDefinition {
    /// URI of the build type.
    pub build_type: String,
    /// Inputs the user controlled.
    pub external_parameters: Map<String, Value>,
    /// Inputs the builder chose.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub internal_parameters: Option<Map<String, Value>>,
    /// Source and other dependencies, source first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resolved_dependencies: Vec<ResourceDescriptor>,
}

/// `runDetails`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RunDetails {
    /// The builder.
    pub builder: Builder,
    /// Invocation id and times.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<BuildMetadata>,
    /// Other outputs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub byproducts: Vec<ResourceDescriptor>,
}

/// `runDetails.builder`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Builder {
    /// The builder's id.
    pub id: String,
    /// Versions of its components.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub version: BTreeMap<String, String>,
}

/// `runDetails.metadata`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BuildMetadata {
    /// The build's id at the builder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invocation_id: Option<String>,
    /// Start time (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_on: Option<String>,
    /// Finish time (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_on: Option<String>,
}

fn invalid(reason: impl Into<String>) -> Error {
    Error::InvalidBuildDescription {
        reason: reason.into(),
    }
}

/// The predicate for a build, after checking the description: builder id
/// and build type present, the source commit 40 or 64 hex digits and its
/// ref under `refs/`, times RFC 3339 and in order.
pub fn provenance(build: &BuildDescription) -> Result<Provenance> {
    if build.builder_id.trim().is_empty() {
        return Err(invalid("builder_id is empty"));
    }
    if build.build_type.trim().is_empty() {
        return Err(invalid("build_type is empty"));
    }
    let mut resolved = Vec::with_capacity(build.resolved_dependencies.len() + 1);
    if let Some(source) = &build.source {
        let commit = &source.commit;
        if !(commit.len() == 40 || commit.len() == 64)
            || !commit.bytes().all(|b| b.is_ascii_hexdigit())
        {
            return Err(invalid(format!(
                "source.commit must be 40 or 64 hex digits, not {commit:?}"
            )));
        }
        if source.repository.trim().is_empty() || source.repository.contains('@') {
            return Err(invalid(
                "source.repository must be a repository URI without @ref",
            ));
        }
        let repo = source.repository.trim();
        let repo = if repo.starts_with("git+") {
            repo.to_owned()
        } else {
            format!("git+{repo}")
        };
        let uri = match &source.git_ref {
            Some(r) if !r.starts_with("refs/") => {
                return Err(invalid(format!(
                    "source.ref must be a full ref (refs/heads/…, refs/tags/…), not {r:?}"
                )));
            }
            Some(r) => format!("{repo}@{r}"),
            None => repo,
        };
        resolved.push(ResourceDescriptor {
            uri: Some(uri),
            digest: BTreeMap::from([("gitCommit".to_owned(), commit.to_ascii_lowercase())]),
            ..ResourceDescriptor::default()
        });
    }
    resolved.extend(build.resolved_dependencies.iter().cloned());
    let started = build
        .started_on
        .as_deref()
        .map(|t| {
            rfc3339_seconds(t).ok_or_else(|| invalid(format!("started_on is not RFC 3339: {t:?}")))
        })
        .transpose()?;
    let finished = build
        .finished_on
        .as_deref()
        .map(|t| {
            rfc3339_seconds(t).ok_or_else(|| invalid(format!("finished_on is not RFC 3339: {t:?}")))
        })
        .transpose()?;
    if let (Some(s), Some(f)) = (started, finished)
        && f < s
    {
        return Err(invalid("finished_on is before started_on"));
    }
    let metadata = (build.invocation_id.is_some()
        || build.started_on.is_some()
        || build.finished_on.is_some())
    .then(|| BuildMetadata {
        invocation_id: build.invocation_id.clone(),
        started_on: build.started_on.clone(),
        finished_on: build.finished_on.clone(),
    });
    Ok(Provenance {
        build_definition: BuildDefinition {
            build_type: build.build_type.clone(),
            external_parameters: build.external_parameters.clone(),
            internal_parameters: build.internal_parameters.clone(),
            resolved_dependencies: resolved,
        },
        run_details: RunDetails {
            builder: Builder {
                id: build.builder_id.clone(),
                version: build.builder_version.clone(),
            },
            metadata,
            byproducts: build.byproducts.clone(),
        },
    })
}

/// The in-toto Statement v1 of a build's provenance about `subjects` (at
/// least one).
pub fn statement(build: &BuildDescription, subjects: Vec<Subject>) -> Result<Statement> {
    let predicate = serde_json::to_value(provenance(build)?).map_err(|e| invalid(e.to_string()))?;
    let mut st = Statement::new(PREDICATE_TYPE, predicate);
    st.subject = subjects;
    st.validate()?;
    Ok(st)
}

/// Seconds since the epoch of an RFC 3339 date-time
/// (`2026-11-22T10:00:00Z`, `…T10:00:00.5+01:00`); `None` if malformed.
fn rfc3339_seconds(t: &str) -> Option<i64> {
    let b = t.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let s = t.get(r)?;
        if !s.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        s.parse().ok()
    };
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    // Two digits each: in range for u32.
    let (month, day) = (month as u32, day as u32);
    let days = days_from_civil(year, month, day)
        .filter(|_| day >= 1 && day <= days_in_month(year, month))?;
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let mut rest = &t[19..];
    if let Some(frac) = rest.strip_prefix('.') {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        rest = &frac[digits..];
    }
    let offset = match rest {
        "Z" | "z" => 0,
        _ => {
            let ob = rest.as_bytes();
            if ob.len() != 6 || !matches!(ob[0], b'+' | b'-') || ob[3] != b':' {
                return None;
            }
            let oh: i64 = rest.get(1..3)?.parse().ok()?;
            let om: i64 = rest.get(4..6)?.parse().ok()?;
            if oh > 23 || om > 59 {
                return None;
            }
            let o = oh * 3600 + om * 60;
            if ob[0] == b'-' { -o } else { o }
        }
    };
    Some(days * 86_400 + hour * 3600 + minute * 60 + second - offset)
}

/// What a verifier expects of a provenance (`slsa-verifier`'s
/// `--builder-id`, `--source-uri`, `--source-branch`, `--source-tag`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Expectations {
    /// The builder's id; without `@…`, any version of that builder.
    pub builder_id: String,
    /// The source repository (`github.com/acme/app`; a scheme, `git+` and a
    /// `.git` suffix are ignored).
    pub source_uri: String,
    /// The branch built (`main`, or `refs/heads/main`).
    pub branch: Option<String>,
    /// The tag built (`v1.2.0`, or `refs/tags/v1.2.0`).
    pub tag: Option<String>,
    /// The build type, exactly.
    pub build_type: Option<String>,
}

impl Expectations {
    /// Expect this builder and source repository.
    pub fn new(builder_id: impl Into<String>, source_uri: impl Into<String>) -> Self {
        Expectations {
            builder_id: builder_id.into(),
            source_uri: source_uri.into(),
            branch: None,
            tag: None,
            build_type: None,
        }
    }

    /// Also expect the source ref to be this branch.
    pub fn branch(mut self, branch: impl Into<String>) -> Self {
        self.branch = Some(branch.into());
        self
    }

    /// Also expect the source ref to be this tag.
    pub fn tag(mut self, tag: impl Into<String>) -> Self {
        self.tag = Some(tag.into());
        self
    }

    /// Also expect this build type.
    pub fn build_type(mut self, build_type: impl Into<String>) -> Self {
        self.build_type = Some(build_type.into());
        self
    }
}

/// What [`check`] established.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct VerifiedProvenance {
    /// The subject that names the artefact.
    pub subject: String,
    /// The artefact's SHA-256.
    pub artifact_digest: String,
    /// The builder's id, as the provenance gives it.
    pub builder_id: String,
    /// The build type.
    pub build_type: String,
    /// The source repository, normalised (`github.com/acme/app`).
    pub source_uri: String,
    /// The source ref, when the provenance names one.
    pub source_ref: Option<String>,
    /// The source commit, when the provenance names one.
    pub source_commit: Option<String>,
    /// Who signed: `key <id>`, or the certificate identity and issuer.
    pub signer: String,
}

fn mismatch(field: &str, expected: &str, found: &str) -> Error {
    Error::ProvenanceMismatch {
        field: field.to_owned(),
        expected: expected.to_owned(),
        found: excerpt(found),
    }
}

fn bad(reason: impl Into<String>) -> Error {
    Error::InvalidProvenance {
        reason: reason.into(),
    }
}

fn excerpt(s: &str) -> String {
    const MAX: usize = 200;
    if s.len() <= MAX {
        return s.to_owned();
    }
    let mut end = MAX;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

/// A repository URI without scheme, `git+`, user info, `@ref`, trailing
/// `/` or `.git`: `git+https://github.com/o/r@refs/heads/main` →
/// `github.com/o/r`.
pub fn normalize_source_uri(uri: &str) -> String {
    let s = uri.trim();
    let s = s.strip_prefix("git+").unwrap_or(s);
    let s = match s.find("://") {
        Some(i) => &s[i + 3..],
        None => s,
    };
    let s = match s.split_once('@') {
        // user@host/… keeps the host; host/path@ref drops the ref.
        Some((before, after)) if !before.contains('/') => after,
        Some((before, _)) => before,
        None => s,
    };
    let s = s.split_once('@').map_or(s, |(b, _)| b);
    let s = s.trim_end_matches('/');
    let s = s.strip_suffix(".git").unwrap_or(s);
    s.to_owned()
}

/// The ref at the end of a `…@refs/…` URI.
fn uri_ref(uri: &str) -> Option<&str> {
    let (_, r) = uri.rsplit_once('@')?;
    r.starts_with("refs/").then_some(r)
}

fn str_at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    path.iter().try_fold(v, |v, k| v.get(k))?.as_str()
}

/// Holds a statement (whose signature has verified) to the expectations;
/// `artifact` must be one of its subjects. `signer` is recorded as is.
pub fn check(
    statement: &Statement,
    artifact: &[u8],
    expect: &Expectations,
    signer: String,
) -> Result<VerifiedProvenance> {
    let artifact_digest = Digest::of_bytes(DigestAlgorithm::Sha256, artifact);
    let subject = statement.subject_for(artifact).ok_or_else(|| {
        mismatch(
            "subject",
            &format!("a subject with the artifact's digest ({artifact_digest})"),
            &statement
                .subject
                .iter()
                .map(|s| s.name.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        )
    })?;
    if statement.predicate_type != PREDICATE_TYPE {
        return Err(mismatch(
            "predicateType",
            PREDICATE_TYPE,
            &statement.predicate_type,
        ));
    }
    let p = &statement.predicate;
    let builder_id = str_at(p, &["runDetails", "builder", "id"])
        .ok_or_else(|| bad("runDetails.builder.id is missing"))?;
    let builder_ok = if expect.builder_id.contains('@') {
        builder_id == expect.builder_id
    } else {
        builder_id.split('@').next() == Some(expect.builder_id.as_str())
    };
    if !builder_ok {
        return Err(mismatch("builder id", &expect.builder_id, builder_id));
    }
    let build_type = str_at(p, &["buildDefinition", "buildType"])
        .ok_or_else(|| bad("buildDefinition.buildType is missing"))?;
    if let Some(want) = &expect.build_type
        && want != build_type
    {
        return Err(mismatch("build type", want, build_type));
    }
    // Every place the provenance names its source must agree.
    let mut sources: Vec<(String, Option<String>, &'static str)> = Vec::new();
    if let Some(repo) = str_at(
        p,
        &[
            "buildDefinition",
            "externalParameters",
            "workflow",
            "repository",
        ],
    ) {
        let r = str_at(
            p,
            &["buildDefinition", "externalParameters", "workflow", "ref"],
        );
        sources.push((
            repo.to_owned(),
            r.map(str::to_owned),
            "externalParameters.workflow.repository",
        ));
    }
    let mut commit = None;
    if let Some(deps) = p
        .get("buildDefinition")
        .and_then(|b| b.get("resolvedDependencies"))
    {
        let deps = deps
            .as_array()
            .ok_or_else(|| bad("buildDefinition.resolvedDependencies is not an array"))?;
        let git = deps.iter().find(|d| {
            d.get("uri")
                .and_then(Value::as_str)
                .is_some_and(|u| u.starts_with("git+"))
                || d.get("digest").and_then(|g| g.get("gitCommit")).is_some()
        });
        if let Some(dep) = git {
            if let Some(uri) = dep.get("uri").and_then(Value::as_str) {
                sources.push((
                    uri.to_owned(),
                    uri_ref(uri).map(str::to_owned),
                    "resolvedDependencies[].uri",
                ));
            }
            commit = str_at(dep, &["digest", "gitCommit"]).map(str::to_owned);
        }
    }
    if sources.is_empty() {
        return Err(bad(
            "the provenance names no source repository (externalParameters.workflow.repository or a git+ resolved dependency)",
        ));
    }
    let want_source = normalize_source_uri(&expect.source_uri);
    for (uri, _, field) in &sources {
        if normalize_source_uri(uri) != want_source {
            return Err(mismatch(
                &format!("source URI ({field})"),
                &want_source,
                uri,
            ));
        }
    }
    let refs: Vec<&str> = sources
        .iter()
        .filter_map(|(_, r, _)| r.as_deref())
        .collect();
    if refs.windows(2).any(|w| w[0] != w[1]) {
        return Err(bad(format!(
            "the provenance names two source refs: {}",
            refs.join(" and ")
        )));
    }
    let source_ref = refs.first().map(|r| (*r).to_owned());
    for (kind, want, prefix) in [
        ("source branch", &expect.branch, "refs/heads/"),
        ("source tag", &expect.tag, "refs/tags/"),
    ] {
        if let Some(want) = want {
            let full = if want.starts_with("refs/") {
                want.clone()
            } else {
                format!("{prefix}{want}")
            };
            let found = source_ref.as_deref().unwrap_or("(no ref)");
            if found != full {
                return Err(mismatch(kind, &full, found));
            }
        }
    }
    Ok(VerifiedProvenance {
        subject: subject.name.clone(),
        artifact_digest: artifact_digest.to_string(),
        builder_id: builder_id.to_owned(),
        build_type: build_type.to_owned(),
        source_uri: want_source,
        source_ref,
        source_commit: commit,
        signer,
    })
}

/// Verifies a DSSE envelope (JSON) signed by one of `keys`, then
/// [`check`]s the statement it carries.
pub fn verify_envelope(
    envelope: &[u8],
    keys: &[&dyn Verifier],
    artifact: &[u8],
    expect: &Expectations,
) -> Result<VerifiedProvenance> {
    let env = Envelope::from_json(envelope)?;
    let verified = env.verify(keys, 1, Some(PAYLOAD_TYPE))?;
    let statement = Statement::from_json(&env.payload)?;
    let signer = format!("key {}", verified.key_ids.join(", "));
    check(&statement, artifact, expect, signer)
}

/// Verifies a Sigstore bundle holding a DSSE attestation with `verifier`
/// (a public key, or a keyless verifier with a trusted root, identity and
/// issuer), then [`check`]s the statement it carries.
pub fn verify_bundle(
    bundle: &[u8],
    verifier: &dyn BlobVerifier,
    artifact: &[u8],
    expect: &Expectations,
) -> Result<VerifiedProvenance> {
    let verified = verifier.verify_blob(artifact, bundle)?;
    let parsed = Bundle::from_json(bundle)?;
    let statement = cos_core::sigstore::unverified_statement(&parsed)?.ok_or_else(|| {
        bad("the bundle holds a message signature, not an attestation (DSSE envelope)")
    })?;
    let signer = match (&verified.identity, &verified.issuer) {
        (Some(id), Some(issuer)) => format!("{id} (issuer {issuer})"),
        _ => format!("key {}", verified.key_id),
    };
    check(&statement, artifact, expect, signer)
}

/// Whether a provenance file is a Sigstore bundle (it has a `mediaType`)
/// rather than a bare DSSE envelope.
pub fn is_bundle(json: &[u8]) -> bool {
    serde_json::from_slice::<Value>(json)
        .ok()
        .is_some_and(|v| v.get("mediaType").is_some())
}

/// The options of a binding's `attestProvenance` / `attest_provenance`
/// (ADR-0020).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AttestConfig {
    /// `dsse` (default) or `sigstore-bundle` ([`SignatureFormat`]).
    pub format: String,
}

impl Default for AttestConfig {
    fn default() -> Self {
        AttestConfig {
            format: SignatureFormat::Dsse.name().to_owned(),
        }
    }
}

impl AttestConfig {
    /// The signature format named.
    pub fn signature_format(&self) -> Result<SignatureFormat> {
        self.format.parse()
    }
}

/// How [`attest`] signs provenance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SignatureFormat {
    /// A DSSE envelope (JSON), as `cos attest provenance` writes by default.
    Dsse,
    /// A Sigstore bundle v0.3 holding the DSSE envelope, with cosign's
    /// public-key hint and no transparency-log entry (`--bundle`).
    SigstoreBundle,
}

impl SignatureFormat {
    /// `dsse` or `sigstore-bundle`.
    pub fn name(self) -> &'static str {
        match self {
            SignatureFormat::Dsse => "dsse",
            SignatureFormat::SigstoreBundle => "sigstore-bundle",
        }
    }
}

impl std::str::FromStr for SignatureFormat {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "dsse" => Ok(SignatureFormat::Dsse),
            "sigstore-bundle" | "bundle" => Ok(SignatureFormat::SigstoreBundle),
            other => Err(Error::UnknownFormat {
                what: "provenance signature format",
                reason: format!(
                    "{:?} is not dsse or sigstore-bundle",
                    other.chars().take(32).collect::<String>()
                ),
            }),
        }
    }
}

/// Signed provenance for `subjects`: the [`statement`] of `build`, signed
/// with `key` as a DSSE envelope or a Sigstore bundle (JSON bytes).
pub fn attest(
    build: &BuildDescription,
    subjects: Vec<Subject>,
    key: &dyn cos_core::Signer,
    format: SignatureFormat,
) -> Result<Vec<u8>> {
    let statement = statement(build, subjects)?;
    Ok(match format {
        SignatureFormat::Dsse => statement.sign(&[key])?.to_json(),
        SignatureFormat::SigstoreBundle => cos_core::sigstore::sign_statement(&statement, key)?,
    })
}

impl Expectations {
    /// Refuses expectations that no provenance can meet or that would check
    /// nothing: an empty builder id or source URI, or both a branch and a
    /// tag ([`Error::InvalidPolicy`]).
    pub fn validate(&self) -> Result<()> {
        let refuse = |reason: &str| {
            Err(Error::InvalidPolicy {
                reason: reason.into(),
            })
        };
        if self.builder_id.trim().is_empty() {
            return refuse("the expected builder id is empty");
        }
        if normalize_source_uri(&self.source_uri).is_empty() {
            return refuse("the expected source URI is empty");
        }
        if self.branch.is_some() && self.tag.is_some() {
            return refuse("expect a source branch or a source tag, not both");
        }
        Ok(())
    }
}

/// The first JSON document of a provenance file: the whole file when it is
/// one JSON value, else its first non-empty line (an `.intoto.jsonl`).
pub fn first_document(bytes: &[u8]) -> &[u8] {
    if serde_json::from_slice::<serde::de::IgnoredAny>(bytes).is_ok() {
        return bytes;
    }
    bytes
        .split(|b| *b == b'\n')
        .find(|l| l.iter().any(|b| !b.is_ascii_whitespace()))
        .unwrap_or(bytes)
}

/// What provenance is verified against: a public key (SPKI PEM) for DSSE
/// envelopes and key-signed bundles, or a trusted root with the expected
/// certificate identity and issuer for keyless bundles.
#[cfg(feature = "sigstore")]
#[derive(Debug, Clone, Copy, Default)]
#[non_exhaustive]
pub struct Trust<'a> {
    /// The signer's public key (SPKI PEM).
    pub public_key: Option<&'a str>,
    /// `trusted_root.json` (keyless bundles).
    pub trusted_root: Option<&'a [u8]>,
    /// The certificate identity (SAN, exact) a keyless bundle must carry.
    pub identity: Option<&'a str>,
    /// The OIDC issuer of that certificate.
    pub issuer: Option<&'a str>,
}

#[cfg(feature = "sigstore")]
impl<'a> Trust<'a> {
    /// Trust this public key (SPKI PEM).
    pub fn key(public_key_pem: &'a str) -> Self {
        Trust {
            public_key: Some(public_key_pem),
            ..Trust::default()
        }
    }

    /// Trust keyless bundles verified against `trusted_root` for this
    /// certificate identity and OIDC issuer.
    pub fn keyless(trusted_root: &'a [u8], identity: &'a str, issuer: &'a str) -> Self {
        Trust {
            public_key: None,
            trusted_root: Some(trusted_root),
            identity: Some(identity),
            issuer: Some(issuer),
        }
    }
}

/// The options of a binding's `verifyProvenance` / `verify_provenance`
/// (ADR-0020): what the provenance must say ([`Expectations`]) and whom
/// to trust ([`Trust`]), as plain data. `builder_id` and `source_uri` are
/// required.
#[cfg(feature = "sigstore")]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerifyConfig {
    /// Expected builder id (without `@version`: any version).
    pub builder_id: String,
    /// Expected source repository (`github.com/acme/app`).
    pub source_uri: String,
    /// Expected branch (`main` or `refs/heads/main`).
    #[serde(default)]
    pub branch: Option<String>,
    /// Expected tag (`v1.2.0` or `refs/tags/v1.2.0`).
    #[serde(default)]
    pub tag: Option<String>,
    /// Expected build type (exact).
    #[serde(default)]
    pub build_type: Option<String>,
    /// The signer's public key (SPKI PEM).
    #[serde(default)]
    pub public_key: Option<String>,
    /// Keyless: `trusted_root.json` ...
    #[serde(default)]
    pub trusted_root: Option<cos_core::shape::Blob>,
    /// ... the certificate identity (SAN, exact) ...
    #[serde(default)]
    pub identity: Option<String>,
    /// ... and its OIDC issuer.
    #[serde(default)]
    pub issuer: Option<String>,
}

#[cfg(feature = "sigstore")]
impl VerifyConfig {
    /// The expectations these options name.
    pub fn expectations(&self) -> Expectations {
        Expectations {
            builder_id: self.builder_id.clone(),
            source_uri: self.source_uri.clone(),
            branch: self.branch.clone(),
            tag: self.tag.clone(),
            build_type: self.build_type.clone(),
        }
    }

    /// The trust these options name.
    pub fn trust(&self) -> Trust<'_> {
        Trust {
            public_key: self.public_key.as_deref(),
            trusted_root: self
                .trusted_root
                .as_ref()
                .map(cos_core::shape::Blob::as_bytes),
            identity: self.identity.as_deref(),
            issuer: self.issuer.as_deref(),
        }
    }

    /// [`verify_provenance`] with these options.
    pub fn verify(&self, provenance: &[u8], artifact: &[u8]) -> Result<VerifiedProvenance> {
        verify_provenance(provenance, artifact, &self.trust(), &self.expectations())
    }
}

/// Verifies a provenance file as `cos verify provenance` does: a DSSE
/// envelope (or the first line of an `.intoto.jsonl`) with the public key,
/// or a Sigstore bundle (recognised by its `mediaType`) with the key or
/// keyless; then [`check`] against the expectations (validated first).
///
/// Errors: [`Error::InvalidPolicy`] (expectations, or trust that does not
/// fit: no key for an envelope; for a bundle, neither a key nor a trusted
/// root, or an identity with a key; a key with a trusted root checks the
/// bundle's log entry, [`crate::sigstore::KeyLogVerifier`]), [`Error::InputTooLarge`] (over [`MAX_PROVENANCE`]), and those
/// of [`verify_envelope`] / [`verify_bundle`].
///
/// ```
/// use cos_core::statement::Subject;
/// use cos_core::{Digest, DigestAlgorithm, KeyAlgorithm, PrivateKey};
/// use cos_supplychain::slsa::{self, BuildDescription, Expectations, SignatureFormat, Trust};
///
/// let build = BuildDescription::from_json(br#"{
///     "builder_id": "https://ci.example.com/builders/release@v2",
///     "build_type": "https://ci.example.com/buildtypes/make/v1",
///     "source": {"repository": "https://github.com/acme/app",
///                "commit": "46e7056ff9912ebfee5298d94024895a9fea76c0", "ref": "refs/tags/v1.2.0"}
/// }"#)?;
/// let artifact = b"the release tarball";
/// let subject = Subject::new("app.tar.gz", &Digest::of_bytes(DigestAlgorithm::Sha256, artifact));
/// let key = PrivateKey::generate(KeyAlgorithm::EcdsaP256)?;
/// let bundle = slsa::attest(&build, vec![subject], &key, SignatureFormat::SigstoreBundle)?;
/// let pem = key.public_key().to_pem();
/// let expect = Expectations::new("https://ci.example.com/builders/release", "github.com/acme/app").tag("v1.2.0");
/// let verified = slsa::verify_provenance(&bundle, artifact, &Trust::key(&pem), &expect)?;
/// assert_eq!(verified.source_ref.as_deref(), Some("refs/tags/v1.2.0"));
/// # Ok::<(), cos_supplychain::Error>(())
/// ```
#[cfg(feature = "sigstore")]
pub fn verify_provenance(
    provenance: &[u8],
    artifact: &[u8],
    trust: &Trust<'_>,
    expect: &Expectations,
) -> Result<VerifiedProvenance> {
    expect.validate()?;
    if provenance.len() as u64 > MAX_PROVENANCE {
        return Err(Error::InputTooLarge {
            what: "provenance".into(),
            size: provenance.len(),
            limit: usize::try_from(MAX_PROVENANCE).unwrap_or(usize::MAX),
        });
    }
    let document = first_document(provenance);
    if is_bundle(document) {
        let verifier = crate::sigstore::blob_verifier(
            trust.public_key,
            trust.trusted_root,
            trust.identity,
            trust.issuer,
        )?;
        verify_bundle(document, verifier.as_ref(), artifact, expect)
    } else {
        let Some(pem) = trust.public_key else {
            return Err(Error::InvalidPolicy {
                reason: "a DSSE envelope is verified with a public key (keyless needs a Sigstore bundle)"
                    .into(),
            });
        };
        let key = cos_core::PublicKey::from_pem(pem)?;
        let trusted: [&dyn Verifier; 1] = [&key];
        verify_envelope(document, &trusted, artifact, expect)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build() -> BuildDescription {
        BuildDescription::from_json(
            br#"{"builder_id": "https://ci.example.com/builders/release@v2",
                 "build_type": "https://ci.example.com/buildtypes/make/v1",
                 "source": {"repository": "https://github.com/acme/app",
                            "commit": "46e7056ff9912ebfee5298d94024895a9fea76c0",
                            "ref": "refs/heads/main"}}"#,
        )
        .unwrap()
    }

    fn expect() -> Expectations {
        Expectations::new(
            "https://ci.example.com/builders/release",
            "github.com/acme/app",
        )
    }

    #[test]
    fn signature_formats_parse() {
        assert_eq!(
            "dsse".parse::<SignatureFormat>().unwrap(),
            SignatureFormat::Dsse
        );
        assert_eq!(
            "sigstore-bundle".parse::<SignatureFormat>().unwrap(),
            SignatureFormat::SigstoreBundle
        );
        assert_eq!(SignatureFormat::SigstoreBundle.name(), "sigstore-bundle");
        let e = "jws".parse::<SignatureFormat>().unwrap_err();
        assert_eq!(e.code(), "unknown_format");
    }

    #[test]
    fn expectations_are_validated() {
        assert!(expect().validate().is_ok());
        for bad in [
            Expectations::new(" ", "github.com/acme/app"),
            Expectations::new("https://b", "https://"),
            expect().branch("main").tag("v1"),
        ] {
            assert_eq!(bad.validate().unwrap_err().code(), "invalid_policy");
        }
    }

    #[test]
    fn first_document_of_json_lines() {
        assert_eq!(first_document(b"{\"a\": 1}"), b"{\"a\": 1}");
        assert_eq!(first_document(b"\n{\"a\": 1}\n{\"b\": 2}\n"), b"{\"a\": 1}");
        assert_eq!(first_document(b"not json"), b"not json");
    }

    #[cfg(feature = "sigstore")]
    #[test]
    fn attest_and_verify_both_formats() {
        use cos_core::{KeyAlgorithm, PrivateKey};
        let artifact = b"app";
        let subject = Subject::new("app", &Digest::of_bytes(DigestAlgorithm::Sha256, artifact));
        let key = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
        let pem = key.public_key().to_pem();
        let other = PrivateKey::generate(KeyAlgorithm::EcdsaP256)
            .unwrap()
            .public_key()
            .to_pem();
        for format in [SignatureFormat::Dsse, SignatureFormat::SigstoreBundle] {
            let signed = attest(&build(), vec![subject.clone()], &key, format).unwrap();
            assert_eq!(
                is_bundle(&signed),
                format == SignatureFormat::SigstoreBundle
            );
            let v = verify_provenance(
                &signed,
                artifact,
                &Trust::key(&pem),
                &expect().branch("main"),
            )
            .unwrap();
            assert_eq!(v.subject, "app");
            // As the first line of a JSON-lines file.
            let mut jsonl = signed.clone();
            jsonl.extend_from_slice(b"\n{}\n");
            assert!(verify_provenance(&jsonl, artifact, &Trust::key(&pem), &expect()).is_ok());
            let e =
                verify_provenance(&signed, artifact, &Trust::key(&other), &expect()).unwrap_err();
            assert!(e.is_verification_failure(), "{e}");
            let e = verify_provenance(&signed, b"other", &Trust::key(&pem), &expect()).unwrap_err();
            assert!(e.is_verification_failure(), "{e}");
            let e = verify_provenance(
                &signed,
                artifact,
                &Trust::key(&pem),
                &Expectations::new(
                    "https://ci.example.com/builders/other",
                    "github.com/acme/app",
                ),
            )
            .unwrap_err();
            assert_eq!(e.code(), "provenance_mismatch");
            let e = verify_provenance(&signed, artifact, &Trust::default(), &expect()).unwrap_err();
            assert_eq!(e.code(), "invalid_policy");
            let e = verify_provenance(
                &signed,
                artifact,
                &Trust::key(&pem),
                &expect().branch("a").tag("b"),
            )
            .unwrap_err();
            assert_eq!(e.code(), "invalid_policy");
        }
        let e =
            verify_provenance(b"{}", artifact, &Trust::key("not a key"), &expect()).unwrap_err();
        assert_eq!(e.code(), "invalid_key");
    }

    #[test]
    fn rfc3339_parses_offsets_and_refuses_nonsense() {
        assert_eq!(rfc3339_seconds("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(rfc3339_seconds("2026-11-22T10:00:00Z"), Some(1_795_341_600));
        assert_eq!(
            rfc3339_seconds("2026-11-22T11:00:00.250+01:00"),
            rfc3339_seconds("2026-11-22T10:00:00Z")
        );
        assert!(rfc3339_seconds("2024-02-29T00:00:00Z").is_some());
        for bad in [
            "",
            "2026-11-22",
            "2026-11-22 10:00:00Z",
            "2023-02-29T00:00:00Z",
            "2026-13-01T00:00:00Z",
            "2026-11-22T10:00:00",
            "2026-11-22T10:00:00.Z",
            "2026-11-22T10:00:00+1:00",
            "2026-11-22T25:00:00Z",
            "２026-11-22T10:00:00Z",
        ] {
            assert_eq!(rfc3339_seconds(bad), None, "{bad}");
        }
    }

    #[test]
    fn source_uris_normalise() {
        for (uri, want) in [
            (
                "git+https://github.com/o/r@refs/heads/main",
                "github.com/o/r",
            ),
            ("https://github.com/o/r.git", "github.com/o/r"),
            ("github.com/o/r/", "github.com/o/r"),
            (
                "git+ssh://git@github.com/o/r.git@refs/tags/v1",
                "github.com/o/r",
            ),
            ("http://example.com/x", "example.com/x"),
        ] {
            assert_eq!(normalize_source_uri(uri), want, "{uri}");
        }
        assert_eq!(
            uri_ref("git+https://github.com/o/r@refs/tags/v1"),
            Some("refs/tags/v1")
        );
        assert_eq!(uri_ref("git+ssh://git@github.com/o/r"), None);
    }
}
