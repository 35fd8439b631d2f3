//! A user address space: a user page table plus the areas (Linux VMAs) that say what
//! may be mapped where, with the `mmap`/`munmap`/`mprotect`/`brk`/`fork` logic of Linux.
//!
//! Nothing is allocated when an area is created: pages come in on the first fault
//! ([`AddressSpace::handle_fault`]), zeroed. `fork` copies the page tables but not the
//! pages: private pages become read-only in both spaces and gain a reference, and the
//! first write copies the page (or, for the last sharer, just makes it writable again).
//! Frames are reference counted ([`PhysFrames`]), so whoever drops the last reference
//! frees the frame, and dropping an address space frees every frame and table it holds.
//!
//! TLB: operations that take permissions away or change frames set a flag the kernel
//! reads with [`AddressSpace::take_tlb_flush`] to issue `sfence.vma` (it lives in
//! `arch`). Faults that only add permissions need none: a stale entry just faults again,
//! and such a spurious fault is handled as a success. Frames are released during the
//! operation, before that flush: fine while a space runs on one hart at a time, but a
//! multi-threaded process on several harts needs the remote flush to happen before a
//! released frame is reused (a deferred-release list, like Linux's mmu_gather, is to come).

use alloc::collections::BTreeMap;
use core::any::Any;
use alloc::vec::Vec;

use abi::{Errno, Result};

use super::area::{Access, Area, AreaKind, FileBacking, MapFlags, Prot};
use super::fault::{no_file_pages, FilePages};
use super::layout::{MMAP_BASE, MMAP_MIN_ADDR, USER_END};
use crate::refcount::{PhysFrames, ReadTables, TableFrames};
use crate::sv39::{Flags, LeafUpdate, PageTable, PhysMemory};
use crate::{VirtAddr, PAGE_SIZE};

/// A user address space over the frames of `F`.
pub struct AddressSpace<F: PhysFrames> {
    pub(super) frames: F,
    pub(super) table: PageTable,
    /// Areas by start address; never overlapping, never empty.
    pub(super) areas: BTreeMap<usize, Area>,
    brk_start: VirtAddr,
    brk: VirtAddr,
    mmap_base: VirtAddr,
    pub(super) tlb_flush: bool,
    /// The page a user-memory access found still being read from its file.
    pub(super) pending_wait: Option<VirtAddr>,
    /// Where file-backed areas get their pages.
    pub(super) file_pages: FilePages<F>,
}

/// `len` rounded up to whole pages, `None` on overflow.
pub(super) fn page_align(len: usize) -> Option<usize> {
    Some(len.checked_add(PAGE_SIZE - 1)? & !(PAGE_SIZE - 1))
}

impl<F: PhysFrames> AddressSpace<F> {
    /// An empty address space whose upper half is `kernel`'s (see [`PageTable::new_user`]).
    pub fn new(mut frames: F, kernel: &PageTable) -> Result<Self> {
        let table = PageTable::new_user(&mut TableFrames(&mut frames), kernel).map_err(|_| Errno::ENOMEM)?;
        Ok(Self {
            frames,
            table,
            areas: BTreeMap::new(),
            brk_start: VirtAddr(0),
            brk: VirtAddr(0),
            mmap_base: MMAP_BASE,
            tlb_flush: false,
            pending_wait: None,
            file_pages: no_file_pages::<F>,
        })
    }

    /// Sets where file-backed areas get their pages (the kernel's page-cache glue);
    /// `fork` passes it on.
    pub fn set_file_pages(&mut self, provider: FilePages<F>) {
        self.file_pages = provider;
    }

    /// The frame pool.
    pub fn frames(&self) -> &F {
        &self.frames
    }

    /// The page table (to look up, not to change behind the areas' back).
    pub fn table(&self) -> &PageTable {
        &self.table
    }

    /// The `satp` value that installs this space (ASID 0 for now).
    pub fn satp(&self) -> usize {
        self.table.satp(0)
    }

