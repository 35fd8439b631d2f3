//! The block cache of one device: 4 KiB blocks, write-back, read-ahead, LRU eviction.
//!
//! * A read of a cached block costs a map lookup and a copy. A miss starts a device
//!   request and registers the reader's waker; the request's completion (the disk
//!   interrupt, in the kernel) installs the data and wakes every reader of the block.
//!   When misses are sequential the request covers a growing window of following
//!   blocks (read-ahead, up to [`MAX_READAHEAD`] blocks in one request).
//! * A write replaces the cached bytes and marks the block dirty; a write of a whole
//!   block needs no read first. Past [`Limits::dirty`] dirty blocks, a writer starts
//!   write-back and waits for it (throttling, so a fast writer cannot fill memory).
//! * Write-back gathers dirty blocks into runs of adjacent blocks, one request per run,
//!   all in flight at once. A block written again while its write-back is in flight
//!   stays dirty (a generation number tells). [`BlockCache::sync`] waits for every
//!   write-back it started and then flushes the device; a failed write keeps the block
//!   dirty and is reported (EIO) by the next `sync`, as Linux's fsync does.
//! * Clean blocks nobody waits for are evicted, least recently used first, when the
//!   cache holds more than [`Limits::blocks`].

use alloc::boxed::Box;
use alloc::collections::{BTreeMap, BTreeSet};
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::future::poll_fn;
use core::sync::atomic::{AtomicU64, Ordering};
use core::task::{Context, Poll, Waker};

use abi::Errno;
use ksync::{SpinLock, WaitQueue};

use crate::{BlockDevice, Operation, Request, SECTOR_SIZE};

/// Bytes in a cache block (the ext4 block size coros uses, and the page size).
pub const BLOCK_SIZE: usize = 4096;
const SECTORS_PER_BLOCK: u64 = (BLOCK_SIZE / SECTOR_SIZE) as u64;
/// The largest read-ahead window, in blocks (128 KiB, Linux's default).
pub const MAX_READAHEAD: u64 = 32;
/// The largest write-back request, in blocks.
const MAX_WRITE_RUN: usize = 64;

/// How big the cache may grow.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Blocks kept in memory before clean ones are evicted.
    pub blocks: usize,
    /// Dirty blocks before writers wait for write-back.
    pub dirty: usize,
}

/// Counters for benchmarks and tests.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct CacheStats {
    pub hits: u64,
    pub misses: u64,
    pub read_requests: u64,
    pub readahead_blocks: u64,
    pub write_requests: u64,
    pub blocks_written: u64,
    pub evictions: u64,
    pub write_errors: u64,
}

enum State {
    /// The device is reading it; `data` is None.
    Loading,
    Valid,
    /// The read failed; the next reader gets EIO and removes the entry (so a later
    /// read tries the device again).
    Failed,
}

struct Entry {
    state: State,
    data: Option<Box<[u8]>>,
    dirty: bool,
    /// Bumped by every write; write-back cleans a block only if it wrote the
    /// generation that is still current.
    generation: u64,
    /// Write-backs of this block in flight.
    writing: u32,
    waiters: Vec<Waker>,
    /// Recency, for the LRU (0: not in the LRU yet).
    tick: u64,
    /// The read request filling this entry (`Loading`): a completion fills only the
    /// entries it was started for, never a newer entry of the same block.
    load: u64,
}

impl Entry {
    fn loading() -> Self {
        Entry { state: State::Loading, data: None, dirty: false, generation: 0, writing: 0, waiters: Vec::new(), tick: 0, load: 0 }
    }

    fn register(&mut self, waker: &Waker) {
        if !self.waiters.iter().any(|known| known.will_wake(waker)) {
            self.waiters.push(waker.clone());
        }
    }
}

struct Inner {
    entries: BTreeMap<u64, Entry>,
    /// tick -> block, oldest first.
    lru: BTreeMap<u64, u64>,
    dirty: BTreeSet<u64>,
    tick: u64,
    /// Where the last miss ended, and the current read-ahead window.
    next_sequential: u64,
    window: u64,
    /// A write-back failed since the last `sync`.
    write_error: bool,
    /// Numbers read requests.
    next_load: u64,
    /// Blocks in write-back requests not yet completed.
    writing_blocks: usize,
    stats: CacheStats,
}

