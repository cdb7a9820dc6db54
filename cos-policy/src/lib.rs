#![doc = include_str!("../README.md")]

pub mod builtins;
mod conflicts;
mod dates;
pub mod decision;
pub mod decision_log;
pub mod disclosure;
pub mod distribution;
pub mod dlp;
pub mod engine;
pub mod error;
mod glob;
pub mod json_numbers;
pub mod manifest;
pub mod pack;
pub mod parity;
mod recursion;
pub mod signature;
pub mod store;
#[cfg(test)]
mod test_support;
pub mod testing;

pub use decision::{AllowReason, Decision, Obligation, PackRef, Reason};
pub use decision_log::{DecisionEvent, DecisionLogger, JsonLinesWriter};
pub use engine::{EngineConfig, EngineOptions, Input, Output, PolicyEngine};
pub use error::{Error, Result};
pub use manifest::{BundleManifest, Manifest};
pub use pack::{Layout, Limits, Pack};
pub use signature::SignatureOptions;
pub use testing::{TestReport, run_tests, run_tests_with_coverage};
