//! Where decisions and compilations run: off the async workers, on a fixed
//! set of threads of their own (8 MiB stacks), so that a slow decision
//! never delays `/livez`, the health checks or the accept loop. Work waits
//! in a queue without holding a thread, and the threads take it back to
//! back (no round trip through the async side between two decisions). A
//! panic on the way is an error, not a dropped connection or a lost thread.

use std::collections::VecDeque;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

/// Stack of each decision thread: deep policies recurse in the engine, and
/// the size must not depend on the platform's default.
pub(crate) const STACK_SIZE: usize = 8 << 20;

type Job = Box<dyn FnOnce() + Send>;

#[derive(Default)]
struct Queue {
    jobs: VecDeque<Job>,
    /// Threads waiting for work.
    idle: usize,
}

#[derive(Default)]
struct Shared {
    queue: Mutex<Queue>,
    ready: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// `threads` decision threads and their queue.
pub(crate) struct Pool {
    shared: Arc<Shared>,
}

impl Pool {
    /// Starts the threads (named `cos-pdp-decide-<i>`).
    pub(crate) fn new(threads: usize) -> Result<Self, String> {
        let shared = Arc::new(Shared::default());
        for i in 0..threads.max(1) {
            let shared = Arc::clone(&shared);
            std::thread::Builder::new()
                .name(format!("cos-pdp-decide-{i}"))
                .stack_size(STACK_SIZE)
                .spawn(move || work(&shared))
                .map_err(|e| format!("cannot start a decision thread: {e}"))?;
        }
        Ok(Pool { shared })
    }

    /// Runs `f` on a decision thread, after the work queued before it;
    /// `Err` with the panic's message if `f` panicked. Work whose request
    /// was given up meanwhile (the client went away) is skipped.
    pub(crate) async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, String> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            if tx.is_closed() {
                return;
            }
            let result = std::panic::catch_unwind(AssertUnwindSafe(f)).map_err(|p| {
                format!(
                    "the evaluation panicked: {}",
                    cos_http::panic_message(p.as_ref())
                )
            });
            let _ = tx.send(result);
        });
        {
            let mut queue = self.shared.lock();
            queue.jobs.push_back(job);
            if queue.idle > 0 {
                self.shared.ready.notify_one();
            }
        }
        rx.await
            .map_err(|_| "the decision thread went away".to_owned())?
    }
}

/// A decision thread: the next job, or a wait for one.
fn work(shared: &Shared) {
    loop {
        let job = {
            let mut queue = shared.lock();
            loop {
                if let Some(job) = queue.jobs.pop_front() {
                    break job;
                }
                queue.idle += 1;
                queue = shared.ready.wait(queue).unwrap_or_else(|p| p.into_inner());
                queue.idle -= 1;
            }
        };
        job();
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
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let pool = Pool::new(1).unwrap();
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
        // The one thread survived the panic; the next job runs.
        assert_eq!(runtime.block_on(pool.run(|| 7)), Ok(7));
        let on = runtime.block_on(pool.run(|| std::thread::current().name().map(str::to_owned)));
        assert_eq!(on, Ok(Some("cos-pdp-decide-0".to_owned())));
    }
}
