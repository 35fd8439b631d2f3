//! File-system ABI: open/`*at` flags, mode bits, `fcntl` commands, and the structures the
//! file system calls copy out (`stat`, `statx`, `statfs`, `linux_dirent64`, `flock`,
//! `iovec`, `open_how`).
//!
//! riscv64 uses the asm-generic definitions throughout (include/uapi/asm-generic/{fcntl,
//! stat,statfs}.h, include/uapi/linux/{fcntl,stat,fs,mount,openat2}.h). The `O_*` values
//! are the generic ones x86_64 also uses (arm and arm64 differ for `O_DIRECTORY`,
//! `O_NOFOLLOW`, `O_DIRECT`, `O_LARGEFILE`), but `struct stat` is the 128-byte asm-generic
//! layout (`st_mode` before `st_nlink`, `st_nlink` 32-bit, an 8-byte `__pad1` after
//! `st_rdev`), not x86_64's 144-byte one.

use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

// open(2) flags (asm-generic/fcntl.h), octal as in the header.
/// Mask of the access mode.
pub const O_ACCMODE: u32 = 0o3;
/// Open for reading only.
pub const O_RDONLY: u32 = 0o0;
/// Open for writing only.
pub const O_WRONLY: u32 = 0o1;
/// Open for reading and writing.
pub const O_RDWR: u32 = 0o2;
/// Create the file if it does not exist.
pub const O_CREAT: u32 = 0o100;
/// With `O_CREAT`: fail with `EEXIST` if it exists.
pub const O_EXCL: u32 = 0o200;
/// Do not make a terminal the controlling terminal.
pub const O_NOCTTY: u32 = 0o400;
/// Truncate a regular file to length 0.
pub const O_TRUNC: u32 = 0o1000;
/// Every write appends.
pub const O_APPEND: u32 = 0o2000;
/// Non-blocking I/O.
pub const O_NONBLOCK: u32 = 0o4000;
/// Same as `O_NONBLOCK`.
pub const O_NDELAY: u32 = O_NONBLOCK;
/// Synchronised data writes.
pub const O_DSYNC: u32 = 0o10000;
/// Signal-driven I/O (`FASYNC`), settable only through `F_SETFL`.
pub const FASYNC: u32 = 0o20000;
/// Direct I/O hint.
pub const O_DIRECT: u32 = 0o40000;
/// Large-file support; implied on 64-bit (the kernel adds it to every open).
pub const O_LARGEFILE: u32 = 0o100000;
/// Fail with `ENOTDIR` unless the path is a directory.
pub const O_DIRECTORY: u32 = 0o200000;
/// Fail with `ELOOP` if the last component is a symbolic link.
pub const O_NOFOLLOW: u32 = 0o400000;
/// Do not update the access time.
pub const O_NOATIME: u32 = 0o1000000;
/// Close on execve.
pub const O_CLOEXEC: u32 = 0o2000000;
/// The bit that distinguishes `O_SYNC` from `O_DSYNC`.
pub const __O_SYNC: u32 = 0o4000000;
/// Synchronised file integrity writes.
pub const O_SYNC: u32 = __O_SYNC | O_DSYNC;
/// A descriptor for the path only (no I/O).
pub const O_PATH: u32 = 0o10000000;
/// The bit that distinguishes `O_TMPFILE`.
pub const __O_TMPFILE: u32 = 0o20000000;
/// Create an unnamed temporary file in the given directory.
pub const O_TMPFILE: u32 = __O_TMPFILE | O_DIRECTORY;
/// The flags `F_SETFL` may change (Linux's `SETFL_MASK`).
pub const SETFL_MASK: u32 = O_APPEND | O_NONBLOCK | O_NDELAY | FASYNC | O_DIRECT | O_NOATIME;

// *at(2) (include/uapi/linux/fcntl.h).
/// The `dirfd` meaning "the current working directory".
pub const AT_FDCWD: i32 = -100;
/// Do not follow a trailing symbolic link.
pub const AT_SYMLINK_NOFOLLOW: u32 = 0x100;
/// faccessat: check with the effective ids (same value as `AT_REMOVEDIR`).
pub const AT_EACCESS: u32 = 0x200;
/// unlinkat: remove a directory.
pub const AT_REMOVEDIR: u32 = 0x200;
/// linkat: follow a trailing symbolic link.
pub const AT_SYMLINK_FOLLOW: u32 = 0x400;
/// Do not trigger an automount on the last component.
pub const AT_NO_AUTOMOUNT: u32 = 0x800;
/// An empty path means `dirfd` itself.
pub const AT_EMPTY_PATH: u32 = 0x1000;
/// statx: mask of the synchronisation type.
pub const AT_STATX_SYNC_TYPE: u32 = 0x6000;
/// statx: do what stat does.
pub const AT_STATX_SYNC_AS_STAT: u32 = 0x0000;
/// statx: force synchronisation with a remote server.
pub const AT_STATX_FORCE_SYNC: u32 = 0x2000;
/// statx: do not synchronise.
pub const AT_STATX_DONT_SYNC: u32 = 0x4000;
/// Apply to a whole subtree (open_tree, mount_setattr).
pub const AT_RECURSIVE: u32 = 0x8000;

