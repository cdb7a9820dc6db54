//! The gate's policy: threshold, budgets per severity, and what to do with
//! findings that have no score.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::finding::Severity;
use crate::error::{Error, Result};

/// What the gate does with a finding that has neither a CVSS vector it can
/// score nor a score in the report.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unscored {
    /// Use the report's severity label: the finding blocks when the top of
    /// its band (critical 10.0, high 8.9, medium 6.9, low 3.9, none 0.0)
    /// reaches the threshold; a finding without a known label follows
    /// `unknown_severity`.
    #[default]
    Severity,
    /// Block every unscored finding.
    Block,
    /// Let every unscored finding pass (reported as `allowed_unscored`).
    Allow,
}

/// What the gate does with a finding whose severity is unknown (no score,
/// no recognised label) when `unscored` is `severity`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnknownSeverity {
    /// Block it (unless a budget for `unknown` allows it).
    #[default]
    Block,
    /// Let it pass.
    Allow,
}

/// The CVE gate's policy (a YAML or JSON file; every field optional).
///
/// ```yaml
/// threshold: 7.0          # findings scoring this or more block (default 7.0)
/// budgets:                # at most this many findings of a severity pass
///   high: 2               # (within budget, whatever their score); one more
///   medium: 10            # and every finding of that severity blocks
/// unscored: severity      # severity (default) | block | allow
/// unknown_severity: block # block (default) | allow
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// Findings whose score is at least this block, unless waived, not
    /// affected (VEX) or within their severity's budget. 0.0–10.0.
    #[serde(default = "default_threshold")]
    pub threshold: f64,
    /// The most findings of a severity that may pass: when the active
    /// (neither waived nor not-affected) findings of a severity are at most
    /// its budget they all pass, whatever their score; above it they all
    /// block. Severities without a budget follow the threshold.
    #[serde(default)]
    pub budgets: BTreeMap<Severity, u32>,
    /// Findings without a score.
    #[serde(default)]
    pub unscored: Unscored,
    /// Findings of unknown severity (with `unscored: severity`).
    #[serde(default)]
    pub unknown_severity: UnknownSeverity,
}

fn default_threshold() -> f64 {
    7.0
}

impl Default for Policy {
    /// Block CVSS 7.0 and above; no budgets; unscored findings by their label.
    fn default() -> Self {
        Policy {
            threshold: default_threshold(),
            budgets: BTreeMap::new(),
            unscored: Unscored::default(),
            unknown_severity: UnknownSeverity::default(),
        }
    }
}

impl Policy {
    /// Parses a policy file (YAML or JSON; unknown fields are refused).
    pub fn from_slice(bytes: &[u8]) -> Result<Policy> {
        if bytes.len() > 1024 * 1024 {
            return Err(Error::InputTooLarge {
                what: "CVE gate policy".into(),
                size: bytes.len(),
                limit: 1024 * 1024,
            });
        }
        let bad = |reason: String| Error::InvalidGatePolicy { reason };
        let value = yaml_or_json(bytes).map_err(bad)?;
        let value = if value.is_null() {
            Value::Object(Default::default())
        } else {
            value
        };
        let policy: Policy = serde_json::from_value(value).map_err(|e| bad(e.to_string()))?;
        policy.validate()?;
        Ok(policy)
    }

    /// Checks the threshold is a number from 0.0 to 10.0.
    pub fn validate(&self) -> Result<()> {
        if !(0.0..=10.0).contains(&self.threshold) {
            return Err(Error::InvalidGatePolicy {
                reason: format!("threshold {} is not between 0.0 and 10.0", self.threshold),
            });
        }
        Ok(())
    }
}

/// Reads YAML or JSON (JSON when the text starts with `{` or `[`) into a
/// JSON value; empty text is `null`.
pub(crate) fn yaml_or_json(bytes: &[u8]) -> std::result::Result<Value, String> {
    let text = std::str::from_utf8(bytes).map_err(|_| "not UTF-8 text".to_owned())?;
    let t = text.trim_start_matches('\u{feff}').trim();
    if t.is_empty() {
        return Ok(Value::Null);
    }
    if t.starts_with('{') || t.starts_with('[') {
        serde_json::from_str(t).map_err(|e| format!("not valid JSON: {e}"))
    } else if let Some(e) = cos_core::text::yaml_nesting_error(t) {
        Err(format!("not valid YAML: {e}"))
    } else {
        yaml_serde::from_str(t).map_err(|e| format!("not valid YAML: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deep_yaml_is_refused_at_once() {
        let started = std::time::Instant::now();
        let deep = format!("budgets: {}", "[".repeat(100_000));
        let e = Policy::from_slice(deep.as_bytes()).unwrap_err();
        assert_eq!(e.code(), "invalid_gate_policy");
        assert!(e.to_string().contains("nested more than 128 deep"), "{e}");
        let e = crate::vuln::parse_waivers(deep.as_bytes(), &Default::default()).unwrap_err();
        assert!(e.to_string().contains("nested more than 128 deep"), "{e}");
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
    }

    #[test]
    fn defaults_and_files() {
        assert_eq!(Policy::from_slice(b"").unwrap(), Policy::default());
        assert_eq!(Policy::from_slice(b"{}").unwrap().threshold, 7.0);
        let p = Policy::from_slice(
            b"threshold: 9.0\nbudgets:\n  high: 2\n  medium: 10\nunscored: block\nunknown_severity: allow\n",
        )
        .unwrap();
        assert_eq!(p.threshold, 9.0);
        assert_eq!(p.budgets.get(&Severity::High), Some(&2));
        assert_eq!(p.unscored, Unscored::Block);
        assert_eq!(p.unknown_severity, UnknownSeverity::Allow);
    }

    #[test]
    fn bad_policies_are_typed_errors() {
        for bad in [
            "threshold: 11\n",
            "threshold: -1\n",
            "threshold: high\n",
            "treshold: 7\n",
            "budgets:\n  severe: 1\n",
            "budgets:\n  high: -1\n",
            "unscored: maybe\n",
            "[1, 2]",
            "{",
        ] {
            let e = Policy::from_slice(bad.as_bytes()).unwrap_err();
            assert_eq!(e.code(), "invalid_gate_policy", "{bad}");
        }
    }
}
