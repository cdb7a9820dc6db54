"""DSSE interop: `cos dsse` against securesystemslib and pyca/cryptography.

Both directions:
  * envelopes and keys made by `cos` verify with securesystemslib, and fail to
    verify once one byte of the payload or of a signature is changed;
  * envelopes made by securesystemslib (keys from `cryptography`) verify with
    `cos dsse verify`, with the documented exit codes (0 valid, 1 invalid,
    2 usage error / unreadable input), including key thresholds;
  * private keys written by `cryptography` sign with `cos dsse sign`.

Key id convention of cos: lowercase hex SHA-256 of the public key's SPKI DER.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
from securesystemslib.dsse import Envelope
from securesystemslib.exceptions import VerificationError
from securesystemslib.signer import CryptoSigner, SSlibKey

# cos --alg name -> securesystemslib scheme.
SCHEMES = {
    "ed25519": "ed25519",
    "ecdsa-p256": "ecdsa-sha2-nistp256",
}
ALGS = sorted(SCHEMES)

INTOTO_TYPE = "application/vnd.in-toto+json"
INTOTO_PAYLOAD = json.dumps(
    {
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": "release.tar.gz", "digest": {"sha256": "ab" * 32}}],
        "predicateType": "https://example.invalid/release/v1",
        "predicate": {"note": "naïve café — 日本語 🚀"},
    },
    ensure_ascii=False,
).encode("utf-8")

# (id, payload type, payload bytes). The non-ASCII payload type checks that
# both sides put the UTF-8 *byte* length of the type into the PAE.
PAYLOAD_CASES = [
    ("intoto", INTOTO_TYPE, INTOTO_PAYLOAD),
    ("binary-all-bytes", "application/octet-stream", bytes(range(256)) * 3),
    ("empty", "text/plain", b""),
    ("utf8-type", "application/x.ünïcode-日本+json", "{\"k\": \"✓\"}".encode()),
]


# --------------------------------------------------------------------------
# helpers


def spki_der(public_key) -> bytes:
    return public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def spki_pem(public_key) -> bytes:
    return public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def cos_keyid(public_key) -> str:
    """Our key id: hex SHA-256 of the SPKI DER, computed independently of cos."""
    return hashlib.sha256(spki_der(public_key)).hexdigest()


def sslib_key(pub_pem: bytes, scheme: str, keyid: str) -> SSlibKey:
    """securesystemslib 1.x has no from_pem; from_crypto takes a cryptography key."""
    public_key = serialization.load_pem_public_key(pub_pem)
    return SSlibKey.from_crypto(public_key, keyid=keyid, scheme=scheme)


def sslib_verify(env_dict: dict, keys: list[SSlibKey], threshold: int) -> dict:
    # Envelope.from_dict rewrites the signature dicts in place: give it a copy.
    return Envelope.from_dict(copy.deepcopy(env_dict)).verify(keys, threshold)


def b64d(s: str) -> bytes:
    return base64.b64decode(s, validate=True)


def b64e(b: bytes) -> str:
    return base64.standard_b64encode(b).decode("ascii")


def flip(data: bytes, index: int) -> bytes:
    """`data` with the byte at `index` changed (low bit flipped)."""
    b = bytearray(data)
    b[index] ^= 0x01
    return bytes(b)


def positions(length: int) -> list[int]:
    """First, middle and last byte positions of a buffer of `length` bytes."""
    return sorted({0, length // 2, length - 1})


def with_payload(env: dict, payload: bytes) -> dict:
    out = copy.deepcopy(env)
    out["payload"] = b64e(payload)
    return out


def with_sig(env: dict, sig_index: int, sig: bytes) -> dict:
    out = copy.deepcopy(env)
    out["signatures"][sig_index]["sig"] = b64e(sig)
    return out


def write_json(path: Path, obj: dict) -> Path:
    path.write_text(json.dumps(obj, indent=2), encoding="utf-8")
    return path


def new_private_key(alg: str):
    if alg == "ed25519":
        return ed25519.Ed25519PrivateKey.generate()
    if alg == "ecdsa-p256":
        return ec.generate_private_key(ec.SECP256R1())
    raise AssertionError(alg)


def cos_keygen(run_cos, tmp_path: Path, alg: str, name: str) -> tuple[Path, Path]:
    prefix = tmp_path / name
    r = run_cos("keygen", "--alg", alg, "--out", prefix)
    assert r.returncode == 0, r.describe()
    return Path(f"{prefix}.key"), Path(f"{prefix}.pub")


def sslib_signer(private_key, keyid: str | None = None) -> CryptoSigner:
    """A securesystemslib signer; its key id is securesystemslib's own default
    (not cos's) unless given, since DSSE key ids are only hints."""
    public = SSlibKey.from_crypto(private_key.public_key(), keyid=keyid)
    return CryptoSigner(private_key, public)


def sslib_envelope(payload_type: str, payload: bytes, signers: list[CryptoSigner]) -> dict:
    env = Envelope(payload, payload_type, {})
    for s in signers:
        env.sign(s)
    return env.to_dict()


def write_pub(tmp_path: Path, name: str, private_key) -> Path:
    p = tmp_path / f"{name}.pub.pem"
    p.write_bytes(spki_pem(private_key.public_key()))
    return p


# --------------------------------------------------------------------------
# cos keys are the standard files cryptography reads


@pytest.mark.parametrize("alg", ALGS)
def test_keygen_writes_pkcs8_and_spki_pem(run_cos, tmp_path, alg):
    prefix = tmp_path / "k"
    r = run_cos("keygen", "--alg", alg, "--out", prefix)
    assert r.returncode == 0, r.describe()
    key_pem = Path(f"{prefix}.key").read_bytes()
    pub_pem = Path(f"{prefix}.pub").read_bytes()

    assert key_pem.startswith(b"-----BEGIN PRIVATE KEY-----\n"), key_pem[:40]
    assert pub_pem.startswith(b"-----BEGIN PUBLIC KEY-----\n"), pub_pem[:40]
    mode = stat.S_IMODE(Path(f"{prefix}.key").stat().st_mode)
    assert mode == 0o600, f"private key mode is {oct(mode)}, README says 0600"

    private_key = serialization.load_pem_private_key(key_pem, password=None)
    public_key = serialization.load_pem_public_key(pub_pem)
    if alg == "ed25519":
        assert isinstance(private_key, ed25519.Ed25519PrivateKey)
        assert isinstance(public_key, ed25519.Ed25519PublicKey)
    else:
        assert isinstance(private_key, ec.EllipticCurvePrivateKey)
        assert isinstance(private_key.curve, ec.SECP256R1)
        assert isinstance(public_key, ec.EllipticCurvePublicKey)
    # The .pub file is the public half of the .key file.
    assert spki_der(private_key.public_key()) == spki_der(public_key)
    # The PKCS#8 DER inside the PEM is what cryptography itself would write
    # for that key (cos writes PKCS#8 v1, as OpenSSL and cryptography do).
    assert private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ) == key_pem.replace(b"\r\n", b"\n")
    # The key id cos prints is the SHA-256 of the SPKI DER.
    assert cos_keyid(public_key).encode() in r.stdout, r.describe()


