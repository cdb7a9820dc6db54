//! Helpers shared by the unit tests of the compile checks
//! (`conflicts`, `recursion`).

use crate::bundle::pack::Module;

/// `srcs` as the modules `m0.rego`, `m1.rego`, …
pub(crate) fn modules(srcs: &[&str]) -> Vec<Module> {
    srcs.iter()
        .enumerate()
        .map(|(i, s)| Module {
            path: format!("m{i}.rego"),
            source: (*s).to_owned(),
        })
        .collect()
}

/// Parses `srcs` (Rego v1) as [`modules`] and hands the (module, parsed
/// module) pairs to `check`.
pub(crate) fn with_parsed<T>(
    srcs: &[&str],
    check: impl FnOnce(&[(&Module, &regorus::unstable::Module)]) -> T,
) -> T {
    let modules = modules(srcs);
    let parsed: Vec<_> = modules
        .iter()
        .map(|m| crate::check::parity::parse_module(m, true).unwrap())
        .collect();
    let pairs: Vec<_> = modules.iter().zip(parsed.iter()).collect();
    check(&pairs)
}
