//! Pipes: anonymous (`pipe2`) and named (FIFO nodes), as Linux's `fs/pipe.c` behaves.
//!
//! A [`Pipe`] is a 64 KiB ring buffer under a spin lock with two wait queues, one for
//! readers (woken when data arrives or the last writer leaves) and one for writers (woken
//! when space frees up or the last reader leaves). Each opener holds a [`PipeEnd`]; the
//! counts of open readers and writers change only when an end is created or *dropped*, so
//! closing the last descriptor of an end (the last `Arc<OpenFile>` holding it) is what
//! makes the reader see end of file or the writer get `EPIPE`.
//!
//! Waiters register their waker while still holding the state lock and notifiers wake
//! after releasing it, so a wake-up can never slip between a check and a registration.
//! Writes of at most `PIPE_BUF` bytes wait until they fit whole (atomic); larger writes
//! take whatever room there is, and [`crate::OpenFile::write`] keeps going for blocking
//! descriptors.

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, Ordering};
use core::task::{Context, Poll};

use abi::{Errno, Result};
use ksync::{SpinLock, WaitQueue};

use crate::consts::{PIPE_BUF, PIPE_CAPACITY};
use crate::inode::Inode;
use crate::types::{makedev, Events, FileType, Metadata, Timestamp};

/// The device number `stat` shows for anonymous pipes (Linux's pipefs is an anonymous
/// device; 0:12 is what it usually gets).
pub const PIPEFS_DEV: u64 = makedev(0, 12);

/// Inode numbers of anonymous pipes.
static NEXT_PIPE_INO: AtomicU64 = AtomicU64::new(1);

/// A fixed-capacity byte ring, allocated on the first write.
struct Ring {
    buffer: Vec<u8>,
    head: usize,
    len: usize,
}

impl Ring {
    const fn new() -> Self {
        Self { buffer: Vec::new(), head: 0, len: 0 }
    }

    fn free(&self) -> usize {
        PIPE_CAPACITY - self.len
    }

    /// Copies as much of `data` as fits; `ENOMEM` if the buffer cannot be allocated.
    fn push(&mut self, data: &[u8]) -> Result<usize> {
        if self.buffer.is_empty() {
            self.buffer.try_reserve_exact(PIPE_CAPACITY).map_err(|_| Errno::ENOMEM)?;
            self.buffer.resize(PIPE_CAPACITY, 0);
        }
        let count = data.len().min(self.free());
        let tail = (self.head + self.len) % PIPE_CAPACITY;
        let first = count.min(PIPE_CAPACITY - tail);
        self.buffer[tail..tail + first].copy_from_slice(&data[..first]);
        self.buffer[..count - first].copy_from_slice(&data[first..count]);
        self.len += count;
        Ok(count)
    }

    /// Moves up to `out.len()` bytes out.
    fn pop(&mut self, out: &mut [u8]) -> usize {
        let count = out.len().min(self.len);
        let first = count.min(PIPE_CAPACITY - self.head);
        out[..first].copy_from_slice(&self.buffer[self.head..self.head + first]);
        out[first..count].copy_from_slice(&self.buffer[..count - first]);
        self.head = (self.head + count) % PIPE_CAPACITY;
        self.len -= count;
        if self.len == 0 {
            self.head = 0;
        }
        count
    }
}

struct PipeState {
    ring: Ring,
    /// Open read ends.
    readers: usize,
    /// Open write ends.
    writers: usize,
    /// Read ends ever opened (Linux's `r_counter`): a FIFO writer waits for it to change.
    reader_opens: u64,
    /// Write ends ever opened (`w_counter`).
    writer_opens: u64,
}

/// The shared buffer of one pipe or FIFO.
pub struct Pipe {
    ino: u64,
    state: SpinLock<PipeState>,
    /// Readers waiting for data, a writer, or end of file.
    read_wait: WaitQueue,
    /// Writers waiting for room, a reader, or `EPIPE`.
    write_wait: WaitQueue,
}

/// What a FIFO end opened without `O_NONBLOCK` waits for before `open` returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Partner {
    None,
    /// A reader waits until `writer_opens` differs from this value.
    Writer(u64),
    /// A writer waits until `reader_opens` differs from this value.
    Reader(u64),
}

