// Disclosure packs: build, sign, verify, tamper; AC-4: EU-Only data to a US
// region is blocked without an approved disclosure pack and allowed with one.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');

const cos = require('..');
const { BASELINE, code } = require('./fixtures');

const DATA = Buffer.from('{"ticket":4711,"customer":"c-1"}\n');
const NOW = '2026-11-22T10:00:00Z';

function spec(changes = {}) {
  return {
    id: 'dp-7',
    issuer: 'privacy-office',
    purpose: 'support',
    destinationRegion: 'US',
    datasets: [{
      id: 'ds-eu-1', classification: 'CONFIDENTIAL', residency: ['EU-Only'],
      objects: [{ name: 'tickets.jsonl', digest: cos.digest(DATA) }],
    }],
    approvals: [{ approver: 'ann', role: 'dpo', time: '2026-11-20T09:00:00Z' }],
    created: '2026-11-20T08:00:00Z',
    expires: '2027-01-01T00:00:00Z',
    ...changes,
  };
}

const REQUEST = {
  dataset_id: 'ds-eu-1',
  classification: 'CONFIDENTIAL',
  residency: 'EU-Only',
  destination_region: 'us-east-1',
  party: 'internal',
  purpose: 'support',
  time: NOW,
};

test('build, serialise, parse', () => {
  const p = new cos.DisclosurePack(spec());
  assert.equal(p.id, 'dp-7');
  const obj = p.toObject();
  assert.deepEqual(obj.destination, { region: 'US' });
  assert.equal(obj.datasets[0].objects[0].digest, cos.digest(DATA));
  assert.deepEqual(cos.DisclosurePack.fromJson(p.toJson()).toObject(), obj);
  assert.deepEqual(p.toJson(), cos.canonicalJson(obj));
  for (const bad of [{ purpose: 'Not A Tag' }, { expires: '2026-11-01T00:00:00Z' }, { datasets: [] },
    { destinationRegion: undefined }, { created: 'yesterday' }]) {
    assert.throws(() => new cos.DisclosurePack(spec(bad)), code('disclosure_invalid'), JSON.stringify(bad));
  }
  assert.throws(() => new cos.DisclosurePack(spec({ datasets: [{ id: 'x' }] })), code('InvalidArg'));
  assert.throws(() => new cos.DisclosurePack(spec({ destinationRegion: 'Atlantis!' })), code('invalid_region'));
  assert.throws(() => cos.DisclosurePack.fromJson('{"id": "x"}'), code('disclosure_invalid'));
});

