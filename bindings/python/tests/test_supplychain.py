"""companyos.supplychain maps cos-supplychain: SBOMs, the licence gate, SLSA
provenance, the CVE gate and CVSS scores, with their errors. Behaviour is
tested in the crate; these tests check the mapping, on the crate's test data."""

import json
import pathlib
import threading

import pytest

import companyos
from companyos.core import SigningKey, digest
from companyos.supplychain import (
    CveVerdict,
    LicensePolicy,
    LicenseReport,
    Sbom,
    SbomDiff,
    SupplyChainError,
    SupplyChainVerificationError,
    attest_provenance,
    cve_gate,
    cvss_score,
    detect_report_format,
    provenance_statement,
    source_date_epoch,
    verify_provenance,
)

ROOT = pathlib.Path(__file__).resolve().parents[3]
DATA = ROOT / "cos-supplychain" / "tests" / "data"
SBOM = DATA / "sbom"
CVE = DATA / "cve"
SLSA = DATA / "slsa"
TRUSTED_ROOT = DATA / "sigstore" / "public-good-trusted-root.json"

T = 1_700_000_000
BUILDER = "https://ci.example.com/builders/release@v2"
BUILD = {
    "builder_id": BUILDER,
    "build_type": "https://ci.example.com/buildtypes/make/v1",
    "external_parameters": {"target": "release"},
    "source": {
        "repository": "https://github.com/acme/app",
        "commit": "46e7056ff9912ebfee5298d94024895a9fea76c0",
        "ref": "refs/heads/main",
    },
    "started_on": "2026-11-22T10:00:00Z",
    "finished_on": "2026-11-22T10:04:31Z",
}
EXPECT = {"builder_id": "https://ci.example.com/builders/release", "source_uri": "github.com/acme/app"}
NPM_RUNNER = "https://github.com/actions/runner/github-hosted"
NPM_ID = "https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main"
GHA_ISSUER = "https://token.actions.githubusercontent.com"


def read(path):
    return pathlib.Path(path).read_bytes()


def test_errors_are_cos_errors():
    assert issubclass(SupplyChainError, companyos.CosError)
    assert issubclass(SupplyChainVerificationError, SupplyChainError)
    assert issubclass(SupplyChainVerificationError, companyos.VerificationError)
    assert companyos.SupplyChainError is SupplyChainError
    assert companyos.SupplyChainVerificationError is SupplyChainVerificationError
    assert SupplyChainVerificationError.__module__ == "companyos"


# ---------------------------------------------------------------- SBOMs


@pytest.mark.parametrize(
    "path, purl",
    [
        ("npm-v3/package-lock.json", "pkg:npm/"),
        ("npm-v2/package-lock.json", "pkg:npm/"),
        ("python/requirements.txt", "pkg:pypi/"),
        ("python/poetry.lock", "pkg:pypi/"),
        ("python/uv.lock", "pkg:pypi/"),
    ],
)
def test_sbom_from_lockfiles_writes_every_format(path, purl):
    data = read(SBOM / path)
    sbom = Sbom.from_lockfile(data, path, root_name="shop", root_version="1.0")
    assert len(sbom) == len(sbom.components) + 1
    assert sbom.components and all(c["purl"].startswith(purl) for c in sbom.components)
    assert sbom.root is not None
    assert "Sbom(" in repr(sbom)
    model = sbom.to_dict()
    assert set(model) == {"root", "components", "dependencies", "properties"}
    for fmt in ("cyclonedx-1.6", "cyclonedx-1.5", "spdx-2.3"):
        doc = sbom.write(fmt, created=T)
        assert doc == sbom.write(fmt, created=T)  # reproducible
        parsed = json.loads(doc)
        if fmt.startswith("cyclonedx"):
            assert parsed["specVersion"] == fmt.split("-")[1]
            assert parsed["metadata"]["timestamp"] == "2023-11-14T22:13:20Z"
        else:
            assert parsed["spdxVersion"] == "SPDX-2.3"
            assert parsed["creationInfo"]["created"] == "2023-11-14T22:13:20Z"
        back = Sbom.from_json(doc)
        assert [c["purl"] for c in back.components] == [c["purl"] for c in sbom.components]
    assert sbom.write(created=T) == sbom.write("cyclonedx-1.6", created=T)