// faccessat modes (unistd.h).
/// Test for existence.
pub const F_OK: u32 = 0;
/// Test for execute/search permission.
pub const X_OK: u32 = 1;
/// Test for write permission.
pub const W_OK: u32 = 2;
/// Test for read permission.
pub const R_OK: u32 = 4;

// renameat2 flags (include/uapi/linux/fs.h).
/// Fail with `EEXIST` instead of replacing the target.
pub const RENAME_NOREPLACE: u32 = 1 << 0;
/// Atomically exchange source and target.
pub const RENAME_EXCHANGE: u32 = 1 << 1;
/// Leave a whiteout at the source (overlay file systems).
pub const RENAME_WHITEOUT: u32 = 1 << 2;

// File mode bits (include/uapi/linux/stat.h), octal.
/// Mask of the file-type bits.
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
/// FIFO.
pub const S_IFIFO: u32 = 0o010000;
/// Set-user-id on execution.
pub const S_ISUID: u32 = 0o4000;
/// Set-group-id on execution.
pub const S_ISGID: u32 = 0o2000;
/// Sticky bit (restricted deletion in directories).
pub const S_ISVTX: u32 = 0o1000;
/// Owner: read, write, execute.
pub const S_IRWXU: u32 = 0o700;
/// Owner read.
pub const S_IRUSR: u32 = 0o400;
/// Owner write.
pub const S_IWUSR: u32 = 0o200;
/// Owner execute.
pub const S_IXUSR: u32 = 0o100;
/// Group: read, write, execute.
pub const S_IRWXG: u32 = 0o070;
/// Group read.
pub const S_IRGRP: u32 = 0o040;
/// Group write.
pub const S_IWGRP: u32 = 0o020;
/// Group execute.
pub const S_IXGRP: u32 = 0o010;
/// Others: read, write, execute.
pub const S_IRWXO: u32 = 0o007;
/// Others read.
pub const S_IROTH: u32 = 0o004;
/// Others write.
pub const S_IWOTH: u32 = 0o002;
/// Others execute.
pub const S_IXOTH: u32 = 0o001;
/// Every permission bit including set-id and sticky (`S_IALLUGO`), what chmod may set.
pub const S_IALLUGO: u32 = S_ISUID | S_ISGID | S_ISVTX | S_IRWXU | S_IRWXG | S_IRWXO;

/// The file type of a mode, as its `DT_*` directory-entry type.
pub const fn dirent_type_of_mode(mode: u32) -> u8 {
    ((mode & S_IFMT) >> 12) as u8
}

// Directory entry types (d_type): the S_IF* type shifted right by 12.
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
/// Whiteout.
pub const DT_WHT: u8 = 14;

// Device numbers.
/// Encodes a device number as glibc's `makedev` and the kernel's `new_encode_dev` do
/// (they agree for every value Linux can hold: 12-bit major, 20-bit minor):
/// minor bits 0-7 in bits 0-7, major in bits 8-19, minor bits 8-19 in bits 20-31, and the
/// high bits above 32 for glibc's wider numbers.
pub const fn encode_dev(major: u32, minor: u32) -> u64 {
    let (major, minor) = (major as u64, minor as u64);
    (minor & 0xff) | ((major & 0xfff) << 8) | ((minor & !0xff) << 12) | ((major & !0xfff) << 32)
}

/// The major number of an encoded device number (glibc's `major`).
pub const fn dev_major(dev: u64) -> u32 {
    (((dev >> 8) & 0xfff) | ((dev >> 32) & !0xfff)) as u32
}

/// The minor number of an encoded device number (glibc's `minor`).
pub const fn dev_minor(dev: u64) -> u32 {
    ((dev & 0xff) | ((dev >> 12) & !0xff)) as u32
}

