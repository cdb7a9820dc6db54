//! Where decisions come from: the pack (a `PolicyStore`, verified and
//! hot-reloaded) and what the REST API added (modules and data outside the
//! pack's roots, as OPA keeps bundle roots read-only).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, SystemTime};

use cos_policy::PackFiles;
use cos_policy::distribution::http::{ClientOptions, PackClient};
use cos_policy::store::{ActivePack, Candidate, PolicyStore, StoreOptions, TestPolicy};
use cos_policy::{EngineOptions, Input, Limits, Output, Pack, PolicyEngine};
use serde_json::Value;

use crate::Config;
use crate::metrics::Metrics;

/// Modules and data written through the REST API.
#[derive(Debug, Default, Clone)]
pub(crate) struct Overlay {
    /// Policy id → module text.
    pub(crate) modules: BTreeMap<String, String>,
    /// The data tree written with `PUT`/`PATCH /v1/data` (an object).
    pub(crate) data: serde_json::Map<String, Value>,
}

impl Overlay {
    fn is_empty(&self) -> bool {
        self.modules.is_empty() && self.data.is_empty()
    }
}

/// An engine compiled from the pack and the overlay, for one pair of them.
struct Combined {
    pack_digest: Option<String>,
    generation: u64,
    engine: Arc<PolicyEngine>,
}

/// The state of the pack download (OPA's bundle plugin status).
#[derive(Debug, Clone, Default)]
pub(crate) struct Download {
    pub(crate) configured: bool,
    pub(crate) last_success: Option<SystemTime>,
    pub(crate) last_error: Option<String>,
}

pub(crate) struct Policy {
    pub(crate) store: Option<PolicyStore>,
    /// What the API wrote, with its generation. Held only to read or swap:
    /// no parse or compile happens under it.
    overlay: RwLock<(Overlay, u64)>,
    /// One write at a time (parsed and compiled without `overlay` held).
    writes: Mutex<()>,
    /// The engine of the pack and the overlay, last compiled.
    combined: Mutex<Option<Combined>>,
    /// Held while the combined engine is recompiled for a new pack.
    recompiling: Mutex<()>,
    /// The engine of the pack and the overlay with strict builtin errors,
    /// for `?strict-builtin-errors` (compiled on first use).
    strict: Mutex<Option<Combined>>,
    engine_options: EngineOptions,
    /// `--compile-timeout-ms`: the longest a write's or a pack's compile may take.
    compile_timeout: Duration,
    pub(crate) download: RwLock<Download>,
}

/// Which engine answered, for the decision log.
pub(crate) enum Answerer {
    Pack(Arc<ActivePack>),
    Engine(Arc<PolicyEngine>),
}

impl Answerer {
    pub(crate) fn engine(&self) -> &PolicyEngine {
        match self {
            Answerer::Pack(p) => p.engine(),
            Answerer::Engine(e) => e,
        }
    }
}

/// Why a REST write was refused.
pub(crate) enum WriteError {
    /// Under a root the pack owns (OPA: 400, bundle root).
    OwnedByPack(String),
    /// The module does not compile (with the compiler's message).
    Compile(String, String),
    /// Nothing at that path (404).
    NotFound(String),
    /// Anything else (400).
    Invalid(String),
}

impl Policy {
    pub(crate) fn start(config: &Config) -> Result<Self, String> {
        let engine_options = EngineOptions {
            time_limit: Some(config.timeout_ms.max(Duration::from_millis(1))),
            ..EngineOptions::default()
        };
        let uses_pack = config.pack.is_some() || config.pack_url.is_some();
        let store = if uses_pack {
            let mut options = StoreOptions {
                engine: engine_options,
                state_dir: config.state_dir.clone(),
                tests: if config.require_tests {
                    TestPolicy::Required
                } else {
                    TestPolicy::IfPresent
                },
                test_timeout: Some(config.test_timeout_ms.max(Duration::from_millis(1))),
                compile_timeout: Some(config.compile_timeout_ms.max(Duration::from_millis(1))),
                pack_name: config.pack_name.clone(),
                ..StoreOptions::default()
            };
            if let Some(p) = &config.public_key {
                let key = cos_core::PublicKey::load(p).map_err(|e| e.to_string())?;
                options.sigstore = Some(Arc::new(key));
            }
            if let Some(p) = &config.opa_verification_key {
                let key = cos_core::PublicKey::load(p).map_err(|e| e.to_string())?;
                options.opa_signature = Some((key, Default::default()));
            }
            // The last known good pack, verified again, until a fetch succeeds.
            let store = PolicyStore::open(options).map_err(|e| format!("last known good: {e}"))?;
            if let Some(path) = &config.pack {
                store
                    .activate(read_candidate(path, store.options().sigstore.is_some())?)
                    .map_err(|e| format!("{}: {e}", path.display()))?;
            }
            Some(store)
        } else {
            None
        };
        Ok(Policy {
            store,
            overlay: RwLock::new((Overlay::default(), 0)),
            writes: Mutex::new(()),
            combined: Mutex::new(None),
            recompiling: Mutex::new(()),
            strict: Mutex::new(None),
            engine_options,
            compile_timeout: config.compile_timeout_ms.max(Duration::from_millis(1)),
            download: RwLock::new(Download {
                configured: config.pack_url.is_some(),
                ..Download::default()
            }),
        })
    }

