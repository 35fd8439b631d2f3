//! Powering off with an exit status the host can see.
//!
//! QEMU `virt`'s "sifive,test0" finisher ends QEMU with status 0 for 0x5555 and with
//! `code` for `(code << 16) | 0x3333`. SBI's system reset is the fallback (it always
//! ends QEMU with status 0, so failures would be invisible).

use core::sync::atomic::{AtomicUsize, Ordering};

static FINISHER: AtomicUsize = AtomicUsize::new(0);

/// Uses the finisher at virtual address `base`.
///
/// # Safety
/// `base` must be the mapped register of a sifive,test0 device.
pub unsafe fn init(base: usize) {
    FINISHER.store(base, Ordering::Release);
}

/// Powers the machine off; `code` 0 is success, anything else failure.
pub fn power_off(code: u16) -> ! {
    let base = FINISHER.load(Ordering::Acquire);
    if base != 0 {
        let value: u32 = if code == 0 { 0x5555 } else { ((code as u32) << 16) | 0x3333 };
        // SAFETY: `init` was given the finisher's mapped register.
        unsafe { (base as *mut u32).write_volatile(value) };
    }
    if code == 0 {
        let _ = sbi_rt::system_reset(sbi_rt::Shutdown, sbi_rt::NoReason);
    } else {
        let _ = sbi_rt::system_reset(sbi_rt::Shutdown, sbi_rt::SystemFailure);
    }
    loop {
        crate::interrupts::disable();
        crate::interrupts::wait_for_interrupt();
    }
}
