// Dlp: detectors, custom patterns, operators, JSON field rules, the
// obligations of a decision, limits, async variants.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');

const cos = require('..');
const { BASELINE, code } = require('./fixtures');

const TEXT = 'Mail alice@example.com, card 4111 1111 1111 1111, call 415-555-0132.';
const hmac = (key, value) => crypto.createHmac('sha256', key).update(value).digest('hex');

test('defaults redact every detector; reports hold no values', async () => {
  const { output, report } = new cos.Dlp().redactText(TEXT);
  assert.equal(output, 'Mail [REDACTED:EMAIL], card [REDACTED:CREDIT_CARD], call [REDACTED:PHONE].');
  assert.deepEqual(report.findings.map((f) => f.entity), ['email', 'credit_card', 'phone']);
  assert.deepEqual(report.findings[0].span, { start: 5, end: 22 });
  assert.ok(!JSON.stringify(report).includes('alice'));
  assert.deepEqual(await new cos.Dlp().redactTextAsync(TEXT), { output, report });
});

test('scan and detector choice', () => {
  const found = new cos.Dlp().scan(TEXT);
  assert.deepEqual(
    found.map((d) => [d.entity, Buffer.from(TEXT).subarray(d.span.start, d.span.end).toString()]),
    [['email', 'alice@example.com'], ['credit_card', '4111 1111 1111 1111'], ['phone', '415-555-0132']],
  );
  assert.deepEqual(new cos.Dlp({ detectors: ['email'] }).scan(TEXT).map((d) => d.entity), ['email']);
  assert.deepEqual(new cos.Dlp({ without: ['phone'] }).scan(TEXT).map((d) => d.entity), ['email', 'credit_card']);
});

test('operators: mask, replace, hash, drop, template', () => {
  const dlp = new cos.Dlp(
    {
      operators: {
        credit_card: { type: 'mask', keep: 4 },
        email: 'hash',
        phone: { type: 'replace', value: '<phone>' },
      },
    },
    'per-tenant secret',
  );
  const { output, report } = dlp.redactText(TEXT);
  assert.equal(output, `Mail ${hmac('per-tenant secret', 'alice@example.com')}, card **** **** **** 1111, call <phone>.`);
  assert.deepEqual(report.findings.map((f) => f.operator), ['hash', 'mask', 'replace']);
  assert.equal(new cos.Dlp({ default_operator: 'drop' }).redactText('a alice@example.com b').output, 'a  b');
  assert.equal(new cos.Dlp({ redact_template: '<{entity}>' }).redactText('alice@example.com').output, '<email>');
  assert.equal(new cos.Dlp({ operators: { email: 'hash' } }, Buffer.from('k')).redactText('alice@example.com').output,
    hmac('k', 'alice@example.com'));
});

test('custom patterns and configuration errors', () => {
  const dlp = new cos.Dlp({
    patterns: [{ name: 'employee_id', pattern: '\\bEMP-[0-9]{6}\\b', classification: 'CONFIDENTIAL', operator: 'mask' }],
  });
  const { output, report } = dlp.redactText('badge EMP-123456 issued');
  assert.equal(output, 'badge ***-**3456 issued');
  assert.deepEqual(report.findings[0], {
    entity: 'employee_id', span: { start: 6, end: 16 }, classification: 'CONFIDENTIAL', operator: 'mask',
  });
  const cases = [
    [{ patterns: [{ name: 'email', pattern: 'x' }] }, 'dlp_invalid_pattern'],
    [{ patterns: [{ name: 'p', pattern: '(' }] }, 'dlp_invalid_pattern'],
    [{ patterns: [{ name: 'p', pattern: 'a*' }] }, 'dlp_invalid_pattern'],
    [{ operators: { email: 'hash' } }, 'dlp_invalid_operator'],
    [{ operators: { no_such_entity: 'drop' } }, 'dlp_invalid_operator'],
    [{ detectors: ['emails'] }, 'InvalidArg'],
    [{ colour: 'red' }, 'InvalidArg'],
  ];
  for (const [config, c] of cases) assert.throws(() => new cos.Dlp(config), code(c), JSON.stringify(config));
});

