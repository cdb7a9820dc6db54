"""Type stubs for the native module (see companyos.core, companyos.policy and companyos.supplychain)."""

from os import PathLike
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Union

class CosError(Exception):
    """Base class of every cos error; `code` is a stable machine code."""

    code: str

class CoreError(CosError): ...
class VerificationError(CoreError): ...
class PolicyError(CosError): ...
class SupplyChainError(CosError):
    """An error from cos-supplychain; `code` is `cos_supplychain::Error::code()`."""

class SupplyChainVerificationError(SupplyChainError, VerificationError):
    """Supply-chain evidence did not hold (codes "provenance_mismatch",
    "invalid_provenance", "signature_invalid", "artifact_mismatch",
    "bundle_not_trusted", "invalid_sigstore_bundle", "invalid_envelope", ...)."""

def digest(data: bytes, algorithm: str = "sha256") -> str:
    """`sha256:<hex>` (or `sha512:<hex>`) of `data`."""

def canonicalize(json: bytes) -> bytes:
    """RFC 8785 canonical form of a JSON text."""

def canonical_json(value: Any) -> bytes:
    """RFC 8785 canonical JSON of a Python value."""

class SigningKey:
    """A private signing key (Ed25519 or ECDSA P-256)."""

    @staticmethod
    def generate(algorithm: str = "ed25519") -> "SigningKey": ...
    @staticmethod
    def from_pem(pem: str) -> "SigningKey": ...
    def to_pem(self) -> str: ...
    def public_pem(self) -> str: ...
    @property
    def key_id(self) -> str: ...
    @property
    def algorithm(self) -> str: ...

def dsse_sign(payload: bytes, payload_type: str, keys: Sequence[SigningKey]) -> bytes:
    """A DSSE envelope (JSON bytes) signed by every key."""

def dsse_verify(
    envelope: bytes,
    public_keys: Sequence[str],
    threshold: int = 1,
    payload_type: Optional[str] = None,
) -> Tuple[bytes, str, List[str]]:
    """(payload, payload_type, key ids that verified); raises VerificationError."""

def statement(
    predicate_type: str, predicate: Any, subjects: Sequence[Tuple[str, str]]
) -> Dict[str, Any]:
    """A validated in-toto Statement v1; subjects are (name, "sha256:<hex>")."""

def statement_sign(statement: Dict[str, Any], keys: Sequence[SigningKey]) -> bytes:
    """A DSSE envelope (application/vnd.in-toto+json) over the statement."""

def statement_verify(
    envelope: bytes, public_keys: Sequence[str], threshold: int = 1
) -> Dict[str, Any]:
    """The statement of a verified in-toto envelope."""

def sigstore_sign_blob(artifact: bytes, key: SigningKey) -> bytes:
    """A Sigstore bundle (v0.3 JSON) signing `artifact` with `key` (public-key hint, no log entry)."""

def sigstore_verify_blob(artifact: bytes, bundle: bytes, public_key: str) -> Dict[str, Any]:
    """Verify `artifact` against a Sigstore (or legacy cosign) bundle with a PEM public key, offline.

    Returns key_id, identity (None), issuer (None), artifact_digest, payload_type,
    unchecked_tlog_entries, unchecked_timestamps (cos_core::sigstore::VerifiedBlob).
    Raises VerificationError (code "artifact_mismatch", "signature_invalid", "invalid_sigstore_bundle").
    """

def sigstore_verify_blob_keyless(
    artifact: bytes, bundle: bytes, trusted_root: bytes, identity: str, issuer: str
) -> Dict[str, Any]:
    """Verify `artifact` against a keyless Sigstore bundle, offline, with a trusted_root.json.

    Checks the certificate chain, SCT, Rekor inclusion proof, checkpoint and
    signed entry timestamp, timestamps, and the exact identity (SAN) and OIDC
    issuer. Returns the dict of sigstore_verify_blob, identity and issuer set
    (key_id empty). Raises
    VerificationError (codes "bundle_not_trusted", "artifact_mismatch",
    "invalid_sigstore_bundle") or CoreError ("invalid_trusted_root", "invalid_policy").
    """

