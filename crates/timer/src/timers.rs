//! `Timers`: one deadline queue per hart, the clock they share, and the entry points the
//! rest of the kernel uses (sleep, timeout, the timer interrupt handler).
//!
//! A [`Sleep`] registers in the queue of the hart it is first polled on, because
//! [`Clock::set_alarm`] can program only the current hart's timer. Later polls (possibly
//! on another hart, after the task migrated) update the waker in that same queue, and
//! the owner hart's timer interrupt wakes it. Removing an entry from another hart's queue
//! cannot reprogram that hart's timer; its interrupt may then arrive early, find nothing
//! due and simply re-arm for the next deadline.

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::fmt;
use core::future::Future;
use core::task::Waker;
use core::time::Duration;

use crate::queue::{EntryKey, TimerQueue};
use crate::{Clock, Instant, Sleep, Timeout};

/// Where a registered [`Sleep`] lives: the owner hart's queue and its key there.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Registration {
    hart: usize,
    key: EntryKey,
}

/// The kernel's timers: a deadline queue per hart over one [`Clock`].
pub struct Timers<'c> {
    clock: &'c dyn Clock,
    queues: Box<[TimerQueue]>,
}

impl<'c> Timers<'c> {
    /// Timers for `harts` harts over `clock`.
    ///
    /// # Panics
    /// If `harts` is zero.
    pub fn new(clock: &'c dyn Clock, harts: usize) -> Self {
        assert!(harts > 0, "Timers::new: at least one hart is needed");
        let queues: Vec<TimerQueue> = (0..harts).map(|_| TimerQueue::default()).collect();
        Self {
            clock,
            queues: queues.into_boxed_slice(),
        }
    }

    /// The clock's current time.
    pub fn now(&self) -> Instant {
        self.clock.now()
    }

    /// The number of harts (queues).
    pub fn harts(&self) -> usize {
        self.queues.len()
    }

    /// A future that completes `duration` from now.
    pub fn sleep(&self, duration: Duration) -> Sleep<'_> {
        self.sleep_until(self.now().saturating_add(duration))
    }

    /// A future that completes at `deadline` (at once if it has passed).
    pub fn sleep_until(&self, deadline: Instant) -> Sleep<'_> {
        Sleep::new(self, deadline)
    }

    /// Runs `future` for at most `duration` from now: `Ok(output)` if it completes first,
    /// `Err(Elapsed)` if the time runs out first.
    pub fn timeout<F: Future>(&self, duration: Duration, future: F) -> Timeout<'_, F> {
        Timeout::new(future, self.sleep(duration))
    }

    /// Runs `future` until `deadline` at most; see [`Timers::timeout`].
    pub fn timeout_at<F: Future>(&self, deadline: Instant, future: F) -> Timeout<'_, F> {
        Timeout::new(future, self.sleep_until(deadline))
    }

    /// Called by the timer interrupt handler on the current hart: wakes every entry of
    /// this hart's queue whose deadline is `<= now` (calling the wakers after releasing
    /// the lock, in deadline then registration order), then re-arms the alarm for the
    /// earliest remaining deadline or disarms it. Returns how many were woken (zero after
    /// an early interrupt left by a removal on another hart).
    pub fn handle_interrupt(&self) -> usize {
        self.current_queue().fire(self.clock)
    }

    /// Number of registered entries on hart `hart`.
    ///
    /// # Panics
    /// If `hart >= self.harts()`.
    pub fn pending(&self, hart: usize) -> usize {
        self.queues[hart].len()
    }

    /// The current hart's queue and index.
    fn current_queue(&self) -> &TimerQueue {
        &self.queues[self.clock.current_hart()]
    }

    /// Registers `waker` for `deadline` in the current hart's queue.
    pub(crate) fn register(&self, deadline: Instant, waker: &Waker) -> Registration {
        let hart = self.clock.current_hart();
        let key = self.queues[hart].insert(deadline, waker.clone(), self.clock);
        Registration { hart, key }
    }

    /// Makes `waker` the one woken for `registration`; `false` if the entry already fired.
    pub(crate) fn update(&self, registration: Registration, waker: &Waker) -> bool {
        self.queues[registration.hart].update_waker(registration.key, waker)
    }

    /// Removes `registration`'s entry if it is still queued, re-arming the alarm when the
    /// entry belongs to the current hart.
    pub(crate) fn cancel(&self, registration: Registration) {
        let on_owner_hart = self.clock.current_hart() == registration.hart;
        let clock = on_owner_hart.then_some(self.clock);
        self.queues[registration.hart].remove(registration.key, clock);
    }

    /// The queue of `hart` (tests inspect its lock).
    #[cfg(test)]
    pub(crate) fn queue(&self, hart: usize) -> &TimerQueue {
        &self.queues[hart]
    }
}

impl fmt::Debug for Timers<'_> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("Timers")
            .field("harts", &self.queues.len())
            .finish_non_exhaustive()
    }
}
