//! The initramfs: reading "newc" cpio archives and unpacking them into a file system.
//!
//! Format (as in Linux's `init/initramfs.c` and `usr/gen_init_cpio.c`): each entry is a
//! 110-byte ASCII header (`070701`, or `070702` with checksums, then thirteen 8-digit hex
//! fields), the NUL-terminated name padded to 4 bytes, then the data padded to 4 bytes. An
//! entry named `TRAILER!!!` ends an archive; archives may be concatenated, with zero
//! padding between them, as the kernel accepts. Hard links share (device, inode) with
//! `nlink > 1`; the data is in one of the copies (the last, as cpio writes it).
//!
//! [`CpioReader`] only parses and never panics on any input: every inconsistency becomes
//! a [`CpioError`] with the byte offset of the entry. [`unpack`] creates the entries
//! through a [`Vfs`] (so symbolic links inside the archive, like Debian's `bin -> usr/bin`,
//! are followed for later entries), creating missing parent directories, replacing
//! entries of another type as Linux does, and setting mode, owner and mtime.

use alloc::collections::BTreeMap;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;
use core::task::{Context, Poll, Waker};

use abi::Errno;

use crate::consts::{PATH_MAX, PERMISSION_BITS};
use crate::inode::Inode;
use crate::mount::Location;
use crate::types::{makedev, FileType, SetTime, Timestamp};
use crate::vfs::Vfs;

/// Size of a newc header.
const HEADER_SIZE: usize = 110;
/// Name of the entry that ends an archive.
const TRAILER: &[u8] = b"TRAILER!!!";

/// Why an archive could not be read or unpacked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CpioErrorKind {
    /// The archive ends inside the named part (`"header"`, `"name"`, `"data"`) or before
    /// its `TRAILER!!!`.
    Truncated(&'static str),
    /// The header does not start with `070701`/`070702`.
    BadMagic,
    /// The named header field is not eight hex digits.
    BadHexField(&'static str),
    /// The name is empty, not NUL-terminated, too long, or has a `..` component.
    BadName(&'static str),
    /// The mode has no valid file type.
    BadFileType(u32),
    /// Creating the entry failed.
    Fs(Errno),
}

/// An error with the offset of the entry (or byte) where it happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CpioError {
    /// Byte offset in the archive.
    pub offset: usize,
    /// What went wrong.
    pub kind: CpioErrorKind,
}

impl fmt::Display for CpioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "initramfs: at byte {}: ", self.offset)?;
        match self.kind {
            CpioErrorKind::Truncated(part) => write!(f, "archive truncated in {part}"),
            CpioErrorKind::BadMagic => write!(f, "not a newc cpio header (bad magic)"),
            CpioErrorKind::BadHexField(field) => write!(f, "header field {field} is not hexadecimal"),
            CpioErrorKind::BadName(why) => write!(f, "bad file name: {why}"),
            CpioErrorKind::BadFileType(mode) => write!(f, "mode {mode:o} has no valid file type"),
            CpioErrorKind::Fs(errno) => write!(f, "cannot create entry: {errno}"),
        }
    }
}

/// One archive entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CpioEntry<'a> {
    /// Offset of the header in the archive.
    pub offset: usize,
    /// Inode number (identifies hard links together with `dev_major`/`dev_minor`).
    pub ino: u32,
    /// File type and permission bits.
    pub mode: u32,
    /// Owner.
    pub uid: u32,
    /// Group.
    pub gid: u32,
    /// Link count.
    pub nlink: u32,
    /// Modification time (seconds).
    pub mtime: u32,
    /// Device holding the file (for hard-link identity).
    pub dev_major: u32,
    /// Device holding the file (for hard-link identity).
    pub dev_minor: u32,
    /// Device number of a device node.
    pub rdev_major: u32,
    /// Device number of a device node.
    pub rdev_minor: u32,
    /// The name, without its NUL.
    pub name: &'a [u8],
    /// The contents (a symlink's target).
    pub data: &'a [u8],
}

