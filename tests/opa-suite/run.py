#!/usr/bin/env python3
"""Runs OPA's own evaluation test cases against the `cos` CLI.

The cases are not in this repository: they come with the pinned OPA module
in Go's module cache (filled by scripts/oracles/opa.sh), under
opa@v<OPA>/v1/test/cases/testdata/v1/<topic>/<file>.yaml. Each case gets a
temporary bundle directory (its modules as test-<i>.rego, as OPA's runner
names them, its data as data.json) and one or more `cos policy eval` calls.

Each case is classified:

  agree              cos gives OPA's want (result set, or an error of the
                     same class)
  refused: <reason>  cos failed with an error that names what it cannot
                     handle: a builtin it does not implement, a module it
                     does not compile, a time-out, a query form or input
                     this runner cannot pass to cos
  diverge: <what>    cos answered or failed otherwise than OPA, without
                     naming a limitation; "silent" when cos gave an answer
                     (a wrong result, or a result where OPA fails)

  run.py                 run and print the per-topic table
  run.py --json          the same as JSON (one object per case)
  run.py --check         compare with status.json; exit 1 on any change
  run.py --update        rewrite status.json from this run

Needs Python 3.11 and PyYAML (tests/interop/requirements.txt).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

import yaml

OPA_VERSION = "1.22.2"
HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
STATUS = HERE / "status.json"
# The per-call time limits: the engine's own (cos --timeout-ms), and the
# process's (a hang of the CLI itself).
EVAL_TIMEOUT_MS = 10_000
PROCESS_TIMEOUT_S = 20


# ---------------------------------------------------------------- loading


class _Loader(yaml.SafeLoader):
    """YAML as OPA's case loader reads it (go.yaml.in/yaml/v3, YAML 1.2):
    timestamps stay strings, only true/false (in three spellings) are
    booleans (`on`, `yes`, `no`, `off` are strings, unlike YAML 1.1);
    keys become strings."""


_Loader.yaml_implicit_resolvers = {
    k: [
        (tag, rx)
        for tag, rx in v
        if tag not in ("tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:bool")
    ]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
for _first in "tTfF":
    _Loader.yaml_implicit_resolvers.setdefault(_first, []).insert(
        0, ("tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"))
    )


def _json_like(v):
    if isinstance(v, dict):
        return {_key(k): _json_like(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_json_like(x) for x in v]
    return v


def _key(k) -> str:
    if isinstance(k, str):
        return k
    if isinstance(k, bool):
        return "true" if k else "false"
    if k is None:
        return "null"
    return str(k)


def suite_dir() -> Path:
    try:
        cache = subprocess.run(
            ["go", "env", "GOMODCACHE"], capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError) as e:
        sys.exit(f"run.py: cannot ask Go for its module cache ({e}); run scripts/oracles/opa.sh first")
    d = Path(cache) / "github.com/open-policy-agent" / f"opa@v{OPA_VERSION}" / "v1/test/cases/testdata/v1"
    if not d.is_dir():
        sys.exit(
            f"run.py: OPA's test cases are not in Go's module cache (no {d}).\n"
            f"scripts/oracles/opa.sh fills it when it builds OPA v{OPA_VERSION} (go install); "
            "if .oracles/bin/opa is already there but the cache was cleaned, run\n"
            f"  go mod download github.com/open-policy-agent/opa@v{OPA_VERSION}"
        )
    return d


def load_cases(root: Path) -> list[tuple[str, dict]]:
    """(case id, case) in a stable order: topic, file, then the file's order.
    Ids are <topic>/<file stem>/<note>, with #2, #3... for a repeated note."""
    out = []
    for f in sorted(root.glob("*/*.yaml")):
        doc = _json_like(yaml.load(f.read_text(encoding="utf-8"), Loader=_Loader)) or {}
        seen: dict[str, int] = {}
        for case in doc.get("cases") or []:
            base = f"{f.parent.name}/{f.stem}/{case.get('note', '')}"
            seen[base] = seen.get(base, 0) + 1
            cid = base if seen[base] == 1 else f"{base}#{seen[base]}"
            out.append((cid, case))
    return out


# ---------------------------------------------------------------- values


def _canon(v):
    """A JSON value with numbers as Decimal, so 1, 1.0 and 1e0 are equal as
    they are in Rego."""
    if isinstance(v, bool) or v is None or isinstance(v, str):
        return v
    if isinstance(v, (int, float)):
        return Decimal(repr(v)) if isinstance(v, float) else Decimal(v)
    if isinstance(v, Decimal):
        return v
    if isinstance(v, list):
        return [_canon(x) for x in v]
    if isinstance(v, dict):
        return {k: _canon(x) for k, x in v.items()}
    raise TypeError(f"not a JSON value: {v!r}")


