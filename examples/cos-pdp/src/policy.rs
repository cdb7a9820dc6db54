//! Where decisions come from: the pack (a `PolicyStore`, verified and
//! hot-reloaded) and what the REST API added (modules and data outside the
//! pack's roots, as OPA keeps bundle roots read-only).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, SystemTime};

use cos_policy::PackFiles;
use cos_policy::distribution::http::{ClientOptions, PackClient, PollEvent};
use cos_policy::store::{ActivePack, Candidate, PolicyStore, StoreOptions, TestPolicy};
use cos_policy::{EngineOptions, InputRef, Limits, Output, Pack, PolicyEngine};
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

    /// Evaluates a document for any input ([`InputRef`]: a JSON tree, the
    /// engine's form, or none): on the pack's store when nothing was written
    /// through the API (counted, shadowed, rollback-aware), else on the
    /// engine compiled from both.
    pub(crate) fn evaluate<'a>(
        &self,
        path: &str,
        input: impl Into<InputRef<'a>>,
    ) -> Result<(Answerer, Result<Option<Output>, cos_policy::Error>), cos_policy::Error> {
        let input = input.into();
        let overlay_empty = read(&self.overlay).0.is_empty();
        if let (Some(store), true) = (&self.store, overlay_empty) {
            let evaluation = store.evaluate(None, path, input)?;
            return Ok((Answerer::Pack(evaluation.pack), evaluation.result));
        }
        let engine = self.combined_engine()?;
        let result = engine.evaluate(path, input);
        Ok((Answerer::Engine(engine), result))
    }

    /// [`Policy::evaluate`] with strict builtin errors (OPA's
    /// `?strict-builtin-errors`): a builtin that fails is an error, not
    /// undefined. On an engine of the pack and the overlay compiled for it,
    /// once per change of either.
    pub(crate) fn evaluate_strict<'a>(
        &self,
        path: &str,
        input: impl Into<InputRef<'a>>,
    ) -> Result<(Answerer, Result<Option<Output>, cos_policy::Error>), cos_policy::Error> {
        let input = input.into();
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
        let result = engine.evaluate(path, input);
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

    /// Offers a pack from the pack source to the store. Refused, with the
    /// store as it was, when the pack asks for automatic rollback while
    /// policies or data written through the API decide with the pack: its
    /// decisions would then be the API's and the pack's together, which the
    /// store does not count, so the rollback it asks for would never come
    /// (the reverse of the refusal in [`Policy::change`]).
    pub(crate) fn offer(
        &self,
        candidate: Candidate,
    ) -> Result<cos_policy::store::Activation, cos_policy::Error> {
        let Some(store) = &self.store else {
            return Err(cos_policy::Error::NoActivePack);
        };
        // No write lands between the check and the activation.
        let _no_writes = self.writes.lock().unwrap_or_else(|p| p.into_inner());
        let written = {
            let guard = read(&self.overlay);
            (!guard.0.is_empty()).then(|| overlay_description(&guard.0))
        };
        if let Some(written) = written {
            let pack = Pack::from_bytes(&candidate.archive, &store.options().limits)?;
            if rolls_back_automatically(pack.manifest()) {
                return Err(cos_policy::Error::Unsupported {
                    what: format!(
                        "{}: the pack asks for automatic rollback, which needs every decision \
                         counted on the pack, while {}: delete them (DELETE /v1/policies/{{id}}, \
                         DELETE /v1/data/{{path}}) or publish the pack with `rollback: \
                         {{strategy: manual}}`",
                        pack_label(pack.manifest()),
                        written,
                    ),
                });
            }
        }
        store.activate(candidate)
    }

    /// What the REST API wrote, for `/healthz`: `null` when nothing, else
    /// the policy ids, whether data was written, and whether decisions are
    /// still counted on the pack (they are not while anything is written).
    pub(crate) fn overlay_status(&self) -> Value {
        let guard = read(&self.overlay);
        let overlay = &guard.0;
        if overlay.is_empty() {
            return Value::Null;
        }
        serde_json::json!({
            "policies": overlay.modules.keys().collect::<Vec<_>>(),
            "data": !overlay.data.is_empty(),
            "pack_accounting": false,
        })
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
        // A pack that asks for automatic rollback owns the accounting of
        // every decision (as a bundle owns its roots in OPA): a write would
        // make decisions bypass the store's counting, and so the rollback.
        if let Some(p) = &pack
            && !next.is_empty()
            && rolls_back_automatically(p.engine().manifest())
        {
            return Err(WriteError::OwnedByPack(format!(
                "the pack {} asks for automatic rollback, which needs every decision counted \
                 on the pack: while it is active, policies and data cannot be written through \
                 the API (publish them in the pack, or the pack with `rollback: {{strategy: \
                 manual}}`)",
                pack_label(p.engine().manifest())
            )));
        }
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

/// Whether a pack's manifest asks the store to roll it back by itself.
fn rolls_back_automatically(manifest: &cos_policy::Manifest) -> bool {
    manifest
        .rollback
        .as_ref()
        .is_some_and(|r| r.strategy == cos_policy::RollbackStrategy::Automatic)
}

fn pack_label(manifest: &cos_policy::Manifest) -> String {
    format!("{}@{}", manifest.name, manifest.version)
}

/// `policies "a", "b" and data were written through the API`.
fn overlay_description(overlay: &Overlay) -> String {
    let ids: Vec<String> = overlay.modules.keys().map(|k| format!("{k:?}")).collect();
    let mut what = Vec::new();
    if !ids.is_empty() {
        what.push(format!(
            "{} {}",
            if ids.len() == 1 { "policy" } else { "policies" },
            ids.join(", ")
        ));
    }
    if !overlay.data.is_empty() {
        what.push("data".to_owned());
    }
    format!(
        "{} written through the API decide with it",
        what.join(" and ")
    )
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

/// Polls the pack server on a thread of its own, with the library's loop
/// (`PackClient::poll_observed`), offering every new pack to the store
/// ([`Policy::offer`]); what each round did is recorded for `/health?plugins`,
/// `/healthz` and the metrics. The loop ends soon after `stop` is set (a long
/// poll in progress returns first).
#[allow(
    clippy::too_many_arguments,
    reason = "the poller's flags, passed as they are"
)]
pub(crate) fn spawn_poller(
    policy: Arc<Policy>,
    metrics: Arc<Metrics>,
    url: String,
    interval: Duration,
    timeout: Duration,
    long_poll: Option<Duration>,
    stop: Arc<AtomicBool>,
) -> std::thread::JoinHandle<()> {
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
        if policy.store.is_none() {
            return;
        }
        // Why the pack the held ETag names was refused, if it was.
        let mut refusal: Option<String> = None;
        client.poll_observed(
            &url,
            interval,
            |candidate| policy.offer(candidate),
            |event| {
                let mut d = write(&policy.download);
                match event {
                    PollEvent::Activated { .. } => {
                        refusal = None;
                        d.last_success = Some(SystemTime::now());
                        d.last_error = None;
                    }
                    // A 304 for a refused pack: still refused (as OPA's
                    // bundle plugin stays in error until a bundle
                    // activates), counted once.
                    PollEvent::Unchanged { .. } => {
                        d.last_success = Some(SystemTime::now());
                        d.last_error = refusal.clone();
                    }
                    other => {
                        if let Some(e) = other.error() {
                            metrics.fetch_failed(e.code());
                            d.last_error = Some(e.to_string());
                            if matches!(other, PollEvent::Refused { .. }) {
                                refusal = d.last_error.clone();
                            }
                        }
                    }
                }
            },
            || stop.load(Ordering::Relaxed),
        );
    })
}

pub(crate) fn read<T>(l: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    l.read().unwrap_or_else(|p| p.into_inner())
}

pub(crate) fn write<T>(l: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    l.write().unwrap_or_else(|p| p.into_inner())
}
