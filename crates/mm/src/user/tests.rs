//! Host tests of user address spaces over emulated RAM: lazy allocation, faults,
//! copy-on-write, `mmap`/`munmap`/`mprotect`/`brk` rules, user-memory access, and that
//! every frame comes back when the spaces are gone.

use alloc::vec;
use alloc::vec::Vec;

use abi::Errno;

use super::*;
use crate::refcount::{PhysFrames, ReadTables, TableFrames};
use crate::sv39::{Flags, PageSize, PageTable};
use crate::testing::TestRam;
use crate::{PhysAddr, VirtAddr, PAGE_SIZE};

/// Frames of emulated RAM per test (fewer under Miri, which is slow).
const FRAMES: usize = if cfg!(miri) { 48 } else { 256 };
const KERNEL_VA: VirtAddr = VirtAddr(0xffff_ffc0_8020_0000);
const RW: Prot = Prot::READ.union(Prot::WRITE);
const PRIVATE: MapFlags = MapFlags::PRIVATE.union(MapFlags::ANONYMOUS);
const FIXED: MapFlags = PRIVATE.union(MapFlags::FIXED);
const NOREPLACE: MapFlags = PRIVATE.union(MapFlags::FIXED_NOREPLACE);
const SHARED: MapFlags = MapFlags::SHARED.union(MapFlags::ANONYMOUS);
const AT: VirtAddr = VirtAddr(0x1000_0000);

/// Emulated RAM with a kernel page table in it; `used` counts frames taken since.
struct Fixture {
    ram: TestRam,
    kernel: PageTable,
    baseline: usize,
}

impl Fixture {
    fn new() -> Self {
        Self::with_frames(FRAMES)
    }

    fn with_frames(frames: usize) -> Self {
        let ram = TestRam::new(frames);
        let mut pool = ram.frames();
        let mut memory = TableFrames(&mut pool);
        let mut kernel = PageTable::new(&mut memory).unwrap();
        // A 4 KiB page (so intermediate tables exist in the kernel half) and a gigabyte.
        kernel.map(&mut memory, KERNEL_VA, PhysAddr(0x8020_0000), PageSize::Size4K, Flags::R | Flags::X).unwrap();
        let giga = VirtAddr(0xffff_ffc0_0000_0000);
        kernel.map(&mut memory, giga, PhysAddr(0), PageSize::Size1G, Flags::R | Flags::W).unwrap();
        let baseline = ram.free();
        Self { ram, kernel, baseline }
    }

    fn space(&self) -> AddressSpace<TestRam> {
        AddressSpace::new(self.ram.frames(), &self.kernel).unwrap()
    }

    fn used(&self) -> usize {
        self.baseline - self.ram.free()
    }
}

/// Subtraction on addresses, for tests.
trait Sub {
    fn sub(self, bytes: usize) -> Self;
}

impl Sub for VirtAddr {
    fn sub(self, bytes: usize) -> Self {
        VirtAddr(self.0 - bytes)
    }
}

fn entry(space: &AddressSpace<TestRam>, va: VirtAddr) -> Option<(PhysAddr, Flags)> {
    space.table().entry(&ReadTables(space.frames()), va)
}

fn flags(space: &AddressSpace<TestRam>, va: VirtAddr) -> Flags {
    entry(space, va).expect("a mapped page").1
}

fn frame(space: &AddressSpace<TestRam>, va: VirtAddr) -> PhysAddr {
    entry(space, va).expect("a mapped page").0
}

fn read_u64(space: &mut AddressSpace<TestRam>, va: VirtAddr) -> u64 {
    let mut bytes = [0; 8];
    space.read(va, &mut bytes).unwrap();
    u64::from_le_bytes(bytes)
}

fn write_u64(space: &mut AddressSpace<TestRam>, va: VirtAddr, value: u64) {
    space.write(va, &value.to_le_bytes()).unwrap();
}

fn area_list(space: &AddressSpace<TestRam>) -> Vec<(usize, usize, Prot)> {
    space.areas().map(|area| (area.start.0, area.end.0, area.prot)).collect()
}

#[test]
fn mapping_a_gigabyte_allocates_nothing_and_a_touch_one_page() {
    let fixture = Fixture::new();
    let mut space = fixture.space();
    assert_eq!(fixture.used(), 1, "the root table");
    let start = space.map(VirtAddr(0), 1 << 30, RW, PRIVATE).unwrap();
    assert_eq!(fixture.used(), 1, "mapping is lazy");
    assert_eq!(space.resident_pages(), 0);
    let middle = start.add(512 << 20).add(123);
    assert_eq!(read_u64(&mut space, middle), 0, "demand-zero");
    assert_eq!(space.resident_pages(), 1);
    assert_eq!(fixture.used(), 1 + 2 + 1, "root, two tables, one page");
    write_u64(&mut space, middle, 0xfeed);
    assert_eq!(read_u64(&mut space, middle), 0xfeed);
    assert_eq!(fixture.used(), 4, "the same page again");
    drop(space);
    assert_eq!(fixture.used(), 0, "everything freed");
}

