//! Where decisions and compilations run: off the async workers, on tokio's
//! blocking threads, at most a fixed number at once (the rest wait without
//! holding a thread), so that a slow decision never delays `/livez`, the
//! health checks or the accept loop. A panic on the way is an error, not a
//! dropped connection.

use tokio::sync::Semaphore;

/// At most `threads` decisions or compilations at once.
pub(crate) struct Pool {
    permits: Semaphore,
}

impl Pool {
    pub(crate) fn new(threads: usize) -> Self {
        Pool {
            permits: Semaphore::new(threads.max(1)),
        }
    }

    /// Runs `f` on a blocking thread once one of the pool's places is free;
    /// `Err` with the panic's message if `f` panicked.
    pub(crate) async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, String> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| "the decision pool is closed".to_owned())?;
        tokio::task::spawn_blocking(f).await.map_err(|e| {
            if e.is_panic() {
                format!(
                    "the evaluation panicked: {}",
                    cos_http::panic_message(e.into_panic().as_ref())
                )
            } else {
                "the evaluation was cancelled".to_owned()
            }
        })
    }
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "test code: the closure panics on purpose"
)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_is_an_error_and_the_pool_keeps_working() {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .max_blocking_threads(2)
            .build()
            .unwrap();
        let pool = Pool::new(1);
        let caught = runtime.block_on(pool.run(|| -> u32 {
            if std::hint::black_box(true) {
                panic!("engine bug {}", 42);
            }
            0
        }));
        assert_eq!(
            caught,
            Err("the evaluation panicked: engine bug 42".to_owned())
        );
        // The permit came back; the next one runs.
        assert_eq!(runtime.block_on(pool.run(|| 7)), Ok(7));
    }
}
