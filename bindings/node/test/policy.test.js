// cos-policy through the native module (CommonJS): packs, engines,
// decision logs, and their errors.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const { Pack, Engine, DecisionLogger, JsonLinesWriter, SigningKey } = require('@companyos/cos');
const { BASELINE, ABAC_INPUT, RESIDENCY_INPUT, code } = require('./fixtures.js');

const pack = Pack.load(BASELINE);
const engine = new Engine(pack);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cos-node-'));
test.after(() => fs.rmSync(tmp, { recursive: true, force: true }));

test('pack metadata and bundle', () => {
  assert.equal(pack.name, 'companyos-baseline');
  assert.equal(pack.version, '1.0.1');
  assert.equal(pack.revision, '2026.12.02-1');
  assert.match(pack.digest, /^sha256:[0-9a-f]{64}$/);
  assert.equal(pack.entrypoints.abac, 'companyos/abac/decision');
  assert.equal(pack.isSigned, false);
  const bundle = pack.buildBundle();
  assert.ok(Buffer.isBuffer(bundle));
  const again = Pack.fromBytes(bundle);
  assert.equal(again.name, pack.name);
  assert.deepEqual(again.buildBundle(), bundle); // deterministic
  assert.match(String(pack), /companyos-baseline/);
  // A .tar.gz on disk loads too.
  const file = path.join(tmp, 'bundle.tar.gz');
  fs.writeFileSync(file, bundle);
  assert.equal(Pack.load(file).digest, again.digest);
});

test('bundle entries are dated SOURCE_DATE_EPOCH, a malformed value throws', () => {
  const saved = process.env.SOURCE_DATE_EPOCH;
  try {
    delete process.env.SOURCE_DATE_EPOCH;
    const unset = pack.buildBundle();
    process.env.SOURCE_DATE_EPOCH = '0';
    assert.deepEqual(pack.buildBundle(), unset);
    process.env.SOURCE_DATE_EPOCH = '1700000000';
    const dated = pack.buildBundle();
    assert.notDeepEqual(dated, unset);
    assert.deepEqual(pack.buildBundle(), dated);
    for (const bad of ['', 'yesterday', '-1', '1.5']) {
      process.env.SOURCE_DATE_EPOCH = bad;
      assert.throws(() => pack.buildBundle(), code('invalid_source_date_epoch'));
      assert.throws(() => pack.buildBundleWithTests(), code('invalid_source_date_epoch'));
    }
  } finally {
    if (saved === undefined) delete process.env.SOURCE_DATE_EPOCH;
    else process.env.SOURCE_DATE_EPOCH = saved;
  }
});

test('signed bundle round trip and tamper', () => {
  const key = SigningKey.generate('ecdsa-p256');
  const bundle = pack.buildSignedBundle(key, { keyId: 'release', scope: 'write' });
  const signed = Pack.fromBytes(bundle);
  assert.equal(signed.isSigned, true);
  const v = signed.verifySignature(key.publicPem(), { keyId: 'release', scope: 'write' });
  assert.equal(v.keyId, 'release');
  assert.ok(v.claims.files.some((f) => f.name.endsWith('data.json')));
  // Defaults: the key's id as kid, no scope.
  const plain = Pack.fromBytes(pack.buildSignedBundle(key));
  assert.equal(typeof plain.verifySignature(key.publicPem()).claims, 'object');

  const other = SigningKey.generate('ecdsa-p256');
  assert.throws(() => signed.verifySignature(other.publicPem()), code('signature_invalid'));
  assert.throws(() => signed.verifySignature(key.publicPem(), { scope: 'admin' }), code('signature_invalid'));
  assert.throws(() => pack.verifySignature(key.publicPem()), code('signature_invalid')); // unsigned
  assert.throws(() => pack.verifySignature('not a pem'), code('invalid_key'));
  // ES256 needs a P-256 key.
  assert.throws(() => pack.buildSignedBundle(SigningKey.generate('ed25519')), (e) => typeof e.code === 'string' && e.code !== 'InvalidArg');
});