def fetch_and_verify(
    url: str,
    public_key: Optional[str] = None,
    bundle: Optional[bytes] = None,
    digest: Optional[str] = None,
    dest: Optional[Union[str, PathLike[str]]] = None,
    *,
    trusted_root: Optional[bytes] = None,
    identity: Optional[str] = None,
    issuer: Optional[str] = None,
) -> str:
    """Verify and unpack the pack at `url` (http(s) URL, path or file: URL); returns the directory.

    Signed with `public_key` (SPKI PEM; given `trusted_root` too, the
    bundle's Rekor entry is checked against the root's logs), or keyless:
    `trusted_root` (trusted_root.json bytes) with the expected `identity`
    and `issuer`.
    Errors are PolicyError with the TypeScript fetcher's messages and codes
    "missing_verification", "digest_mismatch", "bundle_verification_failed",
    and for HTTP "http_status" ("HTTP <status>") and "transport". Over HTTP
    the `Digest` header is required and checked, and the bundle comes from
    the `x-cosign-bundle` header or `<url>/attestation`.
    """

def fetch_attestation(url: str) -> str:
    """The Sigstore bundle at `url` (http(s) URL, path or file: URL) as text."""

class Pack:
    """A policy pack or OPA bundle, loaded with size limits."""

    @staticmethod
    def load(path: Union[str, "PathLike[str]"]) -> "Pack": ...
    @staticmethod
    def from_bytes(data: bytes) -> "Pack": ...
    @property
    def name(self) -> str: ...
    @property
    def version(self) -> str: ...
    @property
    def revision(self) -> str: ...
    @property
    def digest(self) -> str: ...
    @property
    def entrypoints(self) -> Dict[str, str]: ...
    @property
    def is_signed(self) -> bool: ...
    def build_bundle(self) -> bytes:
        """The pack as a deterministic OPA bundle (`.tar.gz` bytes); entries
        are dated `SOURCE_DATE_EPOCH` when set (else 0), and a malformed
        value raises `CoreError` with code `invalid_source_date_epoch` (so
        do `build_bundle_with_tests` and `build_signed_bundle`)."""
    def build_bundle_with_tests(self) -> bytes:
        """Like `build_bundle`, with the pack's `tests/` kept (`cos pack
        build --with-tests`), so that a store runs them before activating it."""
    def build_signed_bundle(
        self, key: SigningKey, key_id: Optional[str] = None, scope: Optional[str] = None
    ) -> bytes:
        """An OPA bundle signed with an ECDSA P-256 key (`.signatures.json`)."""
    def verify_signature(
        self, public_pem: str, key_id: Optional[str] = None, scope: Optional[str] = None
    ) -> Dict[str, Any]:
        """{"claims": ..., "key_id": ...}; raises PolicyError naming a bad file."""
    def run_tests(
        self, run: Optional[str] = None, strict_builtin_errors: bool = False
    ) -> Tuple[List[Dict[str, Any]], bool]: ...

class Engine:
    """A compiled pack; thread-safe, releases the GIL while evaluating."""

    def __init__(
        self, pack: Pack, strict_builtin_errors: bool = False, timeout_ms: int = 1000
    ) -> None: ...
    def evaluate(self, path: str, input: Any = None) -> Any:
        """OPA Data API semantics: the value, or None when undefined."""
    def decide(self, entrypoint: str, input: Any) -> Dict[str, Any]: ...
    def allow_reason(self, path: str, input: Any) -> Dict[str, Any]:
        """{"allow": bool, "reason": str | None}, reduced as OPA REST clients do."""
    def runs_on_vm(self, path: str) -> bool: ...

class DecisionLogger:
    """OPA decision-log events for an engine, with the pack's mask/drop rules."""

    def __init__(self, labels: Optional[Dict[str, str]] = None) -> None: ...
    def event_for_decision(
        self,
        engine: Engine,
        decision: Dict[str, Any],
        input: Any = None,
        requested_by: Optional[str] = None,
    ) -> Optional[Dict[str, Any]]: ...
    def event_for_result(
        self,
        engine: Engine,
        path: str,
        input: Any = None,
        result: Any = None,
        eval_ns: int = 0,
    ) -> Optional[Dict[str, Any]]: ...
    def event_for_error(
        self,
        path: str,
        error: Dict[str, str],
        engine: Optional[Engine] = None,
        input: Any = None,
        eval_ns: int = 0,
    ) -> Optional[Dict[str, Any]]:
        """The event for a failed evaluation (`error`: `code`, `message`)."""
        ...

class JsonLinesWriter:
    """Appends events to a file as JSON lines, flushed per event."""

    def __init__(self, path: Union[str, "PathLike[str]"]) -> None: ...
    def write(self, event: Dict[str, Any]) -> None: ...
    def close(self) -> None: ...

