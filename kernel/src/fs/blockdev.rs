//! Block device nodes (`/dev/vda`, ...): a disk and its block cache, as a file.
//!
//! Each disk gets one [`block::cache::BlockCache`]; the device node and any file system
//! mounted from the disk share it. Reading the node waits (as a future) for the blocks
//! it covers — all of them requested at once, so a large read keeps many requests in
//! flight — and writing it marks cached blocks dirty; `fsync` writes them back and
//! flushes the disk. Major 254 and minors 0, 16, 32, ... as Linux's virtio-blk.

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::task::{Context, Poll};

use abi::{Errno, Result};
use block::cache::{BlockCache, Limits, BLOCK_SIZE};
use block::BlockDevice;
use ksync::SpinLock;
use vfs::{FileType, Inode, Metadata};

use crate::drivers::virtio_blk::VirtioDisk;

/// Linux's (dynamic, but always this on QEMU) major number of virtio-blk.
pub const VIRTBLK_MAJOR: u32 = 254;

/// A disk with its cache.
pub struct Disk {
    pub name: String,
    pub rdev: u64,
    pub driver: Arc<VirtioDisk>,
    pub cache: Arc<BlockCache>,
    /// The most bytes one read of the node waits for at once (a quarter of the cache).
    read_window: usize,
}

static DISKS: SpinLock<Vec<Arc<Disk>>> = SpinLock::new(Vec::new());

/// Every disk, in name order.
pub fn disks() -> Vec<Arc<Disk>> {
    DISKS.lock().clone()
}

/// The disk with device number `rdev`.
pub fn disk_by_rdev(rdev: u64) -> Option<Arc<Disk>> {
    DISKS.lock().iter().find(|disk| disk.rdev == rdev).cloned()
}

/// Cache budget per disk: an eighth of RAM, dirty data at most a sixteenth.
fn limits() -> Limits {
    let (_, total) = crate::memory::frame_usage();
    let pages = total.max(4096);
    Limits { blocks: pages / 8, dirty: pages / 16 }
}

/// Creates a cache and a device node for every disk the drivers found.
pub fn init(registry: &vfs::DeviceRegistry) {
    for (index, driver) in crate::drivers::virtio_blk::disks().into_iter().enumerate() {
        let rdev = vfs::makedev(VIRTBLK_MAJOR, 16 * index as u32);
        let limits = limits();
        let cache = BlockCache::new(driver.clone() as Arc<dyn BlockDevice>, limits);
        let read_window = (limits.blocks / 4).max(8) * BLOCK_SIZE;
        let disk = Arc::new(Disk { name: driver.name.clone(), rdev, driver, cache, read_window });
        if let Err(error) = registry.register(FileType::BlockDevice, VIRTBLK_MAJOR, 16 * index as u32, Arc::new(DiskNode(disk.clone()))) {
            log::warn!("{}: cannot register: {error:?}", disk.name);
        }
        DISKS.lock().push(disk);
    }
}

/// `/dev/vdX`, opened.
pub struct DiskNode(pub Arc<Disk>);

impl DiskNode {
    fn size(&self) -> u64 {
        self.0.cache.blocks() * BLOCK_SIZE as u64
    }

    /// Requests every block of `[offset, offset + len)` not cached yet; whether all are.
    fn poll_range(&self, cx: &mut Context<'_>, offset: u64, len: usize) -> Poll<Result<()>> {
        let first = offset / BLOCK_SIZE as u64;
        let last = (offset + len as u64 - 1) / BLOCK_SIZE as u64;
        let mut ready = true;
        for block in first..=last {
            match self.0.cache.poll_with(cx, block, |_| ()) {
                Poll::Ready(Ok(())) => {}
                Poll::Ready(Err(error)) => return Poll::Ready(Err(error)),
                Poll::Pending => ready = false,
            }
        }
        if ready { Poll::Ready(Ok(())) } else { Poll::Pending }
    }
}

impl Inode for DiskNode {
    fn metadata(&self) -> Metadata {
        Metadata {
            dev: self.0.rdev,
            ino: 1,
            kind: FileType::BlockDevice,
            perm: 0o660,
            nlink: 1,
            size: self.size(),
            blksize: BLOCK_SIZE as u32,
            rdev: self.0.rdev,
            uid: 0,
            gid: 6, // disk
            blocks: 0,
            atime: Default::default(),
            mtime: Default::default(),
            ctime: Default::default(),
        }
    }

