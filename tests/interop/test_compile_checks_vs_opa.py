"""cos's compile-time conflict checks against the real OPA, on generated packs.

Each generated case is one to three modules built from the rule forms ABAC
policies use (complete rules, conditional ones, `default`, partial sets and
objects, functions of one and two arguments, ref heads), in packages that
may nest (`p`, `p.q`, `q`), with a data document that may sit on a rule's
path. OPA (`opa eval -d DIR true`, which compiles the modules and checks data
against rules as bundle activation does) and `cos policy check` must agree:
both accept, or both refuse with the same class of error (`rego_type_error`,
`rego_compile_error`, ...). A fixed seed keeps CI's run the same; set
COS_COMPILE_DIFF_CASES / COS_COMPILE_DIFF_SEED to run longer or elsewhere
(docs/policy-opa-parity.md).
"""

from __future__ import annotations

import json
import os
import random
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from test_opa_bundles import describe, opa_bin, run  # noqa: F401 (fixture)

CASES = int(os.environ.get("COS_COMPILE_DIFF_CASES", "240"))
SEED = int(os.environ.get("COS_COMPILE_DIFF_SEED", "18"))

NAMES = ["a", "b", "q"]
VALUES = ["1", "2", '"x"', "true", "{}", "[1]"]


def rule(rng: random.Random) -> str:
    name = rng.choice(NAMES)
    value = rng.choice(VALUES)
    forms = [
        f"{name} := {value}",
        f"{name} := {value} if input.x == {rng.randint(1, 3)}",
        f"default {name} := {value}",
        f"{name} if input.x",
        f"{name} contains {value} if input.x",
        f"{name}[k] := {value} if some k in input.ks",
        f"{name}[k] if some k in input.ks",
        f"{name}[k] contains {value} if some k in input.ks",
        f"{name}(x) := x",
        f"{name}(x, y) := y",
        f"default {name}(_) := {value}",
        f"{name}.{rng.choice(['r', 's'])} := {value}",
        f"{name}.r.s := {value}",
    ]
    return rng.choice(forms)


def data(rng: random.Random):
    options = [
        None,
        {},
        {"p": {"a": 1}},
        {"p": 5},
        {"p": {"q": {"b": []}}},
        {"p": {"other": {"x": 1}}},
        {"q": {"r": 1}},
        {"p": {"a": {"r": {}}}},
        {"p": {"q": "text"}},
    ]
    return rng.choice(options)


def case(rng: random.Random) -> tuple[dict[str, str], object]:
    modules = {}
    for i in range(rng.randint(1, 3)):
        package = rng.choice(["p", "p", "p.q", "q"])
        rules = "\n\n".join(rule(rng) for _ in range(rng.randint(1, 4)))
        modules[f"m{i}.rego"] = f"package {package}\n\n{rules}\n"
    return modules, data(rng)


CODE = re.compile(r"rego_[a-z_]+_error")


def opa_codes(opa: Path, d: Path) -> set[str] | None:
    p = run([opa, "eval", "--format", "json", "-d", d, "true"])
    if p.returncode == 0:
        return None
    try:
        errors = json.loads(p.stdout)["errors"]
        return {e["code"] for e in errors}
    except (ValueError, KeyError, TypeError):
        return set(CODE.findall(p.stdout + p.stderr)) or {"<unparsed>"}


def cos_code(cos: Path, d: Path) -> str | None:
    p = run([cos, "policy", "check", d])
    if p.returncode == 0:
        return None
    found = CODE.findall(p.stderr)
    # regorus's own parse errors carry no OPA code.
    return found[0] if found else f"<cos exit {p.returncode}: {p.stderr.strip()[:200]}>"


def test_conflict_checks_agree_with_opa(cos_bin, opa_bin, tmp_path):
    rng = random.Random(SEED)
    cases = [case(rng) for _ in range(CASES)]

    def judge(i_case):
        i, (modules, doc) = i_case
        d = tmp_path / f"case-{i}"
        d.mkdir()
        for name, src in modules.items():
            (d / name).write_text(src)
        if doc is not None:
            (d / "data.json").write_text(json.dumps(doc))
        want = opa_codes(opa_bin, d)
        # The same files as a cos pack (no roots: it owns every path).
        (d / "manifest.yaml").write_text("name: diff\nversion: 1.0.0\nrevision: r1\n")
        if doc is not None:
            (d / "data").mkdir()
            (d / "data.json").rename(d / "data" / "data.json")
        got = cos_code(cos_bin, d)
        agree = (want is None and got is None) or (want is not None and got in want)
        return i, modules, doc, want, got, agree

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(judge, enumerate(cases)))
    refused = sum(1 for r in results if r[3] is not None)
    bad = [r for r in results if not r[5]]
    report = "\n\n".join(
        f"case {i}: OPA {want or 'accepts'}, cos {got or 'accepts'}\n"
        + "\n".join(f"--- {n}\n{s}" for n, s in modules.items())
        + f"\n--- data: {json.dumps(doc)}"
        for i, modules, doc, want, got, _ in bad[:5]
    )
    assert not bad, f"{len(bad)} of {len(results)} generated packs judged differently:\n{report}"
    # The generator must exercise both sides.
    assert 0.2 * len(results) < refused < 0.9 * len(results), refused