# ---------------------------------------------------------------- store

class PolicyStore:
    """Packs a service decides with: every candidate is verified (signatures,
    limits, compilation, its tests) before it decides anything; hot reload
    with last known good (`state_dir`), rollback, cohort rollout and shadow
    evaluation. Thread-safe; the GIL is released while verifying and deciding.

    Packs are reported as dicts (`name`, `version`, `revision`, `digest`,
    and for active packs `archive_digest`, `verified_at`, `stats`).
    """

    def __init__(
        self,
        *,
        opa_public_key: Optional[str] = None,
        opa_key_id: Optional[str] = None,
        opa_scope: Optional[str] = None,
        public_key: Optional[str] = None,
        trusted_root: Optional[bytes] = None,
        identity: Optional[str] = None,
        issuer: Optional[str] = None,
        tests: str = "if_present",
        state_dir: Optional[Union[str, "PathLike[str]"]] = None,
        history: int = 4,
        min_samples: int = 100,
        strict_builtin_errors: bool = False,
        timeout_ms: int = 1000,
        test_timeout_ms: int = 5000,
        pack_name: Optional[str] = None,
        compile_timeout_ms: int = 30000,
        shadow_observer: Optional[Callable[[Dict[str, Any]], None]] = None,
    ) -> None:
        """`opa_public_key` requires an OPA `.signatures.json`; `public_key`
        (or keyless `trusted_root` + `identity` + `issuer`) requires a
        Sigstore bundle; `tests` is "required", "if_present" or "skip";
        each test of a candidate runs under `test_timeout_ms` (0: under
        `timeout_ms`), and one that runs out of time refuses the candidate."""
    @staticmethod
    def open(
        *,
        opa_public_key: Optional[str] = None,
        opa_key_id: Optional[str] = None,
        opa_scope: Optional[str] = None,
        public_key: Optional[str] = None,
        trusted_root: Optional[bytes] = None,
        identity: Optional[str] = None,
        issuer: Optional[str] = None,
        tests: str = "if_present",
        state_dir: Optional[Union[str, "PathLike[str]"]] = None,
        history: int = 4,
        min_samples: int = 100,
        strict_builtin_errors: bool = False,
        timeout_ms: int = 1000,
        test_timeout_ms: int = 5000,
        pack_name: Optional[str] = None,
        compile_timeout_ms: int = 30000,
        shadow_observer: Optional[Callable[[Dict[str, Any]], None]] = None,
    ) -> "PolicyStore":
        """A store started from the last known good pack in `state_dir`, verified again."""
    @property
    def is_ready(self) -> bool: ...
    def activate(self, archive: bytes, sigstore_bundle: Optional[bytes] = None) -> Dict[str, Any]:
        """{"status": "activated" | "unchanged", "pack": {...}}; raises PolicyError
        ("older_version", "bundle_verification_failed", "missing_verification",
        "signature_invalid", "candidate_tests_failed", ...) and keeps the store as it was."""
    def roll_back_to(self, archive: bytes, sigstore_bundle: Optional[bytes] = None) -> Dict[str, Any]:
        """`activate`, accepting an older version (an explicit rollback)."""
    def start_rollout(self, archive: bytes, sigstore_bundle: Optional[bytes] = None) -> Dict[str, Any]:
        """Verify and roll out to the first cohort of the candidate's manifest."""
    def start_shadow(self, archive: bytes, sigstore_bundle: Optional[bytes] = None) -> Dict[str, Any]:
        """Verify and evaluate the candidate in the shadow of the deciding pack."""
    def promote(self) -> Dict[str, Any]:
        """Shadow -> rollout (or stable), next cohort, stable; "rollout_refused" when not allowed."""
    def halt(self) -> Dict[str, Any]: ...
    def resume(self) -> Dict[str, Any]: ...
    def rollback(self) -> Dict[str, Any]:
        """Abandon a rollout or shadow, or return to the previous stable pack."""
    def status(self) -> Dict[str, Any]: ...
    def pack_for(self, tenant: Optional[str] = None) -> Optional[Dict[str, Any]]: ...
    def decide(self, entrypoint: str, input: Any, tenant: Optional[str] = None) -> Dict[str, Any]: ...
    def evaluate(self, path: str, input: Any = None, tenant: Optional[str] = None) -> Any: ...
    def evaluate_with_pack(
        self, path: str, input: Any = None, tenant: Optional[str] = None
    ) -> Tuple[Dict[str, Any], Any]: ...

