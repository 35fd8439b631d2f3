//! The monotonic clock (`time` CSR) and the per-hart timer interrupt.
//!
//! With the Sstc extension the kernel writes `stimecmp` itself (one instruction);
//! without it, it asks the firmware (an SBI call, i.e. a trap to M-mode).

use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

static TICKS_PER_SECOND: AtomicU64 = AtomicU64::new(10_000_000);
static HAS_SSTC: AtomicBool = AtomicBool::new(false);

/// Sets the `time` frequency (from the device tree's `timebase-frequency`) and whether
/// the harts implement Sstc.
pub fn init(ticks_per_second: u64, sstc: bool) {
    TICKS_PER_SECOND.store(ticks_per_second.max(1), Ordering::Relaxed);
    HAS_SSTC.store(sstc, Ordering::Relaxed);
}

/// Whether `stimecmp` is written directly.
pub fn uses_sstc() -> bool {
    HAS_SSTC.load(Ordering::Relaxed)
}

/// Ticks of the `time` counter per second.
pub fn ticks_per_second() -> u64 {
    TICKS_PER_SECOND.load(Ordering::Relaxed)
}

/// Current value of the `time` counter.
#[inline]
pub fn ticks() -> u64 {
    crate::csr::read_time()
}

/// Nanoseconds since the counter started (boot).
#[inline]
pub fn nanos() -> u64 {
    let ticks = ticks() as u128;
    (ticks * 1_000_000_000 / ticks_per_second() as u128) as u64
}

/// Converts nanoseconds to counter ticks, rounding up (never fire early).
pub fn nanos_to_ticks(nanos: u64) -> u64 {
    let ticks = (nanos as u128 * ticks_per_second() as u128).div_ceil(1_000_000_000);
    ticks.min(u64::MAX as u128) as u64
}

/// Arms this hart's timer interrupt for counter value `deadline_ticks`, or disarms it
/// (`None`: the compare value is set to the far future).
pub fn set_alarm(deadline_ticks: Option<u64>) {
    let value = deadline_ticks.unwrap_or(u64::MAX);
    if uses_sstc() {
        // SAFETY: Sstc availability was established at boot.
        unsafe { crate::csr::write_stimecmp(value) };
    } else {
        let _ = sbi_rt::set_timer(value);
    }
}
