"""`cos pack serve` judged by OPA's own bundle plugin.

The real `opa run --server` is pointed at `cos pack serve` as its bundle
service, with bundle signature verification and long polling on. OPA must
download and activate our signed bundle, answer from it, and pick up a new
revision published into the served directory through long polling: with a
30 s minimum polling delay, the new policy answering within a few seconds is
only possible if OPA accepted our long-poll responses
(`Content-Type: application/vnd.openpolicyagent.bundles`, `ETag`, 304).
A tampered bundle published later is refused by OPA, which keeps the last
good one. Loopback only; every wait is bounded; both servers are stopped.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from test_opa_bundles import describe, free_port, opa_bin, rewrite, run  # noqa: F401 (fixture)

POLICY = """package demo.authz

default allow := false

allow if input.user in data.demo.admins
"""


def build(cos_bin: Path, tmp: Path, version: str, admins: list[str], key: Path, out: Path) -> None:
    d = tmp / f"src-{version}"
    (d / "authz").mkdir(parents=True)
    (d / "data" / "demo").mkdir(parents=True)
    (d / "manifest.yaml").write_text(f"name: demo\nversion: {version}\nrevision: r-{version}\nroots: [demo]\n")
    (d / "authz" / "policy.rego").write_text(POLICY)
    (d / "data" / "demo" / "data.json").write_text(json.dumps({"admins": admins}))
    tmp_out = out.parent / f".{out.name}.tmp"
    p = run([cos_bin, "pack", "build", d, "-o", tmp_out, "--sign", key])
    assert p.returncode == 0, describe(p)
    os.replace(tmp_out, out)  # published atomically, as the server expects


def get(url: str, data: dict | None = None) -> tuple[int, dict]:
    req = urllib.request.Request(
        url,
        data=json.dumps(data).encode() if data is not None else None,
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status, json.loads(r.read() or b"{}")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


def wait_for(what, timeout: float, step: float = 0.1):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = what()
            if last:
                return last
        except OSError as e:
            last = e
        time.sleep(step)
    raise AssertionError(f"timed out after {timeout} s (last: {last!r})")


def test_opa_bundle_plugin_long_polls_cos_pack_serve(cos_bin, opa_bin, tmp_path):
    key_prefix = tmp_path / "k"
    p = run([cos_bin, "keygen", "--alg", "ecdsa-p256", "--out", key_prefix])
    assert p.returncode == 0, describe(p)
    key, pub = tmp_path / "k.key", tmp_path / "k.pub"
    served = tmp_path / "served"
    served.mkdir()
    bundle = served / "demo.tar.gz"
    build(cos_bin, tmp_path, "1.0.0", ["alice"], key, bundle)

    server = subprocess.Popen(
        [str(cos_bin), "pack", "serve", str(served), "--listen", "127.0.0.1:0", "--watch-ms", "50"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    opa = None
    try:
        first = server.stdout.readline()
        assert " on http://" in first, (first, server.poll())
        base = first.strip().rsplit(" on ", 1)[1]
        port = free_port()
        config = tmp_path / "opa.yaml"
        config.write_text(
            json.dumps({
                "services": {"cos": {"url": base}},
                "bundles": {
                    "authz": {
                        "service": "cos",
                        "resource": "demo.tar.gz",
                        "signing": {"keyid": "cos"},
                        "polling": {
                            "min_delay_seconds": 30,
                            "max_delay_seconds": 60,
                            "long_polling_timeout_seconds": 20,
                        },
                    }
                },
                "keys": {"cos": {"algorithm": "ES256", "key": pub.read_text()}},
            })
        )
        opa = subprocess.Popen(
            [str(opa_bin), "run", "--server", "--addr", f"127.0.0.1:{port}", "--config-file", str(config),
             "--log-level", "error"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        api = f"http://127.0.0.1:{port}"
        wait_for(lambda: get(f"{api}/health?bundles")[0] == 200, 60)
        decide = lambda user: get(f"{api}/v1/data/demo/authz/allow", {"input": {"user": user}})[1].get("result")
        assert decide("alice") is True
        assert decide("bob") is False

        # A new revision: OPA's long poll is answered as soon as the file changes.
        published = time.monotonic()
        build(cos_bin, tmp_path, "1.1.0", ["alice", "bob"], key, bundle)
        wait_for(lambda: decide("bob") is True, 15)
        took = time.monotonic() - published
        assert took < 15, f"new revision active after {took:.1f} s (polling alone would take >= 30 s)"

        # A tampered revision: OPA refuses it (signature) and keeps answering from 1.1.0.
        tampered = rewrite(bundle, tmp_path / "bad.tar.gz",
                           change=("demo/data.json", lambda b: b.replace(b"bob", b"eve")))
        os.replace(tampered, bundle)
        time.sleep(3)
        assert decide("bob") is True and decide("eve") is False
    finally:
        logs = {}
        for name, proc in (("opa", opa), ("cos", server)):
            if proc is not None:
                proc.kill()
                logs[name] = proc.communicate(timeout=10)
    opa_err = logs["opa"][1]
    assert "demo/data.json" in opa_err and "digest mismatch" in opa_err, opa_err[-3000:]