def test_sbom_options_and_tool():
    npm = read(SBOM / "npm-v3" / "package-lock.json")
    without = Sbom.from_lockfile(npm, "package-lock.json")
    with_dev = Sbom.from_lockfile(npm, "/some/dir/package-lock.json", include_dev=True)
    assert len(with_dev) >= len(without)
    doc = json.loads(without.write(created=T, tool_name="acme-sbom", tool_version="9.9"))
    tools = json.dumps(doc["metadata"]["tools"])
    assert "acme-sbom" in tools and "9.9" in tools
    reqs = Sbom.from_lockfile(read(SBOM / "python" / "requirements.txt"), "requirements-prod.txt")
    assert reqs.root["name"] == "python-project"


def test_sbom_from_cargo_metadata():
    meta = read(SBOM / "cargo" / "workspace-metadata.json")
    lock = read(SBOM / "cargo" / "Cargo.lock")
    with_lock = Sbom.from_cargo_metadata(meta, lock)
    without = Sbom.from_cargo_metadata(meta)
    assert all(c["purl"].startswith("pkg:cargo/") for c in with_lock.components if c["purl"])
    assert sum(len(c["hashes"]) for c in with_lock.components) > sum(
        len(c["hashes"]) for c in without.components
    )
    with pytest.raises(SupplyChainError) as e:
        Sbom.from_cargo_metadata(meta, lock, packages=["no-such-member"])
    assert e.value.code == "invalid_lockfile"


def test_sbom_errors():
    with pytest.raises(SupplyChainError) as e:
        Sbom.from_lockfile(b"", "yarn.lock")
    assert e.value.code == "unknown_format"
    assert isinstance(e.value, companyos.CosError)
    assert not isinstance(e.value, companyos.VerificationError)
    with pytest.raises(SupplyChainError) as e:
        Sbom.from_lockfile(b'{"lockfileVersion": 1}', "package-lock.json")
    assert e.value.code == "invalid_lockfile"
    with pytest.raises(SupplyChainError) as e:
        Sbom.from_lockfile(b"not toml [", "uv.lock")
    assert e.value.code == "invalid_lockfile"
    with pytest.raises(SupplyChainError) as e:
        Sbom.from_json(b"{not json")
    assert e.value.code == "invalid_sbom"
    with pytest.raises(SupplyChainError) as e:
        Sbom.from_json(b'{"neither": 1}')
    assert e.value.code == "invalid_sbom"
    sbom = Sbom.from_lockfile(read(SBOM / "python" / "uv.lock"), "uv.lock")
    with pytest.raises(SupplyChainError) as e:
        sbom.write("swid", created=T)
    assert e.value.code == "invalid_sbom"
    with pytest.raises(TypeError):
        sbom.write("spdx-2.3")  # created is required
    with pytest.raises(OverflowError):
        sbom.write(created=-1)


def test_source_date_epoch():
    assert source_date_epoch("1700000000") == T
    for bad in ["", "-1", "1.5", "soon", "253402300800"]:
        with pytest.raises(SupplyChainError) as e:
            source_date_epoch(bad)
        assert e.value.code == "invalid_source_date_epoch"


