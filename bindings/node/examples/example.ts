// The API with its types, from CommonJS TypeScript (checked by
// `npm run typecheck`: tsc --noEmit). Run from the repository root.
import {
  digest,
  canonicalize,
  canonicalJson,
  SigningKey,
  dsseSign,
  dsseVerify,
  statement,
  statementSign,
  statementVerify,
  sigstoreSignBlob,
  sigstoreVerifyBlob,
  fetchAndVerify,
  fetchAttestation,
  Pack,
  loadPackAsync,
  Engine,
  DecisionLogger,
  JsonLinesWriter,
  PolicyStore,
  PackClient,
  Dlp,
  DisclosurePack,
  verifyDisclosure,
  decideResidency,
  tenantBucket,
  inCohort,
  type Activation,
  type PackInfo,
  type StoreStatus,
  type Redacted,
  type ResidencyOutcome,
  type VerifiedDisclosure,
  type AllowReason,
  type CosError,
  type Decision,
  type DecisionEvent,
  type DsseVerified,
  type Statement,
  type TestRun,
} from '@companyos/cos';

const PACK = 'examples/policy-packs/companyos-baseline';

const input = {
  subject: { id: 'u1', tenant: 'acme', roles: ['analyst'], attributes: { clearance: 'CONFIDENTIAL' } },
  action: 'read',
  resource: { type: 'dataset', id: 'd1', tenant: 'acme', classification: 'CONFIDENTIAL' },
  context: { time: '2026-11-22T10:00:00Z' },
};

function core(): void {
  const d: string = digest(Buffer.from('artifact'), 'sha256');
  const canon: Buffer = canonicalize('{"b":1,"a":2}');
  const canon2: Buffer = canonicalJson({ a: [1, null, true] });
  const key: SigningKey = SigningKey.generate('ecdsa-p256');
  const again: SigningKey = SigningKey.fromPem(key.toPem());
  const env: Buffer = dsseSign('payload', 'text/plain', [key, again]);
  const v: DsseVerified = dsseVerify(env, [key.publicPem()], 1, 'text/plain');
  const st: Statement = statement('https://slsa.dev/provenance/v1', { buildType: 'x' }, [{ name: 'app.tar', digest: d }]);
  const verified: Statement = statementVerify(statementSign(st, [key]), [key.publicPem()]);
  console.log(canon.length, canon2.length, v.keyIds, key.keyId, key.algorithm, verified.subject[0].name);
}

async function policy(): Promise<void> {
  const pack: Pack = await loadPackAsync(PACK);
  const entry: string | undefined = pack.entrypoints['abac'];
  const bundle: Buffer = pack.buildBundle();
  console.log(pack.name, pack.version, pack.revision, pack.digest, pack.isSigned, entry, Pack.fromBytes(bundle).name);

  const key = SigningKey.generate('ecdsa-p256');
  const signed = Pack.fromBytes(pack.buildSignedBundle(key, { keyId: 'release' }));
  const { keyId, claims } = signed.verifySignature(key.publicPem(), { keyId: 'release' });
  console.log(keyId, claims.files.length);
  const tests: TestRun = pack.runTests({ run: 'abac' });
  console.log(tests.success, tests.report.length);

  const engine = new Engine(Pack.load(PACK), { timeoutMs: 500 });
  const doc: unknown = engine.evaluate('data.companyos.abac.decision', input);
  const decision: Decision = engine.decide('abac', input);
  const later: Decision = await engine.decideAsync('abac', input);
  const docLater: unknown = await engine.evaluateAsync('companyos/abac/decision', input);
  const ar: AllowReason = engine.allowReason('companyos/abac/decision', input);
  console.log(doc, decision.allow, later.reasons.map((r) => r.code), docLater, ar.allow, ar.reason ?? '-', engine.runsOnVm('companyos/abac/decision'));

  const logger = new DecisionLogger({ service: 'example' });
  const ev: DecisionEvent | undefined = logger.eventForDecision(engine, decision, input, '127.0.0.1');
  const ev2: DecisionEvent | undefined = logger.eventForResult(engine, 'companyos/abac/decision', input, { allow: true }, 1000);
  const writer = new JsonLinesWriter('/dev/null');
  if (ev) writer.write(ev);
  if (ev2) writer.write(ev2);
  writer.close();

  try {
    Pack.load('no/such/pack');
  } catch (e) {
    const err = e as CosError;
    console.log(err.code, err.message);
  }
}

