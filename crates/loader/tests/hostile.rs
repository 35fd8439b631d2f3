//! Malformed, truncated, overflowing and random inputs: each must be refused with
//! `ENOEXEC` (or load without trouble when it is in fact valid) and never panic. Also
//! hand-made files for cases no compiler produces (three segments in one page, a
//! PROT_NONE segment, PT_INTERP variants).

mod common;

use abi::Errno;
use common::*;
use loader::{load, parse, LoadError, Prot};

fn reason(elf: &[u8]) -> &'static str {
    let error: LoadError = parse(elf).expect_err("must be refused");
    assert_eq!(error.errno(), Errno::ENOEXEC, "{error}");
    error.reason()
}

/// Parses, and loads whatever parses (at its Linux bias), into a bounded fake target.
fn parse_and_maybe_load(elf: &[u8]) {
    if let Ok(program) = parse(elf) {
        let bias = program.load_bias(loader::DEFAULT_DYN_BIAS);
        let mut target = FakeTarget::new();
        target.limit = 1 << 20;
        let _ = load(&program, elf, bias, &mut target);
    }
}

#[test]
fn every_truncation_of_every_fixture_is_refused_or_loads() {
    for name in FIXTURES {
        let elf = fixture(name);
        for len in 0..elf.len() {
            parse_and_maybe_load(&elf[..len]);
        }
        // Cut inside the header or the program headers: always refused.
        for len in 0..64 + 56 * 3 {
            assert!(parse(&elf[..len]).is_err(), "{name} cut at {len}");
        }
    }
}

#[test]
fn a_misaligned_buffer_is_fine() {
    let elf = fixture("data_bss.elf");
    let mut shifted = vec![0u8; elf.len() + 1];
    shifted[1..].copy_from_slice(&elf);
    let program = parse(&shifted[1..]).unwrap();
    assert_eq!(program.segments().len(), 2);
}

#[test]
fn byte_flips_never_panic() {
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for name in FIXTURES {
        let original = fixture(name);
        // Mostly the header and program headers, where the loader looks.
        let hot = 64 + 56 * 9;
        for _ in 0..3000 {
            let mut elf = original.clone();
            for _ in 0..1 + next() % 4 {
                let at = if next() % 4 == 0 {
                    (next() % elf.len() as u64) as usize
                } else {
                    (next() % hot as u64) as usize
                };
                elf[at] = next() as u8;
            }
            parse_and_maybe_load(&elf);
        }
    }
}

#[test]
fn random_garbage_is_refused() {
    let mut state = 12345u64;
    for len in [0usize, 1, 4, 16, 63, 64, 65, 200, 4096] {
        let mut garbage: Vec<u8> = (0..len)
            .map(|_| {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                (state >> 56) as u8
            })
            .collect();
        assert!(parse(&garbage).is_err());
        if len >= 8 {
            garbage[..8].copy_from_slice(&[0x7f, b'E', b'L', b'F', 2, 1, 1, 0]);
            parse_and_maybe_load(&garbage);
        }
    }
}

#[test]
fn header_checks() {
    let good = fixture("exit.elf");
    assert!(parse(&good).is_ok());
    let patched = |at: usize, bytes: &[u8]| {
        let mut elf = good.clone();
        elf[at..at + bytes.len()].copy_from_slice(bytes);
        elf
    };
    assert_eq!(reason(b""), "file is shorter than an ELF header");
    assert_eq!(reason(&patched(0, b"\x7fELG")), "no ELF magic");
    assert_eq!(reason(&patched(4, &[1])), "not a 64-bit ELF file");
    assert_eq!(reason(&patched(5, &[2])), "not a little-endian ELF file");
    assert_eq!(
        reason(&patched(E_TYPE, &1u16.to_le_bytes())),
        "not an executable (ET_EXEC or ET_DYN)"
    );
    assert_eq!(
        reason(&patched(E_TYPE, &4u16.to_le_bytes())),
        "not an executable (ET_EXEC or ET_DYN)"
    );
    assert_eq!(
        reason(&patched(E_MACHINE, &62u16.to_le_bytes())),
        "not a RISC-V ELF file"
    );
    assert_eq!(
        reason(&patched(E_PHENTSIZE, &32u16.to_le_bytes())),
        "program-header entry size is not 56"
    );
    assert_eq!(
        reason(&patched(E_PHNUM, &0u16.to_le_bytes())),
        "no program headers"
    );
    assert_eq!(
        reason(&patched(E_PHNUM, &0xffffu16.to_le_bytes())),
        "program-header table larger than 64 KiB"
    );
    assert_eq!(
        reason(&patched(E_PHNUM, &100u16.to_le_bytes())),
        "program headers beyond the end of the file"
    );
    assert_eq!(
        reason(&patched(E_PHOFF, &u64::MAX.to_le_bytes())),
        "program headers beyond the end of the file"
    );
    assert_eq!(
        reason(&patched(E_PHOFF, &(u64::MAX - 100).to_le_bytes())),
        "program headers beyond the end of the file"
    );
    assert_eq!(
        reason(&patched(E_PHOFF, &(good.len() as u64 - 56).to_le_bytes())),
        "program headers beyond the end of the file"
    );
}

