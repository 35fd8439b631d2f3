//! ext4 on a disk: the `ext4fs` crate over the disk's block cache, and the rule that
//! keeps it asynchronous.
//!
//! `ext4fs` is synchronous code: it asks its block device for blocks and expects them.
//! [`CacheDevice`] answers from the disk's block cache; on a miss it waits with
//! `coroutine::block_on`, which suspends the coroutine stack the call runs on while the
//! disk's interrupt completes the read. So every call into the file system must run on
//! a coroutine stack. [`DiskInode`] wraps each ext4 inode and enforces that: called off a
//! stack, it changes nothing and answers `ERESTART_ON_STACK`, and the system-call layer
//! runs the call again on a stack (`syscall::dispatch`). `metadata()`, which cannot fail,
//! answers off a stack from a copy refreshed by every call made on one.
//!
//! Mappings: [`PAGE_CACHE`] holds the pages of ext4 files that are mapped, shared by
//! every process mapping the same file: `MAP_SHARED` maps them writable, `MAP_PRIVATE`
//! read-only until the first store copies them (programs and libraries run from the
//! disk). A missing page is filled by a task of its own, on a coroutine stack, and the
//! faulting thread waits for it as a future. As on Linux the cache is the file's truth
//! for everyone: `write()` updates cached pages in place, `read()` copies them over
//! what it read from the disk, truncation drops the pages past the end and zeroes the
//! last one's tail (the system call then unmaps them: `process::file_pages`). A page a
//! shared mapping has mapped is dirty when its bytes hash differently from what the
//! disk holds ([`page_hash`]; pages only ever mapped private are never hashed);
//! dirty pages are written back by `msync(MS_SYNC)` ([`sync_inode`]), `fsync`/`sync`
//! ([`sync_all`]) and unmount, and mapped or dirty pages are never evicted.

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::Ordering;
use core::task::{Context, Poll, Waker};

use abi::{Errno, Result, StatFs};
use block::cache::{BlockCache, BLOCK_SIZE};
use ksync::SpinLock;
use vfs::{DirEntry, Events, FileType, Inode, Metadata, OpenFlags, SetTime};

use super::blockdev::Disk;
use crate::coroutine::{self, SleepMutex};

/// The file system type coros mounts.
pub type Ext4 = ext4fs::Ext4Fs<SleepMutex, CacheDevice>;

/// The block cache of a disk, as `ext4fs` sees it: 4 KiB sectors.
pub struct CacheDevice {
    cache: Arc<BlockCache>,
}

impl CacheDevice {
    fn read_block(&self, block: u64, chunk: &mut [u8]) -> Result<()> {
        let mut cx = Context::from_waker(Waker::noop());
        match self.cache.poll_with(&mut cx, block, |data| chunk.copy_from_slice(data)) {
            Poll::Ready(result) => result,
            Poll::Pending => coroutine::block_on(self.cache.read(block, 0, chunk)).unwrap_or(Err(Errno::EIO)),
        }
    }

    fn write_block(&self, block: u64, chunk: &[u8]) -> Result<()> {
        let mut cx = Context::from_waker(Waker::noop());
        match self.cache.poll_write(&mut cx, block, 0, chunk) {
            Poll::Ready(result) => result,
            Poll::Pending => coroutine::block_on(self.cache.write(block, 0, chunk)).unwrap_or(Err(Errno::EIO)),
        }
    }
}

impl ext4fs::BlockDevice for CacheDevice {
    fn block_size(&self) -> usize {
        BLOCK_SIZE
    }

    fn blocks(&self) -> u64 {
        self.cache.blocks()
    }

    fn read(&self, block: u64, buf: &mut [u8]) -> Result<()> {
        for (index, chunk) in buf.chunks_mut(BLOCK_SIZE).enumerate() {
            self.read_block(block + index as u64, chunk)?;
        }
        Ok(())
    }

    fn write(&self, block: u64, buf: &[u8]) -> Result<()> {
        for (index, chunk) in buf.chunks(BLOCK_SIZE).enumerate() {
            self.write_block(block + index as u64, chunk)?;
        }
        Ok(())
    }

