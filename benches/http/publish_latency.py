#!/usr/bin/env python3
"""Time from publishing a pack to its first decision, with long polling.

`cos pack serve DIR` (default 200 ms file watch) serves signed packs;
`cos-pdp --pack-url … --long-poll 30 --public-key …` decides with them. A new
pack is published by writing its Sigstore bundle and renaming the archive into
place; the clock stops when cos-pdp first answers from it (polled every 2 ms).
Everything on the path counts: the file watch, the long poll's answer, the
download, digest and signature checks, compilation, the pack's tests, the swap.

    python3 benches/http/publish_latency.py [ROUNDS]     (default 20)

Needs target/release/cos and target/release/cos-pdp (benches/http/run.sh
builds them, or: cargo build --release -p cos-cli -p cos-pdp).
"""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
COS = ROOT / "target" / "release" / "cos"
PDP = ROOT / "target" / "release" / "cos-pdp"


def sh(*args) -> None:
    subprocess.run([str(a) for a in args], check=True, capture_output=True)


def publish(work: Path, served: Path, version: str, key: Path) -> None:
    src = work / f"src-{version}"
    src.mkdir()
    (src / "manifest.yaml").write_text(f"name: demo\nversion: {version}\nroots: [demo]\n")
    (src / "policy.rego").write_text(f'package demo\n\nimport rego.v1\n\nversion := "{version}"\n')
    tmp = served / ".demo.tar.gz.tmp"
    sh(COS, "pack", "build", src, "-o", tmp)
    sh(COS, "sign-blob", "--key", key, "--bundle", served / "demo.tar.gz.sigstore.json", tmp)
    os.replace(tmp, served / "demo.tar.gz")


def answer(url: str) -> str | None:
    req = urllib.request.Request(url, data=b'{"input": {}}', headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=2) as r:
            return json.loads(r.read()).get("result")
    except OSError:
        return None


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    for b in (COS, PDP):
        if not b.is_file():
            sys.exit(f"{b} missing: cargo build --release -p cos-cli -p cos-pdp")
    env = {k: v for k, v in os.environ.items() if k != "RUST_BACKTRACE"}
    with tempfile.TemporaryDirectory() as d:
        work = Path(d)
        served = work / "served"
        served.mkdir()
        sh(COS, "keygen", "--alg", "ecdsa-p256", "--out", work / "k")
        publish(work, served, "1.0.0", work / "k.key")
        server = subprocess.Popen([str(COS), "pack", "serve", str(served), "--listen", "127.0.0.1:0"],
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
        procs = [server]
        try:
            base = server.stdout.readline().strip().rsplit(" on ", 1)[1]
            pdp = subprocess.Popen([str(PDP), "--listen", "127.0.0.1:0", "--pack-url", f"{base}/demo.tar.gz",
                                    "--long-poll", "30", "--public-key", str(work / "k.pub")],
                                   stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
            procs.append(pdp)
            url = pdp.stdout.readline().strip().rsplit(" on ", 1)[1] + "/v1/data/demo/version"
            deadline = time.monotonic() + 30
            while answer(url) != "1.0.0":
                assert time.monotonic() < deadline, "first pack never decided"
                time.sleep(0.01)
            took = []
            for i in range(rounds):
                version = f"1.{i + 1}.0"
                time.sleep(0.3)  # let the long poll settle
                start = time.monotonic()
                publish(work, served, version, work / "k.key")
                published = time.monotonic()
                while answer(url) != version:
                    assert time.monotonic() - start < 30, f"{version} never decided"
                    time.sleep(0.002)
                took.append(time.monotonic() - published)
            ms = sorted(t * 1000 for t in took)
            print(f"publish → first decision over {rounds} packs: median {statistics.median(ms):.0f} ms, "
                  f"max {ms[-1]:.0f} ms, min {ms[0]:.0f} ms (file watch 200 ms, long poll 30 s)")
        finally:
            for p in procs:
                p.kill()
                p.communicate(timeout=10)


if __name__ == "__main__":
    main()
