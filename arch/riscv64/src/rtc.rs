//! The Goldfish real-time clock of QEMU `virt`: nanoseconds since the Unix epoch.

/// Reads the wall clock from the Goldfish RTC mapped at virtual address `base`.
///
/// # Safety
/// `base` must be the mapped register block of a google,goldfish-rtc device.
pub unsafe fn read_nanos(base: usize) -> u64 {
    // SAFETY: TIME_LOW (offset 0) must be read first: it latches TIME_HIGH (offset 4).
    unsafe {
        let low = ((base) as *const u32).read_volatile() as u64;
        let high = ((base + 4) as *const u32).read_volatile() as u64;
        (high << 32) | low
    }
}