def test_merge_and_diff():
    v2 = Sbom.from_lockfile(read(SBOM / "npm-v2" / "package-lock.json"), "package-lock.json")
    v3 = Sbom.from_lockfile(read(SBOM / "npm-v3" / "package-lock.json"), "package-lock.json")
    syft = Sbom.from_json(read(SBOM / "foreign" / "syft-1.5.cdx.json"))
    merged = v3.merge(syft)
    assert merged.root == v3.root
    purls = {c["purl"] for c in merged.components}
    assert {c["purl"] for c in v3.components} <= purls
    assert len(merged) > len(v3)
    d = v2.diff(v3)
    assert isinstance(d, SbomDiff)
    assert not d.is_empty
    out = d.to_dict()
    assert set(out) == {"added", "removed", "changed"}
    assert d.to_text().endswith("changed\n")
    same = v3.diff(Sbom.from_json(v3.write(created=T)))
    assert same.is_empty and same.to_text() == "0 added, 0 removed, 0 changed\n"


# ---------------------------------------------------------------- licences


def test_license_gate():
    sbom = Sbom.from_lockfile(read(SBOM / "npm-v3" / "package-lock.json"), "package-lock.json")
    everything = [sbom.root, *sbom.components]
    licences = {c["license"]["expression"] for c in everything if c["license"] and "expression" in c["license"]}
    assert licences
    allow_all = LicensePolicy.from_json(json.dumps({"allow": sorted(licences), "unknown": "warn"}).encode())
    report = allow_all.check(sbom)
    assert isinstance(report, LicenseReport)
    assert report.passed
    assert report.to_dict()["passed"] is True
    deny = LicensePolicy.from_yaml(("deny:\n  - " + sorted(licences)[0] + "\nunknown: allow\n").encode())
    blocked = deny.check(sbom)
    assert not blocked.passed
    out = blocked.to_dict()
    assert out["counts"]["block"] >= 1
    assert "BLOCK" in blocked.to_text()
    # uv.lock records no licences: unknown licences block by default.
    uv = Sbom.from_lockfile(read(SBOM / "python" / "uv.lock"), "uv.lock")
    assert not LicensePolicy.from_json(b'{"allow": ["MIT"]}').check(uv).passed
    for bad in [b"{not json", b'{"allow": ["Not-A-Licence-1.0"]}', b'{"allow": [], "extra": 1}']:
        with pytest.raises(SupplyChainError) as e:
            LicensePolicy.from_json(bad)
        assert e.value.code == "invalid_license_policy", bad
    with pytest.raises(SupplyChainError) as e:
        LicensePolicy.from_yaml(b"allow: [: bad")
    assert e.value.code == "invalid_license_policy"


# ---------------------------------------------------------------- SLSA


@pytest.fixture(scope="module")
def key():
    return SigningKey.generate("ecdsa-p256")


def test_provenance_statement():
    artifact = b"the release tarball"
    st = provenance_statement(BUILD, [("app.tar.gz", digest(artifact))])
    assert st["predicateType"] == "https://slsa.dev/provenance/v1"
    assert st["subject"][0]["name"] == "app.tar.gz"
    assert st["predicate"]["runDetails"]["builder"]["id"] == BUILDER
    # bytes, str and dict give the same statement
    assert provenance_statement(json.dumps(BUILD), [("app.tar.gz", digest(artifact))]) == st
    assert provenance_statement(json.dumps(BUILD).encode(), [("app.tar.gz", digest(artifact))]) == st
    with pytest.raises(SupplyChainError) as e:
        provenance_statement({**BUILD, "unknown": 1}, [("a", digest(b"a"))])
    assert e.value.code == "invalid_build_description"
    with pytest.raises(SupplyChainError) as e:
        provenance_statement(b"{not json", [("a", digest(b"a"))])
    assert e.value.code == "invalid_build_description"
    with pytest.raises(SupplyChainError) as e:
        provenance_statement(BUILD, [("a", "sha256:nothex")])
    assert e.value.code == "invalid_digest"
    with pytest.raises(SupplyChainError) as e:
        provenance_statement(BUILD, [])
    assert e.value.code == "invalid_statement"


