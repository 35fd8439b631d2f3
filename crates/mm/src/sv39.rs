//! Sv39 page tables: three levels of 512 eight-byte entries, 39-bit virtual addresses.
//!
//! A leaf may sit at any level, giving 4 KiB, 2 MiB or 1 GiB pages; [`PageTable::map_range`]
//! picks the largest page that alignment allows, so the kernel's direct map of RAM costs a
//! handful of entries. Mapping never overwrites a valid entry (that is always a bug of the
//! caller), and a leaf that is both writable and executable is refused: W^X is enforced
//! here, for every mapping, not left to each caller. User (`U`) leaves may only sit in the
//! lower half, since the upper half is the kernel's and is shared by every address space.
//!
//! User address spaces ([`PageTable::new_user`]) share the kernel's upper half by copying
//! its 256 root entries, so the kernel must have created every upper-half root entry it
//! will ever need before the first user table is made. Their lower half holds 4 KiB
//! leaves only; at level 0 a non-zero entry without `V` is an *inaccessible* leaf: it
//! keeps its frame (a `PROT_NONE` page keeps its contents) while the hardware ignores it.

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
    /// The flags ask for a writable and executable page, a write-only page, no access at
    /// all (where not allowed), or a user page in the kernel half.
    BadFlags,
    /// Nothing (or not a 4 KiB leaf) is mapped there.
    NotMapped,
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
    /// Takes back a table frame [`PageTable::clear_user`] or
    /// [`PageTable::destroy_user_tables`] no longer needs.
    ///
    /// The default panics: memory that never frees tables (the kernel's own table) need
    /// not implement it, and a user table over such memory is a wiring bug to be loud about.
    fn free_table_frame(&mut self, frame: PhysAddr) {
        panic!("this PhysMemory cannot free page-table frame {frame:?}");
    }
}

/// What [`PageTable::update_leaves`] does with one leaf.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LeafUpdate {
    /// Leave it as it is.
    Keep,
    /// Give it these flags (same rules as [`PageTable::update_flags`]).
    Set(Flags),
    /// Clear the entry (the frame is the caller's to release).
    Remove,
}

const ENTRIES: usize = 512;
/// First root slot of the upper (kernel) half.
const KERNEL_HALF_SLOT: usize = ENTRIES / 2;
/// End of the lower (user) half of the Sv39 address space: 256 GiB.
pub const USER_HALF_END: VirtAddr = VirtAddr(1 << 38);
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

/// Checks a leaf's flags: no W without R, no W with X, U only below [`USER_HALF_END`];
/// no access at all only if `allow_inaccessible`.
fn check_flags(va: VirtAddr, flags: Flags, allow_inaccessible: bool) -> Result<(), MapError> {
    let access = flags & (Flags::R | Flags::W | Flags::X);
    if (access.is_empty() && !allow_inaccessible)
        || flags.contains(Flags::W | Flags::X)
        || (flags.contains(Flags::W) && !flags.contains(Flags::R))
        || (flags.contains(Flags::U) && va >= USER_HALF_END)
    {
        return Err(MapError::BadFlags);
    }
    Ok(())
}

/// The entry bits for a leaf with `flags`: accessed (and dirty if writable) set up front,
/// valid unless it grants no access at all (an inaccessible leaf that keeps its frame).
fn leaf_entry(pa: PhysAddr, flags: Flags) -> u64 {
    let mut flags = flags - Flags::V;
    if flags.intersects(Flags::R | Flags::W | Flags::X) {
        flags |= Flags::V | Flags::A;
        if flags.contains(Flags::W) {
            flags |= Flags::D;
        }
    }
    let entry = make_entry(pa, flags);
    debug_assert!(entry != 0, "an inaccessible leaf needs a non-zero frame or flag");
    entry
}

