//! Mounts and locations: *where* an inode was reached, which an inode alone cannot say.
//!
//! A [`Mount`] places a file system's root directory over a directory (its mount point) of
//! a parent mount. A [`Location`] is an inode together with the mount it was reached
//! through; path resolution walks locations, so `..` at the root of a mounted file system
//! climbs to the mount point's parent, and [`Location::path`] can rebuild the absolute path
//! for `getcwd` and `/proc/self/fd` by climbing the same way. A location of a
//! non-directory also remembers the directory and name it was found under, since a file
//! has no `..` of its own.

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;
use core::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use abi::{Errno, Result};

use crate::inode::{same_object, Inode};
use crate::types::FileType;

/// Where a mount is attached: a directory of the parent mount.
pub(crate) struct MountPoint {
    pub(crate) mount: Arc<Mount>,
    pub(crate) inode: Arc<dyn Inode>,
}

/// One mounted file system.
pub struct Mount {
    pub(crate) id: u64,
    pub(crate) root: Arc<dyn Inode>,
    pub(crate) root_ino: u64,
    pub(crate) parent: Option<MountPoint>,
    source: String,
    fs_type: String,
    /// Mounts attached inside this one (only those need a mount-table lookup).
    pub(crate) children: AtomicUsize,
    read_only: AtomicBool,
}

impl fmt::Debug for Mount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mount").field("id", &self.id).field("source", &self.source).field("fs_type", &self.fs_type).finish()
    }
}

impl Mount {
    pub(crate) fn new(id: u64, root: Arc<dyn Inode>, parent: Option<MountPoint>, source: &str, fs_type: &str) -> Self {
        Self {
            id,
            root_ino: root.ino(),
            root,
            parent,
            source: String::from(source),
            fs_type: String::from(fs_type),
            children: AtomicUsize::new(0),
            read_only: AtomicBool::new(false),
        }
    }

    /// Whether the mount is read-only (`mount -o ro`, `remount,ro`): the kernel refuses
    /// changes through it with `EROFS`.
    pub fn is_read_only(&self) -> bool {
        self.read_only.load(Ordering::Relaxed)
    }

    /// Makes the mount read-only or read-write.
    pub fn set_read_only(&self, read_only: bool) {
        self.read_only.store(read_only, Ordering::Relaxed);
    }

    /// Unique number of this mount (`/proc/self/mountinfo`'s mount ID).
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The mounted file system's root directory.
    pub fn root(&self) -> &Arc<dyn Inode> {
        &self.root
    }

    /// What was mounted (`mount`'s first argument, e.g. `"tmpfs"` or `"/dev/vda"`).
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The file-system type name (`"tmpfs"`, `"proc"`, ...).
    pub fn fs_type(&self) -> &str {
        &self.fs_type
    }

    /// The mount point (in the parent mount), `None` for the root mount.
    pub fn mount_point(&self) -> Option<Location> {
        self.parent.as_ref().map(|point| Location::new(point.mount.clone(), point.inode.clone()))
    }

    /// The mount's root as a location.
    pub fn root_location(self: &Arc<Self>) -> Location {
        Location::new(self.clone(), self.root.clone())
    }
}

/// The directory and name a non-directory location was found under.
pub(crate) struct NameLink {
    pub(crate) dir: Location,
    pub(crate) name: Vec<u8>,
}

/// An inode as reached through a mount.
#[derive(Clone)]
pub struct Location {
    pub(crate) mount: Arc<Mount>,
    pub(crate) inode: Arc<dyn Inode>,
    pub(crate) link: Option<Arc<NameLink>>,
}

impl fmt::Debug for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Location(mount {}, ino {})", self.mount.id, self.inode.ino())
    }
}

impl Location {
    /// `inode` (which must belong to `mount`'s file system) as reached through `mount`.
    pub fn new(mount: Arc<Mount>, inode: Arc<dyn Inode>) -> Self {
        Self { mount, inode, link: None }
    }

    pub(crate) fn with_link(mount: Arc<Mount>, inode: Arc<dyn Inode>, dir: &Location, name: &[u8]) -> Self {
        Self { mount, inode, link: Some(Arc::new(NameLink { dir: dir.clone(), name: name.to_vec() })) }
    }

