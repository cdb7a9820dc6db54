//! The Rego front end (parse, cos's OPA-parity checks, regorus's compile):
//! arbitrary bytes as a module never panic, overflow the stack or hang; a
//! module that compiles evaluates `data` under a short time limit without
//! panicking. Runs on a thread with a 2 MiB stack, the smallest a cos-pdp
//! decision worker (or a tokio worker) has.

#![no_main]

use std::collections::BTreeMap;
use std::time::Duration;

use cos_policy::{Module, PackFiles};
use cos_policy::{EngineOptions, Limits, Pack, PolicyEngine};
use libfuzzer_sys::fuzz_target;

fn frontend(source: String) {
    let module = Module {
        path: "fuzz.rego".into(),
        source: source.clone(),
    };
    let _ = cos_policy::check_module(&module, true);
    let _ = cos_policy::check_module(&module, false);
    let files: BTreeMap<String, Vec<u8>> = [
        ("manifest.yaml".to_owned(), b"name: fuzz\nversion: 1.0.0\nrevision: r1\n".to_vec()),
        ("fuzz.rego".to_owned(), source.into_bytes()),
    ]
    .into_iter()
    .collect();
    let Ok(files) = PackFiles::from_map(files, &Limits::default()) else {
        return;
    };
    let Ok(pack) = Pack::from_files(files) else {
        return;
    };
    let options = EngineOptions {
        time_limit: Some(Duration::from_millis(50)),
        ..EngineOptions::default()
    };
    if let Ok(engine) = PolicyEngine::new(&pack, options) {
        let _ = engine.evaluate("data", &serde_json::json!({"x": 1}));
    }
}

fuzz_target!(|data: &[u8]| {
    let source = String::from_utf8_lossy(data).into_owned();
    std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(move || frontend(source))
        .expect("spawn")
        .join()
        .expect("the front end panicked");
});
