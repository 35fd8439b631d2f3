//! `Ext4Inode`: the VFS [`Inode`] of every ext4 object, a thin handle (file system, inode
//! number, type) whose operations take the file-system lock and call rsext4.
//!
//! Data I/O never waits for anything but the block device, so `poll_read_at`,
//! `poll_write_at` and `poll_append` always return `Ready` (the wait for the device happens
//! inside, by suspending the fs task in the kernel). Large writes are passed to rsext4 in
//! chunks so that a full disk ends a write short (with what fitted written) instead of
//! failing all of it, as Linux does.

use alloc::sync::{Arc, Weak};
use alloc::vec;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, Ordering};
use core::task::{Context, Poll};

use abi::{Errno, Result};
use lock_api::{Mutex, RawMutex};
use rsext4::{
    DeviceNumber, DirectoryCursor, DirectoryEntryType, Ext4ErrorKind, Ext4Timestamp, FileName, FilePermissions,
    InodeInfo, InodeMetadataUpdate, MutationContext, RenameOptions, SpecialInodeKind,
};
use vfs::consts::{NAME_MAX, PATH_MAX, PERMISSION_BITS};
use vfs::{downcast_arc, is_dot_or_dotdot, major, makedev, minor, no_data_error, DirEntry, FileType, Inode, Metadata, OpenFlags, Pipe, RenameMode, SetTime, Timestamp};

use crate::device::BlockDevice;
use crate::errno::{errno, IntoErrno};
use crate::fs::{inode_number, kind_of, Ext4Fs, State};

/// Bytes handed to rsext4 per call when writing (see the module documentation).
const WRITE_CHUNK: usize = 1 << 20;
/// Directory entries fetched per lock hold in `read_dir`.
const READ_DIR_BATCH: usize = 64;
/// Owner of new inodes (the VFS sets the caller's credentials afterwards, as for tmpfs).
const CREATOR: MutationContext = MutationContext::new(0, 0, 0, 0);

/// A handle on one ext4 inode. At most one is alive per inode number.
pub struct Ext4Inode<R: RawMutex + Send + Sync + 'static, D: BlockDevice + 'static> {
    fs: Arc<Ext4Fs<R, D>>,
    ino: u32,
    kind: FileType,
    /// Set once the inode has no links left: dropping the handle then frees it.
    unlinked: AtomicBool,
    /// A FIFO's pipe while some opener holds it.
    fifo: Mutex<R, Weak<Pipe>>,
}

impl<R: RawMutex + Send + Sync + 'static, D: BlockDevice + 'static> Drop for Ext4Inode<R, D> {
    fn drop(&mut self) {
        if self.unlinked.load(Ordering::Acquire) {
            self.fs.queue_reap(self.ino);
        }
    }
}

/// Checks a name for a new or looked-up entry (Linux's errno for each problem).
fn file_name(name: &[u8]) -> Result<FileName<'_>> {
    if name.is_empty() {
        return Err(Errno::ENOENT);
    }
    if name.len() > NAME_MAX {
        return Err(Errno::ENAMETOOLONG);
    }
    FileName::new(name).map_err(|_| Errno::EINVAL)
}

/// An inode time as ext4 stores it: in a 256-byte inode the seconds carry two epoch bits
/// and the nanoseconds from `i_*time_extra` (decoded by rsext4 as Linux does); in a
/// 128-byte inode they are whole seconds up to 2038.
fn timestamp(time: Ext4Timestamp) -> Timestamp {
    Timestamp::new(time.sec, time.nsec)
}

/// End of `i_atime_extra` in the on-disk inode: inodes at least this big store
/// nanoseconds and epoch bits (Linux's `s_time_gran` 1 and `EXT4_EXTRA_TIMESTAMP_MAX`).
const EXTRA_TIME_INODE_SIZE: u32 = 144;
/// Latest second an ext4 inode time can hold with the two epoch bits: 2446-05-10.
const EXTRA_TIMESTAMP_MAX: i64 = (1 << 34) - 1 + i32::MIN as i64;

