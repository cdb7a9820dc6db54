"""cos-pdp against the real `opa run --server`: the same requests, the same answers.

Two scenarios, each run against both servers side by side (loopback, bounded):

1. REST-managed policy, the way an OPA hot-reload controller drives OPA:
   `PUT /v1/policies/{id}` (text/plain), `PUT`/`PATCH`/`DELETE /v1/data/{path}`,
   then the Data API (`POST`/`GET /v1/data/{path}`, `POST /`), errors
   included (malformed input, a module that does not compile, a missing
   policy or document). Status codes and bodies must match, except where OPA
   puts things cos does not reproduce (listed in IGNORED: the policy AST,
   compiler message texts).
2. The baseline pack as a bundle: `opa run --server --bundle` versus
   `cos-pdp --pack`, on ABAC, residency and disclosure inputs.

The binary comes from COS_PDP_BIN (scripts/test.sh), else target/debug/cos-pdp.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from conftest import REPO_ROOT
from test_opa_bundles import describe, free_port, opa_bin, run  # noqa: F401 (fixture)

BASELINE = REPO_ROOT / "examples" / "policy-packs" / "companyos-baseline"


@pytest.fixture(scope="session")
def pdp_bin() -> Path:
    raw = os.environ.get("COS_PDP_BIN")
    path = Path(raw) if raw else REPO_ROOT / "target" / "debug" / "cos-pdp"
    if not path.is_file():
        pytest.fail(f"cos-pdp not found at {path}: cargo build -p cos-pdp, or set COS_PDP_BIN", pytrace=False)
    return path


class Server:
    def __init__(self, args: list[str], url: str):
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.url = url
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                out, err = self.proc.communicate()
                raise AssertionError(f"{args[0]} exited: {out} {err}")
            try:
                urllib.request.urlopen(f"{url}/health", timeout=1).read()
                return
            except OSError:
                time.sleep(0.1)
        raise AssertionError(f"{args[0]} did not start")

    def call(self, method: str, path: str, body=None, content_type="application/json"):
        data = None
        if body is not None:
            data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method, headers={"Content-Type": content_type})
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                raw = r.read()
                return r.status, json.loads(raw) if raw else None
        except urllib.error.HTTPError as e:
            raw = e.read()
            return e.code, json.loads(raw) if raw else None

    def stop(self):
        self.proc.kill()
        self.proc.communicate(timeout=10)


def start_both(opa_bin: Path, pdp_bin: Path, opa_args: list[str], pdp_args: list[str]) -> tuple[Server, Server]:
    po, pc = free_port(), free_port()
    opa = Server([str(opa_bin), "run", "--server", "--addr", f"127.0.0.1:{po}", "--log-level", "error", *opa_args],
                 f"http://127.0.0.1:{po}")
    try:
        cos = Server([str(pdp_bin), "--listen", f"127.0.0.1:{pc}", *pdp_args], f"http://127.0.0.1:{pc}")
    except Exception:
        opa.stop()
        raise
    return opa, cos


POLICY = """package example.authz

import rego.v1

default allow := false

allow if {
    some role in data.users[input.user].roles
    role in data.config.admin_roles
}

reason := sprintf("user %s is not an admin", [input.user]) if not allow
"""

MAIN = """package system

import rego.v1

main := {"allowed": data.example.authz.allow, "user": input.user}
"""

GOOD = """package good

default allow := false

