//! Criterion benchmarks for the cos crates; see `benches/` and
//! `docs/benchmarks.md`. Run with `cargo bench -p cos-benches`.
