"""PyPI `sigstore` (sigstore-python) verifying the same bundles as
benches/examples/sigstore_verify.rs, the same way: the trusted root loaded
once, then per call the bundle parsed (`Bundle.from_json`) and verified with
the expected identity policy (verify_artifact; verify_dsse plus the in-toto
subject check for the DSSE attestation). Prints one JSON line per case:
{"case", "us_per_verify"} (best of 5 batches).

    python sigstore_python.py DATA_DIR ITERATIONS
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from pathlib import Path

from sigstore.models import Bundle, TrustedRoot
from sigstore.verify import Verifier, policy

BATCHES = 5


def best_us(n: int, fn) -> float:
    best = float("inf")
    for _ in range(BATCHES):
        start = time.perf_counter()
        for _ in range(n):
            fn()
        best = min(best, (time.perf_counter() - start) * 1e6 / n)
    return best


def main() -> None:
    data, n = Path(sys.argv[1]), int(sys.argv[2])
    root_path = str(data / "public-good-trusted-root.json")
    verifier = Verifier(trusted_root=TrustedRoot.from_file(root_path))

    def dsse():
        bundle = Bundle.from_json(att)
        ident = policy.Identity(
            identity="https://github.com/prefix-dev/sigstore-example/.github/workflows/action.yaml@refs/heads/main",
            issuer="https://token.actions.githubusercontent.com",
        )
        payload_type, payload = verifier.verify_dsse(bundle, ident)
        digest = hashlib.sha256(pkg).hexdigest()
        assert payload_type == "application/vnd.in-toto+json"
        assert any(s["digest"].get("sha256") == digest for s in json.loads(payload)["subject"])

    blob = (data / "cosign-v3-blob.txt").read_bytes()
    pkg = (data / "signed-package-2.1.0-hb0f4dca_0.conda").read_bytes()
    att = (data / "conda-attestation.sigstore.json").read_bytes()
    message_bundle = (data / "cosign-v3-blob.sigstore.json").read_bytes()

    def message():
        bundle = Bundle.from_json(message_bundle)
        verifier.verify_artifact(
            blob, bundle, policy.Identity(identity="w.vollprecht@gmail.com", issuer="https://github.com/login/oauth")
        )

    for case, fn in [
        ("keyless message signature (cosign-v3-blob)", message),
        ("keyless DSSE attestation (conda-attestation)", dsse),
    ]:
        fn()  # warm-up, and a refusal here is a broken benchmark
        print(json.dumps({"case": case, "us_per_verify": round(best_us(n, fn), 1)}))

    def load_root():
        Verifier(trusted_root=TrustedRoot.from_file(root_path))

    print(json.dumps({"case": "load trusted root", "us_per_verify": round(best_us(max(n // 10, 1), load_root), 1)}))


if __name__ == "__main__":
    main()
