//! Frame-pointer backtraces (the kernel is built with `-C force-frame-pointers=yes`).
//!
//! On RISC-V a frame record sits just below the frame pointer: `[fp - 8]` is the return
//! address, `[fp - 16]` the caller's frame pointer. The walk stops at a null or
//! misaligned frame pointer, or one outside the hart stacks, so a corrupt stack ends
//! the backtrace instead of faulting inside the panic handler.

use crate::layout::hart_stacks;

/// The current frame pointer.
#[inline(always)]
pub fn frame_pointer() -> usize {
    let fp: usize;
    // SAFETY: reading `fp` (s0) has no side effects.
    unsafe { core::arch::asm!("mv {}, fp", out(reg) fp, options(nomem, nostack)) };
    fp
}

/// Calls `visit` with each return address, innermost first, at most `limit` times.
pub fn walk(mut visit: impl FnMut(usize), limit: usize) {
    let (low, high) = hart_stacks();
    let mut fp = frame_pointer();
    for _ in 0..limit {
        if !fp.is_multiple_of(8) || fp < low + 16 || fp > high {
            break;
        }
        // SAFETY: `fp - 16 .. fp` lies inside the hart stacks (checked above), which
        // are always mapped; the values are only interpreted as numbers.
        let (return_address, caller_fp) = unsafe { (*((fp - 8) as *const usize), *((fp - 16) as *const usize)) };
        if return_address == 0 {
            break;
        }
        visit(return_address);
        if caller_fp <= fp {
            break; // frames grow towards higher addresses as we unwind; anything else is corrupt
        }
        fp = caller_fp;
    }
}
