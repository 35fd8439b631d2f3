//! Placing a parsed [`Program`] in an address space. The kernel supplies the address
//! space as a [`LoadTarget`] (map, write, zero); this module decides which pages to map
//! with which protection and which bytes to copy or clear, so that logic is tested on
//! the host against a fake target.
//!
//! Segments need not be page-aligned. Each covers the pages from `page_down(vaddr)` to
//! `page_up(vaddr + memsz)`; where two segments share a page, the page gets the union of
//! their protections (a superset of what either needs, which is what Linux's overlapping
//! private mappings amount to in practice). Every mapped byte that is not file content
//! — the head of the first page, the tail of the last file page, the bss — is zeroed,
//! so the target may hand out uninitialised memory. Unlike Linux, which maps whole file
//! pages, bytes outside every segment's file range read as zero rather than as
//! whatever the file holds there; nothing legitimate reads them.

use crate::elf::{Program, Prot};
use crate::error::LoadError;
use abi::Errno;
use alloc::vec::Vec;

/// The page size of riscv64 (Sv39), as in AT_PAGESZ.
pub const PAGE_SIZE: u64 = 4096;

/// The end of user space: Linux riscv64's `DEFAULT_MAP_WINDOW` / `TASK_SIZE` with Sv39
/// (the lower half of the 39-bit space). [`load`] rejects images reaching beyond it.
pub const USER_SPACE_END: u64 = 1 << 38;

/// Where an `ET_DYN` main program goes: Linux riscv64's `ELF_ET_DYN_BASE`
/// (`DEFAULT_MAP_WINDOW / 3 * 2` = 0x2a_aaaa_aaaa) rounded down to a page, i.e. exactly
/// where Linux puts a static-pie or PIE program with address randomisation off
/// (0x2a_aaaa_a000). Pass it to [`Program::load_bias`], which also applies alignment.
pub const DEFAULT_DYN_BIAS: u64 = (USER_SPACE_END / 3 * 2) & !(PAGE_SIZE - 1);

/// What the loader needs from an address space. Addresses are user virtual addresses.
pub trait LoadTarget {
    /// Maps `[start, start + len)` (both page-aligned, `len > 0`) with `prot`. Each page
    /// is mapped exactly once per [`load`]; the contents need not be zeroed.
    fn map_segment(&mut self, start: u64, len: u64, prot: Prot) -> abi::Result<()>;
    /// Copies `bytes` to `va`, inside a range mapped by `map_segment`, regardless of
    /// its protection (this is the kernel writing, not the user).
    fn write(&mut self, va: u64, bytes: &[u8]) -> abi::Result<()>;
    /// Zeroes `[va, va + len)` inside a mapped range, regardless of its protection.
    fn zero(&mut self, va: u64, len: u64) -> abi::Result<()>;
}

/// Where an image ended up: the values exec needs for the registers and the auxv.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Loaded {
    /// The entry point, biased (AT_ENTRY for a main program; where to start for the
    /// interpreter or a program without one).
    pub entry: u64,
    /// The program-header table's address in memory (AT_PHDR), biased; the bias alone
    /// (as on Linux) if the image does not contain its program headers.
    pub phdr: u64,
    /// AT_PHNUM.
    pub phnum: u16,
    /// AT_PHENT.
    pub phent: u16,
    /// The initial program break: the page after the highest segment end.
    pub brk_start: u64,
    /// What was added to every address of the file (0 for `ET_EXEC`; AT_BASE when the
    /// image is the interpreter).
    pub bias: u64,
}

/// Rounds down to a page boundary.
pub(crate) const fn page_down(address: u64) -> u64 {
    address & !(PAGE_SIZE - 1)
}

/// Rounds up to a page boundary; `None` if that overflows.
pub(crate) const fn page_up(address: u64) -> Option<u64> {
    match address.checked_add(PAGE_SIZE - 1) {
        Some(sum) => Some(page_down(sum)),
        None => None,
    }
}

/// One segment at its final address.
struct Placed<'e> {
    start: u64,
    end: u64,
    prot: Prot,
    file: &'e [u8],
}

impl Placed<'_> {
    fn first_page(&self) -> u64 {
        page_down(self.start)
    }
    fn end_page(&self) -> u64 {
        // Cannot overflow: `end <= USER_SPACE_END`.
        page_down(self.end + (PAGE_SIZE - 1))
    }
    fn file_end(&self) -> u64 {
        self.start + self.file.len() as u64
    }
}

/// A run of pages mapped with one protection.
#[derive(Debug, PartialEq, Eq)]
struct Region {
    start: u64,
    end: u64,
    prot: Prot,
}

