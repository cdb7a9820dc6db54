"""Supply chain (cos-supplychain): SBOMs from lockfiles and from other tools'
CycloneDX / SPDX JSON, written as CycloneDX 1.5 / 1.6 or SPDX 2.3, merged and
diffed; the licence gate; SLSA provenance v1 made and verified like
slsa-verifier; the CVE budget gate with VEX, expiring waivers and budgets;
CVSS v3.x / v4.0 scores.

Every error is a `SupplyChainError` with a stable `code`; evidence that does
not hold (a provenance signature, subject, builder, source or ref) raises
`SupplyChainVerificationError`, which is also a `companyos.VerificationError`.
Signing and verifying blobs with Sigstore bundles is in `companyos.core`.
"""

from ._native import (
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

__all__ = [
    "SupplyChainError",
    "SupplyChainVerificationError",
    "Sbom",
    "SbomDiff",
    "source_date_epoch",
    "LicensePolicy",
    "LicenseReport",
    "provenance_statement",
    "attest_provenance",
    "verify_provenance",
    "cve_gate",
    "CveVerdict",
    "detect_report_format",
    "cvss_score",
]
