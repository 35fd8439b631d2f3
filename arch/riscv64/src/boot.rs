//! The first instructions: from OpenSBI's jump (MMU off) to the kernel's Rust entry.
//!
//! OpenSBI enters `_start` on the boot hart with `a0` = hart id and `a1` = physical
//! address of the device tree; other harts are started later through SBI HSM at
//! `_start_secondary` with `a1` = the top of their stack. Both turn on
//! `boot_page_table`, three 1 GiB leaves that map the first 2 GiB of RAM twice
//! (identity, so the next instruction still runs, and at `PHYS_OFFSET`) plus the MMIO
//! gigabyte at `PHYS_OFFSET`, then jump to the kernel's high address:
//! `coros_boot(hart_id, dtb_physical)` or `coros_secondary(hart_id)`, both
//! `extern "C" fn(..) -> !` defined by the kernel. `tp` holds the hart id from then on.
//! The kernel replaces the boot table with its own (W^X) table as soon as it can.

use core::arch::global_asm;

use crate::layout::{virt_to_phys, HART_STACK_SIZE, MAX_HARTS, PHYS_OFFSET};

const _: () = assert!(HART_STACK_SIZE.is_power_of_two());

global_asm!(
    r#"
    .section .text.entry
    .globl _start
_start:
    li      t0, {max_harts}
    bgeu    a0, t0, 9f
    // Only one hart may boot the kernel. Should the firmware ever send a second one
    // here (seen rarely under heavy host load), it waits until the kernel is up and
    // then joins as a secondary hart.
    la      t0, boot_claimed
    li      t1, 1
    .option push
    .option arch, +a
    amoswap.w.aqrl t1, t1, (t0)
    .option pop
    bnez    t1, 7f
    // Clear .bss (the boot page table lives in .data and is not touched).
    la      t0, __bss_start
    la      t1, __bss_end
1:  bgeu    t0, t1, 2f
    sd      zero, 0(t0)
    addi    t0, t0, 8
    j       1b
2:  // sp = top of this hart's stack (physical for now).
    la      sp, __hart_stacks
    addi    t1, a0, 1
    slli    t0, t1, {stack_shift}
    add     sp, sp, t0
    call    enable_boot_paging
    li      t0, {offset}
    add     sp, sp, t0
    mv      tp, a0
    la      t1, coros_boot
    add     t1, t1, t0
    li      fp, 0
    li      ra, 0
    jr      t1
7:  la      t0, boot_ready
8:  lw      t1, 0(t0)
    beqz    t1, 8b
    fence   r, rw
    // a1 = this hart's stack top (virtual), as hart_start would pass it.
    la      a1, __hart_stacks
    addi    t1, a0, 1
    slli    t0, t1, {stack_shift}
    add     a1, a1, t0
    li      t0, {offset}
    add     a1, a1, t0
    j       _start_secondary
9:  wfi
    j       9b

    .globl _start_secondary
_start_secondary:
    call    enable_boot_paging
    mv      sp, a1
    li      t0, {offset}
    mv      tp, a0
    la      t1, coros_secondary
    add     t1, t1, t0
    li      fp, 0
    li      ra, 0
    jr      t1

    .section .text.entry
    // Installs boot_page_table; clobbers t0, t1 only. Runs at the physical address.
enable_boot_paging:
    la      t0, boot_page_table
    srli    t0, t0, 12
    li      t1, 8 << 60
    or      t0, t0, t1
    sfence.vma
    csrw    satp, t0
    sfence.vma
    ret

    .section .data
    .align 2
    .globl boot_claimed
boot_claimed:
    .word 0
    .globl boot_ready
boot_ready:
    .word 0

    .section .data.boot_page_table
    .align 12
boot_page_table:
    .quad 0
    .quad 0
    .quad (0x80000 << 10) | 0xcf    // [2]   0x8000_0000 identity, V R W X A D
    .quad (0xc0000 << 10) | 0xcf    // [3]   0xc000_0000 identity
    .zero 8 * 252
    .quad (0x00000 << 10) | 0xc7    // [256] MMIO gigabyte at PHYS_OFFSET, V R W A D
    .quad 0
    .quad (0x80000 << 10) | 0xcf    // [258] RAM at PHYS_OFFSET + 0x8000_0000
    .quad (0xc0000 << 10) | 0xcf    // [259]
    .zero 8 * 252
    "#,
    max_harts = const MAX_HARTS,
    stack_shift = const HART_STACK_SIZE.trailing_zeros(),
    offset = const PHYS_OFFSET,

);

extern "C" {
    fn _start();
    fn _start_secondary();
}

extern "C" {
    static boot_ready: core::sync::atomic::AtomicU32;
}

/// Lets a hart the firmware sent to `_start` by mistake join as a secondary hart (the
/// kernel page table, executor and timers exist from now on).
pub fn announce_ready() {
    // SAFETY: `boot_ready` is a 4-byte word in .data defined by the boot assembly.
    unsafe { boot_ready.store(1, core::sync::atomic::Ordering::Release) };
}

/// The top (exclusive end) of hart `hart_id`'s stack, as a kernel virtual address.
pub fn stack_top(hart_id: usize) -> usize {
    crate::layout::hart_stacks().0 + (hart_id + 1) * HART_STACK_SIZE
}

/// Starts hart `hart_id` through SBI HSM; it enters the kernel at `coros_secondary`.
pub fn start_hart(hart_id: usize) -> Result<(), usize> {
    start_hart_at(hart_id, _start_secondary)
}

/// Starts hart `hart_id` at the boot entry `_start`, as a confused firmware might: the
/// regression test of the "only one hart boots" guard (`test=boot-race`).
pub fn start_hart_at_boot_entry(hart_id: usize) -> Result<(), usize> {
    start_hart_at(hart_id, _start)
}

fn start_hart_at(hart_id: usize, entry: unsafe extern "C" fn()) -> Result<(), usize> {
    if hart_id >= MAX_HARTS {
        return Err(usize::MAX);
    }
    let entry = virt_to_phys(entry as *const () as usize);
    let result = sbi_rt::hart_start(hart_id, entry, stack_top(hart_id));
    if result.is_ok() { Ok(()) } else { Err(result.error) }
}
