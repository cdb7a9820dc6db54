//! Data loss prevention: find personal data and secrets in text and JSON
//! documents, and redact, mask, replace, hash or drop them.
//!
//! A [`Dlp`] holds the configuration: which [`Detector`]s run, the custom
//! patterns a pack supplies ([`CustomPattern`]), which [`Operator`] applies
//! to each entity, the key for `hash`, and the input limits. It works on
//!
//! - free text: [`Dlp::scan`] finds, [`Dlp::redact_text`] transforms;
//! - JSON documents: [`Dlp::redact_json`] applies [`FieldRules`] (operators by
//!   field path or field class) and scans every other string value;
//! - configuration as data ([`DlpConfig`], [`FieldRulesConfig`]), the shapes
//!   the Python and Node packages take;
//! - the obligations a pack's DLP rule returns
//!   (`{"type":"redact","operator":"mask","fields":[…]}`):
//!   [`Dlp::apply_obligations`].
//!
//! Every call returns a [`Report`]: for each finding the entity, the JSON
//! path or byte span, and the operator, never the value itself, in document
//! order, ready for a decision log.
//!
//! ```
//! use cos_policy::dlp::{Dlp, FieldRules, Operator};
//! use serde_json::json;
//!
//! let dlp = Dlp::builder()
//!     .operator("credit_card", Operator::mask_last(4))
//!     .hash_key(b"per-tenant secret")
//!     .build()?;
//!
//! // Free text.
//! let r = dlp.redact_text("Mail alice@example.com, card 4111 1111 1111 1111.")?;
//! assert_eq!(r.output, "Mail [REDACTED:EMAIL], card **** **** **** 1111.");
//! assert_eq!(r.report.findings[0].entity, "email");
//!
//! // A JSON document: a rule per field, and detectors on every other string.
//! let doc = json!({"customer": {"email": "bob@example.org", "note": "call 415-555-0132"}});
//! let rules = FieldRules::new().field("customer.email", Operator::Hash)?;
//! let r = dlp.redact_json(&doc, &rules)?;
//! assert_eq!(r.output["customer"]["note"], "call [REDACTED:PHONE]");
//! assert_eq!(r.output["customer"]["email"].as_str().map(str::len), Some(64));
//! let log = serde_json::to_value(&r.report)?;
//! assert_eq!(log["findings"][1], json!({"entity": "phone", "path": "customer.note",
//!     "span": {"start": 5, "end": 17}, "operator": "redact"}));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! See `docs/dlp.md` for the detectors, operators, the custom pattern format
//! and the report format.

mod checks;
mod config;
mod detect;
mod document;
mod error;
mod operator;
mod path;
mod report;

use std::collections::BTreeMap;

use cos_core::Classification;
use serde::{Deserialize, Serialize};

pub use config::{DlpConfig, FieldRuleConfig, FieldRulesConfig, MAX_FIELD_RULES};
pub use detect::Detector;
pub use document::FieldRules;
pub use error::DlpError;
pub use operator::{MaskFrom, Operator, OperatorKind};
pub use path::FieldPath;
pub use report::{Finding, Redacted, Report, Span};

use detect::{DetectorSet, Hit};
use operator::HmacKey;

use cos_core::Obligation;
use error::Result;

/// Most custom patterns one [`Dlp`] takes.
pub const MAX_CUSTOM_PATTERNS: usize = 64;
/// Longest custom pattern (regex source), in bytes.
pub const MAX_PATTERN_LEN: usize = 1024;
/// Largest compiled custom pattern (the `regex` crate's size limit), in bytes.
pub const MAX_PATTERN_SIZE: usize = 1 << 20;
/// Default limit on input: text bytes, or a document's strings, keys and
/// nodes.
pub const DEFAULT_MAX_INPUT_BYTES: usize = 16 << 20;
/// Default limit on a document's nesting depth.
pub const DEFAULT_MAX_DEPTH: usize = 128;