#[test]
fn faults_tell_unmapped_from_forbidden() {
    let fixture = Fixture::new();
    let mut space = fixture.space();
    let read_only = space.map(AT, PAGE_SIZE, Prot::READ, FIXED).unwrap();
    let data = space.map(AT.add(2 * PAGE_SIZE), PAGE_SIZE, RW, FIXED).unwrap();
    let code = space.map(AT.add(4 * PAGE_SIZE), PAGE_SIZE, Prot::READ | Prot::EXEC, FIXED).unwrap();
    let none = space.map(AT.add(6 * PAGE_SIZE), PAGE_SIZE, Prot::empty(), FIXED).unwrap();
    let exec_only = space.map(AT.add(8 * PAGE_SIZE), PAGE_SIZE, Prot::EXEC, FIXED).unwrap();

    assert_eq!(space.handle_fault(AT.add(PAGE_SIZE), Access::Read), Err(Fault::MapErr), "the hole");
    assert_eq!(space.handle_fault(VirtAddr(0), Access::Read), Err(Fault::MapErr));
    assert_eq!(space.handle_fault(USER_END, Access::Read), Err(Fault::MapErr));
    assert_eq!(space.handle_fault(KERNEL_VA, Access::Read), Err(Fault::MapErr));
    assert_eq!(space.handle_fault(read_only, Access::Write), Err(Fault::AccErr));
    assert_eq!(space.handle_fault(data, Access::Execute), Err(Fault::AccErr));
    assert_eq!(space.handle_fault(none, Access::Read), Err(Fault::AccErr));
    assert_eq!(space.handle_fault(exec_only, Access::Read), Err(Fault::AccErr));
    assert_eq!(space.resident_pages(), 0, "refused faults allocate nothing");

    assert_eq!(space.handle_fault(read_only.add(8), Access::Read), Ok(()));
    assert!(!flags(&space, read_only).intersects(Flags::W | Flags::X));
    assert_eq!(space.handle_fault(data, Access::Read), Ok(()));
    assert!(flags(&space, data).contains(Flags::V | Flags::R | Flags::W | Flags::U), "a fresh page is ours");
    assert_eq!(space.handle_fault(code, Access::Execute), Ok(()));
    assert!(flags(&space, code).contains(Flags::R | Flags::X | Flags::U));
    assert_eq!(space.handle_fault(exec_only, Access::Execute), Ok(()));
    assert_eq!(flags(&space, exec_only) & (Flags::R | Flags::W | Flags::X), Flags::X);
    assert_eq!(space.handle_fault(code, Access::Read), Ok(()), "spurious fault");
    assert_eq!(space.resident_pages(), 4);
}

#[test]
fn writable_and_executable_areas_switch_pages_between_w_and_x() {
    let fixture = Fixture::new();
    let mut space = fixture.space();
    let jit = space.map(AT, PAGE_SIZE, Prot::all(), FIXED).unwrap();
    space.handle_fault(jit, Access::Write).unwrap();
    assert!(flags(&space, jit).contains(Flags::W) && !flags(&space, jit).contains(Flags::X));
    write_u64(&mut space, jit, 0x13); // nop-ish
    space.take_tlb_flush();
    space.handle_fault(jit, Access::Execute).unwrap();
    assert!(flags(&space, jit).contains(Flags::X) && !flags(&space, jit).contains(Flags::W));
    assert!(space.take_tlb_flush(), "W was taken away");
    assert_eq!(read_u64(&mut space, jit), 0x13, "same frame");
    space.handle_fault(jit, Access::Write).unwrap();
    assert!(flags(&space, jit).contains(Flags::W));
}

#[test]
fn fork_shares_pages_copy_on_write() {
    let fixture = Fixture::new();
    let mut parent = fixture.space();
    parent.map(AT, 2 * PAGE_SIZE, RW, FIXED).unwrap();
    let (first, second) = (AT, AT.add(PAGE_SIZE));
    write_u64(&mut parent, first, 1);
    write_u64(&mut parent, second, 2);
    let shared = frame(&parent, first);
    let mut child = parent.fork().unwrap();
    assert!(parent.take_tlb_flush(), "the parent lost W");

    assert_eq!(frame(&child, first), shared);
    assert_eq!(parent.frames().count(shared), 2);
    for space in [&parent, &child] {
        assert!(!flags(space, first).contains(Flags::W), "read-only in both spaces");
        assert!(flags(space, first).contains(Flags::R | Flags::V));
    }
    assert_eq!(child.areas().count(), 1);

    // The child writes: it gets a copy; the parent keeps its data.
    write_u64(&mut child, first, 10);
    assert_ne!(frame(&child, first), shared);
    assert_eq!(read_u64(&mut parent, first), 1);
    assert_eq!(read_u64(&mut child, first), 10);
    assert_eq!(parent.frames().count(shared), 1);
    // The parent, now the last user, writes: no copy, the frame becomes writable again.
    let free = fixture.ram.free();
    write_u64(&mut parent, first, 11);
    assert_eq!(frame(&parent, first), shared, "reused, not copied");
    assert_eq!(fixture.ram.free(), free, "nothing allocated");
    assert!(flags(&parent, first).contains(Flags::W));
    assert_eq!(read_u64(&mut child, first), 10);

    // And the other way round on the second page.
    write_u64(&mut parent, second, 20);
    assert_eq!(read_u64(&mut child, second), 2);
    assert_eq!(read_u64(&mut parent, second), 20);

    drop(parent);
    assert_eq!(read_u64(&mut child, second), 2);
    drop(child);
    assert_eq!(fixture.used(), 0, "no frame leaked after fork and copy-on-write");
}

#[test]
fn fork_of_a_fork_and_drops_in_any_order_leak_nothing() {
    let fixture = Fixture::new();
    let mut first = fixture.space();
    first.map(AT, 4 * PAGE_SIZE, RW, FIXED).unwrap();
    first.map(AT.add(8 * PAGE_SIZE), PAGE_SIZE, Prot::READ, FIXED).unwrap();
    first.populate(AT, 4 * PAGE_SIZE).unwrap();
    first.populate(AT.add(8 * PAGE_SIZE), PAGE_SIZE).unwrap();
    let mut second = first.fork().unwrap();
    let mut third = second.fork().unwrap();
    assert_eq!(first.frames().count(frame(&first, AT)), 3);
    write_u64(&mut second, AT, 2);
    write_u64(&mut third, AT.add(PAGE_SIZE), 3);
    drop(second);
    write_u64(&mut first, AT, 1);
    assert_eq!(read_u64(&mut third, AT), 0);
    assert_eq!(third.resident_pages(), 5);
    drop(first);
    drop(third);
    assert_eq!(fixture.used(), 0);
}

#[test]
fn shared_mappings_stay_shared_across_fork() {
    let fixture = Fixture::new();
    let mut parent = fixture.space();
    let shared = parent.map(VirtAddr(0), 2 * PAGE_SIZE, RW, SHARED).unwrap();
    write_u64(&mut parent, shared, 7);
    let mut child = parent.fork().unwrap();
    // The page the parent never touched was allocated at fork, so both see one frame.
    write_u64(&mut child, shared.add(PAGE_SIZE), 8);
    assert_eq!(read_u64(&mut parent, shared.add(PAGE_SIZE)), 8);
    write_u64(&mut child, shared, 9);
    assert_eq!(read_u64(&mut parent, shared), 9, "no copy-on-write for shared memory");
    assert!(flags(&parent, shared).contains(Flags::W));
    drop(child);
    drop(parent);
    assert_eq!(fixture.used(), 0);
}