/// Maps `program` (parsed from `elf`) into `target` at `bias`, copies its file
/// contents and zeroes the rest. `bias` must be page-aligned, and 0 for `ET_EXEC`;
/// for `ET_DYN` use [`Program::load_bias`]. On error the target may hold a partial
/// image, which the caller discards along with the address space.
pub fn load<T: LoadTarget + ?Sized>(
    program: &Program<'_>,
    elf: &[u8],
    bias: u64,
    target: &mut T,
) -> Result<Loaded, LoadError> {
    if !bias.is_multiple_of(PAGE_SIZE) {
        return Err(LoadError::with_errno(
            Errno::EINVAL,
            "load bias is not page-aligned",
        ));
    }
    if !program.is_dynamic() && bias != 0 {
        return Err(LoadError::with_errno(
            Errno::EINVAL,
            "an ET_EXEC image cannot be moved",
        ));
    }
    let mut placed = Vec::with_capacity(program.segments().len());
    for segment in program.segments() {
        let start = segment.vaddr.checked_add(bias);
        let end = start.and_then(|start| start.checked_add(segment.memsz));
        let (Some(start), Some(end)) = (start, end) else {
            return Err(LoadError::malformed(
                "biased segment wraps around the address space",
            ));
        };
        if end > USER_SPACE_END {
            return Err(LoadError::malformed("segment lies outside user space"));
        }
        let file = usize::try_from(segment.offset)
            .ok()
            .zip(usize::try_from(segment.filesz).ok())
            .and_then(|(offset, len)| elf.get(offset..offset.checked_add(len)?))
            .ok_or(LoadError::malformed("segment file range beyond the image"))?;
        placed.push(Placed {
            start,
            end,
            prot: segment.prot,
            file,
        });
    }
    // `parse` guarantees that the segments do not overlap; the walks below rely on it.
    placed.sort_unstable_by_key(|segment| segment.start);
    let entry = program
        .entry()
        .checked_add(bias)
        .ok_or(LoadError::malformed("biased entry point wraps around"))?;

    let regions = page_regions(&placed);
    for region in &regions {
        target.map_segment(region.start, region.end - region.start, region.prot)?;
    }
    for region in &regions {
        zero_outside_file_contents(region, &placed, target)?;
    }
    for segment in placed.iter().filter(|segment| !segment.file.is_empty()) {
        target.write(segment.start, segment.file)?;
    }
    let brk_start = placed.iter().map(Placed::end_page).max().unwrap_or(0);
    log::debug!(
        "loader: {} segment(s) in {} region(s), bias {:#x}, entry {:#x}, brk {:#x}",
        placed.len(),
        regions.len(),
        bias,
        entry,
        brk_start
    );
    Ok(Loaded {
        entry,
        phdr: program.phdr_vaddr().unwrap_or(0).wrapping_add(bias),
        phnum: program.phnum(),
        phent: program.phent(),
        brk_start,
        bias,
    })
}

/// Splits the pages the segments touch into maximal runs of equal protection; a page
/// shared by several segments gets the union of their protections.
fn page_regions(placed: &[Placed<'_>]) -> Vec<Region> {
    let mut bounds: Vec<u64> = placed
        .iter()
        .flat_map(|segment| [segment.first_page(), segment.end_page()])
        .collect();
    bounds.sort_unstable();
    bounds.dedup();
    let mut regions: Vec<Region> = Vec::new();
    for pair in bounds.windows(2) {
        let (start, end) = (pair[0], pair[1]);
        let mut covering = placed
            .iter()
            .filter(|segment| segment.first_page() < end && segment.end_page() > start)
            .peekable();
        if covering.peek().is_none() {
            continue;
        }
        let prot = covering.fold(Prot::empty(), |prot, segment| prot | segment.prot);
        match regions.last_mut() {
            Some(last) if last.end == start && last.prot == prot => last.end = end,
            _ => regions.push(Region { start, end, prot }),
        }
    }
    regions
}

/// Zeroes every byte of `region` that no segment's file contents will cover.
/// `placed` is sorted by address and its segments do not overlap.
fn zero_outside_file_contents<T: LoadTarget + ?Sized>(
    region: &Region,
    placed: &[Placed<'_>],
    target: &mut T,
) -> abi::Result<()> {
    let mut cursor = region.start;
    for segment in placed {
        let file_start = segment.start.max(region.start);
        let file_end = segment.file_end().min(region.end);
        if file_start >= file_end {
            continue;
        }
        if file_start > cursor {
            target.zero(cursor, file_start - cursor)?;
        }
        cursor = cursor.max(file_end);
    }
    if cursor < region.end {
        target.zero(cursor, region.end - cursor)?;
    }
    Ok(())
}
