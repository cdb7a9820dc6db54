//! Decision logs in OPA's decision-log event format, with masking through
//! the pack's `data.system.log.mask` rule and dropping through
//! `data.system.log.drop`, and a JSON-lines writer.
//!
//! As in OPA, both rules see the event itself as `input` (so
//! `input.input.password`, `input.result`, `input.path`). `mask` yields JSON
//! pointers under `/input` or `/result` to erase (listed in `erased`), or
//! `{"op": "upsert", "path": …, "value": …}` objects to overwrite (listed in
//! `masked`); `{"op": "remove", "path": …}` erases too.

use std::collections::BTreeMap;
use std::io::Write;

use serde::{Deserialize, Serialize};

use crate::decision::{Decision, rfc3339, uuid_v4};
use crate::engine::PolicyEngine;
use crate::error::{Error, Result};

/// Document of the mask rule.
pub const MASK_RULE: &str = "data.system.log.mask";
/// Document of the drop rule.
pub const DROP_RULE: &str = "data.system.log.drop";

/// A bundle's revision, as OPA logs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BundleRevision {
    /// The revision.
    pub revision: String,
}

/// One decision-log event, in OPA's shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecisionEvent {
    /// Labels of the deciding instance (`id`, `version`, custom ones).
    pub labels: BTreeMap<String, String>,
    /// The decision id.
    pub decision_id: String,
    /// Bundles (packs) involved, by name.
    pub bundles: BTreeMap<String, BundleRevision>,
    /// The document path that was evaluated (`companyos/abac/decision`).
    pub path: String,
    /// The input, after masking; absent when erased or not given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<serde_json::Value>,
    /// The result, after masking; absent when undefined or erased.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<serde_json::Value>,
    /// Who asked (e.g. the client address), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requested_by: Option<String>,
    /// When the evaluation started (RFC 3339, UTC).
    pub timestamp: String,
    /// Timers and counters (`timer_rego_query_eval_ns`).
    pub metrics: BTreeMap<String, u64>,
    /// JSON pointers the mask rule erased.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub erased: Vec<String>,
    /// JSON pointers the mask rule overwrote.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub masked: Vec<String>,
    /// Why the evaluation failed, when it did (OPA logs failed decisions
    /// too, with `error`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<EventError>,
    /// What the caller adds (OPA's `custom`): cos-pdp records the API
    /// route that decided (`{"route": "POST /v1/data"}`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub custom: BTreeMap<String, serde_json::Value>,
}

/// The error of a failed decision, as OPA logs it: a code and a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventError {
    /// A stable code (cos's `Error::code()`, or OPA's, e.g. `undefined_document`).
    pub code: String,
    /// What went wrong.
    pub message: String,
}

impl From<&Error> for EventError {
    fn from(e: &Error) -> Self {
        EventError {
            code: e.code().to_owned(),
            message: e.to_string(),
        }
    }
}

/// Builds decision-log events for one engine and applies the pack's mask
/// and drop rules.
#[derive(Debug, Clone)]
pub struct DecisionLogger {
    labels: BTreeMap<String, String>,
}

impl DecisionLogger {
    /// A logger stamping every event with `labels` (OPA sets `id` and
    /// `version`; add your service name, region, …). `version` defaults to
    /// this crate's version.
    pub fn new(mut labels: BTreeMap<String, String>) -> Self {
        labels
            .entry("version".into())
            .or_insert_with(|| format!("cos-policy/{}", env!("CARGO_PKG_VERSION")));
        labels.entry("id".into()).or_insert_with(uuid_v4);
        DecisionLogger { labels }
    }

