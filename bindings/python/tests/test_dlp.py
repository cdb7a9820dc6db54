"""Dlp: detectors, custom patterns, operators, JSON field rules, the
obligations of a decision, limits, and the report (no values)."""

import hashlib
import hmac

import pytest

import companyos
from companyos.policy import Dlp, Engine, Pack

TEXT = "Mail alice@example.com, card 4111 1111 1111 1111, call 415-555-0132."


def test_defaults_redact_every_detector():
    out, report = Dlp().redact_text(TEXT)
    assert out == "Mail [REDACTED:EMAIL], card [REDACTED:CREDIT_CARD], call [REDACTED:PHONE]."
    assert [f["entity"] for f in report["findings"]] == ["email", "credit_card", "phone"]
    assert report["findings"][0]["span"] == {"start": 5, "end": 22}
    assert all(f["operator"] == "redact" for f in report["findings"])
    # Reports never hold the values.
    assert "alice" not in repr(report)


def test_scan_finds_without_changing():
    found = Dlp().scan(TEXT)
    assert [(d["entity"], TEXT.encode()[d["span"]["start"]:d["span"]["end"]]) for d in found] == [
        ("email", b"alice@example.com"),
        ("credit_card", b"4111 1111 1111 1111"),
        ("phone", b"415-555-0132"),
    ]
    assert Dlp({"detectors": ["email"]}).scan(TEXT)[0]["entity"] == "email"
    assert len(Dlp({"detectors": ["email"]}).scan(TEXT)) == 1
    assert [d["entity"] for d in Dlp({"without": ["phone"]}).scan(TEXT)] == ["email", "credit_card"]


def test_operators_mask_replace_hash_drop():
    key = b"per-tenant secret"
    dlp = Dlp(
        {
            "operators": {
                "credit_card": {"type": "mask", "keep": 4},
                "email": "hash",
                "phone": {"type": "replace", "value": "<phone>"},
            },
        },
        hash_key=key,
    )
    out, report = dlp.redact_text(TEXT)
    digest = hmac.new(key, b"alice@example.com", hashlib.sha256).hexdigest()
    assert out == f"Mail {digest}, card **** **** **** 1111, call <phone>."
    assert [f["operator"] for f in report["findings"]] == ["hash", "mask", "replace"]
    out, _ = Dlp({"default_operator": "drop"}).redact_text("a alice@example.com b")
    assert out == "a  b"
    out, _ = Dlp({"redact_template": "<{entity}>"}).redact_text("alice@example.com")
    assert out == "<email>"


def test_custom_patterns_and_configuration_errors():
    dlp = Dlp({"patterns": [{"name": "employee_id", "pattern": r"\bEMP-[0-9]{6}\b",
                             "classification": "CONFIDENTIAL", "operator": "mask"}]})
    out, report = dlp.redact_text("badge EMP-123456 issued")
    assert out == "badge ***-**3456 issued"
    assert report["findings"][0] == {"entity": "employee_id", "span": {"start": 6, "end": 16},
                                     "classification": "CONFIDENTIAL", "operator": "mask"}
    cases = [
        ({"patterns": [{"name": "email", "pattern": "x"}]}, "dlp_invalid_pattern"),
        ({"patterns": [{"name": "p", "pattern": "("}]}, "dlp_invalid_pattern"),
        ({"patterns": [{"name": "p", "pattern": "a*"}]}, "dlp_invalid_pattern"),
        ({"operators": {"email": "hash"}}, "dlp_invalid_operator"),
        ({"operators": {"no_such_entity": "drop"}}, "dlp_invalid_operator"),
    ]
    for config, code in cases:
        with pytest.raises(companyos.PolicyError) as e:
            Dlp(config)
        assert e.value.code == code, config
    for bad in ({"detectors": ["emails"]}, {"colour": "red"}, {"operators": {"email": "shred"}}):
        with pytest.raises(ValueError):
            Dlp(bad)


