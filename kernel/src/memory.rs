//! Kernel memory: the heap, the frame allocator and the kernel page table.
//!
//! Boot order: the heap starts on a small static region (enough to read the device
//! tree); then every free frame of RAM goes to the [`FrameAllocator`] (the firmware,
//! the kernel image and the initramfs reserved), and the heap grows by taking
//! contiguous runs of frames from it whenever it runs out. The kernel page table maps
//! all RAM at `PHYS_OFFSET` with the kernel image W^X (text R+X, rodata R, data R+W,
//! everything else R+W, never X), plus the MMIO of the devices the kernel drives.

use core::alloc::{GlobalAlloc, Layout};
use core::ptr::NonNull;
use core::sync::atomic::{AtomicUsize, Ordering};

use arch::layout::{kernel_sections, phys_to_virt, virt_to_phys};
use buddy_system_allocator::Heap;
use devicetree::Machine;
use ksync::SpinLock;
use mm::sv39::{Flags, PageTable, PhysMemory};
use mm::{DirectMap as FrameMap, PhysFrames, RefCountedFrames};
use mm::{FrameAllocator, PhysAddr, VirtAddr, PAGE_SIZE};
use spin::Once;

/// Size of the static region the heap starts with.
const EARLY_HEAP_SIZE: usize = 1 << 20;
/// The heap grows in steps of at least this much.
const HEAP_GROWTH: usize = 2 << 20;

#[repr(align(4096))]
struct EarlyHeap(#[allow(dead_code)] [u8; EARLY_HEAP_SIZE]);
static mut EARLY_HEAP: EarlyHeap = EarlyHeap([0; EARLY_HEAP_SIZE]);

/// The kernel heap: a buddy allocator that grows from the frame allocator.
struct KernelHeap {
    heap: SpinLock<Heap<32>>,
}

#[global_allocator]
static HEAP: KernelHeap = KernelHeap { heap: SpinLock::new(Heap::new()) };

static FRAMES: Once<SpinLock<RefCountedFrames>> = Once::new();
static KERNEL_TABLE: Once<(PageTable, usize)> = Once::new();

// SAFETY: the buddy allocator hands out disjoint, suitably aligned blocks under the
// lock; growth only adds frames that the frame allocator handed over for good.
unsafe impl GlobalAlloc for KernelHeap {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let mut heap = self.heap.lock();
        if let Ok(block) = heap.alloc(layout) {
            return block.as_ptr();
        }
        // Out of heap: take a contiguous run of frames big enough for this request. A
        // buddy block is aligned to its size, and the run is only page-aligned, so
        // twice the block size guarantees an aligned block inside it.
        let bytes = (layout.size().max(layout.align()).next_power_of_two() * 2).max(HEAP_GROWTH);
        let Some(frames) = FRAMES.get() else { return core::ptr::null_mut() };
        let Some(start) = frames.lock().allocator().alloc_contiguous(bytes / PAGE_SIZE) else {
            HEAP_GROWTH_FAILURES.fetch_add(1, core::sync::atomic::Ordering::Relaxed);
            return core::ptr::null_mut();
        };
        let start = phys_to_virt(start.0);
        // SAFETY: the frames were just taken from the frame allocator for the heap
        // alone and are mapped (all RAM is) at their direct-map address.
        unsafe { heap.add_to_heap(start, start + bytes) };
        heap.alloc(layout).map_or(core::ptr::null_mut(), NonNull::as_ptr)
    }

    unsafe fn dealloc(&self, pointer: *mut u8, layout: Layout) {
        if let Some(pointer) = NonNull::new(pointer) {
            // SAFETY: the caller returns a block this allocator handed out with `layout`.
            unsafe { self.heap.lock().dealloc(pointer, layout) };
        }
    }
}

/// Times the heap could not grow (no contiguous run of frames left).
pub static HEAP_GROWTH_FAILURES: core::sync::atomic::AtomicU64 = core::sync::atomic::AtomicU64::new(0);

