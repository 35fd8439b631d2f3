//! `load_mapped` against a fake address space that maps file pages by copying them:
//! every byte of every segment's file range must read as the file, every bss byte as
//! zero, writable pages must get their tail zeroed, and the mapping calls must be
//! page-aligned file mappings at congruent offsets, as Linux makes them.

mod common;

use abi::Errno;
use common::fixture;
use loader::{load_mapped, parse, parse_head, MapTarget, Prot, DEFAULT_DYN_BIAS, PAGE_SIZE};
use std::collections::BTreeMap;

/// Pages by address: (protection, bytes, from the file?).
struct FakeSpace<'a> {
    file: &'a [u8],
    pages: BTreeMap<u64, (Prot, Vec<u8>)>,
    calls: Vec<String>,
}

impl MapTarget for FakeSpace<'_> {
    fn map_file(&mut self, start: u64, len: u64, prot: Prot, offset: u64) -> abi::Result<()> {
        assert!(start.is_multiple_of(PAGE_SIZE) && len.is_multiple_of(PAGE_SIZE) && offset.is_multiple_of(PAGE_SIZE) && len > 0);
        self.calls.push(format!("file {start:#x}+{len:#x} {prot:?} @{offset:#x}"));
        for page in 0..len / PAGE_SIZE {
            let at = (offset + page * PAGE_SIZE) as usize;
            let mut bytes = vec![0u8; PAGE_SIZE as usize];
            let end = (at + PAGE_SIZE as usize).min(self.file.len());
            if at < end {
                bytes[..end - at].copy_from_slice(&self.file[at..end]);
            }
            self.pages.insert(start + page * PAGE_SIZE, (prot, bytes));
        }
        Ok(())
    }

    fn map_zero(&mut self, start: u64, len: u64, prot: Prot) -> abi::Result<()> {
        assert!(start.is_multiple_of(PAGE_SIZE) && len.is_multiple_of(PAGE_SIZE) && len > 0);
        self.calls.push(format!("zero {start:#x}+{len:#x} {prot:?}"));
        for page in 0..len / PAGE_SIZE {
            self.pages.insert(start + page * PAGE_SIZE, (prot, vec![0; PAGE_SIZE as usize]));
        }
        Ok(())
    }

    fn zero(&mut self, va: u64, len: u64) -> abi::Result<()> {
        let page = va & !(PAGE_SIZE - 1);
        assert!(va + len <= page + PAGE_SIZE, "zero within one page");
        let (prot, bytes) = self.pages.get_mut(&page).ok_or(Errno::EFAULT)?;
        assert!(prot.contains(Prot::WRITE), "only writable pages are zeroed");
        let from = (va - page) as usize;
        bytes[from..from + len as usize].fill(0);
        Ok(())
    }
}

impl FakeSpace<'_> {
    fn byte(&self, va: u64) -> u8 {
        self.pages[&(va & !(PAGE_SIZE - 1))].1[(va % PAGE_SIZE) as usize]
    }
}

fn check_image(name: &str) -> Vec<String> {
    let elf = fixture(name);
    let program = parse(&elf).unwrap();
    let bias = program.load_bias(DEFAULT_DYN_BIAS);
    let mut space = FakeSpace { file: &elf, pages: BTreeMap::new(), calls: Vec::new() };
    let loaded = load_mapped(&program, bias, &mut space).unwrap_or_else(|error| panic!("{name}: {error:?}"));
    let mut segments = program.segments().to_vec();
    segments.sort_by_key(|segment| segment.vaddr);
    for (number, segment) in segments.iter().enumerate() {
        let start = segment.vaddr + bias;
        // A later segment sharing the last page replaces it (MAP_FIXED): check only
        // the bytes below the next segment's first page.
        let limit = segments.get(number + 1).map_or(u64::MAX, |next| (next.vaddr + bias) & !(PAGE_SIZE - 1));
        for i in 0..segment.memsz {
            let va = start + i;
            if va >= limit {
                break;
            }
            let expected = if i < segment.filesz { elf[(segment.offset + i) as usize] } else { 0 };
            assert_eq!(space.byte(va), expected, "{name}: byte {va:#x}");
        }
        if segment.prot.contains(Prot::WRITE) && segment.memsz > segment.filesz {
            let page_end = (start + segment.filesz).div_ceil(PAGE_SIZE) * PAGE_SIZE;
            for va in start + segment.filesz..page_end.min(limit) {
                assert_eq!(space.byte(va), 0, "{name}: tail {va:#x}");
            }
        }
    }
    assert_eq!(loaded.entry, program.entry() + bias);
    let end = segments.iter().map(|segment| segment.vaddr + bias + segment.memsz).max().unwrap();
    assert_eq!(loaded.brk_start, end.div_ceil(PAGE_SIZE) * PAGE_SIZE);
    space.calls
}

#[test]
fn every_fixture_maps_to_the_bytes_the_copying_loader_produces() {
    for name in ["exit.elf", "data_bss.elf", "static_pie.elf", "dynamic_pie.elf"] {
        let calls = check_image(name);
        assert!(calls.iter().any(|call| call.starts_with("file ")), "{name}: {calls:?}");
    }
}

#[test]
fn the_minimal_program_is_one_file_mapping() {
    assert_eq!(check_image("exit.elf"), ["file 0x10000+0x1000 Prot(READ | EXEC) @0x0"]);
}

#[test]
fn data_and_bss_are_a_file_mapping_and_anonymous_zeros() {
    let calls = check_image("data_bss.elf");
    assert!(calls.iter().any(|call| call.starts_with("zero ")), "{calls:?}");
}

#[test]
fn the_head_of_a_file_is_enough_to_parse() {
    let elf = fixture("data_bss.elf");
    let head = &elf[..PAGE_SIZE.min(elf.len() as u64) as usize];
    let program = parse_head(head, elf.len() as u64).unwrap();
    assert_eq!(program.segments(), parse(&elf).unwrap().segments());
    assert!(parse_head(head, 100).is_err(), "segments beyond the file length are refused");
}

#[test]
fn incongruent_offsets_are_refused() {
    let elf = fixture("exit.elf");
    let program = parse(&elf).unwrap();
    let mut space = FakeSpace { file: &elf, pages: BTreeMap::new(), calls: Vec::new() };
    assert_eq!(load_mapped(&program, 0x800, &mut space).unwrap_err().errno(), Errno::EINVAL);
    // Linked with 16-byte pages: its data segment's offset is not congruent (Linux's
    // mmap refuses it too; the kernel falls back to copying).
    let elf = fixture("shared_page.elf");
    let program = parse(&elf).unwrap();
    let mut space = FakeSpace { file: &elf, pages: BTreeMap::new(), calls: Vec::new() };
    assert_eq!(load_mapped(&program, 0, &mut space).unwrap_err().errno(), Errno::EINVAL);
}