    fn poll_read_at(&self, cx: &mut Context<'_>, offset: u64, buf: &mut [u8]) -> Poll<Result<usize>> {
        let size = self.size();
        if offset >= size || buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        let len = buf.len().min((size - offset) as usize).min(self.0.read_window);
        if let Err(error) = core::task::ready!(self.poll_range(cx, offset, len)) {
            return Poll::Ready(Err(error));
        }
        let mut done = 0;
        while done < len {
            let position = offset + done as u64;
            let within = (position % BLOCK_SIZE as u64) as usize;
            let chunk = (BLOCK_SIZE - within).min(len - done);
            match self.0.cache.poll_with(cx, position / BLOCK_SIZE as u64, |data| {
                buf[done..done + chunk].copy_from_slice(&data[within..within + chunk])
            }) {
                Poll::Ready(Ok(())) => done += chunk,
                // Evicted in between (a tiny cache): return what is there.
                Poll::Pending if done > 0 => break,
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Err(error)) => return Poll::Ready(if done > 0 { Ok(done) } else { Err(error) }),
            }
        }
        Poll::Ready(Ok(done))
    }

    fn poll_write_at(&self, cx: &mut Context<'_>, offset: u64, buf: &[u8]) -> Poll<Result<usize>> {
        if self.0.cache.read_only() {
            return Poll::Ready(Err(Errno::EROFS));
        }
        let size = self.size();
        if offset >= size {
            return Poll::Ready(if buf.is_empty() { Ok(0) } else { Err(Errno::ENOSPC) });
        }
        let len = buf.len().min((size - offset) as usize);
        let mut done = 0;
        while done < len {
            let position = offset + done as u64;
            let within = (position % BLOCK_SIZE as u64) as usize;
            let chunk = (BLOCK_SIZE - within).min(len - done);
            match self.0.cache.poll_write(cx, position / BLOCK_SIZE as u64, within, &buf[done..done + chunk]) {
                Poll::Ready(Ok(())) => done += chunk,
                Poll::Pending if done > 0 => break,
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Err(error)) => return Poll::Ready(if done > 0 { Ok(done) } else { Err(error) }),
            }
        }
        Poll::Ready(Ok(done))
    }

}

impl DiskNode {
    /// The answer to a block-device ioctl: the value and its size in bytes.
    pub fn ioctl_value(&self, cmd: u32) -> Result<(u64, usize)> {
        const BLKGETSIZE64: u32 = 0x8008_1272;
        const BLKGETSIZE: u32 = 0x1260;
        const BLKSSZGET: u32 = 0x1268;
        const BLKBSZGET: u32 = 0x8008_1270;
        const BLKROGET: u32 = 0x125e;
        Ok(match cmd {
            BLKGETSIZE64 => (self.size(), 8),
            BLKGETSIZE => (self.size() / 512, 8),
            BLKSSZGET => (512, 4),
            BLKBSZGET => (BLOCK_SIZE as u64, 8),
            BLKROGET => (self.0.cache.read_only() as u64, 4),
            _ => return Err(Errno::ENOTTY),
        })
    }
}

impl Disk {
    /// Writes back and flushes.
    pub async fn sync(&self) -> Result<()> {
        self.cache.sync().await
    }
}

/// The disk behind an open file's inode: the node itself, or (later) the disk of the
/// file system the inode lives on.
pub fn disk_of(inode: &Arc<dyn Inode>) -> Option<Arc<Disk>> {
    if let Some(node) = vfs::downcast_ref::<DiskNode>(inode.as_ref()) {
        return Some(node.0.clone());
    }
    super::ext4::disk_of_dev(inode.metadata().dev)
}

/// Writes back every disk (sync(2), power-off).
pub async fn sync_all() -> Result<()> {
    let mut result = Ok(());
    for disk in disks() {
        if let Err(error) = disk.sync().await {
            log::warn!("{}: sync failed: {error:?}", disk.name);
            result = Err(error);
        }
    }
    result
}
