#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod canonical;
pub mod classification;
pub mod digest;
pub mod dsse;
pub mod error;
pub mod error_codes;
pub mod file;
pub mod id;
pub mod key;
pub mod obligation;
pub mod region;
pub mod shape;
pub mod sigstore;
pub mod statement;
pub mod text;
pub mod time;

pub use classification::Classification;
pub use digest::{Digest, DigestAlgorithm, Hasher};
pub use error::{Error, Result};
pub use error_codes::ErrorCode;
pub use id::{ReleaseId, TenantId};
pub use key::{KeyAlgorithm, PrivateKey, PublicKey, Signer, Verifier};
pub use obligation::Obligation;
pub use region::{Region, RegionGroup, Residency};
