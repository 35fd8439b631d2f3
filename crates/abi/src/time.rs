//! Time structures and clock ids (include/uapi/linux/{time,time_types,times}.h).
//!
//! On riscv64 every `time_t` and `long` is 64 bits, so `struct timespec` and
//! `struct __kernel_timespec` coincide (16 bytes) and there are no `*_time64` system calls.
//! The validation helpers encode the checks Linux makes before it sleeps or arms a timer,
//! so every system call rejects the same inputs with the same `EINVAL`.

use core::time::Duration;

use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

use crate::Errno;

/// Nanoseconds in a second.
pub const NSEC_PER_SEC: i64 = 1_000_000_000;
/// Microseconds in a second.
pub const USEC_PER_SEC: i64 = 1_000_000;
/// `sysconf(_SC_CLK_TCK)`, `AT_CLKTCK`: the unit of `times()`, `Tms` and `si_utime` (Linux's
/// `USER_HZ`).
pub const USER_HZ: i64 = 100;

// Clock ids.
/// Wall-clock time.
pub const CLOCK_REALTIME: u32 = 0;
/// Time since boot, not counting suspend; never jumps.
pub const CLOCK_MONOTONIC: u32 = 1;
/// CPU time of the process.
pub const CLOCK_PROCESS_CPUTIME_ID: u32 = 2;
/// CPU time of the thread.
pub const CLOCK_THREAD_CPUTIME_ID: u32 = 3;
/// Monotonic time without NTP adjustment.
pub const CLOCK_MONOTONIC_RAW: u32 = 4;
/// Fast, tick-resolution `CLOCK_REALTIME`.
pub const CLOCK_REALTIME_COARSE: u32 = 5;
/// Fast, tick-resolution `CLOCK_MONOTONIC`.
pub const CLOCK_MONOTONIC_COARSE: u32 = 6;
/// Monotonic time including suspend.
pub const CLOCK_BOOTTIME: u32 = 7;
/// `CLOCK_REALTIME` that wakes the system.
pub const CLOCK_REALTIME_ALARM: u32 = 8;
/// `CLOCK_BOOTTIME` that wakes the system.
pub const CLOCK_BOOTTIME_ALARM: u32 = 9;
/// International atomic time.
pub const CLOCK_TAI: u32 = 11;

/// clock_nanosleep/timer_settime: the time is absolute, not relative.
pub const TIMER_ABSTIME: u32 = 0x01;

// setitimer/getitimer.
/// Real time; delivers SIGALRM.
pub const ITIMER_REAL: u32 = 0;
/// User CPU time; delivers SIGVTALRM.
pub const ITIMER_VIRTUAL: u32 = 1;
/// User and system CPU time; delivers SIGPROF.
pub const ITIMER_PROF: u32 = 2;

/// `struct timespec` / `struct __kernel_timespec` (16 bytes).
#[repr(C)]
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Default,
    FromBytes,
    IntoBytes,
    Immutable,
    KnownLayout,
)]
pub struct Timespec {
    /// Seconds.
    pub tv_sec: i64,
    /// Nanoseconds, 0 to 999,999,999 when valid.
    pub tv_nsec: i64,
}

impl Timespec {
    /// Zero.
    pub const ZERO: Timespec = Timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };

    /// Whether Linux accepts it (`timespec64_valid`): `tv_sec >= 0` and
    /// `0 <= tv_nsec < 1e9`.
    pub const fn is_valid(&self) -> bool {
        self.tv_sec >= 0 && self.tv_nsec >= 0 && self.tv_nsec < NSEC_PER_SEC
    }

    /// The duration, or `EINVAL` for a negative time or `tv_nsec` outside `0..1e9` (what
    /// nanosleep, clock_nanosleep, ppoll, pselect6, futex and rt_sigtimedwait return).
    pub const fn to_duration(&self) -> Result<Duration, Errno> {
        if self.is_valid() {
            Ok(Duration::new(self.tv_sec as u64, self.tv_nsec as u32))
        } else {
            Err(Errno::EINVAL)
        }
    }

    /// The timespec of `duration`, saturating at `i64::MAX` seconds.
    pub const fn from_duration(duration: Duration) -> Timespec {
        let seconds = duration.as_secs();
        Timespec {
            tv_sec: if seconds > i64::MAX as u64 {
                i64::MAX
            } else {
                seconds as i64
            },
            tv_nsec: duration.subsec_nanos() as i64,
        }
    }

    /// The timespec of `nanoseconds` since some origin.
    pub const fn from_nanos(nanoseconds: u64) -> Timespec {
        Timespec {
            tv_sec: (nanoseconds / NSEC_PER_SEC as u64) as i64,
            tv_nsec: (nanoseconds % NSEC_PER_SEC as u64) as i64,
        }
    }
}

/// `struct timeval` / `struct __kernel_old_timeval` (16 bytes).
#[repr(C)]
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, Default, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
pub struct Timeval {
    /// Seconds.
    pub tv_sec: i64,
    /// Microseconds, 0 to 999,999 when valid.
    pub tv_usec: i64,
}

impl Timeval {
    /// Whether Linux accepts it (`timeval_valid`): `tv_sec >= 0`, `0 <= tv_usec < 1e6`.
    pub const fn is_valid(&self) -> bool {
        self.tv_sec >= 0 && self.tv_usec >= 0 && self.tv_usec < USEC_PER_SEC
    }

