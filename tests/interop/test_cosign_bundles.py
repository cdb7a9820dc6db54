"""Sigstore key bundles against the real cosign.

What `cos sign-blob` writes, `cosign verify-blob --key` accepts; what
`cosign sign-blob --key` writes (new bundle format and the older blob bundle),
`cos verify-blob` accepts; and both refuse a changed blob or the wrong key.
The cosign binary comes from COS_COSIGN_BIN (built by scripts/oracles/cosign.sh,
which scripts/test.sh runs). Everything is offline: key bundles without a
transparency-log entry (cosign needs --insecure-ignore-tlog and, for the new
format, a trusted root, which may be empty for key verification).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

COSIGN_TIMEOUT_S = 120
EMPTY_TRUSTED_ROOT = {"mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1"}


@pytest.fixture(scope="session")
def cosign_bin() -> Path:
    raw = os.environ.get("COS_COSIGN_BIN")
    path = Path(raw) if raw else Path(__file__).resolve().parents[2] / ".oracles" / "bin" / "cosign"
    if not path.is_file():
        pytest.fail(
            f"cosign binary not found at {path}: run scripts/oracles/cosign.sh "
            "(scripts/test.sh does) or set COS_COSIGN_BIN",
            pytrace=False,
        )
    return path


def cosign(cosign_bin: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, COSIGN_PASSWORD="", COSIGN_YES="true", HOME=str(cwd))
    return subprocess.run(
        [str(cosign_bin), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        timeout=COSIGN_TIMEOUT_S,
        check=False,
    )


def cosign_verify(cosign_bin: Path, pub: Path, bundle: Path, blob: Path, cwd: Path):
    root = cwd / "trusted_root.json"
    root.write_text(json.dumps(EMPTY_TRUSTED_ROOT))
    return cosign(
        cosign_bin,
        "verify-blob",
        "--key", str(pub),
        "--bundle", str(bundle),
        "--new-bundle-format",
        "--insecure-ignore-tlog",
        "--trusted-root", str(root),
        str(blob),
        cwd=cwd,
    )


@pytest.fixture
def blob(tmp_path: Path) -> Path:
    p = tmp_path / "pack.tar.gz"
    p.write_bytes(b"policy pack bytes \x00\x01\x02" * 100)
    return p


def test_cosign_accepts_cos_bundles(run_cos, cosign_bin, tmp_path, blob):
    keygen = run_cos("keygen", "--alg", "ecdsa-p256", "--out", str(tmp_path / "k"))
    assert keygen.returncode == 0, keygen.describe()
    bundle = tmp_path / "b.sigstore.json"
    signed = run_cos("sign-blob", "--key", str(tmp_path / "k.key"), "--bundle", str(bundle), str(blob))
    assert signed.returncode == 0, signed.describe()

    ok = cosign_verify(cosign_bin, tmp_path / "k.pub", bundle, blob, tmp_path)
    assert ok.returncode == 0, ok.stderr.decode()
    assert b"Verified OK" in ok.stderr + ok.stdout

    # cosign reads our key hint as its own: base64(SHA-256(SPKI DER)).
    hint = json.loads(bundle.read_text())["verificationMaterial"]["publicKey"]["hint"]
    spki = serialization.load_pem_public_key((tmp_path / "k.pub").read_bytes()).public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert hint == base64.b64encode(hashlib.sha256(spki).digest()).decode()
    ours = run_cos("keygen", "--alg", "ecdsa-p256", "--out", str(tmp_path / "other"))
    assert ours.returncode == 0

    changed = tmp_path / "changed.tar.gz"
    changed.write_bytes(blob.read_bytes() + b"!")
    bad = cosign_verify(cosign_bin, tmp_path / "k.pub", bundle, changed, tmp_path)
    assert bad.returncode != 0
    wrong_key = cosign_verify(cosign_bin, tmp_path / "other.pub", bundle, blob, tmp_path)
    assert wrong_key.returncode != 0


@pytest.mark.parametrize("new_format", [True, False], ids=["new-bundle-format", "legacy-bundle"])
def test_cos_accepts_cosign_bundles(run_cos, cosign_bin, tmp_path, blob, new_format):
    gen = cosign(cosign_bin, "generate-key-pair", cwd=tmp_path)
    assert gen.returncode == 0, gen.stderr.decode()
    bundle = tmp_path / "cosign.bundle"
    args = ["sign-blob", "--key", "cosign.key", "--bundle", str(bundle), "--tlog-upload=false"]
    if new_format:
        args.append("--new-bundle-format")
    signed = cosign(cosign_bin, *args, str(blob), cwd=tmp_path)
    assert signed.returncode == 0, signed.stderr.decode()
    doc = json.loads(bundle.read_text())
    assert ("mediaType" in doc) == new_format

    ok = run_cos("verify-blob", "--key", str(tmp_path / "cosign.pub"), "--bundle", str(bundle), str(blob))
    assert ok.returncode == 0, ok.describe()

    changed = tmp_path / "changed"
    changed.write_bytes(blob.read_bytes()[:-1])
    bad = run_cos("verify-blob", "--key", str(tmp_path / "cosign.pub"), "--bundle", str(bundle), str(changed))
    assert bad.returncode == 1, bad.describe()
    assert b"invalid" in bad.stderr

    other = run_cos("keygen", "--alg", "ecdsa-p256", "--out", str(tmp_path / "other"))
    assert other.returncode == 0
    wrong = run_cos("verify-blob", "--key", str(tmp_path / "other.pub"), "--bundle", str(bundle), str(blob))
    assert wrong.returncode == 1, wrong.describe()


SIGSTORE_DATA = Path(__file__).resolve().parents[2] / "cos-supplychain" / "tests" / "data" / "sigstore"
LOG_FIELDS = [
    None,
    "inclusionProof/rootHash",
    "inclusionProof/hashes/3",
    "inclusionProof/logIndex",
    "inclusionPromise/signedEntryTimestamp",
    "integratedTime",
    "canonicalizedBody",
    "logIndex",
]


def _tamper_entry(doc: dict, field: str) -> None:
    node = doc["verificationMaterial"]["tlogEntries"][0]
    *parents, leaf = field.split("/")
    for p in parents:
        node = node[int(p)] if isinstance(node, list) else node[p]
    key = int(leaf) if isinstance(node, list) else leaf
    value = node[key]
    if field in ("integratedTime", "logIndex", "inclusionProof/logIndex"):
        node[key] = str(int(value) + 1)
    else:
        raw = bytearray(base64.b64decode(value))
        raw[len(raw) // 2] ^= 1
        node[key] = base64.b64encode(bytes(raw)).decode()


@pytest.mark.parametrize("field", LOG_FIELDS, ids=lambda f: f or "untouched")
def test_logged_key_bundle_same_verdict_as_cosign(run_cos, cosign_bin, tmp_path, field):
    """A published key bundle with a Rekor entry, checked against the public-good
    trusted root: `cos verify-blob --key --trusted-root` and `cosign verify-blob
    --key --trusted-root` (log checked, no --insecure-ignore-tlog) agree on the
    bundle and on each change to its log entry."""
    doc = json.loads((SIGSTORE_DATA / "managed-key.sigstore.json").read_text())
    if field:
        _tamper_entry(doc, field)
    bundle = tmp_path / "b.sigstore.json"
    bundle.write_text(json.dumps(doc))
    key = SIGSTORE_DATA / "managed-key.pub"
    root = SIGSTORE_DATA / "public-good-trusted-root.json"
    blob = SIGSTORE_DATA / "managed-key-artifact.txt"
    theirs = cosign(
        cosign_bin,
        "verify-blob", "--key", str(key), "--bundle", str(bundle),
        "--new-bundle-format", "--trusted-root", str(root), str(blob),
        cwd=tmp_path,
    )
    ours = run_cos("verify-blob", "--key", str(key), "--trusted-root", str(root), "--bundle", str(bundle), str(blob))
    assert ours.returncode in (0, 1), ours.describe()
    assert (ours.returncode == 0) == (theirs.returncode == 0), (
        f"cos rc={ours.returncode} {ours.stderr!r}; cosign rc={theirs.returncode} {theirs.stderr!r}"
    )
    assert (ours.returncode == 0) == (field is None)
