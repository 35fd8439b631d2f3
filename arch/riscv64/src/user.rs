//! Running user code: enter U-mode with a thread's registers, come back on its next trap.
//!
//! [`enter`] is called like a function by a user thread's task: it saves the kernel's
//! callee-saved registers and stack pointer in the [`UserContext`], points `sscratch`
//! at that context, loads the user registers and executes `sret`. When the user code
//! traps (system call, interrupt, fault), the shared trap vector sees a non-zero
//! `sscratch`, stores every user register into the context, reloads the kernel
//! registers and *returns from `enter`* with the decoded [`TrapCause`]. No kernel stack
//! belongs to the thread: between traps a thread is just this context inside its
//! task's future. Traps taken while the kernel runs (`sscratch` is 0) go to the kernel
//! trap path of [`crate::trap`].
//!
//! Floating point is saved lazily: only when `sstatus.FS` says the user dirtied it.

extern crate alloc;

use alloc::boxed::Box;
use core::arch::global_asm;
use core::mem::offset_of;
use core::sync::atomic::{AtomicBool, Ordering};

use crate::csr;
use crate::trap::TrapCause;

/// `sstatus.SPIE`: interrupts enabled after `sret`.
const SSTATUS_SPIE: usize = 1 << 5;
/// `sstatus.FS` field (floating-point state).
const SSTATUS_FS: usize = 3 << 13;
const SSTATUS_FS_CLEAN: usize = 2 << 13;
const SSTATUS_FS_DIRTY: usize = 3 << 13;
/// `sstatus.SUM`: supervisor may access user pages (kept clear: the kernel reaches user
/// memory only through its own page-table walk and the direct map).
const SSTATUS_SUM: usize = 1 << 18;

/// A user thread's registers, plus the kernel registers saved while it runs.
#[repr(C)]
#[derive(Clone)]
pub struct UserContext {
    /// `x0`..`x31` (`x0` is unused); `x2` is the user stack pointer, `x4` its `tp`.
    pub registers: [usize; 32],
    /// The user program counter (where `sret` goes, where the trap happened).
    pub sepc: usize,
    /// `sstatus` for the return to user mode (SPP = user, SPIE set).
    pub sstatus: usize,
    kernel_sp: usize,
    kernel_ra: usize,
    kernel_saved: [usize; 12],
    kernel_tp: usize,
    /// The floating-point registers, allocated the first time the thread dirties them
    /// (most threads never do: they then cost nothing here).
    pub float: Option<Box<FloatRegisters>>,
}

/// `f0`..`f31` and `fcsr`.
#[repr(C)]
#[derive(Clone, Default)]
pub struct FloatRegisters {
    /// `f0`..`f31`.
    pub registers: [u64; 32],
    /// `fcsr`.
    pub status: usize,
}

/// Register numbers of the RISC-V calling convention.
pub mod reg {
    /// Return address.
    pub const RA: usize = 1;
    /// Stack pointer.
    pub const SP: usize = 2;
    /// Thread pointer (TLS).
    pub const TP: usize = 4;
    /// First argument / return value.
    pub const A0: usize = 10;
    /// Second argument.
    pub const A1: usize = 11;
    /// System-call number.
    pub const A7: usize = 17;
}

impl UserContext {
    /// A context that starts user code at `entry` with stack pointer `sp`.
    pub fn new(entry: usize, sp: usize) -> Self {
        let mut context = Self {
            registers: [0; 32],
            sepc: entry,
            sstatus: 0,
            kernel_sp: 0,
            kernel_ra: 0,
            kernel_saved: [0; 12],
            kernel_tp: 0,
            float: None,
        };
        context.registers[reg::SP] = sp;
        context
    }

    /// System-call arguments `a0`..`a5`.
    pub fn syscall_args(&self) -> [usize; 6] {
        let r = &self.registers;
        [r[10], r[11], r[12], r[13], r[14], r[15]]
    }

