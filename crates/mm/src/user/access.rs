//! Kernel access to user memory, and the loader's way of filling it.
//!
//! Every access goes through the page table in software: each page is looked up (and
//! faulted in as user code would fault it: reading an untouched page allocates it,
//! writing a copy-on-write page copies it) and then reached through the frame pool's
//! pointer, never through the user's address. A page user code could not access the
//! same way is `EFAULT`, so a bad user pointer is an error, never a kernel fault.
//!
//! The loader ([`AddressSpace::map_bytes`]) writes through the same path but without the
//! permission check, since it fills read-only and executable segments.

use alloc::vec::Vec;

use abi::{Errno, Result};

use super::area::{Access, Area, AreaKind, Prot};
use super::fault::Fault;
use super::layout::USER_END;
use super::space::{page_align, AddressSpace};
use crate::refcount::{PhysFrames, ReadTables};
use crate::{PhysAddr, VirtAddr, PAGE_SIZE};

impl<F: PhysFrames> AddressSpace<F> {
    /// The frame of the page holding `va`, faulted in for `access`; `EFAULT` if user
    /// code could not make that access.
    fn user_frame(&mut self, va: VirtAddr, access: Access) -> Result<PhysAddr> {
        let page = va.align_down(PAGE_SIZE);
        let lookup = |space: &Self| {
            space.table.entry(&ReadTables(&space.frames), page).filter(|&(_, flags)| access.allowed_by(flags))
        };
        if let Some((pa, _)) = lookup(self) {
            return Ok(pa);
        }
        if let Err(fault) = self.handle_fault(page, access) {
            if fault == Fault::Wait {
                // A file page still being read: the caller waits for it without the
                // space's lock (see `take_pending_wait`) and tries again.
                self.pending_wait = Some(page);
                return Err(Errno::ERESTART_ON_STACK);
            }
            return Err(Errno::EFAULT);
        }
        lookup(self).map(|(pa, _)| pa).ok_or(Errno::EFAULT)
    }

    /// Calls `copy(frame pointer at va, offset into the buffer, length)` for each
    /// page-sized piece of `[va, va + len)`, faulting pages in for `access`.
    fn for_each_piece(
        &mut self,
        va: VirtAddr,
        len: usize,
        access: Access,
        mut copy: impl FnMut(*mut u8, usize, usize),
    ) -> Result<()> {
        if va.0.checked_add(len).is_none_or(|end| end > USER_END.0) {
            return Err(Errno::EFAULT);
        }
        let mut done = 0;
        while done < len {
            let at = va.add(done);
            let offset = at.0 % PAGE_SIZE;
            let piece = (PAGE_SIZE - offset).min(len - done);
            let frame = self.user_frame(at, access)?;
            copy(self.frames.ptr(frame).wrapping_add(offset), done, piece);
            done += piece;
        }
        Ok(())
    }

    /// Copies `buf.len()` bytes from user address `va`. `EFAULT` if any byte is not
    /// readable (bytes before it may have been copied).
    pub fn read(&mut self, va: VirtAddr, buf: &mut [u8]) -> Result<()> {
        let target = buf.as_mut_ptr();
        self.for_each_piece(va, buf.len(), Access::Read, |frame, done, piece| {
            // SAFETY: `frame` points at `piece` bytes inside one in-use frame of this
            // space (`ptr` reaches all 4 KiB of it), `target + done` at `piece` bytes of
            // `buf`; kernel buffers and frames never overlap.
            unsafe { core::ptr::copy_nonoverlapping(frame, target.add(done), piece) };
        })
    }

    /// Copies `data` to user address `va`, breaking copy-on-write as needed. `EFAULT`
    /// if any byte is not writable (bytes before it may have been written).
    pub fn write(&mut self, va: VirtAddr, data: &[u8]) -> Result<()> {
        self.for_each_piece(va, data.len(), Access::Write, |frame, done, piece| {
            // SAFETY: as in `read`, the other way round; the frame is writable by this
            // space alone or shared on purpose (a shared area).
            unsafe { core::ptr::copy_nonoverlapping(data.as_ptr().add(done), frame, piece) };
        })
    }

    /// Zeroes `len` bytes at user address `va` (as `write` of zeros).
    pub fn zero(&mut self, va: VirtAddr, len: usize) -> Result<()> {
        self.for_each_piece(va, len, Access::Write, |frame, _, piece| {
            // SAFETY: as in `write`.
            unsafe { frame.write_bytes(0, piece) };
        })
    }

    /// Reads a NUL-terminated string at `va`, without the NUL, looking at no more than
    /// `max_len` bytes (the NUL included) and at no page past the NUL. A result of
    /// exactly `max_len` bytes means no NUL was found: too long (the caller's error,
    /// e.g. `ENAMETOOLONG` with `max_len` = `PATH_MAX`). `EFAULT` if a byte before the
    /// NUL is not readable.
    pub fn read_cstring(&mut self, va: VirtAddr, max_len: usize) -> Result<Vec<u8>> {
        let mut string = Vec::new();
        while string.len() < max_len {
            let at = va.0.checked_add(string.len()).map(VirtAddr).ok_or(Errno::EFAULT)?;
            if at >= USER_END {
                return Err(Errno::EFAULT);
            }
            let offset = at.0 % PAGE_SIZE;
            let piece = (PAGE_SIZE - offset).min(max_len - string.len());
            let frame = self.user_frame(at, Access::Read)?;
            // SAFETY: `piece` bytes at `offset` lie inside one in-use frame of this space.
            let bytes = unsafe { core::slice::from_raw_parts(self.frames.ptr(frame).add(offset), piece) };
            if let Some(nul) = bytes.iter().position(|&byte| byte == 0) {
                string.extend_from_slice(&bytes[..nul]);
                return Ok(string);
            }
            string.extend_from_slice(bytes);
        }
        Ok(string)
    }