#[test]
fn pt_load_checks() {
    let good = fixture("exit.elf");
    // exit.elf: header 0 is RISCV_ATTRIBUTES, header 1 the PT_LOAD.
    let patched = |field: usize, value: u64| {
        let mut elf = good.clone();
        put64(&mut elf, ph_field(1, field), value);
        elf
    };
    assert_eq!(
        reason(&patched(P_FILESZ, 0x100)),
        "PT_LOAD p_filesz exceeds p_memsz"
    );
    assert_eq!(
        reason(&patched(P_OFFSET, u64::MAX)),
        "PT_LOAD file range beyond the end of the file"
    );
    assert_eq!(
        reason(&patched(P_OFFSET, good.len() as u64 - 0xf0)),
        "PT_LOAD file range beyond the end of the file"
    );
    assert_eq!(
        reason(&patched(P_VADDR, u64::MAX - 0x10)),
        "PT_LOAD wraps around the address space"
    );
    assert_eq!(
        reason(&patched(P_VADDR, u64::MAX - 0x1000)),
        "PT_LOAD wraps around the address space"
    );
    assert_eq!(
        reason(&patched(P_ALIGN, 0x1800)),
        "PT_LOAD p_align is not a power of two"
    );
    let mut no_load = good.clone();
    put32(&mut no_load, ph_field(1, 0), 4); // PT_NOTE
    assert_eq!(reason(&no_load), "no loadable (PT_LOAD) segment");
    // Zero alignment is allowed; a huge memsz parses (the target refuses to map it).
    assert!(parse(&patched(P_ALIGN, 0)).is_ok());
    let huge = patched(P_MEMSZ, 1 << 40);
    let program = parse(&huge).unwrap();
    let error = load(&program, &huge, 0, &mut FakeTarget::new()).unwrap_err();
    assert_eq!(error.errno(), Errno::ENOEXEC); // beyond USER_SPACE_END
    let big = patched(P_MEMSZ, 1 << 30);
    let program = parse(&big).unwrap();
    let error = load(&program, &big, 0, &mut FakeTarget::new()).unwrap_err();
    assert_eq!(error.errno(), Errno::ENOMEM); // the fake target's limit
}

#[test]
fn overlapping_segments_are_refused() {
    let load_at = |vaddr, memsz| Ph {
        p_type: PT_LOAD,
        flags: PF_R,
        offset: 0,
        vaddr,
        filesz: 0,
        memsz,
        align: 0x1000,
    };
    let elf = build_elf(
        ET_EXEC,
        0x10000,
        &[load_at(0x10000, 0x100), load_at(0x100ff, 0x10)],
        &[],
    );
    assert_eq!(reason(&elf), "PT_LOAD segments overlap in memory");
    // Touching is fine, and so is file order that is not address order.
    let elf = build_elf(
        ET_EXEC,
        0x10000,
        &[load_at(0x10100, 0x10), load_at(0x10000, 0x100)],
        &[],
    );
    assert_eq!(parse(&elf).unwrap().segments().len(), 2);
    // Empty segments are dropped.
    let elf = build_elf(
        ET_EXEC,
        0x10000,
        &[load_at(0x10000, 0x100), load_at(0x10050, 0)],
        &[],
    );
    assert_eq!(parse(&elf).unwrap().segments().len(), 1);
}

