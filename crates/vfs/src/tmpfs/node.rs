//! `TmpInode`: every kind of tmpfs inode, and its [`Inode`] implementation.
//!
//! One type for all kinds keeps downcasting (for `link` and `rename`, which must recognise
//! inodes of the same tmpfs) to a single check. The kind never changes, so it and the inode
//! number sit outside the lock; everything else is in [`Inner`].

use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::task::{Context, Poll};

use abi::{Errno, Result};
use ksync::SpinLock;

use super::dir::Dir;
use super::file_data::FileData;
use super::FsShared;
use crate::consts::*;
use crate::inode::{downcast_arc, is_dot_or_dotdot, no_data_error, Inode, RenameMode};
use crate::page::PageRef;
use crate::pipe::Pipe;
use crate::types::{major, minor, DirEntry, FileType, Metadata, SetTime, Timestamp};
use crate::OpenFlags;

/// `st_size` tmpfs reports per directory entry (Linux's `BOGO_DIRENT_SIZE`).
const BOGO_DIRENT_SIZE: u64 = 20;
/// `st_blksize`.
const BLOCK_SIZE: u32 = 4096;

/// What an inode holds, by kind.
enum Content {
    Dir(Dir),
    File(FileData),
    Symlink(Vec<u8>),
    /// A FIFO: the pipe shared by its current openers, if any is open.
    Fifo(Weak<Pipe>),
    /// Device and socket nodes: nothing but attributes.
    Node,
}

/// Mutable state of an inode.
struct Inner {
    perm: u32,
    uid: u32,
    gid: u32,
    nlink: u32,
    rdev: u64,
    atime: Timestamp,
    mtime: Timestamp,
    ctime: Timestamp,
    content: Content,
}

impl Inner {
    fn dir(&self) -> Result<&Dir> {
        match &self.content {
            Content::Dir(dir) => Ok(dir),
            _ => Err(Errno::ENOTDIR),
        }
    }

    fn dir_mut(&mut self) -> Result<&mut Dir> {
        match &mut self.content {
            Content::Dir(dir) => Ok(dir),
            _ => Err(Errno::ENOTDIR),
        }
    }

    /// The directory, if it still exists (`ENOENT` once removed: nothing may be created in
    /// or looked up from a deleted directory).
    fn live_dir_mut(&mut self) -> Result<&mut Dir> {
        let removed = self.nlink == 0;
        let dir = self.dir_mut()?;
        if removed {
            return Err(Errno::ENOENT);
        }
        Ok(dir)
    }

    fn touch(&mut self, now: Timestamp) {
        self.mtime = now;
        self.ctime = now;
    }
}

/// A tmpfs inode of any kind.
pub struct TmpInode {
    pub(crate) fs: Arc<FsShared>,
    this: Weak<TmpInode>,
    ino: u64,
    kind: FileType,
    inner: SpinLock<Inner>,
}

/// Checks a name for a new or looked-up entry.
fn check_name(name: &[u8]) -> Result<()> {
    if name.is_empty() {
        return Err(Errno::ENOENT);
    }
    if name.len() > NAME_MAX {
        return Err(Errno::ENAMETOOLONG);
    }
    if name.contains(&b'/') || name.contains(&0) {
        return Err(Errno::EINVAL);
    }
    Ok(())
}

impl TmpInode {
    pub(super) fn new_root(fs: &Arc<FsShared>) -> Arc<TmpInode> {
        let now = fs.now();
        Arc::new_cyclic(|this: &Weak<TmpInode>| TmpInode {
            fs: fs.clone(),
            this: this.clone(),
            ino: fs.allocate_ino(),
            kind: FileType::Directory,
            inner: SpinLock::new(Inner {
                perm: 0o755,
                uid: 0,
                gid: 0,
                nlink: 2,
                rdev: 0,
                atime: now,
                mtime: now,
                ctime: now,
                content: Content::Dir(Dir::new(this.clone())),
            }),
        })
    }