impl Inner {
    /// Dirty blocks, counting those being written back.
    fn unwritten(&self) -> usize {
        self.dirty.len() + self.writing_blocks
    }

    /// Marks `block` as just used.
    fn touch(&mut self, block: u64) {
        self.tick += 1;
        let tick = self.tick;
        if let Some(entry) = self.entries.get_mut(&block) {
            if entry.tick != 0 {
                self.lru.remove(&entry.tick);
            }
            entry.tick = tick;
            self.lru.insert(tick, block);
        }
    }

    fn remove(&mut self, block: u64) {
        if let Some(entry) = self.entries.remove(&block) {
            if entry.tick != 0 {
                self.lru.remove(&entry.tick);
            }
        }
    }
}

/// See the module documentation.
pub struct BlockCache {
    device: Arc<dyn BlockDevice>,
    blocks: u64,
    limits: Limits,
    inner: SpinLock<Inner>,
    /// Woken when write-back completes (throttled writers, `sync`).
    written: WaitQueue,
    writes_submitted: AtomicU64,
    writes_completed: AtomicU64,
    me: Weak<BlockCache>,
}

impl BlockCache {
    pub fn new(device: Arc<dyn BlockDevice>, limits: Limits) -> Arc<Self> {
        let blocks = device.sectors() / SECTORS_PER_BLOCK;
        Arc::new_cyclic(|me| Self {
            device,
            blocks,
            limits: Limits { blocks: limits.blocks.max(MAX_READAHEAD as usize * 2), dirty: limits.dirty.max(MAX_WRITE_RUN) },
            inner: SpinLock::new(Inner {
                entries: BTreeMap::new(),
                lru: BTreeMap::new(),
                dirty: BTreeSet::new(),
                tick: 0,
                next_sequential: u64::MAX,
                window: 0,
                write_error: false,
                next_load: 0,
                writing_blocks: 0,
                stats: CacheStats::default(),
            }),
            written: WaitQueue::new(),
            writes_submitted: AtomicU64::new(0),
            writes_completed: AtomicU64::new(0),
            me: me.clone(),
        })
    }

    /// Whole blocks on the device.
    pub fn blocks(&self) -> u64 {
        self.blocks
    }

    pub fn read_only(&self) -> bool {
        self.device.read_only()
    }

    pub fn device(&self) -> &Arc<dyn BlockDevice> {
        &self.device
    }

    pub fn stats(&self) -> CacheStats {
        self.inner.lock().stats
    }

    /// Blocks in memory, and how many of them are dirty.
    pub fn usage(&self) -> (usize, usize) {
        let inner = self.inner.lock();
        (inner.entries.len(), inner.dirty.len())
    }

    /// Calls `access` with block `block`'s bytes once it is in memory (under the cache's
    /// lock: keep it short); `Pending`, with the waker registered, while the device reads
    /// it. `EIO` if the device failed, `EINVAL` past the end of the device.
    pub fn poll_with<T>(&self, cx: &mut Context<'_>, block: u64, access: impl FnOnce(&mut [u8]) -> T) -> Poll<Result<T, Errno>> {
        self.poll_entry(cx, block, |entry| access(entry.data.as_deref_mut().expect("a valid block has data")))
    }

    fn poll_entry<T>(&self, cx: &mut Context<'_>, block: u64, access: impl FnOnce(&mut Entry) -> T) -> Poll<Result<T, Errno>> {
        if block >= self.blocks {
            return Poll::Ready(Err(Errno::EINVAL));
        }
        let mut inner = self.inner.lock();
        match inner.entries.get_mut(&block).map(|entry| &entry.state) {
            Some(State::Valid) => {
                inner.stats.hits += 1;
                inner.touch(block);
                let entry = inner.entries.get_mut(&block).expect("present");
                return Poll::Ready(Ok(access(entry)));
            }
            Some(State::Loading) => {
                inner.entries.get_mut(&block).expect("present").register(cx.waker());
                return Poll::Pending;
            }
            Some(State::Failed) => {
                inner.remove(block);
                return Poll::Ready(Err(Errno::EIO));
            }
            None => {}
        }
        inner.stats.misses += 1;
        let (count, load) = self.start_read(&mut inner, block);
        inner.entries.get_mut(&block).expect("start_read inserted it").register(cx.waker());
        drop(inner);
        self.submit_read(block, count, load);
        Poll::Pending
    }

