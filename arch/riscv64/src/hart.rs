//! Which hart is running, and poking other harts (IPIs).

/// The id of the current hart (kept in `tp` by the boot code).
#[inline(always)]
pub fn id() -> usize {
    let id: usize;
    // SAFETY: reading `tp` has no side effects; the kernel never changes it.
    unsafe { core::arch::asm!("mv {}, tp", out(reg) id, options(nomem, nostack, preserves_flags)) };
    id
}

/// Sends a supervisor software interrupt to hart `hart_id`.
pub fn send_ipi(hart_id: usize) {
    let _ = sbi_rt::send_ipi(sbi_rt::HartMask::from_mask_base(1, hart_id));
}

/// Acknowledges a software interrupt on this hart.
pub fn clear_ipi() {
    // SAFETY: clearing SSIP only acknowledges the pending IPI.
    unsafe { crate::csr::clear_sip(crate::csr::SOFTWARE_INTERRUPT) };
}
