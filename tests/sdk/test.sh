#!/usr/bin/env bash
# The official OPA TypeScript SDK against cos-pdp and the real OPA server:
# npm ci (the SDK pinned in package-lock.json), then node:test. The last line
# is the summary. Needs COS_BIN, COS_PDP_BIN, COS_OPA_BIN (scripts/test.sh
# sets them) or the default paths named in sdk.test.mjs.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")" || exit 2
log="$(mktemp -t cos-sdk-test.XXXXXX)"
trap 'rm -f "$log"' EXIT
npm ci --no-audit --no-fund || { echo "sdk: npm ci failed"; exit 1; }
node --test --test-reporter=tap --test-reporter-destination=stdout | tee "$log"
status=${PIPESTATUS[0]}
pass=$(sed -n 's/^# pass \([0-9]*\)$/\1/p' "$log" | tail -1)
fail=$(sed -n 's/^# fail \([0-9]*\)$/\1/p' "$log" | tail -1)
[[ -n "$pass" && -n "$fail" ]] || { status=1; pass=${pass:-0}; fail=${fail:-?}; }
echo "sdk: ${pass} passed, ${fail} failed"
exit "$status"
