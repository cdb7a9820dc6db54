//! Cross-crate behaviour tests for cos live in `tests/tests/`; interop tests
//! against oracles nobody here wrote live in `tests/interop/` (Python).