// fcntl(2) commands (asm-generic/fcntl.h, linux/fcntl.h).
/// Duplicate to the lowest free descriptor >= arg.
pub const F_DUPFD: u32 = 0;
/// Get the descriptor flags (`FD_CLOEXEC`).
pub const F_GETFD: u32 = 1;
/// Set the descriptor flags.
pub const F_SETFD: u32 = 2;
/// Get the file status flags and access mode.
pub const F_GETFL: u32 = 3;
/// Set the file status flags ([`SETFL_MASK`]).
pub const F_SETFL: u32 = 4;
/// Test for a POSIX record lock ([`Flock`]).
pub const F_GETLK: u32 = 5;
/// Acquire or release a record lock without waiting.
pub const F_SETLK: u32 = 6;
/// Acquire or release a record lock, waiting.
pub const F_SETLKW: u32 = 7;
/// Set the owner receiving SIGIO.
pub const F_SETOWN: u32 = 8;
/// Get the owner receiving SIGIO.
pub const F_GETOWN: u32 = 9;
/// Set the signal sent instead of SIGIO.
pub const F_SETSIG: u32 = 10;
/// Get the signal sent instead of SIGIO.
pub const F_GETSIG: u32 = 11;
/// Set the owner (`f_owner_ex`).
pub const F_SETOWN_EX: u32 = 15;
/// Get the owner (`f_owner_ex`).
pub const F_GETOWN_EX: u32 = 16;
/// Get the owner uids.
pub const F_GETOWNER_UIDS: u32 = 17;
/// Open-file-description lock: test.
pub const F_OFD_GETLK: u32 = 36;
/// Open-file-description lock: set without waiting.
pub const F_OFD_SETLK: u32 = 37;
/// Open-file-description lock: set, waiting.
pub const F_OFD_SETLKW: u32 = 38;
/// Base of the Linux-specific commands.
pub const F_LINUX_SPECIFIC_BASE: u32 = 1024;
/// Set a lease.
pub const F_SETLEASE: u32 = F_LINUX_SPECIFIC_BASE;
/// Get the lease.
pub const F_GETLEASE: u32 = F_LINUX_SPECIFIC_BASE + 1;
/// Directory change notification.
pub const F_NOTIFY: u32 = F_LINUX_SPECIFIC_BASE + 2;
/// Cancel a blocking lock.
pub const F_CANCELLK: u32 = F_LINUX_SPECIFIC_BASE + 5;
/// Like `F_DUPFD`, and set `FD_CLOEXEC` on the new descriptor.
pub const F_DUPFD_CLOEXEC: u32 = F_LINUX_SPECIFIC_BASE + 6;
/// Set a pipe's capacity.
pub const F_SETPIPE_SZ: u32 = F_LINUX_SPECIFIC_BASE + 7;
/// Get a pipe's capacity.
pub const F_GETPIPE_SZ: u32 = F_LINUX_SPECIFIC_BASE + 8;
/// Add seals (memfd).
pub const F_ADD_SEALS: u32 = F_LINUX_SPECIFIC_BASE + 9;
/// Get seals (memfd).
pub const F_GET_SEALS: u32 = F_LINUX_SPECIFIC_BASE + 10;
/// The descriptor flag: close on execve.
pub const FD_CLOEXEC: u32 = 1;

// Record lock types (Flock::l_type).
/// Shared (read) lock.
pub const F_RDLCK: i16 = 0;
/// Exclusive (write) lock.
pub const F_WRLCK: i16 = 1;
/// Unlock.
pub const F_UNLCK: i16 = 2;

// flock(2) operations.
/// Shared lock.
pub const LOCK_SH: u32 = 1;
/// Exclusive lock.
pub const LOCK_EX: u32 = 2;
/// Do not block (or'd with the above).
pub const LOCK_NB: u32 = 4;
/// Unlock.
pub const LOCK_UN: u32 = 8;

// lseek(2) whence.
/// Offset from the start of the file.
pub const SEEK_SET: u32 = 0;
/// Offset from the current position.
pub const SEEK_CUR: u32 = 1;
/// Offset from the end of the file.
pub const SEEK_END: u32 = 2;
/// The next data region at or after the offset.
pub const SEEK_DATA: u32 = 3;
/// The next hole at or after the offset.
pub const SEEK_HOLE: u32 = 4;

// utimensat(2) special tv_nsec values.
/// Set the timestamp to the current time.
pub const UTIME_NOW: i64 = (1 << 30) - 1;
/// Leave the timestamp unchanged.
pub const UTIME_OMIT: i64 = (1 << 30) - 2;

// close_range(2) flags (linux/close_range.h).
/// Unshare the descriptor table first.
pub const CLOSE_RANGE_UNSHARE: u32 = 1 << 1;
/// Set close-on-exec instead of closing.
pub const CLOSE_RANGE_CLOEXEC: u32 = 1 << 2;

// mount(2) flags (include/uapi/linux/mount.h). Not to be confused with msync's MS_*.
/// Read-only.
pub const MS_RDONLY: u64 = 1;
/// Ignore set-user-id and set-group-id bits.
pub const MS_NOSUID: u64 = 2;
/// Disallow access to device files.
pub const MS_NODEV: u64 = 4;
/// Disallow program execution.
pub const MS_NOEXEC: u64 = 8;
/// Writes are synced at once.
pub const MS_SYNCHRONOUS: u64 = 16;
/// Change the flags of an existing mount.
pub const MS_REMOUNT: u64 = 32;
/// Allow mandatory locks.
pub const MS_MANDLOCK: u64 = 64;
/// Directory modifications are synchronous.
pub const MS_DIRSYNC: u64 = 128;
/// Do not follow symbolic links.
pub const MS_NOSYMFOLLOW: u64 = 256;
/// Do not update access times.
pub const MS_NOATIME: u64 = 1024;
/// Do not update directory access times.
pub const MS_NODIRATIME: u64 = 2048;
/// Bind mount.
pub const MS_BIND: u64 = 4096;
/// Move a mount.
pub const MS_MOVE: u64 = 8192;
/// Recursive (with `MS_BIND` or the propagation flags).
pub const MS_REC: u64 = 16384;
/// Suppress some kernel messages.
pub const MS_SILENT: u64 = 32768;
/// The file system applies ACLs itself (no umask).
pub const MS_POSIXACL: u64 = 1 << 16;
/// Make unbindable.
pub const MS_UNBINDABLE: u64 = 1 << 17;
/// Make private.
pub const MS_PRIVATE: u64 = 1 << 18;
/// Make a slave.
pub const MS_SLAVE: u64 = 1 << 19;
/// Make shared.
pub const MS_SHARED: u64 = 1 << 20;
/// Update atime relative to mtime/ctime (the default).
pub const MS_RELATIME: u64 = 1 << 21;
/// Always update atime.
pub const MS_STRICTATIME: u64 = 1 << 24;
/// Update timestamps on disk lazily.
pub const MS_LAZYTIME: u64 = 1 << 25;
/// Old magic that callers may still put in the top 16 bits of the flags.
pub const MS_MGC_VAL: u64 = 0xC0ED_0000;
/// Mask of [`MS_MGC_VAL`].
pub const MS_MGC_MSK: u64 = 0xffff_0000;

