//! The handle of a spawned task: await it for the task's output.
//!
//! Dropping a `JoinHandle` **cancels** the task (its future is dropped at the next
//! opportunity, never polled again). Call [`JoinHandle::detach`] to let the task run
//! to completion on its own instead.

use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};

/// Awaits a spawned task's output; dropping it cancels the task.
#[must_use = "dropping a JoinHandle cancels the task; call `.detach()` to let it run"]
pub struct JoinHandle<T>(pub(crate) async_task::Task<T, crate::executor::Owner>);

impl<T> JoinHandle<T> {
    /// Lets the task run to completion without anyone awaiting its output.
    pub fn detach(self) {
        self.0.detach();
    }

    /// Cancels the task and waits until it is no longer running. Returns its output
    /// if it had already completed.
    pub async fn cancel(self) -> Option<T> {
        self.0.cancel().await
    }

    /// Whether the task has completed (or was cancelled).
    pub fn is_finished(&self) -> bool {
        self.0.is_finished()
    }
}

impl<T> Future for JoinHandle<T> {
    type Output = T;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        Pin::new(&mut self.0).poll(cx)
    }
}
