//! The kernel's virtual memory layout.
//!
//! All of physical memory (RAM and MMIO) is mapped at `PHYS_OFFSET + physical address`
//! in the upper half of Sv39, and the kernel image is linked inside that same window
//! (at `PHYS_OFFSET + 0x8020_0000`), so one constant converts any physical address to
//! the kernel's view of it. The lower half is left free for user address spaces.

/// Start of the direct map of physical memory (the base of the Sv39 upper half).
pub const PHYS_OFFSET: usize = 0xffff_ffc0_0000_0000;

/// The most harts the kernel supports (hart ids must be below this).
pub const MAX_HARTS: usize = 8;

/// Size of each hart's kernel stack (the only kernel stacks there are: one per hart).
pub const HART_STACK_SIZE: usize = 256 * 1024;

/// The kernel virtual address of physical address `pa`.
pub const fn phys_to_virt(pa: usize) -> usize {
    pa + PHYS_OFFSET
}

/// The physical address of kernel virtual address `va` (inside the direct map).
pub const fn virt_to_phys(va: usize) -> usize {
    va - PHYS_OFFSET
}

extern "C" {
    static __kernel_start: u8;
    static __text_start: u8;
    static __text_end: u8;
    static __rodata_start: u8;
    static __rodata_end: u8;
    static __data_start: u8;
    static __kernel_end: u8;
    static __hart_stacks: u8;
    static __hart_stacks_end: u8;
}

/// Address ranges of the kernel image's sections (virtual, page-aligned by the linker).
#[derive(Clone, Copy, Debug)]
pub struct KernelSections {
    /// The whole image, text through bss.
    pub image: (usize, usize),
    /// Executable code.
    pub text: (usize, usize),
    /// Read-only data.
    pub rodata: (usize, usize),
    /// Data, bss and the hart stacks.
    pub data: (usize, usize),
}

/// The section boundaries the linker script defines.
pub fn kernel_sections() -> KernelSections {
    // SAFETY: only the addresses of these linker-defined symbols are taken, never
    // their (non-existent) values.
    unsafe {
        let at = |symbol: &u8| symbol as *const u8 as usize;
        KernelSections {
            image: (at(&__kernel_start), at(&__kernel_end)),
            text: (at(&__text_start), at(&__text_end)),
            rodata: (at(&__rodata_start), at(&__rodata_end)),
            data: (at(&__data_start), at(&__kernel_end)),
        }
    }
}

/// The range of all hart stacks (for backtraces: a frame pointer outside is bogus).
pub fn hart_stacks() -> (usize, usize) {
    // SAFETY: addresses of linker-defined symbols only.
    unsafe { (&__hart_stacks as *const u8 as usize, &__hart_stacks_end as *const u8 as usize) }
}