    /// Evaluates a document: on the pack's store when nothing was written
    /// through the API (counted, shadowed, rollback-aware), else on the
    /// engine compiled from both.
    pub(crate) fn evaluate(
        &self,
        path: &str,
        input: Option<&Value>,
    ) -> Result<(Answerer, Result<Option<Value>, cos_policy::Error>), cos_policy::Error> {
        let overlay_empty = read(&self.overlay).0.is_empty();
        if let (Some(store), true) = (&self.store, overlay_empty) {
            let (pack, result) = store.evaluate_with_pack(None, path, input)?;
            return Ok((Answerer::Pack(pack), result));
        }
        let engine = self.combined_engine()?;
        let result = engine.evaluate_opt(path, input);
        Ok((Answerer::Engine(engine), result))
    }

    /// [`Policy::evaluate`] with strict builtin errors (OPA's
    /// `?strict-builtin-errors`): a builtin that fails is an error, not
    /// undefined. On an engine of the pack and the overlay compiled for it,
    /// once per change of either.
    pub(crate) fn evaluate_strict(
        &self,
        path: &str,
        input: Option<&Value>,
    ) -> Result<(Answerer, Result<Option<Value>, cos_policy::Error>), cos_policy::Error> {
        let pack = self.store.as_ref().and_then(|s| s.pack_for(None));
        if self.store.is_some() && pack.is_none() {
            return Err(cos_policy::Error::NoActivePack);
        }
        let pack_digest = pack.as_ref().map(|p| p.pack().digest.clone());
        let (overlay, generation) = read(&self.overlay).clone();
        let mut cached = self.strict.lock().unwrap_or_else(|p| p.into_inner());
        let engine = match cached.as_ref() {
            Some(c) if c.generation == generation && c.pack_digest == pack_digest => {
                Arc::clone(&c.engine)
            }
            _ => {
                let options = EngineOptions {
                    strict_builtin_errors: true,
                    ..self.engine_options
                };
                let engine = Arc::new(compile(
                    pack.as_deref(),
                    &overlay,
                    options,
                    self.compile_timeout,
                )?);
                *cached = Some(Combined {
                    pack_digest,
                    generation,
                    engine: Arc::clone(&engine),
                });
                engine
            }
        };
        drop(cached);
        let result = engine.evaluate_opt(path, input);
        Ok((Answerer::Engine(engine), result))
    }

