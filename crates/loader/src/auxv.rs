//! The ELF auxiliary vector: the `AT_*` keys (Linux include/uapi/linux/auxvec.h and
//! asm/auxvec.h; local until the abi crate has them) and [`auxv_for`], which produces
//! the entries Linux's `create_elf_tables` writes, in the same order. AT_RANDOM,
//! AT_EXECFN and AT_PLATFORM point into the stack and are added by
//! [`crate::build_stack`].

use crate::load::{Loaded, PAGE_SIZE};
use alloc::vec::Vec;

/// End of the vector.
pub const AT_NULL: u64 = 0;
/// Entry to be ignored.
pub const AT_IGNORE: u64 = 1;
/// File descriptor of the program (binfmt_misc).
pub const AT_EXECFD: u64 = 2;
/// Address of the program headers.
pub const AT_PHDR: u64 = 3;
/// Size of one program header.
pub const AT_PHENT: u64 = 4;
/// Number of program headers.
pub const AT_PHNUM: u64 = 5;
/// Page size.
pub const AT_PAGESZ: u64 = 6;
/// Base address of the interpreter (0 without one).
pub const AT_BASE: u64 = 7;
/// Flags (0).
pub const AT_FLAGS: u64 = 8;
/// Entry point of the program.
pub const AT_ENTRY: u64 = 9;
/// The program is not ELF.
pub const AT_NOTELF: u64 = 10;
/// Real user id.
pub const AT_UID: u64 = 11;
/// Effective user id.
pub const AT_EUID: u64 = 12;
/// Real group id.
pub const AT_GID: u64 = 13;
/// Effective group id.
pub const AT_EGID: u64 = 14;
/// Address of the platform string.
pub const AT_PLATFORM: u64 = 15;
/// Hardware capabilities (on riscv64: one bit per single-letter ISA extension).
pub const AT_HWCAP: u64 = 16;
/// Frequency of `times(2)` ticks.
pub const AT_CLKTCK: u64 = 17;
/// Secure mode (setuid and friends).
pub const AT_SECURE: u64 = 23;
/// Address of the base platform string.
pub const AT_BASE_PLATFORM: u64 = 24;
/// Address of 16 random bytes.
pub const AT_RANDOM: u64 = 25;
/// More hardware capabilities.
pub const AT_HWCAP2: u64 = 26;
/// rseq: supported feature size.
pub const AT_RSEQ_FEATURE_SIZE: u64 = 27;
/// rseq: required alignment.
pub const AT_RSEQ_ALIGN: u64 = 28;
/// Address of the filename the program was executed by.
pub const AT_EXECFN: u64 = 31;
/// Address of the vDSO's ELF header.
pub const AT_SYSINFO_EHDR: u64 = 33;
/// Minimal signal stack size.
pub const AT_MINSIGSTKSZ: u64 = 51;

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
