// Copyright (c) Microsoft Corporation.
// Licensed under the MIT License.

#![allow(dead_code)]

use core::fmt;
use core::time::Duration;

/// Errors reported when execution time or memory ceilings are enforced.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum LimitError {
    /// Reported when the execution timer observes elapsed time beyond the configured limit.
    TimeLimitExceeded {
        /// Elapsed work duration when the threshold was exceeded.
        elapsed: Duration,
        /// Configured time limit.
        limit: Duration,
    },
    /// Reported when the memory tracker estimates usage beyond the configured limit.
    MemoryLimitExceeded {
        /// Estimated bytes in use when the limit was detected.
        usage: u64,
        /// Configured memory ceiling in bytes.
        limit: u64,
    },
    /// Reported when a compiled regex NFA exceeds the configured size limit.
    RegexSizeLimitExceeded {
        /// Configured compiled-NFA size ceiling in bytes.
        limit: usize,
    },
    /// cos patch: reported when a builtin would build a value larger than
    /// the configured cap (see `utils::limits::budget`).
    ValueSizeExceeded {
        /// Size of the value the builtin would build, in bytes (elements
        /// count four bytes each).
        size: u64,
        /// Configured cap in bytes.
        limit: u64,
    },
    /// cos patch: a builtin was given an input it cannot evaluate as OPA
    /// does (a key type, size or curve combination it does not implement).
    /// A hard error, so that it never becomes "undefined" and flips `not`.
    Unsupported {
        /// The builtin.
        builtin: &'static str,
        /// What about the input is not supported.
        what: &'static str,
    },
}

impl fmt::Debug for LimitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TimeLimitExceeded { elapsed, limit } => f
                .debug_struct("TimeLimitExceeded")
                .field("elapsed", elapsed)
                .field("limit", limit)
                .finish(),
            Self::MemoryLimitExceeded { usage, limit } => f
                .debug_struct("MemoryLimitExceeded")
                .field("usage", usage)
                .field("limit", limit)
                .finish(),
            Self::RegexSizeLimitExceeded { limit } => f
                .debug_struct("RegexSizeLimitExceeded")
                .field("limit", limit)
                .finish(),
            Self::ValueSizeExceeded { size, limit } => f
                .debug_struct("ValueSizeExceeded")
                .field("size", size)
                .field("limit", limit)
                .finish(),
            Self::Unsupported { builtin, what } => f
                .debug_struct("Unsupported")
                .field("builtin", builtin)
                .field("what", what)
                .finish(),
        }
    }
}

impl fmt::Display for LimitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TimeLimitExceeded { elapsed, limit } => {
                let elapsed_ns = elapsed.as_nanos();
                let limit_ns = limit.as_nanos();
                write!(
                    f,
                    "execution exceeded time limit (elapsed={}ns, limit={}ns)",
                    elapsed_ns, limit_ns
                )
            }
            Self::MemoryLimitExceeded { usage, limit } => {
                write!(
                    f,
                    "execution exceeded memory limit (usage={} bytes, limit={} bytes)",
                    usage, limit
                )
            }
            Self::RegexSizeLimitExceeded { limit } => {
                write!(f, "compiled regex exceeded size limit ({} bytes)", limit)
            }
            Self::ValueSizeExceeded { size, limit } => {
                write!(
                    f,
                    "builtin result exceeded value size limit (size={} bytes, limit={} bytes)",
                    size, limit
                )
            }
            Self::Unsupported { builtin, what } => {
                write!(f, "{}: not supported by this engine: {}", builtin, what)
            }
        }
    }
}

impl core::error::Error for LimitError {}
