//! Memory management logic of coros that needs no hardware: physical frame allocation
//! and Sv39 page tables.
//!
//! The page-table code works on a [`PhysMemory`] trait (turn a physical address into a
//! pointer, hand out zeroed frames), so the very same mapping code runs in the kernel
//! (over the direct map of RAM) and under `cargo test` (over a `Vec`-backed emulated
//! RAM). The Sv39 entry layout is plain data and lives here with its tests; the CSR
//! writes that install a table (`satp`, `sfence.vma`) stay in `arch/riscv64`.
#![cfg_attr(not(test), no_std)]

extern crate alloc;

mod address;
mod frame;
pub mod sv39;

pub use address::{PhysAddr, VirtAddr, PAGE_SIZE};
pub use frame::FrameAllocator;
