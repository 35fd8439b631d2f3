//! The NS16550A UART of QEMU `virt`, used as the kernel console.
//!
//! Transmission polls the line-status register (a character takes no time under QEMU).
//! The receive interrupt is enabled later, when the console gets a reader.

use core::sync::atomic::{AtomicUsize, Ordering};

const TRANSMIT_HOLDING: usize = 0;
const RECEIVE_BUFFER: usize = 0;
const INTERRUPT_ENABLE: usize = 1;
const INTERRUPT_ENABLE_RECEIVED_DATA: u8 = 1 << 0;
const LINE_STATUS: usize = 5;
const LINE_STATUS_DATA_READY: u8 = 1 << 0;
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

/// Makes the UART raise its interrupt when a byte arrives.
pub fn enable_receive_interrupt() {
    let base = BASE.load(Ordering::Acquire);
    if base != 0 {
        // SAFETY: the interrupt-enable register of the UART set up by `init`.
        unsafe { ((base + INTERRUPT_ENABLE) as *mut u8).write_volatile(INTERRUPT_ENABLE_RECEIVED_DATA) };
    }
}

/// Takes one received byte, if any (reading it acknowledges the interrupt).
pub fn read_byte() -> Option<u8> {
    let base = BASE.load(Ordering::Acquire);
    if base == 0 {
        return None;
    }
    // SAFETY: line-status and receive-buffer registers of the UART set up by `init`.
    unsafe {
        if ((base + LINE_STATUS) as *const u8).read_volatile() & LINE_STATUS_DATA_READY == 0 {
            return None;
        }
        Some(((base + RECEIVE_BUFFER) as *const u8).read_volatile())
    }
}

/// Writes `bytes` unchanged (the terminal layer did its own output processing).
pub fn write_raw(bytes: &[u8]) {
    bytes.iter().for_each(|&byte| write_byte(byte));
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
