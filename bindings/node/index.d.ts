// Type declarations of @companyos/cos (the native module built from
// bindings/node/src/lib.rs). Written by hand; test/exports.test.js checks
// that every runtime export and class member is declared here and that
// nothing is declared that the module does not export.
//
// Errors: every function throws (or its Promise rejects with) an `Error`
// whose `code` is the stable code of the cos error (`CosErrorCode`, the
// same codes as the Python package's `CosError.code`), or, for an argument
// that cannot be mapped, napi-rs's code (`ArgErrorCode`: `"InvalidArg"` for
// a wrong class, JSON input that `JSON.stringify` rejects or gives
// `undefined` for (a cycle, a BigInt, a function), nesting deeper than 128,
// a negative count, a closed writer; `"StringExpected"` and the like for a
// wrong primitive type). JSON inputs are what `JSON.stringify` makes of
// them (`toJSON` called, `undefined` properties left out, NaN as null).

/// <reference types="node" />

/** A JSON value as JavaScript holds it. */
export type JsonValue =
  | null
  | boolean
  | number
  | string
  | JsonValue[]
  | { [key: string]: JsonValue };

/** Bytes: a string (taken as its UTF-8) or a `Uint8Array`/`Buffer`. */
export type Bytes = string | Uint8Array;

/** Codes of the errors cos throws (`err.code`); see cos-core and cos-policy `Error::code`. */
export type CosErrorCode =
  // cos-core
  | 'invalid_digest'
  | 'unsupported_algorithm'
  | 'invalid_json'
  | 'number_out_of_range'
  | 'invalid_classification'
  | 'invalid_region'
  | 'invalid_residency'
  | 'invalid_tenant_id'
  | 'invalid_release_id'
  | 'invalid_key'
  | 'signature_invalid'
  | 'signing_failed'
  | 'invalid_envelope'
  | 'payload_type_mismatch'
  | 'threshold_not_met'
  | 'invalid_threshold'
  | 'invalid_statement'
  | 'too_large'
  | 'io'
  | 'invalid_sigstore_bundle'
  | 'artifact_mismatch'
  | 'bundle_not_trusted'
  // cos-supplychain
  | 'invalid_trusted_root'
  | 'invalid_policy'
  // cos-policy
  | 'invalid_manifest'
  | 'invalid_file'
  | 'invalid_pack'
  | 'limit_exceeded'
  | 'compile_error'
  | 'evaluation_error'
  | 'timeout'
  | 'invalid_query'
  | 'unknown_entrypoint'
  | 'invalid_decision'
  | 'missing_verification'
  | 'digest_mismatch'
  | 'bundle_verification_failed'
  | 'candidate_tests_failed'
  | 'older_version'
  | 'rollout_refused'
  | 'no_active_pack'
  | 'http_status'
  | 'transport'
  | 'unsupported'
  | 'disclosure_invalid'
  | 'disclosure_signature_invalid'
  | 'disclosure_untrusted_key'
  | 'disclosure_payload_type'
  | 'disclosure_expired'
  | 'disclosure_not_yet_valid'
  | 'disclosure_insufficient_approvals'
  | 'disclosure_digest_mismatch'
  | 'dlp_invalid_pattern'
  | 'dlp_invalid_operator'
  | 'dlp_invalid_path'
  | 'dlp_input_too_large';

/** Codes of argument errors (napi-rs's `Status` names). */
export type ArgErrorCode =
  | 'InvalidArg'
  | 'ObjectExpected'
  | 'StringExpected'
  | 'NumberExpected'
  | 'BooleanExpected'
  | 'ArrayExpected'
  | 'FunctionExpected'
  | 'BigintExpected';

/** The shape of what cos throws: an `Error` with a stable `code`. */
export interface CosError extends Error {
  code: CosErrorCode | ArgErrorCode;
}

// ---------------------------------------------------------------- cos-core

/** `sha256:<hex>` (default) or `sha512:<hex>` of `data`. */
export declare function digest(data: Bytes, algorithm?: 'sha256' | 'sha512'): string;

/** The RFC 8785 canonical form of a JSON text. */
export declare function canonicalize(json: Bytes): Buffer;

/** The RFC 8785 canonical JSON of a JavaScript value. */
export declare function canonicalJson(value: JsonValue): Buffer;

/** Signature algorithms of `SigningKey`. */
export type KeyAlgorithm = 'ed25519' | 'ecdsa-p256';