/// Gives the heap its static starting region. Call once, first thing.
pub fn init_early_heap() {
    // Called once on the boot hart before anything else touches EARLY_HEAP; from then
    // on only the allocator uses it (taking the address needs no unsafe).
    let start = core::ptr::addr_of_mut!(EARLY_HEAP) as usize;
    // SAFETY: the region is a static array no one else uses.
    unsafe { HEAP.heap.lock().init(start, EARLY_HEAP_SIZE) };
}

/// Heap statistics: (bytes handed out, bytes managed).
pub fn heap_usage() -> (usize, usize) {
    let heap = HEAP.heap.lock();
    (heap.stats_alloc_actual(), heap.stats_total_bytes())
}

/// Frame statistics: (free, total).
pub fn frame_usage() -> (usize, usize) {
    FRAMES.get().map_or((0, 0), |frames| {
        let frames = frames.lock();
        (frames.free(), frames.total())
    })
}

/// Hands every free frame of RAM to the frame allocator.
pub fn init_frames(machine: &Machine, device_tree: (usize, usize)) {
    let &(ram_start, ram_size) = machine.memory.first().expect("the device tree has memory");
    let kernel_end = virt_to_phys(kernel_sections().image.1);
    let mut frames = FrameAllocator::new(PhysAddr(ram_start), PhysAddr(ram_start + ram_size));
    // Firmware (OpenSBI) and the kernel image itself.
    frames.reserve(PhysAddr(ram_start), PhysAddr(kernel_end));
    frames.reserve(PhysAddr(device_tree.0), PhysAddr(device_tree.1));
    if let Some((start, end)) = machine.initrd {
        frames.reserve(PhysAddr(start), PhysAddr(end));
    }
    log::info!(
        "memory: {} MiB of RAM at {ram_start:#x}, {} frames free, kernel image ends at {kernel_end:#x}",
        ram_size >> 20,
        frames.free()
    );
    // Give the heap a reserve up front (1/32 of RAM, at least 4 MiB): user memory
    // exhaustion then hits the frame pool (ENOMEM, SIGKILL) long before the kernel's own
    // allocations run dry; growth later needs a contiguous run that may no longer exist.
    let reserve = ((ram_size / 32).max(4 << 20) / PAGE_SIZE).next_power_of_two();
    if let Some(start) = frames.alloc_contiguous(reserve) {
        let start = phys_to_virt(start.0);
        // SAFETY: the frames were just taken for the heap alone and are mapped (all RAM
        // is) at their direct-map address.
        unsafe { HEAP.heap.lock().add_to_heap(start, start + reserve * PAGE_SIZE) };
    }
    let ram = FrameMap::new(PhysAddr(0), phys_to_virt(0) as *mut u8);
    // SAFETY: all RAM is mapped at phys_to_virt, and the allocator hands out only RAM.
    FRAMES.call_once(|| SpinLock::new(unsafe { RefCountedFrames::new(frames, ram) }));
}

/// The frames of user address spaces: the global reference-counted frame pool.
#[derive(Clone, Copy, Debug, Default)]
pub struct KernelFrames;

fn frames() -> &'static SpinLock<RefCountedFrames> {
    FRAMES.get().expect("frames initialised at boot")
}

// SAFETY: delegates to the global `RefCountedFrames`, whose frames are RAM mapped at
// `phys_to_virt` and handed out zeroed and exclusively.
unsafe impl PhysFrames for KernelFrames {
    fn alloc_zeroed(&mut self) -> Option<PhysAddr> {
        let mut frames = frames().lock();
        frames.alloc_zeroed().or_else(|| {
            frames.reclaim(crate::process::run::safe_epoch());
            frames.alloc_zeroed()
        })
    }
    fn ptr(&self, pa: PhysAddr) -> *mut u8 {
        phys_to_virt(pa.0) as *mut u8
    }
    fn share(&mut self, pa: PhysAddr) {
        frames().lock().share(pa)
    }
    fn release(&mut self, pa: PhysAddr) -> bool {
        release_user_frame(pa)
    }
    fn count(&self, pa: PhysAddr) -> usize {
        frames().lock().count(pa)
    }
}

