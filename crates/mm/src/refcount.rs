//! Reference-counted physical frames, so that several address spaces can share one frame
//! (copy-on-write after `fork`, `MAP_SHARED` memory) and it is freed by the last user.
//!
//! [`PhysFrames`] is what address spaces need from physical memory: zeroed frames, a
//! pointer to reach one, and a count of its users. The kernel uses [`RefCountedFrames`]
//! (the [`FrameAllocator`] plus one `u32` count per frame, reached through the direct
//! map); host tests use the same type over a `Vec` of emulated RAM. [`TableFrames`]
//! adapts any `PhysFrames` to the page-table code's [`PhysMemory`], so a user address
//! space's page tables come from, and go back to, the same pool as its pages.

use alloc::vec;
use alloc::vec::Vec;

use crate::sv39::PhysMemory;
use crate::{FrameAllocator, PhysAddr, PAGE_SIZE};

/// Physical frames with reference counts.
///
/// # Safety
/// `ptr` must return a pointer valid for reads and writes of 4 KiB (and aligned to 8) for
/// every frame `alloc_zeroed` handed out while its count is above zero; `alloc_zeroed`
/// must return zeroed, 4 KiB-aligned frames nothing else uses, with a count of one.
pub unsafe trait PhysFrames {
    /// A zeroed frame with a count of one, or `None` when out of memory.
    fn alloc_zeroed(&mut self) -> Option<PhysAddr>;
    /// Pointer to the 4 KiB of frame `pa`.
    fn ptr(&self, pa: PhysAddr) -> *mut u8;
    /// One more user of `pa`.
    fn share(&mut self, pa: PhysAddr);
    /// One user fewer of `pa`; the frame is freed when none is left. Returns whether it was.
    fn release(&mut self, pa: PhysAddr) -> bool;
    /// How many users `pa` has (0: free, or not a counted frame).
    fn count(&self, pa: PhysAddr) -> usize;
}

/// Where physical memory is reachable: physical `phys_start + n` at `virt_start + n`.
#[derive(Clone, Copy, Debug)]
pub struct DirectMap {
    phys_start: PhysAddr,
    virt_start: *mut u8,
}

// SAFETY: a `DirectMap` is only a description of an address window; whoever dereferences
// a pointer from it follows the rules of what the window maps (see `RefCountedFrames`).
unsafe impl Send for DirectMap {}
// SAFETY: as above; it has no interior state.
unsafe impl Sync for DirectMap {}

impl DirectMap {
    /// Physical `phys_start + n` is reachable at `virt_start + n`. The kernel passes
    /// `PhysAddr(0)` and its `PHYS_OFFSET` as a pointer.
    pub const fn new(phys_start: PhysAddr, virt_start: *mut u8) -> Self {
        Self { phys_start, virt_start }
    }

    /// Where physical address `pa` is reachable.
    pub fn phys_to_ptr(&self, pa: PhysAddr) -> *mut u8 {
        self.virt_start.wrapping_add(pa.0 - self.phys_start.0)
    }
}

/// The [`FrameAllocator`] with a reference count per frame.
///
/// Frames taken straight from [`RefCountedFrames::allocator`] (kernel heap, kernel page
/// tables) have a count of zero and must never be shared or released through here.
pub struct RefCountedFrames {
    allocator: FrameAllocator,
    counts: Vec<u32>,
    map: DirectMap,
    /// Frames nobody uses any more that another hart may still reach through a stale
    /// TLB entry, each with the TLB epoch every hart must have flushed at (see
    /// [`RefCountedFrames::release_after`]).
    quarantine: Vec<(PhysAddr, u64)>,
}

impl RefCountedFrames {
    /// Counts the frames of `allocator`, reachable through `map`.
    ///
    /// # Safety
    /// `map` must make every frame of `allocator` readable and writable (4 KiB each) for
    /// as long as this value lives, and that memory must be used by nothing else while a
    /// frame is allocated from here.
    pub unsafe fn new(allocator: FrameAllocator, map: DirectMap) -> Self {
        let counts = vec![0; allocator.total()];
        Self { allocator, counts, map, quarantine: Vec::new() }
    }