def tenant_bucket(tenant: str) -> int:
    """The tenant's bucket, 0-9999 (SHA-256 of the id); a cohort of `percent: p` holds buckets below p*100."""

def in_cohort(cohort: Dict[str, Any], tenant: str) -> bool:
    """Whether a tenant is in a cohort ({"name", "percent"} or {"name", "tenants"})."""

class FetchedPack:
    """A pack fetched over HTTP(S), its Digest header checked."""

    @property
    def url(self) -> str: ...
    @property
    def archive(self) -> bytes: ...
    @property
    def etag(self) -> Optional[str]: ...
    @property
    def digest(self) -> Optional[str]: ...
    @property
    def sigstore_bundle(self) -> Optional[bytes]: ...
    @property
    def pack(self) -> Optional[Pack]:
        """The verified pack, when the client has a key."""

class PackClient:
    """A blocking HTTP(S) client for packs: ETag, long polling, Digest, Sigstore bundle, retries."""

    def __init__(
        self,
        *,
        timeout_ms: int = 30000,
        long_poll_ms: Optional[int] = None,
        max_archive_bytes: int = 32 << 20,
        max_bundle_bytes: int = 16 << 20,
        retries: int = 3,
        backoff_ms: int = 200,
        max_backoff_ms: int = 5000,
        require_digest: bool = True,
        sigstore_bundle: bool = True,
        headers: Optional[Dict[str, str]] = None,
        public_key: Optional[str] = None,
        trusted_root: Optional[bytes] = None,
        identity: Optional[str] = None,
        issuer: Optional[str] = None,
    ) -> None: ...
    def fetch(self, url: str, etag: Optional[str] = None) -> Optional[FetchedPack]:
        """None when not modified (304); raises PolicyError ("http_status", "transport",
        "digest_mismatch", "missing_verification", "bundle_verification_failed")."""
    def fetch_attestation(self, url: str) -> bytes: ...
    def poll(
        self,
        url: str,
        store: PolicyStore,
        stop: Callable[[], bool],
        interval_ms: int = 1000,
        on_error: Optional[Callable[[PolicyError], None]] = None,
    ) -> None:
        """Fetch and activate new packs until `stop()` is true (blocks; run it in a thread)."""
    def poll_observed(
        self,
        url: str,
        store: PolicyStore,
        stop: Callable[[], bool],
        on_event: Callable[[Dict[str, Any]], None],
        interval_ms: int = 1000,
    ) -> None:
        """`poll`, calling `on_event` after each round with {"kind": "activated" | "unchanged" |
        "refused" | "failed", "activation": {"status", "pack"} | None, "etag": str | None,
        "error": PolicyError | None, "next_wait_ms": int} (blocks; run it in a thread)."""

# ---------------------------------------------------------------- DLP

class Dlp:
    """Find and redact, mask, replace, hash or drop personal data and secrets.

    Reports never hold the values found; spans are UTF-8 byte offsets.
    """

    def __init__(self, config: Optional[Dict[str, Any]] = None, hash_key: Optional[bytes] = None) -> None:
        """`config`: detectors, without, patterns, operators, default_operator,
        named_operators, redact_template, max_input_bytes, max_depth (docs/dlp.md).
        Raises PolicyError ("dlp_invalid_pattern", "dlp_invalid_operator") or ValueError."""
    def scan(self, text: str) -> List[Dict[str, Any]]: ...
    def redact_text(self, text: str) -> Tuple[str, Dict[str, Any]]:
        """(redacted text, {"findings": [...]})."""
    def redact_json(self, doc: Any, rules: Optional[Dict[str, Any]] = None) -> Tuple[Any, Dict[str, Any]]:
        """`rules`: {"scan_strings": bool, "fields": [{"path", "operator", "class"?, "classification"?}]}."""
    def apply_obligations(self, doc: Any, obligations: List[Dict[str, Any]]) -> Tuple[Any, Dict[str, Any]]:
        """Apply the "redact" obligations of a decision."""

# ---------------------------------------------------------------- disclosure

class DisclosurePack:
    """A validated disclosure pack: which data may go where, why, approved by whom, until when."""

    def __init__(
        self,
        id: str,
        *,
        issuer: str,
        purpose: str,
        datasets: List[Dict[str, Any]],
        created: str,
        expires: str,
        destination_region: Optional[str] = None,
        destination_party: Optional[str] = None,
        approvals: Optional[List[Dict[str, Any]]] = None,
    ) -> None: ...
    @staticmethod
    def from_json(data: bytes) -> "DisclosurePack": ...
    @property
    def id(self) -> str: ...
    def to_dict(self) -> Dict[str, Any]: ...
    def to_json(self) -> bytes:
        """RFC 8785 canonical JSON (the signed payload)."""
    def sign(self, keys: Sequence[SigningKey]) -> bytes:
        """A DSSE envelope (payload type application/vnd.companyos.disclosure+json)."""