test('pack tests run like opa test', () => {
  const all = pack.runTests();
  assert.equal(all.success, true);
  assert.ok(all.report.length > 50);
  const abac = pack.runTests({ run: 'abac', strictBuiltinErrors: false });
  assert.equal(abac.success, true);
  assert.ok(abac.report.every((r) => r.package.includes('abac')));
  assert.ok(abac.report.length < all.report.length);
});

test('evaluate, decide, allowReason, runsOnVm', () => {
  assert.equal(engine.evaluate('data.companyos.abac.decision', ABAC_INPUT).allow, true);
  assert.equal(engine.evaluate('companyos/abac/nothing', ABAC_INPUT), undefined); // undefined
  assert.equal(typeof engine.evaluate('data.companyos.abac'), 'object'); // no input

  // evaluateJson: the same documents as JSON text, `undefined` when undefined.
  const text = engine.evaluateJson('data.companyos.abac.decision', JSON.stringify(ABAC_INPUT));
  assert.equal(typeof text, 'string');
  assert.deepEqual(JSON.parse(text), engine.evaluate('data.companyos.abac.decision', ABAC_INPUT));
  assert.equal(engine.evaluateJson('companyos/abac/nothing', '{}'), undefined);
  assert.deepEqual(JSON.parse(engine.evaluateJson('data.companyos.abac')), engine.evaluate('data.companyos.abac'));
  assert.throws(() => engine.evaluateJson('data.companyos.abac.decision', '{"subject": '), code('InvalidArg', /not JSON/));
  // Numbers in JSON text are read and written exactly, as OPA does (a
  // JavaScript number would round them): the id comes back digit for digit.
  const bigDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cos-node-big-'));
  fs.writeFileSync(path.join(bigDir, 'p.rego'), 'package big\n\nid := input.id\n\nsame if input.id == 12345678901234567890123\n');
  const big = new Engine(Pack.load(bigDir));
  assert.equal(big.evaluateJson('data.big.id', '{"id": 12345678901234567890123}'), '12345678901234567890123');
  assert.equal(big.evaluateJson('data.big.same', '{"id": 12345678901234567890123}'), 'true');
  assert.equal(big.evaluateJson('data.big.same', '{"id": 12345678901234567890124}'), undefined);
  assert.equal(big.evaluateJson('data.big.id', '{"id": 0.12345678901234567890123}'), '0.12345678901234567890123');
  // Beyond the float's exponent range: refused, not rewritten.
  assert.throws(() => big.evaluateJson('data.big.id', '{"id": 1e400}'), code('unsupported', /as a string/));
  assert.throws(() => engine.evaluateJson('data.companyos.abac.decision', '[1, NaN]'), code('InvalidArg'));

  const d = engine.decide('abac', ABAC_INPUT);
  assert.equal(d.allow, true);
  assert.deepEqual(d.reasons, []);
  assert.equal(d.pack.name, 'companyos-baseline');
  assert.ok(d.decisionId);
  assert.equal(d.path, 'companyos/abac/decision');
  const denied = engine.decide('abac', { ...ABAC_INPUT, action: 'delete' });
  assert.equal(denied.allow, false);
  assert.deepEqual(denied.reasons.map((r) => r.code), ['NOT_PERMITTED']);
  assert.equal(engine.decide('residency', RESIDENCY_INPUT).allow, false);

  assert.equal(engine.runsOnVm('companyos/abac/decision'), true);
  assert.deepEqual(engine.allowReason('companyos/abac/decision', ABAC_INPUT), { allow: true });
  assert.deepEqual(engine.allowReason('companyos/abac/missing', ABAC_INPUT), { allow: false });
});

