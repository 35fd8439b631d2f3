//! The contents of a tmpfs regular file: a sparse map of 4 KiB pages.
//!
//! Pages are allocated only when written, so a file extended by `truncate` or by a write
//! far past its end costs nothing for the hole, and growing a large file never copies it
//! (a `Vec<u8>` would reallocate). Allocation failures become `ENOSPC` instead of an
//! out-of-memory abort. Invariant: every byte at or beyond `size` in an allocated page is
//! zero, so growing the file exposes zeros without touching pages.

use alloc::collections::BTreeMap;
use alloc::sync::Arc;
use core::sync::atomic::{AtomicUsize, Ordering};

use abi::{Errno, Result};

use crate::page::{Page, PageRef};

/// Bytes per page of file data.
const PAGE_SIZE: usize = 4096;
/// Largest file size (Linux's `MAX_LFS_FILESIZE` on 64-bit).
pub const MAX_FILE_SIZE: u64 = i64::MAX as u64;

/// The page budget of one tmpfs instance (`mount -o size=`): pages in use and the limit.
#[derive(Debug)]
pub struct PageBudget {
    used: AtomicUsize,
    limit: AtomicUsize,
}

impl Default for PageBudget {
    fn default() -> Self {
        Self { used: AtomicUsize::new(0), limit: AtomicUsize::new(usize::MAX) }
    }
}

impl PageBudget {
    /// Takes one page from the budget; `ENOSPC` when it is spent.
    fn reserve(&self) -> Result<()> {
        let limit = self.limit.load(Ordering::Relaxed);
        self.used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| (used < limit).then_some(used + 1))
            .map(drop)
            .map_err(|_| Errno::ENOSPC)
    }

    fn release(&self, pages: usize) {
        self.used.fetch_sub(pages, Ordering::AcqRel);
    }

    /// Pages in use.
    pub fn used(&self) -> usize {
        self.used.load(Ordering::Relaxed)
    }

    /// The limit in pages (`usize::MAX`: none).
    pub fn limit(&self) -> usize {
        self.limit.load(Ordering::Relaxed)
    }

    /// Sets the limit in pages.
    pub fn set_limit(&self, pages: usize) {
        self.limit.store(pages, Ordering::Relaxed);
    }
}

/// Sparse file contents.
pub(super) struct FileData {
    size: u64,
    pages: BTreeMap<u64, Page>,
    budget: Arc<PageBudget>,
}

impl Drop for FileData {
    fn drop(&mut self) {
        self.budget.release(self.pages.len());
    }
}

fn zeroed_page() -> Result<Page> {
    Page::new().ok_or(Errno::ENOSPC)
}

impl FileData {
    /// Empty contents whose pages count against `budget`.
    pub(super) fn new(budget: Arc<PageBudget>) -> Self {
        Self { size: 0, pages: BTreeMap::new(), budget }
    }

    pub(super) fn size(&self) -> u64 {
        self.size
    }

    /// Allocated space in 512-byte blocks, as `st_blocks` counts it.
    pub(super) fn blocks(&self) -> u64 {
        self.pages.len() as u64 * (PAGE_SIZE as u64 / 512)
    }

    /// Copies bytes from `offset` into `buf`; returns how many (0 at or past the end).
    pub(super) fn read_at(&self, offset: u64, buf: &mut [u8]) -> usize {
        if offset >= self.size {
            return 0;
        }
        let count = buf.len().min((self.size - offset).min(usize::MAX as u64) as usize);
        let mut done = 0;
        while done < count {
            let position = offset + done as u64;
            let index = position / PAGE_SIZE as u64;
            let within = (position % PAGE_SIZE as u64) as usize;
            let chunk = (PAGE_SIZE - within).min(count - done);
            let out = &mut buf[done..done + chunk];
            match self.pages.get(&index) {
                Some(page) => out.copy_from_slice(&page[within..within + chunk]),
                None => out.fill(0),
            }
            done += chunk;
        }
        count
    }

    /// Page `index` for mapping (allocated now if it is a hole); `ENXIO` past the page
    /// holding the last byte, `ENOSPC` when no page can be had.
    pub(super) fn page(&mut self, index: u64) -> Result<PageRef> {
        if index >= self.size.div_ceil(PAGE_SIZE as u64) {
            return Err(Errno::ENXIO);
        }
        if let Some(page) = self.pages.get(&index) {
            return Ok(page.share());
        }
        self.budget.reserve()?;
        let page = zeroed_page().inspect_err(|_| self.budget.release(1))?;
        let shared = page.share();
        self.pages.insert(index, page);
        Ok(shared)
    }

    /// Writes `data` at `offset`, growing the file; `EFBIG` past the maximum size,
    /// `ENOSPC` if no page can be allocated (a partial count if some were written).
    pub(super) fn write_at(&mut self, offset: u64, data: &[u8]) -> Result<usize> {
        if data.is_empty() {
            return Ok(0);
        }
        if offset >= MAX_FILE_SIZE {
            return Err(Errno::EFBIG);
        }
        let count = data.len().min((MAX_FILE_SIZE - offset).min(usize::MAX as u64) as usize);
        let mut done = 0;
        while done < count {
            let position = offset + done as u64;
            let index = position / PAGE_SIZE as u64;
            let within = (position % PAGE_SIZE as u64) as usize;
            let chunk = (PAGE_SIZE - within).min(count - done);
            let page = match self.pages.entry(index) {
                alloc::collections::btree_map::Entry::Occupied(page) => page.into_mut(),
                alloc::collections::btree_map::Entry::Vacant(slot) => {
                    let page = self.budget.reserve().and_then(|()| {
                        zeroed_page().inspect_err(|_| self.budget.release(1))
                    });
                    match page {
                        Ok(page) => slot.insert(page),
                        Err(error) if done == 0 => return Err(error),
                        Err(_) => break,
                    }
                }
            };
            page[within..within + chunk].copy_from_slice(&data[done..done + chunk]);
            done += chunk;
        }
        self.size = self.size.max(offset + done as u64);
        Ok(done)
    }

    /// Sets the size: shrinking frees whole pages and zeroes the tail of the last one.
    pub(super) fn truncate(&mut self, size: u64) -> Result<()> {
        if size > MAX_FILE_SIZE {
            return Err(Errno::EFBIG);
        }
        if size < self.size {
            let first_dropped = size.div_ceil(PAGE_SIZE as u64);
            let dropped = self.pages.split_off(&first_dropped);
            self.budget.release(dropped.len());
            let within = (size % PAGE_SIZE as u64) as usize;
            if within != 0 {
                if let Some(page) = self.pages.get_mut(&(size / PAGE_SIZE as u64)) {
                    page[within..].fill(0);
                }
            }
        }
        self.size = size;
        Ok(())
    }
}