#[test]
fn munmap_splits_areas_and_frees_frames() {
    let fixture = Fixture::new();
    let mut space = fixture.space();
    space.map(AT, 4 * PAGE_SIZE, RW, FIXED).unwrap();
    space.populate(AT, 4 * PAGE_SIZE).unwrap();
    assert_eq!(space.resident_pages(), 4);
    let used = fixture.used();
    space.unmap(AT.add(PAGE_SIZE), 2 * PAGE_SIZE - 100).unwrap();
    assert_eq!(area_list(&space), vec![(AT.0, AT.0 + PAGE_SIZE, RW), (AT.0 + 3 * PAGE_SIZE, AT.0 + 4 * PAGE_SIZE, RW)]);
    assert_eq!(space.resident_pages(), 2);
    assert_eq!(fixture.used(), used - 2, "two frames freed");
    assert!(space.take_tlb_flush());
    assert_eq!(space.handle_fault(AT.add(PAGE_SIZE), Access::Read), Err(Fault::MapErr));
    // Holes are fine; unaligned starts and zero lengths are not.
    space.unmap(VirtAddr(0), 1 << 30).unwrap();
    assert_eq!(space.areas().count(), 0);
    assert_eq!(space.unmap(AT.add(1), PAGE_SIZE), Err(Errno::EINVAL));
    assert_eq!(space.unmap(AT, 0), Err(Errno::EINVAL));
    assert_eq!(space.unmap(USER_END.sub(PAGE_SIZE), 2 * PAGE_SIZE), Err(Errno::EINVAL));
    assert_eq!(space.resident_pages(), 0);
}

#[test]
fn mprotect_splits_merges_and_refuses_holes() {
    let fixture = Fixture::new();
    let mut space = fixture.space();
    space.map(AT, 4 * PAGE_SIZE, RW, FIXED).unwrap();
    write_u64(&mut space, AT.add(PAGE_SIZE), 5);
    space.protect(AT.add(PAGE_SIZE), 2 * PAGE_SIZE, Prot::READ).unwrap();
    assert_eq!(
        area_list(&space),
        vec![
            (AT.0, AT.0 + PAGE_SIZE, RW),
            (AT.0 + PAGE_SIZE, AT.0 + 3 * PAGE_SIZE, Prot::READ),
            (AT.0 + 3 * PAGE_SIZE, AT.0 + 4 * PAGE_SIZE, RW),
        ]
    );
    assert!(!flags(&space, AT.add(PAGE_SIZE)).contains(Flags::W), "the present page lost W");
    assert!(space.take_tlb_flush());
    assert_eq!(space.handle_fault(AT.add(PAGE_SIZE), Access::Write), Err(Fault::AccErr));
    assert_eq!(space.write(AT.add(PAGE_SIZE), &[1]), Err(Errno::EFAULT));
    assert_eq!(read_u64(&mut space, AT.add(PAGE_SIZE)), 5);

    // A hole anywhere in the range: ENOMEM, and nothing changes.
    space.unmap(AT.add(3 * PAGE_SIZE), PAGE_SIZE).unwrap();
    let before = area_list(&space);
    assert_eq!(space.protect(AT, 4 * PAGE_SIZE, Prot::empty()), Err(Errno::ENOMEM));
    assert_eq!(space.protect(AT.sub(PAGE_SIZE), 2 * PAGE_SIZE, RW), Err(Errno::ENOMEM));
    assert_eq!(area_list(&space), before);
    assert_eq!(space.protect(AT.add(1), PAGE_SIZE, RW), Err(Errno::EINVAL));
    assert_eq!(space.protect(AT, 0, RW), Ok(()));

    // Back to RW: one area again, and the page is writable without a fault.
    space.protect(AT, 3 * PAGE_SIZE, RW).unwrap();
    assert_eq!(area_list(&space), vec![(AT.0, AT.0 + 3 * PAGE_SIZE, RW)]);
    assert!(flags(&space, AT.add(PAGE_SIZE)).contains(Flags::W));
}

#[test]
fn prot_none_keeps_the_data() {
    let fixture = Fixture::new();
    let mut space = fixture.space();
    space.map(AT, PAGE_SIZE, RW, FIXED).unwrap();
    write_u64(&mut space, AT, 42);
    space.protect(AT, PAGE_SIZE, Prot::empty()).unwrap();
    assert!(!flags(&space, AT).contains(Flags::V), "inaccessible to the hardware");
    assert_eq!(space.table().translate(&ReadTables(space.frames()), AT), None);
    assert_eq!(space.read(AT, &mut [0; 8]), Err(Errno::EFAULT));
    assert_eq!(space.resident_pages(), 1, "the frame is kept");
    let mut child = space.fork().unwrap();
    space.protect(AT, PAGE_SIZE, Prot::READ).unwrap();
    assert_eq!(read_u64(&mut space, AT), 42);
    child.protect(AT, PAGE_SIZE, RW).unwrap();
    assert!(!flags(&child, AT).contains(Flags::W), "still shared with the parent");
    write_u64(&mut child, AT, 43);
    assert_eq!(read_u64(&mut space, AT), 42);
    drop((space, child));
    assert_eq!(fixture.used(), 0);
}

#[test]
fn mprotect_keeps_shared_cow_pages_read_only() {
    let fixture = Fixture::new();
    let mut parent = fixture.space();
    parent.map(AT, PAGE_SIZE, RW, FIXED).unwrap();
    write_u64(&mut parent, AT, 1);
    let mut child = parent.fork().unwrap();
    parent.protect(AT, PAGE_SIZE, Prot::READ).unwrap();
    parent.protect(AT, PAGE_SIZE, RW).unwrap();
    assert!(!flags(&parent, AT).contains(Flags::W), "still shared");
    write_u64(&mut parent, AT, 2);
    assert_eq!(read_u64(&mut child, AT), 1);
    // Now the child is the last user: mprotect may make it writable straight away.
    child.protect(AT, PAGE_SIZE, Prot::READ).unwrap();
    child.protect(AT, PAGE_SIZE, RW).unwrap();
    assert!(flags(&child, AT).contains(Flags::W));
}