# --------------------------------------------------------------------------
# cos signs -> securesystemslib verifies


@pytest.mark.parametrize("case", PAYLOAD_CASES, ids=[c[0] for c in PAYLOAD_CASES])
@pytest.mark.parametrize("alg", ALGS)
@pytest.mark.parametrize("output", ["stdout", "file"])
def test_cos_envelope_verifies_with_securesystemslib(run_cos, tmp_path, alg, case, output):
    _, payload_type, payload = case
    key_path, pub_path = cos_keygen(run_cos, tmp_path, alg, "signer")
    payload_path = tmp_path / "payload.bin"
    payload_path.write_bytes(payload)

    if output == "stdout":
        r = run_cos("dsse", "sign", "--key", key_path, "--payload-type", payload_type, payload_path)
        assert r.returncode == 0, r.describe()
        env = json.loads(r.stdout)
    else:
        out = tmp_path / "env.json"
        r = run_cos(
            "dsse", "sign", "--key", key_path, "--payload-type", payload_type, "-o", out, payload_path
        )
        assert r.returncode == 0, r.describe()
        env = json.loads(out.read_bytes())

    # The envelope shape of the DSSE spec.
    assert set(env) == {"payload", "payloadType", "signatures"}, env
    assert env["payloadType"] == payload_type
    assert b64d(env["payload"]) == payload
    assert len(env["signatures"]) == 1
    sig_entry = env["signatures"][0]
    assert set(sig_entry) == {"keyid", "sig"}, sig_entry

    pub_pem = pub_path.read_bytes()
    public_key = serialization.load_pem_public_key(pub_pem)
    keyid = cos_keyid(public_key)
    assert sig_entry["keyid"] == keyid

    sig = b64d(sig_entry["sig"])
    if alg == "ed25519":
        assert len(sig) == 64, f"Ed25519 signature must be 64 raw bytes, got {len(sig)}"
    else:
        # ASN.1 DER ECDSA-Sig-Value, strictly encoded (re-encoding gives the same bytes).
        r_int, s_int = decode_dss_signature(sig)
        assert encode_dss_signature(r_int, s_int) == sig

    key = sslib_key(pub_pem, SCHEMES[alg], keyid)
    accepted = sslib_verify(env, [key], 1)
    assert list(accepted) == [keyid]


