//! The `Inode` trait: what every file-system object (tmpfs node, device, pipe end, later
//! disk files) offers the rest of the kernel.
//!
//! Each operation has a default that fails with the errno Linux gives when the object
//! does not support it (`ENOTDIR` for directory operations on a non-directory, `EISDIR` for
//! data I/O on a directory, `EINVAL`, `EPERM`, `ENOTTY`), so an implementation writes only
//! what it supports. Data I/O is *poll-based* (`poll_read_at`, `poll_write_at`,
//! `poll_ready`): a regular file answers at once, a pipe or device registers the waker and
//! returns `Pending`. This keeps the trait `dyn`-compatible without boxing futures; the
//! `async` layer lives in [`crate::OpenFile`].
//!
//! The trait has `Any` as a supertrait so that a file system can recognise its own inodes
//! (for `link` and `rename`, and `EXDEV` for foreign ones) by downcasting.

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::any::Any;
use core::task::{Context, Poll};

use abi::{Errno, Result};

use crate::page::PageRef;
use crate::types::{DirEntry, Events, FileType, Metadata, SetTime};
use crate::OpenFlags;

/// A file-system object. Shared as `Arc<dyn Inode>`.
pub trait Inode: Any + Send + Sync {
    /// Everything `stat` reports.
    fn metadata(&self) -> Metadata;

    /// The inode number (cheaper than `metadata().ino` where an implementation can).
    fn ino(&self) -> u64 {
        self.metadata().ino
    }

    /// The file type (cheaper than `metadata().kind` where an implementation can).
    fn kind(&self) -> FileType {
        self.metadata().kind
    }

    // ---- directories -------------------------------------------------------------------

    /// The child called `name` (`..` is the parent; the root is its own parent).
    fn lookup(&self, name: &[u8]) -> Result<Arc<dyn Inode>> {
        let _ = name;
        Err(Errno::ENOTDIR)
    }

    /// Creates a child of type `kind` (not `Symlink`: use [`Inode::symlink`]) with
    /// permission bits `perm`; `rdev` is the device number of a device node, else ignored.
    /// `EEXIST` if the name is taken.
    fn create(&self, name: &[u8], kind: FileType, perm: u32, rdev: u64) -> Result<Arc<dyn Inode>> {
        let _ = (name, kind, perm, rdev);
        Err(Errno::ENOTDIR)
    }

    /// Creates a symbolic link `name` pointing to `target`.
    fn symlink(&self, name: &[u8], target: &[u8]) -> Result<Arc<dyn Inode>> {
        let _ = (name, target);
        Err(Errno::ENOTDIR)
    }

    /// Adds a hard link `name` to `target` (`EPERM` for directories, `EXDEV` across file
    /// systems).
    fn link(&self, name: &[u8], target: &Arc<dyn Inode>) -> Result<()> {
        let _ = (name, target);
        Err(Errno::ENOTDIR)
    }

    /// Removes the non-directory entry `name` (`EISDIR` for a directory).
    fn unlink(&self, name: &[u8]) -> Result<()> {
        let _ = name;
        Err(Errno::ENOTDIR)
    }

    /// Removes the empty directory `name` (`ENOTEMPTY`, `ENOTDIR`).
    fn rmdir(&self, name: &[u8]) -> Result<()> {
        let _ = name;
        Err(Errno::ENOTDIR)
    }

    /// Moves entry `old_name` of this directory to `new_name` in `new_dir`, replacing an
    /// existing target as Linux does; `flags` are `RENAME_NOREPLACE`/`RENAME_EXCHANGE`.
    fn rename(&self, old_name: &[u8], new_dir: &Arc<dyn Inode>, new_name: &[u8], flags: u32) -> Result<()> {
        let _ = (old_name, new_dir, new_name, flags);
        Err(Errno::ENOTDIR)
    }

