//! `OpenFile`: what a file descriptor refers to (Linux's `struct file`).
//!
//! It ties an inode to an offset and the open flags. Two inodes are kept: `inode` is the
//! node that was opened (what `fstat`, `fchmod` and `/proc/self/fd` see) and `io` is the
//! object that does the reading and writing: the same inode for regular files and
//! directories, the registered driver for a device node, a pipe end for a FIFO.
//!
//! The `async` methods are thin `poll_fn` loops over the inodes' `poll_*` methods: they
//! advance the offset, apply `O_APPEND` and `O_NONBLOCK` (a would-be `Pending` becomes
//! `EAGAIN`), and keep writing to a blocking pipe until everything is written, as Linux
//! does. Dropping one of these futures abandons the operation; bytes a pipe write already
//! transferred stay transferred (a cancelled partial write does not report its count).

use alloc::sync::Arc;
use core::future::poll_fn;
use core::sync::atomic::{AtomicU32, Ordering};
use core::task::{Context, Poll};

use abi::{Errno, Result};
use ksync::SpinLock;

use crate::consts::*;
use crate::inode::Inode;
use crate::mount::Location;
use crate::pipe::pipe;
use crate::types::{DirEntry, Events, FileType, Metadata};
use crate::OpenFlags;

/// Flags `open` consumes and does not keep in the file (Linux clears them too).
const OPEN_ONLY_FLAGS: OpenFlags =
    OpenFlags(OpenFlags::CREAT.0 | OpenFlags::EXCL.0 | OpenFlags::NOCTTY.0 | OpenFlags::TRUNC.0 | OpenFlags::CLOEXEC.0);

/// An open file description, shared by all descriptors `dup`ed from one `open`.
pub struct OpenFile {
    inode: Arc<dyn Inode>,
    io: Arc<dyn Inode>,
    location: Option<Location>,
    offset: SpinLock<u64>,
    flags: AtomicU32,
}

/// Creates an anonymous pipe as two open files (read end, write end) for `pipe2`; only
/// `O_NONBLOCK` (and `O_DIRECT`, accepted and ignored) of `flags` are kept.
pub fn open_pipe(flags: OpenFlags) -> (Arc<OpenFile>, Arc<OpenFile>) {
    let (read_end, write_end) = pipe();
    let kept = OpenFlags(flags.0 & (OpenFlags::NONBLOCK.0 | OpenFlags::DIRECT.0));
    let reader: Arc<dyn Inode> = read_end;
    let writer: Arc<dyn Inode> = write_end;
    (
        OpenFile::new(reader.clone(), reader, None, OpenFlags::RDONLY | kept),
        OpenFile::new(writer.clone(), writer, None, OpenFlags::WRONLY | kept),
    )
}

impl core::fmt::Debug for OpenFile {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("OpenFile")
            .field("ino", &self.inode.ino())
            .field("kind", &self.inode.kind())
            .field("flags", &self.flags())
            .field("offset", &self.offset())
            .finish()
    }
}

impl OpenFile {
    /// An open file on `inode`, doing I/O through `io`, found at `location` (`None` for
    /// pipes and other objects without a path).
    pub fn new(inode: Arc<dyn Inode>, io: Arc<dyn Inode>, location: Option<Location>, flags: OpenFlags) -> Arc<Self> {
        Arc::new(Self {
            inode,
            io,
            location,
            offset: SpinLock::new(0),
            flags: AtomicU32::new(flags.without(OPEN_ONLY_FLAGS).0),
        })
    }

    /// The opened inode (for `fstat`, `fchmod`, ...).
    pub fn inode(&self) -> &Arc<dyn Inode> {
        &self.inode
    }

    /// The object doing the I/O (a device, a pipe end, or the inode itself).
    pub fn io(&self) -> &Arc<dyn Inode> {
        &self.io
    }

    /// Where the file was opened, for `/proc/self/fd` and `fchdir`.
    pub fn location(&self) -> Option<&Location> {
        self.location.as_ref()
    }

    /// Access mode and status flags (`fcntl(F_GETFL)`).
    pub fn flags(&self) -> OpenFlags {
        OpenFlags(self.flags.load(Ordering::Relaxed))
    }

