#!/usr/bin/env python3
"""Differential tester: cos-policy against the real OPA on random policies.

    run.py [--seed N] [--cases N] [--time-limit-s S] [--out DIR] [--ci]

gen.py writes random Rego v1 policies with data and inputs (deterministic from
the seed); every case goes to both sides as one JSON line:

  OPA  the harness over OPA's Go API (tests/differential/opa-harness, built by
       scripts/oracles/opa-harness.sh; $COS_OPA_HARNESS or that script's path)
  cos  cos_policy::PolicyEngine in-process, on the register VM and on the
       interpreter (tests/src/bin/cos-differential.rs; $COS_DIFFERENTIAL_BIN,
       else $CARGO_TARGET_DIR/debug/cos-differential or target/debug/, else
       built with cargo)

and each case is classified:

  agree     the same result (numbers by value, sets as OPA's sorted arrays),
            both undefined, or both errors of the same class (compile
            refusal, conflict, other evaluation error)
  refused   cos refused to load the policy naming what it lacks (a builtin it
            does not implement, a syntax it does not support), or ran out of
            its time or value budget: not a wrong answer
  diverge   anything else, including the VM and the interpreter differing

It prints the counts (and how many cases OPA refused at compile: the
generator should keep that low) and writes each divergence to --out as a
conformance case, ready to add to tests/conformance/topics/cases/ (the topic
format of tests/conformance/topics/README.md, without `want`: regenerate.py
writes it), with a .txt beside it saying what each side answered. The exit
status is 1 if any case diverged.

--ci: the fixed seed, count and time limit scripts/test.sh runs (CI_SEED,
CI_CASES, CI_TIME_LIMIT_S below), with the known divergences (gen.KNOWN) left
out. A run without --ci or --exclude-known produces them too.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(HERE))
import gen  # noqa: E402

CI_SEED = 19
CI_CASES = 1200
CI_TIME_LIMIT_S = 60
BATCH = 250

# OPA's error codes by class.
OPA_COMPILE = {"rego_parse_error", "rego_compile_error", "rego_type_error", "rego_recursion_error", "rego_unsafe_var_error"}
OPA_CONFLICT = {"eval_conflict_error"}


def opa_harness() -> str:
    given = os.environ.get("COS_OPA_HARNESS")
    if given:
        return given
    out = subprocess.run(["bash", str(ROOT / "scripts/oracles/opa-harness.sh")], check=True,
                         stdout=subprocess.PIPE, text=True).stdout
    return out.strip().splitlines()[-1]


def cos_bin() -> str:
    given = os.environ.get("COS_DIFFERENTIAL_BIN")
    if given:
        return given
    target = Path(os.environ.get("CARGO_TARGET_DIR") or ROOT / "target")
    subprocess.run(["cargo", "build", "--quiet", "-p", "cos-tests", "--bin", "cos-differential"],
                   check=True, cwd=ROOT)
    return str(target / "debug" / "cos-differential")


def opa_class(ans: dict) -> str:
    if "error" not in ans:
        return "result" if "result" in ans else "undefined"
    code = ans["error"].get("code", "")
    if code in OPA_COMPILE:
        return "compile"
    if code in OPA_CONFLICT:
        return "conflict"
    if code == "timeout":
        return "timeout"
    return "eval"


# A cos error that names what cos cannot do (a missing builtin, a syntax
# regorus does not parse): "refused", as tests/opa-suite/run.py counts it.
REFUSAL = re.compile(
    r"could not find function|unknown function|not implemented|is not supported|unsupported|"
    r"is refused|not available in cos",
    re.I,
)


def cos_class(ans: dict) -> str:
    if "error" not in ans:
        return "result" if "result" in ans else "undefined"
    err = ans["error"]
    code, msg = err.get("code", ""), err.get("message", "")
    if code == "panic":
        return "panic"
    if code in ("timeout", "resource_limit"):
        return "budget"
    if err.get("stage") == "load":
        return "compile"
    if re.search(r"conflict|multiple outputs|produce multiple|multiple values|more than one value|multiple (distinct )?(values|outputs)", msg, re.I):
        return "conflict"
    return "eval"


def canon(v):
    """Numbers by value (1 and 1.0 alike); everything else as is."""
    if isinstance(v, bool) or v is None or isinstance(v, str):
        return v
    if isinstance(v, (int, float)):
        f = float(v)
        return int(f) if f.is_integer() and abs(f) < 2**63 else f
    if isinstance(v, list):
        return [canon(x) for x in v]
    if isinstance(v, dict):
        return {k: canon(x) for k, x in v.items()}
    return v


def same(a, b) -> bool:
    return json.dumps(canon(a), sort_keys=True) == json.dumps(canon(b), sort_keys=True)


def verdict(opa: dict, vm: dict, interp: dict) -> tuple[str, str]:
    """(agree | refused | diverge, why)."""
    o = opa_class(opa)
    outcomes = []
    for path, ans in (("vm", vm), ("interpreter", interp)):
        c = cos_class(ans)
        if c == "panic":
            outcomes.append(("diverge", f"{path}: panic"))
        elif c == "budget":
            outcomes.append(("refused", f"{path}: {ans['error']['code']}"))
        elif c == "compile" and o != "compile":
            if REFUSAL.search(ans["error"].get("message", "")):
                outcomes.append(("refused", f"{path}: load refused"))
            else:
                outcomes.append(("diverge", f"{path}: cos refused to load, OPA {o}"))
        elif c != o:
            outcomes.append(("diverge", f"{path}: cos {c}, OPA {o}"))
        elif c == "result" and not same(opa["result"], ans["result"]):
            outcomes.append(("diverge", f"{path}: other result"))
        else:
            outcomes.append(("agree", ""))
    if any(k == "diverge" for k, _ in outcomes):
        return "diverge", "; ".join(w for k, w in outcomes if k == "diverge")
    # VM and interpreter must also agree with each other (an answer both
    # refused is fine).
    if outcomes[0][0] != outcomes[1][0]:
        return "diverge", f"vm {outcomes[0][0]}, interpreter {outcomes[1][0]}"
    if outcomes[0][0] == "refused":
        return "refused", outcomes[0][1]
    return "agree", ""


def run_side(cmd: list[str], cases_path: Path, out_path: Path) -> subprocess.Popen:
    return subprocess.Popen(cmd, stdin=open(cases_path, "rb"), stdout=open(out_path, "wb"))


def read_lines(path: Path) -> dict[str, dict]:
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            obj = json.loads(line)
            out[obj.get("id")] = obj
    return out


def conformance_case(case: dict) -> dict:
    c = {"name": f"differential/{case['id'].replace('-', '_')}", "modules": case["modules"]}
    if case.get("data") is not None:
        c["data"] = case["data"]
    if "input" in case:
        c["input"] = case["input"]
    c["query"] = case["query"]
    c["rego_version"] = 1
    return c


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--cases", type=int, default=1000)
    ap.add_argument("--time-limit-s", type=float, default=0, help="stop starting new batches after this many seconds (0: no limit)")
    ap.add_argument("--out", type=Path, help="directory for the divergences (conformance cases)")
    ap.add_argument("--ci", action="store_true", help=f"seed {CI_SEED}, {CI_CASES} cases, {CI_TIME_LIMIT_S} s")
    ap.add_argument("--exclude", action="append", default=[], choices=sorted(gen.KNOWN),
                    help="a construct the generator leaves out (gen.KNOWN)")
    ap.add_argument("--exclude-known", action="store_true", help="leave out every construct of gen.KNOWN (as --ci does)")
    ap.add_argument("--verbose", "-v", action="store_true", help="print each divergence")
    args = ap.parse_args()
    if args.ci:
        args.seed, args.cases, args.time_limit_s = CI_SEED, CI_CASES, CI_TIME_LIMIT_S
        args.exclude_known = True
    if args.exclude_known:
        args.exclude = sorted(gen.KNOWN)

    gen.EXCLUDE.update(args.exclude)
    opa, cos = opa_harness(), cos_bin()
    start = time.monotonic()
    counts = {"agree": 0, "refused": 0, "diverge": 0}
    opa_classes: dict[str, int] = {}
    refusals: dict[str, int] = {}
    divergences: list[tuple[dict, dict, dict, str]] = []
    done = 0
    with tempfile.TemporaryDirectory(prefix="cos-differential-") as tmp:
        tmpd = Path(tmp)
        while done < args.cases:
            if args.time_limit_s and time.monotonic() - start > args.time_limit_s:
                print(f"time limit of {args.time_limit_s:g} s reached after {done} cases", file=sys.stderr)
                break
            n = min(BATCH, args.cases - done)
            batch = [gen.gen_case(args.seed, i) for i in range(done, done + n)]
            cases_path = tmpd / "cases.jsonl"
            cases_path.write_text("".join(json.dumps(c, ensure_ascii=False) + "\n" for c in batch), encoding="utf-8")
            p_opa = run_side([opa], cases_path, tmpd / "opa.jsonl")
            p_cos = run_side([cos], cases_path, tmpd / "cos.jsonl")
            for p, name in ((p_opa, "opa-harness"), (p_cos, "cos-differential")):
                if p.wait() != 0:
                    print(f"{name} failed (exit {p.returncode})", file=sys.stderr)
                    return 2
            opa_out, cos_out = read_lines(tmpd / "opa.jsonl"), read_lines(tmpd / "cos.jsonl")
            for c in batch:
                o, k = opa_out.get(c["id"]), cos_out.get(c["id"])
                if o is None or k is None:
                    print(f"{c['id']}: no answer from {'OPA' if o is None else 'cos'}", file=sys.stderr)
                    return 2
                oc = opa_class(o)
                opa_classes[oc] = opa_classes.get(oc, 0) + 1
                v, why = verdict(o, k["vm"], k["interpreter"])
                counts[v] += 1
                if v == "refused":
                    refusals[why] = refusals.get(why, 0) + 1
                if v == "diverge":
                    divergences.append((c, o, k, why))
                    if args.verbose:
                        print(f"DIVERGE {c['id']}: {why}\n  OPA {json.dumps(o)[:300]}\n  cos {json.dumps(k)[:600]}", file=sys.stderr)
            done += n

    elapsed = time.monotonic() - start
    total = sum(counts.values())
    if args.exclude:
        print(f"known divergences left out: {', '.join(args.exclude)}")
    print(f"differential (seed {args.seed}): {total} cases in {elapsed:.1f} s: "
          f"{counts['agree']} agree, {counts['refused']} refused, {counts['diverge']} diverge")
    print("  OPA's answers: " + ", ".join(f"{k} {v}" for k, v in sorted(opa_classes.items())) +
          f" (compile refusals {100 * opa_classes.get('compile', 0) / max(total, 1):.1f}%)")
    for why, n in sorted(refusals.items(), key=lambda kv: -kv[1]):
        print(f"  refused {n:>5}  {why}")
    by_why: dict[str, int] = {}
    for _, _, _, why in divergences:
        by_why[why] = by_why.get(why, 0) + 1
    for why, n in sorted(by_why.items(), key=lambda kv: -kv[1]):
        print(f"  diverge {n:>5}  {why}")
    if args.out and divergences:
        args.out.mkdir(parents=True, exist_ok=True)
        for c, o, k, why in divergences:
            stem = c["id"]
            sources = "\n".join(f"# {n}\n{m}" for n, m in c["modules"].items())
            (args.out / f"{stem}.json").write_text(
                json.dumps({"cases": [conformance_case(c)]}, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
            (args.out / f"{stem}.txt").write_text(
                f"{why}\nOPA:         {json.dumps(o, ensure_ascii=False)}\n"
                f"cos (VM):    {json.dumps(k['vm'], ensure_ascii=False)}\n"
                f"cos (interp): {json.dumps(k['interpreter'], ensure_ascii=False)}\n\n"
                f"query: {c['query']}\ninput: {json.dumps(c.get('input'), ensure_ascii=False)}\n\n{sources}",
                encoding="utf-8")
        print(f"  {len(divergences)} divergence(s) written to {args.out}")
    return 1 if divergences else 0


if __name__ == "__main__":
    sys.exit(main())