    /// Reports the entries from directory offset `offset` on (offset 0 is the start; `.`
    /// and `..` come first) to `emit`, stopping when it returns `false` (that entry was not
    /// consumed) or at the end. `emit` is never called with a lock held.
    fn read_dir(&self, offset: u64, emit: &mut dyn FnMut(&DirEntry) -> bool) -> Result<()> {
        let _ = (offset, emit);
        Err(Errno::ENOTDIR)
    }

    // ---- symbolic links ----------------------------------------------------------------

    /// The target of a symbolic link (`EINVAL` for anything else).
    fn readlink(&self) -> Result<Vec<u8>> {
        Err(Errno::EINVAL)
    }

    // ---- attributes --------------------------------------------------------------------

    /// Sets the size of a regular file (`EISDIR` for directories, `EINVAL` otherwise).
    fn truncate(&self, size: u64) -> Result<()> {
        let _ = size;
        Err(match self.kind() {
            FileType::Directory => Errno::EISDIR,
            _ => Errno::EINVAL,
        })
    }

    /// Sets the permission bits (`mode & 0o7777`).
    fn set_mode(&self, mode: u32) -> Result<()> {
        let _ = mode;
        Err(Errno::EPERM)
    }

    /// Sets owner and/or group (`None` leaves it).
    fn set_owner(&self, uid: Option<u32>, gid: Option<u32>) -> Result<()> {
        let _ = (uid, gid);
        Err(Errno::EPERM)
    }

    /// Sets access and modification times.
    fn set_times(&self, atime: SetTime, mtime: SetTime) -> Result<()> {
        let _ = (atime, mtime);
        Err(Errno::EPERM)
    }

    // ---- open and data I/O -------------------------------------------------------------

    /// Called when the inode is opened (not with `O_PATH`): a device node returns the
    /// registered device, a FIFO returns a new pipe end; `None` means "do I/O on this inode".
    fn open(&self, flags: OpenFlags) -> Result<Option<Arc<dyn Inode>>> {
        let _ = flags;
        Ok(None)
    }

    /// Reads at `offset` into `buf`; `Ready(Ok(0))` is end of file. `Pending` only after
    /// registering `cx`'s waker.
    fn poll_read_at(&self, cx: &mut Context<'_>, offset: u64, buf: &mut [u8]) -> Poll<Result<usize>> {
        let _ = (cx, offset, buf);
        Poll::Ready(Err(no_data_error(self.kind())))
    }

    /// Writes `buf` at `offset`; may write less than all of it.
    fn poll_write_at(&self, cx: &mut Context<'_>, offset: u64, buf: &[u8]) -> Poll<Result<usize>> {
        let _ = (cx, offset, buf);
        Poll::Ready(Err(no_data_error(self.kind())))
    }

    /// Writes `buf` at the current end (`O_APPEND`) and returns the bytes written and the
    /// new end. The default is not atomic against concurrent appends; file systems should
    /// override it.
    fn poll_append(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<Result<(usize, u64)>> {
        let end = self.metadata().size;
        self.poll_write_at(cx, end, buf).map(|result| result.map(|written| (written, end + written as u64)))
    }

    /// Which of `events` (plus `ERR`/`HUP`, always) hold now; `Pending` (after registering
    /// the waker) if none does. Regular files are always readable and writable.
    fn poll_ready(&self, cx: &mut Context<'_>, events: Events) -> Poll<Events> {
        let _ = cx;
        Poll::Ready(events & (Events::IN | Events::OUT | Events::RDNORM | Events::WRNORM))
    }

    /// Page `index` (file bytes `index * 4096 ..`) of a regular file's data: a counted
    /// reference to the page the file's own reads and writes use (a hole gets a page
    /// now). `Err(ENXIO)` for a page wholly past the end of the file (a fault there is
    /// `SIGBUS`); `Err(ENODEV)` from file systems without pages (the default): a
    /// `MAP_PRIVATE` mapping then copies the bytes with `poll_read_at`, and `MAP_SHARED`
    /// is refused with `ENODEV` (see [`Inode::has_pages`]). `Pending` only after
    /// registering `cx`'s waker (a page being read in).
    fn poll_page(&self, cx: &mut Context<'_>, index: u64) -> Poll<Result<PageRef>> {
        let _ = (cx, index);
        Poll::Ready(Err(Errno::ENODEV))
    }

    /// Whether [`Inode::poll_page`] is supported (`MAP_SHARED` needs it).
    fn has_pages(&self) -> bool {
        false
    }

    /// Whether `lseek`/`pread`/`pwrite` apply (`ESPIPE` otherwise).
    fn is_seekable(&self) -> bool {
        true
    }

    /// A device-specific request.
    fn ioctl(&self, cmd: u32, arg: usize) -> Result<usize> {
        let _ = (cmd, arg);
        Err(Errno::ENOTTY)
    }
}

impl core::fmt::Debug for dyn Inode {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Inode({:?} {})", self.kind(), self.ino())
    }
}