/// One opener's end of a pipe: readable, writable, or both (a FIFO opened `O_RDWR`).
/// Dropping it closes that end.
pub struct PipeEnd {
    pipe: Arc<Pipe>,
    readable: bool,
    writable: bool,
    partner: Partner,
    /// `writer_opens` when a non-blocking reader opened with no writer: `HUP` is only
    /// reported once some writer has come (and gone) since, as on Linux.
    hup_after_writer_opens: u64,
}

/// Creates an anonymous pipe and returns its (read end, write end).
pub fn pipe() -> (Arc<PipeEnd>, Arc<PipeEnd>) {
    let pipe = Pipe::new(NEXT_PIPE_INO.fetch_add(1, Ordering::Relaxed));
    {
        let mut state = pipe.state.lock();
        state.readers = 1;
        state.writers = 1;
        state.reader_opens = 1;
        state.writer_opens = 1;
    }
    let read_end = Arc::new(PipeEnd {
        pipe: pipe.clone(),
        readable: true,
        writable: false,
        partner: Partner::None,
        hup_after_writer_opens: 0,
    });
    let write_end =
        Arc::new(PipeEnd { pipe, readable: false, writable: true, partner: Partner::None, hup_after_writer_opens: 0 });
    (read_end, write_end)
}

impl Pipe {
    /// A pipe with no ends yet (a FIFO's buffer); `ino` is what anonymous ends report.
    pub fn new(ino: u64) -> Arc<Pipe> {
        Arc::new(Pipe {
            ino,
            state: SpinLock::new(PipeState {
                ring: Ring::new(),
                readers: 0,
                writers: 0,
                reader_opens: 0,
                writer_opens: 0,
            }),
            read_wait: WaitQueue::new(),
            write_wait: WaitQueue::new(),
        })
    }

    /// Opens a new end of this FIFO, applying `fifo(7)`: a non-blocking write-only open
    /// with no reader fails with `ENXIO`; a blocking read-only (write-only) open must then
    /// wait, with [`PipeEnd::poll_partner`], until a writer (reader) has opened.
    pub fn open_end(self: &Arc<Self>, readable: bool, writable: bool, nonblocking: bool) -> Result<Arc<PipeEnd>> {
        let end = {
            let mut state = self.state.lock();
            if writable && !readable && nonblocking && state.readers == 0 {
                return Err(Errno::ENXIO);
            }
            if readable {
                state.readers += 1;
                state.reader_opens += 1;
            }
            if writable {
                state.writers += 1;
                state.writer_opens += 1;
            }
            let mut hup_after_writer_opens = 0;
            let partner = if readable && !writable && state.writers == 0 {
                if nonblocking {
                    hup_after_writer_opens = state.writer_opens;
                    Partner::None
                } else {
                    Partner::Writer(state.writer_opens)
                }
            } else if writable && !readable && state.readers == 0 {
                Partner::Reader(state.reader_opens)
            } else {
                Partner::None
            };
            PipeEnd { pipe: self.clone(), readable, writable, partner, hup_after_writer_opens }
        };
        // A waiting opener of the other kind may now proceed.
        if readable {
            self.write_wait.wake_all();
        }
        if writable {
            self.read_wait.wake_all();
        }
        Ok(Arc::new(end))
    }

    /// Open (readers, writers).
    pub fn ends(&self) -> (usize, usize) {
        let state = self.state.lock();
        (state.readers, state.writers)
    }

    /// Bytes buffered.
    pub fn buffered(&self) -> usize {
        self.state.lock().ring.len
    }
}

impl PipeEnd {
    /// The pipe this end belongs to.
    pub fn pipe(&self) -> &Arc<Pipe> {
        &self.pipe
    }

    /// Whether this end reads.
    pub fn is_readable(&self) -> bool {
        self.readable
    }

    /// Whether this end writes.
    pub fn is_writable(&self) -> bool {
        self.writable
    }