    fn new_child(&self, kind: FileType, perm: u32, rdev: u64, content: Content, now: Timestamp) -> Arc<TmpInode> {
        Arc::new_cyclic(|this| TmpInode {
            fs: self.fs.clone(),
            this: this.clone(),
            ino: self.fs.allocate_ino(),
            kind,
            inner: SpinLock::new(Inner {
                perm: perm & PERMISSION_BITS,
                uid: 0,
                gid: 0,
                nlink: if kind == FileType::Directory { 2 } else { 1 },
                rdev: if kind.is_device() { rdev } else { 0 },
                atime: now,
                mtime: now,
                ctime: now,
                content,
            }),
        })
    }

    fn arc(&self) -> Arc<TmpInode> {
        self.this.upgrade().expect("a tmpfs inode is only reached through an Arc")
    }

    /// `other` as an inode of this same tmpfs instance.
    fn same_fs(&self, other: &Arc<dyn Inode>) -> Option<Arc<TmpInode>> {
        downcast_arc::<TmpInode>(other).filter(|inode| Arc::ptr_eq(&inode.fs, &self.fs))
    }

    fn is_dir(&self) -> bool {
        self.kind == FileType::Directory
    }

    /// The parent of a directory (itself for the root; `None` for non-directories).
    fn parent(&self) -> Option<Arc<TmpInode>> {
        self.inner.lock().dir().ok()?.parent.upgrade()
    }

    /// Whether `self` is `ancestor` or lies below it. Called with the name-space lock held.
    fn is_within(self: &Arc<Self>, ancestor: &TmpInode) -> bool {
        let mut node = self.clone();
        loop {
            if core::ptr::eq(&*node, ancestor) {
                return true;
            }
            match node.parent() {
                Some(parent) if !Arc::ptr_eq(&parent, &node) => node = parent,
                _ => return false,
            }
        }
    }

    /// The child `name` (`ENOENT`), for operations that need it to exist.
    fn child(&self, name: &[u8]) -> Result<Arc<TmpInode>> {
        self.child_if_any(name)?.ok_or(Errno::ENOENT)
    }

    fn child_if_any(&self, name: &[u8]) -> Result<Option<Arc<TmpInode>>> {
        let mut inner = self.inner.lock();
        Ok(inner.live_dir_mut()?.get(name).cloned())
    }

    /// Creates a new entry holding `content`: the common part of `create` and `symlink`.
    fn add_child(&self, name: &[u8], kind: FileType, perm: u32, rdev: u64, content: Content) -> Result<Arc<TmpInode>> {
        check_name(name)?;
        if is_dot_or_dotdot(name) {
            return Err(Errno::EEXIST);
        }
        let _namespace = self.fs.namespace.lock();
        let now = self.fs.now();
        let mut inner = self.inner.lock();
        let dir = inner.live_dir_mut()?;
        if dir.get(name).is_some() {
            return Err(Errno::EEXIST);
        }
        let child = self.new_child(kind, perm, rdev, content, now);
        dir.insert(name, child.clone());
        if kind == FileType::Directory {
            inner.nlink += 1;
        }
        inner.touch(now);
        Ok(child)
    }

    fn content_for(&self, kind: FileType) -> Result<Content> {
        Ok(match kind {
            FileType::Directory => Content::Dir(Dir::new(self.this.clone())),
            FileType::Regular => Content::File(FileData::new(self.fs.budget.clone())),
            FileType::Fifo => Content::Fifo(Weak::new()),
            FileType::CharDevice | FileType::BlockDevice | FileType::Socket => Content::Node,
            FileType::Symlink => return Err(Errno::EINVAL),
        })
    }

