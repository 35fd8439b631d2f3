//! The block device the file system runs on, and its adapter to rsext4's `BlockIo`.
//!
//! [`BlockDevice`] is deliberately small so that the kernel's virtio-blk driver and block
//! cache (or a file in a host test) can implement it in a few lines. Calls are synchronous
//! from this crate's point of view; in the kernel they may suspend the calling fs task on
//! a cache miss, which is why no spin lock is ever held across them (see the crate docs).

use abi::Errno;
use rsext4::{BlockIo, DeviceCapabilities, DeviceGeometry, Ext4Error, Ext4Result, SectorId};

/// A synchronous block device.
///
/// Units: the device is an array of [`BlockDevice::blocks`] *sectors* of
/// [`BlockDevice::block_size`] bytes each (512 or 4096; it must not exceed the file system's
/// block size, which mke2fs makes 1024, 2048 or 4096). `read` and `write` transfer a whole
/// number of sectors starting at sector `block`: `buf.len()` is always a non-zero multiple
/// of `block_size()` (in practice one file-system block).
///
/// Errors: return `Err(Errno::EIO)` (or any errno) for a failed transfer; the file system
/// reports `EIO` for it to the caller and never panics. A transfer beyond the end must fail.
pub trait BlockDevice: Send + Sync {
    /// Bytes per sector (512 or 4096).
    fn block_size(&self) -> usize;
    /// Number of sectors.
    fn blocks(&self) -> u64;
    /// Reads `buf.len() / block_size()` sectors starting at sector `block`.
    fn read(&self, block: u64, buf: &mut [u8]) -> Result<(), Errno>;
    /// Writes `buf.len() / block_size()` sectors starting at sector `block`.
    fn write(&self, block: u64, buf: &[u8]) -> Result<(), Errno>;
    /// Makes every completed write durable (a virtio-blk `FLUSH`).
    fn flush(&self) -> Result<(), Errno>;
    /// Whether the device refuses writes (then only read-only mounts succeed).
    fn read_only(&self) -> bool;
}

/// `D` seen through rsext4's sector interface.
pub(crate) struct DeviceIo<D: BlockDevice> {
    pub(crate) device: alloc::sync::Arc<D>,
}

impl<D: BlockDevice> DeviceIo<D> {
    fn check(&self, length: usize, count: u32) -> Ext4Result<()> {
        let sector = self.device.block_size();
        if sector == 0 || length != sector.saturating_mul(count as usize) {
            return Err(Ext4Error::invalid_input());
        }
        Ok(())
    }
}

impl<D: BlockDevice> BlockIo for DeviceIo<D> {
    fn write(&mut self, buffer: &[u8], sector: SectorId, count: u32) -> Ext4Result<()> {
        self.check(buffer.len(), count)?;
        self.device.write(sector.raw(), buffer).map_err(|_| Ext4Error::io())
    }

    fn read(&mut self, buffer: &mut [u8], sector: SectorId, count: u32) -> Ext4Result<()> {
        self.check(buffer.len(), count)?;
        self.device.read(sector.raw(), buffer).map_err(|_| Ext4Error::io())
    }

    fn geometry(&self) -> DeviceGeometry {
        DeviceGeometry::new(self.device.block_size() as u32, self.device.blocks())
    }

    fn capabilities(&self) -> DeviceCapabilities {
        DeviceCapabilities { read_only: self.device.read_only(), flush: true, ..DeviceCapabilities::default() }
    }

    fn flush(&mut self) -> Ext4Result<()> {
        self.device.flush().map_err(|_| Ext4Error::io())
    }
}
