#!/usr/bin/env bash
# cos's DLP detectors beside Presidio's pattern recognizers: precision and
# recall on a labelled corpus generated with presidio-evaluator, and
# throughput on the text of the criterion bench `dlp/scan/4MiB`.
# Results go to docs/benchmarks.md by hand; nothing here is a test.
#
#   benches/dlp-presidio/run.sh [all|accuracy|throughput]
#
# Environment: OUT (default target/dlp-presidio), VENV (default
# .venv-presidio, built from requirements.txt when missing or when the file
# changed; about 1 GB, it pulls spaCy and transformers through
# presidio-evaluator), CARGO_TARGET_DIR as usual. Unset RUST_BACKTRACE for
# the timings (see docs/benchmarks.md).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
what=${1:-all}
out=${OUT:-$root/target/dlp-presidio}
venv=${VENV:-$root/.venv-presidio}
mkdir -p "$out"

req="$here/requirements.txt"
want=$(sha256sum "$req" | cut -d' ' -f1)
if [[ ! -x "$venv/bin/python" || "$(cat "$venv/.requirements.sha256" 2>/dev/null)" != "$want" ]]; then
  echo "==> building $venv" >&2
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$req"
  echo "$want" > "$venv/.requirements.sha256"
fi
py="$venv/bin/python"
export PYTHONHASHSEED=0 TOKENIZERS_PARALLELISM=false

echo "==> cargo build --profile bench -p cos-benches --example dlp_spans" >&2
(cd "$root" && cargo build --quiet --profile bench -p cos-benches --example dlp_spans)
bin="${CARGO_TARGET_DIR:-$root/target}/release/examples/dlp_spans"

if [[ $what == all || $what == accuracy ]]; then
  echo "==> corpus" >&2
  "$py" "$here/make_corpus.py" --out "$out/corpus.jsonl" 2> "$out/make_corpus.log"
  got=$(sha256sum "$out/corpus.jsonl" | cut -d' ' -f1)
  if [[ "$got" != "$(cat "$here/corpus.sha256")" ]]; then
    echo "warning: corpus sha256 $got differs from corpus.sha256 (other package versions?)" >&2
  fi
  echo "==> cos and Presidio on the corpus" >&2
  "$bin" corpus "$out/corpus.jsonl" > "$out/cos.jsonl"
  "$py" "$here/presidio_spans.py" corpus "$out/corpus.jsonl" "$out/presidio.jsonl" 2> "$out/presidio.log"
  "$py" "$here/score.py" "$out/corpus.jsonl" "$out/cos.jsonl" "$out/presidio.jsonl" \
    --details "$out/details.md" --json "$out/scores.json" | tee "$out/scores.md"
fi

if [[ $what == all || $what == throughput ]]; then
  echo "==> throughput on cos_benches::mixed_text(4 MiB), one core each" >&2
  "$bin" mixed-text 4194304 "$out/mixed.txt"
  echo "cos:" >&2
  /usr/bin/time -f "cos CPU: %U s user, %S s sys" "$bin" throughput "$out/mixed.txt" 20 | tee "$out/cos-throughput.json"
  echo "Presidio (CPU time, one pass, 64 Ki characters per analyze call):" >&2
  "$py" "$here/presidio_spans.py" throughput "$out/mixed.txt" --repeat 1 --engine \
    --json "$out/presidio-throughput.json" 2>&1 | grep -v PyTorch
fi
