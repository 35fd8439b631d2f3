//! Page faults of user address spaces: demand-zero pages and copy-on-write.
//!
//! A fault either finds no area (`SEGV_MAPERR`), an area that forbids the access
//! (`SEGV_ACCERR`), or is resolved here: a missing page gets a zeroed frame; a write to
//! a copy-on-write page copies it if other spaces still share the frame, or just makes
//! it writable again if this space is the last user; and in a writable and executable
//! area a page switches between R+W and R+X (W^X) as writes and instruction fetches
//! alternate. A fault the entry already allows (another hart resolved it, or the TLB was
//! stale) is a success.

use super::area::{Access, Area};
use super::space::AddressSpace;
use crate::refcount::{PhysFrames, ReadTables, TableFrames};
use crate::{PhysAddr, VirtAddr, PAGE_SIZE};

/// Why a fault could not be resolved.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// No area there: `SIGSEGV` with `SEGV_MAPERR`.
    MapErr,
    /// The area forbids the access: `SIGSEGV` with `SEGV_ACCERR`.
    AccErr,
    /// No frame for the page (or for a page table).
    OutOfMemory,
}

impl<F: PhysFrames> AddressSpace<F> {
    /// Resolves a fault of user code at `va` for `access`.
    pub fn handle_fault(&mut self, va: VirtAddr, access: Access) -> Result<(), Fault> {
        let area = *self.area_at(va).ok_or(Fault::MapErr)?;
        if !area.permits(access) {
            return Err(Fault::AccErr);
        }
        let page = va.align_down(PAGE_SIZE);
        let Some((pa, flags)) = self.table.entry(&ReadTables(&self.frames), page) else {
            self.fill_page(page, &area, access)?;
            return Ok(());
        };
        if access.allowed_by(flags) {
            return Ok(());
        }
        let exclusive = self.frames.count(pa) == 1;
        if access == Access::Write && !area.shared && !exclusive {
            return self.copy_on_write(page, pa, &area);
        }
        let new = area.leaf_flags(exclusive, access);
        let mut memory = TableFrames(&mut self.frames);
        self.table.update_flags(&mut memory, page, new).expect("flags of a present page");
        // Switching a page from W to X (or back) takes a permission away.
        self.tlb_flush |= !new.contains(flags & Area::LEAF_ACCESS);
        Ok(())
    }

    /// Gives this space its own copy of the shared frame `pa` mapped at `page`.
    fn copy_on_write(&mut self, page: VirtAddr, pa: PhysAddr, area: &Area) -> Result<(), Fault> {
        let copy = self.frames.alloc_zeroed().ok_or(Fault::OutOfMemory)?;
        // SAFETY: both frames are in use (`pa` by this space, `copy` just allocated and
        // ours alone), so `ptr` reaches 4 KiB of each, and they are distinct.
        unsafe { core::ptr::copy_nonoverlapping(self.frames.ptr(pa), self.frames.ptr(copy), PAGE_SIZE) };
        let mut memory = TableFrames(&mut self.frames);
        // The tables down to `page` exist (it is mapped), so this allocates nothing.
        self.table.set_leaf(&mut memory, page, copy, area.leaf_flags(true, Access::Write)).expect("a mapped page");
        memory.0.release(pa);
        self.tlb_flush = true;
        Ok(())
    }

    /// The frame at `page` (of `area`), allocating and mapping a zeroed one if there is
    /// none; `mode` is the access it is for (see [`Area::leaf_flags`]). No permission
    /// check: the kernel fills read-only pages too.
    pub(super) fn fill_page(&mut self, page: VirtAddr, area: &Area, mode: Access) -> Result<PhysAddr, Fault> {
        let mut memory = TableFrames(&mut self.frames);
        if let Some((pa, _)) = self.table.entry(&memory, page) {
            return Ok(pa);
        }
        let pa = memory.0.alloc_zeroed().ok_or(Fault::OutOfMemory)?;
        if self.table.set_leaf(&mut memory, page, pa, area.leaf_flags(true, mode)).is_err() {
            memory.0.release(pa);
            return Err(Fault::OutOfMemory);
        }
        Ok(pa)
    }

    /// Allocates every missing page of `[start, end)`, which one area covers, for its
    /// protection (the first access it allows, or none: an inaccessible page).
    pub(super) fn materialise(&mut self, start: VirtAddr, end: VirtAddr) -> Result<(), Fault> {
        let area = *self.area_at(start).ok_or(Fault::MapErr)?;
        debug_assert!(end <= area.end);
        let mode = [Access::Write, Access::Read, Access::Execute]
            .into_iter()
            .find(|&access| area.permits(access))
            .unwrap_or(Access::Read);
        let mut page = start.align_down(PAGE_SIZE);
        while page < end {
            self.fill_page(page, &area, mode)?;
            page = page.add(PAGE_SIZE);
        }
        Ok(())
    }
}