    /// `fcntl(F_SETFL)`: replaces the changeable status flags, keeps the rest.
    pub fn set_status_flags(&self, flags: OpenFlags) {
        let changeable = OpenFlags::SETFL_MASK.0;
        let _ = self.flags.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |old| {
            Some((old & !changeable) | (flags.0 & changeable))
        });
    }

    /// `fstat`.
    pub fn metadata(&self) -> Metadata {
        self.inode.metadata()
    }

    /// The current file offset.
    pub fn offset(&self) -> u64 {
        *self.offset.lock()
    }

    fn is_path_only(&self) -> bool {
        self.flags().contains(OpenFlags::PATH)
    }

    /// Turns `Pending` into `EAGAIN` for non-blocking files.
    fn apply_nonblock<T>(&self, poll: Poll<Result<T>>) -> Poll<Result<T>> {
        match poll {
            Poll::Pending if self.flags().contains(OpenFlags::NONBLOCK) => Poll::Ready(Err(Errno::EAGAIN)),
            other => other,
        }
    }

    /// One read attempt at the file offset (ignoring `O_NONBLOCK`), advancing it.
    pub fn poll_read(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<Result<usize>> {
        if !self.flags().readable() {
            return Poll::Ready(Err(Errno::EBADF));
        }
        if !self.io.is_seekable() {
            return self.io.poll_read_at(cx, 0, buf);
        }
        let position = *self.offset.lock();
        let poll = self.io.poll_read_at(cx, position, buf);
        if let Poll::Ready(Ok(count)) = poll {
            *self.offset.lock() = position + count as u64;
        }
        poll
    }

    /// One write attempt at the file offset or, with `O_APPEND`, at the end (ignoring
    /// `O_NONBLOCK`), advancing the offset. May write only part of `buf`.
    pub fn poll_write(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<Result<usize>> {
        if !self.flags().writable() {
            return Poll::Ready(Err(Errno::EBADF));
        }
        if !self.io.is_seekable() {
            return self.io.poll_write_at(cx, 0, buf);
        }
        if self.flags().contains(OpenFlags::APPEND) {
            return self.io.poll_append(cx, buf).map(|result| {
                result.map(|(count, end)| {
                    *self.offset.lock() = end;
                    count
                })
            });
        }
        let position = *self.offset.lock();
        let poll = self.io.poll_write_at(cx, position, buf);
        if let Poll::Ready(Ok(count)) = poll {
            *self.offset.lock() = position + count as u64;
        }
        poll
    }

    /// `read(2)`.
    pub async fn read(&self, buf: &mut [u8]) -> Result<usize> {
        poll_fn(|cx| {
            let poll = self.poll_read(cx, buf);
            self.apply_nonblock(poll)
        })
        .await
    }

    /// `write(2)`: on a blocking pipe or device, keeps going until all of `buf` is written
    /// (or an error follows a partial write, which then reports the partial count).
    pub async fn write(&self, buf: &[u8]) -> Result<usize> {
        let mut done = 0;
        poll_fn(|cx| loop {
            match self.poll_write(cx, &buf[done..]) {
                Poll::Ready(Ok(count)) => {
                    done += count;
                    if count == 0 || done == buf.len() || self.io.is_seekable() {
                        return Poll::Ready(Ok(done));
                    }
                }
                Poll::Ready(Err(error)) => return Poll::Ready(if done > 0 { Ok(done) } else { Err(error) }),
                Poll::Pending if self.flags().contains(OpenFlags::NONBLOCK) => {
                    return Poll::Ready(if done > 0 { Ok(done) } else { Err(Errno::EAGAIN) });
                }
                Poll::Pending => return Poll::Pending,
            }
        })
        .await
    }

    /// Checks common to `pread`/`pwrite`, in Linux's order.
    fn positioned(&self, offset: i64, want_write: bool) -> Result<u64> {
        if offset < 0 {
            return Err(Errno::EINVAL);
        }
        if !self.io.is_seekable() {
            return Err(Errno::ESPIPE);
        }
        let flags = self.flags();
        if (want_write && !flags.writable()) || (!want_write && !flags.readable()) {
            return Err(Errno::EBADF);
        }
        Ok(offset as u64)
    }

    /// `pread64(2)`: reads at `offset` without moving the file offset.
    pub async fn pread(&self, buf: &mut [u8], offset: i64) -> Result<usize> {
        let offset = self.positioned(offset, false)?;
        poll_fn(|cx| {
            let poll = self.io.poll_read_at(cx, offset, buf);
            self.apply_nonblock(poll)
        })
        .await
    }

    /// `pwrite64(2)`: writes at `offset` without moving the file offset; with `O_APPEND`
    /// Linux appends regardless of `offset`, and so does this.
    pub async fn pwrite(&self, buf: &[u8], offset: i64) -> Result<usize> {
        let offset = self.positioned(offset, true)?;
        let append = self.flags().contains(OpenFlags::APPEND);
        poll_fn(|cx| {
            let poll = if append {
                self.io.poll_append(cx, buf).map(|result| result.map(|(count, _)| count))
            } else {
                self.io.poll_write_at(cx, offset, buf)
            };
            self.apply_nonblock(poll)
        })
        .await
    }

    /// `lseek(2)`: returns the new offset.
    pub fn seek(&self, offset: i64, whence: u32) -> Result<u64> {
        if !self.io.is_seekable() {
            return Err(Errno::ESPIPE);
        }
        let kind = self.inode.kind();
        let mut position = self.offset.lock();
        let base: i128 = match whence {
            SEEK_SET => 0,
            SEEK_CUR => i128::from(*position),
            SEEK_END if kind != FileType::Directory => i128::from(self.io.metadata().size),
            SEEK_DATA | SEEK_HOLE if kind == FileType::Regular => {
                let size = self.io.metadata().size;
                if offset < 0 {
                    return Err(Errno::EINVAL);
                }
                if offset as u64 >= size {
                    return Err(Errno::ENXIO);
                }
                // tmpfs reports no holes: data runs to the end of the file.
                let new = if whence == SEEK_DATA { offset as u64 } else { size };
                *position = new;
                return Ok(new);
            }
            _ => return Err(Errno::EINVAL),
        };
        let new = base + i128::from(offset);
        if new < 0 || new > i128::from(i64::MAX) {
            return Err(Errno::EINVAL);
        }
        *position = new as u64;
        Ok(new as u64)
    }

    /// `getdents64`: reports entries from the file offset to `emit` until it returns
    /// `false`; the offset then points behind the last entry `emit` accepted.
    pub fn read_dir(&self, emit: &mut dyn FnMut(&DirEntry) -> bool) -> Result<()> {
        if self.is_path_only() {
            return Err(Errno::EBADF);
        }
        if self.inode.kind() != FileType::Directory {
            return Err(Errno::ENOTDIR);
        }
        let start = *self.offset.lock();
        let mut next = start;
        let result = self.io.read_dir(start, &mut |entry| {
            let accepted = emit(entry);
            if accepted {
                next = entry.next_offset;
            }
            accepted
        });
        *self.offset.lock() = next;
        result
    }

    /// Readiness for `poll`/`select` (`NVAL` for `O_PATH` files).
    pub fn poll_ready(&self, cx: &mut Context<'_>, events: Events) -> Poll<Events> {
        if self.is_path_only() {
            return Poll::Ready(Events::NVAL);
        }
        self.io.poll_ready(cx, events)
    }

    /// `ioctl(2)`.
    pub fn ioctl(&self, cmd: u32, arg: usize) -> Result<usize> {
        if self.is_path_only() {
            return Err(Errno::EBADF);
        }
        self.io.ioctl(cmd, arg)
    }

    /// `ftruncate(2)`: `EINVAL` unless open for writing and `length >= 0`.
    pub fn truncate(&self, length: i64) -> Result<()> {
        if length < 0 || !self.flags().writable() {
            return Err(if self.is_path_only() { Errno::EBADF } else { Errno::EINVAL });
        }
        self.io.truncate(length as u64)
    }
}