@pytest.mark.parametrize("fmt", ["dsse", "sigstore-bundle"])
def test_provenance_attest_and_verify(key, fmt):
    artifact = b"the release tarball"
    signed = attest_provenance(BUILD, [("app.tar.gz", digest(artifact))], key, format=fmt)
    assert ("mediaType" in json.loads(signed)) == (fmt == "sigstore-bundle")
    ok = verify_provenance(signed, artifact, public_key=key.public_pem(), branch="main", **EXPECT)
    assert ok["subject"] == "app.tar.gz"
    assert ok["artifact_digest"] == digest(artifact)
    assert ok["builder_id"] == BUILDER
    assert ok["source_uri"] == "github.com/acme/app"
    assert ok["source_ref"] == "refs/heads/main"
    assert ok["source_commit"] == BUILD["source"]["commit"]
    assert ok["signer"].startswith("key ")
    # As the first line of an .intoto.jsonl.
    assert verify_provenance(signed + b"\n{}\n", artifact, public_key=key.public_pem(), **EXPECT)["subject"]

    def fails(code, *args, **kwargs):
        kw = {"public_key": key.public_pem(), **EXPECT, **kwargs}
        with pytest.raises(SupplyChainVerificationError) as e:
            verify_provenance(*(args or (signed, artifact)), **kw)
        assert e.value.code == code, (code, str(e.value))
        assert isinstance(e.value, companyos.VerificationError)
        assert isinstance(e.value, SupplyChainError)
        return e.value

    err = fails("provenance_mismatch", builder_id="https://ci.example.com/builders/other")
    assert "builder id" in str(err)
    fails("provenance_mismatch", source_uri="github.com/acme/other")
    fails("provenance_mismatch", branch="release")
    fails("provenance_mismatch", tag="v1.0.0")
    fails("provenance_mismatch", build_type="https://other/type")
    other = SigningKey.generate("ecdsa-p256")
    with pytest.raises(companyos.VerificationError):
        verify_provenance(signed, artifact, public_key=other.public_pem(), **EXPECT)
    with pytest.raises(companyos.VerificationError):
        verify_provenance(signed, b"another artifact", public_key=key.public_pem(), **EXPECT)
    # The keywords are cos_supplychain::slsa::VerifyConfig: unknown or missing ones are a ValueError.
    with pytest.raises(ValueError, match="builder"):
        verify_provenance(signed, artifact, public_key=key.public_pem(), source_uri="github.com/acme/app")
    with pytest.raises(ValueError, match="branchh"):
        verify_provenance(signed, artifact, public_key=key.public_pem(), branchh="main", **EXPECT)
    # Tampered: a changed payload no longer verifies.
    doc = json.loads(signed)
    env = doc["dsseEnvelope"] if "dsseEnvelope" in doc else doc
    import base64

    payload = json.loads(base64.b64decode(env["payload"]))
    payload["predicate"]["runDetails"]["builder"]["id"] = "https://ci.example.com/builders/release@evil"
    env["payload"] = base64.b64encode(json.dumps(payload).encode()).decode()
    with pytest.raises(SupplyChainVerificationError) as e:
        verify_provenance(json.dumps(doc).encode(), artifact, public_key=key.public_pem(), **EXPECT)
    assert e.value.code in {"signature_invalid", "threshold_not_met", "artifact_mismatch", "invalid_sigstore_bundle"}

    # The caller's mistakes are not verification failures.
    for kwargs, code in [
        ({"public_key": key.public_pem(), "branch": "main", "tag": "v1"}, "invalid_policy"),
        ({"public_key": key.public_pem(), "builder_id": ""}, "invalid_policy"),
        ({}, "invalid_policy"),
        ({"public_key": "not a key"}, "invalid_key"),
    ]:
        with pytest.raises(SupplyChainError) as e:
            verify_provenance(signed, artifact, **{**EXPECT, **kwargs})
        assert e.value.code == code, kwargs
        assert not isinstance(e.value, companyos.VerificationError)


