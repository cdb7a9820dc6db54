//! The policy engine: compile a pack once, evaluate many times, from any
//! number of threads.

use std::time::{Duration, Instant, SystemTime};

use crate::decision::{Decision, PackRef, rfc3339, uuid_v4};
use crate::error::{Error, Result};
use crate::manifest::under_root;
use crate::pack::Pack;

/// How an engine evaluates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EngineOptions {
    /// Fail an evaluation when a builtin fails (OPA's
    /// `--strict-builtin-errors`). Off by default, as in OPA: a failing
    /// builtin makes its expression undefined.
    pub strict_builtin_errors: bool,
    /// Wall-clock limit for one evaluation; `None` for no limit.
    pub time_limit: Option<Duration>,
}

impl Default for EngineOptions {
    /// OPA's defaults, and a 1 s time limit per evaluation.
    fn default() -> Self {
        EngineOptions {
            strict_builtin_errors: false,
            time_limit: Some(Duration::from_secs(1)),
        }
    }
}

/// A compiled pack, ready to evaluate. Cloning is cheap (shared compiled
/// policy); `PolicyEngine` is `Send + Sync`, so one engine can serve every
/// thread.
///
/// ```
/// use cos_policy::{Pack, PolicyEngine, EngineOptions};
/// # let dir = tempfile::tempdir().unwrap();
/// # std::fs::write(dir.path().join("manifest.yaml"), "name: demo\nversion: 0.1.0\nroots: [demo]\nentrypoints: {authz: demo/decision}\n").unwrap();
/// # std::fs::write(dir.path().join("authz.rego"), r#"
/// # package demo
/// # default decision := {"allow": false, "reasons": [{"code": "NOT_ADMIN", "message": "not an admin"}]}
/// # decision := {"allow": true, "reasons": []} if input.user == "alice"
/// # "#).unwrap();
/// let pack = Pack::load(dir.path(), &Default::default())?;
/// let engine = PolicyEngine::new(&pack, EngineOptions::default())?;
///
/// let d = engine.decide("authz", &serde_json::json!({"user": "bob"}))?;
/// assert!(!d.allow);
/// assert_eq!(d.reason_codes(), ["NOT_ADMIN"]);
///
/// // Any document, with OPA's "undefined" semantics.
/// assert_eq!(engine.evaluate("data.demo.nothing", &serde_json::json!({}))?, None);
/// # Ok::<(), cos_policy::Error>(())
/// ```
#[derive(Clone)]
pub struct PolicyEngine {
    engine: regorus::Engine,
    pack: PackRef,
    manifest: crate::manifest::Manifest,
    options: EngineOptions,
}

impl std::fmt::Debug for PolicyEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PolicyEngine")
            .field("pack", &self.pack)
            .field("options", &self.options)
            .finish()
    }
}

/// Turns `data.a.b`, `a.b`, `a/b`, `/a/b` or `data/a/b` into a Rego
/// reference `data.a.b` (segments that are not identifiers in brackets).
pub fn to_rego_ref(query: &str) -> Result<String> {
    let bad = |reason: &str| Error::InvalidQuery {
        query: query.chars().take(200).collect(),
        reason: reason.to_owned(),
    };
    let q = query.trim();
    let segments: Vec<&str> = if q.contains('/') || !q.contains('.') && !q.starts_with("data") {
        q.trim_start_matches('/').split('/').collect()
    } else {
        q.split('.').collect()
    };
    let segments: Vec<&str> = match segments.first() {
        Some(&"data") => segments[1..].to_vec(),
        _ => segments,
    };
    let segments: Vec<&str> = segments.into_iter().filter(|s| !s.is_empty()).collect();
    let mut out = String::from("data");
    for seg in segments {
        if seg.chars().any(char::is_control) {
            return Err(bad("control characters in path"));
        }
        let ident = seg
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && seg.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if ident {
            out.push('.');
            out.push_str(seg);
        } else {
            out.push('[');
            out.push_str(&serde_json::to_string(seg).map_err(|_| bad("unencodable segment"))?);
            out.push(']');
        }
    }
    Ok(out)
}

/// OPA accepts `import future.keywords…` next to `import rego.v1` (which
/// implies them); regorus rejects the pair. Blank the redundant imports,
/// keeping line numbers, when `rego.v1` is imported.
fn without_redundant_future_imports(src: &str) -> String {
    let is_import = |l: &str, what: &str| {
        let mut w = l.split_whitespace();
        w.next() == Some("import")
            && w.next()
                .is_some_and(|x| x == what || x.starts_with(&format!("{what}.")))
    };
    if !src.lines().any(|l| is_import(l, "rego.v1")) {
        return src.to_owned();
    }
    src.split_inclusive('\n')
        .map(|l| {
            if is_import(l, "future.keywords") {
                if l.ends_with('\n') { "\n" } else { "" }
            } else {
                l
            }
        })
        .collect()
}

