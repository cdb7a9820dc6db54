"""Sigstore key bundles and the in-process fetchAndVerify drop-in."""

import json
import pathlib

import pytest

import companyos
from companyos.core import (
    SigningKey,
    digest,
    sigstore_sign_blob,
    sigstore_verify_blob,
    sigstore_verify_blob_keyless,
)
from companyos.policy import Engine, Pack, fetch_and_verify, fetch_attestation

ROOT = pathlib.Path(__file__).resolve().parents[3]
BASELINE = ROOT / "examples" / "policy-packs" / "companyos-baseline"


@pytest.fixture(scope="module")
def key():
    return SigningKey.generate("ecdsa-p256")


@pytest.fixture
def signed_pack(tmp_path, key):
    archive = Pack.load(BASELINE).build_bundle()
    path = tmp_path / "pack.tar.gz"
    path.write_bytes(archive)
    (tmp_path / "pack.tar.gz.sigstore.json").write_bytes(sigstore_sign_blob(archive, key))
    return path, archive


def test_sigstore_round_trip_and_tamper(key):
    bundle = sigstore_sign_blob(b"artifact", key)
    assert json.loads(bundle)["mediaType"] == "application/vnd.dev.sigstore.bundle.v0.3+json"
    ok = sigstore_verify_blob(b"artifact", bundle, key.public_pem())
    assert ok["key_id"] == key.key_id
    assert ok["artifact_digest"] == digest(b"artifact")
    assert ok["unchecked_tlog_entries"] == 0
    # The one result shape (cos_core::sigstore::VerifiedBlob): no identity in key mode.
    assert ok["identity"] is None and ok["issuer"] is None
    with pytest.raises(companyos.VerificationError) as e:
        sigstore_verify_blob(b"artifact!", bundle, key.public_pem())
    assert e.value.code == "artifact_mismatch"
    other = SigningKey.generate("ecdsa-p256")
    with pytest.raises(companyos.VerificationError) as e:
        sigstore_verify_blob(b"artifact", bundle, other.public_pem())
    assert e.value.code == "signature_invalid"
    with pytest.raises(companyos.VerificationError) as e:
        sigstore_verify_blob(b"artifact", b"{}", key.public_pem())
    assert e.value.code == "invalid_sigstore_bundle"
    with pytest.raises(companyos.CoreError) as e:
        sigstore_verify_blob(b"artifact", bundle, "not a key")
    assert e.value.code == "invalid_key"


def test_fetch_and_verify_unpacks_a_usable_pack(signed_pack, key):
    path, archive = signed_pack
    directory = fetch_and_verify(str(path), key.public_pem())
    assert pathlib.Path(directory).name == "unpacked"
    engine = Engine(Pack.load(directory))
    assert engine.runs_on_vm("data.cos.abac.decision") in (True, False)
    # file: URL, explicit bundle and the fetcher's digest header form
    hex_digest = digest(archive).split(":", 1)[1]
    dest = path.parent / "out"
    got = fetch_and_verify(
        f"file://{path}",
        key.public_pem(),
        bundle=fetch_attestation(f"{path}.sigstore.json").encode(),
        digest=f"sha-256={hex_digest}",
        dest=dest,
    )
    assert got == str(dest)
    assert (dest / ".manifest").is_file()


def test_fetch_and_verify_errors_carry_the_fetcher_messages(signed_pack, key, tmp_path):
    path, archive = signed_pack
    with pytest.raises(companyos.PolicyError) as e:
        fetch_and_verify(str(path), key.public_pem(), digest="sha-256=" + "0" * 64)
    assert e.value.code == "digest_mismatch"
    assert str(e.value).startswith("digest mismatch: ")
    assert str(e.value).endswith(" != " + "0" * 64)

    with pytest.raises(companyos.PolicyError) as e:
        fetch_and_verify(str(path), SigningKey.generate("ecdsa-p256").public_pem())
    assert e.value.code == "bundle_verification_failed"
    assert str(e.value).startswith("cosign verify failed: ")

    lonely = tmp_path / "lonely.tar.gz"
    lonely.write_bytes(archive)
    with pytest.raises(companyos.PolicyError) as e:
        fetch_and_verify(str(lonely), key.public_pem())
    assert str(e.value) == "missing verification headers"
    assert e.value.code == "missing_verification"

    with pytest.raises(companyos.CoreError) as e:
        fetch_and_verify(str(path), "not a key")
    assert e.value.code == "invalid_key"


