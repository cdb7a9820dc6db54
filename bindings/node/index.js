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

// Engine#evaluate: JSON values cross to the native module as text, with
// V8's JSON.stringify and JSON.parse called here, in JavaScript, where they
// are cheapest (from native code each is a property look-up and a call
// through N-API). Same values, errors and codes as the other native methods.
const { Engine } = native;
Object.defineProperty(Engine.prototype, 'evaluate', {
  value: function evaluate(path, input) {
    let text;
    try {
      text = JSON.stringify(input);
    } catch (err) {
      const e = new Error(`input is not JSON cos can read: ${err && err.message}`);
      e.code = 'InvalidArg';
      throw e;
    }
    const out = this.evaluateJson(path, text);
    return out === undefined ? undefined : JSON.parse(out);
  },
  writable: true,
  configurable: true,
});

module.exports = native;
