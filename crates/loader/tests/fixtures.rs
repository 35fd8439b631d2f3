//! Parsing and loading the real riscv64 binaries in `tests/fixtures` (built by
//! `tests/fixtures/build.sh`) into a fake address space, checking every byte that
//! lands in memory, the page protections and the ET_DYN bias.

mod common;

use common::{fixture, FakeTarget, POISON};
use loader::{load, parse, Prot, Segment, TlsSegment, DEFAULT_DYN_BIAS, PAGE_SIZE};

const RX: Prot = Prot::READ.union(Prot::EXEC);
const RW: Prot = Prot::READ.union(Prot::WRITE);

#[test]
fn parses_the_minimal_static_program() {
    let elf = fixture("exit.elf");
    let program = parse(&elf).unwrap();
    assert!(!program.is_dynamic());
    assert_eq!(program.entry(), 0x100e8);
    assert_eq!(
        program.segments(),
        [Segment {
            vaddr: 0x10000,
            memsz: 0xf6,
            filesz: 0xf6,
            offset: 0,
            prot: RX,
            align: 0x1000
        }]
    );
    assert_eq!(program.interpreter(), None);
    assert_eq!(program.phdr_vaddr(), Some(0x10040));
    assert_eq!((program.phnum(), program.phent()), (3, 56));
    assert_eq!(program.tls(), None);
    assert_eq!(program.gnu_stack(), Some(RW));
    assert_eq!(program.load_bias(DEFAULT_DYN_BIAS), 0);
    assert_eq!(program.extent(), (0x10000, 0x11000));
}

#[test]
fn loads_the_minimal_static_program() {
    let elf = fixture("exit.elf");
    let program = parse(&elf).unwrap();
    let mut target = FakeTarget::new();
    let loaded = load(&program, &elf, 0, &mut target).unwrap();
    assert_eq!(target.maps, [(0x10000, 0x1000, RX)]);
    assert_eq!(target.read(0x10000, 0xf6), elf[..0xf6]);
    assert!(target.read(0x100f6, 0x1000 - 0xf6).iter().all(|&b| b == 0));
    assert_eq!(loaded.entry, 0x100e8);
    assert_eq!(loaded.phdr, 0x10040);
    assert_eq!((loaded.phnum, loaded.phent), (3, 56));
    assert_eq!(loaded.brk_start, 0x11000);
    assert_eq!(loaded.bias, 0);
    // The entry point holds the code: `li a0,42` is the first instruction of _start
    // at -O2 (compressed: 0x02a00513 or c.li).
    assert_eq!(target.read(0x100e8, 2), elf[0xe8..0xea]);
}

#[test]
fn parses_data_bss_and_tls() {
    let elf = fixture("data_bss.elf");
    let program = parse(&elf).unwrap();
    assert_eq!(program.entry(), 0x10190);
    assert_eq!(program.segments().len(), 2);
    assert_eq!(
        program.segments()[1],
        Segment {
            vaddr: 0x11ff8,
            memsz: 0x2738,
            filesz: 0x28,
            offset: 0xff8,
            prot: RW,
            align: 0x1000
        }
    );
    assert_eq!(
        program.tls(),
        Some(TlsSegment {
            vaddr: 0x11ff8,
            filesz: 8,
            memsz: 8,
            align: 8
        })
    );
    assert_eq!(program.phdr_vaddr(), Some(0x10040));
    assert_eq!(program.extent(), (0x10000, 0x15000));
}

