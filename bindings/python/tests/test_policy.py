"""companyos.policy: packs, decisions and errors through the native module."""

import pathlib
import threading

import pytest

import companyos
from companyos.policy import DecisionLogger, Engine, JsonLinesWriter, Pack

ROOT = pathlib.Path(__file__).resolve().parents[3]
BASELINE = ROOT / "examples" / "policy-packs" / "companyos-baseline"

ABAC_INPUT = {
    "subject": {"id": "u1", "tenant": "acme", "roles": ["analyst"], "attributes": {"clearance": "CONFIDENTIAL", "step_up": False}},
    "action": "read",
    "resource": {"type": "dataset", "id": "d1", "tenant": "acme", "classification": "CONFIDENTIAL", "residency": "EU-Only"},
    "context": {"time": "2026-11-22T10:00:00Z", "grants": []},
}


@pytest.fixture(scope="module")
def pack():
    return Pack.load(BASELINE)


@pytest.fixture(scope="module")
def engine(pack):
    return Engine(pack)


def test_pack_metadata_and_bundle(pack):
    assert pack.name == "companyos-baseline"
    assert pack.version == "1.0.1"
    assert pack.revision
    assert pack.digest.startswith("sha256:")
    assert pack.entrypoints["abac"] == "companyos/abac/decision"
    bundle = pack.build_bundle()
    again = Pack.from_bytes(bundle)
    assert again.name == pack.name
    assert bundle == again.build_bundle()  # deterministic
    assert "companyos-baseline" in repr(pack)


def test_bundle_mtime_is_source_date_epoch(pack, monkeypatch):
    # The binding reads SOURCE_DATE_EPOCH with cos-core's parser, as `cos
    # pack build` does: unset is 0, a malformed value is refused.
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    unset = pack.build_bundle()
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "0")
    assert pack.build_bundle() == unset
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    dated = pack.build_bundle()
    assert dated != unset and dated == pack.build_bundle()
    for bad in ["", "yesterday", "-1", "1.5"]:
        monkeypatch.setenv("SOURCE_DATE_EPOCH", bad)
        for build in (pack.build_bundle, pack.build_bundle_with_tests):
            with pytest.raises(companyos.CoreError) as e:
                build()
            assert e.value.code == "invalid_source_date_epoch"


def test_signed_bundle_round_trip_and_tamper(pack):
    from companyos.core import SigningKey

    key = SigningKey.generate("ecdsa-p256")
    bundle = pack.build_signed_bundle(key, key_id="release", scope="write")
    signed = Pack.from_bytes(bundle)
    assert signed.is_signed and not pack.is_signed
    v = signed.verify_signature(key.public_pem(), key_id="release", scope="write")
    assert v["key_id"] == "release"
    assert any(f["name"].endswith("data.json") for f in v["claims"]["files"])
    other = SigningKey.generate("ecdsa-p256")
    with pytest.raises(companyos.PolicyError) as e:
        signed.verify_signature(other.public_pem())
    assert e.value.code
    with pytest.raises(companyos.PolicyError):
        signed.verify_signature(key.public_pem(), scope="admin")
    with pytest.raises(companyos.PolicyError):
        pack.verify_signature(key.public_pem())  # unsigned
    with pytest.raises(companyos.PolicyError):
        pack.build_signed_bundle(SigningKey.generate("ed25519"))  # ES256 needs P-256


def test_pack_tests_run(pack):
    report, ok = pack.run_tests()
    assert ok
    assert len(report) > 50
    report, ok = pack.run_tests(run="abac")
    assert ok and all("abac" in r["package"] for r in report)


