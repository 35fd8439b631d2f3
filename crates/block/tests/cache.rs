//! The block cache against a RAM disk that completes requests only when the test says
//! so: misses wait and are woken, read-ahead, write-back runs, generations, failures,
//! eviction, throttling, out-of-order completion and dropped waiters.

use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use abi::Errno;
use block::cache::{BlockCache, Limits, BLOCK_SIZE};
use block::ramdisk::RamDisk;
use block::SECTOR_SIZE;

struct CountingWaker(AtomicUsize);

impl Wake for CountingWaker {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

fn waker() -> (Arc<CountingWaker>, Waker) {
    let counter = Arc::new(CountingWaker(AtomicUsize::new(0)));
    (counter.clone(), Waker::from(counter))
}

/// A disk of `blocks` 4 KiB blocks whose block `n` is filled with byte `n % 251`.
fn disk(blocks: usize, immediate: bool) -> Arc<RamDisk> {
    let mut data = vec![0u8; blocks * BLOCK_SIZE];
    for (index, chunk) in data.chunks_mut(BLOCK_SIZE).enumerate() {
        chunk.fill((index % 251) as u8);
    }
    Arc::new(RamDisk::with_data(data, immediate, false))
}

fn cache(disk: &Arc<RamDisk>, blocks: usize, dirty: usize) -> Arc<BlockCache> {
    BlockCache::new(disk.clone(), Limits { blocks, dirty })
}

/// Polls `future` once with `waker`.
fn poll_once<F: Future>(future: std::pin::Pin<&mut F>, waker: &Waker) -> Poll<F::Output> {
    future.poll(&mut Context::from_waker(waker))
}

/// Runs `future`, completing device requests whenever it is pending.
fn run<F: Future>(disk: &RamDisk, future: F) -> F::Output {
    let mut future = pin!(future);
    let (_, waker) = waker();
    for _ in 0..10_000 {
        if let Poll::Ready(value) = poll_once(future.as_mut(), &waker) {
            return value;
        }
        disk.complete(usize::MAX);
    }
    panic!("the future never completed");
}

#[test]
fn a_miss_waits_for_the_device_and_wakes_the_reader_then_hits() {
    let disk = disk(64, false);
    let cache = cache(&disk, 1024, 256);
    let mut buf = [0u8; 16];
    let (counter, waker) = waker();
    {
        let mut read = pin!(cache.read(7, 100, &mut buf));
        assert!(poll_once(read.as_mut(), &waker).is_pending());
        assert_eq!(disk.queued(), 1, "one request in the device");
        assert!(poll_once(read.as_mut(), &waker).is_pending(), "no second request while loading");
        assert_eq!(disk.queued(), 1);
        assert_eq!(counter.0.load(Ordering::SeqCst), 0);
        disk.complete(1);
        assert_eq!(counter.0.load(Ordering::SeqCst), 1, "the completion woke the reader");
        assert_eq!(poll_once(read.as_mut(), &waker), Poll::Ready(Ok(())));
    }
    assert_eq!(buf, [7; 16]);
    let mut again = [0u8; 4];
    assert_eq!(poll_once(pin!(cache.read(7, 0, &mut again)).as_mut(), &waker), Poll::Ready(Ok(())));
    assert_eq!(again, [7; 4]);
    let stats = cache.stats();
    assert_eq!((stats.hits, stats.misses, stats.read_requests), (2, 1, 1), "the woken poll and the second read hit");
}

#[test]
fn two_readers_of_one_block_share_one_request_and_both_wake() {
    let disk = disk(8, false);
    let cache = cache(&disk, 1024, 256);
    let (a, waker_a) = waker();
    let (b, waker_b) = waker();
    let (mut one, mut two) = ([0u8; 8], [0u8; 8]);
    {
        let mut first = pin!(cache.read(3, 0, &mut one));
        let mut second = pin!(cache.read(3, 8, &mut two));
        assert!(poll_once(first.as_mut(), &waker_a).is_pending());
        assert!(poll_once(second.as_mut(), &waker_b).is_pending());
        assert_eq!(disk.queued(), 1);
        disk.complete(1);
        assert_eq!((a.0.load(Ordering::SeqCst), b.0.load(Ordering::SeqCst)), (1, 1));
        assert!(poll_once(first.as_mut(), &waker_a).is_ready());
        assert!(poll_once(second.as_mut(), &waker_b).is_ready());
    }
    assert_eq!((one, two), ([3; 8], [3; 8]));
}

#[test]
fn sequential_reads_grow_a_readahead_window_in_few_requests() {
    let disk = disk(256, true);
    let cache = cache(&disk, 1024, 256);
    for block in 0..200u64 {
        let mut byte = [0u8; 1];
        run(&disk, cache.read(block, 0, &mut byte)).unwrap();
        assert_eq!(byte[0], (block % 251) as u8);
    }
    let stats = cache.stats();
    assert!(stats.read_requests <= 12, "200 sequential blocks took {} requests", stats.read_requests);
    assert!(stats.readahead_blocks >= 180, "{stats:?}");
    let read = disk.stats().sectors_read;
    assert!((200 * 8..=(200 + 32) * 8).contains(&read), "read {read} sectors: nothing twice, at most one window ahead");
}

#[test]
fn random_reads_do_not_read_ahead() {
    let disk = disk(512, true);
    let cache = cache(&disk, 1024, 256);
    for block in [400u64, 3, 250, 77, 9, 300] {
        let mut byte = [0u8; 1];
        run(&disk, cache.read(block, 0, &mut byte)).unwrap();
    }
    assert_eq!(cache.stats().readahead_blocks, 0);
    assert_eq!(disk.stats().reads, 6);
}

#[test]
fn whole_block_writes_skip_the_read_and_sync_writes_adjacent_blocks_as_one_request() {
    let disk = disk(64, true);
    let cache = cache(&disk, 1024, 256);
    for block in 10..20u64 {
        run(&disk, cache.write(block, 0, &[0xAB; BLOCK_SIZE])).unwrap();
    }
    run(&disk, cache.write(40, 0, &[0xCD; BLOCK_SIZE])).unwrap();
    assert_eq!(disk.stats().reads, 0, "whole-block writes need no read");
    assert_eq!(cache.usage().1, 11);
    run(&disk, cache.sync()).unwrap();
    let stats = disk.stats();
    assert_eq!((stats.writes, stats.flushes), (2, 1), "two runs, then one flush");
    let contents = disk.contents();
    assert!(contents[10 * BLOCK_SIZE..20 * BLOCK_SIZE].iter().all(|&byte| byte == 0xAB));
    assert!(contents[40 * BLOCK_SIZE..41 * BLOCK_SIZE].iter().all(|&byte| byte == 0xCD));
    assert_eq!(contents[20 * BLOCK_SIZE], 20, "the neighbours are untouched");
    assert_eq!(cache.usage().1, 0);
}

#[test]
fn a_partial_write_reads_the_block_first_and_keeps_the_rest() {
    let disk = disk(16, true);
    let cache = cache(&disk, 1024, 256);
    run(&disk, cache.write(5, 100, b"hello")).unwrap();
    run(&disk, cache.sync()).unwrap();
    let contents = disk.contents();
    let block = &contents[5 * BLOCK_SIZE..6 * BLOCK_SIZE];
    assert_eq!(&block[100..105], b"hello");
    assert!(block[..100].iter().chain(&block[105..]).all(|&byte| byte == 5));
}

#[test]
fn a_block_written_again_during_its_writeback_stays_dirty_and_the_newest_data_lands() {
    let disk = disk(16, false);
    let cache = cache(&disk, 1024, 256);
    run(&disk, cache.write(2, 0, &[1; BLOCK_SIZE])).unwrap();
    assert_eq!(cache.start_writeback(None), 1);
    // The write-back is in the device; write the block again.
    run(&disk, cache.write(2, 0, &[2; BLOCK_SIZE])).unwrap_or(());
    assert_eq!(cache.usage().1, 1, "dirty again");
    disk.complete(usize::MAX);
    assert_eq!(cache.usage().1, 1, "the old write-back did not clean the newer data");
    run(&disk, cache.sync()).unwrap();
    assert!(disk.contents()[2 * BLOCK_SIZE..3 * BLOCK_SIZE].iter().all(|&byte| byte == 2));
}

#[test]
fn out_of_order_completions_fill_the_right_blocks() {
    let disk = disk(128, false);
    let cache = cache(&disk, 1024, 256);
    let (_, waker) = waker();
    let mut buffers = vec![[0u8; 4]; 5];
    let blocks = [100u64, 5, 60, 33, 90];
    {
        let mut reads: Vec<_> = buffers.iter_mut().zip(blocks).map(|(buf, block)| Box::pin(cache.read(block, 0, buf))).collect();
        for read in &mut reads {
            assert!(poll_once(read.as_mut(), &waker).is_pending());
        }
        assert_eq!(disk.queued(), 5, "five requests in flight at once");
        disk.complete_reversed();
        for read in &mut reads {
            assert_eq!(poll_once(read.as_mut(), &waker), Poll::Ready(Ok(())));
        }
    }
    for (buf, block) in buffers.iter().zip(blocks) {
        assert_eq!(buf, &[(block % 251) as u8; 4]);
    }
    assert_eq!(disk.stats().max_in_flight, 5);
}

#[test]
fn a_dropped_reader_is_harmless_and_the_block_is_cached_anyway() {
    let disk = disk(8, false);
    let cache = cache(&disk, 1024, 256);
    let (_, waker) = waker();
    let mut buf = [0u8; 4];
    {
        let mut read = pin!(cache.read(4, 0, &mut buf));
        assert!(poll_once(read.as_mut(), &waker).is_pending());
    }
    assert_eq!(disk.complete(usize::MAX), 1);
    run(&disk, cache.read(4, 0, &mut buf)).unwrap();
    assert_eq!(buf, [4; 4]);
    assert_eq!(disk.stats().reads, 1);
}

#[test]
fn a_failed_read_is_eio_and_a_later_read_tries_again() {
    let disk = disk(8, true);
    disk.fail_sector(3 * 8 + 1);
    let cache = cache(&disk, 1024, 256);
    let mut buf = [0u8; 4];
    assert_eq!(run(&disk, cache.read(3, 0, &mut buf)), Err(Errno::EIO));
    assert_eq!(run(&disk, cache.read(3, 0, &mut buf)), Err(Errno::EIO));
    assert_eq!(disk.stats().reads, 0, "the ram disk counts successful reads only");
    run(&disk, cache.read(4, 0, &mut buf)).unwrap();
    assert_eq!(buf, [4; 4]);
}

#[test]
fn a_failed_write_back_reports_eio_at_sync_and_keeps_the_data_dirty() {
    let disk = disk(8, true);
    disk.fail_sector(6 * 8);
    let cache = cache(&disk, 1024, 256);
    run(&disk, cache.write(6, 0, &[9; BLOCK_SIZE])).unwrap();
    run(&disk, cache.write(2, 0, &[8; BLOCK_SIZE])).unwrap();
    assert_eq!(run(&disk, cache.sync()), Err(Errno::EIO));
    assert_eq!(cache.usage().1, 1, "block 6 is still dirty");
    assert!(disk.contents()[2 * BLOCK_SIZE..3 * BLOCK_SIZE].iter().all(|&byte| byte == 8), "block 2 landed");
    let mut buf = [0u8; 2];
    run(&disk, cache.read(6, 0, &mut buf)).unwrap();
    assert_eq!(buf, [9; 2], "the unwritten data is still readable");
}

#[test]
fn the_cache_stays_within_its_budget_and_never_evicts_dirty_blocks() {
    let disk = disk(1024, true);
    let cache = cache(&disk, 100, 400);
    for block in 0..300u64 {
        run(&disk, cache.write(block, 0, &[(block % 200) as u8 + 1; BLOCK_SIZE])).unwrap();
    }
    assert_eq!(cache.usage(), (300, 300), "dirty blocks stay though over budget");
    run(&disk, cache.sync()).unwrap();
    for block in (400..1000u64).step_by(3) {
        let mut byte = [0u8; 1];
        run(&disk, cache.read(block, 0, &mut byte)).unwrap();
    }
    assert!(cache.usage().0 <= 100, "{:?}", cache.usage());
    assert!(cache.stats().evictions > 0);
    let contents = disk.contents();
    for block in 0..300usize {
        assert_eq!(contents[block * BLOCK_SIZE], (block % 200) as u8 + 1);
    }
}

#[test]
fn writers_wait_when_too_much_is_dirty_until_writeback_completes() {
    let disk = disk(512, false);
    let cache = cache(&disk, 4096, 64);
    let (counter, waker) = waker();
    for block in 0..64u64 {
        let mut write = pin!(cache.write(block, 0, &[1; BLOCK_SIZE]));
        assert!(poll_once(write.as_mut(), &waker).is_ready());
    }
    let mut blocked = pin!(cache.write(100, 0, &[2; BLOCK_SIZE]));
    assert!(poll_once(blocked.as_mut(), &waker).is_pending(), "the 65th dirty block waits");
    assert!(disk.queued() >= 1, "and write-back started");
    disk.complete(usize::MAX);
    assert!(counter.0.load(Ordering::SeqCst) >= 1, "write-back completion woke the writer");
    assert!(poll_once(blocked.as_mut(), &waker).is_ready());
}

#[test]
fn read_only_devices_refuse_writes_and_bounds_are_checked() {
    let disk = Arc::new(RamDisk::with_data(vec![0; 16 * BLOCK_SIZE], true, true));
    let cache = BlockCache::new(disk.clone(), Limits { blocks: 64, dirty: 64 });
    assert_eq!(run(&disk, cache.write(1, 0, &[1; 8])), Err(Errno::EROFS));
    let mut buf = [0u8; 8];
    assert_eq!(run(&disk, cache.read(16, 0, &mut buf)), Err(Errno::EINVAL));
    assert_eq!(run(&disk, cache.read(1, BLOCK_SIZE - 4, &mut buf)), Err(Errno::EINVAL));
    assert_eq!(cache.blocks(), 16);
    assert_eq!(disk.sectors(), 16 * (BLOCK_SIZE / SECTOR_SIZE) as u64);
}

use block::BlockDevice;

/// Regression: a whole-block write replaced a block whose read was in flight; after
/// write-back, eviction and a new read, the old read's completion installed stale data
/// (ext4 metadata came back corrupt under a 256 MiB write).
#[test]
fn a_stale_read_completion_never_fills_a_newer_entry_of_the_block() {
    let disk = disk(256, false);
    disk.read_early();
    let cache = cache(&disk, 64, 64);
    let (_, waker) = waker();
    let mut old = [0u8; 4];
    {
        let mut read = pin!(cache.read(10, 0, &mut old));
        assert!(poll_once(read.as_mut(), &waker).is_pending());
    }
    // The read of block 10 is in the device. Replace the block, write it back, evict it.
    run(&disk, cache.write(10, 0, &[0xEE; BLOCK_SIZE])).unwrap_or(());
    assert_eq!(disk.queued(), 1, "only the old read is queued");
    cache.start_writeback(None);
    // Complete the write-back (newest first), leaving the old read in the device.
    let reads_then_writes = disk.queued();
    assert_eq!(reads_then_writes, 2);
    disk.complete_reversed_one();
    cache.shrink();
    // A new read of block 10 is started and the stale old read completes first.
    let mut fresh = [0u8; 4];
    {
        let mut read = pin!(cache.read(10, 0, &mut fresh));
        assert!(poll_once(read.as_mut(), &waker).is_pending());
        disk.complete(1); // the old read (data from before the write-back)
        disk.complete(usize::MAX);
        assert_eq!(poll_once(read.as_mut(), &waker), Poll::Ready(Ok(())));
    }
    assert_eq!(fresh, [0xEE; 4], "the newest data, not the stale read");
}

/// Regression: two write-backs of one block in flight at once could land in the wrong
/// order (devices complete requests in any order), leaving old data on the disk while
/// the cache believed the block clean.
#[test]
fn a_block_is_never_written_back_twice_at_once() {
    let disk = disk(16, false);
    let cache = cache(&disk, 64, 64);
    run(&disk, cache.write(4, 0, &[1; BLOCK_SIZE])).unwrap_or(());
    assert_eq!(cache.start_writeback(None), 1);
    run(&disk, cache.write(4, 0, &[2; BLOCK_SIZE])).unwrap_or(());
    assert_eq!(cache.start_writeback(None), 0, "the second write-back waits for the first");
    // The device completes newest first; with two writes in flight the old one would win.
    disk.complete_reversed();
    run(&disk, cache.sync()).unwrap();
    assert!(disk.contents()[4 * BLOCK_SIZE..5 * BLOCK_SIZE].iter().all(|&byte| byte == 2));
    assert_eq!(cache.usage().1, 0);
}
