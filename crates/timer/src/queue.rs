//! One hart's deadline queue: the registered wakers sorted by deadline, and the deadline
//! the hart's hardware timer is currently armed for.
//!
//! Entries are keyed by `(deadline, sequence)`: the sequence number makes keys unique and
//! makes equal deadlines fire in registration (FIFO) order. The alarm is reprogrammed only
//! when the earliest deadline differs from the armed one, so inserting a later deadline
//! costs no hardware access.
//!
//! Every method that can drop or call a waker does so *after* releasing the lock: a waker
//! may run executor code (and dropping the last waker may drop a task whose future owns a
//! `Sleep` that takes this very lock), which must never happen under the lock.

use alloc::collections::BTreeMap;
use core::task::Waker;

use ksync::SpinLock;

use crate::{Clock, Instant};

/// Identifies one entry of a [`TimerQueue`]; ordered by deadline, then registration.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
pub(crate) struct EntryKey {
    /// When the entry is due (compared first).
    pub(crate) deadline: Instant,
    /// Registration order within the queue; breaks ties between equal deadlines.
    sequence: u64,
}

/// The deadline queue of one hart.
#[derive(Default)]
pub(crate) struct TimerQueue {
    state: SpinLock<QueueState>,
}

/// What the queue's lock protects.
#[derive(Default)]
struct QueueState {
    /// Registered wakers, earliest deadline first.
    entries: BTreeMap<EntryKey, Waker>,
    /// The deadline this hart's hardware timer was last programmed for (`None`: disarmed).
    /// It may be earlier than the earliest entry after another hart removed that entry;
    /// the result is one early interrupt that finds nothing due.
    armed: Option<Instant>,
    /// Sequence number of the next entry.
    next_sequence: u64,
}

impl QueueState {
    /// The deadline of the earliest entry, if any.
    fn earliest(&self) -> Option<Instant> {
        self.entries.first_key_value().map(|(key, _)| key.deadline)
    }

    /// Programs the current hart's alarm for the earliest entry if it is not already.
    /// Only valid when this is the current hart's queue.
    fn rearm_if_changed(&mut self, clock: &dyn Clock) {
        let earliest = self.earliest();
        if earliest != self.armed {
            clock.set_alarm(earliest);
            self.armed = earliest;
        }
    }
}

impl TimerQueue {
    /// Registers `waker` to be woken at `deadline`, re-arming the alarm if this is now the
    /// earliest entry. Must be called on the hart that owns this queue.
    pub(crate) fn insert(&self, deadline: Instant, waker: Waker, clock: &dyn Clock) -> EntryKey {
        let mut state = self.state.lock();
        let key = EntryKey {
            deadline,
            sequence: state.next_sequence,
        };
        state.next_sequence += 1;
        state.entries.insert(key, waker);
        state.rearm_if_changed(clock);
        key
    }

    /// Stores `waker` for the entry `key` unless the stored one would wake the same task.
    /// Returns `false` if the entry is gone (it fired). May be called from any hart.
    pub(crate) fn update_waker(&self, key: EntryKey, waker: &Waker) -> bool {
        let replaced = {
            let mut state = self.state.lock();
            let Some(stored) = state.entries.get_mut(&key) else {
                return false;
            };
            if stored.will_wake(waker) {
                None
            } else {
                Some(core::mem::replace(stored, waker.clone()))
            }
        };
        drop(replaced);
        true
    }

    /// Removes the entry `key` if it is still there. `current_clock` is `Some` when this
    /// is the current hart's queue: then the alarm follows the new earliest entry. From
    /// another hart it cannot be reprogrammed, and the owner takes one early interrupt.
    pub(crate) fn remove(&self, key: EntryKey, current_clock: Option<&dyn Clock>) {
        let removed = {
            let mut state = self.state.lock();
            let removed = state.entries.remove(&key);
            if let (Some(_), Some(clock)) = (&removed, current_clock) {
                state.rearm_if_changed(clock);
            }
            removed
        };
        drop(removed);
    }

    /// Takes every entry due at `clock.now()`, programs the alarm for the earliest
    /// remaining one (or disarms it), then wakes the taken entries in deadline order,
    /// outside the lock. Must be called on the hart that owns this queue.
    ///
    /// The alarm is written even when unchanged: the interrupt that led here stays
    /// pending until the hardware comparator is rewritten.
    pub(crate) fn fire(&self, clock: &dyn Clock) -> usize {
        let due = {
            let mut state = self.state.lock();
            let now = clock.now();
            let due = match now.as_nanos().checked_add(1) {
                Some(first_not_due) => {
                    let bound = EntryKey {
                        deadline: Instant::from_nanos(first_not_due),
                        sequence: 0,
                    };
                    let not_due = state.entries.split_off(&bound);
                    core::mem::replace(&mut state.entries, not_due)
                }
                None => core::mem::take(&mut state.entries),
            };
            let earliest = state.earliest();
            clock.set_alarm(earliest);
            state.armed = earliest;
            due
        };
        let count = due.len();
        due.into_values().for_each(Waker::wake);
        count
    }

    /// Number of registered entries.
    pub(crate) fn len(&self) -> usize {
        self.state.lock().entries.len()
    }

    /// Whether the queue's lock is held right now (tests check wakers run unlocked).
    #[cfg(test)]
    pub(crate) fn is_locked(&self) -> bool {
        self.state.is_locked()
    }
}
