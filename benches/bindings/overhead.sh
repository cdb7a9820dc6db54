#!/usr/bin/env bash
# Wall-clock cost the Python and Node bindings add to one `evaluate` of the
# baseline ABAC decision, against the same call in Rust.
#
#   benches/bindings/overhead.sh [ROUNDS=7] [N=20000]
#
# Each round times N sequential calls in Rust (policy_latency with
# COS_BENCH_ONLY=evaluate), then Python (benches/python/bench_evaluate.py),
# then Node (benches/node/bench_evaluate.mjs), and prints the three medians;
# the summary is the median over rounds of each round's difference, so slow
# spells of this shared machine hit both sides of a difference alike.
# Needs: `companyos` installed in $PYTHON (default .venv-python/bin/python,
# `pip install ./bindings/python`) and bindings/node built (`npm run build`).
# Run with RUST_BACKTRACE unset. Results: docs/benchmarks.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds=${1:-7}
n=${2:-20000}
python=${PYTHON:-.venv-python/bin/python}

bench=$(cargo bench -p cos-benches --bench policy_latency --no-run --message-format=json 2>/dev/null |
  python3 -c 'import json,sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["target"]["name"] == "policy_latency":
        print(m["executable"])')

median_of() { sed -n 's/.*median=\([0-9.]*\)µs.*/\1/p' | head -1; }
rs=() py=() nd=()
for ((r = 1; r <= rounds; r++)); do
  a=$(cd benches && COS_BENCH_ONLY=evaluate "$bench" --bench | grep 'evaluate/baseline-abac' | median_of)
  b=$("$python" benches/python/bench_evaluate.py --n "$n" | grep '/evaluate:' | median_of)
  c=$(node benches/node/bench_evaluate.mjs --n "$n" | grep '/evaluate:' | median_of)
  printf 'round %d: rust %s µs, python %s µs, node %s µs\n' "$r" "$a" "$b" "$c"
  rs+=("$a") py+=("$b") nd+=("$c")
done
python3 - "${rs[*]}" "${py[*]}" "${nd[*]}" <<'PY'
import statistics, sys
rs, py, nd = ([float(x) for x in a.split()] for a in sys.argv[1:4])
for name, other in (("python", py), ("node", nd)):
    d = sorted(o - r for o, r in zip(other, rs))
    print(f"{name} - rust: median {statistics.median(d):+.1f} µs per call "
          f"(rounds: {', '.join(f'{x:+.1f}' for x in d)})")
PY