    /// [`Policy::evaluate`] with the input and the result in the engine's
    /// own form (no JSON trees): the Data API's path when no decision log
    /// needs the JSON of both.
    #[allow(
        clippy::type_complexity,
        reason = "which engine answered, and its result"
    )]
    pub(crate) fn evaluate_input(
        &self,
        path: &str,
        input: Option<&Input>,
    ) -> Result<(Answerer, Result<Option<Output>, cos_policy::Error>), cos_policy::Error> {
        let overlay_empty = read(&self.overlay).0.is_empty();
        if let (Some(store), true) = (&self.store, overlay_empty) {
            let (pack, result) = store.evaluate_input_with_pack(None, path, input)?;
            return Ok((Answerer::Pack(pack), result));
        }
        let engine = self.combined_engine()?;
        let result = engine.evaluate_input(path, input);
        Ok((Answerer::Engine(engine), result))
    }

    /// The engine for pack + overlay, compiled once per change of either.
    fn combined_engine(&self) -> Result<Arc<PolicyEngine>, cos_policy::Error> {
        let pack = self.store.as_ref().and_then(|s| s.pack_for(None));
        let pack_digest = pack.as_ref().map(|p| p.pack().digest.clone());
        let (overlay, generation) = read(&self.overlay).clone();
        let current = |cached: &Option<Combined>| {
            cached
                .as_ref()
                .filter(|c| c.generation == generation && c.pack_digest == pack_digest)
                .map(|c| Arc::clone(&c.engine))
        };
        let stale = {
            let cached = self.combined.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(engine) = current(&cached) {
                return Ok(engine);
            }
            cached.as_ref().map(|c| Arc::clone(&c.engine))
        };
        // A new pack under the API's writes: one decision compiles, outside
        // the cache's lock; the others keep deciding with the engine before
        // it until the new one is in (as OPA serves with the old compiler
        // until a bundle is activated).
        let _compiling = match (self.recompiling.try_lock(), stale) {
            (Ok(guard), _) => guard,
            (Err(_), Some(engine)) => return Ok(engine),
            (Err(_), None) => self.recompiling.lock().unwrap_or_else(|p| p.into_inner()),
        };
        if let Some(engine) = current(&self.combined.lock().unwrap_or_else(|p| p.into_inner())) {
            return Ok(engine);
        }
        let engine = Arc::new(compile(
            pack.as_deref(),
            &overlay,
            self.engine_options,
            self.compile_timeout,
        )?);
        let mut cached = self.combined.lock().unwrap_or_else(|p| p.into_inner());
        // A write may have swapped in a newer generation meanwhile: keep it.
        if cached.as_ref().is_none_or(|c| c.generation <= generation) {
            *cached = Some(Combined {
                pack_digest,
                generation,
                engine: Arc::clone(&engine),
            });
        }
        Ok(engine)
    }

    /// Whether something decides (a pack, or policies written through the API).
    pub(crate) fn ready(&self) -> bool {
        match &self.store {
            Some(s) => s.is_ready(),
            None => true,
        }
    }

    /// Roots the pack owns (everything when it declares none).
    fn pack_roots(&self) -> Option<Vec<String>> {
        let pack = self.store.as_ref()?.pack_for(None)?;
        Some(pack.engine().manifest().roots.clone())
    }

    fn owned(&self, path: &str) -> Option<String> {
        let roots = self.pack_roots()?;
        if roots.is_empty() {
            return Some(String::new());
        }
        roots.into_iter().find(|r| {
            path == r
                || path.starts_with(&format!("{r}/"))
                || r.starts_with(&format!("{path}/"))
                || path.is_empty()
        })
    }

    pub(crate) fn modules(&self) -> BTreeMap<String, String> {
        read(&self.overlay).0.modules.clone()
    }

    /// `PUT /v1/policies/{id}`: compiled with everything else first; the
    /// module replaces any of the same id only if the result compiles.
    pub(crate) fn put_module(&self, id: &str, text: String) -> Result<(), WriteError> {
        // The package as the compiler reads it (whitespace, brackets and
        // line breaks spell the same package), in Rego v1 or v0 syntax; a
        // module whose package cannot be read is refused here, so that no
        // spelling gets past the roots.
        let module = cos_policy::Module {
            path: id.to_owned(),
            source: text.clone(),
        };
        let package = cos_policy::module_package(&module, true)
            .or_else(|e| cos_policy::module_package(&module, false).map_err(|_| e))
            .map_err(|e| match e {
                cos_policy::Error::Compile { message, .. } => {
                    WriteError::Compile(id.to_owned(), message)
                }
                other => WriteError::Invalid(other.to_string()),
            })?;
        if let Some(root) = self.owned(&package) {
            return Err(WriteError::OwnedByPack(owned_message(&package, &root)));
        }
        self.change(Write::Policy, |o| {
            o.modules.insert(id.to_owned(), text);
            Ok(())
        })
    }

    pub(crate) fn delete_module(&self, id: &str) -> Result<(), WriteError> {
        self.change(Write::Policy, |o| {
            o.modules.remove(id).map(|_| ()).ok_or_else(|| {
                WriteError::NotFound(format!("storage_not_found_error: policy id {id:?}"))
            })
        })
    }

    /// `PUT /v1/data/{path}`.
    pub(crate) fn put_data(&self, path: &[String], value: Value) -> Result<(), WriteError> {
        self.check_data_path(path)?;
        self.change(Write::Data, |o| {
            if path.is_empty() {
                return match value {
                    Value::Object(m) => {
                        o.data = m;
                        Ok(())
                    }
                    _ => Err(WriteError::Invalid(
                        "the root document must be an object".into(),
                    )),
                };
            }
            let mut node = &mut o.data;
            for seg in &path[..path.len() - 1] {
                let entry = node
                    .entry(seg.clone())
                    .or_insert_with(|| Value::Object(Default::default()));
                if !entry.is_object() {
                    *entry = Value::Object(Default::default());
                }
                let Value::Object(next) = entry else {
                    return Err(WriteError::Invalid("unreachable".into()));
                };
                node = next;
            }
            if let Some(last) = path.last() {
                node.insert(last.clone(), value);
            }
            Ok(())
        })
    }

    /// `DELETE /v1/data/{path}`.
    pub(crate) fn delete_data(&self, path: &[String]) -> Result<(), WriteError> {
        self.check_data_path(path)?;
        self.change(Write::Data, |o| {
            if path.is_empty() {
                o.data.clear();
                return Ok(());
            }
            let missing = || {
                WriteError::NotFound(format!(
                    "storage_not_found_error: {}: document does not exist",
                    slash(path)
                ))
            };
            let mut node = &mut o.data;
            for seg in &path[..path.len() - 1] {
                node = match node.get_mut(seg) {
                    Some(Value::Object(next)) => next,
                    _ => return Err(missing()),
                };
            }
            let last = path.last().ok_or_else(missing)?;
            node.remove(last).map(|_| ()).ok_or_else(missing)
        })
    }

    /// `PATCH /v1/data/{path}` with a JSON Patch (add, remove, replace).
    pub(crate) fn patch_data(&self, path: &[String], ops: &[Value]) -> Result<(), WriteError> {
        self.check_data_path(path)?;
        self.change(Write::Data, |o| {
            let mut root = Value::Object(std::mem::take(&mut o.data));
            let result = (|| {
                for op in ops {
                    apply_patch(&mut root, path, op)?;
                }
                Ok(())
            })();
            match root {
                Value::Object(m) => o.data = m,
                _ => {
                    return Err(WriteError::Invalid(
                        "the root document must be an object".into(),
                    ));
                }
            }
            result
        })
    }

    fn check_data_path(&self, path: &[String]) -> Result<(), WriteError> {
        let joined = slash(path);
        match self.owned(&joined) {
            Some(root) => Err(WriteError::OwnedByPack(owned_message(&joined, &root))),
            None => Ok(()),
        }
    }

    /// Applies a change to a copy of the overlay, compiles the result, and
    /// only then makes it current.
    fn change(
        &self,
        kind: Write,
        f: impl FnOnce(&mut Overlay) -> Result<(), WriteError>,
    ) -> Result<(), WriteError> {
        // Writers take turns; decisions do not wait for them: the overlay is
        // copied, changed and compiled with no lock decisions take, and only
        // the swap of the result holds the overlay's lock.
        let _one_writer = self.writes.lock().unwrap_or_else(|p| p.into_inner());
        let (mut next, generation) = read(&self.overlay).clone();
        f(&mut next)?;
        let pack = self.store.as_ref().and_then(|s| s.pack_for(None));
        match compile(
            pack.as_deref(),
            &next,
            self.engine_options,
            self.compile_timeout,
        ) {
            Ok(engine) => {
                let generation = generation + 1;
                let mut guard = write(&self.overlay);
                *guard = (next, generation);
                *self.combined.lock().unwrap_or_else(|p| p.into_inner()) = Some(Combined {
                    pack_digest: pack.map(|p| p.pack().digest.clone()),
                    generation,
                    engine: Arc::new(engine),
                });
                drop(guard);
                Ok(())
            }
            Err(cos_policy::Error::Compile {
                path: file,
                message,
            }) => {
                // `compile` names a REST module by its policy id.
                match kind {
                    Write::Policy => Err(WriteError::Compile(file, message)),
                    // OPA refuses a data write that conflicts with a rule
                    // with a plain error: `1 error occurred: FILE:LINE: …`.
                    Write::Data => Err(WriteError::Invalid(format!(
                        "1 error occurred: {file}:{}",
                        message.strip_prefix("line ").unwrap_or(&message)
                    ))),
                }
            }
            Err(e) => Err(WriteError::Invalid(e.to_string())),
        }
    }
}