    fn rename_exchange(&self, old_name: &[u8], new_dir: &Arc<TmpInode>, new_name: &[u8], source: Arc<TmpInode>, target: Arc<TmpInode>) -> Result<()> {
        let now = self.fs.now();
        if core::ptr::eq(self, &**new_dir) {
            let mut inner = self.inner.lock();
            let dir = inner.dir_mut()?;
            dir.replace(old_name, target.clone());
            dir.replace(new_name, source.clone());
            inner.touch(now);
        } else {
            let mut old_inner = self.inner.lock();
            let mut new_inner = new_dir.inner.lock();
            old_inner.dir_mut()?.replace(old_name, target.clone());
            new_inner.dir_mut()?.replace(new_name, source.clone());
            match (source.is_dir(), target.is_dir()) {
                (true, false) => {
                    old_inner.nlink -= 1;
                    new_inner.nlink += 1;
                }
                (false, true) => {
                    old_inner.nlink += 1;
                    new_inner.nlink -= 1;
                }
                _ => {}
            }
            old_inner.touch(now);
            new_inner.touch(now);
            drop((old_inner, new_inner));
            if source.is_dir() {
                source.inner.lock().dir_mut()?.parent = new_dir.this.clone();
            }
            if target.is_dir() {
                target.inner.lock().dir_mut()?.parent = self.this.clone();
            }
        }
        source.inner.lock().ctime = now;
        target.inner.lock().ctime = now;
        Ok(())
    }

    fn rename_replace(&self, old_name: &[u8], new_dir: &Arc<TmpInode>, new_name: &[u8], source: Arc<TmpInode>, target: Option<Arc<TmpInode>>) -> Result<()> {
        let now = self.fs.now();
        if let Some(target) = &target {
            if target.is_dir() {
                let mut target_inner = target.inner.lock();
                if !target_inner.dir()?.is_empty() {
                    return Err(Errno::ENOTEMPTY);
                }
                target_inner.nlink = 0;
                target_inner.ctime = now;
            }
        }
        let target_was_dir = target.as_ref().is_some_and(|target| target.is_dir());
        if core::ptr::eq(self, &**new_dir) {
            let mut inner = self.inner.lock();
            let dir = inner.dir_mut()?;
            dir.remove(old_name);
            dir.insert(new_name, source.clone());
            if target_was_dir {
                inner.nlink -= 1;
            }
            inner.touch(now);
        } else {
            let mut old_inner = self.inner.lock();
            let mut new_inner = new_dir.inner.lock();
            old_inner.dir_mut()?.remove(old_name);
            new_inner.dir_mut()?.insert(new_name, source.clone());
            if source.is_dir() {
                old_inner.nlink -= 1;
                new_inner.nlink += 1;
            }
            if target_was_dir {
                new_inner.nlink -= 1;
            }
            old_inner.touch(now);
            new_inner.touch(now);
            drop((old_inner, new_inner));
            if source.is_dir() {
                source.inner.lock().dir_mut()?.parent = new_dir.this.clone();
            }
        }
        if let Some(target) = target.filter(|target| !target.is_dir()) {
            let mut target_inner = target.inner.lock();
            target_inner.nlink -= 1;
            target_inner.ctime = now;
        }
        source.inner.lock().ctime = now;
        Ok(())
    }

    fn open_fifo(&self, flags: OpenFlags) -> Result<Option<Arc<dyn Inode>>> {
        let (readable, writable) = (flags.readable(), flags.writable());
        if !readable && !writable {
            return Err(Errno::EINVAL);
        }
        let pipe = {
            let mut inner = self.inner.lock();
            let Content::Fifo(shared) = &mut inner.content else {
                return Err(Errno::EINVAL);
            };
            match shared.upgrade() {
                Some(pipe) => pipe,
                None => {
                    let pipe = Pipe::new(self.ino);
                    *shared = Arc::downgrade(&pipe);
                    pipe
                }
            }
        };
        let end = pipe.open_end(readable, writable, flags.contains(OpenFlags::NONBLOCK))?;
        Ok(Some(end))
    }
}

