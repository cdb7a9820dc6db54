"""RFC 8785 (JCS) interop: `cos canon` must be byte-identical to PyPI `rfc8785`.

Documents are generated with fixed seeds, written by Python's `json` module in
randomly chosen styles (indentation, separators, \\u escapes, key order), and
each file is canonicalised by `cos canon`. The expected bytes are
`rfc8785.dumps(document)`.

Also checked: the I-JSON / precision rules of ADR-0003 (duplicate names, lone
surrogates, integers a double would round, non-finite numbers: exit 2).
"""

from __future__ import annotations

import json
import math
import random
import struct
from pathlib import Path

import pytest
import rfc8785

SEED = 8785
N_DOCUMENTS = 1200
MAX_DEPTH = 4
MAX_SAFE_INT = 2**53 - 1

AWKWARD_FLOATS = [
    1e21,
    1e-7,
    5e-324,
    -0.0,
    0.0,
    1.7976931348623157e308,
    -1.7976931348623157e308,
    2.2250738585072014e-308,  # smallest normal
    2.225073858507201e-308,  # largest subnormal
    0.1,
    1 / 3,
    -2 / 3,
    123456789012345680000.0,
    9.999999999999997e22,
    1e20,
    1e22,
    1e23,
    999999999999999900000.0,
    float(2**53),
    float(2**53 + 2),
    -float(2**53),
    float(MAX_SAFE_INT),
    1e-6,
    1.5e-7,
    0.000001,
    4.35,
    0.5,
    295147905179352830000.0,
    333333333.3333333,
    1e300,
    1e-300,
    math.pi,
    -math.e,
]

# Character pools for strings (keys and values). Lone surrogates are never
# produced: a JSON text with one is not I-JSON (tested separately below).
CHAR_POOLS = [
    [chr(c) for c in range(0x20, 0x7F)],  # printable ASCII
    [chr(c) for c in range(0x00, 0x20)],  # control characters
    ['"', "\\", "/", "\x7f", "\u2028", "\u2029", "\u0085", "\u00a0", "\ufeff"],
    [chr(c) for c in range(0x00A1, 0x0250)],  # Latin-1 and Latin Extended
    ["\u0301", "\u0308", "\u200d", "\ufe0f"],  # combining marks, ZWJ, VS16
    [chr(c) for c in range(0x4E00, 0x4E00 + 600)],  # CJK
    [chr(c) for c in range(0x3040, 0x30A0)],  # Hiragana
    [chr(c) for c in range(0xE000, 0xE010)] + [chr(c) for c in range(0xFF61, 0xFF70)]
    + ["\ufffd", "\uffff", "\ufffe"],  # BMP above the surrogates: sorts after them in UTF-16
    [chr(c) for c in range(0x1F600, 0x1F650)],  # emoji (non-BMP)
    ["\U00010000", "\U0001d11e", "\U00020000", "\U0002a6d6", "\U000e0001", "\U0010ffff"],
]


def random_string(rng: random.Random, max_len: int = 12) -> str:
    n = rng.choice([0, 1, 1, 2, 3, 5, 8, max_len])
    return "".join(rng.choice(rng.choice(CHAR_POOLS)) for _ in range(n))


def random_float_bits(rng: random.Random) -> float:
    while True:
        (f,) = struct.unpack("<d", rng.getrandbits(64).to_bytes(8, "little"))
        if math.isfinite(f):
            return f


def random_number(rng: random.Random):
    kind = rng.randrange(8)
    if kind == 0:
        return rng.randint(-MAX_SAFE_INT, MAX_SAFE_INT)
    if kind == 1:
        return rng.choice([0, 1, -1, MAX_SAFE_INT, -MAX_SAFE_INT, 2**31, -(2**31), 10**15])
    if kind == 2:
        return rng.randint(-1000, 1000)
    if kind == 3:
        return rng.choice(AWKWARD_FLOATS)
    if kind in (4, 5):
        return random_float_bits(rng)
    if kind == 6:
        # Decimal-looking floats of every magnitude (finite ones only).
        while True:
            f = float(f"{rng.randint(0, 10 ** rng.randint(1, 17))}e{rng.randint(-330, 300)}")
            if math.isfinite(f):
                return f
    return rng.uniform(-1e6, 1e6)


def random_scalar(rng: random.Random):
    kind = rng.randrange(10)
    if kind < 4:
        return random_string(rng)
    if kind < 8:
        return random_number(rng)
    return rng.choice([True, False, None])


def random_value(rng: random.Random, depth: int):
    if depth >= MAX_DEPTH or rng.random() < 0.3:
        return random_scalar(rng)
    if rng.random() < 0.5:
        return [random_value(rng, depth + 1) for _ in range(rng.randint(0, 6))]
    obj = {}
    for _ in range(rng.randint(0, 7)):
        obj[random_string(rng, 6)] = random_value(rng, depth + 1)
    return obj


