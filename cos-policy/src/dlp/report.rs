//! What a redaction did, for the decision log.

use std::collections::BTreeMap;

use cos_core::Classification;
use serde::{Deserialize, Serialize};

use super::operator::OperatorKind;

/// A byte range `[start, end)` in a text (in a JSON string value, in that
/// string). Both ends fall on UTF-8 character boundaries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Span {
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
}

/// One thing found, without its value: the entity, where, and what was done.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Finding {
    /// What was found: a [`Detector`](super::Detector) name (`email`), a
    /// custom pattern's name, or for a field rule the field's class (or
    /// `field` when the rule gave none).
    pub entity: String,
    /// The JSON path of the value (`items[0].card`); absent for free text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// The bytes of the match in the text or string value; absent when a
    /// whole field was selected by a rule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub span: Option<Span>,
    /// The classification of a custom pattern or field rule, when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub classification: Option<Classification>,
    /// The operator applied.
    pub operator: OperatorKind,
}

/// Everything a redaction did, in document order (free text: by position;
/// JSON: members in the document's order, then by position in a string).
///
/// It never holds the values found, only where they were, so it can go into a
/// decision log.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Report {
    /// The findings.
    pub findings: Vec<Finding>,
}

impl Report {
    /// Whether nothing was found.
    pub fn is_empty(&self) -> bool {
        self.findings.is_empty()
    }

    /// How many findings there were of each entity.
    pub fn counts(&self) -> BTreeMap<&str, usize> {
        let mut m = BTreeMap::new();
        for f in &self.findings {
            *m.entry(f.entity.as_str()).or_insert(0) += 1;
        }
        m
    }
}

/// The output of a redaction and its report.
#[derive(Debug, Clone, PartialEq)]
pub struct Redacted<T> {
    /// The redacted text or document.
    pub output: T,
    /// What was done.
    pub report: Report,
}