@pytest.mark.parametrize("alg", ALGS)
def test_securesystemslib_rejects_tampered_cos_envelope(run_cos, tmp_path, alg):
    key_path, pub_path = cos_keygen(run_cos, tmp_path, alg, "signer")
    payload_path = tmp_path / "statement.json"
    payload_path.write_bytes(INTOTO_PAYLOAD)
    r = run_cos("dsse", "sign", "--key", key_path, "--payload-type", INTOTO_TYPE, payload_path)
    assert r.returncode == 0, r.describe()
    env = json.loads(r.stdout)
    keyid = env["signatures"][0]["keyid"]
    key = sslib_key(pub_path.read_bytes(), SCHEMES[alg], keyid)

    # Control: the untouched envelope verifies.
    sslib_verify(env, [key], 1)

    payload = b64d(env["payload"])
    for i in positions(len(payload)):
        tampered = with_payload(env, flip(payload, i))
        with pytest.raises(VerificationError):
            sslib_verify(tampered, [key], 1)

    sig = b64d(env["signatures"][0]["sig"])
    for i in positions(len(sig)):
        tampered = with_sig(env, 0, flip(sig, i))
        with pytest.raises(VerificationError):
            sslib_verify(tampered, [key], 1)

    other_type = copy.deepcopy(env)
    other_type["payloadType"] = "application/json"
    with pytest.raises(VerificationError):
        sslib_verify(other_type, [key], 1)


def test_cos_multi_key_envelope_meets_securesystemslib_threshold(run_cos, tmp_path):
    k1, p1 = cos_keygen(run_cos, tmp_path, "ed25519", "a")
    k2, p2 = cos_keygen(run_cos, tmp_path, "ecdsa-p256", "b")
    payload_path = tmp_path / "statement.json"
    payload_path.write_bytes(INTOTO_PAYLOAD)
    r = run_cos(
        "dsse", "sign", "--key", k1, "--key", k2, "--payload-type", INTOTO_TYPE, payload_path
    )
    assert r.returncode == 0, r.describe()
    env = json.loads(r.stdout)
    assert len(env["signatures"]) == 2

    keys = []
    for pub, alg in ((p1, "ed25519"), (p2, "ecdsa-p256")):
        pem = pub.read_bytes()
        keys.append(sslib_key(pem, SCHEMES[alg], cos_keyid(serialization.load_pem_public_key(pem))))
    assert {s["keyid"] for s in env["signatures"]} == {k.keyid for k in keys}
    accepted = sslib_verify(env, keys, 2)
    assert set(accepted) == {k.keyid for k in keys}


# --------------------------------------------------------------------------
# securesystemslib signs -> cos verifies


