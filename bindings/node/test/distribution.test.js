// Sigstore key bundles and the in-process fetchAndVerify / fetchAttestation
// (drop-in for BrianCLong/summit clients/cos-policy-fetcher).
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const cos = require('..');
const { BASELINE, ABAC_INPUT, code } = require('./fixtures');

function signedPack(key) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cos-node-dist-'));
  const archive = cos.Pack.load(BASELINE).buildBundle();
  const file = path.join(dir, 'pack.tar.gz');
  fs.writeFileSync(file, archive);
  fs.writeFileSync(`${file}.sigstore.json`, cos.sigstoreSignBlob(archive, key));
  return { dir, file, archive };
}

test('sigstoreSignBlob / sigstoreVerifyBlob round trip and tampers', () => {
  const key = cos.SigningKey.generate('ecdsa-p256');
  const bundle = cos.sigstoreSignBlob(Buffer.from('artifact'), key);
  assert.equal(JSON.parse(bundle.toString()).mediaType, 'application/vnd.dev.sigstore.bundle.v0.3+json');
  const ok = cos.sigstoreVerifyBlob('artifact', bundle, key.publicPem());
  assert.equal(ok.keyId, key.keyId);
  assert.equal(ok.artifactDigest, cos.digest('artifact'));
  assert.equal(ok.uncheckedTlogEntries, 0);
  // The one result shape (cos_core::sigstore::VerifiedBlob): no identity in key mode.
  assert.equal(ok.identity, null);
  assert.equal(ok.payloadType, null);
  assert.throws(() => cos.sigstoreVerifyBlob('artifact!', bundle, key.publicPem()), code('artifact_mismatch'));
  const other = cos.SigningKey.generate('ecdsa-p256');
  assert.throws(() => cos.sigstoreVerifyBlob('artifact', bundle, other.publicPem()), code('signature_invalid'));
  assert.throws(() => cos.sigstoreVerifyBlob('artifact', '{}', key.publicPem()), code('invalid_sigstore_bundle'));
  assert.throws(() => cos.sigstoreVerifyBlob('artifact', bundle, 'not a key'), code('invalid_key'));
});

test('fetchAndVerify resolves to a directory holding a usable pack', async () => {
  const key = cos.SigningKey.generate('ecdsa-p256');
  const { dir, file, archive } = signedPack(key);
  const unpacked = await cos.fetchAndVerify({ url: file, publicKey: key.publicPem() });
  assert.equal(path.basename(unpacked), 'unpacked');
  const engine = new cos.Engine(cos.Pack.load(unpacked));
  assert.equal(typeof engine.evaluate('companyos/abac/decision', ABAC_INPUT).allow, 'boolean');

  const hex = cos.digest(archive).split(':')[1];
  const dest = path.join(dir, 'out');
  const got = await cos.fetchAndVerify({
    url: `file://${file}`,
    publicKey: key.publicPem(),
    bundle: Buffer.from(await cos.fetchAttestation(`${file}.sigstore.json`)),
    digest: `sha-256=${hex}`,
    dest,
  });
  assert.equal(got, dest);
  assert.ok(fs.existsSync(path.join(dest, '.manifest')));
  fs.rmSync(path.dirname(unpacked), { recursive: true, force: true });
  fs.rmSync(dir, { recursive: true, force: true });
});

test('fetchAndVerify rejects with the fetcher messages and codes', async () => {
  const key = cos.SigningKey.generate('ecdsa-p256');
  const { dir, file, archive } = signedPack(key);
  await assert.rejects(
    cos.fetchAndVerify({ url: file, publicKey: key.publicPem(), digest: `sha-256=${'0'.repeat(64)}` }),
    code('digest_mismatch', new RegExp(`^digest mismatch: [0-9a-f]{64} != ${'0'.repeat(64)}$`)),
  );
  const other = cos.SigningKey.generate('ecdsa-p256');
  await assert.rejects(
    cos.fetchAndVerify({ url: file, publicKey: other.publicPem() }),
    code('bundle_verification_failed', /^cosign verify failed: /),
  );
  const lonely = path.join(dir, 'lonely.tar.gz');
  fs.writeFileSync(lonely, archive);
  await assert.rejects(
    cos.fetchAndVerify({ url: lonely, publicKey: key.publicPem() }),
    code('missing_verification', /^missing verification headers$/),
  );
  assert.throws(() => cos.fetchAndVerify({ url: file, publicKey: 'not a key' }), code('invalid_key'));
  fs.rmSync(dir, { recursive: true, force: true });
});

// `cos pack serve` (the binary from COS_BIN, else this workspace's
// target/debug/cos) on a directory; resolves to its base URL.
function packServe(dir) {
  const { spawn } = require('node:child_process');
  const bin = process.env.COS_BIN || path.join(__dirname, '..', '..', '..', 'target', 'debug', 'cos');
  assert.ok(fs.existsSync(bin), `cos binary not found at ${bin}: cargo build -p cos-cli, or set COS_BIN`);
  const child = spawn(bin, ['pack', 'serve', dir, '--listen', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/ on (http:\/\/[^\s]+)/);
      if (m) resolve({ base: m[1], stop: () => child.kill() });
    });
    child.on('exit', (c) => reject(new Error(`cos pack serve exited with ${c}`)));
  });
}