/// Iterates over the entries of one or more concatenated newc archives.
pub struct CpioReader<'a> {
    archive: &'a [u8],
    position: usize,
    done: bool,
    /// Whether the last header read was a `TRAILER!!!` (zero padding may follow).
    after_trailer: bool,
}

impl<'a> CpioReader<'a> {
    /// A reader of `archive`.
    pub fn new(archive: &'a [u8]) -> Self {
        Self { archive, position: 0, done: false, after_trailer: false }
    }

    fn error(&mut self, offset: usize, kind: CpioErrorKind) -> Option<Result<CpioEntry<'a>, CpioError>> {
        self.done = true;
        Some(Err(CpioError { offset, kind }))
    }
}

fn align4(value: usize) -> usize {
    value.div_ceil(4) * 4
}

fn parse_hex(field: &[u8]) -> Option<u32> {
    field.iter().try_fold(0u32, |value, &digit| Some((value << 4) | (digit as char).to_digit(16)?))
}

impl<'a> Iterator for CpioReader<'a> {
    type Item = Result<CpioEntry<'a>, CpioError>;

    fn next(&mut self) -> Option<Self::Item> {
        const FIELDS: [&str; 13] = [
            "ino", "mode", "uid", "gid", "nlink", "mtime", "filesize", "devmajor", "devminor", "rdevmajor", "rdevminor",
            "namesize", "check",
        ];
        loop {
            if self.done {
                return None;
            }
            let offset = self.position;
            let archive = self.archive;
            // Between archives (and after the last): zero padding.
            if offset >= archive.len() {
                self.done = true;
                return if offset == 0 || self.after_trailer {
                    None
                } else {
                    self.error(archive.len(), CpioErrorKind::Truncated("archive (no TRAILER!!!)"))
                };
            }
            if archive[offset] == 0 && self.after_trailer {
                match archive[offset..].iter().position(|&byte| byte != 0) {
                    Some(skip) => {
                        // The next archive: parsing it starts afresh.
                        self.position = offset + skip;
                        self.after_trailer = false;
                        continue;
                    }
                    None => {
                        self.done = true;
                        return None;
                    }
                }
            }
            let Some(header) = archive.get(offset..offset + HEADER_SIZE) else {
                return self.error(offset, CpioErrorKind::Truncated("header"));
            };
            if &header[..6] != b"070701" && &header[..6] != b"070702" {
                return self.error(offset, CpioErrorKind::BadMagic);
            }
            let mut values = [0u32; 13];
            for (index, value) in values.iter_mut().enumerate() {
                let start = 6 + index * 8;
                match parse_hex(&header[start..start + 8]) {
                    Some(parsed) => *value = parsed,
                    None => return self.error(offset, CpioErrorKind::BadHexField(FIELDS[index])),
                }
            }
            let [ino, mode, uid, gid, nlink, mtime, file_size, dev_major, dev_minor, rdev_major, rdev_minor, name_size, _check] =
                values;
            let name_size = name_size as usize;
            if name_size == 0 {
                return self.error(offset, CpioErrorKind::BadName("empty (name size 0)"));
            }
            if name_size > PATH_MAX {
                return self.error(offset, CpioErrorKind::BadName("longer than PATH_MAX"));
            }
            let name_start = offset + HEADER_SIZE;
            let Some(name_with_nul) = archive.get(name_start..name_start + name_size) else {
                return self.error(offset, CpioErrorKind::Truncated("name"));
            };
            let (&last, name) = name_with_nul.split_last().expect("name_size > 0");
            if last != 0 || name.contains(&0) {
                return self.error(offset, CpioErrorKind::BadName("not a NUL-terminated string"));
            }
            let data_start = align4(name_start + name_size);
            // An empty body needs no bytes, not even the name's padding (a final trailer
            // may end the input unpadded).
            let data = if file_size == 0 {
                &archive[..0]
            } else {
                match data_start.checked_add(file_size as usize).and_then(|end| archive.get(data_start..end)) {
                    Some(data) => data,
                    None => return self.error(offset, CpioErrorKind::Truncated("data")),
                }
            };
            self.position = align4(data_start + data.len());
            self.after_trailer = name == TRAILER;
            if name == TRAILER {
                continue;
            }
            return Some(Ok(CpioEntry {
                offset,
                ino,
                mode,
                uid,
                gid,
                nlink,
                mtime,
                dev_major,
                dev_minor,
                rdev_major,
                rdev_minor,
                name,
                data,
            }));
        }
    }
}