    fn flush(&self) -> Result<()> {
        coroutine::block_on(self.cache.sync()).unwrap_or(Err(Errno::EIO))
    }

    fn read_only(&self) -> bool {
        self.cache.read_only()
    }
}

/// A mounted ext4 file system and the disk it lives on.
pub struct Mounted {
    pub fs: Arc<Ext4>,
    pub disk: Arc<Disk>,
    pub source: String,
}

static MOUNTED: SpinLock<Vec<Arc<Mounted>>> = SpinLock::new(Vec::new());

/// Mounts the ext4 file system of `disk` (must run on a coroutine stack). Its root,
/// wrapped, for `Vfs::mount`.
pub fn mount(disk: Arc<Disk>, source: &str, read_only: bool) -> Result<Arc<dyn Inode>> {
    if !coroutine::on_stack() {
        return Err(Errno::ERESTART_ON_STACK);
    }
    if MOUNTED.lock().iter().any(|mounted| Arc::ptr_eq(&mounted.disk, &disk)) {
        return Err(Errno::EBUSY);
    }
    // st_dev of every inode is the disk's device number, as on Linux (one mount per disk).
    let dev = disk.rdev;
    let device = CacheDevice { cache: disk.cache.clone() };
    let config = ext4fs::MountConfig { read_only, dev, clock: super::now, devices: super::devices() };
    let fs = Ext4::mount(device, config)?;
    let root = fs.root()?;
    MOUNTED.lock().push(Arc::new(Mounted { fs: fs.clone(), disk, source: source.into() }));
    super::disk_file_system_mounted(true);
    Ok(DiskInode::wrap(root, fs))
}

/// The mounted file system whose root or inode has device number `dev`.
fn mounted_by_dev(dev: u64) -> Option<Arc<Mounted>> {
    MOUNTED.lock().iter().find(|mounted| mounted.fs.dev() == dev).cloned()
}

/// Writes back and detaches the file system of `dev` (umount(2)); on a stack.
pub fn unmount(dev: u64) -> Result<()> {
    let Some(mounted) = mounted_by_dev(dev) else { return Ok(()) };
    // Pages written through shared mappings first; the pages go once the file system
    // is gone (mappings keep their frames).
    if let Err(error) = write_back(dev, None) {
        log::warn!("{}: writing back mapped pages failed: {error:?}", mounted.source);
    }
    // The cache's handles would keep unlinked files on the orphan list (rsext4 then
    // refuses to unmount): let them go, so the unmount reaps those files first.
    forget_device_pages(dev);
    mounted.fs.unmount()?;
    coroutine::block_on(mounted.disk.sync()).unwrap_or(Err(Errno::EIO))?;
    // Like Linux on the last close of a block device: its cached blocks go, so a
    // mount after this one reads the disk again (a cold cache).
    mounted.disk.cache.shrink();
    MOUNTED.lock().retain(|other| !Arc::ptr_eq(other, &mounted));
    super::disk_file_system_mounted(false);
    Ok(())
}

/// Writes back every mounted ext4 file system (sync(2), power-off); on a stack.
pub fn sync_all() -> Result<()> {
    let all: Vec<_> = MOUNTED.lock().clone();
    let mut result = Ok(());
    for mounted in all {
        if let Err(error) = write_back(mounted.fs.dev(), None).and_then(|()| mounted.fs.sync()) {
            log::warn!("{}: sync failed: {error:?}", mounted.source);
            result = Err(error);
        }
    }
    result
}

/// Unmounts everything cleanly before power-off; on a stack.
pub fn unmount_all() {
    let all: Vec<_> = MOUNTED.lock().clone();
    for mounted in all {
        match unmount(mounted.fs.dev()) {
            Ok(()) => log::info!(
                "{}: unmounted cleanly ({} requests, {} flushes, at most {} in flight; cache {:?}; {} calls on stacks, {} suspensions)",
                mounted.source,
                mounted.disk.driver.completed.load(Ordering::Relaxed),
                mounted.disk.driver.flushes.load(Ordering::Relaxed),
                mounted.disk.driver.max_in_flight.load(Ordering::Relaxed),
                mounted.disk.cache.stats(),
                crate::syscall::ON_STACK.load(Ordering::Relaxed),
                coroutine::SUSPENSIONS.load(Ordering::Relaxed)
            ),
            Err(error) => println!("warning: {}: unmount failed: {error}", mounted.source),
        }
    }
}