#[test]
fn map_fixed_replaces_and_fixed_noreplace_refuses() {
    let fixture = Fixture::new();
    let mut space = fixture.space();
    space.map(AT, 4 * PAGE_SIZE, RW, FIXED).unwrap();
    for page in 0..4 {
        write_u64(&mut space, AT.add(page * PAGE_SIZE), page as u64 + 1);
    }
    let used = fixture.used();
    let middle = space.map(AT.add(PAGE_SIZE), 2 * PAGE_SIZE, Prot::READ, FIXED).unwrap();
    assert_eq!(middle, AT.add(PAGE_SIZE));
    assert_eq!(space.areas().count(), 3);
    assert_eq!(fixture.used(), used - 2, "the replaced pages were freed");
    assert_eq!(read_u64(&mut space, middle), 0, "fresh memory");
    assert_eq!(read_u64(&mut space, AT), 1);
    assert_eq!(read_u64(&mut space, AT.add(3 * PAGE_SIZE)), 4);

    assert_eq!(space.map(AT.add(3 * PAGE_SIZE), 2 * PAGE_SIZE, RW, NOREPLACE), Err(Errno::EEXIST));
    assert_eq!(space.map(AT.add(4 * PAGE_SIZE), PAGE_SIZE, RW, NOREPLACE), Ok(AT.add(4 * PAGE_SIZE)));
    assert_eq!(space.areas().count(), 3, "merged with its RW neighbour");
    assert_eq!(space.map(AT.add(100), PAGE_SIZE, RW, FIXED), Err(Errno::EINVAL));
    assert_eq!(space.map(USER_END.sub(PAGE_SIZE), 2 * PAGE_SIZE, RW, FIXED), Err(Errno::ENOMEM));
    assert_eq!(space.map(AT, 0, RW, FIXED), Err(Errno::EINVAL));
    assert_eq!(space.map(AT, PAGE_SIZE, RW, MapFlags::ANONYMOUS), Err(Errno::EINVAL), "neither shared nor private");
}

#[test]
fn placement_is_top_down_below_the_mmap_base_and_honours_free_hints() {
    let fixture = Fixture::new();
    let mut space = fixture.space();
    let first = space.map(VirtAddr(0), 3 * PAGE_SIZE, RW, PRIVATE).unwrap();
    assert_eq!(first, MMAP_BASE.sub(3 * PAGE_SIZE));
    let second = space.map(VirtAddr(0), PAGE_SIZE, Prot::READ, PRIVATE).unwrap();
    assert_eq!(second.add(PAGE_SIZE), first, "right below the first");
    // A free hint is used (rounded up to a page); a taken one is not.
    let hinted = space.map(VirtAddr(0x5000_0123), PAGE_SIZE, RW, PRIVATE).unwrap();
    assert_eq!(hinted, VirtAddr(0x5000_1000));
    let refused = space.map(first, PAGE_SIZE, Prot::READ, PRIVATE).unwrap();
    assert_eq!(refused.add(PAGE_SIZE), second);
    // A hole below the base is found again after an unmap.
    space.unmap(first, PAGE_SIZE).unwrap();
    assert_eq!(space.map(VirtAddr(0), PAGE_SIZE, RW, PRIVATE), Ok(first));
    // Too big for the gaps below the base: placed above it.
    space.map(MMAP_MIN_ADDR, MMAP_BASE.0 - MMAP_MIN_ADDR.0, RW, FIXED).unwrap();
    let above = space.map(VirtAddr(0), PAGE_SIZE, RW, PRIVATE).unwrap();
    assert_eq!(above, MMAP_BASE);
    assert_eq!(space.map(VirtAddr(0), USER_END.0, RW, PRIVATE), Err(Errno::ENOMEM));
    assert_eq!(space.map(VirtAddr(0), usize::MAX, RW, PRIVATE), Err(Errno::ENOMEM));
    assert_eq!(space.resident_pages(), 0);
    drop(space);
    assert_eq!(fixture.used(), 0);
}

#[test]
fn adjacent_anonymous_maps_merge_but_image_segments_do_not() {
    let fixture = Fixture::new();
    let mut space = fixture.space();
    space.map(AT, PAGE_SIZE, RW, FIXED).unwrap();
    space.map(AT.add(PAGE_SIZE), PAGE_SIZE, RW, FIXED).unwrap();
    assert_eq!(area_list(&space), vec![(AT.0, AT.0 + 2 * PAGE_SIZE, RW)]);
    let image = VirtAddr(0x1_0000);
    space.map_bytes(image, &[1], PAGE_SIZE, Prot::READ, AreaKind::Image).unwrap();
    space.map_bytes(image.add(PAGE_SIZE), &[2], PAGE_SIZE, Prot::READ, AreaKind::Image).unwrap();
    assert_eq!(space.areas().filter(|area| area.kind == AreaKind::Image).count(), 2);
}

#[test]
fn brk_follows_linux_rules() {
    let fixture = Fixture::new();
    let mut space = fixture.space();
    space.set_brk_start(VirtAddr(0x2_0123));
    let start = VirtAddr(0x2_1000);
    assert_eq!(space.brk(VirtAddr(0)), start, "a query");
    assert_eq!(space.brk_range(), (start, start));
    assert_eq!(space.brk(start.add(3 * PAGE_SIZE + 5)), start.add(3 * PAGE_SIZE + 5));
    let heap: Vec<_> = space.areas().map(|area| (area.start, area.end, area.kind)).collect();
    assert_eq!(heap, vec![(start, start.add(4 * PAGE_SIZE), AreaKind::Heap)]);
    assert_eq!(space.resident_pages(), 0, "grown lazily");
    assert_eq!(space.areas().next().unwrap().kind.label(), "[heap]");
    write_u64(&mut space, start.add(3 * PAGE_SIZE), 9);
    assert_eq!(space.brk(start.sub(1)), start.add(3 * PAGE_SIZE + 5), "below the start: unchanged");
    assert_eq!(space.brk(USER_END.add(1)), start.add(3 * PAGE_SIZE + 5));
    // Shrinking frees the pages given up.
    assert_eq!(space.brk(start.add(PAGE_SIZE)), start.add(PAGE_SIZE));
    assert_eq!(space.resident_pages(), 0);
    assert_eq!(area_list(&space), vec![(start.0, start.0 + PAGE_SIZE, RW)]);
    // Growing into another mapping fails; up to it works; growing again merges.
    space.map(start.add(8 * PAGE_SIZE), PAGE_SIZE, RW, FIXED).unwrap();
    assert_eq!(space.brk(start.add(8 * PAGE_SIZE + 1)), start.add(PAGE_SIZE));
    assert_eq!(space.brk(start.add(8 * PAGE_SIZE)), start.add(8 * PAGE_SIZE));
    assert_eq!(space.areas().filter(|area| area.kind == AreaKind::Heap).count(), 1);
    assert_eq!(read_u64(&mut space, start.add(3 * PAGE_SIZE)), 0, "given back and fresh again");
    assert_eq!(space.brk(start), start);
    assert_eq!(space.areas().filter(|area| area.kind == AreaKind::Heap).count(), 0);
    drop(space);
    assert_eq!(fixture.used(), 0);
}

