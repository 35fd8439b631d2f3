//! Page faults of user address spaces: demand-zero pages and copy-on-write.
//!
//! A fault either finds no area (`SEGV_MAPERR`), an area that forbids the access
//! (`SEGV_ACCERR`), or is resolved here: a missing page gets a zeroed frame; a write to
//! a copy-on-write page copies it if other spaces still share the frame, or just makes
//! it writable again if this space is the last user; and in a writable and executable
//! area a page switches between R+W and R+X (W^X) as writes and instruction fetches
//! alternate. A fault the entry already allows (another hart resolved it, or the TLB was
//! stale) is a success.
//!
//! File-backed areas get their pages from the file (the page cache): the space's
//! [`FilePages`] provider returns a counted reference to the file's page, or says it is
//! not ready yet ([`Fault::Wait`]: the kernel then awaits the page without holding the
//! space and installs it with [`AddressSpace::install_file_page`]). A `MAP_SHARED` area
//! maps the file's page itself; a private one maps it read-only and copies it on the
//! first write (or copies at once for a write fault on a missing page), exactly like
//! copy-on-write after `fork`. A page wholly past the end of the file is [`Fault::Bus`].

use core::any::Any;
use core::task::Poll;

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
    /// A file page past the end of the file (or unreadable): `SIGBUS`.
    Bus,
    /// The file page is not ready: await it ([`AddressSpace::file_page_request`]) and
    /// install it ([`AddressSpace::install_file_page`]), then retry.
    Wait,
}

/// The provider of file pages: page `index` of `file` (the handle of a
/// [`FileBacking`](super::FileBacking)) as one counted reference in `frames`, now the
/// caller's; `Pending` if it must be awaited, `Err(Fault::Bus)` past the end of the file.
pub type FilePages<F> = fn(&(dyn Any + Send + Sync), u64, &mut F) -> Poll<Result<PhysAddr, Fault>>;

/// The default provider: no file system, every file page is a bus error.
pub(super) fn no_file_pages<F>(_: &(dyn Any + Send + Sync), _: u64, _: &mut F) -> Poll<Result<PhysAddr, Fault>> {
    Poll::Ready(Err(Fault::Bus))
}

impl<F: PhysFrames> AddressSpace<F> {
    /// Resolves a fault of user code at `va` for `access`.
    pub fn handle_fault(&mut self, va: VirtAddr, access: Access) -> Result<(), Fault> {
        let area = self.area_at(va).ok_or(Fault::MapErr)?;
        if !area.permits(access) {
            return Err(Fault::AccErr);
        }
        let area = area.clone();
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
        if let Some((pa, _)) = self.table.entry(&ReadTables(&self.frames), page) {
            return Ok(pa);
        }
        if let (Some(backing), Some(index)) = (&area.file, area.file_page(page)) {
            let file = backing.file.clone();
            return match (self.file_pages)(&*file, index, &mut self.frames) {
                Poll::Ready(Ok(pa)) => self.map_file_page(page, area, mode, pa),
                Poll::Ready(Err(fault)) => Err(fault),
                Poll::Pending => Err(Fault::Wait),
            };
        }
        let mut memory = TableFrames(&mut self.frames);
        let pa = memory.0.alloc_zeroed().ok_or(Fault::OutOfMemory)?;
        if self.table.set_leaf(&mut memory, page, pa, area.leaf_flags(true, mode)).is_err() {
            memory.0.release(pa);
            return Err(Fault::OutOfMemory);
        }
        Ok(pa)
    }

    /// Maps the file page `pa` (one counted reference, which this consumes) at the
    /// missing `page` of the file-backed `area` for `mode`: shared areas map it as it is;
    /// private ones map it read-only (copy-on-write) unless this is its only reference
    /// (a private copy the provider made), and a write gets its own copy at once.
    fn map_file_page(&mut self, page: VirtAddr, area: &Area, mode: Access, pa: PhysAddr) -> Result<PhysAddr, Fault> {
        let (frame, flags) = if !area.shared && mode == Access::Write && self.frames.count(pa) > 1 {
            let Some(copy) = self.frames.alloc_zeroed() else {
                self.frames.release(pa);
                return Err(Fault::OutOfMemory);
            };
            // SAFETY: both frames are in use (`pa` through the reference we hold, `copy`
            // just allocated and ours alone), so `ptr` reaches 4 KiB of each.
            unsafe { core::ptr::copy_nonoverlapping(self.frames.ptr(pa), self.frames.ptr(copy), PAGE_SIZE) };
            self.frames.release(pa);
            (copy, area.leaf_flags(true, mode))
        } else {
            let exclusive = self.frames.count(pa) == 1;
            (pa, area.leaf_flags(exclusive, mode))
        };
        let mut memory = TableFrames(&mut self.frames);
        if self.table.set_leaf(&mut memory, page, frame, flags).is_err() {
            memory.0.release(frame);
            return Err(Fault::OutOfMemory);
        }
        Ok(frame)
    }

    /// What a [`Fault::Wait`] at `va` waits for: the file handle and page index, to be
    /// awaited outside the space's lock. `None` if `va` is no longer file-backed.
    pub fn file_page_request(&self, va: VirtAddr) -> Option<(alloc::sync::Arc<dyn Any + Send + Sync>, u64)> {
        let area = self.area_at(va)?;
        Some((area.file.as_ref()?.file.clone(), area.file_page(va)?))
    }

    /// Installs file page `pa` (one counted reference, consumed) that was awaited for a
    /// fault at `va` for `access`, if `va` still maps page `index` of `file` and has no
    /// page yet; otherwise the reference is just released (the caller retries the
    /// access, which faults again if still needed).
    pub fn install_file_page(
        &mut self,
        va: VirtAddr,
        access: Access,
        file: &(dyn Any + Send + Sync),
        index: u64,
        pa: PhysAddr,
    ) -> Result<(), Fault> {
        let page = va.align_down(PAGE_SIZE);
        let current = self.area_at(va).filter(|area| {
            area.permits(access)
                && area.file.as_ref().is_some_and(|backing| core::ptr::addr_eq(&*backing.file, file))
                && area.file_page(va) == Some(index)
        });
        let Some(area) = current.cloned() else {
            self.frames.release(pa);
            return Ok(());
        };
        if self.table.entry(&ReadTables(&self.frames), page).is_some() {
            self.frames.release(pa);
            return Ok(());
        }
        self.map_file_page(page, &area, access, pa).map(drop)
    }

    /// Allocates every missing page of `[start, end)`, which one area covers, for its
    /// protection (the first access it allows, or none: an inaccessible page).
    pub(super) fn materialise(&mut self, start: VirtAddr, end: VirtAddr) -> Result<(), Fault> {
        let area = self.area_at(start).ok_or(Fault::MapErr)?.clone();
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
