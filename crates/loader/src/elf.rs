//! ELF validation: turns untrusted bytes into a [`Program`] — the facts exec needs
//! (entry, segments, interpreter, program headers, TLS, stack flags) — or a
//! [`LoadError`] (`ENOEXEC`). Only the ELF header and the program headers matter to a
//! loader; section headers are never read, exactly as on Linux. Field reads go through
//! goblin (bounds-checked, no alignment requirement on the buffer); every offset, size
//! and address sum is checked here, so truncated or hostile files fail, never panic.

use crate::error::LoadError;
use crate::load::{page_down, page_up, PAGE_SIZE};
use alloc::vec::Vec;
use bitflags::bitflags;
use goblin::elf::header::{
    EI_CLASS, EI_DATA, ELFCLASS64, ELFDATA2LSB, ELFMAG, EM_RISCV, ET_DYN, ET_EXEC, SELFMAG,
};
use goblin::elf::program_header::{
    PF_R, PF_W, PF_X, PT_GNU_STACK, PT_INTERP, PT_LOAD, PT_PHDR, PT_TLS,
};
use goblin::elf64::header::{Header, SIZEOF_EHDR};
use goblin::elf64::program_header::{ProgramHeader, SIZEOF_PHDR};

/// The largest program-header table Linux reads (`elf_read_phdrs` in fs/binfmt_elf.c).
const MAX_PHDR_TABLE_BYTES: usize = 65536;
/// The longest PT_INTERP Linux accepts, terminating NUL included (`PATH_MAX`).
const MAX_INTERP_BYTES: u64 = 4096;

bitflags! {
    /// Memory protection of a mapping, with the values of Linux's `PROT_*` (mmap) bits.
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
    pub struct Prot: u32 {
        /// `PROT_READ`.
        const READ = 1;
        /// `PROT_WRITE`.
        const WRITE = 2;
        /// `PROT_EXEC`.
        const EXEC = 4;
    }
}

impl Prot {
    /// Converts ELF `p_flags` (`PF_X` = 1, `PF_W` = 2, `PF_R` = 4) to mmap protection.
    pub const fn from_p_flags(p_flags: u32) -> Prot {
        let mut bits = 0;
        if p_flags & PF_R != 0 {
            bits |= Prot::READ.bits();
        }
        if p_flags & PF_W != 0 {
            bits |= Prot::WRITE.bits();
        }
        if p_flags & PF_X != 0 {
            bits |= Prot::EXEC.bits();
        }
        Prot::from_bits_retain(bits)
    }
}

/// One PT_LOAD segment as the file describes it (addresses not yet biased).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Segment {
    /// `p_vaddr`: where the first byte goes (need not be page-aligned).
    pub vaddr: u64,
    /// `p_memsz`: bytes in memory; the part past `filesz` is zero (bss).
    pub memsz: u64,
    /// `p_filesz`: bytes copied from the file (`filesz <= memsz`).
    pub filesz: u64,
    /// `p_offset`: where those bytes start in the file (`offset + filesz <= file length`).
    pub offset: u64,
    /// Protection from `p_flags`.
    pub prot: Prot,
    /// `p_align`: 0 or a power of two.
    pub align: u64,
}

impl Segment {
    /// One past the last byte in memory (cannot overflow: checked by [`parse`]).
    pub const fn end(&self) -> u64 {
        self.vaddr + self.memsz
    }
}

/// The PT_TLS template: the initial image of each thread's static TLS block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TlsSegment {
    /// Address of the initialised part (`.tdata`) in the loaded image, unbiased.
    pub vaddr: u64,
    /// Bytes of initialised data.
    pub filesz: u64,
    /// Size of the whole block (`.tdata` + `.tbss`).
    pub memsz: u64,
    /// Required alignment of the block: 0 or a power of two.
    pub align: u64,
}