def test_evaluate_and_decide(engine):
    assert engine.evaluate("data.companyos.abac.decision", ABAC_INPUT)["allow"] is True
    assert engine.evaluate("companyos/abac/nothing", ABAC_INPUT) is None  # undefined
    d = engine.decide("abac", ABAC_INPUT)
    assert d["allow"] is True and d["reasons"] == []
    assert d["pack"]["name"] == "companyos-baseline" and d["decision_id"]
    denied = engine.decide("abac", dict(ABAC_INPUT, action="delete"))
    assert denied["allow"] is False
    assert [r["code"] for r in denied["reasons"]] == ["NOT_PERMITTED"]
    assert engine.runs_on_vm("companyos/abac/decision")
    # The {allow, reason} shape of OPA REST clients, in-process.
    assert engine.allow_reason("companyos/abac/decision", ABAC_INPUT) == {"allow": True, "reason": None}
    assert engine.allow_reason("companyos/abac/missing", ABAC_INPUT) == {"allow": False, "reason": None}
    # AC-4: EU-Only data to a US region needs an approved disclosure pack.
    residency = {
        "dataset": {"id": "ds-eu-1", "classification": "CONFIDENTIAL", "residency": "EU-Only"},
        "destination": {"region": "us-east-1", "party": "internal"},
        "context": {"time": "2026-11-22T10:00:00Z"},
        "purpose": "support",
    }
    assert engine.decide("residency", residency)["allow"] is False


def test_shared_across_threads(engine):
    results = []

    def work():
        for _ in range(50):
            results.append(engine.decide("abac", ABAC_INPUT)["allow"])

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [True] * 200


def test_errors(tmp_path, engine):
    with pytest.raises(companyos.PolicyError) as e:
        Pack.load(tmp_path / "missing")
    assert e.value.code and isinstance(e.value, companyos.CosError)
    with pytest.raises(companyos.PolicyError):
        Pack.from_bytes(b"not a tarball")
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "manifest.yaml").write_text("name: bad\nversion: 1.0.0\nroots: [bad]\n")
    (bad / "p.rego").write_text("package bad\n\nf(x) := f(x)\n")
    with pytest.raises(companyos.PolicyError) as e:
        Engine(Pack.load(bad))
    assert e.value.code == "compile_error"
    assert "rego_recursion_error" in str(e.value)
    with pytest.raises(companyos.PolicyError):
        engine.evaluate("data.a\x00b", {})
    huge = tmp_path / "huge"
    huge.mkdir()
    (huge / "manifest.yaml").write_text("name: huge\nversion: 1.0.0\nroots: [huge]\n")
    (huge / "p.rego").write_text("package huge\n\nn := count(numbers.range(1, 1e12))\n")
    with pytest.raises(companyos.PolicyError) as e:
        Engine(Pack.load(huge), timeout_ms=30000).evaluate("data.huge.n", {})
    assert e.value.code == "resource_limit"
    with pytest.raises(TypeError):
        engine.evaluate("data.companyos.abac.decision", {"x": object()})
    with pytest.raises(ValueError):
        nested = []
        for _ in range(200):
            nested = [nested]
        engine.evaluate("data.companyos.abac.decision", nested)


def test_decision_log(tmp_path, engine):
    import json

    logger = DecisionLogger({"service": "billing"})
    d = engine.decide("abac", ABAC_INPUT)
    ev = logger.event_for_decision(engine, d, ABAC_INPUT, requested_by="10.0.0.1")
    assert ev["decision_id"] == d["decision_id"] and ev["path"] == d["path"]
    assert ev["labels"]["service"] == "billing" and ev["labels"]["id"]
    assert ev["bundles"]["companyos-baseline"]["revision"] == "2026.12.02-1"
    assert ev["result"]["allow"] is True
    ev2 = logger.event_for_result(engine, "companyos/abac/decision", ABAC_INPUT, {"allow": True}, 1234)
    assert ev2["metrics"]["timer_rego_query_eval_ns"] == 1234
    failed = logger.event_for_error(
        "companyos/abac/decision", {"code": "timeout", "message": "time limit"}, engine, ABAC_INPUT, 7
    )
    assert failed["error"] == {"code": "timeout", "message": "time limit"} and "result" not in failed
    assert failed["bundles"]["companyos-baseline"]["revision"] == "2026.12.02-1"
    bare = logger.event_for_error("p", {"code": "x", "message": "y"})
    assert bare["bundles"] == {} and "input" not in bare
    with pytest.raises(ValueError):
        logger.event_for_error("p", {"code": "x"})
    log = tmp_path / "decisions.jsonl"
    w = JsonLinesWriter(log)
    w.write(ev)
    w.write(ev2)
    w.close()
    lines = log.read_text().splitlines()
    assert [json.loads(x)["decision_id"] for x in lines] == [ev["decision_id"], ev2["decision_id"]]
    with pytest.raises(ValueError):
        w.write(ev)
    with pytest.raises(ValueError):
        JsonLinesWriter(tmp_path / "other.jsonl").write({"not": "an event"})
    with pytest.raises(ValueError):
        logger.event_for_decision(engine, {"allow": "maybe"})
    with pytest.raises(companyos.CoreError):
        JsonLinesWriter(tmp_path / "no" / "such" / "dir.jsonl")


