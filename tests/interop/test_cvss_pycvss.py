"""CVSS scores of the CVE gate against PyPI `cvss` (Red Hat's library).

`cos gate cvss --json` scores each vector with the code the gate uses
(cos_supplychain::vuln::score_vector, the RustSec `cvss` crate behind a
strict v3 parser; ADR-0010). Its scores must equal `cvss.CVSS3(v).base_score`
and `cvss.CVSS4(v).base_score`, and its severities PyPI's, on:

- the examples FIRST publishes with its v3.0, v3.1 and v4.0 specifications
  (data/cvss_first_examples.json), which must also score as FIRST says;
- every one of the 2,592 CVSS v3.0 and v3.1 base vectors;
- v3.1 vectors with random temporal and environmental metrics (fixed seed):
  the base score ignores them, as PyPI's `base_score` does;
- v4.0 vectors, random with a fixed seed: base metrics only, and with
  threat, environmental and supplemental metrics.

Vectors both must refuse are refused by both.
"""

from __future__ import annotations

import itertools
import json
import random
from decimal import Decimal
from pathlib import Path

import cvss
import pytest
from cvss import CVSS3, CVSS4

DATA = Path(__file__).resolve().parent / "data" / "cvss_first_examples.json"
SEED = 20261201
N_V3_EXTENDED = 1500
N_V4_BASE = 2500
N_V4_FULL = 2500

V3_BASE = [
    ("AV", "NALP"),
    ("AC", "LH"),
    ("PR", "NLH"),
    ("UI", "NR"),
    ("S", "UC"),
    ("C", "HLN"),
    ("I", "HLN"),
    ("A", "HLN"),
]
V3_EXTRA = [
    ("E", "XUPFH"),
    ("RL", "XOTWU"),
    ("RC", "XURC"),
    ("CR", "XLMH"),
    ("IR", "XLMH"),
    ("AR", "XLMH"),
    ("MAV", "XNALP"),
    ("MAC", "XLH"),
    ("MPR", "XNLH"),
    ("MUI", "XNR"),
    ("MS", "XUC"),
    ("MC", "XNLH"),
    ("MI", "XNLH"),
    ("MA", "XNLH"),
]
V4_BASE = [
    ("AV", ["N", "A", "L", "P"]),
    ("AC", ["L", "H"]),
    ("AT", ["N", "P"]),
    ("PR", ["N", "L", "H"]),
    ("UI", ["N", "P", "A"]),
    ("VC", ["H", "L", "N"]),
    ("VI", ["H", "L", "N"]),
    ("VA", ["H", "L", "N"]),
    ("SC", ["H", "L", "N"]),
    ("SI", ["H", "L", "N"]),
    ("SA", ["H", "L", "N"]),
]
# In the specification's order: threat, environmental, supplemental.
V4_EXTRA = [
    ("E", ["X", "A", "P", "U"]),
    ("CR", ["X", "H", "M", "L"]),
    ("IR", ["X", "H", "M", "L"]),
    ("AR", ["X", "H", "M", "L"]),
    ("MAV", ["X", "N", "A", "L", "P"]),
    ("MAC", ["X", "L", "H"]),
    ("MAT", ["X", "N", "P"]),
    ("MPR", ["X", "N", "L", "H"]),
    ("MUI", ["X", "N", "P", "A"]),
    ("MVC", ["X", "H", "L", "N"]),
    ("MVI", ["X", "H", "L", "N"]),
    ("MVA", ["X", "H", "L", "N"]),
    ("MSC", ["X", "H", "L", "N"]),
    ("MSI", ["X", "S", "H", "L", "N"]),
    ("MSA", ["X", "S", "H", "L", "N"]),
    ("S", ["X", "N", "P"]),
    ("AU", ["X", "N", "Y"]),
    ("R", ["X", "A", "U", "I"]),
    ("V", ["X", "D", "C"]),
    ("RE", ["X", "L", "M", "H"]),
    ("U", ["X", "Clear", "Green", "Amber", "Red"]),
]


def cos_scores(run_cos, vectors: list[str]) -> list[dict]:
    """Scores from `cos gate cvss --json`, vectors on standard input."""
    result = run_cos("gate", "cvss", "--json", input="\n".join(vectors).encode() + b"\n")
    out = json.loads(result.stdout)
    assert len(out) == len(vectors), result.describe()
    return out


