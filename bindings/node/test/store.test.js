// PolicyStore (verified hot reload, last known good, rollback, cohorts,
// shadow), tenantBucket / inCohort, and PackClient against `cos pack serve`.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const cos = require('..');
const { code } = require('./fixtures');

const ALLOW_ALICE = `package demo
import rego.v1
default decision := {"allow": false, "reasons": [{"code": "DENY", "message": "not alice"}], "obligations": []}
decision := {"allow": true, "reasons": [], "obligations": []} if input.user == "alice"
`;
const ALLOW_ALICE_AND_BOB = ALLOW_ALICE.replace('input.user == "alice"', 'input.user in {"alice", "bob"}');
const DENY_ALL = `package demo
import rego.v1
decision := {"allow": false, "reasons": [{"code": "DENY", "message": "closed"}], "obligations": []}
`;
const COHORTS =
  'cohorts:\n  - {name: pilot, tenants: [acme-eu]}\n  - {name: half, percent: 50}\n  - {name: all, percent: 100}\n';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cos-node-store-'));
test.after(() => fs.rmSync(tmp, { recursive: true, force: true }));
let n = 0;

function archive(version, policy = ALLOW_ALICE, extra = '') {
  const dir = path.join(tmp, `pack-${n++}`);
  fs.mkdirSync(dir);
  fs.writeFileSync(
    path.join(dir, 'manifest.yaml'),
    `name: demo\nversion: ${version}\nrevision: r-${version}\nroots: [demo]\nentrypoints: {authz: demo/decision}\n${extra}`,
  );
  fs.writeFileSync(path.join(dir, 'policy.rego'), policy);
  return cos.Pack.load(dir).buildBundle();
}

test('activates verified packs, refuses older ones, rolls back on purpose', () => {
  const store = new cos.PolicyStore();
  assert.equal(store.isReady, false);
  assert.throws(() => store.decide('authz', { user: 'alice' }), code('no_active_pack'));
  assert.equal(store.packFor(), undefined);

  const a = store.activate(archive('1.0.0'));
  assert.equal(a.status, 'activated');
  assert.equal(a.pack.version, '1.0.0');
  assert.equal(store.isReady, true);
  assert.equal(store.decide('authz', { user: 'alice' }).allow, true);
  assert.equal(store.activate(archive('1.0.0')).status, 'unchanged');
  store.activate(archive('1.1.0'));
  assert.throws(() => store.activate(archive('1.0.5')), code('older_version', /demo@1\.0\.5/));
  assert.equal(store.packFor().version, '1.1.0');
  const status = store.status();
  assert.equal(status.refusals, 1);
  assert.equal(status.activations, 2);
  assert.match(status.lastError.detail, /older/);

  assert.equal(store.rollBackTo(archive('1.0.5')).pack.version, '1.0.5');
  assert.equal(store.status().rollbacks, 1);

  assert.equal(store.evaluate('demo/decision', { user: 'bob' }).allow, false);
  assert.equal(store.evaluate('demo/nothing'), undefined);
  const { pack, result } = store.evaluateWithPack('data.demo.decision', { user: 'alice' });
  assert.equal(pack.version, '1.0.5');
  assert.match(pack.archiveDigest, /^sha256:/);
  assert.equal(result.allow, true);
  assert.equal(store.packFor().stats.decisions, 3);
  // evaluateJson: the same answers on JSON text, counted like evaluate.
  assert.deepEqual(
    JSON.parse(store.evaluateJson('demo/decision', '{"user": "alice"}')),
    store.evaluate('demo/decision', { user: 'alice' }),
  );
  assert.equal(store.evaluateJson('demo/nothing'), undefined);
  assert.equal(store.packFor().stats.decisions, 6);
  assert.throws(() => store.evaluateJson('demo/decision', '{"user": '), code('InvalidArg', /not JSON/));
  assert.throws(() => store.evaluate('demo/decision', { n: 1n }), code('InvalidArg', /not JSON/));
  assert.throws(() => store.evaluateJson('demo/decision', '{}', 'not a tenant!'), code('invalid_tenant_id'));
  assert.equal(store.packFor().stats.decisions, 6);
  assert.throws(() => store.decide('nope', {}), code('unknown_entrypoint'));
  assert.throws(() => store.decide('authz', {}, 'not a tenant!'), code('invalid_tenant_id'));

  // Back to the previous stable pack.
  store.activate(archive('2.0.0', DENY_ALL));
  assert.equal(store.decide('authz', { user: 'alice' }).allow, false);
  assert.equal(store.rollback().version, '1.0.5');
  assert.equal(store.decide('authz', { user: 'alice' }).allow, true);
  assert.throws(() => new cos.PolicyStore().rollback(), code('rollout_refused'));
});

