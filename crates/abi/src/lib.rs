//! The Linux riscv64 system-call ABI as coros speaks it: system-call numbers, errno
//! values, flag bits and the `#[repr(C)]` structures user space passes in and out.
//! Linux (asm-generic, riscv64) is the specification; sizes and offsets are asserted.
#![cfg_attr(not(test), no_std)]

mod errno;

pub use errno::Result;

pub use errno::Errno;