/// What a REST write changes (OPA answers their compile errors in two shapes).
#[derive(Clone, Copy)]
enum Write {
    Policy,
    Data,
}

fn owned_message(path: &str, root: &str) -> String {
    if root.is_empty() {
        format!("path {path:?} is owned by the pack (it declares no roots, so it owns every path)")
    } else {
        format!("path {path:?} is owned by the pack (root {root:?})")
    }
}

fn slash(path: &[String]) -> String {
    path.join("/")
}

/// Compiles the pack's files (without its roots, now that the overlay was
/// checked to stay outside them) with the overlay's modules and data.
fn compile(
    pack: Option<&ActivePack>,
    overlay: &Overlay,
    options: EngineOptions,
    limit: Duration,
) -> Result<PolicyEngine, cos_policy::Error> {
    // The overlay is a layer of its own: its modules sit under a directory
    // no pack file uses, and its data is merged into the pack's data tree
    // (outside the pack's roots, where writes are allowed), never written
    // over a pack file.
    let mut files: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    let mut data = serde_json::Map::new();
    if let Some(p) = pack {
        let pack = Pack::from_bytes(p.archive(), &Limits::default())?;
        let merge_data = !overlay.data.is_empty();
        for (path, bytes) in pack.bundle_files()? {
            let data_file = path == "data.json" || path.ends_with("/data.json");
            if path == ".manifest" || path == ".signatures.json" || (merge_data && data_file) {
                continue;
            }
            files.insert(path, bytes);
        }
        if merge_data && let Value::Object(m) = pack.data() {
            data = m.clone();
        }
    }
    let prefix = rest_prefix(&files);
    for (i, text) in overlay.modules.values().enumerate() {
        files.insert(rest_path(&prefix, i), text.clone().into_bytes());
    }
    if !overlay.data.is_empty() {
        merge(&mut data, &overlay.data);
        let bytes = serde_json::to_vec(&Value::Object(data)).map_err(|e| {
            cos_policy::Error::InvalidPack {
                reason: e.to_string(),
            }
        })?;
        files.insert("data.json".to_owned(), bytes);
    }
    let combined = Pack::from_files(PackFiles::from_map(files, &Limits::default())?)?;
    // Rego v1 unless a module says otherwise (as `opa run` 1.x).
    PolicyEngine::new_within(&combined, options, limit).map_err(|e| match e {
        // Name a REST module by its policy id, as OPA does.
        cos_policy::Error::Compile { path, message } => {
            match overlay
                .modules
                .keys()
                .enumerate()
                .find(|(i, _)| rest_path(&prefix, *i) == path)
            {
                Some((_, id)) => cos_policy::Error::Compile {
                    message: message.replace(&path, id),
                    path: id.clone(),
                },
                None => cos_policy::Error::Compile { path, message },
            }
        }
        other => other,
    })
}

