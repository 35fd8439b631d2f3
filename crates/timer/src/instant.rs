//! A point in monotonic time, counted in nanoseconds since boot.
//!
//! `core` has `Duration` but no `Instant`, so the kernel defines its own. Arithmetic
//! saturates instead of panicking: a timeout computed from a huge user-supplied duration
//! simply becomes "never" (about 584 years after boot), and no input can panic the kernel.

use core::ops::{Add, AddAssign, Sub};
use core::time::Duration;

/// Monotonic time since boot in nanoseconds.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Default)]
pub struct Instant(u64);

/// Nanoseconds in `duration`, saturated to `u64::MAX`.
fn saturating_nanos(duration: Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
}

impl Instant {
    /// The moment of boot.
    pub const ZERO: Instant = Instant(0);

    /// The instant `nanos` nanoseconds after boot.
    pub const fn from_nanos(nanos: u64) -> Self {
        Instant(nanos)
    }

    /// Nanoseconds since boot.
    pub const fn as_nanos(self) -> u64 {
        self.0
    }

    /// Time elapsed from `earlier` to `self`, or zero if `earlier` is later.
    pub fn saturating_duration_since(self, earlier: Instant) -> Duration {
        Duration::from_nanos(self.0.saturating_sub(earlier.0))
    }

    /// `self + duration`, or `None` if that is not representable.
    pub fn checked_add(self, duration: Duration) -> Option<Instant> {
        let nanos = u64::try_from(duration.as_nanos()).ok()?;
        self.0.checked_add(nanos).map(Instant)
    }

    /// `self + duration`, saturated to the largest representable instant.
    pub fn saturating_add(self, duration: Duration) -> Instant {
        Instant(self.0.saturating_add(saturating_nanos(duration)))
    }
}

/// Saturating, like [`Instant::saturating_add`].
impl Add<Duration> for Instant {
    type Output = Instant;
    fn add(self, duration: Duration) -> Instant {
        self.saturating_add(duration)
    }
}

/// Saturating, like [`Instant::saturating_add`].
impl AddAssign<Duration> for Instant {
    fn add_assign(&mut self, duration: Duration) {
        *self = self.saturating_add(duration);
    }
}

/// Saturating, like [`Instant::saturating_duration_since`].
impl Sub<Instant> for Instant {
    type Output = Duration;
    fn sub(self, earlier: Instant) -> Duration {
        self.saturating_duration_since(earlier)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_saturates() {
        let instant = Instant::from_nanos(100);
        assert_eq!((instant + Duration::from_nanos(5)).as_nanos(), 105);
        assert_eq!(instant - Instant::from_nanos(40), Duration::from_nanos(60));
        assert_eq!(Instant::from_nanos(40) - instant, Duration::ZERO);
        assert_eq!(instant.checked_add(Duration::MAX), None);
        assert_eq!(
            Instant::from_nanos(u64::MAX).checked_add(Duration::from_nanos(1)),
            None
        );
        assert_eq!(instant + Duration::MAX, Instant::from_nanos(u64::MAX));
        let mut moving = Instant::ZERO;
        moving += Duration::from_micros(2);
        assert_eq!(moving.as_nanos(), 2_000);
    }
}
