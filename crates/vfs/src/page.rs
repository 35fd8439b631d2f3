//! The 4 KiB pages tmpfs keeps file data in, from an allocator the kernel chooses.
//!
//! By default pages come from the heap (host tests). The kernel installs its frame
//! allocator with [`set_page_allocator`], so file data lives in page frames that go
//! back to the frame pool when a file shrinks or is deleted: memory a deleted file used
//! is available to user processes again, not stranded in a heap that never shrinks.

use core::ops::{Deref, DerefMut};
use core::ptr::NonNull;
use core::sync::atomic::{AtomicUsize, Ordering};

/// Bytes per page.
pub const PAGE_SIZE: usize = 4096;

/// Allocates one zeroed, 4 KiB-aligned page, or `None` when memory is exhausted.
pub type AllocPage = fn() -> Option<NonNull<u8>>;
/// Returns a page obtained from the matching [`AllocPage`].
pub type FreePage = fn(NonNull<u8>);

static ALLOC: AtomicUsize = AtomicUsize::new(0);
static FREE: AtomicUsize = AtomicUsize::new(0);

/// Makes tmpfs take its pages from `alloc` and give them back with `free`. Call once,
/// before any file data exists (pages are returned to the allocator they came from).
pub fn set_page_allocator(alloc: AllocPage, free: FreePage) {
    FREE.store(free as usize, Ordering::Release);
    ALLOC.store(alloc as usize, Ordering::Release);
}

fn heap_alloc() -> Option<NonNull<u8>> {
    let layout = core::alloc::Layout::from_size_align(PAGE_SIZE, PAGE_SIZE).ok()?;
    // SAFETY: the layout has a non-zero size.
    NonNull::new(unsafe { alloc::alloc::alloc_zeroed(layout) })
}

fn heap_free(page: NonNull<u8>) {
    let layout = core::alloc::Layout::from_size_align(PAGE_SIZE, PAGE_SIZE).expect("a valid layout");
    // SAFETY: `page` came from `heap_alloc` with this layout.
    unsafe { alloc::alloc::dealloc(page.as_ptr(), layout) };
}

fn allocator() -> (AllocPage, FreePage) {
    let alloc = ALLOC.load(Ordering::Acquire);
    if alloc == 0 {
        return (heap_alloc, heap_free);
    }
    let free = FREE.load(Ordering::Acquire);
    // SAFETY: both words only ever hold functions of these types (set together above).
    unsafe { (core::mem::transmute::<usize, AllocPage>(alloc), core::mem::transmute::<usize, FreePage>(free)) }
}

/// One page of file data, owned exclusively; freed when dropped.
pub struct Page {
    memory: NonNull<u8>,
    free: FreePage,
}

// SAFETY: a `Page` owns its memory exclusively, like a `Box<[u8; 4096]>`.
unsafe impl Send for Page {}
// SAFETY: shared access only reads through `&self`.
unsafe impl Sync for Page {}

impl Page {
    /// A zeroed page, or `None` when memory is exhausted.
    pub fn new() -> Option<Self> {
        let (alloc, free) = allocator();
        alloc().map(|memory| Self { memory, free })
    }
}

impl Deref for Page {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        // SAFETY: the page is PAGE_SIZE bytes owned by `self`.
        unsafe { core::slice::from_raw_parts(self.memory.as_ptr(), PAGE_SIZE) }
    }
}

impl DerefMut for Page {
    fn deref_mut(&mut self) -> &mut [u8] {
        // SAFETY: as above, and `&mut self` makes this the only access.
        unsafe { core::slice::from_raw_parts_mut(self.memory.as_ptr(), PAGE_SIZE) }
    }
}

impl Drop for Page {
    fn drop(&mut self) {
        (self.free)(self.memory);
    }
}
