//! Linux constants the VFS speaks: file-type bits of `st_mode`, `d_type` values, limits,
//! `lseek` whences, `renameat2` and `umount2` flags.
//!
//! The ABI values come from `abi` (one definition, checked against Linux's headers);
//! the limits and `umount2` flags the VFS alone uses are defined here.

// include/uapi/linux/stat.h: the file-type field of `st_mode`.
pub use abi::fs::{S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO, S_IFLNK, S_IFMT, S_IFREG, S_IFSOCK};

/// Permission bits plus set-user-ID, set-group-ID and sticky: what `chmod` may change.
pub const PERMISSION_BITS: u32 = 0o7777;

// include/linux/fs_types.h: `d_type` of `struct linux_dirent64`.
pub use abi::fs::{DT_BLK, DT_CHR, DT_DIR, DT_FIFO, DT_LNK, DT_REG, DT_SOCK, DT_UNKNOWN};

// include/uapi/linux/limits.h and include/linux/namei.h.
/// Longest file-name component, in bytes.
pub const NAME_MAX: usize = 255;
/// Size of the longest path including its NUL: a path of `PATH_MAX` bytes or more is
/// `ENAMETOOLONG`.
pub const PATH_MAX: usize = 4096;
/// Symbolic links one path resolution may follow before `ELOOP` (`MAXSYMLINKS`).
pub const MAX_SYMLINKS: usize = 40;
/// Pipe writes of at most this many bytes are atomic.
pub const PIPE_BUF: usize = 4096;
/// Bytes a pipe buffers (Linux's default of 16 pages).
pub const PIPE_CAPACITY: usize = 65536;

// include/uapi/linux/fs.h: `lseek` whence values and `renameat2` flags.
pub use abi::fs::{RENAME_EXCHANGE, RENAME_NOREPLACE, RENAME_WHITEOUT, SEEK_CUR, SEEK_DATA, SEEK_END, SEEK_HOLE, SEEK_SET};

// include/linux/fs.h: `umount2` flags.
/// Force the unmount (accepted, ignored).
pub const MNT_FORCE: u32 = 1;
/// Detach now even if busy ("lazy" unmount).
pub const MNT_DETACH: u32 = 2;
/// Mark for expiry (not supported: `EINVAL`).
pub const MNT_EXPIRE: u32 = 4;
/// Do not follow a final symbolic link of the target (handled by the caller's lookup).
pub const UMOUNT_NOFOLLOW: u32 = 8;
