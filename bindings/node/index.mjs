// @companyos/cos (ES module): named exports of the same native module as
// index.js (one instance: both load ./cos.node through require).
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const native = require('./index.js');

export const {
  // cos-core
  digest,
  canonicalize,
  canonicalJson,
  SigningKey,
  dsseSign,
  dsseVerify,
  statement,
  statementSign,
  statementVerify,
  sigstoreSignBlob,
  sigstoreVerifyBlob,
  sigstoreVerifyBlobKeyless,
  // cos-policy
  Pack,
  loadPackAsync,
  Engine,
  DecisionLogger,
  JsonLinesWriter,
  fetchAndVerify,
  fetchAttestation,
  PolicyStore,
  tenantBucket,
  inCohort,
  PackClient,
  FetchedPack,
  Poller,
  Dlp,
  DisclosurePack,
  VerifiedDisclosure,
  verifyDisclosure,
  decideResidency,
  // cos-supplychain
  Sbom,
  SbomDiff,
  sbomFromJsonAsync,
  sbomFromLockfileAsync,
  sbomFromCargoMetadataAsync,
  sourceDateEpoch,
  LicensePolicy,
  LicenseReport,
  provenanceStatement,
  attestProvenance,
  verifyProvenance,
  verifyProvenanceAsync,
  cveGate,
  cveGateAsync,
  CveVerdict,
  detectReportFormat,
  cvssScore,
} = native;

export default native;
