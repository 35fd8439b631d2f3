//! A one-slot channel for the ping-pong workload, built on a waker cell.
//!
//! The ping-pong benchmark must measure the executors, not a channel library, so all
//! three executors run this same few-line channel: a value slot, a "full" flag and an
//! [`AtomicWaker`] holding the receiver's waker. It is single-producer single-consumer
//! and has no back-pressure: a send into a full slot is a bug in the caller (ping-pong
//! never has two messages in flight on one channel). It is `Send` because the coros
//! executor only spawns `Send` futures.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use atomic_waker::AtomicWaker;

struct Slot {
    value: AtomicU64,
    full: AtomicBool,
    receiver: AtomicWaker,
}

/// The sending half: [`Sender::send`] fills the slot and wakes the receiver.
pub struct Sender(Arc<Slot>);

/// The receiving half: [`Receiver::recv`] waits until the slot is full and empties it.
pub struct Receiver(Arc<Slot>);

/// A new empty one-slot channel.
pub fn channel() -> (Sender, Receiver) {
    let slot = Arc::new(Slot {
        value: AtomicU64::new(0),
        full: AtomicBool::new(false),
        receiver: AtomicWaker::new(),
    });
    (Sender(slot.clone()), Receiver(slot))
}

impl Sender {
    /// Puts `value` in the slot and wakes the receiver. Panics if the slot is full.
    pub fn send(&self, value: u64) {
        let slot = &*self.0;
        assert!(
            !slot.full.load(Ordering::Acquire),
            "one-slot channel: send into a full slot"
        );
        slot.value.store(value, Ordering::Relaxed);
        slot.full.store(true, Ordering::Release);
        slot.receiver.wake();
    }
}

impl Receiver {
    /// Waits for the next value.
    pub fn recv(&mut self) -> Recv<'_> {
        Recv(self)
    }
}

/// The future returned by [`Receiver::recv`].
#[must_use = "futures do nothing unless awaited"]
pub struct Recv<'a>(&'a mut Receiver);

impl Recv<'_> {
    fn take(&self) -> Option<u64> {
        let slot = &*self.0 .0;
        if slot.full.load(Ordering::Acquire) {
            let value = slot.value.load(Ordering::Relaxed);
            slot.full.store(false, Ordering::Release);
            Some(value)
        } else {
            None
        }
    }
}

impl Future for Recv<'_> {
    type Output = u64;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<u64> {
        if let Some(value) = self.take() {
            return Poll::Ready(value);
        }
        self.0 .0.receiver.register(cx.waker());
        // Re-check after registering: a send between the first check and the
        // registration woke the previous (or no) waker.
        match self.take() {
            Some(value) => Poll::Ready(value),
            None => Poll::Pending,
        }
    }
}
