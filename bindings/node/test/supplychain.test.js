// cos-supplychain through the native module: SBOMs, the licence gate, SLSA
// provenance, the CVE gate and CVSS scores, with their errors, on the
// crate's test data. Behaviour is tested in the crate; these tests check the
// mapping.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');

const cos = require('@companyos/cos');
const { ROOT, code } = require('./fixtures.js');

const DATA = path.join(ROOT, 'cos-supplychain', 'tests', 'data');
const read = (...p) => fs.readFileSync(path.join(DATA, ...p));
const T = 1_700_000_000;

const BUILDER = 'https://ci.example.com/builders/release@v2';
const BUILD = {
  builder_id: BUILDER,
  build_type: 'https://ci.example.com/buildtypes/make/v1',
  external_parameters: { target: 'release' },
  source: {
    repository: 'https://github.com/acme/app',
    commit: '46e7056ff9912ebfee5298d94024895a9fea76c0',
    ref: 'refs/heads/main',
  },
  started_on: '2026-11-22T10:00:00Z',
  finished_on: '2026-11-22T10:04:31Z',
};
const EXPECT = { builderId: 'https://ci.example.com/builders/release', sourceUri: 'github.com/acme/app' };
const NPM = {
  builderId: 'https://github.com/actions/runner/github-hosted',
  sourceUri: 'github.com/sigstore/sigstore-js',
  identity: 'https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main',
  issuer: 'https://token.actions.githubusercontent.com',
};

// ---------------------------------------------------------------- SBOMs

const LOCKFILES = [
  ['npm-v3/package-lock.json', 'pkg:npm/'],
  ['npm-v2/package-lock.json', 'pkg:npm/'],
  ['python/requirements.txt', 'pkg:pypi/'],
  ['python/poetry.lock', 'pkg:pypi/'],
  ['python/uv.lock', 'pkg:pypi/'],
];