/// `statfs` of the ext4 file system of `dev`, if it is one.
pub fn statfs(dev: u64) -> Option<Result<StatFs>> {
    let mounted = mounted_by_dev(dev)?;
    if !coroutine::on_stack() {
        return Some(Err(Errno::ERESTART_ON_STACK));
    }
    Some(mounted.fs.statfs())
}

/// The disk behind an inode of a mounted ext4 file system.
pub fn disk_of_dev(dev: u64) -> Option<Arc<Disk>> {
    mounted_by_dev(dev).map(|mounted| mounted.disk.clone())
}

/// A cached file page, or one being read.
enum CachedPage {
    /// Being read. `stale` once a write or truncation changed the file meanwhile: the
    /// bytes being read may predate it, so they are dropped and the page read again.
    Filling { wakers: Vec<Waker>, stale: bool },
    Ready(FilePage),
    Failed(Errno),
}

/// A page of an ext4 file in the page cache: the page every mapping of it maps.
struct FilePage {
    page: vfs::page::Page,
    /// Whether a shared mapping has mapped the page: only then can it become dirty.
    shared: bool,
    /// For a shared page, [`page_hash`] of the bytes the file system holds for it. The
    /// page is dirty (stored into through a shared mapping since) when its bytes hash
    /// differently: no page-table dirty bits are needed, clean pages are never written
    /// back, and pages never mapped shared are never hashed.
    clean: u64,
    /// The ext4 inode itself (not its [`DiskInode`] wrapper), for write-back.
    file: Arc<dyn Inode>,
}

impl FilePage {
    fn is_dirty(&self) -> bool {
        self.shared && page_hash(&self.page) != self.clean
    }

    /// Changes bytes the file system changed too (a write or truncation): a clean page
    /// stays clean.
    fn update(&mut self, change: impl FnOnce(&mut [u8])) {
        let was_clean = !self.is_dirty();
        change(&mut self.page);
        if self.shared && was_clean {
            self.clean = page_hash(&self.page);
        }
    }

    /// Whether some address space maps the page (the cache holds one count itself).
    fn is_mapped(&self) -> bool {
        crate::memory::file_page_users(self.page.as_ptr()) > 1
    }
}

/// A 64-bit hash of a page: a change of one 8-byte word always changes it (each step
/// is a bijection of the state), any other change with probability 1 - 2^-64.
fn page_hash(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0x9e37_79b9_7f4a_7c15;
    for word in bytes.chunks_exact(8) {
        let word = u64::from_le_bytes(word.try_into().unwrap_or_default());
        hash = (hash ^ word).wrapping_mul(0x0000_0100_0000_01b3).rotate_left(29);
    }
    hash
}

/// File pages of ext4 files: (st_dev, inode, page index) -> page; and the insertion
/// order, for eviction.
struct PageCache {
    pages: alloc::collections::BTreeMap<(u64, u64, u64), CachedPage>,
    order: alloc::collections::VecDeque<(u64, u64, u64)>,
}

static PAGE_CACHE: SpinLock<PageCache> =
    SpinLock::new(PageCache { pages: alloc::collections::BTreeMap::new(), order: alloc::collections::VecDeque::new() });

/// The most pages the mapping cache keeps when it can (a sixteenth of RAM): pages that
/// are mapped or dirty are never evicted.
fn page_cache_limit() -> usize {
    (crate::memory::frame_usage().1 / 16).max(256)
}

const PAGE: u64 = vfs::page::PAGE_SIZE as u64;

/// The cache keys of file (dev, ino): all its pages.
fn file_keys(dev: u64, ino: u64) -> core::ops::RangeInclusive<(u64, u64, u64)> {
    (dev, ino, 0)..=(dev, ino, u64::MAX)
}

