//! The limits of one server and their defaults.

use std::time::Duration;

use crate::error::{Error, Result};

/// How long a client may take, how much it may send, and how many
/// connections the server holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Time for a request's headers to arrive, counted from the moment the
    /// server is ready to read them: from the accept, and again whenever a
    /// keep-alive connection waits for its next request. A connection that
    /// sends nothing, or not a whole request head, is closed when it runs
    /// out. Default 10 s.
    pub header_timeout: Duration,
    /// Time for a request's body to arrive in full, from the end of its
    /// headers: `408` and the connection closed when it runs out.
    /// Default 10 s.
    pub body_timeout: Duration,
    /// Largest request body, in bytes: a larger `Content-Length` is `413`
    /// before the body is read. Default 8 MiB.
    pub max_body: usize,
    /// Connections held at once; past it the connection idle the longest is
    /// closed for the newcomer. Default [`default_max_connections`].
    pub max_connections: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(10),
            max_body: 8 << 20,
            max_connections: default_max_connections(),
        }
    }
}

impl Limits {
    /// Checks that no timeout and no cap is zero.
    pub fn check(&self) -> Result<()> {
        if self.header_timeout.is_zero() {
            return Err(Error::Zero {
                name: "header_timeout",
            });
        }
        if self.body_timeout.is_zero() {
            return Err(Error::Zero {
                name: "body_timeout",
            });
        }
        if self.max_connections == 0 {
            return Err(Error::Zero {
                name: "max_connections",
            });
        }
        Ok(())
    }
}

/// The process's soft limit of open files (`RLIMIT_NOFILE`), read from
/// `/proc/self/limits`; `None` where that cannot be read (not Linux) or
/// when it is unlimited.
pub fn open_files_soft_limit() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/self/limits").ok()?;
    soft_limit_in(&text)
}

fn soft_limit_in(limits: &str) -> Option<u64> {
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.trim_start_matches("Max open files")
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// The default cap of connections: the soft limit of open files less an
/// eighth (at least 32) kept for everything else the process opens (the
/// listener, pack files, logs, the runtime's own descriptors); 896 when the
/// limit is unknown (1,024 less headroom), at least 1.
pub fn default_max_connections() -> usize {
    let soft = open_files_soft_limit().unwrap_or(1024);
    let headroom = (soft / 8).max(32);
    usize::try_from(soft.saturating_sub(headroom).max(1)).unwrap_or(usize::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_soft_limit_of_open_files() {
        let text = "Limit                     Soft Limit           Hard Limit           Units     \n\
                    Max cpu time              unlimited            unlimited            seconds   \n\
                    Max open files            256                  4096                 files     \n";
        assert_eq!(soft_limit_in(text), Some(256));
        assert_eq!(
            soft_limit_in("Max open files unlimited unlimited files\n"),
            None
        );
        assert!(default_max_connections() >= 1);
    }

    #[test]
    fn zero_limits_are_refused() {
        let zero = Limits {
            max_connections: 0,
            ..Limits::default()
        };
        assert_eq!(zero.check().map_err(|e| e.code()), Err("invalid_limit"));
        assert!(Limits::default().check().is_ok());
    }
}
