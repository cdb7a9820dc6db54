// Builds the native module with cargo and copies it to ./cos.node, the file
// index.js loads. `--debug` builds the dev profile (faster to compile);
// COS_CARGO_PROFILE=<name> another cargo profile (the test suite uses
// `dev`, as the Python package's build there does, to reuse what
// `cargo test` compiled).
//
//   node scripts/build.mjs [--debug]
//
// Plain cargo, no napi CLI: `cargo build -p companyos-node --release --locked`
// in the workspace this package lives in (CARGO_TARGET_DIR is honoured).
import { execFileSync } from 'node:child_process';
import { copyFileSync, renameSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkgDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const debug = process.argv.includes('--debug');
const cargo = process.env.CARGO || 'cargo';

const profile = debug ? 'dev' : process.env.COS_CARGO_PROFILE || 'release';
const args = ['build', '-p', 'companyos-node', '--locked', '--profile', profile];
console.log(`> ${cargo} ${args.join(' ')}`);
execFileSync(cargo, args, { cwd: pkgDir, stdio: 'inherit' });

const meta = JSON.parse(
  execFileSync(cargo, ['metadata', '--format-version', '1', '--no-deps'], {
    cwd: pkgDir,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  }),
);
const lib = {
  darwin: 'libcompanyos_node.dylib',
  win32: 'companyos_node.dll',
}[process.platform] ?? 'libcompanyos_node.so';
const from = join(meta.target_directory, profile === 'dev' ? 'debug' : profile, lib);
const to = join(pkgDir, 'cos.node');
// Copy then rename: a process that has the old module loaded keeps its mapping.
copyFileSync(from, `${to}.tmp`);
renameSync(`${to}.tmp`, to);
console.log(`${from} -> ${to}`);
