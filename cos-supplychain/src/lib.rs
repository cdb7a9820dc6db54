#![doc = include_str!("../README.md")]

pub mod error;
pub mod license;
pub mod sbom;
#[cfg(feature = "sigstore")]
pub mod sigstore;
pub mod slsa;
pub mod vuln;

pub use error::{Error, Result};