    /// The event for a [`Decision`] made by `engine` on `input`, or `None`
    /// if the pack's drop rule drops it.
    pub fn event_for_decision(
        &self,
        engine: &PolicyEngine,
        decision: &Decision,
        input: Option<&serde_json::Value>,
        requested_by: Option<&str>,
    ) -> Result<Option<DecisionEvent>> {
        let result = serde_json::json!({
            "allow": decision.allow,
            "reasons": decision.reasons,
            "obligations": decision.obligations,
        });
        self.event(
            engine,
            EventParts {
                decision_id: decision.decision_id.clone(),
                path: decision.path.clone(),
                input: input.cloned(),
                result: Some(result),
                requested_by: requested_by.map(str::to_owned),
                timestamp: decision.timestamp.clone(),
                eval_ns: decision.eval_ns,
            },
        )
    }

    /// The event for a plain evaluation (`PolicyEngine::evaluate`), or
    /// `None` if the drop rule drops it.
    pub fn event_for_result(
        &self,
        engine: &PolicyEngine,
        path: &str,
        input: Option<&serde_json::Value>,
        result: Option<&serde_json::Value>,
        eval_ns: u64,
    ) -> Result<Option<DecisionEvent>> {
        self.event(
            engine,
            EventParts {
                decision_id: uuid_v4(),
                path: path.to_owned(),
                input: input.cloned(),
                result: result.cloned(),
                requested_by: None,
                timestamp: rfc3339(std::time::SystemTime::now()),
                eval_ns,
            },
        )
    }

    /// The event for an evaluation that failed with `error`: by `engine`
    /// when one was asked (its drop and mask rules apply), or by none (no
    /// policy was active; the event names no bundle). `None` if dropped.
    ///
    /// ```
    /// # use cos_policy::{DecisionLogger, EventError};
    /// let logger = DecisionLogger::new(Default::default());
    /// let error = EventError { code: "timeout".into(), message: "time limit reached".into() };
    /// let event = logger.event_for_error(None, "app/allow", None, &error, 7).unwrap().unwrap();
    /// assert_eq!(event.error, Some(error));
    /// assert!(event.result.is_none() && event.bundles.is_empty());
    /// ```
    pub fn event_for_error(
        &self,
        engine: Option<&PolicyEngine>,
        path: &str,
        input: Option<&serde_json::Value>,
        error: &EventError,
        eval_ns: u64,
    ) -> Result<Option<DecisionEvent>> {
        let parts = EventParts {
            decision_id: uuid_v4(),
            path: path.to_owned(),
            input: input.cloned(),
            result: None,
            requested_by: None,
            timestamp: rfc3339(std::time::SystemTime::now()),
            eval_ns,
        };
        let event = match engine {
            Some(engine) => self.event(engine, parts)?,
            None => Some(self.bare_event(None, parts)),
        };
        Ok(event.map(|mut e| {
            e.error = Some(error.clone());
            e
        }))
    }

    fn bare_event(&self, engine: Option<&PolicyEngine>, parts: EventParts) -> DecisionEvent {
        let mut bundles = BTreeMap::new();
        if let Some(engine) = engine {
            let pack = engine.pack();
            bundles.insert(
                pack.name.clone(),
                BundleRevision {
                    revision: pack.revision.clone(),
                },
            );
        }
        let mut metrics = BTreeMap::new();
        metrics.insert("timer_rego_query_eval_ns".to_owned(), parts.eval_ns);
        DecisionEvent {
            labels: self.labels.clone(),
            decision_id: parts.decision_id,
            bundles,
            path: parts.path,
            input: parts.input,
            result: parts.result,
            requested_by: parts.requested_by,
            timestamp: parts.timestamp,
            metrics,
            erased: Vec::new(),
            masked: Vec::new(),
            error: None,
            custom: BTreeMap::new(),
        }
    }