/// A time to store, truncated as Linux's `timestamp_truncate` does for ext4: seconds
/// clamped to `[i32::MIN, EXTRA_TIMESTAMP_MAX]` (`i32::MAX` and whole seconds in inodes
/// too small for the extra fields).
fn ext4_time(time: Timestamp, inode_size: u32) -> Ext4Timestamp {
    let min = i64::from(i32::MIN);
    if inode_size >= EXTRA_TIME_INODE_SIZE {
        let sec = time.sec.clamp(min, EXTRA_TIMESTAMP_MAX);
        Ext4Timestamp::new(sec, time.nsec)
    } else {
        Ext4Timestamp::new(time.sec.clamp(min, i64::from(i32::MAX)), 0)
    }
}

fn entry_kind(kind: DirectoryEntryType) -> Option<FileType> {
    Some(match kind {
        DirectoryEntryType::RegularFile => FileType::Regular,
        DirectoryEntryType::Directory => FileType::Directory,
        DirectoryEntryType::CharacterDevice => FileType::CharDevice,
        DirectoryEntryType::BlockDevice => FileType::BlockDevice,
        DirectoryEntryType::Fifo => FileType::Fifo,
        DirectoryEntryType::Socket => FileType::Socket,
        DirectoryEntryType::Symlink => FileType::Symlink,
        DirectoryEntryType::Unknown => return None,
    })
}

// ---- directory offsets ------------------------------------------------------------------
//
// rsext4 resumes a directory listing from a cursor: a byte offset in a linear directory,
// a (major hash, minor hash, collision ordinal) in an HTree-indexed one. They become
// `d_off` values as Linux's ext4 makes them: the byte offset as is; for HTree, the top
// bit (which no byte offset has) plus the 31 significant bits of the major hash and the
// 32-bit minor hash. The collision ordinal does not fit (Linux drops it too), so entries
// whose 63-bit hashes collide exactly may repeat after a resumed listing. Offset 0 is the
// start; `END_OFFSET` (Linux's EXT4_HTREE_EOF_64BIT) is the end.

/// `d_off` after the last entry.
const END_OFFSET: u64 = 0x7fff_ffff_ffff_ffff;
const HTREE_FLAG: u64 = 1 << 63;

fn cursor_offset(cursor: DirectoryCursor) -> u64 {
    match cursor {
        DirectoryCursor::Start => 0,
        DirectoryCursor::Linear { offset } if offset < 1 << 32 => offset,
        DirectoryCursor::Linear { .. } | DirectoryCursor::End => END_OFFSET,
        DirectoryCursor::HTree { major, minor, .. } => HTREE_FLAG | (u64::from(major >> 1) << 32) | u64::from(minor),
    }
}

fn offset_cursor(offset: u64, indexed: bool) -> DirectoryCursor {
    if offset == 0 {
        DirectoryCursor::Start
    } else if offset & HTREE_FLAG != 0 {
        if !indexed {
            return DirectoryCursor::End;
        }
        DirectoryCursor::HTree { major: ((offset >> 32) as u32 & 0x7fff_ffff) << 1, minor: offset as u32, collision: 0 }
    } else if offset >= 1 << 32 {
        DirectoryCursor::End
    } else if indexed {
        // The directory became indexed since this offset was handed out: start over in
        // hash order (entries may repeat, none is skipped).
        DirectoryCursor::Start
    } else {
        DirectoryCursor::Linear { offset }
    }
}

impl<R: RawMutex + Send + Sync + 'static, D: BlockDevice + 'static> Ext4Inode<R, D> {
    pub(crate) fn new(fs: Arc<Ext4Fs<R, D>>, ino: u32, kind: FileType) -> Self {
        Self { fs, ino, kind, unlinked: AtomicBool::new(false), fifo: Mutex::new(Weak::new()) }
    }

    /// Whether the inode lost its last link while this handle was alive: it is freed
    /// when the handle goes. Takes no lock (a cache can ask it under a spin lock).
    pub fn is_unlinked(&self) -> bool {
        self.unlinked.load(Ordering::Acquire)
    }

