//! `Sleep`: the future that completes at a deadline.
//!
//! It touches a queue only if it actually has to wait: a deadline that has already passed
//! on the first poll completes at once, with no entry and no alarm. Otherwise the first
//! poll registers the waker in the current hart's queue, later polls only swap the waker
//! if the task's waker changed, and completion or drop removes the entry, so a cancelled
//! sleep leaves nothing behind.

use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};

use crate::timers::Registration;
use crate::{Instant, Timers};

/// A future that completes at its deadline; made by [`Timers::sleep`] and
/// [`Timers::sleep_until`].
#[must_use = "futures do nothing unless polled"]
pub struct Sleep<'t> {
    timers: &'t Timers<'t>,
    deadline: Instant,
    /// Set while an entry for this sleep may be in a queue.
    registration: Option<Registration>,
}

impl<'t> Sleep<'t> {
    /// A sleep until `deadline`; registers nothing until polled.
    pub(crate) fn new(timers: &'t Timers<'t>, deadline: Instant) -> Self {
        Self {
            timers,
            deadline,
            registration: None,
        }
    }

    /// When this sleep completes.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// Whether this sleep has an entry in a timer queue (it may just have fired).
    pub fn is_registered(&self) -> bool {
        self.registration.is_some()
    }

    /// Removes this sleep's entry, if any, from its queue.
    pub(crate) fn cancel(&mut self) {
        if let Some(registration) = self.registration.take() {
            self.timers.cancel(registration);
        }
    }
}

impl Future for Sleep<'_> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        if this.timers.now() >= this.deadline {
            this.cancel();
            return Poll::Ready(());
        }
        match this.registration {
            None => {
                this.registration = Some(this.timers.register(this.deadline, context.waker()));
            }
            Some(registration) => {
                if !this.timers.update(registration, context.waker()) {
                    // The entry was taken by a timer interrupt, which happens only once the
                    // deadline has passed (the clock is monotonic), so we are done.
                    this.registration = None;
                    return Poll::Ready(());
                }
            }
        }
        Poll::Pending
    }
}

impl Drop for Sleep<'_> {
    fn drop(&mut self) {
        self.cancel();
    }
}

impl fmt::Debug for Sleep<'_> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("Sleep")
            .field("deadline", &self.deadline)
            .field("registered", &self.registration.is_some())
            .finish()
    }
}