    fn event(&self, engine: &PolicyEngine, parts: EventParts) -> Result<Option<DecisionEvent>> {
        let mut event = self.bare_event(Some(engine), parts);
        let as_input = serde_json::to_value(&event).map_err(|e| Error::Evaluation {
            query: MASK_RULE.into(),
            message: e.to_string(),
        })?;
        let drop = engine.evaluate(DROP_RULE, &as_input)?;
        if drop.map(|d| d.to_json()).transpose()? == Some(serde_json::Value::Bool(true)) {
            return Ok(None);
        }
        if let Some(mask) = engine.evaluate(MASK_RULE, &as_input)? {
            apply_mask(&mut event, &mask.to_json()?)?;
        }
        Ok(Some(event))
    }
}

struct EventParts {
    decision_id: String,
    path: String,
    input: Option<serde_json::Value>,
    result: Option<serde_json::Value>,
    requested_by: Option<String>,
    timestamp: String,
    eval_ns: u64,
}

fn mask_err(reason: String) -> Error {
    Error::Evaluation {
        query: MASK_RULE.into(),
        message: reason,
    }
}

/// Splits `/input/a/b` into the top field and RFC 6901 unescaped segments.
fn pointer(path: &str) -> Result<(&'static str, Vec<String>)> {
    let mut segs = path
        .strip_prefix('/')
        .ok_or_else(|| mask_err(format!("mask path {path:?} is not a JSON pointer")))?
        .split('/')
        .map(|s| s.replace("~1", "/").replace("~0", "~"));
    let top = match segs.next().as_deref() {
        Some("input") => "input",
        Some("result") => "result",
        _ => {
            return Err(mask_err(format!(
                "mask path {path:?} must start with /input or /result"
            )));
        }
    };
    Ok((top, segs.collect()))
}

fn apply_mask(event: &mut DecisionEvent, mask: &serde_json::Value) -> Result<()> {
    let items = match mask {
        serde_json::Value::Array(items) => items.clone(),
        other => return Err(mask_err(format!("{MASK_RULE} must be a set, got {other}"))),
    };
    let mut erased = Vec::new();
    let mut masked = Vec::new();
    for item in items {
        let (op, path, value) = match &item {
            serde_json::Value::String(p) => ("remove", p.clone(), None),
            serde_json::Value::Object(o) => {
                let op = o.get("op").and_then(|v| v.as_str()).unwrap_or("remove");
                let path = o
                    .get("path")
                    .and_then(|v| v.as_str())
                    .ok_or_else(|| mask_err(format!("mask entry {item} has no path")))?;
                let op = match op {
                    "remove" => "remove",
                    "upsert" => "upsert",
                    other => {
                        return Err(mask_err(format!(
                            "mask op {other:?} (expected remove or upsert)"
                        )));
                    }
                };
                (op, path.to_owned(), o.get("value").cloned())
            }
            other => {
                return Err(mask_err(format!(
                    "mask entry {other} is neither a path nor an object"
                )));
            }
        };
        let (top, segs) = pointer(&path)?;
        let slot = if top == "input" {
            &mut event.input
        } else {
            &mut event.result
        };
        if segs.is_empty() {
            // The whole input or result.
            if op == "remove" {
                if slot.take().is_some() {
                    erased.push(path);
                }
            } else {
                *slot = Some(value.unwrap_or(serde_json::Value::Null));
                masked.push(path);
            }
            continue;
        }
        let (last, parents) = segs.split_last().unwrap_or((&segs[0], &[]));
        let Some(obj) = slot.as_mut().and_then(|root| parent_object(root, parents)) else {
            continue; // nothing there to mask, as in OPA
        };
        if op == "remove" {
            if obj.remove(last).is_some() {
                erased.push(path);
            }
        } else {
            obj.insert(last.clone(), value.unwrap_or(serde_json::Value::Null));
            masked.push(path);
        }
    }
    erased.sort();
    erased.dedup();
    masked.sort();
    masked.dedup();
    event.erased = erased;
    event.masked = masked;
    Ok(())
}

fn parent_object<'a>(
    mut node: &'a mut serde_json::Value,
    parents: &[String],
) -> Option<&'a mut serde_json::Map<String, serde_json::Value>> {
    for seg in parents {
        node = node.as_object_mut()?.get_mut(seg)?;
    }
    node.as_object_mut()
}