test('fetchAndVerify over HTTP from cos pack serve, end to end', async () => {
  const key = cos.SigningKey.generate('ecdsa-p256');
  const { dir, archive } = signedPack(key);
  const server = await packServe(dir);
  try {
    const url = `${server.base}/pack.tar.gz`;
    const unpacked = await cos.fetchAndVerify({ url, publicKey: key.publicPem() });
    const engine = new cos.Engine(cos.Pack.load(unpacked));
    assert.equal(typeof engine.evaluate('companyos/abac/decision', ABAC_INPUT).allow, 'boolean');
    fs.rmSync(path.dirname(unpacked), { recursive: true, force: true });
    const bundle = await cos.fetchAttestation(`${url}/attestation`);
    assert.equal(cos.sigstoreVerifyBlob(archive, bundle, key.publicPem()).artifactDigest, cos.digest(archive));

    const other = cos.SigningKey.generate('ecdsa-p256');
    await assert.rejects(
      cos.fetchAndVerify({ url, publicKey: other.publicPem() }),
      code('bundle_verification_failed', /^cosign verify failed: /),
    );
    await assert.rejects(
      cos.fetchAndVerify({ url: `${server.base}/missing.tar.gz`, publicKey: key.publicPem() }),
      code('http_status', /^HTTP 404$/),
    );
    await assert.rejects(cos.fetchAttestation(`${server.base}/missing.tar.gz/attestation`), code('http_status'));
  } finally {
    server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

const SIGSTORE_DATA = path.join(__dirname, '..', '..', '..', 'cos-supplychain', 'tests', 'data', 'sigstore');
const COSIGN_ID = ['w.vollprecht@gmail.com', 'https://github.com/login/oauth'];

test('sigstoreVerifyBlobKeyless on a bundle published by others', () => {
  const root = fs.readFileSync(path.join(SIGSTORE_DATA, 'public-good-trusted-root.json'));
  const blob = fs.readFileSync(path.join(SIGSTORE_DATA, 'cosign-v3-blob.txt'));
  const bundle = fs.readFileSync(path.join(SIGSTORE_DATA, 'cosign-v3-blob.sigstore.json'));
  const ok = cos.sigstoreVerifyBlobKeyless(blob, bundle, root, ...COSIGN_ID);
  assert.equal(ok.identity, COSIGN_ID[0]);
  assert.equal(ok.issuer, COSIGN_ID[1]);
  assert.equal(ok.keyId, '');
  assert.equal(ok.artifactDigest, cos.digest(blob));
  assert.throws(() => cos.sigstoreVerifyBlobKeyless(blob, bundle, root, 'x@example.com', COSIGN_ID[1]), code('bundle_not_trusted'));
  assert.throws(() => cos.sigstoreVerifyBlobKeyless(Buffer.concat([blob, Buffer.from('!')]), bundle, root, ...COSIGN_ID), code('artifact_mismatch'));
  assert.throws(() => cos.sigstoreVerifyBlobKeyless(blob, bundle, '{}', ...COSIGN_ID), code('invalid_trusted_root'));
  assert.throws(() => cos.sigstoreVerifyBlobKeyless(blob, bundle, root, '', COSIGN_ID[1]), code('invalid_policy'));
});

test('fetchAndVerify keyless: trusted root, identity and issuer instead of a key', async () => {
  const root = fs.readFileSync(path.join(SIGSTORE_DATA, 'public-good-trusted-root.json'));
  const bundle = fs.readFileSync(path.join(SIGSTORE_DATA, 'cosign-v3-blob.sigstore.json'));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cos-node-keyless-'));
  const file = path.join(dir, 'blob.txt');
  fs.copyFileSync(path.join(SIGSTORE_DATA, 'cosign-v3-blob.txt'), file);
  // Verification passes (the refusal is about the content: not a pack)...
  await assert.rejects(
    cos.fetchAndVerify({ url: file, bundle, trustedRoot: root, identity: COSIGN_ID[0], issuer: COSIGN_ID[1] }),
    code('invalid_pack'),
  );
  // ...and the wrong identity fails it.
  await assert.rejects(
    cos.fetchAndVerify({ url: file, bundle, trustedRoot: root, identity: 'x@example.com', issuer: COSIGN_ID[1] }),
    code('bundle_verification_failed', /^cosign verify failed: /),
  );
  assert.throws(() => cos.fetchAndVerify({ url: file, bundle }), code('invalid_policy'));
  fs.rmSync(dir, { recursive: true, force: true });
});

test('fetchAndVerify with a key and a trusted root checks the Rekor entry', async () => {
  const root = fs.readFileSync(path.join(SIGSTORE_DATA, 'public-good-trusted-root.json'));
  const publicKey = fs.readFileSync(path.join(SIGSTORE_DATA, 'managed-key.pub'), 'utf8');
  const original = JSON.parse(fs.readFileSync(path.join(SIGSTORE_DATA, 'managed-key.sigstore.json'), 'utf8'));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cos-node-keylog-'));
  const file = path.join(dir, 'artifact.txt');
  fs.copyFileSync(path.join(SIGSTORE_DATA, 'managed-key-artifact.txt'), file);
  // A passing signature on a file that is not a pack ends in invalid_pack.
  await assert.rejects(
    cos.fetchAndVerify({ url: file, publicKey, bundle: Buffer.from(JSON.stringify(original)), trustedRoot: root }),
    code('invalid_pack'),
  );
  const tampered = structuredClone(original);
  tampered.verificationMaterial.tlogEntries[0].inclusionProof.rootHash = 'rnpacIXSjoToEDh0qD4CLAKdkPnW1Y4R1DhFMS+AGlA=';
  const bundle = Buffer.from(JSON.stringify(tampered));
  await assert.rejects(
    cos.fetchAndVerify({ url: file, publicKey, bundle, trustedRoot: root }),
    code('bundle_verification_failed', /^cosign verify failed: /),
  );
  // The key alone does not check the log.
  await assert.rejects(cos.fetchAndVerify({ url: file, publicKey, bundle }), code('invalid_pack'));
  fs.rmSync(dir, { recursive: true, force: true });
});