    /// Faults in every page of `[va, va + len)` for `access`, as a copy would, without
    /// copying: `ERESTART_ON_STACK` (with `take_pending_wait` set) at a file page still
    /// being read, `EFAULT` at a page user code could not access that way. Lets a
    /// caller that cannot undo its side effects (a pipe read) wait for file pages first.
    pub fn fault_in(&mut self, va: VirtAddr, len: usize, access: Access) -> Result<()> {
        self.for_each_piece(va, len, access, |_, _, _| {})
    }

    /// Allocates every page of `[start, start + len)` now, as user code would fault it
    /// (writable private pages get their own copy). `ENOMEM` if part of the range is
    /// not mapped or memory runs out. Pages the area forbids all access to are skipped.
    pub fn populate(&mut self, start: VirtAddr, len: usize) -> Result<()> {
        let end = page_align(len)
            .and_then(|len| start.0.checked_add(len))
            .filter(|&end| end <= USER_END.0)
            .ok_or(Errno::ENOMEM)?;
        let mut page = start.align_down(PAGE_SIZE);
        while page.0 < end {
            let area = self.area_at(page).ok_or(Errno::ENOMEM)?.clone();
            let access = [Access::Write, Access::Read, Access::Execute].into_iter().find(|&a| area.permits(a));
            if let Some(access) = access {
                self.handle_fault(page, access).map_err(|_| Errno::ENOMEM)?;
            }
            page = page.add(PAGE_SIZE);
        }
        Ok(())
    }

    /// The physical address behind user address `va` of a *shared* area (faulted in
    /// for reading), for keys that must be the same in every process mapping the page
    /// (shared futexes). `None` for private memory; `EFAULT` if `va` is not readable.
    pub fn shared_physical_address(&mut self, va: VirtAddr) -> Result<Option<PhysAddr>> {
        let area = self.area_at(va).ok_or(Errno::EFAULT)?;
        if !area.shared {
            return Ok(None);
        }
        let frame = self.user_frame(va, Access::Read)?;
        Ok(Some(frame.add(va.0 % PAGE_SIZE)))
    }

    /// Writes `data` at `va` into already mapped areas whatever their protection (the
    /// kernel filling a program image it just mapped, e.g. read-only text). Pages are
    /// allocated as needed. `EFAULT` if part of the range has no area.
    pub fn fill(&mut self, va: VirtAddr, data: &[u8]) -> Result<()> {
        let mut done = 0;
        while done < data.len() {
            let at = va.add(done);
            let offset = at.0 % PAGE_SIZE;
            let piece = (PAGE_SIZE - offset).min(data.len() - done);
            let area = self.area_at(at).ok_or(Errno::EFAULT)?.clone();
            let frame = self.fill_page(at.align_down(PAGE_SIZE), &area, Access::Read).map_err(|_| Errno::ENOMEM)?;
            if self.frames.count(frame) > 1 {
                return Err(Errno::EFAULT); // shared (copy-on-write) frames are not the kernel's to fill
            }
            // SAFETY: `piece` bytes at `offset` lie inside a frame of this space that no
            // other space shares (checked just above).
            unsafe {
                core::ptr::copy_nonoverlapping(data.as_ptr().add(done), self.frames.ptr(frame).add(offset), piece)
            };
            done += piece;
        }
        Ok(())
    }

    /// Maps a private area over `[va, va + mem_len)` (rounded out to pages, replacing
    /// what is there, as `MAP_FIXED`) whose first `data.len()` bytes are `data` and the
    /// rest zero: an ELF segment with its file part and its `.bss`, or the initial
    /// stack. The pages holding `data` are allocated and filled now, whatever `prot`
    /// says; the zero-filled rest comes lazily. `EINVAL` if `data` is longer than
    /// `mem_len`, `ENOMEM` if the range leaves user space or memory runs out.
    pub fn map_bytes(&mut self, va: VirtAddr, data: &[u8], mem_len: usize, prot: Prot, kind: AreaKind) -> Result<()> {
        if data.len() > mem_len {
            return Err(Errno::EINVAL);
        }
        if mem_len == 0 {
            return Ok(());
        }
        let start = va.align_down(PAGE_SIZE);
        let end =
            va.0.checked_add(mem_len)
                .and_then(page_align)
                .filter(|&end| end <= USER_END.0)
                .map(VirtAddr)
                .ok_or(Errno::ENOMEM)?;
        self.remove_range(start, end);
        let area = Area { start, end, prot, shared: false, kind, file: None };
        self.areas.insert(start.0, area.clone());
        self.merge_range(start, end);
        let mut done = 0;
        while done < data.len() {
            let at = va.add(done);
            let offset = at.0 % PAGE_SIZE;
            let piece = (PAGE_SIZE - offset).min(data.len() - done);
            let frame = self.fill_page(at.align_down(PAGE_SIZE), &area, Access::Read).map_err(|_| Errno::ENOMEM)?;
            // SAFETY: `piece` bytes at `offset` lie inside a frame of this space that no
            // other space shares (it was just allocated, the range having been emptied).
            unsafe {
                core::ptr::copy_nonoverlapping(data.as_ptr().add(done), self.frames.ptr(frame).add(offset), piece)
            };
            done += piece;
        }
        Ok(())
    }
}
