#!/usr/bin/env python3
"""Counts the lines of hand-written shape mirroring in the bindings (ADR-0020).

Method: in bindings/node/src, the `#[napi(object)]` structs (attribute to
closing brace) and the named option converters (store_options, count,
millis, signature_options, approval_policy, approval_options, verify_config, ...: signature to closing
brace); in bindings/python/src, every `#[pyo3(signature = ...)]` that has a
keyword default, with the parameter list it annotates (attribute to the
`) ->` line), the named option converters, and the `json!` results.

    python3 scripts/binding-shapes.py      # from the repository root
"""
import glob
import re


def block(lines, i):
    depth, started = 0, False
    for j in range(i, len(lines)):
        depth += lines[j].count("{") - lines[j].count("}")
        if "{" in lines[j]:
            started = True
        if started and depth <= 0:
            return j - i + 1
    return 0


CONVERTERS = r"(store_options|count|millis|signature_options|approval_policy|approval_options|no_options|generate_options|cargo_options|verify_config)"
tot = {}


def add(k, n):
    tot[k] = tot.get(k, 0) + n


for f in sorted(glob.glob("bindings/node/src/*.rs")):
    lines = open(f).read().split("\n")
    for i, line in enumerate(lines):
        if "#[napi(object)]" in line:
            add("node #[napi(object)] structs", block(lines, i))
            add("node #[napi(object)] count", 0)
            tot["node #[napi(object)] count"] += 1
        if re.match(r"\s*(pub )?fn " + CONVERTERS + r"\b", line):
            add("node option converters", block(lines, i))
for f in sorted(glob.glob("bindings/python/src/*.rs")):
    lines = open(f).read().split("\n")
    for i, line in enumerate(lines):
        if "#[pyo3(signature" in line and "=" in line.split("signature", 1)[1]:
            n = 0
            for j in range(i, len(lines)):
                n += 1
                if re.search(r"\)\s*->", lines[j]) or re.match(r"\s*\)\s*\{", lines[j]):
                    break
            add("python keyword signatures and parameter lists", n)
        if re.match(r"\s*fn " + CONVERTERS + r"\b", line):
            add("python option converters", block(lines, i))
        if "json!(" in line:
            add("python json! results", block(lines, i) if "{" in line else 1)
count = tot.pop("node #[napi(object)] count", 0)
for k, v in tot.items():
    print(f"{v:5d}  {k}")
print(f"{sum(tot.values()):5d}  total lines ({count} #[napi(object)] structs)")
