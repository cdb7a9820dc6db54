//! cos's DLP detectors for the comparison with Presidio
//! (`benches/dlp-presidio/run.sh`, results in docs/benchmarks.md):
//!
//! - `dlp_spans corpus CORPUS.jsonl`: for each line `{"id", "text", …}` of the
//!   labelled corpus, prints `{"id", "spans": [{"entity", "start", "end"}]}`
//!   with `Dlp::default()` (every detector), offsets in Unicode code points
//!   (Python string indices, as the corpus and Presidio use), not bytes.
//! - `dlp_spans mixed-text BYTES OUT`: writes `cos_benches::mixed_text(BYTES)`,
//!   the text of the criterion bench `dlp/scan/4MiB` when BYTES = 4194304.
//! - `dlp_spans throughput FILE [REPEAT]`: `Dlp::scan` over the file REPEAT
//!   times (default 20) on this thread; prints the best time, MB/s and the
//!   findings per entity.
//!
//! Build with `cargo build --profile bench -p cos-benches --example dlp_spans`.

use std::collections::BTreeMap;
use std::error::Error;
use std::io::{BufRead, BufWriter, Write};

use cos_benches::mixed_text;
use cos_policy::dlp::Dlp;

type Res<T> = Result<T, Box<dyn Error>>;

fn main() -> Res<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["corpus", path] => corpus(path),
        ["mixed-text", bytes, out] => Ok(std::fs::write(out, mixed_text(bytes.parse()?))?),
        ["throughput", path] => throughput(path, 20),
        ["throughput", path, repeat] => throughput(path, repeat.parse()?),
        _ => Err(
            "usage: dlp_spans corpus FILE | mixed-text BYTES OUT | throughput FILE [REPEAT]".into(),
        ),
    }
}

fn corpus(path: &str) -> Res<()> {
    let dlp = Dlp::default();
    let file = std::io::BufReader::new(std::fs::File::open(path)?);
    let mut out = BufWriter::new(std::io::stdout().lock());
    for line in file.lines() {
        let row: serde_json::Value = serde_json::from_str(&line?)?;
        let text = row["text"].as_str().ok_or("a corpus line without text")?;
        let spans: Vec<serde_json::Value> = dlp
            .scan(text)?
            .into_iter()
            .map(|d| {
                serde_json::json!({
                    "entity": d.entity,
                    "start": chars(text, d.span.start),
                    "end": chars(text, d.span.end),
                })
            })
            .collect();
        serde_json::to_writer(
            &mut out,
            &serde_json::json!({"id": row["id"], "spans": spans}),
        )?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    Ok(())
}

/// The code-point index of byte offset `byte` (a character boundary).
fn chars(text: &str, byte: usize) -> usize {
    text.get(..byte).map_or(0, |s| s.chars().count())
}

fn throughput(path: &str, repeat: usize) -> Res<()> {
    let text = std::fs::read_to_string(path)?;
    let dlp = Dlp::default();
    let mut best = f64::INFINITY;
    let mut found = Vec::new();
    for _ in 0..repeat.max(1) {
        let t0 = std::time::Instant::now();
        found = dlp.scan(std::hint::black_box(&text))?;
        best = best.min(t0.elapsed().as_secs_f64());
    }
    let mut per: BTreeMap<&str, usize> = BTreeMap::new();
    for d in &found {
        *per.entry(d.entity.as_str()).or_default() += 1;
    }
    println!(
        "{}",
        serde_json::json!({
            "bytes": text.len(),
            "repeat": repeat,
            "best_s": best,
            "MB_per_s": text.len() as f64 / best / 1e6,
            "MiB_per_s": text.len() as f64 / best / f64::from(1u32 << 20),
            "findings": found.len(),
            "per_entity": per,
        })
    );
    Ok(())
}
