#!/usr/bin/env bash
# Wall-clock cost the Python and Node bindings add to one `evaluate` of the
# baseline ABAC decision, against the same call in Rust.
#
#   benches/bindings/overhead.sh [ROUNDS=30] [N=5000]
#
# Each round runs N calls in a plain loop (after a warm-up) in Rust
# (policy_latency, COS_BENCH_EVAL_ONLY=N), then Python
# (benches/python/bench_evaluate.py --loop N), then Node
# (benches/node/bench_evaluate.mjs --loop N); each prints its mean per call.
# The machine this was written on changes speed by up to 1.6× for seconds at
# a time (a shared virtual machine), so rounds are short and the summary is
# the median over rounds of each round's difference: the three loops of a
# round run within a second of each other, at the same speed.
# Needs: `companyos` installed in $PYTHON (default .venv-python/bin/python,
# `pip install ./bindings/python`) and bindings/node built (`npm run build`).
# Results: docs/benchmarks.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
unset RUST_BACKTRACE
rounds=${1:-30}
n=${2:-5000}
python=${PYTHON:-.venv-python/bin/python}

bench=$(cargo bench -p cos-benches --bench policy_latency --no-run --message-format=json 2>/dev/null |
  python3 -c 'import json,sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["target"]["name"] == "policy_latency":
        print(m["executable"])')

mean_of() { sed -n 's/.*mean=\([0-9.]*\)µs.*/\1/p' | head -1; }
rs=() py=() nd=()
for ((r = 1; r <= rounds; r++)); do
  a=$(cd benches && COS_BENCH_EVAL_ONLY=$n "$bench" | mean_of)
  b=$("$python" benches/python/bench_evaluate.py --loop "$n" | mean_of)
  c=$(node benches/node/bench_evaluate.mjs --loop "$n" | mean_of)
  printf 'round %2d: rust %s µs, python %s µs, node %s µs\n' "$r" "$a" "$b" "$c"
  rs+=("$a") py+=("$b") nd+=("$c")
done
python3 - "${rs[*]}" "${py[*]}" "${nd[*]}" <<'PY'
import statistics, sys
rs, py, nd = ([float(x) for x in a.split()] for a in sys.argv[1:4])
q = lambda xs: statistics.quantiles(xs, n=4)
print(f"rust: median {statistics.median(rs):.2f} µs per call (quartiles {q(rs)[0]:.2f}–{q(rs)[2]:.2f})")
for name, other in (("python", py), ("node", nd)):
    d = [o - r for o, r in zip(other, rs)]
    print(f"{name}: median {statistics.median(other):.2f} µs per call; added over rust: "
          f"median {statistics.median(d):+.2f} µs (quartiles {q(d)[0]:+.2f} to {q(d)[2]:+.2f})")
PY