    /// Marks the inode as having no links (see [`Ext4Fs::release_unlinked`]).
    pub(crate) fn mark_unlinked(&self) {
        self.unlinked.store(true, Ordering::Release);
    }

    fn is_dir(&self) -> bool {
        self.kind == FileType::Directory
    }

    fn writable(&self) -> Result<()> {
        if self.fs.config.read_only {
            Err(Errno::EROFS)
        } else {
            Ok(())
        }
    }

    /// This directory's inode information, with `ENOENT` if it was removed (nothing may
    /// be looked up in or created in a deleted directory).
    fn live_dir(&self, state: &mut State<R, D>) -> Result<InodeInfo> {
        if !self.is_dir() {
            return Err(Errno::ENOTDIR);
        }
        let info = state.ext4()?.inode(inode_number(self.ino)?).errno()?;
        if info.links == 0 {
            return Err(Errno::ENOENT);
        }
        Ok(info)
    }

    /// The entry `name` of this directory (`ENOENT`), its inode checksum verified.
    fn child(&self, state: &mut State<R, D>, name: FileName<'_>) -> Result<InodeInfo> {
        let info = state.ext4()?.lookup_child(inode_number(self.ino)?, name).errno()?.ok_or(Errno::ENOENT)?;
        self.fs.verify_inode(state, info.number.raw())?;
        Ok(info)
    }

    fn handle_of(&self, state: &mut State<R, D>, info: &InodeInfo) -> Result<Arc<dyn Inode>> {
        let kind = kind_of(info.mode)?;
        Ok(self.fs.handle(state, info.number.raw(), kind))
    }

    /// `other` as an inode of this same mount.
    fn same_fs(&self, other: &Arc<dyn Inode>) -> Option<Arc<Self>> {
        downcast_arc::<Self>(other).filter(|inode| Arc::ptr_eq(&inode.fs, &self.fs))
    }