/// A pattern supplied by a pack (or the caller) to find an entity the
/// built-in detectors do not know.
///
/// In pack data it sits at `data.companyos.dlp.patterns` (see
/// [`CustomPattern::from_pack_data`]):
///
/// ```json
/// {"name": "employee_id", "pattern": "\\bEMP-[0-9]{6}\\b",
///  "classification": "CONFIDENTIAL", "operator": "mask"}
/// ```
///
/// `pattern` is a [`regex`](https://docs.rs/regex) crate expression (linear
/// time, no look-around or back-references), at most
/// [`MAX_PATTERN_LEN`] bytes and [`MAX_PATTERN_SIZE`] compiled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomPattern {
    /// The entity name reported and used in labels (`employee_id`):
    /// 1–64 characters of `[A-Za-z0-9_.-]`, not a built-in detector's name.
    pub name: String,
    /// The regular expression.
    pub pattern: String,
    /// How sensitive a match is (recorded in findings).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub classification: Option<Classification>,
    /// The operator for matches, when not set by
    /// [`DlpBuilder::operator`]; otherwise the default operator applies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operator: Option<Operator>,
}

impl CustomPattern {
    /// A pattern with a name and a regex, no classification or operator.
    pub fn new(name: impl Into<String>, pattern: impl Into<String>) -> CustomPattern {
        CustomPattern {
            name: name.into(),
            pattern: pattern.into(),
            classification: None,
            operator: None,
        }
    }

    /// The patterns in a pack's data document (`pack.data()`), at
    /// `companyos.dlp.patterns`; none when that is absent.
    pub fn from_pack_data(data: &serde_json::Value) -> Result<Vec<CustomPattern>> {
        match data.pointer("/companyos/dlp/patterns") {
            None | Some(serde_json::Value::Null) => Ok(Vec::new()),
            Some(v) => CustomPattern::list_from_json(v),
        }
    }

    /// A JSON array of patterns.
    pub fn list_from_json(v: &serde_json::Value) -> Result<Vec<CustomPattern>> {
        let items = v.as_array().ok_or_else(|| DlpError::Pattern {
            name: "patterns".into(),
            reason: "expected an array of {name, pattern, classification?, operator?}".into(),
        })?;
        items
            .iter()
            .enumerate()
            .map(|(k, item)| {
                CustomPattern::deserialize(item).map_err(|e| DlpError::Pattern {
                    name: item
                        .get("name")
                        .and_then(|n| n.as_str())
                        .map_or_else(|| format!("#{k}"), |n| n.chars().take(64).collect()),
                    reason: e.to_string(),
                })
            })
            .collect()
    }
}

#[derive(Debug, Clone)]
struct Compiled {
    name: String,
    regex: regex::Regex,
    classification: Option<Classification>,
}

/// One match found by [`Dlp::scan`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Detection {
    /// The entity (a [`Detector`] name or a custom pattern's name).
    pub entity: String,
    /// Where it is.
    pub span: Span,
    /// The custom pattern's classification, if it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub classification: Option<Classification>,
}

/// Which entity a match is, inside the crate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Source {
    /// Custom patterns first: at the same span, the pack's pattern wins.
    Custom(usize),
    Builtin(Detector),
}

#[derive(Debug, Clone, Copy)]
struct Match {
    start: usize,
    end: usize,
    source: Source,
}

/// DLP configuration: detectors, custom patterns, operators, key, limits.
///
/// Cheap to share (`Send + Sync`); build once with [`Dlp::builder`].
/// [`Dlp::default`] runs every detector and redacts with `[REDACTED:<ENTITY>]`.
#[derive(Debug, Clone)]
pub struct Dlp {
    detectors: DetectorSet,
    custom: Vec<Compiled>,
    operators: BTreeMap<String, Operator>,
    default_operator: Operator,
    named: BTreeMap<String, Operator>,
    template: String,
    key: Option<HmacKey>,
    max_input_bytes: usize,
    max_depth: usize,
}

impl Default for Dlp {
    fn default() -> Dlp {
        Dlp {
            detectors: DetectorSet::ALL,
            custom: Vec::new(),
            operators: BTreeMap::new(),
            default_operator: Operator::Redact,
            named: BTreeMap::new(),
            template: DEFAULT_TEMPLATE.to_owned(),
            key: None,
            max_input_bytes: DEFAULT_MAX_INPUT_BYTES,
            max_depth: DEFAULT_MAX_DEPTH,
        }
    }
}

