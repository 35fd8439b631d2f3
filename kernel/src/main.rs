//! The coros kernel binary: wiring only.
//!
//! `arch` boots the harts and takes the traps; the crates under `crates/` hold the
//! logic (executor, timers, memory, device tree, command line). This binary connects
//! them: [`boot`] brings the machine up, [`runtime`] gives every hart its executor loop
//! and timer queue, [`trap`] turns interrupts into wake-ups, and what runs on top is a
//! task chosen by the command line ([`demo`], [`selftest`], [`bench`]).
#![no_std]
#![no_main]

extern crate alloc;

#[macro_use]
mod console;
mod bench;
mod boot;
mod coroutine;
mod demo;
mod drivers;
mod fs;
mod irq;
mod memory;
mod panic;
mod process;
mod random;
mod runtime;
mod selftest;
mod selftest_disk;
mod syscall;
mod time;
mod trap;

/// Entry of the boot hart, called by `arch`'s `_start` with paging on.
#[no_mangle]
extern "C" fn coros_boot(hart_id: usize, device_tree: usize) -> ! {
    boot::boot_hart(hart_id, device_tree)
}

/// Entry of every other hart, started through SBI HSM.
#[no_mangle]
extern "C" fn coros_secondary(hart_id: usize) -> ! {
    boot::secondary_hart(hart_id)
}