def _rank(v) -> int:
    if v is None:
        return 0
    if isinstance(v, bool):
        return 1
    if isinstance(v, Decimal):
        return 2
    if isinstance(v, str):
        return 3
    if isinstance(v, list):
        return 4
    return 5


def rego_cmp(a, b) -> int:
    """Rego's order of JSON values: null < booleans < numbers < strings <
    arrays < objects; arrays element-wise, objects by sorted keys then values."""
    ra, rb = _rank(a), _rank(b)
    if ra != rb:
        return -1 if ra < rb else 1
    if ra in (1, 2, 3):
        return (a > b) - (a < b)
    if ra == 0:
        return 0
    if ra == 4:
        for x, y in zip(a, b):
            c = rego_cmp(x, y)
            if c:
                return c
        return (len(a) > len(b)) - (len(a) < len(b))
    ka, kb = sorted(a), sorted(b)
    for x, y in zip(ka, kb):
        if x != y:
            return -1 if x < y else 1
        c = rego_cmp(a[x], b[y])
        if c:
            return c
    return (len(ka) > len(kb)) - (len(ka) < len(kb))


def sort_rego(xs: list) -> list:
    import functools

    return sorted(xs, key=functools.cmp_to_key(rego_cmp))


def same_result_set(want: list[dict], got: list[dict]) -> bool:
    """Result sets compared as sets of binding objects, as OPA's runner does."""
    w = sort_rego(_dedup(want))
    g = sort_rego(_dedup(got))
    return len(w) == len(g) and all(rego_cmp(x, y) == 0 for x, y in zip(w, g))


def _dedup(xs: list) -> list:
    out: list = []
    for x in xs:
        if not any(rego_cmp(x, y) == 0 for y in out):
            out.append(x)
    return out


# ---------------------------------------------------------------- queries

IDENT = r"[A-Za-z_][A-Za-z0-9_]*"
REF = rf"data(?:\.{IDENT})*"
# `data.a.b = x` or `x = data.a.b`: one document, bound to one variable.
_DIRECT = [re.compile(rf"^\s*(?P<ref>{REF})\s*=\s*(?P<var>{IDENT})\s*$"),
           re.compile(rf"^\s*(?P<var>{IDENT})\s*=\s*(?P<ref>{REF})\s*$")]


def direct_parts(query: str) -> list[tuple[str, str]] | None:
    """The (document, variable) pairs of a query that is a conjunction of
    `data.PATH = var`; None for any other form."""
    parts = [p for p in re.split(r"[;\n]", query) if p.strip()]
    out = []
    for p in parts:
        for rx in _DIRECT:
            m = rx.match(p)
            if m and m["var"] not in ("data", "input", "_"):
                out.append((m["ref"], m["var"]))
                break
        else:
            return None
    return out or None


WRAP_PACKAGE = "cos_opa_suite_query"
WRAP_FILE = "cos-opa-suite-query.rego"


def wrap_module(query: str, names: list[str]) -> str:
    """Any other query, as the body of a partial set rule whose members are
    the binding objects of the variables OPA's want names."""
    obj = "{" + ", ".join(f'"{n}": {n}' for n in names) + "}"
    body = "\n".join("  " + line for line in query.strip().splitlines())
    return f"package {WRAP_PACKAGE}\n\nresults contains {obj} if {{\n{body}\n}}\n"


# ---------------------------------------------------------------- running


# cos's answer for an undefined document (a null result is a value).
UNDEFINED = object()


class CosError(Exception):
    def __init__(self, text: str):
        super().__init__(text)
        self.text = text


def cos_eval(cos: str, pack: Path, query: str, input_path: Path | None, strict: bool):
    """The document's value, or UNDEFINED; raises CosError."""
    cmd = [cos, "policy", "eval", "--pack", str(pack), "--query", query,
           "--timeout-ms", str(EVAL_TIMEOUT_MS)]
    if input_path is not None:
        cmd += ["--input", str(input_path)]
    if strict:
        cmd.append("--strict-builtin-errors")
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=PROCESS_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise CosError("cos: process timeout") from None
    if p.returncode != 0:
        raise CosError(p.stderr.strip() or f"exit {p.returncode}")
    out = json.loads(p.stdout, parse_float=Decimal, parse_int=Decimal)
    return out["result"] if "result" in out else UNDEFINED