class VerifiedDisclosure:
    """A disclosure pack whose signature, validity period and approvals verified."""

    @property
    def pack(self) -> Dict[str, Any]: ...
    @property
    def key_ids(self) -> List[str]: ...
    @property
    def verified_at(self) -> str: ...
    @property
    def approvals(self) -> List[Dict[str, Any]]: ...
    def to_dict(self) -> Dict[str, Any]: ...
    def to_policy_input(self) -> Dict[str, Any]: ...
    def covers(self, dataset: str, classification: str, residency: str) -> bool: ...
    def check_data(self, dataset: str, object: str, data: bytes) -> None: ...
    def check_digest(self, dataset: str, object: str, digest: str) -> None: ...

def verify_disclosure(
    envelope: bytes,
    trusted_keys: Sequence[str],
    now: Optional[str] = None,
    *,
    min_approvals: int = 1,
    required_roles: Optional[Sequence[str]] = None,
    min_signatures: int = 1,
) -> VerifiedDisclosure:
    """Raises PolicyError: disclosure_invalid, disclosure_payload_type,
    disclosure_untrusted_key, disclosure_signature_invalid, disclosure_expired,
    disclosure_not_yet_valid, disclosure_insufficient_approvals."""

def decide_residency(
    engine: Engine,
    entrypoint: str,
    request: Dict[str, Any],
    envelope: Optional[bytes] = None,
    trusted_keys: Optional[Sequence[str]] = None,
    *,
    min_approvals: int = 1,
    required_roles: Optional[Sequence[str]] = None,
    min_signatures: int = 1,
) -> Dict[str, Any]:
    """{"decision": {...}, "disclosure": {"status": "absent" | "verified" | "rejected", ...}}.
    `request`: dataset_id, classification, residency, destination_region, time, party?, purpose?"""

# ---------------------------------------------------------------- supply chain

class Sbom:
    """A software bill of materials: the root, its components and the dependency graph."""

    @staticmethod
    def from_json(data: bytes) -> "Sbom":
        """Read CycloneDX (1.2-1.6) or SPDX (2.2, 2.3) JSON. Raises SupplyChainError "invalid_sbom"."""
    @staticmethod
    def from_lockfile(
        data: bytes,
        file_name: str,
        *,
        include_dev: bool = False,
        root_name: Optional[str] = None,
        root_version: Optional[str] = None,
    ) -> "Sbom":
        """From a lockfile whose kind `file_name` tells: package-lock.json, requirements*.txt,
        poetry.lock, uv.lock. Raises SupplyChainError "unknown_format" (name), "invalid_lockfile"."""
    @staticmethod
    def from_cargo_metadata(
        metadata: bytes, cargo_lock: Optional[bytes] = None, *, packages: Optional[Sequence[str]] = None
    ) -> "Sbom":
        """From `cargo metadata --format-version 1` output and Cargo.lock (checksums)."""
    def write(
        self,
        format: str = "cyclonedx-1.6",
        *,
        created: int,
        tool_name: Optional[str] = None,
        tool_version: Optional[str] = None,
    ) -> bytes:
        """CycloneDX 1.6 / 1.5 or SPDX 2.3 JSON (`format` "cyclonedx-1.6", "cyclonedx-1.5",
        "spdx-2.3"), created at `created` seconds since 1970: the same input and time give the same bytes."""
    def merge(self, other: "Sbom") -> "Sbom":
        """Components united by purl, graphs merged; this SBOM's root stays the root."""
    def diff(self, after: "Sbom") -> "SbomDiff":
        """What changed from this SBOM to `after`."""
    @property
    def root(self) -> Optional[Dict[str, Any]]:
        """The root component: bom_ref, kind, group, name, version, purl, hashes, license, supplier,
        authors, scope, properties."""
    @property
    def components(self) -> List[Dict[str, Any]]:
        """The other components, sorted by bom_ref."""
    def to_dict(self) -> Dict[str, Any]:
        """root, components, dependencies (bom_ref -> [bom_ref]), properties."""
    def __len__(self) -> int: ...

