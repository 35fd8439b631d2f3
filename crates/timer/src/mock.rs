//! `MockClock`: a [`Clock`] for host tests, whose time and current hart are set by hand
//! and which records the alarm each hart was armed for.
//!
//! It lets tests drive the timer queues deterministically: advance time, then call
//! [`crate::Timers::handle_interrupt`] as the interrupt handler would. It holds only
//! atomics, so it is `Sync` and threads may share it; the "current hart" is one global
//! value, not per thread.

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use core::time::Duration;

use crate::{Clock, Instant};

/// One hart's recorded alarm.
#[derive(Default)]
struct MockAlarm {
    armed: AtomicBool,
    deadline: AtomicU64,
}

/// A hand-driven clock with one recorded alarm per hart.
pub struct MockClock {
    now: AtomicU64,
    hart: AtomicUsize,
    alarms: Box<[MockAlarm]>,
    alarm_calls: AtomicUsize,
}

impl MockClock {
    /// A clock for `harts` harts at time zero, on hart 0, with no alarm armed.
    pub fn new(harts: usize) -> Self {
        let alarms: Vec<MockAlarm> = (0..harts).map(|_| MockAlarm::default()).collect();
        Self {
            now: AtomicU64::new(0),
            hart: AtomicUsize::new(0),
            alarms: alarms.into_boxed_slice(),
            alarm_calls: AtomicUsize::new(0),
        }
    }

    /// Moves time forward by `duration` (saturating).
    pub fn advance(&self, duration: Duration) {
        let nanos = u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX);
        // The closure always returns `Some`, so the update cannot fail.
        let _ = self
            .now
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |now| {
                Some(now.saturating_add(nanos))
            });
    }

    /// Sets the time to `now`. Real clocks are monotonic and the timers rely on it:
    /// tests should not move time backwards.
    pub fn set(&self, now: Instant) {
        self.now.store(now.as_nanos(), Ordering::SeqCst);
    }

    /// Makes `hart` the current hart for every thread.
    ///
    /// # Panics
    /// If `hart` is not below the hart count given to [`MockClock::new`].
    pub fn set_hart(&self, hart: usize) {
        assert!(
            hart < self.alarms.len(),
            "MockClock::set_hart: no hart {hart}"
        );
        self.hart.store(hart, Ordering::SeqCst);
    }

    /// The alarm of the current hart.
    pub fn alarm(&self) -> Option<Instant> {
        self.alarm_on(self.current_hart())
    }

    /// The alarm of hart `hart` (`None`: disarmed).
    pub fn alarm_on(&self, hart: usize) -> Option<Instant> {
        let alarm = &self.alarms[hart];
        alarm
            .armed
            .load(Ordering::SeqCst)
            .then(|| Instant::from_nanos(alarm.deadline.load(Ordering::SeqCst)))
    }

    /// How many times `set_alarm` was called, on all harts together.
    pub fn alarm_calls(&self) -> usize {
        self.alarm_calls.load(Ordering::SeqCst)
    }
}

impl Clock for MockClock {
    fn now(&self) -> Instant {
        Instant::from_nanos(self.now.load(Ordering::SeqCst))
    }

    fn set_alarm(&self, deadline: Option<Instant>) {
        let alarm = &self.alarms[self.current_hart()];
        if let Some(deadline) = deadline {
            alarm.deadline.store(deadline.as_nanos(), Ordering::SeqCst);
        }
        alarm.armed.store(deadline.is_some(), Ordering::SeqCst);
        self.alarm_calls.fetch_add(1, Ordering::SeqCst);
    }

    fn current_hart(&self) -> usize {
        self.hart.load(Ordering::SeqCst)
    }
}

impl core::fmt::Debug for MockClock {
    fn fmt(&self, formatter: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        formatter
            .debug_struct("MockClock")
            .field("now", &self.now())
            .field("hart", &self.current_hart())
            .field("alarm", &self.alarm())
            .field("alarm_calls", &self.alarm_calls())
            .finish()
    }
}
