//! Packs, engines and decisions: [`cos_policy`] types mapped to uniffi
//! objects and records. JSON crosses the boundary as text.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use crate::error::{CosError, Result};

/// A serde_json error as cos-core's `invalid_json`.
fn invalid_json(e: serde_json::Error) -> CosError {
    cos_core::Error::InvalidJson {
        reason: e.to_string(),
    }
    .into()
}

/// Parses JSON text from the caller.
fn parse_json(text: &str) -> Result<serde_json::Value> {
    serde_json::from_str(text).map_err(invalid_json)
}

/// A JSON value as compact JSON text.
fn json_text(value: &serde_json::Value) -> Result<String> {
    serde_json::to_string(value).map_err(invalid_json)
}

/// Name, version, revision and digest of a pack (`PackRef` in cos-policy).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PackMetadata {
    /// Pack name from the manifest.
    pub name: String,
    /// Semantic version from the manifest.
    pub version: String,
    /// Revision from the manifest (the OPA bundle revision).
    pub revision: String,
    /// Digest of the pack's files, `sha256:<hex>`.
    pub digest: String,
}

impl From<&cos_policy::PackRef> for PackMetadata {
    fn from(p: &cos_policy::PackRef) -> Self {
        PackMetadata {
            name: p.name.clone(),
            version: p.version.clone(),
            revision: p.revision.clone(),
            digest: p.digest.clone(),
        }
    }
}

/// A policy pack (or OPA bundle), checked and loaded with cos-policy's
/// default size limits.
#[derive(uniffi::Object)]
pub struct Pack(cos_policy::Pack);

#[uniffi::export]
impl Pack {
    /// Loads a pack directory, or a pack or bundle `.tar.gz` file.
    #[uniffi::constructor]
    pub fn load(path: String) -> Result<Arc<Self>> {
        let pack = cos_policy::Pack::load(path, &cos_policy::Limits::default())?;
        Ok(Arc::new(Pack(pack)))
    }

    /// Loads a pack or bundle from the bytes of a `.tar.gz`.
    #[uniffi::constructor]
    pub fn from_bytes(data: Vec<u8>) -> Result<Arc<Self>> {
        let pack = cos_policy::Pack::from_bytes(&data, &cos_policy::Limits::default())?;
        Ok(Arc::new(Pack(pack)))
    }

    /// Name, version, revision and digest.
    pub fn metadata(&self) -> PackMetadata {
        let m = self.0.manifest();
        PackMetadata {
            name: m.name.clone(),
            version: m.version.to_string(),
            revision: m.revision.clone(),
            digest: self.0.digest().to_string(),
        }
    }

    /// Entrypoint name → document path, from the manifest.
    pub fn entrypoints(&self) -> HashMap<String, String> {
        self.0
            .manifest()
            .entrypoints
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    /// Whether the pack carries an OPA `.signatures.json`.
    pub fn is_signed(&self) -> bool {
        self.0.is_signed()
    }

    /// The pack as a deterministic OPA bundle (`.tar.gz` bytes).
    pub fn build_bundle(&self) -> Result<Vec<u8>> {
        Ok(self.0.build_bundle()?)
    }
}

/// `{allow, reason}` as OPA REST clients reduce a result: `allow` is true
/// only when the document's `allow` is `true`; `reason` is its string
/// `reason`, if any.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct AllowReason {
    /// Whether the result allows.
    pub allow: bool,
    /// The result's `reason`, when it is a string.
    pub reason: Option<String>,
}

/// Why a decision came out as it did.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Reason {
    /// Stable machine code (`CROSS_TENANT`, `NOT_PERMITTED`, …).
    pub code: String,
    /// Human-readable text.
    pub message: String,
}

/// Something the caller must do for an allowed decision to hold.
#[derive(Debug, Clone, PartialEq, uniffi::Enum)]
pub enum Obligation {
    /// Redact these fields before the data leaves.
    Redact {
        /// Field paths (`customer.email`).
        fields: Vec<String>,
        /// The classification that requires it (`CONFIDENTIAL`, …).
        classification: Option<String>,
        /// How: `redact`, `mask`, `hash`, `drop`, … (pack-defined).
        operator: Option<String>,
    },
    /// The subject must complete a step-up authentication.
    StepUp {
        /// The method asked for (`mfa`, `webauthn`, …).
        method: Option<String>,
    },
    /// An approved disclosure pack must be referenced.
    DisclosurePack {
        /// The purpose the pack must cover.
        purpose: Option<String>,
        /// The destination it must cover.
        destination: Option<String>,
    },
    /// An obligation type cos does not know, as the policy wrote it.
    Other {
        /// The obligation as JSON text.
        json: String,
    },
}

