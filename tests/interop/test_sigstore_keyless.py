"""Keyless Sigstore bundles: `cos verify-blob --trusted-root` and PyPI `sigstore`
(sigstore-python, offline with the same trusted root) give the same verdict on
real published bundles, on the wrong identity, issuer or artifact, and on every
single-field tamper of a bundle.

Test data: cos-supplychain/tests/data/sigstore (bundles published by others,
saved with the public-good trusted root they chain to).
"""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path

import pytest
from sigstore.models import Bundle, TrustedRoot
from sigstore.verify import Verifier, policy

DATA = Path(__file__).resolve().parents[2] / "cos-supplychain" / "tests" / "data" / "sigstore"
ROOT = DATA / "public-good-trusted-root.json"

CASES = {
    "cosign-keyless-blob": (
        "cosign-v3-blob.txt",
        "cosign-v3-blob.sigstore.json",
        "w.vollprecht@gmail.com",
        "https://github.com/login/oauth",
    ),
    "github-actions-dsse": (
        "signed-package-2.1.0-hb0f4dca_0.conda",
        "conda-attestation.sigstore.json",
        "https://github.com/prefix-dev/sigstore-example/.github/workflows/action.yaml@refs/heads/main",
        "https://token.actions.githubusercontent.com",
    ),
}


@pytest.fixture(scope="module")
def oracle() -> Verifier:
    return Verifier(trusted_root=TrustedRoot.from_file(str(ROOT)))


def oracle_ok(oracle: Verifier, artifact: bytes, bundle_json: str, identity: str, issuer: str) -> bool:
    """sigstore-python's verdict: verify_artifact for message signatures;
    for DSSE bundles verify_dsse, then an in-toto subject must carry the
    artifact's SHA-256 (what cos and cosign check for a blob)."""
    try:
        bundle = Bundle.from_json(bundle_json)
        identity_policy = policy.Identity(identity=identity, issuer=issuer)
        if "dsseEnvelope" in json.loads(bundle_json):
            payload_type, payload = oracle.verify_dsse(bundle, identity_policy)
            statement = json.loads(payload)
            digest = hashlib.sha256(artifact).hexdigest()
            return payload_type == "application/vnd.in-toto+json" and any(
                s.get("digest", {}).get("sha256") == digest for s in statement.get("subject", [])
            )
        oracle.verify_artifact(artifact, bundle, identity_policy)
        return True
    except Exception:  # any refusal (parse, chain, log, signature, policy)
        return False


# Where cos is stricter than sigstore-python (and cosign v2.6.5, checked by
# hand): a bundle whose RFC 3161 timestamp does not verify is refused, where
# both accept it when the transparency log's time suffices. A signed
# timestamp that fails verification is tampered evidence; cos does not
# ignore it (ADR-0008). Nowhere may cos be more lenient.
STRICTER = ("verificationMaterial/timestampVerificationData/rfc3161Timestamps/0/signedTimestamp",)


def cos_ok(run_cos, tmp_path: Path, artifact: Path, bundle_json: str, identity: str, issuer: str) -> bool:
    bundle = tmp_path / "bundle.json"
    bundle.write_text(bundle_json)
    r = run_cos(
        "verify-blob", "--trusted-root", str(ROOT),
        "--certificate-identity", identity, "--certificate-oidc-issuer", issuer,
        "--bundle", str(bundle), str(artifact),
    )
    assert r.returncode in (0, 1), r.describe()
    return r.returncode == 0


def leaves(v, path=()):
    if isinstance(v, dict):
        for k, x in v.items():
            yield from leaves(x, path + (k,))
    elif isinstance(v, list):
        for i, x in enumerate(v):
            yield from leaves(x, path + (i,))
    else:
        yield path


def tampered(doc, path):
    """The same single-field change as cos-supplychain/tests/keyless.rs."""
    t = copy.deepcopy(doc)
    node = t
    for p in path[:-1]:
        node = node[p]
    old = node[path[-1]]
    if isinstance(old, bool):
        new = not old
    elif isinstance(old, int):
        new = old + 1
    elif isinstance(old, str):
        if not old:
            new = "x"
        else:
            i = len(old) // 2
            new = old[:i] + ("B" if old[i] == "A" else "A") + old[i + 1:]
    else:
        new = "x"
    node[path[-1]] = new
    return t


@pytest.mark.parametrize("case", sorted(CASES))
def test_same_verdicts_on_published_bundles(run_cos, oracle, tmp_path, case):
    artifact_name, bundle_name, identity, issuer = CASES[case]
    artifact = DATA / artifact_name
    bundle = (DATA / bundle_name).read_text()
    data = artifact.read_bytes()
    other = tmp_path / "other"
    other.write_bytes(data + b"\n")
    checks = [
        ("as published", artifact, data, identity, issuer, True),
        ("other artifact", other, other.read_bytes(), identity, issuer, False),
        ("other identity", artifact, data, "someone@example.com", issuer, False),
        ("other issuer", artifact, data, identity, "https://accounts.google.com", False),
    ]
    for what, path, raw, ident, iss, expected in checks:
        assert oracle_ok(oracle, raw, bundle, ident, iss) is expected, f"oracle, {what}"
        assert cos_ok(run_cos, tmp_path, path, bundle, ident, iss) is expected, f"cos, {what}"


@pytest.mark.parametrize("case", sorted(CASES))
def test_same_verdicts_on_every_single_field_tamper(run_cos, oracle, tmp_path, case):
    artifact_name, bundle_name, identity, issuer = CASES[case]
    artifact = DATA / artifact_name
    doc = json.loads((DATA / bundle_name).read_text())
    disagreements = []
    accepted = []
    paths = list(leaves(doc))
    assert len(paths) > 15
    for path in paths:
        text = json.dumps(tampered(doc, path))
        theirs = oracle_ok(oracle, artifact.read_bytes(), text, identity, issuer)
        ours = cos_ok(run_cos, tmp_path, artifact, text, identity, issuer)
        if theirs != ours:
            disagreements.append(("/".join(map(str, path)), ours, theirs))
        if ours:
            accepted.append("/".join(map(str, path)))
    lenient = [d for d in disagreements if d[1]]
    assert not lenient, f"cos accepts what sigstore-python refuses: {lenient}"
    stricter = [d[0] for d in disagreements if not d[1]]
    assert all(p in STRICTER for p in stricter), f"cos refuses what sigstore-python accepts: {stricter}"
    # Only the unsigned key name on a checkpoint signature line may change
    # (see keyless.rs for why).
    assert all(p.endswith("inclusionProof/checkpoint/envelope") for p in accepted), accepted
