//! Emulated RAM for host tests: a boxed array of 4 KiB-aligned pages behind a
//! [`RefCountedFrames`], shared by handle so that several address spaces (a parent and
//! its fork) draw from, and give back to, one pool whose free count tests can check.

use alloc::boxed::Box;
use alloc::rc::Rc;
use alloc::vec;
use core::cell::RefCell;

use crate::refcount::{DirectMap, PhysFrames, RefCountedFrames};
use crate::{FrameAllocator, PhysAddr, PAGE_SIZE};

/// Physical address of the first emulated frame.
pub const RAM_BASE: usize = 0x8000_0000;

#[derive(Clone, Copy)]
#[repr(C, align(4096))]
struct Page([u8; PAGE_SIZE]);

struct Ram {
    pages: *mut [Page],
    frames: RefCell<RefCountedFrames>,
}

impl Drop for Ram {
    fn drop(&mut self) {
        // SAFETY: `pages` came from `Box::into_raw` in `TestRam::new` and is freed once, here.
        drop(unsafe { Box::from_raw(self.pages) });
    }
}

/// A pool of emulated RAM; clones are handles to the same pool.
#[derive(Clone)]
pub struct TestRam(Rc<Ram>);

impl TestRam {
    /// `frames` frames of zeroed RAM at [`RAM_BASE`].
    pub fn new(frames: usize) -> Self {
        let pages = Box::into_raw(vec![Page([0; PAGE_SIZE]); frames].into_boxed_slice());
        let allocator = FrameAllocator::new(PhysAddr(RAM_BASE), PhysAddr(RAM_BASE + frames * PAGE_SIZE));
        let map = DirectMap::new(PhysAddr(RAM_BASE), pages.cast());
        // SAFETY: the boxed pages are exactly the allocator's frames, live as long as the
        // `Ram` that owns both, and are reached only through these frames.
        let frames = unsafe { RefCountedFrames::new(allocator, map) };
        Self(Rc::new(Ram { pages, frames: RefCell::new(frames) }))
    }

    /// Another handle to the same pool.
    pub fn frames(&self) -> TestRam {
        self.clone()
    }

    /// Frames currently free.
    pub fn free(&self) -> usize {
        self.0.frames.borrow().free()
    }

    /// Runs `f` on the pool itself.
    pub fn with<R>(&self, f: impl FnOnce(&mut RefCountedFrames) -> R) -> R {
        f(&mut self.0.frames.borrow_mut())
    }
}

// SAFETY: every call goes to the one `RefCountedFrames` of the pool, which keeps the
// contract; the pages it points into live as long as any handle.
unsafe impl PhysFrames for TestRam {
    fn alloc_zeroed(&mut self) -> Option<PhysAddr> {
        self.0.frames.borrow_mut().alloc_zeroed()
    }
    fn ptr(&self, pa: PhysAddr) -> *mut u8 {
        self.0.frames.borrow().ptr(pa)
    }
    fn share(&mut self, pa: PhysAddr) {
        self.0.frames.borrow_mut().share(pa);
    }
    fn release(&mut self, pa: PhysAddr) -> bool {
        self.0.frames.borrow_mut().release(pa)
    }
    fn count(&self, pa: PhysAddr) -> usize {
        self.0.frames.borrow().count(pa)
    }
}