    /// The areas in address order (for `/proc/PID/maps`).
    pub fn areas(&self) -> impl Iterator<Item = &Area> + '_ {
        self.areas.values()
    }

    /// The area containing `va`.
    pub fn area_at(&self, va: VirtAddr) -> Option<&Area> {
        self.areas.range(..=va.0).next_back().map(|(_, area)| area).filter(|area| area.contains(va))
    }

    /// Below this address `mmap` places mappings top-down.
    pub fn mmap_base(&self) -> VirtAddr {
        self.mmap_base
    }

    /// Moves the `mmap` base (at exec, e.g. below a larger stack); page-aligned down.
    pub fn set_mmap_base(&mut self, base: VirtAddr) {
        self.mmap_base = base.align_down(PAGE_SIZE).min(USER_END);
    }

    /// The heap: `(start, current break)`.
    pub fn brk_range(&self) -> (VirtAddr, VirtAddr) {
        (self.brk_start, self.brk)
    }

    /// Whether the TLB must be flushed for this space since the last call (permissions
    /// were taken away or frames changed); resets the flag.
    pub fn take_tlb_flush(&mut self) -> bool {
        core::mem::take(&mut self.tlb_flush)
    }

    /// The page the last user-memory access stopped at because its file page was still
    /// being read (`ERESTART_ON_STACK`), to be awaited outside the lock.
    pub fn take_pending_wait(&mut self) -> Option<VirtAddr> {
        self.pending_wait.take()
    }

    /// Frames mapped in this space (pages shared with others included).
    pub fn resident_pages(&self) -> usize {
        let mut pages = 0;
        self.table.for_each_leaf(&ReadTables(&self.frames), VirtAddr(0), USER_END, |_, _, _| pages += 1);
        pages
    }

    /// `mmap` of anonymous memory: see [`AddressSpace::map_area`].
    pub fn map(&mut self, hint: VirtAddr, len: usize, prot: Prot, flags: MapFlags) -> Result<VirtAddr> {
        self.map_area(hint, len, prot, flags, AreaKind::Anonymous)
    }

    /// `mmap` of a file: like [`AddressSpace::map_area`], the area backed by `file`
    /// from `offset` (page-aligned, else `EINVAL`). Pages come from the space's
    /// [`FilePages`] provider on first touch: shared areas map the file's pages, private
    /// ones copy them on the first write.
    pub fn map_file(
        &mut self,
        hint: VirtAddr,
        len: usize,
        prot: Prot,
        flags: MapFlags,
        kind: AreaKind,
        file: FileBacking,
    ) -> Result<VirtAddr> {
        if !file.offset.is_multiple_of(PAGE_SIZE as u64) {
            return Err(Errno::EINVAL);
        }
        self.map_backed(hint, len, prot, flags, kind, Some(file))
    }

    /// Creates an area of `len` bytes (rounded up to pages) holding `kind`; nothing is
    /// allocated until it is touched (unless `MAP_POPULATE`).
    ///
    /// Without `MAP_FIXED`/`MAP_FIXED_NOREPLACE` the hint is used if the range there is
    /// free, else the highest free range below the mmap base, else the lowest above it.
    /// `MAP_FIXED` replaces whatever is in the range; `MAP_FIXED_NOREPLACE` fails with
    /// `EEXIST` instead. Errors: `EINVAL` for a zero length, neither shared nor
    /// private (`MAP_SHARED_VALIDATE`, both bits, is shared), or an unaligned fixed
    /// address; `ENOMEM` when no room or the range leaves user space.
    pub fn map_area(
        &mut self,
        hint: VirtAddr,
        len: usize,
        prot: Prot,
        flags: MapFlags,
        kind: AreaKind,
    ) -> Result<VirtAddr> {
        self.map_backed(hint, len, prot, flags, kind, None)
    }

    fn map_backed(
        &mut self,
        hint: VirtAddr,
        len: usize,
        prot: Prot,
        flags: MapFlags,
        kind: AreaKind,
        file: Option<FileBacking>,
    ) -> Result<VirtAddr> {
        if len == 0 {
            return Err(Errno::EINVAL);
        }
        let len = page_align(len).filter(|&len| len <= USER_END.0).ok_or(Errno::ENOMEM)?;
        let shared = match flags & (MapFlags::SHARED | MapFlags::PRIVATE) {
            share if share == MapFlags::PRIVATE => false,
            share if share.contains(MapFlags::SHARED) => true,
            _ => return Err(Errno::EINVAL),
        };
        let start = if flags.intersects(MapFlags::FIXED | MapFlags::FIXED_NOREPLACE) {
            if !hint.is_aligned(PAGE_SIZE) {
                return Err(Errno::EINVAL);
            }
            if hint.0 > USER_END.0 - len {
                return Err(Errno::ENOMEM);
            }
            if flags.contains(MapFlags::FIXED_NOREPLACE) && self.overlaps(hint, hint.add(len)) {
                return Err(Errno::EEXIST);
            }
            self.remove_range(hint, hint.add(len));
            hint
        } else {
            self.free_range(hint, len).ok_or(Errno::ENOMEM)?
        };
        let end = start.add(len);
        if file.as_ref().is_some_and(|file| file.offset.checked_add(len as u64).is_none()) {
            return Err(Errno::EOVERFLOW);
        }
        self.areas.insert(start.0, Area { start, end, prot, shared, kind, file });
        self.merge_range(start, end);
        if flags.contains(MapFlags::POPULATE) {
            // As in Linux, failing to populate does not fail the mapping.
            let _ = self.populate(start, len);
        }
        Ok(start)
    }

    /// `munmap`: removes `[start, start + len)` (rounded up to pages), splitting areas
    /// and releasing frames; holes in the range are fine. `EINVAL` if `start` is not
    /// page-aligned, `len` is zero or the range leaves user space.
    pub fn unmap(&mut self, start: VirtAddr, len: usize) -> Result<()> {
        let len = page_align(len).ok_or(Errno::EINVAL)?;
        if !start.is_aligned(PAGE_SIZE) || len == 0 || start > USER_END || len > USER_END.0 - start.0 {
            return Err(Errno::EINVAL);
        }
        self.remove_range(start, start.add(len));
        Ok(())
    }

    /// `mprotect`: sets the protection of `[start, start + len)` (rounded up), splitting
    /// areas and updating present pages (copy-on-write pages still shared stay
    /// read-only). `EINVAL` if `start` is unaligned; `ENOMEM` if part of the range is
    /// not mapped, in which case nothing changes (Linux may have changed a prefix).
    pub fn protect(&mut self, start: VirtAddr, len: usize, prot: Prot) -> Result<()> {
        if !start.is_aligned(PAGE_SIZE) {
            return Err(Errno::EINVAL);
        }
        if len == 0 {
            return Ok(());
        }
        let end = page_align(len)
            .and_then(|len| start.0.checked_add(len))
            .filter(|&end| end <= USER_END.0)
            .map(VirtAddr)
            .ok_or(Errno::ENOMEM)?;
        let mut cursor = self.area_at(start).ok_or(Errno::ENOMEM)?.end;
        while cursor < end {
            cursor = self.areas.get(&cursor.0).ok_or(Errno::ENOMEM)?.end;
        }
        self.split_at(start);
        self.split_at(end);
        let mut cursor = start;
        while cursor < end {
            let area = self.areas.get_mut(&cursor.0).expect("the range is covered");
            area.prot = prot;
            let area = area.clone();
            self.refresh_leaves(&area);
            cursor = area.end;
        }
        self.merge_range(start, end);
        self.tlb_flush = true;
        Ok(())
    }

    /// After a file shrank: unmaps, in every area backed by a file `is_file` accepts, the
    /// pages at file page index `first` and beyond (copy-on-write copies of private
    /// areas too), releasing their frames, as Linux's `unmap_mapping_range(..., even_cows)`
    /// at truncation. The areas stay: touching those pages faults again, and the file's
    /// page provider answers a bus error past the end. Returns whether a page was unmapped
    /// (the TLB flush is then due, see [`AddressSpace::take_tlb_flush`]).
    pub fn unmap_file_pages_from(&mut self, is_file: impl Fn(&(dyn Any + Send + Sync)) -> bool, first: u64) -> bool {
        let first_byte = first.saturating_mul(PAGE_SIZE as u64);
        let ranges: Vec<(VirtAddr, VirtAddr)> = self
            .areas
            .values()
            .filter_map(|area| {
                let backing = area.file.as_ref().filter(|backing| is_file(&*backing.file))?;
                let skip = first_byte.saturating_sub(backing.offset);
                if skip >= area.len() as u64 {
                    return None;
                }
                Some((area.start.add(skip as usize), area.end))
            })
            .collect();
        let flush_before = self.tlb_flush;
        self.tlb_flush = false;
        for (start, end) in ranges {
            self.release_pages(start, end);
        }
        let unmapped = self.tlb_flush;
        self.tlb_flush |= flush_before;
        unmapped
    }

    /// Gives every present page of `area` the flags its protection calls for.
    fn refresh_leaves(&mut self, area: &Area) {
        self.table.update_leaves(&mut TableFrames(&mut self.frames), area.start, area.end, |memory, _, pa, flags| {
            let exclusive = memory.0.count(pa) == 1;
            LeafUpdate::Set(area.leaf_flags(exclusive, Access::mode_of(flags)))
        });
    }

    /// Where `mmap` without a hint would put `len` bytes (rounded up to pages) aligned
    /// to `align` (a power of two, at least a page), if there is room: for exec to place
    /// the program interpreter as Linux does.
    pub fn unmapped_area(&self, len: usize, align: usize) -> Option<VirtAddr> {
        let len = page_align(len)?;
        let align = align.max(PAGE_SIZE);
        let start = self.free_range(VirtAddr(0), len.checked_add(align - PAGE_SIZE)?)?;
        Some(start.align_up(align))
    }

    /// Sets the start of the heap (at exec: the end of the data segment, rounded up to
    /// a page); the break starts there too.
    pub fn set_brk_start(&mut self, va: VirtAddr) {
        let start = page_align(va.0).map_or(USER_END, VirtAddr).min(USER_END);
        self.brk_start = start;
        self.brk = start;
    }

    /// `brk` with Linux's rules: moves the break to `new` and returns it, or returns the
    /// current break unchanged if `new` is below the heap start (so `brk(0)` queries),
    /// beyond user space, or the heap would run into another mapping. Shrinking unmaps
    /// the pages given up; growing extends the heap area lazily.
    pub fn brk(&mut self, new: VirtAddr) -> VirtAddr {
        if new < self.brk_start || new > USER_END {
            return self.brk;
        }
        let old_top = self.brk.align_up(PAGE_SIZE);
        let new_top = new.align_up(PAGE_SIZE);
        if new_top < old_top {
            self.remove_range(new_top, old_top);
        } else if new_top > old_top {
            if self.overlaps(old_top, new_top) {
                return self.brk;
            }
            let heap = Area {
                start: old_top,
                end: new_top,
                prot: Prot::READ | Prot::WRITE,
                shared: false,
                kind: AreaKind::Heap,
                file: None,
            };
            self.areas.insert(old_top.0, heap);
            self.merge_range(old_top, new_top);
        }
        self.brk = new;
        new
    }

    /// `fork`: a copy of this space. Page tables are copied; private pages are shared
    /// copy-on-write (read-only in both spaces, one more reference); shared areas stay
    /// shared and writable (their untouched pages are allocated now, so that both
    /// spaces see the same frames). `ENOMEM` when out of frames.
    pub fn fork(&mut self) -> Result<Self>
    where
        F: Clone,
    {
        // Anonymous shared pages must exist before the copy so that both spaces hold the
        // same frames; shared file pages come from the file in either space anyway.
        let shared: Vec<Area> =
            self.areas.values().filter(|area| area.shared && area.file.is_none()).cloned().collect();
        for area in &shared {
            self.materialise(area.start, area.end).map_err(|_| Errno::ENOMEM)?;
        }
        let mut frames = self.frames.clone();
        let table = PageTable::new_user(&mut TableFrames(&mut frames), &self.table).map_err(|_| Errno::ENOMEM)?;
        let mut child = Self {
            frames,
            table,
            areas: self.areas.clone(),
            brk_start: self.brk_start,
            brk: self.brk,
            mmap_base: self.mmap_base,
            tlb_flush: false,
            pending_wait: None,
            file_pages: self.file_pages,
        };
        let mut failed = false;
        let mut memory = TableFrames(&mut self.frames);
        for area in self.areas.values() {
            self.table.update_leaves(&mut memory, area.start, area.end, |memory, va, pa, flags| {
                if failed {
                    return LeafUpdate::Keep;
                }
                let access = flags & Area::LEAF_ACCESS;
                let copy_on_write = !area.shared && access.contains(Flags::W);
                let new = if copy_on_write { access - Flags::W } else { access };
                if child.table.set_leaf(memory, va, pa, new).is_err() {
                    failed = true;
                    return LeafUpdate::Keep;
                }
                memory.0.share(pa);
                if copy_on_write {
                    LeafUpdate::Set(new)
                } else {
                    LeafUpdate::Keep
                }
            });
        }
        self.tlb_flush = true;
        if failed {
            return Err(Errno::ENOMEM); // dropping `child` gives back what it took
        }
        Ok(child)
    }

    /// Drops every user mapping (for `execve`): areas, pages, lower-half tables, heap.
    pub fn clear(&mut self) {
        self.release_pages(VirtAddr(0), USER_END);
        self.table.clear_user(&mut TableFrames(&mut self.frames));
        self.areas.clear();
        self.brk_start = VirtAddr(0);
        self.brk = VirtAddr(0);
        self.mmap_base = MMAP_BASE;
        self.tlb_flush = true;
    }

    /// Whether any area overlaps `[start, end)`.
    pub(super) fn overlaps(&self, start: VirtAddr, end: VirtAddr) -> bool {
        // The last area starting before `end` is the only candidate: areas are disjoint.
        self.areas.range(..end.0).next_back().is_some_and(|(_, area)| area.end > start)
    }

    /// Splits the area strictly containing `at` (if any) in two at `at`.
    fn split_at(&mut self, at: VirtAddr) {
        if let Some((_, area)) = self.areas.range_mut(..at.0).next_back() {
            if area.end > at {
                let mut upper = Area { start: at, ..area.clone() };
                if let Some(file) = &mut upper.file {
                    file.offset += (at.0 - area.start.0) as u64;
                }
                area.end = at;
                self.areas.insert(at.0, upper);
            }
        }
    }

    /// Merges mergeable neighbours among the areas touching `[start, end]`.
    pub(super) fn merge_range(&mut self, start: VirtAddr, end: VirtAddr) {
        let first = self.areas.range(..start.0).next_back().or_else(|| self.areas.range(start.0..).next());
        let Some((&first, _)) = first else { return };
        let mut key = first;
        while key <= end.0 {
            let Some((&next_key, next)) = self.areas.range(key + 1..).next() else { return };
            let next = next.clone();
            let current = self.areas.get_mut(&key).expect("the key was just found");
            if current.merges_with(&next) {
                current.end = next.end;
                self.areas.remove(&next_key);
            } else {
                key = next_key;
            }
        }
    }

    /// Removes `[start, end)` (page-aligned) from the areas and the page table, releasing
    /// the frames.
    pub(super) fn remove_range(&mut self, start: VirtAddr, end: VirtAddr) {
        self.split_at(start);
        self.split_at(end);
        while let Some((&key, _)) = self.areas.range(start.0..end.0).next() {
            self.areas.remove(&key);
        }
        self.release_pages(start, end);
    }

    /// Unmaps every page in `[start, end)` and releases its frame.
    fn release_pages(&mut self, start: VirtAddr, end: VirtAddr) {
        let mut released = false;
        self.table.update_leaves(&mut TableFrames(&mut self.frames), start, end, |memory, _, pa, _| {
            memory.0.release(pa);
            released = true;
            LeafUpdate::Remove
        });
        self.tlb_flush |= released;
    }

    /// A free page-aligned range of `len` bytes for `mmap` without `MAP_FIXED`.
    fn free_range(&self, hint: VirtAddr, len: usize) -> Option<VirtAddr> {
        if hint.0 != 0 {
            let hint = page_align(hint.0).map(VirtAddr)?.max(MMAP_MIN_ADDR);
            if hint.0 <= USER_END.0 - len && !self.overlaps(hint, hint.add(len)) {
                return Some(hint);
            }
        }
        // Top-down below the mmap base.
        let mut top = self.mmap_base.0;
        for area in self.areas.range(..top).rev().map(|(_, area)| area) {
            let bottom = area.end.0.max(MMAP_MIN_ADDR.0);
            if bottom < top && top - bottom >= len {
                return Some(VirtAddr(top - len));
            }
            top = top.min(area.start.0);
        }
        if top >= MMAP_MIN_ADDR.0 && top - MMAP_MIN_ADDR.0 >= len {
            return Some(VirtAddr(top - len));
        }
        // Then bottom-up above it.
        let mut bottom = self.mmap_base.0;
        for area in self.areas.values() {
            if area.end.0 <= bottom {
                continue;
            }
            if area.start.0 >= bottom && area.start.0 - bottom >= len {
                return Some(VirtAddr(bottom));
            }
            bottom = bottom.max(area.end.0);
        }
        (USER_END.0 - bottom >= len).then_some(VirtAddr(bottom))
    }
}

impl<F: PhysFrames> Drop for AddressSpace<F> {
    fn drop(&mut self) {
        self.release_pages(VirtAddr(0), USER_END);
        let mut memory = TableFrames(&mut self.frames);
        self.table.clear_user(&mut memory);
        memory.free_table_frame(self.table.root());
    }
}