allow if input.user == "alice"
"""

# (method, path, body, content type); the answers of both servers must match.
STEPS = [
    ("PUT", "/v1/policies/authz", POLICY, "text/plain"),
    ("PUT", "/v1/policies/main", MAIN, "text/plain"),
    ("PUT", "/v1/data/users", {"alice": {"roles": ["admin"]}, "bob": {"roles": ["viewer"]}}, None),
    ("PUT", "/v1/data/config", {"admin_roles": ["admin"]}, None),
    ("POST", "/v1/data/example/authz/allow", {"input": {"user": "alice"}}, None),
    ("POST", "/v1/data/example/authz/allow", {"input": {"user": "bob"}}, None),
    ("POST", "/v1/data/example/authz", {"input": {"user": "bob"}}, None),
    ("POST", "/v1/data/example/authz/reason", {"input": {"user": "alice"}}, None),
    ("POST", "/v1/data/example/authz/nothing", {"input": {"user": "alice"}}, None),
    ("POST", "/v1/data/example/authz/allow", {}, None),
    ("POST", "/v1/data/example/authz/allow", "{\"input\": ", None),
    ("POST", "/v1/data/example/authz/allow", [{"input": {"user": "alice"}}], None),
    ("POST", "/v1/data/example/authz/allow", "[]", None),
    ("GET", "/v1/data/users/alice", None, None),
    ("GET", "/v1/data/example/authz/allow?input=%7B%22user%22%3A%22alice%22%7D", None, None),
    ("POST", "/", {"user": "alice"}, None),
    ("POST", "/v0/data/example/authz/allow", {"user": "alice"}, None),
    ("POST", "/v0/data/example/authz", {"user": "bob"}, None),
    ("POST", "/v0/data/example/authz/nothing", {"user": "bob"}, None),
    ("POST", "/v0/data/example/authz/allow", "{\"user\": ", None),
    ("PATCH", "/v1/data/users", [{"op": "add", "path": "/carol", "value": {"roles": ["admin"]}}], None),
    ("POST", "/v1/data/example/authz/allow", {"input": {"user": "carol"}}, None),
    ("PATCH", "/v1/data/users", [{"op": "remove", "path": "/carol"}], None),
    ("POST", "/v1/data/example/authz/allow", {"input": {"user": "carol"}}, None),
    ("DELETE", "/v1/data/config", None, None),
    ("POST", "/v1/data/example/authz/allow", {"input": {"user": "alice"}}, None),
    ("DELETE", "/v1/data/config", None, None),
    # ?strict-builtin-errors: a failing builtin is an error, not undefined.
    ("PUT", "/v1/policies/strict", "package strict\n\nx := to_number(\"abc\")\n\ny := 1\n", "text/plain"),
    ("POST", "/v1/data/strict/x", {"input": {}}, None),
    ("POST", "/v1/data/strict/x?strict-builtin-errors=true", {"input": {}}, None),
    ("POST", "/v1/data/strict/x?strict-builtin-errors", {"input": {}}, None),
    ("GET", "/v1/data/strict/x?strict-builtin-errors=true", None, None),
    ("POST", "/v1/data/strict/y?strict-builtin-errors=true", {"input": {}}, None),
    ("POST", "/v1/data/strict?strict-builtin-errors=true", {"input": {}}, None),
    ("DELETE", "/v1/policies/strict", None, None),
    ("PUT", "/v1/policies/broken", "package broken\n\nallow if {\n", "text/plain"),
    ("GET", "/v1/policies/nope", None, None),
    # Writes that would replace a rule's answer are refused (OPA:
    # `conflicting rule for data path good/allow found`, `multiple default
    # rules`), and the rule keeps deciding.
    ("PUT", "/v1/policies/good", GOOD, "text/plain"),
    ("PUT", "/v1/data/good", {"allow": True}, None),
    ("PUT", "/v1/data/good/allow", True, None),
    ("PATCH", "/v1/data", [{"op": "add", "path": "/good", "value": {"allow": True}}], None),
    ("PATCH", "/v1/data/good", [{"op": "add", "path": "/allow", "value": True}], None),
    ("PUT", "/v1/policies/second-default", "package good\n\ndefault allow := true\n", "text/plain"),
    ("PUT", "/v1/policies/nul", "package evil\u0000\n\nx := 1\n", "text/plain"),
    ("POST", "/v1/data/good/allow", {"input": {"user": "bob"}}, None),
    ("GET", "/v1/data/good", None, None),
    ("DELETE", "/v1/policies/good", None, None),
    ("DELETE", "/v1/policies/main", None, None),
    ("POST", "/", {"user": "alice"}, None),
    # Deleting the last policy leaves the data deciding alone.
    ("DELETE", "/v1/policies/authz", None, None),
    ("GET", "/v1/policies", None, None),
    ("POST", "/v1/data/example/authz/allow", {"input": {"user": "alice"}}, None),
    ("GET", "/v1/data/users/alice", None, None),
    ("PUT", "/v1/data/config", {"admin_roles": ["admin"]}, None),
    ("GET", "/v1/data/config", None, None),
    ("GET", "/health", None, None),
]

# Parts of OPA's answers cos does not reproduce: compiler messages and
# locations (different compilers), how many errors a compile reports, the
# policy AST.
def comparable(status: int, body):
    if isinstance(body, dict):
        body = dict(body)
        if "errors" in body:
            # cos reports the first compile error; OPA may list several.
            body["errors"] = "<compile errors>" if body["errors"] else []
        if status in (400, 404, 500) and "message" in body:
            body["message"] = "<message>"
    return status, body


def test_rest_api_agrees_with_opa(opa_bin, pdp_bin):
    opa, cos = start_both(opa_bin, pdp_bin, [], [])
    try:
        for i, (method, path, body, ctype) in enumerate(STEPS):
            want = opa.call(method, path, body, ctype or "application/json")
            got = cos.call(method, path, body, ctype or "application/json")
            assert comparable(*got) == comparable(*want), f"step {i}: {method} {path}\n  opa: {want}\n  cos: {got}"
        # Policies listed alike (ids and text; OPA adds the AST).
        _, o = opa.call("GET", "/v1/policies")
        _, c = cos.call("GET", "/v1/policies")
        assert sorted((p["id"], p["raw"]) for p in o["result"]) == sorted((p["id"], p["raw"]) for p in c["result"])
    finally:
        opa.stop()
        cos.stop()


def abac(**changes):
    base = {
        "subject": {"id": "u1", "tenant": "acme", "roles": ["analyst"],
                    "attributes": {"clearance": "CONFIDENTIAL", "step_up": False}},
        "action": "read",
        "resource": {"type": "dataset", "id": "d1", "tenant": "acme", "classification": "CONFIDENTIAL",
                     "residency": "EU-Only"},
        "context": {"time": "2026-11-22T10:00:00Z", "grants": []},
    }
    for key, value in changes.items():
        section, field = key.split("__")
        base[section][field] = value
    return base


ABAC_INPUTS = [
    abac(),
    abac(subject__tenant="globex"),
    abac(resource__classification="RESTRICTED"),
    abac(subject__roles=["viewer"]),
    {},
]
RESIDENCY_INPUTS = [
    {"dataset": {"id": "ds-eu-1", "classification": "CONFIDENTIAL", "residency": "EU-Only"},
     "destination": {"region": "de-fra-1", "party": "internal"}, "context": {"time": "2026-11-22T10:00:00Z"}},
    {"dataset": {"id": "ds-eu-1", "classification": "CONFIDENTIAL", "residency": "EU-Only"},
     "destination": {"region": "us-east-1", "party": "internal"}, "context": {"time": "2026-11-22T10:00:00Z"},
     "purpose": "support"},
]


def test_baseline_bundle_decisions_agree_with_opa(cos_bin, opa_bin, pdp_bin, tmp_path):
    bundle = tmp_path / "baseline.tar.gz"
    p = run([cos_bin, "pack", "build", BASELINE, "-o", bundle])
    assert p.returncode == 0, describe(p)
    opa, cos = start_both(opa_bin, pdp_bin, ["--bundle", str(bundle)], ["--pack", str(bundle), "--writes", "on"])
    seen: set[str] = set()
    try:
        for path, inputs in [
            ("companyos/abac/decision", ABAC_INPUTS),
            ("companyos/residency/decision", RESIDENCY_INPUTS),
            ("companyos/abac", ABAC_INPUTS[:1]),
        ]:
            for i, inp in enumerate(inputs):
                want = opa.call("POST", f"/v1/data/{path}", {"input": inp})
                got = cos.call("POST", f"/v1/data/{path}", {"input": inp})
                assert got == want, f"{path} input {i}\n  opa: {want}\n  cos: {got}"
                seen.add(json.dumps(want[1], sort_keys=True))
        assert len(seen) >= 6, "the inputs should give different answers"
        assert any('"allow": true' in a for a in seen) and any('"allow": false' in a for a in seen)
        # The pack's roots are read-only through the API, as a bundle's are in
        # OPA, however the package is spelled (issue 26: the root check read
        # the first line starting with "package ").
        want = opa.call("PUT", "/v1/data/companyos/x", {"a": 1})
        got = cos.call("PUT", "/v1/data/companyos/x", {"a": 1})
        assert got[0] == want[0], (want, got)
        for spelling in [
            "package companyos.abac\n\ndecision := {}\n",
            "package\tcompanyos.abac\n\ndecision := {}\n",
            "package companyos[\"abac\"]\n\ndecision := {}\n",
            "package\ncompanyos.abac\n\ndecision := {}\n",
            "# package elsewhere\npackage companyos.x\n\nallow := true\n",
        ]:
            want = opa.call("PUT", "/v1/policies/x", spelling, "text/plain")
            got = cos.call("PUT", "/v1/policies/x", spelling, "text/plain")
            assert got[0] == want[0] == 400, (spelling, want, got)
        assert opa.call("GET", "/health?bundles")[0] == cos.call("GET", "/health?bundles")[0] == 200
    finally:
        opa.stop()
        cos.stop()


def package_spellings(seed: int, count: int) -> list[str]:
    """Generated `package` clauses for paths in and outside the pack's root
    (`companyos`): whitespace and line breaks between the tokens, comments,
    brackets with double-quoted and raw strings, a `data.` prefix, and
    paths that only look like the root (`companyosx`, `xcompanyos`)."""
    import random

    rng = random.Random(seed)
    gaps = [" ", "\t", "  ", " \t ", "\n", " \n ", "\r\n", "\n\n", " # a comment\n", "\t# package other\n"]
    inside = [["companyos", "abac"], ["companyos", "x"], ["companyos"], ["companyos", "a", "b"]]
    outside = [["companyosx"], ["xcompanyos", "abac"], ["other", "companyos"], ["compan_yos"]]

    def segment(name: str, first: bool) -> str:
        if first:
            return name
        # Raw strings (`[\`abac\`]`) are left out: regorus's parser refuses
        # them in a package path, inside the root or not, where OPA accepts
        # them (a parser gap for issue 19; it fails closed, pinned below).
        form = rng.choice(["dot", "dq"])
        if form == "dot":
            return "." + name
        if form == "dq":
            return f'["{name}"]'
        return f"[`{name}`]"

    out = []
    for _ in range(count):
        path = rng.choice(inside + outside)
        head = "data." if rng.random() < 0.15 else ""
        text = head + "".join(segment(s, i == 0) for i, s in enumerate(path))
        gap = rng.choice(gaps)
        lead = rng.choice(["", "# header\n", "\n\n", "# package elsewhere\n"])
        out.append(f"{lead}package{gap}{text}\n\nimport rego.v1\n\nallow := true\n")
    return out


def baseline_with_manual_rollback(tmp_path):
    """The baseline pack asking for manual rollback only. While a pack asks
    for automatic rollback, cos-pdp refuses policy and data writes through
    the REST API (its decisions would bypass the pack's accounting, and the
    rollback would never come; docs/cos-pdp.md), where OPA, which has no
    rollback, takes them: tests that compare the REST API itself use this."""
    src = tmp_path / "baseline-manual"
    shutil.copytree(BASELINE, src)
    manifest = src / "manifest.yaml"
    text = manifest.read_text()
    assert "strategy: automatic" in text
    manifest.write_text(text.replace("strategy: automatic", "strategy: manual"))
    return src


def test_generated_package_spellings_are_owned_as_opa_owns_them(cos_bin, opa_bin, pdp_bin, tmp_path):
    """Issue 26 item 1: every spelling OPA parses to a path under the pack's
    root is refused the same way by both; the rest are accepted by both
    (or refused by both when neither parses it). Seeded (COS_SPELLING_SEED,
    COS_SPELLING_CASES) so a failure can be replayed."""
    bundle = tmp_path / "baseline.tar.gz"
    p = run([cos_bin, "pack", "build", baseline_with_manual_rollback(tmp_path), "-o", bundle])
    assert p.returncode == 0, describe(p)
    seed = int(os.environ.get("COS_SPELLING_SEED", "26"))
    cases = int(os.environ.get("COS_SPELLING_CASES", "120"))
    opa, cos = start_both(opa_bin, pdp_bin, ["--bundle", str(bundle)], ["--pack", str(bundle), "--writes", "on"])
    refused = accepted = 0
    try:
        for i, spelling in enumerate(package_spellings(seed, cases)):
            want = opa.call("PUT", f"/v1/policies/p{i}", spelling, "text/plain")
            got = cos.call("PUT", f"/v1/policies/p{i}", spelling, "text/plain")
            assert got[0] == want[0], f"case {i} (seed {seed}): {spelling!r}\n  opa: {want}\n  cos: {got}"
            if want[0] == 200:
                accepted += 1
                # Keep the two servers' overlays alike but small.
                assert opa.call("DELETE", f"/v1/policies/p{i}")[0] == cos.call("DELETE", f"/v1/policies/p{i}")[0] == 200
            else:
                refused += 1
        assert refused >= cases // 4 and accepted >= cases // 10, (refused, accepted)
        # The raw-string gap fails closed: refused by cos under the root
        # (as OPA refuses it there) and outside it (where OPA accepts it).
        for path, opa_status in [("companyos[`abac`]", 400), ("elsewhere[`abac`]", 200)]:
            spelling = f"package {path}\n\nallow := true\n"
            assert opa.call("PUT", "/v1/policies/raw", spelling, "text/plain")[0] == opa_status, path
            assert cos.call("PUT", "/v1/policies/raw", spelling, "text/plain")[0] == 400, path
            opa.call("DELETE", "/v1/policies/raw")
        # The pack still decides as before on both.
        inp = {"input": ABAC_INPUTS[0]}
        assert opa.call("POST", "/v1/data/companyos/abac/decision", inp) == cos.call(
            "POST", "/v1/data/companyos/abac/decision", inp)
    finally:
        opa.stop()
        cos.stop()


ACME_AUTHZ = """package acme.authz

