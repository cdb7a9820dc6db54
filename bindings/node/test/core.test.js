// cos-core through the native module (CommonJS): each function and its errors.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');

const cos = require('@companyos/cos');
const { code } = require('./fixtures.js');

test('digest matches node:crypto', () => {
  const hex = (alg, d) => crypto.createHash(alg).update(d).digest('hex');
  assert.equal(cos.digest(Buffer.from('abc')), `sha256:${hex('sha256', 'abc')}`);
  assert.equal(cos.digest('abc'), `sha256:${hex('sha256', 'abc')}`);
  assert.equal(cos.digest(new Uint8Array([97, 98, 99]), 'sha512'), `sha512:${hex('sha512', 'abc')}`);
  assert.throws(() => cos.digest('abc', 'md5'), code('unsupported_algorithm', /md5/));
  assert.throws(() => cos.digest(42), code('InvalidArg'));
  assert.throws(() => cos.digest(), code('InvalidArg'));
});

test('canonical JSON', () => {
  const out = cos.canonicalize(Buffer.from('{"b": [1.0, 1e21], "a": "\\u00e9"}'));
  assert.ok(Buffer.isBuffer(out));
  assert.equal(out.toString('utf8'), '{"a":"é","b":[1,1e+21]}');
  assert.equal(cos.canonicalize('{"z":1,"y":2}').toString(), '{"y":2,"z":1}');
  assert.equal(
    cos.canonicalJson({ b: 2, a: [true, null, 1.5] }).toString(),
    '{"a":[true,null,1.5],"b":2}',
  );
  assert.throws(() => cos.canonicalize('{"a": 1, "a": 2}'), code('invalid_json'));
  assert.throws(() => cos.canonicalize('not json'), code('invalid_json'));
  // Values are what JSON.stringify makes of them...
  assert.equal(cos.canonicalJson({ u: undefined, f() {}, a: 1 }).toString(), '{"a":1}');
  assert.equal(cos.canonicalJson([undefined, NaN]).toString(), '[null,null]');
  assert.equal(cos.canonicalJson({ d: new Date(0) }).toString(), '{"d":"1970-01-01T00:00:00.000Z"}');
  assert.equal(cos.canonicalJson({ toJSON: () => [2, 1] }).toString(), '[2,1]');
  // ...and what it cannot make JSON of is an argument error.
  assert.throws(() => cos.canonicalJson(undefined), code('InvalidArg'));
  assert.throws(() => cos.canonicalJson(() => 1), code('InvalidArg'));
  assert.throws(() => cos.canonicalJson(Symbol('s')), code('InvalidArg'));
  assert.throws(() => cos.canonicalJson({ n: 10n }), code('InvalidArg', /BigInt/));
  assert.throws(() => cos.canonicalJson({ toJSON() { throw new Error('nope'); } }), code('InvalidArg', /nope/));
  const cyclic = {};
  cyclic.self = cyclic;
  assert.throws(() => cos.canonicalJson(cyclic), code('InvalidArg'));
});

for (const alg of ['ed25519', 'ecdsa-p256']) {
  test(`SigningKey and DSSE round trip (${alg})`, () => {
    const k = cos.SigningKey.generate(alg);
    assert.ok(k instanceof cos.SigningKey);
    assert.equal(k.algorithm, alg);
    assert.match(k.keyId, /^[0-9a-f]{64}$/);
    assert.match(k.publicPem(), /PUBLIC KEY/);
    assert.match(k.toPem(), /PRIVATE KEY/);
    const again = cos.SigningKey.fromPem(k.toPem());
    assert.equal(again.keyId, k.keyId);
    assert.match(String(k), new RegExp(alg));
    assert.doesNotMatch(String(k), /PRIVATE/);

    const env = cos.dsseSign(Buffer.from('{"x": 1}'), 'application/vnd.in-toto+json', [k]);
    assert.ok(Buffer.isBuffer(env));
    assert.equal(JSON.parse(env).payloadType, 'application/vnd.in-toto+json');
    const v = cos.dsseVerify(env, [k.publicPem()], 1, 'application/vnd.in-toto+json');
    assert.equal(v.payload.toString(), '{"x": 1}');
    assert.equal(v.payloadType, 'application/vnd.in-toto+json');
    assert.deepEqual(v.keyIds, [k.keyId]);
    // A string envelope and payload work as their UTF-8.
    const env2 = cos.dsseSign('hi', 'text/plain', [k, again]);
    assert.deepEqual(cos.dsseVerify(env2.toString(), [k.publicPem()]).payload, Buffer.from('hi'));
  });
}

