// index.d.ts and the runtime agree: every export (and every class member)
// of the native module is declared, and nothing is declared that is not
// there. Read with the TypeScript compiler API (a devDependency).
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const ts = require('typescript');

const cos = require('@companyos/cos');

const PKG = path.resolve(__dirname, '..');

function declared() {
  const file = path.join(PKG, 'index.d.ts');
  const program = ts.createProgram([file], { noEmit: true, strict: true, types: ['node'] });
  const checker = program.getTypeChecker();
  const moduleSymbol = checker.getSymbolAtLocation(program.getSourceFile(file));
  const out = new Map();
  for (const sym of checker.getExportsOfModule(moduleSymbol)) {
    if (!(sym.flags & ts.SymbolFlags.Value)) continue; // types and interfaces have no runtime value
    const entry = { kind: sym.flags & ts.SymbolFlags.Class ? 'class' : 'function' };
    if (entry.kind === 'class') {
      const decl = sym.valueDeclaration;
      entry.statics = checker
        .getTypeOfSymbolAtLocation(sym, decl)
        .getProperties()
        .map((p) => p.name)
        .filter((n) => n !== 'prototype')
        .sort();
      entry.members = checker
        .getDeclaredTypeOfSymbol(sym)
        .getProperties()
        .map((p) => p.name)
        .sort();
    }
    out.set(sym.name, entry);
  }
  return out;
}

function runtime() {
  const out = new Map();
  for (const [name, value] of Object.entries(cos)) {
    assert.equal(typeof value, 'function', `${name} is a function or class`);
    const isClass = typeof value.prototype === 'object' && Object.getOwnPropertyNames(value.prototype).length > 1;
    const entry = { kind: isClass ? 'class' : 'function' };
    if (isClass) {
      entry.statics = Object.getOwnPropertyNames(value)
        .filter((n) => !['length', 'name', 'prototype', 'arguments', 'caller'].includes(n))
        .sort();
      entry.members = Object.getOwnPropertyNames(value.prototype)
        .filter((n) => n !== 'constructor')
        .sort();
    }
    out.set(name, entry);
  }
  return out;
}

test('every runtime export is declared in index.d.ts and vice versa', () => {
  const d = declared();
  const r = runtime();
  assert.deepEqual([...r.keys()].sort(), [...d.keys()].sort());
  for (const [name, entry] of r) assert.deepEqual(entry, d.get(name), name);
});

test('index.mjs names every export', () => {
  const text = fs.readFileSync(path.join(PKG, 'index.mjs'), 'utf8');
  const block = text.slice(text.indexOf('export const {'), text.indexOf('} = native;'));
  const names = [...block.matchAll(/^\s+([A-Za-z]\w*),$/gm)].map((m) => m[1]).sort();
  assert.deepEqual(names, Object.keys(cos).sort());
});

test('package.json entry points exist', () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(PKG, 'package.json'), 'utf8'));
  for (const f of [pkg.main, pkg.types, ...pkg.files]) {
    assert.ok(fs.existsSync(path.join(PKG, f)), f);
  }
});

test('CosErrorCode lists the codes of cos-core, cos-supplychain and cos-policy', () => {
  // docs/error-codes.json is generated from the crates' Error::CODES (the
  // table that also gives Error::code, which the binding maps every error
  // through) and checked by tests/tests/error_codes.rs.
  const root = path.resolve(PKG, '..', '..');
  const listed = JSON.parse(fs.readFileSync(path.join(root, 'docs', 'error-codes.json'), 'utf8'));
  const crates = [...new Set(listed.map((c) => c.crate))].sort();
  assert.deepEqual(crates, ['cos-core', 'cos-policy', 'cos-supplychain']);
  const crateCodes = listed.map((c) => c.code);
  const dts = fs.readFileSync(path.join(PKG, 'index.d.ts'), 'utf8');
  const union = dts.slice(dts.indexOf('export type CosErrorCode'), dts.indexOf('export type ArgErrorCode'));
  const declaredCodes = [...union.matchAll(/\| '([a-z_]+)'/g)].map((m) => m[1]);
  assert.ok(crateCodes.length > 20);
  assert.deepEqual([...new Set(declaredCodes)].sort(), [...new Set(crateCodes)].sort());
});

test('the tests call every export and every class member', () => {
  const sources = fs
    .readdirSync(__dirname)
    .filter((f) => /\.test\.m?js$/.test(f) && f !== path.basename(__filename))
    .map((f) => fs.readFileSync(path.join(__dirname, f), 'utf8'))
    .join('\n');
  const missing = [];
  for (const [name, entry] of runtime()) {
    if (!new RegExp(`\\b${name}\\b`).test(sources)) missing.push(name);
    for (const m of [...(entry.statics ?? []), ...(entry.members ?? [])]) {
      // toString is called through String(x).
      const used = m === 'toString' ? /String\(/.test(sources) : new RegExp(`\\.${m}\\b`).test(sources);
      if (!used) missing.push(`${name}.${m}`);
    }
  }
  assert.deepEqual(missing, []);
});
