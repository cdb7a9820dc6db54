//! Disclosure packs: signed, expiring approvals for data to leave its region
//! or go to another party, and the residency decision that consumes them.
//!
//! A [`DisclosurePack`] says which datasets (id, [`Classification`],
//! [`Residency`] tags, sha256 digests of their files or objects) may go to
//! which destination (a [`Region`] and/or a party), for which purpose, who
//! approved it, and until when. It is signed as a DSSE envelope (payload
//! type [`PAYLOAD_TYPE`], payload its RFC 8785 canonical JSON) with cos-core
//! keys; the format is described in `docs/disclosure-packs.md`.
//!
//! [`verify`] checks an envelope against trusted keys, an [`ApprovalPolicy`]
//! and a time, and yields a [`VerifiedDisclosure`], the only thing that
//! renders a pack as `approved: true` for a policy
//! ([`VerifiedDisclosure::to_policy_input`]). [`decide_residency`] verifies
//! the envelope, if one is given, and asks a pack's residency entrypoint
//! whether a dataset may go to a destination; a pack that does not verify
//! is never passed to the policy.
//!
//! ```
//! use cos_core::{Classification, KeyAlgorithm, PrivateKey, Region, Residency, Verifier};
//! use cos_policy::disclosure::{self, ApprovalPolicy, Dataset, DisclosurePack, Timestamp};
//!
//! let issuer = PrivateKey::generate(KeyAlgorithm::Ed25519)?;
//! let at = |s: &str| s.parse::<Timestamp>();
//! let eu_only: Residency = "EU-Only".parse()?;
//!
//! // Build, validate and sign a pack.
//! let envelope = DisclosurePack::builder("dp-7")
//!     .issuer("privacy-office")
//!     .purpose("support")
//!     .destination_region("US".parse::<Region>()?)
//!     .dataset(Dataset::new("ds-eu-1", Classification::Confidential, eu_only)
//!         .with_data("tickets.jsonl", b"{\"ticket\":1}\n"))
//!     .approval("ann", "dpo", at("2026-11-20T09:00:00Z")?)
//!     .created(at("2026-11-20T08:00:00Z")?)
//!     .expires(at("2027-01-01T00:00:00Z")?)
//!     .sign(&[&issuer])?
//!     .to_json();
//!
//! // Verify it: trusted key, time, approvals.
//! let trusted: [&dyn Verifier; 1] = [issuer.public_key()];
//! let policy = ApprovalPolicy::new(1).with_required_role("dpo");
//! let now = at("2026-11-22T10:00:00Z")?;
//! let verified = disclosure::verify(&envelope, &trusted, now, &policy)?;
//! verified.check_data("ds-eu-1", "tickets.jsonl", b"{\"ticket\":1}\n")?;
//! assert_eq!(verified.to_policy_input()["approved"], true);
//! assert_eq!(verified.to_policy_input()["destination"], "US");
//!
//! // After expiry it is refused.
//! let later = at("2027-01-01T00:00:00Z")?;
//! let err = disclosure::verify(&envelope, &trusted, later, &policy).unwrap_err();
//! assert_eq!(err.code(), "disclosure_expired");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! With a policy engine over the baseline pack, [`decide_residency`] gives
//! the decision of AC-4: EU-Only data to a US region is denied
//! (`RESIDENCY_VIOLATION`, with a `disclosure_pack` obligation) unless the
//! request carries a pack like the one above (`DISCLOSURE_PACK_APPROVED`);
//! `cos-policy/tests/ac4_residency.rs` shows it.

use std::collections::BTreeSet;

use cos_core::dsse::Envelope;
use cos_core::{Classification, Digest, DigestAlgorithm, Region, Residency, Signer};
use serde::{Deserialize, Serialize};

use crate::error::{DisclosureError, Error, Result};

mod residency;
mod timestamp;
mod verify;

pub use residency::{DisclosureStatus, ResidencyOutcome, ResidencyRequest, decide_residency};
pub use timestamp::Timestamp;
pub use verify::{ApprovalConfig, ApprovalPolicy, VerifiedDisclosure, verify};