fn package_path(pkg: &str) -> String {
    // regorus reports packages as "data.a.b"; roots are "a/b".
    pkg.strip_prefix("data.").unwrap_or(pkg).replace('.', "/")
}

impl PolicyEngine {
    /// Compiles a pack: every policy module (tests excluded) and its data.
    pub fn new(pack: &Pack, options: EngineOptions) -> Result<Self> {
        Self::build(pack, options, false)
    }

    /// Compiles a pack with its test modules as well (for the test runner).
    pub fn with_tests(pack: &Pack, options: EngineOptions) -> Result<Self> {
        Self::build(pack, options, true)
    }

    fn build(pack: &Pack, options: EngineOptions, tests: bool) -> Result<Self> {
        let manifest = pack.manifest().clone();
        let mut engine = regorus::Engine::new();
        engine.set_rego_v0(manifest.rego_version == 0);
        engine.set_strict_builtin_errors(options.strict_builtin_errors);
        if let Some(limit) = options.time_limit {
            engine.set_execution_timer_config(regorus::utils::limits::ExecutionTimerConfig {
                limit,
                check_interval: std::num::NonZeroU32::MIN.saturating_add(63),
            });
        }
        // The sources regorus compiles (with OPA-accepted forms it rejects
        // rewritten), checked before compiling for what OPA would refuse.
        let modules: Vec<crate::pack::Module> = pack
            .modules()
            .iter()
            .chain(if tests { pack.tests() } else { &[] })
            .map(|m| crate::pack::Module {
                path: m.path.clone(),
                source: without_redundant_future_imports(&m.source),
            })
            .collect();
        crate::builtins::check_modules(&modules)?;
        for m in &modules {
            crate::parity::check_module(m, manifest.rego_version == 1)?;
        }
        for m in &modules {
            let source = m.source.clone();
            let pkg = engine
                .add_policy(m.path.clone(), source)
                .map_err(|e| Error::Compile {
                    path: m.path.clone(),
                    message: e.to_string(),
                })?;
            let is_test = tests && pack.tests().iter().any(|t| t.path == m.path);
            let p = package_path(&pkg);
            if !is_test
                && !manifest.roots.is_empty()
                && !manifest.roots.iter().any(|r| under_root(&p, r))
            {
                return Err(Error::Compile {
                    path: m.path.clone(),
                    message: format!(
                        "package {pkg} is outside the pack's roots ({})",
                        manifest.roots.join(", ")
                    ),
                });
            }
        }
        engine
            .add_data(regorus::Value::from(pack.data().clone()))
            .map_err(|e| Error::InvalidPack {
                reason: format!("data rejected by the engine: {e}"),
            })?;
        // regorus analyses and schedules the modules lazily, on the first
        // evaluation; do it once here so that every clone starts prepared
        // (otherwise each evaluation would redo it: 2x the cost).
        engine
            .eval_query("true".to_owned(), false)
            .map_err(|e| Error::Compile {
                path: "(pack)".into(),
                message: e.to_string(),
            })?;
        Ok(PolicyEngine {
            engine,
            pack: PackRef {
                name: manifest.name.clone(),
                version: manifest.version.to_string(),
                revision: manifest.revision.clone(),
                digest: pack.digest().to_string(),
            },
            manifest,
            options,
        })
    }

    /// The pack this engine evaluates.
    pub fn pack(&self) -> &PackRef {
        &self.pack
    }

    /// The pack's manifest.
    pub fn manifest(&self) -> &crate::manifest::Manifest {
        &self.manifest
    }

    /// Evaluates a document (`data.a.b`, `a/b`) for an input, with OPA's
    /// Data API semantics: `Ok(None)` when the document is undefined (no
    /// such rule, or no rule body held), `Ok(Some(value))` otherwise.
    /// Conflicts, and builtin errors in strict mode, are errors.
    pub fn evaluate(
        &self,
        query: &str,
        input: &serde_json::Value,
    ) -> Result<Option<serde_json::Value>> {
        self.evaluate_opt(query, Some(input))
    }

    /// Like [`PolicyEngine::evaluate`]; with `None`, `input` is undefined
    /// (as when OPA's Data API is called without an input).
    pub fn evaluate_opt(
        &self,
        query: &str,
        input: Option<&serde_json::Value>,
    ) -> Result<Option<serde_json::Value>> {
        let mut engine = self.engine.clone();
        if let Some(input) = input {
            engine.set_input(regorus::Value::from(input.clone()));
        }
        self.eval_on(&mut engine, query)
    }