impl Inode for TmpInode {
    fn metadata(&self) -> Metadata {
        let inner = self.inner.lock();
        let (size, blocks) = match &inner.content {
            Content::Dir(dir) => ((dir.len() as u64 + 2) * BOGO_DIRENT_SIZE, 0),
            Content::File(data) => (data.size(), data.blocks()),
            Content::Symlink(target) => (target.len() as u64, 0),
            Content::Fifo(_) | Content::Node => (0, 0),
        };
        Metadata {
            dev: self.fs.dev,
            ino: self.ino,
            kind: self.kind,
            perm: inner.perm,
            nlink: inner.nlink,
            uid: inner.uid,
            gid: inner.gid,
            size,
            blocks,
            blksize: BLOCK_SIZE,
            rdev: inner.rdev,
            atime: inner.atime,
            mtime: inner.mtime,
            ctime: inner.ctime,
        }
    }

    fn ino(&self) -> u64 {
        self.ino
    }

    fn kind(&self) -> FileType {
        self.kind
    }

    fn lookup(&self, name: &[u8]) -> Result<Arc<dyn Inode>> {
        if name.len() > NAME_MAX {
            return Err(Errno::ENAMETOOLONG);
        }
        let mut inner = self.inner.lock();
        let dir = inner.live_dir_mut()?;
        let found: Option<Arc<TmpInode>> = match name {
            b"." => Some(self.arc()),
            b".." => dir.parent.upgrade(),
            _ => dir.get(name).cloned(),
        };
        Ok(found.ok_or(Errno::ENOENT)?)
    }

    fn create(&self, name: &[u8], kind: FileType, perm: u32, rdev: u64) -> Result<Arc<dyn Inode>> {
        let content = self.content_for(kind)?;
        Ok(self.add_child(name, kind, perm, rdev, content)?)
    }

    fn symlink(&self, name: &[u8], target: &[u8]) -> Result<Arc<dyn Inode>> {
        if target.is_empty() {
            return Err(Errno::ENOENT);
        }
        if target.len() >= PATH_MAX {
            return Err(Errno::ENAMETOOLONG);
        }
        Ok(self.add_child(name, FileType::Symlink, 0o777, 0, Content::Symlink(target.to_vec()))?)
    }

    fn link(&self, name: &[u8], target: &Arc<dyn Inode>) -> Result<()> {
        check_name(name)?;
        if is_dot_or_dotdot(name) {
            return Err(Errno::EEXIST);
        }
        let target = self.same_fs(target).ok_or(Errno::EXDEV)?;
        if target.is_dir() {
            return Err(Errno::EPERM);
        }
        let _namespace = self.fs.namespace.lock();
        let now = self.fs.now();
        let mut inner = self.inner.lock();
        let dir = inner.live_dir_mut()?;
        if dir.get(name).is_some() {
            return Err(Errno::EEXIST);
        }
        {
            let mut target_inner = target.inner.lock();
            if target_inner.nlink == 0 {
                return Err(Errno::ENOENT);
            }
            target_inner.nlink += 1;
            target_inner.ctime = now;
        }
        dir.insert(name, target);
        inner.touch(now);
        Ok(())
    }

    fn unlink(&self, name: &[u8]) -> Result<()> {
        if is_dot_or_dotdot(name) {
            return Err(Errno::EISDIR);
        }
        check_name(name)?;
        let _namespace = self.fs.namespace.lock();
        let now = self.fs.now();
        let child = {
            let mut inner = self.inner.lock();
            let dir = inner.live_dir_mut()?;
            let child = dir.get(name).ok_or(Errno::ENOENT)?;
            if child.is_dir() {
                return Err(Errno::EISDIR);
            }
            let child = dir.remove(name).ok_or(Errno::ENOENT)?;
            inner.touch(now);
            child
        };
        let mut child_inner = child.inner.lock();
        child_inner.nlink -= 1;
        child_inner.ctime = now;
        Ok(())
    }

    fn rmdir(&self, name: &[u8]) -> Result<()> {
        match name {
            b"." => return Err(Errno::EINVAL),
            b".." => return Err(Errno::ENOTEMPTY),
            _ => check_name(name)?,
        }
        let _namespace = self.fs.namespace.lock();
        let now = self.fs.now();
        let mut inner = self.inner.lock();
        let dir = inner.live_dir_mut()?;
        let child = dir.get(name).ok_or(Errno::ENOENT)?.clone();
        if !child.is_dir() {
            return Err(Errno::ENOTDIR);
        }
        {
            let mut child_inner = child.inner.lock();
            if !child_inner.dir()?.is_empty() {
                return Err(Errno::ENOTEMPTY);
            }
            child_inner.nlink = 0;
            child_inner.ctime = now;
        }
        dir.remove(name);
        inner.nlink -= 1;
        inner.touch(now);
        Ok(())
    }

