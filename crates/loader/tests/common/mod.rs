//! Test support shared by the integration tests: a fake address space implementing
//! `LoadTarget` (a map of 4 KiB pages, filled with a poison byte so that missing zeroing
//! shows), the committed fixtures, and a builder for hand-made ELF files.
#![allow(dead_code)]

use abi::Errno;
use loader::{LoadTarget, Prot, PAGE_SIZE};
use std::collections::BTreeMap;

/// What a freshly mapped page holds before the loader writes or zeroes it.
pub const POISON: u8 = 0xa5;

/// An address space as a map from page address to (protection, contents).
#[derive(Default)]
pub struct FakeTarget {
    pub pages: BTreeMap<u64, (Prot, Vec<u8>)>,
    /// Every `map_segment` call, in order.
    pub maps: Vec<(u64, u64, Prot)>,
    /// Refuse to map more than this many bytes in all (hostile bss sizes).
    pub limit: u64,
}

impl FakeTarget {
    pub fn new() -> Self {
        Self {
            limit: 64 << 20,
            ..Self::default()
        }
    }

    fn page_mut(&mut self, va: u64) -> Result<&mut Vec<u8>, Errno> {
        let page = va & !(PAGE_SIZE - 1);
        self.pages
            .get_mut(&page)
            .map(|(_, bytes)| bytes)
            .ok_or(Errno::EFAULT)
    }

    /// Reads `len` bytes at `va`; panics on unmapped memory (tests only).
    pub fn read(&self, va: u64, len: usize) -> Vec<u8> {
        (0..len as u64)
            .map(|i| {
                let address = va + i;
                let (_, bytes) = &self.pages[&(address & !(PAGE_SIZE - 1))];
                bytes[(address % PAGE_SIZE) as usize]
            })
            .collect()
    }

    pub fn prot(&self, va: u64) -> Prot {
        self.pages[&(va & !(PAGE_SIZE - 1))].0
    }
}

impl LoadTarget for FakeTarget {
    fn map_segment(&mut self, start: u64, len: u64, prot: Prot) -> abi::Result<()> {
        assert_eq!(start % PAGE_SIZE, 0, "unaligned map start {start:#x}");
        assert_eq!(len % PAGE_SIZE, 0, "unaligned map length {len:#x}");
        assert!(len > 0);
        let mapped = self.pages.len() as u64 * PAGE_SIZE;
        if len > self.limit.saturating_sub(mapped) {
            return Err(Errno::ENOMEM);
        }
        self.maps.push((start, len, prot));
        for page in (start..start + len).step_by(PAGE_SIZE as usize) {
            let fresh = (prot, vec![POISON; PAGE_SIZE as usize]);
            if self.pages.insert(page, fresh).is_some() {
                panic!("page {page:#x} mapped twice");
            }
        }
        Ok(())
    }

    fn write(&mut self, va: u64, bytes: &[u8]) -> abi::Result<()> {
        let mut done = 0;
        while done < bytes.len() {
            let address = va + done as u64;
            let offset = (address % PAGE_SIZE) as usize;
            let chunk = (PAGE_SIZE as usize - offset).min(bytes.len() - done);
            self.page_mut(address)?[offset..offset + chunk]
                .copy_from_slice(&bytes[done..done + chunk]);
            done += chunk;
        }
        Ok(())
    }

    fn zero(&mut self, va: u64, len: u64) -> abi::Result<()> {
        let mut address = va;
        while address < va + len {
            let offset = (address % PAGE_SIZE) as usize;
            let chunk = (PAGE_SIZE - offset as u64).min(va + len - address);
            self.page_mut(address)?[offset..offset + chunk as usize].fill(0);
            address += chunk;
        }
        Ok(())
    }
}

pub fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|error| panic!("{path}: {error}"))
}

pub const FIXTURES: [&str; 5] = [
    "exit.elf",
    "data_bss.elf",
    "shared_page.elf",
    "static_pie.elf",
    "dynamic_pie.elf",
];