    /// `inode`, just created as entry `name` of this directory, as resolving `name` here
    /// would reach it (a new inode is no mount point), without looking it up again.
    pub fn created_child(&self, inode: Arc<dyn Inode>, name: &[u8]) -> Location {
        Self::with_link(self.mount.clone(), inode, self, name)
    }

    /// The inode.
    pub fn inode(&self) -> &Arc<dyn Inode> {
        &self.inode
    }

    /// The mount it was reached through.
    pub fn mount(&self) -> &Arc<Mount> {
        &self.mount
    }

    /// Whether both are the same inode reached through the same mount.
    pub fn is_same(&self, other: &Location) -> bool {
        Arc::ptr_eq(&self.mount, &other.mount)
            && (same_object(&self.inode, &other.inode) || self.inode.ino() == other.inode.ino())
    }

    /// Whether this is the root directory of its mount.
    pub fn is_mount_root(&self) -> bool {
        self.inode.ino() == self.mount.root_ino
    }

    /// The absolute path from the root of the whole tree (for `/proc/self/fd` links).
    pub fn path(&self) -> Result<Vec<u8>> {
        self.build_path(None)
    }

    /// The path as seen by a process whose root is `root` (for `getcwd`): locations
    /// outside it get Linux's `(unreachable)` prefix.
    pub fn path_from(&self, root: &Location) -> Result<Vec<u8>> {
        self.build_path(Some(root))
    }

    /// Climbs to the root, collecting names. A removed directory is `ENOENT` (as `getcwd`
    /// reports); a removed file gets Linux's ` (deleted)` suffix.
    fn build_path(&self, root: Option<&Location>) -> Result<Vec<u8>> {
        let mut names: Vec<Vec<u8>> = Vec::new();
        let mut deleted = false;
        let mut current = self.clone();
        if current.inode.kind() != FileType::Directory {
            let Some(link) = current.link.clone() else {
                return Err(Errno::ENOENT);
            };
            let still_there = link.dir.inode.lookup(&link.name).is_ok_and(|found| found.ino() == current.inode.ino());
            if still_there {
                names.push(link.name.clone());
            } else if let Some(name) = name_in(&link.dir.inode, current.inode.ino())? {
                names.push(name);
            } else {
                names.push(link.name.clone());
                deleted = true;
            }
            current = link.dir.clone();
        }
        let reachable = loop {
            if root.is_some_and(|root| current.is_same(root)) {
                break true;
            }
            if current.is_mount_root() {
                match &current.mount.parent {
                    Some(point) => {
                        current = Location::new(point.mount.clone(), point.inode.clone());
                        continue;
                    }
                    None => break root.is_none(),
                }
            }
            if current.inode.metadata().nlink == 0 {
                return Err(Errno::ENOENT);
            }
            let parent = current.inode.lookup(b"..")?;
            let name = name_in(&parent, current.inode.ino())?.ok_or(Errno::ENOENT)?;
            names.push(name);
            current = Location::new(current.mount.clone(), parent);
        };
        let mut path = Vec::new();
        if !reachable {
            path.extend_from_slice(b"(unreachable)");
        }
        for name in names.iter().rev() {
            path.push(b'/');
            path.extend_from_slice(name);
        }
        if names.is_empty() {
            path.push(b'/');
        }
        if deleted {
            path.extend_from_slice(b" (deleted)");
        }
        Ok(path)
    }
}

/// The name under which `dir` holds inode number `ino` (not `.` or `..`).
fn name_in(dir: &Arc<dyn Inode>, ino: u64) -> Result<Option<Vec<u8>>> {
    let mut found = None;
    dir.read_dir(0, &mut |entry| {
        if entry.ino == ino && entry.name != b"." && entry.name != b".." {
            found = Some(entry.name.clone());
            return false;
        }
        true
    })?;
    Ok(found)
}

/// Counts a new child mount of `mount`.
pub(crate) fn add_child(mount: &Mount) {
    mount.children.fetch_add(1, Ordering::Relaxed);
}

/// Uncounts a child mount of `mount`.
pub(crate) fn remove_child(mount: &Mount) {
    mount.children.fetch_sub(1, Ordering::Relaxed);
}
