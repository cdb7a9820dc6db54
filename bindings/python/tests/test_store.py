"""PolicyStore (verified hot reload, last known good, rollback, cohorts,
shadow) and PackClient, as cos-policy's store and HTTP client behave."""

import hashlib
import json
import os
import pathlib
import subprocess
import threading

import pytest

import companyos
from companyos.core import SigningKey, sigstore_sign_blob
from companyos.policy import (
    FetchedPack,
    Pack,
    PackClient,
    PolicyStore,
    in_cohort,
    tenant_bucket,
)

ROOT = pathlib.Path(__file__).resolve().parents[3]

ALLOW_ALICE = """package demo
import rego.v1
default decision := {"allow": false, "reasons": [{"code": "DENY", "message": "not alice"}], "obligations": []}
decision := {"allow": true, "reasons": [], "obligations": []} if input.user == "alice"
"""

ALLOW_ALICE_AND_BOB = """package demo
import rego.v1
default decision := {"allow": false, "reasons": [{"code": "DENY", "message": "not alice"}], "obligations": []}
decision := {"allow": true, "reasons": [], "obligations": []} if input.user in {"alice", "bob"}
"""

DENY_ALL = """package demo
import rego.v1
decision := {"allow": false, "reasons": [{"code": "DENY", "message": "closed"}], "obligations": []}
"""

COHORTS = (
    "cohorts:\n"
    "  - {name: pilot, tenants: [acme-eu]}\n"
    "  - {name: half, percent: 50}\n"
    "  - {name: all, percent: 100}\n"
)


@pytest.fixture
def archive(tmp_path):
    counter = [0]

    def make(version, policy=ALLOW_ALICE, extra=""):
        counter[0] += 1
        d = tmp_path / f"pack-{counter[0]}"
        d.mkdir()
        (d / "manifest.yaml").write_text(
            f"name: demo\nversion: {version}\nrevision: r-{version}\nroots: [demo]\n"
            f"entrypoints: {{authz: demo/decision}}\n{extra}"
        )
        (d / "policy.rego").write_text(policy)
        return Pack.load(d).build_bundle()

    return make


def test_activates_verified_packs_and_refuses_older_ones(archive):
    store = PolicyStore()
    assert not store.is_ready
    with pytest.raises(companyos.PolicyError) as e:
        store.decide("authz", {"user": "alice"})
    assert e.value.code == "no_active_pack"
    assert store.pack_for() is None

    a = store.activate(archive("1.0.0"))
    assert a["status"] == "activated" and a["pack"]["version"] == "1.0.0"
    assert store.is_ready
    assert store.decide("authz", {"user": "alice"})["allow"] is True
    assert store.activate(archive("1.0.0"))["status"] == "unchanged"
    store.activate(archive("1.1.0"))

    with pytest.raises(companyos.PolicyError) as e:
        store.activate(archive("1.0.5"))
    assert e.value.code == "older_version"
    assert "demo@1.0.5" in str(e.value)
    assert store.pack_for()["version"] == "1.1.0"
    status = store.status()
    assert (status["refusals"], status["activations"]) == (1, 2)
    assert "older" in status["last_error"]["detail"]

    # Going back is only done on purpose.
    assert store.roll_back_to(archive("1.0.5"))["pack"]["version"] == "1.0.5"
    assert store.status()["rollbacks"] == 1

    # evaluate, evaluate_with_pack, counters
    assert store.evaluate("demo/decision", {"user": "bob"})["allow"] is False
    assert store.evaluate("demo/nothing") is None
    pack, value = store.evaluate_with_pack("data.demo.decision", {"user": "alice"})
    assert pack["version"] == "1.0.5" and value["allow"] is True
    assert pack["archive_digest"].startswith("sha256:")
    assert store.pack_for()["stats"]["decisions"] == 3
    with pytest.raises(companyos.PolicyError) as e:
        store.evaluate("demo/\x01", {})
    assert e.value.code == "invalid_query"
    with pytest.raises(companyos.PolicyError) as e:
        store.decide("nope", {})
    assert e.value.code == "unknown_entrypoint"
    with pytest.raises(companyos.CoreError) as e:
        store.decide("authz", {}, tenant="not a tenant!")
    assert e.value.code == "invalid_tenant_id"


