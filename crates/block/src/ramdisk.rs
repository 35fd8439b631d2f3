//! A disk in memory that completes requests when told to: the test double of a virtio
//! disk (requests stay "in the device" until [`RamDisk::complete`] runs them, so tests
//! choose the interleavings), with counters and injectable errors.

use alloc::collections::VecDeque;
use alloc::vec::Vec;

use abi::Errno;
use ksync::SpinLock;

use crate::{BlockDevice, Operation, Request, SECTOR_SIZE};

/// See the module documentation.
pub struct RamDisk {
    inner: SpinLock<Inner>,
    read_only: bool,
    /// Complete every request inside `submit` (no queueing).
    immediate: bool,
    /// Reads take their data when submitted (a device that reads early and reports
    /// late), not when completed.
    early_reads: core::sync::atomic::AtomicBool,
}

struct Inner {
    data: Vec<u8>,
    queued: VecDeque<Request>,
    stats: Stats,
    /// Sectors whose requests fail with EIO.
    bad_sectors: Vec<u64>,
}

/// What the disk saw.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Stats {
    pub reads: u64,
    pub writes: u64,
    pub flushes: u64,
    pub sectors_read: u64,
    pub sectors_written: u64,
    /// The most requests queued at once.
    pub max_in_flight: usize,
}

impl RamDisk {
    /// A zeroed disk of `sectors` sectors.
    pub fn new(sectors: u64, immediate: bool) -> Self {
        Self::with_data(alloc::vec![0; sectors as usize * SECTOR_SIZE], immediate, false)
    }

    /// A disk holding `data` (a multiple of the sector size).
    pub fn with_data(data: Vec<u8>, immediate: bool, read_only: bool) -> Self {
        assert_eq!(data.len() % SECTOR_SIZE, 0);
        Self {
            inner: SpinLock::new(Inner { data, queued: VecDeque::new(), stats: Stats::default(), bad_sectors: Vec::new() }),
            read_only,
            immediate,
            early_reads: core::sync::atomic::AtomicBool::new(false),
        }
    }

    /// Reads take the disk's data at submission (see the field).
    pub fn read_early(&self) {
        self.early_reads.store(true, core::sync::atomic::Ordering::Relaxed);
    }

    /// Makes requests touching `sector` fail with EIO.
    pub fn fail_sector(&self, sector: u64) {
        self.inner.lock().bad_sectors.push(sector);
    }

    /// Completes up to `count` queued requests, oldest first; returns how many.
    pub fn complete(&self, count: usize) -> usize {
        let mut done = 0;
        while done < count {
            let Some(request) = self.inner.lock().queued.pop_front() else { break };
            self.execute(request);
            done += 1;
        }
        done
    }

    /// Completes queued requests newest first (devices may finish out of order).
    pub fn complete_reversed(&self) -> usize {
        let mut done = 0;
        while let Some(request) = {
            let request = self.inner.lock().queued.pop_back();
            request
        } {
            self.execute(request);
            done += 1;
        }
        done
    }

    /// Completes the newest queued request only.
    pub fn complete_reversed_one(&self) -> bool {
        let request = self.inner.lock().queued.pop_back();
        match request {
            Some(request) => {
                self.execute(request);
                true
            }
            None => false,
        }
    }

    /// Requests waiting in the device.
    pub fn queued(&self) -> usize {
        self.inner.lock().queued.len()
    }

    pub fn stats(&self) -> Stats {
        self.inner.lock().stats
    }

    /// A copy of the disk's contents.
    pub fn contents(&self) -> Vec<u8> {
        self.inner.lock().data.clone()
    }

    fn execute(&self, request: Request) {
        let Request { operation, sector, mut buffer, done } = request;
        let result = {
            let mut inner = self.inner.lock();
            let start = (sector as usize).wrapping_mul(SECTOR_SIZE);
            let end = start.wrapping_add(buffer.len());
            let sectors = (buffer.len() / SECTOR_SIZE) as u64;
            if operation == Operation::Read && sector == u64::MAX {
                Ok(())
            } else if inner.bad_sectors.iter().any(|&bad| bad >= sector && bad < sector + sectors.max(1)) {
                Err(Errno::EIO)
            } else if end > inner.data.len() {
                Err(Errno::EIO)
            } else {
                match operation {
                    Operation::Read => {
                        buffer.copy_from_slice(&inner.data[start..end]);
                        inner.stats.reads += 1;
                        inner.stats.sectors_read += sectors;
                        Ok(())
                    }
                    Operation::Write if self.read_only => Err(Errno::EIO),
                    Operation::Write => {
                        inner.data[start..end].copy_from_slice(&buffer);
                        inner.stats.writes += 1;
                        inner.stats.sectors_written += sectors;
                        Ok(())
                    }
                    Operation::Flush => {
                        inner.stats.flushes += 1;
                        Ok(())
                    }
                }
            }
        };
        done(result, buffer);
    }
}

impl BlockDevice for RamDisk {
    fn sectors(&self) -> u64 {
        (self.inner.lock().data.len() / SECTOR_SIZE) as u64
    }

    fn read_only(&self) -> bool {
        self.read_only
    }

    fn submit(&self, request: Request) {
        if self.immediate {
            self.execute(request);
            return;
        }
        let mut request = request;
        let mut inner = self.inner.lock();
        if request.operation == Operation::Read && self.early_reads.load(core::sync::atomic::Ordering::Relaxed) {
            let start = request.sector as usize * SECTOR_SIZE;
            if let Some(data) = inner.data.get(start..start + request.buffer.len()) {
                request.buffer.copy_from_slice(data);
            }
            request.sector = u64::MAX; // marks "already read"
        }
        inner.queued.push_back(request);
        inner.stats.max_in_flight = inner.stats.max_in_flight.max(inner.queued.len());
    }
}
