//! The pieces of a user address space: areas (Linux's VMAs) with their protection and
//! kind, the `mmap`/`mprotect` flag values of Linux, and the rule that turns an area's
//! protection into the flags of one page-table entry.
//!
//! Two hardware rules shape that last part. Sv39 has no write-only pages, so
//! `PROT_WRITE` implies read (as on Linux riscv64). And coros keeps W^X for every
//! entry, so a `PROT_WRITE | PROT_EXEC` area (a JIT's) is writable *or* executable at
//! any one time, page by page: a write fault makes the page R+W, an execute fault R+X.

use alloc::sync::Arc;
use core::any::Any;

use bitflags::bitflags;

use crate::sv39::Flags;
use crate::VirtAddr;

/// `PROT_READ` (Linux value).
pub const PROT_READ: u32 = 0x1;
/// `PROT_WRITE`.
pub const PROT_WRITE: u32 = 0x2;
/// `PROT_EXEC`.
pub const PROT_EXEC: u32 = 0x4;
/// `MAP_SHARED`.
pub const MAP_SHARED: u32 = 0x01;
/// `MAP_PRIVATE`.
pub const MAP_PRIVATE: u32 = 0x02;
/// `MAP_SHARED_VALIDATE` (`MAP_SHARED | MAP_PRIVATE`: shared, unknown flags refused).
pub const MAP_SHARED_VALIDATE: u32 = 0x03;
/// `MAP_FIXED`.
pub const MAP_FIXED: u32 = 0x10;
/// `MAP_ANONYMOUS`.
pub const MAP_ANONYMOUS: u32 = 0x20;
/// `MAP_GROWSDOWN` (accepted, no growing: stacks are fixed-size lazy reservations).
pub const MAP_GROWSDOWN: u32 = 0x100;
/// `MAP_NORESERVE` (nothing is reserved anyway).
pub const MAP_NORESERVE: u32 = 0x4000;
/// `MAP_POPULATE`.
pub const MAP_POPULATE: u32 = 0x8000;
/// `MAP_STACK`.
pub const MAP_STACK: u32 = 0x20000;
/// `MAP_FIXED_NOREPLACE`.
pub const MAP_FIXED_NOREPLACE: u32 = 0x100000;

bitflags! {
    /// Protection of an area (`PROT_*`).
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
    pub struct Prot: u32 {
        /// Readable.
        const READ = PROT_READ;
        /// Writable (and so readable: Sv39 has no write-only pages).
        const WRITE = PROT_WRITE;
        /// Executable.
        const EXEC = PROT_EXEC;
    }
}

bitflags! {
    /// `mmap` flags (`MAP_*`); unknown bits are the system call's to refuse or ignore.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
    pub struct MapFlags: u32 {
        /// Shared with other mappers (and across `fork`).
        const SHARED = MAP_SHARED;
        /// Private: copy-on-write across `fork`.
        const PRIVATE = MAP_PRIVATE;
        /// Exactly at the address given, replacing what is there.
        const FIXED = MAP_FIXED;
        /// Not backed by a file (the only kind there is so far).
        const ANONYMOUS = MAP_ANONYMOUS;
        /// Grows down (treated as a plain mapping).
        const GROWSDOWN = MAP_GROWSDOWN;
        /// No swap reservation (there is no swap).
        const NORESERVE = MAP_NORESERVE;
        /// Fault every page in now.
        const POPULATE = MAP_POPULATE;
        /// Meant for a stack (a hint only).
        const STACK = MAP_STACK;
        /// Exactly at the address given, `EEXIST` if something is there.
        const FIXED_NOREPLACE = MAP_FIXED_NOREPLACE;
    }
}

/// What an area holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AreaKind {
    /// Anonymous memory from `mmap`.
    Anonymous,
    /// The initial stack of the program.
    Stack,
    /// The `brk` heap.
    Heap,
    /// A segment of the program image (or interpreter), filled by the loader.
    Image,
}

impl AreaKind {
    /// The path column of `/proc/PID/maps` for this kind (`""` where the caller knows
    /// better, e.g. the image's file name).
    pub fn label(self) -> &'static str {
        match self {
            AreaKind::Stack => "[stack]",
            AreaKind::Heap => "[heap]",
            AreaKind::Anonymous | AreaKind::Image => "",
        }
    }

    /// Whether two adjacent areas of this kind with equal attributes may become one
    /// (as Linux merges anonymous VMAs); image segments stay apart.
    fn mergeable(self) -> bool {
        matches!(self, AreaKind::Anonymous | AreaKind::Stack | AreaKind::Heap)
    }
}

