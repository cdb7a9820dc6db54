//! The checks OPA's compiler makes that regorus does not: language parity
//! (`parity`), recursion and the VM gate (`recursion`), and conflicts between
//! rule values (`conflicts`).

pub(crate) mod conflicts;
pub(crate) mod parity;
pub(crate) mod recursion;
