"""Presidio's pattern recognizers on the DLP corpus and on the benchmark text.

Presidio (presidio-analyzer) is used unchanged. Its recognizers for the
entities cos also detects are called directly, `recognizer.analyze(text,
entities, None)`, with no NLP artefacts: that needs no spaCy model (an
`AnalyzerEngine()` with defaults would try to download `en_core_web_lg`).
The results of all recognizers then go through
`EntityRecognizer.remove_duplicates`, the step `AnalyzerEngine.analyze` applies
after its score threshold (default 0). Without an NLP model the context words
("phone", "ssn", …) cannot raise scores, which only matters for a threshold
above 0: the set of results is the same.

`--engine` instead runs a real `AnalyzerEngine` with a registry of the same
recognizers and a blank spaCy English pipeline saved to a local directory
(tokenizer only, nothing downloaded), to time what an application calling
`AnalyzerEngine.analyze` pays.

E-mail validation calls `tldextract`, which by default fetches the public
suffix list from the network and falls back to the snapshot it ships; here it
is told to use the snapshot only (same answers, no network wait).

Usage:
  python presidio_spans.py corpus CORPUS.jsonl OUT.jsonl [--engine]
  python presidio_spans.py throughput TEXT_FILE [--repeat N] [--chunk CHARS] [--engine | --only-engine] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import tldextract
import tldextract.tldextract
from presidio_analyzer import EntityRecognizer

# Offline public-suffix list: the snapshot tldextract ships.
tldextract.tldextract.TLD_EXTRACTOR = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)

from presidio_analyzer.predefined_recognizers import (  # noqa: E402
    CreditCardRecognizer,
    EmailRecognizer,
    IbanRecognizer,
    IpRecognizer,
    MacAddressRecognizer,
    PhoneRecognizer,
    UsSsnRecognizer,
)

RECOGNIZERS = [
    EmailRecognizer,
    PhoneRecognizer,
    CreditCardRecognizer,
    IbanRecognizer,
    UsSsnRecognizer,
    IpRecognizer,
    MacAddressRecognizer,
]


def make_recognizers():
    return [R() for R in RECOGNIZERS]


def analyze(recognizers, text: str):
    results = []
    for r in recognizers:
        results.extend(r.analyze(text, r.supported_entities, None))
    return EntityRecognizer.remove_duplicates(results)


def make_engine(recognizers):
    import spacy
    from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
    from presidio_analyzer.nlp_engine import NlpEngineProvider

    model_dir = Path(tempfile.gettempdir()) / "cos-dlp-presidio-blank-en"
    if not (model_dir / "config.cfg").exists():
        spacy.blank("en").to_disk(model_dir)
    nlp = NlpEngineProvider(
        nlp_configuration={"nlp_engine_name": "spacy", "models": [{"lang_code": "en", "model_name": str(model_dir)}]}
    ).create_engine()
    registry = RecognizerRegistry(recognizers=recognizers)
    engine = AnalyzerEngine(registry=registry, nlp_engine=nlp, supported_languages=["en"])
    entities = sorted({e for r in recognizers for e in r.supported_entities})
    return lambda text: engine.analyze(text, language="en", entities=entities)


def cmd_corpus(args) -> None:
    recognizers = make_recognizers()
    run = make_engine(recognizers) if args.engine else (lambda t: analyze(recognizers, t))
    n = 0
    with open(args.corpus, encoding="utf-8") as f, open(args.out, "w", encoding="utf-8") as out:
        for line in f:
            row = json.loads(line)
            res = sorted(run(row["text"]), key=lambda r: (r.start, r.end, r.entity_type))
            spans = [{"type": r.entity_type, "start": r.start, "end": r.end, "score": round(r.score, 3)} for r in res]
            out.write(json.dumps({"id": row["id"], "spans": spans}) + "\n")
            n += 1
    print(f"presidio: {n} sentences -> {args.out}", file=sys.stderr)


def chunks(text: str, size: int):
    """Pieces of about `size` characters, cut after a line break."""
    k = 0
    while k < len(text):
        e = text.find("\n", k + size)
        e = len(text) if e < 0 else e + 1
        yield text[k:e]
        k = e


def cmd_throughput(args) -> None:
    data = Path(args.text).read_bytes()
    text = data.decode("utf-8")
    pieces = list(chunks(text, args.chunk)) if args.chunk else [text]
    recognizers = make_recognizers()
    report = {"bytes": len(data), "chunk": args.chunk, "pieces": len(pieces), "repeat": args.repeat, "rows": []}

    def measure(name, fn):
        best, found = None, 0
        for _ in range(args.repeat):
            t0 = time.process_time()
            found = sum(len(fn(p)) for p in pieces)
            dt = time.process_time() - t0
            best = dt if best is None else min(best, dt)
        row = {"what": name, "cpu_s": round(best, 3), "MB_per_s": round(len(data) / best / 1e6, 3), "results": found}
        report["rows"].append(row)
        print(f"{name:28s} {best:8.3f} s CPU  {len(data) / best / 1e6:8.3f} MB/s  {found} results", file=sys.stderr)

    if not args.only_engine:
        for r in recognizers:
            measure(type(r).__name__, lambda p, r=r: r.analyze(p, r.supported_entities, None))
        measure("all (recognizers directly)", lambda p: analyze(recognizers, p))
    if args.engine or args.only_engine:
        run = make_engine(make_recognizers())
        measure("AnalyzerEngine (blank spaCy)", run)
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1) + "\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("corpus")
    c.add_argument("corpus")
    c.add_argument("out")
    c.add_argument("--engine", action="store_true")
    t = sub.add_parser("throughput")
    t.add_argument("text")
    t.add_argument("--repeat", type=int, default=3)
    t.add_argument("--chunk", type=int, default=64 * 1024, help="characters per analyze call (0: whole text)")
    t.add_argument("--engine", action="store_true", help="also time an AnalyzerEngine")
    t.add_argument("--only-engine", action="store_true", help="time only the AnalyzerEngine")
    t.add_argument("--json")
    args = ap.parse_args()
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    {"corpus": cmd_corpus, "throughput": cmd_throughput}[args.cmd](args)


if __name__ == "__main__":
    main()
