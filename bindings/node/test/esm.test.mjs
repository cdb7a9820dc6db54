// The ES module entry (named and default exports) and the async variants:
// Promises settled off the main thread, with their rejections.
import test from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import path from 'node:path';

import cos, {
  digest,
  canonicalize,
  canonicalJson,
  SigningKey,
  dsseSign,
  dsseVerify,
  statement,
  statementSign,
  statementVerify,
  Pack,
  loadPackAsync,
  Engine,
  DecisionLogger,
  JsonLinesWriter,
  sigstoreSignBlob,
  sigstoreVerifyBlob,
  sigstoreVerifyBlobKeyless,
  fetchAndVerify,
  fetchAttestation,
  PolicyStore,
  tenantBucket,
  inCohort,
  PackClient,
  FetchedPack,
  Poller,
  Dlp,
  DisclosurePack,
  VerifiedDisclosure,
  verifyDisclosure,
  decideResidency,
  Sbom,
  SbomDiff,
  sbomFromJsonAsync,
  sbomFromLockfileAsync,
  sbomFromCargoMetadataAsync,
  sourceDateEpoch,
  LicensePolicy,
  LicenseReport,
  provenanceStatement,
  attestProvenance,
  verifyProvenance,
  verifyProvenanceAsync,
  cveGate,
  cveGateAsync,
  CveVerdict,
  detectReportFormat,
  cvssScore,
} from '@companyos/cos';

const require = createRequire(import.meta.url);
const { BASELINE, ABAC_INPUT, RESIDENCY_INPUT, code } = require('./fixtures.js');
const cjs = require('@companyos/cos');

test('ESM named exports are the CommonJS exports (one native module)', () => {
  const named = {
    digest, canonicalize, canonicalJson, SigningKey, dsseSign, dsseVerify, statement,
    statementSign, statementVerify, Pack, loadPackAsync, Engine, DecisionLogger, JsonLinesWriter,
    sigstoreSignBlob, sigstoreVerifyBlob, sigstoreVerifyBlobKeyless, fetchAndVerify, fetchAttestation,
    PolicyStore, tenantBucket, inCohort, PackClient, FetchedPack, Poller, Dlp, DisclosurePack,
    VerifiedDisclosure, verifyDisclosure, decideResidency, Sbom, SbomDiff, sbomFromJsonAsync,
    sbomFromLockfileAsync, sbomFromCargoMetadataAsync, sourceDateEpoch, LicensePolicy, LicenseReport,
    provenanceStatement, attestProvenance, verifyProvenance, verifyProvenanceAsync, cveGate,
    cveGateAsync, CveVerdict, detectReportFormat, cvssScore,
  };
  assert.deepEqual(Object.keys(named).sort(), Object.keys(cjs).sort());
  for (const [name, value] of Object.entries(named)) assert.equal(value, cjs[name], name);
  assert.equal(cos, cjs);
});

test('core through ESM', () => {
  assert.match(digest('abc'), /^sha256:/);
  assert.equal(canonicalize('{"b":1,"a":2}').toString(), '{"a":2,"b":1}');
  assert.equal(canonicalJson([1, 'x']).toString(), '[1,"x"]');
  const k = SigningKey.generate();
  assert.equal(dsseVerify(dsseSign('p', 'text/plain', [k]), [k.publicPem()]).payload.toString(), 'p');
  const st = statement('https://example.invalid/p', {}, [{ name: 'a', digest: digest('a') }]);
  assert.deepEqual(statementVerify(statementSign(st, [k]), [k.publicPem()]), st);
  assert.throws(() => canonicalize('{'), code('invalid_json'));
});

test('supply chain through ESM', async () => {
  const lock = '{"name": "app", "version": "1.0.0", "lockfileVersion": 3, "packages": {"": {"name": "app", "version": "1.0.0"}}}';
  const sbom = await sbomFromLockfileAsync(lock, 'package-lock.json');
  assert.ok(sbom instanceof Sbom);
  assert.equal(sbom.root.purl, 'pkg:npm/app@1.0.0');
  assert.equal(cvssScore('CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H').score, 9.8);
  await assert.rejects(cveGateAsync({ reports: [], now: '2026-12-01T00:00:00Z' }), code('invalid_report'));
});

test('loadPackAsync resolves to a Pack', async () => {
  const p = await loadPackAsync(BASELINE);
  assert.ok(p instanceof Pack);
  assert.equal(p.name, 'companyos-baseline');
  assert.equal(p.digest, Pack.load(BASELINE).digest);
});

test('loadPackAsync rejects with the code Pack.load throws', async () => {
  const missing = path.join(BASELINE, 'no-such-pack');
  const syncCode = codeOf(() => Pack.load(missing));
  assert.notEqual(syncCode, 'InvalidArg');
  await assert.rejects(loadPackAsync(missing), code(syncCode));
  // Argument errors are thrown synchronously, before any Promise exists.
  assert.throws(() => loadPackAsync(42), code('StringExpected'));
});

function codeOf(fn) {
  try {
    fn();
  } catch (e) {
    return e.code;
  }
  throw new Error('did not throw');
}

test('evaluateAsync and decideAsync', async () => {
  const engine = new Engine(await loadPackAsync(BASELINE));
  const doc = await engine.evaluateAsync('data.companyos.abac.decision', ABAC_INPUT);
  assert.deepEqual(doc, engine.evaluate('data.companyos.abac.decision', ABAC_INPUT));
  assert.equal(await engine.evaluateAsync('companyos/abac/nothing', ABAC_INPUT), undefined);
  assert.equal(typeof (await engine.evaluateAsync('data.companyos.abac')), 'object');

  const d = await engine.decideAsync('abac', ABAC_INPUT);
  assert.equal(d.allow, true);
  assert.equal((await engine.decideAsync('residency', RESIDENCY_INPUT)).allow, false);
  // Many in flight at once on the thread pool.
  const all = await Promise.all(
    Array.from({ length: 64 }, (_, i) => engine.decideAsync('abac', i % 2 ? ABAC_INPUT : { ...ABAC_INPUT, action: 'delete' })),
  );
  assert.deepEqual(all.map((x) => x.allow), Array.from({ length: 64 }, (_, i) => i % 2 === 1));

  const logger = new DecisionLogger({ via: 'esm' });
  assert.equal(logger.eventForDecision(engine, d, ABAC_INPUT).labels.via, 'esm');
  assert.equal(typeof JsonLinesWriter, 'function');
});

test('async rejections carry codes', async () => {
  const engine = new Engine(Pack.load(BASELINE));
  await assert.rejects(engine.decideAsync('nope', ABAC_INPUT), code('unknown_entrypoint'));
  await assert.rejects(engine.evaluateAsync('data.a\u0000b', {}), code('invalid_query'));
  // Argument errors are thrown synchronously, before any Promise exists.
  const cyclic = { ...ABAC_INPUT };
  cyclic.self = cyclic;
  assert.throws(() => engine.evaluateAsync('data.companyos.abac.decision', cyclic), code('InvalidArg', /circular/));
  assert.throws(() => engine.decideAsync('abac'), code('InvalidArg'));
});
