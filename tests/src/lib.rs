//! Cross-crate behaviour tests for cos live in `tests/tests/`; interop tests
//! against oracles nobody here wrote live in `tests/interop/` (Python).
//! [`server`] runs the workspace's servers and programs for the integration
//! tests of the example crates (cos-cli, cos-pdp), which take this crate as
//! a dev-dependency.

pub mod server;