// umount2(2) flags.
/// Force the unmount even if busy.
pub const MNT_FORCE: u32 = 1;
/// Lazy unmount: detach now, clean up when no longer busy.
pub const MNT_DETACH: u32 = 2;
/// Mark for expiry.
pub const MNT_EXPIRE: u32 = 4;
/// Do not follow a trailing symbolic link.
pub const UMOUNT_NOFOLLOW: u32 = 8;

// statfs f_type values (include/uapi/linux/magic.h).
/// ext2/ext3/ext4.
pub const EXT4_SUPER_MAGIC: i64 = 0xEF53;
/// tmpfs.
pub const TMPFS_MAGIC: i64 = 0x0102_1994;
/// ramfs (also what an initramfs root reports).
pub const RAMFS_MAGIC: i64 = 0x8584_58f6;
/// procfs.
pub const PROC_SUPER_MAGIC: i64 = 0x9fa0;
/// sysfs.
pub const SYSFS_MAGIC: i64 = 0x6265_6572;
/// devpts.
pub const DEVPTS_SUPER_MAGIC: i64 = 0x1cd1;
/// FAT.
pub const MSDOS_SUPER_MAGIC: i64 = 0x4d44;
/// pipefs (fstatfs on a pipe).
pub const PIPEFS_MAGIC: i64 = 0x5049_5045;
/// sockfs.
pub const SOCKFS_MAGIC: i64 = 0x534F_434B;

/// `struct stat` as newfstatat(2) and fstat(2) fill it on riscv64 (asm-generic, 128 bytes).
#[repr(C)]
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Default, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
pub struct Stat {
    /// Device holding the file ([`encode_dev`]).
    pub st_dev: u64,
    /// Inode number.
    pub st_ino: u64,
    /// Type and permission bits.
    pub st_mode: u32,
    /// Number of hard links.
    pub st_nlink: u32,
    /// Owner.
    pub st_uid: u32,
    /// Group.
    pub st_gid: u32,
    /// Device number, for device files.
    pub st_rdev: u64,
    /// Padding.
    pub __pad1: u64,
    /// Size in bytes.
    pub st_size: i64,
    /// Preferred I/O block size.
    pub st_blksize: i32,
    /// Padding.
    pub __pad2: i32,
    /// Number of 512-byte blocks allocated.
    pub st_blocks: i64,
    /// Last access, seconds.
    pub st_atime: i64,
    /// Last access, nanoseconds.
    pub st_atime_nsec: u64,
    /// Last modification, seconds.
    pub st_mtime: i64,
    /// Last modification, nanoseconds.
    pub st_mtime_nsec: u64,
    /// Last status change, seconds.
    pub st_ctime: i64,
    /// Last status change, nanoseconds.
    pub st_ctime_nsec: u64,
    /// Unused.
    pub __unused4: u32,
    /// Unused.
    pub __unused5: u32,
}

// statx(2) masks (include/uapi/linux/stat.h).
/// `stx_mode & S_IFMT`.
pub const STATX_TYPE: u32 = 0x0000_0001;
/// `stx_mode & !S_IFMT`.
pub const STATX_MODE: u32 = 0x0000_0002;
/// `stx_nlink`.
pub const STATX_NLINK: u32 = 0x0000_0004;
/// `stx_uid`.
pub const STATX_UID: u32 = 0x0000_0008;
/// `stx_gid`.
pub const STATX_GID: u32 = 0x0000_0010;
/// `stx_atime`.
pub const STATX_ATIME: u32 = 0x0000_0020;
/// `stx_mtime`.
pub const STATX_MTIME: u32 = 0x0000_0040;
/// `stx_ctime`.
pub const STATX_CTIME: u32 = 0x0000_0080;
/// `stx_ino`.
pub const STATX_INO: u32 = 0x0000_0100;
/// `stx_size`.
pub const STATX_SIZE: u32 = 0x0000_0200;
/// `stx_blocks`.
pub const STATX_BLOCKS: u32 = 0x0000_0400;
/// Everything `struct stat` has.
pub const STATX_BASIC_STATS: u32 = 0x0000_07ff;
/// `stx_btime`.
pub const STATX_BTIME: u32 = 0x0000_0800;
/// `stx_mnt_id`.
pub const STATX_MNT_ID: u32 = 0x0000_1000;
/// `stx_dio_mem_align`, `stx_dio_offset_align`.
pub const STATX_DIOALIGN: u32 = 0x0000_2000;
/// The unique 64-bit `stx_mnt_id` (Linux 6.8).
pub const STATX_MNT_ID_UNIQUE: u32 = 0x0000_4000;
/// `stx_subvol` (Linux 6.10).
pub const STATX_SUBVOL: u32 = 0x0000_8000;
/// `stx_atomic_write_*` (Linux 6.11).
pub const STATX_WRITE_ATOMIC: u32 = 0x0001_0000;
/// Deprecated: `STATX_BASIC_STATS | STATX_BTIME`.
pub const STATX_ALL: u32 = 0x0000_0fff;
/// Reserved: requesting it is `EINVAL`.
pub const STATX__RESERVED: u32 = 0x8000_0000;