def test_provenance_attest_errors(key):
    with pytest.raises(SupplyChainError) as e:
        attest_provenance(BUILD, [("a", digest(b"a"))], key, format="jws")
    assert e.value.code == "unknown_format"
    with pytest.raises(SupplyChainError) as e:
        attest_provenance({**BUILD, "finished_on": "2026-11-22T09:00:00Z"}, [("a", digest(b"a"))], key)
    assert e.value.code == "invalid_build_description"
    with pytest.raises(TypeError):
        attest_provenance(BUILD, [("a", digest(b"a"))], "not a key")


def test_npm_provenance_keyless():
    root = read(TRUSTED_ROOT)
    tgz = read(SLSA / "sigstore-2.3.1.tgz")
    bundle = read(SLSA / "sigstore-2.3.1.provenance.sigstore.json")
    expect = {"builder_id": NPM_RUNNER, "source_uri": "github.com/sigstore/sigstore-js"}
    trust = {"trusted_root": root, "identity": NPM_ID, "issuer": GHA_ISSUER}
    ok = verify_provenance(bundle, tgz, branch="main", **expect, **trust)
    assert ok["source_ref"] == "refs/heads/main"
    assert NPM_ID in ok["signer"]
    with pytest.raises(SupplyChainVerificationError) as e:
        verify_provenance(bundle, tgz, tag="v2.3.1", **expect, **trust)
    assert e.value.code == "provenance_mismatch"
    with pytest.raises(SupplyChainVerificationError) as e:
        verify_provenance(bundle, tgz, **{**expect, "source_uri": "github.com/sigstore/sigstore-python"}, **trust)
    assert e.value.code == "provenance_mismatch"
    with pytest.raises(SupplyChainVerificationError) as e:
        verify_provenance(bundle, tgz, **expect, **{**trust, "identity": "someone@example.com"})
    assert e.value.code == "bundle_not_trusted"
    with pytest.raises(SupplyChainVerificationError):
        verify_provenance(read(SLSA / "sigstore-2.3.1-invalidsig.provenance.sigstore.json"), tgz, **expect, **trust)
    with pytest.raises(SupplyChainVerificationError):
        verify_provenance(bundle, read(SLSA / "gundam-visor-1.0.1.tgz"), **expect, **trust)
    with pytest.raises(SupplyChainError) as e:
        verify_provenance(bundle, tgz, **expect, **{**trust, "trusted_root": b"{}"})
    assert e.value.code == "invalid_trusted_root"


def test_verification_releases_the_gil():
    # Several threads verify at once (the GIL is released while they do).
    root = read(TRUSTED_ROOT)
    tgz = read(SLSA / "sigstore-2.3.1.tgz")
    bundle = read(SLSA / "sigstore-2.3.1.provenance.sigstore.json")
    results = []

    def work():
        results.append(
            verify_provenance(
                bundle, tgz, builder_id=NPM_RUNNER, source_uri="github.com/sigstore/sigstore-js",
                trusted_root=root, identity=NPM_ID, issuer=GHA_ISSUER,
            )["subject"]
        )

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 4 and len(set(results)) == 1


# ---------------------------------------------------------------- CVE gate


def reports(*names):
    return [(n, read(CVE / n)) for n in names]


def test_cve_gate_waivers_expire():
    kwargs = {"waivers": read(CVE / "waivers.yaml")}
    before = cve_gate(reports("grype.json"), now="2026-12-01T00:00:00Z", **kwargs)
    after = cve_gate(reports("grype.json"), now="2027-01-01T00:00:00Z", **kwargs)
    assert isinstance(before, CveVerdict)
    assert before.to_dict()["counts"]["waived"] == 1
    assert not after.passed
    counts = after.to_dict()["counts"]
    assert counts["waived"] == 0 and counts["expired_waiver"] >= 1
    assert "expired" in after.to_text()
    assert "CveVerdict(" in repr(after)


