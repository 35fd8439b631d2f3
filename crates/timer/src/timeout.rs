//! `Timeout`: runs a future against a deadline, and `Elapsed`, the error when the
//! deadline wins.
//!
//! The inner future is polled first, so a future that is ready never registers a timer.
//! As soon as either side finishes, the other is dropped: the inner future's resources
//! (wait-queue registrations and the like) and the sleep's queue entry are released at
//! completion, not when the `Timeout` itself is dropped.
//!
//! The inner future is kept in a `Pin<Box<_>>`: that pins it without `unsafe` code or a
//! pin-projection crate, at the cost of one allocation per timeout.

use alloc::boxed::Box;
use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};

use crate::Sleep;

/// The error of a [`Timeout`] whose deadline passed before its future completed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Elapsed;

impl fmt::Display for Elapsed {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("deadline has elapsed")
    }
}

impl core::error::Error for Elapsed {}

/// A future bounded by a deadline; made by [`crate::Timers::timeout`] and
/// [`crate::Timers::timeout_at`]. Its output is `Ok` with the future's output, or
/// `Err(Elapsed)`.
#[must_use = "futures do nothing unless polled"]
pub struct Timeout<'t, F> {
    /// The inner future; `None` once the timeout has completed.
    future: Option<Pin<Box<F>>>,
    sleep: Sleep<'t>,
}

impl<'t, F> Timeout<'t, F> {
    /// Bounds `future` by `sleep`.
    pub(crate) fn new(future: F, sleep: Sleep<'t>) -> Self {
        Self {
            future: Some(Box::pin(future)),
            sleep,
        }
    }
}

impl<F: Future> Future for Timeout<'_, F> {
    type Output = Result<F::Output, Elapsed>;

    /// # Panics
    /// If polled again after it completed.
    fn poll(mut self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let future = this
            .future
            .as_mut()
            .expect("Timeout polled after completion");
        if let Poll::Ready(output) = future.as_mut().poll(context) {
            this.future = None;
            this.sleep.cancel();
            return Poll::Ready(Ok(output));
        }
        if Pin::new(&mut this.sleep).poll(context).is_ready() {
            this.future = None;
            return Poll::Ready(Err(Elapsed));
        }
        Poll::Pending
    }
}

impl<F> fmt::Debug for Timeout<'_, F> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("Timeout")
            .field("completed", &self.future.is_none())
            .field("sleep", &self.sleep)
            .finish()
    }
}