def _short(msg: str, n: int = 60) -> str:
    """A stable short form of an engine message: no positions, paths,
    numbers or quoted values."""
    msg = re.sub(r"\S+\.rego(:\d+)*", "FILE", msg)
    msg = re.sub(r'"[^"]*"', '"…"', msg)
    # A backquoted name (a keyword, a variable) stays; a value does not.
    msg = re.sub(r"`[^`]*`", lambda m: m[0] if re.fullmatch(r"`([A-Za-z_][A-Za-z0-9_.]*|\S{1,3})`", m[0]) else "`…`", msg)
    msg = re.sub(r"\b\d+(\.\d+)?\b", "N", msg)
    msg = re.sub(r"\s+", " ", msg).strip()
    return msg[:n].rstrip()


def error_kind(text: str) -> tuple[str, str]:
    """(class, short reason) of cos's error output. Classes: builtin (a
    builtin cos does not implement), compile (the pack did not load),
    eval (evaluation failed), timeout, internal (a panic), other."""
    m = re.search(r"calls (\S+), an OPA builtin that cos", text)
    if m:
        return "builtin", f"builtin {m[1]}"
    m = re.search(r"calls (\S+), an OPA builtin that does I/O", text)
    if m:
        return "builtin", f"builtin {m[1]} (I/O)"
    m = re.search(r"rego_type_error: undefined function ([A-Za-z0-9_.]+)", text)
    if m:
        # (test.sleep: a builtin only OPA's own test runner registers)
        return "builtin", f"builtin {m[1]}"
    m = re.search(r"could not find function ([A-Za-z0-9_.]+)", text)
    if m:
        return "builtin", f"builtin {m[1]}"
    m = re.search(r"([A-Za-z0-9_.]+): not supported by this engine: ([^\n]*)", text)
    if m:
        # a builtin's typed refusal (LimitError::Unsupported): never a value
        return "builtin", _short(f"unsupported {m[1]}: {m[2]}")
    if "exceeded its time limit" in text or text == "cos: process timeout":
        return "timeout", "timeout"
    if "internal error" in text:
        return "internal", "panic: " + _short(text.split("report it):", 1)[-1])
    # The engine's message is the last `error: …` line of a located report,
    # else the text after the CLI's prefix.
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    detail = next((ln[len("error: "):] for ln in reversed(lines) if ln.startswith("error: ")), None)
    first = lines[0] if lines else text
    if detail is None:
        detail = first.split(": ", 2)[-1]
    if "evaluation of " in first and " failed" in first:
        return "eval", _short(detail)
    if re.match(r"cos: error: policy ", first):
        # cos's own OPA-parity checks report OPA's codes (rego_type_error,
        # ...) on the first line; the engine's parser and compiler report
        # a located message.
        m = re.search(r"(rego_[a-z_]+_error): (.*)", first)
        if m:
            return "check", _short(f"{m[1]}: {m[2]}")
        if re.match(r"(expecting|unexpected|invalid|unterminated|missing)\b", detail):
            return "parse", "parse: " + _short(detail)
        return "compile", "compile: " + _short(detail)
    return "other", _short(first.removeprefix("cos: error: "))