// The summit cos-policy-fetcher's fetchAndVerify, in-process: same call
// shape, a public key instead of cosignPath; the engine replaces the OPA
// REST client (`opa-client.ts`) with a one-line change.
async function dropIn(packFile: string, publicKey: string): Promise<{ allow: boolean; reason?: string }> {
  const dir: string = await fetchAndVerify({ url: packFile, publicKey });
  const bundleText: string = await fetchAttestation(`${packFile}.sigstore.json`);
  const key = SigningKey.generate('ecdsa-p256');
  const checked = sigstoreVerifyBlob('x', sigstoreSignBlob('x', key), key.publicPem());
  console.log(bundleText.length, checked.keyId, checked.uncheckedTlogEntries);
  const engine = new Engine(Pack.load(dir));
  return engine.allowReason('companyos/abac/decision', { subject: { id: 'u1' } });
}
void dropIn;

// The pack store, the HTTP client, DLP and disclosure packs, with their types.
async function storeDlpDisclosure(url: string, publicKey: string): Promise<void> {
  const store = new PolicyStore({ publicKey, tests: 'if_present', stateDir: '/tmp/cos-lkg' });
  const client = new PackClient({ publicKey, longPollMs: 30_000, retries: 2 });
  const fetched = await client.fetch(url);
  if (fetched) {
    const a: Activation = await store.activateAsync(fetched.archive, fetched.sigstoreBundle ?? undefined);
    console.log(a.status, a.pack.version, fetched.etag, fetched.pack?.version);
  }
  const poller = client.poll(url, store, 1000);
  poller.stop();
  const info: PackInfo | undefined = store.packFor('acme');
  const status: StoreStatus = store.status();
  console.log(info?.stats.decisions, status.refusals, tenantBucket('acme'), inCohort({ name: 'c', percent: 5 }, 'acme'));

  const dlp = new Dlp({ operators: { credit_card: { type: 'mask', keep: 4 } }, without: ['ipv4'] }, 'key');
  const r: Redacted<string> = dlp.redactText('card 4111 1111 1111 1111');
  const j: Redacted<any> = dlp.redactJson({ a: 'x@example.com' }, { fields: [{ path: 'a', operator: 'hash' }] });
  console.log(r.output, r.report.findings[0]?.operator, j.output);

  const key = SigningKey.generate();
  const envelope: Buffer = new DisclosurePack({
    id: 'dp-1', issuer: 'privacy', purpose: 'support', destinationRegion: 'US',
    datasets: [{ id: 'ds', classification: 'CONFIDENTIAL', residency: ['EU-Only'], objects: [{ name: 'o', digest: digest('x') }] }],
    created: '2026-11-20T08:00:00Z', expires: '2027-01-01T00:00:00Z',
  }).sign([key]);
  const v: VerifiedDisclosure = verifyDisclosure(envelope, [key.publicPem()], { now: '2026-11-22T10:00:00Z' });
  const out: ResidencyOutcome = decideResidency(new Engine(Pack.load(PACK)), 'residency', {
    dataset_id: 'ds', classification: 'CONFIDENTIAL', residency: 'EU-Only', destination_region: 'us-east-1',
    time: '2026-11-22T10:00:00Z',
  }, { envelope, trustedKeys: [key.publicPem()] });
  console.log(v.keyIds, out.decision.allow, out.disclosure.status);
}
void storeDlpDisclosure;

core();
policy().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
