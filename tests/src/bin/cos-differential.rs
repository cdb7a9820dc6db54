//! The cos side of the differential tester (tests/differential/run.py): reads
//! the same JSON lines as the OPA harness (tests/differential/opa-harness) on
//! standard input,
//!
//! ```text
//! {"id": "...", "modules": {"p.rego": "..."}, "data": {...}, "input": ..., "query": "data.p.x"}
//! ```
//!
//! evaluates each case through [`cos_policy::PolicyEngine`] twice, on the
//! register VM (`EngineOptions { vm: true }`) and on the interpreter alone
//! (`vm: false`), and writes one JSON line per case:
//!
//! ```text
//! {"id": "...", "vm": ANSWER, "interpreter": ANSWER}
//! ```
//!
//! where `ANSWER` is `{"result": VALUE}`, `{"undefined": true}` or
//! `{"error": {"code": "<cos_policy::Error::code()>", "stage": "load" | "eval", "message": "..."}}`.
//! A panic is reported as an error with code `panic` (a bug, whatever OPA says).

use std::collections::BTreeMap;
use std::io::{BufRead, Write};
use std::path::Path;
use std::time::Duration;

use cos_policy::{EngineOptions, Limits, Pack, PolicyEngine};
use serde::Deserialize;
use serde_json::{Value, json};

#[derive(Deserialize)]
struct Request {
    #[serde(default)]
    id: String,
    modules: BTreeMap<String, String>,
    #[serde(default)]
    data: Option<Value>,
    #[serde(default)]
    input: Option<Value>,
    query: String,
}

fn error(stage: &str, e: &cos_policy::Error) -> Value {
    json!({"error": {"code": e.code(), "stage": stage, "message": e.to_string()}})
}

/// Writes the case as an OPA bundle directory (modules, `data.json`,
/// `.manifest`) under `dir`.
fn write_bundle(dir: &Path, req: &Request) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let manifest = json!({"revision": "differential", "rego_version": 1});
    std::fs::write(dir.join(".manifest"), manifest.to_string())?;
    for (name, src) in &req.modules {
        let p = dir.join(name);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(p, src)?;
    }
    if let Some(data) = &req.data {
        std::fs::write(dir.join("data.json"), data.to_string())?;
    }
    Ok(())
}

fn answer(pack: &Pack, req: &Request, vm: bool) -> Value {
    let options = EngineOptions {
        vm,
        time_limit: Some(Duration::from_secs(5)),
        ..EngineOptions::default()
    };
    let engine = match PolicyEngine::new_within(pack, options, Duration::from_secs(10)) {
        Ok(e) => e,
        Err(e) => return error("load", &e),
    };
    // Exact JSON text read back by serde_json: numbers beyond 64 bits
    // become the nearest float, as the harness compares them.
    let result = engine
        .evaluate(&req.query, req.input.as_ref())
        .and_then(|o| o.map(|o| o.to_json_string()).transpose());
    match result {
        Ok(Some(text)) => match serde_json::from_str::<Value>(&text) {
            Ok(v) => json!({"result": v}),
            Err(e) => {
                json!({"error": {"code": "harness", "stage": "eval", "message": e.to_string()}})
            }
        },
        Ok(None) => json!({"undefined": true}),
        Err(e) => error("eval", &e),
    }
}

fn run(req: &Request, scratch: &Path) -> Value {
    let dir = scratch.join("case");
    let _ = std::fs::remove_dir_all(&dir);
    if let Err(e) = write_bundle(&dir, req) {
        let both = json!({"error": {"code": "harness", "stage": "load", "message": e.to_string()}});
        return json!({"id": req.id, "vm": both, "interpreter": both});
    }
    let pack = Pack::load(&dir, &Limits::default());
    let _ = std::fs::remove_dir_all(&dir);
    let (vm, interpreter) = match pack {
        Ok(pack) => {
            let once = |vm: bool| {
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| answer(&pack, req, vm)))
                    .unwrap_or_else(|p| {
                        let message = p
                            .downcast_ref::<String>()
                            .cloned()
                            .or_else(|| p.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                            .unwrap_or_default();
                        json!({"error": {"code": "panic", "stage": "eval", "message": message}})
                    })
            };
            (once(true), once(false))
        }
        Err(e) => (error("load", &e), error("load", &e)),
    };
    json!({"id": req.id, "vm": vm, "interpreter": interpreter})
}

fn main() -> std::io::Result<()> {
    let scratch = std::env::temp_dir().join(format!("cos-differential-{}", std::process::id()));
    std::fs::create_dir_all(&scratch)?;
    // Panics are caught and reported per case; keep the default hook quiet.
    std::panic::set_hook(Box::new(|_| {}));
    let stdin = std::io::stdin();
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    for line in stdin.lock().lines() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let reply = match serde_json::from_str::<Request>(&line) {
            Ok(req) => run(&req, &scratch),
            Err(e) => {
                let both = json!({"error": {"code": "bad_request", "stage": "load", "message": e.to_string()}});
                json!({"id": Value::Null, "vm": both, "interpreter": both})
            }
        };
        writeln!(out, "{reply}")?;
        out.flush()?;
    }
    let _ = std::fs::remove_dir_all(&scratch);
    Ok(())
}