def test_fetch_and_verify_over_http_from_cos_pack_serve(signed_pack, key):
    """End to end against `cos pack serve` (COS_BIN, else target/debug/cos)."""
    import os
    import subprocess

    path, archive = signed_pack
    cos_bin = pathlib.Path(os.environ.get("COS_BIN") or ROOT / "target" / "debug" / "cos")
    if not cos_bin.is_file():
        pytest.fail(f"cos binary not found at {cos_bin}: cargo build -p cos-cli, or set COS_BIN")
    server = subprocess.Popen(
        [str(cos_bin), "pack", "serve", str(path.parent), "--listen", "127.0.0.1:0"],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        first = server.stdout.readline()
        assert " on http://" in first, first
        base = first.strip().rsplit(" on ", 1)[1]
        url = f"{base}/pack.tar.gz"
        directory = pathlib.Path(fetch_and_verify(url, key.public_pem()))
        Engine(Pack.load(str(directory)))
        bundle = fetch_attestation(f"{url}/attestation")
        assert sigstore_verify_blob(archive, bundle.encode(), key.public_pem())["artifact_digest"] == digest(archive)
        with pytest.raises(companyos.PolicyError) as e:
            fetch_and_verify(url, SigningKey.generate("ecdsa-p256").public_pem())
        assert e.value.code == "bundle_verification_failed"
        with pytest.raises(companyos.PolicyError) as e:
            fetch_and_verify(f"{base}/missing.tar.gz", key.public_pem())
        assert (e.value.code, str(e.value)) == ("http_status", "HTTP 404")
    finally:
        server.kill()
        server.communicate(timeout=10)


SIGSTORE_DATA = ROOT / "cos-supplychain" / "tests" / "data" / "sigstore"
COSIGN_ID = ("w.vollprecht@gmail.com", "https://github.com/login/oauth")


def test_keyless_bundle_published_by_others():
    root = (SIGSTORE_DATA / "public-good-trusted-root.json").read_bytes()
    blob = (SIGSTORE_DATA / "cosign-v3-blob.txt").read_bytes()
    bundle = (SIGSTORE_DATA / "cosign-v3-blob.sigstore.json").read_bytes()
    ok = sigstore_verify_blob_keyless(blob, bundle, root, *COSIGN_ID)
    assert ok["identity"] == COSIGN_ID[0] and ok["issuer"] == COSIGN_ID[1]
    assert ok["artifact_digest"] == digest(blob)
    with pytest.raises(companyos.VerificationError) as e:
        sigstore_verify_blob_keyless(blob, bundle, root, "someone@example.com", COSIGN_ID[1])
    assert e.value.code == "bundle_not_trusted"
    with pytest.raises(companyos.VerificationError) as e:
        sigstore_verify_blob_keyless(blob + b"!", bundle, root, *COSIGN_ID)
    assert e.value.code == "artifact_mismatch"
    with pytest.raises(companyos.CoreError) as e:
        sigstore_verify_blob_keyless(blob, bundle, b"{}", *COSIGN_ID)
    assert e.value.code == "invalid_trusted_root"


def test_fetch_and_verify_keyless(tmp_path):
    # A keyless-signed file that is not a pack: verification passes (so the
    # error is about the pack, not the signature); the wrong identity fails it.
    root = (SIGSTORE_DATA / "public-good-trusted-root.json").read_bytes()
    bundle = (SIGSTORE_DATA / "cosign-v3-blob.sigstore.json").read_bytes()
    blob = tmp_path / "blob.txt"
    blob.write_bytes((SIGSTORE_DATA / "cosign-v3-blob.txt").read_bytes())
    with pytest.raises(companyos.PolicyError) as e:
        fetch_and_verify(str(blob), bundle=bundle, trusted_root=root, identity=COSIGN_ID[0], issuer=COSIGN_ID[1])
    assert e.value.code == "invalid_pack"
    with pytest.raises(companyos.PolicyError) as e:
        fetch_and_verify(str(blob), bundle=bundle, trusted_root=root, identity="x@example.com", issuer=COSIGN_ID[1])
    assert e.value.code == "bundle_verification_failed"
    with pytest.raises(companyos.CoreError) as e:
        fetch_and_verify(str(blob), bundle=bundle)
    assert e.value.code == "invalid_policy"


def test_fetch_and_verify_key_with_trusted_root_checks_the_log_entry(tmp_path):
    # A published key bundle with a Rekor entry: with the key and a trusted
    # root the log entry is checked too (a changed inclusion proof fails);
    # the signed file is not a pack, so a passing signature ends in invalid_pack.
    root = (SIGSTORE_DATA / "public-good-trusted-root.json").read_bytes()
    key = (SIGSTORE_DATA / "managed-key.pub").read_text()
    bundle = json.loads((SIGSTORE_DATA / "managed-key.sigstore.json").read_text())
    blob = tmp_path / "artifact.txt"
    blob.write_bytes((SIGSTORE_DATA / "managed-key-artifact.txt").read_bytes())
    with pytest.raises(companyos.PolicyError) as e:
        fetch_and_verify(str(blob), public_key=key, bundle=json.dumps(bundle).encode(), trusted_root=root)
    assert e.value.code == "invalid_pack"
    proof = bundle["verificationMaterial"]["tlogEntries"][0]["inclusionProof"]
    proof["rootHash"] = "rnpacIXSjoToEDh0qD4CLAKdkPnW1Y4R1DhFMS+AGlA="
    tampered = json.dumps(bundle).encode()
    with pytest.raises(companyos.PolicyError) as e:
        fetch_and_verify(str(blob), public_key=key, bundle=tampered, trusted_root=root)
    assert e.value.code == "bundle_verification_failed"
    # The key alone does not check the log.
    with pytest.raises(companyos.PolicyError) as e:
        fetch_and_verify(str(blob), public_key=key, bundle=tampered)
    assert e.value.code == "invalid_pack"
