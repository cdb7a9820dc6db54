//! DLP on JSON documents: rules by field path or class, and detectors on
//! string values.

use std::collections::BTreeMap;

use cos_core::Classification;
use serde_json::Value;

use super::error::{DlpError, Result};
use super::path::{FieldPath, Loc, render};
use super::{Dlp, Finding, Operator, Report};

#[derive(Debug, Clone)]
struct FieldRule {
    path: FieldPath,
    operator: Operator,
    entity: String,
    classification: Option<Classification>,
}

/// Which fields of a JSON document get which operator, and whether the other
/// string values are scanned by the detectors.
///
/// A field selected by a rule is transformed as a whole (a non-string value
/// is first written as JSON text; `drop` removes it) and not scanned. When
/// several rules select one field the strictest operator wins
/// (drop > redact > replace > hash > mask); a rule on an object covers
/// everything under it.
///
/// ```
/// use std::collections::BTreeMap;
/// use cos_policy::dlp::{FieldRules, Operator};
///
/// // By path.
/// let rules = FieldRules::new()
///     .field("customer.email", Operator::Redact)?
///     .field("items[*].card", Operator::mask_last(4))?;
/// // By class: which field holds what, and what each class gets.
/// let fields = [("customer.ssn", "ssn"), ("customer.phone", "phone")];
/// let ops = BTreeMap::from([("ssn".to_owned(), Operator::Drop)]);
/// let rules = FieldRules::classified(fields, &ops)?; // phone has no operator: only scanned
/// # Ok::<(), cos_policy::dlp::DlpError>(())
/// ```
#[derive(Debug, Clone)]
pub struct FieldRules {
    rules: Vec<FieldRule>,
    scan_strings: bool,
}

impl Default for FieldRules {
    fn default() -> FieldRules {
        FieldRules::new()
    }
}

impl FieldRules {
    /// No rules; string values are scanned.
    pub fn new() -> FieldRules {
        FieldRules {
            rules: Vec::new(),
            scan_strings: true,
        }
    }

    /// Whether string values not selected by a rule are scanned by the
    /// detectors (default yes).
    pub fn scan_strings(mut self, on: bool) -> FieldRules {
        self.scan_strings = on;
        self
    }

    /// Applies `operator` to the fields `path` selects; findings name the
    /// entity `field`.
    ///
    /// Errors: [`DlpError::Path`] when the path does not parse.
    pub fn field(self, path: &str, operator: Operator) -> Result<FieldRules> {
        self.rule(path, operator, None, None)
    }

    /// Applies `operator` to the fields `path` selects, which hold data of
    /// `class` (`email`; findings name it as their entity).
    ///
    /// Errors: [`DlpError::Path`] when the path does not parse.
    pub fn classified_field(
        self,
        path: &str,
        class: &str,
        operator: Operator,
    ) -> Result<FieldRules> {
        self.rule(path, operator, Some(class), None)
    }

    /// Rules from a field classification (`(path, class)` pairs, as the
    /// `fields` of a DLP decision's input) and an operator per class (as a
    /// pack's `dlp.operators[party]`). Fields whose class has no operator get
    /// no rule; their strings are still scanned.
    ///
    /// Errors: [`DlpError::Path`] when a path does not parse.
    pub fn classified<P, C>(
        fields: impl IntoIterator<Item = (P, C)>,
        operators: &BTreeMap<String, Operator>,
    ) -> Result<FieldRules>
    where
        P: AsRef<str>,
        C: AsRef<str>,
    {
        let mut rules = FieldRules::new();
        for (path, class) in fields {
            if let Some(op) = operators.get(class.as_ref()) {
                rules = rules.classified_field(path.as_ref(), class.as_ref(), op.clone())?;
            }
        }
        Ok(rules)
    }

    pub(crate) fn rule(
        mut self,
        path: &str,
        operator: Operator,
        class: Option<&str>,
        classification: Option<Classification>,
    ) -> Result<FieldRules> {
        self.rules.push(FieldRule {
            path: path.parse()?,
            operator,
            entity: class.unwrap_or("field").to_owned(),
            classification,
        });
        Ok(self)
    }