/// Drops one user of a frame user code may have mapped. The caller unmapped it already,
/// but harts running user code with an older TLB may still reach it, so a frame nobody
/// uses any more is quarantined until they flushed (they are sent an IPI to hurry).
fn release_user_frame(pa: PhysAddr) -> bool {
    let epoch = crate::process::run::note_user_mapping_change();
    let safe = crate::process::run::safe_epoch();
    let mut frames = frames().lock();
    let unused = frames.release_after(pa, epoch, safe);
    if epoch > safe {
        reclaim_and_nudge(frames, safe);
    }
    unused
}

/// Frees what the quarantine may let go at `safe`, records how much is left and sends
/// the harts that hold the rest back an IPI (after unlocking the pool).
fn reclaim_and_nudge(mut frames: ksync::SpinLockGuard<'_, RefCountedFrames>, safe: u64) {
    frames.reclaim(safe);
    let (count, oldest) = frames.quarantined();
    QUARANTINED.store(count, Ordering::Relaxed);
    drop(frames);
    if let Some(oldest) = oldest {
        crate::process::run::nudge_harts_older_than(oldest);
    }
}

/// How many freed user frames wait in quarantine (a cheap check before locking).
static QUARANTINED: AtomicUsize = AtomicUsize::new(0);

/// Whether freed user frames wait in quarantine (one relaxed load).
#[inline(always)]
pub fn frames_quarantined() -> bool {
    QUARANTINED.load(Ordering::Relaxed) != 0
}

/// Frees the quarantined user frames no hart can reach any more (called when a hart
/// leaves user mode and [`frames_quarantined`] says there are some).
pub fn reclaim_quarantined_frames() {
    reclaim_and_nudge(frames().lock(), crate::process::run::safe_epoch());
}

/// The kernel page table (for building user address spaces that share its upper half).
pub fn kernel_page_table() -> &'static PageTable {
    &KERNEL_TABLE.get().expect("kernel page table built").0
}

/// Allocates a zeroed frame.
pub fn alloc_zeroed_frame() -> Option<PhysAddr> {
    let frame = FRAMES.get()?.lock().allocator().alloc()?;
    // SAFETY: the frame was just allocated, so nothing else uses it, and all RAM is
    // mapped at its direct-map address.
    unsafe { core::ptr::write_bytes(phys_to_virt(frame.0) as *mut u8, 0, PAGE_SIZE) };
    Some(frame)
}

/// Returns a frame taken with [`alloc_zeroed_frame`].
pub fn free_frame(frame: PhysAddr) {
    if let Some(frames) = FRAMES.get() {
        frames.lock().allocator().dealloc(frame);
    }
}

/// Allocates `count` physically contiguous zeroed frames (device DMA rings).
pub fn alloc_contiguous_zeroed(count: usize) -> Option<PhysAddr> {
    let start = FRAMES.get()?.lock().allocator().alloc_contiguous(count)?;
    // SAFETY: the frames were just allocated and are mapped at their direct-map address.
    unsafe { core::ptr::write_bytes(phys_to_virt(start.0) as *mut u8, 0, count * PAGE_SIZE) };
    Some(start)
}

/// Returns frames taken with [`alloc_contiguous_zeroed`].
pub fn free_contiguous(start: PhysAddr, count: usize) {
    for index in 0..count {
        free_frame(PhysAddr(start.0 + index * PAGE_SIZE));
    }
}

/// File pages are reference-counted frames of the user frame pool: deleting a file
/// gives its memory back to user space, and a user mapping of a file page is one more
/// count on the very frame the file uses (see `process::file_pages`).
fn file_page_alloc() -> Option<NonNull<u8>> {
    let frame = frames().lock().alloc_zeroed()?;
    NonNull::new(phys_to_virt(frame.0) as *mut u8)
}

fn file_page_share(page: NonNull<u8>) {
    frames().lock().share(PhysAddr(virt_to_phys(page.as_ptr() as usize)));
}

fn file_page_release(page: NonNull<u8>) {
    // File pages are mapped into user space too (the page cache).
    release_user_frame(PhysAddr(virt_to_phys(page.as_ptr() as usize)));
}

