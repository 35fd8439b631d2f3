//! The plain data the VFS passes around: file types, timestamps, `stat`-like metadata,
//! directory entries, poll events and device numbers.
//!
//! They are deliberately independent of any file system so that tmpfs, devices, pipes and
//! later disk file systems all describe themselves the same way; the kernel turns
//! [`Metadata`] into `struct stat`/`statx` and [`DirEntry`] into `linux_dirent64`.

use alloc::vec::Vec;
use core::ops::{BitAnd, BitOr, BitOrAssign};

use crate::consts::*;

/// The kind of an inode (the `S_IFMT` part of a mode).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FileType {
    /// A regular file.
    Regular,
    /// A directory.
    Directory,
    /// A symbolic link.
    Symlink,
    /// A character device node.
    CharDevice,
    /// A block device node.
    BlockDevice,
    /// A FIFO (named pipe), or an anonymous pipe end.
    Fifo,
    /// A Unix-domain socket node.
    Socket,
}

impl FileType {
    /// The type encoded in the `S_IFMT` bits of `mode`, if valid.
    pub const fn from_mode(mode: u32) -> Option<FileType> {
        match mode & S_IFMT {
            S_IFREG => Some(FileType::Regular),
            S_IFDIR => Some(FileType::Directory),
            S_IFLNK => Some(FileType::Symlink),
            S_IFCHR => Some(FileType::CharDevice),
            S_IFBLK => Some(FileType::BlockDevice),
            S_IFIFO => Some(FileType::Fifo),
            S_IFSOCK => Some(FileType::Socket),
            _ => None,
        }
    }

    /// The `S_IFMT` bits of this type.
    pub const fn mode_bits(self) -> u32 {
        match self {
            FileType::Regular => S_IFREG,
            FileType::Directory => S_IFDIR,
            FileType::Symlink => S_IFLNK,
            FileType::CharDevice => S_IFCHR,
            FileType::BlockDevice => S_IFBLK,
            FileType::Fifo => S_IFIFO,
            FileType::Socket => S_IFSOCK,
        }
    }

    /// The `d_type` value `getdents64` reports for this type.
    pub const fn dirent_type(self) -> u8 {
        match self {
            FileType::Regular => DT_REG,
            FileType::Directory => DT_DIR,
            FileType::Symlink => DT_LNK,
            FileType::CharDevice => DT_CHR,
            FileType::BlockDevice => DT_BLK,
            FileType::Fifo => DT_FIFO,
            FileType::Socket => DT_SOCK,
        }
    }

    /// Whether this is a device node (character or block).
    pub const fn is_device(self) -> bool {
        matches!(self, FileType::CharDevice | FileType::BlockDevice)
    }
}

/// A point in time as Linux stores it: seconds since the epoch and nanoseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp {
    /// Seconds since 1970-01-01 UTC (may be negative).
    pub sec: i64,
    /// Nanoseconds within the second, below 1,000,000,000.
    pub nsec: u32,
}

impl Timestamp {
    /// A timestamp of `sec` seconds and `nsec` nanoseconds.
    pub const fn new(sec: i64, nsec: u32) -> Self {
        Self { sec, nsec }
    }
}

impl From<(i64, u32)> for Timestamp {
    fn from((sec, nsec): (i64, u32)) -> Self {
        Self { sec, nsec }
    }
}

/// The wall clock a file system stamps inodes with: `(seconds, nanoseconds)` since the epoch.
pub type Clock = fn() -> (i64, u32);

/// How `set_times` changes one timestamp (`utimensat`'s `UTIME_OMIT` / `UTIME_NOW`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SetTime {
    /// Leave it unchanged.
    Omit,
    /// Set it to the file system's clock.
    Now,
    /// Set it to this time.
    At(Timestamp),
}