#[test]
fn loads_unaligned_data_and_zeroes_the_bss() {
    let elf = fixture("data_bss.elf");
    let program = parse(&elf).unwrap();
    let mut target = FakeTarget::new();
    let loaded = load(&program, &elf, 0, &mut target).unwrap();
    assert_eq!(target.maps, [(0x10000, 0x1000, RX), (0x11000, 0x4000, RW)]);
    // Text: file bytes, then zero to the end of the page.
    assert_eq!(target.read(0x10000, 0x1c4), elf[..0x1c4]);
    assert!(target.read(0x101c4, 0x1000 - 0x1c4).iter().all(|&b| b == 0));
    // Data: zero before it in its first page, the file part across the page
    // boundary, then zero (rest of the last file page and the bss) to the end.
    assert!(target.read(0x11000, 0xff8).iter().all(|&b| b == 0));
    assert_eq!(target.read(0x11ff8, 0x28), elf[0xff8..0x1020]);
    assert!(target
        .read(0x12020, 0x15000 - 0x12020)
        .iter()
        .all(|&b| b == 0));
    // .data at 0x12000 holds the greeting, .tdata at 0x11ff8 the TLS value 7.
    assert_eq!(target.read(0x12000, 19), b"coros data segment\n");
    assert_eq!(target.read(0x11ff8, 8), 7u64.to_le_bytes());
    assert_eq!(
        target.read(0x12018, 8),
        0x1122_3344_5566_7788u64.to_le_bytes()
    );
    assert_eq!(loaded.brk_start, 0x15000);
    assert!(target
        .pages
        .values()
        .all(|(_, page)| !page.contains(&POISON)));
}

#[test]
fn segments_sharing_a_page_get_the_union_of_their_protections() {
    let elf = fixture("shared_page.elf");
    let program = parse(&elf).unwrap();
    assert_eq!(program.segments()[0].end(), 0x101c4);
    assert_eq!(program.segments()[1].vaddr, 0x101d8);
    let mut target = FakeTarget::new();
    let loaded = load(&program, &elf, 0, &mut target).unwrap();
    assert_eq!(
        target.maps,
        [(0x10000, 0x1000, RW | RX), (0x11000, 0x2000, RW)]
    );
    assert_eq!(target.read(0x10000, 0x1c4), elf[..0x1c4]);
    assert_eq!(target.read(0x101c4, 0x14), [0; 0x14]);
    assert_eq!(target.read(0x101d8, 0x28), elf[0x1c8..0x1f0]);
    assert_eq!(target.read(0x101e0, 19), b"coros data segment\n");
    assert!(target
        .read(0x10200, 0x12910 - 0x10200)
        .iter()
        .all(|&b| b == 0));
    assert_eq!(target.prot(0x12000), RW);
    assert_eq!(loaded.brk_start, 0x13000);
    assert!(target
        .pages
        .values()
        .all(|(_, page)| !page.contains(&POISON)));
}

#[test]
fn static_pie_loads_at_the_linux_default_bias() {
    let elf = fixture("static_pie.elf");
    let program = parse(&elf).unwrap();
    assert!(program.is_dynamic());
    assert_eq!(program.interpreter(), None);
    assert_eq!(program.entry(), 0x21a);
    // No PT_PHDR: found through the PT_LOAD that contains e_phoff.
    assert_eq!(program.phdr_vaddr(), Some(0x40));
    let bias = program.load_bias(DEFAULT_DYN_BIAS);
    assert_eq!(bias, 0x2a_aaaa_a000);
    let mut target = FakeTarget::new();
    let loaded = load(&program, &elf, bias, &mut target).unwrap();
    assert_eq!(
        target.maps,
        [(bias, 0x1000, RX), (bias + 0x1000, 0x4000, RW)]
    );
    assert_eq!(loaded.entry, bias + 0x21a);
    assert_eq!(loaded.phdr, bias + 0x40);
    assert_eq!(loaded.bias, bias);
    assert_eq!(loaded.brk_start, bias + 0x5000); // page_up(0x1ef8 + 0x2840)
    assert_eq!(target.read(bias, 0x24e), elf[..0x24e]);
    assert_eq!(target.read(bias + 0x2000, 19), b"coros data segment\n");
    // The phdrs are readable where AT_PHDR says.
    assert_eq!(target.read(loaded.phdr, 7 * 56), elf[0x40..0x40 + 7 * 56]);
}

#[test]
fn dynamic_pie_names_its_interpreter() {
    let elf = fixture("dynamic_pie.elf");
    let program = parse(&elf).unwrap();
    assert!(program.is_dynamic());
    assert_eq!(
        program.interpreter(),
        Some("/lib/ld-linux-riscv64-lp64d.so.1")
    );
    assert_eq!(program.phdr_vaddr(), Some(0x40));
    assert_eq!(program.phnum(), 8);
    let bias = program.load_bias(0x3f_f000_0000);
    assert_eq!(bias, 0x3f_f000_0000);
    let mut target = FakeTarget::new();
    let loaded = load(&program, &elf, bias, &mut target).unwrap();
    assert_eq!(loaded.entry, bias + 0x27a);
    assert_eq!(loaded.brk_start, bias + 0x3000);
}