/// After `data` was written to the file at `offset`: cached pages take the same bytes,
/// so every mapping sees them (shared ones, and private ones not yet copied, as on
/// Linux); pages being read are marked stale; failed pages are forgotten (the file may
/// now reach them).
fn update_cached_pages(dev: u64, ino: u64, offset: u64, data: &[u8]) {
    if data.is_empty() {
        return;
    }
    let end = offset + data.len() as u64;
    let mut cache = PAGE_CACHE.lock();
    let mut failed = Vec::new();
    for (&key, entry) in cache.pages.range_mut(file_keys(dev, ino)) {
        let start = key.2 * PAGE;
        match entry {
            CachedPage::Failed(_) => failed.push(key),
            _ if start >= end || start + PAGE <= offset => {}
            CachedPage::Ready(page) => {
                let (from, to) = (offset.max(start), end.min(start + PAGE));
                page.update(|bytes| {
                    bytes[(from - start) as usize..(to - start) as usize]
                        .copy_from_slice(&data[(from - offset) as usize..(to - offset) as usize])
                });
            }
            CachedPage::Filling { stale, .. } => *stale = true,
        }
    }
    for key in failed {
        cache.pages.remove(&key);
    }
}

/// After the file was truncated to `size`: cached pages wholly past it go (even dirty
/// ones: their bytes are no longer part of the file), the tail of the last page is
/// zeroed, pages being read are marked stale.
fn truncate_cached_pages(dev: u64, ino: u64, size: u64) {
    let mut cache = PAGE_CACHE.lock();
    let mut gone = Vec::new();
    for (&key, entry) in cache.pages.range_mut(file_keys(dev, ino)) {
        let start = key.2 * PAGE;
        match entry {
            CachedPage::Failed(_) => gone.push(key),
            CachedPage::Filling { stale, .. } => *stale = true,
            CachedPage::Ready(_) if start >= size => gone.push(key),
            CachedPage::Ready(page) if start + PAGE > size => page.update(|bytes| bytes[(size - start) as usize..].fill(0)),
            CachedPage::Ready(_) => {}
        }
    }
    // The caller's handle keeps the file alive: no page removed here drops its last one.
    for key in gone {
        cache.pages.remove(&key);
    }
}

/// Copies the cached bytes of file (dev, ino) over `buf`, just read from the file at
/// `offset`: a page written through a shared mapping is newer than the disk.
fn overlay_cached_pages(dev: u64, ino: u64, offset: u64, buf: &mut [u8]) {
    if buf.is_empty() {
        return;
    }
    let end = offset + buf.len() as u64;
    let cache = PAGE_CACHE.lock();
    for (&key, entry) in cache.pages.range((dev, ino, offset / PAGE)..=(dev, ino, (end - 1) / PAGE)) {
        if let CachedPage::Ready(page) = entry {
            let start = key.2 * PAGE;
            let (from, to) = (offset.max(start), end.min(start + PAGE));
            buf[(from - offset) as usize..(to - offset) as usize]
                .copy_from_slice(&page.page[(from - start) as usize..(to - start) as usize]);
        }
    }
}

/// Writes the dirty cached pages of device `dev` (of inode `ino` only, if given) back
/// to the file system; on a stack. Only the part of a page inside the file is written
/// (bytes a mapping wrote past the end are not part of the file, as on Linux).
fn write_back(dev: u64, ino: Option<u64>) -> Result<()> {
    let range = match ino {
        Some(ino) => file_keys(dev, ino),
        None => (dev, 0, 0)..=(dev, u64::MAX, u64::MAX),
    };
    let keys: Vec<_> =
        PAGE_CACHE.lock().pages.range(range).filter(|(_, entry)| matches!(entry, CachedPage::Ready(page) if page.shared)).map(|(key, _)| *key).collect();
    let mut bytes = alloc::vec![0u8; vfs::page::PAGE_SIZE];
    let mut result = Ok(());
    for key in keys {
        // Copy a dirty page out under the lock, write it without. A `write()` of the
        // same bytes meanwhile may reach the disk before this older copy does: if the
        // page changed while it was written, it is written again (the page holds every
        // write, so its latest bytes are always right), a few times at most.
        for _attempt in 0..4 {
            let (file, hash) = {
                let cache = PAGE_CACHE.lock();
                let Some(CachedPage::Ready(page)) = cache.pages.get(&key).filter(|entry| matches!(entry, CachedPage::Ready(page) if page.shared)) else {
                    break;
                };
                bytes.copy_from_slice(&page.page);
                let hash = page_hash(&bytes);
                if hash == page.clean {
                    break;
                }
                (page.file.clone(), hash)
            };
            let start = key.2 * PAGE;
            let size = file.metadata().size;
            if start < size {
                let length = (size - start).min(PAGE) as usize;
                if let Err(error) = write_all_at(&*file, start, &bytes[..length]) {
                    log::warn!("ext4 write-back of inode {} page {} failed: {error:?}", key.1, key.2);
                    result = Err(error);
                    break;
                }
            }
            if let Some(CachedPage::Ready(page)) = PAGE_CACHE.lock().pages.get_mut(&key) {
                // Changed again meanwhile: it hashes differently, still dirty.
                page.clean = hash;
            }
        }
    }
    result
}