    /// Starts reading `block` (and, if access is sequential, the blocks after it that are
    /// not cached) unless it is cached or being read. Never waits.
    pub fn prefetch(&self, block: u64) {
        if block >= self.blocks {
            return;
        }
        let mut inner = self.inner.lock();
        if inner.entries.contains_key(&block) {
            return;
        }
        let (count, load) = self.start_read(&mut inner, block);
        drop(inner);
        self.submit_read(block, count, load);
    }

    /// Decides how many blocks from `block` on one request reads, and inserts their
    /// `Loading` entries.
    fn start_read(&self, inner: &mut Inner, block: u64) -> (u64, u64) {
        let sequential = block == inner.next_sequential;
        inner.window = if sequential { (inner.window * 2).clamp(4, MAX_READAHEAD) } else { 1 };
        inner.next_load += 1;
        let load = inner.next_load;
        let mut count = 0;
        while count < inner.window && block + count < self.blocks && (count == 0 || !inner.entries.contains_key(&(block + count))) {
            let mut entry = Entry::loading();
            entry.load = load;
            inner.entries.insert(block + count, entry);
            count += 1;
        }
        inner.next_sequential = block + count;
        inner.stats.read_requests += 1;
        inner.stats.readahead_blocks += count - 1;
        (count, load)
    }

    fn submit_read(&self, block: u64, count: u64, load: u64) {
        let me = self.me.clone();
        self.device.submit(Request {
            operation: Operation::Read,
            sector: block * SECTORS_PER_BLOCK,
            buffer: crate::zeroed(count as usize * BLOCK_SIZE),
            done: Box::new(move |result, buffer| {
                if let Some(cache) = me.upgrade() {
                    cache.read_done(block, count, load, result, &buffer);
                }
            }),
        });
    }

    fn read_done(&self, block: u64, count: u64, load: u64, result: Result<(), Errno>, buffer: &[u8]) {
        let mut wakers = Vec::new();
        {
            let mut inner = self.inner.lock();
            for index in 0..count {
                let number = block + index;
                let Some(entry) = inner.entries.get_mut(&number) else { continue };
                if !matches!(entry.state, State::Loading) || entry.load != load {
                    // Replaced since this request started (a whole-block write, then
                    // write-back, eviction and a newer read): this data is stale.
                    continue;
                }
                wakers.append(&mut entry.waiters);
                if result.is_ok() {
                    let start = index as usize * BLOCK_SIZE;
                    entry.data = Some(buffer[start..start + BLOCK_SIZE].into());
                    entry.state = State::Valid;
                    inner.touch(number);
                } else if wakers.is_empty() {
                    inner.remove(number);
                } else {
                    entry.state = State::Failed;
                }
            }
            if result.is_err() {
                inner.next_sequential = u64::MAX;
            }
            self.evict(&mut inner);
        }
        for waker in wakers {
            waker.wake();
        }
    }

    /// Evicts clean, idle blocks, oldest first, while the cache is over its budget.
    fn evict(&self, inner: &mut Inner) {
        if inner.entries.len() <= self.limits.blocks {
            return;
        }
        let mut excess = inner.entries.len() - self.limits.blocks;
        let victims: Vec<u64> = inner
            .lru
            .values()
            .copied()
            .filter(|block| {
                let entry = &inner.entries[block];
                matches!(entry.state, State::Valid) && !entry.dirty && entry.writing == 0 && entry.waiters.is_empty()
            })
            .take(excess)
            .collect();
        for block in victims {
            inner.remove(block);
            inner.stats.evictions += 1;
            excess -= 1;
        }
        let _ = excess;
    }

    /// Gives back every clean, idle block (memory pressure); returns how many.
    pub fn shrink(&self) -> usize {
        let mut inner = self.inner.lock();
        let victims: Vec<u64> = inner
            .entries
            .iter()
            .filter(|(_, entry)| matches!(entry.state, State::Valid) && !entry.dirty && entry.writing == 0)
            .map(|(&block, _)| block)
            .collect();
        for &block in &victims {
            inner.remove(block);
        }
        victims.len()
    }