    /// Creates an entry with `make` (the common part of `create` and `symlink`).
    fn add_entry(
        &self,
        name: &[u8],
        make: impl FnOnce(&mut crate::fs::Mounted<D>, rsext4::InodeNumber, FileName<'_>) -> rsext4::Ext4Result<InodeInfo>,
    ) -> Result<Arc<dyn Inode>> {
        let file_name = file_name(name)?;
        if is_dot_or_dotdot(name) {
            return Err(Errno::EEXIST);
        }
        self.fs.with_state(|state| {
            self.live_dir(state)?;
            self.writable()?;
            let parent = inode_number(self.ino)?;
            // rsext4 looks the name up itself before allocating anything (`EEXIST`).
            let info = make(state.ext4()?, parent, file_name).errno()?;
            state.allocated.insert(info.number.raw());
            state.grown_directories.insert(self.ino);
            self.handle_of(state, &info)
        })
    }

    fn write_locked(&self, state: &mut State<R, D>, offset: u64, buf: &[u8]) -> Result<usize> {
        let ext4 = state.ext4()?;
        let number = inode_number(self.ino)?;
        let block_size = self.fs.superblock.block_size as usize;
        let mut written = 0;
        while written < buf.len() {
            let at = offset + written as u64;
            // End each chunk on a chunk boundary of the file so chunks stay block-aligned.
            let room = WRITE_CHUNK - (at % WRITE_CHUNK as u64) as usize;
            let length = room.min(buf.len() - written);
            match ext4.write_inode(number, at, &buf[written..written + length]) {
                Ok(()) => written += length,
                Err(error) if error.kind() == Ext4ErrorKind::NoSpace && length > block_size => {
                    // Fill what still fits, block by block.
                    let mut piece = block_size - (at % block_size as u64) as usize;
                    while written < buf.len() {
                        let at = offset + written as u64;
                        let length = piece.min(buf.len() - written);
                        match ext4.write_inode(number, at, &buf[written..written + length]) {
                            Ok(()) => written += length,
                            Err(_) if written > 0 => return Ok(written),
                            Err(error) => return Err(errno(error)),
                        }
                        piece = block_size;
                    }
                }
                Err(_) if written > 0 => return Ok(written),
                Err(error) => return Err(errno(error)),
            }
        }
        Ok(written)
    }

    fn check_write(&self, offset: u64, length: usize) -> Result<()> {
        self.writable()?;
        if self.kind != FileType::Regular {
            return Err(no_data_error(self.kind));
        }
        // Extents address at most 2^32 blocks.
        let limit = (1u64 << 32) * u64::from(self.fs.superblock.block_size);
        match offset.checked_add(length as u64) {
            Some(end) if end <= limit => Ok(()),
            _ => Err(Errno::EFBIG),
        }
    }

    fn update(&self, update: InodeMetadataUpdate) -> Result<()> {
        self.fs.with_state(|state| {
            self.writable()?;
            state.ext4()?.update_inode_metadata(inode_number(self.ino)?, update).errno()?;
            Ok(())
        })
    }

    fn open_fifo(&self, flags: OpenFlags) -> Result<Option<Arc<dyn Inode>>> {
        let (readable, writable) = (flags.readable(), flags.writable());
        if !readable && !writable {
            return Err(Errno::EINVAL);
        }
        let pipe = {
            let mut shared = self.fifo.lock();
            match shared.upgrade() {
                Some(pipe) => pipe,
                None => {
                    let pipe = Pipe::new(u64::from(self.ino));
                    *shared = Arc::downgrade(&pipe);
                    pipe
                }
            }
        };
        Ok(Some(pipe.open_end(readable, writable, flags.contains(OpenFlags::NONBLOCK))?))
    }

    fn metadata_from(&self, info: &InodeInfo) -> Metadata {
        Metadata {
            dev: self.fs.config.dev,
            ino: u64::from(self.ino),
            kind: self.kind,
            perm: u32::from(info.mode) & PERMISSION_BITS,
            nlink: u32::from(info.links),
            uid: info.uid,
            gid: info.gid,
            size: info.size,
            blocks: info.blocks,
            blksize: self.fs.superblock.block_size,
            rdev: info.device_number.map_or(0, |device| makedev(device.major(), device.minor())),
            atime: timestamp(info.atime_ts),
            mtime: timestamp(info.mtime_ts),
            ctime: timestamp(info.ctime_ts),
        }
    }
}

impl<R: RawMutex + Send + Sync + 'static, D: BlockDevice + 'static> Inode for Ext4Inode<R, D> {
    /// Blocks (reads the inode if rsext4 does not have it cached). If the inode cannot
    /// be read, reports only its number and type.
    fn metadata(&self) -> Metadata {
        let info = self.fs.with_state(|state| state.ext4()?.inode(inode_number(self.ino)?).errno());
        match info {
            Ok(info) => self.metadata_from(&info),
            Err(_) => Metadata {
                dev: self.fs.config.dev,
                ino: u64::from(self.ino),
                kind: self.kind,
                perm: 0,
                nlink: 0,
                uid: 0,
                gid: 0,
                size: 0,
                blocks: 0,
                blksize: self.fs.superblock.block_size,
                rdev: 0,
                atime: Timestamp::default(),
                mtime: Timestamp::default(),
                ctime: Timestamp::default(),
            },
        }
    }

    fn ino(&self) -> u64 {
        u64::from(self.ino)
    }

    fn kind(&self) -> FileType {
        self.kind
    }

    fn lookup(&self, name: &[u8]) -> Result<Arc<dyn Inode>> {
        if name.len() > NAME_MAX {
            return Err(Errno::ENAMETOOLONG);
        }
        self.fs.with_state(|state| {
            self.live_dir(state)?;
            if name == b"." {
                return Ok(self.fs.handle(state, self.ino, self.kind) as Arc<dyn Inode>);
            }
            let info = self.child(state, file_name(name)?)?;
            self.handle_of(state, &info)
        })
    }