/** A private signing key (Ed25519 or ECDSA P-256). */
export declare class SigningKey {
  private constructor();
  /** A new random key (default `"ed25519"`). */
  static generate(algorithm?: KeyAlgorithm): SigningKey;
  /** A key from its PKCS#8 PEM text. */
  static fromPem(pem: string): SigningKey;
  /** The PKCS#8 PEM text (secret: handle with care). */
  toPem(): string;
  /** The public key's SPKI PEM text. */
  publicPem(): string;
  /** `sha256` of the public key's SPKI DER, hex. */
  get keyId(): string;
  /** `"ed25519"` or `"ecdsa-p256"`. */
  get algorithm(): KeyAlgorithm;
  /** `SigningKey(algorithm=…, keyId=…)` (never the secret). */
  toString(): string;
}

/** A DSSE envelope (JSON bytes) over `payload`, signed by every key. */
export declare function dsseSign(payload: Bytes, payloadType: string, keys: SigningKey[]): Buffer;

/** What `dsseVerify` returns. */
export interface DsseVerified {
  payload: Buffer;
  payloadType: string;
  /** Key ids of the keys whose signatures verified. */
  keyIds: string[];
}

/**
 * Verifies a DSSE envelope against public keys (SPKI PEM): at least
 * `threshold` (default 1) distinct keys must have signed, and the payload
 * type must be `payloadType` when given. Throws with `code`
 * `signature_invalid`, `threshold_not_met`, `payload_type_mismatch` or
 * `invalid_envelope` when the evidence does not hold.
 */
export declare function dsseVerify(
  envelope: Bytes,
  publicKeys: string[],
  threshold?: number,
  payloadType?: string,
): DsseVerified;

/** A Sigstore bundle (v0.3 JSON bytes, cosign's public-key hint, no log entry) signing `artifact`. */
export declare function sigstoreSignBlob(artifact: Bytes, key: SigningKey): Buffer;

/** What `sigstoreVerifyBlob` returns. */
export interface SigstoreVerified {
  /** Id of the key whose signature verified. */
  keyId: string;
  /** `sha256:<hex>` of the artifact. */
  artifactDigest: string;
  /** The DSSE payload type, when the bundle held an envelope. */
  payloadType?: string;
  /** Transparency-log entries the bundle carries (not checked in key mode). */
  uncheckedTlogEntries: number;
  /** RFC 3161 timestamps the bundle carries (not checked in key mode). */
  uncheckedTimestamps: number;
}

/**
 * Verifies `artifact` against a Sigstore bundle (v0.1–v0.3, or cosign's
 * older blob bundle) with a public key (SPKI PEM, e.g. `cosign.pub`),
 * offline. Throws with `code` `artifact_mismatch`, `signature_invalid` or
 * `invalid_sigstore_bundle` when the evidence does not hold.
 */
export declare function sigstoreVerifyBlob(
  artifact: Bytes,
  bundle: Bytes,
  publicKeyPem: string,
): SigstoreVerified;

/** What `sigstoreVerifyBlobKeyless` returns. */
export interface KeylessVerified {
  /** The certificate identity (SAN) that signed. */
  identity: string;
  /** Its OIDC issuer. */
  issuer: string;
  /** `sha256:<hex>` of the artifact. */
  artifactDigest: string;
  /** The DSSE payload type, when the bundle held an envelope. */
  payloadType?: string;
}

/**
 * Verifies `artifact` against a keyless Sigstore bundle, offline, with a
 * `trusted_root.json`: certificate chain, SCT, Rekor inclusion proof,
 * checkpoint and signed entry timestamp, timestamps, and the exact identity
 * and OIDC issuer. Throws with `code` `bundle_not_trusted`,
 * `artifact_mismatch`, `invalid_sigstore_bundle`, `invalid_trusted_root` or
 * `invalid_policy`.
 */
export declare function sigstoreVerifyBlobKeyless(
  artifact: Bytes,
  bundle: Bytes,
  trustedRoot: Bytes,
  identity: string,
  issuer: string,
): KeylessVerified;

/** A subject of an in-toto statement. */
export interface SubjectInput {
  name: string;
  /** `sha256:<hex>` */
  digest: string;
}

/** An in-toto Statement v1. */
export interface Statement {
  _type: string;
  subject: { name: string; digest: Record<string, string> }[];
  predicateType: string;
  predicate?: JsonValue;
  [key: string]: unknown;
}

