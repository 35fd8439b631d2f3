//! `open(2)` flags (asm-generic values, which riscv64 uses) as a small newtype.
//!
//! The kernel passes the user's flags straight in; the VFS reads the access mode and the
//! bits that change how a file is opened or accessed. Kept local to this crate until the
//! ABI constants are unified.

use core::ops::{BitOr, BitOrAssign};

/// Flags of `open`/`openat`, `pipe2` and `fcntl(F_SETFL)`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct OpenFlags(pub u32);

impl OpenFlags {
    /// Open for reading only.
    pub const RDONLY: OpenFlags = OpenFlags(0);
    /// Open for writing only.
    pub const WRONLY: OpenFlags = OpenFlags(0o1);
    /// Open for reading and writing.
    pub const RDWR: OpenFlags = OpenFlags(0o2);
    /// Mask of the access mode.
    pub const ACCMODE: OpenFlags = OpenFlags(0o3);
    /// Create the file if it does not exist.
    pub const CREAT: OpenFlags = OpenFlags(0o100);
    /// With `CREAT`: fail with `EEXIST` if it exists.
    pub const EXCL: OpenFlags = OpenFlags(0o200);
    /// Do not make a terminal the controlling terminal.
    pub const NOCTTY: OpenFlags = OpenFlags(0o400);
    /// Truncate a regular file to length 0.
    pub const TRUNC: OpenFlags = OpenFlags(0o1000);
    /// Every write goes to the end of the file.
    pub const APPEND: OpenFlags = OpenFlags(0o2000);
    /// Operations that would block fail with `EAGAIN`.
    pub const NONBLOCK: OpenFlags = OpenFlags(0o4000);
    /// Synchronised data writes.
    pub const DSYNC: OpenFlags = OpenFlags(0o10000);
    /// Signal-driven I/O.
    pub const ASYNC: OpenFlags = OpenFlags(0o20000);
    /// Direct I/O.
    pub const DIRECT: OpenFlags = OpenFlags(0o40000);
    /// Large-file support (always on for 64-bit).
    pub const LARGEFILE: OpenFlags = OpenFlags(0o100000);
    /// Fail with `ENOTDIR` unless the path names a directory.
    pub const DIRECTORY: OpenFlags = OpenFlags(0o200000);
    /// Do not follow a final symbolic link (`ELOOP` if it is one).
    pub const NOFOLLOW: OpenFlags = OpenFlags(0o400000);
    /// Do not update the access time.
    pub const NOATIME: OpenFlags = OpenFlags(0o1000000);
    /// Close on `execve` (a descriptor flag, not kept in the open file).
    pub const CLOEXEC: OpenFlags = OpenFlags(0o2000000);
    /// Synchronised writes.
    pub const SYNC: OpenFlags = OpenFlags(0o4010000);
    /// A location-only descriptor: no reads or writes.
    pub const PATH: OpenFlags = OpenFlags(0o10000000);
    /// An unnamed temporary file (not supported).
    pub const TMPFILE: OpenFlags = OpenFlags(0o20200000);

    /// The status flags `fcntl(F_SETFL)` may change.
    pub const SETFL_MASK: OpenFlags = OpenFlags(
        Self::APPEND.0 | Self::NONBLOCK.0 | Self::ASYNC.0 | Self::DIRECT.0 | Self::NOATIME.0,
    );

    /// Whether every bit of `other` is set (for multi-bit flags such as `SYNC`/`TMPFILE`).
    pub const fn contains(self, other: OpenFlags) -> bool {
        self.0 & other.0 == other.0
    }

    /// The access mode bits (`RDONLY`, `WRONLY` or `RDWR`; 3 is Linux's "no access").
    pub const fn access_mode(self) -> u32 {
        self.0 & Self::ACCMODE.0
    }

    /// Whether the access mode allows reading.
    pub const fn readable(self) -> bool {
        !self.contains(Self::PATH) && matches!(self.access_mode(), 0 | 2)
    }

    /// Whether the access mode allows writing.
    pub const fn writable(self) -> bool {
        !self.contains(Self::PATH) && matches!(self.access_mode(), 1 | 2)
    }

    /// These flags without the bits of `other`.
    pub const fn without(self, other: OpenFlags) -> OpenFlags {
        OpenFlags(self.0 & !other.0)
    }
}

impl BitOr for OpenFlags {
    type Output = OpenFlags;
    fn bitor(self, rhs: OpenFlags) -> OpenFlags {
        OpenFlags(self.0 | rhs.0)
    }
}

impl BitOrAssign for OpenFlags {
    fn bitor_assign(&mut self, rhs: OpenFlags) {
        self.0 |= rhs.0;
    }
}
