//! Memory management logic of coros that needs no hardware: physical frame allocation,
//! reference-counted frames, Sv39 page tables and user address spaces.
//!
//! The page-table code works on a [`PhysMemory`](sv39::PhysMemory) trait (turn a
//! physical address into a pointer, hand out zeroed frames), and address spaces on a
//! [`PhysFrames`] trait (the same, with reference counts), so the very same code runs in
//! the kernel (over the direct map of RAM) and under `cargo test` (over a `Vec`-backed
//! emulated RAM). The Sv39 entry layout is plain data and lives here with its tests; the
//! CSR writes that install a table (`satp`, `sfence.vma`) stay in `arch/riscv64`.
#![cfg_attr(not(test), no_std)]

extern crate alloc;

mod address;
mod frame;
mod refcount;
pub mod sv39;
#[cfg(test)]
mod testing;
pub mod user;

pub use address::{PhysAddr, VirtAddr, PAGE_SIZE};
pub use frame::FrameAllocator;
pub use refcount::{DirectMap, PhysFrames, RefCountedFrames, TableFrames};