test('SigningKey default algorithm is ed25519', () => {
  assert.equal(cos.SigningKey.generate().algorithm, 'ed25519');
  assert.throws(() => new cos.SigningKey(), Error);
});

test('DSSE errors carry the cos-core codes', () => {
  const a = cos.SigningKey.generate();
  const b = cos.SigningKey.generate('ecdsa-p256');
  const env = cos.dsseSign(Buffer.from('hello'), 'text/plain', [a]);
  // The wrong key: the evidence does not hold.
  assert.throws(() => cos.dsseVerify(env, [b.publicPem()]), code('threshold_not_met'));
  // A tampered signature.
  const doc = JSON.parse(env);
  const sig = doc.signatures[0].sig;
  doc.signatures[0].sig = (sig[0] !== 'A' ? 'A' : 'B') + sig.slice(1);
  assert.throws(() => cos.dsseVerify(JSON.stringify(doc), [a.publicPem()]), (e) =>
    ['signature_invalid', 'threshold_not_met'].includes(e.code),
  );
  // Threshold above the keys given, the wrong payload type, garbage.
  assert.throws(() => cos.dsseVerify(env, [a.publicPem()], 2), (e) =>
    ['invalid_threshold', 'threshold_not_met'].includes(e.code),
  );
  assert.throws(
    () => cos.dsseVerify(env, [a.publicPem()], 1, 'application/json'),
    code('payload_type_mismatch'),
  );
  assert.throws(() => cos.dsseVerify(Buffer.from('not json'), [a.publicPem()]), code('invalid_envelope'));
  assert.throws(() => cos.dsseVerify(env, ['not a pem']), code('invalid_key'));
  assert.throws(() => cos.dsseVerify(env, [a.publicPem()], -1), code('InvalidArg'));
  assert.throws(
    () => cos.SigningKey.fromPem('-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n'),
    code('invalid_key'),
  );
  assert.throws(() => cos.SigningKey.generate('rsa'), code('unsupported_algorithm'));
  assert.throws(() => cos.dsseSign('x', 'text/plain', [{}]), code('InvalidArg'));
  assert.throws(() => cos.dsseSign('x', 'text/plain', 'not an array'), code('ArrayExpected'));
});

test('in-toto statements', () => {
  const k = cos.SigningKey.generate('ecdsa-p256');
  const d = cos.digest(Buffer.from('artifact'));
  const st = cos.statement('https://slsa.dev/provenance/v1', { buildType: 'x' }, [
    { name: 'app.tar', digest: d },
  ]);
  assert.equal(st._type, 'https://in-toto.io/Statement/v1');
  assert.deepEqual(st.subject, [{ name: 'app.tar', digest: { sha256: d.split(':')[1] } }]);
  const env = cos.statementSign(st, [k]);
  assert.equal(JSON.parse(env).payloadType, 'application/vnd.in-toto+json');
  assert.deepEqual(cos.statementVerify(env, [k.publicPem()]), st);
  assert.deepEqual(cos.statementVerify(env.toString(), [k.publicPem()], 1), st);

  assert.throws(() => cos.statement('p', {}, []), code('invalid_statement'));
  assert.throws(() => cos.statement('p', {}, [{ name: 'a', digest: 'sha256:zz' }]), code('invalid_digest'));
  assert.throws(() => cos.statement('p', {}, [{ name: 'a' }]), code('InvalidArg'));
  assert.throws(() => cos.statementSign({ _type: 'nope' }, [k]), code('invalid_statement'));
  const other = cos.dsseSign(Buffer.from('{}'), 'application/json', [k]);
  assert.throws(() => cos.statementVerify(other, [k.publicPem()]), code('payload_type_mismatch'));
  assert.throws(() => cos.statementVerify(env, [cos.SigningKey.generate().publicPem()]), code('threshold_not_met'));
});