/// The errno of data I/O on an object without data: `EISDIR` for a directory, else `EINVAL`.
pub fn no_data_error(kind: FileType) -> Errno {
    match kind {
        FileType::Directory => Errno::EISDIR,
        _ => Errno::EINVAL,
    }
}

/// Whether two inode handles are the very same object.
pub fn same_object(a: &Arc<dyn Inode>, b: &Arc<dyn Inode>) -> bool {
    core::ptr::addr_eq(Arc::as_ptr(a), Arc::as_ptr(b))
}

/// `inode` as its concrete type `T`, if it is one.
pub fn downcast_arc<T: Inode>(inode: &Arc<dyn Inode>) -> Option<Arc<T>> {
    let any: Arc<dyn Any + Send + Sync> = inode.clone();
    any.downcast::<T>().ok()
}

/// `inode` as a reference to its concrete type `T`, if it is one.
pub fn downcast_ref<T: Inode>(inode: &dyn Inode) -> Option<&T> {
    let any: &dyn Any = inode;
    any.downcast_ref::<T>()
}

/// Collects every entry of a directory from `offset` on (for tests and small callers).
pub fn read_dir_all(dir: &dyn Inode, offset: u64) -> Result<Vec<DirEntry>> {
    let mut entries = Vec::new();
    dir.read_dir(offset, &mut |entry| {
        entries.push(entry.clone());
        true
    })?;
    Ok(entries)
}

/// What `renameat2`'s `flags` ask for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RenameMode {
    /// Replace an existing target (plain rename).
    Replace,
    /// `RENAME_NOREPLACE`: `EEXIST` if the target exists.
    NoReplace,
    /// `RENAME_EXCHANGE`: swap the two entries.
    Exchange,
}

/// Checks `renameat2`'s flags as Linux does: unknown flags, NOREPLACE with EXCHANGE,
/// and WHITEOUT (no file system here supports it) are `EINVAL`.
pub fn rename_flags(flags: u32) -> Result<RenameMode> {
    use crate::consts::{RENAME_EXCHANGE, RENAME_NOREPLACE};
    let exchange = flags & RENAME_EXCHANGE != 0;
    let no_replace = flags & RENAME_NOREPLACE != 0;
    if flags & !(RENAME_NOREPLACE | RENAME_EXCHANGE) != 0 || (exchange && no_replace) {
        return Err(Errno::EINVAL);
    }
    Ok(match (exchange, no_replace) {
        (true, _) => RenameMode::Exchange,
        (_, true) => RenameMode::NoReplace,
        _ => RenameMode::Replace,
    })
}

/// [`rename_flags`], then the names a file system's rename is given: `.` or `..` as
/// either is `EBUSY`.
pub fn rename_mode(old_name: &[u8], new_name: &[u8], flags: u32) -> Result<RenameMode> {
    let mode = rename_flags(flags)?;
    if is_dot_or_dotdot(old_name) || is_dot_or_dotdot(new_name) {
        return Err(Errno::EBUSY);
    }
    Ok(mode)
}

/// Whether `name` is `.` or `..`.
pub fn is_dot_or_dotdot(name: &[u8]) -> bool {
    name == b"." || name == b".."
}