const DEFAULT_TEMPLATE: &str = "[REDACTED:{ENTITY}]";

/// Builds a [`Dlp`]; every setting has a default.
#[derive(Debug, Clone)]
pub struct DlpBuilder {
    detectors: DetectorSet,
    patterns: Vec<CustomPattern>,
    operators: BTreeMap<String, Operator>,
    default_operator: Operator,
    named: BTreeMap<String, Operator>,
    template: String,
    key: Option<HmacKey>,
    max_input_bytes: usize,
    max_depth: usize,
}

impl DlpBuilder {
    /// Runs only these built-in detectors (all of them by default).
    pub fn detectors(mut self, detectors: impl IntoIterator<Item = Detector>) -> Self {
        self.detectors = DetectorSet(detectors.into_iter().fold(0, |acc, d| acc | d.bit()));
        self
    }

    /// Turns one built-in detector off.
    pub fn without(mut self, detector: Detector) -> Self {
        self.detectors = DetectorSet(self.detectors.0 & !detector.bit());
        self
    }

    /// Adds a custom pattern.
    pub fn pattern(mut self, pattern: CustomPattern) -> Self {
        self.patterns.push(pattern);
        self
    }

    /// Adds custom patterns (for example [`CustomPattern::from_pack_data`]).
    pub fn patterns(mut self, patterns: impl IntoIterator<Item = CustomPattern>) -> Self {
        self.patterns.extend(patterns);
        self
    }

    /// The operator for one entity (a detector name such as `credit_card`
    /// or a custom pattern's name).
    pub fn operator(mut self, entity: impl Into<String>, operator: Operator) -> Self {
        self.operators.insert(entity.into(), operator);
        self
    }

    /// The operator for entities with none of their own (`redact`).
    pub fn default_operator(mut self, operator: Operator) -> Self {
        self.default_operator = operator;
        self
    }

    /// What an operator name in a pack's obligations stands for: by default
    /// `redact`, `mask` (keep the last 4), `hash` and `drop` as in
    /// [`Operator::from_str`](std::str::FromStr); this adds or overrides a
    /// name (`"mask"` → keep 2, `"tokenize"` → hash).
    pub fn named_operator(mut self, name: impl Into<String>, operator: Operator) -> Self {
        self.named.insert(name.into(), operator);
        self
    }

    /// The text of [`Operator::Redact`]: `{ENTITY}` is replaced by the
    /// upper-case entity name, `{entity}` by the name as is. Default
    /// `[REDACTED:{ENTITY}]`.
    pub fn redact_template(mut self, template: impl Into<String>) -> Self {
        self.template = template.into();
        self
    }

    /// The key for [`Operator::Hash`] (HMAC-SHA256). Without one, `hash` is
    /// refused.
    pub fn hash_key(mut self, key: &[u8]) -> Self {
        self.key = Some(HmacKey::new(key));
        self
    }

    /// Largest input accepted: text bytes, or for a document the bytes of its
    /// strings and keys plus one per value ([`DEFAULT_MAX_INPUT_BYTES`]).
    pub fn max_input_bytes(mut self, limit: usize) -> Self {
        self.max_input_bytes = limit;
        self
    }

    /// Deepest document accepted ([`DEFAULT_MAX_DEPTH`]).
    pub fn max_depth(mut self, limit: usize) -> Self {
        self.max_depth = limit;
        self
    }