    /// The system-call number (`a7`).
    pub fn syscall_number(&self) -> usize {
        self.registers[reg::A7]
    }

    /// Sets the return value (`a0`).
    pub fn set_return_value(&mut self, value: usize) {
        self.registers[reg::A0] = value;
    }

    /// Whether the thread has floating-point state saved in this context.
    pub fn has_float_state(&self) -> bool {
        self.float.is_some()
    }
}

/// Per hart: the FP registers hold zeros (no thread's values), so a thread without FP
/// state can enter without clearing them again.
static FLOAT_ZEROED: [AtomicBool; crate::layout::MAX_HARTS] = [const { AtomicBool::new(false) }; crate::layout::MAX_HARTS];

extern "C" {
    fn coros_enter_user(context: *mut UserContext);
    fn coros_trap_vector();
}

/// The trap vector all harts use (user and kernel traps).
pub(crate) fn trap_vector() -> usize {
    coros_trap_vector as *const () as usize
}

/// Runs the user thread of `context` until it traps; returns the cause. Interrupts are
/// masked on return (the caller handles an interrupt cause itself, then unmasks). The
/// caller has installed the thread's page table.
pub fn enter(context: &mut UserContext) -> TrapCause {
    crate::interrupts::disable();
    let sstatus = csr::read_sstatus();
    context.sstatus = (sstatus & !(csr::SSTATUS_SPP | csr::SSTATUS_SIE | SSTATUS_FS | SSTATUS_SUM)) | SSTATUS_SPIE | SSTATUS_FS_CLEAN;
    let hart = crate::hart::id();
    match &context.float {
        Some(float) => {
            restore_float(float);
            FLOAT_ZEROED[hart].store(false, Ordering::Relaxed);
        }
        // Zero the registers only if another thread's values may be in them.
        None if !FLOAT_ZEROED[hart].load(Ordering::Relaxed) => {
            clear_float();
            FLOAT_ZEROED[hart].store(true, Ordering::Relaxed);
        }
        None => {}
    }
    // SAFETY: the context holds valid user registers and a user `sepc`; the assembly
    // saves and restores every kernel register the Rust ABI needs, and returns here
    // when the user code traps. The kernel stays mapped in every address space.
    unsafe { coros_enter_user(context) };
    if context.sstatus & SSTATUS_FS == SSTATUS_FS_DIRTY {
        save_float(context.float.get_or_insert_with(Box::default));
        FLOAT_ZEROED[hart].store(false, Ordering::Relaxed);
    }
    TrapCause::decode(csr::read_scause(), csr::read_stval())
}

fn restore_float(context: &FloatRegisters) {
    // SAFETY: FS is made non-Off first so the FP instructions are legal; the loads read
    // the context's own array.
    unsafe {
        csr::set_sstatus(SSTATUS_FS_CLEAN);
        core::arch::asm!(
            "fld f0, 0({0})", "fld f1, 8({0})", "fld f2, 16({0})", "fld f3, 24({0})",
            "fld f4, 32({0})", "fld f5, 40({0})", "fld f6, 48({0})", "fld f7, 56({0})",
            "fld f8, 64({0})", "fld f9, 72({0})", "fld f10, 80({0})", "fld f11, 88({0})",
            "fld f12, 96({0})", "fld f13, 104({0})", "fld f14, 112({0})", "fld f15, 120({0})",
            "fld f16, 128({0})", "fld f17, 136({0})", "fld f18, 144({0})", "fld f19, 152({0})",
            "fld f20, 160({0})", "fld f21, 168({0})", "fld f22, 176({0})", "fld f23, 184({0})",
            "fld f24, 192({0})", "fld f25, 200({0})", "fld f26, 208({0})", "fld f27, 216({0})",
            "fld f28, 224({0})", "fld f29, 232({0})", "fld f30, 240({0})", "fld f31, 248({0})",
            "fscsr {1}",
            in(reg) context.registers.as_ptr(),
            in(reg) context.status,
            options(nostack),
        );
    }
}

