//! What the timer queues need from the hardware, stated as a trait.
//!
//! The kernel implements it with `rdtime` and the SBI (or Sstc) timer of the current hart;
//! host tests implement it with `mock::MockClock`. Keeping the hardware behind
//! this trait is what lets the queue logic be tested without QEMU.

use crate::Instant;

/// A monotonic clock plus one programmable alarm per hart.
pub trait Clock: Send + Sync {
    /// The current time; never goes backwards.
    fn now(&self) -> Instant;

    /// Programs the *current* hart's hardware timer to interrupt at `deadline`, or
    /// disarms it with `None`. A deadline already in the past must interrupt at once.
    fn set_alarm(&self, deadline: Option<Instant>);

    /// Index of the current hart, in `0..harts` (the count given to
    /// [`crate::Timers::new`]).
    fn current_hart(&self) -> usize;
}
