//! A bitmap allocator of physical page frames.
//!
//! One bit per 4 KiB frame of the managed range (8 KiB of bitmap for 256 MiB of RAM),
//! with a next-fit cursor so that allocation does not rescan the used prefix each time.
//! Freeing checks for double frees and foreign addresses: a kernel bug there must be
//! loud, not a silent corruption.

use alloc::vec;
use alloc::vec::Vec;

use crate::{PhysAddr, PAGE_SIZE};

/// Allocates 4 KiB frames from one contiguous physical range.
pub struct FrameAllocator {
    start: PhysAddr,
    frames: usize,
    /// Bit set: frame in use.
    used: Vec<u64>,
    free: usize,
    cursor: usize,
}

impl FrameAllocator {
    /// Manages the frames wholly inside `[start, end)`.
    pub fn new(start: PhysAddr, end: PhysAddr) -> Self {
        let start = start.align_up(PAGE_SIZE);
        let end = end.align_down(PAGE_SIZE);
        let frames = end.0.saturating_sub(start.0) / PAGE_SIZE;
        let mut used = vec![0u64; frames.div_ceil(64)];
        // Bits past the last frame are permanently "used".
        if !frames.is_multiple_of(64) {
            *used.last_mut().unwrap() = !0u64 << (frames % 64);
        }
        Self { start, frames, used, free: frames, cursor: 0 }
    }

    /// Address of the first frame managed.
    pub fn start(&self) -> PhysAddr {
        self.start
    }

    /// The index of `frame` among the frames managed, if it is one of them.
    pub fn frame_number(&self, frame: PhysAddr) -> Option<usize> {
        let number = frame.0.checked_sub(self.start.0)? / PAGE_SIZE;
        (frame.is_aligned(PAGE_SIZE) && number < self.frames).then_some(number)
    }

    /// Total frames managed.
    pub fn total(&self) -> usize {
        self.frames
    }

    /// Frames currently free.
    pub fn free(&self) -> usize {
        self.free
    }

    /// Allocates one frame (not zeroed).
    pub fn alloc(&mut self) -> Option<PhysAddr> {
        if self.free == 0 {
            return None;
        }
        let words = self.used.len();
        for step in 0..words {
            let index = (self.cursor + step) % words;
            let word = self.used[index];
            if word != !0 {
                let bit = (!word).trailing_zeros() as usize;
                self.used[index] |= 1 << bit;
                self.free -= 1;
                self.cursor = index;
                return Some(self.start.add((index * 64 + bit) * PAGE_SIZE));
            }
        }
        None
    }

    /// Marks the frames overlapping `[start, end)` as used (firmware, initramfs, ...).
    /// Parts outside the managed range are ignored.
    pub fn reserve(&mut self, start: PhysAddr, end: PhysAddr) {
        let first = start.align_down(PAGE_SIZE).0.max(self.start.0);
        let last = end.align_up(PAGE_SIZE).0.min(self.start.0 + self.frames * PAGE_SIZE);
        let mut address = first;
        while address < last {
            let number = (address - self.start.0) / PAGE_SIZE;
            let (index, bit) = (number / 64, number % 64);
            if self.used[index] & (1 << bit) == 0 {
                self.used[index] |= 1 << bit;
                self.free -= 1;
            }
            address += PAGE_SIZE;
        }
    }

    /// Allocates `count` physically contiguous frames (first fit); returns the first.
    pub fn alloc_contiguous(&mut self, count: usize) -> Option<PhysAddr> {
        if count == 0 || count > self.free {
            return None;
        }
        let is_free = |used: &[u64], number: usize| used[number / 64] & (1 << (number % 64)) == 0;
        let mut run_start = 0;
        let mut run = 0;
        for number in 0..self.frames {
            if is_free(&self.used, number) {
                if run == 0 {
                    run_start = number;
                }
                run += 1;
                if run == count {
                    for taken in run_start..run_start + count {
                        self.used[taken / 64] |= 1 << (taken % 64);
                    }
                    self.free -= count;
                    return Some(self.start.add(run_start * PAGE_SIZE));
                }
            } else {
                run = 0;
            }
        }
        None
    }

