//! The policy engine: compile a pack once, evaluate many times, from any
//! number of threads.

pub(crate) mod builtins;
pub(crate) mod dates;
pub(crate) mod exact_json;
pub(crate) mod glob;
pub(crate) mod json_numbers;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant, SystemTime};

use regorus::languages::rego::compiler::Compiler as VmCompiler;
use regorus::rvm::vm::RegoVM;

use crate::bundle::manifest::under_root;
use crate::bundle::pack::Pack;
use crate::decision::{Decision, PackRef, rfc3339, uuid_v4};
use crate::error::{Error, Result};

/// How an engine evaluates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EngineOptions {
    /// Fail an evaluation when a builtin fails (OPA's
    /// `--strict-builtin-errors`). Off by default, as in OPA: a failing
    /// builtin makes its expression undefined.
    pub strict_builtin_errors: bool,
    /// Wall-clock limit for one evaluation; `None` for no limit.
    pub time_limit: Option<Duration>,
    /// Evaluate rule paths on regorus' register VM (compiled once per path,
    /// on first use or by [`PolicyEngine::warm`]), about 7x faster than the
    /// tree-walking interpreter. Paths the VM cannot compile (packages,
    /// missing rules, partial-rule keys) and any VM error fall back to the
    /// interpreter, whose answer is the reference. On by default.
    pub vm: bool,
    /// The largest value one builtin call may build, in bytes of a string
    /// (an array, set or object counts four bytes an element): a call that
    /// would build more (`numbers.range(1, 1e12)`, `net.cidr_expand("::/0")`,
    /// a huge `sprintf` width, a `replace` that multiplies its input) fails
    /// the evaluation with [`Error::ResourceLimit`], as running out of time
    /// does, even without strict builtin errors. 64 MiB by default.
    pub max_value_bytes: usize,
}

impl Default for EngineOptions {
    /// OPA's defaults, and a 1 s time limit per evaluation.
    fn default() -> Self {
        EngineOptions {
            strict_builtin_errors: false,
            time_limit: Some(Duration::from_secs(1)),
            vm: true,
            max_value_bytes: regorus::utils::limits::DEFAULT_MAX_VALUE_BYTES,
        }
    }
}

/// The options of an engine as the bindings take them (`Engine(pack,
/// strict_builtin_errors=..., timeout_ms=...)` in Python, `new Engine(pack,
/// {strictBuiltinErrors, timeoutMs})` in JavaScript): plain data, its
/// defaults those of [`EngineOptions::default`], made [`EngineOptions`] by
/// `From`. See ADR-0020.
///
/// ```
/// use cos_policy::{EngineConfig, EngineOptions};
/// let c: EngineConfig = serde_json::from_str(r#"{"timeout_ms": 250}"#)?;
/// let o = EngineOptions::from(c);
/// assert_eq!(o.time_limit, Some(std::time::Duration::from_millis(250)));
/// assert!(!o.strict_builtin_errors);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EngineConfig {
    /// Fail an evaluation when a builtin fails (OPA's `--strict-builtin-errors`).
    pub strict_builtin_errors: bool,
    /// Wall-clock limit of one evaluation, milliseconds.
    pub timeout_ms: u64,
}

impl Default for EngineConfig {
    /// [`EngineOptions::default`], as data.
    fn default() -> Self {
        let d = EngineOptions::default();
        EngineConfig {
            strict_builtin_errors: d.strict_builtin_errors,
            timeout_ms: d
                .time_limit
                .map_or(0, |t| u64::try_from(t.as_millis()).unwrap_or(u64::MAX)),
        }
    }
}

