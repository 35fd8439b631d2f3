//! Kernel synchronisation primitives that are safe to share with interrupt handlers.
//!
//! Interrupt handlers in coros only *wake* tasks, but waking pushes onto run queues and
//! timer queues, so every lock that an interrupt handler may take must also mask
//! interrupts on the local hart while it is held (otherwise the handler could spin on a
//! lock its own hart already holds). [`SpinLock`] does that through the two functions
//! of [`interrupts`]: on the kernel target they are provided by the architecture crate
//! at link time (like Linux's `local_irq_save`), on the host they do nothing, so the
//! same code is tested with plain threads under `cargo test` and miri.
//!
//! [`WaitQueue`] is the parking place of futures: a blocked operation registers its
//! waker there and is woken by whoever changes the condition.
#![cfg_attr(not(test), no_std)]

extern crate alloc;

pub mod interrupts;
mod spinlock;
mod waitqueue;

pub use spinlock::{SpinLock, SpinLockGuard};
pub use waitqueue::WaitQueue;