/// Writes all of `data` at `offset` of the ext4 inode `file` (on a stack).
fn write_all_at(file: &dyn Inode, offset: u64, data: &[u8]) -> Result<()> {
    let mut cx = Context::from_waker(Waker::noop());
    let mut done = 0;
    while done < data.len() {
        match file.poll_write_at(&mut cx, offset + done as u64, &data[done..]) {
            Poll::Ready(Ok(0)) => return Err(Errno::ENOSPC),
            Poll::Ready(Ok(count)) => done += count,
            Poll::Ready(Err(error)) => return Err(error),
            Poll::Pending => return Err(Errno::EIO),
        }
    }
    Ok(())
}

/// Drops the cached pages of device `dev`'s files that have no links left and that
/// nothing but the cache holds (unlinked, closed and unmapped): the cache's handle on
/// such a file would keep it on the orphan list, its space not freed.
fn release_unlinked_pages(dev: u64) {
    let unlinked = |file: &Arc<dyn Inode>| {
        vfs::downcast_ref::<ext4fs::Ext4Inode<SleepMutex, CacheDevice>>(file.as_ref()).is_some_and(|inode| inode.is_unlinked())
    };
    // The handles are dropped after the lock: the last one queues the inode for reaping.
    let mut released: Vec<Arc<dyn Inode>> = Vec::new();
    {
        let mut cache = PAGE_CACHE.lock();
        let mut files: alloc::collections::BTreeMap<u64, (Arc<dyn Inode>, usize)> = alloc::collections::BTreeMap::new();
        for (key, entry) in cache.pages.range((dev, 0, 0)..=(dev, u64::MAX, u64::MAX)) {
            if let CachedPage::Ready(page) = entry {
                if unlinked(&page.file) {
                    files.entry(key.1).or_insert_with(|| (page.file.clone(), 0)).1 += 1;
                }
            }
        }
        for (ino, (file, pages)) in files {
            // Held by its pages and by the clone just made, nothing else.
            if Arc::strong_count(&file) == pages + 1 {
                let keys: Vec<_> = cache.pages.range(file_keys(dev, ino)).map(|(key, _)| *key).collect();
                for key in keys {
                    cache.pages.remove(&key);
                }
                released.push(file);
            }
        }
    }
    drop(released);
}

/// Drops every cached page of device `dev` (at unmount, after write-back).
fn forget_device_pages(dev: u64) {
    let mut forgotten = Vec::new();
    {
        let mut cache = PAGE_CACHE.lock();
        let keys: Vec<_> = cache
            .pages
            .range((dev, 0, 0)..=(dev, u64::MAX, u64::MAX))
            .filter(|(_, page)| !matches!(page, CachedPage::Filling { .. }))
            .map(|(key, _)| *key)
            .collect();
        forgotten.extend(keys.into_iter().filter_map(|key| cache.pages.remove(&key)));
    }
    // Dropped without the spin lock: a file's last handle queues it for reaping, which
    // takes the file system's (sleeping) lock.
    drop(forgotten);
}

/// `fsync` of a mapped ext4 file (msync(MS_SYNC)): its dirty pages go to the file
/// system, whose journal is committed and disk flushed; on a stack. Other inodes: Ok.
pub fn sync_inode(inode: &Arc<dyn Inode>) -> Result<()> {
    let Some(disk) = vfs::downcast_ref::<DiskInode>(inode.as_ref()) else { return Ok(()) };
    if !coroutine::on_stack() {
        return Err(Errno::ERESTART_ON_STACK);
    }
    write_back(disk.fs.dev(), Some(disk.inner.ino()))?;
    disk.fs.sync()
}