test('engine options', () => {
  const strict = new Engine(pack, { strictBuiltinErrors: true, timeoutMs: 5000 });
  assert.equal(strict.decide('abac', ABAC_INPUT).allow, true);
  assert.throws(() => new Engine(pack, { timeoutMs: -1 }), code('InvalidArg'));
  // A zero time limit: every evaluation times out, sync and async alike.
  const hasty = new Engine(pack, { timeoutMs: 0 });
  assert.throws(() => hasty.evaluate('data.companyos.abac.decision', ABAC_INPUT), code('timeout'));
  return assert.rejects(hasty.decideAsync('abac', ABAC_INPUT), code('timeout'));
});

test('policy errors carry the cos-policy codes', () => {
  assert.throws(() => Pack.load(path.join(tmp, 'missing')), (e) => e instanceof Error && typeof e.code === 'string' && e.code !== 'InvalidArg');
  assert.throws(() => Pack.fromBytes(Buffer.from('not a tarball')), (e) => typeof e.code === 'string' && e.code !== 'InvalidArg');
  const bad = path.join(tmp, 'bad');
  fs.mkdirSync(bad);
  fs.writeFileSync(path.join(bad, 'manifest.yaml'), 'name: bad\nversion: 1.0.0\nroots: [bad]\n');
  fs.writeFileSync(path.join(bad, 'p.rego'), 'package bad\n\nf(x) := f(x)\n');
  assert.throws(() => new Engine(Pack.load(bad)), code('compile_error', /rego_recursion_error/));
  const badManifest = path.join(tmp, 'bad-manifest');
  fs.mkdirSync(badManifest);
  fs.writeFileSync(path.join(badManifest, 'manifest.yaml'), 'name: x\nversion: not-semver\n');
  assert.throws(() => Pack.load(badManifest), code('invalid_manifest'));
  // A builtin that would build a value past the engine's budget is a typed error, not an abort.
  const huge = path.join(tmp, 'huge');
  fs.mkdirSync(huge);
  fs.writeFileSync(path.join(huge, 'manifest.yaml'), 'name: huge\nversion: 1.0.0\nroots: [huge]\n');
  fs.writeFileSync(path.join(huge, 'p.rego'), 'package huge\n\nn := count(numbers.range(1, 1e12))\n');
  assert.throws(() => new Engine(Pack.load(huge), { timeoutMs: 30000 }).evaluate('data.huge.n', {}), code('resource_limit'));

  assert.throws(() => engine.evaluate('data.a\u0000b', {}), code('invalid_query'));
  assert.throws(() => engine.decide('nope', ABAC_INPUT), code('unknown_entrypoint'));
  assert.throws(() => engine.evaluate('data.companyos.abac.decision', { x: 1n }), code('InvalidArg', /BigInt/));
  const cyclic = { a: 1 };
  cyclic.self = cyclic;
  assert.throws(() => engine.evaluate('data.companyos.abac.decision', cyclic), code('InvalidArg', /circular/));
  // What JSON.stringify drops stays dropped: no input at all for a function.
  assert.equal(typeof engine.evaluate('data.companyos.abac', () => 1), 'object');
  assert.throws(() => engine.decide('abac', undefined), code('InvalidArg'));
  let nested = [];
  for (let i = 0; i < 200; i++) nested = [nested];
  assert.throws(() => engine.evaluate('data.companyos.abac.decision', nested), code('InvalidArg'));
  assert.throws(() => new Engine({}), code('InvalidArg'));
  assert.throws(() => engine.evaluate(42), code('StringExpected'));
  assert.throws(() => Pack.fromBytes('not bytes'), code('InvalidArg'));
});

