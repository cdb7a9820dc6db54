// Cost of one baseline-pack ABAC `evaluate` from Node.js (the same decision
// and output format as benches/python/bench_evaluate.py).
//
//     node benches/node/bench_evaluate.mjs [--n 20000]
//     node benches/node/bench_evaluate.mjs --loop N [--json]   # N calls in a plain loop, their mean
//                                      (callgrind; --json: evaluateJson on JSON text)
//
// Needs the built package (`cd bindings/node && npm install && npm run build`).
// The Rust figure for the same call is
// `cargo bench -p cos-benches --bench policy_latency` (`evaluate/baseline-abac`).
// Results: docs/benchmarks.md.
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { Engine, Pack } from '../../bindings/node/index.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const PACK = path.join(ROOT, 'examples', 'policy-packs', 'companyos-baseline');
const PATH = 'companyos/abac/decision';
const INPUT = {
  subject: {
    id: 'u-42', tenant: 'acme', roles: ['analyst', 'viewer'],
    attributes: { clearance: 'CONFIDENTIAL', step_up: false },
  },
  action: 'read',
  resource: {
    type: 'dataset', id: 'ds-7', tenant: 'globex',
    classification: 'CONFIDENTIAL', residency: 'EU-Only',
  },
  context: {
    time: '2026-11-22T10:00:00Z',
    grants: [{ tenant: 'globex', role: 'analyst', actions: ['read'], expires: '2026-12-31T00:00:00Z' }],
  },
};

function report(name, samples) {
  samples.sort((a, b) => a - b);
  const n = samples.length;
  const med = samples[Math.floor(n / 2)] / 1000;
  const p99 = samples[Math.floor(n * 0.99)] / 1000;
  const mean = samples.reduce((a, b) => a + b, 0) / n / 1000;
  console.log(`${name}: n=${n} median=${med.toFixed(1)}µs p99=${p99.toFixed(1)}µs mean=${mean.toFixed(1)}µs`);
  return med;
}

function measure(name, fn, n) {
  for (let i = 0; i < Math.floor(n / 10); i++) fn();
  const samples = new Array(n);
  for (let i = 0; i < n; i++) {
    const t = process.hrtime.bigint();
    fn();
    samples[i] = Number(process.hrtime.bigint() - t);
  }
  return report(name, samples);
}

async function measureAsync(name, fn, n) {
  for (let i = 0; i < Math.floor(n / 10); i++) await fn();
  const samples = new Array(n);
  for (let i = 0; i < n; i++) {
    const t = process.hrtime.bigint();
    await fn();
    samples[i] = Number(process.hrtime.bigint() - t);
  }
  return report(name, samples);
}

const { values } = parseArgs({
  options: { n: { type: 'string', default: '20000' }, loop: { type: 'string' }, json: { type: 'boolean' } },
});
const n = Number.parseInt(values.n, 10);
assert.ok(n > 0, '--n must be a positive integer');

const engine = new Engine(Pack.load(PACK));
if (values.loop !== undefined) {
  const loops = Number.parseInt(values.loop, 10);
  // --json: evaluateJson on the input's JSON text (what a service holding
  // the request body as text would call), the result left as text.
  const text = JSON.stringify(INPUT);
  const call = values.json ? () => engine.evaluateJson(PATH, text) : () => engine.evaluate(PATH, INPUT);
  for (let i = 0; i < Math.min(loops, 1000); i++) call(); // warm-up
  const t = process.hrtime.bigint();
  for (let i = 0; i < loops; i++) call();
  const perCall = Number(process.hrtime.bigint() - t) / Math.max(loops, 1);
  const what = values.json ? 'evaluateJson' : 'evaluate';
  console.log(`node/companyos/${what}-loop: n=${loops} mean=${(perCall / 1000).toFixed(2)}µs`);
  process.exit(0);
}
const expected = engine.evaluate(PATH, INPUT);
assert.equal(expected.allow, true, JSON.stringify(expected));
measure('node/companyos/evaluate', () => engine.evaluate(PATH, INPUT), n);
measure('node/companyos/decide', () => engine.decide('abac', INPUT), n);
// One at a time, so this is the round trip through the libuv thread pool.
await measureAsync('node/companyos/evaluateAsync', () => engine.evaluateAsync(PATH, INPUT), Math.max(1, Math.floor(n / 4)));
