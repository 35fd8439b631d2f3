//! `Ext4Fs`: one mounted ext4 file system — the rsext4 instance behind the one lock, the
//! table of live inode handles, and mount, `statfs`, `sync` and `unmount`.
//!
//! All rsext4 state sits in [`State`] behind a single `lock_api::Mutex<R, _>`, where `R`
//! is the kernel's raw mutex (one that suspends a contended caller). Every operation takes
//! it once, calls rsext4 (which does block I/O and may therefore suspend the caller), and
//! releases it; nothing else is locked meanwhile. The only other lock, of the same type,
//! guards the short list of unlinked inodes whose last handle was dropped (see
//! [`Ext4Fs::queue_reap`]); it is never held across I/O or across the state lock.
//!
//! Unlinked files stay readable while a handle is alive, as on Linux: rsext4's `unlink`
//! puts a zero-link inode on the orphan list without freeing it, and this module reaps it
//! (frees its blocks and inode) once no [`Ext4Inode`] handle refers to it any more.

use alloc::collections::{BTreeMap, BTreeSet};
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;

use abi::{Errno, Result, StatFs};
use lock_api::{Mutex, RawMutex};
use rsext4::{Ext4, Ext4Result, Ext4Timestamp, InodeNumber, MountOptions, MountServices, MountedServices, NoopObserver};
use vfs::{Clock, DeviceRegistry, FileType, Timestamp};

use crate::device::{BlockDevice, DeviceIo};
use crate::errno::IntoErrno;
use crate::inode::Ext4Inode;
use crate::inode_check::InodeChecker;
use crate::{dir_blocks, padding};
use crate::superblock::{self, SuperblockInfo};

/// The rsext4 mount type this crate drives.
pub(crate) type Mounted<D> = Ext4<DeviceIo<D>, MountedServices<(), NoopObserver, ()>>;

/// Inode number of the root directory.
pub(crate) const ROOT_INODE: u32 = 2;
/// `statfs` `f_flags`: `ST_RDONLY`.
const ST_RDONLY: i64 = 1;
/// `statfs` `f_flags`: `ST_RELATIME`.
const ST_RELATIME: i64 = 0x1000;

/// rsext4's clock capability over the kernel's wall clock.
struct WallClock(Clock);

impl rsext4::Clock for WallClock {
    fn now(&self) -> Ext4Result<Ext4Timestamp> {
        let (sec, nsec) = (self.0)();
        Ok(Ext4Timestamp::new(sec, nsec))
    }
}

/// Everything behind the file-system lock.
pub(crate) struct State<R: RawMutex + Send + Sync + 'static, D: BlockDevice + 'static> {
    /// The rsext4 instance; `None` after [`Ext4Fs::unmount`].
    ext4: Option<Mounted<D>>,
    /// Live inode handles by inode number, so each inode has at most one handle.
    handles: BTreeMap<u32, Weak<Ext4Inode<R, D>>>,
    /// Handles created since dead entries were last swept from `handles`.
    created_since_sweep: usize,
    /// Inodes allocated during this mount: their newest copy may still be only in the
    /// journal, with nothing valid at home yet, so their home copy is not checked.
    pub(crate) allocated: BTreeSet<u32>,
    /// Directories that gained entries during this mount (see [`crate::dir_blocks`]).
    pub(crate) grown_directories: BTreeSet<u32>,
}

impl<R: RawMutex + Send + Sync + 'static, D: BlockDevice + 'static> State<R, D> {
    /// The rsext4 instance (`EIO` once unmounted).
    pub(crate) fn ext4(&mut self) -> Result<&mut Mounted<D>> {
        self.ext4.as_mut().ok_or(Errno::EIO)
    }

    /// Whether some handle of inode `ino` is still alive.
    pub(crate) fn has_handle(&self, ino: u32) -> bool {
        self.handles.get(&ino).is_some_and(|handle| handle.strong_count() > 0)
    }

    fn live_handle(&self, ino: u32) -> Option<Arc<Ext4Inode<R, D>>> {
        self.handles.get(&ino).and_then(Weak::upgrade)
    }
}

/// Options of [`Ext4Fs::mount`].
#[derive(Clone)]
pub struct MountConfig {
    /// Mount read-only: every change fails with `EROFS` and nothing is written (a journal
    /// that needs recovery is still replayed if the device is writable, as Linux does).
    pub read_only: bool,
    /// Device number reported in `st_dev`.
    pub dev: u64,
    /// The wall clock for timestamps: `(seconds, nanoseconds)` since the epoch.
    pub clock: Clock,
    /// Where opening a character or block device node finds the device (`ENXIO` if absent).
    pub devices: Arc<DeviceRegistry>,
}

