//! `companyos.policy.Dlp`: cos_policy::dlp, mapped.

use pyo3::prelude::*;

use crate::{from_py, policy_err, to_json, to_py};

/// Data loss prevention (cos_policy::dlp::Dlp): find and redact, mask,
/// replace, hash or drop personal data and secrets in text and JSON.
#[pyclass(frozen, module = "companyos._native")]
pub(crate) struct Dlp(cos_policy::dlp::Dlp);

fn redacted<'py, T: serde::Serialize>(
    py: Python<'py>,
    r: &cos_policy::dlp::Redacted<T>,
) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyAny>)> {
    Ok((to_py(py, &r.output)?, to_py(py, &r.report)?))
}

#[pymethods]
impl Dlp {
    /// `config` is a DlpConfig dict (detectors, without, patterns,
    /// operators, default_operator, named_operators, redact_template,
    /// max_input_bytes, max_depth); `hash_key` enables the `hash` operator.
    #[new]
    #[pyo3(signature = (config = None, hash_key = None))]
    fn new(config: Option<&Bound<'_, PyAny>>, hash_key: Option<Vec<u8>>) -> PyResult<Self> {
        let config: cos_policy::dlp::DlpConfig = match config {
            Some(c) => from_py(c, "DLP configuration")?,
            None => Default::default(),
        };
        config
            .build(hash_key.as_deref())
            .map(Dlp)
            .map_err(policy_err)
    }

    /// The entities in `text`: `[{"entity", "span": {"start", "end"}, ...}]`
    /// (spans are UTF-8 byte offsets).
    fn scan<'py>(&self, py: Python<'py>, text: &str) -> PyResult<Bound<'py, PyAny>> {
        let found = py.detach(|| self.0.scan(text)).map_err(policy_err)?;
        to_py(py, &found)
    }

    /// `(redacted text, report)`.
    fn redact_text<'py>(
        &self,
        py: Python<'py>,
        text: &str,
    ) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyAny>)> {
        let r = py.detach(|| self.0.redact_text(text)).map_err(policy_err)?;
        redacted(py, &r)
    }

    /// `(redacted document, report)`: `rules` is a FieldRulesConfig dict
    /// (`{"scan_strings": bool, "fields": [{"path", "operator", "class"?, "classification"?}]}`).
    #[pyo3(signature = (doc, rules = None))]
    fn redact_json<'py>(
        &self,
        py: Python<'py>,
        doc: &Bound<'py, PyAny>,
        rules: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyAny>)> {
        let config: cos_policy::dlp::FieldRulesConfig = match rules {
            Some(r) => from_py(r, "field rules configuration")?,
            None => Default::default(),
        };
        let rules = config.build().map_err(policy_err)?;
        let doc = to_json(doc, 0)?;
        let r = py
            .detach(|| self.0.redact_json(&doc, &rules))
            .map_err(policy_err)?;
        redacted(py, &r)
    }

    /// `(document, report)` after the `redact` obligations of a decision
    /// (a list of obligation dicts, e.g. `decision["obligations"]`).
    fn apply_obligations<'py>(
        &self,
        py: Python<'py>,
        doc: &Bound<'py, PyAny>,
        obligations: &Bound<'py, PyAny>,
    ) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyAny>)> {
        let obligations: Vec<cos_policy::Obligation> = from_py(obligations, "list of obligations")?;
        let doc = to_json(doc, 0)?;
        let r = py
            .detach(|| self.0.apply_obligations(&doc, &obligations))
            .map_err(policy_err)?;
        redacted(py, &r)
    }
}
