"""Disclosure packs: build, sign, verify, tamper; and AC-4: EU-Only data to
a US region is blocked without an approved disclosure pack and allowed with
one (the baseline pack's residency entrypoint)."""

import json
import pathlib

import pytest

import companyos
from companyos.core import SigningKey, digest, dsse_sign
from companyos.policy import (
    DisclosurePack,
    Engine,
    Pack,
    VerifiedDisclosure,
    decide_residency,
    verify_disclosure,
)

ROOT = pathlib.Path(__file__).resolve().parents[3]
DATA = b'{"ticket":4711,"customer":"c-1"}\n'
NOW = "2026-11-22T10:00:00Z"


@pytest.fixture(scope="module")
def engine():
    return Engine(Pack.load(ROOT / "examples" / "policy-packs" / "companyos-baseline"))


@pytest.fixture(scope="module")
def issuer():
    return SigningKey.generate("ecdsa-p256")


def pack(**changes):
    args = dict(
        issuer="privacy-office",
        purpose="support",
        destination_region="US",
        datasets=[{"id": "ds-eu-1", "classification": "CONFIDENTIAL", "residency": ["EU-Only"],
                   "objects": [{"name": "tickets.jsonl", "digest": digest(DATA)}]}],
        approvals=[{"approver": "ann", "role": "dpo", "time": "2026-11-20T09:00:00Z"}],
        created="2026-11-20T08:00:00Z",
        expires="2027-01-01T00:00:00Z",
    )
    args.update(changes)
    return DisclosurePack("dp-7", **args)


REQUEST = {
    "dataset_id": "ds-eu-1",
    "classification": "CONFIDENTIAL",
    "residency": "EU-Only",
    "destination_region": "us-east-1",
    "party": "internal",
    "purpose": "support",
    "time": NOW,
}


def test_build_and_round_trip():
    p = pack()
    assert p.id == "dp-7"
    d = p.to_dict()
    assert d["destination"] == {"region": "US"}
    assert d["datasets"][0]["objects"][0]["digest"] == digest(DATA)
    again = DisclosurePack.from_json(p.to_json())
    assert again.to_dict() == d
    # Canonical JSON: sorted keys, no spaces.
    assert p.to_json() == json.dumps(d, sort_keys=True, separators=(",", ":")).encode()
    assert repr(p) == 'DisclosurePack(id="dp-7")'


def test_invalid_packs_are_refused():
    cases = [
        dict(purpose="Not A Tag"),
        dict(expires="2026-11-01T00:00:00Z"),
        dict(datasets=[]),
        dict(destination_region=None),
        dict(created="yesterday"),
    ]
    for c in cases:
        with pytest.raises(companyos.PolicyError) as e:
            pack(**c)
        assert e.value.code == "disclosure_invalid", c
    with pytest.raises(ValueError):
        pack(datasets=[{"id": "x"}])
    with pytest.raises(companyos.CoreError) as e:
        pack(destination_region="Atlantis!")
    assert e.value.code == "invalid_region"
    with pytest.raises(companyos.PolicyError) as e:
        DisclosurePack.from_json(b'{"id": "x"}')
    assert e.value.code == "disclosure_invalid"