test('sign, verify, tamper', () => {
  const issuer = cos.SigningKey.generate('ecdsa-p256');
  const envelope = new cos.DisclosurePack(spec()).sign([issuer]);
  const v = cos.verifyDisclosure(envelope, [issuer.publicPem()], { now: NOW, requiredRoles: ['dpo'] });
  assert.ok(v instanceof cos.VerifiedDisclosure);
  assert.deepEqual(v.keyIds, [issuer.keyId]);
  assert.equal(v.verifiedAt, NOW);
  assert.equal(v.pack.id, 'dp-7');
  assert.deepEqual(v.approvals, [{ approver: 'ann', role: 'dpo', time: '2026-11-20T09:00:00Z' }]);
  assert.deepEqual(v.toObject().pack, v.pack);
  assert.equal(v.toPolicyInput().approved, true);
  assert.equal(v.toPolicyInput().destination, 'US');
  assert.ok(v.covers('ds-eu-1', 'CONFIDENTIAL', 'EU-Only'));
  assert.ok(!v.covers('ds-eu-1', 'RESTRICTED', 'EU-Only'));
  assert.throws(() => v.covers('ds-eu-1', 'SECRETISH', 'EU-Only'), code('invalid_classification'));
  v.checkData('ds-eu-1', 'tickets.jsonl', DATA);
  v.checkDigest('ds-eu-1', 'tickets.jsonl', cos.digest(DATA));
  assert.throws(() => v.checkData('ds-eu-1', 'tickets.jsonl', 'other'), code('disclosure_digest_mismatch'));
  assert.throws(() => v.checkDigest('ds-eu-1', 'nope', cos.digest(DATA)), code('disclosure_digest_mismatch'));

  const env = JSON.parse(envelope);
  const payload = JSON.parse(Buffer.from(env.payload, 'base64'));
  payload.expires = '2030-01-01T00:00:00Z';
  env.payload = Buffer.from(JSON.stringify(payload)).toString('base64');
  assert.throws(() => cos.verifyDisclosure(JSON.stringify(env), [issuer.publicPem()], { now: NOW }),
    code('disclosure_signature_invalid'));

  const pem = [issuer.publicPem()];
  const cases = [
    [() => cos.verifyDisclosure(envelope, [cos.SigningKey.generate().publicPem()], { now: NOW }), 'disclosure_untrusted_key'],
    [() => cos.verifyDisclosure(envelope, pem, { now: '2027-01-01T00:00:00Z' }), 'disclosure_expired'],
    [() => cos.verifyDisclosure(envelope, pem, { now: '2026-11-01T00:00:00Z' }), 'disclosure_not_yet_valid'],
    [() => cos.verifyDisclosure(envelope, pem, { now: NOW, minApprovals: 2 }), 'disclosure_insufficient_approvals'],
    [() => cos.verifyDisclosure(envelope, pem, { now: NOW, requiredRoles: ['legal'] }), 'disclosure_insufficient_approvals'],
    [() => cos.verifyDisclosure(cos.dsseSign('{}', 'text/plain', [issuer]), pem, { now: NOW }), 'disclosure_payload_type'],
    [() => cos.verifyDisclosure('not json', pem, { now: NOW }), 'disclosure_invalid'],
    [() => cos.verifyDisclosure(envelope, [], { now: NOW }), 'invalid_threshold'],
    [() => cos.verifyDisclosure(envelope, ['not a key']), 'invalid_key'],
    [() => cos.verifyDisclosure(envelope, pem, { now: 'not a time' }), 'disclosure_invalid'],
    [() => cos.verifyDisclosure(envelope, pem, { minSignatures: -1 }), 'InvalidArg'],
  ];
  for (const [call, c] of cases) assert.throws(call, code(c));
});

test('AC-4: EU-Only to a US region blocked without, allowed with an approved disclosure pack', () => {
  const engine = new cos.Engine(cos.Pack.load(BASELINE));
  const issuer = cos.SigningKey.generate('ecdsa-p256');
  const trustedKeys = [issuer.publicPem()];

  let out = cos.decideResidency(engine, 'residency', REQUEST, { trustedKeys, requiredRoles: ['dpo'] });
  assert.deepEqual(out.disclosure, { status: 'absent' });
  assert.equal(out.decision.allow, false);
  assert.deepEqual(out.decision.reasons.map((r) => r.code), ['RESIDENCY_VIOLATION']);
  assert.deepEqual(out.decision.obligations, [{ type: 'disclosure_pack', purpose: 'support', destination: 'US' }]);

  const envelope = new cos.DisclosurePack(spec()).sign([issuer]);
  out = cos.decideResidency(engine, 'residency', REQUEST, { envelope, trustedKeys, requiredRoles: ['dpo'] });
  assert.equal(out.decision.allow, true);
  assert.deepEqual(out.decision.reasons.map((r) => r.code), ['DISCLOSURE_PACK_APPROVED']);
  assert.equal(out.disclosure.status, 'verified');
  assert.equal(out.disclosure.id, 'dp-7');
  assert.deepEqual(out.disclosure.key_ids, [issuer.keyId]);

  const untrusted = new cos.DisclosurePack(spec()).sign([cos.SigningKey.generate()]);
  const expired = new cos.DisclosurePack(spec({ expires: '2026-11-21T00:00:00Z', approvals: [] })).sign([issuer]);
  for (const [env, c] of [[untrusted, 'disclosure_untrusted_key'], [expired, 'disclosure_expired']]) {
    out = cos.decideResidency(engine, 'residency', REQUEST, { envelope: env, trustedKeys });
    assert.equal(out.decision.allow, false);
    assert.equal(out.disclosure.status, 'rejected');
    assert.equal(out.disclosure.code, c);
  }
  assert.equal(cos.decideResidency(engine, 'residency', { ...REQUEST, destination_region: 'eu-central-1' }).decision.allow, true);
  assert.throws(() => cos.decideResidency(engine, 'residency', { dataset_id: 'x' }), code('InvalidArg'));
  assert.throws(() => cos.decideResidency(engine, 'residency', REQUEST, { envelope, trustedKeys: [] }), code('invalid_threshold'));
});
