// @companyos/cos (CommonJS): the native module built by `npm run build`.
// Every export is declared and documented in index.d.ts.
'use strict';

const { join } = require('node:path');

let native;
try {
  native = require(join(__dirname, 'cos.node'));
} catch (err) {
  if (err && err.code === 'MODULE_NOT_FOUND') {
    err.message = `@companyos/cos: the native module is not built (run \`npm run build\` in ${__dirname}): ${err.message}`;
  }
  throw err;
}

// Engine#evaluate and PolicyStore#evaluate: JSON values cross to the native
// module as text, with V8's JSON.stringify and JSON.parse called here, in
// JavaScript, where they are cheapest (from native code each is a property
// look-up and a call through N-API), around the native `evaluateJson`. Same
// values, errors and codes as the other native methods.
function inputText(input) {
  try {
    return JSON.stringify(input);
  } catch (err) {
    const e = new Error(`input is not JSON cos can read: ${err && err.message}`);
    e.code = 'InvalidArg';
    throw e;
  }
}
const parsed = (out) => (out === undefined ? undefined : JSON.parse(out));
Object.defineProperty(native.Engine.prototype, 'evaluate', {
  value: function evaluate(path, input) {
    return parsed(this.evaluateJson(path, inputText(input)));
  },
  writable: true,
  configurable: true,
});
Object.defineProperty(native.PolicyStore.prototype, 'evaluate', {
  value: function evaluate(path, input, tenant) {
    return parsed(this.evaluateJson(path, inputText(input), tenant));
  },
  writable: true,
  configurable: true,
});

module.exports = native;
