"""SBOMs from `cos sbom` judged by the official validators.

- CycloneDX 1.5 / 1.6 JSON: `cyclonedx-python-lib`'s `JsonStrictValidator`
  (the strict JSON schemas, bundled with the library: no network).
- SPDX 2.3 JSON: `spdx-tools` (`parse_file` + `validate_full_spdx_document`,
  and the `pyspdxtools` command).

Inputs: this repository (`cos sbom --manifest-path Cargo.toml`, the issue's
"done when") and every fixture lockfile in cos-supplychain/tests/data/sbom.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from spdx_tools.spdx.parser.parse_anything import parse_file
from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document

from conftest import REPO_ROOT, run_cos_at

DATA = REPO_ROOT / "cos-supplychain" / "tests" / "data" / "sbom"
FORMATS = ["cyclonedx-1.6", "cyclonedx-1.5", "spdx-2.3"]
FIXTURES = {
    "npm-v3": ["--npm", DATA / "npm-v3" / "package-lock.json"],
    "npm-v2": ["--npm", DATA / "npm-v2" / "package-lock.json"],
    "npm-v3-dev": ["--npm", DATA / "npm-v3" / "package-lock.json", "--include-dev"],
    "requirements": ["--requirements", DATA / "python" / "requirements.txt"],
    "poetry": ["--poetry", DATA / "python" / "poetry.lock"],
    "poetry-1.1": ["--poetry", DATA / "python" / "poetry-1.1.lock"],
    "uv": ["--uv", DATA / "python" / "uv.lock"],
}
EPOCH = "1700000000"


def run_sbom(cos_bin: Path, args, out: Path, epoch: str | None = EPOCH):
    env = dict(os.environ)
    if epoch is None:
        env.pop("SOURCE_DATE_EPOCH", None)
    else:
        env["SOURCE_DATE_EPOCH"] = epoch
    proc = subprocess.run(
        [os.fspath(cos_bin), "sbom", *map(os.fspath, args), "-o", os.fspath(out)],
        capture_output=True,
        env=env,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr.decode("utf-8", "replace")
    return out.read_bytes()


def assert_valid(path: Path, fmt: str) -> None:
    text = path.read_text(encoding="utf-8")
    if fmt.startswith("cyclonedx"):
        version = SchemaVersion.V1_6 if fmt.endswith("1.6") else SchemaVersion.V1_5
        errors = JsonStrictValidator(version).validate_str(text, all_errors=True)
        listed = [] if errors is None else [str(e)[:500] for e in errors]
        assert not listed, f"{path.name} ({fmt}) is not valid:\n" + "\n".join(listed[:10])
    else:
        doc = parse_file(os.fspath(path))
        messages = validate_full_spdx_document(doc)
        assert not messages, f"{path.name} is not valid SPDX 2.3:\n" + "\n".join(
            f"{m.validation_message} ({m.context.spdx_id})" for m in messages[:20]
        )
        # And the command-line tool people run.
        tool = Path(sys.executable).with_name("pyspdxtools")
        proc = subprocess.run([os.fspath(tool), "-i", os.fspath(path)], capture_output=True, timeout=300, check=False)
        assert proc.returncode == 0, proc.stdout.decode() + proc.stderr.decode()


@pytest.fixture(scope="module")
def repo_sboms(cos_bin: Path, tmp_path_factory) -> dict[str, Path]:
    """This repository's SBOM in every format (cargo metadata runs once per format)."""
    out = tmp_path_factory.mktemp("repo-sbom")
    paths = {}
    for fmt in FORMATS:
        path = out / f"cos.{fmt}.json"
        run_sbom(cos_bin, ["--manifest-path", REPO_ROOT / "Cargo.toml", "--format", fmt], path)
        paths[fmt] = path
    return paths


@pytest.mark.parametrize("fmt", FORMATS)
def test_this_repository_validates(repo_sboms, fmt):
    assert_valid(repo_sboms[fmt], fmt)


def test_this_repository_sbom_content(repo_sboms):
    doc = json.loads(repo_sboms["cyclonedx-1.6"].read_text())
    purls = {c.get("purl") for c in doc["components"]}
    # Workspace members and well-known dependencies are there, with hashes.
    assert "pkg:cargo/cos-core@0.1.0" in purls
    serde = [c for c in doc["components"] if c["name"] == "serde"]
    assert serde and serde[0]["hashes"][0]["alg"] == "SHA-256"
    assert serde[0]["licenses"] == [{"expression": "MIT OR Apache-2.0"}]
    # Dev-only dependencies are left out (proptest, criterion are dev/bench-only).
    names = {c["name"] for c in doc["components"]}
    assert "proptest" not in names
    spdx = json.loads(repo_sboms["spdx-2.3"].read_text())
    assert len(spdx["packages"]) == len(doc["components"]) + 1