impl Obligation {
    fn from_policy(o: &cos_policy::Obligation) -> Result<Self> {
        Ok(match o {
            cos_policy::Obligation::Redact {
                fields,
                classification,
                operator,
            } => Obligation::Redact {
                fields: fields.clone(),
                classification: classification.map(|c| c.to_string()),
                operator: operator.clone(),
            },
            cos_policy::Obligation::StepUp { method } => Obligation::StepUp {
                method: method.clone(),
            },
            cos_policy::Obligation::DisclosurePack {
                purpose,
                destination,
            } => Obligation::DisclosurePack {
                purpose: purpose.clone(),
                destination: destination.clone(),
            },
            cos_policy::Obligation::Other(v) => Obligation::Other {
                json: json_text(v)?,
            },
            // `Obligation` is non-exhaustive: a kind added later reaches
            // foreign code as its JSON until it is mapped here.
            other => Obligation::Other {
                json: serde_json::to_string(other).map_err(invalid_json)?,
            },
        })
    }
}

/// A policy decision with everything needed to check it later.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct Decision {
    /// Whether the request is allowed (subject to the obligations).
    pub allow: bool,
    /// Reasons, in the order the policy gave them.
    pub reasons: Vec<Reason>,
    /// Obligations, in the order the policy gave them.
    pub obligations: Vec<Obligation>,
    /// The entrypoint's document path (`companyos/abac/decision`).
    pub path: String,
    /// The pack that decided.
    pub pack: PackMetadata,
    /// Unique id (UUID v4), as in OPA decision logs.
    pub decision_id: String,
    /// When the evaluation started (RFC 3339, UTC, nanoseconds).
    pub timestamp: String,
    /// How long the evaluation took, in nanoseconds.
    pub eval_ns: u64,
}

impl Decision {
    fn from_policy(d: cos_policy::Decision) -> Result<Self> {
        Ok(Decision {
            obligations: d
                .obligations
                .iter()
                .map(Obligation::from_policy)
                .collect::<Result<_>>()?,
            allow: d.allow,
            reasons: d
                .reasons
                .into_iter()
                .map(|r| Reason {
                    code: r.code,
                    message: r.message,
                })
                .collect(),
            path: d.path,
            pack: PackMetadata::from(&d.pack),
            decision_id: d.decision_id,
            timestamp: d.timestamp,
            eval_ns: d.eval_ns,
        })
    }
}

/// A compiled pack: evaluate many times, from any thread.
#[derive(uniffi::Object)]
pub struct Engine(cos_policy::PolicyEngine);

#[uniffi::export]
impl Engine {
    /// Compiles `pack`. `strict_builtin_errors` is OPA's
    /// `--strict-builtin-errors`; `timeout_ms` limits each evaluation.
    #[uniffi::constructor(default(strict_builtin_errors = false, timeout_ms = 1000))]
    pub fn new(pack: Arc<Pack>, strict_builtin_errors: bool, timeout_ms: u64) -> Result<Arc<Self>> {
        let options = cos_policy::EngineOptions {
            strict_builtin_errors,
            time_limit: Some(Duration::from_millis(timeout_ms)),
            ..Default::default()
        };
        Ok(Arc::new(Engine(cos_policy::PolicyEngine::new(
            &pack.0, options,
        )?)))
    }

    /// The pack this engine evaluates.
    pub fn pack(&self) -> PackMetadata {
        PackMetadata::from(self.0.pack())
    }

    /// Evaluates a document (`data.a.b` or `a/b`) with OPA's Data API
    /// semantics: the value as JSON text, or null/`None`/`nil` when it is
    /// undefined. Without `input_json`, `input` is undefined.
    #[uniffi::method(default(input_json = None))]
    pub fn evaluate(&self, path: String, input_json: Option<String>) -> Result<Option<String>> {
        // Numbers exact both ways, as OPA reads and writes them.
        let input = input_json
            .as_deref()
            .map(|t| {
                cos_policy::Input::from_json_text("input_json", t.as_bytes()).map_err(|e| match e {
                    // Malformed JSON keeps cos-core's `invalid_json`.
                    cos_policy::Error::InvalidFile { reason, .. } => {
                        CosError::from(cos_core::Error::InvalidJson { reason })
                    }
                    other => other.into(),
                })
            })
            .transpose()?;
        Ok(self
            .0
            .evaluate(&path, input.as_ref())?
            .map(|o| o.to_json_string())
            .transpose()?)
    }

    /// A typed decision for a manifest entrypoint (`abac`).
    pub fn decide(&self, entrypoint: String, input_json: String) -> Result<Decision> {
        let input = parse_json(&input_json)?;
        Decision::from_policy(self.0.decide(&entrypoint, &input)?)
    }

    /// A typed decision for a document path; an undefined document is a
    /// denial with reason `UNDEFINED`.
    pub fn decide_path(&self, path: String, input_json: String) -> Result<Decision> {
        let input = parse_json(&input_json)?;
        Decision::from_policy(self.0.decide_path(&path, &input)?)
    }

    /// `{allow, reason}` from the document at `path`, reduced as OPA REST
    /// clients do: the in-process replacement for an OPA client call.
    pub fn allow_reason(&self, path: String, input_json: String) -> Result<AllowReason> {
        let input = parse_json(&input_json)?;
        let r = self.0.allow_reason(&path, &input)?;
        Ok(AllowReason {
            allow: r.allow,
            reason: r.reason,
        })
    }
}