    /// Evaluates on a given (cloned) regorus engine, which keeps whatever
    /// the evaluation recorded (coverage).
    pub(crate) fn eval_on(
        &self,
        engine: &mut regorus::Engine,
        query: &str,
    ) -> Result<Option<serde_json::Value>> {
        let rego_ref = to_rego_ref(query)?;
        // eval_rule skips parsing a query (a third of the cost of a small
        // decision) but fails where OPA answers "undefined" (package paths,
        // missing rules); eval_query then gives OPA's answer, or the same
        // evaluation error again.
        if let Ok(value) = engine.eval_rule(rego_ref.clone()) {
            return self.to_json(query, value);
        }
        let results = engine
            .eval_query(rego_ref, false)
            .map_err(|e| self.eval_error(query, e))?;
        let Some(first) = results.result.into_iter().next() else {
            return Ok(None);
        };
        let Some(expr) = first.expressions.into_iter().next() else {
            return Ok(None);
        };
        self.to_json(query, expr.value)
    }

    fn to_json(&self, query: &str, value: regorus::Value) -> Result<Option<serde_json::Value>> {
        if value == regorus::Value::Undefined {
            return Ok(None);
        }
        let json = serde_json::to_value(&value).map_err(|e| Error::Evaluation {
            query: query.to_owned(),
            message: format!("result is not JSON: {e}"),
        })?;
        Ok(Some(json))
    }

    /// A private copy of the compiled engine (for runs that record state).
    pub(crate) fn raw_clone(&self) -> regorus::Engine {
        self.engine.clone()
    }

    fn eval_error(&self, query: &str, e: impl std::fmt::Display) -> Error {
        let message = e.to_string();
        if message.contains("exceeded time limit") {
            Error::Timeout {
                query: query.to_owned(),
                limit_ms: self
                    .options
                    .time_limit
                    .map(|d| d.as_millis() as u64)
                    .unwrap_or_default(),
            }
        } else {
            Error::Evaluation {
                query: query.to_owned(),
                message,
            }
        }
    }

    /// Evaluates a named entrypoint of the pack and reads its decision
    /// document (`{allow, reasons, obligations}`).
    pub fn decide(&self, entrypoint: &str, input: &serde_json::Value) -> Result<Decision> {
        let path = self.manifest.entrypoint(entrypoint)?.to_owned();
        self.decide_path(&path, input)
    }

