//! The exec loader: everything `execve` needs that is pure logic. It validates an ELF
//! image ([`parse`]), maps and fills its segments through the [`LoadTarget`] trait the
//! kernel implements over a real address space ([`load`]), recognises `#!` scripts
//! ([`shebang`]), and lays out the initial user stack the way Linux does
//! ([`build_stack`], [`auxv_for`]). Nothing here touches hardware, so all of it is
//! tested on the host against real riscv64 binaries (`tests/fixtures`).
//!
//! A typical exec: `shebang` (rewrite argv, restart with the interpreter) → `parse` →
//! `load` at `program.load_bias(DEFAULT_DYN_BIAS)` → if `program.interpreter()` is set,
//! `parse` + `load` the interpreter at a free base → `auxv_for` → `build_stack` → write
//! the image at `sp` and enter user mode at the interpreter's (or program's) entry.
#![cfg_attr(not(test), no_std)]

extern crate alloc;

pub mod auxv;
mod elf;
mod error;
mod load;
mod mapped;
mod script;
mod stack;

pub use auxv::auxv_for;
pub use elf::{parse, parse_head, Program, Prot, Segment, TlsSegment};
pub use error::LoadError;
pub use load::{load, LoadTarget, Loaded, DEFAULT_DYN_BIAS, PAGE_SIZE, USER_SPACE_END};
pub use mapped::{load_mapped, MapTarget};
pub use script::{script_argv, shebang, Shebang, BINPRM_BUF_SIZE};
pub use stack::{arg_limit_for_stack_rlimit, build_stack, StackImage, StackSpec, MAX_ARG_STRLEN};
