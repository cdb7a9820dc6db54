#!/usr/bin/env bash
# Runs every test of the project: the second command of README.md, and what
# .ci/run runs. Works on a fresh machine of the `polyglot` kind: it installs
# what the tests need (Python venvs with the oracles, OPA and cosign built with
# go install, the Node package's npm dev dependencies, Maven's Kotlin and JNA)
# by itself.
#
#   scripts/test.sh                  every stage, in this order (what CI runs)
#   scripts/test.sh STAGE [STAGE…]   only those stages, each on its own: a
#                                    stage builds what it needs (the cos
#                                    binaries, an oracle) when it is missing
#   scripts/test.sh --list           the stages and what each runs
#   COS_SKIP_LINT=1 scripts/test.sh  every stage but lint (local iteration
#                                    only; CI refuses it)
#
# Stages: lint, rust, features, msrv, conformance, interop, python, node,
# uniffi (--list says what each runs).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

start=$(date +%s)
# Each step's header carries the seconds since the start (where CI time goes).
step() { printf '\n==> %s [%ss]\n' "$*" "$(( $(date +%s) - start ))"; }

all_stages=(lint rust features msrv conformance interop python node uniffi)
describe() {
  case $1 in
    lint) echo "cargo fmt --check, clippy -D warnings, cargo doc -D warnings, the fuzz targets type-check, cargo deny (deny.toml)" ;;
    rust) echo "cargo test --workspace (unit, property, doc, CLI, daemon and layering tests)" ;;
    features) echo "cos-policy without its http feature and cos-supplychain without sigstore, built and tested alone" ;;
    msrv) echo "the workspace builds (cargo check, all targets) with the declared rust-version" ;;
    conformance) echo "conformance corpora against OPA, OPA's own test suite, the differential tester" ;;
    interop) echo "tests/interop: pytest against outside oracles (OPA, cosign, promtool, securesystemslib, SBOM validators, ...)" ;;
    python) echo "the companyos Python package: pip install, pytest (CPython 3.11 and 3.9)" ;;
    node) echo "the @companyos/cos Node package, and OPA's TypeScript SDK against cos-pdp" ;;
    uniffi) echo "uniffi bindings: Kotlin on the JVM, Python" ;;
  esac
}
if [[ "${1:-}" == --list ]]; then
  for st in "${all_stages[@]}"; do printf '%-12s %s\n' "$st" "$(describe "$st")"; done
  exit 0
