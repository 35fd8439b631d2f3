//! The device registry: which driver object answers for device number (major, minor).
//!
//! Device *nodes* live in ordinary file systems (tmpfs, the initramfs); opening one looks
//! the number up here and does its I/O on the registered object, as Linux's `chrdev_open`
//! does. Opening a node whose number nobody registered fails with `ENXIO`.

use alloc::collections::BTreeMap;
use alloc::sync::Arc;

use abi::{Errno, Result};
use ksync::SpinLock;

use crate::inode::Inode;
use crate::types::FileType;

/// Devices of one kind by (major, minor).
type DeviceTable = SpinLock<BTreeMap<(u32, u32), Arc<dyn Inode>>>;

/// Registered character and block devices by (major, minor).
#[derive(Default)]
pub struct DeviceRegistry {
    character: DeviceTable,
    block: DeviceTable,
}

impl DeviceRegistry {
    /// An empty registry.
    pub const fn new() -> Self {
        Self { character: SpinLock::new(BTreeMap::new()), block: SpinLock::new(BTreeMap::new()) }
    }

    fn table(&self, kind: FileType) -> Result<&DeviceTable> {
        match kind {
            FileType::CharDevice => Ok(&self.character),
            FileType::BlockDevice => Ok(&self.block),
            _ => Err(Errno::EINVAL),
        }
    }

    /// Registers `device` as (major, minor) of `kind` (`CharDevice` or `BlockDevice`,
    /// else `EINVAL`); `EBUSY` if the number is taken.
    pub fn register(&self, kind: FileType, major: u32, minor: u32, device: Arc<dyn Inode>) -> Result<()> {
        let mut table = self.table(kind)?.lock();
        if table.contains_key(&(major, minor)) {
            return Err(Errno::EBUSY);
        }
        table.insert((major, minor), device);
        Ok(())
    }

    /// Removes a registration and returns it.
    pub fn unregister(&self, kind: FileType, major: u32, minor: u32) -> Option<Arc<dyn Inode>> {
        self.table(kind).ok()?.lock().remove(&(major, minor))
    }

    /// The device registered as (major, minor) of `kind`.
    pub fn get(&self, kind: FileType, major: u32, minor: u32) -> Option<Arc<dyn Inode>> {
        self.table(kind).ok()?.lock().get(&(major, minor)).cloned()
    }
}
