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
# shellcheck source=go-install.sh
source "$(dirname "$0")/go-install.sh"
go_install_oracle cosign "github.com/sigstore/cosign/v2/cmd/cosign@$COSIGN_VERSION" "$dir" "5-10 minutes cold on 2 cores"
