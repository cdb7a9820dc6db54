"""CompanyOS primitives (cos) for Python.

`companyos.core`: digests, RFC 8785 canonical JSON, signing keys, DSSE.
`companyos.policy`: policy packs and in-process decisions.

Every error cos raises is a `CosError` with a stable `code` attribute.
"""

from ._native import CoreError, CosError, PolicyError, VerificationError

__all__ = ["CosError", "CoreError", "VerificationError", "PolicyError"]
