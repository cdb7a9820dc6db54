"""cos-pdp's TLS and mutual TLS against the real `opa run --server`.

Both servers start with the same flags and the fixtures of
examples/cos-pdp/tests/tls/ (made by its make.sh): `--tls-cert-file`,
`--tls-private-key-file`, and for mutual TLS `--tls-ca-cert-file` with
`--authentication=tls`. Python's `ssl` module is the client, trusting the
test CA. Both must:

- serve a decision over HTTPS (the same answer);
- refuse plain HTTP with no decision;
- under mTLS, refuse a client without a certificate and one whose
  certificate another CA signed, and serve a trusted one;
- refuse a TLS 1.2-only client under `--min-tls-version 1.3`.

The identity OPA gives policy (`input.identity` under
`--authentication=tls`, Go's `Subject.ToRDNSequence().String()`) is pinned
by OPA itself: with `--authorization=basic` and a `system.authz` policy
that allows exactly one identity from tests/tls/identities.json, OPA must
serve that client and refuse the other, and cos-pdp, given the same policy
in a pack, must do the same. tests/tls.rs checks that
`cos_http::ClientIdentity` gives the same strings.

Loopback only; every wait is bounded; servers are always stopped.
"""

from __future__ import annotations

import http.client
import json
import ssl
import subprocess
import time
from pathlib import Path

import pytest

from conftest import REPO_ROOT
from test_opa_bundles import free_port, opa_bin  # noqa: F401 (fixture)
from test_pdp_vs_opa import pdp_bin  # noqa: F401 (fixture)

TLS = REPO_ROOT / "examples" / "cos-pdp" / "tests" / "tls"
IDENTITIES = json.loads((TLS / "identities.json").read_text())
POLICY = "package x\n\nimport rego.v1\n\nallow if input.user == \"alice\"\n"


def context(client: str | None = None, max_version: ssl.TLSVersion | None = None) -> ssl.SSLContext:
    """A client context trusting the test CA, with `client`.pem/.key if given."""
    ctx = ssl.create_default_context(cafile=str(TLS / "ca.pem"))
    if client:
        ctx.load_cert_chain(str(TLS / f"{client}.pem"), str(TLS / f"{client}.key"))
    if max_version is not None:
        ctx.maximum_version = max_version
    return ctx


def call(port: int, method: str, path: str, body: str | None = None, ctx: ssl.SSLContext | None = None,
         content_type: str = "application/json") -> tuple[int, bytes]:
    """One HTTPS request on a new connection; raises when TLS or the connection fails."""
    conn = http.client.HTTPSConnection("localhost", port, context=ctx or context(), timeout=10)
    try:
        conn.request(method, path, body=body, headers={"Content-Type": content_type, "Connection": "close"})
        r = conn.getresponse()
        return r.status, r.read()
    finally:
        conn.close()


def refused(port: int, ctx: ssl.SSLContext) -> bool:
    """Whether the server refuses this client (in the handshake, or, in TLS
    1.3, where a refused client certificate shows, at the first read)."""
    try:
        call(port, "GET", "/health", ctx=ctx)
    except (ssl.SSLError, ConnectionError, http.client.HTTPException, OSError):
        return True
    return False


class Proc:
    """A server process on 127.0.0.1:port, ready once a TLS handshake with
    `ready_ctx` gets any HTTP answer."""

    def __init__(self, args: list[str], port: int, ready_ctx: ssl.SSLContext):
        self.args = args
        self.port = port
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                out, err = self.proc.communicate()
                raise AssertionError(f"{args[0]} exited {self.proc.returncode}: {out} {err}")
            try:
                call(port, "GET", "/health", ctx=ready_ctx)
                return
            except (OSError, http.client.HTTPException):
                time.sleep(0.1)
        self.stop()
        raise AssertionError(f"{args[0]} did not start")

    def stop(self):
        self.proc.kill()
        self.proc.communicate(timeout=10)


def tls_flags(mtls: bool) -> list[str]:
    flags = ["--tls-cert-file", str(TLS / "server.pem"), "--tls-private-key-file", str(TLS / "server.key")]
    if mtls:
        flags += ["--tls-ca-cert-file", str(TLS / "ca.pem"), "--authentication", "tls"]
    return flags


def opa(opa_bin: Path, flags: list[str], ready: ssl.SSLContext, files: list[Path] = ()) -> Proc:
    port = free_port()
    return Proc([str(opa_bin), "run", "--server", "--addr", f"127.0.0.1:{port}", "--log-level", "error",
                 *flags, *map(str, files)], port, ready)


