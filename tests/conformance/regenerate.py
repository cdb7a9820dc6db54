#!/usr/bin/env python3
"""Fills the expected answer of every conformance case from the real OPA.

    python3 tests/conformance/regenerate.py [--opa PATH] [--check]

Reads corpus.py, evaluates each case with `opa eval --format json` (Rego v0
cases with --v0-compatible), and writes cases/corpus.json with a `want` per
case: {"result": value}, {"undefined": true} or {"error": first line}. With
--check it writes nothing and exits 1 if the stored file differs from what
OPA says now (CI runs this, so the expectations cannot drift from OPA).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))

import corpus  # noqa: E402


def opa_path(given: str | None) -> str:
    if given:
        return given
    out = subprocess.run(["bash", str(ROOT / "scripts" / "oracles" / "opa.sh")], capture_output=True, text=True, check=True)
    return out.stdout.strip().splitlines()[-1]


def evaluate(opa: str, case: dict) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp) / "policy"
        d.mkdir()
        for name, src in case["modules"].items():
            p = d / name
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text(src)
        if "data" in case:
            (d / "data.json").write_text(json.dumps(case["data"]))
        args = [opa, "eval", "--format", "json", "-d", str(d)]
        if case.get("rego_version") == 0:
            args.append("--v0-compatible")
        if "input" in case:
            inp = Path(tmp) / "input.json"
            inp.write_text(json.dumps(case["input"]))
            args += ["-i", str(inp)]
        args.append(case["query"])
        p = subprocess.run(args, capture_output=True, text=True, timeout=60)
    if p.returncode != 0:
        try:
            errs = json.loads(p.stdout).get("errors") or []
            msg = errs[0].get("message", "") if errs else ""
        except (ValueError, AttributeError):
            msg = ""
        msg = msg or (p.stderr.strip().splitlines() or ["error"])[0]
        return {"error": msg.splitlines()[0]}
    out = json.loads(p.stdout or "{}")
    results = out.get("result") or []
    if not results:
        return {"undefined": True}
    return {"result": results[0]["expressions"][0]["value"]}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--opa")
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args()
    opa = opa_path(args.opa)
    cases = []
    for case in corpus.CASES:
        c = dict(case)
        c["want"] = evaluate(opa, case)
        cases.append(c)
    text = json.dumps({"opa": subprocess.run([opa, "version"], capture_output=True, text=True).stdout.splitlines()[0],
                       "cases": cases}, indent=1, ensure_ascii=False) + "\n"
    target = HERE / "cases" / "corpus.json"
    if args.check:
        current = target.read_text() if target.exists() else ""
        if current != text:
            print(f"{target} is stale: run python3 tests/conformance/regenerate.py", file=sys.stderr)
            return 1
        print(f"conformance expectations match OPA ({len(cases)} cases)")
        return 0
    target.parent.mkdir(exist_ok=True)
    target.write_text(text)
    kinds = {}
    for c in cases:
        k = next(iter(c["want"]))
        kinds[k] = kinds.get(k, 0) + 1
    print(f"wrote {len(cases)} cases to {target}: {kinds}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