/// What [`unpack`] created.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct UnpackStats {
    /// Directories created or updated.
    pub directories: usize,
    /// Regular files created.
    pub files: usize,
    /// Symbolic links created.
    pub symlinks: usize,
    /// Device, FIFO and socket nodes created.
    pub nodes: usize,
    /// Extra names of hard-linked entries.
    pub hard_links: usize,
    /// Bytes of file data written.
    pub bytes: u64,
}

/// The archive path as a relative path below the root: leading `/` and `./` dropped,
/// empty and `.` components removed (`""` is the root itself); `..` is refused.
fn normalize(name: &[u8]) -> Result<Vec<u8>, &'static str> {
    let mut path = Vec::with_capacity(name.len());
    for component in name.split(|&byte| byte == b'/') {
        match component {
            b"" | b"." => {}
            b".." => return Err("has a .. component"),
            _ => {
                if !path.is_empty() {
                    path.push(b'/');
                }
                path.extend_from_slice(component);
            }
        }
    }
    Ok(path)
}

/// Writes all of `data` into the (tmpfs-like, never pending) file `inode` from offset 0.
fn write_contents(inode: &Arc<dyn Inode>, data: &[u8]) -> Result<(), Errno> {
    inode.truncate(0)?;
    let mut cx = Context::from_waker(Waker::noop());
    let mut done = 0;
    while done < data.len() {
        match inode.poll_write_at(&mut cx, done as u64, &data[done..]) {
            Poll::Ready(Ok(0)) => return Err(Errno::EIO),
            Poll::Ready(Ok(written)) => done += written,
            Poll::Ready(Err(error)) => return Err(error),
            Poll::Pending => return Err(Errno::EAGAIN),
        }
    }
    Ok(())
}

/// Creates the missing directories above `path` (mode 0755).
fn make_parents(vfs: &Vfs, root: &Location, path: &[u8]) -> Result<(), Errno> {
    for (index, _) in path.iter().enumerate().filter(|&(_, &byte)| byte == b'/') {
        match vfs.mkdir(root, root, &path[..index], 0o755) {
            Ok(()) | Err(Errno::EEXIST) => {}
            Err(error) => return Err(error),
        }
    }
    Ok(())
}

/// Removes an entry in the way of a new one (Linux's `clean_path`).
fn remove_existing(dir: &Arc<dyn Inode>, name: &[u8], existing: &Arc<dyn Inode>) -> Result<(), Errno> {
    if existing.kind() == FileType::Directory {
        dir.rmdir(name)
    } else {
        dir.unlink(name)
    }
}

fn apply_attributes(node: &Arc<dyn Inode>, entry: &CpioEntry<'_>, kind: FileType) -> Result<(), Errno> {
    if kind != FileType::Symlink {
        node.set_mode(entry.mode & PERMISSION_BITS)?;
    }
    node.set_owner(Some(entry.uid), Some(entry.gid))?;
    if kind != FileType::Directory {
        let mtime = SetTime::At(Timestamp::new(i64::from(entry.mtime), 0));
        node.set_times(mtime, mtime)?;
    }
    Ok(())
}