/// A shared mapping maps page `index` of `inode` (an ext4 file's, else nothing to do):
/// from now on the page may be stored into, so it is hashed and watched for write-back.
pub fn note_shared_page(inode: &dyn Inode, index: u64) {
    let Some(disk) = vfs::downcast_ref::<DiskInode>(inode) else { return };
    if let Some(CachedPage::Ready(page)) = PAGE_CACHE.lock().pages.get_mut(&(disk.fs.dev(), disk.inner.ino(), index)) {
        if !page.shared {
            page.clean = page_hash(&page.page);
            page.shared = true;
        }
    }
}

/// Whether `inode` is a file of a mounted ext4 file system.
pub fn is_disk_inode(inode: &Arc<dyn Inode>) -> bool {
    vfs::downcast_ref::<DiskInode>(inode.as_ref()).is_some()
}

/// Fills page `key` from the file `inner`: runs on a coroutine stack of its own task.
fn fill_page(inner: Arc<dyn Inode>, key: (u64, u64, u64)) {
    let result = (|| -> Result<vfs::page::Page> {
        let size = inner.metadata().size;
        let offset = key.2 * PAGE;
        if offset >= size {
            return Err(Errno::ENXIO);
        }
        let mut page = vfs::page::Page::new().ok_or(Errno::ENOMEM)?;
        let mut cx = Context::from_waker(Waker::noop());
        let mut done = 0;
        let want = ((size - offset) as usize).min(vfs::page::PAGE_SIZE);
        while done < want {
            match inner.poll_read_at(&mut cx, offset + done as u64, &mut page[done..want]) {
                Poll::Ready(Ok(0)) => break,
                Poll::Ready(Ok(count)) => done += count,
                Poll::Ready(Err(error)) => return Err(error),
                Poll::Pending => return Err(Errno::EIO),
            }
        }
        Ok(page)
    })();
    let wakers = {
        let mut cache = PAGE_CACHE.lock();
        let previous = cache.pages.remove(&key);
        let stale = matches!(previous, Some(CachedPage::Filling { stale: true, .. }));
        if !stale {
            let entry = match result {
                Ok(page) => CachedPage::Ready(FilePage { page, shared: false, clean: 0, file: inner }),
                Err(error) => CachedPage::Failed(error),
            };
            cache.pages.insert(key, entry);
            cache.order.push_back(key);
        }
        let evicted = evict(&mut cache);
        let wakers = match previous {
            Some(CachedPage::Filling { wakers, .. }) => wakers,
            _ => Vec::new(),
        };
        (wakers, evicted)
    };
    // The evicted pages go without the spin lock (see `forget_device_pages`).
    let (wakers, evicted) = wakers;
    drop(evicted);
    // A stale fill left no entry: the woken faults ask again and read the page anew.
    for waker in wakers {
        waker.wake();
    }
}

/// Evicts the oldest pages past the cache's limit, except mapped or dirty ones, and
/// returns them (for the caller to drop once it has released the cache's lock).
#[must_use]
fn evict(cache: &mut PageCache) -> Vec<CachedPage> {
    let limit = page_cache_limit();
    let mut evicted = Vec::new();
    let mut budget = cache.order.len();
    while cache.order.len() > limit && budget > 0 {
        budget -= 1;
        let Some(old) = cache.order.pop_front() else { break };
        match cache.pages.get(&old) {
            Some(CachedPage::Ready(page)) if page.is_mapped() || page.is_dirty() => cache.order.push_back(old),
            Some(CachedPage::Ready(_) | CachedPage::Failed(_)) => evicted.extend(cache.pages.remove(&old)),
            _ => {}
        }
    }
    evicted
}

/// An ext4 inode that refuses to be used off a coroutine stack (see the module docs).
pub struct DiskInode {
    inner: Arc<dyn Inode>,
    fs: Arc<Ext4>,
    metadata: SpinLock<Metadata>,
}

