//! The loader's error: an errno for user space plus a fixed, human-readable reason for
//! the kernel log. Everything wrong with the file itself is `ENOEXEC`, as on Linux;
//! failures of the [`crate::LoadTarget`] keep the errno the target returned.

use abi::Errno;
use core::fmt;

/// Why an image could not be parsed or loaded.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct LoadError {
    errno: Errno,
    reason: &'static str,
}

impl LoadError {
    /// The file is not a loadable riscv64 ELF image (`ENOEXEC`).
    pub const fn malformed(reason: &'static str) -> Self {
        Self {
            errno: Errno::ENOEXEC,
            reason,
        }
    }

    /// A failure with a specific errno (the target's, or `EINVAL` for a caller mistake).
    pub const fn with_errno(errno: Errno, reason: &'static str) -> Self {
        Self { errno, reason }
    }

    /// What execve returns to user space.
    pub const fn errno(&self) -> Errno {
        self.errno
    }

    /// What went wrong, for the kernel log.
    pub const fn reason(&self) -> &'static str {
        self.reason
    }
}

impl From<LoadError> for Errno {
    fn from(error: LoadError) -> Errno {
        error.errno
    }
}

impl From<Errno> for LoadError {
    fn from(errno: Errno) -> LoadError {
        LoadError::with_errno(errno, "the load target failed")
    }
}

impl fmt::Debug for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "LoadError({:?}: {})", self.errno, self.reason)
    }
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.reason, self.errno)
    }
}