test('decision log events and JSON lines', () => {
  const logger = new DecisionLogger({ service: 'billing' });
  const d = engine.decide('abac', ABAC_INPUT);
  const ev = logger.eventForDecision(engine, d, ABAC_INPUT, '10.0.0.1');
  assert.equal(ev.decision_id, d.decisionId);
  assert.equal(ev.path, d.path);
  assert.equal(ev.labels.service, 'billing');
  assert.ok(ev.labels.id);
  assert.equal(ev.bundles['companyos-baseline'].revision, '2026.12.02-1');
  assert.equal(ev.result.allow, true);
  assert.equal(ev.requested_by, '10.0.0.1');
  const ev2 = logger.eventForResult(engine, 'companyos/abac/decision', ABAC_INPUT, { allow: true }, 1234);
  assert.equal(ev2.metrics.timer_rego_query_eval_ns, 1234);
  const failed = logger.eventForError('companyos/abac/decision', { code: 'timeout', message: 'time limit' }, engine, ABAC_INPUT, 7);
  assert.deepEqual(failed.error, { code: 'timeout', message: 'time limit' });
  assert.equal(failed.result, undefined);
  assert.equal(failed.bundles['companyos-baseline'].revision, '2026.12.02-1');
  const noEngine = logger.eventForError('p', { code: 'x', message: 'y' });
  assert.deepEqual(noEngine.bundles, {});
  assert.throws(() => logger.eventForError('p', { code: 'x' }), code('InvalidArg'));
  const bare = new DecisionLogger().eventForDecision(engine, d);
  assert.ok(bare.labels.id);
  assert.ok(new DecisionLogger().eventForResult(engine, 'companyos/abac/decision').decision_id);

  const log = path.join(tmp, 'decisions.jsonl');
  const w = new JsonLinesWriter(log);
  w.write(ev);
  w.write(ev2);
  w.close();
  const lines = fs.readFileSync(log, 'utf8').trim().split('\n');
  assert.deepEqual(lines.map((l) => JSON.parse(l).decision_id), [ev.decision_id, ev2.decision_id]);

  assert.throws(() => w.write(ev), code('InvalidArg', /closed/));
  assert.throws(() => new JsonLinesWriter(path.join(tmp, 'other.jsonl')).write({ not: 'an event' }), code('InvalidArg'));
  assert.throws(() => logger.eventForDecision(engine, { allow: 'maybe' }), code('InvalidArg'));
  assert.throws(() => logger.eventForResult(engine, 'p', {}, {}, -1), code('InvalidArg'));
  assert.throws(() => new JsonLinesWriter(path.join(tmp, 'no', 'such', 'dir.jsonl')), code('io'));
});

test("issue 19's OPA parity reaches Node: builtins, syntax, negation, undefined functions", () => {
  const d = path.join(tmp, 'parity');
  fs.mkdirSync(d);
  fs.writeFileSync(path.join(d, 'manifest.yaml'), 'name: parity\nversion: 1.0.0\nroots: [parity]\n');
  fs.writeFileSync(path.join(d, 'p.rego'), [
    'package parity', '', 'import future.keywords.or', '',
    'claims := io.jwt.decode("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2ln")[1]',
    'nets := net.cidr_merge(["10.0.0.0/25", "10.0.0.128/25"])',
    'greeting := $"hello {input.user}"',
    'admin if { input.role == "admin" or input.role == "owner" }',
    'default deny := false', '',
    'deny if { input.user; not input.role in {"admin", "owner"} }', '',
  ].join('\n'));
  const engine = new Engine(Pack.load(d));
  assert.deepStrictEqual(engine.evaluate('data.parity.claims', {}), { sub: 'alice' });
  assert.deepStrictEqual(engine.evaluate('data.parity.nets', {}), ['10.0.0.0/24']);
  assert.strictEqual(engine.evaluate('data.parity.greeting', { user: 'bob' }), 'hello bob');
  assert.strictEqual(engine.evaluate('data.parity.admin', { role: 'owner' }), true);
  assert.strictEqual(engine.evaluate('data.parity.deny', { user: 'bob', role: 'viewer' }), true);
  assert.strictEqual(engine.evaluate('data.parity.deny', { user: 'bob' }), false);
  fs.writeFileSync(path.join(d, 'p.rego'), 'package parity\n\nx := time.hour(input.t) if input.flag\n');
  assert.throws(() => new Engine(Pack.load(d)), code('compile_error', /undefined function time\.hour/));
});