/** A validated in-toto Statement v1. */
export declare function statement(
  predicateType: string,
  predicate: JsonValue,
  subjects: SubjectInput[],
): Statement;

/** A DSSE envelope (`application/vnd.in-toto+json`) over the statement. */
export declare function statementSign(statement: Statement, keys: SigningKey[]): Buffer;

/** The statement of a verified in-toto envelope. */
export declare function statementVerify(
  envelope: Bytes,
  publicKeys: string[],
  threshold?: number,
): Statement;

// ---------------------------------------------------------------- cos-policy

/** Options of a bundle signature. */
export interface SignatureOptions {
  /** The `kid` (default: the key's id). */
  keyId?: string;
  /** The `scope` claim. */
  scope?: string;
}

/** What `Pack.verifySignature` returns. */
export interface VerifiedSignature {
  /** The signed claims (`files`, `keyid`, `scope`…) as OPA writes them. */
  claims: { files: { name: string; hash: string; algorithm: string }[]; [key: string]: unknown };
  /** The `kid` header, if any. */
  keyId?: string;
}

/** Options of `Pack.runTests`. */
export interface RunTestsOptions {
  /** Only tests whose package or name matches (as `opa test --run`). */
  run?: string;
  /** OPA's `--strict-builtin-errors`. */
  strictBuiltinErrors?: boolean;
}

/** One result of OPA's JSON test report. */
export interface TestResult {
  location: { file: string; row: number; col: number };
  package: string;
  name: string;
  fail?: boolean;
  error?: unknown;
  skip?: boolean;
  duration: number;
  [key: string]: unknown;
}

/** What `Pack.runTests` returns. */
export interface TestRun {
  report: TestResult[];
  success: boolean;
}

/** A policy pack (or OPA bundle), checked and loaded with size limits. */
export declare class Pack {
  private constructor();
  /** Loads a pack directory, or a pack or bundle `.tar.gz`. */
  static load(path: string): Pack;
  /** Loads a pack or bundle from `.tar.gz` bytes. */
  static fromBytes(data: Uint8Array): Pack;
  get name(): string;
  /** Semver version. */
  get version(): string;
  get revision(): string;
  /** `sha256:<hex>` */
  get digest(): string;
  /** Entrypoint name → document path, from the manifest. */
  get entrypoints(): Record<string, string>;
  /** Whether the pack carries an OPA `.signatures.json`. */
  get isSigned(): boolean;
  /** The pack as a deterministic OPA bundle (`.tar.gz` bytes). */
  buildBundle(): Buffer;
  /** The pack as an OPA bundle signed with an ECDSA P-256 key (ES256 `.signatures.json`). */
  buildSignedBundle(key: SigningKey, options?: SignatureOptions): Buffer;
  /** Verifies `.signatures.json` with a public key (SPKI PEM); throws naming a bad file. */
  verifySignature(publicPem: string, options?: SignatureOptions): VerifiedSignature;
  /** Runs the pack's tests like `opa test`. */
  runTests(options?: RunTestsOptions): TestRun;
  /** `Pack(name=…, version=…, digest=…)` */
  toString(): string;
}

/** `Pack.load` on the libuv thread pool. */
export declare function loadPackAsync(path: string): Promise<Pack>;

/**
 * Options of `fetchAndVerify`: the TypeScript `cos-policy-fetcher`'s
 * `{ url, cosignPath? }`, with the public key instead of a cosign binary.
 */
export interface FetchOptions {
  /** The pack: an `http(s):` URL (its `Digest` header is required and checked; the bundle comes from `x-cosign-bundle` or `<url>/attestation`), a path or a `file:` URL. */
  url: string;
  /** The public key (SPKI PEM, e.g. `cosign.pub`) that signed the pack. */
  publicKey?: string;
  /** Keyless instead of `publicKey`: the `trusted_root.json` (text or bytes)… */
  trustedRoot?: Bytes;
  /** …the certificate identity (exact SAN: e-mail or URI) that must have signed… */
  identity?: string;
  /** …and its OIDC issuer. */
  issuer?: string;
  /** The Sigstore bundle; default `<file>.sigstore.json`, then `<file>.bundle`. */
  bundle?: Bytes;
  /** The `Digest` header value: `sha-256=<hex>` or RFC 3230 `sha-256=<base64>`. */
  digest?: string;
  /** Unpack here (must not exist) instead of a new private temporary directory. */
  dest?: string;
}