impl DiskInode {
    fn wrap(inner: Arc<dyn Inode>, fs: Arc<Ext4>) -> Arc<dyn Inode> {
        let metadata = inner.metadata();
        Arc::new(DiskInode { inner, fs, metadata: SpinLock::new(metadata) })
    }

    /// `Ok(())` on a stack, else the error that moves the call onto one.
    fn on_stack() -> Result<()> {
        if coroutine::on_stack() { Ok(()) } else { Err(Errno::ERESTART_ON_STACK) }
    }

    fn refresh(&self) {
        *self.metadata.lock() = self.inner.metadata();
    }

    fn wrapped(&self, result: Result<Arc<dyn Inode>>) -> Result<Arc<dyn Inode>> {
        result.map(|inode| {
            // Device nodes and FIFOs open to other objects; only ext4's own inodes wrap.
            if vfs::downcast_ref::<ext4fs::Ext4Inode<SleepMutex, CacheDevice>>(inode.as_ref()).is_some() {
                DiskInode::wrap(inode, self.fs.clone())
            } else {
                inode
            }
        })
    }

    fn is_regular(&self) -> bool {
        self.inner.kind() == FileType::Regular
    }

    /// Runs a change on a stack and refreshes the cached metadata.
    fn change<T>(&self, operation: impl FnOnce(&dyn Inode) -> Result<T>) -> Result<T> {
        Self::on_stack()?;
        let result = operation(self.inner.as_ref());
        self.refresh();
        result
    }
}

impl Inode for DiskInode {
    fn metadata(&self) -> Metadata {
        if coroutine::on_stack() {
            self.refresh();
        }
        *self.metadata.lock()
    }

    fn ino(&self) -> u64 {
        self.inner.ino()
    }

    fn kind(&self) -> FileType {
        self.inner.kind()
    }

    fn lookup(&self, name: &[u8]) -> Result<Arc<dyn Inode>> {
        Self::on_stack()?;
        let found = self.inner.lookup(name);
        self.wrapped(found)
    }

    fn create(&self, name: &[u8], kind: FileType, perm: u32, rdev: u64) -> Result<Arc<dyn Inode>> {
        let created = self.change(|inner| inner.create(name, kind, perm, rdev));
        self.wrapped(created)
    }

    fn symlink(&self, name: &[u8], target: &[u8]) -> Result<Arc<dyn Inode>> {
        let created = self.change(|inner| inner.symlink(name, target));
        self.wrapped(created)
    }

    fn link(&self, name: &[u8], target: &Arc<dyn Inode>) -> Result<()> {
        let target = vfs::downcast_ref::<DiskInode>(target.as_ref()).map(|disk| disk.inner.clone()).ok_or(Errno::EXDEV)?;
        self.change(|inner| inner.link(name, &target))
    }

    fn unlink(&self, name: &[u8]) -> Result<()> {
        self.change(|inner| inner.unlink(name))?;
        release_unlinked_pages(self.fs.dev());
        Ok(())
    }

    fn rmdir(&self, name: &[u8]) -> Result<()> {
        self.change(|inner| inner.rmdir(name))
    }

    fn rename(&self, old_name: &[u8], new_dir: &Arc<dyn Inode>, new_name: &[u8], flags: u32) -> Result<()> {
        let new_dir = vfs::downcast_ref::<DiskInode>(new_dir.as_ref()).map(|disk| disk.inner.clone()).ok_or(Errno::EXDEV)?;
        self.change(|inner| inner.rename(old_name, &new_dir, new_name, flags))?;
        // A replaced target may have lost its last link.
        release_unlinked_pages(self.fs.dev());
        Ok(())
    }

    fn read_dir(&self, offset: u64, emit: &mut dyn FnMut(&DirEntry) -> bool) -> Result<()> {
        Self::on_stack()?;
        self.inner.read_dir(offset, emit)
    }

    fn readlink(&self) -> Result<Vec<u8>> {
        Self::on_stack()?;
        self.inner.readlink()
    }

    fn truncate(&self, size: u64) -> Result<()> {
        // Mappings lose the pages past the new end in the system call
        // (`process::file_pages::unmap_past_end`), as for every file system.
        self.change(|inner| inner.truncate(size))?;
        if self.is_regular() {
            truncate_cached_pages(self.fs.dev(), self.inner.ino(), size);
        }
        Ok(())
    }