/// A directory for the REST modules that no pack file is in (`_rest`, or
/// `_rest_`, … when a pack uses it).
fn rest_prefix(files: &BTreeMap<String, Vec<u8>>) -> String {
    let mut prefix = "_rest".to_owned();
    while files.keys().any(|p| p.starts_with(&format!("{prefix}/"))) {
        prefix.push('_');
    }
    prefix
}

/// Where the i-th REST module sits among the pack's files.
fn rest_path(prefix: &str, i: usize) -> String {
    format!("{prefix}/policy-{i}.rego")
}

/// Deep-merges `overlay` into `base` (objects merge, anything else replaces).
fn merge(base: &mut serde_json::Map<String, Value>, overlay: &serde_json::Map<String, Value>) {
    for (k, v) in overlay {
        match (base.get_mut(k), v) {
            (Some(Value::Object(b)), Value::Object(o)) => merge(b, o),
            _ => {
                base.insert(k.clone(), v.clone());
            }
        }
    }
}

fn apply_patch(root: &mut Value, base: &[String], op: &Value) -> Result<(), WriteError> {
    let bad = |m: &str| WriteError::Invalid(format!("invalid patch operation: {m}"));
    let kind = op
        .get("op")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("no op"))?;
    let pointer = op
        .get("path")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("no path"))?;
    let mut segs: Vec<String> = base.to_vec();
    segs.extend(
        pointer
            .split('/')
            .skip(1)
            .filter(|s| !s.is_empty())
            .map(|s| s.replace("~1", "/").replace("~0", "~")),
    );
    let Some((last, parents)) = segs.split_last() else {
        return match kind {
            "add" | "replace" => {
                *root = op.get("value").cloned().ok_or_else(|| bad("no value"))?;
                Ok(())
            }
            _ => Err(bad("cannot remove the root")),
        };
    };
    let mut node = &mut *root;
    for seg in parents {
        node = match node {
            Value::Object(m) => m.get_mut(seg).ok_or_else(|| {
                WriteError::NotFound(format!(
                    "storage_not_found_error: {}: document does not exist",
                    segs.join("/")
                ))
            })?,
            _ => return Err(bad("path through a non-object")),
        };
    }
    let Value::Object(map) = node else {
        return Err(bad("path through a non-object"));
    };
    match kind {
        "add" => {
            map.insert(
                last.clone(),
                op.get("value").cloned().ok_or_else(|| bad("no value"))?,
            );
        }
        "replace" => {
            if !map.contains_key(last) {
                return Err(WriteError::NotFound(format!(
                    "storage_not_found_error: {}: document does not exist",
                    segs.join("/")
                )));
            }
            map.insert(
                last.clone(),
                op.get("value").cloned().ok_or_else(|| bad("no value"))?,
            );
        }
        "remove" => {
            map.remove(last).ok_or_else(|| {
                WriteError::NotFound(format!(
                    "storage_not_found_error: {}: document does not exist",
                    segs.join("/")
                ))
            })?;
        }
        other => return Err(bad(&format!("unsupported op {other:?}"))),
    }
    Ok(())
}

