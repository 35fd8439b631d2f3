//! The 4 KiB pages file data lives in, from an allocator the kernel chooses, with
//! reference counts so that a page can be shared between a file and user mappings.
//!
//! By default pages come from the heap (host tests), their counts kept in a table. The
//! kernel installs its frame pool with [`set_page_allocator`]: file data then lives in
//! reference-counted page frames, a [`PageRef`] is one more count on the frame, and the
//! kernel can map that very frame into user address spaces (`mmap` of a file, program
//! images) and release the count when the mapping goes. Memory a deleted file used goes
//! back to the frame pool once its last mapping is gone.
//!
//! A [`Page`] is the owner's handle (the file's): it may write the bytes. A [`PageRef`]
//! is a counted handle that only names the page (for mapping); the bytes behind it may
//! change whenever the owner writes, which is exactly what `MAP_SHARED` must see.

use alloc::collections::BTreeMap;
use core::ops::{Deref, DerefMut};
use core::ptr::NonNull;
use core::sync::atomic::{AtomicUsize, Ordering};

use ksync::SpinLock;

/// Bytes per page.
pub const PAGE_SIZE: usize = 4096;

/// Allocates one zeroed, 4 KiB-aligned page with a count of one, or `None` when
/// memory is exhausted.
pub type AllocPage = fn() -> Option<NonNull<u8>>;
/// Adds one to the count of a page from the matching [`AllocPage`].
pub type SharePage = fn(NonNull<u8>);
/// Takes one from the count of a page from the matching [`AllocPage`]; the page is
/// freed at zero.
pub type ReleasePage = fn(NonNull<u8>);

static ALLOC: AtomicUsize = AtomicUsize::new(0);
static SHARE: AtomicUsize = AtomicUsize::new(0);
static RELEASE: AtomicUsize = AtomicUsize::new(0);

/// Makes file data use pages from `alloc`, counted with `share` and `release`. Call
/// once, before any file data exists (pages go back to the allocator they came from).
pub fn set_page_allocator(alloc: AllocPage, share: SharePage, release: ReleasePage) {
    SHARE.store(share as usize, Ordering::Release);
    RELEASE.store(release as usize, Ordering::Release);
    ALLOC.store(alloc as usize, Ordering::Release);
}

/// Extra references (beyond the first) of heap pages, by address (host default).
static HEAP_SHARES: SpinLock<BTreeMap<usize, usize>> = SpinLock::new(BTreeMap::new());

fn heap_alloc() -> Option<NonNull<u8>> {
    let layout = core::alloc::Layout::from_size_align(PAGE_SIZE, PAGE_SIZE).ok()?;
    // SAFETY: the layout has a non-zero size.
    NonNull::new(unsafe { alloc::alloc::alloc_zeroed(layout) })
}

fn heap_share(page: NonNull<u8>) {
    *HEAP_SHARES.lock().entry(page.as_ptr() as usize).or_insert(0) += 1;
}

fn heap_release(page: NonNull<u8>) {
    {
        let mut shares = HEAP_SHARES.lock();
        if let Some(extra) = shares.get_mut(&(page.as_ptr() as usize)) {
            *extra -= 1;
            if *extra == 0 {
                shares.remove(&(page.as_ptr() as usize));
            }
            return;
        }
    }
    let layout = core::alloc::Layout::from_size_align(PAGE_SIZE, PAGE_SIZE).expect("a valid layout");
    // SAFETY: `page` came from `heap_alloc` with this layout and this was its last count.
    unsafe { alloc::alloc::dealloc(page.as_ptr(), layout) };
}

#[derive(Clone, Copy)]
struct Allocator {
    alloc: AllocPage,
    share: SharePage,
    release: ReleasePage,
}

fn allocator() -> Allocator {
    let alloc = ALLOC.load(Ordering::Acquire);
    if alloc == 0 {
        return Allocator { alloc: heap_alloc, share: heap_share, release: heap_release };
    }
    let share = SHARE.load(Ordering::Acquire);
    let release = RELEASE.load(Ordering::Acquire);
    // SAFETY: these words only ever hold functions of these types (set together above).
    unsafe {
        Allocator {
            alloc: core::mem::transmute::<usize, AllocPage>(alloc),
            share: core::mem::transmute::<usize, SharePage>(share),
            release: core::mem::transmute::<usize, ReleasePage>(release),
        }
    }
}

/// One page of file data, held by its owner (the file); released when dropped.
pub struct Page {
    memory: NonNull<u8>,
    allocator: Allocator,
}

// SAFETY: a `Page` is a counted handle to memory that lives until its last count goes;
// the owner alone writes through it.
unsafe impl Send for Page {}
// SAFETY: shared access only reads through `&self`.
unsafe impl Sync for Page {}

impl Page {
    /// A zeroed page, or `None` when memory is exhausted.
    pub fn new() -> Option<Self> {
        let allocator = allocator();
        (allocator.alloc)().map(|memory| Self { memory, allocator })
    }

    /// One more counted reference to this page, for a mapping.
    pub fn share(&self) -> PageRef {
        (self.allocator.share)(self.memory);
        PageRef { memory: self.memory, allocator: self.allocator }
    }
}

impl Deref for Page {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        // SAFETY: the page is PAGE_SIZE bytes kept alive by our count.
        unsafe { core::slice::from_raw_parts(self.memory.as_ptr(), PAGE_SIZE) }
    }
}

impl DerefMut for Page {
    fn deref_mut(&mut self) -> &mut [u8] {
        // SAFETY: as above; the owner is the only writer through Rust references (user
        // mappings of the page see the bytes change, as `MAP_SHARED` must).
        unsafe { core::slice::from_raw_parts_mut(self.memory.as_ptr(), PAGE_SIZE) }
    }
}

impl Drop for Page {
    fn drop(&mut self) {
        (self.allocator.release)(self.memory);
    }
}

/// A counted reference to a page of file data (see the module doc): what a file system
/// hands out for mapping. Dropping it releases the count.
pub struct PageRef {
    memory: NonNull<u8>,
    allocator: Allocator,
}

// SAFETY: as for `Page`; a `PageRef` never writes.
unsafe impl Send for PageRef {}
// SAFETY: as above.
unsafe impl Sync for PageRef {}

impl PageRef {
    /// Where the page is (the kernel turns it into a physical address).
    pub fn as_ptr(&self) -> *mut u8 {
        self.memory.as_ptr()
    }

    /// Gives up the handle without releasing its count: the caller now owns that count
    /// (the kernel maps the frame and releases it when the mapping goes).
    pub fn into_raw(self) -> NonNull<u8> {
        let memory = self.memory;
        core::mem::forget(self);
        memory
    }

    /// Copies the page's current bytes.
    pub fn copy_to(&self, out: &mut [u8; PAGE_SIZE]) {
        // SAFETY: the page is PAGE_SIZE bytes kept alive by our count.
        unsafe { core::ptr::copy_nonoverlapping(self.memory.as_ptr(), out.as_mut_ptr(), PAGE_SIZE) };
    }
}

impl Clone for PageRef {
    fn clone(&self) -> Self {
        (self.allocator.share)(self.memory);
        Self { memory: self.memory, allocator: self.allocator }
    }
}

impl Drop for PageRef {
    fn drop(&mut self) {
        (self.allocator.release)(self.memory);
    }
}