    /// Reads `buf.len()` bytes of block `block` from `offset` on.
    pub async fn read(&self, block: u64, offset: usize, buf: &mut [u8]) -> Result<(), Errno> {
        let end = offset.checked_add(buf.len()).filter(|&end| end <= BLOCK_SIZE).ok_or(Errno::EINVAL)?;
        poll_fn(|cx| self.poll_with(cx, block, |data| buf.copy_from_slice(&data[offset..end]))).await
    }

    /// Writes `data` into block `block` at `offset`: the block becomes dirty. A write of
    /// the whole block does not read it first. Waits while too many blocks are dirty.
    pub fn poll_write(&self, cx: &mut Context<'_>, block: u64, offset: usize, data: &[u8]) -> Poll<Result<(), Errno>> {
        let end = match offset.checked_add(data.len()).filter(|&end| end <= BLOCK_SIZE) {
            Some(end) => end,
            None => return Poll::Ready(Err(Errno::EINVAL)),
        };
        if self.device.read_only() {
            return Poll::Ready(Err(Errno::EROFS));
        }
        if block >= self.blocks {
            return Poll::Ready(Err(Errno::EINVAL));
        }
        if self.throttle(cx) {
            return Poll::Pending;
        }
        let mut inner = self.inner.lock();
        let whole = offset == 0 && end == BLOCK_SIZE;
        if whole && !matches!(inner.entries.get(&block).map(|entry| &entry.state), Some(State::Valid)) {
            // Replace whatever is there (a pending read's result will be ignored).
            let waiters = inner.entries.get_mut(&block).map(|entry| core::mem::take(&mut entry.waiters)).unwrap_or_default();
            inner.remove(block);
            let mut entry = Entry::loading();
            entry.state = State::Valid;
            entry.data = Some(data.into());
            inner.entries.insert(block, entry);
            Self::mark_dirty(&mut inner, block);
            inner.touch(block);
            drop(inner);
            for waker in waiters {
                waker.wake();
            }
            return Poll::Ready(Ok(()));
        }
        drop(inner);
        self.poll_entry(cx, block, |entry| {
            entry.data.as_deref_mut().expect("a valid block has data")[offset..end].copy_from_slice(data);
        })
        .map(|result| {
            result.map(|()| {
                let mut inner = self.inner.lock();
                if inner.entries.contains_key(&block) {
                    Self::mark_dirty(&mut inner, block);
                }
            })
        })
    }

    fn mark_dirty(inner: &mut Inner, block: u64) {
        let entry = inner.entries.get_mut(&block).expect("present");
        entry.dirty = true;
        entry.generation += 1;
        inner.dirty.insert(block);
    }

    /// Writes `data` at `offset` of block `block` (see [`BlockCache::poll_write`]).
    pub async fn write(&self, block: u64, offset: usize, data: &[u8]) -> Result<(), Errno> {
        poll_fn(|cx| self.poll_write(cx, block, offset, data)).await
    }

    /// If too many blocks are dirty: starts write-back, registers `cx` and says so.
    fn throttle(&self, cx: &mut Context<'_>) -> bool {
        if self.inner.lock().unwritten() < self.limits.dirty {
            return false;
        }
        self.written.register(cx.waker());
        self.start_writeback(None);
        // Write-back may have completed at once (a synchronous device).
        self.inner.lock().unwritten() >= self.limits.dirty
    }

