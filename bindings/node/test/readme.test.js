// The README's examples run as written: the CommonJS and ES module blocks
// print what the README says they print, and the TypeScript block type-checks.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const ts = require('typescript');

const { ROOT } = require('./fixtures.js');

const PKG = path.resolve(__dirname, '..');
const README = fs.readFileSync(path.join(PKG, 'README.md'), 'utf8');

/** The first ```lang block after `heading`, and the ```text block after it. */
function section(heading, lang, readme = README) {
  const rest = readme.split(`\n## ${heading}\n`)[1];
  assert.ok(rest, `README has a "## ${heading}" section`);
  const code = rest.match(new RegExp('```' + lang + '\\n([\\s\\S]*?)```'));
  assert.ok(code, `a ${lang} block under ${heading}`);
  const after = rest.slice(code.index + code[0].length);
  const out = after.match(/```text\n([\s\S]*?)```/);
  return { code: code[1], expected: out && out[1] };
}

// Written inside the package so that `@companyos/cos` resolves to it
// (self-reference), run from the repository root as the README says.
function run(name, code) {
  const file = path.join(PKG, name);
  fs.writeFileSync(file, code);
  try {
    return execFileSync(process.execPath, [file], { cwd: ROOT, encoding: 'utf8' });
  } finally {
    fs.rmSync(file, { force: true });
  }
}

test('README CommonJS example', () => {
  const { code, expected } = section('CommonJS', 'js');
  assert.equal(run('.readme-example.cjs', code), expected);
});

test('README ES module example', () => {
  const { code, expected } = section('ES modules', 'mjs');
  assert.equal(run('.readme-example.mjs', code), expected);
});

test('README drop-in example (summit fetcher and OPA client)', () => {
  const { code, expected } = section('Drop-in for the summit fetcher and OPA clients', 'mjs');
  assert.equal(run('.readme-dropin.mjs', code), expected);
});

test('README store, DLP and disclosure example', () => {
  const { code, expected } = section('Store, DLP and disclosure packs', 'js');
  assert.equal(run('.readme-store.cjs', code), expected);
});

test('README supply chain example', () => {
  const { code, expected } = section('Supply chain', 'js');
  assert.equal(run('.readme-supplychain.cjs', code), expected);
});

test("the repository README's Node example", () => {
  const main = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const { code, expected } = section('Node', 'js', main);
  assert.equal(run('.readme-root.cjs', code), expected);
});

test('README TypeScript example type-checks', () => {
  const { code } = section('TypeScript', 'ts');
  const file = path.join(PKG, 'examples', '.readme-example.ts');
  fs.writeFileSync(file, code);
  try {
    const config = ts.readConfigFile(path.join(PKG, 'examples', 'tsconfig.json'), ts.sys.readFile);
    const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, path.join(PKG, 'examples'));
    const program = ts.createProgram([file], parsed.options);
    const diagnostics = ts.getPreEmitDiagnostics(program).map((d) =>
      ts.flattenDiagnosticMessageText(d.messageText, '\n'),
    );
    assert.deepEqual(diagnostics, []);
  } finally {
    fs.rmSync(file, { force: true });
  }
});