test('SBOMs from every lockfile, written in every format, reproducibly', () => {
  for (const [file, purl] of LOCKFILES) {
    const sbom = cos.Sbom.fromLockfile(read('sbom', file), file, { rootName: 'shop', rootVersion: '1.0' });
    assert.equal(sbom.size, sbom.components.length + 1, file);
    assert.ok(sbom.components.length > 0 && sbom.components.every((c) => c.purl.startsWith(purl)), file);
    assert.ok(sbom.root);
    // cos's model is camelCase (bomRef); the dependency graph's keys are those references.
    assert.ok(sbom.components.every((c) => typeof c.bomRef === 'string' && !('bom_ref' in c)), file);
    assert.ok(Object.keys(sbom.toObject().dependencies).every((r) => r === sbom.root.bomRef || sbom.components.some((c) => c.bomRef === r)), file);
    assert.match(String(sbom), /^Sbom\(root=/);
    assert.deepEqual(Object.keys(sbom.toObject()).sort(), ['components', 'dependencies', 'properties', 'root']);
    for (const format of ['cyclonedx-1.6', 'cyclonedx-1.5', 'spdx-2.3']) {
      const doc = sbom.write({ format, created: T });
      assert.ok(Buffer.isBuffer(doc));
      assert.deepEqual(doc, sbom.write({ format, created: T }));
      const parsed = JSON.parse(doc);
      if (format === 'spdx-2.3') {
        assert.equal(parsed.creationInfo.created, '2023-11-14T22:13:20Z');
      } else {
        assert.equal(parsed.specVersion, format.split('-')[1]);
        assert.equal(parsed.metadata.timestamp, '2023-11-14T22:13:20Z');
      }
      const back = cos.Sbom.fromJson(doc);
      assert.deepEqual(back.components.map((c) => c.purl), sbom.components.map((c) => c.purl));
    }
    assert.deepEqual(sbom.write({ created: T }), sbom.write({ format: 'cyclonedx-1.6', created: T }));
  }
});

test('SBOM options, tool and Cargo', () => {
  const npm = read('sbom', 'npm-v3', 'package-lock.json');
  const plain = cos.Sbom.fromLockfile(npm, 'package-lock.json');
  assert.ok(cos.Sbom.fromLockfile(npm, 'web/package-lock.json', { includeDev: true }).size >= plain.size);
  const tools = JSON.stringify(JSON.parse(plain.write({ created: T, toolName: 'acme-sbom', toolVersion: '9.9' })).metadata.tools);
  assert.match(tools, /acme-sbom/);
  const meta = read('sbom', 'cargo', 'workspace-metadata.json');
  const lock = read('sbom', 'cargo', 'Cargo.lock');
  const withLock = cos.Sbom.fromCargoMetadata(meta, lock);
  const hashes = (s) => s.components.reduce((n, c) => n + c.hashes.length, 0);
  assert.ok(hashes(withLock) > hashes(cos.Sbom.fromCargoMetadata(meta)));
  assert.ok(hashes(cos.Sbom.fromCargoMetadata(meta, null, {})) === 0);
  assert.throws(() => cos.Sbom.fromCargoMetadata(meta, lock, { packages: ['no-such-member'] }), code('invalid_lockfile'));
  // Each function takes its part of cos_supplychain's GenerateOptions, in camelCase.
  assert.throws(() => cos.Sbom.fromCargoMetadata(meta, lock, { includeDev: true }), code('InvalidArg', /packages/));
  assert.throws(() => cos.Sbom.fromLockfile(npm, 'package-lock.json', { include_dev: true }), code('InvalidArg', /includeDev/));
});

test('SBOM async variants', async () => {
  const npm = read('sbom', 'npm-v3', 'package-lock.json');
  const sync = cos.Sbom.fromLockfile(npm, 'package-lock.json');
  const viaAsync = await cos.sbomFromLockfileAsync(npm, 'package-lock.json');
  assert.ok(viaAsync instanceof cos.Sbom);
  assert.deepEqual(viaAsync.toObject(), sync.toObject());
  const doc = sync.write({ format: 'spdx-2.3', created: T });
  assert.deepEqual((await cos.sbomFromJsonAsync(doc)).components, cos.Sbom.fromJson(doc).components);
  const meta = read('sbom', 'cargo', 'workspace-metadata.json');
  const lock = read('sbom', 'cargo', 'Cargo.lock');
  assert.deepEqual(
    (await cos.sbomFromCargoMetadataAsync(meta, lock)).toObject(),
    cos.Sbom.fromCargoMetadata(meta, lock).toObject(),
  );
  await assert.rejects(cos.sbomFromLockfileAsync('{"lockfileVersion": 1}', 'package-lock.json'), code('invalid_lockfile'));
  await assert.rejects(cos.sbomFromJsonAsync('{}'), code('invalid_sbom'));
  await assert.rejects(cos.sbomFromCargoMetadataAsync('{}'), code('invalid_lockfile'));
  assert.throws(() => cos.sbomFromLockfileAsync('', 'yarn.lock'), code('unknown_format'));
});

test('SBOM errors', () => {
  assert.throws(() => cos.Sbom.fromLockfile('', 'yarn.lock'), code('unknown_format', /yarn\.lock/));
  assert.throws(() => cos.Sbom.fromLockfile('not toml [', 'uv.lock'), code('invalid_lockfile'));
  assert.throws(() => cos.Sbom.fromJson('{not json'), code('invalid_sbom'));
  assert.throws(() => cos.Sbom.fromJson('{"neither": 1}'), code('invalid_sbom'));
  const sbom = cos.Sbom.fromLockfile(read('sbom', 'python', 'uv.lock'), 'uv.lock');
  assert.throws(() => sbom.write({ format: 'swid', created: T }), code('invalid_sbom'));
  assert.throws(() => sbom.write({ created: -1 }), code('InvalidArg'));
  assert.throws(() => sbom.write({}), code('InvalidArg'));
  assert.throws(() => sbom.merge({}), code('InvalidArg'));
});

test('sourceDateEpoch', () => {
  assert.equal(cos.sourceDateEpoch('1700000000'), T);
  for (const bad of ['', '-1', '1.5', 'soon', '253402300800']) {
    assert.throws(() => cos.sourceDateEpoch(bad), code('invalid_source_date_epoch'));
  }
});

test('merge and diff', () => {
  const v2 = cos.Sbom.fromLockfile(read('sbom', 'npm-v2', 'package-lock.json'), 'package-lock.json');
  const v3 = cos.Sbom.fromLockfile(read('sbom', 'npm-v3', 'package-lock.json'), 'package-lock.json');
  const syft = cos.Sbom.fromJson(read('sbom', 'foreign', 'syft-1.5.cdx.json'));
  const merged = v3.merge(syft);
  assert.deepEqual(merged.root, v3.root);
  assert.ok(merged.size > v3.size);
  const d = v2.diff(v3);
  assert.ok(d instanceof cos.SbomDiff);
  assert.equal(d.isEmpty, false);
  assert.deepEqual(Object.keys(d.toObject()).sort(), ['added', 'changed', 'removed']);
  assert.match(d.toText(), /changed\n$/);
  const same = v3.diff(cos.Sbom.fromJson(v3.write({ created: T })));
  assert.equal(same.isEmpty, true);
  assert.equal(same.toText(), '0 added, 0 removed, 0 changed\n');
});

// ---------------------------------------------------------------- licences

test('licence gate', () => {
  const sbom = cos.Sbom.fromLockfile(read('sbom', 'npm-v3', 'package-lock.json'), 'package-lock.json');
  const licences = [...new Set([sbom.root, ...sbom.components].filter((c) => c.license && c.license.expression).map((c) => c.license.expression))].sort();
  assert.ok(licences.length > 0);
  const report = cos.LicensePolicy.fromJson(JSON.stringify({ allow: licences, unknown: 'warn' })).check(sbom);
  assert.ok(report instanceof cos.LicenseReport);
  assert.equal(report.passed, true);
  assert.equal(report.toObject().passed, true);
  const blocked = cos.LicensePolicy.fromYaml(`deny:\n  - ${licences[0]}\nunknown: allow\n`).check(sbom);
  assert.equal(blocked.passed, false);
  assert.ok(blocked.toObject().counts.block >= 1);
  assert.match(blocked.toText(), /BLOCK/);
  const uv = cos.Sbom.fromLockfile(read('sbom', 'python', 'uv.lock'), 'uv.lock');
  assert.equal(cos.LicensePolicy.fromJson('{"allow": ["MIT"]}').check(uv).passed, false);
  for (const bad of ['{not json', '{"allow": ["Not-A-Licence-1.0"]}', '{"allow": [], "extra": 1}']) {
    assert.throws(() => cos.LicensePolicy.fromJson(bad), code('invalid_license_policy'), bad);
  }
  assert.throws(() => cos.LicensePolicy.fromYaml('allow: [: bad'), code('invalid_license_policy'));
});

// ---------------------------------------------------------------- SLSA

test('provenanceStatement', () => {
  const artifact = Buffer.from('the release tarball');
  const subjects = [{ name: 'app.tar.gz', digest: cos.digest(artifact) }];
  const st = cos.provenanceStatement(BUILD, subjects);
  assert.equal(st.predicateType, 'https://slsa.dev/provenance/v1');
  assert.equal(st.predicate.runDetails.builder.id, BUILDER);
  assert.deepEqual(cos.provenanceStatement(JSON.stringify(BUILD), subjects), st);
  assert.deepEqual(cos.provenanceStatement(Buffer.from(JSON.stringify(BUILD)), subjects), st);
  assert.throws(() => cos.provenanceStatement({ ...BUILD, unknown: 1 }, subjects), code('invalid_build_description'));
  assert.throws(() => cos.provenanceStatement('{not json', subjects), code('invalid_build_description'));
  assert.throws(() => cos.provenanceStatement(BUILD, [{ name: 'a', digest: 'sha256:nothex' }]), code('invalid_digest'));
  assert.throws(() => cos.provenanceStatement(BUILD, []), code('invalid_statement'));
  assert.throws(() => cos.provenanceStatement(undefined, subjects), code('InvalidArg'));
});

for (const format of ['dsse', 'sigstore-bundle']) {
  test(`attestProvenance and verifyProvenance (${format})`, async () => {
    const key = cos.SigningKey.generate('ecdsa-p256');
    const artifact = Buffer.from('the release tarball');
    const signed = cos.attestProvenance(BUILD, [{ name: 'app.tar.gz', digest: cos.digest(artifact) }], key, { format });
    assert.equal('mediaType' in JSON.parse(signed), format === 'sigstore-bundle');
    const ok = cos.verifyProvenance(signed, artifact, { ...EXPECT, branch: 'main', publicKey: key.publicPem() });
    assert.deepEqual(ok, {
      subject: 'app.tar.gz',
      artifactDigest: cos.digest(artifact),
      builderId: BUILDER,
      buildType: BUILD.build_type,
      sourceUri: 'github.com/acme/app',
      sourceRef: 'refs/heads/main',
      sourceCommit: BUILD.source.commit,
      signer: ok.signer,
    });
    assert.match(ok.signer, /^key /);
    assert.deepEqual(await cos.verifyProvenanceAsync(signed, artifact, { ...EXPECT, publicKey: key.publicPem() }), ok);
    // The first line of an .intoto.jsonl.
    assert.equal(cos.verifyProvenance(Buffer.concat([signed, Buffer.from('\n{}\n')]), artifact, { ...EXPECT, publicKey: key.publicPem() }).subject, 'app.tar.gz');

    const opts = { ...EXPECT, publicKey: key.publicPem() };
    for (const [change, expected] of [
      [{ builderId: 'https://ci.example.com/builders/other' }, /builder id/],
      [{ sourceUri: 'github.com/acme/other' }, /source URI/],
      [{ branch: 'release' }, /source branch/],
      [{ tag: 'v1.0.0' }, /source tag/],
      [{ buildType: 'https://other/type' }, /build type/],
    ]) {
      assert.throws(() => cos.verifyProvenance(signed, artifact, { ...opts, ...change }), code('provenance_mismatch', expected));
      await assert.rejects(cos.verifyProvenanceAsync(signed, artifact, { ...opts, ...change }), code('provenance_mismatch'));
    }
    const other = cos.SigningKey.generate('ecdsa-p256');
    assert.throws(() => cos.verifyProvenance(signed, artifact, { ...EXPECT, publicKey: other.publicPem() }), (e) =>
      ['signature_invalid', 'threshold_not_met'].includes(e.code),
    );
    assert.throws(() => cos.verifyProvenance(signed, 'another artifact', opts), (e) =>
      ['provenance_mismatch', 'artifact_mismatch'].includes(e.code),
    );
    // Tampered: a changed payload no longer verifies.
    const doc = JSON.parse(signed);
    const env = doc.dsseEnvelope ?? doc;
    const payload = JSON.parse(Buffer.from(env.payload, 'base64'));
    payload.predicate.runDetails.builder.id = 'https://ci.example.com/builders/release@evil';
    env.payload = Buffer.from(JSON.stringify(payload)).toString('base64');
    assert.throws(() => cos.verifyProvenance(JSON.stringify(doc), artifact, opts), (e) =>
      ['signature_invalid', 'threshold_not_met', 'artifact_mismatch', 'invalid_sigstore_bundle'].includes(e.code),
    );
    // The caller's mistakes.
    assert.throws(() => cos.verifyProvenance(signed, artifact, { ...opts, branch: 'main', tag: 'v1' }), code('invalid_policy'));
    assert.throws(() => cos.verifyProvenance(signed, artifact, { ...opts, builderId: '' }), code('invalid_policy'));
    assert.throws(() => cos.verifyProvenance(signed, artifact, EXPECT), code('invalid_policy'));
    assert.throws(() => cos.verifyProvenance(signed, artifact, { ...EXPECT, publicKey: 'not a key' }), code('invalid_key'));
    assert.throws(() => cos.verifyProvenance(signed, artifact, { publicKey: key.publicPem() }), code('InvalidArg'));
  });
}

test('attestProvenance errors', () => {
  const key = cos.SigningKey.generate();
  const subjects = [{ name: 'a', digest: cos.digest('a') }];
  assert.throws(() => cos.attestProvenance(BUILD, subjects, key, { format: 'jws' }), code('unknown_format'));
  assert.throws(
    () => cos.attestProvenance({ ...BUILD, finished_on: '2026-11-22T09:00:00Z' }, subjects, key),
    code('invalid_build_description'),
  );
  assert.throws(() => cos.attestProvenance(BUILD, subjects, 'not a key'), code('InvalidArg'));
});

test('npm provenance verifies keyless, offline', async () => {
  const trustedRoot = read('sigstore', 'public-good-trusted-root.json');
  const tgz = read('slsa', 'sigstore-2.3.1.tgz');
  const bundle = read('slsa', 'sigstore-2.3.1.provenance.sigstore.json');
  const opts = { ...NPM, trustedRoot };
  const ok = await cos.verifyProvenanceAsync(bundle, tgz, { ...opts, branch: 'main' });
  assert.equal(ok.sourceRef, 'refs/heads/main');
  assert.ok(ok.signer.includes(NPM.identity));
  assert.throws(() => cos.verifyProvenance(bundle, tgz, { ...opts, tag: 'v2.3.1' }), code('provenance_mismatch'));
  assert.throws(() => cos.verifyProvenance(bundle, tgz, { ...opts, identity: 'someone@example.com' }), code('bundle_not_trusted'));
  assert.throws(() => cos.verifyProvenance(read('slsa', 'sigstore-2.3.1-invalidsig.provenance.sigstore.json'), tgz, opts));
  assert.throws(() => cos.verifyProvenance(bundle, read('slsa', 'gundam-visor-1.0.1.tgz'), opts));
  await assert.rejects(cos.verifyProvenanceAsync(bundle, tgz, { ...opts, trustedRoot: '{}' }), code('invalid_trusted_root'));
});

// ---------------------------------------------------------------- CVE gate

const doc = (name) => ({ name, data: read('cve', name) });

test('cveGate: waivers expire, verdict JSON is canonical', async () => {
  const waivers = read('cve', 'waivers.yaml');
  const before = cos.cveGate({ reports: [doc('grype.json')], waivers, now: '2026-12-01T00:00:00Z' });
  const after = cos.cveGate({ reports: [doc('grype.json')], waivers, now: '2027-01-01T00:00:00Z' });
  assert.ok(before instanceof cos.CveVerdict);
  assert.equal(before.toObject().counts.waived, 1);
  assert.equal(after.passed, false);
  assert.equal(after.toObject().counts.waived, 0);
  assert.ok(after.toObject().counts.expired_waiver >= 1);
  assert.match(after.toText(), /expired/);
  const options = {
    reports: [doc('grype.json'), doc('trivy.json'), doc('osv-scanner.json')],
    vex: [doc('openvex.json'), doc('cyclonedx-vex.json')],
    waivers,
    policy: read('cve', 'policy.yaml'),
    now: '2026-12-01T00:00:00Z',
  };
  const v = cos.cveGate(options);
  const json = v.toJson();
  assert.deepEqual(JSON.parse(json), v.toObject());
  assert.deepEqual(cos.canonicalize(json), json);
  assert.deepEqual(v.toObject().inputs.map((i) => i.source), [
    'grype.json', 'trivy.json', 'osv-scanner.json', 'openvex.json', 'cyclonedx-vex.json',
  ]);
  assert.equal(v.toObject().result, v.passed ? 'pass' : 'fail');
  assert.deepEqual((await cos.cveGateAsync(options)).toJson(), json);
  assert.equal(cos.cveGate({ reports: [doc('osv-record.json')], now: '2026-12-01', format: 'osv' }).toObject().inputs[0].format, 'osv');
});

test('cveGate errors', async () => {
  const now = '2026-12-01T00:00:00Z';
  const grype = [doc('grype.json')];
  for (const [options, expected] of [
    [{ reports: [], now }, 'invalid_report'],
    [{ reports: [{ name: 'x.json', data: '{not json' }], now }, 'unknown_format'],
    [{ reports: [{ name: 'x.json', data: '{not json' }], now, format: 'grype' }, 'invalid_report'],
    [{ reports: grype, now, format: 'snyk' }, 'unknown_format'],
    [{ reports: grype, now: 'yesterday' }, 'invalid_time'],
    [{ reports: grype, now, waivers: '- id: CVE-1\n' }, 'invalid_waiver'],
    [{ reports: grype, now, waivers: '[: bad' }, 'invalid_waivers'],
    [{ reports: grype, now, policy: 'threshold: 11' }, 'invalid_gate_policy'],
    [{ reports: grype, now, vex: [{ name: 'v.json', data: 'nope' }] }, 'invalid_vex'],
  ]) {
    assert.throws(() => cos.cveGate(options), code(expected));
  }
  await assert.rejects(cos.cveGateAsync({ reports: grype, now, policy: 'threshold: 11' }), code('invalid_gate_policy'));
  assert.throws(() => cos.cveGateAsync({ reports: grype, now: 'yesterday' }), code('invalid_time'));
  assert.throws(() => cos.cveGate({ now }), code('InvalidArg'));
  // Options are cos_supplychain::vuln::GateConfig: an unknown key is refused, naming the known ones.
  assert.throws(() => cos.cveGate({ reports: grype, now, waiver: 'x' }), code('InvalidArg', /unknown option `waiver`.*waivers/));
});

test('detectReportFormat and cvssScore', () => {
  assert.equal(cos.detectReportFormat(read('cve', 'grype.json')), 'grype');
  assert.equal(cos.detectReportFormat(read('cve', 'trivy.json')), 'trivy');
  assert.equal(cos.detectReportFormat(read('cve', 'osv-scanner.json')), 'osv');
  assert.throws(() => cos.detectReportFormat('[1, 2]'), code('unknown_format'));
  assert.deepEqual(cos.cvssScore('CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H'), {
    vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H',
    version: '3.1',
    score: 9.8,
    severity: 'critical',
  });
  const v4 = cos.cvssScore('CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N');
  assert.equal(v4.version, '4.0');
  assert.equal(v4.score, 9.3);
  assert.equal(v4.nomenclature, 'CVSS-B');
  for (const bad of ['', 'CVSS:3.1/AV:X', 'CVSS:2.0/AV:N']) {
    assert.throws(() => cos.cvssScore(bad), code('invalid_cvss_vector'));
  }
});