    fn rename(&self, old_name: &[u8], new_dir: &Arc<dyn Inode>, new_name: &[u8], flags: u32) -> Result<()> {
        let mode = crate::inode::rename_mode(old_name, new_name, flags)?;
        let (exchange, no_replace) = (mode == RenameMode::Exchange, mode == RenameMode::NoReplace);
        check_name(old_name)?;
        check_name(new_name)?;
        if !self.is_dir() || new_dir.kind() != FileType::Directory {
            return Err(Errno::ENOTDIR);
        }
        let new_dir = self.same_fs(new_dir).ok_or(Errno::EXDEV)?;
        let _namespace = self.fs.namespace.lock();
        let source = self.child(old_name)?;
        let target = new_dir.child_if_any(new_name)?;
        if no_replace && target.is_some() {
            return Err(Errno::EEXIST);
        }
        if exchange && target.is_none() {
            return Err(Errno::ENOENT);
        }
        if target.as_ref().is_some_and(|target| Arc::ptr_eq(target, &source)) {
            return Ok(());
        }
        // A directory cannot move below itself; a target cannot be an ancestor of the source.
        if source.is_dir() && new_dir.is_within(&source) {
            return Err(Errno::EINVAL);
        }
        if let Some(target) = &target {
            if target.is_dir() && self.arc().is_within(target) {
                return Err(if exchange { Errno::EINVAL } else { Errno::ENOTEMPTY });
            }
        }
        match target {
            Some(target) if exchange => self.rename_exchange(old_name, &new_dir, new_name, source, target),
            target => {
                match (&target, source.is_dir()) {
                    (Some(target), true) if !target.is_dir() => return Err(Errno::ENOTDIR),
                    (Some(target), false) if target.is_dir() => return Err(Errno::EISDIR),
                    _ => {}
                }
                self.rename_replace(old_name, &new_dir, new_name, source, target)
            }
        }
    }

    fn read_dir(&self, offset: u64, emit: &mut dyn FnMut(&DirEntry) -> bool) -> Result<()> {
        let mut offset = offset;
        loop {
            let entry = {
                let inner = self.inner.lock();
                let dir = inner.dir()?;
                match offset {
                    0 => DirEntry { name: b".".to_vec(), ino: self.ino, kind: FileType::Directory, next_offset: 1 },
                    1 => DirEntry {
                        name: b"..".to_vec(),
                        ino: dir.parent.upgrade().map_or(self.ino, |parent| parent.ino),
                        kind: FileType::Directory,
                        next_offset: 2,
                    },
                    _ => match dir.entry_from(offset) {
                        Some((cookie, name, inode)) => {
                            DirEntry { name: name.to_vec(), ino: inode.ino, kind: inode.kind, next_offset: cookie + 1 }
                        }
                        None => return Ok(()),
                    },
                }
            };
            if !emit(&entry) {
                return Ok(());
            }
            offset = entry.next_offset;
        }
    }

    fn readlink(&self) -> Result<Vec<u8>> {
        match &self.inner.lock().content {
            Content::Symlink(target) => Ok(target.clone()),
            _ => Err(Errno::EINVAL),
        }
    }

    fn truncate(&self, size: u64) -> Result<()> {
        let mut inner = self.inner.lock();
        let Content::File(data) = &mut inner.content else {
            return Err(no_data_error(self.kind));
        };
        if data.size() != size {
            data.truncate(size)?;
            let now = self.fs.now();
            inner.touch(now);
        }
        Ok(())
    }

