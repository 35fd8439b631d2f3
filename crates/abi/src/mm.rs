//! Memory-management ABI: `PROT_*`, `MAP_*`, `MREMAP_*`, `MADV_*`, `MS_*` (msync) and
//! `MCL_*` flags (include/uapi/asm-generic/{mman,mman-common}.h, include/uapi/linux/mman.h).
//!
//! riscv64 uses the generic values unchanged. The address-space code decodes mmap,
//! mprotect, mremap, madvise and msync arguments with these.

/// Linux's (and riscv64's only) base page size; `AT_PAGESZ`.
pub const PAGE_SIZE: usize = 4096;

// Protection bits.
/// No access.
pub const PROT_NONE: u32 = 0x0;
/// Readable.
pub const PROT_READ: u32 = 0x1;
/// Writable.
pub const PROT_WRITE: u32 = 0x2;
/// Executable.
pub const PROT_EXEC: u32 = 0x4;
/// Usable for atomic operations (ignored by Linux).
pub const PROT_SEM: u32 = 0x8;
/// mprotect: extend the change down to the start of a grows-down mapping.
pub const PROT_GROWSDOWN: u32 = 0x0100_0000;
/// mprotect: extend the change up to the end of a grows-up mapping.
pub const PROT_GROWSUP: u32 = 0x0200_0000;

// Mapping types and flags.
/// Share changes with other mappings of the object.
pub const MAP_SHARED: u32 = 0x01;
/// Private copy-on-write mapping.
pub const MAP_PRIVATE: u32 = 0x02;
/// `MAP_SHARED` that fails on unknown flags.
pub const MAP_SHARED_VALIDATE: u32 = 0x03;
/// Memory the kernel may zero under memory pressure (Linux 6.11).
pub const MAP_DROPPABLE: u32 = 0x08;
/// Mask of the mapping type (`MAP_SHARED`, `MAP_PRIVATE`, ...).
pub const MAP_TYPE: u32 = 0x0f;
/// Place the mapping exactly at `addr`, replacing what is there.
pub const MAP_FIXED: u32 = 0x10;
/// Not backed by a file; zero-filled (`fd` is ignored, should be -1).
pub const MAP_ANONYMOUS: u32 = 0x20;
/// Same as `MAP_ANONYMOUS`.
pub const MAP_ANON: u32 = MAP_ANONYMOUS;
/// Compatibility: no effect.
pub const MAP_FILE: u32 = 0;
/// Stack-like mapping that grows down on faults below it.
pub const MAP_GROWSDOWN: u32 = 0x0100;
/// Ignored (used to mean "ETXTBSY on writes to the file").
pub const MAP_DENYWRITE: u32 = 0x0800;
/// Ignored.
pub const MAP_EXECUTABLE: u32 = 0x1000;
/// Lock the pages (like mlock).
pub const MAP_LOCKED: u32 = 0x2000;
/// Do not reserve swap space.
pub const MAP_NORESERVE: u32 = 0x4000;
/// Prefault the page tables.
pub const MAP_POPULATE: u32 = 0x00_8000;
/// With `MAP_POPULATE`: do not block on I/O.
pub const MAP_NONBLOCK: u32 = 0x01_0000;
/// A thread stack (hint; no effect on Linux besides disabling THP).
pub const MAP_STACK: u32 = 0x02_0000;
/// Use huge pages.
pub const MAP_HUGETLB: u32 = 0x04_0000;
/// Synchronous page faults (DAX).
pub const MAP_SYNC: u32 = 0x08_0000;
/// Like `MAP_FIXED` but fail with `EEXIST` instead of replacing a mapping.
pub const MAP_FIXED_NOREPLACE: u32 = 0x10_0000;
/// Anonymous memory need not be zeroed (only with a special kernel option).
pub const MAP_UNINITIALIZED: u32 = 0x400_0000;
/// Shift of the huge-page size (log2) in the flags, with `MAP_HUGETLB`.
pub const MAP_HUGE_SHIFT: u32 = 26;
/// Mask of the huge-page size after shifting.
pub const MAP_HUGE_MASK: u32 = 0x3f;

// mremap(2) flags.
/// The mapping may move.
pub const MREMAP_MAYMOVE: u32 = 1;
/// Move to exactly `new_address` (requires `MREMAP_MAYMOVE`).
pub const MREMAP_FIXED: u32 = 2;
/// Leave the old mapping in place, empty (requires `MREMAP_MAYMOVE`).
pub const MREMAP_DONTUNMAP: u32 = 4;

