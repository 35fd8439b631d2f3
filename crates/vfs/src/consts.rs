//! Linux constants the VFS speaks: file-type bits of `st_mode`, `d_type` values, limits,
//! `lseek` whences, `renameat2` and `umount2` flags.
//!
//! They are the asm-generic values, which riscv64 uses. They live here, not in `abi`, only
//! until the lead unifies the ABI constants; each group names its Linux header.

// include/uapi/linux/stat.h: the file-type field of `st_mode`.
/// Mask of the file-type bits of a mode.
pub const S_IFMT: u32 = 0o170000;
/// Socket.
pub const S_IFSOCK: u32 = 0o140000;
/// Symbolic link.
pub const S_IFLNK: u32 = 0o120000;
/// Regular file.
pub const S_IFREG: u32 = 0o100000;
/// Block device.
pub const S_IFBLK: u32 = 0o060000;
/// Directory.
pub const S_IFDIR: u32 = 0o040000;
/// Character device.
pub const S_IFCHR: u32 = 0o020000;
/// FIFO (named pipe).
pub const S_IFIFO: u32 = 0o010000;
/// Permission bits plus set-user-ID, set-group-ID and sticky: what `chmod` may change.
pub const PERMISSION_BITS: u32 = 0o7777;

// include/linux/fs_types.h: `d_type` of `struct linux_dirent64`.
/// Unknown type.
pub const DT_UNKNOWN: u8 = 0;
/// FIFO.
pub const DT_FIFO: u8 = 1;
/// Character device.
pub const DT_CHR: u8 = 2;
/// Directory.
pub const DT_DIR: u8 = 4;
/// Block device.
pub const DT_BLK: u8 = 6;
/// Regular file.
pub const DT_REG: u8 = 8;
/// Symbolic link.
pub const DT_LNK: u8 = 10;
/// Socket.
pub const DT_SOCK: u8 = 12;

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

// include/uapi/linux/fs.h: `lseek` whence values.
/// Offset is absolute.
pub const SEEK_SET: u32 = 0;
/// Offset is relative to the current position.
pub const SEEK_CUR: u32 = 1;
/// Offset is relative to the end of the file.
pub const SEEK_END: u32 = 2;
/// Next data at or after the offset.
pub const SEEK_DATA: u32 = 3;
/// Next hole at or after the offset.
pub const SEEK_HOLE: u32 = 4;

// include/uapi/linux/fs.h: `renameat2` flags.
/// Fail with `EEXIST` instead of replacing the target.
pub const RENAME_NOREPLACE: u32 = 1;
/// Atomically exchange source and target.
pub const RENAME_EXCHANGE: u32 = 2;
/// Leave a whiteout at the source (overlay file systems; not supported).
pub const RENAME_WHITEOUT: u32 = 4;

// include/linux/fs.h: `umount2` flags.
/// Force the unmount (accepted, ignored).
pub const MNT_FORCE: u32 = 1;
/// Detach now even if busy ("lazy" unmount).
pub const MNT_DETACH: u32 = 2;
/// Mark for expiry (not supported: `EINVAL`).
pub const MNT_EXPIRE: u32 = 4;
/// Do not follow a final symbolic link of the target (handled by the caller's lookup).
pub const UMOUNT_NOFOLLOW: u32 = 8;