fn save_float(context: &mut FloatRegisters) {
    let status: usize;
    // SAFETY: FS is Dirty (not Off), so FP instructions are legal; the stores write
    // the context's own array.
    unsafe {
        core::arch::asm!(
            "fsd f0, 0({0})", "fsd f1, 8({0})", "fsd f2, 16({0})", "fsd f3, 24({0})",
            "fsd f4, 32({0})", "fsd f5, 40({0})", "fsd f6, 48({0})", "fsd f7, 56({0})",
            "fsd f8, 64({0})", "fsd f9, 72({0})", "fsd f10, 80({0})", "fsd f11, 88({0})",
            "fsd f12, 96({0})", "fsd f13, 104({0})", "fsd f14, 112({0})", "fsd f15, 120({0})",
            "fsd f16, 128({0})", "fsd f17, 136({0})", "fsd f18, 144({0})", "fsd f19, 152({0})",
            "fsd f20, 160({0})", "fsd f21, 168({0})", "fsd f22, 176({0})", "fsd f23, 184({0})",
            "fsd f24, 192({0})", "fsd f25, 200({0})", "fsd f26, 208({0})", "fsd f27, 216({0})",
            "fsd f28, 224({0})", "fsd f29, 232({0})", "fsd f30, 240({0})", "fsd f31, 248({0})",
            "frcsr {1}",
            in(reg) context.registers.as_mut_ptr(),
            out(reg) status,
            options(nostack),
        );
    }
    context.status = status;
}

/// Zeroes the FP registers so a thread never sees another thread's values.
fn clear_float() {
    // SAFETY: FS is made non-Off first; this only writes FP registers.
    unsafe {
        csr::set_sstatus(SSTATUS_FS_CLEAN);
        core::arch::asm!(
            "fmv.d.x f0, zero", "fmv.d.x f1, zero", "fmv.d.x f2, zero", "fmv.d.x f3, zero",
            "fmv.d.x f4, zero", "fmv.d.x f5, zero", "fmv.d.x f6, zero", "fmv.d.x f7, zero",
            "fmv.d.x f8, zero", "fmv.d.x f9, zero", "fmv.d.x f10, zero", "fmv.d.x f11, zero",
            "fmv.d.x f12, zero", "fmv.d.x f13, zero", "fmv.d.x f14, zero", "fmv.d.x f15, zero",
            "fmv.d.x f16, zero", "fmv.d.x f17, zero", "fmv.d.x f18, zero", "fmv.d.x f19, zero",
            "fmv.d.x f20, zero", "fmv.d.x f21, zero", "fmv.d.x f22, zero", "fmv.d.x f23, zero",
            "fmv.d.x f24, zero", "fmv.d.x f25, zero", "fmv.d.x f26, zero", "fmv.d.x f27, zero",
            "fmv.d.x f28, zero", "fmv.d.x f29, zero", "fmv.d.x f30, zero", "fmv.d.x f31, zero",
            "fscsr zero",
            options(nostack, nomem),
        );
    }
}