    /// The duration, or `EINVAL` if not [valid](Self::is_valid) (setitimer, settimeofday).
    pub const fn to_duration(&self) -> Result<Duration, Errno> {
        if self.is_valid() {
            Ok(Duration::new(
                self.tv_sec as u64,
                self.tv_usec as u32 * 1000,
            ))
        } else {
            Err(Errno::EINVAL)
        }
    }

    /// The timeval of `duration` (sub-microsecond part truncated), saturating.
    pub const fn from_duration(duration: Duration) -> Timeval {
        let seconds = duration.as_secs();
        Timeval {
            tv_sec: if seconds > i64::MAX as u64 {
                i64::MAX
            } else {
                seconds as i64
            },
            tv_usec: duration.subsec_micros() as i64,
        }
    }
}

/// `struct itimerval` (32 bytes): setitimer/getitimer.
#[repr(C)]
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Default, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
pub struct Itimerval {
    /// Reload value after expiry; zero for a one-shot timer.
    pub it_interval: Timeval,
    /// Time to the next expiry; zero disarms.
    pub it_value: Timeval,
}

/// `struct itimerspec` / `struct __kernel_itimerspec` (32 bytes): timer_settime,
/// timerfd_settime.
#[repr(C)]
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Default, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
pub struct Itimerspec {
    /// Reload value after expiry.
    pub it_interval: Timespec,
    /// Time to the next expiry; zero disarms.
    pub it_value: Timespec,
}

/// `struct timezone` (8 bytes): gettimeofday's obsolete second argument.
#[repr(C)]
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Default, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
pub struct Timezone {
    /// Minutes west of Greenwich.
    pub tz_minuteswest: i32,
    /// Type of DST correction.
    pub tz_dsttime: i32,
}

/// `struct tms` (32 bytes): times(2), in [`USER_HZ`] ticks.
#[repr(C)]
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Default, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
pub struct Tms {
    /// User CPU time of the process.
    pub tms_utime: i64,
    /// System CPU time of the process.
    pub tms_stime: i64,
    /// User CPU time of waited-for children.
    pub tms_cutime: i64,
    /// System CPU time of waited-for children.
    pub tms_cstime: i64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::mem::{offset_of, size_of};

    #[test]
    fn layouts() {
        assert_eq!(size_of::<Timespec>(), 16);
        assert_eq!(offset_of!(Timespec, tv_nsec), 8);
        assert_eq!(size_of::<Timeval>(), 16);
        assert_eq!(offset_of!(Timeval, tv_usec), 8);
        assert_eq!(size_of::<Itimerval>(), 32);
        assert_eq!(offset_of!(Itimerval, it_value), 16);
        assert_eq!(size_of::<Itimerspec>(), 32);
        assert_eq!(size_of::<Timezone>(), 8);
        assert_eq!(size_of::<Tms>(), 32);
        assert_eq!(offset_of!(Tms, tms_cstime), 24);
    }

    #[test]
    fn clock_ids() {
        assert_eq!(CLOCK_REALTIME, 0);
        assert_eq!(CLOCK_MONOTONIC, 1);
        assert_eq!(CLOCK_MONOTONIC_RAW, 4);
        assert_eq!(CLOCK_BOOTTIME, 7);
        assert_eq!(CLOCK_TAI, 11);
        assert_eq!(TIMER_ABSTIME, 1);
        assert_eq!(ITIMER_PROF, 2);
    }

    #[test]
    fn timespec_validation() {
        let ok = Timespec {
            tv_sec: 1,
            tv_nsec: 500_000_000,
        };
        assert_eq!(ok.to_duration(), Ok(Duration::from_millis(1500)));
        assert_eq!(Timespec::ZERO.to_duration(), Ok(Duration::ZERO));
        let max = Timespec {
            tv_sec: i64::MAX,
            tv_nsec: 999_999_999,
        };
        assert_eq!(
            max.to_duration(),
            Ok(Duration::new(i64::MAX as u64, 999_999_999))
        );
        for bad in [
            Timespec {
                tv_sec: -1,
                tv_nsec: 0,
            },
            Timespec {
                tv_sec: 0,
                tv_nsec: -1,
            },
            Timespec {
                tv_sec: 0,
                tv_nsec: 1_000_000_000,
            },
            Timespec {
                tv_sec: 5,
                tv_nsec: i64::MAX,
            },
        ] {
            assert_eq!(bad.to_duration(), Err(Errno::EINVAL), "{bad:?}");
        }
        assert_eq!(
            Timespec::from_duration(Duration::from_nanos(2_000_000_001)),
            Timespec {
                tv_sec: 2,
                tv_nsec: 1
            }
        );
        assert_eq!(
            Timespec::from_nanos(3_000_000_007),
            Timespec {
                tv_sec: 3,
                tv_nsec: 7
            }
        );
    }

    #[test]
    fn timeval_validation() {
        assert_eq!(
            Timeval {
                tv_sec: 2,
                tv_usec: 5
            }
            .to_duration(),
            Ok(Duration::new(2, 5000))
        );
        assert_eq!(
            Timeval {
                tv_sec: 0,
                tv_usec: 1_000_000
            }
            .to_duration(),
            Err(Errno::EINVAL)
        );
        assert_eq!(
            Timeval {
                tv_sec: -1,
                tv_usec: 0
            }
            .to_duration(),
            Err(Errno::EINVAL)
        );
        assert_eq!(
            Timeval::from_duration(Duration::from_nanos(1_234_567_890)),
            Timeval {
                tv_sec: 1,
                tv_usec: 234_567
            }
        );
    }
}
