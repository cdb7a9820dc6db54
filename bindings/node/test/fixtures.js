// Shared inputs of the tests: the baseline pack and inputs with known
// decisions (the same as bindings/python/tests).
'use strict';

const path = require('node:path');

const ROOT = path.resolve(__dirname, '..', '..', '..');
const BASELINE = path.join(ROOT, 'examples', 'policy-packs', 'companyos-baseline');

const ABAC_INPUT = {
  subject: {
    id: 'u1',
    tenant: 'acme',
    roles: ['analyst'],
    attributes: { clearance: 'CONFIDENTIAL', step_up: false },
  },
  action: 'read',
  resource: {
    type: 'dataset',
    id: 'd1',
    tenant: 'acme',
    classification: 'CONFIDENTIAL',
    residency: 'EU-Only',
  },
  context: { time: '2026-11-22T10:00:00Z', grants: [] },
};

// AC-4: EU-Only data to a US region needs an approved disclosure pack.
const RESIDENCY_INPUT = {
  dataset: { id: 'ds-eu-1', classification: 'CONFIDENTIAL', residency: 'EU-Only' },
  destination: { region: 'us-east-1', party: 'internal' },
  context: { time: '2026-11-22T10:00:00Z' },
  purpose: 'support',
};

/** An assert.throws/rejects matcher: an Error with this `code`. */
function code(expected, message) {
  return (err) => {
    if (!(err instanceof Error)) throw new Error(`not an Error: ${err}`);
    if (err.code !== expected) throw new Error(`code ${err.code} (${err.message}), expected ${expected}`);
    if (message && !message.test(err.message)) throw new Error(`message ${err.message} does not match ${message}`);
    return true;
  };
}

module.exports = { ROOT, BASELINE, ABAC_INPUT, RESIDENCY_INPUT, code };
