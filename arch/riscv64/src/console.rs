//! The NS16550A UART of QEMU `virt`, used as the kernel console.
//!
//! Transmission polls the line-status register (a character takes no time under QEMU).
//! The receive interrupt is enabled later, when the console gets a reader.

use core::sync::atomic::{AtomicUsize, Ordering};

const TRANSMIT_HOLDING: usize = 0;
const LINE_STATUS: usize = 5;
const LINE_STATUS_TRANSMIT_EMPTY: u8 = 1 << 5;

static BASE: AtomicUsize = AtomicUsize::new(0);

/// Uses the UART whose registers are mapped at virtual address `base`.
///
/// # Safety
/// `base` must be the mapped register block of an NS16550-compatible UART.
pub unsafe fn init(base: usize) {
    BASE.store(base, Ordering::Release);
}

/// Writes one byte, waiting for room. Dropped if no UART is set up.
pub fn write_byte(byte: u8) {
    let base = BASE.load(Ordering::Acquire);
    if base == 0 {
        // Before the device tree is read: the firmware's console (legacy call, which
        // OpenSBI 1.1 supports; the newer DBCN extension it may not).
        #[allow(deprecated)]
        sbi_rt::legacy::console_putchar(byte as usize);
        return;
    }
    let status = (base + LINE_STATUS) as *const u8;
    let holding = (base + TRANSMIT_HOLDING) as *mut u8;
    // SAFETY: `init` was given the mapped register block of a 16550; these are its
    // line-status and transmit-holding registers.
    unsafe {
        while status.read_volatile() & LINE_STATUS_TRANSMIT_EMPTY == 0 {
            core::hint::spin_loop();
        }
        holding.write_volatile(byte);
    }
}

/// Writes `bytes`, turning `\n` into `\r\n`.
pub fn write_bytes(bytes: &[u8]) {
    for &byte in bytes {
        if byte == b'\n' {
            write_byte(b'\r');
        }
        write_byte(byte);
    }
}