    fn create(&self, name: &[u8], kind: FileType, perm: u32, rdev: u64) -> Result<Arc<dyn Inode>> {
        let permissions = FilePermissions::new((perm & PERMISSION_BITS) as u16).map_err(|_| Errno::EINVAL)?;
        let device = || DeviceNumber::new(major(rdev), minor(rdev)).map_err(|_| Errno::EINVAL);
        let special = match kind {
            FileType::Regular | FileType::Directory => None,
            FileType::CharDevice => Some(SpecialInodeKind::CharacterDevice(device()?)),
            FileType::BlockDevice => Some(SpecialInodeKind::BlockDevice(device()?)),
            FileType::Fifo => Some(SpecialInodeKind::Fifo),
            FileType::Socket => Some(SpecialInodeKind::Socket),
            FileType::Symlink => return Err(Errno::EINVAL),
        };
        self.add_entry(name, |ext4, parent, name| match (kind, special) {
            (_, Some(special)) => ext4.create_special_inode(CREATOR, parent, name, permissions, special),
            (FileType::Directory, None) => ext4.create_directory(CREATOR, parent, name, permissions),
            _ => ext4.create_regular_file(CREATOR, parent, name, permissions),
        })
    }

    fn symlink(&self, name: &[u8], target: &[u8]) -> Result<Arc<dyn Inode>> {
        if target.is_empty() {
            return Err(Errno::ENOENT);
        }
        // Linux: a target must fit in one block (and in PATH_MAX with its NUL).
        if target.len() >= PATH_MAX || target.len() >= self.fs.superblock.block_size as usize {
            return Err(Errno::ENAMETOOLONG);
        }
        self.add_entry(name, |ext4, parent, name| ext4.create_symlink(CREATOR, parent, name, target))
    }

    fn link(&self, name: &[u8], target: &Arc<dyn Inode>) -> Result<()> {
        let file_name = file_name(name)?;
        if is_dot_or_dotdot(name) {
            return Err(Errno::EEXIST);
        }
        let target = self.same_fs(target).ok_or(Errno::EXDEV)?;
        if target.is_dir() {
            return Err(Errno::EPERM);
        }
        self.fs.with_state(|state| {
            self.live_dir(state)?;
            self.writable()?;
            if target.unlinked.load(Ordering::Acquire) {
                return Err(Errno::ENOENT);
            }
            let parent = inode_number(self.ino)?;
            let ext4 = state.ext4()?;
            if ext4.lookup_child(parent, file_name).errno()?.is_some() {
                return Err(Errno::EEXIST);
            }
            ext4.hard_link(inode_number(target.ino)?, parent, file_name).errno()?;
            state.grown_directories.insert(self.ino);
            Ok(())
        })
    }

    fn unlink(&self, name: &[u8]) -> Result<()> {
        if is_dot_or_dotdot(name) {
            return Err(Errno::EISDIR);
        }
        let file_name = file_name(name)?;
        self.fs.with_state(|state| {
            self.live_dir(state)?;
            self.writable()?;
            let parent = inode_number(self.ino)?;
            let child = self.child(state, file_name)?;
            if child.is_directory() {
                return Err(Errno::EISDIR);
            }
            let outcome = state.ext4()?.unlink(parent, file_name).errno()?;
            if outcome.requires_reap() {
                self.fs.release_unlinked(state, outcome.inode.raw())?;
            }
            Ok(())
        })
    }

    fn rmdir(&self, name: &[u8]) -> Result<()> {
        match name {
            b"." => return Err(Errno::EINVAL),
            b".." => return Err(Errno::ENOTEMPTY),
            _ => {}
        }
        let file_name = file_name(name)?;
        self.fs.with_state(|state| {
            self.live_dir(state)?;
            self.writable()?;
            let parent = inode_number(self.ino)?;
            let child = self.child(state, file_name)?;
            if !child.is_directory() {
                return Err(Errno::ENOTDIR);
            }
            let outcome = state.ext4()?.remove_empty_directory(parent, file_name).errno()?;
            if outcome.requires_reap() {
                self.fs.release_unlinked(state, outcome.inode.raw())?;
            }
            Ok(())
        })
    }