#[test]
fn user_access_faults_at_the_boundary() {
    let fixture = Fixture::new();
    let mut space = fixture.space();
    space.map(AT, PAGE_SIZE, RW, FIXED).unwrap();
    let edge = AT.add(PAGE_SIZE - 4);
    assert_eq!(space.write(edge, &[1; 8]), Err(Errno::EFAULT), "crosses into an unmapped page");
    assert_eq!(space.read(edge, &mut [0; 8]), Err(Errno::EFAULT));
    let mut four = [0; 4];
    space.read(edge, &mut four).unwrap();
    assert_eq!(four, [1; 4], "the mapped part was written before the fault");
    space.write(edge, &[2; 4]).unwrap();
    assert_eq!(space.read(VirtAddr(0), &mut [0; 1]), Err(Errno::EFAULT));
    assert_eq!(space.read(VirtAddr(usize::MAX - 2), &mut [0; 8]), Err(Errno::EFAULT), "wraps around");
    assert_eq!(space.read(KERNEL_VA, &mut [0; 8]), Err(Errno::EFAULT), "kernel memory");
    assert_eq!(space.read(AT, &mut []), Ok(()));
    space.zero(AT, PAGE_SIZE).unwrap();
    assert_eq!(read_u64(&mut space, edge.sub(4)), 0);
    assert_eq!(space.zero(AT, PAGE_SIZE + 1), Err(Errno::EFAULT));

    // Read-only: readable, not writable; a big read crosses several pages.
    space.map(AT.add(PAGE_SIZE), 2 * PAGE_SIZE, Prot::READ, FIXED).unwrap();
    let mut big = vec![1u8; 2 * PAGE_SIZE + 4];
    space.read(AT.add(PAGE_SIZE - 4), &mut big).unwrap();
    assert!(big.iter().all(|&byte| byte == 0));
    assert_eq!(space.write(AT.add(PAGE_SIZE), &[1]), Err(Errno::EFAULT));
}

#[test]
fn kernel_writes_break_copy_on_write() {
    let fixture = Fixture::new();
    let mut parent = fixture.space();
    parent.map(AT, PAGE_SIZE, RW, FIXED).unwrap();
    write_u64(&mut parent, AT, 1);
    let mut child = parent.fork().unwrap();
    child.write(AT.add(4), &[0xff]).unwrap();
    assert_eq!(read_u64(&mut parent, AT), 1);
    assert_eq!(read_u64(&mut child, AT), 1 | 0xff << 32);
}

#[test]
fn read_cstring_crosses_pages_and_stops_at_the_nul() {
    let fixture = Fixture::new();
    let mut space = fixture.space();
    space.map(AT, 2 * PAGE_SIZE, RW, FIXED).unwrap();
    let string = AT.add(PAGE_SIZE - 3);
    space.write(string, b"hello\0").unwrap();
    assert_eq!(space.read_cstring(string, 4096).unwrap(), b"hello");
    assert_eq!(space.read_cstring(string, 5).unwrap(), b"hello", "no NUL within 5: too long");
    assert_eq!(space.read_cstring(string, 6).unwrap(), b"hello");
    assert_eq!(space.read_cstring(string.add(5), 10).unwrap(), b"");
    // A NUL at the very end of the mapping: the next (unmapped) page is not touched.
    let last = AT.add(2 * PAGE_SIZE - 3);
    space.write(last, b"ab\0").unwrap();
    assert_eq!(space.read_cstring(last, 4096).unwrap(), b"ab");
    // No NUL before the end of the mapping: EFAULT.
    space.write(last, b"abc").unwrap();
    assert_eq!(space.read_cstring(last, 4096), Err(Errno::EFAULT));
    assert_eq!(space.read_cstring(VirtAddr(8), 4096), Err(Errno::EFAULT));
}

#[test]
fn map_bytes_loads_a_segment_with_its_bss() {
    let fixture = Fixture::new();
    let mut space = fixture.space();
    let data: Vec<u8> = (0..5000u32).map(|i| (i % 251) as u8 + 1).collect();
    let va = VirtAddr(0x10_0123);
    space.map_bytes(va, &data, 10_000, Prot::READ | Prot::EXEC, AreaKind::Image).unwrap();
    assert_eq!(area_list(&space), vec![(0x10_0000, 0x10_3000, Prot::READ | Prot::EXEC)]);
    assert_eq!(space.resident_pages(), 2, "only the pages holding data");
    let mut back = vec![0; 10_000 + 0x123];
    space.read(VirtAddr(0x10_0000), &mut back).unwrap();
    assert!(back[..0x123].iter().all(|&byte| byte == 0));
    assert_eq!(&back[0x123..0x123 + 5000], &data[..]);
    assert!(back[0x123 + 5000..].iter().all(|&byte| byte == 0), "bss");
    assert_eq!(space.write(va, &[0]), Err(Errno::EFAULT), "read-only for user code");
    assert_eq!(space.handle_fault(va, Access::Execute), Ok(()));
    assert_eq!(space.map_bytes(va, &data, 10, Prot::READ, AreaKind::Image), Err(Errno::EINVAL));
    assert_eq!(space.map_bytes(USER_END.sub(8), &[1], 16, Prot::READ, AreaKind::Image), Err(Errno::ENOMEM));
    // The initial stack: an area at the top, filled from its end.
    let top = STACK_TOP;
    space.map_area(top.sub(8 * PAGE_SIZE), 8 * PAGE_SIZE, RW, FIXED, AreaKind::Stack).unwrap();
    space.write(top.sub(16), b"argv and envp\0\0\0").unwrap();
    assert_eq!(space.read_cstring(top.sub(16), 100).unwrap(), b"argv and envp");
    assert_eq!(space.areas().last().unwrap().kind.label(), "[stack]");
}