def random_document(rng: random.Random):
    top = rng.random()
    if top < 0.45:
        return {random_string(rng, 6): random_value(rng, 1) for _ in range(rng.randint(0, 8))}
    if top < 0.9:
        return [random_value(rng, 1) for _ in range(rng.randint(0, 8))]
    return random_scalar(rng)


def shuffled(value, rng: random.Random):
    """The same document with every object's member order shuffled."""
    if isinstance(value, dict):
        items = list(value.items())
        rng.shuffle(items)
        return {k: shuffled(v, rng) for k, v in items}
    if isinstance(value, list):
        return [shuffled(v, rng) for v in value]
    return value


def random_text(doc, rng: random.Random) -> bytes:
    """`doc` as JSON text in a random style of Python's json module."""
    indent = rng.choice([None, None, 0, 1, 2, 4, "\t"])
    if indent is None:
        separators = rng.choice([(",", ":"), (", ", ": "), (" ,  ", " :\t")])
    else:
        separators = rng.choice([(",", ": "), (",", ":"), (" ,", " : ")])
    ensure_ascii = rng.choice([True, False])
    text = json.dumps(
        shuffled(doc, rng),
        indent=indent,
        separators=separators,
        ensure_ascii=ensure_ascii,
        allow_nan=False,
    )
    text = rng.choice(["", " ", "\n", "\r\n\t"]) + text + rng.choice(["", "\n", " \r\n"])
    return text.encode("utf-8")


def canon_each(run_cos, paths: list[Path]) -> list:
    return [run_cos("canon", p) for p in paths]


def first_difference(a: bytes, b: bytes) -> int:
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return i
    return min(len(a), len(b))


# --------------------------------------------------------------------------


def test_generated_documents_match_rfc8785(run_cos, tmp_path):
    rng = random.Random(SEED)
    cases = []
    for i in range(N_DOCUMENTS):
        doc = random_document(rng)
        text = random_text(doc, rng)
        # The text parses back to the same document (as Python sees it).
        assert json.loads(text) == doc, f"document {i}: generator error, text does not round-trip"
        path = tmp_path / f"doc-{i:05d}.json"
        path.write_bytes(text)
        cases.append((i, path, text, rfc8785.dumps(doc)))

    mismatches = []
    for (i, path, text, expected), r in zip(cases, canon_each(run_cos, [c[1] for c in cases])):
        if r.returncode != 0 or r.stdout != expected:
            mismatches.append((i, text, expected, r))

    if mismatches:
        lines = [f"{len(mismatches)} of {len(cases)} documents differ from rfc8785 (seed {SEED}):"]
        for i, text, expected, r in mismatches[:5]:
            at = first_difference(expected, r.stdout)
            lines += [
                f"--- document {i}: exit {r.returncode}, first difference at byte {at}",
                f"  input:    {text[:400]!r}",
                f"  rfc8785:  {expected[:400]!r}",
                f"  cos:      {r.stdout[:400]!r}",
                f"  around:   rfc8785 {expected[max(0, at - 40):at + 40]!r}",
                f"            cos     {r.stdout[max(0, at - 40):at + 40]!r}",
                f"  stderr:   {r.stderr.decode('utf-8', 'replace')[:300]}",
            ]
        pytest.fail("\n".join(lines), pytrace=False)


def test_awkward_floats_each_alone(run_cos, tmp_path):
    """Every awkward float as a top-level number, in a one-element array and as a member."""
    failures = []
    for i, f in enumerate(AWKWARD_FLOATS):
        for j, doc in enumerate([f, [f], {"n": f}]):
            text = json.dumps(doc).encode()
            path = tmp_path / f"f-{i}-{j}.json"
            path.write_bytes(text)
            r = run_cos("canon", path)
            expected = rfc8785.dumps(doc)
            if r.returncode != 0 or r.stdout != expected:
                failures.append(f"{text!r}: rfc8785 {expected!r}, cos exit {r.returncode} {r.stdout!r}")
    assert not failures, "\n".join(failures)


def _random_decimal_literal(rng: random.Random) -> str:
    """A JSON number literal that is not Python's shortest repr: many digits,
    odd exponents, upper-case E, explicit + sign, leading zeros in the exponent."""
    sign = rng.choice(["", "-"])
    digits = "".join(rng.choice("0123456789") for _ in range(rng.randint(1, 40)))
    int_part = digits.lstrip("0") or "0"
    frac = "".join(rng.choice("0123456789") for _ in range(rng.randint(0, 25)))
    lit = sign + int_part
    if frac:
        lit += "." + frac
    exp = rng.randint(-360, 330)
    e = rng.choice(["e", "E"])
    esign = "-" if exp < 0 else rng.choice(["", "+"])
    lit += f"{e}{esign}{str(abs(exp)).zfill(rng.choice([1, 3]))}"
    return lit