#[test]
fn three_segments_in_one_page_and_a_prot_none_segment() {
    let body: Vec<u8> = (0..0x30).map(|i| i as u8 + 1).collect();
    let base = body_offset(4);
    let seg = |flags, offset: u64, vaddr, filesz, memsz| Ph {
        p_type: PT_LOAD,
        flags,
        offset,
        vaddr,
        filesz,
        memsz,
        align: 16,
    };
    let phdrs = [
        seg(PF_R | PF_X, base, 0x10100, 0x10, 0x10),
        seg(PF_R, base + 0x10, 0x10200, 0x10, 0x20),
        seg(PF_R | PF_W, base + 0x20, 0x10ff0, 0x10, 0x1020),
        seg(0, 0, 0x13000, 0, 0x10),
    ];
    let elf = build_elf(ET_EXEC, 0x10100, &phdrs, &body);
    let program = parse(&elf).unwrap();
    // e_phoff (64) is not inside any PT_LOAD's file range here.
    assert_eq!(program.phdr_vaddr(), None);
    let mut target = FakeTarget::new();
    let loaded = load(&program, &elf, 0, &mut target).unwrap();
    let all = Prot::READ | Prot::WRITE | Prot::EXEC;
    assert_eq!(
        target.maps,
        [
            (0x10000, 0x1000, all),
            (0x11000, 0x2000, Prot::READ | Prot::WRITE),
            (0x13000, 0x1000, Prot::empty()),
        ]
    );
    assert_eq!(target.read(0x10100, 0x10), body[..0x10]);
    assert_eq!(target.read(0x10200, 0x10), body[0x10..0x20]);
    assert_eq!(target.read(0x10210, 0x10), [0; 0x10]);
    assert_eq!(target.read(0x10ff0, 0x10), body[0x20..0x30]);
    let mut expected_first_page = vec![0u8; 0x1000];
    expected_first_page[0x100..0x110].copy_from_slice(&body[..0x10]);
    expected_first_page[0x200..0x210].copy_from_slice(&body[0x10..0x20]);
    expected_first_page[0xff0..].copy_from_slice(&body[0x20..0x30]);
    assert_eq!(target.read(0x10000, 0x1000), expected_first_page);
    assert!(target.read(0x11000, 0x3000).iter().all(|&b| b == 0));
    assert_eq!(loaded.phdr, 0);
    assert_eq!(loaded.brk_start, 0x14000);
}

#[test]
fn pt_phdr_is_the_fallback_for_at_phdr() {
    let pt_phdr = Ph {
        p_type: PT_PHDR,
        flags: PF_R,
        offset: 64,
        vaddr: 0x20040,
        filesz: 112,
        memsz: 112,
        align: 8,
    };
    // The PT_LOAD does not contain the table: PT_PHDR decides.
    let load = Ph {
        p_type: PT_LOAD,
        flags: PF_R,
        offset: body_offset(2),
        vaddr: 0x20000,
        filesz: 16,
        memsz: 16,
        align: 0x1000,
    };
    let elf = build_elf(ET_EXEC, 0x20000, &[pt_phdr, load], &[0; 16]);
    assert_eq!(parse(&elf).unwrap().phdr_vaddr(), Some(0x20040));
    // A PT_LOAD contains the table: Linux's rule wins over a PT_PHDR that disagrees.
    let covering = Ph {
        offset: 0,
        vaddr: 0x30000,
        filesz: 0x100,
        memsz: 0x100,
        ..load
    };
    let elf = build_elf(ET_EXEC, 0x30000, &[pt_phdr, covering], &[0; 0x100]);
    assert_eq!(parse(&elf).unwrap().phdr_vaddr(), Some(0x30040));
}

