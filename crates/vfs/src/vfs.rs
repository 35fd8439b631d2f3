//! `Vfs`: the mount table and the path-level file operations system calls are made of.
//!
//! The kernel keeps one `Vfs`. Each process passes its own root (`chroot`) and starting
//! directory (its cwd, or the directory of a `dirfd`) as [`Location`]s; the `Vfs` resolves
//! paths against them and applies the rules Linux applies *above* the file systems: what
//! `.`, `..` and `/` mean as last components, trailing slashes, `EXDEV` between mounts,
//! `EBUSY` for mount points, and the many cases of `open` (`O_CREAT`, `O_EXCL`,
//! `O_NOFOLLOW`, `O_DIRECTORY`, `O_TRUNC`, FIFOs and device nodes).
//!
//! The mount table maps (parent mount, mount-point inode number) to the child mount. Each
//! mount counts its children, so a walk through a mount with none never touches the table.

use alloc::collections::BTreeMap;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::future::poll_fn;
use core::sync::atomic::{AtomicU64, Ordering};

use abi::{Errno, Result};
use ksync::SpinLock;

use crate::consts::*;
use crate::file::OpenFile;
use crate::inode::{downcast_ref, Inode};
use crate::mount::{add_child, remove_child, Location, Mount, MountPoint};
use crate::path::{LastComponent, ParentPath};
use crate::pipe::PipeEnd;
use crate::types::FileType;
use crate::OpenFlags;

/// The file-system tree: the root mount and everything mounted below it.
pub struct Vfs {
    root: Arc<Mount>,
    mounts: SpinLock<BTreeMap<(u64, u64), Arc<Mount>>>,
    next_mount_id: AtomicU64,
}

impl Vfs {
    /// A tree whose root is the directory `root` of a file system of type `fs_type`.
    pub fn new(root: Arc<dyn Inode>, source: &str, fs_type: &str) -> Self {
        Self {
            root: Arc::new(Mount::new(1, root, None, source, fs_type)),
            mounts: SpinLock::new(BTreeMap::new()),
            next_mount_id: AtomicU64::new(2),
        }
    }

    /// The root of the tree (the initial root and cwd of `init`).
    pub fn root(&self) -> Location {
        self.root.root_location()
    }

    /// Every mount, the root mount first, then in mount order (for `/proc/mounts`).
    pub fn mounts(&self) -> Vec<Arc<Mount>> {
        let mut mounts: Vec<Arc<Mount>> = self.mounts.lock().values().cloned().collect();
        mounts.sort_by_key(|mount| mount.id);
        mounts.insert(0, self.root.clone());
        mounts
    }

    /// The mount attached on `inode` of `mount`, if any.
    fn mounted_on(&self, mount: &Mount, inode: &Arc<dyn Inode>) -> Option<Arc<Mount>> {
        if mount.children.load(Ordering::Relaxed) == 0 || inode.kind() != FileType::Directory {
            return None;
        }
        self.mounts.lock().get(&(mount.id, inode.ino())).cloned()
    }

    /// Follows mounts stacked on `location` to the topmost one's root.
    pub fn enter_mounts(&self, mut location: Location) -> Location {
        while let Some(mounted) = self.mounted_on(&location.mount, &location.inode) {
            location = mounted.root_location();
        }
        location
    }

    /// Attaches the file system whose root directory is `root` on the directory `target`
    /// (which resolution has already carried to the top of any mounts there, so mounting
    /// twice on one path stacks). `ENOTDIR` unless `target` and `root` are directories.
    pub fn mount(&self, target: &Location, root: Arc<dyn Inode>, source: &str, fs_type: &str) -> Result<Arc<Mount>> {
        if target.inode.kind() != FileType::Directory || root.kind() != FileType::Directory {
            return Err(Errno::ENOTDIR);
        }
        let id = self.next_mount_id.fetch_add(1, Ordering::Relaxed);
        let point = MountPoint { mount: target.mount.clone(), inode: target.inode.clone() };
        let mount = Arc::new(Mount::new(id, root, Some(point), source, fs_type));
        let key = (target.mount.id, target.inode.ino());
        let mut mounts = self.mounts.lock();
        if mounts.contains_key(&key) {
            // Resolution enters mounts, so only a stale location can name a covered point.
            return Err(Errno::EBUSY);
        }
        mounts.insert(key, mount.clone());
        add_child(&target.mount);
        Ok(mount)
    }