/// A validated ELF executable, borrowing the file it came from.
#[derive(Clone, Debug)]
pub struct Program<'a> {
    entry: u64,
    dynamic: bool,
    segments: Vec<Segment>,
    interpreter: Option<&'a str>,
    phdr_vaddr: Option<u64>,
    phnum: u16,
    phent: u16,
    tls: Option<TlsSegment>,
    gnu_stack: Option<Prot>,
}

impl<'a> Program<'a> {
    /// `e_entry`, unbiased.
    pub fn entry(&self) -> u64 {
        self.entry
    }

    /// `ET_DYN` (position independent: loaded at a bias) rather than `ET_EXEC`.
    pub fn is_dynamic(&self) -> bool {
        self.dynamic
    }

    /// The PT_LOAD segments with a non-zero memory size, in file order. There is at
    /// least one, and no two overlap in memory (they may share a page).
    pub fn segments(&self) -> &[Segment] {
        &self.segments
    }

    /// The PT_INTERP path (the dynamic linker), without its terminating NUL.
    pub fn interpreter(&self) -> Option<&'a str> {
        self.interpreter
    }

    /// The unbiased address of the program-header table in the loaded image — what
    /// AT_PHDR reports. Linux's rule first (the PT_LOAD whose file range contains
    /// `e_phoff`; Linux ignores PT_PHDR since 5.18), PT_PHDR's `p_vaddr` if no PT_LOAD
    /// contains the table, `None` if neither.
    pub fn phdr_vaddr(&self) -> Option<u64> {
        self.phdr_vaddr
    }

    /// `e_phnum` (AT_PHNUM).
    pub fn phnum(&self) -> u16 {
        self.phnum
    }

    /// `e_phentsize` (AT_PHENT); always 56 for a valid image.
    pub fn phent(&self) -> u16 {
        self.phent
    }

    /// The PT_TLS segment, if any.
    pub fn tls(&self) -> Option<TlsSegment> {
        self.tls
    }

    /// The PT_GNU_STACK flags (whether the stack should be executable), if present.
    pub fn gnu_stack(&self) -> Option<Prot> {
        self.gnu_stack
    }

    /// The largest `p_align` of the PT_LOAD segments, at least [`PAGE_SIZE`].
    pub fn max_align(&self) -> u64 {
        self.segments
            .iter()
            .map(|segment| segment.align)
            .fold(PAGE_SIZE, u64::max)
    }

    /// The page-aligned address range the image spans before biasing:
    /// `(page_down(lowest vaddr), page_up(highest end))`.
    pub fn extent(&self) -> (u64, u64) {
        let low = self.segments.iter().map(|s| s.vaddr).min().unwrap_or(0);
        let high = self.segments.iter().map(Segment::end).max().unwrap_or(0);
        (page_down(low), page_up(high).unwrap_or(page_down(u64::MAX)))
    }

    /// The load bias Linux would pick to place this image at `base`: 0 for `ET_EXEC`;
    /// for `ET_DYN`, `base` rounded down to the largest segment alignment, minus the
    /// lowest segment address, rounded down to a page (`load_elf_binary`). Pass
    /// [`crate::DEFAULT_DYN_BIAS`] for a main program. Wraps rather than panics on
    /// absurd alignments; [`crate::load`] then rejects the result.
    pub fn load_bias(&self, base: u64) -> u64 {
        if !self.dynamic {
            return 0;
        }
        let align = self.max_align();
        let lowest = self.segments.iter().map(|s| s.vaddr).min().unwrap_or(0);
        page_down((base & !(align - 1)).wrapping_sub(lowest))
    }
}

/// Reads `len` bytes at `offset` of the file, if they are all there.
fn file_range(elf: &[u8], offset: u64, len: u64) -> Option<&[u8]> {
    let start = usize::try_from(offset).ok()?;
    let len = usize::try_from(len).ok()?;
    elf.get(start..start.checked_add(len)?)
}

