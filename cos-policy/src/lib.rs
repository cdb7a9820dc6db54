#![doc = include_str!("../README.md")]
//!
//! # Layout
//!
//! The crate's folders follow its concerns; the modules are private and
//! their public items are listed below, at the crate root, except for the
//! four domains that keep their own namespace (`store`, `distribution`,
//! `disclosure`, `dlp`).
//!
//! | Folder | Concern |
//! |---|---|
//! | `bundle/` | packs and OPA bundles: files, limits, the manifest, OPA's bundle signatures |
//! | `engine/` | the Rego engine, the builtins cos adds or replaces (glob, dates), the missing-builtin list, exact JSON numbers |
//! | `check/` | OPA-compiler checks regorus lacks: parity, recursion and the VM gate, conflicts |
//! | `tester.rs` | the `opa test` runner |
//! | `decision/` | decisions, reasons, obligations, and the decision log |
//! | `store.rs` | the hot-reloading pack store: cohorts, shadow, rollback |
//! | `distribution/` | packs over HTTP: verification, the client, publishing |
//! | `disclosure/` | disclosure packs and residency |
//! | `dlp/` | data-loss prevention (depends on nothing else in this crate) |

mod bundle;
mod check;
mod decision;
pub mod disclosure;
pub mod distribution;
pub mod dlp;
mod engine;
mod error;
pub mod store;
#[cfg(test)]
mod test_support;
mod tester;

pub use bundle::manifest::{
    BUNDLE_MANIFEST, BundleManifest, Cohort, Manifest, PACK_MANIFEST, RollbackPlan,
    RollbackStrategy, ShadowPlan,
};
pub use bundle::pack::{
    DataFile, Layout, Limits, Module, Pack, PackFiles, SIGNATURES_FILE, TESTS_METADATA,
};
pub use bundle::signature::{
    FileHash, HASH_ALGORITHM, SignatureOptions, SignedClaims, VerifiedSignature, is_structured_doc,
    opa_file_hash, sign_files, verify_files,
};
pub use check::parity::{MAX_COLLECTION_NESTING, check_module, module_package};
pub use decision::log::{
    BundleRevision, DROP_RULE, DecisionEvent, DecisionLogger, EventError, JsonLinesWriter,
    MASK_RULE,
};
pub use decision::{AllowReason, Decision, Obligation, PackRef, Reason};
pub use engine::builtins::{opa_builtins, unsupported_builtins};
pub use engine::json_numbers::check as check_json_numbers;
pub use engine::{EngineConfig, EngineOptions, Input, InputRef, Output, PolicyEngine, to_rego_ref};
pub use error::{DisclosureError, DistributionError, DlpError, Error, Result};
pub use tester::{
    Coverage, CoverageRow, FileCoverage, LineRange, RunTestsOptions, SKIP_PREFIX, TestLocation,
    TestOutcome, TestReport, TestResult, TestRun, run_tests, run_tests_with_coverage,
};