def run_case(cos: str, case: dict) -> tuple[str, dict]:
    """(classification, details) of one case."""
    query = case.get("query", "")
    want_code = case.get("want_error_code")
    want_text = case.get("want_error")
    want_error = want_code is not None or want_text is not None
    want = case.get("want_result")
    strict = bool(case.get("strict_error"))
    info: dict = {"query": query}

    if case.get("env"):
        return "refused: env", info
    if case.get("experimental_keywords"):
        return "refused: experimental keywords", info

    # input: `input` as JSON, or `input_term` when it is JSON-compatible.
    # An input_term that is not JSON (a set, say) is a Rego term: the query
    # is wrapped and evaluated `with input as <term>`, as one statement.
    input_value, has_input, term_input = None, False, None
    if "input_term" in case:
        try:
            input_value, has_input = json.loads(case["input_term"]), True
        except ValueError:
            if "\n" in query.strip() or ";" in query:
                return "refused: input_term not JSON", info
            term_input = case["input_term"]
    elif "input" in case:
        input_value, has_input = case["input"], True

    parts = None if term_input is not None else direct_parts(query)
    if term_input is not None:
        query = f"{query.strip()} with input as {term_input}"
    names = sorted({k for b in (want or []) for k in b
                    if not (case.get("ignore_generated_vars") and k.startswith("__localq"))})
    info["form"] = "direct" if parts else "wrapped"

    tmp = Path(tempfile.mkdtemp(prefix="cos-opa-suite-"))
    try:
        pack = tmp / "bundle"
        pack.mkdir()
        for i, m in enumerate(case.get("modules") or []):
            (pack / f"test-{i}.rego").write_text(m, encoding="utf-8")
        if case.get("data") is not None:
            (pack / "data.json").write_text(json.dumps(case["data"]), encoding="utf-8")
        input_path = None
        if has_input:
            input_path = tmp / "input.json"
            input_path.write_text(json.dumps(input_value), encoding="utf-8")

        try:
            if parts:
                binding: dict = {}
                got: list[dict] = [binding]
                for ref, var in parts:
                    v = cos_eval(cos, pack, ref, input_path, strict)
                    if v is UNDEFINED:
                        got = []
                        break
                    v = _canon(v)
                    if var in binding and rego_cmp(binding[var], v) != 0:
                        got = []
                        break
                    binding[var] = v
            else:
                (pack / WRAP_FILE).write_text(wrap_module(query, names), encoding="utf-8")
                v = cos_eval(cos, pack, f"data.{WRAP_PACKAGE}.results", input_path, strict)
                got = [] if v is UNDEFINED else [_canon(b) for b in v]
        except CosError as e:
            kind, reason = error_kind(e.text)
            info["cos_error"] = e.text
            if want_error and kind == "eval":
                return "agree", info
            if kind in ("builtin", "timeout", "parse", "compile"):
                # (a parse error in the wrapper module is the query's own
                # syntax: string interpolation, for one)
                return f"refused: {reason}", info
            if want_error:
                return f"diverge: {kind} error ({reason}), OPA {want_code or 'error'}", info
            return f"diverge: {kind} error ({reason})", info
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    if case.get("sort_bindings"):
        got = [{k: sort_rego(v) if isinstance(v, list) else v for k, v in b.items()} for b in got]
    info["got"] = got
    if want_error:
        return f"diverge: silent: result where OPA has {want_code or 'an error'}", info
    if want is None:
        return "refused: no want", info
    if same_result_set(_canon(want), got):
        return "agree", info
    if not got:
        return "diverge: silent: undefined where OPA has a result", info
    if not want:
        return "diverge: silent: result where OPA has undefined", info
    return "diverge: silent: other result", info


# ---------------------------------------------------------------- reporting


def topic_of(cid: str) -> str:
    return cid.split("/", 1)[0]


def bucket(status: str) -> str:
    return status.split(":", 1)[0]


def table(results: dict[str, str]) -> str:
    rows: dict[str, list[int]] = {}
    for cid, s in results.items():
        r = rows.setdefault(topic_of(cid), [0, 0, 0, 0, 0])
        r[0] += 1
        b = bucket(s)
        r[1 + ["agree", "refused", "diverge"].index(b)] += 1
        if s.startswith("diverge: silent"):
            r[4] += 1
    total = [sum(r[i] for r in rows.values()) for i in range(5)]
    w = max([len(t) for t in rows] + [5])
    lines = [f"{'topic':<{w}}  {'cases':>5}  {'agree':>5}  {'refused':>7}  {'diverge':>7}  {'silent':>6}"]
    for t in sorted(rows):
        r = rows[t]
        lines.append(f"{t:<{w}}  {r[0]:>5}  {r[1]:>5}  {r[2]:>7}  {r[3]:>7}  {r[4]:>6}")
    lines.append(f"{'total':<{w}}  {total[0]:>5}  {total[1]:>5}  {total[2]:>7}  {total[3]:>7}  {total[4]:>6}")
    pct = 100 * total[1] / total[0] if total[0] else 0
    lines.append(f"agree: {pct:.1f} % of {total[0]} cases")
    return "\n".join(lines)


def reasons(results: dict[str, str]) -> str:
    counts: dict[str, int] = {}
    for s in results.values():
        if s != "agree":
            counts[s] = counts.get(s, 0) + 1
    top = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return "\n".join(f"{n:>5}  {s}" for s, n in top)


