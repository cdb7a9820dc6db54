"""cos-pdp's authentication and authorisation against the real `opa run --server`.

Both servers get the same bundle (a cos pack built by `cos pack build`,
which OPA reads as a bundle) holding a `system.authz` policy, and run with
`--authentication=token --authorization=basic`. The same requests (bearer
tokens, paths, query strings, headers, bodies) must get the same status and
the same body from both. One policy branch refuses with `json.marshal(input)`
as its reason, so the input document each server hands its authoriser is
compared as well, field by field.

cos-only behaviour is checked after: the write switch (`--writes`, off by
default with a pack source, 403) and `/livez` outside the policy.
"""

from __future__ import annotations

import http.client
import json
from pathlib import Path

import pytest

from test_opa_bundles import describe, free_port, opa_bin, run  # noqa: F401 (fixture)
from test_pdp_vs_opa import Server, pdp_bin  # noqa: F401 (fixture)

AUTHZ = """package system.authz

import rego.v1

default allow := {"allowed": false, "reason": "no valid token"}

allow := true if input.path == ["health"]

else := true if input.identity == "admin"

else := {"allowed": true} if {
    input.identity == "reader"
    input.method in {"GET", "POST"}
}

else := {"allowed": false, "reason": json.marshal(input)} if input.identity == "echo"

else := false if input.identity == "no"

else := {"reason": "no allowed key"} if input.identity == "odd"

else := "yes" if input.identity == "str"
"""

APP = """package app

import rego.v1

default allow := false

allow if input.user == "alice"
"""

MANIFEST = "name: authz-interop\nversion: 1.0.0\nroots: [system/authz, app]\n"


def pack(tmp_path: Path, cos_bin: Path, with_authz: bool = True) -> Path:
    src = tmp_path / ("src-authz" if with_authz else "src-plain")
    src.mkdir()
    (src / "manifest.yaml").write_text(MANIFEST)
    (src / "app.rego").write_text(APP)
    if with_authz:
        (src / "authz.rego").write_text(AUTHZ)
    out = tmp_path / f"{src.name}.tar.gz"
    p = run([cos_bin, "pack", "build", src, "-o", out])
    assert p.returncode == 0, describe(p)
    return out


class Raw:
    """A server reached with http.client: the headers sent are exactly these."""

    def __init__(self, url: str):
        host, port = url.removeprefix("http://").split(":")
        self.host, self.port = host, int(port)

    def call(self, method: str, path: str, body: str | None = None, headers: list[tuple[str, str]] = ()):
        c = http.client.HTTPConnection(self.host, self.port, timeout=10)
        try:
            c.putrequest(method, path, skip_accept_encoding=True)
            for k, v in headers:
                c.putheader(k, v)
            data = body.encode() if body is not None else None
            if data is not None:
                c.putheader("Content-Length", str(len(data)))
            c.endheaders(data)
            r = c.getresponse()
            raw = r.read()
            try:
                parsed = json.loads(raw) if raw else None
            except ValueError:
                parsed = raw.decode(errors="replace")
            return r.status, parsed
        finally:
            c.close()


def start(cmd: list[str], port: int) -> Server:
    return Server(cmd, f"http://127.0.0.1:{port}")


def bearer(token: str) -> list[tuple[str, str]]:
    return [("Authorization", f"Bearer {token}")]


JSON = [("Content-Type", "application/json")]

