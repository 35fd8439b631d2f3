//! Sv39 page tables: three levels of 512 eight-byte entries, 39-bit virtual addresses.
//!
//! A leaf may sit at any level, giving 4 KiB, 2 MiB or 1 GiB pages; [`PageTable::map_range`]
//! picks the largest page that alignment allows, so the kernel's direct map of RAM costs a
//! handful of entries. Mapping never overwrites a valid entry (that is always a bug of the
//! caller), and a leaf that is both writable and executable is refused: W^X is enforced
//! here, for every mapping, not left to each caller.

use bitflags::bitflags;

use crate::{PhysAddr, VirtAddr, PAGE_SIZE};

bitflags! {
    /// The low bits of a Sv39 page-table entry.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct Flags: u64 {
        /// Valid.
        const V = 1 << 0;
        /// Readable.
        const R = 1 << 1;
        /// Writable.
        const W = 1 << 2;
        /// Executable.
        const X = 1 << 3;
        /// Accessible from user mode.
        const U = 1 << 4;
        /// Global (present in every address space).
        const G = 1 << 5;
        /// Accessed (set up front: QEMU and most cores fault rather than set it).
        const A = 1 << 6;
        /// Dirty (set up front on writable pages for the same reason).
        const D = 1 << 7;
    }
}

/// The three page sizes of Sv39.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PageSize {
    /// 4 KiB, a leaf at level 0.
    Size4K,
    /// 2 MiB, a leaf at level 1.
    Size2M,
    /// 1 GiB, a leaf at level 2.
    Size1G,
}

impl PageSize {
    /// Size in bytes.
    pub const fn bytes(self) -> usize {
        match self {
            PageSize::Size4K => PAGE_SIZE,
            PageSize::Size2M => 512 * PAGE_SIZE,
            PageSize::Size1G => 512 * 512 * PAGE_SIZE,
        }
    }

    const fn level(self) -> usize {
        match self {
            PageSize::Size4K => 0,
            PageSize::Size2M => 1,
            PageSize::Size1G => 2,
        }
    }
}

/// Why a mapping was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MapError {
    /// An address is not aligned to the page size.
    Misaligned,
    /// The virtual address is not canonical (bits 63..39 must equal bit 38).
    NonCanonical,
    /// Something is already mapped there.
    AlreadyMapped,
    /// No frame for an intermediate table.
    OutOfMemory,
    /// The flags ask for a writable and executable page, or no access at all.
    BadFlags,
}

/// Access to physical memory for the page-table code.
///
/// # Safety
/// `table_ptr` must return a pointer valid for reads and writes of 4 KiB at every frame
/// address this table uses (its root and every frame `alloc_table_frame` returned), and
/// `alloc_table_frame` must return zeroed, 4 KiB-aligned frames that nothing else uses.
pub unsafe trait PhysMemory {
    /// Pointer to the 4 KiB frame at `frame`.
    fn table_ptr(&self, frame: PhysAddr) -> *mut u64;
    /// A zeroed frame for a new table, or `None` when out of memory.
    fn alloc_table_frame(&mut self) -> Option<PhysAddr>;
}

const ENTRIES: usize = 512;
const PPN_SHIFT: u32 = 10;
const PPN_MASK: u64 = (1 << 44) - 1;

fn entry_address(entry: u64) -> PhysAddr {
    PhysAddr((((entry >> PPN_SHIFT) & PPN_MASK) as usize) * PAGE_SIZE)
}

fn make_entry(address: PhysAddr, flags: Flags) -> u64 {
    (((address.0 / PAGE_SIZE) as u64) << PPN_SHIFT) | flags.bits()
}

fn is_leaf(entry: u64) -> bool {
    entry & (Flags::R | Flags::W | Flags::X).bits() != 0
}

fn index(va: VirtAddr, level: usize) -> usize {
    (va.0 >> (12 + 9 * level)) & (ENTRIES - 1)
}

/// Whether `va` is a canonical Sv39 address.
pub fn is_canonical(va: VirtAddr) -> bool {
    let high = (va.0 as i64) >> 38;
    high == 0 || high == -1
}

/// A Sv39 page table, identified by the physical address of its root.
#[derive(Debug)]
pub struct PageTable {
    root: PhysAddr,
}

impl PageTable {
    /// A new empty table.
    pub fn new(memory: &mut impl PhysMemory) -> Result<Self, MapError> {
        let root = memory.alloc_table_frame().ok_or(MapError::OutOfMemory)?;
        Ok(Self { root })
    }

    /// Physical address of the root table.
    pub fn root(&self) -> PhysAddr {
        self.root
    }

    /// The `satp` value that installs this table with address-space id `asid`.
    pub fn satp(&self, asid: u16) -> usize {
        (8usize << 60) | ((asid as usize) << 44) | (self.root.0 / PAGE_SIZE)
    }

    fn entry(memory: &impl PhysMemory, table: PhysAddr, slot: usize) -> *mut u64 {
        debug_assert!(slot < ENTRIES);
        memory.table_ptr(table).wrapping_add(slot)
    }