/// A mounted ext4 file system on device `D`, locked with the raw mutex `R`.
pub struct Ext4Fs<R: RawMutex + Send + Sync + 'static, D: BlockDevice + 'static> {
    state: Mutex<R, State<R, D>>,
    /// The device (rsext4 holds another reference), for [`crate::padding`].
    device: Arc<D>,
    /// Groups whose inode bitmap was uninitialised at mount (see [`crate::padding`]).
    uninitialised_groups: Vec<u32>,
    /// Checks inode checksums rsext4 does not check.
    inode_checker: InodeChecker,
    /// Inodes with no links whose last handle was dropped: reaped under the state lock.
    reap_queue: Mutex<R, Vec<u32>>,
    pub(crate) config: MountConfig,
    pub(crate) superblock: SuperblockInfo,
    this: Weak<Self>,
}

impl<R: RawMutex + Send + Sync + 'static, D: BlockDevice + 'static> Ext4Fs<R, D> {
    /// Mounts the ext4 file system on `device`.
    ///
    /// Errors: `EINVAL` if the device holds no ext4 file system (or one with features
    /// rsext4 does not support: inline_data, encrypt, casefold, quota, block size above
    /// 4 KiB); `EUCLEAN` if the superblock, group descriptors or journal are corrupt or
    /// fail their checksums; `EROFS` for a read-write mount of a read-only device; `EIO`
    /// if the device fails. Blocks for the I/O of mounting (superblock, descriptors,
    /// bitmaps, journal replay).
    pub fn mount(device: D, config: MountConfig) -> Result<Arc<Self>> {
        let superblock = superblock::check(&device)?;
        superblock::check_root_inode(&device, &superblock)?;
        if !config.read_only && device.read_only() {
            return Err(Errno::EROFS);
        }
        let options = MountOptions {
            readonly: config.read_only,
            replay_journal: !device.read_only(),
            block_validity: true,
        };
        let uninitialised_groups = if config.read_only {
            Vec::new()
        } else {
            padding::uninitialised_groups(&device, &superblock.groups, superblock.block_size)?
        };
        let inode_checker = InodeChecker::new(&device, &superblock)?;
        let device = Arc::new(device);
        let io = DeviceIo { device: device.clone() };
        let services = MountServices::new(WallClock(config.clock), (), NoopObserver);
        let ext4 = Ext4::mount(io, services, options).errno()?;
        Ok(Arc::new_cyclic(|this| Self {
            state: Mutex::new(State { ext4: Some(ext4), handles: BTreeMap::new(), created_since_sweep: 0, allocated: BTreeSet::new(), grown_directories: BTreeSet::new() }),
            reap_queue: Mutex::new(Vec::new()),
            device,
            uninitialised_groups,
            inode_checker,
            config,
            superblock,
            this: this.clone(),
        }))
    }

    /// The root directory. Blocks (reads the root inode).
    pub fn root(&self) -> Result<Arc<dyn vfs::Inode>> {
        self.with_state(|state| {
            self.verify_inode(state, ROOT_INODE)?;
            let info = state.ext4()?.inode(inode_number(ROOT_INODE)?).errno()?;
            Ok(self.handle(state, ROOT_INODE, kind_of(info.mode)?) as Arc<dyn vfs::Inode>)
        })
    }

    /// Whether this mount is read-only.
    pub fn read_only(&self) -> bool {
        self.config.read_only
    }

    /// The device number reported in `st_dev`.
    pub fn dev(&self) -> u64 {
        self.config.dev
    }

    /// `statfs(2)` figures: block size, total/free/available blocks, total/free inodes,
    /// `f_namelen` 255, `f_type` `EXT4_SUPER_MAGIC`. Blocks (takes the file-system lock).
    pub fn statfs(&self) -> Result<StatFs> {
        let stats = self.with_state(|state| Ok(state.ext4()?.statfs()))?;
        let SuperblockInfo { reserved_blocks, overhead_blocks, .. } = self.superblock;
        let total = stats.total_blocks.saturating_sub(overhead_blocks);
        let mut flags = ST_RELATIME;
        if self.config.read_only {
            flags |= ST_RDONLY;
        }
        Ok(StatFs {
            f_type: abi::fs::EXT4_SUPER_MAGIC,
            f_bsize: stats.block_size as i64,
            f_blocks: total,
            f_bfree: stats.free_blocks.min(total),
            f_bavail: stats.free_blocks.saturating_sub(reserved_blocks).min(total),
            f_files: u64::from(stats.total_inodes),
            f_ffree: u64::from(stats.free_inodes),
            f_fsid: [self.config.dev as i32, (self.config.dev >> 32) as i32],
            f_namelen: vfs::consts::NAME_MAX as i64,
            f_frsize: stats.block_size as i64,
            f_flags: flags,
            f_spare: [0; 4],
        })
    }