/**
 * The fetcher's `fetchAndVerify`, in-process: checks the digest (when given)
 * and the Sigstore bundle with `publicKey`, unpacks the pack atomically and
 * resolves to the directory (`<tmp>/policy-pack-<random>/unpacked` by
 * default). Rejects with the fetcher's messages: `missing verification
 * headers` (code `missing_verification`), `digest mismatch: a != b`
 * (`digest_mismatch`), `cosign verify failed: …` (`bundle_verification_failed`).
 */
export declare function fetchAndVerify(options: FetchOptions): Promise<string>;

/** The fetcher's `fetchAttestation`: the Sigstore bundle at `url` (`http(s):` URL, path or `file:` URL) as text. */
export declare function fetchAttestation(url: string): Promise<string>;

/** Options of `new Engine(pack, options)`. */
export interface EngineOptions {
  /** Fail an evaluation when a builtin fails (OPA's `--strict-builtin-errors`). */
  strictBuiltinErrors?: boolean;
  /** Wall-clock limit of one evaluation, milliseconds (default 1000). */
  timeoutMs?: number;
}

/** A reason of a decision. */
export interface Reason {
  code: string;
  message: string;
}

/** An obligation of a decision (`redact`, `step_up`, `disclosure_pack`, or the pack's own). */
export interface Obligation {
  type?: string;
  [key: string]: unknown;
}

/** A typed decision (`Engine.decide`). */
export interface Decision {
  allow: boolean;
  reasons: Reason[];
  obligations: Obligation[];
  path: string;
  pack: { name: string; version: string; revision: string; digest: string };
  decision_id: string;
  timestamp: string;
  eval_ns: number;
}

/** `Engine.allowReason`: the shape OPA REST clients reduce results to. */
export interface AllowReason {
  allow: boolean;
  reason?: string;
}

/** A compiled pack: evaluate many times; the async variants run on the libuv thread pool. */
export declare class Engine {
  /** Compiles a pack (throws `compile_error`). */
  constructor(pack: Pack, options?: EngineOptions);
  /** A document (`data.a.b` or `a/b`) with OPA's Data API semantics: its value, or `undefined`. */
  evaluate(path: string, input?: JsonValue): any;
  /** `evaluate` off the main thread. */
  evaluateAsync(path: string, input?: JsonValue): Promise<any>;
  /** A typed decision for a manifest entrypoint (or a path). */
  decide(entrypoint: string, input: JsonValue): Decision;
  /** `decide` off the main thread. */
  decideAsync(entrypoint: string, input: JsonValue): Promise<Decision>;
  /** `{allow, reason}` as OPA REST clients reduce a result (`result.allow === true`, a string `result.reason`). */
  allowReason(path: string, input: JsonValue): AllowReason;
  /** Whether `path` runs on regorus' register VM (ADR-0005). */
  runsOnVm(path: string): boolean;
}

/** An OPA decision-log event. */
export interface DecisionEvent {
  labels: Record<string, string>;
  decision_id: string;
  bundles: Record<string, { revision: string }>;
  path: string;
  input?: JsonValue;
  result?: JsonValue;
  requested_by?: string;
  timestamp: string;
  metrics: Record<string, number>;
  erased?: string[];
  masked?: string[];
}

/** OPA decision-log events for an engine, with the pack's `system.log.mask`/`drop` rules applied. */
export declare class DecisionLogger {
  constructor(labels?: Record<string, string>);
  /** The event for a decision from `Engine.decide`, or `undefined` when dropped. */
  eventForDecision(
    engine: Engine,
    decision: Decision,
    input?: JsonValue,
    requestedBy?: string,
  ): DecisionEvent | undefined;
  /** The event for a plain evaluation, or `undefined` when dropped. */
  eventForResult(
    engine: Engine,
    path: string,
    input?: JsonValue,
    result?: JsonValue,
    evalNs?: number,
  ): DecisionEvent | undefined;
}

/** Appends decision-log events to a file as JSON lines, flushed per event. */
export declare class JsonLinesWriter {
  /** Opens (creates or appends to) `path`; throws `code: "io"`. */
  constructor(path: string);
  write(event: DecisionEvent): void;
  /** Closes the file; later writes throw `code: "InvalidArg"`. */
  close(): void;
}