@pytest.mark.parametrize("case", PAYLOAD_CASES, ids=[c[0] for c in PAYLOAD_CASES])
@pytest.mark.parametrize("alg", ALGS)
def test_securesystemslib_envelope_verifies_with_cos(run_cos, tmp_path, alg, case):
    _, payload_type, payload = case
    private_key = new_private_key(alg)
    pub = write_pub(tmp_path, "signer", private_key)
    signer = sslib_signer(private_key)
    # securesystemslib's default key id is not ours: cos must not depend on it.
    assert signer.public_key.keyid != cos_keyid(private_key.public_key())
    env = sslib_envelope(payload_type, payload, [signer])
    env_path = write_json(tmp_path / "env.json", env)

    r = run_cos("dsse", "verify", "--pub", pub, env_path)
    assert r.returncode == 0, r.describe()

    r = run_cos("dsse", "verify", "--pub", pub, "--payload-type", payload_type, env_path)
    assert r.returncode == 0, r.describe()

    r = run_cos("dsse", "verify", "--pub", pub, "--print-payload", env_path)
    assert r.returncode == 0, r.describe()
    assert r.stdout == payload, r.describe()

    r = run_cos("dsse", "verify", "--pub", pub, "--payload-type", "other/type", env_path)
    assert r.returncode == 1, r.describe()


@pytest.mark.parametrize("alg", ALGS)
def test_cos_rejects_tampered_securesystemslib_envelope(run_cos, tmp_path, alg):
    private_key = new_private_key(alg)
    pub = write_pub(tmp_path, "signer", private_key)
    env = sslib_envelope(INTOTO_TYPE, INTOTO_PAYLOAD, [sslib_signer(private_key)])
    good = write_json(tmp_path / "good.json", env)
    r = run_cos("dsse", "verify", "--pub", pub, good)
    assert r.returncode == 0, r.describe()

    payload = b64d(env["payload"])
    for i in positions(len(payload)):
        path = write_json(tmp_path / f"payload-{i}.json", with_payload(env, flip(payload, i)))
        r = run_cos("dsse", "verify", "--pub", pub, path)
        assert r.returncode == 1, f"payload byte {i} changed:\n{r.describe()}"

    sig = b64d(env["signatures"][0]["sig"])
    for i in positions(len(sig)):
        path = write_json(tmp_path / f"sig-{i}.json", with_sig(env, 0, flip(sig, i)))
        r = run_cos("dsse", "verify", "--pub", pub, path)
        assert r.returncode == 1, f"signature byte {i} changed:\n{r.describe()}"

    other_type = copy.deepcopy(env)
    other_type["payloadType"] = "application/json"
    r = run_cos("dsse", "verify", "--pub", pub, write_json(tmp_path / "type.json", other_type))
    assert r.returncode == 1, r.describe()

    # A valid envelope, but not signed by the trusted key.
    stranger = write_pub(tmp_path, "stranger", new_private_key(alg))
    r = run_cos("dsse", "verify", "--pub", stranger, good)
    assert r.returncode == 1, r.describe()


def test_cos_threshold_with_securesystemslib_signers(run_cos, tmp_path):
    key_a = new_private_key("ed25519")
    key_b = new_private_key("ecdsa-p256")
    pub_a = write_pub(tmp_path, "a", key_a)
    pub_b = write_pub(tmp_path, "b", key_b)

    both = write_json(
        tmp_path / "both.json",
        sslib_envelope(INTOTO_TYPE, INTOTO_PAYLOAD, [sslib_signer(key_a), sslib_signer(key_b)]),
    )
    r = run_cos("dsse", "verify", "--pub", pub_a, "--pub", pub_b, "--threshold", "2", both)
    assert r.returncode == 0, r.describe()

    only_a = write_json(
        tmp_path / "only-a.json",
        sslib_envelope(INTOTO_TYPE, INTOTO_PAYLOAD, [sslib_signer(key_a)]),
    )
    r = run_cos("dsse", "verify", "--pub", pub_a, "--pub", pub_b, "--threshold", "1", only_a)
    assert r.returncode == 0, r.describe()
    r = run_cos("dsse", "verify", "--pub", pub_a, "--pub", pub_b, "--threshold", "2", only_a)
    assert r.returncode == 1, r.describe()

    # Two signatures by the same key (under two different key ids) are one
    # signer, not two: threshold 2 must not be met.
    twice_a = write_json(
        tmp_path / "twice-a.json",
        sslib_envelope(
            INTOTO_TYPE,
            INTOTO_PAYLOAD,
            [sslib_signer(key_a, keyid="a-1"), sslib_signer(key_a, keyid="a-2")],
        ),
    )
    assert len(json.loads(twice_a.read_bytes())["signatures"]) == 2
    r = run_cos("dsse", "verify", "--pub", pub_a, "--pub", pub_b, "--threshold", "2", twice_a)
    assert r.returncode == 1, r.describe()

    # The same trusted key listed twice is still one key.
    r = run_cos("dsse", "verify", "--pub", pub_a, "--pub", pub_a, "--threshold", "2", only_a)
    assert r.returncode in (1, 2), r.describe()


