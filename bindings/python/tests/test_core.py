"""companyos.core: each function, and its errors, through the native module."""

import hashlib
import json

import pytest

import companyos
from companyos import core


def test_digest_matches_hashlib():
    assert core.digest(b"abc") == "sha256:" + hashlib.sha256(b"abc").hexdigest()
    assert core.digest(b"abc", "sha512") == "sha512:" + hashlib.sha512(b"abc").hexdigest()
    with pytest.raises(ValueError):
        core.digest(b"abc", "md5")


def test_canonical_json():
    assert core.canonicalize(b'{"b": [1.0, 1e21], "a": "\\u00e9"}') == '{"a":"é","b":[1,1e+21]}'.encode()
    assert core.canonical_json({"b": 2, "a": [True, None, 1.5]}) == b'{"a":[true,null,1.5],"b":2}'
    with pytest.raises(companyos.CoreError) as e:
        core.canonicalize(b'{"a": 1, "a": 2}')
    assert e.value.code
    assert isinstance(e.value, companyos.CosError)
    with pytest.raises(TypeError):
        core.canonical_json({1: "non-string key"})
    with pytest.raises(ValueError):
        core.canonical_json(float("nan"))


@pytest.mark.parametrize("alg", ["ed25519", "ecdsa-p256"])
def test_keys_and_dsse_round_trip(alg):
    k = core.SigningKey.generate(alg)
    assert k.algorithm == alg
    assert len(k.key_id) == 64
    assert "PUBLIC KEY" in k.public_pem()
    again = core.SigningKey.from_pem(k.to_pem())
    assert again.key_id == k.key_id
    assert alg in repr(k)

    env = core.dsse_sign(b'{"x": 1}', "application/vnd.in-toto+json", [k])
    doc = json.loads(env)
    assert doc["payloadType"] == "application/vnd.in-toto+json"
    payload, ptype, ids = core.dsse_verify(env, [k.public_pem()], payload_type="application/vnd.in-toto+json")
    assert payload == b'{"x": 1}' and ptype == "application/vnd.in-toto+json" and ids == [k.key_id]


def test_dsse_errors():
    a, b = core.SigningKey.generate(), core.SigningKey.generate("ecdsa-p256")
    env = core.dsse_sign(b"hello", "text/plain", [a])
    # The wrong key: a verification failure.
    with pytest.raises(companyos.VerificationError) as e:
        core.dsse_verify(env, [b.public_pem()])
    assert e.value.code
    # A tampered signature.
    doc = json.loads(env)
    sig = doc["signatures"][0]["sig"]
    doc["signatures"][0]["sig"] = ("A" if sig[0] != "A" else "B") + sig[1:]
    with pytest.raises(companyos.VerificationError):
        core.dsse_verify(json.dumps(doc).encode(), [a.public_pem()])
    # Threshold above the keys given, the wrong payload type, garbage.
    with pytest.raises(companyos.CoreError):
        core.dsse_verify(env, [a.public_pem()], threshold=2)
    with pytest.raises(companyos.CoreError):
        core.dsse_verify(env, [a.public_pem()], payload_type="application/json")
    with pytest.raises(companyos.CoreError):
        core.dsse_verify(b"not json", [a.public_pem()])
    with pytest.raises(companyos.CoreError):
        core.SigningKey.from_pem("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
    with pytest.raises(companyos.CoreError):
        core.SigningKey.generate("rsa")


def test_in_toto_statements():
    k = core.SigningKey.generate("ecdsa-p256")
    d = core.digest(b"artifact")
    st = core.statement("https://slsa.dev/provenance/v1", {"buildType": "x"}, [("app.tar", d)])
    assert st["_type"] == "https://in-toto.io/Statement/v1"
    assert st["subject"] == [{"name": "app.tar", "digest": {"sha256": d.split(":")[1]}}]
    env = core.statement_sign(st, [k])
    assert json.loads(env)["payloadType"] == "application/vnd.in-toto+json"
    assert core.statement_verify(env, [k.public_pem()]) == st
    with pytest.raises(companyos.CoreError):
        core.statement("p", {}, [])  # no subject
    with pytest.raises(companyos.CoreError):
        core.statement("p", {}, [("a", "sha256:zz")])
    with pytest.raises(companyos.CoreError):
        core.statement_sign({"_type": "nope"}, [k])
    other = core.dsse_sign(b"{}", "application/json", [k])
    with pytest.raises(companyos.CoreError):
        core.statement_verify(other, [k.public_pem()])