    /// Starts writing back the dirty blocks (of `range`, or all), in runs of adjacent
    /// blocks, each run one request; returns the requests started.
    pub fn start_writeback(&self, range: Option<core::ops::Range<u64>>) -> usize {
        let mut runs: Vec<(u64, Vec<u64>, Box<[u8]>)> = Vec::new();
        {
            let mut inner = self.inner.lock();
            // A block whose earlier write-back is still in flight waits for it: the
            // device may complete requests in any order, and an older write landing
            // after a newer one would leave old data on the disk.
            let chosen: Vec<u64> = match &range {
                Some(range) => inner.dirty.range(range.clone()).copied().collect::<Vec<_>>(),
                None => inner.dirty.iter().copied().collect(),
            }
            .into_iter()
            .filter(|block| inner.entries.get(block).is_some_and(|entry| entry.writing == 0))
            .collect();
            let mut current: Vec<u64> = Vec::new();
            let flush_run = |current: &mut Vec<u64>, inner: &mut Inner, runs: &mut Vec<(u64, Vec<u64>, Box<[u8]>)>| {
                if current.is_empty() {
                    return;
                }
                let mut buffer = crate::zeroed(current.len() * BLOCK_SIZE);
                let mut generations = Vec::with_capacity(current.len());
                for (index, block) in current.iter().enumerate() {
                    let entry = inner.entries.get_mut(block).expect("dirty blocks are cached");
                    buffer[index * BLOCK_SIZE..(index + 1) * BLOCK_SIZE].copy_from_slice(entry.data.as_deref().expect("dirty blocks hold data"));
                    entry.dirty = false;
                    entry.writing += 1;
                    generations.push(entry.generation);
                    inner.dirty.remove(block);
                }
                // Encode (block, generation) pairs: blocks are consecutive from the first.
                runs.push((current[0], generations, buffer));
                current.clear();
            };
            for block in chosen {
                if current.last().is_some_and(|&last| last + 1 != block) || current.len() == MAX_WRITE_RUN {
                    flush_run(&mut current, &mut inner, &mut runs);
                }
                current.push(block);
            }
            flush_run(&mut current, &mut inner, &mut runs);
            inner.writing_blocks += runs.iter().map(|run| run.1.len()).sum::<usize>();
            inner.stats.write_requests += runs.len() as u64;
            inner.stats.blocks_written += runs.iter().map(|run| run.1.len() as u64).sum::<u64>();
        }
        let started = runs.len();
        for (first, generations, buffer) in runs {
            self.writes_submitted.fetch_add(1, Ordering::AcqRel);
            let me = self.me.clone();
            self.device.submit(Request {
                operation: Operation::Write,
                sector: first * SECTORS_PER_BLOCK,
                buffer,
                done: Box::new(move |result, _buffer| {
                    if let Some(cache) = me.upgrade() {
                        cache.write_done(first, &generations, result);
                    }
                }),
            });
        }
        started
    }

    fn write_done(&self, first: u64, generations: &[u64], result: Result<(), Errno>) {
        {
            let mut inner = self.inner.lock();
            inner.writing_blocks -= generations.len();
            for (index, &generation) in generations.iter().enumerate() {
                let block = first + index as u64;
                let Some(entry) = inner.entries.get_mut(&block) else { continue };
                entry.writing -= 1;
                if result.is_err() && entry.generation == generation {
                    // Keep the data: it is still the newest and not on the disk.
                    entry.dirty = true;
                    inner.dirty.insert(block);
                }
            }
            if result.is_err() {
                inner.write_error = true;
                inner.stats.write_errors += 1;
            }
            self.evict(&mut inner);
        }
        self.writes_completed.fetch_add(1, Ordering::AcqRel);
        self.written.wake_all();
    }

    /// Writes back every dirty block, waits for those writes, flushes the device.
    /// `EIO` if a write-back failed since the last sync (the blocks stay dirty).
    pub async fn sync(&self) -> Result<(), Errno> {
        // Blocks held back behind their own earlier write-back go in a later round.
        for _ in 0..64 {
            self.start_writeback(None);
            let target = self.writes_submitted.load(Ordering::Acquire);
            poll_fn(|cx| {
                if self.writes_completed.load(Ordering::Acquire) >= target {
                    return Poll::Ready(());
                }
                self.written.register(cx.waker());
                if self.writes_completed.load(Ordering::Acquire) >= target {
                    return Poll::Ready(());
                }
                Poll::Pending
            })
            .await;
            let inner = self.inner.lock();
            if inner.dirty.is_empty() || inner.write_error {
                break;
            }
        }
        let (result, _) = crate::submit(&*self.device, Operation::Flush, 0, Box::new([])).await;
        let failed = core::mem::take(&mut self.inner.lock().write_error);
        result?;
        if failed {
            return Err(Errno::EIO);
        }
        Ok(())
    }

    /// Forgets every clean block (after `sync`, before the device goes away).
    pub fn forget_clean(&self) {
        self.shrink();
    }
}
