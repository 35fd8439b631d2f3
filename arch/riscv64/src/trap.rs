//! Traps taken while the kernel runs: interrupts and (fatal) kernel exceptions.
//!
//! `kernel_trap_entry` saves the registers the Rust calling convention does not
//! preserve, builds a frame record (saved `fp`, and `sepc` as the return address) so
//! a backtrace walks from the handler into the interrupted code, and calls the safe
//! Rust core [`kernel_trap`], which decodes `scause` into a [`TrapCause`] for the
//! kernel's handler. Interrupts stay masked while the handler runs.

use core::arch::global_asm;
use core::sync::atomic::{AtomicUsize, Ordering};

use crate::csr;

/// Registers saved on a kernel trap (the caller-saved set plus `sepc` and `sstatus`).
#[repr(C)]
#[derive(Debug)]
pub struct KernelTrapFrame {
    /// `ra`, `t0`-`t2`, `a0`-`a7`, `t3`-`t6`, in that order.
    pub registers: [usize; 16],
    /// Where the trap happened.
    pub sepc: usize,
    /// `sstatus` at the trap.
    pub sstatus: usize,
    /// The interrupted `fp` (frame record for backtraces).
    pub frame_pointer: usize,
    /// `sepc` again: the frame record's return address.
    pub return_address: usize,
}

/// What caused a trap.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TrapCause {
    /// Supervisor timer interrupt.
    Timer,
    /// Supervisor software interrupt (an IPI).
    Software,
    /// Supervisor external interrupt (the PLIC has a claim).
    External,
    /// Any other interrupt (its code).
    OtherInterrupt(usize),
    /// A synchronous exception (`scause` code, `stval`).
    Exception { code: usize, stval: usize },
}

impl TrapCause {
    /// Decodes `scause` (and `stval` for exceptions).
    pub fn decode(scause: usize, stval: usize) -> Self {
        const INTERRUPT: usize = 1 << 63;
        if scause & INTERRUPT != 0 {
            match scause & !INTERRUPT {
                1 => TrapCause::Software,
                5 => TrapCause::Timer,
                9 => TrapCause::External,
                code => TrapCause::OtherInterrupt(code),
            }
        } else {
            TrapCause::Exception { code: scause, stval }
        }
    }
}

/// Name of an exception code, for panic messages.
pub fn exception_name(code: usize) -> &'static str {
    match code {
        0 => "instruction address misaligned",
        1 => "instruction access fault",
        2 => "illegal instruction",
        3 => "breakpoint",
        4 => "load address misaligned",
        5 => "load access fault",
        6 => "store address misaligned",
        7 => "store access fault",
        8 => "environment call from U-mode",
        9 => "environment call from S-mode",
        12 => "instruction page fault",
        13 => "load page fault",
        15 => "store page fault",
        _ => "unknown exception",
    }
}

/// The kernel's handler: called with interrupts masked for every kernel trap.
pub type KernelTrapHandler = fn(TrapCause, &mut KernelTrapFrame);

static HANDLER: AtomicUsize = AtomicUsize::new(0);

/// Installs `handler` and points this hart's `stvec` at the trap entry.
pub fn init_hart(handler: KernelTrapHandler) {
    HANDLER.store(handler as *const () as usize, Ordering::Release);
    // SAFETY: sscratch = 0 marks "running in the kernel" for the trap vector, which is
    // a valid, 4-byte-aligned direct-mode vector preserving every interrupted register
    // (user traps return into `user::enter`, kernel traps go to `kernel_trap_entry`).
    unsafe {
        csr::write_sscratch(0);
        csr::write_stvec(crate::user::trap_vector());
    }
    // SAFETY: letting user mode read the time counter only exposes what
    // clock_gettime(CLOCK_MONOTONIC) tells it anyway (Linux sets the same bit).
    unsafe { csr::set_scounteren(csr::SCOUNTEREN_TM) };
}