def test_tampered_and_unsigned_candidates_are_refused(archive):
    key = SigningKey.generate("ecdsa-p256")
    other = SigningKey.generate("ecdsa-p256")
    store = PolicyStore(public_key=key.public_pem())
    good = archive("1.0.0")
    store.activate(good, sigstore_sign_blob(good, key))

    nxt = archive("2.0.0", DENY_ALL)
    tampered = bytearray(nxt)
    tampered[-1] ^= 1
    cases = [
        ("missing_verification", nxt, None),
        ("bundle_verification_failed", nxt, sigstore_sign_blob(nxt, other)),
        ("bundle_verification_failed", bytes(tampered), sigstore_sign_blob(nxt, key)),
    ]
    for code, a, bundle in cases:
        with pytest.raises(companyos.PolicyError) as e:
            store.activate(a, bundle)
        assert e.value.code == code
        assert store.pack_for()["version"] == "1.0.0"
        assert store.decide("authz", {"user": "alice"})["allow"] is True
    assert store.status()["refusals"] == 3


def test_opa_signature_and_required_tests(archive, tmp_path):
    key = SigningKey.generate("ecdsa-p256")
    store = PolicyStore(opa_public_key=key.public_pem(), tests="required")
    with pytest.raises(companyos.PolicyError) as e:
        store.activate(archive("1.0.0"))
    assert e.value.code == "signature_invalid"
    signed = Pack.from_bytes(archive("1.0.0")).build_signed_bundle(key)
    with pytest.raises(companyos.PolicyError) as e:
        store.activate(signed)
    assert e.value.code == "candidate_tests_failed"
    assert PolicyStore(opa_public_key=key.public_pem()).activate(signed)["status"] == "activated"
    with pytest.raises(ValueError):
        PolicyStore(tests="always")
    with pytest.raises(companyos.CoreError) as e:
        PolicyStore(opa_public_key="not a key")
    assert e.value.code == "invalid_key"


def test_store_and_client_options_are_the_crate_structs(tmp_path):
    """Keyword options are cos_policy's StoreConfig / ClientConfig: an unknown
    one is refused naming the known ones, bytes and paths are read."""
    with pytest.raises(ValueError, match="unknown field `histroy`.*`history`"):
        PolicyStore(histroy=2)
    with pytest.raises(ValueError, match="unknown field `timeoutMs`"):
        PackClient(timeoutMs=5)
    with pytest.raises(ValueError):
        PolicyStore(history=-1)
    for trusted_root in (b"{}", "{}"):
        with pytest.raises(companyos.CoreError) as e:
            PolicyStore(trusted_root=trusted_root, identity="a@example.com", issuer="https://x")
        assert e.value.code == "invalid_trusted_root"
        with pytest.raises(companyos.CoreError) as e:
            PackClient(trusted_root=trusted_root, identity="a@example.com", issuer="https://x")
        assert e.value.code == "invalid_trusted_root"
    assert not PolicyStore.open(state_dir=tmp_path / "lkg", history=1, min_samples=5).is_ready


def test_last_known_good_survives_a_restart_and_is_verified_again(archive, tmp_path):
    state = tmp_path / "lkg"
    store = PolicyStore.open(state_dir=state)
    assert not store.is_ready
    store.activate(archive("1.0.0"))
    store.activate(archive("1.2.0"))
    del store

    store = PolicyStore.open(state_dir=str(state))
    assert store.pack_for()["version"] == "1.2.0"
    assert store.status()["events"][0]["kind"] == "loaded_last_known_good"
    # A rollback moves the last known good back as well.
    store.activate(archive("1.3.0", DENY_ALL))
    assert store.rollback()["version"] == "1.2.0"
    del store
    assert PolicyStore.open(state_dir=state).pack_for()["version"] == "1.2.0"

    # Tampered on disk: refused at start; nothing unverified decides.
    (saved,) = [p for p in state.iterdir() if p.name.endswith(".tar.gz")]
    data = bytearray(saved.read_bytes())
    data[10] ^= 0xFF
    saved.write_bytes(bytes(data))
    with pytest.raises(companyos.PolicyError) as e:
        PolicyStore.open(state_dir=state)
    assert e.value.code == "digest_mismatch"