    fn set_mode(&self, mode: u32) -> Result<()> {
        let now = self.fs.now();
        let mut inner = self.inner.lock();
        inner.perm = mode & PERMISSION_BITS;
        inner.ctime = now;
        Ok(())
    }

    fn set_owner(&self, uid: Option<u32>, gid: Option<u32>) -> Result<()> {
        let now = self.fs.now();
        let mut inner = self.inner.lock();
        if let Some(uid) = uid {
            inner.uid = uid;
        }
        if let Some(gid) = gid {
            inner.gid = gid;
        }
        if (uid.is_some() || gid.is_some()) && self.kind == FileType::Regular {
            // Linux drops set-user-ID, and set-group-ID if group-executable, on chown.
            inner.perm &= !0o4000;
            if inner.perm & 0o010 != 0 {
                inner.perm &= !0o2000;
            }
        }
        inner.ctime = now;
        Ok(())
    }

    fn set_times(&self, atime: SetTime, mtime: SetTime) -> Result<()> {
        let now = self.fs.now();
        let mut inner = self.inner.lock();
        let resolve = |time: SetTime, current: Timestamp| match time {
            SetTime::Omit => current,
            SetTime::Now => now,
            SetTime::At(time) => time,
        };
        inner.atime = resolve(atime, inner.atime);
        inner.mtime = resolve(mtime, inner.mtime);
        if atime != SetTime::Omit || mtime != SetTime::Omit {
            inner.ctime = now;
        }
        Ok(())
    }

    fn open(&self, flags: OpenFlags) -> Result<Option<Arc<dyn Inode>>> {
        match self.kind {
            FileType::CharDevice | FileType::BlockDevice => {
                let rdev = self.inner.lock().rdev;
                let device = self.fs.devices.get(self.kind, major(rdev), minor(rdev)).ok_or(Errno::ENXIO)?;
                Ok(Some(device))
            }
            FileType::Fifo => self.open_fifo(flags),
            FileType::Socket => Err(Errno::ENXIO),
            _ => Ok(None),
        }
    }

    fn poll_read_at(&self, _cx: &mut Context<'_>, offset: u64, buf: &mut [u8]) -> Poll<Result<usize>> {
        let mut inner = self.inner.lock();
        let Content::File(data) = &inner.content else {
            return Poll::Ready(Err(no_data_error(self.kind)));
        };
        let count = data.read_at(offset, buf);
        // relatime: only refresh the access time if it is older than the last change.
        if inner.atime <= inner.mtime || inner.atime <= inner.ctime {
            inner.atime = self.fs.now();
        }
        Poll::Ready(Ok(count))
    }

    fn poll_write_at(&self, _cx: &mut Context<'_>, offset: u64, buf: &[u8]) -> Poll<Result<usize>> {
        let mut inner = self.inner.lock();
        let Content::File(data) = &mut inner.content else {
            return Poll::Ready(Err(no_data_error(self.kind)));
        };
        let result = data.write_at(offset, buf);
        if matches!(result, Ok(count) if count > 0) {
            let now = self.fs.now();
            inner.touch(now);
        }
        Poll::Ready(result)
    }

    fn poll_page(&self, _cx: &mut Context<'_>, index: u64) -> Poll<Result<PageRef>> {
        let mut inner = self.inner.lock();
        let Content::File(data) = &mut inner.content else {
            return Poll::Ready(Err(Errno::ENODEV));
        };
        Poll::Ready(data.page(index))
    }

    fn has_pages(&self) -> bool {
        self.kind == FileType::Regular
    }

    fn poll_append(&self, _cx: &mut Context<'_>, buf: &[u8]) -> Poll<Result<(usize, u64)>> {
        let mut inner = self.inner.lock();
        let Content::File(data) = &mut inner.content else {
            return Poll::Ready(Err(no_data_error(self.kind)));
        };
        let end = data.size();
        let result = data.write_at(end, buf);
        if matches!(result, Ok(count) if count > 0) {
            let now = self.fs.now();
            inner.touch(now);
        }
        Poll::Ready(result.map(|count| (count, end + count as u64)))
    }
}
