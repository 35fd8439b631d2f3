//! Kernel clocks: monotonic time from the `time` CSR, wall-clock time from the Goldfish
//! RTC read once at boot (CLOCK_REALTIME = boot wall time + monotonic time, so it never
//! jumps while running, and settimeofday would only move the offset).

use core::sync::atomic::{AtomicU64, Ordering};

static BOOT_WALL_NANOS: AtomicU64 = AtomicU64::new(0);

/// Reads the RTC once and remembers the wall-clock time of boot.
pub fn init(rtc_nanos: Option<u64>) {
    let now = arch::timer::nanos();
    if let Some(wall) = rtc_nanos {
        BOOT_WALL_NANOS.store(wall.saturating_sub(now), Ordering::Relaxed);
    }
}

/// Nanoseconds since boot.
pub fn monotonic_nanos() -> u64 {
    arch::timer::nanos()
}

/// Nanoseconds since the Unix epoch.
pub fn wall_clock_nanos() -> u64 {
    BOOT_WALL_NANOS.load(Ordering::Relaxed) + monotonic_nanos()
}

/// Sets the wall clock (clock_settime(CLOCK_REALTIME)).
pub fn set_wall_clock(nanos: u64) {
    BOOT_WALL_NANOS.store(nanos.saturating_sub(monotonic_nanos()), Ordering::Relaxed);
}
