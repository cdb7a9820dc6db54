// The ES module entry with types: named and default imports.
import cos, { Engine, Pack, type Decision, type CosErrorCode } from '@companyos/cos';

const engine = new Engine(Pack.load('examples/policy-packs/companyos-baseline'));
const decision: Decision = await engine.decideAsync('abac', {
  subject: { id: 'u1', tenant: 'acme', roles: ['analyst'], attributes: { clearance: 'CONFIDENTIAL' } },
  action: 'read',
  resource: { type: 'dataset', id: 'd1', tenant: 'acme', classification: 'CONFIDENTIAL' },
  context: { time: '2026-11-22T10:00:00Z' },
});
const code: CosErrorCode = 'unknown_entrypoint';
console.log(decision.allow, cos.digest('x'), code);
