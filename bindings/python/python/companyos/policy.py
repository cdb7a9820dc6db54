"""Policy packs and in-process Rego decisions (cos-policy): packs, engines,
decision logs, the pack store (hot reload, rollback, cohorts, shadow), the
HTTP pack client, DLP, and disclosure packs with the residency decision."""

from ._native import (
    DecisionLogger,
    DisclosurePack,
    Dlp,
    Engine,
    FetchedPack,
    JsonLinesWriter,
    Pack,
    PackClient,
    PolicyError,
    PolicyStore,
    VerifiedDisclosure,
    decide_residency,
    fetch_and_verify,
    fetch_attestation,
    in_cohort,
    tenant_bucket,
    verify_disclosure,
)

__all__ = [
    "Pack",
    "Engine",
    "DecisionLogger",
    "JsonLinesWriter",
    "PolicyError",
    "fetch_and_verify",
    "fetch_attestation",
    "PolicyStore",
    "PackClient",
    "FetchedPack",
    "tenant_bucket",
    "in_cohort",
    "Dlp",
    "DisclosurePack",
    "VerifiedDisclosure",
    "verify_disclosure",
    "decide_residency",
]