/// How many holders the file page at `page` has: the file's own count plus one per
/// user mapping of it (so more than one means some address space maps it).
pub fn file_page_users(page: *const u8) -> usize {
    frames().lock().count(PhysAddr(virt_to_phys(page as usize)))
}

/// Makes file systems keep file data in counted page frames (call once frames exist,
/// before files).
pub fn use_frames_for_file_data() {
    vfs::page::set_page_allocator(file_page_alloc, file_page_share, file_page_release);
}

/// Page-table frames come from the frame allocator and are reached through the direct map.
struct DirectMap;

// SAFETY: every frame address used by kernel page tables is RAM, which is mapped at
// `phys_to_virt` in both the boot and the kernel page table; frames come zeroed from
// `alloc_zeroed_frame` and belong to the table alone.
unsafe impl PhysMemory for DirectMap {
    fn table_ptr(&self, frame: PhysAddr) -> *mut u64 {
        phys_to_virt(frame.0) as *mut u64
    }
    fn alloc_table_frame(&mut self) -> Option<PhysAddr> {
        alloc_zeroed_frame()
    }
}

/// Builds the kernel page table (not yet active on any hart).
pub fn build_kernel_page_table(machine: &Machine) {
    let sections = kernel_sections();
    let mut table = PageTable::new(&mut DirectMap).expect("a frame for the kernel page table");
    let mut map = |start: usize, end: usize, flags: Flags, what: &str| {
        let start = start & !(PAGE_SIZE - 1);
        let end = (end + PAGE_SIZE - 1) & !(PAGE_SIZE - 1);
        if end > start {
            table
                .map_range(&mut DirectMap, VirtAddr(start), PhysAddr(virt_to_phys(start)), end - start, flags)
                .unwrap_or_else(|error| panic!("mapping {what} {start:#x}..{end:#x}: {error:?}"));
        }
    };
    let global = Flags::G;
    for &(ram_start, ram_size) in &machine.memory {
        let (ram_start, ram_end) = (phys_to_virt(ram_start), phys_to_virt(ram_start + ram_size));
        map(ram_start, sections.image.0.max(ram_start), Flags::R | Flags::W | global, "RAM below the kernel");
        map(sections.image.1.max(ram_start), ram_end, Flags::R | Flags::W | global, "RAM above the kernel");
    }
    map(sections.text.0, sections.text.1, Flags::R | Flags::X | global, "kernel text");
    map(sections.rodata.0, sections.rodata.1, Flags::R | global, "kernel rodata");
    map(sections.data.0, sections.data.1, Flags::R | Flags::W | global, "kernel data");
    let devices = [machine.uart, machine.plic, machine.rtc, machine.finisher];
    for device in devices.iter().flatten().chain(machine.virtio_mmio.iter()) {
        let start = phys_to_virt(device.base);
        map(start, start + device.size.max(PAGE_SIZE), Flags::R | Flags::W | global, "device registers");
    }
    let satp = table.satp(0);
    KERNEL_TABLE.call_once(|| (table, satp));
}

/// Switches the current hart to the kernel page table.
pub fn activate_kernel_page_table() {
    if let Some(frames) = FRAMES.get() {
        let mut frames = frames.lock();
        let allocator = frames.allocator();
        let end = phys_to_virt(allocator.start().0) + allocator.total() * PAGE_SIZE;
        arch::backtrace::allow_frames_in(phys_to_virt(0x8020_0000), end);
    }
    let (_, satp) = KERNEL_TABLE.get().expect("kernel page table built");
    // SAFETY: the kernel table maps the kernel image, every hart stack and all RAM at
    // the same virtual addresses as the boot table does.
    unsafe { arch::paging::activate(*satp) };
}

/// Translates `va` through the kernel page table (for self-tests).
pub fn translate(va: usize) -> Option<(PhysAddr, Flags)> {
    let (table, _) = KERNEL_TABLE.get()?;
    table.translate(&DirectMap, VirtAddr(va)).map(|(pa, flags, _)| (pa, flags))
}
