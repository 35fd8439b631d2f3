//! The platform-level interrupt controller (PLIC) of QEMU `virt`.
//!
//! Each hart has a supervisor context (`2 * hart + 1` on `virt`): a source is routed
//! to a hart by its enable bit in that context, a context takes interrupts above its
//! threshold, and an interrupt is claimed (which also masks it) and completed. The
//! kernel's external-interrupt handler only claims, wakes whoever waits for the
//! device, and completes.

use core::sync::atomic::{AtomicUsize, Ordering};

const PRIORITY: usize = 0x0;
const ENABLE: usize = 0x2000;
const ENABLE_STRIDE: usize = 0x80;
const CONTEXT: usize = 0x20_0000;
const CONTEXT_STRIDE: usize = 0x1000;
const CLAIM: usize = 4;

static BASE: AtomicUsize = AtomicUsize::new(0);

/// The supervisor-mode context of hart `hart_id` on QEMU `virt`.
fn supervisor_context(hart_id: usize) -> usize {
    2 * hart_id + 1
}

fn register(offset: usize) -> *mut u32 {
    (BASE.load(Ordering::Acquire) + offset) as *mut u32
}

/// Uses the PLIC mapped at virtual address `base`.
///
/// # Safety
/// `base` must be the mapped register block of a riscv,plic0 (0x60_0000 bytes).
pub unsafe fn init(base: usize) {
    BASE.store(base, Ordering::Release);
}

/// Whether a PLIC was set up.
pub fn is_present() -> bool {
    BASE.load(Ordering::Acquire) != 0
}

/// Gives source `irq` priority 1 and routes it to every hart in `harts`.
pub fn enable(irq: u32, harts: impl Iterator<Item = usize>) {
    if !is_present() || irq == 0 {
        return;
    }
    let irq = irq as usize;
    // SAFETY: offsets inside the PLIC register block set up by `init`.
    unsafe {
        register(PRIORITY + 4 * irq).write_volatile(1);
        for hart in harts {
            let enable = register(ENABLE + ENABLE_STRIDE * supervisor_context(hart) + 4 * (irq / 32));
            enable.write_volatile(enable.read_volatile() | 1 << (irq % 32));
        }
    }
}

/// Lets this hart take every enabled source (threshold 0).
pub fn init_hart(hart_id: usize) {
    if !is_present() {
        return;
    }
    // SAFETY: the threshold register of this hart's supervisor context.
    unsafe { register(CONTEXT + CONTEXT_STRIDE * supervisor_context(hart_id)).write_volatile(0) };
}

/// Claims the highest-priority pending source for this hart (`None`: another hart got it).
pub fn claim(hart_id: usize) -> Option<u32> {
    // SAFETY: the claim register of this hart's supervisor context.
    let irq = unsafe { register(CONTEXT + CONTEXT_STRIDE * supervisor_context(hart_id) + CLAIM).read_volatile() };
    (irq != 0).then_some(irq)
}

/// Signals that source `irq`, claimed by this hart, has been handled.
pub fn complete(hart_id: usize, irq: u32) {
    // SAFETY: the complete register of this hart's supervisor context.
    unsafe { register(CONTEXT + CONTEXT_STRIDE * supervisor_context(hart_id) + CLAIM).write_volatile(irq) };
}
