// The README's examples use the `sigstore` module: without the feature the
// crate documents itself in one line instead of failing its doctests.
#![cfg_attr(feature = "sigstore", doc = include_str!("../README.md"))]
#![cfg_attr(
    not(feature = "sigstore"),
    doc = "SBOMs, SLSA provenance, the CVE and licence gates (built without the `sigstore` feature; see README.md)."
)]

pub mod error;
pub mod license;
pub mod sbom;
#[cfg(feature = "sigstore")]
pub mod sigstore;
pub mod slsa;
pub mod vuln;

pub use error::{Error, Result};
