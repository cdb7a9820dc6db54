"""CompanyOS primitives (cos) for Python.

`companyos.core`: digests, RFC 8785 canonical JSON, signing keys, DSSE.
`companyos.policy`: policy packs and in-process decisions.
`companyos.supplychain`: SBOMs, the licence and CVE gates, SLSA provenance.

Every error cos raises is a `CosError` with a stable `code` attribute.
"""

from ._native import (
    CoreError,
    CosError,
    PolicyError,
    SupplyChainError,
    SupplyChainVerificationError,
    VerificationError,
)

__all__ = [
    "CosError",
    "CoreError",
    "VerificationError",
    "PolicyError",
    "SupplyChainError",
    "SupplyChainVerificationError",
]
