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

/// Drops every cached translation of the current hart (`sfence.vma`).
///
/// # Safety
/// Always safe in effect; `unsafe` only because it is a privileged instruction wrapper.
pub unsafe fn flush_tlb() {
    // SAFETY: sfence.vma has no effect but dropping TLB entries.
    unsafe { core::arch::asm!("sfence.vma", options(nostack)) };
}
