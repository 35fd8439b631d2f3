//! Reading and writing the supervisor CSRs coros uses.
//!
//! Each access is one instruction; the functions keep `asm!` out of the rest of the crate.

use core::arch::asm;

/// `sstatus.SIE`: supervisor interrupts enabled.
pub const SSTATUS_SIE: usize = 1 << 1;
/// `sstatus.SPP`: the trap came from supervisor mode.
pub const SSTATUS_SPP: usize = 1 << 8;
/// `sie`/`sip` bit of supervisor software interrupts (IPIs).
pub const SOFTWARE_INTERRUPT: usize = 1 << 1;
/// `sie`/`sip` bit of supervisor timer interrupts.
pub const TIMER_INTERRUPT: usize = 1 << 5;
/// `sie`/`sip` bit of supervisor external interrupts (PLIC).
pub const EXTERNAL_INTERRUPT: usize = 1 << 9;

macro_rules! csr_access {
    ($read:ident, $write:ident, $set:ident, $clear:ident, $csr:literal) => {
        #[doc = concat!("Reads `", $csr, "`.")]
        #[inline(always)]
        pub fn $read() -> usize {
            let value: usize;
            // SAFETY: reading this CSR has no side effects.
            unsafe { asm!(concat!("csrr {}, ", $csr), out(reg) value, options(nomem, nostack)) };
            value
        }
        #[doc = concat!("Writes `", $csr, "`.")]
        ///
        /// # Safety
        /// The caller must uphold what the new value implies for the hart's state.
        #[inline(always)]
        pub unsafe fn $write(value: usize) {
            // SAFETY: the caller guarantees the value is right for this CSR.
            unsafe { asm!(concat!("csrw ", $csr, ", {}"), in(reg) value, options(nostack)) };
        }
        #[doc = concat!("Sets bits in `", $csr, "`.")]
        ///
        /// # Safety
        /// As for the write function.
        #[inline(always)]
        pub unsafe fn $set(bits: usize) {
            // SAFETY: the caller guarantees setting these bits is right.
            unsafe { asm!(concat!("csrs ", $csr, ", {}"), in(reg) bits, options(nostack)) };
        }
        #[doc = concat!("Clears bits in `", $csr, "`.")]
        ///
        /// # Safety
        /// As for the write function.
        #[inline(always)]
        pub unsafe fn $clear(bits: usize) {
            // SAFETY: the caller guarantees clearing these bits is right.
            unsafe { asm!(concat!("csrc ", $csr, ", {}"), in(reg) bits, options(nostack)) };
        }
    };
}

csr_access!(read_sstatus, write_sstatus, set_sstatus, clear_sstatus, "sstatus");
csr_access!(read_sie, write_sie, set_sie, clear_sie, "sie");
csr_access!(read_sip, write_sip, set_sip, clear_sip, "sip");
csr_access!(read_stvec, write_stvec, set_stvec, clear_stvec, "stvec");
csr_access!(read_sscratch, write_sscratch, set_sscratch, clear_sscratch, "sscratch");
csr_access!(read_satp, write_satp, set_satp, clear_satp, "satp");
csr_access!(read_scounteren, write_scounteren, set_scounteren, clear_scounteren, "scounteren");

/// `scounteren.TM`: user mode may read the `time` CSR (`rdtime`), as on Linux (whose
/// vDSO relies on it). The firmware already allows supervisor mode (`mcounteren.TM`).
pub const SCOUNTEREN_TM: usize = 1 << 1;

macro_rules! csr_read_only {
    ($read:ident, $csr:literal) => {
        #[doc = concat!("Reads `", $csr, "`.")]
        #[inline(always)]
        pub fn $read() -> usize {
            let value: usize;
            // SAFETY: reading this CSR has no side effects.
            unsafe { asm!(concat!("csrr {}, ", $csr), out(reg) value, options(nomem, nostack)) };
            value
        }
    };
}

csr_read_only!(read_scause, "scause");
csr_read_only!(read_stval, "stval");
csr_read_only!(read_sepc, "sepc");

/// Reads the `time` counter (10 MHz on QEMU virt).
#[inline(always)]
pub fn read_time() -> u64 {
    let value: u64;
    // SAFETY: reading the time counter has no side effects.
    unsafe { asm!("csrr {}, time", out(reg) value, options(nomem, nostack)) };
    value
}

/// Writes `stimecmp` (Sstc): the next supervisor timer interrupt.
///
/// # Safety
/// Only on harts that implement Sstc with `menvcfg.STCE` enabled by the firmware,
/// otherwise this instruction traps as illegal.
#[inline(always)]
pub unsafe fn write_stimecmp(value: u64) {
    // SAFETY: the caller checked that Sstc is available.
    unsafe { asm!("csrw 0x14d, {}", in(reg) value, options(nostack)) };
}