    /// Like [`PolicyEngine::decide`], for a document path. An undefined
    /// document is a denial with reason `UNDEFINED`.
    pub fn decide_path(&self, path: &str, input: &serde_json::Value) -> Result<Decision> {
        let timestamp = rfc3339(SystemTime::now());
        let start = Instant::now();
        let doc = self.evaluate(path, input)?;
        let eval_ns = start.elapsed().as_nanos() as u64;
        let (allow, reasons, obligations) = match doc {
            Some(doc) => Decision::from_document(path, &doc)?,
            None => (
                false,
                vec![crate::decision::Reason {
                    code: "UNDEFINED".into(),
                    message: format!("{path} is undefined for this input"),
                }],
                Vec::new(),
            ),
        };
        Ok(Decision {
            allow,
            reasons,
            obligations,
            path: path.to_owned(),
            pack: self.pack.clone(),
            decision_id: uuid_v4(),
            timestamp,
            eval_ns,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pack::{Limits, PackFiles};
    use serde_json::json;

    fn engine_with(policy: &str, options: EngineOptions) -> Result<PolicyEngine> {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("manifest.yaml"),
            "name: t\nversion: 1.0.0\nroots: [t]\nentrypoints: {d: t/decision}\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("p.rego"), policy).unwrap();
        std::fs::create_dir(dir.path().join("data")).unwrap();
        std::fs::write(dir.path().join("data/t.json"), r#"{"admins": ["alice"]}"#).unwrap();
        let pack = Pack::from_files(PackFiles::from_dir(dir.path(), &Limits::default())?)?;
        PolicyEngine::new(&pack, options)
    }

    #[test]
    fn refs() {
        assert_eq!(to_rego_ref("data.a.b").unwrap(), "data.a.b");
        assert_eq!(to_rego_ref("a/b").unwrap(), "data.a.b");
        assert_eq!(to_rego_ref("/a/b-c").unwrap(), "data.a[\"b-c\"]");
        assert_eq!(to_rego_ref("data").unwrap(), "data");
        assert_eq!(to_rego_ref("data/x/9").unwrap(), "data.x[\"9\"]");
    }

    #[test]
    fn undefined_is_not_an_error() {
        let e = engine_with(
            "package t\n\nallow if input.user in data.t.admins\n",
            EngineOptions::default(),
        )
        .unwrap();
        assert_eq!(
            e.evaluate("data.t.allow", &json!({"user": "alice"}))
                .unwrap(),
            Some(json!(true))
        );
        assert_eq!(
            e.evaluate("data.t.allow", &json!({"user": "bob"})).unwrap(),
            None
        );
        assert_eq!(e.evaluate("data.t.missing", &json!({})).unwrap(), None);
        assert_eq!(e.evaluate("data.nope.x", &json!({})).unwrap(), None);
        assert_eq!(
            e.evaluate("data.t.admins", &json!({})).unwrap(),
            Some(json!(["alice"]))
        );
        // No input at all: `input` is undefined, not null.
        assert_eq!(e.evaluate_opt("data.t.allow", None).unwrap(), None);
        let d = e.decide_path("t/missing", &json!({})).unwrap();
        assert!(!d.allow);
        assert_eq!(d.reason_codes(), ["UNDEFINED"]);
        assert_eq!(
            e.decide("nope", &json!({})).unwrap_err().code(),
            "unknown_entrypoint"
        );
    }

    #[test]
    fn conflicts_and_builtin_errors() {
        let e = engine_with(
            "package t\n\nx := 1 if input.a\nx := 2 if input.b\n",
            EngineOptions::default(),
        )
        .unwrap();
        assert_eq!(
            e.evaluate("data.t.x", &json!({"a": true})).unwrap(),
            Some(json!(1))
        );
        assert_eq!(
            e.evaluate("data.t.x", &json!({"a": true, "b": true}))
                .unwrap_err()
                .code(),
            "evaluation_error"
        );

        let policy = "package t\n\ny := to_number(input.s)\n";
        let lax = engine_with(policy, EngineOptions::default()).unwrap();
        assert_eq!(lax.evaluate("data.t.y", &json!({"s": "x"})).unwrap(), None);
        let strict = engine_with(
            policy,
            EngineOptions {
                strict_builtin_errors: true,
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(
            strict
                .evaluate("data.t.y", &json!({"s": "x"}))
                .unwrap_err()
                .code(),
            "evaluation_error"
        );
        assert_eq!(
            strict.evaluate("data.t.y", &json!({"s": "3"})).unwrap(),
            Some(json!(3))
        );
    }

    #[test]
    fn time_limit() {
        let slow = "package t\n\nr := numbers.range(1, 5000)\n\nn := count([1 | some i in r; some j in r; i > j])\n";
        let e = engine_with(
            slow,
            EngineOptions {
                time_limit: Some(Duration::from_millis(20)),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(
            e.evaluate("data.t.n", &json!({})).unwrap_err().code(),
            "timeout"
        );
    }

    #[test]
    fn future_keywords_next_to_rego_v1() {
        let e = engine_with(
            "package t\n\nimport future.keywords.if\nimport future.keywords.in\nimport rego.v1\n\nallow if \"alice\" in data.t.admins\n",
            EngineOptions::default(),
        )
        .unwrap();
        assert_eq!(
            e.evaluate("data.t.allow", &json!({})).unwrap(),
            Some(json!(true))
        );
        let src = "package t\nimport future.keywords\nimport rego.v1\nx := 1";
        assert_eq!(
            without_redundant_future_imports(src),
            "package t\n\nimport rego.v1\nx := 1"
        );
        assert_eq!(
            without_redundant_future_imports("import future.keywords.if\n"),
            "import future.keywords.if\n"
        );
    }

    #[test]
    fn unsupported_builtins_refused_at_load() {
        let e = engine_with(
            "package t\n\nclaims := io.jwt.decode(input.token)\n",
            EngineOptions::default(),
        )
        .unwrap_err();
        assert!(e.to_string().contains("io.jwt.decode"), "{e}");
    }

    #[test]
    fn compile_errors_and_roots() {
        let e = engine_with("package t\n\nallow if {\n", EngineOptions::default()).unwrap_err();
        assert_eq!(e.code(), "compile_error");
        assert!(e.to_string().contains("p.rego"), "{e}");
        let e =
            engine_with("package other\n\nallow := true\n", EngineOptions::default()).unwrap_err();
        assert!(e.to_string().contains("outside the pack's roots"), "{e}");
    }

    #[test]
    fn shared_across_threads() {
        let e = engine_with(
            "package t\n\ndefault decision := {\"allow\": false, \"reasons\": [{\"code\": \"NO\", \"message\": \"no\"}]}\n\ndecision := {\"allow\": true} if input.user in data.t.admins\n",
            EngineOptions::default(),
        )
        .unwrap();
        std::thread::scope(|s| {
            for i in 0..4 {
                let e = &e;
                s.spawn(move || {
                    for j in 0..50 {
                        let user = if (i + j) % 2 == 0 { "alice" } else { "bob" };
                        let d = e.decide("d", &json!({"user": user})).unwrap();
                        assert_eq!(d.allow, user == "alice");
                        assert_eq!(d.pack.name, "t");
                    }
                });
            }
        });
    }
}