test('tampered and unsigned candidates are refused; the store keeps its pack', async () => {
  const key = cos.SigningKey.generate('ecdsa-p256');
  const other = cos.SigningKey.generate('ecdsa-p256');
  const store = new cos.PolicyStore({ publicKey: key.publicPem() });
  const good = archive('1.0.0');
  assert.equal((await store.activateAsync(good, cos.sigstoreSignBlob(good, key))).status, 'activated');

  const next = archive('2.0.0', DENY_ALL);
  const tampered = Buffer.from(next);
  tampered[tampered.length - 1] ^= 1;
  const cases = [
    ['missing_verification', next, undefined],
    ['bundle_verification_failed', next, cos.sigstoreSignBlob(next, other)],
    ['bundle_verification_failed', tampered, cos.sigstoreSignBlob(next, key)],
  ];
  for (const [c, a, bundle] of cases) {
    assert.throws(() => store.activate(a, bundle), code(c));
    await assert.rejects(store.activateAsync(a, bundle), code(c));
    assert.equal(store.packFor().version, '1.0.0');
    assert.equal(store.decide('authz', { user: 'alice' }).allow, true);
  }
  assert.equal(store.status().refusals, 6);
  await assert.rejects(store.startRolloutAsync(next), code('missing_verification'));
  await assert.rejects(store.startShadowAsync(next), code('missing_verification'));
  await assert.rejects(store.rollBackToAsync(next), code('missing_verification'));
});

test('OPA signatures, required tests, bad options', () => {
  const key = cos.SigningKey.generate('ecdsa-p256');
  const store = new cos.PolicyStore({ opaPublicKey: key.publicPem(), tests: 'required' });
  assert.throws(() => store.activate(archive('1.0.0')), code('signature_invalid'));
  const signed = cos.Pack.fromBytes(archive('1.0.0')).buildSignedBundle(key);
  assert.throws(() => store.activate(signed), code('candidate_tests_failed'));
  assert.equal(new cos.PolicyStore({ opaPublicKey: key.publicPem() }).activate(signed).status, 'activated');
  assert.throws(() => new cos.PolicyStore({ tests: 'always' }), code('InvalidArg'));
  assert.throws(() => new cos.PolicyStore({ history: -1 }), code('InvalidArg'));
  assert.throws(() => new cos.PolicyStore({ opaPublicKey: 'not a key' }), code('invalid_key'));
});

test('options are the crate structs in camelCase; results name their fields in camelCase', () => {
  // A snake_case or misspelt key is refused, naming the known ones.
  assert.throws(() => new cos.PolicyStore({ state_dir: 'x' }), code('InvalidArg', /unknown option `state_dir`.*stateDir/));
  assert.throws(() => new cos.PackClient({ timeout_ms: 5 }), code('InvalidArg', /timeoutMs/));
  for (const trustedRoot of ['{}', Buffer.from('{}'), new Uint8Array(Buffer.from('{}'))]) {
    const trust = { trustedRoot, identity: 'a@example.com', issuer: 'https://x' };
    assert.throws(() => new cos.PolicyStore(trust), code('invalid_trusted_root'));
    assert.throws(() => new cos.PackClient(trust), code('invalid_trusted_root'));
  }
  // `null` is an option not given (as napi-rs read optional properties).
  assert.equal(new cos.PolicyStore({ history: null, stateDir: null }).isReady, false);
  const store = new cos.PolicyStore({ history: 1, minSamples: 5 });
  store.activate(archive('1.0.0', `${ALLOW_ALICE}snake_rule := {"deep_key": input.snake_key}\n`));
  const status = store.status();
  assert.match(status.stable.verifiedAt, /^\d{4}-/);
  assert.equal(status.stable.verified_at, undefined);
  assert.equal(status.lastError, null);
  const d = store.decide('authz', { user: 'alice', snake_key: 1 });
  assert.equal(typeof d.evalNs, 'number');
  assert.equal(typeof d.decisionId, 'string');
  // User data keeps its keys: the document evaluateWithPack returns.
  const { pack, result } = store.evaluateWithPack('demo/snake_rule', { snake_key: 1 });
  assert.match(pack.archiveDigest, /^sha256:/);
  assert.deepEqual(result, { deep_key: 1 });
  assert.deepEqual(store.evaluate('demo/snake_rule', { snake_key: 2 }), { deep_key: 2 });
});

