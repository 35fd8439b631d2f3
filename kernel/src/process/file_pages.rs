//! File pages for user mappings: the glue between `mm`'s file-backed areas and the
//! file systems' pages (`vfs::Inode::poll_page`).
//!
//! A file-backed area holds a [`MappedFile`] (the inode, plus the name, device and inode
//! number `/proc/PID/maps` prints) as its opaque handle. On a fault `mm` asks
//! [`file_pages`] for page `index`: the inode's own page (a counted frame: tmpfs file
//! data lives in frames of the same pool, so the counted reference *is* a frame
//! reference), or, from a file system without pages, a private frame filled with
//! `poll_read_at` (right for `MAP_PRIVATE`; `mmap` refuses `MAP_SHARED` of such files).
//! Under the address-space lock the inode is polled once with a no-op waker; if the page
//! is not ready (a disk file system reading it in) the fault path releases the lock and
//! awaits [`wait_file_page`], then installs the page (`AddressSpace::install_file_page`).

use alloc::format;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::any::Any;
use core::task::{Context, Poll, Waker};

use abi::Errno;
use arch::layout::virt_to_phys;
use mm::user::{Area, Fault, FileBacking, Prot};
use mm::{PhysAddr, PhysFrames, PAGE_SIZE};
use vfs::Inode;

use crate::memory::KernelFrames;

/// The file behind a file-backed area.
pub struct MappedFile {
    /// The inode whose pages are mapped.
    pub inode: Arc<dyn Inode>,
    /// Its path when mapped (for `/proc/PID/maps`).
    pub path: Vec<u8>,
    /// Device number of its file system.
    pub dev: u64,
    /// Inode number.
    pub ino: u64,
    /// Whether the area is a shared mapping (its stores reach the file's pages).
    pub shared: bool,
}

/// The backing of an area mapping `inode` (found at `path`) from byte `offset`,
/// `shared` or private.
pub fn backing(inode: Arc<dyn Inode>, path: Vec<u8>, offset: u64, shared: bool) -> FileBacking {
    let metadata = inode.metadata();
    let file = MappedFile { inode, path, dev: metadata.dev, ino: metadata.ino, shared };
    FileBacking { file: Arc::new(file), offset }
}

/// The [`mm::user::FilePages`] provider of every user address space: one poll.
pub fn file_pages(file: &(dyn Any + Send + Sync), index: u64, _frames: &mut KernelFrames) -> Poll<Result<PhysAddr, Fault>> {
    poll_file_page(file, index, &mut Context::from_waker(Waker::noop()))
}

/// Awaits page `index` of `file` (a [`Fault::Wait`]), without any lock held.
pub async fn wait_file_page(file: Arc<dyn Any + Send + Sync>, index: u64) -> Result<PhysAddr, Fault> {
    core::future::poll_fn(|cx| poll_file_page(&*file, index, cx)).await
}

fn poll_file_page(file: &(dyn Any + Send + Sync), index: u64, cx: &mut Context<'_>) -> Poll<Result<PhysAddr, Fault>> {
    let Some(mapped) = file.downcast_ref::<MappedFile>() else {
        return Poll::Ready(Err(Fault::Bus));
    };
    match mapped.inode.poll_page(cx, index) {
        Poll::Ready(Ok(page)) => {
            if mapped.shared {
                crate::fs::ext4::note_shared_page(&*mapped.inode, index);
            }
            Poll::Ready(Ok(PhysAddr(virt_to_phys(page.into_raw().as_ptr() as usize))))
        }
        Poll::Ready(Err(Errno::ENODEV)) => read_into_private_frame(&*mapped.inode, index, cx),
        Poll::Ready(Err(_)) => Poll::Ready(Err(Fault::Bus)),
        Poll::Pending => Poll::Pending,
    }
}

/// A file system without pages: a frame of our own holding the bytes (zeros past the
/// end of the file); a page wholly past the end is a bus error.
fn read_into_private_frame(inode: &dyn Inode, index: u64, cx: &mut Context<'_>) -> Poll<Result<PhysAddr, Fault>> {
    let mut frames = KernelFrames;
    let Some(frame) = frames.alloc_zeroed() else { return Poll::Ready(Err(Fault::OutOfMemory)) };
    // SAFETY: the frame was just allocated and is ours alone; `ptr` reaches its 4 KiB.
    let bytes = unsafe { core::slice::from_raw_parts_mut(frames.ptr(frame), PAGE_SIZE) };
    let offset = index * PAGE_SIZE as u64;
    let mut done = 0;
    while done < PAGE_SIZE {
        match inode.poll_read_at(cx, offset + done as u64, &mut bytes[done..]) {
            Poll::Ready(Ok(0)) => break,
            Poll::Ready(Ok(count)) => done += count,
            Poll::Ready(Err(_)) => break,
            Poll::Pending => {
                frames.release(frame);
                return Poll::Pending;
            }
        }
    }
    if done == 0 && inode.kind() == vfs::FileType::Regular {
        frames.release(frame);
        return Poll::Ready(Err(Fault::Bus));
    }
    Poll::Ready(Ok(frame))
}

/// After file (`dev`, `ino`) shrank to `size`: every address space loses its mappings
/// of the file's pages from `size` rounded up to a page on (private copies too), so the
/// next touch faults and raises SIGBUS past the end, as Linux's `truncate_pagecache`
/// does. Call after the file system truncated (and dropped those pages).
pub fn unmap_past_end(dev: u64, ino: u64, size: u64) {
    let first = size.div_ceil(PAGE_SIZE as u64);
    let is_file = |file: &(dyn Any + Send + Sync)| file.downcast_ref::<MappedFile>().is_some_and(|mapped| mapped.dev == dev && mapped.ino == ino);
    for process in super::all_processes() {
        let space = process.space();
        let mut space = space.lock();
        space.unmap_file_pages_from(is_file, first);
        super::run::flush_tlb_if_needed(&mut space);
    }
}

/// `truncate` of a regular file's `inode` to `size` with what it does to mappings (see
/// [`unmap_past_end`]).
pub fn truncate(inode: &dyn Inode, size: u64) -> Result<(), Errno> {
    let before = inode.metadata();
    inode.truncate(size)?;
    if size < before.size {
        unmap_past_end(before.dev, before.ino, size);
    }
    Ok(())
}

/// One line of `/proc/PID/maps` for `area`, in Linux's format: the header, then (for
/// a named area) padding to column 73 and the file's path or `[stack]`/`[heap]`.
pub fn maps_line(area: &Area) -> String {
    let (offset, dev, ino, name) = match &area.file {
        Some(backing) => match backing.file.downcast_ref::<MappedFile>() {
            Some(file) => (backing.offset, file.dev, file.ino, String::from_utf8_lossy(&file.path).into_owned()),
            None => (backing.offset, 0, 0, String::new()),
        },
        None => (0, 0, 0, String::from(area.kind.label())),
    };
    let flag = |bit: Prot, letter: char| if area.prot.contains(bit) { letter } else { '-' };
    let mut line = format!(
        "{:08x}-{:08x} {}{}{}{} {:08x} {:02x}:{:02x} {} ",
        area.start.0,
        area.end.0,
        flag(Prot::READ, 'r'),
        flag(Prot::WRITE, 'w'),
        flag(Prot::EXEC, 'x'),
        if area.shared { 's' } else { 'p' },
        offset,
        vfs::major(dev),
        vfs::minor(dev),
        ino
    );
    if !name.is_empty() {
        while line.len() < 72 {
            line.push(' ');
        }
        line.push(' ');
        line += &name;
    }
    line.push('\n');
    line
}
