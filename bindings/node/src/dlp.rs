//! `Dlp`: cos_policy::dlp, mapped.

use std::sync::Arc;

use napi::bindgen_prelude::AsyncTask;
use napi::{Env, ScopedTask, Unknown};
use napi_derive::napi;
use serde_json::Value;

use crate::{
    Bytes, Result, bytes, from_value, json_arg, json_opt, json_out, policy_err, rejection,
};

/// `{output, report}` of a redaction.
#[derive(serde::Serialize)]
struct RedactedView<'a, T> {
    output: &'a T,
    report: &'a cos_policy::dlp::Report,
}

fn view<T>(r: &cos_policy::dlp::Redacted<T>) -> RedactedView<'_, T> {
    RedactedView {
        output: &r.output,
        report: &r.report,
    }
}

fn rules(v: Option<Value>) -> Result<cos_policy::dlp::FieldRules> {
    let config: cos_policy::dlp::FieldRulesConfig = match v {
        Some(v) => from_value(v, "field rules configuration")?,
        None => Default::default(),
    };
    config.build().map_err(policy_err)
}

/// Data loss prevention: find and redact, mask, replace, hash or drop
/// personal data and secrets in text and JSON documents.
#[napi]
pub struct Dlp(Arc<cos_policy::dlp::Dlp>);

#[napi]
impl Dlp {
    /// `config` is a DLP configuration (`detectors`, `without`, `patterns`,
    /// `operators`, `default_operator`, `named_operators`,
    /// `redact_template`, `max_input_bytes`, `max_depth`); `hashKey` enables
    /// the `hash` operator.
    #[napi(constructor)]
    pub fn new(env: &Env, config: Option<Unknown<'_>>, hash_key: Option<Bytes>) -> Result<Self> {
        let config: cos_policy::dlp::DlpConfig = match json_opt(env, config)? {
            Some(v) => from_value(v, "DLP configuration")?,
            None => Default::default(),
        };
        config
            .build(hash_key.as_ref().map(bytes))
            .map(|d| Dlp(Arc::new(d)))
            .map_err(policy_err)
    }

    /// The entities in `text` (spans are UTF-8 byte offsets).
    #[napi(ts_return_type = "Detection[]")]
    pub fn scan<'e>(&self, env: &'e Env, text: String) -> Result<Unknown<'e>> {
        json_out(env, &self.0.scan(&text).map_err(policy_err)?)
    }

    /// `{output, report}`: the text with its findings transformed.
    #[napi(ts_return_type = "Redacted<string>")]
    pub fn redact_text<'e>(&self, env: &'e Env, text: String) -> Result<Unknown<'e>> {
        let r = self.0.redact_text(&text).map_err(policy_err)?;
        json_out(env, &view(&r))
    }

    /// `redactText` on the libuv thread pool.
    #[napi(ts_return_type = "Promise<Redacted<string>>")]
    pub fn redact_text_async(&self, text: String) -> AsyncTask<Redact> {
        AsyncTask::new(Redact {
            dlp: Arc::clone(&self.0),
            job: Job::Text(text),
        })
    }

    /// `{output, report}`: the document with `rules` applied and other
    /// strings scanned.
    #[napi(ts_return_type = "Redacted<any>")]
    pub fn redact_json<'e>(
        &self,
        env: &'e Env,
        doc: Unknown<'_>,
        rules: Option<Unknown<'_>>,
    ) -> Result<Unknown<'e>> {
        let doc = json_arg(env, doc, "doc")?;
        let rules = self::rules(json_opt(env, rules)?)?;
        let r = self.0.redact_json(&doc, &rules).map_err(policy_err)?;
        json_out(env, &view(&r))
    }

    /// `redactJson` on the libuv thread pool.
    #[napi(ts_return_type = "Promise<Redacted<any>>")]
    pub fn redact_json_async(
        &self,
        env: &Env,
        doc: Unknown<'_>,
        rules: Option<Unknown<'_>>,
    ) -> Result<AsyncTask<Redact>> {
        let doc = json_arg(env, doc, "doc")?;
        let rules = self::rules(json_opt(env, rules)?)?;
        Ok(AsyncTask::new(Redact {
            dlp: Arc::clone(&self.0),
            job: Job::Json(doc, rules),
        }))
    }

    /// `{output, report}` after the `redact` obligations of a decision.
    #[napi(ts_return_type = "Redacted<any>")]
    pub fn apply_obligations<'e>(
        &self,
        env: &'e Env,
        doc: Unknown<'_>,
        obligations: Unknown<'_>,
    ) -> Result<Unknown<'e>> {
        let doc = json_arg(env, doc, "doc")?;
        let obligations: Vec<cos_policy::Obligation> = from_value(
            json_arg(env, obligations, "obligations")?,
            "list of obligations",
        )?;
        let r = self
            .0
            .apply_obligations(&doc, &obligations)
            .map_err(policy_err)?;
        json_out(env, &view(&r))
    }
}

/// What a `Redact` task does (public: it appears in the task type).
pub enum Job {
    Text(String),
    Json(Value, cos_policy::dlp::FieldRules),
}

/// A redaction off the main thread.
pub struct Redact {
    dlp: Arc<cos_policy::dlp::Dlp>,
    job: Job,
}

/// A redaction's result, text or document.
pub enum Done {
    Text(cos_policy::dlp::Redacted<String>),
    Json(cos_policy::dlp::Redacted<Value>),
}

impl<'task> ScopedTask<'task> for Redact {
    type Output = std::result::Result<Done, cos_policy::DlpError>;
    type JsValue = Unknown<'task>;

    fn compute(&mut self) -> napi::Result<Self::Output> {
        Ok(match &self.job {
            Job::Text(t) => self.dlp.redact_text(t).map(Done::Text),
            Job::Json(doc, rules) => self.dlp.redact_json(doc, rules).map(Done::Json),
        })
    }

    fn resolve(&mut self, env: &'task Env, output: Self::Output) -> napi::Result<Unknown<'task>> {
        let done = output.map_err(|e| rejection(env, e.code(), e.to_string()))?;
        let out = match &done {
            Done::Text(r) => json_out(env, &view(r)),
            Done::Json(r) => json_out(env, &view(r)),
        };
        out.map_err(|e| rejection(env, e.status, e.reason))
    }
}
