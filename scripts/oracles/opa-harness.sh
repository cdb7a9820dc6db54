#!/usr/bin/env bash
# Builds the OPA differential harness (tests/differential/opa-harness: OPA's
# Go API, the rego package of github.com/open-policy-agent/opa pinned in its
# go.mod/go.sum) into $COS_ORACLES_DIR/bin/opa-harness (default .oracles/ in
# the repository, which .gitignore lists), once. Prints the binary's path as
# its last line of standard output; everything else goes to standard error.
#
# The binary is rebuilt when it is missing or older than any of the harness's
# sources (main.go, go.mod, go.sum); otherwise this does nothing (~0.01 s).
#
# Caches: Go's defaults (module cache `go env GOMODCACHE`, build cache
# `go env GOCACHE`), shared with scripts/oracles/opa.sh, which fills the module
# cache with the same OPA version: after it, the build needs no download.
# GOFLAGS=-mod=mod, CGO_ENABLED=0.
#
# Cost, measured on the 2-core CI-like machine with Go 1.26.8: about 60 s with
# a warm module cache and a cold build cache, a few seconds after opa.sh has
# built OPA (the build cache holds its packages).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
src="$root/tests/differential/opa-harness"
dir="${COS_ORACLES_DIR:-$root/.oracles}"
bin="$dir/bin/opa-harness"
stale=0
if [[ ! -x "$bin" ]]; then
  stale=1
else
  for f in "$src"/*.go "$src/go.mod" "$src/go.sum"; do
    [[ "$f" -nt "$bin" ]] && stale=1
  done
fi
if (( stale == 0 )); then
  echo "$bin"
  exit 0
fi
go_bin=$(command -v go || true)
[[ -z "$go_bin" && -x /usr/local/go/bin/go ]] && go_bin=/usr/local/go/bin/go
if [[ -z "$go_bin" ]]; then
  echo "opa-harness: no Go toolchain (go not on PATH, no /usr/local/go/bin/go)" >&2
  exit 1
fi
mkdir -p "$dir/bin"
echo "building the OPA differential harness with $("$go_bin" version)" >&2
start=$(date +%s)
(cd "$src" && GOFLAGS=-mod=mod CGO_ENABLED=0 "$go_bin" build -o "$bin.tmp" .) >&2
mv "$bin.tmp" "$bin"
echo "built opa-harness in $(( $(date +%s) - start )) s" >&2
echo "$bin"