test('last known good survives a restart and is verified again', async () => {
  const stateDir = path.join(tmp, 'lkg');
  const store = cos.PolicyStore.open({ stateDir });
  assert.equal(store.isReady, false);
  store.activate(archive('1.0.0'));
  store.activate(archive('1.2.0'));

  const again = await cos.PolicyStore.openAsync({ stateDir });
  assert.equal(again.packFor().version, '1.2.0');
  assert.equal(again.status().events[0].kind, 'loaded_last_known_good');
  again.activate(archive('1.3.0', DENY_ALL));
  assert.equal(again.rollback().version, '1.2.0');
  assert.equal(cos.PolicyStore.open({ stateDir }).packFor().version, '1.2.0');

  const saved = fs.readdirSync(stateDir).filter((f) => f.endsWith('.tar.gz'));
  assert.equal(saved.length, 1);
  const file = path.join(stateDir, saved[0]);
  const bytes = fs.readFileSync(file);
  bytes[10] ^= 0xff;
  fs.writeFileSync(file, bytes);
  assert.throws(() => cos.PolicyStore.open({ stateDir }), code('digest_mismatch'));
  await assert.rejects(cos.PolicyStore.openAsync({ stateDir }), code('digest_mismatch'));
});

test('tenantBucket is SHA-256 of the tenant id mod 10000; inCohort follows it', () => {
  for (const t of ['acme', 'acme-eu', 'globex', 'initech']) {
    const expected = Number(crypto.createHash('sha256').update(t).digest().readBigUInt64BE(0) % 10000n);
    assert.equal(cos.tenantBucket(t), expected, t);
  }
  assert.equal(cos.tenantBucket('acme'), 9872);
  for (let i = 0; i < 300; i++) {
    const t = `tenant-${i}`;
    assert.equal(cos.inCohort({ name: 'c', percent: 5 }, t), cos.tenantBucket(t) < 500);
    assert.ok(cos.inCohort({ name: 'all', percent: 100 }, t));
  }
  assert.ok(cos.inCohort({ name: 'pilot', tenants: ['acme-eu'] }, 'acme-eu'));
  assert.ok(!cos.inCohort({ name: 'pilot', tenants: ['acme-eu'] }, 'acme'));
  assert.throws(() => cos.inCohort({ name: 'x', share: 5 }, 'acme'), code('InvalidArg'));
  assert.throws(() => cos.tenantBucket(''), code('invalid_tenant_id'));
});

test('cohort rollout: promote, halt, resume, rollback', async () => {
  const store = new cos.PolicyStore();
  store.activate(archive('1.0.0'));
  assert.equal((await store.startRolloutAsync(archive('1.1.0', ALLOW_ALICE_AND_BOB, COHORTS))).status, 'activated');
  const others = Array.from({ length: 200 }, (_, i) => `t-${i}`);
  assert.equal(store.packFor('acme-eu').version, '1.1.0');
  assert.equal(store.packFor().version, '1.0.0');
  assert.ok(others.every((t) => store.packFor(t).version === '1.0.0'));
  assert.equal(store.decide('authz', { user: 'bob' }, 'acme-eu').allow, true);
  assert.equal(store.decide('authz', { user: 'bob' }, others[0]).allow, false);

  assert.equal(store.halt().version, '1.1.0');
  assert.throws(() => store.promote(), code('rollout_refused'));
  assert.equal(store.status().rollout.halted, true);
  store.resume();
  store.promote();
  for (const t of others) {
    const expected = cos.inCohort({ name: 'half', percent: 50 }, t) ? '1.1.0' : '1.0.0';
    assert.equal(store.packFor(t).version, expected, t);
  }
  const { rollout } = store.status();
  assert.deepEqual([rollout.cohorts, rollout.remaining], [['pilot', 'half'], ['all']]);
  assert.equal(store.rollback().version, '1.0.0');
  assert.ok([...others, 'acme-eu'].every((t) => store.packFor(t).version === '1.0.0'));

  store.startRollout(archive('1.1.0', ALLOW_ALICE_AND_BOB, COHORTS));
  for (let i = 0; i < 3; i++) store.promote();
  assert.equal(store.status().rollout, null);
  assert.equal(store.packFor().version, '1.1.0');
});