// stx_attributes bits.
/// Compressed by the file system.
pub const STATX_ATTR_COMPRESSED: u64 = 0x0000_0004;
/// Immutable.
pub const STATX_ATTR_IMMUTABLE: u64 = 0x0000_0010;
/// Append-only.
pub const STATX_ATTR_APPEND: u64 = 0x0000_0020;
/// Not to be dumped.
pub const STATX_ATTR_NODUMP: u64 = 0x0000_0040;
/// Encrypted.
pub const STATX_ATTR_ENCRYPTED: u64 = 0x0000_0800;
/// An automount trigger.
pub const STATX_ATTR_AUTOMOUNT: u64 = 0x0000_1000;
/// The root of a mount.
pub const STATX_ATTR_MOUNT_ROOT: u64 = 0x0000_2000;
/// fs-verity protected.
pub const STATX_ATTR_VERITY: u64 = 0x0010_0000;
/// In DAX state.
pub const STATX_ATTR_DAX: u64 = 0x0020_0000;
/// Supports atomic writes.
pub const STATX_ATTR_WRITE_ATOMIC: u64 = 0x0040_0000;

/// `struct statx_timestamp` (16 bytes).
#[repr(C)]
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Default, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
pub struct StatxTimestamp {
    /// Seconds since the epoch.
    pub tv_sec: i64,
    /// Nanoseconds.
    pub tv_nsec: u32,
    /// Reserved.
    pub __reserved: i32,
}

/// `struct statx` (256 bytes), with the fields of Linux 6.12.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout)]
pub struct Statx {
    /// `STATX_*` bits of the fields filled in.
    pub stx_mask: u32,
    /// Preferred I/O block size.
    pub stx_blksize: u32,
    /// `STATX_ATTR_*` bits.
    pub stx_attributes: u64,
    /// Number of hard links.
    pub stx_nlink: u32,
    /// Owner.
    pub stx_uid: u32,
    /// Group.
    pub stx_gid: u32,
    /// Type and permission bits.
    pub stx_mode: u16,
    /// Spare.
    pub __spare0: u16,
    /// Inode number.
    pub stx_ino: u64,
    /// Size in bytes.
    pub stx_size: u64,
    /// Number of 512-byte blocks allocated.
    pub stx_blocks: u64,
    /// Which `STATX_ATTR_*` bits the file system supports.
    pub stx_attributes_mask: u64,
    /// Last access.
    pub stx_atime: StatxTimestamp,
    /// Creation.
    pub stx_btime: StatxTimestamp,
    /// Last status change.
    pub stx_ctime: StatxTimestamp,
    /// Last modification.
    pub stx_mtime: StatxTimestamp,
    /// Device number (major) of a device file.
    pub stx_rdev_major: u32,
    /// Device number (minor) of a device file.
    pub stx_rdev_minor: u32,
    /// Major number of the device holding the file.
    pub stx_dev_major: u32,
    /// Minor number of the device holding the file.
    pub stx_dev_minor: u32,
    /// Mount id.
    pub stx_mnt_id: u64,
    /// Direct I/O memory alignment.
    pub stx_dio_mem_align: u32,
    /// Direct I/O file-offset alignment.
    pub stx_dio_offset_align: u32,
    /// Subvolume id.
    pub stx_subvol: u64,
    /// Minimum atomic write size.
    pub stx_atomic_write_unit_min: u32,
    /// Maximum atomic write size.
    pub stx_atomic_write_unit_max: u32,
    /// Maximum atomic write segments.
    pub stx_atomic_write_segments_max: u32,
    /// Spare.
    pub __spare1: u32,
    /// Spare.
    pub __spare3: [u64; 9],
}

impl Default for Statx {
    fn default() -> Self {
        <Statx as zerocopy::FromZeros>::new_zeroed()
    }
}

