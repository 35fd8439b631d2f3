//! The Linux riscv64 system-call ABI as coros speaks it: system-call numbers, errno values,
//! flag bits and the `#[repr(C)]` structures user space passes in and out.
//!
//! Linux is the specification: every number and layout here is taken from Linux's uapi
//! headers for riscv64 (LP64, asm-generic) and the structure sizes and field offsets are
//! asserted in tests, so the kernel can copy these structures to and from user memory as
//! plain bytes (they derive zerocopy's `FromBytes`/`IntoBytes`). The crate holds data and
//! pure helpers only; it has no `unsafe` and no dependency on the rest of the kernel.
//!
//! Constants live in their module (`abi::fs::O_CREAT`, `abi::signal::SA_RESTART`); the
//! main types are re-exported here.
#![cfg_attr(not(test), no_std)]
#![deny(unsafe_code)]

mod errno;
pub mod fs;
pub mod ioctl;
pub mod mm;
pub mod poll;
pub mod process;
pub mod signal;
pub mod syscall;
pub mod termios;
pub mod time;

pub use errno::{Errno, Result};
pub use fs::{Dirent64Header, Flock, Iovec, OpenHow, Stat, StatFs, Statx, StatxTimestamp};
pub use poll::{EpollEvent, FdSet, PollFd};
pub use process::{CloneArgs, Rlimit, RobustListHead, Rusage, Sysinfo, Utsname, WaitStatus};
pub use signal::{
    DefaultAction, RtSigFrame, SigAction, SigContext, SigInfo, SigSet, Signal, StackT, UContext,
    UserRegs,
};
pub use termios::{Termios, WinSize};
pub use time::{Itimerspec, Itimerval, Timespec, Timeval, Tms};