test('shadow evaluation counts differences and gates promotion', async () => {
  const store = new cos.PolicyStore();
  assert.throws(() => store.startShadow(archive('1.0.0')), code('rollout_refused'));
  store.activate(archive('1.0.0'));
  const plan = 'shadow: {sample_rate: 1, min_samples: 20, max_difference_rate: 0.1}\n';
  store.startShadow(archive('1.1.0', ALLOW_ALICE_AND_BOB, plan));
  for (let i = 0; i < 40; i++) {
    const user = i % 4 === 0 ? 'bob' : 'alice';
    assert.equal(store.decide('authz', { user }).allow, user === 'alice');
  }
  const { shadow } = store.status();
  assert.equal(shadow.compared, 40);
  assert.equal(shadow.differences, 10);
  assert.throws(() => store.promote(), code('rollout_refused', /difference rate/));
  store.rollback();
  assert.equal(store.status().shadow, null);

  await store.startShadowAsync(archive('1.2.0', ALLOW_ALICE, 'shadow: {sample_rate: 1, min_samples: 20}\n'));
  for (let i = 0; i < 30; i++) store.decide('authz', { user: i % 2 ? 'bob' : 'alice' });
  assert.equal(store.promote().version, '1.2.0');
  assert.equal(store.packFor().version, '1.2.0');
});

// `cos pack serve` (COS_BIN, else target/debug/cos) over a signed pack.
function packServe(dir) {
  const { spawn } = require('node:child_process');
  const bin = process.env.COS_BIN || path.join(__dirname, '..', '..', '..', 'target', 'debug', 'cos');
  assert.ok(fs.existsSync(bin), `cos binary not found at ${bin}: cargo build -p cos-cli, or set COS_BIN`);
  const child = spawn(bin, ['pack', 'serve', dir, '--listen', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/ on (http:\/\/[^\s]+)/);
      if (m) resolve({ base: m[1], stop: () => child.kill() });
    });
    child.on('exit', (c) => reject(new Error(`cos pack serve exited with ${c}`)));
  });
}

test('PackClient.pollObserved: each round as an event, on the main thread', async () => {
  const key = cos.SigningKey.generate('ecdsa-p256');
  const dir = path.join(tmp, 'observed');
  fs.mkdirSync(dir);
  const a = archive('1.0.0');
  fs.writeFileSync(path.join(dir, 'pack.tar.gz'), a);
  fs.writeFileSync(path.join(dir, 'pack.tar.gz.sigstore.json'), cos.sigstoreSignBlob(a, key));
  const server = await packServe(dir);
  try {
    const store = new cos.PolicyStore({ publicKey: key.publicPem() });
    const events = [];
    const poller = new cos.PackClient({ retries: 0 }).pollObserved(
      `${server.base}/pack.tar.gz`,
      store,
      (e) => events.push(e),
      20,
    );
    for (let i = 0; i < 200 && events.length < 2; i++) await new Promise((r) => setTimeout(r, 25));
    poller.stop();
    const [first, second] = events;
    assert.equal(first.kind, 'activated');
    assert.equal(first.activation.status, 'activated');
    assert.equal(first.activation.pack.version, '1.0.0');
    assert.ok(first.etag);
    assert.equal(first.error, null);
    assert.equal(first.nextWaitMs, 20);
    assert.equal(second.kind, 'unchanged');
    assert.equal(second.etag, first.etag);
    assert.equal(store.packFor().version, '1.0.0');

    const failures = [];
    const failing = new cos.PackClient({ retries: 0 }).pollObserved(
      `${server.base}/missing.tar.gz`,
      store,
      (e) => failures.push(e),
      20,
    );
    for (let i = 0; i < 200 && failures.length === 0; i++) await new Promise((r) => setTimeout(r, 25));
    failing.stop();
    assert.equal(failures[0].kind, 'failed');
    assert.equal(failures[0].activation, null);
    assert.equal(failures[0].error.code, 'http_status');
    assert.match(failures[0].error.message, /^HTTP 404$/);
    assert.ok(failing.errors >= 1);
    for (let i = 0; i < 100 && (poller.running || failing.running); i++) await new Promise((r) => setTimeout(r, 25));
    assert.equal(poller.running, false);
  } finally {
    server.stop();
  }
});

