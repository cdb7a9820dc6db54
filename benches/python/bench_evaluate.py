"""Cost of one baseline-pack ABAC `evaluate` from Python, beside the OPA engine.

    python benches/python/bench_evaluate.py [--n 20000] [--opa-site DIR]

Needs the `companyos` package (`pip install ./bindings/python`). With
`--opa-site`, a directory holding the unzipped PyPI wheel
`opa-golib-python-bindings` (the OPA Go engine in-process through ctypes,
see ../shared/oracles/README.md), the same policy, data and input run through
OPA too. The Rust figure for the same call is
`cargo bench -p cos-benches --bench policy_latency` (`evaluate/baseline-abac`).
Results: docs/benchmarks.md.
"""

import argparse
import json
import pathlib
import statistics
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[2]
PACK = ROOT / "examples" / "policy-packs" / "companyos-baseline"
PATH = "companyos/abac/decision"
INPUT = {
    "subject": {"id": "u-42", "tenant": "acme", "roles": ["analyst", "viewer"],
                "attributes": {"clearance": "CONFIDENTIAL", "step_up": False}},
    "action": "read",
    "resource": {"type": "dataset", "id": "ds-7", "tenant": "globex",
                 "classification": "CONFIDENTIAL", "residency": "EU-Only"},
    "context": {"time": "2026-11-22T10:00:00Z",
                "grants": [{"tenant": "globex", "role": "analyst", "actions": ["read"],
                            "expires": "2026-12-31T00:00:00Z"}]},
}


def measure(name, fn, n):
    for _ in range(n // 10):
        fn()
    samples = []
    for _ in range(n):
        t = time.perf_counter_ns()
        fn()
        samples.append(time.perf_counter_ns() - t)
    samples.sort()
    med = samples[len(samples) // 2] / 1000
    p99 = samples[int(len(samples) * 0.99)] / 1000
    mean = statistics.fmean(samples) / 1000
    print(f"{name}: n={n} median={med:.1f}µs p99={p99:.1f}µs mean={mean:.1f}µs")
    return med


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=20000)
    ap.add_argument("--opa-site", help="dir with the unzipped opa-golib-python-bindings wheel")
    ap.add_argument(
        "--loop",
        type=int,
        metavar="N",
        help="only run N evaluations in a plain loop and print their mean (callgrind, benches/bindings/overhead.sh)",
    )
    args = ap.parse_args()

    from companyos.policy import Engine, Pack

    engine = Engine(Pack.load(PACK))
    if args.loop is not None:
        for _ in range(min(args.loop, 1000)):  # warm-up, as the timed loop's
            engine.evaluate(PATH, INPUT)
        t = time.perf_counter_ns()
        for _ in range(args.loop):
            engine.evaluate(PATH, INPUT)
        per_call = (time.perf_counter_ns() - t) / max(args.loop, 1)
        print(f"python/companyos/evaluate-loop: n={args.loop} mean={per_call / 1000:.2f}µs")
        return
    expected = engine.evaluate(PATH, INPUT)
    assert expected["allow"] is True, expected
    measure("python/companyos/evaluate", lambda: engine.evaluate(PATH, INPUT), args.n)
    measure("python/companyos/decide", lambda: engine.decide("abac", INPUT), args.n)

    if args.opa_site:
        sys.path.insert(0, args.opa_site)
        from opa_bindings.engine import OpaEngine

        opa = OpaEngine()
        for f in sorted(PACK.rglob("*.rego")):
            rel = f.relative_to(PACK).as_posix()
            if not rel.startswith("tests/"):
                opa.add_policy(rel, f.read_text())
        data = {}
        for f in sorted((PACK / "data").rglob("*.json")):
            # data/<a>/<b>/x.json mounts at a.b.x, as cos packs do.
            parts = f.relative_to(PACK / "data").with_suffix("").parts
            node = data
            for p in parts[:-1]:
                node = node.setdefault(p, {})
            node[parts[-1]] = json.loads(f.read_text())
        opa.add_data(data)
        doc = PATH.replace("/", ".")
        got = opa.eval_document(doc, INPUT)
        assert got == expected, (got, expected)
        measure("python/opa-golib/eval_document", lambda: opa.eval_document(doc, INPUT), args.n)


if __name__ == "__main__":
    main()
