//! The memory character devices every Unix has: `/dev/null`, `/dev/zero`, `/dev/full`,
//! `/dev/random` and `/dev/urandom` (Linux's `drivers/char/mem.c` and `random.c`).
//!
//! Each is an [`Inode`] registered in a [`DeviceRegistry`] under Linux's numbers (major 1);
//! device nodes in any file system then reach them. None ever blocks: the random devices
//! take a fill function from the kernel (its entropy source), and Linux's `random` has not
//! blocked once initialised either.

use alloc::sync::Arc;
use core::task::{Context, Poll};

use abi::{Errno, Result};

use crate::device::DeviceRegistry;
use crate::inode::Inode;
use crate::types::{makedev, Events, FileType, Metadata, Timestamp};

/// Major number of the memory devices.
pub const MEM_MAJOR: u32 = 1;
/// Minor of `/dev/null`.
pub const NULL_MINOR: u32 = 3;
/// Minor of `/dev/zero`.
pub const ZERO_MINOR: u32 = 5;
/// Minor of `/dev/full`.
pub const FULL_MINOR: u32 = 7;
/// Minor of `/dev/random`.
pub const RANDOM_MINOR: u32 = 8;
/// Minor of `/dev/urandom`.
pub const URANDOM_MINOR: u32 = 9;

/// Device metadata: these objects are reached through nodes, whose own metadata is what
/// `stat` shows, so this only has to be plausible.
fn device_metadata(minor: u32) -> Metadata {
    Metadata {
        dev: 0,
        ino: u64::from(minor),
        kind: FileType::CharDevice,
        perm: 0o666,
        nlink: 1,
        uid: 0,
        gid: 0,
        size: 0,
        blocks: 0,
        blksize: 4096,
        rdev: makedev(MEM_MAJOR, minor),
        atime: Timestamp::default(),
        mtime: Timestamp::default(),
        ctime: Timestamp::default(),
    }
}

fn always_ready(events: Events) -> Poll<Events> {
    Poll::Ready(events & (Events::IN | Events::OUT | Events::RDNORM | Events::WRNORM))
}

/// `/dev/null`: reads are at end of file, writes vanish.
pub struct NullDevice;

impl Inode for NullDevice {
    fn metadata(&self) -> Metadata {
        device_metadata(NULL_MINOR)
    }
    fn poll_read_at(&self, _cx: &mut Context<'_>, _offset: u64, _buf: &mut [u8]) -> Poll<Result<usize>> {
        Poll::Ready(Ok(0))
    }
    fn poll_write_at(&self, _cx: &mut Context<'_>, _offset: u64, buf: &[u8]) -> Poll<Result<usize>> {
        Poll::Ready(Ok(buf.len()))
    }
    fn poll_append(&self, _cx: &mut Context<'_>, buf: &[u8]) -> Poll<Result<(usize, u64)>> {
        Poll::Ready(Ok((buf.len(), 0)))
    }
    fn poll_ready(&self, _cx: &mut Context<'_>, events: Events) -> Poll<Events> {
        always_ready(events)
    }
}

/// `/dev/zero`: reads give zeros, writes vanish.
pub struct ZeroDevice;

impl Inode for ZeroDevice {
    fn metadata(&self) -> Metadata {
        device_metadata(ZERO_MINOR)
    }
    fn poll_read_at(&self, _cx: &mut Context<'_>, _offset: u64, buf: &mut [u8]) -> Poll<Result<usize>> {
        buf.fill(0);
        Poll::Ready(Ok(buf.len()))
    }
    fn poll_write_at(&self, _cx: &mut Context<'_>, _offset: u64, buf: &[u8]) -> Poll<Result<usize>> {
        Poll::Ready(Ok(buf.len()))
    }
    fn poll_append(&self, _cx: &mut Context<'_>, buf: &[u8]) -> Poll<Result<(usize, u64)>> {
        Poll::Ready(Ok((buf.len(), 0)))
    }
    fn poll_ready(&self, _cx: &mut Context<'_>, events: Events) -> Poll<Events> {
        always_ready(events)
    }
}

/// `/dev/full`: reads give zeros, writes fail with `ENOSPC`.
pub struct FullDevice;

impl Inode for FullDevice {
    fn metadata(&self) -> Metadata {
        device_metadata(FULL_MINOR)
    }
    fn poll_read_at(&self, _cx: &mut Context<'_>, _offset: u64, buf: &mut [u8]) -> Poll<Result<usize>> {
        buf.fill(0);
        Poll::Ready(Ok(buf.len()))
    }
    fn poll_write_at(&self, _cx: &mut Context<'_>, _offset: u64, buf: &[u8]) -> Poll<Result<usize>> {
        // Linux's write_full: a write of nothing succeeds, anything else is ENOSPC.
        Poll::Ready(if buf.is_empty() { Ok(0) } else { Err(Errno::ENOSPC) })
    }
    fn poll_append(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<Result<(usize, u64)>> {
        self.poll_write_at(cx, 0, buf).map(|result| result.map(|written| (written, 0)))
    }
    fn poll_ready(&self, _cx: &mut Context<'_>, events: Events) -> Poll<Events> {
        always_ready(events)
    }
}

/// `/dev/random` and `/dev/urandom`: reads are filled by the kernel's random source and
/// never block; writes are accepted (and, as on Linux without privileges, not credited).
pub struct RandomDevice {
    fill: fn(&mut [u8]),
    minor: u32,
}

impl RandomDevice {
    /// `/dev/random` (`urandom == false`) or `/dev/urandom`, reading through `fill`.
    pub fn new(fill: fn(&mut [u8]), urandom: bool) -> Self {
        Self { fill, minor: if urandom { URANDOM_MINOR } else { RANDOM_MINOR } }
    }
}

impl Inode for RandomDevice {
    fn metadata(&self) -> Metadata {
        device_metadata(self.minor)
    }
    fn poll_read_at(&self, _cx: &mut Context<'_>, _offset: u64, buf: &mut [u8]) -> Poll<Result<usize>> {
        (self.fill)(buf);
        Poll::Ready(Ok(buf.len()))
    }
    fn poll_write_at(&self, _cx: &mut Context<'_>, _offset: u64, buf: &[u8]) -> Poll<Result<usize>> {
        Poll::Ready(Ok(buf.len()))
    }
    fn poll_append(&self, _cx: &mut Context<'_>, buf: &[u8]) -> Poll<Result<(usize, u64)>> {
        Poll::Ready(Ok((buf.len(), 0)))
    }
    fn poll_ready(&self, _cx: &mut Context<'_>, events: Events) -> Poll<Events> {
        always_ready(events)
    }
}

/// Registers null, zero, full, random and urandom under their Linux numbers.
pub fn register_memory_devices(registry: &DeviceRegistry, random_fill: fn(&mut [u8])) -> Result<()> {
    let char_device = FileType::CharDevice;
    registry.register(char_device, MEM_MAJOR, NULL_MINOR, Arc::new(NullDevice))?;
    registry.register(char_device, MEM_MAJOR, ZERO_MINOR, Arc::new(ZeroDevice))?;
    registry.register(char_device, MEM_MAJOR, FULL_MINOR, Arc::new(FullDevice))?;
    registry.register(char_device, MEM_MAJOR, RANDOM_MINOR, Arc::new(RandomDevice::new(random_fill, false)))?;
    registry.register(char_device, MEM_MAJOR, URANDOM_MINOR, Arc::new(RandomDevice::new(random_fill, true)))?;
    Ok(())
}