/// The safe core of the trap path, called by the assembly entry.
extern "C" fn kernel_trap(frame: &mut KernelTrapFrame) {
    let cause = TrapCause::decode(csr::read_scause(), csr::read_stval());
    let handler = HANDLER.load(Ordering::Acquire);
    if handler == 0 {
        panic!("trap before a handler was installed: {cause:?} at sepc={:#x}", frame.sepc);
    }
    // SAFETY: HANDLER only ever holds a `KernelTrapHandler` stored by `init_hart`.
    let handler: KernelTrapHandler = unsafe { core::mem::transmute::<usize, KernelTrapHandler>(handler) };
    handler(cause, frame);
}

global_asm!(
    r#"
    .section .text
    .align 2
    .globl kernel_trap_entry
kernel_trap_entry:
    // An exception in the kernel is fatal: it is handled on an emergency stack, so a
    // fault caused by an exhausted or broken stack still reaches the panic report
    // instead of faulting again on every push. Interrupts keep the current stack.
    // Each hart has its own emergency stack (harts can fail at once), chosen by the
    // hart id in `tp`; a corrupt `tp` (not below MAX_HARTS) takes hart 0's.
    csrw    sscratch, t0
    csrr    t0, scause
    bltz    t0, 1f
    li      t0, {max_harts}
    bgeu    tp, t0, 2f
    la      t0, coros_emergency_stack_tops
    slli    tp, tp, {stack_shift}
    add     t0, t0, tp
    srli    tp, tp, {stack_shift}
    j       3f
2:  la      t0, coros_emergency_stack_tops
3:  sd      sp, -8(t0)
    addi    sp, t0, -16
    // Both paths: t0 back from sscratch, and sscratch = 0 again ("in the kernel").
1:  csrrw   t0, sscratch, zero
    addi    sp, sp, -160
    sd      ra, 0(sp)
    sd      t0, 8(sp)
    sd      t1, 16(sp)
    sd      t2, 24(sp)
    sd      a0, 32(sp)
    sd      a1, 40(sp)
    sd      a2, 48(sp)
    sd      a3, 56(sp)
    sd      a4, 64(sp)
    sd      a5, 72(sp)
    sd      a6, 80(sp)
    sd      a7, 88(sp)
    sd      t3, 96(sp)
    sd      t4, 104(sp)
    sd      t5, 112(sp)
    sd      t6, 120(sp)
    csrr    t0, sepc
    sd      t0, 128(sp)
    sd      t0, 152(sp)
    csrr    t1, sstatus
    sd      t1, 136(sp)
    sd      fp, 144(sp)
    addi    fp, sp, 160
    mv      a0, sp
    call    {handler}
    ld      t0, 128(sp)
    csrw    sepc, t0
    ld      t1, 136(sp)
    csrw    sstatus, t1
    ld      fp, 144(sp)
    ld      ra, 0(sp)
    ld      t0, 8(sp)
    ld      t1, 16(sp)
    ld      t2, 24(sp)
    ld      a0, 32(sp)
    ld      a1, 40(sp)
    ld      a2, 48(sp)
    ld      a3, 56(sp)
    ld      a4, 64(sp)
    ld      a5, 72(sp)
    ld      a6, 80(sp)
    ld      a7, 88(sp)
    ld      t3, 96(sp)
    ld      t4, 104(sp)
    ld      t5, 112(sp)
    ld      t6, 120(sp)
    addi    sp, sp, 160
    sret
    "#,
    handler = sym kernel_trap,
    max_harts = const crate::layout::MAX_HARTS,
    stack_shift = const EMERGENCY_STACK_SHIFT,
);

/// log2 of each hart's emergency stack size (32 KiB).
const EMERGENCY_STACK_SHIFT: usize = 15;

// The stacks fatal kernel exceptions are handled on, one per hart (see
// `kernel_trap_entry`): `coros_emergency_stack_tops` is the top of hart 0's, hart i's
// top lies i stack sizes above it.
global_asm!(
    r#"
    .section .bss.coros_emergency_stack, "aw", @nobits
    .p2align 4
coros_emergency_stacks:
    .space {size}
    .globl coros_emergency_stack_tops
coros_emergency_stack_tops:
    .space {size} * ({max_harts} - 1)
    "#,
    size = const 1 << EMERGENCY_STACK_SHIFT,
    max_harts = const crate::layout::MAX_HARTS,
);
