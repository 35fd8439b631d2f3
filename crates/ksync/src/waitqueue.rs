//! A queue of parked wakers: the place where a blocked future waits for a condition.
//!
//! The protocol avoids lost wake-ups without holding a lock across an `.await`: a waiter
//! registers its waker *then* re-checks its condition; a notifier changes the condition
//! *then* wakes. Either the waiter sees the new condition, or its waker is in the queue
//! when the notifier looks.

use alloc::collections::VecDeque;
use core::task::Waker;

use crate::SpinLock;

/// Wakers of tasks waiting for the same event, woken in FIFO order.
#[derive(Default)]
pub struct WaitQueue {
    waiters: SpinLock<VecDeque<Waker>>,
}

impl WaitQueue {
    /// An empty queue.
    pub const fn new() -> Self {
        Self { waiters: SpinLock::new(VecDeque::new()) }
    }

    /// Parks `waker` (replacing an earlier registration of the same task).
    pub fn register(&self, waker: &Waker) {
        let mut waiters = self.waiters.lock();
        if !waiters.iter().any(|w| w.will_wake(waker)) {
            waiters.push_back(waker.clone());
        }
    }

    /// Wakes the longest-waiting task; returns whether there was one.
    pub fn wake_one(&self) -> bool {
        let waker = self.waiters.lock().pop_front();
        match waker {
            Some(waker) => {
                waker.wake();
                true
            }
            None => false,
        }
    }

    /// Wakes every parked task; returns how many.
    pub fn wake_all(&self) -> usize {
        let waiters = core::mem::take(&mut *self.waiters.lock());
        let count = waiters.len();
        waiters.into_iter().for_each(Waker::wake);
        count
    }

    /// How many tasks are parked.
    pub fn len(&self) -> usize {
        self.waiters.lock().len()
    }

    /// Whether no task is parked.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::task::Wake;

    struct Counter(AtomicUsize);
    impl Wake for Counter {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn wakes_in_fifo_order_and_deduplicates() {
        let first = Arc::new(Counter(AtomicUsize::new(0)));
        let second = Arc::new(Counter(AtomicUsize::new(0)));
        let queue = WaitQueue::new();
        let first_waker = Waker::from(first.clone());
        queue.register(&first_waker);
        queue.register(&first_waker);
        queue.register(&Waker::from(second.clone()));
        // `Waker::will_wake` is best effort: miri gives every clone its own vtable, so
        // the duplicate is only guaranteed to be folded outside miri.
        let duplicates = if cfg!(miri) { queue.len() - 2 } else { 0 };
        assert_eq!(queue.len(), 2 + duplicates);
        assert!(queue.wake_one());
        assert_eq!(first.0.load(Ordering::SeqCst), 1);
        assert_eq!(second.0.load(Ordering::SeqCst), 0);
        assert_eq!(queue.wake_all(), 1 + duplicates);
        assert_eq!(second.0.load(Ordering::SeqCst), 1);
        assert!(!queue.wake_one());
        assert!(queue.is_empty());
    }
}