    /// Returns `frame` to the pool.
    ///
    /// # Panics
    /// If `frame` is not a frame of this allocator or is already free.
    pub fn dealloc(&mut self, frame: PhysAddr) {
        assert!(frame.is_aligned(PAGE_SIZE) && frame >= self.start, "dealloc of foreign frame {frame:?}");
        let number = (frame.0 - self.start.0) / PAGE_SIZE;
        assert!(number < self.frames, "dealloc of foreign frame {frame:?}");
        let (index, bit) = (number / 64, number % 64);
        assert!(self.used[index] & (1 << bit) != 0, "double free of frame {frame:?}");
        self.used[index] &= !(1 << bit);
        self.free += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allocates_every_frame_once_then_runs_out() {
        let mut frames = FrameAllocator::new(PhysAddr(0x8000_0000), PhysAddr(0x8000_0000 + 100 * PAGE_SIZE));
        assert_eq!(frames.total(), 100);
        let mut seen: Vec<_> = (0..100).map(|_| frames.alloc().unwrap()).collect();
        assert_eq!(frames.alloc(), None);
        assert_eq!(frames.free(), 0);
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), 100);
        assert_eq!(seen[0], PhysAddr(0x8000_0000));
        assert_eq!(*seen.last().unwrap(), PhysAddr(0x8000_0000 + 99 * PAGE_SIZE));
    }

    #[test]
    fn freed_frames_are_reused() {
        let mut frames = FrameAllocator::new(PhysAddr(0x1000), PhysAddr(0x1000 + 3 * PAGE_SIZE));
        let a = frames.alloc().unwrap();
        let _b = frames.alloc().unwrap();
        let _c = frames.alloc().unwrap();
        frames.dealloc(a);
        assert_eq!(frames.free(), 1);
        assert_eq!(frames.alloc(), Some(a));
    }

    #[test]
    fn unaligned_range_is_trimmed() {
        let frames = FrameAllocator::new(PhysAddr(0x1001), PhysAddr(0x5fff));
        assert_eq!(frames.total(), 3); // 0x2000, 0x3000, 0x4000
    }

    #[test]
    fn reserved_frames_are_never_handed_out() {
        let base = 0x8000_0000;
        let mut frames = FrameAllocator::new(PhysAddr(base), PhysAddr(base + 8 * PAGE_SIZE));
        frames.reserve(PhysAddr(base + 2 * PAGE_SIZE + 5), PhysAddr(base + 4 * PAGE_SIZE + 1));
        assert_eq!(frames.free(), 5, "frames 2, 3 and 4 are reserved");
        frames.reserve(PhysAddr(0), PhysAddr(base + PAGE_SIZE));
        assert_eq!(frames.free(), 4, "frame 0; the part below the range is ignored");
        let mut got: Vec<_> = core::iter::from_fn(|| frames.alloc()).map(|a| (a.0 - base) / PAGE_SIZE).collect();
        got.sort();
        assert_eq!(got, vec![1, 5, 6, 7]);
    }

    #[test]
    fn contiguous_allocation_skips_holes() {
        let base = 0x8000_0000;
        let mut frames = FrameAllocator::new(PhysAddr(base), PhysAddr(base + 10 * PAGE_SIZE));
        frames.reserve(PhysAddr(base + 3 * PAGE_SIZE), PhysAddr(base + 4 * PAGE_SIZE));
        assert_eq!(frames.alloc_contiguous(4), Some(PhysAddr(base + 4 * PAGE_SIZE)));
        assert_eq!(frames.alloc_contiguous(3), Some(PhysAddr(base)));
        assert_eq!(frames.alloc_contiguous(3), None, "only 2 frames are left");
        assert_eq!(frames.free(), 2);
        assert_eq!(frames.alloc_contiguous(0), None);
    }

    #[test]
    #[should_panic(expected = "double free")]
    fn double_free_panics() {
        let mut frames = FrameAllocator::new(PhysAddr(0), PhysAddr(2 * PAGE_SIZE));
        let a = frames.alloc().unwrap();
        frames.dealloc(a);
        frames.dealloc(a);
    }

    #[test]
    #[should_panic(expected = "foreign frame")]
    fn foreign_frame_panics() {
        let mut frames = FrameAllocator::new(PhysAddr(0x10000), PhysAddr(0x20000));
        frames.dealloc(PhysAddr(0x30000));
    }
}