    /// Detaches the mount whose root is `target`. `EINVAL` if `target` is not the root of
    /// a mount (or `flags` has unknown bits or `MNT_EXPIRE`), `EBUSY` for the root mount,
    /// a mount with mounts inside it, or, without `MNT_DETACH`, one still in use: any
    /// location or open file in it besides `target` itself.
    pub fn umount(&self, target: &Location, flags: u32) -> Result<()> {
        if flags & !(MNT_FORCE | MNT_DETACH | MNT_EXPIRE | UMOUNT_NOFOLLOW) != 0 || flags & MNT_EXPIRE != 0 {
            return Err(Errno::EINVAL);
        }
        if !target.is_mount_root() {
            return Err(Errno::EINVAL);
        }
        let mount = &target.mount;
        let Some(point) = &mount.parent else {
            return Err(Errno::EBUSY);
        };
        let mut mounts = self.mounts.lock();
        let key = (point.mount.id, point.inode.ino());
        if !mounts.get(&key).is_some_and(|found| Arc::ptr_eq(found, mount)) {
            return Err(Errno::EINVAL);
        }
        if mount.children.load(Ordering::Relaxed) != 0 {
            return Err(Errno::EBUSY);
        }
        // The table and `target` hold one reference each; anything more is a user.
        if flags & MNT_DETACH == 0 && Arc::strong_count(mount) > 2 {
            return Err(Errno::EBUSY);
        }
        mounts.remove(&key);
        remove_child(&point.mount);
        Ok(())
    }

    /// Whether `inode` of `mount` has something mounted on it.
    fn is_mount_point(&self, mount: &Mount, inode: &Arc<dyn Inode>) -> bool {
        self.mounted_on(mount, inode).is_some()
    }

    /// Checks the last component for operations that create a non-directory (or, with
    /// `is_dir`, a directory): `.`, `..`, `/` and existing names are `EEXIST`; a trailing
    /// slash on a new non-directory is `ENOENT`.
    fn check_create(&self, parent: &ParentPath, is_dir: bool) -> Result<()> {
        if parent.last() != LastComponent::Normal {
            return Err(Errno::EEXIST);
        }
        if parent.trailing_slash && !is_dir {
            return Err(match parent.dir.inode.lookup(&parent.name) {
                Ok(_) => Errno::EEXIST,
                Err(_) => Errno::ENOENT,
            });
        }
        Ok(())
    }

    /// `mkdirat`.
    pub fn mkdir(&self, root: &Location, start: &Location, path: &[u8], perm: u32) -> Result<()> {
        let parent = self.resolve_parent(root, start, path)?;
        self.check_create(&parent, true)?;
        parent.dir.inode.create(&parent.name, FileType::Directory, perm, 0).map(drop)
    }

    /// `mknodat` (regular files, devices, FIFOs, sockets; `EPERM` for directories).
    pub fn mknod(&self, root: &Location, start: &Location, path: &[u8], kind: FileType, perm: u32, rdev: u64) -> Result<()> {
        match kind {
            FileType::Directory => return Err(Errno::EPERM),
            FileType::Symlink => return Err(Errno::EINVAL),
            _ => {}
        }
        let parent = self.resolve_parent(root, start, path)?;
        self.check_create(&parent, false)?;
        parent.dir.inode.create(&parent.name, kind, perm, rdev).map(drop)
    }

    /// `symlinkat`: creates `path` pointing to `target`.
    pub fn symlink(&self, root: &Location, start: &Location, target: &[u8], path: &[u8]) -> Result<()> {
        if target.is_empty() {
            return Err(Errno::ENOENT);
        }
        let parent = self.resolve_parent(root, start, path)?;
        self.check_create(&parent, false)?;
        parent.dir.inode.symlink(&parent.name, target).map(drop)
    }

    /// `linkat`: makes `new_path` another name of `old_path` (following a final symlink of
    /// `old_path` only if `follow`, as `AT_SYMLINK_FOLLOW` does).
    #[allow(clippy::too_many_arguments)]
    pub fn link(
        &self,
        root: &Location,
        old_start: &Location,
        old_path: &[u8],
        new_start: &Location,
        new_path: &[u8],
        follow: bool,
    ) -> Result<()> {
        let old = self.resolve(root, old_start, old_path, follow)?;
        let parent = self.resolve_parent(root, new_start, new_path)?;
        self.check_create(&parent, false)?;
        if !Arc::ptr_eq(&old.mount, &parent.dir.mount) {
            return Err(Errno::EXDEV);
        }
        if old.inode.kind() == FileType::Directory {
            return Err(Errno::EPERM);
        }
        parent.dir.inode.link(&parent.name, &old.inode)
    }