def test_sign_verify_and_tamper(issuer):
    envelope = pack().sign([issuer])
    v = verify_disclosure(envelope, [issuer.public_pem()], NOW, required_roles=["dpo"])
    assert isinstance(v, VerifiedDisclosure)
    assert v.key_ids == [issuer.key_id]
    assert v.verified_at == NOW
    assert v.pack["id"] == "dp-7"
    assert v.approvals == [{"approver": "ann", "role": "dpo", "time": "2026-11-20T09:00:00Z"}]
    assert v.to_dict()["pack"] == v.pack
    policy_input = v.to_policy_input()
    assert policy_input["approved"] is True and policy_input["destination"] == "US"
    assert v.covers("ds-eu-1", "CONFIDENTIAL", "EU-Only")
    assert v.covers("ds-eu-1", "INTERNAL", "EU-Only")
    assert not v.covers("ds-eu-1", "RESTRICTED", "EU-Only")
    v.check_data("ds-eu-1", "tickets.jsonl", DATA)
    v.check_digest("ds-eu-1", "tickets.jsonl", digest(DATA))
    with pytest.raises(companyos.PolicyError) as e:
        v.check_data("ds-eu-1", "tickets.jsonl", DATA + b"x")
    assert e.value.code == "disclosure_digest_mismatch"
    with pytest.raises(companyos.PolicyError) as e:
        v.check_digest("ds-eu-1", "other.jsonl", digest(DATA))
    assert e.value.code == "disclosure_digest_mismatch"

    env = json.loads(envelope)
    # A changed payload no longer verifies.
    import base64

    payload = json.loads(base64.b64decode(env["payload"]))
    payload["expires"] = "2030-01-01T00:00:00Z"
    env["payload"] = base64.b64encode(json.dumps(payload).encode()).decode()
    with pytest.raises(companyos.PolicyError) as e:
        verify_disclosure(json.dumps(env).encode(), [issuer.public_pem()], NOW)
    assert e.value.code == "disclosure_signature_invalid"

    other = SigningKey.generate("ed25519")
    cases = [
        (lambda: verify_disclosure(envelope, [other.public_pem()], NOW), "disclosure_untrusted_key"),
        (lambda: verify_disclosure(envelope, [issuer.public_pem()], "2027-01-01T00:00:00Z"), "disclosure_expired"),
        (lambda: verify_disclosure(envelope, [issuer.public_pem()], "2026-11-01T00:00:00Z"), "disclosure_not_yet_valid"),
        (lambda: verify_disclosure(envelope, [issuer.public_pem()], NOW, min_approvals=2),
         "disclosure_insufficient_approvals"),
        (lambda: verify_disclosure(envelope, [issuer.public_pem()], NOW, required_roles=["legal"]),
         "disclosure_insufficient_approvals"),
        (lambda: verify_disclosure(dsse_sign(b"{}", "text/plain", [issuer]), [issuer.public_pem()], NOW),
         "disclosure_payload_type"),
        (lambda: verify_disclosure(b"not json", [issuer.public_pem()], NOW), "disclosure_invalid"),
    ]
    for call, code in cases:
        with pytest.raises(companyos.PolicyError) as e:
            call()
        assert e.value.code == code
    # The caller's mistakes: no trusted keys, a bad key.
    with pytest.raises(companyos.PolicyError) as e:
        verify_disclosure(envelope, [], NOW)
    assert e.value.code == "invalid_threshold"
    with pytest.raises(companyos.CoreError) as e:
        verify_disclosure(envelope, ["not a key"], NOW)
    assert e.value.code == "invalid_key"
    # Without `now`: the current time (the pack has expired or not, but it parses).
    with pytest.raises(companyos.PolicyError):
        verify_disclosure(envelope, [issuer.public_pem()], "not a time")


def test_ac4_eu_only_to_us_blocked_without_allowed_with_an_approved_pack(engine, issuer):
    trusted = [issuer.public_pem()]
    out = decide_residency(engine, "residency", REQUEST, trusted_keys=trusted, required_roles=["dpo"])
    assert out["disclosure"] == {"status": "absent"}
    d = out["decision"]
    assert d["allow"] is False
    assert [r["code"] for r in d["reasons"]] == ["RESIDENCY_VIOLATION"]
    assert d["obligations"] == [{"type": "disclosure_pack", "purpose": "support", "destination": "US"}]

    envelope = pack().sign([issuer])
    out = decide_residency(engine, "residency", REQUEST, envelope, trusted, required_roles=["dpo"])
    assert out["decision"]["allow"] is True
    assert [r["code"] for r in out["decision"]["reasons"]] == ["DISCLOSURE_PACK_APPROVED"]
    assert out["disclosure"]["status"] == "verified"
    assert out["disclosure"]["id"] == "dp-7"
    assert out["disclosure"]["key_ids"] == [issuer.key_id]

    # A pack that does not verify changes nothing: still blocked, and why.
    stranger = SigningKey.generate("ed25519")
    for env, code in [
        (pack().sign([stranger]), "disclosure_untrusted_key"),
        (pack(expires="2026-11-21T00:00:00Z", approvals=[]), None),
    ]:
        if code is None:
            env = env.sign([issuer])
            code = "disclosure_expired"
        out = decide_residency(engine, "residency", REQUEST, env, trusted)
        assert out["decision"]["allow"] is False
        assert out["disclosure"]["status"] == "rejected"
        assert out["disclosure"]["code"] == code

    # Within the EU no pack is needed.
    out = decide_residency(engine, "residency", dict(REQUEST, destination_region="eu-central-1"))
    assert out["decision"]["allow"] is True

    with pytest.raises(ValueError):
        decide_residency(engine, "residency", {"dataset_id": "x"})
    with pytest.raises(companyos.PolicyError) as e:
        decide_residency(engine, "residency", REQUEST, envelope, [])
    assert e.value.code == "invalid_threshold"