    /// Maps one page of `size` at `va` to `pa`.
    pub fn map(
        &mut self,
        memory: &mut impl PhysMemory,
        va: VirtAddr,
        pa: PhysAddr,
        size: PageSize,
        flags: Flags,
    ) -> Result<(), MapError> {
        if !va.is_aligned(size.bytes()) || !pa.is_aligned(size.bytes()) {
            return Err(MapError::Misaligned);
        }
        if !is_canonical(va) {
            return Err(MapError::NonCanonical);
        }
        let access = flags & (Flags::R | Flags::W | Flags::X);
        if access.is_empty() || flags.contains(Flags::W | Flags::X) || (flags.contains(Flags::W) && !flags.contains(Flags::R)) {
            return Err(MapError::BadFlags);
        }
        let mut table = self.root;
        for level in (size.level() + 1..=2).rev() {
            let slot = Self::entry(memory, table, index(va, level));
            // SAFETY: `slot` points into a table frame of this page table (PhysMemory contract).
            let entry = unsafe { slot.read_volatile() };
            table = if entry & Flags::V.bits() == 0 {
                let frame = memory.alloc_table_frame().ok_or(MapError::OutOfMemory)?;
                // SAFETY: as above; the new frame is zeroed and owned by this table.
                unsafe { slot.write_volatile(make_entry(frame, Flags::V)) };
                frame
            } else if is_leaf(entry) {
                return Err(MapError::AlreadyMapped);
            } else {
                entry_address(entry)
            };
        }
        let slot = Self::entry(memory, table, index(va, size.level()));
        // SAFETY: `slot` points into a table frame of this page table.
        let entry = unsafe { slot.read_volatile() };
        if entry & Flags::V.bits() != 0 {
            return Err(MapError::AlreadyMapped);
        }
        let mut flags = flags | Flags::V | Flags::A;
        if flags.contains(Flags::W) {
            flags |= Flags::D;
        }
        // SAFETY: as above.
        unsafe { slot.write_volatile(make_entry(pa, flags)) };
        Ok(())
    }

    /// Maps `[va, va + len)` to `[pa, pa + len)` with the largest pages alignment allows.
    pub fn map_range(
        &mut self,
        memory: &mut impl PhysMemory,
        va: VirtAddr,
        pa: PhysAddr,
        len: usize,
        flags: Flags,
    ) -> Result<(), MapError> {
        if !va.is_aligned(PAGE_SIZE) || !pa.is_aligned(PAGE_SIZE) || len % PAGE_SIZE != 0 {
            return Err(MapError::Misaligned);
        }
        let mut offset = 0;
        while offset < len {
            let (v, p, left) = (va.add(offset), pa.add(offset), len - offset);
            let size = [PageSize::Size1G, PageSize::Size2M, PageSize::Size4K]
                .into_iter()
                .find(|size| v.is_aligned(size.bytes()) && p.is_aligned(size.bytes()) && left >= size.bytes())
                .unwrap_or(PageSize::Size4K);
            self.map(memory, v, p, size, flags)?;
            offset += size.bytes();
        }
        Ok(())
    }

