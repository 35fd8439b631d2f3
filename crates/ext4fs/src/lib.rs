//! ext4 for coros: the [rsext4] crate (Apache-2.0; chosen over `ext4_rs` after the
//! evaluation in `docs/ext4.md`) behind the VFS [`vfs::Inode`] trait, over a small
//! synchronous [`BlockDevice`] trait. Tested on the host against images made by
//! `mke2fs -t ext4` and checked with `e2fsck -fn` and `debugfs` (`tests/`).
//!
//! # Using it from the kernel
//!
//! ```ignore
//! type Fs = ext4fs::Ext4Fs<KernelRawMutex, VirtioBlockCache>;
//! let fs: Arc<Fs> = Fs::mount(device, MountConfig { read_only, dev, clock, devices })?;
//! let root: Arc<dyn vfs::Inode> = fs.root()?;          // hand to Vfs::mount
//! let figures: abi::StatFs = fs.statfs()?;              // statfs(2) on this mount
//! fs.sync()?;                                           // sync(2) / syncfs(2)
//! fs.unmount()?;                                        // umount: clean image, empty journal
//! ```
//!
//! What the kernel supplies:
//! - `D: BlockDevice` — sector reads/writes, flush, size, read-only flag (see
//!   [`BlockDevice`] for the units). Calls are synchronous for this crate but may suspend
//!   the caller for as long as the device takes.
//! - `R: lock_api::RawMutex` — the one lock type guarding the file system's state. It is
//!   held across `BlockDevice` calls, so in the kernel it must be a lock that *suspends*
//!   a contended caller (not a spin lock). Host tests use `parking_lot::RawMutex`.
//! - [`MountConfig::clock`] — the wall clock (`vfs::Clock`) for timestamps, and
//!   [`MountConfig::devices`] — the registry device nodes open through.
//!
//! Which calls block (take the file-system lock and may do block I/O): `mount`, `root`,
//! `statfs`, `sync`, `unmount`, and every [`vfs::Inode`] method of an ext4 inode except
//! `ino()` and `kind()`, including `metadata()`. Data I/O (`poll_read_at`,
//! `poll_write_at`, `poll_append`) is always `Ready`: it finishes synchronously. The
//! kernel must therefore run them on a stack that may be suspended (its fs task), never
//! with a spin lock held or interrupts masked. Dropping the last handle of an unlinked
//! inode takes only a short second lock of type `R` (a `Vec` push, no I/O); the inode is
//! freed by the next operation on the file system.
//!
//! Errors follow Linux: `EINVAL` for a device without ext4 (or with unsupported
//! features), `EUCLEAN` for corrupt metadata or checksum failures, `EIO` for device
//! errors, `EROFS` for changes on a read-only mount, `ENOSPC` when full (a write that
//! fills the disk returns short with what fitted).
//!
//! Timestamps have nanoseconds and ext4's epoch bits (dates 1901–2446) in 256-byte
//! inodes, whole seconds up to 2038 in 128-byte ones; times set through `set_times` are
//! clamped to that range as Linux does.
//!
//! Known gaps (see `docs/ext4.md`): no inline_data, encryption, casefold or quota images;
//! no xattr interface in the VFS yet.
//!
//! rsext4 is the patched copy in `vendor/rsext4` (its `PATCHES.md` lists the changes).
//!
//! [rsext4]: https://crates.io/crates/rsext4
#![cfg_attr(not(test), no_std)]

extern crate alloc;

mod device;
mod dir_blocks;
mod errno;
mod fs;
mod inode;
mod inode_check;
mod padding;
mod superblock;

pub use device::BlockDevice;
pub use fs::{Ext4Fs, MountConfig};
pub use inode::Ext4Inode;