impl From<EngineConfig> for EngineOptions {
    fn from(c: EngineConfig) -> Self {
        EngineOptions {
            strict_builtin_errors: c.strict_builtin_errors,
            time_limit: Some(Duration::from_millis(c.timeout_ms)),
            ..EngineOptions::default()
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
/// assert!(engine.evaluate("data.demo.nothing", &serde_json::json!({}))?.is_none());
/// # Ok::<(), cos_policy::Error>(())
/// ```
#[derive(Clone)]
pub struct PolicyEngine {
    engine: regorus::Engine,
    pack: PackRef,
    manifest: crate::bundle::manifest::Manifest,
    options: EngineOptions,
    data: regorus::Value,
    vms: Arc<VmCache>,
    /// Which documents the register VM may evaluate.
    vm_gate: Arc<crate::check::recursion::DependencyReport>,
}

/// Most idle VMs kept per compiled path (one per thread in use is enough).
const VM_POOL_MAX: usize = 64;

/// Most entries of each [`VmCache`] map: query paths come from outside
/// (HTTP paths), so neither map may grow without bound. Past it, paths are
/// resolved on every call instead of remembered.
const VM_CACHE_MAX: usize = 1024;

/// Register-VM programs by Rego reference (`None`: not compilable, use the
/// interpreter), each with a pool of idle VMs ready to run it; and the
/// programs by query text as callers spell it, so a repeated query skips
/// parsing its path.
#[derive(Default)]
struct VmCache {
    slots: RwLock<HashMap<String, Option<Arc<VmSlot>>>>,
    by_query: RwLock<HashMap<Box<str>, Arc<VmSlot>>>,
    /// Evaluations a VM program began and the interpreter then answered
    /// (tests: the baseline decision must never need it).
    fallbacks: std::sync::atomic::AtomicU64,
}

struct VmSlot {
    program: Arc<regorus::rvm::Program>,
    idle: Mutex<Vec<RegoVM>>,
}

enum VmOutcome {
    /// The VM answered.
    Value(regorus::Value),
    /// No VM for this path, or the VM failed: ask the interpreter.
    Fallback,
    /// The evaluation ran out of time.
    Timeout,
    /// A builtin would have built a value over the size cap.
    Resource(String),
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
    ref_of(query, &query_segments(query)?)
}

/// The path segments after `data` of a query in any form [`to_rego_ref`]
/// accepts.
fn query_segments(query: &str) -> Result<Vec<String>> {
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
    let segments: Vec<String> = segments
        .into_iter()
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    if segments.iter().any(|s| s.chars().any(char::is_control)) {
        return Err(Error::InvalidQuery {
            query: query.chars().take(200).collect(),
            reason: "control characters in path".to_owned(),
        });
    }
    Ok(segments)
}

fn ref_of(query: &str, segments: &[String]) -> Result<String> {
    let mut out = String::from("data");
    for seg in segments {
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
            out.push_str(
                &serde_json::to_string(seg).map_err(|_| Error::InvalidQuery {
                    query: query.chars().take(200).collect(),
                    reason: "unencodable segment".to_owned(),
                })?,
            );
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

/// An evaluation input in the engine's own form, made once (from any serde
/// data format: `Input::deserialize`, or [`Input::from_json`]) and usable
/// for many evaluations. Non-finite numbers are refused, as OPA does.
#[derive(Debug, Clone)]
pub struct Input(regorus::Value);

impl<'de> serde::Deserialize<'de> for Input {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        <regorus::Value as serde::Deserialize>::deserialize(d).map(Input)
    }
}

impl Input {
    /// The input for a JSON document (in one pass over it; a
    /// `serde_json::Value` holds only finite numbers, so this does not fail
    /// today: the `Result` keeps room for limits).
    pub fn from_json(value: &serde_json::Value) -> std::result::Result<Self, serde_json::Error> {
        Ok(Input(regorus::Value::from_json_value(value)))
    }

    /// The input for JSON text, every number exact as OPA reads it (a big
    /// integer or a decimal with more digits than a 64-bit float holds:
    /// `engine::exact_json`). A number beyond the float's exponent range
    /// (`1e400`) is [`Error::Unsupported`]; malformed JSON is
    /// [`Error::InvalidFile`] naming `what`.
    pub fn from_json_text(what: &str, text: &[u8]) -> Result<Self> {
        exact_json::read(what, text).map(Input)
    }

    /// An integer of any size, from its decimal digits (`-` allowed):
    /// exact, as OPA holds it. `None` for anything else.
    pub fn integer_text(digits: &str) -> Option<Self> {
        let unsigned = digits.strip_prefix('-').unwrap_or(digits);
        if unsigned.is_empty() || !unsigned.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        regorus::Value::from_numeric_string(digits).ok().map(Input)
    }

    // Constructors for bindings that walk their language's objects into the
    // engine's form directly (no serde in between): each is one value of
    // the JSON data model.

    /// `null`.
    pub fn null() -> Self {
        Input(regorus::Value::Null)
    }

    /// `true` or `false`.
    pub fn bool(b: bool) -> Self {
        Input(regorus::Value::Bool(b))
    }

    /// A string.
    pub fn string(s: &str) -> Self {
        Input(regorus::Value::String(s.into()))
    }

    /// An integer.
    pub fn int(i: i64) -> Self {
        Input(regorus::Value::from(i))
    }

    /// A non-negative integer up to `u64::MAX`.
    pub fn uint(u: u64) -> Self {
        Input(regorus::Value::from(u))
    }

    /// A floating-point number; `None` for NaN and the infinities, which
    /// JSON (and OPA) do not have.
    pub fn float(x: f64) -> Option<Self> {
        x.is_finite().then(|| Input(regorus::Value::from(x)))
    }

    /// An array.
    pub fn array(items: Vec<Input>) -> Self {
        // Same layout: the vector is reused, not copied.
        Input(regorus::Value::from(
            items.into_iter().map(|i| i.0).collect::<Vec<_>>(),
        ))
    }

    /// An object from its entries in any order; of repeated keys the last
    /// one wins, as in a JSON object read by OPA.
    pub fn object(entries: Vec<(Input, Input)>) -> Self {
        Input(regorus::Value::from_entries(
            entries.into_iter().map(|(k, v)| (k.0, v.0)).collect(),
        ))
    }
}

/// The input of one evaluation ([`PolicyEngine::evaluate`],
/// [`crate::store::PolicyStore::evaluate`]): none (OPA's Data API without an
/// input: `input` is undefined), a JSON document, or an [`Input`] already in
/// the engine's form (made once, used for many evaluations).
///
/// ```
/// use cos_policy::InputRef;
/// let doc = serde_json::json!({"user": "alice"});
/// let _: InputRef = (&doc).into();
/// let _: InputRef = None::<&serde_json::Value>.into();
/// let _ = InputRef::Undefined;
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub enum InputRef<'a> {
    /// No input: `input` is undefined in the policy.
    #[default]
    Undefined,
    /// A JSON document (converted for this evaluation).
    Json(&'a serde_json::Value),
    /// An input in the engine's form.
    Engine(&'a Input),
}

impl<'a> From<&'a serde_json::Value> for InputRef<'a> {
    fn from(v: &'a serde_json::Value) -> Self {
        InputRef::Json(v)
    }
}

impl<'a> From<&'a Input> for InputRef<'a> {
    fn from(v: &'a Input) -> Self {
        InputRef::Engine(v)
    }
}

impl<'a> From<Option<&'a serde_json::Value>> for InputRef<'a> {
    fn from(v: Option<&'a serde_json::Value>) -> Self {
        v.map_or(InputRef::Undefined, InputRef::Json)
    }
}

impl<'a> From<Option<&'a Input>> for InputRef<'a> {
    fn from(v: Option<&'a Input>) -> Self {
        v.map_or(InputRef::Undefined, InputRef::Engine)
    }
}

/// A defined evaluation result in the engine's own form.
///
/// - [`Output::to_json_string`]: JSON text with every number exact, as OPA
///   writes it (what the CLI and cos-pdp send).
/// - [`Output::to_json`]: a `serde_json::Value`; a number it cannot hold
///   exactly (a big integer, an exact decimal) is [`Error::Unsupported`],
///   never rounded.
/// - `Serialize` (serde, for bindings and other formats): numbers as their
///   `i64`, `u64` or `f64`; a big integer or exact decimal goes to the
///   nearest `f64`, as any JSON reader with 64-bit numbers (JavaScript's)
///   reads OPA's answer.
#[derive(Debug, Clone)]
pub struct Output(regorus::Value);

impl serde::Serialize for Output {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl Output {
    fn defined(v: regorus::Value) -> Option<Self> {
        (v != regorus::Value::Undefined).then_some(Output(v))
    }

