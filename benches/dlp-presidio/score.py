"""Precision, recall and F1 of cos and Presidio on the labelled DLP corpus.

Inputs: the corpus (make_corpus.py), cos's spans (`dlp_spans corpus`) and
Presidio's (`presidio_spans.py corpus`), all JSONL keyed by sentence id, all
offsets in Unicode code points.

Entity names are mapped to one set (Presidio's): cos `email` = EMAIL_ADDRESS,
`phone` = PHONE_NUMBER, `credit_card` = CREDIT_CARD, `iban` = IBAN_CODE,
`ssn` = US_SSN, `ipv4` and `ipv6` = IP_ADDRESS, `mac_address` = MAC_ADDRESS.
Other cos entities (keys, tokens) have no Presidio counterpart and are left
out (their count is printed).

Match rules, per sentence and entity type:
- exact: a prediction is right when a labelled span of the same type has the
  same start and end; a label is found when such a prediction exists.
- overlap: a prediction is right when it shares at least one character with a
  labelled span of the same type; a label is found when such a prediction
  exists. (So `+1-415-555-0132` found as `415-555-0132` counts here, not
  under exact.)
precision = right predictions / predictions, recall = found labels / labels,
F1 = 2PR / (P + R).

Hard negatives (`NEG_*` spans) are not labels. For each kind the scorer
counts how many were touched by a prediction of any scored type; false
positives (overlap rule) are also sorted by what they fell on: a hard
negative, a label of another type, or other text.

Usage: python score.py CORPUS COS PRESIDIO [--details FILE] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
from collections import Counter, defaultdict
from pathlib import Path

TYPES = ["EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD", "IBAN_CODE", "US_SSN", "IP_ADDRESS", "MAC_ADDRESS"]
COS_MAP = {
    "email": "EMAIL_ADDRESS",
    "phone": "PHONE_NUMBER",
    "credit_card": "CREDIT_CARD",
    "iban": "IBAN_CODE",
    "ssn": "US_SSN",
    "ipv4": "IP_ADDRESS",
    "ipv6": "IP_ADDRESS",
    "mac_address": "MAC_ADDRESS",
}
PRESIDIO_MIN_SCORE = 0.1  # the second Presidio row: drops the 0.05 "very weak" SSN patterns


def load(path: Path) -> dict[str, dict]:
    with path.open(encoding="utf-8") as f:
        return {row["id"]: row for row in map(json.loads, f)}


def overlaps(a, b) -> bool:
    return a["start"] < b["end"] and b["start"] < a["end"]


def prf(right_p: int, n_pred: int, found: int, n_gold: int):
    p = right_p / n_pred if n_pred else 1.0
    r = found / n_gold if n_gold else 1.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f


class Tally:
    def __init__(self) -> None:
        self.c: dict[tuple[str, str], Counter] = defaultdict(Counter)  # (part, type) -> counts
        self.neg: dict[str, Counter] = defaultdict(Counter)  # part -> NEG kind -> touched
        self.neg_total: dict[str, Counter] = defaultdict(Counter)
        self.fp_on: dict[str, Counter] = defaultdict(Counter)  # part -> "TYPE on WHAT"
        self.examples: dict[str, list] = defaultdict(list)

    def add(self, part: str, text: str, gold: list, pred: list) -> None:
        labels = [s for s in gold if s["type"] in TYPES]
        negs = [s for s in gold if s["type"].startswith("NEG_")]
        for key in (part, "all"):
            for s in negs:
                self.neg_total[key][s["type"]] += 1
                if any(overlaps(s, p) for p in pred):
                    self.neg[key][s["type"]] += 1
        for t in TYPES:
            g = [s for s in labels if s["type"] == t]
            p = [s for s in pred if s["type"] == t]
            exact_p = sum(1 for x in p if any(x["start"] == y["start"] and x["end"] == y["end"] for y in g))
            exact_g = sum(1 for y in g if any(x["start"] == y["start"] and x["end"] == y["end"] for x in p))
            over_p = sum(1 for x in p if any(overlaps(x, y) for y in g))
            over_g = sum(1 for y in g if any(overlaps(x, y) for x in p))
            for key in (part, "all"):
                c = self.c[(key, t)]
                c["gold"] += len(g)
                c["pred"] += len(p)
                c["exact_p"] += exact_p
                c["exact_g"] += exact_g
                c["over_p"] += over_p
                c["over_g"] += over_g
            for y in g:
                if not any(overlaps(x, y) for x in p):
                    self.examples[f"{t} missed"].append(f"{text[y['start']:y['end']]!r} in {text!r}")
                elif not any(x["start"] == y["start"] and x["end"] == y["end"] for x in p):
                    got = [text[x["start"] : x["end"]] for x in p if overlaps(x, y)]
                    self.examples[f"{t} boundary"].append(f"{text[y['start']:y['end']]!r} found as {got!r}")
            for x in p:
                if any(overlaps(x, y) for y in g):
                    continue
                on = [s["type"] for s in gold if overlaps(x, s)]
                what = on[0] if on else "other text"
                for key in (part, "all"):
                    self.fp_on[key][f"{t} on {what}"] += 1
                self.examples[f"{t} false positive ({what})"].append(f"{text[x['start']:x['end']]!r} in {text!r}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("corpus", type=Path)
    ap.add_argument("cos", type=Path)
    ap.add_argument("presidio", type=Path)
    ap.add_argument("--details", type=Path, help="write misses and false positives here")
    ap.add_argument("--json", type=Path, help="write the figures here")
    args = ap.parse_args()

    corpus = load(args.corpus)
    cos = load(args.cos)
    pre = load(args.presidio)
    tools = {"cos": Tally(), "Presidio": Tally(), f"Presidio, score ≥ {PRESIDIO_MIN_SCORE}": Tally()}
    unmapped = Counter()
    for sid, row in corpus.items():
        cpred = []
        for s in cos[sid]["spans"]:
            t = COS_MAP.get(s["entity"])
            if t is None:
                unmapped[s["entity"]] += 1
            else:
                cpred.append({"type": t, "start": s["start"], "end": s["end"]})
        ppred = [s for s in pre[sid]["spans"] if s["type"] in TYPES]
        tools["cos"].add(row["part"], row["text"], row["spans"], cpred)
        tools["Presidio"].add(row["part"], row["text"], row["spans"], ppred)
        tools[f"Presidio, score ≥ {PRESIDIO_MIN_SCORE}"].add(
            row["part"], row["text"], row["spans"], [s for s in ppred if s["score"] >= PRESIDIO_MIN_SCORE]
        )

    out: dict = {"sentences": len(corpus), "cos_unmapped": dict(unmapped), "tools": {}}
    parts = ["all", "presidio", "cos"]
    print(f"{len(corpus)} sentences; cos entities without a Presidio counterpart: {dict(unmapped) or 'none'}\n")
    for part in parts:
        print(f"### part: {part}\n")
        print("| entity | labels | tool | predictions | P exact | R exact | F1 exact | P overlap | R overlap | F1 overlap |")
        print("|---|---|---|---|---|---|---|---|---|---|")
        for t in [*TYPES, "overall"]:
            for name, tally in tools.items():
                if t == "overall":
                    c = Counter()
                    for tt in TYPES:
                        c.update(tally.c[(part, tt)])
                else:
                    c = tally.c[(part, t)]
                if c["gold"] == 0 and c["pred"] == 0:
                    continue
                pe, re_, fe = prf(c["exact_p"], c["pred"], c["exact_g"], c["gold"])
                po, ro, fo = prf(c["over_p"], c["pred"], c["over_g"], c["gold"])
                label = f"**{t}**" if t == "overall" else t
                print(
                    f"| {label} | {c['gold']} | {name} | {c['pred']} | {pe:.3f} | {re_:.3f} | {fe:.3f} | {po:.3f} | {ro:.3f} | {fo:.3f} |"
                )
                out["tools"].setdefault(name, {}).setdefault(part, {})[t] = {
                    "labels": c["gold"],
                    "predictions": c["pred"],
                    "exact": {"precision": pe, "recall": re_, "f1": fe},
                    "overlap": {"precision": po, "recall": ro, "f1": fo},
                }
        print()
    print("### hard negatives touched by a prediction (part cos)\n")
    kinds = sorted(tools["cos"].neg_total["cos"])
    print("| kind | count | " + " | ".join(tools) + " |")
    print("|---|---|" + "---|" * len(tools))
    for k in kinds:
        total = tools["cos"].neg_total["cos"][k]
        print(f"| {k} | {total} | " + " | ".join(str(t.neg["cos"][k]) for t in tools.values()) + " |")
    print("\n### false positives (overlap rule) by what they fell on, all parts\n")
    for name, tally in tools.items():
        items = ", ".join(f"{k}: {v}" for k, v in tally.fp_on["all"].most_common())
        print(f"- {name}: {items or 'none'}")
        out["tools"].setdefault(name, {})["false_positives_on"] = dict(tally.fp_on["all"])
        out["tools"][name]["hard_negatives_touched"] = dict(tally.neg["all"])
    if args.details:
        with args.details.open("w", encoding="utf-8") as f:
            for name, tally in tools.items():
                f.write(f"# {name}\n\n")
                for key in sorted(tally.examples):
                    ex = tally.examples[key]
                    f.write(f"## {key} ({len(ex)})\n")
                    for e in ex[:40]:
                        f.write(f"- {e}\n")
                    f.write("\n")
    if args.json:
        args.json.write_text(json.dumps(out, indent=1, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