# (method, path, body, headers)
STEPS = [
    ("GET", "/health", None, []),
    ("POST", "/v1/data/app/allow", '{"input": {"user": "alice"}}', JSON),
    ("POST", "/v1/data/app/allow", '{"input": {"user": "alice"}}', JSON + bearer("admin")),
    ("POST", "/v1/data/app/allow", '{"input": {"user": "alice"}}', JSON + bearer("reader")),
    ("GET", "/v1/data/app", None, bearer("reader")),
    ("PUT", "/v1/data/extra", '{"a": 1}', JSON + bearer("reader")),
    ("PUT", "/v1/data/extra", '{"a": 1}', JSON),
    ("PUT", "/v1/data/extra", '{"a": 1}', JSON + bearer("admin")),
    ("GET", "/v1/data/extra", None, bearer("admin")),
    ("PUT", "/v1/policies/p", "package extra.p\n\nx := 1\n", [("Content-Type", "text/plain")] + bearer("admin")),
    ("GET", "/v1/data/extra/p/x", None, bearer("admin")),
    ("DELETE", "/v1/policies/p", None, bearer("admin")),
    ("PUT", "/v1/data/app/x", "1", JSON + bearer("admin")),
    # Tokens as OPA's identifier reads them: `^Bearer\s+(\S+)$`.
    ("GET", "/v1/data/app", None, [("Authorization", "Bearer \t admin")]),
    ("GET", "/v1/data/app", None, [("Authorization", "bearer admin")]),
    ("GET", "/v1/data/app", None, [("Authorization", "Bearer admin extra")]),
    ("GET", "/v1/data/app", None, [("Authorization", "Basic YWRtaW46YWRtaW4=")]),
    # The verdict's forms.
    ("GET", "/v1/data/app", None, bearer("no")),
    ("GET", "/v1/data/app", None, bearer("odd")),
    ("GET", "/v1/data/app", None, bearer("str")),
    # The input document, echoed back as the refusal's reason.
    ("GET", "/v1/data/app/allow", None, bearer("echo")),
    ("GET", "/v1/data/app/allow?x=1&x=2&y=a+b%21&flag&bad=%zz", None, bearer("echo")),
    ("POST", "/v1/data/app/allow", '{"input": {"user": "alice", "n": [1, 2.5, null]}}', JSON + bearer("echo")),
    ("POST", "/v1/data/app/allow", "", JSON + bearer("echo")),
    ("POST", "/v0/data/app/allow", '{"user": "alice"}', JSON + bearer("echo")),
    ("POST", "/", '{"user": "alice"}', JSON + bearer("echo")),
    ("POST", "/v1/query", '{"query": "data.app.allow"}', JSON + bearer("echo")),
    ("POST", "/v1/compile", '{"query": "data.app.allow"}', JSON + bearer("echo")),
    ("PUT", "/v1/data/x", '{"not": "read"}', JSON + bearer("echo")),
    ("POST", "/v1/policies/x", '{"not": "read"}', JSON + bearer("echo")),
    ("GET", "/v1/data/a%2Fb/c%20d", None, bearer("echo")),
    ("GET", "/v1/policies/a%2Fb", None, bearer("echo")),
    ("DELETE", "/v1/data/app", None, bearer("echo")),
    ("GET", "/v1/data/app", None, bearer("echo") + [("X-Trace-Id", "1"), ("x-trace-id", "2"), ("X-EMPTY", "")]),
    ("GET", "/metrics", None, bearer("echo")),
    # A body that is not JSON is refused before the policy is asked.
    ("POST", "/v1/data/app/allow", '{"input": ', JSON + bearer("admin")),
]

# Headers each client library or server adds on its own, left out of the echo.
TRANSPORT = {"Content-Length", "Accept-Encoding", "Connection"}


def comparable(status: int, body):
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        message = body["message"]
        try:
            echoed = json.loads(message)
        except ValueError:
            echoed = None
        if isinstance(echoed, dict) and "headers" in echoed:
            echoed["headers"] = {k: v for k, v in echoed["headers"].items() if k not in TRANSPORT}
            body = {**body, "message": echoed}
        elif status == 400:
            # Parser messages differ (Go's encoding/json, serde_json).
            body = {**body, "message": "<parse error>"}
    return status, body