    /// Checks the configuration and compiles the patterns.
    ///
    /// Errors: [`DlpError::Pattern`] for a bad name, duplicate, too many
    /// patterns or a regex that does not compile within the limits;
    /// [`DlpError::Operator`] for an operator set for an unknown entity or a
    /// `hash` without a key.
    pub fn build(self) -> Result<Dlp> {
        if self.patterns.len() > MAX_CUSTOM_PATTERNS {
            return Err(DlpError::Pattern {
                name: "patterns".into(),
                reason: format!(
                    "{} patterns, at most {MAX_CUSTOM_PATTERNS} are allowed",
                    self.patterns.len()
                ),
            });
        }
        let mut custom = Vec::with_capacity(self.patterns.len());
        let mut operators = self.operators;
        for p in self.patterns {
            let bad = |reason: String| DlpError::Pattern {
                name: p.name.chars().take(64).collect(),
                reason,
            };
            if p.name.is_empty()
                || p.name.len() > 64
                || !p
                    .name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
            {
                return Err(bad("a name is 1-64 characters of [A-Za-z0-9_.-]".into()));
            }
            if Detector::from_name(&p.name).is_some() || p.name == "field" {
                return Err(bad("the name is a built-in entity's".into()));
            }
            if custom.iter().any(|c: &Compiled| c.name == p.name) {
                return Err(bad("two patterns have this name".into()));
            }
            if p.pattern.len() > MAX_PATTERN_LEN {
                return Err(bad(format!(
                    "the pattern is {} bytes, at most {MAX_PATTERN_LEN} are allowed",
                    p.pattern.len()
                )));
            }
            let regex = regex::RegexBuilder::new(&p.pattern)
                .size_limit(MAX_PATTERN_SIZE)
                .dfa_size_limit(2 * MAX_PATTERN_SIZE)
                .nest_limit(64)
                .build()
                .map_err(|e| bad(format!("invalid regex: {e}")))?;
            if regex.is_match("") {
                return Err(bad("the pattern matches the empty string".into()));
            }
            if let Some(op) = p.operator {
                operators.entry(p.name.clone()).or_insert(op);
            }
            custom.push(Compiled {
                name: p.name,
                regex,
                classification: p.classification,
            });
        }
        for entity in operators.keys() {
            if Detector::from_name(entity).is_none() && !custom.iter().any(|c| &c.name == entity) {
                return Err(DlpError::Operator {
                    operator: entity.clone(),
                    reason: "set for an entity that is neither a detector nor a custom pattern"
                        .into(),
                });
            }
        }
        let dlp = Dlp {
            detectors: self.detectors,
            custom,
            operators,
            default_operator: self.default_operator,
            named: self.named,
            template: self.template,
            key: self.key,
            max_input_bytes: self.max_input_bytes,
            max_depth: self.max_depth,
        };
        let all = dlp
            .operators
            .values()
            .chain(dlp.named.values())
            .chain(std::iter::once(&dlp.default_operator));
        for op in all {
            dlp.check_operator(op)?;
        }
        Ok(dlp)
    }
}

impl Dlp {
    /// A builder with the defaults: every detector, no custom patterns,
    /// `redact` for everything, no hash key, the default limits.
    pub fn builder() -> DlpBuilder {
        let d = Dlp::default();
        DlpBuilder {
            detectors: d.detectors,
            patterns: Vec::new(),
            operators: d.operators,
            default_operator: d.default_operator,
            named: d.named,
            template: d.template,
            key: None,
            max_input_bytes: d.max_input_bytes,
            max_depth: d.max_depth,
        }
    }

    /// The operator applied to an entity found by a detector or pattern.
    pub fn operator_for(&self, entity: &str) -> &Operator {
        self.operators.get(entity).unwrap_or(&self.default_operator)
    }

    /// The operator a name in an obligation stands for (see
    /// [`DlpBuilder::named_operator`]).
    pub fn operator_named(&self, name: &str) -> Result<Operator> {
        let op = match self.named.get(name) {
            Some(op) => op.clone(),
            None => name.parse()?,
        };
        self.check_operator(&op)?;
        Ok(op)
    }

    fn check_operator(&self, op: &Operator) -> Result<()> {
        if *op == Operator::Hash && self.key.is_none() {
            return Err(DlpError::Operator {
                operator: "hash".into(),
                reason: "hash needs a key (DlpBuilder::hash_key)".into(),
            });
        }
        Ok(())
    }

    fn check_text(&self, text: &str) -> Result<()> {
        if text.len() > self.max_input_bytes {
            return Err(DlpError::InputTooLarge {
                what: "text bytes".into(),
                size: text.len() as u64,
                limit: self.max_input_bytes as u64,
            });
        }
        Ok(())
    }