    /// `unlinkat` without `AT_REMOVEDIR`.
    pub fn unlink(&self, root: &Location, start: &Location, path: &[u8]) -> Result<()> {
        let parent = self.resolve_parent(root, start, path)?;
        if parent.last() != LastComponent::Normal {
            return Err(Errno::EISDIR);
        }
        let child = parent.dir.inode.lookup(&parent.name)?;
        if child.kind() == FileType::Directory {
            return Err(Errno::EISDIR);
        }
        if parent.trailing_slash {
            return Err(Errno::ENOTDIR);
        }
        parent.dir.inode.unlink(&parent.name)
    }

    /// `rmdir` / `unlinkat(AT_REMOVEDIR)`.
    pub fn rmdir(&self, root: &Location, start: &Location, path: &[u8]) -> Result<()> {
        let parent = self.resolve_parent(root, start, path)?;
        match parent.last() {
            LastComponent::Normal => {}
            LastComponent::Dot => return Err(Errno::EINVAL),
            LastComponent::DotDot => return Err(Errno::ENOTEMPTY),
            LastComponent::Root => return Err(Errno::EBUSY),
        }
        let child = parent.dir.inode.lookup(&parent.name)?;
        if child.kind() != FileType::Directory {
            return Err(Errno::ENOTDIR);
        }
        if self.is_mount_point(&parent.dir.mount, &child) {
            return Err(Errno::EBUSY);
        }
        parent.dir.inode.rmdir(&parent.name)
    }

    /// `renameat2`.
    #[allow(clippy::too_many_arguments)]
    pub fn rename(
        &self,
        root: &Location,
        old_start: &Location,
        old_path: &[u8],
        new_start: &Location,
        new_path: &[u8],
        flags: u32,
    ) -> Result<()> {
        // WHITEOUT passes here; the file system refuses it (after path errors, as Linux).
        let mode = crate::inode::rename_flags(flags & !RENAME_WHITEOUT)?;
        let (exchange, no_replace) = (mode == crate::inode::RenameMode::Exchange, mode == crate::inode::RenameMode::NoReplace);
        let old = self.resolve_parent(root, old_start, old_path)?;
        let new = self.resolve_parent(root, new_start, new_path)?;
        if !Arc::ptr_eq(&old.dir.mount, &new.dir.mount) {
            return Err(Errno::EXDEV);
        }
        if old.last() != LastComponent::Normal {
            return Err(Errno::EBUSY);
        }
        if new.last() != LastComponent::Normal {
            return Err(if no_replace { Errno::EEXIST } else { Errno::EBUSY });
        }
        let source = old.dir.inode.lookup(&old.name)?;
        let target = match new.dir.inode.lookup(&new.name) {
            Ok(target) => Some(target),
            Err(Errno::ENOENT) => None,
            Err(error) => return Err(error),
        };
        if no_replace && target.is_some() {
            return Err(Errno::EEXIST);
        }
        if exchange && target.is_none() {
            return Err(Errno::ENOENT);
        }
        if source.kind() != FileType::Directory && (old.trailing_slash || (!exchange && new.trailing_slash)) {
            return Err(Errno::ENOTDIR);
        }
        if exchange && new.trailing_slash && target.as_ref().is_some_and(|target| target.kind() != FileType::Directory) {
            return Err(Errno::ENOTDIR);
        }
        let mount = &old.dir.mount;
        if self.is_mount_point(mount, &source) || target.as_ref().is_some_and(|target| self.is_mount_point(mount, target)) {
            return Err(Errno::EBUSY);
        }
        old.dir.inode.rename(&old.name, &new.dir.inode, &new.name, flags)
    }

    /// `readlinkat`: the target of the symbolic link `path` (`EINVAL` if not a link).
    pub fn readlink(&self, root: &Location, start: &Location, path: &[u8]) -> Result<Vec<u8>> {
        self.resolve(root, start, path, false)?.inode.readlink()
    }