import rego.v1

default allow := false

allow if not input.user in data.acme.blocked
"""


def test_rest_writes_never_replace_the_packs_data_or_files(cos_bin, opa_bin, pdp_bin, tmp_path):
    """Issue 26 item 2: the REST overlay is a layer of its own. A data write
    outside the pack's roots used to go into a root data.json that replaced
    the pack's (mallory's block was lifted), and the first REST module took
    the name `_rest/policy-0.rego`, replacing a pack file of that name."""
    src = tmp_path / "acme"
    (src / "data").mkdir(parents=True)
    (src / "_rest").mkdir()
    (src / "manifest.yaml").write_text("name: acme\nversion: 1.0.0\nroots: [acme]\n")
    (src / "authz.rego").write_text(ACME_AUTHZ)
    (src / "data" / "data.json").write_text('{"acme": {"blocked": ["mallory"]}}')
    (src / "_rest" / "policy-0.rego").write_text("package acme.extra\n\nx := 1\n")
    bundle = tmp_path / "acme.tar.gz"
    p = run([cos_bin, "pack", "build", src, "-o", bundle])
    assert p.returncode == 0, describe(p)
    opa, cos = start_both(opa_bin, pdp_bin, ["--bundle", str(bundle)], ["--pack", str(bundle), "--writes", "on"])
    mallory = {"input": {"user": "mallory"}}
    steps = [
        ("POST", "/v1/data/acme/authz/allow", mallory, None),
        ("PUT", "/v1/data/unrelated", {"x": 1}, None),
        ("POST", "/v1/data/acme/authz/allow", mallory, None),
        ("GET", "/v1/data/acme/blocked", None, None),
        ("PATCH", "/v1/data/unrelated", [{"op": "add", "path": "/y", "value": 2}], None),
        ("PUT", "/v1/policies/mine", "package mine\n\nx := 2\n", "text/plain"),
        ("GET", "/v1/data/acme/extra/x", None, None),
        ("GET", "/v1/data/mine/x", None, None),
        ("GET", "/v1/data/unrelated", None, None),
        ("POST", "/v1/data/acme/authz/allow", mallory, None),
        ("DELETE", "/v1/data/unrelated", None, None),
        ("GET", "/v1/data/acme/blocked", None, None),
        ("PUT", "/v1/data/acme/blocked", [], None),
        ("POST", "/v1/data/acme/authz/allow", mallory, None),
    ]
    try:
        for i, (method, path, body, ctype) in enumerate(steps):
            want = opa.call(method, path, body, ctype or "application/json")
            got = cos.call(method, path, body, ctype or "application/json")
            assert comparable(*got) == comparable(*want), f"step {i}: {method} {path}\n  opa: {want}\n  cos: {got}"
        assert cos.call("POST", "/v1/data/acme/authz/allow", mallory) == (200, {"result": False})
        assert cos.call("GET", "/v1/data/acme/extra/x") == (200, {"result": 1})
    finally:
        opa.stop()
        cos.stop()
