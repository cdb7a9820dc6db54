//! Panics in handlers, caught.

use std::any::Any;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::task::{Context, Poll};

/// A future that turns a panic while it is polled into `Err(message)`.
///
/// The future is polled inside `catch_unwind`; after a panic it is not
/// polled again. What it shared with others may be half-changed: the
/// servers here keep their state behind locks that they read through
/// poisoning.
pub struct CatchPanic<F> {
    inner: Pin<Box<F>>,
}

impl<F: Future> CatchPanic<F> {
    /// Wraps `future`.
    pub fn new(future: F) -> Self {
        CatchPanic {
            inner: Box::pin(future),
        }
    }
}

impl<F: Future> Future for CatchPanic<F> {
    type Output = Result<F::Output, String>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let inner = &mut self.inner;
        match std::panic::catch_unwind(AssertUnwindSafe(|| inner.as_mut().poll(cx))) {
            Ok(Poll::Ready(v)) => Poll::Ready(Ok(v)),
            Ok(Poll::Pending) => Poll::Pending,
            Err(payload) => Poll::Ready(Err(panic_message(payload.as_ref()))),
        }
    }
}

/// The message of a panic's payload (`panic!("...")` gives a `&str` or a
/// `String`; anything else is "panic").
pub fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic".to_owned()
    }
}

#[cfg(test)]
#[allow(clippy::panic, reason = "the test provokes a panic")]
mod tests {
    use super::*;

    #[test]
    fn a_panic_is_an_error_with_its_message() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .map_err(|e| e.to_string());
        let Ok(runtime) = runtime else {
            return;
        };
        let caught = runtime.block_on(CatchPanic::new(async {
            if std::hint::black_box(true) {
                panic!("boom {}", 7);
            }
            1
        }));
        assert_eq!(caught, Err("boom 7".to_owned()));
        let fine = runtime.block_on(CatchPanic::new(async { 2 }));
        assert_eq!(fine, Ok(2));
    }
}
