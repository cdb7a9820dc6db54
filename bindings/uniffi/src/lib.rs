#![doc = include_str!("../README.md")]
// uniffi's macros (`setup_scaffolding!`, the derives and `#[uniffi::export]`)
// expand to `extern "C"` functions with `#[unsafe(no_mangle)]` and raw-pointer
// FFI glue. The workspace forbids unsafe code; this crate only denies it, so
// that this one allow can admit the macro-generated glue. No unsafe code is
// written by hand here.
#![allow(
    unsafe_code,
    reason = "uniffi's macros expand to FFI glue; no unsafe code is written here"
)]

mod dsse;
mod error;
mod policy;

pub use dsse::{SigningKey, VerifiedPayload, dsse_sign, dsse_verify};
pub use error::{CosError, Result};
pub use policy::{AllowReason, Decision, Engine, Obligation, Pack, PackMetadata, Reason};

uniffi::setup_scaffolding!();
