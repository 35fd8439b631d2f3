//! Path resolution (Linux's `namei`): turning a byte path into a [`Location`].
//!
//! The walk keeps the rest of the path in a buffer and processes one component at a time:
//! `.` stays, `..` climbs (never above the caller's root; across mount points to the
//! parent mount), a name is looked up and the result entered if something is mounted on
//! it. A symbolic link is replaced by its target followed by the rest of the path, from
//! the caller's root if the target is absolute; more than [`MAX_SYMLINKS`] links in one
//! resolution is `ELOOP`. A trailing slash demands a directory and follows a final link.
//! Paths of `PATH_MAX` bytes or more and components over `NAME_MAX` are `ENAMETOOLONG`.

use alloc::vec::Vec;

use abi::{Errno, Result};

use crate::consts::{MAX_SYMLINKS, NAME_MAX, PATH_MAX};
use crate::mount::Location;
use crate::types::FileType;
use crate::vfs::Vfs;

/// What the last component of a path is, for the operations that treat `.`, `..` and
/// `/` specially (`mkdir("/")` is `EEXIST`, `rmdir(".")` is `EINVAL`, ...).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LastComponent {
    /// An ordinary name.
    Normal,
    /// `.`
    Dot,
    /// `..`
    DotDot,
    /// The path is only slashes.
    Root,
}

/// A path split into the directory that holds its last component and that component.
#[derive(Clone, Debug)]
pub struct ParentPath {
    /// The directory (all components but the last, resolved, following symlinks).
    pub dir: Location,
    /// The last component (empty for [`LastComponent::Root`]).
    pub name: Vec<u8>,
    /// Whether the path ended in one or more slashes.
    pub trailing_slash: bool,
}

impl ParentPath {
    /// The kind of the last component.
    pub fn last(&self) -> LastComponent {
        match self.name.as_slice() {
            b"" => LastComponent::Root,
            b"." => LastComponent::Dot,
            b".." => LastComponent::DotDot,
            _ => LastComponent::Normal,
        }
    }
}

/// Rejects empty (`ENOENT`) and overlong (`ENAMETOOLONG`) paths.
pub(crate) fn check_path(path: &[u8]) -> Result<()> {
    if path.is_empty() {
        return Err(Errno::ENOENT);
    }
    if path.len() >= PATH_MAX {
        return Err(Errno::ENAMETOOLONG);
    }
    Ok(())
}

impl Vfs {
    /// Resolves `path` from `start` (relative paths) or `root` (absolute paths, and the
    /// ceiling of `..`). A final symbolic link is followed if `follow_final` (or the path
    /// ends in a slash); otherwise the link itself is returned.
    pub fn resolve(&self, root: &Location, start: &Location, path: &[u8], follow_final: bool) -> Result<Location> {
        check_path(path)?;
        self.walk(root, start, path, follow_final)
    }

    /// Resolves all but the last component of `path` (following symlinks) and returns
    /// that directory with the last name, for operations that create, remove or rename.
    /// `ENOTDIR` if the directory part is not a directory.
    pub fn resolve_parent(&self, root: &Location, start: &Location, path: &[u8]) -> Result<ParentPath> {
        check_path(path)?;
        let Some(end) = path.iter().rposition(|&byte| byte != b'/').map(|last| last + 1) else {
            return Ok(ParentPath { dir: root.clone(), name: Vec::new(), trailing_slash: false });
        };
        let name_start = path[..end].iter().rposition(|&byte| byte == b'/').map_or(0, |slash| slash + 1);
        let name = &path[name_start..end];
        if name.len() > NAME_MAX {
            return Err(Errno::ENAMETOOLONG);
        }
        let dir = if name_start == 0 { start.clone() } else { self.walk(root, start, &path[..name_start], true)? };
        if dir.inode.kind() != FileType::Directory {
            return Err(Errno::ENOTDIR);
        }
        Ok(ParentPath { dir, name: name.to_vec(), trailing_slash: end < path.len() })
    }

    fn walk(&self, root: &Location, start: &Location, path: &[u8], follow_final: bool) -> Result<Location> {
        let mut current = if path.first() == Some(&b'/') { root.clone() } else { start.clone() };
        let mut rest: Vec<u8> = path.to_vec();
        let mut position = 0;
        let mut links_followed = 0;
        loop {
            while rest.get(position) == Some(&b'/') {
                position += 1;
            }
            if position == rest.len() {
                return Ok(current);
            }
            let end = rest[position..].iter().position(|&byte| byte == b'/').map_or(rest.len(), |at| position + at);
            let mut next = end;
            while rest.get(next) == Some(&b'/') {
                next += 1;
            }
            let is_last = next == rest.len();
            let trailing_slash = is_last && end < rest.len();
            if current.inode.kind() != FileType::Directory {
                return Err(Errno::ENOTDIR);
            }
            let name = &rest[position..end];
            if name.len() > NAME_MAX {
                return Err(Errno::ENAMETOOLONG);
            }
            match name {
                b"." => {}
                b".." => current = self.parent_of(&current, root)?,
                _ => {
                    let child = current.inode.lookup(name)?;
                    if child.kind() == FileType::Symlink && (!is_last || follow_final || trailing_slash) {
                        links_followed += 1;
                        if links_followed > MAX_SYMLINKS {
                            return Err(Errno::ELOOP);
                        }
                        let mut expanded = child.readlink()?;
                        if expanded.is_empty() {
                            return Err(Errno::ENOENT);
                        }
                        if !is_last || trailing_slash {
                            expanded.push(b'/');
                            expanded.extend_from_slice(&rest[next..]);
                        }
                        if expanded[0] == b'/' {
                            current = root.clone();
                        }
                        rest = expanded;
                        position = 0;
                        continue;
                    }
                    let found = if child.kind() == FileType::Directory {
                        Location::new(current.mount.clone(), child)
                    } else {
                        Location::with_link(current.mount.clone(), child, &current, name)
                    };
                    current = self.enter_mounts(found);
                }
            }
            if trailing_slash && current.inode.kind() != FileType::Directory {
                return Err(Errno::ENOTDIR);
            }
            position = next;
        }
    }

    /// `..` of `location`: itself at the caller's root or the global root; across mount
    /// points to the mount point's parent.
    pub(crate) fn parent_of(&self, location: &Location, root: &Location) -> Result<Location> {
        let mut current = location.clone();
        loop {
            if current.is_same(root) {
                return Ok(current);
            }
            if !current.is_mount_root() {
                break;
            }
            match &current.mount.parent {
                Some(point) => current = Location::new(point.mount.clone(), point.inode.clone()),
                None => return Ok(current),
            }
        }
        let parent = current.inode.lookup(b"..")?;
        Ok(self.enter_mounts(Location::new(current.mount.clone(), parent)))
    }
}