/// The first address of the next `size`-aligned block after `va`.
fn next_boundary(va: usize, size: usize) -> usize {
    (va | (size - 1)) + 1
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

    fn slot(memory: &impl PhysMemory, table: PhysAddr, slot: usize) -> *mut u64 {
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
        check_flags(va, flags, false)?;
        let mut table = self.root;
        for level in (size.level() + 1..=2).rev() {
            let slot = Self::slot(memory, table, index(va, level));
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
        let slot = Self::slot(memory, table, index(va, size.level()));
        // SAFETY: `slot` points into a table frame of this page table.
        let entry = unsafe { slot.read_volatile() };
        // At level 0 an inaccessible leaf (non-zero, no V) also occupies the slot.
        if entry & Flags::V.bits() != 0 || (size == PageSize::Size4K && entry != 0) {
            return Err(MapError::AlreadyMapped);
        }
        // SAFETY: as above.
        unsafe { slot.write_volatile(leaf_entry(pa, flags)) };
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
        if !va.is_aligned(PAGE_SIZE) || !pa.is_aligned(PAGE_SIZE) || !len.is_multiple_of(PAGE_SIZE) {
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
            let slot = Self::slot(memory, table, index(va, level));
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

    /// A new user table: an empty lower half, and the upper half's 256 root entries copied
    /// from `kernel`, so the kernel mapping (and its intermediate tables) is shared.
    pub fn new_user(memory: &mut impl PhysMemory, kernel: &PageTable) -> Result<Self, MapError> {
        let table = Self::new(memory)?;
        for slot in KERNEL_HALF_SLOT..ENTRIES {
            let from = Self::slot(memory, kernel.root, slot);
            let to = Self::slot(memory, table.root, slot);
            // SAFETY: both point into root frames of live tables; the new root is ours alone.
            unsafe { to.write_volatile(from.read_volatile()) };
        }
        Ok(table)
    }

    /// The level-0 slot of `va`, if the intermediate tables down to it exist.
    fn leaf_slot(&self, memory: &impl PhysMemory, va: VirtAddr) -> Option<*mut u64> {
        if !is_canonical(va) {
            return None;
        }
        let table = self.level0_table(memory, va)?;
        Some(Self::slot(memory, table, index(va, 0)))
    }

    /// The level-0 table covering `va`, if there is one.
    fn level0_table(&self, memory: &impl PhysMemory, va: VirtAddr) -> Option<PhysAddr> {
        let mut table = self.root;
        for level in [2, 1] {
            let slot = Self::slot(memory, table, index(va, level));
            // SAFETY: `slot` points into a table frame of this page table.
            let entry = unsafe { slot.read_volatile() };
            if entry & Flags::V.bits() == 0 || is_leaf(entry) {
                return None;
            }
            table = entry_address(entry);
        }
        Some(table)
    }

    /// The frame and flags of the 4 KiB leaf at `va` (page-aligned or not), including an
    /// inaccessible leaf (its flags lack `V`). `None` if no 4 KiB leaf is there.
    pub fn entry(&self, memory: &impl PhysMemory, va: VirtAddr) -> Option<(PhysAddr, Flags)> {
        let slot = self.leaf_slot(memory, va)?;
        // SAFETY: `slot` points into a level-0 table frame of this page table.
        let entry = unsafe { slot.read_volatile() };
        (entry != 0).then(|| (entry_address(entry), Flags::from_bits_truncate(entry)))
    }

    /// Removes the 4 KiB leaf at `va` and returns what it mapped (the frame is the
    /// caller's to free). Intermediate tables stay until [`PageTable::clear_user`].
    pub fn unmap(&mut self, memory: &mut impl PhysMemory, va: VirtAddr) -> Option<(PhysAddr, Flags)> {
        let slot = self.leaf_slot(memory, va)?;
        // SAFETY: `slot` points into a level-0 table frame of this page table.
        let entry = unsafe { slot.read_volatile() };
        if entry == 0 {
            return None;
        }
        // SAFETY: as above.
        unsafe { slot.write_volatile(0) };
        Some((entry_address(entry), Flags::from_bits_truncate(entry)))
    }

    /// Changes the flags of the 4 KiB leaf at `va`, keeping its frame. Flags granting no
    /// access (no R, W or X) make it an inaccessible leaf that still holds the frame.
    pub fn update_flags(&mut self, memory: &mut impl PhysMemory, va: VirtAddr, flags: Flags) -> Result<(), MapError> {
        check_flags(va, flags, true)?;
        let slot = self.leaf_slot(memory, va).ok_or(MapError::NotMapped)?;
        // SAFETY: `slot` points into a level-0 table frame of this page table.
        let entry = unsafe { slot.read_volatile() };
        if entry == 0 {
            return Err(MapError::NotMapped);
        }
        // SAFETY: as above.
        unsafe { slot.write_volatile(leaf_entry(entry_address(entry), flags)) };
        Ok(())
    }

    /// Maps a 4 KiB leaf at `va` (page-aligned) to `pa` whatever was there, and returns
    /// the previous leaf. Like [`PageTable::update_flags`], no-access flags are allowed.
    pub fn set_leaf(
        &mut self,
        memory: &mut impl PhysMemory,
        va: VirtAddr,
        pa: PhysAddr,
        flags: Flags,
    ) -> Result<Option<(PhysAddr, Flags)>, MapError> {
        if !va.is_aligned(PAGE_SIZE) || !pa.is_aligned(PAGE_SIZE) {
            return Err(MapError::Misaligned);
        }
        if !is_canonical(va) {
            return Err(MapError::NonCanonical);
        }
        check_flags(va, flags, true)?;
        let mut table = self.root;
        for level in [2, 1] {
            let slot = Self::slot(memory, table, index(va, level));
            // SAFETY: `slot` points into a table frame of this page table.
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
        let slot = Self::slot(memory, table, index(va, 0));
        // SAFETY: `slot` points into a level-0 table frame of this page table.
        let old = unsafe { slot.read_volatile() };
        // SAFETY: as above.
        unsafe { slot.write_volatile(leaf_entry(pa, flags)) };
        Ok((old != 0).then(|| (entry_address(old), Flags::from_bits_truncate(old))))
    }

    /// Calls `visit` for every 4 KiB leaf (inaccessible ones included) in `[start, end)`
    /// of the lower half, in address order.
    pub fn for_each_leaf(
        &self,
        memory: &impl PhysMemory,
        start: VirtAddr,
        end: VirtAddr,
        mut visit: impl FnMut(VirtAddr, PhysAddr, Flags),
    ) {
        self.walk(
            &mut &*memory,
            |memory, frame| memory.table_ptr(frame),
            start,
            end,
            |_, va, _, entry| {
                visit(va, entry_address(entry), Flags::from_bits_truncate(entry));
            },
        );
    }

    /// Calls `visit` for every 4 KiB leaf (inaccessible ones included) in `[start, end)`
    /// of the lower half, in address order, and applies what it returns. `visit` gets
    /// `memory` back so it can reach other tables of the same memory (and release
    /// frames); it must not free tables of this one.
    ///
    /// # Panics
    /// If `visit` returns [`LeafUpdate::Set`] with flags [`PageTable::update_flags`]
    /// refuses (a bug of the caller, not of its input).
    pub fn update_leaves<M: PhysMemory>(
        &mut self,
        memory: &mut M,
        start: VirtAddr,
        end: VirtAddr,
        mut visit: impl FnMut(&mut M, VirtAddr, PhysAddr, Flags) -> LeafUpdate,
    ) {
        self.walk(
            memory,
            |memory, frame| memory.table_ptr(frame),
            start,
            end,
            |memory, va, slot, entry| {
                let pa = entry_address(entry);
                let new = match visit(memory, va, pa, Flags::from_bits_truncate(entry)) {
                    LeafUpdate::Keep => return,
                    LeafUpdate::Set(flags) => {
                        check_flags(va, flags, true)
                            .unwrap_or_else(|error| panic!("bad flags {flags:?} at {va:?}: {error:?}"));
                        leaf_entry(pa, flags)
                    }
                    LeafUpdate::Remove => 0,
                };
                // SAFETY: `slot` points into a level-0 table frame of this page table, which
                // `visit` did not free.
                unsafe { slot.write_volatile(new) };
            },
        );
    }

    /// The walk behind [`PageTable::for_each_leaf`] and [`PageTable::update_leaves`]:
    /// calls `visit` with the slot and value of every non-zero level-0 entry in
    /// `[start, end)` of the lower half, skipping absent subtrees whole. `table_ptr`
    /// reaches a table frame through `state` (a `PhysMemory`, borrowed or not).
    fn walk<S>(
        &self,
        state: &mut S,
        table_ptr: impl Fn(&S, PhysAddr) -> *mut u64,
        start: VirtAddr,
        end: VirtAddr,
        mut visit: impl FnMut(&mut S, VirtAddr, *mut u64, u64),
    ) {
        let end = end.0.min(USER_HALF_END.0);
        let mut va = start.align_down(PAGE_SIZE).0;
        'outer: while va < end {
            let mut table = self.root;
            for (level, size) in [(2, PageSize::Size1G), (1, PageSize::Size2M)] {
                let slot = table_ptr(state, table).wrapping_add(index(VirtAddr(va), level));
                // SAFETY: `slot` points into a table frame of this page table.
                let entry = unsafe { slot.read_volatile() };
                if entry & Flags::V.bits() == 0 || is_leaf(entry) {
                    va = next_boundary(va, size.bytes());
                    continue 'outer;
                }
                table = entry_address(entry);
            }
            let stop = end.min(next_boundary(va, PageSize::Size2M.bytes()));
            while va < stop {
                let slot = table_ptr(state, table).wrapping_add(index(VirtAddr(va), 0));
                // SAFETY: `slot` points into a level-0 table frame of this page table;
                // `visit` may change data frames and other tables but frees none of ours.
                let entry = unsafe { slot.read_volatile() };
                if entry != 0 {
                    visit(state, VirtAddr(va), slot, entry);
                }
                va += PAGE_SIZE;
            }
        }
    }

    /// Frees every lower-half table frame and empties the lower half of the root; the
    /// shared kernel half is never touched. Leaves' frames are not freed: release them
    /// first (e.g. with [`PageTable::update_leaves`]).
    pub fn clear_user(&mut self, memory: &mut impl PhysMemory) {
        for root_slot in 0..KERNEL_HALF_SLOT {
            let slot = Self::slot(memory, self.root, root_slot);
            // SAFETY: `slot` points into the root frame of this page table.
            let entry = unsafe { slot.read_volatile() };
            if entry & Flags::V.bits() != 0 && !is_leaf(entry) {
                let level1 = entry_address(entry);
                for level1_slot in 0..ENTRIES {
                    let slot = Self::slot(memory, level1, level1_slot);
                    // SAFETY: `slot` points into a level-1 table frame of this page table.
                    let entry = unsafe { slot.read_volatile() };
                    if entry & Flags::V.bits() != 0 && !is_leaf(entry) {
                        memory.free_table_frame(entry_address(entry));
                    }
                }
                memory.free_table_frame(level1);
            }
            // SAFETY: as above.
            unsafe { slot.write_volatile(0) };
        }
    }

    /// Frees the lower-half tables (as [`PageTable::clear_user`]) and the root itself.
    pub fn destroy_user_tables(mut self, memory: &mut impl PhysMemory) {
        self.clear_user(memory);
        memory.free_table_frame(self.root);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;
    use alloc::vec::Vec;
    use core::cell::UnsafeCell;

    /// Emulated RAM: frames are 4 KiB-aligned boxes, "physical" addresses are indices.
    struct FakeMemory {
        /// In cells, since the page-table code writes through pointers `table_ptr` makes
        /// from a shared borrow.
        frames: Vec<Box<UnsafeCell<[u64; ENTRIES]>>>,
        freed: Vec<PhysAddr>,
    }

    const FAKE_BASE: usize = 0x8000_0000;

    // SAFETY: every frame handed out is a live, zeroed, exclusively owned box of 4 KiB,
    // and `table_ptr` maps each address back to its box.
    unsafe impl PhysMemory for FakeMemory {
        fn table_ptr(&self, frame: PhysAddr) -> *mut u64 {
            let index = (frame.0 - FAKE_BASE) / PAGE_SIZE;
            self.frames[index].get().cast()
        }
        fn alloc_table_frame(&mut self) -> Option<PhysAddr> {
            if self.frames.len() >= 64 {
                return None;
            }
            self.frames.push(Box::new(UnsafeCell::new([0; ENTRIES])));
            Some(PhysAddr(FAKE_BASE + (self.frames.len() - 1) * PAGE_SIZE))
        }
        fn free_table_frame(&mut self, frame: PhysAddr) {
            assert!(!self.freed.contains(&frame), "double free of table {frame:?}");
            self.freed.push(frame);
        }
    }

    fn memory() -> FakeMemory {
        FakeMemory { frames: vec![], freed: vec![] }
    }

    const USER: VirtAddr = VirtAddr(0x1_2345_6000);

    /// A kernel table with a page in the upper half, and a user table made from it.
    fn kernel_and_user(mem: &mut FakeMemory) -> (PageTable, PageTable) {
        let mut kernel = PageTable::new(mem).unwrap();
        kernel.map(mem, KERNEL, PhysAddr(0x8020_0000), PageSize::Size4K, Flags::R | Flags::X | Flags::G).unwrap();
        let user = PageTable::new_user(mem, &kernel).unwrap();
        (kernel, user)
    }

    #[test]
    fn user_tables_share_the_kernel_half() {
        let mut mem = memory();
        let (kernel, mut user) = kernel_and_user(&mut mem);
        assert_eq!(user.translate(&mem, KERNEL).map(|(pa, _, _)| pa), Some(PhysAddr(0x8020_0000)));
        user.map(&mut mem, USER, PhysAddr(0x9000_0000), PageSize::Size4K, Flags::R | Flags::W | Flags::U).unwrap();
        assert_eq!(kernel.translate(&mem, USER), None, "the lower half is the user table's own");
        let kernel_frames = 3;
        assert_eq!(mem.frames.len(), kernel_frames + 3, "user root + two tables");
        let user_root = user.root();
        user.destroy_user_tables(&mut mem);
        let mut freed = mem.freed.clone();
        freed.sort();
        let expected: Vec<_> =
            (kernel_frames..kernel_frames + 3).map(|i| PhysAddr(FAKE_BASE + i * PAGE_SIZE)).collect();
        assert_eq!(freed, expected, "the user's tables, none of the kernel's");
        assert!(freed.contains(&user_root));
        assert!(kernel.translate(&mem, KERNEL).is_some());
    }

    #[test]
    fn user_pages_only_in_the_lower_half() {
        let mut mem = memory();
        let (_, mut user) = kernel_and_user(&mut mem);
        let user_flags = Flags::R | Flags::U;
        assert_eq!(
            user.map(&mut mem, KERNEL.add(PAGE_SIZE), PhysAddr(0x9000_0000), PageSize::Size4K, user_flags),
            Err(MapError::BadFlags)
        );
        assert_eq!(
            user.set_leaf(&mut mem, KERNEL.add(PAGE_SIZE), PhysAddr(0x9000_0000), user_flags),
            Err(MapError::BadFlags)
        );
        user.map(&mut mem, VirtAddr(USER_HALF_END.0 - PAGE_SIZE), PhysAddr(0x9000_0000), PageSize::Size4K, user_flags)
            .unwrap();
    }

    #[test]
    fn entry_update_flags_and_unmap_of_4k_leaves() {
        let mut mem = memory();
        let (_, mut user) = kernel_and_user(&mut mem);
        let pa = PhysAddr(0x9000_0000);
        assert_eq!(user.entry(&mem, USER), None);
        assert_eq!(user.update_flags(&mut mem, USER, Flags::R), Err(MapError::NotMapped));
        user.map(&mut mem, USER, pa, PageSize::Size4K, Flags::R | Flags::U).unwrap();
        assert_eq!(user.entry(&mem, USER.add(5)), Some((pa, Flags::V | Flags::R | Flags::U | Flags::A)));
        assert_eq!(user.entry(&mem, USER.add(PAGE_SIZE)), None);

        user.update_flags(&mut mem, USER, Flags::R | Flags::W | Flags::U).unwrap();
        assert_eq!(
            user.translate(&mem, USER).unwrap().1,
            Flags::V | Flags::R | Flags::W | Flags::U | Flags::A | Flags::D
        );
        assert_eq!(user.update_flags(&mut mem, USER, Flags::R | Flags::W | Flags::X), Err(MapError::BadFlags));
        assert_eq!(user.update_flags(&mut mem, USER, Flags::W | Flags::U), Err(MapError::BadFlags), "write-only");

        // No access at all: the hardware sees nothing, the frame stays.
        user.update_flags(&mut mem, USER, Flags::U).unwrap();
        assert_eq!(user.translate(&mem, USER), None);
        assert_eq!(user.entry(&mem, USER), Some((pa, Flags::U)));
        assert_eq!(
            user.map(&mut mem, USER, pa, PageSize::Size4K, Flags::R),
            Err(MapError::AlreadyMapped),
            "an inaccessible leaf still occupies its slot"
        );
        assert_eq!(user.unmap(&mut mem, USER), Some((pa, Flags::U)));
        assert_eq!(user.unmap(&mut mem, USER), None);
        assert_eq!(user.entry(&mem, USER), None);
        user.map(&mut mem, USER, pa, PageSize::Size4K, Flags::R).unwrap();
    }

    #[test]
    fn set_leaf_replaces_and_reports_the_old_leaf() {
        let mut mem = memory();
        let (_, mut user) = kernel_and_user(&mut mem);
        let (old, new) = (PhysAddr(0x9000_0000), PhysAddr(0x9000_1000));
        assert_eq!(user.set_leaf(&mut mem, USER, old, Flags::R | Flags::U), Ok(None));
        assert_eq!(
            user.set_leaf(&mut mem, USER, new, Flags::R | Flags::W | Flags::U),
            Ok(Some((old, Flags::V | Flags::R | Flags::U | Flags::A)))
        );
        assert_eq!(user.translate(&mem, USER).unwrap().0, new);
        assert_eq!(user.set_leaf(&mut mem, USER.add(8), new, Flags::R), Err(MapError::Misaligned));
        user.map(&mut mem, VirtAddr(0x4000_0000), PhysAddr(0x9020_0000), PageSize::Size2M, Flags::R).unwrap();
        assert_eq!(
            user.set_leaf(&mut mem, VirtAddr(0x4000_1000), new, Flags::R),
            Err(MapError::AlreadyMapped),
            "inside a huge page"
        );
        assert_eq!(user.unmap(&mut mem, VirtAddr(0x4000_0000)), None, "not a 4 KiB leaf");
    }

    #[test]
    fn leaf_walks_visit_in_order_and_apply_updates() {
        let mut mem = memory();
        let (_, mut user) = kernel_and_user(&mut mem);
        let pages = [0x1000, 0x20_3000, 0x20_4000, 0x8000_0000, 0x3f_ffff_f000];
        for (i, &va) in pages.iter().enumerate() {
            user.map(
                &mut mem,
                VirtAddr(va),
                PhysAddr(0x9000_0000 + i * PAGE_SIZE),
                PageSize::Size4K,
                Flags::R | Flags::W | Flags::U,
            )
            .unwrap();
        }
        user.update_flags(&mut mem, VirtAddr(0x20_4000), Flags::U).unwrap();
        let mut seen = vec![];
        user.for_each_leaf(&mem, VirtAddr(0), USER_HALF_END, |va, _, _| seen.push(va.0));
        assert_eq!(seen, pages, "inaccessible leaves included, kernel half excluded");
        seen.clear();
        user.for_each_leaf(&mem, VirtAddr(0x20_3000), VirtAddr(0x8000_0000), |va, _, _| seen.push(va.0));
        assert_eq!(seen, [0x20_3000, 0x20_4000], "the range is half-open");

        user.update_leaves(&mut mem, VirtAddr(0), USER_HALF_END, |_, va, _, flags| match va.0 {
            0x1000 => LeafUpdate::Remove,
            0x20_3000 => LeafUpdate::Set(flags - Flags::W),
            _ => LeafUpdate::Keep,
        });
        assert_eq!(user.entry(&mem, VirtAddr(0x1000)), None);
        assert!(!user.entry(&mem, VirtAddr(0x20_3000)).unwrap().1.contains(Flags::W));
        assert!(user.entry(&mem, VirtAddr(0x8000_0000)).unwrap().1.contains(Flags::W));

        let tables = mem.frames.len();
        user.clear_user(&mut mem);
        assert_eq!(mem.freed.len(), tables - 3 - 1, "every user table but the root");
        user.for_each_leaf(&mem, VirtAddr(0), USER_HALF_END, |va, _, _| panic!("leaf at {va:?} after clear"));
        assert!(user.translate(&mem, KERNEL).is_some());
    }

    #[test]
    #[should_panic(expected = "cannot free")]
    fn memory_that_cannot_free_tables_says_so() {
        struct NoFree(FakeMemory);
        // SAFETY: delegates to `FakeMemory`.
        unsafe impl PhysMemory for NoFree {
            fn table_ptr(&self, frame: PhysAddr) -> *mut u64 {
                self.0.table_ptr(frame)
            }
            fn alloc_table_frame(&mut self) -> Option<PhysAddr> {
                self.0.alloc_table_frame()
            }
        }
        let mut mem = NoFree(memory());
        let table = PageTable::new(&mut mem).unwrap();
        table.destroy_user_tables(&mut mem);
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