/// A program header for [`build_elf`].
#[derive(Clone, Copy, Debug, Default)]
pub struct Ph {
    pub p_type: u32,
    pub flags: u32,
    pub offset: u64,
    pub vaddr: u64,
    pub filesz: u64,
    pub memsz: u64,
    pub align: u64,
}

pub const PT_LOAD: u32 = 1;
pub const PT_INTERP: u32 = 3;
pub const PT_PHDR: u32 = 6;
pub const PT_TLS: u32 = 7;
pub const PT_GNU_STACK: u32 = 0x6474_e551;
pub const PF_X: u32 = 1;
pub const PF_W: u32 = 2;
pub const PF_R: u32 = 4;
pub const ET_EXEC: u16 = 2;
pub const ET_DYN: u16 = 3;

/// Offsets of ELF header fields.
pub const E_TYPE: usize = 16;
pub const E_MACHINE: usize = 18;
pub const E_ENTRY: usize = 24;
pub const E_PHOFF: usize = 32;
pub const E_PHENTSIZE: usize = 54;
pub const E_PHNUM: usize = 56;
/// Offsets inside a program header.
pub const P_OFFSET: usize = 8;
pub const P_VADDR: usize = 16;
pub const P_FILESZ: usize = 32;
pub const P_MEMSZ: usize = 40;
pub const P_ALIGN: usize = 48;

/// A riscv64 ELF file: header, the program headers right after it (at 64), then
/// `body` from offset `64 + 56 * phdrs.len()`.
pub fn build_elf(e_type: u16, entry: u64, phdrs: &[Ph], body: &[u8]) -> Vec<u8> {
    let mut elf = vec![0u8; 64];
    elf[..8].copy_from_slice(&[0x7f, b'E', b'L', b'F', 2, 1, 1, 0]);
    put16(&mut elf, E_TYPE, e_type);
    put16(&mut elf, E_MACHINE, 243);
    put32(&mut elf, 20, 1);
    put64(&mut elf, E_ENTRY, entry);
    put64(&mut elf, E_PHOFF, 64);
    put16(&mut elf, 52, 64);
    put16(&mut elf, E_PHENTSIZE, 56);
    put16(&mut elf, E_PHNUM, phdrs.len() as u16);
    for ph in phdrs {
        let mut raw = [0u8; 56];
        raw[0..4].copy_from_slice(&ph.p_type.to_le_bytes());
        raw[4..8].copy_from_slice(&ph.flags.to_le_bytes());
        raw[8..16].copy_from_slice(&ph.offset.to_le_bytes());
        raw[16..24].copy_from_slice(&ph.vaddr.to_le_bytes());
        raw[24..32].copy_from_slice(&ph.vaddr.to_le_bytes());
        raw[32..40].copy_from_slice(&ph.filesz.to_le_bytes());
        raw[40..48].copy_from_slice(&ph.memsz.to_le_bytes());
        raw[48..56].copy_from_slice(&ph.align.to_le_bytes());
        elf.extend_from_slice(&raw);
    }
    elf.extend_from_slice(body);
    elf
}

/// Where the body of a [`build_elf`] file with `phnum` headers starts.
pub const fn body_offset(phnum: usize) -> u64 {
    64 + 56 * phnum as u64
}

pub fn put16(bytes: &mut [u8], at: usize, value: u16) {
    bytes[at..at + 2].copy_from_slice(&value.to_le_bytes());
}
pub fn put32(bytes: &mut [u8], at: usize, value: u32) {
    bytes[at..at + 4].copy_from_slice(&value.to_le_bytes());
}
pub fn put64(bytes: &mut [u8], at: usize, value: u64) {
    bytes[at..at + 8].copy_from_slice(&value.to_le_bytes());
}
/// Offset of field `field` of program header `index` in a file with e_phoff = 64.
pub const fn ph_field(index: usize, field: usize) -> usize {
    64 + 56 * index + field
}