/// Validates `elf` as a riscv64 Linux executable and extracts what loading needs.
/// Every problem with the file is `ENOEXEC` with a reason.
pub fn parse(elf: &[u8]) -> Result<Program<'_>, LoadError> {
    parse_head(elf, elf.len() as u64)
}

/// [`parse`] from the head of a file of `file_len` bytes: the ELF header, the program
/// headers and the PT_INTERP path must lie in `head`; the segments' file ranges are
/// checked against `file_len` (they are mapped from the file, not read). Exec reads one
/// page and maps the rest; a file whose headers lie further in is read whole.
pub fn parse_head(elf: &[u8], file_len: u64) -> Result<Program<'_>, LoadError> {
    if elf.len() < SIZEOF_EHDR {
        return Err(LoadError::malformed("file is shorter than an ELF header"));
    }
    if elf[..SELFMAG] != ELFMAG[..] {
        return Err(LoadError::malformed("no ELF magic"));
    }
    if elf[EI_CLASS] != ELFCLASS64 {
        return Err(LoadError::malformed("not a 64-bit ELF file"));
    }
    if elf[EI_DATA] != ELFDATA2LSB {
        return Err(LoadError::malformed("not a little-endian ELF file"));
    }
    let header = Header::parse(elf).map_err(|_| LoadError::malformed("unreadable ELF header"))?;
    let dynamic = match header.e_type {
        ET_EXEC => false,
        ET_DYN => true,
        _ => {
            return Err(LoadError::malformed(
                "not an executable (ET_EXEC or ET_DYN)",
            ))
        }
    };
    if header.e_machine != EM_RISCV {
        return Err(LoadError::malformed("not a RISC-V ELF file"));
    }
    if usize::from(header.e_phentsize) != SIZEOF_PHDR {
        return Err(LoadError::malformed("program-header entry size is not 56"));
    }
    let phnum = usize::from(header.e_phnum);
    let table_bytes = phnum * SIZEOF_PHDR;
    if table_bytes == 0 {
        return Err(LoadError::malformed("no program headers"));
    }
    if table_bytes > MAX_PHDR_TABLE_BYTES {
        return Err(LoadError::malformed(
            "program-header table larger than 64 KiB",
        ));
    }
    let phoff = usize::try_from(header.e_phoff)
        .map_err(|_| LoadError::malformed("program headers beyond the end of the file"))?;
    if file_range(elf, header.e_phoff, table_bytes as u64).is_none() {
        return Err(LoadError::malformed(
            "program headers beyond the end of the file",
        ));
    }
    let headers = ProgramHeader::parse(elf, phoff, phnum, goblin::container::Endian::Little)
        .map_err(|_| LoadError::malformed("unreadable program headers"))?;

    let mut segments = Vec::new();
    let mut interpreter = None;
    let mut phdr_from_load = None;
    let mut phdr_from_pt_phdr = None;
    let mut tls = None;
    let mut gnu_stack = None;
    for ph in &headers {
        match ph.p_type {
            PT_LOAD => {
                let segment = check_load(file_len, ph)?;
                let contains_table =
                    ph.p_offset <= header.e_phoff && header.e_phoff - ph.p_offset < ph.p_filesz;
                if contains_table && phdr_from_load.is_none() {
                    // Cannot overflow: e_phoff - p_offset < p_filesz <= p_memsz and
                    // p_vaddr + p_memsz was checked.
                    phdr_from_load = Some(ph.p_vaddr + (header.e_phoff - ph.p_offset));
                }
                if segment.memsz != 0 {
                    segments.push(segment);
                }
            }
            // Linux uses the first PT_INTERP and ignores any others.
            PT_INTERP if interpreter.is_none() => interpreter = Some(check_interp(elf, ph)?),
            PT_PHDR if phdr_from_pt_phdr.is_none() => phdr_from_pt_phdr = Some(ph.p_vaddr),
            PT_TLS if tls.is_none() => tls = Some(check_tls(ph)?),
            PT_GNU_STACK => gnu_stack = Some(Prot::from_p_flags(ph.p_flags)),
            _ => {}
        }
    }
    if segments.is_empty() {
        return Err(LoadError::malformed("no loadable (PT_LOAD) segment"));
    }
    let mut by_address: Vec<&Segment> = segments.iter().collect();
    by_address.sort_unstable_by_key(|segment| segment.vaddr);
    if by_address
        .windows(2)
        .any(|pair| pair[0].end() > pair[1].vaddr)
    {
        return Err(LoadError::malformed("PT_LOAD segments overlap in memory"));
    }

    Ok(Program {
        entry: header.e_entry,
        dynamic,
        segments,
        interpreter,
        phdr_vaddr: phdr_from_load.or(phdr_from_pt_phdr),
        phnum: header.e_phnum,
        phent: header.e_phentsize,
        tls,
        gnu_stack,
    })
}