def test_cve_gate_everything():
    verdict = cve_gate(
        reports("grype.json", "trivy.json", "osv-scanner.json"),
        now="2026-12-01T00:00:00Z",
        vex=[("openvex.json", read(CVE / "openvex.json")), ("cyclonedx-vex.json", read(CVE / "cyclonedx-vex.json"))],
        waivers=read(CVE / "waivers.yaml"),
        policy=read(CVE / "policy.yaml"),
    )
    out = verdict.to_dict()
    assert out["schema"].endswith("/cve-gate-verdict/v1")
    assert out["now"] == "2026-12-01T00:00:00Z"
    assert [i["source"] for i in out["inputs"]] == [
        "grype.json", "trivy.json", "osv-scanner.json", "openvex.json", "cyclonedx-vex.json",
    ]
    assert out["result"] == ("pass" if verdict.passed else "fail")
    canonical = verdict.to_json()
    assert json.loads(canonical) == out
    assert companyos.core.canonicalize(canonical) == canonical
    again = cve_gate(
        reports("grype.json", "trivy.json", "osv-scanner.json"),
        now="2026-12-01T00:00:00Z",
        vex=[("openvex.json", read(CVE / "openvex.json")), ("cyclonedx-vex.json", read(CVE / "cyclonedx-vex.json"))],
        waivers=read(CVE / "waivers.yaml"),
        policy=read(CVE / "policy.yaml"),
    )
    assert again.to_json() == canonical
    assert cve_gate(reports("osv-record.json"), now="2026-12-01", format="osv").to_dict()["inputs"][0]["format"] == "osv"


def test_cve_gate_errors():
    now = "2026-12-01T00:00:00Z"
    cases = [
        (lambda: cve_gate([], now=now), "invalid_report"),
        (lambda: cve_gate([("x.json", b"{not json")], now=now), "unknown_format"),
        (lambda: cve_gate([("x.json", b'{"neither": 1}')], now=now), "unknown_format"),
        (lambda: cve_gate([("x.json", b"{not json")], now=now, format="grype"), "invalid_report"),
        (lambda: cve_gate(reports("grype.json"), now=now, format="snyk"), "unknown_format"),
        (lambda: cve_gate(reports("grype.json"), now="yesterday"), "invalid_time"),
        (lambda: cve_gate(reports("grype.json"), now=now, waivers=b"- id: CVE-1\n"), "invalid_waiver"),
        (lambda: cve_gate(reports("grype.json"), now=now, waivers=b"[: bad"), "invalid_waivers"),
        (lambda: cve_gate(reports("grype.json"), now=now, policy=b"threshold: 11"), "invalid_gate_policy"),
        (lambda: cve_gate(reports("grype.json"), now=now, vex=[("v.json", b"nope")]), "invalid_vex"),
    ]
    for call, code in cases:
        with pytest.raises(SupplyChainError) as e:
            call()
        assert e.value.code == code, (code, str(e.value))
        assert not isinstance(e.value, companyos.VerificationError)


def test_detect_report_format():
    assert detect_report_format(read(CVE / "grype.json")) == "grype"
    assert detect_report_format(read(CVE / "trivy.json")) == "trivy"
    assert detect_report_format(read(CVE / "osv-scanner.json")) == "osv"
    with pytest.raises(SupplyChainError) as e:
        detect_report_format(b"[1, 2]")
    assert e.value.code == "unknown_format"


def test_cvss_score():
    s = cvss_score("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H")
    assert s == {
        "vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
        "version": "3.1",
        "score": 9.8,
        "severity": "critical",
    }
    v4 = cvss_score("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N")
    assert v4["version"] == "4.0" and v4["score"] == 9.3 and v4["nomenclature"] == "CVSS-B"
    for bad in ["", "CVSS:3.1/AV:X", "CVSS:2.0/AV:N"]:
        with pytest.raises(SupplyChainError) as e:
            cvss_score(bad)
        assert e.value.code == "invalid_cvss_vector"
