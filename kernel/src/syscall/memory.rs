//! Memory system calls: brk, mmap (anonymous and of files), munmap, mprotect, mremap,
//! msync, and the advisory calls that only check their range.
//!
//! A file mapping maps the file's own pages (see `process::file_pages`): `MAP_SHARED`
//! needs a file system with pages (tmpfs, ext4), else `ENODEV` as Linux says for files
//! without an mmap operation; `MAP_PRIVATE` of any regular file works. `/dev/zero` maps
//! as anonymous memory, as on Linux. Pages are the page cache itself, so `msync` has
//! nothing to write back on tmpfs; on ext4 `MS_SYNC` writes the file's dirty pages back
//! and syncs it, as `fsync` does (`MS_ASYNC` does nothing, as on Linux since 2.6.19).

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
        let file = thread.process.files().lock().get(fd)?;
        if file.flags().contains(vfs::OpenFlags::PATH) {
            return Err(Errno::EBADF);
        }
        if vfs::downcast_ref::<vfs::ZeroDevice>(&**file.io()).is_none() {
            return map_file(thread, &file, address, length, prot, flags, offset);
        }
        // /dev/zero: anonymous memory (shared or private), as on Linux.
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

/// `mmap` of an open file (not `/dev/zero`), after the offset check.
fn map_file(
    thread: &Thread,
    file: &vfs::OpenFile,
    address: usize,
    length: usize,
    prot: Prot,
    flags: u32,
    offset: usize,
) -> Result<usize> {
    let open = file.flags();
    let shared = match flags & m::MAP_TYPE {
        m::MAP_SHARED => true,
        m::MAP_SHARED_VALIDATE => {
            const KNOWN: u32 = m::MAP_SHARED_VALIDATE
                | m::MAP_FIXED
                | m::MAP_ANONYMOUS
                | m::MAP_DENYWRITE
                | m::MAP_EXECUTABLE
                | m::MAP_GROWSDOWN
                | m::MAP_LOCKED
                | m::MAP_NORESERVE
                | m::MAP_POPULATE
                | m::MAP_NONBLOCK
                | m::MAP_STACK
                | m::MAP_HUGETLB
                | m::MAP_SYNC
                | m::MAP_FIXED_NOREPLACE
                | (m::MAP_HUGE_MASK << m::MAP_HUGE_SHIFT);
            if flags & !KNOWN != 0 {
                return Err(Errno::EOPNOTSUPP);
            }
            true
        }
        m::MAP_PRIVATE => false,
        _ => return Err(Errno::EINVAL),
    };
    if (length as u64).div_ceil(mm::PAGE_SIZE as u64) > u64::MAX / mm::PAGE_SIZE as u64 - offset as u64 / mm::PAGE_SIZE as u64 {
        return Err(Errno::EOVERFLOW);
    }
    if shared && prot.contains(Prot::WRITE) && !open.writable() {
        return Err(Errno::EACCES);
    }
    if !open.readable() {
        return Err(Errno::EACCES);
    }
    let inode = file.io();
    if inode.kind() != vfs::FileType::Regular || shared && !inode.has_pages() {
        return Err(Errno::ENODEV);
    }
    // A disk file's path (for /proc/PID/maps) is found by looking names up: on a stack.
    if crate::fs::ext4::is_disk_inode(inode) && !crate::coroutine::on_stack() {
        return Err(Errno::ERESTART_ON_STACK);
    }
    let path = file.location().and_then(|location| location.path().ok()).unwrap_or_default();
    let backing = crate::process::file_pages::backing(inode.clone(), path, offset as u64, shared);
    let mut map_flags = MapFlags::from_bits_truncate(flags) - MapFlags::PRIVATE - MapFlags::SHARED;
    map_flags |= if shared { MapFlags::SHARED } else { MapFlags::PRIVATE };
    let space = thread.process.space();
    let mut space = space.lock();
    let mapped = space.map_file(VirtAddr(address), length, prot, map_flags, mm::user::AreaKind::Anonymous, backing)?;
    crate::process::run::flush_tlb_if_needed(&mut space);
    Ok(mapped.0)
}