def test_token_and_basic_authz_agree_with_opa(cos_bin, opa_bin, pdp_bin, tmp_path):
    bundle = pack(tmp_path, cos_bin)
    po, pc = free_port(), free_port()
    auth = ["--authentication=token", "--authorization=basic"]
    opa = start([str(opa_bin), "run", "--server", "--addr", f"127.0.0.1:{po}", "--log-level", "error",
                 *auth, "--bundle", str(bundle)], po)
    try:
        cos = start([str(pdp_bin), "--listen", f"127.0.0.1:{pc}", "--pack", str(bundle), "--writes", "on", *auth], pc)
    except Exception:
        opa.stop()
        raise
    try:
        o, c = Raw(opa.url), Raw(cos.url)
        echoes = 0
        for i, (method, path, body, headers) in enumerate(STEPS):
            want = comparable(*o.call(method, path, body, headers))
            got = comparable(*c.call(method, path, body, headers))
            assert got == want, f"step {i}: {method} {path} {headers}\n  opa: {want}\n  cos: {got}"
            if isinstance(want[1], dict) and isinstance(want[1].get("message"), dict):
                echoes += 1
        assert echoes >= 12, "the echo steps should reach the policy on both"
    finally:
        opa.stop()
        cos.stop()


def test_missing_authz_policy_is_500_on_both(cos_bin, opa_bin, pdp_bin, tmp_path):
    bundle = pack(tmp_path, cos_bin, with_authz=False)
    po, pc = free_port(), free_port()
    auth = ["--authentication=token", "--authorization=basic"]
    # Neither answers /health, so neither can be waited for with it: start
    # them as processes and poll a data path until it answers at all.
    import subprocess
    import time

    procs = [
        subprocess.Popen([str(opa_bin), "run", "--server", "--addr", f"127.0.0.1:{po}", "--log-level", "error",
                          *auth, "--bundle", str(bundle)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
        subprocess.Popen([str(pdp_bin), "--listen", f"127.0.0.1:{pc}", "--pack", str(bundle), *auth],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
    ]
    try:
        answers = []
        for port in (po, pc):
            raw = Raw(f"http://127.0.0.1:{port}")
            deadline = time.monotonic() + 60
            while True:
                try:
                    answers.append(raw.call("GET", "/v1/data/app/allow", None, bearer("admin")))
                    break
                except OSError:
                    assert time.monotonic() < deadline, f"port {port} never answered"
                    time.sleep(0.1)
        assert answers[0] == answers[1], answers
        assert answers[0] == (500, {"code": "internal_error", "message": "authorization policy missing or undefined"})
        # cos's /livez is outside the policy: a probe carries no token.
        assert Raw(f"http://127.0.0.1:{pc}").call("GET", "/livez") == (200, {})
    finally:
        for p in procs:
            p.kill()
            p.wait(timeout=10)


def test_writes_are_off_with_a_pack_source_and_authz_comes_first(cos_bin, pdp_bin, tmp_path):
    bundle = pack(tmp_path, cos_bin)
    pc = free_port()
    cos = start([str(pdp_bin), "--listen", f"127.0.0.1:{pc}", "--pack", str(bundle),
                 "--authentication=token", "--authorization=basic"], pc)
    try:
        c = Raw(cos.url)
        # Unauthenticated: refused by the policy, as OPA would refuse it.
        status, body = c.call("PUT", "/v1/policies/p", "package extra.p\n", [("Content-Type", "text/plain")])
        assert (status, body["code"]) == (401, "unauthorized"), body
        # Authorised, but writes are off (the default with a pack source).
        for method, path, body in [("PUT", "/v1/policies/p", "package extra.p\n"), ("PUT", "/v1/data/x", "1"),
                                   ("PATCH", "/v1/data", "[]"), ("DELETE", "/v1/data/app", None)]:
            status, answer = c.call(method, path, body, JSON + bearer("admin"))
            assert (status, answer["code"]) == (403, "invalid_operation"), (method, path, answer)
            assert "--writes on" in answer["message"]
        # Reads and decisions still go through.
        assert c.call("POST", "/v1/data/app/allow", '{"input": {"user": "alice"}}', JSON + bearer("admin")) == (
            200, {"result": True})
    finally:
        cos.stop()
