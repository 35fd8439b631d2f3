//! Installing a page table on the current hart.

/// Switches this hart to the page table described by `satp` and flushes the TLB.
///
/// # Safety
/// The new table must map the currently running code, stack and everything the kernel
/// will touch, with the same virtual addresses.
pub unsafe fn activate(satp: usize) {
    // SAFETY: the caller guarantees the new table keeps the kernel mapped.
    unsafe {
        core::arch::asm!("sfence.vma", "csrw satp, {}", "sfence.vma", in(reg) satp, options(nostack));
    }
}