    /// Ready once the partner a blocking FIFO open waits for has opened (at once for
    /// anonymous pipes and ends that need no partner).
    pub fn poll_partner(&self, cx: &mut Context<'_>) -> Poll<()> {
        let state = self.pipe.state.lock();
        match self.partner {
            Partner::None => Poll::Ready(()),
            Partner::Writer(seen) if state.writer_opens != seen => Poll::Ready(()),
            Partner::Reader(seen) if state.reader_opens != seen => Poll::Ready(()),
            Partner::Writer(_) => {
                self.pipe.read_wait.register(cx.waker());
                Poll::Pending
            }
            Partner::Reader(_) => {
                self.pipe.write_wait.register(cx.waker());
                Poll::Pending
            }
        }
    }
}

impl Drop for PipeEnd {
    fn drop(&mut self) {
        {
            let mut state = self.pipe.state.lock();
            if self.readable {
                state.readers -= 1;
            }
            if self.writable {
                state.writers -= 1;
            }
        }
        if self.readable {
            self.pipe.write_wait.wake_all();
        }
        if self.writable {
            self.pipe.read_wait.wake_all();
        }
    }
}

impl Inode for PipeEnd {
    fn metadata(&self) -> Metadata {
        Metadata {
            dev: PIPEFS_DEV,
            ino: self.pipe.ino,
            kind: FileType::Fifo,
            perm: 0o600,
            nlink: 1,
            uid: 0,
            gid: 0,
            size: 0,
            blocks: 0,
            blksize: 4096,
            rdev: 0,
            atime: Timestamp::default(),
            mtime: Timestamp::default(),
            ctime: Timestamp::default(),
        }
    }

    fn ino(&self) -> u64 {
        self.pipe.ino
    }

    fn kind(&self) -> FileType {
        FileType::Fifo
    }

    fn is_seekable(&self) -> bool {
        false
    }

    fn set_mode(&self, _mode: u32) -> Result<()> {
        Ok(())
    }

    fn poll_read_at(&self, cx: &mut Context<'_>, _offset: u64, buf: &mut [u8]) -> Poll<Result<usize>> {
        if !self.readable {
            return Poll::Ready(Err(Errno::EBADF));
        }
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        let mut state = self.pipe.state.lock();
        if state.ring.len > 0 {
            let count = state.ring.pop(buf);
            drop(state);
            self.pipe.write_wait.wake_all();
            Poll::Ready(Ok(count))
        } else if state.writers == 0 {
            Poll::Ready(Ok(0))
        } else {
            self.pipe.read_wait.register(cx.waker());
            Poll::Pending
        }
    }

    fn poll_write_at(&self, cx: &mut Context<'_>, _offset: u64, buf: &[u8]) -> Poll<Result<usize>> {
        if !self.writable {
            return Poll::Ready(Err(Errno::EBADF));
        }
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        let mut state = self.pipe.state.lock();
        if state.readers == 0 {
            return Poll::Ready(Err(Errno::EPIPE));
        }
        let free = state.ring.free();
        let must_fit_whole = buf.len() <= PIPE_BUF;
        if free == 0 || (must_fit_whole && free < buf.len()) {
            self.pipe.write_wait.register(cx.waker());
            return Poll::Pending;
        }
        let result = state.ring.push(buf);
        drop(state);
        if matches!(result, Ok(count) if count > 0) {
            self.pipe.read_wait.wake_all();
        }
        Poll::Ready(result)
    }

    fn poll_append(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<Result<(usize, u64)>> {
        self.poll_write_at(cx, 0, buf).map(|result| result.map(|written| (written, 0)))
    }

    fn poll_ready(&self, cx: &mut Context<'_>, events: Events) -> Poll<Events> {
        let state = self.pipe.state.lock();
        let mut ready = Events::EMPTY;
        if self.readable {
            if state.ring.len > 0 {
                ready |= Events::IN | Events::RDNORM;
            }
            if state.writers == 0 && state.writer_opens != self.hup_after_writer_opens {
                ready |= Events::HUP;
            }
        }
        if self.writable {
            if state.ring.free() >= PIPE_BUF {
                ready |= Events::OUT | Events::WRNORM;
            }
            if state.readers == 0 {
                ready |= Events::ERR;
            }
        }
        let ready = ready & (events | Events::ERR | Events::HUP);
        if !ready.is_empty() {
            return Poll::Ready(ready);
        }
        if self.readable {
            self.pipe.read_wait.register(cx.waker());
        }
        if self.writable {
            self.pipe.write_wait.register(cx.waker());
        }
        Poll::Pending
    }
}