# Correct-rounding edge cases, as literals (Python's float() rounds correctly).
HARD_LITERALS = [
    "2.2250738585072011e-308",
    "2.2250738585072012e-308",
    "4.9406564584124654e-324",
    "2.4703282292062328e-324",
    "1.7976931348623158e308",
    "9007199254740993.0",  # halfway between two doubles: ties to even
    "9007199254740995.0",
    "0.1000000000000000055511151231257827021181583404541015625",
    "1.00000000000000011102230246251565404236316680908203125",  # exact halfway, ties to even
    "1.00000000000000011102230246251565404236316680908203126",  # just above halfway
    "123456789012345678901234567890e-10",
    "1E21",
    "1e+021",
    "100e-2",
    "0.0000001",
    "-0.0",
    "-0e0",
    "0.0e-999",
    "1e-400",
]


def test_number_literals_are_correctly_rounded(run_cos, tmp_path):
    rng = random.Random(SEED + 1)
    literals = list(HARD_LITERALS)
    while len(literals) < 2000:
        lit = _random_decimal_literal(rng)
        if math.isfinite(float(lit)):
            literals.append(lit)

    chunk = 200
    failures = []
    for start in range(0, len(literals), chunk):
        part = literals[start : start + chunk]
        path = tmp_path / f"nums-{start}.json"
        path.write_bytes(("[" + ",\n".join(part) + "]").encode())
        expected = rfc8785.dumps([float(x) for x in part])
        r = run_cos("canon", path)
        if r.returncode != 0:
            failures.append(f"chunk {start}: cos exit {r.returncode}: {r.stderr!r}")
            continue
        if r.stdout != expected:
            got = r.stdout.decode().strip("[]").split(",")
            want = expected.decode().strip("[]").split(",")
            for lit, g, w in zip(part, got, want):
                if g != w:
                    failures.append(f"literal {lit}: rfc8785 {w}, cos {g}")
            if len(got) != len(want):
                failures.append(f"chunk {start}: {len(got)} numbers from cos, {len(want)} expected")
    assert not failures, "\n".join(failures[:40])


def test_large_integer_in_ecmascript_form_is_accepted(run_cos, tmp_path):
    # ADR-0003: an integer literal beyond 2^53 is accepted only if it is exactly
    # what ECMAScript prints for that double; it then canonicalises like the double.
    for lit, value in [("100000000000000000000", 1e20), ("9007199254740992", 2.0**53)]:
        path = tmp_path / "big.json"
        path.write_bytes(f"[{lit}]".encode())
        r = run_cos("canon", path)
        assert r.returncode == 0, r.describe()
        assert r.stdout == rfc8785.dumps([value]), r.describe()


REJECTED = [
    ("duplicate-key", b'{"a":1,"a":2}'),
    ("duplicate-key-nested", b'{"x":[{"b":true,"b":true}]}'),
    ("duplicate-key-via-escape", b'{"a":1,"\\u0061":2}'),
    ("unsafe-integer", b"[9007199254740993]"),
    ("unsafe-negative-integer", b"[-9007199254740993]"),
    ("unsafe-big-integer", b'{"n":123456789012345678901234567890}'),
    ("lone-high-surrogate", b'["\\ud800"]'),
    ("lone-low-surrogate", b'["\\udc00"]'),
    ("reversed-surrogates", b'["\\udc00\\ud800"]'),
    ("lone-surrogate-in-key", b'{"\\ud83d":1}'),
    ("overflow-to-infinity", b"[1e400]"),
    ("invalid-utf8", b'["\xff"]'),
    ("raw-control-char", b'["a\x01b"]'),
    ("trailing-garbage", b"[1] [2]"),
]


@pytest.mark.parametrize("text", [t for _, t in REJECTED], ids=[n for n, _ in REJECTED])
def test_non_i_json_input_is_rejected_with_exit_2(run_cos, tmp_path, text):
    path = tmp_path / "bad.json"
    path.write_bytes(text)
    r = run_cos("canon", path)
    assert r.returncode == 2, f"input {text!r}:\n{r.describe()}"
    assert r.stdout == b"", f"input {text!r}: cos wrote output despite failing:\n{r.describe()}"


def test_stdin_and_file_agree(run_cos, tmp_path):
    doc = {"b": [1, 2.5, "\u2028"], "a": {"\U0001f600": None, "\uff61": True}}
    text = json.dumps(doc, indent=2).encode()
    path = tmp_path / "doc.json"
    path.write_bytes(text)
    from_file = run_cos("canon", path)
    from_stdin = run_cos("canon", "-", input=text)
    assert from_file.returncode == 0, from_file.describe()
    assert from_stdin.returncode == 0, from_stdin.describe()
    assert from_file.stdout == from_stdin.stdout == rfc8785.dumps(doc)
