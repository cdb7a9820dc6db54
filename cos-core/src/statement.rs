//! in-toto Statement v1: subjects with digests, a predicate type and a
//! predicate. The payload of every attestation cos signs.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::canonical::to_canonical_vec;
use crate::digest::{Digest, DigestAlgorithm};
use crate::dsse::Envelope;
use crate::error::{Error, Result, excerpt};
use crate::key::Signer;

/// `_type` of an in-toto Statement v1.
pub const STATEMENT_TYPE_V1: &str = "https://in-toto.io/Statement/v1";
/// `_type` of the older v0.1 Statement, accepted when reading.
pub const STATEMENT_TYPE_V01: &str = "https://in-toto.io/Statement/v0.1";
/// DSSE payload type for in-toto Statements.
pub const PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";

/// A subject: an artefact named and identified by one or more digests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subject {
    /// A name for the artefact (file name, image reference, purl, …).
    #[serde(default)]
    pub name: String,
    /// Algorithm name → lowercase hex digest (`{"sha256": "ab12…"}`).
    pub digest: BTreeMap<String, String>,
}

impl Subject {
    /// A subject with one digest.
    pub fn new(name: impl Into<String>, digest: &Digest) -> Self {
        let mut map = BTreeMap::new();
        map.insert(digest.algorithm().name().to_owned(), digest.hex());
        Subject {
            name: name.into(),
            digest: map,
        }
    }

    /// Whether this subject carries `digest` (same algorithm, same value).
    pub fn matches(&self, digest: &Digest) -> bool {
        self.digest
            .get(digest.algorithm().name())
            .is_some_and(|h| h.eq_ignore_ascii_case(&digest.hex()))
    }
}

/// An in-toto Statement.
///
/// ```
/// use cos_core::{Digest, DigestAlgorithm, KeyAlgorithm, PrivateKey, Verifier};
/// use cos_core::statement::{Statement, Subject};
///
/// let d = Digest::of_bytes(DigestAlgorithm::Sha256, b"artifact");
/// let st = Statement::new("https://slsa.dev/provenance/v1", serde_json::json!({"builder": "ci"}))
///     .with_subject(Subject::new("app.tar", &d));
/// let key = PrivateKey::generate(KeyAlgorithm::Ed25519).unwrap();
/// let env = st.sign(&[&key]).unwrap();
///
/// let trusted: [&dyn Verifier; 1] = [key.public_key()];
/// let back = Statement::verify_envelope(&env, &trusted, 1).unwrap();
/// assert!(back.subject[0].matches(&d));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Statement {
    /// Always [`STATEMENT_TYPE_V1`] when built here.
    #[serde(rename = "_type")]
    pub statement_type: String,
    /// The artefacts the predicate speaks of (at least one).
    pub subject: Vec<Subject>,
    /// URI naming the predicate's schema.
    #[serde(rename = "predicateType")]
    pub predicate_type: String,
    /// The predicate itself; absent means an empty object.
    #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
    pub predicate: serde_json::Value,
}

impl Statement {
    /// A v1 statement with no subjects yet.
    pub fn new(predicate_type: impl Into<String>, predicate: serde_json::Value) -> Self {
        Statement {
            statement_type: STATEMENT_TYPE_V1.to_owned(),
            subject: Vec::new(),
            predicate_type: predicate_type.into(),
            predicate,
        }
    }

    /// Adds a subject.
    pub fn with_subject(mut self, subject: Subject) -> Self {
        self.subject.push(subject);
        self
    }

    /// Checks the structure: known `_type`, at least one subject, every
    /// subject with at least one digest, sha256/sha512 digests well-formed
    /// hex, a non-empty predicate type.
    pub fn validate(&self) -> Result<()> {
        let bad = |reason: String| Err(Error::InvalidStatement { reason });
        if self.statement_type != STATEMENT_TYPE_V1 && self.statement_type != STATEMENT_TYPE_V01 {
            return bad(format!("unknown _type {:?}", excerpt(&self.statement_type)));
        }
        if self.predicate_type.is_empty() {
            return bad("predicateType is empty".into());
        }
        if self.subject.is_empty() {
            return bad("no subject".into());
        }
        for (i, s) in self.subject.iter().enumerate() {
            if s.digest.is_empty() {
                return bad(format!("subject[{i}] has no digest"));
            }
            for (alg, value) in &s.digest {
                if let Ok(a) = alg.parse::<DigestAlgorithm>() {
                    let ok = value.len() == 2 * a.output_len()
                        && value.bytes().all(|b| b.is_ascii_hexdigit());
                    if !ok {
                        return bad(format!(
                            "subject[{i}].digest.{alg} is not {} hex digits",
                            2 * a.output_len()
                        ));
                    }
                }
            }
        }
        Ok(())
    }

