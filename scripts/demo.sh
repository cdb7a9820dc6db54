#!/usr/bin/env bash
# The main job (first command of README.md): builds `cos` and walks through
# what it does today: keys, digests, canonical JSON, DSSE sign and verify,
# a tampered envelope being rejected, a signed policy bundle (OPA signatures
# and a Sigstore bundle) and decisions from it. Output goes to ./demo-out.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "==> building cos"
cargo build -p cos-cli --locked --quiet
cos="$(pwd)/target/debug/cos"
out=demo-out
rm -rf "$out" && mkdir -p "$out"
run() { printf '\n$ cos %s\n' "$*"; "$cos" "$@"; }

run keygen --alg ed25519 --out "$out/alice"
run keygen --alg ecdsa-p256 --out "$out/bob"

cat > "$out/release.json" <<'JSON'
{ "release": "1.4.0", "commit": "4f2c1e0d9b8a7c6d5e4f3a2b1c0d9e8f7a6b5c4d",
  "sbom": { "components": 212 }, "gate": { "cve": "pass", "ratio": 1.0 } }
JSON
run digest "$out/release.json"
run canon "$out/release.json"; echo
"$cos" canon "$out/release.json" > "$out/release.canon.json"

run dsse sign --key "$out/alice.key" --key "$out/bob.key" \
  --payload-type application/json -o "$out/release.dsse.json" "$out/release.canon.json"
echo "envelope written to $out/release.dsse.json"
run dsse verify --pub "$out/alice.pub" --pub "$out/bob.pub" --threshold 2 \
  --payload-type application/json "$out/release.dsse.json"

echo
echo "==> tampering: one byte of the payload changed"
python3 - "$out/release.dsse.json" "$out/tampered.dsse.json" <<'PY'
import base64, json, sys
env = json.load(open(sys.argv[1]))
p = bytearray(base64.b64decode(env["payload"])); p[10] ^= 1
env["payload"] = base64.b64encode(bytes(p)).decode()
json.dump(env, open(sys.argv[2], "w"))
PY
set +e
"$cos" dsse verify --pub "$out/alice.pub" --pub "$out/bob.pub" --threshold 2 "$out/tampered.dsse.json"
rc=$?
set -e
if [[ $rc -ne 1 ]]; then
  echo "demo FAILED: tampered envelope gave exit $rc, expected 1" >&2
  exit 1
fi
echo "tampered envelope rejected (exit 1), as it must be"

echo
echo "==> a policy pack: build a signed OPA bundle, verify it, decide from it"
pack=benches/fixtures/abac-pack
run pack build "$pack" -o "$out/abac.bundle.tar.gz" --sign "$out/bob.key"
run pack verify "$out/abac.bundle.tar.gz" --pub "$out/bob.pub"
# The same bundle as a Sigstore-signed blob (what a pack server publishes
# beside the pack for fetchAndVerify; `cosign verify-blob --key` accepts it).
run sign-blob --key "$out/alice.key" --bundle "$out/abac.bundle.tar.gz.sigstore.json" "$out/abac.bundle.tar.gz"
run verify-blob --key "$out/alice.pub" --bundle "$out/abac.bundle.tar.gz.sigstore.json" "$out/abac.bundle.tar.gz"
run policy eval --pack "$out/abac.bundle.tar.gz" --query data.bench.abac.decision --input "$pack/input.json"
python3 - "$pack/input.json" "$out/deny.input.json" <<'PY'
import json, sys
i = json.load(open(sys.argv[1])); i["resource"]["classification"] = "RESTRICTED"; i["context"]["grants"] = []
json.dump(i, open(sys.argv[2], "w"))
PY
run policy eval --pack "$out/abac.bundle.tar.gz" --query data.bench.abac.decision --input "$out/deny.input.json"
echo
echo "demo done: see $out/"