    /// The physical address, flags and page size `va` maps to, if mapped.
    pub fn translate(&self, memory: &impl PhysMemory, va: VirtAddr) -> Option<(PhysAddr, Flags, PageSize)> {
        if !is_canonical(va) {
            return None;
        }
        let mut table = self.root;
        for (level, size) in [(2, PageSize::Size1G), (1, PageSize::Size2M), (0, PageSize::Size4K)] {
            let slot = Self::entry(memory, table, index(va, level));
            // SAFETY: `slot` points into a table frame of this page table.
            let entry = unsafe { slot.read_volatile() };
            if entry & Flags::V.bits() == 0 {
                return None;
            }
            if is_leaf(entry) {
                let offset = va.0 & (size.bytes() - 1);
                return Some((entry_address(entry).add(offset), Flags::from_bits_truncate(entry), size));
            }
            table = entry_address(entry);
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;
    use alloc::vec::Vec;

    /// Emulated RAM: frames are 4 KiB-aligned boxes, "physical" addresses are indices.
    struct FakeMemory {
        frames: Vec<Box<[u64; ENTRIES]>>,
    }

    const FAKE_BASE: usize = 0x8000_0000;

    // SAFETY: every frame handed out is a live, zeroed, exclusively owned box of 4 KiB,
    // and `table_ptr` maps each address back to its box.
    unsafe impl PhysMemory for FakeMemory {
        fn table_ptr(&self, frame: PhysAddr) -> *mut u64 {
            let index = (frame.0 - FAKE_BASE) / PAGE_SIZE;
            self.frames[index].as_ptr() as *mut u64
        }
        fn alloc_table_frame(&mut self) -> Option<PhysAddr> {
            if self.frames.len() >= 64 {
                return None;
            }
            self.frames.push(Box::new([0; ENTRIES]));
            Some(PhysAddr(FAKE_BASE + (self.frames.len() - 1) * PAGE_SIZE))
        }
    }

    fn memory() -> FakeMemory {
        FakeMemory { frames: vec![] }
    }

    const KERNEL: VirtAddr = VirtAddr(0xffff_ffc0_8020_0000);

    #[test]
    fn maps_and_translates_4k_pages() {
        let mut mem = memory();
        let mut table = PageTable::new(&mut mem).unwrap();
        table.map(&mut mem, KERNEL, PhysAddr(0x8020_0000), PageSize::Size4K, Flags::R | Flags::X).unwrap();
        let (pa, flags, size) = table.translate(&mem, KERNEL.add(0x123)).unwrap();
        assert_eq!(pa, PhysAddr(0x8020_0123));
        assert!(flags.contains(Flags::V | Flags::R | Flags::X | Flags::A));
        assert!(!flags.contains(Flags::W));
        assert_eq!(size, PageSize::Size4K);
        assert_eq!(table.translate(&mem, KERNEL.add(PAGE_SIZE)), None);
        assert_eq!(mem.frames.len(), 3, "root + one level-1 + one level-0 table");
    }

    #[test]
    fn map_range_uses_huge_pages_when_aligned() {
        let mut mem = memory();
        let mut table = PageTable::new(&mut mem).unwrap();
        // 1 GiB + 2 MiB + 4 KiB, all aligned: one of each page size.
        let len = PageSize::Size1G.bytes() + PageSize::Size2M.bytes() + PAGE_SIZE;
        let va = VirtAddr(0xffff_ffc0_8000_0000);
        table.map_range(&mut mem, va, PhysAddr(0x8000_0000), len, Flags::R | Flags::W).unwrap();
        assert_eq!(table.translate(&mem, va).unwrap().2, PageSize::Size1G);
        let after_giga = va.add(PageSize::Size1G.bytes());
        assert_eq!(table.translate(&mem, after_giga).unwrap().2, PageSize::Size2M);
        let last = after_giga.add(PageSize::Size2M.bytes());
        let (pa, flags, size) = table.translate(&mem, last.add(8)).unwrap();
        assert_eq!((pa, size), (PhysAddr(0x8000_0000 + len - PAGE_SIZE + 8), PageSize::Size4K));
        assert!(flags.contains(Flags::D), "writable pages are pre-dirtied");
        assert_eq!(table.translate(&mem, last.add(PAGE_SIZE)), None);
    }

    #[test]
    fn refuses_writable_and_executable() {
        let mut mem = memory();
        let mut table = PageTable::new(&mut mem).unwrap();
        let err = table.map(&mut mem, KERNEL, PhysAddr(0x8020_0000), PageSize::Size4K, Flags::R | Flags::W | Flags::X);
        assert_eq!(err, Err(MapError::BadFlags));
        let err = table.map(&mut mem, KERNEL, PhysAddr(0x8020_0000), PageSize::Size4K, Flags::W);
        assert_eq!(err, Err(MapError::BadFlags), "write-only is reserved in Sv39");
    }

    #[test]
    fn refuses_overlaps_misalignment_and_non_canonical() {
        let mut mem = memory();
        let mut table = PageTable::new(&mut mem).unwrap();
        table.map(&mut mem, VirtAddr(0x20_0000), PhysAddr(0x8020_0000), PageSize::Size2M, Flags::R).unwrap();
        assert_eq!(
            table.map(&mut mem, VirtAddr(0x20_1000), PhysAddr(0x8000_0000), PageSize::Size4K, Flags::R),
            Err(MapError::AlreadyMapped),
            "a 4 KiB page inside a 2 MiB leaf"
        );
        assert_eq!(
            table.map(&mut mem, VirtAddr(0x20_0000), PhysAddr(0x8000_0000), PageSize::Size2M, Flags::R),
            Err(MapError::AlreadyMapped)
        );
        assert_eq!(
            table.map(&mut mem, VirtAddr(0x1000), PhysAddr(0x8000_0000), PageSize::Size2M, Flags::R),
            Err(MapError::Misaligned)
        );
        assert_eq!(
            table.map(&mut mem, VirtAddr(0x0000_8000_0000_0000), PhysAddr(0), PageSize::Size4K, Flags::R),
            Err(MapError::NonCanonical)
        );
    }

    #[test]
    fn out_of_table_frames_is_an_error() {
        let mut mem = memory();
        let mut table = PageTable::new(&mut mem).unwrap();
        let mut result = Ok(());
        for gigabyte in 0..100 {
            let va = VirtAddr(gigabyte * PageSize::Size1G.bytes());
            result = table.map(&mut mem, va, PhysAddr(0x8000_0000), PageSize::Size4K, Flags::R);
            if result.is_err() {
                break;
            }
        }
        assert_eq!(result, Err(MapError::OutOfMemory));
    }

    #[test]
    fn satp_encodes_mode_asid_and_root() {
        let mut mem = memory();
        let table = PageTable::new(&mut mem).unwrap();
        assert_eq!(table.satp(5), (8 << 60) | (5 << 44) | (FAKE_BASE / PAGE_SIZE));
    }
}