def test_json_documents_with_field_rules():
    dlp = Dlp(hash_key=b"k")
    doc = {"customer": {"email": "bob@example.org", "ssn": "123-45-6789", "note": "call 415-555-0132"},
           "items": [{"card": "4111111111111111", "qty": 2}]}
    rules = {"fields": [
        {"path": "customer.email", "operator": "hash"},
        {"path": "customer.ssn", "operator": "drop"},
        {"path": "items[*].card", "operator": "mask", "class": "credit_card", "classification": "RESTRICTED"},
    ]}
    out, report = dlp.redact_json(doc, rules)
    assert out["customer"]["email"] == hmac.new(b"k", b"bob@example.org", hashlib.sha256).hexdigest()
    assert "ssn" not in out["customer"]
    assert out["customer"]["note"] == "call [REDACTED:PHONE]"
    assert out["items"] == [{"card": "************1111", "qty": 2}]
    by_path = {f["path"]: f for f in report["findings"]}
    assert by_path["items[0].card"] == {"entity": "credit_card", "path": "items[0].card",
                                        "classification": "RESTRICTED", "operator": "mask"}
    assert by_path["customer.note"]["span"] == {"start": 5, "end": 17}
    # The input is not changed; without rules every string is scanned.
    assert doc["customer"]["ssn"] == "123-45-6789"
    out, _ = dlp.redact_json(doc)
    assert out["customer"]["email"] == "[REDACTED:EMAIL]"
    out, report = dlp.redact_json(doc, {"scan_strings": False})
    assert out == doc and report["findings"] == []
    with pytest.raises(companyos.PolicyError) as e:
        dlp.redact_json(doc, {"fields": [{"path": "a..b", "operator": "drop"}]})
    assert e.value.code == "dlp_invalid_path"
    with pytest.raises(companyos.PolicyError) as e:
        Dlp().redact_json(doc, {"fields": [{"path": "customer.email", "operator": "hash"}]})
    assert e.value.code == "dlp_invalid_operator"


def test_obligations_of_a_decision():
    obligations = [
        {"type": "redact", "operator": "drop", "fields": ["customer.ssn"]},
        {"type": "redact", "operator": "mask", "fields": ["payment.card"]},
        {"type": "step_up", "method": "mfa"},
    ]
    doc = {"customer": {"name": "Ann", "ssn": "123-45-6789"}, "payment": {"card": "4111111111111111"}}
    out, report = Dlp().apply_obligations(doc, obligations)
    assert out == {"customer": {"name": "Ann"}, "payment": {"card": "************1111"}}
    assert len(report["findings"]) == 2
    out, _ = Dlp({"named_operators": {"mask": {"type": "mask", "keep": 2}}}).apply_obligations(doc, obligations)
    assert out["payment"]["card"] == "**************11"
    with pytest.raises(companyos.PolicyError) as e:
        Dlp().apply_obligations(doc, [{"type": "redact", "operator": "shred", "fields": ["a"]}])
    assert e.value.code == "dlp_invalid_operator"
    with pytest.raises(ValueError):
        Dlp().apply_obligations(doc, "not a list")


def test_with_the_baseline_packs_dlp_decision():
    import pathlib

    root = pathlib.Path(__file__).resolve().parents[3]
    engine = Engine(Pack.load(root / "examples" / "policy-packs" / "companyos-baseline"))
    decision = engine.decide("dlp", {
        "destination": {"party": "public"},
        "fields": [{"path": "customer.email", "class": "email"},
                   {"path": "customer.ssn", "class": "ssn"}],
    })
    assert decision["allow"] is True
    record = {"customer": {"email": "ann@example.com", "ssn": "123-45-6789", "id": 7}}
    out, report = Dlp().apply_obligations(record, decision["obligations"])
    assert out == {"customer": {"email": "[REDACTED:FIELD]", "id": 7}}
    assert sorted(f["operator"] for f in report["findings"]) == ["drop", "redact"]


def test_limits_and_large_inputs():
    small = Dlp({"max_input_bytes": 100, "max_depth": 3})
    with pytest.raises(companyos.PolicyError) as e:
        small.redact_text("x" * 101)
    assert e.value.code == "dlp_input_too_large"
    with pytest.raises(companyos.PolicyError) as e:
        small.scan("x" * 101)
    assert e.value.code == "dlp_input_too_large"
    with pytest.raises(companyos.PolicyError) as e:
        small.redact_json({"a": {"b": {"c": {"d": "e"}}}})
    assert e.value.code == "dlp_input_too_large"
    # A large text (the GIL is released while it is scanned).
    big = ("filler text " * 1000 + "alice@example.com ") * 50
    out, report = Dlp().redact_text(big)
    assert len(report["findings"]) == 50 and "alice" not in out