def cos(pdp_bin: Path, flags: list[str], ready: ssl.SSLContext) -> Proc:
    port = free_port()
    return Proc([str(pdp_bin), "--listen", f"127.0.0.1:{port}", *flags], port, ready)


@pytest.fixture()
def servers(request, opa_bin, pdp_bin):
    """Both servers with the same flags (request.param: (mtls, extra flags))."""
    mtls, extra = request.param
    flags = tls_flags(mtls) + extra
    ready = context("client" if mtls else None)
    started = []
    try:
        started.append(opa(opa_bin, flags, ready))
        started.append(cos(pdp_bin, flags, ready))
        yield started
    finally:
        for s in started:
            s.stop()


def decide(server: Proc, ctx: ssl.SSLContext) -> tuple[int, object]:
    status, _ = call(server.port, "PUT", "/v1/policies/x", POLICY, ctx=ctx, content_type="text/plain")
    assert status == 200, (server.args[0], status)
    status, body = call(server.port, "POST", "/v1/data/x/allow", json.dumps({"input": {"user": "alice"}}), ctx=ctx)
    return status, json.loads(body)


@pytest.mark.parametrize("servers", [(False, [])], indirect=True)
def test_https_decisions_match(servers):
    answers = [decide(s, context()) for s in servers]
    assert answers[0] == answers[1] == (200, {"result": True}), answers


@pytest.mark.parametrize("servers", [(False, [])], indirect=True)
def test_plain_http_gets_no_decision(servers):
    # OPA (Go's net/http) answers a plain request on its TLS port with a 400
    # ("Client sent an HTTP request to an HTTPS server"); cos-pdp closes the
    # connection without an answer. Neither serves it.
    for s in servers:
        conn = http.client.HTTPConnection("127.0.0.1", s.port, timeout=10)
        try:
            conn.request("GET", "/health")
            status = conn.getresponse().status
        except (ConnectionError, http.client.HTTPException, OSError):
            status = None
        finally:
            conn.close()
        assert status in (None, 400), (s.args[0], status)


@pytest.mark.parametrize("servers", [(True, [])], indirect=True)
def test_mutual_tls_refusals_match(servers):
    for s in servers:
        name = s.args[0]
        assert refused(s.port, context(None)), f"{name}: a client without a certificate was served"
        assert refused(s.port, context("other-client")), f"{name}: an untrusted client certificate was served"
        assert not refused(s.port, context("client")), f"{name}: the trusted client was refused"
        assert decide(s, context("tricky")) == (200, {"result": True}), name


@pytest.mark.parametrize("servers", [(False, ["--min-tls-version", "1.3"])], indirect=True)
def test_min_tls_version_1_3_matches(servers):
    for s in servers:
        assert refused(s.port, context(max_version=ssl.TLSVersion.TLSv1_2)), s.args[0]
        assert not refused(s.port, context(max_version=ssl.TLSVersion.TLSv1_3)), s.args[0]


@pytest.mark.parametrize("allowed,other", [("client.pem", "tricky.pem"), ("tricky.pem", "client.pem")])
def test_identity_is_the_pinned_subject_on_both(opa_bin, pdp_bin, tmp_path, allowed, other):
    """`input.identity` for each fixture client is the string of
    identities.json (which tests/tls.rs checks cos_http::ClientIdentity
    against): OPA and cos-pdp, given the same `system.authz` policy, allow
    exactly that identity and refuse the other."""
    expected = IDENTITIES[allowed]
    authz = tmp_path / "authz.rego"
    authz.write_text(
        "package system.authz\n\nimport rego.v1\n\ndefault allow := false\n\n"
        f"allow if input.identity == {json.dumps(expected)}\n"
    )
    pack = tmp_path / "pack"
    pack.mkdir()
    (pack / "manifest.yaml").write_text("name: tls-authz\nversion: 1.0.0\nroots: [system/authz]\n")
    (pack / "authz.rego").write_text(authz.read_text())
    ok, no = context(allowed.removesuffix(".pem")), context(other.removesuffix(".pem"))
    flags = tls_flags(True) + ["--authorization", "basic"]
    for server in (lambda: opa(opa_bin, flags, ok, [authz]), lambda: cos(pdp_bin, flags + ["--pack", str(pack)], ok)):
        s = server()
        try:
            assert call(s.port, "GET", "/v1/data", ctx=ok)[0] == 200, s.args[0]
            assert call(s.port, "GET", "/v1/data", ctx=no)[0] == 401, s.args[0]
        finally:
            s.stop()