def test_rollback_returns_to_the_previous_pack(archive):
    store = PolicyStore()
    with pytest.raises(companyos.PolicyError) as e:
        store.rollback()
    assert e.value.code == "rollout_refused"
    store.activate(archive("1.0.0"))
    store.activate(archive("2.0.0", DENY_ALL))
    assert store.decide("authz", {"user": "alice"})["allow"] is False
    assert store.rollback()["version"] == "1.0.0"
    assert store.decide("authz", {"user": "alice"})["allow"] is True
    assert [p["version"] for p in store.status()["history"]] == []


def test_tenant_buckets_match_sha256_and_cohorts():
    for t in ["acme", "acme-eu", "globex", "initech"]:
        expected = int.from_bytes(hashlib.sha256(t.encode()).digest()[:8], "big") % 10_000
        assert tenant_bucket(t) == expected
    assert tenant_bucket("acme") == 9872
    for i in range(300):
        t = f"tenant-{i}"
        assert in_cohort({"name": "c", "percent": 5}, t) == (tenant_bucket(t) < 500)
        assert in_cohort({"name": "all", "percent": 100}, t)
    assert in_cohort({"name": "pilot", "tenants": ["acme-eu"]}, "acme-eu")
    assert not in_cohort({"name": "pilot", "tenants": ["acme-eu"]}, "acme")
    with pytest.raises(ValueError):
        in_cohort({"name": "x", "share": 5}, "acme")
    with pytest.raises(companyos.CoreError) as e:
        tenant_bucket("")
    assert e.value.code == "invalid_tenant_id"


def test_cohort_rollout_promote_halt_rollback(archive):
    store = PolicyStore()
    store.activate(archive("1.0.0"))
    assert store.start_rollout(archive("1.1.0", ALLOW_ALICE_AND_BOB, COHORTS))["status"] == "activated"
    others = [f"t-{i}" for i in range(200)]
    assert store.pack_for("acme-eu")["version"] == "1.1.0"
    assert store.pack_for()["version"] == "1.0.0"
    assert all(store.pack_for(t)["version"] == "1.0.0" for t in others)
    # Two versions decide at once.
    assert store.decide("authz", {"user": "bob"}, tenant="acme-eu")["allow"] is True
    assert store.decide("authz", {"user": "bob"}, tenant=others[0])["allow"] is False

    assert store.halt()["version"] == "1.1.0"
    with pytest.raises(companyos.PolicyError) as e:
        store.promote()
    assert e.value.code == "rollout_refused"
    assert store.status()["rollout"]["halted"] is True
    store.resume()

    store.promote()  # half
    half = {"name": "half", "percent": 50}
    for t in others:
        expected = "1.1.0" if in_cohort(half, t) else "1.0.0"
        assert store.pack_for(t)["version"] == expected, t
    rollout = store.status()["rollout"]
    assert (rollout["cohorts"], rollout["remaining"]) == (["pilot", "half"], ["all"])

    assert store.rollback()["version"] == "1.0.0"
    assert all(store.pack_for(t)["version"] == "1.0.0" for t in others + ["acme-eu"])

    store.start_rollout(archive("1.1.0", ALLOW_ALICE_AND_BOB, COHORTS))
    for _ in range(3):
        store.promote()
    assert store.status()["rollout"] is None
    assert store.pack_for()["version"] == "1.1.0"


def test_shadow_counts_differences_and_gates_promotion(archive):
    seen = []
    store = PolicyStore(shadow_observer=seen.append)
    with pytest.raises(companyos.PolicyError) as e:
        store.start_shadow(archive("1.0.0"))
    assert e.value.code == "rollout_refused"
    store.activate(archive("1.0.0"))
    plan = "shadow: {sample_rate: 1, min_samples: 20, max_difference_rate: 0.1}\n"
    store.start_shadow(archive("1.1.0", ALLOW_ALICE_AND_BOB, plan))
    for i in range(40):
        user = "bob" if i % 4 == 0 else "alice"
        assert store.decide("authz", {"user": user})["allow"] is (user == "alice")
    shadow = store.status()["shadow"]
    assert shadow["compared"] == 40
    assert shadow["differences"] == 10
    assert len(seen) == 10
    assert seen[0]["candidate"]["allow"] is True and seen[0]["active"]["allow"] is False
    with pytest.raises(companyos.PolicyError) as e:
        store.promote()
    assert e.value.code == "rollout_refused" and "difference rate" in str(e.value)
    store.rollback()
    assert store.status()["shadow"] is None

    same = "shadow: {sample_rate: 1, min_samples: 20}\n"
    store.start_shadow(archive("1.2.0", ALLOW_ALICE, same))
    for i in range(30):
        store.decide("authz", {"user": "bob" if i % 2 else "alice"})
    assert store.promote()["version"] == "1.2.0"
    assert store.pack_for()["version"] == "1.2.0"


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_shadow_observer_errors_do_not_fail_decisions(archive):
    def boom(_):
        raise RuntimeError("observer failed")

    store = PolicyStore(shadow_observer=boom)
    store.activate(archive("1.0.0"))
    store.start_shadow(archive("1.1.0", DENY_ALL, "shadow: {sample_rate: 1}\n"))
    assert store.decide("authz", {"user": "alice"})["allow"] is True
    assert store.status()["shadow"]["differences"] == 1


