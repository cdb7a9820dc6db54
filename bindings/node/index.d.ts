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

/** Codes of the errors cos throws (`err.code`): cos-core's, cos-supplychain's and cos-policy's `Error::CODES`, listed with their meanings in docs/error-codes.md. */
export type CosErrorCode =
  // cos-core
  | 'invalid_digest'
  | 'unsupported_algorithm'
  | 'invalid_json'
  | 'number_out_of_range'
  | 'invalid_duration'
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
  | 'input_too_large'
  | 'too_many_entries'
  | 'unknown_format'
  | 'invalid_report'
  | 'invalid_vex'
  | 'invalid_waivers'
  | 'invalid_waiver'
  | 'invalid_gate_policy'
  | 'invalid_cvss_vector'
  | 'invalid_time'
  | 'invalid_build_description'
  | 'invalid_provenance'
  | 'provenance_mismatch'
  | 'invalid_lockfile'
  | 'invalid_sbom'
  | 'invalid_license_policy'
  | 'invalid_source_date_epoch'
  // cos-policy
  | 'invalid_manifest'
  | 'invalid_file'
  | 'invalid_pack'
  | 'limit_exceeded'
  | 'compile_error'
  | 'evaluation_error'
  | 'timeout'
  | 'resource_limit'
  | 'invalid_query'
  | 'unknown_entrypoint'
  | 'invalid_decision'
  | 'missing_verification'
  | 'digest_mismatch'
  | 'bundle_verification_failed'
  | 'candidate_tests_failed'
  | 'older_version'
  | 'pack_identity'
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

/** What `sigstoreVerifyBlob` and `sigstoreVerifyBlobKeyless` return (`cos_core::sigstore::VerifiedBlob`). */
export interface SigstoreVerified {
  /** Id of the key whose signature verified (key mode); empty for a keyless bundle. */
  keyId: string;
  /** The certificate identity (SAN) a keyless bundle was verified for; `null` in key mode. */
  identity: string | null;
  /** The OIDC issuer a keyless bundle was verified for; `null` in key mode. */
  issuer: string | null;
  /** `sha256:<hex>` of the artifact. */
  artifactDigest: string;
  /** The DSSE payload type, when the bundle held an envelope (else `null`). */
  payloadType: string | null;
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

/** What `sigstoreVerifyBlobKeyless` returns: a `SigstoreVerified` with `identity` and `issuer` set. */
export type KeylessVerified = SigstoreVerified;

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
  /** The `kid` header, if any (else `null`). */
  keyId: string | null;
}

