//! A bounded run of the `rego_frontend` fuzz target's property on stable
//! Rust, for CI (the coverage-guided run is `cargo +nightly fuzz run
//! rego_frontend`, fuzz/README.md): every module of the conformance corpus
//! and of `fuzz/seeds/rego_frontend`, and a fixed number of deterministic
//! mutations of them (bytes cut, repeated, swapped, spliced, and Rego tokens
//! inserted up to a thousand times in a row, which is how deep nesting is
//! reached), go through the front end on a thread with a 2 MiB stack. Parse,
//! cos's checks and regorus's compile must return (no panic, no stack
//! overflow: either aborts this test process), and a module that compiles
//! must evaluate `data` under a 50 ms limit. Bounded in count (`CASES`) and
//! time (`BUDGET`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a failure should panic with context"
)]

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use cos_policy::{EngineOptions, Limits, Pack, PolicyEngine};
use cos_policy::{Module, PackFiles};

/// A result as a JSON value (numbers beyond 64 bits read back as the
/// nearest float), for comparisons with `json!`.
fn js(o: Option<cos_policy::Output>) -> Option<serde_json::Value> {
    o.map(|o| serde_json::from_str(&o.to_json_string().unwrap()).unwrap())
}

const CASES: usize = 3000;
const BUDGET: Duration = Duration::from_secs(90);

/// Tokens whose repetition reaches every recursive construct of the parser.
const TOKENS: [&str; 24] = [
    "-",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    "not ",
    " with input as ",
    "+",
    "|",
    "&",
    ".",
    "x",
    "[_]",
    "\"a\"",
    "1",
    " if ",
    " else := ",
    "some x in ",
    "every x in ",
    ";",
    "\n",
    ":= ",
];

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*: deterministic, no dependency.
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn seeds() -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut out = Vec::new();
    let cases = root.join("tests/conformance/topics/cases");
    let mut files: Vec<_> = std::fs::read_dir(&cases)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    for f in files {
        let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&f).unwrap()).unwrap();
        for case in doc["cases"].as_array().unwrap() {
            for src in case["modules"].as_object().unwrap().values() {
                out.push(src.as_str().unwrap().to_owned());
            }
        }
    }
    let fuzz = root.join("fuzz/seeds/rego_frontend");
    let mut more: Vec<_> = std::fs::read_dir(&fuzz)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    more.sort();
    for f in more {
        out.push(std::fs::read_to_string(f).unwrap());
    }
    out
}

fn mutate(rng: &mut Rng, seeds: &[String]) -> String {
    let mut s: Vec<u8> = seeds[rng.below(seeds.len())].clone().into_bytes();
    for _ in 0..1 + rng.below(3) {
        let at = rng.below(s.len() + 1);
        match rng.below(6) {
            0 if !s.is_empty() => {
                let end = (at + 1 + rng.below(16)).min(s.len());
                s.drain(at.min(end)..end);
            }
            1 | 2 => {
                let token = TOKENS[rng.below(TOKENS.len())];
                let times = [1, 2, 17, 200, 1000][rng.below(5)];
                let ins = token.repeat(times).into_bytes();
                s.splice(at..at, ins);
            }
            3 if s.len() > 1 => {
                let (i, j) = (rng.below(s.len()), rng.below(s.len()));
                s.swap(i, j);
            }
            4 => {
                let other = seeds[rng.below(seeds.len())].as_bytes();
                let from = rng.below(other.len());
                let part = &other[from..(from + rng.below(64)).min(other.len())];
                s.splice(at..at, part.iter().copied());
            }
            _ if !s.is_empty() => {
                let end = (at + rng.below(32)).min(s.len());
                let part = s[at.min(end)..end].to_vec();
                s.splice(at..at, part);
            }
            _ => {}
        }
    }
    String::from_utf8_lossy(&s).into_owned()
}

fn frontend(source: String) {
    let module = Module {
        path: "fuzz.rego".into(),
        source: source.clone(),
    };
    let _ = cos_policy::check_module(&module, true);
    let files: BTreeMap<String, Vec<u8>> = [
        (
            "manifest.yaml".to_owned(),
            b"name: fuzz\nversion: 1.0.0\nrevision: r1\n".to_vec(),
        ),
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
        let _ = engine
            .evaluate("data", Some(&serde_json::json!({"x": 1})))
            .map(js);
    }
}

#[test]
fn the_rego_front_end_survives_mutated_modules() {
    let seeds = seeds();
    assert!(seeds.len() > 300, "{} seeds", seeds.len());
    let mut rng = Rng(0x5eed_0018);
    let started = Instant::now();
    let mut inputs: Vec<String> = seeds.clone();
    inputs.extend((0..CASES).map(|_| mutate(&mut rng, &seeds)));
    let mut ran = 0;
    for source in inputs {
        if started.elapsed() > BUDGET {
            break;
        }
        let shown: String = source.chars().take(120).collect();
        if std::env::var_os("COS_FUZZ_TRACE").is_some() {
            // An abort (stack overflow) ends the process: say what ran last.
            eprintln!("input {ran}: {} bytes: {shown:?}", source.len());
        }
        std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn(move || frontend(source))
            .unwrap()
            .join()
            .unwrap_or_else(|_| panic!("the front end panicked on {shown:?}"));
        ran += 1;
    }
    // Most of the run must happen inside the budget, or it proves little.
    assert!(
        ran > seeds.len() + CASES / 2,
        "only {ran} inputs in {BUDGET:?}"
    );
}
