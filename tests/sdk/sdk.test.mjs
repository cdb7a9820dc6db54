// The official OPA TypeScript SDK (@open-policy-agent/opa), unchanged,
// against cos-pdp and against the real `opa run --server`, given the same
// bundle (the baseline pack built by `cos pack build`): every call must
// give the same answer from both. Loopback only; both servers are stopped.
//
// Binaries: COS_BIN, COS_PDP_BIN, COS_OPA_BIN (scripts/test.sh sets them),
// else this workspace's target/debug/{cos,cos-pdp} and .oracles/bin/opa.
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { OPAClient } from '@open-policy-agent/opa';
import { OpaApiClient } from '@open-policy-agent/opa/sdk/index.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const bin = (env, rel) => {
  const p = process.env[env] || path.join(ROOT, rel);
  assert.ok(fs.existsSync(p), `${p} missing: build it (scripts/test.sh does) or set ${env}`);
  return p;
};
const COS = bin('COS_BIN', 'target/debug/cos');
const PDP = bin('COS_PDP_BIN', 'target/debug/cos-pdp');
const OPA = bin('COS_OPA_BIN', '.oracles/bin/opa');

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function start(cmd, args, url) {
  const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'inherit'] });
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${cmd} exited with ${child.exitCode}`);
    try {
      if ((await fetch(`${url}/health`)).ok) return child;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill();
  throw new Error(`${cmd} did not start`);
}

function abac(changes = {}) {
  const input = {
    subject: { id: 'u1', tenant: 'acme', roles: ['analyst'], attributes: { clearance: 'CONFIDENTIAL', step_up: false } },
    action: 'read',
    resource: { type: 'dataset', id: 'd1', tenant: 'acme', classification: 'CONFIDENTIAL', residency: 'EU-Only' },
    context: { time: '2026-11-22T10:00:00Z', grants: [] },
  };
  for (const [k, v] of Object.entries(changes)) {
    const [section, field] = k.split('.');
    input[section][field] = v;
  }
  return input;
}

const INPUTS = {
  own: abac(),
  cross: abac({ 'subject.tenant': 'globex' }),
  restricted: abac({ 'resource.classification': 'RESTRICTED' }),
  viewer: abac({ 'subject.roles': ['viewer'] }),
};

test('the OPA TypeScript SDK gets the same answers from cos-pdp as from OPA', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cos-sdk-'));
  const bundle = path.join(dir, 'baseline.tar.gz');
  execFileSync(COS, ['pack', 'build', path.join(ROOT, 'examples/policy-packs/companyos-baseline'), '-o', bundle]);
  const [po, pc] = [await freePort(), await freePort()];
  const opaUrl = `http://127.0.0.1:${po}`;
  const cosUrl = `http://127.0.0.1:${pc}`;
  const servers = [];
  try {
    servers.push(await start(OPA, ['run', '--server', '--addr', `127.0.0.1:${po}`, '--log-level', 'error', '--bundle', bundle], opaUrl));
    servers.push(await start(PDP, ['--listen', `127.0.0.1:${pc}`, '--pack', bundle], cosUrl));
    const clients = { opa: new OPAClient(opaUrl), cos: new OPAClient(cosUrl) };

    const answers = new Set();
    for (const [name, input] of Object.entries(INPUTS)) {
      const want = await clients.opa.evaluate('companyos/abac/decision', input);
      const got = await clients.cos.evaluate('companyos/abac/decision', input);
      assert.deepEqual(got, want, name);
      answers.add(JSON.stringify(want));
      // With a result transform, as summit's opa-client.ts reduces results.
      const reduce = { fromResult: (r) => ({ allow: r?.allow === true, reasons: r?.reasons ?? [] }) };
      assert.deepEqual(
        await clients.cos.evaluate('companyos/abac/decision', input, reduce),
        await clients.opa.evaluate('companyos/abac/decision', input, reduce),
      );
    }
    assert.ok(answers.size >= 3, 'the inputs give different decisions');

    // A whole package document, and an undefined one.
    assert.deepEqual(
      await clients.cos.evaluate('companyos/residency', { dataset: { residency: 'EU-Only' }, destination: { region: 'de-fra-1' } }),
      await clients.opa.evaluate('companyos/residency', { dataset: { residency: 'EU-Only' }, destination: { region: 'de-fra-1' } }),
    );
    assert.deepEqual(await clients.cos.evaluate('companyos/nothing/here', {}), await clients.opa.evaluate('companyos/nothing/here', {}));

    // The default decision (data.system.main) is undefined in this pack: both reject alike.
    const failure = async (p) => p.then(() => 'resolved', (e) => `${e.constructor.name}:${e.statusCode ?? ''}`);
    assert.equal(await failure(clients.cos.evaluateDefault(INPUTS.own)), await failure(clients.opa.evaluateDefault(INPUTS.own)));

    // Batches: neither server has OPA Enterprise's batch API; the SDK falls back to single calls.
    const batch = async (c) => c.evaluateBatch('companyos/abac/decision', INPUTS, { fallback: true });
    assert.deepEqual(await batch(clients.cos), await batch(clients.opa));

    // The low-level client's health call, with bundles.
    const health = async (url) => (await new OpaApiClient({ serverURL: url }).health(true)).httpMeta.response.status;
    assert.equal(await health(cosUrl), await health(opaUrl));
  } finally {
    for (const s of servers) s.kill();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('the SDK sending a bearer token: cos-pdp and OPA authorise alike', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cos-sdk-authz-'));
  const src = path.join(dir, 'pack');
  fs.mkdirSync(src);
  fs.writeFileSync(path.join(src, 'manifest.yaml'), 'name: sdk-authz\nversion: 1.0.0\nroots: [system/authz, app]\n');
  fs.writeFileSync(
    path.join(src, 'authz.rego'),
    [
      'package system.authz',
      'import rego.v1',
      'default allow := {"allowed": false, "reason": "a valid token is required"}',
      'allow := true if input.path == ["health"]',
      'else := true if input.identity == "admin-token"',
      'else := {"allowed": true} if { input.identity == "reader-token"; input.method == "POST"; input.path[1] == "data" }',
      '',
    ].join('\n'),
  );
  fs.writeFileSync(path.join(src, 'app.rego'), 'package app\nimport rego.v1\ndefault allow := false\nallow if input.user == "alice"\n');
  const bundle = path.join(dir, 'authz.tar.gz');
  execFileSync(COS, ['pack', 'build', src, '-o', bundle]);
  const [po, pc] = [await freePort(), await freePort()];
  const urls = { opa: `http://127.0.0.1:${po}`, cos: `http://127.0.0.1:${pc}` };
  const auth = ['--authentication=token', '--authorization=basic'];
  const servers = [];
  try {
    servers.push(await start(OPA, ['run', '--server', '--addr', `127.0.0.1:${po}`, '--log-level', 'error', ...auth, '--bundle', bundle], urls.opa));
    servers.push(await start(PDP, ['--listen', `127.0.0.1:${pc}`, '--pack', bundle, ...auth], urls.cos));
    const outcome = (p) =>
      p.then(
        (r) => ({ result: r }),
        (e) => ({ error: e.constructor.name, status: e.statusCode ?? e.httpMeta?.response?.status ?? null, message: e.message }),
      );
    const both = async (make, call) => {
      const [want, got] = [await outcome(call(make(urls.opa))), await outcome(call(make(urls.cos)))];
      assert.deepEqual(got, want);
      return want;
    };
    const decide = (c) => c.evaluate('app/allow', { user: 'alice' });
    // No token: refused by the policy, with its reason.
    const refused = await both((u) => new OPAClient(u), decide);
    assert.equal(refused.status, 401, JSON.stringify(refused));
    // The SDK's own bearer option, and a header set by hand.
    const admin = await both((u) => new OPAClient(u, { sdk: { bearerAuth: 'admin-token' } }), decide);
    assert.deepEqual(admin, { result: true });
    const reader = await both((u) => new OPAClient(u, { headers: { Authorization: 'Bearer reader-token' } }), decide);
    assert.deepEqual(reader, { result: true });
    // A wrong token, and the reader on an API its policy does not open.
    await both((u) => new OPAClient(u, { sdk: { bearerAuth: 'guess' } }), decide);
    const health = async (url, token) =>
      (await new OpaApiClient({ serverURL: url, bearerAuth: token }).health(true)).httpMeta.response.status;
    assert.equal(await health(urls.cos, 'reader-token'), await health(urls.opa, 'reader-token'));
  } finally {
    for (const s of servers) s.kill();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