    fn rename(&self, old_name: &[u8], new_dir: &Arc<dyn Inode>, new_name: &[u8], flags: u32) -> Result<()> {
        let mode = vfs::rename_mode(old_name, new_name, flags)?;
        let (old_file, new_file) = (file_name(old_name)?, file_name(new_name)?);
        if !self.is_dir() || new_dir.kind() != FileType::Directory {
            return Err(Errno::ENOTDIR);
        }
        let new_dir = self.same_fs(new_dir).ok_or(Errno::EXDEV)?;
        let options = match mode {
            RenameMode::Exchange => RenameOptions::EXCHANGE,
            RenameMode::NoReplace => RenameOptions::NO_REPLACE,
            RenameMode::Replace => RenameOptions::REPLACE,
        };
        self.fs.with_state(|state| {
            self.live_dir(state)?;
            new_dir.live_dir(state)?;
            self.writable()?;
            let (old_parent, new_parent) = (inode_number(self.ino)?, inode_number(new_dir.ino)?);
            let source = self.child(state, old_file)?;
            let target = match new_dir.child(state, new_file) {
                Ok(target) => Some(target),
                Err(Errno::ENOENT) => None,
                Err(errno) => return Err(errno),
            };
            let ext4 = state.ext4()?;
            match &target {
                Some(_) if mode == RenameMode::NoReplace => return Err(Errno::EEXIST),
                None if mode == RenameMode::Exchange => return Err(Errno::ENOENT),
                Some(target) if target.number == source.number => return Ok(()),
                Some(target) if mode != RenameMode::Exchange => match (source.is_directory(), target.is_directory()) {
                    (true, false) => return Err(Errno::ENOTDIR),
                    (false, true) => return Err(Errno::EISDIR),
                    _ => {}
                },
                _ => {}
            }
            let outcome = ext4.rename(old_parent, old_file, new_parent, new_file, options).errno()?;
            state.grown_directories.insert(new_dir.ino);
            state.grown_directories.insert(self.ino);
            if let Some(replaced) = outcome.replaced.filter(|replaced| replaced.requires_reap()) {
                self.fs.release_unlinked(state, replaced.inode.raw())?;
            }
            Ok(())
        })
    }

    /// Blocks; `emit` is called without the file-system lock.
    fn read_dir(&self, offset: u64, emit: &mut dyn FnMut(&DirEntry) -> bool) -> Result<()> {
        if !self.is_dir() {
            return Err(Errno::ENOTDIR);
        }
        let mut offset = offset;
        loop {
            let batch = self.fs.with_state(|state| {
                let ext4 = state.ext4()?;
                let number = inode_number(self.ino)?;
                let info = ext4.inode(number).errno()?;
                if info.links == 0 || offset == END_OFFSET {
                    return Ok(Vec::new());
                }
                let indexed = info.flags.contains(rsext4::InodeFlags::DIRECTORY_INDEX);
                let entries = ext4.read_directory(number, offset_cursor(offset, indexed), READ_DIR_BATCH).errno()?;
                let mut batch = Vec::with_capacity(entries.len());
                for entry in entries {
                    let kind = match entry_kind(entry.file_type) {
                        Some(kind) => kind,
                        None => kind_of(ext4.inode(entry.inode).errno()?.mode)?,
                    };
                    let next_offset = cursor_offset(entry.next_cursor);
                    batch.push(DirEntry { name: entry.name, ino: u64::from(entry.inode.raw()), kind, next_offset });
                }
                Ok(batch)
            })?;
            if batch.is_empty() {
                return Ok(());
            }
            for entry in &batch {
                if !emit(entry) {
                    return Ok(());
                }
                offset = entry.next_offset;
            }
            if offset == END_OFFSET {
                return Ok(());
            }
        }
    }

    fn readlink(&self) -> Result<Vec<u8>> {
        if self.kind != FileType::Symlink {
            return Err(Errno::EINVAL);
        }
        self.fs.with_state(|state| {
            let ext4 = state.ext4()?;
            let number = inode_number(self.ino)?;
            let size = ext4.inode(number).errno()?.size;
            if size >= PATH_MAX as u64 {
                return Err(Errno::EUCLEAN);
            }
            let mut target = vec![0u8; size as usize];
            let read = ext4.read_inode(number, 0, &mut target).errno()?;
            target.truncate(read);
            Ok(target)
        })
    }