    /// The statement as RFC 8785 canonical JSON (the DSSE payload).
    pub fn to_json(&self) -> Result<Vec<u8>> {
        self.validate()?;
        to_canonical_vec(self)
    }

    /// Parses and validates a statement.
    pub fn from_json(json: &[u8]) -> Result<Self> {
        let st: Statement = serde_json::from_slice(json).map_err(|e| Error::InvalidStatement {
            reason: e.to_string(),
        })?;
        st.validate()?;
        Ok(st)
    }

    /// The first subject whose digests include one of `artifact`'s, for
    /// any algorithm cos knows (SHA-256, SHA-512; npm provenance, for
    /// instance, names packages by SHA-512 only). Digests of other
    /// algorithms are ignored; each known digest of the artefact is
    /// computed at most once.
    pub fn subject_for(&self, artifact: &[u8]) -> Option<&Subject> {
        let mut computed: Vec<(DigestAlgorithm, crate::Digest)> = Vec::new();
        for subject in &self.subject {
            for alg in subject.digest.keys() {
                let Ok(a) = alg.parse::<DigestAlgorithm>() else {
                    continue;
                };
                let digest = match computed.iter().find(|(c, _)| *c == a) {
                    Some((_, d)) => d.clone(),
                    None => {
                        let d = crate::Digest::of_bytes(a, artifact);
                        computed.push((a, d.clone()));
                        d
                    }
                };
                if subject.matches(&digest) {
                    return Some(subject);
                }
            }
        }
        None
    }

    /// Signs the statement into a DSSE envelope of type [`PAYLOAD_TYPE`].
    pub fn sign(&self, signers: &[&dyn Signer]) -> Result<Envelope> {
        Envelope::sign(PAYLOAD_TYPE, &self.to_json()?, signers)
    }

    /// Verifies an envelope (payload type, key threshold) and returns the
    /// statement it carries.
    pub fn verify_envelope(
        env: &Envelope,
        keys: &[&dyn crate::key::Verifier],
        threshold: usize,
    ) -> Result<Self> {
        env.verify(keys, threshold, Some(PAYLOAD_TYPE))?;
        Self::from_json(&env.payload)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation() {
        let d = Digest::of_bytes(DigestAlgorithm::Sha256, b"x");
        let ok = Statement::new("p", serde_json::json!({})).with_subject(Subject::new("a", &d));
        ok.validate().unwrap();
        let mut no_subject = ok.clone();
        no_subject.subject.clear();
        assert!(no_subject.validate().is_err());
        let mut bad_hex = ok.clone();
        bad_hex.subject[0]
            .digest
            .insert("sha256".into(), "xyz".into());
        assert!(bad_hex.validate().is_err());
        let mut other_alg = ok.clone();
        other_alg.subject[0]
            .digest
            .insert("gitCommit".into(), "abc".into());
        other_alg.validate().unwrap();
        let mut bad_type = ok.clone();
        bad_type.statement_type = "https://example.com".into();
        assert_eq!(bad_type.validate().unwrap_err().code(), "invalid_statement");
    }

    #[test]
    fn canonical_payload() {
        let d = Digest::of_bytes(DigestAlgorithm::Sha256, b"");
        let st = Statement::new(
            "https://example.com/p/v1",
            serde_json::json!({"b": 1, "a": [true]}),
        )
        .with_subject(Subject::new("f", &d));
        let json = String::from_utf8(st.to_json().unwrap()).unwrap();
        assert_eq!(
            json,
            format!(
                r#"{{"_type":"https://in-toto.io/Statement/v1","predicate":{{"a":[true],"b":1}},"predicateType":"https://example.com/p/v1","subject":[{{"digest":{{"sha256":"{}"}},"name":"f"}}]}}"#,
                d.hex()
            )
        );
        assert_eq!(Statement::from_json(json.as_bytes()).unwrap(), st);
        assert!(Statement::from_json(b"{}").is_err());
    }
}
