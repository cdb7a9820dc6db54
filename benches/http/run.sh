#!/usr/bin/env bash
# Decisions over HTTP on loopback: cos-pdp beside the real OPA server
# (`opa run --server`), same bundle (the baseline pack), same request, same
# run, measured with wrk (a real load generator; installed from Debian's
# packages if missing). Prints wrk's summary for each server, alternating
# OPA and cos-pdp, and a last line per run with requests/s and p50/p99.
#
#   benches/http/run.sh [DURATION_S] [CONNECTIONS] [ROUNDS]   (default 20 32 2)
#
# The load generator shares the machine with the server (2 cores here): wrk
# gets one thread, the server the rest; both servers are measured alike.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
dur=${1:-20}; conns=${2:-32}; rounds=${3:-2}
if ! command -v wrk >/dev/null; then
  echo "installing wrk (Debian package)" >&2
  if [[ $(id -u) -eq 0 ]]; then apt-get install -y -qq wrk >&2; else sudo apt-get install -y -qq wrk >&2; fi
fi
cd "$root"
env -u RUST_BACKTRACE cargo build --release --locked -q -p cos-pdp -p cos-cli
opa=$(bash scripts/oracles/opa.sh | tail -n 1)
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
target/release/cos pack build examples/policy-packs/companyos-baseline -o "$work/baseline.tar.gz" >/dev/null
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
po=$(port); pc=$(port)
"$opa" run --server --addr "127.0.0.1:$po" --log-level error --bundle "$work/baseline.tar.gz" & pids+=($!)
env -u RUST_BACKTRACE target/release/cos-pdp --listen "127.0.0.1:$pc" --pack "$work/baseline.tar.gz" >/dev/null & pids+=($!)
for p in "$po" "$pc"; do
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$p/health?bundles" >/dev/null && break; sleep 0.1; done
done
# Both must give the same decision before anything is timed.
body=$(sed -n 's/^wrk.body = \[\[\(.*\)\]\]$/\1/p' benches/http/post.lua)
a=$(curl -s -XPOST -d "$body" "http://127.0.0.1:$po/v1/data/companyos/abac/decision")
b=$(curl -s -XPOST -d "$body" "http://127.0.0.1:$pc/v1/data/companyos/abac/decision")
python3 -c 'import json,sys; a,b=json.loads(sys.argv[1]),json.loads(sys.argv[2]); assert a==b, (a,b); print("same decision:", json.dumps(a["result"])[:120])' "$a" "$b"
echo "machine: $(nproc) cores; $(date -u +%FT%TZ); wrk -t1 -c$conns -d${dur}s"
for r in $(seq "$rounds"); do
  for who in opa cos-pdp; do
    p=$po; [[ $who == cos-pdp ]] && p=$pc
    out=$(wrk -t1 -c"$conns" -d"${dur}s" --latency -s benches/http/post.lua "http://127.0.0.1:$p/v1/data/companyos/abac/decision")
    echo "$out" | sed "s/^/[$who #$r] /"
    rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
    p50=$(echo "$out" | awk '$1=="50%" {print $2}')
    p99=$(echo "$out" | awk '$1=="99%" {print $2}')
    echo "RESULT $who round=$r rps=$rps p50=$p50 p99=$p99"
  done
done