fi
if (( $# > 0 )); then
  stages=("$@")
  for st in "${stages[@]}"; do
    if ! printf '%s\n' "${all_stages[@]}" | grep -qx -- "$st"; then
      echo "unknown stage '$st'; the stages are: ${all_stages[*]} (scripts/test.sh --list)" >&2
      exit 2
    fi
  done
else
  stages=("${all_stages[@]}")
fi
if [[ "${COS_SKIP_LINT:-}" == 1 ]]; then
  if [[ "${CI:-}" == true ]]; then
    echo "COS_SKIP_LINT is not allowed in CI" >&2
    exit 2
  fi
  stages=("${stages[@]/lint/}")
fi
# wants STAGE: whether STAGE is to run.
wants() { printf '%s\n' "${stages[@]}" | grep -qx -- "$1"; }

# A clean clone gains nothing from incremental compilation, and its files
# would take gigabytes of disk.
if [[ "${CI:-}" == true ]]; then
  export CARGO_INCREMENTAL=0
fi

log_dir=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$log_dir"' EXIT

# venv DIR REQUIREMENTS [PYTHON]: a Python venv (of PYTHON, default python3)
# with REQUIREMENTS installed, rebuilt only when the requirements file changed
# (its sha256 is kept in the venv).
venv() {
  local dir=$1 req=$2 python=${3:-python3} stamp want
  stamp="$dir/.requirements.sha256"
  want=$(sha256sum "$req" | cut -d' ' -f1)
  if [[ ! -x "$dir/bin/python" || "$(cat "$stamp" 2>/dev/null)" != "$want" ]]; then
    rm -rf "$dir"
    "$python" -m venv "$dir"
    "$dir/bin/python" -m pip install --quiet --disable-pip-version-check -r "$req"
    echo "$want" > "$stamp"
  fi
}

# The oracles (Go builds of OPA and cosign, pip installs of the Python
# oracles) are mostly downloads and single-threaded phases: they are prepared
# in the background while cargo lints, builds and tests, and waited for
# (their output shown) just before the first test that needs them. Only the
# stages that use them start them.
venv_interop="${COS_INTEROP_VENV:-$root/.venv-interop}"
venv_python="${COS_PYTHON_VENV:-$root/.venv-python}"
oracles_go=""
oracles_py=""
if wants conformance || wants interop || wants node; then
  (
    bash "$root/scripts/oracles/opa.sh" | tail -n 1 > "$log_dir/opa.path"
    bash "$root/scripts/oracles/cosign.sh" | tail -n 1 > "$log_dir/cosign.path"
    bash "$root/scripts/oracles/promtool.sh" | tail -n 1 > "$log_dir/promtool.path"
  ) > "$log_dir/oracles-go.log" 2>&1 &
  oracles_go=$!
fi
if wants conformance || wants interop || wants python; then
  (
    venv "$venv_interop" "$root/tests/interop/requirements.txt"
    venv "$venv_python" "$root/bindings/python/tests/requirements.txt"
  ) > "$log_dir/oracles-py.log" 2>&1 &
  oracles_py=$!
fi
# await PID NAME: wait for a background preparation (once), show its output,
# stop on failure.
declare -A awaited=()
await() {
  local status=0
  [[ -n "${awaited[$2]:-}" ]] && return 0
  awaited[$2]=1
  wait "$1" || status=$?
  cat "$log_dir/$2.log"
  if (( status != 0 )); then
    echo "preparing $2 failed (exit $status)" >&2
    exit "$status"
  fi
}

# The Go-built and Debian oracles, as paths in COS_OPA_BIN, COS_COSIGN_BIN
# and COS_PROMTOOL_BIN.
go_oracles() {
  [[ -n "${awaited[oracles-go]:-}" ]] && return 0
  step "OPA, cosign and promtool oracles (scripts/oracles/opa.sh, cosign.sh: go install of pinned versions, once; promtool.sh: Debian's prometheus package when promtool is missing; started in the background)"
  await "$oracles_go" oracles-go
  COS_OPA_BIN="$(cat "$log_dir/opa.path")"
  COS_COSIGN_BIN="$(cat "$log_dir/cosign.path")"
  COS_PROMTOOL_BIN="$(cat "$log_dir/promtool.path")"
  export COS_OPA_BIN COS_COSIGN_BIN COS_PROMTOOL_BIN
  # (no `| head`: under pipefail an early-closing reader kills the writer with SIGPIPE)
  opa_version=$("$COS_OPA_BIN" version)
  echo "${opa_version%%$'\n'*}"
}

# The cos and cos-pdp binaries (and cos-tests' cos-differential), in
# target/debug, as COS_BIN and COS_PDP_BIN.
bins() {
  [[ -n "${COS_BIN:-}" ]] && return 0
  step "the cos and cos-pdp binaries for the interop tests (as cargo test built them)"
  # After the rust stage, `cargo test` built both binaries already (the
  # CLI's and the daemon's own integration tests run them); this only
  # confirms they are current and puts them in target/debug. Building them
  # with `-p cos-cli -p cos-pdp` would resolve features without the test
  # graph's and compile a second copy of much of the workspace (80 s of a
  # 2-core CI run).
  cargo build --workspace --tests --locked --quiet
  export COS_BIN="$root/target/debug/cos"
  export COS_PDP_BIN="$root/target/debug/cos-pdp"
}

stage_lint() {
  step "cargo fmt --check"
  cargo fmt --all -- --check
  step "cargo clippy (all targets, warnings are errors)"
  cargo clippy --workspace --all-targets --locked -- -D warnings
  step "cargo doc (warnings are errors)"
  RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --locked --quiet
  if [[ -f fuzz/Cargo.toml ]]; then
    step "fuzz targets type-check (stable; run them with cargo +nightly fuzz, see fuzz/README.md)"
    # The workspace's target dir: the fuzz crate's dependencies that resolve
    # alike (same versions and dev profile as the workspace, see
    # fuzz/Cargo.toml; about half of them) are not checked a second time.
    CARGO_TARGET_DIR="$root/target" cargo check --manifest-path fuzz/Cargo.toml --locked --quiet
  fi
  step "cargo deny: licences, advisories (vendored RustSec snapshot), bans, sources (scripts/deny.sh; cargo-deny installed once)"
  bash "$root/scripts/deny.sh"
}

stage_rust() {
  step "cargo test (unit, property, doc, CLI, daemon and layering tests)"
  cargo test --workspace --locked 2>&1 | tee "$log_dir/cargo-test.log"
}

stage_features() {
  # Alone on the command line, a package is built with its own features
  # only: the workspace build turns on cos-policy's `http` (cos-cli,
  # cos-pdp) and cos-supplychain's default `sigstore`.
  step "cos-policy without the http feature (cargo test -p cos-policy)"
  cargo test -p cos-policy --locked 2>&1 | tee "$log_dir/cargo-test-features-policy.log"
  step "cos-supplychain without the sigstore feature (cargo test -p cos-supplychain --no-default-features)"
  cargo test -p cos-supplychain --no-default-features --locked 2>&1 | tee "$log_dir/cargo-test-features-supplychain.log"
}

stage_msrv() {
  local msrv
  msrv=$(sed -nE 's/^rust-version = "([0-9.]+)"/\1/p' Cargo.toml)
  step "the workspace with Rust $msrv, the declared rust-version (cargo +$msrv check --workspace --all-targets; rustup installs the toolchain once)"
  if ! rustup run "$msrv" rustc --version >/dev/null 2>&1; then
    rustup toolchain install "$msrv" --profile minimal
  fi
  # Its own target dir: another compiler's artefacts would evict the
  # workspace's from cargo's cache.
  CARGO_TARGET_DIR="$root/target/msrv" cargo "+$msrv" check --workspace --all-targets --locked --quiet
  echo "Rust $msrv: the workspace builds"
}

stage_conformance() {
  bins
  go_oracles
  step "conformance expectations still match OPA (tests/conformance/regenerate.py --check)"
  python3 "$root/tests/conformance/regenerate.py" --opa "$COS_OPA_BIN" --check
  python3 "$root/tests/conformance/topics/regenerate.py" --opa "$COS_OPA_BIN" --check
  if ! wants rust; then
    step "conformance corpora on both evaluation paths (cargo test -p cos-tests --test conformance)"
    cargo test -p cos-tests --test conformance --locked 2>&1 | tee "$log_dir/cargo-test-conformance.log"
  fi

  step "OPA's own test suite against cos, as tests/opa-suite/status.json records it (tests/opa-suite/run.py --check; the cases come with OPA in Go's module cache)"
  # The interop venv has PyYAML.
  await "$oracles_py" oracles-py
  "$venv_interop/bin/python" "$root/tests/opa-suite/run.py" --check

  step "differential test against OPA's Go API (tests/differential/run.py --ci: fixed seed, 1200 random policies, at most 60 s; the harness is built by scripts/oracles/opa-harness.sh, once)"
  COS_OPA_HARNESS="$(bash "$root/scripts/oracles/opa-harness.sh" | tail -n 1)"
  export COS_OPA_HARNESS
  # cos's side is cos-tests' binary, which `cargo build --workspace --tests` built.
  COS_DIFFERENTIAL_BIN="$root/target/debug/cos-differential" python3 "$root/tests/differential/run.py" --ci --out "$log_dir/differential"
}

stage_interop() {
  bins
  go_oracles
  step "Python interop oracles (tests/interop/requirements.txt; venvs prepared in the background)"
  await "$oracles_py" oracles-py
  "$venv_interop/bin/python" -m pytest "$root/tests/interop" -q -p no:cacheprovider 2>&1 | tee "$log_dir/pytest.log"
}

stage_python() {
  step "Python package companyos (pip install ./bindings/python, then its pytest suite)"
  await "$oracles_py" oracles-py
  local pyvenv="$venv_python"
  # The README's command; maturin comes from the package's build requirements.
  # Both native packages build with the `dev` profile into the workspace's
  # target dir, so they reuse the dependencies `cargo test` compiled (with
  # overflow checks and debug assertions on, as the Rust tests run). An
  # optimised build compiled every dependency again: about 8 of a 2-core CI
  # run's minutes. The packages users install are release builds (README).
  export MATURIN_PEP517_ARGS="--profile dev" COS_CARGO_PROFILE=dev
  "$pyvenv/bin/python" -m pip install --quiet --disable-pip-version-check --force-reinstall --no-deps "$root/bindings/python"
  "$pyvenv/bin/python" -m pytest "$root/bindings/python/tests" -q -p no:cacheprovider 2>&1 | tee "$log_dir/pytest-python.log"

  step "companyos on CPython 3.9 (the abi3 wheel's oldest Python: strings are read through an encoded copy there)"
  # The same wheel (cargo's build is cached: pip only packs it again), in a
  # venv of the oldest Python the wheel is tagged for, with the last pytest
  # that runs on 3.9. Machines of this kind have it through pyenv; a machine
  # without it says so here, in the log and in the closing summary.
  # (pyenv's `python3.9` shim only runs when 3.9 is a selected version, so its
  # versions directory is looked in too.)
  local py39="" c
  for c in python3.9 "$(pyenv root 2>/dev/null || echo /nonexistent)"/versions/3.9*/bin/python3.9; do
    if "$c" -c 'import sys; assert sys.version_info[:2] == (3, 9)' >/dev/null 2>&1; then
      py39=$c
      break
    fi
  done
  if [[ -n "$py39" ]]; then
    echo "CPython 3.9: $py39"
    "$pyvenv/bin/python" -m pip wheel --quiet --disable-pip-version-check --no-deps -w "$log_dir/wheel" "$root/bindings/python"
    local venv39="${COS_PY39_VENV:-$root/.venv-py39}"
    venv "$venv39" "$root/bindings/python/tests/requirements-py39.txt" "$py39"
    "$venv39/bin/python" -m pip install --quiet --disable-pip-version-check --force-reinstall --no-deps "$log_dir"/wheel/companyos-*.whl
    "$venv39/bin/python" -m pytest "$root/bindings/python/tests" -q -p no:cacheprovider 2>&1 | tee "$log_dir/pytest-python39.log"
  else
    echo "NOT RUN: no CPython 3.9 (python3.9) on this machine" | tee "$log_dir/pytest-python39.log"
  fi
}

stage_node() {
  export COS_CARGO_PROFILE=dev
  step "Node package @companyos/cos (bindings/node/test.sh: npm ci, npm run build, node:test, tsc --noEmit)"
  bash "$root/bindings/node/test.sh" 2>&1 | tee "$log_dir/node.log"

  bins
  go_oracles
  step "OPA's TypeScript SDK against cos-pdp and OPA (tests/sdk/test.sh: npm ci, node:test)"
  bash "$root/tests/sdk/test.sh" 2>&1 | tee "$log_dir/sdk.log"
}

stage_uniffi() {
  step "uniffi bindings (bindings/uniffi/test.sh: generate Kotlin/Swift/Python, mvn test on the JVM, Python unittest)"
  bash "$root/bindings/uniffi/test.sh" 2>&1 | tee "$log_dir/uniffi.log"
}

for st in "${stages[@]}"; do
  [[ -n "$st" ]] && "stage_$st"
done

# One closing line over every runner: cargo's per-binary results and pytest's.
read -r passed failed < <(
  { grep -hsE '^test result:' "$log_dir"/cargo-test*.log | sed -E 's/.* ([0-9]+) passed; ([0-9]+) failed.*/\1 \2/' || true
    for log in "$log_dir/pytest.log" "$log_dir/pytest-python.log" "$log_dir/pytest-python39.log"; do
      [[ -f "$log" ]] || continue
      # `|| true`: errexit holds in here, and grep finding nothing is fine.
      tail -n 1 "$log" | grep -oE '[0-9]+ passed' | sed -E 's/ passed/ 0/' || true
      tail -n 1 "$log" | grep -oE '[0-9]+ failed' | sed -E 's/([0-9]+) failed/0 \1/' || true
    done
    # "node binding: P passed, F failed; …" and "uniffi: ok: kotlin P passed, F failed (…); python P passed, F failed …"
    for log in "$log_dir/node.log" "$log_dir/sdk.log" "$log_dir/uniffi.log"; do
      [[ -f "$log" ]] || continue
      tail -n 1 "$log" | grep -oE '[0-9]+ passed, [0-9]+ failed' | sed -E 's/([0-9]+) passed, ([0-9]+) failed/\1 \2/' || true
    done
  } | awk '{p+=$1; f+=$2} END {print p+0, f+0}')
ran=() skipped=()
for st in "${all_stages[@]}"; do
  if wants "$st"; then ran+=("$st"); else skipped+=("$st"); fi
done
step "all stages passed in $(( $(date +%s) - start )) s: ${ran[*]}"
echo "tests: $passed passed, $failed failed"
if (( ${#skipped[@]} > 0 )); then
  echo "NOT RUN: stages ${skipped[*]} (scripts/test.sh with no arguments runs them all)"
fi
grep -h '^NOT RUN' "$log_dir"/*.log 2>/dev/null || true