/// The DSSE payload type of a disclosure pack.
pub const PAYLOAD_TYPE: &str = "application/vnd.companyos.disclosure+json";

/// Largest disclosure pack envelope (and payload) cos reads: 1 MiB.
pub const MAX_ENVELOPE_SIZE: usize = 1024 * 1024;

/// Longest id, issuer, purpose, party, approver or role, in bytes.
pub const MAX_NAME_LEN: usize = 256;

/// Longest object name within a dataset, in bytes.
pub const MAX_OBJECT_NAME_LEN: usize = 1024;

/// Most datasets in one pack.
pub const MAX_DATASETS: usize = 1024;

/// Most data objects in one pack (over all datasets).
pub const MAX_OBJECTS: usize = 10_000;

/// Most approvals in one pack.
pub const MAX_APPROVALS: usize = 64;

/// A disclosure pack: which data may go where, why, approved by whom, until
/// when.
///
/// The JSON form (the DSSE payload, in RFC 8785 canonical form when cos
/// signs it) has exactly these fields; unknown fields are refused:
///
/// ```json
/// {
///   "id": "dp-7",
///   "issuer": "privacy-office",
///   "purpose": "support",
///   "destination": {"region": "US", "party": "acme-support-inc"},
///   "datasets": [{
///     "id": "ds-eu-1",
///     "classification": "CONFIDENTIAL",
///     "residency": ["EU-Only"],
///     "objects": [{"name": "tickets.jsonl",
///                  "digest": "sha256:439876d1ceb924bd276c7b32893e1233940824c7545a1e411f05178403f8b2dd"}]
///   }],
///   "approvals": [{"approver": "ann", "role": "dpo", "time": "2026-11-20T09:00:00Z"}],
///   "created": "2026-11-20T08:00:00Z",
///   "expires": "2027-01-01T00:00:00Z"
/// }
/// ```
///
/// Parsing ([`DisclosurePack::from_json`]) and signing validate the pack
/// ([`DisclosurePack::validate`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DisclosurePack {
    /// The pack's id (what decisions and logs cite).
    pub id: String,
    /// Who issued the pack (a team, service or person id).
    pub issuer: String,
    /// The purpose tag (a key of the policy pack's `purpose-tags` data,
    /// e.g. `support`, `legal`): lower-case letters, digits, `-` and `_`.
    pub purpose: String,
    /// Where the data goes.
    pub destination: Destination,
    /// The data the pack covers (at least one dataset).
    pub datasets: Vec<Dataset>,
    /// Who approved the disclosure (may be empty; the verifier's
    /// [`ApprovalPolicy`] says how many are needed).
    pub approvals: Vec<Approval>,
    /// When the pack was made; it is not valid before.
    pub created: Timestamp,
    /// When the pack expires; it is valid strictly before.
    pub expires: Timestamp,
}

/// Where the data of a disclosure pack goes: a region, a party, or both.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Destination {
    /// The destination region (a country such as `US`, or a group such as
    /// `EU`). The baseline residency policy compares countries, so a
    /// cross-border pack names the destination country.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<Region>,
    /// The receiving party (a vendor, regulator or internal team id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub party: Option<String>,
}

/// One dataset a disclosure pack covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dataset {
    /// The dataset's id (what policy inputs name as `dataset.id`).
    pub id: String,
    /// The most sensitive classification the pack allows for this data.
    pub classification: Classification,
    /// The residency tags of the data (at least one, no repeats).
    pub residency: Vec<Residency>,
    /// The files or objects of the dataset with their sha256 digests (at
    /// least one, names unique within the dataset).
    pub objects: Vec<DataObject>,
}

/// A file or object of a dataset and its digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataObject {
    /// The object's name (a path or object key).
    pub name: String,
    /// Its sha256 digest (`sha256:<hex>`).
    pub digest: Digest,
}

/// One approval of a disclosure pack.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Approval {
    /// Who approved (a person or service id).
    pub approver: String,
    /// In which role (`dpo`, `security`, `legal`, …).
    pub role: String,
    /// When (not after the pack's expiry).
    pub time: Timestamp,
}

