//! The kernel's timers: per-hart deadline queues of wakers, and the `Sleep` and `Timeout`
//! futures built on them.
//!
//! There is no periodic tick. Each hart keeps its pending deadlines in a sorted queue and
//! programs its hardware timer only for the earliest one; when that interrupt arrives,
//! [`Timers::handle_interrupt`] wakes every due waker and re-arms for the next deadline,
//! or disarms when nothing is left. A hart with nothing due takes no timer interrupts at
//! all. Dropping a [`Sleep`] removes its entry, so cancelled waits leave nothing behind.
//!
//! The hardware is reached only through the [`Clock`] trait, so the whole flow runs on the
//! host under `cargo test` with `mock::MockClock` (feature `mock` exposes it to other crates).
#![cfg_attr(not(test), no_std)]

extern crate alloc;

mod calendar;
mod clock;
mod instant;
#[cfg(any(test, feature = "mock"))]
pub mod mock;
mod queue;
mod sleep;
mod timeout;
mod timers;

#[cfg(test)]
mod tests;

pub use calendar::UtcDateTime;
pub use clock::Clock;
pub use instant::Instant;
pub use sleep::Sleep;
pub use timeout::{Elapsed, Timeout};
pub use timers::Timers;