    /// The result as JSON text (compact, sorted keys), every number exact.
    ///
    /// ```
    /// # use cos_policy::{EngineOptions, Limits, Pack, PolicyEngine};
    /// # let files = [("policy.rego", "package t\nbig := 123456789012345678901234 * 10")];
    /// # let map = files.iter().map(|(p, t)| (p.to_string(), t.as_bytes().to_vec())).collect();
    /// # let pack = Pack::from_files(cos_policy::PackFiles::from_map(map, &Limits::default())?)?;
    /// let engine = PolicyEngine::new(&pack, EngineOptions::default())?;
    /// let out = engine.evaluate("t/big", cos_policy::InputRef::Undefined)?.unwrap();
    /// assert_eq!(out.to_json_string()?, "1234567890123456789012340");
    /// assert_eq!(out.to_json().unwrap_err().code(), "unsupported");
    /// # Ok::<(), cos_policy::Error>(())
    /// ```
    pub fn to_json_string(&self) -> Result<String> {
        let mut out = String::new();
        exact_json::write(&self.0, &mut out, false)?;
        Ok(out)
    }

    /// [`Output::to_json_string`], laid out as serde_json's pretty printer
    /// does (two-space indentation), every number exact.
    pub fn to_json_pretty(&self) -> Result<String> {
        let mut out = String::new();
        exact_json::write(&self.0, &mut out, true)?;
        Ok(out)
    }

    /// Whether every number of the result fits an `i64`, `u64` or `f64`, so
    /// that serde (`Serialize`) and [`Output::to_json`] write it exactly; when
    /// not, [`Output::to_json_string`] is the exact form.
    pub fn fits_json_value(&self) -> bool {
        !exact_json::has_inexact_number(&self.0, 0)
    }

    /// The result as a JSON value. A number that an `i64`, `u64` or `f64`
    /// does not hold exactly is [`Error::Unsupported`]: use
    /// [`Output::to_json_string`] for it.
    pub fn to_json(&self) -> Result<serde_json::Value> {
        if !self.fits_json_value() {
            return Err(Error::Unsupported {
                what: "a result number that a JSON value (64-bit numbers) would round: read the \
                       result as JSON text (Output::to_json_string)"
                    .into(),
            });
        }
        serde_json::to_value(&self.0).map_err(|e| Error::Evaluation {
            query: "(result)".into(),
            message: format!("result is not JSON: {e}"),
        })
    }

    /// The result as a JSON value, a number an `i64`, `u64` or `f64` does not
    /// hold exactly going to the nearest `f64`: for views that compare
    /// results (shadow evaluation), never for an answer.
    pub(crate) fn to_json_lossy(&self) -> serde_json::Value {
        serde_json::to_value(&self.0).unwrap_or(serde_json::Value::Null)
    }

    /// Whether the result counts as an allow (the policy store's counters
    /// and automatic rollback): anything but `false`, or an object whose
    /// `allow` is `false`, as for a JSON result.
    pub fn allows(&self) -> bool {
        match &self.0 {
            regorus::Value::Bool(b) => *b,
            regorus::Value::Object(o) => {
                o.get(&regorus::Value::from("allow")) != Some(&regorus::Value::Bool(false))
            }
            _ => true,
        }
    }
}

/// Whether an undefined value sits anywhere inside `v` (the register VM's
/// sign of a construct it evaluated unlike OPA). Deeper than 64 levels
/// counts as yes, so the interpreter decides.
fn holds_undefined(v: &regorus::Value, depth: usize) -> bool {
    use regorus::Value;
    if depth > 64 {
        return true;
    }
    match v {
        Value::Undefined => true,
        Value::Array(a) => a.iter().any(|x| holds_undefined(x, depth + 1)),
        Value::Set(s) => s.iter().any(|x| holds_undefined(x, depth + 1)),
        Value::Object(o) => o
            .iter()
            .any(|(k, x)| holds_undefined(k, depth + 1) || holds_undefined(x, depth + 1)),
        _ => false,
    }
}

fn is_timeout(message: &str) -> bool {
    message.to_ascii_lowercase().contains("exceeded time limit")
}

/// Whether an engine error is a refusal for resources other than time (a
/// builtin's value-size cap, a regex or memory limit): never an answer.
fn is_resource_limit(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    m.contains("exceeded value size limit")
        || m.contains("exceeded size limit")
        || m.contains("exceeded memory limit")
}

fn package_path(pkg: &str) -> String {
    // regorus reports packages as "data.a.b"; roots are "a/b".
    pkg.strip_prefix("data.").unwrap_or(pkg).replace('.', "/")
}

/// The longest line a module may have, in columns. OPA has no limit
/// (OPA's own suite has JWT test keys of several KiB on one line); regorus
/// refuses lines over 1024 columns. Here a line may be as long as regorus
/// lets a module be (1 MiB).
pub(crate) fn max_col() -> std::num::NonZeroU32 {
    let lengths = regorus::utils::limits::PolicyLengthConfig::default();
    u32::try_from(lengths.max_file_bytes.get())
        .ok()
        .and_then(std::num::NonZeroU32::new)
        .unwrap_or(lengths.max_col)
}

impl PolicyEngine {
    /// Compiles a pack: every policy module (tests excluded) and its data.
    pub fn new(pack: &Pack, options: EngineOptions) -> Result<Self> {
        Self::build(pack, options, false)
    }