    /// One user fewer of `pa`, as [`PhysFrames::release`], for a frame that was just
    /// unmapped while other harts may still cache a translation of it. `epoch` is the
    /// TLB epoch a hart must have flushed at (or after) to hold none; `safe` is the
    /// oldest epoch any hart running user code flushed at. A frame whose count drops to
    /// zero is freed at once if `epoch <= safe`, else quarantined until
    /// [`RefCountedFrames::reclaim`] is given a `safe` that reaches it: reusing it
    /// earlier would let user code on another hart write into its next owner.
    /// Returns whether the count dropped to zero.
    pub fn release_after(&mut self, pa: PhysAddr, epoch: u64, safe: u64) -> bool {
        let count = self.count_mut(pa);
        *count -= 1;
        let unused = *count == 0;
        if unused {
            if epoch <= safe {
                self.allocator.dealloc(pa);
            } else {
                self.quarantine.push((pa, epoch));
            }
        }
        unused
    }

    /// Frees the quarantined frames whose epoch is at most `safe`; returns how many.
    pub fn reclaim(&mut self, safe: u64) -> usize {
        if self.quarantine.is_empty() {
            return 0;
        }
        let before = self.quarantine.len();
        let allocator = &mut self.allocator;
        self.quarantine.retain(|&(pa, epoch)| {
            let keep = epoch > safe;
            if !keep {
                allocator.dealloc(pa);
            }
            keep
        });
        before - self.quarantine.len()
    }

    /// The quarantined frames: how many, and the oldest epoch among them (what the
    /// lagging harts must flush at).
    pub fn quarantined(&self) -> (usize, Option<u64>) {
        (self.quarantine.len(), self.quarantine.iter().map(|&(_, epoch)| epoch).min())
    }

    /// The allocator, for frames that are not reference counted.
    pub fn allocator(&mut self) -> &mut FrameAllocator {
        &mut self.allocator
    }

    /// Frames currently free.
    pub fn free(&self) -> usize {
        self.allocator.free()
    }

    /// Total frames managed.
    pub fn total(&self) -> usize {
        self.allocator.total()
    }

    /// Where physical address `pa` is reachable.
    pub fn phys_to_ptr(&self, pa: PhysAddr) -> *mut u8 {
        self.map.phys_to_ptr(pa)
    }

    /// The count of a frame of ours in use.
    ///
    /// # Panics
    /// If `pa` is not a counted frame in use: sharing or releasing a free or foreign
    /// frame is a kernel bug to be loud about.
    fn count_mut(&mut self, pa: PhysAddr) -> &mut u32 {
        let number = self.allocator.frame_number(pa).unwrap_or_else(|| panic!("foreign frame {pa:?}"));
        let count = &mut self.counts[number];
        assert!(*count > 0, "frame {pa:?} is not in use");
        count
    }
}

// SAFETY: frames come from the allocator, which hands each out once; they are zeroed
// through the direct map, which reaches all of them (`new`'s contract), and a frame
// goes back to the allocator only when its count drops to zero.
unsafe impl PhysFrames for RefCountedFrames {
    fn alloc_zeroed(&mut self) -> Option<PhysAddr> {
        let pa = self.allocator.alloc()?;
        // SAFETY: the frame was just allocated, so nothing else uses it, and the direct
        // map reaches it (`new`'s contract).
        unsafe { self.phys_to_ptr(pa).write_bytes(0, PAGE_SIZE) };
        let number = self.allocator.frame_number(pa).expect("the allocator's own frame");
        self.counts[number] = 1;
        Some(pa)
    }

    fn ptr(&self, pa: PhysAddr) -> *mut u8 {
        self.phys_to_ptr(pa)
    }

    fn share(&mut self, pa: PhysAddr) {
        let count = self.count_mut(pa);
        *count = count.checked_add(1).expect("frame reference count overflow");
    }

    fn release(&mut self, pa: PhysAddr) -> bool {
        let count = self.count_mut(pa);
        *count -= 1;
        let freed = *count == 0;
        if freed {
            self.allocator.dealloc(pa);
        }
        freed
    }

    fn count(&self, pa: PhysAddr) -> usize {
        self.allocator.frame_number(pa).map_or(0, |number| self.counts[number] as usize)
    }
}

/// Page-table memory drawn from a [`PhysFrames`] pool: tables are frames with a count
/// of one, freed by releasing them.
pub struct TableFrames<'a, F: PhysFrames>(pub &'a mut F);

