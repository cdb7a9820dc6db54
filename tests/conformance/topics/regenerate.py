#!/usr/bin/env python3
"""Fills in the expected answer (`want`) of every conformance case from the real OPA.

    python3 regenerate.py [--opa PATH] [--check] [--jobs N]

For every case of every `cases/*.json` next to this script, the case's modules
(and its `data`, as `data.json` at the root) are written to a temporary
directory and OPA is asked:

    opa eval --format json -d policy [--v0-compatible] [-i input.json] QUERY

`want` becomes {"result": value}, {"undefined": true} or {"error": "<first
line of OPA's error message>"}. The case files are rewritten in place (case
order and key order kept, `json.dumps(indent=1, ensure_ascii=False)`), so a
second run changes nothing.

--check writes nothing and exits 1 if a stored `want` is missing or differs
from what OPA says now, or if a file is not in the canonical format (CI).
--opa defaults to the binary scripts/oracles/opa.sh builds (pinned version).

Standard library only.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
CASES = HERE / "cases"
PINNED_OPA = "1.22.2"  # keep in step with scripts/oracles/opa.sh and README.md
TIMEOUT_S = 60
QUERY_RE = re.compile(r"^data(\.[A-Za-z_][A-Za-z0-9_]*)*$")


def find_opa_script() -> Path:
    for d in [HERE, *HERE.parents]:
        s = d / "scripts" / "oracles" / "opa.sh"
        if s.is_file():
            return s
    raise SystemExit("scripts/oracles/opa.sh not found above " + str(HERE) + "; pass --opa PATH")


def opa_path(given: str | None) -> str:
    if given:
        return given
    script = find_opa_script()
    out = subprocess.run(["bash", str(script)], capture_output=True, text=True)
    if out.returncode != 0 or not out.stdout.strip():
        sys.stderr.write(out.stderr)
        raise SystemExit(f"{script} failed (exit {out.returncode})")
    return out.stdout.strip().splitlines()[-1]


def opa_version(opa: str) -> str:
    out = subprocess.run([opa, "version"], capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        if line.startswith("Version:"):
            return line.split(":", 1)[1].strip()
    return "unknown"


def first_line(s: str) -> str:
    lines = [ln for ln in s.strip().splitlines() if ln.strip()]
    return lines[0].strip() if lines else ""


def evaluate(opa: str, case: dict) -> dict:
    """OPA's answer for one case, as a `want` object."""
    with tempfile.TemporaryDirectory(prefix="conformance-") as tmp:
        root = Path(tmp)
        policy = root / "policy"
        policy.mkdir()
        for name, src in case["modules"].items():
            p = (policy / name).resolve()
            if policy.resolve() not in p.parents:
                raise ValueError(f"module path escapes the policy directory: {name}")
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text(src, encoding="utf-8")
        if "data" in case:
            (policy / "data.json").write_text(json.dumps(case["data"], ensure_ascii=False), encoding="utf-8")
        # Relative paths (cwd = tmp) keep temporary directory names out of messages.
        args = [opa, "eval", "--format", "json", "-d", "policy"]
        if case.get("rego_version", 1) == 0:
            args.append("--v0-compatible")
        if "input" in case:
            (root / "input.json").write_text(json.dumps(case["input"], ensure_ascii=False), encoding="utf-8")
            args += ["-i", "input.json"]
        args.append(case["query"])
        p = subprocess.run(args, cwd=root, capture_output=True, text=True, timeout=TIMEOUT_S)
    if p.returncode != 0:
        msg = ""
        try:
            errs = json.loads(p.stdout).get("errors") or []
            if errs and isinstance(errs[0], dict):
                msg = first_line(errs[0].get("message", ""))
        except (ValueError, AttributeError):
            pass
        msg = msg or first_line(p.stderr) or first_line(p.stdout) or f"opa exited with status {p.returncode}"
        return {"error": msg}
    out = json.loads(p.stdout or "{}")
    results = out.get("result") or []
    if not results:
        return {"undefined": True}
    return {"result": results[0]["expressions"][0]["value"]}


def validate(files: dict[Path, dict]) -> list[str]:
    problems, seen = [], set()
    for path, doc in files.items():
        topic = path.stem
        if not isinstance(doc, dict) or not isinstance(doc.get("cases"), list):
            problems.append(f"{path.name}: expected an object with a `cases` array")
            continue
        for i, c in enumerate(doc["cases"]):
            name = c.get("name")
            where = f"{path.name} case {i} ({name})"
            if not isinstance(name, str) or not name.startswith(topic + "/"):
                problems.append(f"{where}: name must be '{topic}/<name>'")
            if name in seen:
                problems.append(f"{where}: duplicate name")
            seen.add(name)
            if not isinstance(c.get("modules"), dict) or not c["modules"]:
                problems.append(f"{where}: `modules` must be a non-empty object")
            if not isinstance(c.get("query"), str) or not QUERY_RE.match(c["query"]):
                problems.append(f"{where}: `query` must be a document path like data.a.b")
            if c.get("rego_version", 1) not in (0, 1):
                problems.append(f"{where}: `rego_version` must be 0 or 1")
    return problems


def dump(doc: dict) -> str:
    return json.dumps(doc, indent=1, ensure_ascii=False, sort_keys=False) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--opa", help="path of the opa binary (default: scripts/oracles/opa.sh)")
    ap.add_argument("--check", action="store_true", help="write nothing; exit 1 if any stored want is stale")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2, help="parallel opa processes")
    args = ap.parse_args()

    paths = sorted(CASES.glob("*.json"))
    if not paths:
        print(f"no case files in {CASES}", file=sys.stderr)
        return 1
    texts = {p: p.read_text(encoding="utf-8") for p in paths}
    files = {p: json.loads(t) for p, t in texts.items()}
    problems = validate(files)
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return 1

    opa = opa_path(args.opa)
    version = opa_version(opa)
    if version != PINNED_OPA:
        print(f"warning: opa {version} is not the pinned {PINNED_OPA}", file=sys.stderr)

    jobs = [(p, i, c) for p, doc in files.items() for i, c in enumerate(doc["cases"])]
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        answers = list(pool.map(lambda j: evaluate(opa, j[2]), jobs))

    stale, kinds = [], {"result": 0, "undefined": 0, "error": 0}
    for (p, i, c), want in zip(jobs, answers):
        kinds[next(iter(want))] += 1
        if c.get("want") != want:
            stale.append(f"{c['name']}: stored {json.dumps(c.get('want'))}, OPA {version} says {json.dumps(want)}")
        c["want"] = want  # replaces in place, or appends as the last key

    unformatted = [p.name for p in paths if dump(files[p]) != texts[p]]
    total = len(jobs)
    if args.check:
        if stale or unformatted:
            for s in stale:
                print("stale: " + s, file=sys.stderr)
            for n in unformatted:
                print(f"would rewrite: {n}", file=sys.stderr)
            print(f"{len(stale)} of {total} expectations differ from OPA {version}, "
                  f"{len(unformatted)} file(s) not as regenerate.py writes them: run python3 {__file__}",
                  file=sys.stderr)
            return 1
        print(f"all {total} expectations in {len(paths)} files match OPA {version}: {kinds}")
        return 0

    for p in paths:
        text = dump(files[p])
        if text != texts[p]:
            p.write_text(text, encoding="utf-8")
    print(f"{total} cases in {len(paths)} files from OPA {version}: {kinds}; {len(stale)} want(s) changed, "
          f"{len(unformatted)} file(s) rewritten")
    return 0


if __name__ == "__main__":
    sys.exit(main())