    /// Writes every change back to the device and flushes it (`sync(2)`, `syncfs(2)`).
    /// Blocks.
    pub fn sync(&self) -> Result<()> {
        self.with_state(|state| {
            state.ext4()?.sync().errno()?;
            self.fix_padding()
        })
    }

    fn fix_padding(&self) -> Result<()> {
        let SuperblockInfo { block_size, groups, .. } = self.superblock;
        padding::fix_inode_bitmap_padding(&*self.device, &groups, block_size, &self.uninitialised_groups)
    }

    /// Writes everything back, marks the file system clean (journal empty) and detaches
    /// the device; later operations on this file system fail with `EIO`. Unlinked files
    /// that are still open stay on the on-disk orphan list (reclaimed by the next mount,
    /// or by e2fsck). Blocks.
    pub fn unmount(&self) -> Result<()> {
        self.with_state(|state| {
            let mut ext4 = state.ext4.take().ok_or(Errno::EINVAL)?;
            let result = ext4.unmount().errno();
            if let Err(errno) = result {
                // Keep the instance so a later attempt (or sync) can retry.
                state.ext4 = Some(ext4);
                return Err(errno);
            }
            self.fix_padding()?;
            let directories = dir_blocks::sorted(&state.grown_directories);
            dir_blocks::fix_directory_blocks(&*self.device, &self.inode_checker, self.superblock.block_size, &directories)
        })
    }

    /// Runs `operation` with the file-system lock held, after reaping the inodes queued
    /// for it.
    pub(crate) fn with_state<T>(&self, operation: impl FnOnce(&mut State<R, D>) -> Result<T>) -> Result<T> {
        let mut state = self.state.lock();
        self.reap_queued(&mut state);
        operation(&mut state)
    }

    /// Checks the on-disk checksum of inode `ino` unless a handle of it is alive (then it
    /// was checked when the handle was made).
    pub(crate) fn verify_inode(&self, state: &State<R, D>, ino: u32) -> Result<()> {
        if state.has_handle(ino) || state.allocated.contains(&ino) {
            return Ok(());
        }
        self.inode_checker.verify(&*self.device, ino)
    }

    /// The handle of inode `ino` (of type `kind`), creating it if none is alive.
    pub(crate) fn handle(&self, state: &mut State<R, D>, ino: u32, kind: FileType) -> Arc<Ext4Inode<R, D>> {
        if let Some(handle) = state.live_handle(ino) {
            return handle;
        }
        let fs = self.this.upgrade().expect("an Ext4Fs is only reached through its Arc");
        let handle = Arc::new(Ext4Inode::new(fs, ino, kind));
        state.handles.insert(ino, Arc::downgrade(&handle));
        state.created_since_sweep += 1;
        if state.created_since_sweep > state.handles.len() / 2 + 64 {
            state.handles.retain(|_, handle| handle.strong_count() > 0);
            state.created_since_sweep = 0;
        }
        handle
    }

    /// Called when the last handle of an unlinked inode is dropped: its blocks and inode
    /// are freed by the next operation that takes the state lock. Takes only the short
    /// queue lock, never does I/O.
    pub(crate) fn queue_reap(&self, ino: u32) {
        self.reap_queue.lock().push(ino);
    }

    /// After the last link of `ino` went away: frees it now if no handle is alive, else
    /// marks the handle so that dropping it queues the inode for reaping.
    pub(crate) fn release_unlinked(&self, state: &mut State<R, D>, ino: u32) -> Result<()> {
        match state.live_handle(ino) {
            Some(handle) => {
                handle.mark_unlinked();
                Ok(())
            }
            None => state.ext4()?.reap_unlinked_inode(inode_number(ino)?).errno(),
        }
    }

    fn reap_queued(&self, state: &mut State<R, D>) {
        let queued = core::mem::take(&mut *self.reap_queue.lock());
        if queued.is_empty() || self.config.read_only {
            return;
        }
        for ino in queued {
            if state.has_handle(ino) {
                continue;
            }
            if let (Ok(ext4), Ok(number)) = (state.ext4(), inode_number(ino)) {
                // A failure leaves the inode on the orphan list, where e2fsck or the next
                // mount reclaims it; there is no caller to report it to.
                let _ = ext4.reap_unlinked_inode(number);
            }
        }
    }

    /// The current time of the mount's clock.
    pub(crate) fn now(&self) -> Timestamp {
        (self.config.clock)().into()
    }
}

/// rsext4's checked inode number.
pub(crate) fn inode_number(ino: u32) -> Result<InodeNumber> {
    InodeNumber::new(ino).map_err(|_| Errno::EUCLEAN)
}

/// The VFS file type of an ext4 `i_mode` (`EUCLEAN` for an invalid type).
pub(crate) fn kind_of(mode: u16) -> Result<FileType> {
    FileType::from_mode(u32::from(mode)).ok_or(Errno::EUCLEAN)
}
