"""OPA bundle signatures and loading, judged by the real `opa` binary.

`cos pack build --sign` bundles must pass `opa build --verification-key`;
bundles signed by `opa build --signing-key` must pass `cos pack verify`; a
changed, extra or missing file, or the wrong key, must be rejected by both,
with cos naming the file. The OPA binary comes from COS_OPA_BIN (built by
scripts/oracles/opa.sh, which scripts/test.sh runs).
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import tarfile
from pathlib import Path

import pytest

from conftest import REPO_ROOT

# Data that exercises OPA's file hashing: keys that sort differently by bytes
# and by UTF-16, number literals, characters Go escapes, HTML characters Go
# would escape with HTML escaping on.
AWKWARD_DATA = {
    "roles": {"admin": ["alice"], "viewer": ["bob", "carol"]},
    "limits": {"max": 1.5, "big": 1e21, "small": 5e-7, "neg": -3},
    "text": {"html": "<a href='x'>&</a>", "sep": "line\u2028para\u2029", "ctl": "\u0001\b\f", "emoji": "\U0001f600"},
    "\U0001f600": 1,
    "\ufb33": 2,
}

POLICY = """package demo.authz

default allow := false

allow if input.user in data.demo.roles.admin

viewer if input.user in data.demo.roles.viewer
"""


@pytest.fixture(scope="session")
def opa_bin() -> Path:
    raw = os.environ.get("COS_OPA_BIN")
    path = Path(raw) if raw else REPO_ROOT / ".oracles" / "bin" / "opa"
    if not path.is_file():
        pytest.fail(
            f"opa binary not found at {path}: run scripts/oracles/opa.sh (scripts/test.sh does) or set COS_OPA_BIN",
            pytrace=False,
        )
    return path


def run(args: list, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True, timeout=120)


def describe(p: subprocess.CompletedProcess) -> str:
    return f"{' '.join(map(str, p.args))}\nexit {p.returncode}\nstdout: {p.stdout[:2000]}\nstderr: {p.stderr[:2000]}"


@pytest.fixture()
def pack(tmp_path: Path) -> Path:
    d = tmp_path / "pack"
    (d / "authz").mkdir(parents=True)
    (d / "data" / "demo").mkdir(parents=True)
    (d / "manifest.yaml").write_text(
        "name: demo\nversion: 1.0.0\nrevision: r1\nroots: [demo]\nentrypoints: {authz: demo/authz/allow}\n"
    )
    (d / "authz" / "policy.rego").write_text(POLICY)
    (d / "data" / "demo" / "data.json").write_text(json.dumps(AWKWARD_DATA, ensure_ascii=False))
    return d


@pytest.fixture()
def keys(tmp_path: Path, cos_bin: Path) -> tuple[Path, Path, Path]:
    for name in ("k", "other"):
        p = run([cos_bin, "keygen", "--alg", "ecdsa-p256", "--out", tmp_path / name])
        assert p.returncode == 0, describe(p)
    return tmp_path / "k.key", tmp_path / "k.pub", tmp_path / "other.pub"


@pytest.fixture()
def signed(cos_bin: Path, pack: Path, keys, tmp_path: Path) -> Path:
    """The demo pack built by cos into a bundle signed with keys[0]."""
    bundle = tmp_path / "signed.tar.gz"
    p = run([cos_bin, "pack", "build", pack, "-o", bundle, "--sign", keys[0]])
    assert p.returncode == 0, describe(p)
    return bundle


def opa_verify(opa: Path, bundle: Path, pub: Path, *extra: str) -> subprocess.CompletedProcess:
    out = bundle.parent / "opa-out.tar.gz"
    return run([opa, "build", "-b", bundle, "--verification-key", pub, "--signing-alg", "ES256", "-o", out, *extra])


def rewrite(bundle: Path, dest: Path, change=None, add=None, drop=None) -> Path:
    """Copies a bundle tarball, changing, adding or dropping one member."""
    with tarfile.open(bundle, "r:gz") as src, tarfile.open(dest, "w:gz") as dst:
        for m in src.getmembers():
            name = m.name.lstrip("/")
            if drop and name == drop:
                continue
            data = src.extractfile(m).read() if m.isfile() else None
            if change and name == change[0]:
                data = change[1](data)
            if data is not None:
                m.size = len(data)
                dst.addfile(m, io.BytesIO(data))
            else:
                dst.addfile(m)
        if add:
            info = tarfile.TarInfo(add[0])
            info.size = len(add[1])
            dst.addfile(info, io.BytesIO(add[1]))
    return dest


def test_opa_accepts_cos_signed_bundle(cos_bin, opa_bin, keys, signed):
    _, pub, other = keys
    bundle = signed
    p = opa_verify(opa_bin, bundle, pub)
    assert p.returncode == 0, describe(p)
    p = run([cos_bin, "pack", "verify", bundle, "--pub", pub])
    assert p.returncode == 0, describe(p)
    # The wrong key: both refuse.
    assert opa_verify(opa_bin, bundle, other).returncode != 0
    p = run([cos_bin, "pack", "verify", bundle, "--pub", other])
    assert p.returncode == 1, describe(p)


def test_key_id_and_scope_round_trip(cos_bin, opa_bin, pack, keys, tmp_path):
    key, pub, _ = keys
    bundle = tmp_path / "signed.tar.gz"
    p = run([cos_bin, "pack", "build", pack, "-o", bundle, "--sign", key, "--key-id", "release", "--scope", "write"])
    assert p.returncode == 0, describe(p)
    p = opa_verify(opa_bin, bundle, pub, "--verification-key-id", "release", "--scope", "write")
    assert p.returncode == 0, describe(p)
    p = run([cos_bin, "pack", "verify", bundle, "--pub", pub, "--key-id", "release", "--scope", "write"])
    assert p.returncode == 0, describe(p)
    p = run([cos_bin, "pack", "verify", bundle, "--pub", pub, "--scope", "read"])
    assert p.returncode == 1, describe(p)


@pytest.mark.parametrize("tamper", ["change", "add", "drop"])
def test_tampered_cos_bundle_rejected_by_both(cos_bin, opa_bin, keys, signed, tmp_path, tamper):
    _, pub, _ = keys
    bundle = signed
    bad = tmp_path / "bad.tar.gz"
    if tamper == "change":
        rewrite(bundle, bad, change=("authz/policy.rego", lambda b: b.replace(b"false", b"true")))
        named = "authz/policy.rego"
    elif tamper == "add":
        rewrite(bundle, bad, add=("authz/backdoor.rego", b"package demo.authz\n\nbackdoor := true\n"))
        named = "authz/backdoor.rego"
    else:
        rewrite(bundle, bad, drop="demo/data.json")
        named = "demo/data.json"
    p = opa_verify(opa_bin, bad, pub)
    assert p.returncode != 0, "OPA accepted a tampered bundle: " + describe(p)
    p = run([cos_bin, "pack", "verify", bad, "--pub", pub])
    assert p.returncode == 1, describe(p)
    assert named in p.stderr, describe(p)


def opa_signed_bundle(opa_bin: Path, key: Path, tmp_path: Path) -> Path:
    src = tmp_path / "opa-src"
    (src / "authz").mkdir(parents=True)
    (src / "demo").mkdir(parents=True)
    (src / "authz" / "policy.rego").write_text(POLICY)
    (src / "demo" / "data.json").write_text(json.dumps(AWKWARD_DATA, ensure_ascii=False, indent=2))
    (src / ".manifest").write_text(json.dumps({"revision": "opa-1", "roots": ["demo"]}))
    out = tmp_path / "opa-signed.tar.gz"
    p = run([opa_bin, "build", "-b", ".", "--signing-key", key, "--signing-alg", "ES256", "-o", out], cwd=src)
    assert p.returncode == 0, describe(p)
    return out


def test_cos_verifies_opa_signed_bundle(cos_bin, opa_bin, keys, tmp_path):
    key, pub, other = keys
    bundle = opa_signed_bundle(opa_bin, key, tmp_path)
    p = run([cos_bin, "pack", "verify", bundle, "--pub", pub])
    assert p.returncode == 0, describe(p)
    p = run([cos_bin, "pack", "verify", bundle, "--pub", other])
    assert p.returncode == 1, describe(p)
    # OPA names its key "default"; asking for another id is refused.
    p = run([cos_bin, "pack", "verify", bundle, "--pub", pub, "--key-id", "release"])
    assert p.returncode == 1, describe(p)


def test_tampered_opa_bundle_names_the_file(cos_bin, opa_bin, keys, tmp_path):
    key, pub, _ = keys
    bundle = opa_signed_bundle(opa_bin, key, tmp_path)
    with tarfile.open(bundle, "r:gz") as t:
        rego = next(m.name.lstrip("/") for m in t.getmembers() if m.name.endswith("policy.rego"))
    bad = rewrite(bundle, tmp_path / "bad.tar.gz", change=(rego, lambda b: b + b"\nextra := 1\n"))
    assert opa_verify(opa_bin, bad, pub).returncode != 0
    p = run([cos_bin, "pack", "verify", bad, "--pub", pub])
    assert p.returncode == 1, describe(p)
    assert rego in p.stderr, describe(p)


def test_cos_verifies_opa_sign_with_raw_hashed_files(cos_bin, opa_bin, keys, tmp_path):
    """`opa sign` hashes only data.json/.yaml/.yml and .manifest canonically;
    other JSON and YAML files raw. cos must agree, both ways round."""
    key, pub, _ = keys
    src = tmp_path / "signdir"
    (src / "demo").mkdir(parents=True)
    (src / "authz").mkdir()
    (src / "authz" / "policy.rego").write_text(POLICY)
    (src / "demo" / "data.json").write_text(json.dumps(AWKWARD_DATA, ensure_ascii=False, indent=2))
    (src / "demo" / "other.json").write_text('{"b": 2,\n "a": [1.50, 1e3]}\n')
    (src / "demo" / "notes.yaml").write_text("b: 2\na: yes\n")
    (src / "demo" / "sub").mkdir()
    (src / "demo" / "sub" / "data.yml").write_text("n: 1e3\nm: 0.0000001\nk: 1e21\n")
    (src / ".manifest").write_text(json.dumps({"revision": "opa-sign-1", "roots": ["demo", "authz"]}))
    p = run([opa_bin, "sign", "--signing-key", key, "--signing-alg", "ES256", "--bundle", "."], cwd=src)
    assert p.returncode == 0, describe(p)
    names = sorted(str(f.relative_to(src)) for f in src.rglob("*") if f.is_file())
    bundle = tmp_path / "opa-sign.tar.gz"
    with tarfile.open(bundle, "w:gz") as t:
        for n in names:
            t.add(src / n, arcname=n)
    assert opa_verify(opa_bin, bundle, pub).returncode == 0
    p = run([cos_bin, "pack", "verify", bundle, "--pub", pub])
    assert p.returncode == 0, describe(p)
    # Reordering other.json's keys: a raw-hashed file, so both refuse it.
    bad = rewrite(bundle, tmp_path / "bad.tar.gz", change=("demo/other.json", lambda b: b'{"a": [1.50, 1e3], "b": 2}'))
    assert opa_verify(opa_bin, bad, pub).returncode != 0
    p = run([cos_bin, "pack", "verify", bad, "--pub", pub])
    assert p.returncode == 1, describe(p)
    assert "demo/other.json" in p.stderr, describe(p)


def test_unsigned_bundle_is_not_verified(cos_bin, pack, keys, tmp_path):
    _, pub, _ = keys
    bundle = tmp_path / "plain.tar.gz"
    assert run([cos_bin, "pack", "build", pack, "-o", bundle]).returncode == 0
    p = run([cos_bin, "pack", "verify", bundle, "--pub", pub])
    assert p.returncode == 1, describe(p)
    assert "not signed" in p.stderr


@pytest.mark.parametrize("user", ["alice", "bob", "mallory"])
def test_same_decisions_from_the_same_bundle(cos_bin, opa_bin, signed, tmp_path, user):
    """OPA loads what cos builds, and both decide the same on it."""
    bundle = signed
    inp = tmp_path / "input.json"
    inp.write_text(json.dumps({"user": user}))
    for query in ("data.demo.authz.allow", "data.demo.authz.viewer", "data.demo.limits", "data.demo.text"):
        o = run([opa_bin, "eval", "--format", "json", "-b", bundle, "-i", inp, query])
        assert o.returncode == 0, describe(o)
        opa_result = json.loads(o.stdout).get("result")
        c = run([cos_bin, "policy", "eval", "--pack", bundle, "--query", query, "--input", inp])
        assert c.returncode == 0, describe(c)
        cos_doc = json.loads(c.stdout)
        if opa_result is None:
            assert cos_doc == {}, (query, cos_doc)
        else:
            assert cos_doc == {"result": opa_result[0]["expressions"][0]["value"]}, (query, cos_doc, opa_result)


def test_embedded_builtin_list_matches_opa(opa_bin):
    """cos-policy/src/engine/opa_builtins.txt (names and arities) is exactly what this OPA reports."""
    p = run([opa_bin, "capabilities", "--current"])
    assert p.returncode == 0, describe(p)
    real = sorted(
        (b["name"], "*" if b["decl"].get("variadic") else str(len(b["decl"].get("args", []))))
        for b in json.loads(p.stdout)["builtins"]
    )
    text = (REPO_ROOT / "cos-policy" / "src" / "engine" / "opa_builtins.txt").read_text()
    ours = [tuple(line.split()) for line in text.splitlines() if line.strip() and not line.startswith("#")]
    assert ours == real


def test_pack_calling_unsupported_builtin_is_refused(cos_bin, tmp_path):
    d = tmp_path / "jwtpack"
    d.mkdir()
    (d / "manifest.yaml").write_text("name: jwt\nversion: 1.0.0\nroots: [jwt]\n")
    (d / "p.rego").write_text("package jwt\n\nclaims := net.lookup_ip_addr(input.token)\n")
    p = run([cos_bin, "policy", "eval", "--pack", d, "--query", "data.jwt.claims"])
    assert p.returncode == 2, describe(p)
    assert "net.lookup_ip_addr" in p.stderr and "line 3" in p.stderr, describe(p)


BASELINE = REPO_ROOT / "examples" / "policy-packs" / "companyos-baseline"


def test_baseline_pack_tests_agree_with_opa_test(cos_bin, opa_bin, tmp_path):
    """`cos policy test` and `opa test` give the same verdict on every test of
    the baseline pack, and `opa check --strict` accepts the pack."""
    bundle = tmp_path / "baseline-with-tests.tar.gz"
    p = run([cos_bin, "pack", "build", BASELINE, "-o", bundle, "--with-tests"])
    assert p.returncode == 0, describe(p)
    src = tmp_path / "baseline"
    src.mkdir()
    with tarfile.open(bundle, "r:gz") as t:
        t.extractall(src, filter="data")
    p = run([opa_bin, "check", "--strict", src])
    assert p.returncode == 0, describe(p)

    o = run([opa_bin, "test", "--format", "json", src])
    # OPA exits 2 when a test is skipped; cos exits 0 (only FAIL and ERROR fail).
    assert o.returncode in (0, 2), describe(o)
    def verdict(x):
        return "skip" if x.get("skip") else "error" if x.get("error") else "fail" if x.get("fail") else "pass"
    opa = {(x["package"], x["name"]): verdict(x) for x in json.loads(o.stdout)}

    c = run([cos_bin, "policy", "test", BASELINE, "--format", "json"])
    assert c.returncode == 0, describe(c)
    ours = {(x["package"], x["name"]): verdict(x) for x in json.loads(c.stdout)}
    assert ours == opa
    assert len(ours) >= 50
    assert "skip" in ours.values()


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_opa_server_serves_cos_signed_bundle(opa_bin, keys, signed, tmp_path):
    """`opa run --server --verification-key` loads our signed bundle and
    answers from it; with a tampered bundle it refuses to start. Loopback
    only, bounded waits, the server is always stopped."""
    import time
    import urllib.request

    _, pub, _ = keys

    def serve(bundle: Path):
        port = free_port()
        proc = subprocess.Popen(
            [str(opa_bin), "run", "--server", "--addr", f"127.0.0.1:{port}", "--bundle", str(bundle),
             "--verification-key", str(pub), "--signing-alg", "ES256", "--log-level", "error"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        return proc, port

    proc, port = serve(signed)
    try:
        body = None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                req = urllib.request.Request(
                    f"http://127.0.0.1:{port}/v1/data/demo/authz/allow",
                    data=json.dumps({"input": {"user": "alice"}}).encode(),
                    headers={"Content-Type": "application/json"},
                )
                with urllib.request.urlopen(req, timeout=2) as r:
                    body = json.loads(r.read())
                break
            except OSError:
                time.sleep(0.2)
        assert body == {"result": True}, (body, proc.poll())
    finally:
        proc.kill()
        proc.communicate(timeout=10)

    bad = rewrite(signed, tmp_path / "bad.tar.gz", change=("authz/policy.rego", lambda b: b.replace(b"false", b"true")))
    proc, _ = serve(bad)
    try:
        rc = proc.wait(timeout=30)
        out, err = proc.communicate(timeout=10)
        assert rc != 0, "OPA served a tampered bundle"
        said = out + err
        assert "authz/policy.rego: digest mismatch" in said, said
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=10)


@pytest.mark.parametrize(
    "source",
    [
        "package shadow\n\nf(input) := input + 1\n\nx := f(1)\n",
        "package shadow\n\nf(data) := data + 1\n\nx := f(1)\n",
        "package shadow\n\nx if {\n\tinput := 1\n\tinput == 1\n}\n",
        "package shadow\n\nx if {\n\tdata := 1\n\tdata == 1\n}\n",
    ],
)
def test_shadowing_input_or_data_refused_by_both(cos_bin, opa_bin, tmp_path, source):
    """OPA refuses input/data as argument or variable names; so does cos
    (regorus alone accepts them as arguments)."""
    d = tmp_path / "shadow"
    d.mkdir()
    (d / "p.rego").write_text(source)
    o = run([opa_bin, "check", d])
    assert o.returncode != 0 and "must not shadow" in (o.stdout + o.stderr), describe(o)
    (d / "manifest.yaml").write_text("name: shadow\nversion: 1.0.0\nroots: [shadow]\n")
    c = run([cos_bin, "policy", "eval", "--pack", d, "--query", "data.shadow.x"])
    assert c.returncode == 2 and "shadow" in c.stderr, describe(c)
