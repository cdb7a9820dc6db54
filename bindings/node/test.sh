#!/usr/bin/env bash
# Builds and tests the Node.js package from a clean clone:
#   npm ci, the native build (cargo, --locked; release unless COS_CARGO_PROFILE
#   names another profile: scripts/test.sh uses dev), the node:test suite
#   (CommonJS and ESM), and `tsc --noEmit` on examples/ (TypeScript).
# Exits non-zero on any failure; the last line is the summary.
#
#   bindings/node/test.sh            # from anywhere
#   COS_NODE_BUILD=skip bindings/node/test.sh   # reuse an existing cos.node
set -uo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")" || exit 2

log="$(mktemp -t cos-node-test.XXXXXX)"
trap 'rm -f "$log"' EXIT
status=0
step() { echo "==> $*"; }

step "npm ci"
npm ci --no-audit --no-fund || { echo "node binding: npm ci failed"; exit 1; }

if [[ "${COS_NODE_BUILD:-}" != skip || ! -f cos.node ]]; then
  step "npm run build"
  npm run build || { echo "node binding: build failed"; exit 1; }
fi

step "node --test"
node --test --test-reporter=tap --test-reporter-destination=stdout \
  test/*.test.js test/*.test.mjs | tee "$log"
[[ ${PIPESTATUS[0]} -eq 0 ]] || status=1
pass=$(sed -n 's/^# pass \([0-9]*\)$/\1/p' "$log" | tail -1)
fail=$(sed -n 's/^# fail \([0-9]*\)$/\1/p' "$log" | tail -1)
[[ -n "$pass" && -n "$fail" ]] || { status=1; pass=${pass:-0}; fail=${fail:-?}; }

step "tsc --noEmit -p examples/tsconfig.json"
if npx --no-install tsc --noEmit -p examples/tsconfig.json; then
  tsc=ok
else
  tsc=FAILED
  status=1
fi

echo "node binding: ${pass} passed, ${fail} failed; tsc ${tsc}"
exit "$status"