// SAFETY: `PhysFrames` promises zeroed, exclusively owned, 4 KiB-aligned frames and a
// pointer valid for 4 KiB (aligned to 8) while a frame is in use, which is what
// `PhysMemory` asks for.
unsafe impl<F: PhysFrames> PhysMemory for TableFrames<'_, F> {
    fn table_ptr(&self, frame: PhysAddr) -> *mut u64 {
        self.0.ptr(frame).cast()
    }
    fn alloc_table_frame(&mut self) -> Option<PhysAddr> {
        self.0.alloc_zeroed()
    }
    fn free_table_frame(&mut self, frame: PhysAddr) {
        self.0.release(frame);
    }
}

/// A read-only view of page tables in a [`PhysFrames`] pool, for walks that change
/// nothing: it allocates no table (there is none to allocate in a lookup).
pub(crate) struct ReadTables<'a, F: PhysFrames>(pub &'a F);

// SAFETY: as for `TableFrames`; it never hands out a frame.
unsafe impl<F: PhysFrames> PhysMemory for ReadTables<'_, F> {
    fn table_ptr(&self, frame: PhysAddr) -> *mut u64 {
        self.0.ptr(frame).cast()
    }
    fn alloc_table_frame(&mut self) -> Option<PhysAddr> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::TestRam;

    #[test]
    fn counts_and_frees_at_zero() {
        let ram = TestRam::new(8);
        let mut frames = ram.frames();
        let free = frames.free();
        let a = frames.alloc_zeroed().unwrap();
        assert_eq!(frames.count(a), 1);
        assert_eq!(frames.free(), free - 1);
        frames.share(a);
        assert_eq!(frames.count(a), 2);
        assert!(!frames.release(a));
        assert_eq!(frames.free(), free - 1, "one user left");
        assert!(frames.release(a));
        assert_eq!((frames.count(a), frames.free()), (0, free));
    }

    #[test]
    fn frames_come_zeroed_even_when_reused() {
        let ram = TestRam::new(2);
        let mut frames = ram.frames();
        let a = frames.alloc_zeroed().unwrap();
        // SAFETY: `a` is in use, so `ptr` reaches 4 KiB of it.
        unsafe { frames.ptr(a).write_bytes(0xaa, PAGE_SIZE) };
        frames.release(a);
        let b = frames.alloc_zeroed().unwrap();
        assert_eq!(a, b);
        // SAFETY: as above.
        let bytes = unsafe { core::slice::from_raw_parts(frames.ptr(b), PAGE_SIZE) };
        assert!(bytes.iter().all(|&byte| byte == 0));
    }

    #[test]
    #[should_panic(expected = "not in use")]
    fn releasing_a_free_frame_panics() {
        let ram = TestRam::new(2);
        let mut frames = ram.frames();
        let a = frames.alloc_zeroed().unwrap();
        frames.release(a);
        frames.release(a);
    }

    #[test]
    fn a_frame_another_hart_may_still_reach_waits_in_quarantine() {
        let ram = TestRam::new(4);
        let frames = ram.frames();
        frames.with(|frames| {
            let free = frames.free();
            let a = frames.alloc_zeroed().unwrap();
            let b = frames.alloc_zeroed().unwrap();
            frames.share(b);
            // Released at epoch 5 while some hart in user mode flushed only at 3.
            assert!(frames.release_after(a, 5, 3));
            assert_eq!(frames.free(), free - 2, "a is not reusable yet");
            assert_eq!(frames.quarantined(), (1, Some(5)));
            assert!(!frames.release_after(b, 6, 3), "b still has a user");
            assert_eq!(frames.reclaim(4), 0, "no hart flushed at 5 yet");
            assert_eq!(frames.reclaim(5), 1);
            assert_eq!(frames.quarantined(), (0, None));
            assert_eq!(frames.free(), free - 1);
            // Every hart flushed already: freed at once.
            assert!(frames.release_after(b, 7, u64::MAX));
            assert_eq!(frames.free(), free);
        });
    }

    #[test]
    #[should_panic(expected = "not in use")]
    fn releasing_a_quarantined_frame_again_panics() {
        let ram = TestRam::new(2);
        let frames = ram.frames();
        frames.with(|frames| {
            let a = frames.alloc_zeroed().unwrap();
            frames.release_after(a, 2, 1);
            frames.release_after(a, 3, 1);
        });
    }

    #[test]
    fn frames_from_the_raw_allocator_are_not_counted() {
        let ram = TestRam::new(2);
        let frames = ram.frames();
        let raw = frames.with(|frames| frames.allocator().alloc().unwrap());
        assert_eq!(frames.count(raw), 0);
        assert_eq!(frames.count(PhysAddr(0x10)), 0, "foreign address");
    }
}
