//! Memory system calls: brk, mmap (anonymous), munmap, mprotect, mremap, and the
//! advisory calls that only check their range.

use abi::mm as m;
use abi::{Errno, Result};
use mm::user::{MapFlags, Prot};
use mm::VirtAddr;

use crate::process::Thread;

pub fn brk(thread: &Thread, address: usize) -> Result<usize> {
    let space = thread.process.space();
    let mut space = space.lock();
    let result = space.brk(VirtAddr(address)).0;
    crate::process::run::flush_tlb_if_needed(&mut space);
    Ok(result)
}

fn protection(prot: u32) -> Result<Prot> {
    if prot & !(m::PROT_READ | m::PROT_WRITE | m::PROT_EXEC | m::PROT_GROWSDOWN | m::PROT_GROWSUP) != 0 {
        return Err(Errno::EINVAL);
    }
    let mut result = Prot::from_bits_truncate(prot & 7);
    // RISC-V has no write-only pages: writable implies readable, as on Linux.
    if result.contains(Prot::WRITE) {
        result |= Prot::READ;
    }
    Ok(result)
}

pub fn mmap(thread: &Thread, address: usize, length: usize, prot: u32, flags: u32, fd: i32, offset: usize) -> Result<usize> {
    let prot = protection(prot)?;
    if length == 0 || !offset.is_multiple_of(mm::PAGE_SIZE) {
        return Err(Errno::EINVAL);
    }
    if flags & m::MAP_ANONYMOUS == 0 {
        // File-backed mappings arrive with the page cache (dynamic linking).
        let _ = thread.process.files().lock().get(fd)?;
        return Err(Errno::ENODEV);
    }
    // Anonymous memory is either shared or private; MAP_SHARED_VALIDATE (both bits)
    // applies to files only, as on Linux.
    if flags & 3 != m::MAP_SHARED && flags & 3 != m::MAP_PRIVATE {
        return Err(Errno::EINVAL);
    }
    let flags = MapFlags::from_bits_truncate(flags);
    let mapped = thread.process.space().lock().map(VirtAddr(address), length, prot, flags)?;
    Ok(mapped.0)
}

pub fn munmap(thread: &Thread, address: usize, length: usize) -> Result<usize> {
    let space = thread.process.space();
    let mut space = space.lock();
    let result = space.unmap(VirtAddr(address), length);
    crate::process::run::flush_tlb_if_needed(&mut space);
    result.map(|()| 0)
}

pub fn mprotect(thread: &Thread, address: usize, length: usize, prot: u32) -> Result<usize> {
    if !address.is_multiple_of(mm::PAGE_SIZE) {
        return Err(Errno::EINVAL);
    }
    let prot = protection(prot)?;
    if length == 0 {
        return Ok(0);
    }
    let space = thread.process.space();
    let mut space = space.lock();
    let result = space.protect(VirtAddr(address), length, prot);
    crate::process::run::flush_tlb_if_needed(&mut space);
    result.map(|()| 0)
}

pub fn mremap(thread: &Thread, old: usize, old_size: usize, new_size: usize, flags: u32, _new_address: usize) -> Result<usize> {
    if !old.is_multiple_of(mm::PAGE_SIZE) || new_size == 0 || flags & !(m::MREMAP_MAYMOVE | m::MREMAP_FIXED | m::MREMAP_DONTUNMAP) != 0 {
        return Err(Errno::EINVAL);
    }
    let space = thread.process.space();
    let mut space = space.lock();
    let area = *space.area_at(VirtAddr(old)).ok_or(Errno::EFAULT)?;
    let old_size = (old_size + mm::PAGE_SIZE - 1) & !(mm::PAGE_SIZE - 1);
    let new_size = (new_size + mm::PAGE_SIZE - 1) & !(mm::PAGE_SIZE - 1);
    if new_size <= old_size {
        if new_size < old_size {
            space.unmap(VirtAddr(old + new_size), old_size - new_size)?;
            crate::process::run::flush_tlb_if_needed(&mut space);
        }
        return Ok(old);
    }
    // Grow in place if the pages after it are free, else move (copying the contents).
    let grow = MapFlags::PRIVATE | MapFlags::FIXED_NOREPLACE;
    if space.map(VirtAddr(old + old_size), new_size - old_size, area.prot, grow).is_ok() {
        return Ok(old);
    }
    if flags & m::MREMAP_MAYMOVE == 0 {
        return Err(Errno::ENOMEM);
    }
    let mut contents = alloc::vec![0u8; old_size];
    space.read(VirtAddr(old), &mut contents)?;
    let new = space.map(VirtAddr(0), new_size, area.prot | Prot::WRITE, MapFlags::PRIVATE)?;
    space.write(new, &contents)?;
    space.protect(new, new_size, area.prot)?;
    space.unmap(VirtAddr(old), old_size)?;
    crate::process::run::flush_tlb_if_needed(&mut space);
    Ok(new.0)
}

pub fn check_range(_thread: &Thread, address: usize, _length: usize) -> Result<usize> {
    if !address.is_multiple_of(mm::PAGE_SIZE) {
        return Err(Errno::EINVAL);
    }
    Ok(0)
}

/// madvise: advice is checked; MADV_DONTNEED/FREE drop private anonymous pages (they
/// read back as zeros); the rest is accepted as the hint it is.
pub fn madvise(thread: &Thread, address: usize, length: usize, advice: u32) -> Result<usize> {
    if !address.is_multiple_of(mm::PAGE_SIZE) {
        return Err(Errno::EINVAL);
    }
    let known = matches!(advice, 0..=4 | 8..=25 | m::MADV_HWPOISON);
    if !known {
        return Err(Errno::EINVAL);
    }
    if length == 0 {
        return Ok(0);
    }
    if matches!(advice, m::MADV_DONTNEED | m::MADV_FREE | m::MADV_DONTNEED_LOCKED) {
        let space = thread.process.space();
        let mut space = space.lock();
        let end = address.checked_add((length + mm::PAGE_SIZE - 1) & !(mm::PAGE_SIZE - 1)).ok_or(Errno::EINVAL)?;
        let mut at = address;
        while at < end {
            let Some(area) = space.area_at(VirtAddr(at)).copied() else {
                return Err(Errno::ENOMEM);
            };
            let piece_end = area.end.0.min(end);
            if !area.shared && matches!(area.kind, mm::user::AreaKind::Anonymous | mm::user::AreaKind::Heap | mm::user::AreaKind::Stack) {
                // Dropping the pages = unmapping and mapping the range again, empty.
                space.unmap(VirtAddr(at), piece_end - at)?;
                space.map_area(VirtAddr(at), piece_end - at, area.prot, MapFlags::PRIVATE | MapFlags::FIXED, area.kind)?;
            }
            at = piece_end;
        }
        crate::process::run::flush_tlb_if_needed(&mut space);
    }
    Ok(0)
}
