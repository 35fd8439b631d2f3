//! The initial stack, checked byte by byte against Linux's layout, plus the E2BIG
//! limits and the alignment of `sp` for many string lengths.

use abi::Errno;
use loader::auxv::*;
use loader::{arg_limit_for_stack_rlimit, build_stack, StackImage, StackSpec};

const TOP: u64 = 0x1000_0000;
const RANDOM: [u8; 16] = [
    0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
];

fn spec<'a>(argv: &'a [&'a [u8]], envp: &'a [&'a [u8]], auxv: &'a [(u64, u64)]) -> StackSpec<'a> {
    StackSpec {
        argv,
        envp,
        auxv,
        random: RANDOM,
        execfn: b"/x",
        platform: b"",
        arg_limit: arg_limit_for_stack_rlimit(8 << 20),
    }
}

/// argv strings, envp strings and auxv pairs.
type Decoded<'a> = (Vec<&'a [u8]>, Vec<&'a [u8]>, Vec<(u64, u64)>);

/// Reads the stack as user space would: a u64 or a C string at an address.
struct View<'a>(&'a StackImage, u64);

impl<'a> View<'a> {
    fn word(&self, address: u64) -> u64 {
        let at = (address - self.0.sp) as usize;
        u64::from_le_bytes(self.0.bytes[at..at + 8].try_into().unwrap())
    }
    fn c_string(&self, address: u64) -> &'a [u8] {
        let at = (address - self.0.sp) as usize;
        let len = self.0.bytes[at..].iter().position(|&b| b == 0).unwrap();
        &self.0.bytes[at..at + len]
    }
    fn bytes(&self, address: u64, len: usize) -> &'a [u8] {
        let at = (address - self.0.sp) as usize;
        &self.0.bytes[at..at + len]
    }
    /// argv, envp and auxv as user space finds them from sp.
    fn decode(&self) -> Decoded<'a> {
        let mut at = self.0.sp;
        let argc = self.word(at);
        at += 8;
        let argv = (0..argc)
            .map(|i| self.c_string(self.word(at + 8 * i)))
            .collect();
        at += 8 * argc;
        assert_eq!(self.word(at), 0, "argv not NULL-terminated");
        at += 8;
        let mut envp = Vec::new();
        while self.word(at) != 0 {
            envp.push(self.c_string(self.word(at)));
            at += 8;
        }
        at += 8;
        let mut auxv = Vec::new();
        loop {
            let pair = (self.word(at), self.word(at + 8));
            auxv.push(pair);
            at += 16;
            if pair.0 == AT_NULL {
                break;
            }
        }
        assert!(at <= self.1, "auxv runs past the top");
        (argv, envp, auxv)
    }
}

#[test]
fn small_stack_byte_by_byte() {
    let argv: [&[u8]; 1] = [b"a"];
    let envp: [&[u8]; 1] = [b"B=1"];
    let auxv = [(AT_PAGESZ, 4096)];
    let image = build_stack(TOP, &spec(&argv, &envp, &auxv)).unwrap();
    // Top down: marker at FF8, "/x" at FF5, "B=1" at FF1, "a" at FEF; align to FE0;
    // random at FD0; 13 words (argc, argv+NULL, envp+NULL, 4 auxv pairs) below it,
    // rounded down to 16: sp = F60.
    assert_eq!(image.sp, 0xfff_ff60);
    let word = |v: u64| v.to_le_bytes().to_vec();
    let mut expected = Vec::new();
    expected.extend(word(1)); // argc
    expected.extend(word(0xfff_ffef)); // argv[0] -> "a"
    expected.extend(word(0));
    expected.extend(word(0xfff_fff1)); // envp[0] -> "B=1"
    expected.extend(word(0));
    expected.extend([word(AT_PAGESZ), word(4096)].concat());
    expected.extend([word(AT_RANDOM), word(0xfff_ffd0)].concat());
    expected.extend([word(AT_EXECFN), word(0xfff_fff5)].concat());
    expected.extend([word(AT_NULL), word(0)].concat());
    expected.extend([0; 8]); // padding up to the random bytes
    expected.extend(RANDOM);
    expected.extend([0; 15]); // padding below the strings
    expected.extend(b"a\0B=1\0/x\0");
    expected.extend([0; 8]); // end marker
    assert_eq!(expected.len(), 0xa0);
    assert_eq!(image.bytes, expected);
    assert_eq!(image.argv, image.sp + 8);
    assert_eq!(image.envp, image.sp + 24);
    assert_eq!(image.random, 0xfff_ffd0);
    assert_eq!(image.execfn, 0xfff_fff5);
}

