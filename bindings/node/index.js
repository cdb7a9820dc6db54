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

module.exports = native;