    fn truncate(&self, size: u64) -> Result<()> {
        if self.kind != FileType::Regular {
            return Err(no_data_error(self.kind));
        }
        self.check_write(size, 0)?;
        self.fs.with_state(|state| state.ext4()?.truncate_inode(inode_number(self.ino)?, size).errno())
    }

    fn set_mode(&self, mode: u32) -> Result<()> {
        let permissions = FilePermissions::new((mode & PERMISSION_BITS) as u16).map_err(|_| Errno::EINVAL)?;
        self.update(InodeMetadataUpdate { permissions: Some(permissions), ..InodeMetadataUpdate::default() })
    }

    fn set_owner(&self, uid: Option<u32>, gid: Option<u32>) -> Result<()> {
        if uid.is_none() && gid.is_none() {
            return Ok(());
        }
        self.fs.with_state(|state| {
            self.writable()?;
            let ext4 = state.ext4()?;
            let number = inode_number(self.ino)?;
            let current = ext4.inode(number).errno()?;
            let owner = (uid.unwrap_or(current.uid), gid.unwrap_or(current.gid));
            ext4.update_inode_metadata(number, InodeMetadataUpdate { owner: Some(owner), ..InodeMetadataUpdate::default() })
                .errno()?;
            Ok(())
        })
    }

    fn set_times(&self, atime: SetTime, mtime: SetTime) -> Result<()> {
        let now = self.fs.now();
        let inode_size = self.fs.superblock.groups.inode_size;
        let resolve = |time: SetTime| match time {
            SetTime::Omit => None,
            SetTime::Now => Some(ext4_time(now, inode_size)),
            SetTime::At(time) => Some(ext4_time(time, inode_size)),
        };
        let (atime, mtime) = (resolve(atime), resolve(mtime));
        if atime.is_none() && mtime.is_none() {
            return Ok(());
        }
        self.update(InodeMetadataUpdate { atime, mtime, ..InodeMetadataUpdate::default() })
    }

    fn open(&self, flags: OpenFlags) -> Result<Option<Arc<dyn Inode>>> {
        match self.kind {
            FileType::CharDevice | FileType::BlockDevice => {
                let rdev = self.metadata().rdev;
                let device = self.fs.config.devices.get(self.kind, major(rdev), minor(rdev)).ok_or(Errno::ENXIO)?;
                Ok(Some(device))
            }
            FileType::Fifo => self.open_fifo(flags),
            FileType::Socket => Err(Errno::ENXIO),
            _ => Ok(None),
        }
    }

    /// Blocks; always `Ready`. Holes read as zeros.
    fn poll_read_at(&self, _cx: &mut Context<'_>, offset: u64, buf: &mut [u8]) -> Poll<Result<usize>> {
        if self.kind != FileType::Regular {
            return Poll::Ready(Err(no_data_error(self.kind)));
        }
        Poll::Ready(self.fs.with_state(|state| state.ext4()?.read_inode(inode_number(self.ino)?, offset, buf).errno()))
    }

    /// Blocks; always `Ready`. Short (but not failed) if the disk fills up midway.
    fn poll_write_at(&self, _cx: &mut Context<'_>, offset: u64, buf: &[u8]) -> Poll<Result<usize>> {
        if let Err(errno) = self.check_write(offset, buf.len()) {
            return Poll::Ready(Err(errno));
        }
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        Poll::Ready(self.fs.with_state(|state| self.write_locked(state, offset, buf)))
    }

    /// Blocks; always `Ready`; atomic against other appends and writes.
    fn poll_append(&self, _cx: &mut Context<'_>, buf: &[u8]) -> Poll<Result<(usize, u64)>> {
        Poll::Ready(self.fs.with_state(|state| {
            let end = state.ext4()?.inode(inode_number(self.ino)?).errno()?.size;
            self.check_write(end, buf.len())?;
            let written = if buf.is_empty() { 0 } else { self.write_locked(state, end, buf)? };
            Ok((written, end + written as u64))
        }))
    }
}
