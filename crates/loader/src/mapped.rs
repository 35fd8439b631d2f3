//! Placing a parsed [`Program`] in an address space by *mapping* its file, as Linux's
//! `load_elf_binary` does, instead of copying it: each PT_LOAD becomes a private file
//! mapping of the pages holding its file bytes (shared with the page cache until
//! written), the tail of the last file page past `p_filesz` is zeroed if the segment
//! is writable (Linux's `padzero`), and the rest of `p_memsz` (the bss) becomes
//! anonymous zero memory (Linux's `vm_brk_flags`). Segments are mapped in file order,
//! each replacing whatever an earlier one left in a page they share, as `MAP_FIXED`
//! does. The kernel supplies the address space as a [`MapTarget`]; the decisions are
//! here, tested on the host.

use crate::elf::{Program, Prot};
use crate::error::LoadError;
use crate::load::{page_down, page_up, Loaded, PAGE_SIZE, USER_SPACE_END};
use abi::Errno;

/// What mapping an image needs from an address space. Addresses and offsets are
/// page-aligned, lengths positive multiples of a page; each call replaces what is in
/// its range.
pub trait MapTarget {
    /// Maps `len` bytes of the file from `offset` at `start`, private (copy-on-write).
    fn map_file(&mut self, start: u64, len: u64, prot: Prot, offset: u64) -> abi::Result<()>;
    /// Maps `len` bytes of zero-filled anonymous memory at `start`.
    fn map_zero(&mut self, start: u64, len: u64, prot: Prot) -> abi::Result<()>;
    /// Zeroes `[va, va + len)` (inside one page of a writable file mapping).
    fn zero(&mut self, va: u64, len: u64) -> abi::Result<()>;
}

/// Maps `program` at `bias` into `target` (see the module doc). `bias` must be
/// page-aligned, and 0 for `ET_EXEC`. A segment whose file offset and address differ
/// within a page cannot be mapped (`EINVAL`, as Linux's `mmap` says).
pub fn load_mapped<T: MapTarget + ?Sized>(program: &Program<'_>, bias: u64, target: &mut T) -> Result<Loaded, LoadError> {
    if !bias.is_multiple_of(PAGE_SIZE) {
        return Err(LoadError::with_errno(Errno::EINVAL, "load bias is not page-aligned"));
    }
    if !program.is_dynamic() && bias != 0 {
        return Err(LoadError::with_errno(Errno::EINVAL, "an ET_EXEC image cannot be moved"));
    }
    let entry = program.entry().checked_add(bias).ok_or(LoadError::malformed("biased entry point wraps around"))?;
    let mut brk_start = 0;
    for segment in program.segments() {
        let start = segment.vaddr.checked_add(bias);
        let end = start.and_then(|start| start.checked_add(segment.memsz));
        let (Some(start), Some(end)) = (start, end) else {
            return Err(LoadError::malformed("biased segment wraps around the address space"));
        };
        if end > USER_SPACE_END {
            return Err(LoadError::malformed("segment lies outside user space"));
        }
        let page_offset = start % PAGE_SIZE;
        let mut zero_from = start;
        if segment.filesz > 0 {
            if segment.offset % PAGE_SIZE != page_offset {
                return Err(LoadError::with_errno(Errno::EINVAL, "segment offset and address differ within a page"));
            }
            let map_start = page_down(start);
            let file_end = start + segment.filesz;
            // Cannot overflow: file_end <= end <= USER_SPACE_END.
            let map_end = page_up(file_end).unwrap_or(file_end);
            target.map_file(map_start, map_end - map_start, segment.prot, segment.offset - page_offset)?;
            zero_from = file_end;
            if segment.memsz > segment.filesz && segment.prot.contains(Prot::WRITE) && file_end < map_end {
                target.zero(file_end, (map_end - file_end).min(end - file_end))?;
                if end < map_end {
                    // Linux zeroes to the end of the page whatever memsz says.
                    target.zero(end, map_end - end)?;
                }
            }
        }
        if segment.memsz > segment.filesz {
            let bss_start = page_up(zero_from).unwrap_or(zero_from);
            let bss_end = page_up(end).unwrap_or(end);
            if bss_end > bss_start {
                let prot = Prot::READ | Prot::WRITE | (segment.prot & Prot::EXEC);
                target.map_zero(bss_start, bss_end - bss_start, prot)?;
            }
        }
        brk_start = brk_start.max(page_up(end).unwrap_or(end));
    }
    Ok(Loaded {
        entry,
        phdr: program.phdr_vaddr().unwrap_or(0).wrapping_add(bias),
        phnum: program.phnum(),
        phent: program.phent(),
        brk_start,
        bias,
    })
}