class SbomDiff:
    """Packages added and removed, versions, licences and hashes changed."""

    @property
    def is_empty(self) -> bool: ...
    def to_dict(self) -> Dict[str, Any]:
        """{"added": [...], "removed": [...], "changed": [{"package", "field", "before", "after"}]}."""
    def to_text(self) -> str: ...

def source_date_epoch(value: str) -> int:
    """Seconds since 1970 from a SOURCE_DATE_EPOCH value; SupplyChainError "invalid_source_date_epoch"."""

class LicensePolicy:
    """Allow / deny lists of SPDX licences: {"allow", "deny", "unknown": "block"|"warn"|"allow", "ignore"}."""

    @staticmethod
    def from_json(data: bytes) -> "LicensePolicy":
        """Raises SupplyChainError "invalid_license_policy"."""
    @staticmethod
    def from_yaml(data: bytes) -> "LicensePolicy": ...
    def check(self, sbom: Sbom) -> "LicenseReport": ...

class LicenseReport:
    """The licence gate's verdict for every component."""

    @property
    def passed(self) -> bool: ...
    def to_dict(self) -> Dict[str, Any]:
        """{"passed", "counts": {"pass", "warn", "block", "ignored"}, "components": [...]}."""
    def to_text(self) -> str: ...

def provenance_statement(
    build: Union[bytes, str, Dict[str, Any]], subjects: Sequence[Tuple[str, str]]
) -> Dict[str, Any]:
    """The in-toto Statement with the SLSA v1 predicate of a build description
    (docs/slsa-provenance.md); subjects are (name, "sha256:<hex>")."""

def attest_provenance(
    build: Union[bytes, str, Dict[str, Any]],
    subjects: Sequence[Tuple[str, str]],
    key: SigningKey,
    *,
    format: str = "dsse",
) -> bytes:
    """Signed provenance: a DSSE envelope ("dsse") or a Sigstore bundle ("sigstore-bundle").
    Raises SupplyChainError "invalid_build_description", "unknown_format"."""

def verify_provenance(
    provenance: bytes,
    artifact: bytes,
    *,
    builder_id: str,
    source_uri: str,
    branch: Optional[str] = None,
    tag: Optional[str] = None,
    build_type: Optional[str] = None,
    public_key: Optional[str] = None,
    trusted_root: Optional[bytes] = None,
    identity: Optional[str] = None,
    issuer: Optional[str] = None,
) -> Dict[str, Any]:
    """Verify SLSA provenance (DSSE envelope, .intoto.jsonl, or Sigstore bundle with a key or
    keyless) as slsa-verifier does. Returns subject, artifact_digest, builder_id, build_type,
    source_uri, source_ref, source_commit, signer. Raises SupplyChainVerificationError
    ("provenance_mismatch", "invalid_provenance", "signature_invalid", ...) when the evidence
    does not hold, SupplyChainError "invalid_policy" for unusable expectations or trust."""

class CveVerdict:
    """The CVE gate's verdict (docs/cve-gate.md)."""

    @property
    def passed(self) -> bool: ...
    def to_json(self) -> bytes:
        """RFC 8785 canonical JSON: the same inputs and `now` give the same bytes."""
    def to_dict(self) -> Dict[str, Any]: ...
    def to_text(self) -> str: ...

def cve_gate(
    reports: Sequence[Tuple[str, bytes]],
    *,
    now: str,
    vex: Optional[Sequence[Tuple[str, bytes]]] = None,
    waivers: Optional[bytes] = None,
    policy: Optional[bytes] = None,
    format: str = "auto",
) -> CveVerdict:
    """Judge (name, bytes) vulnerability reports (OSV, Grype, Trivy, CycloneDX) with VEX
    (OpenVEX, CycloneDX), waivers (YAML/JSON) and a policy (YAML/JSON) at `now` (RFC 3339).
    Raises SupplyChainError: "unknown_format", "invalid_report", "invalid_vex",
    "invalid_waivers", "invalid_waiver", "invalid_gate_policy", "invalid_time", "input_too_large"."""

def detect_report_format(data: bytes) -> str:
    """"osv", "grype", "trivy" or "cyclonedx"; SupplyChainError "unknown_format"."""

def cvss_score(vector: str) -> Dict[str, Any]:
    """{"vector", "version", "score", "severity"[, "nomenclature", "ignored_metrics"]} of a
    CVSS v3.0 / v3.1 / v4.0 vector; SupplyChainError "invalid_cvss_vector"."""
