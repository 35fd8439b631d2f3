//! The coros virtual file system: everything between a path or a file descriptor and the
//! bytes of a file, independent of the kernel's other parts so that all of it is tested on
//! the host.
//!
//! - [`Inode`]: the trait every file-system object implements, with Linux's errno as the
//!   default for what it does not support and poll-based data I/O (so pipes and devices
//!   can wait without boxed futures).
//! - [`TmpFs`]: the in-memory file system (initramfs contents, `/tmp`, `/dev`).
//! - [`Vfs`], [`Location`], [`Mount`]: the mount table and path resolution, with `..`
//!   across mounts, symlinks, and the path-level operations of the system calls.
//! - [`OpenFile`], [`FdTable`]: open file descriptions with offsets and flags, and a
//!   process's descriptor table.
//! - [`pipe()`], [`Pipe`], [`PipeEnd`]: pipes and FIFOs.
//! - [`DeviceRegistry`] and the memory devices (`null`, `zero`, `full`, `random`).
//! - [`cpio`]: newc archive parsing and initramfs unpacking.
#![cfg_attr(not(test), no_std)]

extern crate alloc;

pub mod consts;
pub mod cpio;
mod devfs;
mod device;
mod fd_table;
mod file;
mod inode;
mod mount;
mod open_flags;
pub mod page;
mod path;
mod pipe;
mod tmpfs;
mod types;
mod vfs;

#[cfg(test)]
mod tests;

pub use devfs::{
    register_memory_devices, FullDevice, NullDevice, RandomDevice, ZeroDevice, FULL_MINOR, MEM_MAJOR, NULL_MINOR,
    RANDOM_MINOR, URANDOM_MINOR, ZERO_MINOR,
};
pub use device::DeviceRegistry;
pub use fd_table::{FdTable, DEFAULT_MAX_FDS};
pub use file::{open_pipe, OpenFile};
pub use inode::{downcast_arc, downcast_ref, is_dot_or_dotdot, no_data_error, read_dir_all, rename_flags, rename_mode, same_object, Inode, RenameMode};
pub use mount::{Location, Mount};
pub use open_flags::OpenFlags;
pub use path::{LastComponent, ParentPath};
pub use pipe::{pipe, Pipe, PipeEnd, PIPEFS_DEV};
pub use tmpfs::{tmpfs_usage, TmpFs, TmpInode, MAX_FILE_SIZE};
pub use types::{major, makedev, minor, Clock, DirEntry, Events, FileType, Metadata, SetTime, Timestamp};
pub use vfs::Vfs;