#[test]
fn interpreter_checks() {
    let with_interp = |interp: &[u8], filesz: u64| {
        let load = Ph {
            p_type: PT_LOAD,
            flags: PF_R,
            offset: 0,
            vaddr: 0,
            filesz: 0x100,
            memsz: 0x100,
            align: 0x1000,
        };
        let ph = Ph {
            p_type: PT_INTERP,
            flags: PF_R,
            offset: body_offset(2),
            vaddr: body_offset(2),
            filesz,
            memsz: filesz,
            align: 1,
        };
        let mut body = interp.to_vec();
        body.resize(0x100, 0);
        build_elf(ET_DYN, 0, &[load, ph], &body)
    };
    let ok = with_interp(b"/lib/ld.so\0", 11);
    assert_eq!(parse(&ok).unwrap().interpreter(), Some("/lib/ld.so"));
    // Ends at the first NUL, like the C string the kernel opens.
    assert_eq!(
        parse(&with_interp(b"/a\0junk\0", 8)).unwrap().interpreter(),
        Some("/a")
    );
    assert_eq!(
        reason(&with_interp(b"/lib/ld.so!", 11)),
        "PT_INTERP is not NUL-terminated"
    );
    assert_eq!(reason(&with_interp(b"\0", 1)), "PT_INTERP has a bad size");
    assert_eq!(reason(&with_interp(b"\0\0", 2)), "PT_INTERP is empty");
    assert_eq!(
        reason(&with_interp(b"/\xff\0", 3)),
        "PT_INTERP is not UTF-8"
    );
    assert_eq!(
        reason(&with_interp(b"/x\0", 4097)),
        "PT_INTERP has a bad size"
    );
    assert_eq!(
        reason(&with_interp(b"/x\0", 0x1000)),
        "PT_INTERP beyond the end of the file"
    );
    let mut far = ok.clone();
    put64(&mut far, ph_field(1, P_OFFSET), u64::MAX - 4);
    assert_eq!(reason(&far), "PT_INTERP beyond the end of the file");
}

#[test]
fn tls_and_stack_flags() {
    let load = Ph {
        p_type: PT_LOAD,
        flags: PF_R | PF_W,
        offset: 0,
        vaddr: 0x10000,
        filesz: 0x100,
        memsz: 0x200,
        align: 0x1000,
    };
    let tls = |filesz, memsz, align| Ph {
        p_type: PT_TLS,
        flags: PF_R,
        offset: 0x80,
        vaddr: 0x10080,
        filesz,
        memsz,
        align,
    };
    let stack = Ph {
        p_type: PT_GNU_STACK,
        flags: PF_R | PF_W | PF_X,
        ..Ph::default()
    };
    let elf = build_elf(
        ET_EXEC,
        0x10000,
        &[load, tls(8, 24, 16), stack],
        &[0; 0x100],
    );
    let program = parse(&elf).unwrap();
    assert_eq!(
        program.tls().map(|t| (t.vaddr, t.filesz, t.memsz, t.align)),
        Some((0x10080, 8, 24, 16))
    );
    assert_eq!(
        program.gnu_stack(),
        Some(Prot::READ | Prot::WRITE | Prot::EXEC)
    );
    let elf = build_elf(ET_EXEC, 0x10000, &[load, tls(24, 8, 16)], &[0; 0x100]);
    assert_eq!(reason(&elf), "PT_TLS p_filesz exceeds p_memsz");
    let elf = build_elf(ET_EXEC, 0x10000, &[load, tls(8, 8, 12)], &[0; 0x100]);
    assert_eq!(reason(&elf), "PT_TLS p_align is not a power of two");
}

#[test]
fn load_bias_follows_alignment() {
    let seg = |align| Ph {
        p_type: PT_LOAD,
        flags: PF_R,
        offset: 0,
        vaddr: 0,
        filesz: 0x100,
        memsz: 0x100,
        align,
    };
    let program_with = |align| build_elf(ET_DYN, 0, &[seg(align)], &[0; 0x100]);
    let elf = program_with(0x10000);
    let program = parse(&elf).unwrap();
    assert_eq!(program.max_align(), 0x10000);
    assert_eq!(program.load_bias(loader::DEFAULT_DYN_BIAS), 0x2a_aaaa_0000);
    // An absurd alignment does not panic; the bias it gives is refused or loads low.
    let elf = program_with(1 << 63);
    let program = parse(&elf).unwrap();
    let bias = program.load_bias(loader::DEFAULT_DYN_BIAS);
    assert_eq!(bias, 0);
    // A first segment above zero moves the bias down so that it lands at the base.
    let elf = build_elf(
        ET_DYN,
        0,
        &[Ph {
            vaddr: 0x5000,
            ..seg(0x1000)
        }],
        &[0; 0x100],
    );
    let program = parse(&elf).unwrap();
    assert_eq!(program.load_bias(0x40_0000) + 0x5000, 0x40_0000);
}