#[test]
fn clear_drops_everything_but_the_root() {
    let fixture = Fixture::new();
    let mut space = fixture.space();
    space.set_brk_start(VirtAddr(0x4_0000));
    space.brk(VirtAddr(0x5_0000));
    space.map(VirtAddr(0), 1 << 20, RW, PRIVATE).unwrap();
    space.populate(VirtAddr(0x4_0000), PAGE_SIZE).unwrap();
    write_u64(&mut space, VirtAddr(0x4_0000), 1);
    space.clear();
    assert_eq!(space.areas().count(), 0);
    assert_eq!(space.brk_range(), (VirtAddr(0), VirtAddr(0)));
    assert_eq!(fixture.used(), 1, "the root alone");
    // Still usable, and the kernel half is still there.
    space.map(AT, PAGE_SIZE, RW, FIXED).unwrap();
    write_u64(&mut space, AT, 3);
    let kernel = space.table().translate(&ReadTables(space.frames()), KERNEL_VA);
    assert_eq!(kernel.map(|(pa, _, _)| pa), Some(PhysAddr(0x8020_0000)));
}

#[test]
fn user_tables_share_the_kernel_half_and_leave_it_alone() {
    let fixture = Fixture::new();
    let mut space = fixture.space();
    let satp = space.satp();
    assert_eq!(satp >> 60, 8, "Sv39");
    assert_eq!((satp & ((1 << 44) - 1)) * PAGE_SIZE, space.table().root().0);
    let lookup = space.table().translate(&ReadTables(space.frames()), KERNEL_VA.add(0x10));
    assert_eq!(lookup.map(|(pa, _, _)| pa), Some(PhysAddr(0x8020_0010)));
    let page = space.map(VirtAddr(0), PAGE_SIZE, RW, PRIVATE).unwrap();
    write_u64(&mut space, page, 1);
    let user_leaf = flags(&space, space.areas().next().unwrap().start);
    assert!(user_leaf.contains(Flags::U) && !user_leaf.contains(Flags::G));
    drop(space);
    assert_eq!(fixture.used(), 0, "only user tables were freed...");
    let mut pool = fixture.ram.frames();
    let lookup = fixture.kernel.translate(&TableFrames(&mut pool), KERNEL_VA);
    assert!(lookup.is_some(), "...the kernel's are intact");
}

#[test]
fn out_of_memory_is_an_error_not_a_panic_and_leaks_nothing() {
    let fixture = Fixture::with_frames(16);
    let mut space = fixture.space();
    space.map(AT, 64 * PAGE_SIZE, RW, FIXED).unwrap();
    let mut touched = 0;
    let result = loop {
        match space.handle_fault(AT.add(touched * PAGE_SIZE), Access::Write) {
            Ok(()) => touched += 1,
            Err(fault) => break fault,
        }
    };
    assert_eq!(result, Fault::OutOfMemory);
    assert!(touched > 0);
    assert_eq!(fixture.ram.free(), 0);
    assert_eq!(space.write(AT.add(touched * PAGE_SIZE), &[1]), Err(Errno::EFAULT));
    assert_eq!(space.populate(AT, 64 * PAGE_SIZE), Err(Errno::ENOMEM));
    assert!(space.fork().is_err(), "no frame for the child's root");
    drop(space);
    assert_eq!(fixture.used(), 0);
}

#[test]
fn fork_running_out_of_memory_gives_everything_back() {
    let fixture = Fixture::with_frames(24);
    let mut parent = fixture.space();
    // Pages spread over two gigabytes need tables in the child: fork runs out half way.
    parent.map(VirtAddr(0), 8 * PAGE_SIZE, RW, FIXED).unwrap();
    parent.map(VirtAddr(1 << 30), 8 * PAGE_SIZE, RW, FIXED).unwrap();
    parent.populate(VirtAddr(0), 8 * PAGE_SIZE).unwrap();
    parent.populate(VirtAddr(1 << 30), 8 * PAGE_SIZE).unwrap();
    let used = fixture.used();
    assert!(fixture.ram.free() < 5, "{} frames free", fixture.ram.free());
    assert_eq!(parent.fork().err(), Some(Errno::ENOMEM));
    assert_eq!(fixture.used(), used, "the half-built child gave back its frames");
    write_u64(&mut parent, VirtAddr(0), 1); // the parent's pages are its own again
    drop(parent);
    assert_eq!(fixture.used(), 0);
}

#[test]
fn map_populate_faults_pages_in() {
    let fixture = Fixture::new();
    let mut space = fixture.space();
    let flags = PRIVATE | MapFlags::POPULATE;
    let start = space.map(VirtAddr(0), 3 * PAGE_SIZE, RW, flags).unwrap();
    assert_eq!(space.resident_pages(), 3);
    assert!(self::flags(&space, start).contains(Flags::W));
}

#[test]
fn fill_writes_through_read_only_protection_but_needs_an_area() {
    let fixture = Fixture::new();
    let mut space = fixture.space();
    space
        .map_area(VirtAddr(0x10000), 2 * PAGE_SIZE, Prot::READ | Prot::EXEC, MapFlags::PRIVATE | MapFlags::FIXED, AreaKind::Image)
        .unwrap();
    space.fill(VirtAddr(0x10ffe), b"abcd").unwrap();
    let mut back = [0u8; 4];
    space.read(VirtAddr(0x10ffe), &mut back).unwrap();
    assert_eq!(&back, b"abcd", "written across the page boundary");
    assert_eq!(space.write(VirtAddr(0x10000), b"x"), Err(Errno::EFAULT), "user writes still obey the protection");
    assert_eq!(space.fill(VirtAddr(0x30000), b"x"), Err(Errno::EFAULT), "no area, no fill");
}

/// A file for the file-mapping tests: its pages are frames of the test RAM (one
/// reference each held by the file); `pending` makes the provider say "not yet".
struct TestFile {
    pages: Vec<PhysAddr>,
    pending: core::sync::atomic::AtomicBool,
}