global_asm!(
    r#"
    .section .text
    .globl coros_enter_user
coros_enter_user:
    sd      sp, {ksp}(a0)
    sd      ra, {kra}(a0)
    sd      s0, {ks}+0(a0)
    sd      s1, {ks}+8(a0)
    sd      s2, {ks}+16(a0)
    sd      s3, {ks}+24(a0)
    sd      s4, {ks}+32(a0)
    sd      s5, {ks}+40(a0)
    sd      s6, {ks}+48(a0)
    sd      s7, {ks}+56(a0)
    sd      s8, {ks}+64(a0)
    sd      s9, {ks}+72(a0)
    sd      s10, {ks}+80(a0)
    sd      s11, {ks}+88(a0)
    sd      tp, {ktp}(a0)
    csrw    sscratch, a0
    ld      t0, {sepc}(a0)
    csrw    sepc, t0
    ld      t0, {sstatus}(a0)
    csrw    sstatus, t0
    ld      x1, 8(a0)
    ld      x2, 16(a0)
    ld      x3, 24(a0)
    ld      x4, 32(a0)
    ld      x5, 40(a0)
    ld      x6, 48(a0)
    ld      x7, 56(a0)
    ld      x8, 64(a0)
    ld      x9, 72(a0)
    ld      x11, 88(a0)
    ld      x12, 96(a0)
    ld      x13, 104(a0)
    ld      x14, 112(a0)
    ld      x15, 120(a0)
    ld      x16, 128(a0)
    ld      x17, 136(a0)
    ld      x18, 144(a0)
    ld      x19, 152(a0)
    ld      x20, 160(a0)
    ld      x21, 168(a0)
    ld      x22, 176(a0)
    ld      x23, 184(a0)
    ld      x24, 192(a0)
    ld      x25, 200(a0)
    ld      x26, 208(a0)
    ld      x27, 216(a0)
    ld      x28, 224(a0)
    ld      x29, 232(a0)
    ld      x30, 240(a0)
    ld      x31, 248(a0)
    ld      x10, 80(a0)
    sret

    .align 2
    .globl coros_trap_vector
coros_trap_vector:
    csrrw   sp, sscratch, sp
    bnez    sp, 1f
    // From the kernel (sscratch was 0): put sp back and take the kernel path.
    csrrw   sp, sscratch, sp
    j       kernel_trap_entry
1:  // From user mode: sp = the thread's UserContext, sscratch = the user sp.
    sd      x1, 8(sp)
    sd      x3, 24(sp)
    sd      x4, 32(sp)
    sd      x5, 40(sp)
    sd      x6, 48(sp)
    sd      x7, 56(sp)
    sd      x8, 64(sp)
    sd      x9, 72(sp)
    sd      x10, 80(sp)
    sd      x11, 88(sp)
    sd      x12, 96(sp)
    sd      x13, 104(sp)
    sd      x14, 112(sp)
    sd      x15, 120(sp)
    sd      x16, 128(sp)
    sd      x17, 136(sp)
    sd      x18, 144(sp)
    sd      x19, 152(sp)
    sd      x20, 160(sp)
    sd      x21, 168(sp)
    sd      x22, 176(sp)
    sd      x23, 184(sp)
    sd      x24, 192(sp)
    sd      x25, 200(sp)
    sd      x26, 208(sp)
    sd      x27, 216(sp)
    sd      x28, 224(sp)
    sd      x29, 232(sp)
    sd      x30, 240(sp)
    sd      x31, 248(sp)
    csrr    t0, sscratch
    sd      t0, 16(sp)
    csrw    sscratch, zero
    csrr    t0, sepc
    sd      t0, {sepc}(sp)
    csrr    t0, sstatus
    sd      t0, {sstatus}(sp)
    mv      a0, sp
    ld      ra, {kra}(a0)
    ld      s0, {ks}+0(a0)
    ld      s1, {ks}+8(a0)
    ld      s2, {ks}+16(a0)
    ld      s3, {ks}+24(a0)
    ld      s4, {ks}+32(a0)
    ld      s5, {ks}+40(a0)
    ld      s6, {ks}+48(a0)
    ld      s7, {ks}+56(a0)
    ld      s8, {ks}+64(a0)
    ld      s9, {ks}+72(a0)
    ld      s10, {ks}+80(a0)
    ld      s11, {ks}+88(a0)
    ld      tp, {ktp}(a0)
    ld      sp, {ksp}(a0)
    ret
    "#,
    ksp = const offset_of!(UserContext, kernel_sp),
    kra = const offset_of!(UserContext, kernel_ra),
    ks = const offset_of!(UserContext, kernel_saved),
    ktp = const offset_of!(UserContext, kernel_tp),
    sepc = const offset_of!(UserContext, sepc),
    sstatus = const offset_of!(UserContext, sstatus),
);

const _: () = assert!(offset_of!(UserContext, registers) == 0);
