#!/usr/bin/env bash
# Builds the real cosign (the oracle for Sigstore key bundles) at a pinned
# version, once, into $COS_ORACLES_DIR/bin/cosign (default .oracles/ in the
# repository, which .gitignore lists). Prints the binary's path as its last
# line of standard output; everything else goes to standard error.
#
# `go install module@version` through the Go module proxy (cosign v2's
# go.mod has no replace directives). A second run with the binary in place
# and at the pinned version does nothing. Caches: Go's defaults (GOMODCACHE,
# GOCACHE), shared with the OPA build. CGO_ENABLED=0 (no PKCS#11 tokens).
#
# Cost, measured on the 2-core machine with Go 1.26.8 while other builds
# ran: cold (empty module and build caches) about 10 min wall, 6.5 min CPU,
# ~140 MB binary; with the binary present, ~0.1 s.
set -euo pipefail
COSIGN_VERSION="${COSIGN_VERSION:-v2.6.5}"
root="$(cd "$(dirname "$0")/../.." && pwd)"
dir="${COS_ORACLES_DIR:-$root/.oracles}"
bin="$dir/bin/cosign"
have=""
[[ -x "$bin" ]] && have=$("$bin" version 2>/dev/null || true)
if [[ "$have" == *"GitVersion:"*"${COSIGN_VERSION}"* ]]; then
  echo "$bin"
  exit 0
fi
go_bin=$(command -v go || true)
[[ -z "$go_bin" && -x /usr/local/go/bin/go ]] && go_bin=/usr/local/go/bin/go
if [[ -z "$go_bin" ]]; then
  echo "cosign.sh: no Go toolchain (go not on PATH, no /usr/local/go/bin/go)" >&2
  exit 1
fi
mkdir -p "$dir/bin"
echo "building cosign $COSIGN_VERSION with $("$go_bin" version) (5-10 minutes cold on 2 cores)" >&2
start=$(date +%s)
# (`cosign version` reports the module version go install recorded.)
GOBIN="$dir/bin" GOFLAGS=-mod=mod CGO_ENABLED=0 \
  "$go_bin" install "github.com/sigstore/cosign/v2/cmd/cosign@$COSIGN_VERSION" >&2
echo "built cosign in $(( $(date +%s) - start )) s" >&2
"$bin" version >&2 || true
echo "$bin"
