//! Host tests of the VFS, with the fixtures they share: a test clock, a tmpfs-rooted
//! [`Vfs`], and a tiny hand-driven executor whose waker counts its wake-ups, so tests can
//! check both that futures park (`Pending`) and that they are really woken.

mod cpio;
mod fd_table;
mod open_file;
mod path;
mod pipe;
mod tmpfs;

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use abi::Result;

use crate::{DeviceRegistry, FileType, Inode, Location, OpenFile, OpenFlags, TmpFs, Vfs};

static SECONDS: AtomicI64 = AtomicI64::new(1_000);

/// A clock that advances one second per reading, so every change gets a later time.
pub(crate) fn test_clock() -> (i64, u32) {
    (SECONDS.fetch_add(1, Ordering::Relaxed), 500)
}

/// A waker that counts how often it was woken.
pub(crate) struct CountingWaker(AtomicUsize);

impl Wake for CountingWaker {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// A future polled by hand with a counting waker.
pub(crate) struct Task<'a, T> {
    future: Pin<Box<dyn Future<Output = T> + 'a>>,
    counter: Arc<CountingWaker>,
    waker: Waker,
}

impl<'a, T> Task<'a, T> {
    pub(crate) fn new(future: impl Future<Output = T> + 'a) -> Self {
        let counter = Arc::new(CountingWaker(AtomicUsize::new(0)));
        let waker = Waker::from(counter.clone());
        Self { future: Box::pin(future), counter, waker }
    }

    pub(crate) fn poll(&mut self) -> Poll<T> {
        self.future.as_mut().poll(&mut Context::from_waker(&self.waker))
    }

    /// How many times the waker was woken so far.
    pub(crate) fn wakes(&self) -> usize {
        self.counter.0.load(Ordering::SeqCst)
    }
}

/// Polls `future` once; it must complete.
pub(crate) fn ready<T>(future: impl Future<Output = T>) -> T {
    match Task::new(future).poll() {
        Poll::Ready(value) => value,
        Poll::Pending => panic!("future unexpectedly pending"),
    }
}

/// A context whose waker counts, for calling `poll_*` methods directly.
pub(crate) fn counting_context() -> (Arc<CountingWaker>, Waker) {
    let counter = Arc::new(CountingWaker(AtomicUsize::new(0)));
    (counter.clone(), Waker::from(counter))
}

/// A tmpfs-rooted tree with helpers that work on absolute paths.
pub(crate) struct Fixture {
    pub(crate) vfs: Vfs,
    pub(crate) root: Location,
    pub(crate) devices: Arc<DeviceRegistry>,
}

pub(crate) fn fixture() -> Fixture {
    let devices = Arc::new(DeviceRegistry::new());
    let fs = TmpFs::new(0x10, test_clock, devices.clone());
    let vfs = Vfs::new(fs.root(), "rootfs", "tmpfs");
    let root = vfs.root();
    Fixture { vfs, root, devices }
}

impl Fixture {
    pub(crate) fn resolve(&self, path: &str) -> Result<Location> {
        self.vfs.resolve(&self.root, &self.root, path.as_bytes(), true)
    }

    pub(crate) fn lresolve(&self, path: &str) -> Result<Location> {
        self.vfs.resolve(&self.root, &self.root, path.as_bytes(), false)
    }

    pub(crate) fn mkdir(&self, path: &str) -> Result<()> {
        self.vfs.mkdir(&self.root, &self.root, path.as_bytes(), 0o755)
    }

    pub(crate) fn symlink(&self, target: &str, path: &str) -> Result<()> {
        self.vfs.symlink(&self.root, &self.root, target.as_bytes(), path.as_bytes())
    }

    pub(crate) fn open(&self, path: &str, flags: OpenFlags) -> Result<Arc<OpenFile>> {
        ready(self.vfs.open(&self.root, &self.root, path.as_bytes(), flags, 0o644))
    }

    pub(crate) fn write_file(&self, path: &str, data: &[u8]) {
        let file = self.open(path, OpenFlags::WRONLY | OpenFlags::CREAT | OpenFlags::TRUNC).unwrap();
        assert_eq!(ready(file.write(data)).unwrap(), data.len());
    }

    pub(crate) fn read_file(&self, path: &str) -> Vec<u8> {
        let file = self.open(path, OpenFlags::RDONLY).unwrap();
        let mut contents = Vec::new();
        let mut buf = [0u8; 1000];
        loop {
            let count = ready(file.read(&mut buf)).unwrap();
            if count == 0 {
                return contents;
            }
            contents.extend_from_slice(&buf[..count]);
        }
    }

    pub(crate) fn kind(&self, path: &str) -> Result<FileType> {
        Ok(self.lresolve(path)?.inode().kind())
    }

    pub(crate) fn nlink(&self, path: &str) -> u32 {
        self.lresolve(path).unwrap().inode().metadata().nlink
    }

    pub(crate) fn path_of(&self, path: &str) -> String {
        String::from_utf8(self.lresolve(path).unwrap().path().unwrap()).unwrap()
    }
}

/// The names in a directory, without `.` and `..`, sorted.
pub(crate) fn names(dir: &dyn Inode) -> Vec<String> {
    let mut names: Vec<String> = crate::read_dir_all(dir, 0)
        .unwrap()
        .into_iter()
        .map(|entry| String::from_utf8(entry.name).unwrap())
        .filter(|name| name != "." && name != "..")
        .collect();
    names.sort();
    names
}