fn test_file_pages(
    file: &(dyn core::any::Any + Send + Sync),
    index: u64,
    frames: &mut TestRam,
) -> core::task::Poll<Result<PhysAddr, Fault>> {
    let file = file.downcast_ref::<TestFile>().expect("a TestFile");
    if file.pending.load(core::sync::atomic::Ordering::Relaxed) {
        return core::task::Poll::Pending;
    }
    let Some(&pa) = file.pages.get(index as usize) else { return core::task::Poll::Ready(Err(Fault::Bus)) };
    frames.share(pa);
    core::task::Poll::Ready(Ok(pa))
}

fn test_file(fixture: &Fixture, pages: usize) -> alloc::sync::Arc<TestFile> {
    let mut ram = fixture.ram.frames();
    let pages = (0..pages)
        .map(|index| {
            let pa = ram.alloc_zeroed().unwrap();
            // SAFETY: the frame was just allocated; `ptr` reaches its 4 KiB.
            unsafe { ram.ptr(pa).cast::<u64>().write(100 + index as u64) };
            pa
        })
        .collect();
    alloc::sync::Arc::new(TestFile { pages, pending: core::sync::atomic::AtomicBool::new(false) })
}

fn backing(file: &alloc::sync::Arc<TestFile>, offset: u64) -> FileBacking {
    FileBacking { file: file.clone(), offset }
}

fn file_space(fixture: &Fixture) -> AddressSpace<TestRam> {
    let mut space = fixture.space();
    space.set_file_pages(test_file_pages);
    space
}

fn release_file(fixture: &Fixture, file: alloc::sync::Arc<TestFile>) {
    let mut ram = fixture.ram.frames();
    for &pa in &file.pages {
        ram.release(pa);
    }
}

#[test]
fn shared_file_mappings_map_the_files_own_frames() {
    let fixture = Fixture::new();
    let file = test_file(&fixture, 3);
    let mut first = file_space(&fixture);
    let mut second = file_space(&fixture);
    let a = first.map_file(VirtAddr(0), 3 * PAGE_SIZE, RW, MapFlags::SHARED, AreaKind::Anonymous, backing(&file, 0)).unwrap();
    let b = second
        .map_file(VirtAddr(0), 2 * PAGE_SIZE, RW, MapFlags::SHARED, AreaKind::Anonymous, backing(&file, PAGE_SIZE as u64))
        .unwrap();
    assert_eq!(read_u64(&mut first, a.add(PAGE_SIZE)), 101);
    assert_eq!(read_u64(&mut second, b), 101, "offset one page");
    assert_eq!(frame(&first, a.add(PAGE_SIZE)), file.pages[1]);
    assert_eq!(frame(&second, b), file.pages[1], "one frame for the file and both mappings");
    write_u64(&mut first, a.add(PAGE_SIZE), 7);
    assert_eq!(read_u64(&mut second, b), 7);
    assert!(flags(&first, a.add(PAGE_SIZE)).contains(Flags::W));
    assert_eq!(first.frames().count(file.pages[1]), 3);
    // Past the file: a bus error, for faults and for kernel access alike.
    second.unmap(b, 2 * PAGE_SIZE).unwrap();
    let beyond = second
        .map_file(VirtAddr(0), 2 * PAGE_SIZE, Prot::READ, MapFlags::SHARED, AreaKind::Anonymous, backing(&file, 2 * PAGE_SIZE as u64))
        .unwrap();
    assert_eq!(second.handle_fault(beyond.add(PAGE_SIZE), Access::Read), Err(Fault::Bus));
    assert_eq!(second.read(beyond.add(PAGE_SIZE), &mut [0; 8]), Err(Errno::EFAULT));
    assert_eq!(read_u64(&mut second, beyond), 102);
    // fork: the child's shared mapping is the same frame.
    let mut child = first.fork().unwrap();
    write_u64(&mut child, a.add(2 * PAGE_SIZE), 9);
    assert_eq!(read_u64(&mut second, beyond), 9);
    drop((first, second, child));
    assert_eq!(fixture.ram.frames().count(file.pages[1]), 1, "only the file's reference is left");
    release_file(&fixture, file);
    assert_eq!(fixture.used(), 0);
}

#[test]
fn truncation_unmaps_file_pages_past_the_end_in_every_file_area() {
    let fixture = Fixture::new();
    let file = test_file(&fixture, 4);
    let other = test_file(&fixture, 4);
    let mut space = file_space(&fixture);
    let shared = space.map_file(VirtAddr(0), 4 * PAGE_SIZE, RW, MapFlags::SHARED, AreaKind::Anonymous, backing(&file, 0)).unwrap();
    // A private mapping from page 1, with page 3 (file page 3) copied on write.
    let private = space.map_file(VirtAddr(0), 3 * PAGE_SIZE, RW, PRIVATE, AreaKind::Anonymous, backing(&file, PAGE_SIZE as u64)).unwrap();
    let unrelated = space.map_file(VirtAddr(0), 4 * PAGE_SIZE, RW, MapFlags::SHARED, AreaKind::Anonymous, backing(&other, 0)).unwrap();
    for page in 0..4 {
        read_u64(&mut space, shared.add(page * PAGE_SIZE));
        read_u64(&mut space, unrelated.add(page * PAGE_SIZE));
    }
    read_u64(&mut space, private);
    write_u64(&mut space, private.add(2 * PAGE_SIZE), 33);
    let used = fixture.used();
    space.take_tlb_flush();
    let is_file = |handle: &(dyn core::any::Any + Send + Sync)| {
        handle.downcast_ref::<TestFile>().is_some_and(|handle| core::ptr::eq(handle, &*file))
    };
    // The file shrank to two pages and a bit: pages 3.. go (page 2 stays, partly valid).
    assert!(space.unmap_file_pages_from(is_file, 3));
    assert!(space.take_tlb_flush());
    assert!(entry(&space, shared.add(2 * PAGE_SIZE)).is_some());
    assert!(entry(&space, shared.add(3 * PAGE_SIZE)).is_none());
    assert!(entry(&space, private).is_some(), "file page 1");
    assert!(entry(&space, private.add(2 * PAGE_SIZE)).is_none(), "the copy of file page 3 goes too");
    assert!(entry(&space, unrelated.add(3 * PAGE_SIZE)).is_some(), "other files keep their pages");
    assert_eq!(fixture.used(), used - 1, "the private copy is freed; the file keeps its frames");
    assert_eq!(fixture.ram.frames().count(file.pages[3]), 1);
    // The areas stay; the next touch asks the file again.
    assert_eq!(read_u64(&mut space, shared.add(3 * PAGE_SIZE)), 103);
    assert!(!space.unmap_file_pages_from(is_file, 4), "nothing mapped there");
    drop(space);
    release_file(&fixture, file);
    release_file(&fixture, other);
    assert_eq!(fixture.used(), 0);
}