def test_this_repository_is_byte_identical(cos_bin, repo_sboms, tmp_path):
    again = run_sbom(
        cos_bin, ["--manifest-path", REPO_ROOT / "Cargo.toml", "--format", "spdx-2.3"], tmp_path / "again.json"
    )
    assert again == repo_sboms["spdx-2.3"].read_bytes()


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_fixtures_validate_and_repeat(cos_bin, tmp_path, name, fmt):
    a = run_sbom(cos_bin, [*FIXTURES[name], "--format", fmt], tmp_path / "a.json")
    b = run_sbom(cos_bin, [*FIXTURES[name], "--format", fmt], tmp_path / "b.json")
    assert a == b, "two runs with SOURCE_DATE_EPOCH differ"
    assert_valid(tmp_path / "a.json", fmt)


@pytest.mark.parametrize("fmt", FORMATS)
def test_merge_of_foreign_and_ours_validates(cos_bin, tmp_path, fmt):
    ours = tmp_path / "ours.json"
    run_sbom(cos_bin, [*FIXTURES["npm-v3"]], ours)
    out = tmp_path / "merged.json"
    env = dict(os.environ, SOURCE_DATE_EPOCH=EPOCH)
    proc = subprocess.run(
        [
            os.fspath(cos_bin), "sbom", "merge", os.fspath(ours),
            os.fspath(DATA / "foreign" / "cdxgen-1.6.cdx.json"),
            os.fspath(DATA / "foreign" / "github-dependency-graph.spdx.json"),
            os.fspath(DATA / "foreign" / "syft-2.3.spdx.json"),
            "--format", fmt, "-o", os.fspath(out),
        ],
        capture_output=True, env=env, timeout=60, check=False,
    )
    assert proc.returncode == 0, proc.stderr.decode()
    assert_valid(out, fmt)


def test_validators_are_live(tmp_path):
    """A broken document is refused: the checks above can fail."""
    bad_cdx = tmp_path / "bad.cdx.json"
    bad_cdx.write_text(json.dumps({"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1,
                                   "serialNumber": "not-a-urn", "components": [{"type": "library"}]}))
    with pytest.raises(AssertionError):
        assert_valid(bad_cdx, "cyclonedx-1.6")
    bad_spdx = tmp_path / "bad.spdx.json"
    bad_spdx.write_text(json.dumps({"spdxVersion": "SPDX-2.3", "dataLicense": "CC0-1.0", "SPDXID": "SPDXRef-DOCUMENT",
                                    "name": "x", "documentNamespace": "https://example.com/x",
                                    "creationInfo": {"created": "2023-11-14T22:13:20Z", "creators": ["Tool: x"]},
                                    "packages": [{"SPDXID": "SPDXRef-a", "name": "a", "downloadLocation": "NOASSERTION",
                                                  "licenseDeclared": "NOT-A-LICENCE"}]}))
    with pytest.raises(Exception):
        assert_valid(bad_spdx, "spdx-2.3")


def test_malformed_source_date_epoch_is_a_usage_error(cos_bin, tmp_path):
    env = dict(os.environ, SOURCE_DATE_EPOCH="yesterday")
    proc = subprocess.run(
        [os.fspath(cos_bin), "sbom", *map(os.fspath, FIXTURES["uv"])],
        capture_output=True, env=env, timeout=60, check=False,
    )
    assert proc.returncode == 2
    assert b"SOURCE_DATE_EPOCH" in proc.stderr


def test_license_gate_on_this_repository(cos_bin, repo_sboms, tmp_path):
    policy = tmp_path / "policy.json"
    policy.write_text(json.dumps({"deny": ["AGPL-3.0-only", "GPL-3.0-only"], "unknown": "warn"}))
    result = run_cos_at(cos_bin, "gate", "license", "--sbom", repo_sboms["spdx-2.3"], "--policy", policy, "--json")
    assert result.returncode == 0, result.describe()
    report = json.loads(result.stdout)
    assert report["passed"] is True
    assert report["counts"]["block"] == 0
