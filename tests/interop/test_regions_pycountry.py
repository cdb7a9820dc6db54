"""ISO 3166-1 interop: cos-core's country table equals pycountry's (iso-codes data).

The codes are read from the Rust source text (`ISO_3166_1_ALPHA2` in
cos-core/src/region.rs), so this needs no Rust build.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pycountry

REGION_RS = Path(__file__).resolve().parents[2] / "cos-core" / "src" / "region.rs"
TABLE_RE = re.compile(
    r"ISO_3166_1_ALPHA2\s*:\s*\[\s*&(?:'static\s+)?str\s*;\s*(\d+)\s*\]\s*=\s*\[(.*?)\];",
    re.DOTALL,
)
# Everything between the brackets must be string literals, commas, whitespace
# and // comments: anything else means the regex below would miss codes.
ITEM_RE = re.compile(r'"([^"\\]*)"')
LEFTOVER_RE = re.compile(r'"[^"\\]*"|,|\s+|//[^\n]*')


def rust_codes() -> tuple[int, list[str]]:
    source = REGION_RS.read_text(encoding="utf-8")
    matches = TABLE_RE.findall(source)
    assert len(matches) == 1, (
        f"expected exactly one `ISO_3166_1_ALPHA2: [&str; N] = [...];` in {REGION_RS}, "
        f"found {len(matches)}"
    )
    declared, body = matches[0]
    leftover = LEFTOVER_RE.sub("", body)
    assert leftover == "", f"unexpected text in the table body: {leftover[:200]!r}"
    return int(declared), ITEM_RE.findall(body)


def test_rust_table_is_well_formed():
    declared, codes = rust_codes()
    assert declared == 249, f"array length is declared as {declared}"
    assert len(codes) == declared
    dupes = [c for c, n in Counter(codes).items() if n > 1]
    assert not dupes, f"duplicate codes: {dupes}"
    bad = [c for c in codes if not re.fullmatch(r"[A-Z]{2}", c)]
    assert not bad, f"not two upper-case letters: {bad}"
    assert codes == sorted(codes), "table is not sorted (binary search would break)"


def test_rust_table_equals_pycountry():
    _, codes = rust_codes()
    ours = set(codes)
    theirs = {c.alpha_2 for c in pycountry.countries}
    missing = sorted(theirs - ours)
    extra = sorted(ours - theirs)
    assert not missing and not extra, (
        f"missing in cos-core (in pycountry): {missing}; "
        f"extra in cos-core (not in pycountry): {extra}"
    )