fn read_candidate(path: &std::path::Path, with_bundle: bool) -> Result<Candidate, String> {
    let limits = Limits::default();
    let archive = if path.is_dir() {
        Pack::load(path, &limits)
            .and_then(|p| p.build_bundle_with_tests())
            .map_err(|e| format!("{}: {e}", path.display()))?
    } else {
        cos_core::file::read_limited(path, limits.max_decompressed_size)
            .map_err(|e| e.to_string())?
    };
    let mut candidate = Candidate::new(archive);
    if with_bundle {
        let bundle = cos_policy::distribution::read_bundle_beside(path)
            .map_err(|e| e.to_string())?
            .ok_or_else(|| {
                format!(
                    "{}: no Sigstore bundle beside it (.sigstore.json)",
                    path.display()
                )
            })?;
        candidate = candidate.with_sigstore_bundle(bundle);
    }
    Ok(candidate)
}

/// Polls the pack server on a thread of its own, offering every new pack
/// to the store; failures are recorded for `/health?plugins` and metrics.
pub(crate) fn spawn_poller(
    policy: Arc<Policy>,
    metrics: Arc<Metrics>,
    url: String,
    interval: Duration,
    timeout: Duration,
    long_poll: Option<Duration>,
) {
    std::thread::spawn(move || {
        let client = PackClient::new(ClientOptions {
            long_poll,
            timeout,
            sigstore_bundle: policy
                .store
                .as_ref()
                .is_some_and(|s| s.options().sigstore.is_some()),
            ..ClientOptions::default()
        });
        let Some(store) = policy.store.as_ref() else {
            return;
        };
        let mut etag: Option<String> = None;
        // Why the pack `etag` names was refused, if it was.
        let mut refusal: Option<String> = None;
        loop {
            let started = std::time::Instant::now();
            let mut fetched_new = false;
            let outcome = match client.fetch(&url, etag.as_deref()) {
                Ok(None) => Ok(()),
                Ok(Some(fetched)) => {
                    fetched_new = true;
                    // Refused packs are remembered by ETag: not verified again
                    // every round; the last good pack keeps deciding.
                    etag = fetched.etag.clone();
                    let activated = store.activate(fetched.into_candidate()).map(|_| ());
                    refusal = activated.as_ref().err().map(ToString::to_string);
                    activated
                }
                Err(e) => Err(e),
            };
            {
                let mut d = write(&policy.download);
                match outcome {
                    Ok(()) => {
                        d.last_success = Some(SystemTime::now());
                        // A 304 for a refused pack: still refused (as OPA's
                        // bundle plugin stays in error until a bundle
                        // activates), counted once.
                        d.last_error = refusal.clone();
                    }
                    Err(e) => {
                        metrics.fetch_failed(e.code());
                        d.last_error = Some(e.to_string());
                    }
                }
            }
            // As PackClient::poll: after a new pack or a 304 that waited, long
            // polling goes straight back; a failure or an immediate 304 waits.
            let long_polling = long_poll.is_some() && etag.is_some();
            let quick = started.elapsed() < Duration::from_millis(50);
            if !long_polling || (quick && !fetched_new) {
                std::thread::sleep(interval);
            }
        }
    });
}

pub(crate) fn read<T>(l: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    l.read().unwrap_or_else(|p| p.into_inner())
}

pub(crate) fn write<T>(l: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    l.write().unwrap_or_else(|p| p.into_inner())
}
