//! tmpfs: a file system that lives entirely in memory, like Linux's `shmem`/`ramfs`.
//!
//! It holds the initramfs contents, `/tmp`, `/dev` nodes and anything else that needs no
//! disk. Directories, regular files (sparse pages), symbolic links, device nodes (opened
//! through the [`DeviceRegistry`]), FIFOs (opened as pipe ends) and socket nodes are
//! supported, with Linux's errno for every refusal and Linux's link counts.
//!
//! Concurrency: every inode has one spin lock for its attributes and contents. Operations
//! that change the name space (create, link, unlink, rmdir, rename, symlink) also take the
//! file system's *name-space lock* first; they are the only code that ever holds two inode
//! locks at once, and they are serialised by it, so no lock order is needed and rename's
//! "is the target inside the source" check sees a stable tree. Lookups, reads and writes
//! take only the one inode lock they need, never while holding another.

mod dir;
mod file_data;
mod node;

use alloc::sync::Arc;
use core::sync::atomic::{AtomicU64, Ordering};

use ksync::SpinLock;

use crate::device::DeviceRegistry;
use crate::inode::Inode;
use crate::types::{Clock, Timestamp};

pub use file_data::MAX_FILE_SIZE;
pub use node::TmpInode;

/// State shared by all inodes of one tmpfs instance.
pub(crate) struct FsShared {
    dev: u64,
    clock: Clock,
    devices: Arc<DeviceRegistry>,
    next_ino: AtomicU64,
    /// Serialises name-space changes (see the module documentation).
    namespace: SpinLock<()>,
    /// Pages of file data in use and the limit (`size=`).
    pub(crate) budget: Arc<file_data::PageBudget>,
}

impl FsShared {
    fn now(&self) -> Timestamp {
        (self.clock)().into()
    }

    fn allocate_ino(&self) -> u64 {
        self.next_ino.fetch_add(1, Ordering::Relaxed)
    }
}

/// One tmpfs instance.
pub struct TmpFs {
    shared: Arc<FsShared>,
    root: Arc<TmpInode>,
}

impl TmpFs {
    /// A new, empty tmpfs reporting device number `dev`, stamping times from `clock`, and
    /// opening device nodes through `devices`. The root directory has mode 0755, owner 0:0
    /// and inode number 1.
    pub fn new(dev: u64, clock: Clock, devices: Arc<DeviceRegistry>) -> Self {
        let shared = Arc::new(FsShared {
            dev,
            clock,
            devices,
            next_ino: AtomicU64::new(1),
            namespace: SpinLock::new(()),
            budget: Arc::default(),
        });
        let root = TmpInode::new_root(&shared);
        Self { shared, root }
    }

    /// The root directory.
    pub fn root(&self) -> Arc<dyn Inode> {
        self.root.clone()
    }

    /// The device number of this instance.
    pub fn dev(&self) -> u64 {
        self.shared.dev
    }

    /// Limits file data to `bytes` (rounded up to pages); `None` removes the limit.
    pub fn set_size_limit(&self, bytes: Option<u64>) {
        let pages = bytes.map_or(usize::MAX, |bytes| bytes.div_ceil(4096).min(usize::MAX as u64) as usize);
        self.shared.budget.set_limit(pages);
    }
}

/// (pages used, page limit) of the tmpfs `inode` belongs to, if it is a tmpfs inode.
pub fn tmpfs_usage(inode: &Arc<dyn Inode>) -> Option<(usize, usize)> {
    let inode = crate::inode::downcast_ref::<TmpInode>(inode.as_ref())?;
    Some((inode.fs.budget.used(), inode.fs.budget.limit()))
}
