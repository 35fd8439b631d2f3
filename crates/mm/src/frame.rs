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
        if frames % 64 != 0 {
            *used.last_mut().unwrap() = !0u64 << (frames % 64);
        }
        Self { start, frames, used, free: frames, cursor: 0 }
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