impl Dataset {
    /// A dataset with one residency tag and no objects yet.
    pub fn new(
        id: impl Into<String>,
        classification: Classification,
        residency: Residency,
    ) -> Self {
        Dataset {
            id: id.into(),
            classification,
            residency: vec![residency],
            objects: Vec::new(),
        }
    }

    /// Adds a residency tag.
    pub fn with_residency(mut self, residency: Residency) -> Self {
        self.residency.push(residency);
        self
    }

    /// Adds an object by its digest.
    pub fn with_object(mut self, name: impl Into<String>, digest: Digest) -> Self {
        self.objects.push(DataObject {
            name: name.into(),
            digest,
        });
        self
    }

    /// Adds an object by its bytes (hashed with sha256).
    pub fn with_data(self, name: impl Into<String>, data: &[u8]) -> Self {
        self.with_object(name, Digest::of_bytes(DigestAlgorithm::Sha256, data))
    }
}

fn invalid(reason: impl Into<String>) -> Error {
    Error::from(DisclosureError::Invalid {
        reason: reason.into(),
    })
}

fn check_name(what: &str, s: &str, max: usize) -> Result<()> {
    if s.is_empty() {
        return Err(invalid(format!("{what} is empty")));
    }
    if s.len() > max {
        return Err(invalid(format!("{what} is longer than {max} bytes")));
    }
    if s.chars().any(char::is_control) {
        return Err(invalid(format!(
            "{what} {s:?} contains a control character"
        )));
    }
    Ok(())
}

fn check_purpose(s: &str) -> Result<()> {
    check_name("purpose", s, MAX_NAME_LEN)?;
    let ok = s.bytes().enumerate().all(|(i, b)| {
        b.is_ascii_lowercase() || b.is_ascii_digit() || (i > 0 && (b == b'-' || b == b'_'))
    });
    if !ok {
        return Err(invalid(format!(
            "purpose {s:?} is not a purpose tag (lower-case letters, digits, '-', '_')"
        )));
    }
    Ok(())
}

impl DisclosurePack {
    /// A builder for a pack with this id.
    pub fn builder(id: impl Into<String>) -> DisclosurePackBuilder {
        DisclosurePackBuilder::new(id)
    }

    /// Checks the rules of the format: names non-empty, at most
    /// [`MAX_NAME_LEN`] bytes and free of control characters; a purpose
    /// tag; a destination region or party; expiry after creation; 1 to [`MAX_DATASETS`] datasets
    /// with distinct ids, each with at least one residency tag (no repeats)
    /// and at least one object (distinct names, sha256 digests), at most
    /// [`MAX_OBJECTS`] objects in all; at most [`MAX_APPROVALS`] approvals,
    /// none at or after expiry.
    pub fn validate(&self) -> Result<()> {
        check_name("id", &self.id, MAX_NAME_LEN)?;
        check_name("issuer", &self.issuer, MAX_NAME_LEN)?;
        check_purpose(&self.purpose)?;
        match (&self.destination.region, &self.destination.party) {
            (None, None) => return Err(invalid("destination names neither a region nor a party")),
            (_, Some(party)) => check_name("destination party", party, MAX_NAME_LEN)?,
            (Some(_), None) => {}
        }
        if self.expires <= self.created {
            return Err(invalid(format!(
                "expiry {} is not after creation {}",
                self.expires, self.created
            )));
        }
        if self.datasets.is_empty() {
            return Err(invalid("no datasets"));
        }
        if self.datasets.len() > MAX_DATASETS {
            return Err(invalid(format!("more than {MAX_DATASETS} datasets")));
        }
        let mut ids = BTreeSet::new();
        let mut objects = 0usize;
        for ds in &self.datasets {
            check_name("dataset id", &ds.id, MAX_NAME_LEN)?;
            if !ids.insert(ds.id.as_str()) {
                return Err(invalid(format!("dataset {:?} is listed twice", ds.id)));
            }
            if ds.residency.is_empty() {
                return Err(invalid(format!("dataset {:?} has no residency tag", ds.id)));
            }
            let tags: BTreeSet<_> = ds.residency.iter().collect();
            if tags.len() != ds.residency.len() {
                return Err(invalid(format!(
                    "dataset {:?} repeats a residency tag",
                    ds.id
                )));
            }
            if ds.objects.is_empty() {
                return Err(invalid(format!(
                    "dataset {:?} lists no data objects",
                    ds.id
                )));
            }
            objects += ds.objects.len();
            if objects > MAX_OBJECTS {
                return Err(invalid(format!("more than {MAX_OBJECTS} data objects")));
            }
            let mut names = BTreeSet::new();
            for o in &ds.objects {
                check_name("object name", &o.name, MAX_OBJECT_NAME_LEN)?;
                if !names.insert(o.name.as_str()) {
                    return Err(invalid(format!(
                        "dataset {:?} lists object {:?} twice",
                        ds.id, o.name
                    )));
                }
                if o.digest.algorithm() != DigestAlgorithm::Sha256 {
                    return Err(invalid(format!(
                        "object {:?} of dataset {:?}: digests must be sha256, got {}",
                        o.name,
                        ds.id,
                        o.digest.algorithm()
                    )));
                }
            }
        }
        if self.approvals.len() > MAX_APPROVALS {
            return Err(invalid(format!("more than {MAX_APPROVALS} approvals")));
        }
        for a in &self.approvals {
            check_name("approver", &a.approver, MAX_NAME_LEN)?;
            check_name("approval role", &a.role, MAX_NAME_LEN)?;
            if a.time >= self.expires {
                return Err(invalid(format!(
                    "approval by {:?} at {} is not before the expiry {}",
                    a.approver, a.time, self.expires
                )));
            }
        }
        Ok(())
    }