def py_score(vector: str) -> tuple[Decimal, str]:
    """PyPI cvss: (base score, severity) of a vector. CVSS3 gives a Decimal,
    CVSS4 a float: both as a Decimal of their one-decimal text."""
    if vector.startswith("CVSS:4.0/"):
        c = CVSS4(vector)
        return Decimal(str(c.base_score)), c.severity.lower()
    c = CVSS3(vector)
    return Decimal(str(c.base_score)), c.severities()[0].lower()


def assert_agree(run_cos, vectors: list[str]) -> None:
    ours = cos_scores(run_cos, vectors)
    mismatches = []
    for vector, got in zip(vectors, ours):
        want, severity = py_score(vector)
        if "error" in got:
            mismatches.append(f"{vector}: cos refused it ({got['error']}), PyPI cvss scores {want}")
        elif Decimal(str(got["score"])) != want or got["severity"] != severity:
            mismatches.append(
                f"{vector}: cos {got['score']} {got['severity']}, PyPI cvss {want} {severity}"
            )
    assert not mismatches, f"{len(mismatches)} of {len(vectors)} differ:\n" + "\n".join(mismatches[:20])


def test_first_examples_score_as_published(run_cos):
    examples = json.loads(DATA.read_text())["examples"]
    vectors = [e["vector"] for e in examples]
    ours = cos_scores(run_cos, vectors)
    wrong = []
    for e, got in zip(examples, ours):
        want = Decimal(str(e["score"]))
        py, _ = py_score(e["vector"])
        if got.get("score") is None or Decimal(str(got["score"])) != want or py != want:
            wrong.append(f"{e['vector']}: FIRST {want}, cos {got.get('score', got)}, PyPI cvss {py}")
    assert not wrong, "\n".join(wrong)
    assert len(examples) >= 70


@pytest.mark.parametrize("minor", ["3.0", "3.1"])
def test_every_v3_base_vector(run_cos, minor):
    vectors = [
        f"CVSS:{minor}/" + "/".join(f"{m}:{v}" for (m, _), v in zip(V3_BASE, values))
        for values in itertools.product(*(vals for _, vals in V3_BASE))
    ]
    assert len(vectors) == 2592
    assert_agree(run_cos, vectors)


def test_v31_with_temporal_and_environmental_metrics(run_cos):
    rng = random.Random(SEED)
    vectors = []
    for _ in range(N_V3_EXTENDED):
        parts = [f"{m}:{rng.choice(vals)}" for m, vals in V3_BASE]
        parts += [f"{m}:{rng.choice(vals)}" for m, vals in V3_EXTRA if rng.random() < 0.5]
        vectors.append("CVSS:3.1/" + "/".join(parts))
    assert_agree(run_cos, vectors)


def test_v4_base_vectors(run_cos):
    rng = random.Random(SEED + 4)
    vectors = [
        "CVSS:4.0/" + "/".join(f"{m}:{rng.choice(vals)}" for m, vals in V4_BASE)
        for _ in range(N_V4_BASE)
    ]
    assert_agree(run_cos, vectors)


def test_v4_vectors_with_threat_environmental_and_supplemental_metrics(run_cos):
    rng = random.Random(SEED + 40)
    vectors = []
    for _ in range(N_V4_FULL):
        parts = [f"{m}:{rng.choice(vals)}" for m, vals in V4_BASE]
        parts += [f"{m}:{rng.choice(vals)}" for m, vals in V4_EXTRA if rng.random() < 0.4]
        vectors.append("CVSS:4.0/" + "/".join(parts))
    assert_agree(run_cos, vectors)


INVALID = [
    "",
    "CVSS:3.1",
    "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H",
    "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:X",
    "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/A:H",
    "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/XX:Y",
    "CVSS:3.1/AV:Q/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
    "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N",
    "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/SA:N",
    "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/E:Q",
]


@pytest.mark.parametrize("vector", [v for v in INVALID if v])
def test_both_refuse_invalid_vectors(run_cos, vector):
    got = cos_scores(run_cos, [vector])[0]
    assert got.get("code") == "invalid_cvss_vector", got
    with pytest.raises(cvss.exceptions.CVSSError):
        py_score(vector)
