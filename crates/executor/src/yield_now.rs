//! `yield_now`: give the hart to every other runnable task once.
//!
//! The first poll wakes its own task and returns `Pending`, so the task goes to the back
//! of its hart's run queue; the second poll completes.

use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};

/// Returns a future that is pending exactly once, rescheduling its task.
pub fn yield_now() -> YieldNow {
    YieldNow { yielded: false }
}

/// The future returned by [`yield_now`].
#[must_use = "futures do nothing unless awaited"]
pub struct YieldNow {
    yielded: bool,
}

impl Future for YieldNow {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.yielded {
            return Poll::Ready(());
        }
        self.yielded = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}