fn check_load(file_len: u64, ph: &ProgramHeader) -> Result<Segment, LoadError> {
    if ph.p_filesz > ph.p_memsz {
        return Err(LoadError::malformed("PT_LOAD p_filesz exceeds p_memsz"));
    }
    if ph.p_offset.checked_add(ph.p_filesz).is_none_or(|end| end > file_len) {
        return Err(LoadError::malformed(
            "PT_LOAD file range beyond the end of the file",
        ));
    }
    let end = ph.p_vaddr.checked_add(ph.p_memsz).and_then(page_up);
    if end.is_none() {
        return Err(LoadError::malformed(
            "PT_LOAD wraps around the address space",
        ));
    }
    if ph.p_align != 0 && !ph.p_align.is_power_of_two() {
        return Err(LoadError::malformed(
            "PT_LOAD p_align is not a power of two",
        ));
    }
    Ok(Segment {
        vaddr: ph.p_vaddr,
        memsz: ph.p_memsz,
        filesz: ph.p_filesz,
        offset: ph.p_offset,
        prot: Prot::from_p_flags(ph.p_flags),
        align: ph.p_align,
    })
}

fn check_interp<'a>(elf: &'a [u8], ph: &ProgramHeader) -> Result<&'a str, LoadError> {
    if ph.p_filesz < 2 || ph.p_filesz > MAX_INTERP_BYTES {
        return Err(LoadError::malformed("PT_INTERP has a bad size"));
    }
    let bytes = file_range(elf, ph.p_offset, ph.p_filesz)
        .ok_or(LoadError::malformed("PT_INTERP beyond the end of the file"))?;
    let (last, path) = bytes
        .split_last()
        .ok_or(LoadError::malformed("PT_INTERP has a bad size"))?;
    if *last != 0 {
        return Err(LoadError::malformed("PT_INTERP is not NUL-terminated"));
    }
    // The kernel opens it as a C string: it ends at the first NUL.
    let path = path.split(|&byte| byte == 0).next().unwrap_or_default();
    if path.is_empty() {
        return Err(LoadError::malformed("PT_INTERP is empty"));
    }
    core::str::from_utf8(path).map_err(|_| LoadError::malformed("PT_INTERP is not UTF-8"))
}

fn check_tls(ph: &ProgramHeader) -> Result<TlsSegment, LoadError> {
    if ph.p_filesz > ph.p_memsz {
        return Err(LoadError::malformed("PT_TLS p_filesz exceeds p_memsz"));
    }
    if ph.p_align != 0 && !ph.p_align.is_power_of_two() {
        return Err(LoadError::malformed("PT_TLS p_align is not a power of two"));
    }
    if ph.p_vaddr.checked_add(ph.p_memsz).is_none() {
        return Err(LoadError::malformed(
            "PT_TLS wraps around the address space",
        ));
    }
    Ok(TlsSegment {
        vaddr: ph.p_vaddr,
        filesz: ph.p_filesz,
        memsz: ph.p_memsz,
        align: ph.p_align,
    })
}
