#!/usr/bin/env bash
# Builds the real OPA engine (the oracle for cos-policy's interop tests) at a
# pinned version, once, into $COS_ORACLES_DIR/bin/opa (default .oracles/ in the
# repository, which .gitignore lists). Prints the binary's path as its last
# line of standard output; everything else goes to standard error.
#
# It uses `go install` through the Go module proxy (OPA's go.mod has no
# replace directives, so `go install module@version` is accepted). A second
# run with the binary in place and at the pinned version does nothing.
#
# Caches: Go's defaults (module cache `go env GOMODCACHE`, build cache
# `go env GOCACHE`), shared with every other Go build on the machine; set
# GOMODCACHE / GOCACHE to move them. GOFLAGS=-mod=mod, CGO_ENABLED=0 (so the
# binary reports "WebAssembly: unavailable"; the wasm target is not needed).
# OPA v1.22.2's go.mod says `go 1.26.0`: an older local Go fetches a newer
# toolchain through the proxy (GOTOOLCHAIN=auto).
#
# Cost, measured on the 2-core CI-like machine with Go 1.26.8: a fully cold
# build (empty module and build caches) takes about 2 min 20 s wall (~140 s,
# of which ~5 s downloading 84 modules, ~470 MB) and peaks at ~730 MB RSS; with
# a warm module cache but a cold build cache, ~135 s; with the binary present,
# ~0.1 s.
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
# shellcheck source=go-install.sh
source "$(dirname "$0")/go-install.sh"
go_install_oracle opa "github.com/open-policy-agent/opa@$OPA_VERSION" "$dir" "about 2-3 minutes cold on 2 cores"
