//! Masking and unmasking supervisor interrupts on the current hart.
//!
//! Also defines the two link-time hooks `ksync::SpinLock` uses, so every kernel lock
//! masks interrupts while held.

use crate::csr;

/// Enables supervisor interrupts (`sstatus.SIE`).
#[inline]
pub fn enable() {
    // SAFETY: setting SIE only lets pending, enabled interrupts be taken; the trap
    // handler is installed before the kernel enables interrupts.
    unsafe { csr::set_sstatus(csr::SSTATUS_SIE) };
}

/// Disables supervisor interrupts; returns whether they were enabled.
#[inline]
pub fn disable() -> bool {
    let previous: usize;
    // SAFETY: atomically clears SIE and reads the old sstatus; masking interrupts is
    // always safe.
    unsafe { core::arch::asm!("csrrci {}, sstatus, 2", out(reg) previous, options(nostack)) };
    previous & csr::SSTATUS_SIE != 0
}

/// Whether interrupts are enabled on this hart.
#[inline]
pub fn are_enabled() -> bool {
    csr::read_sstatus() & csr::SSTATUS_SIE != 0
}

/// Unmasks the interrupt sources coros uses: timer, software (IPI), external (PLIC).
pub fn enable_sources() {
    // SAFETY: the trap handler handles all three sources.
    unsafe { csr::set_sie(csr::TIMER_INTERRUPT | csr::SOFTWARE_INTERRUPT | csr::EXTERNAL_INTERRUPT) };
}

/// Waits for an interrupt. Call with interrupts masked after checking for work: a
/// pending enabled interrupt still ends the wait (it is taken once unmasked), so a
/// wake-up that raced the check is not lost.
#[inline]
pub fn wait_for_interrupt() {
    // SAFETY: `wfi` only stalls the hart until an interrupt is pending.
    unsafe { core::arch::asm!("wfi", options(nomem, nostack)) };
}

#[no_mangle]
fn coros_interrupts_save_disable() -> bool {
    disable()
}

#[no_mangle]
fn coros_interrupts_restore(were_enabled: bool) {
    if were_enabled {
        enable();
    }
}