    /// Finds the entities in `text`: non-overlapping, by position. Where two
    /// detectors match at one place the longer match wins.
    ///
    /// Errors: [`DlpError::InputTooLarge`] above the input limit.
    pub fn scan(&self, text: &str) -> Result<Vec<Detection>> {
        self.check_text(text)?;
        Ok(self
            .find(text)
            .into_iter()
            .map(|m| Detection {
                entity: self.entity(m.source).to_owned(),
                span: Span {
                    start: m.start,
                    end: m.end,
                },
                classification: self.classification(m.source),
            })
            .collect())
    }

    /// Finds and transforms the entities in `text` with their operators.
    ///
    /// Errors: [`DlpError::InputTooLarge`] above the input limit.
    pub fn redact_text(&self, text: &str) -> Result<Redacted<String>> {
        self.check_text(text)?;
        let mut findings = Vec::new();
        let output = self
            .redact_str(text, || None, &mut findings)
            .unwrap_or_else(|| text.to_owned());
        Ok(Redacted {
            output,
            report: Report { findings },
        })
    }

    /// Transforms a JSON document: fields selected by `rules` get the rule's
    /// operator as a whole, and (unless the rules turn it off) every other
    /// string value is scanned and its findings transformed. Object keys are
    /// not scanned.
    ///
    /// Errors: [`DlpError::InputTooLarge`] above the size or depth limit;
    /// [`DlpError::Operator`] for a `hash` rule without a key.
    pub fn redact_json(
        &self,
        doc: &serde_json::Value,
        rules: &FieldRules,
    ) -> Result<Redacted<serde_json::Value>> {
        self.check_document(doc, rules)?;
        let mut output = doc.clone();
        let report = document::redact(self, &mut output, rules);
        Ok(Redacted { output, report })
    }

    /// As [`redact_json`](Dlp::redact_json), in place. On error the document
    /// is unchanged.
    pub fn redact_json_in_place(
        &self,
        doc: &mut serde_json::Value,
        rules: &FieldRules,
    ) -> Result<Report> {
        self.check_document(doc, rules)?;
        Ok(document::redact(self, doc, rules))
    }

    /// The [`FieldRules`] for the `redact` obligations of a decision: each
    /// field gets the operator its obligation names (`redact` when it names
    /// none, see [`operator_named`](Dlp::operator_named)). Other obligations
    /// are ignored. String values are not scanned (turn it on with
    /// [`FieldRules::scan_strings`]).
    ///
    /// Errors: [`DlpError::Operator`] for an unknown operator or `hash`
    /// without a key, [`DlpError::Path`] for a field path that does not parse.
    pub fn rules_from_obligations(&self, obligations: &[Obligation]) -> Result<FieldRules> {
        let mut rules = FieldRules::new().scan_strings(false);
        for o in obligations {
            if let Obligation::Redact {
                fields,
                classification,
                operator,
            } = o
            {
                let op = self.operator_named(operator.as_deref().unwrap_or("redact"))?;
                for f in fields {
                    rules = rules.rule(f, op.clone(), None, *classification)?;
                }
            }
        }
        Ok(rules)
    }

