"""cos-pdp's /metrics judged by promtool (Prometheus's own checker), after
what an attacker can put into it (issue 26, Found 7):

- a pack whose revision holds `"}`, line feeds and a line of its own
  (`cos_pdp_ready 0`, `forged_series{…}`): the label value must be escaped,
  so no forged series appears and promtool parses every line;
- thousands of requests with made-up methods (`X00001 /livez HTTP/1.1`):
  they collapse into one `method="other"` series instead of one each.

promtool comes from scripts/oracles/promtool.sh (COS_PROMTOOL_BIN, set by
scripts/test.sh), else PATH. Loopback only; the server is always stopped.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import urllib.request
from pathlib import Path

import pytest

from test_opa_bundles import free_port
from test_pdp_vs_opa import Server, pdp_bin  # noqa: F401 (fixture)

FORGED = 'r1"} 1\ncos_pdp_ready 0\nforged_series{x="y'


@pytest.fixture(scope="session")
def promtool() -> str:
    path = os.environ.get("COS_PROMTOOL_BIN") or shutil.which("promtool")
    if not path:
        pytest.fail("promtool not found: run scripts/oracles/promtool.sh (scripts/test.sh does) or set "
                    "COS_PROMTOOL_BIN", pytrace=False)
    return path


def raw_request(port: int, head: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(head)
        out = b""
        while chunk := s.recv(65536):
            out += chunk
        return out


def test_metrics_stay_well_formed_and_bounded_under_hostile_labels(pdp_bin, promtool, tmp_path):
    pack = tmp_path / "forged"
    pack.mkdir()
    revision = FORGED.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    (pack / "manifest.yaml").write_text(f'name: forged\nversion: 1.0.0\nrevision: "{revision}"\nroots: [app]\n')
    (pack / "p.rego").write_text("package app\n\nallow := true\n")
    port = free_port()
    server = Server([str(pdp_bin), "--listen", f"127.0.0.1:{port}", "--pack", str(pack)], f"http://127.0.0.1:{port}")
    try:
        before = urllib.request.urlopen(f"{server.url}/metrics", timeout=10).read()
        for i in range(500):
            answer = raw_request(port, f"X{i:05d} /livez HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
            assert answer.startswith(b"HTTP/1.1 "), answer[:200]
        text = urllib.request.urlopen(f"{server.url}/metrics", timeout=10).read().decode()
    finally:
        server.stop()
    check = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, text=True, timeout=60)
    assert check.returncode == 0, f"promtool: {check.stdout}{check.stderr}\n{text}"
    names = {line.split("{")[0].split(" ")[0] for line in text.splitlines() if line and not line.startswith("#")}
    assert "forged_series" not in names, text
    assert not any(line.startswith("cos_pdp_ready 0") for line in text.splitlines()), text
    assert 'revision="r1\\"} 1\\ncos_pdp_ready 0\\nforged_series{x=\\"y"' in text, text
    # 500 made-up methods: one series, not 500; the exposition barely grows.
    counts = [line for line in text.splitlines() if line.startswith("http_request_duration_seconds_count")]
    others = [line for line in counts if 'method="other"' in line]
    assert len(others) == 1 and others[0].endswith(" 500"), counts
    assert len(counts) <= 4, counts
    assert len(text) < len(before) + 8000, (len(before), len(text))