    /// Parses and validates the JSON form (at most [`MAX_ENVELOPE_SIZE`]
    /// bytes).
    pub fn from_json(json: &[u8]) -> Result<Self> {
        if json.len() > MAX_ENVELOPE_SIZE {
            return Err(invalid(format!(
                "pack is {} bytes, at most {MAX_ENVELOPE_SIZE} allowed",
                json.len()
            )));
        }
        let pack: DisclosurePack =
            serde_json::from_slice(json).map_err(|e| invalid(format!("pack JSON: {e}")))?;
        pack.validate()?;
        Ok(pack)
    }

    /// The RFC 8785 canonical JSON of the pack (the bytes that are signed).
    pub fn to_canonical_json(&self) -> Result<Vec<u8>> {
        Ok(cos_core::canonical::to_canonical_vec(self)?)
    }

    /// Validates the pack and signs its canonical JSON as a DSSE envelope
    /// with payload type [`PAYLOAD_TYPE`], with every signer (at least
    /// one). With Ed25519 keys the envelope is byte-for-byte deterministic.
    pub fn sign(&self, signers: &[&dyn Signer]) -> Result<Envelope> {
        self.validate()?;
        let payload = self.to_canonical_json()?;
        if payload.len() > MAX_ENVELOPE_SIZE / 2 {
            return Err(invalid(format!(
                "pack is {} bytes of JSON, at most {} can be signed",
                payload.len(),
                MAX_ENVELOPE_SIZE / 2
            )));
        }
        Ok(Envelope::sign(PAYLOAD_TYPE, &payload, signers)?)
    }
}

/// Builds a [`DisclosurePack`] step by step; [`DisclosurePackBuilder::build`]
/// validates it.
#[derive(Debug, Clone)]
pub struct DisclosurePackBuilder {
    id: String,
    issuer: Option<String>,
    purpose: Option<String>,
    destination: Destination,
    datasets: Vec<Dataset>,
    approvals: Vec<Approval>,
    created: Option<Timestamp>,
    expires: Option<Timestamp>,
}

impl DisclosurePackBuilder {
    /// A builder for a pack with this id.
    pub fn new(id: impl Into<String>) -> Self {
        DisclosurePackBuilder {
            id: id.into(),
            issuer: None,
            purpose: None,
            destination: Destination::default(),
            datasets: Vec::new(),
            approvals: Vec::new(),
            created: None,
            expires: None,
        }
    }