/// `struct statfs` as statfs(2)/fstatfs(2) fill it on 64-bit asm-generic (120 bytes; the
/// same layout as `statfs64` there).
#[repr(C)]
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Default, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
pub struct StatFs {
    /// File system type ([`EXT4_SUPER_MAGIC`], [`TMPFS_MAGIC`], ...).
    pub f_type: i64,
    /// Optimal transfer block size.
    pub f_bsize: i64,
    /// Total data blocks (in `f_frsize` units).
    pub f_blocks: u64,
    /// Free blocks.
    pub f_bfree: u64,
    /// Free blocks available to unprivileged users.
    pub f_bavail: u64,
    /// Total inodes.
    pub f_files: u64,
    /// Free inodes.
    pub f_ffree: u64,
    /// File system id.
    pub f_fsid: [i32; 2],
    /// Maximum file-name length.
    pub f_namelen: i64,
    /// Fragment size.
    pub f_frsize: i64,
    /// Mount flags (`ST_*`, which equal the matching `MS_*` bits).
    pub f_flags: i64,
    /// Spare.
    pub f_spare: [i64; 4],
}

/// `struct flock` on 64-bit asm-generic (32 bytes): a POSIX record lock for `F_GETLK` and
/// friends.
#[repr(C)]
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Default, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
pub struct Flock {
    /// [`F_RDLCK`], [`F_WRLCK`] or [`F_UNLCK`].
    pub l_type: i16,
    /// `SEEK_*` base of `l_start`.
    pub l_whence: i16,
    /// Padding.
    pub _pad0: u32,
    /// Start of the range.
    pub l_start: i64,
    /// Length of the range; 0 means "to the end of the file".
    pub l_len: i64,
    /// Owner of a conflicting lock (F_GETLK).
    pub l_pid: i32,
    /// Padding.
    pub _pad1: u32,
}

/// `struct iovec` (16 bytes): one buffer of readv/writev.
#[repr(C)]
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Default, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
pub struct Iovec {
    /// User address of the buffer.
    pub iov_base: u64,
    /// Its length.
    pub iov_len: u64,
}

/// The most iovecs one readv/writev may pass (`UIO_MAXIOV`); more is `EINVAL`.
pub const UIO_MAXIOV: usize = 1024;

// openat2 resolve flags (include/uapi/linux/openat2.h).
/// Block mount-point crossings.
pub const RESOLVE_NO_XDEV: u64 = 0x01;
/// Block procfs-style "magic" links.
pub const RESOLVE_NO_MAGICLINKS: u64 = 0x02;
/// Block all symbolic links.
pub const RESOLVE_NO_SYMLINKS: u64 = 0x04;
/// Stay beneath `dirfd`.
pub const RESOLVE_BENEATH: u64 = 0x08;
/// Treat `dirfd` as the root.
pub const RESOLVE_IN_ROOT: u64 = 0x10;
/// Only succeed from the lookup cache.
pub const RESOLVE_CACHED: u64 = 0x20;

/// `struct open_how` (openat2(2), 24 bytes).
#[repr(C)]
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Default, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
pub struct OpenHow {
    /// `O_*` flags.
    pub flags: u64,
    /// Mode for `O_CREAT`/`O_TMPFILE`.
    pub mode: u64,
    /// `RESOLVE_*` flags.
    pub resolve: u64,
}

/// The fixed part of `struct linux_dirent64` as getdents64(2) writes it: 19 bytes, followed
/// by the NUL-terminated name and padding up to `d_reclen` (a multiple of 8).
#[repr(C, packed)]
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Default, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
pub struct Dirent64Header {
    /// Inode number.
    pub d_ino: u64,
    /// Opaque position of the *next* entry, for lseek/telldir.
    pub d_off: i64,
    /// Length of this record, header and name and padding.
    pub d_reclen: u16,
    /// `DT_*` type.
    pub d_type: u8,
}

impl Dirent64Header {
    /// Offset of `d_name` in the record.
    pub const NAME_OFFSET: usize = core::mem::size_of::<Dirent64Header>();

    /// The record length Linux uses for a name of `name_len` bytes:
    /// `ALIGN(offsetof(d_name) + name_len + 1, 8)`.
    pub const fn record_len(name_len: usize) -> usize {
        (Self::NAME_OFFSET + name_len + 1 + 7) & !7
    }
}

/// Writes one `linux_dirent64` record at the start of `buf`: header, `name`, a NUL and zero
/// padding. Returns the record length, or `None` if it does not fit (getdents64 then stops
/// and returns what it has, or `EINVAL` if not even the first entry fits).
pub fn write_dirent64(
    buf: &mut [u8],
    ino: u64,
    next_off: i64,
    d_type: u8,
    name: &[u8],
) -> Option<usize> {
    let record_len = Dirent64Header::record_len(name.len());
    let d_reclen = u16::try_from(record_len).ok()?;
    let record = buf.get_mut(..record_len)?;
    let header = Dirent64Header {
        d_ino: ino,
        d_off: next_off,
        d_reclen,
        d_type,
    };
    let (head, rest) = record.split_at_mut(Dirent64Header::NAME_OFFSET);
    head.copy_from_slice(header.as_bytes());
    let (name_bytes, padding) = rest.split_at_mut(name.len());
    name_bytes.copy_from_slice(name);
    padding.fill(0);
    Some(record_len)
}