def check(results: dict[str, str], recorded: dict[str, str]) -> list[str]:
    """What changed versus the status file, one line each."""
    out = []
    for cid in sorted(set(results) | set(recorded)):
        now, was = results.get(cid), recorded.get(cid)
        if was is None:
            out.append(f"new case: {cid}: {now}")
        elif now is None:
            out.append(f"case gone: {cid} (was {was})")
        elif was == "agree" and now != "agree":
            out.append(f"REGRESSION: {cid}: agreed, now {now}")
        elif was != "agree" and now == "agree":
            out.append(f"now agrees: {cid} (was {was})")
        elif bucket(was) != bucket(now) or (bucket(now) == "diverge" and was != now):
            out.append(f"changed: {cid}: {was} -> {now}")
    return out


def drift(results: dict[str, str], recorded: dict[str, str]) -> list[str]:
    """Refusals whose reason changed (not a failure: shown, and kept by
    --update)."""
    return [f"{cid}: {recorded[cid]} -> {s}" for cid, s in sorted(results.items())
            if cid in recorded and s != recorded[cid]
            and bucket(s) == bucket(recorded[cid]) == "refused"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cos", default=os.environ.get("COS_BIN", str(ROOT / "target/debug/cos")))
    ap.add_argument("--jobs", type=int, default=3)
    ap.add_argument("--json", action="store_true", help="print every case's result as JSON")
    ap.add_argument("--check", action="store_true", help="fail when results differ from status.json")
    ap.add_argument("--update", action="store_true", help="rewrite status.json")
    ap.add_argument("--filter", default="", help="only case ids containing this")
    ap.add_argument("--reasons", action="store_true", help="also print the non-agreeing classes by count")
    args = ap.parse_args()
    if not Path(args.cos).is_file():
        sys.exit(f"run.py: no cos binary at {args.cos} (set COS_BIN or build cos-cli)")

    started = time.monotonic()
    cases = [(cid, c) for cid, c in load_cases(suite_dir()) if args.filter in cid]
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        outcomes = list(pool.map(lambda ic: run_case(args.cos, ic[1]), cases))
    results = {cid: s for (cid, _), (s, _) in zip(cases, outcomes)}
    elapsed = time.monotonic() - started

    if args.json:
        rows = [{"id": cid, "status": s, **_jsonable(i)} for (cid, _), (s, i) in zip(cases, outcomes)]
        json.dump({"opa": OPA_VERSION, "cases": rows}, sys.stdout, indent=1, sort_keys=True)
        print()
    else:
        print(table(results))
        if args.reasons:
            print("\n" + reasons(results))
    print(f"{len(cases)} cases in {elapsed:.0f} s", file=sys.stderr)

    if args.update:
        if args.filter:
            sys.exit("run.py: --update needs the whole suite (no --filter)")
        STATUS.write_text(json.dumps({"opa": OPA_VERSION, "cases": dict(sorted(results.items()))},
                                     indent=1, ensure_ascii=False, sort_keys=True) + "\n",
                          encoding="utf-8")
        print(f"wrote {STATUS.relative_to(ROOT)}", file=sys.stderr)
    if args.check:
        recorded = json.loads(STATUS.read_text(encoding="utf-8"))
        if recorded.get("opa") != OPA_VERSION:
            print(f"status.json is for OPA {recorded.get('opa')}, the runner pins {OPA_VERSION}", file=sys.stderr)
            return 1
        rec = recorded["cases"]
        if args.filter:
            rec = {k: v for k, v in rec.items() if args.filter in k}
        changes = check(results, rec)
        notes = drift(results, rec)
        if notes:
            print(f"\nOPA suite: {len(notes)} refusal(s) now give another reason (not a failure):", file=sys.stderr)
            for line in notes:
                print("  " + line, file=sys.stderr)
        if changes:
            print(f"\nOPA suite: {len(changes)} case(s) differ from tests/opa-suite/status.json:", file=sys.stderr)
            for line in changes:
                print("  " + line, file=sys.stderr)
            print("If the change is intended (a fix, or a new case), rewrite the file with\n"
                  "  python3 tests/opa-suite/run.py --update\n"
                  "and commit it; a regression or a new divergence needs a fix instead.", file=sys.stderr)
            return 1
        print("OPA suite: every case as tests/opa-suite/status.json records it", file=sys.stderr)
    return 0


def _jsonable(info: dict) -> dict:
    def conv(v):
        if isinstance(v, Decimal):
            return int(v) if v == v.to_integral_value() and "E" not in str(v) else float(v)
        if isinstance(v, list):
            return [conv(x) for x in v]
        if isinstance(v, dict):
            return {k: conv(x) for k, x in v.items()}
        return v
    return conv(info)


if __name__ == "__main__":
    sys.exit(main())