// madvise(2) advice.
/// No special treatment.
pub const MADV_NORMAL: u32 = 0;
/// Expect random access.
pub const MADV_RANDOM: u32 = 1;
/// Expect sequential access.
pub const MADV_SEQUENTIAL: u32 = 2;
/// Will need these pages soon.
pub const MADV_WILLNEED: u32 = 3;
/// Drop the pages: private anonymous memory reads back as zeros afterwards.
pub const MADV_DONTNEED: u32 = 4;
/// The pages may be freed lazily (contents undefined until written).
pub const MADV_FREE: u32 = 8;
/// Free the pages and their backing store (shmem/tmpfs).
pub const MADV_REMOVE: u32 = 9;
/// Do not inherit across fork.
pub const MADV_DONTFORK: u32 = 10;
/// Undo `MADV_DONTFORK`.
pub const MADV_DOFORK: u32 = 11;
/// KSM may merge identical pages.
pub const MADV_MERGEABLE: u32 = 12;
/// Undo `MADV_MERGEABLE`.
pub const MADV_UNMERGEABLE: u32 = 13;
/// Worth backing with huge pages.
pub const MADV_HUGEPAGE: u32 = 14;
/// Not worth backing with huge pages.
pub const MADV_NOHUGEPAGE: u32 = 15;
/// Exclude from core dumps.
pub const MADV_DONTDUMP: u32 = 16;
/// Undo `MADV_DONTDUMP`.
pub const MADV_DODUMP: u32 = 17;
/// Zero in the child after fork.
pub const MADV_WIPEONFORK: u32 = 18;
/// Undo `MADV_WIPEONFORK`.
pub const MADV_KEEPONFORK: u32 = 19;
/// Deactivate the pages.
pub const MADV_COLD: u32 = 20;
/// Reclaim the pages.
pub const MADV_PAGEOUT: u32 = 21;
/// Prefault readable.
pub const MADV_POPULATE_READ: u32 = 22;
/// Prefault writable.
pub const MADV_POPULATE_WRITE: u32 = 23;
/// `MADV_DONTNEED` that also drops locked pages.
pub const MADV_DONTNEED_LOCKED: u32 = 24;
/// Collapse into huge pages synchronously.
pub const MADV_COLLAPSE: u32 = 25;
/// Poison a page (testing).
pub const MADV_HWPOISON: u32 = 100;
/// Soft-offline a page (testing).
pub const MADV_SOFT_OFFLINE: u32 = 101;
/// Install guard regions: access raises SIGSEGV (Linux 6.13).
pub const MADV_GUARD_INSTALL: u32 = 102;
/// Remove guard regions (Linux 6.13).
pub const MADV_GUARD_REMOVE: u32 = 103;

// msync(2) flags. Not to be confused with mount's MS_*.
/// Schedule the write-back.
pub const MS_ASYNC: u32 = 1;
/// Invalidate other mappings of the file.
pub const MS_INVALIDATE: u32 = 2;
/// Write back and wait.
pub const MS_SYNC: u32 = 4;

// mlockall(2) flags.
/// Lock all current mappings.
pub const MCL_CURRENT: u32 = 1;
/// Lock all future mappings.
pub const MCL_FUTURE: u32 = 2;
/// Lock pages as they are faulted in.
pub const MCL_ONFAULT: u32 = 4;
/// mlock2: lock pages as they are faulted in.
pub const MLOCK_ONFAULT: u32 = 0x01;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_match_asm_generic() {
        assert_eq!((PROT_READ, PROT_WRITE, PROT_EXEC), (1, 2, 4));
        assert_eq!(
            (MAP_SHARED, MAP_PRIVATE, MAP_FIXED, MAP_ANONYMOUS),
            (1, 2, 0x10, 0x20)
        );
        assert_eq!(MAP_GROWSDOWN, 0x100);
        assert_eq!(MAP_NORESERVE, 0x4000);
        assert_eq!(MAP_STACK, 0x20000);
        assert_eq!(MAP_FIXED_NOREPLACE, 0x100000);
        assert_eq!((MREMAP_MAYMOVE, MREMAP_FIXED), (1, 2));
        assert_eq!(MADV_DONTNEED, 4);
        assert_eq!(MADV_FREE, 8);
        assert_eq!((MS_ASYNC, MS_INVALIDATE, MS_SYNC), (1, 2, 4));
        assert_eq!(PAGE_SIZE, 4096);
    }
}