def test_decisions_from_many_threads_during_swaps(archive):
    store = PolicyStore()
    store.activate(archive("1.0.0"))
    errors = []

    def work():
        try:
            for _ in range(200):
                assert store.decide("authz", {"user": "alice"})["allow"] is True
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for v in ["1.1.0", "1.2.0", "1.3.0"]:
        store.activate(archive(v))
    for t in threads:
        t.join()
    assert errors == []


# ---------------------------------------------------------------- PackClient


def _cos_bin():
    cos = pathlib.Path(os.environ.get("COS_BIN") or ROOT / "target" / "debug" / "cos")
    if not cos.is_file():
        pytest.fail(f"cos binary not found at {cos}: cargo build -p cos-cli, or set COS_BIN")
    return cos


@pytest.fixture
def served(tmp_path, archive):
    """`cos pack serve` over a directory with a signed pack."""
    key = SigningKey.generate("ecdsa-p256")
    d = tmp_path / "served"
    d.mkdir()
    a = archive("1.0.0")
    (d / "pack.tar.gz").write_bytes(a)
    (d / "pack.tar.gz.sigstore.json").write_bytes(sigstore_sign_blob(a, key))
    server = subprocess.Popen(
        [str(_cos_bin()), "pack", "serve", str(d), "--listen", "127.0.0.1:0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        first = server.stdout.readline()
        assert " on http://" in first, first
        yield first.strip().rsplit(" on ", 1)[1], key, a
    finally:
        server.kill()
        server.communicate(timeout=10)


def test_pack_client_fetch_verify_and_not_modified(served):
    base, key, a = served
    url = f"{base}/pack.tar.gz"
    client = PackClient(public_key=key.public_pem(), retries=0, timeout_ms=5000)
    fetched = client.fetch(url)
    assert isinstance(fetched, FetchedPack)
    assert fetched.archive == a and fetched.url == url
    assert fetched.etag and fetched.digest.startswith("sha256:")
    assert fetched.pack.version == "1.0.0"
    assert client.fetch(url, etag=fetched.etag) is None
    bundle = client.fetch_attestation(f"{url}/attestation")
    assert json.loads(bundle) == json.loads(fetched.sigstore_bundle)

    store = PolicyStore(public_key=key.public_pem())
    assert store.activate(fetched.archive, fetched.sigstore_bundle)["status"] == "activated"

    # Without a key: fetched (digest checked) but not verified.
    plain = PackClient(retries=0).fetch(url)
    assert plain.pack is None and plain.archive == a

    with pytest.raises(companyos.PolicyError) as e:
        PackClient(public_key=SigningKey.generate("ecdsa-p256").public_pem(), retries=0).fetch(url)
    assert e.value.code == "bundle_verification_failed"
    with pytest.raises(companyos.PolicyError) as e:
        client.fetch(f"{base}/missing.tar.gz")
    assert (e.value.code, str(e.value)) == ("http_status", "HTTP 404")
    with pytest.raises(companyos.PolicyError) as e:
        PackClient(retries=0, timeout_ms=2000).fetch("http://127.0.0.1:9/pack.tar.gz")
    assert e.value.code == "transport"


def test_pack_client_polls_into_a_store(served):
    base, key, _ = served
    store = PolicyStore(public_key=key.public_pem())
    done = threading.Event()
    errors = []
    client = PackClient(retries=0)
    worker = threading.Thread(
        target=client.poll,
        args=(f"{base}/pack.tar.gz", store, done.is_set),
        kwargs={"interval_ms": 50, "on_error": errors.append},
    )
    worker.start()
    try:
        for _ in range(200):
            if store.is_ready:
                break
            threading.Event().wait(0.05)
        assert store.pack_for()["version"] == "1.0.0"
    finally:
        done.set()
        worker.join(timeout=10)
    assert not worker.is_alive()
    assert errors == []

    # Errors go to on_error, with their codes; the loop goes on until stopped.
    stop = threading.Event()
    seen = []

    def on_error(err):
        seen.append(err)
        stop.set()

    PackClient(retries=0).poll(f"{base}/missing.tar.gz", store, stop.is_set, 10, on_error)
    assert isinstance(seen[0], companyos.PolicyError) and seen[0].code == "http_status"



def test_pack_client_poll_observed_reports_each_round(served):
    base, key, _ = served
    store = PolicyStore(public_key=key.public_pem())
    stop = threading.Event()
    events = []

    def on_event(event):
        events.append(event)
        if len(events) >= 2:
            stop.set()

    PackClient(retries=0).poll_observed(f"{base}/pack.tar.gz", store, stop.is_set, on_event, interval_ms=10)
    first, second = events[:2]
    assert first["kind"] == "activated"
    assert first["activation"]["status"] == "activated"
    assert first["activation"]["pack"]["version"] == "1.0.0"
    assert first["etag"] and first["error"] is None and first["next_wait_ms"] == 10
    assert second["kind"] == "unchanged" and second["etag"] == first["etag"]

    # A failure carries the error as a PolicyError, with its code.
    stop = threading.Event()
    failed = []

    def on_failure(event):
        failed.append(event)
        stop.set()

    PackClient(retries=0).poll_observed(f"{base}/missing.tar.gz", store, stop.is_set, on_failure, interval_ms=10)
    assert failed[0]["kind"] == "failed"
    assert isinstance(failed[0]["error"], companyos.PolicyError)
    assert failed[0]["error"].code == "http_status"
    assert failed[0]["activation"] is None


ENDLESS_TEST = """package demo_test
import rego.v1
import data.demo
test_endless if {
    count([1 | some x in numbers.range(1, 100000); some y in numbers.range(1, 100000)]) > 0
}
"""


def test_a_candidate_test_out_of_time_refuses_it(tmp_path):
    d = tmp_path / "slow"
    (d / "tests").mkdir(parents=True)
    (d / "manifest.yaml").write_text(
        "name: demo\nversion: 1.0.0\nrevision: r1\nroots: [demo, demo_test]\nentrypoints: {authz: demo/decision}\n"
    )
    (d / "policy.rego").write_text(ALLOW_ALICE)
    (d / "tests" / "policy_test.rego").write_text(ENDLESS_TEST)
    archive = Pack.load(d).build_bundle_with_tests()
    store = PolicyStore(timeout_ms=3_600_000, test_timeout_ms=100)
    with pytest.raises(companyos.PolicyError) as e:
        store.activate(archive)
    assert e.value.code == "candidate_tests_failed"
    assert "test_endless" in str(e.value)
    assert not store.is_ready


def test_a_store_is_bound_to_one_pack(archive):
    store = PolicyStore()
    store.activate(archive("1.0.0"))
    # The same version with other content: versions must strictly increase.
    with pytest.raises(companyos.PolicyError) as e:
        store.activate(archive("1.0.0", policy=ALLOW_ALICE.replace('"alice"', '"bob"')))
    assert e.value.code == "pack_identity" and "strictly increase" in str(e.value)
    # A configured name binds the first pack too.
    pinned = PolicyStore(pack_name="acme")
    with pytest.raises(companyos.PolicyError) as e:
        pinned.activate(archive("2.0.0"))
    assert e.value.code == "pack_identity" and '"acme"' in str(e.value)
    assert not pinned.is_ready


def test_a_candidate_compile_has_a_time_limit(archive):
    big = "package demo\nimport rego.v1\n" + "".join(f"r{i} := {i}\n" for i in range(8000))
    with pytest.raises(companyos.PolicyError) as e:
        PolicyStore(compile_timeout_ms=1).activate(archive("1.0.0", policy=big))
    assert e.value.code == "timeout" and "compile" in str(e.value)
    assert PolicyStore(compile_timeout_ms=0).activate(archive("1.0.0", policy=big))["status"] == "activated"