/// The file behind a file-backed area: an opaque handle the kernel gave to
/// [`AddressSpace::map_file`](super::AddressSpace::map_file) (mm never looks inside;
/// the kernel's page provider and `/proc/PID/maps` downcast it) and the file offset of
/// the area's first byte.
#[derive(Clone)]
pub struct FileBacking {
    /// The kernel's handle on the file (its inode, name, device and inode number).
    pub file: Arc<dyn Any + Send + Sync>,
    /// File offset of the area's start (page-aligned).
    pub offset: u64,
}

impl FileBacking {
    /// Whether both name the same file object.
    pub fn same_file(&self, other: &FileBacking) -> bool {
        Arc::ptr_eq(&self.file, &other.file)
    }
}

impl core::fmt::Debug for FileBacking {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "FileBacking({:p} @ {:#x})", Arc::as_ptr(&self.file), self.offset)
    }
}

impl PartialEq for FileBacking {
    fn eq(&self, other: &Self) -> bool {
        self.same_file(other) && self.offset == other.offset
    }
}

impl Eq for FileBacking {}

/// A mapped range of a user address space: `[start, end)`, both page-aligned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Area {
    /// First address.
    pub start: VirtAddr,
    /// One past the last address.
    pub end: VirtAddr,
    /// What user code may do.
    pub prot: Prot,
    /// `MAP_SHARED` (else private, copy-on-write across `fork`).
    pub shared: bool,
    /// What it holds.
    pub kind: AreaKind,
    /// The file it maps, if any (else anonymous memory).
    pub file: Option<FileBacking>,
}

impl Area {
    /// The flags of a leaf that [`Area::leaf_flags`] decides.
    pub(crate) const LEAF_ACCESS: Flags = Flags::R.union(Flags::W).union(Flags::X).union(Flags::U);

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.end.0 - self.start.0
    }

    /// Whether it is empty (never, for an area of an address space).
    pub fn is_empty(&self) -> bool {
        self.start == self.end
    }

    /// Whether `va` falls inside.
    pub fn contains(&self, va: VirtAddr) -> bool {
        self.start <= va && va < self.end
    }

    /// Whether `access` is allowed by the protection.
    pub fn permits(&self, access: Access) -> bool {
        match access {
            Access::Read => self.prot.intersects(Prot::READ | Prot::WRITE),
            Access::Write => self.prot.contains(Prot::WRITE),
            Access::Execute => self.prot.contains(Prot::EXEC),
        }
    }

    /// Whether `next`, starting where this ends, can be merged into it: equal
    /// attributes, and either anonymous memory of a mergeable kind or the same file at
    /// contiguous offsets (as Linux merges VMAs).
    pub(crate) fn merges_with(&self, next: &Area) -> bool {
        let same = self.end == next.start && self.prot == next.prot && self.shared == next.shared && self.kind == next.kind;
        same && match (&self.file, &next.file) {
            (None, None) => self.kind.mergeable(),
            (Some(this), Some(that)) => {
                this.same_file(that) && this.offset.checked_add(self.len() as u64) == Some(that.offset)
            }
            _ => false,
        }
    }

    /// The index of the file page mapped at `va` (inside the area), if file-backed.
    pub fn file_page(&self, va: VirtAddr) -> Option<u64> {
        let backing = self.file.as_ref()?;
        Some((backing.offset + (va.0 - self.start.0) as u64) / crate::PAGE_SIZE as u64)
    }

    /// The flags of a page of this area. `may_write`: the frame is this space's alone (or
    /// the area is shared), so a write needs no copy. `mode`: the access that brought
    /// the page in, which decides between W and X in a writable and executable area.
    pub(crate) fn leaf_flags(&self, may_write: bool, mode: Access) -> Flags {
        let mut flags = Flags::U;
        if self.prot.intersects(Prot::READ | Prot::WRITE) {
            flags |= Flags::R;
        }
        let write = self.prot.contains(Prot::WRITE) && (may_write || self.shared);
        let execute = self.prot.contains(Prot::EXEC);
        match (write, execute) {
            (true, true) if mode == Access::Write => flags |= Flags::W,
            (true, false) => flags |= Flags::W,
            (_, true) => flags |= Flags::X,
            (false, false) => {}
        }
        flags
    }
}

/// The kind of access a fault (or a kernel access on the user's behalf) makes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// A load.
    Read,
    /// A store (or AMO).
    Write,
    /// An instruction fetch.
    Execute,
}

impl Access {
    /// Whether a page-table entry with `flags` already allows this access.
    pub(crate) fn allowed_by(self, flags: Flags) -> bool {
        flags.contains(Flags::V)
            && flags.contains(match self {
                Access::Read => Flags::R,
                Access::Write => Flags::W,
                Access::Execute => Flags::X,
            })
    }

    /// The access a present entry was last set up for (see [`Area::leaf_flags`]).
    pub(crate) fn mode_of(flags: Flags) -> Access {
        if flags.contains(Flags::W) {
            Access::Write
        } else if flags.contains(Flags::X) {
            Access::Execute
        } else {
            Access::Read
        }
    }
}
