//! Switching between kernel stacks: the one piece of assembly behind the kernel's
//! coroutines (`kernel/src/coroutine.rs`).
//!
//! Synchronous code that must wait for a device (a file system crate reading a block
//! that is not cached) runs on a stack of its own; when it has to wait it switches back
//! to the executor's stack, whose task then returns `Pending`. A switch saves what the
//! calling convention says a callee must preserve (`ra`, `sp`, `s0`–`s11`) and loads
//! another set: ~30 instructions. The kernel does not use floating point, so no FP
//! registers are involved.

/// The callee-saved registers of a suspended stack.
#[repr(C)]
#[derive(Debug, Default, Clone, Copy)]
pub struct Context {
    ra: usize,
    sp: usize,
    s: [usize; 12],
}

impl Context {
    /// A context that, when switched to, calls `entry(argument)` on the stack whose top
    /// (highest address, 16-byte aligned) is `stack_top`. `entry` must never return.
    pub fn new(stack_top: usize, entry: extern "C" fn(usize) -> !, argument: usize) -> Self {
        let mut s = [0; 12];
        // s0 = 0 ends frame-pointer backtraces at the coroutine's first frame.
        s[1] = argument;
        s[2] = entry as *const () as usize;
        Self { ra: coros_context_start as *const () as usize, sp: stack_top & !15, s }
    }
}

core::arch::global_asm!(
    r#"
    .section .text
    .globl coros_switch_context
    .p2align 2
coros_switch_context:
    sd ra, 0(a0)
    sd sp, 8(a0)
    sd s0, 16(a0)
    sd s1, 24(a0)
    sd s2, 32(a0)
    sd s3, 40(a0)
    sd s4, 48(a0)
    sd s5, 56(a0)
    sd s6, 64(a0)
    sd s7, 72(a0)
    sd s8, 80(a0)
    sd s9, 88(a0)
    sd s10, 96(a0)
    sd s11, 104(a0)
    ld ra, 0(a1)
    ld sp, 8(a1)
    ld s0, 16(a1)
    ld s1, 24(a1)
    ld s2, 32(a1)
    ld s3, 40(a1)
    ld s4, 48(a1)
    ld s5, 56(a1)
    ld s6, 64(a1)
    ld s7, 72(a1)
    ld s8, 80(a1)
    ld s9, 88(a1)
    ld s10, 96(a1)
    ld s11, 104(a1)
    ret

    .globl coros_context_start
    .p2align 2
coros_context_start:
    mv a0, s1
    jr s2
"#
);

extern "C" {
    fn coros_switch_context(save: *mut Context, load: *const Context);
    fn coros_context_start();
}

/// Saves the current registers in `save` and continues where `load` was saved (or at
/// its entry, for a new context). Returns when something switches back to `save`.
///
/// # Safety
/// `load` must be a context saved by this function or made by [`Context::new`] whose
/// stack is still alive and not in use by anything else; `save` must stay valid until it
/// is switched back to.
pub unsafe fn switch(save: *mut Context, load: *const Context) {
    // SAFETY: the caller upholds the contract above; the assembly saves and restores
    // exactly the callee-saved registers, so to the compiler this is an ordinary call.
    unsafe { coros_switch_context(save, load) }
}
