//! eventfd and epoll: two small inodes built on the VFS's poll interface.
//!
//! An eventfd is a counter with two wait queues. An epoll instance keeps its interest
//! list and, when waited on, polls each registered file's `poll_ready` with the waiting
//! task's waker: the files' own wait queues wake it, so epoll needs no callback
//! machinery of its own (level-triggered; EPOLLONESHOT disables an entry once reported).

use alloc::collections::BTreeMap;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::task::{Context, Poll};

use abi::poll as e;
use abi::{Errno, Result};
use ksync::{SpinLock, WaitQueue};
use vfs::{Events, FileType, Inode, Metadata, OpenFile, Timestamp};

fn anon_metadata(ino: u64) -> Metadata {
    Metadata {
        dev: 0xd,
        ino,
        kind: FileType::Regular,
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

static NEXT_INO: core::sync::atomic::AtomicU64 = core::sync::atomic::AtomicU64::new(1);

/// An eventfd: a 64-bit counter.
pub struct EventFd {
    ino: u64,
    counter: SpinLock<u64>,
    semaphore: bool,
    readers: WaitQueue,
    writers: WaitQueue,
}

impl EventFd {
    /// A new eventfd starting at `initial`; `semaphore` makes each read take 1.
    pub fn new(initial: u64, semaphore: bool) -> Arc<Self> {
        Arc::new(Self {
            ino: NEXT_INO.fetch_add(1, core::sync::atomic::Ordering::Relaxed),
            counter: SpinLock::new(initial),
            semaphore,
            readers: WaitQueue::new(),
            writers: WaitQueue::new(),
        })
    }
}

impl Inode for EventFd {
    fn metadata(&self) -> Metadata {
        anon_metadata(self.ino)
    }

    fn poll_read_at(&self, cx: &mut Context<'_>, _offset: u64, buf: &mut [u8]) -> Poll<Result<usize>> {
        if buf.len() < 8 {
            return Poll::Ready(Err(Errno::EINVAL));
        }
        self.readers.register(cx.waker());
        let mut counter = self.counter.lock();
        if *counter == 0 {
            return Poll::Pending;
        }
        let taken = if self.semaphore { 1 } else { *counter };
        *counter -= taken;
        drop(counter);
        buf[..8].copy_from_slice(&taken.to_ne_bytes());
        self.writers.wake_all();
        Poll::Ready(Ok(8))
    }

    fn poll_write_at(&self, cx: &mut Context<'_>, _offset: u64, buf: &[u8]) -> Poll<Result<usize>> {
        let Some(bytes) = buf.get(..8) else { return Poll::Ready(Err(Errno::EINVAL)) };
        let value = u64::from_ne_bytes(bytes.try_into().unwrap());
        if value == u64::MAX {
            return Poll::Ready(Err(Errno::EINVAL));
        }
        self.writers.register(cx.waker());
        let mut counter = self.counter.lock();
        if *counter > u64::MAX - 1 - value {
            return Poll::Pending; // would overflow: wait for a reader
        }
        *counter += value;
        drop(counter);
        self.readers.wake_all();
        Poll::Ready(Ok(8))
    }

    fn poll_ready(&self, cx: &mut Context<'_>, events: Events) -> Poll<Events> {
        self.readers.register(cx.waker());
        self.writers.register(cx.waker());
        let counter = *self.counter.lock();
        let mut ready = 0;
        if counter > 0 {
            ready |= Events::IN.0;
        }
        if counter < u64::MAX - 1 {
            ready |= Events::OUT.0;
        }
        let ready = ready & events.0;
        if ready == 0 { Poll::Pending } else { Poll::Ready(Events(ready)) }
    }

    fn is_seekable(&self) -> bool {
        false
    }
}

/// One registered file of an epoll instance.
struct Interest {
    file: Arc<OpenFile>,
    events: u32,
    data: u64,
    /// EPOLLONESHOT entries stop reporting after one event until EPOLL_CTL_MOD.
    disabled: bool,
}

/// An epoll instance.
pub struct Epoll {
    ino: u64,
    interests: SpinLock<BTreeMap<i32, Interest>>,
}

impl Epoll {
    /// A new, empty epoll instance.
    pub fn new() -> Arc<Self> {
        Arc::new(Self { ino: NEXT_INO.fetch_add(1, core::sync::atomic::Ordering::Relaxed), interests: SpinLock::new(BTreeMap::new()) })
    }

    /// EPOLL_CTL_ADD / MOD / DEL for `fd` (already looked up as `file`).
    pub fn control(&self, op: u32, fd: i32, file: Arc<OpenFile>, events: u32, data: u64) -> Result<()> {
        let mut interests = self.interests.lock();
        match op {
            e::EPOLL_CTL_ADD => {
                if interests.contains_key(&fd) {
                    return Err(Errno::EEXIST);
                }
                interests.insert(fd, Interest { file, events, data, disabled: false });
            }
            e::EPOLL_CTL_MOD => {
                let interest = interests.get_mut(&fd).ok_or(Errno::ENOENT)?;
                interest.events = events;
                interest.data = data;
                interest.disabled = false;
            }
            e::EPOLL_CTL_DEL => {
                interests.remove(&fd).ok_or(Errno::ENOENT)?;
            }
            _ => return Err(Errno::EINVAL),
        }
        Ok(())
    }

    /// Ready events (up to `max`), registering `cx` with every file that is not ready.
    pub fn poll_events(&self, cx: &mut Context<'_>, max: usize) -> Vec<abi::EpollEvent> {
        let snapshot: Vec<(i32, Arc<OpenFile>, u32, u64)> = self
            .interests
            .lock()
            .iter()
            .filter(|(_, interest)| !interest.disabled)
            .map(|(fd, interest)| (*fd, interest.file.clone(), interest.events, interest.data))
            .collect();
        let mut ready = Vec::new();
        for (fd, file, wanted, data) in snapshot {
            if ready.len() >= max {
                break;
            }
            let mask = (wanted as u16) | Events::ERR.0 | Events::HUP.0;
            if let Poll::Ready(events) = file.poll_ready(cx, Events(mask)) {
                let events = (events.0 & mask) as u32;
                if events != 0 {
                    ready.push(abi::EpollEvent { events, _pad: 0, data });
                    if wanted & e::EPOLLONESHOT != 0 {
                        if let Some(interest) = self.interests.lock().get_mut(&fd) {
                            interest.disabled = true;
                        }
                    }
                }
            }
        }
        ready
    }
}

impl Inode for Epoll {
    fn metadata(&self) -> Metadata {
        anon_metadata(self.ino)
    }

    fn poll_ready(&self, cx: &mut Context<'_>, events: Events) -> Poll<Events> {
        if events.0 & Events::IN.0 != 0 && !self.poll_events(cx, 1).is_empty() {
            Poll::Ready(Events::IN)
        } else {
            Poll::Pending
        }
    }

    fn is_seekable(&self) -> bool {
        false
    }
}

/// One end of an AF_UNIX stream socket pair: it reads from one pipe and writes into
/// the other, so the two ends are connected both ways (socketpair(2)).
pub struct SocketEnd {
    ino: u64,
    incoming: Arc<vfs::PipeEnd>,
    outgoing: Arc<vfs::PipeEnd>,
}

/// A connected pair of stream sockets.
pub fn socket_pair() -> (Arc<SocketEnd>, Arc<SocketEnd>) {
    let (a_read, b_write) = vfs::pipe();
    let (b_read, a_write) = vfs::pipe();
    let next = || NEXT_INO.fetch_add(1, core::sync::atomic::Ordering::Relaxed);
    (
        Arc::new(SocketEnd { ino: next(), incoming: a_read, outgoing: a_write }),
        Arc::new(SocketEnd { ino: next(), incoming: b_read, outgoing: b_write }),
    )
}

impl Inode for SocketEnd {
    fn metadata(&self) -> Metadata {
        let mut metadata = anon_metadata(self.ino);
        metadata.kind = FileType::Socket;
        metadata.perm = 0o777;
        metadata
    }

    fn poll_read_at(&self, cx: &mut Context<'_>, offset: u64, buf: &mut [u8]) -> Poll<Result<usize>> {
        self.incoming.poll_read_at(cx, offset, buf)
    }

    fn poll_write_at(&self, cx: &mut Context<'_>, offset: u64, buf: &[u8]) -> Poll<Result<usize>> {
        self.outgoing.poll_write_at(cx, offset, buf)
    }

    fn poll_ready(&self, cx: &mut Context<'_>, events: Events) -> Poll<Events> {
        let input = self.incoming.poll_ready(cx, Events(events.0 & !Events::OUT.0));
        let output = self.outgoing.poll_ready(cx, Events(events.0 & Events::OUT.0));
        let mut ready = 0;
        if let Poll::Ready(found) = input {
            ready |= found.0;
        }
        if let Poll::Ready(found) = output {
            ready |= found.0 & (Events::OUT.0 | Events::ERR.0);
        }
        if ready == 0 { Poll::Pending } else { Poll::Ready(Events(ready)) }
    }

    fn is_seekable(&self) -> bool {
        false
    }
}