/// Writes decision-log events as JSON lines (one compact JSON object per
/// line, `\n`-terminated), flushing after each event so a crash loses at
/// most the event being written.
#[derive(Debug)]
pub struct JsonLinesWriter<W: Write> {
    out: W,
}

impl<W: Write> JsonLinesWriter<W> {
    /// Wraps a writer (a file opened for append, a socket, a buffer).
    pub fn new(out: W) -> Self {
        JsonLinesWriter { out }
    }

    /// Writes one event.
    pub fn write(&mut self, event: &DecisionEvent) -> Result<()> {
        let mut line = serde_json::to_vec(event).map_err(|e| mask_err(e.to_string()))?;
        line.push(b'\n');
        let io = |e: std::io::Error| {
            Error::Core(cos_core::Error::Io {
                op: "write decision log",
                path: std::path::PathBuf::from("<decision log>"),
                source: e,
            })
        };
        self.out.write_all(&line).map_err(io)?;
        self.out.flush().map_err(io)
    }

    /// Returns the inner writer.
    pub fn into_inner(self) -> W {
        self.out
    }
}

impl JsonLinesWriter<std::fs::File> {
    /// Opens the decision-log file at `path` for appending (created if it
    /// does not exist; existing events are kept).
    pub fn append(path: impl AsRef<std::path::Path>) -> Result<Self> {
        let path = path.as_ref();
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|source| {
                Error::Core(cos_core::Error::Io {
                    op: "open decision log",
                    path: path.to_path_buf(),
                    source,
                })
            })?;
        Ok(JsonLinesWriter::new(file))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::EngineOptions;

    #[test]
    fn append_keeps_earlier_events_and_reports_unopenable_paths() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("decisions.jsonl");
        std::fs::write(&path, "{\"earlier\":true}\n").unwrap();
        let w = JsonLinesWriter::append(&path).unwrap();
        drop(w);
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "{\"earlier\":true}\n"
        );
        let e = JsonLinesWriter::append(dir.path().join("no/such/dir/x.jsonl")).unwrap_err();
        assert_eq!(e.code(), "io");
    }
    use crate::bundle::pack::{Limits, Pack, PackFiles};
    use serde_json::json;

    fn engine(log_policy: &str) -> PolicyEngine {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("manifest.yaml"),
            "name: t\nversion: 1.0.0\nrevision: r9\nroots: [t, system/log]\nentrypoints: {d: t/decision}\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("p.rego"),
            "package t\n\ndecision := {\"allow\": input.user == \"alice\", \"reasons\": [], \"obligations\": []}\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("log.rego"), log_policy).unwrap();
        let pack =
            Pack::from_files(PackFiles::from_dir(dir.path(), &Limits::default()).unwrap()).unwrap();
        PolicyEngine::new(&pack, EngineOptions::default()).unwrap()
    }

    const LOG_POLICY: &str = r#"package system.log

mask contains "/input/password"

mask contains {"op": "upsert", "path": "/input/card", "value": "****"} if input.input.card

mask contains "/input/absent"