    /// `openat`: resolves (or with `O_CREAT` creates, with permission bits `perm`, after the
    /// caller applied its umask) and opens `path`. Waits for the other side when opening a
    /// FIFO without `O_NONBLOCK`, so it is `async`.
    pub async fn open(&self, root: &Location, start: &Location, path: &[u8], flags: OpenFlags, perm: u32) -> Result<Arc<OpenFile>> {
        let location = self.open_location(root, start, path, flags, perm)?;
        let mut flags = flags | OpenFlags::LARGEFILE;
        if flags.contains(OpenFlags::PATH) {
            // O_PATH keeps only these; the rest are ignored.
            flags = OpenFlags(flags.0 & (OpenFlags::PATH.0 | OpenFlags::DIRECTORY.0 | OpenFlags::NOFOLLOW.0));
            let inode = location.inode.clone();
            return Ok(OpenFile::new(inode.clone(), inode, Some(location), flags));
        }
        let inode = location.inode.clone();
        let io = inode.open(flags)?.unwrap_or_else(|| inode.clone());
        if let Some(end) = downcast_ref::<PipeEnd>(&*io) {
            poll_fn(|cx| end.poll_partner(cx)).await;
        }
        Ok(OpenFile::new(inode, io, Some(location), flags))
    }

    /// The synchronous part of `open`: find or create the inode and apply the checks.
    fn open_location(&self, root: &Location, start: &Location, path: &[u8], flags: OpenFlags, perm: u32) -> Result<Location> {
        if flags.contains(OpenFlags::TMPFILE) {
            return Err(Errno::EOPNOTSUPP);
        }
        let path_only = flags.contains(OpenFlags::PATH);
        let create = flags.contains(OpenFlags::CREAT) && !path_only;
        if create && flags.contains(OpenFlags::DIRECTORY) {
            return Err(Errno::EINVAL);
        }
        let nofollow = flags.contains(OpenFlags::NOFOLLOW);
        let (location, created) = if create {
            self.open_create(root, start, path, flags, perm)?
        } else {
            (self.resolve(root, start, path, !nofollow)?, false)
        };
        let kind = location.inode.kind();
        if kind == FileType::Symlink && !path_only {
            return Err(Errno::ELOOP);
        }
        if flags.contains(OpenFlags::DIRECTORY) && kind != FileType::Directory {
            return Err(Errno::ENOTDIR);
        }
        if kind == FileType::Directory && !path_only && (create || flags.access_mode() != 0) {
            return Err(Errno::EISDIR);
        }
        if flags.contains(OpenFlags::TRUNC) && kind == FileType::Regular && !created && !path_only {
            location.inode.truncate(0)?;
        }
        Ok(location)
    }

    /// `O_CREAT`: find the last component, following symlinks (even dangling ones, whose
    /// target is then created) unless `O_EXCL`/`O_NOFOLLOW`; create it if missing.
    fn open_create(&self, root: &Location, start: &Location, path: &[u8], flags: OpenFlags, perm: u32) -> Result<(Location, bool)> {
        let mut start = start.clone();
        let mut path = path.to_vec();
        let mut links_followed = 0;
        loop {
            let parent = self.resolve_parent(root, &start, &path)?;
            if parent.last() != LastComponent::Normal || parent.trailing_slash {
                return Err(Errno::EISDIR);
            }
            match parent.dir.inode.lookup(&parent.name) {
                Ok(found) => {
                    if flags.contains(OpenFlags::EXCL) {
                        return Err(Errno::EEXIST);
                    }
                    if found.kind() == FileType::Symlink {
                        if flags.contains(OpenFlags::NOFOLLOW) {
                            return Err(Errno::ELOOP);
                        }
                        links_followed += 1;
                        if links_followed > MAX_SYMLINKS {
                            return Err(Errno::ELOOP);
                        }
                        path = found.readlink()?;
                        start = parent.dir;
                        continue;
                    }
                    let location = if found.kind() == FileType::Directory {
                        self.enter_mounts(Location::new(parent.dir.mount.clone(), found))
                    } else {
                        Location::with_link(parent.dir.mount.clone(), found, &parent.dir, &parent.name)
                    };
                    return Ok((location, false));
                }
                Err(Errno::ENOENT) => {
                    let created = parent.dir.inode.create(&parent.name, FileType::Regular, perm, 0)?;
                    let location = Location::with_link(parent.dir.mount.clone(), created, &parent.dir, &parent.name);
                    return Ok((location, true));
                }
                Err(error) => return Err(error),
            }
        }
    }
}
