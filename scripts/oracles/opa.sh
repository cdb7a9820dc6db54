#!/usr/bin/env bash
# Builds the real OPA engine (the oracle for cos-policy's interop tests) at a
# pinned version, once, into $COS_ORACLES_DIR/bin/opa (default .oracles/ in the
# repository). Prints the binary's path as its last line of standard output.
#
# It uses `go install` through the Go module proxy; a second run with the
# binary in place and at the pinned version does nothing.
set -euo pipefail
OPA_VERSION="${OPA_VERSION:-v1.22.2}"
root="$(cd "$(dirname "$0")/../.." && pwd)"
dir="${COS_ORACLES_DIR:-$root/.oracles}"
bin="$dir/bin/opa"
# Capture first, then match: `| grep -q` would SIGPIPE opa under pipefail.
have=""
[[ -x "$bin" ]] && have=$("$bin" version 2>/dev/null || true)
if [[ $'\n'"$have" == *$'\n'"Version: ${OPA_VERSION#v}"$'\n'* ]]; then
  echo "$bin"
  exit 0
fi
mkdir -p "$dir/bin"
echo "building opa $OPA_VERSION with $(go version) (takes a few minutes on 2 cores)" >&2
start=$(date +%s)
GOBIN="$dir/bin" GOFLAGS=-mod=mod CGO_ENABLED=0 \
  go install "github.com/open-policy-agent/opa@$OPA_VERSION" >&2
echo "built opa in $(( $(date +%s) - start )) s" >&2
"$bin" version >&2
echo "$bin"