    /// Applies the `redact` obligations of a decision (as the baseline pack's
    /// `companyos/dlp/decision` returns them) to a document.
    ///
    /// ```
    /// use cos_policy::{Obligation, dlp::Dlp};
    /// use serde_json::json;
    ///
    /// let obligations: Vec<Obligation> = serde_json::from_value(json!([
    ///     {"type": "redact", "operator": "drop", "fields": ["customer.ssn"]},
    ///     {"type": "redact", "operator": "mask", "fields": ["payment.card"]},
    /// ]))?;
    /// let doc = json!({"customer": {"name": "Ann", "ssn": "123-45-6789"},
    ///                  "payment": {"card": "4111111111111111"}});
    /// let r = Dlp::default().apply_obligations(&doc, &obligations)?;
    /// assert_eq!(r.output, json!({"customer": {"name": "Ann"},
    ///                             "payment": {"card": "************1111"}}));
    /// assert_eq!(r.report.findings.len(), 2);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn apply_obligations(
        &self,
        doc: &serde_json::Value,
        obligations: &[Obligation],
    ) -> Result<Redacted<serde_json::Value>> {
        let rules = self.rules_from_obligations(obligations)?;
        self.redact_json(doc, &rules)
    }

    fn check_document(&self, doc: &serde_json::Value, rules: &FieldRules) -> Result<()> {
        for op in rules.operators() {
            self.check_operator(op)?;
        }
        let size = document::measure(doc, self.max_depth)?;
        if size > self.max_input_bytes as u64 {
            return Err(DlpError::InputTooLarge {
                what: "document bytes".into(),
                size,
                limit: self.max_input_bytes as u64,
            });
        }
        Ok(())
    }

    fn entity(&self, s: Source) -> &str {
        match s {
            Source::Builtin(d) => d.name(),
            Source::Custom(k) => self.custom.get(k).map_or("custom", |c| c.name.as_str()),
        }
    }

    fn classification(&self, s: Source) -> Option<Classification> {
        match s {
            Source::Builtin(_) => None,
            Source::Custom(k) => self.custom.get(k).and_then(|c| c.classification),
        }
    }

    /// All matches, non-overlapping, by position.
    fn find(&self, text: &str) -> Vec<Match> {
        let mut hits: Vec<Hit> = Vec::new();
        detect::scan(text, self.detectors, &mut hits);
        let mut all: Vec<Match> = hits
            .into_iter()
            .map(|h| Match {
                start: h.start,
                end: h.end,
                source: Source::Builtin(h.detector),
            })
            .collect();
        for (k, c) in self.custom.iter().enumerate() {
            for m in c.regex.find_iter(text) {
                if m.start() < m.end() {
                    all.push(Match {
                        start: m.start(),
                        end: m.end(),
                        source: Source::Custom(k),
                    });
                }
            }
        }
        if all.len() > 1 {
            all.sort_unstable_by(|a, b| {
                a.start
                    .cmp(&b.start)
                    .then(b.end.cmp(&a.end))
                    .then(a.source.cmp(&b.source))
            });
            let mut last_end = 0;
            all.retain(|m| {
                let keep = m.start >= last_end;
                if keep {
                    last_end = m.end;
                }
                keep
            });
        }
        all
    }

    /// Transforms the matches in `text`, or `None` when there are none;
    /// findings get the `path` (computed only when there is a finding).
    fn redact_str(
        &self,
        text: &str,
        path: impl FnOnce() -> Option<String>,
        findings: &mut Vec<Finding>,
    ) -> Option<String> {
        let matches = self.find(text);
        if matches.is_empty() {
            return None;
        }
        let path = path();
        let mut out = String::with_capacity(text.len());
        let mut last = 0;
        for m in matches {
            let entity = self.entity(m.source);
            let op = self.operator_for(entity);
            out.push_str(text.get(last..m.start).unwrap_or_default());
            let value = text.get(m.start..m.end).unwrap_or_default();
            if let Some(r) = self.transform(op, value, entity) {
                out.push_str(&r);
            }
            last = m.end;
            findings.push(Finding {
                entity: entity.to_owned(),
                path: path.clone(),
                span: Some(Span {
                    start: m.start,
                    end: m.end,
                }),
                classification: self.classification(m.source),
                operator: op.kind(),
            });
        }
        out.push_str(text.get(last..).unwrap_or_default());
        Some(out)
    }

    /// The replacement for `value`, or `None` to remove it.
    fn transform(&self, op: &Operator, value: &str, entity: &str) -> Option<String> {
        match op {
            Operator::Redact => Some(operator::label(&self.template, entity)),
            Operator::Mask { char, keep, from } => Some(operator::mask(value, *char, *keep, *from)),
            Operator::Replace { value } => Some(value.clone()),
            Operator::Hash => Some(match &self.key {
                Some(k) => k.hex(value.as_bytes()),
                // Refused when configured; fail closed all the same.
                None => operator::label(&self.template, entity),
            }),
            Operator::Drop => None,
        }
    }
}

#[cfg(test)]
mod tests;