    fn set_mode(&self, mode: u32) -> Result<()> {
        self.change(|inner| inner.set_mode(mode))
    }

    fn set_owner(&self, uid: Option<u32>, gid: Option<u32>) -> Result<()> {
        self.change(|inner| inner.set_owner(uid, gid))
    }

    fn set_times(&self, atime: SetTime, mtime: SetTime) -> Result<()> {
        self.change(|inner| inner.set_times(atime, mtime))
    }

    fn open(&self, flags: OpenFlags) -> Result<Option<Arc<dyn Inode>>> {
        Self::on_stack()?;
        self.inner.open(flags)
    }

    fn poll_read_at(&self, cx: &mut Context<'_>, offset: u64, buf: &mut [u8]) -> Poll<Result<usize>> {
        if let Err(error) = Self::on_stack() {
            return Poll::Ready(Err(error));
        }
        let result = self.inner.poll_read_at(cx, offset, buf);
        if let Poll::Ready(Ok(count)) = result {
            overlay_cached_pages(self.fs.dev(), self.inner.ino(), offset, &mut buf[..count]);
        }
        result
    }

    fn poll_write_at(&self, cx: &mut Context<'_>, offset: u64, buf: &[u8]) -> Poll<Result<usize>> {
        if let Err(error) = Self::on_stack() {
            return Poll::Ready(Err(error));
        }
        let result = self.inner.poll_write_at(cx, offset, buf);
        self.refresh();
        if let Poll::Ready(Ok(count)) = result {
            update_cached_pages(self.fs.dev(), self.inner.ino(), offset, &buf[..count]);
        }
        result
    }

    fn poll_page(&self, cx: &mut Context<'_>, index: u64) -> Poll<Result<vfs::page::PageRef>> {
        if self.inner.kind() != FileType::Regular {
            return Poll::Ready(Err(Errno::ENODEV));
        }
        let key = (self.fs.dev(), self.inner.ino(), index);
        let mut cache = PAGE_CACHE.lock();
        match cache.pages.get_mut(&key) {
            Some(CachedPage::Ready(page)) => return Poll::Ready(Ok(page.page.share())),
            Some(CachedPage::Failed(error)) => {
                let error = *error;
                cache.pages.remove(&key);
                return Poll::Ready(Err(error));
            }
            Some(CachedPage::Filling { wakers, .. }) => {
                if !wakers.iter().any(|waker| waker.will_wake(cx.waker())) {
                    wakers.push(cx.waker().clone());
                }
                return Poll::Pending;
            }
            None => {}
        }
        cache.pages.insert(key, CachedPage::Filling { wakers: alloc::vec![cx.waker().clone()], stale: false });
        drop(cache);
        let inner = self.inner.clone();
        if coroutine::on_stack() && arch::interrupts::are_enabled() {
            // On a stack with no spin lock held: read it now.
            fill_page(inner, key);
            return self.poll_page(cx, index);
        }
        crate::runtime::spawn(coroutine::OnStack::new(move || fill_page(inner, key))).detach();
        Poll::Pending
    }

    fn poll_append(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<Result<(usize, u64)>> {
        if let Err(error) = Self::on_stack() {
            return Poll::Ready(Err(error));
        }
        let result = self.inner.poll_append(cx, buf);
        self.refresh();
        if let Poll::Ready(Ok((count, end))) = result {
            update_cached_pages(self.fs.dev(), self.inner.ino(), end - count as u64, &buf[..count]);
        }
        result
    }

    /// Regular files map their page-cache pages: `MAP_SHARED` works.
    fn has_pages(&self) -> bool {
        self.is_regular()
    }

    fn poll_ready(&self, cx: &mut Context<'_>, events: Events) -> Poll<Events> {
        self.inner.poll_ready(cx, events)
    }

    fn is_seekable(&self) -> bool {
        self.inner.is_seekable()
    }

    fn ioctl(&self, cmd: u32, arg: usize) -> Result<usize> {
        self.inner.ioctl(cmd, arg)
    }
}
