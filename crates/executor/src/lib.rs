//! The coros executor: the loop every hart runs after boot.
//!
//! Every kernel activity is an `async` task. This crate holds the run queues and the
//! policy; the task and waker machinery is `async-task`'s (a task is one allocation
//! holding the future, its state word and its output; a waker is a pointer to it).
//!
//! * **Only woken tasks are polled.** A task enters a run queue only through its
//!   schedule function, which `async-task` calls exactly when the task is woken (or
//!   first spawned). A hart with empty queues polls nothing.
//! * **Per-hart FIFO queues.** A woken task goes to the queue of the hart that woke it
//!   (the hart that took the interrupt, or ran the waking task), keeping caches warm and
//!   the wake path to one short locked push.
//! * **Work stealing.** A hart whose queue is empty takes half of another hart's queue.
//! * **Idle harts sleep.** A hart with nothing to run announces itself idle
//!   ([`Executor::prepare_to_sleep`]) and sleeps (`wfi` in the kernel). A wake that leaves
//!   more than one task queued on a hart notifies one idle hart ([`Platform::notify`]:
//!   an IPI in the kernel) so it can steal. Announcing (idle bit, then re-check the
//!   queues) and waking (queue push, then read the idle bits) are both sequentially
//!   consistent, so one of the two sides always sees the other: no lost wake-up.
//!
//! Task states are `async-task`'s: *scheduled* (a `Runnable` sits in a queue),
//! *running* (being polled; a wake while running re-queues it after the poll),
//! *idle* (pending, waiting for a waker), *completed* (output waits in the join handle),
//! *closed* (cancelled or output taken).
#![cfg_attr(not(any(test, feature = "std")), no_std)]

extern crate alloc;

mod executor;
#[cfg(feature = "std")]
pub mod host;
mod join;
mod yield_now;

pub use executor::{Executor, Platform, MAX_HARTS};
pub use join::JoinHandle;
pub use yield_now::{yield_now, YieldNow};