/// Unpacks `archive` below `root` of `vfs`. Directory mtimes are set last, since creating
/// their entries changes them.
pub fn unpack(archive: &[u8], vfs: &Vfs, root: &Location) -> Result<UnpackStats, CpioError> {
    let mut stats = UnpackStats::default();
    let mut hard_links: BTreeMap<(u32, u32, u32), Arc<dyn Inode>> = BTreeMap::new();
    let mut directory_times: Vec<(Arc<dyn Inode>, u32)> = Vec::new();
    for entry in CpioReader::new(archive) {
        let entry = entry?;
        let offset = entry.offset;
        let fs_error = |errno: Errno| CpioError { offset, kind: CpioErrorKind::Fs(errno) };
        let kind = FileType::from_mode(entry.mode).ok_or(CpioError { offset, kind: CpioErrorKind::BadFileType(entry.mode) })?;
        let path = normalize(entry.name).map_err(|why| CpioError { offset, kind: CpioErrorKind::BadName(why) })?;
        if path.is_empty() {
            if kind == FileType::Directory {
                apply_attributes(&root.inode, &entry, kind).map_err(fs_error)?;
                directory_times.push((root.inode.clone(), entry.mtime));
                stats.directories += 1;
            }
            continue;
        }
        let parent = match vfs.resolve_parent(root, root, &path) {
            Err(Errno::ENOENT) => {
                make_parents(vfs, root, &path).map_err(fs_error)?;
                vfs.resolve_parent(root, root, &path)
            }
            other => other,
        }
        .map_err(fs_error)?;
        let (dir, name) = (&parent.dir.inode, parent.name.as_slice());
        let existing = dir.lookup(name).ok();
        if kind == FileType::Directory {
            let node = match existing {
                Some(existing) if existing.kind() == FileType::Directory => existing,
                other => {
                    if let Some(existing) = other {
                        remove_existing(dir, name, &existing).map_err(fs_error)?;
                    }
                    dir.create(name, FileType::Directory, entry.mode & PERMISSION_BITS, 0).map_err(fs_error)?
                }
            };
            apply_attributes(&node, &entry, kind).map_err(fs_error)?;
            directory_times.push((node, entry.mtime));
            stats.directories += 1;
            continue;
        }
        if let Some(existing) = &existing {
            remove_existing(dir, name, existing).map_err(fs_error)?;
        }
        let link_key = (entry.nlink >= 2 && kind != FileType::Symlink).then_some((entry.dev_major, entry.dev_minor, entry.ino));
        if let Some(first) = link_key.and_then(|key| hard_links.get(&key)) {
            dir.link(name, first).map_err(fs_error)?;
            if kind == FileType::Regular && !entry.data.is_empty() {
                write_contents(first, entry.data).map_err(fs_error)?;
                stats.bytes += entry.data.len() as u64;
            }
            apply_attributes(first, &entry, kind).map_err(fs_error)?;
            stats.hard_links += 1;
            continue;
        }
        let node = match kind {
            FileType::Symlink => dir.symlink(name, entry.data),
            _ => dir.create(name, kind, entry.mode & PERMISSION_BITS, makedev(entry.rdev_major, entry.rdev_minor)),
        }
        .map_err(fs_error)?;
        match kind {
            FileType::Regular => {
                write_contents(&node, entry.data).map_err(fs_error)?;
                stats.files += 1;
                stats.bytes += entry.data.len() as u64;
            }
            FileType::Symlink => stats.symlinks += 1,
            _ => stats.nodes += 1,
        }
        apply_attributes(&node, &entry, kind).map_err(fs_error)?;
        if let Some(key) = link_key {
            hard_links.insert(key, node);
        }
    }
    for (directory, mtime) in directory_times {
        let mtime = SetTime::At(Timestamp::new(i64::from(mtime), 0));
        directory.set_times(mtime, mtime).map_err(|errno| CpioError { offset: archive.len(), kind: CpioErrorKind::Fs(errno) })?;
    }
    Ok(stats)
}

/// Unpacks `archive` into the directory `root` (a fresh tmpfs root, typically), resolving
/// paths inside the archive as if `root` were `/`.
pub fn unpack_into(archive: &[u8], root: Arc<dyn Inode>) -> Result<UnpackStats, CpioError> {
    let vfs = Vfs::new(root, "initramfs", "rootfs");
    let root = vfs.root();
    unpack(archive, &vfs, &root)
}
