//! DLP configuration and field rules as data (JSON): the shapes the Python
//! and Node packages take, parsed and checked here so every binding reads
//! them the same way.

use std::collections::BTreeMap;

use cos_core::Classification;
use serde::{Deserialize, Serialize};

use super::error::{DlpError, Result};
use super::{CustomPattern, Detector, Dlp, DlpBuilder, FieldRules, Operator};

/// Most field rules one [`FieldRulesConfig`] holds.
pub const MAX_FIELD_RULES: usize = 4096;

/// A [`Dlp`] configuration as data. Every field is optional; what is left
/// out keeps [`Dlp::builder`]'s default:
///
/// ```json
/// {"detectors": ["email", "credit_card"], "without": [],
///  "patterns": [{"name": "employee_id", "pattern": "\\bEMP-[0-9]{6}\\b"}],
///  "operators": {"credit_card": {"type": "mask", "keep": 4}},
///  "default_operator": "redact", "named_operators": {"mask": {"type": "mask", "keep": 2}},
///  "redact_template": "[REDACTED:{ENTITY}]", "max_input_bytes": 16777216, "max_depth": 128}
/// ```
///
/// The `hash` key is not part of it (it is a secret, and bytes): give it to
/// [`DlpConfig::build`].
///
/// ```
/// use cos_policy::dlp::DlpConfig;
/// let config: DlpConfig = serde_json::from_str(
///     r#"{"detectors": ["email"], "operators": {"email": "hash"}}"#)?;
/// let dlp = config.build(Some(b"key"))?;
/// let r = dlp.redact_text("mail a@example.com, call 415-555-0132")?;
/// assert!(r.output.ends_with(", call 415-555-0132")); // phone is off
/// assert_eq!(r.report.findings.len(), 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DlpConfig {
    /// Run only these built-in detectors (default: all).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detectors: Option<Vec<Detector>>,
    /// Turn these built-in detectors off.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub without: Vec<Detector>,
    /// Custom patterns ([`CustomPattern`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub patterns: Vec<CustomPattern>,
    /// The operator per entity ([`DlpBuilder::operator`]).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub operators: BTreeMap<String, Operator>,
    /// The operator for entities with none of their own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_operator: Option<Operator>,
    /// What operator names in obligations stand for
    /// ([`DlpBuilder::named_operator`]).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub named_operators: BTreeMap<String, Operator>,
    /// The text of `redact` ([`DlpBuilder::redact_template`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redact_template: Option<String>,
    /// Largest input ([`DlpBuilder::max_input_bytes`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_input_bytes: Option<usize>,
    /// Deepest document ([`DlpBuilder::max_depth`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_depth: Option<usize>,
}

impl DlpConfig {
    /// The builder this configuration describes, with `hash_key` when given.
    pub fn builder(self, hash_key: Option<&[u8]>) -> DlpBuilder {
        let mut b = Dlp::builder();
        if let Some(d) = self.detectors {
            b = b.detectors(d);
        }
        for d in self.without {
            b = b.without(d);
        }
        b = b.patterns(self.patterns);
        for (entity, op) in self.operators {
            b = b.operator(entity, op);
        }
        if let Some(op) = self.default_operator {
            b = b.default_operator(op);
        }
        for (name, op) in self.named_operators {
            b = b.named_operator(name, op);
        }
        if let Some(t) = self.redact_template {
            b = b.redact_template(t);
        }
        if let Some(n) = self.max_input_bytes {
            b = b.max_input_bytes(n);
        }
        if let Some(n) = self.max_depth {
            b = b.max_depth(n);
        }
        if let Some(k) = hash_key {
            b = b.hash_key(k);
        }
        b
    }

    /// Builds the [`Dlp`] ([`DlpBuilder::build`], with its errors).
    pub fn build(self, hash_key: Option<&[u8]>) -> Result<Dlp> {
        self.builder(hash_key).build()
    }
}

/// [`FieldRules`] as data:
///
/// ```json
/// {"scan_strings": true,
///  "fields": [{"path": "customer.email", "operator": "hash"},
///             {"path": "items[*].card", "operator": {"type": "mask", "keep": 4},
///              "class": "credit_card", "classification": "RESTRICTED"}]}
/// ```
///
/// `class` names the entity findings report (default `field`);
/// `classification` is recorded in them.
///
/// ```
/// use cos_policy::dlp::{Dlp, FieldRulesConfig};
/// let rules: FieldRulesConfig = serde_json::from_str(
///     r#"{"scan_strings": false, "fields": [{"path": "a.b", "operator": "drop"}]}"#)?;
/// let doc = serde_json::json!({"a": {"b": 1, "c": "x@example.com"}});
/// let r = Dlp::default().redact_json(&doc, &rules.build()?)?;
/// assert_eq!(r.output, serde_json::json!({"a": {"c": "x@example.com"}}));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldRulesConfig {
    /// Whether strings no rule selects are scanned (default yes).
    #[serde(default = "yes")]
    pub scan_strings: bool,
    /// The rules, at most [`MAX_FIELD_RULES`].
    #[serde(default)]
    pub fields: Vec<FieldRuleConfig>,
}

impl Default for FieldRulesConfig {
    fn default() -> Self {
        FieldRulesConfig {
            scan_strings: true,
            fields: Vec::new(),
        }
    }
}

/// One rule of a [`FieldRulesConfig`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldRuleConfig {
    /// The field path (`customer.email`, `items[*].card`).
    pub path: String,
    /// What to do with the field.
    pub operator: Operator,
    /// The entity findings name (default `field`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class: Option<String>,
    /// The classification findings record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub classification: Option<Classification>,
}

fn yes() -> bool {
    true
}

impl FieldRulesConfig {
    /// The rules. Errors: [`DlpError::Path`] for a path that does not
    /// parse, [`DlpError::LimitExceeded`] above [`MAX_FIELD_RULES`].
    pub fn build(&self) -> Result<FieldRules> {
        if self.fields.len() > MAX_FIELD_RULES {
            return Err(DlpError::LimitExceeded {
                what: format!("{} DLP field rules", self.fields.len()),
                limit: MAX_FIELD_RULES as u64,
            });
        }
        let mut rules = FieldRules::new().scan_strings(self.scan_strings);
        for f in &self.fields {
            rules = rules.rule(
                &f.path,
                f.operator.clone(),
                f.class.as_deref(),
                f.classification,
            )?;
        }
        Ok(rules)
    }
}
