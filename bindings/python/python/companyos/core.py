"""Digests, RFC 8785 canonical JSON, signing keys and DSSE envelopes (cos-core)."""

from ._native import (
    CoreError,
    SigningKey,
    VerificationError,
    canonical_json,
    canonicalize,
    digest,
    dsse_sign,
    dsse_verify,
    sigstore_sign_blob,
    sigstore_verify_blob,
    sigstore_verify_blob_keyless,
    statement,
    statement_sign,
    statement_verify,
)

__all__ = [
    "CoreError",
    "VerificationError",
    "SigningKey",
    "digest",
    "canonicalize",
    "canonical_json",
    "dsse_sign",
    "dsse_verify",
    "sigstore_sign_blob",
    "sigstore_verify_blob",
    "sigstore_verify_blob_keyless",
    "statement",
    "statement_sign",
    "statement_verify",
]
