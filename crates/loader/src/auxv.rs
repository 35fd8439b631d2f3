//! The ELF auxiliary vector: the `AT_*` keys (Linux include/uapi/linux/auxvec.h and
//! asm/auxvec.h; local until the abi crate has them) and [`auxv_for`], which produces
//! the entries Linux's `create_elf_tables` writes, in the same order. AT_RANDOM,
//! AT_EXECFN and AT_PLATFORM point into the stack and are added by
//! [`crate::build_stack`].

pub use abi::process::{
    AT_NULL, AT_IGNORE, AT_EXECFD, AT_PHDR, AT_PHENT, AT_PHNUM, AT_PAGESZ, AT_BASE, AT_FLAGS, AT_ENTRY, AT_NOTELF, AT_UID, AT_EUID, AT_GID, AT_EGID, AT_PLATFORM, AT_HWCAP, AT_CLKTCK, AT_SECURE, AT_BASE_PLATFORM, AT_RANDOM, AT_HWCAP2, AT_RSEQ_FEATURE_SIZE, AT_RSEQ_ALIGN, AT_EXECFN, AT_SYSINFO_EHDR, AT_MINSIGSTKSZ,
};

use crate::load::{Loaded, PAGE_SIZE};
use alloc::vec::Vec;

/// `times(2)` ticks per second on Linux (`USER_HZ`).
pub const USER_HZ: u64 = 100;

/// The standard auxv entries for a loaded main program, in Linux's order: AT_HWCAP,
/// AT_PAGESZ, AT_CLKTCK, AT_PHDR, AT_PHENT, AT_PHNUM, AT_BASE, AT_FLAGS, AT_ENTRY,
/// AT_UID, AT_EUID, AT_GID, AT_EGID, AT_SECURE. `interp_base` is the interpreter's
/// bias (0 without one); `clock_ticks` is normally [`USER_HZ`]. The real and effective
/// ids are the same, and AT_SECURE is 0 (no setuid exec). Not terminated: pass it to
/// [`crate::build_stack`], which appends AT_RANDOM, AT_EXECFN, AT_PLATFORM and AT_NULL.
pub fn auxv_for(
    program: &Loaded,
    interp_base: u64,
    uid: u32,
    gid: u32,
    hwcap: u64,
    clock_ticks: u64,
) -> Vec<(u64, u64)> {
    Vec::from([
        (AT_HWCAP, hwcap),
        (AT_PAGESZ, PAGE_SIZE),
        (AT_CLKTCK, clock_ticks),
        (AT_PHDR, program.phdr),
        (AT_PHENT, u64::from(program.phent)),
        (AT_PHNUM, u64::from(program.phnum)),
        (AT_BASE, interp_base),
        (AT_FLAGS, 0),
        (AT_ENTRY, program.entry),
        (AT_UID, u64::from(uid)),
        (AT_EUID, u64::from(uid)),
        (AT_GID, u64::from(gid)),
        (AT_EGID, u64::from(gid)),
        (AT_SECURE, 0),
    ])
}