    /// Who issues the pack (required).
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer = Some(issuer.into());
        self
    }

    /// The purpose tag (required).
    pub fn purpose(mut self, purpose: impl Into<String>) -> Self {
        self.purpose = Some(purpose.into());
        self
    }

    /// The destination region (this or a party is required).
    pub fn destination_region(mut self, region: Region) -> Self {
        self.destination.region = Some(region);
        self
    }

    /// The receiving party (this or a region is required).
    pub fn destination_party(mut self, party: impl Into<String>) -> Self {
        self.destination.party = Some(party.into());
        self
    }

    /// Adds a dataset (at least one is required).
    pub fn dataset(mut self, dataset: Dataset) -> Self {
        self.datasets.push(dataset);
        self
    }

    /// Adds an approval.
    pub fn approval(
        mut self,
        approver: impl Into<String>,
        role: impl Into<String>,
        time: Timestamp,
    ) -> Self {
        self.approvals.push(Approval {
            approver: approver.into(),
            role: role.into(),
            time,
        });
        self
    }

    /// When the pack is made (required; there is no default, so that the
    /// same inputs always give the same pack).
    pub fn created(mut self, created: Timestamp) -> Self {
        self.created = Some(created);
        self
    }

    /// When the pack expires (required, after `created`).
    pub fn expires(mut self, expires: Timestamp) -> Self {
        self.expires = Some(expires);
        self
    }

    /// The validated pack.
    pub fn build(self) -> Result<DisclosurePack> {
        let missing = |what: &str| invalid(format!("pack {:?} has no {what}", self.id));
        let pack = DisclosurePack {
            issuer: self.issuer.clone().ok_or_else(|| missing("issuer"))?,
            purpose: self.purpose.clone().ok_or_else(|| missing("purpose"))?,
            created: self.created.ok_or_else(|| missing("creation time"))?,
            expires: self.expires.ok_or_else(|| missing("expiry"))?,
            id: self.id,
            destination: self.destination,
            datasets: self.datasets,
            approvals: self.approvals,
        };
        pack.validate()?;
        Ok(pack)
    }

    /// Builds the pack and signs it ([`DisclosurePack::sign`]).
    pub fn sign(self, signers: &[&dyn Signer]) -> Result<Envelope> {
        self.build()?.sign(signers)
    }
}

/// A disclosure pack as the bindings' constructor takes it (`new
/// DisclosurePack(spec)` in Node, `DisclosurePack(id, *, issuer, …)` in Python;
/// ADR-0020): plain data, times RFC 3339 UTC, built and validated by
/// [`DisclosurePackSpec::build`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DisclosurePackSpec {
    /// The pack's id.
    pub id: String,
    /// Who issues it.
    pub issuer: String,
    /// The purpose tag (`support`).
    pub purpose: String,
    /// The datasets, in the pack's JSON form.
    pub datasets: Vec<Dataset>,
    /// When it is made.
    pub created: String,
    /// When it expires.
    pub expires: String,
    /// The destination region (`US`); this or a party is required.
    #[serde(default)]
    pub destination_region: Option<String>,
    /// The receiving party.
    #[serde(default)]
    pub destination_party: Option<String>,
    /// The approvals.
    #[serde(default)]
    pub approvals: Vec<Approval>,
}

impl DisclosurePackSpec {
    /// Builds and validates the pack ([`DisclosurePackBuilder::build`]): a
    /// time that is not RFC 3339 UTC is `disclosure_invalid`, a region cos
    /// does not know is cos-core's `invalid_region` ([`Error::Core`]).
    pub fn build(self) -> Result<DisclosurePack> {
        let mut b = DisclosurePackBuilder::new(self.id)
            .issuer(self.issuer)
            .purpose(self.purpose)
            .created(self.created.parse()?)
            .expires(self.expires.parse()?);
        if let Some(r) = self.destination_region {
            b = b.destination_region(r.parse().map_err(Error::Core)?);
        }
        if let Some(p) = self.destination_party {
            b = b.destination_party(p);
        }
        for d in self.datasets {
            b = b.dataset(d);
        }
        for a in self.approvals {
            b = b.approval(a.approver, a.role, a.time);
        }
        b.build()
    }
}

#[cfg(test)]
mod tests;
