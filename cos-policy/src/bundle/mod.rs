//! Packs and OPA bundles: their files and limits, the manifest, and OPA's
//! bundle signatures.

pub(crate) mod manifest;
pub(crate) mod pack;
pub(crate) mod signature;