/// What `stat` reports about an inode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Metadata {
    /// Device (file system instance) the inode lives on.
    pub dev: u64,
    /// Inode number, unique within `dev`.
    pub ino: u64,
    /// File type.
    pub kind: FileType,
    /// Permission bits, set-ID and sticky bits (`mode & 0o7777`); see [`Metadata::mode`].
    pub perm: u32,
    /// Number of hard links (for directories: 2 + subdirectories).
    pub nlink: u32,
    /// Owner.
    pub uid: u32,
    /// Group.
    pub gid: u32,
    /// Size in bytes (symlinks: length of the target).
    pub size: u64,
    /// Allocated space in 512-byte units.
    pub blocks: u64,
    /// Preferred I/O size.
    pub blksize: u32,
    /// Device number of a device node (see [`makedev`]), else 0.
    pub rdev: u64,
    /// Last access.
    pub atime: Timestamp,
    /// Last modification of the contents.
    pub mtime: Timestamp,
    /// Last change of the inode (contents or attributes).
    pub ctime: Timestamp,
}

impl Metadata {
    /// The full `st_mode`: file-type bits and permission bits.
    pub const fn mode(&self) -> u32 {
        self.kind.mode_bits() | (self.perm & PERMISSION_BITS)
    }
}

/// One directory entry as `read_dir` reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirEntry {
    /// The name (no `/`, no NUL).
    pub name: Vec<u8>,
    /// Inode number of the entry's target.
    pub ino: u64,
    /// Type of the entry's target.
    pub kind: FileType,
    /// The directory offset of the entry after this one (`d_off`): passing it to
    /// `read_dir` continues behind this entry.
    pub next_offset: u64,
}

/// Readiness events of `poll`/`ppoll`/`select`, with Linux's `POLL*` values.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Events(pub u16);

impl Events {
    /// No events.
    pub const EMPTY: Events = Events(0);
    /// Data may be read without blocking.
    pub const IN: Events = Events(0x001);
    /// Urgent data.
    pub const PRI: Events = Events(0x002);
    /// Data may be written without blocking.
    pub const OUT: Events = Events(0x004);
    /// Error condition (always reported).
    pub const ERR: Events = Events(0x008);
    /// Hang-up: the other side is gone (always reported).
    pub const HUP: Events = Events(0x010);
    /// Invalid file descriptor (always reported).
    pub const NVAL: Events = Events(0x020);
    /// Normal data may be read.
    pub const RDNORM: Events = Events(0x040);
    /// Normal data may be written.
    pub const WRNORM: Events = Events(0x100);
    /// Peer closed its writing half (sockets).
    pub const RDHUP: Events = Events(0x2000);

    /// Whether every event of `other` is set here.
    pub const fn contains(self, other: Events) -> bool {
        self.0 & other.0 == other.0
    }

    /// Whether any event of `other` is set here.
    pub const fn intersects(self, other: Events) -> bool {
        self.0 & other.0 != 0
    }

    /// Whether no event is set.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }
}

impl BitOr for Events {
    type Output = Events;
    fn bitor(self, rhs: Events) -> Events {
        Events(self.0 | rhs.0)
    }
}

impl BitOrAssign for Events {
    fn bitor_assign(&mut self, rhs: Events) {
        self.0 |= rhs.0;
    }
}

impl BitAnd for Events {
    type Output = Events;
    fn bitand(self, rhs: Events) -> Events {
        Events(self.0 & rhs.0)
    }
}

/// Encodes a device number as glibc's `makedev` does (and as Linux's `new_encode_dev` does
/// for majors below 4096 and minors below 2^20).
pub const fn makedev(major: u32, minor: u32) -> u64 {
    let (major, minor) = (major as u64, minor as u64);
    ((major & 0xffff_f000) << 32) | ((major & 0xfff) << 8) | ((minor & 0xffff_ff00) << 12) | (minor & 0xff)
}

/// The major number of a device number made by [`makedev`].
pub const fn major(dev: u64) -> u32 {
    (((dev >> 32) & 0xffff_f000) | ((dev >> 8) & 0xfff)) as u32
}

/// The minor number of a device number made by [`makedev`].
pub const fn minor(dev: u64) -> u32 {
    (((dev >> 12) & 0xffff_ff00) | (dev & 0xff)) as u32
}
