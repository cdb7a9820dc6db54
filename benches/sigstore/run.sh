#!/usr/bin/env bash
# Sigstore bundle verification beside PyPI `sigstore` (sigstore-python) on the
# same bundles: published bundles saved in cos-supplychain/tests/data/sigstore
# (a keyless cosign blob signature with an RFC 3161 timestamp, a GitHub
# Actions DSSE attestation, a key bundle with a Rekor entry), the same
# public-good trusted root, the same identity policy. Offline; writes nothing
# into the repository; prints Markdown for docs/benchmarks.md.
#
#   benches/sigstore/run.sh
#   COS_BIN=target/release/cos VENV=/path/venv RUNS=10 ITERATIONS=200 benches/sigstore/run.sh
#
# Two measurements:
# 1. in-process, per call: bundle parsed and verified, trusted root loaded once
#    (benches/examples/sigstore_verify.rs vs benches/sigstore/sigstore_python.py);
# 2. the command line, per run (what a CI step pays): `cos verify-blob` vs
#    `python -m sigstore verify identity --offline` (its embedded public-good root).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
SIGSTORE_VERSION=4.5.1   # as tests/interop/requirements.txt
RUNS=${RUNS:-10}
ITERATIONS=${ITERATIONS:-200}
data="$root/cos-supplychain/tests/data/sigstore"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
unset RUST_BACKTRACE

cargo build --profile bench -p cos-benches --example sigstore_verify --locked --quiet
example="$root/target/release/examples/sigstore_verify"
if [[ -n "${COS_BIN:-}" ]]; then
  cos=$COS_BIN
else
  cargo build --release -p cos-cli --locked --quiet
  cos="$root/target/release/cos"
fi
# VENV: a venv with sigstore==$SIGSTORE_VERSION (e.g. .venv-interop); else a temporary one.
venv=${VENV:-$work/venv}
if [[ ! -x "$venv/bin/python" ]]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "sigstore==$SIGSTORE_VERSION"
fi
py="$venv/bin/python"
export HOME="$work/home"   # from here on: sigstore-python's TUF cache stays in the temp dir
have=$("$py" -c 'import importlib.metadata as m; print(m.version("sigstore"))')

# median CMD...: median wall time in ms of RUNS runs (each must succeed).
median() {
  local times=()
  for _ in $(seq "$RUNS"); do
    local t0 t1
    t0=$(date +%s%N)
    "$@" >/dev/null 2>&1 || { echo "failed: $*" >&2; exit 1; }
    t1=$(date +%s%N)
    times+=($(( (t1 - t0) / 1000000 )))
  done
  printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'
}

"$example" "$data" "$ITERATIONS" > "$work/cos.jsonl"
"$py" "$root/benches/sigstore/sigstore_python.py" "$data" "$((ITERATIONS / 4))" > "$work/py.jsonl"

echo "machine: $(nproc) cores, $(uname -m), $(date -u +%Y-%m-%d); sigstore-python $have"
echo
echo "In-process, one call = parse the bundle + verify (trusted root loaded once); best of 5 batches:"
echo
echo "| bundle | cos (µs) | sigstore-python (µs) | ratio |"
echo "|---|---|---|---|"
"$py" - "$work/cos.jsonl" "$work/py.jsonl" <<'PY'
import json, sys
cos = {d["case"]: d["us_per_verify"] for d in map(json.loads, open(sys.argv[1]))}
py = {d["case"]: d["us_per_verify"] for d in map(json.loads, open(sys.argv[2]))}
for case, us in cos.items():
    theirs = py.get(case)
    ratio = f"{theirs / us:.1f}×" if theirs else "n/a (sigstore-python has no key-bundle verification)"
    print(f"| {case} | {us:,.0f} | {f'{theirs:,.0f}' if theirs else '—'} | {ratio} |")
PY

identity=w.vollprecht@gmail.com
issuer=https://github.com/login/oauth
t_cos=$(median "$cos" verify-blob --trusted-root "$data/public-good-trusted-root.json" \
  --certificate-identity "$identity" --certificate-oidc-issuer "$issuer" \
  --bundle "$data/cosign-v3-blob.sigstore.json" "$data/cosign-v3-blob.txt")
t_py=$(median "$py" -m sigstore verify identity --offline --bundle "$data/cosign-v3-blob.sigstore.json" \
  --cert-identity "$identity" --cert-oidc-issuer "$issuer" "$data/cosign-v3-blob.txt")
dsse_id=https://github.com/prefix-dev/sigstore-example/.github/workflows/action.yaml@refs/heads/main
dsse_iss=https://token.actions.githubusercontent.com
t_cos_dsse=$(median "$cos" verify-blob --trusted-root "$data/public-good-trusted-root.json" \
  --certificate-identity "$dsse_id" --certificate-oidc-issuer "$dsse_iss" \
  --bundle "$data/conda-attestation.sigstore.json" "$data/signed-package-2.1.0-hb0f4dca_0.conda")
t_py_dsse=$(median "$py" -m sigstore verify identity --offline --bundle "$data/conda-attestation.sigstore.json" \
  --cert-identity "$dsse_id" --cert-oidc-issuer "$dsse_iss" "$data/signed-package-2.1.0-hb0f4dca_0.conda")
echo
echo "Command line, one process per verification; median of $RUNS runs (ms, wall):"
echo
echo "| bundle | \`cos verify-blob --trusted-root …\` | \`python -m sigstore verify identity --offline …\` | ratio |"
echo "|---|---|---|---|"
ratio() { python3 -c "import sys; a, b = map(float, sys.argv[1:]); print(f'{b / max(a, 1):.0f}×')" "$1" "$2"; }
echo "| keyless message signature (cosign-v3-blob) | $t_cos | $t_py | $(ratio "$t_cos" "$t_py") |"
echo "| keyless DSSE attestation (conda-attestation) | $t_cos_dsse | $t_py_dsse | $(ratio "$t_cos_dsse" "$t_py_dsse") |"