    /// [`PolicyEngine::new`] within `limit`: the compile runs on a thread of
    /// its own (8 MiB stack), and once `limit` has passed this returns
    /// [`Error::Timeout`] (query `compile`) without waiting for it. The
    /// compile is abandoned, not cut short: its thread finishes in the
    /// background and the result is dropped. How long that can be is
    /// bounded by the pack's size limits (the worst module within
    /// [`Limits`](crate::Limits) compiles in about 1.4 s in a release build,
    /// docs/benchmarks.md).
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use cos_policy::{EngineOptions, Limits, Pack, PolicyEngine};
    /// # let dir = tempfile::tempdir().unwrap();
    /// # std::fs::write(dir.path().join("manifest.yaml"), "name: d\nversion: 1.0.0\nroots: [d]\n").unwrap();
    /// # std::fs::write(dir.path().join("p.rego"), "package d\n\nallow := true\n").unwrap();
    /// let pack = Pack::load(dir.path(), &Limits::default())?;
    /// let engine = PolicyEngine::new_within(&pack, EngineOptions::default(), Duration::from_secs(10))?;
    /// let allow = engine.evaluate("data.d.allow", &serde_json::json!({}))?.unwrap();
    /// assert_eq!(allow.to_json()?, serde_json::json!(true));
    /// # Ok::<(), cos_policy::Error>(())
    /// ```
    pub fn new_within(
        pack: &Pack,
        options: EngineOptions,
        limit: std::time::Duration,
    ) -> Result<Self> {
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        let pack = pack.clone();
        std::thread::Builder::new()
            .name("cos-compile".into())
            .stack_size(8 << 20)
            .spawn(move || {
                let _ = tx.send(Self::build(&pack, options, false));
            })
            .map_err(|e| Error::Evaluation {
                query: "compile".into(),
                message: format!("cannot start a compile thread: {e}"),
            })?;
        match rx.recv_timeout(limit) {
            Ok(result) => result,
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => Err(Error::Timeout {
                query: "compile".into(),
                limit_ms: u64::try_from(limit.as_millis()).unwrap_or(u64::MAX),
            }),
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => Err(Error::Evaluation {
                query: "compile".into(),
                message: "the compile panicked".into(),
            }),
        }
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
        engine.set_max_builtin_value_bytes(options.max_value_bytes);
        engine.set_policy_length_config(regorus::utils::limits::PolicyLengthConfig {
            max_col: max_col(),
            ..Default::default()
        });
        if let Some(limit) = options.time_limit {
            engine.set_execution_timer_config(regorus::utils::limits::ExecutionTimerConfig {
                limit,
                check_interval: std::num::NonZeroU32::MIN.saturating_add(63),
            });
        }
        // OPA's semantics for these builtins, in place of regorus's (see
        // crate::engine::glob, crate::engine::dates): extensions are looked up before
        // builtins. Keep in step with recursion::REPLACED_BUILTINS.
        let strict = options.strict_builtin_errors;
        for (name, nargs, f) in [
            (
                "glob.match",
                3u8,
                crate::engine::glob::glob_match as fn(_) -> _,
            ),
            ("glob.quote_meta", 1, crate::engine::glob::quote_meta),
            ("time.add_date", 4, crate::engine::dates::add_date),
        ] {
            engine
                .add_extension(
                    name.to_owned(),
                    nargs,
                    Box::new(move |args: Vec<regorus::Value>| match f(args) {
                        // Without strict builtin errors OPA makes them undefined.
                        Err(_) if !strict => Ok(regorus::Value::Undefined),
                        r => r,
                    }),
                )
                .map_err(|e| Error::InvalidPack {
                    reason: format!("registering {name}: {e}"),
                })?;
        }
        // The sources regorus compiles (with OPA-accepted forms it rejects
        // rewritten), checked before compiling for what OPA would refuse.
        let modules: Vec<crate::bundle::pack::Module> = pack
            .modules()
            .iter()
            .chain(if tests { pack.tests() } else { &[] })
            .map(|m| crate::bundle::pack::Module {
                path: m.path.clone(),
                source: without_redundant_future_imports(&m.source),
            })
            .collect();
        crate::engine::builtins::check_modules(&modules)?;
        let deps =
            crate::check::parity::check_pack(&modules, manifest.rego_version == 1, pack.data())?;
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
        let data = regorus::Value::from_json_value(pack.data());
        engine
            .add_data(data.clone())
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
        // The VM has no runtime recursion guard: only packs without even a
        // conservatively-read cycle run on it.
        let options = EngineOptions {
            vm: options.vm && !deps.conservative_cycle,
            ..options
        };
        Ok(PolicyEngine {
            engine,
            data,
            vms: Arc::default(),
            vm_gate: Arc::new(deps),
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
    pub fn manifest(&self) -> &crate::bundle::manifest::Manifest {
        &self.manifest
    }

    /// Evaluates a document (`data.a.b`, `a/b`) for an input, with OPA's
    /// Data API semantics: `Ok(None)` when the document is undefined (no
    /// such rule, or no rule body held), `Ok(Some(output))` otherwise.
    /// Conflicts, and builtin errors in strict mode, are errors.
    ///
    /// The input is anything that is an [`InputRef`]: `&serde_json::Value`,
    /// `&Input` (the engine's form, made once: bindings and servers parse
    /// straight into it), an `Option` of either, or [`InputRef::Undefined`].
    pub fn evaluate<'a>(
        &self,
        query: &str,
        input: impl Into<InputRef<'a>>,
    ) -> Result<Option<Output>> {
        // Converted from the borrowed JSON (`Value::from` would deep-clone
        // it first): one copy of the input instead of two.
        let converted;
        let input = match input.into() {
            InputRef::Undefined => None,
            InputRef::Engine(i) => Some(i),
            InputRef::Json(v) => {
                converted = Input::from_json(v).map_err(|e| Error::Evaluation {
                    query: query.to_owned(),
                    message: format!("input is not valid: {e}"),
                })?;
                Some(&converted)
            }
        };
        if self.options.vm {
            let slot = match self.vm_slot_for_query(query) {
                Some(slot) => Some(slot),
                None => {
                    let segments = query_segments(query)?;
                    let rego_ref = ref_of(query, &segments)?;
                    let slot = self.vm_slot(&rego_ref, &segments);
                    if let Some(slot) = &slot {
                        self.remember_query(query, slot);
                    }
                    slot
                }
            };
            let outcome = match slot {
                Some(slot) => {
                    let outcome = self.eval_vm(&slot, input.map(|i| &i.0));
                    if matches!(outcome, VmOutcome::Fallback) {
                        self.vms
                            .fallbacks
                            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    }
                    outcome
                }
                None => VmOutcome::Fallback,
            };
            match outcome {
                VmOutcome::Value(v) => return Ok(Output::defined(v)),
                VmOutcome::Timeout => return Err(self.timeout(query)),
                VmOutcome::Resource(message) => {
                    return Err(Error::ResourceLimit {
                        query: query.to_owned(),
                        message,
                    });
                }
                VmOutcome::Fallback => {}
            }
        }
        let mut engine = self.engine.clone();
        if let Some(input) = input {
            engine.set_input(input.0.clone());
        }
        Ok(self
            .eval_value_on(&mut engine, query)?
            .and_then(Output::defined))
    }

    /// Evaluates `query` and reduces the result to `{allow, reason}` the way
    /// OPA REST clients do ([`crate::decision::AllowReason`]): an in-process
    /// replacement for `POST /v1/data/<path>` followed by that reduction.
    /// Evaluation errors are errors (not a silent deny).
    pub fn allow_reason(
        &self,
        query: &str,
        input: &serde_json::Value,
    ) -> Result<crate::decision::AllowReason> {
        let result = self
            .evaluate(query, input)?
            .map(|o| o.to_json())
            .transpose()?;
        Ok(crate::decision::AllowReason::from_result(result.as_ref()))
    }

    /// Compiles the register-VM programs of every manifest entrypoint now,
    /// so that no later decision pays for it (about 1 ms each). Returns how
    /// many entrypoints run on the VM; the others use the interpreter.
    pub fn warm(&self) -> usize {
        if !self.options.vm {
            return 0;
        }
        let paths: Vec<String> = self.manifest.entrypoints.values().cloned().collect();
        paths
            .iter()
            .filter_map(|p| {
                let segments = query_segments(p).ok()?;
                Some((ref_of(p, &segments).ok()?, segments))
            })
            .filter(|(r, segments)| self.vm_slot(r, segments).is_some())
            .count()
    }

    /// Whether `query` is evaluated on the register VM (compiling it now if
    /// needed) rather than the interpreter; see ADR-0005 for when it is not.
    pub fn runs_on_vm(&self, query: &str) -> bool {
        if !self.options.vm {
            return false;
        }
        let Ok(segments) = query_segments(query) else {
            return false;
        };
        ref_of(query, &segments).is_ok_and(|r| self.vm_slot(&r, &segments).is_some())
    }

    /// The compiled VM program for a query spelled exactly as before.
    fn vm_slot_for_query(&self, query: &str) -> Option<Arc<VmSlot>> {
        self.vms.by_query.read().ok()?.get(query).cloned()
    }

    /// Remembers a query's program (while the map has room).
    fn remember_query(&self, query: &str, slot: &Arc<VmSlot>) {
        if let Ok(mut by_query) = self.vms.by_query.write()
            && by_query.len() < VM_CACHE_MAX
        {
            by_query.insert(query.into(), slot.clone());
        }
    }

    /// The compiled VM program for a Rego reference, compiling it on first
    /// use; `None` when the VM cannot run it.
    fn vm_slot(&self, rego_ref: &str, segments: &[String]) -> Option<Arc<VmSlot>> {
        if let Ok(slots) = self.vms.slots.read()
            && let Some(slot) = slots.get(rego_ref)
        {
            return slot.clone();
        }
        let slot = self.compile_vm(rego_ref, segments).map(|program| {
            Arc::new(VmSlot {
                program,
                idle: Mutex::new(Vec::new()),
            })
        });
        if let Ok(mut slots) = self.vms.slots.write() {
            // A racing thread may have compiled it too: keep the first.
            // Paths without a program (anyone can ask for any path) are
            // remembered up to the cap, compiled programs up to twice it,
            // so junk paths cannot make a real one compile on every call.
            let room = if slot.is_some() {
                2 * VM_CACHE_MAX
            } else {
                VM_CACHE_MAX
            };
            if slots.len() < room || slots.contains_key(rego_ref) {
                return slots.entry(rego_ref.to_owned()).or_insert(slot).clone();
            }
        }
        slot
    }

    fn compile_vm(
        &self,
        rego_ref: &str,
        segments: &[String],
    ) -> Option<Arc<regorus::rvm::Program>> {
        if !self.vm_gate.vm_may_evaluate(segments) {
            return None;
        }
        let compiled = self
            .engine
            .clone()
            .compile_with_entrypoint(&regorus::Rc::from(rego_ref))
            .ok()?;
        VmCompiler::compile_from_policy(&compiled, &[rego_ref]).ok()
    }

    fn new_vm(&self, program: &Arc<regorus::rvm::Program>) -> Option<RegoVM> {
        let mut vm = RegoVM::new();
        vm.load_program(program.clone());
        vm.set_data(self.data.clone()).ok()?;
        vm.set_strict_builtin_errors(self.options.strict_builtin_errors);
        vm.set_max_builtin_value_bytes(self.options.max_value_bytes);
        // The time limit bounds an evaluation, as in the interpreter.
        vm.set_max_instructions(usize::MAX);
        if let Some(limit) = self.options.time_limit {
            vm.set_execution_timer_config(Some(regorus::utils::limits::ExecutionTimerConfig {
                limit,
                check_interval: std::num::NonZeroU32::MIN.saturating_add(63),
            }));
        }
        Some(vm)
    }

    fn eval_vm(&self, slot: &VmSlot, input: Option<&regorus::Value>) -> VmOutcome {
        let pooled = slot.idle.lock().ok().and_then(|mut idle| idle.pop());
        let Some(mut vm) = pooled.or_else(|| self.new_vm(&slot.program)) else {
            return VmOutcome::Fallback;
        };
        vm.set_input(input.cloned().unwrap_or(regorus::Value::Undefined));
        let result = vm.execute();
        // Do not keep the caller's input alive in an idle VM.
        vm.set_input(regorus::Value::Undefined);
        match result {
            // The VM answers "undefined" where OPA reports a conflict
            // (complete rule with two values): let the interpreter decide.
            Ok(regorus::Value::Undefined) => VmOutcome::Fallback,
            // Safety net for constructs the load-time gate does not know:
            // OPA never yields an undefined element inside a value.
            Ok(value) if holds_undefined(&value, 0) => VmOutcome::Fallback,
            Ok(value) => {
                if let Ok(mut idle) = slot.idle.lock()
                    && idle.len() < VM_POOL_MAX
                {
                    idle.push(vm);
                }
                VmOutcome::Value(value)
            }
            Err(e) if is_timeout(&e.to_string()) => VmOutcome::Timeout,
            // Refused for resources: the interpreter would refuse it too.
            Err(e) if is_resource_limit(&e.to_string()) => VmOutcome::Resource(e.to_string()),
            // Conflicts, strict builtin errors and anything the VM does not
            // support: the interpreter gives the reference answer or error.
            Err(_) => VmOutcome::Fallback,
        }
    }

    /// Evaluates on a given (cloned) regorus engine, which keeps whatever
    /// the evaluation recorded (coverage).
    pub(crate) fn eval_on(
        &self,
        engine: &mut regorus::Engine,
        query: &str,
    ) -> Result<Option<serde_json::Value>> {
        match self.eval_value_on(engine, query)? {
            Some(value) => self.to_json(query, value),
            None => Ok(None),
        }
    }

    fn eval_value_on(
        &self,
        engine: &mut regorus::Engine,
        query: &str,
    ) -> Result<Option<regorus::Value>> {
        let rego_ref = to_rego_ref(query)?;
        // eval_rule skips parsing a query (a third of the cost of a small
        // decision) but fails where OPA answers "undefined" (package paths,
        // missing rules); eval_query then gives OPA's answer, or the same
        // evaluation error again.
        match engine.eval_rule(rego_ref.clone()) {
            Ok(value) => return Ok(Some(value)),
            // Out of time or over a resource cap: asking again would only
            // take as long again.
            Err(e) if is_timeout(&e.to_string()) || is_resource_limit(&e.to_string()) => {
                return Err(self.eval_error(query, e));
            }
            Err(_) => {}
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
        Ok(Some(expr.value))
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

    fn timeout(&self, query: &str) -> Error {
        Error::Timeout {
            query: query.to_owned(),
            limit_ms: self
                .options
                .time_limit
                .map(|d| d.as_millis() as u64)
                .unwrap_or_default(),
        }
    }

    fn eval_error(&self, query: &str, e: impl std::fmt::Display) -> Error {
        let message = e.to_string();
        if is_timeout(&message) {
            self.timeout(query)
        } else if is_resource_limit(&message) {
            Error::ResourceLimit {
                query: query.to_owned(),
                message,
            }
        } else if message.contains("not supported by this engine") {
            // A builtin met an input it does not implement (a big JSON
            // number, a key type): a refusal, never an answer.
            Error::Unsupported {
                what: format!("{query}: {message}"),
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
        let doc = self
            .evaluate(path, input)?
            .map(|o| o.to_json())
            .transpose()?;
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

    /// A result as a JSON value (numbers beyond 64 bits read back as the
    /// nearest float), for comparisons with `json!`.
    fn js(o: Option<crate::Output>) -> Option<serde_json::Value> {
        o.map(|o| serde_json::from_str(&o.to_json_string().unwrap()).unwrap())
    }
    use crate::bundle::pack::{Limits, PackFiles};
    use serde_json::json;

    #[test]
    fn engine_input_agrees_with_json_input_on_both_paths() {
        let policy =
            "package t\nimport rego.v1\ndecision := {\"allow\": input.n > 1, \"echo\": input}\n";
        for vm in [true, false] {
            let engine = engine_on(policy, vm);
            for input in [
                json!({"n": 2, "s": ["x", {"y": null}]}),
                json!({"n": 0.5}),
                json!({}),
            ] {
                let via_json = engine.evaluate("t/decision", &input).map(js).unwrap();
                let raw = engine
                    .evaluate("t/decision", Some(&Input::from_json(&input).unwrap()))
                    .unwrap()
                    .map(|o| o.to_json().unwrap());
                assert_eq!(via_json, raw, "vm={vm} input={input}");
            }
            assert!(
                engine
                    .evaluate("t/missing", crate::InputRef::Undefined)
                    .unwrap()
                    .is_none()
            );
        }
        assert!(Input::from_json(&json!({"a": [1, 2.5, "x", true, null]})).is_ok());
    }

    /// Query paths come from outside: the VM caches stay bounded whatever
    /// is asked, and every spelling of a path gives the same answer.
    #[test]
    fn vm_caches_stay_bounded_and_answer_alike() {
        let engine = engine_with(
            "package t\nimport rego.v1\ndecision := input.n\n",
            EngineOptions::default(),
        )
        .unwrap();
        for i in 0..VM_CACHE_MAX + 40 {
            let q = format!("t/junk{i}");
            assert_eq!(engine.evaluate(&q, &json!({"n": 1})).map(js).unwrap(), None);
        }
        assert!(engine.vms.slots.read().unwrap().len() <= VM_CACHE_MAX);
        for q in ["t/decision", "/t/decision", "data.t.decision", "t/decision"] {
            assert_eq!(
                engine.evaluate(q, &json!({"n": 3})).map(js).unwrap(),
                Some(json!(3)),
                "{q}"
            );
        }
        let slots = engine.vms.slots.read().unwrap();
        assert!(matches!(slots.get("data.t.decision"), Some(Some(_))));
        assert!(slots.len() <= 2 * VM_CACHE_MAX);
        let by_query = engine.vms.by_query.read().unwrap();
        assert!(by_query.contains_key("data.t.decision") && by_query.len() == 3);
    }

    /// Inputs whose object keys arrive sorted (every `serde_json::Map`)
    /// take the vendored engine's direct path; any other order, and a
    /// repeated key (the last value wins, as in serde_json), the general
    /// one. Both must look up and compare alike.
    #[test]
    fn input_objects_in_any_key_order() {
        let policy = "package t\nimport rego.v1\ndecision := {\"x\": input.b.x, \"y\": input.b.y, \"a\": input.a, \"eq\": input.b == {\"x\": 1, \"y\": 2}, \"echo\": input}\n";
        let expected = json!({"x": 1, "y": 2, "a": 1, "eq": true,
                          "echo": {"a": 1, "b": {"x": 1, "y": 2}, "c": [1, 2]}});
        for vm in [true, false] {
            let engine = engine_on(policy, vm);
            for text in [
                r#"{"a": 1, "b": {"x": 1, "y": 2}, "c": [1, 2]}"#,
                r#"{"c": [1, 2], "b": {"y": 2, "x": 1}, "a": 1}"#,
                r#"{"a": 0, "b": {"y": 9, "x": 1, "y": 2}, "c": [1, 2], "a": 1}"#,
            ] {
                let input: Input = serde_json::from_str(text).unwrap();
                let got = engine
                    .evaluate("t/decision", Some(&input))
                    .unwrap()
                    .map(|o| o.to_json().unwrap());
                assert_eq!(got, Some(expected.clone()), "vm={vm} input={text}");
            }
        }
    }

    /// `Input::from_json` (a direct conversion, regorus patch 11) gives the
    /// value serde's visitor gives, and keeps an object serde would read as
    /// an arbitrary-precision number marker, as OPA does.
    #[test]
    fn input_from_json_is_the_deserialized_value() {
        let values = [
            json!(null),
            json!([
                true,
                false,
                0,
                -1,
                u64::MAX,
                i64::MIN,
                0.5,
                -2.5e300,
                1e-300
            ]),
            json!({"b": {"y": [], "x": {}}, "a": "é\u{1F600}", "": [[[]]], "Z": null}),
            json!({"subject": {"roles": ["a", "b"], "n": 3}, "action": "read"}),
            json!("plain"),
        ];
        for v in values {
            let direct = Input::from_json(&v).unwrap().0;
            let via_serde = <regorus::Value as serde::Deserialize>::deserialize(&v).unwrap();
            assert_eq!(direct, via_serde, "{v}");
            assert_eq!(serde_json::to_value(&direct).unwrap(), v);
        }
        let marker = json!({"$serde_json::private::Number": "5"});
        for vm in [true, false] {
            let engine = engine_on("package t\nimport rego.v1\necho := input\n", vm);
            assert_eq!(
                engine.evaluate("t/echo", &marker).map(js).unwrap(),
                Some(marker.clone()),
                "vm={vm}"
            );
        }
    }

    /// The constructors build what `from_json` builds for the same JSON.
    fn built(v: &serde_json::Value) -> Input {
        match v {
            serde_json::Value::Null => Input::null(),
            serde_json::Value::Bool(b) => Input::bool(*b),
            serde_json::Value::Number(n) => match (n.as_u64(), n.as_i64(), n.as_f64()) {
                (Some(u), _, _) => Input::uint(u),
                (None, Some(i), _) => Input::int(i),
                (_, _, f) => Input::float(f.unwrap()).unwrap(),
            },
            serde_json::Value::String(s) => Input::string(s),
            serde_json::Value::Array(a) => Input::array(a.iter().map(built).collect()),
            // Reversed: the constructor sorts.
            serde_json::Value::Object(m) => Input::object(
                m.iter()
                    .rev()
                    .map(|(k, v)| (Input::string(k), built(v)))
                    .collect(),
            ),
        }
    }

    #[test]
    fn input_constructors() {
        assert!(Input::float(f64::NAN).is_none());
        assert!(Input::float(f64::INFINITY).is_none());
        // Repeated keys: the last one wins.
        let o = Input::object(vec![
            (Input::string("b"), Input::int(1)),
            (Input::string("a"), Input::int(2)),
            (Input::string("b"), Input::int(3)),
        ]);
        assert_eq!(serde_json::to_value(&o.0).unwrap(), json!({"a": 2, "b": 3}));
        assert_eq!(
            serde_json::to_value(&Input::object(Vec::new()).0).unwrap(),
            json!({})
        );
    }

    fn any_json() -> impl proptest::strategy::Strategy<Value = serde_json::Value> {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            Just(serde_json::Value::Null),
            any::<bool>().prop_map(serde_json::Value::from),
            any::<i64>().prop_map(serde_json::Value::from),
            any::<u64>().prop_map(serde_json::Value::from),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(serde_json::Value::from),
            "\\PC{0,8}".prop_map(serde_json::Value::from),
        ];
        leaf.prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::from),
                proptest::collection::btree_map("\\PC{0,6}", inner, 0..6)
                    .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest::proptest! {
        #[test]
        fn input_from_json_agrees_with_serde(v in any_json()) {
            let direct = Input::from_json(&v).unwrap().0;
            let via_serde = <regorus::Value as serde::Deserialize>::deserialize(&v).unwrap();
            proptest::prop_assert_eq!(&direct, &via_serde);
            proptest::prop_assert_eq!(built(&v).0, via_serde);
        }
    }

    /// An engine for one policy, on the register VM (`vm`) or the
    /// interpreter alone.
    fn engine_on(policy: &str, vm: bool) -> PolicyEngine {
        engine_with(
            policy,
            EngineOptions {
                vm,
                ..EngineOptions::default()
            },
        )
        .unwrap()
    }

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
    fn allow_reason_reduces_like_opa_clients() {
        let e = engine_with(
            "package t\n\ndecision := {\"allow\": input.ok == true, \"reason\": \"because\"}\n\nbare := true\n\nweird := {\"allow\": \"true\", \"reason\": 7}\n",
            EngineOptions::default(),
        )
        .unwrap();
        let r = e.allow_reason("t/decision", &json!({"ok": true})).unwrap();
        assert!(r.allow);
        assert_eq!(r.reason.as_deref(), Some("because"));
        assert!(!e.allow_reason("t/decision", &json!({})).unwrap().allow);
        // Not an object, undefined, or a non-boolean allow: deny, as the
        // TypeScript clients do (`result?.allow === true`).
        assert!(!e.allow_reason("t/bare", &json!({})).unwrap().allow);
        assert!(!e.allow_reason("t/missing", &json!({})).unwrap().allow);
        let w = e.allow_reason("t/weird", &json!({})).unwrap();
        assert!(!w.allow && w.reason.is_none());
    }

    #[test]
    fn undefined_inside_a_vm_result_is_caught() {
        use regorus::Value;
        let ok = Value::from(vec![Value::from(1u64), Value::from("a")]);
        assert!(!holds_undefined(&ok, 0));
        let bad = Value::from(vec![Value::from(1u64), Value::Undefined]);
        assert!(holds_undefined(&bad, 0));
        let nested = Value::from(vec![bad]);
        assert!(holds_undefined(&nested, 0));
        // Too deep to look through: the interpreter decides.
        let mut deep = Value::from(1u64);
        for _ in 0..70 {
            deep = Value::from(vec![deep]);
        }
        assert!(holds_undefined(&deep, 0));
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
                .map(js)
                .unwrap(),
            Some(json!(true))
        );
        assert_eq!(
            e.evaluate("data.t.allow", &json!({"user": "bob"}))
                .map(js)
                .unwrap(),
            None
        );
        assert_eq!(
            e.evaluate("data.t.missing", &json!({})).map(js).unwrap(),
            None
        );
        assert_eq!(e.evaluate("data.nope.x", &json!({})).map(js).unwrap(), None);
        assert_eq!(
            e.evaluate("data.t.admins", &json!({})).map(js).unwrap(),
            Some(json!(["alice"]))
        );
        // No input at all: `input` is undefined, not null.
        assert_eq!(
            e.evaluate("data.t.allow", crate::InputRef::Undefined)
                .map(js)
                .unwrap(),
            None
        );
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
            e.evaluate("data.t.x", &json!({"a": true})).map(js).unwrap(),
            Some(json!(1))
        );
        assert_eq!(
            e.evaluate("data.t.x", &json!({"a": true, "b": true}))
                .map(js)
                .unwrap_err()
                .code(),
            "evaluation_error"
        );

        let policy = "package t\n\ny := to_number(input.s)\n";
        let lax = engine_with(policy, EngineOptions::default()).unwrap();
        assert_eq!(
            lax.evaluate("data.t.y", &json!({"s": "x"}))
                .map(js)
                .unwrap(),
            None
        );
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
                .map(js)
                .unwrap_err()
                .code(),
            "evaluation_error"
        );
        assert_eq!(
            strict
                .evaluate("data.t.y", &json!({"s": "3"}))
                .map(js)
                .unwrap(),
            Some(json!(3))
        );

        // A strict builtin error in a partial rule's body is the rule's
        // error, on both paths (the VM dropped it and answered `[]`: OPA's
        // own suite, helloworld `1 / 0`).
        let policy = "package t

s contains 1 if { 1 / input.d }
";
        for vm in [true, false] {
            let strict = engine_with(
                policy,
                EngineOptions {
                    strict_builtin_errors: true,
                    vm,
                    ..Default::default()
                },
            )
            .unwrap();
            assert_eq!(
                strict
                    .evaluate("data.t.s", &json!({"d": 0}))
                    .map(js)
                    .unwrap_err()
                    .code(),
                "evaluation_error",
                "vm: {vm}"
            );
            assert_eq!(
                strict
                    .evaluate("data.t.s", &json!({"d": 1}))
                    .map(js)
                    .unwrap(),
                Some(json!([1]))
            );
        }
    }

    /// The baseline decision answers on the VM for allowed and denied
    /// requests alike: a VM error that makes the interpreter answer is
    /// right but about 9x the work (a vendored patch once did that to every
    /// call), and no answer-comparing test sees it.
    #[test]
    fn baseline_decisions_never_fall_back_to_the_interpreter() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../examples/policy-packs/companyos-baseline");
        let pack = Pack::load(&dir, &crate::bundle::pack::Limits::default()).unwrap();
        let e = PolicyEngine::new(&pack, EngineOptions::default()).unwrap();
        let allow = json!({"subject": {"id": "u-42", "tenant": "acme", "roles": ["analyst", "viewer"],
            "attributes": {"clearance": "CONFIDENTIAL", "step_up": false}}, "action": "read",
            "resource": {"type": "dataset", "id": "ds-7", "tenant": "globex", "classification": "CONFIDENTIAL", "residency": "EU-Only"},
            "context": {"time": "2026-11-22T10:00:00Z", "grants": [{"tenant": "globex", "role": "analyst", "actions": ["read"], "expires": "2026-12-31T00:00:00Z"}]}});
        let mut deny = allow.clone();
        deny["context"]["grants"] = json!([]);
        deny["subject"]["attributes"]["clearance"] = json!("PUBLIC");
        for input in [&allow, &deny, &json!({})] {
            e.evaluate("companyos/abac/decision", input)
                .map(js)
                .unwrap();
        }
        assert_eq!(
            e.vms.fallbacks.load(std::sync::atomic::Ordering::Relaxed),
            0
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
            e.evaluate("data.t.n", &json!({}))
                .map(js)
                .unwrap_err()
                .code(),
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
            e.evaluate("data.t.allow", &json!({})).map(js).unwrap(),
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
            "package t\n\nclaims := net.lookup_ip_addr(input.token)\n",
            EngineOptions::default(),
        )
        .unwrap_err();
        assert!(e.to_string().contains("net.lookup_ip_addr"), "{e}");
    }

    #[test]
    fn builtin_inputs_the_engine_does_not_implement_are_unsupported_errors() {
        // OPA keeps 1e400 as a big number; cos refuses rather than round it,
        // on both evaluation paths, with the `unsupported` code.
        for vm in [true, false] {
            let e = engine_with(
                "package t\n\nx := json.unmarshal(input.text)\n",
                EngineOptions {
                    vm,
                    ..EngineOptions::default()
                },
            )
            .unwrap();
            let err = e
                .evaluate("data.t.x", &serde_json::json!({"text": "1e400"}))
                .map(js)
                .unwrap_err();
            assert_eq!(err.code(), "unsupported", "vm {vm}: {err}");
            assert!(err.to_string().contains("json.unmarshal"), "{err}");
        }
    }

    #[test]
    fn big_numbers_in_inputs_are_exact() {
        for vm in [true, false] {
            let e = engine_with(
                "package t\n\nsame if input.id == 12345678901234567890123\n\nnext := input.id + 1\n",
                EngineOptions {
                    vm,
                    ..EngineOptions::default()
                },
            )
            .unwrap();
            // An integer of any size given by its digits is exact (the
            // Python binding's big ints).
            let id = Input::integer_text("12345678901234567890123").unwrap();
            let input = Input::object(vec![(Input::string("id"), id)]);
            let same = e.evaluate("data.t.same", Some(&input)).unwrap();
            assert!(same.is_some_and(|o| o.allows()), "vm {vm}");
            // The neighbour a float would round to is another number.
            let near = Input::object(vec![(
                Input::string("id"),
                Input::integer_text("12345678901234567890124").unwrap(),
            )]);
            assert!(e.evaluate("data.t.same", Some(&near)).unwrap().is_none());
            // As JSON text too, read exactly (not rounded); the result is
            // written back digit for digit.
            let text =
                Input::from_json_text("input", br#"{"id": 12345678901234567890123}"#).unwrap();
            let same = e.evaluate("data.t.same", Some(&text)).unwrap();
            assert!(same.is_some_and(|o| o.allows()), "vm {vm}");
            let next = e.evaluate("data.t.next", Some(&text)).unwrap().unwrap();
            assert_eq!(next.to_json_string().unwrap(), "12345678901234567890124");
            assert_eq!(next.to_json().unwrap_err().code(), "unsupported");
            // Beyond the float's exponent range: refused, not rewritten.
            let err = Input::from_json_text("input", br#"{"id": 1e400}"#).unwrap_err();
            assert_eq!(err.code(), "unsupported");
            let ok = Input::from_json_text("input", br#"{"id": 12345}"#).unwrap();
            assert!(e.evaluate("data.t.same", Some(&ok)).unwrap().is_none());
            let bad = Input::from_json_text("input", b"{").unwrap_err();
            assert_eq!(bad.code(), "invalid_file");
        }
        assert!(Input::integer_text("1.5").is_none());
        assert!(Input::integer_text("-").is_none());
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