def test_inputs_that_are_not_json_raise_typed_errors(engine):
    cyclic = []
    cyclic.append(cyclic)
    cases = [
        (cyclic, ValueError),
        ({1: 2}, TypeError),
        ({"x": float("nan")}, ValueError),
        ({"x": object()}, TypeError),
        ({"k": "\ud800"}, UnicodeEncodeError),
    ]
    for bad, exc in cases:
        with pytest.raises(exc):
            engine.evaluate("companyos/abac/decision", bad)
    # Big integers and tuples convert as JSON would.
    assert engine.evaluate("companyos/abac/decision", {"x": 10**40, "t": ("a", 1)}) is not None


def test_strings_cross_exactly(engine):
    # ASCII, Latin-1, BMP and astral text, in values and keys, read in place
    # (CPython 3.10+) or through an encoded copy: the policy sees the same
    # characters either way (the reason quotes the action).
    for action in ["lëse", "読む", "🙂 read", "x" * 300]:
        for call in (engine.evaluate, lambda p, i: engine.decide("abac", i)):
            doc = call("companyos/abac/decision", dict(ABAC_INPUT, action=action, **{"ключ": "значение"}))
            assert doc["allow"] is False
            messages = [r["message"] for r in doc["reasons"]]
            assert any(f'"{action}"' in m for m in messages), (action, messages)

    class Label(str):
        pass

    assert engine.evaluate("companyos/abac/decision", dict(ABAC_INPUT, action=Label("read")))["allow"] is True
    with pytest.raises(UnicodeEncodeError):
        engine.evaluate("companyos/abac/decision", {"\udc80": 1})
    with pytest.raises(UnicodeEncodeError):
        engine.decide("abac", dict(ABAC_INPUT, action="\ud800"))


def test_input_mutated_while_converted_is_safe(engine):
    class Sneaky(int):
        def __str__(self):
            victim.clear()
            return "1"

    victim = {"a": Sneaky(10**30), "b": 1, "c": 2}
    assert engine.evaluate("companyos/abac/decision", victim) is not None
    # Every path that reads Python objects (decide and the JSON-taking
    # functions go through another target form than evaluate): no panic.
    # decide builds a JSON value, which refuses an int beyond 64 bits.
    victim = {"a": Sneaky(10**30), "b": 1, "c": 2}
    with pytest.raises(ValueError, match="beyond 64 bits"):
        engine.decide("abac", victim)
    victim = [Sneaky(10**30), 1, 2]
    assert engine.evaluate("companyos/abac/decision", {"l": victim}) is not None
    victim = [Sneaky(10**30), 1, 2]
    with pytest.raises(ValueError, match="beyond 64 bits"):
        engine.decide("abac", {"l": victim})