#[test]
fn pointers_strings_and_auxv_agree() {
    let argv: [&[u8]; 3] = [b"/bin/prog", b"first arg", b""];
    let envp: [&[u8]; 2] = [b"HOME=/root", b"PATH=/bin:/usr/bin"];
    let auxv = [(AT_PAGESZ, 4096), (AT_UID, 0), (AT_ENTRY, 0x10000)];
    let mut spec = spec(&argv, &envp, &auxv);
    spec.platform = b"riscv64";
    spec.execfn = b"/bin/prog";
    let image = build_stack(TOP, &spec).unwrap();
    let view = View(&image, TOP);
    let (got_argv, got_envp, got_auxv) = view.decode();
    assert_eq!(got_argv, argv);
    assert_eq!(got_envp, envp);
    assert_eq!(image.sp % 16, 0);
    assert_eq!(image.sp + image.bytes.len() as u64, TOP);
    assert_eq!(view.word(TOP - 8), 0, "end marker");
    let value = |key| got_auxv.iter().find(|(k, _)| *k == key).map(|&(_, v)| v);
    assert_eq!(view.bytes(value(AT_RANDOM).unwrap(), 16), RANDOM);
    assert_eq!(view.c_string(value(AT_EXECFN).unwrap()), b"/bin/prog");
    assert_eq!(view.c_string(value(AT_PLATFORM).unwrap()), b"riscv64");
    assert_eq!(&got_auxv[..3], auxv);
    assert_eq!(got_auxv.last(), Some(&(AT_NULL, 0)));
    assert_eq!(got_auxv.len(), 3 + 3 + 1);
    // execfn sits right under the end marker; the strings are contiguous, argv first.
    assert_eq!(value(AT_EXECFN).unwrap(), TOP - 8 - 10);
    assert_eq!(view.word(image.envp), view.word(image.argv + 16) + 1);
    // The platform string lies between the strings and the random bytes.
    assert!(value(AT_PLATFORM).unwrap() > value(AT_RANDOM).unwrap());
    assert!(value(AT_PLATFORM).unwrap() < view.word(image.argv));
}

#[test]
fn sp_is_aligned_for_every_length() {
    for len in 0..48usize {
        for envc in 0..3usize {
            let arg = vec![b'x'; len];
            let argv: Vec<&[u8]> = vec![b"p", &arg];
            let envp: Vec<&[u8]> = (0..envc).map(|_| &b"K=V"[..]).collect();
            let auxv = vec![(AT_PAGESZ, 4096); len % 3];
            for top in [TOP, TOP - 8, TOP - 3] {
                let image = build_stack(top, &spec(&argv, &envp, &auxv)).unwrap();
                assert_eq!(image.sp % 16, 0);
                assert_eq!(image.sp + image.bytes.len() as u64, top);
                let (got_argv, got_envp, _) = View(&image, top).decode();
                assert_eq!(got_argv, argv);
                assert_eq!(got_envp, envp);
            }
        }
    }
}

#[test]
fn loader_owned_keys_in_the_input_are_replaced() {
    let argv: [&[u8]; 1] = [b"p"];
    let auxv = [
        (AT_PAGESZ, 4096),
        (AT_NULL, 0),
        (AT_RANDOM, 1),
        (AT_EXECFN, 2),
        (AT_UID, 5),
    ];
    let image = build_stack(TOP, &spec(&argv, &[], &auxv)).unwrap();
    let (_, _, got) = View(&image, TOP).decode();
    assert_eq!(
        got,
        [
            (AT_PAGESZ, 4096),
            (AT_UID, 5),
            (AT_RANDOM, image.random),
            (AT_EXECFN, image.execfn),
            (AT_NULL, 0)
        ]
    );
}

#[test]
fn empty_argv_becomes_one_empty_string() {
    let image = build_stack(TOP, &spec(&[], &[], &[])).unwrap();
    let (argv, envp, _) = View(&image, TOP).decode();
    assert_eq!(argv, [b""]);
    assert!(envp.is_empty());
}

#[test]
fn argument_limits() {
    assert_eq!(arg_limit_for_stack_rlimit(8 << 20), 2 << 20);
    assert_eq!(arg_limit_for_stack_rlimit(64 << 20), 6 << 20);
    assert_eq!(arg_limit_for_stack_rlimit(64 << 10), 128 << 10);
    assert_eq!(arg_limit_for_stack_rlimit(u64::MAX), 6 << 20);

    let long = vec![b'a'; loader::MAX_ARG_STRLEN - 1];
    let argv: [&[u8]; 2] = [b"p", &long];
    assert!(build_stack(TOP, &spec(&argv, &[], &[])).is_ok());
    let too_long = vec![b'a'; loader::MAX_ARG_STRLEN];
    let argv: [&[u8]; 2] = [b"p", &too_long];
    assert_eq!(build_stack(TOP, &spec(&argv, &[], &[])), Err(Errno::E2BIG));
    let envp: [&[u8]; 1] = [&too_long];
    assert_eq!(
        build_stack(TOP, &spec(&[b"p"], &envp, &[])),
        Err(Errno::E2BIG)
    );

    // Strings + execfn + pointers against the limit: "p\0" + "/x\0" + 8 = 13 bytes.
    let mut tight = spec(&[b"p"], &[], &[]);
    tight.arg_limit = 13;
    assert!(build_stack(TOP, &tight).is_ok());
    tight.arg_limit = 12;
    assert_eq!(build_stack(TOP, &tight), Err(Errno::E2BIG));
    tight.arg_limit = 8;
    assert_eq!(build_stack(TOP, &tight), Err(Errno::E2BIG));
    // Many small strings: the pointers count too.
    let many: Vec<&[u8]> = vec![b""; 300_000];
    assert_eq!(build_stack(TOP, &spec(&many, &[], &[])), Err(Errno::E2BIG));
    // A stack top too low for the image.
    assert_eq!(build_stack(64, &spec(&[b"p"], &[], &[])), Err(Errno::E2BIG));
    assert_eq!(build_stack(0, &spec(&[b"p"], &[], &[])), Err(Errno::E2BIG));
}