test('PackClient: fetch (verified pack + etag), not modified, errors, poll into a store', async () => {
  const key = cos.SigningKey.generate('ecdsa-p256');
  const dir = path.join(tmp, 'served');
  fs.mkdirSync(dir);
  const a = archive('1.0.0');
  fs.writeFileSync(path.join(dir, 'pack.tar.gz'), a);
  fs.writeFileSync(path.join(dir, 'pack.tar.gz.sigstore.json'), cos.sigstoreSignBlob(a, key));
  const server = await packServe(dir);
  try {
    const url = `${server.base}/pack.tar.gz`;
    const client = new cos.PackClient({ publicKey: key.publicPem(), retries: 0, timeoutMs: 5000 });
    const fetched = await client.fetch(url);
    assert.ok(fetched instanceof cos.FetchedPack);
    assert.deepEqual(fetched.archive, a);
    assert.equal(fetched.url, url);
    assert.ok(fetched.etag);
    assert.match(fetched.digest, /^sha256:/);
    assert.equal(fetched.pack.version, '1.0.0');
    assert.equal(await client.fetch(url, fetched.etag), null);
    const attestation = await client.fetchAttestation(`${url}/attestation`);
    assert.deepEqual(JSON.parse(attestation), JSON.parse(fetched.sigstoreBundle));

    const store = new cos.PolicyStore({ publicKey: key.publicPem() });
    assert.equal(store.activate(fetched.archive, fetched.sigstoreBundle).status, 'activated');

    const plain = await new cos.PackClient({ retries: 0 }).fetch(url);
    assert.equal(plain.pack, null);
    const stranger = new cos.PackClient({ publicKey: cos.SigningKey.generate('ecdsa-p256').publicPem(), retries: 0 });
    await assert.rejects(stranger.fetch(url), code('bundle_verification_failed'));
    await assert.rejects(client.fetch(`${server.base}/missing.tar.gz`), code('http_status', /^HTTP 404$/));
    await assert.rejects(
      new cos.PackClient({ retries: 0, timeoutMs: 2000 }).fetch('http://127.0.0.1:9/pack.tar.gz'),
      code('transport'),
    );
    assert.throws(() => new cos.PackClient({ retries: -1 }), code('InvalidArg'));

    // Polling feeds a store from a background thread.
    const polled = new cos.PolicyStore({ publicKey: key.publicPem() });
    const poller = client.poll(url, polled, 50);
    for (let i = 0; i < 200 && !polled.isReady; i++) await new Promise((r) => setTimeout(r, 25));
    assert.equal(polled.packFor().version, '1.0.0');
    assert.equal(poller.running, true);
    assert.equal(poller.errors, 0);
    assert.equal(poller.lastError, null);
    poller.stop();
    for (let i = 0; i < 100 && poller.running; i++) await new Promise((r) => setTimeout(r, 25));
    assert.equal(poller.running, false);

    const failing = new cos.PackClient({ retries: 0 }).poll(`${server.base}/missing.tar.gz`, polled, 20);
    for (let i = 0; i < 200 && failing.errors === 0; i++) await new Promise((r) => setTimeout(r, 25));
    failing.stop();
    assert.equal(failing.lastError.code, 'http_status');
  } finally {
    server.stop();
  }
});

test('a candidate test out of time refuses it (testTimeoutMs)', () => {
  const dir = path.join(tmp, `pack-${n++}`);
  fs.mkdirSync(path.join(dir, 'tests'), { recursive: true });
  fs.writeFileSync(
    path.join(dir, 'manifest.yaml'),
    'name: demo\nversion: 1.0.0\nrevision: r1\nroots: [demo, demo_test]\nentrypoints: {authz: demo/decision}\n',
  );
  fs.writeFileSync(path.join(dir, 'policy.rego'), ALLOW_ALICE);
  fs.writeFileSync(
    path.join(dir, 'tests', 'policy_test.rego'),
    'package demo_test\nimport rego.v1\nimport data.demo\ntest_endless if {\n  count([1 | some x in numbers.range(1, 100000); some y in numbers.range(1, 100000)]) > 0\n}\n',
  );
  const archive = cos.Pack.load(dir).buildBundleWithTests();
  const store = new cos.PolicyStore({ timeoutMs: 3600000, testTimeoutMs: 100 });
  assert.throws(() => store.activate(archive), code('candidate_tests_failed', /test_endless/));
  assert.equal(store.isReady, false);
});

test('a store is bound to one pack (packName), versions strictly increase', () => {
  const store = new cos.PolicyStore();
  store.activate(archive('1.0.0'));
  assert.throws(() => store.activate(archive('1.0.0', ALLOW_ALICE.replace('"alice"', '"bob"'))), code('pack_identity', /strictly increase/));
  const pinned = new cos.PolicyStore({ packName: 'acme' });
  assert.throws(() => pinned.activate(archive('2.0.0')), code('pack_identity', /"acme"/));
  assert.equal(pinned.isReady, false);
});

test('a candidate compile has a time limit (compileTimeoutMs)', () => {
  const big = 'package demo\nimport rego.v1\n' + Array.from({ length: 8000 }, (_, i) => `r${i} := ${i}\n`).join('');
  assert.throws(() => new cos.PolicyStore({ compileTimeoutMs: 1 }).activate(archive('1.0.0', big)), code('timeout', /compile/));
  assert.equal(new cos.PolicyStore({ compileTimeoutMs: 0 }).activate(archive('1.0.0', big)).status, 'activated');
});