/// msync: the flags and the range are checked as Linux does (`ENOMEM` for an unmapped
/// hole); with `MS_SYNC`, every ext4 file mapped shared in the range is written back and
/// synced (on a coroutine stack: `ERESTART_ON_STACK` moves the call there).
pub fn msync(thread: &Thread, address: usize, length: usize, flags: u32) -> Result<usize> {
    if flags & !(m::MS_ASYNC | m::MS_INVALIDATE | m::MS_SYNC) != 0
        || !address.is_multiple_of(mm::PAGE_SIZE)
        || flags & m::MS_ASYNC != 0 && flags & m::MS_SYNC != 0
    {
        return Err(Errno::EINVAL);
    }
    let length = length.checked_add(mm::PAGE_SIZE - 1).ok_or(Errno::ENOMEM)? & !(mm::PAGE_SIZE - 1);
    let end = address.checked_add(length).ok_or(Errno::ENOMEM)?;
    let mut files: alloc::vec::Vec<alloc::sync::Arc<dyn vfs::Inode>> = alloc::vec::Vec::new();
    {
        let space = thread.process.space();
        let space = space.lock();
        let mut at = address;
        while at < end {
            let area = space.area_at(VirtAddr(at)).ok_or(Errno::ENOMEM)?;
            let mapped = area.file.as_ref().and_then(|backing| backing.file.downcast_ref::<crate::process::file_pages::MappedFile>());
            if let Some(mapped) = mapped.filter(|_| area.shared) {
                if crate::fs::ext4::is_disk_inode(&mapped.inode) && !files.iter().any(|file| alloc::sync::Arc::ptr_eq(file, &mapped.inode)) {
                    files.push(mapped.inode.clone());
                }
            }
            at = area.end.0;
        }
    }
    if flags & m::MS_SYNC != 0 {
        for file in &files {
            crate::fs::ext4::sync_inode(file)?;
        }
    }
    Ok(0)
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
    let area = space.area_at(VirtAddr(old)).ok_or(Errno::EFAULT)?.clone();
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
    // A file mapping grows or moves as a mapping of the same file at the same offset.
    let share = if area.shared { MapFlags::SHARED } else { MapFlags::PRIVATE };
    let map = |space: &mut crate::process::UserSpace, at: usize, skip: usize, len: usize, prot: Prot, flags: MapFlags| match &area.file {
        Some(file) => {
            let mut backing = file.clone();
            backing.offset += (old - area.start.0 + skip) as u64;
            space.map_file(VirtAddr(at), len, prot, flags | share, area.kind, backing)
        }
        None => space.map_area(VirtAddr(at), len, prot, flags | share, area.kind),
    };
    if map(&mut space, old + old_size, old_size, new_size - old_size, area.prot, MapFlags::FIXED_NOREPLACE).is_ok() {
        return Ok(old);
    }
    if flags & m::MREMAP_MAYMOVE == 0 {
        return Err(Errno::ENOMEM);
    }
    let new = map(&mut space, 0, 0, new_size, area.prot | Prot::WRITE, MapFlags::empty())?;
    if !area.shared || area.file.is_none() {
        // Private memory keeps what was written to it, and anonymous shared memory
        // moves by copy here; a shared file mapping is the file's pages anyway.
        let mut contents = alloc::vec![0u8; old_size];
        space.read(VirtAddr(old), &mut contents)?;
        space.write(new, &contents)?;
    }
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
            let Some(area) = space.area_at(VirtAddr(at)).cloned() else {
                return Err(Errno::ENOMEM);
            };
            let piece_end = area.end.0.min(end);
            if !area.shared {
                // Dropping the pages = unmapping and mapping the range again, empty (a
                // private file mapping reads the file again).
                space.unmap(VirtAddr(at), piece_end - at)?;
                let flags = MapFlags::PRIVATE | MapFlags::FIXED;
                match &area.file {
                    Some(file) => {
                        let mut backing = file.clone();
                        backing.offset += (at - area.start.0) as u64;
                        space.map_file(VirtAddr(at), piece_end - at, area.prot, flags, area.kind, backing)?;
                    }
                    None => {
                        space.map_area(VirtAddr(at), piece_end - at, area.prot, flags, area.kind)?;
                    }
                }
            }
            at = piece_end;
        }
        crate::process::run::flush_tlb_if_needed(&mut space);
    }
    Ok(0)
}

/// fadvise64: advice about a file's pages, checked as Linux checks it (`EBADF`,
/// `ESPIPE` for pipes and FIFOs, `EINVAL` for unknown advice or a negative length) and
/// then taken as the hint it is (tmpfs pages are always resident).
pub fn fadvise64(thread: &Thread, fd: i32, length: i64, advice: u32) -> Result<usize> {
    let file = thread.process.files().lock().get(fd)?;
    if file.flags().contains(vfs::OpenFlags::PATH) {
        return Err(Errno::EBADF);
    }
    if file.io().kind() == vfs::FileType::Fifo || file.inode().kind() == vfs::FileType::Fifo {
        return Err(Errno::ESPIPE);
    }
    if advice > 5 || length < 0 {
        return Err(Errno::EINVAL);
    }
    Ok(0)
}