/// One record read back from a getdents64 buffer (by [`Dirent64Iter`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Dirent64<'a> {
    /// Inode number.
    pub ino: u64,
    /// Position of the next entry.
    pub next_off: i64,
    /// `DT_*` type.
    pub d_type: u8,
    /// The name, without the NUL.
    pub name: &'a [u8],
}

/// Iterates over the records of a getdents64 buffer; stops at the first malformed record.
#[derive(Clone, Debug)]
pub struct Dirent64Iter<'a> {
    rest: &'a [u8],
}

impl<'a> Dirent64Iter<'a> {
    /// Iterates over the records in `buf` (the bytes getdents64 reported).
    pub fn new(buf: &'a [u8]) -> Self {
        Dirent64Iter { rest: buf }
    }
}

impl<'a> Iterator for Dirent64Iter<'a> {
    type Item = Dirent64<'a>;

    fn next(&mut self) -> Option<Dirent64<'a>> {
        let (header, _) = Dirent64Header::read_from_prefix(self.rest).ok()?;
        let record_len = usize::from(header.d_reclen);
        if record_len < Dirent64Header::NAME_OFFSET + 1 || record_len > self.rest.len() {
            self.rest = &[];
            return None;
        }
        let (record, rest) = self.rest.split_at(record_len);
        self.rest = rest;
        let name_area = &record[Dirent64Header::NAME_OFFSET..];
        let name_len = name_area
            .iter()
            .position(|&byte| byte == 0)
            .unwrap_or(name_area.len());
        Some(Dirent64 {
            ino: header.d_ino,
            next_off: header.d_off,
            d_type: header.d_type,
            name: &name_area[..name_len],
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::mem::{offset_of, size_of};

    #[test]
    fn flags_match_asm_generic() {
        assert_eq!(O_CREAT, 0x40);
        assert_eq!(O_TRUNC, 0x200);
        assert_eq!(O_APPEND, 0x400);
        assert_eq!(O_NONBLOCK, 0x800);
        assert_eq!(O_DIRECTORY, 0x10000);
        assert_eq!(O_NOFOLLOW, 0x20000);
        assert_eq!(O_CLOEXEC, 0x80000);
        assert_eq!(O_PATH, 0x200000);
        assert_eq!(O_LARGEFILE, 0x8000);
        assert_eq!(O_SYNC, 0x101000);
        assert_eq!(O_TMPFILE, 0x410000);
        assert_eq!(AT_FDCWD, -100);
        assert_eq!(AT_EMPTY_PATH, 0x1000);
        assert_eq!(F_DUPFD_CLOEXEC, 1030);
        assert_eq!(F_GETPIPE_SZ, 1032);
        assert_eq!(S_IFDIR, 0x4000);
        assert_eq!(UTIME_NOW, 0x3fff_ffff);
        assert_eq!(UTIME_OMIT, 0x3fff_fffe);
        assert_eq!(dirent_type_of_mode(S_IFDIR | 0o755), DT_DIR);
        assert_eq!(dirent_type_of_mode(S_IFLNK), DT_LNK);
        assert_eq!(dirent_type_of_mode(S_IFSOCK), DT_SOCK);
        assert_eq!(dirent_type_of_mode(S_IFREG), DT_REG);
        assert_eq!(MS_BIND, 4096);
        assert_eq!(MS_REC, 16384);
    }

    #[test]
    fn device_numbers() {
        // /dev/ttyS0 is 4:64, /dev/vda is 254:0, /dev/null is 1:3.
        assert_eq!(encode_dev(4, 64), 0x440);
        assert_eq!(encode_dev(1, 3), 0x103);
        assert_eq!(encode_dev(254, 0), 0xfe00);
        // A minor above 255 moves to bits 20..: new_encode_dev(MKDEV(8, 256)).
        assert_eq!(encode_dev(8, 256), 0x10_0800);
        for (major, minor) in [(0, 0), (4, 64), (259, 1 << 19), (4095, (1 << 20) - 1)] {
            let dev = encode_dev(major, minor);
            assert_eq!((dev_major(dev), dev_minor(dev)), (major, minor));
        }
    }

    #[test]
    fn stat_layout() {
        assert_eq!(size_of::<Stat>(), 128);
        assert_eq!(offset_of!(Stat, st_ino), 8);
        assert_eq!(offset_of!(Stat, st_mode), 16);
        assert_eq!(offset_of!(Stat, st_nlink), 20);
        assert_eq!(offset_of!(Stat, st_uid), 24);
        assert_eq!(offset_of!(Stat, st_gid), 28);
        assert_eq!(offset_of!(Stat, st_rdev), 32);
        assert_eq!(offset_of!(Stat, st_size), 48);
        assert_eq!(offset_of!(Stat, st_blksize), 56);
        assert_eq!(offset_of!(Stat, st_blocks), 64);
        assert_eq!(offset_of!(Stat, st_atime), 72);
        assert_eq!(offset_of!(Stat, st_mtime), 88);
        assert_eq!(offset_of!(Stat, st_ctime), 104);
        assert_eq!(offset_of!(Stat, __unused4), 120);
    }

    #[test]
    fn statx_layout() {
        assert_eq!(size_of::<StatxTimestamp>(), 16);
        assert_eq!(size_of::<Statx>(), 256);
        assert_eq!(offset_of!(Statx, stx_attributes), 0x08);
        assert_eq!(offset_of!(Statx, stx_nlink), 0x10);
        assert_eq!(offset_of!(Statx, stx_mode), 0x1c);
        assert_eq!(offset_of!(Statx, stx_ino), 0x20);
        assert_eq!(offset_of!(Statx, stx_size), 0x28);
        assert_eq!(offset_of!(Statx, stx_blocks), 0x30);
        assert_eq!(offset_of!(Statx, stx_atime), 0x40);
        assert_eq!(offset_of!(Statx, stx_btime), 0x50);
        assert_eq!(offset_of!(Statx, stx_ctime), 0x60);
        assert_eq!(offset_of!(Statx, stx_mtime), 0x70);
        assert_eq!(offset_of!(Statx, stx_rdev_major), 0x80);
        assert_eq!(offset_of!(Statx, stx_dev_major), 0x88);
        assert_eq!(offset_of!(Statx, stx_mnt_id), 0x90);
        assert_eq!(offset_of!(Statx, stx_dio_mem_align), 0x98);
        assert_eq!(offset_of!(Statx, stx_subvol), 0xa0);
        assert_eq!(offset_of!(Statx, stx_atomic_write_unit_min), 0xa8);
        assert_eq!(offset_of!(Statx, stx_atomic_write_segments_max), 0xb0);
        assert_eq!(offset_of!(Statx, __spare3), 0xb8);
        assert_eq!(STATX_BASIC_STATS, 0x7ff);
    }

    #[test]
    fn other_layouts() {
        assert_eq!(size_of::<StatFs>(), 120);
        assert_eq!(offset_of!(StatFs, f_fsid), 56);
        assert_eq!(offset_of!(StatFs, f_namelen), 64);
        assert_eq!(offset_of!(StatFs, f_frsize), 72);
        assert_eq!(offset_of!(StatFs, f_flags), 80);
        assert_eq!(offset_of!(StatFs, f_spare), 88);
        assert_eq!(size_of::<Flock>(), 32);
        assert_eq!(offset_of!(Flock, l_whence), 2);
        assert_eq!(offset_of!(Flock, l_start), 8);
        assert_eq!(offset_of!(Flock, l_len), 16);
        assert_eq!(offset_of!(Flock, l_pid), 24);
        assert_eq!(size_of::<Iovec>(), 16);
        assert_eq!(size_of::<OpenHow>(), 24);
        assert_eq!(size_of::<Dirent64Header>(), 19);
        assert_eq!(offset_of!(Dirent64Header, d_off), 8);
        assert_eq!(offset_of!(Dirent64Header, d_reclen), 16);
        assert_eq!(offset_of!(Dirent64Header, d_type), 18);
    }

    #[test]
    fn dirent_serialisation() {
        // Linux: reclen = ALIGN(19 + namelen + 1, 8): "." -> 24, "a.out" (5) -> 32,
        // a 4-byte name -> 24 (exactly), a 5..12-byte name -> 32.
        assert_eq!(Dirent64Header::record_len(1), 24);
        assert_eq!(Dirent64Header::record_len(4), 24);
        assert_eq!(Dirent64Header::record_len(5), 32);
        assert_eq!(Dirent64Header::record_len(12), 32);
        assert_eq!(Dirent64Header::record_len(13), 40);
        assert_eq!(Dirent64Header::record_len(255), 280);

        let mut buf = [0xaau8; 64];
        let first = write_dirent64(&mut buf, 2, 1, DT_DIR, b".").unwrap();
        assert_eq!(first, 24);
        assert_eq!(&buf[..8], &2u64.to_ne_bytes());
        assert_eq!(&buf[8..16], &1i64.to_ne_bytes());
        assert_eq!(&buf[16..18], &24u16.to_ne_bytes());
        assert_eq!(buf[18], DT_DIR);
        assert_eq!(&buf[19..24], b".\0\0\0\0");
        let second = write_dirent64(&mut buf[first..], 12, 2, DT_REG, b"hello").unwrap();
        assert_eq!(second, 32);
        // The third does not fit in the 8 bytes left.
        assert_eq!(
            write_dirent64(&mut buf[first + second..], 13, 3, DT_REG, b"x"),
            None
        );

        let entries: Vec<_> = Dirent64Iter::new(&buf[..first + second]).collect();
        assert_eq!(
            entries,
            [
                Dirent64 {
                    ino: 2,
                    next_off: 1,
                    d_type: DT_DIR,
                    name: b"."
                },
                Dirent64 {
                    ino: 12,
                    next_off: 2,
                    d_type: DT_REG,
                    name: b"hello"
                },
            ]
        );
        assert_eq!(Dirent64Iter::new(&[0u8; 10]).count(), 0);
        assert_eq!(
            Dirent64Iter::new(&[0u8; 32]).count(),
            0,
            "a zero reclen stops the walk"
        );
    }
}
