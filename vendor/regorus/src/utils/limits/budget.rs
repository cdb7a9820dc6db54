// cos patch (safety): the budget of one evaluation as builtins see it.
//
// The interpreter and the register VM check their time limit between
// expressions and instructions, never inside a builtin call; and a builtin
// whose output can be far larger than its arguments (a shift amount, a range
// length, a format width, a CIDR prefix, a replacement) could build a value
// of any size in one call. The evaluator sets this budget when an execution
// starts (one evaluation runs on one thread, so it is thread-local); such
// builtins check it before doing the work, and inside their loops. Its
// errors are `LimitError`s, which both evaluators propagate as hard errors
// even without strict builtin errors.

use core::time::Duration;

use super::{monotonic_now, LimitError};

/// Default cap on the size of one value a builtin builds: 64 MiB of string
/// bytes, or a quarter as many elements (16 Mi) in an array, set or object.
pub const DEFAULT_MAX_VALUE_BYTES: usize = 64 << 20;

#[derive(Clone, Copy)]
struct Budget {
    /// Monotonic time (see [`monotonic_now`]) after which builtins stop.
    deadline: Option<Duration>,
    limit: Duration,
    start: Duration,
    max_value_bytes: usize,
}

#[cfg(feature = "std")]
std::thread_local! {
    static BUDGET: core::cell::Cell<Budget> = const {
        core::cell::Cell::new(Budget {
            deadline: None,
            limit: Duration::ZERO,
            start: Duration::ZERO,
            max_value_bytes: DEFAULT_MAX_VALUE_BYTES,
        })
    };
}

#[cfg(feature = "std")]
fn get() -> Budget {
    BUDGET.with(|b| b.get())
}

#[cfg(not(feature = "std"))]
fn get() -> Budget {
    Budget {
        deadline: None,
        limit: Duration::ZERO,
        start: Duration::ZERO,
        max_value_bytes: DEFAULT_MAX_VALUE_BYTES,
    }
}

/// Starts the builtin budget of an execution on this thread: the deadline
/// (`None`: no time limit) and the value-size cap.
pub fn start_builtin_budget(time_limit: Option<Duration>, max_value_bytes: usize) {
    #[cfg(feature = "std")]
    {
        let start = monotonic_now().unwrap_or_default();
        let budget = Budget {
            deadline: time_limit.map(|l| start.saturating_add(l)),
            limit: time_limit.unwrap_or_default(),
            start,
            max_value_bytes,
        };
        BUDGET.with(|b| b.set(budget));
    }
    #[cfg(not(feature = "std"))]
    {
        let _ = (time_limit, max_value_bytes);
    }
}

/// The value-size cap in force on this thread, in bytes.
pub fn max_value_bytes() -> usize {
    get().max_value_bytes
}

/// Fails once the current execution's deadline has passed.
pub fn check_deadline() -> Result<(), LimitError> {
    let b = get();
    let Some(deadline) = b.deadline else {
        return Ok(());
    };
    match monotonic_now() {
        Some(now) if now > deadline => Err(LimitError::TimeLimitExceeded {
            elapsed: now.saturating_sub(b.start),
            limit: b.limit,
        }),
        _ => Ok(()),
    }
}

/// Fails when a string (or bytes) result of `bytes` bytes would exceed the cap.
pub fn check_bytes(bytes: u128) -> Result<(), LimitError> {
    let limit = get().max_value_bytes;
    if bytes > limit as u128 {
        return Err(LimitError::ValueSizeExceeded {
            size: u64::try_from(bytes).unwrap_or(u64::MAX),
            limit: limit as u64,
        });
    }
    Ok(())
}

/// Fails when a collection result of `elements` elements would exceed the
/// cap (a quarter of the byte cap: an element takes at least that much).
pub fn check_elements(elements: u128) -> Result<(), LimitError> {
    check_bytes(elements.saturating_mul(4))
}

/// Every this many loop iterations a builtin reads the clock.
pub const DEADLINE_CHECK_INTERVAL: usize = 1024;

/// For a builtin's loop: checks the deadline every
/// [`DEADLINE_CHECK_INTERVAL`] iterations.
#[inline]
pub fn tick(iteration: usize) -> Result<(), LimitError> {
    if iteration % DEADLINE_CHECK_INTERVAL == 0 {
        check_deadline()
    } else {
        Ok(())
    }
}

/// Fails when `value`, written out, would exceed the cap: string bytes plus
/// four bytes an element or scalar. A value can share its parts
/// (`b := [a, a]`), so its written size can be exponential in the memory it
/// takes; the walk stops at the cap and checks the deadline every 1024
/// nodes, so it costs at most the cap's worth of work.
pub fn check_value_size(value: &crate::Value) -> Result<(), LimitError> {
    fn walk(v: &crate::Value, bytes: &mut u128, nodes: &mut usize) -> Result<(), LimitError> {
        use crate::Value;
        *nodes = nodes.wrapping_add(1);
        tick(*nodes)?;
        *bytes += 4;
        match v {
            Value::String(s) => *bytes += s.len() as u128,
            Value::Array(a) => {
                for e in a.iter() {
                    walk(e, bytes, nodes)?;
                }
            }
            Value::Set(s) => {
                for e in s.iter() {
                    walk(e, bytes, nodes)?;
                }
            }
            Value::Object(o) => {
                for (k, e) in o.iter() {
                    walk(k, bytes, nodes)?;
                    walk(e, bytes, nodes)?;
                }
            }
            _ => {}
        }
        check_bytes(*bytes)
    }
    walk(value, &mut 0, &mut 0)
}