#[test]
fn bias_rules() {
    let exec = fixture("exit.elf");
    let program = parse(&exec).unwrap();
    let error = load(&program, &exec, PAGE_SIZE, &mut FakeTarget::new()).unwrap_err();
    assert_eq!(error.errno(), abi::Errno::EINVAL);

    let pie = fixture("static_pie.elf");
    let program = parse(&pie).unwrap();
    let error = load(&program, &pie, DEFAULT_DYN_BIAS + 8, &mut FakeTarget::new()).unwrap_err();
    assert_eq!(error.errno(), abi::Errno::EINVAL);
    // Beyond user space: ENOEXEC, nothing mapped.
    let mut target = FakeTarget::new();
    let error = load(&program, &pie, loader::USER_SPACE_END, &mut target).unwrap_err();
    assert_eq!(error.errno(), abi::Errno::ENOEXEC);
    assert!(target.maps.is_empty());
    // Wrapping around: ENOEXEC, not a panic.
    let error = load(&program, &pie, !(PAGE_SIZE - 1), &mut target).unwrap_err();
    assert_eq!(error.errno(), abi::Errno::ENOEXEC);
}

#[test]
fn target_errors_keep_their_errno() {
    let elf = fixture("data_bss.elf");
    let program = parse(&elf).unwrap();
    let mut target = FakeTarget::new();
    target.limit = PAGE_SIZE; // room for the text page only
    let error = load(&program, &elf, 0, &mut target).unwrap_err();
    assert_eq!(error.errno(), abi::Errno::ENOMEM);
    assert_eq!(abi::Errno::from(error), abi::Errno::ENOMEM);
}

#[test]
fn auxv_and_stack_for_a_loaded_program() {
    use loader::auxv::*;
    let elf = fixture("static_pie.elf");
    let program = parse(&elf).unwrap();
    let loaded = load(
        &program,
        &elf,
        program.load_bias(DEFAULT_DYN_BIAS),
        &mut FakeTarget::new(),
    )
    .unwrap();
    let auxv = auxv_for(&loaded, 0, 1000, 100, 0x112d, USER_HZ);
    assert_eq!(
        auxv,
        [
            (AT_HWCAP, 0x112d),
            (AT_PAGESZ, 4096),
            (AT_CLKTCK, 100),
            (AT_PHDR, loaded.phdr),
            (AT_PHENT, 56),
            (AT_PHNUM, 7),
            (AT_BASE, 0),
            (AT_FLAGS, 0),
            (AT_ENTRY, loaded.entry),
            (AT_UID, 1000),
            (AT_EUID, 1000),
            (AT_GID, 100),
            (AT_EGID, 100),
            (AT_SECURE, 0),
        ]
    );
    let spec = loader::StackSpec {
        argv: &[b"static_pie"],
        envp: &[],
        auxv: &auxv,
        random: [7; 16],
        execfn: b"/static_pie",
        platform: b"",
        arg_limit: loader::arg_limit_for_stack_rlimit(8 << 20),
    };
    let top = 0x3f_ffff_f000;
    let image = loader::build_stack(top, &spec).unwrap();
    // argc, argv[0], NULL, NULL, then the auxv as given, then the loader's entries.
    let word = |index: usize| {
        u64::from_le_bytes(image.bytes[index * 8..index * 8 + 8].try_into().unwrap())
    };
    assert_eq!(word(0), 1);
    assert_eq!((word(2), word(3)), (0, 0));
    for (i, &(key, value)) in auxv.iter().enumerate() {
        assert_eq!((word(4 + 2 * i), word(5 + 2 * i)), (key, value));
    }
    let rest = 4 + 2 * auxv.len();
    assert_eq!((word(rest), word(rest + 1)), (AT_RANDOM, image.random));
    assert_eq!((word(rest + 2), word(rest + 3)), (AT_EXECFN, image.execfn));
    assert_eq!((word(rest + 4), word(rest + 5)), (AT_NULL, 0));
    let random_at = (image.random - image.sp) as usize;
    assert_eq!(image.bytes[random_at..random_at + 16], [7; 16]);
}