/** Options of `Pack.runTests`. */
export interface RunTestsOptions {
  /** Only tests whose package or name contains this (as `opa test --run`). */
  run?: string;
  /** OPA's `--strict-builtin-errors` (default false). */
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
  /** The pack as a deterministic OPA bundle (`.tar.gz` bytes); entries are dated `SOURCE_DATE_EPOCH` when set (else 0), and a malformed value throws `invalid_source_date_epoch` (so do `buildBundleWithTests` and `buildSignedBundle`). */
  buildBundle(): Buffer;
  /** Like `buildBundle`, with the pack's `tests/` kept (`cos pack build --with-tests`), so that a store runs them before activating it. */
  buildBundleWithTests(): Buffer;
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
  /** The `trusted_root.json` (text or bytes): with `publicKey`, the bundle's Rekor entry is checked against its logs; without, keyless… */
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
  decisionId: string;
  timestamp: string;
  evalNs: number;
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
  /**
   * `evaluate` on JSON text: `inputJson` as `JSON.stringify` writes it (or
   * `undefined` for no input), the result as JSON text, or `undefined` when
   * the document is undefined. For callers that hold JSON text already (an
   * HTTP body): no parse or stringify on the JavaScript side.
   */
  evaluateJson(path: string, inputJson?: string): string | undefined;
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
  /** Why the evaluation failed, when it did. */
  error?: { code: string; message: string };
  /** What the caller added (cos-pdp: `{ route: "POST /v1/data" }`). */
  custom?: Record<string, JsonValue>;
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
  /** The event for a failed evaluation, by `engine` (its drop and mask rules apply) or by none. */
  eventForError(
    path: string,
    error: { code: string; message: string },
    engine?: Engine,
    input?: JsonValue,
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

// ---------------------------------------------------------------- store

/** Which pack made a decision, or what a store operation concerned. */
export interface PackRef {
  name: string;
  version: string;
  revision: string;
  /** `sha256:<hex>` of the pack's files. */
  digest: string;
}

/** What `PolicyStore.activate` (and the other candidate offers) did. */
export interface Activation {
  status: 'activated' | 'unchanged';
  pack: PackRef;
}

/** A pack's decision counters. */
export interface PackStats {
  decisions: number;
  denies: number;
  errors: number;
}

/** A pack held by a `PolicyStore`. */
export interface PackInfo extends PackRef {
  /** `sha256:<hex>` of the archive it came in. */
  archiveDigest: string;
  /** When it passed verification (RFC 3339). */
  verifiedAt: string;
  stats: PackStats;
}

/** Something that happened to a store. */
export interface StoreEvent {
  time: string;
  /** `activated`, `refused`, `rolled_back`, `rolled_back_automatically`, `rollout_started`, `promoted`, `halted`, `resumed`, `shadow_started`, `loaded_last_known_good`. */
  kind: string;
  pack?: string | null;
  detail?: string | null;
}

/** `PolicyStore.status()`. */
export interface StoreStatus {
  stable: PackInfo | null;
  rollout: { pack: PackInfo; cohorts: string[]; remaining: string[]; halted: boolean } | null;
  shadow: {
    pack: PackInfo;
    compared: number;
    differences: number;
    differenceRate: number;
    activeDenyRate: number;
    candidateDenyRate: number;
    candidateErrors: number;
    /** The manifest's `shadow` plan (`sampleRate`, `minSamples`, `maxDifferenceRate`, …). */
    plan: Record<string, number>;
  } | null;
  history: PackInfo[];
  activations: number;
  refusals: number;
  rollbacks: number;
  lastError: StoreEvent | null;
  events: StoreEvent[];
}

/** Options of `new PolicyStore(options)` / `PolicyStore.open(options)`. */
export interface StoreOptions {
  /** Require an OPA `.signatures.json` made with this key (SPKI PEM). */
  opaPublicKey?: string;
  /** The `kid` the OPA signature must carry. */
  opaKeyId?: string;
  /** The `scope` it must carry. */
  opaScope?: string;
  /** Require a Sigstore bundle signed with this key (SPKI PEM)… */
  publicKey?: string;
  /** …and/or the `trusted_root.json` (with `publicKey`: the Rekor entry is checked against its logs; alone: keyless)… */
  trustedRoot?: Bytes;
  /** …the certificate identity… */
  identity?: string;
  /** …and its OIDC issuer. */
  issuer?: string;
  /** The candidate's own tests: `'required'`, `'if_present'` (default) or `'skip'`. */
  tests?: 'required' | 'if_present' | 'skip';
  /** Where the last known good pack is kept (created if missing). */
  stateDir?: string;
  /** Earlier stable packs kept for `rollback()` (default 4). */
  history?: number;
  /** Decisions a pack must make before automatic rollback judges it (default 100). */
  minSamples?: number;
  strictBuiltinErrors?: boolean;
  /** Wall-clock limit of one evaluation, milliseconds (default 1000). */
  timeoutMs?: number;
  /** Time limit of each of a candidate's tests, milliseconds (default 5000; 0: `timeoutMs`). A test out of time refuses the candidate. */
  testTimeoutMs?: number;
  /** The name every pack must have; by default the first pack activated's. Another name, or the active version with other content, is refused with `code: "pack_identity"`. */
  packName?: string;
  /** Time limit of a candidate's compile, milliseconds (default 30000; 0: none); past it the candidate is refused with `code: "timeout"`. */
  compileTimeoutMs?: number;
}

/** What `PolicyStore.evaluateWithPack` returns. */
export interface EvaluatedWithPack {
  pack: PackInfo;
  /** The document, or `undefined` when it is undefined. */
  result?: any;
}

/**
 * The packs a service decides with. Every candidate (archive bytes, and its
 * Sigstore bundle when the store requires one) is verified — signatures,
 * limits, compilation, its own tests — before it decides anything; refusals
 * (`older_version`, `missing_verification`, `bundle_verification_failed`,
 * `signature_invalid`, `candidate_tests_failed`, `compile_error`, …) leave
 * the store as it was. Last known good in `stateDir`, rollback, cohort
 * rollout and shadow evaluation as in cos-policy's `store`.
 */
export declare class PolicyStore {
  /** An empty store. */
  constructor(options?: StoreOptions);
  /** A store started from the last known good pack in `stateDir`, verified again. */
  static open(options?: StoreOptions): PolicyStore;
  /** `open` on the libuv thread pool. */
  static openAsync(options?: StoreOptions): Promise<PolicyStore>;
  /** Whether any pack is active. */
  get isReady(): boolean;
  /** Verifies a candidate and makes it the stable pack (an older version throws `older_version`). */
  activate(archive: Bytes, sigstoreBundle?: Bytes): Activation;
  activateAsync(archive: Bytes, sigstoreBundle?: Bytes): Promise<Activation>;
  /** `activate`, accepting an older version: an explicit rollback. */
  rollBackTo(archive: Bytes, sigstoreBundle?: Bytes): Activation;
  rollBackToAsync(archive: Bytes, sigstoreBundle?: Bytes): Promise<Activation>;
  /** Verifies a candidate and rolls it out to the first cohort of its manifest. */
  startRollout(archive: Bytes, sigstoreBundle?: Bytes): Activation;
  startRolloutAsync(archive: Bytes, sigstoreBundle?: Bytes): Promise<Activation>;
  /** Verifies a candidate and evaluates it in the shadow of the deciding pack. */
  startShadow(archive: Bytes, sigstoreBundle?: Bytes): Activation;
  startShadowAsync(archive: Bytes, sigstoreBundle?: Bytes): Promise<Activation>;
  /** Shadow → rollout (or stable), next cohort, stable; throws `rollout_refused`. */
  promote(): PackRef;
  /** Freezes a rollout at its current cohorts. */
  halt(): PackRef;
  /** Lifts a halt. */
  resume(): PackRef;
  /** Abandons a rollout or shadow, or returns to the previous stable pack. */
  rollback(): PackRef;
  status(): StoreStatus;
  /** The pack a tenant's decisions go to now, or `undefined` before any activation. */
  packFor(tenant?: string): PackInfo | undefined;
  /** A typed decision from the tenant's pack (counted, compared with a shadow). */
  decide(entrypoint: string, input: JsonValue, tenant?: string): Decision;
  /** A document from the tenant's pack: its value, or `undefined`. */
  evaluate(path: string, input?: JsonValue, tenant?: string): any;
  /**
   * `evaluate` on JSON text, as `Engine.evaluateJson`: `inputJson` as
   * `JSON.stringify` writes it (or `undefined`), the result as JSON text or
   * `undefined`. Counted and shadow-compared like `evaluate`.
   */
  evaluateJson(path: string, inputJson?: string, tenant?: string): string | undefined;
  /** `evaluate`, also returning the pack that answered. */
  evaluateWithPack(path: string, input?: JsonValue, tenant?: string): EvaluatedWithPack;
}

/** The tenant's bucket, 0–9999 (SHA-256 of the id); a cohort of `percent: p` holds buckets below `p × 100`. */
export declare function tenantBucket(tenant: string): number;

/** A rollout cohort of a pack manifest. */
export interface Cohort {
  name: string;
  percent?: number;
  tenants?: string[];
}

/** Whether a tenant belongs to a cohort. */
export declare function inCohort(cohort: Cohort, tenant: string): boolean;

/** Options of `new PackClient(options)`. */
export interface PackClientOptions {
  /** Limit of one attempt, milliseconds (default 30000). */
  timeoutMs?: number;
  /** With an ETag, ask the server to hold the request up to this long (`Prefer: wait`). */
  longPollMs?: number;
  /** Largest archive (default 32 MiB). */
  maxArchiveBytes?: number;
  /** Largest Sigstore bundle (default 16 MiB). */
  maxBundleBytes?: number;
  /** Retries on connection errors, timeouts, 429 and 5xx (default 3). */
  retries?: number;
  /** First wait before a retry, milliseconds (default 200), doubled each time. */
  backoffMs?: number;
  /** Longest wait between retries (default 5000). */
  maxBackoffMs?: number;
  /** Require a `Digest` header (default true). */
  requireDigest?: boolean;
  /** Fetch the Sigstore bundle, from `x-cosign-bundle` or `<url>/attestation` (default true). */
  sigstoreBundle?: boolean;
  /** Extra request headers (e.g. `Authorization`). */
  headers?: Record<string, string>;
  /** Verify fetched packs with this key (SPKI PEM)… */
  publicKey?: string;
  /** …or keyless: `trusted_root.json`, identity and issuer. */
  trustedRoot?: Bytes;
  identity?: string;
  issuer?: string;
}

/** A pack fetched over HTTP(S), its `Digest` checked. */
export declare class FetchedPack {
  private constructor();
  get url(): string;
  get archive(): Buffer;
  /** The `ETag`, for the next conditional fetch. */
  get etag(): string | null;
  /** `sha256:<hex>` the server announced (and the body matched). */
  get digest(): string | null;
  get sigstoreBundle(): Buffer | null;
  /** The verified pack, when the client has a key. */
  get pack(): Pack | null;
}

/** The last error a poller saw. */
export interface PollError {
  code: CosErrorCode;
  message: string;
}

/** What one round of `PackClient.pollObserved` did. */
export interface PollEvent {
  /** A pack activated (or found already active), a 304, a pack refused, a fetch failed. */
  kind: 'activated' | 'unchanged' | 'refused' | 'failed';
  /** What the store did, for `activated`. */
  activation: Activation | null;
  /** The ETag the loop holds after the round (sent as `If-None-Match` next). */
  etag: string | null;
  /** Why, for `refused` and `failed`. */
  error: PollError | null;
  /** The wait before the next round, milliseconds (0 when a long poll goes straight back). */
  nextWaitMs: number;
}

/** A polling loop started by `PackClient.poll` or `PackClient.pollObserved`. */
export declare class Poller {
  private constructor();
  /** Asks the loop to stop (within about 50 ms, or when a long poll in progress returns). */
  stop(): void;
  get running(): boolean;
  /** Failed fetches and refused packs so far. */
  get errors(): number;
  get lastError(): PollError | null;
}

/** An HTTP(S) pack client: ETag, long polling, `Digest`, Sigstore bundle, retries; requests run off the main thread. */
export declare class PackClient {
  constructor(options?: PackClientOptions);
  /**
   * GETs a pack (conditionally with `etag`): `null` when not modified (304),
   * else the fetched pack, verified into `.pack` when the client has a key.
   * Rejects with `http_status`, `transport`, `digest_mismatch`,
   * `missing_verification`, `bundle_verification_failed`, `limit_exceeded`.
   */
  fetch(url: string, etag?: string): Promise<FetchedPack | null>;
  /** GETs a Sigstore bundle. */
  fetchAttestation(url: string): Promise<Buffer>;
  /** Keeps `store` up to date from `url` on a background thread until `poller.stop()`. */
  poll(url: string, store: PolicyStore, intervalMs?: number): Poller;
  /**
   * `poll`, calling `onEvent` on the main thread after each round. An
   * `onEvent` that throws is an uncaught exception, as in an event listener.
   */
  pollObserved(
    url: string,
    store: PolicyStore,
    onEvent: (event: PollEvent) => void,
    intervalMs?: number,
  ): Poller;
}

// ---------------------------------------------------------------- DLP

/** A DLP operator: a name, or the tagged object form. */
export type DlpOperator =
  | 'redact'
  | 'mask'
  | 'hash'
  | 'drop'
  | { type: 'redact' | 'hash' | 'drop' }
  | { type: 'mask'; char?: string; keep?: number; from?: 'start' | 'end' }
  | { type: 'replace'; value: string };

/** Built-in detectors (entity names). */
export type Detector =
  | 'email'
  | 'phone'
  | 'credit_card'
  | 'iban'
  | 'ssn'
  | 'ipv4'
  | 'ipv6'
  | 'mac_address'
  | 'jwt'
  | 'aws_access_key'
  | 'github_token'
  | 'slack_token'
  | 'stripe_key'
  | 'google_api_key'
  | 'private_key';

/** A DLP configuration (cos-policy's `DlpConfig` JSON; docs/dlp.md). */
export interface DlpConfig {
  detectors?: Detector[];
  without?: Detector[];
  patterns?: { name: string; pattern: string; classification?: string; operator?: DlpOperator }[];
  operators?: Record<string, DlpOperator>;
  default_operator?: DlpOperator;
  named_operators?: Record<string, DlpOperator>;
  redact_template?: string;
  max_input_bytes?: number;
  max_depth?: number;
}

/** Field rules for `Dlp.redactJson`. */
export interface FieldRulesConfig {
  /** Whether strings no rule selects are scanned (default true). */
  scan_strings?: boolean;
  fields?: { path: string; operator: DlpOperator; class?: string; classification?: string }[];
}

/** A byte range `[start, end)` (UTF-8). */
export interface Span {
  start: number;
  end: number;
}

/** One match of `Dlp.scan`. */
export interface Detection {
  entity: string;
  span: Span;
  classification?: string;
}

/** One finding of a redaction: never the value. */
export interface Finding {
  entity: string;
  path?: string;
  span?: Span;
  classification?: string;
  operator: 'redact' | 'mask' | 'replace' | 'hash' | 'drop';
}

/** A redaction's output and report. */
export interface Redacted<T> {
  output: T;
  report: { findings: Finding[] };
}

/** Data loss prevention: find and redact, mask, replace, hash or drop personal data and secrets. */
export declare class Dlp {
  /** Throws `dlp_invalid_pattern`, `dlp_invalid_operator`, or `InvalidArg` for a malformed configuration. */
  constructor(config?: DlpConfig, hashKey?: Bytes);
  scan(text: string): Detection[];
  redactText(text: string): Redacted<string>;
  redactTextAsync(text: string): Promise<Redacted<string>>;
  redactJson(doc: JsonValue, rules?: FieldRulesConfig): Redacted<any>;
  redactJsonAsync(doc: JsonValue, rules?: FieldRulesConfig): Promise<Redacted<any>>;
  /** Applies the `redact` obligations of a decision (`decision.obligations`). */
  applyObligations(doc: JsonValue, obligations: Obligation[]): Redacted<any>;
}

// ---------------------------------------------------------------- disclosure

/** An approval of a disclosure pack. */
export interface Approval {
  approver: string;
  role: string;
  /** RFC 3339 UTC. */
  time: string;
}

/** A dataset of a disclosure pack. */
export interface DisclosureDataset {
  id: string;
  classification: string;
  residency: string[];
  objects: { name: string; digest: string }[];
}

/** The JSON form of a disclosure pack (docs/disclosure-packs.md). */
export interface DisclosurePackJson {
  id: string;
  issuer: string;
  purpose: string;
  destination: { region?: string; party?: string };
  datasets: DisclosureDataset[];
  approvals: Approval[];
  created: string;
  expires: string;
}

/** What `new DisclosurePack(spec)` takes (times RFC 3339 UTC). */
export interface DisclosurePackSpec {
  id: string;
  issuer: string;
  purpose: string;
  destinationRegion?: string;
  destinationParty?: string;
  datasets: DisclosureDataset[];
  approvals?: Approval[];
  created: string;
  expires: string;
}

/** A validated disclosure pack. */
export declare class DisclosurePack {
  /** Throws `disclosure_invalid` (or `invalid_region`, `InvalidArg`). */
  constructor(spec: DisclosurePackSpec);
  static fromJson(data: Bytes): DisclosurePack;
  get id(): string;
  toObject(): DisclosurePackJson;
  /** The RFC 8785 canonical JSON (the signed payload). */
  toJson(): Buffer;
  /** A DSSE envelope (payload type `application/vnd.companyos.disclosure+json`). */
  sign(keys: SigningKey[]): Buffer;
}

/** Options of `verifyDisclosure` and `decideResidency`. */
export interface ApprovalOptions {
  /** Fewest distinct approvers (default 1). */
  minApprovals?: number;
  /** Roles some approval must carry each. */
  requiredRoles?: string[];
  /** Fewest distinct trusted keys that must have signed (default 1). */
  minSignatures?: number;
  /** `verifyDisclosure`: verify for this time (RFC 3339; default now). */
  now?: string;
  /** `decideResidency`: the disclosure pack envelope. */
  envelope?: Bytes;
  /** `decideResidency`: trusted keys (SPKI PEM). */
  trustedKeys?: string[];
}

/** A disclosure pack whose signature, validity period and approvals verified. */
export declare class VerifiedDisclosure {
  private constructor();
  get pack(): DisclosurePackJson;
  get keyIds(): string[];
  get verifiedAt(): string;
  get approvals(): Approval[];
  toObject(): any;
  /** The `disclosure_pack` object of a policy input (`approved: true`). */
  toPolicyInput(): Record<string, any>;
  covers(dataset: string, classification: string, residency: string): boolean;
  /** Throws `disclosure_digest_mismatch` unless `data` is the object the pack lists. */
  checkData(dataset: string, object: string, data: Bytes): void;
  checkDigest(dataset: string, object: string, digest: string): void;
}

/**
 * Verifies a disclosure pack envelope against trusted keys (SPKI PEM).
 * Throws `disclosure_invalid`, `disclosure_payload_type`,
 * `disclosure_untrusted_key`, `disclosure_signature_invalid`,
 * `disclosure_expired`, `disclosure_not_yet_valid`,
 * `disclosure_insufficient_approvals`; `invalid_threshold` for no keys.
 */
export declare function verifyDisclosure(
  envelope: Bytes,
  trustedKeys: string[],
  options?: ApprovalOptions,
): VerifiedDisclosure;

/** A residency request (cos-policy's `ResidencyRequest` JSON). */
export interface ResidencyRequest {
  dataset_id: string;
  classification: string;
  residency: string;
  destination_region: string;
  party?: string;
  purpose?: string;
  /** RFC 3339 UTC. */
  time: string;
}

/** What `decideResidency` returns. */
export interface ResidencyOutcome {
  decision: Decision;
  disclosure:
    | { status: 'absent' }
    | { status: 'verified'; id: string; key_ids: string[]; policy_input: Record<string, any> }
    | { status: 'rejected'; code: CosErrorCode; message: string };
}

/**
 * The residency decision (AC-4): verifies `options.envelope`, if any, at the
 * request's time, and asks `entrypoint` (`residency` in the baseline pack).
 * A pack that does not verify is not passed to the policy.
 */
export declare function decideResidency(
  engine: Engine,
  entrypoint: string,
  request: ResidencyRequest,
  options?: ApprovalOptions,
): ResidencyOutcome;

// ---------------------------------------------------------------- cos-supplychain
//
// SBOMs, the licence gate, SLSA provenance and the CVE gate. Errors carry
// the codes of cos-supplychain (`invalid_lockfile`, `invalid_sbom`,
// `unknown_format`, `provenance_mismatch`, …); verification failures carry
// the code of what did not hold (`provenance_mismatch`,
// `invalid_provenance`, `signature_invalid`, `artifact_mismatch`,
// `bundle_not_trusted`, `invalid_sigstore_bundle`, `invalid_envelope`).

/** A hash of a component's artefact (CycloneDX algorithm names). */
export interface SbomHash {
  algorithm: string;
  value: string;
}

/** One component of an SBOM (the model, not a CycloneDX or SPDX document). */
export interface SbomComponent {
  /** The component's reference (CycloneDX `bom-ref`, SPDX `SPDXID`). */
  bomRef: string;
  /** `library`, `application`, `framework`, `container`, … */
  kind: string;
  group: string | null;
  name: string;
  version: string | null;
  purl: string | null;
  hashes: SbomHash[];
  /** An SPDX expression, or licence text that is not one. */
  license: { expression: string } | { name: string } | null;
  supplier: string | null;
  authors: string[];
  scope: 'required' | 'optional' | 'excluded';
  properties: Record<string, string>;
}

/** The SBOM model: root, components, dependency graph, properties. */
export interface SbomModel {
  root: SbomComponent | null;
  components: SbomComponent[];
  /** bomRef → the bomRefs it depends on (no entry: unknown). */
  dependencies: Record<string, string[]>;
  properties: Record<string, string>;
}

/** Options of the lockfile producers. */
export interface SbomOptions {
  /** npm, Poetry, uv: keep dev dependencies (left out by default). */
  includeDev?: boolean;
  /** Python: name of the root component (default `python-project`). */
  rootName?: string;
  /** Python: version of the root component. */
  rootVersion?: string;
}

/** Options of `Sbom.fromCargoMetadata`. */
export interface CargoSbomOptions {
  /** Workspace members to describe (default: the manifest's package, or every member). */
  packages?: string[];
}

/** SBOM output formats. */
export type SbomFormat = 'cyclonedx-1.6' | 'cyclonedx-1.5' | 'spdx-2.3';

/** Options of `Sbom.write`. */
export interface SbomWriteOptions {
  /** Default `cyclonedx-1.6`. */
  format?: SbomFormat;
  /** Creation time in seconds since 1970 (`SOURCE_DATE_EPOCH`): the same input and time give the same bytes. */
  created: number;
  /** Tool recorded as the author (default `cos`). */
  toolName?: string;
  toolVersion?: string;
}

/** A software bill of materials. */
export declare class Sbom {
  private constructor();
  /** CycloneDX (1.2–1.6) or SPDX (2.2, 2.3) JSON; throws `invalid_sbom`. */
  static fromJson(data: Bytes): Sbom;
  /**
   * From a lockfile whose kind `fileName` tells: `package-lock.json`,
   * `requirements*.txt`, `poetry.lock`, `uv.lock` (`unknown_format`
   * otherwise); throws `invalid_lockfile` for malformed input.
   */
  static fromLockfile(data: Bytes, fileName: string, options?: SbomOptions): Sbom;
  /** From `cargo metadata --format-version 1` output and `Cargo.lock` (checksums). */
  static fromCargoMetadata(metadata: Bytes, cargoLock?: Bytes | null, options?: CargoSbomOptions): Sbom;
  /** CycloneDX 1.6 / 1.5 or SPDX 2.3 JSON. */
  write(options: SbomWriteOptions): Buffer;
  /** Components united by purl, graphs merged; this SBOM's root stays the root. */
  merge(other: Sbom): Sbom;
  /** What changed from this SBOM to `after`. */
  diff(after: Sbom): SbomDiff;
  get root(): SbomComponent | null;
  /** The components other than the root, sorted by `bomRef`. */
  get components(): SbomComponent[];
  /** Components including the root. */
  get size(): number;
  toObject(): SbomModel;
  toString(): string;
}

/** What `SbomDiff.toObject` returns. */
export interface SbomDiffJson {
  added: { package: string; version: string | null; purl: string | null; license: string | null }[];
  removed: { package: string; version: string | null; purl: string | null; license: string | null }[];
  changed: { package: string; field: string; before: string | null; after: string | null }[];
}

/** What changed between two SBOMs. */
export declare class SbomDiff {
  private constructor();
  get isEmpty(): boolean;
  toObject(): SbomDiffJson;
  /** `+ added`, `- removed`, `~ changed` lines and a count. */
  toText(): string;
}

/** `Sbom.fromJson` off the main thread. */
export declare function sbomFromJsonAsync(data: Bytes): Promise<Sbom>;
/** `Sbom.fromLockfile` off the main thread (an unknown file name throws at once). */
export declare function sbomFromLockfileAsync(data: Bytes, fileName: string, options?: SbomOptions): Promise<Sbom>;
/** `Sbom.fromCargoMetadata` off the main thread. */
export declare function sbomFromCargoMetadataAsync(
  metadata: Bytes,
  cargoLock?: Bytes | null,
  options?: CargoSbomOptions,
): Promise<Sbom>;

/** Seconds since 1970 from a `SOURCE_DATE_EPOCH` value; throws `invalid_source_date_epoch`. */
export declare function sourceDateEpoch(value: string): number;

/** Allow / deny lists of SPDX licences: `{allow, deny, unknown: 'block'|'warn'|'allow', ignore}`. */
export declare class LicensePolicy {
  private constructor();
  /** Throws `invalid_license_policy`. */
  static fromJson(data: Bytes): LicensePolicy;
  static fromYaml(data: Bytes): LicensePolicy;
  check(sbom: Sbom): LicenseReport;
}

/** What `LicenseReport.toObject` returns. */
export interface LicenseReportJson {
  passed: boolean;
  counts: { pass: number; warn: number; block: number; ignored: number };
  components: {
    bom_ref: string;
    name: string;
    version: string | null;
    purl: string | null;
    license: string | null;
    outcome: string;
    reason: string;
    offending: string[];
  }[];
}

/** The licence gate's verdict. */
export declare class LicenseReport {
  private constructor();
  get passed(): boolean;
  toObject(): LicenseReportJson;
  toText(): string;
}

/** A build description (docs/slsa-provenance.md; snake_case keys, unknown keys refused). */
export interface BuildDescription {
  builder_id: string;
  builder_version?: Record<string, string>;
  build_type: string;
  external_parameters?: Record<string, JsonValue>;
  internal_parameters?: Record<string, JsonValue>;
  source?: { repository: string; commit: string; ref?: string };
  resolved_dependencies?: JsonValue[];
  invocation_id?: string;
  started_on?: string;
  finished_on?: string;
  byproducts?: JsonValue[];
}

/** The in-toto Statement with the SLSA v1 predicate; throws `invalid_build_description`. */
export declare function provenanceStatement(build: Bytes | BuildDescription, subjects: SubjectInput[]): Statement;

/** Options of `attestProvenance`. */
export interface AttestOptions {
  /** `dsse` (default): a DSSE envelope; `sigstore-bundle`: a Sigstore bundle v0.3. */
  format?: 'dsse' | 'sigstore-bundle';
}

/** Signed SLSA provenance (JSON bytes). */
export declare function attestProvenance(
  build: Bytes | BuildDescription,
  subjects: SubjectInput[],
  key: SigningKey,
  options?: AttestOptions,
): Buffer;

/** What `verifyProvenance` expects and trusts. */
export interface VerifyProvenanceOptions {
  /** Expected builder id (without `@version`: any version of that builder). */
  builderId: string;
  /** Expected source repository (`github.com/acme/app`). */
  sourceUri: string;
  /** `main` or `refs/heads/main`. */
  branch?: string;
  /** `v1.2.0` or `refs/tags/v1.2.0`. */
  tag?: string;
  buildType?: string;
  /** The signer's public key (SPKI PEM): DSSE envelopes and key-signed bundles. */
  publicKey?: string;
  /** Keyless bundles: `trusted_root.json`, the certificate identity (exact SAN) and OIDC issuer. */
  trustedRoot?: Bytes;
  identity?: string;
  issuer?: string;
}

/** What `verifyProvenance` established. */
export interface VerifiedProvenance {
  subject: string;
  artifactDigest: string;
  builderId: string;
  buildType: string;
  sourceUri: string;
  /** The source ref, when the provenance names one (else `null`). */
  sourceRef: string | null;
  /** The source commit, when the provenance names one (else `null`). */
  sourceCommit: string | null;
  signer: string;
}

/**
 * Verifies SLSA provenance (a DSSE envelope, the first line of an
 * `.intoto.jsonl`, or a Sigstore bundle with a key or keyless) for
 * `artifact`, offline, as `slsa-verifier verify-artifact` does. Throws
 * `provenance_mismatch` (naming the field), `invalid_provenance`, the
 * signature's codes; `invalid_policy` for unusable expectations or trust.
 */
export declare function verifyProvenance(
  provenance: Bytes,
  artifact: Bytes,
  options: VerifyProvenanceOptions,
): VerifiedProvenance;
/** `verifyProvenance` off the main thread. */
export declare function verifyProvenanceAsync(
  provenance: Bytes,
  artifact: Bytes,
  options: VerifyProvenanceOptions,
): Promise<VerifiedProvenance>;

/** A named document: a vulnerability report or a VEX document. */
export interface NamedDocument {
  /** The name recorded in the verdict (a file name). */
  name: string;
  data: Bytes;
}

/** The inputs of `cveGate` (docs/cve-gate.md). */
export interface CveGateOptions {
  /** OSV, Grype, Trivy or CycloneDX reports; at least one. */
  reports: NamedDocument[];
  /** The time waivers are judged at (RFC 3339). */
  now: string;
  /** OpenVEX or CycloneDX VEX documents. */
  vex?: NamedDocument[];
  /** The waivers file (YAML or JSON). */
  waivers?: Bytes;
  /** The gate policy (YAML or JSON); default: block CVSS 7.0 and above. */
  policy?: Bytes;
  format?: 'auto' | 'osv' | 'grype' | 'trivy' | 'cyclonedx';
}

/** The verdict as an object (docs/cve-gate.md, "The verdict"). */
export interface CveVerdictJson {
  schema: string;
  result: 'pass' | 'fail';
  now: string;
  policy: Record<string, any>;
  inputs: { kind: string; source: string; format: string; entries: number; digest: string }[];
  counts: Record<string, number>;
  severities: Record<string, Record<string, any>>;
  findings: Record<string, any>[];
  waivers: Record<string, any>[];
}

/** The CVE gate's verdict. */
export declare class CveVerdict {
  private constructor();
  get passed(): boolean;
  /** RFC 8785 canonical JSON: the same inputs and `now` give the same bytes. */
  toJson(): Buffer;
  toObject(): CveVerdictJson;
  toText(): string;
}

/**
 * Judges vulnerability reports with VEX documents, waivers and a policy at
 * `now`. Throws `unknown_format`, `invalid_report`, `invalid_vex`,
 * `invalid_waivers`, `invalid_waiver`, `invalid_gate_policy`,
 * `invalid_time`, `input_too_large`, `too_many_entries`.
 */
export declare function cveGate(options: CveGateOptions): CveVerdict;
/** `cveGate` off the main thread. */
export declare function cveGateAsync(options: CveGateOptions): Promise<CveVerdict>;

/** `osv`, `grype`, `trivy` or `cyclonedx`, from a report's content; throws `unknown_format`. */
export declare function detectReportFormat(data: Bytes): 'osv' | 'grype' | 'trivy' | 'cyclonedx';

/** The score of a CVSS vector. */
export interface CvssScore {
  vector: string;
  version: '3.0' | '3.1' | '4.0';
  score: number;
  severity: 'none' | 'low' | 'medium' | 'high' | 'critical';
  /** v4.0: `CVSS-B`, `CVSS-BT`, `CVSS-BE`, `CVSS-BTE`. */
  nomenclature?: string;
  /** v3.x metrics in the vector that the base score does not use. */
  ignored_metrics?: string[];
}

/** The CVSS v3.0/v3.1/v4.0 score of a vector; throws `invalid_cvss_vector`. */
export declare function cvssScore(vector: string): CvssScore;
