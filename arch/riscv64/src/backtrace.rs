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

/// Mapped RAM (virtual range) where frames may also live: coroutine stacks on the heap,
/// the emergency stack. Set by the kernel once its page table maps all RAM.
static RAM: [core::sync::atomic::AtomicUsize; 2] = [const { core::sync::atomic::AtomicUsize::new(0) }; 2];

/// Lets backtraces follow frames anywhere in `[low, high)` (all mapped RAM).
pub fn allow_frames_in(low: usize, high: usize) {
    RAM[0].store(low, core::sync::atomic::Ordering::Relaxed);
    RAM[1].store(high, core::sync::atomic::Ordering::Relaxed);
}

fn plausible(fp: usize) -> bool {
    let (low, high) = hart_stacks();
    let (ram_low, ram_high) = (RAM[0].load(core::sync::atomic::Ordering::Relaxed), RAM[1].load(core::sync::atomic::Ordering::Relaxed));
    fp.is_multiple_of(8) && ((fp >= low + 16 && fp <= high) || (fp >= ram_low + 16 && fp <= ram_high))
}

/// Calls `visit` with each return address, innermost first, at most `limit` times.
pub fn walk(mut visit: impl FnMut(usize), limit: usize) {
    let mut fp = frame_pointer();
    for _ in 0..limit {
        if !plausible(fp) {
            break;
        }
        // SAFETY: `fp - 16 .. fp` lies inside the hart stacks or mapped RAM (checked
        // above), which are always mapped; the values are only interpreted as numbers.
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
