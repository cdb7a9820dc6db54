"""Policy packs and in-process Rego decisions (cos-policy)."""

from ._native import (
    DecisionLogger,
    Engine,
    JsonLinesWriter,
    Pack,
    PolicyError,
    fetch_and_verify,
    fetch_attestation,
)

__all__ = [
    "Pack",
    "Engine",
    "DecisionLogger",
    "JsonLinesWriter",
    "PolicyError",
    "fetch_and_verify",
    "fetch_attestation",
]