    pub(crate) fn operators(&self) -> impl Iterator<Item = &Operator> {
        self.rules.iter().map(|r| &r.operator)
    }

    /// The strictest rule selecting exactly `loc`.
    fn at(&self, loc: &[Loc]) -> Option<&FieldRule> {
        self.rules
            .iter()
            .filter(|r| r.path.matches(loc))
            .max_by_key(|r| r.operator.strictness())
    }

    fn any_below(&self, loc: &[Loc]) -> bool {
        self.rules.iter().any(|r| r.path.may_match_below(loc))
    }
}

/// The size of a document as limited (bytes of strings and keys, plus one
/// per value), refusing documents deeper than `max_depth`.
pub(crate) fn measure(doc: &Value, max_depth: usize) -> Result<u64> {
    fn go(v: &Value, depth: usize, max: usize) -> Result<u64> {
        if depth > max {
            return Err(DlpError::InputTooLarge {
                what: "document depth".into(),
                size: depth as u64,
                limit: max as u64,
            });
        }
        Ok(match v {
            Value::String(s) => 1 + s.len() as u64,
            Value::Array(a) => {
                let mut n = 1u64;
                for x in a {
                    n = n.saturating_add(go(x, depth + 1, max)?);
                }
                n
            }
            Value::Object(m) => {
                let mut n = 1u64;
                for (k, x) in m {
                    n = n
                        .saturating_add(k.len() as u64)
                        .saturating_add(go(x, depth + 1, max)?);
                }
                n
            }
            _ => 1,
        })
    }
    go(doc, 0, max_depth)
}

/// Walks `doc` (already measured) applying `rules`.
pub(crate) fn redact(dlp: &Dlp, doc: &mut Value, rules: &FieldRules) -> Report {
    let mut findings = Vec::new();
    let mut loc = Vec::new();
    if walk(dlp, doc, rules, &mut loc, &mut findings) == Keep::Remove {
        // Only the root can be selected by an empty path, which does not
        // parse; dropping the whole document leaves null.
        *doc = Value::Null;
    }
    Report { findings }
}

#[derive(Debug, PartialEq, Eq)]
enum Keep {
    Keep,
    Remove,
}

fn walk(
    dlp: &Dlp,
    v: &mut Value,
    rules: &FieldRules,
    loc: &mut Vec<Loc>,
    findings: &mut Vec<Finding>,
) -> Keep {
    if !loc.is_empty()
        && let Some(rule) = rules.at(loc)
    {
        findings.push(Finding {
            entity: rule.entity.clone(),
            path: Some(render(loc)),
            span: None,
            classification: rule.classification,
            operator: rule.operator.kind(),
        });
        let text = match &mut *v {
            Value::String(s) => std::mem::take(s),
            other => other.to_string(),
        };
        return match dlp.transform(&rule.operator, &text, &rule.entity) {
            Some(r) => {
                *v = Value::String(r);
                Keep::Keep
            }
            None => Keep::Remove,
        };
    }
    let descend = rules.scan_strings || rules.any_below(loc);
    match v {
        Value::String(s) if rules.scan_strings => {
            if let Some(out) = dlp.redact_str(s, || Some(render(loc)), findings) {
                *s = out;
            }
        }
        Value::Array(items) if descend => {
            let mut removed = Vec::new();
            for (k, item) in items.iter_mut().enumerate() {
                loc.push(Loc::Index(k));
                if walk(dlp, item, rules, loc, findings) == Keep::Remove {
                    removed.push(k);
                }
                loc.pop();
            }
            for k in removed.into_iter().rev() {
                items.remove(k);
            }
        }
        Value::Object(members) if descend => {
            let mut removed = Vec::new();
            for (key, item) in members.iter_mut() {
                loc.push(Loc::Key(key.clone()));
                if walk(dlp, item, rules, loc, findings) == Keep::Remove {
                    removed.push(key.clone());
                }
                loc.pop();
            }
            if !removed.is_empty() {
                members.retain(|k, _| !removed.contains(k));
            }
        }
        _ => {}
    }
    Keep::Keep
}