test('JSON documents with field rules', async () => {
  const dlp = new cos.Dlp(undefined, 'k');
  const doc = {
    customer: { email: 'bob@example.org', ssn: '123-45-6789', note: 'call 415-555-0132' },
    items: [{ card: '4111111111111111', qty: 2 }],
  };
  const rules = {
    fields: [
      { path: 'customer.email', operator: 'hash' },
      { path: 'customer.ssn', operator: 'drop' },
      { path: 'items[*].card', operator: 'mask', class: 'credit_card', classification: 'RESTRICTED' },
    ],
  };
  const { output, report } = dlp.redactJson(doc, rules);
  assert.equal(output.customer.email, hmac('k', 'bob@example.org'));
  assert.equal(output.customer.ssn, undefined);
  assert.equal(output.customer.note, 'call [REDACTED:PHONE]');
  assert.deepEqual(output.items, [{ card: '************1111', qty: 2 }]);
  const card = report.findings.find((f) => f.path === 'items[0].card');
  assert.deepEqual(card, { entity: 'credit_card', path: 'items[0].card', classification: 'RESTRICTED', operator: 'mask' });
  assert.deepEqual(await dlp.redactJsonAsync(doc, rules), { output, report });
  assert.equal(doc.customer.ssn, '123-45-6789', 'the input is not changed');
  assert.equal(dlp.redactJson(doc).output.customer.email, '[REDACTED:EMAIL]');
  assert.deepEqual(dlp.redactJson(doc, { scan_strings: false }), { output: doc, report: { findings: [] } });
  assert.throws(() => dlp.redactJson(doc, { fields: [{ path: 'a..b', operator: 'drop' }] }), code('dlp_invalid_path'));
  assert.throws(() => new cos.Dlp().redactJson(doc, { fields: [{ path: 'a', operator: 'hash' }] }), code('dlp_invalid_operator'));
  await assert.rejects(new cos.Dlp({ max_depth: 1 }).redactJsonAsync(doc), code('dlp_input_too_large'));
});

test('obligations of a decision, from the baseline pack', () => {
  const engine = new cos.Engine(cos.Pack.load(BASELINE));
  const decision = engine.decide('dlp', {
    destination: { party: 'public' },
    fields: [{ path: 'customer.email', class: 'email' }, { path: 'customer.ssn', class: 'ssn' }],
  });
  assert.equal(decision.allow, true);
  const record = { customer: { email: 'ann@example.com', ssn: '123-45-6789', id: 7 } };
  const { output, report } = new cos.Dlp().applyObligations(record, decision.obligations);
  assert.deepEqual(output, { customer: { email: '[REDACTED:FIELD]', id: 7 } });
  assert.deepEqual(report.findings.map((f) => f.operator).sort(), ['drop', 'redact']);

  const obligations = [{ type: 'redact', operator: 'mask', fields: ['payment.card'] }];
  const named = new cos.Dlp({ named_operators: { mask: { type: 'mask', keep: 2 } } });
  assert.equal(named.applyObligations({ payment: { card: '4111111111111111' } }, obligations).output.payment.card,
    '**************11');
  assert.throws(
    () => new cos.Dlp().applyObligations(record, [{ type: 'redact', operator: 'shred', fields: ['a'] }]),
    code('dlp_invalid_operator'),
  );
  assert.throws(() => new cos.Dlp().applyObligations(record, 'not a list'), code('InvalidArg'));
});

test('limits', async () => {
  const small = new cos.Dlp({ max_input_bytes: 100, max_depth: 3 });
  assert.throws(() => small.redactText('x'.repeat(101)), code('dlp_input_too_large'));
  assert.throws(() => small.scan('x'.repeat(101)), code('dlp_input_too_large'));
  await assert.rejects(small.redactTextAsync('x'.repeat(101)), code('dlp_input_too_large'));
  assert.throws(() => small.redactJson({ a: { b: { c: { d: 'e' } } } }), code('dlp_input_too_large'));
  const big = ('filler text '.repeat(1000) + 'alice@example.com ').repeat(50);
  const { output, report } = await new cos.Dlp().redactTextAsync(big);
  assert.equal(report.findings.length, 50);
  assert.ok(!output.includes('alice'));
});
