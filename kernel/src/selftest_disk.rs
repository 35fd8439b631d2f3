//! Self-test of the disk path (`test=virtio-blk`): the driver, the block cache and the
//! coroutines, on disks the host prepared (`xtask/src/disk_tests.rs`).
//!
//! `vda` (writable) and `vdb` (read-only) hold in every 512-byte sector its own sector
//! number as eight-byte little-endian words. The test reads all of `vda` from several
//! tasks at once, rewrites part of it through the cache (each word = !sector), syncs,
//! forgets the cache and reads the new data back from the device, drops a request
//! future before its completion, waits for disk blocks from a coroutine, and checks
//! that `vdb` refuses writes. The host then finds the rewritten sectors in the image.

use alloc::boxed::Box;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::Ordering;

use block::cache::BLOCK_SIZE;
use block::Operation;

use crate::fs::blockdev::{disks, Disk};

/// Blocks of vda the test rewrites (from block 64 on).
pub const REWRITTEN_BLOCKS: u64 = 256;
const FIRST_REWRITTEN: u64 = 64;

fn expected_word(sector: u64, rewritten: bool) -> u64 {
    if rewritten { !sector } else { sector }
}

fn check_block(block: u64, data: &[u8], rewritten: bool) {
    for (index, word) in data.chunks_exact(8).enumerate() {
        let sector = block * 8 + (index * 8 / 512) as u64;
        let value = u64::from_le_bytes(word.try_into().expect("8 bytes"));
        assert_eq!(value, expected_word(sector, rewritten), "block {block} word {index}");
    }
}

async fn read_block(disk: &Disk, block: u64) -> Box<[u8]> {
    let mut data = alloc::vec![0u8; BLOCK_SIZE].into_boxed_slice();
    disk.cache.read(block, 0, &mut data).await.expect("read a block");
    data
}

pub async fn run() {
    let all = disks();
    assert!(all.len() >= 2, "the test needs two disks (vda, vdb), found {}", all.len());
    let (vda, vdb) = (all[0].clone(), all[1].clone());
    assert_eq!((vda.name.as_str(), vdb.name.as_str()), ("vda", "vdb"));
    assert!(!vda.cache.read_only() && vdb.cache.read_only(), "vdb is attached read-only");
    let blocks = vda.cache.blocks();
    assert!(blocks >= FIRST_REWRITTEN + REWRITTEN_BLOCKS, "vda is too small ({blocks} blocks)");

    // 1. Eight tasks read interleaved strides of the whole disk at once.
    let tasks: Vec<_> = (0..8u64)
        .map(|lane| {
            let disk = vda.clone();
            crate::runtime::spawn(async move {
                let mut block = lane;
                while block < disk.cache.blocks() {
                    check_block(block, &read_block(&disk, block).await, false);
                    block += 8;
                }
            })
        })
        .collect();
    for task in tasks {
        task.await;
    }
    let in_flight = vda.driver.max_in_flight.load(Ordering::Relaxed);
    println!("virtio-blk: read {} MiB, at most {in_flight} requests in flight, {:?}", blocks * 4 / 1024, vda.cache.stats());
    // A request is three descriptors (header, data, status): a 16-entry queue holds 5
    // of them unless each takes one indirect descriptor, as negotiated.
    assert!(in_flight > 5, "at most {in_flight} requests were in flight together (indirect descriptors not in use?)");

    // 2. Rewrite through the cache, sync, forget, read back from the device.
    for block in FIRST_REWRITTEN..FIRST_REWRITTEN + REWRITTEN_BLOCKS {
        let mut data = alloc::vec![0u8; BLOCK_SIZE];
        for (index, word) in data.chunks_exact_mut(8).enumerate() {
            let sector = block * 8 + (index * 8 / 512) as u64;
            word.copy_from_slice(&(!sector).to_le_bytes());
        }
        vda.cache.write(block, 0, &data).await.expect("write a block");
    }
    let writes_before = vda.cache.stats().write_requests;
    vda.sync().await.expect("sync");
    let write_requests = vda.cache.stats().write_requests - writes_before;
    assert!(write_requests <= 8, "{REWRITTEN_BLOCKS} adjacent blocks took {write_requests} write requests");
    assert_eq!(vda.cache.usage().1, 0, "nothing dirty after sync");
    vda.cache.shrink();
    let reads_before = vda.cache.stats().read_requests;
    for block in FIRST_REWRITTEN - 2..FIRST_REWRITTEN + REWRITTEN_BLOCKS + 2 {
        let rewritten = (FIRST_REWRITTEN..FIRST_REWRITTEN + REWRITTEN_BLOCKS).contains(&block);
        check_block(block, &read_block(&vda, block).await, rewritten);
    }
    assert!(vda.cache.stats().read_requests > reads_before, "the data came from the device");

    // 3. A request whose future is dropped at once: its buffer stays with the device.
    let completed = vda.driver.completed.load(Ordering::Relaxed);
    drop(block::submit(&*vda.driver, Operation::Read, 0, alloc::vec![0u8; 64 * 1024].into_boxed_slice()));
    crate::runtime::sleep(core::time::Duration::from_millis(50)).await;
    assert!(vda.driver.completed.load(Ordering::Relaxed) > completed, "the abandoned request completed");

    // 4. Synchronous code on a coroutine stack waits for the disk.
    vda.cache.shrink();
    let suspended = crate::coroutine::SUSPENSIONS.load(Ordering::Relaxed);
    let disk = vda.clone();
    let sum = crate::coroutine::OnStack::new(move || {
        let mut sum = 0u64;
        for block in [3u64, 900, 17, 2000] {
            let block = block % disk.cache.blocks();
            let mut word = [0u8; 8];
            crate::coroutine::block_on(disk.cache.read(block, 0, &mut word)).expect("on a stack").expect("read");
            sum += u64::from_le_bytes(word);
        }
        sum
    })
    .await;
    let expected: u64 = [3u64, 900, 17, 2000].iter().map(|block| expected_word((block % blocks) * 8, false)).sum();
    assert_eq!(sum, expected);
    assert!(crate::coroutine::SUSPENSIONS.load(Ordering::Relaxed) > suspended, "the coroutine waited for the disk");

    // 5. The read-only disk refuses writes; its data reads fine.
    assert_eq!(vdb.cache.write(1, 0, &[0u8; 16]).await, Err(abi::Errno::EROFS));
    let (result, _) = block::submit(&*vdb.driver, Operation::Write, 8, alloc::vec![0u8; 512].into_boxed_slice()).await;
    assert_eq!(result, Err(abi::Errno::EROFS));
    check_block(5, &read_block(&vdb, 5).await, false);
    let _ = Arc::strong_count(&vdb);
}