#[test]
fn private_file_mappings_share_until_written() {
    let fixture = Fixture::new();
    let file = test_file(&fixture, 2);
    let mut space = file_space(&fixture);
    let at = space.map_file(VirtAddr(0), 2 * PAGE_SIZE, RW, PRIVATE, AreaKind::Image, backing(&file, 0)).unwrap();
    assert_eq!(read_u64(&mut space, at), 100);
    assert_eq!(frame(&space, at), file.pages[0], "read maps the file's page");
    assert!(!flags(&space, at).contains(Flags::W), "read-only until written");
    // A write to the mapped page copies it; the file keeps its data.
    write_u64(&mut space, at, 5);
    assert_ne!(frame(&space, at), file.pages[0]);
    assert_eq!(read_u64(&mut space, at), 5);
    // SAFETY: the file's frame is in use (the file holds it).
    assert_eq!(unsafe { fixture.ram.frames().ptr(file.pages[0]).cast::<u64>().read() }, 100);
    // A write fault on a missing page copies at once.
    space.handle_fault(at.add(PAGE_SIZE), Access::Write).unwrap();
    assert_ne!(frame(&space, at.add(PAGE_SIZE)), file.pages[1]);
    assert_eq!(read_u64(&mut space, at.add(PAGE_SIZE)), 101);
    assert_eq!(fixture.ram.frames().count(file.pages[1]), 1);
    // fork after a read: three users of the file page, a write in the child copies.
    space.unmap(at, 2 * PAGE_SIZE).unwrap();
    let at = space.map_file(at, PAGE_SIZE, RW, FIXED, AreaKind::Anonymous, backing(&file, 0)).unwrap();
    assert_eq!(read_u64(&mut space, at), 100);
    let mut child = space.fork().unwrap();
    write_u64(&mut child, at, 1);
    assert_eq!(read_u64(&mut space, at), 100);
    assert_eq!(frame(&space, at), file.pages[0]);
    drop((space, child));
    release_file(&fixture, file);
    assert_eq!(fixture.used(), 0);
}

#[test]
fn a_file_page_that_is_not_ready_is_awaited_and_installed() {
    let fixture = Fixture::new();
    let file = test_file(&fixture, 2);
    let mut space = file_space(&fixture);
    let at = space.map_file(VirtAddr(0), 2 * PAGE_SIZE, Prot::READ, MapFlags::SHARED, AreaKind::Anonymous, backing(&file, 0)).unwrap();
    file.pending.store(true, core::sync::atomic::Ordering::Relaxed);
    assert_eq!(space.handle_fault(at.add(PAGE_SIZE + 8), Access::Read), Err(Fault::Wait));
    let (handle, index) = space.file_page_request(at.add(PAGE_SIZE + 8)).unwrap();
    assert_eq!(index, 1);
    // The "I/O" completes: the kernel got a counted reference and installs it.
    let mut ram = fixture.ram.frames();
    ram.share(file.pages[1]);
    space.install_file_page(at.add(PAGE_SIZE + 8), Access::Read, &*handle, index, file.pages[1]).unwrap();
    assert_eq!(frame(&space, at.add(PAGE_SIZE)), file.pages[1]);
    // A stale completion (the page is there already) only drops its reference.
    ram.share(file.pages[1]);
    space.install_file_page(at.add(PAGE_SIZE), Access::Read, &*handle, index, file.pages[1]).unwrap();
    assert_eq!(ram.count(file.pages[1]), 2);
    // So does one for an area that was unmapped meanwhile.
    space.unmap(at, 2 * PAGE_SIZE).unwrap();
    ram.share(file.pages[0]);
    space.install_file_page(at, Access::Read, &*handle, 0, file.pages[0]).unwrap();
    assert_eq!(ram.count(file.pages[0]), 1);
    drop((space, handle));
    release_file(&fixture, file);
    assert_eq!(fixture.used(), 0);
}

#[test]
fn file_areas_split_with_their_offsets_and_merge_back() {
    let fixture = Fixture::new();
    let file = test_file(&fixture, 4);
    let mut space = file_space(&fixture);
    let at = space.map_file(AT, 4 * PAGE_SIZE, RW, FIXED, AreaKind::Anonymous, backing(&file, 0)).unwrap();
    space.protect(at.add(PAGE_SIZE), PAGE_SIZE, Prot::READ).unwrap();
    let offsets: Vec<u64> = space.areas().map(|area| area.file.as_ref().unwrap().offset).collect();
    assert_eq!(offsets, vec![0, PAGE_SIZE as u64, 2 * PAGE_SIZE as u64]);
    assert_eq!(read_u64(&mut space, at.add(2 * PAGE_SIZE)), 102, "the split-off area maps the right page");
    space.protect(at.add(PAGE_SIZE), PAGE_SIZE, RW).unwrap();
    assert_eq!(space.areas().count(), 1, "same file, contiguous offsets: merged again");
    // A second mapping right after, at a non-contiguous offset, stays apart.
    space.map_file(at.add(4 * PAGE_SIZE), PAGE_SIZE, RW, FIXED, AreaKind::Anonymous, backing(&file, 0)).unwrap();
    assert_eq!(space.areas().count(), 2);
    // munmap of the middle keeps the offsets of what is left.
    space.unmap(at.add(PAGE_SIZE), PAGE_SIZE).unwrap();
    assert_eq!(read_u64(&mut space, at.add(3 * PAGE_SIZE)), 103);
    assert_eq!(space.map_file(AT, PAGE_SIZE, RW, FIXED, AreaKind::Anonymous, backing(&file, 100)), Err(Errno::EINVAL));
    drop(space);
    release_file(&fixture, file);
    assert_eq!(fixture.used(), 0);
}
