//! The RISC-V 64 half of coros: the only crate with `asm!`, CSRs and SBI calls.
//!
//! The kernel states what it needs from the hardware in terms of this crate's small
//! safe functions (`timer::set_alarm`, `interrupts::enable`, `hart::send_ipi`, ...);
//! everything above it (executor, timers, memory logic) is plain Rust tested on the
//! host. The boot path: OpenSBI jumps to `_start` at 0x80200000 with the MMU off; the
//! assembly in [`boot`] turns on a boot page table that maps the kernel both where it
//! was loaded and at its link address in the upper half, then calls the kernel's Rust
//! entry at its high address. The kernel then builds its real, W^X page table.
#![no_std]

pub mod backtrace;
pub mod boot;
pub mod console;
pub mod context;
pub mod csr;
pub mod hart;
pub mod interrupts;
pub mod layout;
pub mod paging;
pub mod plic;
pub mod power;
pub mod rtc;
pub mod timer;
pub mod trap;
pub mod user;