def test_inputs_reach_the_policy_as_json_would(tmp_path):
    # An echo policy: what the engine received, back as JSON. Python values
    # are built straight into the engine's form; they must arrive as
    # json.dumps would have written them.
    import json

    echo = tmp_path / "echo"
    echo.mkdir()
    (echo / "manifest.yaml").write_text("name: echo\nversion: 1.0.0\nroots: [echo]\n")
    (echo / "p.rego").write_text("package echo\n\nimport rego.v1\n\nvalue := input\n")
    engine = Engine(Pack.load(echo))

    class Label(str):
        pass

    cases = [
        None,
        True,
        0,
        -(2**63),
        2**64 - 1,
        2.5,
        -1e300,
        "lëse 🙂",
        Label("sub"),
        [1, [2, [3]], {}],
        ("a", 1),
        {"b": {"y": 1, "x": [None, False]}, "a": "", "": 0, "ключ": "значение"},
    ]
    for value in cases:
        assert engine.evaluate("echo/value", value) == json.loads(json.dumps(value)), value
    # Beyond 64 bits: a float, as JSON decoders other than Python's read it.
    assert engine.evaluate("echo/value", 10**40) == 1e40
    assert engine.evaluate("echo/value", {"x": 1, "y": True}) == {"x": 1, "y": True}


def test_opa_parity_through_the_binding(tmp_path):
    # Issue 19's engine changes reach Python unchanged: builtins OPA has
    # (JWT, net.cidr_merge), its newer syntax (`or`, template strings), a
    # negated call whose operand is missing (OPA: the body fails), and a
    # call to an undefined function refused at load.
    d = tmp_path / "parity"
    d.mkdir()
    (d / "manifest.yaml").write_text("name: parity\nversion: 1.0.0\nroots: [parity]\n")
    (d / "p.rego").write_text(
        "package parity\n\nimport future.keywords.or\n\n"
        'claims := io.jwt.decode("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2ln")[1]\n'
        'nets := net.cidr_merge(["10.0.0.0/25", "10.0.0.128/25"])\n'
        'greeting := $"hello {input.user}"\n'
        'admin if { input.role == "admin" or input.role == "owner" }\n'
        "default deny := false\n\n"
        'deny if { input.user; not input.role in {"admin", "owner"} }\n'
    )
    engine = Engine(Pack.load(d))
    assert engine.evaluate("data.parity.claims", {}) == {"sub": "alice"}
    assert engine.evaluate("data.parity.nets", {}) == ["10.0.0.0/24"]
    assert engine.evaluate("data.parity.greeting", {"user": "bob"}) == "hello bob"
    assert engine.evaluate("data.parity.admin", {"role": "owner"}) is True
    assert engine.evaluate("data.parity.deny", {"user": "bob", "role": "viewer"}) is True
    assert engine.evaluate("data.parity.deny", {"user": "bob"}) is False
    (d / "p.rego").write_text("package parity\n\nx := time.hour(input.t) if input.flag\n")
    with pytest.raises(companyos.PolicyError) as e:
        Engine(Pack.load(d))
    assert e.value.code == "compile_error" and "undefined function time.hour" in str(e.value)


def test_big_integers_are_exact_in_an_input_and_refused_where_they_would_round(tmp_path):
    # OPA keeps a number's text: an id beyond 64 bits compares exactly. In an
    # evaluation input the binding hands Python's int over by its digits;
    # where a JSON value would round it (decide), it is refused, not rounded.
    d = tmp_path / "big"
    d.mkdir()
    (d / "manifest.yaml").write_text("name: big\nversion: 1.0.0\nroots: [big]\nentrypoints: {d: big/decision}\n")
    (d / "p.rego").write_text(
        "package big\n\nsame if input.id == 12345678901234567890123\n\n"
        'decision := {"allow": true} if same\n'
    )
    engine = Engine(Pack.load(d))
    assert engine.evaluate("data.big.same", {"id": 12345678901234567890123}) is True
    assert engine.evaluate("data.big.same", {"id": 12345678901234567890124}) is None
    assert engine.evaluate("data.big.same", {"id": 2**64}) is None
    with pytest.raises(ValueError, match="beyond 64 bits"):
        engine.decide("d", {"id": 12345678901234567890123})
