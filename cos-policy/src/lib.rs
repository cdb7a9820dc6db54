#![doc = include_str!("../README.md")]

pub mod decision;
pub mod engine;
pub mod error;
pub mod manifest;
pub mod pack;
pub mod testing;

pub use decision::{Decision, Obligation, PackRef, Reason};
pub use engine::{EngineOptions, PolicyEngine};
pub use error::{Error, Result};
pub use manifest::{BundleManifest, Manifest};
pub use pack::{Layout, Limits, Pack};
pub use testing::{TestReport, run_tests};
