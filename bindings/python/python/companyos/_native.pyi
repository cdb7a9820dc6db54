"""Type stubs for the native module (see companyos.core and companyos.policy)."""

from os import PathLike
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

class CosError(Exception):
    """Base class of every cos error; `code` is a stable machine code."""

    code: str

class CoreError(CosError): ...
class VerificationError(CoreError): ...
class PolicyError(CosError): ...

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

    Returns key_id, artifact_digest, payload_type, unchecked_tlog_entries, unchecked_timestamps.
    Raises VerificationError (code "artifact_mismatch", "signature_invalid", "invalid_sigstore_bundle").
    """

def sigstore_verify_blob_keyless(
    artifact: bytes, bundle: bytes, trusted_root: bytes, identity: str, issuer: str
) -> Dict[str, Any]:
    """Verify `artifact` against a keyless Sigstore bundle, offline, with a trusted_root.json.

    Checks the certificate chain, SCT, Rekor inclusion proof, checkpoint and
    signed entry timestamp, timestamps, and the exact identity (SAN) and OIDC
    issuer. Returns identity, issuer, artifact_digest, payload_type. Raises
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

    Signed with `public_key` (SPKI PEM), or keyless: `trusted_root`
    (trusted_root.json bytes) with the expected `identity` and `issuer`.
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
    def build_bundle(self) -> bytes: ...
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

class JsonLinesWriter:
    """Appends events to a file as JSON lines, flushed per event."""

    def __init__(self, path: Union[str, "PathLike[str]"]) -> None: ...
    def write(self, event: Dict[str, Any]) -> None: ...
    def close(self) -> None: ...