def test_cos_verify_unreadable_input_is_exit_2(run_cos, tmp_path):
    private_key = new_private_key("ed25519")
    pub = write_pub(tmp_path, "signer", private_key)
    env = write_json(
        tmp_path / "env.json",
        sslib_envelope(INTOTO_TYPE, INTOTO_PAYLOAD, [sslib_signer(private_key)]),
    )
    r = run_cos("dsse", "verify", "--pub", pub, tmp_path / "missing.json")
    assert r.returncode == 2, r.describe()
    r = run_cos("dsse", "verify", "--pub", tmp_path / "missing.pub", env)
    assert r.returncode == 2, r.describe()
    r = run_cos("dsse", "verify", env)  # no --pub at all
    assert r.returncode == 2, r.describe()


# --------------------------------------------------------------------------
# private keys written by cryptography -> cos signs -> securesystemslib verifies

KEY_FILE_CASES = [
    ("ed25519", "pkcs8"),
    ("ecdsa-p256", "pkcs8"),
    # ADR-0002: SEC1 "EC PRIVATE KEY" files are read too.
    ("ecdsa-p256", "sec1"),
]


@pytest.mark.parametrize(
    ("alg", "fmt"), KEY_FILE_CASES, ids=[f"{a}-{f}" for a, f in KEY_FILE_CASES]
)
def test_cos_signs_with_cryptography_private_key(run_cos, tmp_path, alg, fmt):
    private_key = new_private_key(alg)
    private_format = {
        "pkcs8": serialization.PrivateFormat.PKCS8,
        "sec1": serialization.PrivateFormat.TraditionalOpenSSL,
    }[fmt]
    key_pem = private_key.private_bytes(
        serialization.Encoding.PEM, private_format, serialization.NoEncryption()
    )
    expected_header = {"pkcs8": b"-----BEGIN PRIVATE KEY-----", "sec1": b"-----BEGIN EC PRIVATE KEY-----"}
    assert key_pem.startswith(expected_header[fmt])
    key_path = tmp_path / "crypto.key"
    key_path.write_bytes(key_pem)
    pub_pem = spki_pem(private_key.public_key())

    payload_path = tmp_path / "statement.json"
    payload_path.write_bytes(INTOTO_PAYLOAD)
    r = run_cos("dsse", "sign", "--key", key_path, "--payload-type", INTOTO_TYPE, payload_path)
    assert r.returncode == 0, r.describe()
    env = json.loads(r.stdout)

    keyid = cos_keyid(private_key.public_key())
    assert [s["keyid"] for s in env["signatures"]] == [keyid]
    key = sslib_key(pub_pem, SCHEMES[alg], keyid)
    assert list(sslib_verify(env, [key], 1)) == [keyid]

    # And cos verifies its own envelope against the cryptography-written public key.
    pub_path = tmp_path / "crypto.pub"
    pub_path.write_bytes(pub_pem)
    env_path = write_json(tmp_path / "env.json", env)
    r = run_cos("dsse", "verify", "--pub", pub_path, "--payload-type", INTOTO_TYPE, env_path)
    assert r.returncode == 0, r.describe()