drop if input.input.user == "healthcheck"
"#;

    #[test]
    fn masks_drops_and_writes() {
        let e = engine(LOG_POLICY);
        let logger =
            DecisionLogger::new(BTreeMap::from([("app".to_owned(), "billing".to_owned())]));
        let input = json!({"user": "alice", "password": "hunter2", "card": "4111111111111111"});
        let d = e.decide("d", &input).unwrap();
        let ev = logger
            .event_for_decision(&e, &d, Some(&input), Some("10.0.0.1"))
            .unwrap()
            .unwrap();
        assert_eq!(ev.input, Some(json!({"user": "alice", "card": "****"})));
        assert_eq!(ev.erased, ["/input/password"]);
        assert_eq!(ev.masked, ["/input/card"]);
        assert_eq!(ev.bundles["t"].revision, "r9");
        assert_eq!(ev.path, "t/decision");
        assert_eq!(ev.decision_id, d.decision_id);
        assert_eq!(ev.labels["app"], "billing");
        assert_eq!(ev.result.as_ref().unwrap()["allow"], true);
        assert!(ev.metrics.contains_key("timer_rego_query_eval_ns"));

        let hc = json!({"user": "healthcheck"});
        let d = e.decide("d", &hc).unwrap();
        assert!(
            logger
                .event_for_decision(&e, &d, Some(&hc), None)
                .unwrap()
                .is_none()
        );

        let mut w = JsonLinesWriter::new(Vec::new());
        w.write(&ev).unwrap();
        w.write(&ev).unwrap();
        let out = String::from_utf8(w.into_inner()).unwrap();
        assert_eq!(out.lines().count(), 2);
        let back: DecisionEvent = serde_json::from_str(out.lines().next().unwrap()).unwrap();
        assert_eq!(back, ev);
        assert!(!out.contains("hunter2"));
    }

    #[test]
    fn no_log_policy_means_no_masking() {
        let e = engine("package system.log\n\nunused := 1\n");
        let logger = DecisionLogger::new(BTreeMap::new());
        let input = json!({"user": "bob", "password": "x"});
        let ev = logger
            .event_for_result(&e, "t/decision", Some(&input), None, 5)
            .unwrap()
            .unwrap();
        assert_eq!(ev.input, Some(input));
        assert!(ev.erased.is_empty() && ev.masked.is_empty());
        assert!(ev.result.is_none());
    }

    #[test]
    fn bad_mask_paths_are_errors() {
        let e = engine("package system.log\n\nmask contains \"/labels/id\"\n");
        let logger = DecisionLogger::new(BTreeMap::new());
        let err = logger
            .event_for_result(&e, "t/decision", Some(&json!({})), None, 0)
            .unwrap_err();
        assert!(
            err.to_string()
                .contains("must start with /input or /result"),
            "{err}"
        );
    }

    #[test]
    fn failed_decisions_are_events_with_their_error_and_the_pack_rules_apply() {
        let e = engine(
            "package system.log\n\nmask contains \"/input/password\"\n\ndrop if input.input.quiet\n",
        );
        let logger = DecisionLogger::new(BTreeMap::new());
        let error = EventError {
            code: "timeout".into(),
            message: "evaluation exceeded its time limit".into(),
        };
        let input = json!({"password": "x", "user": "bob"});
        let ev = logger
            .event_for_error(Some(&e), "t/decision", Some(&input), &error, 3)
            .unwrap()
            .unwrap();
        assert_eq!(ev.error.as_ref(), Some(&error));
        assert_eq!(ev.input, Some(json!({"user": "bob"})));
        assert_eq!(ev.erased, vec!["/input/password"]);
        assert_eq!(ev.bundles["t"].revision, "r9");
        let line = serde_json::to_value(&ev).unwrap();
        assert_eq!(
            line["error"],
            json!({"code": "timeout", "message": "evaluation exceeded its time limit"})
        );
        assert!(line.get("custom").is_none() && line.get("result").is_none());
        // Dropped by the pack's drop rule like any other event.
        let quiet = json!({"quiet": true});
        assert!(
            logger
                .event_for_error(Some(&e), "t/decision", Some(&quiet), &error, 3)
                .unwrap()
                .is_none()
        );
        // No engine: no bundle, no rule to apply.
        let bare = logger
            .event_for_error(None, "t/decision", None, &error, 0)
            .unwrap()
            .unwrap();
        assert!(bare.bundles.is_empty() && bare.input.is_none());
        assert_eq!(
            EventError::from(&Error::Timeout {
                query: "q".into(),
                limit_ms: 1
            })
            .code,
            "timeout"
        );
    }
}
