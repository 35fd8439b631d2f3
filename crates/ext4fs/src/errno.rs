//! rsext4's error kinds as the errno Linux's ext4 returns for the same condition.
//!
//! Corruption and checksum failures become `EUCLEAN` (Linux's `EFSCORRUPTED`); a device
//! failure is `EIO`; an aborted journal is `EROFS`, as after Linux's `errors=remount-ro`.

use abi::Errno;
use rsext4::{Ext4Error, Ext4ErrorKind};

/// The errno for an rsext4 error.
pub(crate) fn errno(error: Ext4Error) -> Errno {
    match error.kind() {
        Ext4ErrorKind::Io => Errno::EIO,
        Ext4ErrorKind::Corrupted | Ext4ErrorKind::ChecksumMismatch | Ext4ErrorKind::BadSuperblock => Errno::EUCLEAN,
        Ext4ErrorKind::InvalidMagic | Ext4ErrorKind::UnsupportedFeature | Ext4ErrorKind::InvalidInput => Errno::EINVAL,
        Ext4ErrorKind::UnsupportedCapability | Ext4ErrorKind::Unsupported => Errno::EOPNOTSUPP,
        Ext4ErrorKind::ReadOnly | Ext4ErrorKind::JournalAborted => Errno::EROFS,
        Ext4ErrorKind::NoSpace => Errno::ENOSPC,
        Ext4ErrorKind::NoMemory => Errno::ENOMEM,
        Ext4ErrorKind::QuotaExceeded => Errno::EDQUOT,
        Ext4ErrorKind::TooManyLinks => Errno::EMLINK,
        Ext4ErrorKind::PermissionDenied => Errno::EPERM,
        Ext4ErrorKind::NotFound => Errno::ENOENT,
        Ext4ErrorKind::AlreadyExists => Errno::EEXIST,
        Ext4ErrorKind::NotDirectory => Errno::ENOTDIR,
        Ext4ErrorKind::IsDirectory => Errno::EISDIR,
        Ext4ErrorKind::NotEmpty => Errno::ENOTEMPTY,
        Ext4ErrorKind::Busy => Errno::EBUSY,
        Ext4ErrorKind::BadFileDescriptor => Errno::EBADF,
        Ext4ErrorKind::Overflow | Ext4ErrorKind::FileTooLarge => Errno::EFBIG,
        Ext4ErrorKind::Timeout => Errno::ETIMEDOUT,
    }
}

/// `Result<T, Ext4Error>` → `Result<T, Errno>`.
pub(crate) trait IntoErrno<T> {
    fn errno(self) -> Result<T, Errno>;
}

impl<T> IntoErrno<T> for Result<T, Ext4Error> {
    fn errno(self) -> Result<T, Errno> {
        self.map_err(errno)
    }
}
